//! The chat's JSON messages, one per WebSocket text frame (documented in
//! `docs/chat-protocol.md`).
//!
//! Page to server: `join` (once, first), then `message`s. Server to page: `joined`,
//! `message`, `presence`, `error`. Unknown fields are ignored; an unknown `type`, a missing
//! field or a field of the wrong type is an `error` with code `bad_request`.

use serde::{Deserialize, Serialize};

/// A message from the page.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Incoming {
    /// `{"type":"join","name":"alice","room":"lobby"}`: enter a room under a name. `room`
    /// may be left out when the path names it (`/ws/lobby`) or for the default room.
    Join {
        /// The name shown beside this person's messages.
        name: String,
        /// The room; it must agree with the path's, if both are given.
        #[serde(default)]
        room: Option<String>,
    },
    /// `{"type":"message","text":"hi"}`: say something in the room joined.
    Message {
        /// What was said, as typed (rendered as text, never as HTML).
        text: String,
    },
}

impl Incoming {
    /// Parses one text frame; the error is a line for the page.
    pub fn parse(text: &str) -> Result<Incoming, String> {
        serde_json::from_str(text).map_err(|err| format!("not a chat message: {err}"))
    }
}

/// A message to the page (or, published in a room's topic, to every page in the room).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outgoing<'a> {
    /// The join was accepted: this connection is in `room` as `name`, served by `server`.
    Joined {
        /// The name, as accepted.
        name: &'a str,
        /// The room, as accepted.
        room: &'a str,
        /// The id of the server process (see [`Outgoing::Presence`]).
        server: &'a str,
    },
    /// Someone said something in the room.
    Message {
        /// The room.
        room: &'a str,
        /// Who said it.
        name: &'a str,
        /// What was said.
        text: &'a str,
        /// When the server received it: milliseconds since the Unix epoch.
        time: u64,
    },
    /// Who of a room one server process holds. Each process sends its list when someone
    /// joins or leaves and every `every` seconds; a page adds up the lists of the servers it
    /// heard from in the last `3 * every` seconds.
    Presence {
        /// The room.
        room: &'a str,
        /// The id of the server process whose members these are.
        server: &'a str,
        /// Their names, sorted (the same name twice if two people chose it).
        names: &'a [String],
        /// Seconds between two lists from this server.
        every: u64,
    },
    /// A request was refused; the connection stays open (unless closed right after).
    Error {
        /// A stable word for programs: `bad_request`, `bad_name`, `bad_room`, `not_joined`,
        /// `already_joined`, `too_long`, `binary`.
        code: &'a str,
        /// A sentence for people.
        message: &'a str,
    },
}

impl Outgoing<'_> {
    /// The JSON text of the message.
    pub fn to_json(&self) -> String {
        // Serializing these shapes (strings, numbers, string lists) cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_join_and_message() {
        assert_eq!(
            Incoming::parse(r#"{"type":"join","name":"al","room":"r"}"#),
            Ok(Incoming::Join {
                name: "al".into(),
                room: Some("r".into())
            })
        );
        assert_eq!(
            Incoming::parse(r#"{"type":"join","name":"al","extra":1}"#),
            Ok(Incoming::Join {
                name: "al".into(),
                room: None
            })
        );
        assert_eq!(
            Incoming::parse(r#"{"type":"message","text":"<b>"}"#),
            Ok(Incoming::Message { text: "<b>".into() })
        );
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            "",
            "hello",
            "[]",
            r#"{"type":"shout","text":"x"}"#,
            r#"{"type":"message"}"#,
            r#"{"type":"message","text":5}"#,
            r#"{"text":"x"}"#,
            r#"{"type":"join","name":null}"#,
        ] {
            let err = Incoming::parse(bad).unwrap_err();
            assert!(err.starts_with("not a chat message"), "{bad}: {err}");
        }
    }

    #[test]
    fn writes_json() {
        let names = ["a".to_owned(), "b".to_owned()];
        let json = Outgoing::Presence {
            room: "r",
            server: "s",
            names: &names,
            every: 5,
        }
        .to_json();
        assert_eq!(
            json,
            r#"{"type":"presence","room":"r","server":"s","names":["a","b"],"every":5}"#
        );
        let json = Outgoing::Message {
            room: "r",
            name: "n",
            text: "\"<x>\"",
            time: 1,
        }
        .to_json();
        assert_eq!(
            json,
            r#"{"type":"message","room":"r","name":"n","text":"\"<x>\"","time":1}"#
        );
    }
}

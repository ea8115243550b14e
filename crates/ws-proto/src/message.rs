//! An owned message: an [`Event`] that no longer borrows the receive buffer, in the plain
//! std types drivers hand to their users.

use crate::close::CloseFrame;
use crate::event::{Event, MessageKind};

/// Something received, owned: what a blocking driver returns from `recv` (ws-client's
/// `Message` is this type). ws-tokio keeps a `bytes::Bytes` message of its own and
/// converts from this one without copying.
///
/// Made from an [`Event`] with `From`: a payload ws-proto reassembled is moved, one it
/// delivered in place is copied once out of the receive buffer.
///
/// ```
/// use std::borrow::Cow;
/// use ws_proto::{Event, Message};
/// let message = Message::from(Event::Text(Cow::Borrowed("hi")));
/// assert_eq!(message, Message::Text("hi".to_owned()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (with [`Config::auto_pong`](crate::Config) on, its pong is already queued).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer's close frame (`None`: no status code); the closing handshake is done on
    /// our side (our answer, if due, is queued).
    Close(Option<CloseFrame<'static>>),
    /// One frame of a message, when [`Config::deliver_fragments`](crate::Config) is on.
    Fragment {
        /// The kind of the message.
        kind: MessageKind,
        /// The frame's payload.
        data: Vec<u8>,
        /// Whether it ends the message.
        last: bool,
    },
}

impl From<Event<'_>> for Message {
    fn from(event: Event<'_>) -> Message {
        match event {
            Event::Text(text) => Message::Text(text.into_owned()),
            Event::Binary(data) => Message::Binary(data.into_owned()),
            Event::Fragment { kind, data, last } => Message::Fragment {
                kind,
                data: data.into_owned(),
                last,
            },
            Event::Ping(data) => Message::Ping(data.into_owned()),
            Event::Pong(data) => Message::Pong(data.into_owned()),
            Event::Close(frame) => Message::Close(frame.map(CloseFrame::into_owned)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::close_code::CloseCode;

    #[test]
    fn every_event_becomes_its_message() {
        let cases = [
            (
                Event::Binary(Cow::Borrowed(b"b")),
                Message::Binary(b"b".to_vec()),
            ),
            (
                Event::Ping(Cow::Owned(b"p".to_vec())),
                Message::Ping(b"p".to_vec()),
            ),
            (
                Event::Pong(Cow::Borrowed(b"q")),
                Message::Pong(b"q".to_vec()),
            ),
            (
                Event::Fragment {
                    kind: MessageKind::Text,
                    data: Cow::Borrowed(b"f"),
                    last: false,
                },
                Message::Fragment {
                    kind: MessageKind::Text,
                    data: b"f".to_vec(),
                    last: false,
                },
            ),
            (Event::Close(None), Message::Close(None)),
        ];
        for (event, message) in cases {
            assert_eq!(Message::from(event), message);
        }
        let frame = CloseFrame {
            code: CloseCode::NORMAL,
            reason: Cow::Borrowed("bye"),
        };
        assert!(matches!(
            Message::from(Event::Close(Some(frame))),
            Message::Close(Some(CloseFrame {
                reason: Cow::Owned(_),
                ..
            }))
        ));
    }
}

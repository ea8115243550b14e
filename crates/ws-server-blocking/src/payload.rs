//! A message published to a topic, shared by every worker that delivers it.

use std::sync::Arc;

use ws_proto::MessageKind;

/// A message published to a topic: text or binary, reference-counted so that every worker
/// loop (and a [`Broker`](crate::Broker)) shares one copy.
///
/// Made from `&str`, `String`, `&[u8]` or `Vec<u8>` with `into()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A text message (valid UTF-8).
    Text(Arc<str>),
    /// A binary message.
    Binary(Arc<[u8]>),
}

impl Payload {
    /// Whether it is text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Payload::Text(_) => MessageKind::Text,
            Payload::Binary(_) => MessageKind::Binary,
        }
    }

    /// The message's bytes (UTF-8 for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Text(text) => text.as_bytes(),
            Payload::Binary(data) => data,
        }
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Payload {
        Payload::Text(text.into())
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Payload {
        Payload::Text(text.into())
    }
}

impl From<&[u8]> for Payload {
    fn from(data: &[u8]) -> Payload {
        Payload::Binary(data.into())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(data: Vec<u8>) -> Payload {
        Payload::Binary(data.into())
    }
}

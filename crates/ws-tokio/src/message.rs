//! What a [`WebSocketStream`](crate::WebSocketStream) delivers and accepts.

use std::borrow::Cow;

use bytes::Bytes;
use ws_proto::{CloseCode, CloseFrame, Event, MessageKind};

/// One message, received or to send.
///
/// Payloads are owned: `Bytes` for binary data and control payloads, `String` for text
/// (already validated as UTF-8 by ws-proto, so no second check is needed to read it).
/// A message reassembled from fragments is moved out of the session without a copy; so
/// is a single-frame message of 64 KiB or more (it is read into storage of its own,
/// which becomes the `Bytes` or `String`); a smaller one is copied once out of the
/// shared receive buffer (a text into the storage of a small text sent earlier on the
/// same thread when it fits: the `String` may then have up to twice its length plus 32
/// bytes of capacity). Sending copies the payload once into the session's output (where
/// a client masks it), except a server's binary message of 64 KiB or more, which is
/// written from its own storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A whole text message.
    Text(String),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping. When received, the pong is already queued (with
    /// [`Config::auto_pong`](ws_proto::Config) on, the default) and written in the same
    /// poll that received the ping.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame; `None` carries no status code. Received: the peer's close, after
    /// which the stream ends. Sent: starts the closing handshake (RFC 6455 7.1.2).
    Close(Option<CloseFrame<'static>>),
    /// One frame of a message: received when [`Config::deliver_fragments`](ws_proto::Config)
    /// is on; sent, it queues one frame of a message sent in pieces (see
    /// [`Session::send_fragment`](ws_proto::Session::send_fragment)).
    Fragment {
        /// The kind of the message it belongs to.
        kind: MessageKind,
        /// The frame's payload.
        data: Bytes,
        /// Whether it ends the message.
        last: bool,
    },
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message::Binary(data.into())
    }

    /// A close frame with `code` and `reason` (at most 123 bytes, RFC 6455 5.5; a longer
    /// one is refused when sent): sending it starts the closing handshake, as
    /// [`WebSocketStream::close`](crate::WebSocketStream::close) does, but the peer's
    /// answer is then received as a [`Message::Close`] instead of discarded.
    ///
    /// ```
    /// use ws_tokio::{CloseCode, Message};
    /// let bye = Message::close(CloseCode::GOING_AWAY, "restarting");
    /// assert!(bye.is_close());
    /// assert_eq!(bye.as_bytes(), b"restarting");
    /// ```
    pub fn close(code: CloseCode, reason: impl Into<String>) -> Message {
        Message::Close(Some(CloseFrame {
            code,
            reason: Cow::Owned(reason.into()),
        }))
    }

    /// Whether it is a text or binary message (not a control frame or a fragment).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// Whether it is a whole text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether it is a whole binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether it is a close frame (received: the peer's last message).
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The text of a text message; `None` for any other kind (a binary message is not
    /// read as UTF-8).
    ///
    /// ```
    /// use ws_tokio::Message;
    /// assert_eq!(Message::text("hi").as_text(), Some("hi"));
    /// assert_eq!(Message::binary(&b"hi"[..]).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The payload's bytes (the reason's, for a close frame).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data)
            | Message::Ping(data)
            | Message::Pong(data)
            | Message::Fragment { data, .. } => data,
            Message::Close(frame) => frame.as_ref().map_or(&[], |f| f.reason.as_bytes()),
        }
    }

    pub(crate) fn from_event(event: Event<'_>) -> Message {
        match event {
            Event::Text(Cow::Borrowed(text)) => Message::Text(crate::recycle::text_from(text)),
            Event::Text(Cow::Owned(text)) => Message::Text(text),
            Event::Binary(data) => Message::Binary(bytes_of(data)),
            Event::Fragment { kind, data, last } => Message::Fragment {
                kind,
                data: bytes_of(data),
                last,
            },
            Event::Ping(data) => Message::Ping(bytes_of(data)),
            Event::Pong(data) => Message::Pong(bytes_of(data)),
            Event::Close(frame) => Message::Close(frame.map(CloseFrame::into_owned)),
        }
    }
}

/// Owned bytes: moved when ws-proto reassembled them, copied once when borrowed.
fn bytes_of(data: Cow<'_, [u8]>) -> Bytes {
    match data {
        Cow::Owned(vec) => Bytes::from(vec),
        Cow::Borrowed(slice) => Bytes::copy_from_slice(slice),
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_owned())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Message {
        Message::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(Bytes::from(data))
    }
}

/// ws-proto's owned message (ws-client's `Message`) as this crate's: payloads move into
/// `Bytes` without a copy.
impl From<ws_proto::Message> for Message {
    fn from(message: ws_proto::Message) -> Message {
        match message {
            ws_proto::Message::Text(text) => Message::Text(text),
            ws_proto::Message::Binary(data) => Message::Binary(data.into()),
            ws_proto::Message::Ping(data) => Message::Ping(data.into()),
            ws_proto::Message::Pong(data) => Message::Pong(data.into()),
            ws_proto::Message::Close(frame) => Message::Close(frame),
            ws_proto::Message::Fragment { kind, data, last } => Message::Fragment {
                kind,
                data: data.into(),
                last,
            },
        }
    }
}

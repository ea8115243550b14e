//! What [`Client::recv`](crate::Client::recv) hands out, made from ws-proto's events.

use ws_proto::{CloseFrame, Event, MessageKind};

/// Something received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping; the pong is already sent.
    Ping(Vec<u8>),
    /// A pong (except those answering the client's own keepalive pings).
    Pong(Vec<u8>),
    /// The server's close frame (`None`: no status code). The closing handshake is done;
    /// the next `recv` waits for the server to close TCP and returns
    /// [`Error::ConnectionClosed`](crate::Error::ConnectionClosed).
    Close(Option<CloseFrame<'static>>),
    /// One frame of a message, when [`ClientBuilder::deliver_fragments`](crate::ClientBuilder::deliver_fragments)
    /// is on.
    Fragment {
        /// The kind of the message.
        kind: MessageKind,
        /// The frame's payload.
        data: Vec<u8>,
        /// Whether it ends the message.
        last: bool,
    },
}

/// The owned message for a decoded event.
pub(crate) fn message_of(event: Event<'_>) -> Message {
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
        Event::Close(frame) => Message::Close(frame.map(|f| f.into_owned())),
    }
}

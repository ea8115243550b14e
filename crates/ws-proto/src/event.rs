//! What a [`Session`](crate::Session) reports from the bytes it receives.

use std::borrow::Cow;

use crate::close::CloseFrame;
use crate::opcode::OpCode;

/// The two kinds of data message (RFC 6455 5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of a message's first frame.
    pub const fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// Something received.
///
/// Payloads borrow from the [`RecvBuffer`](crate::RecvBuffer) when they could be
/// delivered in place (a single-frame message, a control frame) and own their bytes when
/// they were reassembled; [`into_owned`](Self::into_owned) makes either independent of
/// the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message, validated as UTF-8.
    Text(Cow<'a, str>),
    /// A whole binary message.
    Binary(Cow<'a, [u8]>),
    /// One data frame, when [`Config::deliver_fragments`](crate::Config) is on.
    Fragment {
        /// The kind of the message this frame belongs to.
        kind: MessageKind,
        /// The frame's payload. For text, the UTF-8 so far is valid, but a code point may
        /// continue in the next fragment.
        data: Cow<'a, [u8]>,
        /// Whether this frame ends its message.
        last: bool,
    },
    /// A ping; with `auto_pong` on, the pong is already queued.
    Ping(Cow<'a, [u8]>),
    /// A pong.
    Pong(Cow<'a, [u8]>),
    /// The peer's close frame; `None` if it carried no status code (1005 to
    /// applications). Our answer, if one was due, is already queued and the session is
    /// [`Closed`](crate::State::Closed).
    Close(Option<CloseFrame<'a>>),
}

impl Event<'_> {
    /// Copies any borrowed payload so the event outlives the receive buffer.
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Event::Text(text) => Event::Text(Cow::Owned(text.into_owned())),
            Event::Binary(data) => Event::Binary(Cow::Owned(data.into_owned())),
            Event::Fragment { kind, data, last } => Event::Fragment {
                kind,
                data: Cow::Owned(data.into_owned()),
                last,
            },
            Event::Ping(data) => Event::Ping(Cow::Owned(data.into_owned())),
            Event::Pong(data) => Event::Pong(Cow::Owned(data.into_owned())),
            Event::Close(frame) => Event::Close(frame.map(CloseFrame::into_owned)),
        }
    }
}

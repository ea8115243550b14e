//! The WebSocket connection after the handshake, as a state machine over bytes.
//!
//! A [`Session`] never touches a socket. Received bytes go into a
//! [`RecvBuffer`](crate::RecvBuffer) and [`Session::decode`] turns them into [`Event`]s;
//! send calls queue encoded frames that the caller writes from [`Session::pending`] and
//! acknowledges with [`Session::advance`]. The caller owns every socket, thread and clock.
//!
//! Lifecycle (RFC 6455 section 7):
//!
//! ```text
//!            close() sent                 peer's close received
//!   Open ─────────────────▶ CloseSent ─────────────────────────▶ Closed
//!     │                                                            ▲
//!     ├── peer's close received (our answer is queued) ────────────┤
//!     ├── protocol violation (our close frame is queued) ──────────┤
//!     └── receive_eof() (abnormal closure, 1006) ──────────────────┘
//! ```
//!
//! Once [`Closed`](State::Closed) and [`pending`](Session::pending) is empty, the TCP
//! connection may be closed: at once by a server (RFC 6455 7.1.1: "the server MUST close
//! the underlying TCP connection immediately"), and by a client after waiting a little
//! for the server to close it first.

mod recv;
mod send;

use crate::close::truncate_reason;
use crate::config::Config;
use crate::deflate::{Deflate, DeflateParams};
use crate::error::Error;
use crate::role::Role;

/// The smallest payload [`Session::hand_over_payloads_from`] hands over (below it, a
/// copy costs less than a fresh allocation).
const HAND_OVER_MIN: usize = 16 * 1024;

#[cfg(test)]
mod deflate_tests;
#[cfg(test)]
mod tests;

/// Where a session is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's. Messages the peer sent before it
    /// saw ours are still delivered; its pings are no longer answered.
    CloseSent,
    /// Nothing more will be sent or delivered; close the TCP connection once
    /// [`Session::pending`] is drained.
    Closed,
}

/// One end of a WebSocket connection, after the handshake.
///
/// ```
/// use ws_proto::{Config, Event, RecvBuffer, Role, Session};
/// let mut client = Session::new(Role::Client, Config::default(), None);
/// let mut server = Session::new(Role::Server, Config::default(), None);
///
/// client.send_text("Hello")?;
/// let mut wire = RecvBuffer::new();
/// wire.extend_from_slice(client.pending()); // "write" the client's bytes...
/// let n = client.pending().len();
/// client.advance(n);
///
/// match server.decode(&mut wire)? {         // ...and "read" them on the server
///     Some(Event::Text(text)) => server.send_text(&text)?, // echo
///     other => panic!("unexpected {other:?}"),
/// }
/// assert_eq!(server.pending(), b"\x81\x05Hello");
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct Session {
    role: Role,
    config: Config,
    state: State,
    recv: recv::RecvState,
    send: send::SendState,
    /// permessage-deflate, when negotiated (boxed: most sessions go without).
    deflate: Option<Box<Deflate>>,
    /// Single-frame messages at least this long are handed over in the receive
    /// buffer's storage (see [`Session::hand_over_payloads_from`]); `u32::MAX`: never.
    /// 32 bits, so that it shares a word with `role` and `state`: a session's size is
    /// an idle connection's memory.
    hand_over_from: u32,
}

impl Session {
    /// A session in the [`Open`](State::Open) state, for callers that ran the handshake
    /// themselves; [`Accept::finish`](crate::handshake::Accept::finish) and
    /// [`ClientHandshake::parse`](crate::handshake::ClientHandshake::parse) make one for
    /// those that use this crate's.
    ///
    /// `deflate` is what the handshake agreed for permessage-deflate (RFC 7692), or `None`
    /// without it. With it, messages at least [`DeflateParams::min_size`] long (and every
    /// fragmented message) are sent compressed; compressed messages received are
    /// inflated, with `max_message_size` applying to the inflated size, checked as it
    /// grows.
    pub fn new(role: Role, config: Config, deflate: Option<DeflateParams>) -> Session {
        Session {
            role,
            config,
            state: State::Open,
            recv: recv::RecvState::default(),
            send: send::SendState::default(),
            deflate: deflate.map(|params| Box::new(Deflate::new(&params, role))),
            hand_over_from: u32::MAX,
        }
    }

    /// Whether permessage-deflate is in use.
    pub fn is_compressing(&self) -> bool {
        self.deflate.is_some()
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings it was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes [`Config::max_frame_size`] of an open session (for instance per
    /// connection, after the handshake); it applies from the next frame header on.
    pub fn set_max_frame_size(&mut self, bytes: usize) {
        self.config.max_frame_size = bytes;
    }

    /// Changes [`Config::max_message_size`] of an open session; it applies from the next
    /// frame header on.
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.config.max_message_size = bytes;
    }

    /// Delivers single-frame text and binary messages of at least `bytes` bytes
    /// (`None`: never, the default) as owned payloads
    /// ([`Cow::Owned`](std::borrow::Cow::Owned)) in the receive buffer's own storage,
    /// without a copy, for drivers that need to own what they deliver.
    ///
    /// When the first bytes of such a payload arrive and do not sit at the front of a
    /// buffer large enough for all of it, [`decode`](Self::decode) moves them (one read's
    /// worth at most) to the front of new storage sized for the whole frame, into which
    /// the rest is then read: the buffer does not grow step by step (copying itself) as
    /// the payload arrives, and once it is whole the storage is handed over and the
    /// buffer starts afresh (with the bytes that followed the frame, if any). Sizes below
    /// 16 KiB are raised to 16 KiB, and sizes above 4 GiB lowered to 4 GiB. Payloads are
    /// unmasked and validated exactly as without it; what the peer may send does not
    /// change.
    ///
    /// A driver that copies each message out of the buffer anyway (ws-tokio's `Bytes`)
    /// saves that copy; one that only borrows payloads and keeps one large buffer for
    /// all connections gains nothing and would allocate per large message.
    pub fn hand_over_payloads_from(&mut self, bytes: Option<usize>) {
        self.hand_over_from = bytes.map_or(u32::MAX, |b| {
            u32::try_from(b.max(HAND_OVER_MIN)).unwrap_or(u32::MAX - 1)
        });
    }

    /// Where it is in its lifecycle.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session is [`Closed`](State::Closed): nothing more will be delivered.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Fails the connection (RFC 6455 7.1.7): queues a close frame with the error's code
    /// if the connection was open and the error has one, and ends the session. Returns the
    /// error for the caller to propagate.
    fn fail(&mut self, error: Error) -> Error {
        if let (State::Open, Error::Protocol(violation)) = (self.state, &error) {
            let code = violation.close_code();
            let reason = error.to_string();
            // A client that cannot draw a masking key cannot send the close frame; the
            // connection ends without it, which is all that is left to do.
            let _ = self.queue_close(Some(code), truncate_reason(&reason));
        }
        self.state = State::Closed;
        self.recv = recv::RecvState::default();
        error
    }
}

#[cfg(test)]
mod size_tests {
    /// A session is most of what an idle connection holds (ws-server keeps one per
    /// connection and nothing else that grows with it): 144 bytes on 64-bit targets
    /// (184 before the message being reassembled was boxed), besides
    /// permessage-deflate's state, which is boxed and only there when agreed.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_session_stays_within_144_bytes() {
        assert!(
            std::mem::size_of::<super::Session>() <= 144,
            "{} bytes",
            std::mem::size_of::<super::Session>()
        );
    }
}

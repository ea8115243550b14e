//! A sans-io implementation of the WebSocket protocol (RFC 6455).
//!
//! Bytes go in, events and bytes come out; this crate never opens a socket, spawns a
//! thread or reads a clock, so any runtime can drive it: blocking std sockets, a
//! readiness loop, tokio, an embedded network stack. Its two levels are both public:
//!
//! - Building blocks: [`FrameHeader`] parsing (incremental: "need N more bytes" is not an
//!   error) and encoding, [`apply_mask`], the incremental [`Utf8Validator`], [`CloseCode`]
//!   and close payloads, and the opening [`handshake`] for both sides.
//! - [`Session`]: one end of a connection after the handshake. It reassembles fragments,
//!   answers pings, runs the closing handshake, enforces the limits in [`Config`], and
//!   turns every protocol violation into the right close code and an [`Error`].
//! - permessage-deflate (RFC 7692): [`DeflateConfig`] negotiates it in the handshake
//!   (offer, accept, check the answer), and the session the handshake yields compresses
//!   and inflates messages, with the message limit applied to the inflated size.
//!
//! # Driving it by hand
//!
//! A client over a blocking `TcpStream`, the way the Perl blog post drives
//! Protocol::WebSocket::Client:
//!
//! ```no_run
//! use std::io::Write;
//! use std::net::TcpStream;
//! use ws_proto::{handshake::ClientRequest, CloseCode, Event, RecvBuffer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut tcp = TcpStream::connect("127.0.0.1:8080")?;
//! let (mut handshake, request) = ClientRequest::new("127.0.0.1", "/").port(8080).build()?;
//! tcp.write_all(&request)?;
//! let mut input = RecvBuffer::new();
//! let (_response, mut session) = loop {
//!     if let Some(done) = handshake.parse(&mut input)? { break done }
//!     if input.read_from(&mut tcp)? == 0 { return Err("closed during handshake".into()) }
//! };
//! session.send_text("Hello")?;
//! session.write_to(&mut tcp)?;
//! while !session.is_closed() {
//!     while let Some(event) = session.decode(&mut input)? {
//!         if let Event::Text(text) = event {
//!             println!("echo: {text}");
//!             session.close(CloseCode::NORMAL, "done")?; // then wait for the answer
//!         }
//!     }
//!     session.write_to(&mut tcp)?; // pongs, the close answer
//!     if input.read_from(&mut tcp)? == 0 { session.receive_eof()?; }
//! }
//! # Ok(()) }
//! ```
//!
//! # Errors and panics
//!
//! No input makes this crate panic, and no buffer grows past the limits in [`Config`]
//! and [`handshake::Limits`]. Errors come by layer: [`handshake::HandshakeError`] always
//! has its HTTP status, [`ProtocolError`] (the peer broke the protocol) always its close
//! code, and [`LocalError`] is misuse of the API or a local failure. The umbrella
//! [`Error`] takes each of them through `From`.

// Safe code throughout, but for the marked spots that skip validating text a second time
// (`utf8::str_from_validated` and `utf8::string_from_validated`, called from
// `session/recv.rs`) and the word-at-a-time cast in `mask.rs` (measured wins: see
// benches/README.md); each says why it is sound, and Miri runs the tests over them.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
mod close;
mod close_code;
mod config;
mod deflate;
mod error;
mod event;
mod frame;
pub mod handshake;
mod local_error;
mod mask;
mod message;
mod opcode;
mod partial_storage;
mod protocol_error;
mod random;
mod role;
mod session;
mod utf8;

pub use buffer::RecvBuffer;
pub use close::{CloseFrame, MAX_REASON_LEN, parse_close_payload, truncate_reason};
pub use close_code::CloseCode;
pub use config::Config;
pub use deflate::{DeflateConfig, DeflateParams};
pub use error::Error;
pub use event::{Event, MessageKind};
pub use frame::{FrameHeader, HeaderParse, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
pub use local_error::LocalError;
pub use mask::apply_mask;
pub use message::Message;
pub use opcode::OpCode;
pub use protocol_error::ProtocolError;
pub use role::Role;
pub use session::{Session, State};
pub use utf8::{Utf8Error, Utf8Validator};

// The crates whose error types appear in [`Error`] (`Random`, `MalformedHttp`), so that a
// user can match on them without depending on the same versions by hand.
pub use getrandom;
pub use httparse;

#[cfg(test)]
mod test_support {
    /// Property tests run 256 cases natively; under Miri, which is about a thousand
    /// times slower, a handful, without reading or writing regression files (Miri
    /// isolates the file system).
    pub(crate) fn proptest_config() -> proptest::test_runner::Config {
        if cfg!(miri) {
            proptest::test_runner::Config {
                cases: 6,
                failure_persistence: None,
                ..proptest::test_runner::Config::default()
            }
        } else {
            proptest::test_runner::Config::default()
        }
    }
}

/// The crate's README, whose examples run as doctests (they compile as pasted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

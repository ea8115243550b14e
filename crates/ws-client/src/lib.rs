//! A blocking WebSocket client for `ws://` and `wss://`, over `ws-proto`.
//!
//! The echo client of the Perl blog post, grown up:
//!
//! ```no_run
//! use ws_client::{CloseCode, Message};
//!
//! let mut client = ws_client::ClientBuilder::new("wss://echo.example.com/chat")
//!     .origin("https://example.com")
//!     .protocol("chat.v1")
//!     .connect()?;
//! client.send_text("Hello, WebSocket")?;
//! if let Message::Text(echo) = client.recv()? {
//!     println!("{echo}");
//! }
//! client.close(CloseCode::NORMAL, "bye")?;
//! while client.recv().is_ok() {} // the server's close, then the end of the stream
//! # Ok::<(), ws_client::Error>(())
//! ```
//!
//! - URLs: `ws://` and `wss://`, parsed as browsers do (WHATWG, the `url` crate): default
//!   and explicit ports, paths with queries, IPv6 literals (`ws://[::1]:9001/x`),
//!   international host names (IDNA); host names are resolved and every address is tried
//!   in turn. Anything else is an [`Error::Url`] saying what is wrong, before any
//!   connection is made.
//! - Every wait on the server has a deadline, a setting and a default: see the table on
//!   [`ClientBuilder`]. A keepalive finds servers that vanished without a FIN; a close
//!   timeout ends a closing handshake the server does not finish.
//! - `wss://` through rustls (feature `tls`, on by default; the provider is `ring`, or
//!   `aws-lc-rs` with that feature): the web PKI roots, the system's store with the
//!   `native-roots` feature, and the PEM file named by `SSL_CERT_FILE`, by default; extra
//!   CAs (`ClientBuilder::ca_file`), a client certificate; SNI and host name verification
//!   are always on, and a certificate that does not verify is `Error::Tls`. Built
//!   without `tls`, a `wss://` URL is [`Error::Url`] before any I/O.
//! - [`Client::split`] gives a [`Reader`] and a [`Writer`] that work from two threads at
//!   once: one thread can block in `recv` while another sends. Both share one ws-proto
//!   session; see the `conn` module for how they stay ordered without races.
//! - An HTTP proxy ([`ClientBuilder::proxy`]): a `CONNECT` tunnel, with basic
//!   authentication, for `ws://` and `wss://`.
//! - Each way a connection can end is a distinct result; see [`Error`].

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod builder;
mod client;
mod conn;
mod deadline;
mod dial;
mod error;
mod handshake;
mod proxy;
mod timers;
#[cfg(feature = "tls")]
mod tls;
mod wire;

pub use builder::{
    ClientBuilder, DEFAULT_CLOSE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEPALIVE,
    DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_WRITE_TIMEOUT, connect,
};
pub use client::{Client, Reader, Writer};
pub use error::Error;
/// What [`Client::recv`] hands out: ws-proto's owned message. With ws-client, a
/// `Ping`'s pong is already sent; `Pong` never carries the answer to the client's own
/// keepalive pings; after `Close`, the next `recv` waits for the server to close TCP and
/// returns [`Error::ConnectionClosed`]; `Fragment` comes only with
/// [`ClientBuilder::deliver_fragments`].
pub use ws_proto::Message;
pub use ws_proto::{CloseCode, CloseFrame, Config, DeflateConfig, MessageKind};
pub use ws_transport::{Url, UrlError};

// The crates whose types appear in this API ([`Error::Tls`], [`ClientBuilder::tls_config`],
// [`Error::Handshake`]), so that a user needs no matching versions of their own.
#[cfg(feature = "tls")]
pub use rustls;
pub use ws_proto;
pub use ws_transport;

/// The crate's README, whose examples run as doctests (they compile as pasted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

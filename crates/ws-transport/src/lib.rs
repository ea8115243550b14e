//! What both blocking crates need below the WebSocket protocol: loading certificates and
//! keys from PEM files, and the read half of the rustls pump (records in, plaintext into
//! a [`RecvBuffer`](ws_proto::RecvBuffer)), and the sans-io decoder of the PROXY protocol
//! header ([`proxy_protocol`]) that a server behind a load balancer reads before the
//! WebSocket handshake, in every runtime (ws-server-blocking, ws-tokio).
//!
//! It sits between `ws-proto` and the two I/O crates so that `ws-server-blocking` and
//! `ws-client` share it without depending on each other (the client's tests already
//! depend on the server; the other way round would be a cycle). It holds no socket and no
//! thread: the server drives it from its readiness loop over non-blocking sockets, the
//! client from its reading thread.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod pem;
pub mod proxy_protocol;
mod tls_read;

pub use pem::{PemError, load_certs, load_key};
pub use tls_read::{Plaintext, TlsReadError, read_plaintext};

/// The README's snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

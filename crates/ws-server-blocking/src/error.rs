//! The crate's one error type.

use std::io;

/// Everything that can go wrong when setting up or using the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why it failed (address in use, permission denied, ...).
        source: io::Error,
    },
    /// An I/O error outside any one connection (the poller, the listener).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// A protocol error from ws-proto.
    #[error(transparent)]
    Protocol(#[from] ws_proto::Error),
    /// A TLS configuration error.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// A certificate or key file that cannot be used: which file, and why.
    #[error(transparent)]
    Pem(#[from] ws_transport::PemError),
    /// A message larger than the connection's `max_send_size`; it was not sent.
    #[error("message of {size} bytes exceeds max_send_size of {max}")]
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The connection's limit.
        max: usize,
    },
    /// The connection is not open for messages: its handshake is not done, or it is
    /// closing or closed.
    #[error("connection is not open")]
    NotOpen,
    /// The peer stopped reading and the connection's unsent output passed
    /// `max_pending_output`; the connection was dropped.
    #[error("peer is not reading: unsent output passed {max} bytes, connection dropped")]
    OutputFull {
        /// The configured cap.
        max: usize,
    },
    /// Settings that cannot work together, such as callbacks set on the `Builder` (which
    /// run on one thread) with several worker loops; says which.
    #[error("invalid server settings: {0}")]
    Config(String),
}

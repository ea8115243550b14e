//! The crate's one error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong with a client connection.
///
/// How a connection ends, as [`recv`](crate::Client::recv) reports it:
///
/// | result | meaning |
/// |---|---|
/// | `Ok(Message::Close(frame))` | the server's close frame; the closing handshake is done (our answer, if due, was sent) |
/// | `Err(ConnectionClosed)` | after that, the server closed TCP: a clean end; also any call after the end |
/// | `Err(AbnormalClosure)` | TCP ended (end of stream or reset) without a closing handshake |
/// | `Err(Protocol(e))` | the server broke the protocol; we sent a close frame with `e`'s code and stopped |
/// | `Err(Timeout)` | the read timeout passed; the connection is still usable |
/// | `Err(Io(e))` | another I/O error; the connection is over |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a usable `ws://` or `wss://` URL (or `http://` proxy URL).
    #[error("invalid URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// No address of the host accepted the connection.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port` as given.
        addr: String,
        /// The error of the last address tried.
        source: io::Error,
    },
    /// The HTTP proxy refused to open the tunnel.
    #[error("proxy refused the tunnel: {status} {reason}")]
    ProxyRefused {
        /// The proxy's status code (407 when it wants credentials).
        status: u16,
        /// The proxy's reason phrase.
        reason: String,
    },
    /// TLS failed; a certificate that does not verify says so here.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// A certificate or key file that cannot be used.
    #[error("cannot load {path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The WebSocket handshake failed: a non-101 answer (its status and headers are in
    /// [`ws_proto::Error::Rejected`]), or an answer that does not check out.
    #[error("handshake failed: {0}")]
    Handshake(ws_proto::Error),
    /// The server broke the protocol after the handshake.
    #[error("protocol error: {0}")]
    Protocol(ws_proto::Error),
    /// A message that cannot be sent (a ping over 125 bytes, a close reason over 123).
    #[error("cannot send: {0}")]
    Send(ws_proto::Error),
    /// A read or write timeout passed.
    #[error("timed out")]
    Timeout,
    /// The connection ended cleanly, or was already over.
    #[error("connection closed")]
    ConnectionClosed,
    /// The TCP connection ended without a closing handshake (close code 1006).
    #[error("connection closed without a closing handshake")]
    AbnormalClosure,
    /// Another I/O error.
    #[error("I/O error: {0}")]
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Error::AbnormalClosure,
            _ => match err.downcast::<rustls::Error>() {
                Ok(tls) => Error::Tls(tls),
                Err(err) => Error::Io(err),
            },
        }
    }
}

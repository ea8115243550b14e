//! The crate's one error type.

use std::io;
use std::time::Duration;

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
/// | `Err(CloseTimeout { answered: true })` | the closing handshake was done but the server kept TCP open for the whole close timeout; we closed TCP (RFC 6455 7.1.1 lets the client do so) |
/// | `Err(CloseTimeout { answered: false })` | a close frame was sent and the server did not answer within the close timeout; we closed TCP |
/// | `Err(KeepaliveTimeout { .. })` | nothing came from the server for the keepalive's idle time plus its timeout, a ping included; we closed TCP (a peer gone without a FIN) |
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
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// A certificate or key file that cannot be used: which file, and why.
    #[error(transparent)]
    Pem(#[from] ws_transport::PemError),
    /// The WebSocket handshake failed: a non-101 answer (its status and headers are in
    /// [`HandshakeError::Rejected`](ws_proto::handshake::HandshakeError::Rejected)), or an answer that does not check out.
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
    /// Connecting did not finish within [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout):
    /// `stage` says which step was under way (`"name resolution"`, `"TCP connect"`, `"proxy CONNECT"`,
    /// `"TLS handshake"`, `"WebSocket handshake"`).
    #[error("timed out after {limit:?} during the {stage}")]
    ConnectTimeout {
        /// The step that was under way.
        stage: &'static str,
        /// The limit that passed.
        limit: Duration,
    },
    /// The closing handshake did not end within [`ClientBuilder::close_timeout`](crate::ClientBuilder::close_timeout),
    /// so the client closed TCP itself.
    #[error("{}", if *answered {
        "the server answered the close but kept the TCP connection open past the close timeout; closed it"
    } else {
        "the server did not answer the close within the close timeout; closed the TCP connection"
    })]
    CloseTimeout {
        /// Whether the server's close frame had arrived (the closing handshake was done,
        /// only the end of TCP was missing).
        answered: bool,
    },
    /// The server stayed silent through a keepalive ping and its timeout (see
    /// [`ClientBuilder::keepalive`](crate::ClientBuilder::keepalive)), as a peer that
    /// vanished without a FIN does; the client closed TCP.
    #[error(
        "the server sent nothing for {silent:?}, not even a pong to a keepalive ping; closed the TCP connection"
    )]
    KeepaliveTimeout {
        /// How long nothing had arrived.
        silent: Duration,
    },
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
            #[cfg(feature = "tls")]
            _ => match err.downcast::<rustls::Error>() {
                Ok(tls) => Error::Tls(tls),
                Err(err) => Error::Io(err),
            },
            #[cfg(not(feature = "tls"))]
            _ => Error::Io(err),
        }
    }
}

impl From<ws_transport::UrlError> for Error {
    fn from(err: ws_transport::UrlError) -> Error {
        Error::Url {
            url: err.url,
            reason: err.reason,
        }
    }
}

#[cfg(feature = "tls")]
impl From<ws_transport::TlsConfigError> for Error {
    fn from(err: ws_transport::TlsConfigError) -> Error {
        match err {
            ws_transport::TlsConfigError::Pem(err) => Error::Pem(err),
            ws_transport::TlsConfigError::Tls(err) => Error::Tls(err),
        }
    }
}

impl From<ws_transport::PrepareError> for Error {
    fn from(err: ws_transport::PrepareError) -> Error {
        match err {
            ws_transport::PrepareError::Url(err) => err.into(),
            #[cfg(feature = "tls")]
            ws_transport::PrepareError::Tls(err) => err.into(),
            ws_transport::PrepareError::Request(err) => Error::Handshake(err.into()),
            // A TLS error from a build where ws-transport has TLS and this crate does not:
            // `prepare_for` refuses wss:// first, so this is not reached.
            #[allow(unreachable_patterns)]
            other => Error::Io(std::io::Error::other(other)),
        }
    }
}

impl From<ws_transport::TunnelError> for Error {
    fn from(err: ws_transport::TunnelError) -> Error {
        match err {
            ws_transport::TunnelError::Answer(err) => Error::Handshake(err.into()),
            ws_transport::TunnelError::Refused { status, reason } => {
                Error::ProxyRefused { status, reason }
            }
        }
    }
}

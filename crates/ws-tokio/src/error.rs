//! The one error type of this crate.

use std::io;
use std::time::Duration;

/// Everything that can go wrong, each variant naming the rule or limit that was broken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The protocol was broken (by the peer: [`ws_proto::Error::Protocol`], whose close
    /// frame was sent before this is returned), or a handshake failed
    /// ([`ws_proto::Error::Handshake`], with its HTTP status), or a message could not be
    /// sent ([`ws_proto::Error::Local`]; [`ws_proto::LocalError::Closed`] once the closing
    /// handshake has started).
    #[error(transparent)]
    Protocol(#[from] ws_proto::Error),
    /// The transport failed. An `UnexpectedEof` during a handshake means the peer closed
    /// the connection before it finished.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// Nothing at all came back within the pong timeout after a keepalive ping; the
    /// connection was closed with 1011 (as python-websockets does) and dropped.
    #[error("no answer within {0:?} to a keepalive ping; closed with 1011")]
    KeepaliveTimeout(Duration),
    /// The peer did not answer our close frame (or, for a client, did not close TCP)
    /// within the close timeout; the connection was dropped.
    #[error("the closing handshake did not finish within {0:?}")]
    CloseTimeout(Duration),
    /// The opening handshake (TCP, proxy, TLS and HTTP upgrade, for a client) did not
    /// finish within its timeout.
    #[error("the opening handshake did not finish within {0:?}")]
    HandshakeTimeout(Duration),
    /// The server's accept callback refused the upgrade; this HTTP status was sent.
    #[error("the upgrade was refused with HTTP status {0}")]
    Refused(u16),
    /// The connection did not start with a valid PROXY protocol header (none at all,
    /// garbage, oversize), where [`read_proxy_header`](crate::read_proxy_header) expected
    /// one; the connection is to be dropped.
    #[error("PROXY protocol: {0}")]
    ProxyHeader(#[from] ws_transport::proxy_protocol::ProxyHeaderError),
    /// A URL that this client cannot connect to.
    #[error("invalid URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// TLS configuration or handshake failed (for instance an untrusted certificate).
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// A certificate or key file (a CA file, `SSL_CERT_FILE`, a client certificate) that
    /// cannot be used: which file, and why.
    #[error(transparent)]
    Pem(#[from] ws_transport::PemError),
    /// The HTTP proxy did not open a tunnel (RFC 9110 9.3.6: any 2xx status is success).
    #[error("the proxy refused CONNECT: {status} {reason}")]
    ProxyRefused {
        /// The proxy's status; 0 if it closed the connection without answering.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
}

impl Error {
    /// The server's answer when it refused a client's upgrade with a status other than
    /// 101 (RFC 6455 4.1: "If the status code received from the server is not 101, the
    /// client handles the response per HTTP procedures"): its status (such as 401, 403,
    /// 404 or a 3xx redirect), reason phrase and header fields (`Location`,
    /// `Retry-After`, `WWW-Authenticate`). `None` for every other error.
    ///
    /// It saves matching three levels deep, `Error::Protocol(ws_proto::Error::Handshake(
    /// HandshakeError::Rejected(head)))`. A server sees its own refusals as
    /// [`Error::Refused`] instead.
    ///
    /// ```no_run
    /// # async fn run() {
    /// match ws_tokio::connect("ws://127.0.0.1:9001/private").await {
    ///     Ok(ws) => { /* ... */ }
    ///     Err(err) => match err.rejection() {
    ///         Some(answer) if answer.status == 403 => eprintln!("not allowed here"),
    ///         Some(answer) => eprintln!("refused: {} {}", answer.status, answer.reason),
    ///         None => eprintln!("{err}"),
    ///     },
    /// }
    /// # }
    /// ```
    #[doc(alias = "status")]
    pub fn rejection(&self) -> Option<&ws_proto::handshake::ResponseHead> {
        match self {
            Error::Protocol(ws_proto::Error::Handshake(
                ws_proto::handshake::HandshakeError::Rejected(head),
            )) => Some(head),
            _ => None,
        }
    }

    /// Whether this is a send refused because the closing handshake has started
    /// ([`ws_proto::LocalError::Closed`]); the stream may still deliver the peer's last
    /// messages and its close frame.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            Error::Protocol(ws_proto::Error::Local(ws_proto::LocalError::Closed))
        )
    }
}

impl From<ws_proto::handshake::HandshakeError> for Error {
    fn from(err: ws_proto::handshake::HandshakeError) -> Self {
        Error::Protocol(err.into())
    }
}

impl From<ws_proto::ProtocolError> for Error {
    fn from(err: ws_proto::ProtocolError) -> Self {
        Error::Protocol(err.into())
    }
}

impl From<ws_proto::LocalError> for Error {
    fn from(err: ws_proto::LocalError) -> Self {
        Error::Protocol(err.into())
    }
}

impl From<ws_transport::UrlError> for Error {
    fn from(err: ws_transport::UrlError) -> Self {
        Error::Url {
            url: err.url,
            reason: err.reason.to_owned(),
        }
    }
}

#[cfg(feature = "tls")]
impl From<ws_transport::TlsConfigError> for Error {
    fn from(err: ws_transport::TlsConfigError) -> Self {
        match err {
            ws_transport::TlsConfigError::Pem(err) => Error::Pem(err),
            ws_transport::TlsConfigError::Tls(err) => Error::Tls(err),
        }
    }
}

impl From<ws_transport::PrepareError> for Error {
    fn from(err: ws_transport::PrepareError) -> Self {
        match err {
            ws_transport::PrepareError::Url(err) => err.into(),
            #[cfg(feature = "tls")]
            ws_transport::PrepareError::Tls(err) => err.into(),
            ws_transport::PrepareError::Request(err) => err.into(),
            // A TLS error from a build where ws-transport has TLS and this crate does not:
            // `prepare_for` refuses wss:// first, so this is not reached.
            #[allow(unreachable_patterns)]
            other => Error::Io(std::io::Error::other(other)),
        }
    }
}

impl From<ws_transport::TunnelError> for Error {
    fn from(err: ws_transport::TunnelError) -> Self {
        match err {
            ws_transport::TunnelError::Answer(err) => err.into(),
            ws_transport::TunnelError::Refused { status, reason } => {
                Error::ProxyRefused { status, reason }
            }
        }
    }
}

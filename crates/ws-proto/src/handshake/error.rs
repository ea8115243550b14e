//! Everything that fails an opening handshake (RFC 6455 section 4): each error has the
//! HTTP status that answers it.

use super::response_head::ResponseHead;

/// A failed opening handshake.
///
/// Every variant has an HTTP status ([`HandshakeError::http_status`]): for a client's
/// request (server side), the status to answer it with; for a server's answer (client
/// side), 502 Bad Gateway, the status an intermediary reports an invalid upstream answer
/// with, or the server's own status when it refused the upgrade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    // ----- Reading a head, both sides -----
    /// The header block passed the size limit before its end (431).
    #[error("handshake header block larger than {max} bytes (max_head_size)")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// More header fields than the limit (431).
    #[error("too many header fields in the handshake (max_headers)")]
    TooManyHeaders,
    /// The bytes are not an HTTP/1.x message (400).
    #[error("malformed HTTP: {0}")]
    MalformedHttp(httparse::Error),

    // ----- A client's request, server side -----
    /// The request method is not GET (405, RFC 6455 4.1).
    #[error("request method {0:?} is not GET")]
    MethodNotGet(String),
    /// The request is not HTTP/1.1 or later (400, RFC 6455 4.1).
    #[error("HTTP version older than 1.1 (RFC 6455 4.1)")]
    HttpVersion,
    /// A request target that is neither an origin form nor an absolute form with a
    /// WebSocket or HTTP scheme (400, RFC 9112 3.2); `reason` names the rule.
    #[error("request target {target:?} refused: {reason}")]
    InvalidTarget {
        /// The target as sent.
        target: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// No `Host` header (400, RFC 6455 4.1).
    #[error("missing, repeated or empty Host header (RFC 9112 3.2: exactly one)")]
    MissingHost,
    /// No `Upgrade: websocket` token: a plain HTTP request, as a browser's address bar
    /// sends (426 Upgrade Required, RFC 9110 15.5.22, with a body that says how to connect:
    /// see [`Reject::for_error`](crate::handshake::Reject::for_error)).
    #[error("missing or wrong Upgrade header (expected websocket, RFC 6455 4.2.1)")]
    MissingUpgrade,
    /// No `Connection: upgrade` token (400).
    #[error("missing or wrong Connection header (expected upgrade, RFC 6455 4.2.1)")]
    MissingConnection,
    /// `Sec-WebSocket-Version` missing or not 13 (426 with `Sec-WebSocket-Version: 13`).
    #[error("unsupported or missing Sec-WebSocket-Version (only 13 is supported, RFC 6455 4.4)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Version` sent more than once (400): RFC 6455 4.2.1 asks for one
    /// such field, and a repeated field that is not a list is a malformed request
    /// (RFC 9110 5.3), answered as a repeated `Host` or `Sec-WebSocket-Key` is.
    #[error("repeated Sec-WebSocket-Version header (RFC 6455 4.2.1: exactly one)")]
    RepeatedVersion,
    /// `Sec-WebSocket-Key` missing, repeated, or not 16 bytes in base64 (400).
    #[error("missing or invalid Sec-WebSocket-Key (RFC 6455 4.2.1: one key, 16 bytes in base64)")]
    InvalidKey,
    /// A `Sec-WebSocket-Extensions` header that does not follow RFC 6455 9.1 (400).
    #[error("malformed Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensionHeader(String),

    // ----- A server's answer, client side -----
    /// The server answered with something other than 101 (its own status); the answer's
    /// status line and headers are kept so that a caller can report it or follow a
    /// redirect.
    #[error("server refused the upgrade with status {}", .0.status)]
    Rejected(Box<ResponseHead>),
    /// `Sec-WebSocket-Accept` missing or not derived from our key (502, RFC 6455 4.2.2).
    #[error("Sec-WebSocket-Accept does not match the key sent (RFC 6455 4.2.2)")]
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer, or several (502).
    #[error("server chose subprotocol {0:?}, which was not offered (RFC 6455 4.1)")]
    UnofferedProtocol(String),
    /// The server answered with an extension the client did not offer (502).
    #[error("server answered with extension {0:?}, which was not offered (RFC 6455 4.1)")]
    UnofferedExtension(String),
    /// A permessage-deflate answer that breaks RFC 7692 7.1 (502).
    #[error("permessage-deflate negotiation failed: {0}")]
    DeflateNegotiation(&'static str),
}

impl HandshakeError {
    /// The HTTP status for this error (see the type's documentation).
    ///
    /// ```
    /// use ws_proto::handshake::HandshakeError;
    /// assert_eq!(HandshakeError::UnsupportedVersion.http_status(), 426);
    /// assert_eq!(HandshakeError::InvalidKey.http_status(), 400);
    /// assert_eq!(HandshakeError::AcceptMismatch.http_status(), 502);
    /// ```
    pub fn http_status(&self) -> u16 {
        use HandshakeError::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders => 431,
            MethodNotGet(_) => 405,
            UnsupportedVersion | MissingUpgrade => 426,
            MalformedHttp(_)
            | HttpVersion
            | InvalidTarget { .. }
            | MissingHost
            | MissingConnection
            | RepeatedVersion
            | InvalidKey
            | InvalidExtensionHeader(_) => 400,
            Rejected(head) => head.status,
            AcceptMismatch
            | UnofferedProtocol(_)
            | UnofferedExtension(_)
            | DeflateNegotiation(_) => 502,
        }
    }
}

impl From<httparse::Error> for HandshakeError {
    fn from(err: httparse::Error) -> Self {
        match err {
            httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders,
            other => HandshakeError::MalformedHttp(other),
        }
    }
}

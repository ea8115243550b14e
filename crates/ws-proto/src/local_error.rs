//! Errors of this end: misuse of the API, or a local failure. Nothing reaches the wire.

/// A call this end should not have made, or a local failure; the connection is not
/// affected (a refused send sends nothing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// A send after the closing handshake started.
    #[error("the connection is closing or closed")]
    Closed,
    /// A ping or pong payload longer than 125 bytes (RFC 6455 5.5).
    #[error("control frame payload of {0} bytes is longer than 125")]
    ControlPayloadTooLong(usize),
    /// A close reason longer than 123 bytes (RFC 6455 5.5).
    #[error("close reason of {0} bytes is longer than 123")]
    CloseReasonTooLong(usize),
    /// A close code that may not be sent (RFC 6455 7.4), given to
    /// [`CloseCode::new`](crate::CloseCode::new).
    #[error("invalid close code {0} (RFC 6455 7.4)")]
    InvalidCloseCode(u16),
    /// A text fragment that is not UTF-8 (RFC 6455 5.6: text is UTF-8).
    #[error("text fragment is not UTF-8 (RFC 6455 5.6)")]
    InvalidText,
    /// A whole message was sent while a fragmented one was in progress, or a fragment
    /// continued a message of the other kind (RFC 6455 5.4).
    #[error("a fragmented message of another kind is in progress")]
    MessageInProgress,
    /// A header name or value that cannot be written (CR, LF or NUL, or a bad name).
    #[error("header {0:?} cannot be written: invalid name or value")]
    InvalidHeader(String),
    /// A server's answer chose a subprotocol the client did not offer (RFC 6455 4.2.2).
    #[error("subprotocol {0:?} was not offered by the client (RFC 6455 4.2.2)")]
    UnofferedProtocol(String),
    /// A server's answer agreed to an extension the client did not offer (RFC 6455 4.2.2).
    #[error("extension {0:?} was not offered by the client (RFC 6455 4.2.2)")]
    UnofferedExtension(String),
    /// A [`DeflateConfig`](crate::DeflateConfig) outside RFC 7692's ranges.
    #[error("invalid permessage-deflate setting: {0}")]
    InvalidDeflateConfig(&'static str),
    /// The compressor failed (it should not: a bug or an allocation failure).
    #[error("compression failed")]
    Compression,
    /// The operating system's secure random generator failed.
    #[error("secure random generator failed: {0}")]
    Random(getrandom::Error),
}

impl From<getrandom::Error> for LocalError {
    fn from(err: getrandom::Error) -> Self {
        LocalError::Random(err)
    }
}

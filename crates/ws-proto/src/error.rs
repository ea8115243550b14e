//! The crate's umbrella error: one of the three layers, or the end of the stream.
//!
//! - [`HandshakeError`]: the opening handshake failed; always has an HTTP status.
//! - [`ProtocolError`]: the peer broke RFC 6455 or 7692 after the handshake; always has
//!   a close code, already queued when the error is returned.
//! - [`LocalError`]: misuse of the API or a local failure; nothing reaches the wire.
//!
//! Functions return the layer they can fail with; [`Error`] takes any of them through
//! `From`, for callers that pass errors on with `?`.

use crate::close_code::CloseCode;
use crate::handshake::HandshakeError;
use crate::local_error::LocalError;
use crate::protocol_error::ProtocolError;

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The opening handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The peer broke the protocol after the handshake.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// Misuse of the API, or a local failure.
    #[error(transparent)]
    Local(#[from] LocalError),
    /// The byte stream ended without a closing handshake (reported as 1006, which is
    /// never sent: RFC 6455 7.1.5).
    #[error("connection ended without a closing handshake (RFC 6455 7.1.5: 1006)")]
    AbnormalClosure,
}

impl Error {
    /// The close code to send for this error: `Some` exactly for protocol errors.
    ///
    /// ```
    /// use ws_proto::{CloseCode, Error, LocalError, ProtocolError};
    /// assert_eq!(Error::from(ProtocolError::InvalidUtf8).close_code(), Some(CloseCode::INVALID_PAYLOAD));
    /// assert_eq!(Error::from(LocalError::Closed).close_code(), None);
    /// ```
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(err) => Some(err.close_code()),
            _ => None,
        }
    }

    /// The HTTP status for this error: `Some` exactly for handshake errors.
    ///
    /// ```
    /// use ws_proto::{Error, handshake::HandshakeError};
    /// assert_eq!(Error::from(HandshakeError::UnsupportedVersion).http_status(), Some(426));
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Handshake(err) => Some(err.http_status()),
            _ => None,
        }
    }
}

impl From<getrandom::Error> for Error {
    fn from(err: getrandom::Error) -> Self {
        Error::Local(LocalError::Random(err))
    }
}

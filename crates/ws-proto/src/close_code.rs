//! Close status codes (RFC 6455 section 7.4).

use std::fmt;

use crate::local_error::LocalError;

/// A status code that may appear in a close frame.
///
/// It cannot hold a value that RFC 6455 7.4 forbids on the wire: 1004-1006, 1015, codes
/// below 1000, 1016-2999 and 5000 and up are refused by [`CloseCode::new`]. The named
/// codes are constants; 3000-3999 (registered by libraries and frameworks) and
/// 4000-4999 (private use) are built with `new`.
///
/// ```
/// use ws_proto::CloseCode;
/// assert_eq!(CloseCode::new(1000)?, CloseCode::NORMAL);
/// assert_eq!(CloseCode::new(4242)?.as_u16(), 4242);
/// assert!(CloseCode::new(1005).is_err()); // "no status": never sent
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot accept (binary for a text-only one).
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: data inconsistent with its type, such as text that is not UTF-8.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: (client) the server did not negotiate a required extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: (server) an unexpected condition prevented fulfilling the request.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later, the service is overloaded (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway received an invalid response upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);

    /// Validates a code per RFC 6455 7.4.
    ///
    /// # Errors
    ///
    /// [`LocalError::InvalidCloseCode`] for a code that may not be sent.
    pub const fn new(code: u16) -> Result<CloseCode, LocalError> {
        if Self::is_sendable(code) {
            Ok(CloseCode(code))
        } else {
            Err(LocalError::InvalidCloseCode(code))
        }
    }

    /// Whether a code may appear in a close frame (RFC 6455 7.4.1 and 7.4.2).
    pub const fn is_sendable(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The name of a code this crate knows, else `None`.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            _ => return None,
        })
    }
}

impl TryFrom<u16> for CloseCode {
    type Error = LocalError;
    fn try_from(code: u16) -> Result<CloseCode, LocalError> {
        CloseCode::new(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "CloseCode({} {name})", self.0),
            None => write!(f, "CloseCode({})", self.0),
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7_4_validity_table() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode::new(code).is_ok(), expected, "code {code}");
        }
        // The ones the issue calls out explicitly.
        for bad in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(
                matches!(CloseCode::new(bad), Err(LocalError::InvalidCloseCode(c)) if c == bad)
            );
        }
        for good in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert_eq!(CloseCode::new(good).unwrap().as_u16(), good);
        }
    }
}

//! Close codes and close frame payloads (RFC 6455 sections 5.5.1 and 7.4).

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;
use crate::utf8;

/// The longest close reason: a control payload is at most 125 bytes, two of them the code.
pub const MAX_REASON_LEN: usize = 123;

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
    pub const fn new(code: u16) -> Result<CloseCode, Error> {
        if Self::is_sendable(code) {
            Ok(CloseCode(code))
        } else {
            Err(Error::InvalidCloseCode(code))
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
    type Error = Error;
    fn try_from(code: u16) -> Result<CloseCode, Error> {
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

/// The code and reason of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// Why the connection is closing.
    pub code: CloseCode,
    /// Text for humans, at most 123 bytes; often empty.
    pub reason: Cow<'a, str>,
}

impl CloseFrame<'_> {
    /// Copies the reason so that the frame outlives the receive buffer.
    pub fn into_owned(self) -> CloseFrame<'static> {
        CloseFrame {
            code: self.code,
            reason: Cow::Owned(self.reason.into_owned()),
        }
    }
}

/// Parses a received close payload.
///
/// An empty payload means "no status code" (reported to applications as 1005) and gives
/// `None`. A 1-byte payload, a code RFC 6455 7.4 does not allow, and a reason that is not
/// UTF-8 are errors.
///
/// ```
/// use ws_proto::{parse_close_payload, CloseCode};
/// let frame = parse_close_payload(b"\x03\xe8bye")?.unwrap();
/// assert_eq!((frame.code, &*frame.reason), (CloseCode::NORMAL, "bye"));
/// assert!(parse_close_payload(b"")?.is_none());
/// assert!(parse_close_payload(b"\x03").is_err());
/// # Ok::<(), ws_proto::Error>(())
/// ```
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame<'_>>, Error> {
    match payload {
        [] => Ok(None),
        [_] => Err(Error::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::new(u16::from_be_bytes([*hi, *lo]))?;
            let reason = utf8::validate(reason).map_err(|_| Error::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: Cow::Borrowed(reason),
            }))
        }
    }
}

/// Checks a reason before it is sent: at most 123 bytes (RFC 6455 5.5).
pub(crate) fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.len() > MAX_REASON_LEN {
        Err(Error::CloseReasonTooLong(reason.len()))
    } else {
        Ok(())
    }
}

/// Cuts `text` to at most 123 bytes on a character boundary, so that it fits in a close
/// frame: for reasons composed from error messages or passed on from elsewhere.
///
/// ```
/// let long = "é".repeat(100); // 200 bytes
/// assert_eq!(ws_proto::truncate_reason(&long).len(), 122);
/// ```
pub fn truncate_reason(text: &str) -> &str {
    if text.len() <= MAX_REASON_LEN {
        return text;
    }
    let mut end = MAX_REASON_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
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
            assert!(matches!(CloseCode::new(bad), Err(Error::InvalidCloseCode(c)) if c == bad));
        }
        for good in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert_eq!(CloseCode::new(good).unwrap().as_u16(), good);
        }
    }

    #[test]
    fn payload_errors() {
        assert!(matches!(
            parse_close_payload(&[0x03]),
            Err(Error::InvalidClosePayload)
        ));
        assert!(matches!(
            parse_close_payload(&[0x03, 0xED]),
            Err(Error::InvalidCloseCode(1005))
        ));
        assert!(matches!(
            parse_close_payload(&[0x03, 0xE8, 0xFF]),
            Err(Error::InvalidUtf8)
        ));
        let err = parse_close_payload(&[0x03, 0xE8, 0xCE]).unwrap_err();
        assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    }

    #[test]
    fn reason_limits() {
        assert!(check_reason(&"a".repeat(123)).is_ok());
        assert!(matches!(
            check_reason(&"a".repeat(124)),
            Err(Error::CloseReasonTooLong(124))
        ));
        let long = "é".repeat(100); // 200 bytes
        let cut = truncate_reason(&long);
        assert!(cut.len() <= MAX_REASON_LEN && cut.len() >= MAX_REASON_LEN - 1);
        assert!(long.starts_with(cut));
    }

    #[test]
    fn display_names_the_code() {
        assert_eq!(CloseCode::GOING_AWAY.to_string(), "1001 (going away)");
        assert_eq!(CloseCode::new(4242).unwrap().to_string(), "4242");
    }
}

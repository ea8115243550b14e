//! Close frame payloads (RFC 6455 section 5.5.1).

use std::borrow::Cow;

use crate::close_code::CloseCode;
use crate::local_error::LocalError;
use crate::protocol_error::ProtocolError;
use crate::utf8;

/// The longest close reason: a control payload is at most 125 bytes, two of them the code.
pub const MAX_REASON_LEN: usize = 123;

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
///
/// # Errors
///
/// [`ProtocolError::InvalidClosePayload`] for a 1-byte payload (RFC 6455 5.5.1: a body
/// starts with a 2-byte code); [`ProtocolError::InvalidCloseCode`] for a code that may not
/// be sent (RFC 6455 7.4); [`ProtocolError::InvalidUtf8`] for a reason that is not UTF-8
/// (RFC 6455 5.5.1). Each is a protocol error: fail the connection with 1002 (1007 for the
/// UTF-8 case).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame<'_>>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            // RFC 6455 7.4: a code that may not be sent is a protocol error when received.
            let code = CloseCode::new(code).map_err(|_| ProtocolError::InvalidCloseCode(code))?;
            let reason = utf8::validate(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: Cow::Borrowed(reason),
            }))
        }
    }
}

/// Checks a reason before it is sent: at most 123 bytes (RFC 6455 5.5).
pub(crate) fn check_reason(reason: &str) -> Result<(), LocalError> {
    if reason.len() > MAX_REASON_LEN {
        Err(LocalError::CloseReasonTooLong(reason.len()))
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
    fn payload_errors() {
        assert!(matches!(
            parse_close_payload(&[0x03]),
            Err(ProtocolError::InvalidClosePayload)
        ));
        assert!(matches!(
            parse_close_payload(&[0x03, 0xED]),
            Err(ProtocolError::InvalidCloseCode(1005))
        ));
        assert!(matches!(
            parse_close_payload(&[0x03, 0xE8, 0xFF]),
            Err(ProtocolError::InvalidUtf8)
        ));
        let err = parse_close_payload(&[0x03, 0xE8, 0xCE]).unwrap_err();
        assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
    }

    #[test]
    fn reason_limits() {
        assert!(check_reason(&"a".repeat(123)).is_ok());
        assert!(matches!(
            check_reason(&"a".repeat(124)),
            Err(LocalError::CloseReasonTooLong(124))
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

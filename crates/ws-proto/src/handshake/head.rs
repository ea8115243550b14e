//! Reading an HTTP/1.x response head (a WebSocket handshake answer, or an HTTP proxy's
//! answer to `CONNECT`) as its bytes arrive, without rescanning.

use super::Limits;
use super::error::HandshakeError;
use super::headers::Headers;
use super::response_head::ResponseHead;
use super::scan::{HeadScanner, Scan};
use crate::buffer::RecvBuffer;

/// Reads an HTTP/1.x response head out of a [`RecvBuffer`] as its bytes arrive: the
/// WebSocket handshake's answer, or an HTTP proxy's answer to `CONNECT`.
///
/// ```
/// use ws_proto::{RecvBuffer, handshake::{Limits, ResponseHeadParser}};
/// let mut parser = ResponseHeadParser::new(Limits::default());
/// let mut input = RecvBuffer::new();
/// input.extend_from_slice(b"HTTP/1.1 200 Connection established\r\n");
/// assert!(parser.parse(&mut input)?.is_none());
/// input.extend_from_slice(b"\r\ntunnelled bytes");
/// let head = parser.parse(&mut input)?.unwrap();
/// assert_eq!((head.status, head.reason.as_str()), (200, "Connection established"));
/// assert_eq!(input.data(), b"tunnelled bytes");
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ResponseHeadParser {
    scanner: HeadScanner,
    limits: Limits,
}

impl ResponseHeadParser {
    /// A parser that stops at `limits`.
    pub fn new(limits: Limits) -> ResponseHeadParser {
        ResponseHeadParser {
            scanner: HeadScanner::default(),
            limits,
        }
    }

    /// Returns the head once it is complete and consumes it from `input` (the body or
    /// whatever follows stays); `Ok(None)` means more bytes are needed.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::HeadTooLarge`] when the head passes `limits.max_head_size` before its
    /// blank line, [`HandshakeError::TooManyHeaders`] for more header fields than the limit
    /// (both 431); [`HandshakeError::MalformedHttp`] for bytes that are not an HTTP/1.x
    /// status line and header fields (RFC 9112 4, 5). Nothing is consumed then.
    pub fn parse(
        &mut self,
        input: &mut RecvBuffer,
    ) -> Result<Option<ResponseHead>, HandshakeError> {
        let len = match self.scanner.scan(input.data(), &self.limits) {
            Scan::Complete(len) => len,
            Scan::Partial => return Ok(None),
            Scan::TooLarge => {
                return Err(HandshakeError::HeadTooLarge {
                    max: self.limits.max_head_size,
                });
            }
        };
        let mut slots = vec![httparse::EMPTY_HEADER; self.limits.header_slots()];
        let mut raw = httparse::Response::new(&mut slots);
        if raw.parse(&input.data()[..len])?.is_partial() {
            // httparse stops at the first blank line; if it wants more than the block we
            // found, a line ending inside the block is malformed.
            return Err(HandshakeError::MalformedHttp(httparse::Error::NewLine));
        }
        let head = ResponseHead {
            status: raw.code.unwrap_or_default(),
            reason: raw.reason.unwrap_or_default().to_owned(),
            headers: Headers::from_httparse(raw.headers),
        };
        input.consume(len);
        Ok(Some(head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- RFC 9112 2.2: a recipient may take a bare LF for a line end -----

    #[test]
    fn proxy_answer_with_bare_lf_at_every_split() {
        let bytes = b"HTTP/1.1 200 Connection established\nProxy-Agent: test\n\n\x81\x00";
        for cut in 0..=bytes.len() {
            let mut parser = ResponseHeadParser::new(Limits::default());
            let mut input = RecvBuffer::new();
            input.extend_from_slice(&bytes[..cut]);
            let mut head = parser.parse(&mut input).unwrap();
            input.extend_from_slice(&bytes[cut..]);
            if head.is_none() {
                head = parser.parse(&mut input).unwrap();
            }
            let head = head.unwrap_or_else(|| panic!("no head with a cut at {cut}"));
            assert_eq!(
                (head.status, head.reason.as_str()),
                (200, "Connection established")
            );
            assert_eq!(head.headers.get("proxy-agent"), Some("test"));
            assert_eq!(input.data(), b"\x81\x00", "cut at {cut}");
        }
    }
}

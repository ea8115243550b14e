//! Reading HTTP header blocks as their bytes arrive, without rescanning.

use super::Limits;
use super::headers::Headers;
use crate::buffer::RecvBuffer;
use crate::error::Error;

/// The status line and header fields of an HTTP/1.x response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code, such as 101, 200 or 403.
    pub status: u16,
    /// The reason phrase, such as "Switching Protocols".
    pub reason: String,
    /// Every header field.
    pub headers: Headers,
}

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
    pub fn parse(&mut self, input: &mut RecvBuffer) -> Result<Option<ResponseHead>, Error> {
        let Some(len) = self.scanner.scan(input.data(), &self.limits)? else {
            return Ok(None);
        };
        let mut slots = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        let mut raw = httparse::Response::new(&mut slots);
        if raw.parse(&input.data()[..len])?.is_partial() {
            // httparse stops at the first blank line; if it wants more than the block we
            // found, a line ending inside the block is malformed.
            return Err(Error::MalformedHttp(httparse::Error::NewLine));
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

/// Remembers how far a buffer was scanned for the blank line that ends a header block.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HeadScanner {
    scanned: usize,
}

impl HeadScanner {
    /// The length of the header block at the front of `data`, blank line included, once
    /// it is complete. Only bytes not seen by earlier calls are examined (plus three, in
    /// case the terminator straddles the old end).
    pub(crate) fn scan(&mut self, data: &[u8], limits: &Limits) -> Result<Option<usize>, Error> {
        let limit = data.len().min(limits.max_head_size);
        let from = self.scanned.saturating_sub(3).min(limit);
        if let Some(at) = data[from..limit].windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(from + at + 4));
        }
        self.scanned = limit;
        if data.len() >= limits.max_head_size {
            return Err(Error::HeadTooLarge {
                max: limits.max_head_size,
            });
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_terminator_split_across_calls() {
        let limits = Limits::default();
        let msg = b"GET / HTTP/1.1\r\nHost: a\r\n\r\ntrailing";
        let end = msg.len() - "trailing".len();
        for cut in 0..msg.len() {
            let mut scanner = HeadScanner::default();
            let first = scanner.scan(&msg[..cut], &limits).unwrap();
            if cut >= end {
                assert_eq!(first, Some(end));
            } else {
                assert_eq!(first, None);
                assert_eq!(
                    scanner.scan(msg, &limits).unwrap(),
                    Some(end),
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn stops_at_the_limit() {
        let limits = Limits {
            max_head_size: 32,
            ..Limits::default()
        };
        let mut scanner = HeadScanner::default();
        assert!(scanner.scan(&[b'a'; 31], &limits).unwrap().is_none());
        assert!(matches!(
            scanner.scan(&[b'a'; 32], &limits),
            Err(Error::HeadTooLarge { max: 32 })
        ));
        // A block that ends exactly at the limit is accepted.
        let mut exact = vec![b'a'; 28];
        exact.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            HeadScanner::default().scan(&exact, &limits).unwrap(),
            Some(32)
        );
    }
}

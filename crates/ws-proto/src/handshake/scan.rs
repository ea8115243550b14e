//! Finding the end of an HTTP/1.x header block as its bytes arrive, with the same line
//! grammar `httparse` parses the block with.
//!
//! RFC 9112 2.2: "Although the line terminator for the start-line and fields is the
//! sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore
//! any preceding CR." `httparse` does, so the scanner must too: a scanner that looked
//! only for `\r\n\r\n` would wait for ever on a head that `httparse` reads whole (a head
//! written with bare LF line ends). RFC 9112 2.2 also says a server "SHOULD ignore at
//! least one empty line (CRLF) received prior to the request-line", and `httparse` skips
//! any number of them in requests and responses alike, so empty lines before the start
//! line do not end the block either.
//!
//! So the block ends with the first empty line (`\r\n` or `\n`) that follows a non-empty
//! line. Only `\n` bytes need to be looked for: each one ends a line, and the line is
//! empty when it is nothing or a lone `\r`. Anything else `httparse` refuses (a bare CR
//! inside a line, say) is left for it to refuse once the block is complete.

use super::Limits;

/// What a scan found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The block is not complete yet.
    Partial,
    /// The block is complete and takes this many bytes, its ending empty line included.
    Complete(usize),
    /// `max_head_size` bytes hold no complete block (the caller answers 431).
    TooLarge,
}

/// Remembers how far a buffer was scanned for the line that ends a header block, so
/// that each byte is examined once however the block is split across reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HeadScanner {
    /// Bytes of the buffer already searched for `\n`.
    scanned: usize,
    /// Where the line being read starts.
    line_start: usize,
    /// Whether a non-empty line (the start line) was seen.
    started: bool,
}

impl HeadScanner {
    /// Whether no byte was scanned yet.
    pub(crate) fn is_fresh(&self) -> bool {
        self.scanned == 0
    }

    /// Whether the header block at the front of `data` is complete, and its length.
    ///
    /// `data` must be the bytes given to the previous call plus any that arrived since.
    pub(crate) fn scan(&mut self, data: &[u8], limits: &Limits) -> Scan {
        let limit = data.len().min(limits.max_head_size);
        while self.scanned < limit {
            let Some(at) = data[self.scanned..limit].iter().position(|&b| b == b'\n') else {
                self.scanned = limit;
                break;
            };
            let end = self.scanned + at;
            let line = &data[self.line_start..end];
            let empty = line.is_empty() || line == b"\r";
            self.scanned = end + 1;
            self.line_start = end + 1;
            if !empty {
                self.started = true;
            } else if self.started {
                return Scan::Complete(end + 1);
            }
        }
        if data.len() >= limits.max_head_size {
            Scan::TooLarge
        } else {
            Scan::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Scans `bytes` given in two parts, split at `cut`.
    fn scan_split(bytes: &[u8], cut: usize, limits: &Limits) -> Scan {
        let mut scanner = HeadScanner::default();
        match scanner.scan(&bytes[..cut], limits) {
            Scan::Partial => scanner.scan(bytes, limits),
            done => done,
        }
    }

    /// Where `httparse` says the head of a request or response ends.
    fn httparse_end(bytes: &[u8]) -> Option<usize> {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let parsed = if bytes.trim_ascii_start().starts_with(b"HTTP/") {
            httparse::Response::new(&mut slots).parse(bytes)
        } else {
            httparse::Request::new(&mut slots).parse(bytes)
        };
        match parsed {
            Ok(httparse::Status::Complete(len)) => Some(len),
            _ => None,
        }
    }

    const REQUEST: &str = "GET ws://example.com/chat?room=1 HTTP/1.1\r\nHost: proxy.internal:8080\r\n\
        Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const ANSWER_101: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const PROXY_200: &str = "HTTP/1.1 200 Connection established\r\n\r\n";

    // ----- RFC 9112 2.2: CRLF or a bare LF ends each line -----

    #[test]
    fn request_101_and_proxy_answer_are_found_with_either_line_end_at_every_split() {
        let limits = Limits::default();
        for head in [REQUEST, ANSWER_101, PROXY_200] {
            for lf_only in [false, true] {
                let head = if lf_only {
                    head.replace("\r\n", "\n")
                } else {
                    head.to_owned()
                };
                let mut bytes = head.clone().into_bytes();
                bytes.extend_from_slice(b"\x81\x02hi"); // a frame right behind the head
                assert_eq!(httparse_end(&bytes), Some(head.len()), "{head:?}");
                for cut in 0..=bytes.len() {
                    assert_eq!(
                        scan_split(&bytes, cut, &limits),
                        Scan::Complete(head.len()),
                        "{head:?} cut at {cut}"
                    );
                }
                // Every proper prefix of the head needs more bytes.
                for cut in 0..head.len() {
                    assert_eq!(
                        HeadScanner::default().scan(&bytes[..cut], &limits),
                        Scan::Partial,
                        "{head:?} prefix of {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn mixed_line_ends_and_an_lf_then_crlf_end() {
        let limits = Limits::default();
        for head in [
            "GET / HTTP/1.1\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\n",
            "GET / HTTP/1.1\n\n",
        ] {
            let bytes = head.as_bytes();
            assert_eq!(httparse_end(bytes), Some(bytes.len()), "{head:?}");
            assert_eq!(
                HeadScanner::default().scan(bytes, &limits),
                Scan::Complete(bytes.len()),
                "{head:?}"
            );
        }
    }

    #[test]
    fn empty_lines_before_the_start_line_do_not_end_the_head() {
        // RFC 9112 2.2: a server "SHOULD ignore at least one empty line (CRLF) received
        // prior to the request-line"; httparse skips any number, CRLF or LF.
        let head = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(httparse_end(head.as_bytes()), Some(head.len()));
        for cut in 0..=head.len() {
            assert_eq!(
                scan_split(head.as_bytes(), cut, &Limits::default()),
                Scan::Complete(head.len()),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_bare_cr_does_not_end_a_line() {
        // httparse refuses a CR not followed by LF; the scanner must not take `\r\r` or
        // `\n\r` followed by anything but LF for the end.
        let limits = Limits::default();
        for partial in [
            "GET / HTTP/1.1\r\r",
            "GET / HTTP/1.1\n\rX",
            "GET / HTTP/1.1\r\nA: b\r",
        ] {
            assert_eq!(
                HeadScanner::default().scan(partial.as_bytes(), &limits),
                Scan::Partial,
                "{partial:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config())]

        /// Any head made of lines with CRLF or LF ends, split anywhere, ends where
        /// httparse says it does.
        #[test]
        fn agrees_with_httparse(
            response in any::<bool>(),
            leading in proptest::collection::vec(any::<bool>(), 0..3),
            fields in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", "[ -~]{0,12}", any::<bool>()), 0..6),
            start_crlf in any::<bool>(),
            end_crlf in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..8),
            cut in any::<proptest::sample::Index>(),
        ) {
            let eol = |crlf: bool| if crlf { "\r\n" } else { "\n" };
            let mut head: String = leading.iter().map(|&crlf| eol(crlf)).collect();
            head += if response { "HTTP/1.1 101 Switching Protocols" } else { "GET /chat HTTP/1.1" };
            head += eol(start_crlf);
            for (name, value, crlf) in &fields {
                head += &format!("{name}: {}{}", value.trim(), eol(*crlf));
            }
            head += eol(end_crlf);
            let mut bytes = head.clone().into_bytes();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(httparse_end(&bytes), Some(head.len()));
            let cut = cut.index(bytes.len() + 1);
            prop_assert_eq!(scan_split(&bytes, cut, &Limits::default()), Scan::Complete(head.len()));
        }
    }

    // ----- Limits::max_head_size -----

    #[test]
    fn stops_at_the_limit() {
        let limits = Limits {
            max_head_size: 32,
            ..Limits::default()
        };
        let mut scanner = HeadScanner::default();
        assert_eq!(scanner.scan(&[b'a'; 31], &limits), Scan::Partial);
        assert_eq!(scanner.scan(&[b'a'; 32], &limits), Scan::TooLarge);
        // A block that ends exactly at the limit is accepted, with either line end.
        for end in [&b"\r\n\r\n"[..], b"\n\n"] {
            let mut exact = vec![b'a'; 32 - end.len()];
            exact.extend_from_slice(end);
            assert_eq!(
                HeadScanner::default().scan(&exact, &limits),
                Scan::Complete(32)
            );
        }
        // Empty lines count towards it too: they are part of what is read.
        assert_eq!(
            HeadScanner::default().scan(&[b'\n'; 40], &limits),
            Scan::TooLarge
        );
    }
}

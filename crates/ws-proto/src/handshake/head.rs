//! Finding the end of an HTTP header block without rescanning.

use super::Limits;
use crate::error::Error;

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

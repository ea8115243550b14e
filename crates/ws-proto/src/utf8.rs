//! Incremental UTF-8 validation (RFC 6455 8.1) that fails fast.
//!
//! A text message may arrive in many frames and each frame in many reads, and a code
//! point may be split at any of those boundaries. [`Utf8Validator`] carries the partial
//! code point across pieces and reports an error at the first byte that can no longer
//! begin or continue valid UTF-8, so that a connection sending garbage is closed before
//! the rest of its message arrives. The bulk of each piece goes through `simdutf8`.

use simdutf8::compat::from_utf8;

/// Validates UTF-8 fed piece by piece.
///
/// ```
/// use ws_proto::Utf8Validator;
/// let snowman = "☃".as_bytes(); // e2 98 83
/// let mut v = Utf8Validator::new();
/// assert!(v.feed(&snowman[..1]).is_ok());
/// assert!(!v.is_boundary()); // a code point is open
/// assert!(v.feed(&snowman[1..]).is_ok());
/// assert!(v.finish().is_ok());
///
/// // 0xc0 can never start valid UTF-8: refused at once, not at the end.
/// assert!(Utf8Validator::new().feed(&[b'a', 0xc0]).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// The bytes of a code point that a piece ended in the middle of.
    partial: [u8; 4],
    partial_len: u8,
}

/// The input is not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Validates the next piece. After an error the validator must be [`reset`](Self::reset).
    ///
    /// # Errors
    ///
    /// [`Utf8Error`] as soon as the bytes so far cannot be the start of valid UTF-8: an
    /// invalid byte, an overlong form, a surrogate or a code point above U+10FFFF (RFC 3629
    /// 4). An unfinished code point at the end of the piece is not an error here; see
    /// [`finish`](Self::finish).
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            bytes = self.complete_partial(bytes)?;
            if self.partial_len > 0 {
                // Still open: the piece was too short to finish the code point.
                return Ok(());
            }
        }
        match from_utf8(bytes) {
            Ok(_) => Ok(()),
            // `error_len() == None` means the piece ends inside a code point that may
            // still be completed by the next piece.
            Err(err) if err.error_len().is_none() => {
                let tail = &bytes[err.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(Utf8Error),
        }
    }

    /// Adds bytes to the open code point; returns the rest of the piece.
    fn complete_partial<'a>(&mut self, bytes: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.partial_len);
        let want = sequence_len(self.partial[0]);
        let take = (want - have).min(bytes.len());
        self.partial[have..have + take].copy_from_slice(&bytes[..take]);
        let now = have + take;
        match from_utf8(&self.partial[..now]) {
            Ok(_) => self.partial_len = 0,
            Err(err) if err.error_len().is_none() => self.partial_len = now as u8,
            Err(_) => return Err(Utf8Error),
        }
        Ok(&bytes[take..])
    }

    /// Whether the bytes so far end on a code point boundary.
    pub const fn is_boundary(&self) -> bool {
        self.partial_len == 0
    }

    /// Ends the message: an open code point is an error. Resets the validator.
    ///
    /// # Errors
    ///
    /// [`Utf8Error`] if the message ends inside a code point (RFC 6455 5.6: text is UTF-8 as
    /// a whole message). The validator is reset either way.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.is_boundary();
        self.reset();
        if complete { Ok(()) } else { Err(Utf8Error) }
    }

    /// Forgets everything, ready for a new message.
    pub fn reset(&mut self) {
        *self = Utf8Validator::new();
    }
}

/// The length of the sequence a lead byte starts. Only called on bytes that `from_utf8`
/// left as the start of an incomplete sequence, so always 2, 3 or 4.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

/// Views bytes that a [`Utf8Validator`] accepted as text, without validating them again.
///
/// Validating twice would cost a second pass over every text message: the bytes are
/// validated once, block by block, as they are unmasked.
///
/// # Safety
///
/// `bytes` must be exactly the bytes fed, in order, to one validator since its last
/// reset; none of those feeds may have failed, and its `finish` must have succeeded.
#[allow(unsafe_code)]
pub(crate) unsafe fn str_from_validated(bytes: &[u8]) -> &str {
    debug_assert!(
        std::str::from_utf8(bytes).is_ok(),
        "the validator accepted invalid UTF-8"
    );
    // SAFETY: the caller guarantees the validator accepted exactly these bytes, and the
    // validator accepts exactly what `std::str::from_utf8` accepts (see the property tests
    // below, which compare them on every split, byte by byte included).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// [`str_from_validated`] for an owned buffer.
///
/// # Safety
///
/// As for [`str_from_validated`].
#[allow(unsafe_code)]
pub(crate) unsafe fn string_from_validated(bytes: Vec<u8>) -> String {
    debug_assert!(
        std::str::from_utf8(&bytes).is_ok(),
        "the validator accepted invalid UTF-8"
    );
    // SAFETY: as in `str_from_validated`.
    unsafe { String::from_utf8_unchecked(bytes) }
}

/// Validates a whole buffer at once and returns it as text.
pub fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validate_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts {
            let cut = cut.clamp(start, bytes.len());
            v.feed(&bytes[start..cut])?;
            start = cut;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    #[test]
    fn fails_at_the_first_invalid_byte() {
        // Autobahn 6.3.1's payload: "κόσμε" then an encoded surrogate.
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(v.feed(&[0xed]), Ok(()), "ED may start a valid sequence");
        assert_eq!(
            v.feed(&[0xa0]),
            Err(Utf8Error),
            "ED A0 is a surrogate: refused now"
        );

        // A lead byte for a code point above U+10FFFF fails on its second byte.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xf4]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error));

        // An overlong encoding is refused as soon as it is recognisable.
        assert_eq!(Utf8Validator::new().feed(&[0xe0, 0x80]), Err(Utf8Error));
        assert_eq!(Utf8Validator::new().feed(&[0xff]), Err(Utf8Error));
    }

    #[test]
    fn open_code_point_at_the_end_is_an_error() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xe2, 0x98]).unwrap();
        assert_eq!(v.finish(), Err(Utf8Error));
        // finish() resets: the validator is usable again.
        assert_eq!(v.feed(b"ok"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn byte_by_byte_four_byte_sequences() {
        let text = "a𝄞b😀";
        let cuts: Vec<usize> = (0..text.len()).collect();
        assert_eq!(validate_in_pieces(text.as_bytes(), &cuts), Ok(()));
    }

    fn mostly_utf8() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<String>().prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..64),
            // Valid text with one byte replaced: the hard cases near the boundary.
            (any::<String>(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(s, i, b)| {
                let mut bytes = s.into_bytes();
                if !bytes.is_empty() {
                    let at = i.index(bytes.len());
                    bytes[at] = b;
                }
                bytes
            }),
        ]
    }

    proptest! {

        #![proptest_config(crate::test_support::proptest_config())]

        #[test]
        fn agrees_with_std_on_every_split(bytes in mostly_utf8(),
                                          cuts in prop::collection::vec(0usize..80, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expected = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(validate_in_pieces(&bytes, &cuts).is_ok(), expected);
        }

        #[test]
        fn agrees_with_std_byte_by_byte(bytes in mostly_utf8()) {
            let cuts: Vec<usize> = (0..bytes.len()).collect();
            let expected = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(validate_in_pieces(&bytes, &cuts).is_ok(), expected);
        }

        #[test]
        fn fails_exactly_when_the_prefix_cannot_become_valid(bytes in mostly_utf8()) {
            // Fail-fast: after each byte, the validator has failed if and only if std
            // says the bytes so far are not a prefix of any valid UTF-8 text.
            let mut v = Utf8Validator::new();
            for k in 1..=bytes.len() {
                let failed = v.feed(&bytes[k - 1..k]).is_err();
                let hopeless = matches!(std::str::from_utf8(&bytes[..k]), Err(e) if e.error_len().is_some());
                prop_assert_eq!(failed, hopeless, "after {} bytes of {:02x?}", k, bytes);
                if failed {
                    break;
                }
            }
        }
    }
}

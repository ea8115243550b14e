//! The id a bridge stamps on what it publishes, to recognise its own messages coming back.

use std::fmt;

/// The random id of one bridge (one per [`Bridge`](crate::Bridge), so one per process in the
/// usual set-up): 16 bytes from the operating system's random source.
///
/// Redis sends a publisher's message back to the publisher too when it is subscribed to the
/// channel; the reader compares the origin in the envelope with its own and skips its own
/// messages, which the server has already delivered locally. 128 random bits make a
/// collision between two bridges negligible.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin(pub [u8; 16]);

impl Origin {
    /// A fresh random id.
    ///
    /// # Errors
    ///
    /// The operating system's random source failed (`getrandom`'s error, as a string).
    pub fn random() -> Result<Origin, String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        Ok(Origin(bytes))
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

/// Lower-case hex, 32 digits.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_random_origins_differ_and_print_as_hex() {
        let a = Origin::random().unwrap();
        let b = Origin::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 32);
        assert!(a.to_string().chars().all(|c| c.is_ascii_hexdigit()));
    }
}

//! What a published payload is: the WebSocket message type it travels as.

/// The type of a message carried over Redis: a WebSocket text message (RFC 6455 5.6,
/// opcode 0x1, UTF-8) or a binary one (opcode 0x2).
///
/// It travels in the envelope (see [`crate::envelope`]) so that a message published as text
/// reaches the subscribers of every other process as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A text message: the payload is UTF-8 (checked on receipt; a text envelope whose
    /// payload is not UTF-8 is dropped as malformed).
    Text,
    /// A binary message: any bytes.
    Binary,
}

impl Kind {
    /// The byte that stands for this kind in the envelope: 1 text, 2 binary.
    pub const fn to_byte(self) -> u8 {
        match self {
            Kind::Text => 1,
            Kind::Binary => 2,
        }
    }

    /// The kind for an envelope byte, `None` for any byte other than 1 or 2.
    pub const fn from_byte(byte: u8) -> Option<Kind> {
        match byte {
            1 => Some(Kind::Text),
            2 => Some(Kind::Binary),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_others_are_refused() {
        for kind in [Kind::Text, Kind::Binary] {
            assert_eq!(Kind::from_byte(kind.to_byte()), Some(kind));
        }
        for byte in [0u8, 3, 0x81, 0xff] {
            assert_eq!(Kind::from_byte(byte), None);
        }
    }
}

//! The envelope: the bytes a bridge PUBLISHes, and their parsing on receipt.
//!
//! Layout (all of it binary; offsets in bytes):
//!
//! | offset | size | field | value |
//! |---|---|---|---|
//! | 0 | 4 | magic | `WSRB` (0x57 0x53 0x52 0x42) |
//! | 4 | 1 | version | 1 ([`VERSION`]) |
//! | 5 | 1 | kind | 1 text, 2 binary ([`Kind::to_byte`]) |
//! | 6 | 16 | origin | the publishing bridge's random id ([`Origin`]) |
//! | 22 | rest | payload | the message as the application gave it; UTF-8 when kind is text |
//!
//! A receiver drops, counts and logs anything else found on the channel: a payload
//! shorter than the header, another magic (a message some other program published), another
//! version (a newer bridge: upgrade all processes together, or keep the version), an unknown
//! kind, or a text payload that is not UTF-8. It never panics on them.

use std::fmt;

use crate::kind::Kind;
use crate::origin::Origin;

/// The first four bytes of every envelope.
pub const MAGIC: [u8; 4] = *b"WSRB";
/// The envelope version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the payload: magic, version, kind, origin.
pub const HEADER_LEN: usize = 4 + 1 + 1 + 16;

/// Builds the envelope for one message.
pub fn encode(origin: Origin, kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind.to_byte());
    out.extend_from_slice(&origin.0);
    out.extend_from_slice(payload);
    out
}

/// One parsed envelope, borrowing its payload.
#[derive(Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Who published it.
    pub origin: Origin,
    /// Text or binary.
    pub kind: Kind,
    /// The application's bytes.
    pub payload: &'a [u8],
}

/// Why received bytes are not an envelope this crate can deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Fewer than [`HEADER_LEN`] bytes (the length seen).
    Short(usize),
    /// The first four bytes are not [`MAGIC`]: published by some other program.
    Foreign,
    /// A version this crate does not read (the version seen).
    Version(u8),
    /// A kind byte other than 1 or 2 (the byte seen).
    Kind(u8),
    /// Kind text, but the payload is not UTF-8 (RFC 6455 5.6 requires it of text).
    NotUtf8,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Short(n) => {
                write!(f, "{n} bytes, shorter than the {HEADER_LEN}-byte header")
            }
            Malformed::Foreign => write!(
                f,
                "not an envelope (no WSRB magic): another program's message"
            ),
            Malformed::Version(v) => write!(f, "envelope version {v}, this bridge reads {VERSION}"),
            Malformed::Kind(k) => write!(f, "unknown kind byte {k}"),
            Malformed::NotUtf8 => write!(f, "text payload that is not UTF-8"),
        }
    }
}

/// Parses received bytes.
///
/// # Errors
///
/// [`Malformed::Foreign`] when the bytes do not start with [`MAGIC`] (another program
/// published them); [`Malformed::Short`] for fewer than [`HEADER_LEN`] bytes;
/// [`Malformed::Version`] for a version this crate does not read; [`Malformed::Kind`] for a
/// kind byte other than 1 (text) or 2 (binary); [`Malformed::NotUtf8`] for a text payload
/// that is not UTF-8 (RFC 6455 5.6).
pub fn decode(bytes: &[u8]) -> Result<Envelope<'_>, Malformed> {
    if bytes.len() < HEADER_LEN {
        // A foreign short message says "foreign" rather than "short" where it can.
        if bytes.len() < 4 || bytes[..4] != MAGIC {
            return Err(Malformed::Foreign);
        }
        return Err(Malformed::Short(bytes.len()));
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    if header[..4] != MAGIC {
        return Err(Malformed::Foreign);
    }
    if header[4] != VERSION {
        return Err(Malformed::Version(header[4]));
    }
    let kind = Kind::from_byte(header[5]).ok_or(Malformed::Kind(header[5]))?;
    let mut origin = [0u8; 16];
    origin.copy_from_slice(&header[6..HEADER_LEN]);
    if kind == Kind::Text && std::str::from_utf8(payload).is_err() {
        return Err(Malformed::NotUtf8);
    }
    Ok(Envelope {
        origin: Origin(origin),
        kind,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin = Origin([7; 16]);

    #[test]
    fn round_trip_text_binary_and_empty() {
        for (kind, payload) in [
            (Kind::Text, &b"hello"[..]),
            (Kind::Binary, &[0u8, 0xff, 0x80][..]),
            (Kind::Text, &b""[..]),
        ] {
            let bytes = encode(ORIGIN, kind, payload);
            assert_eq!(bytes.len(), HEADER_LEN + payload.len());
            assert_eq!(
                decode(&bytes),
                Ok(Envelope {
                    origin: ORIGIN,
                    kind,
                    payload
                })
            );
        }
    }

    #[test]
    fn layout_is_the_documented_one() {
        let bytes = encode(Origin([0xab; 16]), Kind::Binary, b"xy");
        assert_eq!(&bytes[..6], b"WSRB\x01\x02");
        assert_eq!(&bytes[6..22], &[0xab; 16]);
        assert_eq!(&bytes[22..], b"xy");
    }

    #[test]
    fn malformed_inputs_are_refused_with_their_reason() {
        let good = encode(ORIGIN, Kind::Text, b"ok");
        assert_eq!(decode(b""), Err(Malformed::Foreign));
        assert_eq!(decode(b"hello from redis-cli"), Err(Malformed::Foreign));
        assert_eq!(decode(&good[..10]), Err(Malformed::Short(10)));
        let mut v = good.clone();
        v[4] = 2;
        assert_eq!(decode(&v), Err(Malformed::Version(2)));
        let mut k = good.clone();
        k[5] = 9;
        assert_eq!(decode(&k), Err(Malformed::Kind(9)));
        let bad_text = encode(ORIGIN, Kind::Text, &[0xc3, 0x28]);
        assert_eq!(decode(&bad_text), Err(Malformed::NotUtf8));
        // The same bytes are fine as binary.
        assert!(decode(&encode(ORIGIN, Kind::Binary, &[0xc3, 0x28])).is_ok());
    }

    #[test]
    fn every_truncation_of_an_envelope_is_an_error_not_a_panic() {
        let good = encode(ORIGIN, Kind::Binary, b"payload");
        for n in 0..HEADER_LEN {
            assert!(decode(&good[..n]).is_err(), "{n}");
        }
    }
}

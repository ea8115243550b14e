//! Frame headers (RFC 6455 section 5.2): incremental parsing and minimal encoding.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use crate::opcode::OpCode;
use crate::protocol_error::ProtocolError;

/// The longest a header can be: 2 bytes, an 8-byte length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (RFC 6455 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the last frame of its message.
    pub fin: bool,
    /// RSV1, used by permessage-deflate (RFC 7692) to mark a compressed message.
    pub rsv1: bool,
    /// RSV2, defined by no extension this crate knows.
    pub rsv2: bool,
    /// RSV3, defined by no extension this crate knows.
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key; set on every frame a client sends, never on a server's.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

/// The outcome of [`FrameHeader::parse`] when the bytes are not (yet) wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderParse {
    /// A whole header: its value and how many bytes it took.
    Complete {
        /// The decoded header.
        header: FrameHeader,
        /// The encoded length of the header, 2 to 14 bytes.
        len: usize,
    },
    /// Not enough bytes yet: at least `needed` more are required. Not an error.
    Incomplete {
        /// The least number of further bytes that can complete the header.
        needed: usize,
    },
}

impl FrameHeader {
    /// A header with FIN set, no RSV bits, no mask.
    pub const fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the front of `bytes`.
    ///
    /// Rules that hold whatever extensions are in use are checked here, as early as the
    /// bytes allow: reserved opcodes, fragmented control frames, control payloads over
    /// 125 bytes and 64-bit lengths with the top bit set are errors. RSV bits and the
    /// mask bit are reported, not judged: what is allowed depends on the negotiated
    /// extensions and on the role, which the [`Session`](crate::Session) knows.
    ///
    /// ```
    /// use ws_proto::{FrameHeader, HeaderParse, OpCode};
    /// // RFC 6455 5.7: a single-frame unmasked text message "Hello".
    /// let bytes = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    /// let HeaderParse::Complete { header, len } = FrameHeader::parse(&bytes)? else { panic!() };
    /// assert_eq!((header.opcode, header.payload_len, len), (OpCode::Text, 5, 2));
    /// assert_eq!(FrameHeader::parse(&bytes[..1])?, HeaderParse::Incomplete { needed: 1 });
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProtocolError::ReservedOpcode`] for opcodes 3-7 and 0xB-0xF (RFC 6455 5.2);
    /// [`ProtocolError::FragmentedControlFrame`] for a control frame without FIN and
    /// [`ProtocolError::ControlFrameTooLong`] for one whose length is over 125 (RFC 6455 5.5),
    /// both as soon as the first two bytes arrive; [`ProtocolError::InvalidLength`] for a
    /// 64-bit length with its most significant bit set (RFC 6455 5.2). Each is a protocol
    /// error (1002).
    pub fn parse(bytes: &[u8]) -> Result<HeaderParse, ProtocolError> {
        let Some(&b0) = bytes.first() else {
            return Ok(HeaderParse::Incomplete { needed: 2 });
        };
        let opcode =
            OpCode::from_bits(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let fin = b0 & 0x80 != 0;
        // RFC 6455 5.5: "Control frames themselves MUST NOT be fragmented."
        if opcode.is_control() && !fin {
            return Err(ProtocolError::FragmentedControlFrame);
        }
        let Some(&b1) = bytes.get(1) else {
            return Ok(HeaderParse::Incomplete { needed: 1 });
        };
        let len7 = b1 & 0x7F;
        // RFC 6455 5.5: "All control frames MUST have a payload length of 125 bytes or
        // less". A 16- or 64-bit length form on a control frame is either too long or
        // not minimal; both are refused before the extended length arrives.
        if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(ProtocolError::ControlFrameTooLong);
        }
        let masked = b1 & 0x80 != 0;
        let extended = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let len = 2 + extended + if masked { 4 } else { 0 };
        if bytes.len() < len {
            return Ok(HeaderParse::Incomplete {
                needed: len - bytes.len(),
            });
        }
        let payload_len = match extended {
            0 => u64::from(len7),
            2 => u64::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            _ => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&bytes[2..10]);
                u64::from_be_bytes(be)
            }
        };
        // RFC 6455 5.2: "the most significant bit MUST be 0" in the 64-bit form.
        if payload_len >> 63 != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        let mask = if masked {
            Some([
                bytes[len - 4],
                bytes[len - 3],
                bytes[len - 2],
                bytes[len - 1],
            ])
        } else {
            None
        };
        Ok(HeaderParse::Complete {
            header: FrameHeader {
                fin,
                rsv1: b0 & 0x40 != 0,
                rsv2: b0 & 0x20 != 0,
                rsv3: b0 & 0x10 != 0,
                opcode,
                mask,
                payload_len,
            },
            len,
        })
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub const fn encoded_len(&self) -> usize {
        let extended = if self.payload_len < 126 {
            0
        } else if self.payload_len <= 0xFFFF {
            2
        } else {
            8
        };
        2 + extended + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header into `out` using the minimal length form (RFC 6455 5.2: "the
    /// minimal number of bytes MUST be used to encode the length") and returns its length.
    ///
    /// ```
    /// use ws_proto::{FrameHeader, OpCode, MAX_HEADER_LEN};
    /// let mut out = [0u8; MAX_HEADER_LEN];
    /// let n = FrameHeader::new(OpCode::Binary, 256).encode(&mut out);
    /// assert_eq!(&out[..n], &[0x82, 0x7E, 0x01, 0x00]);
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= 0xFFFF {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            out[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_complete(bytes: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(bytes).expect("valid header") {
            HeaderParse::Complete { header, len } => (header, len),
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    #[test]
    fn rfc_examples() {
        // RFC 6455 5.7, the headers of each example.
        let (h, n) = parse_complete(&[0x81, 0x05]);
        assert_eq!(
            (h.fin, h.opcode, h.payload_len, h.mask, n),
            (true, OpCode::Text, 5, None, 2)
        );
        let (h, n) = parse_complete(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!((h.mask, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 6));
        let (h, _) = parse_complete(&[0x01, 0x03]);
        assert_eq!((h.fin, h.opcode), (false, OpCode::Text));
        let (h, _) = parse_complete(&[0x80, 0x02]);
        assert_eq!((h.fin, h.opcode), (true, OpCode::Continuation));
        let (h, n) = parse_complete(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.opcode, h.payload_len, n), (OpCode::Binary, 256, 4));
        let (h, n) = parse_complete(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!((h.payload_len, n), (65536, 10));
    }

    #[test]
    fn incomplete_reports_what_is_missing() {
        assert_eq!(
            FrameHeader::parse(&[]).unwrap(),
            HeaderParse::Incomplete { needed: 2 }
        );
        assert_eq!(
            FrameHeader::parse(&[0x82]).unwrap(),
            HeaderParse::Incomplete { needed: 1 }
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0xFF]).unwrap(),
            HeaderParse::Incomplete { needed: 12 }
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0xFE, 0x01]).unwrap(),
            HeaderParse::Incomplete { needed: 5 }
        );
    }

    #[test]
    fn protocol_errors() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert!(
                matches!(FrameHeader::parse(&[0x80 | op]), Err(ProtocolError::ReservedOpcode(o)) if o == op)
            );
        }
        // A ping without FIN is refused from its first byte.
        assert!(matches!(
            FrameHeader::parse(&[0x09]),
            Err(ProtocolError::FragmentedControlFrame)
        ));
        // A 126-byte ping, and a ping using the 16-bit form for 5 bytes.
        assert!(matches!(
            FrameHeader::parse(&[0x89, 0x7E]),
            Err(ProtocolError::ControlFrameTooLong)
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x89, 0x7F]),
            Err(ProtocolError::ControlFrameTooLong)
        ));
        // The top bit of a 64-bit length.
        let bytes = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            FrameHeader::parse(&bytes),
            Err(ProtocolError::InvalidLength)
        ));
    }

    #[test]
    fn largest_legal_length() {
        let bytes = [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(parse_complete(&bytes).0.payload_len, u64::MAX >> 1);
    }

    #[test]
    fn minimal_length_forms() {
        let mut out = [0u8; MAX_HEADER_LEN];
        for (len, expected) in [(0u64, 2usize), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let header = FrameHeader::new(OpCode::Binary, len);
            assert_eq!(header.encode(&mut out), expected, "length {len}");
            assert_eq!(header.encoded_len(), expected);
        }
    }

    fn any_header() -> impl Strategy<Value = FrameHeader> {
        (
            any::<[bool; 4]>(),
            prop::sample::select(vec![
                OpCode::Continuation,
                OpCode::Text,
                OpCode::Binary,
                OpCode::Close,
                OpCode::Ping,
                OpCode::Pong,
            ]),
            any::<Option<[u8; 4]>>(),
            prop_oneof![0u64..=125, 126u64..=65535, 65536u64..=(u64::MAX >> 1)],
        )
            .prop_map(|([fin, rsv1, rsv2, rsv3], opcode, mask, payload_len)| {
                // Only well-formed control frames round-trip; the others are errors.
                let control = opcode.is_control();
                FrameHeader {
                    fin: fin || control,
                    rsv1,
                    rsv2,
                    rsv3,
                    opcode,
                    mask,
                    payload_len: if control {
                        payload_len % 126
                    } else {
                        payload_len
                    },
                }
            })
    }

    proptest! {

        #![proptest_config(crate::test_support::proptest_config())]

        #[test]
        fn encode_then_parse_round_trips(header in any_header()) {
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = header.encode(&mut out);
            prop_assert_eq!(FrameHeader::parse(&out[..n]).unwrap(), HeaderParse::Complete { header, len: n });
            // Every strict prefix asks for more bytes and never fails.
            for cut in 0..n {
                let parsed = FrameHeader::parse(&out[..cut]).unwrap();
                let asks_for_more = matches!(parsed, HeaderParse::Incomplete { needed } if needed >= 1 && needed <= n - cut);
                prop_assert!(asks_for_more, "prefix of {} bytes gave {:?}", cut, parsed);
            }
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(HeaderParse::Complete { len, .. }) = FrameHeader::parse(&bytes) {
                prop_assert!(len <= bytes.len() && len <= MAX_HEADER_LEN);
            }
        }
    }
}

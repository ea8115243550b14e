//! Violations of RFC 6455 or RFC 7692 by the peer, after the handshake: each has the
//! close code that answers it.

use crate::close_code::CloseCode;
use crate::opcode::OpCode;

/// A protocol violation by the peer, seen by [`Session::decode`](crate::Session::decode).
///
/// Every variant has its close code ([`ProtocolError::close_code`]); the session has
/// already queued a close frame with it when the error is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    // ----- Frame-level violations (close 1002) -----
    /// A frame used one of the opcodes RFC 6455 5.2 reserves (3-7, 0xB-0xF).
    #[error("reserved opcode {0:#x} (RFC 6455 5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved)")]
    ReservedOpcode(u8),
    /// An RSV bit was set that no negotiated extension defines (RFC 6455 5.2): RSV2 or
    /// RSV3, or RSV1 without permessage-deflate.
    #[error("reserved bits set that no negotiated extension defines (RFC 6455 5.2)")]
    ReservedBits,
    /// RSV1 on a frame other than the first frame of a data message, with
    /// permessage-deflate negotiated (RFC 7692 6.1: RSV1 marks a compressed message, on
    /// its first frame only; a continuation or control frame never carries it).
    #[error(
        "RSV1 set on a {0:?} frame: permessage-deflate allows it only on the first frame of a message (RFC 7692 6.1)"
    )]
    MisplacedCompressedBit(OpCode),
    /// A control frame did not have FIN set (RFC 6455 5.5).
    #[error("fragmented control frame (RFC 6455 5.5: control frames MUST NOT be fragmented)")]
    FragmentedControlFrame,
    /// A control frame carried more than 125 bytes (RFC 6455 5.5).
    #[error("control frame payload longer than 125 bytes (RFC 6455 5.5)")]
    ControlFrameTooLong,
    /// A 64-bit payload length had its most significant bit set (RFC 6455 5.2).
    #[error("64-bit payload length with the most significant bit set (RFC 6455 5.2)")]
    InvalidLength,
    /// A client sent an unmasked frame (RFC 6455 5.1).
    #[error("unmasked frame from a client (RFC 6455 5.1: a client MUST mask every frame)")]
    UnmaskedFrame,
    /// A server sent a masked frame (RFC 6455 5.1).
    #[error("masked frame from a server (RFC 6455 5.1: a server MUST NOT mask frames)")]
    MaskedFrame,
    /// A continuation frame arrived with no fragmented message in progress (RFC 6455 5.4).
    #[error("continuation frame without a message in progress (RFC 6455 5.4)")]
    UnexpectedContinuation,
    /// A new text or binary frame arrived inside a fragmented message (RFC 6455 5.4).
    #[error("new data frame while a fragmented message is in progress (RFC 6455 5.4)")]
    ExpectedContinuation,
    /// A close frame had a 1-byte payload (RFC 6455 5.5.1: the code takes two bytes).
    #[error("close frame with a 1-byte payload (RFC 6455 5.5.1: the code takes two bytes)")]
    InvalidClosePayload,
    /// A received close code that may not be sent (RFC 6455 7.4).
    #[error("invalid close code {0} (RFC 6455 7.4)")]
    InvalidCloseCode(u16),

    // ----- Payload violations -----
    /// Text (or a close reason) that is not UTF-8 (RFC 6455 8.1, close 1007).
    #[error("invalid UTF-8 in a text message or close reason (RFC 6455 8.1)")]
    InvalidUtf8,
    /// A frame larger than `Config::max_frame_size` (close 1009).
    #[error("frame of {size} bytes exceeds the limit of {max} bytes (max_frame_size)")]
    FrameTooLarge {
        /// The length the frame header announced.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message larger than `Config::max_message_size` (close 1009).
    #[error("message of at least {size} bytes exceeds the limit of {max} bytes (max_message_size)")]
    MessageTooLarge {
        /// The size reached when the limit was hit.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A compressed message whose data is not valid deflate (RFC 7692 7.2.2, close 1007).
    #[error("invalid compressed data (RFC 7692 7.2.2)")]
    InvalidCompressedData,
}

impl ProtocolError {
    /// The close code that answers this violation.
    ///
    /// ```
    /// use ws_proto::{CloseCode, ProtocolError};
    /// assert_eq!(ProtocolError::InvalidUtf8.close_code(), CloseCode::INVALID_PAYLOAD);
    /// assert_eq!(ProtocolError::ReservedBits.close_code(), CloseCode::PROTOCOL_ERROR);
    /// ```
    pub fn close_code(&self) -> CloseCode {
        use ProtocolError::*;
        match self {
            ReservedOpcode(_)
            | ReservedBits
            | MisplacedCompressedBit(_)
            | FragmentedControlFrame
            | ControlFrameTooLong
            | InvalidLength
            | UnmaskedFrame
            | MaskedFrame
            | UnexpectedContinuation
            | ExpectedContinuation
            | InvalidClosePayload
            | InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
            InvalidUtf8 | InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            FrameTooLarge { .. } | MessageTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
        }
    }
}

//! The crate's one error type.
//!
//! Every way a peer can break RFC 6455 has its own variant, and each of those maps to the
//! close code ([`Error::close_code`]) or HTTP status ([`Error::http_status`]) that answers
//! it. Local misuse (sending after close, an oversized ping) has variants of its own that
//! never reach the wire.

use crate::close::CloseCode;
use crate::handshake::ResponseHead;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- Frame-level protocol violations by the peer (close 1002) -----
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
    MisplacedCompressedBit(crate::OpCode),
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
    /// A close code that may not be sent (RFC 6455 7.4), or was given to [`CloseCode::new`].
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

    /// A compressed message whose data is not valid deflate (RFC 7692, close 1007).
    #[error("invalid compressed data (RFC 7692 7.2.2)")]
    InvalidCompressedData,

    // ----- End of the connection -----
    /// The byte stream ended without a closing handshake (reported as 1006, never sent).
    #[error("connection ended without a closing handshake (RFC 6455 7.1.5: 1006)")]
    AbnormalClosure,

    // ----- Local misuse: nothing is sent -----
    /// A send after the closing handshake started.
    #[error("the connection is closing or closed")]
    Closed,
    /// A ping or pong payload longer than 125 bytes.
    #[error("control frame payload of {0} bytes is longer than 125")]
    ControlPayloadTooLong(usize),
    /// A close reason longer than 123 bytes.
    #[error("close reason of {0} bytes is longer than 123")]
    CloseReasonTooLong(usize),
    /// A whole message was sent while a fragmented one was in progress, or a fragment
    /// continued a message of the other kind.
    #[error("a fragmented message of another kind is in progress")]
    MessageInProgress,
    /// The compressor failed (it should not: a bug or an allocation failure).
    #[error("compression failed")]
    Compression,
    /// A permessage-deflate answer that breaks RFC 7692 7.1, or an invalid local setting.
    #[error("permessage-deflate negotiation failed: {0}")]
    DeflateNegotiation(&'static str),
    /// The operating system's secure random generator failed.
    #[error("secure random generator failed: {0}")]
    Random(getrandom::Error),

    // ----- Opening handshake, server side (answered with an HTTP status) -----
    /// The header block passed the size limit before its end (431).
    #[error("handshake header block larger than {max} bytes (max_head_size)")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// More header fields than the limit (431).
    #[error("too many header fields in the handshake (max_headers)")]
    TooManyHeaders,
    /// The bytes are not an HTTP/1.x message (400).
    #[error("malformed HTTP: {0}")]
    MalformedHttp(httparse::Error),
    /// The request method is not GET (405, RFC 6455 4.1).
    #[error("request method {0:?} is not GET")]
    MethodNotGet(String),
    /// The request is not HTTP/1.1 or later (400, RFC 6455 4.1).
    #[error("HTTP version older than 1.1 (RFC 6455 4.1)")]
    HttpVersion,
    /// A request target that is neither an origin form nor an absolute form with a
    /// WebSocket or HTTP scheme (400, RFC 9112 3.2); `reason` names the rule.
    #[error("request target {target:?} refused: {reason}")]
    InvalidTarget {
        /// The target as sent.
        target: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// No `Host` header (400, RFC 6455 4.1).
    #[error("missing, repeated or empty Host header (RFC 9112 3.2: exactly one)")]
    MissingHost,
    /// No `Upgrade: websocket` token: a plain HTTP request, as a browser's address bar
    /// sends (426 Upgrade Required, RFC 9110 15.5.22, with a body that says how to connect:
    /// see [`Reject::for_error`](crate::handshake::Reject::for_error)).
    #[error("missing or wrong Upgrade header (expected websocket, RFC 6455 4.2.1)")]
    MissingUpgrade,
    /// No `Connection: upgrade` token (400).
    #[error("missing or wrong Connection header (expected upgrade, RFC 6455 4.2.1)")]
    MissingConnection,
    /// `Sec-WebSocket-Version` missing or not 13 (426 with `Sec-WebSocket-Version: 13`).
    #[error("unsupported or missing Sec-WebSocket-Version (only 13 is supported, RFC 6455 4.4)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` missing, repeated, or not 16 bytes in base64 (400).
    #[error("missing or invalid Sec-WebSocket-Key (RFC 6455 4.2.1: one key, 16 bytes in base64)")]
    InvalidKey,
    /// A `Sec-WebSocket-Extensions` header that does not follow RFC 6455 9.1 (400).
    #[error("malformed Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensionHeader(String),
    /// A header name or value that cannot be written (CR, LF or NUL, or a bad name).
    #[error("header {0:?} cannot be written: invalid name or value")]
    InvalidHeader(String),

    // ----- Opening handshake, client side -----
    /// The server answered with something other than 101; the answer's status line and
    /// headers are kept so that a caller can report it or follow a redirect.
    #[error("server refused the upgrade with status {}", .0.status)]
    Rejected(Box<ResponseHead>),
    /// `Sec-WebSocket-Accept` missing or not derived from our key (RFC 6455 4.2.2).
    #[error("Sec-WebSocket-Accept does not match the key sent (RFC 6455 4.2.2)")]
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer, or several.
    #[error("server chose subprotocol {0:?}, which was not offered (RFC 6455 4.1)")]
    UnofferedProtocol(String),
    /// The server answered with an extension the client did not offer.
    #[error("server answered with extension {0:?}, which was not offered (RFC 6455 4.1)")]
    UnofferedExtension(String),
}

impl Error {
    /// The close code to send for this error, if it is a protocol violation seen after the
    /// handshake.
    ///
    /// ```
    /// use ws_proto::{CloseCode, Error};
    /// assert_eq!(Error::InvalidUtf8.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    /// assert_eq!(Error::Closed.close_code(), None);
    /// ```
    pub fn close_code(&self) -> Option<CloseCode> {
        use Error::*;
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
            | InvalidCloseCode(_) => Some(CloseCode::PROTOCOL_ERROR),
            InvalidUtf8 | InvalidCompressedData => Some(CloseCode::INVALID_PAYLOAD),
            FrameTooLarge { .. } | MessageTooLarge { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            _ => None,
        }
    }

    /// The HTTP status a server answers this handshake error with, if it is one.
    ///
    /// ```
    /// use ws_proto::Error;
    /// assert_eq!(Error::UnsupportedVersion.http_status(), Some(426));
    /// assert_eq!(Error::InvalidKey.http_status(), Some(400));
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        use Error::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders => Some(431),
            MethodNotGet(_) => Some(405),
            UnsupportedVersion | MissingUpgrade => Some(426),
            MalformedHttp(_)
            | HttpVersion
            | InvalidTarget { .. }
            | MissingHost
            | MissingConnection
            | InvalidKey
            | InvalidExtensionHeader(_) => Some(400),
            _ => None,
        }
    }
}

impl From<getrandom::Error> for Error {
    fn from(err: getrandom::Error) -> Self {
        Error::Random(err)
    }
}

impl From<httparse::Error> for Error {
    fn from(err: httparse::Error) -> Self {
        match err {
            httparse::Error::TooManyHeaders => Error::TooManyHeaders,
            other => Error::MalformedHttp(other),
        }
    }
}

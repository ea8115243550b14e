//! The opening handshake (RFC 6455 section 4), both sides, over byte buffers.
//!
//! Server side: [`RequestParser`] reads a client's upgrade request out of a
//! [`RecvBuffer`](crate::RecvBuffer) as its bytes arrive, checks it, and yields a
//! [`Request`]; [`Request::accept`] builds the `101 Switching Protocols` answer, agrees to
//! permessage-deflate, and yields the server's [`Session`](crate::Session);
//! [`Reject`] answers any refusal with a real HTTP status.
//!
//! Client side: [`ClientRequest`] builds the request and a [`ClientHandshake`] that
//! checks the server's answer as its bytes arrive and yields a [`Response`] and the
//! client's [`Session`](crate::Session), with permessage-deflate if it was agreed.
//!
//! Every failure is a [`HandshakeError`], which has the HTTP status that answers it.
//!
//! Both parsers scan only the bytes that are new since their last call for the empty line
//! that ends the header block (with CRLF or bare LF line ends, as `httparse` reads them:
//! RFC 9112 2.2), and hand the block to `httparse` once, when it is complete: a request that arrives one byte at a time costs linear time, not quadratic
//! (re-parsing on every read was the cause of RUSTSEC-2023-0065 in another crate). Both
//! stop at [`Limits::max_head_size`] bytes and [`Limits::max_headers`] fields. Bytes that
//! follow the header block stay in the buffer for the [`Session`](crate::Session).

mod client;
mod error;
mod extension;
mod head;
mod headers;
mod response_head;
mod scan;
mod server;
mod target;
mod upgrade_fields;

pub use client::{ClientHandshake, ClientRequest, Response};
pub use error::HandshakeError;
pub use extension::{Extension, ExtensionParam, parse_extensions};
pub use head::ResponseHeadParser;
pub use headers::{Headers, is_field_value, is_token};
pub use response_head::ResponseHead;
pub use server::{Accept, Reject, Request, RequestParser, reason_phrase};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

/// The GUID of RFC 6455 1.3, appended to the key to derive the accept value.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this crate speaks (RFC 6455 4.1).
pub const VERSION: &str = "13";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// // RFC 6455 1.3.
/// assert_eq!(ws_proto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    String::from_utf8_lossy(&accept_key_bytes(key)).into_owned()
}

/// The length of a `Sec-WebSocket-Accept` value: a 20-byte SHA-1 digest in base64,
/// padding included.
pub(crate) const ACCEPT_KEY_LEN: usize = 28;

/// [`accept_key`] as bytes on the stack, for an answer written straight into its
/// buffer (no string allocated per handshake).
pub(crate) fn accept_key_bytes(key: &[u8]) -> [u8; ACCEPT_KEY_LEN] {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    let mut out = [0u8; ACCEPT_KEY_LEN];
    // 20 bytes make exactly 28 base64 characters: the buffer cannot be too small.
    let _ = BASE64.encode_slice(sha1.finalize(), &mut out);
    out
}

/// Bounds on what a handshake parser reads before giving up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes the header block (request or status line, header fields and the
    /// blank line) may take. Default 8 KiB, as in most HTTP servers: a browser's upgrade
    /// request with cookies is 1-2 KiB; larger blocks are answered with 431.
    pub max_head_size: usize,
    /// The most header fields. Default 64; more are answered with 431. The parser keeps
    /// this many slots on the stack while parsing.
    pub max_headers: usize,
}

impl Limits {
    /// The header slots a parse needs: `max_headers`, but never more than a block of
    /// `max_head_size` bytes can hold (each field line takes at least 3 bytes, `a:` and
    /// a line end), so a large `max_headers` costs nothing.
    pub(crate) fn header_slots(&self) -> usize {
        self.max_headers.min(self.max_head_size / 3 + 1)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_size: 8 * 1024,
            max_headers: 64,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_accept_example() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}

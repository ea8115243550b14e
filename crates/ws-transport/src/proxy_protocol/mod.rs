//! The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's
//! `proxy-protocol.txt` defines it: the header a load balancer (HAProxy `send-proxy` /
//! `send-proxy-v2`, nginx `proxy_protocol on`, AWS NLB, ...) writes at the start of each
//! connection it opens to a server, carrying the address of the client it relays.
//!
//! Sans-io, like `ws-proto`: [`ProxyHeaderParser::parse`] takes the first bytes of a
//! connection and answers [`Parsed::Incomplete`] (how many more bytes the header needs at
//! least), [`Parsed::Complete`] (the [`ProxyHeader`] and how many bytes it took; the rest
//! belongs to the protocol that follows, the WebSocket handshake), or a
//! [`ProxyHeaderError`] (the connection must be closed: section 2.1, "any sequence which
//! does not exactly match the protocol must be discarded and cause the receiver to abort
//! the connection"). Every runtime drives it: ws-server-blocking from its readiness loop,
//! ws-tokio from an `AsyncRead`.
//!
//! The bytes are decoded by the [`ppp`](https://docs.rs/ppp) crate; this module adds the
//! framing (when is a header complete), the size limits, the choice of version and the
//! meaning of the result (which address to use).
//!
//! # Limits and deadlines
//!
//! - A v1 header is at most 107 bytes with its CRLF (section 2.1); past that without a
//!   CRLF the input is refused ([`ProxyHeaderError::V1TooLong`]).
//! - A v2 header is 16 bytes plus the length it announces, up to 65,535 (section 2.2);
//!   this parser refuses any longer than [`ProxyHeaderParser::max_v2_len`]
//!   ([`DEFAULT_MAX_V2_LEN`] bytes by default) as soon as the 16 fixed bytes are in, so a
//!   peer cannot make the caller buffer 64 KiB per connection.
//! - The deadline is the caller's: the parser holds no clock. Section 2: "the receiver
//!   may apply a short timeout and decide to abort the connection if the protocol header
//!   is not seen within a few seconds (at least 3 seconds to cover a TCP retransmit)".
//!   The servers in this workspace bound it by their handshake timeout.
//!
//! # Trust
//!
//! Section 2: "the receiver MUST be configured to only receive the protocol ... and MUST
//! not try to guess whether the protocol header is present or not". A listener that
//! expects the header refuses connections without one ([`ProxyHeaderError::Missing`]);
//! anyone who can reach such a listener directly can claim any address, so only the load
//! balancer should be able to.

mod error;
mod header;
mod parser;

pub use error::ProxyHeaderError;
pub use header::{ProxiedAddresses, ProxyHeader, ProxyVersion, Tlv};
pub use parser::{DEFAULT_MAX_V2_LEN, MAX_V1_LEN, MAX_V2_LEN, Parsed, ProxyHeaderParser};

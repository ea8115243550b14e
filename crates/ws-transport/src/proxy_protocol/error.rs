//! Why the start of a connection is not an acceptable PROXY protocol header.

/// The connection does not start with a valid PROXY protocol header; section 2.1: it
/// "must be discarded and cause the receiver to abort the connection". Every variant is
/// final: more bytes would not change it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyHeaderError {
    /// The first bytes are neither `PROXY ` (v1) nor the v2 signature: the peer did not
    /// send the header at all (for instance a client that reached the server directly,
    /// not through the load balancer). Section 2: the receiver "MUST not try to guess
    /// whether the protocol header is present or not".
    #[error("no PROXY protocol header: the connection starts with {start:?}")]
    Missing {
        /// The first bytes received (at most 16), lossily as text, for the log.
        start: String,
    },
    /// A v1 line without its CRLF in the first 107 bytes (section 2.1: "If the CRLF
    /// sequence is not found in the first 107 characters, the receiver should declare
    /// the line invalid").
    #[error("PROXY v1 header without CRLF in its first 107 bytes")]
    V1TooLong,
    /// A v1 line that does not match section 2.1 (protocol, addresses, ports, the single
    /// spaces, CRLF); `reason` is the decoder's.
    #[error("invalid PROXY v1 header: {reason}")]
    V1Invalid {
        /// What is wrong.
        reason: String,
    },
    /// A v2 header that announces more bytes than this parser accepts
    /// ([`ProxyHeaderParser::max_v2_len`](super::ProxyHeaderParser::max_v2_len)).
    #[error("PROXY v2 header of {len} bytes, over the limit of {max}")]
    V2TooLong {
        /// The announced length, 16 + the length field.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A v2 header that does not match section 2.2 (version other than 2, unassigned
    /// command, family or transport, an address block shorter than its family needs, a
    /// truncated TLV); `reason` is the decoder's.
    #[error("invalid PROXY v2 header: {reason}")]
    V2Invalid {
        /// What is wrong.
        reason: String,
    },
}

//! Finding and decoding the header at the start of a connection, within bounds.

use std::net::SocketAddr;

use ppp::PartialResult;

use super::error::ProxyHeaderError;
use super::header::{ProxiedAddresses, ProxyHeader, ProxyVersion, Tlv};

/// The longest v1 header, CRLF included (section 2.1: "PROXY UNKNOWN" with two full
/// IPv6 addresses and ports, "=> 107 chars").
pub const MAX_V1_LEN: usize = 107;

/// The longest v2 header the protocol allows: 16 fixed bytes and a 16-bit length
/// (section 2.2).
pub const MAX_V2_LEN: usize = 16 + 65_535;

/// The default cap on a v2 header: room for the largest address block (AF_UNIX, 216
/// bytes) and the TLVs proxies send (ALPN, authority, unique ID up to 128 bytes, SSL
/// details), with margin; a peer cannot make a server buffer 64 KiB per connection.
pub const DEFAULT_MAX_V2_LEN: usize = 2048;

/// The smallest cap [`ProxyHeaderParser::max_v2_len`] accepts: 16 bytes and the largest
/// address block, so that no header without TLVs is ever refused as too long.
const MIN_MAX_V2_LEN: usize = 16 + 216;

/// The v2 signature (section 2.2): `\r\n\r\n\0\r\nQUIT\n`.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// The fixed part of a v2 header: signature, version and command, family and
/// transport, length.
const V2_FIXED_LEN: usize = 16;

/// "PROXY" and exactly one space (section 2.1).
const V1_PREFIX: &[u8; 6] = b"PROXY ";

/// The shortest v1 header, `PROXY UNKNOWN\r\n` (section 2.1, "=> 15 chars").
const MIN_V1_LEN: usize = 15;

/// What the bytes so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole header yet, and nothing wrong so far: read more and parse the whole
    /// input again.
    Incomplete {
        /// The least number of further bytes the header needs (at least 1). A caller
        /// that must not read past the header (it cannot give bytes back to the stream)
        /// reads exactly this many before asking again.
        needed: usize,
    },
    /// A whole, valid header.
    Complete {
        /// What it says.
        header: ProxyHeader,
        /// How many bytes of the input it took; the bytes after them belong to the
        /// protocol that follows (the WebSocket handshake).
        consumed: usize,
    },
}

/// Decodes the PROXY protocol header, v1 or v2, that starts a connection, within the
/// limits above. Cheap to copy; one per listener is enough (it keeps no state between
/// calls: the caller keeps the bytes).
///
/// ```
/// use ws_transport::proxy_protocol::{Parsed, ProxyHeaderParser};
///
/// let parser = ProxyHeaderParser::new();
/// let input = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
/// assert_eq!(parser.parse(&input[..20]).unwrap(), Parsed::Incomplete { needed: 2 });
/// let Parsed::Complete { header, consumed } = parser.parse(input).unwrap() else {
///     unreachable!()
/// };
/// assert_eq!(header.source(), Some("192.0.2.7:56324".parse().unwrap()));
/// assert_eq!(&input[consumed..], b"GET / HTTP/1.1\r\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeaderParser {
    max_v2_len: usize,
}

impl Default for ProxyHeaderParser {
    fn default() -> ProxyHeaderParser {
        ProxyHeaderParser {
            max_v2_len: DEFAULT_MAX_V2_LEN,
        }
    }
}

impl ProxyHeaderParser {
    /// Accepts v1 and v2, v2 up to [`DEFAULT_MAX_V2_LEN`] bytes.
    pub fn new() -> ProxyHeaderParser {
        ProxyHeaderParser::default()
    }

    /// The longest v2 header accepted, in bytes, the 16 fixed ones included; default
    /// [`DEFAULT_MAX_V2_LEN`]. Clamped to 232 (16 bytes and the largest address block)
    /// ..= [`MAX_V2_LEN`]. A longer header is refused with
    /// [`ProxyHeaderError::V2TooLong`] as soon as its 16 fixed bytes are in.
    pub fn max_v2_len(mut self, max: usize) -> Self {
        self.max_v2_len = max.clamp(MIN_MAX_V2_LEN, MAX_V2_LEN);
        self
    }

    /// The cap in force (after clamping).
    pub fn max_v2(&self) -> usize {
        self.max_v2_len
    }

    /// Looks at the bytes received so far on a connection, from its first byte.
    ///
    /// The version is told by the first bytes as section 2.2 says: the v2 signature, or
    /// `PROXY ` for v1; anything else is [`ProxyHeaderError::Missing`] at once (a plain
    /// HTTP request starts with a method, never with either). Then the header must be
    /// whole before it is decoded (section 2.1: "the receiver must wait for the CRLF
    /// sequence before starting to decode the addresses"; section 2.2: "must not start
    /// to parse an address before the whole address block is received").
    ///
    /// # Errors
    ///
    /// [`ProxyHeaderError`]: the connection must be closed; more bytes would not help.
    pub fn parse(&self, input: &[u8]) -> Result<Parsed, ProxyHeaderError> {
        if input.is_empty() {
            // Either version: never past the shortest header.
            return Ok(Parsed::Incomplete { needed: MIN_V1_LEN });
        }
        if is_prefix_either_way(input, V2_SIGNATURE) {
            if input.len() < V2_FIXED_LEN {
                return Ok(Parsed::Incomplete {
                    needed: V2_FIXED_LEN - input.len(),
                });
            }
            return self.parse_v2(input);
        }
        if is_prefix_either_way(input, V1_PREFIX) {
            return parse_v1(input);
        }
        Err(ProxyHeaderError::Missing {
            start: String::from_utf8_lossy(&input[..input.len().min(16)]).into_owned(),
        })
    }

    /// Section 2.2, with at least the 16 fixed bytes in.
    fn parse_v2(&self, input: &[u8]) -> Result<Parsed, ProxyHeaderError> {
        let len = V2_FIXED_LEN + usize::from(u16::from_be_bytes([input[14], input[15]]));
        let header = match ppp::v2::Header::try_from(input) {
            Ok(header) => header,
            // The fixed part is valid (ppp checks version, command, family and
            // transport first) and the rest has not all come.
            Err(err) if err.is_incomplete() => {
                if len > self.max_v2_len {
                    return Err(ProxyHeaderError::V2TooLong {
                        len,
                        max: self.max_v2_len,
                    });
                }
                return Ok(Parsed::Incomplete {
                    needed: len.saturating_sub(input.len()).max(1),
                });
            }
            Err(err) => return Err(v2_invalid(err)),
        };
        if len > self.max_v2_len {
            return Err(ProxyHeaderError::V2TooLong {
                len,
                max: self.max_v2_len,
            });
        }
        let known_family = header.address_family() != ppp::v2::AddressFamily::Unspecified;
        // With UNSPEC the receiver "should ignore address information" (section 2.2)
        // and cannot tell addresses from TLVs: the whole block is skipped.
        let tlvs = if known_family {
            header
                .tlvs()
                .map(|tlv| {
                    tlv.map(|tlv| Tlv {
                        kind: tlv.kind,
                        value: tlv.value.into_owned(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(v2_invalid)?
        } else {
            Vec::new()
        };
        let addresses = match (header.command, header.protocol, header.addresses) {
            (ppp::v2::Command::Local, _, _) => ProxiedAddresses::Local,
            (ppp::v2::Command::Proxy, ppp::v2::Protocol::Stream, ppp::v2::Addresses::IPv4(a)) => {
                ProxiedAddresses::Proxied {
                    source: SocketAddr::from((a.source_address, a.source_port)),
                    destination: SocketAddr::from((a.destination_address, a.destination_port)),
                }
            }
            (ppp::v2::Command::Proxy, ppp::v2::Protocol::Stream, ppp::v2::Addresses::IPv6(a)) => {
                ProxiedAddresses::Proxied {
                    source: SocketAddr::from((a.source_address, a.source_port)),
                    destination: SocketAddr::from((a.destination_address, a.destination_port)),
                }
            }
            (ppp::v2::Command::Proxy, _, _) => ProxiedAddresses::Unknown,
        };
        Ok(Parsed::Complete {
            header: ProxyHeader {
                version: ProxyVersion::V2,
                addresses,
                tlvs,
            },
            consumed: len,
        })
    }
}

/// Section 2.1, with input that starts like `PROXY `.
fn parse_v1(input: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    let window = &input[..input.len().min(MAX_V1_LEN)];
    // "The receiver must not tolerate a single CR or LF character to end the line."
    match window.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(at) if window[at] == b'\n' => Err(ProxyHeaderError::V1Invalid {
            reason: "LF without CR before it".into(),
        }),
        Some(at) if at + 1 == window.len() => {
            if window.len() == MAX_V1_LEN {
                Err(ProxyHeaderError::V1TooLong)
            } else {
                Ok(Parsed::Incomplete { needed: 1 })
            }
        }
        Some(at) if window[at + 1] != b'\n' => Err(ProxyHeaderError::V1Invalid {
            reason: "CR not followed by LF".into(),
        }),
        Some(at) => {
            let line = &window[..at + 2];
            match ppp::v1::Header::try_from(line) {
                Ok(header) => Ok(Parsed::Complete {
                    header: ProxyHeader {
                        version: ProxyVersion::V1,
                        addresses: match header.addresses {
                            ppp::v1::Addresses::Tcp4(a) => ProxiedAddresses::Proxied {
                                source: SocketAddr::from((a.source_address, a.source_port)),
                                destination: SocketAddr::from((
                                    a.destination_address,
                                    a.destination_port,
                                )),
                            },
                            ppp::v1::Addresses::Tcp6(a) => ProxiedAddresses::Proxied {
                                source: SocketAddr::from((a.source_address, a.source_port)),
                                destination: SocketAddr::from((
                                    a.destination_address,
                                    a.destination_port,
                                )),
                            },
                            ppp::v1::Addresses::Unknown => ProxiedAddresses::Unknown,
                        },
                        tlvs: Vec::new(),
                    },
                    consumed: line.len(),
                }),
                Err(err) => Err(ProxyHeaderError::V1Invalid {
                    reason: err.to_string(),
                }),
            }
        }
        None if window.len() >= MAX_V1_LEN => Err(ProxyHeaderError::V1TooLong),
        // Never past the shortest header, then never past a CRLF.
        None if window.len() < MIN_V1_LEN => Ok(Parsed::Incomplete {
            needed: MIN_V1_LEN - window.len(),
        }),
        None => Ok(Parsed::Incomplete { needed: 2 }),
    }
}

/// Whether the shorter of `input` and `prefix` starts the other.
fn is_prefix_either_way(input: &[u8], prefix: &[u8]) -> bool {
    let n = input.len().min(prefix.len());
    input[..n] == prefix[..n]
}

fn v2_invalid(err: ppp::v2::ParseError) -> ProxyHeaderError {
    ProxyHeaderError::V2Invalid {
        reason: err.to_string(),
    }
}

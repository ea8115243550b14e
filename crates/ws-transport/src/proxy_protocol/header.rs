//! What a complete PROXY protocol header says.

use std::net::SocketAddr;

/// Which version of the protocol the header was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    /// The human-readable line (section 2.1), `PROXY TCP4 ...\r\n`.
    V1,
    /// The binary block (section 2.2) that starts with `\r\n\r\n\0\r\nQUIT\n`.
    V2,
}

/// Whose connection this is, as the header tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxiedAddresses {
    /// The proxy relays a TCP connection (v1 `TCP4`/`TCP6`; v2 command `PROXY` with TCP
    /// over IPv4 or IPv6): `source` is the client, `destination` the address the client
    /// connected to (the load balancer's front end).
    Proxied {
        /// The client's address and port.
        source: SocketAddr,
        /// The address and port the client connected to.
        destination: SocketAddr,
    },
    /// v2 command `LOCAL` (section 2.2): the proxy opened the connection for itself (a
    /// health check); "the receiver must accept this connection as valid and must use
    /// the real connection endpoints".
    Local,
    /// v1 `UNKNOWN`, or v2 `PROXY` with a family or transport this server does not relay
    /// (UNSPEC, AF_UNIX, UDP): the connection is valid and the real endpoints are used
    /// (section 2.1, "SHOULD accept the connection and use the real connection's
    /// parameters"; section 2.2, "the receiver is free to accept the connection anyway
    /// and use the real endpoints addresses").
    Unknown,
}

/// One Type-Length-Value vector of a v2 header (section 2.2): `PP2_TYPE_ALPN` (0x01),
/// `PP2_TYPE_AUTHORITY` (0x02), `PP2_TYPE_UNIQUE_ID` (0x05), `PP2_TYPE_SSL` (0x20), ...
/// kept as sent; this crate interprets none of them (a `PP2_TYPE_CRC32C` is not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// The type byte.
    pub kind: u8,
    /// The value, `length` bytes.
    pub value: Vec<u8>,
}

/// A complete, valid PROXY protocol header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// The version it was written in.
    pub version: ProxyVersion,
    /// The addresses it carries, or why there are none to use.
    pub addresses: ProxiedAddresses,
    /// The TLVs after the addresses (v2 only; empty for v1), in the order sent.
    pub tlvs: Vec<Tlv>,
}

impl ProxyHeader {
    /// The client's address when the header carries one ([`ProxiedAddresses::Proxied`]);
    /// `None` when the connection's own peer address is to be used (`LOCAL`,
    /// `UNKNOWN`).
    pub fn source(&self) -> Option<SocketAddr> {
        match self.addresses {
            ProxiedAddresses::Proxied { source, .. } => Some(source),
            ProxiedAddresses::Local | ProxiedAddresses::Unknown => None,
        }
    }

    /// The address the client connected to, when the header carries one.
    pub fn destination(&self) -> Option<SocketAddr> {
        match self.addresses {
            ProxiedAddresses::Proxied { destination, .. } => Some(destination),
            ProxiedAddresses::Local | ProxiedAddresses::Unknown => None,
        }
    }

    /// The client's address: the header's source if it has one, else `peer` (the
    /// socket's own peer address, as section 2.2 prescribes for `LOCAL` and UNSPEC).
    pub fn client_or(&self, peer: SocketAddr) -> SocketAddr {
        self.source().unwrap_or(peer)
    }
}

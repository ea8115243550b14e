//! [`PeerAddr`]: a connection's peer address in 16 bytes (a `SocketAddr` is 32: an IPv6
//! address, flow info and scope id, inline), since it is part of an idle connection's
//! memory.

use std::fmt;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};

/// A socket address: IPv4 inline, IPv6 boxed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PeerAddr {
    V4(SocketAddrV4),
    V6(Box<SocketAddrV6>),
}

impl PeerAddr {
    /// The address.
    pub(crate) fn get(&self) -> SocketAddr {
        match self {
            PeerAddr::V4(addr) => SocketAddr::V4(*addr),
            PeerAddr::V6(addr) => SocketAddr::V6(**addr),
        }
    }
}

impl From<SocketAddr> for PeerAddr {
    fn from(addr: SocketAddr) -> PeerAddr {
        match addr {
            SocketAddr::V4(addr) => PeerAddr::V4(addr),
            SocketAddr::V6(addr) => PeerAddr::V6(Box::new(addr)),
        }
    }
}

/// As the `SocketAddr`'s (`127.0.0.1:80`, `[::1]:80`), for log lines.
impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl fmt::Debug for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::PeerAddr;

    // Both families read back and print as the SocketAddr they came from, in half its size.
    #[test]
    fn both_families_read_back_in_16_bytes() {
        for text in ["127.0.0.1:9001", "[::1]:9001", "[fe80::1%2]:443"] {
            let addr: SocketAddr = text.parse().unwrap();
            let packed = PeerAddr::from(addr);
            assert_eq!(packed.get(), addr);
            assert_eq!(packed.to_string(), addr.to_string());
        }
        assert_eq!(size_of::<PeerAddr>(), 16);
    }
}

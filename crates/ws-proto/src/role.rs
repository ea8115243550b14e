//! Which end of a connection a session is (RFC 6455 5.1).

/// Which end of the connection a session is (RFC 6455 5.1: clients mask, servers do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection; masks every frame it sends.
    Client,
    /// The end that accepted it; rejects unmasked frames.
    Server,
}

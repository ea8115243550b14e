//! What the I/O crates share below the WebSocket protocol, none of it tied to a way of
//! doing I/O (no socket, thread or runtime here):
//!
//! - With the `client` feature (on by default; the clients turn it on, a server need not):
//!   - [`Url`]: `ws://` and `wss://` URLs (and `http://` proxy URLs), read as browsers
//!     read them, checked against RFC 6455 3.
//!   - [`Tunnel`]: an HTTP proxy's `CONNECT` (RFC 9110 9.3.6), sans-io.
//!   - [`ClientOptions`]: the settings of a client builder, checked before any I/O into a
//!     [`Plan`] (dial, tunnel, secure, handshake). ws-client and ws-tokio both hold one.
//!   - With `tls` too: [`ClientTls`], the client's rustls configuration (web PKI roots,
//!     the system's roots with `native-roots`, `SSL_CERT_FILE`, PEM CA files, client
//!     certificates).
//! - With the `tls` feature (on by default): [`crypto_provider`], the provider the
//!   features chose; [`read_plaintext`], the read half of the rustls pump.
//! - Always: [`load_certs`] and [`load_key`], certificates and keys from PEM files (RFC
//!   7468), used by the server and by both clients.
//! - [`proxy_protocol`]: the sans-io decoder of the PROXY protocol header (v1 and v2) that a
//!   server behind a load balancer reads before the WebSocket handshake, in every runtime
//!   (ws-server-blocking, ws-tokio).
//!
//! It sits between `ws-proto` and the I/O crates so that `ws-server-blocking`,
//! `ws-client` and `ws-tokio` share it without depending on each other (the client's
//! tests already depend on the server; the other way round would be a cycle).
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `client` | on | what the clients share: [`Url`], [`Tunnel`], [`ClientOptions`]; with `tls`, [`ClientTls`] and the web PKI roots |
//! | `tls` | on | rustls: [`crypto_provider`], [`read_plaintext`] |
//! | `ring` | on | rustls' `ring` crypto provider |
//! | `aws-lc-rs` | off | rustls' `aws-lc-rs` provider instead (needs a C compiler; wins over `ring`) |
//! | `native-roots` | off | also trust the operating system's root store (`rustls-native-certs`) |

#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "client")]
mod builder_methods;
#[cfg(feature = "client")]
mod client_options;
#[cfg(all(feature = "client", feature = "tls"))]
mod client_tls;
mod pem;
#[cfg(feature = "tls")]
mod provider;
pub mod proxy_protocol;
#[cfg(feature = "tls")]
mod tls_read;
#[cfg(feature = "client")]
mod tunnel;
#[cfg(feature = "client")]
mod url;

#[cfg(feature = "client")]
pub use client_options::{ClientOptions, DEFAULT_CONNECT_TIMEOUT, Plan, PrepareError};
#[cfg(all(feature = "client", feature = "tls"))]
pub use client_tls::{ClientTls, TlsConfigError};
pub use pem::{PemError, load_certs, load_key};
#[cfg(feature = "tls")]
pub use provider::crypto_provider;
#[cfg(feature = "tls")]
pub use tls_read::{Plaintext, TlsReadError, read_plaintext};
#[cfg(feature = "client")]
pub use tunnel::{Tunnel, TunnelError, authorization};
#[cfg(feature = "client")]
pub use url::{Url, UrlError};

// The crates whose types appear in this API.
#[cfg(feature = "tls")]
pub use rustls;
pub use rustls_pki_types;
pub use ws_proto;

/// What the unit tests share.
#[cfg(test)]
mod test_support {
    use std::path::PathBuf;

    /// `contents` written to `name` in a directory of this test process's own.
    pub(crate) fn temp(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ws-transport-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

/// The README's snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

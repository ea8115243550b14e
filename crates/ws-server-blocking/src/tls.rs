//! TLS configuration for `wss://`, with rustls and the crypto provider the features chose
//! ([`ws_transport::crypto_provider`]: `ring` by default).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use ws_transport::{load_certs, load_key};

use crate::error::Error;

/// A server TLS configuration from a certificate chain and a private key, each in a PEM
/// file (the chain leaf first, as web servers expect).
///
/// ```no_run
/// let tls = ws_server_blocking::tls::config_from_pem("cert.pem", "key.pem")?;
/// ws_server_blocking::Server::builder().listen(8443).tls(tls);
/// # Ok::<(), ws_server_blocking::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Pem`], naming the file, when a file cannot be read or holds no certificate or
/// no key; then as [`config`].
pub fn config_from_pem(
    cert_chain: impl AsRef<Path>,
    private_key: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, Error> {
    let certs = load_certs(cert_chain)?;
    let key = load_key(private_key)?;
    config(certs, key)
}

/// A server TLS configuration from a certificate chain and key already in memory.
///
/// # Errors
///
/// [`Error::Tls`] when no crypto provider is available (see
/// [`ws_transport::crypto_provider`]) or rustls refuses the chain or the key (a key that
/// does not match the leaf certificate, or of a kind it does not support).
pub fn config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, Error> {
    let config = ServerConfig::builder_with_provider(ws_transport::crypto_provider()?)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    Ok(Arc::new(config))
}

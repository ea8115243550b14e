//! The client's TLS settings for `wss://`: rustls with the `ring` provider (as the rest
//! of the workspace), the web PKI roots by default, extra CAs, a client certificate.
//!
//! This mirrors ws-client's `tls.rs` in small (certificates are given as DER; load PEM
//! files with `rustls_pki_types::pem::PemObject`) until both share one transport layer.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::error::Error;

/// Where the client's TLS trust and identity come from.
#[derive(Debug, Default)]
pub(crate) struct TlsSettings {
    /// Leave out the web PKI roots (trust only `ca_certs`).
    pub no_webpki_roots: bool,
    pub ca_certs: Vec<CertificateDer<'static>>,
    pub client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// A complete configuration that replaces everything above.
    pub config: Option<Arc<ClientConfig>>,
}

impl TlsSettings {
    pub(crate) fn build(&self) -> Result<Arc<ClientConfig>, Error> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        if !self.no_webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.ca_certs {
            roots.add(cert.clone())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            Some((chain, key)) => builder.with_client_auth_cert(chain.clone(), key.clone_key())?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

//! TLS for `wss://`: rustls with the `ring` provider, the web PKI roots by default, extra
//! CA certificates for private CAs, and an optional client certificate. SNI and host
//! name verification are always on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use ws_transport::{PemError, load_key};

use crate::error::Error;

/// Where the client's TLS trust and identity come from.
#[derive(Debug, Default)]
pub(crate) struct TlsSettings {
    /// Leave out the web PKI roots (trust only the extra CAs).
    pub no_webpki_roots: bool,
    pub ca_files: Vec<PathBuf>,
    pub ca_certs: Vec<CertificateDer<'static>>,
    pub client_cert_files: Option<(PathBuf, PathBuf)>,
    pub client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// A complete configuration that replaces everything above.
    pub config: Option<Arc<ClientConfig>>,
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    Ok(ws_transport::load_certs(path)?)
}

impl TlsSettings {
    pub(crate) fn build(&self) -> Result<Arc<ClientConfig>, Error> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        if !self.no_webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // Beside the default roots, the PEM file named by SSL_CERT_FILE, as OpenSSL,
            // curl and rustls-native-certs honour it.
            if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
                let path = PathBuf::from(path);
                for cert in load_certs(&path)? {
                    roots.add(cert).map_err(|e| PemError::new(&path, e))?;
                }
            }
        }
        for path in &self.ca_files {
            for cert in load_certs(path)? {
                roots.add(cert).map_err(|e| PemError::new(path, e))?;
            }
        }
        for cert in &self.ca_certs {
            roots.add(cert.clone())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = if let Some((chain, key)) = &self.client_cert {
            builder.with_client_auth_cert(chain.clone(), key.clone_key())?
        } else if let Some((cert_path, key_path)) = &self.client_cert_files {
            let chain = load_certs(cert_path)?;
            let key = load_key(key_path)?;
            builder.with_client_auth_cert(chain, key)?
        } else {
            builder.with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}

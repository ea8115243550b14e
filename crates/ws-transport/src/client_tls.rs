//! The client's TLS configuration for `wss://`, built once for ws-client and ws-tokio:
//! which roots are trusted, extra CAs (PEM files or DER), a client certificate, or a
//! complete rustls configuration. SNI and host name verification are always on.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::pem::{PemError, load_certs, load_key};
use crate::provider::crypto_provider;

/// Why a client TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A certificate or key file (a CA file, `SSL_CERT_FILE`, a client certificate) that
    /// cannot be used: which file, and why.
    #[error(transparent)]
    Pem(#[from] PemError),
    /// rustls refused the configuration (a key that does not match its certificate, no
    /// crypto provider, the system's root store unreadable).
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// Where a client's TLS trust and identity come from.
///
/// Which roots are trusted:
///
/// | source | when |
/// |---|---|
/// | the web PKI roots (Mozilla's list, compiled in from `webpki-roots`) | [`webpki_roots`](Self::webpki_roots) on (the default) |
/// | the operating system's store (`rustls-native-certs`: the Windows and macOS stores, the Linux distribution's bundle) | the `native-roots` feature and [`native_roots`](Self::native_roots) on (the default when the feature is) |
/// | the PEM file named by `SSL_CERT_FILE` | the variable is set and either source above is on |
/// | [`ca_files`](Self::ca_files), [`ca_certs`](Self::ca_certs) | always |
///
/// A [`config`](Self::config) replaces all of it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientTls {
    /// Trust the web PKI roots. Default on.
    pub webpki_roots: bool,
    /// Trust the operating system's root store (with the `native-roots` feature; without
    /// it this field does nothing). Default on.
    pub native_roots: bool,
    /// PEM files of extra CA certificates (private CAs), read when the configuration is
    /// built.
    pub ca_files: Vec<PathBuf>,
    /// Extra CA certificates.
    pub ca_certs: Vec<CertificateDer<'static>>,
    /// A client certificate: the chain (leaf first) and key, as PEM files.
    pub client_cert_files: Option<(PathBuf, PathBuf)>,
    /// A client certificate: the chain (leaf first) and key. Wins over
    /// [`client_cert_files`](Self::client_cert_files).
    pub client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// A complete configuration that replaces everything above.
    pub config: Option<Arc<ClientConfig>>,
}

impl Default for ClientTls {
    fn default() -> ClientTls {
        ClientTls {
            webpki_roots: true,
            native_roots: true,
            ca_files: Vec::new(),
            ca_certs: Vec::new(),
            client_cert_files: None,
            client_cert: None,
            config: None,
        }
    }
}

impl Clone for ClientTls {
    fn clone(&self) -> ClientTls {
        ClientTls {
            webpki_roots: self.webpki_roots,
            native_roots: self.native_roots,
            ca_files: self.ca_files.clone(),
            ca_certs: self.ca_certs.clone(),
            client_cert_files: self.client_cert_files.clone(),
            client_cert: self
                .client_cert
                .as_ref()
                .map(|(chain, key)| (chain.clone(), key.clone_key())),
            config: self.config.clone(),
        }
    }
}

/// Adds every certificate of a PEM file to `roots`.
fn add_pem_file(roots: &mut RootCertStore, path: &std::path::Path) -> Result<(), PemError> {
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|e| PemError::new(path, e))?;
    }
    Ok(())
}

impl ClientTls {
    /// Whether the default roots (web PKI or the system's) are in use.
    fn default_roots(&self) -> bool {
        self.webpki_roots || (cfg!(feature = "native-roots") && self.native_roots)
    }

    /// The rustls configuration these settings describe. Files (CA files,
    /// `SSL_CERT_FILE`, client certificate files) are read now.
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::Pem`] for a file that cannot be read or holds no certificate or
    /// key; [`TlsConfigError::Tls`] when rustls refuses a certificate or key, when no
    /// crypto provider is available (see [`crypto_provider`]), or when the system's store
    /// cannot be read at all.
    pub fn build(&self) -> Result<Arc<ClientConfig>, TlsConfigError> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            add_native_roots(&mut roots)?;
        }
        if self.default_roots() {
            // Beside the default roots, the PEM file named by SSL_CERT_FILE, as OpenSSL,
            // curl and rustls-native-certs honour it.
            if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
                add_pem_file(&mut roots, &PathBuf::from(path))?;
            }
        }
        for path in &self.ca_files {
            add_pem_file(&mut roots, path)?;
        }
        for cert in &self.ca_certs {
            roots.add(cert.clone())?;
        }
        let builder = ClientConfig::builder_with_provider(crypto_provider()?)
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

/// The operating system's roots. Certificates that do not parse are skipped (a system
/// store often holds a few that webpki refuses), said in the log; a store that yields
/// nothing at all, with errors, is an error.
#[cfg(feature = "native-roots")]
fn add_native_roots(roots: &mut RootCertStore) -> Result<(), rustls::Error> {
    let found = rustls_native_certs::load_native_certs();
    for err in &found.errors {
        log::warn!("system root store: {err}");
    }
    if found.certs.is_empty() && !found.errors.is_empty() {
        return Err(rustls::Error::General(format!(
            "cannot load the system's root certificates: {}",
            found.errors[0]
        )));
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    log::debug!("system root store: {added} certificates trusted, {ignored} skipped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp;

    #[test]
    fn the_defaults_build() {
        assert!(ClientTls::default().build().is_ok());
    }

    #[test]
    fn pem_ca_files_and_client_certificates_are_read() {
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = temp("tls-ca.pem", &ca.cert.pem());
        let key = temp("tls-key.pem", &ca.signing_key.serialize_pem());
        let tls = ClientTls {
            webpki_roots: false,
            native_roots: false,
            ca_files: vec![cert.clone()],
            client_cert_files: Some((cert.clone(), key)),
            ..ClientTls::default()
        };
        assert!(tls.build().is_ok());
    }

    #[test]
    fn an_unusable_file_is_named() {
        let empty = temp("empty-ca.pem", "");
        let tls = ClientTls {
            ca_files: vec![empty.clone()],
            ..ClientTls::default()
        };
        match tls.build() {
            Err(TlsConfigError::Pem(err)) => assert_eq!(err.path, empty),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let tls = ClientTls {
            client_cert_files: Some((
                temp("tls-a.pem", &a.cert.pem()),
                temp("tls-b.key", &b.signing_key.serialize_pem()),
            )),
            ..ClientTls::default()
        };
        assert!(matches!(tls.build(), Err(TlsConfigError::Tls(_))));
    }
}

//! Certificates and private keys from PEM files (RFC 7468).

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A PEM file that cannot be used: which file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot load {path}: {reason}")]
pub struct PemError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it: unreadable, not PEM, or no certificate in it.
    pub reason: String,
}

impl PemError {
    /// An error about `path`.
    pub fn new(path: &Path, reason: impl ToString) -> PemError {
        PemError {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Every certificate in a PEM file, in order (a chain: the leaf first, as web servers
/// expect; or a set of trusted roots).
///
/// # Errors
///
/// [`PemError`] if the file cannot be read or parsed, or holds no certificate.
pub fn load_certs(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let path = path.as_ref();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| PemError::new(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PemError::new(path, e))?;
    if certs.is_empty() {
        return Err(PemError::new(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS #8, PKCS #1 or SEC1).
///
/// # Errors
///
/// [`PemError`] if the file cannot be read or holds no key.
pub fn load_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>, PemError> {
    let path = path.as_ref();
    PrivateKeyDer::from_pem_file(path).map_err(|e| PemError::new(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp;

    #[test]
    fn loads_a_generated_certificate_and_key() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert_path = temp("cert.pem", &cert.cert.pem());
        let key_path = temp("key.pem", &cert.signing_key.serialize_pem());
        assert_eq!(load_certs(&cert_path).unwrap().len(), 1);
        assert!(load_key(&key_path).is_ok());
    }

    #[test]
    fn errors_name_the_file_and_the_rule() {
        let empty = temp("empty.pem", "");
        let err = load_certs(&empty).unwrap_err();
        assert_eq!(err.path, empty);
        assert_eq!(err.reason, "no certificate in the file");
        assert!(load_key(&empty).is_err());
        let missing = Path::new("/nonexistent/ws-transport.pem");
        assert_eq!(load_certs(missing).unwrap_err().path, missing);
    }
}

//! `--tls-self-signed`: a development certificate for localhost, made with rcgen.
//!
//! A private CA is made and written beside the server certificate, so that a client
//! trusts the CA (`ws-client --ca-file ca.pem`, or a browser's certificate settings)
//! exactly as it would trust a company CA; trusting a self-signed leaf directly is what
//! rustls refuses with `CaUsedAsEndEntity` when the leaf is also marked as a CA.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The three files written.
pub struct Files {
    /// The CA certificate that clients trust.
    pub ca: PathBuf,
    /// The server certificate (for localhost, 127.0.0.1 and ::1) followed by the CA's.
    pub cert: PathBuf,
    /// The server certificate's private key (PKCS#8), readable by its owner only.
    pub key: PathBuf,
}

/// The directory used when `--tls-self-signed` names none.
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join("ws-server-self-signed")
}

/// Makes a CA and a server certificate for localhost, 127.0.0.1 and ::1 signed by it,
/// and writes them to `dir` (created if needed). Fails with a one-line reason.
pub fn make(dir: &Path) -> Result<Files, String> {
    let err = |what: &str, e: &dyn std::fmt::Display| format!("--tls-self-signed: {what}: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| err("CA", &e))?;
    ca_params.distinguished_name.push(
        DnType::CommonName,
        "ws-server development CA (not for production)",
    );
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(|e| err("CA key", &e))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| err("CA", &e))?;

    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let key = KeyPair::generate().map_err(|e| err("key", &e))?;
    let cert = CertificateParams::new(names)
        .and_then(|params| params.signed_by(&key, &ca))
        .map_err(|e| err("certificate", &e))?;

    std::fs::create_dir_all(dir)
        .map_err(|e| err(&format!("cannot create {}", dir.display()), &e))?;
    let files = Files {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write(&files.ca, &ca.pem(), false)?;
    write(&files.cert, &(cert.pem() + &ca.pem()), false)?;
    write(&files.key, &key.serialize_pem(), true)?;
    Ok(files)
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut file| {
            if private {
                // A file left by an earlier run keeps its mode unless it is set again.
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            file.write_all(text.as_bytes())
        })
        .map_err(|e| format!("--tls-self-signed: cannot write {}: {e}", path.display()))
}

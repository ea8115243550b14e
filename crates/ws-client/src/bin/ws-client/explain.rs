//! Errors in plain words, each with what to do about it, for the ones a newcomer meets
//! with TLS (rustls' own names, such as `UnknownIssuer`, say little to them).

use rustls::{CertificateError, Error as Tls, InconsistentKeys, InvalidMessage};
use ws_client::Error;

/// The line to print for `err`: plain words and the fix where one is known, else the
/// error's own text.
pub fn explain(err: &Error) -> String {
    match err {
        Error::Tls(tls) => match tls_words(tls) {
            Some(words) => format!("TLS: {words}"),
            None => err.to_string(),
        },
        Error::Pem(pem) if pem.reason.contains("no items found") => format!(
            "cannot load {}: no PEM certificate or key in it (expected a -----BEGIN ...----- \
             block; a DER file converts with `openssl x509 -inform der`)",
            pem.path.display()
        ),
        _ => err.to_string(),
    }
}

fn tls_words(tls: &Tls) -> Option<String> {
    let trust = "--ca-file with the certificate of the CA that signed it (for `ws-server \
                 --tls-self-signed`, the ca.pem it printed), or --insecure to test without \
                 checking";
    Some(match tls {
        Tls::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "the server's certificate was not issued by a CA this client trusts; pass {trust}"
        ),
        Tls::InvalidCertificate(CertificateError::Other(other))
            if format!("{other:?}").contains("CaUsedAsEndEntity") =>
        {
            "the server's certificate is a CA certificate (as `openssl req -x509` makes by \
             default), which rustls does not accept as a server's own; give the server a \
             certificate signed by a CA (`ws-server --tls-self-signed` makes one) and pass \
             the CA with --ca-file, or make it with `openssl req -x509 ... -addext \
             basicConstraints=critical,CA:FALSE`"
                .to_owned()
        }
        Tls::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the server's certificate is not for the host name in the URL; connect with a \
              name it was issued for (for `ws-server --tls-self-signed`: localhost, 127.0.0.1 \
              or ::1)"
            .to_owned(),
        Tls::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate has expired or is not valid yet; renew it, or check \
              this machine's clock"
            .to_owned(),
        Tls::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "the server did not answer in TLS: it is probably a plain ws:// server; use ws:// \
             in the URL"
                .to_owned()
        }
        Tls::AlertReceived(rustls::AlertDescription::CertificateRequired) => {
            "the server asks for a client certificate; pass --cert PEM and --key PEM".to_owned()
        }
        Tls::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
            "the --key file does not hold the private key of the --cert certificate".to_owned()
        }
        _ => return None,
    })
}

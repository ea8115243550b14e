//! wss:// with a private CA and certificates made by the test (rcgen): the tokio server
//! behind tokio-rustls, the tokio client, client certificates, failed verification.

mod common;

use std::sync::Arc;

use futures_util::StreamExt;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;
use ws_tokio::{Acceptor, ClientBuilder, DeflateConfig, Error, Message};

/// A private CA and certificates it issued.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Pki {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key"))
                .expect("ca"),
        }
    }

    fn ca_cert(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    fn issue(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &self.ca)
            .expect("sign");
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }

    /// A server configuration for `localhost`; with `client_ca`, client certificates
    /// issued by this CA are required.
    fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let (cert, key) = self.issue(&["localhost"]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_cert()).expect("root");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(
            builder
                .with_single_cert(vec![cert, self.ca_cert()], key)
                .expect("config"),
        )
    }
}

/// A wss:// echo server: TLS by tokio-rustls, then ws-tokio with deflate.
async fn wss_server(config: Arc<rustls::ServerConfig>) -> std::net::SocketAddr {
    let (listener, addr) = common::listener().await;
    let tls = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                let Ok(stream) = tls.accept(tcp).await else {
                    return;
                };
                let acceptor = Acceptor::new().deflate(Some(DeflateConfig::default()));
                if let Ok(ws) = acceptor.accept(stream).await {
                    common::echo(ws).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn wss_echo_with_a_private_ca() {
    let pki = Pki::new();
    let addr = wss_server(pki.server_config(false)).await;
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("wss://localhost:{}/secure", addr.port()))
            .webpki_roots(false)
            .ca_cert(pki.ca_cert())
            .connect(),
    )
    .await
    .expect("connect");
    assert!(matches!(ws.get_ref(), ws_tokio::ClientStream::Tls(_)));
    assert!(ws.is_compressing());
    let big = Message::binary(vec![0x42u8; 3 << 20]);
    common::check_echo(&mut ws, &[Message::text("over TLS"), big]).await;
    common::close(ws).await;
}

#[tokio::test]
async fn client_certificates_are_presented_when_required() {
    let pki = Pki::new();
    let addr = wss_server(pki.server_config(true)).await;
    let url = format!("wss://localhost:{}/", addr.port());
    let (cert, key) = pki.issue(&["client"]);
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&url)
            .ca_cert(pki.ca_cert())
            .client_cert(vec![cert], key)
            .connect(),
    )
    .await
    .expect("connect with a client certificate");
    common::check_echo(&mut ws, &[Message::text("authenticated")]).await;

    // Without one, the server ends the TLS handshake (TLS 1.3 reports it on first read).
    let refused = common::within(
        "connect",
        ClientBuilder::new(&url).ca_cert(pki.ca_cert()).connect(),
    )
    .await;
    match refused {
        Err(_) => {}
        Ok(mut ws) => {
            let next = common::within("first read", ws.next()).await;
            assert!(matches!(next, Some(Err(_)) | None), "{next:?}");
        }
    }
}

#[tokio::test]
async fn certificates_that_do_not_verify_are_tls_errors() {
    let pki = Pki::new();
    let addr = wss_server(pki.server_config(false)).await;
    // Not trusted: only the web PKI roots.
    let untrusted = common::within(
        "connect",
        ws_tokio::connect(&format!("wss://localhost:{}/", addr.port())),
    )
    .await;
    assert!(
        matches!(
            untrusted,
            Err(Error::Tls(rustls::Error::InvalidCertificate(_)))
        ),
        "{untrusted:?}"
    );
    // Trusted, but for another name: host name verification is on.
    let wrong_name = common::within(
        "connect",
        ClientBuilder::new(&format!("wss://127.0.0.1:{}/", addr.port()))
            .ca_cert(pki.ca_cert())
            .connect(),
    )
    .await;
    assert!(
        matches!(
            wrong_name,
            Err(Error::Tls(rustls::Error::InvalidCertificate(_)))
        ),
        "{wrong_name:?}"
    );
}

//! wss:// against ws-server with a CA and certificates made by the test (rcgen).

mod common;

use std::sync::Arc;

use common::{PATIENCE, connect_proxy, echo, serve};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_client::{ClientBuilder, Error, Message};

/// A private CA and certificates it issued.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Pki {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn ca_cert(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A certificate for `names`, and its key.
    fn issue(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.ca)
            .unwrap();
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let (cert, key) = self.issue(&["localhost"]);
        ws_server_blocking::tls::config(vec![cert, self.ca_cert()], key).unwrap()
    }
}

#[test]
fn wss_with_a_private_ca_from_a_file_or_in_memory() {
    let pki = Pki::new();
    let config = pki.server_config();
    let server = serve("127.0.0.1:0", move |b| echo(b).tls(config));
    let url = format!("wss://localhost:{}/secure", server.addr.port());

    let dir = std::env::temp_dir().join(format!("ws-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, pki.ca.pem()).unwrap();
    let mut client = ClientBuilder::new(&url)
        .ca_file(&ca_path)
        .connect()
        .unwrap();
    client.send_text("over TLS").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("over TLS".into()));

    let mut client = ClientBuilder::new(&url)
        .webpki_roots(false)
        .ca_cert(pki.ca_cert())
        .connect()
        .unwrap();
    let big = vec![0x42u8; 3 << 20];
    client.send_binary(&big).unwrap();
    assert_eq!(client.recv().unwrap(), Message::Binary(big));

    let err = ClientBuilder::new(&url)
        .ca_file(dir.join("missing.pem"))
        .connect()
        .unwrap_err();
    assert!(matches!(err, Error::Pem(_)), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn certificates_that_do_not_verify_are_errors_that_say_so() {
    let pki = Pki::new();
    let config = pki.server_config();
    let server = serve("127.0.0.1:0", move |b| echo(b).tls(config));

    // Not trusted: only the web PKI roots.
    let err = ws_client::connect(&format!("wss://localhost:{}/", server.addr.port())).unwrap_err();
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );

    // Trusted, but for another name: host name verification is on.
    let err = ClientBuilder::new(&format!("wss://127.0.0.1:{}/", server.addr.port()))
        .ca_cert(pki.ca_cert())
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(rustls::Error::InvalidCertificate(_))),
        "{err}"
    );
}

#[test]
fn wss_through_a_proxy() {
    let pki = Pki::new();
    let config = pki.server_config();
    let server = serve("127.0.0.1:0", move |b| echo(b).tls(config));
    let (proxy, seen) = connect_proxy(Some("u:p"));
    let mut client = ClientBuilder::new(&format!("wss://localhost:{}/", server.addr.port()))
        .ca_cert(pki.ca_cert())
        .proxy(&format!("http://u:p@{proxy}"))
        .connect()
        .unwrap();
    client.send_text("tls in a tunnel").unwrap();
    assert_eq!(
        client.recv().unwrap(),
        Message::Text("tls in a tunnel".into())
    );
    let request = seen.recv_timeout(PATIENCE).unwrap();
    assert!(request.starts_with(&format!(
        "CONNECT localhost:{} HTTP/1.1\r\n",
        server.addr.port()
    )));
}

#[test]
fn a_client_certificate_for_a_server_that_requires_one() {
    let pki = Pki::new();
    let (server_cert, server_key) = pki.issue(&["localhost"]);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_cert()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server_cert], server_key)
            .unwrap(),
    );
    let server = serve("127.0.0.1:0", move |b| echo(b).tls(config));
    let url = format!("wss://localhost:{}/", server.addr.port());

    let (client_cert, client_key) = pki.issue(&["client"]);
    let mut client = ClientBuilder::new(&url)
        .ca_cert(pki.ca_cert())
        .client_cert(vec![client_cert], client_key)
        .connect()
        .unwrap();
    client.send_text("identified").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("identified".into()));

    // Without a certificate the server refuses (an alert, or the connection ends).
    let refused = ClientBuilder::new(&url).ca_cert(pki.ca_cert()).connect();
    assert!(refused.is_err());
}

#[test]
fn two_writers_and_a_reader_share_one_tls_connection() {
    // TLS records must leave in the order they were encrypted: two writer threads and the
    // reader's pongs (the server pings every 50 ms) all go through one connection.
    let pki = Pki::new();
    let config = pki.server_config();
    let server = serve("127.0.0.1:0", move |b| {
        echo(b)
            .tls(config)
            .silence_max(std::time::Duration::from_millis(100))
    });
    let client = ClientBuilder::new(&format!("wss://localhost:{}/", server.addr.port()))
        .ca_cert(pki.ca_cert())
        .connect()
        .unwrap();
    let (mut reader, writer) = client.split();
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                for i in 0..1000 {
                    writer.send_text(&format!("{name}{i}")).unwrap();
                    if i % 250 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(60));
                    }
                }
            })
        })
        .collect();
    let (mut next_a, mut next_b) = (0, 0);
    while next_a + next_b < 2000 {
        match reader.recv().unwrap() {
            Message::Text(t) if t.starts_with('a') => {
                assert_eq!(t, format!("a{next_a}"));
                next_a += 1;
            }
            Message::Text(t) => {
                assert_eq!(t, format!("b{next_b}"));
                next_b += 1;
            }
            Message::Ping(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    for w in writers {
        w.join().unwrap();
    }
}

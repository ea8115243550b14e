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

/// The server's stream offers a read no room when it only waits for the next bytes;
/// tokio-rustls waits on such a read (its `poll_fill_buf` registers the wakeup) as
/// tokio's `TcpStream` does, so a TLS connection keeps making them, and loses nothing.
#[tokio::test]
async fn a_tls_stream_waits_on_reads_without_room_and_loses_nothing() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pki = Pki::new();
    let (listener, addr) = common::listener().await;
    let tls = TlsAcceptor::from(pki.server_config(false));
    let no_room = Arc::new(AtomicUsize::new(0));
    let counter = no_room.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let stream = tls.accept(tcp).await.expect("TLS handshake");
        let io = common::NoRoomCounter {
            inner: stream,
            at_once: false,
            no_room: counter,
        };
        let ws = Acceptor::new().accept(io).await.expect("handshake");
        common::echo(ws).await;
    });
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("wss://localhost:{}/", addr.port()))
            .webpki_roots(false)
            .ca_cert(pki.ca_cert())
            .connect(),
    )
    .await
    .expect("connect");
    for i in 0..50 {
        common::check_echo(&mut ws, &[Message::text(format!("message {i}"))]).await;
    }
    common::close(ws).await;
    common::within("server ends", server)
        .await
        .expect("server task");
    let waits = no_room.load(Ordering::Relaxed);
    assert!(
        waits >= 50,
        "each message's waiting read was offered no room: {waits} such reads over 50 messages"
    );
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

/// `der` as a PEM block (RFC 7468), as `openssl` writes files.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A file in a directory of this test process's own.
fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ws-tokio-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    path
}

#[tokio::test]
async fn pem_files_give_the_private_ca_and_the_client_certificate() {
    let pki = Pki::new();
    let addr = wss_server(pki.server_config(true)).await;
    let (cert, key) = pki.issue(&["client"]);
    let ca_file = temp_file("ca.pem", &pem("CERTIFICATE", &pki.ca_cert()));
    let cert_file = temp_file("client.pem", &pem("CERTIFICATE", &cert));
    let key_file = temp_file("client.key", &pem("PRIVATE KEY", key.secret_der()));
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("wss://localhost:{}/", addr.port()))
            .webpki_roots(false)
            .ca_file(&ca_file)
            .client_cert_files(&cert_file, &key_file)
            .connect(),
    )
    .await
    .expect("connect with PEM files");
    common::check_echo(&mut ws, &[Message::text("from PEM files")]).await;
    common::close(ws).await;
}

#[tokio::test]
async fn an_unusable_pem_file_is_named_before_connecting() {
    let empty = temp_file("empty.pem", "");
    // Nothing listens there: the error must come before any connection attempt.
    let outcome = common::within(
        "connect",
        ClientBuilder::new("wss://localhost:9/")
            .ca_file(&empty)
            .connect(),
    )
    .await;
    match outcome {
        Err(Error::Pem(err)) => assert_eq!(err.path, empty),
        other => panic!("{other:?}"),
    }
}

/// Set by [`ssl_cert_file_is_trusted_beside_the_web_roots`] for the copy of this test
/// binary it runs: the URL of its server.
const CHILD_URL: &str = "WS_TOKIO_TEST_SSL_CERT_FILE_URL";

// The environment is the process's: the test runs a copy of this binary with
// SSL_CERT_FILE set rather than change its own (which would race the other tests).
#[tokio::test]
async fn ssl_cert_file_is_trusted_beside_the_web_roots() {
    let pki = Pki::new();
    let addr = wss_server(pki.server_config(false)).await;
    let ca_file = temp_file("ssl-cert-file.pem", &pem("CERTIFICATE", &pki.ca_cert()));
    let run = |ssl_cert_file: Option<&std::path::Path>| {
        let mut child = tokio::process::Command::new(std::env::current_exe().expect("exe"));
        child
            .args([
                "--ignored",
                "--exact",
                "child_connects_with_the_default_roots",
            ])
            .env(CHILD_URL, format!("wss://localhost:{}/", addr.port()))
            .env_remove("SSL_CERT_FILE");
        if let Some(path) = ssl_cert_file {
            child.env("SSL_CERT_FILE", path);
        }
        async move { child.output().await.expect("run the test binary") }
    };
    let trusted = common::within("child with SSL_CERT_FILE", run(Some(&ca_file))).await;
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stdout)
    );
    let untrusted = common::within("child without SSL_CERT_FILE", run(None)).await;
    let output = String::from_utf8_lossy(&untrusted.stdout);
    assert!(
        !untrusted.status.success() && output.contains("InvalidCertificate"),
        "the CA is trusted without SSL_CERT_FILE: {output}"
    );
}

#[tokio::test]
#[ignore = "run by ssl_cert_file_is_trusted_beside_the_web_roots, with SSL_CERT_FILE set"]
async fn child_connects_with_the_default_roots() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return; // run directly (--ignored): there is no server to connect to
    };
    let mut ws = common::within("connect", ClientBuilder::new(&url).connect())
        .await
        .expect("connect trusting SSL_CERT_FILE");
    common::check_echo(&mut ws, &[Message::text("trusted by SSL_CERT_FILE")]).await;
    common::close(ws).await;
}

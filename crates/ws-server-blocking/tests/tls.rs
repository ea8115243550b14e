//! wss:// with certificates made by the test (rcgen) and a real rustls client.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Client, PATIENCE, echo, handshake, serve, tcp};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ws_proto::handshake::ClientRequest;
use ws_server_blocking::{Error, tls};

struct TestCa {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn certificate() -> TestCa {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    TestCa {
        cert: made.cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()).into(),
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
    }
}

/// A wss client that sends `header` (a PROXY protocol v1 line) on the TCP connection
/// before its TLS handshake, then completes the WebSocket handshake.
fn wss_after_proxy_header(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    header: &str,
) -> Client<StreamOwned<ClientConnection, TcpStream>> {
    let mut raw = tcp(addr);
    raw.write_all(header.as_bytes()).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = ClientConnection::new(client_config(ca), name).unwrap();
    handshake(
        StreamOwned::new(tls, raw),
        ClientRequest::new("localhost", "/")
            .port(addr.port())
            .secure(true),
    )
    .expect("wss handshake after the PROXY header")
}

fn client_config(ca: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn connect_tls(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
) -> Client<StreamOwned<ClientConnection, TcpStream>> {
    let name = ServerName::try_from("localhost").unwrap();
    let tls = ClientConnection::new(client_config(ca), name).unwrap();
    let stream = StreamOwned::new(tls, tcp(addr));
    handshake(
        stream,
        ClientRequest::new("localhost", "/")
            .port(addr.port())
            .secure(true),
    )
    .expect("wss handshake")
}

#[test]
fn echo_over_tls() {
    let ca = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let server = serve(move |b| echo(b).tls(config));
    let mut client = connect_tls(server.addr, &ca.cert);
    client.send_text("secret");
    assert_eq!(client.expect_text(), "secret");
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| i as u8).collect();
    client.send_binary(&big);
    assert_eq!(client.expect_binary(), big);
    client.close(1000, "done");
    assert_eq!(client.expect_close().0, 1000);
}

#[test]
fn tls_from_pem_files() {
    let ca = certificate();
    let dir = std::env::temp_dir().join(format!("ws-server-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &ca.cert_pem).unwrap();
    std::fs::write(&key_path, &ca.key_pem).unwrap();
    let config = tls::config_from_pem(&cert_path, &key_path).unwrap();
    let server = serve(move |b| echo(b).tls(config));
    let mut client = connect_tls(server.addr, &ca.cert);
    client.send_text("from pem");
    assert_eq!(client.expect_text(), "from pem");

    // Missing and malformed files are clear errors.
    assert!(matches!(
        tls::config_from_pem(dir.join("none.pem"), &key_path),
        Err(Error::Pem(_))
    ));
    assert!(matches!(
        tls::config_from_pem(&key_path, &key_path),
        Err(Error::Pem(_))
    ));
    assert!(matches!(
        tls::config_from_pem(&cert_path, &cert_path),
        Err(Error::Pem(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stalled_tls_handshake_does_not_block_other_clients() {
    let ca = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let server = serve(move |b| {
        echo(b)
            .tls(config)
            .handshake_timeout(Duration::from_millis(500))
    });
    // A client that sends the start of a TLS record and then nothing.
    let mut stalled = tcp(server.addr);
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02]).unwrap();
    let started = Instant::now();
    // Others are served meanwhile.
    for _ in 0..3 {
        let mut client = connect_tls(server.addr, &ca.cert);
        client.send_text("not blocked");
        assert_eq!(client.expect_text(), "not blocked");
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "served while the stalled client waited"
    );
    // The stalled client is dropped at the handshake timeout.
    let mut rest = Vec::new();
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = stalled.read_to_end(&mut rest);
    assert!(started.elapsed() >= Duration::from_millis(450));
}

#[test]
fn a_client_that_does_not_trust_the_certificate_fails_cleanly() {
    let ca = certificate();
    let other = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let server = serve(move |b| echo(b).tls(config));
    let name = ServerName::try_from("localhost").unwrap();
    let tls = ClientConnection::new(client_config(&other.cert), name).unwrap();
    let mut stream = StreamOwned::new(tls, tcp(server.addr));
    let err = stream
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .and_then(|_| stream.flush());
    let err = match err {
        Err(err) => err,
        Ok(()) => stream.read(&mut [0u8; 16]).unwrap_err(),
    };
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );
    // The server is still fine.
    let mut client = connect_tls(server.addr, &ca.cert);
    client.send_text("ok");
    assert_eq!(client.expect_text(), "ok");
}

/// Behind a load balancer in TCP mode (TLS passthrough), the PROXY header comes before
/// the TLS ClientHello: it is read from the socket first, and TLS starts after it.
#[test]
fn proxy_protocol_header_before_tls() {
    let ca = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let server = serve(move |b| {
        b.tls(config).proxy_protocol(true).on_connect(|_, conn| {
            conn.on_ready(|conn| conn.send_utf8(&conn.peer_addr().to_string()));
        })
    });
    let mut client = wss_after_proxy_header(
        server.addr,
        &ca.cert,
        "PROXY TCP4 198.51.100.4 127.0.0.1 42000 443\r\n",
    );
    assert_eq!(client.expect_text(), "198.51.100.4:42000");
}

// A large echo over TLS is written from the payload's storage into TLS records; with a
// small socket send buffer the writes stop part-way inside the text before it, the
// payload and the text after it, and resume in order.
#[test]
fn large_echoes_over_tls_resume_partial_writes_in_order() {
    let ca = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let prefix = "p".repeat(150_000);
    let server = serve({
        let prefix = prefix.clone();
        move |b| {
            b.tls(config).on_connect(move |_, conn| {
                conn.on_ready(|conn| {
                    socket2::SockRef::from(&*conn.socket()).set_send_buffer_size(32 * 1024)
                });
                let prefix = prefix.clone();
                conn.on_binary(move |conn, msg| {
                    conn.send_utf8(&prefix)?;
                    conn.send_binary(msg)?;
                    conn.send_binary(msg)?;
                    conn.send_utf8("behind")
                });
            })
        }
    });
    let mut client = connect_tls(server.addr, &ca.cert);
    for (i, size) in [64 * 1024, 64 * 1024 + 1, 1 << 20, 3 << 20, 100_000]
        .into_iter()
        .enumerate()
    {
        let data: Vec<u8> = (0..size).map(|j| (j * 7 + i) as u8).collect();
        client.send_binary(&data);
        assert!(client.expect_text() == prefix, "{size}: before");
        assert!(client.expect_binary() == data, "{size}: from its storage");
        assert!(client.expect_binary() == data, "{size}: copied");
        assert_eq!(client.expect_text(), "behind", "{size}: after");
    }
    client.close(1000, "done");
    assert_eq!(client.expect_close().0, 1000);
}

// With four workers, connections are handed from the worker that accepted them to the
// least-loaded one before anything is read: the PROXY header and the TLS handshake then
// run on the worker that serves it, and each connection still reports its own client.
#[test]
fn handed_off_connections_read_their_proxy_header_and_tls() {
    let ca = certificate();
    let config = tls::config(vec![ca.cert.clone()], ca.key.clone_key()).unwrap();
    let server = serve(move |b| {
        b.tls(config)
            .proxy_protocol(true)
            .workers(4)
            .worker_setup(|worker| {
                worker.on_ready(|conn| {
                    conn.send_utf8(&format!("{} {}", conn.peer_addr(), conn.server().worker()))
                });
            })
    });
    let mut clients = Vec::new();
    let mut on = Vec::new();
    for i in 0..8u16 {
        let header = format!("PROXY TCP4 198.51.100.{i} 127.0.0.1 4200{i} 443\r\n");
        let mut client = wss_after_proxy_header(server.addr, &ca.cert, &header);
        let report = client.expect_text();
        let (peer, worker) = report.split_once(' ').unwrap();
        assert_eq!(peer, format!("198.51.100.{i}:4200{i}"));
        on.push(worker.parse::<usize>().unwrap());
        clients.push(client);
    }
    for worker in 0..4 {
        assert_eq!(on.iter().filter(|&&w| w == worker).count(), 2, "{on:?}");
    }
    assert_eq!(server.handle.connections_per_worker(), [2, 2, 2, 2]);
}

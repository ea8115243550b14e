//! The PROXY protocol header before the handshake (HAProxy's proxy-protocol.txt), on a
//! server with `Builder::proxy_protocol(true)`: `ip()`/`port()` report the client's
//! address, and a connection without a valid header is closed without an answer. Real
//! sockets on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ServerProcess, handshake, serve, tcp, upgrade_request};
use ws_proto::handshake::ClientRequest;
use ws_server_blocking::{Builder, HttpResponse};

/// Each connection is told, once ready, `ip port` as `Connection::ip`/`port` give them
/// and the `peer_addr` its `on_connect` saw; `connects` counts `on_connect` calls.
fn reporting(connects: Arc<AtomicUsize>) -> impl FnOnce(Builder) -> Builder + Send + 'static {
    move |builder| {
        builder
            .proxy_protocol(true)
            .handshake_timeout(Duration::from_millis(500))
            .http_hook(|_, request| {
                (request.path() == "/healthz" && !request.is_upgrade())
                    .then(|| HttpResponse::new(200).body("ok\n"))
            })
            .on_connect(move |_, conn| {
                connects.fetch_add(1, Ordering::SeqCst);
                let at_connect = conn.peer_addr();
                conn.on_ready(move |conn| {
                    conn.send_utf8(&format!("{} {} {at_connect}", conn.ip(), conn.port()))
                });
            })
    }
}

/// Writes `header`, upgrades, and returns the server's report.
fn report_after(addr: SocketAddr, header: &[u8]) -> (String, SocketAddr) {
    let mut stream = tcp(addr);
    let local = stream.local_addr().unwrap();
    stream.write_all(header).unwrap();
    let mut client = handshake(
        stream,
        ClientRequest::new("127.0.0.1", "/").port(addr.port()),
    )
    .expect("upgrade after the header");
    (client.expect_text(), local)
}

/// What a connection receives until the server closes it; a reset counts as closed.
fn until_closed(mut stream: TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    all
}

fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.extend_from_slice(&[ver_cmd, fam]);
    h.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    h.extend_from_slice(body);
    h
}

mod section_2_1_version_1 {
    use super::*;

    #[test]
    fn tcp4_is_the_clients_address_in_every_callback() {
        let server = serve(reporting(Arc::default()));
        let (report, _) =
            report_after(server.addr, b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 443\r\n");
        assert_eq!(report, "192.0.2.7 56324 192.0.2.7:56324");
    }

    #[test]
    fn tcp6() {
        let server = serve(reporting(Arc::default()));
        let (report, _) = report_after(server.addr, b"PROXY TCP6 2001:db8::7 ::1 40000 443\r\n");
        assert_eq!(report, "2001:db8::7 40000 [2001:db8::7]:40000");
    }

    #[test]
    fn unknown_is_the_sockets_peer() {
        let server = serve(reporting(Arc::default()));
        let (report, local) = report_after(server.addr, b"PROXY UNKNOWN\r\n");
        assert_eq!(report, format!("{} {} {local}", local.ip(), local.port()));
    }

    #[test]
    fn header_and_request_in_one_write() {
        let server = serve(reporting(Arc::default()));
        let mut stream = tcp(server.addr);
        let mut bytes = b"PROXY TCP4 192.0.2.9 127.0.0.1 1234 443\r\n".to_vec();
        bytes.extend_from_slice(upgrade_request());
        stream.write_all(&bytes).unwrap();
        let mut answer = vec![0; 12];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 101");
    }
}

mod section_2_2_version_2 {
    use super::*;

    #[test]
    fn proxy_ipv6_with_tlvs() {
        let server = serve(reporting(Arc::default()));
        let mut body = "2001:db8::9"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .to_vec();
        body.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        body.extend_from_slice(&50000u16.to_be_bytes());
        body.extend_from_slice(&443u16.to_be_bytes());
        body.extend_from_slice(b"\x01\x00\x08http/1.1\x05\x00\x02id");
        let (report, _) = report_after(server.addr, &v2(0x21, 0x21, &body));
        assert_eq!(report, "2001:db8::9 50000 [2001:db8::9]:50000");
    }

    #[test]
    fn local_is_the_sockets_peer_and_health_checks_pass() {
        let server = serve(reporting(Arc::default()));
        let (report, local) = report_after(server.addr, &v2(0x20, 0x00, &[]));
        assert_eq!(report, format!("{} {} {local}", local.ip(), local.port()));
        // HAProxy's health check with send-proxy-v2: a LOCAL header, then GET /healthz.
        let mut stream = tcp(server.addr);
        let mut bytes = v2(0x20, 0x00, &[]);
        bytes.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(&bytes).unwrap();
        let answer = String::from_utf8(until_closed(stream)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    }
}

mod refused {
    use super::*;

    /// Sends `bytes` (then closes our side if `close`), expects the server to close the
    /// connection without a byte of answer, and `on_connect` never to run for it.
    fn closed_unanswered(bytes: &[u8], close: bool) {
        let connects = Arc::new(AtomicUsize::new(0));
        let server = serve(reporting(connects.clone()));
        let mut stream = tcp(server.addr);
        stream.write_all(bytes).unwrap();
        if close {
            stream.shutdown(std::net::Shutdown::Write).unwrap();
        }
        assert!(until_closed(stream).is_empty(), "no answer to {bytes:?}");
        // The server goes on serving, and only the valid connection reached on_connect.
        let (report, _) = report_after(server.addr, b"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n");
        assert_eq!(report, "192.0.2.1 1 192.0.2.1:1");
        assert_eq!(connects.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn missing_header_a_plain_upgrade_request() {
        closed_unanswered(upgrade_request(), false);
    }

    #[test]
    fn garbage() {
        closed_unanswered(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", false);
        closed_unanswered(
            b"PROXY TCP4 192.0.2.256 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n",
            false,
        );
        closed_unanswered(&v2(0x31, 0x11, &[0; 12]), false);
    }

    #[test]
    fn truncated_then_closed() {
        closed_unanswered(b"PROXY TCP4 192.0.2.7 127.0", true);
        closed_unanswered(&v2(0x21, 0x11, &[0; 12])[..20], true);
    }

    #[test]
    fn truncated_then_silent_until_the_handshake_timeout() {
        closed_unanswered(b"PROXY TCP4 192.0.2.7 127.0", false);
        closed_unanswered(&v2(0x21, 0x11, &[0; 12])[..20], false);
    }

    #[test]
    fn oversize_v2() {
        // Announces 16 + 4000 bytes, over the default cap of 2048.
        closed_unanswered(b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x0f\xa0", false);
    }
}

#[test]
fn off_by_default_a_header_is_a_bad_request() {
    let server = serve(common::echo);
    let mut stream = tcp(server.addr);
    stream
        .write_all(b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 443\r\n")
        .unwrap();
    stream.write_all(upgrade_request()).unwrap();
    let answer = String::from_utf8_lossy(&until_closed(stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[test]
fn ws_server_proxy_protocol_flag() {
    let server = ServerProcess::start(&["--proxy-protocol"]);
    let mut stream = tcp(server.addr);
    stream
        .write_all(b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 443\r\n")
        .unwrap();
    let mut client = handshake(
        stream,
        ClientRequest::new("127.0.0.1", "/").port(server.addr.port()),
    )
    .expect("upgrade after the header");
    client.send_text("echo");
    assert_eq!(client.expect_text(), "echo");
    let mut stream = tcp(server.addr);
    stream.write_all(upgrade_request()).unwrap();
    assert!(
        until_closed(stream).is_empty(),
        "a connection without the header is closed"
    );
}

#[test]
fn every_worker_reads_the_header() {
    let server = serve(|builder| {
        builder
            .proxy_protocol(true)
            .workers(2)
            .worker_setup(|worker| {
                worker.on_connect(|_, conn| {
                    conn.on_ready(|conn| conn.send_utf8(&format!("{} {}", conn.ip(), conn.port())));
                });
            })
    });
    // The kernel spreads the connections over the two listeners (SO_REUSEPORT); each,
    // on whichever worker accepted it, reports its own client.
    for port in 1..=16u16 {
        let header = format!("PROXY TCP4 192.0.2.{port} 127.0.0.1 {port} 443\r\n");
        let (report, _) = report_after(server.addr, header.as_bytes());
        assert_eq!(report, format!("192.0.2.{port} {port}"));
    }
}

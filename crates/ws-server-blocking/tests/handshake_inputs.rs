//! Upgrade requests as real clients and proxies write them, over real sockets on
//! 127.0.0.1: an absolute-form target (RFC 9112 3.2.2) and bare LF line ends (RFC 9112
//! 2.2), each answered at once.

mod common;

use std::io::{Read, Write};
use std::sync::mpsc;

use common::{PATIENCE, serve, tcp};

/// The request of issue 11, as a client talking through a proxy sends it.
const THROUGH_PROXY: &str = "GET ws://example.com/chat?room=1 HTTP/1.1\r\n\
    Host: proxy.internal:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server that accepts `/chat` only (as the Perl synopsis' users route on the path),
/// reports what its handshake callback saw, and echoes text.
fn chat_only(tx: mpsc::Sender<(String, Option<String>, String)>) -> common::Running {
    serve(move |b| {
        b.on_connect(move |_, conn| {
            let tx = tx.clone();
            conn.on_handshake(move |_, hs| {
                let req = hs.request();
                let _ = tx.send((
                    req.path().to_owned(),
                    req.query().map(str::to_owned),
                    req.host().to_owned(),
                ));
                if req.path() != "/chat" {
                    hs.refuse(404);
                }
            });
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
    })
}

/// Sends `request`, reads the answer's head (the server writes CRLF) and returns it.
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (std::net::TcpStream, String) {
    let mut stream = tcp(addr); // reads fail after PATIENCE, so a silent server fails the test
    stream.write_all(request).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "no answer ({other:?}) after {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    (stream, String::from_utf8(head).unwrap())
}

#[test]
fn an_absolute_form_request_is_routed_on_its_path() {
    let (tx, rx) = mpsc::channel();
    let server = chat_only(tx);
    let (mut stream, head) = exchange(server.addr, THROUGH_PROXY.as_bytes());
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        ("/chat".into(), Some("room=1".into()), "example.com".into())
    );
    // The connection works: a masked "hi" (mask 0) comes back.
    stream
        .write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i'])
        .unwrap();
    let mut echo = [0u8; 4];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0x81, 0x02, b'h', b'i']);

    // Another path in absolute form is refused by the application, not by the parser.
    let other = THROUGH_PROXY.replace("/chat?room=1", "/other");
    let (_, head) = exchange(server.addr, other.as_bytes());
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, "/other");
}

#[test]
fn authority_and_asterisk_targets_get_400_naming_the_rule() {
    let (tx, rx) = mpsc::channel();
    let server = chat_only(tx);
    for (target, rule) in [("example.com:443", "3.2.3"), ("*", "3.2.4")] {
        let request = THROUGH_PROXY.replace("ws://example.com/chat?room=1", target);
        let mut stream = tcp(server.addr);
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains(&format!("RFC 9112 {rule}")), "{answer}");
    }
    assert!(rx.try_recv().is_err(), "the callback never saw them");
}

#[test]
fn a_request_with_bare_lf_line_ends_is_answered_at_once() {
    // RFC 9112 2.2 lets a recipient take a bare LF for a line end; httparse does, and the
    // server used to wait for a CRLF CRLF that never came, until its handshake timeout.
    let (tx, rx) = mpsc::channel();
    let server = chat_only(tx);
    let request = THROUGH_PROXY.replace("\r\n", "\n");
    // With a frame in the same segment, as a client may send it.
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, b'l', b'f']);
    let (mut stream, head) = exchange(server.addr, &bytes);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, "/chat");
    let mut echo = [0u8; 4];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0x81, 0x02, b'l', b'f']);
}

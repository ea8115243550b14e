//! Answers written with bare LF line ends (RFC 9112 2.2: "a recipient MAY recognize a
//! single LF as a line terminator"), from a raw server and a raw HTTP proxy on
//! 127.0.0.1: the client reads them as soon as they arrive, as httparse does, instead
//! of waiting for a CRLF CRLF that never comes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use ws_client::{ClientBuilder, Message};

/// How long any wait in these tests may take; the client's handshake reads fail then.
const PATIENCE: Duration = Duration::from_secs(10);

/// Reads a head the client wrote (it writes CRLF).
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "client hung up");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// Answers the upgrade request on `stream` with a bare-LF 101 and, in the same write, a
/// text frame; then holds the connection open until the client closes it, so that only
/// a client that found the end of the head gets anywhere.
fn answer_101_with_bare_lf(mut stream: TcpStream) {
    let request = read_head(&mut stream);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .trim();
    let accept = ws_proto::handshake::accept_key(key.as_bytes());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\
         Sec-WebSocket-Accept: {accept}\n\n"
    );
    let mut bytes = answer.into_bytes();
    bytes.extend_from_slice(b"\x81\x05hello");
    stream.write_all(&bytes).unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

#[test]
fn a_101_with_bare_lf_is_read_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || answer_101_with_bare_lf(listener.accept().unwrap().0));
    let mut client = ClientBuilder::new(&format!("ws://{addr}/"))
        .connect_timeout(Some(PATIENCE))
        .read_timeout(Some(PATIENCE))
        .connect()
        .expect("the handshake completes (not a timeout)");
    assert_eq!(client.recv().unwrap(), Message::Text("hello".into()));
    drop(client);
    server.join().unwrap();
}

#[test]
fn a_proxy_answer_and_a_101_with_bare_lf_are_read_at_once() {
    // One raw peer plays the proxy (its CONNECT answer in bare LF) and then the server
    // at the end of the tunnel.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let proxy = thread::spawn(move || {
        let mut stream = listener.accept().unwrap().0;
        let connect = read_head(&mut stream);
        assert!(connect.starts_with("CONNECT "), "{connect}");
        stream
            .write_all(b"HTTP/1.1 200 Connection established\nProxy-Agent: raw\n\n")
            .unwrap();
        answer_101_with_bare_lf(stream);
    });
    let mut client = ClientBuilder::new("ws://backend.invalid/")
        .proxy(&format!("http://{addr}"))
        .connect_timeout(Some(PATIENCE))
        .read_timeout(Some(PATIENCE))
        .connect()
        .expect("the tunnel and the handshake complete (not a timeout)");
    assert_eq!(client.recv().unwrap(), Message::Text("hello".into()));
    drop(client);
    proxy.join().unwrap();
}

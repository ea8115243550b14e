//! The Perl module's own test script (t/01-server.t of Net-WebSocket-Server), ported:
//! the scenario of `shared/server-acceptance.md`, over a real socket, with two real pipes
//! watched by the server.
//!
//! Two corrections to the Perl script, both required by RFC 6455: the client masks its
//! frames (5.1), and pongs carry at most 125 bytes (5.5), so the 32 KiB and 256-byte
//! payloads are sent as text and binary messages but not as pongs.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Client, PATIENCE, serve, tcp};
use ws_proto::{Config, RecvBuffer, Role, Session};

const ORIGIN: &str = "http://localhost";
const SUBPROTOCOL: &str = "test subprotocol";
const FILL: u8 = b'x';

fn payloads() -> Vec<String> {
    vec![
        "simple".to_owned(),
        String::new(),
        "a".repeat(32768),
        "unicode \u{2603} snowman".to_owned(),
        "\u{3072}\u{3089}\u{304c}\u{306a}\0\u{1}\u{6}\n\u{1b}\u{7f}end".to_owned(),
    ]
}

#[test]
fn perl_t_01_server() {
    let (read_pipe_in, read_pipe_out) = mio::unix::pipe::new().unwrap();
    let (mut write_pipe_in, mut write_pipe_out) = mio::unix::pipe::new().unwrap();
    // Fill the write pipe so that it is not writable when the server starts watching it.
    let mut filled = 0usize;
    loop {
        match write_pipe_in.write(&[FILL; 4096]) {
            Ok(n) => filled += n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            Err(err) => panic!("{err}"),
        }
    }
    assert!(filled > 0);

    let (disconnected_tx, disconnected) = mpsc::channel();
    let server = serve(move |builder| {
        let mut read_pipe_out = read_pipe_out;
        let read_fd = read_pipe_out.as_raw_fd();
        let write_fd = write_pipe_in.as_raw_fd();
        builder
            .watch_readable(read_fd, move |server, fd| {
                let mut byte = [0u8; 1];
                let n = read_pipe_out.read(&mut byte)?;
                let mut message = format!("read_test_out({n}) = ").into_bytes();
                message.extend_from_slice(&byte[..n]);
                server.broadcast_binary(&message);
                server.unwatch_readable(fd);
                Ok::<(), std::io::Error>(())
            })
            .watch_writable(write_fd, move |server, fd| {
                write_pipe_in.write_all(b"W")?;
                server.unwatch_writable(fd);
                Ok::<(), std::io::Error>(())
            })
            .on_connect(move |_server, conn| {
                conn.on_handshake(|_conn, hs| {
                    let request = hs.request();
                    assert_eq!(request.origin(), Some(ORIGIN), "origin");
                    assert_eq!(request.protocols(), [SUBPROTOCOL], "subprotocol");
                    hs.select_protocol(SUBPROTOCOL);
                });
                conn.on_ready(|conn| conn.send_binary(b"ready"));
                conn.on_utf8(|conn, msg| {
                    conn.send_utf8(&format!("utf8({}) = {msg}", msg.chars().count()))
                });
                conn.on_binary(|conn, msg| {
                    let mut answer = format!("binary({}) = ", msg.len()).into_bytes();
                    answer.extend_from_slice(msg);
                    conn.send_binary(&answer)
                });
                conn.on_pong(|conn, payload| {
                    let mut answer = format!("pong({}) = ", payload.len()).into_bytes();
                    answer.extend_from_slice(payload);
                    conn.send_binary(&answer)
                });
                let disconnected_tx = disconnected_tx.clone();
                conn.on_disconnect(move |conn, code, reason| {
                    disconnected_tx.send((code, reason.to_owned())).unwrap();
                    conn.server().shutdown();
                });
            })
    });

    // 1. Handshake for ws://localhost/testserver with origin and subprotocol, written by
    //    hand: "test subprotocol" is not a token, which ws-proto's client refuses to send.
    let mut stream = tcp(server.addr);
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    write!(
        stream,
        "GET /testserver HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n\
         Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "closed during the handshake"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains(&format!(
        "Sec-WebSocket-Accept: {}\r\n",
        ws_proto::handshake::accept_key(key.as_bytes())
    )));
    assert!(head.contains(&format!("Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n")));
    let mut client = Client {
        stream,
        input: RecvBuffer::new(),
        session: Session::new(Role::Client, Config::default(), None),
        response: dummy_response(),
    };

    // 2. The first message is the binary "ready".
    assert_eq!(client.expect_binary(), b"ready");

    // 3. Text echoes with lengths in characters.
    for text in payloads() {
        client.send_text(&text);
        assert_eq!(
            client.expect_text(),
            format!("utf8({}) = {text}", text.chars().count())
        );
    }

    // 4. Binary echoes with lengths in bytes, plus every byte value.
    let mut binaries: Vec<Vec<u8>> = payloads().into_iter().map(String::into_bytes).collect();
    binaries.push((0..=255u8).collect());
    for data in &binaries {
        client.send_binary(data);
        let mut expected = format!("binary({}) = ", data.len()).into_bytes();
        expected.extend_from_slice(data);
        assert_eq!(client.expect_binary(), expected);
    }

    // 5. Pongs, for the payloads a control frame can carry.
    for data in binaries.iter().filter(|d| d.len() <= 125) {
        client.send_pong(data);
        let mut expected = format!("pong({}) = ", data.len()).into_bytes();
        expected.extend_from_slice(data);
        assert_eq!(client.expect_binary(), expected);
    }

    // 6. A byte in the read pipe is broadcast by the readable watcher.
    let mut read_pipe_in = read_pipe_in;
    read_pipe_in.write_all(b"R").unwrap();
    assert_eq!(client.expect_binary(), b"read_test_out(1) = R");

    // 7. Once the write pipe is drained, the writable watcher writes "W" into it.
    let deadline = Instant::now() + PATIENCE;
    let mut drained = 0usize;
    let next = loop {
        let mut buf = [0u8; 4096];
        match write_pipe_out.read(&mut buf) {
            Ok(n) => {
                if let Some(at) = buf[..n].iter().position(|&b| b != FILL) {
                    drained += at;
                    break buf[at];
                }
                drained += n;
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the writable watcher never wrote"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(
        drained, filled,
        "every filler byte comes before the watcher's"
    );
    assert_eq!(next, b'W');

    // 8. Close with 4242; the disconnect callback sees it and shuts the server down.
    client.close(4242, "test server shutdown cleanly");
    assert_eq!(client.expect_close(), (4242, String::new()));
    // The server closes TCP first (RFC 6455 7.1.1); the client then closes its side.
    client.expect_eof();
    drop(client);
    let (code, reason) = disconnected
        .recv_timeout(PATIENCE)
        .expect("disconnect callback");
    assert_eq!(
        (code, reason.as_str()),
        (4242, "test server shutdown cleanly")
    );
    server
        .join()
        .expect("start() returns cleanly after shutdown");
}

/// The hand-written handshake has no parsed response; the client helper wants one.
fn dummy_response() -> ws_proto::handshake::Response {
    let (mut handshake, request) = ws_proto::handshake::ClientRequest::new("x", "/")
        .build()
        .unwrap();
    let request = String::from_utf8(request).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        ws_proto::handshake::accept_key(key.as_bytes())
    );
    let mut input = RecvBuffer::new();
    input.extend_from_slice(answer.as_bytes());
    handshake.parse(&mut input).unwrap().unwrap().0
}

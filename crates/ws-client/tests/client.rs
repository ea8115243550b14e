//! ws-client over real sockets: against ws-server, against servers that misbehave, split
//! across threads, and through an HTTP proxy.

mod common;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use ws_proto::handshake::HandshakeError;

use common::{
    PATIENCE, answering, connect_proxy, echo_server, read_head, scripted, serve, switching,
};
use ws_client::{ClientBuilder, CloseCode, Error, Message, MessageKind};

fn text(s: &str) -> Message {
    Message::Text(s.to_owned())
}

/// Reads until the clean end: the server's close, then end of stream.
fn finish(client: &mut ws_client::Client) -> Option<(u16, String)> {
    let mut close = None;
    loop {
        match client.recv() {
            Ok(Message::Close(frame)) => {
                close = frame.map(|f| (f.code.as_u16(), f.reason.into_owned()))
            }
            Ok(_) => {}
            Err(Error::ConnectionClosed) => return close,
            Err(err) => panic!("expected a clean end, got {err}"),
        }
    }
}

#[test]
fn echo_against_ws_server_and_a_clean_close() {
    let server = echo_server();
    let mut client = ws_client::connect(&format!("ws://{}/path?query=1", server.addr)).unwrap();
    client.send_text("hello").unwrap();
    assert_eq!(client.recv().unwrap(), text("hello"));
    let big: Vec<u8> = (0..2 << 20).map(|i: u32| (i % 253) as u8).collect();
    client.send_binary(&big).unwrap();
    assert_eq!(client.recv().unwrap(), Message::Binary(big));
    client
        .send_fragment(MessageKind::Text, b"frag", false)
        .unwrap();
    client.send_ping(b"p").unwrap();
    client
        .send_fragment(MessageKind::Text, b"ments", true)
        .unwrap();
    assert_eq!(client.recv().unwrap(), Message::Pong(b"p".to_vec()));
    assert_eq!(client.recv().unwrap(), text("fragments"));

    client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(finish(&mut client), Some((1000, String::new())));
    // After the end, every call says so.
    assert!(matches!(client.recv(), Err(Error::ConnectionClosed)));
    assert!(matches!(
        client.send_text("late"),
        Err(Error::ConnectionClosed)
    ));
}

#[test]
fn headers_origin_and_protocol_reach_the_server() {
    let (tx, rx) = mpsc::channel();
    let server = serve("127.0.0.1:0", move |b| {
        b.on_connect(move |_, conn| {
            let tx = tx.clone();
            conn.on_handshake(move |_, hs| {
                let r = hs.request();
                tx.send((
                    r.origin().map(str::to_owned),
                    r.header("authorization").map(str::to_owned),
                    r.host().to_owned(),
                ))
                .unwrap();
                hs.select_protocol("v2");
            });
        })
    });
    let client = ClientBuilder::new(&format!("ws://localhost:{}/", server.addr.port()))
        .origin("https://app.example")
        .header("Authorization", "Bearer token")
        .protocol("v1")
        .protocol("v2")
        .connect()
        .unwrap();
    assert_eq!(client.protocol(), Some("v2"));
    let (origin, auth, host) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(origin.as_deref(), Some("https://app.example"));
    assert_eq!(auth.as_deref(), Some("Bearer token"));
    assert_eq!(host, format!("localhost:{}", server.addr.port()));
}

#[test]
fn host_names_try_every_address_and_ipv6_literals_work() {
    // "localhost" may resolve to ::1 first; the server listens on 127.0.0.1 only, so the
    // client must go on to the next address.
    let server = echo_server();
    let mut client =
        ws_client::connect(&format!("ws://localhost:{}/", server.addr.port())).unwrap();
    client.send_text("via localhost").unwrap();
    assert_eq!(client.recv().unwrap(), text("via localhost"));

    let server6 = serve("[::1]:0", common::echo);
    let mut client = ws_client::connect(&format!("ws://[::1]:{}/x", server6.addr.port())).unwrap();
    client.send_text("via ::1").unwrap();
    assert_eq!(client.recv().unwrap(), text("via ::1"));
}

#[test]
fn bad_urls_and_refused_connections_are_clear_errors() {
    for url in [
        "http://127.0.0.1/",
        "ws://",
        "ws://h:70000/",
        "ws://h/#f",
        "127.0.0.1:80",
    ] {
        assert!(
            matches!(ws_client::connect(url), Err(Error::Url { .. })),
            "{url}"
        );
    }
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = ws_client::connect(&format!("ws://127.0.0.1:{closed_port}/")).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(matches!(
        ws_client::connect("ws://no-such-host.invalid/"),
        Err(Error::Resolve { .. })
    ));
}

#[test]
fn a_wrong_accept_key_is_refused() {
    let addr = answering(
        |_| {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n".into()
        },
        |_| {},
    );
    let err = ws_client::connect(&format!("ws://{addr}/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_proto::Error::Handshake(HandshakeError::AcceptMismatch))
        ),
        "{err}"
    );
}

#[test]
fn a_missing_upgrade_header_is_refused() {
    let addr = answering(
        |head| switching(head, "").replace("Upgrade: websocket\r\n", ""),
        |_| {},
    );
    let err = ws_client::connect(&format!("ws://{addr}/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_proto::Error::Handshake(HandshakeError::MissingUpgrade))
        ),
        "{err}"
    );
}

#[test]
fn a_subprotocol_that_was_not_offered_is_refused() {
    let addr = answering(
        |head| switching(head, "Sec-WebSocket-Protocol: other\r\n"),
        |_| {},
    );
    let err = ClientBuilder::new(&format!("ws://{addr}/"))
        .protocol("mine")
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, Error::Handshake(ws_proto::Error::Handshake(HandshakeError::UnofferedProtocol(ref p))) if p == "other"),
        "{err}"
    );
}

#[test]
fn redirects_and_refusals_keep_status_and_headers() {
    for (answer, status) in [
        (
            "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.example/\r\nContent-Length: 0\r\n\r\n",
            302,
        ),
        (
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
            403,
        ),
    ] {
        let addr = answering(move |_| answer.to_owned(), |_| {});
        match ws_client::connect(&format!("ws://{addr}/")) {
            Err(Error::Handshake(ws_proto::Error::Handshake(HandshakeError::Rejected(head)))) => {
                assert_eq!(head.status, status);
                if status == 302 {
                    assert_eq!(
                        head.headers.get("location"),
                        Some("ws://elsewhere.example/")
                    );
                }
            }
            other => panic!("expected a rejection, got {:?}", other.err()),
        }
    }
}

#[test]
fn a_masked_frame_from_the_server_fails_with_1002() {
    let (tx, rx) = mpsc::channel();
    let addr = answering(
        |head| switching(head, ""),
        move |mut stream| {
            // A masked text frame: servers must not mask (RFC 6455 5.1).
            stream
                .write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
                .unwrap();
            let mut close = [0u8; 8];
            stream.read_exact(&mut close).unwrap();
            // The client's masked close frame: unmask the code.
            let code = u16::from_be_bytes([close[6] ^ close[2], close[7] ^ close[3]]);
            tx.send((close[0], close[1] & 0x80, code)).unwrap();
        },
    );
    let mut client = ws_client::connect(&format!("ws://{addr}/")).unwrap();
    let err = client.recv().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ws_proto::Error::Protocol(
                ws_proto::ProtocolError::MaskedFrame
            ))
        ),
        "{err}"
    );
    let (opcode, masked, code) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!((opcode, masked, code), (0x88, 0x80, 1002));
    assert!(matches!(client.recv(), Err(Error::ConnectionClosed)));
}

#[test]
fn an_abrupt_close_is_an_abnormal_closure() {
    let addr = answering(|head| switching(head, ""), drop);
    let mut client = ws_client::connect(&format!("ws://{addr}/")).unwrap();
    assert!(matches!(client.recv(), Err(Error::AbnormalClosure)));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (tx, rx) = mpsc::channel::<()>();
    let addr = scripted(move |_stream| {
        // Hold the connection open, say nothing.
        let _ = rx.recv_timeout(PATIENCE);
    });
    let started = Instant::now();
    let err = ClientBuilder::new(&format!("ws://{addr}/"))
        .connect_timeout(Some(Duration::from_millis(300)))
        .connect()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConnectTimeout {
                stage: "WebSocket handshake",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "timed out after 300ms during the WebSocket handshake"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(tx);
}

#[test]
fn read_timeouts_leave_the_connection_usable() {
    let server = echo_server();
    let mut client = ClientBuilder::new(&format!("ws://{}/", server.addr))
        .read_timeout(Some(Duration::from_millis(100)))
        .connect()
        .unwrap();
    assert!(matches!(client.recv(), Err(Error::Timeout)));
    client.send_text("still here").unwrap();
    assert_eq!(client.recv().unwrap(), text("still here"));
}

#[test]
fn a_writer_sends_while_the_reader_is_blocked() {
    let server = echo_server();
    let client = ws_client::connect(&format!("ws://{}/", server.addr)).unwrap();
    let (mut reader, writer) = client.split();
    let (tx, rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        tx.send("blocked in recv").unwrap();
        let message = reader.recv();
        (message.unwrap(), reader)
    });
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "blocked in recv");
    thread::sleep(Duration::from_millis(100)); // the reader is now inside recv()
    writer.send_text("crossed threads").unwrap();
    let (message, _reader) = reading.join().unwrap();
    assert_eq!(message, text("crossed threads"));
}

#[test]
fn split_halves_under_load_with_server_pings() {
    // The server pings every 50 ms (silence_max 100 ms) while a writer thread streams
    // messages and the reader takes the echoes: pongs from the reader interleave with the
    // writer's frames on one socket, and nothing is lost or reordered.
    let server = serve("127.0.0.1:0", |b| {
        common::echo(b).silence_max(Duration::from_millis(100))
    });
    let client = ws_client::connect(&format!("ws://{}/", server.addr)).unwrap();
    let (mut reader, writer) = client.split();
    let sender = thread::spawn(move || {
        for i in 0..2000 {
            writer.send_text(&format!("message {i}")).unwrap();
            if i % 200 == 0 {
                thread::sleep(Duration::from_millis(60)); // let pings come
            }
        }
        writer
    });
    let mut next = 0;
    let mut pings = 0;
    while next < 2000 {
        match reader.recv().unwrap() {
            Message::Text(t) => {
                assert_eq!(t, format!("message {next}"));
                next += 1;
            }
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    let writer = sender.join().unwrap();
    assert!(pings > 0, "the server's pings were answered along the way");
    writer.close(CloseCode::NORMAL, "").unwrap();
    loop {
        match reader.recv() {
            Err(Error::ConnectionClosed) => break,
            Ok(_) => {}
            Err(err) => panic!("{err}"),
        }
    }
}

#[test]
fn through_an_http_proxy_with_and_without_credentials() {
    let server = echo_server();
    let (proxy, seen) = connect_proxy(None);
    let mut client = ClientBuilder::new(&format!("ws://{}/via-proxy", server.addr))
        .proxy(&format!("http://{proxy}"))
        .connect()
        .unwrap();
    client.send_text("tunnelled").unwrap();
    assert_eq!(client.recv().unwrap(), text("tunnelled"));
    let request = seen.recv_timeout(PATIENCE).unwrap();
    assert!(
        request.starts_with(&format!("CONNECT {} HTTP/1.1\r\n", server.addr)),
        "{request}"
    );

    let (proxy, _) = connect_proxy(Some("ann:s3cret"));
    let url = format!("ws://{}/", server.addr);
    let mut client = ClientBuilder::new(&url)
        .proxy(&format!("http://ann:s3cret@{proxy}"))
        .connect()
        .unwrap();
    client.send_text("authenticated").unwrap();
    assert_eq!(client.recv().unwrap(), text("authenticated"));
    let err = ClientBuilder::new(&url)
        .proxy(&format!("http://ann:wrong@{proxy}"))
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, Error::ProxyRefused { status: 407, .. }),
        "{err}"
    );
}

#[test]
fn the_handshake_request_is_what_the_rfc_asks_for() {
    let (tx, rx) = mpsc::channel();
    let addr = scripted(move |mut stream| {
        tx.send(read_head(&mut stream)).unwrap();
    });
    let _ = ClientBuilder::new(&format!("ws://{addr}/a?b=c"))
        .connect_timeout(Some(Duration::from_millis(300)))
        .connect();
    let head = rx.recv_timeout(PATIENCE).unwrap();
    assert!(head.starts_with("GET /a?b=c HTTP/1.1\r\n"), "{head}");
    for field in [
        "Upgrade: websocket\r\n",
        "Connection: Upgrade\r\n",
        "Sec-WebSocket-Version: 13\r\n",
        &format!("Host: {addr}\r\n"),
    ] {
        assert!(head.contains(field), "{field:?} missing from {head}");
    }
}

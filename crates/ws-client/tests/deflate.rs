//! permessage-deflate (RFC 7692) over real sockets: our client against our server, each
//! against a hand-written peer that checks the bytes on the wire, negotiation failures,
//! and a decompression bomb.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use ws_proto::handshake::HandshakeError;

use common::{PATIENCE, answering, echo, read_head, serve, switching};
use ws_client::{Client, ClientBuilder, CloseCode, DeflateConfig, Error, Message, MessageKind};
use ws_proto::handshake::{ClientRequest, parse_extensions};
use ws_proto::{Config, Event, RecvBuffer, Role, Session};

fn deflate_echo_server(config: DeflateConfig) -> common::Running {
    serve("127.0.0.1:0", move |b| echo(b.deflate(Some(config))))
}

/// Text that compresses the way real traffic does: repetitive, but not one byte.
fn json_like(records: usize) -> String {
    (0..records)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"name\":\"user{}\",\"active\":{}}}\n",
                i % 97,
                i % 3 == 0
            )
        })
        .collect()
}

/// Reads until the clean end and returns the server's close code.
fn finish(client: &mut Client) -> Option<u16> {
    let mut code = None;
    loop {
        match client.recv() {
            Ok(Message::Close(frame)) => code = frame.map(|f| f.code.as_u16()),
            Ok(_) => {}
            Err(Error::ConnectionClosed) => return code,
            Err(err) => panic!("expected a clean end, got {err}"),
        }
    }
}

#[test]
fn client_and_server_negotiate_and_echo_every_kind_of_message() {
    for config in [DeflateConfig::default(), {
        let mut c = DeflateConfig::default();
        c.server_no_context_takeover = true;
        c.client_no_context_takeover = true;
        c.server_max_window_bits = 9;
        c.client_max_window_bits = 8;
        c
    }] {
        let server = deflate_echo_server(config.clone());
        let mut client = ClientBuilder::new(&format!("ws://{}/", server.addr))
            .deflate(Some(config.clone()))
            .connect()
            .unwrap();
        assert!(client.is_compressing(), "{config:?}");
        let answer = client
            .response()
            .headers()
            .get("sec-websocket-extensions")
            .unwrap();
        assert!(answer.starts_with("permessage-deflate"), "{answer}");

        // Many messages, so that context takeover (or its absence) matters.
        for i in 0..50 {
            let text = json_like(i * 7);
            client.send_text(&text).unwrap();
            assert_eq!(client.recv().unwrap(), Message::Text(text));
        }
        let big = json_like(40_000); // about 1.7 MiB
        client.send_text(&big).unwrap();
        assert_eq!(client.recv().unwrap(), Message::Text(big));
        let random: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        client.send_binary(&random).unwrap();
        assert_eq!(client.recv().unwrap(), Message::Binary(random));
        client
            .send_fragment(MessageKind::Text, json_like(30).as_bytes(), false)
            .unwrap();
        client.send_ping(b"between").unwrap();
        client.send_fragment(MessageKind::Text, b"", false).unwrap();
        client
            .send_fragment(MessageKind::Text, json_like(5).as_bytes(), true)
            .unwrap();
        assert_eq!(client.recv().unwrap(), Message::Pong(b"between".to_vec()));
        assert_eq!(
            client.recv().unwrap(),
            Message::Text(json_like(30) + &json_like(5))
        );
        client.send_text("").unwrap();
        assert_eq!(client.recv().unwrap(), Message::Text(String::new()));
        client.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(finish(&mut client), Some(1000));
    }
}

#[test]
fn the_server_declines_when_off_or_when_the_application_says_so() {
    // Off (the default): the offer is ignored and messages flow uncompressed.
    let server = serve("127.0.0.1:0", echo);
    let mut client = ws_client::connect(&format!("ws://{}/", server.addr)).unwrap();
    assert!(!client.is_compressing());
    assert!(
        client
            .response()
            .headers()
            .get("sec-websocket-extensions")
            .is_none()
    );
    client.send_text(&json_like(100)).unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text(json_like(100)));

    // On, but declined for this connection by its handshake callback.
    let (tx, rx) = mpsc::channel();
    let server = serve("127.0.0.1:0", move |b| {
        b.deflate(Some(DeflateConfig::default()))
            .on_connect(move |_, conn| {
                conn.on_handshake(|_, hs| {
                    if hs.request().path() == "/plain" {
                        hs.decline_deflate();
                    }
                });
                let tx = tx.clone();
                conn.on_ready(move |conn| tx.send(conn.is_compressing()).unwrap());
                conn.on_utf8(|conn, msg| conn.send_utf8(msg));
            })
    });
    let plain = ws_client::connect(&format!("ws://{}/plain", server.addr)).unwrap();
    assert!(!plain.is_compressing());
    assert!(!rx.recv_timeout(PATIENCE).unwrap());
    let compressed = ws_client::connect(&format!("ws://{}/other", server.addr)).unwrap();
    assert!(compressed.is_compressing());
    assert!(rx.recv_timeout(PATIENCE).unwrap());

    // A client that does not offer it gets none, and sends no extension header.
    let mut client = ClientBuilder::new(&format!("ws://{}/", server.addr))
        .deflate(None)
        .connect()
        .unwrap();
    assert!(!client.is_compressing());
    assert!(!rx.recv_timeout(PATIENCE).unwrap());
    client.send_text("plain").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("plain".into()));
}

/// A hand-made client: the handshake offering `offer`, then a ws-proto session.
fn raw_client(addr: std::net::SocketAddr, offer: &str) -> (TcpStream, String) {
    let mut request = ClientRequest::new("127.0.0.1", "/");
    for extension in parse_extensions(offer).unwrap() {
        request = request.extension(extension);
    }
    let (_, request) = request.build().unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(&request).unwrap();
    let head = read_head(&mut stream);
    (stream, head)
}

#[test]
fn the_server_answers_the_first_acceptable_offer_and_compresses_on_the_wire() {
    let server = deflate_echo_server(DeflateConfig::default());
    let (mut stream, head) = raw_client(
        server.addr,
        "x-unknown, permessage-deflate; server_max_window_bits=16, \
         permessage-deflate; server_max_window_bits=10; client_max_window_bits",
    );
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"
        ),
        "{head}"
    );
    let params = DeflateConfig::default()
        .check_answer(&parse_extensions("permessage-deflate; server_max_window_bits=10").unwrap())
        .unwrap()
        .unwrap();
    let mut session = Session::new(Role::Client, Config::default(), Some(params));
    let text = json_like(2000);
    session.send_text(&text).unwrap();
    stream.write_all(session.pending()).unwrap();
    let sent = session.pending().len();
    session.advance(sent);
    assert!(
        sent < text.len() / 4,
        "{sent} bytes sent for {}",
        text.len()
    );

    // The echo comes back compressed: RSV1 on its (only) frame, far smaller than the text.
    let mut input = RecvBuffer::new();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(first[0], 0xc1, "FIN, RSV1, text");
    input.extend_from_slice(&first);
    let mut buf = [0u8; 65536];
    let echoed = loop {
        if let Some(event) = session.decode(&mut input).unwrap() {
            break event.into_owned();
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed early");
        input.extend_from_slice(&buf[..n]);
    };
    assert_eq!(echoed, Event::Text(text.into()));
}

#[test]
fn the_client_compresses_on_the_wire() {
    let (tx, rx) = mpsc::channel();
    let addr = answering(
        |head| {
            assert!(
                head.contains(
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                ),
                "{head}"
            );
            switching(head, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
        },
        move |mut stream| {
            let mut header = [0u8; 2];
            stream.read_exact(&mut header).unwrap();
            tx.send(header).unwrap();
        },
    );
    let client = ws_client::connect(&format!("ws://{addr}/")).unwrap();
    assert!(client.is_compressing());
    client.send_text(&"compressible ".repeat(100)).unwrap();
    let header = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(header[0], 0xc1, "FIN, RSV1, text");
    let length = header[1] & 0x7f;
    assert!(
        header[1] & 0x80 != 0 && length < 60,
        "masked and small: {length}"
    );
}

/// Connects, offering `offer`, to a server that answers with `extensions` as its
/// `Sec-WebSocket-Extensions`, and returns the error the client must fail with.
fn connect_answered(extensions: &str, offer: Option<DeflateConfig>) -> Error {
    let header = format!("Sec-WebSocket-Extensions: {extensions}\r\n");
    let addr = answering(move |head| switching(head, &header), |_| {});
    ClientBuilder::new(&format!("ws://{addr}/"))
        .deflate(offer)
        .connect()
        .unwrap_err()
}

#[test]
fn the_client_fails_on_an_answer_it_did_not_allow() {
    for (answer, what) in [
        (
            "permessage-deflate; client_max_window_bits=16",
            "window bits out of range",
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            "window bits out of range",
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "a value is needed in an answer",
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "duplicate",
        ),
        ("permessage-deflate; mystery=1", "unknown parameter"),
        ("permessage-deflate, permessage-deflate", "answered twice"),
    ] {
        let err = connect_answered(answer, Some(DeflateConfig::default()));
        assert!(
            matches!(
                err,
                Error::Handshake(ws_proto::Error::Handshake(
                    HandshakeError::DeflateNegotiation(_)
                ))
            ),
            "{what}: {err}"
        );
    }
    // A window the client asked to be limited and the server did not limit.
    let mut config = DeflateConfig::default();
    config.server_max_window_bits = 10;
    let err = connect_answered(
        "permessage-deflate; server_max_window_bits=12",
        Some(config),
    );
    assert!(
        matches!(
            err,
            Error::Handshake(ws_proto::Error::Handshake(
                HandshakeError::DeflateNegotiation(_)
            ))
        ),
        "{err}"
    );
    // Compression the client did not offer at all.
    let err = connect_answered("permessage-deflate", None);
    assert!(
        matches!(
            err,
            Error::Handshake(ws_proto::Error::Handshake(
                HandshakeError::UnofferedExtension(_)
            ))
        ),
        "{err}"
    );
}

#[test]
fn a_small_frame_that_inflates_past_the_limit_is_closed_with_1009() {
    let server = serve("127.0.0.1:0", |b| {
        echo(
            b.deflate(Some(DeflateConfig::default()))
                .max_recv_size(1 << 20),
        )
    });
    let mut client = ws_client::connect(&format!("ws://{}/", server.addr)).unwrap();
    assert!(client.is_compressing());
    // 64 MiB of zeros compress to about 64 KiB: well under the limit on the wire.
    client.send_binary(&vec![0u8; 64 << 20]).unwrap();
    assert_eq!(finish(&mut client), Some(1009));
}

//! ws-proto driven by hand over real TCP sockets on 127.0.0.1: both handshakes, both
//! session roles, messages large and small, fragments, pings and the closing handshake,
//! with the client's first frame sent in the same write as its handshake.
//!
//! Not run under Miri, which has no sockets.

#![cfg(not(miri))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use ws_proto::handshake::{ClientRequest, Reject, RequestParser};
use ws_proto::{CloseCode, Config, Event, MessageKind, RecvBuffer, Role, Session, State};

/// A one-connection echo server; returns what it saw of the closing handshake.
fn echo_server(listener: TcpListener) -> thread::JoinHandle<Option<(u16, String)>> {
    thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut input = RecvBuffer::new();
        let mut parser = RequestParser::new();
        let request = loop {
            match parser.parse(&mut input) {
                Ok(Some(request)) => break request,
                Ok(None) => assert!(input.read_from(&mut tcp).unwrap() > 0),
                Err(err) => {
                    tcp.write_all(&Reject::for_error(&err).to_bytes().unwrap())
                        .unwrap();
                    return None;
                }
            }
        };
        assert_eq!(request.path(), "/echo");
        let (answer, mut session) = request.accept().protocol("echo.v1").finish().unwrap();
        tcp.write_all(&answer).unwrap();
        let mut closed_with = None;
        // Bytes that arrived with the request are decoded before any further read.
        loop {
            while let Some(event) = session.decode(&mut input).unwrap() {
                match event {
                    Event::Text(text) => session.send_text(&text).unwrap(),
                    Event::Binary(data) => session.send_binary(&data).unwrap(),
                    Event::Close(frame) => {
                        closed_with = frame.map(|f| (f.code.as_u16(), f.reason.into_owned()));
                    }
                    Event::Ping(_) | Event::Pong(_) | Event::Fragment { .. } => {}
                }
            }
            session.write_to(&mut tcp).unwrap();
            if session.is_closed() {
                // RFC 6455 7.1.1: the server closes the TCP connection first.
                return closed_with;
            }
            if input.read_from(&mut tcp).unwrap() == 0 {
                session.receive_eof().unwrap();
            }
        }
    })
}

struct Client {
    tcp: TcpStream,
    input: RecvBuffer,
    session: Session,
}

impl Client {
    fn next_event(&mut self) -> Event<'static> {
        loop {
            if let Some(event) = self.session.decode(&mut self.input).unwrap() {
                return event.into_owned();
            }
            self.session.write_to(&mut self.tcp).unwrap();
            assert!(
                self.input.read_from(&mut self.tcp).unwrap() > 0,
                "server hung up"
            );
        }
    }
}

fn connect(port: u16) -> Client {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut handshake, request) = ClientRequest::new("127.0.0.1", "/echo")
        .port(port)
        .protocol("echo.v1")
        .build()
        .unwrap();
    // The first message goes out in the same write as the handshake, so this client makes
    // its own session rather than taking the one the handshake yields.
    let mut session = Session::new(Role::Client, Config::default(), None);
    session.send_text("first").unwrap();
    let mut bytes = request;
    bytes.extend_from_slice(session.pending());
    let n = session.pending().len();
    session.advance(n);
    tcp.write_all(&bytes).unwrap();

    let mut input = RecvBuffer::new();
    let response = loop {
        if let Some((response, _)) = handshake.parse(&mut input).unwrap() {
            break response;
        }
        assert!(input.read_from(&mut tcp).unwrap() > 0);
    };
    assert_eq!(response.protocol(), Some("echo.v1"));
    Client {
        tcp,
        input,
        session,
    }
}

#[test]
fn echo_over_tcp_with_closing_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = echo_server(listener);
    let mut client = connect(port);

    assert_eq!(client.next_event(), Event::Text("first".into()));

    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    client.session.send_binary(&big).unwrap();
    assert_eq!(client.next_event(), Event::Binary(big.into()));

    client
        .session
        .send_fragment(MessageKind::Text, "☃ snow".as_bytes().split_at(2).0, false)
        .unwrap();
    client.session.send_ping(b"keepalive").unwrap();
    client
        .session
        .send_fragment(MessageKind::Text, "☃ snow".as_bytes().split_at(2).1, true)
        .unwrap();
    assert_eq!(
        client.next_event(),
        Event::Pong(b"keepalive".to_vec().into())
    );
    assert_eq!(client.next_event(), Event::Text("☃ snow".into()));

    client
        .session
        .close(CloseCode::new(4242).unwrap(), "done")
        .unwrap();
    match client.next_event() {
        Event::Close(Some(frame)) => assert_eq!(frame.code.as_u16(), 4242),
        other => panic!("expected the echoed close, got {other:?}"),
    }
    assert_eq!(client.session.state(), State::Closed);
    // The server closes TCP after the handshake: the client reads end of stream.
    let mut rest = Vec::new();
    client.tcp.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!(server.join().unwrap(), Some((4242, "done".to_owned())));
}

#[test]
fn bad_handshake_gets_an_http_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = echo_server(listener);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.write_all(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    // The server writes its refusal and closes the socket.
    assert!(server.join().unwrap().is_none());
    tcp.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Sec-WebSocket-Version: 13\r\n"));
}

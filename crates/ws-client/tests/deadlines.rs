//! Every wait on the server has a deadline (issue 11 item 4): raw TCP "servers" that
//! misbehave at each step, and a client with short settings that must give up on time
//! and say what happened.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{PATIENCE, answering, echo_server, scripted, switching};
use ws_client::{ClientBuilder, CloseCode, Error, Message};

const SHORT: Duration = Duration::from_millis(300);

/// Reads frames' bytes until one whose first byte is `first` arrives; false at the end of
/// the stream or after PATIENCE.
fn wait_for_frame(stream: &mut TcpStream, first: u8) -> bool {
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    let mut seen = Vec::new();
    while started.elapsed() < PATIENCE {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        // Frames from the client are small here: scan their headers.
        let mut at = 0;
        while at + 2 <= seen.len() {
            if seen[at] == first {
                return true;
            }
            let len = (seen[at + 1] & 0x7f) as usize;
            at += 2 + 4 + len;
        }
    }
    false
}

/// Whether the peer ends the stream (FIN or reset) within PATIENCE, reading past data.
fn sees_end_of_stream(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

/// A server that completes the handshake, then runs `then` with a channel on which it
/// reports whether the client ended TCP.
fn misbehaving(
    then: impl FnOnce(&mut TcpStream) + Send + 'static,
) -> (String, mpsc::Receiver<bool>) {
    let (tx, rx) = mpsc::channel();
    let addr = answering(
        |head| switching(head, ""),
        move |mut stream| {
            then(&mut stream);
            let _ = tx.send(sees_end_of_stream(&mut stream));
        },
    );
    (format!("ws://{addr}/"), rx)
}

// RFC 6455 7.1.1: "the client SHOULD wait for the server to close the connection but MAY
// close the connection at any time after sending and receiving a Close message, e.g., if
// it has not received a TCP Close from the server in a reasonable time period."
#[test]
fn a_server_that_answers_the_close_but_keeps_tcp_open_is_closed_at_the_close_timeout() {
    let (url, client_ended) = misbehaving(|stream| {
        assert!(wait_for_frame(stream, 0x88), "the client's close");
        stream.write_all(&[0x88, 0x02, 0x03, 0xe8]).unwrap();
    });
    let mut client = ClientBuilder::new(&url)
        .close_timeout(Some(SHORT))
        .connect()
        .unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    let started = Instant::now();
    match client.recv() {
        Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the server's close, got {other:?}"),
    }
    let err = client.recv().unwrap_err();
    assert!(
        matches!(err, Error::CloseTimeout { answered: true }),
        "{err:?}"
    );
    assert!(started.elapsed() < PATIENCE);
    assert!(client_ended.recv_timeout(PATIENCE).unwrap(), "TCP closed");
    // The end is final.
    assert!(matches!(client.recv(), Err(Error::ConnectionClosed)));
}

#[test]
fn a_server_that_never_answers_the_close_is_closed_at_the_close_timeout() {
    let (url, client_ended) = misbehaving(|stream| {
        assert!(wait_for_frame(stream, 0x88), "the client's close");
    });
    let mut client = ClientBuilder::new(&url)
        .close_timeout(Some(SHORT))
        .connect()
        .unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    let err = client.recv().unwrap_err();
    assert!(
        matches!(err, Error::CloseTimeout { answered: false }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the server did not answer the close within the close timeout; closed the TCP connection"
    );
    assert!(client_ended.recv_timeout(PATIENCE).unwrap(), "TCP closed");
}

// The server starts the close, we answer, and it never closes TCP (RFC 6455 7.1.1: the
// server closes TCP first).
#[test]
fn a_server_that_closes_first_but_keeps_tcp_open_is_closed_at_the_close_timeout() {
    let (url, client_ended) = misbehaving(|stream| {
        stream.write_all(&[0x88, 0x02, 0x03, 0xe8]).unwrap();
        assert!(wait_for_frame(stream, 0x88), "the client's answer");
    });
    let mut client = ClientBuilder::new(&url)
        .close_timeout(Some(SHORT))
        .connect()
        .unwrap();
    assert!(matches!(client.recv(), Ok(Message::Close(Some(_)))));
    let err = client.recv().unwrap_err();
    assert!(
        matches!(err, Error::CloseTimeout { answered: true }),
        "{err:?}"
    );
    assert!(client_ended.recv_timeout(PATIENCE).unwrap(), "TCP closed");
}

/// A peer gone without a FIN: it neither reads nor writes, and its socket stays open.
#[test]
fn a_server_that_vanishes_without_a_fin_is_found_by_the_keepalive() {
    let (release, released) = mpsc::channel::<()>();
    let (got_ping, ping) = mpsc::channel();
    let addr = answering(
        |head| switching(head, ""),
        move |mut stream| {
            let _ = released.recv_timeout(PATIENCE);
            // What the client sent while we were gone: its keepalive ping.
            stream.set_read_timeout(Some(SHORT)).unwrap();
            let _ = got_ping.send(wait_for_frame(&mut stream, 0x89));
        },
    );
    let mut client = ClientBuilder::new(&format!("ws://{addr}/"))
        .keepalive(Some(Duration::from_millis(200)))
        .keepalive_timeout(SHORT)
        .connect()
        .unwrap();
    let started = Instant::now();
    let err = client.recv().unwrap_err();
    let waited = started.elapsed();
    release.send(()).unwrap();
    assert!(matches!(err, Error::KeepaliveTimeout { .. }), "{err:?}");
    assert!(waited >= Duration::from_millis(500), "{waited:?}");
    assert!(waited < PATIENCE, "{waited:?}");
    assert!(ping.recv_timeout(PATIENCE).unwrap(), "a ping was sent");
}

/// A live server answers the keepalive pings, and their pongs are not handed out.
#[test]
fn a_live_server_answers_the_keepalive_and_the_connection_stays_open() {
    let server = echo_server();
    let mut client = ClientBuilder::new(&format!("ws://{}/", server.addr))
        .keepalive(Some(Duration::from_millis(50)))
        .keepalive_timeout(Duration::from_millis(200))
        .read_timeout(Some(Duration::from_millis(800)))
        .connect()
        .unwrap();
    // Many keepalive rounds pass in this one recv: none fails, no pong comes out.
    assert!(matches!(client.recv(), Err(Error::Timeout)));
    client.send_text("still here").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("still here".into()));
}

#[test]
fn keepalive_can_be_turned_off() {
    let (release, released) = mpsc::channel::<()>();
    let addr = answering(
        |head| switching(head, ""),
        move |_stream| {
            let _ = released.recv_timeout(PATIENCE);
        },
    );
    let mut client = ClientBuilder::new(&format!("ws://{addr}/"))
        .keepalive(None)
        .keepalive_timeout(Duration::from_millis(50))
        .read_timeout(Some(Duration::from_millis(500)))
        .connect()
        .unwrap();
    assert!(matches!(client.recv(), Err(Error::Timeout)));
    release.send(()).unwrap();
}

/// A server that stops reading: sends block, then fail at the write timeout.
#[test]
fn a_server_that_stops_reading_fails_sends_at_the_write_timeout() {
    let (release, released) = mpsc::channel::<()>();
    let addr = answering(
        |head| switching(head, ""),
        move |_stream| {
            let _ = released.recv_timeout(PATIENCE);
        },
    );
    let client = ClientBuilder::new(&format!("ws://{addr}/"))
        .deflate(None)
        .write_timeout(Some(SHORT))
        .connect()
        .unwrap();
    let chunk = vec![7u8; 1 << 20];
    let started = Instant::now();
    let err = loop {
        if let Err(err) = client.send_binary(&chunk) {
            break err;
        }
        assert!(started.elapsed() < PATIENCE, "sends never blocked");
    };
    assert!(matches!(err, Error::Timeout), "{err:?}");
    // The connection cannot send any more.
    assert!(client.send_text("x").is_err());
    release.send(()).unwrap();
}

fn silent_listener() -> (std::net::SocketAddr, mpsc::Sender<()>) {
    let (release, released) = mpsc::channel::<()>();
    let addr = scripted(move |_stream| {
        let _ = released.recv_timeout(PATIENCE);
    });
    (addr, release)
}

#[test]
fn a_proxy_that_never_answers_connect_times_out_naming_the_step() {
    let (proxy, release) = silent_listener();
    let err = ClientBuilder::new("ws://example.invalid/")
        .proxy(&format!("http://{proxy}"))
        .connect_timeout(Some(SHORT))
        .connect()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConnectTimeout {
                stage: "proxy CONNECT",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "timed out after 300ms during the proxy CONNECT"
    );
    drop(release);
}

#[test]
fn a_tls_server_that_never_answers_the_hello_times_out_naming_the_step() {
    let (addr, release) = silent_listener();
    let err = ClientBuilder::new(&format!("wss://localhost:{}/", addr.port()))
        .connect_timeout(Some(SHORT))
        .connect()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConnectTimeout {
                stage: "TLS handshake",
                ..
            }
        ),
        "{err:?}"
    );
    drop(release);
}

/// One deadline for the whole handshake: a server that sends a byte now and then cannot
/// stretch it (each read alone would be within the limit).
#[test]
fn a_trickling_server_cannot_stretch_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let started = Instant::now();
        for byte in b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if stream.write_all(&[*byte]).is_err() || started.elapsed() > PATIENCE {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = stream.shutdown(Shutdown::Both);
    });
    // Each read alone would end well within the limit; only a deadline over the whole
    // handshake ends it (before the server gives up after PATIENCE, which would be an
    // end of stream).
    let err = ClientBuilder::new(&format!("ws://{addr}/"))
        .connect_timeout(Some(SHORT))
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
        "{err:?}"
    );
}

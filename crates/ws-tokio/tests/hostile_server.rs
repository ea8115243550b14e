//! The client (`ws_tokio::connect`) against servers that answer wrongly: garbage, a 101
//! with the wrong accept value, a redirect, an endless header block, an answer cut short,
//! frames that break the protocol. Each ends in a clear `Err` (with the handshake's
//! error or the status the server sent), never a hang, a panic or unbounded memory. Real
//! sockets on 127.0.0.1; every wait has a deadline.

mod common;

use std::net::SocketAddr;

use common::{listener, within};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_proto::handshake::HandshakeError;
use ws_tokio::Error;

/// Reads a request head (up to its blank line) from `tcp`; returns it as text.
async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = within("request", tcp.read(&mut byte)).await.expect("read");
        assert_eq!(n, 1, "the client closed during its request");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("ASCII request")
}

/// The `Sec-WebSocket-Accept` value for the request `head` (RFC 6455 4.2.2).
fn accept_for(head: &str) -> String {
    let key = head
        .lines()
        .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key");
    ws_proto::handshake::accept_key(key.as_bytes())
}

/// A server that reads one request and answers with what `answer` makes of it (the
/// request head), then keeps the connection open until the client closes it.
async fn answering(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> SocketAddr {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let head = read_head(&mut tcp).await;
        // (The client may have given up already: a write error is fine.)
        let _ = tcp.write_all(&answer(&head)).await;
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest).await;
    });
    addr
}

/// Connects to `addr` and returns the handshake's error.
async fn connect_error(addr: SocketAddr) -> Error {
    match within("connect", ws_tokio::connect(&format!("ws://{addr}/"))).await {
        Ok(_) => panic!("the handshake succeeded"),
        Err(err) => err,
    }
}

/// The handshake error inside `err`.
fn handshake_error(err: &Error) -> &HandshakeError {
    match err {
        Error::Protocol(ws_proto::Error::Handshake(handshake)) => handshake,
        other => panic!("not a handshake error: {other:?}"),
    }
}

// RFC 6455 4.1: "If the status code received from the server is not 101, the client
// handles the response per HTTP procedures" -- this client follows no redirects, it
// reports them (with the status), as it does every refusal.
#[tokio::test]
async fn a_redirect_is_an_error_with_its_status() {
    let addr = answering(|_| {
        b"HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n"
            .to_vec()
    })
    .await;
    let err = connect_error(addr).await;
    let handshake = handshake_error(&err);
    assert!(
        matches!(handshake, HandshakeError::Rejected(head) if head.status == 302),
        "{handshake:?}"
    );
}

// RFC 6455 4.1: "If the |Sec-WebSocket-Accept| contains a value other than the
// base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key| ... the client
// MUST _Fail the WebSocket Connection_."
#[tokio::test]
async fn a_101_with_the_wrong_accept_value_fails() {
    let addr = answering(|head| {
        // The value for another key.
        let wrong = ws_proto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_ne!(wrong, accept_for(head));
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {wrong}\r\n\r\n"
        )
        .into_bytes()
    })
    .await;
    let err = connect_error(addr).await;
    assert!(
        matches!(handshake_error(&err), HandshakeError::AcceptMismatch),
        "{err:?}"
    );
    // And one without the header at all.
    let addr = answering(|_| {
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            .to_vec()
    })
    .await;
    let err = connect_error(addr).await;
    assert!(
        matches!(handshake_error(&err), HandshakeError::AcceptMismatch),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_instead_of_an_http_answer_is_an_error() {
    let addr = answering(|_| b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe garbage\r\n\r\n".to_vec()).await;
    let err = connect_error(addr).await;
    assert!(
        matches!(handshake_error(&err), HandshakeError::MalformedHttp(_)),
        "{err:?}"
    );
}

// A server that sends header lines without end: the client stops reading at its head
// limit (8 KiB by default), with an error, rather than growing its buffer.
#[tokio::test]
async fn an_endless_answer_head_stops_at_the_limit() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        read_head(&mut tcp).await;
        let _ = tcp.write_all(b"HTTP/1.1 101 Switching Protocols\r\n").await;
        // Up to 64 MiB of headers, unless the client stops reading first.
        let line =
            b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut sent = 0usize;
        while sent < 64 << 20 {
            if tcp.write_all(line).await.is_err() {
                return sent;
            }
            sent += line.len();
        }
        sent
    });
    let err = connect_error(addr).await;
    assert!(
        matches!(
            handshake_error(&err),
            HandshakeError::HeadTooLarge { .. } | HandshakeError::TooManyHeaders
        ),
        "{err:?}"
    );
    let sent = within("server", server).await.expect("server");
    assert!(
        sent < 64 << 20,
        "the client stopped reading: the server's writes failed"
    );
}

#[tokio::test]
async fn an_answer_cut_short_is_an_unexpected_eof() {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        read_head(&mut tcp).await;
        let _ = tcp.write_all(b"HTTP/1.1 101 Switching Pro").await;
        // Closed here.
    });
    let err = connect_error(addr).await;
    assert!(
        matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
}

// A server that accepts, then sends a frame that breaks the protocol (masked: RFC 6455
// 5.1, "The client MUST close a connection if it detects a masked frame"): the stream
// ends with the protocol error, after our close frame with 1002.
#[tokio::test]
async fn a_masked_frame_from_the_server_closes_with_1002() {
    let addr = answering(|head| {
        let mut answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_for(head)
        )
        .into_bytes();
        answer.extend_from_slice(&[0x82, 0x81, 1, 2, 3, 4, b'x' ^ 1]);
        answer
    })
    .await;
    let mut ws = within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("handshake");
    let end = within("the error", ws.next()).await;
    assert!(
        matches!(
            &end,
            Some(Err(Error::Protocol(e))) if e.close_code() == Some(ws_tokio::CloseCode::PROTOCOL_ERROR)
        ),
        "{end:?}"
    );
    assert!(
        within("end", ws.next()).await.is_none(),
        "then the stream ends"
    );
}

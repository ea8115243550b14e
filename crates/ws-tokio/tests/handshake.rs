//! The opening handshake (RFC 6455 4): the accept callback's choices and refusals, the
//! statuses invalid requests get, the handshake timeout, and what the client checks.

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_tokio::{Acceptor, ClientBuilder, Error, Reject};

/// Sends raw bytes to a server task and returns its answer's status line.
async fn status_for(acceptor: Acceptor, request: &'static [u8]) -> (String, Result<(), Error>) {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        acceptor.accept(tcp).await.map(drop)
    });
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request).await.expect("write");
    let answer = common::read_to_end(&mut tcp).await;
    let outcome = common::within("server", server).await.expect("server task");
    let text = String::from_utf8_lossy(&answer);
    (text.lines().next().unwrap_or_default().to_owned(), outcome)
}

#[tokio::test]
async fn invalid_requests_get_their_status() {
    let cases: [(&[u8], &str); 5] = [
        (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 426"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "HTTP/1.1 426",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "HTTP/1.1 400"),
    ];
    for (request, expected) in cases {
        let (status, outcome) = status_for(Acceptor::new(), request).await;
        let error = outcome.expect_err("refused");
        let want: u16 = expected[9..].parse().expect("status");
        assert!(
            status.starts_with(expected),
            "{:?} got {status:?}",
            String::from_utf8_lossy(request)
        );
        match error {
            Error::Protocol(e) => assert_eq!(e.http_status(), Some(want), "{e}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn oversized_request_gets_431() {
    let mut limits = ws_proto::handshake::Limits::default();
    limits.max_head_size = 256;
    let request: &'static [u8] = Box::leak(
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n",
            "a".repeat(1000)
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let (status, _) = status_for(Acceptor::new().limits(limits), request).await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
}

#[tokio::test]
async fn callback_sees_the_request_and_picks_a_subprotocol() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let ws = ws_tokio::accept_with(tcp, |request| {
            assert_eq!(request.path(), "/chat");
            assert_eq!(request.query(), Some("room=1"));
            assert_eq!(request.origin(), Some("https://example.com"));
            assert_eq!(request.header("authorization"), Some("Bearer t"));
            assert_eq!(request.protocols(), ["v1.chat", "v2.chat"]);
            Ok(Some("v2.chat".to_owned()))
        })
        .await
        .expect("accept");
        ws.protocol().map(str::to_owned)
    });
    let ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/chat?room=1"))
            .origin("https://example.com")
            .header("Authorization", "Bearer t")
            .protocol("v1.chat")
            .protocol("v2.chat")
            .connect(),
    )
    .await
    .expect("connect");
    assert_eq!(ws.protocol(), Some("v2.chat"));
    let chosen = common::within("server", server).await.expect("server task");
    assert_eq!(chosen.as_deref(), Some("v2.chat"));
}

#[tokio::test]
async fn callback_refusal_reaches_the_client_as_its_status() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        ws_tokio::accept_with(tcp, |request| match request.origin() {
            Some("https://good.example") => Ok(None),
            _ => Err(Reject::forbidden().body("origin not allowed")),
        })
        .await
        .map(drop)
    });
    let refused = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/"))
            .origin("https://evil.example")
            .connect(),
    )
    .await
    .expect_err("refused");
    match refused {
        Error::Protocol(ws_proto::Error::Handshake(
            ws_proto::handshake::HandshakeError::Rejected(head),
        )) => assert_eq!(head.status, 403),
        other => panic!("unexpected {other:?}"),
    }
    let outcome = common::within("server", server).await.expect("server task");
    assert!(matches!(outcome, Err(Error::Refused(403))), "{outcome:?}");
}

#[tokio::test]
async fn choosing_an_unoffered_subprotocol_answers_500() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        ws_tokio::accept_with(tcp, |_| Ok(Some("never-offered".into())))
            .await
            .map(drop)
    });
    let refused = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect_err("refused");
    assert!(
        matches!(&refused, Error::Protocol(ws_proto::Error::Handshake(ws_proto::handshake::HandshakeError::Rejected(head))) if head.status == 500),
        "{refused:?}"
    );
    let outcome = common::within("server", server).await.expect("server task");
    assert!(
        matches!(
            outcome,
            Err(Error::Protocol(ws_proto::Error::Local(
                ws_proto::LocalError::UnofferedProtocol(_)
            )))
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn handshake_timeout_drops_a_slow_client() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        Acceptor::new()
            .handshake_timeout(Duration::from_millis(200))
            .accept(tcp)
            .await
            .map(drop)
    });
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let outcome = common::within("server", server).await.expect("server task");
    assert!(
        matches!(outcome, Err(Error::HandshakeTimeout(t)) if t == Duration::from_millis(200)),
        "{outcome:?}"
    );
    let mut rest = Vec::new();
    let n = common::within("closed", tcp.read_to_end(&mut rest))
        .await
        .expect("read");
    assert_eq!(n, 0, "nothing is answered to a client that timed out");
}

#[tokio::test]
async fn client_connect_timeout_against_a_silent_server() {
    let (listener, addr) = common::listener().await;
    let _keep = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(tcp);
    });
    let outcome = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/"))
            .connect_timeout(Some(Duration::from_millis(200)))
            .connect(),
    )
    .await;
    assert!(
        matches!(outcome, Err(Error::HandshakeTimeout(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn client_rejects_bad_urls_before_any_io() {
    for (url, why) in [
        ("http://example.com/", "scheme"),
        ("ws://example.com/#frag", "fragment"),
        ("ws://user:pw@example.com/", "credentials"),
        ("not a url", "syntax"),
        ("ws://127.0.0.1:0/", "port 0"),
    ] {
        let outcome = ws_tokio::connect(url).await;
        assert!(
            matches!(outcome, Err(Error::Url { .. })),
            "{why}: {outcome:?}"
        );
    }
}

// Built without the `tls` feature (`cargo test --no-default-features`), wss:// is a clear
// error before any I/O, never a plain-text attempt.
#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn wss_without_the_tls_feature_is_a_url_error() {
    match ws_tokio::connect("wss://127.0.0.1:9/").await {
        Err(Error::Url { reason, .. }) => assert!(reason.contains("`tls` feature"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// A masked client frame (mask key 0, so the payload reads as is).
fn masked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first_byte, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

const UPGRADE: &[u8] =
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// RFC 6455 4.2.2 and 5: the bytes after the request's blank line are the first frames,
// however the reads cut them: sent with the request in one write, or with the request
// itself split, they are delivered once and in order, and then the closing handshake
// (RFC 6455 7.1.1: our close answers the client's, then the server closes TCP) ends in a
// clean end of stream.
#[tokio::test]
async fn frames_behind_the_request_are_delivered_however_the_reads_cut_them() {
    let addr = common::echo_server(Acceptor::new()).await;
    let close = masked(0x88, &1000u16.to_be_bytes());
    for split in [UPGRADE.len(), 10, UPGRADE.len() + 3] {
        let mut bytes = UPGRADE.to_vec();
        bytes.extend(masked(0x81, b"first"));
        bytes.extend(masked(0x82, b"second"));
        bytes.extend_from_slice(&close);
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (head, tail) = bytes.split_at(split.min(bytes.len()));
        tcp.write_all(head).await.expect("write");
        tokio::time::sleep(Duration::from_millis(20)).await;
        tcp.write_all(tail).await.expect("write");
        let answer = common::read_to_end(&mut tcp).await;
        let end = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an answer head")
            + 4;
        assert!(answer.starts_with(b"HTTP/1.1 101 "), "split at {split}");
        assert_eq!(
            &answer[end..],
            b"\x81\x05first\x82\x06second\x88\x02\x03\xe8",
            "split at {split}"
        );
    }
}

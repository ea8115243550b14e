//! What a newcomer from tokio-tungstenite does first, done the way the docs say: refuse
//! a foreign Origin with 403 and read that status on the client, learn the code the peer
//! closed with, and print a refused handshake's error.

mod common;

use futures_util::StreamExt;
use ws_tokio::{CloseCode, Error, Message, Reject};

/// A server that refuses any Origin but `http://app.example` with 403, and echoes.
async fn origin_checking_server() -> std::net::SocketAddr {
    let (listener, addr) = common::listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let accepted = ws_tokio::accept_with(tcp, |request| {
                    if request.origin() != Some("http://app.example") {
                        return Err(Reject::forbidden());
                    }
                    Ok(None)
                })
                .await;
                if let Ok(ws) = accepted {
                    common::echo(ws).await;
                }
            });
        }
    });
    addr
}

// RFC 6455 4.1 / 4.2.2: a refused upgrade, seen from both ends.

#[tokio::test]
async fn a_refusal_status_reaches_the_client_through_rejection() {
    let addr = origin_checking_server().await;
    let refused = common::within(
        "refused connect",
        ws_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .origin("http://evil.example")
            .connect(),
    )
    .await;
    let err = refused.expect_err("a foreign origin is refused");
    let answer = err.rejection().expect("the server's answer");
    assert_eq!((answer.status, answer.reason.as_str()), (403, "Forbidden"));
    // Its Debug form names the fields as text, not as packed storage.
    let debug = format!("{err:?}");
    assert!(debug.contains(r#""Connection": "close""#), "{debug}");

    let welcome = common::within(
        "accepted connect",
        ws_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .origin("http://app.example")
            .connect(),
    )
    .await
    .expect("the right origin is accepted");
    common::close(welcome).await;
}

#[tokio::test]
async fn rejection_is_none_for_other_errors() {
    let (listener, addr) = common::listener().await;
    drop(listener);
    let err = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect_err("nothing listens");
    match &err {
        Error::Io(io) => assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("expected Error::Io, got {other:?}"),
    }
    assert!(err.rejection().is_none());
    let err = Error::Refused(403);
    assert!(
        err.rejection().is_none(),
        "a server's own refusal is not one"
    );
}

// RFC 6455 4.1: "the client MUST ... open a connection" to the host and port; when that
// fails, the error says which.

#[tokio::test]
async fn a_failed_dial_names_the_address() {
    let (listener, addr) = common::listener().await;
    drop(listener);
    let err = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect_err("nothing listens");
    let message = err.to_string();
    assert!(
        message.contains(&format!("connecting to {addr}: ")),
        "{message}"
    );
    let Error::Io(io) = &err else {
        panic!("expected Error::Io, got {err:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    let source = std::error::Error::source(io.get_ref().expect("wrapped")).expect("source");
    assert!(
        source.downcast_ref::<std::io::Error>().is_some(),
        "{source:?}"
    );
}

// RFC 6455 7.1.2 and 7.1.5: the close code the peer answered with.

#[tokio::test]
async fn the_peers_close_code_by_sending_close_as_a_message() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = ws_tokio::accept(tcp).await.expect("handshake");
        // The server sees the client's close, and ws-proto answers it with the same code.
        let mut seen = None;
        while let Some(item) = ws.next().await {
            if let Message::Close(frame) = item.expect("receive") {
                seen = frame.map(|f| f.code);
            }
        }
        seen
    });
    let mut ws = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    let bye = Message::close(CloseCode::GOING_AWAY, "bye");
    common::within("send close", ws.send(bye))
        .await
        .expect("close sent");
    let mut answer = None;
    while let Some(item) = common::within("the answer", ws.next()).await {
        if let Message::Close(frame) = item.expect("receive") {
            answer = Some(frame.expect("a code").code);
        }
    }
    assert_eq!(answer, Some(CloseCode::GOING_AWAY));
    assert!(ws.session().is_closed());
    let seen = common::within("server", server).await.expect("server");
    assert_eq!(seen, Some(CloseCode::GOING_AWAY));
}

// What a tokio user moves into tasks, shares and clones must allow it.

#[test]
fn the_types_a_task_holds_are_send_and_what_is_shared_is_sync() {
    fn send<T: Send + 'static>() {}
    fn send_sync<T: Send + Sync + 'static>() {}
    fn clone<T: Clone>() {}
    use tokio::net::TcpStream;
    send::<ws_tokio::WebSocketStream<TcpStream>>();
    send::<ws_tokio::WebSocketStream<ws_tokio::ClientStream>>();
    send::<ws_tokio::ReadHalf<TcpStream>>();
    send::<ws_tokio::WriteHalf<TcpStream>>();
    send_sync::<Error>(); // into Box<dyn Error + Send + Sync>, anyhow
    send_sync::<Message>();
    send_sync::<ws_tokio::Acceptor>();
    send_sync::<ws_tokio::ClientBuilder>();
    send_sync::<ws_tokio::Settings>();
    clone::<Message>();
    clone::<ws_tokio::Acceptor>();
    clone::<ws_tokio::ClientBuilder>();
    clone::<ws_tokio::Settings>();
}

#[test]
fn message_kinds_and_text() {
    let text = Message::text("hi");
    assert!(text.is_text() && text.is_data() && !text.is_binary() && !text.is_close());
    assert_eq!(text.as_text(), Some("hi"));
    let binary = Message::binary(&b"hi"[..]);
    assert!(binary.is_binary() && !binary.is_text());
    assert_eq!(binary.as_text(), None);
    let close = Message::close(CloseCode::GOING_AWAY, "bye");
    assert!(close.is_close() && !close.is_data());
    match close {
        Message::Close(Some(frame)) => {
            assert_eq!((frame.code, &*frame.reason), (CloseCode::GOING_AWAY, "bye"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_close_reason_over_123_bytes_is_refused_and_the_stream_stays_open() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        common::echo(ws_tokio::accept(tcp).await.expect("handshake")).await;
    });
    let mut ws = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    let long = Message::close(CloseCode::NORMAL, "x".repeat(124));
    let refused = common::within("send", ws.send(long)).await;
    assert!(
        matches!(
            refused,
            Err(Error::Protocol(ws_tokio::ws_proto::Error::Local(
                ws_tokio::ws_proto::LocalError::CloseReasonTooLong(_)
            )))
        ),
        "{refused:?}"
    );
    common::within("echo", ws.send("still open"))
        .await
        .expect("send");
    let echoed = common::within("echo", ws.recv())
        .await
        .expect("open")
        .expect("recv");
    assert_eq!(echoed.as_text(), Some("still open"));
    common::close(ws).await;
    common::within("server", server).await.expect("server");
}

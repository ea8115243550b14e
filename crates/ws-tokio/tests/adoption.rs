//! What a newcomer from tokio-tungstenite does first, done the way the docs say: refuse
//! a foreign Origin with 403 and read that status on the client, learn the code the peer
//! closed with, and print a refused handshake's error.

mod common;

use futures_util::StreamExt;
use ws_tokio::{CloseCode, CloseFrame, Error, Message, Reject};

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
    let err = refused.err().expect("a foreign origin is refused");
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
        .err()
        .expect("nothing listens");
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
        .err()
        .expect("nothing listens");
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
    let frame = CloseFrame {
        code: CloseCode::GOING_AWAY,
        reason: "bye".into(),
    };
    common::within("send close", ws.send(Message::Close(Some(frame))))
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

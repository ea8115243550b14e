//! The limits of `ws_proto::Config`, applied through `Settings::config`: a message past
//! the limit is answered with close code 1009 (RFC 6455 7.4.1) and ends the stream with
//! an error that names the limit.

mod common;

use futures_util::StreamExt;
use ws_tokio::{Acceptor, CloseCode, Error, Message, Settings};

#[tokio::test]
async fn a_message_past_the_limit_is_closed_with_1009() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut settings = Settings::default();
        settings.config.max_message_size = 1000;
        let mut ws = Acceptor::new()
            .settings(settings)
            .accept(tcp)
            .await
            .expect("handshake");
        let first = ws.next().await;
        let second = ws.next().await;
        (first, second, ws.next().await)
    });
    let mut ws = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    ws.send(Message::text("x".repeat(1000)))
        .await
        .expect("send at the limit");
    ws.send(Message::binary(vec![0u8; 1001]))
        .await
        .expect("send past the limit");
    match common::within("close", ws.next()).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("expected a 1009 close, got {other:?}"),
    }
    let (first, second, end) = common::within("server", server).await.expect("server task");
    assert!(matches!(first, Some(Ok(Message::Text(t))) if t.len() == 1000));
    match second {
        Some(Err(Error::Protocol(err))) => {
            assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG), "{err}")
        }
        other => panic!("expected the limit's error, got {other:?}"),
    }
    assert!(end.is_none(), "the stream ends after the error");
}

//! The write buffer bound: a peer that never reads cannot grow the sender's memory past
//! `Settings::write_buffer_limit` (plus the one message being queued). What is queued is
//! every unwritten byte, `Session::queued_len`.

mod common;

use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Sink;
use ws_proto::{Config, Event, RecvBuffer, Role, Session};
use ws_tokio::{Acceptor, Message, Settings};

const LIMIT: usize = 64 * 1024;
const MESSAGE: usize = 4096;

#[tokio::test]
async fn sender_waits_when_the_peer_does_not_read() {
    let (listener, addr) = common::listener().await;
    let mut settings = Settings::default();
    settings.write_buffer_limit = LIMIT;
    settings.ping_interval = None;
    let accepting = async {
        let (tcp, _) = listener.accept().await.expect("accept");
        Acceptor::new()
            .settings(settings)
            .accept(tcp)
            .await
            .expect("handshake")
    };
    let (peer, mut ws) = common::within("handshake", async {
        tokio::join!(common::raw_client(addr), accepting)
    })
    .await;
    let payload = Bytes::from(vec![7u8; MESSAGE]);
    // Feed until sending blocks: the kernel's buffers fill, then ours up to the limit.
    let mut queued = 0usize;
    loop {
        let fed = tokio::time::timeout(
            Duration::from_millis(300),
            ws.feed(Message::Binary(payload.clone())),
        )
        .await;
        match fed {
            Ok(result) => {
                result.expect("feed");
                queued += 1;
                let pending = ws.session().queued_len();
                assert!(pending <= LIMIT + MESSAGE + 16, "{pending} bytes queued");
                // Write what the socket takes, as a recv or flush would.
                let _ = tokio::time::timeout(Duration::from_millis(1), ws.flush()).await;
            }
            Err(_) => break,
        }
        assert!(queued < 1_000_000, "sending never waited");
    }
    let pending = ws.session().queued_len();
    assert!(
        pending >= LIMIT - MESSAGE,
        "blocked with only {pending} bytes queued"
    );
    assert!(
        pending <= LIMIT + MESSAGE + 16,
        "{pending} bytes queued past the limit"
    );

    // The Sink says the same: not ready.
    let ready = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut ws).poll_ready(cx))).await;
    assert!(
        ready.is_pending(),
        "Sink::poll_ready while the peer does not read"
    );

    // Once the peer reads, sending resumes.
    let (mut peer, _) = peer;
    let drain = tokio::spawn(async move { common::read_to_end(&mut peer).await.len() });
    common::within(
        "feed after the peer reads",
        ws.feed(Message::Binary(payload)),
    )
    .await
    .expect("feed");
    common::within("flush", ws.flush()).await.expect("flush");
    drop(ws);
    let total = common::within("peer drains", drain)
        .await
        .expect("peer task");
    assert!(
        total >= (queued + 1) * MESSAGE,
        "the peer got {total} bytes"
    );
}

/// A server's large binary messages (64 KiB on) are written from their own storage, after
/// their frame header; while one is outstanding, the session's `pending` stops at it and
/// hides what was queued after it. Those bytes count as well: small messages, and large
/// ones copied behind it, stop at the limit too.
#[tokio::test]
async fn messages_queued_behind_a_large_one_count_toward_the_limit() {
    // Far above one large message, so that the limit, not the payload outstanding, is
    // what must stop the sender.
    const LIMIT: usize = 1 << 20;
    const LARGE: usize = 64 * 1024;
    const MOST: usize = 100_000;
    let (listener, addr) = common::listener().await;
    let mut settings = Settings::default();
    settings.write_buffer_limit = LIMIT;
    settings.ping_interval = None;
    let accepting = async {
        let (tcp, _) = listener.accept().await.expect("accept");
        Acceptor::new()
            .settings(settings)
            .accept(tcp)
            .await
            .expect("handshake")
    };
    let ((mut peer, after_handshake), mut ws) = common::within("handshake", async {
        tokio::join!(common::raw_client(addr), accepting)
    })
    .await;
    let message = |i: usize| {
        if i.is_multiple_of(2) {
            Message::Binary(Bytes::from(vec![i as u8; LARGE]))
        } else {
            Message::Text(format!("small {i}"))
        }
    };
    // Queue as the Sink does, until it says to wait: the socket's buffers fill, then ours
    // up to the limit.
    let mut fed = 0;
    loop {
        let ready = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut ws).poll_ready(cx))).await;
        match ready {
            Poll::Pending => break,
            Poll::Ready(result) => result.expect("poll_ready"),
        }
        Pin::new(&mut ws)
            .start_send(message(fed))
            .expect("start_send");
        fed += 1;
        let queued = ws.session().queued_len();
        assert!(
            queued <= LIMIT + LARGE + 16,
            "{queued} bytes queued after {fed} messages: past the limit"
        );
        assert!(fed < MOST, "sending never waited ({queued} bytes queued)");
    }
    let queued = ws.session().queued_len();
    assert!(
        queued >= LIMIT - LARGE,
        "waited with only {queued} bytes queued"
    );
    assert!(fed >= 2, "a large message and one behind it were queued");

    // Once the peer reads, every message arrives, whole and in order.
    let drain = tokio::spawn(async move { common::read_to_end(&mut peer).await });
    common::within("flush", ws.flush()).await.expect("flush");
    drop(ws);
    let mut input = RecvBuffer::new();
    input.extend_from_slice(&after_handshake);
    input.extend_from_slice(
        &common::within("peer drains", drain)
            .await
            .expect("peer task"),
    );
    let mut client = Session::new(Role::Client, Config::default(), None);
    for i in 0..fed {
        match (client.decode(&mut input).expect("valid frames"), message(i)) {
            (Some(Event::Binary(got)), Message::Binary(sent)) => {
                assert!(got[..] == sent[..], "message {i}: another payload");
            }
            (Some(Event::Text(got)), Message::Text(sent)) => assert_eq!(got, sent),
            (got, _) => panic!("message {i}: got {got:?}"),
        }
    }
    assert!(input.is_empty(), "nothing after the messages fed");
}

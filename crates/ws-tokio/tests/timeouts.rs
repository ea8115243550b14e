//! Keepalive (ping interval, pong timeout: a dead peer is dropped with 1011) and the
//! close timeout (RFC 6455 7.1.1: an answer that never comes is not waited for forever).

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use ws_proto::{CloseCode, Event, RecvBuffer, Role, Session};
use ws_tokio::{ClientBuilder, Error, Message, Settings};

/// Decodes everything a raw peer received, as a client session would.
fn events(bytes: &[u8]) -> Vec<Event<'static>> {
    let mut session = Session::new(Role::Client, ws_proto::Config::default(), None);
    let mut input = RecvBuffer::new();
    input.extend_from_slice(bytes);
    let mut out = Vec::new();
    while let Ok(Some(event)) = session.decode(&mut input) {
        out.push(event.into_owned());
    }
    out
}

#[tokio::test]
async fn keepalive_drops_a_silent_peer_with_1011() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        let first = ws.next().await;
        (first, ws.next().await)
    });
    // A peer that does the handshake and then never answers anything.
    let (mut peer, mut early) = common::raw_client(addr).await;
    let (first, after) = common::within("server gives up", server)
        .await
        .expect("server task");
    match first {
        Some(Err(Error::KeepaliveTimeout(timeout))) => {
            assert_eq!(timeout, Duration::from_millis(200))
        }
        other => panic!("expected a keepalive timeout, got {other:?}"),
    }
    assert!(after.is_none(), "the stream ends after the error");
    // What the peer got: the ping, then a 1011 close, then the end of the connection.
    let received = {
        early.extend(common::read_to_end(&mut peer).await);
        events(&early)
    };
    assert!(
        matches!(received.first(), Some(Event::Ping(_))),
        "{received:?}"
    );
    match received.last() {
        Some(Event::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::INTERNAL_ERROR),
        other => panic!("expected a 1011 close, got {other:?}"),
    }
}

#[tokio::test]
async fn keepalive_keeps_a_live_peer() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        // Ten pong timeouts long with nothing but keepalive traffic.
        let quiet_until = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut pongs = 0;
        while let Ok(message) = tokio::time::timeout_at(quiet_until, ws.next()).await {
            match message {
                Some(Ok(Message::Pong(_))) => pongs += 1,
                other => panic!("the connection should stay open and quiet: {other:?}"),
            }
        }
        assert!(pongs >= 3, "only {pongs} pongs for 2 s of 100 ms keepalive");
        ws.send("still here").await.expect("send");
    });
    // The client answers pings whenever it is polled for messages.
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/")).connect(),
    )
    .await
    .expect("connect");
    let mut pings = 0;
    loop {
        match common::within("message", ws.next())
            .await
            .expect("open")
            .expect("receive")
        {
            Message::Ping(_) => pings += 1,
            Message::Text(text) => {
                assert_eq!(text, "still here");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        pings >= 3,
        "only {pings} keepalive pings in 2 s at a 100 ms interval"
    );
    common::within("server", server).await.expect("server task");
}

#[tokio::test]
async fn close_timeout_when_the_peer_never_answers() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        ws.close(CloseCode::GOING_AWAY, "bye").await
    });
    let (mut peer, mut early) = common::raw_client(addr).await;
    let outcome = common::within("close gives up", server)
        .await
        .expect("server task");
    assert!(
        matches!(outcome, Err(Error::CloseTimeout(t)) if t == Duration::from_millis(300)),
        "{outcome:?}"
    );
    let received = {
        early.extend(common::read_to_end(&mut peer).await);
        events(&early)
    };
    assert!(
        matches!(received.first(), Some(Event::Close(Some(f))) if f.code == CloseCode::GOING_AWAY),
        "{received:?}"
    );
}

#[tokio::test]
async fn client_waits_for_the_server_to_close_tcp_at_most_the_close_timeout() {
    let (listener, addr) = common::listener().await;
    // A server that answers the close frame but keeps TCP open.
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let mut ws = ws_tokio::accept(&mut tcp).await.expect("handshake");
        let message = ws.next().await;
        assert!(
            matches!(message, Some(Ok(Message::Close(_)))),
            "{message:?}"
        );
        // The answer went out with the Close message; TCP stays open.
        drop(ws);
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(tcp);
    });
    let mut settings = Settings::default();
    settings.close_timeout = Duration::from_millis(300);
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/"))
            .settings(settings)
            .connect(),
    )
    .await
    .expect("connect");
    let started = tokio::time::Instant::now();
    let outcome = common::within("close", ws.close(CloseCode::NORMAL, "")).await;
    // The handshake is complete; waiting for the server's TCP close ended at the
    // timeout, which is a normal end.
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait for the server's TCP close"
    );
    server.abort();
}

// The close timeout bounds writing our close frame too: a peer that stopped reading (its
// receive window and ours full) cannot hold `close()` open.
#[tokio::test]
async fn close_timeout_when_the_peer_stops_reading() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        // Send until the socket and the write buffer are full.
        let chunk = vec![7u8; 1 << 16];
        loop {
            let send = ws.send(Message::binary(chunk.clone()));
            if tokio::time::timeout(Duration::from_millis(300), send)
                .await
                .is_err()
            {
                break;
            }
        }
        ws.close(CloseCode::GOING_AWAY, "bye").await
    });
    let (peer, _early) = common::raw_client(addr).await; // never reads again
    let outcome = common::within("close gives up", server)
        .await
        .expect("server task");
    assert!(
        matches!(outcome, Err(Error::CloseTimeout(t)) if t == Duration::from_millis(300)),
        "{outcome:?}"
    );
    drop(peer);
}

// A peer that keeps sending data after our close, and never its own close, is given up
// at the close timeout however readable its socket stays.
#[tokio::test]
async fn close_timeout_when_the_peer_keeps_sending() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        ws.close(CloseCode::GOING_AWAY, "bye").await
    });
    let (peer, _early) = common::raw_client(addr).await;
    let (_read, mut write) = peer.into_split();
    let flood = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        // Masked one-byte binary frames (mask key 0), a megabyte at a time.
        let frames: Vec<u8> = [0x82u8, 0x81, 0, 0, 0, 0, 1].repeat(150_000);
        while write.write_all(&frames).await.is_ok() {}
    });
    let outcome = common::within("close gives up", server)
        .await
        .expect("server task");
    assert!(
        matches!(outcome, Err(Error::CloseTimeout(t)) if t == Duration::from_millis(300)),
        "{outcome:?}"
    );
    flood.abort();
}

//! Cancel safety: `next()` dropped over and over inside `tokio::select!` while a peer
//! sends many fragmented messages in small pieces; every message arrives whole, intact
//! and in order.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use ws_tokio::{Message, MessageKind};

const MESSAGES: usize = 300;

fn payload(i: usize) -> String {
    format!("message {i}: ") + &"é∂🦀".repeat(i % 40 + 1)
}

#[tokio::test]
async fn recv_cancelled_in_select_loses_nothing() {
    let (listener, addr) = common::listener().await;
    // The peer: a raw session whose frames go out a few bytes at a time, so that the
    // receiver's reads end mid-frame and mid-message all the time.
    let peer = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let ws = ws_tokio::accept(&mut tcp).await.expect("handshake");
        drop(ws);
        let mut session =
            ws_proto::Session::new(ws_proto::Role::Server, ws_proto::Config::default(), None);
        for i in 0..MESSAGES {
            let text = payload(i);
            let bytes = text.as_bytes();
            let pieces: Vec<&[u8]> = bytes.chunks(7).collect();
            for (n, piece) in pieces.iter().enumerate() {
                session
                    .send_fragment(MessageKind::Text, piece, n + 1 == pieces.len())
                    .expect("fragment");
            }
            if i % 10 == 0 {
                session.send_ping(b"p").expect("ping");
            }
            let out = session.pending().to_vec();
            session.advance(out.len());
            for chunk in out.chunks(3) {
                tcp.write_all(chunk).await.expect("write");
                tcp.flush().await.expect("flush");
                tokio::task::yield_now().await;
            }
        }
        session
            .close(ws_proto::CloseCode::NORMAL, "done")
            .expect("close");
        let out = session.pending().to_vec();
        tcp.write_all(&out).await.expect("write close");
        // RFC 6455 7.1.1: the server closes TCP first (the client waits for it); it
        // reads what the client sent (pongs, the close answer) so that closing does not
        // reset the connection.
        tcp.shutdown().await.expect("shutdown");
        common::read_to_end(&mut tcp).await;
    });

    let mut ws = common::within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    let mut received = Vec::new();
    let mut cancelled = 0usize;
    let mut timer = tokio::time::interval(Duration::from_micros(50));
    let receiving = async {
        loop {
            tokio::select! {
                message = ws.next() => match message {
                    Some(Ok(Message::Text(text))) => received.push(text),
                    Some(Ok(Message::Ping(_))) => {}
                    Some(Ok(Message::Close(_))) => {}
                    None => break,
                    other => panic!("unexpected {other:?}"),
                },
                _ = timer.tick() => cancelled += 1,
            }
        }
    };
    common::within("all messages", receiving).await;
    assert!(
        cancelled > 10,
        "recv was cancelled mid-way only {cancelled} times"
    );
    assert_eq!(received.len(), MESSAGES);
    for (i, text) in received.iter().enumerate() {
        assert_eq!(text, &payload(i), "message {i}");
    }
    common::within("peer", peer).await.expect("peer task");
    assert!(ws.session().is_closed());
}

// Split halves in two tasks: the reader's `next()` dropped over and over inside
// `tokio::select!` while the writer sends, then while keepalive pings go back and forth
// (on both sides; they only start once the connection is quiet for an interval, so the
// writer stops after 500 messages). Every echo arrives whole and in order, neither end
// drops the other for a missed pong (the reader answers pings between its
// cancellations), and the close ends both halves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_cancelled_in_select_while_both_ends_ping_lose_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    const KEEPALIVES: usize = 3;
    const AT_LEAST: usize = 500;
    let addr =
        common::echo_server(ws_tokio::Acceptor::new().settings(common::quick_keepalive())).await;
    let ws = common::within(
        "connect",
        ws_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .settings(common::quick_keepalive())
            .connect(),
    )
    .await
    .expect("connect");
    let (mut reader, mut writer) = ws.split();
    let stop = Arc::new(AtomicBool::new(false));
    let sending = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                writer
                    .send(Message::text(payload(sent)))
                    .await
                    .expect("send");
                sent += 1;
                tokio::task::yield_now().await;
            }
            (writer, sent)
        })
    };
    let receiving = tokio::spawn(async move {
        let mut timer = tokio::time::interval(Duration::from_micros(50));
        // Pings from the server and pongs for the client's own.
        let (mut received, mut keepalives, mut cancelled) = (0usize, 0usize, 0usize);
        while keepalives < KEEPALIVES {
            tokio::select! {
                message = reader.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        assert_eq!(text, payload(received), "message {received}");
                        received += 1;
                        if received == AT_LEAST {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => keepalives += 1,
                    other => panic!("unexpected {other:?}"),
                },
                _ = timer.tick() => cancelled += 1,
            }
        }
        (reader, received, cancelled)
    });
    let (mut reader, mut received, cancelled) =
        common::within("messages, then keepalive", receiving)
            .await
            .expect("receiver task");
    assert!(
        cancelled > 10,
        "next() was cancelled only {cancelled} times"
    );
    let (mut writer, sent) = common::within("sender", sending)
        .await
        .expect("sender task");
    // The echoes still on their way, then the close.
    let closing = async {
        writer
            .close(ws_tokio::CloseCode::NORMAL, "done")
            .await
            .expect("close");
        while let Some(item) = reader.next().await {
            match item.expect("no error while closing") {
                Message::Text(text) => {
                    assert_eq!(text, payload(received), "message {received}");
                    received += 1;
                }
                Message::Close(frame) => {
                    assert_eq!(frame.expect("a code").code, ws_tokio::CloseCode::NORMAL)
                }
                _ => {}
            }
        }
    };
    common::within("close", closing).await;
    assert_eq!(received, sent, "every message echoed");
}

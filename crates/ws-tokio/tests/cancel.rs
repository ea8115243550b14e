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

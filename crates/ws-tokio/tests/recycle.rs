//! Recycled storage (`Settings::recycle_limit`, `recycled_bytes`): a large message's
//! storage, once the message was sent and no one else holds it, takes the next large
//! message read on the same thread, without being cleared; the thread's pool stays
//! within the limit; and large messages of every size around the hand-over threshold
//! (64 KiB) and the recycled storage's size arrive intact, with and without
//! permessage-deflate, whole or split.

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::{echo_server, listener, within};
use futures_util::StreamExt;
use ws_tokio::{Acceptor, DeflateConfig, Message, Settings};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// A payload of `len` bytes that differs from every other length's and index's.
fn payload(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(131) ^ (i >> 8)) as u8)
        .collect()
}

/// Text of exactly `len` bytes (ASCII, varied).
fn text(len: usize, seed: usize) -> String {
    payload(len, seed)
        .into_iter()
        .map(|b| char::from(b'a' + b % 26))
        .collect()
}

/// Sizes around the hand-over threshold (64 KiB), one read (16 KiB) past it, and around
/// 1 MiB; each after larger and smaller ones, so that a message lands in recycled
/// storage larger than it, of its size, and too small for it.
fn sizes() -> Vec<usize> {
    vec![
        64 * KIB - 1,
        64 * KIB,
        64 * KIB + 1,
        80 * KIB - 1,
        80 * KIB,
        80 * KIB + 1,
        MIB,
        MIB,
        MIB - 16 * KIB - 1,
        MIB - 16 * KIB,
        MIB + 1,
        100 * KIB,
        2 * MIB + 3,
        70 * KIB,
        MIB,
    ]
}

/// A client on its own thread ([`common::echo_client_thread`]) sending `count` binary
/// messages of `len` bytes, each different, and checking each echo.
fn client_thread(addr: SocketAddr, count: usize, len: usize) -> std::thread::JoinHandle<()> {
    common::echo_client_thread(addr, count, move |i| {
        Message::Binary(Bytes::from(payload(len, i)))
    })
}

// ----- Reuse: the next large message arrives in the last one's storage -----

#[tokio::test]
async fn the_next_large_message_arrives_in_the_storage_of_the_last_one_sent() {
    let (listener, addr) = listener().await;
    let client = client_thread(addr, 4, MIB);
    let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
    let mut ws = within("handshake", ws_tokio::accept(tcp))
        .await
        .expect("handshake");
    let mut last_storage = None;
    for i in 0..4 {
        let message = within("message", ws.next())
            .await
            .expect("open")
            .expect("message");
        assert_eq!(recycled_now(), 0, "message {i}: the storage is lent out");
        let at = message.as_bytes().as_ptr().addr();
        if let Some(last) = last_storage {
            assert_eq!(
                at, last,
                "message {i}: read into the previous message's storage"
            );
        }
        last_storage = Some(at);
        within("echo", ws.send(message)).await.expect("echo");
        assert!(
            recycled_now() >= MIB + 16 * KIB,
            "message {i}: written, its storage is kept: {}",
            recycled_now()
        );
    }
    assert!(
        within("close", ws.next())
            .await
            .is_some_and(|m| matches!(m, Ok(Message::Close(_)))),
        "the client closes"
    );
    client.join().expect("client");
}

/// What this thread's pool holds now.
fn recycled_now() -> usize {
    ws_tokio::recycled_bytes()
}

#[tokio::test]
async fn a_message_still_held_elsewhere_is_not_recycled() {
    let (listener, addr) = listener().await;
    let client = client_thread(addr, 2, MIB);
    let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
    let mut ws = within("handshake", ws_tokio::accept(tcp))
        .await
        .expect("handshake");
    let mut held = Vec::new();
    for _ in 0..2 {
        let message = within("message", ws.next())
            .await
            .expect("open")
            .expect("message");
        held.push(message.clone());
        within("echo", ws.send(message)).await.expect("echo");
        assert_eq!(recycled_now(), 0, "a clone holds the storage: not reused");
    }
    let end = within("close", ws.next()).await;
    assert!(matches!(end, Some(Ok(Message::Close(_)))));
    client.join().expect("client");
    assert_eq!(
        held[0].as_bytes(),
        &payload(MIB, 0)[..],
        "what is held stays intact"
    );
    assert_eq!(held[1].as_bytes(), &payload(MIB, 1)[..]);
}

// ----- The bound: Settings::recycle_limit -----

/// Echoes `count` messages of `len` bytes on one connection with `settings`, and returns
/// the most this thread's pool held after each echo.
async fn most_recycled(settings: Settings, count: usize, len: usize) -> usize {
    let (listener, addr) = listener().await;
    let client = client_thread(addr, count, len);
    let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
    let mut ws = within("handshake", Acceptor::new().settings(settings).accept(tcp))
        .await
        .expect("handshake");
    let mut most = 0;
    while let Some(message) = within("message", ws.next()).await {
        let message = message.expect("message");
        if message.is_data() {
            within("echo", ws.send(message)).await.expect("echo");
            most = most.max(recycled_now());
        }
    }
    client.join().expect("client");
    most
}

fn with_limit(limit: usize) -> Settings {
    let mut settings = Settings::default();
    settings.recycle_limit = limit;
    settings
}

#[test]
fn the_default_keeps_a_few_large_messages() {
    assert_eq!(Settings::default().recycle_limit, 4 * MIB);
}

#[tokio::test]
async fn a_limit_of_zero_keeps_nothing() {
    assert_eq!(most_recycled(with_limit(0), 3, MIB).await, 0);
}

#[tokio::test]
async fn storage_larger_than_the_limit_is_freed() {
    assert_eq!(
        most_recycled(with_limit(MIB), 3, MIB).await,
        0,
        "1 MiB + a read's room"
    );
    assert_eq!(recycled_now(), 0);
}

#[tokio::test]
async fn several_connections_stay_within_the_limit_together() {
    // Three connections on this thread, each echoing 1 MiB messages at once: each one's
    // storage is kept in turn, but never more than two of them (2.5 MiB limit).
    let limit = 2 * MIB + MIB / 2;
    let (listener, addr) = listener().await;
    let clients: Vec<_> = (0..3).map(|_| client_thread(addr, 6, MIB)).collect();
    let mut servers = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
        servers.spawn(async move {
            let acceptor = Acceptor::new().settings(with_limit(limit));
            let mut ws = within("handshake", acceptor.accept(tcp))
                .await
                .expect("handshake");
            let mut most = 0;
            while let Some(Ok(message)) = within("message", ws.next()).await {
                if message.is_data() {
                    within("echo", ws.send(message)).await.expect("echo");
                    most = most.max(recycled_now());
                }
            }
            most
        });
    }
    let mut most = 0;
    while let Some(done) = within("servers", servers.join_next()).await {
        most = most.max(done.expect("server task"));
    }
    for client in clients {
        client.join().expect("client");
    }
    assert!(most > 0, "storage was kept");
    assert!(most <= limit, "{most} bytes kept, limit {limit}");
    assert!(recycled_now() <= limit);
}

// ----- Large messages intact, whatever storage they land in -----

/// Every size of [`sizes`] as binary and as text, one at a time and then all queued in
/// one batch (so that large frames start in the middle of a read), through a server
/// with `acceptor`.
async fn every_size_intact(acceptor: Acceptor, deflate: bool) {
    let addr = echo_server(acceptor).await;
    let offer = deflate.then(DeflateConfig::default);
    let mut ws = common::connect(addr, offer).await;
    assert_eq!(ws.is_compressing(), deflate);
    let messages: Vec<Message> = sizes()
        .into_iter()
        .enumerate()
        .flat_map(|(i, len)| {
            [
                Message::Binary(Bytes::from(payload(len, i))),
                Message::Text(text(len, i)),
            ]
        })
        .collect();
    common::check_echo(&mut ws, &messages).await;
    // The batch (about 17 MB) is more than the sockets' buffers may hold while nobody
    // reads the echoes: read them while the batch is written, or both ends stall.
    let (mut reader, mut writer) = ws.split();
    let send = async {
        for message in &messages {
            within("feed", writer.feed(message.clone()))
                .await
                .expect("feed");
        }
        within("flush", writer.flush()).await.expect("flush");
    };
    let receive = async {
        for (i, message) in messages.iter().enumerate() {
            let echoed = within("echo", reader.next())
                .await
                .expect("open")
                .expect("echo");
            assert!(
                echoed == *message,
                "batched message {i} ({} bytes) differs",
                message.as_bytes().len()
            );
        }
    };
    tokio::join!(send, receive);
    let ws = reader.reunite(writer).expect("same stream");
    common::close(ws).await;
}

#[tokio::test]
async fn every_size_intact_without_deflate() {
    every_size_intact(Acceptor::new(), false).await;
}

#[tokio::test]
async fn every_size_intact_with_deflate() {
    every_size_intact(
        Acceptor::new().deflate(Some(DeflateConfig::default())),
        true,
    )
    .await;
}

#[tokio::test]
async fn every_size_intact_without_recycling() {
    every_size_intact(Acceptor::new().settings(with_limit(0)), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_size_intact_through_split_halves_on_two_threads() {
    // The server splits: its reader hands each message to a writer task (possibly on
    // the other worker thread, with its own pool), which echoes it.
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let ws = ws_tokio::accept(tcp).await.expect("handshake");
        let (mut reader, mut writer) = ws.split();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                if writer.send(message).await.is_err() {
                    return;
                }
            }
        });
        while let Some(Ok(message)) = reader.next().await {
            if message.is_data() && tx.send(message).await.is_err() {
                return;
            }
        }
    });
    let mut ws = common::connect(addr, None).await;
    let (mut reader, mut writer) = ws.split();
    let sent: Vec<Message> = sizes()
        .into_iter()
        .enumerate()
        .map(|(i, len)| Message::Binary(Bytes::from(payload(len, i))))
        .collect();
    let expected = sent.clone();
    let sending = tokio::spawn(async move {
        for message in sent {
            writer.feed(message).await.expect("feed");
        }
        writer.flush().await.expect("flush");
        writer
    });
    for (i, message) in expected.iter().enumerate() {
        let echoed = within("echo", reader.next())
            .await
            .expect("open")
            .expect("echo");
        assert!(echoed == *message, "message {i} differs");
    }
    let writer = within("sender", sending).await.expect("sender");
    ws = reader.reunite(writer).expect("same stream");
    common::close(ws).await;
}

//! The read that waits: after a read that took less than the room it was offered (the
//! transport is drained), the next read, with nothing left in the receive buffer, is
//! offered no room, which registers the wakeup without preparing a buffer. A transport
//! may answer such a read at once (`Ready` with nothing read, as `AsyncRead` allows for
//! a read with no room): that is neither data nor the end of the stream, and the stream
//! reads for real then, and stops offering such reads once the read for real after one
//! waits. Over real sockets, through a transport that counts those reads
//! ([`common::NoRoomCounter`]); `tests/tls.rs` checks the same over tokio-rustls.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::{NoRoomCounter, check_echo, listener, within};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use ws_tokio::{Acceptor, Message, WebSocketStream};

/// Accepts one connection from `listener` and completes its handshake over a
/// [`NoRoomCounter`] transport that counts into `no_room`.
async fn accept_counted(
    listener: tokio::net::TcpListener,
    at_once: bool,
    no_room: Arc<AtomicUsize>,
) -> WebSocketStream<NoRoomCounter<tokio::net::TcpStream>> {
    let (tcp, _) = listener.accept().await.expect("accept");
    let io = NoRoomCounter {
        inner: tcp,
        at_once,
        no_room,
    };
    Acceptor::new().accept(io).await.expect("handshake")
}

/// An echo server for one connection over a [`NoRoomCounter`] transport; returns its address,
/// the counter of reads offered no room, and the server's task.
async fn counted_echo_server(
    at_once: bool,
) -> (
    std::net::SocketAddr,
    Arc<AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let (listener, addr) = listener().await;
    let no_room = Arc::new(AtomicUsize::new(0));
    let counter = no_room.clone();
    let server = tokio::spawn(async move {
        common::echo(accept_counted(listener, at_once, counter).await).await;
    });
    (addr, no_room, server)
}

fn message(i: usize) -> Message {
    match i % 3 {
        0 => Message::text(format!("message {i}")),
        1 => Message::binary(Bytes::from(vec![i as u8; i])),
        _ => Message::text("ü".repeat(i * 50)),
    }
}

/// Has `singles` messages echoed one at a time, then a batch of 16 (several messages in
/// one read, then the read that waits), each echo checked.
async fn exchange<S>(ws: &mut WebSocketStream<S>, singles: usize)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for i in 0..singles {
        check_echo(ws, &[message(i)]).await;
    }
    let batch: Vec<Message> = (0..16).map(message).collect();
    for m in &batch {
        within("feed", ws.feed(m.clone())).await.expect("feed");
    }
    within("flush", ws.flush()).await.expect("flush");
    for m in &batch {
        let echoed = within("echo", ws.next())
            .await
            .expect("open")
            .expect("echo");
        assert_eq!(&echoed, m);
    }
}

/// Echoes 100 messages one at a time, then a batch of 16; returns how many reads the
/// server was offered no room for.
async fn echo_one_at_a_time(at_once: bool) -> usize {
    let (addr, no_room, server) = counted_echo_server(at_once).await;
    let mut ws = common::connect(addr, None).await;
    exchange(&mut ws, 100).await;
    common::close(ws).await;
    within("server ends", server).await.expect("server task");
    no_room.load(Ordering::Relaxed)
}

#[tokio::test]
async fn the_read_that_waits_is_offered_no_room_and_loses_nothing() {
    let waits = echo_one_at_a_time(false).await;
    assert!(
        waits >= 100,
        "each message drained the socket, so the read after it was offered no room: {waits} such reads"
    );
}

#[tokio::test]
async fn a_transport_answering_reads_without_room_at_once_is_read_for_real_then_not_probed() {
    let waits = echo_one_at_a_time(true).await;
    // The first such read was answered at once and the read for real after it waited:
    // the connection makes no more of them (for it they would be a second pass through
    // the transport's read path per message).
    assert!(
        (1..=3).contains(&waits),
        "probed, then read as before: {waits} reads offered no room over 116 messages"
    );
}

/// A peer that sends a frame and then ends TCP without a close frame: after the message,
/// the end of the stream is seen (RFC 6455 7.1.5: 1006, an error), in both modes.
async fn end_without_close(at_once: bool) {
    let (listener, addr) = listener().await;
    let no_room = Arc::new(AtomicUsize::new(0));
    let counter = no_room.clone();
    let server = tokio::spawn(async move {
        let mut ws = accept_counted(listener, at_once, counter).await;
        let first = within("message", ws.next())
            .await
            .expect("open")
            .expect("message");
        let end = within("end", ws.next()).await;
        (first, end)
    });
    let (mut tcp, _) = common::raw_client(addr).await;
    // A masked text frame "hi" (RFC 6455 5.2, 5.3), then FIN without a close frame.
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 2];
    frame.extend_from_slice(&mask);
    frame.extend(b"hi".iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    tcp.write_all(&frame).await.expect("write frame");
    // Let the server drain the socket (and wait on a read with no room) before the FIN.
    within("server waits", async {
        while no_room.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    tcp.shutdown().await.expect("FIN");
    let (first, end) = within("server", server).await.expect("server task");
    assert_eq!(first, Message::text("hi"));
    assert!(
        matches!(
            end,
            Some(Err(ws_tokio::Error::Protocol(
                ws_tokio::ws_proto::Error::AbnormalClosure
            )))
        ),
        "expected the end of the stream as an error (1006), got {end:?}"
    );
}

#[tokio::test]
async fn the_end_of_the_stream_after_a_drained_read_is_seen() {
    end_without_close(false).await;
}

#[tokio::test]
async fn the_end_of_the_stream_is_seen_when_reads_without_room_answer_at_once() {
    end_without_close(true).await;
}

/// An in-memory transport (`tokio::io::duplex`) with a buffer smaller than most
/// messages: every read is short, so every read after one is offered no room while the
/// writer is still filling the buffer. Echoes lose nothing and never hang, on both
/// sides; the end of the stream after a message is 1006 on the server.
async fn duplex_echo(capacity: usize) {
    use tokio::io::duplex;
    let (client_io, server_io) = duplex(capacity);
    let server = tokio::spawn(async move {
        let ws = Acceptor::new().accept(server_io).await.expect("handshake");
        common::echo(ws).await;
    });
    let mut ws = within(
        "connect",
        ws_tokio::ClientBuilder::new("ws://localhost/").connect_on(client_io),
    )
    .await
    .expect("connect");
    exchange(&mut ws, 60).await;
    common::close(ws).await;
    within("server ends", server).await.expect("server task");
}

#[tokio::test]
async fn a_duplex_stream_with_a_tiny_buffer_loses_nothing() {
    duplex_echo(7).await;
}

#[tokio::test]
async fn a_duplex_stream_loses_nothing() {
    duplex_echo(4096).await;
}

/// A peer over `tokio::io::duplex` that sends a message and then goes away (its half
/// dropped, no close frame): the message, then 1006, not a hang.
#[tokio::test]
async fn the_end_of_a_duplex_stream_after_a_message_is_seen() {
    let (mut peer, server_io) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        let mut ws = Acceptor::new().accept(server_io).await.expect("handshake");
        let first = within("message", ws.next()).await;
        let end = within("end", ws.next()).await;
        (first, end)
    });
    peer.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("request");
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 2];
    frame.extend_from_slice(&mask);
    frame.extend(b"hi".iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    peer.write_all(&frame).await.expect("frame");
    // Read the handshake response so the server is not blocked writing, then let the
    // server drain and wait, then go away.
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        within(
            "response",
            tokio::io::AsyncReadExt::read_exact(&mut peer, &mut byte),
        )
        .await
        .expect("response");
        response.push(byte[0]);
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    drop(peer);
    let (first, end) = within("server", server).await.expect("server task");
    assert_eq!(first.expect("open").expect("message"), Message::text("hi"));
    assert!(
        matches!(
            end,
            Some(Err(ws_tokio::Error::Protocol(
                ws_tokio::ws_proto::Error::AbnormalClosure
            )))
        ),
        "expected 1006, got {end:?}"
    );
}

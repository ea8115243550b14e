//! A connection that stops inside a frame, or inside its handshake request, must not keep
//! the thread's recycled storage of a large message (issue 17: memory per idle
//! connection): its few bytes move to a buffer of their own as it goes idle, and the
//! storage stays in the thread's pool for the next large message. ws-server-blocking had
//! the same flaw (its tests/adversarial.rs); these fail without ws-tokio's fix
//! (`recycle::take_back_input`).

mod common;

use std::time::Duration;

use common::{listener, raw_client, within};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::{Message, WebSocketStream};

const MIB: usize = 1024 * 1024;

/// A 1 MiB echo on a first connection, from a client on another thread: its storage goes
/// to this thread's pool. Returns the server's end of that connection and the client's
/// thread, which closes once the echo is back.
async fn one_large_echo(
    listener: &TcpListener,
) -> (WebSocketStream<TcpStream>, std::thread::JoinHandle<()>) {
    let addr = listener.local_addr().expect("addr");
    let client = common::echo_client_thread(addr, 1, |_| {
        Message::Binary(bytes::Bytes::from(vec![7u8; MIB]))
    });
    let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
    let mut large = within("handshake", ws_tokio::accept(tcp))
        .await
        .expect("handshake");
    let message = within("message", large.next())
        .await
        .expect("open")
        .expect("message");
    within("echo", large.send(message)).await.expect("echo");
    assert!(
        ws_tokio::recycled_bytes() >= MIB,
        "the echo's storage is kept"
    );
    (large, client)
}

/// The first connection's client closes: answered, it ends cleanly (the server closes
/// TCP, which the client waits for before its thread ends).
async fn finish(mut large: WebSocketStream<TcpStream>, client: std::thread::JoinHandle<()>) {
    let end = within("close", large.next()).await;
    assert!(matches!(end, Some(Ok(Message::Close(_)))), "{end:?}");
    assert!(
        within("end", large.next()).await.is_none(),
        "the stream ends"
    );
    client.join().expect("client");
}

#[tokio::test]
async fn a_connection_one_byte_into_a_frame_leaves_the_recycled_storage() {
    let (listener, addr) = listener().await;
    let (large, client) = one_large_echo(&listener).await;
    // Another connection: one byte of a frame header, then nothing.
    let (accepted, (mut peer, _)) = tokio::join!(
        async {
            let (tcp, _) = listener.accept().await.expect("accept");
            ws_tokio::accept(tcp).await.expect("handshake")
        },
        raw_client(addr)
    );
    let mut partial = accepted;
    peer.write_all(&[0x81]).await.expect("write");
    peer.flush().await.expect("flush");
    // The byte is there before the stream is polled: it is read, and the stream waits.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), partial.next())
            .await
            .is_err(),
        "nothing to deliver yet"
    );
    assert!(
        ws_tokio::recycled_bytes() >= MIB,
        "one byte into a frame, the connection holds the 1 MiB storage: pool has {}",
        ws_tokio::recycled_bytes()
    );
    // The rest of the frame completes it: the byte was kept.
    peer.write_all(&[0x83, 1, 2, 3, 4, b'o' ^ 1, b'k' ^ 2, b'!' ^ 3])
        .await
        .expect("write");
    let message = within("message", partial.next())
        .await
        .expect("open")
        .expect("message");
    assert_eq!(message, Message::Text("ok!".into()));
    drop(partial);
    finish(large, client).await;
}

#[tokio::test]
async fn a_connection_inside_its_handshake_request_leaves_the_recycled_storage() {
    let (listener, addr) = listener().await;
    let (large, client) = one_large_echo(&listener).await;
    // Another connection sends the first line of its request, then nothing.
    let mut peer = TcpStream::connect(addr).await.expect("connect");
    let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
    let (_, request) = ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
        .port(addr.port())
        .build()
        .expect("request");
    let (first, rest) = request.split_at(16);
    peer.write_all(first).await.expect("write");
    peer.flush().await.expect("flush");
    // The bytes are there before the handshake is polled: they are read, and it waits.
    let mut accepting = Box::pin(ws_tokio::accept(tcp));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut accepting)
            .await
            .is_err(),
        "the request is not whole yet"
    );
    assert!(
        ws_tokio::recycled_bytes() >= MIB,
        "16 bytes into its request, the connection holds the 1 MiB storage: pool has {}",
        ws_tokio::recycled_bytes()
    );
    // The rest of the request completes it: the bytes were kept.
    peer.write_all(rest).await.expect("write");
    let accepted = within("handshake", accepting).await;
    assert!(accepted.is_ok(), "{:?}", accepted.err());
    finish(large, client).await;
}

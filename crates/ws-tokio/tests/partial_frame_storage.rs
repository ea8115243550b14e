//! A connection that stops inside a frame, or inside its handshake request, must not keep
//! the thread's recycled storage of a large message (issue 17: memory per idle
//! connection): its few bytes move to a buffer of their own as it goes idle, and the
//! storage stays in the thread's pool for the next large message. ws-server-blocking had
//! the same flaw (its tests/adversarial.rs); these fail without ws-tokio's fix
//! (`recycle::take_back_input`).

mod common;

use std::time::Duration;

use common::{listener, masked_frame, raw_client, read_frame, within};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// Where stalled connection `i` of a `kind` (0 to 3) stops: after `sent` bytes of
/// `whole`, a frame whose echo carries `payload` (`None`: a handshake request, answered
/// with 101). Made again when the connection resumes, so that the test itself holds none
/// of it meanwhile.
fn stall_point(
    kind: usize,
    i: usize,
    addr: std::net::SocketAddr,
) -> (Vec<u8>, usize, Option<Vec<u8>>) {
    let payload: Vec<u8> = (0..4000).map(|b| (b * 7 + i) as u8).collect();
    let (data, sent) = match kind {
        0 => (b"header".to_vec(), 1),
        1 => (payload[..100].to_vec(), 50),
        2 => (payload, 1000),
        _ => {
            let (_, request) = ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
                .port(addr.port())
                .build()
                .expect("request");
            return (request, 16, None);
        }
    };
    (masked_frame(0x2, &data), sent, Some(data))
}

// 800 connections on an echo server, each left at one of four points: one byte into a
// frame's header, inside a short frame's payload, 1,000 bytes into a 4,000-byte frame,
// and 16 bytes into a handshake request; each frame's first bytes were written with a
// whole message before them, whose echo comes back once the server has read them and gone
// idle (one thread: the server's task runs to its wait before the client's resumes). The
// thread's receive scratch is 16 KiB: a connection that kept it for its few bytes would
// hold 12.5 MiB among them (they did, before the fix: 22.5 KiB a connection, both ends
// counted). Each may hold what it sent, its task and its sockets: at most 4 KiB a
// connection, both ends counted (2.3 KiB with the fix). Then every frame (and request) completes and is answered exactly.
#[test]
fn many_connections_stalled_inside_frames_hold_about_what_they_sent() {
    const EACH: usize = 200;
    const PER_CONNECTION_MAX: i64 = 4 * 1024;
    // One thread runs the server and the clients: the bytes they hold are counted on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, mut warm) = runtime.block_on(async {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(ws) = ws_tokio::accept(tcp).await {
                        common::echo(ws).await;
                    }
                });
            }
        });
        // Warm up: connections and echoes, so that what the thread keeps for good (its
        // scratch, the runtime's structures) is allocated before the counting starts.
        let mut warm = Vec::new();
        for _ in 0..20 {
            let (mut tcp, _) = raw_client(addr).await;
            tcp.write_all(&masked_frame(0x2, &[1; 1000]))
                .await
                .expect("write");
            assert_eq!(read_frame(&mut tcp).await, (0x82, vec![1; 1000]));
            warm.push(tcp);
        }
        (addr, warm)
    });
    let mut stalled = Vec::with_capacity(4 * EACH);
    let held = allocation_counter::measure(|| {
        runtime.block_on(async {
            for i in 0..EACH {
                for kind in 0..4 {
                    let (whole, sent, payload) = stall_point(kind, i, addr);
                    let tcp = if payload.is_some() {
                        let (mut tcp, _) = raw_client(addr).await;
                        let mut first = masked_frame(0x2, b"echo first");
                        first.extend_from_slice(&whole[..sent]);
                        tcp.write_all(&first).await.expect("write");
                        assert_eq!(read_frame(&mut tcp).await, (0x82, b"echo first".to_vec()));
                        tcp
                    } else {
                        let mut tcp = TcpStream::connect(addr).await.expect("connect");
                        tcp.write_all(&whole[..sent]).await.expect("write");
                        tcp
                    };
                    stalled.push((tcp, kind, i));
                }
            }
            // A last echo on a warm connection: the handshake requests were read meanwhile.
            tcp_echo(&mut warm[0]).await;
        });
    })
    .bytes_current;
    let per_connection = held / stalled.len() as i64;
    eprintln!(
        "{} stalled connections hold {held} bytes: {per_connection} each",
        stalled.len()
    );
    assert!(
        per_connection <= PER_CONNECTION_MAX,
        "{} stalled connections hold {held} bytes, {per_connection} each (at most {PER_CONNECTION_MAX})",
        stalled.len()
    );
    // Every frame completes, and is echoed exactly; every request is answered.
    runtime.block_on(async {
        for (mut tcp, kind, i) in stalled {
            let (whole, sent, payload) = stall_point(kind, i, addr);
            tcp.write_all(&whole[sent..]).await.expect("write");
            match payload {
                Some(payload) => assert_eq!(read_frame(&mut tcp).await, (0x82, payload)),
                None => {
                    let mut answer = [0u8; 12];
                    within("101", tcp.read_exact(&mut answer))
                        .await
                        .expect("read");
                    assert_eq!(&answer, b"HTTP/1.1 101");
                }
            }
        }
    });
}

/// One small echo on a raw connection.
async fn tcp_echo(tcp: &mut TcpStream) {
    tcp.write_all(&masked_frame(0x2, b"sync"))
        .await
        .expect("write");
    assert_eq!(read_frame(tcp).await, (0x82, b"sync".to_vec()));
}

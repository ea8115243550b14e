//! A connection that stops inside a frame must not keep the thread's recycled storage of a
//! large message (issue 17: memory per idle connection). ws-server-blocking had the same
//! flaw, fixed there (its tests/adversarial.rs); this one is ws-tokio's, left to the
//! recycling work under way (the test fails until then).

mod common;

use std::time::Duration;

use common::{listener, raw_client, within};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use ws_tokio::Message;

const MIB: usize = 1024 * 1024;

#[tokio::test]
#[ignore = "fails until ws-tokio's recycling (branch tokio-unify) sheds a partial frame's large storage: run with --ignored"]
async fn a_connection_one_byte_into_a_frame_leaves_the_recycled_storage() {
    let (listener, addr) = listener().await;
    // A 1 MiB echo on one connection: its storage goes to this thread's pool.
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let mut ws = within(
                "connect",
                ws_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
                    .deflate(None)
                    .connect(),
            )
            .await
            .expect("connect");
            let sent = bytes::Bytes::from(vec![7u8; MIB]);
            within("send", ws.send(Message::Binary(sent.clone())))
                .await
                .expect("send");
            let echoed = within("echo", ws.next())
                .await
                .expect("open")
                .expect("echo");
            assert_eq!(echoed, Message::Binary(sent));
            common::close(ws).await;
        });
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
    drop(partial);
    // The first client closes: answered, it ends cleanly.
    let end = within("close", large.next()).await;
    assert!(matches!(end, Some(Ok(Message::Close(_)))), "{end:?}");
    client.join().expect("client");
}

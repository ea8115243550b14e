//! The write buffer bound: a peer that never reads cannot grow the sender's memory past
//! `Settings::write_buffer_limit` (plus the one message being queued).

mod common;

use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Sink;
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
                let pending = ws.session().pending().len();
                assert!(pending <= LIMIT + MESSAGE + 16, "{pending} bytes queued");
                // Write what the socket takes, as a recv or flush would.
                let _ = tokio::time::timeout(Duration::from_millis(1), ws.flush()).await;
            }
            Err(_) => break,
        }
        assert!(queued < 1_000_000, "sending never waited");
    }
    let pending = ws.session().pending().len();
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

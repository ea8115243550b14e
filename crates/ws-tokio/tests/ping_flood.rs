//! A peer that sends pings without end and never reads: every ping asks for a pong
//! (RFC 6455 5.5.2), and pongs that cannot be written must not pile up without bound.
//! The server's queued output (`Session::queued_len`) stays within a figure the test
//! states, however many pings arrive. Real sockets on 127.0.0.1.

mod common;

use common::{listener, masked_frame, raw_client, within};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use ws_tokio::Message;

/// Pings the peer sends: 64 MiB of them, far past what the sockets' buffers hold.
const PINGS: usize = 512 * 1024;
/// The most output the server may hold queued: the write buffer limit (128 KiB by
/// default) and one pong's worth more, with room to spare.
const QUEUED_MAX: usize = 256 * 1024;

#[tokio::test]
async fn pongs_for_a_peer_that_never_reads_stay_bounded() {
    let (listener, addr) = listener().await;
    let (accepted, (mut peer, _)) = tokio::join!(
        async {
            let (tcp, _) = listener.accept().await.expect("accept");
            ws_tokio::accept(tcp).await.expect("handshake")
        },
        raw_client(addr)
    );
    let mut ws = accepted;
    let server = tokio::spawn(async move {
        let (mut pings, mut most_queued) = (0usize, 0usize);
        while let Some(item) = ws.next().await {
            match item {
                Ok(Message::Ping(_)) => pings += 1,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => break,
            }
            most_queued = most_queued.max(ws.session().queued_len());
        }
        (pings, most_queued)
    });
    // 120-byte pings (as large as they may be, nearly), in batches; the peer never reads.
    let ping = masked_frame(0x9, &[7; 120]);
    let batch: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1024)
        .collect();
    let writing = async move {
        for _ in 0..PINGS / 1024 {
            if peer.write_all(&batch).await.is_err() {
                break; // the server gave up on us: fine
            }
        }
        peer.shutdown().await.ok();
        peer
    };
    // The peer stops writing when the server stops reading (pongs it cannot send) or
    // closes; either way this ends.
    let writer = tokio::spawn(writing);
    let (pings, most_queued) = within("server", server).await.expect("server");
    drop(within("writer", writer).await.expect("writer"));
    eprintln!("{pings} pings read; at most {most_queued} bytes queued");
    assert!(
        most_queued <= QUEUED_MAX,
        "{most_queued} bytes of pongs queued for a peer that does not read (at most {QUEUED_MAX})"
    );
}

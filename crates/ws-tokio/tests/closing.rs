//! Ending a connection from either side, the awkward ways: close twice, send after
//! close, close after a send was cancelled halfway through its frame, a close refused
//! for its code or reason, a peer that closes TCP or resets it in the middle of a frame.
//! Each ends with a clear result (an `Err` naming it, a close frame on the wire), never a
//! hang or a corrupt frame. Real sockets on 127.0.0.1; the peer is raw TCP, so that what
//! goes on the wire is checked byte for byte.

mod common;

use common::{listener, masked_frame, raw_client, read_frame, within};
use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use ws_tokio::{CloseCode, Error, Message, WebSocketStream};

/// A server stream and the raw client at its other end.
async fn pair() -> (WebSocketStream<TcpStream>, TcpStream) {
    let (listener, addr) = listener().await;
    let (accepted, (peer, rest)) = tokio::join!(
        async {
            let (tcp, _) = listener.accept().await.expect("accept");
            ws_tokio::accept(tcp).await.expect("handshake")
        },
        raw_client(addr)
    );
    assert!(rest.is_empty());
    (accepted, peer)
}

/// The (code, reason) of a close frame's payload.
fn close_payload(payload: &[u8]) -> (u16, String) {
    let code = u16::from_be_bytes([payload[0], payload[1]]);
    (
        code,
        String::from_utf8(payload[2..].to_vec()).expect("UTF-8 reason"),
    )
}

/// The peer's side of a closing handshake: reads frames up to the server's close (which
/// it returns, after the data frames before it), answers it, and waits for TCP's end.
async fn answer_close(mut peer: TcpStream) -> (Vec<(u8, Vec<u8>)>, (u16, String)) {
    let mut before = Vec::new();
    loop {
        let (first, payload) = read_frame(&mut peer).await;
        if first == 0x88 {
            let close = close_payload(&payload);
            peer.write_all(&masked_frame(0x8, &payload[..2]))
                .await
                .expect("answer");
            common::read_to_end(&mut peer).await;
            return (before, close);
        }
        before.push((first, payload));
    }
}

// RFC 6455 5.4: "control frames ... MAY be injected in the middle of a fragmented
// message", but never inside a frame. A send dropped while its frame was half written
// (the peer not reading) leaves the rest of the frame queued: the close goes after it.
#[tokio::test]
async fn a_send_cancelled_mid_frame_then_close_writes_the_frame_whole_then_the_close() {
    const LEN: usize = 32 << 20;
    let (mut ws, peer) = pair().await;
    let big: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    // One poll: the socket takes part of it, and the peer reads nothing yet.
    let sent = ws.send(Message::binary(big.clone())).now_or_never();
    assert!(sent.is_none(), "32 MiB cannot fit in the socket buffers");
    let peer = tokio::spawn(answer_close(peer));
    within("close", ws.close(CloseCode::NORMAL, "bye"))
        .await
        .expect("close");
    let (before, close) = within("peer", peer).await.expect("peer");
    assert_eq!(before.len(), 1, "the binary frame, then the close");
    assert_eq!(before[0].0, 0x82);
    assert!(before[0].1 == big, "the frame is whole and exact");
    assert_eq!(close, (1000, "bye".to_owned()));
    assert!(ws.next().await.is_none(), "the stream has ended");
}

// The same with a small message: a text queued by `feed` and never flushed goes out
// before the close frame.
#[tokio::test]
async fn a_message_fed_before_close_goes_out_before_the_close_frame() {
    let (mut ws, peer) = pair().await;
    ws.feed(Message::text("last words")).await.expect("feed");
    let peer = tokio::spawn(answer_close(peer));
    within("close", ws.close(CloseCode::GOING_AWAY, ""))
        .await
        .expect("close");
    let (before, close) = within("peer", peer).await.expect("peer");
    assert_eq!(before, vec![(0x81, b"last words".to_vec())]);
    assert_eq!(close.0, 1001);
}

// RFC 6455 5.5.1: "The application MUST NOT send any more data frames after sending a
// Close frame." Closing again, or sending, is refused with an error that says so, and
// the stream stays ended.
#[tokio::test]
async fn close_twice_and_send_after_close_are_refused() {
    let (mut ws, peer) = pair().await;
    let peer = tokio::spawn(answer_close(peer));
    within("close", ws.close(CloseCode::NORMAL, ""))
        .await
        .expect("close");
    let again = within("close again", ws.close(CloseCode::NORMAL, "")).await;
    assert!(matches!(&again, Err(err) if err.is_closed()), "{again:?}");
    let send = within("send", ws.send(Message::text("late"))).await;
    assert!(matches!(&send, Err(err) if err.is_closed()), "{send:?}");
    assert!(within("next", ws.next()).await.is_none());
    let (before, close) = within("peer", peer).await.expect("peer");
    assert!(before.is_empty(), "nothing after the close: {before:?}");
    assert_eq!(close.0, 1000);
}

// RFC 6455 7.4.1/7.4.2: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
// control frame by an endpoint" (a `CloseCode` cannot hold them); a reason is at most 123
// bytes (5.5: control payloads of 125 bytes at most). A longer one is refused before
// anything is sent, and the connection stays open.
#[tokio::test]
async fn a_close_with_a_long_reason_is_refused_and_the_stream_stays_open() {
    let (mut ws, mut peer) = pair().await;
    // (The reserved codes cannot even be made: `CloseCode::new` refuses them.)
    for code in [1005, 1006, 1015, 999, 5000] {
        assert!(CloseCode::new(code).is_err(), "{code}");
    }
    let refused = within("close", ws.close(CloseCode::NORMAL, &"r".repeat(124))).await;
    assert!(
        matches!(refused, Err(Error::Protocol(ws_proto::Error::Local(_)))),
        "{refused:?}"
    );
    // Still open both ways.
    ws.send(Message::text("still here")).await.expect("send");
    assert_eq!(read_frame(&mut peer).await, (0x81, b"still here".to_vec()));
    peer.write_all(&masked_frame(0x1, b"and you"))
        .await
        .expect("write");
    let got = within("message", ws.next()).await;
    assert!(
        matches!(&got, Some(Ok(Message::Text(t))) if t == "and you"),
        "{got:?}"
    );
    let peer = tokio::spawn(answer_close(peer));
    within("close", ws.close(CloseCode::NORMAL, &"r".repeat(123)))
        .await
        .expect("a reason of 123 bytes");
    let (_, close) = within("peer", peer).await.expect("peer");
    assert_eq!(close, (1000, "r".repeat(123)));
}

// RFC 6455 7.1.5: a connection closed without a close frame is "closed abnormally"
// (1006). A peer that ends TCP halfway through a frame: the stream ends with an error,
// then `None`.
#[tokio::test]
async fn a_peer_that_closes_tcp_mid_frame_ends_the_stream_with_an_error() {
    let (mut ws, mut peer) = pair().await;
    let frame = masked_frame(0x2, &[9; 1000]);
    peer.write_all(&frame[..500]).await.expect("write");
    peer.shutdown().await.expect("shutdown");
    let end = within("the error", ws.next()).await;
    assert!(matches!(end, Some(Err(_))), "{end:?}");
    assert!(
        within("end", ws.next()).await.is_none(),
        "then the stream ends"
    );
}

// A reset (RST: linger 0) halfway through a frame: an I/O error, then `None`.
#[tokio::test]
async fn a_peer_that_resets_mid_frame_ends_the_stream_with_an_io_error() {
    let (mut ws, peer) = pair().await;
    let frame = masked_frame(0x2, &[9; 1000]);
    let mut peer = peer;
    peer.write_all(&frame[..500]).await.expect("write");
    // Read the first part, then reset.
    let first = within("nothing yet", async {
        tokio::select! {
            biased;
            item = ws.next() => Some(item),
            () = tokio::task::yield_now() => None,
        }
    })
    .await;
    assert!(first.is_none(), "half a frame delivers nothing: {first:?}");
    peer.set_zero_linger().expect("linger");
    drop(peer);
    let end = within("the error", ws.next()).await;
    assert!(
        matches!(&end, Some(Err(Error::Io(io))) if io.kind() == std::io::ErrorKind::ConnectionReset),
        "{end:?}"
    );
    assert!(
        within("end", ws.next()).await.is_none(),
        "then the stream ends"
    );
}

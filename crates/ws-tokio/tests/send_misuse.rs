//! Sending in pieces, the wrong ways: a message of another kind (or a whole message)
//! while a fragmented one is in progress, text fragments that are not UTF-8, a character
//! split over two fragments. RFC 6455 5.4: "the fragments of one message MUST NOT be
//! interleaved between the fragments of another message"; 5.6: text is UTF-8 across the
//! whole message. Refused sends are `Err` with their rule and leave the wire valid:
//! the raw peer reads exactly the frames that were accepted. Real sockets on 127.0.0.1.

mod common;

use common::{listener, raw_client, read_frame};
use ws_tokio::{Error, Message, MessageKind, WebSocketStream};

async fn pair() -> (
    WebSocketStream<tokio::net::TcpStream>,
    tokio::net::TcpStream,
) {
    let (listener, addr) = listener().await;
    let (accepted, (peer, _)) = tokio::join!(
        async {
            let (tcp, _) = listener.accept().await.expect("accept");
            ws_tokio::accept(tcp).await.expect("handshake")
        },
        raw_client(addr)
    );
    (accepted, peer)
}

fn fragment(kind: MessageKind, data: &'static [u8], last: bool) -> Message {
    Message::Fragment {
        kind,
        data: bytes::Bytes::from_static(data),
        last,
    }
}

fn is_local(result: &Result<(), Error>, wanted: ws_proto::LocalError) -> bool {
    matches!(result, Err(Error::Protocol(ws_proto::Error::Local(err))) if std::mem::discriminant(err) == std::mem::discriminant(&wanted))
}

#[tokio::test]
async fn no_other_message_goes_inside_a_fragmented_one() {
    let (mut ws, mut peer) = pair().await;
    ws.send(fragment(MessageKind::Text, b"hel", false))
        .await
        .expect("first fragment");
    let other = ws.send(fragment(MessageKind::Binary, b"\x01", true)).await;
    assert!(
        is_local(&other, ws_proto::LocalError::MessageInProgress),
        "{other:?}"
    );
    // A control frame may go between fragments (RFC 6455 5.4).
    ws.send(Message::Ping("p".into())).await.expect("ping");
    ws.send(fragment(MessageKind::Text, b"lo", true))
        .await
        .expect("last fragment");
    ws.send(Message::text("after")).await.expect("next message");
    assert_eq!(read_frame(&mut peer).await, (0x01, b"hel".to_vec()));
    assert_eq!(read_frame(&mut peer).await, (0x89, b"p".to_vec()));
    assert_eq!(read_frame(&mut peer).await, (0x80, b"lo".to_vec()));
    assert_eq!(read_frame(&mut peer).await, (0x81, b"after".to_vec()));
}

#[tokio::test]
async fn a_whole_message_inside_a_fragmented_one_is_refused() {
    let (mut ws, mut peer) = pair().await;
    ws.send(fragment(MessageKind::Binary, b"ab", false))
        .await
        .expect("first fragment");
    let whole = ws.send(Message::text("inside")).await;
    assert!(
        whole.is_err(),
        "a whole message inside a fragmented one: {whole:?}"
    );
    let whole = ws.send(Message::binary(&b"inside"[..])).await;
    assert!(
        whole.is_err(),
        "a whole message inside a fragmented one: {whole:?}"
    );
    ws.send(fragment(MessageKind::Binary, b"cd", true))
        .await
        .expect("last fragment");
    assert_eq!(read_frame(&mut peer).await, (0x02, b"ab".to_vec()));
    assert_eq!(read_frame(&mut peer).await, (0x80, b"cd".to_vec()));
}

#[tokio::test]
async fn text_fragments_are_utf8_across_the_message() {
    let (mut ws, mut peer) = pair().await;
    // "é" split over two fragments: valid.
    ws.send(fragment(MessageKind::Text, b"caf\xc3", false))
        .await
        .expect("first half of the character");
    ws.send(fragment(MessageKind::Text, b"\xa9", true))
        .await
        .expect("second half");
    assert_eq!(read_frame(&mut peer).await, (0x01, b"caf\xc3".to_vec()));
    assert_eq!(read_frame(&mut peer).await, (0x80, b"\xa9".to_vec()));
    // Not UTF-8 at all: refused, nothing sent.
    let bad = ws.send(fragment(MessageKind::Text, b"\xff", true)).await;
    assert!(is_local(&bad, ws_proto::LocalError::InvalidText), "{bad:?}");
    // A message that ends inside a character: refused.
    ws.send(fragment(MessageKind::Text, b"x\xc3", false))
        .await
        .expect("may still complete");
    let cut = ws.send(fragment(MessageKind::Text, b"", true)).await;
    assert!(is_local(&cut, ws_proto::LocalError::InvalidText), "{cut:?}");
    assert_eq!(read_frame(&mut peer).await, (0x01, b"x\xc3".to_vec()));
}

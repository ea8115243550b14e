//! Echo over real sockets in both roles, with and without permessage-deflate (RFC 7692),
//! and against the workspace's blocking peers.

mod common;

use bytes::Bytes;
use common::{check_echo, echo_server, within};
use futures_util::StreamExt;
use ws_tokio::{Acceptor, DeflateConfig, Message};

fn messages() -> Vec<Message> {
    vec![
        Message::text("Hello"),
        Message::text(""),
        Message::text("héllo wörld ✓".repeat(1000)),
        Message::binary(Bytes::from(vec![0u8; 0])),
        Message::binary(Bytes::from(
            (0..=255u8).cycle().take(200_000).collect::<Vec<_>>(),
        )),
        Message::Ping(Bytes::from_static(b"are you there")),
    ]
}

#[tokio::test]
async fn echo_without_deflate() {
    let addr = echo_server(Acceptor::new()).await;
    let mut ws = common::connect(addr, None).await;
    assert!(!ws.is_compressing());
    // A ping comes back as the server's automatic pong.
    for message in messages() {
        within("send", ws.send(message.clone()))
            .await
            .expect("send");
        let answer = within("answer", ws.next())
            .await
            .expect("open")
            .expect("answer");
        match message {
            Message::Ping(payload) => assert_eq!(answer, Message::Pong(payload)),
            other => assert_eq!(answer, other),
        }
    }
    common::close(ws).await;
}

#[tokio::test]
async fn echo_with_deflate_both_roles() {
    let addr = echo_server(Acceptor::new().deflate(Some(DeflateConfig::default()))).await;
    let mut ws = within(
        "connect",
        ws_tokio::connect(&format!("ws://{addr}/path?q=1")),
    )
    .await
    .expect("connect");
    assert!(ws.is_compressing(), "the deflate offer was accepted");
    let data: Vec<Message> = messages().into_iter().filter(Message::is_data).collect();
    check_echo(&mut ws, &data).await;
    common::close(ws).await;
}

#[tokio::test]
async fn server_declines_deflate_by_default() {
    let addr = echo_server(Acceptor::new()).await;
    let mut ws = within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    assert!(!ws.is_compressing());
    check_echo(&mut ws, &[Message::text("plain")]).await;
}

#[tokio::test]
async fn many_messages_fed_in_one_batch_arrive_in_order() {
    let addr = echo_server(Acceptor::new().deflate(Some(DeflateConfig::default()))).await;
    let mut ws = within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    for i in 0..500 {
        ws.feed(Message::text(format!("message {i}")))
            .await
            .expect("feed");
    }
    ws.flush().await.expect("flush");
    for i in 0..500 {
        let echoed = within("echo", ws.next())
            .await
            .expect("open")
            .expect("echo");
        assert_eq!(echoed, Message::text(format!("message {i}")));
    }
}

/// The blocking ws-client (a different driver of the same protocol crate) against the
/// tokio server, compression on.
#[tokio::test]
async fn blocking_client_against_tokio_server() {
    let addr = echo_server(Acceptor::new().deflate(Some(DeflateConfig::default()))).await;
    let outcome = tokio::task::spawn_blocking(move || {
        let mut client = ws_client::ClientBuilder::new(&format!("ws://{addr}/"))
            .read_timeout(Some(common::DEADLINE))
            .connect()
            .expect("connect");
        assert!(client.is_compressing());
        for i in 0..50 {
            let text = format!("blocking {i} ").repeat(i);
            client.send_text(&text).expect("send");
            match client.recv().expect("echo") {
                ws_client::Message::Text(echoed) => assert_eq!(echoed, text),
                other => panic!("unexpected {other:?}"),
            }
        }
        client
            .close(ws_client::CloseCode::NORMAL, "bye")
            .expect("close");
    });
    within("blocking client", outcome)
        .await
        .expect("client thread");
}

/// The tokio client against the blocking ws-server-blocking echo, compression on.
#[tokio::test]
async fn tokio_client_against_blocking_server() {
    // The server is single-threaded (its callbacks are not Send): it is built and runs
    // on its own thread, which hands back its address and shutdown handle.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let listening = ws_server_blocking::Server::builder()
            .listen(std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .deflate(Some(DeflateConfig::default()))
            .on_connect(|_server, conn| {
                conn.on_utf8(|conn, text| conn.send_utf8(text));
                conn.on_binary(|conn, data| conn.send_binary(data));
            })
            .bind()
            .expect("server");
        ready_tx
            .send((listening.local_addr(), listening.shutdown_handle()))
            .expect("send address");
        listening.start()
    });
    let (addr, shutdown) = ready_rx.recv_timeout(common::DEADLINE).expect("server up");
    let mut ws = within("connect", ws_tokio::connect(&format!("ws://{addr}/")))
        .await
        .expect("connect");
    assert!(ws.is_compressing());
    let data: Vec<Message> = messages().into_iter().filter(Message::is_data).collect();
    check_echo(&mut ws, &data).await;
    common::close(ws).await;
    shutdown.shutdown();
    within(
        "server thread",
        tokio::task::spawn_blocking(move || thread.join()),
    )
    .await
    .expect("join")
    .expect("server thread")
    .expect("server ran");
}

/// Large binary messages leave from their own storage, beside the frame header
/// (`Session::send_binary_external`); a pong queued while one is still being written
/// (the client does not read yet, so the server's write of 12 MiB stalls) must follow it, and two
/// large echoes in a row must not interleave.
#[tokio::test]
async fn answers_queued_during_a_large_echo_follow_it() {
    let addr = echo_server(Acceptor::new()).await;
    let mut ws = common::connect(addr, None).await;
    let first = Bytes::from(
        (0..12 << 20)
            .map(|i: u32| (i % 253) as u8)
            .collect::<Vec<_>>(),
    );
    let second = Bytes::from(vec![0x5a; 300_000]);
    let messages = [
        Message::binary(first.clone()),
        Message::Ping(Bytes::from_static(b"meanwhile")),
        Message::binary(second.clone()),
        Message::text("last"),
    ];
    // Read the answers while writing: the 12 MiB echo comes back while the rest is still
    // being written, and with nobody reading it the sockets' buffers could fill both ways.
    let (mut reader, mut writer) = ws.split();
    let send = async {
        for message in messages {
            within("feed", writer.feed(message)).await.expect("feed");
        }
        within("flush", writer.flush()).await.expect("flush");
    };
    let receive = async {
        let mut answers = Vec::new();
        while answers.len() < 4 {
            let answer = within("answer", reader.next())
                .await
                .expect("open")
                .expect("answer");
            answers.push(answer);
        }
        answers
    };
    let ((), answers) = tokio::join!(send, receive);
    ws = reader.reunite(writer).expect("same stream");
    assert!(
        answers[0] == Message::Binary(first),
        "the 12 MiB echo, whole"
    );
    assert_eq!(answers[1], Message::Pong(Bytes::from_static(b"meanwhile")));
    assert!(
        answers[2] == Message::Binary(second),
        "the 300 KB echo, whole"
    );
    assert_eq!(answers[3], Message::text("last"));
    common::close(ws).await;
}

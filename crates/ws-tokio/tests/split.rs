//! Split halves driven by two tasks at once, under load, while the server pings.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use ws_tokio::{Acceptor, ClientBuilder, DeflateConfig, Message};

const MESSAGES: usize = 3000;

/// The server splits too: its reader forwards data to its writer task, which echoes it
/// and sends a ping every millisecond; it counts the pongs its reader sees.
async fn pinging_echo_server() -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(usize, usize)>,
) {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let acceptor = Acceptor::new().deflate(Some(DeflateConfig::default()));
        let ws = acceptor.accept(tcp).await.expect("handshake");
        let (mut reader, mut writer) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let writing = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(1));
            let mut pings = 0;
            loop {
                tokio::select! {
                    message = rx.recv() => match message {
                        Some(message) => writer.send(message).await.expect("echo"),
                        None => return pings,
                    },
                    _ = ticks.tick() => {
                        if writer.send(Message::Ping("tick".into())).await.is_ok() {
                            pings += 1;
                        }
                    }
                }
            }
        });
        let mut pongs = 0;
        while let Some(message) = reader.next().await {
            match message.expect("receive") {
                Message::Pong(_) => pongs += 1,
                message if message.is_data() => tx.send(message).expect("forward"),
                _ => {}
            }
        }
        drop(tx);
        let pings = writing.await.expect("writer task");
        (pings, pongs)
    });
    (addr, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_in_two_tasks_under_load_with_server_pings() {
    let (addr, server) = pinging_echo_server().await;
    let ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/")).connect(),
    )
    .await
    .expect("connect");
    let (mut reader, mut writer) = ws.split();
    let sending = tokio::spawn(async move {
        for i in 0..MESSAGES {
            let payload = format!("{i} ").repeat(i % 50 + 1);
            writer.feed(Message::text(payload)).await.expect("feed");
            if i % 7 == 0 {
                writer.flush().await.expect("flush");
            }
        }
        writer.flush().await.expect("flush");
        writer
    });
    let receiving = tokio::spawn(async move {
        let mut pings = 0;
        let mut next = 0;
        while next < MESSAGES {
            match reader.next().await.expect("open").expect("receive") {
                Message::Text(text) => {
                    assert_eq!(text, format!("{next} ").repeat(next % 50 + 1));
                    next += 1;
                }
                Message::Ping(_) => pings += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        (reader, pings)
    });
    let mut writer = common::within("sender", sending)
        .await
        .expect("sender task");
    let (mut reader, client_pings) = common::within("receiver", receiving)
        .await
        .expect("receiver task");
    assert!(
        client_pings > 0,
        "the server's pings reached the client's reader"
    );

    // Only the reader is polled now: pings keep being answered.
    let idle = async {
        let mut seen = 0;
        while seen < 20 {
            if let Message::Ping(_) = reader.next().await.expect("open").expect("receive") {
                seen += 1;
            }
        }
    };
    common::within("pings while only the reader is polled", idle).await;

    common::within("close", writer.close(ws_tokio::CloseCode::NORMAL, "done"))
        .await
        .expect("close");
    while let Some(item) = common::within("closing", reader.next()).await {
        if let Ok(Message::Close(frame)) = item {
            assert_eq!(frame.expect("code").code, ws_tokio::CloseCode::NORMAL);
        }
    }
    let ws = reader.reunite(writer).expect("same stream");
    assert!(ws.session().is_closed());
    let (server_pings, pongs) = common::within("server", server).await.expect("server task");
    assert!(
        pongs > 0,
        "pongs came back for the server's {server_pings} pings"
    );
}

#[tokio::test]
async fn reunite_refuses_halves_of_different_streams() {
    let addr = common::echo_server(Acceptor::new()).await;
    let url = format!("ws://{addr}/");
    let a = common::within("connect", ws_tokio::connect(&url))
        .await
        .expect("a");
    let b = common::within("connect", ws_tokio::connect(&url))
        .await
        .expect("b");
    let (reader_a, _writer_a) = a.split();
    let (_reader_b, writer_b) = b.split();
    assert!(reader_a.reunite(writer_b).is_err());
}

//! A broadcast chat on tokio: one task per connection, every text message goes to every
//! connected client through a `tokio::sync::broadcast` channel. A client that falls too
//! far behind skips what it missed (and is told so) instead of holding memory.
//!
//! `cargo run -p examples --example tokio_chat -- 127.0.0.1:9003`, then connect with
//! `cargo run -p examples --example tokio_client -- ws://127.0.0.1:9003/` twice. Ctrl-C or
//! SIGTERM closes every client with 1001 (`tokio::signal`).

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use ws_tokio::{Message, WebSocketStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    let mut shutdown = examples::shutdown_signal();
    println!("chat on ws://{}", listener.local_addr()?);
    let (room, _) = broadcast::channel::<Arc<str>>(256);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = examples::stopped(&mut shutdown) => break,
        };
        let room = room.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            match ws_tokio::accept(tcp).await {
                Ok(ws) => {
                    let name = peer.to_string();
                    examples::until_shutdown(ws, shutdown, async |ws| chat(ws, name, room).await)
                        .await;
                }
                Err(err) => eprintln!("{peer}: {err}"),
            }
        });
        while connections.try_join_next().is_some() {}
    }
    // Every client gets 1001 and is waited for (within its close timeout).
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn chat(
    ws: &mut WebSocketStream<tokio::net::TcpStream>,
    name: String,
    room: broadcast::Sender<Arc<str>>,
) {
    let mut inbox = room.subscribe();
    let _ = room.send(format!("{name} joined").into());
    loop {
        tokio::select! {
            // Both branches are cancel-safe: a message that arrives while the other
            // branch wins is neither lost nor cut.
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let _ = room.send(format!("{name}: {text}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            said = inbox.recv() => {
                let text = match said {
                    Ok(text) => text.to_string(),
                    Err(broadcast::error::RecvError::Lagged(n)) => format!("({n} messages skipped)"),
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if ws.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = room.send(format!("{name} left").into());
}

//! A broadcast chat on tokio: one task per connection, every text message goes to every
//! connected client through a `tokio::sync::broadcast` channel. A client that falls too
//! far behind skips what it missed (and is told so) instead of holding memory.
//!
//! `cargo run -p examples --example tokio_chat -- 127.0.0.1:9003`, then connect with
//! `cargo run -p examples --example tokio_client -- ws://127.0.0.1:9003/` twice.

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
    println!("chat on ws://{}", listener.local_addr()?);
    let (room, _) = broadcast::channel::<Arc<str>>(256);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let room = room.clone();
        tokio::spawn(async move {
            match ws_tokio::accept(tcp).await {
                Ok(ws) => chat(ws, peer.to_string(), room).await,
                Err(err) => eprintln!("{peer}: {err}"),
            }
        });
    }
}

async fn chat(
    mut ws: WebSocketStream<tokio::net::TcpStream>,
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

//! An echo server on tokio: every message comes back, permessage-deflate is accepted
//! when offered, and replies to a batch of input go out in one write. Used by
//! `scripts/autobahn.sh tokio-server` and `scripts/interop.sh`.
//!
//! `cargo run --release -p examples --example tokio_echo_server -- 127.0.0.1:9002`
//! prints `listening on ws://127.0.0.1:9002` once it accepts connections.

use futures_util::StreamExt;
use tokio::net::TcpListener;
use ws_tokio::{Acceptor, DeflateConfig, WebSocketStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on ws://{}", listener.local_addr()?);
    let acceptor = Acceptor::new().deflate(Some(DeflateConfig::default()));
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor.accept(tcp).await {
                Ok(ws) => echo(ws).await,
                Err(err) => eprintln!("{peer}: handshake: {err}"),
            }
        });
    }
}

async fn echo(mut ws: WebSocketStream<tokio::net::TcpStream>) {
    while let Some(message) = ws.next().await {
        match message {
            // `feed` queues; the next poll for input writes the whole batch at once.
            Ok(message) if message.is_data() => {
                if ws.feed(message).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

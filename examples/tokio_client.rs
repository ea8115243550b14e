//! A tokio client: lines from stdin go out as text messages, received messages are
//! printed, while both happen at once (split halves in two tasks).
//!
//! `cargo run -p examples --example tokio_client -- ws://127.0.0.1:9002/`
//! (`wss://` URLs work too, with the web PKI roots).

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use ws_tokio::{ClientBuilder, CloseCode, Message};

#[tokio::main]
async fn main() -> Result<(), ws_tokio::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let ws = ClientBuilder::new(&url).connect().await?;
    eprintln!(
        "connected to {url}{}",
        if ws.is_compressing() { " (permessage-deflate)" } else { "" }
    );
    let (mut reader, mut writer) = ws.split();
    let printing = tokio::spawn(async move {
        while let Some(message) = reader.next().await {
            match message {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<{} bytes>", data.len()),
                Ok(Message::Close(frame)) => eprintln!("closed by the server: {frame:?}"),
                Ok(_) => {}
                Err(err) => {
                    eprintln!("error: {err}");
                    break;
                }
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        writer.send(Message::text(line)).await?;
    }
    writer.close(CloseCode::NORMAL, "stdin ended").await?;
    let _ = printing.await;
    Ok(())
}

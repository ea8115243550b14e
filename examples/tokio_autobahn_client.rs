//! Runs every case of an Autobahn `wstest -m fuzzingserver` with the ws-tokio client,
//! echoing each message back (deflate offered), then asks the server to write its
//! report. Used by `scripts/autobahn.sh tokio-client`.
//!
//! `cargo run --release -p examples --example tokio_autobahn_client -- ws://127.0.0.1:9001`

use futures_util::StreamExt;
use ws_tokio::{ClientBuilder, ClientStream, CloseCode, Error, Message, WebSocketStream};

const AGENT: &str = "ws-tokio";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let mut counter = ws_tokio::connect(&format!("{base}/getCaseCount")).await?;
    let count: usize = match counter.next().await {
        Some(Ok(Message::Text(text))) => text
            .trim()
            .parse()
            .map_err(|_| Error::Io(std::io::Error::other(format!("bad case count {text:?}"))))?,
        other => panic!("unexpected answer to getCaseCount: {other:?}"),
    };
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        match ClientBuilder::new(&url).connect().await {
            Ok(ws) => echo_until_closed(ws).await,
            Err(err) => eprintln!("case {case}: {err}"),
        }
    }
    let mut report = ws_tokio::connect(&format!("{base}/updateReports?agent={AGENT}")).await?;
    report.close(CloseCode::NORMAL, "").await?;
    Ok(())
}

async fn echo_until_closed(mut ws: WebSocketStream<ClientStream>) {
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() && ws.feed(message).await.is_err() {
            return;
        }
    }
}

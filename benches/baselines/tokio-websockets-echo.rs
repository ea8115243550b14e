//! A tokio-websockets 0.13 echo server (server role), written as the crate's own echo
//! example is: `ServerBuilder::accept`, then `next()` and `send()` of every text and
//! binary message, in a task run `unconstrained` by tokio's cooperative budget. The crate
//! answers pings and the closing handshake itself. Its default limits hold (they admit
//! the 1 MiB messages of `run-load.sh`).
//!
//! `tokio-websockets-echo [ADDR] [--threads N]`; see `runtime.rs`.

#[path = "runtime.rs"]
mod runtime;

use futures_util::{SinkExt, StreamExt};
use tokio_websockets::ServerBuilder;

fn main() -> std::io::Result<()> {
    runtime::serve("tokio-websockets-echo", |stream| {
        tokio::task::unconstrained(async move {
            let Ok((_request, mut ws)) = ServerBuilder::new().accept(stream).await else {
                return;
            };
            while let Some(Ok(message)) = ws.next().await {
                if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                    return;
                }
            }
        })
    })
}

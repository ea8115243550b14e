//! A tokio-tungstenite 0.30 echo server, written as the crate's own echo example is:
//! `accept_async`, then the stream of text and binary messages forwarded into the sink
//! (`forward` writes while messages are ready and flushes when the stream waits, so the
//! answers to pipelined messages leave together). Pings and the closing handshake are
//! answered by tungstenite.
//!
//! `tokio-tungstenite-echo [ADDR] [--threads N]`; see `runtime.rs`.

#[path = "runtime.rs"]
mod runtime;

use futures_util::{StreamExt, TryStreamExt, future};

fn main() -> std::io::Result<()> {
    runtime::serve("tokio-tungstenite-echo", |stream| async move {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (write, read) = ws.split();
        let _ = read
            .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
            .forward(write)
            .await;
    })
}

//! A sockudo-ws 3.1 echo server, written as the crate's own echo examples are:
//! `WebSocketServer::<Http1>::accept_raw` (which keeps any frame bytes that came with
//! the upgrade request), then `next()` and `send()` of every text and binary message,
//! with `Config::default()`. The crate answers pings and the closing handshake itself.
//! Its clock is calibrated before the runtime starts, as its documentation asks.
//!
//! `sockudo-ws-echo [ADDR] [--threads N]`; see `runtime.rs`.

#[path = "runtime.rs"]
mod runtime;

use futures_util::{SinkExt, StreamExt};
use sockudo_ws::server::WebSocketServer;
use sockudo_ws::transport::Http1;
use sockudo_ws::{Config, Message};

fn main() -> std::io::Result<()> {
    sockudo_ws::init_clock();
    runtime::serve("sockudo-ws-echo", |stream| async move {
        let server = WebSocketServer::<Http1>::new(Config::default());
        let Ok((mut ws, _)) = server.accept_raw(stream).await else {
            return;
        };
        while let Some(Ok(message)) = ws.next().await {
            match message {
                Message::Text(_) | Message::Binary(_) => {}
                Message::Close(_) => return,
                _ => continue,
            }
            if ws.send(message).await.is_err() {
                return;
            }
        }
    })
}

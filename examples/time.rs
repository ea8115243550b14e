//! The second program of the Perl synopsis: the time, to every client, every second.
//!
//! `cargo run -p examples --example time -- [PORT]` (default 8080), then connect to
//! ws://127.0.0.1:PORT/. Ctrl-C closes every client with 1001.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    let builder = Server::builder()
        .listen(format!("127.0.0.1:{}", examples::port_arg(8080)))
        .tick_period(Duration::from_secs(1))
        .on_tick(|server| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            server.broadcast_utf8(&now.as_secs().to_string());
        });
    examples::serve(builder, "ws")
}

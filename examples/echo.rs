//! The first program of the Perl synopsis: an echo server for text messages.
//!
//! `cargo run -p examples --example echo`, then connect to ws://127.0.0.1:8080/.

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    Server::builder()
        .listen("127.0.0.1:8080")
        .on_connect(|_server, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
        .start()
}

//! The first program of the Perl synopsis: an echo server for text messages.
//!
//! `cargo run -p examples --example echo -- [PORT]` (default 8080), then connect to
//! ws://127.0.0.1:PORT/. Ctrl-C closes every client with 1001.

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    let builder = Server::builder()
        .listen(format!("127.0.0.1:{}", examples::port_arg(8080)))
        .on_connect(|_server, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        });
    examples::serve(builder, "ws")
}

//! The third program of the Perl synopsis: every text and binary message is broadcast to
//! every client, and only pages from one origin may connect (others get 403).
//!
//! `cargo run -p examples --example broadcast_origin -- [PORT [ORIGIN]]` (default 8080
//! and http://example.com), then connect to ws://127.0.0.1:PORT/ from a page of that
//! origin. Ctrl-C closes every client with 1001.

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    let port = examples::port_arg(8080);
    let origin = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "http://example.com".into());
    println!("accepting pages from {origin} only; others get 403");
    let builder = Server::builder()
        .listen(format!("127.0.0.1:{port}"))
        .on_connect(move |_server, conn| {
            let origin = origin.clone();
            conn.on_handshake(move |_conn, hs| {
                if hs.request().origin() != Some(origin.as_str()) {
                    hs.refuse(403);
                }
            });
            conn.on_utf8(|conn, msg| {
                for other in conn.server().connections() {
                    let _ = other.send_utf8(msg);
                }
            });
            conn.on_binary(|conn, msg| {
                for other in conn.server().connections() {
                    let _ = other.send_binary(msg);
                }
            });
        });
    examples::serve(builder, "ws")
}

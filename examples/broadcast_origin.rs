//! The third program of the Perl synopsis: every text and binary message is broadcast to
//! every client, and only pages from one origin may connect (others get 403).
//!
//! `cargo run -p examples --example broadcast_origin -- [ORIGIN]`
//! (default origin http://example.com), then connect to ws://127.0.0.1:8080/.

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    let origin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://example.com".into());
    Server::builder()
        .listen("127.0.0.1:8080")
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
        })
        .start()
}

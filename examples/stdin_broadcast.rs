//! Perl's `watch_readable => [\*STDIN => ...]`: each line typed on stdin is broadcast to
//! every connected client; end of input shuts the server down.
//!
//! `cargo run -p examples --example stdin_broadcast -- [PORT]` (default 8080), connect
//! clients to ws://127.0.0.1:PORT/, then type lines. Ctrl-C or the end of input closes
//! every client with 1001.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;

use ws_server_blocking::Server;

fn main() -> Result<(), ws_server_blocking::Error> {
    let stdin = std::io::stdin();
    let mut lines = BufReader::new(stdin.lock());
    let builder = Server::builder()
        .listen(format!("127.0.0.1:{}", examples::port_arg(8080)))
        .watch_readable(std::io::stdin().as_raw_fd(), move |server, _fd| {
            let mut line = String::new();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => server.shutdown(),
                Ok(_) => {
                    let sent = server.broadcast_utf8(line.trim_end_matches('\n'));
                    // A closed stderr must not kill the server: the note is dropped.
                    let _ = writeln!(std::io::stderr(), "sent to {sent} client(s)");
                }
            }
        })
        .on_connect(|_server, conn| {
            conn.on_ready(|conn| {
                conn.send_utf8("connected: lines typed on the server's stdin appear here")
            });
        });
    examples::serve(builder, "ws")
}

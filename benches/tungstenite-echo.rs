//! The baseline: a tungstenite echo server, one thread per connection, as tungstenite's
//! own examples write it (`read`, then `send` of the same message).
//!
//! `tungstenite-echo [ADDR]` (default 127.0.0.1:9002).

use std::net::TcpListener;
use std::thread;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr)?;
    println!(
        "tungstenite-echo: listening on ws://{}/",
        listener.local_addr()?
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        thread::spawn(move || {
            let Ok(mut ws) = tungstenite::accept(stream) else {
                return;
            };
            loop {
                match ws.read() {
                    Ok(message) if message.is_text() || message.is_binary() => {
                        if ws.send(message).is_err() {
                            return;
                        }
                    }
                    // Pings are answered inside read(); a close is answered and the next
                    // read ends the connection.
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
    }
    Ok(())
}

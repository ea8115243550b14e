//! The Perl blog post's program: connect to an echo service, send a message, print what
//! comes back, close. Where the post wires Protocol::WebSocket::Client to IO::Socket::INET
//! by hand, ws-client does both (and wss://, and the closing handshake).
//!
//! `cargo run -p examples --example echo_client -- ws://127.0.0.1:8080/ "Hello"`

use ws_client::{CloseCode, Error, Message};

fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8080/".into());
    let text = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "Hello, echo service".into());

    let mut client = ws_client::connect(&url)?;
    println!("connected to {url}");
    client.send_text(&text)?;
    println!("sent: {text}");

    loop {
        match client.recv() {
            Ok(Message::Text(echo)) => {
                println!("received: {echo}");
                client.close(CloseCode::NORMAL, "done")?;
            }
            Ok(Message::Close(Some(frame))) if frame.reason.is_empty() => {
                println!("closed: {}", frame.code)
            }
            Ok(Message::Close(Some(frame))) => println!("closed: {}: {}", frame.code, frame.reason),
            Ok(Message::Close(None)) => println!("closed (no code)"),
            Ok(_) => {}
            // The server closed TCP after the closing handshake: a clean end.
            Err(Error::ConnectionClosed) => return Ok(()),
            Err(err) => return Err(err),
        }
    }
}

//! ws-proto driven by hand over a blocking `TcpStream`, the way the Perl blog post drives
//! Protocol::WebSocket::Client: the protocol object only turns bytes into events and
//! messages into bytes; this program owns the socket.
//!
//! Usage: `cargo run -p examples --example proto_client -- HOST:PORT [MESSAGE]`
//! (for instance against `ws-server`, which echoes).

use std::io::Write;
use std::net::TcpStream;

use ws_proto::handshake::ClientRequest;
use ws_proto::{CloseCode, Event, RecvBuffer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let message = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "Hello, WebSocket".into());
    let (host, port) = addr.rsplit_once(':').ok_or("expected HOST:PORT")?;

    let mut tcp = TcpStream::connect(&addr)?;
    let (mut handshake, request) = ClientRequest::new(host, "/").port(port.parse()?).build()?;
    tcp.write_all(&request)?;
    let mut input = RecvBuffer::new();
    // The checked answer comes with the session that follows it.
    let (_response, mut session) = loop {
        if let Some(done) = handshake.parse(&mut input)? {
            break done;
        }
        if input.read_from(&mut tcp)? == 0 {
            return Err("connection closed during the handshake".into());
        }
    };

    session.send_text(&message)?;
    session.write_to(&mut tcp)?;
    while !session.is_closed() {
        while let Some(event) = session.decode(&mut input)? {
            match event {
                // The echo is back: start the closing handshake.
                Event::Text(text) => {
                    println!("{text}");
                    session.close(CloseCode::NORMAL, "done")?;
                }
                Event::Close(frame) => println!("closed: {frame:?}"),
                other => println!("{other:?}"),
            }
        }
        session.write_to(&mut tcp)?; // our close, pongs, the answer to a close
        if !session.is_closed() && input.read_from(&mut tcp)? == 0 {
            session.receive_eof()?;
        }
    }
    Ok(())
}

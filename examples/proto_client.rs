//! ws-proto driven by hand over a blocking `TcpStream`, the way the Perl blog post drives
//! Protocol::WebSocket::Client: the protocol object only turns bytes into events and
//! messages into bytes; this program owns the socket.
//!
//! Usage: `cargo run -p examples --example proto_client -- [URL [MESSAGE]]`, with a
//! `ws://HOST[:PORT]/PATH` URL (default ws://127.0.0.1:8080/; for instance against
//! `ws-server`, which echoes). `wss://` needs TLS, which this program leaves out: see
//! `echo_client` for a client that has it.

use std::io::Write;
use std::net::TcpStream;

use ws_proto::handshake::ClientRequest;
use ws_proto::{CloseCode, Event, RecvBuffer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8080/".into());
    let message = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "Hello, WebSocket".into());
    let url = url::Url::parse(&arg).map_err(|e| format!("{arg:?} is not a URL: {e}"))?;
    if url.scheme() != "ws" {
        return Err(format!("{arg:?}: this example speaks ws:// only (no TLS)").into());
    }
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port().unwrap_or(80);
    let mut resource = url.path().to_owned();
    if let Some(query) = url.query() {
        resource = format!("{resource}?{query}");
    }

    // An IPv6 host keeps its brackets in the URL; connect() wants it without them.
    let mut tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))?;
    let (mut handshake, request) = ClientRequest::new(host, &resource).port(port).build()?;
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
                Event::Close(Some(frame)) if frame.reason.is_empty() => {
                    println!("closed: {}", frame.code)
                }
                Event::Close(Some(frame)) => println!("closed: {}: {}", frame.code, frame.reason),
                Event::Close(None) => println!("closed (no code)"),
                Event::Binary(data) => println!("binary message of {} bytes", data.len()),
                _ => {} // pings (answered by the session), pongs, fragments
            }
        }
        session.write_to(&mut tcp)?; // our close, pongs, the answer to a close
        if !session.is_closed() && input.read_from(&mut tcp)? == 0 {
            session.receive_eof()?;
        }
    }
    Ok(())
}

//! Test support: ws-server in a thread, hand-written misbehaving servers, a CONNECT proxy.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ws_server_blocking::{Builder, Server, ShutdownHandle};

pub const PATIENCE: Duration = Duration::from_secs(10);

/// A ws-server on its own thread, shut down on drop.
pub struct Running {
    pub addr: SocketAddr,
    handle: ShutdownHandle,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

pub fn serve(
    listen: &'static str,
    make: impl FnOnce(Builder) -> Builder + Send + 'static,
) -> Running {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let server = make(Server::builder().listen(listen)).bind().unwrap();
        tx.send((server.local_addr(), server.shutdown_handle()))
            .unwrap();
        server.start().unwrap();
    });
    let (addr, handle) = rx.recv_timeout(PATIENCE).unwrap();
    Running { addr, handle }
}

pub fn echo(builder: Builder) -> Builder {
    builder.on_connect(|_, conn| {
        conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        conn.on_binary(|conn, msg| conn.send_binary(msg));
    })
}

pub fn echo_server() -> Running {
    serve("127.0.0.1:0", echo)
}

/// Reads an HTTP request head (up to the blank line) from a stream.
pub fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The `Sec-WebSocket-Accept` value for the key in a request head.
pub fn accept_for(head: &str) -> String {
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key in the request");
    ws_proto::handshake::accept_key(key.as_bytes())
}

/// A one-connection server that runs `script` on the accepted stream.
pub fn scripted(script: impl FnOnce(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            script(stream);
        }
    });
    addr
}

/// A server that answers the handshake with `answer(request head)` and then runs `then`.
pub fn answering(
    answer: impl FnOnce(&str) -> String + Send + 'static,
    then: impl FnOnce(TcpStream) + Send + 'static,
) -> SocketAddr {
    scripted(move |mut stream| {
        let head = read_head(&mut stream);
        stream.write_all(answer(&head).as_bytes()).unwrap();
        then(stream);
    })
}

/// A correct 101 answer, with extra header lines.
pub fn switching(head: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_for(head)
    )
}

/// An HTTP CONNECT proxy; returns its address and a channel of the requests it saw.
/// With `credentials`, requests without matching basic authentication get 407.
pub fn connect_proxy(credentials: Option<&'static str>) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            let tx = tx.clone();
            thread::spawn(move || {
                let head = read_head(&mut client);
                let _ = tx.send(head.clone());
                if let Some(expected) = credentials {
                    use base64::Engine;
                    let token = base64::engine::general_purpose::STANDARD.encode(expected);
                    if !head.contains(&format!("Proxy-Authorization: Basic {token}\r\n")) {
                        let _ = client.write_all(
                            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n",
                        );
                        return;
                    }
                }
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let Ok(upstream) = TcpStream::connect(target.as_str()) else {
                    let _ =
                        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                    return;
                };
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                pipe(client, upstream);
            });
        }
    });
    (addr, rx)
}

/// Copies bytes both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a_read, mut b_write) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let forward = thread::spawn(move || {
        let _ = std::io::copy(&mut a_read, &mut b_write);
        let _ = b_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut b_read, mut a_write) = (b, a);
    let _ = std::io::copy(&mut b_read, &mut a_write);
    let _ = a_write.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
}

//! Test support: a server running in a thread, and a blocking client driven by hand over
//! ws-proto (so the server is tested against an independent client loop).

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ws_proto::handshake::{ClientRequest, Response};
use ws_proto::{CloseCode, Event, RecvBuffer, Session};
use ws_server_blocking::{Builder, Connection, Handle, ShutdownHandle};

/// How long any single wait in a test may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A server running on its own thread; shut down and joined on drop.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: ShutdownHandle,
    thread: Option<thread::JoinHandle<Result<(), ws_server_blocking::Error>>>,
}

impl Running {
    /// Waits for `start` to return (after a shutdown), with a time limit.
    pub fn join(mut self) -> Result<(), ws_server_blocking::Error> {
        let thread = self.thread.take().unwrap();
        let deadline = std::time::Instant::now() + PATIENCE;
        while !thread.is_finished() {
            assert!(std::time::Instant::now() < deadline, "server did not stop");
            thread::sleep(Duration::from_millis(10));
        }
        thread.join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.handle.shutdown();
            let _ = thread.join();
        }
    }
}

/// Builds the server on its own thread (callbacks need not be `Send`), listening on an
/// ephemeral port of 127.0.0.1 unless `make` says otherwise.
pub fn serve(make: impl FnOnce(Builder) -> Builder + Send + 'static) -> Running {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let builder = make(ws_server_blocking::Server::builder().listen("127.0.0.1:0"));
        let server = builder.bind()?;
        tx.send((server.local_addr(), server.shutdown_handle()))
            .unwrap();
        server.start()
    });
    let (addr, handle) = rx.recv_timeout(PATIENCE).expect("server did not start");
    Running {
        addr,
        handle,
        thread: Some(thread),
    }
}

/// An echo server for text and binary.
pub fn echo(builder: Builder) -> Builder {
    builder.on_connect(|_, conn| {
        conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        conn.on_binary(|conn, msg| conn.send_binary(msg));
    })
}

/// A client over plain TCP or any other stream.
pub struct Client<S: Read + Write = TcpStream> {
    pub stream: S,
    pub input: RecvBuffer,
    pub session: Session,
    pub response: Response,
}

pub fn connect(addr: SocketAddr) -> Client {
    connect_with(addr, ClientRequest::new("127.0.0.1", "/").port(addr.port())).expect("handshake")
}

pub fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    tcp
}

pub fn connect_with(addr: SocketAddr, request: ClientRequest) -> Result<Client, ws_proto::Error> {
    handshake(tcp(addr), request)
}

pub fn handshake<S: Read + Write>(
    mut stream: S,
    request: ClientRequest,
) -> Result<Client<S>, ws_proto::Error> {
    let (mut handshake, bytes) = request.build()?;
    stream.write_all(&bytes).unwrap();
    let mut input = RecvBuffer::new();
    loop {
        if let Some((response, session)) = handshake.parse(&mut input)? {
            return Ok(Client {
                stream,
                input,
                session,
                response,
            });
        }
        assert!(
            input.read_from(&mut stream).unwrap() > 0,
            "closed during handshake"
        );
    }
}

impl<S: Read + Write> Client<S> {
    pub fn flush(&mut self) {
        self.session.write_to(&mut self.stream).unwrap();
    }

    pub fn send_text(&mut self, text: &str) {
        self.session.send_text(text).unwrap();
        self.flush();
    }

    pub fn send_binary(&mut self, data: &[u8]) {
        self.session.send_binary(data).unwrap();
        self.flush();
    }

    pub fn send_pong(&mut self, data: &[u8]) {
        self.session.send_pong(data).unwrap();
        self.flush();
    }

    pub fn close(&mut self, code: u16, reason: &str) {
        self.session
            .close(CloseCode::new(code).unwrap(), reason)
            .unwrap();
        self.flush();
    }

    /// The next event, or `None` at end of stream. Pongs for pings are sent on the way.
    pub fn next_event(&mut self) -> Option<Event<'static>> {
        loop {
            if let Some(event) = self
                .session
                .decode(&mut self.input)
                .expect("protocol error from server")
            {
                let event = event.into_owned();
                let _ = self.session.write_to(&mut self.stream);
                return Some(event);
            }
            let _ = self.session.write_to(&mut self.stream);
            match self.input.read_from(&mut self.stream) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return None,
                Err(err) => panic!("read failed: {err}"),
            }
        }
    }

    /// The next data message, skipping pings and pongs.
    pub fn next_message(&mut self) -> Event<'static> {
        loop {
            match self.next_event() {
                Some(Event::Ping(_) | Event::Pong(_)) => {}
                Some(event) => return event,
                None => panic!("connection ended while waiting for a message"),
            }
        }
    }

    pub fn expect_text(&mut self) -> String {
        match self.next_message() {
            Event::Text(text) => text.into_owned(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    pub fn expect_binary(&mut self) -> Vec<u8> {
        match self.next_message() {
            Event::Binary(data) => data.into_owned(),
            other => panic!("expected binary, got {other:?}"),
        }
    }

    /// Waits for the server's close frame; returns its code (1005 if none) and reason.
    pub fn expect_close(&mut self) -> (u16, String) {
        loop {
            match self.next_event() {
                Some(Event::Close(frame)) => {
                    return frame.map_or((1005, String::new()), |f| {
                        (f.code.as_u16(), f.reason.into_owned())
                    });
                }
                Some(_) => {}
                None => panic!("connection ended without a close frame"),
            }
        }
    }

    /// Reads until the server closes the TCP connection.
    pub fn expect_eof(&mut self) {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => {}
            Err(err) => panic!("expected end of stream, got {err}"),
        }
    }
}

/// Sends raw bytes and returns everything the server answers until it closes.
pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = tcp(addr);
    tcp.write_all(request).unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The ws-server binary run as a separate process, so that its memory and file
/// descriptors can be measured.
pub struct ServerProcess {
    child: std::process::Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `ws-server --listen 127.0.0.1:0 ARGS`.
    pub fn start(args: &[&str]) -> ServerProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ws-server"))
            .args(["--listen", "127.0.0.1:0", "--log", "error"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .expect(&line);
        let addr = url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        ServerProcess { child, addr }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most resident memory the process has had, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Open file descriptors.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// Waits until the open file descriptors come down to `count` (returns the last
    /// count seen).
    pub fn wait_for_fds(&self, count: usize) -> usize {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let now = self.open_fds();
            if now <= count || std::time::Instant::now() > deadline {
                return now;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.sigterm();
        self.wait()
    }

    /// Sends SIGTERM: the server closes every connection with 1001, then exits.
    pub fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to exit.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "ws-server did not exit after SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client's upgrade request, as raw bytes.
pub fn upgrade_request() -> &'static [u8] {
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

/// Connects and completes a handshake with raw bytes; returns the stream.
pub fn raw_connect(addr: SocketAddr) -> TcpStream {
    let mut tcp = tcp(addr);
    tcp.write_all(upgrade_request()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).unwrap(),
            1,
            "closed during the handshake"
        );
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// A masked client frame (mask key 0, so the payload reads as is).
pub fn masked_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first_byte];
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Blocks the loop behind `handle` inside a posted job, so that it takes nothing more from
/// its queue, and returns once the job runs; sending on the returned channel (or dropping
/// it) lets the loop go on.
pub fn block_loop(handle: &Handle) -> mpsc::Sender<()> {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    handle
        .post(move |_| {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(PATIENCE);
        })
        .unwrap();
    started_rx.recv_timeout(PATIENCE).unwrap();
    release_tx
}

/// The topic commands of the topic and worker tests: `sub:TOPIC`, `unsub:TOPIC` and
/// `pub:TOPIC:TEXT` (published as text), each acknowledged with `ok`.
pub fn topic_command(conn: Connection<'_>, msg: &str) -> Result<(), ws_server_blocking::Error> {
    if let Some(topic) = msg.strip_prefix("sub:") {
        conn.subscribe(topic);
    } else if let Some(topic) = msg.strip_prefix("unsub:") {
        conn.unsubscribe(topic);
    } else if let Some(rest) = msg.strip_prefix("pub:") {
        let (topic, text) = rest.split_once(':').unwrap();
        conn.server().publish_utf8(topic, text);
    }
    conn.send_utf8("ok")
}

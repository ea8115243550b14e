//! Helpers shared by the tests: real listeners on 127.0.0.1, deadlines on every wait.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::{Acceptor, Settings, WebSocketStream};

/// The longest any single wait in a test may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Awaits `fut`, failing the test if it takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: no result within {DEADLINE:?}"),
    }
}

/// Keepalive settings short enough for a test: a ping every 100 ms, 200 ms for its pong,
/// 300 ms for a close's answer.
pub fn quick_keepalive() -> Settings {
    let mut settings = Settings::default();
    settings.ping_interval = Some(Duration::from_millis(100));
    settings.pong_timeout = Duration::from_millis(200);
    settings.close_timeout = Duration::from_millis(300);
    settings
}

/// Accepts one connection with [`quick_keepalive`] settings.
pub async fn accept_quick(listener: TcpListener) -> WebSocketStream<TcpStream> {
    let (tcp, _) = listener.accept().await.expect("accept");
    Acceptor::new()
        .settings(quick_keepalive())
        .accept(tcp)
        .await
        .expect("handshake")
}

/// A listener on an ephemeral port.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Echoes every data message back (one write per batch of input), until the peer closes.
pub async fn echo<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() && ws.feed(message).await.is_err() {
            return;
        }
    }
}

/// A server on 127.0.0.1 that accepts with `acceptor` and echoes on every connection.
pub async fn echo_server(acceptor: Acceptor) -> SocketAddr {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(ws) = acceptor.accept(tcp).await {
                    echo(ws).await;
                }
            });
        }
    });
    addr
}

/// A client connected to `ws://ADDR/` with this deflate offer (`None`: no offer), within
/// [`DEADLINE`].
pub async fn connect(
    addr: SocketAddr,
    deflate: Option<ws_tokio::DeflateConfig>,
) -> WebSocketStream<ws_tokio::ClientStream> {
    within(
        "connect",
        ws_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .deflate(deflate)
            .connect(),
    )
    .await
    .expect("connect")
}

/// Sends each message and checks the echo that comes back.
pub async fn check_echo<S>(ws: &mut WebSocketStream<S>, messages: &[ws_tokio::Message])
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for message in messages {
        within("send", ws.send(message.clone()))
            .await
            .expect("send");
        let echoed = within("echo", ws.next())
            .await
            .expect("open")
            .expect("echo");
        assert_eq!(&echoed, message);
    }
}

/// A client on a thread and runtime of its own (so that its storage does not mix with
/// the test thread's pool, which tests of recycling look at), connected to `ws://ADDR/`
/// without deflate: sends `count` messages, `message(0)` to `message(count - 1)`, one at
/// a time, checks each echo, then closes. Join the handle to see its assertions.
pub fn echo_client_thread(
    addr: SocketAddr,
    count: usize,
    message: impl Fn(usize) -> ws_tokio::Message + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let mut ws = connect(addr, None).await;
            for i in 0..count {
                check_echo(&mut ws, &[message(i)]).await;
            }
            close(ws).await;
        });
    })
}

/// A raw TCP connection that has done the client handshake by hand (so the test
/// controls every byte after it): returns the stream and any bytes that came right
/// after the server's answer.
pub async fn raw_client(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut handshake, request) = ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
        .port(addr.port())
        .build()
        .expect("request");
    tcp.write_all(&request).await.expect("write request");
    let mut input = ws_proto::RecvBuffer::new();
    loop {
        if handshake.parse(&mut input).expect("valid answer").is_some() {
            return (tcp, input.data().to_vec());
        }
        let n = within("handshake answer", tcp.read(input.spare(4096)))
            .await
            .expect("read");
        assert!(n > 0, "server closed during the handshake");
        input.commit(n);
    }
}

/// Reads everything a raw connection receives until the peer closes it.
pub async fn read_to_end(tcp: &mut TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    within("peer closes", tcp.read_to_end(&mut all))
        .await
        .expect("read");
    all
}

/// Closes from our side and checks the handshake finishes.
pub async fn close<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    within("close", ws.close(ws_tokio::CloseCode::NORMAL, "done"))
        .await
        .expect("clean close");
    assert!(ws.session().is_closed());
    assert!(
        within("end", ws.next()).await.is_none(),
        "the stream has ended"
    );
}

/// A transport that counts the reads it is offered no room for (`ReadBuf` with nothing
/// remaining), and, when `at_once`, answers them itself with `Ready` (nothing read, as
/// `AsyncRead` allows) instead of asking `inner`. The stream offers such a read when it
/// only waits for the next bytes (see `tests/waiting_reads.rs`).
pub struct NoRoomCounter<S> {
    pub inner: S,
    pub at_once: bool,
    pub no_room: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for NoRoomCounter<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if buf.remaining() == 0 {
            self.no_room
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if self.at_once {
                return std::task::Poll::Ready(Ok(()));
            }
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for NoRoomCounter<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A masked frame (as a client sends it): FIN, `opcode`, `payload`.
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [1, 2, 3, 4];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// Reads one unmasked server frame within the deadline: (first byte, payload).
pub async fn read_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    within("a frame", async {
        let mut head = [0u8; 2];
        use tokio::io::AsyncReadExt;
        tcp.read_exact(&mut head).await.expect("frame header");
        let len = match head[1] & 0x7F {
            126 => tcp.read_u16().await.expect("length") as usize,
            127 => tcp.read_u64().await.expect("length") as usize,
            len => len as usize,
        };
        let mut payload = vec![0; len];
        tcp.read_exact(&mut payload).await.expect("payload");
        (head[0], payload)
    })
    .await
}

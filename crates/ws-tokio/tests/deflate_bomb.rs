//! permessage-deflate (RFC 7692) against a peer that sends a bomb: a message that is a
//! few KiB on the wire and inflates past `max_message_size` (RFC 7692 8.1: "an endpoint
//! ... should take steps to limit the size of the decompressed data"). The stream ends
//! with 1009 (RFC 6455 7.4.1) and the receiving thread's memory never holds the inflated
//! message: its peak stays within a bound the test states. Real sockets on 127.0.0.1.

mod common;

use common::within;
use futures_util::StreamExt;
use ws_tokio::{
    Acceptor, ClientBuilder, CloseCode, DeflateConfig, Error, Message, MessageKind, Settings,
};

const LIMIT: usize = 64 * 1024;
/// What inflating 16 MiB of zeros would take; they are a few KiB compressed.
const BOMB: usize = 16 << 20;
/// The most the receiving thread may allocate beyond what it held when the bomb came:
/// the limit's worth of message, the inflater's state (its 32 KiB window and tables) and
/// the receive storage, with room to spare, far below the bomb's size.
const PEAK_MAX: isize = 2 << 20;

/// Settings with a message limit of [`LIMIT`] bytes.
fn limited() -> Settings {
    let mut settings = Settings::default();
    settings.config.max_message_size = LIMIT;
    settings
}

/// Whether `end` is the 1009 error.
fn is_too_big(end: &Option<Result<Message, Error>>) -> bool {
    matches!(end, Some(Err(Error::Protocol(err))) if err.close_code() == Some(CloseCode::MESSAGE_TOO_BIG))
}

/// What the server saw: its stream's first item, whether the next poll ended it, and its
/// thread's peak of allocated bytes above what it held before reading.
type Seen = (Option<Result<Message, Error>>, bool, isize);

/// A server on a thread of its own (so that its memory is counted apart from the
/// client's): accepts one connection with deflate and [`limited`] settings, returns
/// what its stream delivered first, whether the next poll ended it, and its thread's
/// peak of allocated bytes above what it held before reading.
fn limited_server(listener: std::net::TcpListener) -> std::thread::JoinHandle<Seen> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut ws = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let (tcp, _) = within("accept", listener.accept()).await.expect("accept");
            Acceptor::new()
                .deflate(Some(DeflateConfig::default()))
                .settings(limited())
                .accept(tcp)
                .await
                .expect("handshake")
        });
        assert!(ws.is_compressing());
        // The allocations of this thread (the runtime's only one) while the bomb is read.
        let mut first = None;
        let peak = allocation_counter::measure(|| {
            first = Some(runtime.block_on(within("the bomb", ws.next())));
        })
        .bytes_max;
        let ended = runtime.block_on(within("end", ws.next())).is_none();
        (first.expect("measured"), ended, peak as isize)
    })
}

fn std_listener() -> (std::net::TcpListener, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// The client's side: connects with deflate, sends what `send` sends, and reads until
/// the server's 1009 close or, if `may_be_reset`, an I/O error: a server that fails the
/// connection closes TCP at once (RFC 6455 7.1.1, 7.1.7), and a client still sending then
/// has its connection reset, which can discard the close frame before it is read (see
/// the fragmented case).
async fn send_bomb<F, Fut>(addr: std::net::SocketAddr, may_be_reset: bool, send: F)
where
    F: FnOnce(ws_tokio::WebSocketStream<ws_tokio::ClientStream>) -> Fut,
    Fut: std::future::Future<Output = ws_tokio::WebSocketStream<ws_tokio::ClientStream>>,
{
    let ws = within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/"))
            .deflate(Some(DeflateConfig::default()))
            .connect(),
    )
    .await
    .expect("connect");
    assert!(ws.is_compressing(), "deflate agreed");
    let mut ws = send(ws).await;
    loop {
        match within("the server's close", ws.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG);
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(Error::Io(_))) if may_be_reset => return,
            other => panic!("expected a 1009 close, got {other:?}"),
        }
    }
}

// One message of 16 MiB of zeros, compressed to a few KiB: refused with 1009 once
// inflating passes the limit, without inflating the rest.
#[tokio::test]
async fn a_compressed_message_that_inflates_past_the_limit_is_closed_with_1009() {
    let (listener, addr) = std_listener();
    let server = limited_server(listener);
    send_bomb(addr, false, |mut ws| async move {
        ws.send(Message::binary(vec![0u8; BOMB]))
            .await
            .expect("send");
        ws
    })
    .await;
    let (first, ended, peak) = server.join().expect("server");
    assert!(is_too_big(&first), "{first:?}");
    assert!(ended, "the stream ends after the error");
    eprintln!("the server's thread peaked at {peak} bytes above its start");
    assert!(peak <= PEAK_MAX, "peak {peak} bytes, more than {PEAK_MAX}");
}

// The same bomb in 256 fragments of 64 KiB each (RFC 7692 6.1: one compressed
// message over several frames): counted over all of them. The client is still sending
// when the server fails the connection and closes TCP: its unread bytes make the
// server's kernel reset the connection, and the client may see the reset (EPIPE,
// ECONNRESET) rather than the 1009 close frame (it does, on Linux, nearly always). The
// server does not linger to read the rest away (python-websockets does, within its
// close timeout): a finding left open (see CHANGELOG).
#[tokio::test]
async fn a_fragmented_compressed_bomb_is_closed_with_1009() {
    let (listener, addr) = std_listener();
    let server = limited_server(listener);
    send_bomb(addr, true, |mut ws| async move {
        let chunk = vec![0u8; 64 * 1024];
        let count = BOMB / chunk.len();
        for i in 0..count {
            let sent = ws
                .send(Message::Fragment {
                    kind: MessageKind::Binary,
                    data: chunk.clone().into(),
                    last: i + 1 == count,
                })
                .await;
            if sent.is_err() {
                // The server's close came back meanwhile: sending stops.
                break;
            }
        }
        ws
    })
    .await;
    let (first, ended, peak) = server.join().expect("server");
    assert!(is_too_big(&first), "{first:?}");
    assert!(ended, "the stream ends after the error");
    assert!(peak <= PEAK_MAX, "peak {peak} bytes, more than {PEAK_MAX}");
}

// The client's side of the same rule: a server that sends the bomb.
#[tokio::test]
async fn a_client_refuses_a_bomb_from_the_server_with_1009() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = Acceptor::new()
            .deflate(Some(DeflateConfig::default()))
            .accept(tcp)
            .await
            .expect("handshake");
        ws.send(Message::binary(vec![0u8; BOMB]))
            .await
            .expect("send");
        within("the client's close", ws.next()).await
    });
    let mut ws = within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/"))
            .deflate(Some(DeflateConfig::default()))
            .settings(limited())
            .connect(),
    )
    .await
    .expect("connect");
    let first = within("the bomb", ws.next()).await;
    assert!(is_too_big(&first), "{first:?}");
    let answer = within("server", server).await.expect("server");
    assert!(
        matches!(&answer, Some(Ok(Message::Close(Some(frame)))) if frame.code == CloseCode::MESSAGE_TOO_BIG),
        "{answer:?}"
    );
}

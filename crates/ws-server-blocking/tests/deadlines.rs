//! Every state in which the server waits on its peer ends at a deadline, over real
//! sockets on 127.0.0.1, with a peer that stops taking part at that point. (The
//! handshake and TLS handshake deadlines are tested in `server.rs` and `tls.rs`:
//! `handshake_timeout_drops_silent_and_trickling_clients`,
//! `a_stalled_tls_handshake_does_not_block_other_clients`; silence after a ping in
//! `silence_max_pings_silent_clients_and_drops_dead_ones`.)
//!
//! Each test watches `connection_count` (every phase counts) from `on_tick` and waits,
//! for at most `PATIENCE`, until the connection is gone while the peer still holds its
//! socket open.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{PATIENCE, Running, connect, masked_frame, serve, tcp};
use ws_server_blocking::{Builder, CloseCode};

const CLOSE_TIMEOUT: Duration = Duration::from_millis(300);

/// A server with a short close timeout that reports its connection count every 20 ms.
fn counted(
    make: impl FnOnce(Builder) -> Builder + Send + 'static,
) -> (Running, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        make(b.close_timeout(CLOSE_TIMEOUT))
            .tick_period(Duration::from_millis(20))
            .on_tick(move |server| {
                let _ = tx.send(server.connection_count());
            })
    });
    (server, rx)
}

/// Waits until the server reports `count` connections.
fn wait_for_count(counts: &mpsc::Receiver<usize>, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = None;
    while Instant::now() < deadline {
        match counts.recv_timeout(PATIENCE) {
            Ok(n) if n == count => return,
            Ok(n) => last = Some(n),
            Err(_) => break,
        }
    }
    panic!("the server still has {last:?} connections, expected {count}");
}

/// Reads what the server sends until it closes its side (or resets).
fn read_to_eof(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    got
}

#[test]
fn a_refused_peer_that_never_closes_its_side_is_dropped() {
    // After a refusal (426: no Upgrade) the server half-closes and waits for the peer's end of stream.
    let (server, counts) = counted(|b| b);
    let mut stream = tcp(server.addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let answer = read_to_eof(&mut stream);
    assert!(answer.starts_with(b"HTTP/1.1 426 "));
    wait_for_count(&counts, 0);
    drop(stream);
}

#[test]
fn an_unanswered_close_is_given_up_at_close_timeout() {
    // RFC 6455 7.1.1 lets the server close TCP when the peer does not answer its close.
    let (server, counts) = counted(|b| {
        b.on_connect(|_, conn| {
            conn.on_utf8(|conn, _| conn.disconnect(CloseCode::NORMAL, "bye"));
        })
    });
    let mut stream = common::raw_connect(server.addr);
    stream
        .write_all(&masked_frame(0x81, b"close please"))
        .unwrap();
    wait_for_count(&counts, 1);
    // We read the close frame but never answer it.
    let mut close = [0u8; 2];
    stream.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88);
    wait_for_count(&counts, 0);
    drop(stream);
}

#[test]
fn a_peer_that_answers_the_close_but_keeps_tcp_open_is_dropped() {
    // The closing handshake is done and the server closed TCP (its close frame was
    // out): the peer's end of stream, which never comes, is not waited for.
    let (server, counts) = counted(|b| b);
    let mut client = connect(server.addr);
    client.close(1000, "done");
    assert_eq!(client.expect_close().0, 1000);
    client.expect_eof();
    wait_for_count(&counts, 0);
    drop(client);
}

#[test]
fn a_complete_closing_handshake_closes_tcp_without_waiting_for_the_peer() {
    // RFC 6455 7.1.1: the server closes TCP first. Once the peer's close frame is read
    // and ours is out, nothing but the peer's FIN can follow (5.5.1), so the socket is
    // closed at once: with a close timeout of an hour, a peer that keeps TCP open
    // cannot hold the connection. Both ways: the peer's close answered, and ours.
    let hour = Duration::from_secs(3600);
    let (server, counts) = counted(move |b| {
        b.close_timeout(hour).on_connect(|_, conn| {
            conn.on_utf8(|conn, _| conn.disconnect(CloseCode::NORMAL, "bye"));
        })
    });
    let mut client = connect(server.addr);
    client.close(1000, "done");
    assert_eq!(client.expect_close().0, 1000);
    clean_eof(&mut client.stream);
    wait_for_count(&counts, 0);
    let mut client = connect(server.addr);
    client.send_text("close please");
    // Our answer goes out as the frame is read (the client's session queues it).
    assert_eq!(client.expect_close(), (1000, "bye".to_owned()));
    clean_eof(&mut client.stream);
    wait_for_count(&counts, 0);
    drop(client);
}

/// Reads until the server's FIN, which must come after everything it sent, not as a
/// reset.
fn clean_eof(stream: &mut std::net::TcpStream) {
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("end of stream, not a reset");
    assert!(rest.is_empty(), "bytes after the close frame: {rest:?}");
}

/// Sends `n` 1 MiB binary messages to an echo server and never reads the echoes.
fn flood_without_reading(stream: &mut std::net::TcpStream, n: usize) {
    let message = masked_frame(0x82, &vec![7u8; 1 << 20]);
    for _ in 0..n {
        stream.write_all(&message).unwrap();
    }
}

/// An echo server that neither pauses reading nor drops a peer for unread output, so
/// that only the close timeout can end what follows.
fn patient_echo(b: Builder) -> Builder {
    b.read_pause(usize::MAX)
        .max_pending_output(usize::MAX)
        .on_connect(|_, conn| {
            conn.on_binary(|conn, msg| conn.send_binary(msg));
        })
}

#[test]
fn output_owed_to_a_peer_that_half_closed_and_stopped_reading_is_given_up() {
    // The peer sends, then its FIN, and never reads: the echoes it is owed (more than
    // the sockets' buffers hold) can never be written. The server used to wait for ever.
    let (server, counts) = counted(patient_echo);
    let mut stream = common::raw_connect(server.addr);
    flood_without_reading(&mut stream, 24);
    stream.shutdown(Shutdown::Write).unwrap();
    wait_for_count(&counts, 0);
    drop(stream);
}

#[test]
fn output_owed_after_the_peer_closed_is_given_up_if_it_stops_reading() {
    // The same after a closing handshake started by the peer: its close is answered
    // behind the echoes, which it never reads.
    let (server, counts) = counted(patient_echo);
    let mut stream = common::raw_connect(server.addr);
    flood_without_reading(&mut stream, 24);
    stream
        .write_all(&masked_frame(0x88, &1000u16.to_be_bytes()))
        .unwrap();
    wait_for_count(&counts, 0);
    drop(stream);
}

#[test]
fn shutdown_gives_up_on_peers_that_never_answer_its_close() {
    let (server, counts) = counted(|b| b);
    let stream = common::raw_connect(server.addr);
    wait_for_count(&counts, 1);
    server.handle.shutdown();
    server.join().expect("start returns after close_timeout");
    drop(stream);
}

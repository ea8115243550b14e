//! Large messages on the message path, over real sockets on 127.0.0.1: payloads of 64 KiB
//! and more are delivered in storage of their own, and an echo of one is written from
//! there (header queued alone, payload by `writev`); the storage is then reused for the
//! next. Whatever path a message takes, it must arrive intact and in order.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;

use common::{Client, PATIENCE, connect, connect_with, echo, serve};
use ws_proto::handshake::ClientRequest;
use ws_proto::{DeflateConfig, Event, MessageKind};
use ws_server_blocking::Connection;

/// Where the server starts delivering payloads in storage of their own.
const HAND_OVER: usize = 64 * 1024;
/// ws-proto's read chunk: the room left behind a gathered payload.
const FIRST_READ: usize = 16 * 1024;
/// Socket buffer size that makes the server's writes of large echoes stop part-way many
/// times (Linux doubles it; much smaller makes loopback crawl on delayed ACKs).
const SMALL_BUFFER: usize = 32 * 1024;

/// In `on_connect`: the connection's socket gets a [`SMALL_BUFFER`] send buffer once it
/// is ready, so that the server's writes of large echoes stop part-way.
fn small_send_buffer(conn: &Connection<'_>) {
    conn.on_ready(|conn| {
        socket2::SockRef::from(&*conn.socket()).set_send_buffer_size(SMALL_BUFFER)
    });
}

/// A client whose socket has a [`SMALL_BUFFER`] receive buffer.
fn connect_small(addr: SocketAddr) -> Client {
    let client = connect(addr);
    socket2::SockRef::from(&client.stream)
        .set_recv_buffer_size(SMALL_BUFFER)
        .unwrap();
    client
}

/// `len` bytes that differ from message to message (`seed`), and from byte to byte.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Text of exactly `len` bytes, with 3-byte code points that straddle every read and
/// frame boundary somewhere.
fn text(len: usize, seed: u32) -> String {
    let mut out = String::with_capacity(len);
    let mut i = seed as usize;
    while out.len() + 3 <= len {
        if i.is_multiple_of(7) {
            out.push('\u{2603}');
        } else {
            out.push(char::from(b'a' + (i % 26) as u8));
        }
        i += 1;
    }
    while out.len() < len {
        out.push('.');
    }
    out
}

/// Encodes messages with the client's session, without writing them.
fn encode(client: &mut Client, queue: impl FnOnce(&mut ws_proto::Session)) -> Vec<u8> {
    queue(&mut client.session);
    let wire = client.session.pending().to_vec();
    client.session.advance(wire.len());
    wire
}

/// Writes `wire` from another thread, so that the test can read the echoes meanwhile
/// (the server stops reading while its output to us is large: both sides writing and
/// neither reading would block for ever). Write errors end the thread.
fn write_behind(stream: &TcpStream, wire: Vec<u8>) -> thread::JoinHandle<()> {
    let mut stream = stream.try_clone().unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    thread::spawn(move || {
        let _ = stream.write_all(&wire);
    })
}

/// The sizes around the places where the path changes: the first read's size, the
/// hand-over size (a frame's header is 4 or 10 bytes: payloads just above it take both
/// paths), a megabyte and more; then smaller again (storage recycled from a larger one).
fn sizes() -> Vec<usize> {
    vec![
        FIRST_READ - 1,
        FIRST_READ,
        FIRST_READ + 1,
        HAND_OVER - 1,
        HAND_OVER,
        HAND_OVER + 1,
        HAND_OVER + 14,
        100_000,
        1 << 20,
        (1 << 20) + 7,
        3 << 20,
        1 << 20,
        HAND_OVER + 3,
        200,
    ]
}

// RFC 6455 5.6: a binary or text message arrives as it was sent, whatever its size.
#[test]
fn binary_and_text_echo_intact_around_the_hand_over_size() {
    let server = serve(echo);
    let mut client = connect(server.addr);
    for (i, size) in sizes().into_iter().enumerate() {
        let seed = i as u32;
        let data = bytes(size, seed);
        client.send_binary(&data);
        assert!(client.expect_binary() == data, "binary of {size} bytes");
        // Twice: the second gathers in the storage of the first.
        let data = bytes(size, seed + 100);
        client.send_binary(&data);
        assert!(
            client.expect_binary() == data,
            "second binary of {size} bytes"
        );
        let message = text(size, seed);
        client.send_text(&message);
        assert!(client.expect_text() == message, "text of {size} bytes");
    }
    client.close(1000, "");
    assert_eq!(client.expect_close().0, 1000);
}

// Several large messages in one write: a read ends inside the next frame, whose first
// bytes must survive the hand-over of the one before; echoes queued after a payload
// written from its own storage go out after it.
#[test]
fn pipelined_large_messages_echo_in_order() {
    let server = serve(echo);
    let mut client = connect(server.addr);
    let messages: Vec<(MessageKind, Vec<u8>)> = vec![
        (MessageKind::Binary, bytes(1 << 20, 1)),
        (MessageKind::Text, text(70_000, 2).into_bytes()),
        (MessageKind::Binary, bytes(HAND_OVER + 1, 3)),
        (MessageKind::Text, b"small".to_vec()),
        (MessageKind::Binary, bytes(2 << 20, 4)),
        (MessageKind::Binary, bytes(10, 5)),
    ];
    let wire = encode(&mut client, |session| {
        for (kind, data) in &messages {
            match kind {
                MessageKind::Binary => session.send_binary(data).unwrap(),
                MessageKind::Text => session
                    .send_text(std::str::from_utf8(data).unwrap())
                    .unwrap(),
            }
        }
    });
    let writer = write_behind(&client.stream, wire);
    for (i, (kind, data)) in messages.iter().enumerate() {
        let got = match (kind, client.next_message()) {
            (MessageKind::Binary, Event::Binary(got)) => got.into_owned(),
            (MessageKind::Text, Event::Text(got)) => got.into_owned().into_bytes(),
            (_, other) => panic!("message {i}: expected {kind:?}, got {other:?}"),
        };
        assert!(got == *data, "message {i} ({kind:?}, {} bytes)", data.len());
    }
    writer.join().unwrap();
}

// RFC 6455 5.4: a message sent in fragments (with a control frame between them) is
// reassembled, and its echo is the whole message.
#[test]
fn fragmented_large_messages_echo_intact() {
    let server = serve(echo);
    let mut client = connect(server.addr);
    let data = bytes((1 << 20) + 5, 9);
    let (a, rest) = data.split_at(300_000);
    let (b, c) = rest.split_at(HAND_OVER + 1);
    let message = text(200_000, 4);
    let (t1, t2) = message.as_bytes().split_at(100_001); // inside a code point
    let wire = encode(&mut client, |s| {
        s.send_fragment(MessageKind::Binary, a, false).unwrap();
        s.send_ping(b"between").unwrap();
        s.send_fragment(MessageKind::Binary, b, false).unwrap();
        s.send_fragment(MessageKind::Binary, c, true).unwrap();
        s.send_fragment(MessageKind::Text, t1, false).unwrap();
        s.send_fragment(MessageKind::Text, t2, true).unwrap();
    });
    let writer = write_behind(&client.stream, wire);
    assert_eq!(
        client.next_event(),
        Some(Event::Pong(b"between".to_vec().into()))
    );
    assert!(client.expect_binary() == data, "fragmented binary");
    assert!(client.expect_text() == message, "fragmented text");
    writer.join().unwrap();
}

// RFC 7692: with permessage-deflate agreed, large messages are inflated on the way in
// and compressed on the way out (never written raw from the received storage), both
// compressible ones and ones that do not compress.
#[test]
fn large_messages_echo_intact_with_deflate() {
    let server = serve(|b| echo(b.deflate(Some(DeflateConfig::default()))));
    let request = ClientRequest::new("127.0.0.1", "/")
        .port(server.addr.port())
        .deflate(DeflateConfig::default());
    let mut client = connect_with(server.addr, request).expect("handshake");
    assert!(client.session.is_compressing(), "deflate agreed");
    let compressible: Vec<u8> = (0..(1 << 20) + 3).map(|i| (i / 100) as u8).collect();
    let random = bytes(1 << 20, 77);
    let messages = [compressible, random, bytes(HAND_OVER + 1, 5), bytes(100, 6)];
    for data in &messages {
        client.send_binary(data);
        assert!(client.expect_binary() == *data, "{} bytes", data.len());
    }
    let message = text(300_000, 8);
    client.send_text(&message);
    assert!(client.expect_text() == message);
}

// Partial writes: with small socket buffers on both sides, the server's writes of what
// goes before a payload written from its own storage (here a 150 kB text the callback
// sends first, then the payload's header) and of the payload itself stop part-way many
// times (inside the bytes before the payload, across the boundary, inside the payload),
// and resume where they stopped when the socket is writable again; what was queued after
// the payload follows it.
#[test]
fn partial_writes_of_header_and_payload_resume_where_they_stopped() {
    let prefix = text(150_000, 7);
    let server = serve({
        let prefix = prefix.clone();
        move |b| {
            b.on_connect(move |_, conn| {
                small_send_buffer(&conn);
                conn.on_utf8(|conn, msg| conn.send_utf8(msg));
                let prefix = prefix.clone();
                conn.on_binary(move |conn, msg| {
                    conn.send_utf8(&prefix)?;
                    conn.send_binary(msg)?;
                    conn.send_utf8("behind")
                });
            })
        }
    });
    let mut client = connect_small(server.addr);
    let messages: Vec<(MessageKind, Vec<u8>)> = vec![
        (MessageKind::Text, text(100_000, 1).into_bytes()),
        (MessageKind::Binary, bytes((1 << 20) + 5, 2)),
        (MessageKind::Text, b"after".to_vec()),
        (MessageKind::Binary, bytes(200_000, 3)),
        (MessageKind::Binary, bytes(HAND_OVER, 4)),
    ];
    for round in 0..2 {
        let wire = encode(&mut client, |session| {
            for (kind, data) in &messages {
                match kind {
                    MessageKind::Binary => session.send_binary(data).unwrap(),
                    MessageKind::Text => session
                        .send_text(std::str::from_utf8(data).unwrap())
                        .unwrap(),
                }
            }
        });
        let writer = write_behind(&client.stream, wire);
        for (i, (kind, data)) in messages.iter().enumerate() {
            if *kind == MessageKind::Binary {
                assert!(client.expect_text() == prefix, "round {round}, before {i}");
            }
            let got = match client.next_message() {
                Event::Binary(got) => got.into_owned(),
                Event::Text(got) => got.into_owned().into_bytes(),
                other => panic!("round {round}, message {i}: got {other:?}"),
            };
            assert!(got == *data, "round {round}, message {i} ({kind:?})");
            if *kind == MessageKind::Binary {
                assert_eq!(client.expect_text(), "behind", "round {round}, after {i}");
            }
        }
        writer.join().unwrap();
    }
}

// A peer that sends large messages and never reads the echoes: the payloads held for
// writing count toward `max_pending_output` like copied output, so the connection is
// dropped at the cap instead of holding ever more of them.
#[test]
fn a_peer_that_never_reads_large_echoes_is_dropped_at_the_output_cap() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.max_pending_output(1536 * 1024)
            .read_pause(usize::MAX)
            .on_connect(move |_, conn| {
                small_send_buffer(&conn);
                conn.on_binary(|conn, msg| conn.send_binary(msg));
                let tx = tx.clone();
                conn.on_disconnect(move |_, code, reason| {
                    let _ = tx.send((code, reason.to_owned()));
                });
            })
    });
    let mut client = connect_small(server.addr);
    let wire = encode(&mut client, |session| {
        for i in 0..16 {
            session.send_binary(&bytes(1 << 20, i)).unwrap();
        }
    });
    let writer = write_behind(&client.stream, wire);
    let (code, reason) = rx.recv_timeout(PATIENCE).expect("dropped at the cap");
    assert_eq!(code, 1006);
    assert!(reason.contains("stopped reading"), "{reason}");
    writer.join().unwrap();
}

// The payload written from its own storage is the first send of the very slice delivered
// on its own connection; a second send of it, a part of it, a broadcast of it and what
// follows it are copies queued behind it: all arrive intact, in the order sent, also
// when the server's writes stop part-way.
#[test]
fn resending_parts_and_broadcasts_of_a_delivered_payload_arrive_in_order() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            small_send_buffer(&conn);
            conn.on_binary(|conn, msg| {
                conn.send_binary(msg)?;
                conn.send_binary(msg)?;
                conn.send_binary(&msg[1..])?;
                conn.send_binary(&msg[..msg.len() - 1])?;
                conn.server().broadcast_binary(msg);
                conn.send_utf8("end")
            });
        })
    });
    let mut client = connect_small(server.addr);
    for (i, size) in [HAND_OVER, HAND_OVER + 1, 1 << 20, 300_000]
        .into_iter()
        .enumerate()
    {
        let data = bytes(size, 40 + i as u32);
        let wire = encode(&mut client, |session| session.send_binary(&data).unwrap());
        let writer = write_behind(&client.stream, wire);
        for (j, want) in [
            &data[..],
            &data[..],
            &data[1..],
            &data[..size - 1],
            &data[..],
        ]
        .into_iter()
        .enumerate()
        {
            assert!(client.expect_binary() == want, "{size} bytes, copy {j}");
        }
        assert_eq!(client.expect_text(), "end", "{size} bytes");
        writer.join().unwrap();
    }
}

// RFC 6455 5.5.1: a close frame right behind a large message (one write): the echo
// (written from its own storage, part-way at a time) goes out whole before the answer
// to the close, then TCP closes. And a close the callback starts after sending the
// payload back follows it.
#[test]
fn a_close_behind_a_large_echo_follows_it() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            small_send_buffer(&conn);
            conn.on_binary(|conn, msg| {
                conn.send_binary(msg)?;
                if msg[0] == 0 {
                    conn.disconnect(ws_proto::CloseCode::new(4000).unwrap(), "after");
                }
                Ok::<(), ws_server_blocking::Error>(())
            });
        })
    });
    for first in [0u8, 1] {
        let mut client = connect_small(server.addr);
        let mut data = bytes(2 << 20, 9);
        data[0] = first;
        let wire = encode(&mut client, |session| {
            session.send_binary(&data).unwrap();
            if first != 0 {
                session
                    .close(ws_proto::CloseCode::new(1000).unwrap(), "bye")
                    .unwrap();
            }
        });
        let writer = write_behind(&client.stream, wire);
        assert!(
            client.expect_binary() == data,
            "echo before the close ({first})"
        );
        // The client's answer to the server's close goes out as it is decoded.
        let (code, _) = client.expect_close();
        assert_eq!(code, if first == 0 { 4000 } else { 1000 });
        client.expect_eof();
        writer.join().unwrap();
    }
}

// A peer that resets the connection while its echo is being written from the payload's
// storage: the connection goes, and the next ones (in the same slot) get their own
// echoes intact, never the storage of the one that went.
#[test]
fn a_reset_during_a_large_echo_leaves_the_next_connections_intact() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            small_send_buffer(&conn);
            conn.on_binary(|conn, msg| conn.send_binary(msg));
        })
    });
    for round in 0..3u32 {
        let mut client = connect_small(server.addr);
        let data = bytes(3 << 20, 70 + round);
        let wire = encode(&mut client, |session| session.send_binary(&data).unwrap());
        let writer = write_behind(&client.stream, wire);
        // Some of the echo, not all of it: the server's write stops part-way.
        let mut some = [0u8; 4096];
        std::io::Read::read_exact(&mut client.stream, &mut some).unwrap();
        // Closing with unread bytes sends a reset.
        socket2::SockRef::from(&client.stream)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
        writer.join().unwrap();
        drop(client);
        let mut next = connect(server.addr);
        for (i, size) in [1 << 20, HAND_OVER, 2 << 20].into_iter().enumerate() {
            let data = bytes(size, 90 + i as u32 + 10 * round);
            let wire = encode(&mut next, |session| session.send_binary(&data).unwrap());
            let writer = write_behind(&next.stream, wire);
            assert!(next.expect_binary() == data, "round {round}: {size} bytes");
            writer.join().unwrap();
        }
        next.close(1000, "");
        assert_eq!(next.expect_close().0, 1000);
    }
}

//! Many connections each stalled inside a frame (or inside its handshake request), at
//! various points, against the ws-server binary (a separate process, so that its memory
//! can be measured): what each keeps is about what it sent, not the worker loop's 64 KiB
//! receive buffer, and every frame completes correctly once the rest arrives. Real
//! sockets on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{ServerProcess, connect, masked_frame, raw_connect, tcp};

/// Reads one unmasked server frame: (first byte, payload).
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).unwrap();
    let len = match head[1] & 0x7F {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).unwrap();
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).unwrap();
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).unwrap();
    (head[0], payload)
}

/// Where a stalled connection stops: after `sent` bytes of `whole`.
struct Stalled {
    stream: TcpStream,
    whole: Vec<u8>,
    sent: usize,
    /// The payload the echo must carry (`None`: a handshake request, answered with 101).
    payload: Option<Vec<u8>>,
}

// 800 connections, each left at one of several points (one byte into a frame's header,
// inside a short frame's payload, 1,000 bytes into a 4,000-byte frame, partway through a
// handshake request; and four 100,000 bytes into a 300,000-byte frame), each after an echo so that the loop's buffer was theirs a moment
// before. The worker loop's receive buffer is 64 KiB: a connection that kept it for its
// few bytes would hold 50 MiB among them (it did, before the fix: RSS grew by ~50 MiB).
// What they sent is under 1 MiB; they may keep a few times that, no more. Then each
// frame (and request) completes and is answered exactly.
#[test]
fn connections_stalled_inside_frames_hold_what_they_sent() {
    const EACH: usize = 200;
    let server = ServerProcess::start(&[]);
    // Warm up: a few connections and echoes, so that what the loop keeps for good is
    // counted before the first reading.
    for _ in 0..20 {
        let mut warm = connect(server.addr);
        warm.send_binary(&[1; 1000]);
        assert_eq!(warm.expect_binary(), [1; 1000]);
    }
    let mut sync = connect(server.addr);
    let rss_before = server.rss_kib();
    let mut stalled = Vec::new();
    let mut held = 0;
    let large: Vec<u8> = (0..300_000u32).map(|b| (b % 251) as u8).collect();
    for i in 0..EACH {
        let payload: Vec<u8> = (0..4000).map(|b| (b * 7 + i) as u8).collect();
        let mut points: Vec<(&[u8], usize)> =
            vec![(b"header", 1), (&payload[..100], 50), (&payload, 1000)];
        // Now and then, a third of a large frame: gathered in storage of its own to be
        // handed over, and kept there while it waits.
        if i % 50 == 0 {
            points.push((&large, 100_000));
        }
        for (data, sent) in points {
            let whole = masked_frame(0x82, data);
            let mut stream = raw_connect(server.addr);
            // An echo first: the loop's buffer served this connection a moment ago.
            stream.write_all(&masked_frame(0x82, b"ping")).unwrap();
            assert_eq!(read_frame(&mut stream), (0x82, b"ping".to_vec()));
            stream.write_all(&whole[..sent]).unwrap();
            held += sent;
            stalled.push(Stalled {
                stream,
                whole,
                sent,
                payload: Some(data.to_vec()),
            });
        }
        let request = common::upgrade_request().to_vec();
        let mut stream = tcp(server.addr);
        stream.write_all(&request[..40]).unwrap();
        held += 40;
        stalled.push(Stalled {
            stream,
            whole: request,
            sent: 40,
            payload: None,
        });
        // Every stalled connection so far has been read once this answer comes back
        // (one loop; their bytes arrived before the sync's).
        sync.send_text("sync");
        assert_eq!(sync.expect_text(), "sync");
    }
    let grew_kib = server.rss_kib().saturating_sub(rss_before);
    let held_kib = held as u64 / 1024;
    // Each connection's slot and a buffer as large as its bytes (4 KiB each is generous),
    // and four times the bytes at most.
    let bound_kib = stalled.len() as u64 * 4 + 4 * held_kib;
    eprintln!(
        "{} stalled connections: RSS grew by {grew_kib} KiB",
        stalled.len()
    );
    assert!(
        grew_kib < bound_kib,
        "{} connections stalled with {held_kib} KiB among them: RSS grew by {grew_kib} KiB \
         (bound {bound_kib} KiB)",
        stalled.len()
    );
    // Each completes, and is answered exactly.
    for (i, s) in stalled.iter_mut().enumerate() {
        s.stream.write_all(&s.whole[s.sent..]).unwrap();
        match &s.payload {
            Some(payload) => {
                let (first, got) = read_frame(&mut s.stream);
                assert_eq!(first, 0x82, "connection {i}");
                assert!(got == *payload, "connection {i}: echo differs");
            }
            None => {
                let mut head = [0u8; 12];
                s.stream.read_exact(&mut head).unwrap();
                assert_eq!(&head, b"HTTP/1.1 101", "connection {i}");
            }
        }
    }
}

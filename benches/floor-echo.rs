//! The floor: the least any WebSocket echo server built on one `read` and one `write` per
//! message must spend, so that the load tests can say what is left to win in user space.
//!
//! `floor-echo [ADDR]` (default 127.0.0.1:9003): one thread, mio (epoll, edge-triggered),
//! the same system calls per message as ws-server (one `read`, one `write`; a `writev` of
//! header and payload for a large frame) and nothing else: the handshake answers any
//! request carrying a `Sec-WebSocket-Key` with 101; frames are unmasked in place with
//! ws-proto's `apply_mask` (the unmasking is work every server must do) and echoed with
//! the same opcode; a ping is answered with a pong; a close frame is answered with a close frame, then the connection is
//! closed. **It is not a WebSocket server**: no UTF-8 validation, no fragmentation rules,
//! no limits, no control-frame checks, no compression. It exists only for ws-load's
//! workloads, as a yardstick: a real server's CPU per message minus the floor's is what
//! its own code costs; the floor's CPU is what the kernel costs whoever drives it.

use std::io::{self, IoSlice, Read, Write};

#[path = "floor/wire.rs"]
mod wire;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// The read room kept behind the bytes held, and the first buffer's size (small, so that a
/// connection costs little to set up; a frame too long for it gets room for all of it).
const READ_ROOM: usize = 4096;
/// Frames at least this long are written from where they were received (`writev` of
/// header and payload), as ws-server writes large messages; smaller ones are copied into
/// the output buffer, so that a batch of replies leaves in one `write`.
const LARGE: usize = 64 * 1024;
const LISTENER: Token = Token(usize::MAX);

enum Stage {
    /// Reading the HTTP request head.
    Handshake,
    /// Echoing frames.
    Open,
    /// The close frame is answered; the connection closes once it is written.
    Closing,
}

struct Conn {
    tcp: TcpStream,
    stage: Stage,
    /// Received bytes: `input[start..end]` are held, `input[end..]` is read room.
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes waiting for the socket to take them.
    output: Vec<u8>,
    /// A large frame being written from `input`: its header, and `input[from..to]` left.
    large: Option<([u8; 10], usize, usize, usize)>,
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let mut listener = TcpListener::bind(addr.parse().map_err(io::Error::other)?)?;
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux, as ws-server's do:
    // one `setsockopt` per server instead of one per connection.
    socket2::SockRef::from(&listener).set_tcp_nodelay(true)?;
    println!("floor-echo: listening on ws://{}/", listener.local_addr()?);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Slab<Conn> = Slab::new();
    let mut events = Events::with_capacity(1024);
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut conns)?;
                continue;
            }
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if drive(conn).is_err() {
                // Closing the socket takes it out of the epoll set: no `epoll_ctl` needed.
                drop(conns.remove(key));
            }
        }
    }
}

fn accept_all(listener: &TcpListener, poll: &Poll, conns: &mut Slab<Conn>) -> io::Result<()> {
    loop {
        match listener.accept() {
            Ok((mut tcp, _)) => {
                let entry = conns.vacant_entry();
                poll.registry().register(
                    &mut tcp,
                    Token(entry.key()),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                entry.insert(Conn {
                    tcp,
                    stage: Stage::Handshake,
                    input: vec![0; READ_ROOM],
                    start: 0,
                    end: 0,
                    output: Vec::new(),
                    large: None,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Answers, writes and reads until the socket is drained (or full); `Err` closes the
/// connection.
fn drive(conn: &mut Conn) -> io::Result<()> {
    let mut drained = false;
    loop {
        loop {
            if !flush(conn)? {
                return Ok(()); // the socket is full: the next edge says when it is not
            }
            if let Stage::Closing = conn.stage {
                return Err(io::Error::other("closed"));
            }
            if !(matches!(conn.stage, Stage::Open) && frames(conn)) {
                break;
            }
        }
        // A short read emptied the socket: the next bytes come with a new edge.
        if drained {
            return Ok(());
        }
        if conn.input.len() - conn.end < READ_ROOM / 2 {
            make_room(conn, READ_ROOM);
        }
        let room = conn.input.len() - conn.end;
        let n = match conn.tcp.read(&mut conn.input[conn.end..]) {
            Ok(0) => return Err(io::Error::other("eof")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        };
        conn.end += n;
        if let Stage::Handshake = conn.stage {
            handshake(conn)?;
        }
        drained = n < room;
    }
}

/// Moves the held bytes to the front and keeps at least `room` bytes of read room.
fn make_room(conn: &mut Conn, room: usize) {
    conn.input.copy_within(conn.start..conn.end, 0);
    conn.end -= conn.start;
    conn.start = 0;
    if conn.input.len() < conn.end + room {
        conn.input.resize(conn.end + room, 0);
    }
}

/// Writes what is waiting; `Ok(false)` when the socket would block.
fn flush(conn: &mut Conn) -> io::Result<bool> {
    while !conn.output.is_empty() {
        match conn.tcp.write(&conn.output) {
            Ok(n) => drop(conn.output.drain(..n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    while let Some((header, header_len, from, to)) = conn.large {
        let written = if header_len > 0 {
            conn.tcp.write_vectored(&[
                IoSlice::new(&header[..header_len]),
                IoSlice::new(&conn.input[from..to]),
            ])
        } else {
            conn.tcp.write(&conn.input[from..to])
        };
        match written {
            Ok(n) => {
                let payload = n.saturating_sub(header_len);
                let mut rest = header;
                rest.copy_within(n.min(header_len)..header_len, 0);
                let header_left = header_len - n.min(header_len);
                conn.large = if from + payload == to {
                    conn.start = to;
                    None
                } else {
                    Some((rest, header_left, from + payload, to))
                };
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Answers the request head once it is complete.
fn handshake(conn: &mut Conn) -> io::Result<()> {
    if let Some(head_len) =
        wire::answer_handshake(&conn.input[conn.start..conn.end], &mut conn.output)?
    {
        conn.start += head_len;
        conn.stage = Stage::Open;
    }
    Ok(())
}

/// Echoes every complete frame held; whether it queued any answer.
fn frames(conn: &mut Conn) -> bool {
    let mut queued = false;
    while conn.large.is_none() && matches!(conn.stage, Stage::Open) {
        match wire::next_frame(&mut conn.input, conn.start, conn.end) {
            wire::Frame::Incomplete(None) => return queued,
            wire::Frame::Incomplete(Some(frame_len)) => {
                // Room for the whole frame, so that its payload arrives where it is
                // echoed from.
                if conn.input.len() - conn.start < frame_len {
                    let missing = frame_len - (conn.end - conn.start);
                    make_room(conn, missing);
                }
                return queued;
            }
            wire::Frame::TooLong => {
                conn.stage = Stage::Closing; // no answer: the connection is dropped
                return queued;
            }
            wire::Frame::Skip { to } => conn.start = to,
            wire::Frame::Answer {
                header,
                header_len,
                from,
                to,
                close,
            } => {
                if close {
                    conn.stage = Stage::Closing;
                }
                queued = true;
                if to - from >= LARGE {
                    conn.large = Some((header, header_len, from, to));
                    return queued;
                }
                conn.output.extend_from_slice(&header[..header_len]);
                conn.output.extend_from_slice(&conn.input[from..to]);
                conn.start = to;
            }
        }
    }
    queued
}

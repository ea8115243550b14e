//! Echo load: every connection keeps `in_flight` messages outstanding.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::threads::ThreadArgs;
use crate::wire;

#[derive(clap::Args)]
pub struct EchoArgs {
    /// Server address, host:port.
    addr: String,
    /// Connections.
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// Messages in flight per connection.
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Send binary messages instead of text.
    #[arg(long)]
    binary: bool,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[command(flatten)]
    threads: ThreadArgs,
}

impl EchoArgs {
    /// uWebSockets' `load_test` shape: binary messages, one in flight per connection.
    pub fn load_test(
        addr: String,
        connections: usize,
        size: usize,
        duration: f64,
        warmup: f64,
        threads: ThreadArgs,
    ) -> Self {
        EchoArgs {
            addr,
            connections,
            in_flight: 1,
            size,
            binary: true,
            duration,
            warmup,
            threads,
        }
    }
}

/// Recognises the server's echoes in a byte stream without copying them: each must be a
/// frame with exactly the expected header and length.
struct EchoReader {
    header: Vec<u8>,
    frame_len: usize,
    /// Position inside the current echo frame.
    at: usize,
}

impl EchoReader {
    fn consume(&mut self, mut bytes: &[u8]) -> io::Result<usize> {
        let mut done = 0;
        while !bytes.is_empty() {
            let n = if self.at < self.header.len() {
                let n = (self.header.len() - self.at).min(bytes.len());
                if bytes[..n] != self.header[self.at..self.at + n] {
                    return Err(io::Error::other(format!(
                        "unexpected frame from the server (first bytes {:02x?})",
                        &bytes[..n.min(4)]
                    )));
                }
                n
            } else {
                (self.frame_len - self.at).min(bytes.len())
            };
            self.at += n;
            bytes = &bytes[n..];
            if self.at == self.frame_len {
                self.at = 0;
                done += 1;
            }
        }
        Ok(done)
    }
}

struct Conn {
    token: Token,
    tcp: mio::net::TcpStream,
    reader: EchoReader,
    /// Bytes still to send; the stream is the pre-built frame repeated.
    queued: usize,
    /// Bytes sent so far (to find the position within the frame).
    sent: usize,
    /// Send time of each message in flight, oldest first.
    times: VecDeque<Instant>,
    /// Writability is polled (only while a write would block).
    watching_writable: bool,
}

/// The frames every connection sends, and how its echoes look.
struct Frames {
    /// One masked frame.
    frame_len: usize,
    /// The frame many times over: any window of it is a valid run of frames.
    batch: Vec<u8>,
    echo_header: Vec<u8>,
    echo_len: usize,
}

pub fn run(args: &EchoArgs) -> io::Result<()> {
    args.threads.check()?;
    let opcode = if args.binary { 0x2 } else { 0x1 };
    let payload: Vec<u8> = (0..args.size).map(|i| b'a' + (i % 26) as u8).collect();
    let frame = wire::masked_frame(opcode, &payload);
    let repeat = (256 * 1024 / frame.len()).max(args.in_flight).max(2);
    let echo_header = server_header(opcode, args.size);
    let frames = Frames {
        frame_len: frame.len(),
        batch: frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * repeat)
            .collect(),
        echo_len: echo_header.len() + args.size,
        echo_header,
    };

    // Every handshake first, from this thread, then the measured loops.
    let mut streams = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (tcp, leftover) = wire::connect(&args.addr, &args.addr, "/")?;
        if !leftover.is_empty() {
            return Err(io::Error::other("the server spoke first"));
        }
        streams.push(tcp);
    }
    let counts = args
        .threads
        .run(streams, |share, start| drive(args, &frames, share, start))?;
    let messages = counts.iter().map(|(m, _)| m).sum();
    let latencies = counts.into_iter().flat_map(|(_, l)| l).collect();
    report(args, messages, latencies)
}

/// One generator thread: keeps `in_flight` messages outstanding on each of its
/// connections until the measured window ends; returns the echoes counted in the window
/// and their round-trip times in microseconds.
fn drive(
    args: &EchoArgs,
    frames: &Frames,
    streams: Vec<std::net::TcpStream>,
    start: Instant,
) -> io::Result<(u64, Vec<u32>)> {
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(streams.len());
    for (i, tcp) in streams.into_iter().enumerate() {
        let mut tcp = mio::net::TcpStream::from_std(tcp);
        poll.registry()
            .register(&mut tcp, Token(i), Interest::READABLE)?;
        conns.push(Conn {
            token: Token(i),
            tcp,
            reader: EchoReader {
                header: frames.echo_header.clone(),
                frame_len: frames.echo_len,
                at: 0,
            },
            queued: 0,
            sent: 0,
            times: VecDeque::with_capacity(args.in_flight),
            watching_writable: false,
        });
    }
    let (batch, frame_len) = (&frames.batch[..], frames.frame_len);
    let now = Instant::now();
    for conn in &mut conns {
        conn.queued = frame_len * args.in_flight;
        conn.times.extend(std::iter::repeat_n(now, args.in_flight));
        write(&poll, conn, batch, frame_len)?;
    }
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let measure_until = measure_from + Duration::from_secs_f64(args.duration);
    let mut latencies_us: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut messages = 0u64;
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; 256 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        let now = Instant::now();
        if now >= measure_until {
            break;
        }
        let measuring = now >= measure_from;
        for event in events.iter() {
            let conn = &mut conns[event.token().0];
            if event.is_readable() {
                loop {
                    let n = match conn.tcp.read(&mut scratch) {
                        Ok(0) => return Err(io::Error::other("the server closed a connection")),
                        Ok(n) => n,
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                        Err(err) => return Err(err),
                    };
                    let echoed = conn.reader.consume(&scratch[..n])?;
                    for _ in 0..echoed {
                        let sent_at = conn.times.pop_front().unwrap_or(now);
                        if measuring {
                            messages += 1;
                            latencies_us.push(
                                now.duration_since(sent_at)
                                    .as_micros()
                                    .min(u32::MAX as u128) as u32,
                            );
                        }
                        conn.times.push_back(now);
                    }
                    conn.queued += echoed * frame_len;
                    if n < scratch.len() {
                        break;
                    }
                }
            }
            write(&poll, conn, batch, frame_len)?;
        }
    }
    Ok((messages, latencies_us))
}

/// The header a server puts on an echo of `size` bytes.
fn server_header(opcode: u8, size: usize) -> Vec<u8> {
    let mut header = vec![0x80 | opcode];
    if size < 126 {
        header.push(size as u8);
    } else if size <= 0xFFFF {
        header.push(126);
        header.extend_from_slice(&(size as u16).to_be_bytes());
    } else {
        header.push(127);
        header.extend_from_slice(&(size as u64).to_be_bytes());
    }
    header
}

/// Writes what is queued; polls writability only while the socket is full.
fn write(poll: &Poll, conn: &mut Conn, batch: &[u8], frame_len: usize) -> io::Result<()> {
    let mut blocked = false;
    while conn.queued > 0 {
        let from = conn.sent % frame_len;
        let len = conn.queued.min(batch.len() - from);
        match conn.tcp.write(&batch[from..from + len]) {
            Ok(n) => {
                conn.queued -= n;
                conn.sent += n;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                blocked = true;
                break;
            }
            Err(err) => return Err(err),
        }
    }
    if blocked != conn.watching_writable {
        let interest = if blocked {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        poll.registry()
            .reregister(&mut conn.tcp, conn.token, interest)?;
        conn.watching_writable = blocked;
    }
    Ok(())
}

fn report(args: &EchoArgs, messages: u64, mut latencies: Vec<u32>) -> io::Result<()> {
    if latencies.is_empty() {
        return Err(io::Error::other("no echo arrived while measuring"));
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let rate = messages as f64 / args.duration;
    let mbps = rate * args.size as f64 / 1e6;
    println!(
        "echo: {} connections x {} in flight, {} B {}, {}: {rate:.0} msg/s, {mbps:.1} MB/s each way, round trip p50 {} us p99 {} us",
        args.connections,
        args.in_flight,
        args.size,
        if args.binary { "binary" } else { "text" },
        args.threads.describe(),
        at(0.5),
        at(0.99)
    );
    println!(
        "RESULT rate={rate:.0} mbps={mbps:.2} p50_us={} p99_us={}",
        at(0.5),
        at(0.99)
    );
    Ok(())
}

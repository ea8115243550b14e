//! Connection churn: connect, handshake, close, `concurrency` at a time.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::threads::ThreadArgs;
use crate::wire;

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// Server address, host:port.
    addr: String,
    /// Cycles in progress at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    #[command(flatten)]
    threads: ThreadArgs,
}

enum Stage {
    /// Waiting for the TCP connection.
    Connecting,
    /// Request sent, reading the answer's head.
    Handshaking,
    /// Close sent, reading until the server closes TCP.
    Closing,
}

struct Slot {
    tcp: mio::net::TcpStream,
    stage: Stage,
    got: Vec<u8>,
}

pub fn run(args: &ConnectArgs) -> io::Result<()> {
    args.threads.check()?;
    let addr: SocketAddr = args.addr.parse().map_err(io::Error::other)?;
    let counts = args
        .threads
        .run((0..args.concurrency).collect(), |slots, start| {
            churn(args, addr, slots.len(), start)
        })?;
    let cycles: u64 = counts.iter().map(|(c, _)| c).sum();
    let errors: u64 = counts.iter().map(|(_, e)| e).sum();
    let rate = cycles as f64 / args.duration;
    println!(
        "connect: {} at a time, {}: {rate:.0} connect+handshake+close cycles/s ({errors} errors)",
        args.concurrency,
        args.threads.describe()
    );
    println!("RESULT rate={rate:.0} errors={errors}");
    Ok(())
}

/// One generator thread: keeps `concurrency` cycles in progress until the measured
/// window ends; returns the cycles completed in the window and the errors.
fn churn(
    args: &ConnectArgs,
    addr: SocketAddr,
    concurrency: usize,
    start: Instant,
) -> io::Result<(u64, u64)> {
    let request = wire::handshake_request(&args.addr, "/");
    let close = wire::close_frame();
    let mut poll = Poll::new()?;
    let mut slots: Vec<Slot> = Vec::new();
    for i in 0..concurrency {
        slots.push(open(&poll, addr, i)?);
    }
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let measure_until = measure_from + Duration::from_secs_f64(args.duration);
    let (mut cycles, mut errors) = (0u64, 0u64);
    let mut events = Events::with_capacity(256);
    let mut buf = [0u8; 4096];
    while Instant::now() < measure_until {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for event in events.iter() {
            let i = event.token().0;
            let slot = &mut slots[i];
            // The peer's FIN came with this edge: the end of stream is read now, even
            // after a short read (no later edge would report it).
            let hangup = event.is_read_closed() || event.is_error();
            let outcome: io::Result<bool> = (|| {
                if let Stage::Connecting = slot.stage {
                    // Writable means the connection attempt finished: the request goes
                    // out at once, and a failed attempt fails the write with its error
                    // (no `SO_ERROR` and `getpeername` round, two system calls a cycle).
                    // The server speaks only after the request, so nothing is read yet.
                    match slot.tcp.write(&request) {
                        Ok(n) if n == request.len() => {}
                        Ok(_) => return Err(io::Error::other("request written in part")),
                        Err(err)
                            if err.kind() == io::ErrorKind::WouldBlock
                                || err.kind() == io::ErrorKind::NotConnected =>
                        {
                            return Ok(false); // not connected yet
                        }
                        Err(err) => return Err(err),
                    }
                    slot.stage = Stage::Handshaking;
                    return Ok(false);
                }
                loop {
                    let n = match slot.tcp.read(&mut buf) {
                        // A cycle counts once the server answered our close with its
                        // own (RFC 6455 5.5.1) and then closed TCP: a server that drops
                        // the connection without a close frame, or answers with
                        // anything else first, is an error, not a faster cycle.
                        Ok(0) => {
                            return match slot.stage {
                                Stage::Closing if slot.got.first() == Some(&0x88) => Ok(true),
                                Stage::Closing => Err(io::Error::other(
                                    "closed without answering the close frame",
                                )),
                                _ => Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "closed during the handshake",
                                )),
                            };
                        }
                        Ok(n) => n,
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                        Err(err) => return Err(err),
                    };
                    slot.got.extend_from_slice(&buf[..n]);
                    if let Stage::Handshaking = slot.stage
                        && let Some(len) = wire::head_len(&slot.got)
                    {
                        if !wire::is_switching(&slot.got) {
                            return Err(io::Error::other("handshake refused"));
                        }
                        slot.got.drain(..len);
                        slot.tcp.write_all(&close)?;
                        slot.stage = Stage::Closing;
                    }
                    // A short read drained the socket: what arrives later (the answer
                    // to the request or to the close) comes with a new edge, so no read
                    // is spent on `WouldBlock`.
                    if n < buf.len() {
                        if !hangup {
                            break;
                        }
                        // The FIN had come when this edge was reported, so the short
                        // read took every byte before it: the end of stream is known
                        // without a read that returns 0.
                        if let Stage::Closing = slot.stage {
                            return if slot.got.first() == Some(&0x88) {
                                Ok(true)
                            } else {
                                Err(io::Error::other("closed without answering the close frame"))
                            };
                        }
                    }
                }
                Ok(false)
            })();
            let finished = match outcome {
                Ok(false) => continue,
                Ok(true) => {
                    if Instant::now() >= measure_from {
                        cycles += 1;
                    }
                    true
                }
                Err(_) => {
                    errors += 1;
                    true
                }
            };
            if finished {
                // Closing the socket takes it out of the poller (no other descriptor
                // refers to it): no `EPOLL_CTL_DEL` first.
                slots[i] = open(&poll, addr, i)?;
            }
        }
    }
    Ok((cycles, errors))
}

fn open(poll: &Poll, addr: SocketAddr, i: usize) -> io::Result<Slot> {
    // No `TCP_NODELAY`: each of the two writes of a cycle (the request, the close frame)
    // goes out with nothing unacknowledged in flight (the answer to the request
    // acknowledges it), so Nagle's algorithm never holds one back.
    let mut tcp = mio::net::TcpStream::connect(addr)?;
    poll.registry()
        .register(&mut tcp, Token(i), Interest::READABLE | Interest::WRITABLE)?;
    Ok(Slot {
        tcp,
        stage: Stage::Connecting,
        got: Vec::new(),
    })
}

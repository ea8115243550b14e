//! `fanout`: one publisher and N subscribers of a broadcast server (`ws-server --mode
//! broadcast`, every message to every client); reports deliveries per second (messages
//! received by all subscribers together).
//!
//! The publisher keeps `--window` messages in flight: it is a subscriber too, and sends a
//! new message for each of its own copies that comes back. Every message has the same
//! size (under 126 bytes, so every server frame is `size + 2` bytes), so deliveries are
//! counted from the bytes read, without parsing. Run the server with `--silence-max 0`:
//! a ping would throw the count off.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::wire;

#[derive(clap::Args)]
pub struct FanoutArgs {
    /// Server address, host:port.
    addr: String,
    /// Subscribers, besides the publisher.
    #[arg(long, default_value_t = 200)]
    receivers: usize,
    /// Text message size in bytes (at most 125).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u8).range(1..=125))]
    size: u8,
    /// Messages in flight from the publisher.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

pub fn run(args: &FanoutArgs) -> io::Result<()> {
    let size = usize::from(args.size);
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let frame = wire::masked_frame(0x1, &payload);
    let server_frame = size as u64 + 2;
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(args.receivers + 1);
    for i in 0..=args.receivers {
        let (tcp, leftover) = wire::connect(&args.addr, &args.addr, "/")?;
        if !leftover.is_empty() {
            return Err(io::Error::other("the server spoke first"));
        }
        let mut tcp = mio::net::TcpStream::from_std(tcp);
        poll.registry()
            .register(&mut tcp, Token(i), Interest::READABLE)?;
        conns.push((tcp, 0u64));
    }
    // Connection 0 publishes.
    let mut sent = 0u64;
    let window = args.window as u64;
    let publish = |conns: &mut Vec<(mio::net::TcpStream, u64)>, n: u64| -> io::Result<u64> {
        let batch: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * n as usize)
            .collect();
        // Blocking write of a small batch: the socket buffer takes it.
        let tcp = &mut conns[0].0;
        let mut at = 0;
        while at < batch.len() {
            match tcp.write(&batch[at..]) {
                Ok(k) => at += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    };
    sent += publish(&mut conns, window)?;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let measure_until = measure_from + Duration::from_secs_f64(args.duration);
    let mut at_start: Option<u64> = None;
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; 256 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for event in events.iter() {
            let (tcp, bytes) = &mut conns[event.token().0];
            loop {
                match tcp.read(&mut scratch) {
                    Ok(0) => return Err(io::Error::other("the server closed a connection")),
                    Ok(n) => *bytes += n as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        let own = conns[0].1 / server_frame;
        if own + window > sent {
            let n = own + window - sent;
            sent += publish(&mut conns, n)?;
        }
        let now = Instant::now();
        let total: u64 = conns.iter().map(|(_, b)| b / server_frame).sum();
        if at_start.is_none() && now >= measure_from {
            at_start = Some(total);
        }
        if now >= measure_until {
            let delivered = total - at_start.unwrap_or(0);
            let secs = args.duration;
            let rate = delivered as f64 / secs;
            println!(
                "fanout: {} subscribers, {size} B text, window {}: {:.0} deliveries/s ({:.0} publishes/s)",
                args.receivers + 1,
                args.window,
                rate,
                rate / (args.receivers + 1) as f64
            );
            println!("RESULT deliveries_per_s={rate:.0}");
            return Ok(());
        }
    }
}

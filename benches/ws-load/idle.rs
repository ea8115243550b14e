//! Idle connections: how much resident memory each one costs the server.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::wire;

#[derive(clap::Args)]
pub struct IdleArgs {
    /// Server address, host:port.
    addr: String,
    /// The server's process id, to read its resident memory.
    #[arg(long)]
    server_pid: u32,
    /// Connections to hold.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Seconds to wait after the last handshake before measuring.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Connections to open (and hold) before the first reading, so that what the server
    /// allocates once (its read buffer, its lists' first growth) is not counted per
    /// connection: the figure is then the slope, (after - before) / connections.
    #[arg(long, default_value_t = 0)]
    warm: usize,
    /// Offer permessage-deflate in each handshake.
    #[arg(long)]
    deflate: bool,
    /// With --deflate, ask for no context takeover both ways, so that the server frees
    /// its compression state after each message.
    #[arg(long, requires = "deflate")]
    no_context_takeover: bool,
    /// Exchange one text message on each connection before it idles (compressed with
    /// --deflate), so that the server allocates what a used connection holds.
    #[arg(long)]
    exchange: bool,
}

/// A JSON-like text message of about 1 KiB.
fn message() -> String {
    (0..20)
        .map(|i| format!("{{\"id\":{i},\"user\":\"user{}\",\"online\":true}},", i * 7))
        .collect()
}

/// The message's frame: compressed as RFC 7692 7.2.1 says (raw deflate, sync flush, tail
/// removed) with RSV1 set, or plain.
fn message_frame(deflate: bool) -> Vec<u8> {
    let text = message();
    if !deflate {
        return wire::masked_frame(0x1, text.as_bytes());
    }
    let mut compress = flate2::Compress::new(flate2::Compression::default(), false);
    let mut out = Vec::with_capacity(text.len() + 64);
    compress
        .compress_vec(text.as_bytes(), &mut out, flate2::FlushCompress::Sync)
        .expect("compressing a small message");
    assert!(
        out.ends_with(&[0, 0, 0xff, 0xff]),
        "a sync flush ends with the tail"
    );
    out.truncate(out.len() - 4);
    // 0x40: RSV1, "this message is compressed".
    wire::masked_frame(0x40 | 0x1, &out)
}

/// Sends the message and waits for the first byte of the answer; returns whether the
/// answer is compressed.
fn exchange(tcp: &mut TcpStream, frame: &[u8]) -> io::Result<bool> {
    tcp.set_nonblocking(false)?;
    tcp.write_all(frame)?;
    let mut first = [0u8; 1];
    tcp.read_exact(&mut first)?;
    tcp.set_nonblocking(true)?;
    Ok(first[0] & 0x40 != 0)
}

/// The server's resident set size in KiB.
fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
}

pub fn run(args: &IdleArgs) -> io::Result<()> {
    let extra = match (args.deflate, args.no_context_takeover) {
        (false, _) => "",
        (true, false) => wire::DEFLATE_OFFER,
        (true, true) => wire::DEFLATE_OFFER_NO_CONTEXT_TAKEOVER,
    };
    let request = wire::handshake_request_with(&args.addr, "/", extra);
    let frame = message_frame(args.deflate);
    let mut held: Vec<TcpStream> = Vec::with_capacity(args.warm + args.connections);
    for _ in 0..args.warm {
        held.push(wire::connect_with(&args.addr, &request)?.0);
    }
    if args.warm > 0 {
        std::thread::sleep(Duration::from_secs_f64(args.settle));
    }
    let before = rss_kib(args.server_pid)?;
    let mut compressed_answers = 0;
    for _ in 0..args.connections {
        let (mut tcp, _) = wire::connect_with(&args.addr, &request)?;
        if args.exchange && exchange(&mut tcp, &frame)? {
            compressed_answers += 1;
        }
        held.push(tcp);
    }
    if args.exchange {
        println!(
            "idle: one {}-byte message exchanged per connection, {compressed_answers} answers compressed",
            message().len()
        );
    }
    std::thread::sleep(Duration::from_secs_f64(args.settle));
    let after = rss_kib(args.server_pid)?;
    let per_connection = (after.saturating_sub(before)) as f64 / args.connections as f64;
    println!(
        "idle: {} connections: server RSS {before} KiB -> {after} KiB, {per_connection:.2} KiB per connection",
        args.connections
    );
    println!(
        "RESULT kib_per_conn={per_connection:.3} rss_before_kib={before} rss_after_kib={after}"
    );
    drop(held);
    Ok(())
}

//! Idle connections: how much resident memory each one costs the server.
//!
//! The figure is (server RSS after - before) / N, read from `/proc/PID/status`. Before
//! the first reading, `--prime` connections (1) are opened, handshaken (and exchange a
//! message with `--exchange`) and closed: what a server pays once, at its first
//! connection, whatever their number (pages of its own code and read-only data mapped
//! the first time the accept, handshake and frame paths run, buffers allocated at the
//! first read, lazily made statics), is then in both readings rather than charged to
//! the N. Nothing a held connection costs is left out: every connection measured is
//! opened after the first reading and held through the second.
//!
//! Each process has a descriptor limit (`ulimit -n`); N connections need N descriptors
//! in this process and N in the server, beside those they have open already. The run
//! checks both limits before it starts (from `/proc/self` and `/proc/PID`) and, rather
//! than failing midway, refuses a count that does not fit, or with `--fit` measures the
//! most that fit and says so.

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
    /// Connections to hold. They must fit both processes' descriptor limits (N plus the
    /// descriptors each has open already): with a hard limit of 20,000 (`ulimit -Hn`),
    /// 20,000 does not fit and about 19,990 does; see --fit.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// When --connections (with --warm) does not fit this process's or the server's
    /// descriptor limit, hold the most that fit instead (printed, and in the RESULT line
    /// as `connections=`), rather than refusing to start.
    #[arg(long)]
    fit: bool,
    /// Connections opened, handshaken and closed before the first reading (one message
    /// exchanged on each with --exchange), so that what the server does once at its
    /// first connection (its code's pages mapped, first-use buffers) is not charged to
    /// the connections measured. 0 measures a server that never had a connection.
    #[arg(long, default_value_t = 1)]
    prime: usize,
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

/// A process's resident memory in KiB, from `/proc/PID/status`: the total (`VmRSS`, the
/// figure measured) and its anonymous and file-backed parts.
#[derive(Clone, Copy)]
struct Rss {
    total: u64,
    anon: u64,
    file: u64,
}

impl Rss {
    fn read(pid: u32) -> io::Result<Rss> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> io::Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| io::Error::other(format!("no {name} in /proc/{pid}/status")))
        };
        Ok(Rss {
            total: field("VmRSS:")?,
            anon: field("RssAnon:")?,
            file: field("RssFile:")?,
        })
    }
}

/// Descriptors kept free in each process beside the connections: this one reads
/// `/proc` files while it holds them; a server may open a descriptor of its own
/// meanwhile (a timer, a log file).
const SPARE_DESCRIPTORS: usize = 4;

/// How many more descriptors process `pid` ("self" for this one) may open: its soft
/// `Max open files` (`/proc/PID/limits`) less those open now (`/proc/PID/fd`) and
/// [`SPARE_DESCRIPTORS`].
fn free_descriptors(pid: &str) -> io::Result<usize> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let soft = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|v| v.split_whitespace().next())
        .ok_or_else(|| io::Error::other(format!("no Max open files in /proc/{pid}/limits")))?;
    let soft: usize = if soft == "unlimited" {
        usize::MAX
    } else {
        soft.parse()
            .map_err(|_| io::Error::other(format!("/proc/{pid}/limits: bad limit {soft}")))?
    };
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
    Ok(soft.saturating_sub(open + SPARE_DESCRIPTORS))
}

/// The connections to measure: `args.connections`, or with `--fit` the most that fit
/// both descriptor limits beside the `--warm` ones; an error naming the most that fit
/// when it does not.
fn connections_that_fit(args: &IdleArgs) -> io::Result<usize> {
    let own = free_descriptors("self")?;
    let server = free_descriptors(&args.server_pid.to_string())?;
    let fit = own.min(server).saturating_sub(args.warm);
    if args.connections <= fit {
        return Ok(args.connections);
    }
    let why = format!(
        "{} connections (and {} warm) need as many descriptors here and in the server; \
         {own} are free here, {server} in the server (soft limits less open descriptors \
         less {SPARE_DESCRIPTORS}; raise with ulimit -n, up to ulimit -Hn)",
        args.connections, args.warm
    );
    if !args.fit || fit == 0 {
        return Err(io::Error::other(format!(
            "{why}: at most {fit} fit (--fit measures that many)"
        )));
    }
    println!("idle: {why}: measuring {fit}, the most that fit (--fit)");
    Ok(fit)
}

pub fn run(args: &IdleArgs) -> io::Result<()> {
    let extra = match (args.deflate, args.no_context_takeover) {
        (false, _) => "",
        (true, false) => wire::DEFLATE_OFFER,
        (true, true) => wire::DEFLATE_OFFER_NO_CONTEXT_TAKEOVER,
    };
    let request = wire::handshake_request_with(&args.addr, "/", extra);
    let frame = message_frame(args.deflate);
    let connections = connections_that_fit(args)?;
    for _ in 0..args.prime {
        let (mut tcp, _) = wire::connect_with(&args.addr, &request)?;
        if args.exchange {
            exchange(&mut tcp, &frame)?;
        }
    }
    let mut held: Vec<TcpStream> = Vec::with_capacity(args.warm + connections);
    for _ in 0..args.warm {
        held.push(wire::connect_with(&args.addr, &request)?.0);
    }
    if args.warm > 0 || args.prime > 0 {
        std::thread::sleep(Duration::from_secs_f64(args.settle));
    }
    let before = Rss::read(args.server_pid)?;
    let mut compressed_answers = 0;
    for _ in 0..connections {
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
    let after = Rss::read(args.server_pid)?;
    let per = |a: u64, b: u64| a as f64 / connections as f64 - b as f64 / connections as f64;
    let per_connection = per(after.total, before.total).max(0.0);
    println!(
        "idle: {connections} connections: server RSS {} KiB -> {} KiB, {per_connection:.2} KiB per \
         connection (anonymous {:.3}, file-backed {:.3})",
        before.total,
        after.total,
        per(after.anon, before.anon),
        per(after.file, before.file),
    );
    println!(
        "RESULT kib_per_conn={per_connection:.3} rss_before_kib={} rss_after_kib={} connections={connections}",
        before.total, after.total
    );
    drop(held);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{IdleArgs, connections_that_fit, free_descriptors};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        idle: IdleArgs,
    }

    /// `ws-load idle` against this very process (its limits stand in for a server's).
    fn args(extra: &[&str]) -> IdleArgs {
        let pid = std::process::id().to_string();
        let mut argv = vec!["idle", "127.0.0.1:1", "--server-pid", &pid];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("valid arguments").idle
    }

    // A count past the descriptor limit is refused before any connection is opened, with
    // the most that fit; --fit measures that many instead.
    #[test]
    fn a_count_past_the_descriptor_limit_is_refused_or_fitted() {
        let free = free_descriptors("self").expect("reading /proc/self");
        assert!(free > 0, "this process can open a descriptor");
        let too_many = (free + 1).to_string();
        let err = connections_that_fit(&args(&["--connections", &too_many]))
            .expect_err("more connections than free descriptors");
        assert!(err.to_string().contains("--fit"), "{err}");
        let fitted = connections_that_fit(&args(&["--connections", &too_many, "--fit"]))
            .expect("--fit lowers the count");
        // (Other tests of this binary run beside this one and may hold a descriptor or
        // two meanwhile: the counts are compared loosely.)
        assert!(fitted > 0 && fitted <= free + 8, "{fitted} of {free}");
        // --warm connections count against the same limit.
        let warm = (fitted / 2).to_string();
        let with_warm = connections_that_fit(&args(&[
            "--connections",
            &too_many,
            "--fit",
            "--warm",
            &warm,
        ]))
        .expect("--fit with --warm");
        assert!(
            with_warm > 0 && with_warm < fitted,
            "{with_warm} beside {warm} warm"
        );
        // A count that fits is measured as asked.
        assert_eq!(
            connections_that_fit(&args(&["--connections", "1"])).unwrap(),
            1
        );
    }
}

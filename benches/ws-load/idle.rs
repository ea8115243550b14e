//! Idle connections: how much resident memory each one costs the server.

use std::io;
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
    let before = rss_kib(args.server_pid)?;
    let mut held: Vec<TcpStream> = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (tcp, _) = wire::connect(&args.addr, &args.addr, "/")?;
        held.push(tcp);
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

//! The shape of uWebSockets' `load_test` (the harness fastwebsockets, tokio-websockets
//! and sockudo-ws publish their figures with): N connections, each with one binary
//! message of S bytes in flight, a new one sent as soon as its echo is back; the figure
//! is echoes per second. It runs as `echo` with `--binary --in-flight 1`, so it reports
//! the same way; only the defaults (500 connections, 20 bytes) are load_test's own.

use std::io;

use crate::echo::{self, EchoArgs};
use crate::threads::ThreadArgs;

#[derive(clap::Args)]
pub struct LoadTestArgs {
    /// Server address, host:port.
    addr: String,
    /// Connections.
    #[arg(long, default_value_t = 500)]
    connections: usize,
    /// Binary message size in bytes.
    #[arg(long, default_value_t = 20)]
    size: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[command(flatten)]
    threads: ThreadArgs,
}

pub fn run(args: LoadTestArgs) -> io::Result<()> {
    echo::run(&EchoArgs::load_test(
        args.addr,
        args.connections,
        args.size,
        args.duration,
        args.warmup,
        args.threads,
    ))
}

//! `ws-load`: a WebSocket load generator that measures a server, not itself.
//!
//! - `echo`: N connections, each keeping W messages in flight; reports messages/s, MB/s
//!   and round-trip latency percentiles.
//! - `connect`: C concurrent connect + handshake + close cycles; reports cycles/s.
//! - `load-test`: uWebSockets' `load_test` shape: N connections (500), one binary
//!   message (20 B) in flight each; reports echoes/s as `echo` does.
//! - `fanout`: one publisher and N subscribers of a broadcast server; reports deliveries
//!   per second.
//! - `idle`: holds N idle connections and reports the server's resident memory per
//!   connection (read from /proc).
//!
//! Each thread runs one mio loop, sends pre-built masked frames, and checks echoes by
//! their headers and lengths without copying payloads, so that little of the machine's
//! CPU goes to the generator. `echo`, `load-test` and `connect` can spread their work
//! over several threads, each pinned to a chosen core (`--threads N --cpus LIST`). The
//! last line of every run is `RESULT key=value ...`, for scripts.

mod connect;
mod echo;
mod fanout;
mod idle;
mod load_test;
mod threads;
mod wire;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "WebSocket load generator")]
struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Echo round trips over many connections.
    Echo(echo::EchoArgs),
    /// uWebSockets' load_test shape: N connections, one binary message in flight each.
    LoadTest(load_test::LoadTestArgs),
    /// Connect, handshake and close, over and over.
    Connect(connect::ConnectArgs),
    /// Hold idle connections and measure the server's memory.
    Idle(idle::IdleArgs),
    /// One publisher, N subscribers of a broadcast server: deliveries per second.
    Fanout(fanout::FanoutArgs),
}

fn main() {
    let result = match Args::parse().mode {
        Mode::Echo(args) => echo::run(&args),
        Mode::LoadTest(args) => load_test::run(args),
        Mode::Connect(args) => connect::run(&args),
        Mode::Idle(args) => idle::run(&args),
        Mode::Fanout(args) => fanout::run(&args),
    };
    if let Err(err) = result {
        eprintln!("ws-load: {err}");
        std::process::exit(1);
    }
}

//! What every baseline echo server shares: its command line and its tokio runtime.
//!
//! `NAME [ADDR] [--threads N]`: listens on ADDR (default 127.0.0.1:9002), prints
//! `NAME: listening on ws://ADDR/` once it accepts, and hands each accepted TCP stream
//! (with `TCP_NODELAY` set, as every server in `run-load.sh` has it) to the crate's own
//! handshake and echo loop. `--threads 0` or `1` runs tokio's current-thread runtime;
//! `--threads N` a multi-thread runtime with N workers. Every server gets the same
//! runtime, I/O and timer drivers both (sockudo-ws's heartbeat needs the timer).

use std::future::Future;
use std::io;

use clap::Parser;
use tokio::net::{TcpListener, TcpStream};

#[derive(Parser)]
struct Options {
    /// Address to listen on, host:port.
    #[arg(default_value = "127.0.0.1:9002")]
    addr: String,
    /// Runtime threads: 0 or 1 = tokio's current-thread runtime, N = a multi-thread
    /// runtime with N workers.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// Parses the command line, starts the runtime it asks for, and serves every accepted
/// connection with `handle` (one task each) until the process is killed.
pub fn serve<F, Fut>(name: &str, handle: F) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let options = Options::parse();
    let runtime = if options.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(async {
        let listener = TcpListener::bind(&options.addr).await?;
        println!(
            "{name}: listening on ws://{}/ ({})",
            listener.local_addr()?,
            match options.threads {
                0 | 1 => "current-thread runtime".to_string(),
                n => format!("multi-thread runtime, {n} workers"),
            }
        );
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors or a connection reset before accept: keep
                // serving the others.
                Err(_) => continue,
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(handle(stream));
        }
    })
}

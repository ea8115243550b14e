//! An echo server on tokio: every message comes back, permessage-deflate is accepted
//! when offered, and replies to a batch of input go out in one write. Used by
//! `scripts/autobahn.sh tokio-server` and `scripts/interop.sh`.
//!
//! `cargo run --release -p examples --example tokio_echo_server -- 127.0.0.1:9002`
//! prints `listening on ws://127.0.0.1:9002` once it accepts connections. `--threads N`
//! picks the runtime: 1 (the default) a current-thread runtime, as one core of a load test
//! is measured; N a multi-thread runtime with N workers. Ctrl-C or SIGTERM closes every
//! client with 1001 (`tokio::signal`) and ends the program once they have answered.

use futures_util::StreamExt;
use tokio::net::TcpListener;
use ws_tokio::{Acceptor, DeflateConfig, WebSocketStream};

fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:9002".to_owned();
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or_else(|| usage("--threads takes a number of threads, 1 or more"))?;
            }
            "-h" | "--help" => {
                println!("usage: tokio_echo_server [ADDR] [--threads N]");
                return Ok(());
            }
            _ if arg.starts_with('-') => return Err(usage(&format!("unknown option {arg}"))),
            _ => addr = arg,
        }
    }
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(&addr))
}

fn usage(message: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{message} (usage: tokio_echo_server [ADDR] [--threads N])"),
    )
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux: no `setsockopt`
    // per connection there.
    let nodelay_per_socket = !ws_tokio::inherit_nodelay(&listener, true);
    let mut shutdown = examples::shutdown_signal();
    println!("listening on ws://{}", listener.local_addr()?);
    // Shared: each connection's task holds a pointer to it, not a copy (the task's size
    // is what an idle connection costs; benches/README.md).
    let acceptor = std::sync::Arc::new(Acceptor::new().deflate(Some(DeflateConfig::default())));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = examples::stopped(&mut shutdown) => break,
        };
        if nodelay_per_socket {
            tcp.set_nodelay(true)?;
        }
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            match acceptor.accept(tcp).await {
                Ok(ws) => examples::until_shutdown(ws, shutdown, echo).await,
                Err(err) => eprintln!("{peer}: handshake: {err}"),
            }
        });
        // Reap the connections that ended, so the set holds only live ones.
        while connections.try_join_next().is_some() {}
    }
    // Every connection closes with 1001 and waits (within its close timeout) for the
    // client's answer.
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn echo(ws: &mut WebSocketStream<tokio::net::TcpStream>) {
    while let Some(message) = ws.next().await {
        match message {
            // `feed` queues; the next poll for input writes the whole batch at once.
            Ok(message) if message.is_data() => {
                if ws.feed(message).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

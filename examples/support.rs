//! What the blocking server examples share: the port from the command line, a line that
//! says where they listen, and Ctrl-C or SIGTERM closing every client with 1001 (as
//! `ws-server` does) instead of the process dying under them (1006).
//!
//! This library also runs the workspace README's Rust snippets as doctests.

use std::io::Write;

use signal_hook::consts::{SIGINT, SIGTERM};
use ws_server_blocking::{Builder, Error};

/// The port given as the first command-line argument, else `default`. A first argument
/// that is not a port ends the program with a usage line (status 2).
pub fn port_arg(default: u16) -> u16 {
    match std::env::args().nth(1) {
        None => default,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            let program = std::env::args().next().unwrap_or_default();
            eprintln!("usage: {program} [PORT] (got {arg:?}, not a port from 0 to 65535)");
            std::process::exit(2)
        }),
    }
}

/// Binds `builder`, prints `listening on SCHEME://ADDR/`, and runs the server until
/// Ctrl-C or SIGTERM, which close every client with 1001 and return `Ok`.
pub fn serve(builder: Builder, scheme: &str) -> Result<(), Error> {
    let server = builder.bind()?;
    let handle = server.shutdown_handle();
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            handle.shutdown();
        }
    });
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "listening on {scheme}://{}/ (Ctrl-C to stop)",
        server.local_addr()
    )
    .and_then(|()| stdout.flush());
    server.start()
}

/// The workspace README, whose Rust snippets run as doctests (they compile as pasted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// For the tokio examples: a receiver whose value turns `true` at Ctrl-C or SIGTERM
/// (`tokio::signal`), so that each connection can close with 1001 as `ws-server` does.
/// The handlers are installed before it returns (a signal that comes after no longer
/// kills the process): call it, inside the runtime, before saying the program is ready.
pub fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = tokio::sync::watch::channel(false);
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    tokio::spawn(async move {
        let wait = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                // Not installed: this one never comes.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {}
            () = wait(terminate) => {}
        }
        let _ = tx.send(true);
    });
    rx
}

/// Returns once `shutdown` has turned `true` (or its sender is gone).
pub async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, not held across an await.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Runs `serve` on `ws` until it ends or `shutdown` turns `true`; then closes with 1001
/// Going Away ("server shutting down"), which waits for the client's answer within the
/// stream's close timeout.
///
/// The shutdown signal is waited for without a cost per message: its future is polled
/// once, which leaves the task's waker with the channel, and again only when the
/// channel's value changed (a version check) or the task's waker did. Polling it on
/// every wake-up, as `tokio::select!` does, cost an echo about 200 instructions per
/// message (benches/README.md).
pub async fn until_shutdown<S>(
    mut ws: ws_tokio::WebSocketStream<S>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    serve: impl AsyncFnOnce(&mut ws_tokio::WebSocketStream<S>),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use std::future::Future;
    use std::task::{Poll, Waker};

    let watch = shutdown.clone();
    let stop = {
        let mut serve = std::pin::pin!(serve(&mut ws));
        let mut stopped = std::pin::pin!(stopped(&mut shutdown));
        // The waker `stopped` was last polled with; `None` before the first poll.
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(|cx| {
            if serve.as_mut().poll(cx).is_ready() {
                return Poll::Ready(false);
            }
            let same_waker = registered.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
            if !same_waker || watch.has_changed().unwrap_or(true) {
                registered = Some(cx.waker().clone());
                if stopped.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
            }
            Poll::Pending
        })
        .await
    };
    if stop {
        let _ = ws
            .close(ws_tokio::CloseCode::GOING_AWAY, "server shutting down")
            .await;
    }
}

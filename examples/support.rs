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

/// For the tokio examples: the signal that Ctrl-C or SIGTERM came (`tokio::signal`), so
/// that each connection can close with 1001 as `ws-server` does. Cheap to clone (one
/// `Arc`).
///
/// Waiting for it costs a connection no work per message and little memory while idle:
/// a waiting task leaves its waker in the signal's list once (a slot of 16 bytes, updated
/// only when the task's waker changes) and checks one flag when it wakes, where a
/// `tokio::sync::watch` future polled beside the connection cost an echo about 200
/// instructions per message and 200 bytes per idle connection (benches/README.md).
#[derive(Clone, Debug)]
pub struct Shutdown(std::sync::Arc<Signal>);

#[derive(Debug, Default)]
struct Signal {
    came: std::sync::atomic::AtomicBool,
    waiting: std::sync::Mutex<Waiting>,
}

/// The wakers of the tasks waiting for the signal, in slots that are reused.
#[derive(Debug, Default)]
struct Waiting {
    wakers: Vec<Option<std::task::Waker>>,
    free: Vec<usize>,
}

/// A waiting task's slot in [`Waiting`], emptied when it is dropped.
struct Registration<'a> {
    signal: &'a Signal,
    slot: usize,
    /// The waker in the slot (compared without taking the lock).
    waker: std::task::Waker,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut waiting = self.signal.lock();
        waiting.wakers[self.slot] = None;
        waiting.free.push(self.slot);
    }
}

impl Signal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn came(&self) -> bool {
        self.came.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl Shutdown {
    /// Ready once the signal came; otherwise leaves (or updates) the task's waker in the
    /// signal's list, through `registration`. Inline: a connection's task calls it on
    /// every wakeup, where it checks a flag and compares two wakers; the registering is
    /// out of line.
    #[inline]
    fn poll_came<'a>(
        &'a self,
        cx: &mut std::task::Context<'_>,
        registration: &mut Option<Registration<'a>>,
    ) -> std::task::Poll<()> {
        use std::task::Poll;
        if self.0.came() {
            return Poll::Ready(());
        }
        if let Some(held) = registration
            && held.waker.will_wake(cx.waker())
        {
            return Poll::Pending;
        }
        self.register(cx, registration)
    }

    /// The out-of-line part of [`poll_came`](Self::poll_came): leaves the task's waker in
    /// the signal's list (or replaces the one left there).
    #[inline(never)]
    fn register<'a>(
        &'a self,
        cx: &mut std::task::Context<'_>,
        registration: &mut Option<Registration<'a>>,
    ) -> std::task::Poll<()> {
        use std::task::Poll;
        match registration {
            Some(held) => {
                held.waker = cx.waker().clone();
                self.0.lock().wakers[held.slot] = Some(held.waker.clone());
            }
            None => {
                let mut waiting = self.0.lock();
                let waker = cx.waker().clone();
                let slot = match waiting.free.pop() {
                    Some(slot) => {
                        waiting.wakers[slot] = Some(waker.clone());
                        slot
                    }
                    None => {
                        waiting.wakers.push(Some(waker.clone()));
                        waiting.wakers.len() - 1
                    }
                };
                drop(waiting);
                *registration = Some(Registration {
                    signal: &self.0,
                    slot,
                    waker,
                });
            }
        }
        // The signal may have come while the waker was being left: look again.
        if self.0.came() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Turns the signal on and wakes every waiting task.
    fn fire(&self) {
        self.0
            .came
            .store(true, std::sync::atomic::Ordering::Release);
        let wakers: Vec<_> = self.0.lock().wakers.iter().flatten().cloned().collect();
        for waker in wakers {
            waker.wake();
        }
    }
}

/// The [`Shutdown`] signal of Ctrl-C or SIGTERM. The handlers are installed before it
/// returns (a signal that comes after no longer kills the process): call it, inside the
/// runtime, before saying the program is ready.
pub fn shutdown_signal() -> Shutdown {
    use tokio::signal::unix::{SignalKind, signal};
    let shutdown = Shutdown(std::sync::Arc::default());
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    let fire = shutdown.clone();
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
        fire.fire();
    });
    shutdown
}

/// Returns once the `shutdown` signal came.
pub async fn stopped(shutdown: &mut Shutdown) {
    let mut registration = None;
    std::future::poll_fn(|cx| shutdown.poll_came(cx, &mut registration)).await;
}

/// Runs `serve` on `ws` until it ends or the `shutdown` signal comes; then closes with
/// 1001 Going Away ("server shutting down"), which waits for the client's answer within
/// the stream's close timeout.
pub async fn until_shutdown<S>(
    mut ws: ws_tokio::WebSocketStream<S>,
    shutdown: Shutdown,
    serve: impl AsyncFnOnce(&mut ws_tokio::WebSocketStream<S>),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use std::future::Future;
    use std::task::Poll;

    let stop = {
        let mut serve = std::pin::pin!(serve(&mut ws));
        let mut registration = None;
        std::future::poll_fn(|cx| {
            if serve.as_mut().poll(cx).is_ready() {
                return Poll::Ready(false);
            }
            shutdown.poll_came(cx, &mut registration).map(|()| true)
        })
        .await
    };
    if stop {
        let _ = ws
            .close(ws_tokio::CloseCode::GOING_AWAY, "server shutting down")
            .await;
    }
}

//! Worker balance under stress: the per-worker counts that `Balance::LeastConnections`
//! reads stay exact whatever becomes of a connection (handed over to a loop that ends,
//! refused, failed, timed out), and the per-worker `max_connections` cap does not refuse
//! a connection that another worker has room for. Real sockets on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{PATIENCE, block_loop, connect, serve, tcp};
use ws_server_blocking::{Balance, Handle};

/// A gate a callback waits at until the test opens it (or `PATIENCE` passes).
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let open = self.open.lock().unwrap();
        let (open, _) = self
            .opened
            .wait_timeout_while(open, PATIENCE, |open| !*open)
            .unwrap();
        assert!(*open, "the test never opened the gate");
    }
}

/// Waits until `ready` holds, failing after `PATIENCE` with `what`.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn wait_for_counts(handle: &Handle, want: &[usize]) {
    wait_until(&format!("counts {want:?}"), || {
        handle.connections_per_worker() == want
    });
}

/// Reads until the server closes the connection (end of stream or reset).
fn expect_closed(mut tcp: std::net::TcpStream) {
    let mut rest = Vec::new();
    match tcp.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

// A connection handed to a worker whose loop ends before it takes the connection in
// (here: the receiving worker is already shutting down, held in its `on_shutdown`, while
// the accepting worker is still in its accept loop) is closed with the loop's queue, and
// its place in that worker's count is given back: after `start` returned every count is
// zero. Before the fix the count stayed at 1 for good.
#[test]
fn a_connection_queued_to_a_loop_that_ends_leaves_no_count() {
    // One listener shared by both workers, so that whichever is not held accepts.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connect_gate = Arc::new(Gate::default());
    let shutdown_gate = Arc::new(Gate::default());
    let (held_tx, held_rx) = mpsc::channel::<(&str, usize)>();
    let held_tx = Mutex::new(held_tx);
    let first_connect = Arc::new(AtomicBool::new(true));
    let first_shutdown = Arc::new(AtomicBool::new(true));
    let (cg, sg) = (connect_gate.clone(), shutdown_gate.clone());
    let server = serve(move |b| {
        b.listen(listener).workers(2).worker_setup(move |worker| {
            let index = worker.index();
            let (cg, sg) = (cg.clone(), sg.clone());
            let (first_connect, first_shutdown) = (first_connect.clone(), first_shutdown.clone());
            let tx = held_tx.lock().unwrap().clone();
            let tx2 = tx.clone();
            worker.on_connect(move |_server, _conn| {
                if first_connect.swap(false, Ordering::SeqCst) {
                    tx.send(("connect", index)).unwrap();
                    cg.wait();
                }
            });
            worker.on_shutdown(move |_server| {
                if first_shutdown.swap(false, Ordering::SeqCst) {
                    tx2.send(("shutdown", index)).unwrap();
                    sg.wait();
                }
            });
        })
    });
    let handle = server.handle.clone();
    // The first connection holds its worker (W) inside the accept loop.
    let first = tcp(server.addr);
    let (what, accepting) = held_rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(what, "connect");
    // The other worker (O) begins to shut down, and is held there.
    handle.shutdown();
    let (what, ending) = held_rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!((what, ending), ("shutdown", 1 - accepting));
    // A second connection waits in the backlog; W accepts it once let go, holds one more
    // than O, and hands it to O.
    let second = tcp(server.addr);
    connect_gate.open();
    wait_until("the hand-off to the ending worker", || {
        handle.handed_off() == 1
    });
    // O ends without taking it in.
    shutdown_gate.open();
    server.join().unwrap();
    expect_closed(second);
    expect_closed(first);
    assert_eq!(handle.connections_per_worker(), [0, 0]);
}

// A worker at its `max_connections` hands a new connection to a worker with room even
// when `slack` would let it keep the connection: the cap is per worker, and a connection
// must not be refused while another worker has room for it. Worker 1 is held in a posted
// job, so that worker 0 accepts everything on the shared listener.
#[test]
fn a_worker_at_its_cap_hands_over_instead_of_refusing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = serve(move |b| {
        b.listen(listener)
            .workers(2)
            .max_connections(1)
            .balance(Balance::LeastConnections { slack: 8 })
            .worker_setup(|worker| {
                worker.on_utf8(|conn, msg| conn.send_utf8(msg));
            })
    });
    let release = block_loop(&server.handle.for_worker(1));
    let mut first = tcp(server.addr);
    wait_for_counts(&server.handle, &[1, 0]);
    // Worker 0 is full: the second goes to worker 1 (queued there while it is held).
    let second = tcp(server.addr);
    wait_until("the second connection counted", || {
        server.handle.connections_per_worker().iter().sum::<usize>() == 2
    });
    assert_eq!(server.handle.connections_per_worker(), [1, 1]);
    drop(release);
    let mut second = common::handshake(
        second,
        ws_proto::handshake::ClientRequest::new("127.0.0.1", "/"),
    )
    .expect("the second connection is served, not refused");
    second.send_text("hello");
    assert_eq!(second.expect_text(), "hello");
    // Both workers full: a third is refused with 503, whichever worker accepts it.
    let answer = common::raw_exchange(server.addr, common::upgrade_request());
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    first.write_all(common::upgrade_request()).unwrap();
    let mut head = [0u8; 12];
    first.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    drop(first);
    drop(second);
    wait_for_counts(&server.handle, &[0, 0]);
}

// Connections that end every way but a clean close, on four workers so that many are
// handed over first: refused handshakes, a refusing `on_connect`, a peer gone before it
// sends anything (while queued for hand-off, some of them), a silent one past its
// handshake deadline. Every count comes back to zero, never wrapping below it.
#[test]
fn counts_come_back_to_zero_whatever_ends_the_connections() {
    let server = serve(|b| {
        b.workers(4)
            .handshake_timeout(Duration::from_millis(300))
            .worker_setup(|worker| {
                worker.on_connect(|_server, conn| {
                    conn.on_handshake(|_conn, handshake| {
                        if handshake.request().path() == "/refuse" {
                            handshake.refuse(403);
                        }
                    });
                    conn.on_utf8(|conn, msg| conn.send_utf8(msg));
                });
            })
    });
    let handle = &server.handle;
    let silent: Vec<_> = (0..8).map(|_| tcp(server.addr)).collect();
    for round in 0..8 {
        // Not HTTP at all: 400.
        let answer = common::raw_exchange(server.addr, b"HELLO\r\n\r\n");
        assert!(
            answer.starts_with("HTTP/1.1 400 "),
            "round {round}: {answer}"
        );
        // Refused by the handshake callback: 403.
        let refused = common::connect_with(
            server.addr,
            ws_proto::handshake::ClientRequest::new("127.0.0.1", "/refuse"),
        );
        assert!(refused.is_err(), "round {round}");
        // Gone before sending anything.
        drop(tcp(server.addr));
        // Half a request, then gone.
        let mut half = tcp(server.addr);
        half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        drop(half);
        // Served, then reset without a close.
        let mut served = connect(server.addr);
        served.send_text("x");
        assert_eq!(served.expect_text(), "x");
        drop(served);
    }
    for tcp in silent {
        expect_closed(tcp);
    }
    wait_for_counts(handle, &[0, 0, 0, 0]);
    assert!(handle.handed_off() > 0, "no connection was handed over");
}

// A worker loop that ends with connections still in its table (a callback panicked
// there: the loop unwinds, the others shut down) gives their places back: after `start`
// returned every count is zero. Before the fix the panicking worker's stayed at 2.
#[test]
fn a_worker_that_panics_leaves_no_count() {
    let server = serve(|b| {
        b.workers(2).worker_setup(|worker| {
            worker.on_utf8(|conn, msg| {
                if msg == "who" {
                    return conn.send_utf8(&conn.server().worker().to_string());
                }
                if msg == "panic" {
                    panic!("a callback failed");
                }
                Ok(())
            });
        })
    });
    let handle = server.handle.clone();
    // Two each, by the balance.
    let mut clients: Vec<_> = (0..4).map(|_| connect(server.addr)).collect();
    wait_for_counts(&handle, &[2, 2]);
    let on_1 = clients
        .iter_mut()
        .position(|c| {
            c.send_text("who");
            c.expect_text() == "1"
        })
        .unwrap();
    // Worker 1's loop panics (not worker 0's, which runs on the thread of `start`).
    clients[on_1].send_text("panic");
    drop(clients);
    assert!(server.join().is_err(), "a worker panicked");
    assert_eq!(handle.connections_per_worker(), [0, 0]);
}

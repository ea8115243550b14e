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

// Behind a load balancer with TLS, on four workers (so that many connections are handed
// over before their PROXY header is read): connections without a valid header, with a
// header and then no TLS, a broken TLS record, or nothing at all until the handshake
// deadline. Each is closed, and every count comes back to zero.
#[test]
fn counts_come_back_to_zero_after_proxy_header_and_tls_failures() {
    use rustls::pki_types::PrivatePkcs8KeyDer;
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()).into();
    let config = ws_server_blocking::tls::config(vec![made.cert.der().clone()], key).unwrap();
    let server = serve(move |b| {
        b.tls(config)
            .proxy_protocol(true)
            .workers(4)
            .handshake_timeout(Duration::from_millis(300))
    });
    let header = b"PROXY TCP4 198.51.100.1 127.0.0.1 42000 443\r\n";
    let mut ended = Vec::new();
    for _ in 0..6 {
        // Not a PROXY header.
        let mut garbage = tcp(server.addr);
        garbage.write_all(b"HELLO WORLD\r\n").unwrap();
        ended.push(garbage);
        // A header, then an HTTP request where the TLS handshake should be.
        let mut plain = tcp(server.addr);
        plain.write_all(header).unwrap();
        plain.write_all(common::upgrade_request()).unwrap();
        ended.push(plain);
        // A header, then a TLS record header announcing a record that never comes, and
        // silence: the handshake deadline ends it.
        let mut stalled = tcp(server.addr);
        stalled.write_all(header).unwrap();
        stalled.write_all(&[0x16, 0x03, 0x01, 0x40, 0x00]).unwrap();
        ended.push(stalled);
        // A header, then gone.
        let mut gone = tcp(server.addr);
        gone.write_all(header).unwrap();
        drop(gone);
        // Nothing at all.
        ended.push(tcp(server.addr));
    }
    for tcp in ended {
        expect_closed(tcp);
    }
    wait_for_counts(&server.handle, &[0, 0, 0, 0]);
    assert!(
        server.handle.handed_off() > 0,
        "no connection was handed over"
    );
}

// A hand-off to a worker whose queue is full falls back to the accepting worker, which
// serves the connection at once, counted for itself: here worker 1 is held in a job and
// its one-job queue is full, and worker 0 accepts everything on the shared listener.
#[test]
fn a_hand_off_to_a_full_queue_is_served_where_it_was_accepted() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = serve(move |b| {
        b.listen(listener)
            .workers(2)
            .queue_capacity(1)
            .worker_setup(|worker| {
                worker.on_utf8(|conn, msg| {
                    conn.send_utf8(&format!("{msg} {}", conn.server().worker()))
                });
            })
    });
    let one = server.handle.for_worker(1);
    let release = block_loop(&one);
    one.post(|_| {}).expect("room for one job");
    assert_eq!(
        one.post(|_| {}),
        Err(ws_server_blocking::PostError::Full { capacity: 1 })
    );
    let mut clients = Vec::new();
    for i in 0..2 {
        let mut client = connect(server.addr);
        client.send_text("who");
        assert_eq!(client.expect_text(), "who 0", "client {i}");
        clients.push(client);
    }
    assert_eq!(server.handle.connections_per_worker(), [2, 0]);
    assert_eq!(server.handle.handed_off(), 0);
    drop(release);
    drop(clients);
    wait_for_counts(&server.handle, &[0, 0]);
}

// Eight threads connecting at once to four workers (the kernel spreads them over the
// four listeners, each worker hands to the others while they hand to it), each keeping
// a few connections open while it makes more: every connection is served by exactly one
// worker, its echo comes back, and once all are closed every count is zero.
#[test]
fn a_storm_of_hand_offs_keeps_every_count_exact() {
    let server = serve(|b| {
        b.workers(4).worker_setup(|worker| {
            worker.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
    });
    let addr = server.addr;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut open = std::collections::VecDeque::new();
                for i in 0..40 {
                    let mut client = connect(addr);
                    let text = format!("{t}/{i}");
                    client.send_text(&text);
                    assert_eq!(client.expect_text(), text);
                    open.push_back(client);
                    if open.len() > 4 {
                        let mut oldest = open.pop_front().unwrap();
                        oldest.close(1000, "");
                        oldest.expect_close();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    wait_for_counts(&server.handle, &[0, 0, 0, 0]);
    assert!(
        server.handle.handed_off() > 0,
        "no connection was handed over"
    );
}

// A peer that gives up while its connection waits in another worker's queue: the worker
// takes it in when it turns, finds it closed, and gives its count back; the connection
// that stayed is served on.
#[test]
fn a_peer_gone_while_queued_for_hand_off_leaves_no_count() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = serve(move |b| {
        b.listen(listener).workers(2).worker_setup(|worker| {
            worker.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
    });
    let release = block_loop(&server.handle.for_worker(1));
    let mut stays = connect(server.addr);
    let mut leaves = tcp(server.addr);
    wait_until("the hand-off", || server.handle.handed_off() == 1);
    assert_eq!(server.handle.connections_per_worker(), [1, 1]);
    leaves.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    drop(leaves);
    drop(release);
    wait_for_counts(&server.handle, &[1, 0]);
    stays.send_text("still here");
    assert_eq!(stays.expect_text(), "still here");
}

// An `on_connect` that fails (the connection is aborted before its handshake) on each
// of four workers, for connections handed over (most likely) and not: every count comes
// back to zero.
#[test]
fn connections_an_on_connect_refuses_leave_no_count() {
    let server = serve(|b| {
        b.workers(4).worker_setup(|worker| {
            worker.on_connect(|_server, _conn| Err(ws_server_blocking::Error::Config("no".into())));
        })
    });
    let refused: Vec<_> = (0..16).map(|_| tcp(server.addr)).collect();
    for mut tcp in refused {
        let _ = tcp.write_all(common::upgrade_request());
        expect_closed(tcp);
    }
    wait_for_counts(&server.handle, &[0, 0, 0, 0]);
}

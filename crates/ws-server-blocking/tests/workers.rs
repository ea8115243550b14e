//! Worker loops: several loops on one port, each with its own callbacks, topics across
//! them. Real sockets on 127.0.0.1.

mod common;

use std::collections::HashSet;

use std::sync::mpsc;

use common::{Client, connect, raw_exchange, serve, topic_command};
use ws_server_blocking::{Error, Server};

/// Each worker answers `who` with its index, subscribes on `sub:T`, publishes on
/// `pub:T:TEXT`; commands are acknowledged with `ok`.
fn two_workers(builder: ws_server_blocking::Builder) -> ws_server_blocking::Builder {
    builder.workers(2).worker_setup(|worker| {
        // Not Send: each worker builds its own on its own thread.
        let served = std::rc::Rc::new(std::cell::Cell::new(0u32));
        worker.on_connect(move |_server, conn| {
            served.set(served.get() + 1);
            conn.on_utf8(|conn, msg| {
                if msg == "who" {
                    return conn.send_utf8(&conn.server().worker().to_string());
                }
                topic_command(conn, msg)
            });
        });
    })
}

fn worker_of(client: &mut Client) -> usize {
    client.send_text("who");
    client.expect_text().parse().unwrap()
}

// With SO_REUSEPORT the kernel picks a worker by a hash of each connection's addresses:
// 64 connections all landing on one of two workers has a probability of 2^-63.
#[test]
fn two_workers_share_the_load() {
    let server = serve(two_workers);
    let mut clients: Vec<Client> = (0..64).map(|_| connect(server.addr)).collect();
    let workers: HashSet<usize> = clients.iter_mut().map(worker_of).collect();
    assert_eq!(workers, HashSet::from([0, 1]));
}

#[test]
fn both_workers_deliver_topic_messages() {
    let server = serve(two_workers);
    let mut clients: Vec<Client> = (0..16).map(|_| connect(server.addr)).collect();
    let on: Vec<usize> = clients.iter_mut().map(worker_of).collect();
    assert!(on.contains(&0) && on.contains(&1), "{on:?}");
    for client in &mut clients {
        client.send_text("sub:room");
        assert_eq!(client.expect_text(), "ok");
    }
    // A publish from a connection of one worker, then one from another thread: each
    // subscriber of either worker gets both, once, in order.
    let publisher = on.iter().position(|&w| w == 1).unwrap();
    // The publisher's own copy comes before its ack; once acked, the publish is done.
    clients[publisher].send_text("pub:room:first");
    assert_eq!(clients[publisher].expect_text(), "first");
    assert_eq!(clients[publisher].expect_text(), "ok");
    server.handle.publish("room", "second").unwrap();
    for (i, client) in clients.iter_mut().enumerate() {
        if i != publisher {
            assert_eq!(
                client.expect_text(),
                "first",
                "client {i} on worker {}",
                on[i]
            );
        }
        assert_eq!(
            client.expect_text(),
            "second",
            "client {i} on worker {}",
            on[i]
        );
    }
    // Nothing was delivered twice: the next message each one reads is its own answer.
    for client in &mut clients {
        assert!(worker_of(client) < 2);
    }
}

// Callbacks set on the Builder run on one thread: refused with several workers.
#[test]
fn builder_callbacks_with_workers_are_refused() {
    let result = Server::builder()
        .listen("127.0.0.1:0")
        .workers(2)
        .on_connect(|_, _| {})
        .bind();
    match result {
        Err(Error::Config(message)) => assert!(message.contains("worker_setup"), "{message}"),
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

// A listener bound by the caller is shared by the workers (they cannot each bind one).
#[test]
fn a_given_listener_is_shared_by_the_workers() {
    let server = serve(|b| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        two_workers(b.listen(listener))
    });
    let mut client = connect(server.addr);
    assert!(worker_of(&mut client) < 2);
}

// A callback that panics (here the HTTP hook) ends its worker's loop. The server must not
// run on with a worker short, nor leave worker threads serving after `start` is gone: the
// other workers shut down too, `start` ends, and the port stops answering.
#[test]
fn a_panicking_worker_stops_the_whole_server() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let server = Server::builder()
            .listen("127.0.0.1:0")
            .workers(2)
            .http_hook(|_, request| {
                if request.path() == "/boom" {
                    panic!("the hook failed");
                }
                None
            })
            .bind()
            .unwrap();
        tx.send(server.local_addr()).unwrap();
        server.start()
    });
    let addr = rx.recv_timeout(common::PATIENCE).unwrap();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    tcp.set_read_timeout(Some(common::PATIENCE)).unwrap();
    let _ = tcp.read_to_end(&mut Vec::new()); // closed, without an answer
    let deadline = Instant::now() + common::PATIENCE;
    while !thread.is_finished() {
        assert!(
            Instant::now() < deadline,
            "start did not return after a worker panicked"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A panic (worker 0's, on this thread) or an Err (another worker's): not Ok.
    assert!(!matches!(thread.join(), Ok(Ok(()))));
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "a worker still accepts connections"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A worker whose callbacks (set on the worker, not on each connection) answer text with
/// `worker:TEXT`, echo binary, refuse `/refuse`, and report each end as
/// `WAS_READY CODE`; `own` gives the connection its own text callback (`own:TEXT`).
fn worker_callbacks(
    builder: ws_server_blocking::Builder,
    ends: mpsc::Sender<String>,
) -> ws_server_blocking::Builder {
    let ends = std::sync::Mutex::new(ends);
    builder.worker_setup(move |worker| {
        let ends = ends.lock().unwrap().clone();
        worker.on_handshake(|_conn, hs| {
            if hs.request().resource() == "/refuse" {
                hs.refuse(403);
            }
        });
        worker.on_utf8(|conn, msg| {
            if msg == "own" {
                conn.on_utf8(|conn, msg| conn.send_utf8(&format!("own:{msg}")));
                return conn.send_utf8("ok");
            }
            conn.send_utf8(&format!("worker:{msg}"))
        });
        worker.on_binary(|conn, data| conn.send_binary(data));
        worker.on_disconnect(move |conn, code, _reason| {
            let _ = ends.send(format!("{} {code}", conn.was_ready()));
        });
    })
}

// Callbacks set on the worker serve every connection without its own; a connection's own
// replaces the worker's for that event and that connection only.
#[test]
fn worker_callbacks_serve_connections_without_their_own() {
    let (ends, _ended) = mpsc::channel();
    let server = serve(move |b| worker_callbacks(b, ends));
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    a.send_text("x");
    assert_eq!(a.expect_text(), "worker:x");
    a.send_text("own");
    assert_eq!(a.expect_text(), "ok");
    a.send_text("y");
    assert_eq!(a.expect_text(), "own:y");
    // Its binary messages still go to the worker's callback; the other connection's
    // text too.
    a.send_binary(&[1, 2, 3]);
    assert_eq!(a.expect_binary(), [1, 2, 3]);
    b.send_text("z");
    assert_eq!(b.expect_text(), "worker:z");
}

// The worker's disconnect callback runs for a connection refused in its handshake (not
// ready: `was_ready` false, 1006) and for one that was open (true, its close code).
#[test]
fn was_ready_tells_an_open_connections_end_from_a_refused_one() {
    let (ends, ended) = mpsc::channel();
    let server = serve(move |b| worker_callbacks(b, ends));
    let answer = raw_exchange(
        server.addr,
        b"GET /refuse HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(ended.recv_timeout(common::PATIENCE).unwrap(), "false 1006");
    let mut open = connect(server.addr);
    open.close(1000, "bye");
    open.expect_close();
    assert_eq!(ended.recv_timeout(common::PATIENCE).unwrap(), "true 1000");
}

// An IPv6 peer's address (kept out of the slot, see `Slot::addr`) reads back as the
// client's socket address, as an IPv4 one does.
#[test]
fn peer_addresses_of_both_families_are_the_clients() {
    for listen in ["127.0.0.1:0", "[::1]:0"] {
        let server = serve(move |b| {
            b.listen(listen).worker_setup(|worker| {
                worker.on_utf8(|conn, _msg| conn.send_utf8(&conn.peer_addr().to_string()));
            })
        });
        let host = if server.addr.is_ipv6() {
            "::1"
        } else {
            "127.0.0.1"
        };
        let request = ws_proto::handshake::ClientRequest::new(host, "/").port(server.addr.port());
        let mut client = common::connect_with(server.addr, request).unwrap();
        let mine = client.stream.local_addr().unwrap();
        client.send_text("who am I");
        assert_eq!(client.expect_text(), mine.to_string());
    }
}

// ----- Spreading connections over the workers (Balance) -----

/// `n` workers that answer `who` with their index and take topic commands.
fn n_workers(n: usize) -> impl FnOnce(ws_server_blocking::Builder) -> ws_server_blocking::Builder {
    move |builder| {
        builder.workers(n).worker_setup(|worker| {
            worker.on_utf8(|conn, msg| {
                if msg == "who" {
                    return conn.send_utf8(&conn.server().worker().to_string());
                }
                topic_command(conn, msg)
            });
        })
    }
}

/// Waits until the per-worker counts are `want` (connections come and go on the
/// workers' threads), failing after `PATIENCE`.
fn wait_for_counts(handle: &ws_server_blocking::Handle, want: &[usize]) {
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let counts = handle.connections_per_worker();
        if counts == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "counts {counts:?}, expected {want:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

// The kernel's SO_REUSEPORT hash puts 4 connections on 4 workers only 9% of the time
// (4!/4^4), and 8 connections two on each only 3.8% of the time: the accepting worker
// hands each connection to the least-loaded one, so every worker serves its share, and
// messages and topics work as before across the workers.
#[test]
fn four_workers_serve_four_and_eight_connections_evenly() {
    let server = serve(n_workers(4));
    let mut clients: Vec<Client> = (0..4).map(|_| connect(server.addr)).collect();
    let mut on: Vec<usize> = clients.iter_mut().map(worker_of).collect();
    on.sort_unstable();
    assert_eq!(on, [0, 1, 2, 3]);
    assert_eq!(server.handle.connections_per_worker(), [1, 1, 1, 1]);
    clients.extend((0..4).map(|_| connect(server.addr)));
    let on: Vec<usize> = clients.iter_mut().map(worker_of).collect();
    for worker in 0..4 {
        assert_eq!(on.iter().filter(|&&w| w == worker).count(), 2, "{on:?}");
    }
    assert_eq!(server.handle.connections_per_worker(), [2, 2, 2, 2]);
    // A publish from each worker's connection reaches every subscriber once, in order.
    for client in &mut clients {
        client.send_text("sub:all");
        assert_eq!(client.expect_text(), "ok");
    }
    for worker in 0..4 {
        let publisher = on.iter().position(|&w| w == worker).unwrap();
        clients[publisher].send_text(&format!("pub:all:from {worker}"));
        assert_eq!(clients[publisher].expect_text(), format!("from {worker}"));
        assert_eq!(clients[publisher].expect_text(), "ok");
        for (i, client) in clients.iter_mut().enumerate() {
            if i != publisher {
                assert_eq!(client.expect_text(), format!("from {worker}"), "client {i}");
            }
        }
    }
    // Closed connections leave the counts.
    for mut client in clients {
        client.close(1000, "bye");
        client.expect_close();
    }
    wait_for_counts(&server.handle, &[0, 0, 0, 0]);
}

// With `Balance::Kernel` nothing is handed over: each connection stays on the worker
// that accepted it, and the counts say where they are.
#[test]
fn kernel_balance_hands_nothing_over() {
    let server = serve(|b| n_workers(4)(b.balance(ws_server_blocking::Balance::Kernel)));
    let mut clients: Vec<Client> = (0..8).map(|_| connect(server.addr)).collect();
    let on: Vec<usize> = clients.iter_mut().map(worker_of).collect();
    let expected: Vec<usize> = (0..4)
        .map(|w| on.iter().filter(|&&x| x == w).count())
        .collect();
    assert_eq!(server.handle.connections_per_worker(), expected);
    assert_eq!(server.handle.handed_off(), 0);
}

// A connection handed to another worker keeps its handshake deadline: silent
// connections are dropped whichever worker serves them. Rounds of four silent
// connections, each counted before the next is made, until at least one was handed
// over (each round, 91% likely).
#[test]
fn handed_off_connections_keep_their_handshake_deadline() {
    use std::io::Read;
    let server = serve(|b| n_workers(4)(b.handshake_timeout(std::time::Duration::from_secs(1))));
    for _round in 0..20 {
        let mut silent = Vec::new();
        for made in 1..=4 {
            silent.push(common::tcp(server.addr));
            let deadline = std::time::Instant::now() + common::PATIENCE;
            while server.handle.connections_per_worker().iter().sum::<usize>() < made {
                assert!(std::time::Instant::now() < deadline, "not accepted");
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        assert_eq!(server.handle.connections_per_worker(), [1, 1, 1, 1]);
        for mut tcp in silent {
            tcp.set_read_timeout(Some(common::PATIENCE)).unwrap();
            let mut rest = Vec::new();
            match tcp.read_to_end(&mut rest) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
            }
        }
        wait_for_counts(&server.handle, &[0, 0, 0, 0]);
        if server.handle.handed_off() > 0 {
            return;
        }
    }
    panic!("no connection was handed over in 20 rounds");
}

//! Two `ws-server --mode broadcast --redis URL` processes and one real `redis-server`: a
//! message sent to one process reaches the clients of both, once each (issue 15). Ignored by
//! a plain `cargo test`: `scripts/redis-tests.sh` runs it.

mod common;
#[path = "../../ws-redis/tests/support/mod.rs"]
mod redis_support;

use std::net::TcpListener;
use std::process::{Command, Stdio};

use common::{PATIENCE, ServerProcess, connect};
use redis_support::{RedisServer, eventually};

#[test]
#[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
fn broadcast_fans_out_across_two_processes_and_their_workers_through_redis_once_each() {
    let redis = RedisServer::start();
    let url = redis.url();
    let one = ServerProcess::start(&["--mode", "broadcast", "--redis", &url]);
    let two = ServerProcess::start(&["--mode", "broadcast", "--redis", &url, "--workers", "2"]);
    let mut sender = connect(one.addr);
    let mut neighbour = connect(one.addr);
    let mut remote = connect(two.addr);
    // Process two runs two workers: its clients may sit on either, and each gets it once.
    let mut remote_too = connect(two.addr);

    // Both processes listen on Redis once their clients are subscribed.
    eventually("both processes subscribed on Redis", || {
        redis
            .subscribers()
            .iter()
            .any(|(_, n)| *n == 2)
            .then_some(())
    });

    sender.send_text("hello");
    assert_eq!(
        remote.expect_text(),
        "hello",
        "through Redis to the other process"
    );
    assert_eq!(remote_too.expect_text(), "hello");
    assert_eq!(neighbour.expect_text(), "hello", "locally");
    sender.send_binary(&[1, 2, 3]);
    // Had "hello" come twice (the process's own message back from Redis, or two
    // deliveries), it would be read here instead: Redis keeps one publisher's order.
    assert_eq!(remote.expect_binary(), [1, 2, 3]);
    assert_eq!(remote_too.expect_binary(), [1, 2, 3]);
    assert_eq!(neighbour.expect_binary(), [1, 2, 3]);

    // And the other way.
    remote.send_text("from two");
    assert_eq!(neighbour.expect_text(), "from two");
    remote.send_text("again");
    assert_eq!(neighbour.expect_text(), "again");
    for expected in ["from two", "again"] {
        assert_eq!(
            remote_too.expect_text(),
            expected,
            "the other worker, locally, once"
        );
    }
}

#[test]
fn without_redis_the_clients_of_the_process_are_still_served() {
    // Nothing listens on this port: the bridge retries in the background.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/");
    let server = ServerProcess::start(&["--mode", "broadcast", "--redis", &url]);
    let mut sender = connect(server.addr);
    let mut neighbour = connect(server.addr);
    sender.send_text("local");
    assert_eq!(neighbour.expect_text(), "local");
    assert_eq!(
        sender.expect_text(),
        "local",
        "the sender is a subscriber too"
    );
}

#[test]
fn a_bad_redis_url_is_a_usage_error() {
    for (url, says) in [
        ("rediss://127.0.0.1:6379/", "TLS"),
        ("http://x/", "redis://"),
        ("redis://", "no host"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ws-server"))
            .args(["--mode", "broadcast", "--redis", url])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--redis") && stderr.contains(says),
            "{url}: {stderr}"
        );
    }
}

#[test]
fn a_stopped_broker_lets_the_server_go() {
    use std::sync::mpsc;
    use ws_server_blocking::{RedisBroker, Server, ws_redis};
    // Nothing listens on this port: the bridge retries in the background.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ws_redis::Config::new(&format!("redis://127.0.0.1:{port}/")).unwrap();
    let redis = RedisBroker::start(config).unwrap();
    let (tx, rx) = mpsc::channel();
    let installed = redis.clone();
    let server = std::thread::spawn(move || {
        let listening = installed
            .install(Server::builder().listen("127.0.0.1:0"))
            .bind()?;
        tx.send(listening.handle()).unwrap();
        listening.start()
    });
    let handle = rx.recv_timeout(PATIENCE).unwrap();
    handle.shutdown();
    eventually("the server stops", || server.is_finished().then_some(()));
    server.join().unwrap().unwrap();
    // The server stopped the bridge as its start returned (Broker::stop): no stop here.
    assert!(redis.bridge().is_stopped());
    assert!(!redis.stats().subscriber_connected);
}

// A server that stops inside a process that goes on running takes its Redis bridge with
// it: both threads end and both connections to Redis close, without RedisBroker::stop.
#[test]
#[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
fn a_stopped_server_closes_its_redis_connections() {
    use std::sync::mpsc;
    use ws_server_blocking::{RedisBroker, Server, ws_redis};
    let redis_server = RedisServer::start();
    let config = ws_redis::Config::new(&redis_server.url()).unwrap();
    let redis = RedisBroker::start(config).unwrap();
    let (tx, rx) = mpsc::channel();
    let installed = redis.clone();
    let server = std::thread::spawn(move || {
        let builder = Server::builder()
            .listen("127.0.0.1:0")
            .workers(2)
            .worker_setup(|worker| {
                worker.on_connect(|_, conn| {
                    conn.subscribe("news");
                    conn.on_utf8(|conn, msg| {
                        conn.server().publish_utf8("news", msg);
                    });
                });
            });
        let listening = installed.install(builder).bind()?;
        tx.send((listening.local_addr(), listening.handle()))
            .unwrap();
        listening.start()
    });
    let (addr, handle) = rx.recv_timeout(PATIENCE).unwrap();
    let mut client = connect(addr);
    // A publish makes the bridge's publishing connection; the subscription, its SUBSCRIBE.
    client.send_text("hello");
    assert_eq!(client.expect_text(), "hello");
    eventually("both bridge connections up", || {
        let stats = redis.stats();
        (stats.subscriber_connected
            && stats.publisher_connected
            && redis_server.other_clients() == 2
            && !redis_server.subscribers().is_empty())
        .then_some(())
    });
    drop(client);
    handle.shutdown();
    eventually("the server stops", || server.is_finished().then_some(()));
    server.join().unwrap().unwrap();
    assert!(redis.bridge().is_stopped());
    let stats = redis.stats();
    assert!(
        !stats.subscriber_connected && !stats.publisher_connected,
        "{stats:?}"
    );
    eventually("Redis sees both connections closed", || {
        (redis_server.other_clients() == 0).then_some(())
    });
    assert_eq!(redis_server.subscribers(), Vec::new());
}

//! Test support: a real `redis-server` on a free loopback port, and waiting with a deadline.
//!
//! ws-server-blocking's `tests/redis_fanout.rs` includes this file too (`#[path]`), so
//! both crates start Redis the same way.

#![allow(dead_code)] // each test file uses its own part

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any wait in these tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `check` every 10 ms until it returns `Some`, and fails the test with `what` after
/// [`DEADLINE`].
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "not within {DEADLINE:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A `redis-server` child process with persistence off, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port of 127.0.0.1 and waits until it answers PING.
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer { port, child: None };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) {
        let program = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(&program)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} (scripts/install-deps.sh redis installs it): {e}")
            });
        self.child = Some(child);
        let url = self.url();
        eventually("redis-server answers PING", || {
            let client = redis::Client::open(url.as_str()).ok()?;
            let mut con = client
                .get_connection_with_timeout(Duration::from_secs(1))
                .ok()?;
            redis::cmd("PING").query::<String>(&mut con).ok()
        });
    }

    /// Kills it (SIGKILL) and waits for the process to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The port is free again once connecting is refused.
        let port = self.port;
        eventually("the killed redis-server's port is free", || {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
                .err()
                .map(|_| ())
        });
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// A plain connection (one command at a time, 5 s deadlines).
    pub fn connection(&self) -> redis::Connection {
        let client = redis::Client::open(self.url().as_str()).unwrap();
        let con = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap();
        con.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        con.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        con
    }

    /// `PUBSUB CHANNELS`, sorted.
    pub fn channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = redis::cmd("PUBSUB")
            .arg("CHANNELS")
            .query(&mut self.connection())
            .unwrap();
        channels.sort();
        channels
    }

    /// How many clients are connected besides the one asking (`CLIENT LIST`).
    pub fn other_clients(&self) -> usize {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut self.connection())
            .unwrap();
        list.lines().filter(|line| !line.trim().is_empty()).count() - 1
    }

    /// Each channel that has subscribers, with their count (`PUBSUB CHANNELS`, `NUMSUB`).
    pub fn subscribers(&self) -> Vec<(String, usize)> {
        let channels = self.channels();
        channels
            .into_iter()
            .map(|channel| {
                let n = self.numsub(&channel);
                (channel, n)
            })
            .collect()
    }

    /// `PUBSUB NUMSUB channel`: its subscribers.
    pub fn numsub(&self, channel: &str) -> usize {
        let reply: (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut self.connection())
            .unwrap();
        reply.1
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

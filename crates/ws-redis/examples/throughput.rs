//! Messages per second through Redis from one process's bridge to another's.
//!
//! `cargo run --release -p ws-redis --example throughput -- redis://127.0.0.1:6379/ [MESSAGES] [BYTES]`
//!
//! The parent starts a copy of itself as the receiving process, waits until its channel is
//! SUBSCRIBEd, publishes MESSAGES (default 200000) binary messages of BYTES (default 64) as
//! fast as the bridge's queue takes them (a full queue is retried, not dropped), and the
//! child reports how many arrived and the rate from the first to the last. Every wait has a
//! deadline: the child gives up after 5 s with nothing new.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ws_redis::{Bridge, Config, Kind, PublishError};

const TOPIC: &str = "throughput";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .ok_or("usage: throughput REDIS_URL [MESSAGES] [BYTES]")?
        .clone();
    let messages: u64 = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200_000);
    let bytes: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(64);
    if args.get(4).map(String::as_str) == Some("--receive") {
        return receive(&url, messages);
    }

    let mut child = Command::new(&args[0])
        .args([&url, &messages.to_string(), &bytes.to_string(), "--receive"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    // The child says "subscribed" once Redis counts its subscription.
    let ready = lines.next().ok_or("the receiver ended")??;
    assert_eq!(ready, "subscribed");

    let bridge = Bridge::start(Config::new(&url)?, |_, _, _| {})?;
    let payload = vec![0x5a; bytes];
    let start = Instant::now();
    let mut full = 0u64;
    for _ in 0..messages {
        loop {
            match bridge.publish(TOPIC, Kind::Binary, &payload) {
                Ok(()) => break,
                Err(PublishError::QueueFull) => {
                    full += 1;
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let queued = start.elapsed();
    for line in lines {
        println!("{}", line?);
    }
    child.wait()?;
    let stats = bridge.stats();
    println!(
        "publisher: {messages} x {bytes} B queued in {queued:.2?}; published {}, lost {}, queue-full retries {full}",
        stats.published, stats.dropped_disconnected
    );
    Ok(())
}

fn receive(url: &str, messages: u64) -> Result<(), Box<dyn std::error::Error>> {
    let count = Arc::new(AtomicU64::new(0));
    let first = Arc::new(std::sync::OnceLock::<Instant>::new());
    let last_at = Arc::new(AtomicU64::new(0)); // nanoseconds from the first message to the latest
    let (c, f, l) = (Arc::clone(&count), Arc::clone(&first), Arc::clone(&last_at));
    let bridge = Bridge::start(Config::new(url)?, move |_, _, _| {
        let first = f.get_or_init(Instant::now);
        l.store(first.elapsed().as_nanos() as u64, Ordering::Relaxed);
        c.fetch_add(1, Ordering::Relaxed);
    })?;
    bridge.subscribe(TOPIC);
    let client = redis::Client::open(url)?;
    let mut con = client.get_connection_with_timeout(Duration::from_secs(5))?;
    con.set_read_timeout(Some(Duration::from_secs(5)))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, n): (String, u64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(format!("ws:{TOPIC}"))
            .query(&mut con)?;
        if n >= 1 {
            break;
        }
        if Instant::now() > deadline {
            return Err("not subscribed within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("subscribed");
    let mut last = (0, Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = count.load(Ordering::Relaxed);
        if now >= messages {
            break;
        }
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let received = count.load(Ordering::Relaxed);
    let elapsed = Duration::from_nanos(last_at.load(Ordering::Relaxed));
    println!(
        "receiver: {received} of {messages} in {elapsed:.2?} from the first: {:.0} messages/s (delivered {}, dropped malformed {})",
        received as f64 / elapsed.as_secs_f64().max(1e-9),
        bridge.stats().delivered,
        bridge.stats().dropped_malformed
    );
    Ok(())
}

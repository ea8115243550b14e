//! The publishing thread: takes envelopes off the bounded queue and PUBLISHes them,
//! pipelining what has queued up meanwhile; drops (and counts) while Redis is away.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use redis::{Client, Connection};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::connect::connect;
use crate::stats::{Counters, bump, worth_logging};
use crate::subscriptions::Subscriptions;

/// Messages sent in one pipeline at most: what had queued up while the previous one was
/// on the wire.
pub(crate) const BATCH: usize = 256;

/// One message on its way: its Redis channel and its envelope.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) channel: String,
    pub(crate) envelope: Vec<u8>,
}

/// The connection, as far as the publishing thread knows.
enum Link {
    /// Connected: PUBLISH on it.
    Up(Connection),
    /// No connection; the next attempt is not before this instant. Messages until then are
    /// dropped: at-most-once, as Redis pub/sub itself.
    Down { retry_at: Instant },
}

/// Runs until the bridge stops (it looks every `poll_interval` while idle); what is still
/// queued then is not sent.
pub(crate) fn run(
    client: Client,
    config: Config,
    queue: Receiver<Outgoing>,
    counters: Arc<Counters>,
    subscriptions: Arc<Subscriptions>,
) {
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    let mut link = Link::Down {
        retry_at: Instant::now(),
    };
    let mut ever_connected = false;
    let mut batch = Vec::with_capacity(BATCH);
    while !subscriptions.stopping() {
        let first = match queue.recv_timeout(config.poll_interval) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        batch.push(first);
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if let Link::Down { retry_at } = link
            && Instant::now() >= retry_at
        {
            link = match connect(&client, &config) {
                Ok(connection) => {
                    if ever_connected {
                        bump(&counters.reconnects);
                        log::info!("ws-redis publisher: reconnected to {}", config.url);
                    }
                    ever_connected = true;
                    backoff.reset();
                    counters.publisher_connected.store(true, Ordering::Relaxed);
                    Link::Up(connection)
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    log::warn!(
                        "ws-redis publisher: cannot connect to {}: {e}; next try in {delay:?}",
                        config.url
                    );
                    Link::Down {
                        retry_at: Instant::now() + delay,
                    }
                }
            };
        }
        let sent = match &mut link {
            Link::Up(connection) => {
                let mut pipe = redis::pipe();
                for message in &batch {
                    pipe.cmd("PUBLISH")
                        .arg(&message.channel)
                        .arg(&message.envelope)
                        .ignore();
                }
                pipe.exec(connection).map_err(|e| e.to_string())
            }
            Link::Down { .. } => Err("not connected".to_owned()),
        };
        let count = batch.len() as u64;
        batch.clear();
        match sent {
            Ok(()) => {
                counters.published.fetch_add(count, Ordering::Relaxed);
            }
            Err(reason) => {
                let before = counters
                    .dropped_disconnected
                    .fetch_add(count, Ordering::Relaxed);
                if (before + 1..=before + count).any(worth_logging) {
                    log::warn!(
                        "ws-redis publisher: {count} message(s) lost ({reason}); {} lost so far",
                        before + count
                    );
                }
                if let Link::Up(_) = link {
                    counters.publisher_connected.store(false, Ordering::Relaxed);
                    link = Link::Down {
                        retry_at: Instant::now() + backoff.next_delay(),
                    };
                    log::warn!(
                        "ws-redis publisher: connection to {} lost: {reason}",
                        config.url
                    );
                }
            }
        }
    }
    // Stopped: the connection (if up) closes as `link` is dropped.
    counters.publisher_connected.store(false, Ordering::Relaxed);
}

//! The bridge: the handle an application (or the server) holds, and the two threads behind it.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::config::{Config, ConfigError};
use crate::envelope::encode;
use crate::kind::Kind;
use crate::origin::Origin;
use crate::publisher::{self, Outgoing};
use crate::stats::{Counters, Stats, bump, worth_logging};
use crate::subscriber::{Deliver, Reader};
use crate::subscriptions::Subscriptions;

/// Why [`Bridge::start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operating system's random source failed (for the [`Origin`]).
    #[error("no random origin id: {0}")]
    Random(String),
    /// A thread could not be started.
    #[error("cannot start a bridge thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Why [`Bridge::publish`] did not queue a message. Either way the message is dropped,
/// counted in [`Stats::dropped_queue_full`] and logged (the 1st, 2nd, 4th, 8th... drop).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublishError {
    /// The publish queue holds [`Config::publish_queue`] messages already: Redis or the
    /// network is slower than the publishers.
    #[error("the Redis publish queue is full")]
    QueueFull,
    /// The bridge was stopped ([`Bridge::stop`]) or its publishing thread has ended.
    #[error("the Redis publishing thread has stopped")]
    Stopped,
}

/// A Redis pub/sub bridge: topics of this process to channels of one Redis, both ways.
///
/// - [`subscribe`](Bridge::subscribe) / [`unsubscribe`](Bridge::unsubscribe) count local
///   subscribers per topic; the channel `prefix + topic` is SUBSCRIBEd on Redis while the count
///   is above zero, UNSUBSCRIBEd when it drops to zero (within [`Config::poll_interval`]).
/// - [`publish`](Bridge::publish) wraps the message in an envelope (see
///   [`envelope`](crate::envelope)) and queues it for the publishing thread without blocking.
/// - Every message that arrives on a subscribed channel from another bridge goes to the
///   delivery callback given to [`start`](Bridge::start), on the reading thread. The bridge's
///   own messages, which Redis sends back to it, are skipped: the caller delivered them
///   locally when it published.
///
/// **Delivery is at-most-once, as Redis pub/sub's is.** Redis keeps nothing for a subscriber
/// that is not connected: what is published while this bridge is disconnected (Redis down,
/// restarting, unreachable) never reaches it, and what this bridge publishes while its
/// publishing connection is down is dropped and counted in
/// [`Stats::dropped_disconnected`]. After a loss both threads reconnect with exponential
/// backoff and jitter ([`Config::backoff`]) and the reader SUBSCRIBEs the current set again;
/// local delivery (the caller's own) never waits for Redis.
///
/// Two threads: `ws-redis-sub` (reads) and `ws-redis-pub` (publishes). [`stop`](Bridge::stop)
/// or dropping the bridge ends both and joins them; that takes at most about
/// `connect_timeout` or `io_timeout`.
pub struct Bridge {
    config: Config,
    origin: Origin,
    subscriptions: Arc<Subscriptions>,
    counters: Arc<Counters>,
    queue: SyncSender<Outgoing>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("url", &self.config.url)
            .field("origin", &self.origin)
            .finish()
    }
}

impl Bridge {
    /// Starts the two threads and returns at once: the connections are made in the
    /// background (and made again whenever lost), so a Redis that is down at start is not an
    /// error; [`stats`](Bridge::stats) tells whether they are up.
    ///
    /// `deliver(topic, kind, payload)` receives every message from another bridge on a topic
    /// with local subscribers. It runs on the reading thread and should hand the message on
    /// quickly (a bounded queue, a handle into an event loop): while it runs, nothing else is
    /// read. A panic in it is caught, counted and logged.
    ///
    /// # Errors
    ///
    /// [`StartError::Config`]: [`ConfigError::Setting`] for a setting out of range (a zero
    /// `publish_queue` or duration, or a `backoff` whose initial delay exceeds its maximum),
    /// [`ConfigError::Url`] for a URL the `redis` crate refuses;
    /// [`StartError::Random`] when the operating system's random source fails (for the
    /// [`Origin`]); [`StartError::Spawn`] when a thread cannot be started. Redis need not be
    /// reachable: the threads connect, and reconnect, on their own.
    pub fn start<F>(config: Config, deliver: F) -> Result<Bridge, StartError>
    where
        F: Fn(&str, Kind, &[u8]) + Send + Sync + 'static,
    {
        config.validate()?;
        let client = redis::Client::open(config.url.as_str()).map_err(|e| ConfigError::Url {
            url: config.url.clone(),
            reason: e.to_string(),
        })?;
        let origin = Origin::random().map_err(StartError::Random)?;
        let subscriptions = Arc::new(Subscriptions::default());
        let counters = Arc::new(Counters::default());
        let (queue, receiver) = sync_channel(config.publish_queue);
        let mut threads = Vec::with_capacity(2);
        let deliver: Box<Deliver> = Box::new(deliver);
        let reader = Reader {
            client: client.clone(),
            config: config.clone(),
            origin,
            subscriptions: Arc::clone(&subscriptions),
            counters: Arc::clone(&counters),
            deliver,
        };
        threads.push(
            std::thread::Builder::new()
                .name("ws-redis-sub".into())
                .spawn(move || reader.run())?,
        );
        let publisher = {
            let (config, subscriptions, counters) = (
                config.clone(),
                Arc::clone(&subscriptions),
                Arc::clone(&counters),
            );
            move || publisher::run(client, config, receiver, counters, subscriptions)
        };
        let spawned = std::thread::Builder::new()
            .name("ws-redis-pub".into())
            .spawn(publisher);
        let bridge = Bridge {
            config,
            origin,
            subscriptions,
            counters,
            queue,
            threads: Mutex::new(threads),
        };
        // On an error here the bridge is dropped, which stops the reading thread.
        bridge
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(spawned?);
        Ok(bridge)
    }

    /// One more local subscriber of `topic`. Returns true when it is the first: the bridge then
    /// SUBSCRIBEs its channel (on the reading thread, within [`Config::poll_interval`] while
    /// connected; at the next connection otherwise). Messages published elsewhere before the
    /// SUBSCRIBE reaches Redis are not seen.
    pub fn subscribe(&self, topic: &str) -> bool {
        self.subscriptions.add(topic)
    }

    /// One local subscriber of `topic` fewer. Returns true when it was the last: the bridge then
    /// UNSUBSCRIBEs its channel. A topic with no local subscriber is left alone (false).
    pub fn unsubscribe(&self, topic: &str) -> bool {
        self.subscriptions.remove(topic).unwrap_or(false)
    }

    /// Local subscribers of `topic` as counted by this bridge.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.subscriptions.count(topic)
    }

    /// Queues `payload` for PUBLISH on the channel of `topic`, to reach every other bridge
    /// subscribed to it; never blocks. The caller delivers to its own local subscribers
    /// itself: the bridge skips its own messages when Redis sends them back.
    ///
    /// `kind` [`Kind::Text`] with a payload that is not UTF-8 is sent as is; the receiving
    /// bridges drop it as malformed.
    ///
    /// # Errors
    ///
    /// [`PublishError::QueueFull`] when [`Config::publish_queue`] messages wait already, and
    /// [`PublishError::Stopped`] if the publishing thread is gone: the message is dropped,
    /// counted and logged.
    pub fn publish(&self, topic: &str, kind: Kind, payload: &[u8]) -> Result<(), PublishError> {
        let message = Outgoing {
            channel: self.config.channel(topic),
            envelope: encode(self.origin, kind, payload),
        };
        let error = match self.queue.try_send(message) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(_)) => PublishError::QueueFull,
            Err(TrySendError::Disconnected(_)) => PublishError::Stopped,
        };
        let n = bump(&self.counters.dropped_queue_full);
        if worth_logging(n) {
            log::warn!(
                "ws-redis: dropped a message for topic {topic:?}: {error} ({n} dropped so far)"
            );
        }
        Err(error)
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// This bridge's random id, as stamped on what it publishes.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The settings it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Stops both threads and waits for them: within about [`Config::poll_interval`], or
    /// `connect_timeout` / `io_timeout` when a connect or a reply is under way. The
    /// connections close and the delivery callback is dropped (with whatever it holds).
    /// Later [`publish`](Self::publish) calls fail with [`PublishError::Stopped`]; later
    /// subscriptions are only counted. Dropping the bridge stops it too; calling this
    /// again does nothing.
    pub fn stop(&self) {
        self.subscriptions.stop();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let current = std::thread::current().id();
        for thread in threads {
            // Stopped from inside the delivery callback: that thread ends by itself.
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.subscriptions.stopping()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop();
    }
}

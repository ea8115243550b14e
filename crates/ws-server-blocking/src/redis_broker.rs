//! The [`Broker`] over Redis pub/sub: the `ws-redis` bridge wired to the server's topics
//! (feature `redis`).

use std::sync::{Arc, OnceLock};

use ws_redis::{Bridge, Kind, StartError, Stats};

use crate::broker::Broker;
use crate::builder::Builder;
use crate::payload::Payload;
use crate::server::hub::Inbound;

/// Topics fanned out to every server process through Redis pub/sub: a [`Broker`] made of a
/// [`ws_redis::Bridge`]. Cheap to clone (the clones share one bridge): keep one to read
/// [`stats`](Self::stats), give one to the builder with [`install`](Self::install).
///
/// ```no_run
/// use ws_server_blocking::{RedisBroker, Server};
/// let redis = RedisBroker::start(ws_redis::Config::new("redis://127.0.0.1:6379/")?)?;
/// let builder = redis.install(Server::builder().listen(9001)).on_connect(|_, conn| {
///     conn.subscribe("news");
///     conn.on_utf8(|conn, msg| {
///         conn.server().publish_utf8("news", msg); // every process's subscribers
///     });
/// });
/// builder.bind()?.start()?;
/// redis.stop(); // see stop: the threads would otherwise outlive the server
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// What the bridge does (refcounted SUBSCRIBE of `prefix + topic`, a publish queue that
/// drops when full, its own messages skipped, reconnection with backoff) and its
/// **at-most-once** delivery are described in [`ws_redis::Bridge`]. Messages from Redis are
/// handed to the loops through [`Inbound::deliver`], whose bounded queues drop (and count)
/// rather than grow when a loop falls behind.
#[derive(Clone, Debug)]
pub struct RedisBroker {
    bridge: Arc<Bridge>,
    inbound: Arc<OnceLock<Inbound>>,
}

impl RedisBroker {
    /// Starts the bridge's threads (they connect in the background and keep reconnecting, so
    /// a Redis that is down now is not an error). Messages that arrive before the broker is
    /// installed in a server that is bound are dropped: there is no subscriber yet.
    ///
    /// # Errors
    /// A setting of `config` out of range, no randomness, or no thread ([`StartError`]).
    pub fn start(config: ws_redis::Config) -> Result<RedisBroker, StartError> {
        let inbound: Arc<OnceLock<Inbound>> = Arc::default();
        let target = Arc::clone(&inbound);
        let bridge = Bridge::start(config, move |topic, kind, bytes| {
            let Some(inbound) = target.get() else { return };
            let payload = match kind {
                // The bridge checked that a text payload is UTF-8 (RFC 6455 5.6).
                Kind::Text => match std::str::from_utf8(bytes) {
                    Ok(text) => Payload::from(text),
                    Err(_) => return,
                },
                Kind::Binary => Payload::from(bytes),
            };
            inbound.deliver(topic, payload);
        })?;
        Ok(RedisBroker {
            bridge: Arc::new(bridge),
            inbound,
        })
    }

    /// `builder` with this broker installed ([`Builder::broker`]). One broker serves one
    /// server: a second server's install is refused with a log record and its topics stay
    /// within its process.
    pub fn install(&self, builder: Builder) -> Builder {
        let broker = self.clone();
        builder.broker(move |inbound| {
            if broker.inbound.set(inbound).is_err() {
                log::error!(
                    "this RedisBroker serves another server already; its messages go there"
                );
            }
            broker
        })
    }

    /// The bridge's counters: published, delivered, dropped by reason, reconnects.
    pub fn stats(&self) -> Stats {
        self.bridge.stats()
    }

    /// The bridge itself.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    /// Stops the bridge's threads and closes its Redis connections ([`Bridge::stop`]).
    ///
    /// Call it once the server's `start` has returned, in a program that goes on running:
    /// the server keeps its broker as long as anything refers to the server, and the
    /// bridge's delivery callback refers to it (through the [`Inbound`]), so without this
    /// the two threads, the connections and the server's shared state stay until the
    /// process exits. Publishing through a stopped broker drops and counts.
    pub fn stop(&self) {
        self.bridge.stop();
    }
}

impl Broker for RedisBroker {
    fn subscribe(&self, topic: &str) {
        self.bridge.subscribe(topic);
    }

    fn unsubscribe(&self, topic: &str) {
        self.bridge.unsubscribe(topic);
    }

    fn publish(&self, topic: &str, payload: &Payload) {
        let kind = match payload {
            Payload::Text(_) => Kind::Text,
            Payload::Binary(_) => Kind::Binary,
        };
        // A full queue is counted and logged by the bridge; the caller cannot wait.
        let _ = self.bridge.publish(topic, kind, payload.as_bytes());
    }
}

//! The [`Broker`] over Redis pub/sub: the `ws-redis` bridge wired to the server's topics
//! (feature `redis`).

use std::sync::{Arc, Mutex, PoisonError};

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
/// builder.bind()?.start()?; // stops the bridge as it returns (Broker::stop)
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
    /// The server's way in, once installed; taken out by [`stop`](Self::stop), since it
    /// refers back to the server, which holds this broker.
    inbound: Arc<Mutex<Option<Inbound>>>,
}

impl RedisBroker {
    /// Starts the bridge's threads (they connect in the background and keep reconnecting, so
    /// a Redis that is down now is not an error). Messages that arrive before the broker is
    /// installed in a server that is bound are dropped: there is no subscriber yet.
    ///
    /// # Errors
    /// A setting of `config` out of range, no randomness, or no thread ([`StartError`]).
    pub fn start(config: ws_redis::Config) -> Result<RedisBroker, StartError> {
        let inbound: Arc<Mutex<Option<Inbound>>> = Arc::default();
        let target = Arc::clone(&inbound);
        let bridge = Bridge::start(config, move |topic, kind, bytes| {
            let inbound = target
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let Some(inbound) = inbound else { return };
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
            let mut target = broker
                .inbound
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if target.is_some() {
                log::error!(
                    "this RedisBroker serves another server already; its messages go there"
                );
            } else {
                *target = Some(inbound);
            }
            drop(target);
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

    /// Stops the bridge's threads and closes its Redis connections ([`Bridge::stop`]),
    /// waiting for the threads (within about the bridge's `poll_interval`, or its
    /// connect / I/O timeout when one is under way). The server it is installed in does
    /// this as its `start` returns ([`Broker::stop`]): call it yourself only for a broker
    /// that was never installed, or to stop it earlier. Publishing through a stopped
    /// broker drops and counts; calling this again does nothing.
    pub fn stop(&self) {
        self.bridge.stop();
        self.inbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
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

    /// Stops the bridge ([`RedisBroker::stop`]): its threads end, its connections close,
    /// and its delivery callback, which holds the server's [`Inbound`], is dropped.
    fn stop(&self) {
        RedisBroker::stop(self);
    }
}

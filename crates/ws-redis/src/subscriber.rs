//! The reading thread: keeps one connection SUBSCRIBEd to the channels of the topics with
//! local subscribers, and hands what arrives to the delivery callback.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use redis::{Client, Connection, Msg, PubSub, RedisResult, Value};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::connect::connect;
use crate::envelope::decode;
use crate::kind::Kind;
use crate::origin::Origin;
use crate::stats::{Counters, bump, worth_logging};
use crate::subscriptions::Subscriptions;

/// The delivery callback: topic (without the prefix), kind, payload. Runs on the reading
/// thread, one message at a time, in the order Redis sent them.
pub type Deliver = dyn Fn(&str, Kind, &[u8]) + Send + Sync;

/// What the reading thread shares with the bridge.
pub(crate) struct Reader {
    pub(crate) client: Client,
    pub(crate) config: Config,
    pub(crate) origin: Origin,
    pub(crate) subscriptions: Arc<Subscriptions>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) deliver: Box<Deliver>,
}

impl Reader {
    /// Connects, serves, and after a loss waits out the backoff and connects again, until the
    /// bridge stops.
    pub(crate) fn run(self) {
        let config = &self.config;
        let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max);
        let mut ever_connected = false;
        while !self.subscriptions.stopping() {
            let error = match connect(&self.client, config) {
                Ok(mut connection) => {
                    if ever_connected {
                        bump(&self.counters.reconnects);
                        log::info!("ws-redis subscriber: reconnected to {}", config.url);
                    }
                    ever_connected = true;
                    backoff.reset();
                    self.counters
                        .subscriber_connected
                        .store(true, Ordering::Relaxed);
                    let served = self.serve(&mut connection);
                    self.counters
                        .subscriber_connected
                        .store(false, Ordering::Relaxed);
                    match served {
                        Ok(()) => return,
                        Err(e) => format!("connection lost: {e}"),
                    }
                }
                Err(e) => format!("cannot connect: {e}"),
            };
            let delay = backoff.next_delay();
            log::warn!(
                "ws-redis subscriber: {}: {error}; next try in {delay:?}",
                config.url
            );
            if self.subscriptions.pause(delay) {
                return;
            }
        }
    }

    /// Keeps the subscriptions in step with the table and reads messages, until the bridge
    /// stops (`Ok`) or the connection fails (`Err`). A fresh connection starts with no
    /// channel, so the whole current set is SUBSCRIBEd first: this is the resubscription
    /// after a reconnect.
    fn serve(&self, connection: &mut Connection) -> RedisResult<()> {
        let config = &self.config;
        let mut pubsub = connection.as_pubsub();
        let mut on_redis: BTreeSet<String> = BTreeSet::new();
        let mut seen = None;
        let mut last_heard = Instant::now();
        pubsub.set_read_timeout(Some(config.poll_interval))?;
        loop {
            if self.subscriptions.stopping() {
                return Ok(());
            }
            if let Some((version, topics)) = self.subscriptions.changed_since(seen) {
                let wanted: BTreeSet<String> = topics.iter().map(|t| config.channel(t)).collect();
                self.apply(&mut pubsub, &on_redis, &wanted)?;
                on_redis = wanted;
                seen = Some(version);
                last_heard = Instant::now();
            }
            match pubsub.get_message() {
                Ok(message) => {
                    last_heard = Instant::now();
                    self.handle(&message);
                }
                Err(e) if e.is_timeout() => {
                    if last_heard.elapsed() >= config.ping_interval {
                        // A dead peer that sent no RST shows up here, within io_timeout.
                        pubsub.set_read_timeout(Some(config.io_timeout))?;
                        pubsub.ping::<Value>()?;
                        pubsub.set_read_timeout(Some(config.poll_interval))?;
                        last_heard = Instant::now();
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// SUBSCRIBEs what is wanted and not on Redis, UNSUBSCRIBEs the reverse; each reply
    /// within `io_timeout`.
    fn apply(
        &self,
        pubsub: &mut PubSub<'_>,
        on_redis: &BTreeSet<String>,
        wanted: &BTreeSet<String>,
    ) -> RedisResult<()> {
        let add: Vec<&String> = wanted.difference(on_redis).collect();
        let remove: Vec<&String> = on_redis.difference(wanted).collect();
        pubsub.set_read_timeout(Some(self.config.io_timeout))?;
        if !add.is_empty() {
            log::debug!("ws-redis subscriber: SUBSCRIBE {add:?}");
            pubsub.subscribe(&add)?;
        }
        if !remove.is_empty() {
            log::debug!("ws-redis subscriber: UNSUBSCRIBE {remove:?}");
            pubsub.unsubscribe(&remove)?;
        }
        pubsub.set_read_timeout(Some(self.config.poll_interval))
    }

    /// One message from Redis: checked, then delivered, skipped (our own) or dropped.
    fn handle(&self, message: &Msg) {
        let counters = &self.counters;
        let channel = message.get_channel_name();
        let Some(topic) = channel.strip_prefix(self.config.prefix.as_str()) else {
            self.malformed(channel, "channel outside the prefix");
            return;
        };
        // A message that was in flight when the last local subscriber left: nobody wants it.
        if self.subscriptions.count(topic) == 0 {
            return;
        }
        let envelope = match decode(message.get_payload_bytes()) {
            Ok(envelope) => envelope,
            Err(reason) => {
                self.malformed(channel, &reason.to_string());
                return;
            }
        };
        if envelope.origin == self.origin {
            bump(&counters.own_skipped);
            return;
        }
        let delivered = catch_unwind(AssertUnwindSafe(|| {
            (self.deliver)(topic, envelope.kind, envelope.payload)
        }));
        match delivered {
            Ok(()) => {
                bump(&counters.delivered);
            }
            Err(_) => {
                let n = bump(&counters.dropped_callback_panic);
                log::error!(
                    "ws-redis subscriber: the delivery callback panicked on topic {topic:?} ({n} so far)"
                );
            }
        }
    }

    fn malformed(&self, channel: &str, reason: &str) {
        let n = bump(&self.counters.dropped_malformed);
        if worth_logging(n) {
            log::warn!(
                "ws-redis subscriber: dropped a message on {channel:?}: {reason} ({n} dropped so far)"
            );
        }
    }
}

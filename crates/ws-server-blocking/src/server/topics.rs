//! Topics: connections subscribe to names, and a publish reaches every subscribed
//! connection of every worker of the process (and, through a broker, of other
//! processes).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Server;
use super::connection::{Connection, Slot, Stage};
use crate::id::ConnId;
use crate::payload::Payload;

/// One worker's subscriptions: per topic, the connections subscribed.
#[derive(Default)]
pub(crate) struct Topics {
    map: HashMap<Arc<str>, HashSet<ConnId>>,
}

impl Connection<'_> {
    /// Subscribes this connection to `topic`: it gets every message published to it
    /// ([`Server::publish`]) until it unsubscribes or disconnects. Returns false if it was
    /// subscribed already, or if the connection is closing or closed (once its session has
    /// ended, in its `disconnect` callback too: no message could reach it, and the
    /// subscription would outlive it). May be called in its handshake (in `on_connect`
    /// too); messages are sent to it once its handshake is done.
    pub fn subscribe(&self, topic: &str) -> bool {
        let server = self.server;
        if !matches!(self.slot.stage(), Stage::Handshake | Stage::Open) {
            return false;
        }
        if self
            .slot
            .extra()
            .topics
            .borrow()
            .iter()
            .any(|t| &**t == topic)
        {
            return false;
        }
        let topic: Arc<str> = topic.into();
        self.slot.extra().topics.borrow_mut().push(topic.clone());
        let mut topics = server.topics.borrow_mut();
        let subscribers = topics.map.entry(topic.clone()).or_default();
        subscribers.insert(self.slot.id);
        drop(topics);
        server.hub.add_subscription(server.worker, &topic);
        true
    }

    /// Unsubscribes this connection from `topic`; returns false if it was not subscribed.
    pub fn unsubscribe(&self, topic: &str) -> bool {
        let Some(extra) = self.slot.extra.get() else {
            return false;
        };
        let mut mine = extra.topics.borrow_mut();
        let Some(at) = mine.iter().position(|t| &**t == topic) else {
            return false;
        };
        let topic = mine.swap_remove(at);
        drop(mine);
        self.server.drop_subscriber(self.slot.id, &topic);
        true
    }

    /// The topics this connection is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        self.slot.extra.get().map_or_else(Vec::new, |extra| {
            extra
                .topics
                .borrow()
                .iter()
                .map(|t| t.to_string())
                .collect()
        })
    }
}

impl Server {
    /// Publishes a text message to `topic`; see [`publish`](Self::publish).
    pub fn publish_utf8(&self, topic: &str, text: &str) -> usize {
        self.publish(topic, text)
    }

    /// Publishes a binary message to `topic`; see [`publish`](Self::publish).
    pub fn publish_binary(&self, topic: &str, data: &[u8]) -> usize {
        self.publish(topic, data)
    }

    /// Publishes a message to `topic`: every connection subscribed to it on any worker of
    /// this process gets it once, in this loop's publish order; this worker's subscribers
    /// at once (queued like any send), the other workers' through their queues (a worker
    /// whose queue is full misses it: counted, see [`Inbound::dropped`](crate::Inbound::dropped)),
    /// and the [`Broker`](crate::Broker), if one is installed, carries it to other
    /// processes (at most once).
    ///
    /// Returns how many of this worker's connections it was queued for.
    pub fn publish(&self, topic: &str, payload: impl Into<Payload>) -> usize {
        let payload = payload.into();
        let local = self.deliver_local(topic, &payload);
        self.hub.fan_out(topic, &payload, Some(self.worker));
        self.hub.to_broker(topic, &payload);
        local
    }

    /// How many of this worker's connections are subscribed to `topic`.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.topics.borrow().map.get(topic).map_or(0, HashSet::len)
    }

    /// Sends `payload` to this worker's ready subscribers of `topic`; returns how many.
    pub(crate) fn deliver_local(&self, topic: &str, payload: &Payload) -> usize {
        let ids: Vec<ConnId> = match self.topics.borrow().map.get(topic) {
            Some(ids) => ids.iter().copied().collect(),
            None => return 0,
        };
        ids.into_iter()
            .filter_map(|id| self.connection(id))
            .filter(|conn| match payload {
                Payload::Text(text) => conn.send_utf8(text).is_ok(),
                Payload::Binary(data) => conn.send_binary(data).is_ok(),
            })
            .count()
    }

    /// A connection is over: it leaves every topic.
    pub(crate) fn unsubscribe_all(&self, slot: &Slot) {
        let Some(extra) = slot.extra.get() else {
            return;
        };
        let topics = std::mem::take(&mut *extra.topics.borrow_mut());
        for topic in topics {
            self.drop_subscriber(slot.id, &topic);
        }
    }

    fn drop_subscriber(&self, id: ConnId, topic: &str) {
        let mut topics = self.topics.borrow_mut();
        if let Some(subscribers) = topics.map.get_mut(topic) {
            subscribers.remove(&id);
            if subscribers.is_empty() {
                topics.map.remove(topic);
            }
        }
        drop(topics);
        self.hub.remove_subscription(self.worker, topic);
    }
}

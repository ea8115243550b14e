//! The seam to a message broker that carries topics between processes.

use crate::payload::Payload;

/// Carries published messages between server processes (Redis pub/sub, NATS, ...).
///
/// Installed with [`Builder::broker`](crate::Builder::broker), whose closure receives the
/// [`Inbound`](crate::Inbound) through which the broker hands the loops the messages that
/// other processes published. Within one process, topics need no broker: every worker
/// loop receives every local publish directly.
///
/// # What the server calls, and when
///
/// - [`subscribe`](Self::subscribe) when the process's first local subscriber of a topic
///   arrives (on any worker), and [`unsubscribe`](Self::unsubscribe) when its last one
///   leaves (unsubscribes or disconnects); so a process listens to a topic on the broker
///   only while it has local subscribers. Calls for one topic come in order: subscribe,
///   unsubscribe, subscribe, ...
/// - [`publish`](Self::publish) for every message published in this process
///   ([`Server::publish`](crate::Server::publish), [`Handle::publish`](crate::Handle::publish)),
///   after it was delivered to the local subscribers.
/// - [`stop`](Self::stop) once, when the server is done: on the thread that called
///   [`Listening::start`](crate::Listening::start), after its last worker loop has ended
///   and before `start` returns (also when a bound server is dropped without being
///   started). Nothing else is called after it: later publishes through a
///   [`Handle`](crate::Handle) no longer reach the broker.
///
/// The first three are called on the worker loop's thread (with a lock on the process's topic table
/// held for `subscribe`/`unsubscribe`), so **they must not block**: hand the work to the
/// broker's own thread(s) through a bounded queue, and drop (and count) when it is full.
/// Nor may they call [`Inbound`](crate::Inbound) themselves (it takes the same lock):
/// deliver from the broker's own thread.
///
/// # What the broker must do
///
/// - Deliver what other processes publish with [`Inbound::deliver`](crate::Inbound::deliver).
/// - **Never echo this process's own messages back**: the process delivered them locally
///   already, so a message that comes back from the broker would reach local subscribers
///   twice. A broker sees its own messages on a shared channel (Redis pub/sub does), so it
///   must mark what it publishes (an id of the process in the message) and filter them.
///
/// # Delivery guarantees
///
/// Within a process, a publish reaches every subscribed connection of every worker once,
/// in publish order per publisher. Across processes, delivery is **at-most-once**, as
/// Redis pub/sub's is: what is published while a broker connection is down, or while a
/// queue between the broker and a loop is full, is lost for the other processes.
pub trait Broker: Send + Sync {
    /// The process's first local subscriber of `topic` arrived: start receiving it.
    fn subscribe(&self, topic: &str);
    /// The process's last local subscriber of `topic` left: stop receiving it.
    fn unsubscribe(&self, topic: &str);
    /// A message published in this process, already delivered locally: send it to the
    /// other processes (and filter it out when it comes back).
    fn publish(&self, topic: &str, payload: &Payload);
    /// The server is done (its last worker loop has ended): stop the broker's threads and
    /// close its connections, and drop the [`Inbound`](crate::Inbound), which refers back
    /// to the server's shared state (a broker that kept it and was kept by the server
    /// would keep both alive for as long as the process runs).
    ///
    /// Called once, on the thread that called [`Listening::start`](crate::Listening::start),
    /// before `start` returns: it may wait for the broker's own threads to end, but must
    /// not block for long (a bounded wait of the order of the broker's poll or I/O
    /// timeout), since the caller of `start` waits for it. Does nothing by default.
    fn stop(&self) {}
}

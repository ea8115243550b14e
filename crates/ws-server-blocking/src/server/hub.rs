//! What the worker loops of one process share: each loop's bounded job queue and waker,
//! the process's topic table, the broker, and the shutdown and accepting flags; and the
//! handles other threads use to reach the loops ([`Handle`], [`Inbound`]).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use mio::Waker;

use super::Server;
use crate::balance::{Balance, Loads, Place};
use crate::broker::Broker;
use crate::payload::Payload;

/// Work for a loop, sent through its queue.
pub(crate) enum Job {
    /// Run this on the loop's thread.
    Run(Box<dyn FnOnce(&Server) + Send>),
    /// Run this on every loop's thread (one copy per loop).
    RunShared(Arc<dyn Fn(&Server) + Send + Sync>),
    /// Deliver a topic's message to the loop's subscribers.
    Deliver { topic: Arc<str>, payload: Payload },
    /// Serve a connection another loop accepted (see [`Balance`]). Boxed: every slot of
    /// every loop's queue is as large as the largest job, and is allocated and written
    /// when the loop is made (72 bytes unboxed against 40 for the next largest: 0.5 MiB
    /// more per worker at the default `queue_capacity`).
    Adopt(Box<Accepted>),
}

/// A connection just accepted, before anything was read from it: what a loop needs to
/// take it on, when it was accepted (its handshake deadline counts from then), and its
/// place in the count of the worker chosen to serve it (given back if it is dropped
/// before that worker takes it in, in that worker's queue too).
pub(crate) struct Accepted {
    pub(crate) tcp: TcpStream,
    pub(crate) addr: SocketAddr,
    pub(crate) at: Instant,
    pub(crate) place: Place,
}

/// Why work could not be posted to a loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The loop's queue holds `capacity` jobs it has not run yet
    /// ([`Config::queue_capacity`](crate::Config::queue_capacity)): the job was not
    /// queued. The loop is busy or blocked; try again later, or drop the work.
    #[error("the server loop's queue is full ({capacity} jobs waiting)")]
    Full {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The loop has ended (the server shut down): the job was not queued.
    #[error("the server loop has ended")]
    Stopped,
}

/// One loop's end of its queue, as the other threads see it.
struct Queue {
    tx: SyncSender<Job>,
    waker: Waker,
    /// Set when the loop has been woken and has not yet looked at its queue: one wake-up
    /// (a system call) serves a burst of posts.
    woken: AtomicBool,
}

/// What the loops of a process share.
pub(crate) struct Hub {
    queues: Vec<Queue>,
    capacity: usize,
    /// Per topic, how many subscriptions each worker holds.
    topics: Mutex<HashMap<Arc<str>, Vec<u32>>>,
    broker: OnceLock<Box<dyn Broker>>,
    /// Set once the broker was told the server is done ([`Broker::stop`]); nothing else
    /// is asked of it after that.
    broker_stopped: AtomicBool,
    shutdown: AtomicBool,
    accepting: AtomicBool,
    /// Messages dropped because a loop's queue was full.
    dropped: AtomicU64,
    /// Each loop's count of connections, which spreads new ones over the loops (shared
    /// with the places of connections being handed over).
    pub(crate) loads: Arc<Loads>,
}

impl Hub {
    /// A hub for one loop per waker; returns it with each loop's receiving end.
    pub(crate) fn new(
        wakers: Vec<Waker>,
        capacity: usize,
        balance: Balance,
        max_connections: usize,
    ) -> (Arc<Hub>, Vec<Receiver<Job>>) {
        let mut queues = Vec::new();
        let mut receivers = Vec::new();
        for waker in wakers {
            let (tx, rx) = sync_channel(capacity);
            queues.push(Queue {
                tx,
                waker,
                woken: AtomicBool::new(false),
            });
            receivers.push(rx);
        }
        let hub = Hub {
            loads: Arc::new(Loads::new(queues.len(), balance, max_connections)),
            queues,
            capacity,
            topics: Mutex::new(HashMap::new()),
            broker: OnceLock::new(),
            broker_stopped: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
        };
        (Arc::new(hub), receivers)
    }

    pub(crate) fn set_broker(&self, broker: Box<dyn Broker>) {
        if self.broker.set(broker).is_err() {
            log::error!("a broker was already installed; the second one is ignored");
        }
    }

    /// The broker, while it has not been stopped.
    fn broker(&self) -> Option<&dyn Broker> {
        if self.broker_stopped.load(Ordering::Acquire) {
            return None;
        }
        self.broker.get().map(|broker| &**broker)
    }

    /// Tells the broker, once, that the server is done ([`Broker::stop`]): called on the
    /// thread of `start` once every worker loop has ended (or as a server bound but never
    /// started is dropped). The broker lets go of its [`Inbound`] then, which refers back
    /// to this hub: without it the two would keep each other alive.
    pub(crate) fn stop_broker(&self) {
        if self.broker_stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(broker) = self.broker.get() {
            broker.stop();
        }
    }

    pub(crate) fn workers(&self) -> usize {
        self.queues.len()
    }

    /// Queues a job for worker `worker` and wakes it.
    pub(crate) fn post(&self, worker: usize, job: Job) -> Result<(), PostError> {
        self.try_post(worker, job).map_err(|err| match err {
            TrySendError::Full(_) => PostError::Full {
                capacity: self.capacity,
            },
            TrySendError::Disconnected(_) => PostError::Stopped,
        })
    }

    /// Queues a job for worker `worker` and wakes it; gives the job back if it cannot.
    fn try_post(&self, worker: usize, job: Job) -> Result<(), TrySendError<Job>> {
        let queue = &self.queues[worker];
        queue.tx.try_send(job)?;
        if !queue.woken.swap(true, Ordering::AcqRel)
            && let Err(err) = queue.waker.wake()
        {
            log::error!("cannot wake worker {worker}: {err}");
        }
        Ok(())
    }

    /// Hands a connection that worker `from` accepted to the worker its place is
    /// counted for (chosen by [`Loads::assign`]). When that worker's queue is full or its
    /// loop has ended, the connection is given back, counted for `from` again, to be
    /// served there.
    pub(crate) fn hand_off(&self, from: usize, accepted: Accepted) -> Result<(), Accepted> {
        match self.try_post(accepted.place.worker(), Job::Adopt(Box::new(accepted))) {
            Ok(()) => {
                self.loads.count_hand_off();
                Ok(())
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => match job {
                Job::Adopt(accepted) => {
                    let mut accepted = *accepted;
                    accepted.place = accepted.place.move_to(from);
                    Err(accepted)
                }
                _ => unreachable!("the job given back is the one sent"),
            },
        }
    }

    /// Called by a loop before it empties its queue.
    pub(crate) fn clear_woken(&self, worker: usize) {
        self.queues[worker].woken.store(false, Ordering::Release);
    }

    fn wake_all(&self) {
        for (worker, queue) in self.queues.iter().enumerate() {
            if let Err(err) = queue.waker.wake() {
                log::error!("cannot wake worker {worker}: {err}");
            }
        }
    }

    pub(crate) fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    pub(crate) fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    pub(crate) fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::SeqCst);
        self.wake_all();
    }

    pub(crate) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Worker `worker` gained a subscription to `topic`; the broker hears of the
    /// process's first one.
    pub(crate) fn add_subscription(&self, worker: usize, topic: &Arc<str>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let counts = topics
            .entry(topic.clone())
            .or_insert_with(|| vec![0; self.queues.len()]);
        let first = counts.iter().all(|&n| n == 0);
        counts[worker] += 1;
        if first && let Some(broker) = self.broker() {
            broker.subscribe(topic);
        }
    }

    /// Worker `worker` lost a subscription to `topic`; the broker hears of the process's
    /// last one.
    pub(crate) fn remove_subscription(&self, worker: usize, topic: &str) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let Some(counts) = topics.get_mut(topic) else {
            return;
        };
        counts[worker] = counts[worker].saturating_sub(1);
        if counts.iter().all(|&n| n == 0) {
            topics.remove(topic);
            if let Some(broker) = self.broker() {
                broker.unsubscribe(topic);
            }
        }
    }

    /// The workers other than `except` with a subscriber of `topic`.
    fn subscribed_workers(&self, topic: &str, except: Option<usize>) -> Vec<usize> {
        let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics.get(topic).map_or_else(Vec::new, |counts| {
            counts
                .iter()
                .enumerate()
                .filter(|&(w, &n)| n > 0 && Some(w) != except)
                .map(|(w, _)| w)
                .collect()
        })
    }

    /// Queues `payload` for the subscribers of `topic` on every worker but `except`;
    /// returns how many workers it was queued for and how many queues were full (those
    /// drops are counted and logged).
    pub(crate) fn fan_out(
        &self,
        topic: &str,
        payload: &Payload,
        except: Option<usize>,
    ) -> (usize, usize) {
        if self.queues.len() == 1 && except == Some(0) {
            return (0, 0); // one loop, which delivered it itself
        }
        let workers = self.subscribed_workers(topic, except);
        if workers.is_empty() {
            return (0, 0);
        }
        let topic: Arc<str> = topic.into();
        let (mut queued, mut full) = (0, 0);
        for worker in workers {
            let job = Job::Deliver {
                topic: topic.clone(),
                payload: payload.clone(),
            };
            match self.post(worker, job) {
                Ok(()) => queued += 1,
                Err(err) => {
                    full += 1;
                    let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    // One record for the first drop and then one per thousand, so that a
                    // stuck loop does not also flood the log.
                    if dropped == 1 || dropped.is_multiple_of(1000) {
                        log::warn!(
                            "topic {topic:?}: message dropped for worker {worker}: {err} \
                             ({dropped} dropped so far)"
                        );
                    }
                }
            }
        }
        (queued, full)
    }

    /// Hands a local publish to the broker, if there is one.
    pub(crate) fn to_broker(&self, topic: &str, payload: &Payload) {
        if let Some(broker) = self.broker() {
            broker.publish(topic, payload);
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Shuts every worker down if the thread holding it unwinds: a callback that panics ends
/// its own loop, and the other loops must not serve on a worker short (or, when worker 0
/// panics out of `start`, on threads nobody joins).
pub(crate) struct ShutdownOnPanic(pub(crate) Arc<Hub>);

impl Drop for ShutdownOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            log::error!("a worker loop panicked: shutting every worker down");
            self.0.request_shutdown();
        }
    }
}

/// Tells the broker the server is done ([`Hub::stop_broker`]) when dropped: held by a
/// bound server, then by its `start` until every worker loop has ended, so every way out
/// (returning, a worker's panic going on to the caller, a bound server never started,
/// `bind` failing after the broker was made) stops the broker once.
pub(crate) struct StopBrokerOnDrop(pub(crate) Arc<Hub>);

impl Drop for StopBrokerOnDrop {
    fn drop(&mut self) {
        self.0.stop_broker();
    }
}

/// A handle into the running server from any thread: posts work to a loop, publishes to
/// topics, stops accepting, shuts down. `Send + Sync + Clone`; cheap to clone.
///
/// Get one from [`Listening::handle`](crate::Listening::handle) (before `start`) or
/// [`Server::handle`](crate::Server::handle) (inside a callback). Work posted with
/// [`post`](Self::post) runs on the handle's worker loop, between its I/O events; each
/// loop's queue is bounded ([`Config::queue_capacity`](crate::Config::queue_capacity),
/// default 16,384 jobs) and a full queue is [`PostError::Full`].
///
/// ```no_run
/// use ws_server_blocking::Server;
/// let server = Server::builder().listen("127.0.0.1:0").bind()?;
/// let handle = server.handle();
/// std::thread::spawn(move || {
///     // A job from elsewhere: a database listener, a timer thread.
///     let _ = handle.post(|server| {
///         server.broadcast_utf8("news");
///     });
///     let _ = handle.publish("room:1", "hello");
///     handle.shutdown();
/// });
/// server.start()?;
/// # Ok::<(), ws_server_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) hub: Arc<Hub>,
    pub(crate) worker: usize,
}

/// The name of [`Handle`] before it could post work; it still shuts the server down.
pub type ShutdownHandle = Handle;

impl Handle {
    /// Runs `job` on this handle's worker loop, soon after (it wakes the loop).
    ///
    /// # Errors
    ///
    /// [`PostError::Full`] when the loop's queue is full, [`PostError::Stopped`] when the
    /// loop has ended; the job was not queued then.
    pub fn post(&self, job: impl FnOnce(&Server) + Send + 'static) -> Result<(), PostError> {
        self.hub.post(self.worker, Job::Run(Box::new(job)))
    }

    /// Runs `job` once on every worker loop.
    ///
    /// # Errors
    ///
    /// [`PostError::Full`] or [`PostError::Stopped`], the last one met, when at least one
    /// loop's queue was full or the loop had ended: that loop did not get the job, the
    /// others did.
    pub fn post_all(&self, job: impl Fn(&Server) + Send + Sync + 'static) -> Result<(), PostError> {
        let job: Arc<dyn Fn(&Server) + Send + Sync> = Arc::new(job);
        let mut result = Ok(());
        for worker in 0..self.hub.workers() {
            if let Err(err) = self.hub.post(worker, Job::RunShared(job.clone())) {
                result = Err(err);
            }
        }
        result
    }

    /// Publishes a message to `topic` from any thread: every subscribed connection of
    /// every worker of this process gets it once, in the order of this handle's
    /// publishes, and the [`Broker`] (if any) carries it to the other processes.
    ///
    /// # Errors
    ///
    /// [`PostError::Full`] when the queue of at least one worker with subscribers was
    /// full: that worker's subscribers miss this message (the drop is counted, see
    /// [`Inbound::dropped`]); the other workers and the broker still get it.
    pub fn publish(&self, topic: &str, payload: impl Into<Payload>) -> Result<(), PostError> {
        let payload = payload.into();
        let (_, full) = self.hub.fan_out(topic, &payload, None);
        self.hub.to_broker(topic, &payload);
        if full > 0 {
            return Err(PostError::Full {
                capacity: self.hub.capacity,
            });
        }
        Ok(())
    }

    /// Shuts the server down (every worker), as [`Server::shutdown`] does; returns at
    /// once. Never fails: it does not go through the queues.
    ///
    /// Shutting down runs `on_shutdown`, closes the listener, closes every connection
    /// with 1001 (going away), waits up to `close_timeout` for the closing handshakes, and
    /// makes `start` return.
    pub fn shutdown(&self) {
        self.hub.request_shutdown();
    }

    /// Stops accepting connections (every worker closes its listener), for a graceful
    /// drain: open connections are served on until [`shutdown`](Self::shutdown).
    pub fn stop_accepting(&self) {
        self.hub.stop_accepting();
    }

    /// Whether the server still accepts connections (false once
    /// [`stop_accepting`](Self::stop_accepting) or shutdown began).
    pub fn is_accepting(&self) -> bool {
        self.hub.is_accepting() && !self.hub.shutdown_requested()
    }

    /// How many worker loops the server runs.
    pub fn workers(&self) -> usize {
        self.hub.workers()
    }

    /// How many connections each worker loop holds, by worker index: every connection
    /// in any phase (handshake, open, closing), plus those handed to a worker that it has
    /// not taken in yet. Read from counters the loops keep as connections come and go
    /// (no loop is asked), so the figures may be a moment old; for a stats page, a
    /// health check, or to see how evenly [`Balance`](crate::Balance) spreads them.
    /// Once `start` has returned, every count is zero.
    pub fn connections_per_worker(&self) -> Vec<usize> {
        self.hub.loads.per_worker()
    }

    /// How many connections so far the worker that accepted them handed to a
    /// less-loaded worker ([`Balance::LeastConnections`](crate::Balance::LeastConnections)).
    pub fn handed_off(&self) -> u64 {
        self.hub.loads.handed_off()
    }

    /// The worker loop that [`post`](Self::post) runs on (0 to `workers() - 1`).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The same handle, posting to worker `worker` (taken modulo the number of workers).
    pub fn for_worker(&self, worker: usize) -> Handle {
        Handle {
            hub: self.hub.clone(),
            worker: worker % self.hub.workers(),
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("worker", &self.worker)
            .field("workers", &self.hub.workers())
            .finish_non_exhaustive()
    }
}

/// How a [`Broker`] hands the loops the messages other processes published.
/// `Send + Sync + Clone`; given to the closure of [`Builder::broker`](crate::Builder::broker).
#[derive(Clone)]
pub struct Inbound {
    pub(crate) hub: Arc<Hub>,
}

impl Inbound {
    /// Delivers a message that arrived from another process to every local subscriber of
    /// `topic` (it is not handed back to the broker). Never blocks: a worker whose queue is
    /// full misses it, which is counted ([`dropped`](Self::dropped)) and logged (the first
    /// drop, then one record per thousand). Returns how many workers it was queued for.
    pub fn deliver(&self, topic: &str, payload: impl Into<Payload>) -> usize {
        self.hub.fan_out(topic, &payload.into(), None).0
    }

    /// Messages dropped so far because a loop's queue was full (topic messages from the
    /// broker, from other workers and from [`Handle::publish`]).
    pub fn dropped(&self) -> u64 {
        self.hub.dropped()
    }

    /// A handle to the server, to post work or shut down.
    pub fn handle(&self) -> Handle {
        Handle {
            hub: self.hub.clone(),
            worker: 0,
        }
    }
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    // Every slot of a loop's queue is as large as the largest job, allocated and written
    // up front (std's bounded channel): a connection being handed over is boxed so that
    // it does not set that size.
    #[test]
    fn a_job_is_no_larger_than_a_topic_message() {
        assert!(std::mem::size_of::<super::Job>() <= 48);
    }
}

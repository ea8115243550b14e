//! Spreading connections over the worker loops: the [`Balance`] setting, and each
//! worker's count of connections ([`Loads`]) that the choice reads.
//!
//! With several workers each has its own `SO_REUSEPORT` listener, and the kernel picks
//! the listener of a new connection by a hash of its addresses: four connections land on
//! four workers only 4!/4^4 (9%) of the time, and usually one worker carries two or three
//! of them while another idles. So, by default, a worker that accepts a connection while
//! it holds more connections than the least-loaded worker hands the socket to that
//! worker, through the worker's job queue (one message and one wake-up), before anything
//! is read from it: the PROXY header, TLS and the handshake then all run on the worker
//! that serves it, with the handshake deadline counted from the first `accept`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How new connections are spread over the worker loops (with
/// [`Builder::workers`](crate::Builder::workers) above 1); a setting of
/// [`Config::balance`](crate::Config::balance), which states the default.
///
/// The trade-off: a connection handed to another worker costs one message through that
/// worker's job queue and one wake-up of its loop (an `eventfd` write), and its first
/// bytes wait for that loop to turn; connections that the kernel's hash spreads evenly
/// anyway (many short ones) gain little from it. Few long or heavy connections (a
/// benchmark with 4 connections, a bridge to Redis, a large upload) gain most: without
/// it two of them often share one core while another core idles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Balance {
    /// Each worker keeps what it accepts: connections are spread as the kernel spreads
    /// them (a hash of their addresses over the workers' `SO_REUSEPORT` listeners; a
    /// listener given with [`Listen::Listener`](crate::Listen::Listener) is shared, and
    /// whichever worker wakes first accepts).
    Kernel,
    /// A worker that accepts a connection while it holds more than `slack` connections
    /// more than the least-loaded worker hands the connection to that worker. Counted:
    /// every connection a worker holds, in any phase (handshake, open, closing), plus
    /// those handed to it that it has not taken in yet. With `slack: 0`, connections made
    /// one after another are spread exactly (4 over 4 workers: one each), and no worker
    /// ever holds more than `slack + 1` more than another while connections only arrive.
    /// A worker at its [`Config::max_connections`](crate::Config::max_connections) hands
    /// the connection over whatever the slack, if the least-loaded worker is under it:
    /// a connection is only refused when no worker has room.
    LeastConnections {
        /// How many more connections than the least-loaded worker a worker may hold
        /// before it hands new ones over; higher values hand over less often.
        slack: usize,
    },
}

impl Default for Balance {
    fn default() -> Balance {
        Balance::LeastConnections { slack: 0 }
    }
}

/// One worker's count, alone on its cache line: the workers write their own on every
/// connect and close, and a write must not slow the reads of the others' counts.
#[repr(align(128))]
#[derive(Default)]
struct Load(AtomicUsize);

/// Each worker's count of connections (as [`Balance::LeastConnections`] counts them),
/// and how many connections were handed over. Lock-free: atomics only, touched on accept
/// and close, never on the message path.
pub(crate) struct Loads {
    loads: Vec<Load>,
    balance: Balance,
    /// Each worker's cap ([`Config::max_connections`](crate::Config::max_connections)).
    cap: usize,
    handed_off: AtomicU64,
}

/// A connection's place in one worker's count, from [`Loads::assign`] until the worker
/// takes the connection in ([`settle`](Self::settle); [`Loads::release`] gives it back
/// when the connection ends). Dropped before that (the connection refused, failed, or
/// left in the queue of a loop that ended), it gives the place back itself: no way out
/// of the hand-off leaves a count behind.
pub(crate) struct Place {
    /// `None` once settled.
    loads: Option<Arc<Loads>>,
    worker: usize,
}

impl Place {
    /// The worker counted.
    pub(crate) fn worker(&self) -> usize {
        self.worker
    }

    /// The worker took the connection in: the count stays until the connection ends.
    pub(crate) fn settle(mut self) {
        self.loads = None;
    }

    /// The hand-off to this place's worker failed: the connection is counted for `to`
    /// instead (the worker that accepted it, which serves it).
    pub(crate) fn move_to(mut self, to: usize) -> Place {
        let loads = self.loads.take();
        if let Some(loads) = &loads {
            loads.release(self.worker);
            loads.loads[to].0.fetch_add(1, Ordering::Relaxed);
        }
        Place { loads, worker: to }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(loads) = &self.loads {
            loads.release(self.worker);
        }
    }
}

/// Attempts at reserving a place on the least-loaded worker before the accepting worker
/// keeps the connection (another worker took the same place meanwhile each time).
const ATTEMPTS: usize = 8;

impl Loads {
    /// Counts for `workers` workers, each holding at most `cap` connections.
    pub(crate) fn new(workers: usize, balance: Balance, cap: usize) -> Loads {
        Loads {
            loads: (0..workers).map(|_| Load::default()).collect(),
            balance,
            cap,
            handed_off: AtomicU64::new(0),
        }
    }

    /// Chooses the worker that serves a connection `from` just accepted, and counts the
    /// connection there: `from` itself, or the least-loaded worker (the lowest index
    /// among equals) when `from` holds more than `slack` more than it, or when `from` is
    /// at its cap and that worker is not (a connection is not refused while another
    /// worker has room for it, whatever the slack).
    ///
    /// Every increment is a compare-and-swap made against the counts just read, so that
    /// two workers choosing at once cannot both take the same place: while connections
    /// only arrive, no count ever exceeds the least by more than `slack + 1`.
    pub(crate) fn assign(self: &Arc<Self>, from: usize) -> Place {
        let worker = self.choose(from);
        Place {
            loads: Some(self.clone()),
            worker,
        }
    }

    fn choose(&self, from: usize) -> usize {
        let slack = match self.balance {
            Balance::LeastConnections { slack } if self.loads.len() > 1 => slack,
            _ => {
                self.loads[from].0.fetch_add(1, Ordering::Relaxed);
                return from;
            }
        };
        for _ in 0..ATTEMPTS {
            let mine = self.get(from);
            let (least, fewest) = self.least();
            let full = mine >= self.cap && fewest < self.cap;
            let (target, seen) = if full || mine > fewest.saturating_add(slack) {
                (least, fewest)
            } else {
                (from, mine)
            };
            if self.loads[target]
                .0
                .compare_exchange(seen, seen + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return target;
            }
        }
        self.loads[from].0.fetch_add(1, Ordering::Relaxed);
        from
    }

    /// The worker with the fewest connections (the lowest index among equals), and how
    /// many it has.
    fn least(&self) -> (usize, usize) {
        let mut best = (0, usize::MAX);
        for worker in 0..self.loads.len() {
            let n = self.get(worker);
            if n < best.1 {
                best = (worker, n);
            }
        }
        best
    }

    fn get(&self, worker: usize) -> usize {
        self.loads[worker].0.load(Ordering::Relaxed)
    }

    /// A connection counted for `worker` is gone (closed, refused, or not taken in).
    pub(crate) fn release(&self, worker: usize) {
        // Never below zero, whatever a caller does twice.
        let _ = self.loads[worker]
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// A connection went to another worker than the one that accepted it.
    pub(crate) fn count_hand_off(&self) {
        self.handed_off.fetch_add(1, Ordering::Relaxed);
    }

    /// Each worker's count, by index.
    pub(crate) fn per_worker(&self) -> Vec<usize> {
        (0..self.loads.len()).map(|w| self.get(w)).collect()
    }

    /// Connections handed over so far.
    pub(crate) fn handed_off(&self) -> u64 {
        self.handed_off.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Balance, Loads};

    /// No cap to speak of.
    const UNCAPPED: usize = usize::MAX;

    // Connections that all arrive at one worker are spread one by one, lowest index
    // first among equals.
    #[test]
    fn arrivals_at_one_worker_are_spread_evenly() {
        let loads = Loads::new(4, Balance::default(), UNCAPPED);
        let chosen: Vec<usize> = (0..8).map(|_| loads.choose(2)).collect();
        assert_eq!(chosen, [2, 0, 1, 3, 2, 0, 1, 3]);
        assert_eq!(loads.per_worker(), [2, 2, 2, 2]);
    }

    // With slack, a worker keeps connections until it holds more than slack beyond the
    // least-loaded; any slack, however large, is no overflow.
    #[test]
    fn slack_lets_a_worker_keep_more() {
        let loads = Loads::new(2, Balance::LeastConnections { slack: 2 }, UNCAPPED);
        let chosen: Vec<usize> = (0..5).map(|_| loads.choose(0)).collect();
        assert_eq!(chosen, [0, 0, 0, 1, 0]);
        let huge = Loads::new(2, Balance::LeastConnections { slack: usize::MAX }, UNCAPPED);
        assert!((0..5).all(|_| huge.choose(1) == 1));
    }

    // A worker at its cap hands over to one with room, whatever the slack; when every
    // worker is at its cap, it keeps the connection (to refuse it).
    #[test]
    fn a_worker_at_its_cap_hands_over_whatever_the_slack() {
        let loads = Loads::new(2, Balance::LeastConnections { slack: 8 }, 2);
        let chosen: Vec<usize> = (0..5).map(|_| loads.choose(0)).collect();
        assert_eq!(chosen, [0, 0, 1, 1, 0]);
    }

    // `Kernel` and a single worker keep every connection where it was accepted.
    #[test]
    fn kernel_balance_keeps_every_connection() {
        let loads = Loads::new(3, Balance::Kernel, 1);
        assert!((0..5).all(|_| loads.choose(1) == 1));
        assert_eq!(loads.per_worker(), [0, 5, 0]);
        let one = Loads::new(1, Balance::default(), 1);
        assert_eq!(one.choose(0), 0);
    }

    // A place given back by being dropped, settled (then released when the connection
    // ends), or moved back to the accepting worker: the counts stay right, and never go
    // below zero.
    #[test]
    fn places_keep_the_counts() {
        let loads = Arc::new(Loads::new(2, Balance::default(), UNCAPPED));
        let first = loads.assign(0);
        let second = loads.assign(0);
        assert_eq!((first.worker(), second.worker()), (0, 1));
        let back = second.move_to(0);
        assert_eq!(loads.per_worker(), [2, 0]);
        drop(back);
        assert_eq!(loads.per_worker(), [1, 0]);
        first.settle();
        assert_eq!(
            loads.per_worker(),
            [1, 0],
            "settled: counted until released"
        );
        loads.release(0);
        loads.release(0);
        assert_eq!(loads.per_worker(), [0, 0]);
        drop(loads.assign(1));
        assert_eq!(loads.per_worker(), [0, 0]);
    }

    // Many threads accepting at once: the counts stay within slack + 1 of each other.
    #[test]
    fn concurrent_arrivals_stay_within_one() {
        let loads = Arc::new(Loads::new(4, Balance::default(), UNCAPPED));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let loads = loads.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        loads.assign(t % 2).settle();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let counts = loads.per_worker();
        assert_eq!(counts.iter().sum::<usize>(), 4000);
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(max - min <= 1, "{counts:?}");
    }
}

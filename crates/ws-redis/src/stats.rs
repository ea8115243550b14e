//! The bridge's counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A snapshot of a bridge's counters, from [`Bridge::stats`](crate::Bridge::stats). Every
/// count is since the bridge started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages PUBLISHed to Redis (Redis acknowledged them).
    pub published: u64,
    /// Messages from Redis handed to the delivery callback.
    pub delivered: u64,
    /// This bridge's own messages, coming back from Redis and skipped (the server delivered
    /// them locally already). Not a loss.
    pub own_skipped: u64,
    /// [`Bridge::publish`](crate::Bridge::publish) found the publish queue full (or the
    /// bridge stopped) and dropped the message.
    pub dropped_queue_full: u64,
    /// Messages lost because Redis could not be reached or the PUBLISH failed: at-most-once.
    pub dropped_disconnected: u64,
    /// Payloads on a subscribed channel that are not envelopes this bridge reads (foreign,
    /// truncated, other version, bad kind, text not UTF-8).
    pub dropped_malformed: u64,
    /// Messages whose delivery callback panicked (the panic is caught and logged).
    pub dropped_callback_panic: u64,
    /// Connections to Redis made again after one was lost or failed (both threads).
    pub reconnects: u64,
    /// Whether the reading (subscribing) connection is up now.
    pub subscriber_connected: bool,
    /// Whether the publishing connection is up now.
    pub publisher_connected: bool,
}

/// The live counters, shared by the caller's threads and the bridge's.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) own_skipped: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_disconnected: AtomicU64,
    pub(crate) dropped_malformed: AtomicU64,
    pub(crate) dropped_callback_panic: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) subscriber_connected: AtomicBool,
    pub(crate) publisher_connected: AtomicBool,
}

/// Adds one; returns the new count.
pub(crate) fn bump(counter: &AtomicU64) -> u64 {
    counter.fetch_add(1, Ordering::Relaxed) + 1
}

/// Whether a drop with this running count deserves a log record: the 1st, 2nd, 4th, 8th...
/// so that a flood of drops logs a few lines, not one per message.
pub(crate) fn worth_logging(count: u64) -> bool {
    count.is_power_of_two()
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            published: get(&self.published),
            delivered: get(&self.delivered),
            own_skipped: get(&self.own_skipped),
            dropped_queue_full: get(&self.dropped_queue_full),
            dropped_disconnected: get(&self.dropped_disconnected),
            dropped_malformed: get(&self.dropped_malformed),
            dropped_callback_panic: get(&self.dropped_callback_panic),
            reconnects: get(&self.reconnects),
            subscriber_connected: self.subscriber_connected.load(Ordering::Relaxed),
            publisher_connected: self.publisher_connected.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_log_at_powers_of_two() {
        let logged: Vec<u64> = (1..=20).filter(|&n| worth_logging(n)).collect();
        assert_eq!(logged, [1, 2, 4, 8, 16]);
    }

    #[test]
    fn snapshot_reads_the_counters() {
        let counters = Counters::default();
        assert_eq!(bump(&counters.published), 1);
        bump(&counters.published);
        bump(&counters.reconnects);
        let stats = counters.snapshot();
        assert_eq!(
            (stats.published, stats.reconnects, stats.delivered),
            (2, 1, 0)
        );
    }
}

//! The reference-counted set of topics this process subscribes to, shared by the callers'
//! threads and the reading thread, and the stop flag the bridge's threads watch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The table behind the lock.
#[derive(Debug, Default)]
struct Table {
    /// Local subscribers per topic; a topic is present only with a count of 1 or more.
    counts: BTreeMap<String, usize>,
    /// Bumped whenever the set of topics (not merely a count) changes.
    version: u64,
    /// The bridge is being dropped: the threads end.
    stopping: bool,
}

/// The topics with local subscribers, their counts, and a condition variable that wakes a
/// thread waiting out a backoff when the bridge stops.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    table: Mutex<Table>,
    changed: Condvar,
}

impl Subscriptions {
    /// The lock, even if a thread panicked while holding it (the table stays consistent:
    /// every change is one statement).
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One more local subscriber of `topic`; true when it is the first (the channel must be
    /// SUBSCRIBEd).
    pub(crate) fn add(&self, topic: &str) -> bool {
        let mut table = self.lock();
        if let Some(count) = table.counts.get_mut(topic) {
            *count += 1;
            return false;
        }
        table.counts.insert(topic.to_owned(), 1);
        table.version += 1;
        true
    }

    /// One local subscriber of `topic` fewer; `Some(true)` when it was the last (the channel
    /// must be UNSUBSCRIBEd), `None` when the topic had none (the call is ignored).
    pub(crate) fn remove(&self, topic: &str) -> Option<bool> {
        let mut table = self.lock();
        let count = table.counts.get_mut(topic)?;
        *count -= 1;
        if *count > 0 {
            return Some(false);
        }
        table.counts.remove(topic);
        table.version += 1;
        Some(true)
    }

    /// Local subscribers of `topic` now.
    pub(crate) fn count(&self, topic: &str) -> usize {
        self.lock().counts.get(topic).copied().unwrap_or(0)
    }

    /// The topics and the version of the set, when the version differs from `seen`.
    pub(crate) fn changed_since(&self, seen: Option<u64>) -> Option<(u64, BTreeSet<String>)> {
        let table = self.lock();
        if seen == Some(table.version) {
            return None;
        }
        Some((table.version, table.counts.keys().cloned().collect()))
    }

    /// Tells the threads to end, and wakes any that waits in [`Subscriptions::pause`].
    pub(crate) fn stop(&self) {
        self.lock().stopping = true;
        self.changed.notify_all();
    }

    /// Whether the threads should end.
    pub(crate) fn stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Waits `delay`, or less if the bridge stops meanwhile; returns whether it stops.
    pub(crate) fn pause(&self, delay: Duration) -> bool {
        let table = self.lock();
        let (table, _) = self
            .changed
            .wait_timeout_while(table, delay, |t| !t.stopping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        table.stopping
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn first_and_last_subscriber_are_reported() {
        let subs = Subscriptions::default();
        assert!(subs.add("a"));
        assert!(!subs.add("a"));
        assert!(subs.add("b"));
        assert_eq!(subs.count("a"), 2);
        assert_eq!(subs.remove("a"), Some(false));
        assert_eq!(subs.remove("a"), Some(true));
        assert_eq!(subs.remove("a"), None);
        assert_eq!(subs.count("a"), 0);
    }

    #[test]
    fn the_version_moves_only_when_the_set_changes() {
        let subs = Subscriptions::default();
        let (v0, set) = subs.changed_since(None).unwrap();
        assert!(set.is_empty());
        assert!(subs.changed_since(Some(v0)).is_none());
        subs.add("a");
        let (v1, set) = subs.changed_since(Some(v0)).unwrap();
        assert_eq!(set.into_iter().collect::<Vec<_>>(), ["a"]);
        subs.add("a");
        subs.remove("a");
        assert!(subs.changed_since(Some(v1)).is_none());
    }

    #[test]
    fn stop_wakes_a_pause() {
        let subs = Arc::new(Subscriptions::default());
        let waiter = {
            let subs = Arc::clone(&subs);
            std::thread::spawn(move || subs.pause(Duration::from_secs(600)))
        };
        subs.stop();
        assert!(waiter.join().unwrap());
        assert!(subs.pause(Duration::from_secs(600)));
    }
}

//! Reconnection delays: exponential, bounded, with jitter.

use std::time::Duration;

/// The delays between reconnection attempts: `initial`, doubled after each failure up to
/// `max`; each delay actually waited is drawn uniformly between half of it and all of it
/// ("equal jitter"), so that the processes that lost one Redis together do not all come
/// back in the same millisecond. A success resets it.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay to wait now; the following one is twice as long (at most `max`).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = ceiling / 2;
        let span = (ceiling - half).as_nanos() as u64;
        let mut random = [0u8; 8];
        // Without randomness the delay is the ceiling: still bounded, merely unjittered.
        let jitter = match getrandom::fill(&mut random) {
            Ok(()) if span > 0 => u64::from_le_bytes(random) % (span + 1),
            _ => span,
        };
        half + Duration::from_nanos(jitter)
    }

    /// After a successful connection: the next failure waits `initial` again.
    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_max_with_jitter_in_the_upper_half() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(1000));
        for ceiling in [100, 200, 400, 800, 1000, 1000, 1000] {
            let d = backoff.next_delay();
            assert!(
                d >= ms(ceiling) / 2 && d <= ms(ceiling),
                "{d:?} for {ceiling}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= ms(100));
    }

    #[test]
    fn jitter_varies() {
        let mut delays = std::collections::BTreeSet::new();
        for _ in 0..20 {
            delays
                .insert(Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).next_delay());
        }
        assert!(delays.len() > 1);
    }
}

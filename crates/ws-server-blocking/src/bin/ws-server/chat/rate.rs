//! The per-connection rate limit: a token bucket.

use std::time::Instant;

/// A token bucket: holds at most `burst` tokens, gains `per_sec` tokens a second, and each
/// message takes one. A connection whose bucket is empty is flooding.
#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(per_sec: f64, burst: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_sec,
            last: now,
        }
    }

    /// Takes one token at `now`; false when there is none (the caller is over its rate).
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2.0, 3, start);
        assert!(bucket.take(start));
        assert!(bucket.take(start));
        assert!(bucket.take(start));
        assert!(!bucket.take(start), "the burst is spent");
        let later = start + Duration::from_millis(500);
        assert!(
            bucket.take(later),
            "one token back after half a second at 2/s"
        );
        assert!(!bucket.take(later));
        let much_later = later + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(bucket.take(much_later));
        }
        assert!(!bucket.take(much_later), "never more than the burst");
    }
}

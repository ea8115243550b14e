//! [`Tick`]: a moment in 32 bits, for the deadlines a connection carries (its size is an
//! idle connection's memory: an `Instant` is 16 bytes, an `Option<Instant>` too).

use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The moment ticks count from: an hour before the first one is made in this process (if
/// the clock goes back that far), so that a moment taken just before it is still after it.
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn epoch() -> Instant {
    *EPOCH.get_or_init(|| {
        let now = Instant::now();
        now.checked_sub(Duration::from_secs(3600)).unwrap_or(now)
    })
}

/// A moment, as milliseconds since the process's [`EPOCH`] modulo 2^32 (so it wraps every
/// 49.7 days), rounded up (a deadline never comes early); 0 is stored as 1, so that
/// `Option<Tick>` is 4 bytes too. Read back with [`Tick::instant`], relative to a moment
/// within 24.8 days of it: right for the deadlines it holds (handshake, close and
/// silence timeouts; a longer one is clamped to 24 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tick(NonZeroU32);

/// The furthest from now a tick can be read back correctly, less a margin.
const REACH: Duration = Duration::from_secs(24 * 24 * 3600);

impl Tick {
    /// `at`, rounded up to the millisecond; a moment more than 24 days from now is
    /// clamped to 24 days.
    pub(crate) fn at(at: Instant) -> Tick {
        let now = Instant::now();
        let at = at.clamp(now.checked_sub(REACH).unwrap_or(now), now + REACH);
        let since = at.saturating_duration_since(epoch());
        let millis = since.as_secs() * 1000 + u64::from(since.subsec_nanos().div_ceil(1_000_000));
        // Truncating to 32 bits is the point: moments are read back near `now`.
        Tick(NonZeroU32::new(millis as u32).unwrap_or(NonZeroU32::MIN))
    }

    /// `from + after`, as a tick.
    pub(crate) fn after(from: Instant, after: Duration) -> Tick {
        Tick::at(from.checked_add(after).unwrap_or(from + REACH))
    }

    /// The moment this tick stands for: the one nearest to `now` with these 32 bits.
    pub(crate) fn instant(self, now: Instant) -> Instant {
        let base = epoch();
        let since = now.saturating_duration_since(base);
        let now_millis = since.as_secs() * 1000 + u64::from(since.subsec_millis());
        // The signed distance from now, in milliseconds, modulo 2^32.
        let delta = self.0.get().wrapping_sub(now_millis as u32) as i32;
        let whole = base + Duration::from_millis(now_millis);
        if delta >= 0 {
            whole + Duration::from_millis(delta as u64)
        } else {
            whole
                .checked_sub(Duration::from_millis(u64::from(delta.unsigned_abs())))
                .unwrap_or(base)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Tick;

    // A tick reads back as the moment it was made from, rounded up to the millisecond.
    #[test]
    fn a_tick_reads_back_within_a_millisecond_never_early() {
        // Moments after the epoch (which the first tick fixes).
        let _ = Tick::at(Instant::now());
        let now = Instant::now() + Duration::from_secs(10);
        for offset in [0, 1, 999, 1_000, 5_000_000, 3_600_000_000_000] {
            let at = now + Duration::from_nanos(offset);
            let back = Tick::at(at).instant(now);
            assert!(back >= at, "{offset}: {back:?} < {at:?}");
            assert!(back - at <= Duration::from_millis(1), "{offset}");
        }
        let past = now - Duration::from_secs(3);
        let back = Tick::at(past).instant(now);
        assert!(back >= past && back - past <= Duration::from_millis(1));
    }

    // A deadline further away than a tick can tell is clamped to 24 days, not wrapped
    // round to the past.
    #[test]
    fn a_far_deadline_is_clamped_not_wrapped() {
        let now = Instant::now();
        let far = Tick::after(now, Duration::from_secs(100 * 24 * 3600)).instant(now);
        assert!(far > now + Duration::from_secs(23 * 24 * 3600));
        let never = Tick::after(now, Duration::MAX).instant(now);
        assert!(never > now + Duration::from_secs(23 * 24 * 3600));
    }

    // `Option<Tick>` costs no more than a tick.
    #[test]
    fn an_optional_tick_is_four_bytes() {
        assert_eq!(size_of::<Option<Tick>>(), 4);
    }
}

//! The deadlines a receiving client keeps after the handshake: the caller's read timeout,
//! the keepalive (ping after silence, give up after more silence), and the close timeout.
//!
//! They run inside [`Reader::recv`](crate::Reader::recv): before each blocking read the
//! reader sets the socket's read timeout to the nearest deadline, and when a read times
//! out it acts on whichever deadline passed. No extra thread is needed.

use std::time::{Duration, Instant};

/// The payload of keepalive pings; pongs that carry it are not handed to the caller.
pub(crate) const KEEPALIVE_PAYLOAD: &[u8] = b"ws-client keepalive";

/// The settings, from [`ClientBuilder`](crate::ClientBuilder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// The limit on one `recv` call ([`Error::Timeout`](crate::Error::Timeout)).
    pub read: Option<Duration>,
    /// From our close frame (sent, or answering the server's) to the end of TCP.
    pub close: Option<Duration>,
    /// Silence after which a ping goes out.
    pub keepalive: Option<Duration>,
    /// Further silence after that ping after which the server is given up on.
    pub keepalive_timeout: Duration,
}

/// What a passed deadline calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// The caller's read timeout: return `Error::Timeout`, the connection stays usable.
    Read,
    /// Silence for the keepalive interval: send a ping.
    Ping,
    /// Silence through a ping and its timeout: close TCP.
    Dead,
    /// The closing handshake took too long: close TCP.
    Close,
    /// Nothing to do but look again (see [`Timeouts::next`]).
    Watch,
}

/// The reader's record of what happened when.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// The last time bytes arrived (or the connection opened).
    pub last_heard: Instant,
    /// When the keepalive ping went out, if one is unanswered.
    pub ping_sent: Option<Instant>,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            last_heard: Instant::now(),
            ping_sent: None,
        }
    }

    /// Bytes arrived: the server is alive.
    pub(crate) fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.ping_sent = None;
    }
}

impl Timeouts {
    /// The nearest deadline and what it calls for.
    ///
    /// `recv_started`: when the current `recv` began; `closing_since`: when the first close
    /// frame was sent or received; `open`: whether the session is still open (no keepalive
    /// pings once closing: the close timeout bounds that state).
    pub(crate) fn next(
        &self,
        clock: &Clock,
        recv_started: Instant,
        closing_since: Option<Instant>,
        open: bool,
    ) -> Option<(Instant, Due)> {
        let read = self.read.map(|t| (recv_started + t, Due::Read));
        let close = match (closing_since, self.close) {
            (Some(since), Some(t)) => Some((since + t, Due::Close)),
            _ => None,
        };
        let keepalive = match (open, self.keepalive, clock.ping_sent) {
            (true, Some(_), Some(sent)) => Some((sent + self.keepalive_timeout, Due::Dead)),
            (true, Some(idle), None) => Some((clock.last_heard + idle, Due::Ping)),
            _ => None,
        };
        // After a split, the writer's thread may send a close while the reader is blocked
        // in a read it began before: wake up now and then to start the close timeout's
        // clock, late by at most a quarter of it.
        let now = Instant::now();
        let watch = match (open, self.close) {
            (true, Some(t)) => Some((now + t / 4, Due::Watch)),
            _ => None,
        };
        [read, close, keepalive, watch]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts(read: Option<u64>, close: Option<u64>, keepalive: Option<u64>) -> Timeouts {
        Timeouts {
            read: read.map(Duration::from_secs),
            close: close.map(Duration::from_secs),
            keepalive: keepalive.map(Duration::from_secs),
            keepalive_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn the_nearest_deadline_wins() {
        let clock = Clock::new();
        let t0 = clock.last_heard;
        let s = |n| Duration::from_secs(n);
        assert_eq!(
            timeouts(None, None, None).next(&clock, t0, None, true),
            None
        );
        assert_eq!(
            timeouts(Some(3), None, Some(20)).next(&clock, t0, None, true),
            Some((t0 + s(3), Due::Read))
        );
        assert_eq!(
            timeouts(None, None, Some(20)).next(&clock, t0, None, true),
            Some((t0 + s(20), Due::Ping))
        );
        // While open, a close timeout means looking again every quarter of it.
        let (at, due) = timeouts(None, Some(40), Some(20))
            .next(&clock, t0, None, true)
            .unwrap();
        assert_eq!(due, Due::Watch);
        assert!(at >= t0 + s(10) && at < t0 + s(20));
        assert_eq!(
            timeouts(None, Some(10), Some(20)).next(&clock, t0, Some(t0), false),
            Some((t0 + s(10), Due::Close))
        );
        let pinged = Clock {
            last_heard: t0,
            ping_sent: Some(t0 + s(20)),
        };
        assert_eq!(
            timeouts(None, None, Some(20)).next(&pinged, t0, None, true),
            Some((t0 + s(25), Due::Dead))
        );
        // Once closing, only the close timeout bounds the wait.
        assert_eq!(
            timeouts(None, None, Some(20)).next(&pinged, t0, Some(t0), false),
            None
        );
    }
}

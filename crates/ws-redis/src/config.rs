//! The bridge's settings: where Redis is, channel names, queue size, deadlines, backoff.

use std::time::Duration;

/// The channel prefix by default: topic `news` is Redis channel `ws:news`.
pub const DEFAULT_PREFIX: &str = "ws:";
/// Messages the publish queue holds by default before [`Bridge::publish`](crate::Bridge::publish)
/// drops (and counts) the next one.
pub const DEFAULT_PUBLISH_QUEUE: usize = 4096;
/// Deadline for a TCP connect (and the connection's set-up) by default: 2 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Deadline for every write, and for every read that awaits a reply (PUBLISH, SUBSCRIBE,
/// UNSUBSCRIBE, PING), by default: 2 s.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the reader waits for a message before it looks at subscription changes and
/// the stop flag, by default: 50 ms. This bounds the delay between a first local subscriber
/// and the SUBSCRIBE reaching Redis.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// After this long with nothing received, the reader PINGs Redis to find a dead
/// connection that no RST announced, by default: 5 s.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(5);
/// The first reconnection delay by default: 100 ms (then doubled each failure).
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// The longest reconnection delay by default: 5 s.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Why a [`Config`] was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The URL does not parse, or is not `redis://HOST[:PORT][/DB]`.
    #[error("bad Redis URL {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting out of range (its name and why).
    #[error("bad setting {name}: {reason}")]
    Setting {
        /// The setting's name, as its method is called.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Settings of a [`Bridge`](crate::Bridge), built from a URL and changed by chained calls.
///
/// ```
/// use std::time::Duration;
/// let config = ws_redis::Config::new("redis://127.0.0.1:6379/")?
///     .prefix("chat:")
///     .publish_queue(1024)
///     .backoff(Duration::from_millis(50), Duration::from_secs(2));
/// assert_eq!(config.channel("room1"), "chat:room1");
/// # Ok::<(), ws_redis::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) publish_queue: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
}

impl Config {
    /// Settings for the Redis server at `url`, every other setting at its default.
    ///
    /// The URL is `redis://HOST[:PORT][/DB]` (port 6379 when left out), with an optional
    /// `USER:PASSWORD@` before the host. `rediss://` (TLS) is refused: this crate builds the
    /// `redis` crate without TLS, which would double its dependencies; put a TLS tunnel
    /// (stunnel, a service mesh) in front of Redis where the network needs one.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Url`], with the reason, for a URL without a scheme, with a scheme
    /// other than `redis://` (`rediss://` included: no TLS in this build), without a host,
    /// or that the `redis` crate's parser refuses (port, database, credentials).
    pub fn new(url: &str) -> Result<Config, ConfigError> {
        let bad = |reason: &str| ConfigError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("no scheme (redis://HOST:PORT/)"))?;
        match scheme {
            "redis" => {}
            "rediss" => {
                return Err(bad(
                    "rediss:// (TLS) is not supported by this build; use redis://",
                ));
            }
            _ => return Err(bad("the scheme must be redis://")),
        }
        let authority = rest.split('/').next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(bad("no host"));
        }
        // The redis crate's own parser has the last word (ports, databases, credentials).
        redis::Client::open(url).map_err(|e| bad(&e.to_string()))?;
        Ok(Config {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            publish_queue: DEFAULT_PUBLISH_QUEUE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            io_timeout: DEFAULT_IO_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            ping_interval: DEFAULT_PING_INTERVAL,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
        })
    }

    /// The URL given to [`Config::new`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The string put before each topic to make its Redis channel ([`DEFAULT_PREFIX`]).
    /// Processes that should share topics must use the same prefix; different prefixes keep
    /// applications on one Redis apart.
    pub fn prefix(mut self, prefix: &str) -> Config {
        self.prefix = prefix.to_owned();
        self
    }

    /// The Redis channel of `topic`: the prefix, then the topic.
    pub fn channel(&self, topic: &str) -> String {
        let mut channel = String::with_capacity(self.prefix.len() + topic.len());
        channel.push_str(&self.prefix);
        channel.push_str(topic);
        channel
    }

    /// How many messages wait for the publishing thread at most ([`DEFAULT_PUBLISH_QUEUE`]);
    /// past it, [`Bridge::publish`](crate::Bridge::publish) drops the message, counts it in
    /// [`Stats::dropped_queue_full`](crate::Stats::dropped_queue_full) and logs. At least 1.
    pub fn publish_queue(mut self, messages: usize) -> Config {
        self.publish_queue = messages;
        self
    }

    /// Deadline of a TCP connect to Redis ([`DEFAULT_CONNECT_TIMEOUT`]). Not zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = timeout;
        self
    }

    /// Deadline of every write and every awaited reply ([`DEFAULT_IO_TIMEOUT`]). Not zero.
    pub fn io_timeout(mut self, timeout: Duration) -> Config {
        self.io_timeout = timeout;
        self
    }

    /// The reader's wait for a message before it looks at subscription changes
    /// ([`DEFAULT_POLL_INTERVAL`]). Not zero.
    pub fn poll_interval(mut self, interval: Duration) -> Config {
        self.poll_interval = interval;
        self
    }

    /// Silence after which the reader PINGs Redis ([`DEFAULT_PING_INTERVAL`]). Not zero.
    pub fn ping_interval(mut self, interval: Duration) -> Config {
        self.ping_interval = interval;
        self
    }

    /// Reconnection delays: the first is `initial`, each failure doubles it up to `max`, and
    /// each delay is drawn at random between its half and itself (jitter, so that many
    /// processes do not reconnect in step). Defaults [`DEFAULT_BACKOFF_INITIAL`] and
    /// [`DEFAULT_BACKOFF_MAX`]; `initial` not zero and not above `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Config {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }

    /// Checks the settings' ranges.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let setting = |name, reason| Err(ConfigError::Setting { name, reason });
        if self.publish_queue == 0 {
            return setting("publish_queue", "must be at least 1");
        }
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("io_timeout", self.io_timeout),
            ("poll_interval", self.poll_interval),
            ("ping_interval", self.ping_interval),
            ("backoff", self.backoff_initial),
        ] {
            if value.is_zero() {
                return setting(name, "must not be zero");
            }
        }
        if self.backoff_initial > self.backoff_max {
            return setting("backoff", "initial must not exceed max");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_accepted() {
        for url in [
            "redis://127.0.0.1:6379/",
            "redis://localhost",
            "redis://:pw@[::1]:7000/2",
        ] {
            let config = Config::new(url).unwrap();
            assert_eq!(config.url(), url);
            config.validate().unwrap();
        }
    }

    #[test]
    fn urls_refused_with_a_reason() {
        for (url, reason) in [
            ("127.0.0.1:6379", "no scheme"),
            ("http://127.0.0.1/", "scheme must be redis"),
            ("rediss://127.0.0.1/", "TLS"),
            ("redis://", "no host"),
            ("redis://:6379/", "no host"),
        ] {
            match Config::new(url) {
                Err(ConfigError::Url { reason: got, .. }) => {
                    assert!(got.contains(reason), "{url}: {got}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn defaults_and_channel_names() {
        let config = Config::new("redis://h/").unwrap();
        assert_eq!(config.channel("news"), "ws:news");
        assert_eq!(config.publish_queue, DEFAULT_PUBLISH_QUEUE);
        assert_eq!(config.clone().prefix("").channel("news"), "news");
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let base = Config::new("redis://h/").unwrap();
        let zero = Duration::ZERO;
        let second = Duration::from_secs(1);
        for (config, name) in [
            (base.clone().publish_queue(0), "publish_queue"),
            (base.clone().connect_timeout(zero), "connect_timeout"),
            (base.clone().io_timeout(zero), "io_timeout"),
            (base.clone().poll_interval(zero), "poll_interval"),
            (base.clone().ping_interval(zero), "ping_interval"),
            (base.clone().backoff(zero, second), "backoff"),
            (base.clone().backoff(second * 2, second), "backoff"),
        ] {
            match config.validate() {
                Err(ConfigError::Setting { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}

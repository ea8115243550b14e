//! Settings of a stream: the protocol limits plus the timers and buffer bound that need
//! a clock or a socket, which ws-proto leaves to its driver.

use std::time::Duration;

/// Settings of a [`WebSocketStream`](crate::WebSocketStream), each with a documented
/// default.
///
/// ```
/// use std::time::Duration;
/// let mut settings = ws_tokio::Settings::default();
/// settings.ping_interval = Some(Duration::from_secs(5));
/// settings.config.max_message_size = 1 << 20;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The protocol limits (frame and message size, masking, automatic pongs, fragment
    /// delivery). Default [`ws_proto::Config::default`].
    pub config: ws_proto::Config,
    /// The most unsent output, in bytes, before sending waits: [`send`], [`feed`] and
    /// `Sink::poll_ready` wait until the socket has taken enough that less than this is
    /// queued, so a peer that never reads holds at most this plus one message.
    ///
    /// Default 128 KiB. Larger lets a fast sender queue more ahead of a slow link; smaller
    /// bounds memory per connection more tightly.
    ///
    /// [`send`]: crate::WebSocketStream::send
    /// [`feed`]: crate::WebSocketStream::feed
    pub write_buffer_limit: usize,
    /// Keepalive: after this long without receiving anything, a ping is sent. `None`
    /// turns keepalive off.
    ///
    /// Default 20 s, as python-websockets. The timer runs while the stream (or its read
    /// half) is being polled for messages, which is what an application receiving from
    /// a connection does anyway.
    pub ping_interval: Option<Duration>,
    /// Keepalive: after a ping, how long the peer may stay silent (no pong, nor anything
    /// else) before the connection is closed with 1011 and dropped
    /// ([`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout)).
    ///
    /// Default 20 s, as python-websockets.
    pub pong_timeout: Duration,
    /// How long the closing handshake may take once started: waiting for the peer's
    /// close frame after ours, flushing our answer, and (for a client) waiting for the
    /// server to close TCP (RFC 6455 7.1.1). Past it the connection is dropped.
    ///
    /// Default 10 s, as python-websockets.
    pub close_timeout: Duration,
    /// The most bytes of large messages' storage each thread keeps for reuse
    /// ([`recycled_bytes`](crate::recycled_bytes) tells how much it holds).
    ///
    /// A binary or text message of 64 KiB or more arrives in storage of its own, which
    /// new storage must be zero-filled for first; once such a message was sent (an
    /// echo) and nothing else holds its `Bytes`, its storage is kept in the thread's
    /// pool, and the next large message is read into it without clearing it again. Kept
    /// storage is lent to whichever connection reads next and comes back when it goes
    /// idle, even partway through a frame or a handshake request (its bytes move to a
    /// buffer of their own, unless a large payload is being gathered there in place);
    /// storage that would take the pool past this bound is freed, and a message
    /// much smaller than the storage it landed in gives the rest back at once. The bound
    /// applies when a stream gives storage back, with that stream's setting.
    ///
    /// Default 4 MiB (three 1 MiB messages' storage). 0 turns recycling off.
    pub recycle_limit: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            config: ws_proto::Config::default(),
            write_buffer_limit: 128 * 1024,
            ping_interval: Some(Duration::from_secs(20)),
            pong_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(10),
            recycle_limit: 4 << 20,
        }
    }
}

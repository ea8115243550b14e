//! The server's settings, each with its default and why.

use std::time::Duration;

use crate::balance::Balance;

/// Every setting of a server: timeouts, limits, socket options, protocol options.
///
/// Each field's default is stated once, here; the [`Builder`](crate::Builder)'s setters
/// set these fields (and [`Builder::config`](crate::Builder::config) replaces them all).
/// Fields may be added in later versions, so start from `Config::default()`:
///
/// ```
/// use std::time::Duration;
/// use ws_server_blocking::{Config, Server};
///
/// let mut config = Config::default();
/// config.close_timeout = Duration::from_secs(2);
/// config.max_connections = 10_000;
/// let builder = Server::builder().config(config);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Perl's `silence_max`: every `silence_max / 2`, a connection that received nothing
    /// since the last check is pinged. Default 20 s; zero disables pings and the silence
    /// timeout.
    pub silence_max: Duration,
    /// How long after the first unanswered ping a silent peer is dropped. Default 20 s
    /// (equal to `silence_max`; [`Builder::silence_max`](crate::Builder::silence_max) keeps
    /// them equal); `None` keeps silent peers for ever (as the Perl module does).
    pub silence_timeout: Option<Duration>,
    /// Perl's `tick_period`: how often `on_tick` runs. Default zero: never.
    pub tick_period: Duration,
    /// How long a client has to complete its (TLS and) WebSocket handshake, from accept.
    /// Default 10 s; a client that connects and sends nothing, or a byte a second, is
    /// dropped then.
    pub handshake_timeout: Duration,
    /// How long to wait for the peer's part of a closing handshake, for it to read what
    /// it is owed once either side closed (or after its FIN), and for its end of the TCP
    /// connection, before dropping it; also how long a shutdown waits. Default 5 s.
    pub close_timeout: Duration,
    /// Connections accepted at once (per worker loop); more are answered with 503 and
    /// closed. Default 50,000 (the process's open-file limit also applies). With
    /// [`Balance::LeastConnections`] (the default), a worker at it hands a new connection
    /// to a worker under it, so one is refused only when every worker is full.
    pub max_connections: usize,
    /// Unsent bytes a connection may have queued when another message is sent to it; past
    /// this the peer is taken to have stopped reading and is dropped. Default 8 MiB, so a
    /// client that stops reading costs the server at most that plus one message.
    pub max_pending_output: usize,
    /// A connection with more unsent output than this is not read from until it drains
    /// to half of it, so a peer that sends faster than it reads is slowed by TCP's flow
    /// control. Default 1 MiB.
    pub read_pause: usize,
    /// Perl's `max_send_size`: the largest message a connection sends, in bytes. Default
    /// 64 MiB, the largest message it accepts, so an echo never fails.
    pub max_send_size: usize,
    /// Whether TCP_NODELAY is set on accepted sockets. Default on: WebSocket messages are
    /// small and latency-sensitive, and the server already writes each batch at once.
    pub nodelay: bool,
    /// After a poll that reported events, how long a worker loop keeps polling without
    /// waiting (`epoll_wait` with no timeout) before it sleeps in the poller; never past
    /// its next timer. Default zero: sleep at once. A peer that answers within it
    /// (a client's next request, a load generator's next connection) finds the loop
    /// awake instead of paying to wake it (a cross-CPU wakeup, in a virtual machine an
    /// interrupt to a halted vCPU): on the 2-core machine that was 2.7 µs of the client's
    /// CPU per connection (benches/README.md, "Where a handshake's time goes, part 2").
    /// It costs at most this much CPU per burst of activity, and nothing while idle, but
    /// that CPU is the server's: there the server's own CPU per connection rose 2.6 µs
    /// (15%) to save the client 3.2 µs, and a loop that is never idle gains nothing. So
    /// it is off by default, for latency-sensitive deployments to turn on (10 µs is a
    /// good start).
    /// [`Builder::spin_before_wait`](crate::Builder::spin_before_wait) caps it at
    /// [`MAX_SPIN_BEFORE_WAIT`].
    pub spin_before_wait: Duration,
    /// Protocol settings of each connection: the largest frame (default 16 MiB) and
    /// message (default 64 MiB) accepted, and ws-proto's other options (its defaults).
    pub session: ws_proto::Config,
    /// Limits on the handshake request: 8 KiB of header block and 64 header fields by
    /// default; past either, 431.
    pub handshake_limits: ws_proto::handshake::Limits,
    /// permessage-deflate (RFC 7692), when a client offers it. Default `None` (declined):
    /// compression costs CPU, and about 330 KiB per connection that sends compressed
    /// messages with context takeover (see [`Builder::deflate`](crate::Builder::deflate)).
    pub deflate: Option<ws_proto::DeflateConfig>,
    /// How many jobs each worker loop's queue holds ([`Handle::post`](crate::Handle::post),
    /// topic messages from other workers and from the broker) before posting fails with
    /// [`PostError::Full`](crate::PostError::Full) (or a topic message is dropped and
    /// counted). Default 16,384. The queue's slots are allocated and written when the
    /// loop is made (std's bounded channel): each further worker of `ws-server` holds
    /// about 0.8 MiB at this default, against 3.1 MiB at 65,536 (resident memory, 8
    /// workers against 1), for a queue that is nearly always empty. A loop
    /// drains its whole queue on each turn, so the cap only matters when it falls that
    /// many jobs behind.
    pub queue_capacity: usize,
    /// How many worker loops serve connections, each on its own thread, each accepting
    /// on the same port (see [`Builder::workers`](crate::Builder::workers)). Default 1:
    /// the loop runs on the thread that calls `start`, as in the Perl module.
    pub workers: usize,
    /// How new connections are spread over the workers: by default a worker that accepts
    /// a connection while it holds more than the least-loaded worker hands it to that one,
    /// so that few connections still use every worker; see [`Balance`] for the trade-off
    /// and [`Balance::Kernel`] to keep the kernel's spread. Default
    /// `Balance::LeastConnections { slack: 0 }`.
    pub balance: Balance,
    /// Whether each connection must start with a PROXY protocol header (v1 or v2, as
    /// HAProxy's `send-proxy-v2` or nginx's `proxy_protocol on` write), and the decoder
    /// that reads it (its cap on v2 headers). Default `None`: off. When set,
    /// [`Connection::ip`](crate::Connection::ip) and `port` report the client's address
    /// from the header, and a connection without a valid header is closed (and logged)
    /// before any answer; the header is due within `handshake_timeout`. Only for
    /// listeners that only the load balancer reaches: the header is trusted.
    pub proxy_protocol: Option<ws_transport::proxy_protocol::ProxyHeaderParser>,
}

/// The largest [`Config::spin_before_wait`] a [`Builder`](crate::Builder) sets: 1 ms.
pub const MAX_SPIN_BEFORE_WAIT: Duration = Duration::from_millis(1);

impl Default for Config {
    fn default() -> Config {
        Config {
            silence_max: Duration::from_secs(20),
            silence_timeout: Some(Duration::from_secs(20)),
            tick_period: Duration::ZERO,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            max_connections: 50_000,
            max_pending_output: 8 << 20,
            read_pause: 1 << 20,
            max_send_size: 64 << 20,
            nodelay: true,
            spin_before_wait: Duration::ZERO,
            session: ws_proto::Config::default(),
            handshake_limits: ws_proto::handshake::Limits::default(),
            deflate: None,
            queue_capacity: 16_384,
            workers: 1,
            balance: Balance::default(),
            proxy_protocol: None,
        }
    }
}

//! Configuring and starting a server (Perl's `Net::WebSocket::Server->new(...)->start`).

use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Interest, Poll, Waker};

use crate::balance::Balance;
use crate::broker::Broker;
use crate::config::Config;
use crate::error::Error;
use crate::event_loop::{EventLoop, LISTENER, WAKER};
use crate::handler::HandlerResult;
use crate::http::{HttpRequest, HttpResponse};
use crate::listen::{Listen, bind_listeners};
use crate::server::connection::Connection;
use crate::server::hub::{Handle, Hub, Inbound, Job, ShutdownOnPanic, StopBrokerOnDrop};
use crate::server::{ConnectFn, HttpHook, Server, ServerFn, WatchFn};
use crate::transport::TlsConfig;
use crate::watch::Direction;
use crate::worker::Worker;

impl Server {
    /// Starts building a server (Perl's `Net::WebSocket::Server->new`).
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// A server being configured; [`start`](Self::start) runs it.
#[must_use = "a Builder does nothing until start() or bind()"]
pub struct Builder {
    listen: Listen,
    tls: Option<TlsConfig>,
    config: Config,
    on_connect: Option<ConnectFn>,
    on_tick: Option<ServerFn>,
    on_shutdown: Option<ServerFn>,
    watches: Vec<(RawFd, Direction, WatchFn)>,
    http_hook: Option<HttpHook>,
    broker: Option<MakeBroker>,
    setup: Option<Setup>,
}

type MakeBroker = Box<dyn FnOnce(Inbound) -> Box<dyn Broker>>;

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            listen: Listen::Port(80),
            tls: None,
            config: Config::default(),
            on_connect: None,
            on_tick: None,
            on_shutdown: None,
            watches: Vec::new(),
            http_hook: None,
            broker: None,
            setup: None,
        }
    }
}

impl Builder {
    /// Replaces every setting at once; the setters below change one field of it.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Where to listen. Default: port 80 on every IPv4 interface, as in Perl.
    pub fn listen(mut self, listen: impl Into<Listen>) -> Self {
        self.listen = listen.into();
        self
    }

    /// Serves `wss://`: the TLS handshake runs inside the loop, so a client that stalls
    /// in it never holds up the others. See [`tls::config_from_pem`](crate::tls::config_from_pem).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Every `silence_max / 2`, connections that sent nothing since the last check are
    /// pinged (Perl's `silence_max`). Sets [`Config::silence_max`] (and [`Config::silence_timeout`], unless `None`, to the
    /// same); zero disables pings and the timeout.
    pub fn silence_max(mut self, silence_max: Duration) -> Self {
        self.config.silence_max = silence_max;
        self.config.silence_timeout = self.config.silence_timeout.map(|_| silence_max);
        self
    }

    /// How long a pinged connection may stay silent before it is dropped; `None` keeps
    /// it forever, as the Perl module does. Sets [`Config::silence_timeout`].
    pub fn silence_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.silence_timeout = timeout;
        self
    }

    /// How often `on_tick` runs (Perl's `tick_period`). Sets [`Config::tick_period`].
    pub fn tick_period(mut self, period: Duration) -> Self {
        self.config.tick_period = period;
        self
    }

    /// How long a client has to finish its handshake (TLS included). Sets
    /// [`Config::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// How long to wait for the peer's side of a closing handshake, for it to read the
    /// bytes it is owed once either side closed or it sent its FIN, and for its end of
    /// the TCP connection; past it the connection is dropped. Also how long a shutdown
    /// waits for every client's close before `start` returns. Sets [`Config::close_timeout`].
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// How long a worker loop keeps polling without waiting after a poll that reported
    /// events, before it sleeps (default zero: at once; at most
    /// [`MAX_SPIN_BEFORE_WAIT`](crate::MAX_SPIN_BEFORE_WAIT), 1 ms, longer is
    /// capped). Sets [`Config::spin_before_wait`].
    pub fn spin_before_wait(mut self, spin: Duration) -> Self {
        self.config.spin_before_wait = spin.min(crate::MAX_SPIN_BEFORE_WAIT);
        self
    }

    /// How many connections may be open at once in each worker loop; more get 503. Sets
    /// [`Config::max_connections`].
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max;
        self
    }

    /// How many unsent bytes a connection may have queued when a message is sent to it
    /// before it is dropped as not reading. Sets [`Config::max_pending_output`].
    pub fn max_pending_output(mut self, max: usize) -> Self {
        self.config.max_pending_output = max;
        self
    }

    /// How much unsent output a connection may have before the server stops reading from
    /// it (until the output drains to half): a peer that sends requests faster than it
    /// reads the answers is slowed down by TCP's flow control rather than growing the
    /// server's memory. Sets [`Config::read_pause`].
    pub fn read_pause(mut self, bytes: usize) -> Self {
        self.config.read_pause = bytes;
        self
    }

    /// The largest message a connection sends (Perl's `max_send_size`). Sets
    /// [`Config::max_send_size`].
    pub fn max_send_size(mut self, max: usize) -> Self {
        self.config.max_send_size = max;
        self
    }

    /// The largest message a connection accepts, reassembled (Perl's `max_recv_size`);
    /// larger ones are answered with 1009. Sets the
    /// `max_message_size` of [`Config::session`] (and lowers its `max_frame_size` to it).
    pub fn max_recv_size(mut self, max: usize) -> Self {
        self.config.session.max_message_size = max;
        self.config.session.max_frame_size = self.config.session.max_frame_size.min(max);
        self
    }

    /// The largest frame a connection accepts; larger ones are answered with 1009.
    /// Sets the `max_frame_size` of [`Config::session`].
    pub fn max_frame_size(mut self, max: usize) -> Self {
        self.config.session.max_frame_size = max;
        self
    }

    /// Whether accepted sockets get TCP_NODELAY. Sets [`Config::nodelay`].
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.config.nodelay = nodelay;
        self
    }

    /// The protocol settings of every connection (limits, unmasked frames, pongs,
    /// frame-by-frame delivery).
    pub fn session_config(mut self, config: ws_proto::Config) -> Self {
        self.config.session = config;
        self
    }

    /// Accepts permessage-deflate (RFC 7692) from clients that offer it, with these
    /// settings; `None` (the default) declines it.
    ///
    /// Off by default because it is a trade: it saves bandwidth on text that compresses
    /// well (JSON-like text to a fifth of its size), at the cost of CPU, and of memory per
    /// connection that sends compressed messages: about 310 KiB for the compressor and 20
    /// to 40 KiB for the decompressor with context takeover (the default), kept for the
    /// life of the connection. With `server_no_context_takeover` the compressor is freed
    /// after each message (measured: 1 KiB per connection after a compressed exchange with
    /// no context takeover either way, against 332 KiB with it). Idle
    /// connections and connections that never compress pay nothing. Each connection's
    /// `on_handshake` callback may still decline it with
    /// [`Handshake::decline_deflate`](crate::Handshake::decline_deflate).
    ///
    /// ```no_run
    /// use ws_server_blocking::{DeflateConfig, Server};
    /// let builder = Server::builder().deflate(Some(DeflateConfig::default()));
    /// ```
    pub fn deflate(mut self, config: Option<ws_proto::DeflateConfig>) -> Self {
        self.config.deflate = config;
        self
    }

    /// Limits on the handshake request: the size of the header block (default 8 KiB)
    /// and the number of fields (default 64); past either the request gets 431.
    pub fn handshake_limits(mut self, limits: ws_proto::handshake::Limits) -> Self {
        self.config.handshake_limits = limits;
        self
    }

    /// Called for each new connection, before its handshake: register the connection's
    /// callbacks here (Perl's `on_connect`).
    pub fn on_connect<R: HandlerResult>(
        mut self,
        mut f: impl FnMut(&Server, Connection<'_>) -> R + 'static,
    ) -> Self {
        self.on_connect = Some(Box::new(move |s, c| f(s, c).into_result()));
        self
    }

    /// Called every `tick_period` (Perl's `on_tick`).
    pub fn on_tick<R: HandlerResult>(mut self, mut f: impl FnMut(&Server) -> R + 'static) -> Self {
        self.on_tick = Some(Box::new(move |s| f(s).into_result()));
        self
    }

    /// Called once when shutdown begins, while every connection is still there (Perl's
    /// `on_shutdown`).
    pub fn on_shutdown<R: HandlerResult>(
        mut self,
        mut f: impl FnMut(&Server) -> R + 'static,
    ) -> Self {
        self.on_shutdown = Some(Box::new(move |s| f(s).into_result()));
        self
    }

    /// Watches a file descriptor for readability from the start (Perl's
    /// `watch_readable` option); see [`Server::watch_readable`].
    pub fn watch_readable<R: HandlerResult>(
        mut self,
        fd: impl AsRawFd,
        mut f: impl FnMut(&Server, RawFd) -> R + 'static,
    ) -> Self {
        self.watches.push((
            fd.as_raw_fd(),
            Direction::Readable,
            Box::new(move |s, fd| f(s, fd).into_result()),
        ));
        self
    }

    /// Watches a file descriptor for writability from the start (Perl's
    /// `watch_writable` option).
    pub fn watch_writable<R: HandlerResult>(
        mut self,
        fd: impl AsRawFd,
        mut f: impl FnMut(&Server, RawFd) -> R + 'static,
    ) -> Self {
        self.watches.push((
            fd.as_raw_fd(),
            Direction::Writable,
            Box::new(move |s, fd| f(s, fd).into_result()),
        ));
        self
    }

    /// How many jobs each loop's queue holds before [`Handle::post`] fails with
    /// [`PostError::Full`](crate::PostError::Full). Sets [`Config::queue_capacity`]
    /// (at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity.max(1);
        self
    }

    /// Expects a PROXY protocol header (HAProxy's proxy-protocol.txt, v1 or v2) at the
    /// start of every connection, as a load balancer with `send-proxy-v2` (HAProxy) or
    /// `proxy_protocol on` (nginx's stream module) writes it: `true` sets
    /// [`Config::proxy_protocol`] to the default decoder (v2 headers up to 2048 bytes),
    /// `false` (the default) turns it off.
    ///
    /// With it, [`Connection::ip`](crate::Connection::ip), `port` and `peer_addr`
    /// report the client's address from the header (the load balancer's own for its
    /// `LOCAL` health checks), `on_connect` runs once the header is in, and a connection
    /// that does not start with a valid header (a client that reached the server
    /// directly, garbage) is closed without an answer and logged. The header counts
    /// against the handshake timeout. Turn it on only where nothing but the load
    /// balancer can connect: anyone else could claim any address.
    pub fn proxy_protocol(mut self, on: bool) -> Self {
        self.config.proxy_protocol = on.then(ws_transport::proxy_protocol::ProxyHeaderParser::new);
        self
    }

    /// The HTTP hook, as python-websockets' `process_request`: called with the head of
    /// every request before the WebSocket checks (an upgrade or any other request).
    /// Returning `Some` answers the request with that plain HTTP response and closes the
    /// connection; `None` lets the handshake go on (a request that is not an upgrade then
    /// gets 426 Upgrade Required, as without a hook).
    ///
    /// It runs on the thread of the worker loop that serves the connection (so it must
    /// be `Send + Sync`: one hook serves every worker), after `on_connect` and before the
    /// connection's `on_handshake`. The connection's `disconnect` callback then runs with
    /// 1006, as for a refused handshake.
    ///
    /// The answer is held in memory whole and must be written within
    /// [`close_timeout`](Self::close_timeout) (default 5 s): a peer that has not taken it
    /// all by then is dropped, whatever the size. It suits health checks, redirects and
    /// small pages; serve large files from a web server in front. Bytes the peer sends
    /// after its request are read and dropped meanwhile. A hook that panics ends its
    /// worker's loop, and the server with it (see [`Listening::start`]).
    ///
    /// ```no_run
    /// use ws_server_blocking::{HttpResponse, Server};
    /// Server::builder().http_hook(|_server, request| match request.path() {
    ///     "/healthz" => Some(HttpResponse::new(200).body("ok\n")),
    ///     "/" if !request.is_upgrade() => Some(
    ///         HttpResponse::new(200)
    ///             .header("Content-Type", "text/html; charset=utf-8")
    ///             .body("<!doctype html><p>hello</p>"),
    ///     ),
    ///     _ => None, // the WebSocket handshake goes on
    /// });
    /// ```
    pub fn http_hook(
        mut self,
        hook: impl Fn(&Server, &HttpRequest) -> Option<HttpResponse> + Send + Sync + 'static,
    ) -> Self {
        self.http_hook = Some(Arc::new(hook));
        self
    }

    /// Installs a [`Broker`] that carries topic messages between processes. `make` runs
    /// once, in [`bind`](Self::bind), with the [`Inbound`] through which the broker
    /// delivers what other processes publish; see [`Broker`] for what it must do.
    pub fn broker<B: Broker + 'static>(
        mut self,
        make: impl FnOnce(Inbound) -> B + 'static,
    ) -> Self {
        self.broker = Some(Box::new(move |inbound| Box::new(make(inbound))));
        self
    }

    /// Runs `n` worker loops (at least 1), each on its own thread, each accepting on the
    /// same port (with `SO_REUSEPORT`), and handing a connection it accepts to a worker
    /// with fewer connections when it holds more (see [`balance`](Self::balance)). Sets
    /// [`Config::workers`].
    ///
    /// With more than one worker, callbacks come from [`worker_setup`](Self::worker_setup),
    /// which builds each worker's own: the Builder's `on_connect`, `on_tick`,
    /// `on_shutdown` and `watch_*` are not `Send` and would run on one thread only, so
    /// `bind` refuses them ([`Error::Config`]). The HTTP hook is shared by all workers.
    ///
    /// Worker 0 runs on the thread that calls [`start`](Listening::start); the others on
    /// threads named `ws-worker-N`. Each callback runs on the thread of the worker that
    /// serves its connection ([`Connection::server`](crate::Connection::server)`.worker()`
    /// tells which; [`Handle::connections_per_worker`] counts them). [`Server::connections`] and the broadcasts see the
    /// worker's own connections; [`Server::publish`] reaches every worker's subscribers;
    /// `max_connections` applies to each worker.
    ///
    /// ```no_run
    /// use ws_server_blocking::Server;
    /// Server::builder()
    ///     .listen("0.0.0.0:8080")
    ///     .workers(4)
    ///     .worker_setup(|worker| {
    ///         worker.on_connect(|_server, conn| {
    ///             conn.subscribe("news");
    ///             conn.on_utf8(|conn, msg| {
    ///                 conn.server().publish_utf8("news", msg);
    ///             });
    ///         });
    ///     })
    ///     .start()?;
    /// # Ok::<(), ws_server_blocking::Error>(())
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n.max(1);
        self
    }

    /// How new connections are spread over the workers. Sets [`Config::balance`], which
    /// gives the default; [`Balance`] says what each choice costs.
    pub fn balance(mut self, balance: Balance) -> Self {
        self.config.balance = balance;
        self
    }

    /// Builds each worker's callbacks: `setup` runs once per worker loop, on that
    /// worker's thread, before it accepts anything (for worker 0, in
    /// [`bind`](Self::bind)). See [`workers`](Self::workers).
    pub fn worker_setup(mut self, setup: impl Fn(&mut Worker) + Send + Sync + 'static) -> Self {
        self.setup = Some(Arc::new(setup));
        self
    }

    /// Binds the listener(s) and prepares the loops without starting them, so that the
    /// bound address and a handle can be read first.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for callbacks set on the `Builder` (`on_connect`, `on_tick`,
    /// `on_shutdown`, watches) with more than one worker (set them in
    /// [`worker_setup`](Self::worker_setup)); [`Error::Bind`], with the address, when the
    /// address cannot be bound (in use, permission denied, a host name that does not resolve);
    /// [`Error::Io`] when the poller, its waker or a watched descriptor cannot be registered, or
    /// a listener given with `listen` cannot be made non-blocking or shared.
    pub fn bind(self) -> Result<Listening, Error> {
        let workers = self.config.workers.max(1);
        let builder_callbacks = self.on_connect.is_some()
            || self.on_tick.is_some()
            || self.on_shutdown.is_some()
            || !self.watches.is_empty();
        if workers > 1 && builder_callbacks {
            return Err(Error::Config(format!(
                "with {workers} workers, set on_connect, on_tick, on_shutdown and watches in \
                 worker_setup (those set on the Builder would run on one thread only)"
            )));
        }
        let listeners = bind_listeners(self.listen, workers)?;
        let local_addr = listeners[0].local_addr()?;
        let mut polls = Vec::new();
        let mut wakers = Vec::new();
        for listener in &listeners {
            let poll = Poll::new()?;
            poll.registry().register(
                &mut SourceFd(&listener.as_raw_fd()),
                LISTENER,
                Interest::READABLE,
            )?;
            wakers.push(Waker::new(poll.registry(), WAKER)?);
            polls.push(poll);
        }
        let (hub, receivers) = Hub::new(
            wakers,
            self.config.queue_capacity.max(1),
            self.config.balance,
            self.config.max_connections,
        );
        if let Some(make) = self.broker {
            hub.set_broker(make(Inbound { hub: hub.clone() }));
        }
        let broker_stop = StopBrokerOnDrop(hub.clone());
        let mut seeds: Vec<Seed> = polls
            .into_iter()
            .zip(listeners)
            .zip(receivers)
            .enumerate()
            .map(|(index, ((poll, listener), jobs))| Seed {
                index,
                poll,
                listener,
                jobs,
                config: self.config.clone(),
                tls: self.tls.clone(),
                hub: hub.clone(),
                http_hook: self.http_hook.clone(),
                local_addr,
            })
            .collect();
        let first = seeds.remove(0);
        let mut server = first.server()?;
        server.on_connect.replace(self.on_connect);
        server.on_tick.replace(self.on_tick);
        server.on_shutdown.replace(self.on_shutdown);
        for (fd, direction, callback) in self.watches {
            let registry = &server.registry;
            let watchers: &RefCell<_> = &server.watchers;
            watchers
                .borrow_mut()
                .watch(registry, fd, direction, callback)?;
        }
        if let Some(setup) = &self.setup {
            let mut worker = Worker::new(0, workers);
            setup(&mut worker);
            worker.install(&mut server);
        }
        Ok(Listening {
            event_loop: first.into_loop(server),
            seeds,
            setup: self.setup,
            hub,
            broker_stop,
        })
    }

    /// Binds and runs the server until it is shut down (Perl's `start`).
    ///
    /// # Errors
    ///
    /// As [`bind`](Self::bind), then as [`Listening::start`].
    pub fn start(self) -> Result<(), Error> {
        self.bind()?.start()
    }
}

type Setup = Arc<dyn Fn(&mut Worker) + Send + Sync>;

/// What a worker loop is made of before its thread starts (everything here is `Send`;
/// its `Server`, holding callbacks that need not be, is made on the thread).
struct Seed {
    index: usize,
    poll: Poll,
    listener: TcpListener,
    jobs: Receiver<Job>,
    config: Config,
    tls: Option<TlsConfig>,
    hub: Arc<Hub>,
    http_hook: Option<HttpHook>,
    local_addr: SocketAddr,
}

impl Seed {
    fn server(&self) -> Result<Server, Error> {
        let mut server = Server::new(
            self.config.clone(),
            self.poll.registry().try_clone()?,
            self.local_addr,
            self.hub.clone(),
            self.index,
        );
        server.http_hook = self.http_hook.clone();
        Ok(server)
    }

    fn into_loop(self, server: Server) -> EventLoop {
        EventLoop::new(self.poll, server, self.listener, self.tls, self.jobs)
    }

    /// Makes the worker's server on this thread, runs the setup, runs the loop.
    fn run(self, setup: Option<Setup>) -> Result<(), Error> {
        let mut server = self.server()?;
        if let Some(setup) = setup {
            let mut worker = Worker::new(self.index, self.hub.workers());
            setup(&mut worker);
            worker.install(&mut server);
        }
        self.into_loop(server).run()
    }
}

/// A bound server, not yet running.
pub struct Listening {
    event_loop: EventLoop,
    seeds: Vec<Seed>,
    setup: Option<Setup>,
    hub: Arc<Hub>,
    /// Stops the broker when dropped: at the end of `start`, or with a server never started.
    broker_stop: StopBrokerOnDrop,
}

impl Listening {
    /// The bound address (useful after listening on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.event_loop.server.local_addr()
    }

    /// A handle into the server from any thread: post work (to worker 0), publish, shut
    /// down; see [`Handle::for_worker`] for the other workers.
    pub fn handle(&self) -> Handle {
        self.event_loop.server.handle()
    }

    /// A handle that shuts the server down from another thread; the same as
    /// [`handle`](Self::handle), kept under its old name.
    pub fn shutdown_handle(&self) -> Handle {
        self.handle()
    }

    /// Runs the server until it is shut down: worker 0 on this thread, the others on
    /// threads of their own; returns once every worker has stopped, with the first
    /// error any of them met (a worker that fails shuts the others down).
    ///
    /// A callback (the HTTP hook, a job posted through a [`Handle`], any connection
    /// callback) that panics ends the loop it runs on, with its connections dropped
    /// without a close frame; the other workers then shut down as
    /// [`Handle::shutdown`] does, and `start` returns `Err` (another worker's panic) or
    /// goes on with the panic (worker 0's, which runs on this thread) once they all
    /// stopped. Callbacks that can fail should return `Err` instead (logged, the
    /// connection closed with 1011) or catch their own panics.
    ///
    /// Once every worker has stopped, and before `start` returns (or its panic goes on),
    /// the broker, if one was installed, is told the server is done
    /// ([`Broker::stop`](crate::Broker::stop)); dropping a `Listening` that was never
    /// started does the same.
    ///
    /// # Errors
    ///
    /// The first error a worker loop met, the others being shut down then: [`Error::Io`]
    /// when polling fails, or when a worker's poller cannot be shared with its thread as
    /// it starts; [`Error::Config`] when a worker thread other than this one panicked. A
    /// worker thread that cannot be started is logged and the server shut down.
    pub fn start(self) -> Result<(), Error> {
        // Dropped on every way out of here, after the workers are joined: the broker is
        // told the server is done (Broker::stop).
        let _broker_stop = self.broker_stop;
        let mut threads = Vec::new();
        for seed in self.seeds {
            let setup = self.setup.clone();
            let hub = self.hub.clone();
            let index = seed.index;
            let spawned = std::thread::Builder::new()
                .name(format!("ws-worker-{index}"))
                .spawn(move || {
                    let _unwinding = ShutdownOnPanic(hub.clone());
                    let result = seed.run(setup);
                    if let Err(err) = &result {
                        log::error!("worker {index} stopped: {err}; shutting down");
                        hub.request_shutdown();
                    }
                    result
                });
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(err) => {
                    self.hub.request_shutdown();
                    log::error!("cannot start worker {index}: {err}");
                }
            }
        }
        // A callback that panics on this thread ends worker 0's loop: the others are shut
        // down and joined before the panic goes on to the caller.
        let event_loop = self.event_loop;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || event_loop.run()));
        if !matches!(run, Ok(Ok(()))) {
            self.hub.request_shutdown();
        }
        let mut joined = Ok(());
        for thread in threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(Error::Config("a worker thread panicked".to_owned())));
            if joined.is_ok() {
                joined = outcome;
            }
        }
        match run {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(Err(err)) => Err(err),
            Ok(Ok(())) => joined,
        }
    }
}

/// The callbacks are shown only as present or not; TLS as on or off.
impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("listen", &self.listen)
            .field("tls", &self.tls.is_some())
            .field("config", &self.config)
            .field("on_connect", &self.on_connect.is_some())
            .field("on_tick", &self.on_tick.is_some())
            .field("on_shutdown", &self.on_shutdown.is_some())
            .field("watches", &self.watches.len())
            .field("http_hook", &self.http_hook.is_some())
            .field("broker", &self.broker.is_some())
            .field("setup", &self.setup.is_some())
            .finish()
    }
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

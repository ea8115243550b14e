//! Configuring and starting a server (Perl's `Net::WebSocket::Server->new(...)->start`).

use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Interest, Poll, Waker};

use crate::connection::Connection;
use crate::error::Error;
use crate::event_loop::{EventLoop, LISTENER, WAKER};
use crate::handler::{ConnectFn, HandlerResult, ServerFn, WatchFn};
use crate::server::{Server, ShutdownHandle};
use crate::settings::Settings;
use crate::transport::TlsConfig;
use crate::watch::Direction;

/// Where to listen (Perl's `listen`): a port on every IPv4 interface, an address (IPv4
/// or IPv6), a `host:port` string, or a listener you bound yourself.
#[derive(Debug)]
pub enum Listen {
    /// A port on 0.0.0.0.
    Port(u16),
    /// An address, such as `127.0.0.1:8080` or `[::1]:8080`.
    Addr(SocketAddr),
    /// A `host:port` string, resolved when binding.
    Host(String),
    /// A listener bound (and configured) by the caller.
    Listener(TcpListener),
}

impl From<u16> for Listen {
    fn from(port: u16) -> Listen {
        Listen::Port(port)
    }
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Listen {
        Listen::Addr(addr)
    }
}

impl From<&str> for Listen {
    fn from(host: &str) -> Listen {
        Listen::Host(host.to_owned())
    }
}

impl From<String> for Listen {
    fn from(host: String) -> Listen {
        Listen::Host(host)
    }
}

impl From<TcpListener> for Listen {
    fn from(listener: TcpListener) -> Listen {
        Listen::Listener(listener)
    }
}

/// A server being configured; [`start`](Self::start) runs it.
#[must_use = "a Builder does nothing until start() or bind()"]
pub struct Builder {
    listen: Listen,
    tls: Option<TlsConfig>,
    settings: Settings,
    on_connect: Option<ConnectFn>,
    on_tick: Option<ServerFn>,
    on_shutdown: Option<ServerFn>,
    watches: Vec<(RawFd, Direction, WatchFn)>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            listen: Listen::Port(80),
            tls: None,
            settings: Settings::default(),
            on_connect: None,
            on_tick: None,
            on_shutdown: None,
            watches: Vec::new(),
        }
    }
}

impl Builder {
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
    /// pinged (Perl's `silence_max`). Default 20 s; zero disables pings and the timeout.
    pub fn silence_max(mut self, silence_max: Duration) -> Self {
        self.settings.silence_max = silence_max;
        self.settings.silence_timeout = self.settings.silence_timeout.map(|_| silence_max);
        self
    }

    /// How long a pinged connection may stay silent before it is dropped; `None` keeps
    /// it forever, as the Perl module does. Default: `silence_max`.
    pub fn silence_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.silence_timeout = timeout;
        self
    }

    /// How often `on_tick` runs (Perl's `tick_period`). Default zero: never.
    pub fn tick_period(mut self, period: Duration) -> Self {
        self.settings.tick_period = period;
        self
    }

    /// How long a client has to finish its handshake (TLS included). Default 10 s.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.settings.handshake_timeout = timeout;
        self
    }

    /// How long to wait for the peer's side of a closing handshake, for it to read the
    /// bytes it is owed once either side closed or it sent its FIN, and for its end of
    /// the TCP connection; past it the connection is dropped. Also how long a shutdown
    /// waits for every client's close before `start` returns. Default 5 s.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.settings.close_timeout = timeout;
        self
    }

    /// How many connections may be open at once; more get 503. Default 50,000.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.settings.max_connections = max;
        self
    }

    /// How many unsent bytes a connection may have queued when a message is sent to it
    /// before it is dropped as not reading. Default 8 MiB.
    pub fn max_pending_output(mut self, max: usize) -> Self {
        self.settings.max_pending_output = max;
        self
    }

    /// How much unsent output a connection may have before the server stops reading from
    /// it (until the output drains to half): a peer that sends requests faster than it
    /// reads the answers is slowed down by TCP's flow control rather than growing the
    /// server's memory. Default 1 MiB.
    pub fn read_pause(mut self, bytes: usize) -> Self {
        self.settings.read_pause = bytes;
        self
    }

    /// The largest message a connection sends (Perl's `max_send_size`). Default 64 MiB.
    pub fn max_send_size(mut self, max: usize) -> Self {
        self.settings.max_send_size = max;
        self
    }

    /// The largest message a connection accepts, reassembled (Perl's `max_recv_size`);
    /// larger ones are answered with 1009. Default 64 MiB.
    pub fn max_recv_size(mut self, max: usize) -> Self {
        self.settings.session.max_message_size = max;
        self.settings.session.max_frame_size = self.settings.session.max_frame_size.min(max);
        self
    }

    /// The largest frame a connection accepts; larger ones are answered with 1009.
    /// Default 16 MiB.
    pub fn max_frame_size(mut self, max: usize) -> Self {
        self.settings.session.max_frame_size = max;
        self
    }

    /// Whether accepted sockets get TCP_NODELAY. Default on.
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.settings.nodelay = nodelay;
        self
    }

    /// The protocol settings of every connection (limits, unmasked frames, pongs,
    /// frame-by-frame delivery).
    pub fn session_config(mut self, config: ws_proto::Config) -> Self {
        self.settings.session = config;
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
        self.settings.deflate = config;
        self
    }

    /// Limits on the handshake request: the size of the header block (default 8 KiB)
    /// and the number of fields (default 64); past either the request gets 431.
    pub fn handshake_limits(mut self, limits: ws_proto::handshake::Limits) -> Self {
        self.settings.handshake_limits = limits;
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

    /// Binds the listener and prepares the loop without starting it, so that the bound
    /// address and a shutdown handle can be read first.
    pub fn bind(self) -> Result<Listening, Error> {
        let (listener, what) = match self.listen {
            Listen::Port(port) => (
                TcpListener::bind(("0.0.0.0", port)),
                format!("0.0.0.0:{port}"),
            ),
            Listen::Addr(addr) => (TcpListener::bind(addr), addr.to_string()),
            Listen::Host(host) => (TcpListener::bind(host.as_str()), host),
            Listen::Listener(listener) => (Ok(listener), "the given listener".to_owned()),
        };
        let listener = listener.map_err(|source| Error::Bind {
            addr: what.clone(),
            source,
        })?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;

        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&listener.as_raw_fd()),
            LISTENER,
            Interest::READABLE,
        )?;
        let shutdown = ShutdownHandle {
            requested: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(Waker::new(poll.registry(), WAKER)?),
        };
        let server = Server::new(
            self.settings,
            poll.registry().try_clone()?,
            local_addr,
            shutdown,
        );
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
        Ok(Listening {
            event_loop: EventLoop::new(poll, server, listener, self.tls),
        })
    }

    /// Binds and runs the server until it is shut down (Perl's `start`).
    pub fn start(self) -> Result<(), Error> {
        self.bind()?.start()
    }
}

/// A bound server, not yet running.
pub struct Listening {
    event_loop: EventLoop,
}

impl Listening {
    /// The bound address (useful after listening on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.event_loop.server.local_addr()
    }

    /// A handle that shuts the server down from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.event_loop.server.shutdown_handle()
    }

    /// Runs the server until it is shut down.
    pub fn start(self) -> Result<(), Error> {
        self.event_loop.run()
    }
}

/// The callbacks are shown only as present or not; TLS as on or off.
impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("listen", &self.listen)
            .field("tls", &self.tls.is_some())
            .field("settings", &self.settings)
            .field("on_connect", &self.on_connect.is_some())
            .field("on_tick", &self.on_tick.is_some())
            .field("on_shutdown", &self.on_shutdown.is_some())
            .field("watches", &self.watches.len())
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

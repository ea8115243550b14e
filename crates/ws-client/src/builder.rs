//! Configuring a connection, and `connect` as its four steps: dial (`dial.rs`), tunnel
//! through a proxy (`proxy.rs`), secure with TLS (`tls.rs`), handshake (`handshake.rs`).
//! What is checked before any I/O (URLs, TLS configuration, the request) is
//! ws-transport's [`ClientOptions::prepare`], shared with ws-tokio.

use std::time::Duration;

use ws_proto::{Config, DeflateConfig, RecvBuffer};
use ws_transport::ClientOptions;

use crate::client::Client;
use crate::conn::{ReadSide, Shared};
use crate::deadline::Deadline;
use crate::dial::dial;
use crate::error::Error;
use crate::handshake::handshake;
use crate::proxy::tunnel;
use crate::timers::{Clock, Timeouts};
use crate::wire::Wire;

/// Connects to a `ws://` or `wss://` URL with the default settings.
///
/// # Errors
///
/// As [`ClientBuilder::connect`].
///
/// ```no_run
/// let mut client = ws_client::connect("wss://echo.example.com/")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
pub fn connect(url: &str) -> Result<Client, Error> {
    ClientBuilder::new(url).connect()
}

/// The default of [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = ws_transport::DEFAULT_CONNECT_TIMEOUT;
/// The default of [`ClientBuilder::write_timeout`].
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`ClientBuilder::close_timeout`].
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`ClientBuilder::keepalive`].
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(20);
/// The default of [`ClientBuilder::keepalive_timeout`].
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A connection being configured; [`connect`](Self::connect) opens it.
///
/// Every wait on the server has a deadline:
///
/// | wait | setting | default |
/// |---|---|---|
/// | name resolution, TCP connect, proxy `CONNECT`, TLS handshake, WebSocket handshake, together | [`connect_timeout`](Self::connect_timeout) | 30 s |
/// | one `recv` call | [`read_timeout`](Self::read_timeout) | none ([`Error::Timeout`]) |
/// | writing (a server that stops reading) | [`write_timeout`](Self::write_timeout) | 30 s |
/// | a silent server (no FIN: cable pulled, NAT entry gone) | [`keepalive`](Self::keepalive), [`keepalive_timeout`](Self::keepalive_timeout) | ping after 20 s, give up 20 s later ([`Error::KeepaliveTimeout`]) |
/// | the closing handshake, to the end of TCP | [`close_timeout`](Self::close_timeout) | 10 s ([`Error::CloseTimeout`]) |
///
/// The keepalive and close timeouts are kept by [`Client::recv`] (or [`Reader::recv`]
/// after a split) while it waits; a program that never calls `recv` has only the write
/// timeout.
///
/// [`Reader::recv`]: crate::Reader::recv
#[must_use = "a ClientBuilder does nothing until connect()"]
pub struct ClientBuilder {
    /// What ws-tokio's builder holds too: URL, request options, proxy, connect timeout,
    /// TCP_NODELAY, TLS.
    options: ClientOptions,
    timeouts: Timeouts,
    write_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// A connection to `url` (`ws://` or `wss://`, any port, path and query; IPv6
    /// addresses in brackets).
    pub fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            options: ClientOptions::new(url),
            timeouts: Timeouts {
                read: None,
                close: Some(DEFAULT_CLOSE_TIMEOUT),
                keepalive: Some(DEFAULT_KEEPALIVE),
                keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            },
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
        }
    }

    ws_transport::client_builder_methods!(
        protocol_getter = "[`Client::protocol`]",
        timeout_error = "[`Error::ConnectTimeout`] naming the step under way",
    );

    /// The limit on each `recv` call after the handshake. Default none: `recv` waits until
    /// something arrives (the keepalive and close timeouts still end a dead connection).
    /// When it passes, `recv` returns [`Error::Timeout`] and the connection stays usable.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// The limit on each write to the socket, for a server that stops reading. Default
    /// 30 s; `None`: a send may block for ever. When it passes the send returns
    /// [`Error::Timeout`] and the connection cannot send any more.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long the closing handshake may take, from the first close frame (ours, or the
    /// server's that we answer) to the end of TCP, which RFC 6455 7.1.1 leaves to the
    /// server. When it passes, `recv` closes TCP itself and returns
    /// [`Error::CloseTimeout`], saying whether the server's close frame had arrived.
    /// Default 10 s; `None` waits for the server for ever. Shorter frees a hung
    /// connection sooner; too short cuts off a slow server's last messages. After a
    /// [`split`](Client::split), a reader blocked in `recv` notices a close sent by the
    /// [`Writer`](crate::Writer) within a quarter of this time (it wakes that often).
    pub fn close_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.close = timeout;
        self
    }

    /// Keepalive: after this long with nothing received, `recv` sends a ping; if nothing
    /// (a pong or anything else) arrives within [`keepalive_timeout`](Self::keepalive_timeout)
    /// after it, the server is taken for gone: TCP is closed and `recv` returns
    /// [`Error::KeepaliveTimeout`]. This finds servers that vanished without a FIN, which
    /// TCP alone never reports to a reader. Default 20 s; `None` turns it off. Pongs to
    /// these pings are not returned by `recv`. Shorter finds dead servers sooner at the
    /// cost of a ping (6 bytes plus 19 of payload, each way) per interval of silence.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.timeouts.keepalive = interval;
        self
    }

    /// How long after a keepalive ping silence means the server is gone. Default 20 s.
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.keepalive_timeout = timeout;
        self
    }

    /// The protocol settings (limits on frames and messages, automatic pongs, ...).
    pub fn config(self, config: Config) -> Self {
        self.request(|r| r.config(config))
    }

    /// Delivers every data frame as a [`Message::Fragment`](crate::Message) instead of
    /// whole messages, for streaming large messages.
    pub fn deliver_fragments(self, on: bool) -> Self {
        self.request(|r| {
            let mut config = r.session_config().clone();
            config.deliver_fragments = on;
            r.config(config)
        })
    }

    /// Offers permessage-deflate (RFC 7692) with these settings, or (`None`) does not.
    /// Default: offered with [`DeflateConfig::default`], as browsers do; the server
    /// decides, and [`Client::is_compressing`](crate::Client::is_compressing) tells.
    ///
    /// Compressing costs about 310 KiB for the compressor and 20 to 40 KiB for the
    /// decompressor, allocated when first needed and kept for the connection (freed after
    /// each message on a side without context takeover).
    ///
    /// ```no_run
    /// use ws_client::{ClientBuilder, DeflateConfig};
    /// let mut config = DeflateConfig::default();
    /// config.client_no_context_takeover = true; // keep our memory down
    /// let client = ClientBuilder::new("ws://127.0.0.1:8080/").deflate(Some(config)).connect()?;
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    pub fn deflate(self, config: Option<DeflateConfig>) -> Self {
        self.request(|r| r.deflate_offer(config))
    }

    /// Connects, runs the handshakes, and returns the open connection: dial (resolve,
    /// TCP), tunnel (the proxy's `CONNECT`), secure (TLS, for `wss://`), handshake.
    ///
    /// # Errors
    ///
    /// Before any I/O: [`Error::Url`] (the URL or the proxy URL; `wss://` in a build
    /// without the `tls` feature), [`Error::Pem`] and [`Error::Tls`] (a TLS configuration
    /// that cannot be built), [`Error::Handshake`] (a header that cannot be sent). Then
    /// [`Error::Resolve`], [`Error::Connect`], [`Error::ProxyRefused`], [`Error::Tls`] (a
    /// certificate that does not verify), [`Error::Handshake`] (the server refused or
    /// answered wrongly), [`Error::ConnectTimeout`] naming the step under way, and
    /// [`Error::Io`].
    pub fn connect(self) -> Result<Client, Error> {
        // Everything that can be checked without the network is checked first.
        let plan = self.options.prepare_for(cfg!(feature = "tls"))?;
        let deadline = Deadline::start(self.options.connect_timeout);
        let (mut tcp, peer) = dial(plan.dial(), &deadline)?;
        tcp.set_nodelay(self.options.nodelay)?;
        let received = match plan.tunnel() {
            Some(request) => tunnel(&mut tcp, request, &deadline)?,
            None => RecvBuffer::new(),
        };
        #[cfg(feature = "tls")]
        let (mut tls, received) = match &plan.tls {
            Some(config) => {
                let name = plan.server_name()?;
                let tls =
                    crate::tls::secure(&mut tcp, config.clone(), name, received.data(), &deadline)?;
                (Some(tls), RecvBuffer::new())
            }
            None => (None, received),
        };
        #[cfg(feature = "tls")]
        let mut wire = match tls.as_mut() {
            Some(tls) => Wire::tls(&mut tcp, tls),
            None => Wire::plain(&mut tcp),
        };
        #[cfg(not(feature = "tls"))]
        let mut wire = Wire::plain(&mut tcp);
        let (response, session, input) = handshake(
            &mut wire,
            plan.handshake,
            &plan.request,
            received,
            &deadline,
        )?;
        tcp.set_read_timeout(None)?;
        tcp.set_write_timeout(self.write_timeout)?;
        let shared = Shared::new(
            session,
            #[cfg(feature = "tls")]
            tls,
            tcp.try_clone()?,
        );
        let side = ReadSide::new(shared, tcp, input, self.timeouts, Clock::new());
        log::debug!("connected to {} ({peer})", self.options.url);
        Ok(Client::new(side, response, peer))
    }
}

/// Header values and the proxy URL are left out: they may hold credentials.
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("options", &self.options)
            .field("timeouts", &self.timeouts)
            .field("write_timeout", &self.write_timeout)
            .finish()
    }
}

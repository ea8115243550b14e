//! Connecting: URL, TCP (every resolved address in turn), proxy tunnel, TLS, handshake.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use ws_proto::handshake::{ClientRequest, Limits};
use ws_proto::{Config, DeflateConfig, RecvBuffer, Role, Session};

use crate::client::Client;
use crate::conn::{Read, ReadSide, Shared};
use crate::deadline::Deadline;
use crate::error::Error;
use crate::proxy;
use crate::timers::{Clock, Timeouts};
use crate::tls::TlsSettings;
use crate::url::Url;

/// Connects to a `ws://` or `wss://` URL with the default settings.
///
/// ```no_run
/// let mut client = ws_client::connect("wss://echo.example.com/")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
pub fn connect(url: &str) -> Result<Client, Error> {
    ClientBuilder::new(url).connect()
}

/// The default of [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
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
    url: String,
    origin: Option<String>,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    close_timeout: Option<Duration>,
    keepalive: Option<Duration>,
    keepalive_timeout: Duration,
    nodelay: bool,
    config: Config,
    limits: Limits,
    tls: TlsSettings,
    proxy: Option<String>,
    deflate: Option<DeflateConfig>,
}

impl ClientBuilder {
    /// A connection to `url` (`ws://` or `wss://`, any port, path and query; IPv6
    /// addresses in brackets).
    pub fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            origin: None,
            protocols: Vec::new(),
            headers: Vec::new(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            read_timeout: None,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            close_timeout: Some(DEFAULT_CLOSE_TIMEOUT),
            keepalive: Some(DEFAULT_KEEPALIVE),
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            nodelay: true,
            config: Config::default(),
            limits: Limits::default(),
            tls: TlsSettings::default(),
            proxy: None,
            deflate: Some(DeflateConfig::default()),
        }
    }

    /// Sends an `Origin` header, as a browser page would.
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_owned());
        self
    }

    /// Offers a subprotocol; call once per protocol, most preferred first. The chosen one
    /// is [`Client::protocol`].
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocols.push(protocol.to_owned());
        self
    }

    /// Adds a header to the handshake request (such as `Authorization`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The limit on connecting, as a whole: name resolution, TCP connect, the proxy's `CONNECT`, the TLS
    /// handshake and the WebSocket handshake must all be done within it, or
    /// [`connect`](Self::connect) returns [`Error::ConnectTimeout`] naming the step under
    /// way. Default 30 s; `None` leaves each step to the operating system (a silent server
    /// then blocks the handshake for ever).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit on each `recv` call after the handshake. Default none: `recv` waits until
    /// something arrives (the keepalive and close timeouts still end a dead connection).
    /// When it passes, `recv` returns [`Error::Timeout`] and the connection stays usable.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
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
        self.close_timeout = timeout;
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
        self.keepalive = interval;
        self
    }

    /// How long after a keepalive ping silence means the server is gone. Default 20 s.
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive_timeout = timeout;
        self
    }

    /// Whether to set TCP_NODELAY. Default on: each message leaves at once.
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// The protocol settings (limits on frames and messages, automatic pongs, ...).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Delivers every data frame as a [`Message::Fragment`](crate::Message) instead of
    /// whole messages, for streaming large messages.
    pub fn deliver_fragments(mut self, on: bool) -> Self {
        self.config.deliver_fragments = on;
        self
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
    pub fn deflate(mut self, config: Option<DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// Limits on the server's handshake answer.
    pub fn handshake_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Also trusts the CA certificates in a PEM file (for a private CA).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_files.push(path.into());
        self
    }

    /// Also trusts a CA certificate.
    pub fn ca_cert(mut self, cert: CertificateDer<'static>) -> Self {
        self.tls.ca_certs.push(cert);
        self
    }

    /// Whether to trust the default roots: the web PKI roots (Mozilla's list) and the
    /// certificates in the PEM file named by the `SSL_CERT_FILE` environment variable,
    /// if it is set (read at [`connect`](Self::connect); a file that cannot be loaded
    /// fails it with [`Error::Pem`](crate::Error::Pem)). Default on; off trusts only
    /// [`ca_file`](Self::ca_file) and [`ca_cert`](Self::ca_cert).
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.tls.no_webpki_roots = !on;
        self
    }

    /// Presents a client certificate (chain and key in PEM files).
    pub fn client_cert_files(mut self, chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert_files = Some((chain.into(), key.into()));
        self
    }

    /// Presents a client certificate.
    pub fn client_cert(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.tls.client_cert = Some((chain, key));
        self
    }

    /// Uses a complete rustls configuration instead of the settings above.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// Connects through an HTTP proxy with `CONNECT`: `http://host:port`, with
    /// `user:password@` for basic authentication.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// Connects, runs the handshakes, and returns the open connection.
    pub fn connect(self) -> Result<Client, Error> {
        // Everything that can be checked without the network is checked first.
        let url = Url::parse(&self.url)?;
        let proxy = self.proxy.as_deref().map(Url::parse_proxy).transpose()?;
        let tls = if url.is_secure() {
            Some(self.tls.build()?)
        } else {
            None
        };
        let mut request = ClientRequest::new(&url.host, &url.resource)
            .port(url.port)
            .secure(url.is_secure())
            .limits(self.limits);
        if let Some(origin) = &self.origin {
            request = request.origin(origin);
        }
        for protocol in &self.protocols {
            request = request.protocol(protocol);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(deflate) = &self.deflate {
            request = request.deflate(deflate.clone());
        }
        request = request.config(self.config.clone());
        let (mut handshake, request) = request.build().map_err(|e| Error::Handshake(e.into()))?;

        let deadline = Deadline::start(self.connect_timeout);
        let dial = proxy.as_ref().unwrap_or(&url);
        let (mut tcp, peer) = dial_tcp(dial, &deadline)?;
        tcp.set_nodelay(self.nodelay)?;
        let leftover = match &proxy {
            Some(proxy_url) => proxy::connect(&mut tcp, proxy_url, &url, &deadline)?,
            None => RecvBuffer::new(),
        };
        let tls = match tls {
            Some(config) => {
                let name = ServerName::try_from(url.host.clone()).map_err(|_| Error::Url {
                    url: self.url.clone(),
                    reason: "the host is not a valid TLS server name",
                })?;
                Some(rustls::ClientConnection::new(config, name)?)
            }
            None => None,
        };
        let secure = tls.is_some();
        // Nothing is sent on this session: the handshake's own replaces it below.
        let shared = Shared::new(
            Session::new(Role::Client, self.config, None),
            tls,
            tcp.try_clone()?,
        );
        let mut side = ReadSide {
            shared,
            tcp,
            input: if secure {
                RecvBuffer::new()
            } else {
                leftover.clone()
            },
            early_records: if secure {
                leftover.data().to_vec()
            } else {
                Vec::new()
            },
            secure,
            timeouts: Timeouts {
                read: self.read_timeout,
                close: self.close_timeout,
                keepalive: self.keepalive,
                keepalive_timeout: self.keepalive_timeout,
            },
            clock: Clock::new(),
            socket_timeout: None,
        };
        let stage = |side: &ReadSide| {
            let tls = side.shared.state();
            match &tls.tls {
                Some(tls) if tls.is_handshaking() => "TLS handshake",
                _ => "WebSocket handshake",
            }
        };
        deadline.arm(&side.tcp, stage(&side))?;
        side.shared
            .send_raw(&request)
            .map_err(deadline.name(stage(&side)))?;
        // RFC 7692 5: an answer that does not fit the deflate offer fails the connection
        // (checked by the handshake, which yields the session with what was agreed).
        let (response, session) = loop {
            let parsed = handshake
                .parse(&mut side.input)
                .map_err(|e| Error::Handshake(e.into()))?;
            if let Some(done) = parsed {
                break done;
            }
            let stage = stage(&side);
            deadline.arm(&side.tcp, stage)?;
            if let Read::Eof = side.read_more().map_err(deadline.name(stage))? {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the handshake",
                )));
            }
        };
        side.shared.state().session = session;
        side.tcp.set_read_timeout(None)?;
        side.tcp.set_write_timeout(self.write_timeout)?;
        side.clock = Clock::new();
        log::debug!("connected to {} ({peer})", self.url);
        Ok(Client::new(side, response, peer))
    }
}

/// Connects to the first address of `url`'s host that accepts, within `deadline`.
fn dial_tcp(url: &Url, deadline: &Deadline) -> Result<(TcpStream, SocketAddr), Error> {
    let addrs = resolve(url, deadline)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in addrs {
        let attempt = match deadline.remaining("TCP connect")? {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(tcp) => return Ok((tcp, addr)),
            Err(err) => {
                log::debug!("{addr}: {err}");
                last = err;
            }
        }
    }
    Err(Error::Connect {
        addr: url.authority(),
        source: last,
    })
}

/// Resolves `url`'s host within `deadline`. The system resolver takes no timeout, so it
/// runs on a thread of its own that is left behind if the deadline passes (it ends when
/// the resolver gives up, after its own timeouts).
fn resolve(url: &Url, deadline: &Deadline) -> Result<Vec<SocketAddr>, Error> {
    const STAGE: &str = "name resolution";
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, url.port)]);
    }
    let (tx, rx) = mpsc::channel();
    let (host, port) = (url.host.clone(), url.port);
    thread::Builder::new()
        .name("ws-client resolver".into())
        .spawn(move || {
            let found = (host.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            let _ = tx.send(found);
        })?;
    let found = match deadline.remaining(STAGE)? {
        Some(left) => rx.recv_timeout(left).ok(),
        None => rx.recv().ok(),
    };
    match found {
        Some(found) => found.map_err(|source| Error::Resolve {
            host: url.host.clone(),
            source,
        }),
        None => Err(deadline.name(STAGE)(Error::Timeout)),
    }
}

/// Header values and the proxy URL are left out: they may hold credentials.
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("origin", &self.origin)
            .field("protocols", &self.protocols)
            .field("header_names", &header_names)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("keepalive", &self.keepalive)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("nodelay", &self.nodelay)
            .field("config", &self.config)
            .field("proxy", &self.proxy.is_some())
            .field("deflate", &self.deflate)
            .finish_non_exhaustive()
    }
}

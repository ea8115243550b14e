//! Connecting: URL, TCP, HTTP proxy tunnel, TLS, and the client's opening handshake
//! (RFC 6455 4.1).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use ws_proto::handshake::{ClientRequest, Limits};
use ws_proto::{DeflateConfig, RecvBuffer};

use crate::error::Error;
use crate::proxy;
use crate::settings::Settings;
use crate::stream::WebSocketStream;
use crate::tls::TlsSettings;

/// Connects to a `ws://` or `wss://` URL with the default [`ClientBuilder`] settings.
///
/// Errors as [`ClientBuilder::connect`].
///
/// ```no_run
/// # async fn run() -> Result<(), ws_tokio::Error> {
/// let mut ws = ws_tokio::connect("wss://echo.example.com/").await?;
/// ws.send("Hello").await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<WebSocketStream<ClientStream>, Error> {
    ClientBuilder::new(url).connect().await
}

/// The transport of a connected client: TCP, or TLS over TCP for `wss://`.
#[derive(Debug)]
pub enum ClientStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl ClientStream {
    /// The TCP connection underneath (to the proxy, when there is one).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(tcp) => tcp,
            ClientStream::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            ClientStream::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            ClientStream::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// tokio-rustls reports TLS failures as I/O errors that wrap the rustls error.
fn tls_error(err: io::Error) -> Error {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Error::Tls(tls.clone()),
        None => Error::Io(err),
    }
}

/// A `ws://` or `wss://` URL, checked (RFC 6455 3).
#[derive(Debug)]
struct Target {
    secure: bool,
    /// Without brackets for IPv6.
    host: String,
    port: u16,
    /// Path and query, at least `/`.
    resource: String,
}

impl Target {
    fn parse(text: &str) -> Result<Target, Error> {
        let invalid = |reason: &str| Error::Url {
            url: redact(text),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
        let secure = match url.scheme() {
            "ws" => false,
            "wss" => true,
            _ => return Err(invalid("the scheme must be ws:// or wss://")),
        };
        // RFC 6455 3: "Fragment identifiers ... MUST NOT be used on these URIs".
        if url.fragment().is_some() {
            return Err(invalid("a ws:// URL has no fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("credentials in a ws:// URL are not supported"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(addr)) => addr.to_string(),
            Some(url::Host::Ipv6(addr)) => addr.to_string(),
            None => return Err(invalid("the URL has no host")),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if secure { 443 } else { 80 });
        if port == 0 {
            return Err(invalid("port 0 cannot be connected to"));
        }
        let mut resource = url.path().to_owned();
        if let Some(query) = url.query() {
            resource.push('?');
            resource.push_str(query);
        }
        Ok(Target {
            secure,
            host,
            port,
            resource,
        })
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `text` with any password replaced by `***`, for error messages.
fn redact(text: &str) -> String {
    if let Ok(mut url) = url::Url::parse(text) {
        if url.password().is_some() && url.set_password(Some("***")).is_ok() {
            return url.to_string();
        }
        return text.to_owned();
    }
    // Not a URL: hide whatever stands between the scheme's "//" and the last '@' before
    // the path, which is where userinfo would be.
    let Some(start) = text.find("//").map(|i| i + 2) else {
        return text.to_owned();
    };
    let end = text[start..].find('/').map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

/// An `http://` proxy URL.
struct Proxy {
    host: String,
    port: u16,
    credentials: Option<String>,
}

impl Proxy {
    fn parse(text: &str) -> Result<Proxy, Error> {
        let invalid = |reason: &str| Error::Url {
            url: redact(text),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(invalid("the proxy URL must be http://"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(addr)) => addr.to_string(),
            Some(url::Host::Ipv6(addr)) => addr.to_string(),
            None => return Err(invalid("the proxy URL has no host")),
        };
        // RFC 3986 3.2.1: userinfo is percent-encoded in the URL (and the WHATWG parser
        // encodes more characters still); the proxy wants the credentials themselves.
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| invalid("the proxy credentials are not UTF-8 once percent-decoded"))
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            let user = decode(url.username())?;
            // RFC 7617 2: "a user-id containing a colon character is invalid".
            if user.contains(':') {
                return Err(invalid("the proxy user name contains ':' (RFC 7617 2)"));
            }
            Some(format!("{user}:{}", decode(url.password().unwrap_or(""))?))
        };
        Ok(Proxy {
            host,
            port: url.port_or_known_default().unwrap_or(80),
            credentials,
        })
    }
}

/// A connection being configured, with ws-client's options; [`connect`](Self::connect)
/// opens it.
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run() -> Result<(), ws_tokio::Error> {
/// let ws = ws_tokio::ClientBuilder::new("wss://example.com/chat")
///     .origin("https://example.com")
///     .protocol("chat.v1")
///     .header("Authorization", "Bearer token")
///     .proxy("http://proxy.internal:3128")
///     .connect_timeout(Some(Duration::from_secs(5)))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a ClientBuilder does nothing until connect()"]
pub struct ClientBuilder {
    url: String,
    origin: Option<String>,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    connect_timeout: Option<Duration>,
    nodelay: bool,
    settings: Settings,
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
            connect_timeout: Some(Duration::from_secs(30)),
            nodelay: true,
            settings: Settings::default(),
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
    /// is [`WebSocketStream::protocol`].
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocols.push(protocol.to_owned());
        self
    }

    /// Adds a header to the upgrade request (such as `Authorization`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The limit on the whole opening: TCP connect, proxy tunnel, TLS and the upgrade.
    /// Default 30 s (as ws-client); `None` waits as long as the operating system does.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whether to set TCP_NODELAY. Default on: each write leaves at once.
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// The connection's settings (limits, keepalive, close timeout, write buffer
    /// limit). Default [`Settings::default`].
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these settings, or (`None`) does not.
    /// Default: offered with [`DeflateConfig::default`], as browsers and ws-client do;
    /// the server decides, and [`WebSocketStream::is_compressing`] tells.
    pub fn deflate(mut self, config: Option<DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// Limits on the server's answer (bytes and fields). Default [`Limits::default`].
    pub fn handshake_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Also trusts a CA certificate (a private CA).
    pub fn ca_cert(mut self, cert: CertificateDer<'static>) -> Self {
        self.tls.ca_certs.push(cert);
        self
    }

    /// Whether to trust the web PKI roots (Mozilla's list, from `webpki-roots`).
    /// Default on.
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.tls.no_webpki_roots = !on;
        self
    }

    /// Presents a client certificate (chain, leaf first, and its key).
    pub fn client_cert(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.tls.client_cert = Some((chain, key));
        self
    }

    /// Uses a complete rustls configuration instead of the TLS settings above.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// Connects through an HTTP proxy with `CONNECT`: `http://host:port`, with
    /// `user:password@` (as written in the URL) for basic authentication.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// Connects, runs the proxy, TLS and WebSocket handshakes, and returns the open
    /// connection.
    ///
    /// Errors: [`Error::Url`] (checked before any I/O), [`Error::Io`] (resolving,
    /// connecting), [`Error::Tls`] (an unusable configuration, or a TLS handshake that
    /// failed: an untrusted certificate is `rustls::Error::InvalidCertificate`),
    /// [`Error::ProxyRefused`], [`Error::Protocol`] with the handshake rule the server
    /// broke ([`HandshakeError::Rejected`](ws_proto::handshake::HandshakeError::Rejected) carries a non-101 status), and
    /// [`Error::HandshakeTimeout`] past the connect timeout.
    pub async fn connect(self) -> Result<WebSocketStream<ClientStream>, Error> {
        let target = Target::parse(&self.url)?;
        let proxy = self.proxy.as_deref().map(Proxy::parse).transpose()?;
        let tls = match target.secure {
            true => Some(self.tls.build()?),
            false => None,
        };
        let opening = async {
            let (host, port) = match &proxy {
                Some(proxy) => (proxy.host.as_str(), proxy.port),
                None => (target.host.as_str(), target.port),
            };
            let mut tcp = TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(self.nodelay)?;
            let received = match &proxy {
                Some(proxy) => {
                    proxy::connect(&mut tcp, &target.authority(), proxy.credentials.as_deref())
                        .await?
                }
                None => RecvBuffer::new(),
            };
            let io = match tls {
                Some(config) => {
                    if !received.is_empty() {
                        return Err(Error::ProxyRefused {
                            status: 200,
                            reason: "the proxy sent bytes before the TLS handshake".into(),
                        });
                    }
                    let name =
                        ServerName::try_from(target.host.clone()).map_err(|_| Error::Url {
                            url: self.url.clone(),
                            reason: "the host is not a valid TLS server name".into(),
                        })?;
                    let tls = TlsConnector::from(config)
                        .connect(name, tcp)
                        .await
                        .map_err(tls_error)?;
                    ClientStream::Tls(Box::new(tls))
                }
                None => ClientStream::Plain(tcp),
            };
            self.handshake(io, &target, received).await
        };
        match self.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, opening)
                .await
                .map_err(|_| Error::HandshakeTimeout(timeout))?,
            None => opening.await,
        }
    }

    /// Runs only the WebSocket handshake, over a transport already connected to the
    /// URL's server (the URL gives `Host` and the request target; TLS and proxy settings
    /// are not used). Bounded by the connect timeout. Errors as [`connect`](Self::connect).
    pub async fn connect_on<S>(self, io: S) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let target = Target::parse(&self.url)?;
        let opening = self.handshake(io, &target, RecvBuffer::new());
        match self.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, opening)
                .await
                .map_err(|_| Error::HandshakeTimeout(timeout))?,
            None => opening.await,
        }
    }

    async fn handshake<S>(
        &self,
        mut io: S,
        target: &Target,
        mut input: RecvBuffer,
    ) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut request = ClientRequest::new(&target.host, &target.resource)
            .port(target.port)
            .secure(target.secure)
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
        request = request.config(self.settings.config.clone());
        let (mut handshake, request) = request.build()?;
        io.write_all(&request).await?;
        io.flush().await?;
        // RFC 7692 5: an answer that does not fit the deflate offer fails the connection
        // (checked by the handshake, which yields the session with what was agreed).
        let (response, session) = loop {
            if let Some(done) = handshake.parse(&mut input)? {
                break done;
            }
            let n = io.read(input.spare(4096)).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the handshake",
                )
                .into());
            }
            input.commit(n);
        };
        let protocol = response.protocol().map(str::to_owned);
        Ok(
            WebSocketStream::from_session(io, session, self.settings.clone(), input)
                .with_protocol(protocol),
        )
    }
}

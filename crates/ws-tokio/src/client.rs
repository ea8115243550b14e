//! Connecting: URL, TCP, HTTP proxy tunnel, TLS, and the client's opening handshake
//! (RFC 6455 4.1).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
#[cfg(feature = "tls")]
use tokio_rustls::client::TlsStream;
use ws_proto::handshake::ClientHandshake;
use ws_proto::{DeflateConfig, RecvBuffer};
use ws_transport::{ClientOptions, Plan};

use crate::error::Error;
use crate::proxy;
use crate::settings::Settings;
use crate::stream::WebSocketStream;

/// Connects to a `ws://` or `wss://` URL with the default [`ClientBuilder`] settings.
///
/// # Errors
///
/// As [`ClientBuilder::connect`].
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
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<TcpStream>>),
}

impl ClientStream {
    /// The TCP connection underneath (to the proxy, when there is one).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
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
            #[cfg(feature = "tls")]
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
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// A failure to resolve or reach the host dialled (the proxy's, with one), saying which:
/// an `io::Error` of the same kind whose message starts with `connecting to HOST:PORT`
/// and whose source is the original error.
fn dial_error(host: &str, port: u16, err: io::Error) -> Error {
    let kind = err.kind();
    Error::Io(io::Error::new(
        kind,
        DialError {
            addr: format!("{host}:{port}"),
            source: err,
        },
    ))
}

/// See [`dial_error`].
#[derive(Debug, thiserror::Error)]
#[error("connecting to {addr}: {source}")]
struct DialError {
    addr: String,
    source: io::Error,
}

/// tokio-rustls reports TLS failures as I/O errors that wrap the rustls error.
#[cfg(feature = "tls")]
fn tls_error(err: io::Error) -> Error {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Error::Tls(tls.clone()),
        None => Error::Io(err),
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
///
/// It is [`Clone`], so that one configured builder serves every reconnect:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ws_tokio::Error> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let url = format!("ws://{}/", listener.local_addr()?);
/// # tokio::spawn(async move {
/// #     while let Ok((tcp, _)) = listener.accept().await {
/// #         let _ = ws_tokio::accept_with(tcp, |r| Ok(r.protocols().first().cloned())).await;
/// #     }
/// # });
/// let builder = ws_tokio::ClientBuilder::new(&url).protocol("chat.v1");
/// for _attempt in 0..2 {
///     let ws = builder.clone().connect().await?;
///     assert_eq!(ws.protocol(), Some("chat.v1"));
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a ClientBuilder does nothing until connect()"]
pub struct ClientBuilder {
    /// What ws-client's builder holds too: URL, request options, proxy, connect timeout,
    /// TCP_NODELAY, TLS.
    options: ClientOptions,
    settings: Settings,
}

impl ClientBuilder {
    /// A connection to `url` (`ws://` or `wss://`, any port, path and query; IPv6
    /// addresses in brackets).
    pub fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            options: ClientOptions::new(url),
            settings: Settings::default(),
        }
    }

    ws_transport::client_builder_methods!(
        protocol_getter = "[`WebSocketStream::protocol`]",
        timeout_error = "[`Error::HandshakeTimeout`]",
    );

    /// The connection's settings (limits, keepalive, close timeout, write buffer
    /// limit). Default [`Settings::default`].
    pub fn settings(mut self, settings: Settings) -> Self {
        self.options.request = self.options.request.config(settings.config.clone());
        self.settings = settings;
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these settings, or (`None`) does not.
    /// Default: offered with [`DeflateConfig::default`], as browsers and ws-client do;
    /// the server decides, and [`WebSocketStream::is_compressing`] tells.
    pub fn deflate(self, config: Option<DeflateConfig>) -> Self {
        self.request(|r| r.deflate_offer(config))
    }

    /// Connects and returns the open connection: dial (TCP), tunnel (the proxy's
    /// `CONNECT`), secure (TLS, for `wss://`), handshake (the HTTP upgrade).
    ///
    /// # Errors
    ///
    /// Before any I/O: [`Error::Url`] (the URL or the proxy URL; `wss://` in a build
    /// without the `tls` feature), [`Error::Pem`] and [`Error::Tls`] (a TLS configuration
    /// that cannot be built). Then [`Error::Io`] (resolving, connecting: its message
    /// names the `host:port` dialled, its kind is the system's, such as
    /// `ConnectionRefused`),
    /// [`Error::ProxyRefused`], [`Error::Tls`] (a TLS handshake that failed: an untrusted
    /// certificate is `rustls::Error::InvalidCertificate`), [`Error::Protocol`] with the
    /// handshake rule the server broke
    /// ([`HandshakeError::Rejected`](ws_proto::handshake::HandshakeError::Rejected)
    /// carries a non-101 status), and [`Error::HandshakeTimeout`] past the connect
    /// timeout.
    pub async fn connect(self) -> Result<WebSocketStream<ClientStream>, Error> {
        let plan = self.options.prepare_for(cfg!(feature = "tls"))?;
        let opening = async {
            let dial = plan.dial();
            let mut tcp = TcpStream::connect((dial.host.as_str(), dial.port))
                .await
                .map_err(|err| dial_error(&dial.host, dial.port, err))?;
            tcp.set_nodelay(self.options.nodelay)?;
            let received = match plan.tunnel() {
                Some(tunnel) => proxy::tunnel(&mut tcp, tunnel).await?,
                None => RecvBuffer::new(),
            };
            let io = self.secure(&plan, tcp, &received).await?;
            self.handshake(io, plan.handshake, &plan.request, received)
                .await
        };
        self.bounded(opening).await
    }

    /// The secure step: TLS over `tcp` for `wss://`, nothing for `ws://`.
    #[cfg_attr(not(feature = "tls"), allow(clippy::unused_async))]
    async fn secure(
        &self,
        plan: &Plan,
        tcp: TcpStream,
        received: &RecvBuffer,
    ) -> Result<ClientStream, Error> {
        #[cfg(feature = "tls")]
        if let Some(config) = &plan.tls {
            if !received.is_empty() {
                return Err(Error::ProxyRefused {
                    status: 200,
                    reason: "the proxy sent bytes before the TLS handshake".into(),
                });
            }
            let name = plan.server_name()?;
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(tls_error)?;
            return Ok(ClientStream::Tls(Box::new(tls)));
        }
        let _ = (plan, received);
        Ok(ClientStream::Plain(tcp))
    }

    /// Runs `opening` within the connect timeout.
    async fn bounded<T>(
        &self,
        opening: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match self.options.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, opening)
                .await
                .map_err(|_| Error::HandshakeTimeout(timeout))?,
            None => opening.await,
        }
    }

    /// Runs only the WebSocket handshake, over a transport already connected to the
    /// URL's server (the URL gives `Host` and the request target; TLS and proxy settings
    /// are not used). Bounded by the connect timeout.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), but for those of dialling, the proxy and TLS.
    pub async fn connect_on<S>(self, io: S) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (_, handshake, request) = self.options.prepare_handshake()?;
        self.bounded(self.handshake(io, handshake, &request, RecvBuffer::new()))
            .await
    }

    /// The handshake step: the HTTP upgrade over `io`; `input` may hold the first bytes
    /// of the answer.
    async fn handshake<S>(
        &self,
        mut io: S,
        mut handshake: ClientHandshake,
        request: &[u8],
        mut input: RecvBuffer,
    ) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        io.write_all(request).await?;
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

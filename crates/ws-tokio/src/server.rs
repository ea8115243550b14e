//! The server's opening handshake (RFC 6455 4.2) over any tokio transport.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use ws_proto::handshake::{Limits, Reject, Request, RequestParser};
use ws_proto::{DeflateConfig, RecvBuffer, Session};

use ws_transport::proxy_protocol::{ProxyHeader, ProxyHeaderParser};

use crate::core::poll_read_handshake;
use crate::error::Error;
use crate::settings::Settings;
use crate::stream::WebSocketStream;

/// Accepts a WebSocket upgrade on `io` with the default [`Acceptor`]: any path, origin
/// and subprotocol offer, no subprotocol chosen, no compression.
///
/// # Errors
///
/// As [`Acceptor::accept_with`].
pub async fn accept<S>(io: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Acceptor::new().accept(io).await
}

/// Accepts a WebSocket upgrade on `io` with the default [`Acceptor`], after `callback`
/// has looked at the request; see [`Acceptor::accept_with`].
///
/// # Errors
///
/// As [`Acceptor::accept_with`].
pub async fn accept_with<S, F>(io: S, callback: F) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Option<String>, Reject>,
{
    Acceptor::new().accept_with(io, callback).await
}

/// The server side's settings for accepting connections; cheap to clone, shareable
/// across accept tasks.
///
/// ```no_run
/// use std::time::Duration;
/// use ws_tokio::{Acceptor, DeflateConfig};
/// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), ws_tokio::Error> {
/// let acceptor = Acceptor::new()
///     .deflate(Some(DeflateConfig::default()))
///     .handshake_timeout(Duration::from_secs(5));
/// let ws = acceptor.accept(tcp).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "an Acceptor does nothing until accept()"]
pub struct Acceptor {
    settings: Settings,
    deflate: Option<DeflateConfig>,
    handshake_timeout: Duration,
    limits: Limits,
    proxy_header: ProxyHeaderParser,
}

impl Default for Acceptor {
    fn default() -> Acceptor {
        Acceptor {
            settings: Settings::default(),
            deflate: None,
            handshake_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            proxy_header: ProxyHeaderParser::new(),
        }
    }
}

impl Acceptor {
    /// The defaults, given with each setting below.
    pub fn new() -> Acceptor {
        Acceptor::default()
    }

    /// The connection's settings (limits, keepalive, close timeout, write buffer
    /// limit). Default [`Settings::default`].
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Accepts permessage-deflate (RFC 7692) from clients that offer it, with these
    /// settings, or (`None`) declines it. Default `None`, as ws-server-blocking:
    /// compressing costs CPU and about 330 KiB per connection with context takeover
    /// (see [`DeflateConfig`]).
    pub fn deflate(mut self, config: Option<DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// How long the client has to send its whole request, from the start of `accept`
    /// until our answer is written. Default 10 s; past it the connection is dropped with
    /// [`Error::HandshakeTimeout`]. A slow client costs one task, never the others.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Limits on the request's header block (bytes and fields). Default
    /// [`Limits::default`]; a request past them is answered with 431.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The PROXY protocol decoder [`read_proxy_header`](Self::read_proxy_header) uses
    /// (its cap on v2 headers). Default [`ProxyHeaderParser::new`] (v2 up to
    /// [`DEFAULT_MAX_V2_LEN`](ws_transport::proxy_protocol::DEFAULT_MAX_V2_LEN) bytes).
    pub fn proxy_header_parser(mut self, parser: ProxyHeaderParser) -> Self {
        self.proxy_header = parser;
        self
    }

    /// Reads the PROXY protocol header (v1 or v2) a load balancer sends before the
    /// client's bytes, within the handshake timeout; then call [`accept`](Self::accept)
    /// on the same `io` (the header read takes no byte past itself). Opt in per listener:
    /// only for listeners that only the load balancer reaches, since the header is
    /// trusted (proxy-protocol.txt, section 2).
    ///
    /// ```no_run
    /// # async fn run(listener: tokio::net::TcpListener) -> Result<(), ws_tokio::Error> {
    /// let acceptor = ws_tokio::Acceptor::new();
    /// let (mut tcp, peer) = listener.accept().await?;
    /// let header = acceptor.read_proxy_header(&mut tcp).await?; // Err: drop tcp
    /// let client = header.client_or(peer); // LOCAL/UNKNOWN: the socket's peer
    /// let ws = acceptor.accept(tcp).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`read_proxy_header`](crate::read_proxy_header), and
    /// [`Error::HandshakeTimeout`] when the header is not whole within the handshake
    /// timeout.
    pub async fn read_proxy_header<S>(&self, io: &mut S) -> Result<ProxyHeader, Error>
    where
        S: AsyncRead + Unpin,
    {
        let timeout = self.handshake_timeout;
        tokio::time::timeout(
            timeout,
            crate::proxy_header::read_proxy_header(io, &self.proxy_header),
        )
        .await
        .map_err(|_| Error::HandshakeTimeout(timeout))?
    }

    /// Accepts any request that is a valid upgrade.
    ///
    /// # Errors
    ///
    /// As [`accept_with`](Self::accept_with).
    pub async fn accept<S>(&self, io: S) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(io, |_| Ok(None)).await
    }

    /// Reads the upgrade request, lets `callback` decide, and answers.
    ///
    /// The callback sees the [`Request`] (path, query, headers, origin, cookies,
    /// offered subprotocols) and returns `Ok(Some(protocol))` to accept with one of the
    /// offered subprotocols, `Ok(None)` to accept without one, or `Err(reject)` to
    /// answer with that HTTP status (RFC 6455 4.2.2: "the server can return a status
    /// code ... such as 403 Forbidden"). A request that is not a valid upgrade is
    /// answered with the status ws-proto gives its error (400, 426, 431, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] with the callback's status; [`Error::Protocol`] for an
    /// invalid request (after answering it); [`Error::HandshakeTimeout`]; [`Error::Io`]
    /// (`UnexpectedEof` if the client left).
    pub async fn accept_with<S, F>(
        &self,
        mut io: S,
        callback: F,
    ) -> Result<WebSocketStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Option<String>, Reject>,
    {
        let timeout = self.handshake_timeout;
        // Boxed: the handshake's state (parser, request, answer) is large and lives only
        // for the handshake; unboxed, it would size every connection's task for good.
        tokio::time::timeout(timeout, Box::pin(self.handshake(&mut io, callback)))
            .await
            .map_err(|_| Error::HandshakeTimeout(timeout))?
            .map(|(protocol, session, received)| {
                WebSocketStream::from_session(io, session, self.settings.clone(), received)
                    .with_protocol(protocol)
            })
    }

    async fn handshake<S, F>(
        &self,
        io: &mut S,
        callback: F,
    ) -> Result<(Option<String>, Session, RecvBuffer), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Option<String>, Reject>,
    {
        let mut parser = RequestParser::with_limits(self.limits);
        let mut input = RecvBuffer::new();
        let request = loop {
            match parser.parse(&mut input) {
                Ok(Some(request)) => break request,
                Ok(None) => {}
                Err(err) => {
                    answer_and_close(io, &Reject::for_error(&err)).await;
                    return Err(err.into());
                }
            }
            // Into storage lent by the thread, which the stream then reads on with.
            let limit = self.settings.recycle_limit;
            let n =
                std::future::poll_fn(|cx| poll_read_handshake(io, &mut input, limit, cx)).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the client closed the connection during the handshake",
                )
                .into());
            }
        };
        let protocol = match callback(&request) {
            Ok(protocol) => protocol,
            Err(reject) => {
                let status = reject.status();
                answer_and_close(io, &reject).await;
                return Err(Error::Refused(status));
            }
        };
        let (answer, session) = match self.answer(&request, protocol.as_deref()) {
            Ok(answer) => answer,
            Err(err) => {
                // The callback chose a subprotocol the client did not offer.
                answer_and_close(io, &Reject::new(500).body(err.to_string())).await;
                return Err(err.into());
            }
        };
        io.write_all(&answer).await?;
        io.flush().await?;
        Ok((protocol, session, input))
    }

    /// The `101 Switching Protocols` answer to `request` and the session that follows
    /// it, with the subprotocol chosen and permessage-deflate agreed if configured and
    /// offered; fails if the subprotocol was not offered.
    pub(crate) fn answer(
        &self,
        request: &Request,
        protocol: Option<&str>,
    ) -> Result<(Vec<u8>, Session), ws_proto::LocalError> {
        let mut accept = request.accept().config(self.settings.config.clone());
        if let Some(protocol) = protocol {
            accept = accept.protocol(protocol);
        }
        // RFC 7692 5.1: offers we cannot accept are declined, not errors.
        if let Some(deflate) = &self.deflate {
            accept = accept.deflate(deflate);
        }
        accept.finish()
    }

    /// The settings connections get.
    #[cfg(feature = "http")]
    pub(crate) fn stream_settings(&self) -> &Settings {
        &self.settings
    }
}

/// Sends a refusal and closes; the client may already be gone, which is no error here.
async fn answer_and_close<S: AsyncWrite + Unpin>(io: &mut S, reject: &Reject) {
    if let Ok(bytes) = reject.to_bytes() {
        let _ = io.write_all(&bytes).await;
    }
    let _ = io.shutdown().await;
}

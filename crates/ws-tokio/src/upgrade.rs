//! Upgrading from the `http` crate's types (feature `http`): hyper 1.x and axum have
//! already parsed the request, so it is checked as it is (RFC 6455 4.2.1) and answered
//! with an `http::Response` for the framework to send, instead of being written out and
//! parsed again.
//!
//! ```no_run
//! # async fn handler(mut request: http::Request<()>) -> http::Response<String> {
//! // In a hyper service: check, answer 101, and take the connection once hyper
//! // hands it over (`hyper::upgrade::on(&mut request)` and `hyper_util::rt::TokioIo`).
//! match ws_tokio::upgrade(&request) {
//!     Ok((response, upgrade)) => {
//!         // tokio::spawn(async move {
//!         //     let io = TokioIo::new(hyper::upgrade::on(&mut request).await?);
//!         //     let ws = upgrade.into_stream(io);
//!         //     ...
//!         // });
//!         # let _ = upgrade;
//!         response.map(|()| String::new())
//!     }
//!     Err(refusal) => refusal.into_response(),
//! }
//! # }
//! ```

use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::handshake::{Limits, Reject, Request, ResponseHead, ResponseHeadParser};
use ws_proto::{LocalError, RecvBuffer, Session};

use crate::error::Error;
use crate::server::Acceptor;
use crate::settings::Settings;
use crate::stream::WebSocketStream;

/// An accepted upgrade, waiting for the framework to hand over the connection.
#[derive(Debug)]
#[must_use = "call into_stream with the upgraded connection"]
pub struct Upgrade {
    protocol: Option<String>,
    session: Session,
    settings: Settings,
}

impl Upgrade {
    /// The subprotocol agreed, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The WebSocket connection over the upgraded transport (hyper's `Upgraded` through
    /// `hyper_util::rt::TokioIo`), in the server role.
    pub fn into_stream<S: AsyncRead + AsyncWrite + Unpin>(self, io: S) -> WebSocketStream<S> {
        WebSocketStream::from_session(io, self.session, self.settings, RecvBuffer::new())
            .with_protocol(self.protocol)
    }
}

/// A refused upgrade: the error, and the HTTP response that says so.
#[derive(Debug)]
pub struct Refusal {
    error: Error,
    reject: Reject,
}

impl Refusal {
    /// Why it was refused: [`Error::Protocol`] for a request that is not a valid
    /// upgrade, [`Error::Refused`] for the callback's refusal.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.reject.status()
    }

    /// The answer to send: the status, its headers, and the body the refusal carries:
    /// the error's text for a request that is not a valid upgrade (a how-to for a plain
    /// HTTP request), the callback's [`Reject::body`] (empty unless it set one).
    pub fn into_response(self) -> http::Response<String> {
        let bytes = self.reject.to_bytes().unwrap_or_default();
        match parse_head(&bytes) {
            Some((head, body)) => {
                let body = String::from_utf8_lossy(&body).into_owned();
                to_http(head, body).unwrap_or_else(|_| bare(self.reject.status()))
            }
            None => bare(self.reject.status()),
        }
    }
}

/// Checks `request` as a WebSocket upgrade with the default [`Acceptor`] and answers it;
/// see [`Acceptor::upgrade_with`].
///
/// In a hyper service or an axum handler (axum's `Request` is hyper's): return the
/// `101` response (`response.map(|()| body)`), take `hyper::upgrade::on(&mut request)`
/// first, and in a task make its connection the stream with
/// `upgrade.into_stream(hyper_util::rt::TokioIo::new(upgraded))`; on a [`Refusal`],
/// return [`Refusal::into_response`]. The workspace's `examples/axum_upgrade.rs` and
/// `examples/hyper_upgrade.rs` show the whole route.
///
/// # Errors
///
/// As [`Acceptor::upgrade_with`].
#[allow(clippy::result_large_err)]
pub fn upgrade<B>(request: &http::Request<B>) -> Result<(http::Response<()>, Upgrade), Refusal> {
    Acceptor::new().upgrade(request)
}

impl Acceptor {
    /// Checks `request` as a WebSocket upgrade and answers it; see
    /// [`upgrade_with`](Self::upgrade_with).
    ///
    /// # Errors
    ///
    /// As [`upgrade_with`](Self::upgrade_with).
    #[allow(clippy::result_large_err)]
    pub fn upgrade<B>(
        &self,
        request: &http::Request<B>,
    ) -> Result<(http::Response<()>, Upgrade), Refusal> {
        self.upgrade_with(request, |_| Ok(None))
    }

    /// Checks `request` (RFC 6455 4.2.1: GET, HTTP/1.1 or later, the upgrade headers,
    /// the key and version), lets `callback` choose a subprotocol or refuse, as
    /// [`accept_with`](Self::accept_with), and returns the `101 Switching Protocols`
    /// response (with the deflate agreement, when configured) and the [`Upgrade`] that
    /// becomes the stream once the framework hands over the connection.
    ///
    /// A refusal comes with the response to send instead: 400, 405, 426 for invalid
    /// requests, the callback's status, 500 if the callback chose a subprotocol the
    /// client did not offer. The handshake timeout does not apply (the framework read
    /// the request).
    ///
    /// # Errors
    ///
    /// A [`Refusal`] for a request that is not a valid upgrade, for the callback's
    /// `Reject`, and for a subprotocol the client did not offer: each with the response
    /// to send.
    #[allow(clippy::result_large_err)]
    pub fn upgrade_with<B, F>(
        &self,
        request: &http::Request<B>,
        callback: F,
    ) -> Result<(http::Response<()>, Upgrade), Refusal>
    where
        F: FnOnce(&Request) -> Result<Option<String>, Reject>,
    {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        let checked = Request::from_parts(
            request.method().as_str(),
            request.version() >= http::Version::HTTP_11
                && request.version() < http::Version::HTTP_2,
            target,
            headers,
        )
        .map_err(|err| Refusal {
            reject: Reject::for_error(&err),
            error: err.into(),
        })?;
        let protocol = callback(&checked).map_err(|reject| Refusal {
            error: Error::Refused(reject.status()),
            reject,
        })?;
        let refuse = |err: LocalError| Refusal {
            reject: Reject::new(500).body(err.to_string()),
            error: err.into(),
        };
        // Our own answer that http cannot carry: a header the application added.
        let unwritable = || LocalError::InvalidHeader("in the 101 answer".into());
        let (answer, session) = self.answer(&checked, protocol.as_deref()).map_err(refuse)?;
        let (head, _) = parse_head(&answer).ok_or_else(|| refuse(unwritable()))?;
        let response = to_http(head, ()).map_err(|_| refuse(unwritable()))?;
        Ok((
            response,
            Upgrade {
                protocol,
                session,
                settings: self.stream_settings().clone(),
            },
        ))
    }
}

/// Reads back a response ws-proto wrote: its head and the bytes after it.
fn parse_head(bytes: &[u8]) -> Option<(ResponseHead, Vec<u8>)> {
    let mut input = RecvBuffer::new();
    input.extend_from_slice(bytes);
    let head = ResponseHeadParser::new(Limits::default())
        .parse(&mut input)
        .ok()??;
    Some((head, input.data().to_vec()))
}

fn to_http<T>(head: ResponseHead, body: T) -> Result<http::Response<T>, http::Error> {
    let mut response = http::Response::builder().status(head.status);
    for (name, value) in head.headers.iter() {
        response = response.header(name, value);
    }
    response.body(body)
}

fn bare(status: u16) -> http::Response<String> {
    let mut response = http::Response::new(String::new());
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    response
}

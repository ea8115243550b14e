//! [`WebSocketStream`]: a whole connection, as a `Stream` of messages and a `Sink`.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::{CloseCode, DeflateParams, RecvBuffer, Role, Session};

use crate::core::Core;
use crate::error::Error;
use crate::message::Message;
use crate::settings::Settings;
use crate::split::{ReadHalf, WriteHalf, join, split};

/// One WebSocket connection over any tokio transport (a `TcpStream`, a `tokio_rustls`
/// stream, hyper's upgraded connection through `hyper_util::rt::TokioIo`), in either
/// role.
///
/// It is a [`Stream`] of received [`Message`]s and a [`Sink`] of messages to send, with
/// inherent [`recv`](Self::recv), [`send`](Self::send), [`feed`](Self::feed) and
/// [`close`](Self::close) for code that does not use the futures traits.
///
/// - **Pings** are answered while the stream is polled for messages: the pong is written
///   in the same poll that receives the ping.
/// - **Batches**: [`feed`](Self::feed) (or `Sink::start_send`) only queues; everything
///   queued goes out in as few writes as the transport allows at the next
///   [`flush`](Self::flush), [`send`](Self::send), or poll for messages (before it waits
///   for input). An echo loop that feeds each reply writes once per batch of input.
/// - **Backpressure**: sending waits while [`Settings::write_buffer_limit`] bytes or
///   more are unsent, so a peer that never reads holds at most that plus one message.
/// - **Cancel safety**: [`recv`](Self::recv) and `StreamExt::next` may be dropped at any
///   `await` (inside `tokio::select!`): every byte and every state lives in the stream,
///   and a message is decoded and returned in the same poll, so nothing is lost or cut.
/// - **Keepalive and closing** run on the clocks in [`Settings`], while the stream is
///   polled for messages.
///
/// ```no_run
/// use futures_util::StreamExt;
/// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), ws_tokio::Error> {
/// let mut ws = ws_tokio::accept(tcp).await?;
/// while let Some(message) = ws.next().await {
///     let message = message?;
///     if message.is_data() {
///         ws.send(message).await?; // echo
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebSocketStream<S> {
    /// Boxed: a task that awaits a stream keeps it (and, as rustc lays out async fns,
    /// often a moved-from copy or two of it) in its future, so a small stream keeps an
    /// idle connection's task small (measured in benches/README.md).
    pub(crate) core: Box<Core<S>>,
    pub(crate) protocol: Option<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// A connection whose opening handshake is already done (by [`accept`](crate::accept),
    /// [`connect`](crate::connect), or the `http` feature's upgrade), with the deflate
    /// parameters agreed in it, if any, and the bytes that arrived after the handshake
    /// (they are the first frames).
    pub fn from_parts(
        io: S,
        role: Role,
        settings: Settings,
        deflate: Option<DeflateParams>,
        received: RecvBuffer,
    ) -> Self {
        let session = Session::new(role, settings.config.clone(), deflate);
        WebSocketStream::from_session(io, session, settings, received)
    }

    /// A connection over the session an opening handshake yielded
    /// ([`Accept::finish`](ws_proto::handshake::Accept::finish),
    /// [`ClientHandshake::parse`](ws_proto::handshake::ClientHandshake::parse)), with the
    /// bytes that arrived after the handshake (they are the first frames). The session's
    /// own [`Config`](ws_proto::Config) applies; `settings.config` is not used.
    pub fn from_session(io: S, session: Session, settings: Settings, received: RecvBuffer) -> Self {
        WebSocketStream {
            core: Box::new(Core::new(io, session, settings, received)),
            protocol: None,
        }
    }

    /// Sets the subprotocol agreed in the handshake (see [`protocol`](Self::protocol)).
    pub fn with_protocol(mut self, protocol: Option<String>) -> Self {
        self.protocol = protocol;
        self
    }

    /// The next message; `None` once the connection has ended (after the peer's
    /// [`Message::Close`], or after an error). Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] when the peer broke the protocol (our close frame
    /// with the matching code is sent first), [`Error::Io`], and the keepalive and close
    /// timeouts. After an error the next call returns `None`.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.core.poll_next(cx, None)).await
    }

    /// Sends a message: waits for room under the write buffer limit, queues it, and
    /// writes everything queued.
    ///
    /// # Errors
    ///
    /// [`ws_proto::LocalError::Closed`] (in [`Error::Protocol`]) once the closing
    /// handshake has started; an oversized control payload or close reason; [`Error::Io`].
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues a message without writing it (after waiting for room under the write
    /// buffer limit); the next [`flush`](Self::flush), [`send`](Self::send) or
    /// [`recv`](Self::recv) writes the batch.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn feed(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_ready_send(cx)).await?;
        self.core.start_send(message.into())
    }

    /// Writes everything queued and flushes the transport.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the transport fails.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_drain(cx)).await?;
        Ok(())
    }

    /// Runs the closing handshake (RFC 6455 7.1.2): sends a close frame with `code` and
    /// `reason` (at most 123 bytes), then receives until the peer's close frame arrives
    /// and the connection ends, discarding messages that arrive meanwhile. Bounded by
    /// [`Settings::close_timeout`].
    ///
    /// The peer's close frame is discarded too. To learn the code it answered with, send
    /// the close frame as a message and receive until it comes (the stream then ends;
    /// the close timeout still bounds the wait):
    ///
    /// ```no_run
    /// use ws_tokio::{CloseCode, Message};
    /// # async fn run(mut ws: ws_tokio::WebSocketStream<ws_tokio::ClientStream>) -> Result<(), ws_tokio::Error> {
    /// ws.send(Message::close(CloseCode::NORMAL, "done")).await?;
    /// while let Some(message) = ws.recv().await {
    ///     if let Message::Close(frame) = message? {
    ///         println!("the peer answered {:?}", frame.map(|f| f.code)); // None: no code
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ws_proto::LocalError::Closed`] (in [`Error::Protocol`]) if closing had already
    /// started, an invalid code or reason, [`Error::CloseTimeout`], [`Error::Io`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.core.session.close(code, reason)?;
        // The deadline covers writing our close too: a peer that stopped reading cannot
        // hold the flush open for ever.
        let limit = self.core.settings.close_timeout;
        let handshake = async {
            self.flush().await?;
            while let Some(item) = self.recv().await {
                item?;
            }
            Ok(())
        };
        match tokio::time::timeout(limit, handshake).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // Both close frames crossed and only the peer's end of TCP was awaited:
                // that ends normally at the deadline (RFC 6455 7.1.1), as `recv` does.
                let answered = self.core.session.is_closed();
                self.core.abandon();
                if answered {
                    Ok(())
                } else {
                    Err(Error::CloseTimeout(limit))
                }
            }
        }
    }

    /// Splits into a receiving and a sending half that two tasks can drive at once
    /// (see [`ReadHalf`]); [`ReadHalf::reunite`] puts them back together.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        split(*self.core, self.protocol)
    }

    /// The subprotocol agreed in the opening handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether permessage-deflate was agreed in the opening handshake.
    pub fn is_compressing(&self) -> bool {
        self.core.session.is_compressing()
    }

    /// The protocol session (state, role, limits).
    pub fn session(&self) -> &Session {
        &self.core.session
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.core.io
    }

    /// The transport. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.core.io
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// Puts the halves back together; gives them back if they come from different
    /// streams.
    ///
    /// # Errors
    ///
    /// The two halves, unchanged, if they do not belong to the same stream.
    #[allow(clippy::result_large_err)]
    pub fn reunite(
        self,
        writer: WriteHalf<S>,
    ) -> Result<WebSocketStream<S>, (ReadHalf<S>, WriteHalf<S>)> {
        join(self, writer).map(|(core, protocol)| WebSocketStream {
            core: Box::new(core),
            protocol,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.core.poll_next(cx, None)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.core.poll_ready_send(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.core.start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.core.poll_drain(cx).map_err(Error::from)
    }

    /// Sends a close frame (1000) if closing has not started and flushes; the stream
    /// side then ends when the peer answers.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.core.poll_close_sink(cx)
    }
}

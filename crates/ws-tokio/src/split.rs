//! Split halves: a reader and a writer that two tasks drive at once.
//!
//! Both halves drive one ws-proto `Session` (the reader queues pongs and close answers,
//! the writer queues messages) over one transport that, in general (TLS), cannot be
//! split either. So they share them behind a `std::sync::Mutex`, held only inside a
//! single poll, never across an `await`: a poll does a little non-blocking work and lets
//! go, so the other half waits for at most that. A stream that is not split takes no
//! lock at all.
//!
//! A transport keeps one waker per direction. Both halves write (the reader its pongs),
//! so writes are polled with one waker that wakes both halves' tasks; whichever runs
//! first writes what is queued, and the other finds it done.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use ws_proto::CloseCode;

use crate::core::Core;
use crate::error::Error;
use crate::message::Message;

const READER: usize = 0;
const WRITER: usize = 1;

/// The wakers of the two halves' tasks, woken together when the transport can take
/// more output.
#[derive(Debug, Default)]
struct WriteWakers {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl WriteWakers {
    fn register(&self, slot: usize, waker: &Waker) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        match &slots[slot] {
            Some(old) if old.will_wake(waker) => {}
            _ => slots[slot] = Some(waker.clone()),
        }
    }
}

impl Wake for WriteWakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let taken = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            [slots[READER].take(), slots[WRITER].take()]
        };
        for waker in taken.into_iter().flatten() {
            waker.wake();
        }
    }
}

#[derive(Debug)]
struct Shared<S> {
    core: Mutex<Core<S>>,
    protocol: Option<String>,
    wakers: Arc<WriteWakers>,
    /// Wakes both halves (made once from `wakers`).
    write_waker: Waker,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Core<S>> {
        // A panic in the other half while it held the lock cannot leave the session
        // half-updated in a way that matters more than the panic itself.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The halves of a stream's parts.
pub(crate) fn split<S>(core: Core<S>, protocol: Option<String>) -> (ReadHalf<S>, WriteHalf<S>) {
    let wakers = Arc::new(WriteWakers::default());
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        protocol,
        write_waker: Waker::from(wakers.clone()),
        wakers,
    });
    (
        ReadHalf {
            shared: shared.clone(),
        },
        WriteHalf { shared },
    )
}

/// The parts of a stream back from its two halves, or the halves if they come from
/// different streams.
#[allow(clippy::type_complexity)]
pub(crate) fn join<S>(
    reader: ReadHalf<S>,
    writer: WriteHalf<S>,
) -> Result<(Core<S>, Option<String>), (ReadHalf<S>, WriteHalf<S>)> {
    if !Arc::ptr_eq(&reader.shared, &writer.shared) {
        return Err((reader, writer));
    }
    drop(writer);
    match Arc::try_unwrap(reader.shared) {
        Ok(shared) => Ok((
            shared.core.into_inner().unwrap_or_else(|e| e.into_inner()),
            shared.protocol,
        )),
        // Unreachable: the two halves were the only owners and the writer is gone.
        Err(shared) => Err((
            ReadHalf {
                shared: shared.clone(),
            },
            WriteHalf { shared },
        )),
    }
}

/// The receiving half of a split [`WebSocketStream`](crate::WebSocketStream): a [`Stream`] of messages.
///
/// Polling it answers pings and runs keepalive and the close timeout, as for a whole
/// stream, even while the [`WriteHalf`] sits idle in another task.
#[derive(Debug)]
pub struct ReadHalf<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a split [`WebSocketStream`](crate::WebSocketStream): a [`Sink`] of messages.
#[derive(Debug)]
pub struct WriteHalf<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message; as [`WebSocketStream::recv`](crate::WebSocketStream::recv), cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        self.shared.wakers.register(READER, cx.waker());
        self.shared
            .lock()
            .poll_next(cx, Some(&self.shared.write_waker))
    }

    /// The subprotocol agreed in the opening handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.shared.protocol.as_deref()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// As [`WebSocketStream::send`](crate::WebSocketStream::send).
    ///
    /// # Errors
    ///
    /// As [`WebSocketStream::send`](crate::WebSocketStream::send).
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// As [`WebSocketStream::feed`](crate::WebSocketStream::feed).
    ///
    /// # Errors
    ///
    /// As [`WebSocketStream::send`](crate::WebSocketStream::send).
    pub async fn feed(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        poll_fn(|cx| self.with_core(cx, |core, wcx| core.poll_ready_send(wcx))).await?;
        self.shared.lock().start_send(message.into())
    }

    /// As [`WebSocketStream::flush`](crate::WebSocketStream::flush).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the transport fails.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.with_core(cx, |core, wcx| core.poll_drain(wcx))).await?;
        Ok(())
    }

    /// Sends a close frame and flushes it, within
    /// [`Settings::close_timeout`](crate::Settings) (a peer that stopped reading gives
    /// [`Error::CloseTimeout`]). The [`ReadHalf`] then receives the peer's answer and ends
    /// (or ends with [`Error::CloseTimeout`]).
    ///
    /// # Errors
    ///
    /// [`ws_proto::LocalError::Closed`] (in [`Error::Protocol`]) if closing had already
    /// started, an invalid code or reason, [`Error::CloseTimeout`], [`Error::Io`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let limit = {
            let mut core = self.shared.lock();
            core.session.close(code, reason)?;
            core.settings.close_timeout
        };
        match tokio::time::timeout(limit, self.flush()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::CloseTimeout(limit)),
        }
    }

    /// Polls `f` with a context whose waker wakes both halves.
    fn with_core<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Core<S>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.shared.wakers.register(WRITER, cx.waker());
        let mut wcx = Context::from_waker(&self.shared.write_waker);
        f(&mut self.shared.lock(), &mut wcx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_core(cx, |core, wcx| core.poll_ready_send(wcx))
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.shared.lock().start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_core(cx, |core, wcx| core.poll_drain(wcx).map_err(Error::from))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_core(cx, |core, wcx| core.poll_close_sink(wcx))
    }
}

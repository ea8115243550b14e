//! The driver: one ws-proto [`Session`] over one `AsyncRead + AsyncWrite`, as poll
//! functions that keep every bit of state in the struct, never in a future.
//!
//! That is what makes receiving cancel-safe: a `recv()` dropped inside `select!` between
//! two polls leaves received bytes in `input` and decoded messages unreturned only if
//! they were never decoded; a message is decoded and returned in the same poll.
//!
//! No protocol logic lives here. Framing, masking, UTF-8, fragments, pings, the closing
//! handshake and deflate are the session's; this file moves bytes between the session
//! and the transport, and runs the clocks ws-proto leaves to its driver (keepalive, the
//! close timeout).

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep, sleep, sleep_until};
use ws_proto::{CloseCode, RecvBuffer, Role, Session, State};

use crate::error::Error;
use crate::message::Message;
use crate::recycle;
use crate::settings::Settings;

/// How much room each read offers at least ([`recycle::READ_CHUNK`]).
pub(crate) use recycle::READ_CHUNK;

/// Single-frame messages from this size on are read into storage of their own and handed
/// over in it ([`Session::hand_over_payloads_from`]): the `Bytes` or `String` delivered
/// is that storage, not a copy of it. Smaller ones are copied out of the shared receive
/// buffer, which costs less than an allocation of their own.
const HAND_OVER_FROM: usize = recycle::SCRATCH_MAX;

/// Binary messages from this size on are written from their own `Bytes`, beside the
/// frame header, rather than copied into the session's output
/// ([`Session::send_binary_external`]; a server's frames only, as a client masks).
const EXTERNAL_FROM: usize = 64 * 1024;

/// Reads once from `io` into `input`; `Ok(0)` is the end of the stream.
///
/// An `input` without storage is lent some first ([`recycle::lend_input`]). A read into
/// an empty buffer takes at most [`READ_CHUNK`] bytes, so that a large frame that starts
/// there has little to move to the front of the storage, and small messages touch little
/// of it. Inline: the message path calls it once per message, and a call costs more
/// than its own work.
#[inline(always)]
pub(crate) fn poll_read_into<S: AsyncRead + Unpin>(
    io: &mut S,
    input: &mut RecvBuffer,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    poll_read_room(io, input, cx).map_ok(|(n, _)| n)
}

/// [`poll_read_into`], with the room the read was offered: `(bytes read, room)`.
#[inline(always)]
fn poll_read_room<S: AsyncRead + Unpin>(
    io: &mut S,
    input: &mut RecvBuffer,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(usize, usize)>> {
    recycle::lend_input(input);
    let fresh = input.is_empty();
    let spare = input.spare(READ_CHUNK);
    let room = if fresh {
        let n = spare.len().min(READ_CHUNK);
        &mut spare[..n]
    } else {
        spare
    };
    let offered = room.len();
    let mut buf = ReadBuf::new(room);
    ready!(Pin::new(io).poll_read(cx, &mut buf))?;
    let n = buf.filled().len();
    input.commit(n);
    Poll::Ready(Ok((n, offered)))
}

/// [`poll_read_into`] for an opening handshake: while the read waits, `input`'s storage
/// goes back to the thread ([`recycle::take_back_input`], within `recycle_limit`), so
/// that a connection waiting for its request holds none, and one that sent part of it
/// holds those bytes, not the thread's recycled large storage they were read into.
pub(crate) fn poll_read_handshake<S: AsyncRead + Unpin>(
    io: &mut S,
    input: &mut RecvBuffer,
    recycle_limit: usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let read = poll_read_into(io, input, cx);
    if read.is_pending() {
        recycle::take_back_input(input, None, recycle_limit);
    }
    read
}

/// Where the connection is, beyond the session's own state.
#[derive(Debug)]
enum Phase {
    /// Messages flow.
    Open,
    /// The session is closed (handshake done or connection failed): flush what is
    /// queued, close TCP, then end the stream with this error, if any.
    Finishing(Option<Error>),
    /// The stream has ended.
    Done,
}

/// Keepalive state, made on first use (a `Sleep` needs the runtime).
#[derive(Debug)]
struct Keepalive {
    timer: Pin<Box<Sleep>>,
    /// When our ping went out, while it waits for an answer.
    ping_sent: Option<Instant>,
    /// The waker `timer` was last polled with (and holds), while it is pending.
    waker: Option<Waker>,
}

/// A session, its transport and its clocks.
#[derive(Debug)]
pub(crate) struct Core<S> {
    pub(crate) io: S,
    pub(crate) session: Session,
    input: RecvBuffer,
    pub(crate) settings: Settings,
    phase: Phase,
    close_timer: Option<Pin<Box<Sleep>>>,
    keepalive: Option<Keepalive>,
    /// When bytes last arrived (or the stream started), for keepalive.
    last_heard: Instant,
    /// Bytes were written to the transport since its last flush (TLS streams buffer).
    unflushed: bool,
    /// The payload of the message queued with `Session::send_binary_external`, while
    /// part of it is unwritten: its last `session.external_pending()` bytes.
    external: Option<Bytes>,
    /// The session's last [`Session::decode`] returned `Ok(None)` (it needs more bytes)
    /// and no byte has arrived since: decoding again would only say so again (about 50
    /// instructions, on the first poll after a wakeup of a connection holding part of a
    /// frame).
    needs_input: bool,
    /// The last read took less than the room it was offered, and nothing is left in
    /// `input`: the transport has likely nothing more until it wakes us (tokio's
    /// `TcpStream` clears its readiness after such a read), so the next read only
    /// registers the wakeup. That read is offered no room ([`poll_wait`](Self::poll_wait)):
    /// the receive buffer goes back to the thread without being prepared for a read
    /// that brings nothing.
    drained: bool,
    /// Whether reads offered no room are worth making: true until one was answered at
    /// once (`Ready`, nothing read) and the read for real that followed waited. That is
    /// a transport that does not wait on a read it cannot fill (tokio's `TcpStream` and
    /// tokio-rustls's stream do wait; `AsyncRead` allows either): for it, such a read is
    /// only a second pass through its read path, so this connection reads as before.
    probe: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Core<S> {
    pub(crate) fn new(
        io: S,
        mut session: Session,
        settings: Settings,
        received: RecvBuffer,
    ) -> Self {
        session.hand_over_payloads_from(Some(HAND_OVER_FROM));
        Core {
            io,
            session,
            input: received,
            settings,
            phase: Phase::Open,
            close_timer: None,
            keepalive: None,
            last_heard: Instant::now(),
            unflushed: false,
            external: None,
            needs_input: false,
            drained: false,
            probe: true,
        }
    }

    /// The next message, or `None` once the connection has ended.
    ///
    /// `write_waker` is woken when the transport can take more output: `None` for the
    /// caller's own waker (a whole stream), one that wakes both halves for a split one.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        write_waker: Option<&Waker>,
    ) -> Poll<Option<Result<Message, Error>>> {
        // Borrowed, not cloned: a clone and its drop are two atomic operations per poll.
        let write_waker = write_waker.unwrap_or(cx.waker());
        loop {
            if !matches!(self.phase, Phase::Open) {
                return self.poll_ended(cx, write_waker);
            }
            // Every event completes a frame, whose header at least comes in `input`: with
            // nothing there, or nothing new since the session asked for more, there is
            // nothing to decode.
            let decoded = if self.needs_input || self.input.is_empty() {
                Ok(None)
            } else {
                self.session.decode(&mut self.input)
            };
            match decoded {
                Ok(Some(event)) => {
                    let message = Message::from_event(event);
                    if matches!(message, Message::Ping(_) | Message::Close(_)) {
                        // The pong or the close answer is queued: send it now rather
                        // than at the next poll, which may never come.
                        let mut wcx = Context::from_waker(write_waker);
                        if let Poll::Ready(Err(err)) = self.poll_drain(&mut wcx) {
                            self.phase = Phase::Done;
                            return Poll::Ready(Some(Err(err.into())));
                        }
                    }
                    if self.session.is_closed() {
                        self.phase = Phase::Finishing(None);
                    }
                    return Poll::Ready(Some(Ok(message)));
                }
                Ok(None) => self.needs_input = true,
                Err(err) => {
                    // RFC 6455 7.1.7: the session queued the close frame with the
                    // error's code; send it, then drop the connection.
                    self.phase = Phase::Finishing(Some(err.into()));
                    continue;
                }
            }
            if self.session.is_closed() {
                self.phase = Phase::Finishing(None);
                continue;
            }
            // Output queued meanwhile (pongs, a close, a batch fed without flushing) goes
            // out before we wait for input; a peer that does not read never blocks reads.
            let mut wcx = Context::from_waker(write_waker);
            if let Poll::Ready(Err(err)) = self.poll_drain(&mut wcx) {
                self.phase = Phase::Done;
                return Poll::Ready(Some(Err(err.into())));
            }
            // Closing: the close timer bounds the wait for the peer's close however much
            // else it still sends, so it is checked before each read, not only when a
            // read would wait (a peer that keeps the socket readable cannot hold it open).
            if self.session.state() == State::CloseSent && self.poll_close_timer(cx).is_ready() {
                self.phase = Phase::Done;
                let _ = Pin::new(&mut self.io).poll_shutdown(&mut wcx);
                return Poll::Ready(Some(Err(Error::CloseTimeout(self.settings.close_timeout))));
            }
            let read = if self.drained && self.probe && self.input.is_empty() {
                self.poll_wait(cx)
            } else {
                self.poll_read_more(cx)
            };
            match read {
                Poll::Ready(Ok(0)) => {
                    self.phase = Phase::Done;
                    // RFC 6455 7.1.5: without a close frame, that is 1006 (an error).
                    return Poll::Ready(self.session.receive_eof().err().map(|e| Err(e.into())));
                }
                Poll::Ready(Ok(_)) => {
                    self.needs_input = false;
                    if self.settings.ping_interval.is_some() {
                        self.last_heard = Instant::now();
                    }
                    continue;
                }
                Poll::Ready(Err(err)) => {
                    self.phase = Phase::Done;
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Pending => {}
            }
            // Nothing to read: the keepalive clock (the close timer is polled above).
            if self.session.state() != State::CloseSent
                && let Poll::Ready(result) = self.poll_keepalive(cx)
            {
                if let Err(err) = result {
                    self.phase = Phase::Finishing(Some(err));
                }
                continue; // a ping (or our close) was queued: write it
            }
            // Idle: hold no receive buffer, nor large storage for the start of a frame
            // (unless a payload to hand over is being gathered there).
            recycle::take_back_input(
                &mut self.input,
                Some(&self.session),
                self.settings.recycle_limit,
            );
            return Poll::Pending;
        }
    }

    /// [`poll_next`](Self::poll_next) once the session is closed: finishes the
    /// connection, then ends the stream (with the error that ended it, if any). Out of
    /// line: the message path only checks that it is not there.
    #[cold]
    #[inline(never)]
    fn poll_ended(
        &mut self,
        cx: &mut Context<'_>,
        write_waker: &Waker,
    ) -> Poll<Option<Result<Message, Error>>> {
        debug_assert!(!matches!(self.phase, Phase::Open), "poll_ended while open");
        match self.phase {
            // (`Open` never comes here.)
            Phase::Done | Phase::Open => Poll::Ready(None),
            Phase::Finishing(_) => {
                ready!(self.poll_finish(cx, write_waker));
                let outcome = match std::mem::replace(&mut self.phase, Phase::Done) {
                    Phase::Finishing(outcome) => outcome,
                    _ => None,
                };
                Poll::Ready(outcome.map(Err))
            }
        }
    }

    /// Reads once into the receive buffer ([`poll_read_into`]); `Ok(0)` is the end of
    /// the stream.
    #[inline(always)]
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let (n, offered) = ready!(poll_read_room(&mut self.io, &mut self.input, cx))?;
        self.drained = n < offered;
        Poll::Ready(Ok(n))
    }

    /// The read after a read that drained the transport ([`drained`](Self::drained)),
    /// with nothing left in `input`: the receive buffer goes back to the thread first,
    /// and the transport is polled with no room, which registers the wakeup (`Pending`,
    /// the common case) or says that it may have bytes (an empty read is `Ready` at once
    /// then, telling nothing, not even the end of the stream): then it is read for real.
    /// If that read waits, the transport answers reads it cannot fill at once, and this
    /// connection stops making them ([`probe`](Self::probe)).
    #[inline(always)]
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.drained = false;
        recycle::take_back_input(
            &mut self.input,
            Some(&self.session),
            self.settings.recycle_limit,
        );
        let mut no_room = ReadBuf::new(&mut []);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut no_room))?;
        let read = self.poll_read_more(cx);
        if read.is_pending() {
            self.probe = false;
        }
        read
    }

    /// Writes until at most `max_left` bytes are queued: every unwritten byte counts
    /// ([`Session::queued_len`]), including what was queued after an external payload.
    ///
    /// Inline, down to the check that there is nothing to write: most calls (the drain
    /// before a read, the room check before queuing a message) find that, and a call
    /// costs more than the check.
    #[inline(always)]
    fn poll_write_down_to(
        &mut self,
        cx: &mut Context<'_>,
        max_left: usize,
    ) -> Poll<io::Result<()>> {
        if self.external.is_none() && self.session.queued_len() <= max_left {
            return Poll::Ready(Ok(()));
        }
        self.poll_write_out(cx, max_left)
    }

    /// [`poll_write_down_to`](Self::poll_write_down_to) past its check: something is to
    /// be written.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, max_left: usize) -> Poll<io::Result<()>> {
        // The common path first, as small as it was before external payloads: `external`
        // is set exactly while one is queued, and without one, what is queued is
        // `pending`.
        if self.external.is_some() {
            return self.poll_write_down_to_external(cx, max_left);
        }
        loop {
            if self.session.queued_len() <= max_left {
                return Poll::Ready(Ok(()));
            }
            let pending = self.session.pending();
            let all = pending.len();
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.unflushed = true;
            if n < all {
                self.session.advance(n);
            } else {
                // Drained: the storage goes back to the thread.
                recycle::advance_output(&mut self.session, n);
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// [`poll_write_down_to`](Self::poll_write_down_to) while an external payload is
    /// queued (and after it, until at most `max_left` bytes are left). While the payload
    /// is outstanding, `pending` stops at it and hides what was queued after it, so the
    /// bound is on [`Session::queued_len`]: a peer that never reads cannot make small
    /// messages (or large ones copied after the payload) pile up unbounded behind it.
    #[inline(never)]
    fn poll_write_down_to_external(
        &mut self,
        cx: &mut Context<'_>,
        max_left: usize,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.session.queued_len() <= max_left {
                return Poll::Ready(Ok(()));
            }
            if self.session.external_pending() > 0 {
                ready!(self.poll_write_external(cx))?;
                continue;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, self.session.pending()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            recycle::advance_output(&mut self.session, n);
            self.unflushed = true;
        }
    }

    /// One write, while an external payload is outstanding, of what is queued before the
    /// payload and the payload's unwritten part, from the message's own storage, in one
    /// system call where the transport can (a TCP stream can; TLS streams write the
    /// first slice). Out of line, so that the common path stays small.
    #[inline(never)]
    fn poll_write_external(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let external = self.session.external_pending();
        let payload = match &self.external {
            Some(data) if data.len() >= external => &data[data.len() - external..],
            _ => return Poll::Ready(Err(io::Error::other("external payload lost"))),
        };
        let pending = self.session.pending().len();
        let slices = [IoSlice::new(self.session.pending()), IoSlice::new(payload)];
        let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        let from_pending = n.min(pending);
        recycle::advance_output(&mut self.session, from_pending);
        if n > from_pending {
            recycle::advance_external(&mut self.session, n - from_pending);
            if self.session.external_pending() == 0
                && let Some(sent) = self.external.take()
            {
                // Written: its storage can take the next large message.
                recycle::keep_payload(sent, self.settings.recycle_limit);
            }
        }
        self.unflushed = true;
        Poll::Ready(Ok(()))
    }

    /// Writes everything queued and flushes the transport.
    /// Ends the stream without waiting for anything more (a deadline passed): later
    /// polls return `None`, and the transport is closed when the stream is dropped.
    pub(crate) fn abandon(&mut self) {
        self.phase = Phase::Done;
    }

    pub(crate) fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_down_to(cx, 0))?;
        if self.unflushed {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Ready when another message may be queued: less than the write buffer limit is
    /// waiting ([`Session::queued_len`]).
    pub(crate) fn poll_ready_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let max_left = self.settings.write_buffer_limit.saturating_sub(1);
        ready!(self.poll_write_down_to(cx, max_left))?;
        Poll::Ready(Ok(()))
    }

    /// Queues a message in the session (no I/O), with the thread's output buffer lent to
    /// it ([`recycle::lend_output`]; for a text, [`recycle::send_text`] lends it and keeps
    /// the text's storage in one access to the thread's storage).
    #[inline(always)]
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        let session = &mut self.session;
        let limit = self.settings.recycle_limit;
        // A text lends the output buffer itself, in the access that keeps its storage.
        if !matches!(message, Message::Text(_)) {
            recycle::lend_output(session);
        }
        match message {
            Message::Text(text) => {
                return recycle::send_text(session, text, limit).map_err(Error::from);
            }
            Message::Binary(data) if data.len() >= EXTERNAL_FROM => {
                if session.send_binary_external(data.len())? {
                    self.external = Some(data);
                    return Ok(());
                }
                // Copied into the output (a client masks it): its storage is free now.
                let sent = session.send_binary(&data);
                recycle::keep_payload(data, limit);
                sent
            }
            Message::Binary(data) => {
                let sent = session.send_binary(&data);
                recycle::keep_payload(data, limit);
                sent
            }
            Message::Ping(data) => session.send_ping(&data),
            Message::Pong(data) => session.send_pong(&data),
            Message::Fragment { kind, data, last } => session.send_fragment(kind, &data, last),
            // RFC 6455 5.5.1 allows a close frame without a code; ws-proto always sends
            // one, so "no code" is sent as 1000.
            Message::Close(frame) => match frame {
                Some(frame) => session.close(frame.code, &frame.reason),
                None => session.close(CloseCode::NORMAL, ""),
            },
        }
        .map_err(Error::from)
    }

    /// Starts the closing handshake if it has not started, and flushes.
    pub(crate) fn poll_close_sink(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.session.state() == State::Open {
            self.session.close(CloseCode::NORMAL, "")?;
        }
        ready!(self.poll_drain(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Finishes a closed connection: flush, let a client wait for the server to close
    /// TCP first (RFC 6455 7.1.1), close TCP. Bounded by the close timeout, whose timer
    /// is only armed once something has to be waited for: a server whose answer to the
    /// peer's close goes out at once registers no timer (which would cost a timer-wheel
    /// entry and, on tokio, a wakeup of the runtime's driver per connection).
    fn poll_finish(&mut self, cx: &mut Context<'_>, write_waker: &Waker) -> Poll<()> {
        let mut wcx = Context::from_waker(write_waker);
        // A peer that missed its keepalive is gone: one try to write our close, no wait.
        let abort = matches!(
            self.phase,
            Phase::Finishing(Some(Error::KeepaliveTimeout(_)))
        );
        if !abort && self.close_timer.is_none() {
            match self.poll_finish_gracefully(cx, &mut wcx) {
                Poll::Ready(()) => {
                    self.end_input();
                    return Poll::Ready(());
                }
                // Something to wait for: from now on, within the close timeout.
                Poll::Pending => {
                    if self.poll_close_timer(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
        } else if !abort && self.poll_close_timer(cx).is_pending() {
            match self.poll_finish_gracefully(cx, &mut wcx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    self.end_input();
                    return Poll::Ready(());
                }
            }
        }
        // Timed out (or aborting): one last try to write, and close TCP.
        let _ = self.poll_drain(&mut wcx);
        let _ = Pin::new(&mut self.io).poll_shutdown(&mut wcx);
        self.end_input();
        Poll::Ready(())
    }

    /// The connection reads no more: its receive buffer goes back to the thread for the
    /// next connection (freeing it would make that one allocate and zero another), any
    /// bytes still in it dropped.
    fn end_input(&mut self) {
        recycle::give_back_input(std::mem::take(&mut self.input), self.settings.recycle_limit);
    }

    /// The unhurried end of [`poll_finish`](Self::poll_finish): flush, a client's wait
    /// for the server's end of stream, and our own shutdown, each once.
    fn poll_finish_gracefully(&mut self, cx: &mut Context<'_>, wcx: &mut Context<'_>) -> Poll<()> {
        match self.poll_drain(wcx) {
            Poll::Pending => return Poll::Pending,
            // The transport failed: there is nothing left to shut down.
            Poll::Ready(Err(_)) => return Poll::Ready(()),
            Poll::Ready(Ok(())) => {}
        }
        let graceful = matches!(self.phase, Phase::Finishing(None));
        if graceful && self.session.role() == Role::Client {
            // RFC 6455 7.1.1: "the client SHOULD wait for the server to close the
            // connection"; anything still arriving is discarded.
            loop {
                match self.poll_read_more(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(0) | Err(_)) => break,
                    Poll::Ready(Ok(_)) => self.input = RecvBuffer::new(),
                }
            }
        }
        // RFC 6455 7.1.1: the server closes TCP at once. Once: a second shutdown of a
        // socket already shut down is a system call that only fails.
        Pin::new(&mut self.io).poll_shutdown(wcx).map(|_| ())
    }

    fn poll_close_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timeout = self.settings.close_timeout;
        self.close_timer
            .get_or_insert_with(|| Box::pin(sleep(timeout)))
            .as_mut()
            .poll(cx)
    }

    /// Ready with `Ok` when a ping was queued, with `Err` when the peer missed one (our
    /// 1011 close is queued).
    fn poll_keepalive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(interval) = self.settings.ping_interval else {
            return Poll::Pending;
        };
        let last_heard = self.last_heard;
        let keepalive = self.keepalive.get_or_insert_with(|| Keepalive {
            timer: Box::pin(sleep_until(last_heard + interval)),
            ping_sent: None,
            waker: None,
        });
        loop {
            // The timer keeps the waker it was last polled with: while that is this
            // poll's waker and the deadline has not passed, polling it again would only
            // register the same waker again (about 120 instructions on each idle turn
            // of a busy connection).
            let same_waker = keepalive
                .waker
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()));
            if same_waker && !keepalive.timer.is_elapsed() {
                return Poll::Pending;
            }
            if keepalive.timer.as_mut().poll(cx).is_pending() {
                if !same_waker {
                    keepalive.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            keepalive.waker = None;
            let now = Instant::now();
            match keepalive.ping_sent {
                // Heard from the peer since our ping (or within the interval): alive.
                Some(sent) if self.last_heard >= sent => keepalive.ping_sent = None,
                None if now < self.last_heard + interval => {}
                Some(_) => {
                    // RFC 6455 7.4.1: 1011, "an unexpected condition", as python-websockets.
                    let _ = self
                        .session
                        .close(CloseCode::INTERNAL_ERROR, "keepalive ping timeout");
                    return Poll::Ready(Err(Error::KeepaliveTimeout(self.settings.pong_timeout)));
                }
                None => {
                    keepalive.ping_sent = Some(now);
                    let timeout = self.settings.pong_timeout;
                    keepalive.timer.as_mut().reset(now + timeout);
                    if self.session.send_ping(b"keepalive").is_ok() {
                        return Poll::Ready(Ok(()));
                    }
                    continue;
                }
            }
            keepalive.timer.as_mut().reset(self.last_heard + interval);
        }
    }
}

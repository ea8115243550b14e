//! One connection shared by a reading half and a writing half, on two threads at once.
//!
//! The ws-proto session (and the TLS state, for `wss://`) sit behind one mutex, `state`,
//! which is never held during a blocking socket call: the reader blocks in `read` on its
//! own handle of the socket with no lock held, then locks `state` to decode what arrived.
//!
//! Writing: whoever finds the `writing` flag clear sets it (under the mutex) and so owns
//! the socket's write side. It takes everything queued (encrypting it, for TLS), lets go
//! of the mutex, writes, and comes back for more, until nothing is left; then it clears
//! the flag, still under the mutex. Bytes therefore leave in the order they were encoded,
//! as TLS records must, and none is stranded: anything queued while a write is under way
//! is taken by that writer before it stops. With one mutex there is no lock order to get
//! wrong.
//!
//! A sender that finds a write under way waits (on a condition variable, mutex released)
//! until its bytes are out, which gives it backpressure. The reader never waits: its pongs
//! and close answers are left to the writer under way, if there is one.

#[cfg(feature = "tls")]
use std::io::Read as _;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

#[cfg(feature = "tls")]
use rustls::ClientConnection;
use ws_proto::{Message, RecvBuffer, Session, State as SessionState};
#[cfg(feature = "tls")]
use ws_transport::{TlsReadError, read_plaintext};

use crate::error::Error;
use crate::timers::{Clock, KEEPALIVE_PAYLOAD, Timeouts};

/// The protocol state of the connection.
pub(crate) struct State {
    pub session: Session,
    #[cfg(feature = "tls")]
    pub tls: Option<ClientConnection>,
    /// A thread owns the socket's write side and is writing.
    writing: bool,
    /// Batches written so far; senders wait for the batch that carries their bytes.
    batches: u64,
    /// A write failed: the connection cannot send any more.
    broken: Option<io::ErrorKind>,
    /// When the first close frame was sent or received: the close timeout runs from here.
    pub closing_since: Option<Instant>,
}

impl State {
    /// Starts the close timeout's clock once the session has left the open state.
    fn note_closing(&mut self) {
        if self.closing_since.is_none() && self.session.state() != SessionState::Open {
            self.closing_since = Some(Instant::now());
        }
    }

    /// Turns everything queued into bytes for the socket (encrypting them for TLS).
    fn take_outgoing(&mut self) -> Result<Vec<u8>, Error> {
        let pending = self.session.pending();
        let n = pending.len();
        #[cfg(feature = "tls")]
        let bytes = match &mut self.tls {
            None => pending.to_vec(),
            Some(tls) => encrypt(tls, pending)?,
        };
        #[cfg(not(feature = "tls"))]
        let bytes = pending.to_vec();
        self.session.advance(n);
        Ok(bytes)
    }
}

/// rustls' records for `pending`.
#[cfg(feature = "tls")]
fn encrypt(tls: &mut ClientConnection, pending: &[u8]) -> Result<Vec<u8>, Error> {
    let n = pending.len();
    // rustls takes a bounded amount of plaintext at a time (64 KiB by
    // default): feed it in pieces, taking the records out in between.
    let mut records = Vec::new();
    let mut fed = 0;
    loop {
        if fed < n {
            fed += tls.writer().write(&pending[fed..])?;
        }
        let before = records.len();
        while tls.wants_write() {
            tls.write_tls(&mut records)?;
        }
        if fed == n {
            break;
        }
        if records.len() == before {
            return Err(Error::Io(io::ErrorKind::WriteZero.into()));
        }
    }
    Ok(records)
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled after each batch written, and when the writer stops.
    written: Condvar,
    /// The socket's write side; written only by the thread that set `writing`.
    tcp: TcpStream,
    /// `wss://`: reads go through TLS.
    #[cfg(feature = "tls")]
    pub secure: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Return once the bytes queued so far are written.
    Wait,
    /// Leave the bytes to the writer under way, if there is one.
    Try,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked while holding the lock leaves consistent data behind (every
    // update is a single call into ws-proto or rustls), so carry on.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(
        session: Session,
        #[cfg(feature = "tls")] tls: Option<ClientConnection>,
        tcp: TcpStream,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            #[cfg(feature = "tls")]
            secure: tls.is_some(),
            state: Mutex::new(State {
                session,
                #[cfg(feature = "tls")]
                tls,
                writing: false,
                batches: 0,
                broken: None,
                closing_since: None,
            }),
            written: Condvar::new(),
            tcp,
        })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Gets everything queued in `state` written; see the module docs for the protocol.
    pub(crate) fn flush<'s>(
        &'s self,
        mut state: MutexGuard<'s, State>,
        mode: Flush,
    ) -> Result<(), Error> {
        if state.writing {
            if mode == Flush::Try {
                return Ok(());
            }
            // The batch under way may have been taken before our bytes were queued; the
            // one after it carries them.
            let target = state.batches + 2;
            while state.writing && state.batches < target && state.broken.is_none() {
                state = self
                    .written
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        if let Some(kind) = state.broken {
            return Err(io::Error::from(kind).into());
        }
        if state.writing {
            // Our bytes are out, written by the other thread.
            return Ok(());
        }
        state.writing = true;
        loop {
            let bytes = match state.take_outgoing() {
                Ok(bytes) => bytes,
                Err(err) => {
                    state.writing = false;
                    self.written.notify_all();
                    return Err(err);
                }
            };
            if bytes.is_empty() {
                state.writing = false;
                self.written.notify_all();
                return Ok(());
            }
            drop(state);
            let result = (&self.tcp).write_all(&bytes);
            state = self.state();
            state.batches += 1;
            if let Err(err) = result {
                state.writing = false;
                state.broken = Some(err.kind());
                self.written.notify_all();
                return Err(err.into());
            }
            self.written.notify_all();
        }
    }

    /// Runs a send on the session and writes its bytes.
    pub(crate) fn send(
        &self,
        send: impl FnOnce(&mut Session) -> Result<(), ws_proto::LocalError>,
    ) -> Result<(), Error> {
        let mut state = self.state();
        let sent = send(&mut state.session).map_err(|err| match err {
            ws_proto::LocalError::Closed => Error::ConnectionClosed,
            other => Error::Send(other.into()),
        });
        state.note_closing();
        sent?;
        self.flush(state, Flush::Wait)
    }
}

/// What a read from the socket brought.
pub(crate) enum Read {
    Data,
    Eof,
}

/// The reading half's own state: its handle of the socket and its buffers.
pub(crate) struct ReadSide {
    pub shared: Arc<Shared>,
    pub tcp: TcpStream,
    /// Plaintext received and not yet decoded.
    pub input: RecvBuffer,
    /// The read, close and keepalive timeouts.
    pub timeouts: Timeouts,
    /// When bytes last arrived, and the keepalive ping in flight.
    pub clock: Clock,
    /// The read timeout last set on the socket, to skip setting the same again.
    pub socket_timeout: Option<Duration>,
}

impl ReadSide {
    /// The reading half of a connection whose handshake is done; `input` holds what
    /// came after the server's answer.
    pub(crate) fn new(
        shared: Arc<Shared>,
        tcp: TcpStream,
        input: RecvBuffer,
        timeouts: Timeouts,
        clock: Clock,
    ) -> ReadSide {
        ReadSide {
            shared,
            tcp,
            input,
            timeouts,
            clock,
            socket_timeout: None,
        }
    }

    /// Blocks until bytes arrive (or end of stream), with no lock held while blocked.
    pub(crate) fn read_more(&mut self) -> Result<Read, Error> {
        #[cfg(feature = "tls")]
        if self.shared.secure {
            return self.read_records();
        }
        Ok(match self.input.read_from(&mut self.tcp)? {
            0 => Read::Eof,
            _ => Read::Data,
        })
    }

    /// [`read_more`](Self::read_more) for `wss://`: records in, plaintext out.
    #[cfg(feature = "tls")]
    fn read_records(&mut self) -> Result<Read, Error> {
        let mut records = vec![0u8; 16 * 1024];
        let n = self.tcp.read(&mut records)?;
        records.truncate(n);
        let eof = records.is_empty();
        let mut state = self.shared.state();
        let Some(tls) = state.tls.as_mut() else {
            return Ok(Read::Eof);
        };
        let mut rest = records.as_slice();
        let mut closed = false;
        loop {
            if !rest.is_empty() {
                tls.read_tls(&mut rest)?;
            }
            let plaintext = match read_plaintext(tls, &mut self.input) {
                Ok(plaintext) => plaintext,
                Err(TlsReadError::Tls(err)) => {
                    // Send the alert rustls queued, then report.
                    let _ = self.shared.flush(state, Flush::Try);
                    return Err(Error::Tls(err));
                }
                Err(TlsReadError::Io(err)) => return Err(err.into()),
            };
            closed |= plaintext.peer_closed;
            if rest.is_empty() {
                break;
            }
        }
        // Handshake messages and alerts rustls wants to send.
        self.shared.flush(state, Flush::Try)?;
        Ok(if eof || (closed && self.input.is_empty()) {
            Read::Eof
        } else {
            Read::Data
        })
    }

    /// Sets the socket's read timeout for the next read, if it changed.
    pub(crate) fn set_socket_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        // A zero timeout means "none" to the socket: wait at least a millisecond.
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        if timeout != self.socket_timeout {
            self.tcp.set_read_timeout(timeout)?;
            self.socket_timeout = timeout;
        }
        Ok(())
    }

    /// Queues a keepalive ping and writes it unless a write is under way (which then
    /// takes it): the reader never waits on the socket's write side.
    pub(crate) fn send_keepalive_ping(&mut self) -> Result<(), Error> {
        let mut state = self.shared.state();
        match state.session.send_ping(KEEPALIVE_PAYLOAD) {
            Ok(()) => self.shared.flush(state, Flush::Try),
            // Closing: the close timeout bounds the wait instead.
            Err(_) => Ok(()),
        }
    }

    /// Ends the TCP connection both ways, for a deadline that passed. Any thread blocked
    /// on the socket returns.
    pub(crate) fn shutdown(&self) {
        let _ = self.tcp.shutdown(Shutdown::Both);
    }

    /// Decodes the next event out of what was received.
    pub(crate) fn decode(&mut self) -> Result<Option<Message>, Error> {
        let mut state = self.shared.state();
        let decoded = state.session.decode(&mut self.input);
        match decoded {
            Ok(event) => {
                let message = event.map(Message::from);
                state.note_closing();
                self.shared.flush(state, Flush::Try)?;
                Ok(message)
            }
            Err(err) => {
                state.note_closing();
                // The close frame with the error's code goes out before we stop.
                let _ = self.shared.flush(state, Flush::Wait);
                Err(Error::Protocol(err))
            }
        }
    }

    /// The stream ended: clean if the closing handshake was done.
    pub(crate) fn end_of_stream(&mut self) -> Error {
        match self.shared.state().session.receive_eof() {
            Ok(()) => Error::ConnectionClosed,
            Err(_) => Error::AbnormalClosure,
        }
    }
}

//! One connection's lifecycle: what received bytes, the end of the peer's stream, a
//! write and a deadline do to it.
//!
//! The phases (see [`Phase`]) move on events, never by polling:
//!
//! ```text
//!             request parsed, accepted              session closed (close frames
//!  Handshake ------------------------> Open ------- exchanged, protocol error, peer's
//!      |                                 |          FIN) ------------------------+
//!      | refused / bad request           | disconnect(): Open { closing: Some }  |
//!      +--------------------------------------------------------------> Flushing
//!                                                  all bytes out, our FIN   |
//!                                          AwaitingEof <--------------------+
//!                                               | peer's FIN, or peer's FIN came first
//!  (any phase) --- I/O error, deadline, cap --> Gone <--+
//! ```
//!
//! One shortcut: when the peer's close frame completes the closing handshake (plain TCP),
//! our close frame is written at once and the socket closed, from Open through Flushing
//! to Gone with no shutdown and no AwaitingEof (see `close_frames_exchanged`).

use super::flags::{Flag, Flags};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Interest, Token};
use ws_proto::handshake::{Reject, RequestParser};
use ws_proto::{CloseCode, Event, RecvBuffer};

use super::Server;
use super::connection::{Connection, Extra, Phase, Slot, Stage};
use crate::ending::Ending;
use crate::handshake::{Handshake, reject_bytes};
use crate::http::{HttpRequest, HttpResponse};
use crate::id::ConnId;
use crate::tick::Tick;
use crate::transport::{ReadOutcome, Transport};

impl Slot {
    /// A connection just accepted, in its handshake until `now + handshake_timeout`.
    pub(crate) fn accepted(
        id: ConnId,
        addr: std::net::SocketAddr,
        transport: Transport,
        config: &crate::config::Config,
        now: Instant,
    ) -> Slot {
        Slot {
            id,
            addr_v4: match addr {
                std::net::SocketAddr::V4(v4) => Some(v4),
                std::net::SocketAddr::V6(_) => None,
            },
            transport: transport.into(),
            preface: Default::default(),
            rx: Default::default(),
            handlers: OnceCell::new(),
            extra: match addr {
                std::net::SocketAddr::V4(_) => OnceCell::new(),
                std::net::SocketAddr::V6(v6) => OnceCell::from(Box::new(Extra {
                    peer_v6: Some(v6),
                    ..Extra::default()
                })),
            },
            phase: Phase::Handshake {
                parser: Box::new(RequestParser::with_limits(config.handshake_limits)),
                proxy: config
                    .proxy_protocol
                    .map(|parser| Box::new(super::connection::PendingHeader::new(parser))),
                deadline: Tick::after(now, config.handshake_timeout),
            }
            .into(),
            flags: Flags::with(&[Flag::NotifyDisconnect, Flag::Heard]),
            silent_since_ping: None.into(),
        }
    }

    /// Reads once from the socket into `rx` and runs what the bytes complete; returns
    /// whether there may be more to read now. A short read means the socket held no more
    /// (edge-triggered polling reports later arrivals), unless the peer also closed its
    /// side (`hangup`): its end of stream must be read now.
    ///
    /// A read takes at most `max` bytes.
    pub(crate) fn read_once(
        &self,
        server: &Server,
        rx: &mut RecvBuffer,
        max: usize,
        hangup: bool,
    ) -> bool {
        let outcome = self.transport.borrow_mut().read(rx, max);
        match outcome {
            Ok(ReadOutcome::Data { drained }) => {
                self.flags.set(Flag::Heard, true);
                self.silent_since_ping.set(None);
                self.process(server, rx);
                !drained || hangup
            }
            Ok(ReadOutcome::Progress) => {
                if self.transport.borrow().has_buffered_output() {
                    server.mark_dirty(self);
                }
                true
            }
            Ok(ReadOutcome::WouldBlock) => false,
            Ok(ReadOutcome::Eof) => {
                self.end_of_stream(server);
                false
            }
            Err(err) => {
                log::debug!("{}: read failed: {err}", self.addr());
                self.abort(server, Ending::abnormal("read error"));
                false
            }
        }
    }

    /// Runs what newly received bytes complete: the handshake, then frames and callbacks.
    pub(crate) fn process(&self, server: &Server, rx: &mut RecvBuffer) {
        match self.stage() {
            Stage::Handshake => {
                if !self.transport.borrow().is_handshaking() && self.handshake(server, rx) {
                    self.decode(server, rx);
                }
            }
            Stage::Open => self.decode(server, rx),
            Stage::Flushing if self.phase.borrow().session().is_some() => self.decode(server, rx),
            // The peer should only be sending its end of stream now (or, while a refusal or
            // the HTTP hook's answer is written, bytes after its request that are never
            // read as anything); whatever comes is read and dropped, so that closing cannot
            // turn into a reset and a peer cannot make the server keep what it sends.
            Stage::Flushing | Stage::AwaitingEof | Stage::Gone => *rx = RecvBuffer::new(),
        }
    }

    /// Reads the upgrade request; once it is complete, asks the `handshake` callback and
    /// answers. Returns whether the connection is now open.
    fn handshake(&self, server: &Server, rx: &mut RecvBuffer) -> bool {
        let parsed = match &mut *self.phase.borrow_mut() {
            Phase::Handshake { parser, .. } => parser.parse(rx),
            _ => return false,
        };
        let request = match parsed {
            Ok(Some(request)) => request,
            Ok(None) => return false,
            Err(err) => {
                // Not a WebSocket upgrade (or not a valid one): the HTTP hook may answer
                // the request as plain HTTP; if not, it gets the error's status (426 for
                // a request without `Upgrade: websocket`).
                let max_headers = server.config.handshake_limits.max_headers;
                if server.http_hook.is_some()
                    && let Some(head) = HttpRequest::parse(rx.data(), max_headers)
                    && let Some(answer) = server.http_hook_answer(&head)
                {
                    self.answer_http(server, &head, &answer);
                    return false;
                }
                log::info!("{}: handshake refused: {err}", self.addr());
                self.refuse(
                    server,
                    reject_bytes(&Reject::for_error(&err)),
                    &err.to_string(),
                );
                return false;
            }
        };
        if server.http_hook.is_some() {
            let head = HttpRequest::from_upgrade(&request);
            if let Some(answer) = server.http_hook_answer(&head) {
                self.answer_http(server, &head, &answer);
                return false;
            }
        }
        let conn = Connection { server, slot: self };
        let mut hs = Handshake::new(&request, server.config.deflate.clone());
        conn.handshake_event(&mut hs);
        if self.stage() == Stage::Gone {
            return false;
        }
        if self.flags.get(Flag::DisconnectRequested) && !hs.is_refused() {
            hs.refuse(403);
        }
        let (max_frame, max_message) = self.recv_limits(&server.config);
        let mut config = server.config.session.clone();
        config.max_frame_size = max_frame;
        config.max_message_size = max_message;
        let (answer, mut session) = match hs.answer(config) {
            Ok(accepted) => accepted,
            Err(refusal) => {
                log::info!("{}: handshake refused by the application", self.addr());
                self.refuse(server, refusal, "handshake refused");
                return false;
            }
        };
        self.preface.set(answer);
        // Large payloads arrive in storage of their own, which an echo is written from.
        session.hand_over_payloads_from(Some(super::payloads::HAND_OVER_FROM));
        *self.phase.borrow_mut() = Phase::Open {
            session,
            closing: None,
        };
        self.flags.set(Flag::WasReady, true);
        server.mark_dirty(self);
        log::debug!("{}: handshake done for {}", self.addr(), request.resource());
        drop(request);
        conn.ready_event();
        self.stage() == Stage::Open
    }

    /// Sends the HTTP hook's answer and closes after it.
    fn answer_http(&self, server: &Server, head: &HttpRequest, answer: &HttpResponse) {
        log::debug!(
            "{}: {} {} answered by the HTTP hook with {}",
            self.addr(),
            head.method(),
            head.target(),
            answer.status()
        );
        let bytes = answer.to_bytes(head.method().eq_ignore_ascii_case("HEAD"));
        self.refuse(server, bytes, "answered by the HTTP hook");
    }

    /// Sends a refusal (an HTTP answer) and closes after it.
    fn refuse(&self, server: &Server, answer: Vec<u8>, reason: &str) {
        self.preface.set(answer);
        self.record_ending(Ending::abnormal(reason));
        *self.phase.borrow_mut() = Phase::Flushing {
            session: None,
            deadline: Tick::after(Instant::now(), server.config.close_timeout),
        };
        server.mark_dirty(self);
    }

    /// Open -> Flushing: the session's last bytes are written by `deadline`, then our
    /// side is shut down (see `settle`).
    fn start_flushing(&self, server: &Server, deadline: Tick) {
        let mut phase = self.phase.borrow_mut();
        if let Phase::Open { .. } = &*phase
            && let Phase::Open { session, .. } = std::mem::replace(&mut *phase, Phase::Gone)
        {
            *phase = Phase::Flushing {
                session: Some(session),
                deadline,
            };
        }
        drop(phase);
        server.mark_dirty(self);
    }

    /// The session ended (close frames exchanged, or it failed): the bytes it still owes
    /// the peer are written within `close_timeout`.
    fn session_closed(&self, server: &Server) {
        if self.stage() == Stage::Open {
            self.start_flushing(
                server,
                Tick::after(Instant::now(), server.config.close_timeout),
            );
        }
    }

    /// The peer's close frame completed the closing handshake (ours answers it, or it
    /// answers ours). RFC 6455 5.5.1: after its close frame the peer sends no more data,
    /// so nothing but its FIN can follow, and no unread byte can turn our close into a
    /// reset. So once our close frame is out, the socket is closed at once (RFC 6455
    /// 7.1.1: the server closes the TCP connection first, and holds the TIME_WAIT):
    /// no `shutdown`, no wait for the peer's FIN, and two system calls and a wakeup
    /// fewer per connection. If the frame cannot all be written now, or over TLS (whose
    /// close_notify goes first), the connection flushes and shuts down as any other.
    fn close_frames_exchanged(&self, server: &Server) {
        self.session_closed(server);
        if self.stage() != Stage::Flushing
            || !matches!(*self.transport.borrow(), Transport::Plain(_))
        {
            return;
        }
        if matches!(self.write_out(server), Ok(true)) {
            self.abort(server, Ending::abnormal("closed"));
        }
    }

    /// Decodes every complete frame in `rx` and runs the callbacks for it.
    ///
    /// Once the application has called `disconnect`, messages still arriving (sent before
    /// the peer saw our close) get no callbacks: as in Perl, a disconnected connection is
    /// done.
    fn decode(&self, server: &Server, rx: &mut RecvBuffer) {
        let conn = Connection { server, slot: self };
        loop {
            // No event comes out of an empty buffer (`Session::decode`'s contract): the
            // call that would say so is saved, once per read.
            if rx.is_empty() {
                return;
            }
            let (decoded, open) = match self.phase.borrow_mut().session_mut() {
                Some(session) => {
                    let decoded = session.decode(rx);
                    (decoded, session.state() == ws_proto::State::Open)
                }
                None => return,
            };
            match decoded {
                Ok(None) => break,
                Ok(Some(Event::Text(_) | Event::Binary(_) | Event::Fragment { .. })) if !open => {}
                Ok(Some(Event::Text(text))) => {
                    conn.utf8_event(&text);
                    if let Cow::Owned(text) = text {
                        server.payloads.recycle(text.into_bytes());
                    }
                }
                // A large payload, in storage of its own (handed over, or reassembled):
                // sent back by the callback, it is written from there (see
                // `Connection::send_binary`).
                Ok(Some(Event::Binary(Cow::Owned(data))))
                    if data.len() >= super::payloads::HAND_OVER_FROM =>
                {
                    let index = self.id.index as usize;
                    let payloads = &server.payloads;
                    if let Some(data) = payloads.deliver(index, data, |d| conn.binary_event(d)) {
                        if self.external_pending() > 0 {
                            payloads.hold(index, data);
                        } else {
                            // The connection failed meanwhile: nothing will be written.
                            payloads.recycle(data);
                        }
                    }
                }
                Ok(Some(Event::Binary(data))) => conn.binary_event(&data),
                Ok(Some(Event::Fragment { kind, data, last })) => {
                    conn.fragment_event(kind, &data, last)
                }
                Ok(Some(Event::Pong(payload))) => conn.pong_event(&payload),
                Ok(Some(Event::Ping(_))) => server.mark_dirty(self),
                Ok(Some(Event::Close(frame))) => {
                    // RFC 6455 7.1.5: the code of the close frame received, or 1005.
                    self.record_ending(match &frame {
                        Some(frame) => Ending::closed(frame.code.as_u16(), &frame.reason),
                        None => Ending::NoStatus,
                    });
                    server.mark_dirty(self);
                    if self.session_is_closed() {
                        self.close_frames_exchanged(server);
                    }
                }
                Err(err) => {
                    log::info!("{}: protocol error: {err}", self.addr());
                    // RFC 6455 7.1.7: the connection is failed with the error's code.
                    self.record_ending(match err.close_code() {
                        Some(code) => Ending::closed(code.as_u16(), &err.to_string()),
                        None => Ending::abnormal(&err.to_string()),
                    });
                    self.session_closed(server);
                    break;
                }
            }
            // A callback that aborted the connection (`Phase::Gone`) ends the loop at the
            // next turn: a gone connection has no session to decode with.
        }
    }

    fn session_is_closed(&self) -> bool {
        self.phase
            .borrow()
            .session()
            .is_some_and(ws_proto::Session::is_closed)
    }

    /// The peer closed its side of the TCP connection.
    pub(crate) fn end_of_stream(&self, server: &Server) {
        self.flags.set(Flag::PeerEof, true);
        let mut phase = self.phase.borrow_mut();
        match &mut *phase {
            // Anything still queued (the answer to a close frame that came with the end
            // of stream) is written first, within `close_timeout`: a peer that
            // half-closed and never reads again must not hold the connection for ever.
            Phase::Open { session, closing } => {
                let abnormal = session.receive_eof().is_err();
                let closing = *closing;
                drop(phase);
                if abnormal {
                    self.record_ending(Ending::abnormal("connection closed without a close frame"));
                }
                let deadline = closing
                    .unwrap_or_else(|| Tick::after(Instant::now(), server.config.close_timeout));
                self.start_flushing(server, deadline);
            }
            Phase::Flushing { .. } => {
                drop(phase);
                server.mark_dirty(self)
            }
            Phase::Handshake { .. } => {
                drop(phase);
                self.abort(
                    server,
                    Ending::abnormal("connection closed during the handshake"),
                )
            }
            Phase::AwaitingEof { .. } | Phase::Gone => {
                drop(phase);
                self.abort(server, Ending::abnormal("connection closed"))
            }
        }
    }

    /// Runs the connection's disconnect callback, once, with how it ended.
    pub(crate) fn report_disconnect(&self, server: &Server) {
        server.unsubscribe_all(self);
        if !self.flags.replace(Flag::NotifyDisconnect, false) {
            return;
        }
        let ending = self.ending().unwrap_or_else(|| Ending::abnormal(""));
        let (code, reason) = (ending.code(), ending.reason());
        log::debug!("{}: disconnected ({code} {reason})", self.addr());
        Connection { server, slot: self }.disconnect_event(code, reason);
    }

    /// Bytes queued for a connection and not yet handed to the socket (a payload written
    /// from its own storage included).
    pub(crate) fn unsent(&self) -> usize {
        self.preface.len()
            + self
                .phase
                .borrow()
                .session()
                .map_or(0, ws_proto::Session::queued_len)
    }

    /// Bytes of a payload written from its own storage still to write.
    fn external_pending(&self) -> usize {
        self.phase
            .borrow()
            .session()
            .map_or(0, ws_proto::Session::external_pending)
    }

    /// Writes the preface and the session's frames until done or the socket is full;
    /// returns whether everything went out.
    pub(crate) fn write_out(&self, server: &Server) -> io::Result<bool> {
        let mut preface = self.preface.lend();
        let mut phase = self.phase.borrow_mut();
        // Looked up once: the phase cannot change while this borrow lasts.
        let mut session = phase.session_mut();
        let mut transport = self.transport.borrow_mut();
        loop {
            let chunk: &[u8] = if !preface.is_empty() {
                &preface
            } else if let Some(session) = &mut session {
                if session.external_pending() > 0 {
                    if write_external(self, server, session, &mut transport)? {
                        continue;
                    }
                    return Ok(false);
                }
                session.pending()
            } else {
                &[]
            };
            if chunk.is_empty() {
                break;
            }
            match transport.write(chunk) {
                Ok(0) => {
                    // TLS's own buffer is full: push records out before handing it more.
                    if matches!(*transport, Transport::Plain(_)) {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                    if !transport.flush()? {
                        return Ok(false);
                    }
                }
                Ok(n) => {
                    if preface.is_empty() {
                        if let Some(session) = &mut session {
                            // Drained, the output buffer goes back to the loop.
                            server.payloads.advance_output(session, n);
                        }
                    } else {
                        preface.consume(n);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        transport.flush()
    }

    /// Asks the poller to report writability only while the connection has output the
    /// socket would not take: otherwise every acknowledgement from the peer would wake
    /// the loop for nothing.
    pub(crate) fn watch_writable(&self, server: &Server, blocked: bool) {
        if self.flags.get(Flag::WatchingWritable) == blocked {
            return;
        }
        let interest = if blocked {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let fd = self.transport.borrow().tcp().as_raw_fd();
        let token = Token(self.id.index as usize);
        match server
            .registry
            .reregister(&mut SourceFd(&fd), token, interest)
        {
            Ok(()) => self.flags.set(Flag::WatchingWritable, blocked),
            Err(err) => {
                log::warn!("{}: cannot change polled events: {err}", self.addr());
                self.abort(server, Ending::abnormal("poll error"));
            }
        }
    }

    /// Writes what the connection has queued, then moves its lifecycle on. Returns true
    /// when reading was paused (see `Builder::read_pause`) and may resume.
    pub(crate) fn flush(&self, server: &Server) -> bool {
        self.flags.set(Flag::Dirty, false);
        if matches!(self.stage(), Stage::Gone | Stage::AwaitingEof) {
            return false;
        }
        match self.write_out(server) {
            Ok(all_out) => self.watch_writable(server, !all_out),
            Err(err) => {
                log::debug!("{}: write failed: {err}", self.addr());
                self.abort(server, Ending::abnormal("write error"));
                return false;
            }
        }
        let resume =
            self.flags.get(Flag::ReadingPaused) && self.unsent() <= server.config.read_pause / 2;
        if resume {
            self.flags.set(Flag::ReadingPaused, false);
        }
        self.settle(server);
        resume
    }

    /// Moves a flushing connection on once its bytes are all out: it shuts down its
    /// side, and waits for the peer's (or is done if the peer's came first).
    pub(crate) fn settle(&self, server: &Server) {
        if self.stage() != Stage::Flushing {
            return;
        }
        // The connection is over for the application once it stops being open; the TCP
        // teardown below is the server's business.
        self.report_disconnect(server);
        if self.unsent() > 0 || self.transport.borrow().has_buffered_output() {
            return;
        }
        // The peer's end of stream came first: nothing is left unread, and closing sends
        // our FIN (after a TLS close_notify).
        let plain = matches!(*self.transport.borrow(), Transport::Plain(_));
        if self.flags.get(Flag::PeerEof) && plain {
            self.abort(server, Ending::abnormal("closed"));
            return;
        }
        // RFC 6455 7.1.1: the server closes the TCP connection first. Shutting down our
        // side and reading until the peer's end of stream makes sure the close frame is
        // not destroyed by a reset if the peer's last bytes are still unread.
        self.transport.borrow_mut().shutdown_write();
        if self.flags.get(Flag::PeerEof) {
            self.abort(server, Ending::abnormal("closed"));
            return;
        }
        // The session has nothing left to send: it goes with this phase.
        *self.phase.borrow_mut() = Phase::AwaitingEof {
            deadline: Tick::after(Instant::now(), server.config.close_timeout),
        };
    }

    /// The current phase's deadline passed: the connection is dropped.
    pub(crate) fn deadline_passed(&self, server: &Server) {
        let reason = match self.stage() {
            Stage::Handshake => "handshake timeout",
            Stage::Open => "closing handshake timeout",
            _ => "close timeout",
        };
        log::debug!("{}: {reason}", self.addr());
        self.abort(server, Ending::abnormal(reason));
    }

    /// Perl's silence_max, for one connection silent since the last check: ping it, or
    /// drop it if it stayed silent for `silence_timeout` after the first ping.
    pub(crate) fn silence_check(&self, server: &Server, now: Instant) {
        let timeout = server.config.silence_timeout;
        match self.silent_since_ping.get() {
            Some(since)
                if timeout
                    .is_some_and(|t| now.saturating_duration_since(since.instant(now)) >= t) =>
            {
                log::info!("{}: dropped: silent after ping", self.addr());
                self.abort(server, Ending::abnormal("no answer to ping"));
            }
            first_ping => {
                let pinged = Connection { server, slot: self }.send_ping(b"").is_ok();
                if pinged && first_ping.is_none() {
                    self.silent_since_ping.set(Some(Tick::at(now)));
                }
            }
        }
    }

    /// Shutdown began: an open connection gets close 1001, one in its handshake is
    /// dropped.
    pub(crate) fn going_away(&self, server: &Server) {
        match self.stage() {
            Stage::Open => Connection { server, slot: self }
                .disconnect(CloseCode::GOING_AWAY, "server shutdown"),
            Stage::Handshake => self.abort(server, Ending::closed(1001, "server shutdown")),
            _ => {}
        }
    }
}

/// Writes what is queued before a payload written from its own storage and the payload's
/// unwritten part, in one `writev` over plain TCP; returns whether the socket took it
/// all (`Ok(false)`: it is full, the rest waits for writability). The payload's storage
/// goes back to the loop once it is written.
fn write_external(
    slot: &Slot,
    server: &Server,
    session: &mut ws_proto::Session,
    transport: &mut Transport,
) -> io::Result<bool> {
    let index = slot.id.index as usize;
    let head = session.pending().len();
    let external = session.external_pending();
    let written = server.payloads.with_external(index, |payload| {
        let payload = match payload {
            Some(data) if data.len() >= external => &data[data.len() - external..],
            _ => return Err(io::Error::other("external payload lost")),
        };
        let slices = [
            io::IoSlice::new(session.pending()),
            io::IoSlice::new(payload),
        ];
        loop {
            match transport.write_vectored(&slices) {
                Ok(0) => {
                    if matches!(*transport, Transport::Plain(_)) {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                    if !transport.flush()? {
                        return Ok(0);
                    }
                }
                Ok(n) => return Ok(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(0),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    })?;
    if written == 0 {
        return Ok(false);
    }
    let from_head = written.min(head);
    session.advance(from_head);
    if written > from_head {
        server
            .payloads
            .advance_external(session, written - from_head);
        if session.external_pending() == 0 {
            server.payloads.release(index);
        }
    }
    Ok(true)
}

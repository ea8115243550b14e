//! The readiness loop: one thread, one epoll instance, every connection.
//!
//! Each iteration waits for readiness, then for each ready connection reads what the
//! socket has, decodes every frame in it and runs the callbacks, and writes everything
//! those callbacks queued with as few system calls as possible: the replies to a batch
//! of pipelined messages leave in one `write` ("corking"). Timers (ticks, pings,
//! timeouts) run between waits. Nothing here blocks: a slow peer only ever costs a
//! `WouldBlock`.
//!
//! Received bytes go into one buffer shared by all connections; a connection only keeps
//! a buffer of its own while it holds part of a frame, so an idle connection holds none.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use ws_proto::handshake::{Reject, RequestParser};
use ws_proto::{CloseCode, Event, RecvBuffer, Session};

use crate::connection::{Connection, Io, Phase, Slot};
use crate::error::Error;
use crate::handshake::{Handshake, reject_bytes};
use crate::server::Server;
use crate::transport::{ReadOutcome, TlsConfig, Transport};
use crate::watch::{self, Direction, WATCH_BASE};

pub(crate) const LISTENER: Token = Token(usize::MAX);
pub(crate) const WAKER: Token = Token(usize::MAX - 1);

/// Reads per readiness event before other connections get their turn.
const READS_PER_EVENT: usize = 16;

/// How often deadlines (handshake, closing handshake, draining) are checked.
const HOUSEKEEPING: Duration = Duration::from_millis(250);

/// What the poller reported for one token.
#[derive(Clone, Copy)]
struct Readiness {
    token: Token,
    readable: bool,
    writable: bool,
    /// The peer closed its side, or the socket failed.
    hangup: bool,
}

pub(crate) struct EventLoop {
    poll: Poll,
    events: Events,
    pub(crate) server: Server,
    listener: Option<TcpListener>,
    tls: Option<TlsConfig>,
    /// The receive buffer lent to whichever connection is reading.
    scratch: RecvBuffer,
    /// Connections whose read budget ran out while the socket may hold more (the poller
    /// is edge-triggered and will not report them again).
    unfinished: Vec<usize>,
    /// Readiness of this iteration, copied out of `events`.
    ready: Vec<Readiness>,
    next_tick: Option<Instant>,
    next_housekeeping: Instant,
    next_silence_check: Option<Instant>,
    last_silence_check: Instant,
    /// Set once shutdown has begun: when to give up on closing handshakes.
    shutdown_deadline: Option<Instant>,
    /// Accepting failed for lack of file descriptors; retry at housekeeping.
    accept_paused: bool,
}

impl EventLoop {
    pub(crate) fn new(
        poll: Poll,
        server: Server,
        listener: TcpListener,
        tls: Option<TlsConfig>,
    ) -> EventLoop {
        let now = Instant::now();
        let settings = &server.settings;
        let next_tick = (!settings.tick_period.is_zero()).then(|| now + settings.tick_period);
        let next_silence_check =
            (!settings.silence_max.is_zero()).then(|| now + settings.silence_max / 2);
        EventLoop {
            poll,
            events: Events::with_capacity(1024),
            server,
            listener: Some(listener),
            tls,
            scratch: RecvBuffer::new(),
            unfinished: Vec::new(),
            ready: Vec::new(),
            next_tick,
            next_housekeeping: now + HOUSEKEEPING,
            next_silence_check,
            last_silence_check: now,
            shutdown_deadline: None,
            accept_paused: false,
        }
    }

    pub(crate) fn run(mut self) -> Result<(), Error> {
        loop {
            let timeout = self.timeout();
            if let Err(err) = self.poll.poll(&mut self.events, timeout)
                && err.kind() != io::ErrorKind::Interrupted
            {
                return Err(err.into());
            }
            self.ready.clear();
            self.ready.extend(self.events.iter().map(|e| Readiness {
                token: e.token(),
                readable: e.is_readable() || e.is_read_closed() || e.is_error(),
                writable: e.is_writable() || e.is_write_closed(),
                hangup: e.is_read_closed() || e.is_error(),
            }));
            for i in 0..self.ready.len() {
                self.dispatch(self.ready[i]);
            }
            for index in std::mem::take(&mut self.unfinished) {
                self.read(index, true);
            }
            self.timers();
            self.settle_all();
            if self.shutdown_step() {
                return Ok(());
            }
        }
    }

    /// How long the poller may wait: until the next timer, or not at all if work is left.
    fn timeout(&self) -> Option<Duration> {
        if !self.unfinished.is_empty() || self.server.shutdown.requested.load(Ordering::SeqCst) {
            return Some(Duration::ZERO);
        }
        let next = [
            Some(self.next_housekeeping),
            self.next_tick,
            self.next_silence_check,
        ]
        .into_iter()
        .flatten()
        .min();
        next.map(|at| at.saturating_duration_since(Instant::now()))
    }

    fn dispatch(
        &mut self,
        Readiness {
            token,
            readable,
            writable,
            hangup,
        }: Readiness,
    ) {
        match token {
            LISTENER => self.accept(),
            WAKER => {}
            Token(t) if t >= WATCH_BASE => {
                if let Some(fd) = watch::fd_of(token) {
                    if readable {
                        self.run_watcher(fd, Direction::Readable);
                    }
                    if writable {
                        self.run_watcher(fd, Direction::Writable);
                    }
                }
            }
            Token(index) => {
                if readable {
                    self.read(index, hangup);
                }
                if writable {
                    self.flush(index);
                }
            }
        }
    }

    fn run_watcher(&mut self, fd: i32, direction: Direction) {
        let server = &self.server;
        let Some(mut callback) = server.watchers.borrow_mut().take(fd, direction) else {
            return;
        };
        if let Err(err) = callback(server, fd) {
            log::warn!("watch callback for fd {fd} failed: {err}");
        }
        server
            .watchers
            .borrow_mut()
            .put_back(&server.registry, fd, direction, callback);
    }

    // ----- Accepting -----

    fn accept(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((tcp, addr)) => self.add_connection(tcp, addr),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(err) => {
                    // Out of file descriptors, most likely: the connection waits in the
                    // backlog, and the edge-triggered listener will not report it again.
                    log::error!("accept failed: {err}; retrying shortly");
                    self.accept_paused = true;
                    return;
                }
            }
        }
    }

    fn add_connection(&mut self, tcp: TcpStream, addr: SocketAddr) {
        let settings = &self.server.settings;
        if self.server.open.get() >= settings.max_connections {
            log::warn!(
                "{addr}: refused: {} connections already",
                settings.max_connections
            );
            refuse_at_capacity(tcp);
            return;
        }
        if let Err(err) = tcp.set_nonblocking(true) {
            log::warn!("{addr}: cannot make the socket non-blocking: {err}");
            return;
        }
        if settings.nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let transport = match Transport::new(tcp, self.tls.as_ref()) {
            Ok(transport) => transport,
            Err(err) => {
                log::error!("{addr}: TLS session cannot start: {err}");
                return;
            }
        };
        let fd = transport.tcp().as_raw_fd();
        let now = Instant::now();
        let limits = (
            settings.session.max_frame_size,
            settings.session.max_message_size,
        );
        let max_send_size = settings.max_send_size;
        let parser = RequestParser::with_limits(settings.handshake_limits);
        let deadline = now + settings.handshake_timeout;
        let index = self.server.insert(|id| Slot {
            id,
            addr,
            transport: transport.into(),
            io: Io {
                preface: Vec::new(),
                parser: Some(Box::new(parser)),
                session: None,
            }
            .into(),
            rx: Default::default(),
            handlers: Default::default(),
            data: Default::default(),
            phase: Phase::Handshake.into(),
            deadline: Some(deadline).into(),
            last_recv: now.into(),
            silent_since_ping: None.into(),
            dirty: false.into(),
            watching_writable: false.into(),
            reading_paused: false.into(),
            peer_eof: false.into(),
            disconnect_requested: false.into(),
            closure: Default::default(),
            notify_disconnect: true.into(),
            max_send_size: max_send_size.into(),
            recv_limits: limits.into(),
        });
        // Writability is only watched while output is blocked (see `watch_writable`).
        let interest = Interest::READABLE;
        if let Err(err) = self
            .server
            .registry
            .register(&mut SourceFd(&fd), Token(index), interest)
        {
            log::error!("{addr}: cannot poll the socket: {err}");
            self.server.remove(index);
            return;
        }
        log::debug!("{addr}: connected");
        let server = &self.server;
        if let Some(slot) = server.slot(index) {
            let taken = server.on_connect.borrow_mut().take();
            if let Some(mut on_connect) = taken {
                if let Err(err) = on_connect(server, Connection { server, slot }) {
                    log::warn!("{addr}: connect callback failed: {err}");
                    slot.abort(server, 1011, "connect callback failed");
                }
                server.on_connect.borrow_mut().get_or_insert(on_connect);
            }
        }
    }

    // ----- Reading -----

    /// Reads from a connection until the socket is drained or its budget is spent.
    ///
    /// A short read means the socket held no more data, and with edge-triggered polling
    /// any later arrival is reported again, so reading stops there (saving a system call
    /// that would only say `WouldBlock`). Not so when the peer also closed its side
    /// (`hangup`): the end of stream came with the same edge and must be read now.
    fn read(&mut self, index: usize, hangup: bool) {
        for _ in 0..READS_PER_EVENT {
            let server = &self.server;
            let Some(slot) = server.slot(index) else {
                return;
            };
            if slot.phase.get() == Phase::Gone {
                return;
            }
            // Backpressure (see `Builder::read_pause`): resumed by `flush` once the
            // output drains to half.
            if unsent(slot) > server.settings.read_pause {
                slot.reading_paused.set(true);
                return;
            }
            let mut rx = slot.rx.take();
            if rx.capacity() == 0 {
                rx = std::mem::take(&mut self.scratch);
            }
            let outcome = slot.transport.borrow_mut().read(&mut rx);
            let more = match outcome {
                Ok(ReadOutcome::Data { drained }) => {
                    slot.last_recv.set(Instant::now());
                    slot.silent_since_ping.set(None);
                    process(server, slot, &mut rx);
                    !drained || hangup
                }
                Ok(ReadOutcome::Progress) => {
                    if slot.transport.borrow().has_buffered_output() {
                        server.mark_dirty(slot);
                    }
                    true
                }
                Ok(ReadOutcome::WouldBlock) => false,
                Ok(ReadOutcome::Eof) => {
                    end_of_stream(server, slot);
                    false
                }
                Err(err) => {
                    log::debug!("{}: read failed: {err}", slot.addr);
                    slot.abort(server, 1006, "read error");
                    false
                }
            };
            // Give the buffer back: an empty one to the loop, a partial frame to the slot.
            if rx.is_empty() {
                if self.scratch.capacity() == 0 {
                    self.scratch = rx;
                }
            } else {
                slot.rx.set(rx);
            }
            // The replies to what was just read leave now, in one write.
            self.flush(index);
            if !more {
                return;
            }
        }
        self.unfinished.push(index);
    }

    // ----- Writing -----

    /// Writes what a connection has queued, then moves its lifecycle on.
    fn flush(&mut self, index: usize) {
        let server = &self.server;
        let Some(slot) = server.slot(index) else {
            return;
        };
        slot.dirty.set(false);
        if matches!(slot.phase.get(), Phase::Gone | Phase::Draining) {
            return;
        }
        match write_out(slot) {
            Ok(all_out) => watch_writable(server, slot, !all_out),
            Err(err) => {
                log::debug!("{}: write failed: {err}", slot.addr);
                slot.abort(server, 1006, "write error");
                return;
            }
        }
        if slot.reading_paused.get() && unsent(slot) <= server.settings.read_pause / 2 {
            // Bytes may be waiting in the socket with no new edge to report them.
            slot.reading_paused.set(false);
            self.unfinished.push(index);
        }
        settle(server, slot);
    }

    /// Writes every connection callbacks queued output for, and removes the ones that
    /// are gone (running their disconnect callbacks, which may queue more output).
    fn settle_all(&mut self) {
        loop {
            let dirty = std::mem::take(&mut *self.server.dirty.borrow_mut());
            for &index in &dirty {
                self.flush(index);
            }
            let doomed = std::mem::take(&mut *self.server.doomed.borrow_mut());
            for &index in &doomed {
                self.remove(index);
            }
            if dirty.is_empty() && doomed.is_empty() {
                return;
            }
        }
    }

    fn remove(&mut self, index: usize) {
        let server = &self.server;
        let Some(slot) = server.slot(index) else {
            return;
        };
        if slot.phase.get() != Phase::Gone {
            return;
        }
        report_disconnect(server, slot);
        self.server.remove(index);
    }

    // ----- Timers -----

    fn timers(&mut self) {
        let now = Instant::now();
        if let Some(at) = self.next_tick.filter(|&at| now >= at) {
            let period = self.server.settings.tick_period;
            self.next_tick = Some((at + period).max(now));
            let server = &self.server;
            let taken = server.on_tick.borrow_mut().take();
            if let Some(mut on_tick) = taken {
                if let Err(err) = on_tick(server) {
                    log::warn!("tick callback failed: {err}");
                }
                server.on_tick.borrow_mut().get_or_insert(on_tick);
            }
        }
        if let Some(at) = self.next_silence_check.filter(|&at| now >= at) {
            self.next_silence_check = Some((at + self.server.settings.silence_max / 2).max(now));
            self.check_silence(now);
            self.last_silence_check = now;
        }
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + HOUSEKEEPING;
            self.check_deadlines(now);
            if self.accept_paused {
                self.accept_paused = false;
                self.accept();
            }
        }
    }

    /// Perl's silence_max: ping connections that sent nothing since the last check, and
    /// drop those that stayed silent for `silence_timeout` after the first ping.
    fn check_silence(&mut self, now: Instant) {
        let server = &self.server;
        let timeout = server.settings.silence_timeout;
        for (_, slot) in server.slots.iter() {
            if slot.phase.get() != Phase::Ready || slot.last_recv.get() > self.last_silence_check {
                continue;
            }
            match slot.silent_since_ping.get() {
                Some(since) if timeout.is_some_and(|t| now.duration_since(since) >= t) => {
                    log::info!("{}: dropped: silent after ping", slot.addr);
                    slot.abort(server, 1006, "no answer to ping");
                }
                first_ping => {
                    let pinged = Connection { server, slot }.send_ping(b"").is_ok();
                    if pinged && first_ping.is_none() {
                        slot.silent_since_ping.set(Some(now));
                    }
                }
            }
        }
    }

    fn check_deadlines(&mut self, now: Instant) {
        let server = &self.server;
        for (_, slot) in server.slots.iter() {
            if slot.deadline.get().is_some_and(|at| now >= at) {
                let reason = match slot.phase.get() {
                    Phase::Handshake => "handshake timeout",
                    Phase::Ready => "closing handshake timeout",
                    _ => "close timeout",
                };
                log::debug!("{}: {reason}", slot.addr);
                slot.abort(server, 1006, reason);
            }
        }
    }

    // ----- Shutdown -----

    /// Starts or continues shutting down; true when `start` may return.
    fn shutdown_step(&mut self) -> bool {
        if self.shutdown_deadline.is_none() {
            if !self.server.shutdown.requested.load(Ordering::SeqCst) {
                return false;
            }
            log::info!("shutting down");
            let server = &self.server;
            let taken = server.on_shutdown.borrow_mut().take();
            if let Some(mut on_shutdown) = taken
                && let Err(err) = on_shutdown(server)
            {
                log::warn!("shutdown callback failed: {err}");
            }
            if let Some(listener) = self.listener.take() {
                let _ = server
                    .registry
                    .deregister(&mut SourceFd(&listener.as_raw_fd()));
            }
            for (_, slot) in server.slots.iter() {
                let conn = Connection { server, slot };
                match slot.phase.get() {
                    Phase::Ready => conn.disconnect(CloseCode::GOING_AWAY, "server shutdown"),
                    Phase::Handshake => slot.abort(server, 1001, "server shutdown"),
                    _ => {}
                }
            }
            self.shutdown_deadline = Some(Instant::now() + server.settings.close_timeout);
            self.settle_all();
        }
        if self.server.open.get() == 0 {
            return true;
        }
        if self
            .shutdown_deadline
            .is_some_and(|at| Instant::now() >= at)
        {
            let server = &self.server;
            for (_, slot) in server.slots.iter() {
                slot.abort(server, 1006, "server shutdown");
            }
            self.settle_all();
            return true;
        }
        false
    }
}

/// Answers a connection over the cap and closes it.
fn refuse_at_capacity(tcp: TcpStream) {
    use std::io::Write;
    let reply = reject_bytes(&Reject::new(503).body("too many connections"));
    let _ = (&tcp).write_all(&reply);
    let _ = tcp.shutdown(std::net::Shutdown::Write);
}

/// Runs what newly received bytes complete: the handshake, then frames and callbacks.
fn process(server: &Server, slot: &Slot, rx: &mut RecvBuffer) {
    match slot.phase.get() {
        Phase::Handshake => {
            if !slot.transport.borrow().is_handshaking() && handshake(server, slot, rx) {
                decode(server, slot, rx);
            }
        }
        Phase::Ready | Phase::Closing => decode(server, slot, rx),
        // The peer should only be sending its end of stream now; whatever else comes is
        // read and dropped so that closing cannot turn into a reset.
        Phase::Draining | Phase::Gone => *rx = RecvBuffer::new(),
    }
}

/// Reads the upgrade request; once it is complete, asks the `handshake` callback and
/// answers. Returns whether the connection is now ready.
fn handshake(server: &Server, slot: &Slot, rx: &mut RecvBuffer) -> bool {
    let parsed = match slot.io.borrow_mut().parser.as_mut() {
        Some(parser) => parser.parse(rx),
        None => return false,
    };
    let request = match parsed {
        Ok(Some(request)) => request,
        Ok(None) => return false,
        Err(err) => {
            log::info!("{}: handshake refused: {err}", slot.addr);
            refuse(
                server,
                slot,
                reject_bytes(&Reject::for_error(&err)),
                &err.to_string(),
            );
            return false;
        }
    };
    let conn = Connection { server, slot };
    let mut hs = Handshake::new(&request, server.settings.deflate.clone());
    conn.handshake_event(&mut hs);
    if slot.phase.get() == Phase::Gone {
        return false;
    }
    if slot.disconnect_requested.get() && !hs.is_refused() {
        hs.refuse(403);
    }
    let (max_frame, max_message) = slot.recv_limits.get();
    let mut config = server.settings.session.clone();
    config.max_frame_size = max_frame;
    config.max_message_size = max_message;
    let (answer, session) = match hs.answer(config) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            log::info!("{}: handshake refused by the application", slot.addr);
            refuse(server, slot, refusal, "handshake refused");
            return false;
        }
    };
    {
        let mut io = slot.io.borrow_mut();
        io.parser = None;
        io.preface = answer;
        io.session = Some(session);
    }
    slot.phase.set(Phase::Ready);
    slot.deadline.set(None);
    server.mark_dirty(slot);
    log::debug!("{}: handshake done for {}", slot.addr, request.resource());
    drop(request);
    conn.ready_event();
    slot.phase.get() == Phase::Ready
}

/// Sends a refusal (an HTTP error) and closes after it.
fn refuse(server: &Server, slot: &Slot, answer: Vec<u8>, reason: &str) {
    let mut io = slot.io.borrow_mut();
    io.parser = None;
    io.preface = answer;
    drop(io);
    slot.record_closure(1006, reason);
    slot.phase.set(Phase::Closing);
    slot.deadline
        .set(Some(Instant::now() + server.settings.close_timeout));
    server.mark_dirty(slot);
}

/// Decodes every complete frame in `rx` and runs the callbacks for it.
///
/// Once the application has called `disconnect`, messages still arriving (sent before the
/// peer saw our close) get no callbacks: as in Perl, a disconnected connection is done.
fn decode(server: &Server, slot: &Slot, rx: &mut RecvBuffer) {
    let conn = Connection { server, slot };
    loop {
        let (decoded, open) = match slot.io.borrow_mut().session.as_mut() {
            Some(session) => {
                let decoded = session.decode(rx);
                (decoded, session.state() == ws_proto::State::Open)
            }
            None => return,
        };
        match decoded {
            Ok(None) => break,
            Ok(Some(Event::Text(_) | Event::Binary(_) | Event::Fragment { .. })) if !open => {}
            Ok(Some(Event::Text(text))) => conn.utf8_event(&text),
            Ok(Some(Event::Binary(data))) => conn.binary_event(&data),
            Ok(Some(Event::Fragment { kind, data, last })) => {
                conn.fragment_event(kind, &data, last)
            }
            Ok(Some(Event::Pong(payload))) => conn.pong_event(&payload),
            Ok(Some(Event::Ping(_))) => server.mark_dirty(slot),
            Ok(Some(Event::Close(frame))) => {
                match &frame {
                    Some(frame) => slot.record_closure(frame.code.as_u16(), &frame.reason),
                    None => slot.record_closure(1005, ""),
                }
                server.mark_dirty(slot);
            }
            Err(err) => {
                log::info!("{}: protocol error: {err}", slot.addr);
                let code = err.close_code().map_or(1006, CloseCode::as_u16);
                slot.record_closure(code, &err.to_string());
                server.mark_dirty(slot);
                break;
            }
        }
        if slot.phase.get() == Phase::Gone {
            break;
        }
    }
}

/// The peer closed its side of the TCP connection.
fn end_of_stream(server: &Server, slot: &Slot) {
    slot.peer_eof.set(true);
    if slot.phase.get() == Phase::Ready {
        let abnormal = slot
            .io
            .borrow_mut()
            .session
            .as_mut()
            .is_some_and(|s| s.receive_eof().is_err());
        if abnormal {
            slot.record_closure(1006, "connection closed without a close frame");
        }
    }
    match slot.phase.get() {
        // Anything still queued (the answer to a close frame that came with the end of
        // stream) is written first, within `close_timeout`: a peer that half-closed and
        // never reads again must not hold the connection for ever.
        Phase::Ready | Phase::Closing => {
            slot.phase.set(Phase::Closing);
            if slot.deadline.get().is_none() {
                slot.deadline
                    .set(Some(Instant::now() + server.settings.close_timeout));
            }
            server.mark_dirty(slot);
        }
        Phase::Handshake => slot.abort(server, 1006, "connection closed during the handshake"),
        Phase::Draining | Phase::Gone => slot.abort(server, 1006, "connection closed"),
    }
}

/// Runs the connection's disconnect callback, once, with how it ended.
fn report_disconnect(server: &Server, slot: &Slot) {
    if !slot.notify_disconnect.replace(false) {
        return;
    }
    let (code, reason) = slot
        .closure
        .borrow()
        .clone()
        .unwrap_or((1006, String::new()));
    log::debug!("{}: disconnected ({code} {reason})", slot.addr);
    Connection { server, slot }.disconnect_event(code, &reason);
}

/// Bytes queued for a connection and not yet handed to the socket.
fn unsent(slot: &Slot) -> usize {
    let io = slot.io.borrow();
    io.preface.len() + io.session.as_ref().map_or(0, |s| s.pending().len())
}

/// Writes the preface and the session's frames until done or the socket is full;
/// returns whether everything went out.
fn write_out(slot: &Slot) -> io::Result<bool> {
    let mut io = slot.io.borrow_mut();
    let mut transport = slot.transport.borrow_mut();
    loop {
        let chunk: &[u8] = if !io.preface.is_empty() {
            &io.preface
        } else if let Some(session) = &io.session {
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
                if io.preface.is_empty() {
                    if let Some(session) = &mut io.session {
                        session.advance(n);
                    }
                } else {
                    io.preface.drain(..n);
                    if io.preface.is_empty() {
                        io.preface = Vec::new();
                    }
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
/// socket would not take: otherwise every acknowledgement from the peer would wake the
/// loop for nothing.
fn watch_writable(server: &Server, slot: &Slot, blocked: bool) {
    if slot.watching_writable.get() == blocked {
        return;
    }
    let interest = if blocked {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    let fd = slot.transport.borrow().tcp().as_raw_fd();
    let token = Token(slot.id.index as usize);
    match server
        .registry
        .reregister(&mut SourceFd(&fd), token, interest)
    {
        Ok(()) => slot.watching_writable.set(blocked),
        Err(err) => {
            log::warn!("{}: cannot change polled events: {err}", slot.addr);
            slot.abort(server, 1006, "poll error");
        }
    }
}

/// Moves a connection's lifecycle on after I/O: a closed session starts closing, and a
/// closing connection whose bytes are all out shuts down its side.
fn settle(server: &Server, slot: &Slot) {
    if slot.phase.get() == Phase::Ready {
        let closed = slot
            .io
            .borrow()
            .session
            .as_ref()
            .is_some_and(Session::is_closed);
        if !closed {
            return;
        }
        slot.phase.set(Phase::Closing);
        slot.deadline
            .set(Some(Instant::now() + server.settings.close_timeout));
    }
    if slot.phase.get() != Phase::Closing {
        return;
    }
    // The connection is over for the application once it stops being ready; the TCP
    // teardown below is the server's business.
    report_disconnect(server, slot);
    let io = slot.io.borrow();
    let unsent =
        !io.preface.is_empty() || io.session.as_ref().is_some_and(|s| !s.pending().is_empty());
    drop(io);
    if unsent || slot.transport.borrow().has_buffered_output() {
        return;
    }
    if slot.peer_eof.get() {
        slot.transport.borrow_mut().shutdown_write();
        slot.abort(server, 1006, "closed");
        return;
    }
    // RFC 6455 7.1.1: the server closes the TCP connection first. Shutting down our side
    // and reading until the peer's end of stream makes sure the close frame is not
    // destroyed by a reset if the peer's last bytes are still unread.
    slot.transport.borrow_mut().shutdown_write();
    slot.phase.set(Phase::Draining);
    slot.deadline
        .set(Some(Instant::now() + server.settings.close_timeout));
}

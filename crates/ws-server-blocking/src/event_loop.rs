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

use crate::server::flags::Flag;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use ws_proto::handshake::Reject;

use crate::ending::Ending;
use crate::error::Error;
use crate::handshake::reject_bytes;
use crate::listen::inherit_nodelay;
use crate::server::Server;
use crate::server::connection::{Connection, Slot, Stage};
use crate::server::hub::{Accepted, Job};
use crate::server::payloads::FIRST_READ_MAX;
use crate::server::proxy_header::HeaderRead;
use crate::transport::{TlsConfig, Transport};
use crate::watch::{self, Direction, WATCH_BASE};

pub(crate) const LISTENER: Token = Token(usize::MAX);
pub(crate) const WAKER: Token = Token(usize::MAX - 1);

/// Reads per readiness event before other connections get their turn.
const READS_PER_EVENT: usize = 16;

/// Jobs from the queue run per iteration before I/O gets its turn again.
const JOBS_PER_ITERATION: usize = 1024;

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
    /// mio's listener, for its `accept4(SOCK_NONBLOCK)`: accepted sockets are
    /// non-blocking from birth, with no `ioctl` each.
    listener: Option<mio::net::TcpListener>,
    /// Accepted sockets need their own `TCP_NODELAY` (`setsockopt` each): false where
    /// they inherit it from the listener (Linux), see `listen::inherit_nodelay`.
    nodelay_per_socket: bool,
    tls: Option<TlsConfig>,
    /// Connections whose read budget ran out while the socket may hold more (the poller
    /// is edge-triggered and will not report them again).
    unfinished: Vec<usize>,
    /// Readiness of this iteration, copied out of `events`.
    ready: Vec<Readiness>,
    /// `settle_all`'s list of dirty connections, kept between iterations so that
    /// `Server::dirty` does not grow a new allocation each time.
    spare_dirty: Vec<usize>,
    next_tick: Option<Instant>,
    next_housekeeping: Instant,
    next_silence_check: Option<Instant>,
    /// Set once shutdown has begun: when to give up on closing handshakes.
    shutdown_deadline: Option<Instant>,
    /// Accepting failed for lack of file descriptors; retry at housekeeping.
    accept_paused: bool,
    /// This loop's queue of work from other threads (see `Handle`).
    jobs: Receiver<Job>,
    /// The queue was not emptied in the last iteration.
    more_jobs: bool,
}

impl EventLoop {
    pub(crate) fn new(
        poll: Poll,
        server: Server,
        listener: TcpListener,
        tls: Option<TlsConfig>,
        jobs: Receiver<Job>,
    ) -> EventLoop {
        let now = Instant::now();
        let config = &server.config;
        let next_tick = (!config.tick_period.is_zero()).then(|| now + config.tick_period);
        let next_silence_check =
            (!config.silence_max.is_zero()).then(|| now + config.silence_max / 2);
        // Set (or cleared) on the listener either way: a listener bound by the caller may
        // carry a setting of its own.
        let inherited = inherit_nodelay(&listener, config.nodelay);
        let nodelay_per_socket = config.nodelay && !inherited;
        EventLoop {
            poll,
            events: Events::with_capacity(1024),
            server,
            listener: Some(mio::net::TcpListener::from_std(listener)),
            nodelay_per_socket,
            tls,
            unfinished: Vec::new(),
            ready: Vec::new(),
            spare_dirty: Vec::new(),
            next_tick,
            next_housekeeping: now + HOUSEKEEPING,
            next_silence_check,
            shutdown_deadline: None,
            accept_paused: false,
            jobs,
            more_jobs: false,
        }
    }

    pub(crate) fn run(mut self) -> Result<(), Error> {
        loop {
            let timeout = self.timeout();
            if self.spin(timeout) {
                // Events came while spinning: they are in `self.events`.
            } else if let Err(err) = self.poll.poll(&mut self.events, timeout)
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
            self.run_jobs();
            if self.listener.is_some() && !self.server.hub.is_accepting() {
                log::info!("worker {}: no longer accepting", self.server.worker);
                self.close_listener();
            }
            self.timers();
            self.settle_all();
            if self.shutdown_step() {
                return Ok(());
            }
        }
    }

    /// Polls without waiting, for at most `Config::spin_before_wait` and never past
    /// `timeout`, if the last poll reported events (activity is likely to go on; an idle
    /// loop sleeps at once); returns whether a poll found events, now in `self.events`.
    fn spin(&mut self, timeout: Option<Duration>) -> bool {
        let spin = self.server.config.spin_before_wait;
        if spin.is_zero() || self.events.is_empty() || timeout == Some(Duration::ZERO) {
            return false;
        }
        let until = Instant::now() + timeout.map_or(spin, |t| t.min(spin));
        loop {
            if self
                .poll
                .poll(&mut self.events, Some(Duration::ZERO))
                .is_err()
            {
                // Reported by the waiting poll that follows.
                self.events.clear();
                return false;
            }
            if !self.events.is_empty() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
        }
    }

    /// How long the poller may wait: until the next timer, or not at all if work is left.
    fn timeout(&self) -> Option<Duration> {
        if !self.unfinished.is_empty() || self.more_jobs || self.server.hub.shutdown_requested() {
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
                Ok((tcp, addr)) => self.accepted(Accepted {
                    tcp: tcp.into(),
                    addr,
                    at: Instant::now(),
                    place: self.server.hub.loads.assign(self.server.worker),
                }),
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

    /// Serves a socket this loop just accepted, or hands it to a worker with fewer
    /// connections (see [`Balance`](crate::Balance)), before anything is read from it.
    fn accepted(&mut self, accepted: Accepted) {
        let me = self.server.worker;
        let to = accepted.place.worker();
        if to == me {
            return self.add_connection(accepted);
        }
        let addr = accepted.addr;
        match self.server.hub.hand_off(me, accepted) {
            Ok(()) => log::trace!("{addr}: handed from worker {me} to worker {to}"),
            Err(accepted) => self.add_connection(accepted),
        }
    }

    /// Takes on a socket another loop accepted and handed over. One that arrives once
    /// shutdown has begun is closed (its place in the count given back), as one waiting
    /// in the listener's queue would be.
    fn adopt(&mut self, accepted: Accepted) {
        if self.server.hub.shutdown_requested() {
            return;
        }
        self.add_connection(accepted);
    }

    /// Takes on a socket just accepted (non-blocking already, and with `TCP_NODELAY` if
    /// the listener passed it on), counted for this loop already (its `place`): every way
    /// out that does not keep it drops the place, which gives the count back.
    fn add_connection(
        &mut self,
        Accepted {
            tcp,
            addr,
            at,
            place,
        }: Accepted,
    ) {
        debug_assert_eq!(place.worker(), self.server.worker);
        let config = &self.server.config;
        if self.server.open.get() >= config.max_connections {
            log::warn!(
                "{addr}: refused: {} connections already",
                config.max_connections
            );
            refuse_at_capacity(tcp);
            return;
        }
        if self.nodelay_per_socket {
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
        let config = self.server.config.clone();
        let index = self
            .server
            .insert(|id| Slot::accepted(id, addr, transport, &config, at));
        // Counted from here until `Server::remove`.
        place.settle();
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
        // Behind a load balancer, `on_connect` waits for the PROXY header, so that the
        // callbacks see the client's address (`read`).
        if !self
            .server
            .slot(index)
            .is_some_and(|slot| slot.awaits_proxy_header())
        {
            self.connected(index);
        }
    }

    /// Runs `on_connect` for a new connection.
    fn connected(&mut self, index: usize) {
        let server = &self.server;
        if let Some(slot) = server.slot(index) {
            let taken = server.on_connect.borrow_mut().take();
            if let Some(mut on_connect) = taken {
                if let Err(err) = on_connect(server, Connection { server, slot }) {
                    log::warn!("{}: connect callback failed: {err}", slot.addr());
                    slot.abort(server, Ending::closed(1011, "connect callback failed"));
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
            if slot.stage() == Stage::Gone {
                return;
            }
            // The PROXY protocol header comes first, before TLS and the request.
            if slot.awaits_proxy_header() {
                match slot.read_proxy_header(server) {
                    HeaderRead::Done => {
                        self.connected(index);
                        continue;
                    }
                    HeaderRead::Waiting | HeaderRead::Refused => return,
                }
            }
            // Backpressure (see `Builder::read_pause`): resumed by `flush` once the
            // output drains to half. Output is left unsent only where a write stopped
            // short (the poller then watches writability) or was queued since the last
            // flush (`dirty`): a connection with neither has none, and is not asked.
            if (slot.flags.get(Flag::Dirty) || slot.flags.get(Flag::WatchingWritable))
                && slot.unsent() > server.config.read_pause
            {
                slot.flags.set(Flag::ReadingPaused, true);
                return;
            }
            // A read into the loop's buffer takes at most `FIRST_READ_MAX` bytes: a large
            // frame then never arrives whole at an offset of that buffer, but is gathered
            // at the front of storage that can be handed over (see `payloads.rs`). Reads
            // into a connection's own partial frame take all there is room for.
            let (mut rx, max) = match slot.take_rx() {
                Some(own) if own.capacity() > 0 => (own, usize::MAX),
                _ => (server.payloads.lend_scratch(), FIRST_READ_MAX),
            };
            // Output queued while the bytes run is written by the flush below, not
            // through `Server::dirty` (see `Server::reading`): the flag is cleared
            // before that flush, whose own callbacks (disconnect) queue as usual.
            server.reading.set(slot.id.index);
            let more = slot.read_once(server, &mut rx, max, hangup);
            server.reading.set(u32::MAX);
            // Give the buffer back: an empty one to the loop, a partial frame to the slot.
            if rx.is_empty() {
                server.payloads.return_scratch(rx);
            } else {
                let gathering = slot
                    .phase
                    .borrow()
                    .session()
                    .is_some_and(ws_proto::Session::is_gathering_payload);
                slot.keep_rx(server.payloads.keep_partial(rx, gathering));
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
        if slot.flush(server) {
            // Bytes may be waiting in the socket with no new edge to report them.
            self.unfinished.push(index);
        }
    }

    /// Writes every connection callbacks queued output for, and removes the ones that
    /// are gone (running their disconnect callbacks, which may queue more output).
    fn settle_all(&mut self) {
        loop {
            let spare = std::mem::take(&mut self.spare_dirty);
            let mut dirty = std::mem::replace(&mut *self.server.dirty.borrow_mut(), spare);
            for &index in &dirty {
                // A connection already flushed since it was queued (`read` flushes right
                // after the callbacks ran) has its flag cleared and nothing new to write:
                // output queued after that flush queues it again.
                if self
                    .server
                    .slot(index)
                    .is_some_and(|slot| slot.flags.get(Flag::Dirty))
                {
                    self.flush(index);
                }
            }
            let doomed = std::mem::take(&mut *self.server.doomed.borrow_mut());
            for &index in &doomed {
                self.remove(index);
            }
            let done = dirty.is_empty() && doomed.is_empty();
            // The two lists take turns, each keeping its allocation.
            dirty.clear();
            self.spare_dirty = dirty;
            if done {
                return;
            }
        }
    }

    fn remove(&mut self, index: usize) {
        let server = &self.server;
        let Some(slot) = server.slot(index) else {
            return;
        };
        if slot.stage() != Stage::Gone {
            return;
        }
        slot.report_disconnect(server);
        self.server.remove(index);
    }

    // ----- Timers -----

    fn timers(&mut self) {
        let now = Instant::now();
        if let Some(at) = self.next_tick.filter(|&at| now >= at) {
            let period = self.server.config.tick_period;
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
            self.next_silence_check = Some((at + self.server.config.silence_max / 2).max(now));
            self.check_silence(now);
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
        for (_, slot) in server.slots.iter() {
            // Silent since the last check: nothing read since (each read sets `heard`).
            if !slot.flags.replace(Flag::Heard, false) && slot.stage() == Stage::Open {
                slot.silence_check(server, now);
            }
        }
    }

    fn check_deadlines(&mut self, now: Instant) {
        let server = &self.server;
        for (_, slot) in server.slots.iter() {
            if slot
                .phase
                .borrow()
                .deadline()
                .is_some_and(|at| now >= at.instant(now))
            {
                slot.deadline_passed(server);
            }
        }
    }

    // ----- Work from other threads -----

    /// Runs the jobs other threads posted (see `Handle`), at most `JOBS_PER_ITERATION`.
    fn run_jobs(&mut self) {
        self.server.hub.clear_woken(self.server.worker);
        self.more_jobs = false;
        for _ in 0..JOBS_PER_ITERATION {
            let server = &self.server;
            match self.jobs.try_recv() {
                Ok(Job::Run(job)) => job(server),
                Ok(Job::RunShared(job)) => job(server),
                Ok(Job::Deliver { topic, payload }) => {
                    server.deliver_local(&topic, &payload);
                }
                Ok(Job::Adopt(accepted)) => self.adopt(*accepted),
                Err(_) => return,
            }
        }
        self.more_jobs = true;
    }

    // ----- Shutdown -----

    /// Stops accepting: the listener leaves the poller and is closed.
    fn close_listener(&mut self) {
        if let Some(listener) = self.listener.take() {
            let _ = self
                .server
                .registry
                .deregister(&mut SourceFd(&listener.as_raw_fd()));
        }
    }

    /// Starts or continues shutting down; true when `start` may return.
    fn shutdown_step(&mut self) -> bool {
        if self.shutdown_deadline.is_none() {
            if !self.server.hub.shutdown_requested() {
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
            self.close_listener();
            let server = &self.server;
            for (_, slot) in server.slots.iter() {
                slot.going_away(server);
            }
            self.shutdown_deadline = Some(Instant::now() + server.config.close_timeout);
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
                slot.abort(server, Ending::abnormal("server shutdown"));
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

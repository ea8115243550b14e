//! The running server, as callbacks see it: its connections, its watched file
//! descriptors, and the way to shut it down.

use flags::Flag;
use slab::Slab;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use mio::Registry;

use crate::config::Config;
use crate::ending::Ending;
use crate::handler::{HandlerResult, Outcome};
use crate::id::ConnId;
use crate::watch::{Direction, Watchers};

pub(crate) mod connection;
pub(crate) mod flags;
pub(crate) mod hub;
pub(crate) mod lifecycle;
pub(crate) mod payloads;
pub(crate) mod preface;
pub(crate) mod proxy_header;
pub(crate) mod topics;

use crate::http::{HttpRequest, HttpResponse};
use connection::{Connection, SharedHandlers, Slot, Stage};
use hub::{Handle, Hub};
use topics::Topics;

pub(crate) type ConnectFn = Box<dyn FnMut(&Server, Connection<'_>) -> Outcome>;
pub(crate) type ServerFn = Box<dyn FnMut(&Server) -> Outcome>;
pub(crate) type WatchFn = Box<dyn FnMut(&Server, RawFd) -> Outcome>;
pub(crate) type HttpHook = Arc<dyn Fn(&Server, &HttpRequest) -> Option<HttpResponse> + Send + Sync>;

/// Connection table entries reserved when a loop starts (fewer when
/// [`Config::max_connections`] is lower): 256 KiB of address space, which glibc's
/// allocator takes from `mmap` (its threshold is 128 KiB) and later grows with `mremap`,
/// which moves no bytes. Pages are resident only once a connection's slot is written, so
/// the table costs each connection its slot and nothing more: a table that started empty
/// grew by doubling in the heap up to 128 KiB (16 to 512 entries), each step copying
/// every slot into new storage and leaving the old in the heap, touched (issue 17: about
/// 130 KiB more RSS by 1,000 connections than their slots).
const SLOTS_RESERVED: usize = 256 * 1024 / std::mem::size_of::<Slot>();

/// The running server (Perl's `$serv`), as its callbacks see it.
///
/// Callbacks receive `&Server`: every method here works through a shared reference, so
/// any callback (including one connection's message callback) can reach every
/// connection.
pub struct Server {
    /// The connection table; a `ConnId`'s index is its key here.
    pub(crate) slots: Slab<Slot>,
    next_generation: u32,
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) local_addr: SocketAddr,
    /// Connections with output queued by callbacks, to be written this iteration.
    pub(crate) dirty: RefCell<Vec<usize>>,
    /// The index of the connection whose bytes are being read and run, which
    /// `EventLoop::read` flushes right after (`u32::MAX`: none): output it queues
    /// meanwhile only sets its `Dirty` flag, and stays out of `dirty`, which
    /// `settle_all` would walk only to find it flushed already.
    pub(crate) reading: Cell<u32>,
    /// Connections that are gone, to be removed this iteration.
    pub(crate) doomed: RefCell<Vec<usize>>,
    pub(crate) watchers: RefCell<Watchers<WatchFn>>,
    pub(crate) on_connect: RefCell<Option<ConnectFn>>,
    /// The worker's callbacks for connections without their own (`Worker::on_utf8` and
    /// the like).
    pub(crate) shared_handlers: SharedHandlers,
    pub(crate) on_tick: RefCell<Option<ServerFn>>,
    pub(crate) on_shutdown: RefCell<Option<ServerFn>>,
    pub(crate) http_hook: Option<HttpHook>,
    pub(crate) open: Cell<usize>,
    /// What the loops of the process share (queues, topic table, broker, flags).
    pub(crate) hub: Arc<Hub>,
    /// This loop's index among the workers.
    pub(crate) worker: usize,
    /// This loop's subscriptions.
    pub(crate) topics: RefCell<Topics>,
    /// Storage reused on the message path: receive and output buffers, large payloads.
    pub(crate) payloads: payloads::Payloads,
}

impl Server {
    pub(crate) fn new(
        config: Config,
        registry: Registry,
        local_addr: SocketAddr,
        hub: Arc<Hub>,
        worker: usize,
    ) -> Server {
        Server {
            slots: Slab::with_capacity(config.max_connections.min(SLOTS_RESERVED)),
            next_generation: 0,
            config,
            registry,
            local_addr,
            dirty: RefCell::new(Vec::new()),
            reading: Cell::new(u32::MAX),
            doomed: RefCell::new(Vec::new()),
            watchers: RefCell::new(Watchers::default()),
            on_connect: RefCell::new(None),
            shared_handlers: SharedHandlers::default(),
            on_tick: RefCell::new(None),
            on_shutdown: RefCell::new(None),
            http_hook: None,
            open: Cell::new(0),
            hub,
            worker,
            topics: RefCell::new(Topics::default()),
            payloads: payloads::Payloads::with_read_buffer(),
        }
    }

    /// The settings this server runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The connections whose handshake is done and that are not closing (Perl's
    /// `connections`), of this worker loop: with several workers
    /// ([`Builder::workers`](crate::Builder::workers)) each sees its own; reach every
    /// worker's connections with topics ([`publish`](Self::publish)) or
    /// [`Handle::post_all`]. Sending to each of them from inside a callback is the broadcast:
    ///
    /// ```no_run
    /// # use ws_server_blocking::Server;
    /// Server::builder().on_connect(|_server, conn| {
    ///     conn.on_utf8(|conn, msg| {
    ///         for other in conn.server().connections() {
    ///             let _ = other.send_utf8(msg);
    ///         }
    ///     });
    /// });
    /// ```
    pub fn connections(&self) -> impl Iterator<Item = Connection<'_>> {
        self.slots
            .iter()
            .map(|(_, slot)| Connection { server: self, slot })
            .filter(Connection::is_ready)
    }

    /// The connection with this id, if it still exists (in any phase).
    pub fn connection(&self, id: ConnId) -> Option<Connection<'_>> {
        let slot = self.slots.get(id.index as usize)?;
        (slot.id == id && slot.stage() != Stage::Gone).then_some(Connection { server: self, slot })
    }

    /// The number of this worker's connections, in every phase (handshaking, open,
    /// closing).
    pub fn connection_count(&self) -> usize {
        self.open.get()
    }

    /// Sends a text message to every ready connection of this worker; returns how many
    /// it was queued for. A connection that cannot take it (closing, not reading) is skipped.
    pub fn broadcast_utf8(&self, text: &str) -> usize {
        self.connections()
            .filter(|c| c.send_utf8(text).is_ok())
            .count()
    }

    /// Sends a binary message to every ready connection of this worker; returns how many
    /// it was queued for.
    pub fn broadcast_binary(&self, data: &[u8]) -> usize {
        self.connections()
            .filter(|c| c.send_binary(data).is_ok())
            .count()
    }

    /// Drops a connection at once, without a closing handshake and without its
    /// `disconnect` callback (Perl's `$serv->disconnect($socket)`). To close cleanly, use
    /// [`Connection::disconnect`].
    pub fn disconnect(&self, id: ConnId) {
        if let Some(conn) = self.connection(id) {
            conn.slot.flags.set(Flag::NotifyDisconnect, false);
            conn.slot
                .abort(self, Ending::abnormal("dropped by the server"));
        }
    }

    /// Shuts the server (every worker) down once the current callback returns (Perl's
    /// `shutdown`).
    pub fn shutdown(&self) {
        self.hub.request_shutdown();
    }

    /// A handle into this loop from any thread: post work, publish, shut down.
    pub fn handle(&self) -> Handle {
        Handle {
            hub: self.hub.clone(),
            worker: self.worker,
        }
    }

    /// A handle that shuts the server down from another thread; the same as
    /// [`handle`](Self::handle), kept under its old name.
    pub fn shutdown_handle(&self) -> Handle {
        self.handle()
    }

    /// This loop's index among the server's worker loops (0 with one worker).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Whether the server accepts new connections (false once
    /// [`Handle::stop_accepting`] was called or shutdown began): for a health check.
    pub fn is_accepting(&self) -> bool {
        self.hub.is_accepting() && !self.hub.shutdown_requested()
    }

    /// How many worker loops the server runs.
    pub fn workers(&self) -> usize {
        self.hub.workers()
    }

    /// The HTTP hook's answer to a request, if there is a hook and it answers.
    pub(crate) fn http_hook_answer(&self, request: &HttpRequest) -> Option<HttpResponse> {
        self.http_hook.as_ref().and_then(|hook| hook(self, request))
    }

    /// Calls `callback` whenever `fd` is readable (Perl's `watch_readable`), replacing any
    /// earlier callback for it. `fd` can be anything pollable: stdin, a pipe, a socket.
    /// It must stay open until [`unwatch_readable`](Self::unwatch_readable).
    ///
    /// # Errors
    ///
    /// The poller's error when `fd` cannot be registered (`EBADF` for a closed descriptor,
    /// `EPERM` for a regular file, which cannot be polled); the earlier callback, if any, is
    /// kept then.
    pub fn watch_readable<R: HandlerResult>(
        &self,
        fd: impl AsRawFd,
        mut callback: impl FnMut(&Server, RawFd) -> R + 'static,
    ) -> io::Result<()> {
        let callback = Box::new(move |s: &Server, fd| callback(s, fd).into_result());
        self.watchers.borrow_mut().watch(
            &self.registry,
            fd.as_raw_fd(),
            Direction::Readable,
            callback,
        )
    }

    /// Calls `callback` whenever `fd` is writable (Perl's `watch_writable`).
    ///
    /// # Errors
    ///
    /// As [`watch_readable`](Self::watch_readable).
    pub fn watch_writable<R: HandlerResult>(
        &self,
        fd: impl AsRawFd,
        mut callback: impl FnMut(&Server, RawFd) -> R + 'static,
    ) -> io::Result<()> {
        let callback = Box::new(move |s: &Server, fd| callback(s, fd).into_result());
        self.watchers.borrow_mut().watch(
            &self.registry,
            fd.as_raw_fd(),
            Direction::Writable,
            callback,
        )
    }

    /// Stops watching `fd` for readability (Perl's `unwatch_readable`).
    pub fn unwatch_readable(&self, fd: impl AsRawFd) {
        self.watchers
            .borrow_mut()
            .unwatch(&self.registry, fd.as_raw_fd(), Direction::Readable);
    }

    /// Stops watching `fd` for writability (Perl's `unwatch_writable`).
    pub fn unwatch_writable(&self, fd: impl AsRawFd) {
        self.watchers
            .borrow_mut()
            .unwatch(&self.registry, fd.as_raw_fd(), Direction::Writable);
    }

    /// The file descriptors watched for readability (Perl's `watched_readable`).
    pub fn watched_readable(&self) -> Vec<RawFd> {
        self.watchers.borrow().watched(Direction::Readable)
    }

    /// The file descriptors watched for writability (Perl's `watched_writable`).
    pub fn watched_writable(&self) -> Vec<RawFd> {
        self.watchers.borrow().watched(Direction::Writable)
    }

    /// Whether `fd` is watched for readability.
    pub fn is_watched_readable(&self, fd: impl AsRawFd) -> bool {
        self.watchers
            .borrow()
            .is_watched(fd.as_raw_fd(), Direction::Readable)
    }

    /// Whether `fd` is watched for writability.
    pub fn is_watched_writable(&self, fd: impl AsRawFd) -> bool {
        self.watchers
            .borrow()
            .is_watched(fd.as_raw_fd(), Direction::Writable)
    }

    pub(crate) fn slot(&self, index: usize) -> Option<&Slot> {
        self.slots.get(index)
    }

    /// Queues a connection's output to be written at the end of this iteration (or at
    /// the end of its read, for the connection being read: see `reading`).
    pub(crate) fn mark_dirty(&self, slot: &Slot) {
        if !slot.flags.replace(Flag::Dirty, true) && self.reading.get() != slot.id.index {
            self.dirty.borrow_mut().push(slot.id.index as usize);
        }
    }

    /// Queues a connection for removal at the end of this iteration.
    pub(crate) fn doom(&self, slot: &Slot) {
        self.doomed.borrow_mut().push(slot.id.index as usize);
    }

    /// Stores a new connection and returns its index.
    pub(crate) fn insert(&mut self, make: impl FnOnce(ConnId) -> Slot) -> usize {
        let entry = self.slots.vacant_entry();
        let index = entry.key();
        self.next_generation = self.next_generation.wrapping_add(1);
        let id = ConnId {
            index: index as u32,
            generation: self.next_generation,
        };
        entry.insert(make(id));
        self.open.set(self.open.get() + 1);
        index
    }

    /// Removes a connection: its socket is closed, which also takes it out of the
    /// poller, with no `epoll_ctl` of its own (epoll(7) and kqueue(2) forget a
    /// descriptor once it is closed). A copy the application made with
    /// [`Connection::socket`](crate::Connection::socket)'s `try_clone` keeps the
    /// registration until it is closed too; what it reports for the index is then a
    /// spurious wakeup, which costs a read that says `WouldBlock`.
    pub(crate) fn remove(&mut self, index: usize) {
        self.payloads.release(index);
        if self.slots.try_remove(index).is_some() {
            self.open.set(self.open.get() - 1);
            self.hub.loads.release(self.worker);
        }
    }
}

/// A loop that ends with connections still in its table (its poller failed, or a
/// callback panicked and the loop unwound) gives their places in its count back, so that
/// [`Handle::connections_per_worker`] reads zero once `start` has returned.
impl Drop for Server {
    fn drop(&mut self) {
        for _ in 0..self.slots.len() {
            self.hub.loads.release(self.worker);
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.slots.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

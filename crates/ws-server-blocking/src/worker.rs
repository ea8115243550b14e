//! Worker loops: the callbacks each worker builds for itself, on its own thread.

use ws_proto::MessageKind;

use crate::handler::HandlerResult;
use crate::handshake::Handshake;
use crate::server::connection::{Connection, SharedHandlers};
use crate::server::{ConnectFn, Server, ServerFn};

/// One worker loop's callbacks, registered by the setup closure of
/// [`Builder::worker_setup`](crate::Builder::worker_setup) on that worker's own thread.
/// So they need not be `Send`: each worker has its own, and may keep `Rc`s and
/// `RefCell`s as with one loop.
///
/// Callbacks registered here replace those of the same kind set on the `Builder` (which
/// only worker 0 can have).
#[derive(Default)]
pub struct Worker {
    index: usize,
    workers: usize,
    pub(crate) on_connect: Option<ConnectFn>,
    pub(crate) on_tick: Option<ServerFn>,
    pub(crate) on_shutdown: Option<ServerFn>,
    pub(crate) handlers: SharedHandlers,
}

impl Worker {
    pub(crate) fn new(index: usize, workers: usize) -> Worker {
        Worker {
            index,
            workers,
            ..Worker::default()
        }
    }

    /// This worker's index, 0 to `workers() - 1`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many workers the server runs.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// This worker's `on_connect`: called for each connection it accepts, on its thread.
    pub fn on_connect<R: HandlerResult>(
        &mut self,
        mut f: impl FnMut(&Server, Connection<'_>) -> R + 'static,
    ) -> &mut Self {
        self.on_connect = Some(Box::new(move |s, c| f(s, c).into_result()));
        self
    }

    /// This worker's `on_tick`: every `tick_period`, on its thread.
    pub fn on_tick<R: HandlerResult>(
        &mut self,
        mut f: impl FnMut(&Server) -> R + 'static,
    ) -> &mut Self {
        self.on_tick = Some(Box::new(move |s| f(s).into_result()));
        self
    }

    /// This worker's `on_shutdown`: once when shutdown begins, on its thread.
    pub fn on_shutdown<R: HandlerResult>(
        &mut self,
        mut f: impl FnMut(&Server) -> R + 'static,
    ) -> &mut Self {
        self.on_shutdown = Some(Box::new(move |s| f(s).into_result()));
        self
    }

    /// Called with each connection's request before the upgrade is answered, for every
    /// connection of this worker without its own
    /// ([`Connection::on_handshake`]): one callback for all, so that a connection costs
    /// no memory for it (an idle connection's size is most of what a server holds per
    /// client). It may run for one connection while it runs for another (a callback
    /// that closes another connection), hence `Fn`: keep mutable state in a `Cell` or
    /// `RefCell`.
    pub fn on_handshake<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, &mut Handshake<'_>) -> R + 'static,
    ) -> &mut Self {
        self.handlers.handshake = Some(Box::new(move |c, h| f(c, h).into_result()));
        self
    }

    /// Called once a connection's handshake is done, for every connection of this worker
    /// without its own [`Connection::on_ready`]; see [`on_handshake`](Self::on_handshake)
    /// for why one for all.
    pub fn on_ready<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>) -> R + 'static,
    ) -> &mut Self {
        self.handlers.ready = Some(Box::new(move |c| f(c).into_result()));
        self
    }

    /// Called with each text message, for every connection of this worker without its
    /// own [`Connection::on_utf8`]; see [`on_handshake`](Self::on_handshake) for why one
    /// for all.
    pub fn on_utf8<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, &str) -> R + 'static,
    ) -> &mut Self {
        self.handlers.utf8 = Some(Box::new(move |c, m| f(c, m).into_result()));
        self
    }

    /// Called with each binary message, for every connection of this worker without its
    /// own [`Connection::on_binary`]; see [`on_handshake`](Self::on_handshake) for why
    /// one for all.
    pub fn on_binary<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, &[u8]) -> R + 'static,
    ) -> &mut Self {
        self.handlers.binary = Some(Box::new(move |c, m| f(c, m).into_result()));
        self
    }

    /// Called with each frame of a data message (with the session config's
    /// `deliver_fragments` on), for every connection of this worker without its own
    /// [`Connection::on_fragment`]; see [`on_handshake`](Self::on_handshake) for why one
    /// for all.
    pub fn on_fragment<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, MessageKind, &[u8], bool) -> R + 'static,
    ) -> &mut Self {
        self.handlers.fragment = Some(Box::new(move |c, k, d, l| f(c, k, d, l).into_result()));
        self
    }

    /// Called with each pong's payload, for every connection of this worker without its
    /// own [`Connection::on_pong`]; see [`on_handshake`](Self::on_handshake) for why one
    /// for all.
    pub fn on_pong<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, &[u8]) -> R + 'static,
    ) -> &mut Self {
        self.handlers.pong = Some(Box::new(move |c, p| f(c, p).into_result()));
        self
    }

    /// Called once when a connection is over, with the close code and reason that ended
    /// it, for every connection of this worker without its own
    /// [`Connection::on_disconnect`] (which says which code when);
    /// [`Connection::was_ready`] tells a connection that was open from one refused or
    /// failed in its handshake. See [`on_handshake`](Self::on_handshake) for why one for
    /// all.
    pub fn on_disconnect<R: HandlerResult>(
        &mut self,
        f: impl Fn(Connection<'_>, u16, &str) -> R + 'static,
    ) -> &mut Self {
        self.handlers.disconnect = Some(Box::new(move |c, code, r| f(c, code, r).into_result()));
        self
    }

    /// Moves the callbacks into the worker's server.
    pub(crate) fn install(self, server: &mut Server) {
        server.shared_handlers = self.handlers;
        if let Some(f) = self.on_connect {
            server.on_connect.replace(Some(f));
        }
        if let Some(f) = self.on_tick {
            server.on_tick.replace(Some(f));
        }
        if let Some(f) = self.on_shutdown {
            server.on_shutdown.replace(Some(f));
        }
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.index)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

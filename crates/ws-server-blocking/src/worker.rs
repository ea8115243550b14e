//! Worker loops: the callbacks each worker builds for itself, on its own thread.

use crate::handler::HandlerResult;
use crate::server::connection::Connection;
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

    /// Moves the callbacks into the worker's server.
    pub(crate) fn install(self, server: &Server) {
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

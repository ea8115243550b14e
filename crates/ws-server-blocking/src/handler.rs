//! The shapes of user callbacks, and what they may return.

use std::fmt::Display;

use crate::connection::Connection;
use crate::handshake::Handshake;
use crate::server::Server;

/// What a callback may return: `()`, or a `Result` whose error is logged and, for a
/// connection's callback, closes that connection with 1011 (internal error).
///
/// This lets a callback end in a send without ceremony:
///
/// ```no_run
/// # use ws_server_blocking::Server;
/// Server::builder().on_connect(|_server, conn| {
///     conn.on_utf8(|conn, msg| conn.send_utf8(msg)); // returns Result<(), Error>
/// });
/// ```
pub trait HandlerResult {
    /// `Err` with a description if the callback failed.
    fn into_result(self) -> Result<(), String>;
}

impl HandlerResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

pub(crate) type Outcome = Result<(), String>;

pub(crate) type ConnectFn = Box<dyn FnMut(&Server, Connection<'_>) -> Outcome>;
pub(crate) type ServerFn = Box<dyn FnMut(&Server) -> Outcome>;
pub(crate) type WatchFn = Box<dyn FnMut(&Server, std::os::fd::RawFd) -> Outcome>;

pub(crate) type HandshakeFn = Box<dyn FnMut(Connection<'_>, &mut Handshake<'_>) -> Outcome>;
pub(crate) type ReadyFn = Box<dyn FnMut(Connection<'_>) -> Outcome>;
pub(crate) type TextFn = Box<dyn FnMut(Connection<'_>, &str) -> Outcome>;
pub(crate) type BytesFn = Box<dyn FnMut(Connection<'_>, &[u8]) -> Outcome>;
pub(crate) type FragmentFn =
    Box<dyn FnMut(Connection<'_>, ws_proto::MessageKind, &[u8], bool) -> Outcome>;
pub(crate) type DisconnectFn = Box<dyn FnMut(Connection<'_>, u16, &str) -> Outcome>;

/// A connection's callbacks, registered with `Connection::on_*`.
#[derive(Default)]
pub(crate) struct Handlers {
    pub handshake: Option<HandshakeFn>,
    pub ready: Option<ReadyFn>,
    pub utf8: Option<TextFn>,
    pub binary: Option<BytesFn>,
    pub fragment: Option<FragmentFn>,
    pub pong: Option<BytesFn>,
    pub disconnect: Option<DisconnectFn>,
}

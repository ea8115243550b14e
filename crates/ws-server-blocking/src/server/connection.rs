//! One client connection: its state inside the server ([`Slot`]: its [`Phase`], whose
//! variants carry their deadlines, and how it ended), and the handle that callbacks
//! receive ([`Connection`]).
//!
//! Everything a callback may change lives behind a `Cell` or `RefCell`, so callbacks
//! only ever need shared references: a message callback on one connection can send to
//! every other connection (and to itself) while the server is iterating. The loop never
//! holds one of these borrows while it calls a callback.

use super::flags::{Flag, Flags};
use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpStream};
use std::time::Instant;

use ws_proto::handshake::RequestParser;
use ws_proto::{CloseCode, MessageKind, RecvBuffer, Session, truncate_reason};

use super::Server;
use super::preface::Preface;
use crate::ending::Ending;
use crate::error::Error;
use crate::handler::{HandlerResult, Outcome};
use crate::handshake::Handshake;
use crate::id::ConnId;
use crate::tick::Tick;
use crate::transport::Transport;

type HandshakeFn = Box<dyn FnMut(Connection<'_>, &mut Handshake<'_>) -> Outcome>;
type ReadyFn = Box<dyn FnMut(Connection<'_>) -> Outcome>;
type TextFn = Box<dyn FnMut(Connection<'_>, &str) -> Outcome>;
type BytesFn = Box<dyn FnMut(Connection<'_>, &[u8]) -> Outcome>;
type FragmentFn = Box<dyn FnMut(Connection<'_>, MessageKind, &[u8], bool) -> Outcome>;
type DisconnectFn = Box<dyn FnMut(Connection<'_>, u16, &str) -> Outcome>;

type SharedHandshakeFn = Box<dyn Fn(Connection<'_>, &mut Handshake<'_>) -> Outcome>;
type SharedReadyFn = Box<dyn Fn(Connection<'_>) -> Outcome>;
type SharedTextFn = Box<dyn Fn(Connection<'_>, &str) -> Outcome>;
type SharedBytesFn = Box<dyn Fn(Connection<'_>, &[u8]) -> Outcome>;
type SharedFragmentFn = Box<dyn Fn(Connection<'_>, MessageKind, &[u8], bool) -> Outcome>;
type SharedDisconnectFn = Box<dyn Fn(Connection<'_>, u16, &str) -> Outcome>;

/// A worker's callbacks for every connection of its loop (`Worker::on_utf8` and the
/// like), for the events a connection has no callback of its own for: one set per
/// loop, so that a connection costs nothing for them. `Fn`, so that one may run while
/// it already runs for another connection (a message callback that closes another).
#[derive(Default)]
pub(crate) struct SharedHandlers {
    pub handshake: Option<SharedHandshakeFn>,
    pub ready: Option<SharedReadyFn>,
    pub utf8: Option<SharedTextFn>,
    pub binary: Option<SharedBytesFn>,
    pub fragment: Option<SharedFragmentFn>,
    pub pong: Option<SharedBytesFn>,
    pub disconnect: Option<SharedDisconnectFn>,
}

/// A connection's own callbacks, registered with `Connection::on_*`; each replaces the
/// worker's of the same event for this connection.
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

/// Where a connection is in its life, with what that phase holds: the request parser
/// while the handshake runs, the session while it is open and while its last bytes are
/// written. Every phase that waits on the peer carries its deadline, so none can exist
/// without one.
pub(crate) enum Phase {
    /// TLS and WebSocket handshakes in progress, until `deadline` (`handshake_timeout`
    /// from accept).
    Handshake {
        parser: Box<RequestParser>,
        /// The PROXY protocol header still expected before TLS and the request
        /// ([`Builder::proxy_protocol`](crate::Builder::proxy_protocol)).
        proxy: Option<Box<PendingHeader>>,
        deadline: Tick,
    },
    /// The session is open: messages flow. Once our close frame is queued, the peer's
    /// answer is due by `closing` (`close_timeout` later); `None` until then.
    Open {
        /// Inline, not boxed: an idle connection's memory is its slot, and a box costs a
        /// pointer and the allocator's 16 bytes beside the session's 144.
        session: Session,
        closing: Option<Tick>,
    },
    /// Writing our last bytes (a close frame, a refusal: the session's, if there was
    /// one, or the preface) until `deadline`; then our side is shut down.
    Flushing {
        session: Option<Session>,
        deadline: Tick,
    },
    /// Our side is shut down; reading until the peer closes its side, or `deadline`.
    AwaitingEof { deadline: Tick },
    /// Finished: removed at the end of the loop iteration.
    Gone,
}

/// Which phase a connection is in, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Handshake,
    Open,
    Flushing,
    AwaitingEof,
    Gone,
}

impl Phase {
    /// Which phase this is.
    pub(crate) fn stage(&self) -> Stage {
        match self {
            Phase::Handshake { .. } => Stage::Handshake,
            Phase::Open { .. } => Stage::Open,
            Phase::Flushing { .. } => Stage::Flushing,
            Phase::AwaitingEof { .. } => Stage::AwaitingEof,
            Phase::Gone => Stage::Gone,
        }
    }

    /// When this phase gives up on the peer, if it waits on it.
    pub(crate) fn deadline(&self) -> Option<Tick> {
        match self {
            Phase::Handshake { deadline, .. }
            | Phase::Flushing { deadline, .. }
            | Phase::AwaitingEof { deadline } => Some(*deadline),
            Phase::Open { closing, .. } => *closing,
            Phase::Gone => None,
        }
    }

    /// The session, in the phases that have one.
    pub(crate) fn session(&self) -> Option<&Session> {
        match self {
            Phase::Open { session, .. } => Some(session),
            Phase::Flushing { session, .. } => session.as_ref(),
            _ => None,
        }
    }

    /// The session, in the phases that have one.
    pub(crate) fn session_mut(&mut self) -> Option<&mut Session> {
        match self {
            Phase::Open { session, .. } => Some(session),
            Phase::Flushing { session, .. } => session.as_mut(),
            _ => None,
        }
    }
}

/// A PROXY protocol header still expected before anything else (see `proxy_header.rs`):
/// the decoder and the bytes received so far.
pub(crate) struct PendingHeader {
    pub parser: ws_transport::proxy_protocol::ProxyHeaderParser,
    pub received: Vec<u8>,
}

/// A connection's state inside the server: one entry of the server's slab, so its size
/// is most of what an idle connection costs (`a_slot_stays_within_*_bytes` guards it).
/// What few connections use lives behind a box made the first time one does
/// ([`Extra`]); callbacks set on the connection itself likewise ([`Handlers`]).
pub(crate) struct Slot {
    pub id: ConnId,
    /// The socket's peer (the load balancer, behind one), if IPv4: 8 bytes, where a
    /// `SocketAddr` takes 32; an IPv6 peer's is in [`Extra`] (see [`Slot::addr`]).
    pub addr_v4: Option<SocketAddrV4>,
    pub transport: RefCell<Transport>,
    /// Raw bytes that go out before any frame: the handshake's answer or refusal.
    pub preface: Preface,
    pub phase: RefCell<Phase>,
    /// Received bytes not yet consumed (part of a frame), boxed: an idle connection
    /// usually holds none; see [`Slot::take_rx`].
    pub rx: Cell<Option<Box<RecvBuffer>>>,
    /// Callbacks registered on this connection (`Connection::on_*`), made at the first;
    /// the worker's ([`Worker::on_utf8`](crate::Worker::on_utf8) and the like) serve the
    /// connections without one.
    pub handlers: OnceCell<Box<RefCell<Handlers>>>,
    /// What few connections use, made the first time one does (see [`Slot::extra`]).
    pub extra: OnceCell<Box<Extra>>,
    /// When the first ping of the current silence was sent.
    pub silent_since_ping: Cell<Option<Tick>>,
    /// Yes/no states: queued to write, watching writability, reading paused, the peer's
    /// end of stream, `disconnect` before the handshake, the disconnect callback owed,
    /// was ready, heard since the last silence check (see [`Flag`]).
    pub flags: Flags,
}

/// What a connection holds only once it uses it: boxed, out of the [`Slot`], so that an
/// idle connection that never did (an echo server's) does not pay for it.
#[derive(Default)]
pub(crate) struct Extra {
    /// The socket's peer, when it is an IPv6 address (see [`Slot::addr`]).
    pub peer_v6: Option<SocketAddrV6>,
    /// The client's address from a PROXY protocol header, when it carries one.
    pub client: Cell<Option<SocketAddr>>,
    pub data: RefCell<Option<Box<dyn Any>>>,
    /// The topics this connection is subscribed to.
    pub topics: RefCell<Vec<std::sync::Arc<str>>>,
    /// How the connection ended, for the disconnect callback.
    pub ending: RefCell<Option<Ending>>,
    /// This connection's `max_send_size`, when changed from the server's.
    pub max_send_size: Cell<Option<usize>>,
    /// This connection's (max frame size, max message size), when changed from the
    /// server's session config.
    pub recv_limits: Cell<Option<(usize, usize)>>,
}

impl Slot {
    /// The received bytes this connection holds (`None` if none: it holds a buffer only
    /// while inside a frame), for the loop to read into; give them back with
    /// [`keep_rx`](Self::keep_rx).
    pub(crate) fn take_rx(&self) -> Option<RecvBuffer> {
        self.rx.take().map(|rx| *rx)
    }

    /// Keeps received bytes not yet consumed (part of a frame) until the next read.
    pub(crate) fn keep_rx(&self, rx: RecvBuffer) {
        self.rx.set(Some(Box::new(rx)));
    }

    /// The socket's peer (the load balancer, behind one).
    pub(crate) fn addr(&self) -> SocketAddr {
        match (
            self.addr_v4,
            self.extra.get().and_then(|extra| extra.peer_v6),
        ) {
            (Some(v4), _) => SocketAddr::V4(v4),
            (None, Some(v6)) => SocketAddr::V6(v6),
            // Not made by `Slot::accepted`, which keeps one or the other.
            (None, None) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        }
    }

    /// What few connections use, made now if this one had none.
    pub(crate) fn extra(&self) -> &Extra {
        self.extra.get_or_init(Box::default)
    }

    /// Remembers the first reason the connection ended; later ones are consequences.
    pub(crate) fn record_ending(&self, ending: Ending) {
        let mut recorded = self.extra().ending.borrow_mut();
        if recorded.is_none() {
            *recorded = Some(ending);
        }
    }

    /// How the connection ended, if recorded.
    pub(crate) fn ending(&self) -> Option<Ending> {
        self.extra.get()?.ending.borrow().clone()
    }

    /// The client's address from a PROXY protocol header, if one gave it.
    pub(crate) fn client(&self) -> Option<SocketAddr> {
        self.extra.get()?.client.get()
    }

    /// The largest message this connection sends: its own, or the server's.
    pub(crate) fn max_send_size(&self, config: &crate::config::Config) -> usize {
        self.extra
            .get()
            .and_then(|extra| extra.max_send_size.get())
            .unwrap_or(config.max_send_size)
    }

    /// (max frame size, max message size) for the session: its own, or the server's.
    pub(crate) fn recv_limits(&self, config: &crate::config::Config) -> (usize, usize) {
        self.extra
            .get()
            .and_then(|extra| extra.recv_limits.get())
            .unwrap_or((
                config.session.max_frame_size,
                config.session.max_message_size,
            ))
    }

    /// Drops the connection at the end of this loop iteration, without more I/O.
    pub(crate) fn abort(&self, server: &Server, ending: Ending) {
        self.record_ending(ending);
        if self.stage() != Stage::Gone {
            // The phase's data (parser, session) goes now; the socket at removal.
            drop(self.phase.replace(Phase::Gone));
            server.doom(self);
        }
    }

    /// Which phase the connection is in.
    pub(crate) fn stage(&self) -> Stage {
        self.phase.borrow().stage()
    }

    pub(crate) fn session_is_open(&self) -> bool {
        matches!(&*self.phase.borrow(), Phase::Open { session, .. } if session.state() == ws_proto::State::Open)
    }
}

/// A client connection, as callbacks see it. Cheap to copy.
///
/// Perl's `Net::WebSocket::Server::Connection`: register the connection's callbacks with
/// the `on_*` methods (usually in the server's `on_connect`), send with `send_utf8`,
/// `send_binary` and `send`, end it with `disconnect`.
#[derive(Clone, Copy)]
pub struct Connection<'a> {
    pub(crate) server: &'a Server,
    pub(crate) slot: &'a Slot,
}

impl<'a> Connection<'a> {
    /// A stable identifier, valid until the connection is gone; see [`Server::connection`].
    pub fn id(&self) -> ConnId {
        self.slot.id
    }

    /// The server this connection belongs to (Perl's `$conn->server`).
    pub fn server(&self) -> &'a Server {
        self.server
    }

    /// The peer's address: the client's as the PROXY protocol header gives it, on a
    /// server with [`Builder::proxy_protocol`](crate::Builder::proxy_protocol) (the
    /// socket's peer for a `LOCAL` or `UNKNOWN` header: the load balancer itself);
    /// otherwise the socket's peer.
    pub fn peer_addr(&self) -> SocketAddr {
        self.slot.client().unwrap_or_else(|| self.slot.addr())
    }

    /// The peer's IP address (Perl's `$conn->ip`); the client's behind a load balancer
    /// that sends the PROXY protocol (see [`peer_addr`](Self::peer_addr)).
    pub fn ip(&self) -> IpAddr {
        self.peer_addr().ip()
    }

    /// The peer's port (Perl's `$conn->port`); see [`peer_addr`](Self::peer_addr).
    pub fn port(&self) -> u16 {
        self.peer_addr().port()
    }

    /// Whether the handshake is done and messages can be sent.
    pub fn is_ready(&self) -> bool {
        self.slot.session_is_open()
    }

    /// Whether the handshake completed at some point: true from the `ready` callback on,
    /// and still true in the `disconnect` callback of a connection that was open; false
    /// there for one refused or failed in its handshake.
    pub fn was_ready(&self) -> bool {
        self.slot.flags.get(Flag::WasReady)
    }

    /// Whether permessage-deflate was agreed in the handshake.
    pub fn is_compressing(&self) -> bool {
        self.slot
            .phase
            .borrow()
            .session()
            .is_some_and(Session::is_compressing)
    }

    /// The TCP socket (Perl's `$conn->socket`). It is non-blocking and owned by the
    /// server: read or write it only if you know what you are doing.
    pub fn socket(&self) -> std::cell::Ref<'a, TcpStream> {
        std::cell::Ref::map(self.slot.transport.borrow(), Transport::tcp)
    }

    /// Whether TCP_NODELAY is set.
    pub fn nodelay(&self) -> bool {
        self.slot
            .transport
            .borrow()
            .tcp()
            .nodelay()
            .unwrap_or(false)
    }

    /// Sets or clears TCP_NODELAY.
    ///
    /// # Errors
    ///
    /// The operating system's error from `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> std::io::Result<()> {
        self.slot.transport.borrow().tcp().set_nodelay(nodelay)
    }

    /// The largest message this connection sends (Perl's `max_send_size`).
    pub fn max_send_size(&self) -> usize {
        self.slot.max_send_size(&self.server.config)
    }

    /// Changes the largest message this connection sends.
    pub fn set_max_send_size(&self, max: usize) {
        self.slot.extra().max_send_size.set(Some(max));
    }

    /// The largest message this connection accepts (Perl's `max_recv_size`); a larger
    /// one is answered with close code 1009.
    pub fn max_recv_size(&self) -> usize {
        self.slot.recv_limits(&self.server.config).1
    }

    /// Changes the largest message (and frame) this connection accepts.
    pub fn set_max_recv_size(&self, max: usize) {
        let (frame, _) = self.slot.recv_limits(&self.server.config);
        let limits = (frame.min(max), max);
        self.slot.extra().recv_limits.set(Some(limits));
        if let Some(session) = self.slot.phase.borrow_mut().session_mut() {
            session.set_max_frame_size(limits.0);
            session.set_max_message_size(limits.1);
        }
    }

    /// Sends a text message (Perl's `send_utf8`).
    ///
    /// # Errors
    ///
    /// [`Error::MessageTooLarge`] for a message over [`max_send_size`](Self::max_send_size)
    /// (nothing is sent); [`Error::NotOpen`] before the handshake is done and once the
    /// connection is closing or closed; [`Error::OutputFull`] when the peer stopped reading and
    /// the unsent output passed `max_pending_output`: the connection is dropped without a
    /// close frame; [`Error::Protocol`] if permessage-deflate fails (a bug or an allocation
    /// failure).
    pub fn send_utf8(&self, text: &str) -> Result<(), Error> {
        self.queue(text.len(), |s| s.send_text(text))
    }

    /// Sends a binary message (Perl's `send_binary`).
    ///
    /// Sending back the very bytes an [`on_binary`](Self::on_binary) callback got (the
    /// same slice), on the connection they came from, costs no copy for a message of
    /// 64 KiB or more: the frame's header is queued alone and the payload is written
    /// from the storage it was received in (an echo). Any other slice, a second send of
    /// the same one, and a message permessage-deflate compresses are copied into the
    /// connection's output as usual.
    ///
    /// # Errors
    ///
    /// As [`send_utf8`](Self::send_utf8).
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        let payloads = &self.server.payloads;
        if payloads.is_delivering(self.slot.id.index as usize, data) {
            return self.queue(data.len(), |s| {
                if s.send_binary_external(data.len())? {
                    payloads.mark_sent_back();
                    Ok(())
                } else {
                    s.send_binary(data)
                }
            });
        }
        self.queue(data.len(), |s| s.send_binary(data))
    }

    /// Sends a message of either kind (Perl's `send($type, $data)`); text must be UTF-8.
    ///
    /// # Errors
    ///
    /// As [`send_utf8`](Self::send_utf8), and [`Error::Protocol`] for text that is not UTF-8
    /// (RFC 6455 5.6).
    pub fn send(&self, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        match kind {
            MessageKind::Binary => self.send_binary(data),
            MessageKind::Text => match std::str::from_utf8(data) {
                Ok(text) => self.send_utf8(text),
                Err(_) => Err(Error::Protocol(ws_proto::LocalError::InvalidText.into())),
            },
        }
    }

    /// Sends a ping; the answer arrives as a `pong` event.
    ///
    /// # Errors
    ///
    /// As [`send_utf8`](Self::send_utf8), and [`Error::Protocol`] for a payload over 125 bytes
    /// (RFC 6455 5.5).
    pub fn send_ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.queue(payload.len(), |s| s.send_ping(payload))
    }

    /// Queues a frame, enforcing `max_send_size` and the cap on unsent output.
    fn queue(
        &self,
        size: usize,
        send: impl FnOnce(&mut Session) -> Result<(), ws_proto::LocalError>,
    ) -> Result<(), Error> {
        let max = self.slot.max_send_size(&self.server.config);
        if size > max {
            return Err(Error::MessageTooLarge { size, max });
        }
        let mut phase = self.slot.phase.borrow_mut();
        let Phase::Open { session, .. } = &mut *phase else {
            return Err(Error::NotOpen);
        };
        let cap = self.server.config.max_pending_output;
        if session.queued_len() > cap {
            drop(phase);
            log::info!(
                "{}: dropped: peer stopped reading ({cap} bytes unsent)",
                self.slot.addr()
            );
            self.slot.abort(
                self.server,
                Ending::abnormal("peer stopped reading: output cap reached"),
            );
            return Err(Error::OutputFull { max: cap });
        }
        // Encoded into the loop's output buffer, not into storage of the connection's
        // own that would be allocated now and freed once written.
        let payloads = &self.server.payloads;
        payloads.lend_output(session);
        let sent = send(session);
        if sent.is_err() {
            // Nothing queued: the buffer comes back at once if the session holds
            // nothing else, so that the connection holds none while idle.
            payloads.advance_output(session, 0);
        }
        sent.map_err(|err| match err {
            ws_proto::LocalError::Closed => Error::NotOpen,
            other => Error::Protocol(other.into()),
        })?;
        drop(phase);
        self.server.mark_dirty(self.slot);
        Ok(())
    }

    /// Starts the closing handshake with `code` and `reason` (cut to 123 bytes); the
    /// connection is over once the peer answers or `close_timeout` passes, and then the
    /// `disconnect` callback runs. Called from the `handshake` callback, it refuses the
    /// upgrade with 403 instead.
    pub fn disconnect(&self, code: CloseCode, reason: &str) {
        let mut phase = self.slot.phase.borrow_mut();
        match &mut *phase {
            Phase::Handshake { .. } => self.slot.flags.set(Flag::DisconnectRequested, true),
            Phase::Open { session, closing } => {
                if session.close(code, truncate_reason(reason)).is_ok() {
                    *closing = Some(Tick::after(
                        Instant::now(),
                        self.server.config.close_timeout,
                    ));
                    drop(phase);
                    self.slot
                        .record_ending(Ending::closed(code.as_u16(), truncate_reason(reason)));
                    self.server.mark_dirty(self.slot);
                }
            }
            Phase::Flushing { .. } | Phase::AwaitingEof { .. } | Phase::Gone => {}
        }
    }

    /// Attaches a value of any type to the connection, replacing any earlier one.
    pub fn set_data<T: Any>(&self, value: T) {
        *self.slot.extra().data.borrow_mut() = Some(Box::new(value));
    }

    /// Runs `f` on the attached value, if there is one of type `T` (and it is not
    /// already being used further up the stack).
    pub fn with_data<T: Any, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut data = self.slot.extra.get()?.data.try_borrow_mut().ok()?;
        data.as_mut()?.downcast_mut::<T>().map(f)
    }

    /// Called with the client's request before the upgrade is answered: inspect the
    /// origin, cookies, path or subprotocols; choose a subprotocol; or refuse.
    pub fn on_handshake<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, &mut Handshake<'_>) -> R + 'static,
    ) {
        self.own_handlers().handshake = Some(Box::new(move |c, h| f(c, h).into_result()));
    }

    /// Called once the handshake is done and messages can flow.
    pub fn on_ready<R: HandlerResult>(&self, mut f: impl FnMut(Connection<'_>) -> R + 'static) {
        self.own_handlers().ready = Some(Box::new(move |c| f(c).into_result()));
    }

    /// Called with each text message (Perl's `utf8` event). Like every `on_*` here, it
    /// replaces the worker's callback for the same event ([`Worker::on_utf8`]) for this
    /// connection, and the first one a connection registers makes its box of callbacks
    /// (about 128 bytes).
    ///
    /// [`Worker::on_utf8`]: crate::Worker::on_utf8
    pub fn on_utf8<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, &str) -> R + 'static,
    ) {
        self.own_handlers().utf8 = Some(Box::new(move |c, m| f(c, m).into_result()));
    }

    /// Called with each binary message (Perl's `binary` event).
    ///
    /// An echo (`conn.send_binary(msg)` with the slice received, on this connection) of a
    /// message of 64 KiB or more is written from the storage it arrived in, without a
    /// copy (see [`send_binary`](Self::send_binary)).
    pub fn on_binary<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, &[u8]) -> R + 'static,
    ) {
        self.own_handlers().binary = Some(Box::new(move |c, m| f(c, m).into_result()));
    }

    /// Called with each frame of a data message, when the server's session config has
    /// `deliver_fragments` on: the kind, the payload, and whether it ends the message.
    pub fn on_fragment<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, MessageKind, &[u8], bool) -> R + 'static,
    ) {
        self.own_handlers().fragment =
            Some(Box::new(move |c, k, d, l| f(c, k, d, l).into_result()));
    }

    /// Called with each pong's payload (Perl's `pong` event).
    pub fn on_pong<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, &[u8]) -> R + 'static,
    ) {
        self.own_handlers().pong = Some(Box::new(move |c, p| f(c, p).into_result()));
    }

    /// Called once when the connection is over: as soon as the closing handshake is
    /// done, the connection failed, or TCP ended (Perl's `disconnect` event). It gets the
    /// close code and reason that ended it: the peer's, ours, 1005 for a close frame
    /// without a code, or 1006 when no closing handshake happened. Also called for a
    /// connection whose handshake failed or was refused (with 1006).
    pub fn on_disconnect<R: HandlerResult>(
        &self,
        mut f: impl FnMut(Connection<'_>, u16, &str) -> R + 'static,
    ) {
        self.own_handlers().disconnect =
            Some(Box::new(move |c, code, r| f(c, code, r).into_result()));
    }

    /// This connection's own callbacks, made at the first one registered.
    fn own_handlers(&self) -> std::cell::RefMut<'a, Handlers> {
        self.slot.handlers.get_or_init(Box::default).borrow_mut()
    }

    /// Runs this connection's own callback for an event, if it has one: it is taken out
    /// while it runs (so it may replace itself). `None` without one.
    fn call_own<H>(
        &self,
        field: fn(&mut Handlers) -> &mut Option<H>,
        run: impl FnOnce(&mut H) -> Outcome,
    ) -> Option<Outcome> {
        let own = self.slot.handlers.get()?;
        let mut handler = field(&mut own.borrow_mut()).take()?;
        let outcome = run(&mut handler);
        let mut handlers = own.borrow_mut();
        let place = field(&mut handlers);
        if place.is_none() {
            *place = Some(handler);
        }
        Some(outcome)
    }

    /// The worker's callbacks, for the events this connection has none of its own for.
    fn shared(&self) -> &'a SharedHandlers {
        &self.server.shared_handlers
    }

    /// A callback's failure closes the connection with 1011.
    fn settle(&self, event: &str, outcome: Option<Outcome>) {
        if let Some(Err(err)) = outcome {
            log::warn!("{}: {event} callback failed: {err}", self.slot.addr());
            self.disconnect(CloseCode::INTERNAL_ERROR, "");
        }
    }

    pub(crate) fn handshake_event(&self, handshake: &mut Handshake<'_>) {
        let me = *self;
        let outcome = match self.call_own(|h| &mut h.handshake, |f| f(me, handshake)) {
            Some(outcome) => Some(outcome),
            None => self.shared().handshake.as_ref().map(|f| f(me, handshake)),
        };
        self.settle("handshake", outcome);
    }

    pub(crate) fn ready_event(&self) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.ready, |f| f(me))
            .or_else(|| self.shared().ready.as_ref().map(|f| f(me)));
        self.settle("ready", outcome);
    }

    pub(crate) fn utf8_event(&self, text: &str) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.utf8, |f| f(me, text))
            .or_else(|| self.shared().utf8.as_ref().map(|f| f(me, text)));
        self.settle("utf8", outcome);
    }

    pub(crate) fn binary_event(&self, data: &[u8]) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.binary, |f| f(me, data))
            .or_else(|| self.shared().binary.as_ref().map(|f| f(me, data)));
        self.settle("binary", outcome);
    }

    pub(crate) fn fragment_event(&self, kind: MessageKind, data: &[u8], last: bool) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.fragment, |f| f(me, kind, data, last))
            .or_else(|| {
                let shared = self.shared().fragment.as_ref();
                shared.map(|f| f(me, kind, data, last))
            });
        self.settle("fragment", outcome);
    }

    pub(crate) fn pong_event(&self, payload: &[u8]) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.pong, |f| f(me, payload))
            .or_else(|| self.shared().pong.as_ref().map(|f| f(me, payload)));
        self.settle("pong", outcome);
    }

    pub(crate) fn disconnect_event(&self, code: u16, reason: &str) {
        let me = *self;
        let outcome = self
            .call_own(|h| &mut h.disconnect, |f| f(me, code, reason))
            .or_else(|| {
                let shared = self.shared().disconnect.as_ref();
                shared.map(|f| f(me, code, reason))
            });
        self.settle("disconnect", outcome);
    }
}

impl std::fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id())
            .field("peer_addr", &self.peer_addr())
            .field("ready", &self.is_ready())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use ws_proto::handshake::RequestParser;
    use ws_proto::{Config, Role, Session};

    use super::{Phase, Stage};
    use crate::tick::Tick;

    fn session() -> Session {
        Session::new(Role::Server, Config::default(), None)
    }

    fn phases(at: Tick) -> Vec<Phase> {
        vec![
            Phase::Handshake {
                parser: Box::new(RequestParser::new()),
                proxy: None,
                deadline: at,
            },
            Phase::Open {
                session: session(),
                closing: None,
            },
            Phase::Open {
                session: session(),
                closing: Some(at),
            },
            Phase::Flushing {
                session: Some(session()),
                deadline: at,
            },
            Phase::Flushing {
                session: None,
                deadline: at,
            },
            Phase::AwaitingEof { deadline: at },
            Phase::Gone,
        ]
    }

    // Every phase that waits on the peer has a deadline; an open connection has one
    // only once its closing handshake began.
    #[test]
    fn waiting_phases_carry_their_deadline() {
        let at = Tick::after(Instant::now(), Duration::from_secs(5));
        let deadlines: Vec<Option<Tick>> = phases(at).iter().map(Phase::deadline).collect();
        assert_eq!(
            deadlines,
            [Some(at), None, Some(at), Some(at), Some(at), Some(at), None]
        );
    }

    // The session lives in the open phase and in the flushing that follows it (its last
    // bytes); a refusal flushes without one; the other phases have none.
    #[test]
    fn the_session_lives_in_open_and_flushing_only() {
        let at = Tick::at(Instant::now());
        let with: Vec<(Stage, bool)> = phases(at)
            .iter()
            .map(|p| (p.stage(), p.session().is_some()))
            .collect();
        assert_eq!(
            with,
            [
                (Stage::Handshake, false),
                (Stage::Open, true),
                (Stage::Open, true),
                (Stage::Flushing, true),
                (Stage::Flushing, false),
                (Stage::AwaitingEof, false),
                (Stage::Gone, false),
            ]
        );
    }

    // An idle connection's memory is its slab entry plus its session's box: the slot's
    // size is guarded like ws-proto's session (`a_session_stays_within_144_bytes`), so
    // that a field added to it is a decision (benches/README.md, "Idle memory per
    // connection, field by field", lists each field and what it costs).
    #[test]
    fn a_slot_stays_within_240_bytes() {
        use std::mem::size_of;
        // 144 of them are the session's, 152 the phase's that holds it.
        assert_eq!(size_of::<Session>(), 144);
        assert!(size_of::<Phase>() <= 152, "Phase: {}", size_of::<Phase>());
        let slot = size_of::<super::Slot>();
        assert!(slot <= 240, "Slot: {slot} bytes");
    }
}

//! Perl's Net::WebSocket::Server in Rust: a WebSocket server with callbacks, driven by a
//! readiness loop over non-blocking std sockets, on top of `ws-proto`: one loop on the
//! thread that calls `start`, or one per thread with [`Builder::workers`]. Topics
//! ([`Connection::subscribe`], [`Server::publish`]) reach every worker, and other processes
//! through a [`Broker`] (Redis with the `redis` feature); a [`Handle`] reaches the loops
//! from any thread; [`Builder::http_hook`] answers plain HTTP requests (health checks,
//! pages); [`Builder::proxy_protocol`] reads the client's address from a load balancer.
//!
//! The three programs of the Perl module's synopsis:
//!
//! ```no_run
//! use ws_server_blocking::Server;
//!
//! // An echo server for text messages.
//! Server::builder()
//!     .listen(8080)
//!     .on_connect(|_server, conn| {
//!         conn.on_utf8(|conn, msg| conn.send_utf8(msg));
//!     })
//!     .start()?;
//! # Ok::<(), ws_server_blocking::Error>(())
//! ```
//!
//! ```no_run
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use ws_server_blocking::Server;
//!
//! // The time, to every client, every second.
//! Server::builder()
//!     .listen(8080)
//!     .tick_period(Duration::from_secs(1))
//!     .on_tick(|server| {
//!         let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
//!         server.broadcast_utf8(&now.to_string());
//!     })
//!     .start()?;
//! # Ok::<(), ws_server_blocking::Error>(())
//! ```
//!
//! ```no_run
//! use ws_server_blocking::Server;
//!
//! // Broadcast every message to every client, for pages from one origin only.
//! const ORIGIN: &str = "http://example.com";
//! Server::builder()
//!     .listen(8080)
//!     .on_connect(|_server, conn| {
//!         conn.on_handshake(|_conn, hs| {
//!             if hs.request().origin() != Some(ORIGIN) {
//!                 hs.refuse(403);
//!             }
//!         });
//!         conn.on_utf8(|conn, msg| {
//!             for other in conn.server().connections() {
//!                 let _ = other.send_utf8(msg);
//!             }
//!         });
//!         conn.on_binary(|conn, msg| {
//!             conn.server().broadcast_binary(msg);
//!         });
//!     })
//!     .start()?;
//! # Ok::<(), ws_server_blocking::Error>(())
//! ```
//!
//! # How callbacks reach the server and other connections
//!
//! Callbacks receive shared handles: `&Server` and [`Connection`] (a copyable pair of
//! references). Every method works through them, so a message callback on one connection
//! can iterate [`Server::connections`] and send to all of them, itself included, which is
//! the broadcast of the Perl synopsis. This is sound without locks because everything
//! runs on the loop's thread (with several worker loops, each connection's callbacks run
//! on the thread of the worker that serves it, and only that worker's connections are
//! in [`Server::connections`]; other threads reach the loops through a [`Handle`]): each
//! connection keeps what callbacks may change behind `Cell`s and `RefCell`s, the loop
//! never holds one of those borrows while it calls back, and only the loop, between
//! callbacks, adds or removes connections. Sends only queue bytes; the loop writes each
//! connection's queue once per iteration, so replies to a batch of pipelined messages
//! leave in one system call.
//!
//! A callback may return `()` or a `Result`; an error is logged and closes that
//! connection with 1011 (see [`HandlerResult`]). Callbacks need not be `Send`: they may
//! capture `Rc`s and `RefCell`s.
//!
//! Callbacks registered on a connection (`Connection::on_utf8` and the like, usually in
//! `on_connect`) cost that connection a box of them (about 128 bytes, beside its 240-byte
//! slot). Callbacks that are the same for every connection can instead be set once on
//! the worker ([`Worker::on_utf8`] and the like, in [`Builder::worker_setup`], with one
//! worker too): they serve every connection without its own for that event, and cost
//! none. An idle `ws-server` connection holds 240 bytes this way.
//!
//! # Limits and their defaults
//!
//! Nothing a peer sends can make the server hold memory without bound, and every limit can
//! be changed on the [`Builder`] (and, but for `read_pause`, from the `ws-server` command
//! line):
//!
//! | limit | default | `ws-server` flag | what happens past it |
//! |---|---|---|---|
//! | [`handshake_limits`](Builder::handshake_limits): header block | 8 KiB | `--max-head-size` | 431 and close |
//! | [`handshake_limits`](Builder::handshake_limits): header fields | 64 | `--max-headers` | 431 and close |
//! | [`max_connections`](Builder::max_connections) (per worker loop) | 50,000 | `--max-connections` | 503 and close |
//! | [`queue_capacity`](Builder::queue_capacity) (jobs posted to a loop: [`Handle::post`], publishes from other workers or a broker) | 16,384 | none | [`Handle::post`] fails with [`PostError::Full`]; topic messages for that loop are dropped, counted ([`Inbound::dropped`]) and logged |
//! | [`max_frame_size`](Builder::max_frame_size) | 16 MiB | `--max-frame-size` | close 1009, at the frame header |
//! | [`max_recv_size`](Builder::max_recv_size) (message) | 64 MiB | `--max-message-size` | close 1009, at the frame that passes it; for a compressed message, at the byte of inflated output that passes it |
//! | [`deflate`](Builder::deflate) | off | `--deflate` | with it on, about 330 KiB per connection that exchanged compressed messages with context takeover (nothing for idle ones) |
//! | [`max_send_size`](Builder::max_send_size) | 64 MiB | `--max-send-size` | the send fails |
//! | [`read_pause`](Builder::read_pause) | 1 MiB unsent | none | the connection is not read until its output drains to half |
//! | [`max_pending_output`](Builder::max_pending_output) | 8 MiB unsent | `--max-pending-output` | connection dropped (it stopped reading) |
//! | queued automatic pongs | 16 | none | older unsent pongs are replaced (RFC 6455 5.5.3) |
//!
//! So a connection costs at most about one frame being received, one message being
//! reassembled, and its unsent output: a peer cannot make the server allocate what a
//! frame header announces before the limits have been checked.
//!
//! # Every wait on the peer has a deadline
//!
//! A peer can stop taking part at any point: stop sending, stop reading, or keep its end
//! of the TCP connection open. Each state in which the server waits on it ends at a
//! deadline, after which the connection is dropped (the `disconnect` callback has then
//! run, with 1006 unless a close frame was exchanged):
//!
//! | the server waits for | deadline (default) | `ws-server` flag | tested in |
//! |---|---|---|---|
//! | the TLS handshake and the upgrade request, from accept | [`handshake_timeout`](Builder::handshake_timeout) (10 s) | `--handshake-timeout` | `tests/server.rs`, `tests/tls.rs` |
//! | a sign of life from a ready peer: any frame, or the pong to a ping sent after `silence_max / 2` of silence | [`silence_max`](Builder::silence_max) then [`silence_timeout`](Builder::silence_timeout) (20 s, 20 s; `None` waits for ever, as Perl does) | `--silence-max`, `--silence-timeout` | `tests/server.rs`, `tests/binary.rs` |
//! | the peer to read what it is owed, when it does not read but keeps sending | the silence deadline above: its input is not read meanwhile ([`read_pause`](Builder::read_pause)), or it is dropped at [`max_pending_output`](Builder::max_pending_output) | as above | `tests/server.rs`, `tests/adversarial.rs` |
//! | the peer's close frame, after ours | [`close_timeout`](Builder::close_timeout) (5 s) | `--close-timeout` | `tests/deadlines.rs` |
//! | the peer to read our last bytes (a refusal, owed messages, our close), after either side closed or after its FIN | [`close_timeout`](Builder::close_timeout) | `--close-timeout` | `tests/deadlines.rs` |
//! | the peer's end of stream, after we shut down our side (after a refusal, a protocol error, or over TLS: a closing handshake the peer's close frame completed closes TCP at once) | [`close_timeout`](Builder::close_timeout) | `--close-timeout` | `tests/deadlines.rs` |
//! | every client's close at shutdown | [`close_timeout`](Builder::close_timeout); then `start` returns | `--close-timeout`; a second signal exits `ws-server` at once | `tests/deadlines.rs`, `tests/binary.rs` |
//!
//! With `silence_max` zero (or `silence_timeout` `None`), a ready peer that sends nothing
//! and reads nothing is kept for ever, as in the Perl module: that is the one wait an
//! operator can choose to leave unbounded.
//!
//! # Where this differs from the Perl module
//!
//! It follows RFC 6455 where the Perl code does not: pings are answered; unmasked client
//! frames, invalid close codes and invalid UTF-8 close the connection with 1002 or 1007;
//! separate frame and message limits apply (1009); every byte is written, however slow
//! the peer; reads never block the loop; and a peer that stays silent after
//! `silence_max`'s ping is dropped. On top: TLS through rustls, subprotocol choice and
//! refusals with a real HTTP status in the handshake callback, permessage-deflate
//! compression (RFC 7692), per-connection data, a cap on unsent output, a handshake
//! timeout, a connection cap, `log` records, worker loops on one port, topics (across
//! processes with a [`Broker`]), plain HTTP answers ([`Builder::http_hook`]) and the PROXY
//! protocol ([`Builder::proxy_protocol`]).
//! Writes use `MSG_NOSIGNAL`, so a peer that vanished cannot kill the process with
//! SIGPIPE.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod balance;
mod broker;
mod builder;
mod config;
mod ending;
mod error;
mod event_loop;
mod handler;
mod handshake;
mod http;
mod id;
mod listen;
mod payload;
#[cfg(feature = "redis")]
mod redis_broker;
mod server;
mod tick;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
mod watch;
mod worker;

pub use balance::Balance;
pub use broker::Broker;
pub use builder::{Builder, Listening};
pub use config::{Config, MAX_SPIN_BEFORE_WAIT};
pub use error::Error;
pub use handler::HandlerResult;
pub use handshake::Handshake;
pub use http::{HttpRequest, HttpResponse};
pub use id::ConnId;
pub use listen::Listen;
pub use payload::Payload;
#[cfg(feature = "redis")]
pub use redis_broker::RedisBroker;
pub use server::Server;
pub use server::connection::Connection;
pub use server::hub::{Handle, Inbound, PostError, ShutdownHandle};
pub use worker::Worker;
pub use ws_proto::{CloseCode, DeflateConfig, MessageKind};

// The crates whose types appear in this API ([`Error::Tls`], [`Builder::tls`],
// [`Error::Protocol`]), so that a user needs no matching versions of their own.
#[cfg(feature = "tls")]
pub use rustls;
pub use ws_proto;
// [`RedisBroker`] takes a `ws_redis::Config` and shows `ws_redis` types.
#[cfg(feature = "redis")]
pub use ws_redis;

/// The crate's README, whose examples run as doctests (they compile as pasted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

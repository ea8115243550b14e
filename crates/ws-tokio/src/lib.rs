//! The [`ws_proto`] WebSocket session driven by tokio, in both roles.
//!
//! A thin adapter: [`WebSocketStream`] moves bytes between any
//! `tokio::io::{AsyncRead, AsyncWrite}` transport and a [`ws_proto::Session`], which does
//! all of the protocol (framing, masking, UTF-8, fragments, pings, the closing handshake,
//! permessage-deflate, limits). What ws-proto leaves to its driver lives here: sockets,
//! clocks (keepalive, close and handshake timeouts), the write buffer bound, TLS and
//! proxies.
//!
//! - Server: [`accept`], [`accept_with`] (a callback sees the request and picks a
//!   subprotocol or refuses with an HTTP status), [`Acceptor`] for settings; with the
//!   `http` feature (off by default: `cargo doc -p ws-tokio --features http` documents
//!   it), `upgrade` takes hyper's or axum's `http::Request` as is (the
//!   workspace's `examples/axum_upgrade.rs` and `examples/hyper_upgrade.rs` show the
//!   whole route).
//!   Behind a load balancer that sends the PROXY protocol (HAProxy `send-proxy-v2`),
//!   [`Acceptor::read_proxy_header`] reads it first and gives the client's address.
//! - Client: [`connect`] and [`ClientBuilder`] (headers, origin, subprotocols, private
//!   CAs, client certificates, HTTP `CONNECT` proxy, deflate offer, timeouts), `wss://`
//!   through tokio-rustls (feature `tls`, on by default) with the web PKI roots, the
//!   system's store (feature `native-roots`) and `SSL_CERT_FILE`, as ws-client: both
//!   builders hold the same `ws_transport::ClientOptions`.
//! - A connection is a `futures` [`Stream`](futures_core::Stream) of [`Message`]s and a
//!   [`Sink`](futures_sink::Sink), with inherent `recv`, `send`, `feed`, `close`, and
//!   [`split`](WebSocketStream::split) into halves for two tasks. The inherent methods
//!   need no `futures` import; `futures_util::StreamExt` gives `next()` (as `recv()`),
//!   `SinkExt` only the combinators.
//!
//! ```no_run
//! use futures_util::StreamExt; // next(); send() is inherent, no SinkExt needed
//! use tokio::net::TcpListener;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let mut ws = ws_tokio::accept(tcp).await?;
//!         while let Some(message) = ws.next().await {
//!             let message = message?;
//!             if message.is_data() {
//!                 ws.send(message).await?;
//!             }
//!         }
//!         Ok::<_, ws_tokio::Error>(())
//!     });
//! }
//! # }
//! ```
//!
//! # A `wss://` server
//!
//! TLS is tokio-rustls' around the socket, before [`accept`]; this crate re-exports
//! [`rustls`] and [`tokio_rustls`] (feature `tls`, on by default), so nothing else is
//! needed. `ServerConfig::builder()` uses the crypto provider this crate's features turn
//! on (`ring` by default); with both providers in the build, install one first
//! (`CryptoProvider::install_default`) or use `builder_with_provider`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ws_tokio::rustls::pki_types::pem::PemObject;
//! use ws_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let chain = CertificateDer::pem_file_iter("cert.pem")?.collect::<Result<Vec<_>, _>>()?;
//! let key = PrivateKeyDer::from_pem_file("key.pem")?;
//! let config = ws_tokio::rustls::ServerConfig::builder()
//!     .with_no_client_auth()
//!     .with_single_cert(chain, key)?;
//! let tls = ws_tokio::tokio_rustls::TlsAcceptor::from(Arc::new(config));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     let tls = tls.clone();
//!     tokio::spawn(async move {
//!         // Bound the TLS handshake too: accept's handshake timeout starts after it.
//!         let secured = tokio::time::timeout(std::time::Duration::from_secs(10), tls.accept(tcp));
//!         let Ok(Ok(io)) = secured.await else { return };
//!         if let Ok(mut ws) = ws_tokio::accept(io).await {
//!             while let Some(Ok(message)) = ws.recv().await {
//!                 if message.is_data() && ws.send(message).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! # Split halves in two tasks
//!
//! A chat connection: the room (a `tokio::sync::broadcast`) goes out through the
//! [`WriteHalf`] in a task of its own, which closes with 1001 when the server stops; the
//! [`ReadHalf`] stays in the connection's task, and polling it is what answers pings,
//! runs keepalive and receives the client's answer to that close.
//!
//! ```no_run
//! use tokio::sync::{broadcast, watch};
//! use ws_tokio::{CloseCode, Message};
//!
//! async fn connection(
//!     tcp: tokio::net::TcpStream,
//!     room: broadcast::Sender<String>,
//!     mut stop: watch::Receiver<bool>,
//! ) -> Result<(), ws_tokio::Error> {
//!     let (mut reader, mut writer) = ws_tokio::accept(tcp).await?.split();
//!     let mut inbox = room.subscribe();
//!     let writing = tokio::spawn(async move {
//!         loop {
//!             tokio::select! {
//!                 Ok(line) = inbox.recv() => writer.send(line).await?,
//!                 _ = stop.changed() => {
//!                     return writer.close(CloseCode::GOING_AWAY, "server stopping").await;
//!                 }
//!             }
//!         }
//!     });
//!     while let Some(message) = reader.recv().await {
//!         if let Message::Text(text) = message? {
//!             let _ = room.send(text);
//!         }
//!     }
//!     writing.abort(); // the client left first
//!     Ok(())
//! }
//! ```
//!
//! # Errors and panics
//!
//! One error type, [`Error`]; no input from the peer makes this crate panic, and every
//! wait on the peer has a deadline in [`Settings`] or the builders (handshake, closing
//! handshake including writing our close frame, keepalive while receiving), but one:
//! `send`, `feed`, `flush` and the `Sink` wait, by design, while the peer does not read
//! and [`Settings::write_buffer_limit`] bytes are unsent (that is the backpressure). Put
//! a deadline on them where the application needs one (`tokio::time::timeout`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod core;
mod error;
mod listen;
mod message;
mod proxy;
mod proxy_header;
mod recycle;
mod server;
mod settings;
mod split;
mod stream;
#[cfg(feature = "http")]
mod upgrade;

pub use client::{ClientBuilder, ClientStream, connect};
pub use error::Error;
pub use listen::inherit_nodelay;
pub use message::Message;
pub use proxy_header::read_proxy_header;
pub use recycle::recycled_bytes;
pub use server::{Acceptor, accept, accept_with};
pub use settings::Settings;
pub use split::{ReadHalf, WriteHalf};
pub use stream::WebSocketStream;
#[cfg(feature = "http")]
pub use upgrade::{Refusal, Upgrade, upgrade};

pub use ws_proto::handshake::{Reject, Request};
pub use ws_proto::{CloseCode, CloseFrame, Config, DeflateConfig, MessageKind, Role};

// The crates whose types appear in this API ([`Error`]'s TLS variant, [`ClientStream::Tls`],
// `upgrade`'s `http` types), so that a user needs no matching versions of their own.
#[cfg(feature = "http")]
pub use http;
#[cfg(feature = "tls")]
pub use rustls;
#[cfg(feature = "tls")]
pub use tokio_rustls;
pub use ws_proto;
pub use ws_transport;
/// The PROXY protocol header's types ([`read_proxy_header`], [`Acceptor::read_proxy_header`]).
pub use ws_transport::proxy_protocol;

/// The crate's README, whose examples run as doctests (they compile as pasted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! A Redis pub/sub bridge for WebSocket topics, independent of any runtime: two threads and
//! the blocking `redis` client.
//!
//! A server with topics creates one [`Bridge`] per process, tells it when the first local
//! subscriber of a topic arrives and the last one leaves ([`Bridge::subscribe`],
//! [`Bridge::unsubscribe`]), hands it every message it publishes ([`Bridge::publish`], which
//! never blocks), and receives through the delivery callback every message other processes
//! published on a topic it has subscribers for. Redis channel = [`Config::prefix`] + topic.
//!
//! ```no_run
//! use ws_redis::{Bridge, Config, Kind};
//! let config = Config::new("redis://127.0.0.1:6379/")?;
//! let bridge = Bridge::start(config, |topic, kind, payload| {
//!     println!("{topic}: {kind:?} {} bytes from another process", payload.len());
//! })?;
//! bridge.subscribe("news");
//! bridge.publish("news", Kind::Text, b"hello")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Delivery across Redis is **at-most-once**: what is published while a process is cut off
//! from Redis is lost for it (see [`Bridge`]). Counters: [`Bridge::stats`].

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod backoff;
mod bridge;
mod config;
mod connect;
pub mod envelope;
mod kind;
mod origin;
mod publisher;
mod stats;
mod subscriber;
mod subscriptions;

pub use bridge::{Bridge, PublishError, StartError};
pub use config::{
    Config, ConfigError, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IO_TIMEOUT, DEFAULT_PING_INTERVAL, DEFAULT_POLL_INTERVAL, DEFAULT_PREFIX,
    DEFAULT_PUBLISH_QUEUE,
};
pub use kind::Kind;
pub use origin::Origin;
pub use stats::Stats;
pub use subscriber::Deliver;

/// The README's snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

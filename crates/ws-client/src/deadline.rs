//! One deadline over the whole of connecting: TCP connect, proxy `CONNECT`, TLS handshake
//! and WebSocket handshake together, so that a peer trickling bytes cannot stretch it.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::Error;

/// The deadline of [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    limit: Option<Duration>,
    at: Option<Instant>,
}

impl Deadline {
    /// Starts now; `None` waits as long as the operating system does.
    pub(crate) fn start(limit: Option<Duration>) -> Deadline {
        Deadline {
            limit,
            at: limit.map(|limit| Instant::now() + limit),
        }
    }

    /// The time left, or the error for `stage` once none is.
    pub(crate) fn remaining(&self, stage: &'static str) -> Result<Option<Duration>, Error> {
        match (self.at, self.limit) {
            (Some(at), Some(limit)) => match at.checked_duration_since(Instant::now()) {
                // A zero timeout means "none" to the socket calls.
                Some(left) if left >= Duration::from_millis(1) => Ok(Some(left)),
                _ => Err(Error::ConnectTimeout { stage, limit }),
            },
            _ => Ok(None),
        }
    }

    /// Sets `tcp`'s read and write timeouts to the time left, before a blocking call.
    pub(crate) fn arm(&self, tcp: &TcpStream, stage: &'static str) -> Result<(), Error> {
        let left = self.remaining(stage)?;
        tcp.set_read_timeout(left)?;
        tcp.set_write_timeout(left)?;
        Ok(())
    }

    /// Turns a socket timeout met during `stage` into the error that names it.
    pub(crate) fn name(&self, stage: &'static str) -> impl Fn(Error) -> Error {
        let limit = self.limit;
        move |err| match (err, limit) {
            (Error::Timeout, Some(limit)) => Error::ConnectTimeout { stage, limit },
            (err, _) => err,
        }
    }
}

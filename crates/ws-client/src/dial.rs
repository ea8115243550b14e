//! The dial step: resolve the host (every address in turn) and connect TCP, within the
//! connect deadline.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;

use ws_transport::Url;

use crate::deadline::Deadline;
use crate::error::Error;

/// Connects to the first address of `url`'s host that accepts, within `deadline`.
pub(crate) fn dial(url: &Url, deadline: &Deadline) -> Result<(TcpStream, SocketAddr), Error> {
    let addrs = resolve(url, deadline)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in addrs {
        let attempt = match deadline.remaining("TCP connect")? {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(tcp) => return Ok((tcp, addr)),
            Err(err) => {
                log::debug!("{addr}: {err}");
                last = err;
            }
        }
    }
    Err(Error::Connect {
        addr: url.authority(),
        source: last,
    })
}

/// Resolves `url`'s host within `deadline`. The system resolver takes no timeout, so it
/// runs on a thread of its own that is left behind if the deadline passes (it ends when
/// the resolver gives up, after its own timeouts).
fn resolve(url: &Url, deadline: &Deadline) -> Result<Vec<SocketAddr>, Error> {
    const STAGE: &str = "name resolution";
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, url.port)]);
    }
    let (tx, rx) = mpsc::channel();
    let (host, port) = (url.host.clone(), url.port);
    thread::Builder::new()
        .name("ws-client resolver".into())
        .spawn(move || {
            let found = (host.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            let _ = tx.send(found);
        })?;
    let found = match deadline.remaining(STAGE)? {
        Some(left) => rx.recv_timeout(left).ok(),
        None => rx.recv().ok(),
    };
    match found {
        Some(found) => found.map_err(|source| Error::Resolve {
            host: url.host.clone(),
            source,
        }),
        None => Err(deadline.name(STAGE)(Error::Timeout)),
    }
}

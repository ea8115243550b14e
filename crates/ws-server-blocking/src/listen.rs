//! Where a server listens, and binding one listener per worker loop.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::Error;

/// Where to listen (Perl's `listen`): a port on every IPv4 interface, an address (IPv4
/// or IPv6), a `host:port` string, or a listener you bound yourself.
#[derive(Debug)]
pub enum Listen {
    /// A port on 0.0.0.0.
    Port(u16),
    /// An address, such as `127.0.0.1:8080` or `[::1]:8080`.
    Addr(SocketAddr),
    /// A `host:port` string, resolved when binding.
    Host(String),
    /// A listener bound (and configured) by the caller.
    Listener(TcpListener),
}

impl From<u16> for Listen {
    fn from(port: u16) -> Listen {
        Listen::Port(port)
    }
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Listen {
        Listen::Addr(addr)
    }
}

impl From<&str> for Listen {
    fn from(host: &str) -> Listen {
        Listen::Host(host.to_owned())
    }
}

impl From<String> for Listen {
    fn from(host: String) -> Listen {
        Listen::Host(host)
    }
}

impl From<TcpListener> for Listen {
    fn from(listener: TcpListener) -> Listen {
        Listen::Listener(listener)
    }
}

/// How many connections may wait in each listener's accept queue (the kernel caps it at
/// `net.core.somaxconn`); std's own bind uses 128.
const BACKLOG: i32 = 1024;

/// Binds the listeners of `workers` loops, non-blocking.
///
/// One worker: one listener, bound as std binds it. Several: with `SO_REUSEPORT`, one
/// listener per worker on the same address, so that the kernel spreads new connections
/// over the workers by a hash of their addresses (each worker has its own accept queue,
/// and no two loops wake for the same connection). A listener bound by the caller cannot
/// be bound again: its workers share it (each polls it and accepts what it can). Either
/// way the hash (or the race) can leave one worker with most of a few connections:
/// `balance.rs` evens that out after `accept`.
pub(crate) fn bind_listeners(listen: Listen, workers: usize) -> Result<Vec<TcpListener>, Error> {
    let mut host_name = None;
    let (first, what) = match listen {
        Listen::Listener(listener) => {
            listener.set_nonblocking(true)?;
            let mut all = vec![listener];
            for _ in 1..workers {
                all.push(all[0].try_clone()?);
            }
            return Ok(all);
        }
        Listen::Port(port) => (
            SocketAddr::from(([0, 0, 0, 0], port)),
            format!("0.0.0.0:{port}"),
        ),
        Listen::Addr(addr) => (addr, addr.to_string()),
        Listen::Host(host) => {
            let bind_error = |source| Error::Bind {
                addr: host.clone(),
                source,
            };
            let addr = host
                .to_socket_addrs()
                .map_err(bind_error)?
                .next()
                .ok_or_else(|| {
                    bind_error(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "the name resolved to no address",
                    ))
                })?;
            host_name = Some(host.clone());
            (addr, host)
        }
    };
    let bind_error = |source| Error::Bind {
        addr: what.clone(),
        source,
    };
    if workers <= 1 {
        // As std binds: a host name tries each of its addresses.
        let listener = match &host_name {
            Some(host) => TcpListener::bind(host.as_str()),
            None => TcpListener::bind(first),
        }
        .map_err(bind_error)?;
        listener.set_nonblocking(true)?;
        return Ok(vec![listener]);
    }
    let mut all = vec![reuse_port_listener(first).map_err(bind_error)?];
    // Port 0: the others join the port the first one got.
    let addr = all[0].local_addr()?;
    for _ in 1..workers {
        all.push(reuse_port_listener(addr).map_err(bind_error)?);
    }
    Ok(all)
}

/// Gives the listener the `TCP_NODELAY` setting that accepted sockets should have, so
/// that they inherit it, as Linux's accepted TCP sockets inherit their listener's options:
/// one `setsockopt` per listener rather than one per connection. Returns whether they
/// will; elsewhere (or if the listener refuses the option) each socket is set after
/// `accept`.
pub(crate) fn inherit_nodelay(listener: &TcpListener, nodelay: bool) -> bool {
    cfg!(target_os = "linux")
        && socket2::SockRef::from(listener)
            .set_tcp_nodelay(nodelay)
            .is_ok()
}

/// A non-blocking listener on `addr` with `SO_REUSEADDR` (as std sets it) and
/// `SO_REUSEPORT`.
fn reuse_port_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

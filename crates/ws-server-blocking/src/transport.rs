//! A connection's byte stream: plain TCP, or TLS (rustls) over TCP, both non-blocking.
//!
//! The TLS handshake needs no special phase: rustls answers the client's handshake
//! records as they are read, and plaintext simply starts to flow once it is done, so a
//! client that stalls mid-handshake only ever costs a `WouldBlock`.

use std::io::{self, Write as _};
use std::net::{Shutdown, TcpStream};

#[cfg(feature = "tls")]
use rustls::ServerConnection;
use ws_proto::RecvBuffer;
#[cfg(feature = "tls")]
use ws_transport::{TlsReadError, read_plaintext};

/// A server's TLS configuration; without the `tls` feature there is none to give.
#[cfg(feature = "tls")]
pub(crate) type TlsConfig = std::sync::Arc<rustls::ServerConfig>;
/// A server's TLS configuration; without the `tls` feature there is none to give.
#[cfg(not(feature = "tls"))]
#[derive(Clone, Copy, Debug)]
pub(crate) enum TlsConfig {}

/// How much room a plain read into an empty buffer offers at least.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// How much room a plain read offers at least into a buffer holding part of a frame: a
/// large payload gathered in storage sized for it (with 16 KiB to spare) is read into
/// place, where asking for `READ_CHUNK` would double the storage for its last bytes.
const READ_MORE: usize = 4 * 1024;

/// What one read brought.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Plaintext bytes were added to the buffer. `drained`: the read came back short, so
    /// the socket held no more; with edge-triggered polling, any later arrival is reported
    /// again, so there is no need to read on until `WouldBlock` (a system call saved per
    /// readiness event).
    Data { drained: bool },
    /// TLS records were processed but yielded no plaintext (handshake progress).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Progress,
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed its side.
    Eof,
}

pub(crate) enum Transport {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(TcpStream, Box<ServerConnection>),
}

impl Transport {
    /// A fresh connection's stream: TLS when the server has a configuration.
    pub(crate) fn new(tcp: TcpStream, tls: Option<&TlsConfig>) -> Result<Transport, String> {
        match tls {
            None => Ok(Transport::Plain(tcp)),
            #[cfg(feature = "tls")]
            Some(config) => match ServerConnection::new(config.clone()) {
                Ok(tls) => Ok(Transport::Tls(tcp, Box::new(tls))),
                Err(err) => Err(err.to_string()),
            },
            #[cfg(not(feature = "tls"))]
            Some(never) => match *never {},
        }
    }

    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tcp, _) => tcp,
        }
    }

    /// Reads once into `rx`.
    ///
    /// A plain read takes at most `max` bytes (the TLS path reads records whole).
    pub(crate) fn read(&mut self, rx: &mut RecvBuffer, max: usize) -> io::Result<ReadOutcome> {
        match self {
            Transport::Plain(tcp) => {
                let room = if rx.is_empty() { READ_CHUNK } else { READ_MORE };
                let spare = rx.spare(room.min(max));
                let spare = if spare.len() > max {
                    &mut spare[..max]
                } else {
                    spare
                };
                let room = spare.len();
                match plain_recv(tcp, spare) {
                    Ok(0) => Ok(ReadOutcome::Eof),
                    Ok(n) => {
                        rx.commit(n);
                        Ok(ReadOutcome::Data { drained: n < room })
                    }
                    Err(err) => would_block(err),
                }
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tcp, tls) => read_tls(tcp, tls, rx),
        }
    }

    /// Hands `bytes` to the stream; returns how many it took (0 when TLS's own buffer is
    /// full and must be flushed first).
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => plain_send(tcp, bytes),
            #[cfg(feature = "tls")]
            Transport::Tls(_, tls) => tls.writer().write(bytes),
        }
    }

    /// Hands `slices` to the stream, in order, in one `writev` over plain TCP (TLS takes
    /// the first non-empty one, into its records); returns how many bytes it took, as
    /// [`write`](Self::write).
    pub(crate) fn write_vectored(&mut self, slices: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => (&*tcp).write_vectored(slices),
            #[cfg(feature = "tls")]
            Transport::Tls(_, tls) => tls.writer().write_vectored(slices),
        }
    }

    /// Pushes TLS records to the socket; `Ok(true)` when none are left. Plain TCP has
    /// nothing buffered.
    pub(crate) fn flush(&mut self) -> io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Transport::Tls(tcp, tls) = self {
            return flush_tls(tcp, tls);
        }
        Ok(true)
    }

    /// Whether the TLS handshake is still running.
    pub(crate) fn is_handshaking(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Transport::Tls(_, tls) = self {
            return tls.is_handshaking();
        }
        false
    }

    /// Bytes held by TLS that the socket has not taken yet (an estimate: records waiting).
    pub(crate) fn has_buffered_output(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Transport::Tls(_, tls) = self {
            return tls.wants_write();
        }
        false
    }

    /// Ends our side of the stream: a TLS close_notify, then a TCP FIN. The peer sees end
    /// of stream after every byte we sent, and our later close cannot turn into a reset
    /// that would destroy them.
    pub(crate) fn shutdown_write(&mut self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(_, tls) = self {
            tls.send_close_notify();
            let _ = self.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

/// Pushes TLS records to the socket; `Ok(true)` when none are left.
#[cfg(feature = "tls")]
fn flush_tls(tcp: &TcpStream, tls: &mut ServerConnection) -> io::Result<bool> {
    {
        while tls.wants_write() {
            match tls.write_tls(&mut &*tcp) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(true)
    }
}

/// `recv(2)` on a plain socket, the system call made directly (rustix), as std's
/// `read` makes it through libc's `recv`: the same call for the kernel, without libc's
/// thread-cancellation bookkeeping around it (about 60 instructions a call, once per
/// message on the echo path).
fn plain_recv(tcp: &TcpStream, into: &mut [u8]) -> io::Result<usize> {
    let (n, _) = rustix::net::recv(tcp, into, rustix::net::RecvFlags::empty())?;
    Ok(n)
}

/// `send(2)` with `MSG_NOSIGNAL` on a plain socket (a peer gone gives `EPIPE`, never a
/// `SIGPIPE`), as std's `write` makes it, directly for the same reason as `plain_recv`.
fn plain_send(tcp: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(
        tcp,
        bytes,
        rustix::net::SendFlags::NOSIGNAL,
    )?)
}

fn would_block(err: io::Error) -> io::Result<ReadOutcome> {
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(ReadOutcome::WouldBlock),
        _ => Err(err),
    }
}

#[cfg(feature = "tls")]
fn read_tls(
    tcp: &TcpStream,
    tls: &mut ServerConnection,
    rx: &mut RecvBuffer,
) -> io::Result<ReadOutcome> {
    let mut eof = false;
    match tls.read_tls(&mut &*tcp) {
        Ok(0) => eof = true,
        Ok(_) => {}
        Err(err) => return would_block(err),
    }
    let plaintext = read_plaintext(tls, rx).map_err(|err| match err {
        TlsReadError::Tls(err) => io::Error::new(io::ErrorKind::InvalidData, err),
        TlsReadError::Io(err) => err,
    })?;
    if plaintext.bytes > 0 {
        // rustls chose how much to read: only `WouldBlock` says the socket is drained.
        return Ok(ReadOutcome::Data { drained: false });
    }
    if eof || plaintext.peer_closed {
        return Ok(ReadOutcome::Eof);
    }
    Ok(ReadOutcome::Progress)
}

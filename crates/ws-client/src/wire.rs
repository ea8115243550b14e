//! Bytes to and from the server while connecting, before the connection is shared by a
//! reader and a writer: plain TCP, or TLS over it. Blocking, with the socket timeouts the
//! connect deadline set.

use std::io::Write;
use std::net::TcpStream;

#[cfg(feature = "tls")]
use rustls::ClientConnection;
use ws_proto::RecvBuffer;

use crate::error::Error;

/// The socket, and the TLS connection over it for `wss://`.
pub(crate) struct Wire<'a> {
    tcp: &'a mut TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<&'a mut ClientConnection>,
}

impl<'a> Wire<'a> {
    /// Plain TCP.
    pub(crate) fn plain(tcp: &'a mut TcpStream) -> Wire<'a> {
        Wire {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// TLS (its handshake done) over `tcp`.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(tcp: &'a mut TcpStream, tls: &'a mut ClientConnection) -> Wire<'a> {
        Wire {
            tcp,
            tls: Some(tls),
        }
    }

    pub(crate) fn tcp(&self) -> &TcpStream {
        self.tcp
    }

    /// Writes all of `bytes` (encrypted, for TLS).
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            tls.writer().write_all(bytes)?;
            while tls.wants_write() {
                tls.write_tls(self.tcp)?;
            }
            return Ok(());
        }
        self.tcp.write_all(bytes)?;
        Ok(())
    }

    /// Blocks until bytes arrive and appends them to `input` (decrypted, for TLS);
    /// returns how many, 0 at the end of the stream.
    pub(crate) fn read(&mut self, input: &mut RecvBuffer) -> Result<usize, Error> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            use ws_transport::{TlsReadError, read_plaintext};
            loop {
                if tls.read_tls(self.tcp)? == 0 {
                    return Ok(0);
                }
                let plaintext = match read_plaintext(tls, input) {
                    Ok(plaintext) => plaintext,
                    Err(TlsReadError::Tls(err)) => {
                        // Send the alert rustls queued, then report.
                        let _ = tls.write_tls(self.tcp);
                        return Err(Error::Tls(err));
                    }
                    Err(TlsReadError::Io(err)) => return Err(err.into()),
                };
                while tls.wants_write() {
                    tls.write_tls(self.tcp)?;
                }
                if plaintext.bytes > 0 {
                    return Ok(plaintext.bytes);
                }
                if plaintext.peer_closed {
                    return Ok(0);
                }
            }
        }
        Ok(input.read_from(self.tcp)?)
    }
}

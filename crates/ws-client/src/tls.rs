//! The secure step, for `wss://`: the TLS handshake over the connected (or tunnelled)
//! socket, within the connect deadline. The configuration (roots, `SSL_CERT_FILE`, PEM
//! CA files, client certificates) is ws-transport's [`ClientTls`](ws_transport::ClientTls).

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::deadline::Deadline;
use crate::error::Error;

const STAGE: &str = "TLS handshake";

/// Runs the TLS handshake with `name` on `tcp`. `early` holds bytes that arrived with a
/// proxy's answer: they are the server's first records.
pub(crate) fn secure(
    tcp: &mut TcpStream,
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    early: &[u8],
    deadline: &Deadline,
) -> Result<ClientConnection, Error> {
    let mut tls = ClientConnection::new(config, name)?;
    let mut early = early;
    let timed = |err: io::Error| deadline.name(STAGE)(err.into());
    loop {
        deadline.arm(tcp, STAGE)?;
        while tls.wants_write() {
            tls.write_tls(tcp).map_err(timed)?;
        }
        if !tls.is_handshaking() {
            return Ok(tls);
        }
        let n = if early.is_empty() {
            tls.read_tls(tcp).map_err(timed)?
        } else {
            tls.read_tls(&mut early)?
        };
        if n == 0 {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the TLS handshake",
            )));
        }
        if let Err(err) = tls.process_new_packets() {
            // Send the alert rustls queued, then report.
            let _ = tls.write_tls(tcp);
            return Err(Error::Tls(err));
        }
    }
}

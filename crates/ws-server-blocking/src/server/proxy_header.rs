//! The PROXY protocol header (HAProxy's proxy-protocol.txt, v1 and v2) that a load
//! balancer writes before the client's bytes, on a server that opts in
//! ([`Builder::proxy_protocol`](crate::Builder::proxy_protocol)).
//!
//! It is read straight from the socket, before TLS and the HTTP request, asking for no
//! more bytes than the header still needs ([`Parsed::Incomplete`]'s `needed`): what
//! follows stays in the socket for the transport. The handshake deadline, set at accept,
//! bounds it. Decoding and limits are ws-transport's.

use std::io::{self, Read};
use std::net::SocketAddr;

use ws_transport::proxy_protocol::{MAX_V1_LEN, Parsed, ProxyHeaderParser};

use super::Server;
use super::connection::{PendingHeader, Phase, Slot};
use crate::ending::Ending;

impl PendingHeader {
    /// Nothing received yet.
    pub(crate) fn new(parser: ProxyHeaderParser) -> PendingHeader {
        PendingHeader {
            parser,
            received: Vec::with_capacity(MAX_V1_LEN + 1),
        }
    }
}

/// Where reading the header left the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderRead {
    /// Complete and valid (or none was expected): the connection goes on to TLS and the
    /// handshake, and `on_connect` is owed if it was `Done` just now.
    Done,
    /// More of the header is due; the socket has nothing now.
    Waiting,
    /// Refused (no header, an invalid one, or the peer left): the connection is aborted.
    Refused,
}

impl Slot {
    /// Whether the PROXY header is still expected.
    pub(crate) fn awaits_proxy_header(&self) -> bool {
        matches!(
            &*self.phase.borrow(),
            Phase::Handshake { proxy: Some(_), .. }
        )
    }

    /// Reads what the socket has of the header. Section 2.1: a connection that does not
    /// start with a valid header "must be discarded and cause the receiver to abort the
    /// connection": closed without an answer, and logged.
    pub(crate) fn read_proxy_header(&self, server: &Server) -> HeaderRead {
        let mut phase = self.phase.borrow_mut();
        let Phase::Handshake { proxy, .. } = &mut *phase else {
            return HeaderRead::Done;
        };
        let Some(pending) = proxy.as_mut() else {
            return HeaderRead::Done;
        };
        loop {
            match pending.parser.parse(&pending.received) {
                Ok(Parsed::Complete { header, .. }) => {
                    let client: Option<SocketAddr> = header.source();
                    if client.is_some() {
                        self.extra().client.set(client);
                    }
                    match client {
                        Some(client) => log::debug!(
                            "{}: PROXY {:?} header: client {client}",
                            self.addr(),
                            header.version
                        ),
                        None => log::debug!(
                            "{}: PROXY {:?} header without an address ({:?})",
                            self.addr(),
                            header.version,
                            header.addresses
                        ),
                    }
                    *proxy = None;
                    return HeaderRead::Done;
                }
                Ok(Parsed::Incomplete { needed }) => {
                    let start = pending.received.len();
                    pending.received.resize(start + needed, 0);
                    let read = self
                        .transport
                        .borrow()
                        .tcp()
                        .read(&mut pending.received[start..]);
                    let n = match read {
                        Ok(0) => {
                            drop(phase);
                            log::info!(
                                "{}: refused: closed before its PROXY protocol header was complete",
                                self.addr()
                            );
                            self.abort(server, Ending::abnormal("closed before the PROXY header"));
                            return HeaderRead::Refused;
                        }
                        Ok(n) => n,
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => 0,
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                            pending.received.truncate(start);
                            return HeaderRead::Waiting;
                        }
                        Err(err) => {
                            drop(phase);
                            log::debug!("{}: read failed: {err}", self.addr());
                            self.abort(server, Ending::abnormal("read error"));
                            return HeaderRead::Refused;
                        }
                    };
                    pending.received.truncate(start + n);
                }
                Err(err) => {
                    drop(phase);
                    log::info!("{}: refused: {err}", self.addr());
                    self.abort(server, Ending::abnormal("no valid PROXY protocol header"));
                    return HeaderRead::Refused;
                }
            }
        }
    }
}

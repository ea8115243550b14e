//! The tunnel step: an HTTP proxy's `CONNECT` (RFC 9110 9.3.6) over the blocking socket,
//! for `ws://` and `wss://` alike. The request and the check of the answer are
//! ws-transport's [`Tunnel`]; this file only moves its bytes.

use std::io::Write;
use std::net::TcpStream;

use ws_proto::RecvBuffer;
use ws_transport::{Tunnel, TunnelError};

use crate::deadline::Deadline;
use crate::error::Error;

const STAGE: &str = "proxy CONNECT";

/// Runs the `CONNECT` on `tcp` within `deadline`; returns any bytes that arrived after the
/// proxy's answer (they came through the tunnel: they are the server's).
pub(crate) fn tunnel(
    tcp: &mut TcpStream,
    (mut tunnel, request): (Tunnel, Vec<u8>),
    deadline: &Deadline,
) -> Result<RecvBuffer, Error> {
    deadline.arm(tcp, STAGE)?;
    tcp.write_all(&request)
        .map_err(|e| deadline.name(STAGE)(e.into()))?;
    let mut input = RecvBuffer::new();
    while !tunnel.parse(&mut input)? {
        deadline.arm(tcp, STAGE)?;
        if input
            .read_from(tcp)
            .map_err(|e| deadline.name(STAGE)(e.into()))?
            == 0
        {
            return Err(TunnelError::closed().into());
        }
    }
    Ok(input)
}

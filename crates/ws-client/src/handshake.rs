//! The handshake step: the opening handshake (RFC 6455 4.1) over the connected, tunnelled
//! and secured socket, within the connect deadline. It yields the session that ws-proto's
//! [`ClientHandshake`] made from the answer, and the bytes that came after it.

use std::io;

use ws_proto::handshake::{ClientHandshake, Response};
use ws_proto::{RecvBuffer, Session};

use crate::deadline::Deadline;
use crate::error::Error;
use crate::wire::Wire;

const STAGE: &str = "WebSocket handshake";

/// Sends `request` and reads the answer into `input` (which may already hold the first
/// bytes of it) until `handshake` accepts or refuses it.
pub(crate) fn handshake(
    wire: &mut Wire<'_>,
    mut handshake: ClientHandshake,
    request: &[u8],
    mut input: RecvBuffer,
    deadline: &Deadline,
) -> Result<(Response, Session, RecvBuffer), Error> {
    deadline.arm(wire.tcp(), STAGE)?;
    wire.write_all(request).map_err(deadline.name(STAGE))?;
    loop {
        // RFC 7692 5: an answer that does not fit the deflate offer fails the connection
        // (checked by the handshake, which yields the session with what was agreed).
        let parsed = handshake
            .parse(&mut input)
            .map_err(|e| Error::Handshake(e.into()))?;
        if let Some((response, session)) = parsed {
            return Ok((response, session, input));
        }
        deadline.arm(wire.tcp(), STAGE)?;
        if wire.read(&mut input).map_err(deadline.name(STAGE))? == 0 {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the handshake",
            )));
        }
    }
}

//! Reading the PROXY protocol header (HAProxy's `proxy-protocol.txt`, v1 and v2) that a
//! load balancer writes before the client's bytes, over any tokio transport.

use tokio::io::{AsyncRead, AsyncReadExt};
use ws_transport::proxy_protocol::{MAX_V1_LEN, Parsed, ProxyHeader, ProxyHeaderParser};

use crate::error::Error;

/// Reads the PROXY protocol header that starts `io`, and not one byte more: what follows
/// (the WebSocket handshake) is left in `io` for [`Acceptor::accept`](crate::Acceptor::accept).
///
/// Each read asks for at most the bytes the header still needs ([`Parsed::Incomplete`]'s
/// `needed`), so no buffer has to be handed on; a v1 line costs a few reads (two bytes
/// at a time past its first 15), a v2 block two. Garbage is refused as soon as its
/// first bytes arrive. No deadline of its own: use
/// [`Acceptor::read_proxy_header`](crate::Acceptor::read_proxy_header), which applies the
/// handshake timeout, or wrap this in `tokio::time::timeout` (section 2 of the spec
/// suggests "at least 3 seconds to cover a TCP retransmit").
///
/// # Errors
///
/// [`Error::ProxyHeader`] if the connection does not start with a valid header (no
/// header at all, garbage, oversize; section 2.1: the receiver must "abort the
/// connection"): drop `io`. [`Error::Io`] if reading fails, `UnexpectedEof` if the peer
/// closed before the header was complete.
pub async fn read_proxy_header<S>(
    io: &mut S,
    parser: &ProxyHeaderParser,
) -> Result<ProxyHeader, Error>
where
    S: AsyncRead + Unpin,
{
    let mut input = Vec::with_capacity(MAX_V1_LEN + 1);
    loop {
        match parser.parse(&input)? {
            Parsed::Complete { header, .. } => return Ok(header),
            Parsed::Incomplete { needed } => {
                // Up to `needed`, never past the header; parsed again after each read so
                // that garbage is refused as soon as it arrives.
                let start = input.len();
                input.resize(start + needed, 0);
                let n = io.read(&mut input[start..]).await?;
                input.truncate(start + n);
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection before its PROXY protocol header was complete",
                    )
                    .into());
                }
            }
        }
    }
}

//! The tunnel step: an HTTP proxy's `CONNECT` (RFC 9110 9.3.6) over tokio's socket, for
//! `ws://` and `wss://` alike. The request and the check of the answer are
//! ws-transport's [`Tunnel`], shared with ws-client; this file only moves its bytes.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_proto::RecvBuffer;
use ws_transport::{Tunnel, TunnelError};

use crate::error::Error;

/// Runs the `CONNECT` on `tcp`. Returns any bytes that came after the proxy's answer
/// (they are the tunnel's first bytes).
pub(crate) async fn tunnel(
    tcp: &mut TcpStream,
    (mut tunnel, request): (Tunnel, Vec<u8>),
) -> Result<RecvBuffer, Error> {
    tcp.write_all(&request).await?;
    let mut input = RecvBuffer::new();
    while !tunnel.parse(&mut input)? {
        let n = tcp.read(input.spare(4096)).await?;
        if n == 0 {
            return Err(TunnelError::closed().into());
        }
        input.commit(n);
    }
    Ok(input)
}

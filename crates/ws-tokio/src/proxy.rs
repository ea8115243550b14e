//! An HTTP proxy's `CONNECT` tunnel (RFC 9110 9.3.6), for `ws://` and `wss://` alike.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_proto::RecvBuffer;
use ws_proto::handshake::{Limits, ResponseHeadParser};

use crate::error::Error;

/// Asks the proxy on `tcp` for a tunnel to `authority` (`host:port`), with basic
/// credentials if given. Returns any bytes that came after the proxy's answer (they are
/// the tunnel's first bytes).
pub(crate) async fn connect(
    tcp: &mut TcpStream,
    authority: &str,
    credentials: Option<&str>,
) -> Result<RecvBuffer, Error> {
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = credentials {
        request.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            BASE64.encode(credentials)
        ));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await?;

    let mut parser = ResponseHeadParser::new(Limits::default());
    let mut input = RecvBuffer::new();
    let head = loop {
        if let Some(head) = parser.parse(&mut input)? {
            break head;
        }
        let n = tcp.read(input.spare(4096)).await?;
        if n == 0 {
            return Err(Error::ProxyRefused {
                status: 0,
                reason: "the proxy closed the connection".into(),
            });
        }
        input.commit(n);
    };
    // RFC 9110 9.3.6: "Any 2xx (Successful) response indicates that the sender (and all
    // inbound proxies) will switch to tunnel mode".
    if !(200..300).contains(&head.status) {
        return Err(Error::ProxyRefused {
            status: head.status,
            reason: head.reason,
        });
    }
    Ok(input)
}

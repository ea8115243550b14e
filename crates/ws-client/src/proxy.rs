//! An HTTP proxy's `CONNECT` tunnel (RFC 9110 9.3.6), for `ws://` and `wss://` alike.

use std::io::Write;
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ws_proto::RecvBuffer;
use ws_proto::handshake::{Limits, ResponseHeadParser};

use crate::error::Error;
use crate::url::Url;

/// Asks the proxy on `tcp` for a tunnel to `target`; returns any bytes that arrived
/// after the proxy's answer (they belong to the tunnel).
pub(crate) fn connect(tcp: &mut TcpStream, proxy: &Url, target: &Url) -> Result<RecvBuffer, Error> {
    let authority = target.authority();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = &proxy.userinfo {
        request.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            BASE64.encode(credentials)
        ));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())?;

    let mut parser = ResponseHeadParser::new(Limits::default());
    let mut input = RecvBuffer::new();
    let head = loop {
        if let Some(head) = parser.parse(&mut input).map_err(Error::Handshake)? {
            break head;
        }
        if input.read_from(tcp)? == 0 {
            return Err(Error::ProxyRefused {
                status: 0,
                reason: "the proxy closed the connection".into(),
            });
        }
    };
    if !(200..300).contains(&head.status) {
        return Err(Error::ProxyRefused {
            status: head.status,
            reason: head.reason,
        });
    }
    Ok(input)
}

//! An HTTP proxy's `CONNECT` tunnel (RFC 9110 9.3.6), for `ws://` and `wss://` alike.

use std::io::Write;
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ws_proto::RecvBuffer;
use ws_proto::handshake::{Limits, ResponseHeadParser};

use crate::deadline::Deadline;
use crate::error::Error;
use crate::url::Url;

const STAGE: &str = "proxy CONNECT";

/// The `Proxy-Authorization` value for the proxy URL's credentials, if it has any.
///
/// RFC 7617 2: `base64(user-id ":" password)`, of the percent-decoded user name and
/// password (RFC 3986 3.2.1), in UTF-8 (RFC 7617 2.1, `charset="UTF-8"`).
pub(crate) fn authorization(proxy: &Url) -> Option<String> {
    let user = proxy.user.as_deref()?;
    let password = proxy.password.as_deref().unwrap_or("");
    Some(format!(
        "Basic {}",
        BASE64.encode(format!("{user}:{password}"))
    ))
}

/// Asks the proxy on `tcp` for a tunnel to `target`, within `deadline`; returns any bytes
/// that arrived after the proxy's answer (they belong to the tunnel).
pub(crate) fn connect(
    tcp: &mut TcpStream,
    proxy: &Url,
    target: &Url,
    deadline: &Deadline,
) -> Result<RecvBuffer, Error> {
    let authority = target.authority();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = authorization(proxy) {
        request.push_str(&format!("Proxy-Authorization: {credentials}\r\n"));
    }
    request.push_str("\r\n");
    deadline.arm(tcp, STAGE)?;
    tcp.write_all(request.as_bytes())
        .map_err(|e| deadline.name(STAGE)(e.into()))?;

    let mut parser = ResponseHeadParser::new(Limits::default());
    let mut input = RecvBuffer::new();
    let head = loop {
        if let Some(head) = parser
            .parse(&mut input)
            .map_err(|e| Error::Handshake(e.into()))?
        {
            break head;
        }
        deadline.arm(tcp, STAGE)?;
        if input
            .read_from(tcp)
            .map_err(|e| deadline.name(STAGE)(e.into()))?
            == 0
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7617 2 and RFC 3986 3.2.1: the credentials are the decoded userinfo.
    #[test]
    fn basic_credentials_are_the_percent_decoded_userinfo() {
        let proxy = Url::parse_proxy("http://alice:p%40ss@127.0.0.1:8080").unwrap();
        assert_eq!(
            authorization(&proxy).as_deref(),
            Some("Basic YWxpY2U6cEBzcw==")
        );
        let proxy = Url::parse_proxy("http://bob@proxy").unwrap();
        assert_eq!(authorization(&proxy).as_deref(), Some("Basic Ym9iOg=="));
        let proxy = Url::parse_proxy("http://proxy:3128").unwrap();
        assert_eq!(authorization(&proxy), None);
    }
}

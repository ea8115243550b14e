//! An HTTP proxy's `CONNECT` tunnel (RFC 9110 9.3.6), sans-io: the request to send and
//! the check of the proxy's answer. ws-client drives it over a blocking socket, ws-tokio
//! over tokio's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ws_proto::RecvBuffer;
use ws_proto::handshake::{HandshakeError, Limits, ResponseHeadParser};

use crate::url::Url;

/// Why a tunnel was not opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// The proxy's answer is not a readable HTTP response head (too large, malformed).
    #[error("the proxy's answer: {0}")]
    Answer(#[from] HandshakeError),
    /// The proxy answered with a status other than 2xx (407: it wants credentials), or
    /// closed the connection (status 0).
    #[error("proxy refused the tunnel: {status} {reason}")]
    Refused {
        /// The proxy's status; 0 if it closed the connection without answering.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
}

impl TunnelError {
    /// The error for a proxy that closed the connection before its answer was whole.
    pub fn closed() -> TunnelError {
        TunnelError::Refused {
            status: 0,
            reason: "the proxy closed the connection".into(),
        }
    }
}

/// The `Proxy-Authorization` value for the proxy URL's credentials, if it has any.
///
/// RFC 7617 2: `base64(user-id ":" password)`, of the percent-decoded user name and
/// password (RFC 3986 3.2.1), in UTF-8 (RFC 7617 2.1, `charset="UTF-8"`).
pub fn authorization(proxy: &Url) -> Option<String> {
    let user = proxy.user.as_deref()?;
    let password = proxy.password.as_deref().unwrap_or("");
    Some(format!(
        "Basic {}",
        BASE64.encode(format!("{user}:{password}"))
    ))
}

/// A `CONNECT` under way: [`Tunnel::request`] gives the bytes to send to the proxy,
/// [`Tunnel::parse`] reads its answer.
///
/// ```
/// use ws_proto::RecvBuffer;
/// use ws_transport::{Tunnel, Url};
/// let proxy = Url::parse_proxy("http://alice:secret@127.0.0.1:3128")?;
/// let target = Url::parse("wss://example.com/chat")?;
/// let (mut tunnel, request) = Tunnel::request(&proxy, &target);
/// assert!(request.starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n"));
/// let mut input = RecvBuffer::new();
/// input.extend_from_slice(b"HTTP/1.1 200 Connection established\r\n\r\n");
/// assert!(tunnel.parse(&mut input)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Tunnel {
    head: ResponseHeadParser,
}

impl Tunnel {
    /// The tunnel to `target` through `proxy`, and the request to send to the proxy (with
    /// basic credentials when the proxy URL has them).
    pub fn request(proxy: &Url, target: &Url) -> (Tunnel, Vec<u8>) {
        let authority = target.authority();
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(credentials) = authorization(proxy) {
            request.push_str(&format!("Proxy-Authorization: {credentials}\r\n"));
        }
        request.push_str("\r\n");
        let tunnel = Tunnel {
            head: ResponseHeadParser::new(Limits::default()),
        };
        (tunnel, request.into_bytes())
    }

    /// Reads the proxy's answer from `input`: `Ok(false)` while it is incomplete (read
    /// more and call again), `Ok(true)` once the tunnel is open. Bytes left in `input`
    /// then came through the tunnel: they are the server's.
    ///
    /// # Errors
    ///
    /// [`TunnelError::Answer`] for an answer that is not HTTP, [`TunnelError::Refused`]
    /// for any status but 2xx.
    pub fn parse(&mut self, input: &mut RecvBuffer) -> Result<bool, TunnelError> {
        let Some(head) = self.head.parse(input)? else {
            return Ok(false);
        };
        // RFC 9110 9.3.6: "Any 2xx (Successful) response indicates that the sender (and
        // all inbound proxies) will switch to tunnel mode".
        if !(200..300).contains(&head.status) {
            return Err(TunnelError::Refused {
                status: head.status,
                reason: head.reason,
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(tunnel: &mut Tunnel, bytes: &[u8]) -> (Result<bool, TunnelError>, RecvBuffer) {
        let mut input = RecvBuffer::new();
        input.extend_from_slice(bytes);
        (tunnel.parse(&mut input), input)
    }

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

    // RFC 9110 9.3.6: the request target is the authority form, IPv6 bracketed.
    #[test]
    fn the_request_names_the_target_authority() {
        let proxy = Url::parse_proxy("http://proxy:3128").unwrap();
        let target = Url::parse("ws://[::1]:9001/x").unwrap();
        let (_, request) = Tunnel::request(&proxy, &target);
        assert_eq!(
            request,
            b"CONNECT [::1]:9001 HTTP/1.1\r\nHost: [::1]:9001\r\n\r\n".to_vec()
        );
    }

    // RFC 9110 9.3.6: any 2xx opens the tunnel; bytes after the head are the server's.
    #[test]
    fn a_2xx_answer_opens_the_tunnel_and_keeps_what_followed() {
        let proxy = Url::parse_proxy("http://proxy:3128").unwrap();
        let target = Url::parse("ws://example.com/").unwrap();
        let (mut tunnel, _) = Tunnel::request(&proxy, &target);
        let (partial, _) = answer(&mut tunnel, b"HTTP/1.1 204 OK\r\n");
        assert!(!partial.unwrap());
        let (mut tunnel, _) = Tunnel::request(&proxy, &target);
        let (open, rest) = answer(&mut tunnel, b"HTTP/1.1 204 OK\r\n\r\nHTTP/1.1 101");
        assert!(open.unwrap());
        assert_eq!(rest.data(), b"HTTP/1.1 101");
    }

    #[test]
    fn other_statuses_and_garbage_are_refusals() {
        let proxy = Url::parse_proxy("http://proxy:3128").unwrap();
        let target = Url::parse("ws://example.com/").unwrap();
        let (mut tunnel, _) = Tunnel::request(&proxy, &target);
        let (refused, _) = answer(
            &mut tunnel,
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        );
        assert!(matches!(
            refused,
            Err(TunnelError::Refused { status: 407, ref reason }) if reason == "Proxy Authentication Required"
        ));
        let (mut tunnel, _) = Tunnel::request(&proxy, &target);
        let (garbage, _) = answer(&mut tunnel, b"\x16\x03\x01 not http\r\n\r\n");
        assert!(
            matches!(garbage, Err(TunnelError::Answer(_))),
            "{garbage:?}"
        );
        assert!(matches!(
            TunnelError::closed(),
            TunnelError::Refused { status: 0, .. }
        ));
    }
}

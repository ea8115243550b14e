//! The URLs the client takes: `ws://` and `wss://` for servers, `http://` for proxies.
//!
//! RFC 6455 3: `ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]`, and "fragment
//! identifiers are meaningless in the context of WebSocket URIs and MUST NOT be used".

use crate::error::Error;

/// A parsed URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lowercased: `ws`, `wss` or `http`.
    pub scheme: String,
    /// `user:password` before the host, if any (proxy credentials).
    pub userinfo: Option<String>,
    /// The host: a name, an IPv4 address, or an IPv6 address without its brackets.
    pub host: String,
    /// The port, explicit or the scheme's default.
    pub port: u16,
    /// Whether the port was written in the URL.
    pub explicit_port: bool,
    /// Path and query, at least `/`.
    pub resource: String,
}

impl Url {
    /// Parses a `ws://` or `wss://` URL.
    ///
    /// ```
    /// let url = ws_client::Url::parse("wss://[::1]:9001/chat?room=1")?;
    /// assert_eq!((url.host.as_str(), url.port, url.resource.as_str()), ("::1", 9001, "/chat?room=1"));
    /// assert!(url.is_secure());
    /// assert!(ws_client::Url::parse("http://example.com/").is_err());
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Url, Error> {
        let url = parse_any(text)?;
        match url.scheme.as_str() {
            "ws" | "wss" if url.userinfo.is_none() => Ok(url),
            "ws" | "wss" => Err(invalid(
                text,
                "credentials in a ws:// URL are not supported",
            )),
            _ => Err(invalid(text, "the scheme must be ws:// or wss://")),
        }
    }

    /// Parses an `http://` proxy URL, with optional `user:password@`.
    pub fn parse_proxy(text: &str) -> Result<Url, Error> {
        let url = parse_any(text)?;
        if url.scheme != "http" {
            return Err(invalid(text, "the proxy URL must be http://"));
        }
        Ok(url)
    }

    /// Whether this is `wss://`.
    pub fn is_secure(&self) -> bool {
        self.scheme == "wss"
    }

    /// `host:port` for connecting and for `CONNECT`, with IPv6 addresses bracketed.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn invalid(text: &str, reason: &'static str) -> Error {
    Error::Url {
        url: text.to_owned(),
        reason,
    }
}

fn parse_any(text: &str) -> Result<Url, Error> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| invalid(text, "missing scheme://"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "ws" | "http" => 80,
        "wss" => 443,
        _ => return Err(invalid(text, "the scheme must be ws:// or wss://")),
    };
    if rest.contains('#') {
        return Err(invalid(
            text,
            "fragments (#...) are not allowed in WebSocket URLs",
        ));
    }
    if !rest.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            text,
            "spaces and control characters must be percent-encoded",
        ));
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, resource) = rest.split_at(split);
    let resource = match resource {
        "" => "/".to_owned(),
        r if r.starts_with('?') => format!("/{r}"),
        r => r.to_owned(),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user.to_owned()), host),
        None => (None, authority),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid(text, "unclosed [ in the host"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid(text, "invalid IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| invalid(text, "junk after the IPv6 address"))?,
            ),
        };
        (host, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(invalid(text, "missing host"));
    }
    if host.contains(':') && !hostport.starts_with('[') {
        return Err(invalid(text, "IPv6 addresses must be in brackets"));
    }
    let (port, explicit_port) = match port {
        None => (default_port, false),
        Some(p) => (
            p.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| invalid(text, "invalid port"))?,
            true,
        ),
    };
    Ok(Url {
        scheme,
        userinfo,
        host: host.to_owned(),
        port,
        explicit_port,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_explicit_ports_paths_and_queries() {
        let cases = [
            ("ws://example.com", "example.com", 80, "/"),
            ("wss://example.com", "example.com", 443, "/"),
            (
                "WS://Example.com:8080/a/b?c=d&e",
                "Example.com",
                8080,
                "/a/b?c=d&e",
            ),
            ("ws://127.0.0.1:9001?x=1", "127.0.0.1", 9001, "/?x=1"),
            ("ws://[::1]:9001/x", "::1", 9001, "/x"),
            ("wss://[2001:db8::1]/", "2001:db8::1", 443, "/"),
            ("ws://h/%20space", "h", 80, "/%20space"),
        ];
        for (text, host, port, resource) in cases {
            let url = Url::parse(text).unwrap();
            assert_eq!(
                (url.host.as_str(), url.port, url.resource.as_str()),
                (host, port, resource),
                "{text}"
            );
        }
        assert_eq!(
            Url::parse("ws://[::1]:9001/").unwrap().authority(),
            "[::1]:9001"
        );
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        for bad in [
            "example.com",
            "http://example.com/",
            "ftp://x/",
            "ws://",
            "ws:///path",
            "ws://h:0/",
            "ws://h:99999/",
            "ws://h:port/",
            "ws://[::1/",
            "ws://[nothex]/",
            "ws://::1/",
            "ws://h/#frag",
            "ws://h/a b",
            "ws://user:pw@h/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(Error::Url { .. })),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn proxy_urls_carry_credentials() {
        let proxy = Url::parse_proxy("http://ann:s3cret@proxy.local:3128").unwrap();
        assert_eq!(proxy.userinfo.as_deref(), Some("ann:s3cret"));
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.local", 3128));
        assert!(Url::parse_proxy("ws://proxy/").is_err());
    }
}

//! The URLs the client takes: `ws://` and `wss://` for servers, `http://` for proxies.
//!
//! Parsed by the `url` crate, which follows the WHATWG URL standard as browsers do:
//! percent-encoded userinfo (RFC 3986 3.2.1), international host names through IDNA
//! (sent as their ASCII `xn--` form), IPv6 literals, the schemes' default ports, and
//! non-ASCII characters in the path and query percent-encoded as UTF-8.
//!
//! On top of that, RFC 6455 3 (`ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]`)
//! is held to where the WHATWG rules are more lenient: `//` and a host are required,
//! fragment identifiers "MUST NOT be used", and spaces or control characters are refused
//! rather than silently encoded or dropped (in a command-line argument they are a typo
//! more often than not).

use percent_encoding::percent_decode_str;

/// A URL that cannot be used: the URL as given (any password replaced by `***`), and
/// which part of it breaks which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL {url:?}: {reason}")]
pub struct UrlError {
    /// The URL as given, any password replaced by `***`.
    pub url: String,
    /// What is wrong with it: the part of the URL and the rule it breaks.
    pub reason: &'static str,
}

impl UrlError {
    /// An error about `text` (its password, if any, hidden).
    pub fn new(text: &str, reason: &'static str) -> UrlError {
        UrlError {
            url: redacted(text),
            reason,
        }
    }

    /// The error for a `wss://` URL given to a client built without TLS (its `tls`
    /// feature off): a clear refusal before any connection, not a plain-text attempt.
    pub fn needs_tls(text: &str) -> UrlError {
        UrlError::new(
            text,
            "wss:// needs TLS, which this build leaves out: enable the `tls` feature",
        )
    }
}

/// A parsed URL. Its `Debug` shows a password as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lowercased: `ws`, `wss` or `http`.
    pub scheme: String,
    /// The user name before the host, percent-decoded (proxy URLs only).
    pub user: Option<String>,
    /// The password after `user:`, percent-decoded (proxy URLs only).
    pub password: Option<String>,
    /// The host: an ASCII name (international names in their IDNA `xn--` form), an IPv4
    /// address, or an IPv6 address without its brackets.
    pub host: String,
    /// The port, explicit or the scheme's default (80 for `ws` and `http`, 443 for `wss`).
    pub port: u16,
    /// Whether the URL gave a port other than the scheme's default.
    pub explicit_port: bool,
    /// Path and query, at least `/`, percent-encoded.
    pub resource: String,
}

impl Url {
    /// Parses a `ws://` or `wss://` URL.
    ///
    /// ```
    /// let url = ws_transport::Url::parse("wss://[::1]:9001/chat?room=1")?;
    /// assert_eq!((url.host.as_str(), url.port, url.resource.as_str()), ("::1", 9001, "/chat?room=1"));
    /// assert!(url.is_secure());
    /// let url = ws_transport::Url::parse("ws://bücher.example/ö")?;
    /// assert_eq!((url.host.as_str(), url.resource.as_str()), ("xn--bcher-kva.example", "/%C3%B6"));
    /// assert!(ws_transport::Url::parse("http://example.com/").is_err());
    /// # Ok::<(), ws_transport::UrlError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`UrlError`], whose reason names the part of the URL and the rule it breaks.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let url = parse_any(text, Kind::Server)?;
        if url.user.is_some() {
            return Err(invalid(
                text,
                "user:password@ is not supported in a ws:// URL; send credentials in a header",
            ));
        }
        Ok(url)
    }

    /// Parses an `http://` proxy URL, with optional `user:password@` (percent-encoded, so
    /// a password with `@`, `/`, `:` or `#` is written `%40`, `%2F`, `%3A`, `%23`).
    ///
    /// ```
    /// let proxy = ws_transport::Url::parse_proxy("http://alice:p%40ss@127.0.0.1:3128")?;
    /// assert_eq!((proxy.user.as_deref(), proxy.password.as_deref()), (Some("alice"), Some("p@ss")));
    /// # Ok::<(), ws_transport::UrlError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`UrlError`], whose reason names the part of the URL and the rule it breaks.
    pub fn parse_proxy(text: &str) -> Result<Url, UrlError> {
        parse_any(text, Kind::Proxy)
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

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Url")
            .field("scheme", &self.scheme)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("explicit_port", &self.explicit_port)
            .field("resource", &self.resource)
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Server,
    Proxy,
}

/// The URL for an error message, with any password replaced by `***`.
fn redacted(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    // A password may hold unencoded '/', '?' or '#' by mistake: it runs from the first ':'
    // of the user part to the last '@'.
    match (rest.split_once(':'), rest.rfind('@')) {
        (Some((user, _)), Some(at)) if user.len() < at && !user.contains(['/', '?', '#']) => {
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        _ => text.to_owned(),
    }
}

fn invalid(text: &str, reason: &'static str) -> UrlError {
    UrlError::new(text, reason)
}

/// What each of the `url` crate's errors means, said about the part it concerns.
fn reason_of(err: url::ParseError) -> &'static str {
    use url::ParseError as E;
    match err {
        E::EmptyHost => "the host is empty",
        E::IdnaError => "the host is not a valid international domain name (IDNA, UTS #46)",
        E::InvalidPort => "the port is not a number from 0 to 65535",
        E::InvalidIpv4Address => "the host is not a valid IPv4 address",
        E::InvalidIpv6Address => "the host is not a valid IPv6 address (RFC 4291 2.2)",
        E::InvalidDomainCharacter => {
            "the host has a character no domain name may contain (such as a space, <, > or %)"
        }
        E::RelativeUrlWithoutBase => "missing scheme:// (the URL must be absolute)",
        _ => "not a URL",
    }
}

fn parse_any(text: &str, kind: Kind) -> Result<Url, UrlError> {
    let (scheme, rest) = text.split_once("://").ok_or_else(|| {
        invalid(
            text,
            match kind {
                Kind::Server => "missing ws:// or wss:// before the host (RFC 6455 3)",
                Kind::Proxy => "missing http:// before the host",
            },
        )
    })?;
    let scheme = scheme.to_ascii_lowercase();
    match (kind, scheme.as_str()) {
        (Kind::Server, "ws" | "wss") | (Kind::Proxy, "http") => {}
        (Kind::Server, _) => return Err(invalid(text, "the scheme must be ws:// or wss://")),
        (Kind::Proxy, _) => {
            return Err(invalid(
                text,
                "the proxy URL must be http:// (an HTTP proxy with CONNECT)",
            ));
        }
    }
    if rest.is_empty() || rest.starts_with(['/', '?', '#', '@']) {
        return Err(invalid(text, "the host is missing after ://"));
    }
    if text
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(invalid(
            text,
            "a space or control character must be percent-encoded (%20 for a space)",
        ));
    }
    if rest.contains('#') {
        return Err(invalid(
            text,
            match kind {
                Kind::Server => {
                    "a fragment (#...) MUST NOT be used in a WebSocket URL (RFC 6455 3)"
                }
                Kind::Proxy => {
                    "a # starts a fragment: percent-encode it as %23 in a user name or password"
                }
            },
        ));
    }
    let parsed = url::Url::parse(text).map_err(|err| invalid(text, reason_of(err)))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(addr)) => addr.to_string(),
        Some(url::Host::Ipv6(addr)) => addr.to_string(),
        None => return Err(invalid(text, "the host is missing after ://")),
    };
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| invalid(text, "the scheme has no default port"))?;
    if port == 0 {
        return Err(invalid(text, "the port is 0, which cannot be connected to"));
    }
    let resource = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let decode = |part: &str, what: &'static str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| invalid(text, what))
    };
    let (user, password) = if parsed.username().is_empty() && parsed.password().is_none() {
        (None, None)
    } else {
        let user = decode(
            parsed.username(),
            "the user name is not UTF-8 once percent-decoded",
        )?;
        // RFC 7617 2: "a user-id containing a colon character is invalid".
        if user.contains(':') {
            return Err(invalid(
                text,
                "the user name contains ':' once decoded, which basic authentication forbids (RFC 7617 2)",
            ));
        }
        let password = parsed
            .password()
            .map(|p| decode(p, "the password is not UTF-8 once percent-decoded"))
            .transpose()?;
        (Some(user), password)
    };
    Ok(Url {
        scheme,
        user,
        password,
        host,
        port,
        explicit_port: parsed.port().is_some(),
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str, proxy: bool) -> &'static str {
        let result = if proxy {
            Url::parse_proxy(text)
        } else {
            Url::parse(text)
        };
        match result {
            Err(UrlError { reason, .. }) => reason,
            other => panic!("{text} should be refused, got {other:?}"),
        }
    }

    // RFC 6455 3: the parts of a ws-URI, and the default ports.
    #[test]
    fn default_and_explicit_ports_paths_and_queries() {
        let cases = [
            ("ws://example.com", "example.com", 80, "/"),
            ("wss://example.com", "example.com", 443, "/"),
            (
                "WS://Example.com:8080/a/b?c=d&e",
                "example.com",
                8080,
                "/a/b?c=d&e",
            ),
            ("ws://127.0.0.1:9001?x=1", "127.0.0.1", 9001, "/?x=1"),
            ("ws://[::1]:9001/x", "::1", 9001, "/x"),
            ("wss://[2001:db8::1]/", "2001:db8::1", 443, "/"),
            ("ws://h/%20space", "h", 80, "/%20space"),
            ("wss://example.com:443/", "example.com", 443, "/"),
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
        assert!(Url::parse("ws://h:8080/").unwrap().explicit_port);
        assert!(!Url::parse("ws://h/").unwrap().explicit_port);
    }

    // WHATWG URL host parsing: domain to ASCII (IDNA); path percent-encode set.
    #[test]
    fn non_ascii_hosts_go_through_idna_and_paths_are_percent_encoded() {
        let url = Url::parse("wss://bücher.example/ö?q=ü").unwrap();
        assert_eq!(url.host, "xn--bcher-kva.example");
        assert_eq!(url.resource, "/%C3%B6?q=%C3%BC");
        assert_eq!(url.authority(), "xn--bcher-kva.example:443");
        let url = Url::parse("ws://ДОМЕН.рф:81/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("xn--d1acufc.xn--p1ai", 81));
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
            "ws://a<b/",
            "ws://xn--a.example/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn reasons_name_the_part_and_the_rule() {
        assert_eq!(
            reason("ws://h:99999/", false),
            "the port is not a number from 0 to 65535"
        );
        assert_eq!(
            reason("ws://h:0/", false),
            "the port is 0, which cannot be connected to"
        );
        assert_eq!(
            reason("ws://[nothex]/", false),
            "the host is not a valid IPv6 address (RFC 4291 2.2)"
        );
        assert_eq!(
            reason("ws://h/#frag", false),
            "a fragment (#...) MUST NOT be used in a WebSocket URL (RFC 6455 3)"
        );
        assert_eq!(
            reason("ws://h/a b", false),
            "a space or control character must be percent-encoded (%20 for a space)"
        );
        assert_eq!(
            reason("ws://xn--a.example/", false),
            "the host is not a valid international domain name (IDNA, UTS #46)"
        );
        assert_eq!(reason("ws:///path", false), "the host is missing after ://");
        assert_eq!(
            reason("http://example.com/", false),
            "the scheme must be ws:// or wss://"
        );
        assert_eq!(
            reason("ws://proxy/", true),
            "the proxy URL must be http:// (an HTTP proxy with CONNECT)"
        );
        assert_eq!(
            reason("http://a:p#ss@proxy/", true),
            "a # starts a fragment: percent-encode it as %23 in a user name or password"
        );
        assert_eq!(
            reason("http://a%3Ab:pw@proxy/", true),
            "the user name contains ':' once decoded, which basic authentication forbids (RFC 7617 2)"
        );
    }

    #[test]
    fn passwords_never_appear_in_errors_or_debug() {
        let proxy = Url::parse_proxy("http://alice:s3cret@proxy:3128/").unwrap();
        assert!(!format!("{proxy:?}").contains("s3cret"));
        let err = Url::parse_proxy("http://alice:s3cret@proxy:99999/").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("http://alice:***@proxy:99999/"), "{text}");
        let text = Url::parse_proxy("http://alice:p#s/s@proxy/")
            .unwrap_err()
            .to_string();
        assert!(text.contains("\"http://alice:***@proxy/\""), "{text}");
    }

    // RFC 3986 3.2.1: userinfo is percent-encoded.
    #[test]
    fn proxy_credentials_are_percent_decoded() {
        let proxy = Url::parse_proxy("http://ann:s3cret@proxy.local:3128").unwrap();
        assert_eq!(
            (proxy.user.as_deref(), proxy.password.as_deref()),
            (Some("ann"), Some("s3cret"))
        );
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.local", 3128));
        let proxy = Url::parse_proxy("http://alice:p%40ss@127.0.0.1:8080").unwrap();
        assert_eq!(proxy.password.as_deref(), Some("p@ss"));
        let proxy = Url::parse_proxy("http://al%20ice:a%2Fb%23c%3Ad@proxy").unwrap();
        assert_eq!(
            (proxy.user.as_deref(), proxy.password.as_deref(), proxy.port),
            (Some("al ice"), Some("a/b#c:d"), 80)
        );
        let proxy = Url::parse_proxy("http://j%C3%B6rg:%C3%BC@proxy").unwrap();
        assert_eq!(
            (proxy.user.as_deref(), proxy.password.as_deref()),
            (Some("jörg"), Some("ü"))
        );
        let proxy = Url::parse_proxy("http://bob@proxy").unwrap();
        assert_eq!((proxy.user.as_deref(), proxy.password), (Some("bob"), None));
        assert!(Url::parse_proxy("ws://proxy/").is_err());
    }
}

//! The request target of an upgrade request (RFC 9112 3.2), normalised to the origin
//! form (a path and an optional query) whichever form the client sent.
//!
//! RFC 9112 3.2 defines four forms. A WebSocket upgrade is a GET, so two apply:
//!
//! - origin form, `/chat?room=1`: what clients send to a server (3.2.1);
//! - absolute form, `ws://example.com/chat?room=1`: what clients send through a proxy,
//!   and what "a server MUST accept" (3.2.2), whose authority replaces `Host`.
//!
//! The authority form (`example.com:443`) is for CONNECT only (3.2.3) and the asterisk
//! form (`*`) for OPTIONS only (3.2.4): both are refused with 400, as are targets with a
//! fragment, userinfo, an empty host, or a scheme other than `ws`, `wss`, `http` and
//! `https` (RFC 6455 3 and RFC 9110 4.2).

use super::error::HandshakeError;

/// A request target, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Path and query in origin form, such as `/chat?room=1`; the path is never empty.
    pub resource: String,
    /// The authority of an absolute-form target (`host` or `host:port`), which replaces
    /// the `Host` header (RFC 9112 3.2.2).
    pub authority: Option<String>,
}

impl Target {
    /// Reads a target as sent on the request line.
    pub(crate) fn parse(target: &str) -> Result<Target, HandshakeError> {
        let refuse = |reason: &'static str| HandshakeError::InvalidTarget {
            target: target.to_owned(),
            reason,
        };
        // RFC 9112 3.2: the target is one of the forms below; a fragment is never part
        // of it (RFC 9110 7.1: "the fragment ... is not sent").
        if target.contains('#') {
            return Err(refuse(
                "a fragment is not part of a request target (RFC 9112 3.2)",
            ));
        }
        // RFC 9112 3.2.1: origin-form = absolute-path [ "?" query ].
        if target.starts_with('/') {
            return Ok(Target {
                resource: target.to_owned(),
                authority: None,
            });
        }
        // RFC 9112 3.2.4: asterisk-form "is only used for a server-wide OPTIONS request".
        if target == "*" {
            return Err(refuse(
                "the asterisk form is only for OPTIONS (RFC 9112 3.2.4)",
            ));
        }
        let Some((scheme, rest)) = target.split_once("://") else {
            // RFC 9112 3.2.3: authority-form "is only used for CONNECT requests".
            return Err(if target.contains(':') {
                refuse("the authority form is only for CONNECT (RFC 9112 3.2.3)")
            } else {
                refuse("neither an origin form (/path) nor an absolute form (RFC 9112 3.2)")
            });
        };
        // RFC 9112 3.2.2: absolute-form = absolute-URI; RFC 6455 3 defines ws and wss,
        // and a proxy may have been given the http or https form of the same resource.
        if !["ws", "wss", "http", "https"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(refuse(
                "absolute form with a scheme other than ws, wss, http or https (RFC 6455 3)",
            ));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(split);
        // RFC 9110 4.2.4: "A recipient SHOULD parse for userinfo and treat its presence
        // as an error".
        if authority.contains('@') {
            return Err(refuse("userinfo in the target (RFC 9110 4.2.4)"));
        }
        // RFC 9110 4.2.1: a URI with an empty host "MUST" be rejected as invalid.
        if authority.is_empty() || authority.starts_with(':') {
            return Err(refuse("absolute form with an empty host (RFC 9110 4.2.1)"));
        }
        // RFC 9112 3.2.1: an empty path is sent as "/".
        let resource = if path_and_query.starts_with('/') {
            path_and_query.to_owned()
        } else {
            format!("/{path_and_query}")
        };
        Ok(Target {
            resource,
            authority: Some(authority.to_owned()),
        })
    }

    /// The path, without the query.
    pub(crate) fn path(&self) -> &str {
        self.resource
            .split_once('?')
            .map_or(&self.resource, |(path, _)| path)
    }

    /// The query, without the `?`.
    pub(crate) fn query(&self) -> Option<&str> {
        self.resource.split_once('?').map(|(_, query)| query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(target: &str) -> (String, Option<String>, Option<String>) {
        let t = Target::parse(target).unwrap();
        (
            t.path().to_owned(),
            t.query().map(str::to_owned),
            t.authority.clone(),
        )
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    // ----- RFC 9112 3.2.1: origin form -----

    #[test]
    fn origin_form_is_kept() {
        assert_eq!(parts("/chat?room=1"), ("/chat".into(), s("room=1"), None));
        assert_eq!(parts("/"), ("/".into(), None, None));
        assert_eq!(parts("/a/b?"), ("/a/b".into(), s(""), None));
        assert_eq!(parts("/?x=1?y"), ("/".into(), s("x=1?y"), None));
    }

    // ----- RFC 9112 3.2.2: absolute form -----

    #[test]
    fn absolute_form_gives_path_query_and_authority() {
        for scheme in ["ws", "wss", "http", "https", "WS", "Https"] {
            let target = format!("{scheme}://example.com/chat?room=1");
            assert_eq!(
                parts(&target),
                ("/chat".into(), s("room=1"), s("example.com")),
                "{target}"
            );
        }
        assert_eq!(
            Target::parse("ws://example.com/chat?room=1")
                .unwrap()
                .resource,
            "/chat?room=1"
        );
        assert_eq!(
            parts("wss://[::1]:8443/a"),
            ("/a".into(), None, s("[::1]:8443"))
        );
    }

    #[test]
    fn absolute_form_with_an_empty_path_is_slash() {
        // RFC 9112 3.2.1: "If the target URI's path component is empty, the client MUST
        // send "/" as the path".
        assert_eq!(
            parts("ws://example.com"),
            ("/".into(), None, s("example.com"))
        );
        assert_eq!(
            parts("http://example.com:8080?x=1"),
            ("/".into(), s("x=1"), s("example.com:8080"))
        );
    }

    // ----- RFC 9112 3.2.3 and 3.2.4: forms a GET may not use; RFC 9110 4.2 -----

    #[test]
    fn other_forms_and_malformed_targets_are_refused_with_the_rule() {
        let cases = [
            ("*", "3.2.4"),
            ("example.com:443", "3.2.3"),
            ("chat", "RFC 9112 3.2)"),
            ("ftp://example.com/chat", "RFC 6455 3"),
            ("ws://alice@example.com/chat", "RFC 9110 4.2.4"),
            ("ws:///chat", "RFC 9110 4.2.1"),
            ("ws://:80/chat", "RFC 9110 4.2.1"),
            ("/chat#top", "fragment"),
        ];
        for (target, rule) in cases {
            let err = Target::parse(target).unwrap_err();
            assert!(
                matches!(&err, HandshakeError::InvalidTarget { target: t, .. } if t == target),
                "{target}: {err:?}"
            );
            assert_eq!(err.http_status(), 400, "{target}");
            let text = err.to_string();
            assert!(text.contains(rule), "{target}: {text}");
            assert!(text.contains(&format!("{target:?}")), "{text}");
        }
    }
}

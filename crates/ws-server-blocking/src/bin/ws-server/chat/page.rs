//! The chat page: one HTML file with its script and style inline, embedded in the binary,
//! and the headers it is served with.

use base64::Engine;

/// The page, as `chat.html` in the source tree.
pub const HTML: &str = include_str!("chat.html");

/// An answer to a plain HTTP request: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Header fields, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

/// The Content-Security-Policy of the page: nothing may load or run but its own inline
/// script and style (named by their SHA-256 hashes, CSP Level 2 section 4.2.4) and its
/// WebSocket to this same host (`connect-src 'self'`, which covers ws:/wss: in CSP Level 3).
pub fn content_security_policy() -> String {
    let script = inline_hash(HTML, "<script>", "</script>");
    let style = inline_hash(HTML, "<style>", "</style>");
    format!(
        "default-src 'none'; script-src '{script}'; style-src '{style}'; connect-src 'self'; \
         img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// `sha256-BASE64` of the text between the first `open` and the `close` after it (empty
/// text if the page has none, which then allows nothing that exists).
fn inline_hash(html: &str, open: &str, close: &str) -> String {
    let body = html
        .split_once(open)
        .and_then(|(_, rest)| rest.split_once(close))
        .map_or("", |(body, _)| body);
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// The answer to a plain (not upgrade) request for `path` with `method`: the page at `/`,
/// 405 for a method other than GET or HEAD there, 404 elsewhere. `None` for paths this
/// module does not own (`/healthz`).
pub fn answer(method: &str, path: &str, csp: &str) -> Option<Answer> {
    let text = |status, body: &str| Answer {
        status,
        headers: vec![
            ("Content-Type", "text/plain; charset=utf-8".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
        ],
        body: body.to_owned(),
    };
    match path {
        "/healthz" => None,
        "/" | "/index.html" if method == "GET" || method == "HEAD" => Some(Answer {
            status: 200,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".to_owned()),
                ("Content-Security-Policy", csp.to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
                ("Referrer-Policy", "no-referrer".to_owned()),
                ("X-Frame-Options", "DENY".to_owned()),
                ("Cache-Control", "no-cache".to_owned()),
            ],
            // For HEAD too: the server sends the head only, with the Content-Length GET
            // gets (RFC 9110 9.3.2).
            body: HTML.to_owned(),
        }),
        "/" | "/index.html" => {
            let mut answer = text(405, "method not allowed: GET or HEAD\n");
            answer.headers.push(("Allow", "GET, HEAD".to_owned()));
            Some(answer)
        }
        "/ws" => Some(text(
            426,
            "this is the chat's WebSocket: open / in a browser\n",
        )),
        _ if path.starts_with("/ws/") => Some(text(
            426,
            "this is the chat's WebSocket: open / in a browser\n",
        )),
        _ => Some(text(404, "not found: the chat is at /\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_one_inline_script_and_style_and_nothing_external() {
        assert_eq!(HTML.matches("<script").count(), 1);
        assert_eq!(HTML.matches("<style").count(), 1);
        for external in [
            "src=",
            "href=",
            "http://",
            "https://",
            "innerHTML",
            "@import",
        ] {
            assert!(!HTML.contains(external), "the page has {external}");
        }
    }

    #[test]
    fn the_policy_names_the_hashes_of_what_is_inline() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"));
        assert_ne!(
            inline_hash(HTML, "<script>", "</script>"),
            inline_hash("", "<script>", "</script>")
        );
        // The hash of the empty string, as `openssl dgst -sha256 -binary | base64` gives it.
        assert_eq!(
            inline_hash("<script></script>", "<script>", "</script>"),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn answers() {
        let csp = content_security_policy();
        let page = answer("GET", "/", &csp).unwrap();
        assert_eq!(page.status, 200);
        assert_eq!(page.body, HTML);
        assert_eq!(answer("HEAD", "/", &csp).unwrap().body, HTML);
        assert_eq!(answer("POST", "/", &csp).unwrap().status, 405);
        assert_eq!(answer("GET", "/ws", &csp).unwrap().status, 426);
        assert_eq!(answer("GET", "/nope", &csp).unwrap().status, 404);
        assert_eq!(answer("GET", "/healthz", &csp), None);
    }
}

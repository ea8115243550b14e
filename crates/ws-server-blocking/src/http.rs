//! Plain HTTP requests and answers, for the HTTP hook
//! ([`Builder::http_hook`](crate::Builder::http_hook)): health checks, a page, a redirect.

use ws_proto::handshake::{Headers, Request};

/// The head of a request as the HTTP hook sees it, before any WebSocket check: an
/// upgrade request or any other (`GET /healthz`, `HEAD /`, a `POST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    method: String,
    target: String,
    /// ws-proto's storage: a copy of an upgrade request's is three allocations.
    headers: Headers,
}

impl HttpRequest {
    /// The request method, as sent (`GET`, `HEAD`, ...).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent on the request line (`/chat?room=1`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path: the target up to `?` (`/chat`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query, after `?`, if any (`room=1`).
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The first header field of this name (case-insensitive), if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(name)
            .next()
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Every header field, in order, as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter()
    }

    /// Whether it asks for a WebSocket upgrade (`Upgrade: websocket`).
    pub fn is_upgrade(&self) -> bool {
        self.headers.has_token("upgrade", "websocket")
    }

    /// The head of a checked upgrade request.
    pub(crate) fn from_upgrade(request: &Request) -> HttpRequest {
        HttpRequest {
            method: "GET".to_owned(),
            target: request.target().to_owned(),
            headers: request.headers().clone(),
        }
    }

    /// The head at the start of `bytes`, read again after the upgrade checks refused it;
    /// `None` if it is not a complete, well-formed HTTP/1.x head of at most `max_headers`
    /// fields.
    pub(crate) fn parse(bytes: &[u8], max_headers: usize) -> Option<HttpRequest> {
        let mut slots = vec![httparse::EMPTY_HEADER; max_headers.max(1)];
        let mut raw = httparse::Request::new(&mut slots);
        match raw.parse(bytes) {
            Ok(httparse::Status::Complete(_)) => Some(HttpRequest {
                method: raw.method?.to_owned(),
                target: raw.path?.to_owned(),
                headers: raw.headers.iter().map(|h| (h.name, h.value)).collect(),
            }),
            _ => None,
        }
    }
}

use ws_proto::httparse;

/// A plain HTTP answer from the HTTP hook: a status, header fields and a body. It is sent
/// with `Content-Length` and `Connection: close`, and the connection is closed after it.
///
/// ```
/// use ws_server_blocking::HttpResponse;
/// let ok = HttpResponse::new(200).header("Content-Type", "text/plain").body("ok\n");
/// assert_eq!(ok.status(), 200);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    /// An answer with this status (200 to 599: anything else, 1xx included since a 1xx is
    /// never a final answer, RFC 9110 15.2, is logged and sent as 500), no header fields
    /// and an empty body.
    pub fn new(status: u16) -> HttpResponse {
        // RFC 9110 15.2: a 1xx is never the final answer to a request.
        let status = if (200..600).contains(&status) {
            status
        } else {
            log::error!("HTTP hook answered with status {status}: sending 500 instead");
            500
        };
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field. A name that is not an HTTP token, or a value with a control
    /// character (CR, LF, NUL, DEL...; RFC 9110 5.5, as ws-proto writes its own answers),
    /// is dropped (with a log record) rather than sent. `Content-Length` and
    /// `Connection` are the server's: they are dropped too.
    pub fn header(mut self, name: &str, value: &str) -> HttpResponse {
        let token = ws_proto::handshake::is_token(name);
        let clean = ws_proto::handshake::is_field_value(value);
        let ours =
            name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection");
        if token && clean && !ours {
            self.headers.push((name.to_owned(), value.to_owned()));
        } else {
            log::warn!("HTTP hook: header {name:?} dropped (invalid, or set by the server)");
        }
        self
    }

    /// Sets the body. A 204 or 304 answer is sent without it (RFC 9110 15.3.5, 15.4.5),
    /// and without Content-Length.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpResponse {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer's bytes; without the body for a `HEAD` request (RFC 9110 9.3.2).
    pub(crate) fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        // RFC 9110 15.3.5, 15.4.5: 204 and 304 have no content; 8.6: no Content-Length
        // with 204 either (and a 304's would have to be the length of the content a 200
        // would carry, which the hook did not give).
        let no_content = matches!(self.status, 204 | 304);
        if !no_content {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        if !head_only && !no_content {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// The reason phrase of a status: ws-proto's for the statuses it names (RFC 9110 15), else
/// the status class's; clients ignore it (RFC 9112 4).
fn reason(status: u16) -> &'static str {
    ws_proto::handshake::reason_phrase(status).unwrap_or(match status {
        s if s < 200 => "Informational",
        s if s < 300 => "Success",
        s if s < 400 => "Redirection",
        s if s < 500 => "Client Error",
        _ => "Server Error",
    })
}

#[cfg(test)]
mod tests {
    use super::{HttpRequest, HttpResponse};

    #[test]
    fn response_bytes() {
        let bytes = HttpResponse::new(200)
            .header("Content-Type", "text/plain")
            .body("ok")
            .to_bytes(false);
        assert_eq!(
            bytes,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
    }

    // RFC 9110 9.3.2: the answer to HEAD has no body, but the length GET would have.
    #[test]
    fn head_gets_no_body() {
        let bytes = HttpResponse::new(200).body("ok").to_bytes(true);
        assert!(bytes.ends_with(b"Content-Length: 2\r\nConnection: close\r\n\r\n"));
    }

    #[test]
    fn bad_status_and_headers_are_not_sent() {
        assert_eq!(HttpResponse::new(101).status(), 500);
        assert_eq!(HttpResponse::new(99).status(), 500);
        let bytes = HttpResponse::new(204)
            .header("X-Evil", "a\r\nSet-Cookie: x")
            .header("Bad Name", "v")
            .header("X-Bell", "ring\x07")
            .header("X-Del", "\x7f")
            .header("Content-Length", "99")
            .header("X-Fine", "caf\u{e9}\tok")
            .to_bytes(false);
        assert_eq!(
            bytes,
            "HTTP/1.1 204 No Content\r\nX-Fine: caf\u{e9}\tok\r\nConnection: close\r\n\r\n"
                .as_bytes()
        );
    }

    #[test]
    fn request_parts() {
        let head = b"GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n\r\n";
        let req = HttpRequest::parse(head, 8).expect("complete head");
        assert_eq!(
            (req.method(), req.path(), req.query()),
            ("GET", "/a/b", Some("x=1"))
        );
        assert_eq!(req.header("host"), Some("h"));
        assert!(req.is_upgrade());
        assert!(HttpRequest::parse(b"GET / HTTP/1.1\r\n", 8).is_none());
        assert!(HttpRequest::parse(head, 1).is_none()); // more fields than allowed
    }
}

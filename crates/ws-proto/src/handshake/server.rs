//! The server side of the opening handshake: reading the client's request (RFC 6455
//! 4.2.1) and answering it (4.2.2).

use std::mem::MaybeUninit;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::error::HandshakeError;
use super::extension::{Extension, parse_extensions};
use super::headers::{Headers, list_elements, write_field};
use super::scan::{HeadScanner, Scan};
use super::target::Target;
use super::upgrade_fields::{Seen, UpgradeFields, has_token};
use super::{Limits, VERSION, accept_key_bytes};
use crate::buffer::RecvBuffer;
use crate::config::Config;
use crate::deflate::{DeflateConfig, DeflateParams};
use crate::local_error::LocalError;
use crate::role::Role;
use crate::session::Session;

/// Reads an upgrade request out of a [`RecvBuffer`] as its bytes arrive.
///
/// ```
/// use ws_proto::{RecvBuffer, handshake::RequestParser};
/// let request = b"GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n\x81";
/// let mut input = RecvBuffer::new();
/// let mut parser = RequestParser::new();
/// input.extend_from_slice(&request[..20]);
/// assert!(parser.parse(&mut input)?.is_none()); // not complete yet
/// input.extend_from_slice(&request[20..]);
/// let req = parser.parse(&mut input)?.expect("complete");
/// assert_eq!((req.path(), req.query(), req.origin()), ("/chat", Some("room=1"), Some("http://example.com")));
/// assert_eq!(input.data(), b"\x81"); // the first frame's byte is left for the session
/// let (answer, session) = req.accept().finish()?;
/// assert!(answer.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(!session.is_compressing()); // no permessage-deflate asked for
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestParser {
    scanner: HeadScanner,
    limits: Limits,
}

impl RequestParser {
    /// A parser with the default [`Limits`].
    pub fn new() -> RequestParser {
        RequestParser::default()
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> RequestParser {
        RequestParser {
            scanner: HeadScanner::default(),
            limits,
        }
    }

    /// Returns the request once its header block is complete and consumes the block from
    /// `input`; `Ok(None)` means more bytes are needed.
    ///
    /// Every error has an HTTP status ([`HandshakeError::http_status`]); answer it with
    /// [`Reject::for_error`] and close the connection.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::HeadTooLarge`] when the block passes the size limit before its end and
    /// [`HandshakeError::TooManyHeaders`] for more fields than the limit (431);
    /// [`HandshakeError::MalformedHttp`] for bytes that are not an HTTP/1.x request, among them
    /// a first byte that cannot start a method (RFC 9112 3), refused at once (400); and, for a
    /// well-formed request, the errors of [`from_parts`](Request::from_parts), the checks of
    /// RFC 6455 4.2.1.
    pub fn parse(&mut self, input: &mut RecvBuffer) -> Result<Option<Request>, HandshakeError> {
        // httparse writes the header slots before it reads them: left uninitialised (the
        // default limits' 64 fit on the stack; larger limits take the heap).
        let wanted = self.limits.header_slots();
        let mut on_stack = [const { MaybeUninit::uninit() }; STACK_SLOTS];
        let mut on_heap = Vec::new();
        let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if wanted <= STACK_SLOTS {
            &mut on_stack[..wanted]
        } else {
            on_heap.resize_with(wanted, MaybeUninit::uninit);
            &mut on_heap
        };
        // Most requests arrive whole in the first read: httparse reads them at once, with
        // no scan for their end first. Only on the first call with bytes, so that a
        // request arriving in pieces is still scanned once, in linear time; whatever
        // httparse says of an incomplete or malformed head here is not taken for an
        // answer: the scan below then decides, as it would have alone (where a complete
        // head ends, the scan and httparse agree: `scan`'s tests).
        if self.scanner.is_fresh() && !input.is_empty() {
            let data = input.data();
            let head = &data[..data.len().min(self.limits.max_head_size)];
            let mut raw = httparse::Request::new(&mut []);
            if let Ok(httparse::Status::Complete(len)) =
                raw.parse_with_uninit_headers(head, &mut *slots)
            {
                let request = Request::check(&raw)?;
                input.consume(len);
                return Ok(Some(request));
            }
        }
        let len = match self.scanner.scan(input.data(), &self.limits) {
            Scan::Complete(len) => len,
            Scan::Partial => {
                // RFC 9112 3: a request line starts with the method, a token (RFC 9110
                // 5.6.2). A first byte that cannot start one is refused at once rather
                // than when the handshake times out: a TLS ClientHello (0x16) sent to a
                // plain ws:// port gets its 400 while the client still waits for it.
                let first = input.data().iter().find(|&&b| b != b'\r' && b != b'\n');
                if first.is_some_and(|&b| !is_tchar(b)) {
                    return Err(HandshakeError::MalformedHttp(httparse::Error::Token));
                }
                return Ok(None);
            }
            Scan::TooLarge => {
                return Err(HandshakeError::HeadTooLarge {
                    max: self.limits.max_head_size,
                });
            }
        };
        let mut raw = httparse::Request::new(&mut []);
        if raw
            .parse_with_uninit_headers(&input.data()[..len], slots)?
            .is_partial()
        {
            // httparse stops at the first blank line; if it wants more than the block we
            // found, a line ending inside the block is malformed.
            return Err(HandshakeError::MalformedHttp(httparse::Error::NewLine));
        }
        let request = Request::check(&raw)?;
        input.consume(len);
        Ok(Some(request))
    }
}

/// Header slots parsed into without an allocation: as many as the default
/// [`Limits::max_headers`] (64).
const STACK_SLOTS: usize = 64;

/// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
/// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// A checked WebSocket upgrade request.
#[derive(Clone, Debug)]
pub struct Request {
    /// The target as sent on the request line, when it differs from the resource (an
    /// absolute form); an origin form is the resource itself, kept once.
    raw_target: Option<String>,
    /// The target in origin form, and the authority of an absolute form.
    target: Target,
    headers: Headers,
    /// `Sec-WebSocket-Key`, checked: 24 base64 characters.
    key: [u8; KEY_LEN],
    protocols: Vec<String>,
    extensions: Vec<Extension>,
}

impl Request {
    /// Applies the checks of RFC 6455 4.2.1 to a parsed request.
    fn check(raw: &httparse::Request<'_, '_>) -> Result<Request, HandshakeError> {
        // httparse reads HTTP/1.x only; the minor version must be at least 1.
        Request::check_parts(
            raw.method.unwrap_or_default(),
            raw.version == Some(1),
            raw.path.unwrap_or("/"),
            Headers::from_httparse(raw.headers),
        )
    }

    /// Applies the checks of RFC 6455 4.2.1 to a request another HTTP parser already
    /// read (hyper's, through the `http` crate's types), so that it need not be
    /// serialised again: the method, whether the version is HTTP/1.1 or later, the
    /// request target (path and query), and the header fields in order.
    ///
    /// ```
    /// use ws_proto::handshake::Request;
    /// let headers: [(&str, &[u8]); 5] = [
    ///     ("host", b"example.com"),
    ///     ("upgrade", b"websocket"),
    ///     ("connection", b"Upgrade"),
    ///     ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ///     ("sec-websocket-version", b"13"),
    /// ];
    /// let request = Request::from_parts("GET", true, "/chat", headers)?;
    /// assert_eq!(request.path(), "/chat");
    /// assert!(Request::from_parts("GET", false, "/chat", headers).is_err()); // HTTP/1.0
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The checks of RFC 6455 4.2.1, in this order, each with its status
    /// ([`HandshakeError::http_status`]): [`HandshakeError::MethodNotGet`] (405);
    /// [`HandshakeError::HttpVersion`] below HTTP/1.1 (400);
    /// [`HandshakeError::InvalidTarget`] for a target that is neither an origin form nor a
    /// `ws`, `wss`, `http` or `https` absolute form (400, RFC 9112 3.2);
    /// [`HandshakeError::MissingHost`] unless there is exactly one non-empty UTF-8 `Host`
    /// (400, RFC 9112 3.2); [`HandshakeError::MissingUpgrade`] without an `Upgrade: websocket`
    /// token (426); [`HandshakeError::MissingConnection`] without a `Connection: upgrade` token
    /// (400); [`HandshakeError::RepeatedVersion`] when `Sec-WebSocket-Version` is repeated
    /// (400); [`HandshakeError::UnsupportedVersion`] when it is missing or not 13 (426);
    /// [`HandshakeError::InvalidKey`] unless `Sec-WebSocket-Key` is once and 16
    /// bytes in base64 (400); [`HandshakeError::InvalidExtensionHeader`] for a
    /// `Sec-WebSocket-Extensions` value that breaks RFC 6455 9.1 (400).
    pub fn from_parts<'h>(
        method: &str,
        http11_or_later: bool,
        target: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
    ) -> Result<Request, HandshakeError> {
        Request::check_parts(
            method,
            http11_or_later,
            target,
            Headers::from_pairs(headers),
        )
    }

    fn check_parts(
        method: &str,
        http11_or_later: bool,
        target: &str,
        headers: Headers,
    ) -> Result<Request, HandshakeError> {
        if method != "GET" {
            return Err(HandshakeError::MethodNotGet(method.to_owned()));
        }
        if !http11_or_later {
            return Err(HandshakeError::HttpVersion);
        }
        let raw_target = target;
        let target = Target::parse(raw_target)?;
        // The fields checked below, found in one pass (each check used to look its
        // field up among all of them).
        let fields = UpgradeFields::find(&headers);
        // RFC 9112 3.2: exactly one Host field.
        let is_utf8 = |h: &[u8]| h.is_ascii() || std::str::from_utf8(h).is_ok();
        if !matches!(fields.host, Seen::Once(h) if !h.is_empty() && is_utf8(h)) {
            return Err(HandshakeError::MissingHost);
        }
        // RFC 6455 4.2.1: "An |Upgrade| header field containing the value "websocket",
        // treated as an ASCII case-insensitive value."
        if !has_token(&headers, fields.upgrade, "upgrade", b"websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        // "A |Connection| header field that includes the token "Upgrade", treated as an
        // ASCII case-insensitive value."
        if !has_token(&headers, fields.connection, "connection", b"upgrade") {
            return Err(HandshakeError::MissingConnection);
        }
        // RFC 6455 4.2.1: one Sec-WebSocket-Version field; repeated, the request is
        // malformed (400), whatever the values (RFC 9110 5.3: a field that is not a list
        // cannot be sent twice). Missing or not 13: 426 with the version we speak (4.4).
        let version = match fields.version {
            Seen::Repeated => return Err(HandshakeError::RepeatedVersion),
            Seen::Once(version) => Some(version),
            Seen::Absent => None,
        };
        if version.map(<[u8]>::trim_ascii) != Some(VERSION.as_bytes()) {
            return Err(HandshakeError::UnsupportedVersion);
        }
        let key = single_key(fields.key).ok_or(HandshakeError::InvalidKey)?;
        let protocols = match fields.protocol {
            Seen::Absent => Vec::new(),
            Seen::Once(value) => list_elements(value).map(str::to_owned).collect(),
            Seen::Repeated => headers
                .tokens("sec-websocket-protocol")
                .map(str::to_owned)
                .collect(),
        };
        let mut extensions = Vec::new();
        match fields.extensions {
            Seen::Absent => {}
            Seen::Once(value) => extensions = extension_offers(value)?,
            Seen::Repeated => {
                for value in headers.get_all("sec-websocket-extensions") {
                    extensions.extend(extension_offers(value)?);
                }
            }
        }
        Ok(Request {
            raw_target: target.authority.is_some().then(|| raw_target.to_owned()),
            target,
            headers,
            key,
            protocols,
            extensions,
        })
    }

    /// The resource asked for, in origin form: path and query, such as `/chat?room=1`,
    /// whichever form the client sent (RFC 9112 3.2); see [`target`](Self::target) for
    /// the target as sent.
    pub fn resource(&self) -> &str {
        &self.target.resource
    }

    /// The request target exactly as sent on the request line: an origin form such as
    /// `/chat?room=1`, or an absolute form such as `ws://example.com/chat?room=1`.
    pub fn target(&self) -> &str {
        self.raw_target.as_deref().unwrap_or(&self.target.resource)
    }

    /// The path, without the query, such as `/chat` (also for an absolute-form target
    /// such as `ws://example.com/chat?room=1`); never empty.
    pub fn path(&self) -> &str {
        self.target.path()
    }

    /// The query without the `?`, if any, such as `room=1`.
    pub fn query(&self) -> Option<&str> {
        self.target.query()
    }

    /// The host the request is for, with its port if one was given: the authority of an
    /// absolute-form target, which replaces `Host` (RFC 9112 3.2.2), or else the `Host`
    /// header (always present: the request is refused without it).
    pub fn host(&self) -> &str {
        match &self.target.authority {
            Some(authority) => authority,
            None => self.headers.get("host").unwrap_or_default(),
        }
    }

    /// The `Origin` header, sent by browsers; servers use it to refuse foreign pages.
    pub fn origin(&self) -> Option<&str> {
        self.headers.get("origin")
    }

    /// The subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order of
    /// preference: the elements of the comma-separated list over every such field, trimmed,
    /// empty ones skipped (RFC 9110 5.6.1); none from a value that is not UTF-8.
    ///
    /// They are not checked to be tokens: RFC 6455 4.1 asks that of the client and says
    /// nothing of a server that receives something else, and Perl's Net::WebSocket::Server,
    /// which this stack rebuilds, accepts such values (its own tests offer
    /// `test subprotocol`). A server that wants only tokens refuses the others itself;
    /// choosing one writes it back only as a valid field value
    /// ([`Accept::protocol`], [`LocalError::InvalidHeader`] otherwise).
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions offered in `Sec-WebSocket-Extensions`, in order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The pairs of every `Cookie` header, in order; malformed pairs are skipped.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .get_all("cookie")
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                let name = name.trim();
                (!name.is_empty()).then(|| (name, value.trim().trim_matches('"')))
            })
    }

    /// The value of one cookie.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The first value of any header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every header field.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The `Sec-WebSocket-Key` the client sent.
    pub fn key(&self) -> &str {
        // Base64 characters only (checked by `single_key`): always UTF-8.
        std::str::from_utf8(&self.key).unwrap_or_default()
    }

    /// Starts the `101 Switching Protocols` answer; [`Accept::finish`] yields its bytes
    /// and the [`Session`].
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            request: self,
            protocol: None,
            extensions: Vec::new(),
            headers: Vec::new(),
            config: Config::default(),
            deflate: None,
        }
    }
}

/// The extensions offered in one `Sec-WebSocket-Extensions` value (RFC 6455 9.1).
fn extension_offers(value: &[u8]) -> Result<Vec<Extension>, HandshakeError> {
    let value = std::str::from_utf8(value).map_err(|_| {
        HandshakeError::InvalidExtensionHeader(String::from_utf8_lossy(value).into())
    })?;
    parse_extensions(value)
}

/// The length of a valid `Sec-WebSocket-Key`: 16 bytes in base64, padding included.
const KEY_LEN: usize = 24;

/// RFC 6455 4.2.1: exactly one key, which "when decoded, is 16 bytes in length".
/// Base64 with its padding (as the standard engine requires) makes 16 bytes 24
/// characters, and any other length cannot decode to 16 bytes.
fn single_key(seen: Seen<'_>) -> Option<[u8; KEY_LEN]> {
    let Seen::Once(key) = seen else {
        return None;
    };
    let key: [u8; KEY_LEN] = key.trim_ascii().try_into().ok()?;
    // Room for the 18 bytes that 24 characters could decode to.
    let mut decoded = [0u8; 18];
    let len = BASE64.decode_slice(key, &mut decoded).ok()?;
    (len == 16).then_some(key)
}

/// The server's `101 Switching Protocols` answer, built from a [`Request`]; it yields
/// the answer's bytes and the server's [`Session`].
#[derive(Clone, Debug)]
pub struct Accept<'r> {
    request: &'r Request,
    protocol: Option<String>,
    extensions: Vec<Extension>,
    headers: Vec<(String, String)>,
    config: Config,
    /// permessage-deflate as agreed by [`Accept::deflate`].
    deflate: Option<DeflateParams>,
}

impl Accept<'_> {
    /// Chooses a subprotocol; it must be one the client offered.
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocol = Some(protocol.to_owned());
        self
    }

    /// Agrees to an extension the client offered, with the parameters of the agreement.
    pub fn extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds a header field, such as `Set-Cookie`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The settings of the session [`finish`](Self::finish) makes. Default
    /// [`Config::default`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Agrees to permessage-deflate (RFC 7692) if the client offered it in a form that
    /// `deflate` accepts ([`DeflateConfig::accept`]); otherwise the answer goes without
    /// it, as RFC 7692 5.1 allows. The session [`finish`](Self::finish) makes then
    /// compresses with the agreed parameters.
    pub fn deflate(mut self, deflate: &DeflateConfig) -> Self {
        if let Some((params, answer)) = deflate.accept(&self.request.extensions) {
            self.deflate = Some(params);
            self.extensions.push(answer);
        }
        self
    }

    /// Whether permessage-deflate was agreed by [`deflate`](Self::deflate).
    pub fn is_compressing(&self) -> bool {
        self.deflate.is_some()
    }

    /// The answer's bytes and the session that follows it (RFC 6455 4.2.2: once the
    /// answer is sent, "the WebSocket connection is established").
    ///
    /// # Errors
    ///
    /// As [`to_bytes`](Self::to_bytes).
    pub fn finish(self) -> Result<(Vec<u8>, Session), LocalError> {
        let bytes = self.to_bytes()?;
        Ok((bytes, Session::new(Role::Server, self.config, self.deflate)))
    }

    /// The answer's bytes alone, for callers that make their [`Session`] with
    /// [`Session::new`].
    ///
    /// # Errors
    ///
    /// [`LocalError::UnofferedProtocol`] or [`LocalError::UnofferedExtension`] if the
    /// protocol or an extension was not offered (RFC 6455 4.2.2), and
    /// [`LocalError::InvalidHeader`] if a header cannot be written.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LocalError> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        // Base64 characters only: written as they are.
        out.extend_from_slice(b"Sec-WebSocket-Accept: ");
        out.extend_from_slice(&accept_key_bytes(&self.request.key));
        out.extend_from_slice(b"\r\n");
        if let Some(protocol) = &self.protocol {
            if !self.request.protocols.contains(protocol) {
                return Err(LocalError::UnofferedProtocol(protocol.clone()));
            }
            write_field(&mut out, "Sec-WebSocket-Protocol", protocol)?;
        }
        for extension in &self.extensions {
            if !self
                .request
                .extensions
                .iter()
                .any(|e| e.name == extension.name)
            {
                return Err(LocalError::UnofferedExtension(extension.name.clone()));
            }
            write_field(&mut out, "Sec-WebSocket-Extensions", &extension.to_string())?;
        }
        for (name, value) in &self.headers {
            write_field(&mut out, name, value)?;
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// A refusal of the upgrade with a real HTTP status and a short text body.
///
/// ```
/// use ws_proto::handshake::Reject;
/// let bytes = Reject::forbidden().body("origin not allowed").to_bytes()?;
/// assert!(bytes.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
/// assert!(bytes.ends_with(b"\r\n\r\norigin not allowed"));
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reject {
    /// A refusal with the given status. Statuses outside 300-599 (not a refusal) are
    /// replaced by 500.
    pub fn new(status: u16) -> Reject {
        Reject {
            status: if (300..600).contains(&status) {
                status
            } else {
                500
            },
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request() -> Reject {
        Reject::new(400)
    }

    /// 403 Forbidden: for an origin or credentials the server does not accept.
    pub fn forbidden() -> Reject {
        Reject::new(403)
    }

    /// 426 Upgrade Required with `Sec-WebSocket-Version: 13` (RFC 6455 4.4).
    pub fn upgrade_required() -> Reject {
        Reject::new(426).header("Sec-WebSocket-Version", VERSION)
    }

    /// 426 Upgrade Required with `Upgrade: websocket`, for a request that asked for no
    /// WebSocket upgrade at all (RFC 9110 15.5.22: "The server MUST send an Upgrade header
    /// field in a 426 response to indicate the required protocol(s)"). The body tells the
    /// person behind a browser's address bar, or curl, that a WebSocket client is needed
    /// and how to connect.
    pub fn not_websocket() -> Reject {
        Reject::new(426).header("Upgrade", "websocket").body(
            "This is a WebSocket server: it needs a WebSocket client, not a plain HTTP \
             request (such as a browser's address bar or curl sends).\n\
             Connect to the same host, port and path with ws:// (or wss:// if this server \
             uses TLS) instead of http://, from a WebSocket client: \
             `new WebSocket(\"ws://HOST:PORT/PATH\")` in a page's JavaScript, \
             `ws-client ws://HOST:PORT/PATH`, or `python -m websockets ws://HOST:PORT/PATH`.\n",
        )
    }

    /// The answer to a handshake error: its status, the headers
    /// that status calls for, and the error's text as the body. A request with no
    /// `Upgrade: websocket` gets [`Reject::not_websocket`].
    pub fn for_error(error: &HandshakeError) -> Reject {
        if matches!(error, HandshakeError::MissingUpgrade) {
            return Reject::not_websocket();
        }
        let reject = match error.http_status() {
            426 => Reject::upgrade_required(),
            405 => Reject::new(405).header("Allow", "GET"),
            status => Reject::new(status),
        };
        reject.body(error.to_string())
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> Reject {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body, sent as `text/plain`.
    pub fn body(mut self, body: impl Into<String>) -> Reject {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer's bytes; it asks the client to close (`Connection: close`).
    ///
    /// # Errors
    ///
    /// [`LocalError::InvalidHeader`] if a header cannot be written.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LocalError> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {} {}\r\n",
                self.status,
                reason_phrase(self.status).unwrap_or("Error")
            )
            .as_bytes(),
        );
        out.extend_from_slice(b"Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n");
        write_field(&mut out, "Content-Length", &self.body.len().to_string())?;
        for (name, value) in &self.headers {
            write_field(&mut out, name, value)?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body.as_bytes());
        Ok(out)
    }
}

/// The reason phrase RFC 9110 15 gives a status, for the statuses a WebSocket server
/// answers with (handshake refusals, redirects, health checks and small pages); `None` for
/// the others, which the caller names as it sees fit (clients ignore the phrase, RFC 9112
/// 4).
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    fn parse(text: &str) -> Result<Option<Request>, HandshakeError> {
        let mut input = RecvBuffer::new();
        input.extend_from_slice(text.as_bytes());
        RequestParser::new().parse(&mut input)
    }

    fn replace(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from));
        GOOD.replace(from, to)
    }

    #[test]
    fn rfc_example_request_and_answer() {
        let req = parse(GOOD).unwrap().unwrap();
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.host(), "server.example.com");
        assert_eq!(req.protocols(), ["chat", "superchat"]);
        let answer = String::from_utf8(req.accept().protocol("chat").to_bytes().unwrap()).unwrap();
        // RFC 6455 1.3's answer, field for field.
        assert_eq!(
            answer,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
    }

    #[test]
    fn tokens_are_found_inside_lists_in_any_case() {
        let text = replace("Connection: Upgrade", "Connection: keep-alive, UPGRADE");
        let text = text.replace("Upgrade: websocket", "upgrade: WebSocket");
        assert!(parse(&text).unwrap().is_some());
    }

    type IsExpected = fn(&HandshakeError) -> bool;

    #[test]
    fn each_check_has_its_error_and_status() {
        let cases: Vec<(String, IsExpected, u16)> = vec![
            (
                replace("GET", "POST"),
                |e| matches!(e, HandshakeError::MethodNotGet(m) if m == "POST"),
                405,
            ),
            (
                replace("HTTP/1.1", "HTTP/1.0"),
                |e| matches!(e, HandshakeError::HttpVersion),
                400,
            ),
            (
                replace("Host: server.example.com\r\n", ""),
                |e| matches!(e, HandshakeError::MissingHost),
                400,
            ),
            (
                replace("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
                |e| matches!(e, HandshakeError::MissingHost),
                400,
            ),
            (
                replace("Upgrade: websocket", "Upgrade: h2c"),
                |e| matches!(e, HandshakeError::MissingUpgrade),
                426,
            ),
            (
                replace("Connection: Upgrade", "Connection: keep-alive"),
                |e| matches!(e, HandshakeError::MissingConnection),
                400,
            ),
            (
                replace("Version: 13", "Version: 8"),
                |e| matches!(e, HandshakeError::UnsupportedVersion),
                426,
            ),
            (
                replace("Sec-WebSocket-Version: 13\r\n", ""),
                |e| matches!(e, HandshakeError::UnsupportedVersion),
                426,
            ),
            (
                replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="),
                |e| matches!(e, HandshakeError::InvalidKey),
                400,
            ),
            (
                replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64!"),
                |e| matches!(e, HandshakeError::InvalidKey),
                400,
            ),
            (
                replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
                |e| matches!(e, HandshakeError::InvalidKey),
                400,
            ),
            (
                replace("Origin", "Sec-WebSocket-Extensions: ;;\r\nOrigin"),
                |e| matches!(e, HandshakeError::InvalidExtensionHeader(_)),
                400,
            ),
            (
                replace("GET /chat HTTP/1.1", "GET /chat HTTP/1.1 x"),
                |e| matches!(e, HandshakeError::MalformedHttp(_)),
                400,
            ),
        ];
        for (text, is_expected, status) in cases {
            let err = parse(&text).unwrap_err();
            assert!(is_expected(&err), "{text:?} gave {err:?}");
            assert_eq!(err.http_status(), status, "{err:?}");
        }
    }

    // RFC 6455 4.2.1: the key "when decoded, is 16 bytes in length". Keys of 24
    // characters that decode to 17 or 18 bytes, or not at all, and 16 bytes without
    // their padding (22 characters) are refused; whitespace around the key is not part
    // of it.
    #[test]
    fn the_key_is_16_bytes_in_padded_base64() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let with = |k: &str| parse(&replace(key, k));
        let request = with(&format!(" {key}\t")).unwrap().unwrap();
        assert_eq!(request.key(), key);
        let accept = request.accept().to_bytes().unwrap();
        let accept = String::from_utf8(accept).unwrap();
        assert!(accept.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        for bad in [
            "dGhlIHNhbXBsZSBub25jZXg=", // 17 bytes
            "dGhlIHNhbXBsZSBub25jZXh4", // 18 bytes
            "dGhlIHNhbXBsZSBub25jZQ",   // 16 bytes, unpadded
            "dGhlIHNhbXBsZSBub25jZQ===",
            "dGhlIHNhbXBsZSBub25jZQ=!",
            "dGhlIHNhbXBsZSBub25j\u{e9}Q=", // 24 bytes, not base64
        ] {
            assert!(
                matches!(with(bad), Err(HandshakeError::InvalidKey)),
                "{bad:?} was taken"
            );
        }
    }

    // RFC 6455 4.2.1 (and RFC 9112 3.2 for Host): Host, Sec-WebSocket-Key and
    // Sec-WebSocket-Version are sent once; a request that repeats one, with the same
    // value or another, is malformed: 400 Bad Request (RFC 9110 5.3, none is a list),
    // not the 426 of a version we do not speak.
    #[test]
    fn fields_sent_twice_are_refused() {
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        let version = "Sec-WebSocket-Version: 13\r\n";
        let host = "Host: server.example.com\r\n";
        let cases: Vec<(String, IsExpected, u16)> = vec![
            (
                replace(key, &format!("{key}{key}")),
                |e| matches!(e, HandshakeError::InvalidKey),
                400,
            ),
            (
                replace(
                    key,
                    &format!("{key}sec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"),
                ),
                |e| matches!(e, HandshakeError::InvalidKey),
                400,
            ),
            (
                replace(version, &format!("{version}{version}")),
                |e| matches!(e, HandshakeError::RepeatedVersion),
                400,
            ),
            (
                replace(version, &format!("{version}sec-websocket-version: 8\r\n")),
                |e| matches!(e, HandshakeError::RepeatedVersion),
                400,
            ),
            (
                replace(version, &format!("Sec-WebSocket-Version: 8\r\n{version}")),
                |e| matches!(e, HandshakeError::RepeatedVersion),
                400,
            ),
            (
                replace(host, &format!("{host}HOST: server.example.com\r\n")),
                |e| matches!(e, HandshakeError::MissingHost),
                400,
            ),
        ];
        for (text, is_expected, status) in cases {
            let err = parse(&text).unwrap_err();
            assert!(is_expected(&err), "{text:?} gave {err:?}");
            assert_eq!(err.http_status(), status, "{err:?}");
        }
    }

    // RFC 9110 15.5.22: a plain HTTP request (a browser's address bar, curl) gets 426
    // with an Upgrade field naming websocket, and a body a person can act on.
    #[test]
    fn a_plain_http_request_gets_426_saying_how_to_connect() {
        let browser = "GET / HTTP/1.1\r\nHost: localhost:8080\r\nAccept: text/html\r\n\r\n";
        let err = parse(browser).unwrap_err();
        assert!(matches!(err, HandshakeError::MissingUpgrade), "{err:?}");
        assert_eq!(err.http_status(), 426);
        let answer = String::from_utf8(Reject::for_error(&err).to_bytes().unwrap()).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nUpgrade: websocket\r\n"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        assert!(body.contains("needs a WebSocket client"), "{body}");
        assert!(body.contains("ws://HOST:PORT/PATH"), "{body}");
    }

    // RFC 9112 3 / RFC 9110 5.6.2: the method is a token, so its first byte decides.
    #[test]
    fn a_tls_client_hello_is_refused_from_its_first_byte() {
        let mut parser = RequestParser::new();
        let mut input = RecvBuffer::new();
        input.extend_from_slice(&[0x16, 0x03, 0x01, 0x02, 0x00]);
        let err = parser.parse(&mut input).unwrap_err();
        assert!(
            matches!(err, HandshakeError::MalformedHttp(httparse::Error::Token)),
            "{err:?}"
        );
        assert_eq!(err.http_status(), 400);
        // A partial request that starts well still waits for the rest.
        let mut parser = RequestParser::new();
        let mut input = RecvBuffer::new();
        input.extend_from_slice(b"\r\nGET / HTTP/1.1\r\nHo");
        assert!(parser.parse(&mut input).unwrap().is_none());
    }

    #[test]
    fn limits_give_431() {
        let huge = replace("Origin", &format!("X-Pad: {}\r\nOrigin", "a".repeat(9000)));
        let err = parse(&huge).unwrap_err();
        assert!(matches!(err, HandshakeError::HeadTooLarge { max: 8192 }));
        assert_eq!(err.http_status(), 431);

        let many: String = (0..70).map(|i| format!("X-{i}: v\r\n")).collect();
        let err = parse(&replace("Origin", &format!("{many}Origin"))).unwrap_err();
        assert!(matches!(err, HandshakeError::TooManyHeaders));
        assert_eq!(err.http_status(), 431);
    }

    // ----- RFC 9112 3.2: the request target -----

    /// The request of issue 11: an absolute-form target sent through a proxy.
    const THROUGH_PROXY: &str = "GET ws://example.com/chat?room=1 HTTP/1.1\r\n\
        Host: proxy.internal:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn absolute_form_target_is_normalised_and_its_authority_replaces_host() {
        // RFC 9112 3.2.2: "A server MUST accept the absolute-form", and the target's
        // host information replaces the Host header field.
        let req = parse(THROUGH_PROXY).unwrap().unwrap();
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.query(), Some("room=1"));
        assert_eq!(req.host(), "example.com");
        assert_eq!(req.resource(), "/chat?room=1");
        assert_eq!(req.target(), "ws://example.com/chat?room=1");
        assert_eq!(req.header("host"), Some("proxy.internal:8080"));
        for scheme in ["wss", "http", "https"] {
            let text = THROUGH_PROXY.replace("ws://", &format!("{scheme}://"));
            let req = parse(&text).unwrap().unwrap();
            assert_eq!(
                (req.path(), req.query(), req.host()),
                ("/chat", Some("room=1"), "example.com")
            );
        }
    }

    #[test]
    fn origin_form_target_keeps_the_host_header() {
        // RFC 9112 3.2.1.
        let req = parse(&replace("GET /chat", "GET /chat?room=1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (req.path(), req.query(), req.host()),
            ("/chat", Some("room=1"), "server.example.com")
        );
        assert_eq!(req.target(), "/chat?room=1");
    }

    #[test]
    fn authority_and_asterisk_forms_are_refused_with_400() {
        // RFC 9112 3.2.3: the authority form is for CONNECT; 3.2.4: `*` for OPTIONS.
        for (target, rule) in [
            ("example.com:443", "RFC 9112 3.2.3"),
            ("*", "RFC 9112 3.2.4"),
        ] {
            let err = parse(&replace("GET /chat ", &format!("GET {target} "))).unwrap_err();
            assert!(
                matches!(&err, HandshakeError::InvalidTarget { target: t, .. } if t == target),
                "{err:?}"
            );
            assert_eq!(err.http_status(), 400);
            assert!(err.to_string().contains(rule), "{err}");
            let answer = String::from_utf8(Reject::for_error(&err).to_bytes().unwrap()).unwrap();
            assert!(
                answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
                "{answer}"
            );
        }
    }

    // ----- RFC 9112 2.2: bare LF line ends -----

    #[test]
    fn a_request_with_bare_lf_line_ends_is_read_at_every_split() {
        // "a recipient MAY recognize a single LF as a line terminator and ignore any
        // preceding CR"; httparse does, so the request parser does.
        let text = THROUGH_PROXY.replace("\r\n", "\n");
        let mut bytes = text.clone().into_bytes();
        bytes.extend_from_slice(&[0x81, 0x80]);
        for cut in 0..=bytes.len() {
            let mut input = RecvBuffer::new();
            let mut parser = RequestParser::new();
            input.extend_from_slice(&bytes[..cut]);
            let mut request = parser.parse(&mut input).unwrap();
            input.extend_from_slice(&bytes[cut..]);
            if request.is_none() {
                request = parser.parse(&mut input).unwrap();
            }
            let req = request.unwrap_or_else(|| panic!("no request with a cut at {cut}"));
            assert_eq!((req.path(), req.host()), ("/chat", "example.com"));
            assert_eq!(input.data(), &[0x81, 0x80], "cut at {cut}");
        }
    }

    #[test]
    fn header_slots_are_bounded_by_the_head_size() {
        let mut limits = Limits::default();
        assert_eq!(limits.header_slots(), 64);
        limits.max_headers = usize::MAX;
        assert_eq!(limits.header_slots(), 8 * 1024 / 3 + 1);
        // The most fields a block of 8 KiB can hold still parse.
        let mut request = b"GET / HTTP/1.1\n".to_vec();
        while request.len() + "a:\n".len() < 8 * 1024 {
            request.extend_from_slice(b"a:\n");
        }
        request.push(b'\n');
        let mut input = RecvBuffer::new();
        input.extend_from_slice(&request);
        let err = RequestParser::with_limits(limits)
            .parse(&mut input)
            .unwrap_err();
        assert!(matches!(err, HandshakeError::MissingHost), "{err:?}");
    }

    #[test]
    fn byte_by_byte_arrival_keeps_trailing_bytes() {
        let mut input = RecvBuffer::new();
        let mut parser = RequestParser::new();
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80]);
        let mut request = None;
        for &b in &bytes {
            input.extend_from_slice(&[b]);
            if request.is_none() {
                request = parser.parse(&mut input).unwrap();
            }
        }
        assert!(request.is_some());
        assert_eq!(input.data(), &[0x81, 0x80]);
    }

    #[test]
    fn accessors_for_cookies_query_and_headers() {
        let text = replace("GET /chat", "GET /chat?a=1&b=2").replace(
            "Origin",
            "Cookie: sid=abc; theme=\"dark\"\r\nCookie: x=1\r\nX-Custom: yes\r\nOrigin",
        );
        let req = parse(&text).unwrap().unwrap();
        assert_eq!(req.query(), Some("a=1&b=2"));
        assert_eq!(req.resource(), "/chat?a=1&b=2");
        assert_eq!(
            req.cookies().collect::<Vec<_>>(),
            [("sid", "abc"), ("theme", "dark"), ("x", "1")]
        );
        assert_eq!(req.cookie("theme"), Some("dark"));
        assert_eq!(req.header("x-custom"), Some("yes"));
        assert_eq!(req.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn accept_refuses_what_was_not_offered() {
        let req = parse(GOOD).unwrap().unwrap();
        assert!(matches!(
            req.accept().protocol("other").to_bytes(),
            Err(LocalError::UnofferedProtocol(_))
        ));
        assert!(matches!(
            req.accept()
                .extension(Extension::new("permessage-deflate"))
                .to_bytes(),
            Err(LocalError::UnofferedExtension(_))
        ));
        assert!(matches!(
            req.accept().header("X", "a\nb").to_bytes(),
            Err(LocalError::InvalidHeader(_))
        ));
    }

    #[test]
    fn rejections_carry_status_headers_and_body() {
        let text = String::from_utf8(Reject::upgrade_required().to_bytes().unwrap()).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(text.contains("\r\nContent-Length: 0\r\n"));
        let text = String::from_utf8(
            Reject::for_error(&HandshakeError::MethodNotGet("PUT".into()))
                .to_bytes()
                .unwrap(),
        )
        .unwrap();
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("\r\nAllow: GET\r\n"));
        assert!(text.ends_with("request method \"PUT\" is not GET"));
        assert_eq!(Reject::new(200).status(), 500);
    }

    // ----- RFC 6455 4.2.2 and RFC 7692 5.1: the accepted answer yields the session -----

    #[test]
    fn finish_yields_a_server_session_with_the_config() {
        let req = parse(GOOD).unwrap().unwrap();
        let config = Config {
            max_message_size: 10,
            ..Config::default()
        };
        let (answer, session) = req.accept().config(config).finish().unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
        assert_eq!(session.role(), Role::Server);
        assert_eq!(session.config().max_message_size, 10);
        assert!(!session.is_compressing());
    }

    #[test]
    fn deflate_is_agreed_only_when_offered() {
        let offered = replace(
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        );
        let req = parse(&offered).unwrap().unwrap();
        let accept = req.accept().deflate(&DeflateConfig::default());
        assert!(accept.is_compressing());
        let (answer, session) = accept.finish().unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"),
            "{answer}"
        );
        assert!(session.is_compressing());

        // RFC 7692 5.1: without an offer the answer goes without it, and so does the session.
        let req = parse(GOOD).unwrap().unwrap();
        let (answer, session) = req
            .accept()
            .deflate(&DeflateConfig::default())
            .finish()
            .unwrap();
        assert!(
            !String::from_utf8(answer)
                .unwrap()
                .contains("Sec-WebSocket-Extensions")
        );
        assert!(!session.is_compressing());
    }

    // ----- RFC 9112 2.2 and Limits: a request read whole (httparse at once) or in
    // pieces (scanned for its end first) gets the same answer -----

    /// What a parse gave, in a form that compares: the request's fields and the bytes
    /// left, or the error, or that more bytes are needed.
    fn outcome(result: Result<Option<Request>, HandshakeError>, input: &RecvBuffer) -> String {
        match result {
            Ok(Some(r)) => format!(
                "{} {} {} {:?} {:?} {:?} {:?} {:?}",
                r.target(),
                r.host(),
                r.key(),
                r.protocols(),
                r.extensions(),
                r.origin(),
                r.headers(),
                input.data()
            ),
            Ok(None) => "partial".to_owned(),
            Err(err) => format!("{err:?}"),
        }
    }

    /// Feeds `bytes` in pieces that end at `cuts` (then the rest), stopping at the first
    /// answer; the bytes not fed by then are added behind what the parse left.
    fn parse_in_pieces(bytes: &[u8], cuts: &[usize], limits: Limits) -> String {
        let mut parser = RequestParser::with_limits(limits);
        let mut input = RecvBuffer::new();
        let mut at = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            let cut = cut.clamp(at, bytes.len());
            input.extend_from_slice(&bytes[at..cut]);
            at = cut;
            match parser.parse(&mut input) {
                Ok(None) if at < bytes.len() => {}
                result => {
                    // What follows the head, as it would all be there.
                    input.extend_from_slice(&bytes[at..]);
                    return outcome(result, &input);
                }
            }
        }
        unreachable!("the last piece ends the input")
    }

    fn request_line() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just("GET /chat HTTP/1.1".to_owned()),
            1 => Just("GET ws://example.com/a?b HTTP/1.1".to_owned()),
            1 => Just("POST / HTTP/1.1".to_owned()),
            1 => Just("GET / HTTP/1.0".to_owned()),
            // Starting with a method's first byte: one that cannot start a method is
            // refused as soon as it arrives, before the head's size is known, so a
            // whole head past the limit is refused for its size instead.
            1 => "[A-Z][ -~]{0,19}",
        ]
    }

    fn field_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Host: example.com".to_owned()),
            Just("host:".to_owned()),
            Just("Upgrade: websocket".to_owned()),
            Just("upgrade: h2c, WebSocket".to_owned()),
            Just("Connection: Upgrade".to_owned()),
            Just("connection: keep-alive, upgrade".to_owned()),
            Just("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
            Just("Sec-WebSocket-Key: dGhlIHNhbXBsZQ==".to_owned()),
            Just("Sec-WebSocket-Version: 13".to_owned()),
            Just("sec-websocket-version: 8".to_owned()),
            Just("Sec-WebSocket-Protocol: chat, superchat".to_owned()),
            Just("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits".to_owned()),
            Just("Sec-WebSocket-Extensions: ;;".to_owned()),
            Just("Origin: http://example.com".to_owned()),
            "[A-Za-z-]{1,10}: [ -~]{0,12}",
            "[ -~\r]{0,16}",
        ]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config())]

        #[test]
        fn whole_and_in_pieces_agree(
            leading_empty in any::<bool>(),
            start in request_line(),
            fields in proptest::collection::vec(field_line(), 0..12),
            crlf in proptest::collection::vec(any::<bool>(), 14),
            end in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..6),
            cuts in proptest::collection::vec(0..400usize, 0..4),
            small in any::<bool>(),
        ) {
            let eol = |i: usize| if crlf[i % crlf.len()] { "\r\n" } else { "\n" };
            let mut text = if leading_empty { "\r\n".to_owned() } else { String::new() };
            text += &start;
            text += eol(0);
            for (i, field) in fields.iter().enumerate() {
                text += field;
                text += eol(i + 1);
            }
            if end {
                text += eol(13);
            }
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(&tail);
            // Small limits, so that some heads pass them.
            let limits = if small {
                Limits { max_head_size: 128, max_headers: 4 }
            } else {
                Limits::default()
            };
            let whole = parse_in_pieces(&bytes, &[], limits);
            let mut sorted = cuts.clone();
            sorted.sort_unstable();
            prop_assert_eq!(&whole, &parse_in_pieces(&bytes, &sorted, limits));
            let bytewise: Vec<usize> = (1..bytes.len()).collect();
            prop_assert_eq!(&whole, &parse_in_pieces(&bytes, &bytewise, limits));
        }
    }
}

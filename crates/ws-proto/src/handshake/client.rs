//! The client side of the opening handshake: the request (RFC 6455 4.1) and the checks
//! on the server's answer (4.2.2 and 4.1, "the client MUST validate the server's
//! response").

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::error::HandshakeError;
use super::extension::{Extension, parse_extensions};
use super::head::ResponseHeadParser;
use super::headers::{Headers, is_token, write_field};
use super::{Limits, VERSION, accept_key};
use crate::buffer::RecvBuffer;
use crate::config::Config;
use crate::deflate::DeflateConfig;
use crate::local_error::LocalError;
use crate::random;
use crate::role::Role;
use crate::session::Session;

/// What a client asks for; [`build`](Self::build) turns it into request bytes and the
/// [`ClientHandshake`] that checks the answer.
///
/// ```
/// use ws_proto::{RecvBuffer, handshake::{ClientRequest, accept_key}};
/// let (mut handshake, request) = ClientRequest::new("example.com", "/chat")
///     .port(8080)
///     .origin("http://example.com")
///     .protocol("chat")
///     .build()?;
/// let text = String::from_utf8(request).unwrap();
/// assert!(text.starts_with("GET /chat HTTP/1.1\r\nHost: example.com:8080\r\n"));
///
/// // A server's answer, as it would compute it from our key.
/// let key = text.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap();
/// let answer = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
///     accept_key(key.as_bytes()));
/// let mut input = RecvBuffer::new();
/// input.extend_from_slice(answer.as_bytes());
/// let (response, session) = handshake.parse(&mut input)?.expect("complete");
/// assert_eq!(response.protocol(), Some("chat"));
/// assert!(!session.is_compressing());
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientRequest {
    host: String,
    port: Option<u16>,
    secure: bool,
    resource: String,
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
    headers: Vec<(String, String)>,
    limits: Limits,
    config: Config,
    deflate: Option<DeflateConfig>,
}

impl ClientRequest {
    /// A request for `resource` (path and query, such as `/chat?room=1`) on `host` (a name
    /// or an IP address; IPv6 addresses with or without brackets).
    pub fn new(host: &str, resource: &str) -> ClientRequest {
        ClientRequest {
            host: host.to_owned(),
            port: None,
            secure: false,
            resource: if resource.is_empty() {
                "/".to_owned()
            } else {
                resource.to_owned()
            },
            origin: None,
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
            limits: Limits::default(),
            config: Config::default(),
            deflate: None,
        }
    }

    /// Replaces the host and resource given to [`new`](Self::new): for a request whose
    /// options are set before its URL is known (a client builder's).
    pub fn target(mut self, host: &str, resource: &str) -> Self {
        let ClientRequest {
            host: new_host,
            resource: new_resource,
            ..
        } = ClientRequest::new(host, resource);
        self.host = new_host;
        self.resource = new_resource;
        self
    }

    /// The port; it appears in `Host` unless it is the scheme's default (80, or 443 when
    /// [`secure`](Self::secure)).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Whether the connection is `wss://` (it only changes the default port).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sends an `Origin` header, as browsers do.
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_owned());
        self
    }

    /// Offers a subprotocol; call once per protocol, most preferred first.
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocols.push(protocol.to_owned());
        self
    }

    /// Offers an extension.
    pub fn extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds a header field, such as `Authorization`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Limits on the size of the server's answer.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The settings of the session the handshake yields. Default [`Config::default`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Offers permessage-deflate (RFC 7692) as `deflate` describes; the server's answer
    /// is checked against the offer ([`DeflateConfig::check_answer`]) and, if the server
    /// agreed, the session the handshake yields compresses. Default: not offered.
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.deflate = Some(deflate);
        self
    }

    /// Offers permessage-deflate as `deflate` describes, or (`None`) does not: the same
    /// as [`deflate`](Self::deflate), and a way to take an offer back.
    pub fn deflate_offer(mut self, deflate: Option<DeflateConfig>) -> Self {
        self.deflate = deflate;
        self
    }

    /// The settings of the session the handshake will yield (set with
    /// [`config`](Self::config)).
    pub fn session_config(&self) -> &Config {
        &self.config
    }

    /// The `Host` header value: IPv6 literals bracketed, the port only when not default.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.secure { 443 } else { 80 };
        match self.port {
            Some(port) if port != default_port => format!("{host}:{port}"),
            _ => host,
        }
    }

    /// Draws a fresh key and returns the handshake state and the request bytes to send.
    ///
    /// # Errors
    ///
    /// [`LocalError::InvalidHeader`] for a target, subprotocol or header that cannot be
    /// written; [`LocalError::Random`] if the secure random generator fails.
    pub fn build(self) -> Result<(ClientHandshake, Vec<u8>), LocalError> {
        let target_ok =
            self.resource.starts_with('/') && self.resource.bytes().all(|b| b.is_ascii_graphic());
        if !target_ok {
            return Err(LocalError::InvalidHeader(format!(
                "request target {:?}",
                self.resource
            )));
        }
        if let Some(bad) = self.protocols.iter().find(|p| !is_token(p)) {
            return Err(LocalError::InvalidHeader(format!(
                "Sec-WebSocket-Protocol {bad:?}"
            )));
        }
        let mut nonce = [0u8; 16];
        random::fill(&mut nonce)?;
        let key = BASE64.encode(nonce);

        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.resource.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_field(&mut out, "Host", &self.host_header())?;
        out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        write_field(&mut out, "Sec-WebSocket-Key", &key)?;
        write_field(&mut out, "Sec-WebSocket-Version", VERSION)?;
        if let Some(origin) = &self.origin {
            write_field(&mut out, "Origin", origin)?;
        }
        if !self.protocols.is_empty() {
            write_field(
                &mut out,
                "Sec-WebSocket-Protocol",
                &self.protocols.join(", "),
            )?;
        }
        let mut extensions = self.extensions;
        if let Some(deflate) = &self.deflate {
            extensions.push(deflate.offer());
        }
        if !extensions.is_empty() {
            let offers: Vec<String> = extensions.iter().map(ToString::to_string).collect();
            write_field(&mut out, "Sec-WebSocket-Extensions", &offers.join(", "))?;
        }
        for (name, value) in &self.headers {
            write_field(&mut out, name, value)?;
        }
        out.extend_from_slice(b"\r\n");

        let handshake = ClientHandshake {
            expected_accept: accept_key(key.as_bytes()),
            protocols: self.protocols,
            extensions: extensions.into_iter().map(|e| e.name).collect(),
            head: ResponseHeadParser::new(self.limits),
            config: self.config,
            deflate: self.deflate,
        };
        Ok((handshake, out))
    }
}

/// Checks the server's answer to a request built by [`ClientRequest::build`].
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    expected_accept: String,
    protocols: Vec<String>,
    /// Names of the extensions offered.
    extensions: Vec<String>,
    head: ResponseHeadParser,
    config: Config,
    /// permessage-deflate as offered, to check the answer against.
    deflate: Option<DeflateConfig>,
}

impl ClientHandshake {
    /// Returns the checked answer and the session that follows it once the answer's
    /// header block is complete, and consumes the block from `input`; `Ok(None)` means
    /// more bytes are needed. Bytes after the block (the server's first frames) stay in
    /// `input` for the session.
    ///
    /// # Errors
    ///
    /// A non-101 answer is [`HandshakeError::Rejected`] with its status and headers; every
    /// failed check (RFC 6455 4.2.2, and RFC 7692 7.1 for permessage-deflate) has its own
    /// [`HandshakeError`].
    pub fn parse(
        &mut self,
        input: &mut RecvBuffer,
    ) -> Result<Option<(Response, Session)>, HandshakeError> {
        let Some(head) = self.head.parse(input)? else {
            return Ok(None);
        };
        if head.status != 101 {
            return Err(HandshakeError::Rejected(Box::new(head)));
        }
        let response = self.check(head.headers)?;
        let deflate = match &self.deflate {
            Some(deflate) => deflate.check_answer(&response.extensions)?,
            None => None,
        };
        let session = Session::new(Role::Client, self.config.clone(), deflate);
        Ok(Some((response, session)))
    }

    fn check(&self, headers: Headers) -> Result<Response, HandshakeError> {
        if !headers.has_token("upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !headers.has_token("connection", "upgrade") {
            return Err(HandshakeError::MissingConnection);
        }
        let accepts: Vec<&[u8]> = headers.get_all("sec-websocket-accept").collect();
        if accepts.len() != 1 || accepts[0].trim_ascii() != self.expected_accept.as_bytes() {
            return Err(HandshakeError::AcceptMismatch);
        }
        // RFC 6455 4.1: a protocol "that was not present in the client's handshake"
        // fails the connection; so does more than one.
        let chosen: Vec<&str> = headers.tokens("sec-websocket-protocol").collect();
        let protocol = match chosen.as_slice() {
            [] => None,
            [one] if self.protocols.iter().any(|p| p == one) => Some((*one).to_owned()),
            _ => return Err(HandshakeError::UnofferedProtocol(chosen.join(", "))),
        };
        let mut extensions = Vec::new();
        for value in headers.get_all("sec-websocket-extensions") {
            let value = std::str::from_utf8(value).map_err(|_| {
                HandshakeError::InvalidExtensionHeader(String::from_utf8_lossy(value).into())
            })?;
            for extension in parse_extensions(value)? {
                // RFC 6455 4.1: an extension "not present in the client's handshake"
                // fails the connection.
                if !self.extensions.contains(&extension.name) {
                    return Err(HandshakeError::UnofferedExtension(extension.name));
                }
                extensions.push(extension);
            }
        }
        Ok(Response {
            headers,
            protocol,
            extensions,
        })
    }
}

/// A server's accepted (101) answer, checked.
#[derive(Clone, Debug)]
pub struct Response {
    headers: Headers,
    protocol: Option<String>,
    extensions: Vec<Extension>,
}

impl Response {
    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions the server agreed to, with their parameters.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Every header field of the answer.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> (ClientHandshake, String) {
        let (handshake, bytes) = ClientRequest::new("example.com", "/ws?x=1")
            .protocol("chat")
            .protocol("superchat")
            .extension(Extension::new("permessage-deflate").param("client_max_window_bits", None))
            .header("Authorization", "Bearer t")
            .build()
            .unwrap();
        (handshake, String::from_utf8(bytes).unwrap())
    }

    fn key_of(request: &str) -> &str {
        request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
    }

    fn answer(request: &str, extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            accept_key(key_of(request).as_bytes())
        )
    }

    fn parse(
        handshake: &mut ClientHandshake,
        text: &str,
    ) -> Result<Option<Response>, HandshakeError> {
        let mut input = RecvBuffer::new();
        input.extend_from_slice(text.as_bytes());
        Ok(handshake.parse(&mut input)?.map(|(response, _)| response))
    }

    #[test]
    fn request_has_every_required_field() {
        let (_, text) = request();
        assert!(text.starts_with("GET /ws?x=1 HTTP/1.1\r\nHost: example.com\r\n"));
        for field in [
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Protocol: chat, superchat\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
            "Authorization: Bearer t\r\n",
        ] {
            assert!(text.contains(field), "missing {field:?} in {text}");
        }
        assert!(text.ends_with("\r\n\r\n"));
        assert_eq!(BASE64.decode(key_of(&text)).unwrap().len(), 16);
    }

    #[test]
    fn keys_are_fresh() {
        let (_, a) = request();
        let (_, b) = request();
        assert_ne!(key_of(&a), key_of(&b));
    }

    #[test]
    fn host_header_port_and_ipv6() {
        let host = |r: ClientRequest| r.host_header();
        assert_eq!(host(ClientRequest::new("h", "/").port(80)), "h");
        assert_eq!(host(ClientRequest::new("h", "/").port(443)), "h:443");
        assert_eq!(
            host(ClientRequest::new("h", "/").port(443).secure(true)),
            "h"
        );
        assert_eq!(
            host(ClientRequest::new("::1", "/").port(9001)),
            "[::1]:9001"
        );
        assert_eq!(host(ClientRequest::new("[::1]", "/")), "[::1]");
    }

    #[test]
    fn accepted_answer_with_protocol_and_extension() {
        let (mut hs, text) = request();
        let ok = answer(
            &text,
            "Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        );
        let response = parse(&mut hs, &ok).unwrap().unwrap();
        assert_eq!(response.protocol(), Some("superchat"));
        assert_eq!(response.extensions()[0].name, "permessage-deflate");
    }

    type IsExpected = fn(&HandshakeError) -> bool;

    #[test]
    fn each_failure_has_its_own_error() {
        let (_, text) = request();
        let good = answer(&text, "");
        let cases: Vec<(String, IsExpected)> = vec![
            (good.replace("Upgrade: websocket\r\n", ""), |e| {
                matches!(e, HandshakeError::MissingUpgrade)
            }),
            (
                good.replace("Connection: Upgrade", "Connection: close"),
                |e| matches!(e, HandshakeError::MissingConnection),
            ),
            (
                good.replace("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x"),
                |e| matches!(e, HandshakeError::AcceptMismatch),
            ),
            (
                answer(&text, "Sec-WebSocket-Protocol: other\r\n"),
                |e| matches!(e, HandshakeError::UnofferedProtocol(p) if p == "other"),
            ),
            (
                answer(&text, "Sec-WebSocket-Protocol: chat, superchat\r\n"),
                |e| matches!(e, HandshakeError::UnofferedProtocol(_)),
            ),
            (
                answer(&text, "Sec-WebSocket-Extensions: x-custom\r\n"),
                |e| matches!(e, HandshakeError::UnofferedExtension(n) if n == "x-custom"),
            ),
            (
                answer(&text, "Sec-WebSocket-Extensions: permessage-deflate;\r\n"),
                |e| matches!(e, HandshakeError::InvalidExtensionHeader(_)),
            ),
        ];
        for (reply, is_expected) in cases {
            let (mut hs, _) = request();
            // Each case needs the handshake whose key produced `good`.
            hs.expected_accept = accept_key(key_of(&text).as_bytes());
            let err = parse(&mut hs, &reply).unwrap_err();
            assert!(is_expected(&err), "{reply:?} gave {err:?}");
        }
    }

    #[test]
    fn non_101_keeps_status_and_headers() {
        let (mut hs, _) = request();
        let mut input = RecvBuffer::new();
        input.extend_from_slice(
            b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 2\r\n\r\nhi",
        );
        match hs.parse(&mut input) {
            Err(HandshakeError::Rejected(rejection)) => {
                assert_eq!(rejection.status, 302);
                assert_eq!(rejection.reason, "Found");
                assert_eq!(rejection.headers.get("location"), Some("ws://elsewhere/"));
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(input.data(), b"hi", "the body stays for the caller");
    }

    #[test]
    fn trailing_frame_bytes_stay_in_the_buffer() {
        let (mut hs, text) = request();
        let mut input = RecvBuffer::new();
        input.extend_from_slice(answer(&text, "").as_bytes());
        input.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        assert!(hs.parse(&mut input).unwrap().is_some());
        assert_eq!(input.data(), &[0x81, 0x02, b'h', b'i']);
    }

    #[test]
    fn bad_request_parts_are_refused_before_sending() {
        assert!(ClientRequest::new("h", "no-slash").build().is_err());
        assert!(ClientRequest::new("h", "/a b").build().is_err());
        assert!(
            ClientRequest::new("h", "/")
                .protocol("two words")
                .build()
                .is_err()
        );
        assert!(
            ClientRequest::new("h", "/")
                .header("X", "a\r\nb")
                .build()
                .is_err()
        );
        assert!(ClientRequest::new("h", "/").origin("x\ny").build().is_err());
    }

    // ----- RFC 6455 4.2.2 and RFC 7692 7.1: the checked answer yields the session -----

    fn deflate_request() -> (ClientHandshake, String) {
        let config = Config {
            max_frame_size: 99,
            ..Config::default()
        };
        let (handshake, bytes) = ClientRequest::new("example.com", "/")
            .deflate(DeflateConfig::default())
            .config(config)
            .build()
            .unwrap();
        (handshake, String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn deflate_offer_is_sent_and_its_agreement_reaches_the_session() {
        let (mut hs, text) = deflate_request();
        assert!(text.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ));
        let reply = answer(&text, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let mut input = RecvBuffer::new();
        input.extend_from_slice(reply.as_bytes());
        let (_, session) = hs.parse(&mut input).unwrap().unwrap();
        assert_eq!(session.role(), Role::Client);
        assert_eq!(session.config().max_frame_size, 99);
        assert!(session.is_compressing());
    }

    #[test]
    fn declined_deflate_gives_a_plain_session() {
        let (mut hs, text) = deflate_request();
        let mut input = RecvBuffer::new();
        input.extend_from_slice(answer(&text, "").as_bytes());
        let (_, session) = hs.parse(&mut input).unwrap().unwrap();
        assert!(!session.is_compressing());
    }

    #[test]
    fn deflate_answer_outside_the_offer_fails_with_502() {
        let (mut hs, text) = deflate_request();
        // RFC 7692 7.1.2.2: a value the client did not allow fails the connection.
        let reply = answer(
            &text,
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n",
        );
        let mut input = RecvBuffer::new();
        input.extend_from_slice(reply.as_bytes());
        let err = hs.parse(&mut input).unwrap_err();
        assert!(
            matches!(err, HandshakeError::DeflateNegotiation(_)),
            "{err:?}"
        );
        assert_eq!(err.http_status(), 502);
    }
}

//! What a connection's `handshake` callback sees of the client's request, and decides.

use ws_proto::handshake::{Reject, Request};
use ws_proto::{Config, DeflateConfig, Session};

/// The client's upgrade request, and the server's answer in the making.
///
/// By default the upgrade is accepted with no subprotocol. The callback may choose one of
/// the offered subprotocols, add response headers, or refuse with an HTTP status:
///
/// ```no_run
/// # use ws_server_blocking::Server;
/// Server::builder().on_connect(|_server, conn| {
///     conn.on_handshake(|_conn, hs| {
///         if hs.request().origin() != Some("https://example.com") {
///             hs.refuse(403);
///         } else if hs.request().protocols().iter().any(|p| p == "chat.v2") {
///             hs.select_protocol("chat.v2");
///         }
///     });
/// });
/// ```
pub struct Handshake<'r> {
    request: &'r Request,
    protocol: Option<String>,
    headers: Vec<(String, String)>,
    refusal: Option<Reject>,
    deflate: Option<DeflateConfig>,
}

impl<'r> Handshake<'r> {
    pub(crate) fn new(request: &'r Request, deflate: Option<DeflateConfig>) -> Handshake<'r> {
        Handshake {
            request,
            protocol: None,
            headers: Vec::new(),
            refusal: None,
            deflate,
        }
    }

    /// The request: path, query, origin, offered subprotocols and extensions, cookies,
    /// any header. (Perl's `$handshake->req`.)
    pub fn request(&self) -> &'r Request {
        self.request
    }

    /// Chooses the subprotocol to answer with; it must be one the client offered, or
    /// the handshake fails with 500.
    pub fn select_protocol(&mut self, protocol: &str) {
        self.protocol = Some(protocol.to_owned());
    }

    /// The subprotocol chosen so far.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Adds a header to the 101 answer (for instance `Set-Cookie`).
    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// Refuses the upgrade with an HTTP status (such as 401, 403 or 404) and closes the
    /// connection.
    pub fn refuse(&mut self, status: u16) {
        self.refusal = Some(Reject::new(status));
    }

    /// Refuses the upgrade with a complete answer (status, headers, body).
    pub fn refuse_with(&mut self, reject: Reject) {
        self.refusal = Some(reject);
    }

    /// Whether the upgrade will be refused.
    pub fn is_refused(&self) -> bool {
        self.refusal.is_some()
    }

    /// Goes without compression on this connection even if the server accepts
    /// permessage-deflate ([`Builder::deflate`](crate::Builder::deflate)) and the client
    /// offered it.
    pub fn decline_deflate(&mut self) {
        self.deflate = None;
    }

    /// The answer to send: `Ok` with the 101's bytes and the session with `config` (and
    /// the compression agreed, if any), or `Err` with the refusal's bytes.
    pub(crate) fn answer(self, config: Config) -> Result<(Vec<u8>, Session), Vec<u8>> {
        if let Some(reject) = self.refusal {
            return Err(reject_bytes(&reject));
        }
        let mut accept = self.request.accept().config(config);
        if let Some(protocol) = &self.protocol {
            accept = accept.protocol(protocol);
        }
        if let Some(deflate) = &self.deflate {
            accept = accept.deflate(deflate);
        }
        for (name, value) in &self.headers {
            accept = accept.header(name, value);
        }
        accept.finish().map_err(|err| {
            log::error!("handshake answer cannot be built: {err}");
            reject_bytes(&Reject::new(500))
        })
    }
}

/// A refusal's bytes; a header the application added that cannot be written is dropped
/// in favour of a plain 500.
pub(crate) fn reject_bytes(reject: &Reject) -> Vec<u8> {
    reject.to_bytes().unwrap_or_else(|err| {
        log::error!("refusal cannot be built: {err}");
        b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            .to_vec()
    })
}

impl std::fmt::Debug for Handshake<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("request", &self.request)
            .field("protocol", &self.protocol)
            .field("refused", &self.refusal.as_ref().map(Reject::status))
            .field("deflate", &self.deflate)
            .finish_non_exhaustive()
    }
}

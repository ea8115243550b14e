//! What a client connection is to be, and what can be known of it before any I/O: the
//! settings of ws-client's and ws-tokio's `ClientBuilder`, kept once here so that both
//! read URLs, proxies, TLS and the handshake request the same way.

use std::time::Duration;

#[cfg(feature = "tls")]
use std::sync::Arc;

use ws_proto::LocalError;
use ws_proto::handshake::{ClientHandshake, ClientRequest};

#[cfg(feature = "tls")]
use crate::client_tls::{ClientTls, TlsConfigError};
use crate::tunnel::Tunnel;
use crate::url::{Url, UrlError};

/// The default of [`ClientOptions::connect_timeout`]: 30 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings both clients' builders hold.
#[non_exhaustive]
pub struct ClientOptions {
    /// The server's `ws://` or `wss://` URL, parsed by [`prepare`](Self::prepare).
    pub url: String,
    /// The handshake request's options (origin, subprotocols, headers, the deflate offer,
    /// answer limits, the session's [`Config`](ws_proto::Config)) as ws-proto's one value;
    /// its host, port and resource are the URL's, set by [`prepare`](Self::prepare).
    pub request: ClientRequest,
    /// An `http://` proxy to tunnel through with `CONNECT`. Default none.
    pub proxy: Option<String>,
    /// The limit on connecting as a whole (resolving, TCP, proxy, TLS, handshake).
    /// Default [`DEFAULT_CONNECT_TIMEOUT`]; `None` leaves each step to the system.
    pub connect_timeout: Option<Duration>,
    /// Whether to set `TCP_NODELAY`. Default on.
    pub nodelay: bool,
    /// Where TLS trust and identity come from, for `wss://`.
    #[cfg(feature = "tls")]
    pub tls: ClientTls,
}

impl ClientOptions {
    /// The defaults for `url`: permessage-deflate offered with
    /// [`DeflateConfig::default`](ws_proto::DeflateConfig), as browsers do.
    pub fn new(url: &str) -> ClientOptions {
        ClientOptions {
            url: url.to_owned(),
            request: ClientRequest::new("", "/").deflate(ws_proto::DeflateConfig::default()),
            proxy: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            nodelay: true,
            #[cfg(feature = "tls")]
            tls: ClientTls::default(),
        }
    }

    /// Checks everything that can be checked without the network, in this order: the
    /// URL, the proxy URL, the TLS configuration (for `wss://`, files read now), the
    /// handshake request (a fresh key drawn).
    ///
    /// # Errors
    ///
    /// [`PrepareError::Url`] for an unusable URL or proxy URL, and for `wss://` in a build
    /// without the `tls` feature; [`PrepareError::Tls`] for a TLS configuration that
    /// cannot be built; [`PrepareError::Request`] for a header or subprotocol that cannot
    /// be written, or a failed random generator.
    pub fn prepare(&self) -> Result<Plan, PrepareError> {
        let url = Url::parse(&self.url)?;
        let proxy = self.proxy.as_deref().map(Url::parse_proxy).transpose()?;
        #[cfg(feature = "tls")]
        let tls = match url.is_secure() {
            true => Some(self.tls.build()?),
            false => None,
        };
        #[cfg(not(feature = "tls"))]
        if url.is_secure() {
            return Err(UrlError::needs_tls(&self.url).into());
        }
        let (handshake, request) = self.request_for(&url)?;
        Ok(Plan {
            url,
            proxy,
            #[cfg(feature = "tls")]
            tls,
            handshake,
            request,
        })
    }
}

impl ClientOptions {
    /// [`prepare`](Self::prepare) for a client that may have been built without TLS
    /// while this crate has it (cargo unifies features across a build): with
    /// `tls_enabled` false, a `wss://` URL is refused as [`UrlError::needs_tls`] before
    /// anything else, and no TLS configuration is built.
    ///
    /// # Errors
    ///
    /// As [`prepare`](Self::prepare).
    pub fn prepare_for(&self, tls_enabled: bool) -> Result<Plan, PrepareError> {
        if !tls_enabled && Url::parse(&self.url)?.is_secure() {
            return Err(UrlError::needs_tls(&self.url).into());
        }
        self.prepare()
    }

    /// Only the handshake, for a transport the caller connected (and secured) itself:
    /// the URL gives `Host` and the request target; the proxy and TLS settings are not
    /// used, and `wss://` needs no `tls` feature. Returns the URL, the handshake state and
    /// the request bytes.
    ///
    /// # Errors
    ///
    /// [`PrepareError::Url`] for an unusable URL, [`PrepareError::Request`] for a request
    /// that cannot be written.
    pub fn prepare_handshake(&self) -> Result<(Url, ClientHandshake, Vec<u8>), PrepareError> {
        let url = Url::parse(&self.url)?;
        let (handshake, request) = self.request_for(&url)?;
        Ok((url, handshake, request))
    }

    /// The request for `url`, with a fresh key.
    fn request_for(&self, url: &Url) -> Result<(ClientHandshake, Vec<u8>), LocalError> {
        self.request
            .clone()
            .target(&url.host, &url.resource)
            .port(url.port)
            .secure(url.is_secure())
            .build()
    }
}

/// Header values, the proxy URL and the TLS identity are left out: they may hold
/// credentials.
impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.url)
            .field("proxy", &self.proxy.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("nodelay", &self.nodelay)
            .finish_non_exhaustive()
    }
}

impl Clone for ClientOptions {
    fn clone(&self) -> ClientOptions {
        ClientOptions {
            url: self.url.clone(),
            request: self.request.clone(),
            proxy: self.proxy.clone(),
            connect_timeout: self.connect_timeout,
            nodelay: self.nodelay,
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
        }
    }
}

/// Why [`ClientOptions::prepare`] failed (no connection was attempted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// The URL or the proxy URL cannot be used.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The TLS configuration cannot be built.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
    /// The handshake request cannot be written.
    #[error("handshake request: {0}")]
    Request(#[from] LocalError),
}

/// A connection checked and ready to open: the steps a client runs in turn are dial
/// ([`dial`](Self::dial)), tunnel ([`tunnel`](Self::tunnel)), secure ([`tls`](Self::tls)),
/// handshake ([`request`](Self::request), then [`handshake`](Self::handshake) on the
/// answer).
#[non_exhaustive]
pub struct Plan {
    /// The server's URL.
    pub url: Url,
    /// The proxy's URL, if there is one.
    pub proxy: Option<Url>,
    /// The TLS configuration, for `wss://`.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Checks the server's answer and yields the session.
    pub handshake: ClientHandshake,
    /// The handshake request's bytes.
    pub request: Vec<u8>,
}

/// The request bytes are left out: their headers may hold credentials.
impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Plan");
        out.field("url", &self.url)
            .field("proxy", &self.proxy.as_ref().map(Url::authority));
        #[cfg(feature = "tls")]
        out.field("tls", &self.tls.is_some());
        out.field("request_bytes", &self.request.len())
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// Where TCP connects: the proxy if there is one, else the server.
    pub fn dial(&self) -> &Url {
        self.proxy.as_ref().unwrap_or(&self.url)
    }

    /// The `CONNECT` to run over the TCP connection first, if there is a proxy: the
    /// tunnel's state and the request bytes.
    pub fn tunnel(&self) -> Option<(Tunnel, Vec<u8>)> {
        self.proxy
            .as_ref()
            .map(|proxy| Tunnel::request(proxy, &self.url))
    }

    /// The name TLS sends (SNI) and checks the certificate against: the URL's host.
    ///
    /// # Errors
    ///
    /// [`UrlError`] if the host cannot be a TLS server name.
    #[cfg(feature = "tls")]
    pub fn server_name(&self) -> Result<rustls::pki_types::ServerName<'static>, UrlError> {
        rustls::pki_types::ServerName::try_from(self.url.host.clone()).map_err(|_| UrlError {
            url: format!(
                "{}://{}{}",
                self.url.scheme,
                self.url.authority(),
                self.url.resource
            ),
            reason: "the host is not a valid TLS server name",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_checks_urls_before_any_io() {
        let plan = ClientOptions::new("ws://127.0.0.1:9001/chat")
            .prepare()
            .unwrap();
        assert_eq!(plan.dial().authority(), "127.0.0.1:9001");
        assert!(plan.tunnel().is_none());
        let text = String::from_utf8(plan.request).unwrap();
        assert!(
            text.starts_with("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Sec-WebSocket-Extensions: permessage-deflate"),
            "{text}"
        );
        assert!(matches!(
            ClientOptions::new("http://x/").prepare(),
            Err(PrepareError::Url(_))
        ));
        let mut options = ClientOptions::new("ws://h/");
        options.proxy = Some("socks5://p".into());
        assert!(matches!(options.prepare(), Err(PrepareError::Url(_))));
    }

    #[test]
    fn a_proxy_is_dialled_and_tunnelled_through() {
        let mut options = ClientOptions::new("ws://example.com/");
        options.proxy = Some("http://proxy.local:3128".into());
        let plan = options.prepare().unwrap();
        assert_eq!(plan.dial().authority(), "proxy.local:3128");
        let (_, request) = plan.tunnel().unwrap();
        assert!(request.starts_with(b"CONNECT example.com:80 HTTP/1.1\r\n"));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn wss_builds_the_tls_configuration() {
        let plan = ClientOptions::new("wss://example.com/").prepare().unwrap();
        assert!(plan.tls.is_some());
        assert!(plan.server_name().is_ok());
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn wss_without_the_tls_feature_is_a_clear_error() {
        match ClientOptions::new("wss://example.com/").prepare() {
            Err(PrepareError::Url(err)) => assert!(err.reason.contains("`tls` feature")),
            other => panic!("{other:?}"),
        }
    }
}

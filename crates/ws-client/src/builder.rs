//! Connecting: URL, TCP (every resolved address in turn), proxy tunnel, TLS, handshake.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use ws_proto::handshake::{ClientRequest, Limits};
use ws_proto::{Config, DeflateConfig, RecvBuffer, Role, Session};

use crate::client::Client;
use crate::conn::{Read, ReadSide, Shared};
use crate::error::Error;
use crate::proxy;
use crate::tls::TlsSettings;
use crate::url::Url;

/// Connects to a `ws://` or `wss://` URL with the default settings.
///
/// ```no_run
/// let mut client = ws_client::connect("wss://echo.example.com/")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
pub fn connect(url: &str) -> Result<Client, Error> {
    ClientBuilder::new(url).connect()
}

/// A connection being configured; [`connect`](Self::connect) opens it.
#[must_use = "a ClientBuilder does nothing until connect()"]
pub struct ClientBuilder {
    url: String,
    origin: Option<String>,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    nodelay: bool,
    config: Config,
    limits: Limits,
    tls: TlsSettings,
    proxy: Option<String>,
    deflate: Option<DeflateConfig>,
}

impl ClientBuilder {
    /// A connection to `url` (`ws://` or `wss://`, any port, path and query; IPv6
    /// addresses in brackets).
    pub fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            origin: None,
            protocols: Vec::new(),
            headers: Vec::new(),
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: None,
            write_timeout: None,
            nodelay: true,
            config: Config::default(),
            limits: Limits::default(),
            tls: TlsSettings::default(),
            proxy: None,
            deflate: Some(DeflateConfig::default()),
        }
    }

    /// Sends an `Origin` header, as a browser page would.
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_owned());
        self
    }

    /// Offers a subprotocol; call once per protocol, most preferred first. The chosen one
    /// is [`Client::protocol`].
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocols.push(protocol.to_owned());
        self
    }

    /// Adds a header to the handshake request (such as `Authorization`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The limit on connecting, and on each read of the handshake. Default 30 s; `None`
    /// leaves it to the operating system.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit on each read after the handshake. Default none: `recv` blocks until
    /// something arrives. When it passes, `recv` returns [`Error::Timeout`] and the
    /// connection stays usable.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The limit on each write. Default none. After a write times out the connection is
    /// in an unknown state and should be dropped.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Whether to set TCP_NODELAY. Default on: each message leaves at once.
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// The protocol settings (limits on frames and messages, automatic pongs, ...).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Delivers every data frame as a [`Message::Fragment`](crate::Message) instead of
    /// whole messages, for streaming large messages.
    pub fn deliver_fragments(mut self, on: bool) -> Self {
        self.config.deliver_fragments = on;
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these settings, or (`None`) does not.
    /// Default: offered with [`DeflateConfig::default`], as browsers do; the server
    /// decides, and [`Client::is_compressing`](crate::Client::is_compressing) tells.
    ///
    /// Compressing costs about 310 KiB for the compressor and 20 to 40 KiB for the
    /// decompressor, allocated when first needed and kept for the connection (freed after
    /// each message on a side without context takeover).
    ///
    /// ```no_run
    /// use ws_client::{ClientBuilder, DeflateConfig};
    /// let mut config = DeflateConfig::default();
    /// config.client_no_context_takeover = true; // keep our memory down
    /// let client = ClientBuilder::new("ws://127.0.0.1:8080/").deflate(Some(config)).connect()?;
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    pub fn deflate(mut self, config: Option<DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// Limits on the server's handshake answer.
    pub fn handshake_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Also trusts the CA certificates in a PEM file (for a private CA).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_files.push(path.into());
        self
    }

    /// Also trusts a CA certificate.
    pub fn ca_cert(mut self, cert: CertificateDer<'static>) -> Self {
        self.tls.ca_certs.push(cert);
        self
    }

    /// Whether to trust the web PKI roots (Mozilla's list). Default on.
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.tls.no_webpki_roots = !on;
        self
    }

    /// Presents a client certificate (chain and key in PEM files).
    pub fn client_cert_files(mut self, chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert_files = Some((chain.into(), key.into()));
        self
    }

    /// Presents a client certificate.
    pub fn client_cert(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.tls.client_cert = Some((chain, key));
        self
    }

    /// Uses a complete rustls configuration instead of the settings above.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// Connects through an HTTP proxy with `CONNECT`: `http://host:port`, with
    /// `user:password@` for basic authentication.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// Connects, runs the handshakes, and returns the open connection.
    pub fn connect(self) -> Result<Client, Error> {
        // Everything that can be checked without the network is checked first.
        let url = Url::parse(&self.url)?;
        let proxy = self.proxy.as_deref().map(Url::parse_proxy).transpose()?;
        let tls = if url.is_secure() {
            Some(self.tls.build()?)
        } else {
            None
        };
        let mut request = ClientRequest::new(&url.host, &url.resource)
            .port(url.port)
            .secure(url.is_secure())
            .limits(self.limits);
        if let Some(origin) = &self.origin {
            request = request.origin(origin);
        }
        for protocol in &self.protocols {
            request = request.protocol(protocol);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(deflate) = &self.deflate {
            request = request.extension(deflate.offer());
        }
        let (mut handshake, request) = request.build().map_err(Error::Handshake)?;

        let dial = proxy.as_ref().unwrap_or(&url);
        let (mut tcp, peer) = dial_tcp(dial, self.connect_timeout)?;
        tcp.set_nodelay(self.nodelay)?;
        tcp.set_read_timeout(self.connect_timeout)?;
        tcp.set_write_timeout(self.connect_timeout)?;
        let leftover = match &proxy {
            Some(proxy_url) => proxy::connect(&mut tcp, proxy_url, &url)?,
            None => RecvBuffer::new(),
        };
        let tls = match tls {
            Some(config) => {
                let name = ServerName::try_from(url.host.clone()).map_err(|_| Error::Url {
                    url: self.url.clone(),
                    reason: "the host is not a valid TLS server name",
                })?;
                Some(rustls::ClientConnection::new(config, name)?)
            }
            None => None,
        };
        let secure = tls.is_some();
        let shared = Shared::new(
            Session::new(Role::Client, self.config.clone()),
            tls,
            tcp.try_clone()?,
        );
        let mut side = ReadSide {
            shared,
            tcp,
            input: if secure {
                RecvBuffer::new()
            } else {
                leftover.clone()
            },
            early_records: if secure {
                leftover.data().to_vec()
            } else {
                Vec::new()
            },
            secure,
        };
        side.shared.send_raw(&request)?;
        let response = loop {
            if let Some(response) = handshake.parse(&mut side.input).map_err(Error::Handshake)? {
                break response;
            }
            if let Read::Eof = side.read_more()? {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the handshake",
                )));
            }
        };
        // RFC 7692 5: an answer that does not fit the offer fails the connection.
        if let Some(deflate) = &self.deflate {
            let agreed = deflate
                .check_answer(response.extensions())
                .map_err(Error::Handshake)?;
            if let Some(params) = agreed {
                side.shared.state().session =
                    Session::with_deflate(Role::Client, self.config, params);
            }
        }
        side.tcp.set_read_timeout(self.read_timeout)?;
        side.tcp.set_write_timeout(self.write_timeout)?;
        log::debug!("connected to {} ({peer})", self.url);
        Ok(Client::new(side, response, peer))
    }
}

/// Connects to the first address of `url`'s host that accepts.
fn dial_tcp(url: &Url, timeout: Option<Duration>) -> Result<(TcpStream, SocketAddr), Error> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in addrs {
        let attempt = match timeout {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(tcp) => return Ok((tcp, addr)),
            Err(err) => {
                log::debug!("{addr}: {err}");
                last = err;
            }
        }
    }
    Err(Error::Connect {
        addr: url.authority(),
        source: last,
    })
}

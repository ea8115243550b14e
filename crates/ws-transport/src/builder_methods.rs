//! The setters both clients' `ClientBuilder`s offer over their [`ClientOptions`], written
//! once: a builder is a struct with a field `options: ClientOptions` and invokes
//! [`client_builder_methods!`](crate::client_builder_methods) inside its `impl`.
//!
//! [`ClientOptions`]: crate::ClientOptions

/// Defines, inside `impl ClientBuilder { .. }` of a struct with a field
/// `options: ws_transport::ClientOptions`, the setters ws-client and ws-tokio share:
/// `origin`, `protocol`, `header`, `connect_timeout`, `nodelay`, `handshake_limits`,
/// `proxy`, and with the caller's `tls` feature `ca_file`, `ca_cert`, `webpki_roots`,
/// `client_cert_files`, `client_cert`, `tls_config`; plus a private
/// `request(self, change)` that edits the handshake request's options.
///
/// The arguments are doc text that differs by crate: where the chosen subprotocol is
/// read, and the error a passed connect timeout gives.
#[macro_export]
macro_rules! client_builder_methods {
    (protocol_getter = $protocol:literal, timeout_error = $timeout:literal $(,)?) => {
        /// Changes the handshake request's options (ws-proto's `ClientRequest`).
        fn request(
            mut self,
            change: impl FnOnce(
                $crate::ws_proto::handshake::ClientRequest,
            ) -> $crate::ws_proto::handshake::ClientRequest,
        ) -> Self {
            self.options.request = change(self.options.request);
            self
        }

        /// Sends an `Origin` header, as a browser page would.
        pub fn origin(self, origin: &str) -> Self {
            self.request(|r| r.origin(origin))
        }

        /// Offers a subprotocol; call once per protocol, most preferred first. The chosen
        #[doc = concat!("one is ", $protocol, ".")]
        pub fn protocol(self, protocol: &str) -> Self {
            self.request(|r| r.protocol(protocol))
        }

        /// Adds a header to the handshake request (such as `Authorization`).
        pub fn header(self, name: &str, value: &str) -> Self {
            self.request(|r| r.header(name, value))
        }

        /// The limit on connecting, as a whole: name resolution, TCP connect, the proxy's
        /// `CONNECT`, the TLS handshake and the WebSocket handshake must all be done
        #[doc = concat!("within it, or `connect` returns ", $timeout, ".")]
        /// Default 30 s; `None` leaves each step to the operating system (a silent
        /// server then holds the handshake for ever).
        pub fn connect_timeout(mut self, timeout: Option<::std::time::Duration>) -> Self {
            self.options.connect_timeout = timeout;
            self
        }

        /// Whether to set TCP_NODELAY. Default on: each message leaves at once.
        pub fn nodelay(mut self, nodelay: bool) -> Self {
            self.options.nodelay = nodelay;
            self
        }

        /// Limits on the server's handshake answer (bytes and header fields). Default
        /// `Limits::default()`.
        pub fn handshake_limits(self, limits: $crate::ws_proto::handshake::Limits) -> Self {
            self.request(|r| r.limits(limits))
        }

        /// Connects through an HTTP proxy with `CONNECT`: `http://host:port`, with
        /// `user:password@` (percent-encoded, as in any URL) for basic authentication.
        pub fn proxy(mut self, url: &str) -> Self {
            self.options.proxy = Some(url.to_owned());
            self
        }

        /// Also trusts the CA certificates in a PEM file (a private CA), read at
        /// `connect`.
        #[cfg(feature = "tls")]
        pub fn ca_file(mut self, path: impl Into<::std::path::PathBuf>) -> Self {
            self.options.tls.ca_files.push(path.into());
            self
        }

        /// Also trusts a CA certificate (a private CA).
        #[cfg(feature = "tls")]
        pub fn ca_cert(mut self, cert: $crate::rustls::pki_types::CertificateDer<'static>) -> Self {
            self.options.tls.ca_certs.push(cert);
            self
        }

        /// Whether to trust the default roots: the web PKI roots (Mozilla's list, from
        /// `webpki-roots`), the system's store with the `native-roots` feature, and the
        /// certificates in the PEM file named by the `SSL_CERT_FILE` environment variable
        /// if it is set (read at `connect`; a file that cannot be loaded fails it with
        /// `Error::Pem`). Default on; off trusts only `ca_file` and `ca_cert`.
        #[cfg(feature = "tls")]
        pub fn webpki_roots(mut self, on: bool) -> Self {
            self.options.tls.webpki_roots = on;
            self.options.tls.native_roots = on;
            self
        }

        /// Presents a client certificate: the chain (leaf first) and its key in PEM
        /// files, read at `connect`.
        #[cfg(feature = "tls")]
        pub fn client_cert_files(
            mut self,
            chain: impl Into<::std::path::PathBuf>,
            key: impl Into<::std::path::PathBuf>,
        ) -> Self {
            self.options.tls.client_cert_files = Some((chain.into(), key.into()));
            self
        }

        /// Presents a client certificate: the chain (leaf first) and its key.
        #[cfg(feature = "tls")]
        pub fn client_cert(
            mut self,
            chain: Vec<$crate::rustls::pki_types::CertificateDer<'static>>,
            key: $crate::rustls::pki_types::PrivateKeyDer<'static>,
        ) -> Self {
            self.options.tls.client_cert = Some((chain, key));
            self
        }

        /// Uses a complete rustls configuration instead of the TLS settings above.
        #[cfg(feature = "tls")]
        pub fn tls_config(
            mut self,
            config: ::std::sync::Arc<$crate::rustls::ClientConfig>,
        ) -> Self {
            self.options.tls.config = Some(config);
            self
        }
    };
}

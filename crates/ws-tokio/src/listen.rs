//! Settings given once to a listener that the sockets it accepts inherit.

use tokio::net::TcpListener;

/// Sets (or clears) `TCP_NODELAY` on `listener` so that the sockets it accepts start with
/// it, as Linux's accepted TCP sockets inherit their listener's options: one `setsockopt`
/// per listener instead of one per connection (a connect-heavy server's connections cost
/// one system call fewer each; ws-server does the same).
///
/// Returns whether accepted sockets inherit it: `true` on Linux once the listener took
/// the option; `false` on other systems (where inheriting it is not documented) or if
/// the listener refused it. On `false`, set each accepted socket as before, with
/// [`TcpStream::set_nodelay`](tokio::net::TcpStream::set_nodelay).
///
/// WebSocket messages are small writes that should leave at once: a server usually wants
/// `TCP_NODELAY` on (tokio leaves it off, the system's default).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let per_socket = !ws_tokio::inherit_nodelay(&listener, true);
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     if per_socket {
///         tcp.set_nodelay(true)?;
///     }
///     tokio::spawn(ws_tokio::accept(tcp));
/// }
/// # }
/// ```
pub fn inherit_nodelay(listener: &TcpListener, nodelay: bool) -> bool {
    cfg!(target_os = "linux")
        && socket2::SockRef::from(listener)
            .set_tcp_nodelay(nodelay)
            .is_ok()
}

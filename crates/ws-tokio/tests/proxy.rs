//! The client through an HTTP proxy's CONNECT tunnel (RFC 9110 9.3.6): a small real
//! proxy in the test, ws:// through it, credentials, and refusals.

mod common;

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_tokio::{Acceptor, ClientBuilder, Error, Message};

/// A CONNECT proxy that tunnels to whatever is asked, or refuses with 407 when the
/// credentials are not `expected`; records each request head.
async fn connect_proxy(
    expected: Option<&'static str>,
) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let (listener, addr) = common::listener().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                log.lock().expect("log").push(head.clone());
                if let Some(credentials) = expected {
                    use base64::Engine;
                    let want = format!(
                        "proxy-authorization: basic {}",
                        base64::engine::general_purpose::STANDARD.encode(credentials)
                    );
                    if !head
                        .to_ascii_lowercase()
                        .contains(&want.to_ascii_lowercase())
                    {
                        let _ = client
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                            .await;
                        return;
                    }
                }
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn ws_through_a_connect_proxy_with_credentials() {
    let server = common::echo_server(Acceptor::new()).await;
    let (proxy, seen) = connect_proxy(Some("user:secret")).await;
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{server}/through"))
            .proxy(&format!("http://user:secret@{proxy}"))
            .connect(),
    )
    .await
    .expect("connect through the proxy");
    common::check_echo(
        &mut ws,
        &[
            Message::text("tunnelled"),
            Message::binary(vec![1u8; 100_000]),
        ],
    )
    .await;
    let heads = seen.lock().expect("log").clone();
    assert_eq!(heads.len(), 1);
    assert!(
        heads[0].starts_with(&format!("CONNECT {server} HTTP/1.1\r\n")),
        "{}",
        heads[0]
    );
    common::close(ws).await;
}

// RFC 3986 3.2.1: userinfo is percent-encoded in the URL; the proxy gets the decoded
// credentials (`alice:p@ss/#`), not the URL's spelling of them.
#[tokio::test]
async fn proxy_credentials_are_percent_decoded() {
    let server = common::echo_server(Acceptor::new()).await;
    let (proxy, seen) = connect_proxy(Some("alice:p@ss/#")).await;
    let ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{server}/"))
            .proxy(&format!("http://alice:p%40ss%2F%23@{proxy}"))
            .connect(),
    )
    .await
    .expect("the proxy accepts the decoded credentials");
    assert_eq!(seen.lock().expect("log").len(), 1);
    common::close(ws).await;
}

// An error about a URL never shows its password.
#[tokio::test]
async fn url_errors_hide_the_password() {
    for proxy in [
        "https://alice:secret@127.0.0.1:3128",
        "http://alice:secret@[::1",
    ] {
        let outcome = ClientBuilder::new("ws://127.0.0.1:9/")
            .proxy(proxy)
            .connect()
            .await;
        let err = outcome.expect_err("refused");
        assert!(matches!(err, Error::Url { .. }), "{err:?}");
        let text = err.to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}

#[tokio::test]
async fn proxy_refusals_are_errors_with_their_status() {
    let server = common::echo_server(Acceptor::new()).await;
    let (proxy, _) = connect_proxy(Some("user:secret")).await;
    let refused = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{server}/"))
            .proxy(&format!("http://user:wrong@{proxy}"))
            .connect(),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::ProxyRefused { status: 407, .. })),
        "{refused:?}"
    );

    let bad = ClientBuilder::new(&format!("ws://{server}/"))
        .proxy("socks5://x:1")
        .connect()
        .await;
    assert!(matches!(bad, Err(Error::Url { .. })), "{bad:?}");
}

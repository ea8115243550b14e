//! The `http` feature: an upgrade checked from an `http::Request` (as hyper and axum
//! hand it over) and answered with an `http::Response` (RFC 6455 4.2.1 and 4.2.2).
#![cfg(feature = "http")]

mod common;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_tokio::{Acceptor, ClientBuilder, DeflateConfig, Error, Message, Reject};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(method: &str, version: http::Version, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("/ws?room=1")
        .version(version);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("request")
}

fn upgrade_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", "example.com"),
        ("upgrade", "websocket"),
        ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-key", KEY),
        ("sec-websocket-version", "13"),
    ]
}

#[test]
fn a_valid_upgrade_is_answered_101_with_the_rfc_accept_value() {
    let req = request("GET", http::Version::HTTP_11, &upgrade_headers());
    let (response, upgrade) = ws_tokio::upgrade(&req).expect("accepted");
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    // RFC 6455 1.3's example key and answer.
    assert_eq!(
        response.headers()["sec-websocket-accept"],
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(response.headers()["upgrade"], "websocket");
    assert!(upgrade.protocol().is_none());
    assert!(!response.headers().contains_key("sec-websocket-extensions"));
}

#[test]
fn invalid_upgrades_are_refused_with_their_status() {
    let without = |name: &str| -> Vec<(&'static str, &'static str)> {
        upgrade_headers()
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect()
    };
    let mut old_version = without("sec-websocket-version");
    old_version.push(("sec-websocket-version", "8"));
    let cases = [
        (
            request("POST", http::Version::HTTP_11, &upgrade_headers()),
            405,
        ),
        (
            request("GET", http::Version::HTTP_10, &upgrade_headers()),
            400,
        ),
        (
            // No Upgrade: websocket: a plain HTTP request (RFC 9110 15.5.22).
            request("GET", http::Version::HTTP_11, &without("upgrade")),
            426,
        ),
        (
            request("GET", http::Version::HTTP_11, &without("sec-websocket-key")),
            400,
        ),
        (request("GET", http::Version::HTTP_11, &old_version), 426),
    ];
    for (req, status) in cases {
        let refusal = ws_tokio::upgrade(&req).expect_err("refused");
        assert_eq!(refusal.status(), status, "{}", refusal.error());
        assert!(matches!(refusal.error(), Error::Protocol(_)));
        let response = refusal.into_response();
        assert_eq!(response.status().as_u16(), status);
    }
}

/// The upgrade headers with `name` replaced by `values` (several: the header repeated).
fn with(name: &str, values: &[&[u8]]) -> http::Request<()> {
    let mut request = request("GET", http::Version::HTTP_11, &[]);
    let headers = request.headers_mut();
    for (n, v) in upgrade_headers() {
        if n != name {
            headers.append(n, http::HeaderValue::from_static(v));
        }
    }
    let name = http::HeaderName::from_bytes(name.as_bytes()).expect("name");
    for value in values {
        headers.append(&name, http::HeaderValue::from_bytes(value).expect("value"));
    }
    request
}

// Headers that hyper hands over as they came: bytes that are not ASCII, a key repeated
// or of the wrong size (RFC 6455 4.2.1: "a |Sec-WebSocket-Key| header field with a
// base64-encoded value that, when decoded, is 16 bytes in length"), HTTP/2 and HTTP/3
// versions (RFC 8441's extended CONNECT is not supported). Each is refused with a 4xx
// and a `Protocol` error, never a panic; the list forms that RFC 9110 allows are
// accepted. (Subprotocol values that are not tokens, such as `a b` or `é`, reach the
// callback as they are, as Perl's Net::WebSocket::Server lets them: see
// `ws_proto::handshake::Request::protocols`.)
#[test]
fn odd_headers_from_http_are_refused_or_accepted_by_the_rfc() {
    let refused: Vec<(&str, http::Request<()>)> = vec![
        (
            "key not ASCII",
            with("sec-websocket-key", &[b"dGhlIHNhbXBsZSBub25jZQ\xff\xfe"]),
        ),
        (
            "key of 15 bytes",
            with("sec-websocket-key", &[b"AAAAAAAAAAAAAAAAAAAA"]),
        ),
        (
            "key not base64",
            with("sec-websocket-key", &[b"!!!!!!!!!!!!!!!!!!!!!!=="]),
        ),
        (
            "two keys",
            with(
                "sec-websocket-key",
                &[KEY.as_bytes(), b"AQIDBAUGBwgJCgsMDQ4PEA=="],
            ),
        ),
        ("empty key", with("sec-websocket-key", &[b""])),
        (
            "version not a number",
            with("sec-websocket-version", &[b"\xff"]),
        ),
        (
            "two versions",
            with("sec-websocket-version", &[b"13", b"8"]),
        ),
        ("upgrade to something else", with("upgrade", &[b"h2c"])),
        (
            "connection without upgrade",
            with("connection", &[b"keep-alive"]),
        ),
        ("no host", with("host", &[])),
        (
            "HTTP/2",
            request("GET", http::Version::HTTP_2, &upgrade_headers()),
        ),
        (
            "HTTP/3",
            request("GET", http::Version::HTTP_3, &upgrade_headers()),
        ),
    ];
    for (what, req) in refused {
        let refusal = ws_tokio::upgrade(&req).expect_err(what);
        let status = refusal.status();
        assert!(
            (400..500).contains(&status),
            "{what}: {status} {}",
            refusal.error()
        );
        assert!(matches!(refusal.error(), Error::Protocol(_)), "{what}");
        assert_eq!(refusal.into_response().status().as_u16(), status, "{what}");
    }
    let accepted: Vec<(&str, http::Request<()>)> = vec![
        // RFC 9110 7.8 and 7.6.1: lists, any case, spread over several lines.
        ("upgrade list", with("upgrade", &[b"h2c, WebSocket"])),
        (
            "connection in two lines",
            with("connection", &[b"keep-alive", b"upgrade"]),
        ),
        (
            "version with spaces",
            with("sec-websocket-version", &[b" 13 "]),
        ),
    ];
    for (what, req) in accepted {
        let answer = ws_tokio::upgrade(&req);
        assert!(
            answer.is_ok(),
            "{what}: {:?}",
            answer.err().map(|r| r.error().to_string())
        );
    }
}

#[test]
fn the_callback_picks_a_subprotocol_or_refuses() {
    let mut headers = upgrade_headers();
    headers.push(("sec-websocket-protocol", "v1, v2"));
    headers.push(("origin", "https://evil.example"));
    headers.push((
        "sec-websocket-extensions",
        "permessage-deflate; client_max_window_bits",
    ));
    let req = request("GET", http::Version::HTTP_11, &headers);
    let acceptor = Acceptor::new().deflate(Some(DeflateConfig::default()));

    let (response, upgrade) = acceptor
        .upgrade_with(&req, |r| {
            assert_eq!((r.path(), r.query()), ("/ws", Some("room=1")));
            Ok(Some("v2".into()))
        })
        .expect("accepted");
    assert_eq!(upgrade.protocol(), Some("v2"));
    assert_eq!(response.headers()["sec-websocket-protocol"], "v2");
    assert!(
        response.headers()["sec-websocket-extensions"]
            .to_str()
            .expect("ascii")
            .starts_with("permessage-deflate")
    );

    let refusal = acceptor
        .upgrade_with(&req, |r| match r.origin() {
            Some("https://good.example") => Ok(None),
            _ => Err(Reject::forbidden().body("origin not allowed")),
        })
        .expect_err("refused");
    assert!(matches!(refusal.error(), Error::Refused(403)));
    let response = refusal.into_response();
    assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(response.body(), "origin not allowed");

    let refusal = acceptor
        .upgrade_with(&req, |_| Ok(Some("v3".into())))
        .expect_err("not offered");
    assert_eq!(refusal.status(), 500);
}

/// Reads a request head off a socket into an `http::Request`, as a framework would.
async fn read_request(tcp: &mut tokio::net::TcpStream) -> http::Request<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).await.expect("read"),
            1,
            "request cut short"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("ascii head");
    let mut lines = head.split("\r\n");
    let mut start = lines.next().expect("request line").split(' ');
    let (method, target) = (start.next().expect("method"), start.next().expect("target"));
    let mut builder = http::Request::builder().method(method).uri(target);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').expect("header");
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(()).expect("request")
}

#[tokio::test]
async fn an_upgraded_connection_becomes_a_stream() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let req = read_request(&mut tcp).await;
        let acceptor = Acceptor::new().deflate(Some(DeflateConfig::default()));
        let (response, upgrade) = acceptor.upgrade(&req).expect("accepted");
        // The "framework" writes the response it was given.
        let mut answer = format!("HTTP/1.1 {}\r\n", response.status());
        for (name, value) in response.headers() {
            answer.push_str(&format!("{name}: {}\r\n", value.to_str().expect("ascii")));
        }
        answer.push_str("\r\n");
        tcp.write_all(answer.as_bytes()).await.expect("write");
        common::echo(upgrade.into_stream(tcp)).await;
    });
    let mut ws = common::within(
        "connect",
        ClientBuilder::new(&format!("ws://{addr}/ws")).connect(),
    )
    .await
    .expect("connect");
    assert!(ws.is_compressing());
    common::check_echo(
        &mut ws,
        &[
            Message::text("through http types"),
            Message::binary(vec![9u8; 50_000]),
        ],
    )
    .await;
    common::close(ws).await;
    common::within("server", server).await.expect("server task");
}

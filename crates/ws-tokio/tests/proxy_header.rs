//! The PROXY protocol header before the handshake (HAProxy's proxy-protocol.txt), over
//! real sockets on 127.0.0.1: the client's address comes from the header, and a
//! connection without a valid one is refused with a clear error and closed.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use ws_tokio::proxy_protocol::{ProxyHeaderError, ProxyHeaderParser};
use ws_tokio::{Acceptor, ClientBuilder, Error, Message};

/// A server that accepts one connection: reads the PROXY header, accepts the upgrade and
/// sends the client's address as it sees it; returns the outcome.
async fn one_connection(
    acceptor: Acceptor,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<Result<SocketAddr, Error>>,
) {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (mut tcp, peer) = listener.accept().await?;
        let header = acceptor.read_proxy_header(&mut tcp).await?;
        let client = header.client_or(peer);
        let mut ws = acceptor.accept(tcp).await?;
        ws.send(Message::text(client.to_string())).await?;
        Ok(client)
    });
    (addr, server)
}

/// Connects, writes `header` first, then upgrades and returns the address the server
/// reported.
async fn client_sees(addr: SocketAddr, header: &[u8]) -> (String, SocketAddr) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let local = tcp.local_addr().expect("local");
    tcp.write_all(header).await.expect("header");
    let mut ws = common::within(
        "upgrade",
        ClientBuilder::new(&format!("ws://{addr}/")).connect_on(tcp),
    )
    .await
    .expect("upgrade after the header");
    let reported = common::within("message", ws.next())
        .await
        .expect("a message")
        .expect("valid");
    (
        String::from_utf8(reported.as_bytes().to_vec()).expect("text"),
        local,
    )
}

fn v2_ipv4(src: [u8; 4], sport: u16, tlvs: &[u8]) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
    h.extend_from_slice(&u16::try_from(12 + tlvs.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&[127, 0, 0, 1]);
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&443u16.to_be_bytes());
    h.extend_from_slice(tlvs);
    h
}

/// A refused connection: the server's error, and what the client got (nothing: closed).
async fn refused(acceptor: Acceptor, bytes: &'static [u8], then_close: bool) -> (Error, Vec<u8>) {
    let (addr, server) = one_connection(acceptor).await;
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(bytes).await.expect("write");
    if then_close {
        tcp.shutdown().await.expect("shutdown");
    }
    let answer = read_until_closed(&mut tcp).await;
    let error = common::within("server", server)
        .await
        .expect("task")
        .expect_err("refused");
    (error, answer)
}

/// What a connection receives until the server closes it (a reset, when the server
/// closed with our bytes unread, counts as closed).
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    match common::within("server closes", tcp.read_to_end(&mut all)).await {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    all
}

mod section_2_1_version_1 {
    use super::*;

    #[tokio::test]
    async fn tcp4_gives_the_client_address() {
        let (addr, server) = one_connection(Acceptor::new()).await;
        let (reported, _) =
            client_sees(addr, b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 443\r\n").await;
        assert_eq!(reported, "192.0.2.7:56324");
        let seen = common::within("server", server).await.expect("task");
        assert_eq!(seen.expect("accepted"), "192.0.2.7:56324".parse().unwrap());
    }

    #[tokio::test]
    async fn tcp6_gives_the_client_address() {
        let (addr, _server) = one_connection(Acceptor::new()).await;
        let (reported, _) = client_sees(addr, b"PROXY TCP6 2001:db8::7 ::1 40000 443\r\n").await;
        assert_eq!(reported, "[2001:db8::7]:40000");
    }

    #[tokio::test]
    async fn unknown_uses_the_socket_peer() {
        let (addr, _server) = one_connection(Acceptor::new()).await;
        let (reported, local) = client_sees(addr, b"PROXY UNKNOWN\r\n").await;
        assert_eq!(reported, local.to_string());
    }

    #[tokio::test]
    async fn header_and_request_in_one_write_leave_the_request_whole() {
        let (addr, server) = one_connection(Acceptor::new()).await;
        let mut bytes = b"PROXY TCP4 192.0.2.9 127.0.0.1 1234 443\r\n".to_vec();
        let (_, request) = ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
            .port(addr.port())
            .build()
            .expect("request");
        bytes.extend_from_slice(&request);
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(&bytes).await.expect("write");
        let answer = common::read_to_end(&mut tcp).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let seen = common::within("server", server).await.expect("task");
        assert_eq!(seen.expect("accepted"), "192.0.2.9:1234".parse().unwrap());
    }
}

mod section_2_2_version_2 {
    use super::*;

    #[tokio::test]
    async fn proxy_ipv4_with_tlvs_gives_the_client_address() {
        let (addr, _server) = one_connection(Acceptor::new()).await;
        // PP2_TYPE_ALPN "http/1.1", PP2_TYPE_UNIQUE_ID "x".
        let tlvs = b"\x01\x00\x08http/1.1\x05\x00\x01x";
        let (reported, _) = client_sees(addr, &v2_ipv4([198, 51, 100, 23], 61000, tlvs)).await;
        assert_eq!(reported, "198.51.100.23:61000");
    }

    #[tokio::test]
    async fn local_uses_the_socket_peer() {
        let (addr, _server) = one_connection(Acceptor::new()).await;
        let (reported, local) = client_sees(addr, b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00").await;
        assert_eq!(reported, local.to_string());
    }

    #[tokio::test]
    async fn oversize_is_refused_with_the_setting() {
        let acceptor =
            Acceptor::new().proxy_header_parser(ProxyHeaderParser::new().max_v2_len(300));
        // Announces 16 + 1000 bytes.
        let (error, answer) =
            refused(acceptor, b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x03\xe8", false).await;
        assert!(
            matches!(
                error,
                Error::ProxyHeader(ProxyHeaderError::V2TooLong {
                    len: 1016,
                    max: 300
                })
            ),
            "{error}"
        );
        assert!(answer.is_empty());
    }
}

mod refused {
    use super::*;

    #[tokio::test]
    async fn missing_header_plain_http_request() {
        let (error, answer) = refused(
            Acceptor::new(),
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            false,
        )
        .await;
        assert!(
            matches!(error, Error::ProxyHeader(ProxyHeaderError::Missing { .. })),
            "{error}"
        );
        assert!(
            error.to_string().contains("no PROXY protocol header"),
            "{error}"
        );
        assert!(answer.is_empty(), "no answer, the connection is closed");
    }

    #[tokio::test]
    async fn garbage() {
        let (error, answer) = refused(Acceptor::new(), b"\x16\x03\x01\x00\xa5\x01", false).await;
        assert!(
            matches!(error, Error::ProxyHeader(ProxyHeaderError::Missing { .. })),
            "{error}"
        );
        assert!(answer.is_empty());
        let (error, _) = refused(
            Acceptor::new(),
            b"PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\n",
            false,
        )
        .await;
        assert!(
            matches!(
                error,
                Error::ProxyHeader(ProxyHeaderError::V1Invalid { .. })
            ),
            "{error}"
        );
    }

    #[tokio::test]
    async fn truncated_then_closed() {
        let (error, _) = refused(Acceptor::new(), b"PROXY TCP4 192.0.2.7 127.0", true).await;
        match error {
            Error::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
            other => panic!("unexpected {other}"),
        }
    }

    #[tokio::test]
    async fn truncated_then_silent_is_bounded_by_the_handshake_timeout() {
        let acceptor = Acceptor::new().handshake_timeout(Duration::from_millis(200));
        let (addr, server) = one_connection(acceptor).await;
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\x7f")
            .await
            .expect("write");
        let error = common::within("server", server)
            .await
            .expect("task")
            .expect_err("timed out");
        assert!(matches!(error, Error::HandshakeTimeout(_)), "{error}");
        assert!(read_until_closed(&mut tcp).await.is_empty());
    }
}

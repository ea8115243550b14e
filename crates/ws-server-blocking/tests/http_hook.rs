//! The HTTP hook (python-websockets' `process_request`): plain HTTP answers beside the
//! WebSocket endpoint. Real sockets on 127.0.0.1.

mod common;

use common::{connect, connect_with, raw_exchange, serve};
use ws_proto::handshake::ClientRequest;
use ws_server_blocking::{Builder, HttpResponse};

const PAGE: &str = "<!doctype html><title>chat</title>";

fn site(builder: Builder) -> Builder {
    builder
        .http_hook(|_server, request| match request.path() {
            "/healthz" => Some(HttpResponse::new(200).body("ok\n")),
            "/" if !request.is_upgrade() => Some(
                HttpResponse::new(200)
                    .header("Content-Type", "text/html; charset=utf-8")
                    .body(PAGE),
            ),
            "/private" => Some(HttpResponse::new(401).header("WWW-Authenticate", "Basic")),
            _ => None,
        })
        .on_connect(|_, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
}

#[test]
fn serves_a_page_at_the_root() {
    let server = serve(site);
    let answer = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Type: text/html; charset=utf-8\r\n"));
    assert!(answer.contains(&format!("Content-Length: {}\r\n", PAGE.len())));
    assert!(answer.ends_with(PAGE), "{answer}");
}

#[test]
fn answers_health_checks() {
    let server = serve(site);
    let answer = raw_exchange(server.addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
    // RFC 9110 9.3.2: HEAD gets the head only.
    let answer = raw_exchange(server.addr, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with("Content-Length: 3\r\nConnection: close\r\n\r\n"),
        "{answer}"
    );
}

#[test]
fn an_upgrade_the_hook_lets_through_proceeds() {
    let server = serve(site);
    let mut client = connect(server.addr);
    client.send_text("still a websocket");
    assert_eq!(client.expect_text(), "still a websocket");
}

#[test]
fn the_hook_may_answer_an_upgrade() {
    let server = serve(site);
    let refused = connect_with(
        server.addr,
        ClientRequest::new("127.0.0.1", "/private").port(server.addr.port()),
    );
    let err = refused.err().expect("refused").to_string();
    assert!(err.contains("401"), "{err}");
}

// A request that is neither answered by the hook nor an upgrade gets today's 426.
#[test]
fn an_unanswered_plain_request_gets_426() {
    let server = serve(site);
    let answer = raw_exchange(server.addr, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    // Without a hook too.
    let server = serve(|b| b);
    let answer = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
}

// RFC 9110 15.3.5 and 15.4.5: a 204 or 304 answer has no content, and 8.6: "A server MUST
// NOT send a Content-Length header field in any response with a status code of 1xx
// (Informational) or 204 (No Content)". A 1xx is never a final answer (15.2): a hook
// that gives one is a bug, answered with 500 as 101 is.
#[test]
fn no_content_answers_carry_no_body_and_1xx_is_not_final() {
    let server = serve(|b| {
        b.http_hook(|_server, request| match request.path() {
            "/204" => Some(HttpResponse::new(204).body("ignored")),
            "/304" => Some(
                HttpResponse::new(304)
                    .header("ETag", "\"v1\"")
                    .body("ignored"),
            ),
            "/100" => Some(HttpResponse::new(100)),
            _ => None,
        })
    });
    let answer = raw_exchange(server.addr, b"GET /204 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        answer,
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_exchange(server.addr, b"GET /304 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        answer,
        "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_exchange(server.addr, b"GET /100 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
}

/// The resident memory of this process, in bytes (Linux: /proc/self/statm, in pages).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

// While the answer to a plain request (the hook's, or a refusal) is still being written,
// the peer may go on sending: what it sends is never read as anything, so it must be
// dropped as it comes, not kept. Here the client reads nothing (a small receive buffer
// holds most of the 16 MiB answer back in the server, below the read pause of 64 MiB set
// here) and sends 256 MiB more; the server's memory must not grow by that much.
#[test]
fn bytes_sent_after_a_plain_request_are_not_kept() {
    use std::io::Write;
    use std::time::Duration;

    let server = serve(|b| {
        b.close_timeout(Duration::from_secs(120))
            .read_pause(64 << 20)
            .http_hook(|_server, _request| Some(HttpResponse::new(200).body(vec![b'x'; 16 << 20])))
    });
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&server.addr.into()).unwrap();
    let mut tcp: std::net::TcpStream = socket.into();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let before = resident_bytes();
    let junk = vec![b'j'; 1 << 20];
    for _ in 0..256 {
        tcp.write_all(&junk).unwrap();
    }
    // The server has read all but what the sockets' buffers hold (a few MiB at most).
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "the server kept {} MiB it read",
        grown >> 20
    );
}

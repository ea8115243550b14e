//! URLs as real users write them (issue 11 item 3), over real sockets: percent-encoded
//! proxy credentials reach the proxy decoded, international host names go out in their
//! IDNA form, and a bad URL says what is wrong.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{PATIENCE, connect_proxy, echo_server};
use ws_client::{ClientBuilder, Error, Message};

fn proxy_authorization(head: &str) -> Option<&str> {
    head.lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
}

// RFC 3986 3.2.1 (userinfo is percent-encoded) and RFC 7617 2 (base64 of user:password).
#[test]
fn percent_encoded_proxy_credentials_are_decoded_before_basic_authentication() {
    let server = echo_server();
    let (proxy, seen) = connect_proxy(Some("alice:p@ss"));
    let mut client = ClientBuilder::new(&format!("ws://{}/", server.addr))
        .proxy(&format!("http://alice:p%40ss@{proxy}"))
        .connect()
        .unwrap();
    let head = seen.recv_timeout(PATIENCE).unwrap();
    assert_eq!(proxy_authorization(&head), Some("Basic YWxpY2U6cEBzcw=="));
    client.send_text("through").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("through".into()));
}

#[test]
fn passwords_with_slash_hash_and_colon_can_be_given() {
    let server = echo_server();
    let (proxy, seen) = connect_proxy(Some("bob:a/b#c:d"));
    ClientBuilder::new(&format!("ws://{}/", server.addr))
        .proxy(&format!("http://bob:a%2Fb%23c%3Ad@{proxy}"))
        .connect()
        .unwrap();
    let head = seen.recv_timeout(PATIENCE).unwrap();
    // base64("bob:a/b#c:d")
    assert_eq!(proxy_authorization(&head), Some("Basic Ym9iOmEvYiNjOmQ="));
}

#[test]
fn wrong_credentials_are_the_proxy_s_407() {
    let server = echo_server();
    let (proxy, _seen) = connect_proxy(Some("alice:p@ss"));
    let err = ClientBuilder::new(&format!("ws://{}/", server.addr))
        .proxy(&format!("http://alice:wrong@{proxy}"))
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, Error::ProxyRefused { status: 407, .. }),
        "{err:?}"
    );
}

// WHATWG URL host parsing (domain to ASCII, UTS #46): the CONNECT target and the name
// resolved are the `xn--` form. The test proxy cannot reach it, and answers 502.
#[test]
fn international_host_names_go_out_in_idna_form() {
    let (proxy, seen) = connect_proxy(None);
    let err = ClientBuilder::new("ws://bücher.example:8080/straße?q=ü")
        .proxy(&format!("http://{proxy}"))
        .connect()
        .unwrap_err();
    assert!(
        matches!(err, Error::ProxyRefused { status: 502, .. }),
        "{err:?}"
    );
    let head = seen.recv_timeout(PATIENCE).unwrap();
    assert!(
        head.starts_with(
            "CONNECT xn--bcher-kva.example:8080 HTTP/1.1\r\nHost: xn--bcher-kva.example:8080\r\n"
        ),
        "{head}"
    );
}

#[test]
fn the_binary_sends_decoded_proxy_credentials() {
    let server = echo_server();
    let (proxy, seen) = connect_proxy(Some("alice:p@ss"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws-client"))
        .args([
            "--linger",
            "0",
            "--proxy",
            &format!("http://alice:p%40ss@{proxy}"),
            &format!("ws://{}/", server.addr),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = seen.recv_timeout(PATIENCE).unwrap();
    assert_eq!(proxy_authorization(&head), Some("Basic YWxpY2U6cEBzcw=="));
}

#[test]
fn the_binary_says_what_is_wrong_with_a_url_and_hides_passwords() {
    let cases = [
        (
            vec!["ws://h:99999/"],
            "ws-client: invalid URL \"ws://h:99999/\": the port is not a number from 0 to 65535\n",
        ),
        (
            vec!["ws://h/#top"],
            "ws-client: invalid URL \"ws://h/#top\": a fragment (#...) MUST NOT be used in a WebSocket URL (RFC 6455 3)\n",
        ),
        (
            vec!["--proxy", "http://alice:s3cret@proxy:0/", "ws://h/"],
            "ws-client: invalid URL \"http://alice:***@proxy:0/\": the port is 0, which cannot be connected to\n",
        ),
        (
            vec!["--proxy", "http://alice:p#ss@proxy/", "ws://h/"],
            "ws-client: invalid URL \"http://alice:***@proxy/\": a # starts a fragment: percent-encode it as %23 in a user name or password\n",
        ),
    ];
    for (args, expected) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_ws-client"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{args:?}");
    }
}

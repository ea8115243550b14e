//! The ws-server binary, run as a subprocess.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::{ServerProcess, connect};

fn ws_server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ws-server"))
}

#[test]
fn serves_echo_and_closes_clients_with_1001_on_sigterm() {
    let server = ServerProcess::start(&[]);
    let mut client = connect(server.addr);
    client.send_text("through the binary");
    assert_eq!(client.expect_text(), "through the binary");
    client.send_binary(&[0, 1, 2]);
    assert_eq!(client.expect_binary(), [0, 1, 2]);

    server.sigterm();
    assert_eq!(client.expect_close(), (1001, "server shutdown".to_owned()));
    client.flush();
    client.expect_eof();
    // The server half-closed and waits for our end of the stream before it exits.
    drop(client);
    assert!(server.wait().success(), "exits cleanly after SIGTERM");
}

#[test]
fn bad_usage_is_one_line_on_stderr_and_a_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let in_use = taken.local_addr().unwrap().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["--no-such-flag"], "unexpected argument"),
        (&["--listen", &in_use], "cannot listen on"),
        (
            &[
                "--tls-cert",
                "/nonexistent.pem",
                "--tls-key",
                "/nonexistent.pem",
            ],
            "cannot load /nonexistent.pem",
        ),
        (&["--silence-max", "soon"], "invalid value"),
    ];
    for (args, expected) in cases {
        let out = ws_server().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line for {args:?}: {stderr:?}"
        );
        assert!(
            stderr.starts_with("ws-server: ") && stderr.contains(expected),
            "{args:?}: {stderr:?}"
        );
    }
}

#[test]
fn origin_option_refuses_other_pages_with_403() {
    let server = ServerProcess::start(&["--origin", "https://good.example"]);
    let addr = server.addr;
    let request = |origin: &str| {
        ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
            .port(addr.port())
            .origin(origin)
    };
    let refused = common::connect_with(addr, request("https://evil.example"));
    assert!(matches!(refused, Err(ws_proto::Error::Rejected(r)) if r.status == 403));
    let mut client = common::connect_with(addr, request("https://good.example")).unwrap();
    client.send_text("welcome");
    assert_eq!(client.expect_text(), "welcome");
}

#[test]
fn deflate_options_turn_compression_on_and_off() {
    let offer = |addr: SocketAddr| {
        let request = ws_proto::handshake::ClientRequest::new("127.0.0.1", "/")
            .port(addr.port())
            .extension(ws_proto::DeflateConfig::default().offer());
        let client = common::connect_with(addr, request).unwrap();
        client
            .response
            .extensions()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    for (args, expected) in [
        (&[][..], &[][..]),
        (&["--deflate"][..], &["permessage-deflate"][..]),
        (&["--deflate", "--no-deflate"][..], &[][..]),
        (
            &["--no-deflate", "--deflate"][..],
            &["permessage-deflate"][..],
        ),
    ] {
        let server = ServerProcess::start(args);
        assert_eq!(offer(server.addr), expected, "{args:?}");
        server.terminate();
    }
}

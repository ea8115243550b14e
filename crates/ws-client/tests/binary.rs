//! The ws-client binary as a subprocess, against servers run by the test.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

use common::{PATIENCE, connect_proxy, echo, echo_server, serve};

fn ws_client(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws-client"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn stdin_lines_out_and_messages_printed() {
    let server = echo_server();
    let url = format!("ws://{}/", server.addr);
    let out = ws_client(&[&url], "first line\nsecond \u{2603}\n\nlast\n".as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "first line\nsecond \u{2603}\n\nlast\n");

    // Lines sent as binary come back as binary: hex, or raw bytes.
    let out = ws_client(&["--binary", &url], b"AB\n");
    assert_eq!(stdout(&out), "4142\n");
    let out = ws_client(&["--binary", "--binary-out", &url], b"AB\n");
    assert_eq!(stdout(&out), "AB");
}

#[test]
fn headers_origin_and_protocols_are_sent() {
    let (tx, rx) = mpsc::channel();
    let server = serve("127.0.0.1:0", move |b| {
        echo(b).on_connect(move |_, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
            let tx = tx.clone();
            conn.on_handshake(move |_, hs| {
                let r = hs.request();
                tx.send((
                    r.origin().map(str::to_owned),
                    r.header("x-token").map(str::to_owned),
                    r.protocols().to_vec(),
                ))
                .unwrap();
                hs.select_protocol("b");
            });
        })
    });
    let url = format!("ws://{}/", server.addr);
    let out = ws_client(
        &[
            "--header",
            "X-Token: 42",
            "--origin",
            "https://o.example",
            "--protocol",
            "a",
            "--protocol",
            "b",
            &url,
        ],
        b"hi\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");
    let (origin, token, protocols) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(origin.as_deref(), Some("https://o.example"));
    assert_eq!(token.as_deref(), Some("42"));
    assert_eq!(protocols, ["a", "b"]);
}

#[test]
fn echo_test_reports_round_trips() {
    let server = echo_server();
    let out = ws_client(
        &[
            "--echo-test",
            "50",
            "--size",
            "1000",
            &format!("ws://{}/", server.addr),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.starts_with(
            "echo test: 50 messages of 1000 bytes, all echoed unchanged; round trip min "
        ),
        "{report}"
    );
    for part in [" p50 ", " p99 ", " max "] {
        assert!(report.contains(part), "{report}");
    }
}

#[test]
fn echo_test_fails_on_a_changed_message() {
    let server = serve("127.0.0.1:0", |b| {
        b.on_connect(|_, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(&msg.to_uppercase()));
        })
    });
    let out = ws_client(
        &["--echo-test", "3", &format!("ws://{}/", server.addr)],
        b"",
    );
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "ws-client: echo test: message 0 came back changed\n"
    );
}

#[test]
fn failures_are_one_line_on_stderr_and_a_failure_status() {
    let refusing = serve("127.0.0.1:0", |b| {
        b.on_connect(|_, conn| conn.on_handshake(|_, hs| hs.refuse(403)))
    });
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tls_server = {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key =
            rustls::pki_types::PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()).into();
        let config = ws_server_blocking::tls::config(vec![made.cert.der().clone()], key).unwrap();
        serve("127.0.0.1:0", move |b| echo(b).tls(config))
    };
    let cases = [
        (
            vec!["ftp://x/".to_owned()],
            "ws-client: invalid URL \"ftp://x/\": the scheme must be ws:// or wss://",
        ),
        (
            vec![format!("ws://127.0.0.1:{closed_port}/")],
            "ws-client: cannot connect to 127.0.0.1:",
        ),
        (
            vec![format!("ws://{}/", refusing.addr)],
            "ws-client: handshake failed: server refused the upgrade with status 403",
        ),
        (
            vec![format!("wss://localhost:{}/", tls_server.addr.port())],
            "ws-client: TLS: invalid peer certificate",
        ),
        (
            vec!["--header".into(), "no colon".into(), "ws://h/".into()],
            "ws-client: invalid value 'no colon' for '--header",
        ),
        (
            vec!["--no-such-option".into()],
            "ws-client: unexpected argument",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ws_client(&args, b"");
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line for {args:?}: {err:?}");
        assert!(err.starts_with(expected), "{args:?}: {err:?}");
    }
}

#[test]
fn wss_with_a_ca_file_and_through_a_proxy() {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()).into();
    let config = ws_server_blocking::tls::config(vec![made.cert.der().clone()], key).unwrap();
    let server = serve("127.0.0.1:0", move |b| echo(b).tls(config));
    let ca = std::env::temp_dir().join(format!("ws-client-bin-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, made.cert.pem()).unwrap();
    let (proxy, seen) = connect_proxy(None);
    let url = format!("wss://localhost:{}/", server.addr.port());
    let out = ws_client(
        &[
            "--ca-file",
            ca.to_str().unwrap(),
            "--proxy",
            &format!("http://{proxy}"),
            &url,
        ],
        b"secure\n",
    );
    std::fs::remove_file(&ca).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "secure\n");
    assert!(
        seen.recv_timeout(PATIENCE)
            .unwrap()
            .starts_with("CONNECT localhost:")
    );
}

#[test]
fn echo_test_compresses_unless_told_not_to() {
    let server = serve("127.0.0.1:0", |b| {
        echo(b.deflate(Some(ws_client::DeflateConfig::default())))
    });
    let url = format!("ws://{}/", server.addr);
    let out = ws_client(&["--echo-test", "20", "--size", "5000", &url], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .starts_with("echo test: 20 messages of 5000 bytes, compressed, all echoed unchanged"),
        "{}",
        stdout(&out)
    );
    let out = ws_client(
        &["--no-deflate", "--echo-test", "20", "--size", "5000", &url],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("echo test: 20 messages of 5000 bytes, all echoed unchanged"),
        "{}",
        stdout(&out)
    );
}

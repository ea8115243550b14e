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
            "ws-client: TLS: the server's certificate was not issued by a CA this client trusts; \
             pass --ca-file",
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

#[test]
fn usage_errors_print_clap_whole_message_and_exit_2() {
    // (args, what the message must name); each has the usage line and clap's tip.
    let cases: [(&[&str], &[&str]); 4] = [
        (&[], &["required arguments were not provided", "<URL>"]),
        (
            &["--cert", "me.pem", "ws://h/"],
            &["required arguments were not provided", "--key <PEM>"],
        ),
        (
            &["--no-such-option"],
            &["unexpected argument '--no-such-option'"],
        ),
        (
            &["--header", "no colon", "ws://h/"],
            &[
                "invalid value 'no colon' for '--header",
                "must look like 'Name: value'",
            ],
        ),
    ];
    for (args, expected) in cases {
        let out = ws_client(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        for text in expected {
            assert!(err.contains(text), "{args:?} lacks {text:?}: {err}");
        }
        assert!(err.contains("try '--help'"), "{args:?}: {err}");
        if !err.contains("invalid value") {
            assert!(err.contains("Usage: ws-client"), "{args:?}: {err}");
        }
    }
}

#[test]
fn version_and_help_name_the_program_and_show_examples() {
    let out = ws_client(&["--version"], b"");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("ws-client {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = stdout(&ws_client(&["--help"], b""));
    for text in [
        "Examples:",
        "-H, --header",
        "-k, --insecure",
        "-v, --verbose",
        "-q, --quiet",
        "--cert <PEM>",
        "--raw",
    ] {
        assert!(help.contains(text), "--help lacks {text:?}: {help}");
    }
}

/// A TLS echo server with this certificate chain and key, and optionally a CA whose
/// client certificates it requires.
fn tls_server(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    client_ca: Option<rustls::pki_types::CertificateDer<'static>>,
) -> common::Running {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = std::sync::Arc::new(builder.with_single_cert(chain, key).unwrap());
    serve("127.0.0.1:0", move |b| echo(b).tls(config))
}

fn key_der(key: &rcgen::KeyPair) -> rustls::pki_types::PrivateKeyDer<'static> {
    rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into()
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ws-client-bin-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn insecure_connects_to_an_untrusted_server_and_says_so_loudly() {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let server = tls_server(
        vec![made.cert.der().clone()],
        key_der(&made.signing_key),
        None,
    );
    let url = format!("wss://localhost:{}/", server.addr.port());
    let refused = ws_client(&[&url], b"checked\n");
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("not issued by a CA this client trusts"));
    // -q hides diagnostics, not this warning.
    let out = ws_client(&["-k", "-q", &url], b"unchecked\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "unchecked\n");
    assert!(
        stderr(&out)
            .starts_with("ws-client: WARNING: --insecure: the server's certificate is not checked"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_ca_certificate_used_as_the_server_s_own_gets_the_fix() {
    // What `openssl req -x509` makes: self-signed, and marked as a CA.
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let server = tls_server(vec![cert.der().clone()], key_der(&key), None);
    let ca = temp_file("ca-as-leaf.pem", &cert.pem());
    let url = format!("wss://localhost:{}/", server.addr.port());
    let out = ws_client(&["--ca-file", ca.to_str().unwrap(), &url], b"");
    std::fs::remove_file(&ca).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the server's certificate is a CA certificate"),
        "{err}"
    );
    assert!(err.contains("basicConstraints=critical,CA:FALSE"), "{err}");
}

#[test]
fn wss_to_a_plain_server_says_to_use_ws() {
    // The server refuses the ClientHello from its first byte, so this ends with the
    // server's plain-text answer rather than the connect timeout (which would be
    // "timed out" and not this message).
    let server = echo_server();
    let url = format!("wss://127.0.0.1:{}/", server.addr.port());
    let out = ws_client(&["--timeout", "60", &url], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "ws-client: TLS: the server did not answer in TLS: it is probably a plain ws:// \
         server; use ws:// in the URL\n"
    );
}

#[test]
fn client_certificates_from_the_command_line() {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client_cert = rcgen::CertificateParams::new(vec!["client.example".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    let server = tls_server(
        vec![server_cert.der().clone()],
        key_der(&server_key),
        Some(ca.der().clone()),
    );
    let ca_file = temp_file("client-ca.pem", &ca.pem());
    let cert_file = temp_file("client-cert.pem", &client_cert.pem());
    let key_file = temp_file("client-key.pem", &client_key.serialize_pem());
    let url = format!("wss://localhost:{}/", server.addr.port());
    let (ca_arg, cert_arg, key_arg) = (
        ca_file.to_str().unwrap(),
        cert_file.to_str().unwrap(),
        key_file.to_str().unwrap(),
    );
    let with = ws_client(
        &[
            "--ca-file",
            ca_arg,
            "--cert",
            cert_arg,
            "--key",
            key_arg,
            &url,
        ],
        b"it is me\n",
    );
    let insecure_with = ws_client(
        &["-k", "--cert", cert_arg, "--key", key_arg, &url],
        b"still me\n",
    );
    let without = ws_client(&["--ca-file", ca_arg, &url], b"who?\n");
    for file in [&ca_file, &cert_file, &key_file] {
        std::fs::remove_file(file).unwrap();
    }
    assert!(with.status.success(), "{}", stderr(&with));
    assert_eq!(stdout(&with), "it is me\n");
    assert!(insecure_with.status.success(), "{}", stderr(&insecure_with));
    assert_eq!(stdout(&insecure_with), "still me\n");
    // Refused. (Over TLS 1.3 the server's certificate_required alert comes after the
    // client's handshake is done and the library reports the closed connection; the
    // binary's plain-words line for that alert applies where the alert is seen.)
    assert_eq!(without.status.code(), Some(1), "{}", stderr(&without));
    assert_eq!(stdout(&without), "");
}

#[test]
fn control_characters_are_escaped_on_request_and_raw_in_a_pipe() {
    let server = echo_server();
    let url = format!("ws://{}/", server.addr);
    let input = "\u{1b}[2Jclear\u{7}\n".as_bytes();
    // stdout is a pipe here: printed as received unless --escape.
    assert_eq!(stdout(&ws_client(&[&url], input)), "\u{1b}[2Jclear\u{7}\n");
    assert_eq!(
        stdout(&ws_client(&["--escape", &url], input)),
        "\\x1b[2Jclear\\x07\n"
    );
    assert_eq!(
        stdout(&ws_client(&["--escape", "--raw", &url], input)),
        "\u{1b}[2Jclear\u{7}\n"
    );
}

#[test]
fn ssl_cert_file_is_trusted_beside_the_web_roots() {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let server = tls_server(
        vec![made.cert.der().clone()],
        key_der(&made.signing_key),
        None,
    );
    let ca = temp_file("ssl-cert-file.pem", &made.cert.pem());
    let url = format!("wss://localhost:{}/", server.addr.port());
    let run = |file: &std::path::Path| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ws-client"))
            .arg(&url)
            .env("SSL_CERT_FILE", file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A client that fails at once may be gone before its input is written.
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(b"via SSL_CERT_FILE\n");
        child.wait_with_output().unwrap()
    };
    let trusted = run(&ca);
    let missing = run(std::path::Path::new("/nonexistent/ca.pem"));
    std::fs::remove_file(&ca).unwrap();
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    assert_eq!(stdout(&trusted), "via SSL_CERT_FILE\n");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).starts_with("ws-client: cannot load /nonexistent/ca.pem"),
        "{}",
        stderr(&missing)
    );
}

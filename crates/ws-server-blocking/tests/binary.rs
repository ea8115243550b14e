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
fn runtime_failures_are_one_line_on_stderr_and_a_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let in_use = taken.local_addr().unwrap().to_string();
    let cases: [(&[&str], &str); 2] = [
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
    ];
    for (args, expected) in cases {
        let out = ws_server().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
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
fn usage_errors_print_clap_whole_message_and_exit_2() {
    // (args, what the message must name) -- each also has clap's tip, and those about a
    // missing or unknown argument its usage line.
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--no-such-flag"],
            &["unexpected argument '--no-such-flag'"],
        ),
        (
            &["--tls-cert", "c.pem"],
            &["required arguments", "--tls-key <PEM>"],
        ),
        (
            &["--mode", "shout"],
            &[
                "invalid value 'shout'",
                "possible values: echo, broadcast, chat",
            ],
        ),
        (&["--silence-max", "soon"], &["invalid value 'soon'"]),
    ];
    for (args, expected) in cases {
        let out = ws_server().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        for text in expected {
            assert!(stderr.contains(text), "{args:?} lacks {text:?}: {stderr}");
        }
        if !stderr.contains("invalid value") {
            assert!(stderr.contains("Usage: ws-server"), "{args:?}: {stderr}");
        }
        assert!(stderr.contains("try '--help'"), "{args:?}: {stderr}");
    }
}

#[test]
fn version_and_help_name_the_program_and_show_examples() {
    let out = ws_server().arg("--version").output().unwrap();
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        version,
        format!("ws-server {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = ws_server().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for text in [
        "Examples:",
        "ws-server -l 9001",
        "-l, --listen",
        "-v, --verbose",
        "-q, --quiet",
        "--tls-self-signed",
    ] {
        assert!(help.contains(text), "--help lacks {text:?}: {help}");
    }
}

#[test]
fn a_bare_port_listens_on_loopback() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = ws_server()
        .args(["-q", "--listen", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(
        line,
        format!("ws-server: listening on ws://127.0.0.1:{port}/ (echo)\n")
    );
    let mut client = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    client.send_text("bare port");
    assert_eq!(client.expect_text(), "bare port");
    drop(client);
    kill(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
    let out = ws_server().args(["--listen", "eighty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("expected a port (8080) or an address with a port"),
        "{stderr}"
    );
}

#[test]
fn a_browser_gets_426_saying_a_websocket_client_is_needed() {
    let server = ServerProcess::start(&[]);
    let answer = common::raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n",
    );
    assert!(
        answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\r\nUpgrade: websocket\r\n"), "{answer}");
    assert!(answer.contains("needs a WebSocket client"), "{answer}");
    assert!(answer.contains("ws://HOST:PORT/PATH"), "{answer}");
}

#[test]
fn tls_self_signed_writes_a_ca_that_a_client_trusts() {
    use std::io::BufRead;
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("ws-server-test-{}", std::process::id()));
    let mut child = ws_server()
        .args(["--listen", "127.0.0.1:0", "-q"])
        .arg(format!("--tls-self-signed={}", dir.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..7 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line);
    }
    let text = lines.concat();
    let port: u16 = lines[0]
        .split_whitespace()
        .find_map(|w| w.strip_prefix("wss://127.0.0.1:"))
        .expect(&text)
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let ca = dir.join("ca.pem");
    let trust = format!(
        "ws-client --ca-file {} wss://localhost:{port}/",
        ca.display()
    );
    assert!(text.contains(&trust), "{text}");
    assert!(
        text.contains(&dir.join("cert.pem").display().to_string()),
        "{text}"
    );
    assert!(
        text.contains(&dir.join("key.pem").display().to_string()),
        "{text}"
    );
    // A real TLS client that trusts only the CA file, for each name the certificate has.
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_file(&ca).unwrap())
        .unwrap();
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    for host in ["localhost", "127.0.0.1"] {
        let name = rustls::pki_types::ServerName::try_from(host).unwrap();
        let tls = rustls::ClientConnection::new(config.clone(), name).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = rustls::StreamOwned::new(tls, common::tcp(addr));
        let request = ws_proto::handshake::ClientRequest::new(host, "/")
            .port(port)
            .secure(true);
        let mut client =
            common::handshake(stream, request).unwrap_or_else(|e| panic!("{host}: {e}"));
        client.send_text("over TLS");
        assert_eq!(client.expect_text(), "over TLS");
    }
    kill(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_dir_all(&dir);
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
    assert!(
        matches!(refused, Err(ws_proto::Error::Handshake(ws_proto::handshake::HandshakeError::Rejected(r))) if r.status == 403)
    );
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

/// Starts `ws-server --listen 127.0.0.1:0 ARGS` with stdout and stderr piped, reads the
/// address from the first line, then closes both pipes' reading ends, as
/// `ws-server 2>&1 | head -1` does once `head` exits.
fn start_with_closed_output(args: &[&str]) -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = ws_server()
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(child.stderr.take());
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ws://"))
        .expect(&line)
        .trim_end_matches('/')
        .parse()
        .unwrap();
    (child, addr)
}

/// Sends `signal` to the process.
fn kill(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits for the process to exit, for at most PATIENCE.
fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("ws-server did not exit");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn closed_stderr_and_stdout_neither_kill_nor_wedge_the_server() {
    // With --log debug every connection is logged: each record now fails to write.
    let (mut child, addr) = start_with_closed_output(&["--log", "debug"]);
    let answer = common::raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    for _ in 0..3 {
        let mut client = connect(addr);
        client.send_text("still serving");
        assert_eq!(client.expect_text(), "still serving");
    }
    assert!(child.try_wait().unwrap().is_none(), "still running");
    kill(&child, "-TERM");
    assert!(wait_exit(&mut child).success(), "SIGTERM still stops it");
}

#[test]
fn a_signal_stops_the_server_even_when_its_log_record_cannot_be_written() {
    // Nothing is logged before the signal at info; the signal's own record then fails.
    // The signal thread asks for shutdown before it logs.
    let (mut child, _addr) = start_with_closed_output(&["--log", "info"]);
    kill(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
}

#[test]
fn a_second_signal_exits_at_once() {
    let (mut child, addr) = start_with_closed_output(&["--close-timeout", "60"]);
    // A client that will never answer the server's close: a graceful shutdown would
    // wait the whole close timeout for it.
    let mut stuck = common::raw_connect(addr);
    kill(&child, "-TERM");
    let mut close = [0u8; 2];
    std::io::Read::read_exact(&mut stuck, &mut close).unwrap();
    assert_eq!(close[0], 0x88, "the first signal started the shutdown");
    kill(&child, "-INT");
    let status = wait_exit(&mut child);
    // 128 + SIGINT: the forced exit, not the graceful one (which would be 0).
    assert_eq!(status.code(), Some(130), "{status:?}");
}

#[test]
fn handshake_caps_can_be_raised_from_the_command_line() {
    let request = |extra: &str| {
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    };
    let big_cookie = format!("Cookie: session={}\r\n", "c".repeat(10 * 1024));
    let many_fields: String = (0..80).map(|i| format!("X-Field-{i}: v\r\n")).collect();
    let status = |addr: SocketAddr, extra: &str| {
        let mut stream = common::tcp(addr);
        std::io::Write::write_all(&mut stream, request(extra).as_bytes()).unwrap();
        let mut head = [0u8; 12];
        std::io::Read::read_exact(&mut stream, &mut head).unwrap();
        String::from_utf8_lossy(&head[9..12]).into_owned()
    };
    let default = ServerProcess::start(&[]);
    assert_eq!(status(default.addr, &big_cookie), "431");
    assert_eq!(status(default.addr, &many_fields), "431");
    let raised = ServerProcess::start(&["--max-head-size", "16384", "--max-headers", "100"]);
    assert_eq!(status(raised.addr, &big_cookie), "101");
    assert_eq!(status(raised.addr, &many_fields), "101");
}

#[test]
fn max_send_size_and_silence_timeout_flags_apply() {
    // An echo larger than --max-send-size fails, closing the connection with 1011.
    let server = ServerProcess::start(&["--max-send-size", "10"]);
    let mut client = connect(server.addr);
    client.send_text("0123456789");
    assert_eq!(client.expect_text(), "0123456789");
    client.send_text("0123456789a");
    assert_eq!(client.expect_close().0, 1011);

    // A client that never answers pings is dropped after --silence-timeout.
    let server = ServerProcess::start(&["--silence-max", "1", "--silence-timeout", "1"]);
    let mut mute = common::raw_connect(server.addr);
    let mut got = Vec::new();
    match std::io::Read::read_to_end(&mut mute, &mut got) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("not dropped: {err}"),
    }
    assert_eq!(&got[..2], &[0x89, 0x00], "pinged first: {got:02x?}");
}

#[test]
fn rust_log_sets_the_level_unless_the_log_flag_is_given() {
    use std::io::BufRead;
    use std::process::Stdio;
    // (args, whether a debug record is expected)
    for (args, debug) in [(&[][..], true), (&["--log", "warn"][..], false)] {
        let mut child = ws_server()
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ws://"))
            .expect(&line)
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let mut client = connect(addr);
        client.send_text("logged");
        assert_eq!(client.expect_text(), "logged");
        drop(client);
        kill(&child, "-TERM");
        assert!(wait_exit(&mut child).success());
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(
            stderr.contains("connected"),
            debug,
            "{args:?} with RUST_LOG=debug: {stderr}"
        );
    }
}

// Issue 15: behind a load balancer. /healthz answers 200 while accepting; SIGTERM turns it
// 503 and closes the listener at once, serves the clients on through --drain-grace, then
// closes them with 1001 and exits.
#[test]
fn drains_on_sigterm_health_503_listener_closed_then_1001() {
    use std::io::{Read, Write};
    let server = ServerProcess::start(&["--drain-grace", "1"]);
    let health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let answer = common::raw_exchange(server.addr, health);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    // A connection for a health check during the drain, accepted before it starts: with
    // one worker, connections are accepted in order, so it was accepted once the client
    // after it has finished its handshake.
    let mut spare = common::tcp(server.addr);
    let mut client = connect(server.addr);

    server.sigterm();
    // The listener closes: new connections are refused.
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while std::net::TcpStream::connect(server.addr).is_ok() {
        assert!(std::time::Instant::now() < deadline, "still accepting");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    spare.write_all(health).unwrap();
    let mut answer = String::new();
    spare.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    // Clients are still served during the grace period...
    client.send_text("still here");
    assert_eq!(client.expect_text(), "still here");
    // ...and then closed with 1001.
    assert_eq!(client.expect_close(), (1001, "server shutdown".to_owned()));
    client.flush();
    client.expect_eof();
    drop(client);
    assert!(server.wait().success(), "exits cleanly after the drain");
}

// --mode broadcast goes through a topic, so that with several workers every worker's
// clients get every message.
#[test]
fn broadcast_reaches_the_clients_of_every_worker() {
    let server = ServerProcess::start(&["--mode", "broadcast", "--workers", "2"]);
    let mut clients: Vec<_> = (0..16).map(|_| connect(server.addr)).collect();
    // A client subscribes in on_connect, before its handshake: all 16 are subscribed.
    clients[0].send_text("to everyone");
    for client in &mut clients {
        assert_eq!(client.expect_text(), "to everyone");
    }
    clients[15].send_binary(b"bytes");
    for client in &mut clients {
        assert_eq!(client.expect_binary(), b"bytes");
    }
}

//! The baseline echo servers and ws-load, run as the programs `run-load.sh` starts,
//! over real sockets on 127.0.0.1, with tungstenite's client as the peer.
//!
//! A load test only means something if every server does the same work: each must echo
//! text and binary messages unchanged, answer pings, and answer a close. Every read here
//! has a deadline, and every child process is killed when its test ends.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tungstenite::{Message, client::IntoClientRequest};

/// The deadline of every read and every wait for a server to start.
const DEADLINE: Duration = Duration::from_secs(10);

/// A server process, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `exe` on a free port with `args`, and reads the address it prints.
fn start(exe: &str, args: &[&str]) -> Server {
    let mut child = Command::new(exe)
        .arg("127.0.0.1:0")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the server");
    let stdout = child.stdout.take().expect("piped stdout");
    // The first line says where it listens; read it on a thread so that a server that
    // never prints fails the test at the deadline instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(DEADLINE) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("{exe} printed no address within {DEADLINE:?}");
        }
    };
    let addr = line
        .split("ws://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{exe} printed `{line}`, not its address"))
        .to_string();
    Server { child, addr }
}

/// Echoes a text and a binary message (one of them 1 MiB), has a ping answered, and
/// closes, checking each answer.
fn check_echo(server: &Server) {
    let tcp = TcpStream::connect(&server.addr).expect("connecting");
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let request = format!("ws://{}/", server.addr)
        .into_client_request()
        .unwrap();
    let (mut ws, response) = tungstenite::client(request, tcp).expect("handshake");
    assert_eq!(response.status(), 101);

    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let sent = [
        Message::text("hello, echo"),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::binary(big),
        Message::text("é, and a last one"),
    ];
    for message in &sent {
        ws.send(message.clone()).expect("sending");
        assert_eq!(&ws.read().expect("reading the echo"), message);
    }

    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    match ws.read().expect("reading the pong") {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("a ping was answered with {other:?}"),
    }

    ws.close(None).expect("sending the close");
    // The server's close comes back, then the connection ends.
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => {}
            Ok(other) => panic!("after our close the server sent {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(err) => panic!("the close was not answered cleanly: {err}"),
        }
    }
    // And the server closes TCP: the next read sees the end of the stream.
    let mut tcp = ws.into_inner();
    let mut rest = Vec::new();
    tcp.read_to_end(&mut rest)
        .expect("the server closed the TCP connection");
}

#[test]
fn fastwebsockets_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_fastwebsockets-echo"), &[]));
}

#[test]
fn tokio_websockets_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_tokio-websockets-echo"), &[]));
}

#[test]
fn tokio_tungstenite_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_tokio-tungstenite-echo"), &[]));
}

#[test]
fn sockudo_ws_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_sockudo-ws-echo"), &[]));
}

#[test]
fn the_floor_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_floor-echo"), &[]));
}

#[test]
fn the_tokio_floor_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_floor-tokio"), &[]));
}

#[test]
fn tungstenite_echoes_and_closes() {
    check_echo(&start(env!("CARGO_BIN_EXE_tungstenite-echo"), &[]));
}

#[test]
fn the_multi_thread_runtime_echoes_too() {
    check_echo(&start(
        env!("CARGO_BIN_EXE_fastwebsockets-echo"),
        &["--threads", "2"],
    ));
    check_echo(&start(
        env!("CARGO_BIN_EXE_tokio-websockets-echo"),
        &["--threads", "2"],
    ));
}

/// Runs `command` to its end, or kills it at the deadline and fails the test.
fn run_with_deadline(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ws-load");
    let until = Instant::now() + DEADLINE;
    while child.try_wait().expect("waiting for ws-load").is_none() {
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ws-load ran past {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("reading ws-load's output")
}

/// Runs ws-load with `args` against the server; returns its RESULT line.
fn ws_load(server: &Server, mode: &str, args: &[&str]) -> String {
    let output = run_with_deadline(
        Command::new(env!("CARGO_BIN_EXE_ws-load"))
            .arg(mode)
            .arg(&server.addr)
            .args(args),
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "ws-load {mode} failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find(|line| line.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in {stdout}"))
        .to_string()
}

/// The first value of a RESULT line, as a number.
fn first_value(result: &str) -> f64 {
    result
        .split_whitespace()
        .nth(1)
        .and_then(|kv| kv.split_once('='))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no value in `{result}`"))
}

#[test]
fn load_test_shape_counts_echoes_over_several_threads() {
    let server = start(env!("CARGO_BIN_EXE_tokio-websockets-echo"), &[]);
    let result = ws_load(
        &server,
        "load-test",
        &[
            "--connections",
            "20",
            "--duration",
            "0.5",
            "--warmup",
            "0.1",
            "--threads",
            "3",
        ],
    );
    assert!(first_value(&result) > 0.0, "no echo counted: {result}");
}

#[test]
fn connect_churn_spreads_over_pinned_threads() {
    let server = start(env!("CARGO_BIN_EXE_fastwebsockets-echo"), &[]);
    let result = ws_load(
        &server,
        "connect",
        &[
            "--concurrency",
            "4",
            "--duration",
            "0.5",
            "--warmup",
            "0.1",
            "--threads",
            "2",
            "--cpus",
            "0",
        ],
    );
    assert!(first_value(&result) > 0.0, "no cycle counted: {result}");
    assert!(result.contains("errors=0"), "{result}");
}

#[test]
fn ws_load_refuses_a_core_that_does_not_exist() {
    let server = start(env!("CARGO_BIN_EXE_tokio-tungstenite-echo"), &[]);
    let output = run_with_deadline(Command::new(env!("CARGO_BIN_EXE_ws-load")).args([
        "echo",
        &server.addr,
        "--cpus",
        "100000",
    ]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("core 100000"), "{stderr}");
}

//! How the ws-client binary ends (issue 11 items 4, 5 and 6), run as a subprocess
//! against ws-server, a python-websockets echo server, and raw TCP servers that
//! misbehave: each ending at the right moment, with its exit status, and nothing owed
//! left unprinted.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{PATIENCE, answering, echo_server, switching};

/// The client, started; `stdin` stays open until dropped.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
}

fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws-client"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    Running { child, stdin }
}

struct Ended {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Running {
    fn write(&mut self, input: &[u8]) -> &mut Self {
        self.stdin.as_mut().unwrap().write_all(input).unwrap();
        self
    }

    fn close_stdin(&mut self) -> &mut Self {
        self.stdin = None;
        self
    }

    /// Waits for the end, at most PATIENCE (then kills it and fails).
    fn wait(&mut self) -> Ended {
        let mut stdout = self.child.stdout.take().unwrap();
        let mut stderr = self.child.stderr.take().unwrap();
        let out = thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > PATIENCE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "ws-client did not end within {PATIENCE:?}; stderr: {}",
                    err.join().unwrap()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        Ended {
            status: status.code(),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }
}

/// One frame from the client: opcode and unmasked payload.
fn read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).ok()?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).ok()?;
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).ok()?;
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut mask = [0u8; 4];
    stream.read_exact(&mut mask).ok()?;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).ok()?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Some((head[0] & 0x0f, payload))
}

/// Reads frames until the client's close; its status code, if it came.
fn read_until_close(stream: &mut TcpStream) -> Option<u16> {
    loop {
        let (opcode, payload) = read_frame(stream)?;
        if opcode == 0x8 {
            return Some(u16::from_be_bytes([payload[0], payload[1]]));
        }
    }
}

fn text_frame(text: &str) -> Vec<u8> {
    assert!(text.len() < 126);
    let mut frame = vec![0x81, text.len() as u8];
    frame.extend_from_slice(text.as_bytes());
    frame
}

fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut frame = vec![0x88, 2 + reason.len() as u8];
    frame.extend_from_slice(&code.to_be_bytes());
    frame.extend_from_slice(reason.as_bytes());
    frame
}

/// A raw server: the handshake, then `then`.
fn raw_server(then: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let addr = answering(|head| switching(head, ""), then);
    format!("ws://{addr}/")
}

#[test]
fn piped_lines_are_all_echoed_by_ws_server() {
    let server = echo_server();
    let url = format!("ws://{}/", server.addr);
    let ended = start(&[&url], &[])
        .write(b"hello\nsecond line\n")
        .close_stdin()
        .wait();
    assert_eq!(ended.status, Some(0), "{}", ended.stderr);
    assert_eq!(ended.stdout, "hello\nsecond line\n");
    assert_eq!(ended.stderr, "");
}

/// python-websockets stops sending once it has the client's close: the client must
/// linger after stdin ends, or the echoes are never sent.
#[test]
fn piped_lines_are_all_echoed_by_python_websockets() {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("skipped: python3 is not available (scripts/interop.sh runs this check in CI)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let made = Command::new("bash")
        .arg(root.join("scripts/interop.sh"))
        .arg("--venv-only")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "scripts/interop.sh --venv-only: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    for compression in [&[][..], &["--no-compression"][..]] {
        let mut python = Command::new(root.join("target/interop/venv/bin/python"))
            .arg(root.join("scripts/interop_websockets.py"))
            .arg("--echo-server")
            .args(compression)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        let (tx, rx) = mpsc::channel();
        let stdout = python.stdout.take().unwrap();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        port.push_str(rx.recv_timeout(PATIENCE).unwrap().trim());
        let url = format!("ws://127.0.0.1:{port}/");
        let ended = start(&[&url], &[])
            .write(b"hello\nsecond line\n")
            .close_stdin()
            .wait();
        drop(python.stdin.take());
        let _ = python.wait();
        assert_eq!(ended.status, Some(0), "{compression:?}: {}", ended.stderr);
        assert_eq!(ended.stdout, "hello\nsecond line\n", "{compression:?}");
    }
}

#[test]
fn the_server_closing_first_ends_the_client_at_once_with_everything_printed() {
    let url = raw_server(|mut stream| {
        stream.write_all(&text_frame("first")).unwrap();
        stream.write_all(&text_frame("last")).unwrap();
        stream.write_all(&close_frame(1000, "done")).unwrap();
        read_until_close(&mut stream);
    });
    // Stdin stays open: the client must not wait for it.
    let mut client = start(&[&url], &[]);
    let ended = client.wait();
    assert_eq!(ended.status, Some(0), "{}", ended.stderr);
    assert_eq!(ended.stdout, "first\nlast\n");
    assert_eq!(ended.stderr, "");
}

#[test]
fn a_server_close_code_other_than_1000_is_status_3() {
    let url = raw_server(|mut stream| {
        stream.write_all(&close_frame(1001, "restarting")).unwrap();
        read_until_close(&mut stream);
    });
    let ended = start(&[&url], &[]).wait();
    assert_eq!(ended.status, Some(3));
    assert_eq!(
        ended.stderr,
        "ws-client: server closed with 1001 (going away) restarting\n"
    );
}

#[test]
fn a_close_answered_with_tcp_kept_open_ends_at_the_close_timeout_with_status_0() {
    let (tx, rx) = mpsc::channel();
    let url = raw_server(move |mut stream| {
        let code = read_until_close(&mut stream);
        stream.write_all(&close_frame(1000, "")).unwrap();
        let _ = tx.send(code);
        // Keep TCP open until the client closes it.
        let _ = stream.read(&mut [0u8; 16]);
    });
    let ended = start(&["--linger", "0", "--close-timeout", "0.3", &url], &[])
        .close_stdin()
        .wait();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), Some(1000));
    assert_eq!(ended.status, Some(0), "{}", ended.stderr);
    assert_eq!(
        ended.stderr,
        "ws-client: warning: the server answered the close but kept the TCP connection open past the close timeout; closed it\n"
    );
}

#[test]
fn a_close_never_answered_ends_at_the_close_timeout_with_status_5() {
    let url = raw_server(|mut stream| {
        read_until_close(&mut stream);
        let _ = stream.read(&mut [0u8; 16]);
    });
    let ended = start(&["--linger", "0", "--close-timeout", "0.3", &url], &[])
        .close_stdin()
        .wait();
    assert_eq!(ended.status, Some(5));
    assert_eq!(
        ended.stderr,
        "ws-client: the server did not answer the close within the close timeout; closed the TCP connection\n"
    );
}

#[test]
fn a_server_that_vanishes_without_a_fin_ends_the_client_with_status_4() {
    let (release, released) = mpsc::channel::<()>();
    let url = raw_server(move |_stream| {
        let _ = released.recv_timeout(PATIENCE);
    });
    let mut client = start(
        &["--keepalive", "0.2", "--keepalive-timeout", "0.3", &url],
        &[],
    );
    let ended = client.wait();
    release.send(()).unwrap();
    assert_eq!(ended.status, Some(4));
    assert!(
        ended
            .stderr
            .starts_with("ws-client: the server sent nothing for ")
            && ended
                .stderr
                .ends_with(", not even a pong to a keepalive ping; closed the TCP connection\n"),
        "{}",
        ended.stderr
    );
}

#[test]
fn a_connection_lost_without_a_close_is_status_4() {
    let url = raw_server(|mut stream| {
        stream.write_all(&text_frame("before the end")).unwrap();
    });
    let ended = start(&[&url], &[]).wait();
    assert_eq!(ended.status, Some(4));
    assert_eq!(ended.stdout, "before the end\n");
    assert_eq!(
        ended.stderr,
        "ws-client: connection closed without a closing handshake\n"
    );
}

/// `ws-client URL | head -1`: once stdout's reader is gone the client closes with 1001
/// and ends quietly, with status 0.
#[test]
fn a_closed_stdout_closes_the_connection_and_ends_cleanly() {
    let (tx, rx) = mpsc::channel();
    let url = raw_server(move |mut stream| {
        let reader = stream.try_clone().unwrap();
        let (got_close, close) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = reader;
            let _ = got_close.send(read_until_close(&mut reader));
        });
        let started = Instant::now();
        let mut n = 0;
        let code = loop {
            if let Ok(code) = close.try_recv() {
                break code;
            }
            if started.elapsed() > PATIENCE
                || stream.write_all(&text_frame(&format!("line {n}"))).is_err()
            {
                break None;
            }
            n += 1;
            thread::sleep(Duration::from_millis(5));
        };
        if code.is_some() {
            let _ = stream.write_all(&close_frame(1001, ""));
        }
        let _ = tx.send(code);
    });
    let mut client = start(&[&url], &[]);
    {
        // `head -1`: one line, then the pipe's reader is gone.
        let stdout = client.child.stdout.take().unwrap();
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        assert_eq!(first, "line 0\n");
    }
    client.child.stdout = None;
    let mut stderr = client.child.stderr.take().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PATIENCE {
            let _ = client.child.kill();
            panic!("ws-client did not end after its stdout closed");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), Some(1001));
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

/// `ws-client: 2026-01-02T03:04:05.678Z debug ws_client...: ...`: a diagnostic below
/// warning level carries its time, level and module.
fn debug_record(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("ws-client: ") else {
        return false;
    };
    let Some((time, rest)) = rest.split_once(' ') else {
        return false;
    };
    time.len() == "2026-01-02T03:04:05.678Z".len()
        && time.ends_with('Z')
        && time.as_bytes()[10] == b'T'
        && rest.starts_with("debug ws_client")
}

#[test]
fn diagnostics_go_through_env_logger_and_rust_log() {
    let server = echo_server();
    let url = format!("ws://{}/", server.addr);
    let ended = start(&["--linger", "0", &url], &[("RUST_LOG", "debug")])
        .close_stdin()
        .wait();
    assert_eq!(ended.status, Some(0), "{}", ended.stderr);
    assert!(
        ended
            .stderr
            .lines()
            .any(|l| debug_record(l) && l.contains("connected to")),
        "{}",
        ended.stderr
    );
    let ended = start(&["--linger", "0", &url], &[("RUST_LOG", "off")])
        .close_stdin()
        .wait();
    assert_eq!(ended.stderr, "");
    // -vv is debug whatever RUST_LOG says; -q errors only.
    let ended = start(&["-vv", "--linger", "0", &url], &[("RUST_LOG", "off")])
        .close_stdin()
        .wait();
    assert!(ended.stderr.lines().any(debug_record), "{}", ended.stderr);
    let ended = start(&["-q", "--linger", "0", &url], &[("RUST_LOG", "debug")])
        .close_stdin()
        .wait();
    assert_eq!(ended.stderr, "");
}

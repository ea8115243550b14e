//! The examples run as a user runs them: each a real process on a real port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ws_client::{ClientBuilder, Message};

/// `cargo test` builds the examples beside the test binary's directory.
fn example(name: &str) -> Command {
    let mut path: PathBuf = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    Command::new(path.join("examples").join(name))
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// A child process killed when dropped, so that a failed test leaves none behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a server example and returns it with the first line it printed.
fn start(name: &str, args: &[&str]) -> (Running, String) {
    let mut child = example(name)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Running(child), line)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the example did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn echo_takes_its_port_says_where_it_listens_and_closes_with_1001_on_ctrl_c() {
    let port = free_port();
    let (mut child, line) = start("echo", &[&port.to_string()]);
    assert_eq!(
        line,
        format!("listening on ws://127.0.0.1:{port}/ (Ctrl-C to stop)\n")
    );
    let mut client = ClientBuilder::new(&format!("ws://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    client.send_text("hello").unwrap();
    assert!(matches!(client.recv().unwrap(), Message::Text(t) if t == "hello"));

    // proto_client takes a URL, and prints what a user reads.
    let out = example("proto_client")
        .args([&format!("ws://127.0.0.1:{port}/chat?room=1"), "by hand"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "by hand\nclosed: 1000 (normal closure)\n"
    );

    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    match client.recv().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close with 1001, got {other:?}"),
    }
    drop(client);
    assert!(wait_exit(&mut child.0).success());
}

#[test]
fn a_port_that_is_not_one_is_a_usage_error() {
    let out = example("echo").arg("eighty").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("[PORT]") && err.contains("\"eighty\""),
        "{err}"
    );
}

/// Ctrl-C (SIGINT) to a tokio server example: each client gets 1001, then the program
/// ends with success once the clients have answered.
fn tokio_server_closes_with_1001_on_ctrl_c(name: &str, first_line: &str, path: &str) {
    let port = free_port();
    let (mut child, line) = start(name, &[&format!("127.0.0.1:{port}")]);
    assert_eq!(line, format!("{first_line}127.0.0.1:{port}\n"));
    let mut client = ClientBuilder::new(&format!("ws://127.0.0.1:{port}{path}"))
        .connect()
        .unwrap();
    client.send_text("hello").unwrap();
    // The echo, or the chat's line "PEER: hello" (after its "PEER joined").
    loop {
        match client.recv().unwrap() {
            Message::Text(t) if t.ends_with("hello") => break,
            Message::Text(_) => {}
            other => panic!("expected the text back, got {other:?}"),
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        match client.recv().unwrap() {
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1001);
                break;
            }
            // The chat's own lines ("... joined") may come first.
            Message::Text(_) => {}
            other => panic!("expected a close with 1001, got {other:?}"),
        }
    }
    drop(client);
    assert!(wait_exit(&mut child.0).success());
}

#[test]
fn tokio_echo_server_closes_with_1001_on_ctrl_c() {
    tokio_server_closes_with_1001_on_ctrl_c("tokio_echo_server", "listening on ws://", "/");
}

#[test]
fn tokio_chat_closes_with_1001_on_ctrl_c() {
    tokio_server_closes_with_1001_on_ctrl_c("tokio_chat", "chat on ws://", "/");
}

#[test]
fn hyper_upgrade_closes_with_1001_on_ctrl_c() {
    tokio_server_closes_with_1001_on_ctrl_c("hyper_upgrade", "listening on http://", "/ws");
}

#[test]
fn tokio_client_leaves_with_1001_on_ctrl_c() {
    use std::sync::mpsc;
    // A server that reports the close code each connection ended with.
    let (codes, ended) = mpsc::channel();
    let (addr_tx, addr_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let server = ws_server_blocking::Server::builder()
            .listen("127.0.0.1:0")
            .on_connect(move |_server, conn| {
                let codes = codes.clone();
                conn.on_disconnect(move |_conn, code, _reason| {
                    let _ = codes.send(code);
                });
            })
            .bind()
            .unwrap();
        addr_tx
            .send((server.local_addr(), server.shutdown_handle()))
            .unwrap();
        server.start().unwrap();
    });
    let (addr, shutdown) = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut child = example("tokio_client")
        .arg(format!("ws://{addr}/"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // "connected to ..." once the handshake is done.
    let mut line = String::new();
    // Kept open to the end: the client's last lines must not meet a closed pipe.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("connected to"), "{line}");
    let mut child = Running(child);
    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(ended.recv_timeout(Duration::from_secs(10)), Ok(1001));
    assert!(wait_exit(&mut child.0).success());
    drop(stderr);
    shutdown.shutdown();
}

#[test]
fn axum_upgrade_closes_with_1001_on_ctrl_c() {
    tokio_server_closes_with_1001_on_ctrl_c("axum_upgrade", "listening on http://", "/ws");
}

/// axum_upgrade: the page and the WebSocket on one port; the server's preferred
/// subprotocol among those offered; 403 for a page of another site, in the page's own
/// origin.
#[test]
fn axum_upgrade_serves_the_page_picks_a_subprotocol_and_refuses_other_origins() {
    use std::io::{Read, Write};
    let port = free_port();
    let (_child, line) = start("axum_upgrade", &[&format!("127.0.0.1:{port}")]);
    assert_eq!(line, format!("listening on http://127.0.0.1:{port}\n"));

    let mut http = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    http.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("new WebSocket"), "{page}");

    let url = format!("ws://127.0.0.1:{port}/ws");
    let mut client = ClientBuilder::new(&url)
        .origin(&format!("http://127.0.0.1:{port}"))
        .protocol("echo.v1")
        .protocol("echo.v2")
        .connect()
        .unwrap();
    assert_eq!(
        client.protocol(),
        Some("echo.v2"),
        "the server's preference"
    );
    client.send_text("hello").unwrap();
    assert_eq!(client.recv().unwrap(), Message::Text("hello".into()));
    client.close(ws_client::CloseCode::NORMAL, "").unwrap();

    let refused = ClientBuilder::new(&url)
        .origin("http://evil.example")
        .connect()
        .expect_err("a foreign origin is refused");
    assert!(refused.to_string().contains("403"), "{refused}");
}

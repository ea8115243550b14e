//! `ws-server --mode chat` over real sockets: the protocol (docs/chat-protocol.md), its
//! limits, and the same-origin check. The page itself is checked in a browser by
//! `scripts/browser.sh`.

mod common;

use common::{Client, ServerProcess, connect_with, raw_exchange};
use serde_json::{Value, json};
use ws_proto::handshake::ClientRequest;

fn chat(extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--mode", "chat"];
    args.extend_from_slice(extra);
    ServerProcess::start(&args)
}

/// A page's WebSocket: `path` with the Origin a page served by this server sends.
fn open(server: &ServerProcess, path: &str) -> Client {
    let host = server.addr.to_string();
    let request = ClientRequest::new("127.0.0.1", path)
        .port(server.addr.port())
        .origin(&format!("http://{host}"));
    connect_with(server.addr, request).expect("handshake")
}

fn send(client: &mut Client, value: Value) {
    client.send_text(&value.to_string());
}

/// The next message that is not a presence list.
fn next(client: &mut Client) -> Value {
    loop {
        let value: Value = serde_json::from_str(&client.expect_text()).unwrap();
        if value["type"] != "presence" {
            return value;
        }
    }
}

/// The next presence list.
fn next_presence(client: &mut Client) -> Value {
    loop {
        let value: Value = serde_json::from_str(&client.expect_text()).unwrap();
        if value["type"] == "presence" {
            return value;
        }
    }
}

fn join(server: &ServerProcess, name: &str, room: &str) -> Client {
    let mut client = open(server, &format!("/ws/{room}"));
    send(
        &mut client,
        json!({"type": "join", "name": name, "room": room}),
    );
    let joined = next(&mut client);
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["name"], name);
    assert_eq!(joined["room"], room);
    client
}

mod rooms {
    use super::*;

    #[test]
    fn a_message_reaches_everyone_in_the_room_with_sender_and_time() {
        let server = chat(&[]);
        let mut alice = join(&server, "alice", "lobby");
        let mut bob = join(&server, "bob", "lobby");
        send(
            &mut alice,
            json!({"type": "message", "text": "<img src=x onerror=alert(1)>"}),
        );
        for client in [&mut alice, &mut bob] {
            let msg = next(client);
            assert_eq!(msg["type"], "message", "{msg}");
            assert_eq!(msg["room"], "lobby");
            assert_eq!(msg["name"], "alice");
            assert_eq!(msg["text"], "<img src=x onerror=alert(1)>");
            assert!(msg["time"].as_u64().unwrap() > 1_600_000_000_000, "{msg}");
        }
    }

    #[test]
    fn other_rooms_hear_nothing() {
        let server = chat(&[]);
        let mut alice = join(&server, "alice", "one");
        let mut carol = join(&server, "carol", "two");
        send(
            &mut alice,
            json!({"type": "message", "text": "for room one"}),
        );
        assert_eq!(next(&mut alice)["text"], "for room one");
        send(
            &mut carol,
            json!({"type": "message", "text": "for room two"}),
        );
        // Carol's next message is her own, not alice's: room one's never reached her.
        let msg = next(&mut carol);
        assert_eq!(msg["text"], "for room two", "{msg}");
        assert_eq!(msg["room"], "two");
    }

    #[test]
    fn the_room_comes_from_the_path_or_the_join_or_is_the_lobby() {
        let server = chat(&[]);
        let mut by_join = open(&server, "/ws");
        send(
            &mut by_join,
            json!({"type": "join", "name": "x", "room": "r1"}),
        );
        assert_eq!(next(&mut by_join)["room"], "r1");
        let mut by_default = open(&server, "/ws");
        send(&mut by_default, json!({"type": "join", "name": "y"}));
        assert_eq!(next(&mut by_default)["room"], "lobby");
        let mut both = open(&server, "/ws/r1");
        send(
            &mut both,
            json!({"type": "join", "name": "z", "room": "r2"}),
        );
        let err = next(&mut both);
        assert_eq!(err["code"], "bad_room", "{err}");
    }

    #[test]
    fn presence_lists_the_names_of_the_room() {
        let server = chat(&[]);
        let mut alice = join(&server, "alice", "p");
        assert_eq!(next_presence(&mut alice)["names"], json!(["alice"]));
        let bob = join(&server, "bob", "p");
        let list = next_presence(&mut alice);
        assert_eq!(list["names"], json!(["alice", "bob"]), "{list}");
        assert_eq!(list["every"], 5);
        assert!(list["server"].as_str().unwrap().contains('.'));
        drop(bob);
        let list = next_presence(&mut alice);
        assert_eq!(list["names"], json!(["alice"]), "{list}");
    }
}

mod refusals {
    use super::*;

    #[test]
    fn bad_names_are_refused_with_a_reason_and_the_page_may_try_again() {
        let server = chat(&[]);
        let mut client = open(&server, "/ws/lobby");
        for (name, why) in [
            ("", "needed"),
            ("<script>", "'<'"),
            (&"n".repeat(33), "at most 32"),
        ] {
            send(&mut client, json!({"type": "join", "name": name}));
            let err = next(&mut client);
            assert_eq!(err["type"], "error", "{err}");
            assert_eq!(err["code"], "bad_name");
            assert!(err["message"].as_str().unwrap().contains(why), "{err}");
        }
        send(&mut client, json!({"type": "join", "name": "fine name"}));
        assert_eq!(next(&mut client)["type"], "joined");
    }

    #[test]
    fn messages_before_joining_and_unknown_shapes_are_errors() {
        let server = chat(&[]);
        let mut client = open(&server, "/ws/lobby");
        send(&mut client, json!({"type": "message", "text": "hi"}));
        assert_eq!(next(&mut client)["code"], "not_joined");
        client.send_text("not json");
        assert_eq!(next(&mut client)["code"], "bad_request");
        send(&mut client, json!({"type": "shout"}));
        assert_eq!(next(&mut client)["code"], "bad_request");
        client.send_binary(b"\x00");
        assert_eq!(next(&mut client)["code"], "binary");
        send(&mut client, json!({"type": "join", "name": "a"}));
        assert_eq!(next(&mut client)["type"], "joined");
        send(&mut client, json!({"type": "join", "name": "a"}));
        assert_eq!(next(&mut client)["code"], "already_joined");
    }

    #[test]
    fn a_bad_room_in_the_path_is_400_and_other_paths_404() {
        let server = chat(&[]);
        let request = |path: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                server.addr
            )
        };
        let answer = raw_exchange(server.addr, request("/ws/Big%20Room").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("lower-case letters"), "{answer}");
        let answer = raw_exchange(server.addr, request("/elsewhere").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    }
}

mod limits {
    use super::*;

    #[test]
    fn a_message_over_the_text_cap_is_refused() {
        let server = chat(&["--chat-max-text", "10"]);
        let mut client = join(&server, "a", "lobby");
        send(
            &mut client,
            json!({"type": "message", "text": "é".repeat(10)}),
        );
        assert_eq!(next(&mut client)["text"], "é".repeat(10));
        send(
            &mut client,
            json!({"type": "message", "text": "x".repeat(11)}),
        );
        let err = next(&mut client);
        assert_eq!(err["code"], "too_long", "{err}");
        assert!(err["message"].as_str().unwrap().contains("at most 10"));
    }

    #[test]
    fn a_frame_far_over_the_text_cap_is_closed_with_1009() {
        let server = chat(&["--chat-max-text", "10"]);
        let mut client = join(&server, "a", "lobby");
        // 10 characters * 4 bytes + 1024 is the most a frame may carry.
        send(
            &mut client,
            json!({"type": "message", "text": "x".repeat(2000)}),
        );
        assert_eq!(client.expect_close().0, 1009);
    }

    #[test]
    fn flooding_is_closed_with_1008() {
        // A burst of 3 and one message a minute: the fourth message is over the rate
        // however fast or slow this machine is.
        let server = chat(&["--chat-burst", "3", "--chat-rate", "0.0166"]);
        let mut flooder = join(&server, "flood", "lobby");
        let mut victim = join(&server, "victim", "lobby");
        for n in 0..10 {
            send(
                &mut flooder,
                json!({"type": "message", "text": format!("spam {n}")}),
            );
        }
        // The join took one token: two messages pass, the third is over the limit.
        assert_eq!(next(&mut victim)["text"], "spam 0");
        assert_eq!(next(&mut victim)["text"], "spam 1");
        let (code, reason) = flooder.expect_close();
        assert_eq!(code, 1008, "{reason}");
        assert!(reason.contains("rate limit"), "{reason}");
        // The victim is still served.
        send(
            &mut victim,
            json!({"type": "message", "text": "still here"}),
        );
        assert_eq!(next(&mut victim)["text"], "still here");
    }

    #[test]
    fn limits_that_make_no_sense_are_usage_errors() {
        for args in [
            &["--chat-rate", "0"][..],
            &["--chat-rate", "-1"],
            &["--chat-rate", "NaN"],
            &["--chat-presence-every", "0"],
        ] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws-server"))
                .args(["--mode", "chat"])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
        }
    }
}

mod origin {
    use super::*;

    #[test]
    fn another_origin_is_refused_with_403() {
        let server = chat(&[]);
        let request = ClientRequest::new("127.0.0.1", "/ws")
            .port(server.addr.port())
            .origin("http://evil.example");
        let Err(err) = connect_with(server.addr, request) else {
            panic!("a page of another origin was let in");
        };
        assert!(err.to_string().contains("403"), "{err}");
    }

    #[test]
    fn another_origin_is_accepted_when_allowed() {
        let server = chat(&["--chat-allow-origin", "http://friend.example"]);
        let request = ClientRequest::new("127.0.0.1", "/ws")
            .port(server.addr.port())
            .origin("http://friend.example");
        let mut client = connect_with(server.addr, request).expect("handshake");
        send(&mut client, json!({"type": "join", "name": "f"}));
        assert_eq!(next(&mut client)["type"], "joined");
    }

    #[test]
    fn a_client_without_origin_is_not_a_page_and_is_accepted() {
        let server = chat(&[]);
        let request = ClientRequest::new("127.0.0.1", "/ws").port(server.addr.port());
        let mut client = connect_with(server.addr, request).expect("handshake");
        send(&mut client, json!({"type": "join", "name": "cli"}));
        assert_eq!(next(&mut client)["type"], "joined");
    }
}

mod page {
    use super::*;

    fn get(server: &ServerProcess, method: &str, path: &str) -> String {
        raw_exchange(
            server.addr,
            format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes(),
        )
    }

    fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
        let head = answer.split("\r\n\r\n").next().unwrap();
        head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    #[test]
    fn the_page_is_html_with_a_strict_policy() {
        let server = chat(&[]);
        let answer = get(&server, "GET", "/");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(
            header(&answer, "Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&answer, "X-Content-Type-Options"), Some("nosniff"));
        let csp = header(&answer, "Content-Security-Policy").expect("a CSP");
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        assert!(body.starts_with("<!doctype html>"));
        assert!(body.contains("aria-live=\"polite\""));
        assert!(body.contains("textContent"));
        assert!(!body.contains("innerHTML"));
        let length: usize = header(&answer, "Content-Length").unwrap().parse().unwrap();
        assert_eq!(length, body.len());
    }

    #[test]
    fn head_has_no_body_and_other_paths_and_methods_are_refused() {
        let server = chat(&[]);
        let answer = get(&server, "HEAD", "/");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n"), "{answer}");
        // RFC 9110 9.3.2: the header fields GET would get, Content-Length included.
        let got = get(&server, "GET", "/");
        assert_eq!(
            header(&answer, "Content-Length"),
            header(&got, "Content-Length")
        );
        let answer = get(&server, "POST", "/");
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
        assert_eq!(header(&answer, "Allow"), Some("GET, HEAD"));
        assert!(get(&server, "GET", "/secret").starts_with("HTTP/1.1 404"));
        assert!(get(&server, "GET", "/ws").starts_with("HTTP/1.1 426"));
    }
}

mod workers {
    use super::*;

    #[test]
    fn a_room_spans_the_worker_loops_of_a_process() {
        let server = chat(&["--workers", "2"]);
        let mut clients: Vec<Client> = (0..6)
            .map(|n| join(&server, &format!("p{n}"), "lobby"))
            .collect();
        send(
            &mut clients[0],
            json!({"type": "message", "text": "to all six"}),
        );
        for client in &mut clients {
            let msg = next(client);
            assert_eq!(msg["text"], "to all six", "{msg}");
        }
        // The presence list is the process's, whichever worker holds whom (a list sent
        // before the sixth join may still be on its way from another worker: skip those).
        let last = clients.last_mut().unwrap();
        let sizes: Vec<usize> = (0..10)
            .map(|_| next_presence(last)["names"].as_array().unwrap().len())
            .take_while(|&n| n != 6)
            .collect();
        assert!(sizes.len() < 10, "no list of six names: {sizes:?}");
    }

    #[test]
    fn healthz_is_answered_beside_the_page() {
        let server = chat(&[]);
        let answer = raw_exchange(
            server.addr,
            format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// Two chat processes sharing rooms through a real redis-server.
mod across_processes {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    struct Redis {
        port: u16,
        child: Child,
    }

    impl Redis {
        fn start() -> Redis {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server (scripts/install-deps.sh redis installs it)");
            let redis = Redis { port, child };
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return redis;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("redis-server did not listen on {port} within 5 s");
        }
    }

    impl Drop for Redis {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Presence lists until one from a server other than `own` (at most 30 lists, one a
    /// second from each server).
    fn other_servers_list(client: &mut Client, own: &str) -> Value {
        for _ in 0..30 {
            let list = next_presence(client);
            if list["server"] != own {
                return list;
            }
        }
        panic!("no presence list from the other process in 30 lists");
    }

    #[test]
    #[ignore = "needs redis-server: run by scripts/browser.sh"]
    fn two_processes_share_a_room_and_its_presence() {
        let redis = Redis::start();
        let url = format!("redis://127.0.0.1:{}/", redis.port);
        let args = ["--redis", url.as_str(), "--chat-presence-every", "1"];
        let one = chat(&args);
        let two = chat(&args);
        let mut alice = open(&one, "/ws/lobby");
        send(&mut alice, json!({"type": "join", "name": "alice"}));
        let alice_server = next(&mut alice)["server"].as_str().unwrap().to_owned();
        let mut bob = open(&two, "/ws/lobby");
        send(&mut bob, json!({"type": "join", "name": "bob"}));
        let bob_server = next(&mut bob)["server"].as_str().unwrap().to_owned();
        assert_ne!(alice_server, bob_server);
        // Each hears the other's process: both are subscribed through Redis.
        let list = other_servers_list(&mut bob, &bob_server);
        assert_eq!(list["names"], json!(["alice"]), "{list}");
        let list = other_servers_list(&mut alice, &alice_server);
        assert_eq!(list["names"], json!(["bob"]), "{list}");
        send(&mut alice, json!({"type": "message", "text": "across"}));
        let msg = next(&mut bob);
        assert_eq!(
            (msg["name"].as_str(), msg["text"].as_str()),
            (Some("alice"), Some("across"))
        );
        send(&mut bob, json!({"type": "message", "text": "back"}));
        assert_eq!(next(&mut alice)["text"], "across", "her own message, once");
        assert_eq!(next(&mut alice)["text"], "back");
    }
}

//! The server's events, options and limits, each over real sockets on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{PATIENCE, connect, connect_with, echo, raw_exchange, serve, tcp};
use ws_proto::handshake::ClientRequest;
use ws_proto::{Event, MessageKind};
use ws_server_blocking::{Builder, CloseCode, Error};

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Reports `(code, reason)` of every disconnect on the returned channel.
fn disconnects(
    builder: ws_server_blocking::Builder,
    tx: mpsc::Sender<(u16, String)>,
) -> ws_server_blocking::Builder {
    builder.on_connect(move |_, conn| {
        conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        let tx = tx.clone();
        conn.on_disconnect(move |_, code, reason| {
            let _ = tx.send((code, reason.to_owned()));
        });
    })
}

#[test]
fn echoes_text_binary_fragmented_and_large_messages() {
    let server = serve(echo);
    let mut client = connect(server.addr);
    client.send_text("hello");
    assert_eq!(client.expect_text(), "hello");
    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
    client.send_binary(&big);
    assert_eq!(client.expect_binary(), big);
    client
        .session
        .send_fragment(MessageKind::Text, "frag".as_bytes(), false)
        .unwrap();
    client.session.send_ping(b"in between").unwrap();
    client
        .session
        .send_fragment(MessageKind::Text, "mented \u{2603}".as_bytes(), true)
        .unwrap();
    client.flush();
    assert_eq!(
        client.next_event(),
        Some(Event::Pong(b"in between".to_vec().into()))
    );
    assert_eq!(client.expect_text(), "fragmented \u{2603}");
    client.close(1000, "bye");
    assert_eq!(client.expect_close().0, 1000);
    client.expect_eof();
}

#[test]
fn frames_sent_with_the_handshake_are_not_lost() {
    let server = serve(echo);
    let mut stream = tcp(server.addr);
    // The handshake and a masked "hi" frame in one write.
    let mut bytes = format!("{UPGRADE}\r\n").into_bytes();
    bytes.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    stream.write_all(&bytes).unwrap();
    let mut answer = vec![0u8; 4096];
    let mut got = 0;
    while !answer[..got].windows(4).any(|w| w == b"\x81\x02hi") {
        let n = stream.read(&mut answer[got..]).unwrap();
        assert!(n > 0, "closed before the echo");
        got += n;
    }
}

#[test]
fn handshake_callback_sees_the_request_and_chooses_the_protocol() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            let tx = tx.clone();
            conn.on_handshake(move |_, hs| {
                let r = hs.request();
                tx.send((
                    r.path().to_owned(),
                    r.query().map(str::to_owned),
                    r.origin().map(str::to_owned),
                    r.cookie("sid").map(str::to_owned),
                    r.header("x-custom").map(str::to_owned),
                ))
                .unwrap();
                if r.protocols().iter().any(|p| p == "chat.v2") {
                    hs.select_protocol("chat.v2");
                }
                hs.add_header("X-Hello", "world");
            });
        })
    });
    let request = ClientRequest::new("127.0.0.1", "/room/1?user=ann")
        .port(server.addr.port())
        .origin("http://example.com")
        .protocol("chat.v1")
        .protocol("chat.v2")
        .header("Cookie", "theme=dark; sid=abc123")
        .header("X-Custom", "yes");
    let client = connect_with(server.addr, request).unwrap();
    assert_eq!(client.response.protocol(), Some("chat.v2"));
    assert_eq!(client.response.headers().get("x-hello"), Some("world"));
    let seen = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(
        seen,
        (
            "/room/1".to_owned(),
            Some("user=ann".to_owned()),
            Some("http://example.com".to_owned()),
            Some("abc123".to_owned()),
            Some("yes".to_owned())
        )
    );
}

#[test]
fn bad_handshakes_get_an_http_status_and_the_socket_closes() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            conn.on_handshake(|conn, hs| match hs.request().path() {
                "/forbidden" => hs.refuse(403),
                "/perl-style" => conn.disconnect(CloseCode::NORMAL, ""),
                _ => {}
            });
        })
    });
    let cases = [
        (
            UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "400 Bad Request",
        ),
        (
            UPGRADE.replace("Version: 13", "Version: 8"),
            "426 Upgrade Required",
        ),
        (UPGRADE.replace("GET", "POST"), "405 Method Not Allowed"),
        (
            UPGRADE.replace("Upgrade: websocket\r\n", ""),
            "426 Upgrade Required",
        ),
        (UPGRADE.replace("/chat", "/forbidden"), "403 Forbidden"),
        (UPGRADE.replace("/chat", "/perl-style"), "403 Forbidden"),
        (
            format!("{UPGRADE}X-Pad: {}\r\n", "p".repeat(9000)),
            "431 Request Header Fields Too Large",
        ),
    ];
    for (request, status) in cases {
        // raw_exchange reads until the server closes: a hang here is a failure.
        let answer = raw_exchange(server.addr, format!("{request}\r\n").as_bytes());
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}\r\n")),
            "expected {status}, got {answer:?}"
        );
        if status.starts_with("426") && !request.contains("Upgrade: websocket") {
            // A plain HTTP request: RFC 9110 15.5.22 asks for the protocol to upgrade to.
            assert!(answer.contains("\r\nUpgrade: websocket\r\n"), "{answer}");
        } else if status.starts_with("426") {
            assert!(answer.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        }
    }
}

#[test]
fn oversized_messages_are_closed_with_1009() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| disconnects(b.max_recv_size(1000), tx));
    let mut client = connect(server.addr);
    client.send_text(&"a".repeat(1000));
    assert_eq!(client.expect_text().len(), 1000);
    client.send_text(&"a".repeat(1001));
    assert_eq!(client.expect_close().0, 1009);
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, 1009);

    // A frame header announcing more than the limit is enough: no payload is awaited.
    let mut client = connect(server.addr);
    client
        .stream
        .write_all(&[0x82, 0xFF, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4])
        .unwrap();
    assert_eq!(client.expect_close().0, 1009);
}

#[test]
fn protocol_errors_close_with_their_code() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| disconnects(b, tx));
    let cases: [(&[u8], u16); 4] = [
        (&[0x81, 0x02, b'h', b'i'], 1002),             // unmasked
        (&[0x83, 0x80, 1, 2, 3, 4], 1002),             // reserved opcode
        (&[0x81, 0x81, 0, 0, 0, 0, 0xFF], 1007),       // invalid UTF-8
        (&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED], 1002), // close code 1005
    ];
    for (bytes, code) in cases {
        let mut client = connect(server.addr);
        client.stream.write_all(bytes).unwrap();
        assert_eq!(client.expect_close().0, code, "for {bytes:02x?}");
        client.expect_eof();
        assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, code);
    }
}

#[test]
fn disconnect_callback_gets_the_code_and_reason() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| disconnects(b, tx));

    let mut client = connect(server.addr);
    client.close(4000, "see you");
    assert_eq!(client.expect_close(), (4000, String::new()));
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        (4000, "see you".to_owned())
    );

    let mut client = connect(server.addr);
    client.stream.write_all(&[0x88, 0x80, 1, 2, 3, 4]).unwrap(); // close without a code
    assert_eq!(client.expect_close().0, 1005);
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, 1005);

    let client = connect(server.addr);
    drop(client); // TCP closed without a closing handshake
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, 1006);
}

#[test]
fn server_initiated_disconnect_completes_the_closing_handshake() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            conn.on_utf8(|conn, _| conn.disconnect(CloseCode::new(4001).unwrap(), "requested"));
            let tx = tx.clone();
            conn.on_disconnect(move |_, code, reason| tx.send((code, reason.to_owned())).unwrap());
        })
    });
    let mut client = connect(server.addr);
    client.send_text("please close");
    assert_eq!(client.expect_close(), (4001, "requested".to_owned()));
    client.flush(); // our answer
    client.expect_eof();
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        (4001, "requested".to_owned())
    );
}

#[test]
fn no_message_callbacks_after_disconnect() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            let tx = tx.clone();
            conn.on_utf8(move |conn, msg| {
                tx.send(msg.to_owned()).unwrap();
                conn.disconnect(CloseCode::NORMAL, "enough");
            });
        })
    });
    let mut client = connect(server.addr);
    // Both messages leave before the client sees the server's close.
    client.session.send_text("first").unwrap();
    client.session.send_text("second").unwrap();
    client.flush();
    assert_eq!(client.expect_close(), (1000, "enough".to_owned()));
    client.flush();
    client.expect_eof();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "first");
    let late = rx.recv_timeout(Duration::from_millis(200));
    assert!(late.is_err(), "no callback after disconnect: {late:?}");
}

#[test]
fn callback_errors_close_with_1011_and_max_send_size_applies() {
    let server = serve(|b| {
        b.max_send_size(10).on_connect(|_, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
        })
    });
    let mut client = connect(server.addr);
    client.send_text("0123456789");
    assert_eq!(client.expect_text(), "0123456789");
    // Eleven bytes: send_utf8 fails with MessageTooLarge, the callback returns the error.
    client.send_text("0123456789A");
    assert_eq!(client.expect_close().0, 1011);
}

#[test]
fn silence_max_pings_silent_clients_and_drops_dead_ones() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.silence_max(Duration::from_millis(400))
            .on_connect(move |_, conn| {
                conn.on_utf8(|conn, msg| conn.send_utf8(msg));
                let tx = tx.clone();
                conn.on_disconnect(move |conn, code, reason| {
                    tx.send((conn.port(), code, reason.to_owned())).unwrap()
                });
            })
    });

    // A chatty client is never pinged.
    let mut chatty = connect(server.addr);
    chatty
        .stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let until = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < until {
        chatty.send_text("still here");
        match chatty.next_event() {
            Some(Event::Text(_)) => {}
            Some(Event::Ping(_)) => panic!("a chatty client was pinged"),
            other => panic!("unexpected {other:?}"),
        }
        thread::sleep(Duration::from_millis(40));
    }

    // A silent client that answers pings (its session pongs) is pinged and kept.
    let mut quiet = connect(server.addr);
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(1300);
    quiet
        .stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < until {
        let _ = quiet.session.write_to(&mut quiet.stream);
        match quiet.input.read_from(&mut quiet.stream) {
            Ok(0) => panic!("a client answering pings was dropped"),
            Ok(_) => {
                while let Some(event) = quiet.session.decode(&mut quiet.input).unwrap() {
                    assert!(matches!(event, Event::Ping(_)), "{event:?}");
                    pings += 1;
                }
                quiet.flush();
            }
            Err(_) => {} // read timeout: nothing this time
        }
    }
    assert!(pings >= 2, "expected repeated pings, got {pings}");
    quiet.stream.set_read_timeout(Some(PATIENCE)).unwrap();
    quiet.send_text("alive");
    assert_eq!(quiet.expect_text(), "alive");

    // A dead client (never reads, so never pongs) is dropped after silence_max more.
    // (The chatty client, silent and not reading since its loop ended, goes the same way.)
    let dead = connect(server.addr);
    let dead_port = dead.stream.local_addr().unwrap().port();
    let started = Instant::now();
    let (code, reason) = loop {
        let (port, code, reason) = rx.recv_timeout(PATIENCE).unwrap();
        if port == dead_port {
            break (code, reason);
        }
    };
    assert_eq!((code, reason.as_str()), (1006, "no answer to ping"));
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "dropped too early: {:?}",
        started.elapsed()
    );
    drop(dead);
}

#[test]
fn ticks_come_at_the_tick_period() {
    let (tx, rx) = mpsc::channel();
    let _server = serve(move |b| {
        b.tick_period(Duration::from_millis(50))
            .on_tick(move |_| tx.send(Instant::now()).unwrap())
    });
    let ticks: Vec<Instant> = (0..10)
        .map(|_| rx.recv_timeout(PATIENCE).unwrap())
        .collect();
    // Ticks keep to the schedule (a late tick is followed by one on time, so one gap
    // may be short on a loaded machine): nine periods take at least nine periods, less
    // the first tick's lateness, which a busy machine can make up to one period.
    let span = ticks[9] - ticks[0];
    assert!(
        span >= Duration::from_millis(400),
        "nine periods took {span:?}"
    );
}

#[test]
fn spinning_before_waiting_never_delays_a_timer() {
    // Asked for an hour (capped at 1 ms, and never past the next timer): after every
    // event the loop polls without waiting, and ticks still come, and clients are served.
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        echo(b.spin_before_wait(Duration::from_secs(3600)))
            .tick_period(Duration::from_millis(20))
            .on_tick(move |_| {
                let _ = tx.send(());
            })
    });
    let mut client = connect(server.addr);
    for i in 0..5 {
        client.send_text(&format!("m{i}"));
        assert_eq!(client.expect_text(), format!("m{i}"));
        rx.recv_timeout(PATIENCE).expect("a tick");
    }
    // Off: the loop sleeps at once, and serves all the same.
    let server = serve(|b| echo(b.spin_before_wait(Duration::ZERO)));
    let mut client = connect(server.addr);
    client.send_text("hi");
    assert_eq!(client.expect_text(), "hi");
    assert_eq!(
        ws_server_blocking::MAX_SPIN_BEFORE_WAIT,
        Duration::from_millis(1)
    );
}

#[test]
fn shutdown_closes_every_client_with_1001_and_start_returns() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        echo(b).on_shutdown(move |server| tx.send(server.connections().count()).unwrap())
    });
    let mut clients: Vec<_> = (0..20).map(|_| connect(server.addr)).collect();
    for client in &mut clients {
        client.send_text("ready?");
        assert_eq!(client.expect_text(), "ready?");
    }
    server.handle.shutdown();
    assert_eq!(
        rx.recv_timeout(PATIENCE).unwrap(),
        20,
        "on_shutdown sees every connection"
    );
    for client in &mut clients {
        assert_eq!(client.expect_close(), (1001, "server shutdown".to_owned()));
        client.flush();
        client.expect_eof();
    }
    server.join().unwrap();
}

#[test]
fn a_broadcast_reaches_1000_clients() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            conn.on_utf8(|conn, msg| {
                let reached = conn.server().broadcast_utf8(msg);
                conn.send_utf8(&format!("reached {reached}"))
            });
        })
    });
    let mut clients: Vec<_> = (0..1000).map(|_| connect(server.addr)).collect();
    clients[0].send_text("hello, everyone");
    for client in &mut clients {
        assert_eq!(client.expect_text(), "hello, everyone");
    }
    assert_eq!(clients[0].expect_text(), "reached 1000");
}

#[test]
fn a_client_that_stops_reading_is_dropped_at_the_output_cap() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.max_pending_output(256 * 1024).on_connect(move |_, conn| {
            conn.on_binary(|conn, msg| {
                conn.server().broadcast_binary(msg);
            });
            let tx = tx.clone();
            conn.on_disconnect(move |conn, code, reason| {
                tx.send((conn.port(), code, reason.to_owned())).unwrap()
            });
        })
    });
    let stalled = connect(server.addr); // never reads
    let stalled_port = stalled.stream.local_addr().unwrap().port();
    let mut reader = connect(server.addr);
    let message = vec![7u8; 64 * 1024];
    for i in 0..400 {
        reader.send_binary(&message);
        assert_eq!(
            reader.expect_binary().len(),
            message.len(),
            "message {i} lost for the reading client"
        );
    }
    let (port, code, reason) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!((port, code), (stalled_port, 1006));
    assert!(reason.contains("stopped reading"), "{reason}");
    drop(stalled);
}

#[test]
fn handshake_timeout_drops_silent_and_trickling_clients() {
    let server = serve(|b| echo(b).handshake_timeout(Duration::from_millis(300)));
    let mut silent = tcp(server.addr);
    let mut trickle = tcp(server.addr);
    let started = Instant::now();
    let writer = thread::spawn(move || {
        for byte in UPGRADE.bytes() {
            if trickle.write_all(&[byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let mut rest = Vec::new();
        let _ = trickle.read_to_end(&mut rest);
        rest
    });
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        writer.join().unwrap().is_empty(),
        "the trickling client got no answer"
    );
    // Meanwhile the server kept serving.
    let mut client = connect(server.addr);
    client.send_text("fine");
    assert_eq!(client.expect_text(), "fine");
}

#[test]
fn connections_over_the_cap_get_503() {
    let server = serve(|b| echo(b).max_connections(2));
    let _a = connect(server.addr);
    let _b = connect(server.addr);
    let answer = raw_exchange(server.addr, format!("{UPGRADE}\r\n").as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
}

#[test]
fn listens_on_ipv6_and_on_a_prepared_listener() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let server = echo(ws_server_blocking::Server::builder().listen("[::1]:0"))
            .bind()
            .unwrap();
        tx.send((server.local_addr(), server.shutdown_handle()))
            .unwrap();
        server.start().unwrap();
    });
    let (addr, handle) = rx.recv_timeout(PATIENCE).unwrap();
    assert!(addr.is_ipv6());
    let mut client = connect_with(addr, ClientRequest::new("::1", "/").port(addr.port())).unwrap();
    client.send_text("over IPv6");
    assert_eq!(client.expect_text(), "over IPv6");
    handle.shutdown();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve(move |b| echo(b).listen(listener));
    assert_eq!(server.addr, addr);
    let mut client = connect(addr);
    client.send_text("prepared");
    assert_eq!(client.expect_text(), "prepared");
}

#[test]
fn connection_data_address_and_lookup() {
    let server = serve(|b| {
        b.on_connect(|_, conn| {
            conn.set_data(0u32);
            conn.on_utf8(|conn, msg| {
                let count = conn.with_data(|n: &mut u32| {
                    *n += 1;
                    *n
                });
                let same = conn.server().connection(conn.id()).map(|c| c.port());
                let ready = conn.server().connections().count();
                conn.send_utf8(&format!(
                    "{msg} #{} from {}:{} lookup {:?} nodelay {} ready {ready}",
                    count.unwrap(),
                    conn.ip(),
                    conn.port(),
                    same == Some(conn.port()),
                    conn.nodelay()
                ))
            });
        })
    });
    let mut client = connect(server.addr);
    let port = client.stream.local_addr().unwrap().port();
    client.send_text("a");
    client.send_text("b");
    assert_eq!(
        client.expect_text(),
        format!("a #1 from 127.0.0.1:{port} lookup true nodelay true ready 1")
    );
    assert_eq!(
        client.expect_text(),
        format!("b #2 from 127.0.0.1:{port} lookup true nodelay true ready 1")
    );
}

/// What `Connection::nodelay` says on a server made by `make`, for one connection.
fn nodelay_seen(make: impl FnOnce(Builder) -> Builder + Send + 'static) -> bool {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        make(b).on_connect(move |_, conn| {
            let _ = tx.send(conn.nodelay());
        })
    });
    let _client = connect(server.addr);
    rx.recv_timeout(PATIENCE).expect("no connection")
}

#[test]
fn nodelay_setting_reaches_accepted_sockets_through_the_listener() {
    // Accepted sockets inherit TCP_NODELAY from the listener (set once, not per socket),
    // so the listener must carry the setting, whichever way it goes.
    assert!(nodelay_seen(|b| b));
    assert!(!nodelay_seen(|b| b.nodelay(false)));
    // A listener bound by the caller with TCP_NODELAY on, and a server told to go without.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    socket2::SockRef::from(&listener)
        .set_tcp_nodelay(true)
        .unwrap();
    assert!(!nodelay_seen(move |b| b.listen(listener).nodelay(false)));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(nodelay_seen(move |b| b.listen(listener)));
}

#[test]
fn server_disconnect_drops_at_once_without_the_callback() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            conn.on_utf8(|conn, _| conn.server().disconnect(conn.id()));
            let tx = tx.clone();
            conn.on_disconnect(move |_, _, _| tx.send(()).unwrap());
        })
    });
    let mut client = connect(server.addr);
    client.send_text("drop me");
    assert_eq!(client.next_event(), None, "dropped without a close frame");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "no disconnect callback"
    );
}

#[test]
fn watched_descriptors_are_level_triggered() {
    let (mut pipe_in, pipe_out) = mio::unix::pipe::new().unwrap();
    let (tx, rx) = mpsc::channel();
    let _server = serve(move |b| {
        let mut pipe_out = pipe_out;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&pipe_out);
        b.watch_readable(fd, move |server, fd| {
            // One byte per call: the rest must trigger the callback again.
            let mut byte = [0u8; 1];
            pipe_out.read_exact(&mut byte)?;
            tx.send((byte[0], server.is_watched_readable(fd))).unwrap();
            if byte[0] == b'3' {
                server.unwatch_readable(fd);
            }
            Ok::<(), std::io::Error>(())
        })
    });
    pipe_in.write_all(b"1234").unwrap();
    let got: Vec<(u8, bool)> = (0..3).map(|_| rx.recv_timeout(PATIENCE).unwrap()).collect();
    assert_eq!(got, [(b'1', true), (b'2', true), (b'3', true)]);
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "called after unwatch"
    );
}

#[test]
fn sending_before_ready_or_after_close_is_refused() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            let early = conn.send_utf8("too early");
            let tx = tx.clone();
            conn.on_disconnect(move |conn, _, _| {
                let late = conn.send_utf8("too late");
                tx.send((
                    matches!(early, Err(Error::NotOpen)),
                    matches!(late, Err(Error::NotOpen)),
                ))
                .unwrap();
            });
        })
    });
    let mut client = connect(server.addr);
    client.close(1000, "");
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), (true, true));
}

#[test]
fn a_close_answer_and_end_of_stream_arriving_together_are_both_seen() {
    // The server fails a connection (its close frame and end of stream go out), and the
    // client's close answer and end of stream then arrive together, while the server is
    // busy with another client: one readiness edge for both. The server must see the end
    // of stream then, not at close_timeout (30 s here; Running::join gives up after 10 s).
    let server = serve(|b| {
        b.close_timeout(Duration::from_secs(30))
            .on_connect(|_, conn| {
                conn.on_utf8(|_, _| thread::sleep(Duration::from_millis(300)));
            })
    });
    let mut failing = connect(server.addr);
    failing.stream.write_all(&[0x81, 0x02, b'h', b'i']).unwrap(); // unmasked: 1002
    let mut close_and_eof = Vec::new();
    failing.stream.read_to_end(&mut close_and_eof).unwrap();
    assert_eq!(
        (close_and_eof[0], &close_and_eof[2..4]),
        (0x88, &[0x03, 0xEA][..]),
        "close 1002"
    );
    let mut busy = connect(server.addr);
    busy.send_text("keep the server busy");
    thread::sleep(Duration::from_millis(100));
    // A masked close answer (mask 0), then end of stream, while the server sleeps.
    failing
        .stream
        .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xEA])
        .unwrap();
    failing.stream.shutdown(std::net::Shutdown::Write).unwrap();
    thread::sleep(Duration::from_millis(400));
    server.handle.shutdown();
    busy.expect_close();
    busy.flush();
    drop(busy);
    server
        .join()
        .expect("no connection left waiting for an end of stream it missed");
}

#[test]
fn stream_shutdown_is_reported_as_1006_even_with_unread_output() {
    let (tx, rx) = mpsc::channel();
    let server = serve(move |b| disconnects(b, tx));
    let client = connect(server.addr);
    client.stream.shutdown(std::net::Shutdown::Both).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, 1006);
    let _ = TcpStream::connect(server.addr); // the server still accepts
}

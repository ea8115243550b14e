//! Topics: subscribe, publish, unsubscribe, and the broker seam. Real sockets on
//! 127.0.0.1; the broker here is a real implementation of the trait that records what
//! the server asks of it (the Redis one lives in ws-redis).

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::{Client, PATIENCE, block_loop, connect, serve, topic_command};
use ws_server_blocking::{Broker, Builder, Inbound, Payload};

/// Clients subscribe by sending `sub:TOPIC` / `unsub:TOPIC`, publish with
/// `pub:TOPIC:TEXT`; each command is acknowledged with `ok`.
fn pubsub(builder: Builder) -> Builder {
    builder.on_connect(|_, conn| {
        conn.on_utf8(topic_command);
    })
}

fn command(client: &mut Client, text: &str) {
    client.send_text(text);
    assert_eq!(client.expect_text(), "ok");
}

#[test]
fn a_publish_reaches_each_subscriber_once_in_order() {
    let server = serve(pubsub);
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    let mut c = connect(server.addr);
    command(&mut a, "sub:news");
    command(&mut b, "sub:news");
    command(&mut b, "sub:news"); // twice: still one delivery
    command(&mut c, "sub:other");
    for i in 0..5 {
        server.handle.publish("news", format!("m{i}")).unwrap();
    }
    // The publisher is a subscriber too: its copy is queued before the ack.
    c.send_text("pub:other:x");
    assert_eq!(c.expect_text(), "x");
    assert_eq!(c.expect_text(), "ok");
    for client in [&mut a, &mut b] {
        for i in 0..5 {
            assert_eq!(client.expect_text(), format!("m{i}"));
        }
    }
    // Binary too, from a callback.
    server
        .handle
        .post(|server| {
            server.publish_binary("news", b"\x00\x01");
        })
        .unwrap();
    assert_eq!(a.expect_binary(), b"\x00\x01");
    assert_eq!(b.expect_binary(), b"\x00\x01");
    // After unsubscribing, a gets nothing more: the next thing it reads is its own ack.
    command(&mut a, "unsub:news");
    b.send_text("pub:news:after");
    assert_eq!(b.expect_text(), "after");
    assert_eq!(b.expect_text(), "ok");
    command(&mut a, "sub:ping");
}

/// Records what the server asks of its broker, and lets the test deliver "remote"
/// messages through the `Inbound` it was given.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
}

struct RecordingBroker(Arc<Recorder>);

impl Broker for RecordingBroker {
    fn subscribe(&self, topic: &str) {
        self.0
            .calls
            .lock()
            .unwrap()
            .push(format!("subscribe {topic}"));
    }
    fn unsubscribe(&self, topic: &str) {
        self.0
            .calls
            .lock()
            .unwrap()
            .push(format!("unsubscribe {topic}"));
    }
    fn publish(&self, topic: &str, payload: &Payload) {
        let text = String::from_utf8_lossy(payload.as_bytes()).into_owned();
        self.0
            .calls
            .lock()
            .unwrap()
            .push(format!("publish {topic} {text}"));
    }
}

#[test]
fn the_broker_hears_of_first_and_last_subscribers_and_of_publishes() {
    let recorder = Arc::new(Recorder::default());
    let (inbound_tx, inbound_rx) = mpsc::channel::<Inbound>();
    let for_server = recorder.clone();
    let server = serve(move |b| {
        pubsub(b).broker(move |inbound| {
            inbound_tx.send(inbound).unwrap();
            RecordingBroker(for_server)
        })
    });
    let inbound = inbound_rx.recv_timeout(PATIENCE).unwrap();
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    command(&mut a, "sub:room");
    command(&mut b, "sub:room");
    a.send_text("pub:room:local");
    assert_eq!(a.expect_text(), "local");
    assert_eq!(a.expect_text(), "ok");
    assert_eq!(b.expect_text(), "local");
    // A message from another process is delivered locally, and not handed back.
    assert_eq!(inbound.deliver("room", "remote"), 1);
    assert_eq!(a.expect_text(), "remote");
    assert_eq!(b.expect_text(), "remote");
    command(&mut a, "unsub:room");
    // The last subscriber leaves by disconnecting.
    b.close(1000, "");
    b.expect_close();
    // The unsubscribe reaches the broker once the disconnect is processed: ask the loop.
    let (tx, rx) = mpsc::channel();
    loop {
        let tx = tx.clone();
        server
            .handle
            .post(move |server| tx.send(server.subscribers("room")).unwrap())
            .unwrap();
        if rx.recv_timeout(PATIENCE).unwrap() == 0 {
            break;
        }
    }
    assert_eq!(
        *recorder.calls.lock().unwrap(),
        ["subscribe room", "publish room local", "unsubscribe room"]
    );
    assert_eq!(inbound.dropped(), 0);
}

// The queues between a broker and the loops are bounded: a message for a loop whose
// queue is full is dropped and counted, never queued without bound, and the caller is
// not blocked.
#[test]
fn a_full_loop_queue_drops_broker_messages_and_counts_them() {
    let (inbound_tx, inbound_rx) = mpsc::channel::<Inbound>();
    let server = serve(move |b| {
        pubsub(b).queue_capacity(1).broker(move |inbound| {
            inbound_tx.send(inbound).unwrap();
            RecordingBroker(Arc::new(Recorder::default()))
        })
    });
    let inbound = inbound_rx.recv_timeout(PATIENCE).unwrap();
    let mut a = connect(server.addr);
    command(&mut a, "sub:t");
    // Block the loop inside a job, then fill its queue (capacity 1).
    let release_tx = block_loop(&server.handle);
    assert_eq!(inbound.deliver("t", "queued"), 1);
    assert_eq!(inbound.deliver("t", "dropped"), 0);
    assert_eq!(inbound.dropped(), 1);
    // A publish through a handle says so too.
    assert!(matches!(
        server.handle.publish("t", "also dropped"),
        Err(ws_server_blocking::PostError::Full { capacity: 1 })
    ));
    assert_eq!(inbound.dropped(), 2);
    release_tx.send(()).unwrap();
    assert_eq!(a.expect_text(), "queued");
    // Nothing else came: the next message is the answer to a new command.
    command(&mut a, "sub:u");
}

// A connection that ends leaves every topic, whichever way it ends. A subscription made
// while it ends (in its `disconnect` callback: the connection is over, no message can
// reach it) must not outlive it: otherwise the topic stays in the worker's table and the
// hub's, with the broker subscribed for ever. Here the peer leaves during its handshake,
// so the connection is aborted and removed in one step.
#[test]
fn a_subscription_made_as_a_connection_ends_does_not_outlive_it() {
    let (ended_tx, ended_rx) = mpsc::channel();
    let server = serve(move |b| {
        b.on_connect(move |_, conn| {
            let ended = ended_tx.clone();
            conn.on_disconnect(move |conn, _, _| {
                let subscribed = conn.subscribe("ghost");
                let _ = ended.send(subscribed);
            });
        })
    });
    drop(std::net::TcpStream::connect(server.addr).unwrap());
    let subscribed = ended_rx.recv_timeout(PATIENCE).expect("no disconnect");
    let (count_tx, count_rx) = mpsc::channel();
    server
        .handle
        .post(move |server| {
            let _ = count_tx.send(server.subscribers("ghost"));
        })
        .unwrap();
    assert_eq!(
        count_rx.recv_timeout(PATIENCE).unwrap(),
        0,
        "a ghost subscriber"
    );
    assert!(!subscribed, "a connection that is over cannot subscribe");
}

/// A broker that counts the server's `stop` calls and records what came after one.
#[derive(Default)]
struct StopCounter {
    stops: Mutex<usize>,
    after_stop: Mutex<Vec<String>>,
}

struct StopCountingBroker(Arc<StopCounter>);

impl StopCountingBroker {
    fn after_stop(&self, call: String) {
        if *self.0.stops.lock().unwrap() > 0 {
            self.0.after_stop.lock().unwrap().push(call);
        }
    }
}

impl Broker for StopCountingBroker {
    fn subscribe(&self, topic: &str) {
        self.after_stop(format!("subscribe {topic}"));
    }
    fn unsubscribe(&self, topic: &str) {
        self.after_stop(format!("unsubscribe {topic}"));
    }
    fn publish(&self, topic: &str, _: &Payload) {
        self.after_stop(format!("publish {topic}"));
    }
    fn stop(&self) {
        *self.0.stops.lock().unwrap() += 1;
    }
}

// The broker is told once that the server is done, after its last worker loop ended:
// with one worker and with two (whose worker 1 runs on a thread of its own).
#[test]
fn the_broker_is_stopped_once_when_start_returns() {
    for workers in [1, 2] {
        let counter = Arc::new(StopCounter::default());
        let for_server = counter.clone();
        let (tx, rx) = mpsc::channel();
        // A bound server is not `Send`: it is bound on the thread that runs it.
        let server = std::thread::spawn(move || {
            let listening = ws_server_blocking::Server::builder()
                .listen("127.0.0.1:0")
                .workers(workers)
                .worker_setup(|worker| {
                    worker.on_connect(|_, conn| {
                        conn.on_utf8(topic_command);
                    });
                })
                .broker(move |_| StopCountingBroker(for_server))
                .bind()?;
            tx.send((listening.local_addr(), listening.handle()))
                .unwrap();
            listening.start()
        });
        let (addr, handle) = rx.recv_timeout(PATIENCE).unwrap();
        let mut client = connect(addr);
        command(&mut client, "sub:room");
        client.send_text("pub:room:x");
        assert_eq!(client.expect_text(), "x");
        assert_eq!(client.expect_text(), "ok");
        assert_eq!(
            *counter.stops.lock().unwrap(),
            0,
            "{workers} worker(s): not while serving"
        );
        drop(client);
        handle.shutdown();
        server.join().unwrap().unwrap();
        assert_eq!(*counter.stops.lock().unwrap(), 1, "{workers} worker(s)");
        // Nothing reaches a stopped broker, not even a publish through a handle.
        let _ = handle.publish("room", "late");
        assert_eq!(
            *counter.after_stop.lock().unwrap(),
            Vec::<String>::new(),
            "{workers} worker(s)"
        );
    }
}

#[test]
fn a_bound_server_dropped_unstarted_stops_its_broker() {
    let counter = Arc::new(StopCounter::default());
    let for_server = counter.clone();
    let listening = ws_server_blocking::Server::builder()
        .listen("127.0.0.1:0")
        .broker(move |_| StopCountingBroker(for_server))
        .bind()
        .unwrap();
    assert_eq!(*counter.stops.lock().unwrap(), 0);
    drop(listening);
    assert_eq!(*counter.stops.lock().unwrap(), 1);
}

//! The bridge against a real `redis-server` (ignored: `scripts/redis-tests.sh` runs them), and
//! without one where the test needs no Redis.

mod support;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{RedisServer, eventually};
use ws_redis::{Bridge, Config, Kind, Origin, PublishError, envelope};

type Inbox = Arc<Mutex<Vec<(String, Kind, Vec<u8>)>>>;

/// A bridge whose deliveries land in an inbox, with quick backoff for the restart tests.
fn bridge(url: &str) -> (Bridge, Inbox) {
    let inbox: Inbox = Arc::default();
    let sink = Arc::clone(&inbox);
    let config = Config::new(url)
        .unwrap()
        .backoff(Duration::from_millis(20), Duration::from_millis(200));
    let bridge = Bridge::start(config, move |topic, kind, payload| {
        sink.lock()
            .unwrap()
            .push((topic.to_owned(), kind, payload.to_vec()));
    })
    .unwrap();
    (bridge, inbox)
}

fn received(inbox: &Inbox) -> Vec<(String, Kind, Vec<u8>)> {
    inbox.lock().unwrap().clone()
}

mod exchange {
    use super::*;

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn two_bridges_exchange_both_ways_and_skip_their_own() {
        let redis = RedisServer::start();
        let (a, inbox_a) = bridge(&redis.url());
        let (b, inbox_b) = bridge(&redis.url());
        assert!(a.subscribe("room"));
        assert!(b.subscribe("room"));
        eventually("both bridges subscribed to ws:room", || {
            (redis.numsub("ws:room") == 2).then_some(())
        });

        a.publish("room", Kind::Text, "from a: é".as_bytes())
            .unwrap();
        b.publish("room", Kind::Binary, &[0, 1, 0xff]).unwrap();

        let at_b = eventually("b receives a's message", || {
            received(&inbox_b).first().cloned()
        });
        assert_eq!(
            at_b,
            (
                "room".to_owned(),
                Kind::Text,
                "from a: é".as_bytes().to_vec()
            )
        );
        let at_a = eventually("a receives b's message", || {
            received(&inbox_a).first().cloned()
        });
        assert_eq!(at_a, ("room".to_owned(), Kind::Binary, vec![0, 1, 0xff]));

        // Each one's own message came back from Redis and was skipped, not delivered.
        eventually("both skipped their own message", || {
            (a.stats().own_skipped == 1 && b.stats().own_skipped == 1).then_some(())
        });
        assert_eq!(received(&inbox_a).len(), 1);
        assert_eq!(received(&inbox_b).len(), 1);
        for bridge in [&a, &b] {
            let stats = bridge.stats();
            assert_eq!((stats.published, stats.delivered), (1, 1), "{stats:?}");
            assert_eq!(
                stats.dropped_malformed + stats.dropped_queue_full + stats.dropped_disconnected,
                0
            );
        }
    }

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn a_topic_without_local_subscribers_is_not_delivered_and_prefixes_separate() {
        let redis = RedisServer::start();
        let (a, _) = bridge(&redis.url());
        let inbox: Inbox = Arc::default();
        let sink = Arc::clone(&inbox);
        let other = Bridge::start(
            Config::new(&redis.url()).unwrap().prefix("other:"),
            move |t, k, p| {
                sink.lock().unwrap().push((t.to_owned(), k, p.to_vec()));
            },
        )
        .unwrap();
        let (c, inbox_c) = bridge(&redis.url());
        other.subscribe("room");
        c.subscribe("room");
        eventually("both subscribed", || {
            (redis.channels() == ["other:room", "ws:room"]).then_some(())
        });
        a.publish("room", Kind::Text, b"one").unwrap();
        a.publish("lobby", Kind::Text, b"two").unwrap();
        a.publish("room", Kind::Text, b"three").unwrap();
        eventually("c receives both room messages", || {
            (received(&inbox_c).len() == 2).then_some(())
        });
        let payloads: Vec<Vec<u8>> = received(&inbox_c).into_iter().map(|m| m.2).collect();
        assert_eq!(
            payloads,
            [b"one".to_vec(), b"three".to_vec()],
            "in publish order, lobby not included"
        );
        assert!(
            received(&inbox).is_empty(),
            "another prefix is another application"
        );
    }
}

mod subscriptions {
    use super::*;

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn the_channel_is_subscribed_from_the_first_local_subscriber_to_the_last() {
        let redis = RedisServer::start();
        let (a, _) = bridge(&redis.url());
        assert!(redis.channels().is_empty());
        assert!(a.subscribe("x"));
        assert!(!a.subscribe("x"));
        eventually("ws:x subscribed", || {
            (redis.channels() == ["ws:x"]).then_some(())
        });

        assert!(!a.unsubscribe("x"), "one local subscriber is left");
        // The reader applies the whole set at once: once ws:y shows, the set with x's count
        // at one has been applied too.
        assert!(a.subscribe("y"));
        eventually("ws:y subscribed", || {
            redis.channels().contains(&"ws:y".to_owned()).then_some(())
        });
        assert_eq!(redis.channels(), ["ws:x", "ws:y"]);

        assert!(a.unsubscribe("x"), "the last one leaves");
        eventually("ws:x unsubscribed", || {
            (redis.channels() == ["ws:y"]).then_some(())
        });
        assert!(!a.unsubscribe("x"), "no subscriber left: ignored");
        assert_eq!(a.subscribers("x"), 0);
        assert!(a.unsubscribe("y"));
        eventually("nothing subscribed", || {
            redis.channels().is_empty().then_some(())
        });
        assert!(a.stats().subscriber_connected);
    }
}

mod malformed {
    use super::*;

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn foreign_and_malformed_payloads_are_dropped_and_counted() {
        let redis = RedisServer::start();
        let (a, inbox) = bridge(&redis.url());
        a.subscribe("t");
        eventually("subscribed", || (redis.numsub("ws:t") == 1).then_some(()));
        let stranger = Origin::random().unwrap();
        let mut version_2 = envelope::encode(stranger, Kind::Text, b"future");
        version_2[4] = 2;
        let bad: Vec<Vec<u8>> = vec![
            b"hello from redis-cli".to_vec(),
            Vec::new(),
            envelope::encode(stranger, Kind::Text, b"cut short")[..12].to_vec(),
            version_2,
            envelope::encode(stranger, Kind::Text, &[0xc3, 0x28]),
        ];
        let mut con = redis.connection();
        for payload in &bad {
            let _: usize = redis::cmd("PUBLISH")
                .arg("ws:t")
                .arg(payload)
                .query(&mut con)
                .unwrap();
        }
        let good = envelope::encode(stranger, Kind::Binary, b"fine");
        let _: usize = redis::cmd("PUBLISH")
            .arg("ws:t")
            .arg(&good)
            .query(&mut con)
            .unwrap();

        // Redis keeps one publisher's order: when the good one arrived, the bad ones had.
        let first = eventually("the valid envelope is delivered", || {
            received(&inbox).first().cloned()
        });
        assert_eq!(first, ("t".to_owned(), Kind::Binary, b"fine".to_vec()));
        let stats = a.stats();
        assert_eq!(stats.dropped_malformed, bad.len() as u64, "{stats:?}");
        assert_eq!(stats.delivered, 1);
        assert!(
            stats.subscriber_connected,
            "a malformed payload does not cost the connection"
        );
    }
}

mod outage {
    use super::*;

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn after_a_redis_restart_both_bridges_reconnect_resubscribe_and_deliver_again() {
        let mut redis = RedisServer::start();
        let (a, _) = bridge(&redis.url());
        let (b, inbox_b) = bridge(&redis.url());
        b.subscribe("t");
        eventually("subscribed", || (redis.numsub("ws:t") == 1).then_some(()));
        a.publish("t", Kind::Text, b"before").unwrap();
        eventually("delivered before the restart", || {
            (received(&inbox_b).len() == 1).then_some(())
        });

        redis.kill();
        eventually("b notices", || {
            (!b.stats().subscriber_connected).then_some(())
        });
        // Publishing during the outage neither blocks nor fails for the caller: it is lost.
        for _ in 0..10 {
            a.publish("t", Kind::Text, b"during").unwrap();
        }
        eventually("a's messages during the outage are counted lost", || {
            (a.stats().dropped_disconnected >= 1).then_some(())
        });
        redis.restart();

        eventually("b subscribes again", || {
            (redis.numsub("ws:t") == 1).then_some(())
        });
        // a finds out about the restart by a failed PUBLISH: publish until one gets through.
        eventually("delivery resumes", || {
            a.publish("t", Kind::Text, b"after").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            received(&inbox_b)
                .iter()
                .any(|m| m.2 == b"after")
                .then_some(())
        });
        assert!(
            received(&inbox_b).iter().all(|m| m.2 != b"during"),
            "at-most-once: the outage's messages are gone"
        );
        assert!(b.stats().reconnects >= 1, "{:?}", b.stats());
        assert!(a.stats().reconnects >= 1, "{:?}", a.stats());
        assert!(b.stats().subscriber_connected && a.stats().publisher_connected);
    }

    #[test]
    fn with_no_redis_publish_returns_at_once_and_counts_the_loss() {
        // A port where nothing listens.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (a, _) = bridge(&format!("redis://127.0.0.1:{port}/"));
        a.subscribe("t");
        for _ in 0..5 {
            a.publish("t", Kind::Text, b"lost").unwrap();
        }
        eventually("the messages are counted lost", || {
            (a.stats().dropped_disconnected == 5).then_some(())
        });
        eventually("the reader retries", || {
            (!a.stats().subscriber_connected).then_some(())
        });
        let stats = a.stats();
        assert_eq!((stats.published, stats.reconnects), (0, 0), "{stats:?}");
        drop(a); // stops within the connect timeout
    }
}

mod queue {
    use super::*;

    /// The publishing thread stuck on a PUBLISH that gets no answer: the queue fills.
    fn fill(url: &str, queue: usize) -> (Bridge, usize) {
        let config = Config::new(url)
            .unwrap()
            .publish_queue(queue)
            .io_timeout(Duration::from_secs(3));
        let a = Bridge::start(config, |_, _, _| {}).unwrap();
        let mut refused = 0;
        for _ in 0..2000 {
            match a.publish("t", Kind::Binary, b"x") {
                Ok(()) => {}
                Err(PublishError::QueueFull) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        (a, refused)
    }

    #[test]
    fn a_full_queue_drops_and_counts_against_a_silent_peer() {
        // Accepts the connection and never answers: PUBLISH waits out the io timeout.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let (a, refused) = fill(&format!("redis://127.0.0.1:{port}/"), 4);
        // At most one batch (256) plus the queue (4) got in before the thread stuck.
        assert!(refused >= 2000 - 256 - 4 - 1, "{refused}");
        assert_eq!(a.stats().dropped_queue_full, refused as u64);
        drop(silent);
    }

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn a_full_queue_drops_and_counts_while_redis_is_paused() {
        let redis = RedisServer::start();
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(2000)
            .arg("ALL")
            .query(&mut redis.connection())
            .unwrap();
        let (a, refused) = fill(&redis.url(), 8);
        assert!(refused >= 2000 - 256 - 8 - 1, "{refused}");
        assert_eq!(a.stats().dropped_queue_full, refused as u64);
        // The pause ends and the queued ones go out.
        eventually("the queued messages are published", || {
            (a.stats().published >= 8).then_some(())
        });
    }

    #[test]
    fn the_default_queue_is_4096() {
        assert_eq!(ws_redis::DEFAULT_PUBLISH_QUEUE, 4096);
    }
}

mod callback {
    use super::*;

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn a_panicking_callback_is_counted_and_the_reader_goes_on() {
        let redis = RedisServer::start();
        let inbox: Inbox = Arc::default();
        let sink = Arc::clone(&inbox);
        let b = Bridge::start(
            Config::new(&redis.url()).unwrap(),
            move |topic, kind, payload| {
                assert_ne!(payload, b"boom", "the application's bug");
                sink.lock()
                    .unwrap()
                    .push((topic.to_owned(), kind, payload.to_vec()));
            },
        )
        .unwrap();
        let (a, _) = bridge(&redis.url());
        b.subscribe("t");
        eventually("subscribed", || (redis.numsub("ws:t") == 1).then_some(()));
        a.publish("t", Kind::Text, b"boom").unwrap();
        a.publish("t", Kind::Text, b"fine").unwrap();
        let first = eventually("the next message is delivered", || {
            received(&inbox).first().cloned()
        });
        assert_eq!(first.2, b"fine");
        let stats = b.stats();
        assert_eq!(
            (stats.dropped_callback_panic, stats.delivered),
            (1, 1),
            "{stats:?}"
        );
        assert!(stats.subscriber_connected);
    }
}

mod slow_network {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};

    /// A TCP relay to `upstream` that passes what Redis sends in 1000-byte pieces, 120 ms
    /// apart: longer than the reader's 50 ms poll, so a message arrives across several reads
    /// that time out in its middle.
    fn trickle_relay(upstream: u16) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_read, &mut s_write);
                    let _ = s_write.shutdown(Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut piece = [0u8; 1000];
                    while let Ok(n @ 1..) = s_read.read(&mut piece) {
                        if c_write.write_all(&piece[..n]).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(120));
                    }
                    let _ = c_write.shutdown(Shutdown::Write);
                });
            }
        });
        port
    }

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn a_message_split_across_timed_out_reads_arrives_whole() {
        let redis = RedisServer::start();
        let relay = trickle_relay(redis.port);
        let (a, _) = bridge(&redis.url());
        let (b, inbox) = bridge(&format!("redis://127.0.0.1:{relay}/"));
        b.subscribe("big");
        eventually("subscribed", || (redis.numsub("ws:big") == 1).then_some(()));
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        a.publish("big", Kind::Binary, &payload).unwrap();
        a.publish("big", Kind::Text, b"next").unwrap();
        eventually("both arrive", || {
            (received(&inbox).len() == 2).then_some(())
        });
        let got = received(&inbox);
        assert_eq!(got[0].2, payload);
        assert_eq!(got[1].2, b"next");
        let stats = b.stats();
        assert_eq!(
            (stats.dropped_malformed, stats.reconnects),
            (0, 0),
            "{stats:?}"
        );
    }
}

mod lifecycle {
    use super::*;

    #[test]
    fn stop_ends_both_threads_and_drops_the_callback() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let held = Arc::new(());
        let in_callback = Arc::clone(&held);
        let a = Bridge::start(
            Config::new(&format!("redis://127.0.0.1:{port}/")).unwrap(),
            move |_, _, _| {
                let _ = &in_callback;
            },
        )
        .unwrap();
        assert_eq!(Arc::strong_count(&held), 2);
        assert!(!a.is_stopped());
        a.stop();
        assert!(a.is_stopped());
        // The reading thread has ended (stop joins it), and its callback with it.
        assert_eq!(Arc::strong_count(&held), 1);
        // So has the publishing thread: nothing takes messages any more.
        assert_eq!(
            a.publish("t", Kind::Text, b"late"),
            Err(PublishError::Stopped)
        );
        assert_eq!(a.stats().dropped_queue_full, 1);
        a.stop(); // again: nothing to do
    }

    #[test]
    #[ignore = "needs redis-server: run by scripts/redis-tests.sh"]
    fn stop_closes_the_subscription_on_redis() {
        let redis = RedisServer::start();
        let (a, _) = bridge(&redis.url());
        a.subscribe("t");
        eventually("subscribed", || (redis.numsub("ws:t") == 1).then_some(()));
        a.stop();
        eventually("the connection is gone", || {
            (redis.numsub("ws:t") == 0).then_some(())
        });
        assert!(!a.stats().subscriber_connected);
    }
}

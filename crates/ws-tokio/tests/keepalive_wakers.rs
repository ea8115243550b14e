//! Keepalive when the task polling a stream changes (RFC 6455 5.5.2, 7.4.1): the timer
//! is polled again only when the waker changes, so a stream polled by one task and then
//! by another (moved between tasks, or its read half after `split`) must still drop a
//! silent peer with 1011 once the ping interval and the pong timeout have passed.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use ws_tokio::Error;

/// Awaits the server task and checks that it ended with a keepalive timeout.
async fn expect_keepalive_timeout(server: tokio::task::JoinHandle<Option<Result<(), Error>>>) {
    match common::within("server gives up", server)
        .await
        .expect("server task")
    {
        Some(Err(Error::KeepaliveTimeout(_))) => {}
        other => panic!("expected a keepalive timeout, got {other:?}"),
    }
}

// The stream is polled (its keepalive timer registered) by one task, which stops polling
// it; another task then waits on it: the timer must wake that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_moved_to_another_task_still_drops_a_silent_peer() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let mut ws = common::accept_quick(listener).await;
        // Polled here once or more, until before the first ping is due.
        let _ = tokio::time::timeout(Duration::from_millis(20), ws.next()).await;
        tokio::spawn(async move { ws.next().await.map(|r| r.map(|_| ())) })
            .await
            .expect("second task")
    });
    let (_peer, _early) = common::raw_client(addr).await;
    expect_keepalive_timeout(server).await;
}

// The same through the read half of a split stream, moved to another task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_half_moved_to_another_task_still_drops_a_silent_peer() {
    let (listener, addr) = common::listener().await;
    let server = tokio::spawn(async move {
        let (mut read, write) = common::accept_quick(listener).await.split();
        let _ = tokio::time::timeout(Duration::from_millis(20), read.next()).await;
        let result = tokio::spawn(async move { read.next().await.map(|r| r.map(|_| ())) })
            .await
            .expect("second task");
        drop(write);
        result
    });
    let (_peer, _early) = common::raw_client(addr).await;
    expect_keepalive_timeout(server).await;
}

//! The handle into a running loop: work posted from other threads, its bounded queue,
//! shutting down. Real sockets on 127.0.0.1.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{PATIENCE, block_loop, connect, serve};
use ws_server_blocking::{Handle, PostError};

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn handle_is_send_sync_clone() {
    assert_send_sync_clone::<Handle>();
}

// Work posted from another thread runs on the loop, which it wakes (the loop has no
// timer due: without the wake-up it would sleep for the housekeeping period only, and
// the test still waits for the result, not for a time).
#[test]
fn posted_work_runs_on_the_loop_and_reaches_connections() {
    let server = serve(|b| b.on_connect(|_, _| {}));
    let mut client = connect(server.addr);
    let (tx, rx) = mpsc::channel();
    let handle = server.handle.clone();
    thread::spawn(move || {
        handle
            .post(move |server| {
                let sent = server.broadcast_utf8("from another thread");
                tx.send((sent, server.worker())).unwrap();
            })
            .unwrap();
    });
    // The client may not be registered as ready when the job runs: retry until it is.
    let (mut sent, worker) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(worker, 0);
    while sent == 0 {
        let (tx, rx) = mpsc::channel();
        server
            .handle
            .post(move |server| {
                tx.send(server.broadcast_utf8("from another thread"))
                    .unwrap()
            })
            .unwrap();
        sent = rx.recv_timeout(PATIENCE).unwrap();
    }
    assert_eq!(client.expect_text(), "from another thread");
}

// The queue holds `queue_capacity` jobs; one more is an error the caller sees.
#[test]
fn a_full_queue_is_an_error() {
    let server = serve(|b| b.queue_capacity(2));
    // Block the loop inside a job, so that nothing is taken from the queue.
    let release_tx = block_loop(&server.handle);
    let (ran_tx, ran_rx) = mpsc::channel();
    for _ in 0..2 {
        let ran_tx = ran_tx.clone();
        server
            .handle
            .post(move |_| ran_tx.send(()).unwrap())
            .unwrap();
    }
    assert_eq!(
        server.handle.post(|_| {}),
        Err(PostError::Full { capacity: 2 })
    );
    // Shutting down does not need room in the queue; the queued jobs still run first.
    release_tx.send(()).unwrap();
    ran_rx.recv_timeout(PATIENCE).unwrap();
    ran_rx.recv_timeout(PATIENCE).unwrap();
    let handle = server.handle.clone();
    handle.shutdown();
    server.join().unwrap();
    // The loop has ended: posting says so.
    assert_eq!(handle.post(|_| {}), Err(PostError::Stopped));
}

// The old name still works.
#[test]
fn shutdown_handle_is_the_handle() {
    let server = serve(|b| b);
    let handle: ws_server_blocking::ShutdownHandle = server.handle.clone();
    handle.shutdown();
    server.join().unwrap();
}

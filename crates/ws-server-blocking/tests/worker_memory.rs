//! What each further worker loop costs in resident memory, measured on the ws-server
//! binary (a separate process): its job queue (allocated and written up front, 16,384
//! slots by default, each as large as the largest job), its 64 KiB receive buffer, its
//! thread. The connection table's room is reserved address space, resident only as
//! slots are written. Real sockets on 127.0.0.1.

mod common;

use common::{ServerProcess, connect};

/// Resident KiB of `ws-server --workers N` once every worker has served a connection
/// (so that each loop is running and has made its buffers) and they are closed.
fn rss_with_workers(workers: usize) -> u64 {
    let server = ServerProcess::start(&["--workers", &workers.to_string()]);
    // Two connections per worker at once: the balance puts two on each.
    let mut clients: Vec<_> = (0..2 * workers).map(|_| connect(server.addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.send_text(&i.to_string());
        assert_eq!(client.expect_text(), i.to_string());
    }
    for mut client in clients {
        client.close(1000, "");
        client.expect_close();
    }
    server.rss_kib()
}

// Sixteen further workers cost under 1.25 MiB each (0.87 MiB when measured: the queue's
// 16,384 slots of 56 bytes, the receive buffer, a thread). A job type grown past 48
// bytes (a connection being handed over carried unboxed, 72 bytes: 1.35 MiB each) or a
// per-worker reservation made resident would pass it.
#[test]
fn each_further_worker_costs_under_one_and_a_quarter_mib() {
    let one = rss_with_workers(1);
    let seventeen = rss_with_workers(17);
    let each_kib = seventeen.saturating_sub(one) / 16;
    eprintln!("1 worker: {one} KiB, 17 workers: {seventeen} KiB, {each_kib} KiB each");
    assert!(
        each_kib < 1280,
        "each further worker holds {each_kib} KiB (1 worker: {one} KiB, 17: {seventeen} KiB)"
    );
}

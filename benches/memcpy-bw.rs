//! This machine's memcpy bandwidth, to read the echo servers' CPU per echoed GiB against
//! (issue 17: "quote the server's CPU per echoed GiB beside the memcpy bandwidth").
//!
//! `cargo run --release -p benches --bin memcpy-bw` copies 1 MiB blocks, as a 1 MiB echo
//! would, with `copy_from_slice` (libc's `memcpy`): once between two buffers that stay in
//! the cache, and once through 256 MiB of distinct blocks (from and to memory). Prints
//! the best of five rounds of each, in GB/s and in milliseconds of one core per GiB.

use std::hint::black_box;
use std::time::Instant;

const BLOCK: usize = 1 << 20;

fn best_of_five(bytes_per_round: usize, mut round: impl FnMut()) -> f64 {
    round(); // warm-up: faults the pages in
    (0..5)
        .map(|_| {
            let start = Instant::now();
            round();
            bytes_per_round as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn report(what: &str, gb_per_s: f64) {
    let ms_per_gib = (1u64 << 30) as f64 / (gb_per_s * 1e9) * 1e3;
    println!("{what}: {gb_per_s:.1} GB/s, {ms_per_gib:.0} ms of one core per GiB");
}

fn main() {
    let from = vec![7u8; BLOCK];
    let mut to = vec![0u8; BLOCK];
    let copies = 4096;
    let hot = best_of_five(copies * BLOCK, || {
        for _ in 0..copies {
            to.copy_from_slice(black_box(&from));
            black_box(&mut to);
        }
    });
    report("memcpy 1 MiB, in cache", hot);

    let blocks = 256;
    let from: Vec<Vec<u8>> = (0..blocks).map(|i| vec![i as u8; BLOCK]).collect();
    let mut to: Vec<Vec<u8>> = (0..blocks).map(|_| vec![0u8; BLOCK]).collect();
    let cold = best_of_five(blocks * BLOCK, || {
        for (to, from) in to.iter_mut().zip(&from) {
            to.copy_from_slice(black_box(from));
            black_box(&mut *to);
        }
    });
    report("memcpy 1 MiB, 256 MiB apart (memory)", cold);
}

//! permessage-deflate throughput: compressing (a server sending) and decompressing (a
//! server receiving masked client frames) text messages of 64 B, 16 KiB and 1 MiB, beside
//! the same messages uncompressed through the same session code. tungstenite has no
//! compression to compare with; the uncompressed path is the baseline, and the ratio of
//! the two is the price of compression. The compression ratio of each size is printed
//! first.
//!
//! Each iteration sends or decodes about 1 MiB of text as a batch of messages through a
//! fresh session, so that context takeover (the default) works as on a connection.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_proto::{Config, DeflateConfig, DeflateParams, Event, RecvBuffer, Role, Session};

const BATCH_BYTES: usize = 1 << 20;
const SIZES: [(usize, &str); 3] = [(64, "64 B"), (16 << 10, "16 KiB"), (1 << 20, "1 MiB")];

/// JSON-like text, as chat and market-data traffic is: repetitive keys, varying values.
fn messages(size: usize) -> Vec<String> {
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..BATCH_BYTES / size)
        .map(|_| {
            let mut text = String::with_capacity(size + 80);
            while text.len() < size {
                let r = next();
                text.push_str(&format!(
                    "{{\"id\":{},\"user\":\"user{}\",\"score\":{}.{:03},\"ok\":{}}}",
                    r % 100_000,
                    r % 503,
                    r % 97,
                    r % 1000,
                    r % 2 == 0
                ));
            }
            text.truncate(size);
            text
        })
        .collect()
}

fn params(level: u32) -> DeflateParams {
    let mut config = DeflateConfig::default();
    config.level = level;
    config.accept(&[config.offer()]).unwrap().0
}

/// A session that compresses at `level`, or not at all.
fn session(role: Role, level: Option<u32>) -> Session {
    match level {
        Some(level) => Session::new(role, Config::default(), Some(params(level))),
        None => Session::new(role, Config::default(), None),
    }
}

/// What is compared: the default level, the fastest, and no compression.
const MODES: [(&str, Option<u32>); 3] = [
    ("deflate level 6 (default)", Some(6)),
    ("deflate level 1", Some(1)),
    ("uncompressed", None),
];

/// Sends every message through a fresh session and returns the bytes on the wire.
fn send_all(role: Role, level: Option<u32>, texts: &[String]) -> usize {
    let mut sender = session(role, level);
    let mut wire = 0;
    for text in texts {
        sender.send_text(text).unwrap();
        let n = sender.pending().len();
        wire += n;
        sender.advance(n);
    }
    wire
}

/// The client's masked frames for every message, as a server reads them.
fn client_stream(level: Option<u32>, texts: &[String]) -> Vec<u8> {
    let mut client = session(Role::Client, level);
    for text in texts {
        client.send_text(text).unwrap();
    }
    client.pending().to_vec()
}

fn decode_all(level: Option<u32>, stream: &[u8], count: usize) {
    let mut server = session(Role::Server, level);
    let mut input = RecvBuffer::new();
    input.extend_from_slice(stream);
    let mut decoded = 0;
    while let Some(event) = server.decode(&mut input).unwrap() {
        if let Event::Text(text) = event {
            black_box(text);
            decoded += 1;
        }
    }
    assert_eq!(decoded, count);
}

fn print_ratios() {
    for (size, name) in SIZES {
        let texts = messages(size);
        let plain: usize = texts.iter().map(String::len).sum();
        let uncompressed = send_all(Role::Server, None, &texts);
        for level in [6, 1] {
            let compressed = send_all(Role::Server, Some(level), &texts);
            println!(
                "deflate ratio {name}, level {level}: {} messages, {plain} bytes of text, \
                 {uncompressed} bytes on the wire uncompressed, {compressed} compressed \
                 ({:.1}%, {:.2}:1)",
                texts.len(),
                100.0 * compressed as f64 / plain as f64,
                plain as f64 / compressed as f64
            );
        }
    }
}

fn compress(c: &mut Criterion) {
    print_ratios();
    let mut group = c.benchmark_group("send text (server)");
    for (size, name) in SIZES {
        let texts = messages(size);
        group.throughput(Throughput::Bytes((texts.len() * size) as u64));
        for (label, level) in MODES {
            group.bench_with_input(BenchmarkId::new(label, name), &texts, |b, texts| {
                b.iter(|| send_all(Role::Server, level, texts))
            });
        }
    }
    group.finish();
}

fn decompress(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode text (server)");
    for (size, name) in SIZES {
        let texts = messages(size);
        group.throughput(Throughput::Bytes((texts.len() * size) as u64));
        for (label, level) in MODES {
            let stream = client_stream(level, &texts);
            group.bench_with_input(BenchmarkId::new(label, name), &stream, |b, stream| {
                b.iter(|| decode_all(level, stream, texts.len()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, compress, decompress);
criterion_main!(benches);

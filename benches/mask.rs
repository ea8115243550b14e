//! In-place masking beside `copy_from_slice` of the same buffer: masking reads and
//! writes every byte once, as a copy does, so memcpy is the speed to match.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use ws_proto::apply_mask;

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in [16usize, 1024, 64 * 1024, 1024 * 1024] {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x5Au8; size];
        let source = vec![0xA5u8; size];
        group.bench_with_input(BenchmarkId::new("apply_mask", size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut buf), [1, 2, 3, 4], 0))
        });
        group.bench_with_input(
            BenchmarkId::new("apply_mask_offset_3", size),
            &size,
            |b, _| b.iter(|| apply_mask(black_box(&mut buf[1..]), [1, 2, 3, 4], 3)),
        );
        group.bench_with_input(BenchmarkId::new("memcpy", size), &size, |b, _| {
            b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&source)))
        });
    }
    group.finish();
}

criterion_group!(benches, masking);
criterion_main!(benches);

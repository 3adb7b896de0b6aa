//! The criterion suite (`cargo bench -p msfs --bench engine`). `benches/report.rs` prints the
//! ratios and memory figures against the goals.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn write_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("write_read");
    for size in SIZES {
        let data = vec![7u8; size];
        let mut buf = vec![0u8; size.max(1)];
        g.throughput(Throughput::Elements(1));
        let mut w = World::new(1, Some(0));
        let mut out = vec![0u8; size];
        g.bench_with_input(BenchmarkId::new("engine", size), &size, |b, _| {
            b.iter(|| w.write_read(&data, &mut out))
        });
        g.bench_with_input(BenchmarkId::new("copy_twice", size), &size, |b, _| {
            b.iter(|| copy_twice(&data, &mut buf))
        });
        let d = Dgram::new();
        g.bench_with_input(BenchmarkId::new("unix_dgram", size), &size, |b, _| {
            b.iter(|| d.send_recv(&data, &mut buf))
        });
        if let Some(q) = Mq::new(size) {
            g.bench_with_input(BenchmarkId::new("posix_mq", size), &size, |b, _| {
                b.iter(|| q.send_recv(&data, &mut buf))
            });
        }
    }
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(20);
    let data = [1u8; 64];
    let mut out = [0u8; 64];
    for n in SLOT_COUNTS {
        let mut w = World::new(n, Some(0));
        g.bench_with_input(BenchmarkId::new("create_delete", n), &n, |b, _| {
            b.iter(|| w.create_delete())
        });
        g.bench_with_input(BenchmarkId::new("open_close", n), &n, |b, _| {
            b.iter(|| w.open_close())
        });
        g.bench_with_input(BenchmarkId::new("write_read_64", n), &n, |b, _| {
            b.iter(|| w.write_read(&data, &mut out))
        });
        let mut buf = vec![0u8; 65_536];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("enumerate_all", n), &n, |b, _| {
            b.iter(|| w.enumerate(&mut buf))
        });
        g.throughput(Throughput::Elements(1));
    }
    for queued in [1usize, 100_000] {
        let mut w = World::new(1, Some(0));
        w.queue(queued, 64);
        g.bench_with_input(
            BenchmarkId::new("write_read_64_queued", queued),
            &queued,
            |b, _| b.iter(|| w.write_read(&data, &mut out)),
        );
    }
    g.finish();
}

fn pending(c: &mut Criterion) {
    let mut g = c.benchmark_group("pending");
    let data = [1u8; 64];
    let mut w = World::new(1, Some(-10_000_000));
    g.bench_function("pend_then_deliver_64", |b| {
        b.iter(|| w.pend_then_deliver(&data))
    });
    g.bench_function("pend_then_expire", |b| b.iter(|| w.pend_then_expire()));
    g.finish();
}

criterion_group!(benches, write_read, scaling, pending);
criterion_main!(benches);

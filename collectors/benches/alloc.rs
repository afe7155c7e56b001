//! Heap microbenchmarks: the small-allocation fast path (with its refills
//! and the sweeps that let memory be reused), marking through
//! `find_object` + `try_mark`, and sweeping 10^5 spans.
//!
//! Each benchmark measures a batch and reports time per element, so the
//! numbers read as "ns per allocation", "ns per mark", "ns per span".
//! Run: `cargo bench -p gcwb-collectors --bench alloc`.

use collectors::heap::{Address, Heap};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Reservation for benchmark heaps: large enough for every batch.
const BENCH_RESERVE: u64 = 16 << 30;
/// Allocations per measured batch; a sweep (nothing marked, so everything
/// is freed) follows each batch and is timed with it.
const ALLOC_BATCH: u64 = 100_000;
/// Objects marked per measured batch.
const MARK_OBJECTS: usize = 100_000;
/// Spans swept per measured batch.
const SWEEP_SPANS: u64 = 100_000;

fn alloc_small(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc");
    g.throughput(Throughput::Elements(ALLOC_BATCH));
    for (name, size, ptr_slots) in [("16B_noscan", 16u64, 0u32), ("64B_4ptr", 64, 4)] {
        let heap = Heap::new(BENCH_RESERVE).unwrap();
        let mut cache = heap.new_cache();
        g.bench_function(BenchmarkId::new("small_with_sweep", name), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    for _ in 0..ALLOC_BATCH {
                        black_box(heap.alloc(&mut cache, black_box(size), ptr_slots).unwrap());
                    }
                    heap.sweep(None);
                }
                t.elapsed()
            })
        });
    }
    g.finish();
}

/// Mixed object sizes, addresses visited in a scrambled order and through
/// interior pointers, as a tracing marker meets them.
fn mark(c: &mut Criterion) {
    let heap = Heap::new(BENCH_RESERVE).unwrap();
    let mut cache = heap.new_cache();
    let mut targets: Vec<Address> = (0..MARK_OBJECTS as u64)
        .map(|i| {
            let size = [16, 32, 48, 64, 128, 512, 4096][(i % 7) as usize];
            heap.alloc(&mut cache, size, 1).unwrap() + (i % 2) * 8
        })
        .collect();
    // A fixed scramble (multiplicative hashing of the index).
    let n = targets.len();
    for i in 0..n {
        let j = (i.wrapping_mul(0x9E37_79B9) >> 7) % n;
        targets.swap(i, j);
    }
    let mut g = c.benchmark_group("mark");
    g.throughput(Throughput::Elements(MARK_OBJECTS as u64));
    g.bench_function("find_object_try_mark", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let mut won = 0u64;
                for &a in &targets {
                    if let Some(o) = heap.find_object(black_box(a)) {
                        won += (o.is_allocated() && o.try_mark()) as u64;
                    }
                }
                total += t.elapsed();
                assert_eq!(won, MARK_OBJECTS as u64);
                heap.sweep(None); // everything is marked: clears the marks only
            }
            total
        })
    });
    g.finish();
}

/// 10^5 one-page spans holding one 8 KiB object each, all marked, so every
/// sweep visits every span and frees nothing.
fn sweep(c: &mut Criterion) {
    let heap = Heap::new(BENCH_RESERVE).unwrap();
    let mut cache = heap.new_cache();
    let objs: Vec<Address> = (0..SWEEP_SPANS).map(|_| heap.alloc(&mut cache, 8192, 0).unwrap()).collect();
    heap.flush_cache(&mut cache);
    let mark_all = || {
        for &a in &objs {
            heap.find_object(a).unwrap().try_mark();
        }
    };
    let mut g = c.benchmark_group("sweep");
    g.throughput(Throughput::Elements(SWEEP_SPANS));
    g.sample_size(20);
    g.bench_function("100k_spans_serial", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                mark_all();
                let t = Instant::now();
                let s = heap.sweep(None);
                total += t.elapsed();
                assert_eq!(s.swept_spans, SWEEP_SPANS);
            }
            total
        })
    });
    g.bench_function("100k_spans_parallel", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                mark_all();
                let t = Instant::now();
                let s = heap.sweep_parallel(None);
                total += t.elapsed();
                assert_eq!(s.swept_spans, SWEEP_SPANS);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, alloc_small, mark, sweep);
criterion_main!(benches);

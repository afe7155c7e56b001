//! Heap microbenchmarks: the small-allocation fast path (with its refills
//! and the sweeps that let memory be reused), the same per size class,
//! marking through `find_object` + `try_mark`, and sweeping 10^5 spans.
//!
//! Each benchmark measures a batch and reports time per element, so the
//! numbers read as "ns per allocation", "ns per mark", "ns per span"
//! (criterion's `time` line divided by the batch; its `thrpt` line gives
//! elements/s and, where it makes sense, bytes/s).
//!
//! - `alloc/small_with_sweep/*`: 10^5 allocations of one size, then a sweep
//!   that frees them all, timed together.
//! - `alloc_class/<size>B/{noscan,ptr}`: allocation alone (the sweep that
//!   frees each batch is not timed) for a representative set of the 68 size
//!   classes, 8 B to 32 KiB, without pointer slots (no-scan spans) and with
//!   every word a pointer slot. A batch is at most 10^5 objects and at most
//!   32 MiB, so large classes do not balloon the benchmark's memory. Freed
//!   blocks are zeroed when they are handed out again, so the larger classes
//!   mostly measure that zeroing; from 4 KiB up a span holds one or two
//!   blocks, so every allocation or every other one also takes a span.
//! - `alloc_bump/<size>B`: the generational collector's nursery path — bump
//!   allocation in a copy space through a worker buffer — for the small
//!   classes, beside `alloc_class` (the space is reset, untimed, between
//!   batches, as a minor collection would).
//! - `alloc_mutator/<collector>/<size>B`: allocation through the
//!   [`Collector`] trait with a mutator from its `new_mutator`, as the
//!   replayer allocates (`generational`: the nursery's bump path, including
//!   finding the worker's buffer in the mutator; `mark-sweep` beside it);
//!   an untimed explicit collection empties the heap between batches.
//! - `mark/find_object_try_mark`: 10^5 interior pointers, scrambled.
//! - `sweep/100k_spans_*`: spans/s and bytes/s (each span is one 8 KiB page).
//!
//! Run: `cargo bench -p gcwb-collectors --bench alloc` (`-- --quick` for a
//! fast estimate, `-- alloc_class` for one group).

use collectors::copy_space::{CopySpace, Tlab};
use collectors::heap::{size_to_class, Address, Heap, PAGE_BYTES, SIZE_CLASSES};
use collectors::host::{RootSet, RootVisitor};
use collectors::{registry, Collector, GcConfig, Host, Phase, Stopped, Trigger};
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
/// Size classes measured one by one: every one is an exact class size.
const CLASS_SIZES: [u64; 12] = [8, 16, 32, 48, 64, 128, 256, 512, 1024, 4096, 8192, 32768];
/// Bytes allocated per measured batch of `alloc_class` (at most
/// `ALLOC_BATCH` objects).
const CLASS_BATCH_BYTES: u64 = 32 << 20;

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

/// Allocation per size class, without the sweep: each batch is freed by an
/// untimed sweep, so from the second batch on the memory is reused (and
/// zeroed on allocation), as in a program in steady state.
fn alloc_by_class(c: &mut Criterion) {
    let heap = Heap::new(BENCH_RESERVE).unwrap();
    let mut g = c.benchmark_group("alloc_class");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(2));
    for size in CLASS_SIZES {
        let class = SIZE_CLASSES[size_to_class(size)];
        assert_eq!(u64::from(class.bytes), size, "{size} B is not a size class");
        let n = (CLASS_BATCH_BYTES / size).min(ALLOC_BATCH);
        g.throughput(Throughput::ElementsAndBytes { elements: n, bytes: n * size });
        for (kind, ptr_slots) in [("noscan", 0u32), ("ptr", (size / 8) as u32)] {
            let mut cache = heap.new_cache();
            g.bench_function(BenchmarkId::new(format!("{size}B"), kind), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        for _ in 0..n {
                            black_box(heap.alloc(&mut cache, black_box(size), ptr_slots).unwrap());
                        }
                        total += t.elapsed();
                        let s = heap.sweep(None);
                        assert_eq!(s.freed_objects, n, "the sweep must free the whole batch");
                    }
                    total
                })
            });
            heap.flush_cache(&mut cache);
        }
    }
    g.finish();
}

/// Bump allocation in a copy space (the nursery), 32 KiB worker buffers.
fn alloc_bump(c: &mut Criterion) {
    let heap = Heap::new(BENCH_RESERVE).unwrap();
    let mut g = c.benchmark_group("alloc_bump");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(2));
    for size in [8u64, 16, 32, 64, 128, 1024] {
        // The same batches as `alloc_class`, so the two compare.
        let n = (CLASS_BATCH_BYTES / size).min(ALLOC_BATCH);
        // Room for the batch and the buffers' unused tails.
        let space = CopySpace::new(&heap, 2 * n * (size + 8)).unwrap();
        g.throughput(Throughput::ElementsAndBytes { elements: n, bytes: n * size });
        g.bench_function(BenchmarkId::new(format!("{size}B"), "ptr"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut tlab = Tlab::default();
                for _ in 0..iters {
                    let t = Instant::now();
                    for _ in 0..n {
                        let a = space.alloc(&heap, &mut tlab, black_box(size), (size / 8) as u32, 0, 32 << 10);
                        black_box(a.unwrap());
                    }
                    total += t.elapsed();
                    space.reset();
                }
                total
            })
        });
    }
    g.finish();
}

/// No roots: a collection frees (or evacuates) nothing it must keep.
struct NoRoots;

impl RootSet for NoRoots {
    fn scan_globals(&self, _visit: &mut RootVisitor<'_>) {}
    fn stack_count(&self) -> usize {
        0
    }
    fn scan_stack(&self, _g: usize, _may_shrink: bool, _visit: &mut RootVisitor<'_>) {}
}

/// A host with no mutator threads to stop and no roots.
struct EmptyHost {
    t0: Instant,
}

impl Host for EmptyHost {
    fn roots(&self) -> &dyn RootSet {
        &NoRoots
    }
    fn stop_the_world(&self, cycle: u64, phase: Phase) -> Option<Stopped> {
        Some(Stopped { cycle, phase, requested_ns: self.now_ns(), ttsp_ns: 0 })
    }
    fn start_the_world(&self, _stopped: Stopped) {}
    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }
}

/// Allocation through the collector's own path ([`Collector::alloc`]) with
/// its own mutator: batches small enough for the default nursery (4 MiB)
/// and below the heap goal, so no collection runs inside a batch.
fn alloc_mutator(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_mutator");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    let host = EmptyHost { t0: Instant::now() };
    const BATCH: u64 = 50_000;
    for name in ["generational", "mark-sweep"] {
        let config = GcConfig { procs: 1, heap_reserve_bytes: BENCH_RESERVE, ..GcConfig::default() };
        let collector = (registry::find(name).unwrap().make)(&config).unwrap();
        let c: &dyn Collector = collector.as_ref();
        let mut m = c.new_mutator();
        for size in [16u64, 64] {
            g.throughput(Throughput::Elements(BATCH));
            g.bench_function(BenchmarkId::new(name, format!("{size}B")), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        for _ in 0..BATCH {
                            black_box(c.alloc(&mut m, black_box(size), 1).unwrap());
                        }
                        total += t.elapsed();
                        assert!(m.gc_wanted.is_none(), "{name}: a collection was due inside a batch");
                        c.collect(&host, Trigger::Explicit);
                    }
                    total
                })
            });
        }
        c.release_mutator(&mut m);
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
    // Spans/s and bytes/s: each span is one page.
    assert_eq!(SIZE_CLASSES[size_to_class(8192)].pages, 1);
    g.throughput(Throughput::ElementsAndBytes { elements: SWEEP_SPANS, bytes: SWEEP_SPANS * PAGE_BYTES });
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

criterion_group!(benches, alloc_small, alloc_by_class, alloc_bump, alloc_mutator, mark, sweep);
criterion_main!(benches);

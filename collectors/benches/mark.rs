//! Parallel marking: `ParallelMarker::mark` over fixed heap graphs, with 1
//! and 2 GC worker threads.
//!
//! The heaps are built directly with the heap API, no collector, no replay:
//! - `8MiB`, `64MiB` (live bytes): three quarters of the live bytes are a
//!   complete binary tree of 32-byte objects with 2 pointer slots (node `i`
//!   points at `2i+1` and `2i+2`), allocated in index (breadth-first)
//!   order; one quarter are 1 KiB arrays of 128 pointer slots, each slot
//!   pointing at a pseudo-random tree node (every fourth one through an
//!   interior pointer), so marking also meets scattered, already-marked
//!   targets.
//! - `random_graph_500k`: 500 000 objects of 32, 48, 64 or 128 bytes
//!   (picked at random), 4 pointer slots each: slot 0 links the objects in a
//!   random order into one chain (so everything is reachable from its
//!   first object), slots 1–3 point at random objects (one in four through
//!   an interior pointer). Allocation order and pointer order are
//!   unrelated, so nearly every pointer followed is a cache miss; the
//!   random edges give the workers plenty to steal.
//!
//! The root set is one table of globals (the tree's root and every array;
//! the graph's first object), no stacks. Everything allocated is reachable,
//! so each measured mark finds the whole heap (checked: objects and bytes);
//! the marks are then cleared (untimed) by `Heap::sweep`, which, everything
//! being marked, frees nothing (checked every time).
//!
//! Throughput is in marked bytes (criterion prints MiB/s); after each
//! benchmark a line gives objects/s and MiB/s averaged over every mark it
//! timed. Run: `cargo bench -p gcwb-collectors --bench mark`
//! (`-- --quick` for a fast estimate).

use collectors::heap::{Address, Heap, WORD_BYTES};
use collectors::host::{RootKind, RootSet, RootVisitor};
use collectors::mark::{MarkFaults, MarkStats, ParallelMarker};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// Reservation for each benchmark heap (address space only).
const BENCH_RESERVE: u64 = 4 << 30;
/// Bytes (size-class bytes, exact here) of a tree node and of an array.
const NODE_BYTES: u64 = 32;
const NODE_SLOTS: u32 = 2;
const ARRAY_BYTES: u64 = 1024;
const ARRAY_SLOTS: u32 = (ARRAY_BYTES / WORD_BYTES) as u32;
/// Live heap sizes measured.
const LIVE_SIZES: [u64; 2] = [8 << 20, 64 << 20];
/// GC worker threads measured.
const THREADS: [usize; 2] = [1, 2];
/// Objects of the random graph, their sizes and pointer slots.
const GRAPH_OBJECTS: u64 = 500_000;
const GRAPH_SIZES: [u64; 4] = [32, 48, 64, 128];
const GRAPH_SLOTS: u32 = 4;

/// Roots: package-level pointer variables only.
struct Globals(Vec<AtomicU64>);

impl RootSet for Globals {
    fn scan_globals(&self, visit: &mut RootVisitor<'_>) {
        for s in &self.0 {
            visit(s, RootKind::Global);
        }
    }
    fn stack_count(&self) -> usize {
        0
    }
    fn scan_stack(&self, _g: usize, _may_shrink: bool, _visit: &mut RootVisitor<'_>) {}
}

/// A built heap and what marking it must find.
struct LiveHeap {
    heap: Heap,
    roots: Globals,
    /// What it is, for the printed summary.
    what: String,
    objects: u64,
    bytes: u64,
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// A heap of about `live` bytes: 3/4 tree nodes, 1/4 pointer arrays.
fn build(live: u64) -> LiveHeap {
    let heap = Heap::new(BENCH_RESERVE).expect("benchmark heap");
    let mut cache = heap.new_cache();
    let arrays = live / 4 / ARRAY_BYTES;
    let nodes = (live - arrays * ARRAY_BYTES) / NODE_BYTES;
    let node: Vec<Address> = (0..nodes).map(|_| heap.alloc(&mut cache, NODE_BYTES, NODE_SLOTS).unwrap()).collect();
    for (i, &a) in node.iter().enumerate() {
        for c in 0..2u64 {
            if let Some(&child) = node.get(2 * i + 1 + c as usize) {
                heap.store(a + c * WORD_BYTES, child);
            }
        }
    }
    let mut roots = vec![AtomicU64::new(node[0])];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15; // xorshift64*
    for _ in 0..arrays {
        let arr = heap.alloc(&mut cache, ARRAY_BYTES, ARRAY_SLOTS).unwrap();
        for j in 0..u64::from(ARRAY_SLOTS) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let target = node[(x.wrapping_mul(0x2545_f491_4f6c_dd1d) % nodes) as usize];
            let interior = if j % 4 == 3 { WORD_BYTES } else { 0 };
            heap.store(arr + j * WORD_BYTES, target + interior);
        }
        roots.push(AtomicU64::new(arr));
    }
    heap.flush_cache(&mut cache);
    LiveHeap {
        heap,
        roots: Globals(roots),
        what: format!("{nodes} nodes of {NODE_BYTES} B, {arrays} arrays of {ARRAY_BYTES} B"),
        objects: nodes + arrays,
        bytes: nodes * NODE_BYTES + arrays * ARRAY_BYTES,
    }
}

/// The random graph of `n` objects (see the module documentation).
fn build_random_graph(n: u64) -> LiveHeap {
    let heap = Heap::new(BENCH_RESERVE).expect("benchmark heap");
    let mut cache = heap.new_cache();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut bytes = 0;
    let objs: Vec<Address> = (0..n)
        .map(|_| {
            let size = GRAPH_SIZES[rng.below(GRAPH_SIZES.len() as u64) as usize];
            bytes += size;
            heap.alloc(&mut cache, size, GRAPH_SLOTS).unwrap()
        })
        .collect();
    // The chain: a random permutation (Fisher-Yates).
    let mut order: Vec<usize> = (0..n as usize).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for w in order.windows(2) {
        heap.store(objs[w[0]], objs[w[1]]);
    }
    for &a in &objs {
        for s in 1..u64::from(GRAPH_SLOTS) {
            let target = objs[rng.below(n) as usize];
            let interior = if rng.below(4) == 0 { WORD_BYTES } else { 0 };
            heap.store(a + s * WORD_BYTES, target + interior);
        }
    }
    heap.flush_cache(&mut cache);
    LiveHeap {
        heap,
        roots: Globals(vec![AtomicU64::new(objs[order[0]])]),
        what: format!("random graph, {GRAPH_SLOTS} pointer slots per object"),
        objects: n,
        bytes,
    }
}

/// One mark, checked; then the marks are cleared by a sweep that must free
/// nothing. Returns the stats and the time of the mark alone.
fn mark_once(marker: &ParallelMarker, h: &LiveHeap) -> (MarkStats, Duration) {
    let t = Instant::now();
    let s = marker.mark(&h.heap, &h.roots, false, MarkFaults::default());
    let elapsed = t.elapsed();
    assert_eq!((s.objects, s.bytes), (h.objects, h.bytes), "the mark missed live objects");
    let swept = h.heap.sweep(None);
    assert_eq!(swept.freed_objects, 0, "clearing the marks freed objects");
    assert_eq!(swept.live_objects, h.objects);
    (s, elapsed)
}

fn parallel_mark(c: &mut Criterion) {
    let mut g = c.benchmark_group("parallel_mark");
    g.sample_size(10);
    let heaps = LIVE_SIZES
        .iter()
        .map(|&live| (format!("{}MiB", live >> 20), live))
        .chain([(format!("random_graph_{}k", GRAPH_OBJECTS / 1000), 0)]);
    for (name, live) in heaps {
        // Built one at a time (and dropped before the next).
        let h = if live > 0 { build(live) } else { build_random_graph(GRAPH_OBJECTS) };
        println!(
            "parallel_mark/{name}: {} objects, {} bytes live ({}), {} roots",
            h.objects,
            h.bytes,
            h.what,
            h.roots.0.len()
        );
        g.throughput(Throughput::Bytes(h.bytes));
        g.measurement_time(Duration::from_secs(if h.bytes > 16 << 20 { 10 } else { 5 }));
        for threads in THREADS {
            let marker = ParallelMarker::new(threads, "bench");
            // Totals over every timed mark (warm-up included), for objects/s.
            let total: Cell<(u64, u64, Duration)> = Cell::new((0, 0, Duration::ZERO));
            let id = BenchmarkId::new(&name, format!("{threads}_threads"));
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let mut time = Duration::ZERO;
                    for _ in 0..iters {
                        let (s, t) = mark_once(&marker, &h);
                        time += t;
                        let (o, by, d) = total.get();
                        total.set((o + s.objects, by + s.bytes, d + t));
                    }
                    time
                })
            });
            let (objects, bytes, time) = total.get();
            if !time.is_zero() {
                let secs = time.as_secs_f64();
                println!(
                    "parallel_mark/{name}/{threads}_threads: mean over {} marks: {:.1} M objects/s, {:.1} MiB/s",
                    objects / h.objects,
                    objects as f64 / secs / 1e6,
                    bytes as f64 / secs / (1u64 << 20) as f64
                );
            }
        }
    }
    g.finish();
}

criterion_group!(benches, parallel_mark);
criterion_main!(benches);

//! The Go cycle's two markings side by side, on one thread, with no
//! collector and no replay: `concurrent`'s object work list
//! (`ObjectMarking`) against `greentea`'s span queues (`SpanMarking`),
//! marking the same heap.
//!
//! Heaps (built directly with the heap API): a complete binary tree of
//! 16-byte nodes with 2 pointer slots, 2^20 nodes (16 MiB),
//! - `bottom-up`: children allocated before their parent (the
//!   benchmarks-game binary-trees' `bottomUpTree`), so a span holds whole
//!   small subtrees;
//! - `top-down`: each parent before its children, depth first (GCBench's
//!   `Populate`).
//!
//! Each is marked two ways:
//! - `background`: one drain to the end (a background mark worker);
//! - `assists`: drains of 256 KiB of scan work each until nothing is left
//!   (mark assists: each drain starts with empty local queues and gives
//!   back what it has not scanned).
//!
//! Throughput is in marked bytes. Marks (and scan bits) are cleared between
//! marks by `Heap::sweep`, untimed; every mark is checked to reach the
//! whole tree. Run: `cargo bench -p gcwb-collectors --bench mark_work`.

use collectors::go_cycle::mark_work::{Drainer, MarkProgress, MarkWork};
use collectors::go_cycle::object_queue::ObjectMarking;
use collectors::heap::{Address, Heap, WORD_BYTES};
use collectors::plans::greentea::SpanMarking;
use collectors::GcConfig;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Reservation for each benchmark heap (address space only).
const RESERVE: u64 = 1 << 30;
const NODE_BYTES: u64 = 16;
/// Depth of the tree: 2^20 - 1 nodes.
const DEPTH: u32 = 19;
/// Scan work per assist drain (the cycle's `ASSIST_STEP_BYTES`).
const ASSIST_STEP: u64 = collectors::go_cycle::ASSIST_STEP_BYTES;

struct Tree {
    heap: Heap,
    root: Address,
    bytes: u64,
}

fn build(bottom_up: bool) -> Tree {
    let heap = Heap::new(RESERVE).expect("heap");
    let mut cache = heap.new_cache();
    fn node(heap: &Heap, cache: &mut collectors::heap::AllocCache, depth: u32, bottom_up: bool) -> Address {
        let alloc = |cache: &mut collectors::heap::AllocCache| heap.alloc(cache, NODE_BYTES, 2).expect("alloc");
        if depth == 0 {
            return alloc(cache);
        }
        let (n, l, r) = if bottom_up {
            let l = node(heap, cache, depth - 1, bottom_up);
            let r = node(heap, cache, depth - 1, bottom_up);
            (alloc(cache), l, r)
        } else {
            let n = alloc(cache);
            (n, node(heap, cache, depth - 1, bottom_up), node(heap, cache, depth - 1, bottom_up))
        };
        heap.store(n, l);
        heap.store(n + WORD_BYTES, r);
        n
    }
    let root = node(&heap, &mut cache, DEPTH, bottom_up);
    heap.flush_cache(&mut cache);
    Tree { heap, root, bytes: ((1u64 << (DEPTH + 1)) - 1) * NODE_BYTES }
}

/// Marks the whole tree with `work`, in drains of `step` bytes of scan
/// work; returns the bytes marked.
fn mark(work: &dyn MarkWorkDyn, t: &Tree, who: Drainer, step: u64) -> u64 {
    let progress = MarkProgress::new(0);
    let mut marked = work.shade(&t.heap, t.root);
    loop {
        work.drain(&t.heap, who, step, &progress);
        if work.is_empty() {
            break;
        }
    }
    marked += progress.marked.load(Ordering::Relaxed);
    marked
}

/// The calls this bench makes, object-safe.
trait MarkWorkDyn {
    fn shade(&self, heap: &Heap, v: Address) -> u64;
    fn drain(&self, heap: &Heap, who: Drainer, budget: u64, progress: &MarkProgress);
    fn is_empty(&self) -> bool;
}

impl<M: MarkWork> MarkWorkDyn for M {
    fn shade(&self, heap: &Heap, v: Address) -> u64 {
        MarkWork::shade(self, heap, v)
    }
    fn drain(&self, heap: &Heap, who: Drainer, budget: u64, progress: &MarkProgress) {
        MarkWork::drain(self, heap, who, budget, &|| false, progress);
    }
    fn is_empty(&self) -> bool {
        MarkWork::is_empty(self)
    }
}

fn markings(c: &mut Criterion) {
    let config = GcConfig::default();
    let mut g = c.benchmark_group("mark_work");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for (shape, bottom_up) in [("bottom-up", true), ("top-down", false)] {
        let tree = build(bottom_up);
        g.throughput(Throughput::Bytes(tree.bytes));
        for (how, who, step) in
            [("background", Drainer::Background, u64::MAX), ("assists", Drainer::Assist, ASSIST_STEP)]
        {
            let object: Box<dyn MarkWorkDyn> = Box::new(<ObjectMarking as MarkWork>::new(&config));
            let span: Box<dyn MarkWorkDyn> = Box::new(<SpanMarking as MarkWork>::new(&config));
            for (name, work) in [("concurrent", object), ("greentea", span)] {
                g.bench_function(BenchmarkId::new(format!("{shape}/{how}"), name), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let t0 = Instant::now();
                            let marked = mark(work.as_ref(), &tree, who, step);
                            total += t0.elapsed();
                            assert_eq!(marked, tree.bytes, "{name} marked the whole tree");
                            tree.heap.sweep(None);
                        }
                        total
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, markings);
criterion_main!(benches);

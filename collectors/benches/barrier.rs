//! Write-barrier cost: nanoseconds per heap pointer store, per collector.
//!
//! Every registered collector is built (through the registry, with 1 GC
//! worker) and given the same small heap: 4096 holder objects of 64 bytes
//! (8 pointer slots) and 4096 target objects of 32 bytes (2 pointer slots).
//! A batch is 65 536 stores of a target into a holder's slot, in a fixed
//! scrambled order (about 1.3 MB of objects and store list: the cost of the
//! barrier, not of cache misses). Every slot holds a target from the first
//! batch on, so a deletion barrier always has an old value to look at.
//!
//! For each collector, the benchmark ids are
//! - `<collector>/store`: a plain `Heap::store` — no barrier, the floor;
//! - `<collector>/write_pointer`: the store through `Collector::write_pointer`
//!   on a `Mutator` from `new_mutator()`, called through `&dyn Collector` as
//!   the replayer calls it (for a collector without a barrier, the trait's
//!   default: the floor plus the call). Not marking.
//!
//! and, for collectors that mark concurrently (`concurrent`):
//! - `<collector>/write_pointer_marking_grey_stack`: during marking, from a
//!   goroutine whose stack is not scanned yet — Go's hybrid barrier shades
//!   both the overwritten and the new pointer;
//! - `<collector>/write_pointer_marking_black_stack`: during marking, from a
//!   goroutine whose stack counts as scanned — only the overwritten pointer
//!   is shaded.
//!
//! The marking state is reached through the public API only: a test
//! [`Host`] (no mutators to stop, so stopping the world is immediate) that
//! accepts `request_background` but never runs the background work; the
//! heap is filled past the collector's trigger and `collect(HeapGoal)` is
//! called, which runs sweep termination (barrier on, allocate black) and
//! returns with the concurrent mark pending. A store is then checked to
//! shade the unmarked object it overwrites. The black stack is goroutine 1
//! after `on_spawn` during marking (a goroutine started while marking has
//! its stack black). After the first batch every target is marked, so the
//! steady state measured is the barrier finding already-marked objects
//! (`find_object` and a mark-bit test per shaded pointer). Afterwards the
//! pending cycle is finished with `background`.
//!
//! Throughput is in stores (criterion's `time` / 65 536 = ns per store).
//! Run: `cargo bench -p gcwb-collectors --bench barrier` (`-- --quick` for
//! a fast estimate).

use collectors::heap::{Address, WORD_BYTES};
use collectors::host::{RootKind, RootSet, RootVisitor, Slot};
use collectors::{registry, Collector, GcConfig, Host, Mutator, Phase, Stopped, Trigger};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Address space reserved for each collector's heap.
const BENCH_RESERVE: u64 = 4 << 30;
/// Holder objects (whose slots are stored into) and their pointer slots.
const HOLDERS: u64 = 4096;
const HOLDER_BYTES: u64 = 64;
const HOLDER_SLOTS: u32 = 8;
/// Target objects (the values stored).
const TARGETS: u64 = 4096;
const TARGET_BYTES: u64 = 32;
const TARGET_SLOTS: u32 = 2;
/// Stores per measured batch.
const STORES: u64 = 65_536;

/// Roots of the test host: one global (unused) and two goroutine stacks
/// with nothing on them (goroutine 0 never scanned; goroutine 1 black once
/// spawned during marking).
struct BenchRoots {
    global: Slot,
}

impl RootSet for BenchRoots {
    fn scan_globals(&self, visit: &mut RootVisitor<'_>) {
        visit(&self.global, RootKind::Global);
    }
    fn stack_count(&self) -> usize {
        2
    }
    fn scan_stack(&self, _g: usize, _may_shrink: bool, _visit: &mut RootVisitor<'_>) {}
}

/// A minimal host: no mutator threads to stop, background work accepted
/// (and left pending until the benchmark runs it).
struct BenchHost {
    roots: BenchRoots,
    t0: Instant,
}

impl Host for BenchHost {
    fn roots(&self) -> &dyn RootSet {
        &self.roots
    }
    fn stop_the_world(&self, cycle: u64, phase: Phase) -> Option<Stopped> {
        Some(Stopped { cycle, phase, requested_ns: self.now_ns(), ttsp_ns: 0 })
    }
    fn start_the_world(&self, _stopped: Stopped) {}
    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }
    fn request_background(&self, _work: collectors::background::Work) -> bool {
        true
    }
}

/// The stores of one batch: `(slot, value)`.
fn store_list(c: &dyn Collector, m: &mut Mutator) -> Vec<(Address, Address)> {
    let holders: Vec<Address> = (0..HOLDERS).map(|_| c.alloc(m, HOLDER_BYTES, HOLDER_SLOTS).unwrap()).collect();
    let targets: Vec<Address> = (0..TARGETS).map(|_| c.alloc(m, TARGET_BYTES, TARGET_SLOTS).unwrap()).collect();
    let slots = HOLDERS * u64::from(HOLDER_SLOTS);
    (0..STORES)
        .map(|i| {
            // Multiplicative scrambles (odd multipliers: every slot is hit).
            let s = i.wrapping_mul(0x9E37_79B9) % slots;
            let slot = holders[(s / u64::from(HOLDER_SLOTS)) as usize] + (s % u64::from(HOLDER_SLOTS)) * WORD_BYTES;
            let value = targets[(i.wrapping_mul(0x2545_F491) % TARGETS) as usize];
            (slot, value)
        })
        .collect()
}

/// Times `batches` batches of `store`.
fn time_batches(batches: u64, stores: &[(Address, Address)], mut store: impl FnMut(Address, Address)) -> Duration {
    let t = Instant::now();
    for _ in 0..batches {
        for &(slot, value) in stores {
            store(black_box(slot), black_box(value));
        }
    }
    t.elapsed()
}

/// Puts a concurrent collector into its marking state: fills the heap past
/// its trigger and starts a cycle whose concurrent mark `host` leaves
/// pending. Returns false (and says why) if a probe store afterwards does
/// not shade the object it overwrites, i.e. no barrier is on.
fn start_marking(c: &dyn Collector, m: &mut Mutator, host: &BenchHost) -> bool {
    // A probe: a slot holding an unmarked object, allocated before the cycle.
    let holder = c.alloc(m, HOLDER_BYTES, HOLDER_SLOTS).unwrap();
    let old = c.alloc(m, TARGET_BYTES, TARGET_SLOTS).unwrap();
    let new = c.alloc(m, TARGET_BYTES, TARGET_SLOTS).unwrap();
    c.heap().store(holder, old);
    let mut filled = 0u64;
    while m.gc_wanted.is_none() {
        c.alloc(m, 32 << 10, 0).unwrap();
        filled += 32 << 10;
        assert!(filled < 1 << 30, "{}: 1 GiB allocated and the trigger not reached", c.name());
    }
    m.gc_wanted = None;
    c.collect(host, Trigger::HeapGoal);
    let marked = |a: Address| c.heap().find_object(a).is_some_and(|o| o.is_marked());
    assert!(!marked(old), "{}: the probe is marked before any store", c.name());
    c.write_pointer(m, holder, new);
    if !marked(old) {
        eprintln!("barrier/{}: collect(HeapGoal) did not leave it marking; marking benchmarks skipped", c.name());
        return false;
    }
    true
}

fn barrier(c: &mut Criterion) {
    let mut g = c.benchmark_group("barrier");
    g.throughput(Throughput::Elements(STORES));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for info in registry::COLLECTORS {
        let config = GcConfig { procs: 1, heap_reserve_bytes: BENCH_RESERVE, ..GcConfig::default() };
        let collector = (info.make)(&config).expect("collector");
        let c: &dyn Collector = collector.as_ref();
        let caps = c.capabilities();
        let mut m = c.new_mutator();
        let stores = store_list(c, &mut m);
        let heap = c.heap();
        // Every slot holds a target before anything is timed.
        for &(slot, value) in &stores {
            heap.store(slot, value);
        }
        if caps.needs_write_barrier {
            g.bench_function(BenchmarkId::new(info.name, "store"), |b| {
                b.iter_custom(|iters| time_batches(iters, &stores, |s, v| heap.store(s, v)))
            });
        }
        g.bench_function(BenchmarkId::new(info.name, "write_pointer"), |b| {
            b.iter_custom(|iters| time_batches(iters, &stores, |s, v| c.write_pointer(&mut m, s, v)))
        });
        if caps.concurrent {
            let host = BenchHost { roots: BenchRoots { global: Slot::new(0) }, t0: Instant::now() };
            if start_marking(c, &mut m, &host) {
                m.goroutine = 0;
                g.bench_function(BenchmarkId::new(info.name, "write_pointer_marking_grey_stack"), |b| {
                    b.iter_custom(|iters| time_batches(iters, &stores, |s, v| c.write_pointer(&mut m, s, v)))
                });
                // A goroutine started during marking: its stack is black.
                c.on_spawn(&mut m, 1, &[]);
                m.goroutine = 1;
                g.bench_function(BenchmarkId::new(info.name, "write_pointer_marking_black_stack"), |b| {
                    b.iter_custom(|iters| time_batches(iters, &stores, |s, v| c.write_pointer(&mut m, s, v)))
                });
            }
            // Finish the pending cycle (mark, mark termination, sweep).
            c.finish_background(&host);
        }
        c.release_mutator(&mut m);
    }
    g.finish();
}

criterion_group!(benches, barrier);
criterion_main!(benches);

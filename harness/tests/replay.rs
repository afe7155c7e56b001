//! End-to-end replays: the seed example, parallel equivalence, stack
//! behaviour, and every collector verified clean.

mod common;
use common::*;
use harness::replay::{replay, Fatal, ReplayOptions};
use workloads::analysis::Place;
use workloads::generate::random::{random_trace, RandomConfig};
use workloads::BlockIdx;

const SEED_EXAMPLE: &str = workloads::generate::builtin::SEED_EXAMPLE;

fn block(trace: &workloads::Trace, name: u64) -> usize {
    trace.block_names.iter().position(|&n| n == name).expect("block exists")
}

#[test]
fn seed_example_places_done_closure_x_y_on_the_heap_and_z_on_the_stack() {
    let (t, a) = parse(SEED_EXAMPLE);
    let p = a.placements(false);
    for (name, want) in [(1, Place::Heap), (2, Place::Heap), (3, Place::Heap), (4, Place::Heap), (5, Place::Stack)] {
        assert_eq!(p[block(&t, name)], want, "b{name}");
    }
}

#[test]
fn seed_example_collects_x_at_the_goroutines_gc_and_y_at_mains() {
    let (t, a) = parse(SEED_EXAMPLE);
    for procs in [1, 2, 4] {
        let c = collector("mark-sweep", procs);
        let r = run(&t, &a, c.as_ref(), procs);
        assert_clean(&r);
        let freed = r.freed_by_cycle.as_ref().unwrap();
        // Cycle 1 is g2's runtime.GC(): x (b3) is unreachable by then, y (b4) is not.
        assert_eq!(freed[block(&t, 3)], 1, "x is freed by g2's GC");
        assert_eq!(freed[block(&t, 4)], 2, "y is freed by main's GC");
        // done is held by the closure, and the closure by g2's stack until g2
        // exits; main's receive waits for the send, not for the exit (as in
        // Go), so main's GC may run before g2 has exited: then the final
        // collection frees them.
        for b in [1, 2] {
            assert!([2, 3].contains(&freed[block(&t, b)]), "b{b} freed by cycle {}", freed[block(&t, b)]);
        }
        assert_eq!(freed[block(&t, 5)], 0, "z lives on the stack and is never collected");
        assert_eq!(r.final_live_bytes, 0);
        assert_eq!(r.cycles.len(), 3, "two explicit GCs and the final one");
    }
}

#[test]
fn no_stack_puts_z_on_the_heap_too() {
    let (t, a) = parse(SEED_EXAMPLE);
    let c = collector("mark-sweep", 2);
    let opts = ReplayOptions { no_stack: true, ..verified(2) };
    let r = replay(&a, c.as_ref(), &opts);
    assert_clean(&r);
    let freed = r.freed_by_cycle.unwrap();
    // z is a heap block now, dead once g2 exits — which may be after main's
    // GC (cycle 2), as for the closure: then the final collection frees it.
    assert!([2, 3].contains(&freed[block(&t, 5)]), "z freed by cycle {}", freed[block(&t, 5)]);
}

fn stress(seed: u64, events: u64) -> (workloads::Trace, workloads::analysis::Analysis) {
    let cfg = RandomConfig { seed, events, ..RandomConfig::default() };
    let t = random_trace(&cfg);
    let a = workloads::analysis::analyze(&t).expect("generated traces are sound");
    (t, a)
}

#[test]
fn every_collector_replays_random_traces_with_a_clean_verifier() {
    for seed in 1..=4 {
        let (t, a) = stress(seed, 30_000);
        for name in collectors::registry::names() {
            let c = collector(name, 2);
            let r = run(&t, &a, c.as_ref(), 4);
            assert_clean(&r);
            assert_eq!(r.events as usize, t.events.len());
        }
    }
}

#[test]
fn mark_sweep_collects_when_the_heap_reaches_its_goal() {
    let (t, a) = stress(7, 200_000);
    let c = collector("mark-sweep", 2);
    let r = run(&t, &a, c.as_ref(), 2);
    assert_clean(&r);
    let by_goal = r.cycles.iter().filter(|c| c.trigger == Some(collectors::Trigger::HeapGoal)).count();
    assert!(by_goal >= 2, "only {by_goal} heap-goal cycles");
    // The heap never grows far past the goal: peak in-use stays within a
    // small multiple of the largest goal (size-class rounding, cached spans).
    let max_goal = r.cycles.iter().map(|c| c.next_goal).max().unwrap();
    assert!(r.peak_heap_bytes < 3 * max_goal.max(4 << 20), "peak {} goal {}", r.peak_heap_bytes, max_goal);
}

#[test]
fn parallel_replay_ends_with_the_same_live_set_as_one_worker() {
    let (t, a) = stress(11, 60_000);
    let mut finals = Vec::new();
    for procs in [1, 8] {
        let c = collector("mark-sweep", 2);
        let r = run(&t, &a, c.as_ref(), procs);
        assert_clean(&r);
        finals.push((r.final_live_objects, r.final_live_bytes));
    }
    assert_eq!(finals[0], finals[1]);
    assert!(finals[0].0 > 0, "the trace keeps something alive in globals");
}

#[test]
fn none_never_frees_and_verifies_clean() {
    let (t, a) = stress(3, 20_000);
    let c = collector("none", 1);
    let r = run(&t, &a, c.as_ref(), 2);
    assert_clean(&r);
    assert!(r.freed_by_cycle.unwrap().iter().all(|&c| c == 0));
    assert!(r.pauses.is_empty());
    // 20 000 events replayed and checked take CPU time on some thread.
    assert!(r.process_cpu_ns > 0, "no process CPU time over a replay of {} ns", r.wall_ns);
}

const RECURSION: &str = "gctrace 1
g1 call 1
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
g1 call 1 4096
";

#[test]
fn stack_overflow_ends_the_replay_the_way_go_does() {
    let (t, a) = parse(RECURSION);
    let c = collector("mark-sweep", 1);
    let opts = ReplayOptions { stack_limit: collectors::runtime::StackLimit { setting: 20_000 }, ..verified(1) };
    let r = replay(&a, c.as_ref(), &opts);
    match &r.fatal {
        Some(f @ Fatal::StackOverflow { limit, .. }) => {
            assert_eq!(*limit, 20_000);
            let msg = f.to_string();
            assert!(
                msg.starts_with("runtime: goroutine stack exceeds 20000-byte limit\nfatal error: stack overflow"),
                "{msg}"
            );
            assert!(msg.contains("test.gct: line 6"), "{msg}");
        }
        other => panic!("expected a stack overflow, got {other:?}"),
    }
    // Under the default 1 GB limit the same trace just grows the stack.
    let r = run(&t, &a, c.as_ref(), 1);
    assert!(r.fatal.is_none());
    assert_eq!(r.max_stack_bytes, 64 << 10);
    assert!(r.stack_growths >= 4);
}

#[test]
fn stack_blocks_survive_stack_growth_and_keep_their_heap_referents() {
    // A stack block holds the only pointer to a heap block; the stack then
    // grows (moves) several times and a GC runs: the heap block must survive,
    // and reading it through the moved stack block must still work.
    let src = "gctrace 1
g1 call 2
g1 alloc l0 b1 32 2 var auto
g1 alloc l1 b2 64 1 new heap
g1 set l0.1 l1
g1 set l1 l0@1
g1 call 1 8192 l1
g1 call 1 16384 l0
g1 gc
g1 set l0 l0.0
g1 ret
g1 ret
g1 set l1 nil
g1 gc
g1 set l1 l0.1
g1 set l1.0 l0.1
";
    let (t, a) = parse(src);
    assert_eq!(a.placements(false)[block(&t, 1)], Place::Stack);
    let c = collector("mark-sweep", 1);
    let r = run(&t, &a, c.as_ref(), 1);
    assert_clean(&r);
    assert!(r.stack_growths >= 2);
    assert_eq!(r.freed_by_cycle.unwrap()[block(&t, 2)], 0, "b2 is kept by the stack block's slot");
    let _ = BlockIdx(0);
}

/// Mark-sweep with a counting barrier on heap and global stores, recording
/// which goroutine each heap store came from (`Mutator::goroutine`).
struct Counting {
    inner: Box<dyn collectors::Collector>,
    heap_stores: parking_lot::Mutex<std::collections::HashMap<usize, u64>>,
    global_stores: std::sync::atomic::AtomicU64,
}

impl collectors::Collector for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn capabilities(&self) -> collectors::Capabilities {
        collectors::Capabilities { barrier_on_globals: true, needs_write_barrier: true, ..self.inner.capabilities() }
    }
    fn heap(&self) -> &collectors::Heap {
        self.inner.heap()
    }
    fn alloc(&self, m: &mut collectors::Mutator, size: u64, ptr_slots: u32) -> Result<u64, collectors::HeapError> {
        self.inner.alloc(m, size, ptr_slots)
    }
    fn write_pointer(&self, m: &mut collectors::Mutator, slot: u64, value: u64) {
        *self.heap_stores.lock().entry(m.goroutine).or_default() += 1;
        self.inner.write_pointer(m, slot, value)
    }
    fn write_global(&self, m: &mut collectors::Mutator, slot: &collectors::Slot, value: u64) {
        self.global_stores.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.write_global(m, slot, value)
    }
    fn collect(&self, host: &dyn collectors::Host, trigger: collectors::Trigger) {
        self.inner.collect(host, trigger)
    }
    fn cycles(&self) -> u64 {
        self.inner.cycles()
    }
}

#[test]
fn barriers_see_every_heap_and_global_store_and_the_goroutine_making_it() {
    use workloads::model::{Op, Root};
    let (t, a) = stress(5, 30_000);
    let c = Counting {
        inner: collector("mark-sweep", 2),
        heap_stores: Default::default(),
        global_stores: Default::default(),
    };
    // With every block on the heap, every store through a path is a heap store.
    let r = replay(&a, &c, &ReplayOptions { no_stack: true, ..verified(4) });
    assert_clean(&r);
    let (mut want_global, mut want_heap) = (0u64, std::collections::HashMap::<usize, u64>::new());
    for (i, e) in t.events.iter().enumerate() {
        let dst = match &e.op {
            Op::Set { dst, .. } | Op::Alloc { dst, .. } => dst,
            Op::Ret { copy: Some((_, dst)) } => dst,
            _ => continue,
        };
        if !dst.path.is_empty() {
            *want_heap.entry(a.goroutine_of(i) as usize).or_default() += 1;
        } else if matches!(dst.root, Root::Global(_)) {
            want_global += 1;
        }
    }
    assert!(want_global > 100 && want_heap.len() > 2, "the trace exercises both");
    assert_eq!(c.global_stores.load(std::sync::atomic::Ordering::Relaxed), want_global);
    assert_eq!(*c.heap_stores.lock(), want_heap);
}

/// A collector that, at each explicit `gc`, scans every goroutine's stack
/// one at a time *without* stopping the world (as a concurrent collector
/// does) and never frees anything.
struct ConcurrentScanner {
    inner: Box<dyn collectors::Collector>,
    scans: std::sync::atomic::AtomicU64,
    slots: std::sync::atomic::AtomicU64,
}

impl collectors::Collector for ConcurrentScanner {
    fn name(&self) -> &'static str {
        "concurrent-scanner"
    }
    fn capabilities(&self) -> collectors::Capabilities {
        collectors::Capabilities { collects: false, ..Default::default() }
    }
    fn heap(&self) -> &collectors::Heap {
        self.inner.heap()
    }
    fn alloc(&self, m: &mut collectors::Mutator, size: u64, ptr_slots: u32) -> Result<u64, collectors::HeapError> {
        self.inner.alloc(m, size, ptr_slots)
    }
    fn collect(&self, host: &dyn collectors::Host, trigger: collectors::Trigger) {
        if trigger != collectors::Trigger::Explicit {
            return;
        }
        let roots = host.roots();
        for g in 0..roots.stack_count() {
            roots.scan_stack(g, false, &mut |slot, _| {
                // Every non-nil root is a heap or stack address the program holds.
                if slot.load(std::sync::atomic::Ordering::Relaxed) != 0 {
                    self.slots.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
            self.scans.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn cycles(&self) -> u64 {
        0
    }
}

#[test]
fn stacks_can_be_scanned_one_at_a_time_while_the_world_runs() {
    // The stress trace has explicit gc events; several goroutines run on
    // other workers while one of them scans everybody's stack.
    let t = random_trace(&RandomConfig { seed: 9, events: 60_000, gc_per_million: 500.0, ..RandomConfig::default() });
    let a = workloads::analysis::analyze(&t).unwrap();
    let gcs = t.events.iter().filter(|e| e.op == workloads::model::Op::Gc).count() as u64;
    assert!(gcs >= 10, "{gcs} gc events");
    let c = ConcurrentScanner { inner: collector("none", 1), scans: Default::default(), slots: Default::default() };
    let r = replay(&a, &c, &verified(4));
    assert_clean(&r);
    assert_eq!(r.events as usize, t.events.len());
    assert_eq!(c.scans.load(std::sync::atomic::Ordering::Relaxed), gcs * a.goroutines.len() as u64);
    assert!(c.slots.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert!(r.pauses.is_empty(), "nothing stopped the world");
}

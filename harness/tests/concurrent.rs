//! The concurrent collector: clean under the verifier on random stress
//! traces across many seeds with 4 and 8 workers (normal and slowed-down
//! marking, so the concurrent sweep, assists, stack scans and barriers all
//! run against live mutators), and on *shuffle* stress traces (16 goroutines
//! moving pointers between shared boxes and their own locals, a cycle every
//! 50 operations) — those hold under any interleaving; each deliberately
//! broken variant caught on the first run of a trace replayed in the one
//! interleaving that exposes it (a [`Schedule`] holds the collector and the
//! goroutines at the steps that matter), and by a shuffle stress trace
//! replayed in one fixed interleaving ([`Lockstep`]); mark assists made to
//! happen by a schedule and recorded only while marking; the soft memory
//! limit obeyed.
//!
//! No test here retries, searches seeds or times its mutators against a
//! slowed collector: an outcome that matters is either forced by a
//! schedule, a fact of a fixed interleaving, or true under any
//! interleaving (the comment at each such assertion says why).

mod common;
use collectors::cycle_hooks::CycleStep;
use collectors::plans::concurrent::{Concurrent, ConcurrentFaults};
use collectors::{Collector, GcConfig};
use common::*;
use std::sync::Arc;
use workloads::generate::random::{random_trace, RandomConfig};

fn concurrent(faults: ConcurrentFaults, procs: usize) -> Box<dyn Collector> {
    let cfg = GcConfig { min_heap_goal: 64 << 10, ..config(procs) };
    Box::new(Concurrent::with_faults(&cfg, faults).expect("collector starts"))
}

fn stress(seed: u64) -> (workloads::Trace, workloads::analysis::Analysis) {
    let t = random_trace(&RandomConfig { seed, events: 40_000, goroutines: 8, ..RandomConfig::default() });
    let a = workloads::analysis::analyze(&t).unwrap();
    (t, a)
}

/// Bytes of heap blocks the trace allocates.
fn heap_bytes(a: &workloads::analysis::Analysis) -> u64 {
    let placements = a.placements(false);
    a.blocks.iter().zip(placements).filter(|(_, p)| **p == workloads::analysis::Place::Heap).map(|(b, _)| b.size).sum()
}

/// Every assist lies between its cycle's sweep termination and mark
/// termination: under any interleaving, as the barrier (and with it the
/// debt assists pay) is turned on inside the one pause and off inside the
/// other, and a stop waits for an assisting goroutine to finish its step.
fn assert_assists_inside_marking(r: &harness::replay::RunResult) {
    for a in &r.assists {
        let pause = |phase: &str| r.pauses.iter().find(|p| p.gc == a.gc && p.phase == phase);
        let (Some(st), Some(mt)) = (pause("sweep-term"), pause("mark-term")) else {
            panic!("assist {a:?} in no cycle with both pauses")
        };
        assert!(a.start_ns >= st.start_ns + st.duration_ns, "{a:?} before its sweep termination {st:?}");
        assert!(a.start_ns + a.duration_ns <= mt.start_ns + mt.duration_ns, "{a:?} after its mark termination {mt:?}");
    }
}

#[test]
fn concurrent_collector_is_clean_on_random_traces_with_four_and_eight_workers() {
    for seed in 1..=16 {
        let (t, a) = stress(seed);
        // Nothing is freed before the first cycle, so once the trace has
        // allocated the first trigger's bytes (70% of the 64 KiB minimum
        // goal) a cycle starts, whatever the interleaving.
        assert!(heap_bytes(&a) > 64 << 10, "seed {seed}: too little allocation to collect");
        let faults = ConcurrentFaults { slow_mark_us: if seed % 4 == 0 { 5 } else { 0 }, ..Default::default() };
        let procs = if seed % 2 == 0 { 8 } else { 4 };
        let c = concurrent(faults, procs);
        let r = run(&t, &a, c.as_ref(), procs);
        assert_clean(&r);
        let during = r.cycles.iter().filter(|c| c.trigger != Some(collectors::Trigger::Final)).count();
        assert!(during >= 1, "seed {seed}: no cycle ran during the replay");
        let phases: std::collections::HashSet<_> = r.pauses.iter().map(|p| p.phase).collect();
        assert!(phases.contains("sweep-term") && phases.contains("mark-term"), "{phases:?}");
        assert_assists_inside_marking(&r);
    }
}

/// A trace built to expose one broken variant, and the interleaving that
/// does: the points of cycle 1 (the trace's explicit `gc`; GOGC is off, so
/// it is the only cycle before the final one).
struct Scenario {
    script: Script,
    points: fn(&workloads::analysis::Analysis, &Events) -> Vec<Point>,
    events: Events,
    /// The block a broken variant frees while it is reachable.
    victim: &'static str,
}

/// The trace indices of a scenario's events that its points name.
#[derive(Clone, Copy, Debug, Default)]
struct Events {
    first: usize,
    last: usize,
    resume: usize,
}

/// Goroutines with no events of their own, spawned by g1 (g3..g7): more
/// stacks for the marker, so it has one to scan after g2's.
const IDLE: &str = "g1 go g3 1\ng1 go g4 1\ng1 go g5 1\ng1 go g6 1\ng1 go g7 1";

/// The collector of a scenario: one mark worker (stacks scanned in goroutine
/// order), GOGC off (no cycle but the explicit one and the final one), the
/// schedule's hooks at the marker's steps.
fn scheduled(faults: ConcurrentFaults, schedule: &Arc<Schedule>) -> Box<dyn Collector> {
    let cfg = GcConfig { gogc: None, ..config(1) };
    let c = Concurrent::with_faults(&cfg, faults).expect("collector starts");
    Box::new(c.with_cycle_hooks(schedule.clone()))
}

/// Cycle 1's `step`.
fn before_step(step: CycleStep) -> Point {
    Point::StepBefore { cycle: 1, step }
}
fn after_step(step: CycleStep) -> Point {
    Point::StepAfter { cycle: 1, step }
}

/// "The marker scans g2's stack → g2 runs `first..=last` → the marker goes
/// on (next stack, the heap) and terminates → g2 resumes": what g2 does in
/// between, its stack already black, the marker sees only through the
/// barrier.
fn after_g2s_stack_scan(a: &workloads::analysis::Analysis, e: &Events) -> Vec<Point> {
    vec![
        after_step(CycleStep::Stack(dense(a, 2))),
        Point::before(a, e.first),
        Point::after(a, e.last),
        before_step(CycleStep::Stack(dense(a, 3))),
        after_step(CycleStep::MarkTermination),
        Point::before(a, e.resume),
    ]
}

/// The deletion half of the barrier: global G0 holds A, whose slot 0 holds
/// W. Once g2's stack is black, g2 loads W from A and deletes A's pointer
/// before the marker reaches A (no stack write has a barrier: only the
/// deletion's shade keeps W); after mark termination it stores W back and
/// writes through it.
fn deletion() -> Scenario {
    let mut s = Script::new("gctrace 1\nglobals 1");
    s.events(
        "g1 call 2
         g1 alloc l0 b1 32 2 new heap
         g1 alloc l1 b2 32 1 new heap
         g1 set l0.0 l1
         g1 set G0 l0
         g1 set l0 nil
         g1 set l1 nil
         g1 go g2 2",
    );
    s.events(IDLE);
    s.event("g1 gc");
    let first = s.event("g2 set l0 G0.0");
    let last = s.event("g2 set G0.0 nil");
    let resume = s.event("g2 set G0.1 l0");
    s.event("g2 set l0.0 nil");
    Scenario { script: s, points: after_g2s_stack_scan, events: Events { first, last, resume }, victim: "b2" }
}

/// The insertion half: g2 holds W (allocated before the cycle, white) in a
/// local; with the barrier on but g2's stack not yet scanned, it allocates
/// B (black: allocated during marking), stores W into B and drops its
/// local — only the insertion's shade keeps W; then the marker scans g2's
/// stack and terminates, and g2 loads W back from B and writes through it.
fn insertion() -> Scenario {
    let mut s = Script::new("gctrace 1\nglobals 1");
    s.event("g1 call 2");
    s.events(IDLE);
    s.events(
        "g1 go g2 2
         g2 alloc l0 b1 32 1 new heap
         g2 set G0 nil
         g1 set l0 G0
         g1 gc",
    );
    let first = s.event("g2 alloc l1 b2 32 1 new heap");
    s.event("g2 set l1.0 l0");
    let last = s.event("g2 set l0 nil");
    let resume = s.event("g2 set l0 l1.0");
    s.event("g2 set l0.0 nil");
    let points = |a: &workloads::analysis::Analysis, e: &Events| {
        vec![
            // The barrier is on once the marker is at its first step.
            before_step(CycleStep::Globals),
            Point::before(a, e.first),
            Point::after(a, e.last),
            before_step(CycleStep::Stack(dense(a, 2))),
            after_step(CycleStep::MarkTermination),
            Point::before(a, e.resume),
        ]
    };
    Scenario { script: s, points, events: Events { first, last, resume }, victim: "b1" }
}

/// Allocation during marking: g2's stack is black when it allocates W into
/// a local; only allocating black keeps W; after mark termination g2 writes
/// through it.
fn allocation() -> Scenario {
    let mut s = Script::new("gctrace 1\nglobals 1");
    s.events("g1 call 2\ng1 go g2 2");
    s.events(IDLE);
    s.event("g1 gc");
    let first = s.event("g2 alloc l0 b1 32 1 new heap");
    let resume = s.event("g2 set l0.0 nil");
    Scenario { script: s, points: after_g2s_stack_scan, events: Events { first, last: first, resume }, victim: "b1" }
}

/// Replays `scenario` under `faults`, in its interleaving (4 workers: g1 in
/// its collection, g2 held, and the idle goroutines all have one).
fn replay_scenario(scenario: &Scenario, faults: ConcurrentFaults) -> harness::replay::RunResult {
    let (_, a) = scenario.script.parse();
    let schedule = Schedule::new((scenario.points)(&a, &scenario.events));
    run_scheduled(&a, scheduled(faults, &schedule).as_ref(), 4, &schedule)
}

/// The block the verifier first reports reachable but freed.
fn caught_block(scenario: &Scenario, faults: ConcurrentFaults) -> String {
    let r = replay_scenario(scenario, faults);
    assert!(kinds(&r).contains(&"reachable block freed"), "{faults:?} escaped the verifier: {:?}", kinds(&r));
    r.violations.as_ref().unwrap()[0].block.clone()
}

#[test]
fn the_targeted_traces_are_clean_with_the_full_barrier() {
    for scenario in [deletion(), insertion(), allocation()] {
        assert_clean(&replay_scenario(&scenario, ConcurrentFaults::default()));
    }
}

#[test]
fn no_deletion_barrier_is_caught() {
    let (scenario, faults) = (deletion(), ConcurrentFaults { no_deletion_barrier: true, ..Default::default() });
    assert_eq!(caught_block(&scenario, faults), scenario.victim);
}

#[test]
fn no_insertion_barrier_is_caught() {
    let (scenario, faults) = (insertion(), ConcurrentFaults { no_insertion_barrier: true, ..Default::default() });
    assert_eq!(caught_block(&scenario, faults), scenario.victim);
}

#[test]
fn scanning_stacks_before_the_barrier_is_on_is_caught() {
    // The same interleaving as the deletion's: here g2's stack is scanned
    // before the barrier is on, and the marker is held in its stack scans
    // (before g3's) while g2 loads W and deletes A's pointer.
    let (scenario, faults) = (deletion(), ConcurrentFaults { scan_stacks_before_barrier: true, ..Default::default() });
    assert_eq!(caught_block(&scenario, faults), scenario.victim);
}

#[test]
fn white_allocation_during_marking_is_caught() {
    let (scenario, faults) = (allocation(), ConcurrentFaults { allocate_white: true, ..Default::default() });
    assert_eq!(caught_block(&scenario, faults), scenario.victim);
}

#[test]
fn each_broken_variant_is_caught_only_by_the_interleaving_it_needs() {
    // Each scenario's trace is clean under the variants it is not built
    // for (the broken half of the barrier has nothing to do there): a
    // catch is the variant's doing, not the scenario's.
    for (scenario, faults) in [
        (deletion(), ConcurrentFaults { no_insertion_barrier: true, allocate_white: true, ..Default::default() }),
        (insertion(), ConcurrentFaults { no_deletion_barrier: true, ..Default::default() }),
        (
            allocation(),
            ConcurrentFaults { no_deletion_barrier: true, no_insertion_barrier: true, ..Default::default() },
        ),
    ] {
        assert_clean(&replay_scenario(&scenario, faults));
    }
}

#[test]
fn assists_happen_only_while_marking_and_do_marking_work() {
    // g1 keeps a chain of 64 objects in G0 and collects; the marker is held
    // between the globals (the chain's head grey) and the heap while g2
    // allocates 128 KiB, two assist chunks: its debt comes due and it must
    // assist, marking the chain. A 1 MiB minimum goal keeps the trace (about 140 KiB) far below
    // the first trigger (70% of it): the explicit cycle is the only one.
    // The chain's objects are 128 bytes: 8 KiB in all, so g1's cache has
    // published it to the heap's live count (every 4 KiB) when the cycle
    // starts, and the first cycle expects scan work to assist with.
    let mut s = Script::new("gctrace 1\nglobals 1");
    s.events("g1 call 2\ng1 alloc l0 b1 128 1 new heap\ng1 set G0 l0");
    for b in 2..=64 {
        s.events(&format!("g1 alloc l1 b{b} 128 1 new heap\ng1 set l0.0 l1\ng1 set l0 l1"));
    }
    s.events("g1 set l0 nil\ng1 set l1 nil\ng1 go g2 1\ng1 gc");
    let first = s.event("g2 alloc l0 b65 16384 0 new heap");
    let mut last = first;
    for b in 66..=72 {
        last = s.event(&format!("g2 alloc l0 b{b} 16384 0 new heap"));
    }
    let (_, a) = s.parse();
    let schedule = Schedule::new(vec![
        // The barrier is on and the chain's head grey...
        after_step(CycleStep::Globals),
        Point::before(&a, first),
        Point::after(&a, last),
        // ... and still grey until g2 is done.
        before_step(CycleStep::Heap),
    ]);
    let cfg = GcConfig { min_heap_goal: 1 << 20, ..config(1) };
    let c = Concurrent::new(&cfg).expect("collector starts").with_cycle_hooks(schedule.clone());
    let r = run_scheduled(&a, &c, 4, &schedule);
    assert_clean(&r);
    assert!(r.cycles.iter().all(|c| c.trigger != Some(collectors::Trigger::HeapGoal)), "{:?}", r.cycles);
    assert!(!r.assists.is_empty(), "g2 allocated two assist chunks while marking but never assisted");
    let g2 = dense(&a, 2);
    assert!(r.assists.iter().all(|x| x.gc == 1 && x.goroutine == g2), "{:?}", r.assists);
    assert!(r.assists.iter().any(|a| a.work_bytes > 0), "assists did no marking");
    assert_assists_inside_marking(&r);
}

#[test]
fn a_soft_memory_limit_below_the_gogc_goal_means_more_cycles_and_a_smaller_heap() {
    let t = random_trace(&RandomConfig { seed: 5, events: 100_000, goroutines: 8, ..RandomConfig::default() });
    let a = workloads::analysis::analyze(&t).unwrap();
    let limit = 8 << 20;
    let make = |name: &str, procs: usize, limit: Option<u64>| {
        let cfg = GcConfig { gogc: Some(400), memory_limit: limit, ..config(procs) };
        (collectors::registry::find(name).unwrap().make)(&cfg).unwrap()
    };
    // Every goal under the limit is at most the limit, or the headroom
    // kept over the marked heap (collectors::pacer) when that comes close
    // to it: pacer arithmetic, whatever the interleaving.
    let most = |c: &collectors::CycleRecord| {
        limit.max(c.marked_bytes + (c.marked_bytes / 16).max(collectors::heap::PAGE_BYTES))
    };
    let assert_goals_obey_the_limit = |name: &str, r: &harness::replay::RunResult| {
        for c in &r.cycles {
            assert!(c.next_goal <= most(c), "{name}: goal {} above the limit: {c:?}", c.next_goal);
        }
    };

    // Mark-sweep on one worker in a fixed order: its triggers, cycles and
    // peak are functions of the trace and the settings alone, so these
    // comparisons are facts, not samples.
    let free = run_in_fixed_order(&a, make("mark-sweep", 1, None).as_ref());
    let limited = run_in_fixed_order(&a, make("mark-sweep", 1, Some(limit)).as_ref());
    assert_clean(&free);
    assert_clean(&limited);
    assert!(limited.cycles.len() > free.cycles.len(), "{} vs {} cycles", limited.cycles.len(), free.cycles.len());
    assert!(
        limited.peak_heap_bytes < free.peak_heap_bytes,
        "peak {} with the limit, {} without",
        limited.peak_heap_bytes,
        free.peak_heap_bytes
    );
    assert_goals_obey_the_limit("mark-sweep", &limited);

    // The concurrent collector on four workers: when its cycles start and
    // how much the mutators allocate while one marks depend on the
    // interleaving (with the live heap near the limit, its runs differ by a
    // cycle either way: not comparable). What holds under any interleaving:
    // the goals obey the limit, and the final collection — all mutators
    // done, so it marks exactly the trace's final live heap in both runs —
    // sets the GOGC goal without the limit (five times that heap, above the
    // limit) and the limit with it.
    let free = run(&t, &a, make("concurrent", 4, None).as_ref(), 4);
    let limited = run(&t, &a, make("concurrent", 4, Some(limit)).as_ref(), 4);
    assert_clean(&free);
    assert_clean(&limited);
    assert_goals_obey_the_limit("concurrent", &limited);
    let last = |r: &harness::replay::RunResult| r.cycles.last().cloned().expect("the final cycle");
    let (free_final, limited_final) = (last(&free), last(&limited));
    assert_eq!(free_final.trigger, Some(collectors::Trigger::Final));
    assert_eq!(free_final.marked_bytes, limited_final.marked_bytes, "the same final live heap");
    assert!(free_final.next_goal > limit, "without the limit: goal {} for {free_final:?}", free_final.next_goal);
    assert!(limited_final.next_goal <= most(&limited_final), "with the limit: {limited_final:?}");
}

/// A shuffle stress trace: 16 workers, 6000 operations.
fn shuffle(seed: u64) -> (workloads::Trace, workloads::analysis::Analysis) {
    parse(&shuffle_trace(seed, 16, 6000))
}

/// Marking slowed to 50 µs per object and per stack: cycles long enough for
/// the workers to move many pointers while one runs.
fn shuffle_collector(faults: ConcurrentFaults) -> Box<dyn Collector> {
    concurrent(ConcurrentFaults { slow_mark_us: 50, ..faults }, 4)
}

#[test]
fn concurrent_collector_is_clean_on_shuffle_stress_traces() {
    for seed in 1..=8 {
        let (t, a) = shuffle(seed);
        let r = run(&t, &a, shuffle_collector(ConcurrentFaults::default()).as_ref(), 4);
        assert_clean(&r);
        // Every explicit `gc` runs a whole cycle: it waits for a running
        // one, and no other thread can stop the world while it holds the
        // cycle, so none is lost, whatever the interleaving.
        let gcs = shuffle_trace(seed, 16, 6000).lines().filter(|l| l.ends_with(" gc")).count();
        assert!(r.cycles.len() > gcs, "seed {seed}: {} cycles for {gcs} explicit GCs", r.cycles.len());
    }
}

/// A shuffle stress trace whose cycles start from allocation, replayed in
/// lockstep with the collector (one worker; a step of the collector every
/// [`LOCKSTEP_EVERY`] events): one fixed interleaving of the whole run.
/// Returns the run and the steps taken, with the events begun at each.
fn shuffle_in_lockstep(
    seed: u64,
    faults: ConcurrentFaults,
) -> (harness::replay::RunResult, Vec<(u64, u64, CycleStep)>) {
    let (_, a) = parse(&shuffle_trace_allocating(seed, 16, 6000));
    let lockstep = Lockstep::new(&a, LOCKSTEP_EVERY);
    let cfg = GcConfig { min_heap_goal: 64 << 10, ..config(1) };
    let c = Concurrent::with_faults(&cfg, faults).expect("collector starts").with_cycle_hooks(lockstep.clone());
    let r = run_in_lockstep(&a, &c, &lockstep);
    (r, lockstep.log())
}

/// Mutator events between two steps of the collector in lockstep: a cycle
/// (sweep termination, globals, 17 stacks, the heap, mark termination, the
/// sweep) spans about 90 events, long enough for the workers to move many
/// pointers while it marks.
const LOCKSTEP_EVERY: u64 = 4;

#[test]
fn concurrent_collector_is_clean_on_shuffle_stress_traces_in_lockstep() {
    for seed in 1..=4 {
        let (r, steps) = shuffle_in_lockstep(seed, ConcurrentFaults::default());
        assert_clean(&r);
        let marked = steps.iter().filter(|s| s.2 == CycleStep::MarkTermination).count();
        assert!(marked >= 20, "seed {seed}: only {marked} cycles marked during the replay");
    }
}

#[test]
fn every_broken_variant_is_caught_by_a_shuffle_stress_trace_in_a_fixed_interleaving() {
    // Seed 4 catches each: found by trying seeds 1..=12 once (no deletion
    // barrier: 3, 4, 5; stacks scanned early: 4, 6, 9; the other two on
    // most). The interleaving is a function of the trace, so it catches
    // them on every run — run twice here to show it: the same steps at the
    // same events, the same violations.
    const SEED: u64 = 4;
    for (name, faults) in [
        ("no deletion barrier", ConcurrentFaults { no_deletion_barrier: true, ..Default::default() }),
        ("no insertion barrier", ConcurrentFaults { no_insertion_barrier: true, ..Default::default() }),
        (
            "stacks scanned before the barrier",
            ConcurrentFaults { scan_stacks_before_barrier: true, ..Default::default() },
        ),
        ("white allocation", ConcurrentFaults { allocate_white: true, ..Default::default() }),
    ] {
        let (first, first_steps) = shuffle_in_lockstep(SEED, faults);
        assert!(kinds(&first).contains(&"reachable block freed"), "{name} escaped: {:?}", kinds(&first));
        let (second, second_steps) = shuffle_in_lockstep(SEED, faults);
        assert_eq!(first_steps, second_steps, "{name}: the interleaving changed between runs");
        let violations = |r: &harness::replay::RunResult| {
            r.violations.as_ref().unwrap().iter().map(|v| v.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(violations(&first), violations(&second), "{name}: different violations");
    }
}

//! The generational collectors — `sticky` (sticky mark bits) and
//! `generational` (copying nursery, survivor spaces, promotion), both with a
//! card-marking barrier: clean under the verifier on random and shuffle
//! stress traces with small nurseries (a page, for the copying one), so
//! that there are many minor collections between the major ones; their
//! deliberately broken variants — barrier off, dirty cards not scanned, and
//! for the copying collector interior pointers not fixed up and stack
//! blocks' slots not forwarded — caught. (Every workload runs under both in
//! `workloads.rs`.)
//!
//! Cleanliness is checked on several workers: it must hold under any
//! interleaving. What a test counts (minor and major collections, dirty
//! cards, bytes moved) or needs to happen (a broken variant caught) is
//! checked on a replay in a fixed order (one worker, no time slice, one GC
//! thread: [`run_in_fixed_order`]), where it is a fact of the trace and the
//! settings, the same on every run.

mod common;
use collectors::plans::generational::{self, GenFaults, Generational};
use collectors::plans::sticky::{self, Sticky, StickyFaults};
use collectors::{Collector, CycleRecord, GcConfig, MetricSpec};
use common::*;
use workloads::generate::random::{random_trace, RandomConfig};

/// `config(procs)` with a 64 KiB minimum goal and the plan options
/// `options` (name, value).
fn config_with(procs: usize, options: &[(&str, u64)]) -> GcConfig {
    let mut cfg = GcConfig { min_heap_goal: 64 << 10, ..config(procs) };
    for (name, value) in options {
        cfg.options.set(name, *value);
    }
    cfg
}

/// The value of metric `name` of cycle `c`, which must have one.
fn metric(c: &CycleRecord, name: &str) -> u64 {
    c.metric(name).unwrap_or_else(|| panic!("cycle {} reported no {name}: {:?}", c.cycle, c.extra)) as u64
}

/// Every cycle reports only metrics its collector declares.
fn assert_declared(r: &harness::replay::RunResult, declared: &[MetricSpec]) {
    for c in &r.cycles {
        for (name, _) in &c.extra {
            assert!(declared.iter().any(|m| m.name == *name), "cycle {} reported undeclared {name}", c.cycle);
        }
    }
}

/// A 64 KiB nursery (and minimum goal): many minor collections.
fn sticky(faults: StickyFaults, procs: usize) -> Box<dyn Collector> {
    let cfg = GcConfig { min_heap_goal: 64 << 10, ..config(procs) };
    Box::new(Sticky::with_faults(&cfg, faults).expect("collector starts"))
}

fn phases(r: &harness::replay::RunResult, phase: &str) -> usize {
    r.pauses.iter().filter(|p| p.phase == phase && p.trigger != Some("final")).count()
}

#[test]
fn sticky_is_clean_on_random_traces_with_minor_and_major_collections() {
    for seed in 1..=8 {
        let t = random_trace(&RandomConfig { seed, events: 40_000, goroutines: 8, ..RandomConfig::default() });
        let a = workloads::analysis::analyze(&t).unwrap();
        let sticky = |procs| Sticky::new(&config_with(procs, &[("nursery", 16 << 10)])).unwrap();
        assert_clean(&run(&t, &a, &sticky(4), 4));
        let r = run_in_fixed_order(&a, &sticky(1));
        assert_clean(&r);
        assert!(phases(&r, "minor") >= 3, "seed {seed}: {} minor collections", phases(&r, "minor"));
        assert!(phases(&r, "major") >= 1, "seed {seed}: no major collection");
    }
}

#[test]
fn sticky_is_clean_on_shuffle_stress_traces() {
    for seed in 1..=4 {
        let (t, a) = parse(&shuffle_trace(seed, 16, 6000));
        let r = run(&t, &a, sticky(StickyFaults::default(), 4).as_ref(), 4);
        assert_clean(&r);
    }
}

/// Random traces with many old-to-young stores: the `cache` workload (old
/// sessions receiving fresh events) at small parameters.
fn old_to_young() -> (workloads::Trace, workloads::analysis::Analysis) {
    let w = workloads::generate::find("cache").unwrap();
    let mut p = w.defaults(1);
    for (k, v) in [("old_objects", "2000"), ("updates", "20000"), ("work_ns", "0")] {
        p.set(w.params, k, v).unwrap();
    }
    let t = workloads::generate::generate_trace("cache", &p).unwrap().unwrap();
    let a = workloads::analysis::analyze(&t).unwrap();
    (t, a)
}

#[test]
fn sticky_without_its_barrier_or_without_scanning_dirty_cards_is_caught() {
    let (t, a) = old_to_young();
    assert_clean(&run(&t, &a, sticky(StickyFaults::default(), 2).as_ref(), 2));
    let clean = run_in_fixed_order(&a, sticky(StickyFaults::default(), 1).as_ref());
    assert_clean(&clean);
    assert!(phases(&clean, "minor") >= 3, "{} minor collections", phases(&clean, "minor"));
    // Per minor collection: the remembered set scanned, and survivors no
    // more than the young generation.
    let minors: Vec<u64> = clean.pauses.iter().filter(|p| p.phase == "minor").map(|p| p.gc).collect();
    let minor_cycles: Vec<_> = clean.cycles.iter().filter(|c| minors.contains(&c.cycle)).collect();
    assert_declared(&clean, sticky::CYCLE_METRICS);
    assert!(minor_cycles.iter().any(|c| metric(c, "dirty_cards") > 0), "old-to-young stores but no dirty cards");
    for c in &minor_cycles {
        let (promoted, young) = (metric(c, "promoted_bytes"), metric(c, "young_bytes"));
        assert!(promoted <= young, "promoted {promoted} of {young} young");
    }
    for faults in [
        StickyFaults { no_barrier: true, ..Default::default() },
        StickyFaults { skip_dirty_cards: true, ..Default::default() },
    ] {
        let r = run_in_fixed_order(&a, sticky(faults, 1).as_ref());
        assert!(kinds(&r).contains(&"reachable block freed"), "{faults:?} escaped the verifier: {:?}", kinds(&r));
    }
}

/// The copying collector with a nursery of `nursery` bytes, survivors kept
/// young for `tenure_age` minor collections, and a 64 KiB minimum goal for
/// the old generation (many major collections too). Every evacuation runs
/// on all `procs` GC workers from its start (with these tiny nurseries the
/// default would leave most of them to one thread).
fn copying(faults: GenFaults, procs: usize, nursery: u64, tenure_age: u64) -> Box<dyn Collector> {
    let cfg = config_with(procs, &[("nursery", nursery), ("tenure-age", tenure_age)]);
    let c = Generational::with_faults(&cfg, faults).expect("collector starts");
    c.set_escalate_bytes(0);
    Box::new(c)
}

fn minor_cycles(r: &harness::replay::RunResult) -> Vec<&collectors::CycleRecord> {
    let minors: Vec<u64> = r.pauses.iter().filter(|p| p.phase == "minor").map(|p| p.gc).collect();
    r.cycles.iter().filter(|c| minors.contains(&c.cycle)).collect()
}

#[test]
fn copying_generational_is_clean_on_random_traces_with_one_page_nurseries() {
    let (mut copied, mut promoted) = (0, 0);
    for seed in 1..=8 {
        let t = random_trace(&RandomConfig { seed, events: 40_000, goroutines: 8, ..RandomConfig::default() });
        let a = workloads::analysis::analyze(&t).unwrap();
        let tenure_age = seed % 3;
        assert_clean(&run(&t, &a, copying(GenFaults::default(), 4, 8 << 10, tenure_age).as_ref(), 4));
        let r = run_in_fixed_order(&a, copying(GenFaults::default(), 1, 8 << 10, tenure_age).as_ref());
        assert_clean(&r);
        assert!(phases(&r, "minor") >= 3, "seed {seed}: {} minor collections", phases(&r, "minor"));
        assert!(phases(&r, "major") >= 1, "seed {seed}: no major collection");
        assert_declared(&r, generational::CYCLE_METRICS);
        for c in minor_cycles(&r) {
            let (c_copied, c_promoted, young) =
                (metric(c, "copied_bytes"), metric(c, "promoted_bytes"), metric(c, "young_bytes"));
            assert!(
                c_copied + c_promoted <= young,
                "seed {seed}: {c_copied} copied + {c_promoted} promoted of {young} young"
            );
            if tenure_age == 0 {
                assert_eq!(c_copied, 0, "tenure age 0 promotes every survivor at once");
            }
        }
        copied += minor_cycles(&r).iter().map(|c| metric(c, "copied_bytes")).sum::<u64>();
        promoted += minor_cycles(&r).iter().map(|c| metric(c, "promoted_bytes")).sum::<u64>();
    }
    assert!(copied > 0 && promoted > 0, "survivors copied {copied} bytes, promoted {promoted}: nothing moved");
}

#[test]
fn copying_generational_is_clean_on_shuffle_stress_traces() {
    for seed in 1..=4 {
        let (t, a) = parse(&shuffle_trace(seed, 16, 6000));
        let r = run(&t, &a, copying(GenFaults::default(), 4, 8 << 10, 1).as_ref(), 4);
        assert_clean(&r);
    }
}

#[test]
fn copying_generational_without_its_barrier_or_without_scanning_dirty_cards_is_caught() {
    let (t, a) = old_to_young();
    assert_clean(&run(&t, &a, copying(GenFaults::default(), 2, 16 << 10, 1).as_ref(), 2));
    let clean = run_in_fixed_order(&a, copying(GenFaults::default(), 1, 16 << 10, 1).as_ref());
    assert_clean(&clean);
    let minors = minor_cycles(&clean);
    assert!(minors.len() >= 3, "{} minor collections", minors.len());
    assert!(minors.iter().any(|c| metric(c, "dirty_cards") > 0), "old-to-young stores but no dirty cards");
    // Cards from 64 bytes to 64 KiB: the same program, the same verdict;
    // bigger cards, fewer of them dirty.
    let dirty = |card_bytes: u64| {
        let cfg = config_with(1, &[("nursery", 16 << 10), ("card-bytes", card_bytes)]);
        let r = run_in_fixed_order(&a, &Generational::new(&cfg).unwrap());
        assert_clean(&r);
        minor_cycles(&r).iter().map(|c| metric(c, "dirty_cards")).sum::<u64>()
    };
    let (small, big) = (dirty(64), dirty(64 << 10));
    assert!(small > big, "{small} dirty 64-byte cards vs {big} of 64 KiB");
    for faults in [
        GenFaults { no_barrier: true, ..Default::default() },
        GenFaults { skip_dirty_cards: true, ..Default::default() },
    ] {
        let r = run_in_fixed_order(&a, copying(faults, 1, 16 << 10, 1).as_ref());
        assert!(!kinds(&r).is_empty(), "{faults:?} escaped the verifier");
    }
}

/// A young block reachable only through an interior pointer (16 bytes in);
/// the explicit collection moves it; then the program writes through the
/// interior pointer.
const INTERIOR: &str = "gctrace 1\ng1 call 2\ng1 alloc l0 b1 64 8 new heap\ng1 set l1 l0@2\ng1 set l0 nil\ng1 gc\n\
                        g1 alloc l0 b2 16 1 new heap\ng1 set l1.0 l0\ng1 set l0 l1.0\ng1 set l0.0 nil\n";

/// A young block reachable only from a stack block's slot; the explicit
/// collection moves it; then the program reaches it through the slot.
const STACK_BLOCK: &str = "gctrace 1\ng1 call 2\ng1 alloc l0 b1 16 1 new stack\ng1 alloc l1 b2 32 1 new heap\n\
                           g1 set l0.0 l1\ng1 set l1 nil\ng1 gc\ng1 set l1 l0.0\ng1 set l1.0 nil\n";

#[test]
fn the_targeted_moving_traces_are_clean_and_each_moving_fault_is_caught_by_its_own() {
    for (src, fault) in [
        (INTERIOR, GenFaults { interior_not_fixed: true, ..Default::default() }),
        (STACK_BLOCK, GenFaults { stack_blocks_not_forwarded: true, ..Default::default() }),
    ] {
        let (t, a) = parse(src);
        let r = run(&t, &a, copying(GenFaults::default(), 1, 8 << 10, 1).as_ref(), 1);
        assert_clean(&r);
        assert!(r.cycles.iter().any(|c| metric(c, "promoted_bytes") > 0), "the block was not moved: {:?}", r.cycles);
        let broken = run(&t, &a, copying(fault, 1, 8 << 10, 1).as_ref(), 1);
        assert!(!kinds(&broken).is_empty(), "{fault:?} escaped the verifier on\n{src}");
    }
}

#[test]
fn every_broken_copying_variant_is_caught_on_random_traces() {
    // In a fixed order each is caught on every one of seeds 1..=16 (tried
    // once); the test keeps two. The same trace, the same verdict, every run.
    for seed in 1..=2 {
        let t = random_trace(&RandomConfig { seed, events: 20_000, goroutines: 4, ..RandomConfig::default() });
        let a = workloads::analysis::analyze(&t).unwrap();
        for faults in [
            GenFaults { no_barrier: true, ..Default::default() },
            GenFaults { skip_dirty_cards: true, ..Default::default() },
            GenFaults { interior_not_fixed: true, ..Default::default() },
            GenFaults { stack_blocks_not_forwarded: true, ..Default::default() },
        ] {
            let r = run_in_fixed_order(&a, copying(faults, 1, 8 << 10, 1).as_ref());
            assert!(!kinds(&r).is_empty(), "seed {seed}: {faults:?} escaped the verifier");
        }
    }
}

#[test]
fn the_pretenuring_threshold_decides_what_the_nursery_takes() {
    let t = random_trace(&RandomConfig { seed: 3, events: 40_000, goroutines: 8, ..RandomConfig::default() });
    let a = workloads::analysis::analyze(&t).unwrap();
    let young = |pretenure_bytes: u64| {
        let cfg = config_with(1, &[("nursery", 16 << 10), ("pretenure-bytes", pretenure_bytes)]);
        let r = run_in_fixed_order(&a, &Generational::new(&cfg).unwrap());
        assert_clean(&r);
        (phases(&r, "minor"), minor_cycles(&r).iter().map(|c| metric(c, "young_bytes")).sum::<u64>())
    };
    let (all_minors, all_young) = young(32 << 10);
    let (small_minors, small_young) = young(128);
    assert!(all_minors > small_minors, "{all_minors} minors with 32 KiB vs {small_minors} with 128 B");
    assert!(small_young > 0 && small_young < all_young, "{small_young} vs {all_young} young bytes");
    assert_eq!(young(0).0, 0, "with nothing allocated in the nursery there is no minor collection");
}

//! The `sticky` generational collector (sticky mark bits, card-marking
//! barrier): clean under the verifier on random and shuffle stress traces
//! with small nurseries, so that there are many minor collections between
//! the major ones; its deliberately broken variants — barrier off, dirty
//! cards not scanned — caught. (Every workload runs under it in
//! `workloads.rs`.)

mod common;
use collectors::plans::sticky::{Sticky, StickyFaults};
use collectors::{Collector, GcConfig};
use common::*;
use workloads::generate::random::{random_trace, RandomConfig};

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
        let r = run(&t, &a, sticky(StickyFaults::default(), 4).as_ref(), 4);
        assert_clean(&r);
        assert!(phases(&r, "minor") >= 3, "seed {seed}: {} minor collections", phases(&r, "minor"));
        assert!(phases(&r, "major") >= 1 || seed > 4, "seed {seed}: no major collection");
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
    let clean = run(&t, &a, sticky(StickyFaults::default(), 2).as_ref(), 2);
    assert_clean(&clean);
    assert!(phases(&clean, "minor") >= 3, "{} minor collections", phases(&clean, "minor"));
    // Per minor collection: the remembered set scanned, and survivors no
    // more than the young generation.
    let minors: Vec<u64> = clean.pauses.iter().filter(|p| p.phase == "minor").map(|p| p.gc).collect();
    let minor_cycles: Vec<_> = clean.cycles.iter().filter(|c| minors.contains(&c.cycle)).collect();
    assert!(minor_cycles.iter().any(|c| c.dirty_cards > 0), "old-to-young stores but no dirty cards");
    for c in &minor_cycles {
        assert!(c.promoted_bytes <= c.young_bytes, "promoted {} of {} young", c.promoted_bytes, c.young_bytes);
    }
    for faults in [
        StickyFaults { no_barrier: true, ..Default::default() },
        StickyFaults { skip_dirty_cards: true, ..Default::default() },
    ] {
        let r = run(&t, &a, sticky(faults, 2).as_ref(), 2);
        assert!(kinds(&r).contains(&"reachable block freed"), "{faults:?} escaped the verifier: {:?}", kinds(&r));
    }
}

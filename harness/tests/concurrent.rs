//! The concurrent collector (not registered yet, see its module doc): clean
//! under the verifier on random traces with several workers, with normal and
//! with slowed-down marking. (Catching its broken variants needs marking
//! that does not hold up the goroutine that started the cycle: next step.)

mod common;
use collectors::plans::concurrent::{Concurrent, ConcurrentFaults};
use collectors::{Collector, GcConfig};
use common::*;
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

#[test]
fn concurrent_collector_is_clean_on_random_traces_with_four_workers() {
    for seed in 1..=8 {
        let (t, a) = stress(seed);
        let faults = ConcurrentFaults { slow_mark_us: if seed % 4 == 0 { 5 } else { 0 }, ..Default::default() };
        let c = concurrent(faults, 4);
        let r = run(&t, &a, c.as_ref(), 4);
        assert_clean(&r);
        let cycles = r.cycles.len();
        assert!(cycles >= 3, "seed {seed}: {cycles} cycles");
        let phases: std::collections::HashSet<_> = r.pauses.iter().map(|p| p.phase).collect();
        assert!(phases.contains("sweep-term") && phases.contains("mark-term"), "{phases:?}");
    }
}

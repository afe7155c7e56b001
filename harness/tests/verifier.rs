//! The verifier is only worth something if it catches broken collectors:
//! each deliberately broken variant of mark-sweep must be caught, on a small
//! trace made to expose it and on random stress traces.

mod common;
use collectors::mark::MarkFaults;
use common::*;
use workloads::generate::random::{random_trace, RandomConfig};

/// The only pointer to b1 is an interior one, in a global.
const INTERIOR: &str = "gctrace 1
globals 1
g1 call 2
g1 alloc l0 b1 64 4 make-slice heap
g1 set G0 l0@2
g1 set l0 nil
g1 gc
g1 alloc l1 b2 64 4 make-slice heap
g1 set l0 G0
g1 set l0.0 l1
";

/// The only pointer to b2 is in a stack block's slot.
const STACK_SLOT: &str = "gctrace 1
g1 call 2
g1 alloc l0 b1 32 2 var auto
g1 alloc l1 b2 64 1 new heap
g1 set l0.1 l1
g1 set l1 nil
g1 gc
g1 alloc l1 b3 64 1 new heap
g1 set l1 l0.1
g1 set l1.0 nil
";

/// The only pointer to b1 is a global.
const GLOBAL: &str = "gctrace 1
globals 1
g1 call 1
g1 alloc l0 b1 48 1 new heap
g1 set G0 l0
g1 set l0 nil
g1 gc
g1 alloc l0 b2 48 1 new heap
g1 set l0 G0
g1 set l0.0 nil
";

#[test]
fn correct_mark_sweep_is_clean_on_the_targeted_traces() {
    for src in [INTERIOR, STACK_SLOT, GLOBAL] {
        let (t, a) = parse(src);
        let r = run(&t, &a, collector("mark-sweep", 2).as_ref(), 1);
        assert_clean(&r);
    }
}

#[test]
fn skipping_interior_pointers_is_caught() {
    let (t, a) = parse(INTERIOR);
    let c = broken(MarkFaults { ignore_interior_pointers: true, ..Default::default() }, false);
    let r = run(&t, &a, c.as_ref(), 1);
    let k = kinds(&r);
    assert!(k.contains(&"reachable block freed"), "{k:?}");
    let v = &r.violations.as_ref().unwrap()[0];
    assert_eq!(v.block, "b1");
    assert_eq!(v.cycle, Some(1));
    assert!(v.to_string().contains("G0"), "names the path: {v}");
}

#[test]
fn skipping_stack_block_slots_is_caught() {
    let (t, a) = parse(STACK_SLOT);
    let c = broken(MarkFaults { skip_stack_block_slots: true, ..Default::default() }, false);
    let r = run(&t, &a, c.as_ref(), 1);
    let k = kinds(&r);
    assert!(k.contains(&"reachable block freed"), "{k:?}");
    assert_eq!(r.violations.as_ref().unwrap()[0].block, "b2");
    // The later access through the stack block is caught too.
    assert!(k.contains(&"access to a freed block"), "{k:?}");
}

#[test]
fn skipping_globals_is_caught() {
    let (t, a) = parse(GLOBAL);
    let c = broken(MarkFaults { skip_globals: true, ..Default::default() }, false);
    let r = run(&t, &a, c.as_ref(), 1);
    assert!(kinds(&r).contains(&"reachable block freed"), "{:?}", kinds(&r));
}

#[test]
fn a_collector_that_never_sweeps_is_caught_leaking() {
    let (t, a) = parse(workloads::generate::builtin::SEED_EXAMPLE);
    let c = broken(MarkFaults::default(), true);
    let r = run(&t, &a, c.as_ref(), 2);
    assert_eq!(kinds(&r), vec!["unreachable block not freed"]);
    assert_eq!(r.violation_count, 4, "done, the closure, x and y");
}

#[test]
fn broken_variants_are_caught_on_random_stress_traces() {
    let variants = [
        MarkFaults { ignore_interior_pointers: true, ..Default::default() },
        MarkFaults { skip_stack_block_slots: true, ..Default::default() },
        MarkFaults { skip_globals: true, ..Default::default() },
    ];
    for (i, faults) in variants.into_iter().enumerate() {
        let mut caught = 0;
        for seed in 1..=3 {
            let t = random_trace(&RandomConfig { seed, events: 40_000, ..RandomConfig::default() });
            let a = workloads::analysis::analyze(&t).unwrap();
            let r = run(&t, &a, broken(faults, false).as_ref(), 2);
            if r.violation_count > 0 {
                caught += 1;
            }
        }
        assert_eq!(caught, 3, "variant {i} ({faults:?}) escaped the verifier on some seed");
    }
}

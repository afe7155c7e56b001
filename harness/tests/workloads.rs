//! Every built-in workload replays under every collector with the verifier
//! clean — at small parameters here (the generators' own tests check their
//! output at default and large parameters).

mod common;
use common::*;
use workloads::generate::{find, generate_trace, workloads as all_workloads};

/// Small but non-trivial parameters per workload: with a 64 KiB minimum heap
/// goal, enough to make mark-sweep collect a few times; small enough for a
/// test.
fn small(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "random" | "memops" => vec![("events", "40000")],
        "default" => vec![("events", "60000")],
        "situations" => vec![("rounds", "6"), ("goroutine_rounds", "3"), ("map_inserts", "3000"), ("work_ns", "0")],
        "gcbench" => {
            vec![("stretch_depth", "12"), ("long_lived_depth", "10"), ("array_len", "20000"), ("max_depth", "10")]
        }
        "binary-trees" => vec![("max_depth", "8")],
        "recursion" => vec![("depth", "2000")],
        "churn" => vec![("goroutines", "300"), ("allocs", "60")],
        "server" => vec![("goroutines", "8"), ("requests", "40"), ("work_ns", "0"), ("cache_entries", "512")],
        "queue" => vec![("capacity", "2000"), ("events", "40000"), ("work_ns", "0")],
        "cache" => vec![("old_objects", "2000"), ("updates", "20000"), ("work_ns", "0")],
        "graph" => vec![("nodes", "5000"), ("mutations", "20000"), ("work_ns", "0")],
        "fragment" => vec![("live_slots", "1000"), ("replacements", "20000"), ("work_ns", "0")],
        "pipeline" => vec![("messages", "3000"), ("work_ns", "0")],
        _ => vec![],
    }
}

#[test]
fn every_workload_replays_under_every_collector_with_a_clean_verifier() {
    for w in all_workloads() {
        let mut params = w.defaults(3);
        for (k, v) in small(w.name) {
            params.set(w.params, k, v).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        }
        let trace = generate_trace(w.name, &params).expect("registered").expect("generates");
        let analysis = workloads::analysis::analyze(&trace).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        for c in collectors::registry::names() {
            let r = run(&trace, &analysis, eager_collector(c, 2).as_ref(), 2);
            assert!(r.fatal.is_none(), "{} under {c}: {:?}", w.name, r.fatal);
            assert_clean(&r);
            assert_eq!(r.events as usize, trace.events.len(), "{} under {c}", w.name);
            // seed-example and recursion allocate almost nothing on the heap
            // by design; they collect at their explicit `gc` events.
            if (c == "sticky" || c == "generational") && r.cycles.len() >= 4 {
                assert!(r.pauses.iter().any(|p| p.phase == "minor"), "{}: {c} never collected minor", w.name);
            }
            if c == "generational" {
                // Again with every evacuation on all GC workers from its
                // start (by default small ones stay on one thread).
                let cfg = collectors::GcConfig { min_heap_goal: 64 << 10, ..config(2) };
                let g = collectors::plans::generational::Generational::new(&cfg).unwrap();
                g.set_escalate_bytes(0);
                let r = run(&trace, &analysis, &g, 2);
                assert!(r.fatal.is_none(), "{} under parallel generational: {:?}", w.name, r.fatal);
                assert_clean(&r);
            }
            if c == "mark-sweep" && !["seed-example", "recursion"].contains(&w.name) {
                // Counted on a replay in a fixed order (one worker, no time
                // slice): a stop-the-world collector's triggers are then a
                // function of the trace, so the count cannot vary by chance.
                let fixed = run_in_fixed_order(&analysis, eager_collector(c, 1).as_ref());
                assert_clean(&fixed);
                assert!(
                    fixed.cycles.len() >= 3,
                    "{}: only {} cycles; make its small parameters bigger",
                    w.name,
                    fixed.cycles.len()
                );
            }
        }
    }
}

#[test]
fn every_workload_has_small_parameters_here() {
    for w in all_workloads() {
        if !["seed-example"].contains(&w.name) {
            assert!(!small(w.name).is_empty(), "add small parameters for {}", w.name);
        }
    }
    assert!(find("gcbench").is_some());
}

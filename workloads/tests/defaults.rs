//! The two big classic benchmarks pass the analysis (what `gcwb check`
//! runs) at their default parameters. Their traces are large — GCBench's
//! defaults give 54 M events and need about 9 GB to analyse — so they run
//! one after the other in this test binary of their own.

use workloads::analysis::analyze;
use workloads::generate::{find, generate_trace};

#[test]
fn gcbench_and_binary_trees_pass_the_analysis_at_their_defaults() {
    for (name, events) in [("gcbench", 53_954_766usize), ("binary-trees", 22_599_028)] {
        let w = find(name).expect("registered");
        let trace = generate_trace(name, &w.defaults(1)).expect("registered").expect("generates");
        assert_eq!(trace.events.len(), events, "{name}");
        let a = analyze(&trace).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.goroutines.len(), if name == "gcbench" { 1 } else { 5 }, "{name}");
        drop(a);
        drop(trace);
    }
}

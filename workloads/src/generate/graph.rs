//! `graph`: a large random pointer-dense graph, rewired in place — the
//! collector's marking speed on a big live set of small objects.
//!
//! The Go program it models:
//!
//! ```go
//! type Node struct {                       // 8·out_degree + 16 bytes
//!     edges [outDegree]*Node               // the pointer slots
//!     id, weight int
//! }
//! var nodes [][]*Node                      // G0: the root array, chunks of 4096
//!
//! func main() {
//!     for i := range n { nodes[i/4096][i%4096] = &Node{} }
//!     for i := range n { for k := range outDegree { table_slot(i).edges[k] = table_slot(rand) } }
//!     for w := 0; w < workers; w++ { go mutator() }
//! }
//! func mutator() {                         // `workers` of them
//!     for m := 0; m < mutations/workers; m++ {
//!         x := table_slot(rand)
//!         for h := rand(0, 3); h > 0; h-- { x = x.edges[rand] }   // walk a few edges
//!         x.edges[rand] = table_slot(rand)                             // rewire one
//!         if rand() < replaceRate {                              // replace a node:
//!             i := rand; nodes[i/4096][i%4096] = &Node{}         // the old one lingers
//!             for k := range outDegree { table_slot(i).edges[k] = table_slot(rand) } //   while edges point to it
//!         }
//!         work()
//!     }
//! }
//! ```
//!
//! The GC question: mark rate. The live set is `nodes` small objects with
//! `out_degree` pointers each, wired at random, so marking is a random walk
//! over the heap with poor locality and a mark stack that grows wide; almost
//! nothing dies, so each cycle's cost is nearly all marking. The mutators
//! rewire edges during any concurrent mark (every store overwrites a live
//! pointer: the deletion half of a write barrier sees real work), and a
//! replaced node does not die when the root array drops it but only when
//! the last edge into it is rewired, long after — floating garbage that
//! only a later cycle finds.
//!
//! Every node slot of the root array and every edge is non-nil from the end
//! of the build on (a rewire stores a node, a replacement wires all edges of
//! the new node before any other goroutine runs), so any walk is sound.

use super::common::{alloc_table, table_slot, work};
use super::params::{ParamSpec, Params};
use crate::builder::{l, BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, Placement, WORD_BYTES};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "mark rate: a 200k-node random graph (4 edges each) reachable from a root array, rewired by 4 mutators";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("nodes", 200_000, 1, 50_000_000, "nodes of the graph"),
    ParamSpec::int("out_degree", 4, 1, 64, "edges (pointer slots) per node; a node is 8·out_degree+16 bytes"),
    ParamSpec::int("mutations", 500_000, 0, 2_000_000_000, "edge rewirings after the build"),
    ParamSpec::real("replace_rate", 0.01, 0.0, 1.0, "share of mutations that also replace a random node"),
    ParamSpec::int("workers", 4, 1, 4096, "mutator goroutines"),
    ParamSpec::int("work_ns", 100, 0, 1_000_000_000, "mean computation per mutation, ns (0: none)"),
];

/// A node's non-pointer fields (`id`, `weight`).
const NODE_DATA_BYTES: u64 = 16;
/// A mutation walks 0 to this many edges before it rewires one.
const MAX_HOPS: u32 = 3;
/// A mutator does 1 to this many mutations before the next one's turn.
const MAX_RUN: u32 = 4;
/// The mutator's local holding the walk's cursor `x`.
const CURSOR: u32 = 0;

/// Writes the `graph` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let n = p.get_u64("nodes");
    let degree = p.get_u64("out_degree") as u32;
    let mutations = p.get_u64("mutations");
    let replace_rate = p.get("replace_rate");
    let workers = p.get_u64("workers");
    let work_ns = p.get_u64("work_ns");
    let node_bytes = WORD_BYTES * u64::from(degree) + NODE_DATA_BYTES;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();

    b.call(main, 1, &[])?;
    alloc_table(&mut b, main, n)?;
    for i in 0..n {
        b.alloc(main, table_slot(i), node_bytes, degree, Cause::New, Placement::Auto)?;
    }
    for i in 0..n {
        for k in 0..degree {
            b.set(main, table_slot(i).slot(k), table_slot(rng.random_range(0..n)).into())?;
        }
    }

    let mut ws = Vec::with_capacity(workers as usize);
    for w in 0..workers {
        let g = b.go(main, 1, &[])?;
        ws.push((g, mutations / workers + u64::from(w < mutations % workers)));
    }
    let mut turn = 0;
    while !ws.is_empty() {
        turn %= ws.len();
        let (g, left) = &mut ws[turn];
        let g = *g;
        for _ in 0..rng.random_range(1..=MAX_RUN) {
            if *left == 0 {
                break;
            }
            *left -= 1;
            let x = l(CURSOR);
            b.set(g, x.clone(), table_slot(rng.random_range(0..n)).into())?;
            for _ in 0..rng.random_range(0..=MAX_HOPS) {
                b.set(g, x.clone(), x.clone().slot(rng.random_range(0..degree)).into())?;
            }
            b.set(g, x.slot(rng.random_range(0..degree)), table_slot(rng.random_range(0..n)).into())?;
            if rng.random_bool(replace_rate) {
                let i = rng.random_range(0..n);
                b.alloc(g, table_slot(i), node_bytes, degree, Cause::New, Placement::Auto)?;
                for k in 0..degree {
                    b.set(g, table_slot(i).slot(k), table_slot(rng.random_range(0..n)).into())?;
                }
            }
            work(&mut b, &mut rng, g, work_ns)?;
        }
        if *left == 0 {
            b.set(g, l(CURSOR), NIL)?;
            b.exit(g)?;
            ws.remove(turn);
        } else {
            turn += 1;
        }
    }
    b.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, oracle::death_times, Place};
    use crate::model::{Op, Trace};

    fn params(seed: u64, sets: &[(&str, &str)]) -> Params {
        crate::generate::common::params(PARAMS, seed, sets)
    }

    fn build(p: &Params) -> Trace {
        crate::generate::common::build(generate, p)
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let small = [("nodes", "300"), ("mutations", "3000")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[
                ("nodes", "1"),
                ("out_degree", "1"),
                ("mutations", "30"),
                ("replace_rate", "1"),
                ("workers", "1"),
                ("work_ns", "0"),
            ],
            &[
                ("nodes", "5000"),
                ("out_degree", "64"),
                ("mutations", "100000"),
                ("replace_rate", "0.2"),
                ("workers", "16"),
            ],
        ];
        for sets in cases {
            let t = build(&params(3, sets));
            analyze(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
            if sets.is_empty() {
                continue; // the independent re-simulation too, on the others
            }
            crate::generate::check::check(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
        }
    }

    #[test]
    fn the_graph_stays_live_and_replaced_nodes_outlive_their_root_slot() {
        let n = 2000usize;
        let t = build(&params(5, &[("nodes", "2000"), ("mutations", "40000"), ("replace_rate", "0.05")]));
        let a = analyze(&t).unwrap();
        let places = a.placements(false);
        let d = death_times(&a, places);
        assert!(places.iter().all(|&p| p == Place::Heap));
        // Build: the root array (spine + 1 chunk) and the original nodes.
        let originals = 2..2 + n;
        let replaced: Vec<usize> = originals.clone().filter(|&b| d.death[b].is_some()).collect();
        assert!(replaced.len() > 100, "{} of {n} original nodes died", replaced.len());
        assert!(replaced.len() < n, "some original nodes survive");
        // A node dies when its root slot is overwritten only if no edge still
        // points to it; most outlive that event.
        let mut overwritten = vec![None; a.blocks.len()];
        let mut current: Vec<usize> = originals.clone().collect();
        for (i, e) in t.events.iter().enumerate() {
            if let Op::Alloc { dst, block, .. } = &e.op {
                if e.g != a.goroutines[0].id && dst.path.len() == 2 {
                    let slot = (dst.path[0] * 4096 + dst.path[1]) as usize;
                    overwritten[current[slot]] = Some(i as u32);
                    current[slot] = block.0 as usize;
                }
            }
        }
        let lingered = replaced
            .iter()
            .filter(|&&b| d.death[b].unwrap() > overwritten[b].expect("a dead node lost its root slot"))
            .count();
        assert!(lingered * 2 > replaced.len(), "{lingered} of {} replaced nodes lingered", replaced.len());
    }
}

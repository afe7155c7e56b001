//! binary-trees, from the Computer Language Benchmarks Game, as a gcwb trace.
//!
//! Source: the benchmark's definition and its Go programs
//! (<https://benchmarksgame-team.pages.debian.net/benchmarksgame/description/binarytrees.html>;
//! the shape follows Hans Boehm's GCBench). The program, in Go, with the
//! short-lived trees split over a fixed pool of worker goroutines:
//!
//! ```go
//! type Node struct{ left, right *Node }                // 16 bytes, 2 pointer slots
//!
//! func bottomUpTree(depth int) *Node {
//!     if depth <= 0 { return &Node{} }
//!     return &Node{bottomUpTree(depth - 1), bottomUpTree(depth - 1)}
//! }
//!
//! func (n *Node) itemCheck() int {
//!     if n.left == nil { return 1 }
//!     return 1 + n.left.itemCheck() + n.right.itemCheck()
//! }
//!
//! const minDepth = 4
//! var results []*partial                                // G0: one per worker
//! type partial struct{ checks [numDepths]int }          // noscan
//!
//! func worker(w int) {
//!     var sum partial
//!     for depth := minDepth; depth <= maxDepth; depth += 2 {
//!         iterations := 1 << (maxDepth - depth + minDepth)
//!         for i := w; i < iterations; i += workers {     // this worker's share
//!             t := bottomUpTree(depth)                     // span tree/d<depth>
//!             sum.checks[k] += t.itemCheck()
//!         }
//!     }
//!     results[w] = &sum
//!     wg.Done()
//! }
//!
//! func main() {
//!     maxDepth := max(minDepth+2, n)                    // n = max_depth
//!     check := bottomUpTree(maxDepth + 1).itemCheck()   // stretch tree
//!     longLivedTree := bottomUpTree(maxDepth)
//!     results = make([]*partial, workers)
//!     for w := 0; w < workers; w++ { wg.Add(1); go worker(w) }
//!     wg.Wait()
//!     for w := range results { check += results[w].checks[0] }   // read each result
//!     longLivedTree.itemCheck()
//! }
//! ```
//!
//! # As a trace
//!
//! `bottomUpTree` frames have three locals (l0 left, l1 right, l2 the node);
//! each returns its node with `ret l2 DST`, so every node escapes to the heap
//! (as in Go). `itemCheck` frames have two (l0 the receiver, l1 `n.left`,
//! read for the nil test). Each worker's trees live in its own frames; the
//! workers' events are interleaved in trace order in runs of 1 to
//! [`RUN_MAX`] events (a round-robin with seeded run lengths), so a replay
//! builds them in parallel. Each tree is a request span `tree/d<depth>` of
//! its worker. Every worker ends by storing its result record into
//! `results[w]` (a slot of the heap slice `G0` points to) and exits; `main`,
//! which does nothing while the workers run, then reads each `results[w]`
//! (a dependency on that worker's store, standing for `wg.Wait`) and walks
//! the long-lived tree once more.
//!
//! Blocks: `TreeSize(max+1) + TreeSize(max) + Σ_d 2^(max−d+4)·TreeSize(d) +
//! workers + 1`, with `TreeSize(d) = 2^(d+1) − 1` ([`expected_allocs`]). At the
//! default `max_depth` 14 that is 3,222,195 blocks (52 MB) in 22,599,028 events
//! (the benchmarks game measures n = 21: `--set max_depth=21`).

use super::params::{ParamSpec, Params};
use crate::builder::{gl, l, BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, GoroutineId, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line for listings.
pub const SUMMARY: &str = "benchmarks-game binary-trees: stretch and long-lived trees, then \
     2^(max-d+4) trees of each depth d built bottom-up and walked by parallel workers";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("max_depth", 14, 6, 22, "depth of the long-lived tree and of the deepest short-lived trees (the benchmark's n; at least minDepth+2 = 6)"),
    ParamSpec::int("workers", 4, 1, 256, "goroutines that share the short-lived trees"),
];

/// The benchmark's `minDepth`: the short-lived trees start at depth 4.
pub const MIN_DEPTH: u32 = 4;
/// `Node{left, right *Node}`.
const NODE_BYTES: u64 = 16;
const NODE_SLOTS: u32 = 2;
const LEFT: u32 = 0;
const RIGHT: u32 = 1;
/// Longest run of one worker's events before the next worker's: short enough
/// that workers overlap at every tree size, long enough to keep goroutine
/// switches (and their cost in a sequential replay) rare.
pub const RUN_MAX: u32 = 64;

/// `2^(d+1) - 1`: the nodes of a tree of depth `d`.
pub fn tree_size(d: u32) -> u64 {
    (1u64 << (d + 1)) - 1
}

/// The depths of the short-lived trees: 4, 6, ..., `max_depth`.
pub fn depths(max_depth: u32) -> impl Iterator<Item = u32> {
    (MIN_DEPTH..=max_depth).step_by(2)
}

/// `2^(max_depth − d + minDepth)`: the trees built at depth `d`.
pub fn iterations(max_depth: u32, d: u32) -> u64 {
    1u64 << (max_depth - d + MIN_DEPTH)
}

/// Worker `w`'s share of `total` trees: the `i < total` with `i % workers == w`.
fn share(total: u64, w: u32, workers: u32) -> u64 {
    let (w, n) = (u64::from(w), u64::from(workers));
    total / n + u64::from(w < total % n)
}

/// The number of `alloc` events of the trace of `p`.
pub fn expected_allocs(p: &Params) -> u64 {
    let max = max_depth(p);
    let short: u64 = depths(max).map(|d| iterations(max, d) * tree_size(d)).sum();
    tree_size(max + 1) + tree_size(max) + short + p.get_u64("workers") + 1
}

fn max_depth(p: &Params) -> u32 {
    (p.get_u64("max_depth") as u32).clamp(MIN_DEPTH + 2, 22)
}

/// The span tag of a tree of depth `d`.
pub fn tag(d: u32) -> String {
    format!("tree/d{d}")
}

/// One frame of `bottomUpTree` or `itemCheck` on a walk's explicit stack.
#[derive(Clone, Copy)]
struct Frame {
    /// Depth of the subtree this call handles.
    depth: u32,
    /// Where the call is (see [`Walk::step`]).
    pc: u8,
    /// `bottomUpTree`: the caller's local the node is returned into.
    dst: u32,
}

/// Which function a [`Walk`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `bottomUpTree(depth)`, returned into the caller's local `dst`.
    Build,
    /// `t.itemCheck()` on the tree in the caller's local `src`.
    Check,
}

/// One top-level call of `bottomUpTree` or `itemCheck`, run one event per
/// [`Walk::step`] so several goroutines' walks can be interleaved. Memory:
/// one frame per level of the tree.
struct Walk {
    kind: Kind,
    depth: u32,
    /// The local of the calling frame: where the tree goes or comes from.
    local: u32,
    started: bool,
    frames: Vec<Frame>,
}

impl Walk {
    fn new(kind: Kind, depth: u32, local: u32) -> Walk {
        Walk { kind, depth, local, started: false, frames: Vec::with_capacity(depth as usize + 1) }
    }

    /// Restarts the walk (keeps its frame buffer).
    fn reset(&mut self, kind: Kind, depth: u32, local: u32) {
        self.kind = kind;
        self.depth = depth;
        self.local = local;
        self.started = false;
        self.frames.clear();
    }

    fn done(&self) -> bool {
        self.started && self.frames.is_empty()
    }

    /// Emits the walk's next event; returns true when that was its last.
    fn step<S: EventSink>(&mut self, b: &mut Builder<S>, g: GoroutineId) -> Result<bool, BuildError> {
        if !self.started {
            self.started = true;
            match self.kind {
                Kind::Build => b.call(g, 3, &[])?,
                Kind::Check => b.call(g, 2, &[l(self.local).into()])?,
            }
            self.frames.push(Frame { depth: self.depth, pc: 0, dst: self.local });
            return Ok(false);
        }
        let top = self.frames.last_mut().expect("step on a finished walk");
        let f = *top;
        match self.kind {
            // bottomUpTree: pc 0 call left, 1 call right, 2 alloc the node,
            // 3 and 4 store the children, 5 return the node.
            Kind::Build => match f.pc {
                0 if f.depth == 0 => {
                    b.alloc(g, l(2), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
                    top.pc = 5;
                }
                0 | 1 => {
                    b.call(g, 3, &[])?;
                    top.pc += 1;
                    self.frames.push(Frame { depth: f.depth - 1, pc: 0, dst: u32::from(f.pc) });
                }
                2 => {
                    b.alloc(g, l(2), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
                    top.pc = 3;
                }
                3 => {
                    b.set(g, l(2).slot(LEFT), l(0).into())?;
                    top.pc = 4;
                }
                4 => {
                    b.set(g, l(2).slot(RIGHT), l(1).into())?;
                    top.pc = 5;
                }
                _ => {
                    b.ret_copy(g, l(2).into(), l(f.dst))?;
                    self.frames.pop();
                }
            },
            // itemCheck: pc 0 read n.left, 1 call on n.left, 2 call on
            // n.right, 3 return.
            Kind::Check => match f.pc {
                0 => {
                    b.set(g, l(1), l(0).slot(LEFT).into())?;
                    top.pc = if f.depth == 0 { 3 } else { 1 };
                }
                1 => {
                    b.call(g, 2, &[l(1).into()])?;
                    top.pc = 2;
                    self.frames.push(Frame { depth: f.depth - 1, pc: 0, dst: 0 });
                }
                2 => {
                    b.call(g, 2, &[l(0).slot(RIGHT).into()])?;
                    top.pc = 3;
                    self.frames.push(Frame { depth: f.depth - 1, pc: 0, dst: 0 });
                }
                _ => {
                    b.ret(g)?;
                    self.frames.pop();
                }
            },
        }
        Ok(self.done())
    }

    /// Runs the whole walk.
    fn run<S: EventSink>(&mut self, b: &mut Builder<S>, g: GoroutineId) -> Result<(), BuildError> {
        while !self.step(b, g)? {}
        Ok(())
    }
}

/// Where a worker is in its program.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Next: the next tree (`begin`), or the next depth, or the result.
    NextTree,
    Build,
    Check,
    /// `t = nil`, then `end`.
    Drop,
    End,
    Exit,
}

/// A worker goroutine: its local l0 holds the tree being built and checked.
struct Worker {
    g: GoroutineId,
    w: u32,
    /// Index into the depths.
    k: usize,
    /// Trees left at depth index `k`.
    left: u64,
    phase: Phase,
    walk: Walk,
}

impl Worker {
    /// Emits the worker's next event; true when it has exited.
    fn step<S: EventSink>(&mut self, b: &mut Builder<S>, c: &Plan) -> Result<bool, BuildError> {
        let g = self.g;
        match self.phase {
            Phase::NextTree => {
                while self.left == 0 && self.k < c.depths.len() {
                    self.k += 1;
                    if self.k < c.depths.len() {
                        self.left = share(iterations(c.max, c.depths[self.k]), self.w, c.workers);
                    }
                }
                if self.k >= c.depths.len() {
                    // results[w] = &sum
                    b.alloc(g, gl(0).slot(self.w), 8 * c.depths.len() as u64, 0, Cause::New, Placement::Auto)?;
                    self.phase = Phase::Exit;
                } else {
                    self.left -= 1;
                    b.begin(g, &c.tags[self.k])?;
                    self.walk.reset(Kind::Build, c.depths[self.k], 0);
                    self.phase = Phase::Build;
                }
            }
            Phase::Build => {
                if self.walk.step(b, g)? {
                    self.walk.reset(Kind::Check, c.depths[self.k], 0);
                    self.phase = Phase::Check;
                }
            }
            Phase::Check => {
                if self.walk.step(b, g)? {
                    self.phase = Phase::Drop;
                }
            }
            Phase::Drop => {
                b.set(g, l(0), NIL)?;
                self.phase = Phase::End;
            }
            Phase::End => {
                b.end(g, &c.tags[self.k])?;
                self.phase = Phase::NextTree;
            }
            Phase::Exit => {
                b.exit(g)?;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// What every worker needs to know.
struct Plan {
    max: u32,
    workers: u32,
    depths: Vec<u32>,
    tags: Vec<String>,
}

/// Writes binary-trees with the parameters `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let max = max_depth(p);
    let workers = (p.get_u64("workers") as u32).max(1);
    let depths: Vec<u32> = depths(max).collect();
    let plan = Plan { max, workers, tags: depths.iter().map(|&d| tag(d)).collect(), depths };
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();
    // main's locals: l0 longLivedTree, l1 the stretch tree, l2 a result.
    b.call(main, 3, &[])?;
    Walk::new(Kind::Build, max + 1, 1).run(&mut b, main)?;
    Walk::new(Kind::Check, max + 1, 1).run(&mut b, main)?;
    b.set(main, l(1), NIL)?;
    Walk::new(Kind::Build, max, 0).run(&mut b, main)?;
    // results = make([]*partial, workers)
    b.alloc(main, gl(0), 8 * u64::from(workers), workers, Cause::MakeSlice, Placement::Auto)?;
    let mut live = Vec::with_capacity(workers as usize);
    for w in 0..workers {
        let g = b.go(main, 1, &[])?;
        let left = share(iterations(max, plan.depths[0]), w, workers);
        live.push(Worker { g, w, k: 0, left, phase: Phase::NextTree, walk: Walk::new(Kind::Build, max, 0) });
    }
    // The workers run in parallel: round-robin, a run of 1..=RUN_MAX events each.
    let mut i = 0;
    while !live.is_empty() {
        i %= live.len();
        let run = rng.random_range(1..=RUN_MAX);
        let mut exited = false;
        for _ in 0..run {
            if live[i].step(&mut b, &plan)? {
                exited = true;
                break;
            }
        }
        if exited {
            live.remove(i);
        } else {
            i += 1;
        }
    }
    // wg.Wait(), then main reads every worker's result.
    for w in 0..workers {
        b.set(main, l(2), gl(0).slot(w).into())?;
    }
    b.set(main, l(2), NIL)?;
    Walk::new(Kind::Check, max, 0).run(&mut b, main)?;
    b.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Place};
    use crate::builder::MemorySink;
    use crate::model::{Event, Op, Root, Src, Trace};
    use std::collections::HashMap;
    use std::io;

    fn params(seed: u64, set: &[(&str, &str)]) -> Params {
        let mut p = Params::defaults(PARAMS, seed);
        for (k, v) in set {
            p.set(PARAMS, k, v).unwrap();
        }
        p
    }

    fn trace(p: &Params) -> Trace {
        let mut s = MemorySink::new();
        generate(p, &mut s).unwrap();
        s.into_trace()
    }

    const SMALL: &[(&str, &str)] = &[("max_depth", "6")];
    const MODERATE: &[(&str, &str)] = &[("max_depth", "10"), ("workers", "3")];
    const MANY_WORKERS: &[(&str, &str)] = &[("max_depth", "8"), ("workers", "37")];

    #[test]
    fn binary_trees_is_deterministic() {
        let p = params(1, MODERATE);
        let t = trace(&p);
        assert_eq!(t, trace(&p));
        let other = trace(&params(2, MODERATE));
        assert_ne!(t.events, other.events, "the seed changes the interleaving");
        assert_eq!(t.events.len(), other.events.len(), "but not the program");
    }

    #[test]
    fn binary_trees_builds_2_pow_max_minus_d_plus_4_trees_per_depth() {
        for set in [SMALL, MODERATE, MANY_WORKERS] {
            let p = params(7, set);
            let t = trace(&p);
            let max = max_depth(&p);
            // Trees (spans) per tag, and the nodes allocated inside each
            // goroutine's open span.
            let mut trees: HashMap<String, u64> = HashMap::new();
            let mut nodes: HashMap<String, u64> = HashMap::new();
            let mut open: HashMap<u32, String> = HashMap::new();
            for e in &t.events {
                match &e.op {
                    Op::Begin { tag } => {
                        *trees.entry(tag.clone()).or_default() += 1;
                        open.insert(e.g.0, tag.clone());
                    }
                    Op::End { .. } => {
                        open.remove(&e.g.0);
                    }
                    Op::Alloc { .. } => {
                        if let Some(tag) = open.get(&e.g.0) {
                            *nodes.entry(tag.clone()).or_default() += 1;
                        }
                    }
                    _ => {}
                }
            }
            assert_eq!(trees.len(), depths(max).count(), "{set:?}");
            for d in depths(max) {
                let n = 1u64 << (max - d + 4);
                assert_eq!(trees[&tag(d)], n, "{set:?}: trees of depth {d}");
                assert_eq!(nodes[&tag(d)], n * tree_size(d), "{set:?}: nodes of depth {d}");
            }
            let allocs = t.events.iter().filter(|e| matches!(e.op, Op::Alloc { .. })).count() as u64;
            assert_eq!(allocs, expected_allocs(&p));
        }
    }

    #[test]
    fn binary_trees_workers_run_interleaved_and_all_exit() {
        let p = params(3, MODERATE);
        let t = trace(&p);
        let spawned = t.events.iter().filter(|e| matches!(e.op, Op::Go { .. })).count();
        let exits = t.events.iter().filter(|e| e.op == Op::Exit).count();
        assert_eq!((spawned, exits), (3, 3));
        // Switches between the workers while all of them still run.
        let first_exit = t.events.iter().position(|e| e.op == Op::Exit).unwrap();
        let first_worker = t.events.iter().position(|e| e.g.0 != 1).unwrap();
        let switches = t.events[first_worker..first_exit].windows(2).filter(|w| w[0].g != w[1].g).count();
        assert!(switches > 1000, "{switches} switches");
    }

    #[test]
    fn binary_trees_traces_are_sound_and_every_node_is_on_the_heap() {
        for set in [SMALL, MODERATE, MANY_WORKERS] {
            let t = trace(&params(1, set));
            super::super::check::check(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            let a = analyze(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            assert!(a.placements(false).iter().all(|p| *p == Place::Heap), "{set:?}");
            // main waits on every worker's result store.
            let reads_result = |e: &Event| match &e.op {
                Op::Set { src: Src::Loc(from), .. } => e.g.0 == 1 && from.root == Root::Global(0),
                _ => false,
            };
            let reads: Vec<usize> = (0..t.events.len()).filter(|&i| reads_result(&t.events[i])).collect();
            assert_eq!(reads.len(), params(1, set).get_u64("workers") as usize, "{set:?}");
            let deps = a.deps_by_event();
            assert!(reads.iter().all(|&i| !deps[i].is_empty()), "{set:?}: main waits for every worker");
        }
    }

    /// Counts events and allocations without keeping them.
    #[derive(Default)]
    struct Count {
        events: u64,
        allocs: u64,
    }

    impl EventSink for Count {
        fn start(&mut self, _globals: u32) -> io::Result<()> {
            Ok(())
        }
        fn event(&mut self, e: &Event) -> io::Result<()> {
            self.events += 1;
            self.allocs += matches!(e.op, Op::Alloc { .. }) as u64;
            Ok(())
        }
        fn end(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn binary_trees_default_count() {
        let p = Params::defaults(PARAMS, 1);
        let mut c = Count::default();
        generate(&p, &mut c).unwrap();
        assert_eq!(c.allocs, expected_allocs(&p));
        assert_eq!(c.allocs, 3_222_195);
        assert_eq!(c.events, 22_599_028);
    }
}

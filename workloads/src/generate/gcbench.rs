//! GCBench: the Ellis/Kovac/Boehm collector benchmark, as a gcwb trace.
//!
//! Source: John Ellis and Pete Kovac's `GCBench.java` (Post Communications),
//! as modified and ported to C by Hans Boehm (`GCBench.c`,
//! <https://hboehm.info/gc/gc_bench/>); the constants are the published ones
//! (stretch 18, long-lived 16, 500,000 doubles, depths 4 to 16 by 2). The
//! program, in Go:
//!
//! ```go
//! type Node struct{ left, right *Node; i, j int }   // 32 bytes, 2 pointer slots
//!
//! func TreeSize(d int) int { return 1<<(d+1) - 1 }
//! func NumIters(d int) int { return 2 * TreeSize(kStretchTreeDepth) / TreeSize(d) }
//!
//! // Top-down: the node exists first, its children are hung into its slots.
//! func Populate(depth int, thisNode *Node) {
//!     if depth <= 0 { return }
//!     depth--
//!     thisNode.left = &Node{}
//!     thisNode.right = &Node{}
//!     Populate(depth, thisNode.left)
//!     Populate(depth, thisNode.right)
//! }
//!
//! // Bottom-up: the children exist first, the node is made pointing to them.
//! func MakeTree(depth int) *Node {
//!     if depth <= 0 { return &Node{} }
//!     return &Node{left: MakeTree(depth - 1), right: MakeTree(depth - 1)}
//! }
//!
//! func topDown(depth int) {          // the body of GCBench's first loop
//!     tempTree := &Node{}
//!     Populate(depth, tempTree)
//! }
//!
//! func TimeConstruction(depth int) {
//!     for i := 0; i < NumIters(depth); i++ { topDown(depth) }
//!     for i := 0; i < NumIters(depth); i++ { tempTree := MakeTree(depth); _ = tempTree }
//! }
//!
//! func main() {
//!     tempTree := MakeTree(kStretchTreeDepth)       // stretch the heap
//!     tempTree = nil
//!     longLivedTree := &Node{}
//!     Populate(kLongLivedTreeDepth, longLivedTree)
//!     array := make([]float64, kArraySize)          // one noscan block
//!     for i := 0; i < kArraySize/2; i++ { array[i] = 1.0 / float64(i) }
//!     for d := kMinTreeDepth; d <= kMaxTreeDepth; d += 2 { TimeConstruction(d) }
//!     if longLivedTree == nil || array[1000] != 1.0/1000 { println("Failed") }
//! }
//! ```
//!
//! # As a trace
//!
//! One goroutine (`g1`); every function call is a `call`/`ret` with the
//! default frame size (16 + 8 bytes per pointer local), so the stack is as
//! deep as the tree being built. `MakeTree` returns its node with `ret l2 DST`
//! (the pointer escapes to the caller: escape analysis puts every
//! bottom-up node on the heap, as Go's compiler does). `Populate` allocates
//! children straight into `thisNode`'s slots (`alloc l0.0 ...`): they belong
//! to an older frame's block, so they escape too. The roots `tempTree` and
//! `longLivedTree` of the top-down trees never escape (a pointer passed
//! down does not), and escape analysis keeps them on the stack — again as
//! Go does. `topDown` is GCBench's loop body as a function because gcwb
//! reclaims a stack block only with its frame, where Go reuses one stack
//! slot for a loop's `tempTree`; in Go it would be inlined. The array is
//! larger than Go's 64 KiB limit for implicit stack objects at the default
//! size and goes to the heap; at small `array_len` it may stay on the stack,
//! as it would in Go. Filling half of it is one `work` event of
//! [`FILL_NS_PER_ELEMENT`] per element. The program has no randomness: the
//! seed is ignored.
//!
//! Blocks allocated: `TreeSize(stretch) + TreeSize(long_lived) + 1 (array) +
//! Σ_d 2·NumIters(d)·TreeSize(d)` ([`expected_allocs`]); at the default
//! depths that is 15,333,863 blocks in 53,954,766 events (about 495 MB of
//! nodes).
//! Keep tests small with small depths, or the `iterations` fraction.

use super::params::{ParamSpec, Params};
use crate::builder::{l, BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, GoroutineId, Loc, Placement};

/// One line for listings.
pub const SUMMARY: &str = "GCBench (Ellis/Kovac/Boehm): stretch tree, long-lived tree and array, \
     then short-lived binary trees built top-down and bottom-up; one goroutine, deep call/ret";

/// The parameters; depths and array length default to GCBench's constants.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "stretch_depth",
        18,
        0,
        MAX_DEPTH as u64,
        "depth of the stretch tree (kStretchTreeDepth); also sets NumIters",
    ),
    ParamSpec::int("long_lived_depth", 16, 0, MAX_DEPTH as u64, "depth of the long-lived tree (kLongLivedTreeDepth)"),
    ParamSpec::int("array_len", 500_000, 0, 100_000_000, "float64 elements of the long-lived array (kArraySize)"),
    ParamSpec::int("min_depth", 4, 0, MAX_DEPTH as u64, "depth of the first short-lived trees (kMinTreeDepth)"),
    ParamSpec::int(
        "max_depth",
        16,
        0,
        MAX_DEPTH as u64,
        "depth of the last short-lived trees (kMaxTreeDepth); depths step by 2",
    ),
    ParamSpec::real(
        "iterations",
        1.0,
        0.0,
        1.0,
        "fraction of NumIters(d) run per depth (at least one tree when NumIters(d) > 0); 1 is GCBench",
    ),
];

/// Deepest tree a parameter may ask for: a tree of depth 22 has 8 M nodes,
/// and at stretch depth 22 the whole run allocates about 250 M blocks, well
/// within a trace's 2^32.
const MAX_DEPTH: u32 = 22;

/// `Node{left, right *Node; i, j int}`: two pointers and two 8-byte ints.
const NODE_BYTES: u64 = 32;
/// The pointer slots of a node, `left` and `right`.
const NODE_SLOTS: u32 = 2;
const LEFT: u32 = 0;
const RIGHT: u32 = 1;
/// `float64`.
const DOUBLE_BYTES: u64 = 8;
/// Time to fill one element of the array (`array[i] = 1.0 / float64(i)`),
/// an estimate: a conversion and a pipelined division, about 1 ns.
pub const FILL_NS_PER_ELEMENT: u64 = 1;

/// `TreeSize(d) = 2^(d+1) - 1`: the nodes of a complete tree of depth `d`.
pub fn tree_size(d: u32) -> u64 {
    (1u64 << (d + 1)) - 1
}

/// `NumIters(d) = 2·TreeSize(stretch) / TreeSize(d)` (integer division).
pub fn num_iters(stretch: u32, d: u32) -> u64 {
    2 * tree_size(stretch) / tree_size(d)
}

/// The depths of the short-lived trees: `min, min+2, ..., <= max`.
fn depths(min: u32, max: u32) -> impl Iterator<Item = u32> {
    (min..=max).step_by(2)
}

/// The iterations run at depth `d`: `NumIters(d)` scaled by `frac`, at least
/// one while `NumIters(d) > 0`.
fn iters(stretch: u32, d: u32, frac: f64) -> u64 {
    let n = num_iters(stretch, d);
    if n == 0 || frac >= 1.0 {
        return n;
    }
    ((n as f64 * frac).round() as u64).max(1)
}

/// The values of the parameters, checked.
struct Config {
    stretch: u32,
    long_lived: u32,
    array_len: u64,
    min: u32,
    max: u32,
    frac: f64,
}

impl Config {
    fn of(p: &Params) -> Config {
        let depth = |name| (p.get_u64(name) as u32).min(MAX_DEPTH);
        Config {
            stretch: depth("stretch_depth"),
            long_lived: depth("long_lived_depth"),
            array_len: p.get_u64("array_len"),
            min: depth("min_depth"),
            max: depth("max_depth"),
            frac: p.get("iterations").clamp(0.0, 1.0),
        }
    }
}

/// The number of `alloc` events the trace of `p` has: every tree node, plus
/// the array (none when `array_len` is 0: `make([]float64, 0)` allocates
/// nothing in Go).
pub fn expected_allocs(p: &Params) -> u64 {
    let c = Config::of(p);
    let short: u64 = depths(c.min, c.max).map(|d| 2 * iters(c.stretch, d, c.frac) * tree_size(d)).sum();
    tree_size(c.stretch) + tree_size(c.long_lived) + u64::from(c.array_len > 0) + short
}

/// Writes GCBench with the parameters `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let c = Config::of(p);
    let mut b = Builder::new(sink, 0)?;
    let g = b.main();
    // main's locals: l0 tempTree, l1 longLivedTree, l2 array.
    b.call(g, 3, &[])?;
    make_tree(&mut b, g, c.stretch, l(0))?;
    b.set(g, l(0), NIL)?;
    b.alloc(g, l(1), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
    populate(&mut b, g, c.long_lived, l(1))?;
    if c.array_len > 0 {
        b.alloc(g, l(2), DOUBLE_BYTES * c.array_len, 0, Cause::MakeSlice, Placement::Auto)?;
        let fill = c.array_len / 2 * FILL_NS_PER_ELEMENT;
        if fill > 0 {
            b.work(g, fill)?;
        }
    }
    for d in depths(c.min, c.max) {
        time_construction(&mut b, g, d, iters(c.stretch, d, c.frac))?;
    }
    // main keeps longLivedTree and array to the end (GCBench checks them):
    // it never returns, so its locals stay roots until the trace ends.
    b.finish()?;
    Ok(())
}

/// `TimeConstruction(depth)`: a frame with one local, `tempTree`.
fn time_construction<S: EventSink>(b: &mut Builder<S>, g: GoroutineId, depth: u32, n: u64) -> Result<(), BuildError> {
    b.call(g, 1, &[])?;
    for _ in 0..n {
        // topDown(depth): tempTree := &Node{}; Populate(depth, tempTree)
        b.call(g, 1, &[])?;
        b.alloc(g, l(0), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
        populate(b, g, depth, l(0))?;
        b.ret(g)?;
    }
    for _ in 0..n {
        make_tree(b, g, depth, l(0))?;
        b.set(g, l(0), NIL)?;
    }
    b.ret(g)
}

/// `Populate(depth, node)`: calls with `node` (a location in the caller's
/// frame holding a node) as the callee's `l0`, hangs two new nodes into its
/// slots and recurses into them.
fn populate<S: EventSink>(b: &mut Builder<S>, g: GoroutineId, depth: u32, node: Loc) -> Result<(), BuildError> {
    b.call(g, 1, &[node.into()])?;
    if depth > 0 {
        b.alloc(g, l(0).slot(LEFT), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
        b.alloc(g, l(0).slot(RIGHT), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
        populate(b, g, depth - 1, l(0).slot(LEFT))?;
        populate(b, g, depth - 1, l(0).slot(RIGHT))?;
    }
    b.ret(g)
}

/// `MakeTree(depth)`, returning the new tree into `dst` (a location in the
/// caller's frame). Locals: l0 left, l1 right, l2 the node.
fn make_tree<S: EventSink>(b: &mut Builder<S>, g: GoroutineId, depth: u32, dst: Loc) -> Result<(), BuildError> {
    b.call(g, 3, &[])?;
    if depth > 0 {
        make_tree(b, g, depth - 1, l(0))?;
        make_tree(b, g, depth - 1, l(1))?;
    }
    b.alloc(g, l(2), NODE_BYTES, NODE_SLOTS, Cause::New, Placement::Auto)?;
    if depth > 0 {
        b.set(g, l(2).slot(LEFT), l(0).into())?;
        b.set(g, l(2).slot(RIGHT), l(1).into())?;
    }
    b.ret_copy(g, l(2).into(), dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Place};
    use crate::builder::MemorySink;
    use crate::model::{Event, Op, Trace};
    use std::io;

    fn params(set: &[(&str, &str)]) -> Params {
        let mut p = Params::defaults(PARAMS, 1);
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

    const SMALL: &[(&str, &str)] =
        &[("stretch_depth", "10"), ("long_lived_depth", "8"), ("array_len", "1000"), ("max_depth", "8")];
    const MODERATE: &[(&str, &str)] =
        &[("stretch_depth", "13"), ("long_lived_depth", "11"), ("array_len", "500000"), ("max_depth", "12")];

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
    fn gcbench_is_deterministic_and_ignores_the_seed() {
        let p = params(SMALL);
        let mut q = p.clone();
        q.seed = 99;
        let t = trace(&p);
        assert_eq!(t, trace(&p));
        assert_eq!(t, trace(&q));
    }

    #[test]
    fn gcbench_allocs_match_the_node_count_formula() {
        for set in [
            SMALL,
            &[
                ("stretch_depth", "6"),
                ("long_lived_depth", "3"),
                ("array_len", "0"),
                ("min_depth", "1"),
                ("max_depth", "7"),
            ],
        ] {
            let p = params(set);
            let t = trace(&p);
            let allocs = t.events.iter().filter(|e| matches!(e.op, Op::Alloc { .. })).count() as u64;
            let c = Config::of(&p);
            let by_hand = tree_size(c.stretch)
                + tree_size(c.long_lived)
                + u64::from(c.array_len > 0)
                + depths(c.min, c.max).map(|d| 2 * num_iters(c.stretch, d) * tree_size(d)).sum::<u64>();
            assert_eq!(allocs, by_hand, "{set:?}");
            assert_eq!(allocs, expected_allocs(&p));
        }
        // stretch 10: NumIters(4) = 2·2047/31 = 132 trees of 31 nodes, each way.
        assert_eq!(num_iters(10, 4), 132);
    }

    #[test]
    fn gcbench_small_and_moderate_traces_are_sound() {
        for set in [SMALL, MODERATE] {
            let t = trace(&params(set));
            super::super::check::check(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            let a = analyze(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            let place = a.placements(false);
            // Every node made bottom-up or hung below another escapes; only
            // the top-down roots stay on the stack.
            let stack = place.iter().filter(|p| **p == Place::Stack).count();
            let c = Config::of(&params(set));
            let roots: u64 = 1 + depths(c.min, c.max).map(|d| num_iters(c.stretch, d)).sum::<u64>();
            assert_eq!(stack as u64, roots + u64::from(c.array_len * 8 <= 64 * 1024), "{set:?}");
        }
    }

    #[test]
    fn gcbench_stack_is_as_deep_as_the_tree() {
        let t = trace(&params(SMALL));
        let (mut depth, mut max) = (0i64, 0i64);
        for e in &t.events {
            match e.op {
                Op::Call { .. } => depth += 1,
                Op::Ret { .. } => depth -= 1,
                _ => {}
            }
            max = max.max(depth);
        }
        // main + MakeTree(10) .. MakeTree(0): 12 frames.
        assert_eq!(max, 12);
    }

    #[test]
    fn gcbench_iterations_fraction_shrinks_the_run() {
        let mut set = MODERATE.to_vec();
        set.push(("iterations", "0.01"));
        let p = params(&set);
        let t = trace(&p);
        analyze(&t).unwrap();
        let allocs = t.events.iter().filter(|e| matches!(e.op, Op::Alloc { .. })).count() as u64;
        assert_eq!(allocs, expected_allocs(&p));
        assert!(allocs < expected_allocs(&params(MODERATE)) / 5, "{allocs}");
    }

    #[test]
    fn gcbench_default_count() {
        let p = Params::defaults(PARAMS, 1);
        let mut c = Count::default();
        generate(&p, &mut c).unwrap();
        assert_eq!(c.allocs, expected_allocs(&p));
        assert_eq!(c.allocs, 15_333_863);
        assert_eq!(c.events, 53_954_766);
    }
}

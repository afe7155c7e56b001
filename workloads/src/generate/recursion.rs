//! One deep recursion of large frames: stack growth, deep stack scanning,
//! and Go's stack overflow.
//!
//! Source: no published benchmark; the program is the textbook deep
//! recursion (a recursive descent, a depth-first search) whose only memory
//! behaviour is the goroutine stack, built to exercise what Go's runtime does
//! with stacks (runtime/stack.go: `newstack` doubles the stack by copying and
//! adjusting pointers into it, up to `maxstacksize`; `fatal error: stack
//! overflow` beyond). In Go:
//!
//! ```go
//! type T struct{ next *T; a, b, c int }        // 32 bytes, 1 pointer slot
//!
//! func rec(n int, parent *T) *T {
//!     var buf [frameBytes - 48]byte            // the frame's non-pointer data
//!     x := &T{}                                // stays on the stack unless returned
//!     _ = parent.next                          // reads through the pointer passed down
//!     var r *T
//!     if n > 1 { r = rec(n-1, x) }
//!     if rand.Float64() < returnRate { return x }   // x escapes: heap
//!     return r                                 // pass the child's result up
//! }
//!
//! func main() {
//!     root := &T{}
//!     r := rec(depth, root)
//!     _ = r
//! }
//! ```
//!
//! # As a trace
//!
//! `rec` frames are `call 4 FRAME_BYTES l1` (l0 `parent`, l1 `x`, l2 `r`,
//! l3 scratch for the read) of `frame_bytes` bytes; `main`'s frame has the
//! same layout. Each frame allocates its `x` with placement `auto`: escape
//! analysis keeps it on the stack (passing it down to the callee does not
//! make it escape), unless the frame returns it (`ret l1 l2`, a copy into an
//! older frame), which happens with probability `return_rate` on the way
//! up; otherwise a frame passes its child's result up (`ret l2 l2`, already
//! a heap block) or returns nothing. The read `set l3 l0.0` dereferences the
//! parent's block, which lives in an older frame on the stack: after the
//! stack has been copied to a bigger one, the pointer to it must have been
//! adjusted. With `gc_at_bottom` the deepest frame calls `runtime.GC()`,
//! so a collection scans the whole deep stack.
//!
//! The stack holds `(depth + 1)` frames plus the stack-allocated blocks;
//! at the defaults (10,000 frames of 256 bytes) about 2.9 MB, so the
//! replay's stack grows by copying from 2 KiB to 4 MiB. The trace generator
//! itself keeps no per-frame state (it writes the descent, then the unwinding).
//!
//! # Stack overflow
//!
//! The analysis accepts a goroutine stack up to Go's `maxstacksize`
//! (1,000,000,000 bytes); the replayer, like Go, grows stacks only by
//! doubling, so its real limit is 512 MiB (`--max-stack` 1 GB on 64-bit;
//! 128 MiB with `--arch 32`). A trace with `depth · frame_bytes` (plus
//! `32 · depth` for the stack blocks and main's frame) between 512 MiB and
//! 1,000,000,000 bytes is therefore valid, and its replay fails with Go's
//! `runtime: goroutine stack exceeds 1000000000-byte limit` / `fatal error:
//! stack overflow`: for example `frame_bytes=1048576 depth=600` (600 MiB).
//! Deeper still (over 1,000,000,000 bytes) the trace is just as valid and
//! overflows the same way; only a single frame over that size is refused
//! (as Go's compiler refuses it).

use super::params::{ParamSpec, Params};
use crate::builder::{l, BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line for listings.
pub const SUMMARY: &str = "one deep recursion of big frames, each with a small block passed down \
     (stack unless returned up): stack growth, deep stack scans, Go's stack overflow when deep enough";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("depth", 10_000, 1, 10_000_000, "frames of the recursion"),
    ParamSpec::int(
        "frame_bytes",
        256,
        MIN_FRAME_BYTES,
        1_000_000_000,
        "bytes of each frame (at least 48: four pointer locals, return address and frame pointer)",
    ),
    ParamSpec::real(
        "return_rate",
        0.02,
        0.0,
        1.0,
        "probability that a frame returns its own block to its caller (which makes that block escape to the heap)",
    ),
    ParamSpec::int("gc_at_bottom", 1, 0, 1, "1: the deepest frame calls runtime.GC(), scanning the whole stack"),
];

/// `rec`'s pointer locals: `parent`, `x`, `r`, scratch.
const LOCALS: u32 = 4;
const PARENT: u32 = 0;
const X: u32 = 1;
const R: u32 = 2;
const SCRATCH: u32 = 3;
/// The smallest frame holding the four locals plus return address and frame
/// pointer (the format's default frame size for 4 locals).
const MIN_FRAME_BYTES: u64 = 16 + 8 * LOCALS as u64;
/// `T{next *T; a, b, c int}`.
const T_BYTES: u64 = 32;
const T_SLOTS: u32 = 1;

/// Writes the recursion with the parameters `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let depth = p.get_u64("depth").max(1);
    let frame_bytes = p.get_u64("frame_bytes").max(MIN_FRAME_BYTES);
    let return_rate = p.get("return_rate").clamp(0.0, 1.0);
    let gc_at_bottom = p.get_u64("gc_at_bottom") != 0;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 0)?;
    let g = b.main();
    // main: root := &T{}
    b.call(g, LOCALS, &[])?;
    b.alloc(g, l(X), T_BYTES, T_SLOTS, Cause::New, Placement::Auto)?;
    // The descent: rec(n, x) for n = depth down to 1.
    for _ in 0..depth {
        b.call_sized(g, LOCALS, frame_bytes, &[l(X).into()])?;
        b.alloc(g, l(X), T_BYTES, T_SLOTS, Cause::New, Placement::Auto)?;
        b.set(g, l(SCRATCH), l(PARENT).slot(0).into())?;
    }
    if gc_at_bottom {
        b.gc(g)?;
    }
    // The unwinding: every frame returns x, its child's result, or nil.
    let mut have_result = false;
    for _ in 0..depth {
        if rng.random_bool(return_rate) {
            b.ret_copy(g, l(X).into(), l(R))?;
            have_result = true;
        } else if have_result {
            b.ret_copy(g, l(R).into(), l(R))?;
        } else {
            b.ret(g)?;
        }
    }
    // main drops the result.
    if have_result {
        b.set(g, l(R), NIL)?;
    }
    b.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Place};
    use crate::builder::MemorySink;
    use crate::model::{Loc, Op, Src, Trace};

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

    /// The largest sum of frame sizes on the stack.
    fn max_stack_bytes(t: &Trace) -> u64 {
        let mut frames = Vec::new();
        let mut max = 0;
        for e in &t.events {
            match &e.op {
                Op::Call { locals, frame_bytes, .. } => {
                    frames.push(frame_bytes.unwrap_or(16 + 8 * u64::from(*locals)));
                    max = max.max(frames.iter().sum());
                }
                Op::Ret { .. } => {
                    frames.pop();
                }
                _ => {}
            }
        }
        max
    }

    #[test]
    fn recursion_is_deterministic() {
        let p = params(4, &[]);
        let t = trace(&p);
        assert_eq!(t, trace(&p));
        assert_ne!(t.events, trace(&params(5, &[])).events, "the seed picks which frames return their block");
    }

    #[test]
    fn recursion_per_frame_blocks_stay_on_the_stack_unless_returned_up() {
        for set in [
            &[][..],
            &[("depth", "50"), ("return_rate", "0.3")],
            &[("depth", "3000"), ("frame_bytes", "4096"), ("return_rate", "0.5")],
        ] {
            let t = trace(&params(9, set));
            super::super::check::check(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            let a = analyze(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            let place = a.placements(false);
            // Which block each frame's `x` is, and which of them a `ret l1 ..` returned.
            let mut x_of_frame: Vec<Option<u32>> = Vec::new();
            let mut returned = vec![false; place.len()];
            for e in &t.events {
                match &e.op {
                    Op::Call { .. } => x_of_frame.push(None),
                    Op::Alloc { dst, block, .. } if *dst == Loc::local(X) => {
                        *x_of_frame.last_mut().unwrap() = Some(block.0);
                    }
                    Op::Ret { copy } => {
                        let x = x_of_frame.pop().unwrap();
                        if matches!(copy, Some((Src::Loc(src), _)) if *src == Loc::local(X)) {
                            returned[x.unwrap() as usize] = true;
                        }
                    }
                    _ => {}
                }
            }
            let (mut heap, mut stack) = (0, 0);
            for (b, p) in place.iter().enumerate() {
                let want = if returned[b] { Place::Heap } else { Place::Stack };
                assert_eq!(*p, want, "{set:?}: block {b}");
                if returned[b] {
                    heap += 1
                } else {
                    stack += 1
                }
            }
            assert!(heap > 0 && stack > 0, "{set:?}: {heap} heap, {stack} stack");
            assert_eq!(place.len() as u64, params(9, set).get_u64("depth") + 1);
        }
    }

    #[test]
    fn recursion_defaults_grow_the_stack_past_two_mebibytes() {
        let t = trace(&params(1, &[]));
        analyze(&t).unwrap();
        // main (48 bytes) + 10,000 frames of 256 bytes.
        assert_eq!(max_stack_bytes(&t), 48 + 10_000 * 256);
        assert_eq!(t.events.iter().filter(|e| e.op == Op::Gc).count(), 1);
    }

    #[test]
    fn recursion_past_512_mib_is_a_valid_trace_that_overflows_at_replay() {
        // 600 frames of 1 MiB: 600 MiB, over the replay's 512 MiB effective
        // limit (the largest power of two not above Go's 1 GB maxstacksize),
        // under the 1,000,000,000 bytes the trace format allows.
        let p = params(1, &[("depth", "600"), ("frame_bytes", "1048576")]);
        let t = trace(&p);
        analyze(&t).expect("valid: the overflow is the replay's to report");
        let bytes = max_stack_bytes(&t);
        assert!(bytes > 512 << 20 && bytes < 1_000_000_000, "{bytes}");
        // Deeper still, past Go's 1,000,000,000 bytes: still a valid trace
        // (the replay reports the overflow, with what it measured up to it).
        let t = trace(&params(1, &[("depth", "1000"), ("frame_bytes", "1048576")]));
        analyze(&t).expect("valid: a program that dies of a stack overflow");
        assert!(max_stack_bytes(&t) > 1_000_000_000);
    }
}

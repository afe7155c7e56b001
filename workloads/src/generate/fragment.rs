//! `fragment`: blocks of widely mixed sizes dying at random — the
//! allocator's fragmentation and the heap it needs beyond the live bytes.
//!
//! The Go program it models (an object store whose values are replaced
//! at random):
//!
//! ```go
//! var store [][]any                            // G0: live_slots slots, chunks of 4096
//!
//! func main() {
//!     for i := range liveSlots { store[i/4096][i%4096] = newValue() }
//!     for w := 0; w < workers; w++ { go writer() }
//! }
//! func writer() {                              // `workers` of them
//!     for r := 0; r < replacements/workers; r++ {
//!         i := rand(liveSlots)
//!         store[i/4096][i%4096] = newValue()   // the old value dies (unless linked)
//!         if rand() < 1/8 { v.link = store[rand] } // now and then a value points to another
//!         work()
//!     }
//! }
//! func newValue() any {                        // 8 B .. 32 KiB, log-uniform; some 32 KiB .. 256 KiB
//!     // half pointer-free []byte, half structs whose first 1..8 words are
//!     // pointers and the rest plain data
//! }
//! ```
//!
//! The GC question: fragmentation. Sizes are log-uniform over Go's whole
//! small-object range (every size class gets the same number of blocks, so
//! the bytes are dominated by the large classes), plus `large_fraction`
//! above the 32 KiB small-object limit, and each block dies when its random
//! slot is next replaced, so deaths are scattered over every span: a
//! non-moving collector with size-segregated free lists keeps many
//! partially used spans per class (heap in use well above the live bytes),
//! while large objects come and go in whole pages. A value links to another
//! slot's value now and then, so some replaced blocks outlive their slot.

use super::common::{alloc_table, table_slot, work};
use super::params::{ParamSpec, Params};
use crate::builder::{BuildError, Builder, EventSink};
use crate::model::{Cause, GoroutineId, Placement, WORD_BYTES};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "fragmentation: 5k slots whose values (8 B..32 KiB log-uniform, some larger) are replaced at random";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("live_slots", 5_000, 1, 50_000_000, "slots each holding one live value"),
    ParamSpec::int("replacements", 500_000, 0, 2_000_000_000, "values replaced after the slots are filled"),
    ParamSpec::real("large_fraction", 0.01, 0.0, 1.0, "share of values above 32 KiB (32 KiB..256 KiB, log-uniform)"),
    ParamSpec::int("workers", 4, 1, 4096, "goroutines replacing values"),
    ParamSpec::int("work_ns", 200, 0, 1_000_000_000, "mean computation per replacement, ns (0: none)"),
];

/// Small values are log-uniform in 2^3 ..= 2^15 bytes: 8 B to 32 KiB, Go's
/// small-object range (`_MaxSmallSize`).
const SMALL_LOG2: (f64, f64) = (3.0, 15.0);
/// Large values are log-uniform in 32 KiB (exclusive) ..= 256 KiB.
const LARGE_LOG2: (f64, f64) = (15.0, 18.0);
/// A struct value has 1 to this many pointer fields before its other data
/// (Go's `ptrdata` prefix): the collector scans a few words of each value,
/// whatever its size.
const STRUCT_MAX_SLOTS: u64 = 8;
/// One new value in this many is linked to another slot's value.
const LINK_ODDS: u32 = 8;
/// A writer does 1 to this many replacements before the next one's turn.
const MAX_RUN: u32 = 4;

/// Writes the `fragment` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let n = p.get_u64("live_slots");
    let replacements = p.get_u64("replacements");
    let large = p.get("large_fraction");
    let workers = p.get_u64("workers");
    let work_ns = p.get_u64("work_ns");
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();
    // Whether the value in each slot has a pointer slot (where a link can go).
    let mut has_slot = vec![false; n as usize];

    b.call(main, 1, &[])?;
    alloc_table(&mut b, main, n)?;
    for i in 0..n {
        has_slot[i as usize] = new_value(&mut b, &mut rng, main, i, large)?;
    }

    let mut ws = Vec::with_capacity(workers as usize);
    for w in 0..workers {
        let g = b.go(main, 1, &[])?;
        ws.push((g, replacements / workers + u64::from(w < replacements % workers)));
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
            let i = rng.random_range(0..n);
            has_slot[i as usize] = new_value(&mut b, &mut rng, g, i, large)?;
            if has_slot[i as usize] && rng.random_ratio(1, LINK_ODDS) {
                b.set(g, table_slot(i).slot(0), table_slot(rng.random_range(0..n)).into())?;
            }
            work(&mut b, &mut rng, g, work_ns)?;
        }
        if *left == 0 {
            b.exit(g)?;
            ws.remove(turn);
        } else {
            turn += 1;
        }
    }
    b.finish()?;
    Ok(())
}

/// Allocates a new value of a random size and shape into slot `i`; returns
/// whether it has a pointer slot.
fn new_value<S: EventSink>(
    b: &mut Builder<S>,
    rng: &mut ChaCha8Rng,
    g: GoroutineId,
    i: u64,
    large_fraction: f64,
) -> Result<bool, BuildError> {
    let (lo, hi) = if rng.random_bool(large_fraction) { LARGE_LOG2 } else { SMALL_LOG2 };
    let mut size = rng.random_range(lo..=hi).exp2().round() as u64;
    if lo == LARGE_LOG2.0 {
        size = size.max((1 << 15) + 1);
    }
    let (slots, cause) = if rng.random_bool(0.5) {
        (0, Cause::MakeSlice)
    } else {
        let fields = rng.random_range(1..=STRUCT_MAX_SLOTS);
        ((size / WORD_BYTES).min(fields), Cause::New)
    };
    b.alloc(g, table_slot(i), size, slots as u32, cause, Placement::Auto)?;
    Ok(slots > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, oracle::death_times};
    use crate::model::{Op, Trace};

    fn params(seed: u64, sets: &[(&str, &str)]) -> Params {
        crate::generate::common::params(PARAMS, seed, sets)
    }

    fn build(p: &Params) -> Trace {
        crate::generate::common::build(generate, p)
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let small = [("live_slots", "300"), ("replacements", "3000")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("live_slots", "1"), ("replacements", "30"), ("large_fraction", "1"), ("workers", "1"), ("work_ns", "0")],
            &[("live_slots", "5000"), ("replacements", "1000000"), ("large_fraction", "0.2"), ("workers", "32")],
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
    fn sizes_span_every_size_class_and_deaths_are_out_of_allocation_order() {
        let t = build(&params(5, &[("live_slots", "2000"), ("replacements", "50000"), ("large_fraction", "0.05")]));
        let a = analyze(&t).unwrap();
        let d = death_times(&a, a.placements(false));
        let mut octaves = [0u32; 19];
        for info in &a.blocks[2..] {
            octaves[info.size.ilog2() as usize] += 1;
        }
        for (k, &count) in octaves.iter().enumerate().take(18).skip(3) {
            assert!(count > 100, "{count} blocks of 2^{k} bytes: {octaves:?}");
        }
        let large = a.blocks.iter().filter(|b| b.size > 32 << 10).count();
        assert!(large > 1500 && large < 3500, "{large} large values");
        // Values die in random order: many pairs of consecutive allocations
        // die in the opposite order.
        let deaths: Vec<u64> = d.death[2..].iter().map(|x| x.map_or(u64::MAX, u64::from)).collect();
        let inversions = deaths.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(inversions * 3 > deaths.len(), "{inversions} inversions in {}", deaths.len());
        // At the end: the store (spine and one chunk), the 2000 current
        // values, and the replaced values a current value still links to.
        let live = d.death.iter().filter(|x| x.is_none()).count();
        assert!(live > 2 + 2000, "{live} blocks live at the end: no replaced value outlived its slot");
        assert!(t.events.iter().any(|e| matches!(&e.op, Op::Set { dst, .. } if dst.path.len() == 3)));
    }
}

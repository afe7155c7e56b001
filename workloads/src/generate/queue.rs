//! `queue`: FIFO lifetimes — a bounded ring that producers keep appending
//! to, so every message lives exactly until the ring comes round again.
//!
//! The Go program it models:
//!
//! ```go
//! type Msg struct{ data []byte; seq int }      // 32 bytes, one pointer slot
//! var ring [][]*Msg                            // G0: capacity slots, in chunks of 4096
//! var mu sync.Mutex
//! var tail int
//!
//! func producer() {                            // `producers` of them
//!     for {
//!         mu.Lock()
//!         m := &Msg{data: make([]byte, objectBytes)}
//!         ring[tail/4096][tail%4096] = m           // overwrites the oldest message
//!         tail = (tail + 1) % capacity
//!         mu.Unlock()
//!         work()
//!     }
//! }
//! ```
//!
//! The GC question: what a collector does when objects die in allocation
//! order. Every message survives exactly `capacity` newer messages and then
//! dies, so the weak generational hypothesis fails on purpose: a nursery
//! holding fewer than `capacity` messages promotes (copies) every one of them
//! and finds them dead only in the old generation, while a non-generational
//! collector marks a live set of constant size on every cycle. The producers
//! write distinct slots under the lock, so a parallel replay runs them
//! concurrently with no waits between them.
//!
//! Each message is allocated straight into its ring slot (`alloc
//! G0.c.j` and then its payload `alloc G0.c.j.0`), and a producer's
//! message is never split by another goroutine's events, so the header and
//! the payload of message `n` die at the event that allocates message `n +
//! capacity`: death order is allocation order, exactly.

use super::common::{alloc_table, table_slot, work};
use super::params::{ParamSpec, Params};
use crate::builder::{BuildError, Builder, EventSink};
use crate::model::{Cause, GoroutineId, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "FIFO lifetimes: producers overwrite the oldest slot of a 100k-message ring; objects die in allocation order";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("capacity", 100_000, 1, 100_000_000, "ring slots: each message lives this many messages"),
    ParamSpec::int("events", 1_000_000, 1, 4_000_000_000, "length of the trace, in events (at least the setup)"),
    ParamSpec::int("object_bytes", 64, 1, 1 << 24, "payload bytes of each message (its header adds 32)"),
    ParamSpec::int("producers", 4, 1, 4096, "producer goroutines appending to the ring"),
    ParamSpec::int("work_ns", 200, 0, 1_000_000_000, "mean computation between two messages of a producer, ns"),
];

/// A message header: `data []byte` (pointer, len, cap) and `seq int`.
const HEADER_BYTES: u64 = 32;
const HEADER_SLOTS: u32 = 1;
/// A producer emits between 1 and this many messages before the next
/// producer's turn: short runs, so the goroutines' events interleave finely.
const MAX_RUN: u32 = 4;

/// Writes the `queue` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let capacity = p.get_u64("capacity");
    let target = p.get_u64("events");
    let payload = p.get_u64("object_bytes");
    let producers = p.get_u64("producers");
    let work_ns = p.get_u64("work_ns");
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();

    // func main: ring := make([][]*Msg, chunks); ring[c] = make([]*Msg, 4096) ...
    b.call(main, 1, &[])?;
    alloc_table(&mut b, main, capacity)?;
    let gs = (0..producers).map(|_| b.go(main, 1, &[])).collect::<Result<Vec<GoroutineId>, _>>()?;

    let per_message = 2 + u64::from(work_ns > 0);
    let mut tail = 0u64;
    let mut turn = 0;
    // Leave room for the producers' exits.
    'trace: while b.events() + per_message + producers <= target {
        let g = gs[turn];
        turn = (turn + 1) % gs.len();
        for _ in 0..rng.random_range(1..=MAX_RUN) {
            if b.events() + per_message + producers > target {
                break 'trace;
            }
            let slot = table_slot(tail);
            b.alloc(g, slot.clone(), HEADER_BYTES, HEADER_SLOTS, Cause::New, Placement::Auto)?;
            b.alloc(g, slot.slot(0), payload, 0, Cause::MakeSlice, Placement::Auto)?;
            tail = (tail + 1) % capacity;
            work(&mut b, &mut rng, g, work_ns)?;
        }
    }
    for g in gs {
        b.exit(g)?;
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
        let small = [("capacity", "1000"), ("events", "20000")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("capacity", "1"), ("events", "50"), ("object_bytes", "1"), ("producers", "1"), ("work_ns", "0")],
            &[("capacity", "5000"), ("events", "1000000"), ("object_bytes", "4096"), ("producers", "64")],
        ];
        for sets in cases {
            let t = build(&params(3, sets));
            analyze(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
            if sets.is_empty() {
                continue; // the independent re-simulation too, on the others
            }
            crate::generate::check::check(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
            let target = params(3, sets).get_u64("events");
            assert!(t.events.len() as u64 <= target.max(10), "{sets:?}: {} events", t.events.len());
        }
    }

    #[test]
    fn ring_objects_die_in_allocation_order() {
        let t = build(&params(5, &[("capacity", "300"), ("events", "20000"), ("producers", "5")]));
        let a = analyze(&t).unwrap();
        let places = a.placements(false);
        let d = death_times(&a, places);
        let main = a.goroutines[0].id;
        let mut ring = 0;
        let mut dead = 0;
        let mut last = 0u64;
        for (i, info) in a.blocks.iter().enumerate() {
            if t.events[info.alloc_event as usize].g == main {
                continue; // the ring's own arrays
            }
            assert_eq!(places[i], Place::Heap, "block {i} is reachable from a global");
            ring += 1;
            // A block still live at the end dies "after the last event".
            let death = d.death[i].map_or(u64::MAX, u64::from);
            dead += u64::from(death != u64::MAX);
            assert!(death >= last, "block {i} dies at {death}, before an older block (at {last})");
            last = death;
        }
        // Most messages were overwritten; the last ring-full (two blocks
        // each) is still live.
        assert!(ring > 6000, "{ring} ring blocks");
        assert_eq!(ring - dead, 2 * 300);
        let switches = t.events.windows(2).filter(|w| w[0].g != w[1].g).count();
        assert!(switches > 1000, "producers interleave: {switches} switches");
        assert!(t.events.iter().any(|e| matches!(e.op, Op::Exit)));
    }
}

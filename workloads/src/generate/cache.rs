//! `cache`: old objects pointing to young ones — a large table of
//! long-lived objects built first, then a long phase in which young blocks
//! are stored into their fields and soon replaced.
//!
//! The Go program it models (a session table):
//!
//! ```go
//! type Session struct {                        // 64 bytes, 4 pointer slots
//!     name  string                             // slot 0: built with the session
//!     last  [3]*Event                          // slots 1-3: the young data
//! }
//! var sessions [][]*Session                    // G0: old_objects sessions, chunks of 4096
//!
//! func main() {
//!     for i := range old_objects { s := &Session{name: a + b}; sessions[i/4096][i%4096] = s }
//!     for w := 0; w < workers; w++ { go worker() }
//! }
//! func worker() {                              // `workers` of them
//!     active := pickSessions(active)           // the sessions this worker is busy with
//!     for u := 0; u < updates/workers; u++ {
//!         s := active[rand]
//!         s.last[rand] = &Event{back: sessions[rand]}  // an old-to-young pointer
//!         if rand() < 1/32 { closeOne(active) }          // its young fields set to nil
//!         work()
//!     }
//! }
//! ```
//!
//! The GC question: how a generational (or any remembered-set) collector
//! copes with old-to-young pointers. The old table is built first and never
//! changes shape; then every allocation is stored straight into a field of
//! an old object through the write barrier, so every young block is reached
//! only through the old generation: a collector must remember those slots
//! (card marking, remembered sets, a sticky mark bit's logging barrier) and
//! scan them at each minor collection. Each young block is replaced soon —
//! after about `active × 3` updates of its worker, or when its session
//! leaves the worker's active set — so almost all of them die young: a
//! collector that tracks the stores precisely reclaims them in the nursery;
//! one that treats every old object as a root rescans the whole table.
//! A quarter of the young blocks also point back to a random session
//! (young-to-old, which needs no remembering).

use super::common::{alloc_table, table_slot, work};
use super::params::{ParamSpec, Params};
use crate::builder::{BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "old-to-young pointers: 50k long-lived objects whose fields keep receiving freshly allocated, soon replaced blocks";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "old_objects",
        50_000,
        1,
        50_000_000,
        "long-lived objects built first (64 bytes, 4 pointer slots each)",
    ),
    ParamSpec::int("updates", 500_000, 0, 2_000_000_000, "young blocks stored into old objects' fields"),
    ParamSpec::int("young_bytes", 64, 8, 1 << 24, "size of each young block (one pointer slot)"),
    ParamSpec::int("workers", 4, 1, 4096, "goroutines doing the updates"),
    ParamSpec::int("active", 16, 1, 1_000_000, "old objects each worker is updating at a time"),
    ParamSpec::int("work_ns", 200, 0, 1_000_000_000, "mean computation per update, ns (0: none)"),
];

/// An old object: slot 0 its own name, slots 1.. the young fields.
const OLD_BYTES: u64 = 64;
const OLD_SLOTS: u32 = 4;
const FIRST_YOUNG_SLOT: u32 = 1;
/// The name string each old object is built with.
const NAME_BYTES: u64 = 24;
/// One update in this many retires one of the worker's active objects.
const RETIRE_ODDS: u32 = 32;
/// One young block in this many gets a pointer back to a random old object.
const BACK_POINTER_ODDS: u32 = 4;
/// A worker does 1 to this many updates before the next worker's turn.
const MAX_RUN: u32 = 4;

/// An old object a worker is busy with, and which of its young fields it
/// filled (bit k: slot k).
#[derive(Clone, Copy)]
struct Active {
    obj: u64,
    filled: u8,
}

/// A worker's `active` old objects, drawn as they are first used: each is
/// a uniformly random old object, independent of the others, so drawing
/// it at its first use is drawing it at the start. Only the entries used so
/// far are held — at most one per update written — so the generator's
/// memory follows the trace it writes, not `workers × active`.
struct ActiveSet {
    size: u64,
    used: HashMap<u64, Active, BuildHasherDefault<IndexHasher>>,
}

impl ActiveSet {
    fn new(size: u64) -> Self {
        ActiveSet { size, used: HashMap::default() }
    }

    /// A random one of the set's objects.
    fn pick(&mut self, rng: &mut ChaCha8Rng, olds: u64) -> &mut Active {
        let i = rng.random_range(0..self.size);
        self.used.entry(i).or_insert_with(|| Active { obj: rng.random_range(0..olds), filled: 0 })
    }

    /// Entries held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.used.len()
    }
}

/// Hashes set indices (random integers) with one multiplication.
#[derive(Default)]
struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Writes the `cache` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let olds = p.get_u64("old_objects");
    let updates = p.get_u64("updates");
    let young_bytes = p.get_u64("young_bytes");
    let workers = p.get_u64("workers") as usize;
    let active = p.get_u64("active");
    let work_ns = p.get_u64("work_ns");
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();

    // The old table, built by main before anything else runs.
    b.call(main, 1, &[])?;
    alloc_table(&mut b, main, olds)?;
    for i in 0..olds {
        b.alloc(main, table_slot(i), OLD_BYTES, OLD_SLOTS, Cause::New, Placement::Auto)?;
        b.alloc(main, table_slot(i).slot(0), NAME_BYTES, 0, Cause::Concat, Placement::Auto)?;
    }

    let mut ws = Vec::with_capacity(workers);
    for w in 0..workers {
        let g = b.go(main, 1, &[])?;
        let share = updates / workers as u64 + u64::from((w as u64) < updates % workers as u64);
        ws.push((g, share, ActiveSet::new(active)));
    }

    let young_slots = FIRST_YOUNG_SLOT..OLD_SLOTS;
    let mut turn = 0;
    while !ws.is_empty() {
        turn %= ws.len();
        let (g, left, set) = &mut ws[turn];
        let g = *g;
        for _ in 0..rng.random_range(1..=MAX_RUN) {
            if *left == 0 {
                break;
            }
            *left -= 1;
            let a = set.pick(&mut rng, olds);
            let k = rng.random_range(young_slots.clone());
            // s.last[k] = &Event{...}: an old-to-young store.
            let field = table_slot(a.obj).slot(k);
            b.alloc(g, field.clone(), young_bytes, 1, Cause::New, Placement::Auto)?;
            a.filled |= 1 << k;
            if rng.random_ratio(1, BACK_POINTER_ODDS) {
                let other = table_slot(rng.random_range(0..olds));
                b.set(g, field.slot(0), other.into())?;
            }
            if rng.random_ratio(1, RETIRE_ODDS) {
                // The session closes: its young fields go, another takes its place.
                let a = set.pick(&mut rng, olds);
                for k in young_slots.clone().filter(|k| a.filled & (1 << k) != 0) {
                    b.set(g, table_slot(a.obj).slot(k), NIL)?;
                }
                *a = Active { obj: rng.random_range(0..olds), filled: 0 };
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
    fn an_active_set_holds_only_the_objects_it_handed_out() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut set = ActiveSet::new(1_000_000);
        for _ in 0..10 {
            let a = set.pick(&mut rng, 50);
            assert!(a.obj < 50);
        }
        assert!(set.held() <= 10, "{} entries held for 10 picks", set.held());
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let small = [("old_objects", "500"), ("updates", "5000")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[
                ("old_objects", "1"),
                ("updates", "40"),
                ("young_bytes", "8"),
                ("workers", "1"),
                ("active", "1"),
                ("work_ns", "0"),
            ],
            &[
                ("old_objects", "9000"),
                ("updates", "1000000"),
                ("young_bytes", "512"),
                ("workers", "32"),
                ("active", "200"),
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
    fn young_blocks_are_stored_into_much_older_blocks_and_die_young() {
        let (olds, updates) = (2000u64, 20_000u64);
        let t = build(&params(5, &[("old_objects", "2000"), ("updates", "20000")]));
        let a = analyze(&t).unwrap();
        let places = a.placements(false);
        let d = death_times(&a, places);
        // Everything main allocated is old; workers' blocks are young.
        let main = a.goroutines[0].id;
        let first_update = t.events.iter().position(|e| e.g != main && !matches!(e.op, Op::Work { .. })).unwrap();
        let mut old_to_young = 0;
        let mut much_older = 0;
        let mut young = 0;
        let mut dead_soon = 0;
        let derefs = a.derefs_by_event();
        for (i, e) in t.events.iter().enumerate() {
            let Op::Alloc { dst, block, .. } = &e.op else {
                continue;
            };
            if e.g == main {
                continue;
            }
            young += 1;
            assert_eq!(places[block.0 as usize], Place::Heap);
            // The block holding the destination slot: the last one dereferenced.
            let holder = *derefs[i].last().expect("stored into a slot");
            let born = a.blocks[holder.0 as usize].alloc_event as usize;
            assert!(!dst.path.is_empty());
            old_to_young += u64::from(born < first_update);
            much_older += u64::from(i - born > 1000);
            if d.death[block.0 as usize].is_some_and(|x| (x as usize) - i < t.events.len() / 10) {
                dead_soon += 1;
            }
        }
        assert_eq!(young, updates);
        assert_eq!(old_to_young, updates, "every young block goes into an object built before the updates");
        assert!(much_older * 10 > updates * 9, "{much_older} of {updates} stores span over 1000 events");
        assert!(dead_soon * 10 > young * 9, "{dead_soon} of {young} young blocks die within a tenth of the trace");
        assert_eq!(a.blocks.len() as u64, 1 + 1 + 2 * olds + updates);
    }
}

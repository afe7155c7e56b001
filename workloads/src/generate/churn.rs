//! Goroutine churn: many short-lived goroutines that each recurse a little,
//! allocate a little, share a little, and exit.
//!
//! Source: no published benchmark; it is the shape of a Go server handling
//! requests one goroutine each (`net/http` starts a goroutine per
//! connection), bounded by a semaphore. It exercises what a collector sees
//! of goroutines: stacks that grow past Go's 2 KiB minimum (`stackMin`,
//! runtime/stack.go) and are reclaimed whole at exit, many stacks to scan,
//! stack blocks that die with their goroutine, and heap blocks published
//! into a ring that every goroutine writes and reads. In Go:
//!
//! ```go
//! type Config struct{ /* 64 bytes, no pointers */ }
//! type Item struct{ cfg *Config; ... }              // 16..256 bytes, 0..4 pointer slots
//! var ring = make([]*Item, ringSize)                // G0: a heap slice of shared slots
//!
//! func main() {
//!     shared := &Config{}                           // heap: handed to other goroutines
//!     sem := make(chan struct{}, concurrent)
//!     for i := 0; i < goroutines; i++ {
//!         sem <- struct{}{}
//!         go func(cfg *Config) { handle(depth, cfg); <-sem }(shared)
//!     }
//! }
//!
//! func handle(n int, cfg *Config) {
//!     var buf [rand(128..1024) - 48]byte            // non-pointer frame data
//!     if n > 0 { handle(n-1, cfg); return }
//!     for i := 0; i < allocs; i++ {
//!         it := newItem()                           // new / make([]byte) / a string concat
//!         if rand() < escapeRate {
//!             ring[rand(ringSize)] = it             // escapes: heap; replaces another goroutine's item
//!             it.cfg = cfg
//!         } else if it has pointers && rand() < 1/2 {
//!             it.cfg = cfg                          // stays on the stack, dies with the frame
//!         }
//!         if rand() < readRate {
//!             p := ring[rand(ringSize)]             // read another goroutine's item
//!             if p != nil { _ = p.cfg }
//!         }
//!         compute(rand(50..500) ns)
//!     }
//! }
//! ```
//!
//! # As a trace
//!
//! `main` (`g1`) allocates the ring into `G0` and `shared` into its `l0`,
//! then keeps `concurrent` goroutines running: `go gK 4 l0` whenever one has
//! exited. Every goroutine's frames have four locals (l0 `cfg`, l1 the
//! current item, l2 a ring pointer read, l3 scratch); its `depth` nested
//! `handle` calls have random sizes from [`FRAME_MIN_BYTES`] to
//! [`FRAME_MAX_BYTES`], so with the default 8 the stack grows past 2 KiB.
//! The deepest call allocates: items that stay local (placement `auto`, kept
//! on the stack by escape analysis) overwrite each other in l1; items
//! published with `alloc G0.k ...` escape into the ring (heap), and the store
//! `set G0.k.0 l0` into them goes through the write barrier. Reads
//! `set l2 G0.j` and `set l3 l2.0` follow another goroutine's item: the
//! analysis makes them wait for its store in a parallel replay. Then the
//! calls return and the goroutine exits, its stack reclaimed whole.
//!
//! The live goroutines' events are interleaved in trace order: a round-robin
//! over them, each running 1 to [`RUN_MAX`] steps (a step is one to three
//! events) at a time, so they run concurrently in a replay. The generator
//! keeps only the live goroutines' state and which ring slots hold an item:
//! its memory does not depend on `goroutines`.
//!
//! At the defaults: 10,000 goroutines, 200,000 items, 690,374 events.

use super::params::{ParamSpec, Params};
use crate::builder::{gl, l, BuildError, Builder, EventSink};
use crate::model::{Cause, GoroutineId, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// One line for listings.
pub const SUMMARY: &str = "many short goroutines (64 at a time): a pointer argument, a few big frames \
     (stacks past 2 KiB), small blocks that mostly die, some published to a shared global ring";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("goroutines", 10_000, 1, 100_000_000, "goroutines started by main in all"),
    ParamSpec::int("concurrent", 64, 1, 100_000, "goroutines running at once (main starts one whenever one exits)"),
    ParamSpec::int("depth", 8, 0, 10_000, "nested calls of each goroutine before it allocates"),
    ParamSpec::int("allocs", 20, 0, 1_000_000, "small blocks each goroutine allocates"),
    ParamSpec::real("escape_rate", 0.1, 0.0, 1.0, "fraction of the blocks published into the shared ring (heap)"),
    ParamSpec::real("read_rate", 0.2, 0.0, 1.0, "probability, per block, of reading a ring slot and following it"),
    ParamSpec::int("ring", 256, 1, 1 << 20, "slots of the shared ring (G0)"),
];

/// The locals of every frame: `cfg`, the current item, a ring pointer read,
/// scratch.
const LOCALS: u32 = 4;
const CFG: u32 = 0;
const ITEM: u32 = 1;
const PEEK: u32 = 2;
const SCRATCH: u32 = 3;
/// `handle`'s frame sizes: 128 B to 1 KiB (word multiples), so that the
/// default 8 nested calls average about 4.6 KiB, past Go's 2 KiB `stackMin`.
pub const FRAME_MIN_BYTES: u64 = 128;
pub const FRAME_MAX_BYTES: u64 = 1024;
/// `Config`: 64 bytes of settings, no pointers.
const CONFIG_BYTES: u64 = 64;
/// Items are 16 to 256 bytes (word multiples) with up to 4 pointer slots.
const ITEM_MIN_WORDS: u64 = 2;
const ITEM_MAX_WORDS: u64 = 32;
const ITEM_MAX_SLOTS: u64 = 4;
/// Computation after each item, in nanoseconds.
const WORK_MIN_NS: u64 = 50;
const WORK_MAX_NS: u64 = 500;
/// The longest run of one goroutine's steps before the next goroutine's.
pub const RUN_MAX: u32 = 8;

/// What a goroutine does next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The next `call` (`level` calls made so far).
    Down,
    /// The next item (`done` items made so far).
    Alloc,
    /// The next `ret`.
    Up,
    Exit,
}

struct Worker {
    g: GoroutineId,
    phase: Phase,
    /// Frames pushed above the goroutine's base frame.
    level: u32,
    /// Items allocated.
    done: u64,
}

/// The generator's state: the parameters, the random source and the shared
/// ring's occupancy (pointer slots of the item in each ring slot, if any).
struct Churn {
    depth: u32,
    allocs: u64,
    escape_rate: f64,
    read_rate: f64,
    rng: ChaCha8Rng,
    ring: Vec<Option<u32>>,
}

impl Churn {
    /// Emits `w`'s next step (one to three events); true when it has exited.
    fn step<S: EventSink>(&mut self, b: &mut Builder<S>, w: &mut Worker) -> Result<bool, BuildError> {
        let g = w.g;
        match w.phase {
            Phase::Down if w.level < self.depth => {
                let words = self.rng.random_range(FRAME_MIN_BYTES / 8..=FRAME_MAX_BYTES / 8);
                b.call_sized(g, LOCALS, words * 8, &[l(CFG).into()])?;
                w.level += 1;
            }
            Phase::Down => {
                w.phase = Phase::Alloc;
                return self.step(b, w);
            }
            Phase::Alloc if w.done < self.allocs => {
                self.item(b, g)?;
                w.done += 1;
            }
            Phase::Alloc => {
                w.phase = Phase::Up;
                return self.step(b, w);
            }
            Phase::Up if w.level > 0 => {
                b.ret(g)?;
                w.level -= 1;
            }
            Phase::Up => {
                w.phase = Phase::Exit;
                return self.step(b, w);
            }
            Phase::Exit => {
                b.exit(g)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One item: allocate it (locally or into the ring), maybe link it to
    /// `cfg`, maybe read a ring slot, compute.
    fn item<S: EventSink>(&mut self, b: &mut Builder<S>, g: GoroutineId) -> Result<(), BuildError> {
        let words = self.rng.random_range(ITEM_MIN_WORDS..=ITEM_MAX_WORDS);
        let slots = self.rng.random_range(0..=ITEM_MAX_SLOTS.min(words)) as u32;
        let cause = match self.rng.random_range(0..10u32) {
            0..=5 => Cause::New,
            6..=7 => Cause::MakeSlice,
            _ => Cause::Concat,
        };
        // Slices and strings of bytes hold no pointers.
        let slots = if cause == Cause::New { slots } else { 0 };
        if self.rng.random_bool(self.escape_rate) {
            let k = self.rng.random_range(0..self.ring.len() as u32);
            b.alloc(g, gl(0).slot(k), words * 8, slots, cause, Placement::Auto)?;
            if slots > 0 {
                b.set(g, gl(0).slot(k).slot(0), l(CFG).into())?;
            }
            self.ring[k as usize] = Some(slots);
        } else {
            b.alloc(g, l(ITEM), words * 8, slots, cause, Placement::Auto)?;
            if slots > 0 && self.rng.random_bool(0.5) {
                b.set(g, l(ITEM).slot(0), l(CFG).into())?;
            }
        }
        if self.rng.random_bool(self.read_rate) {
            let j = self.rng.random_range(0..self.ring.len() as u32);
            if let Some(s) = self.ring[j as usize] {
                b.set(g, l(PEEK), gl(0).slot(j).into())?;
                if s > 0 {
                    b.set(g, l(SCRATCH), l(PEEK).slot(0).into())?;
                }
            }
        }
        b.work(g, self.rng.random_range(WORK_MIN_NS..=WORK_MAX_NS))
    }
}

/// Writes the churn workload with the parameters `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let total = p.get_u64("goroutines");
    let concurrent = p.get_u64("concurrent").max(1) as usize;
    let ring = p.get_u64("ring").max(1) as usize;
    let mut c = Churn {
        depth: p.get_u64("depth") as u32,
        allocs: p.get_u64("allocs"),
        escape_rate: p.get("escape_rate").clamp(0.0, 1.0),
        read_rate: p.get("read_rate").clamp(0.0, 1.0),
        rng: ChaCha8Rng::seed_from_u64(p.seed),
        ring: vec![None; ring],
    };
    let mut b = Builder::new(sink, 1)?;
    let main = b.main();
    // main's locals: l0 shared.
    b.call(main, 1, &[])?;
    b.alloc(main, gl(0), 8 * ring as u64, ring as u32, Cause::MakeSlice, Placement::Auto)?;
    b.alloc(main, l(0), CONFIG_BYTES, 0, Cause::New, Placement::Auto)?;
    let mut live: VecDeque<Worker> = VecDeque::with_capacity(concurrent);
    let mut started = 0;
    loop {
        // sem <- struct{}{}; go handle(depth, shared)
        while live.len() < concurrent && started < total {
            let g = b.go(main, LOCALS, &[l(0).into()])?;
            live.push_back(Worker { g, phase: Phase::Down, level: 0, done: 0 });
            started += 1;
        }
        let Some(mut w) = live.pop_front() else { break };
        let run = c.rng.random_range(1..=RUN_MAX);
        let mut exited = false;
        for _ in 0..run {
            if c.step(&mut b, &mut w)? {
                exited = true;
                break;
            }
        }
        if !exited {
            live.push_back(w);
        }
    }
    b.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Place};
    use crate::builder::MemorySink;
    use crate::model::{Op, Root, Trace};
    use std::collections::{HashMap, HashSet};

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

    const SMALL: &[(&str, &str)] = &[("goroutines", "50"), ("concurrent", "4"), ("depth", "2"), ("allocs", "5")];
    const LARGE: &[(&str, &str)] = &[
        ("goroutines", "3000"),
        ("concurrent", "500"),
        ("depth", "40"),
        ("allocs", "60"),
        ("ring", "4096"),
        ("escape_rate", "0.3"),
    ];

    /// Per goroutine: spawned, exited, the largest sum of its frame sizes.
    #[derive(Default)]
    struct Life {
        spawned: bool,
        exited: bool,
        frames: Vec<u64>,
        max_stack: u64,
    }

    fn lives(t: &Trace) -> HashMap<u32, Life> {
        let mut gs: HashMap<u32, Life> = HashMap::new();
        let bytes = |locals: u32, fb: Option<u64>| fb.unwrap_or(16 + 8 * u64::from(locals));
        for e in &t.events {
            match &e.op {
                Op::Go { child, locals, frame_bytes, .. } => {
                    let f = bytes(*locals, *frame_bytes);
                    let c = gs.entry(child.0).or_default();
                    assert!(!c.spawned, "g{} spawned twice", child.0);
                    c.spawned = true;
                    c.frames.push(f);
                    c.max_stack = f;
                }
                Op::Call { locals, frame_bytes, .. } => {
                    let s = gs.entry(e.g.0).or_default();
                    s.frames.push(bytes(*locals, *frame_bytes));
                    s.max_stack = s.max_stack.max(s.frames.iter().sum());
                }
                Op::Ret { .. } => {
                    gs.get_mut(&e.g.0).unwrap().frames.pop();
                }
                Op::Exit => {
                    let s = gs.get_mut(&e.g.0).unwrap();
                    s.exited = true;
                    s.frames.clear();
                }
                _ => {}
            }
        }
        gs
    }

    #[test]
    fn churn_is_deterministic() {
        let p = params(3, SMALL);
        let t = trace(&p);
        assert_eq!(t, trace(&p));
        assert_ne!(t.events, trace(&params(4, SMALL)).events);
    }

    #[test]
    fn churn_every_goroutine_exits_and_stacks_grow_past_2_kib() {
        for (set, goroutines) in [(SMALL, 50), (&[][..], 10_000), (LARGE, 3000)] {
            let t = trace(&params(1, set));
            let gs = lives(&t);
            let workers: Vec<_> = gs.iter().filter(|(g, _)| **g != 1).collect();
            assert_eq!(workers.len(), goroutines, "{set:?}");
            assert!(workers.iter().all(|(_, l)| l.spawned && l.exited && l.frames.is_empty()), "{set:?}");
            let max = workers.iter().map(|(_, l)| l.max_stack).max().unwrap();
            if set != SMALL {
                assert!(max > 2048, "{set:?}: deepest stack {max} bytes");
            }
        }
    }

    #[test]
    fn churn_runs_goroutines_concurrently_and_shares_the_ring() {
        let p = params(2, &[]);
        let t = trace(&p);
        // At most `concurrent` workers at once, and that many reached.
        let (mut now, mut peak) = (0i64, 0i64);
        for e in &t.events {
            match e.op {
                Op::Go { .. } => now += 1,
                Op::Exit => now -= 1,
                _ => {}
            }
            peak = peak.max(now);
        }
        assert_eq!(peak, 64);
        // Ring slots written by several goroutines.
        let mut writers: HashMap<u32, HashSet<u32>> = HashMap::new();
        for e in &t.events {
            let dst = match &e.op {
                Op::Alloc { dst, .. } | Op::Set { dst, .. } => dst,
                _ => continue,
            };
            if dst.root == Root::Global(0) && dst.path.len() == 1 {
                writers.entry(dst.path[0]).or_default().insert(e.g.0);
            }
        }
        assert!(writers.values().filter(|w| w.len() > 1).count() > 200, "most slots shared");
        // ... and read by goroutines that did not write them: cross-goroutine dependencies.
        let a = analyze(&t).unwrap();
        let deps = a.deps_by_event();
        let waits = (0..t.events.len()).filter(|&i| !deps[i].is_empty()).count();
        assert!(waits > 1000, "{waits} events wait for another goroutine");
        // Ring items on the heap, most of the rest on stacks.
        let place = a.placements(false);
        let heap = place.iter().filter(|p| **p == Place::Heap).count();
        assert!(heap > 10_000 && heap < place.len() / 3, "{heap} of {}", place.len());
    }

    #[test]
    fn churn_traces_are_sound_at_small_default_and_large_parameters() {
        for set in [SMALL, &[][..], LARGE, &[("depth", "0"), ("allocs", "0"), ("goroutines", "10")]] {
            let t = trace(&params(5, set));
            let s = super::super::check::check(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
            assert_eq!(s.exits + 1, s.goroutines, "{set:?}: every goroutine but main exits");
            analyze(&t).unwrap_or_else(|e| panic!("{set:?}: {e}"));
        }
    }

    #[test]
    fn churn_default_size() {
        let t = trace(&params(1, &[]));
        let allocs = t.events.iter().filter(|e| matches!(e.op, Op::Alloc { .. })).count();
        assert_eq!(allocs, 2 + 10_000 * 20);
        assert_eq!(t.events.len(), 690_374);
    }
}

//! Pass 2: the death-time oracle — exactly when each block becomes
//! unreachable, and the peak live heap that follows from it.
//!
//! # What it computes
//!
//! With placements known, [`death_times`] runs the trace through a
//! [`Machine`] and gives, per block, `death[b] = Some(i)` where event `i` is
//! the one after which `b` is unreachable for the first time, or `None` if
//! `b` is still reachable after the last event. A stack block dies when its
//! frame is popped (`ret`, or `exit`, which pops every frame). A heap block
//! dies when the last chain of pointers from the roots (globals, the locals of
//! live frames, the slots of stack blocks of live frames) to it is broken.
//!
//! # No resurrection
//!
//! Once unreachable, a block stays unreachable: a goroutine reaches blocks
//! only through its locals and the globals, a store copies a value read from a
//! reachable location (or a fresh block), and `go` hands the child values its
//! parent read. So no event can create a pointer to an unreachable block, and
//! no event can write into one either — which means the pointer graph among
//! dead blocks is frozen from their deaths on. Both facts carry the method
//! below.
//!
//! # Merlin's method
//!
//! From Hertz, Blackburn, Moss, McKinley and Stefanović, "Generating object
//! lifetime traces with Merlin", ACM TOPLAS 28(3), 2006. Recomputing
//! reachability after every event would cost O(events × heap). Merlin
//! instead timestamps: `ts[b]` is the last event that removed a reference to
//! `b` — an overwrite of a location holding it, the pop of a frame whose
//! locals or stack blocks' slots held it, an `exit` — or `b`'s allocation.
//! Every now and then (when the allocations since the last check reach the
//! live work — heap blocks not yet found dead plus root words — and at least
//! [`MIN_ALLOCS_BETWEEN_CHECKS`]), and once after the last event, the oracle
//! computes the reachable set; for the heap blocks newly found unreachable,
//!
//! ```text
//! death[b] = max { ts[p] : p newly dead, p reaches b among the newly dead }
//! ```
//!
//! computed by visiting the newly dead in decreasing `ts` order and
//! propagating each one's `ts` along pointers to newly dead successors not yet
//! given a time (the first visit carries the largest value). Cost: the
//! trace of the live graph is paid for by as many allocations, and each dead
//! block is visited once, so the whole oracle is amortized O(events + slots)
//! plus a sort of each batch of the dead.
//!
//! Why it is exact. (death ≤ max) At event `d = death[b]` a root path to
//! `b` existed just before and none after; take on that path the last
//! reference `d` removed. It pointed to some `p`, so `ts[p] = d`; the rest of
//! the path from `p` to `b` survived `d`, so `p` is dead, reaches `b`, and
//! keeps both its `ts` and that path (the dead graph is frozen). That rest
//! holds no stack block: a live one is a root (then `b` would be reachable),
//! one popped before `d` cannot be on a root path (escape analysis), and
//! popping one at `d` removes its outgoing references (then a later reference
//! on the path was removed). (death ≥ max) A block written by an event is
//! reachable after it, so a dead block's slots are those it had while last
//! reachable: along a dead edge `x -> y`, `y` was reachable when `x` last
//! was, so `death[y] ≥ death[x]`; and `ts[p] ≤ death[p]`, since a reference to
//! `p` can only be removed while `p` is reachable. Blocks found dead at an
//! earlier check died before `b` was last seen reachable, so they cannot
//! raise the maximum and are left out. The argument does not depend
//! on when the checks run: [`death_times_with`] runs them as often as asked
//! and the answer is the same.

use super::machine::{block_of, Machine, Observer, NIL};
use super::{BlockInfo, Place, PreparedTrace};
use std::cmp::Reverse;

/// A death time meaning "not dead (yet)".
const ALIVE: u32 = u32::MAX;

/// The least number of allocations between two reachability checks.
pub const MIN_ALLOCS_BETWEEN_CHECKS: u64 = 1024;

/// The oracle's answer for one trace and one placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deaths {
    /// Per block: the event after which it is unreachable for the first
    /// time; `None` if still reachable after the last event.
    pub death: Vec<Option<u32>>,
    /// The largest total declared size of heap blocks allocated and not yet
    /// dead after any event.
    pub peak_live_heap_bytes: u64,
    /// The first event after which the live heap reaches its peak.
    pub peak_live_heap_event: u32,
    pub heap_blocks: u64,
    pub stack_blocks: u64,
    pub heap_bytes: u64,
    pub stack_bytes: u64,
}

/// Exact death times of every block of a trace validated by
/// [`super::analyze`], under `placements` ([`PreparedTrace::placements`]).
pub fn death_times(prepared: &PreparedTrace, placements: &[Place]) -> Deaths {
    death_times_with(prepared, placements, MIN_ALLOCS_BETWEEN_CHECKS)
}

/// [`death_times`] with a chosen check schedule: a reachability check runs
/// once the allocations since the last one reach both `min_allocs` and the
/// live work; `min_allocs == 0` checks after every event. The result does not
/// depend on the schedule (tests compare schedules; benchmarks time them).
pub fn death_times_with(prepared: &PreparedTrace, placements: &[Place], min_allocs: u64) -> Deaths {
    let n = prepared.blocks.len();
    let mut machine = Machine::new(prepared, placements);
    let mut st = Stamps {
        event: 0,
        ts: vec![0; n],
        death: vec![ALIVE; n],
        placements,
        blocks: &prepared.blocks,
        live_heap: Vec::new(),
        born_from: 0,
        dead_in_order: Vec::new(),
        live_bytes: 0,
        peak: (0, 0),
        allocs_since: 0,
    };
    let mut check = Checker { marks: vec![0; n], epoch: 0, stack: Vec::new(), dead: Vec::new() };
    let mut i = 0u32;
    prepared.for_each_run(|g, n| {
        for _ in 0..n {
            st.event = i;
            i += 1;
            machine.apply_observed(g as usize, &mut st);
            let due = if min_allocs == 0 {
                true
            } else {
                st.allocs_since >= min_allocs.max((st.live_heap.len() + machine.root_words()) as u64)
            };
            if due {
                check.run(&machine, &mut st);
            }
        }
    });
    check.run(&machine, &mut st);
    drop((machine, check));
    let Stamps { death, peak, .. } = st;
    let death = death.into_iter().map(|d| (d != ALIVE).then_some(d)).collect();
    summarize(prepared, placements, death, peak)
}

/// The observer keeping Merlin's timestamps.
struct Stamps<'p> {
    /// The event being applied.
    event: u32,
    ts: Vec<u32>,
    /// The death time, or [`ALIVE`] (4 bytes a block while the oracle runs).
    death: Vec<u32>,
    placements: &'p [Place],
    blocks: &'p [BlockInfo],
    /// Heap blocks allocated and not yet found dead, in order of birth;
    /// those from `born_from` on were born since the last check.
    live_heap: Vec<u32>,
    born_from: usize,
    /// The heap blocks found dead by the current check, in order of death.
    dead_in_order: Vec<u32>,
    /// The live heap as of the last check's accounting, and its peak.
    live_bytes: u64,
    peak: (u64, u32),
    allocs_since: u64,
}

impl Observer for Stamps<'_> {
    #[inline(always)]
    fn dropped(&mut self, v: u64) {
        if v != NIL {
            self.ts[block_of(v) as usize] = self.event;
        }
    }

    #[inline]
    fn born(&mut self, b: u32) {
        self.ts[b as usize] = self.event;
        if self.placements[b as usize] == Place::Heap {
            self.live_heap.push(b);
        }
        self.allocs_since += 1;
    }

    #[inline]
    fn stack_died(&mut self, b: u32) {
        self.death[b as usize] = self.event;
    }
}

/// Scratch space of the reachability checks.
struct Checker {
    /// `marks[b] == epoch`: reachable at this check; `== epoch + 1`: newly
    /// found dead at this check.
    marks: Vec<u8>,
    epoch: u8,
    stack: Vec<u32>,
    dead: Vec<u32>,
}

impl Checker {
    /// One check: finds the newly dead heap blocks and gives them their
    /// death times.
    fn run(&mut self, m: &Machine<'_>, st: &mut Stamps<'_>) {
        st.allocs_since = 0;
        // Marks are a byte a block: when the epochs run out, start again
        // from cleared marks.
        if self.epoch >= u8::MAX - 2 {
            self.marks.fill(0);
            self.epoch = 0;
        }
        self.epoch += 2;
        let (live, dead_flag) = (self.epoch, self.epoch + 1);
        m.mark(&mut self.marks, live, &mut self.stack);
        self.dead.clear();
        for &b in &st.live_heap {
            if self.marks[b as usize] != live {
                self.marks[b as usize] = dead_flag;
                self.dead.push(b);
            }
        }
        // Latest `ts` first, sorted in place: a batch can hold every heap
        // block of the trace (the last check finds all that died since the
        // one before), so it is not copied.
        let ts = &st.ts;
        self.dead.sort_unstable_by_key(|&b| Reverse(ts[b as usize]));
        // Blocks are given their times in non-increasing order (each gets
        // the `ts` of the first, latest, dead block that reaches it): listed
        // as they are given one, the batch is in order of death backwards.
        st.dead_in_order.clear();
        for &p in &self.dead {
            if st.death[p as usize] != ALIVE {
                continue;
            }
            let d = st.ts[p as usize];
            st.death[p as usize] = d;
            st.dead_in_order.push(p);
            self.stack.clear();
            self.stack.push(p);
            while let Some(x) = self.stack.pop() {
                for &v in m.slots_of(x) {
                    if v != NIL {
                        let q = block_of(v) as usize;
                        if self.marks[q] == dead_flag && st.death[q] == ALIVE {
                            st.death[q] = d;
                            st.dead_in_order.push(q as u32);
                            self.stack.push(q as u32);
                        }
                    }
                }
            }
        }
        st.dead_in_order.reverse();
        st.account();
        let marks = &self.marks;
        st.live_heap.retain(|&b| marks[b as usize] == live);
        st.born_from = st.live_heap.len();
    }
}

impl Stamps<'_> {
    /// The live heap between the last check and this one, at every birth
    /// of a heap block, from the births since the last check and the deaths
    /// this check found (both in event order): the peak can only be right
    /// after a birth. Every block found dead now died after the last check,
    /// where it was reachable, and before this one, so walking the checks'
    /// intervals in turn walks all births and deaths in event order.
    fn account(&mut self) {
        let (blocks, death) = (self.blocks, &self.death);
        let (born, dead) = (&self.live_heap[self.born_from..], &self.dead_in_order);
        let (mut i, mut j) = (0, 0);
        let mut cur = self.live_bytes;
        while i < born.len() {
            let e = blocks[born[i] as usize].alloc_event;
            // Deaths before this birth only lower the live heap.
            while j < dead.len() && death[dead[j] as usize] < e {
                cur -= blocks[dead[j] as usize].size;
                j += 1;
            }
            while i < born.len() && blocks[born[i] as usize].alloc_event == e {
                cur += blocks[born[i] as usize].size;
                i += 1;
            }
            while j < dead.len() && death[dead[j] as usize] == e {
                cur -= blocks[dead[j] as usize].size;
                j += 1;
            }
            if cur > self.peak.0 {
                self.peak = (cur, e);
            }
        }
        for &b in &dead[j..] {
            cur -= blocks[b as usize].size;
        }
        self.live_bytes = cur;
    }
}

/// Counts per placement, with the peak live heap `peak` (bytes, event)
/// found as the checks ran.
fn summarize(prepared: &PreparedTrace, placements: &[Place], death: Vec<Option<u32>>, peak: (u64, u32)) -> Deaths {
    let mut out = Deaths {
        death,
        peak_live_heap_bytes: peak.0,
        peak_live_heap_event: peak.1,
        heap_blocks: 0,
        stack_blocks: 0,
        heap_bytes: 0,
        stack_bytes: 0,
    };
    for (b, info) in prepared.blocks.iter().enumerate() {
        match placements[b] {
            Place::Stack => {
                out.stack_blocks += 1;
                out.stack_bytes += info.size;
            }
            Place::Heap => {
                out.heap_blocks += 1;
                out.heap_bytes += info.size;
            }
        }
    }
    out
}

//! Trace demographics: what a trace is made of, and how long its heap blocks
//! live — the weak generational hypothesis made visible.
//!
//! [`demographics`] takes a validated trace, its [`Analysis`], the
//! placements and the oracle's [`Deaths`] and counts, in one pass over the
//! events and one over the blocks (O(events + blocks)):
//! - events by [`EventKind`], goroutines (in all and at most at once),
//!   globals;
//! - allocations and bytes per [`Cause`] × [`Place`] ([`AllocTally`]);
//! - the live heap: its peak, and its mean over two clocks (see below), and
//!   the peak of live stack-block bytes;
//! - the lifetime of every heap block, measured in bytes allocated, as a
//!   log2 histogram ([`LifetimeHistogram`]) and as the fractions of heap
//!   blocks and heap bytes that die within 1 KiB, 1 MiB and 10 MiB of their
//!   allocation ([`DieWithin`]).
//!
//! # Definitions
//!
//! Event `i` is the `i`-th event of the trace in trace order (0-based). A
//! block is *live after event `i`* when it was allocated at an event `≤ i`
//! and its death (the oracle's [`Deaths::death`]: the event after which it is
//! unreachable) is `> i`, or it never dies. Sizes are always the declared
//! `SIZE`s of the trace.
//!
//! - **Live heap after event `i`**: the total size of the heap blocks live
//!   after event `i` (the oracle's definition, so
//!   [`Demographics::peak_live_heap_bytes`] equals
//!   [`Deaths::peak_live_heap_bytes`]).
//! - **Mean live heap over events** ([`Demographics::mean_live_heap_by_event`]):
//!   time measured in events — the live heap after each event, averaged over
//!   all events.
//! - **Mean live heap over bytes allocated**
//!   ([`Demographics::mean_live_heap_by_alloc`]): time measured in heap bytes
//!   allocated — the live heap each allocated heap byte sees at the moment of
//!   its allocation, averaged over all heap bytes allocated. At the `alloc`
//!   event `i` of a heap block of size `s`, the live heap at that moment is
//!   the live heap after event `i − 1` plus `s` (blocks whose death is event
//!   `i` itself still count: the event's store, which may kill them, comes
//!   after the allocation); it is weighted by `s`. This is the live heap a
//!   collector paced by allocation, such as Go's, sees on average. By Little's
//!   law it equals `Σ s_b·(s_b + L_b) / Σ s_b` over heap blocks `b`, with
//!   `L_b` the lifetime below (a unit test checks the identity).
//! - **Lifetime** of a heap block `b` allocated at event `a` that dies at
//!   event `d`: the sum of the declared sizes of the heap blocks allocated at
//!   events strictly after `a` and at or before `d` — the heap allocation the
//!   program did while `b` was live. A block that dies at the event right
//!   after its allocation, with no heap allocation between, has lifetime 0.
//!   When `d` is itself an `alloc` (the new block's address overwrites the
//!   last pointer to `b`), the new block counts: it was allocated while `b`
//!   was still reachable. A block still reachable after the last event is
//!   **immortal**: its lifetime is the heap allocation from after its birth
//!   to the end of the trace (a lower bound of what it would have lived), and
//!   it is counted apart ([`Demographics::immortal_blocks`]).
//! - **Dies within `X` bytes**: the block dies (is not immortal) and its
//!   lifetime is `< X`. The fractions divide by all heap blocks (or all heap
//!   bytes), immortal ones included.

use super::code::Insn;
use super::oracle::Deaths;
use super::{Analysis, Place};
use crate::model::Cause;

/// The kinds of event, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Call,
    Ret,
    Alloc,
    Go,
    Set,
    Work,
    Begin,
    End,
    Exit,
    Gc,
}

impl EventKind {
    /// Every kind, in report order.
    pub const ALL: [EventKind; 10] = [
        EventKind::Call,
        EventKind::Ret,
        EventKind::Alloc,
        EventKind::Go,
        EventKind::Set,
        EventKind::Work,
        EventKind::Begin,
        EventKind::End,
        EventKind::Exit,
        EventKind::Gc,
    ];

    /// The kind of an instruction.
    pub fn of(insn: &Insn<'_>) -> EventKind {
        match insn {
            Insn::Call { .. } => EventKind::Call,
            Insn::Ret { .. } => EventKind::Ret,
            Insn::Alloc { .. } => EventKind::Alloc,
            Insn::Go { .. } => EventKind::Go,
            Insn::Set { .. } => EventKind::Set,
            Insn::Work { .. } => EventKind::Work,
            Insn::Begin { .. } => EventKind::Begin,
            Insn::End { .. } => EventKind::End,
            Insn::Exit => EventKind::Exit,
            Insn::Gc => EventKind::Gc,
        }
    }

    /// The op's spelling in traces (`call`, `ret`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Call => "call",
            EventKind::Ret => "ret",
            EventKind::Alloc => "alloc",
            EventKind::Go => "go",
            EventKind::Set => "set",
            EventKind::Work => "work",
            EventKind::Begin => "begin",
            EventKind::End => "end",
            EventKind::Exit => "exit",
            EventKind::Gc => "gc",
        }
    }

    /// A small dense number for tables indexed by kind.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Allocations of one cause and placement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocTally {
    pub count: u64,
    pub bytes: u64,
}

/// The limits [`Demographics::die_within`] reports, in bytes allocated:
/// 1 KiB, 1 MiB and 10 MiB.
pub const DIE_WITHIN_LIMITS: [u64; 3] = [1 << 10, 1 << 20, 10 << 20];

/// How many heap blocks die within `limit_bytes` of allocation (lifetime
/// `< limit_bytes`, immortal blocks never).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DieWithin {
    pub limit_bytes: u64,
    pub blocks: u64,
    /// Their declared sizes.
    pub bytes: u64,
    /// `blocks` over all heap blocks (0 when there are none).
    pub frac_blocks: f64,
    /// `bytes` over all heap bytes (0 when there are none).
    pub frac_bytes: f64,
}

/// Number of buckets of a [`LifetimeHistogram`]: one for 0, then one for
/// each `[2^k, 2^(k+1))`, `k = 0 .. 63`.
pub const LIFETIME_BUCKETS: usize = 65;

/// Heap-block lifetimes (in bytes allocated) in log2 buckets: bucket 0 holds
/// lifetime 0, bucket `k + 1` lifetimes in `[2^k, 2^(k+1))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifetimeHistogram {
    /// Heap blocks per bucket, immortal ones included.
    pub blocks: [u64; LIFETIME_BUCKETS],
    /// Their declared sizes (bytes of the blocks, not of their lifetimes).
    pub bytes: [u64; LIFETIME_BUCKETS],
    /// The immortal blocks among `blocks`.
    pub immortal: [u64; LIFETIME_BUCKETS],
}

impl Default for LifetimeHistogram {
    fn default() -> Self {
        LifetimeHistogram {
            blocks: [0; LIFETIME_BUCKETS],
            bytes: [0; LIFETIME_BUCKETS],
            immortal: [0; LIFETIME_BUCKETS],
        }
    }
}

impl LifetimeHistogram {
    /// The bucket of a lifetime.
    pub fn bucket_of(lifetime: u64) -> usize {
        if lifetime == 0 {
            0
        } else {
            64 - lifetime.leading_zeros() as usize
        }
    }

    /// The half-open range `[lo, hi)` of bucket `k`; `hi` is `None` for the
    /// last bucket, whose bound 2^64 is beyond a u64.
    pub fn bounds(k: usize) -> (u64, Option<u64>) {
        match k {
            0 => (0, Some(1)),
            _ => (1u64 << (k - 1), 1u64.checked_shl(k as u32)),
        }
    }

    /// The buckets from the first to the last non-empty one (empty when no
    /// block was counted).
    pub fn used(&self) -> std::ops::Range<usize> {
        let first = self.blocks.iter().position(|&n| n > 0);
        let last = self.blocks.iter().rposition(|&n| n > 0);
        match (first, last) {
            (Some(f), Some(l)) => f..l + 1,
            _ => 0..0,
        }
    }

    /// Total blocks counted.
    pub fn total_blocks(&self) -> u64 {
        self.blocks.iter().sum()
    }
}

/// What a trace is made of; see the module docs for the definitions.
#[derive(Clone, Debug, PartialEq)]
pub struct Demographics {
    pub events: u64,
    /// Per [`EventKind::index`].
    pub events_by_kind: [u64; 10],
    /// Goroutines in all, main included.
    pub goroutines: u64,
    /// The most goroutines alive (started and not exited) at once.
    pub peak_goroutines: u64,
    pub globals: u32,
    /// `allocs[cause.index()][place]`, place 0 heap, 1 stack.
    pub allocs: [[AllocTally; 2]; Cause::ALL.len()],
    pub heap_blocks: u64,
    pub heap_bytes: u64,
    pub stack_blocks: u64,
    pub stack_bytes: u64,
    /// The largest live heap after any event.
    pub peak_live_heap_bytes: u64,
    /// The first event after which the live heap is at its peak.
    pub peak_live_heap_event: u32,
    /// Mean live heap, time measured in events.
    pub mean_live_heap_by_event: f64,
    /// Mean live heap, time measured in heap bytes allocated.
    pub mean_live_heap_by_alloc: f64,
    /// The largest total size of live stack blocks after any event.
    pub peak_live_stack_bytes: u64,
    /// The first event after which live stack blocks are at their peak.
    pub peak_live_stack_event: u32,
    /// Heap blocks still reachable after the last event, and their sizes.
    pub immortal_blocks: u64,
    pub immortal_bytes: u64,
    /// Lifetimes of all heap blocks.
    pub lifetimes: LifetimeHistogram,
    /// Per [`DIE_WITHIN_LIMITS`].
    pub die_within: [DieWithin; 3],
}

impl Demographics {
    /// Events of one kind.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.events_by_kind[kind.index()]
    }

    /// Allocations of one cause and placement.
    pub fn tally(&self, cause: Cause, place: Place) -> AllocTally {
        self.allocs[cause.index()][place_index(place)]
    }
}

fn place_index(p: Place) -> usize {
    match p {
        Place::Heap => 0,
        Place::Stack => 1,
    }
}

/// The lifetime of every block in bytes allocated (see the module docs);
/// 0 for stack blocks, which are not measured.
pub fn lifetimes(analysis: &Analysis, placements: &[Place], deaths: &Deaths) -> Vec<u64> {
    let cum = cumulative_heap_bytes(analysis.events(), analysis, placements);
    analysis
        .blocks
        .iter()
        .enumerate()
        .map(|(b, info)| match placements[b] {
            Place::Stack => 0,
            Place::Heap => lifetime(&cum, info.alloc_event, deaths.death[b]),
        })
        .collect()
}

/// `cum[i]`: heap bytes allocated at events `0 ..= i`.
fn cumulative_heap_bytes(events: usize, analysis: &Analysis, placements: &[Place]) -> Vec<u64> {
    let mut cum = vec![0u64; events];
    for (info, p) in analysis.blocks.iter().zip(placements) {
        if *p == Place::Heap {
            cum[info.alloc_event as usize] += info.size;
        }
    }
    let mut acc = 0u64;
    for c in &mut cum {
        acc = acc.saturating_add(*c);
        *c = acc;
    }
    cum
}

fn lifetime(cum: &[u64], alloc_event: u32, death: Option<u32>) -> u64 {
    let end = death.map_or(cum.len() - 1, |d| d as usize);
    cum[end].saturating_sub(cum[alloc_event as usize])
}

/// The demographics of a trace validated by [`super::analyze`], under
/// `placements` ([`Analysis::placements`]) and the oracle's `deaths` for those
/// placements ([`super::oracle::death_times`]). O(events + blocks).
pub fn demographics(analysis: &Analysis, placements: &[Place], deaths: &Deaths) -> Demographics {
    let n = analysis.events();
    let nb = analysis.blocks.len();
    assert_eq!(placements.len(), nb, "one placement per block");
    assert_eq!(deaths.death.len(), nb, "one death time per block");

    // Events by kind, and goroutines alive at once (counted by pass 1).
    let events_by_kind = analysis.events_by_kind;
    let peak_goroutines = analysis.peak_goroutines;

    // Per event: heap bytes born, heap bytes dying, and the net change of
    // live stack-block bytes (wrapping, like the oracle: the running sum
    // itself never wraps).
    let mut heap_born = vec![0u64; n];
    let mut heap_dying = vec![0u64; n];
    let mut stack_delta = vec![0u64; n];
    let mut allocs = [[AllocTally::default(); 2]; Cause::ALL.len()];
    let (mut heap_blocks, mut heap_bytes, mut stack_blocks, mut stack_bytes) = (0u64, 0u64, 0u64, 0u64);
    for (b, info) in analysis.blocks.iter().enumerate() {
        let place = placements[b];
        let t = &mut allocs[info.cause.index()][place_index(place)];
        t.count += 1;
        t.bytes += info.size;
        let a = info.alloc_event as usize;
        match place {
            Place::Heap => {
                heap_blocks += 1;
                heap_bytes += info.size;
                heap_born[a] += info.size;
                if let Some(d) = deaths.death[b] {
                    heap_dying[d as usize] += info.size;
                }
            }
            Place::Stack => {
                stack_blocks += 1;
                stack_bytes += info.size;
                stack_delta[a] = stack_delta[a].wrapping_add(info.size);
                if let Some(d) = deaths.death[b] {
                    stack_delta[d as usize] = stack_delta[d as usize].wrapping_sub(info.size);
                }
            }
        }
    }

    // The live series. Sums in u128 so means are exact before the division.
    let (mut live_heap, mut live_stack) = (0u64, 0u64);
    let (mut sum_by_event, mut sum_by_alloc) = (0u128, 0u128);
    let (mut peak_heap, mut peak_heap_event, mut peak_stack, mut peak_stack_event) = (0u64, 0u32, 0u64, 0u32);
    for i in 0..n {
        let s = heap_born[i];
        let at_alloc = live_heap + s;
        sum_by_alloc += s as u128 * at_alloc as u128;
        live_heap = at_alloc - heap_dying[i];
        sum_by_event += live_heap as u128;
        if live_heap > peak_heap {
            (peak_heap, peak_heap_event) = (live_heap, i as u32);
        }
        live_stack = live_stack.wrapping_add(stack_delta[i]);
        if live_stack > peak_stack {
            (peak_stack, peak_stack_event) = (live_stack, i as u32);
        }
    }
    drop((heap_dying, stack_delta));

    // Lifetimes: `heap_born` becomes the cumulative heap allocation.
    let mut cum = heap_born;
    let mut acc = 0u64;
    for c in &mut cum {
        acc = acc.saturating_add(*c);
        *c = acc;
    }
    let mut hist = LifetimeHistogram::default();
    let mut die_within = DIE_WITHIN_LIMITS.map(|limit_bytes| DieWithin { limit_bytes, ..DieWithin::default() });
    let (mut immortal_blocks, mut immortal_bytes) = (0u64, 0u64);
    for (b, info) in analysis.blocks.iter().enumerate() {
        if placements[b] != Place::Heap {
            continue;
        }
        let death = deaths.death[b];
        let l = lifetime(&cum, info.alloc_event, death);
        let k = LifetimeHistogram::bucket_of(l);
        hist.blocks[k] += 1;
        hist.bytes[k] += info.size;
        if death.is_none() {
            hist.immortal[k] += 1;
            immortal_blocks += 1;
            immortal_bytes += info.size;
            continue;
        }
        for w in &mut die_within {
            if l < w.limit_bytes {
                w.blocks += 1;
                w.bytes += info.size;
            }
        }
    }
    for w in &mut die_within {
        w.frac_blocks = ratio(w.blocks as f64, heap_blocks as f64);
        w.frac_bytes = ratio(w.bytes as f64, heap_bytes as f64);
    }

    Demographics {
        events: n as u64,
        events_by_kind,
        goroutines: analysis.goroutines.len() as u64,
        peak_goroutines,
        globals: analysis.globals,
        allocs,
        heap_blocks,
        heap_bytes,
        stack_blocks,
        stack_bytes,
        peak_live_heap_bytes: peak_heap,
        peak_live_heap_event: peak_heap_event,
        mean_live_heap_by_event: ratio(sum_by_event as f64, n as f64),
        mean_live_heap_by_alloc: ratio(sum_by_alloc as f64, heap_bytes as f64),
        peak_live_stack_bytes: peak_stack,
        peak_live_stack_event: peak_stack_event,
        immortal_blocks,
        immortal_bytes,
        lifetimes: hist,
        die_within,
    }
}

/// `num / den`, 0 when `den` is 0.
fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, oracle::death_times};
    use crate::text::parse_text;

    struct Run {
        analysis: Analysis,
        placements: Vec<Place>,
        deaths: Deaths,
    }

    fn run(src: &str) -> Run {
        let trace = parse_text(src, "test.gct").expect("test trace parses");
        let analysis = analyze(&trace).expect("test trace is sound");
        let placements = analysis.placements(false);
        let deaths = death_times(&analysis, placements);
        Run { placements: placements.to_vec(), analysis, deaths }
    }

    impl Run {
        fn demographics(&self) -> Demographics {
            demographics(&self.analysis, &self.placements, &self.deaths)
        }
        fn lifetimes(&self) -> Vec<u64> {
            lifetimes(&self.analysis, &self.placements, &self.deaths)
        }
    }

    /// Four heap blocks with hand-computed lifetimes (comments: event index).
    const FOUR_DEATHS: &str = "gctrace 1
g1 call 2                       # 0
g1 alloc l0 b0 100 0 new heap   # 1
g1 set l0 nil                   # 2  b0 dies: nothing allocated since, lifetime 0
g1 alloc l0 b1 16 0 new heap    # 3
g1 alloc l1 b2 1000 0 new heap  # 4
g1 alloc l0 b3 8 0 new heap     # 5  b1 dies: b2 + b3 allocated since, lifetime 1008
g1 set l1 nil                   # 6  b2 dies: b3 since, lifetime 8
g1 work 5                       # 7
g1 ret                          # 8  b3 dies: lifetime 0
";

    #[test]
    fn lifetime_counts_heap_bytes_allocated_after_birth_up_to_and_including_the_death_event() {
        let r = run(FOUR_DEATHS);
        assert_eq!(r.deaths.death, vec![Some(2), Some(5), Some(6), Some(8)]);
        assert_eq!(r.lifetimes(), vec![0, 1008, 8, 0]);
    }

    #[test]
    fn live_heap_peak_and_means_on_a_hand_built_trace() {
        let r = run(FOUR_DEATHS);
        let d = r.demographics();
        // Live heap after events 0..=8: 0, 100, 0, 16, 1016, 1008, 8, 8, 0.
        assert_eq!(d.peak_live_heap_bytes, 1016);
        assert_eq!(d.peak_live_heap_event, 4);
        assert_eq!(d.peak_live_heap_bytes, r.deaths.peak_live_heap_bytes);
        assert_eq!(d.mean_live_heap_by_event, (100.0 + 16.0 + 1016.0 + 1008.0 + 8.0 + 8.0) / 9.0);
        // At each allocation: b0 sees 100, b1 16, b2 1016, b3 1016 + 8 (b1
        // dies only after event 5's store); weighted by size over 1124 bytes.
        let by_alloc = (100.0 * 100.0 + 16.0 * 16.0 + 1000.0 * 1016.0 + 8.0 * 1024.0) / 1124.0;
        assert_eq!(d.mean_live_heap_by_alloc, by_alloc);
        assert_eq!((d.peak_live_stack_bytes, d.stack_blocks), (0, 0));
    }

    #[test]
    fn counts_events_allocations_goroutines_and_globals() {
        let d = run(FOUR_DEATHS).demographics();
        assert_eq!(d.events, 9);
        let by_kind: Vec<_> = EventKind::ALL.iter().map(|&k| (k.name(), d.count(k))).filter(|x| x.1 > 0).collect();
        assert_eq!(by_kind, vec![("call", 1), ("ret", 1), ("alloc", 4), ("set", 2), ("work", 1)]);
        assert_eq!(d.events_by_kind.iter().sum::<u64>(), d.events);
        assert_eq!((d.goroutines, d.peak_goroutines, d.globals), (1, 1, 0));
        assert_eq!(d.tally(Cause::New, Place::Heap), AllocTally { count: 4, bytes: 1124 });
        assert_eq!(d.tally(Cause::New, Place::Stack), AllocTally::default());
        assert_eq!((d.heap_blocks, d.heap_bytes, d.immortal_blocks), (4, 1124, 0));
    }

    #[test]
    fn histogram_and_die_within_fractions() {
        let d = run(FOUR_DEATHS).demographics();
        let h = &d.lifetimes;
        // Lifetimes 0 (b0: 100 bytes, b3: 8), 8 (b2: 1000) and 1008 (b1: 16).
        assert_eq!(h.blocks[0], 2);
        assert_eq!(h.bytes[0], 108);
        assert_eq!((h.blocks[4], h.bytes[4]), (1, 1000));
        assert_eq!(LifetimeHistogram::bounds(4), (8, Some(16)));
        assert_eq!((h.blocks[10], h.bytes[10]), (1, 16));
        assert_eq!(LifetimeHistogram::bounds(10), (512, Some(1024)));
        assert_eq!(h.used(), 0..11);
        assert_eq!(h.total_blocks(), 4);
        // All four die within 1 KiB (1008 < 1024).
        for w in d.die_within {
            assert_eq!((w.blocks, w.bytes, w.frac_blocks, w.frac_bytes), (4, 1124, 1.0, 1.0));
        }
    }

    #[test]
    fn die_within_is_strict_and_the_new_block_of_a_killing_alloc_counts() {
        // b0 dies when b1's address overwrites it: lifetime exactly 1024.
        let r = run("gctrace 1
g1 call 1
g1 alloc l0 b0 24 0 new heap
g1 alloc l0 b1 1024 0 make-slice heap
g1 set l0 nil
");
        assert_eq!(r.deaths.death, vec![Some(2), Some(3)]);
        assert_eq!(r.lifetimes(), vec![1024, 0]);
        let d = r.demographics();
        let w1k = d.die_within[0];
        assert_eq!((w1k.limit_bytes, w1k.blocks, w1k.bytes), (1024, 1, 1024));
        assert_eq!((w1k.frac_blocks, w1k.frac_bytes), (0.5, 1024.0 / 1048.0));
        assert_eq!((d.die_within[1].blocks, d.die_within[1].bytes), (2, 1048));
        assert_eq!(d.lifetimes.blocks[LifetimeHistogram::bucket_of(1024)], 1);
        assert_eq!(LifetimeHistogram::bucket_of(1024), 11);
        // Live heap at b1's allocation: 24 + 1024 (b0 dies after the store).
        assert_eq!(d.mean_live_heap_by_alloc, (24.0 * 24.0 + 1024.0 * 1048.0) / 1048.0);
        assert_eq!(d.peak_live_heap_bytes, 1024);
    }

    #[test]
    fn immortal_blocks_are_counted_apart_and_never_die_within() {
        let r = run("gctrace 1
globals 1
g1 call 1
g1 alloc G0 b0 64 0 new heap      # 1  immortal: lifetime 32 + 16
g1 alloc l0 b1 32 0 new heap      # 2
g1 set l0 nil                     # 3  b1 dies: lifetime 0
g1 alloc l0 b2 16 0 new heap      # 4  immortal: lifetime 0
");
        assert_eq!(r.deaths.death, vec![None, Some(3), None]);
        assert_eq!(r.lifetimes(), vec![48, 0, 0]);
        let d = r.demographics();
        assert_eq!((d.immortal_blocks, d.immortal_bytes), (2, 80));
        assert_eq!(d.lifetimes.total_blocks(), 3);
        assert_eq!(d.lifetimes.immortal[0], 1);
        assert_eq!(d.lifetimes.immortal[LifetimeHistogram::bucket_of(48)], 1);
        assert_eq!(d.lifetimes.blocks[0], 2);
        assert_eq!((d.die_within[0].blocks, d.die_within[0].bytes), (1, 32));
        assert_eq!(d.die_within[2].frac_blocks, 1.0 / 3.0);
        assert_eq!(d.globals, 1);
    }

    #[test]
    fn stack_blocks_peak_with_their_frames_and_goroutines_peak_at_once() {
        let r = run("gctrace 1
g1 call 1                          # 0
g1 alloc l0 b0 40 0 var stack      # 1  g1's stack: 40
g1 go g2 1                         # 2
g2 alloc l0 b1 100 0 var stack     # 3  140
g2 call 1                          # 4
g2 alloc l0 b2 200 0 new auto      # 5  340: the peak
g2 ret                             # 6  b2 dies: 140
g1 go g3 0                         # 7  three goroutines at once
g2 exit                            # 8  b1 dies: 40
g3 exit                            # 9
g1 alloc l0 b3 8 0 new heap        # 10
");
        let d = r.demographics();
        assert_eq!(r.placements, vec![Place::Stack, Place::Stack, Place::Stack, Place::Heap]);
        assert_eq!((d.peak_live_stack_bytes, d.peak_live_stack_event), (340, 5));
        assert_eq!((d.stack_blocks, d.stack_bytes), (3, 340));
        assert_eq!(d.tally(Cause::Var, Place::Stack), AllocTally { count: 2, bytes: 140 });
        assert_eq!(d.tally(Cause::New, Place::Stack), AllocTally { count: 1, bytes: 200 });
        assert_eq!(d.tally(Cause::New, Place::Heap), AllocTally { count: 1, bytes: 8 });
        assert_eq!((d.goroutines, d.peak_goroutines), (3, 3));
        assert_eq!((d.count(EventKind::Go), d.count(EventKind::Exit)), (2, 2));
        // Stack blocks are not in the lifetime statistics.
        assert_eq!(d.lifetimes.total_blocks(), 1);
        assert_eq!(d.immortal_blocks, 1);
    }

    #[test]
    fn seed_example_demographics() {
        let r = run(crate::generate::builtin::SEED_EXAMPLE);
        let d = r.demographics();
        assert_eq!(d.events, 20);
        assert_eq!((d.heap_blocks, d.stack_blocks), (4, 1));
        assert_eq!((d.heap_bytes, d.stack_bytes), (128, 8));
        assert_eq!(d.immortal_blocks, 0);
        assert_eq!(d.lifetimes.total_blocks(), 4);
        assert_eq!(d.peak_live_heap_bytes, r.deaths.peak_live_heap_bytes);
        assert_eq!(d.peak_live_stack_bytes, 8);
        assert_eq!(d.die_within[0].frac_blocks, 1.0);
        // b1 (96 bytes) is allocated first and outlives everything after it.
        assert_eq!(r.lifetimes(), vec![32, 16, 8, 0, 0]);
    }

    /// Little's law: the allocation-weighted mean live heap is the
    /// size-weighted mean of (size + lifetime), on a random workload.
    #[test]
    fn mean_by_alloc_obeys_littles_law_and_peak_matches_the_oracle() {
        let cfg = crate::generate::random::RandomConfig { seed: 11, events: 20_000, ..Default::default() };
        let trace = crate::generate::random::random_trace(&cfg);
        let analysis = analyze(&trace).expect("generated traces are sound");
        for no_stack in [false, true] {
            let placements = analysis.placements(no_stack);
            let deaths = death_times(&analysis, placements);
            let d = demographics(&analysis, placements, &deaths);
            let lt = lifetimes(&analysis, placements, &deaths);
            let mut sum = 0u128;
            for (b, info) in analysis.blocks.iter().enumerate() {
                if placements[b] == Place::Heap {
                    sum += info.size as u128 * (info.size + lt[b]) as u128;
                }
            }
            let expect = sum as f64 / d.heap_bytes as f64;
            assert!(
                (d.mean_live_heap_by_alloc - expect).abs() <= 1e-9 * expect,
                "{} vs {expect}",
                d.mean_live_heap_by_alloc
            );
            assert_eq!(d.peak_live_heap_bytes, deaths.peak_live_heap_bytes);
            assert_eq!(d.peak_live_heap_event, deaths.peak_live_heap_event);
            assert_eq!(d.lifetimes.total_blocks(), deaths.heap_blocks);
            assert_eq!((d.heap_bytes, d.stack_bytes), (deaths.heap_bytes, deaths.stack_bytes));
            assert!(d.die_within[0].blocks <= d.die_within[1].blocks);
            assert!(d.die_within[1].blocks <= d.die_within[2].blocks);
            assert!(d.mean_live_heap_by_event <= d.peak_live_heap_bytes as f64);
        }
    }
}

//! The prepared trace: what pass 1 makes of a trace, built once and shared
//! read-only by every replay, the verifier, the oracle and the demographics.
//!
//! # Memory
//!
//! The design budget is about 30 bytes an event. Per event: its instruction
//! in its goroutine's stream ([`super::code`], a few bytes), its goroutine in
//! the trace order (2 bytes while the trace has at most 65,536 goroutines,
//! else 4), its position (about 1 byte, [`super::positions`]), the blocks it
//! dereferences (a varint each, for the verifier) and one bit saying whether
//! another goroutine waits for it. Per block: its [`BlockInfo`]. What only
//! some runs need is computed on first use and kept: the death times per
//! placement ([`PreparedTrace::deaths`]) and each goroutine's events' trace
//! indices ([`PreparedTrace::event_index`], for the verifier).

use super::code::{read_block, Insn, Reader};
use super::oracle::{death_times, Deaths};
use super::positions::Sources;
use super::{BlockInfo, Dep, GoroutineInfo, Place};
use crate::model::BlockIdx;
use std::sync::OnceLock;

/// One goroutine's part of a prepared trace.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Its events as instructions ([`super::code`]), in order.
    pub code: Vec<u8>,
    /// The blocks its events dereference, in evaluation order (varints).
    pub derefs: Vec<u8>,
    /// Bit `seq`: another goroutine waits for its event `seq`.
    pub(super) dep_target: Vec<u64>,
    /// Number of events.
    pub steps: u32,
}

impl Program {
    /// Does another goroutine wait for event `seq` (publish progress after it)?
    #[inline]
    pub fn is_dep_target(&self, seq: u32) -> bool {
        self.dep_target.get(seq as usize / 64).is_some_and(|w| w >> (seq % 64) & 1 != 0)
    }

    pub(super) fn set_dep_target(&mut self, seq: u32) {
        let w = seq as usize / 64;
        if self.dep_target.len() <= w {
            self.dep_target.resize(w + 1, 0);
        }
        self.dep_target[w] |= 1 << (seq % 64);
    }

    fn heap_bytes(&self) -> usize {
        self.code.capacity() + self.derefs.capacity() + self.dep_target.capacity() * 8
    }
}

/// The trace order: the dense goroutine index of each event, one `u16` (or
/// `u32`) an event while it is built; [`Order::compact`] turns it into runs
/// when a goroutine usually runs many events in a row (a single-goroutine
/// trace is then one run).
#[derive(Clone, Debug)]
pub(super) enum Order {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
    /// Run `k` is goroutine `gs[k]` from event `starts[k]` to the next start.
    Runs {
        starts: Vec<u32>,
        gs: Vec<u32>,
        len: usize,
    },
}

impl Default for Order {
    fn default() -> Self {
        Order::Narrow(Vec::new())
    }
}

impl Order {
    #[inline]
    pub(super) fn push(&mut self, g: u32) {
        match self {
            Order::Runs { .. } => unreachable!("runs are made once the order is complete"),
            Order::Narrow(v) if g <= u16::MAX as u32 => v.push(g as u16),
            Order::Narrow(v) => {
                let mut w: Vec<u32> = v.iter().map(|&x| x as u32).collect();
                w.push(g);
                *self = Order::Wide(w);
            }
            Order::Wide(v) => v.push(g),
        }
    }
    #[inline]
    pub(super) fn get(&self, i: usize) -> u32 {
        match self {
            Order::Narrow(v) => v[i] as u32,
            Order::Wide(v) => v[i],
            Order::Runs { starts, gs, len } => {
                assert!(i < *len, "event {i} of {len}");
                gs[starts.partition_point(|&s| s as usize <= i) - 1]
            }
        }
    }
    pub(super) fn len(&self) -> usize {
        match self {
            Order::Narrow(v) => v.len(),
            Order::Wide(v) => v.len(),
            Order::Runs { len, .. } => *len,
        }
    }

    /// Every event's goroutine, in trace order.
    pub(super) fn iter(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        match self {
            Order::Narrow(v) => Box::new(v.iter().map(|&g| g as u32)),
            Order::Wide(v) => Box::new(v.iter().copied()),
            Order::Runs { starts, gs, len } => Box::new((0..starts.len()).flat_map(move |k| {
                let end = starts.get(k + 1).map_or(*len, |&e| e as usize);
                std::iter::repeat_n(gs[k], end - starts[k] as usize)
            })),
        }
    }

    /// Every run of consecutive events of one goroutine, in trace order:
    /// `(goroutine, number of events)`. Cheaper to walk than [`Order::iter`]
    /// when goroutines run many events in a row.
    pub(super) fn for_each_run(&self, mut f: impl FnMut(u32, usize)) {
        match self {
            Order::Runs { starts, gs, len } => {
                for (k, &g) in gs.iter().enumerate() {
                    let end = starts.get(k + 1).map_or(*len, |&e| e as usize);
                    f(g, end - starts[k] as usize);
                }
            }
            _ => {
                let mut run: Option<(u32, usize)> = None;
                for g in self.iter() {
                    match &mut run {
                        Some((h, n)) if *h == g => *n += 1,
                        _ => {
                            if let Some((h, n)) = run {
                                f(h, n);
                            }
                            run = Some((g, 1));
                        }
                    }
                }
                if let Some((h, n)) = run {
                    f(h, n);
                }
            }
        }
    }

    /// Switches to runs when they take less memory (8 bytes a run against
    /// 2 or 4 an event), else gives back the spare capacity.
    pub(super) fn compact(&mut self) {
        let len = self.len();
        let width = match self {
            Order::Narrow(_) => 2,
            Order::Wide(_) => 4,
            Order::Runs { .. } => return,
        };
        let mut runs = 0usize;
        let mut prev = None;
        for g in self.iter() {
            if prev != Some(g) {
                runs += 1;
                prev = Some(g);
            }
        }
        if runs * 8 >= len * width {
            self.shrink_to_fit();
            return;
        }
        let (mut starts, mut gs) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        let mut prev = None;
        for (i, g) in self.iter().enumerate() {
            if prev != Some(g) {
                starts.push(i as u32);
                gs.push(g);
                prev = Some(g);
            }
        }
        *self = Order::Runs { starts, gs, len };
    }
    fn shrink_to_fit(&mut self) {
        match self {
            Order::Narrow(v) => v.shrink_to_fit(),
            Order::Wide(v) => v.shrink_to_fit(),
            Order::Runs { starts, gs, .. } => {
                starts.shrink_to_fit();
                gs.shrink_to_fit();
            }
        }
    }
    fn heap_bytes(&self) -> usize {
        match self {
            Order::Narrow(v) => v.capacity() * 2,
            Order::Wide(v) => v.capacity() * 4,
            Order::Runs { starts, gs, .. } => starts.capacity() * 4 + gs.capacity() * 4,
        }
    }
}

/// A validated, analysed trace in its compact form. See the module comment.
#[derive(Debug)]
pub struct PreparedTrace {
    /// The file the trace came from (`<memory>` when built in memory).
    pub file: String,
    /// Number of package-level pointer variables.
    pub globals: u32,
    /// Per [`BlockIdx`].
    pub blocks: Vec<BlockInfo>,
    /// Dense goroutine index -> info; index 0 is main (`g1`).
    pub goroutines: Vec<GoroutineInfo>,
    /// Per dense goroutine index: its instructions.
    pub programs: Vec<Program>,
    /// Interned span tags, by index.
    pub tags: Vec<String>,
    /// Events per [`super::demographics::EventKind`] (by its `index`).
    pub events_by_kind: [u64; 10],
    /// The most goroutines alive at once (main exists from the start).
    pub peak_goroutines: u64,
    pub(super) order: Order,
    /// Events' positions and blocks' names, for messages.
    pub(super) sources: Sources,
    pub(super) event_index: OnceLock<Vec<Vec<u32>>>,
    pub(super) deaths: [OnceLock<Deaths>; 2],
    pub(super) placements: [OnceLock<Vec<Place>>; 2],
}

impl PreparedTrace {
    /// The dense index of the goroutine that allocated block `b`.
    pub fn block_goroutine(&self, b: BlockIdx) -> u32 {
        self.goroutine_of(self.blocks[b.0 as usize].alloc_event as usize)
    }

    /// Number of events.
    pub fn events(&self) -> usize {
        self.order.len()
    }

    /// The dense goroutine index of event `i` (a binary search when the
    /// order is kept as runs: walk [`PreparedTrace::order`] to visit all).
    #[inline]
    pub fn goroutine_of(&self, i: usize) -> u32 {
        self.order.get(i)
    }

    /// Every event's dense goroutine index, in trace order.
    pub fn order(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter()
    }

    /// The trace order as runs: `f(goroutine, n)` for each stretch of `n`
    /// consecutive events of one goroutine, in trace order.
    pub fn for_each_run(&self, f: impl FnMut(u32, usize)) {
        self.order.for_each_run(f)
    }

    /// The file name used in messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The position of event `i` for messages: its line or byte offset when
    /// known, else its ordinal (`event 12`).
    pub fn pos(&self, i: usize) -> String {
        self.sources.pos(i)
    }

    /// `bN` as written in the trace.
    pub fn block_name(&self, b: BlockIdx) -> String {
        self.sources.block_name(b)
    }

    /// Stack or heap for every block (computed on first use and kept). With
    /// `no_stack` every block is heap.
    pub fn placements(&self, no_stack: bool) -> &[Place] {
        self.placements[no_stack as usize].get_or_init(|| {
            self.blocks.iter().map(|b| if no_stack || b.escapes() { Place::Heap } else { Place::Stack }).collect()
        })
    }

    /// The oracle's death times under the placements `no_stack` selects,
    /// computed on first use and kept.
    pub fn deaths(&self, no_stack: bool) -> &Deaths {
        self.deaths[no_stack as usize].get_or_init(|| death_times(self, self.placements(no_stack)))
    }

    /// The oracle's result for these placements if it has been computed
    /// (or read back from a prepared file), without computing it.
    pub fn deaths_if_known(&self, no_stack: bool) -> Option<&Deaths> {
        self.deaths[no_stack as usize].get()
    }

    /// Per goroutine, the trace indices of its events (computed on first use
    /// and kept: 4 bytes an event; the verifier uses it).
    pub fn event_index(&self) -> &[Vec<u32>] {
        self.event_index.get_or_init(|| {
            let mut idx: Vec<Vec<u32>> = self.programs.iter().map(|p| Vec::with_capacity(p.steps as usize)).collect();
            for (i, g) in self.order().enumerate() {
                idx[g as usize].push(i as u32);
            }
            idx
        })
    }

    /// Goroutine `g`'s events, decoded in order: `(instruction, dependencies)`.
    /// For tests and tools; the replayer decodes as it runs.
    pub fn decode(&self, g: usize) -> Vec<(Insn<'_>, Vec<Dep>)> {
        let p = &self.programs[g];
        let mut r = Reader::default();
        (0..p.steps)
            .map(|_| {
                let mut deps = Vec::new();
                let insn = r.next(&p.code, |goroutine, seq| deps.push(Dep { goroutine, seq }));
                (insn, deps)
            })
            .collect()
    }

    /// Event `i`'s ordinal within its goroutine's events (slow; for tests).
    pub fn seq_of(&self, i: usize) -> u32 {
        let g = self.goroutine_of(i) as usize;
        self.event_index()[g].iter().position(|&e| e as usize == i).expect("event of its goroutine") as u32
    }

    /// Every event's dependencies, by trace index (decodes every program
    /// once; for tests and tools).
    pub fn deps_by_event(&self) -> Vec<Vec<Dep>> {
        let mut out = vec![Vec::new(); self.events()];
        for (g, idx) in self.event_index().iter().enumerate() {
            for ((_, deps), &i) in self.decode(g).into_iter().zip(idx) {
                out[i as usize] = deps;
            }
        }
        out
    }

    /// Every event's dereferenced blocks, by trace index (for tests and tools).
    pub fn derefs_by_event(&self) -> Vec<Vec<BlockIdx>> {
        let mut out = vec![Vec::new(); self.events()];
        for (g, idx) in self.event_index().iter().enumerate() {
            let p = &self.programs[g];
            let mut pos = 0usize;
            for ((insn, _), &i) in self.decode(g).into_iter().zip(idx) {
                out[i as usize] = (0..derefs_in(&insn)).map(|_| BlockIdx(read_block(&p.derefs, &mut pos))).collect();
            }
        }
        out
    }

    /// The number of cross-goroutine dependencies in the whole trace.
    pub fn dep_count(&self) -> usize {
        (0..self.programs.len()).map(|g| self.decode(g).iter().map(|(_, d)| d.len()).sum::<usize>()).sum()
    }

    /// Event `i`'s dependencies (slow: decodes its goroutine; for tests).
    pub fn deps_of(&self, i: usize) -> Vec<Dep> {
        let g = self.goroutine_of(i) as usize;
        self.decode(g).swap_remove(self.seq_of(i) as usize).1
    }

    /// Does another goroutine wait for event `i`? (slow; for tests)
    pub fn is_dep_target(&self, i: usize) -> bool {
        self.programs[self.goroutine_of(i) as usize].is_dep_target(self.seq_of(i))
    }

    /// The blocks event `i` dereferences, in evaluation order (slow; for tests).
    pub fn derefs_of(&self, i: usize) -> Vec<BlockIdx> {
        let g = self.goroutine_of(i) as usize;
        let seq = self.seq_of(i) as usize;
        let p = &self.programs[g];
        let mut r = Reader::default();
        let mut pos = 0usize;
        for (k, _) in (0..p.steps).enumerate() {
            let insn = r.next(&p.code, |_, _| {});
            let n = derefs_in(&insn);
            if k == seq {
                return (0..n).map(|_| BlockIdx(read_block(&p.derefs, &mut pos))).collect();
            }
            for _ in 0..n {
                read_block(&p.derefs, &mut pos);
            }
        }
        unreachable!("seq is within the goroutine")
    }

    /// Bytes held by its parts: code, derefs, order, positions, blocks (for
    /// measurements).
    pub fn heap_breakdown(&self) -> [(&'static str, usize); 5] {
        [
            ("code", self.programs.iter().map(|p| p.code.capacity()).sum()),
            ("derefs", self.programs.iter().map(|p| p.derefs.capacity()).sum()),
            ("order", self.order.heap_bytes()),
            ("positions", self.sources.positions.heap_bytes()),
            ("blocks", self.blocks.capacity() * std::mem::size_of::<BlockInfo>()),
        ]
    }

    /// Bytes of memory the prepared trace holds (what was built at
    /// preparation; not the death times and indices computed later).
    pub fn heap_bytes(&self) -> usize {
        self.programs.iter().map(Program::heap_bytes).sum::<usize>()
            + self.order.heap_bytes()
            + self.sources.heap_bytes()
            + self.blocks.capacity() * std::mem::size_of::<BlockInfo>()
            + self.goroutines.capacity() * std::mem::size_of::<GoroutineInfo>()
    }
}

/// How many blocks an instruction dereferences: one per path step of every
/// location it evaluates (see `docs/trace-format.md`, "Evaluation order").
pub fn derefs_in(insn: &Insn<'_>) -> usize {
    use super::code::SrcRef;
    let src = |s: &SrcRef<'_>| s.loc().map_or(0, |l| l.steps());
    match insn {
        Insn::Call { args, .. } | Insn::Go { args, .. } => args.map(|a| src(&a)).sum(),
        Insn::Ret { copy: Some((s, d)) } => src(s) + d.steps(),
        Insn::Alloc { dst, .. } => dst.steps(),
        Insn::Set { dst, src: s } => dst.steps() + src(s),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::Order;

    fn order_of(gs: &[u32]) -> Order {
        let mut o = Order::default();
        for &g in gs {
            o.push(g);
        }
        o
    }

    #[test]
    fn runs_give_back_every_events_goroutine() {
        let long: Vec<u32> = (0..1000).map(|i| if (200..700).contains(&i) { 3 } else { i / 500 }).collect();
        let interleaved: Vec<u32> = (0..1000).map(|i| i % 7).collect();
        for (gs, runs) in [(long, true), (interleaved, false), (vec![], false), (vec![70_000, 70_000, 1], false)] {
            let mut o = order_of(&gs);
            o.compact();
            assert_eq!(matches!(o, Order::Runs { .. }), runs, "{:?}", &gs[..gs.len().min(8)]);
            assert_eq!(o.len(), gs.len());
            assert_eq!(o.iter().collect::<Vec<_>>(), gs);
            for (i, &g) in gs.iter().enumerate() {
                assert_eq!(o.get(i), g, "event {i}");
            }
            // Walked run by run, before and after compaction, the same order.
            for order in [&o, &order_of(&gs)] {
                let mut walked = Vec::new();
                let mut prev = None;
                order.for_each_run(|g, n| {
                    assert!(n > 0 && prev != Some(g), "runs are maximal and not empty");
                    prev = Some(g);
                    walked.extend(std::iter::repeat_n(g, n));
                });
                assert_eq!(walked, gs);
            }
        }
    }
}

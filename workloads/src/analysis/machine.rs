//! The sequential abstract machine with placements known: the shadow heap
//! that pass 2 ([`super::oracle`]) and the harness's verifier run a trace on.
//!
//! # What it is
//!
//! A [`Machine`] holds the state a trace describes — package-level variables
//! (`G0..`), every goroutine's frames with their pointer locals, and every
//! allocated block's pointer slots — and applies events to it one at a time
//! ([`Machine::apply`]). Values are block ids, not addresses: a pointer is a
//! block and an offset in 8-byte slots. The machine answers "which blocks are
//! reachable now?" ([`Machine::reachable`]) and "why is this one reachable?"
//! ([`Machine::explain_path`]) at any cut of a replay.
//!
//! Unlike pass 1 ([`super::analyze`]), the machine knows where each block
//! lives ([`Place`]): a stack block dies when its frame is popped (by `ret`,
//! or by `exit`, which pops every frame); a heap block lives until nothing
//! reaches it. It does not check anything: the trace has been validated by
//! [`super::analyze`], whose escape analysis guarantees that no stack block is
//! reachable once its frame is gone, so every path the trace follows exists.
//! A trace or placement that breaks this can make the machine compute
//! nonsense, or panic on an internal invariant (an index out of bounds), but
//! never do anything unsafe.
//!
//! # Representation (why `apply` is fast)
//!
//! `apply` runs on every event of a replay under `--verify`, so the state is
//! a handful of flat vectors and never allocates per event except when the
//! trace grows (a new frame, a new block):
//! - a value is one `u64`: 0 is nil, otherwise `(block + 1) << 32 | offset`
//!   (`pack`, `block_of`, `offset_of`); pass 1 uses the same packing;
//! - all blocks' pointer slots live in one arena `Vec<u64>`, block `b`'s at
//!   `slot_start[b] ..`, assigned when `b` is allocated;
//! - a goroutine's frames share one `Vec<u64>` of locals; a frame is the index
//!   where its locals start and where its list of stack blocks starts.
//!
//! # Reachability
//!
//! The roots are the globals, every live goroutine's frame locals, and the
//! pointer slots of the stack blocks of live frames: a stack block is part of
//! its frame, so it is a root container as long as its frame lives, whether or
//! not anything points to it (and it counts as reachable itself). A heap block
//! is reachable when a chain of pointers leads to it from a root. Go's
//! collector scans globals and each goroutine's stack the same way, but is
//! more precise about stack objects: `scanstack` (runtime/mgcmark.go) scans an
//! address-taken stack object only if a pointer from the stack reaches it.
//! Treating every live stack block as a root is the simple, conservative
//! choice: it can only keep more heap blocks alive, and only while the frame
//! lives.
//!
//! # Observers
//!
//! `Machine::apply_observed` (crate-private) reports every reference the
//! event removes (an overwritten value, the locals and stack-block slots of a
//! popped frame), every birth and every stack-block death to an `Observer`:
//! that is how the oracle keeps Merlin's timestamps without a second copy of
//! the semantics.
//! [`Machine::apply`] uses the no-op observer `()`, which compiles away.

use super::code::{Insn, LocRef, Reader, SrcRef};
use super::{Place, PreparedTrace};
use crate::model::{BlockIdx, Root};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::fmt::Write as _;

/// The nil pointer.
pub(crate) const NIL: u64 = 0;

/// A pointer to slot `offset` of block `b`, packed in a `u64` (never 0).
#[inline(always)]
pub(crate) fn pack(b: u32, offset: u32) -> u64 {
    ((b as u64 + 1) << 32) | offset as u64
}

/// The block a non-nil packed value points into.
#[inline(always)]
pub(crate) fn block_of(v: u64) -> u32 {
    ((v >> 32) as u32).wrapping_sub(1)
}

/// The slot offset a packed value points at.
#[inline(always)]
pub(crate) fn offset_of(v: u64) -> u32 {
    v as u32
}

/// What [`Machine::apply_observed`] reports while it applies an event. Every
/// method has an empty default, so an observer implements only what it needs.
pub(crate) trait Observer {
    /// The event removed a reference holding the packed value `v` (maybe
    /// nil): it overwrote a location holding `v`, or popped a frame whose
    /// locals or stack blocks held it.
    #[inline(always)]
    fn dropped(&mut self, _v: u64) {}
    /// The event allocated block `b`.
    #[inline(always)]
    fn born(&mut self, _b: u32) {}
    /// The event popped the frame of stack block `b`.
    #[inline(always)]
    fn stack_died(&mut self, _b: u32) {}
}

/// The observer that observes nothing.
impl Observer for () {}

/// Where a block is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    /// Its `alloc` has not been applied yet.
    Unborn,
    /// Allocated (and, for a stack block, its frame still lives).
    Live,
    /// A stack block whose frame has been popped.
    Popped,
}

/// A location resolved to the cell that holds its value.
#[derive(Clone, Copy, Debug)]
enum Cell {
    Global(usize),
    /// Index into the goroutine's `locals`.
    Local(usize),
    /// Index into the slot arena.
    Slot(usize),
}

/// One frame of a goroutine.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Where the frame's locals start in the goroutine's `locals`.
    locals_start: usize,
    /// Where the frame's stack blocks start in the goroutine's `stack_blocks`.
    stack_start: usize,
}

/// One goroutine's stack.
#[derive(Clone, Debug, Default)]
struct Goroutine {
    /// The locals of all frames, oldest frame first.
    locals: Vec<u64>,
    frames: Vec<Frame>,
    /// The stack blocks of all live frames, oldest frame first.
    stack_blocks: Vec<u32>,
    /// Where its next event is in its program.
    reader: Reader,
}

/// Something that holds a pointer, as [`Machine::visit_references`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Global `G{0}`.
    Global(u32),
    /// Local `index` of the frame at `depth` (1 = oldest) of the goroutine
    /// with dense index `goroutine`.
    Local { goroutine: u32, depth: u32, index: u32 },
    /// Pointer slot `slot` of an allocated block (a heap block, or a stack
    /// block whose frame lives).
    Slot { block: BlockIdx, slot: u32 },
}

/// The sequential machine with placements known. See the module comment.
pub struct Machine<'a> {
    prepared: &'a PreparedTrace,
    placements: &'a [Place],
    globals: Vec<u64>,
    goroutines: Vec<Goroutine>,
    /// Per block: where its slots start in `slots` (valid once allocated).
    slot_start: Vec<u32>,
    life: Vec<Life>,
    /// The slot arena.
    slots: Vec<u64>,
    /// Globals plus the locals of every live frame: the root words.
    root_words: usize,
    applied: usize,
}

impl<'a> Machine<'a> {
    /// A machine in the trace's initial state: globals nil, main with no
    /// frame, no block allocated. `placements` has one entry per block
    /// ([`PreparedTrace::placements`]).
    pub fn new(prepared: &'a PreparedTrace, placements: &'a [Place]) -> Machine<'a> {
        assert_eq!(placements.len(), prepared.blocks.len(), "one placement per block");
        let n = prepared.blocks.len();
        Machine {
            prepared,
            placements,
            globals: vec![NIL; prepared.globals as usize],
            goroutines: vec![Goroutine::default(); prepared.goroutines.len().max(1)],
            slot_start: vec![0; n],
            life: vec![Life::Unborn; n],
            slots: Vec::new(),
            root_words: prepared.globals as usize,
            applied: 0,
        }
    }

    /// Number of events applied so far.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// Applies event `i`. The caller guarantees that `i` is the next event of
    /// its goroutine and that every event `i` depends on
    /// ([`PreparedTrace::deps_of`]) has been applied.
    pub fn apply(&mut self, i: usize) {
        self.apply_next(self.prepared.goroutine_of(i) as usize);
    }

    /// Applies the next event of goroutine `g` (dense index), under the
    /// same guarantee as [`Machine::apply`].
    pub fn apply_next(&mut self, g: usize) {
        self.apply_observed(g, &mut ());
    }

    /// Applies the next event of goroutine `g`, reporting removed
    /// references, births and stack deaths to `obs`.
    pub(crate) fn apply_observed<O: Observer>(&mut self, g: usize, obs: &mut O) {
        let code = &self.prepared.programs[g].code;
        let insn = self.goroutines[g].reader.next(code, |_, _| {});
        match insn {
            Insn::Call { locals, args, .. } => {
                let caller_start = self.goroutines[g].frames.last().map_or(0, |f| f.locals_start);
                let gr = &self.goroutines[g];
                let base = gr.locals.len();
                let stack_start = gr.stack_blocks.len();
                // Evaluate every argument before the frame exists (they are
                // read in the caller's frame), then push it.
                let vals: SmallVec<[u64; 8]> = args.map(|a| self.eval_at(g, caller_start, &a)).collect();
                let gr = &mut self.goroutines[g];
                gr.locals.resize(base + locals as usize, NIL);
                gr.locals[base..base + vals.len()].copy_from_slice(&vals);
                gr.frames.push(Frame { locals_start: base, stack_start });
                self.root_words += locals as usize;
            }
            Insn::Ret { copy } => match copy {
                None => self.pop_frame(g, obs),
                Some((src, dst)) => {
                    let v = self.eval(g, &src);
                    self.pop_frame(g, obs);
                    let cell = self.cell(g, &dst);
                    self.store(g, cell, v, obs);
                }
            },
            Insn::Alloc { dst, block, .. } => {
                let cell = self.cell(g, &dst);
                let b = block;
                let bi = b as usize;
                self.slot_start[bi] = self.slots.len() as u32;
                self.slots.resize(self.slots.len() + self.prepared.blocks[bi].ptr_slots as usize, NIL);
                self.life[bi] = Life::Live;
                if self.placements[bi] == Place::Stack && !self.goroutines[g].frames.is_empty() {
                    self.goroutines[g].stack_blocks.push(b);
                }
                obs.born(b);
                self.store(g, cell, pack(b, 0), obs);
            }
            Insn::Go { child, locals, args, .. } => {
                let vals: SmallVec<[u64; 8]> = args.map(|a| self.eval(g, &a)).collect();
                let child = child as usize;
                let mut locals_vec = vec![NIL; locals as usize];
                locals_vec[..vals.len()].copy_from_slice(&vals);
                self.goroutines[child] = Goroutine {
                    locals: locals_vec,
                    frames: vec![Frame { locals_start: 0, stack_start: 0 }],
                    stack_blocks: Vec::new(),
                    reader: Reader::default(),
                };
                self.root_words += locals as usize;
            }
            Insn::Set { dst, src } => {
                let v = self.eval(g, &src);
                let cell = self.cell(g, &dst);
                self.store(g, cell, v, obs);
            }
            Insn::Exit => {
                while !self.goroutines[g].frames.is_empty() {
                    self.pop_frame(g, obs);
                }
            }
            Insn::Work { .. } | Insn::Gc | Insn::Begin { .. } | Insn::End { .. } => {}
        }
        self.applied += 1;
    }

    /// Where the top frame's locals start.
    #[inline(always)]
    fn top_start(&self, g: usize) -> usize {
        self.goroutines[g].frames.last().expect("validated: a local needs a frame").locals_start
    }

    /// The arena index of slot `k` past where `v` points.
    #[inline(always)]
    fn slot_index(&self, v: u64, k: u32) -> usize {
        debug_assert_ne!(v, NIL, "validated: no nil dereference");
        self.slot_start[block_of(v) as usize] as usize + offset_of(v) as usize + k as usize
    }

    #[inline(always)]
    fn get(&self, g: usize, cell: Cell) -> u64 {
        match cell {
            Cell::Global(k) => self.globals[k],
            Cell::Local(k) => self.goroutines[g].locals[k],
            Cell::Slot(k) => self.slots[k],
        }
    }

    /// Resolves `loc` in goroutine `g`'s top frame, reading the slots on
    /// the way.
    #[inline]
    fn cell(&self, g: usize, loc: &LocRef<'_>) -> Cell {
        let start = match loc.root {
            Root::Local(_) => self.top_start(g),
            Root::Global(_) => 0,
        };
        self.cell_at(g, start, loc)
    }

    /// Like [`Machine::cell`] with the frame given by where its locals start.
    #[inline]
    fn cell_at(&self, g: usize, frame_start: usize, loc: &LocRef<'_>) -> Cell {
        let mut cell = match loc.root {
            Root::Local(k) => Cell::Local(frame_start + k as usize),
            Root::Global(k) => Cell::Global(k as usize),
        };
        for k in loc.path() {
            let v = self.get(g, cell);
            cell = Cell::Slot(self.slot_index(v, k));
        }
        cell
    }

    #[inline]
    fn eval(&self, g: usize, src: &SrcRef<'_>) -> u64 {
        let start = match src.loc() {
            Some(LocRef { root: Root::Local(_), .. }) => self.top_start(g),
            _ => 0,
        };
        self.eval_at(g, start, src)
    }

    #[inline]
    fn eval_at(&self, g: usize, frame_start: usize, src: &SrcRef<'_>) -> u64 {
        match src {
            SrcRef::Nil => NIL,
            SrcRef::Loc(loc) => self.get(g, self.cell_at(g, frame_start, loc)),
            // Pass 1 checked that the new offset is inside the block, so it
            // fits the low 32 bits.
            SrcRef::Interior(loc, k) => self.get(g, self.cell_at(g, frame_start, loc)) + *k as u64,
        }
    }

    #[inline]
    fn store<O: Observer>(&mut self, g: usize, cell: Cell, v: u64, obs: &mut O) {
        let slot = match cell {
            Cell::Global(k) => &mut self.globals[k],
            Cell::Local(k) => &mut self.goroutines[g].locals[k],
            Cell::Slot(k) => &mut self.slots[k],
        };
        let old = std::mem::replace(slot, v);
        obs.dropped(old);
    }

    /// Pops `g`'s top frame: its locals go, and its stack blocks die.
    fn pop_frame<O: Observer>(&mut self, g: usize, obs: &mut O) {
        let Machine { goroutines, slots, slot_start, life, root_words, prepared, .. } = self;
        let gr = &mut goroutines[g];
        let f = gr.frames.pop().expect("validated: ret needs a frame");
        for &v in &gr.locals[f.locals_start..] {
            obs.dropped(v);
        }
        *root_words -= gr.locals.len() - f.locals_start;
        gr.locals.truncate(f.locals_start);
        for &b in &gr.stack_blocks[f.stack_start..] {
            let s = slot_start[b as usize] as usize;
            for &v in &slots[s..s + prepared.blocks[b as usize].ptr_slots as usize] {
                obs.dropped(v);
            }
            life[b as usize] = Life::Popped;
            obs.stack_died(b);
        }
        gr.stack_blocks.truncate(f.stack_start);
    }

    /// Globals plus the locals of every live frame (the oracle sizes its
    /// check interval with it).
    pub(crate) fn root_words(&self) -> usize {
        self.root_words
    }

    /// Block `b`'s pointer slots (empty before its allocation).
    #[inline]
    pub(crate) fn slots_of(&self, b: u32) -> &[u64] {
        if self.life[b as usize] == Life::Unborn {
            return &[];
        }
        let s = self.slot_start[b as usize] as usize;
        &self.slots[s..s + self.prepared.blocks[b as usize].ptr_slots as usize]
    }

    /// Marks every reachable block: afterwards `marks[b] == epoch` exactly
    /// for the blocks reachable now. `epoch` must differ from every value in
    /// `marks` (a fresh epoch per call avoids clearing `marks`); `stack` is
    /// scratch space.
    pub(crate) fn mark(&self, marks: &mut [u8], epoch: u8, stack: &mut Vec<u32>) {
        stack.clear();
        let mut visit = |v: u64, stack: &mut Vec<u32>| {
            if v != NIL {
                let b = block_of(v) as usize;
                if marks[b] != epoch && self.life[b] == Life::Live {
                    marks[b] = epoch;
                    stack.push(b as u32);
                }
            }
        };
        for &v in &self.globals {
            visit(v, stack);
        }
        for gr in &self.goroutines {
            for &v in &gr.locals {
                visit(v, stack);
            }
            for &b in &gr.stack_blocks {
                visit(pack(b, 0), stack);
            }
        }
        while let Some(b) = stack.pop() {
            for &v in self.slots_of(b) {
                visit(v, stack);
            }
        }
    }

    /// Per block: is it reachable from the roots now? Live stack blocks are
    /// (they are part of their frame); unallocated and popped blocks are not.
    pub fn reachable(&self) -> Vec<bool> {
        let mut marks = vec![0u8; self.life.len()];
        self.mark(&mut marks, 1, &mut Vec::new());
        marks.into_iter().map(|m| m == 1).collect()
    }

    /// Is `b` a stack block whose frame still lives?
    pub fn is_live_stack_block(&self, b: BlockIdx) -> bool {
        self.placements[b.0 as usize] == Place::Stack && self.life[b.0 as usize] == Life::Live
    }

    /// Has `b` been allocated (and, for a stack block, its frame not popped)?
    pub fn allocated(&self, b: BlockIdx) -> bool {
        self.life[b.0 as usize] == Life::Live
    }

    /// Calls `f` with every non-nil pointer the state holds and what holds
    /// it: globals, the locals of every live frame, and the slots of every
    /// allocated block (heap blocks, reachable or not, and stack blocks of
    /// live frames). For checks and tests; allocates nothing.
    pub fn visit_references(&self, mut f: impl FnMut(Holder, BlockIdx)) {
        for (k, &v) in self.globals.iter().enumerate() {
            if v != NIL {
                f(Holder::Global(k as u32), BlockIdx(block_of(v)));
            }
        }
        for (g, gr) in self.goroutines.iter().enumerate() {
            for (d, fr) in gr.frames.iter().enumerate() {
                let end = gr.frames.get(d + 1).map_or(gr.locals.len(), |n| n.locals_start);
                for (k, &v) in gr.locals[fr.locals_start..end].iter().enumerate() {
                    if v != NIL {
                        let h = Holder::Local { goroutine: g as u32, depth: d as u32 + 1, index: k as u32 };
                        f(h, BlockIdx(block_of(v)));
                    }
                }
            }
        }
        for b in 0..self.life.len() {
            if self.life[b] == Life::Live {
                for (k, &v) in self.slots_of(b as u32).iter().enumerate() {
                    if v != NIL {
                        f(Holder::Slot { block: BlockIdx(b as u32), slot: k as u32 }, BlockIdx(block_of(v)));
                    }
                }
            }
        }
    }

    /// A shortest root-to-`b` path for messages, e.g. `G0 -> b3[slot 2] ->
    /// b7`, `g2 frame 1 l0 -> b4` (local 0 of g2's oldest frame) or `g2's
    /// stack: b5[slot 0] -> b6` (from a live stack block); `None` if `b` is
    /// not reachable. A
    /// breadth-first search from the roots: slow, for error reports only.
    pub fn explain_path(&self, b: BlockIdx) -> Option<String> {
        #[derive(Clone, Copy)]
        enum From {
            Unseen,
            Global(u32),
            Local { g: u32, depth: u32, index: u32 },
            Stack { g: u32 },
            Slot { block: u32, slot: u32 },
        }
        let n = self.life.len();
        let target = b.0 as usize;
        if target >= n {
            return None;
        }
        let mut from = vec![From::Unseen; n];
        let mut queue = VecDeque::new();
        let reach = |v: u64, why: From, from: &mut Vec<From>, queue: &mut VecDeque<u32>| {
            if v != NIL {
                let c = block_of(v) as usize;
                if matches!(from[c], From::Unseen) && self.life[c] == Life::Live {
                    from[c] = why;
                    queue.push_back(c as u32);
                }
            }
        };
        for (k, &v) in self.globals.iter().enumerate() {
            reach(v, From::Global(k as u32), &mut from, &mut queue);
        }
        for (g, gr) in self.goroutines.iter().enumerate() {
            for &sb in &gr.stack_blocks {
                reach(pack(sb, 0), From::Stack { g: g as u32 }, &mut from, &mut queue);
            }
            for (d, fr) in gr.frames.iter().enumerate() {
                let end = gr.frames.get(d + 1).map_or(gr.locals.len(), |n| n.locals_start);
                for (k, &v) in gr.locals[fr.locals_start..end].iter().enumerate() {
                    let why = From::Local { g: g as u32, depth: d as u32 + 1, index: k as u32 };
                    reach(v, why, &mut from, &mut queue);
                }
            }
        }
        while let Some(c) = queue.pop_front() {
            if c as usize == target {
                break;
            }
            for (k, &v) in self.slots_of(c).iter().enumerate() {
                reach(v, From::Slot { block: c, slot: k as u32 }, &mut from, &mut queue);
            }
        }
        if matches!(from[target], From::Unseen) {
            return None;
        }
        let gname =
            |g: u32| self.prepared.goroutines.get(g as usize).map_or_else(|| format!("g?{g}"), |i| i.id.to_string());
        // Walk back to the root: hops are (block, slot taken out of it),
        // target last; then print root first.
        let mut hops: Vec<(u32, Option<u32>)> = vec![(b.0, None)];
        let mut cur = target;
        let root = loop {
            match from[cur] {
                From::Unseen => unreachable!("every block on the path was reached"),
                From::Global(k) => break format!("G{k} -> "),
                From::Local { g, depth, index } => break format!("{} frame {depth} l{index} -> ", gname(g)),
                // The first block is itself the root: a stack block.
                From::Stack { g } => break format!("{}'s stack: ", gname(g)),
                From::Slot { block, slot } => {
                    hops.push((block, Some(slot)));
                    cur = block as usize;
                }
            }
        };
        let mut out = root;
        for (k, &(blk, slot)) in hops.iter().rev().enumerate() {
            if k > 0 {
                out.push_str(" -> ");
            }
            out.push_str(&self.prepared.block_name(BlockIdx(blk)));
            if let Some(slot) = slot {
                let _ = write!(out, "[slot {slot}]");
            }
        }
        Some(out)
    }
}

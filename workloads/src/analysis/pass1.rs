//! Pass 1: validation, escape analysis, dependencies and dereferences, in
//! one run of the trace through a placement-agnostic sequential machine.
//!
//! # The machine
//!
//! Values are nil or a pointer (block, offset in 8-byte slots), packed in a
//! `u64` like [`super::machine`]'s. The state is the globals, per goroutine a
//! stack of frames (each with its pointer locals, all nil when pushed), and
//! per allocated block its pointer slots (all nil when allocated). `g1` (dense
//! index 0) exists at the start with no frame; `go gK` gives `gK` the next
//! dense index and one frame. Pass 1 does not know placements yet, so no
//! block ever dies here: it keeps every block's slots. That is sound because
//! the escape analysis below puts on the heap every block that could be
//! reached once its frame is gone (see "Why the escape rules are enough").
//!
//! Each event is checked as it is applied; the first unsound one is the
//! error, naming the file, the event's line and what was expected (a nil
//! dereference, a slot or local or global out of range, an interior pointer
//! outside its block, a local with no frame, `ret` with no frame or a copy
//! with no caller frame, an unknown or exited goroutine, a second `go` of a
//! goroutine, an `end` with no matching `begin`, a block allocated twice, a
//! frame smaller than its locals, a frame larger than Go's stack limit). A
//! goroutine whose frames together outgrow the stack limit is not an error
//! here: that program dies of a stack overflow, which the replay reports.
//!
//! # Evaluation order
//!
//! The order in which an event reads and writes its locations fixes both
//! the order of the blocks it dereferences ([`Analysis::derefs_of`], which
//! the verifier checks access by access) and the accesses that dependencies
//! are computed from. Every `.K` step of a path reads the cell it starts
//! from and dereferences the block that cell points to; `X@K` evaluates `X`
//! and then only moves the offset (no dereference).
//! - `set DST SRC`: SRC, then DST's path, then the store into DST;
//! - `alloc DST ...`: DST's path, then the new block, then the store;
//! - `call` / `go`: the arguments in order, in the caller's (parent's) top
//!   frame, then the new frame and the stores into its locals;
//! - `ret SRC DST`: SRC in the callee's frame, then the pop, then DST's path
//!   in the caller's frame and the store;
//! - `exit` pops every frame; `work`, `gc`, `begin`, `end` touch nothing.
//!
//! # Escape analysis (Go's rules as gcwb models them)
//!
//! A block stays on its goroutine's stack unless, at some point in its life,
//! a pointer to it is held by something that can outlive its frame. On every
//! store of a pointer to block `b` (any offset) into location `L` at event i:
//! - `L` a global: `b` escapes at i;
//! - `L` a local of the frame at depth d of goroutine h: `b` escapes if h is
//!   not `b`'s goroutine (a `go` argument) or d is below `b`'s home depth (a
//!   `ret` copy into an older frame). Passing a pointer *down* (a `call`
//!   argument) stores into a deeper frame and does not escape;
//! - `L` a slot of block `c`: edge `c -> (b, i)`, "if `c` escapes, `b` escapes
//!   because of event i"; `b` escapes at once if `c` belongs to another
//!   goroutine, lives in an older frame, or is on the heap for a reason known
//!   at its allocation (requested `heap`, too large, allocated with no frame).
//!
//! A block is also on the heap if requested `heap`, if it is larger than Go's
//! stack-object limit for its cause ([`Cause::max_stack_bytes`], from
//! cmd/compile/internal/ir/cfg.go), or if it is allocated with no frame.
//! After the run, escape is propagated along the edges: the escape time of
//! `b` is the least over its direct escapes and over edges `c -> (b, i)` of
//! `max(escape time of c, i)`, computed by Dijkstra's algorithm with `max` as
//! the path cost (a bottleneck shortest path), so every heap reason names the
//! earliest store that makes the block escape. Like Go's escape analysis
//! (cmd/compile/internal/escape) this is flow-insensitive for slots: an edge
//! counts even if the pointer was overwritten before its container escaped.
//!
//! ## Why the escape rules are enough
//!
//! Claim: a block that does not escape is unreachable once its frame has been
//! popped (or its goroutine exited), so the machine with placements
//! ([`super::machine`]) may free it then. A pointer to `b` survives the pop of
//! `b`'s frame F only if some holder outliving F has it: a global (escapes),
//! another goroutine's local (escapes), a local of an older frame of the same
//! goroutine (escapes: d < home depth), or a block `c` reachable after the
//! pop. That `c` is a heap block (then `b` escaped, directly if `c` was heap at
//! allocation, else through `c`'s escape and the edge), another goroutine's
//! block (escapes), a block of an older frame (escapes), or a block of F or a
//! younger frame that is itself reachable after the pop — by induction on
//! the order of stores, such a `c` escaped, and the edge makes `b` escape. A
//! local of a younger frame, or of F, dies with F.
//!
//! # Dependencies
//!
//! Goroutines replay in parallel, each in its own order; accesses from
//! different goroutines to the same shared location must keep trace order. The
//! shared locations are the globals and the block slots (locals are private).
//! Two accesses conflict when they touch the same shared cell and at least
//! one writes it. For every shared cell an event reads or writes, in
//! evaluation order — including the intermediate cells read while following
//! a path — the event depends on the earlier conflicting accesses by other
//! goroutines: a read on the cell's last write; a write on its last write
//! and on every read since (one per goroutine, the latest). Per event only
//! the largest seq per goroutine is kept. Reads of one cell by different
//! goroutines do not wait for each other: many goroutines walking a shared
//! structure from a global replay in parallel, and any order of reads
//! between two writes leaves the same state, so a cut closed under these
//! dependencies is still a state of the sequential trace. A spawned
//! goroutine's first event needs no dependency: the replayer starts it at the
//! `go`, which is ordered after everything its parent did before. For the
//! same reason nothing is recorded while main is the only goroutine: every
//! other goroutine's events run after the first `go`, so after all of main's
//! events before it (and a single-goroutine trace never pays for the table of
//! slot accesses).

use super::code::{kind, Encoder, Insn, LocRef, RawDep, SrcRef};
use super::demographics::EventKind;
use super::machine::{block_of, offset_of, pack, NIL};
use super::positions::Sources;
use super::prepared::{Order, PreparedTrace, Program};
use super::wire::{WireBatch, WireEncoder, WireInsn, WireReader};
use super::{BlockInfo, Dep, GoroutineInfo, HeapReason, Why, WhyTag};
use crate::error::{Result, TraceError};
use crate::model::{
    BlockIdx, Cause, Event, GoroutineId, Op, Placement, Root, SourcePos, Trace, MAX_GLOBALS, WORD_BYTES,
};
use crate::sink::EventSink;
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::io;

/// Go's maximum goroutine stack on 64-bit systems, in bytes (`maxstacksize`,
/// runtime/stack.go, set in runtime/proc.go). A single frame larger than
/// this is refused, as Go's compiler refuses it (`stack frame too large`).
/// A goroutine whose frames together grow past the limit is a valid trace of
/// a program that dies: the replay reports Go's `fatal error: stack
/// overflow` at the call that needs more, against its own `--max-stack`,
/// and what it measured up to then is still written.
pub(crate) const MAX_STACK_BYTES: u64 = 1_000_000_000;

/// `alloc_event` of a block not allocated yet.
const UNBORN: u32 = u32::MAX;
/// An escape time meaning "never escapes".
const NEVER: u32 = u32::MAX;

/// The first unsound event: its index and what was wrong.
struct Fail {
    event: usize,
    msg: String,
}

type Step<T> = std::result::Result<T, String>;

/// A location resolved to the cell holding its value.
#[derive(Clone, Copy, Debug)]
enum Cell {
    Global(u32),
    /// Local at index `idx` of goroutine `g`'s locals, in the frame at `depth`.
    Local {
        g: u32,
        idx: usize,
        depth: u32,
    },
    /// Slot arena index `idx`, a slot of `block`.
    Slot {
        block: u32,
        idx: usize,
    },
}

/// Why a block escaped directly (for messages).
#[derive(Clone, Copy, Debug)]
enum Direct {
    Global(u32),
    /// Stored into a local of this other goroutine (a `go` argument).
    Goroutine(u32),
    /// Copied into an older frame's local (`ret`).
    OlderFrame,
    /// Stored into a slot of a block on the heap since its allocation.
    HeapContainer(u32),
    /// Stored into a slot of another goroutine's block.
    ForeignContainer(u32),
    /// Stored into a slot of a block of an older frame.
    OlderContainer(u32),
}

/// Why a block is on the heap from its allocation on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AtAlloc {
    No,
    Requested,
    TooLarge,
    NoFrame,
}

struct Frame {
    /// Where its locals start in the goroutine's `locals`.
    start: usize,
}

struct Goroutine {
    id: GoroutineId,
    locals: Vec<u64>,
    frames: Vec<Frame>,
    exited: bool,
    /// Open `begin` tags (interned), innermost last.
    spans: Vec<u32>,
}

// The block table turns into the prepared trace's in place (see
// `into_prepared`) only if the two have the same layout size.
const _: () = assert!(
    std::mem::size_of::<Block>() == std::mem::size_of::<BlockInfo>()
        && std::mem::align_of::<Block>() == std::mem::align_of::<BlockInfo>()
);

/// A block as pass 1 tracks it: 32 bytes, the size of a [`BlockInfo`], so
/// the table becomes the prepared trace's in place.
#[derive(Clone)]
struct Block {
    size: u64,
    /// Where its slots start in the slot arena.
    slot_start: u32,
    ptr_slots: u32,
    alloc_event: u32,
    home_g: u32,
    home_depth: u32,
    cause: Cause,
    requested: Placement,
    at_alloc: AtAlloc,
}

/// Flag in [`Access::read`]: more readers are listed in `more_readers`.
const MORE_READERS: u64 = 1 << 63;

/// The accesses to one shared cell that later accesses may conflict with;
/// each 0 (none) or `(goroutine + 1) << 32 | seq`.
#[derive(Clone, Copy, Default)]
struct Access {
    write: u64,
    /// The latest read since `write` (plus the [`MORE_READERS`] flag).
    read: u64,
}

/// Pass 1 as a streaming consumer: feed it batches of events in the
/// hand-off form ([`Preparer::feed`], see [`super::wire`]), or events one by
/// one (it is an [`EventSink`], so a parser or a generator can write
/// straight into it), then [`Preparer::finish`] gives the
/// [`PreparedTrace`] or the first error. A preparer is fed one way or the
/// other, not both: span tags are numbered by whoever encodes the batches.
pub struct Preparer {
    file: String,
    /// `globals` as declared (`start`).
    declared_globals: u32,
    /// Events seen so far (the index of the next one).
    seen: usize,
    /// The first unsound event; later events are not applied.
    fail: Option<Fail>,
    /// The block name the source gave for the next event's `alloc`.
    pending_name: Option<u64>,
    /// The size of the block table of an in-memory trace (its
    /// `block_names`): an `alloc` beyond it is an error.
    block_table: Option<usize>,
    /// Events' positions and blocks' names as the source gave them.
    sources: Sources,
    /// Span tags by number (the numbers the batches' producer gave).
    tags: Vec<String>,
    /// Events fed one by one ([`EventSink`]) are encoded here, then fed as
    /// a batch of one.
    scratch: WireEncoder,
    spare: WireBatch,
    events_by_kind: [u64; 10],
    /// Goroutines alive now, and the most at once.
    alive: u64,
    peak_goroutines: u64,
    globals: Vec<u64>,
    /// Last write and last read since it, per global (see [`Access`]).
    global_access: Vec<Access>,
    gors: Vec<Goroutine>,
    /// Trace goroutine number -> dense index.
    gid: HashMap<u32, u32>,
    /// The last lookup in `gid`.
    last_gid: (u32, u32),
    blocks: Vec<Block>,
    /// The slot arena (values) and the last access per slot.
    slots: Vec<u64>,
    slot_access: Vec<Access>,
    /// Earlier readers since the last write, for cells read by more than one
    /// goroutine since it (flagged by [`MORE_READERS`] in `Access::read`);
    /// the latest read per goroutine.
    more_readers: HashMap<u64, Vec<u64>>,
    /// First direct escape per block: its event ([`NEVER`]: none yet).
    direct: Vec<u32>,
    /// Why, for the blocks requested on the stack (only their error message
    /// needs it).
    direct_why: HashMap<u32, Direct>,
    /// Edges `(c, b, i)`: if c escapes, b escapes because of event i.
    edges: Vec<(u32, u32, u32)>,

    // The event being applied.
    event: usize,
    g: u32,
    seq: u32,
    cur_deps: SmallVec<[Dep; 8]>,
    cur_derefs: SmallVec<[u32; 8]>,

    // Output.
    goroutines: Vec<GoroutineInfo>,
    programs: Vec<Program>,
    order: Order,
}

impl EventSink for Preparer {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.start_globals(globals);
        Ok(())
    }

    #[inline]
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        self.scratch.source(pos, block_name);
    }

    /// The event, encoded into a batch of one and fed.
    #[inline]
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.scratch.event(e)?;
        let batch = self.scratch.take_batch(std::mem::take(&mut self.spare));
        self.feed(&batch);
        self.spare = batch;
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Preparer {
    fn start_globals(&mut self, globals: u32) {
        self.declared_globals = globals;
        if globals <= MAX_GLOBALS {
            self.globals = vec![NIL; globals as usize];
            self.global_access = vec![Access::default(); globals as usize];
        }
    }

    /// Applies a batch of events in the hand-off form (see [`super::wire`]):
    /// its start, its events in order with their positions and block names.
    pub fn feed(&mut self, batch: &WireBatch) {
        if let Some(globals) = batch.start {
            self.start_globals(globals);
        }
        self.tags.extend(batch.new_tags.iter().cloned());
        for &pos in &batch.positions {
            self.sources.positions.push(pos);
        }
        let mut names = batch.names.iter().copied().peekable();
        let mut r = WireReader::new();
        for k in 0..batch.events {
            if self.fail.is_some() || self.declared_globals > MAX_GLOBALS {
                // Later events are not applied, only counted.
                self.seen += (batch.events - k) as usize;
                break;
            }
            let i = self.seen;
            self.seen += 1;
            let w = r.next(&batch.code);
            self.pending_name = names.next_if(|&(at, _)| at == k).map(|(_, n)| n);
            if let Err(msg) = self.event(i, &w) {
                self.fail = Some(Fail { event: i, msg });
            }
            self.pending_name = None;
        }
    }

    /// Feeds a whole in-memory trace (with its positions and block names).
    pub fn feed_trace(&mut self, trace: &Trace) {
        let _ = self.start(trace.globals);
        let nb = trace.block_names.len();
        self.block_table = Some(nb);
        self.blocks = vec![UNBORN_BLOCK; nb];
        self.direct = vec![NEVER; nb];
        if trace.block_names.iter().enumerate().any(|(i, &n)| n != i as u64) {
            self.sources.block_names = Some(trace.block_names.clone());
        }
        for (i, e) in trace.events.iter().enumerate() {
            let name = match &e.op {
                Op::Alloc { block, .. } => trace.block_names.get(block.0 as usize).copied(),
                _ => None,
            };
            if let Some(&pos) = trace.positions.get(i) {
                self.source(pos, name);
            } else {
                self.scratch.name_next(name);
            }
            let _ = EventSink::event(self, e);
        }
    }

    /// The prepared trace, or the first unsound event (see the module comment).
    pub fn finish(mut self) -> Result<PreparedTrace> {
        if self.declared_globals > MAX_GLOBALS {
            return Err(crate::TraceError::invalid(
                self.file.as_str(),
                "globals",
                format!("{} globals declared; gcwb supports at most {MAX_GLOBALS}", self.declared_globals),
            ));
        }
        // The machine's state is not needed any more: give its memory back
        // before the propagation needs its own.
        self.slots = Vec::new();
        self.slot_access = Vec::new();
        self.more_readers = HashMap::new();
        self.gors = Vec::new();
        self.globals = Vec::new();
        self.global_access = Vec::new();
        // Propagate escapes over what ran, so that a `stack` block escaping
        // before a later unsound event is the error reported.
        let (time, reason) = self.propagate();
        if let Some((t, b)) = self
            .blocks
            .iter()
            .enumerate()
            .filter(|(b, blk)| blk.requested == Placement::Stack && time[*b] != NEVER)
            .map(|(b, _)| (time[b], b))
            .min()
        {
            if self.fail.as_ref().is_none_or(|f| (t as usize) < f.event) {
                return Err(self.stack_escape_error(b, &reason[b].to_reason(self.blocks[b].cause)));
            }
        }
        if let Some(f) = self.fail.take() {
            return Err(TraceError::invalid(self.file.as_str(), self.pos(f.event), f.msg));
        }
        if let Some(b) = self.blocks.iter().position(|b| b.alloc_event == UNBORN) {
            let n = self.seen;
            let msg = format!("block {} is named but never allocated", self.block_name(BlockIdx(b as u32)));
            return Err(TraceError::invalid(self.file.as_str(), self.pos(n), msg));
        }
        Ok(self.into_prepared(reason))
    }
}

/// `loc` with only its first `steps` path steps, as written in a trace
/// (built only for a message).
fn loc_prefix(loc: &LocRef<'_>, steps: usize) -> String {
    let mut s = match loc.root {
        Root::Local(k) => format!("l{k}"),
        Root::Global(k) => format!("G{k}"),
    };
    for k in loc.path().take(steps) {
        let _ = write!(s, ".{k}");
    }
    s
}

fn loc_text(loc: &LocRef<'_>) -> String {
    loc_prefix(loc, loc.steps())
}

/// A block named by an event before its `alloc`.
const UNBORN_BLOCK: Block = Block {
    slot_start: 0,
    ptr_slots: 0,
    size: 0,
    alloc_event: UNBORN,
    home_g: 0,
    home_depth: 0,
    cause: Cause::Other,
    requested: Placement::Auto,
    at_alloc: AtAlloc::No,
};

impl Preparer {
    /// A preparer for a trace called `file` in messages.
    pub fn new(file: &str) -> Self {
        let main = Goroutine {
            id: GoroutineId::MAIN,
            locals: Vec::new(),
            frames: Vec::new(),
            exited: false,
            spans: Vec::new(),
        };
        Preparer {
            file: file.to_string(),
            declared_globals: 0,
            seen: 0,
            fail: None,
            pending_name: None,
            block_table: None,
            sources: Sources::default(),
            tags: Vec::new(),
            scratch: WireEncoder::new(),
            spare: WireBatch::default(),
            events_by_kind: [0; 10],
            alive: 1,
            peak_goroutines: 1,
            globals: Vec::new(),
            global_access: Vec::new(),
            gors: vec![main],
            gid: HashMap::from([(GoroutineId::MAIN.0, 0)]),
            last_gid: (GoroutineId::MAIN.0, 0),
            blocks: Vec::new(),
            slots: Vec::new(),
            slot_access: Vec::new(),
            more_readers: HashMap::new(),
            direct: Vec::new(),
            direct_why: HashMap::new(),
            edges: Vec::new(),
            event: 0,
            g: 0,
            seq: 0,
            cur_deps: SmallVec::new(),
            cur_derefs: SmallVec::new(),
            goroutines: vec![GoroutineInfo { id: GoroutineId::MAIN, events: 0, spawned_at: None }],
            programs: vec![Program::default()],
            order: Order::default(),
        }
    }

    /// The position of event `i` for messages.
    fn pos(&self, i: usize) -> String {
        self.sources.pos(i)
    }

    /// `bN` as written in the trace.
    fn block_name(&self, b: BlockIdx) -> String {
        self.sources.block_name(b)
    }

    /// Applies and checks event `i`, then appends it to its goroutine's
    /// program.
    fn event(&mut self, i: usize, w: &WireInsn<'_>) -> Step<()> {
        // Consecutive events mostly come from one goroutine: skip the map then.
        let g = if w.g == self.last_gid.0 {
            self.last_gid.1
        } else {
            match self.gid.get(&w.g) {
                Some(&g) => {
                    self.last_gid = (w.g, g);
                    g
                }
                None => return Err(format!("unknown goroutine {}", GoroutineId(w.g))),
            }
        };
        if self.gors[g as usize].exited {
            return Err(format!("goroutine {} has exited", GoroutineId(w.g)));
        }
        self.event = i;
        self.g = g;
        self.seq = self.programs[g as usize].steps;
        self.cur_deps.clear();
        self.cur_derefs.clear();
        let mut child_index = 0u32;

        match w.insn {
            Insn::Call { locals, frame_bytes, args } => {
                self.check_frame("call", locals, frame_bytes, args.len())?;
                let vals = self.eval_args(args)?;
                let gr = &mut self.gors[g as usize];
                let start = gr.locals.len();
                gr.locals.resize(start + locals as usize, NIL);
                gr.frames.push(Frame { start });
                let depth = gr.frames.len() as u32;
                for (k, v) in vals.into_iter().enumerate() {
                    self.store(Cell::Local { g, idx: start + k, depth }, v);
                }
            }
            Insn::Ret { copy } => {
                if self.gors[g as usize].frames.is_empty() {
                    return Err("ret with no frame".to_string());
                }
                match copy {
                    None => self.pop_frame(g),
                    Some((src, dst)) => {
                        let v = self.eval(&src)?;
                        self.pop_frame(g);
                        if self.gors[g as usize].frames.is_empty() {
                            return Err(format!(
                                "ret copies into {}, but {} has no caller frame",
                                loc_text(&dst),
                                GoroutineId(w.g)
                            ));
                        }
                        self.write(&dst, v)?;
                    }
                }
            }
            Insn::Alloc { dst, block, size, ptr_slots } => {
                let cell = self.resolve(&dst)?;
                self.alloc(BlockIdx(block), size, ptr_slots, w.cause, w.placement)?;
                self.touch(cell, true);
                self.store(cell, pack(block, 0));
            }
            Insn::Go { child, locals, frame_bytes, args } => {
                self.check_frame("go", locals, frame_bytes, args.len())?;
                let child = GoroutineId(child);
                if child.0 == 0 {
                    return Err("goroutine g0 does not exist: goroutine ids start at g1".to_string());
                }
                if self.gid.contains_key(&child.0) {
                    return Err(format!("goroutine {child} already exists"));
                }
                let vals = self.eval_args(args)?;
                let c = self.gors.len() as u32;
                self.gid.insert(child.0, c);
                child_index = c;
                self.gors.push(Goroutine {
                    id: child,
                    locals: vec![NIL; locals as usize],
                    frames: vec![Frame { start: 0 }],
                    exited: false,
                    spans: Vec::new(),
                });
                self.goroutines.push(GoroutineInfo { id: child, events: 0, spawned_at: Some(i as u32) });
                self.programs.push(Program::default());
                for (k, v) in vals.into_iter().enumerate() {
                    self.store(Cell::Local { g: c, idx: k, depth: 1 }, v);
                }
            }
            Insn::Set { dst, src } => {
                let v = self.eval(&src)?;
                self.write(&dst, v)?;
            }
            Insn::Exit => {
                let gr = &mut self.gors[g as usize];
                gr.locals.clear();
                gr.frames.clear();
                gr.exited = true;
            }
            Insn::Begin { tag } => {
                self.gors[g as usize].spans.push(tag);
            }
            Insn::End { tag } => {
                let spans = &mut self.gors[g as usize].spans;
                match spans.iter().rposition(|&t| t == tag) {
                    Some(k) => {
                        spans.remove(k);
                    }
                    None => return Err(format!("end {} without a matching begin", self.tags[tag as usize])),
                }
            }
            Insn::Work { .. } | Insn::Gc => {}
        }

        // Record the event's dependencies: the latest seq per goroutine.
        let mut raw: SmallVec<[RawDep; 8]> = SmallVec::new();
        if !self.cur_deps.is_empty() {
            self.cur_deps.sort_unstable_by_key(|d| (d.goroutine, Reverse(d.seq)));
            self.cur_deps.dedup_by_key(|d| d.goroutine);
            for &d in &self.cur_deps {
                self.programs[d.goroutine as usize].set_dep_target(d.seq);
                raw.push((d.goroutine, d.seq));
            }
        }
        self.emit(g, w, &raw, child_index);
        self.order.push(g);
        self.goroutines[g as usize].events += 1;
        Ok(())
    }

    /// Appends the applied event to goroutine `g`'s program: its head with
    /// the dependencies, then its body's bytes as the batch holds them
    /// (with `go`'s child as its dense index).
    fn emit(&mut self, g: u32, w: &WireInsn<'_>, deps: &[RawDep], child: u32) {
        self.events_by_kind[EventKind::of(&w.insn).index()] += 1;
        match w.kind {
            kind::GO => {
                self.alive += 1;
                self.peak_goroutines = self.peak_goroutines.max(self.alive);
            }
            kind::EXIT => self.alive -= 1,
            _ => {}
        }
        let prog = &mut self.programs[g as usize];
        prog.steps += 1;
        let mut e = Encoder { buf: &mut prog.derefs };
        for &b in &self.cur_derefs {
            e.varint(u64::from(b));
        }
        let mut e = Encoder { buf: &mut prog.code };
        e.head(w.kind, w.frame_bytes_given, deps);
        if w.kind == kind::GO {
            e.varint(u64::from(child));
        }
        e.buf.extend_from_slice(w.rest);
    }

    /// Checks a frame's shape: room for its locals, and no larger than Go's
    /// stack limit.
    /// `bytes` is the frame's size, given or the default.
    fn check_frame(&self, op: &str, locals: u32, bytes: u64, nargs: usize) -> Step<()> {
        let need = locals as u64 * WORD_BYTES;
        if bytes < need {
            return Err(format!("{op} frame of {bytes} bytes is too small for its {locals} locals ({need} bytes)"));
        }
        if nargs > locals as usize {
            return Err(format!("{op} passes {nargs} arguments to a frame of {locals} locals"));
        }
        if bytes > MAX_STACK_BYTES {
            return Err(format!(
                "{op} frame of {bytes} bytes is over Go's {MAX_STACK_BYTES}-byte stack limit (maxstacksize)"
            ));
        }
        Ok(())
    }

    fn eval_args(&mut self, args: super::code::Args<'_>) -> Step<SmallVec<[u64; 8]>> {
        let mut vals = SmallVec::new();
        for a in args {
            vals.push(self.eval(&a)?);
        }
        Ok(vals)
    }

    fn pop_frame(&mut self, g: u32) {
        let gr = &mut self.gors[g as usize];
        if let Some(f) = gr.frames.pop() {
            gr.locals.truncate(f.start);
        }
    }

    /// Creates block `b` in the current goroutine's top frame.
    fn alloc(&mut self, b: BlockIdx, size: u64, ptr_slots: u32, cause: Cause, placement: Placement) -> Step<()> {
        let bi = b.0 as usize;
        if let Some(n) = self.block_table {
            if bi >= n {
                return Err(format!("block index {} is not in the trace's block table ({n} blocks)", b.0));
            }
        }
        if bi >= self.blocks.len() {
            self.blocks.resize(bi + 1, UNBORN_BLOCK);
            self.direct.resize(bi + 1, NEVER);
        }
        self.note_name(bi);
        let blk = &self.blocks[bi];
        // The block is named only in a message: formatting its name for
        // every block would cost more than the rest of the allocation.
        if blk.alloc_event != UNBORN {
            return Err(format!(
                "block {} is allocated twice (first at {})",
                self.block_name(b),
                self.pos(blk.alloc_event as usize)
            ));
        }
        if size == 0 {
            return Err(format!("block {} has size 0 (SIZE must be at least 1)", self.block_name(b)));
        }
        if ptr_slots as u64 * WORD_BYTES > size {
            return Err(format!(
                "block {} is {size} bytes, too small for {ptr_slots} pointer slots",
                self.block_name(b)
            ));
        }
        let gr = &self.gors[self.g as usize];
        let depth = gr.frames.len() as u32;
        let limit = cause.max_stack_bytes();
        let at_alloc = if placement == Placement::Heap {
            AtAlloc::Requested
        } else if size > limit {
            AtAlloc::TooLarge
        } else if depth == 0 {
            AtAlloc::NoFrame
        } else {
            AtAlloc::No
        };
        if placement == Placement::Stack {
            match at_alloc {
                AtAlloc::TooLarge => {
                    return Err(format!(
                        "stack block {} is {size} bytes, over Go's {limit}-byte limit for stack objects of \
                         cause {}",
                        self.block_name(b),
                        cause.name()
                    ))
                }
                AtAlloc::NoFrame => {
                    return Err(format!(
                        "stack block {} has no frame to live in: {} has no frame",
                        self.block_name(b),
                        gr.id
                    ))
                }
                _ => {}
            }
        }
        let start = self.slots.len();
        let n = ptr_slots as usize;
        if start + n > u32::MAX as usize {
            return Err(format!(
                "block {}'s {ptr_slots} pointer slots exceed gcwb's 2^32 pointer slots in all",
                self.block_name(b)
            ));
        }
        if self.slots.try_reserve(n).is_err() {
            return Err(format!("block {}'s {ptr_slots} pointer slots do not fit in memory", self.block_name(b)));
        }
        self.slots.resize(start + n, NIL);
        self.blocks[bi] = Block {
            slot_start: start as u32,
            ptr_slots,
            size,
            alloc_event: self.event as u32,
            home_g: self.g,
            home_depth: depth,
            cause,
            requested: placement,
            at_alloc,
        };
        Ok(())
    }

    /// Records the name the source gave block `bi` (kept only once some name
    /// differs from its index).
    fn note_name(&mut self, bi: usize) {
        let name = self.pending_name.take();
        match (&mut self.sources.block_names, name) {
            (None, None) => {}
            (None, Some(n)) if n == bi as u64 => {}
            (None, Some(n)) => {
                let mut names: Vec<u64> = (0..self.blocks.len() as u64).collect();
                names[bi] = n;
                self.sources.block_names = Some(names);
            }
            (Some(names), n) => {
                if names.len() < self.blocks.len() {
                    let from = names.len() as u64;
                    names.extend(from..self.blocks.len() as u64);
                }
                names[bi] = n.unwrap_or(bi as u64);
            }
        }
    }

    /// Records a read (`write == false`) or a write of `cell` by the current
    /// event, adding the dependencies on conflicting earlier accesses.
    ///
    /// While main is the only goroutine nothing is recorded: every later
    /// event of another goroutine runs after the first `go`, so after all of
    /// main's events before it, and a dependency on them would be redundant.
    /// (The access table of the slots is grown only from then on: a
    /// single-goroutine trace never pays for it.)
    #[inline]
    fn touch(&mut self, cell: Cell, write: bool) {
        if self.gors.len() == 1 {
            return;
        }
        let (a, key) = match cell {
            Cell::Global(k) => (&mut self.global_access[k as usize], k as u64),
            Cell::Slot { idx, .. } => {
                if idx >= self.slot_access.len() {
                    self.slot_access.resize(self.slots.len(), Access::default());
                }
                (&mut self.slot_access[idx], idx as u64 | 1 << 62)
            }
            Cell::Local { .. } => return,
        };
        let me = ((self.g as u64 + 1) << 32) | self.seq as u64;
        let mine = |x: u64| x >> 32 & 0x3fff_ffff == me >> 32;
        let mut deps: SmallVec<[u64; 4]> = SmallVec::new();
        deps.push(a.write);
        if write {
            deps.push(a.read & !MORE_READERS);
            if a.read & MORE_READERS != 0 {
                deps.extend(self.more_readers.remove(&key).unwrap_or_default());
            }
            a.write = me;
            a.read = 0;
        } else if a.read == 0 || mine(a.read) {
            a.read = me | (a.read & MORE_READERS);
        } else {
            let prev = a.read & !MORE_READERS;
            a.read = me | MORE_READERS;
            let list = self.more_readers.entry(key).or_default();
            match list.iter_mut().find(|x| **x >> 32 == prev >> 32) {
                Some(x) => *x = prev,
                None => list.push(prev),
            }
        }
        for d in deps {
            if d != 0 && !mine(d) {
                self.cur_deps.push(Dep { goroutine: ((d >> 32 & 0x3fff_ffff) - 1) as u32, seq: d as u32 });
            }
        }
    }

    #[inline]
    fn get(&self, cell: Cell) -> u64 {
        match cell {
            Cell::Global(k) => self.globals[k as usize],
            Cell::Local { g, idx, .. } => self.gors[g as usize].locals[idx],
            Cell::Slot { idx, .. } => self.slots[idx],
        }
    }

    /// Follows `loc`'s path in the current goroutine's top frame, checking
    /// every step and recording its reads and dereferences; returns the
    /// final cell, not yet accessed.
    fn resolve(&mut self, loc: &LocRef<'_>) -> Step<Cell> {
        let g = self.g;
        let mut cell = match loc.root {
            Root::Local(k) => {
                let gr = &self.gors[g as usize];
                let Some(f) = gr.frames.last() else {
                    return Err(format!("local l{k}, but {} has no frame", gr.id));
                };
                let n = gr.locals.len() - f.start;
                if k as usize >= n {
                    return Err(format!("local l{k} out of range: the frame has {n} locals"));
                }
                Cell::Local { g, idx: f.start + k as usize, depth: gr.frames.len() as u32 }
            }
            Root::Global(k) => {
                if k >= self.declared_globals {
                    return Err(format!(
                        "global G{k} out of range: the trace declares {} globals",
                        self.declared_globals
                    ));
                }
                Cell::Global(k)
            }
        };
        for (step, k) in loc.path().enumerate() {
            self.touch(cell, false);
            let v = self.get(cell);
            if v == NIL {
                return Err(format!("nil dereference: {} is nil", loc_prefix(loc, step)));
            }
            let b = block_of(v);
            self.cur_derefs.push(b);
            let blk = &self.blocks[b as usize];
            let slot = offset_of(v) as u64 + k as u64;
            if slot >= blk.ptr_slots as u64 {
                return Err(format!(
                    "slot {slot} out of range: {} has {} pointer slots ({})",
                    self.block_name(BlockIdx(b)),
                    blk.ptr_slots,
                    loc_prefix(loc, step + 1)
                ));
            }
            cell = Cell::Slot { block: b, idx: blk.slot_start as usize + slot as usize };
        }
        Ok(cell)
    }

    /// Reads `loc`.
    fn read(&mut self, loc: &LocRef<'_>) -> Step<u64> {
        let cell = self.resolve(loc)?;
        self.touch(cell, false);
        Ok(self.get(cell))
    }

    fn eval(&mut self, src: &SrcRef<'_>) -> Step<u64> {
        match src {
            SrcRef::Nil => Ok(NIL),
            SrcRef::Loc(loc) => self.read(loc),
            SrcRef::Interior(loc, k) => {
                let v = self.read(loc)?;
                if v == NIL {
                    return Err(format!("interior pointer {}@{k} from nil: {} is nil", loc_text(loc), loc_text(loc)));
                }
                let b = block_of(v);
                let size = self.blocks[b as usize].size;
                let off = offset_of(v) as u64 + *k as u64;
                if off * WORD_BYTES >= size || off > u32::MAX as u64 {
                    return Err(format!(
                        "interior pointer {}@{k} out of its block: slot {off} starts at byte {}, but {} is {size} \
                         bytes",
                        loc_text(loc),
                        off * WORD_BYTES,
                        self.block_name(BlockIdx(b))
                    ));
                }
                Ok(pack(b, off as u32))
            }
        }
    }

    /// Stores `v` into `loc` (path first, then the store).
    fn write(&mut self, loc: &LocRef<'_>, v: u64) -> Step<()> {
        let cell = self.resolve(loc)?;
        self.touch(cell, true);
        self.store(cell, v);
        Ok(())
    }

    /// Stores `v` into `cell`, applying the escape rules.
    fn store(&mut self, cell: Cell, v: u64) {
        if v != NIL {
            let b = block_of(v);
            let bb = &self.blocks[b as usize];
            let why = match cell {
                Cell::Global(k) => Some(Direct::Global(k)),
                Cell::Local { g, depth, .. } => {
                    if g != bb.home_g {
                        Some(Direct::Goroutine(g))
                    } else if depth < bb.home_depth {
                        Some(Direct::OlderFrame)
                    } else {
                        None
                    }
                }
                Cell::Slot { block: c, .. } => {
                    let cb = &self.blocks[c as usize];
                    if cb.at_alloc != AtAlloc::No {
                        Some(Direct::HeapContainer(c))
                    } else if cb.home_g != bb.home_g {
                        Some(Direct::ForeignContainer(c))
                    } else if cb.home_depth < bb.home_depth {
                        Some(Direct::OlderContainer(c))
                    } else {
                        // An edge can only make b escape later than a
                        // direct escape it already has: skip it then.
                        if c != b && self.direct[b as usize] == NEVER && bb.at_alloc == AtAlloc::No {
                            self.edges.push((c, b, self.event as u32));
                        }
                        None
                    }
                }
            };
            if let Some(why) = why {
                if self.direct[b as usize] == NEVER {
                    self.direct[b as usize] = self.event as u32;
                    if bb.requested == Placement::Stack {
                        self.direct_why.insert(b, why);
                    }
                }
            }
        }
        match cell {
            Cell::Global(k) => self.globals[k as usize] = v,
            Cell::Local { g, idx, .. } => self.gors[g as usize].locals[idx] = v,
            Cell::Slot { idx, .. } => self.slots[idx] = v,
        }
    }

    /// Propagates escapes along the edges. Returns per block its escape time
    /// ([`NEVER`] if it stays on the stack) and its heap reason.
    fn propagate(&self) -> (Vec<u32>, Vec<Why>) {
        let nb = self.blocks.len();
        let mut time = vec![NEVER; nb];
        let mut reason: Vec<Why> = vec![Why::default(); nb];
        let escapes = |event: u32, via: u32| Why { event, via, tag: WhyTag::Escapes };
        let mut heap = BinaryHeap::new();
        for (b, blk) in self.blocks.iter().enumerate() {
            if blk.alloc_event == UNBORN {
                continue;
            }
            let at = |tag| Why { event: blk.alloc_event, via: Why::NO_BLOCK, tag };
            let r = match blk.at_alloc {
                AtAlloc::Requested => Some((blk.alloc_event, at(WhyTag::Requested))),
                AtAlloc::TooLarge => Some((blk.alloc_event, at(WhyTag::TooLarge))),
                AtAlloc::NoFrame => Some((blk.alloc_event, escapes(blk.alloc_event, Why::NO_BLOCK))),
                AtAlloc::No => {
                    (self.direct[b] != NEVER).then(|| (self.direct[b], escapes(self.direct[b], Why::NO_BLOCK)))
                }
            };
            if let Some((t, r)) = r {
                time[b] = t;
                reason[b] = r;
                heap.push(Reverse((t, b as u32)));
            }
        }
        if self.edges.is_empty() {
            return (time, reason);
        }
        // Edges grouped by their source block (counting sort).
        let mut start = vec![0u32; nb + 1];
        for &(c, _, _) in &self.edges {
            start[c as usize + 1] += 1;
        }
        for k in 0..nb {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut out = vec![(0u32, 0u32); self.edges.len()];
        for &(c, b, i) in &self.edges {
            out[fill[c as usize] as usize] = (b, i);
            fill[c as usize] += 1;
        }
        while let Some(Reverse((t, c))) = heap.pop() {
            if t > time[c as usize] {
                continue;
            }
            for &(b, i) in &out[start[c as usize] as usize..start[c as usize + 1] as usize] {
                let nt = t.max(i);
                if nt < time[b as usize] {
                    time[b as usize] = nt;
                    reason[b as usize] = escapes(i, c);
                    heap.push(Reverse((nt, b)));
                }
            }
        }
        (time, reason)
    }

    /// The error for a `stack` block that escapes.
    fn stack_escape_error(&self, b: usize, reason: &Option<HeapReason>) -> TraceError {
        let trace = self;
        let name = trace.block_name(BlockIdx(b as u32));
        let blk = &self.blocks[b];
        let Some(HeapReason::Escapes { event, via }) = reason else {
            // Requested/too large/no frame are rejected at the allocation.
            unreachable!("a stack block's heap reason is an escape")
        };
        let what = match via {
            Some(c) => format!("stored into {}, which escapes,", trace.block_name(*c)),
            None => match self.direct_why.get(&(b as u32)).copied() {
                Some(Direct::Global(k)) => format!("stored into global G{k}"),
                Some(Direct::Goroutine(h)) => {
                    format!("passed to goroutine {}", self.gors[h as usize].id)
                }
                Some(Direct::OlderFrame) => "returned into an older frame".to_string(),
                Some(Direct::HeapContainer(c)) => {
                    format!("stored into heap block {}", trace.block_name(BlockIdx(c)))
                }
                Some(Direct::ForeignContainer(c)) => format!(
                    "stored into {}, a block of goroutine {}",
                    trace.block_name(BlockIdx(c)),
                    self.gors[self.blocks[c as usize].home_g as usize].id
                ),
                Some(Direct::OlderContainer(c)) => {
                    format!("stored into {}, a block of an older frame", trace.block_name(BlockIdx(c)))
                }
                None => "escapes".to_string(),
            },
        };
        let msg = format!(
            "stack block {name} (allocated at {}) escapes: {what} at {}",
            trace.pos(blk.alloc_event as usize),
            trace.pos(*event as usize)
        );
        TraceError::invalid(self.file.as_str(), trace.pos(*event as usize), msg)
    }

    fn into_prepared(mut self, reason: Vec<Why>) -> PreparedTrace {
        // Same size and alignment: the collect reuses the table's memory.
        let mut reason = reason.into_iter();
        let blocks: Vec<BlockInfo> = std::mem::take(&mut self.blocks)
            .into_iter()
            .map(|b| BlockInfo {
                size: b.size,
                alloc_event: b.alloc_event,
                ptr_slots: b.ptr_slots,
                why: reason.next().unwrap_or_default(),
                cause: b.cause,
                requested: b.requested,
            })
            .collect();
        let mut blocks = blocks;
        blocks.shrink_to_fit();
        let mut programs = std::mem::take(&mut self.programs);
        for p in &mut programs {
            p.code.shrink_to_fit();
            p.derefs.shrink_to_fit();
        }
        self.order.compact();
        self.sources.positions.shrink_to_fit();
        PreparedTrace {
            file: self.file,
            globals: self.declared_globals,
            blocks,
            goroutines: self.goroutines,
            programs,
            tags: self.tags,
            events_by_kind: self.events_by_kind,
            peak_goroutines: self.peak_goroutines,
            order: self.order,
            sources: self.sources,
            event_index: Default::default(),
            deaths: Default::default(),
            placements: Default::default(),
        }
    }
}

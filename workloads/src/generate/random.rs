//! The random stress generator: seeded, sound traces of many goroutines
//! churning a shared heap.
//!
//! [`random_trace`] writes a [`Trace`] that a collector and the verifier can
//! be hammered with: goroutines spawned by `g1` (and by each other) that
//! allocate blocks of mixed sizes (by default 8 B to 4 KiB mostly, now and then 40 to
//! 100 KiB so large-object spans are used), store locals, globals, slots, nil
//! and interior pointers into locals, globals and block slots, call and return
//! (sometimes in deep recursions of big frames, so stacks grow past Go's
//! 2 KiB minimum), compute, open and close request spans, exit, and are
//! replaced by new goroutines. Their events are interleaved in short random
//! runs, so a parallel replay has real parallelism and real cross-goroutine
//! dependencies through the globals and heap slots they share.
//!
//! # Soundness by construction
//!
//! The generator keeps a *shadow state* of the program it writes: every live
//! goroutine's frames and what each local holds (a block and a slot offset, or
//! nil), the globals, and every reachable block's size, pointer slots and slot
//! contents. It only ever emits an event that is valid in that state — `X.K`
//! only when X holds a pointer whose block has slot `offset + K`, `X@K` only
//! when `(offset + K) * 8 < size`, `ret` only above a goroutine's base frame,
//! `end` only for the innermost open span, `exit` only after all spans are
//! closed — and then applies the event to the state. Shared state is read at
//! the moment each event is emitted, so a multi-event action (a walk down a
//! shared tree) re-checks every step against what other goroutines did in
//! between.
//!
//! # Bounded live heap
//!
//! Most allocations die young: they land in locals and are overwritten, or
//! hang off other young blocks. A tunable share is *kept*: inserted as leaves
//! of a few long-lived trees whose roots are the first
//! [`RandomConfig::keep_trees`] globals (fan-out 8, leaves at depth
//! [`RandomConfig::keep_depth`]). Goroutines walk those trees through a local
//! cursor (`set lC G0`, `set lC lC.3`, ..., `alloc lC.5 ...`), so the paths in
//! events stay short while the structure is deep. A regulator compares the
//! estimated live bytes with [`RandomConfig::live_target_bytes`]: below it
//! walks grow the trees, near it they replace leaves, above it they prune.
//!
//! The estimate comes from a tracing collection of the shadow heap itself
//! (mark from every goroutine's locals and the globals, sweep into a free
//! list), run whenever as many blocks were allocated as were live at the
//! previous one. It keeps the generator's memory proportional to the live
//! state (apart from the output event list) and yields the
//! [`RandomStats::peak_live_bytes`] the default workload is tuned with. The
//! estimate counts every reachable block, including `auto` blocks that escape
//! analysis will later put on a stack, so it is an upper bound on the heap.

use crate::builder::{BuildError, EventSink};
use crate::model::{Args, BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, Src, Trace, WORD_BYTES};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use smallvec::SmallVec;

/// Most pointer slots a generated block has (the brief's `min(8, size/8)`).
const MAX_SLOTS: usize = 8;
/// Smallest "ordinary" allocation: sizes are log-uniform in 8 B ..=
/// [`RandomConfig::small_max_bytes`].
const SMALL_MIN_LOG2: f64 = 3.0;
/// Blocks hung off a kept leaf are log-uniform in 8 ..= 512 bytes.
const ATTACH_MAX_LOG2: f64 = 9.0;
/// Large allocations, 40 ..= 100 KiB: above Go's 32 KiB small-object limit,
/// so a size-class heap must put them in large-object spans.
const LARGE_MIN_BYTES: u32 = 40 * 1024;
const LARGE_MAX_BYTES: u32 = 100 * 1024;
/// A tree node of the long-lived structure: 8 pointer slots, nothing else.
const NODE_BYTES: u64 = 64;
const NODE_SLOTS: u32 = 8;
/// How much more often tree walks start while the live heap is below target.
const KEEP_GROW_BOOST: f64 = 4.0;
/// One random store in this many that lands on a tree node is let through
/// (the rest are redirected to the path's root), so trees are reshaped by
/// chance now and then but mostly live as long as the regulator wants.
const NODE_STORE_ODDS: u32 = 100;
/// `work` durations in nanoseconds: short computations between heap actions.
const WORK_MIN_NS: u64 = 50;
const WORK_MAX_NS: u64 = 2000;
/// Go's frame layout the text format assumes when no size is given:
/// 16 bytes (return address, frame pointer) plus one word per local.
const FRAME_HEADER_BYTES: u64 = 16;
/// Extra bytes of the big frames of a recursion burst (arrays on the stack):
/// a few such frames take a stack past Go's `stackMin` of 2 KiB.
const BIG_FRAME_EXTRA_MIN: u64 = 256;
const BIG_FRAME_EXTRA_MAX: u64 = 4096;
/// Open spans per goroutine at most (requests within requests).
const MAX_OPEN_SPANS: usize = 4;
/// Span tags; a goroutine always closes its innermost span first.
const TAGS: [&str; 5] = ["req", "rpc", "query", "batch", "render"];
/// Longest run of consecutive events of one goroutine in trace order.
const RUN_MAX: u32 = 8;
/// The shadow heap is collected at the latest after this many allocations,
/// and otherwise after as many as were live at the previous collection.
const SHADOW_GC_MIN_BLOCKS: u64 = 4096;

/// What [`random_trace`] generates. Every field has a default; a config is
/// usually written as `RandomConfig { seed: 7, events: 50_000, ..Default::default() }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomConfig {
    /// Seeds the ChaCha8 generator: the same config always gives the same trace.
    pub seed: u64,
    /// Spawned goroutines running at once (besides `g1`; at least 1).
    pub goroutines: u32,
    /// Approximate number of events (the closing phase adds a few).
    pub events: u64,
    /// Package-level pointer variables `G0 ..`; the first
    /// [`keep_trees`](Self::keep_trees) hold the long-lived trees, the rest
    /// are shared scratch goroutines pass blocks through.
    pub globals: u32,
    /// Most locals in a frame (at least 2).
    pub max_locals: u32,
    /// Probability that a store or allocation reads or writes shared state
    /// (a global or a path from one) instead of the goroutine's own locals.
    pub shared_fraction: f64,
    /// Probability per event of starting to insert a block into a long-lived
    /// tree (an action of about `keep_depth + 2` events); four times as
    /// likely while the live heap is below its target.
    pub keep_fraction: f64,
    /// The live bytes the long-lived trees are grown or pruned towards.
    pub live_target_bytes: u64,
    /// Globals that root long-lived trees (at most `globals`).
    pub keep_trees: u32,
    /// Depth of the leaves of a long-lived tree (fan-out 8: `8^depth` leaves).
    pub keep_depth: u32,
    /// Largest ordinary allocation in bytes (sizes are log-uniform from 8 B
    /// up to it; at least 8).
    pub small_max_bytes: u32,
    /// Share of allocations that are large (40–100 KiB).
    pub large_fraction: f64,
    /// Share of allocations placed `heap` rather than `auto`.
    pub heap_fraction: f64,
    /// Explicit `gc` events per million events.
    pub gc_per_million: f64,
    /// How many goroutines run, one after another, in each of the
    /// [`goroutines`](Self::goroutines) places over the trace (their lifetime
    /// in events is set from it).
    pub turnover: u32,
    /// Deepest call stack of a goroutine, in frames.
    pub max_depth: u32,
    /// Relative weight of `work` events among the random actions (default
    /// 100, against 250 allocations and 330 stores); 0 gives a trace of pure
    /// memory operations, for measuring the replayer itself.
    pub work_weight: u32,
}

impl Default for RandomConfig {
    fn default() -> Self {
        RandomConfig {
            seed: 1,
            goroutines: 8,
            events: 200_000,
            globals: 16,
            max_locals: 8,
            shared_fraction: 0.2,
            keep_fraction: 0.02,
            live_target_bytes: 8 << 20,
            keep_trees: 4,
            keep_depth: 5,
            small_max_bytes: 4096,
            large_fraction: 0.005,
            heap_fraction: 0.1,
            gc_per_million: 20.0,
            turnover: 3,
            max_depth: 48,
            work_weight: 100,
        }
    }
}

/// What the generator learned about the trace it wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RandomStats {
    pub events: u64,
    /// Goroutines that ever ran, `g1` included.
    pub goroutines: u64,
    /// Most goroutines alive at once, `g1` included.
    pub max_live_goroutines: u64,
    /// Blocks allocated.
    pub blocks: u64,
    /// Bytes allocated, all blocks (stack or heap) together.
    pub bytes_allocated: u64,
    /// Largest reachable bytes seen by the shadow collections: an estimate
    /// of the peak live heap, sampled at those collections and counting the
    /// blocks escape analysis may put on stacks.
    pub peak_live_bytes: u64,
    /// Reachable bytes at the end of the trace.
    pub final_live_bytes: u64,
    /// Largest stack of any goroutine, in bytes (sum of its frame sizes).
    pub max_stack_bytes: u64,
    /// Shadow collections run.
    pub shadow_gcs: u64,
    /// `gc` events emitted.
    pub gc_events: u64,
}

/// Generates a sound random trace; see the module documentation.
pub fn random_trace(cfg: &RandomConfig) -> Trace {
    random_trace_with_stats(cfg).0
}

/// [`random_trace`] and what the generator measured while writing it.
pub fn random_trace_with_stats(cfg: &RandomConfig) -> (Trace, RandomStats) {
    let mut gen = Gen::new(cfg, None);
    gen.run();
    gen.finish()
}

/// Streams the same trace as [`random_trace`] into `sink` (memory flat in
/// the trace's length: events are handed on in batches of
/// [`STREAM_BATCH_EVENTS`]).
pub fn random_to_sink(cfg: &RandomConfig, sink: &mut dyn EventSink) -> Result<RandomStats, BuildError> {
    sink.start(cfg.globals.max(1))?;
    let mut gen = Gen::new(cfg, Some(sink));
    gen.run();
    gen.flush();
    if let Some(e) = gen.io_error.take() {
        return Err(e.into());
    }
    let sink = gen.sink.take().expect("streaming");
    let (_, stats) = gen.finish();
    sink.end()?;
    Ok(stats)
}

/// Events the streaming generator buffers before handing them to its sink.
pub const STREAM_BATCH_EVENTS: usize = 1 << 16;

// ---------------------------------------------------------------------------
// Shadow state
// ---------------------------------------------------------------------------

const NIL_HANDLE: u32 = u32::MAX;

/// A pointer value in the shadow state: a shadow-heap handle and a slot
/// offset, or nil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Val {
    h: u32,
    off: u32,
}

impl Val {
    const NIL: Val = Val { h: NIL_HANDLE, off: 0 };
    fn is_nil(self) -> bool {
        self.h == NIL_HANDLE
    }
}

/// What a block is for, so tree walks can tell nodes from leaves. Only a
/// hint: soundness never depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Data,
    Node,
}

/// One block of the shadow heap.
#[derive(Clone, Debug)]
struct Block {
    size: u32,
    nslots: u8,
    kind: Kind,
    mark: bool,
    free: bool,
    slots: [Val; MAX_SLOTS],
}

impl Block {
    /// Addressable words (`X@K` needs `(off + K) * 8 < size`).
    fn words(&self) -> u32 {
        self.size.div_ceil(WORD_BYTES as u32)
    }
}

/// The shadow heap: a slab of blocks with a free list, collected by tracing.
#[derive(Default)]
struct Heap {
    blocks: Vec<Block>,
    free: Vec<u32>,
    mark_stack: Vec<u32>,
    allocs_since_gc: u64,
    live_blocks: u64,
    live_bytes: u64,
    /// Bytes inserted into long-lived trees since the last collection.
    kept_since_gc: u64,
}

impl Heap {
    fn new_block(&mut self, size: u32, nslots: u8, kind: Kind) -> u32 {
        let b = Block { size, nslots, kind, mark: false, free: false, slots: [Val::NIL; MAX_SLOTS] };
        self.allocs_since_gc += 1;
        match self.free.pop() {
            Some(h) => {
                self.blocks[h as usize] = b;
                h
            }
            None => {
                self.blocks.push(b);
                (self.blocks.len() - 1) as u32
            }
        }
    }

    fn block(&self, v: Val) -> Option<&Block> {
        if v.is_nil() {
            None
        } else {
            Some(&self.blocks[v.h as usize])
        }
    }

    /// Pointer slots reachable through `v` (`v.K` is valid for K below it).
    fn slots_through(&self, v: Val) -> u32 {
        match self.block(v) {
            Some(b) => (b.nslots as u32).saturating_sub(v.off),
            None => 0,
        }
    }

    fn shade(&mut self, v: Val) {
        if !v.is_nil() {
            let b = &mut self.blocks[v.h as usize];
            if !b.mark {
                b.mark = true;
                self.mark_stack.push(v.h);
            }
        }
    }

    /// Marks from `roots`, sweeps the rest into the free list, and records
    /// the live blocks and bytes.
    fn collect<'a>(&mut self, roots: impl Iterator<Item = &'a Val>) {
        for &v in roots {
            self.shade(v);
        }
        while let Some(h) = self.mark_stack.pop() {
            let b = &self.blocks[h as usize];
            let (n, slots) = (b.nslots as usize, b.slots);
            for &v in &slots[..n] {
                self.shade(v);
            }
        }
        let (mut blocks, mut bytes) = (0u64, 0u64);
        for (h, b) in self.blocks.iter_mut().enumerate() {
            if b.free {
                continue;
            }
            if b.mark {
                b.mark = false;
                blocks += 1;
                bytes += b.size as u64;
            } else {
                b.free = true;
                self.free.push(h as u32);
            }
        }
        self.live_blocks = blocks;
        self.live_bytes = bytes;
        self.allocs_since_gc = 0;
        self.kept_since_gc = 0;
    }
}

/// A multi-event action a goroutine is in the middle of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Idle,
    /// Walking a long-lived tree: local `cursor` of the top frame points at a
    /// node on level `level` (the root is level 0); `next` is the slot to take
    /// after a node was just created there.
    Keep {
        cursor: u32,
        level: u32,
        next: Option<u32>,
    },
    /// Hanging `left` more small blocks off the leaf at `lcursor.slot`.
    Attach {
        cursor: u32,
        slot: u32,
        left: u32,
    },
    /// Closing spans, then `exit`.
    Closing,
}

/// How long-lived trees are changed, from the live estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Grow,
    Replace,
    Prune,
}

/// A shadow goroutine.
struct Gor {
    id: u32,
    /// Every frame's locals, bottom frame first.
    locals: Vec<Val>,
    /// Start of each frame in `locals`.
    frames: Vec<u32>,
    /// Bytes of each frame.
    frame_bytes: Vec<u64>,
    stack_bytes: u64,
    /// Open span tags (indices into [`TAGS`]), innermost last.
    spans: Vec<u8>,
    /// Events left before it winds down (`u64::MAX` for `g1`).
    budget: u64,
    /// Depth the call/return random walk drifts towards.
    target_depth: u32,
    /// In a recursion burst: calls push big frames.
    big_frames: bool,
    task: Task,
}

impl Gor {
    fn top(&self) -> (usize, usize) {
        let start = *self.frames.last().expect("a shadow goroutine always has a frame") as usize;
        (start, self.locals.len() - start)
    }

    fn push_frame(&mut self, locals: u32, bytes: u64) {
        self.frames.push(self.locals.len() as u32);
        self.locals.resize(self.locals.len() + locals as usize, Val::NIL);
        self.frame_bytes.push(bytes);
        self.stack_bytes += bytes;
    }

    fn pop_frame(&mut self) {
        let start = self.frames.pop().expect("pop above the base frame") as usize;
        self.locals.truncate(start);
        self.stack_bytes -= self.frame_bytes.pop().expect("frame sizes follow frames");
    }
}

/// A location resolved in the shadow state.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Index into the goroutine's `locals`.
    Local(usize),
    Global(u32),
    /// Block handle and absolute slot index.
    Slot(u32, u32),
}

/// The generator: configuration, random source, shadow state and output.
struct Gen<'c> {
    cfg: &'c RandomConfig,
    /// Where events go when streaming (else they collect in `events`).
    sink: Option<&'c mut dyn EventSink>,
    /// The first error the sink returned (generation stops writing then).
    io_error: Option<std::io::Error>,
    /// Events emitted so far (streamed or buffered).
    emitted: u64,
    rng: ChaCha8Rng,
    heap: Heap,
    /// Live goroutines; `gors[0]` is always `g1`.
    gors: Vec<Gor>,
    globals: Vec<Val>,
    events: Vec<Event>,
    next_block: u32,
    next_gid: u32,
    /// No more spawns: the closing phase has started.
    closing: bool,
    /// Events a spawned goroutine runs, on average.
    mean_life: u64,
    max_locals: u32,
    keep_trees: u32,
    stats: RandomStats,
}

impl<'c> Gen<'c> {
    fn new(cfg: &'c RandomConfig, sink: Option<&'c mut dyn EventSink>) -> Self {
        let globals = cfg.globals.max(1);
        let goroutines = cfg.goroutines.max(1) as u64;
        Gen {
            cfg,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            heap: Heap::default(),
            gors: Vec::new(),
            globals: vec![Val::NIL; globals as usize],
            events: Vec::with_capacity(if sink.is_some() { STREAM_BATCH_EVENTS } else { cfg.events as usize + 1024 }),
            sink,
            io_error: None,
            emitted: 0,
            next_block: 0,
            next_gid: 2,
            closing: false,
            mean_life: (cfg.events / ((goroutines + 1) * cfg.turnover.max(1) as u64)).max(16),
            max_locals: cfg.max_locals.max(2),
            keep_trees: cfg.keep_trees.min(globals),
            stats: RandomStats::default(),
        }
    }

    // -- output ------------------------------------------------------------

    fn emit(&mut self, gi: usize, op: Op) {
        let g = GoroutineId(self.gors[gi].id);
        self.events.push(Event { g, op });
        self.emitted += 1;
        if self.sink.is_some() && self.events.len() >= STREAM_BATCH_EVENTS {
            self.flush();
        }
    }

    /// Hands the buffered events to the sink (when streaming).
    fn flush(&mut self) {
        let Some(sink) = self.sink.as_mut() else { return };
        for e in self.events.drain(..) {
            if self.io_error.is_none() {
                if let Err(err) = sink.event(&e) {
                    self.io_error = Some(err);
                }
            }
        }
    }

    fn finish(mut self) -> (Trace, RandomStats) {
        self.shadow_gc();
        self.stats.final_live_bytes = self.heap.live_bytes;
        self.stats.events = self.emitted;
        self.stats.blocks = self.next_block as u64;
        self.stats.goroutines = self.next_gid as u64 - 1;
        let trace = Trace {
            globals: self.globals.len() as u32,
            events: self.events,
            block_names: (0..self.next_block as u64).collect(),
            positions: Vec::new(),
            source_name: Some(format!("<random seed={}>", self.cfg.seed)),
        };
        (trace, self.stats)
    }

    // -- random helpers (u32 ranges: portable across platforms) ------------

    fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        self.rng.random_range(0..n)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    // -- the shadow state --------------------------------------------------

    fn read(&self, gi: usize, t: Target) -> Val {
        match t {
            Target::Local(i) => self.gors[gi].locals[i],
            Target::Global(k) => self.globals[k as usize],
            Target::Slot(h, i) => self.heap.blocks[h as usize].slots[i as usize],
        }
    }

    fn write(&mut self, gi: usize, t: Target, v: Val) {
        match t {
            Target::Local(i) => self.gors[gi].locals[i] = v,
            Target::Global(k) => self.globals[k as usize] = v,
            Target::Slot(h, i) => self.heap.blocks[h as usize].slots[i as usize] = v,
        }
    }

    fn local_target(&self, gi: usize, k: u32) -> Target {
        Target::Local(self.gors[gi].top().0 + k as usize)
    }

    /// Follows `depth` random slots from `root`; `None` when a step finds nil
    /// or no slot in range.
    fn walk(&mut self, gi: usize, root: Root, depth: u32) -> Option<(Loc, Target, Val)> {
        let mut t = match root {
            Root::Local(k) => self.local_target(gi, k),
            Root::Global(k) => Target::Global(k),
        };
        let mut v = self.read(gi, t);
        let mut loc = Loc { root, path: SmallVec::new() };
        for _ in 0..depth {
            let n = self.heap.slots_through(v);
            if n == 0 {
                return None;
            }
            let k = self.below(n);
            t = Target::Slot(v.h, v.off + k);
            v = self.read(gi, t);
            loc.path.push(k);
        }
        Some((loc, t, v))
    }

    /// A root: a local of the top frame, or (when `shared`, or when the frame
    /// has no locals) a global. Destinations never pick a tree root.
    fn pick_root(&mut self, gi: usize, shared: bool, for_dst: bool) -> Option<Root> {
        let n = self.gors[gi].top().1 as u32;
        if !shared && n > 0 {
            return Some(Root::Local(self.below(n)));
        }
        let globals = self.globals.len() as u32;
        let scratch = globals - self.keep_trees;
        if scratch > 0 && (for_dst || !self.chance(0.05)) {
            Some(Root::Global(self.keep_trees + self.below(scratch)))
        } else if !for_dst {
            Some(Root::Global(self.below(globals)))
        } else if n > 0 {
            Some(Root::Local(self.below(n)))
        } else {
            None
        }
    }

    /// A value to store and its spelling: nil, a location (depth 0–2) or an
    /// interior pointer.
    fn pick_src(&mut self, gi: usize) -> (Src, Val) {
        if self.below(100) < 12 {
            return (Src::Nil, Val::NIL);
        }
        let shared = self.chance(self.cfg.shared_fraction);
        let Some(root) = self.pick_root(gi, shared, false) else {
            return (Src::Nil, Val::NIL);
        };
        let depth = match self.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let (loc, _, v) = match self.walk(gi, root, depth) {
            Some(w) => w,
            None => self.walk(gi, root, 0).expect("a root is always readable"),
        };
        if let Some(b) = self.heap.block(v) {
            let room = b.words().saturating_sub(v.off);
            if room >= 2 && self.below(10) == 0 {
                let k = self.rng.random_range(1..room);
                return (Src::Interior(loc, k), Val { h: v.h, off: v.off + k });
            }
        }
        (Src::Loc(loc), v)
    }

    /// A location to store into: a local, a scratch global, or a slot 1–2
    /// steps from either.
    fn pick_dst(&mut self, gi: usize) -> Option<(Loc, Target)> {
        let shared = self.chance(self.cfg.shared_fraction);
        let root = self.pick_root(gi, shared, true)?;
        let depth = match self.below(20) {
            0..=9 => 0,
            10..=16 => 1,
            _ => 2,
        };
        let into_node = |gen: &Self, t: Target| match t {
            Target::Slot(h, _) => gen.heap.blocks[h as usize].kind == Kind::Node,
            _ => false,
        };
        let (loc, t, _) = match self.walk(gi, root, depth) {
            // Tree nodes are changed by tree walks, and only rarely by chance:
            // a random store into a node would cut off a whole subtree.
            Some((_, t, _)) if into_node(self, t) && self.below(NODE_STORE_ODDS) != 0 => {
                self.walk(gi, root, 0).expect("a root is always writable")
            }
            Some(w) => w,
            None => self.walk(gi, root, 0).expect("a root is always writable"),
        };
        Some((loc, t))
    }

    /// Size, pointer slots and cause of an ordinary allocation.
    fn data_shape(&mut self) -> (u32, u8, Cause) {
        if self.chance(self.cfg.large_fraction) {
            let size = self.rng.random_range(LARGE_MIN_BYTES..=LARGE_MAX_BYTES) & !7;
            const CAUSES: [Cause; 4] = [Cause::MakeSlice, Cause::Append, Cause::MapGrow, Cause::Var];
            let cause = CAUSES[self.below(4) as usize];
            let slots = self.below(MAX_SLOTS as u32 + 1) as u8;
            return (size, slots, cause);
        }
        let max_log2 = (self.cfg.small_max_bytes.max(8) as f64).log2();
        let e: f64 = self.rng.random_range(SMALL_MIN_LOG2..=max_log2);
        let mut size = e.exp2() as u32;
        if self.below(2) == 0 {
            size = (size + 7) & !7;
        }
        self.small_shape(size)
    }

    fn small_shape(&mut self, size: u32) -> (u32, u8, Cause) {
        let size = size.max(1);
        const TINY: [Cause; 7] =
            [Cause::New, Cause::Iface, Cause::Itoa, Cause::Conv, Cause::Var, Cause::Closure, Cause::Literal];
        const SMALL: [Cause; 10] = [
            Cause::New,
            Cause::Literal,
            Cause::MakeSlice,
            Cause::MakeMap,
            Cause::Append,
            Cause::Concat,
            Cause::Var,
            Cause::MapGrow,
            Cause::MakeChan,
            Cause::Other,
        ];
        let cause = if size <= 32 {
            TINY[self.below(TINY.len() as u32) as usize]
        } else {
            SMALL[self.below(SMALL.len() as u32) as usize]
        };
        let max = (size / WORD_BYTES as u32).min(MAX_SLOTS as u32);
        let slots = match cause {
            // Strings and byte slices hold no pointers.
            Cause::Itoa | Cause::Concat | Cause::Conv => 0,
            _ if self.below(10) < 3 => 0,
            _ => self.below(max + 1),
        };
        (size, slots as u8, cause)
    }

    fn placement(&mut self) -> Placement {
        if self.chance(self.cfg.heap_fraction) {
            Placement::Heap
        } else {
            Placement::Auto
        }
    }

    /// Emits `alloc dst bN size slots cause placement` and stores the new
    /// block at `t` (the already resolved `dst`).
    #[allow(clippy::too_many_arguments)]
    fn alloc(&mut self, gi: usize, dst: Loc, t: Target, size: u32, slots: u8, kind: Kind, cause: Cause) -> u32 {
        let placement = self.placement();
        let h = self.heap.new_block(size, slots, kind);
        self.write(gi, t, Val { h, off: 0 });
        let block = BlockIdx(self.next_block);
        self.next_block += 1;
        self.stats.bytes_allocated += size as u64;
        self.emit(gi, Op::Alloc { dst, block, size: size as u64, ptr_slots: slots as u32, cause, placement });
        h
    }

    fn alloc_node(&mut self, gi: usize, dst: Loc, t: Target) {
        self.alloc(gi, dst, t, NODE_BYTES as u32, NODE_SLOTS as u8, Kind::Node, Cause::MakeMap);
        self.heap.kept_since_gc += NODE_BYTES;
    }

    fn mode(&self) -> Mode {
        let est = self.heap.live_bytes + self.heap.kept_since_gc;
        let target = self.cfg.live_target_bytes;
        if est < target {
            Mode::Grow
        } else if est < target + target / 4 {
            Mode::Replace
        } else {
            Mode::Prune
        }
    }

    fn shadow_gc(&mut self) {
        let roots = self.globals.iter().chain(self.gors.iter().flat_map(|g| g.locals.iter()));
        self.heap.collect(roots);
        self.stats.shadow_gcs += 1;
        self.stats.peak_live_bytes = self.stats.peak_live_bytes.max(self.heap.live_bytes);
    }

    fn maybe_shadow_gc(&mut self) {
        if self.heap.allocs_since_gc >= self.heap.live_blocks.max(SHADOW_GC_MIN_BLOCKS) {
            self.shadow_gc();
        }
    }

    // -- the program -------------------------------------------------------

    /// Writes the program; stops early once the sink has refused an event
    /// (a full disk: generating the rest would only be thrown away).
    fn run(&mut self) {
        self.setup();
        while self.emitted < self.cfg.events && self.io_error.is_none() {
            self.interleave_run();
        }
        if self.io_error.is_some() {
            return;
        }
        // Closing phase: every spawned goroutine closes its spans and exits,
        // while g1 keeps running; then g1 winds down alone.
        self.closing = true;
        for g in &mut self.gors[1..] {
            g.task = Task::Closing;
        }
        while self.gors.len() > 1 && self.io_error.is_none() {
            self.interleave_run();
        }
        self.finale();
    }

    /// One run of 1..=[`RUN_MAX`] events of a random goroutine.
    fn interleave_run(&mut self) {
        let gi = self.below(self.gors.len() as u32) as usize;
        let id = self.gors[gi].id;
        let run = self.rng.random_range(1..=RUN_MAX);
        for _ in 0..run {
            self.step(gi);
            if gi >= self.gors.len() || self.gors[gi].id != id {
                break; // it exited
            }
        }
        self.maybe_shadow_gc();
    }

    /// g1 enters main, roots the long-lived trees, allocates its first blocks
    /// and starts the goroutines, passing them its locals.
    fn setup(&mut self) {
        let n = self.max_locals;
        self.gors.push(Gor {
            id: GoroutineId::MAIN.0,
            locals: Vec::new(),
            frames: Vec::new(),
            frame_bytes: Vec::new(),
            stack_bytes: 0,
            spans: Vec::new(),
            budget: u64::MAX,
            target_depth: 3,
            big_frames: false,
            task: Task::Idle,
        });
        let bytes = FRAME_HEADER_BYTES + WORD_BYTES * n as u64;
        self.gors[0].push_frame(n, bytes);
        self.emit(0, Op::Call { locals: n, frame_bytes: None, args: Args::new() });
        for k in 0..self.keep_trees {
            self.alloc_node(0, Loc::global(k), Target::Global(k));
        }
        for k in 0..n.min(4) {
            let (size, slots, cause) = self.data_shape();
            let t = self.local_target(0, k);
            self.alloc(0, Loc::local(k), t, size, slots, Kind::Data, cause);
        }
        for k in self.keep_trees..self.globals.len() as u32 {
            if self.below(2) == 0 {
                let l = self.below(n.min(4));
                let v = self.read(0, self.local_target(0, l));
                self.globals[k as usize] = v;
                self.emit(0, Op::Set { dst: Loc::global(k), src: Src::Loc(Loc::local(l)) });
            }
        }
        for _ in 0..self.cfg.goroutines.max(1) {
            self.spawn(0, true);
        }
        self.stats.max_live_goroutines = self.gors.len() as u64;
    }

    /// g1's last events: close spans, return to main's frame (copying some
    /// results into globals), gather the globals into one block kept in a
    /// global, and collect.
    fn finale(&mut self) {
        self.gors[0].task = Task::Idle;
        while let Some(tag) = self.gors[0].spans.pop() {
            self.emit(0, Op::End { tag: TAGS[tag as usize].to_string() });
        }
        while self.gors[0].frames.len() > 1 {
            self.ret(0);
        }
        let globals = self.globals.len() as u32;
        let keep = globals - 1;
        let t = self.local_target(0, 0);
        let slots = globals.min(NODE_SLOTS);
        let h = self.alloc(0, Loc::local(0), t, NODE_BYTES as u32, slots as u8, Kind::Node, Cause::Literal);
        for k in 0..slots {
            self.heap.blocks[h as usize].slots[k as usize] = self.globals[k as usize];
            self.emit(0, Op::Set { dst: Loc::local(0).slot(k), src: Src::Loc(Loc::global(k)) });
        }
        self.globals[keep as usize] = Val { h, off: 0 };
        self.emit(0, Op::Set { dst: Loc::global(keep), src: Src::Loc(Loc::local(0)) });
        self.write(0, t, Val::NIL);
        self.emit(0, Op::Set { dst: Loc::local(0), src: Src::Nil });
        self.stats.gc_events += 1;
        self.emit(0, Op::Gc);
    }

    /// One event of goroutine `gi`.
    fn step(&mut self, gi: usize) {
        let gc_p = self.cfg.gc_per_million / 1e6;
        if gc_p > 0.0 && self.chance(gc_p) {
            self.stats.gc_events += 1;
            self.emit(gi, Op::Gc);
            return;
        }
        match self.gors[gi].task {
            Task::Closing => return self.close_step(gi),
            Task::Keep { cursor, level, next } => {
                if self.keep_step(gi, cursor, level, next) {
                    return;
                }
            }
            Task::Attach { cursor, slot, left } => {
                if self.attach_step(gi, cursor, slot, left) {
                    return;
                }
            }
            Task::Idle => {}
        }
        let g = &mut self.gors[gi];
        if g.budget == 0 {
            g.task = Task::Closing;
            return self.close_step(gi);
        }
        if g.budget != u64::MAX {
            g.budget -= 1;
        }
        self.normal_step(gi);
    }

    fn normal_step(&mut self, gi: usize) {
        if self.below(500) == 0 {
            let g = &mut self.gors[gi];
            let burst = self.rng.random_range(0..10u32) < 3;
            g.big_frames = burst;
            g.target_depth = if burst {
                self.rng.random_range(12..=self.cfg.max_depth.max(13))
            } else {
                self.rng.random_range(1..=6)
            };
        }
        let g = &self.gors[gi];
        let depth = g.frames.len() as u32;
        let call_w = if depth >= self.cfg.max_depth.max(2) {
            0
        } else if depth < g.target_depth {
            150
        } else {
            15
        };
        let ret_w = if depth <= 1 {
            0
        } else if depth > g.target_depth {
            150
        } else {
            15
        };
        let spawn_w = if !self.closing && self.gors.len() <= self.cfg.goroutines.max(1) as usize { 40 } else { 0 };
        let begin_w = if g.spans.len() < MAX_OPEN_SPANS { 12 } else { 0 };
        let end_w = if g.spans.is_empty() { 0 } else { 12 };
        // While the trees are below target they are grown at a faster rate,
        // so the live heap reaches its working size early in the trace.
        let keep_boost = if self.mode() == Mode::Grow { KEEP_GROW_BOOST } else { 1.0 };
        let keep_w = (self.cfg.keep_fraction * keep_boost * 1000.0).round() as u32;
        let weights = [250, 330, self.cfg.work_weight, call_w, ret_w, spawn_w, begin_w, end_w, keep_w];
        let total: u32 = weights.iter().sum();
        let mut r = self.below(total);
        let mut choice = 0;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                choice = i;
                break;
            }
            r -= w;
        }
        match choice {
            0 => self.random_alloc(gi),
            1 => self.random_set(gi),
            2 => self.work(gi),
            3 => self.call(gi),
            4 => self.ret(gi),
            5 => self.spawn(gi, false),
            6 => {
                let tag = self.below(TAGS.len() as u32) as u8;
                self.gors[gi].spans.push(tag);
                self.emit(gi, Op::Begin { tag: TAGS[tag as usize].to_string() });
            }
            7 => {
                let tag = self.gors[gi].spans.pop().expect("end only with an open span");
                self.emit(gi, Op::End { tag: TAGS[tag as usize].to_string() });
            }
            _ => self.keep_start(gi),
        }
    }

    fn work(&mut self, gi: usize) {
        let ns = self.rng.random_range(WORK_MIN_NS..=WORK_MAX_NS);
        self.emit(gi, Op::Work { ns });
    }

    fn random_alloc(&mut self, gi: usize) {
        let n = self.gors[gi].top().1 as u32;
        let (dst, t) = if n > 0 && self.below(4) != 0 {
            let k = self.below(n);
            (Loc::local(k), self.local_target(gi, k))
        } else {
            match self.pick_dst(gi) {
                Some(d) => d,
                None => return self.work(gi),
            }
        };
        let (size, slots, cause) = self.data_shape();
        self.alloc(gi, dst, t, size, slots, Kind::Data, cause);
    }

    fn random_set(&mut self, gi: usize) {
        let (src, v) = self.pick_src(gi);
        let Some((dst, t)) = self.pick_dst(gi) else {
            return self.work(gi);
        };
        self.write(gi, t, v);
        self.emit(gi, Op::Set { dst, src });
    }

    /// Up to three arguments evaluated in the current top frame.
    fn pick_args(&mut self, gi: usize, locals: u32, at_least: u32) -> (Args, SmallVec<[Val; 3]>) {
        let nargs = self.rng.random_range(at_least.min(locals)..=locals.min(3));
        let mut args = Args::with_capacity(nargs as usize);
        let mut vals = SmallVec::new();
        for _ in 0..nargs {
            let (s, v) = self.pick_src(gi);
            args.push(s);
            vals.push(v);
        }
        (args, vals)
    }

    /// Explicit frame bytes for a frame of `locals` locals, or `None` for the
    /// default `16 + 8 * locals`.
    fn frame_bytes(&mut self, gi: usize, locals: u32) -> (Option<u64>, u64) {
        let default = FRAME_HEADER_BYTES + WORD_BYTES * locals as u64;
        if self.gors[gi].big_frames {
            let extra = self.rng.random_range(BIG_FRAME_EXTRA_MIN..=BIG_FRAME_EXTRA_MAX) & !7;
            (Some(default + extra), default + extra)
        } else if self.below(10) == 0 {
            let extra = WORD_BYTES * self.rng.random_range(1..=64u64);
            (Some(default + extra), default + extra)
        } else {
            (None, default)
        }
    }

    fn call(&mut self, gi: usize) {
        let locals = self.rng.random_range(1..=self.max_locals);
        let (args, vals) = self.pick_args(gi, locals, 0);
        let (frame_bytes, bytes) = self.frame_bytes(gi, locals);
        let g = &mut self.gors[gi];
        g.push_frame(locals, bytes);
        let start = g.top().0;
        g.locals[start..start + vals.len()].copy_from_slice(&vals);
        self.stats.max_stack_bytes = self.stats.max_stack_bytes.max(g.stack_bytes);
        self.emit(gi, Op::Call { locals, frame_bytes, args });
    }

    /// `ret`, half the time copying a callee value into a caller location.
    fn ret(&mut self, gi: usize) {
        debug_assert!(self.gors[gi].frames.len() > 1);
        if self.below(2) == 0 {
            let (src, v) = self.pick_src(gi);
            self.gors[gi].pop_frame();
            if let Some((dst, t)) = self.pick_dst(gi) {
                self.write(gi, t, v);
                return self.emit(gi, Op::Ret { copy: Some((src, dst)) });
            }
        } else {
            self.gors[gi].pop_frame();
        }
        self.emit(gi, Op::Ret { copy: None });
    }

    /// `go gK N args`: a new goroutine whose one frame gets arguments from
    /// the parent's top frame (only its locals when `from_locals`).
    fn spawn(&mut self, gi: usize, from_locals: bool) {
        let locals = self.rng.random_range(2..=self.max_locals);
        let (args, vals) = if from_locals {
            let n = self.gors[gi].top().1 as u32;
            let nargs = self.rng.random_range(1..=3u32.min(locals).min(n));
            let mut args = Args::new();
            let mut vals = SmallVec::<[Val; 3]>::new();
            for _ in 0..nargs {
                let k = self.below(n);
                args.push(Src::Loc(Loc::local(k)));
                vals.push(self.read(gi, self.local_target(gi, k)));
            }
            (args, vals)
        } else {
            self.pick_args(gi, locals, 1)
        };
        let (frame_bytes, bytes) = self.frame_bytes(gi, locals);
        let id = self.next_gid;
        self.next_gid += 1;
        let life = self.rng.random_range(self.mean_life / 2..=self.mean_life * 3 / 2);
        let mut g = Gor {
            id,
            locals: Vec::new(),
            frames: Vec::new(),
            frame_bytes: Vec::new(),
            stack_bytes: 0,
            spans: Vec::new(),
            budget: life,
            target_depth: self.rng.random_range(1..=6),
            big_frames: false,
            task: Task::Idle,
        };
        g.push_frame(locals, bytes);
        g.locals[..vals.len()].copy_from_slice(&vals);
        self.gors.push(g);
        self.stats.max_live_goroutines = self.stats.max_live_goroutines.max(self.gors.len() as u64);
        self.emit(gi, Op::Go { child: GoroutineId(id), locals, frame_bytes, args });
    }

    fn close_step(&mut self, gi: usize) {
        if let Some(tag) = self.gors[gi].spans.pop() {
            return self.emit(gi, Op::End { tag: TAGS[tag as usize].to_string() });
        }
        self.emit(gi, Op::Exit);
        self.gors.swap_remove(gi);
    }

    // -- long-lived trees ----------------------------------------------------

    /// Starts a walk down a random tree with a random local as cursor (or
    /// plants the tree's root if the tree is gone).
    fn keep_start(&mut self, gi: usize) {
        let n = self.gors[gi].top().1 as u32;
        if self.keep_trees == 0 || n == 0 {
            return self.random_alloc(gi);
        }
        let tree = self.below(self.keep_trees);
        if self.globals[tree as usize].is_nil() {
            return self.alloc_node(gi, Loc::global(tree), Target::Global(tree));
        }
        let cursor = self.below(n);
        let t = self.local_target(gi, cursor);
        self.write(gi, t, self.globals[tree as usize]);
        self.emit(gi, Op::Set { dst: Loc::local(cursor), src: Src::Loc(Loc::global(tree)) });
        self.gors[gi].task = Task::Keep { cursor, level: 0, next: None };
    }

    /// One step of a tree walk; `false` when the walk ended without an event.
    fn keep_step(&mut self, gi: usize, cursor: u32, level: u32, next: Option<u32>) -> bool {
        self.gors[gi].task = Task::Idle;
        let ct = self.local_target(gi, cursor);
        let v = self.read(gi, ct);
        let n = self.heap.slots_through(v);
        if n == 0 {
            return false;
        }
        let j = match next {
            Some(j) if j < n => j,
            _ => self.below(n),
        };
        let st = Target::Slot(v.h, v.off + j);
        let child = self.read(gi, st);
        let here = Loc::local(cursor).slot(j);
        let mode = self.mode();
        if level + 1 >= self.cfg.keep_depth.max(1) {
            // The slot holds a leaf.
            match mode {
                Mode::Prune => {
                    self.write(gi, st, Val::NIL);
                    self.emit(gi, Op::Set { dst: here, src: Src::Nil });
                }
                Mode::Replace if child.is_nil() => return false,
                _ => {
                    let (size, slots, cause) = self.data_shape();
                    self.alloc(gi, here, st, size, slots, Kind::Data, cause);
                    self.heap.kept_since_gc += size as u64;
                    if slots > 0 && self.below(2) == 0 {
                        let left = self.rng.random_range(1..=3u32.min(slots as u32));
                        self.gors[gi].task = Task::Attach { cursor, slot: j, left };
                    }
                }
            }
            return true;
        }
        let is_node = self.heap.block(child).is_some_and(|b| b.kind == Kind::Node) && child.off == 0;
        if is_node {
            if mode == Mode::Prune && self.below(5) == 0 {
                self.write(gi, st, Val::NIL);
                self.emit(gi, Op::Set { dst: here, src: Src::Nil });
            } else {
                self.write(gi, ct, child);
                self.emit(gi, Op::Set { dst: Loc::local(cursor), src: Src::Loc(here) });
                self.gors[gi].task = Task::Keep { cursor, level: level + 1, next: None };
            }
            return true;
        }
        if mode != Mode::Grow {
            return false;
        }
        self.alloc_node(gi, here, st);
        self.gors[gi].task = Task::Keep { cursor, level, next: Some(j) };
        true
    }

    /// Hangs one small block off the leaf at `lcursor.slot`; `false` when the
    /// leaf is gone (another goroutine replaced it, or it has no slots).
    fn attach_step(&mut self, gi: usize, cursor: u32, slot: u32, left: u32) -> bool {
        self.gors[gi].task = Task::Idle;
        let v = self.read(gi, self.local_target(gi, cursor));
        if slot >= self.heap.slots_through(v) {
            return false;
        }
        let leaf = self.read(gi, Target::Slot(v.h, v.off + slot));
        let n = self.heap.slots_through(leaf);
        if n == 0 {
            return false;
        }
        let k = self.below(n);
        let t = Target::Slot(leaf.h, leaf.off + k);
        let e: f64 = self.rng.random_range(SMALL_MIN_LOG2..=ATTACH_MAX_LOG2);
        let (size, slots, cause) = self.small_shape(e.exp2() as u32);
        let slots = slots.min(2);
        self.alloc(gi, Loc::local(cursor).slot(slot).slot(k), t, size, slots, Kind::Data, cause);
        self.heap.kept_since_gc += size as u64;
        if left > 1 {
            self.gors[gi].task = Task::Attach { cursor, slot, left: left - 1 };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::check;

    fn small(seed: u64) -> RandomConfig {
        RandomConfig { seed, events: 30_000, ..RandomConfig::default() }
    }

    #[test]
    fn same_seed_gives_the_identical_trace() {
        assert_eq!(random_trace(&small(11)), random_trace(&small(11)));
    }

    #[test]
    fn different_seeds_give_different_traces() {
        let (a, b) = (random_trace(&small(11)), random_trace(&small(12)));
        assert_ne!(a.events, b.events);
    }

    #[test]
    fn generated_traces_pass_an_independent_checker() {
        let configs = [
            small(1),
            small(2),
            // Tiny frames, one global, no trees: the generator must still find valid events.
            RandomConfig {
                seed: 3,
                events: 20_000,
                globals: 1,
                max_locals: 2,
                keep_trees: 0,
                ..RandomConfig::default()
            },
            // Everything shared, many goroutines, short lives, many gcs and large blocks.
            RandomConfig {
                seed: 4,
                events: 20_000,
                goroutines: 40,
                shared_fraction: 1.0,
                turnover: 20,
                gc_per_million: 2_000.0,
                large_fraction: 0.2,
                heap_fraction: 1.0,
                ..RandomConfig::default()
            },
            // Shallow trees and a tiny live target: constant pruning.
            RandomConfig {
                seed: 5,
                events: 20_000,
                keep_depth: 1,
                keep_fraction: 0.3,
                live_target_bytes: 1,
                ..RandomConfig::default()
            },
        ];
        for cfg in &configs {
            let (t, stats) = random_trace_with_stats(cfg);
            let sum = check::check(&t).unwrap_or_else(|e| panic!("seed {}: {e}", cfg.seed));
            assert_eq!(t.block_names, (0..stats.blocks).collect::<Vec<_>>());
            assert_eq!(sum.goroutines as u64, stats.goroutines);
            assert_eq!(t.events[0].g, GoroutineId::MAIN);
            assert!(matches!(t.events[0].op, Op::Call { .. }), "g1 starts with no frame");
        }
    }

    #[test]
    fn a_trace_exercises_every_kind_of_event() {
        let cfg = RandomConfig { seed: 9, events: 100_000, gc_per_million: 100.0, ..RandomConfig::default() };
        let (t, stats) = random_trace_with_stats(&cfg);
        let sum = check::check(&t).expect("sound");
        assert!(sum.interior_srcs > 100, "{sum:?}");
        assert!(sum.path_derefs > 10_000, "{sum:?}");
        assert!(sum.ret_copies > 100, "{sum:?}");
        assert!(sum.large_allocs > 10, "{sum:?}");
        assert!(sum.heap_allocs > 1_000, "{sum:?}");
        assert!(sum.gcs >= 2, "{sum:?}");
        assert!(sum.spans > 100, "{sum:?}");
        // Goroutines come and go: more ran than the 8 + g1 alive at once.
        assert!(sum.goroutines > 2 * cfg.goroutines as usize, "{sum:?}");
        assert_eq!(sum.exits, sum.goroutines - 1, "every spawned goroutine exits, g1 does not");
        assert!(stats.max_live_goroutines > cfg.goroutines as u64);
        // Recursion bursts take stacks well past Go's 2 KiB minimum.
        assert!(sum.max_stack_bytes > 8 * 1024, "{sum:?}");
        assert_eq!(sum.max_stack_bytes, stats.max_stack_bytes);
        // Interleaved in short runs.
        assert!(sum.switches > t.events.len() / 10, "{sum:?}");
        // Ends with g1 keeping a structure in a global, then collecting.
        assert_eq!(t.events.last().map(|e| (e.g, &e.op)), Some((GoroutineId::MAIN, &Op::Gc)));
        assert!(stats.final_live_bytes > 0);
    }

    #[test]
    fn generated_traces_round_trip_through_both_codecs() {
        let t = random_trace(&small(31));
        let mut text = Vec::new();
        crate::text::write_text(&t, &mut text).expect("the text writer accepts every generated event");
        let back = crate::text::parse_text(std::str::from_utf8(&text).unwrap(), "rt.gct").expect("parses");
        assert_eq!((back.globals, &back.events, &back.block_names), (t.globals, &t.events, &t.block_names));
        let mut bin = Vec::new();
        crate::binary::write_binary(&t, &mut bin).expect("the binary writer accepts every generated event");
        let back = crate::binary::parse_binary(&bin, "rt.gctb").expect("parses");
        assert_eq!((back.globals, &back.events, &back.block_names), (t.globals, &t.events, &t.block_names));
    }

    #[test]
    fn analyze_accepts_twenty_random_traces() {
        for seed in 0..20u64 {
            let cfg = RandomConfig {
                seed,
                events: 1_000 + seed * seed * 400,
                goroutines: 1 + (seed as u32 * 7) % 32,
                globals: 1 + (seed as u32 * 5) % 24,
                max_locals: 2 + seed as u32 % 9,
                shared_fraction: (seed % 5) as f64 / 4.0,
                keep_trees: seed as u32 % 5,
                keep_depth: 1 + seed as u32 % 6,
                live_target_bytes: (1 + seed % 4) << 20,
                turnover: 1 + seed as u32 % 6,
                gc_per_million: 200.0,
                ..RandomConfig::default()
            };
            let t = random_trace(&cfg);
            let a = crate::analysis::analyze(&t).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(a.blocks.len(), t.block_names.len());
            // Goroutines depend on each other through what they share.
            if cfg.goroutines > 1 && cfg.shared_fraction > 0.0 {
                assert!(a.dep_count() > 0, "seed {seed}: no cross-goroutine dependency");
            }
        }
    }

    #[test]
    fn goroutines_share_blocks_through_globals() {
        let t = random_trace(&small(21));
        // Which goroutines read and write each global.
        let mut writers = vec![std::collections::BTreeSet::new(); t.globals as usize];
        let mut readers = writers.clone();
        for e in &t.events {
            if let Op::Set { dst, src } = &e.op {
                if let Root::Global(k) = dst.root {
                    writers[k as usize].insert(e.g);
                }
                if let Src::Loc(l) | Src::Interior(l, _) = src {
                    if let Root::Global(k) = l.root {
                        readers[k as usize].insert(e.g);
                    }
                }
            }
        }
        let shared = (0..t.globals as usize).filter(|&k| writers[k].len() > 3 && readers[k].len() > 3).count();
        assert!(shared > t.globals as usize / 2, "globals read and written by several goroutines: {shared}");
    }

    #[test]
    fn the_live_heap_is_regulated_towards_its_target() {
        for target in [2u64 << 20, 8 << 20] {
            let cfg = RandomConfig { seed: 13, events: 400_000, live_target_bytes: target, ..RandomConfig::default() };
            let (_, stats) = random_trace_with_stats(&cfg);
            assert!(stats.peak_live_bytes > target / 2, "target {target}: {stats:?}");
            assert!(stats.peak_live_bytes < target * 2, "target {target}: {stats:?}");
            // Most allocation dies: many times the peak was allocated.
            assert!(stats.bytes_allocated > 5 * stats.peak_live_bytes, "{stats:?}");
        }
    }

    #[test]
    fn the_shadow_heap_is_proportional_to_the_live_heap() {
        let cfg = RandomConfig { seed: 17, events: 300_000, live_target_bytes: 1 << 20, ..RandomConfig::default() };
        let mut gen = Gen::new(&cfg, None);
        gen.run();
        let slab = gen.heap.blocks.len() as u64;
        assert!(gen.next_block as u64 > 10 * slab, "{} blocks allocated, slab of {slab}", gen.next_block);
    }
}

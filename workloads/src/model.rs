//! The in-memory form of a gcwb trace (format v1).
//!
//! A [`Trace`] is what the text codec ([`crate::text`]) and the binary codec
//! ([`crate::binary`]) read and write: a flat list of [`Event`]s in trace
//! order, each naming the goroutine that performs it and an [`Op`]. Block ids
//! (`bN` in the text form) are interned into dense [`BlockIdx`]es at parse
//! time; the original numbers are kept in [`Trace::block_names`] so errors and
//! the verifier can name blocks as the trace author wrote them.
//!
//! The model is purely syntactic: whether a location exists at run time,
//! whether a block escapes, which events depend on which, is decided by the
//! analyses in [`crate::analysis`].

use smallvec::SmallVec;
use std::fmt;

/// The text format's version number (`gctrace 1`) and the binary format's.
pub const FORMAT_VERSION: u32 = 1;

/// The most package-level pointer variables a trace may declare (16 Mi: far
/// beyond any real program's, and small enough that the state vectors sized
/// by it cannot exhaust memory).
pub const MAX_GLOBALS: u32 = 1 << 24;

/// Bytes per pointer slot (a 64-bit word).
pub const WORD_BYTES: u64 = 8;

/// A goroutine as numbered in the trace (`g1` is main, and `GoroutineId(1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoroutineId(pub u32);

impl GoroutineId {
    /// The main goroutine, which exists when the trace starts.
    pub const MAIN: GoroutineId = GoroutineId(1);
}

impl fmt::Display for GoroutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}", self.0)
    }
}

/// A dense index of a block in [`Trace::block_names`]: block `i` is the
/// `i`-th distinct block id allocated in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockIdx(pub u32);

/// Why the program allocated a block: the Go language construct behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    New,
    MakeSlice,
    MakeMap,
    MakeChan,
    Literal,
    Var,
    Closure,
    Iface,
    Concat,
    Conv,
    Itoa,
    Append,
    MapGrow,
    Other,
}

impl Cause {
    /// Every cause, in the order reports list them.
    pub const ALL: [Cause; 14] = [
        Cause::New,
        Cause::MakeSlice,
        Cause::MakeMap,
        Cause::MakeChan,
        Cause::Literal,
        Cause::Var,
        Cause::Closure,
        Cause::Iface,
        Cause::Concat,
        Cause::Conv,
        Cause::Itoa,
        Cause::Append,
        Cause::MapGrow,
        Cause::Other,
    ];

    /// The spelling used in traces and reports (`make-slice`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Cause::New => "new",
            Cause::MakeSlice => "make-slice",
            Cause::MakeMap => "make-map",
            Cause::MakeChan => "make-chan",
            Cause::Literal => "literal",
            Cause::Var => "var",
            Cause::Closure => "closure",
            Cause::Iface => "iface",
            Cause::Concat => "concat",
            Cause::Conv => "conv",
            Cause::Itoa => "itoa",
            Cause::Append => "append",
            Cause::MapGrow => "map-grow",
            Cause::Other => "other",
        }
    }

    /// Parses a cause's trace spelling.
    pub fn from_name(s: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Go's limit on the size of a stack-allocated object of this cause, in
    /// bytes: declared variables may be up to `MaxStackVarSize` (128 KiB),
    /// implicit allocations (`new`, `&T{}`, `make`, literals, conversions) up
    /// to `MaxImplicitStackVarSize` (64 KiB). Source:
    /// cmd/compile/internal/ir/cfg.go (Go 1.17+).
    pub fn max_stack_bytes(self) -> u64 {
        match self {
            Cause::Var => MAX_STACK_VAR_BYTES,
            _ => MAX_IMPLICIT_STACK_VAR_BYTES,
        }
    }

    /// A small dense number for tables indexed by cause.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// `MaxStackVarSize`: the largest declared variable Go keeps on the stack.
pub const MAX_STACK_VAR_BYTES: u64 = 128 * 1024;
/// `MaxImplicitStackVarSize`: the largest implicit allocation Go keeps on the stack.
pub const MAX_IMPLICIT_STACK_VAR_BYTES: u64 = 64 * 1024;

/// Where an allocation asks to be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Always on the heap.
    Heap,
    /// On the allocating goroutine's stack; the trace is invalid if it escapes.
    Stack,
    /// Decided by escape analysis over the whole trace.
    Auto,
}

impl Placement {
    pub fn name(self) -> &'static str {
        match self {
            Placement::Heap => "heap",
            Placement::Stack => "stack",
            Placement::Auto => "auto",
        }
    }

    pub fn from_name(s: &str) -> Option<Placement> {
        match s {
            "heap" => Some(Placement::Heap),
            "stack" => Some(Placement::Stack),
            "auto" => Some(Placement::Auto),
            _ => None,
        }
    }
}

/// Where a path of slot dereferences starts: a local of the goroutine's top
/// frame (`lK`) or a package-level variable (`GK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    Local(u32),
    Global(u32),
}

/// A location that holds one pointer: `lK`, `GK`, or `X.K` (slot K of the
/// block X points to, counted from where X points), nested to any depth.
///
/// `path` lists the slot offsets applied in order: `l2.1.0` is
/// `Loc { root: Local(2), path: [1, 0] }`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub root: Root,
    pub path: SmallVec<[u32; 2]>,
}

impl Clone for Loc {
    /// A copy of the path's words (`SmallVec`'s own `clone` goes through
    /// an iterator; locations are cloned on every pointer move).
    fn clone(&self) -> Loc {
        let path = match *self.path.as_slice() {
            [] => SmallVec::new(),
            [a] => SmallVec::from_buf_and_len([a, 0], 1),
            [a, b] => SmallVec::from_buf([a, b]),
            ref long => SmallVec::from_slice(long),
        };
        Loc { root: self.root, path }
    }
}

impl Loc {
    pub fn local(k: u32) -> Loc {
        Loc { root: Root::Local(k), path: SmallVec::new() }
    }
    pub fn global(k: u32) -> Loc {
        Loc { root: Root::Global(k), path: SmallVec::new() }
    }
    /// Slot `k` of the block this location points to.
    pub fn slot(mut self, k: u32) -> Loc {
        self.path.push(k);
        self
    }
}

/// The value a store reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    Nil,
    /// The pointer held at a location.
    Loc(Loc),
    /// `X@K`: an interior pointer K slots past where X points.
    Interior(Loc, u32),
}

/// The arguments of a `call` or `go`. Most calls pass at most one pointer,
/// so one is held inline: decoding a trace then allocates nothing per call.
pub type Args = SmallVec<[Src; 1]>;

/// What one event does. See `docs/trace-format.md` for the full semantics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push a frame of `locals` pointer locals (all nil, then filled from
    /// `args` in order). `frame_bytes` defaults to `16 + 8 * locals`.
    Call { locals: u32, frame_bytes: Option<u64>, args: Args },
    /// Pop the top frame; if `copy` is given, first evaluate `.0` in the
    /// callee's frame and store it into `.1` in the caller's frame.
    Ret { copy: Option<(Src, Loc)> },
    /// Allocate block `block` of `size` bytes whose first `ptr_slots` words
    /// are pointer slots; store its address into `dst`.
    Alloc { dst: Loc, block: BlockIdx, size: u64, ptr_slots: u32, cause: Cause, placement: Placement },
    /// Start goroutine `child` with one frame of `locals` locals filled from
    /// the parent's `args`.
    Go { child: GoroutineId, locals: u32, frame_bytes: Option<u64>, args: Args },
    /// `dst <- src`.
    Set { dst: Loc, src: Src },
    /// Compute for `ns` nanoseconds without allocating.
    Work { ns: u64 },
    /// Open a request span with this tag.
    Begin { tag: String },
    /// Close the innermost open span with this tag.
    End { tag: String },
    /// The goroutine ends; its stack is reclaimed as a whole.
    Exit,
    /// An explicit `runtime.GC()`.
    Gc,
}

/// One line (or binary record) of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub g: GoroutineId,
    pub op: Op,
}

/// Where an event came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourcePos {
    /// 1-based line in a text trace.
    Line(u64),
    /// Byte offset of the record in a binary trace.
    Offset(u64),
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourcePos::Line(l) => write!(f, "line {l}"),
            SourcePos::Offset(o) => write!(f, "byte offset {o}"),
        }
    }
}

/// A whole trace in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Number of package-level pointer variables `G0 .. G(n-1)`.
    pub globals: u32,
    /// Events in trace order.
    pub events: Vec<Event>,
    /// `block_names[i]` is the `N` of `bN` for [`BlockIdx`] `i`.
    pub block_names: Vec<u64>,
    /// Where each event came from (same length as `events`, or empty for a
    /// trace built in memory).
    pub positions: Vec<SourcePos>,
    /// The file the trace was read from, if any, for error messages.
    pub source_name: Option<String>,
}

impl Trace {
    /// The position of event `i` for error messages: its line or byte offset
    /// when known, else its ordinal.
    pub fn pos(&self, i: usize) -> String {
        match self.positions.get(i) {
            Some(p) => p.to_string(),
            None => format!("event {}", i + 1),
        }
    }

    /// `bN` as written in the trace.
    pub fn block_name(&self, b: BlockIdx) -> String {
        match self.block_names.get(b.0 as usize) {
            Some(n) => format!("b{n}"),
            None => format!("b?{}", b.0),
        }
    }

    /// The file name used in messages (`<memory>` when built in memory).
    pub fn file(&self) -> &str {
        self.source_name.as_deref().unwrap_or("<memory>")
    }
}

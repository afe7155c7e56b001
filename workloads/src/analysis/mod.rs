//! Whole-trace analyses, and the prepared trace they produce.
//!
//! A trace is analysed once, as it streams in (from a parser, a generator
//! or an in-memory [`Trace`]), into a [`PreparedTrace`]: every goroutine's
//! events as a compact instruction stream ([`code`]) with their
//! cross-goroutine dependencies inline, the trace order as one goroutine
//! index per event, the blocks' shapes and placements, interned span tags
//! and the events' source positions ([`positions`]). Everything downstream
//! — every replay, every collector, the verifier, the demographics — reads
//! that one value; nothing is cloned per run.
//!
//! Pass 1 is fed in the hand-off form of [`wire`]: batches of events
//! already in the instruction encoding, which it copies into the programs.
//!
//! The analyses:
//! - pass 1 ([`Preparer`], placement-agnostic) checks that every event is
//!   sound, decides which blocks escape (so `auto` blocks can be placed and
//!   `stack` blocks that escape rejected), records for every event the
//!   cross-goroutine dependencies a parallel replay must respect and the
//!   blocks it dereferences (so the verifier can check each access);
//! - [`PreparedTrace::placements`] turns escape results into stack/heap per block;
//! - [`oracle::death_times`] (pass 2, with placements) computes exactly when
//!   each block becomes unreachable (Merlin-style timestamps, Hertz et al.,
//!   TOPLAS 2006) and the peak live heap; [`PreparedTrace::deaths`] computes
//!   it once per placement and keeps it;
//! - [`demographics::demographics`] summarises a trace for `gcwb stats`:
//!   allocations by cause and placement, live bytes, and the lifetime
//!   distribution (bytes allocated between a block's birth and its death);
//! - the verifier in the harness drives a [`machine::Machine`] to each GC's
//!   cut to get the exact reachable set there.

pub mod code;
pub mod demographics;
pub mod machine;
pub mod oracle;
mod pass1;
pub mod persist;
pub mod positions;
mod prepared;
pub mod wire;

pub use crate::model::MAX_GLOBALS;
pub use pass1::Preparer;
pub use prepared::{derefs_in, PreparedTrace, Program};

use crate::model::{BlockIdx, Cause, GoroutineId, Placement, Trace};
use crate::sink::EventSink;
use crate::Result;

/// The result of the analyses: the prepared trace (the name the analyses'
/// callers have always used).
pub type Analysis = PreparedTrace;

/// Where a block finally lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    Heap,
    Stack,
}

/// Why a block was put on the heap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeapReason {
    /// The trace said `heap`.
    Requested,
    /// Larger than Go's stack-object limit for its cause.
    TooLarge { limit: u64 },
    /// A pointer to it escaped through the store at event `event`
    /// (a global, a heap block, another goroutine, an older frame, or a block
    /// that itself escaped — `via` names that block when transitive).
    Escapes { event: u32, via: Option<BlockIdx> },
}

/// What pass 1 learned about one block (32 bytes: a prepared trace keeps
/// one per block).
#[derive(Clone, Debug)]
pub struct BlockInfo {
    pub size: u64,
    /// Index of the `alloc` event.
    pub alloc_event: u32,
    pub ptr_slots: u32,
    /// Why it is on the heap, packed: see [`BlockInfo::heap_reason`].
    pub(crate) why: Why,
    pub cause: Cause,
    pub requested: Placement,
}

/// A [`HeapReason`] in 9 bytes (plus padding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Why {
    /// For `Escapes`: the event.
    pub event: u32,
    /// For `Escapes`: the block it escaped through, or [`Why::NO_BLOCK`].
    pub via: u32,
    pub tag: WhyTag,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum WhyTag {
    /// Not on the heap: may stay on its goroutine's stack.
    #[default]
    Stack,
    Requested,
    TooLarge,
    Escapes,
}

impl Why {
    pub const NO_BLOCK: u32 = u32::MAX;

    /// The reason in full, for a block of `cause`.
    pub fn to_reason(self, cause: Cause) -> Option<HeapReason> {
        match self.tag {
            WhyTag::Stack => None,
            WhyTag::Requested => Some(HeapReason::Requested),
            WhyTag::TooLarge => Some(HeapReason::TooLarge { limit: cause.max_stack_bytes() }),
            WhyTag::Escapes => Some(HeapReason::Escapes {
                event: self.event,
                via: (self.via != Why::NO_BLOCK).then_some(BlockIdx(self.via)),
            }),
        }
    }
}

impl BlockInfo {
    /// `Some` when escape analysis (or the request or the size) puts the
    /// block on the heap; `None` means it may stay on its goroutine's stack.
    pub fn heap_reason(&self) -> Option<HeapReason> {
        self.why.to_reason(self.cause)
    }

    /// Does escape analysis (or the request or the size) put it on the heap?
    #[inline]
    pub fn escapes(&self) -> bool {
        self.why.tag != WhyTag::Stack
    }
}

/// A cross-goroutine dependency: the event may run only after goroutine
/// `goroutine` (dense index) has completed its event number `seq` (0-based
/// within that goroutine's own event list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dep {
    pub goroutine: u32,
    pub seq: u32,
}

/// A goroutine as the replayer sees it.
#[derive(Clone, Debug)]
pub struct GoroutineInfo {
    pub id: GoroutineId,
    /// How many events it has.
    pub events: u32,
    /// The `go` event that spawned it (`None` for main).
    pub spawned_at: Option<u32>,
}

/// Validates a trace held in memory and prepares it; the first unsound
/// event is an error naming its position and what was expected.
pub fn analyze(trace: &Trace) -> Result<PreparedTrace> {
    let mut p = Preparer::new(trace.file());
    p.feed_trace(trace);
    p.finish()
}

/// Validates and prepares whatever `produce` streams into the sink it is
/// handed (a parser, a generator); `file` names the trace in messages. An
/// error of `produce` itself (a malformed file) is returned as it is, and
/// wins over an unsound event, as a parse of the whole file first would.
pub fn prepare_with<E>(
    file: &str,
    produce: impl FnOnce(&mut dyn EventSink) -> std::result::Result<(), E>,
) -> std::result::Result<Result<PreparedTrace>, E> {
    let mut p = Preparer::new(file);
    produce(&mut p)?;
    Ok(p.finish())
}

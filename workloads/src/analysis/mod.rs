//! Whole-trace analyses: validation, escape analysis, dependencies, oracle.
//!
//! All of them run the trace through one sequential abstract machine
//! ([`machine::Machine`]) whose values are block ids, not addresses:
//! - [`analyze`] (pass 1, placement-agnostic) checks that every event is
//!   sound, decides which blocks escape (so `auto` blocks can be placed and
//!   `stack` blocks that escape rejected), records for every event the
//!   cross-goroutine dependencies a parallel replay must respect and the
//!   blocks it dereferences (so the verifier can check each access);
//! - [`Analysis::placements`] turns escape results into stack/heap per block;
//! - [`oracle::death_times`] (pass 2, with placements) computes exactly when
//!   each block becomes unreachable (Merlin-style timestamps, Hertz et al.,
//!   TOPLAS 2006) and the peak live heap;
//! - [`demographics::demographics`] summarises a trace for `gcwb stats`:
//!   allocations by cause and placement, live bytes, and the lifetime
//!   distribution (bytes allocated between a block's birth and its death);
//! - the verifier in the harness drives a [`machine::Machine`] to each GC's
//!   cut to get the exact reachable set there.

pub mod demographics;
pub mod machine;
pub mod oracle;
mod pass1;

pub use pass1::MAX_GLOBALS;

use crate::model::{BlockIdx, Cause, GoroutineId, Placement, Trace};
use crate::Result;

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

/// What pass 1 learned about one block.
#[derive(Clone, Debug)]
pub struct BlockInfo {
    /// Index of the `alloc` event.
    pub alloc_event: u32,
    /// Dense index of the allocating goroutine.
    pub goroutine: u32,
    pub size: u64,
    pub ptr_slots: u32,
    pub cause: Cause,
    pub requested: Placement,
    /// `Some` when escape analysis (or the request or the size) puts the
    /// block on the heap; `None` means it may stay on its goroutine's stack.
    pub heap_reason: Option<HeapReason>,
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
    /// Trace indices of its events, in order.
    pub events: Vec<u32>,
    /// The `go` event that spawned it (`None` for main).
    pub spawned_at: Option<u32>,
}

/// Everything pass 1 derives from a sound trace.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Per [`BlockIdx`].
    pub blocks: Vec<BlockInfo>,
    /// Dense goroutine index -> info; index 0 is main (`g1`).
    pub goroutines: Vec<GoroutineInfo>,
    /// Per event: the dense index of its goroutine.
    pub event_goroutine: Vec<u32>,
    /// Per event: its ordinal within its goroutine's event list.
    pub event_seq: Vec<u32>,
    /// `deps[dep_start[i] .. dep_start[i+1]]` are event i's dependencies
    /// (deduplicated; never on its own goroutine). `dep_start.len() == events + 1`.
    pub dep_start: Vec<u32>,
    pub deps: Vec<Dep>,
    /// `derefs[deref_start[i] .. deref_start[i+1]]` are the blocks event i
    /// dereferences, in the replayer's evaluation order (see
    /// `docs/trace-format.md`, "Evaluation order").
    pub deref_start: Vec<u32>,
    pub derefs: Vec<BlockIdx>,
    /// True for events some other goroutine's event depends on (the replayer
    /// publishes progress only after these).
    pub is_dep_target: Vec<bool>,
}

impl Analysis {
    /// Stack or heap for every block. With `no_stack` every block is heap.
    pub fn placements(&self, no_stack: bool) -> Vec<Place> {
        self.blocks
            .iter()
            .map(|b| if no_stack || b.heap_reason.is_some() { Place::Heap } else { Place::Stack })
            .collect()
    }

    /// Event i's dependencies.
    pub fn deps_of(&self, i: usize) -> &[Dep] {
        &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
    }

    /// The blocks event i dereferences, in evaluation order.
    pub fn derefs_of(&self, i: usize) -> &[BlockIdx] {
        &self.derefs[self.deref_start[i] as usize..self.deref_start[i + 1] as usize]
    }
}

/// Validates `trace` and derives its [`Analysis`]; the first unsound event is
/// an error naming its position and what was expected.
pub fn analyze(trace: &Trace) -> Result<Analysis> {
    pass1::run(trace)
}

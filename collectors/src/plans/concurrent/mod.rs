//! `concurrent`: Go's concurrent tri-color mark-sweep as Go 1.19–1.25 run
//! it, marking object by object.
//!
//! The cycle — sweep termination, concurrent mark under the hybrid write
//! barrier with the pacer's assists, mark termination, concurrent sweep —
//! is [`GoCycle`], shared with the `greentea` plan; see its module for the
//! algorithm and the invariant it keeps. What makes this plan itself is its
//! marking, [`ObjectMarking`]: every grey object goes on a work list (LIFO
//! per marker, shared when a marker has too many) and is scanned on its
//! own, wherever in the heap it lies.

use crate::go_cycle::object_queue::ObjectMarking;
pub use crate::go_cycle::{ConcurrentFaults, GoCycle, ASSIST_CHUNK_BYTES, ASSIST_STEP_BYTES};

/// The concurrent collector.
pub type Concurrent = GoCycle<ObjectMarking>;

/// `concurrent` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "concurrent",
    summary: "Go-style concurrent tri-color mark-sweep: hybrid write barrier, stacks one at a time, pacer, mark assists, concurrent sweep",
    make: |c| Ok(Box::new(Concurrent::new(c)?)),
    options: &[],
    cycle_metrics: &[],
};

//! `greentea`: Go 1.26's concurrent collector, marking small objects span
//! by span ("Green Tea": Knyszek & Clements, go.dev/blog/greenteagc, 2025;
//! golang/go#73581; runtime/mgcmark_greenteagc.go).
//!
//! The cycle is the `concurrent` plan's, unchanged — [`GoCycle`]: the same
//! pacer, hybrid write barrier, assists, mark termination and concurrent
//! sweep. Only marking differs ([`SpanMarking`]): instead of queueing each
//! grey object and scanning it wherever it lies, a marker marks a small
//! object and queues its *span* (once, whoever marks first takes it), then
//! later scans every object of the span marked meanwhile, together. The
//! longer a span waits in its FIFO queue, the more marks it collects, and
//! the more one pass over its memory covers — where the classic LIFO order
//! jumps across the heap, object by object.
//!
//! Invariant, beside the cycle's tri-colour one: an object is grey exactly
//! when it is marked and not scanned, and every grey object in a span
//! taken by span marking is covered by a queued (or held) entry of its
//! span — so "every queue empty and no marker running" still means
//! "nothing grey", the condition mark termination checks.
//!
//! Files: [`marking`] (greying, span scans, the fast path, faults),
//! [`span_queue`] (the FIFO rings and the shared span queue), [`declared`]
//! (its options and cycle metrics). The span's
//! bitmaps and ownership byte are the heap's ([`crate::heap::SpanMarks`]).

pub mod declared;
pub mod marking;
pub mod span_queue;

pub use crate::go_cycle::GoCycle;
pub use declared::{settings, CYCLE_METRICS, OPTIONS};
pub use marking::{GreenTeaFaults, GreenTeaSettings, SpanMarking};

/// The Green Tea collector.
pub type GreenTea = GoCycle<SpanMarking>;

/// `greentea` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "greentea",
    summary: "Go 1.26's concurrent collector: the concurrent cycle, marking small objects span by span (Green Tea)",
    make: |c| Ok(Box::new(GreenTea::new(c)?)),
    options: OPTIONS,
    cycle_metrics: CYCLE_METRICS,
};

//! The collectors gcwb knows, by name.
//!
//! Adding a collector is one module in `plans/` and one line in
//! [`COLLECTORS`].

use crate::collector::{Collector, GcConfig};
use crate::heap::HeapError;
use crate::plans::{
    concurrent::Concurrent, generational::Generational, greentea::GreenTea, mark_sweep::MarkSweep, none::NoCollector,
    sticky::Sticky,
};

/// A registered collector: its name, one line about it, and its constructor.
pub struct CollectorInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub make: fn(&GcConfig) -> Result<Box<dyn Collector>, HeapError>,
}

/// Every collector, in the order `gcwb collectors` lists them.
pub const COLLECTORS: &[CollectorInfo] = &[
    CollectorInfo {
        name: "none",
        summary: "never frees (the baseline for mutator cost, like Epsilon or MMTk's NoGC)",
        make: |c| Ok(Box::new(NoCollector::new(c)?)),
    },
    CollectorInfo {
        name: "mark-sweep",
        summary: "stop-the-world, non-moving, parallel mark and sweep; GOGC pacing",
        make: |c| Ok(Box::new(MarkSweep::new(c)?)),
    },
    CollectorInfo {
        name: "concurrent",
        summary: "Go-style concurrent tri-color mark-sweep: hybrid write barrier, stacks one at a time, pacer, mark assists, concurrent sweep",
        make: |c| Ok(Box::new(Concurrent::new(c)?)),
    },
    CollectorInfo {
        name: "greentea",
        summary: "Go 1.26's concurrent collector: the concurrent cycle, marking small objects span by span (Green Tea)",
        make: |c| Ok(Box::new(GreenTea::new(c)?)),
    },
    CollectorInfo {
        name: "sticky",
        summary: "non-moving generational: sticky mark bits, card-marking barrier, stop-the-world minor and major collections",
        make: |c| Ok(Box::new(Sticky::new(c)?)),
    },
    CollectorInfo {
        name: "generational",
        summary: "copying nursery with survivor spaces and promotion, card-marking barrier, mark-sweep old generation",
        make: |c| Ok(Box::new(Generational::new(c)?)),
    },
];

/// The collector registered as `name`.
pub fn find(name: &str) -> Option<&'static CollectorInfo> {
    COLLECTORS.iter().find(|c| c.name == name)
}

/// Every registered name.
pub fn names() -> Vec<&'static str> {
    COLLECTORS.iter().map(|c| c.name).collect()
}

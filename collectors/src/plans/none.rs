//! `none`: allocates and never frees — the baseline for mutator cost.
//!
//! Like OpenJDK's Epsilon or MMTk's NoGC: no barrier, no marking, no pauses.
//! What a workload costs under `none` is what it costs with no collector at
//! all; every other collector's overhead is measured against it. An explicit
//! `runtime.GC()` does nothing. It runs out of memory if the program
//! allocates more than the heap's reservation.

use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::heap::{Address, Heap, HeapError};
use crate::host::{Host, Trigger};

/// The no-op collector.
pub struct NoCollector {
    heap: Heap,
}

impl NoCollector {
    pub fn new(config: &GcConfig) -> Result<NoCollector, HeapError> {
        Ok(NoCollector { heap: Heap::new(config.heap_reserve_bytes)? })
    }
}

impl Collector for NoCollector {
    fn name(&self) -> &'static str {
        "none"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { collects: false, ..Capabilities::default() }
    }

    fn heap(&self) -> &Heap {
        &self.heap
    }

    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        self.heap.alloc(&mut m.cache, size, ptr_slots)
    }

    fn collect(&self, _host: &dyn Host, _trigger: Trigger) {}

    fn cycles(&self) -> u64 {
        0
    }
}

/// `none` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "none",
    summary: "never frees (the baseline for mutator cost, like Epsilon or MMTk's NoGC)",
    make: |c| Ok(Box::new(NoCollector::new(c)?)),
    options: &[],
    cycle_metrics: &[],
};

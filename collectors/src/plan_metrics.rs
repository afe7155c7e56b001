//! Measurements a collector plan declares for its cycles, beyond the ones
//! every cycle has ([`crate::CycleRecord`]'s fields): a generational plan's
//! young bytes, promoted bytes and dirty cards, say.
//!
//! A plan lists them as `pub const CYCLE_METRICS: &[MetricSpec]` in its own
//! module and names them in its [`crate::registry::CollectorInfo`]; each
//! cycle it reports carries the values it measured in
//! [`crate::CycleRecord::extra`], by the declared name. Whatever reads the
//! records picks the declarations up from the registry
//! ([`crate::registry::all_cycle_metrics`]): gcwb's `cycles.csv` has a
//! column for each, empty where a cycle's record has no value.

/// What a metric measures: its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A size in bytes.
    Bytes,
    /// A whole number of things.
    Count,
    /// A duration in nanoseconds.
    Ns,
    /// A share, from 0 to 1 (the only kind with a fraction).
    Ratio,
}

/// One metric of a plan's cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricSpec {
    /// snake_case, with its unit where it has one (`promoted_bytes`): the
    /// column's name in `cycles.csv`.
    pub name: &'static str,
    pub kind: MetricKind,
    /// What it says, in one line.
    pub about: &'static str,
}

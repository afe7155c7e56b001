//! The columns of `cycles.csv`, described once: one row per collection of
//! one collector, from the [`CycleRecord`] the collector reported.
//!
//! [`CYCLES`] is the registry of the columns every cycle has, in the file's
//! order, each with its name, [`Kind`], a one-line description and how to
//! read its [`Value`]. After them come the collectors' own metrics, one
//! column each, from the collectors' registry
//! ([`registry::all_cycle_metrics`]; a generational collector's
//! `promoted_bytes`, say): a cell holds what the cycle's record reported
//! in [`CycleRecord::extra`], empty when it reported nothing by that name.
//! [`crate::report`] writes the file with [`header`] and [`record`]. A new
//! column every cycle has is one entry here (at the end of [`CYCLES`]); a
//! collector's own is declared in its plan. Read the file by column name:
//! the collectors' columns follow the fixed ones in registry order.

use super::{Kind, Value};
use collectors::registry;
use collectors::{CycleRecord, MetricKind, MetricSpec};

/// One row of `cycles.csv`: a collection, and the collector that ran it.
#[derive(Clone, Copy, Debug)]
pub struct CycleRow<'a> {
    pub collector: &'a str,
    pub record: &'a CycleRecord,
}

/// One column of `cycles.csv`.
pub struct CycleColumn {
    /// The CSV header.
    pub name: &'static str,
    pub kind: Kind,
    /// What it says, in one line.
    pub about: &'static str,
    /// Its cell in a row.
    pub get: fn(&CycleRow<'_>) -> Value,
}

/// A column read straight from the [`CycleRecord`] field of its name.
macro_rules! field {
    ($field:ident, $kind:ident, $about:expr) => {
        CycleColumn {
            name: stringify!($field),
            kind: Kind::$kind,
            about: $about,
            get: |c| Value::from(&c.record.$field),
        }
    };
}

/// The columns of `cycles.csv`, in order.
pub static CYCLES: &[CycleColumn] = &[
    CycleColumn {
        name: "collector",
        kind: Kind::Text,
        about: "the collector's name",
        get: |c| Value::Text(c.collector.to_string()),
    },
    CycleColumn {
        name: "gc",
        kind: Kind::Count,
        about: "the cycle's number, from 1",
        get: |c| Value::Int(c.record.cycle),
    },
    CycleColumn {
        name: "trigger",
        kind: Kind::Text,
        about: "what started the cycle (`heap-goal`, `final`, …); empty when unknown",
        get: |c| c.record.trigger.map_or(Value::Empty, |t| Value::Text(t.name().to_string())),
    },
    field!(start_ns, Ns, "when the cycle started, on the pauses' clock"),
    field!(end_ns, Ns, "when the cycle ended, on the pauses' clock"),
    field!(heap_live_before, Bytes, "heap in use when the cycle started"),
    field!(marked_bytes, Bytes, "bytes found reachable by marking"),
    field!(marked_objects, Count, "objects found reachable by marking"),
    field!(mark_ns, Ns, "marking time, wall clock (a concurrent mark's whole phase)"),
    field!(mark_cpu_ns, Ns, "CPU time the collector's threads spent marking, assists not included"),
    field!(sweep_ns, Ns, "sweeping time, wall clock"),
    field!(freed_bytes, Bytes, "bytes freed by the sweep"),
    field!(freed_objects, Count, "objects freed by the sweep"),
    field!(next_goal, Bytes, "the heap goal set for the next cycle"),
    field!(heap_live_after, Bytes, "heap in use when the sweep was done"),
    field!(
        background_mark_cpu_ns,
        Ns,
        "CPU time the background mark workers spent marking while the mutators ran (part of mark_cpu_ns)"
    ),
];

/// The [`Kind`] of a collector's metric.
pub fn metric_kind(m: &MetricSpec) -> Kind {
    match m.kind {
        MetricKind::Bytes => Kind::Bytes,
        MetricKind::Count => Kind::Count,
        MetricKind::Ns => Kind::Ns,
        MetricKind::Ratio => Kind::Ratio,
    }
}

/// `cycles.csv`'s header: the names of [`CYCLES`], then of the
/// collectors' metrics, in order.
pub fn header() -> Vec<&'static str> {
    let metrics = registry::all_cycle_metrics().into_iter().map(|m| m.name);
    CYCLES.iter().map(|c| c.name).chain(metrics).collect()
}

/// One row's cells, in [`header`]'s order: a collector's metric as a float
/// if it is a ratio, else as a whole number; empty where the record has no
/// value for it.
pub fn record(row: &CycleRow<'_>) -> Vec<Value> {
    let metric = |m: &MetricSpec| match row.record.metric(m.name) {
        None => Value::Empty,
        Some(v) if metric_kind(m).is_whole() => Value::Int(v.round().max(0.0) as u64),
        Some(v) => Value::Float(v),
    };
    let metrics = registry::all_cycle_metrics().into_iter().map(metric);
    CYCLES.iter().map(|c| (c.get)(row)).chain(metrics).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_fixed_columns_then_the_collectors_metrics() {
        // The fixed columns never change order; after them come the metrics
        // the registered plans declare, whatever plans there are (so adding
        // a plan edits no test here).
        assert_eq!(
            header()[..CYCLES.len()].join(","),
            "collector,gc,trigger,start_ns,end_ns,heap_live_before,marked_bytes,marked_objects,mark_ns,\
             mark_cpu_ns,sweep_ns,freed_bytes,freed_objects,next_goal,heap_live_after,background_mark_cpu_ns"
        );
        let metrics: Vec<&str> = registry::all_cycle_metrics().iter().map(|m| m.name).collect();
        assert_eq!(header()[CYCLES.len()..], metrics[..], "computed from the registry");
    }

    #[test]
    fn every_column_yields_a_value_for_a_default_cycle() {
        let record = CycleRecord::default();
        let cells = super::record(&CycleRow { collector: "ms", record: &record });
        assert_eq!(cells.len(), header().len());
        assert_eq!(cells[0], Value::Text("ms".to_string()));
        assert_eq!(cells[2], Value::Empty, "no trigger");
        assert!(cells[CYCLES.len()..].iter().all(|c| *c == Value::Empty), "no metrics reported, none written");
    }

    #[test]
    fn a_collectors_metrics_fill_their_columns_ratios_as_floats() {
        let extra = vec![("young_bytes", 400.0), ("promoted_bytes", 50.0), ("survival_rate", 0.25)];
        let young = CycleRecord { extra, ..CycleRecord::default() };
        let cells = super::record(&CycleRow { collector: "gen", record: &young });
        let at = |name: &str| &cells[header().iter().position(|c| *c == name).unwrap()];
        assert_eq!(
            (at("young_bytes"), at("promoted_bytes"), at("survival_rate"), at("copied_bytes")),
            (&Value::Int(400), &Value::Int(50), &Value::Float(0.25), &Value::Empty)
        );
    }
}

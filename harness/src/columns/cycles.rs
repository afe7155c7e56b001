//! The columns of `cycles.csv`, described once: one row per collection of
//! one collector, from the [`CycleRecord`] the collector reported.
//!
//! [`CYCLES`] is the registry, in the file's order, each column with its
//! name, [`Kind`], a one-line description and how to read its [`Value`];
//! [`crate::report`] writes the file with [`header`] and [`record`]. A new
//! column is one entry here (at the end).

use super::{Kind, Value};
use collectors::CycleRecord;

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
    field!(young_bytes, Bytes, "minor collections: bytes allocated since the last collection"),
    field!(promoted_bytes, Bytes, "minor collections: surviving bytes promoted to the old generation"),
    field!(copied_bytes, Bytes, "minor collections: surviving bytes copied within the young generation"),
    CycleColumn {
        name: "survival_rate",
        kind: Kind::Ratio,
        about: "minor collections: (promoted + copied) / young; empty otherwise",
        get: |c| {
            let r = c.record;
            if r.young_bytes > 0 {
                Value::Float((r.promoted_bytes + r.copied_bytes) as f64 / r.young_bytes as f64)
            } else {
                Value::Empty
            }
        },
    },
    field!(dirty_cards, Count, "minor collections: dirty cards scanned (the remembered set)"),
    field!(
        background_mark_cpu_ns,
        Ns,
        "CPU time the background mark workers spent marking while the mutators ran (part of mark_cpu_ns)"
    ),
];

/// `cycles.csv`'s header: the names of [`CYCLES`], in order.
pub fn header() -> Vec<&'static str> {
    CYCLES.iter().map(|c| c.name).collect()
}

/// One row's cells, in [`header`]'s order.
pub fn record(row: &CycleRow<'_>) -> Vec<Value> {
    CYCLES.iter().map(|c| (c.get)(row)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_one_cycles_csv_has_always_had_and_new_columns_at_the_end() {
        assert_eq!(
            header().join(","),
            "collector,gc,trigger,start_ns,end_ns,heap_live_before,marked_bytes,marked_objects,mark_ns,\
             mark_cpu_ns,sweep_ns,freed_bytes,freed_objects,next_goal,heap_live_after,young_bytes,\
             promoted_bytes,copied_bytes,survival_rate,dirty_cards,background_mark_cpu_ns"
        );
    }

    #[test]
    fn every_column_yields_a_value_for_a_default_cycle() {
        let record = CycleRecord::default();
        let cells = super::record(&CycleRow { collector: "ms", record: &record });
        assert_eq!(cells.len(), CYCLES.len());
        assert_eq!(cells[0], Value::Text("ms".to_string()));
        assert_eq!(cells[2], Value::Empty, "no trigger");
        let survival = CYCLES.iter().position(|c| c.name == "survival_rate").unwrap();
        assert_eq!(cells[survival], Value::Empty, "no young generation, no survival rate");
        let young = CycleRecord { young_bytes: 400, promoted_bytes: 50, copied_bytes: 50, ..CycleRecord::default() };
        let cells = super::record(&CycleRow { collector: "gen", record: &young });
        assert_eq!(cells[survival], Value::Float(0.25));
    }
}

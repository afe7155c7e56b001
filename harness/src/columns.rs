//! The columns of `summary.csv`, described once.
//!
//! [`SUMMARY`] is the registry: one [`Column`] per column of `summary.csv`,
//! in the file's order, each with its name (the CSV header), its [`Kind`]
//! (the unit: ns, bytes, a count, a ratio, text, …), a one-line
//! description, whether it is a metric that `gcwb compare` aggregates, and
//! how to read its [`Value`] from a [`SummaryRow`]. Everything that needs
//! the columns reads them from here:
//!
//! - [`crate::report`] writes `summary.csv` with [`header`] and [`record`];
//! - [`crate::compare::summary`] gives the statistics of [`Stat`] (median,
//!   min, max, mean, 95% confidence interval; [`crate::spread`]) over the
//!   repetitions of every column marked `aggregate` (`compare.csv`), each
//!   written by [`stat_text`];
//! - [`crate::sweep::experiment`] accepts as a sweep metric every numeric
//!   column ([`metric_names`]), and [`crate::sweep::aggregate`] lays out
//!   `cells.csv` in this order;
//! - [`crate::import`] writes an imported log's row under [`header`].
//!
//! So adding a measurement is one field of [`SummaryRow`] (and the line of
//! [`crate::summary::summary_row`] that computes it) plus one entry here: it
//! is then a column of `summary.csv` and `cells.csv`, a metric a sweep can
//! chart and, with `aggregate`, its [`Stat`]s in `compare.csv`. New columns go
//! at the end: scripts read the first ones by position.
//!
//! [`cycles`] is the same for `cycles.csv`.

pub mod cycles;

use crate::spread::Spread;
use crate::summary::SummaryRow;
use serde::{Serialize, Serializer};

/// What a column holds: its unit, and so whether it is a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text: a name, a setting, an outcome.
    Text,
    /// `true` or `false`.
    Flag,
    /// A whole number of things.
    Count,
    /// A duration in nanoseconds.
    Ns,
    /// A size in bytes.
    Bytes,
    /// A share, from 0 to 1.
    Ratio,
    /// Things per second.
    Rate,
}

impl Kind {
    /// The unit's short name: `ns`, `bytes`, `count`, `ratio`, `per_s`,
    /// `text` or `bool`.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Flag => "bool",
            Kind::Count => "count",
            Kind::Ns => "ns",
            Kind::Bytes => "bytes",
            Kind::Ratio => "ratio",
            Kind::Rate => "per_s",
        }
    }

    /// A number: something to chart, compare or take a median of.
    pub fn is_numeric(self) -> bool {
        !matches!(self, Kind::Text | Kind::Flag)
    }

    /// A whole number (counts, nanoseconds, bytes): statistics of it are
    /// written without a fraction.
    pub fn is_whole(self) -> bool {
        matches!(self, Kind::Count | Kind::Ns | Kind::Bytes)
    }
}

/// One cell. It serializes as `summary.csv` has always written it: whole
/// numbers in decimal, floats in their shortest round-trip form (`0.0`,
/// `0.25`), `true`/`false`, and an empty cell for [`Value::Empty`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
    Text(String),
    Flag(bool),
    /// No value: not measured, or nothing to measure.
    Empty,
}

impl Value {
    /// The value as a number: `None` for text, a flag or an empty cell.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            Value::Text(_) | Value::Flag(_) | Value::Empty => None,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Int(v) => s.serialize_u64(*v),
            Value::Float(v) => s.serialize_f64(*v),
            Value::Text(v) => s.serialize_str(v),
            Value::Flag(v) => s.serialize_bool(*v),
            Value::Empty => s.serialize_none(),
        }
    }
}

impl From<&u64> for Value {
    fn from(v: &u64) -> Value {
        Value::Int(*v)
    }
}

impl From<&usize> for Value {
    fn from(v: &usize) -> Value {
        Value::Int(*v as u64)
    }
}

impl From<&f64> for Value {
    fn from(v: &f64) -> Value {
        Value::Float(*v)
    }
}

impl From<&bool> for Value {
    fn from(v: &bool) -> Value {
        Value::Flag(*v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<&Option<u64>> for Value {
    fn from(v: &Option<u64>) -> Value {
        v.map_or(Value::Empty, Value::Int)
    }
}

impl From<&Option<f64>> for Value {
    fn from(v: &Option<f64>) -> Value {
        v.map_or(Value::Empty, Value::Float)
    }
}

/// A statistic of an aggregated metric over repetitions ([`crate::spread`]):
/// `compare.csv` has the column `<metric>_<suffix>` of each, `sweep.csv`
/// the column `metric_<suffix>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Median,
    Min,
    Max,
    Mean,
    Ci95Low,
    Ci95High,
}

impl Stat {
    /// The statistics the files have always had, in their order.
    pub const FIRST: [Stat; 3] = [Stat::Median, Stat::Min, Stat::Max];
    /// The statistics added after them (the files keep their first columns
    /// where scripts expect them, so these come after).
    pub const ADDED: [Stat; 3] = [Stat::Mean, Stat::Ci95Low, Stat::Ci95High];

    /// The column name's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Stat::Median => "median",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Mean => "mean",
            Stat::Ci95Low => "ci95_low",
            Stat::Ci95High => "ci95_high",
        }
    }

    /// What it is, in one line.
    pub fn about(self) -> &'static str {
        match self {
            Stat::Median => "the median over the repetitions (for an even count the mean of the two middle values)",
            Stat::Min => "the smallest value",
            Stat::Max => "the largest value",
            Stat::Mean => "the mean over the repetitions",
            Stat::Ci95Low => {
                "the low end of the mean's 95% confidence interval (Student's t); empty for one repetition"
            }
            Stat::Ci95High => "the high end of the mean's 95% confidence interval; empty for one repetition",
        }
    }

    /// Its value in `s`; `None` for an interval of a single value.
    pub fn of(self, s: &Spread) -> Option<f64> {
        match self {
            Stat::Median => Some(s.median),
            Stat::Min => Some(s.min),
            Stat::Max => Some(s.max),
            Stat::Mean => Some(s.mean),
            Stat::Ci95Low => s.ci95.map(|c| c.0),
            Stat::Ci95High => s.ci95.map(|c| c.1),
        }
    }
}

/// A statistic `v` of a metric of kind `kind`, as `compare.csv` writes it:
/// nanoseconds and bytes as whole numbers (a fraction of either is below
/// what is measured); a count's min and max whole, its other statistics
/// (a median of two, a mean) to two decimals; ratios and rates in their
/// shortest round-trip form.
pub fn stat_text(kind: Kind, stat: Stat, v: f64) -> String {
    match kind {
        Kind::Ns | Kind::Bytes => format!("{v:.0}"),
        Kind::Count if matches!(stat, Stat::Min | Stat::Max) => format!("{v:.0}"),
        Kind::Count => format!("{}", (v * 100.0).round() / 100.0 + 0.0),
        _ => format!("{v}"),
    }
}

/// One column of `summary.csv`.
pub struct Column {
    /// The CSV header.
    pub name: &'static str,
    pub kind: Kind,
    /// What it measures, in one line.
    pub about: &'static str,
    /// A metric `compare.csv` gives the [`Stat`]s of.
    pub aggregate: bool,
    /// Its cell in a row.
    pub get: fn(&SummaryRow) -> Value,
}

/// A column read straight from the [`SummaryRow`] field of its name.
macro_rules! column {
    ($field:ident, $kind:ident, $about:expr) => {
        column!(@ $field, $kind, false, $about)
    };
    (@ $field:ident, $kind:ident, $aggregate:expr, $about:expr) => {
        Column {
            name: stringify!($field),
            kind: Kind::$kind,
            about: $about,
            aggregate: $aggregate,
            get: |r| Value::from(&r.$field),
        }
    };
}

/// A [`column!`] that `compare.csv` aggregates.
macro_rules! metric {
    ($field:ident, $kind:ident, $about:expr) => {
        column!(@ $field, $kind, true, $about)
    };
}

/// The columns of `summary.csv`, in order.
pub static SUMMARY: &[Column] = &[
    column!(trace, Text, "the trace replayed: its file, or the built-in workload's name"),
    column!(collector, Text, "the collector's name"),
    column!(procs, Count, "worker threads of the replay (GOMAXPROCS)"),
    column!(gogc, Text, "GOGC percent, or `off`"),
    column!(events, Count, "trace events replayed"),
    metric!(wall_ns, Ns, "wall-clock time of the replay alone (not the load)"),
    metric!(events_per_s, Rate, "events replayed per second of wall time"),
    column!(allocs, Count, "allocations in the trace"),
    column!(alloc_bytes, Bytes, "bytes allocated by the trace"),
    column!(heap_allocs, Count, "allocations placed on the heap"),
    column!(stack_allocs, Count, "allocations placed on goroutine stacks"),
    metric!(gc_count, Count, "collections during the replay (the final one left out)"),
    metric!(pause_count, Count, "stop-the-world pauses (the final collection's left out)"),
    metric!(pause_p50_ns, Ns, "median pause (HdrHistogram, 3 significant digits)"),
    metric!(pause_p99_ns, Ns, "99th-percentile pause"),
    metric!(pause_max_ns, Ns, "longest pause"),
    metric!(pause_total_ns, Ns, "all pauses added up"),
    metric!(ttsp_max_ns, Ns, "longest time to safepoint: from a stop request until every worker stopped"),
    metric!(peak_heap_bytes, Bytes, "largest heap in use during the replay"),
    metric!(final_live_bytes, Bytes, "heap bytes still reachable after the final collection"),
    column!(stack_growths, Count, "goroutine stack growths"),
    column!(max_stack_bytes, Bytes, "largest goroutine stack"),
    column!(verify_errors, Count, "violations the verifier found; empty when not verified"),
    column!(load_ns, Ns, "time to parse and analyse the trace"),
    column!(heap_alloc_bytes, Bytes, "bytes allocated on the heap"),
    column!(stack_alloc_bytes, Bytes, "bytes allocated on goroutine stacks"),
    column!(final_live_objects, Count, "heap blocks still reachable after the final collection"),
    column!(mark_total_ns, Ns, "marking time (wall clock) summed over the cycles"),
    column!(marked_bytes_total, Bytes, "bytes marked, summed over the cycles"),
    column!(no_stack, Flag, "every block put on the heap (`--no-stack`)"),
    column!(dispatches, Count, "goroutines dispatched to workers"),
    column!(dep_waits, Count, "waits on another goroutine's progress"),
    column!(status, Text, "`ok`, or what ended the replay early (`stack-overflow`, …)"),
    metric!(mmu_1ms, Ratio, "minimum mutator utilization over 1 ms windows; empty when the replay is shorter"),
    metric!(mmu_10ms, Ratio, "minimum mutator utilization over 10 ms windows; empty when the replay is shorter"),
    metric!(mmu_100ms, Ratio, "minimum mutator utilization over 100 ms windows; empty when the replay is shorter"),
    metric!(
        gc_cpu_fraction,
        Ratio,
        "share of the processors' time the collector took from the mutator (mutator time lost / wall: pauses, assists, dedicated and fractional slices)"
    ),
    column!(stw_full_p50_ns, Ns, "median stop-the-world collection pause; empty without one"),
    column!(stw_full_p99_ns, Ns, "99th-percentile stop-the-world collection pause"),
    column!(stw_full_max_ns, Ns, "longest stop-the-world collection pause"),
    column!(sweep_term_p50_ns, Ns, "median sweep-termination pause; empty without one"),
    column!(sweep_term_p99_ns, Ns, "99th-percentile sweep-termination pause"),
    column!(sweep_term_max_ns, Ns, "longest sweep-termination pause"),
    column!(mark_term_p50_ns, Ns, "median mark-termination pause; empty without one"),
    column!(mark_term_p99_ns, Ns, "99th-percentile mark-termination pause"),
    column!(mark_term_max_ns, Ns, "longest mark-termination pause"),
    column!(minor_count, Count, "minor (young-generation) collections' pauses"),
    column!(minor_p50_ns, Ns, "median minor-collection pause; empty without one"),
    column!(minor_p99_ns, Ns, "99th-percentile minor-collection pause"),
    column!(minor_max_ns, Ns, "longest minor-collection pause"),
    column!(major_count, Count, "major (whole-heap) collections' pauses of a generational collector"),
    column!(major_p50_ns, Ns, "median major-collection pause; empty without one"),
    column!(major_p99_ns, Ns, "99th-percentile major-collection pause"),
    column!(major_max_ns, Ns, "longest major-collection pause"),
    metric!(assist_count, Count, "mark assists: goroutines stalled to mark for their allocation"),
    metric!(assist_total_ns, Ns, "goroutine time the mark assists took"),
    metric!(mark_cpu_total_ns, Ns, "CPU time the collector's threads spent marking, assists not included"),
    metric!(
        background_mark_cpu_ns,
        Ns,
        "CPU time the background mark workers (slices of every mode) spent marking while the mutators ran"
    ),
    metric!(
        background_thread_cpu_ns,
        Ns,
        "CPU time of the collector's background work: its slices on the workers (gc_slices.csv cpu_ns) and what was left when the mutators finished"
    ),
    metric!(
        gc_cpu_used_fraction,
        Ratio,
        "the collector's CPU time (pauses × procs, assists, background marking) over wall × procs, as Go's gctrace % counts it (idle workers' marking included)"
    ),
    metric!(span_count, Count, "request spans (`begin`..`end`) of every tag"),
    metric!(
        span_p50_ns,
        Ns,
        "median request latency (running + paused + assisting; replayer waits left out); empty without spans"
    ),
    metric!(span_p99_ns, Ns, "99th-percentile request latency"),
    metric!(span_p999_ns, Ns, "99.9th-percentile request latency"),
    metric!(span_metered_p99_ns, Ns, "99th-percentile metered request latency (DaCapo, 100 ms smoothing window)"),
    metric!(span_wall_p99_ns, Ns, "99th-percentile wall time from `begin` to `end`, replayer waits included"),
    column!(assist_max_ns, Ns, "longest single mark assist (of an import: thread stall); empty without one"),
    column!(imported_from, Text, "the log format `gcwb import` read (`go-gctrace`, `jvm-gc-log`); empty for a replay"),
    metric!(
        mark_worker_ns,
        Ns,
        "wall time of the collector's dedicated and fractional slices on the workers: processor time the mutator lost to background work"
    ),
    metric!(idle_mark_ns, Ns, "wall time of the collector's idle slices: background marking or sweeping on workers with nothing to run"),
    column!(gc_slice_count, Count, "slices of the collector's background work on the workers (rows of gc_slices.csv)"),
    metric!(
        process_cpu_ns,
        Ns,
        "CPU time of every thread of the process over the replay: mutators, collector work, the verifier's checks when on; empty for an import"
    ),
    metric!(
        gc_wall_ns,
        Ns,
        "wall time charged to the collector: every pause whole, each assist and dedicated slice as one processor of procs (gc_cpu_fraction × wall_ns); empty for an import"
    ),
    metric!(
        gc_cpu_ns,
        Ns,
        "CPU time of the collector's work on every thread: collections, assists, background slices, its own threads (the final collection left out); empty for an import"
    ),
    metric!(distilled_wall_ns, Ns, "wall_ns − gc_wall_ns: the replay's wall time without what is charged to the collector"),
    metric!(distilled_cpu_ns, Ns, "process_cpu_ns − gc_cpu_ns: the replay's CPU time without the collector's"),
    metric!(
        pause_p99_on_cpu_ns,
        Ns,
        "99th-percentile pause with the late workers' measured time off their processors taken out of their time to safepoint (pauses.csv ttsp_on_cpu_ns): the pause as the design makes it on a machine that deschedules workers; empty for an import"
    ),
    metric!(pause_max_on_cpu_ns, Ns, "longest pause counted as pause_p99_on_cpu_ns counts it"),
];

/// `summary.csv`'s header: the names of [`SUMMARY`], in order.
pub fn header() -> Vec<&'static str> {
    SUMMARY.iter().map(|c| c.name).collect()
}

/// One row's cells, in [`header`]'s order.
pub fn record(row: &SummaryRow) -> Vec<Value> {
    SUMMARY.iter().map(|c| (c.get)(row)).collect()
}

/// The column named `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    SUMMARY.iter().find(|c| c.name == name)
}

/// The numeric columns (every column but text and flags), in order: what a
/// sweep can chart.
pub fn metric_names() -> Vec<&'static str> {
    SUMMARY.iter().filter(|c| c.kind.is_numeric()).map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `summary.csv`'s columns as README.md documents them.
    const DOCUMENTED: &str = "trace,collector,procs,gogc,events,wall_ns,events_per_s,allocs,alloc_bytes,\
        heap_allocs,stack_allocs,gc_count,pause_count,pause_p50_ns,pause_p99_ns,pause_max_ns,pause_total_ns,\
        ttsp_max_ns,peak_heap_bytes,final_live_bytes,stack_growths,max_stack_bytes,verify_errors,load_ns,\
        heap_alloc_bytes,stack_alloc_bytes,final_live_objects,mark_total_ns,marked_bytes_total,no_stack,\
        dispatches,dep_waits,status,mmu_1ms,mmu_10ms,mmu_100ms,gc_cpu_fraction,stw_full_p50_ns,stw_full_p99_ns,\
        stw_full_max_ns,sweep_term_p50_ns,sweep_term_p99_ns,sweep_term_max_ns,mark_term_p50_ns,mark_term_p99_ns,\
        mark_term_max_ns,minor_count,minor_p50_ns,minor_p99_ns,minor_max_ns,major_count,major_p50_ns,\
        major_p99_ns,major_max_ns,assist_count,assist_total_ns,mark_cpu_total_ns,background_mark_cpu_ns,\
        background_thread_cpu_ns,gc_cpu_used_fraction,span_count,span_p50_ns,span_p99_ns,span_p999_ns,\
        span_metered_p99_ns,span_wall_p99_ns,assist_max_ns,imported_from,mark_worker_ns,idle_mark_ns,gc_slice_count,process_cpu_ns,\
        gc_wall_ns,gc_cpu_ns,distilled_wall_ns,distilled_cpu_ns,pause_p99_on_cpu_ns,pause_max_on_cpu_ns";

    #[test]
    fn the_header_is_the_documented_list() {
        assert_eq!(header().join(","), DOCUMENTED);
        let h = header();
        let mut unique = h.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), h.len(), "a column named twice");
    }

    #[test]
    fn every_column_yields_a_value_of_its_kind_for_a_default_row() {
        let row = SummaryRow::default();
        let cells = record(&row);
        assert_eq!(cells.len(), SUMMARY.len());
        for (c, v) in SUMMARY.iter().zip(&cells) {
            let fits = match v {
                Value::Int(_) => c.kind.is_whole(),
                Value::Float(_) => matches!(c.kind, Kind::Ratio | Kind::Rate),
                Value::Text(_) => c.kind == Kind::Text,
                Value::Flag(_) => c.kind == Kind::Flag,
                // Optional measurements are empty until measured.
                Value::Empty => c.kind.is_numeric(),
            };
            assert!(fits, "{}: {v:?} is not a {:?}", c.name, c.kind);
            assert!(!c.about.is_empty(), "{}: no description", c.name);
        }
        assert_eq!((column("status").unwrap().get)(&row), Value::Text(String::new()));
        assert_eq!((column("verify_errors").unwrap().get)(&row), Value::Empty);
    }

    #[test]
    fn cells_are_written_as_summary_csv_always_wrote_them() {
        let row = SummaryRow {
            trace: "a,b".to_string(),
            collector: "mark-sweep".to_string(),
            procs: 2,
            gogc: "off".to_string(),
            wall_ns: 62_815_718,
            events_per_s: 1527690.8878125057,
            verify_errors: Some(0),
            no_stack: true,
            mmu_1ms: Some(0.0),
            mmu_10ms: Some(0.8),
            gc_cpu_fraction: 1e-7,
            stw_full_max_ns: Some(2_000_000),
            ..SummaryRow::default()
        };
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        w.serialize(record(&row)).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let rec = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes()).records().next();
        let rec = rec.unwrap().unwrap();
        assert_eq!(rec.len(), SUMMARY.len());
        let at = |name: &str| rec[header().iter().position(|c| *c == name).unwrap()].to_string();
        assert!(line.starts_with("\"a,b\",mark-sweep,2,off,0,62815718,1527690.8878125057,"), "{line}");
        assert_eq!(at("verify_errors"), "0");
        assert_eq!(at("no_stack"), "true");
        assert_eq!([at("mmu_1ms"), at("mmu_10ms"), at("mmu_100ms")], ["0.0", "0.8", ""]);
        assert_eq!(at("gc_cpu_fraction"), "1e-7");
        assert_eq!([at("stw_full_max_ns"), at("sweep_term_max_ns")], ["2000000", ""]);
    }

    #[test]
    fn statistics_are_written_whole_where_a_fraction_means_nothing() {
        assert_eq!(stat_text(Kind::Ns, Stat::Median, 250.5), "250");
        assert_eq!(stat_text(Kind::Bytes, Stat::Ci95Low, -119.13), "-119");
        assert_eq!(stat_text(Kind::Count, Stat::Max, 4.0), "4");
        assert_eq!(stat_text(Kind::Count, Stat::Median, 3.5), "3.5");
        assert_eq!(stat_text(Kind::Count, Stat::Mean, 10.0 / 3.0), "3.33");
        assert_eq!(stat_text(Kind::Count, Stat::Mean, -0.001), "0");
        assert_eq!(stat_text(Kind::Ratio, Stat::Mean, 0.125), "0.125");
        let s = crate::spread::spread(&[1.0, 3.0]).unwrap();
        let names: Vec<&str> = Stat::FIRST.iter().chain(&Stat::ADDED).map(|st| st.suffix()).collect();
        assert_eq!(names, ["median", "min", "max", "mean", "ci95_low", "ci95_high"]);
        let one = crate::spread::Spread::single(2.0);
        assert_eq!([Stat::Ci95Low, Stat::Ci95High].map(|st| st.of(&one)), [None, None], "no interval of one value");
        assert_eq!((Stat::Median.of(&s), Stat::Ci95High.of(&s).is_some()), (Some(2.0), true));
    }

    #[test]
    fn metrics_are_the_numeric_columns_and_aggregates_are_metrics() {
        let names = metric_names();
        for not in ["trace", "collector", "gogc", "status", "no_stack", "imported_from"] {
            assert!(!names.contains(&not), "{not}");
        }
        assert_eq!(names.len(), SUMMARY.len() - 6);
        assert!(SUMMARY.iter().filter(|c| c.aggregate).all(|c| c.kind.is_numeric()));
        // A unit in the name (which the charts read it by) agrees with the kind.
        for c in SUMMARY.iter() {
            for (suffix, kind) in [("_ns", Kind::Ns), ("_bytes", Kind::Bytes), ("_per_s", Kind::Rate)] {
                if c.name.ends_with(suffix) {
                    assert_eq!(c.kind, kind, "{} is in {}", c.name, kind.unit());
                }
            }
        }
    }
}

//! The statistics of `gcwb compare` over its repetitions, and the two
//! tables it writes from them.
//!
//! # `compare.csv`
//!
//! A header row, then one row per collector, in the order compared:
//!
//! ```text
//! collector,repeats,trace,procs,gogc,median_rep,wall_ns_median,wall_ns_min,wall_ns_max,events_per_s_median,…,verify_errors,status
//! mark-sweep,3,server,2,100,2,40113265,39412001,41980113,4120448.5,…,0,ok
//! ```
//!
//! - `repeats`: the timed replays of the collector; `median_rep`: the
//!   repetition (from 1) with the median wall time, whose files are the
//!   folder's top-level ones.
//! - For each metric of [`metrics`] (the `summary.csv` columns the
//!   registry, [`crate::columns`], marks `aggregate`; named as there),
//!   `<metric>_median`, `<metric>_min` and `<metric>_max` over the
//!   repetitions: `min ≤ median ≤ max`. The median is the lower of the
//!   two middle values for an even count, so it is always a measured value
//!   (and `wall_ns_median` is `median_rep`'s wall time). The MMU columns
//!   are over the repetitions that have a value (a replay shorter than the
//!   window has none); empty when none has.
//! - `verify_errors`: summed over the repetitions; empty when not verified.
//! - `status`: `ok`, or the outcomes of the repetitions that were not
//!   (`stack-overflow`, …), joined by `+`.
//!
//! # `runs.csv`
//!
//! Every timed replay in the order it ran:
//! `order,rep,position,collector,wall_ns,events_per_s,pause_p99_ns,status,top_level`
//! (`top_level`: whether this replay's files are the folder's top-level
//! ones).

use crate::columns::{Column, SUMMARY};
use crate::summary::SummaryRow;
use std::sync::LazyLock;

/// The order `compare.csv` has always given its metrics, by `summary.csv`
/// name. It differs from `summary.csv`'s own order (peak heap and final
/// live bytes come after the MMU columns here), so it is kept to keep the
/// file's columns where scripts expect them. It only orders: which columns
/// are metrics is the registry's `aggregate` flag ([`crate::columns`]), and
/// a metric not listed here follows these, in the registry's order.
pub const COMPARE_ORDER: [&str; 24] = [
    "wall_ns",
    "events_per_s",
    "gc_count",
    "pause_count",
    "pause_p50_ns",
    "pause_p99_ns",
    "pause_max_ns",
    "pause_total_ns",
    "ttsp_max_ns",
    "mmu_1ms",
    "mmu_10ms",
    "mmu_100ms",
    "gc_cpu_fraction",
    "peak_heap_bytes",
    "final_live_bytes",
    "assist_count",
    "assist_total_ns",
    "mark_cpu_total_ns",
    "span_count",
    "span_p50_ns",
    "span_p99_ns",
    "span_p999_ns",
    "span_metered_p99_ns",
    "span_wall_p99_ns",
];

/// The metrics of `compare.csv`, in column order: the registry's columns
/// marked `aggregate`, ordered by [`COMPARE_ORDER`].
pub fn metrics() -> &'static [&'static Column] {
    static METRICS: LazyLock<Vec<&'static Column>> = LazyLock::new(|| {
        let rank = |c: &Column| COMPARE_ORDER.iter().position(|n| *n == c.name).unwrap_or(COMPARE_ORDER.len());
        let mut m: Vec<&'static Column> = SUMMARY.iter().filter(|c| c.aggregate).collect();
        m.sort_by_key(|c| rank(c));
        m
    });
    &METRICS
}

/// The median, minimum and maximum of a metric over the repetitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The index in `values` of their median: the lower of the two middle
/// values for an even count, the earliest of equal values. `None` when
/// `values` is empty.
pub fn median_index(values: &[f64]) -> Option<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(values.len().checked_sub(1)? / 2)?;
    values.iter().position(|v| v.total_cmp(median).is_eq())
}

/// The spread of `values`; `None` when there are none.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let median = values[median_index(values)?];
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Spread { median, min, max })
}

/// One row of `compare.csv`: one collector over its repetitions.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub collector: String,
    pub repeats: usize,
    pub trace: String,
    pub procs: usize,
    pub gogc: String,
    /// The repetition (from 1) with the median wall time.
    pub median_rep: usize,
    /// One per [`metrics`] entry.
    pub metrics: Vec<Option<Spread>>,
    pub verify_errors: Option<u64>,
    pub status: String,
}

impl CompareRow {
    /// The spread of the metric `name` (a [`metrics`] name).
    pub fn get(&self, name: &str) -> Option<Spread> {
        metrics().iter().position(|m| m.name == name).and_then(|i| self.metrics[i])
    }
}

/// One collector's row from its summary rows, one per repetition in
/// repetition order (at least one).
pub fn compare_row(reps: &[&SummaryRow]) -> CompareRow {
    let first = reps.first().expect("a collector is compared over at least one repetition");
    let walls: Vec<f64> = reps.iter().map(|r| r.wall_ns as f64).collect();
    let metrics = metrics()
        .iter()
        .map(|m| spread(&reps.iter().filter_map(|r| (m.get)(r).number()).collect::<Vec<f64>>()))
        .collect();
    let verified: Vec<u64> = reps.iter().filter_map(|r| r.verify_errors).collect();
    let mut bad: Vec<&str> = Vec::new();
    for r in reps.iter().filter(|r| r.status != "ok") {
        if !bad.contains(&r.status.as_str()) {
            bad.push(&r.status);
        }
    }
    CompareRow {
        collector: first.collector.clone(),
        repeats: reps.len(),
        trace: first.trace.clone(),
        procs: first.procs,
        gogc: first.gogc.clone(),
        median_rep: median_index(&walls).expect("at least one repetition") + 1,
        metrics,
        verify_errors: (!verified.is_empty()).then(|| verified.iter().sum()),
        status: if bad.is_empty() { "ok".to_string() } else { bad.join("+") },
    }
}

/// The columns of `compare.csv`, in order.
pub fn compare_header() -> Vec<String> {
    let mut h: Vec<String> =
        ["collector", "repeats", "trace", "procs", "gogc", "median_rep"].iter().map(|s| s.to_string()).collect();
    for m in metrics() {
        for stat in ["median", "min", "max"] {
            h.push(format!("{}_{stat}", m.name));
        }
    }
    h.push("verify_errors".to_string());
    h.push("status".to_string());
    h
}

fn number(v: f64, whole: bool) -> String {
    if whole {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// `compare.csv`'s bytes.
pub fn compare_csv(rows: &[CompareRow]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(compare_header())?;
    for r in rows {
        let mut rec = vec![
            r.collector.clone(),
            r.repeats.to_string(),
            r.trace.clone(),
            r.procs.to_string(),
            r.gogc.clone(),
            r.median_rep.to_string(),
        ];
        for (m, s) in metrics().iter().zip(&r.metrics) {
            match s {
                Some(s) => rec.extend([s.median, s.min, s.max].map(|v| number(v, m.kind.is_whole()))),
                None => rec.extend(std::iter::repeat_n(String::new(), 3)),
            }
        }
        rec.push(r.verify_errors.map_or(String::new(), |n| n.to_string()));
        rec.push(r.status.clone());
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `runs.csv`'s bytes from (repetition from 1, summary row, whether its
/// files are the top-level ones), in the order the replays ran.
pub fn runs_csv<'a>(runs: impl IntoIterator<Item = (usize, &'a SummaryRow, bool)>) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "order",
        "rep",
        "position",
        "collector",
        "wall_ns",
        "events_per_s",
        "pause_p99_ns",
        "status",
        "top_level",
    ])?;
    let (mut last_rep, mut position) = (0, 0);
    for (order, (rep, row, top)) in runs.into_iter().enumerate() {
        position = if rep == last_rep { position + 1 } else { 1 };
        last_rep = rep;
        w.write_record([
            (order + 1).to_string(),
            rep.to_string(),
            position.to_string(),
            row.collector.clone(),
            row.wall_ns.to_string(),
            row.events_per_s.to_string(),
            row.pause_p99_ns.to_string(),
            row.status.clone(),
            top.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary row with the given values and plain ones elsewhere.
    fn row(collector: &str, wall_ns: u64, p99: u64, mmu_10ms: Option<f64>, status: &str) -> SummaryRow {
        SummaryRow {
            trace: "t".to_string(),
            collector: collector.to_string(),
            procs: 2,
            gogc: "100".to_string(),
            events: 1000,
            wall_ns,
            events_per_s: 1e12 / wall_ns.max(1) as f64,
            gc_count: 3,
            pause_count: 3,
            pause_p99_ns: p99,
            pause_max_ns: p99,
            peak_heap_bytes: 1 << 20,
            status: status.to_string(),
            mmu_10ms,
            gc_cpu_fraction: 0.25,
            ..SummaryRow::default()
        }
    }

    #[test]
    fn the_median_is_a_measured_value_the_lower_middle_one_for_an_even_count() {
        assert_eq!(median_index(&[]), None);
        assert_eq!(median_index(&[5.0]), Some(0));
        assert_eq!(median_index(&[30.0, 10.0, 20.0]), Some(2));
        assert_eq!(median_index(&[40.0, 10.0, 30.0, 20.0]), Some(3), "20, not 25");
        assert_eq!(median_index(&[7.0, 7.0, 7.0]), Some(0), "ties: the earliest");
        assert_eq!(spread(&[3.0, 1.0, 2.0]), Some(Spread { median: 2.0, min: 1.0, max: 3.0 }));
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn a_collectors_row_spans_its_repetitions_and_names_the_median_one() {
        let reps = [
            row("ms", 300, 9, Some(0.5), "ok"),
            row("ms", 100, 7, None, "ok"),
            row("ms", 200, 8, Some(0.7), "stack-overflow"),
        ];
        let c = compare_row(&reps.iter().collect::<Vec<_>>());
        assert_eq!((c.collector.as_str(), c.repeats, c.median_rep), ("ms", 3, 3));
        assert_eq!(c.get("wall_ns"), Some(Spread { median: 200.0, min: 100.0, max: 300.0 }));
        assert_eq!(c.get("pause_p99_ns"), Some(Spread { median: 8.0, min: 7.0, max: 9.0 }));
        assert_eq!(c.get("mmu_10ms"), Some(Spread { median: 0.5, min: 0.5, max: 0.7 }), "over the reps with a value");
        assert_eq!(c.get("mmu_100ms"), None);
        assert_eq!(c.status, "stack-overflow");
        assert_eq!(c.verify_errors, None);
    }

    #[test]
    fn compare_csv_has_a_triple_per_metric_and_whole_numbers_for_counts() {
        let reps = [row("ms", 300, 9, None, "ok"), row("ms", 100, 7, None, "ok")];
        let c = compare_row(&reps.iter().collect::<Vec<_>>());
        let bytes = compare_csv(&[c]).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        let h: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(h, compare_header());
        assert_eq!(h.len(), 6 + 3 * metrics().len() + 2);
        for name in ["wall_ns_median", "pause_p99_ns_min", "pause_p99_ns_max", "mmu_10ms_median", "peak_heap_bytes_max"]
        {
            assert!(h.iter().any(|c| c == name), "no {name} in {h:?}");
        }
        let rec = rd.records().next().unwrap().unwrap();
        let at = |n: &str| rec.get(h.iter().position(|c| c == n).unwrap()).unwrap().to_string();
        assert_eq!(
            (at("wall_ns_median"), at("wall_ns_min"), at("wall_ns_max")),
            ("100".into(), "100".into(), "300".into())
        );
        assert_eq!(at("median_rep"), "2");
        assert_eq!(at("mmu_10ms_median"), "");
        assert_eq!(at("gc_cpu_fraction_max"), "0.25");
        assert_eq!(at("status"), "ok");
    }

    /// `compare.csv`'s columns as README.md documents them.
    const DOCUMENTED: &str = "collector,repeats,trace,procs,gogc,median_rep,\
        wall_ns_median,wall_ns_min,wall_ns_max,events_per_s_median,events_per_s_min,events_per_s_max,\
        gc_count_median,gc_count_min,gc_count_max,pause_count_median,pause_count_min,pause_count_max,\
        pause_p50_ns_median,pause_p50_ns_min,pause_p50_ns_max,pause_p99_ns_median,pause_p99_ns_min,\
        pause_p99_ns_max,pause_max_ns_median,pause_max_ns_min,pause_max_ns_max,pause_total_ns_median,\
        pause_total_ns_min,pause_total_ns_max,ttsp_max_ns_median,ttsp_max_ns_min,ttsp_max_ns_max,\
        mmu_1ms_median,mmu_1ms_min,mmu_1ms_max,mmu_10ms_median,mmu_10ms_min,mmu_10ms_max,\
        mmu_100ms_median,mmu_100ms_min,mmu_100ms_max,gc_cpu_fraction_median,gc_cpu_fraction_min,\
        gc_cpu_fraction_max,peak_heap_bytes_median,peak_heap_bytes_min,peak_heap_bytes_max,\
        final_live_bytes_median,final_live_bytes_min,final_live_bytes_max,assist_count_median,\
        assist_count_min,assist_count_max,assist_total_ns_median,assist_total_ns_min,assist_total_ns_max,\
        mark_cpu_total_ns_median,mark_cpu_total_ns_min,mark_cpu_total_ns_max,span_count_median,span_count_min,\
        span_count_max,span_p50_ns_median,span_p50_ns_min,span_p50_ns_max,span_p99_ns_median,span_p99_ns_min,\
        span_p99_ns_max,span_p999_ns_median,span_p999_ns_min,span_p999_ns_max,span_metered_p99_ns_median,\
        span_metered_p99_ns_min,span_metered_p99_ns_max,span_wall_p99_ns_median,span_wall_p99_ns_min,\
        span_wall_p99_ns_max,verify_errors,status";

    #[test]
    fn the_header_is_the_documented_one_and_its_metrics_come_from_the_registry() {
        assert_eq!(compare_header().join(","), DOCUMENTED);
        // Every name the order lists is a metric the registry aggregates,
        // and every metric the registry aggregates is in the file.
        for name in COMPARE_ORDER {
            assert!(crate::columns::column(name).is_some_and(|c| c.aggregate), "{name}");
        }
        let aggregated = SUMMARY.iter().filter(|c| c.aggregate).count();
        assert_eq!(metrics().len(), aggregated);
        assert_eq!(metrics().iter().map(|m| m.name).collect::<Vec<_>>(), COMPARE_ORDER);
    }

    #[test]
    fn runs_csv_numbers_positions_within_each_repetition() {
        let (a, b) = (row("a", 1, 1, None, "ok"), row("b", 2, 2, None, "ok"));
        let bytes = runs_csv([(1, &a, true), (1, &b, false), (2, &b, true), (2, &a, false)]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "order,rep,position,collector,wall_ns,events_per_s,pause_p99_ns,status,top_level");
        let firsts: Vec<String> =
            lines[1..].iter().map(|l| l.split(',').take(4).collect::<Vec<_>>().join(",")).collect();
        assert_eq!(firsts, ["1,1,1,a", "2,1,2,b", "3,2,1,b", "4,2,2,a"]);
        assert!(lines[3].ends_with(",ok,true"));
    }
}

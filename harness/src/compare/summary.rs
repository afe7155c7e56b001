//! The statistics of `gcwb compare` over its repetitions, and the two
//! tables it writes from them.
//!
//! # `compare.csv`
//!
//! A header row, then one row per collector, in the order compared:
//!
//! ```text
//! collector,repeats,trace,procs,gogc,median_rep,wall_ns_median,wall_ns_min,wall_ns_max,events_per_s_median,…,verify_errors,status,wall_ns_mean,wall_ns_ci95_low,wall_ns_ci95_high,…
//! mark-sweep,3,server,2,100,2,40113265,39412001,41980113,4120448.5,…,0,ok,40501793,37255262,43748324,…
//! ```
//!
//! - `repeats`: the timed replays of the collector; `median_rep`: the
//!   repetition (from 1) whose wall time is the median, for an even count
//!   the lower of the two middle ones (the faster; ties: the earlier
//!   repetition), so it is always a repetition that ran: its files are
//!   the folder's top-level ones.
//! - For each metric of [`metrics`] (the `summary.csv` columns the
//!   registry, [`crate::columns`], marks `aggregate`; named as there),
//!   `<metric>_median`, `<metric>_min` and `<metric>_max` over the
//!   repetitions, and, after `status`, `<metric>_mean`,
//!   `<metric>_ci95_low` and `<metric>_ci95_high` (the mean's 95%
//!   confidence interval, Student's t; empty for one repetition): the
//!   statistics of [`crate::spread`], each metric on its own. The median of
//!   an even count is the mean of the two middle values, so it need not be
//!   a measured value, and with an even count `wall_ns_median` need not be
//!   `median_rep`'s wall time. Nanoseconds and bytes are written whole,
//!   a count's median and mean to two decimals
//!   ([`crate::columns::stat_text`]). The MMU columns are over the
//!   repetitions that have a value (a replay shorter than the window has
//!   none); empty when none has.
//! - `verify_errors`: summed over the repetitions; empty when not verified.
//! - `status`: `ok`, or the outcomes of the repetitions that were not
//!   (`stack-overflow`, …), joined by `+`.
//! - Last, the lower-bound overhead ([`crate::lbo`]) for wall time, then
//!   for CPU time: `mdc_<cost>_ns` (the minimum distilled cost, the same
//!   in every row), then `lbo_<cost>_ns_<stat>` and `nlbo_<cost>_<stat>`
//!   for the six statistics in the order above (median, min, max, mean,
//!   ci95_low, ci95_high), over the repetitions that ended `ok`. Empty
//!   when there is no analysis (a collector whose repetitions all failed,
//!   a comparison without CPU times).
//!
//! # `runs.csv`
//!
//! Every timed replay in the order it ran:
//! `order,rep,position,collector,wall_ns,events_per_s,pause_p99_ns,status,top_level,process_cpu_ns,gc_wall_ns,gc_cpu_ns`
//! (`top_level`: whether this replay's files are the folder's top-level
//! ones; the last three are the costs [`crate::lbo::read_runs_csv`] reads).

use crate::columns::{stat_text, Column, Kind, Stat, SUMMARY};
use crate::lbo::{self, Cost};
pub use crate::spread::{median_index, spread, Spread};
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
    /// One per [`metrics`] entry: over the repetitions that have a value.
    pub metrics: Vec<Option<Spread>>,
    pub verify_errors: Option<u64>,
    pub status: String,
    /// The collector's lower-bound overhead, wall then CPU
    /// ([`Cost::ALL`]'s order), with the comparison's MDC; set by
    /// [`with_lbo`].
    pub lbo: [Option<(f64, lbo::CollectorLbo)>; 2],
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
        lbo: [None, None],
    }
}

/// Sets each row's [`CompareRow::lbo`] from `reps[c]`, collector c's
/// summary rows (the rows' order), over those that ended `ok` and have
/// both costs.
pub fn with_lbo(rows: &mut [CompareRow], reps: &[Vec<&SummaryRow>]) {
    for (k, cost) in Cost::ALL.into_iter().enumerate() {
        let samples: Vec<Vec<lbo::Sample>> = reps
            .iter()
            .map(|runs| {
                runs.iter()
                    .filter(|r| r.status == "ok")
                    .filter_map(|r| {
                        let (total, attributed) = match cost {
                            Cost::Wall => (Some(r.wall_ns), r.gc_wall_ns),
                            Cost::Cpu => (r.process_cpu_ns, r.gc_cpu_ns),
                        };
                        Some(lbo::Sample { total: total? as f64, attributed: attributed? as f64 })
                    })
                    .collect()
            })
            .collect();
        let analysis = lbo::analyse(&samples);
        for (c, row) in rows.iter_mut().enumerate() {
            row.lbo[k] = analysis.as_ref().and_then(|a| Some((a.mdc, a.collectors.get(c)?.clone()?)));
        }
    }
}

/// The statistics of the LBO columns, in their order.
const LBO_STATS: [Stat; 6] = [Stat::Median, Stat::Min, Stat::Max, Stat::Mean, Stat::Ci95Low, Stat::Ci95High];

/// The LBO columns at the end of `compare.csv`.
fn lbo_header() -> Vec<String> {
    let mut h = Vec::new();
    for cost in Cost::ALL {
        let [l, n] = cost.metric_names();
        h.push(format!("mdc_{}_ns", cost.name()));
        h.extend(LBO_STATS.iter().map(|s| format!("{l}_{}", s.suffix())));
        h.extend(LBO_STATS.iter().map(|s| format!("{n}_{}", s.suffix())));
    }
    h
}

/// The columns of `compare.csv`, in order.
pub fn compare_header() -> Vec<String> {
    let mut h: Vec<String> =
        ["collector", "repeats", "trace", "procs", "gogc", "median_rep"].iter().map(|s| s.to_string()).collect();
    let stats = |h: &mut Vec<String>, stats: &[Stat]| {
        for m in metrics() {
            h.extend(stats.iter().map(|s| format!("{}_{}", m.name, s.suffix())));
        }
    };
    stats(&mut h, &Stat::FIRST);
    h.push("verify_errors".to_string());
    h.push("status".to_string());
    stats(&mut h, &Stat::ADDED);
    h.extend(lbo_header());
    h
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
        let stats = |rec: &mut Vec<String>, stats: &[Stat]| {
            for (m, s) in metrics().iter().zip(&r.metrics) {
                for &stat in stats {
                    let v = s.as_ref().and_then(|s| stat.of(s));
                    rec.push(v.map_or(String::new(), |v| stat_text(m.kind, stat, v)));
                }
            }
        };
        stats(&mut rec, &Stat::FIRST);
        rec.push(r.verify_errors.map_or(String::new(), |n| n.to_string()));
        rec.push(r.status.clone());
        stats(&mut rec, &Stat::ADDED);
        for l in &r.lbo {
            let cell = |kind: Kind, stat: Stat, s: Option<&Spread>| {
                s.and_then(|s| stat.of(s)).map_or(String::new(), |v| stat_text(kind, stat, v))
            };
            rec.push(l.as_ref().map_or(String::new(), |(mdc, _)| format!("{mdc:.0}")));
            let lbo = l.as_ref().map(|(_, c)| &c.lbo);
            let nlbo = l.as_ref().map(|(_, c)| &c.nlbo);
            rec.extend(LBO_STATS.iter().map(|&st| cell(Kind::Ns, st, lbo)));
            rec.extend(LBO_STATS.iter().map(|&st| cell(Kind::Ratio, st, nlbo)));
        }
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
        "process_cpu_ns",
        "gc_wall_ns",
        "gc_cpu_ns",
    ])?;
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
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
            opt(row.process_cpu_ns),
            opt(row.gc_wall_ns),
            opt(row.gc_cpu_ns),
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

    /// (median, min, max) of a spread.
    fn mmm(s: Option<Spread>) -> Option<(f64, f64, f64)> {
        s.map(|s| (s.median, s.min, s.max))
    }

    #[test]
    fn an_even_count_takes_each_metrics_own_median_the_mean_of_its_middle_two() {
        // Four repetitions whose walls and p99 pauses are ordered
        // differently: the lower-middle rule took wall from one repetition
        // and p99 from another, and with two repetitions a minimum.
        let reps = [
            row("ms", 400, 10, None, "ok"),
            row("ms", 100, 40, None, "ok"),
            row("ms", 300, 20, None, "ok"),
            row("ms", 200, 30, None, "ok"),
        ];
        let c = compare_row(&reps.iter().collect::<Vec<_>>());
        assert_eq!(mmm(c.get("wall_ns")), Some((250.0, 100.0, 400.0)));
        assert_eq!(mmm(c.get("pause_p99_ns")), Some((25.0, 10.0, 40.0)));
        // events/s is 1e12 / wall: its median is the mean of its own middle
        // two (1e12/300 and 1e12/200), not 1e12 / the median wall.
        let eps = c.get("events_per_s").unwrap().median;
        assert!((eps - (1e12 / 300.0 + 1e12 / 200.0) / 2.0).abs() < 1e-3, "{eps}");
        // median_rep: the repetition with the lower middle wall (200: rep 4).
        assert_eq!(c.median_rep, 4);
        let two = [row("ms", 300, 9, None, "ok"), row("ms", 100, 7, None, "ok")];
        let c = compare_row(&two.iter().collect::<Vec<_>>());
        assert_eq!(mmm(c.get("wall_ns")), Some((200.0, 100.0, 300.0)), "two: their mean, not the minimum");
        assert_eq!(c.median_rep, 2, "the faster of two");
    }

    #[test]
    fn median_rep_is_the_repetition_whose_wall_time_is_the_median() {
        let walls = [500, 100, 900, 300, 700];
        let reps: Vec<SummaryRow> = walls.iter().map(|&w| row("ms", w, 1, None, "ok")).collect();
        let c = compare_row(&reps.iter().collect::<Vec<_>>());
        assert_eq!(c.median_rep, 1, "500 is the median of 100, 300, 500, 700, 900");
        assert_eq!(reps[c.median_rep - 1].wall_ns as f64, c.get("wall_ns").unwrap().median);
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
        assert_eq!(mmm(c.get("wall_ns")), Some((200.0, 100.0, 300.0)));
        assert_eq!(c.get("wall_ns").unwrap().mean, 200.0);
        assert_eq!(mmm(c.get("pause_p99_ns")), Some((8.0, 7.0, 9.0)));
        assert_eq!(mmm(c.get("mmu_10ms")), Some((0.6, 0.5, 0.7)), "over the reps with a value");
        assert_eq!(c.get("mmu_100ms"), None);
        assert_eq!(c.status, "stack-overflow");
        assert_eq!(c.verify_errors, None);
    }

    #[test]
    fn compare_csv_has_the_statistics_of_each_metric_new_ones_after_the_old_columns() {
        let reps = [row("ms", 300, 9, None, "ok"), row("ms", 100, 7, None, "ok"), row("ms", 101, 7, None, "ok")];
        let c = compare_row(&reps.iter().collect::<Vec<_>>());
        let bytes = compare_csv(&[c]).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        let h: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(h, compare_header());
        assert_eq!(h.len(), 6 + 6 * metrics().len() + 2 + 2 * (1 + 12));
        let status = h.iter().position(|c| c == "status").unwrap();
        assert_eq!(status, 6 + 3 * metrics().len() + 1, "the first columns stay where they were");
        for name in ["wall_ns_median", "pause_p99_ns_min", "pause_p99_ns_max", "mmu_10ms_median", "peak_heap_bytes_max"]
        {
            assert!(h[..status].iter().any(|c| c == name), "no {name} in {h:?}");
        }
        for name in ["wall_ns_mean", "wall_ns_ci95_low", "gc_count_ci95_high", "gc_cpu_used_fraction_mean"] {
            assert!(h[status..].iter().any(|c| c == name), "no {name} after status in {h:?}");
        }
        let rec = rd.records().next().unwrap().unwrap();
        let at = |n: &str| rec.get(h.iter().position(|c| c == n).unwrap()).unwrap().to_string();
        assert_eq!(
            (at("wall_ns_median"), at("wall_ns_min"), at("wall_ns_max")),
            ("101".into(), "100".into(), "300".into())
        );
        // Mean 167, s = 115.18, t(2) = 4.302653: 167 ± 286.13, in whole ns.
        assert_eq!(
            (at("wall_ns_mean"), at("wall_ns_ci95_low"), at("wall_ns_ci95_high")),
            ("167".into(), "-119".into(), "453".into())
        );
        assert_eq!(at("median_rep"), "3");
        assert_eq!(at("mmu_10ms_median"), "");
        assert_eq!(at("mmu_10ms_ci95_low"), "");
        assert_eq!(at("gc_cpu_fraction_max"), "0.25");
        assert_eq!(at("gc_count_mean"), "3");
        assert_eq!(at("status"), "ok");
        // One repetition: no interval.
        let one = compare_row(&[&reps[0]]);
        let bytes = compare_csv(&[one]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let line = text.lines().nth(1).unwrap();
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[h.iter().position(|c| c == "wall_ns_ci95_low").unwrap()], "");
        assert_eq!(cells[h.iter().position(|c| c == "wall_ns_mean").unwrap()], "300");
    }

    /// `compare.csv`'s columns as README.md documents them.
    const DOCUMENTED: &str = "collector,repeats,trace,procs,gogc,median_rep,wall_ns_median,wall_ns_min,wall_ns_max,\
        events_per_s_median,events_per_s_min,events_per_s_max,gc_count_median,gc_count_min,gc_count_max,\
        pause_count_median,pause_count_min,pause_count_max,pause_p50_ns_median,pause_p50_ns_min,\
        pause_p50_ns_max,pause_p99_ns_median,pause_p99_ns_min,pause_p99_ns_max,pause_max_ns_median,\
        pause_max_ns_min,pause_max_ns_max,pause_total_ns_median,pause_total_ns_min,pause_total_ns_max,\
        ttsp_max_ns_median,ttsp_max_ns_min,ttsp_max_ns_max,mmu_1ms_median,mmu_1ms_min,mmu_1ms_max,\
        mmu_10ms_median,mmu_10ms_min,mmu_10ms_max,mmu_100ms_median,mmu_100ms_min,mmu_100ms_max,\
        gc_cpu_fraction_median,gc_cpu_fraction_min,gc_cpu_fraction_max,peak_heap_bytes_median,\
        peak_heap_bytes_min,peak_heap_bytes_max,final_live_bytes_median,final_live_bytes_min,\
        final_live_bytes_max,assist_count_median,assist_count_min,assist_count_max,assist_total_ns_median,\
        assist_total_ns_min,assist_total_ns_max,mark_cpu_total_ns_median,mark_cpu_total_ns_min,\
        mark_cpu_total_ns_max,span_count_median,span_count_min,span_count_max,span_p50_ns_median,\
        span_p50_ns_min,span_p50_ns_max,span_p99_ns_median,span_p99_ns_min,span_p99_ns_max,\
        span_p999_ns_median,span_p999_ns_min,span_p999_ns_max,span_metered_p99_ns_median,\
        span_metered_p99_ns_min,span_metered_p99_ns_max,span_wall_p99_ns_median,span_wall_p99_ns_min,\
        span_wall_p99_ns_max,background_mark_cpu_ns_median,background_mark_cpu_ns_min,\
        background_mark_cpu_ns_max,background_thread_cpu_ns_median,background_thread_cpu_ns_min,\
        background_thread_cpu_ns_max,gc_cpu_used_fraction_median,gc_cpu_used_fraction_min,\
        gc_cpu_used_fraction_max,mark_worker_ns_median,mark_worker_ns_min,mark_worker_ns_max,\
        idle_mark_ns_median,idle_mark_ns_min,idle_mark_ns_max,process_cpu_ns_median,process_cpu_ns_min,\
        process_cpu_ns_max,gc_wall_ns_median,gc_wall_ns_min,gc_wall_ns_max,gc_cpu_ns_median,gc_cpu_ns_min,\
        gc_cpu_ns_max,distilled_wall_ns_median,distilled_wall_ns_min,distilled_wall_ns_max,\
        distilled_cpu_ns_median,distilled_cpu_ns_min,distilled_cpu_ns_max,\
        pause_p99_on_cpu_ns_median,pause_p99_on_cpu_ns_min,pause_p99_on_cpu_ns_max,pause_max_on_cpu_ns_median,\
        pause_max_on_cpu_ns_min,pause_max_on_cpu_ns_max,verify_errors,status,wall_ns_mean,wall_ns_ci95_low,wall_ns_ci95_high,\
        events_per_s_mean,events_per_s_ci95_low,events_per_s_ci95_high,gc_count_mean,gc_count_ci95_low,\
        gc_count_ci95_high,pause_count_mean,pause_count_ci95_low,pause_count_ci95_high,pause_p50_ns_mean,\
        pause_p50_ns_ci95_low,pause_p50_ns_ci95_high,pause_p99_ns_mean,pause_p99_ns_ci95_low,\
        pause_p99_ns_ci95_high,pause_max_ns_mean,pause_max_ns_ci95_low,pause_max_ns_ci95_high,\
        pause_total_ns_mean,pause_total_ns_ci95_low,pause_total_ns_ci95_high,ttsp_max_ns_mean,\
        ttsp_max_ns_ci95_low,ttsp_max_ns_ci95_high,mmu_1ms_mean,mmu_1ms_ci95_low,mmu_1ms_ci95_high,\
        mmu_10ms_mean,mmu_10ms_ci95_low,mmu_10ms_ci95_high,mmu_100ms_mean,mmu_100ms_ci95_low,\
        mmu_100ms_ci95_high,gc_cpu_fraction_mean,gc_cpu_fraction_ci95_low,gc_cpu_fraction_ci95_high,\
        peak_heap_bytes_mean,peak_heap_bytes_ci95_low,peak_heap_bytes_ci95_high,final_live_bytes_mean,\
        final_live_bytes_ci95_low,final_live_bytes_ci95_high,assist_count_mean,assist_count_ci95_low,\
        assist_count_ci95_high,assist_total_ns_mean,assist_total_ns_ci95_low,assist_total_ns_ci95_high,\
        mark_cpu_total_ns_mean,mark_cpu_total_ns_ci95_low,mark_cpu_total_ns_ci95_high,span_count_mean,\
        span_count_ci95_low,span_count_ci95_high,span_p50_ns_mean,span_p50_ns_ci95_low,\
        span_p50_ns_ci95_high,span_p99_ns_mean,span_p99_ns_ci95_low,span_p99_ns_ci95_high,span_p999_ns_mean,\
        span_p999_ns_ci95_low,span_p999_ns_ci95_high,span_metered_p99_ns_mean,span_metered_p99_ns_ci95_low,\
        span_metered_p99_ns_ci95_high,span_wall_p99_ns_mean,span_wall_p99_ns_ci95_low,\
        span_wall_p99_ns_ci95_high,background_mark_cpu_ns_mean,background_mark_cpu_ns_ci95_low,\
        background_mark_cpu_ns_ci95_high,background_thread_cpu_ns_mean,background_thread_cpu_ns_ci95_low,\
        background_thread_cpu_ns_ci95_high,gc_cpu_used_fraction_mean,gc_cpu_used_fraction_ci95_low,\
        gc_cpu_used_fraction_ci95_high,mark_worker_ns_mean,mark_worker_ns_ci95_low,mark_worker_ns_ci95_high,\
        idle_mark_ns_mean,idle_mark_ns_ci95_low,idle_mark_ns_ci95_high,process_cpu_ns_mean,\
        process_cpu_ns_ci95_low,process_cpu_ns_ci95_high,gc_wall_ns_mean,gc_wall_ns_ci95_low,\
        gc_wall_ns_ci95_high,gc_cpu_ns_mean,gc_cpu_ns_ci95_low,gc_cpu_ns_ci95_high,distilled_wall_ns_mean,\
        distilled_wall_ns_ci95_low,distilled_wall_ns_ci95_high,distilled_cpu_ns_mean,distilled_cpu_ns_ci95_low,\
        distilled_cpu_ns_ci95_high,pause_p99_on_cpu_ns_mean,pause_p99_on_cpu_ns_ci95_low,\
        pause_p99_on_cpu_ns_ci95_high,pause_max_on_cpu_ns_mean,pause_max_on_cpu_ns_ci95_low,\
        pause_max_on_cpu_ns_ci95_high,mdc_wall_ns,lbo_wall_ns_median,lbo_wall_ns_min,lbo_wall_ns_max,\
        lbo_wall_ns_mean,lbo_wall_ns_ci95_low,lbo_wall_ns_ci95_high,nlbo_wall_median,nlbo_wall_min,\
        nlbo_wall_max,nlbo_wall_mean,nlbo_wall_ci95_low,nlbo_wall_ci95_high,mdc_cpu_ns,lbo_cpu_ns_median,\
        lbo_cpu_ns_min,lbo_cpu_ns_max,lbo_cpu_ns_mean,lbo_cpu_ns_ci95_low,lbo_cpu_ns_ci95_high,\
        nlbo_cpu_median,nlbo_cpu_min,nlbo_cpu_max,nlbo_cpu_mean,nlbo_cpu_ci95_low,nlbo_cpu_ci95_high";

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
        let names: Vec<&str> = metrics().iter().map(|m| m.name).collect();
        assert_eq!(names[..COMPARE_ORDER.len()], COMPARE_ORDER);
        // The metrics added since follow, in the registry's order.
        assert_eq!(
            names[COMPARE_ORDER.len()..],
            [
                "background_mark_cpu_ns",
                "background_thread_cpu_ns",
                "gc_cpu_used_fraction",
                "mark_worker_ns",
                "idle_mark_ns",
                "process_cpu_ns",
                "gc_wall_ns",
                "gc_cpu_ns",
                "distilled_wall_ns",
                "distilled_cpu_ns",
                "pause_p99_on_cpu_ns",
                "pause_max_on_cpu_ns"
            ]
        );
    }

    #[test]
    fn runs_csv_numbers_positions_within_each_repetition() {
        let (a, b) = (row("a", 1, 1, None, "ok"), row("b", 2, 2, None, "ok"));
        let bytes = runs_csv([(1, &a, true), (1, &b, false), (2, &b, true), (2, &a, false)]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "order,rep,position,collector,wall_ns,events_per_s,pause_p99_ns,status,top_level,\
             process_cpu_ns,gc_wall_ns,gc_cpu_ns"
        );
        let firsts: Vec<String> =
            lines[1..].iter().map(|l| l.split(',').take(4).collect::<Vec<_>>().join(",")).collect();
        assert_eq!(firsts, ["1,1,1,a", "2,1,2,b", "3,2,1,b", "4,2,2,a"]);
        assert!(lines[3].ends_with(",ok,true,,,"), "no costs measured: empty cells: {}", lines[3]);
    }
}

//! Lower-bound overhead (LBO): what a collector costs at least, measured
//! against the other collectors of the same comparison rather than
//! against an imaginary free one.
//!
//! After Cai, Blackburn, Bond and Maas, "Distilling the Real Cost of
//! Production Garbage Collectors" (ISPASS 2022). No collector is free —
//! even `none` pays for the pages a never-collected heap touches — so the
//! cost of the program without garbage collection cannot be measured. It
//! can be bounded: from each run's total cost, take out the part that can
//! be attributed to the collector explicitly; what is left, the *distilled*
//! cost, still holds the collector's indirect costs (barriers, allocation
//! paths, cache and page effects), so it is at least the program's own
//! cost. The smallest distilled cost over the collectors compared, the
//! *minimum distilled cost* (MDC), is then the best upper bound on the
//! program's own cost this comparison gives, and for each collector g
//!
//! ```text
//! LBO_g  = total_g − MDC        (a lower bound on what g costs)
//! NLBO_g = LBO_g / MDC           (as a share of the program's cost)
//! ```
//!
//! for two costs ([`Cost`]):
//!
//! - **wall time**: `wall_ns`; attributed, `gc_wall_ns` — every
//!   stop-the-world pause whole (no mutator runs), a mark assist or a
//!   dedicated background slice as one of the `procs` processors it held
//!   for its length (the mutator time lost, over the processors: exact at
//!   `--procs 1`, and with more the assisting goroutine's delay spread as
//!   if its work could have moved to the others);
//! - **CPU time**: `process_cpu_ns`, every thread of the process over the
//!   replay; attributed, `gc_cpu_ns` — the collector's work timed on each
//!   thread that ran it (collections, assists, background slices, the
//!   collector's own marking threads).
//!
//! Both attributions take out only work the collector did by name, so the
//! bound holds as long as each measured part is the collector's (a run
//! with `--verify` charges the verifier's checks at a pause to the
//! collector; compare without it).
//!
//! **Over repetitions.** Each collector's distilled cost is the median of
//! its repetitions'; the MDC is the smallest of those medians (the median
//! keeps one lucky repetition from setting the baseline). Each repetition
//! r of g then has LBO_{g,r} = total_{g,r} − MDC, and `compare.csv` gives
//! the statistics of [`crate::spread`] over them (the interval is the
//! spread of g's totals; the MDC is taken as exact).
//!
//! This module is arithmetic only: [`analyse`] takes each collector's
//! (total, attributed) pairs; `gcwb compare` feeds it summary rows,
//! [`read_runs_csv`] a compare folder's `runs.csv`, and a sweep each group
//! of cells that differ only in the collector.

use crate::spread::{spread, Spread};
use std::path::Path;

/// The cost an LBO is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    Wall,
    Cpu,
}

impl Cost {
    pub const ALL: [Cost; 2] = [Cost::Wall, Cost::Cpu];

    /// `wall` or `cpu`, as the column names spell it.
    pub fn name(self) -> &'static str {
        match self {
            Cost::Wall => "wall",
            Cost::Cpu => "cpu",
        }
    }

    /// The `summary.csv` (and `runs.csv`) columns of a run's total cost and
    /// of the part attributed to the collector.
    pub fn columns(self) -> (&'static str, &'static str) {
        match self {
            Cost::Wall => ("wall_ns", "gc_wall_ns"),
            Cost::Cpu => ("process_cpu_ns", "gc_cpu_ns"),
        }
    }

    /// The per-run columns a sweep adds to `cells.csv` (and can chart):
    /// `lbo_<cost>_ns` and `nlbo_<cost>`.
    pub fn metric_names(self) -> [&'static str; 2] {
        match self {
            Cost::Wall => ["lbo_wall_ns", "nlbo_wall"],
            Cost::Cpu => ["lbo_cpu_ns", "nlbo_cpu"],
        }
    }
}

/// Every column name [`Cost::metric_names`] gives.
pub const METRICS: [&str; 4] = ["lbo_wall_ns", "nlbo_wall", "lbo_cpu_ns", "nlbo_cpu"];

/// One run's cost: its total and the part attributed to the collector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub total: f64,
    pub attributed: f64,
}

impl Sample {
    /// The total with the attributed part taken out.
    pub fn distilled(self) -> f64 {
        self.total - self.attributed
    }
}

/// One collector's LBO over its repetitions.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectorLbo {
    /// Its repetitions' distilled costs.
    pub distilled: Spread,
    /// total − MDC, per repetition, and each over the MDC.
    pub lbo: Spread,
    pub nlbo: Spread,
    /// The per-repetition values, in the order given.
    pub lbo_each: Vec<f64>,
    pub nlbo_each: Vec<f64>,
}

/// The LBO analysis of one cost over the collectors of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// The minimum distilled cost: the smallest median distilled cost.
    pub mdc: f64,
    /// The collector whose median distilled cost is the MDC.
    pub baseline: usize,
    /// One per collector, in the order given; `None` for a collector
    /// without samples.
    pub collectors: Vec<Option<CollectorLbo>>,
}

/// The analysis of each collector's samples (one per repetition). `None`
/// when no collector has a sample, or the MDC is not positive (nothing to
/// normalize by).
pub fn analyse(samples: &[Vec<Sample>]) -> Option<Analysis> {
    let distilled: Vec<Option<Spread>> =
        samples.iter().map(|s| spread(&s.iter().map(|x| x.distilled()).collect::<Vec<f64>>())).collect();
    let (baseline, mdc) = distilled
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|d| (i, d.median)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    if mdc <= 0.0 || !mdc.is_finite() {
        return None;
    }
    let collectors = samples
        .iter()
        .zip(&distilled)
        .map(|(s, d)| {
            let d = (*d)?;
            let lbo_each: Vec<f64> = s.iter().map(|x| x.total - mdc).collect();
            let nlbo_each: Vec<f64> = lbo_each.iter().map(|l| l / mdc).collect();
            Some(CollectorLbo { distilled: d, lbo: spread(&lbo_each)?, nlbo: spread(&nlbo_each)?, lbo_each, nlbo_each })
        })
        .collect();
    Some(Analysis { mdc, baseline, collectors })
}

/// The LBO analyses (wall, then CPU) of a compare folder's `runs.csv`,
/// with the collectors in the order they first appear. A run whose
/// `status` is not `ok` is left out (its costs are of a partial replay).
/// An error names the file and line; a `runs.csv` from before the cost
/// columns gives `None` analyses.
pub fn read_runs_csv(path: &Path) -> Result<(Vec<String>, [Option<Analysis>; 2]), String> {
    let shown = path.display();
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{shown}: {e}"))?;
    let header = r.headers().map_err(|e| format!("{shown}: {e}"))?.clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    let collector_at = at("collector").ok_or_else(|| format!("{shown}: no `collector` column"))?;
    let status_at = at("status");
    let mut names: Vec<String> = Vec::new();
    let mut per_cost: [Vec<Vec<Sample>>; 2] = [Vec::new(), Vec::new()];
    let columns = Cost::ALL.map(|c| {
        let (total, attributed) = c.columns();
        at(total).zip(at(attributed))
    });
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| format!("{shown}: line {line}: {e}"))?;
        if status_at.and_then(|s| rec.get(s)).is_some_and(|s| s != "ok") {
            continue;
        }
        let name = rec.get(collector_at).unwrap_or_default();
        let c = match names.iter().position(|n| n == name) {
            Some(c) => c,
            None => {
                names.push(name.to_string());
                per_cost.iter_mut().for_each(|v| v.push(Vec::new()));
                names.len() - 1
            }
        };
        for (k, cols) in columns.iter().enumerate() {
            let Some((total, attributed)) = cols else { continue };
            let number = |col: usize| -> Result<Option<f64>, String> {
                let text = rec.get(col).unwrap_or_default();
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse::<f64>()
                    .map(Some)
                    .map_err(|_| format!("{shown}: line {line}: `{}` is not a number: `{text}`", &header[col]))
            };
            if let (Some(t), Some(a)) = (number(*total)?, number(*attributed)?) {
                per_cost[k][c].push(Sample { total: t, attributed: a });
            }
        }
    }
    let [wall, cpu] = per_cost;
    Ok((names, [analyse(&wall), analyse(&cpu)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(total: f64, attributed: f64) -> Sample {
        Sample { total, attributed }
    }

    #[test]
    fn the_baseline_is_the_smallest_median_distilled_cost() {
        // a: distilled 90, 95, 100 (median 95); b: 80, 120, 130 (median
        // 120): a's median sets the MDC although b has the smallest single
        // value.
        let a = vec![s(100.0, 10.0), s(100.0, 5.0), s(110.0, 10.0)];
        let b = vec![s(100.0, 20.0), s(130.0, 10.0), s(140.0, 10.0)];
        let x = analyse(&[a, b]).unwrap();
        assert_eq!((x.mdc, x.baseline), (95.0, 0));
        let a = x.collectors[0].as_ref().unwrap();
        assert_eq!(a.lbo_each, [5.0, 5.0, 15.0]);
        assert_eq!(a.lbo.median, 5.0);
        let b = x.collectors[1].as_ref().unwrap();
        assert_eq!(b.lbo_each, [5.0, 35.0, 45.0]);
        assert_eq!(b.nlbo.median, 35.0 / 95.0);
        assert_eq!(b.distilled.median, 120.0);
    }

    #[test]
    fn no_samples_or_no_positive_baseline_is_no_analysis() {
        assert_eq!(analyse(&[]), None);
        assert_eq!(analyse(&[Vec::new()]), None);
        assert_eq!(analyse(&[vec![s(10.0, 10.0)]]), None);
        let x = analyse(&[Vec::new(), vec![s(10.0, 2.0)]]).unwrap();
        assert_eq!((x.mdc, x.baseline, x.collectors[0].is_none()), (8.0, 1, true));
    }
}

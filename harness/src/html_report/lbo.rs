//! The lower-bound overhead (LBO; Cai, Blackburn, Bond and Maas, ISPASS
//! 2022) of each collector, for wall time and CPU time, as a table and a
//! paragraph saying what the numbers mean.
//!
//! Read by column name, when the files have them:
//!
//! - a comparison's `compare.csv`: the total (`wall_ns_median`,
//!   `process_cpu_ns_median`), `distilled_<cost>_ns_median`,
//!   `mdc_<cost>_ns`, `lbo_<cost>_ns_<stat>` and `nlbo_<cost>_<stat>`
//!   (median with the mean's 95% confidence interval);
//! - a run's `summary.csv`: the total and the part charged to the collector
//!   (`gc_<cost>_ns`) of each collector, one run each (no interval),
//!   analysed by [`crate::lbo::analyse`] as `gcwb compare` does (the runs
//!   that ended `ok`).
//!
//! A folder without these columns (results of a gcwb before LBO, an
//! import, a sweep, whose points carry `lbo_*`/`nlbo_*` metrics in its
//! own tables) has no LBO table.

use super::folder::{Folder, Kind};
use super::grid::{numeric, Cell, Grid, Measured, Spread};
use super::numbers::{scale, Unit};
use super::tables::{who, Source};
use crate::lbo;

/// A cost the LBO is of ([`lbo::Cost`]: its column names), and how the
/// table (and a sentence) names it.
struct Cost {
    of: lbo::Cost,
    label: &'static str,
    noun: &'static str,
}

impl Cost {
    /// `wall` or `cpu`, as column names spell it.
    fn name(&self) -> &'static str {
        self.of.name()
    }

    /// The column of a run's total.
    fn total(&self) -> &'static str {
        self.of.columns().0
    }
}

const COSTS: [Cost; 2] = [
    Cost { of: lbo::Cost::Wall, label: "Wall time", noun: "wall time" },
    Cost { of: lbo::Cost::Cpu, label: "CPU time", noun: "CPU time" },
];

/// One collector's numbers for one cost.
#[derive(Clone, Debug, Default)]
struct Entry {
    total: Option<Measured>,
    distilled: Option<Measured>,
    lbo: Option<Measured>,
    nlbo: Option<Measured>,
}

/// One cost's analysis: the MDC, the collector it comes from, and an
/// entry per row of the folder's per-collector table.
struct Analysis {
    cost: &'static Cost,
    mdc: f64,
    baseline: Option<String>,
    entries: Vec<Entry>,
}

/// The LBO section's content: its table and the MDC of each cost, or
/// `None` when the folder's files have no LBO columns.
pub struct Lbo {
    pub table: Grid,
    /// ("wall time", MDC in ns, the collector whose distilled cost it is).
    pub mdc: Vec<(&'static str, f64, Option<String>)>,
    /// From one run of each collector (no interval).
    pub single_runs: bool,
}

/// The LBO of `source`'s folder.
pub fn lbo(id: &str, source: &Source<'_>) -> Option<Lbo> {
    let folder = source.folder;
    let analyses: Vec<Analysis> = match folder.kind {
        Kind::Compare => COSTS.iter().filter_map(|c| from_compare(folder, c)).collect(),
        Kind::Run => COSTS.iter().filter_map(|c| from_summary(folder, c)).collect(),
        Kind::Import | Kind::Sweep => Vec::new(),
    };
    if analyses.is_empty() {
        return None;
    }
    let csv = folder.per_collector()?;
    let collectors: Vec<String> = (0..csv.len()).map(|r| csv.text(r, "collector").to_string()).collect();
    let mut g = Grid::of_rows(id, "lbo-table sortable", collectors.iter().map(|c| who(source, c)).collect());
    for a in &analyses {
        g.groups.push((a.cost.label.to_string(), 4));
        let pick = |f: fn(&Entry) -> Option<Measured>| a.entries.iter().map(f).collect::<Vec<_>>();
        let c = a.cost.name();
        let columns = [
            numeric(
                "total",
                &format!("{}: the run's whole {}", a.cost.label, a.cost.total()),
                Unit::Duration,
                a.cost.total(),
                &pick(|e| e.total.clone()),
            ),
            numeric(
                "distilled",
                "the total less what is charged to the collector explicitly",
                Unit::Duration,
                &format!("distilled_{c}_ns"),
                &pick(|e| e.distilled.clone()),
            ),
            numeric(
                "LBO",
                "total − MDC: a lower bound on what the collector costs",
                Unit::Duration,
                &format!("lbo_{c}_ns"),
                &pick(|e| e.lbo.clone()),
            ),
            numeric(
                "NLBO",
                "LBO / MDC, as a percentage of the program's own cost",
                Unit::Percent,
                &format!("nlbo_{c}"),
                &pick(|e| e.nlbo.clone()),
            ),
        ];
        for (head, cells) in columns {
            let cells = cells
                .into_iter()
                .zip(&collectors)
                .map(|(cell, name)| Cell { collector: Some(name.clone()), ..cell })
                .collect();
            g.push((head, cells));
        }
    }
    let mdc = analyses.iter().map(|a| (a.cost.noun, a.mdc, a.baseline.clone())).collect();
    Some(Lbo { table: g, mdc, single_runs: folder.kind == Kind::Run })
}

/// `compare.csv`'s LBO of `cost`, when it has `mdc_<cost>_ns` filled.
fn from_compare(folder: &Folder, cost: &'static Cost) -> Option<Analysis> {
    let csv = folder.compare.as_ref()?;
    let c = cost.name();
    let mdc_col = format!("mdc_{c}_ns");
    let mdc = (0..csv.len()).find_map(|r| csv.number(r, &mdc_col))?;
    let stat = |r: usize, metric: &str| {
        let col = |s: &str| format!("{metric}_{s}");
        let median = csv.number(r, &col("median"))?;
        let spread = match (csv.number(r, &col("ci95_low")), csv.number(r, &col("ci95_high"))) {
            (Some(lo), Some(hi)) => Some(Spread::Ci95(lo, hi)),
            _ => None,
        };
        Some(Measured { spread, ..Measured::new(median, csv.text(r, &col("median"))) })
    };
    let entries: Vec<Entry> = (0..csv.len())
        .map(|r| Entry {
            total: stat(r, cost.total()),
            distilled: stat(r, &format!("distilled_{c}_ns")),
            lbo: stat(r, &format!("lbo_{c}_ns")),
            nlbo: stat(r, &format!("nlbo_{c}")),
        })
        .collect();
    // The baseline: the collector whose median distilled cost is the MDC.
    let baseline = (0..csv.len())
        .filter_map(|r| Some((r, entries[r].distilled.as_ref()?.value)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, d)| (d - mdc).abs() <= 0.5)
        .map(|(r, _)| csv.text(r, "collector").to_string());
    Some(Analysis { cost, mdc, baseline, entries })
}

/// A run's LBO of `cost` from `summary.csv`: each collector's one run,
/// its total and the part charged to the collector, through
/// [`lbo::analyse`].
fn from_summary(folder: &Folder, cost: &'static Cost) -> Option<Analysis> {
    let csv = folder.summary.as_ref()?;
    let (total_col, attributed_col) = cost.of.columns();
    let distilled_col = format!("distilled_{}_ns", cost.name());
    if !csv.has(attributed_col) {
        return None;
    }
    let ok = |r: usize| matches!(csv.text(r, "status"), "ok" | "");
    let samples: Vec<Vec<lbo::Sample>> = (0..csv.len())
        .map(|r| {
            let total = csv.number(r, total_col).filter(|_| ok(r));
            let sample = total.zip(csv.number(r, attributed_col));
            sample.map(|(total, attributed)| lbo::Sample { total, attributed }).into_iter().collect()
        })
        .collect();
    let analysis = lbo::analyse(&samples)?;
    let entries = (0..csv.len())
        .map(|r| {
            let measured = |col: &str| csv.number(r, col).map(|v| Measured::new(v, csv.text(r, col)));
            let of = analysis.collectors[r].as_ref();
            let lbo = of.map(|c| c.lbo.median);
            let nlbo = of.map(|c| c.nlbo.median);
            Entry {
                total: measured(total_col),
                distilled: measured(&distilled_col),
                lbo: lbo.map(|l| Measured::new(l, format!("{l:.0}"))),
                nlbo: nlbo.map(|n| Measured::new(n, n.to_string())),
            }
        })
        .collect();
    let baseline = Some(csv.text(analysis.baseline, "collector").to_string());
    Some(Analysis { cost, mdc: analysis.mdc, baseline, entries })
}

/// The MDC of a cost (`noun`: `wall time`) in words: `29.1 ms, the
/// distilled wall time of none`.
pub fn mdc_words(noun: &str, mdc: f64, baseline: Option<&str>) -> String {
    let s = scale(Unit::Duration, [mdc]);
    let of = baseline.map_or_else(String::new, |b| format!(", the distilled {noun} of {b}"));
    format!("{} {}{of}", s.show(mdc), s.label)
}

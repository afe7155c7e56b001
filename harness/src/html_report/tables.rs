//! The report's tables, each a [`Grid`] built from result files:
//!
//! - [`summary`]: one row per collector (per folder, for several), the
//!   headline metrics and the verifier's verdict; for a comparison each
//!   metric's median over the repetitions with its 95% confidence
//!   interval (`compare.csv`); for a sweep one row per cell
//!   (`cells.csv`);
//! - [`pauses`]: pause count, p50, p99, max, total, longest time to
//!   safepoint;
//! - [`latency`]: request latency — simple p50, p99, p99.9, metered p99
//!   and wall p99 — when the trace has request spans;
//! - [`phases`]: `phases.csv`, the pauses of each phase;
//! - [`every_column`]: every column of `summary.csv`, one row each;
//! - [`sweep_points`]: one sweep chart's points, median and interval per
//!   collector and parameter value.
//!
//! Headers take their description from [`crate::columns`]' registry.

use super::folder::{Csv, Folder, Kind};
use super::grid::{numeric, Cell, Grid, Head, Measured, Row, Spread, Who};
use super::numbers::{scale, Unit};
use super::verdict::Verdict;
use crate::charts::data::SweepPoint;
use crate::charts::sweep::{Quantity, SweepGroup};
use crate::charts::Palette;
use crate::columns;

/// A folder's rows as one table sees them: the folder, its palette, and
/// the folder's name when the table holds several.
pub struct Source<'a> {
    pub folder: &'a Folder,
    pub palette: &'a Palette,
    pub dir: Option<String>,
}

/// A metric column: the `summary.csv` name and the header's label.
type Metric = (&'static str, &'static str);

/// The summary table's metrics, when a folder has them.
const SUMMARY_METRICS: [Metric; 10] = [
    ("wall_ns", "wall time"),
    ("events_per_s", "throughput"),
    ("gc_count", "GCs"),
    ("pause_p99_ns", "pause p99"),
    ("pause_max_ns", "pause max"),
    ("pause_total_ns", "pauses total"),
    ("mmu_10ms", "MMU 10 ms"),
    ("gc_cpu_fraction", "GC CPU"),
    ("peak_heap_bytes", "peak heap"),
    ("span_p99_ns", "request p99"),
];

const PAUSE_METRICS: [Metric; 6] = [
    ("pause_count", "pauses"),
    ("pause_p50_ns", "p50"),
    ("pause_p99_ns", "p99"),
    ("pause_max_ns", "max"),
    ("pause_total_ns", "total"),
    ("ttsp_max_ns", "TTSP max"),
];

const LATENCY_METRICS: [Metric; 6] = [
    ("span_count", "requests"),
    ("span_p50_ns", "p50"),
    ("span_p99_ns", "p99"),
    ("span_p999_ns", "p99.9"),
    ("span_metered_p99_ns", "metered p99"),
    ("span_wall_p99_ns", "wall p99"),
];

/// A sweep's summary: the cells' metrics besides the experiment's own.
const CELL_METRICS: [Metric; 4] = [
    ("wall_ns", "wall time"),
    ("pause_p99_ns", "pause p99"),
    ("peak_heap_bytes", "peak heap"),
    ("events_per_s", "throughput"),
];

/// One row of a per-collector table: where it comes from.
struct Line<'a> {
    csv: &'a Csv,
    row: usize,
    /// `compare.csv`: metrics are `<metric>_median` with their spread.
    stats: bool,
    who: Who,
}

/// The per-collector rows of `sources`.
fn lines<'a>(sources: &'a [Source<'a>]) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for s in sources {
        let Some(csv) = s.folder.per_collector() else { continue };
        for row in 0..csv.len() {
            out.push(Line { csv, row, stats: s.folder.kind == Kind::Compare, who: who(s, csv.text(row, "collector")) });
        }
    }
    out
}

/// The row header of `collector` in `s`.
pub fn who(s: &Source<'_>, collector: &str) -> Who {
    Who {
        collector: collector.to_string(),
        imported_from: s.folder.imported_from(collector),
        color: Some(s.palette.color(collector)),
        dir: s.dir.clone(),
    }
}

/// `metric` of a line: the value, or of a comparison the median with its
/// confidence interval (else its range).
fn measured(l: &Line<'_>, metric: &str) -> Option<Measured> {
    if !l.stats {
        let raw = l.csv.text(l.row, metric);
        return l.csv.number(l.row, metric).map(|v| Measured::new(v, raw));
    }
    let col = |stat: &str| format!("{metric}_{stat}");
    let median = l.csv.number(l.row, &col("median"))?;
    let pair = |a: &str, b: &str| Some((l.csv.number(l.row, &col(a))?, l.csv.number(l.row, &col(b))?));
    let spread = match (pair("ci95_low", "ci95_high"), pair("min", "max")) {
        (Some((lo, hi)), _) => Some(Spread::Ci95(lo, hi)),
        (None, Some((lo, hi))) if lo != hi => Some(Spread::Range(lo, hi)),
        _ => None,
    };
    Some(Measured { spread, ..Measured::new(median, l.csv.text(l.row, &col("median"))) })
}

/// What a header says of `metric` on hover.
fn about(metric: &str, stats: bool) -> String {
    let base = columns::column(metric).map_or_else(String::new, |c| c.about.to_string());
    if stats {
        format!("{base} — median over the repetitions; under it the mean's 95% confidence interval")
    } else {
        base
    }
}

/// Adds the column of each of `metrics` some line has a value of.
fn push_metrics(g: &mut Grid, lines: &[Line<'_>], metrics: &[Metric]) {
    let stats = lines.iter().any(|l| l.stats);
    for &(metric, label) in metrics {
        let values: Vec<Option<Measured>> = lines.iter().map(|l| measured(l, metric)).collect();
        if values.iter().all(Option::is_none) {
            continue;
        }
        g.push(numeric(label, &about(metric, stats), Unit::of_column(metric), metric, &values));
    }
}

/// The verdict of a per-collector line.
fn verdict(l: &Line<'_>) -> Verdict {
    Verdict::of_cell(l.csv.text(l.row, "verify_errors"))
}

/// A text column.
fn text_column(label: &str, about: &str, cells: Vec<Cell>) -> (Head, Vec<Cell>) {
    (Head { label: label.to_string(), about: about.to_string(), ..Head::default() }, cells)
}

/// The verifier's column: each line's verdict in a few words.
fn verdict_column(about: &str, lines: &[Line<'_>]) -> (Head, Vec<Cell>) {
    let cells = lines
        .iter()
        .map(|l| {
            let v = verdict(l);
            Cell {
                value: Some(v.key().to_string()),
                title: Some(v.words()),
                class: Some("verdict-cell"),
                ..Cell::text(v.short())
            }
        })
        .collect();
    text_column("verifier", about, cells)
}

/// The summary table of `sources` (one folder, or several: then a
/// `folder` column first).
pub fn summary(id: &str, sources: &[Source<'_>]) -> Grid {
    let lines = lines(sources);
    let mut g = Grid::of_rows(id, "summary sortable", lines.iter().map(|l| l.who.clone()).collect());
    if sources.len() > 1 {
        let cells = lines.iter().map(|l| Cell::text(l.who.dir.clone().unwrap_or_default())).collect();
        g.push(text_column("folder", "the results folder", cells));
    }
    push_metrics(&mut g, &lines, &SUMMARY_METRICS);
    if lines.iter().any(|l| !matches!(l.csv.text(l.row, "status"), "ok" | "")) {
        let cells = lines.iter().map(|l| Cell::text(l.csv.text(l.row, "status"))).collect();
        g.push(text_column("status", &about("status", false), cells));
    }
    g.push(verdict_column("the verifier's verdict (verify_errors)", &lines));
    for (row, l) in g.rows.iter_mut().zip(&lines) {
        row.attrs.push(("data-verdict", verdict(l).key().to_string()));
    }
    g
}

/// The pause table of one folder.
pub fn pauses(id: &str, source: &Source<'_>) -> Grid {
    per_collector_table(id, "pauses sortable", source, &PAUSE_METRICS)
}

/// The request latency table, or `None` when no collector's run had a
/// request span.
pub fn latency(id: &str, source: &Source<'_>) -> Option<Grid> {
    let lines = lines(std::slice::from_ref(source));
    let spans = lines.iter().any(|l| measured(l, "span_count").is_some_and(|m| m.value > 0.0));
    spans.then(|| per_collector_table(id, "latency sortable", source, &LATENCY_METRICS))
}

fn per_collector_table(id: &str, class: &str, source: &Source<'_>, metrics: &[Metric]) -> Grid {
    let lines = lines(std::slice::from_ref(source));
    let mut g = Grid::of_rows(id, class, lines.iter().map(|l| l.who.clone()).collect());
    push_metrics(&mut g, &lines, metrics);
    g
}

/// `phases.csv` as a table, or `None` when the folder has none (or it is
/// empty).
pub fn phases(id: &str, source: &Source<'_>) -> Option<Grid> {
    let csv = source.folder.phases.as_ref().filter(|c| !c.is_empty())?;
    let rows = (0..csv.len()).map(|r| who(source, csv.text(r, "collector"))).collect();
    let mut g = Grid::of_rows(id, "phases sortable", rows);
    let cells = (0..csv.len()).map(|r| Cell::text(csv.text(r, "phase"))).collect();
    g.push(text_column("phase", "the pause's phase (stw-full, sweep-term, mark-term, minor, major, …)", cells));
    let columns: [(&str, &str, &str); 5] = [
        ("count", "pauses", "pauses of the phase"),
        ("p50_ns", "p50", "median pause of the phase"),
        ("p99_ns", "p99", "99th-percentile pause of the phase"),
        ("max_ns", "max", "longest pause of the phase"),
        ("total_ns", "total", "the phase's pauses added up"),
    ];
    for (col, label, what) in columns {
        let values: Vec<Option<Measured>> =
            (0..csv.len()).map(|r| csv.number(r, col).map(|v| Measured::new(v, csv.text(r, col)))).collect();
        g.push(numeric(label, what, Unit::of_column(col), col, &values));
    }
    Some(g)
}

/// Every column of the folder's `summary.csv`, one row each, a column
/// per collector; `None` without one.
pub fn every_column(id: &str, source: &Source<'_>) -> Option<Grid> {
    let csv = source.folder.summary.as_ref().filter(|c| !c.is_empty())?;
    let collectors: Vec<String> = (0..csv.len()).map(|r| csv.text(r, "collector").to_string()).collect();
    let mut g = Grid { id: id.to_string(), class: "every-column".to_string(), ..Grid::default() };
    g.head.push(Head { label: "column".to_string(), ..Head::default() });
    for c in &collectors {
        g.head.push(Head { label: c.clone(), numeric: true, ..Head::default() });
    }
    for name in csv.columns() {
        if name == "collector" {
            continue;
        }
        let about = columns::column(&name).map_or("", |c| c.about);
        let mut cells = vec![Cell { title: Some(about.to_string()), ..Cell::text(name.clone()) }];
        let unit = Unit::of_column(&name);
        let numbers: Vec<Option<f64>> = (0..csv.len()).map(|r| csv.number(r, &name)).collect();
        let is_numeric = columns::column(&name).is_none_or(|c| c.kind.is_numeric());
        let s = scale(unit, numbers.iter().flatten().copied());
        for (r, n) in numbers.iter().enumerate() {
            let raw = csv.text(r, &name);
            let text = match n {
                Some(v) if is_numeric && *v != 0.0 && !s.label.is_empty() => format!("{} {}", s.show(*v), s.label),
                Some(v) if is_numeric => s.show(*v),
                _ if raw.is_empty() => "—".to_string(),
                _ => raw.to_string(),
            };
            cells.push(Cell {
                value: Some(raw.to_string()),
                title: Some(raw.to_string()),
                numeric: true,
                collector: Some(collectors[r].clone()),
                ..Cell::text(text)
            });
        }
        g.rows.push(Row { who: None, cells, attrs: vec![("data-column", name.clone())] });
    }
    Some(g)
}

/// A sweep's summary: one row per finished cell (`cells.csv`), its
/// workload, swept values and repetition, the experiment's metrics and
/// the verdict.
pub fn sweep_cells(id: &str, source: &Source<'_>, metrics: &[String]) -> Option<Grid> {
    let csv = source.folder.cells.as_ref().filter(|c| !c.is_empty())?;
    let columns = csv.columns();
    // The swept parameters sit between `workload` and `collector`.
    let first = columns.iter().position(|c| c == "workload").map_or(0, |i| i + 1);
    let last = columns.iter().position(|c| c == "collector").unwrap_or(first).max(first);
    let params = &columns[first..last];
    let rows = (0..csv.len()).map(|r| who(source, csv.text(r, "collector"))).collect();
    let mut g = Grid::of_rows(id, "summary sortable", rows);
    let mut text = |name: &str, about: &str| {
        let cells = (0..csv.len())
            .map(|r| Cell { value: Some(csv.text(r, name).to_string()), ..Cell::text(csv.text(r, name)) })
            .collect();
        g.push(text_column(name, about, cells));
    };
    text("workload", "the workload (its label in the experiment)");
    for p in params {
        text(p, "a swept parameter, as the experiment file gives it");
    }
    let lines: Vec<Line<'_>> = (0..csv.len())
        .map(|row| Line { csv, row, stats: false, who: who(source, csv.text(row, "collector")) })
        .collect();
    let reps: Vec<Option<Measured>> = lines
        .iter()
        .map(|l| csv.number(l.row, "repetition").map(|v| Measured::new(v, csv.text(l.row, "repetition"))))
        .collect();
    g.push(numeric("rep", "the cell's repetition", Unit::Count, "repetition", &reps));
    let mut wanted: Vec<(&str, String)> = Vec::new();
    for m in metrics.iter().map(String::as_str).chain(CELL_METRICS.iter().map(|m| m.0)) {
        if csv.has(m) && !wanted.iter().any(|w| w.0 == m) {
            let label = CELL_METRICS
                .iter()
                .find(|c| c.0 == m)
                .map_or_else(|| crate::charts::sweep::describe(m), |c| c.1.to_string());
            wanted.push((m, label));
        }
    }
    for (metric, label) in &wanted {
        let values: Vec<Option<Measured>> = lines.iter().map(|l| measured(l, metric)).collect();
        g.push(numeric(label, &about(metric, false), Unit::of_column(metric), metric, &values));
    }
    g.push(verdict_column("the verifier's verdict on the cell", &lines));
    Some(g)
}

/// The table of one sweep chart's points: a row per parameter value, a
/// column per collector, each cell the median over the repetitions with
/// the mean's 95% confidence interval (or, in a file without it, the
/// range).
pub fn sweep_points(id: &str, group: &SweepGroup, points: &[SweepPoint]) -> Grid {
    let mine: Vec<&SweepPoint> = points.iter().filter(|p| group.holds(p)).collect();
    let mut collectors: Vec<&str> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    for p in &mine {
        if !collectors.contains(&p.collector.as_str()) {
            collectors.push(&p.collector);
        }
        if !values.contains(&p.value) {
            values.push(p.value);
        }
    }
    values.sort_by(f64::total_cmp);
    let metric = group.metric.clone().unwrap_or_else(|| "metric".to_string());
    let mut attrs = vec![("data-param", group.param.clone()), ("data-metric", metric.clone())];
    if let Some(w) = &group.workload {
        attrs.push(("data-workload", w.clone()));
    }
    let mut g = Grid { id: id.to_string(), class: "sweep-points".to_string(), attrs, ..Grid::default() };
    let param_unit = match Quantity::of(&group.param) {
        Quantity::Duration => Unit::Duration,
        Quantity::Bytes => Unit::Bytes,
        Quantity::Rate => Unit::Rate,
        Quantity::Plain => Unit::Plain,
    };
    let param_label = crate::charts::sweep::describe(&group.param);
    g.head.push(Head { label: param_label, ..Head::default() });
    let mut rows: Vec<Row> = values
        .iter()
        .map(|v| Row {
            who: None,
            cells: vec![Cell {
                value: Some(v.to_string()),
                class: Some("param"),
                ..Cell::text(super::numbers::setting(param_unit, *v))
            }],
            attrs: vec![("data-value", v.to_string())],
        })
        .collect();
    let about = format!("{} — median over the repetitions; under it the mean's 95% confidence interval, or in a file without one the range", crate::charts::sweep::describe(&metric));
    for c in &collectors {
        let column: Vec<Option<Measured>> = values
            .iter()
            .map(|v| {
                let p = mine.iter().find(|p| p.collector == *c && p.value == *v)?;
                let spread = match p.ci95 {
                    Some((lo, hi)) => Some(Spread::Ci95(lo, hi)),
                    None if p.min != p.max => Some(Spread::Range(p.min, p.max)),
                    None => None,
                };
                Some(Measured { spread, ..Measured::new(p.median, p.median.to_string()) })
            })
            .collect();
        let (head, cells) = numeric(c, &about, Unit::of_column(&metric), &metric, &column);
        g.head.push(head);
        for (row, cell) in rows.iter_mut().zip(cells) {
            row.cells.push(Cell { collector: Some(c.to_string()), ..cell });
        }
    }
    g.rows = rows;
    g
}

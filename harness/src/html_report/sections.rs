//! The sections of one folder's part of the report, in reading order:
//! provenance (what produced the results), the verifier's verdicts, the
//! summary table, pauses (table, percentile chart, per-phase table), MMU,
//! the timeline, request latency, LBO, a sweep's charts with their
//! tables, and every column of `summary.csv`. Each section is written
//! only when the folder has its data, and listed in the table of contents
//! ([`Toc`]).

use super::folder::{Folder, Kind};
use super::grid::Grid;
use super::html::Html;
use super::lbo;
use super::numbers::utc;
use super::tables::{self, Source};
use super::verdict::Verdict;
use super::{svg, Ids};
use crate::charts::sweep::groups;
use crate::charts::Rendered;

/// The table of contents: (depth, id, title), in page order.
#[derive(Default)]
pub struct Toc {
    pub entries: Vec<(u8, String, String)>,
}

impl Toc {
    fn add(&mut self, depth: u8, id: &str, title: &str) {
        self.entries.push((depth, id.to_string(), title.to_string()));
    }

    /// A folder's (or the combined part's) entry, above its sections'.
    pub fn add_folder(&mut self, id: &str, title: &str) {
        self.add(1, id, title);
    }
}

/// Where a folder's part is written, and what it is called.
pub struct Part<'a> {
    pub h: &'a mut Html,
    pub toc: &'a mut Toc,
    pub ids: &'a Ids,
}

impl Part<'_> {
    /// `<section id=… class=ROLE><h3>title</h3>…</section>`, listed in the
    /// contents.
    fn section(&mut self, role: &str, title: &str, body: impl FnOnce(&mut Html)) {
        let id = self.ids.id(role);
        self.toc.add(2, &id, title);
        self.h.el("section", &[("id", &id), ("class", role)], |h| {
            h.leaf("h3", &[], title);
            body(h);
        });
        self.h.newline();
    }
}

/// A chart's caption, in plain words.
fn caption(stem: &str, kind: Kind) -> String {
    let median = if kind == Kind::Compare { " Each collector's median repetition (by wall time)." } else { "" };
    let text = match stem {
        "pause-percentiles" => {
            "Pause time at each percentile, per collector (log scale; the final collection is left out). \
             Dashed lines with square markers are imported runtime logs."
        }
        "mmu" => {
            "Minimum mutator utilization: for each window width, the smallest share of any window of that \
             width left to the program (MMU), and its bounded form (BMU: the least MMU of that width or more)."
        }
        "pause-timeline" => {
            "Every stop-the-world pause at the time it started (left axis, log scale; the marker tells the \
             phase), over the heap in use (grey, right axis)."
        }
        "request-latency" => {
            "Request latency at each percentile, from the trace's request spans: the time from a request's \
             begin to its end that it ran, was paused or assisted (the table also gives the metered latency, \
             DaCapo's, counted from the request's intended start, so that a pause delaying later requests \
             counts against them)."
        }
        _ => "The median over the repetitions, with a bar from the smallest to the largest value.",
    };
    format!("{text}{median}")
}

/// `<figure class="chart" data-chart=STEM>` with the chart inlined.
pub fn figure(h: &mut Html, chart: &Rendered, label: &str, caption: &str) {
    h.el("figure", &[("class", "chart"), ("data-chart", &chart.stem)], |h| {
        h.trusted(&svg::inline(&chart.bytes, label));
        h.leaf("figcaption", &[], caption);
    });
    h.newline();
}

fn chart<'c>(charts: &'c [Rendered], stem: &str) -> Option<&'c Rendered> {
    charts.iter().find(|c| c.stem == stem)
}

fn write_grid(h: &mut Html, g: &Grid) {
    h.el("div", &[("class", "table-wrap")], |h| g.write(h));
    h.newline();
}

/// A string of a TOML table.
fn text<'t>(t: &'t toml::Table, key: &str) -> Option<&'t str> {
    t.get(key).and_then(toml::Value::as_str)
}

/// A TOML value as a reader reads it: strings without quotes, lists
/// joined, floats without a needless fraction.
fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        toml::Value::Array(a) if a.is_empty() => "none".to_string(),
        toml::Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        toml::Value::Table(t) => t.iter().map(|(k, v)| format!("{k} = {}", plain(v))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// One `<dt>`/`<dd>` pair; `code` sets the value in monospace.
fn item(h: &mut Html, term: &str, value: &str, code: bool) {
    h.leaf("dt", &[], term);
    h.el("dd", &[], |h| {
        if code {
            h.leaf("code", &[], value);
        } else {
            h.text(value);
        }
    });
}

/// Key–value pairs as a compact list of `<span>`s.
fn pairs(h: &mut Html, term: &str, kv: &[(String, String)]) {
    if kv.is_empty() {
        return;
    }
    h.leaf("dt", &[], term);
    h.el("dd", &[("class", "pairs")], |h| {
        for (k, v) in kv {
            h.el("span", &[], |h| {
                h.leaf("span", &[("class", "key")], k);
                h.text(" ");
                h.leaf("code", &[], v);
            });
        }
    });
}

/// The build and machine lines of a `run.toml`.
fn build_items(h: &mut Html, t: &toml::Table) {
    if let Some(v) = text(t, "gcwb_version") {
        let commit = text(t, "git_commit").unwrap_or("unknown");
        let short: String = commit.chars().take(12).collect();
        h.leaf("dt", &[], "gcwb");
        h.el("dd", &[], |h| {
            h.text(&format!("{v}, commit "));
            h.leaf("code", &[("title", commit)], &short);
        });
    }
    if let Some(r) = text(t, "rustc") {
        item(h, "rustc", r, false);
    }
    if let Some(m) = text(t, "machine") {
        item(h, "machine", m, false);
    }
    if let Some(s) = t.get("finished_unix_s").and_then(toml::Value::as_integer) {
        item(h, "finished", &utc(s.max(0) as u64), false);
    }
}

/// The trace lines of a `run.toml`.
fn trace_items(h: &mut Html, t: &toml::Table) {
    let Some(trace) = t.get("trace").and_then(toml::Value::as_table) else { return };
    let name = text(trace, "name").unwrap_or("?");
    let events = trace.get("events").and_then(toml::Value::as_integer);
    let mut what = match text(trace, "source") {
        Some("workload") => {
            let seed = trace.get("seed").map(plain).unwrap_or_default();
            let set = trace.get("set").map(plain).filter(|s| s != "none");
            let set = set.map_or_else(String::new, |s| format!(", --set {s}"));
            format!("{name}: built-in workload, seed {seed}{set}")
        }
        Some(source) => {
            let path = text(trace, "path").unwrap_or(name);
            let bytes = trace.get("bytes").and_then(toml::Value::as_integer);
            let crc = text(trace, "crc32");
            let mut s = format!("{path} ({source}");
            if let Some(b) = bytes {
                s.push_str(&format!(", {b} bytes"));
            }
            if let Some(c) = crc {
                s.push_str(&format!(", CRC-32 {c}"));
            }
            s.push(')');
            s
        }
        None => name.to_string(),
    };
    if let Some(e) = events {
        what.push_str(&format!("; {} events", super::numbers::significant(e as f64)));
    }
    item(h, "trace", &what, false);
    if let Some(params) = trace.get("params").and_then(toml::Value::as_table) {
        let kv: Vec<(String, String)> = params.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
        pairs(h, "parameters", &kv);
    }
}

/// The provenance section.
pub fn provenance(p: &mut Part<'_>, f: &Folder) {
    p.section("provenance", "Provenance", |h| {
        h.el("dl", &[("class", "facts")], |h| {
            item(h, "results", &f.dir.display().to_string(), true);
            match (&f.run_toml, f.kind) {
                (Some(t), _) => {
                    if let Some(c) = text(t, "command") {
                        item(h, "command", c, true);
                    }
                    let mut by = text(t, "written_by").unwrap_or(f.kind.name()).to_string();
                    if let Some(r) = t.get("repeat").and_then(toml::Value::as_integer) {
                        by.push_str(&format!(", {r} repetitions per collector"));
                    }
                    item(h, "written by", &format!("gcwb {by}"), false);
                    build_items(h, t);
                    trace_items(h, t);
                    if let Some(c) = t.get("collectors") {
                        item(h, "collectors", &plain(c), false);
                    }
                    if let Some(s) = t.get("settings").and_then(toml::Value::as_table) {
                        let kv: Vec<(String, String)> = s.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
                        pairs(h, "settings", &kv);
                    }
                }
                (None, Kind::Sweep) => sweep_items(h, f),
                (None, Kind::Import) => import_items(h, f),
                (None, _) => item(h, "run.toml", "none: what produced these results is not recorded", false),
            }
        });
        if f.kind == Kind::Compare {
            h.leaf(
                "p",
                &[("class", "note")],
                "Tables give each metric's median over the repetitions, with the 95% confidence interval of \
                 its mean under it; the charts and the per-phase table show each collector's median repetition \
                 (by wall time).",
            );
        }
        for (name, body) in &f.script_notes {
            h.el("details", &[("class", "script-note")], |h| {
                h.leaf("summary", &[], &format!("{name}, written by the script that ran gcwb"));
                h.leaf("pre", &[], body.trim_end());
            });
        }
        if let Some(e) = &f.experiment {
            h.el("details", &[("class", "experiment")], |h| {
                h.leaf("summary", &[], "experiment.toml");
                h.leaf("pre", &[], e.trim_end());
            });
        }
    });
}

/// A sweep's provenance: its cells, and the build of its first cell.
fn sweep_items(h: &mut Html, f: &Folder) {
    item(h, "written by", "gcwb sweep", false);
    if let Some(cells) = &f.cells {
        let mut workloads: Vec<&str> = Vec::new();
        for r in 0..cells.len() {
            let w = cells.text(r, "workload");
            if !workloads.contains(&w) {
                workloads.push(w);
            }
        }
        item(h, "cells", &format!("{} finished; workloads {}", cells.len(), workloads.join(", ")), false);
    }
    if let Some(e) = f.experiment.as_deref().and_then(|e| toml::from_str::<toml::Table>(e).ok()) {
        if let Some(sweep) = e.get("sweep").and_then(toml::Value::as_table) {
            let kv: Vec<(String, String)> = sweep.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
            pairs(h, "swept", &kv);
        }
        for key in ["collectors", "repetitions", "seed", "verify"] {
            if let Some(v) = e.get(key) {
                item(h, key, &plain(v), false);
            }
        }
    }
    if let Some(t) = &f.cell_toml {
        build_items(h, t);
    }
}

/// An import's provenance: the log and its format.
fn import_items(h: &mut Html, f: &Folder) {
    let Some(s) = &f.summary else { return };
    for r in 0..s.len() {
        let log = s.text(r, "trace");
        let what =
            format!("{log} ({} log), read by gcwb import as {}", s.text(r, "imported_from"), s.text(r, "collector"));
        item(h, "log", &what, false);
        let procs = s.text(r, "procs");
        if !procs.is_empty() {
            item(h, "procs", procs, false);
        }
    }
    if let Some(m) = &f.charts.machine {
        item(h, "machine", m, false);
    }
}

/// The verdicts: one line per collector.
pub fn verdicts(p: &mut Part<'_>, f: &Folder) {
    let mut lines: Vec<(String, Verdict, bool)> = Vec::new();
    if let Some(csv) = f.per_collector() {
        for r in 0..csv.len() {
            let name = csv.text(r, "collector");
            lines.push((
                name.to_string(),
                Verdict::of_cell(csv.text(r, "verify_errors")),
                f.imported_from(name).is_some(),
            ));
        }
    } else if let Some(cells) = &f.cells {
        for name in f.collectors() {
            let v = Verdict::combined(cells.rows_of(&name).map(|r| Verdict::of_cell(cells.text(r, "verify_errors"))));
            lines.push((name, v, false));
        }
    }
    if lines.is_empty() {
        return;
    }
    let over = match f.kind {
        Kind::Compare => " (over every repetition)",
        Kind::Sweep => " (over every cell)",
        _ => "",
    };
    p.section("verdicts", "Verifier", |h| {
        for (name, v, imported) in &lines {
            let class = "verdict";
            h.el("p", &[("class", class), ("data-verdict", v.key()), ("data-collector", name)], |h| {
                if matches!(v, Verdict::Violations(_)) {
                    h.leaf("span", &[("class", "icon"), ("aria-hidden", "true")], "⚠ ");
                }
                h.leaf("strong", &[], name);
                h.text(&format!("{over}: {}", v.words()));
                if *imported {
                    h.text(" (an imported runtime's log: gcwb's verifier checks replays only)");
                }
            });
        }
    });
}

/// The summary, pause, phase and latency tables with their charts, MMU
/// and the timeline: what a run, comparison or import has.
pub fn run_sections(p: &mut Part<'_>, s: &Source<'_>, charts: &[Rendered]) {
    let f = s.folder;
    let label = |what: &str| format!("{what}: {}", f.dir.display());
    let summary = tables::summary(&p.ids.id("summary"), std::slice::from_ref(s));
    p.section("summary-section", "Summary", |h| {
        h.leaf(
            "p",
            &[("class", "hint")],
            "Click a column's header to sort by it; hover over a header for what it measures, over a number for its exact value.",
        );
        write_grid(h, &summary);
    });
    let pauses = tables::pauses(&p.ids.id("pauses"), s);
    let phases = tables::phases(&p.ids.id("phases"), s);
    p.section("pause-section", "Pauses", |h| {
        write_grid(h, &pauses);
        if let Some(c) = chart(charts, "pause-percentiles") {
            figure(h, c, &label("pause time percentiles"), &caption(&c.stem, f.kind));
        }
        if let Some(ph) = &phases {
            h.leaf("h4", &[], "By phase");
            write_grid(h, ph);
        }
    });
    if let Some(c) = chart(charts, "mmu") {
        p.section("mmu-section", "Mutator utilization (MMU/BMU)", |h| {
            figure(h, c, &label("minimum mutator utilization"), &caption(&c.stem, f.kind));
        });
    }
    if let Some(c) = chart(charts, "pause-timeline") {
        p.section("timeline-section", "Timeline", |h| {
            figure(h, c, &label("pauses and heap over time"), &caption(&c.stem, f.kind));
        });
    }
    let latency = tables::latency(&p.ids.id("latency"), s);
    let latency_chart = chart(charts, "request-latency");
    if latency.is_some() || latency_chart.is_some() {
        p.section("latency-section", "Request latency", |h| {
            if let Some(g) = &latency {
                write_grid(h, g);
            }
            if let Some(c) = latency_chart {
                figure(h, c, &label("request latency percentiles"), &caption(&c.stem, f.kind));
            }
        });
    }
}

const LBO_EXPLAINED: &str = "What a collector costs is more than its pauses: barriers, allocation paths and cache \
    effects slow the program too, and cannot be timed on their own. The distilled cost of a run is its total \
    less what is charged to the collector explicitly (wall time: the pauses, and the processor time assists and \
    background slices took; CPU time: the collector's own work on every thread). The smallest distilled cost of \
    the collectors compared, the MDC (minimum distilled cost), is this comparison's best estimate of what the \
    program costs by itself, so a collector's LBO = total − MDC is a lower bound on its real cost, and NLBO = \
    LBO / MDC is that bound as a percentage of the program's own cost (Cai, Blackburn, Bond and Maas, \
    \u{201c}Distilling the Real Cost of Production Garbage Collectors\u{201d}, ISPASS 2022).";

/// The LBO section, or a note saying why there is none.
pub fn lbo_section(p: &mut Part<'_>, s: &Source<'_>) {
    let f = s.folder;
    let Some(l) = lbo::lbo(&p.ids.id("lbo-table"), s) else {
        let sweep_has = f.charts.sweep.iter().any(|pt| pt.metric.as_deref().is_some_and(|m| m.contains("lbo_")));
        let why = if sweep_has {
            "Lower-bound overhead: see the sweep's nlbo_* and lbo_* charts and tables below."
        } else if f.kind == Kind::Sweep {
            "Lower-bound overhead: this sweep charts none (list nlbo_wall and nlbo_cpu among its metrics, as the \
             default does); each cell's is in its cells.csv."
        } else if f.kind == Kind::Import {
            "No lower-bound overhead: an imported log tells no distilled cost."
        } else {
            "No lower-bound overhead: these results have no LBO columns (distilled_wall_ns, lbo_wall_ns_median, …); \
             results written by a gcwb with LBO have them."
        };
        p.h.leaf("p", &[("class", "note lbo-absent")], why);
        return;
    };
    p.section("lbo", "Lower-bound overhead (LBO)", |h| {
        h.leaf("p", &[("class", "explain")], LBO_EXPLAINED);
        h.el("p", &[("class", "mdc")], |h| {
            for (i, (noun, mdc, baseline)) in l.mdc.iter().enumerate() {
                if i > 0 {
                    h.text("; ");
                }
                h.text(&format!("MDC of {noun}: "));
                h.leaf("strong", &[], &lbo::mdc_words(noun, *mdc, baseline.as_deref()));
            }
            h.text(if l.single_runs {
                ". One run of each collector: no confidence interval."
            } else {
                ". Medians over the repetitions; under each, the mean's 95% confidence interval."
            });
        });
        write_grid(h, &l.table);
    });
}

/// A sweep's charts, each with the table of its points.
pub fn sweep_sections(p: &mut Part<'_>, s: &Source<'_>, charts: &[Rendered]) {
    let f = s.folder;
    let points = &f.charts.sweep;
    let groups = groups(points);
    if groups.is_empty() {
        return;
    }
    p.section("sweep-section", "Sweep", |h| {
        h.leaf(
            "p",
            &[("class", "hint")],
            "Each chart: one metric against one swept parameter, the line through the medians over the \
             repetitions, a bar from the smallest to the largest. Under each, its points: the median, and \
             the 95% confidence interval of the mean (or, in an older sweep.csv, the range).",
        );
        for (i, g) in groups.iter().enumerate() {
            let describe = crate::charts::sweep::describe;
            let what = format!("{} against {}", describe(g.metric.as_deref().unwrap_or("metric")), describe(&g.param));
            let title = match &g.workload {
                Some(w) => format!("{w}: {what}"),
                None => what,
            };
            h.leaf("h4", &[("id", &p.ids.id(&format!("sweep-{}", i + 1)))], &title);
            if let Some(c) = chart(charts, &g.stem) {
                figure(h, c, &title, &caption(&c.stem, f.kind));
            }
            write_grid(h, &tables::sweep_points(&p.ids.id(&format!("sweep-points-{}", i + 1)), g, points));
        }
    });
}

/// The cells of a sweep as its summary.
pub fn sweep_summary(p: &mut Part<'_>, s: &Source<'_>) {
    let mut metrics: Vec<String> = Vec::new();
    for m in s.folder.charts.sweep.iter().filter_map(|pt| pt.metric.clone()) {
        if !metrics.contains(&m) {
            metrics.push(m);
        }
    }
    if let Some(g) = tables::sweep_cells(&p.ids.id("summary"), s, &metrics) {
        p.section("summary-section", "Cells", |h| {
            h.leaf(
                "p",
                &[("class", "hint")],
                "Every finished cell (cells.csv). Click a column's header to sort by it.",
            );
            write_grid(h, &g);
        });
    }
}

/// Every column of `summary.csv`, folded away.
pub fn every_column(p: &mut Part<'_>, s: &Source<'_>) {
    let Some(g) = tables::every_column(&p.ids.id("every-column"), s) else { return };
    let what = if s.folder.kind == Kind::Compare { " (the median repetitions' summary.csv)" } else { "" };
    p.section("every-column-section", "Every column", |h| {
        h.el("details", &[], |h| {
            h.leaf("summary", &[], &format!("All {} columns of summary.csv{what}", g.rows.len() + 1));
            write_grid(h, &g);
        });
    });
}

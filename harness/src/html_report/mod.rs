//! `gcwb report DIR... -o FILE.html`: one self-contained HTML file a
//! reviewer can open — of a `run`, `compare`, `sweep` or `import` folder,
//! or several, one after the other under a combined summary table and
//! combined charts. It reads result files only (as [`crate::charts`]
//! does), never runs anything; `gcwb run/compare/sweep --report` call
//! [`write_after_run`] to write `report.html` next to their CSV files.
//!
//! What a folder's part holds, each when the folder has the data
//! ([`sections`]): provenance (command, gcwb version and commit, rustc,
//! machine, date, trace and parameters, every setting; `run.toml`, a
//! script's `COMMAND.txt`/`MACHINE.txt`, a sweep's `experiment.toml`);
//! the verifier's verdict on each collector in plain words; the summary
//! table (sortable); pauses (table, percentile chart, per-phase table);
//! MMU/BMU; the timeline over the heap; request latency (table and
//! chart); the lower-bound overhead ([`lbo`]); a sweep's charts, each
//! with a table of its points' medians and confidence intervals; and
//! every column of `summary.csv`, folded.
//!
//! **Self-contained.** The stylesheet and the sorting script are inline,
//! the charts inline SVG ([`svg`]), the fonts the system's; a content
//! security policy forbids any request ([`page::CSP`]) and the favicon is
//! `data:,`, so opening the file fetches nothing. The page names no URL.
//!
//! # DOM contract
//!
//! What tests (and scripts) may rely on. `ID` below is the id itself in a
//! report of one folder; in a report of several, each folder's part is
//! `<section class="folder" id="fN" data-dir="DIR" data-kind="KIND">`
//! (N from 1 in the order given, DIR as given, KIND `run`, `compare`,
//! `sweep` or `import`) and its ids are `fN-ID`; the combined part is
//! `<section id="combined">` holding `<table id="summary">` (rows also
//! carry `data-dir`) and combined charts. In a report of one folder its
//! part is the same `<section class="folder" data-dir=… data-kind=…>`,
//! with id `f1` and unprefixed ids inside. Every element below also has
//! its role as a class, whatever its id.
//!
//! - `<section id="provenance">`: a `<dl class="facts">` (`results`,
//!   `command`, `gcwb`, `rustc`, `machine`, `finished`, `trace`,
//!   `parameters`, `settings`, … as the folder records them);
//! - `<section id="verdicts">` of `<p class="verdict"
//!   data-verdict="clean|violations|unverified" data-collector="NAME">`,
//!   one per collector;
//! - `<table id="summary" class="summary sortable">`: `<tr
//!   data-collector="NAME" data-verdict="…">` (class `imported` for a
//!   runtime's imported log, whose row header also holds `<span
//!   class="badge">imported: FORMAT</span>`); a sweep's summary has one
//!   row per cell;
//! - `<table id="pauses">`, `<table id="phases">` (rows of `phases.csv`),
//!   `<table id="latency">` (when the trace has request spans);
//! - `<figure class="chart" data-chart="pause-percentiles|mmu|pause-timeline|request-latency|sweep…">`,
//!   each holding one inline `<svg role="img">` and a `<figcaption>`;
//! - `<section id="lbo">` holding `<table id="lbo-table">`, whose numeric
//!   cells carry `data-value` (the raw number), `data-collector` and
//!   `data-column` (`wall_ns`, `distilled_wall_ns`, `lbo_wall_ns`,
//!   `nlbo_wall`, the same for CPU with `process_cpu_ns`); absent when the
//!   files have no LBO columns, a `<p class="note lbo-absent">` instead;
//! - a sweep's `<table id="sweep-points-K" class="sweep-points"
//!   data-param=… data-metric=… data-workload=…>` after its chart, a row
//!   per parameter value, cells with `data-collector` and `data-value`
//!   (the median);
//! - every numeric cell: `<td class="num" data-value="RAW"
//!   data-column="CSV COLUMN" title="…">`, RAW the result file's exact
//!   value (an empty cell reads `—` without `data-value`) ([`grid`]);
//! - the contents' anchors: the sections above, and `summary-section`,
//!   `pause-section`, `mmu-section`, `timeline-section`,
//!   `latency-section`, `sweep-section`, `every-column-section` around
//!   the tables and charts.
//!
//! Modules: [`folder`] reads a folder; [`tables`] and [`lbo`] make its
//! tables ([`grid`], numbers in [`numbers`]); [`verdict`] words the
//! verifier's verdict; [`sections`] writes a folder's part; [`page`] the
//! document around it; [`html`] escapes every text.

pub mod folder;
pub mod grid;
pub mod html;
pub mod lbo;
pub mod numbers;
pub mod page;
pub mod sections;
pub mod svg;
pub mod tables;
pub mod verdict;

use crate::charts::{self, ChartError, Format, Rendered, RunData};
use folder::{Folder, Kind};
use html::Html;
use sections::{Part, Toc};
use std::path::{Path, PathBuf};
use tables::Source;

/// The report's file name when a command writes it next to its results.
pub const REPORT_FILE: &str = "report.html";

/// Why no report was written. The message is one line, starting with the
/// path it is about.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: no such directory", .0.display())]
    NoDir(PathBuf),
    #[error("{}: not a gcwb results folder (no summary.csv, compare.csv, sweep.csv, cells.csv or experiment.toml)", .0.display())]
    NotResults(PathBuf),
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

/// How ids are named in one folder's part: as they are in a report of
/// one folder, `fN-…` in a report of several.
pub struct Ids {
    prefix: String,
}

impl Ids {
    pub fn id(&self, role: &str) -> String {
        format!("{}{role}", self.prefix)
    }
}

/// `gcwb report`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Results folders: what `gcwb run`, `compare`, `sweep` or `import`
    /// wrote. Several are shown one after the other, under a combined
    /// summary table and combined charts.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// The HTML file to write (through a temporary file and a rename).
    #[arg(short, long, value_name = "FILE.html")]
    pub out: PathBuf,
}

/// `gcwb report`: writes the report and prints where. Exit code 2, with
/// one line on stderr naming the path, for a missing folder, one that
/// holds no gcwb results, a malformed file, or an output that cannot be
/// written.
pub fn report_command(a: &ReportArgs) -> i32 {
    match write_report(&a.dirs, &a.out) {
        Ok(bytes) => {
            println!("wrote {} ({})", a.out.display(), size_words(bytes));
            0
        }
        Err(e) => {
            eprintln!("gcwb: {e}");
            2
        }
    }
}

/// Writes the report of `dirs` into `out` (through a temporary file and
/// a rename); returns its size in bytes.
pub fn write_report(dirs: &[PathBuf], out: &Path) -> Result<usize, ReportError> {
    let text = render(dirs)?;
    crate::report::write_atomically(out, text.as_bytes())
        .map_err(|e| ReportError::File { path: out.to_path_buf(), message: e.to_string() })?;
    Ok(text.len())
}

/// A finished command's report: `report.html` in `out`, and one line
/// saying so. A failure is a warning on stderr: the results are already
/// written and stay valid.
pub fn write_after_run(out: &Path) {
    let file = out.join(REPORT_FILE);
    match write_report(&[out.to_path_buf()], &file) {
        Ok(bytes) => println!("report in {} ({})", file.display(), size_words(bytes)),
        Err(e) => eprintln!("gcwb: warning: report not written: {e}"),
    }
}

fn size_words(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / 1048576.0)
    } else {
        format!("{:.0} KiB", (bytes as f64 / 1024.0).ceil())
    }
}

/// The report of `dirs`, as the text of an HTML file.
pub fn render(dirs: &[PathBuf]) -> Result<String, ReportError> {
    let folders: Vec<Folder> = dirs.iter().map(|d| Folder::read(d)).collect::<Result<_, _>>()?;
    let palettes: Vec<charts::Palette> = folders.iter().map(|f| charts::palette(&f.charts)).collect();
    let several = folders.len() > 1;
    let names = short_names(dirs);
    let sources: Vec<Source<'_>> = folders
        .iter()
        .zip(&palettes)
        .zip(&names)
        .map(|((folder, palette), name)| Source { folder, palette, dir: several.then(|| name.clone()) })
        .collect();

    let mut main = Html::new();
    let mut toc = Toc::default();
    if several {
        combined(&mut main, &mut toc, &sources)?;
    }
    for (i, s) in sources.iter().enumerate() {
        let ids = Ids { prefix: if several { format!("f{}-", i + 1) } else { String::new() } };
        folder_part(&mut main, &mut toc, &ids, i + 1, s, &names[i])?;
    }

    let title = match &folders[..] {
        [one] => format!("gcwb {}: {}", one.kind.name(), subject(one)),
        many => format!("gcwb report: {} folders", many.len()),
    };
    let lede = folders.iter().map(|f| format!("{} ({})", f.dir.display(), describe(f))).collect::<Vec<_>>().join("; ");
    let footer = format!(
        "Written by gcwb report {} (commit {}) from the result files alone. Self-contained: the page loads \
         nothing from anywhere.",
        env!("CARGO_PKG_VERSION"),
        env!("GCWB_GIT_COMMIT").chars().take(12).collect::<String>()
    );
    Ok(page::page(&title, &lede, &toc, main, &footer))
}

/// What names each folder in headings and tables: its last component
/// (of its absolute path, so `.` has one), or the path as given where two
/// share it.
fn short_names(dirs: &[PathBuf]) -> Vec<String> {
    let last: Vec<String> = dirs
        .iter()
        .map(|d| {
            let abs = d.canonicalize().unwrap_or_else(|_| d.clone());
            abs.file_name().map_or_else(|| d.display().to_string(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    last.iter()
        .zip(dirs)
        .map(
            |(name, dir)| {
                if last.iter().filter(|n| *n == name).count() > 1 {
                    dir.display().to_string()
                } else {
                    name.clone()
                }
            },
        )
        .collect()
}

/// What a folder is about: its trace(s), or its directory's name.
fn subject(f: &Folder) -> String {
    f.charts.titles().workload
}

/// `compare of 5 collectors, 5 repetitions each`, and the like.
fn describe(f: &Folder) -> String {
    let n = f.collectors().len();
    let collectors = format!("{n} collector{}", if n == 1 { "" } else { "s" });
    match f.kind {
        Kind::Run => format!("run of {collectors} on {}", subject(f)),
        Kind::Import => format!("import of {}", f.collectors().join(", ")),
        Kind::Compare => {
            let reps = f.compare.as_ref().map_or(String::new(), |c| c.text(0, "repeats").to_string());
            format!("compare of {collectors} on {}, {reps} repetitions each", subject(f))
        }
        Kind::Sweep => {
            let cells = f.cells.as_ref().map_or(0, |c| c.len());
            format!("sweep of {collectors}, {cells} cells")
        }
    }
}

/// The charts of `data`, as SVG.
fn svg_charts(data: &RunData) -> Result<Vec<Rendered>, ReportError> {
    charts::render_data(data, Format::Svg).map_err(|(stem, e)| {
        ReportError::Chart(ChartError::Draw { path: data.dir.join(format!("{stem}.svg")), message: e.0 })
    })
}

/// One folder's part.
fn folder_part(
    h: &mut Html,
    toc: &mut Toc,
    ids: &Ids,
    n: usize,
    s: &Source<'_>,
    name: &str,
) -> Result<(), ReportError> {
    let f = s.folder;
    let charts = svg_charts(&f.charts)?;
    let id = format!("f{n}");
    let dir = f.dir.display().to_string();
    if s.dir.is_some() {
        toc.add_folder(&id, name);
    }
    h.el("section", &[("class", "folder"), ("id", &id), ("data-dir", &dir), ("data-kind", f.kind.name())], |h| {
        h.el("h2", &[], |h| {
            h.text(name);
            h.leaf("span", &[("class", "kind")], f.kind.name());
        });
        h.leaf("p", &[("class", "lede")], &format!("{}: {}", dir, describe(f)));
        let mut p = Part { h, toc, ids };
        sections::provenance(&mut p, f);
        sections::verdicts(&mut p, f);
        match f.kind {
            Kind::Sweep => {
                sections::sweep_summary(&mut p, s);
                sections::sweep_sections(&mut p, s, &charts);
                sections::lbo_section(&mut p, s);
            }
            Kind::Run | Kind::Compare | Kind::Import => {
                sections::run_sections(&mut p, s, &charts);
                sections::lbo_section(&mut p, s);
                sections::sweep_sections(&mut p, s, &charts);
                sections::every_column(&mut p, s);
            }
        }
    });
    h.newline();
    Ok(())
}

/// The combined part of a report of several folders: one summary table
/// of every folder's collectors, and the run charts of all of them
/// together (the timeline stays with each folder).
fn combined(h: &mut Html, toc: &mut Toc, sources: &[Source<'_>]) -> Result<(), ReportError> {
    let merged = RunData::merge(sources.iter().map(|s| s.folder.charts.clone()).collect());
    let charts: Vec<Rendered> = svg_charts(&RunData { sweep: Vec::new(), ..merged })?
        .into_iter()
        .filter(|c| c.stem != "pause-timeline")
        .collect();
    toc.add_folder("combined", "All folders side by side");
    let summary = tables::summary("summary", sources);
    h.el("section", &[("id", "combined"), ("class", "combined")], |h| {
        h.leaf("h2", &[], "All folders side by side");
        h.leaf(
            "p",
            &[("class", "hint")],
            "Every folder's collectors in one table (a comparison's rows give medians over its repetitions) \
             and on one set of charts; a collector found in several folders is named FOLDER/NAME in the charts.",
        );
        h.el("div", &[("class", "table-wrap")], |h| summary.write(h));
        for c in &charts {
            sections::figure(h, c, &format!("{}: all folders", c.stem), "All folders' collectors together.");
        }
    });
    h.newline();
    Ok(())
}

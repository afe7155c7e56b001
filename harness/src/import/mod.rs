//! `gcwb import`: other systems' GC logs as gcwb results.
//!
//! To set gcwb's collectors beside a real runtime, the runtime's own log is
//! turned into the files a `gcwb run` writes ([`crate::report`]), so the same
//! scripts read both. Two formats:
//!
//! - [`go_gctrace`], the lines Go prints under `GODEBUG=gctrace=1`
//!   (scripts/go-compare.sh runs a Go program of the `server` workload's
//!   shape and imports its log);
//! - [`jvm_gc_log`], a JVM's unified GC log (`-Xlog:gc`, `-Xlog:gc,gc+phases`,
//!   `-Xlog:gc*`) of the Serial, Parallel, G1, ZGC or Shenandoah collector
//!   (scripts/java-compare.sh runs scripts/java/Alloc.java and imports its
//!   log).
//!
//! Each format's parser turns its log into one [`Imported`] — the pauses,
//! the collections, the threads the collector held up and the summary
//! cells the log tells — and everything after that is shared. The import
//! writes, into `--out`:
//!
//! - `pauses.csv`: every stop-the-world pause, start times on the program's
//!   clock (since it started), `ttsp_ns` empty. A Go cycle gives two,
//!   `sweep-term` and `mark-term` (the phase names of gcwb's concurrent
//!   collector), trigger `explicit` for a forced cycle and empty otherwise;
//!   a JVM pause gives one, its phase named after the pause (`young`,
//!   `full`, `remark`, `mark-start`, `init-mark`, ...: see [`jvm_gc_log`]);
//! - `phases.csv`: per-phase statistics ([`crate::metrics::phase_summaries`]);
//! - `cycles.csv`: one row per collection in a run's columns, filled where
//!   the log tells ([`derived::cycles_csv`]): its start and end, trigger,
//!   and heap sizes — for a gctrace the heap at the start, the marked heap,
//!   the mark's time and the next goal ([`go_gctrace::cycles`]); for a JVM
//!   the heap before and after the collection ([`jvm_gc_log`]) — so the
//!   pause timeline draws the heap;
//! - `assists.csv`: the mutator threads the collector held up, one row
//!   each, in a run's columns (`kind` and `thread` filled, the goroutine
//!   and work empty): ZGC's `Allocation Stall` and `Relocation Stall`
//!   lines (a thread waiting for memory, not a stopped world). A gctrace
//!   tells no single assist, so a Go import's file is empty;
//! - `mmu.csv`: minimum and bounded mutator utilization over `[0, the
//!   log's last time]`, from the pauses and the held-up threads by the
//!   model gcwb's runs use ([`crate::summary::mutator_utilization`]): a
//!   pause stops all `procs` workers, a stall one of them (one thread's
//!   overlapping stalls count once), and time a log gives only as a total
//!   over an interval — Go's assist CPU time per cycle, spread over its
//!   mark; Shenandoah's pacing per thread per report (`-Xlog:gc+stats`),
//!   spread over the report's interval — evenly. `procs` is `--procs`,
//!   else the log's (Go's `N P`, a JVM's available CPUs under
//!   `-Xlog:gc*`), else 1, with a warning when there are stalls;
//! - `summary.csv`: one row in `summary.csv`'s columns
//!   ([`crate::columns::header`]), `collector` the `--label` (by
//!   default `go-runtime` for Go; for a JVM `jvm-g1`, `jvm-zgc`, ... from
//!   the log's `Using ...` line), `imported_from` the format. Filled in:
//!   `trace`, `collector`, `status` `ok`, the pause statistics
//!   ([`crate::metrics::summarize_pauses`], as for a run), where
//!   `summary.csv` has them the per-phase pause columns
//!   (`sweep_term_p99_ns`, ...), `mmu_1ms`, `mmu_10ms`, `mmu_100ms` (when
//!   the log is that long), the stalls' `assist_count`, `assist_max_ns` and
//!   `assist_total_ns` (with the reported totals) when the log has any
//!   ([`derived::facts`]), and what the log tells ([`Imported::facts`]).
//!   For a gctrace: `procs` (of the last cycle), `gc_count`,
//!   `peak_heap_bytes` (the largest heap at a cycle's start or end),
//!   `final_live_bytes` (the last cycle's marked heap),
//!   `marked_bytes_total`, `mark_total_ns` (the concurrent mark's
//!   wall-clock time), `gc_cpu_used_fraction` (Go's `GCCPUFraction` at the
//!   last cycle, in whole percent: the share of all processors' time since
//!   the program started that the collector used, background mark workers
//!   included — the column a run fills the same way; `gc_cpu_fraction`, the
//!   mutator time lost, stays empty), `assist_total_ns` (Go's assist CPU
//!   time) and `background_mark_cpu_ns` (its background mark workers' CPU
//!   time, idle marking not included);
//!   heap sizes are Go's whole MiB (truncated), times as exact as Go
//!   printed them (two significant digits). For a JVM log: see
//!   [`jvm_gc_log::imported`]; its `gc_cpu_fraction` is the MMU model's
//!   lost share, as for a run. Every other column — the trace's events and
//!   allocations, wall time, GOGC, time to safepoint — stays empty: the
//!   log does not tell it.
//!
//! Every file is rendered first and then written atomically
//! ([`crate::report::write_atomically`]), so a bad log writes nothing.
//! Errors are one line and exit code 2, like a bad trace's: a line that
//! starts like one of the format's GC lines but does not parse names its
//! line and what was expected, and a log without a single GC line is an
//! error too (not an empty chart).

pub mod derived;
pub mod go_gctrace;
pub mod jvm_gc_log;

use crate::columns::header as summary_header;
use crate::metrics::{phase_summaries, summarize_pauses, PauseRecord, PauseSummary};
use crate::report::{mmu_csv, pauses_csv, phases_csv, write_atomically};
use crate::summary::LostTotal;
use clap::ValueEnum;
pub use derived::{ImportedCycle, ThreadStall};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The log formats `gcwb import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// The standard error of a Go program run with GODEBUG=gctrace=1 (Go
    /// 1.19's line; also the older one without stacks and globals).
    #[value(name = "go-gctrace")]
    GoGctrace,
    /// A JVM's unified GC log (JDK 9+: -Xlog:gc, -Xlog:gc,gc+phases or
    /// -Xlog:gc*) of the Serial, Parallel, G1, ZGC or Shenandoah collector.
    #[value(name = "jvm-gc-log")]
    JvmGcLog,
}

/// The arguments of `gcwb import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The log's format.
    #[arg(long, value_enum)]
    pub format: ImportFormat,
    /// The log (`-`: standard input).
    pub log: PathBuf,
    /// Directory for the CSV files (summary.csv, pauses.csv, phases.csv,
    /// cycles.csv, assists.csv, mmu.csv).
    #[arg(short, long)]
    pub out: PathBuf,
    /// The threads the program ran its work on, as gcwb's procs: a thread's
    /// stall holds up one of them in the MMU [default: the log's (Go's
    /// `N P`; a JVM's `CPUs: ... N available` under -Xlog:gc*), else 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub procs: Option<u16>,
    /// The `collector` column, e.g. go1.19 [default: go-runtime for a
    /// gctrace; for a JVM log jvm-g1, jvm-zgc, ... after its `Using ...`
    /// line, else jvm].
    #[arg(long, value_parser = non_empty)]
    pub label: Option<String>,
}

fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("the label must not be empty".to_string())
    } else {
        Ok(s.to_string())
    }
}

/// What a log tells, whatever its format: what the files are written from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    /// Every stop-the-world pause, in the log's order (`ttsp_ns` unused: no
    /// log format here tells it, and it is written empty).
    pub pauses: Vec<PauseRecord>,
    /// Cells of `summary.csv` the log tells beyond the pause statistics,
    /// by column (a column `summary.csv` does not have is left out).
    pub facts: Vec<(&'static str, String)>,
    /// The `collector` column when `--label` is not given.
    pub default_label: String,
    /// What was read, for standard output (`6 GC cycles (1 forced), 4 other
    /// lines skipped`).
    pub description: String,
    /// Warnings, one line each, for standard error once the files are
    /// written.
    pub warnings: Vec<String>,
    /// The collections, in order (`cycles.csv`).
    pub cycles: Vec<ImportedCycle>,
    /// Mutator threads held up by the collector, logged one by one
    /// (`assists.csv`).
    pub stalls: Vec<ThreadStall>,
    /// Mutator time the log reports only as totals over intervals (Go's
    /// assist CPU time per cycle, Shenandoah's pacing per report).
    pub lost_totals: Vec<LostTotal>,
    /// The last moment the log shows, on the pauses' clock: the MMU's
    /// span is `[0, end_ns]`.
    pub end_ns: u64,
    /// The processors the log says the program ran on.
    pub procs: Option<usize>,
    /// The log format, for the summary's `imported_from`.
    pub format: &'static str,
}

/// What a malformed log is: the line (1-based, 0 for the file as a whole)
/// and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogError {
    pub line: usize,
    pub msg: String,
}

/// Calls `f` with each line of `input`: its number (1-based) and its text
/// without the line end (`\n` or `\r\n`), bytes that are not UTF-8
/// replaced. Stops at the first error, of `f` or of reading.
pub fn for_each_line(
    mut input: impl BufRead,
    mut f: impl FnMut(usize, &str) -> Result<(), LogError>,
) -> Result<(), LogError> {
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(LogError { line: line + 1, msg: format!("cannot read: {e}") }),
        }
        line += 1;
        let text = String::from_utf8_lossy(&buf);
        f(line, text.trim_end_matches(['\n', '\r']))?;
    }
}

/// `gcwb import`: reads the log, writes the CSV files; returns the exit
/// code (0, or 2 with one line on stderr).
pub fn import_command(a: &ImportArgs) -> i32 {
    let name = a.log.display().to_string();
    let mut imported = match read(a.format, &a.log) {
        Ok(i) => i,
        Err(msg) => {
            eprintln!("gcwb: {name}: {msg}");
            return 2;
        }
    };
    let procs = match (a.procs, imported.procs) {
        (Some(p), _) => usize::from(p),
        (None, Some(p)) => p,
        (None, None) => {
            if !imported.stalls.is_empty() || !imported.lost_totals.is_empty() {
                imported.warnings.push(
                    "the log does not say how many processors the program ran on (-Xlog:gc* prints `CPUs: ...`): \
                     its thread stalls are counted as stopping the whole program in the MMU; give --procs N"
                        .to_string(),
                );
            }
            1
        }
    };
    let label = a.label.as_deref().unwrap_or(&imported.default_label);
    let files = match render(&name, label, &imported, procs, a.procs.is_some()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gcwb: cannot render the results: {e}");
            return 2;
        }
    };
    for (file, bytes) in &files {
        if let Err(e) = write_atomically(&a.out.join(file), bytes) {
            eprintln!("gcwb: cannot write results to {}: {e}", a.out.display());
            return 2;
        }
    }
    for w in &imported.warnings {
        eprintln!("gcwb: warning: {name}: {w}");
    }
    println!("{name}: {}", imported.description);
    let phases = phase_summaries(&imported.pauses);
    let width = phases.iter().map(|(p, _)| p.len()).max().unwrap_or(0).max(10);
    for (phase, s) in phases {
        println!(
            "  {:<11} {:<width$} count {:>5}  p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            label,
            phase,
            s.count,
            s.p50_ns as f64 / 1e6,
            s.p99_ns as f64 / 1e6,
            s.max_ns as f64 / 1e6
        );
    }
    let names: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
    println!("results in {}/ ({})", a.out.display(), names.join(", "));
    0
}

/// Reads and parses the log at `path` (`-` is standard input) in `format`;
/// the error is `line N: what was expected`, a message about the log as a
/// whole (no pauses in it), or the I/O error.
pub fn read(format: ImportFormat, path: &Path) -> Result<Imported, String> {
    let line_error = |e: LogError| format!("line {}: {}", e.line, e.msg);
    match format {
        ImportFormat::GoGctrace => {
            go_gctrace::imported(with_input(path, |r| go_gctrace::parse_log(r))?.map_err(line_error)?)
        }
        ImportFormat::JvmGcLog => {
            jvm_gc_log::imported(with_input(path, |r| jvm_gc_log::parse_log(r))?.map_err(line_error)?)
        }
    }
}

/// `parse` applied to the file at `path`, or to standard input for `-`;
/// the error is the file's I/O error.
fn with_input<T>(path: &Path, parse: impl FnOnce(&mut dyn BufRead) -> T) -> Result<T, String> {
    if path.as_os_str() == "-" {
        Ok(parse(&mut std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        Ok(parse(&mut BufReader::new(file)))
    }
}

/// The files of an import, named, rendered in memory: the program ran on
/// `procs` workers (given by `--procs` when `procs_given`).
fn render(
    trace: &str,
    label: &str,
    imported: &Imported,
    procs: usize,
    procs_given: bool,
) -> std::io::Result<Vec<(&'static str, Vec<u8>)>> {
    let util = derived::utilization(imported, procs);
    // `--procs` overrides the log; the log's own cells come before what is
    // derived here (Go's `gc_cpu_fraction` is Go's own).
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    if procs_given {
        facts.push(("procs", procs.to_string()));
    }
    facts.extend(imported.facts.iter().cloned());
    facts.extend(derived::facts(imported, &util));
    facts.push(("imported_from", imported.format.to_string()));
    let row = Imported { facts, ..imported.clone() };
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(summary_header())?;
    w.write_record(summary_record(trace, label, &row))?;
    let summary = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    // No log format tells the time to safepoint: empty.
    let pauses = &imported.pauses;
    let pause_rows = pauses_csv(pauses.iter().map(|p| (label, p, None)))?;
    let phases = phases_csv(std::iter::once((label, &pauses[..])))?;
    Ok(vec![
        ("summary.csv", summary),
        ("pauses.csv", pause_rows),
        ("phases.csv", phases),
        ("cycles.csv", derived::cycles_csv(label, &imported.cycles)?),
        ("assists.csv", derived::stalls_csv(label, &imported.stalls)?),
        ("mmu.csv", mmu_csv(std::iter::once((label, util)))?),
    ])
}

/// The summary row of an import, one cell per column of
/// [`summary_header`], in its order: what the log tells, empty elsewhere
/// (so a column added to `summary.csv` later is simply empty here). A
/// column among the facts twice takes its first value.
pub fn summary_record(trace: &str, label: &str, imported: &Imported) -> Vec<String> {
    summary_record_for(&summary_header(), trace, label, imported)
}

/// [`summary_record`] for the columns `header`: `trace`, `collector`,
/// `status` (`ok`), the pause statistics of every pause
/// ([`summarize_pauses`], as for a run), per-phase pause columns named
/// `<phase>_{p50,p99,max}_ns` (the phase's name with `_` for `-`, e.g.
/// `sweep_term_p99_ns`) for the phases the log has, and the log's
/// [`Imported::facts`].
fn summary_record_for(header: &[&str], trace: &str, label: &str, imported: &Imported) -> Vec<String> {
    let s = summarize_pauses(&imported.pauses);
    let phases = phase_summaries(&imported.pauses);
    header
        .iter()
        .map(|&column| match column {
            "trace" => trace.to_string(),
            "collector" => label.to_string(),
            "pause_count" => s.count.to_string(),
            "pause_p50_ns" => s.p50_ns.to_string(),
            "pause_p99_ns" => s.p99_ns.to_string(),
            "pause_max_ns" => s.max_ns.to_string(),
            "pause_total_ns" => s.total_ns.to_string(),
            "status" => "ok".to_string(),
            other => match imported.facts.iter().find(|(c, _)| *c == other) {
                Some((_, v)) => v.clone(),
                None => phase_stat(other, &phases).map_or(String::new(), |v| v.to_string()),
            },
        })
        .collect()
}

/// The value of a per-phase column (`sweep_term_p99_ns`) among `phases`,
/// if the column is one and the phase occurred.
fn phase_stat(column: &str, phases: &[(&str, PauseSummary)]) -> Option<u64> {
    let phase = |suffix: &str| column.strip_suffix(suffix).map(|p| p.replace('_', "-"));
    let find = |phase: String| phases.iter().find(|(name, _)| *name == phase).map(|(_, s)| *s);
    if let Some(p) = phase("_p50_ns") {
        return find(p).map(|s| s.p50_ns);
    }
    if let Some(p) = phase("_p99_ns") {
        return find(p).map(|s| s.p99_ns);
    }
    find(phase("_max_ns")?).map(|s| s.max_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary columns the importer fills: each must still be a column
    /// of `summary.csv` (a renamed column would silently go empty).
    const FILLED: &[&str] = &[
        "trace",
        "collector",
        "procs",
        "gc_count",
        "pause_count",
        "pause_p50_ns",
        "pause_p99_ns",
        "pause_max_ns",
        "pause_total_ns",
        "peak_heap_bytes",
        "final_live_bytes",
        "mark_total_ns",
        "marked_bytes_total",
        "status",
        "gc_cpu_used_fraction",
        "background_mark_cpu_ns",
    ];

    const LOG: &str = "\
hello
gc 1 @0.011s 2%: 0.010+1.2+0.003 ms clock, 0.020+0.5/1.0/0.0+0.006 ms cpu, 4->5->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 2 @0.250s 3%: 0.15+12+0.28 ms clock, 0.30+0.40/11/0.070+0.57 ms cpu, 7->8->3 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
";

    #[test]
    fn the_summary_fills_what_the_log_tells_and_leaves_the_rest_empty() {
        let header = summary_header();
        for c in FILLED {
            assert!(header.contains(c), "summary.csv has no column {c}");
        }
        let imported = go_gctrace::imported(go_gctrace::parse_log(LOG.as_bytes()).unwrap()).unwrap();
        let rec = summary_record("go.log", "go1.19", &imported);
        assert_eq!(rec.len(), header.len());
        let at = |name: &str| rec[header.iter().position(|c| *c == name).unwrap()].as_str();
        assert_eq!((at("trace"), at("collector"), at("procs"), at("status")), ("go.log", "go1.19", "2", "ok"));
        assert_eq!((at("gc_count"), at("pause_count")), ("2", "4"));
        assert_eq!(at("pause_total_ns"), (10_000 + 3_000 + 150_000 + 280_000).to_string());
        assert_eq!(at("pause_max_ns"), "280063", "HdrHistogram's 3 significant digits, as for a run");
        assert_eq!(at("peak_heap_bytes"), (8u64 << 20).to_string());
        assert_eq!(at("final_live_bytes"), (3u64 << 20).to_string());
        assert_eq!(at("marked_bytes_total"), (4u64 << 20).to_string());
        assert_eq!(at("mark_total_ns"), "13200000");
        assert_eq!(at("gc_cpu_used_fraction"), "0.03");
        assert_eq!(at("gc_cpu_fraction"), "", "the mutator time lost: not in the log");
        assert_eq!(at("background_mark_cpu_ns"), (1_000_000 + 11_000_000).to_string());
        for (column, value) in header.iter().zip(&rec) {
            assert_eq!(value.is_empty(), !filled_here(column), "column {column} = {value:?}");
        }
    }

    /// Filled by the importer: the fixed columns, and the per-phase and
    /// assist columns when `summary.csv` has them.
    fn filled_here(column: &str) -> bool {
        FILLED.contains(&column)
            || column == "assist_total_ns"
            || ["sweep_term_", "mark_term_"].iter().any(|p| column.starts_with(p))
    }

    #[test]
    fn per_phase_and_assist_columns_are_filled_when_the_summary_has_them() {
        let imported = go_gctrace::imported(go_gctrace::parse_log(LOG.as_bytes()).unwrap()).unwrap();
        let header = [
            "collector",
            "stw_full_p50_ns",
            "sweep_term_max_ns",
            "mark_term_p50_ns",
            "assist_count",
            "assist_total_ns",
        ];
        let rec = summary_record_for(&header, "go.log", "go", &imported);
        assert_eq!(rec, ["go", "", "150015", "3001", "", "900000"], "HdrHistogram values, as for a run");
    }

    #[test]
    fn the_files_have_a_runs_columns_and_empty_cells_for_what_is_unknown() {
        let imported = go_gctrace::imported(go_gctrace::parse_log(LOG.as_bytes()).unwrap()).unwrap();
        let files = render("go.log", "go-runtime", &imported, 2, false).unwrap();
        let text = |name: &str| String::from_utf8(files.iter().find(|(f, _)| *f == name).unwrap().1.clone()).unwrap();
        assert_eq!(
            text("pauses.csv"),
            "gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector,late_worker,late_at,late_off_cpu_ns,ttsp_on_cpu_ns\n\
             1,sweep-term,11000000,10000,,,go-runtime,,,,\n\
             1,mark-term,12210000,3000,,,go-runtime,,,,\n\
             2,sweep-term,250000000,150000,,explicit,go-runtime,,,,\n\
             2,mark-term,262150000,280000,,explicit,go-runtime,,,,\n"
        );
        let phases = text("phases.csv");
        let lines: Vec<&str> = phases.lines().collect();
        assert_eq!(lines[0], crate::report::PHASES_HEADER.join(","));
        assert!(lines[1].starts_with("go-runtime,sweep-term,2,"), "{phases}");
        assert!(lines[2].starts_with("go-runtime,mark-term,2,"), "{phases}");
    }
}

//! `gcwb import`: other systems' GC logs as gcwb results.
//!
//! To set gcwb's collectors beside a real runtime, the runtime's own log is
//! turned into the files a `gcwb run` writes ([`crate::report`]), so the same
//! scripts read both. One format so far: [`go_gctrace`], the lines Go prints
//! under `GODEBUG=gctrace=1` (scripts/go-compare.sh runs a Go program of the
//! `server` workload's shape and imports its log).
//!
//! The import writes, into `--out`:
//!
//! - `pauses.csv`: two pauses per Go cycle, `sweep-term` and `mark-term`
//!   (the phase names of gcwb's concurrent collector), start times on the
//!   program's clock (since it started), trigger `explicit` for a forced
//!   cycle and empty otherwise, `ttsp_ns` empty;
//! - `phases.csv`: per-phase statistics ([`crate::report::phase_summaries`]);
//! - `summary.csv`: one row in `summary.csv`'s columns
//!   ([`crate::report::summary_header`]), `collector` the `--label`
//!   (`go-runtime` by default). What a gctrace tells is filled in — `procs`
//!   (of the last cycle), `gc_count`, the pause statistics
//!   ([`crate::metrics::summarize_pauses`], as for a run), `peak_heap_bytes`
//!   (the largest heap at a cycle's start or end), `final_live_bytes` (the
//!   last cycle's marked heap), `marked_bytes_total`, `mark_total_ns` (the
//!   concurrent mark's wall-clock time), `gc_cpu_fraction` (Go's
//!   `GCCPUFraction` at the last cycle, in whole percent), `status` `ok`,
//!   and, where `summary.csv` has them, the per-phase pause columns
//!   (`sweep_term_p99_ns`, ...) and `assist_total_ns` (Go's assist CPU time).
//!   Heap sizes are Go's whole MiB (truncated), times as exact as Go printed
//!   them (two significant digits). Every other column — the trace's events
//!   and allocations, wall time, GOGC, time to safepoint, MMU — stays empty:
//!   the log does not tell it.
//!
//! Every file is rendered first and then written atomically
//! ([`crate::report::write_atomically`]), so a bad log writes nothing.
//! Errors are one line and exit code 2, like a bad trace's.

pub mod go_gctrace;

use crate::metrics::{summarize_pauses, PauseRecord, PauseSummary};
use crate::report::{pauses_csv, phase_summaries, phases_csv, summary_header, write_atomically};
use clap::ValueEnum;
use go_gctrace::{GcCycle, GcLog};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The log formats `gcwb import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// The standard error of a Go program run with GODEBUG=gctrace=1 (Go
    /// 1.19's line; also the older one without stacks and globals).
    #[value(name = "go-gctrace")]
    GoGctrace,
}

/// The arguments of `gcwb import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The log's format.
    #[arg(long, value_enum)]
    pub format: ImportFormat,
    /// The log (`-`: standard input).
    pub log: PathBuf,
    /// Directory for the CSV files (summary.csv, pauses.csv, phases.csv).
    #[arg(short, long)]
    pub out: PathBuf,
    /// The `collector` column, e.g. go1.19.
    #[arg(long, default_value = "go-runtime", value_parser = non_empty)]
    pub label: String,
}

fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("the label must not be empty".to_string())
    } else {
        Ok(s.to_string())
    }
}

/// `gcwb import`: reads the log, writes the CSV files; returns the exit
/// code (0, or 2 with one line on stderr).
pub fn import_command(a: &ImportArgs) -> i32 {
    let name = a.log.display().to_string();
    let log = match a.format {
        ImportFormat::GoGctrace => read_go_log(&a.log),
    };
    let log = match log {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("gcwb: {name}: {msg}");
            return 2;
        }
    };
    if log.cycles.is_empty() {
        eprintln!(
            "gcwb: {name}: no gctrace lines (`gc N @...`) among its {} lines: run the Go program with \
             GODEBUG=gctrace=1 and import its standard error",
            log.other_lines
        );
        return 2;
    }
    let pauses = go_gctrace::pauses(&log.cycles);
    let files = match render(&name, &a.label, &log.cycles, &pauses) {
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
    if log.missing_cycles > 0 {
        eprintln!(
            "gcwb: warning: {name}: {} GC cycles have no gctrace line (the GC numbers jump at line {}): another \
             write to standard error probably mangled them; their pauses are missing",
            log.missing_cycles,
            log.first_gap_line.unwrap_or(0)
        );
    }
    let forced = log.cycles.iter().filter(|c| c.forced).count();
    println!("{name}: {} GC cycles ({forced} forced), {} other lines skipped", log.cycles.len(), log.other_lines);
    for (phase, s) in phase_summaries(&pauses) {
        println!(
            "  {:<11} {:<10} count {:>5}  p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            a.label,
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

/// Reads and parses a gctrace log (`-` is standard input); the error is
/// `line N: what was expected`, or the I/O error.
fn read_go_log(path: &Path) -> Result<GcLog, String> {
    let parsed = if path.as_os_str() == "-" {
        go_gctrace::parse_log(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        go_gctrace::parse_log(BufReader::new(file))
    };
    parsed.map_err(|e| format!("line {}: {}", e.line, e.msg))
}

/// The files of an import, named, rendered in memory.
fn render(
    trace: &str,
    label: &str,
    cycles: &[GcCycle],
    pauses: &[PauseRecord],
) -> std::io::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(summary_header())?;
    w.write_record(summary_record(trace, label, cycles, pauses))?;
    let summary = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    // A gctrace does not tell the time to safepoint: empty.
    let pause_rows = pauses_csv(pauses.iter().map(|p| (label, p, None)))?;
    let phases = phases_csv(std::iter::once((label, pauses)))?;
    Ok(vec![("summary.csv", summary), ("pauses.csv", pause_rows), ("phases.csv", phases)])
}

/// MiB as bytes.
fn mib(mb: u64) -> u64 {
    mb.saturating_mul(1 << 20)
}

/// The summary row of an import, one cell per column of
/// [`summary_header`], in its order: what the log tells, empty elsewhere
/// (so a column added to `summary.csv` later is simply empty here).
pub fn summary_record(trace: &str, label: &str, cycles: &[GcCycle], pauses: &[PauseRecord]) -> Vec<String> {
    summary_record_for(&summary_header(), trace, label, cycles, pauses)
}

/// [`summary_record`] for the columns `header`. Besides the fixed columns,
/// per-phase pause columns named `<phase>_{p50,p99,max}_ns` (the phase's
/// name with `_` for `-`, e.g. `sweep_term_p99_ns`) are filled for the
/// phases the log has, and `assist_total_ns` with Go's assist CPU time.
fn summary_record_for(
    header: &[&str],
    trace: &str,
    label: &str,
    cycles: &[GcCycle],
    pauses: &[PauseRecord],
) -> Vec<String> {
    let s = summarize_pauses(pauses);
    let phases = phase_summaries(pauses);
    let last = cycles.last();
    let sum = |f: fn(&GcCycle) -> u64| cycles.iter().fold(0u64, |t, c| t.saturating_add(f(c))).to_string();
    header
        .iter()
        .map(|&column| match column {
            "trace" => trace.to_string(),
            "collector" => label.to_string(),
            "procs" => last.map_or(String::new(), |c| c.procs.to_string()),
            "gc_count" => cycles.len().to_string(),
            "pause_count" => s.count.to_string(),
            "pause_p50_ns" => s.p50_ns.to_string(),
            "pause_p99_ns" => s.p99_ns.to_string(),
            "pause_max_ns" => s.max_ns.to_string(),
            "pause_total_ns" => s.total_ns.to_string(),
            "peak_heap_bytes" => {
                mib(cycles.iter().map(|c| c.heap_start_mb.max(c.heap_end_mb)).max().unwrap_or(0)).to_string()
            }
            "final_live_bytes" => last.map_or(String::new(), |c| mib(c.heap_live_mb).to_string()),
            "mark_total_ns" => sum(|c| c.mark_ns),
            "marked_bytes_total" => sum(|c| mib(c.heap_live_mb)),
            "assist_total_ns" => sum(|c| c.cpu_assist_ns),
            "status" => "ok".to_string(),
            "gc_cpu_fraction" => last.map_or(String::new(), |c| (c.cpu_percent as f64 / 100.0).to_string()),
            other => phase_stat(other, &phases).map_or(String::new(), |v| v.to_string()),
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
        "gc_cpu_fraction",
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
        let log = go_gctrace::parse_log(LOG.as_bytes()).unwrap();
        let pauses = go_gctrace::pauses(&log.cycles);
        let rec = summary_record("go.log", "go1.19", &log.cycles, &pauses);
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
        assert_eq!(at("gc_cpu_fraction"), "0.03");
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
        let log = go_gctrace::parse_log(LOG.as_bytes()).unwrap();
        let pauses = go_gctrace::pauses(&log.cycles);
        let header = [
            "collector",
            "stw_full_p50_ns",
            "sweep_term_max_ns",
            "mark_term_p50_ns",
            "assist_count",
            "assist_total_ns",
        ];
        let rec = summary_record_for(&header, "go.log", "go", &log.cycles, &pauses);
        assert_eq!(rec, ["go", "", "150015", "3001", "", "900000"], "HdrHistogram values, as for a run");
    }

    #[test]
    fn the_files_have_a_runs_columns_and_empty_cells_for_what_is_unknown() {
        let log = go_gctrace::parse_log(LOG.as_bytes()).unwrap();
        let pauses = go_gctrace::pauses(&log.cycles);
        let files = render("go.log", "go-runtime", &log.cycles, &pauses).unwrap();
        let text = |name: &str| String::from_utf8(files.iter().find(|(f, _)| *f == name).unwrap().1.clone()).unwrap();
        assert_eq!(
            text("pauses.csv"),
            "gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n\
             1,sweep-term,11000000,10000,,,go-runtime\n\
             1,mark-term,12210000,3000,,,go-runtime\n\
             2,sweep-term,250000000,150000,,explicit,go-runtime\n\
             2,mark-term,262150000,280000,,explicit,go-runtime\n"
        );
        let phases = text("phases.csv");
        let lines: Vec<&str> = phases.lines().collect();
        assert_eq!(lines[0], crate::report::PHASES_HEADER.join(","));
        assert!(lines[1].starts_with("go-runtime,sweep-term,2,"), "{phases}");
        assert!(lines[2].starts_with("go-runtime,mark-term,2,"), "{phases}");
    }
}

//! `gcwb compare`: several collectors on one trace, each replayed
//! `--repeat` times, so that a difference between collectors can be told
//! from the run-to-run noise of the machine.
//!
//! **Order.** Repetition r (from 1) runs the collectors in the order given,
//! rotated left by r − 1 ([`schedule`]): with `a,b,c`, repetition 1 runs
//! a, b, c; repetition 2 b, c, a; repetition 3 c, a, b. Collectors alternate,
//! so slow drift of the machine (other load, heat, the process's memory
//! growing) falls on all of them alike, and over n repetitions of n
//! collectors each one runs once in every position. `--warmup N` first
//! replays each collector N times, untimed, as `gcwb run` does.
//!
//! **Output**, into `--out`, each file through a temporary file and a
//! rename ([`crate::report::write_atomically`]). Nothing is written before
//! the last replay ends, so a compare refused (bad input; an output
//! directory that cannot be made, found before any replay) or stopped
//! before then leaves the directory's files as they were. Then the result
//! files of an earlier run there are removed
//! ([`crate::provenance::OutDir`]; a warning says so when they were
//! another command's), and it writes:
//! - `reps/<r>/`: repetition r's run files exactly as `gcwb run` writes
//!   them (`summary.csv`, `pauses.csv`, …, `run.toml` with `repetition =
//!   r`), rows in the order they ran; `reps/<k>/` left by an earlier
//!   compare with more repetitions is removed;
//! - the run files at the top level: for each collector, those of its
//!   repetition with the median wall time (for an even count the lower of
//!   the two middle ones), so `gcwb plot` and the charts work on the
//!   folder unchanged;
//! - `runs.csv`: every timed replay in the order it ran
//!   (`order,rep,position,collector,wall_ns,events_per_s,pause_p99_ns,status,top_level,process_cpu_ns,gc_wall_ns,gc_cpu_ns`);
//! - `compare.csv` ([`summary`]): one row per collector, the median, min,
//!   max, mean and 95% confidence interval of each metric over the
//!   repetitions, then each collector's lower-bound overhead
//!   ([`crate::lbo`]);
//! - `run.toml` ([`crate::provenance`]), written last: the command, the
//!   build, the machine, the trace and every setting.
//!
//! Then it draws the charts of the top-level files (unless `--no-charts`),
//! writes `report.html` with `--report` ([`crate::html_report`]) and
//! prints the [`table`]. Exit codes as `gcwb run`'s: 1 when a verified
//! replay found violations, 2 for bad input or a fatal error of the
//! replayed program.

pub mod summary;
pub mod table;

use crate::args::{self, GcArgs, StackArgs, TraceArgs};
use crate::engine::{self, Prepared};
use crate::provenance;
use crate::replay::RunResult;
use crate::report::{write_atomically, write_run, RunOutputs, SummaryRow};
use collectors::registry::CollectorInfo;
use std::path::{Path, PathBuf};
use summary::CompareRow;
use workloads::analysis::Place;

/// `gcwb compare`'s arguments.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub source: TraceArgs,
    /// Collectors to compare: a comma-separated list, or `all`.
    #[arg(short, long, visible_alias = "collector", default_value = "all")]
    pub collectors: String,
    #[command(flatten)]
    pub gc: GcArgs,
    /// Timed replays of each collector (collectors alternate between
    /// repetitions).
    #[arg(long, default_value = "3", value_name = "N", value_parser = parse_repeat)]
    pub repeat: usize,
    /// Untimed replays of each collector before the first repetition.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub warmup: u32,
    /// Check every free and every access against the trace's oracle.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Directory for compare.csv, runs.csv, the median runs' files and
    /// `reps/<r>/`.
    #[arg(short, long)]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not draw the charts (PNG) into the output directory.
    #[arg(long)]
    pub no_charts: bool,
    /// Also write report.html into the output directory: one
    /// self-contained HTML page of these results (as `gcwb report` writes).
    #[arg(long)]
    pub report: bool,
}

fn parse_repeat(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a number of repetitions, 1 or more, got `{s}`")),
    }
}

/// The order of each repetition: `schedule(n, reps)[r]` lists the indexes
/// of `n` collectors in the order repetition `r` (from 0) runs them, the
/// given order rotated left by `r`.
pub fn schedule(n: usize, reps: usize) -> Vec<Vec<usize>> {
    (0..reps).map(|r| (0..n).map(|k| (k + r) % n.max(1)).collect()).collect()
}

/// One repetition: the collectors it ran (indexes, in order) and what
/// each replay measured.
struct Rep {
    order: Vec<usize>,
    rows: Vec<SummaryRow>,
    runs: Vec<RunResult>,
}

/// Runs `gcwb compare`; returns the exit code.
pub fn compare_command(a: &CompareArgs) -> i32 {
    match compare(a) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            2
        }
    }
}

fn compare(a: &CompareArgs) -> Result<i32, String> {
    let chosen = args::collectors_named(&a.collectors, &a.gc)?;
    args::check_writable(&a.out)?;
    let loaded = args::prepare(&a.source, a.quiet)?;
    let argv = provenance::current_argv();
    let out_dir = provenance::OutDir::check(&a.out, &argv)?;
    let placements = loaded.trace.placements(a.stack.no_stack);
    args::print_loaded(&loaded, a.stack.no_stack);
    let mut run_toml = provenance::RunToml::new(
        "compare",
        argv,
        provenance::TraceToml::describe(&a.source.source(), &loaded),
        chosen.iter().map(|c| c.name.to_string()).collect(),
        provenance::SettingsToml::new(&args::settings(&a.gc, &a.stack), &chosen, a.verify, a.warmup),
    );
    run_toml.repeat = Some(a.repeat);
    let specs: Vec<engine::RunSpec> =
        chosen.iter().map(|info| args::run_spec(info, &a.gc, &a.stack, a.verify, a.quiet, a.warmup)).collect();
    for spec in &specs {
        engine::warm_up(&loaded, spec)?;
    }

    let mut code = 0;
    let mut reps: Vec<Rep> = Vec::with_capacity(a.repeat);
    for (r, order) in schedule(chosen.len(), a.repeat).into_iter().enumerate() {
        println!("rep {}/{}: {}", r + 1, a.repeat, names(&chosen, &order).join(", "));
        let mut rep = Rep { order, rows: Vec::new(), runs: Vec::new() };
        for &c in &rep.order {
            let recorded = engine::run(&loaded, &engine::RunSpec { warmup: 0, ..specs[c].clone() })?;
            args::print_row(&recorded.row);
            code = code.max(args::report_problems(&recorded.result));
            rep.rows.push(recorded.row);
            rep.runs.push(recorded.result);
        }
        reps.push(rep);
    }

    // Per collector, its rows by repetition, and the repetition whose files
    // go to the top level.
    let per_collector: Vec<Vec<&SummaryRow>> =
        (0..chosen.len()).map(|c| reps.iter().map(|rep| row_of(rep, c).0).collect()).collect();
    let mut compared: Vec<CompareRow> = per_collector.iter().map(|rows| summary::compare_row(rows)).collect();
    summary::with_lbo(&mut compared, &per_collector);

    let cannot_write = |dir: &Path, e: std::io::Error| format!("cannot write results to {}: {e}", dir.display());
    out_dir.clear();
    let reps_dir = a.out.join("reps");
    for (r, rep) in reps.iter().enumerate() {
        let dir = reps_dir.join((r + 1).to_string());
        let rep_toml = provenance::RunToml {
            written_by: "compare repetition".to_string(),
            repetition: Some(r + 1),
            collectors: names(&chosen, &rep.order).iter().map(|n| n.to_string()).collect(),
            ..run_toml.clone()
        };
        write_run(&dir, &outputs(&loaded, placements, &rep.rows, &rep.runs))
            .and_then(|()| rep_toml.write(&dir))
            .map_err(|e| cannot_write(&dir, e))?;
    }
    let runs_csv = summary::runs_csv(reps.iter().enumerate().flat_map(|(r, rep)| {
        let compared = &compared;
        rep.order.iter().zip(&rep.rows).map(move |(&c, row)| (r + 1, row, compared[c].median_rep == r + 1))
    }))
    .map_err(|e| cannot_write(&a.out, e))?;
    let compare_csv = summary::compare_csv(&compared).map_err(|e| cannot_write(&a.out, e))?;

    // The top level: each collector's median repetition, in the order given.
    let mut slots: Vec<Vec<Option<RunResult>>> =
        reps.iter_mut().map(|rep| std::mem::take(&mut rep.runs).into_iter().map(Some).collect()).collect();
    let mut top_rows = Vec::new();
    let mut top_runs = Vec::new();
    for (c, row) in compared.iter().enumerate() {
        let r = row.median_rep - 1;
        let (summary_row, at) = row_of(&reps[r], c);
        top_rows.push(summary_row.clone());
        top_runs.push(slots[r][at].take().expect("each run goes to the top level once"));
    }
    write_run(&a.out, &outputs(&loaded, placements, &top_rows, &top_runs)).map_err(|e| cannot_write(&a.out, e))?;
    write_atomically(&a.out.join("runs.csv"), &runs_csv).map_err(|e| cannot_write(&a.out, e))?;
    write_atomically(&a.out.join("compare.csv"), &compare_csv).map_err(|e| cannot_write(&a.out, e))?;
    run_toml.write(&a.out).map_err(|e| cannot_write(&a.out, e))?;
    remove_stale_reps(&reps_dir, a.repeat);

    println!(
        "results in {}/ (compare.csv, runs.csv; the median repetition's summary.csv, pauses.csv, …; every repetition's in reps/1..{}/)",
        a.out.display(),
        a.repeat
    );
    if !a.no_charts {
        crate::charts::draw_after_run(&a.out);
    }
    if a.report {
        crate::html_report::write_after_run(&a.out);
    }
    println!();
    print!("{}", table::render(&compared));
    Ok(code)
}

/// What `write_run` writes for these replays of `loaded`.
fn outputs<'a>(
    loaded: &'a Prepared,
    placements: &'a [Place],
    rows: &'a [SummaryRow],
    runs: &'a [RunResult],
) -> RunOutputs<'a> {
    RunOutputs { rows, runs, analysis: &loaded.trace, placements }
}

/// Collector `c`'s summary row in `rep`, and its position there.
fn row_of(rep: &Rep, c: usize) -> (&SummaryRow, usize) {
    let at = rep.order.iter().position(|&x| x == c).expect("every repetition runs every collector");
    (&rep.rows[at], at)
}

fn names(chosen: &[&CollectorInfo], order: &[usize]) -> Vec<&'static str> {
    order.iter().map(|&c| chosen[c].name).collect()
}

/// Removes `reps/<k>/` for every k above `repeat`: an earlier compare's,
/// which no longer matches compare.csv. A failure is a warning.
fn remove_stale_reps(reps_dir: &Path, repeat: usize) {
    let Ok(entries) = std::fs::read_dir(reps_dir) else { return };
    for e in entries.flatten() {
        let stale = e.file_name().to_str().and_then(|n| n.parse::<usize>().ok()).is_some_and(|k| k > repeat);
        if stale && e.path().is_dir() {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                eprintln!("gcwb: warning: cannot remove {}: {err}", e.path().display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_repetition_rotates_the_order_and_each_collector_takes_every_position() {
        assert_eq!(schedule(3, 4), [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
        assert_eq!(schedule(2, 3), [[0, 1], [1, 0], [0, 1]]);
        assert_eq!(schedule(1, 2), [[0], [0]]);
        let s = schedule(4, 4);
        for c in 0..4 {
            let mut positions: Vec<usize> = s.iter().map(|o| o.iter().position(|&x| x == c).unwrap()).collect();
            positions.sort();
            assert_eq!(positions, [0, 1, 2, 3], "collector {c}");
        }
    }

    #[test]
    fn repeat_must_be_a_positive_count() {
        assert_eq!(parse_repeat("3"), Ok(3));
        for bad in ["0", "-1", "x", ""] {
            let e = parse_repeat(bad).unwrap_err();
            assert!(e.contains("1 or more") && e.contains(&format!("`{bad}`")), "{e}");
        }
    }
}

//! `gcwb sweep` and `gcwb merge`: a matrix of runs described by an
//! experiment file — workloads × swept parameters × collectors ×
//! repetitions — run cell by cell (resumably, and in shards across
//! machines), then aggregated into `cells.csv` and `sweep.csv` and drawn
//! as sweep charts ([`crate::charts::sweep`]).
//!
//! ```sh
//! gcwb sweep scripts/experiments/gogc.toml --out results/gogc   # run (or resume) every cell
//! gcwb sweep EXP.toml --list [--shard 2/4]                      # print the cells in run order; run nothing
//! gcwb merge shard1/ shard2/ --out results/gogc                 # gather shards, aggregate, draw
//! ```
//!
//! # The experiment file
//!
//! TOML; everything but `[[workload]]` is optional (defaults shown):
//!
//! ```toml
//! collectors = "all"       # or a list: ["mark-sweep", "concurrent"] (`gcwb collectors`)
//! repetitions = 1          # cells per combination and collector
//! seed = 1                 # the workloads' seed, the same in every repetition
//! verify = false           # replay under the verifier; a violation makes the sweep exit 1
//! metrics = ["pause_p99_ns", "events_per_s", "peak_heap_bytes", "nlbo_wall", "nlbo_cpu"]  # summary.csv columns, or the LBO
//!
//! [sweep]                  # each key a list of values (or one value: fixed)
//! gogc = [100, 50, 200, 400, "off"]  # a `gcwb run` option: procs, gogc, memlimit, no_stack, arch, max_stack,
//!                                    # or a collector's (`gcwb collectors`: nursery, tenure_age, …)
//! procs = 2
//! requests = [1000, 4000]  # or a parameter every workload below declares (`gcwb workloads`)
//!
//! [[workload]]             # one or more
//! name = "server"          # a built-in workload,
//! set = { goroutines = 16 }  # with parameters fixed for the whole experiment
//! label = "server16"       # its name in cell ids and charts (default: name, or the trace's file stem)
//!
//! [[workload]]
//! name = "server"
//! set = { goroutines = 64 }
//! label = "server64"       # labels tell two workloads of one name apart
//! # trace = "traces/app.gctb"  # instead of name: a trace file, relative to
//! #                            # this file (then sweep only run options)
//! ```
//!
//! A `[sweep]` key naming a `gcwb run` option takes the values that option
//! takes on the command line ([`settings`]; a collector's option, which
//! one of the experiment's collectors must take, in snake_case or
//! kebab-case); any other key must be a
//! parameter of every workload of the file (so a file sweeping workload
//! parameters has only built-in workloads). The cells are every
//! combination of the `[sweep]` values, for each workload, collector and
//! repetition; a setting not swept is `gcwb run`'s default (`procs`: the
//! machine's cores, so fix it when shards run on different machines).
//! Errors — a malformed file (with its line and column), an unknown
//! collector, workload, parameter or metric (with the valid choices), a
//! value out of range — are found before any cell runs, and exit 2.
//!
//! # What a sweep writes
//!
//! `DIR/cells/<id>/` per finished cell ([`cells`]: its id, run order and
//! `cell.toml`; [`store`]: the directory), holding what `gcwb run` writes
//! for one collector (no charts; with its `run.toml`, [`crate::provenance`]);
//! `DIR/experiment.toml`, a copy of the
//! experiment file; `DIR/cells.csv` and `DIR/sweep.csv` ([`aggregate`]:
//! in a matrix, each parameter's `sweep.csv` rows hold the others at their
//! first value); the charts `sweep*.png` (`--no-charts` skips them; `gcwb
//! plot DIR` redraws them); with `--report`, `DIR/report.html`
//! ([`crate::html_report`]).
//!
//! # Resume
//!
//! A cell is written into a partial directory and renamed into place when
//! complete, so an interrupted sweep leaves only finished cells; running the
//! same command again skips them and runs the rest. A directory holding a
//! different experiment file is refused (exit 2).
//!
//! # Shards
//!
//! `--shard i/n` runs the i-th of n shards: the groups of cells (a group:
//! every collector of one workload, combination and repetition) whose
//! number modulo n is i − 1. The order comes from the experiment file
//! alone, so machines agree on it; a chart's collectors always ran on one
//! machine, interleaved. Then `gcwb merge` gathers the shards' directories.
//!
//! ```sh
//! sbatch --array=1-8 --wrap 'gcwb sweep exp.toml --out shard-$SLURM_ARRAY_TASK_ID --shard $SLURM_ARRAY_TASK_ID/8 -q'
//! parallel gcwb sweep exp.toml --out shard-{} --shard {}/4 -q ::: 1 2 3 4; gcwb merge shard-* --out results
//! ```
//!
//! Shards may also share one `--out` directory (on one machine, or a shared
//! file system): each cell is still written whole, and each shard
//! aggregates what is finished when it ends (`gcwb merge DIR --out DIR`
//! aggregates a directory again).

pub mod aggregate;
pub mod cells;
pub mod experiment;
pub mod merge;
pub mod run;
pub mod settings;
pub mod store;

use cells::{plan, Cell, Shard};
use experiment::Experiment;
use std::path::{Path, PathBuf};
use store::Store;

/// `gcwb sweep`'s arguments.
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "gcwb sweep <EXPERIMENT> --out <DIR> [OPTIONS]\n       gcwb sweep <EXPERIMENT> --list [--shard <I/N>]"
)]
pub struct SweepArgs {
    /// The experiment file (TOML; examples in scripts/experiments/).
    pub experiment: PathBuf,
    /// The results directory (required, except with --list): created if
    /// need be; a directory holding finished cells of this experiment is
    /// resumed.
    #[arg(short, long, value_name = "DIR", required_unless_present = "list")]
    pub out: Option<PathBuf>,
    /// Run only the I-th of N shards (1-based): every N-th group of cells.
    #[arg(long, value_name = "I/N", value_parser = cells::parse_shard)]
    pub shard: Option<Shard>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not draw the sweep charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Also write report.html into the output directory: one
    /// self-contained HTML page of these results (as `gcwb report` writes).
    #[arg(long)]
    pub report: bool,
    /// Print the cells (of the shard) in run order, and run nothing.
    #[arg(long)]
    pub list: bool,
}

/// `gcwb merge`'s arguments.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Results directories of `gcwb sweep` runs of one experiment file.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged results go (may be one of the DIRS).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Do not draw the sweep charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Also write report.html into the output directory: one
    /// self-contained HTML page of these results (as `gcwb report` writes).
    #[arg(long)]
    pub report: bool,
}

fn fail(msg: &str) -> i32 {
    eprintln!("gcwb: {msg}");
    2
}

/// `gcwb sweep`: checks the experiment, runs the shard's unfinished
/// cells, aggregates and draws. Exit code: 2 for bad input (nothing run)
/// or a cell that could not be run or written, or a replayed program that
/// died; 1 when the verifier found violations; else 0.
pub fn sweep_command(a: &SweepArgs) -> i32 {
    let e = match Experiment::load(&a.experiment, true) {
        Ok(e) => e,
        Err(m) => return fail(&m),
    };
    let cells = match plan(&e) {
        Ok(c) => c,
        Err(m) => return fail(&m),
    };
    let mine: Vec<&Cell> = cells.iter().filter(|c| a.shard.is_none_or(|s| s.holds(c))).collect();
    if a.list {
        for c in &mine {
            println!("{:>6}  {}", c.index, c.id);
        }
        return 0;
    }
    let Some(out) = a.out.as_deref() else { return fail("--out DIR is required to run a sweep") };
    let store = match Store::open(out, &e) {
        Ok(s) => s,
        Err(m) => return fail(&m),
    };
    let shard = a.shard.map_or(String::new(), |s| format!("; shard {s}: {} of them", mine.len()));
    println!(
        "{}: {} cells ({} workloads × {} combinations × {} collectors × {} repetitions){shard}",
        a.experiment.display(),
        cells.len(),
        e.workloads.len(),
        e.params.iter().map(|p| p.values.len()).product::<usize>(),
        e.collectors.len(),
        e.repetitions
    );
    let tally = match run::run_cells(&e, &mine, &store, a.quiet) {
        Ok(t) => t,
        Err(m) => return fail(&m),
    };
    tally.code.max(finish(&e, &cells, out, a.no_charts, a.report))
}

/// `gcwb merge`: gathers the directories' cells into `--out`, then
/// aggregates and draws. Exit code 2, with nothing written, when the
/// directories hold different experiments or conflicting cells.
pub fn merge_command(a: &MergeArgs) -> i32 {
    let merged = match merge::merge(&a.dirs, &a.out) {
        Ok(m) => m,
        Err(m) => return fail(&m),
    };
    println!(
        "merged {} directories into {}: {} cells copied, {} already there",
        a.dirs.len(),
        a.out.display(),
        merged.copied,
        merged.present
    );
    let cells = match plan(&merged.experiment) {
        Ok(c) => c,
        Err(m) => return fail(&m),
    };
    finish(&merged.experiment, &cells, &a.out, a.no_charts, a.report)
}

/// Writes the aggregates of `dir`'s finished cells, says how far the sweep
/// is, draws the charts and, with `report`, writes `report.html`.
fn finish(e: &Experiment, cells: &[Cell], dir: &Path, no_charts: bool, report: bool) -> i32 {
    let done = match aggregate::aggregate(e, cells, dir) {
        Ok(n) => n,
        Err(m) => return fail(&m),
    };
    let rest = if done < cells.len() {
        format!(
            "; {} to go: run the sweep again to resume, or `gcwb merge` the other shards' directories",
            cells.len() - done
        )
    } else {
        String::new()
    };
    println!(
        "results in {}/ (cells.csv, sweep.csv, cells/): {done} of {} cells finished{rest}",
        dir.display(),
        cells.len()
    );
    if !no_charts {
        crate::charts::draw_after_run(dir);
    }
    if report {
        crate::html_report::write_after_run(dir);
    }
    0
}

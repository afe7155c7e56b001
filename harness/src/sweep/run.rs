//! Running a sweep's cells: each unfinished cell of the shard, in run
//! order, replayed with `gcwb run`'s own pieces ([`crate::cli`]'s `load`,
//! `replay_options`, `run_context`, `replay_recorded`) and written whole
//! into its directory ([`Store::commit`]: the run's CSV files through
//! [`write_run`], then `cell.toml`).
//!
//! Finished cells are skipped, so running a sweep again resumes it.
//! Consecutive cells of one workload and workload parameters share the
//! trace, loaded once. A progress bar on stderr (cells done, the current
//! cell, ETA; hidden with `-q` or when stderr is not a terminal) sits
//! under one line per finished cell on stdout.

use super::cells::{Cell, CellRecord};
use super::experiment::{Experiment, Source};
use super::settings;
use super::store::{Store, CELL_FILE};
use crate::cli;
use crate::engine::{self, Prepared, TraceSource};
use crate::report::{write_atomically, write_run, RunOutputs, SummaryRow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// What a run of the cells did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Cells replayed now.
    pub ran: usize,
    /// Cells already finished, skipped.
    pub skipped: usize,
    /// The exit code the replays call for: 1 when the verifier found
    /// violations, 2 when a replayed program died (its cell is still
    /// written), else 0.
    pub code: i32,
}

/// Runs every cell of `cells` that `store` does not hold yet. An error
/// (a trace that cannot be loaded, a collector that cannot start, a cell
/// that cannot be written) stops the sweep; its message is one line.
pub fn run_cells(e: &Experiment, cells: &[&Cell], store: &Store, quiet: bool) -> Result<Tally, String> {
    let todo: Vec<&Cell> = cells.iter().copied().filter(|c| !store.is_finished(&c.id)).collect();
    let mut tally = Tally { skipped: cells.len() - todo.len(), ..Tally::default() };
    if tally.skipped > 0 {
        println!("{} of {} cells already finished: skipped", tally.skipped, cells.len());
    }
    let bar = progress_bar(todo.len(), quiet);
    let mut trace: Option<((usize, Vec<String>), Prepared)> = None;
    for (k, c) in todo.iter().enumerate() {
        bar.set_message(c.id.clone());
        let key = c.trace_key(e);
        if trace.as_ref().is_none_or(|(have, _)| *have != key) {
            drop(trace.take()); // one trace in memory at a time
            trace = Some((key, load(e, c)?));
        }
        let loaded = &trace.as_ref().expect("just loaded").1;
        let (gc, stack) = settings::parse(&c.settings(e)).map_err(|m| format!("{}: {m}", c.id))?;
        let spec = cli::run_spec(c.collector, &gc, &stack, e.verify, true, 0);
        let placements = loaded.trace.placements(stack.no_stack);
        let engine::RunRecord { row, result: r } = engine::run(loaded, &spec)?;
        let code = bar.suspend(|| {
            println!("[{}/{}] {}: {}", k + 1, todo.len(), c.id, brief(&row));
            cli::report_problems(&r)
        });
        tally.code = tally.code.max(code);
        let record = CellRecord::new(e, c, store.host().to_string()).to_toml()?;
        store
            .commit(&c.id, |dir| {
                let out = RunOutputs {
                    rows: std::slice::from_ref(&row),
                    runs: std::slice::from_ref(&r),
                    analysis: &loaded.trace,
                    placements,
                };
                write_run(dir, &out)?;
                write_atomically(&dir.join(CELL_FILE), record.as_bytes())
            })
            .map_err(|err| format!("{}: cannot write cell {}: {err}", store.root.display(), c.id))?;
        tally.ran += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// The trace `c` replays, named by its workload's label.
fn load(e: &Experiment, c: &Cell) -> Result<Prepared, String> {
    let w = &e.workloads[c.workload];
    let src = match &w.source {
        Source::Builtin { name, set } => TraceSource::Workload {
            name: name.to_string(),
            seed: e.seed,
            set: set.iter().cloned().chain(c.workload_sets(e)).collect(),
        },
        Source::File(path) => TraceSource::File(path.clone()),
    };
    let mut loaded = engine::prepare(&src, false).map_err(|m| format!("workload `{}`: {m}", w.label))?;
    loaded.name = w.label.clone();
    Ok(loaded)
}

/// The bar: cells done of those to run, the current cell, ETA.
fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} cells, ETA {eta} ({elapsed} so far)  {wide_msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_secs(1));
    bar
}

/// One finished cell, in a line.
fn brief(r: &SummaryRow) -> String {
    let status = if r.status == "ok" { String::new() } else { format!(" [{}]", r.status) };
    let verify = match r.verify_errors {
        Some(0) => ", verified: clean".to_string(),
        Some(n) => format!(", verified: {n} VIOLATIONS"),
        None => String::new(),
    };
    format!(
        "wall {}, {:.2} M events/s, {} GCs, pause p99 {}, peak heap {:.1} MiB{verify}{status}",
        cli::ms(r.wall_ns),
        r.events_per_s / 1e6,
        r.gc_count,
        cli::ms(r.pause_p99_ns),
        r.peak_heap_bytes as f64 / f64::from(1 << 20),
    )
}

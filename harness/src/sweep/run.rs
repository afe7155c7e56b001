//! Running a sweep's cells: each unfinished cell of the shard, in run
//! order, replayed with `gcwb run`'s own pieces ([`crate::cli`]'s `load`,
//! `replay_options`, `run_context`, `replay_recorded`) and written whole
//! into its directory ([`Store::commit`]: the run's CSV files through
//! [`write_run`], `run.toml` ([`crate::provenance`]: the sweep's command
//! line, the build, the machine, the cell's trace — a file's checksum
//! computed once per file — and every setting), then `cell.toml`).
//!
//! Finished cells are skipped, so running a sweep again resumes it.
//! Each distinct trace (a workload and its parameters) is prepared once
//! and shared by all its cells, across repetitions, as long as the kept
//! traces fit in a quarter of the machine's memory (`TraceCache`). A progress bar on stderr (cells done, the current
//! cell, ETA; hidden with `-q` or when stderr is not a terminal) sits
//! under one line per finished cell on stdout.

use super::cells::{Cell, CellRecord};
use super::experiment::{Experiment, Source};
use super::settings;
use super::store::{Store, CELL_FILE};
use crate::engine::{self, Prepared, TraceSource};
use crate::provenance::{self, FileDigest, RunToml, SettingsToml, TraceToml};
use crate::report::{ms, write_atomically, write_run, RunOutputs, SummaryRow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
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
    let mut traces = TraceCache::new(cache_budget_bytes());
    let argv = provenance::current_argv();
    let mut digests: HashMap<std::path::PathBuf, Option<FileDigest>> = HashMap::new();
    for (k, c) in todo.iter().enumerate() {
        bar.set_message(c.id.clone());
        let loaded = traces.get(c.trace_key(e), || load(e, c))?;
        let source = source(e, c);
        let digest = match &source {
            TraceSource::File(path) | TraceSource::Go { path, .. } => {
                *digests.entry(path.clone()).or_insert_with(|| FileDigest::of(path).ok())
            }
            TraceSource::Workload { .. } => None,
        };
        let settings = settings::parse(&c.settings(e)).map_err(|m| format!("{}: {m}", c.id))?;
        let spec = settings.spec(c.collector, e.verify, true, 0);
        let placements = loaded.trace.placements(settings.no_stack);
        let engine::RunRecord { row, result: r } = engine::run(loaded, &spec)?;
        let code = bar.suspend(|| {
            println!("[{}/{}] {}: {}", k + 1, todo.len(), c.id, brief(&row));
            crate::args::report_problems(&r)
        });
        tally.code = tally.code.max(code);
        let record = CellRecord::new(e, c, store.host().to_string()).to_toml()?;
        let mut run_toml = RunToml::new(
            "sweep cell",
            argv.clone(),
            TraceToml::new(&source, loaded, digest),
            vec![c.collector.name.to_string()],
            SettingsToml::new(&settings, &[c.collector], e.verify, 0),
        );
        run_toml.cell = Some(c.id.clone());
        run_toml.repetition = Some(c.repetition as usize);
        store
            .commit(&c.id, |dir| {
                let out = RunOutputs {
                    rows: std::slice::from_ref(&row),
                    runs: std::slice::from_ref(&r),
                    analysis: &loaded.trace,
                    placements,
                };
                write_run(dir, &out)?;
                run_toml.write(dir)?;
                write_atomically(&dir.join(CELL_FILE), record.as_bytes())
            })
            .map_err(|err| format!("{}: cannot write cell {}: {err}", store.root.display(), c.id))?;
        tally.ran += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// The prepared traces of a sweep, each prepared once: the cells of one
/// trace come back at every repetition (repetitions are outermost), so a
/// trace is kept after its cells ran, as long as all kept traces fit in the
/// budget; past it, the least recently used ones go (and would be prepared
/// again if their cells came back).
struct TraceCache {
    budget: usize,
    /// (key, trace, last use), most recently used last.
    kept: Vec<((usize, Vec<String>), Prepared)>,
    /// How many traces were prepared (for tests and the summary line).
    prepared: usize,
}

impl TraceCache {
    fn new(budget: usize) -> Self {
        TraceCache { budget, kept: Vec::new(), prepared: 0 }
    }

    /// The trace with `key`, prepared by `prepare` unless kept.
    fn get(
        &mut self,
        key: (usize, Vec<String>),
        prepare: impl FnOnce() -> Result<Prepared, String>,
    ) -> Result<&Prepared, String> {
        if let Some(at) = self.kept.iter().position(|(k, _)| *k == key) {
            let hit = self.kept.remove(at);
            self.kept.push(hit);
        } else {
            // Make room first: the new trace's size is known only once it
            // exists, so keep the others within the budget alone.
            let p = prepare()?;
            self.prepared += 1;
            let need = p.trace.heap_bytes();
            while !self.kept.is_empty() && self.bytes() + need > self.budget {
                self.kept.remove(0);
            }
            self.kept.push((key, p));
        }
        Ok(&self.kept.last().expect("just pushed").1)
    }

    fn bytes(&self) -> usize {
        self.kept.iter().map(|(_, p)| p.trace.heap_bytes()).sum()
    }
}

/// How much memory the kept traces may take: a quarter of the machine's
/// (the replays' heaps need the rest), or 2 GiB when it cannot be read.
fn cache_budget_bytes() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse::<usize>().ok());
    total_kib.map_or(2 << 30, |k| k * 1024 / 4)
}

/// Where the trace `c` replays comes from.
fn source(e: &Experiment, c: &Cell) -> TraceSource {
    match &e.workloads[c.workload].source {
        Source::Builtin { name, set } => TraceSource::Workload {
            name: name.to_string(),
            seed: e.seed,
            set: set.iter().cloned().chain(c.workload_sets(e)).collect(),
        },
        Source::File(path) => TraceSource::File(path.clone()),
        Source::Go(path, escape) => TraceSource::Go { path: path.clone(), escape: *escape },
    }
}

/// The trace `c` replays, named by its workload's label.
fn load(e: &Experiment, c: &Cell) -> Result<Prepared, String> {
    let w = &e.workloads[c.workload];
    let mut loaded = engine::prepare(&source(e, c), false).map_err(|m| format!("workload `{}`: {m}", w.label))?;
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
    let verify = crate::args::verdict(r);
    format!(
        "wall {}, {:.2} M events/s, {} GCs, pause p99 {}, peak heap {:.1} MiB{verify}{status}",
        ms(r.wall_ns),
        r.events_per_s / 1e6,
        r.gc_count,
        ms(r.pause_p99_ns),
        r.peak_heap_bytes as f64 / f64::from(1 << 20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(events: u32) -> Prepared {
        let set = vec![format!("events={events}")];
        engine::prepare(&TraceSource::Workload { name: "queue".into(), seed: 1, set }, false).unwrap()
    }

    #[test]
    fn each_trace_is_prepared_once_while_they_fit() {
        let mut c = TraceCache::new(usize::MAX);
        for _rep in 0..3 {
            for k in 0..2 {
                c.get((k, vec![]), || Ok(tiny(1000 + k as u32))).unwrap();
            }
        }
        assert_eq!(c.prepared, 2, "two distinct traces over three repetitions");
    }

    #[test]
    fn past_the_budget_the_least_recently_used_goes() {
        let mut c = TraceCache::new(1);
        for _rep in 0..2 {
            for k in 0..2 {
                let p = c.get((k, vec![]), || Ok(tiny(1000 + k as u32))).unwrap();
                assert!(p.trace.events() > 0);
            }
        }
        assert_eq!(c.prepared, 4, "one kept at a time");
        assert_eq!(c.kept.len(), 1);
        // A hit does not prepare again.
        c.get((1, vec![]), || panic!("kept")).unwrap();
    }
}

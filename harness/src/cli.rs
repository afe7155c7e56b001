//! The `gcwb` command line: parsing, and the commands as functions that
//! return an exit code. Exit codes: 0 success; 1 a verified run found
//! violations; 2 bad input (a malformed trace, a bad option) or a fatal
//! error of the replayed program (Go exits 2 on `fatal error:` too).
//!
//! Built-in workloads (`gcwb gen`, `gcwb run --workload`) are looked up in
//! [`workloads::generate`]'s registry; `--set key=value` sets one of the
//! workload's declared parameters and `--seed` its random seed. `gen`
//! streams the events straight into the output file as the generator
//! writes them, so a trace of any length takes no more memory than the
//! generator's own state.

use crate::args::{check_writable, collectors_named, prepare, print_loaded, print_row, report_problems, run_spec};
pub use crate::args::{GcArgs, StackArgs, TraceArgs};
use crate::engine::{self, TraceSource};
use crate::provenance;
use crate::replay::RunResult;
use crate::report::{write_run, RunOutputs, SummaryRow};
use clap::{Parser, Subcommand};
use collectors::registry;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use workloads::builder::{BinarySink, BuildError, EventSink, TextSink};
use workloads::file::Format;
use workloads::generate as wl;
use workloads::model::Event;
use workloads::TraceError;

/// gcwb — a garbage-collector research workbench.
///
/// Replays traces of Go-like programs (goroutines, stacks, heap allocations
/// with their Go cause, pointer stores) against pluggable collectors and
/// measures pause times, throughput and heap size.
#[derive(Parser, Debug)]
#[command(name = "gcwb", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay a trace (or a built-in workload) against one or every collector
    /// and write summary.csv, pauses.csv, safepoints.csv, assists.csv,
    /// gc_slices.csv, cycles.csv, the request-span files (spans.csv,
    /// span_percentiles.csv, span_log.csv.gz), causes.csv, mmu.csv, run.toml
    /// and the charts (PNG; see `gcwb plot`).
    Run(RunArgs),
    /// Replay one trace with several collectors, each --repeat times
    /// (collectors alternating between repetitions), and write compare.csv
    /// (per collector: the median, min, max, mean and 95% confidence
    /// interval of each metric over the repetitions), the median
    /// repetition's run files and charts, every repetition's files under
    /// reps/, and run.toml.
    Compare(crate::compare::CompareArgs),
    /// Validate a trace and print what it contains, or its first error.
    Check {
        /// A .gct (text) or .gctb (binary) trace, or a prepared file (.gcwbp).
        trace: PathBuf,
    },
    /// Analyse a trace once into a prepared file (.gcwbp) that every command
    /// takes in place of the trace.
    ///
    /// Validation, escape analysis and dependencies are done once and
    /// written out; `run`, `compare`, `sweep`, `check` and `stats` of the
    /// prepared file read them back instead of waiting for the load. A
    /// prepared file is tied to the gcwb build that wrote it.
    Prepare(crate::prepare::PrepareArgs),
    /// Convert a trace between text (.gct) and binary (.gctb), by extension.
    Convert { input: PathBuf, output: PathBuf },
    /// List the collectors, each with the options it takes (`--NAME VALUE`,
    /// for `run`, `compare` and sweep files) and the metrics its cycles
    /// add to cycles.csv.
    Collectors,
    /// List the built-in workloads and their parameters.
    Workloads,
    /// Print a trace's demographics: events by kind, allocations by cause and
    /// placement, live bytes, and the lifetime distribution (bytes allocated
    /// between a block's birth and death).
    Stats {
        /// A .gct (text) or .gctb (binary) trace, or a prepared file (.gcwbp).
        trace: PathBuf,
        /// Also write demographics.csv, events.csv, allocations.csv and
        /// lifetimes.csv into this directory.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Write a built-in workload as a trace file, streaming.
    Gen {
        /// Workload name (see `gcwb workloads`), or a Go program (`PROG.go`)
        /// to run and record.
        name: String,
        /// For a Go program: who places each allocation site (`gcwb`, `trace`
        /// or `go`; see `gcwb run --help`).
        #[arg(long, default_value = "gcwb", value_parser = crate::args::parse_escape)]
        escape: workloads::golang::Escape,
        /// Output file (.gct or .gctb).
        #[arg(short, long = "out", visible_alias = "output", value_name = "FILE")]
        out: PathBuf,
        /// Random seed.
        #[arg(long, default_value_t = workloads::generate::DEFAULT_SEED)]
        seed: u64,
        /// Set a workload parameter, e.g. `--set events=5000000` (repeatable;
        /// see `gcwb workloads`).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Turn another runtime's GC log into gcwb's summary.csv, pauses.csv,
    /// phases.csv, cycles.csv, assists.csv (thread stalls) and mmu.csv
    /// (`--format go-gctrace`: a Go program's GODEBUG=gctrace=1 output;
    /// `--format jvm-gc-log`: a JVM's -Xlog:gc / -Xlog:gc* log).
    Import(crate::import::ImportArgs),
    /// Redraw the charts of one or several results directories from their
    /// CSV files alone (no rerun): pause-percentiles, mmu, pause-timeline,
    /// request-latency and sweep, each when there is data for it.
    Plot(crate::charts::PlotArgs),
    /// Write one self-contained HTML page of one or several results folders.
    ///
    /// Of any run, compare, sweep or import folder: provenance, the
    /// verifier's verdicts, a sortable summary table, pause, per-phase and
    /// latency tables, LBO, and every chart inline. It fetches nothing when
    /// opened and prints well.
    Report(crate::html_report::ReportArgs),
    /// Run a matrix of replays described by an experiment file (TOML:
    /// workloads × swept parameters × collectors × repetitions), one
    /// resumable cell at a time, optionally one shard of it; then write
    /// cells.csv, sweep.csv and the sweep charts.
    Sweep(crate::sweep::SweepArgs),
    /// Gather the cells of several `gcwb sweep` directories of one
    /// experiment (its shards) into one, then aggregate and draw.
    Merge(crate::sweep::MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: TraceArgs,
    /// Collector name, a comma-separated list, or `all`.
    #[arg(short, long, default_value = "all")]
    pub collector: String,
    #[command(flatten)]
    pub gc: GcArgs,
    /// Check every free and every access against the trace's oracle.
    #[arg(long)]
    pub verify: bool,
    /// Replay the trace this many extra times first, each with a fresh
    /// collector, and record only the last run (DaCapo's warm-up
    /// convention: caches, page tables and the allocator's memory warm).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub warmup: u32,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Directory for the CSV files.
    #[arg(short, long, default_value = "results")]
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

/// Runs the command line; returns the process exit code.
pub fn main_with(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(a) => run(&a),
        Command::Compare(a) => crate::compare::compare_command(&a),
        Command::Check { trace } => check(&trace),
        Command::Prepare(a) => crate::prepare::prepare_command(&a),
        Command::Convert { input, output } => match workloads::file::convert(&input, &output) {
            Ok(()) => {
                println!("wrote {}", output.display());
                0
            }
            Err(e) => input_error(&e),
        },
        Command::Collectors => {
            print!("{}", collectors_text());
            0
        }
        Command::Workloads => {
            for w in wl::workloads() {
                println!("{:<14} {}", w.name, w.summary);
                for p in w.params {
                    println!("    {}", p.describe());
                }
            }
            0
        }
        Command::Gen { name, escape, out, seed, set } => gen(&name, escape, seed, &set, &out),
        Command::Stats { trace, out } => crate::stats::stats_command(&trace, out.as_deref()),
        Command::Import(a) => crate::import::import_command(&a),
        Command::Plot(a) => crate::charts::plot_command(&a),
        Command::Report(a) => crate::html_report::report_command(&a),
        Command::Sweep(a) => crate::sweep::sweep_command(&a),
        Command::Merge(a) => crate::sweep::merge_command(&a),
    }
}

/// `gcwb collectors`: each collector's name and summary, then the options
/// it takes (`--name VALUE  about (default …)`) and the extra columns its
/// cycles fill in `cycles.csv`.
pub fn collectors_text() -> String {
    use std::fmt::Write;
    let width = registry::COLLECTORS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in registry::COLLECTORS {
        let _ = writeln!(out, "{:<width$}  {}", c.name, c.summary);
        let flags: Vec<String> = c.options.iter().map(|o| format!("{} {}", o.flag(), o.kind.value_name())).collect();
        let flag_width = flags.iter().map(|f| f.len()).max().unwrap_or(0);
        for (o, flag) in c.options.iter().zip(&flags) {
            let _ = writeln!(out, "    {flag:<flag_width$}  {} (default {})", o.about, o.show(o.default));
        }
        if !c.cycle_metrics.is_empty() {
            let names: Vec<&str> = c.cycle_metrics.iter().map(|m| m.name).collect();
            let _ = writeln!(out, "    cycles.csv adds: {}", names.join(", "));
        }
    }
    out
}

fn input_error(e: &TraceError) -> i32 {
    eprintln!("gcwb: {e}");
    2
}

/// Counts the events passing through to the sink it wraps.
struct Counting<S> {
    inner: S,
    events: u64,
}

impl<S: EventSink> EventSink for Counting<S> {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.inner.start(globals)
    }
    #[inline]
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.events += 1;
        self.inner.event(e)
    }
    fn end(&mut self) -> io::Result<()> {
        self.inner.end()
    }
}

/// A temporary file next to the output, removed when dropped unless it was
/// renamed into place, so no half-written trace is ever left (not even when
/// a generator panics).
struct TempSibling {
    path: PathBuf,
    done: bool,
}

impl TempSibling {
    /// Creates `.NAME.PID-N.tmp` next to `target`, exclusively.
    fn create(target: &Path) -> io::Result<(TempSibling, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target.file_name().map_or_else(|| "trace".into(), |n| n.to_string_lossy().into_owned());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{base}.{}-{n}.tmp", std::process::id()));
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => return Ok((TempSibling { path, done: false }, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Syncs `file` (the temporary's) and renames the temporary to `target`.
    fn commit(mut self, file: File, target: &Path) -> io::Result<()> {
        file.sync_all()?;
        drop(file);
        fs::rename(&self.path, target)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempSibling {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// `gcwb gen`: streams the workload into `output` (text or binary by
/// extension) through a temporary file renamed at the end.
fn gen(name: &str, escape: workloads::golang::Escape, seed: u64, sets: &[String], output: &Path) -> i32 {
    let go = name.ends_with(".go");
    let workload = if go { Ok(None) } else { engine::workload_params(name, seed, sets).map(Some) };
    let workload = match workload {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    let shown = output.display();
    let Some(format) = Format::from_path(output) else {
        eprintln!(
            "gcwb: {shown}: cannot tell the trace format from the extension (expected .gct for text or .gctb for binary)"
        );
        return 2;
    };
    let (tmp, file) = match TempSibling::create(output) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("gcwb: {shown}: {e}");
            return 2;
        }
    };
    let t0 = Instant::now();
    let produce = |sink: &mut dyn EventSink| -> Result<(), BuildError> {
        match &workload {
            Some((w, params)) => (w.generate)(params, sink),
            None => {
                let opts = workloads::golang::GoTraceOptions { escape, ..Default::default() };
                workloads::golang::trace_into(&[PathBuf::from(name)], &opts, sink)
                    .map(|_| ())
                    .map_err(|e| BuildError::Invalid(e.to_string()))
            }
        }
    };
    let written = match format {
        Format::Text => stream_into(produce, TextSink::new(file), TextSink::into_inner),
        Format::Binary => stream_into(produce, BinarySink::new(file), BinarySink::into_inner),
    };
    let result = written.and_then(|(file, events)| {
        tmp.commit(file, output).map_err(BuildError::Io)?;
        Ok(events)
    });
    match result {
        Ok(events) => {
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "wrote {shown}: {events} events in {secs:.2} s ({:.2} M events/s)",
                events as f64 / secs.max(1e-9) / 1e6
            );
            0
        }
        Err(BuildError::Io(e)) => {
            eprintln!("gcwb: {shown}: {e}");
            2
        }
        Err(BuildError::Invalid(e)) if go => {
            eprintln!("gcwb: {e}");
            2
        }
        Err(e @ BuildError::Invalid(_)) => {
            eprintln!("gcwb: {name}: the generator wrote an invalid event: {e}");
            2
        }
    }
}

/// Runs `produce` (a generator, or a Go program) into `sink`; returns the
/// file back and the events.
fn stream_into<S: EventSink>(
    produce: impl FnOnce(&mut dyn EventSink) -> Result<(), BuildError>,
    sink: S,
    into_inner: fn(S) -> Option<File>,
) -> Result<(File, u64), BuildError> {
    let mut counting = Counting { inner: sink, events: 0 };
    produce(&mut counting)?;
    let events = counting.events;
    let file = into_inner(counting.inner)
        .ok_or_else(|| BuildError::Io(io::Error::other("the generator did not end its trace")))?;
    Ok((file, events))
}

fn run(a: &RunArgs) -> i32 {
    let chosen = match collectors_named(&a.collector, &a.gc) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    if let Err(msg) = check_writable(&a.out) {
        eprintln!("gcwb: {msg}");
        return 2;
    }
    let prepared = match prepare(&a.source, a.quiet) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    let argv = provenance::current_argv();
    let out_dir = match provenance::OutDir::check(&a.out, &argv) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    print_loaded(&prepared, a.stack.no_stack);
    let run_toml = provenance::RunToml::new(
        "run",
        argv,
        provenance::TraceToml::describe(&a.source.source(), &prepared),
        chosen.iter().map(|c| c.name.to_string()).collect(),
        provenance::SettingsToml::new(&crate::args::settings(&a.gc, &a.stack), &chosen, a.verify, a.warmup),
    );
    let mut rows: Vec<SummaryRow> = Vec::new();
    let mut runs: Vec<RunResult> = Vec::new();
    let mut code = 0;
    for info in chosen {
        let spec = run_spec(info, &a.gc, &a.stack, a.verify, a.quiet, a.warmup);
        let record = match engine::run(&prepared, &spec) {
            Ok(x) => x,
            Err(msg) => {
                eprintln!("gcwb: {msg}");
                return 2;
            }
        };
        print_row(&record.row);
        code = code.max(report_problems(&record.result));
        rows.push(record.row);
        runs.push(record.result);
    }
    let out = RunOutputs {
        rows: &rows,
        runs: &runs,
        analysis: &prepared.trace,
        placements: prepared.trace.placements(a.stack.no_stack),
    };
    out_dir.clear();
    if let Err(e) = write_run(&a.out, &out).and_then(|()| run_toml.write(&a.out)) {
        eprintln!("gcwb: cannot write results to {}: {e}", a.out.display());
        return 2;
    }
    println!(
        "results in {}/ (summary.csv, pauses.csv, safepoints.csv, assists.csv, gc_slices.csv, cycles.csv, spans.csv, span_percentiles.csv, span_log.csv.gz, causes.csv, mmu.csv, phases.csv, pauses-<collector>.hlog, run.toml)",
        a.out.display()
    );
    if !a.no_charts {
        crate::charts::draw_after_run(&a.out);
    }
    if a.report {
        crate::html_report::write_after_run(&a.out);
    }
    code
}

fn check(path: &Path) -> i32 {
    let t0 = Instant::now();
    let prepared = match engine::prepare(&TraceSource::File(path.to_path_buf()), true) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    let t = &prepared.trace;
    let kept = t.deaths_if_known(false).is_some();
    let t1 = Instant::now();
    let deaths = t.deaths(false);
    let oracle_s = t1.elapsed().as_secs_f64();
    let c = prepared.counts(false);
    println!(
        "{}: valid gcwb trace (format version {}) ({:.1} ms)",
        path.display(),
        workloads::model::FORMAT_VERSION,
        t0.elapsed().as_secs_f64() * 1e3
    );
    println!("  events           {}", t.events());
    println!("  goroutines       {}", t.goroutines.len());
    println!("  globals          {}", t.globals);
    println!("  blocks           {} ({} heap, {} stack)", c.allocs, c.heap_allocs, c.stack_allocs);
    println!("  allocated bytes  {} ({} heap, {} stack)", c.bytes, c.heap_bytes, c.stack_bytes);
    println!(
        "  peak live heap   {} bytes (after {})",
        deaths.peak_live_heap_bytes,
        t.pos(deaths.peak_live_heap_event as usize)
    );
    let load_s = prepared.load_ns as f64 / 1e9;
    println!(
        "  load             {load_s:.2} s ({:.1} M events/s); prepared trace {:.1} MB, {:.1} bytes an event",
        t.events() as f64 / load_s.max(1e-9) / 1e6,
        t.heap_bytes() as f64 / 1e6,
        t.heap_bytes() as f64 / t.events().max(1) as f64
    );
    if kept {
        println!("  oracle           read back with the prepared trace");
    } else {
        println!("  oracle           {oracle_s:.2} s");
    }
    // The process ends here: handing a large trace's memory back to the
    // system page by page would only delay the exit (as compilers skip
    // freeing at exit).
    std::mem::forget(prepared);
    0
}

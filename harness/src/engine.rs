//! The run layer: between the commands and the replayer.
//!
//! Every replaying command (`run`, `compare`, `sweep`, and `check`/`stats`,
//! which stop after preparing) is a thin loop over two functions:
//! - [`prepare`]: a [`TraceSource`] (a trace file, or a built-in workload
//!   with its parameters) streamed straight into pass 1, giving a
//!   [`Prepared`] trace — the compact [`PreparedTrace`] plus its name and
//!   load time. No `Vec<Event>` is ever built: a file is decoded through a
//!   buffered reader, a generator writes into the analysis as it goes.
//! - [`run`]: one [`RunSpec`] (a collector, its configuration, the replay
//!   options, warm-ups) on a prepared trace, giving a [`RunRecord`] (the
//!   summary row and everything the replay measured).
//!
//! A prepared trace is read-only and shared: every collector, repetition,
//! warm-up and verified replay of a command uses the same one, and what
//! only some of them need (the oracle's death times, the trace-order index)
//! is computed once inside it on first use. Nothing here knows about the
//! command line; the commands build sources and specs from their options.

use crate::replay::{replay, ReplayOptions, RunResult};
use crate::report::{alloc_counts, summary_row, AllocCounts, RunContext, SummaryRow};
use collectors::{registry, Collector, GcConfig};
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use workloads::analysis::persist::{self, Origin};
use workloads::analysis::wire::{WireBatch, WireEncoder, WireSink};
use workloads::analysis::{PreparedTrace, Preparer};
use workloads::builder::EventSink;
use workloads::generate::{self as wl, Params, WorkloadInfo};
use workloads::golang::{self, Escape, GoTraceOptions};
use workloads::model::{Event, SourcePos};

/// Where a trace comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceSource {
    /// A `.gct` or `.gctb` file (or any file, told apart by its first bytes).
    File(PathBuf),
    /// A built-in workload: its name, seed and `key=value` parameters.
    Workload { name: String, seed: u64, set: Vec<String> },
    /// A Go program (package `main`), run and recorded as it goes, each
    /// allocation site placed by `escape`.
    Go { path: PathBuf, escape: Escape },
}

impl TraceSource {
    /// A file: a Go program when it ends in `.go` (placed by `escape`),
    /// else a trace.
    pub fn from_path(path: &std::path::Path, escape: Escape) -> TraceSource {
        if path.extension().is_some_and(|e| e == "go") {
            TraceSource::Go { path: path.to_path_buf(), escape }
        } else {
            TraceSource::File(path.to_path_buf())
        }
    }

    /// The name results and messages use: the file as given, or the workload's name.
    pub fn name(&self) -> String {
        match self {
            TraceSource::File(p) | TraceSource::Go { path: p, .. } => p.display().to_string(),
            TraceSource::Workload { name, .. } => name.clone(),
        }
    }
}

/// A prepared trace with its name and how long preparing it took.
#[derive(Debug)]
pub struct Prepared {
    pub name: String,
    pub trace: PreparedTrace,
    /// Wall time of the load: parsing (or generating) and analysing,
    /// together; or reading a prepared file.
    pub load_ns: u64,
    /// When the source was a prepared file (`gcwb prepare`): the trace it
    /// was prepared from.
    pub prepared_from: Option<Origin>,
}

impl Prepared {
    /// How the trace's allocations split between heap and stack under the
    /// placements `no_stack` selects.
    pub fn counts(&self, no_stack: bool) -> AllocCounts {
        alloc_counts(&self.trace, self.trace.placements(no_stack))
    }
}

/// The workload called `name` and its parameters: the defaults, `seed`, and
/// each `key=value` of `sets`. The error is one line for the user: an unknown
/// name lists the valid ones; a bad parameter is `Params::set`'s message
/// prefixed by the workload's name.
pub fn workload_params(name: &str, seed: u64, sets: &[String]) -> Result<(&'static WorkloadInfo, Params), String> {
    let Some(w) = wl::find(name) else {
        let names: Vec<&str> = wl::workloads().iter().map(|w| w.name).collect();
        return Err(format!("unknown workload `{name}` (expected one of: {})", names.join(", ")));
    };
    let mut params = w.defaults(seed);
    for pair in sets {
        params.set_pair(w.params, pair).map_err(|m| format!("{name}: {m}"))?;
    }
    Ok((w, params))
}

/// The collectors `spec` names: one name, a comma-separated list, or
/// `all` (every registered collector, in registry order). The error names
/// the unknown collector and lists the valid ones, or names the collector
/// listed twice (it would replay twice and write two rows of one name).
pub fn collectors_named(spec: &str) -> Result<Vec<&'static registry::CollectorInfo>, String> {
    if spec == "all" {
        return Ok(registry::COLLECTORS.iter().collect());
    }
    let mut chosen: Vec<&'static registry::CollectorInfo> = Vec::new();
    for n in spec.split(',').map(str::trim) {
        let info = registry::find(n).ok_or_else(|| {
            format!("unknown collector `{n}` (expected one of: {}, or all)", registry::names().join(", "))
        })?;
        if chosen.iter().any(|c| c.name == info.name) {
            return Err(format!("collector `{}` is named twice (expected each at most once)", info.name));
        }
        chosen.push(info);
    }
    Ok(chosen)
}

/// Streams `source` into pass 1 and returns the prepared trace; the error is
/// one line for the user (a malformed or unsound trace naming its file and
/// line or byte offset, or a bad workload or parameter). With `progress`, a
/// spinner on stderr counts the events (only when stderr is a terminal).
///
/// Reading (or generating) and analysing run as a pipeline on two threads:
/// the reader encodes events into batches in the hand-off form
/// ([`workloads::analysis::wire`]) and hands them to pass 1 through a
/// bounded channel, so the load takes about the longer of the two instead of
/// their sum.
pub fn prepare(source: &TraceSource, progress: bool) -> Result<Prepared, String> {
    let t0 = Instant::now();
    let name = source.name();
    if let TraceSource::File(path) = source {
        if persist::is_prepared_file(path) {
            let (trace, origin) = persist::read(path).map_err(|e| e.to_string())?;
            return Ok(Prepared { name, trace, load_ns: t0.elapsed().as_nanos() as u64, prepared_from: Some(origin) });
        }
    }
    let mut preparer = Preparer::new(&name);
    let show = progress && io::stderr().is_terminal();
    let (to_pass1, from_reader) = mpsc::sync_channel::<WireBatch>(PIPELINE_DEPTH);
    let (recycle, recycled) = mpsc::channel::<WireBatch>();
    let read = std::thread::scope(|scope| {
        let pass1 = std::thread::Builder::new().name("gcwb-pass1".into()).spawn_scoped(scope, || {
            let mut sink = Progress::new(&mut preparer, show);
            for batch in from_reader {
                sink.feed(&batch);
                let _ = recycle.send(batch);
            }
        });
        let Ok(pass1) = pass1 else {
            return Err("cannot start the analysis thread".to_string());
        };
        let mut batcher = Batcher { out: to_pass1, recycled, wire: WireEncoder::new() };
        let read = match source {
            TraceSource::File(path) => workloads::file::load_into_wire(path, &mut batcher).map_err(|e| e.to_string()),
            TraceSource::Workload { name, seed, set } => workload_params(name, *seed, set)
                .and_then(|(w, params)| (w.generate)(&params, &mut batcher).map_err(|e| format!("{name}: {e}"))),
            TraceSource::Go { path, escape } => {
                let opts = GoTraceOptions { escape: *escape, ..Default::default() };
                golang::trace_into(std::slice::from_ref(path), &opts, &mut batcher)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        };
        batcher.flush();
        drop(batcher);
        if pass1.join().is_err() {
            return Err("internal error: the analysis thread panicked".to_string());
        }
        read
    });
    read?;
    let trace = preparer.finish().map_err(|e| e.to_string())?;
    Ok(Prepared { name, trace, load_ns: t0.elapsed().as_nanos() as u64, prepared_from: None })
}

/// Events per batch handed from the reader to pass 1.
const BATCH_EVENTS: usize = 4096;
/// Bytes of instructions at which a batch is handed over with fewer events.
const BATCH_CODE_BYTES: usize = 64 * 1024;
/// Batches in flight between the two threads.
const PIPELINE_DEPTH: usize = 8;

/// The reader's side of the pipeline: an [`EventSink`] that encodes events
/// into batches and sends each full one (and a [`WireSink`], so a binary
/// trace's records are decoded straight into its batches).
struct Batcher {
    out: mpsc::SyncSender<WireBatch>,
    recycled: mpsc::Receiver<WireBatch>,
    wire: WireEncoder,
}

impl Batcher {
    /// Sends the batch if it is full.
    #[inline]
    fn flush_if_full(&mut self) {
        let b = self.wire.batch();
        if b.events() >= BATCH_EVENTS || b.code_bytes() >= BATCH_CODE_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.wire.batch().is_empty() {
            let next = self.recycled.try_recv().unwrap_or_default();
            let full = self.wire.take_batch(next);
            // A closed channel means pass 1 is gone (it panicked): the join reports it.
            let _ = self.out.send(full);
        }
    }
}

impl EventSink for Batcher {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.wire.start(globals)
    }
    #[inline]
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.wire.event(e)?;
        self.flush_if_full();
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        self.wire.end()?;
        self.flush();
        Ok(())
    }
    #[inline]
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        self.wire.source(pos, block_name);
    }
}

impl WireSink for Batcher {
    #[inline]
    fn encoder(&mut self) -> &mut WireEncoder {
        &mut self.wire
    }
    #[inline]
    fn encoded(&mut self) -> io::Result<()> {
        self.flush_if_full();
        Ok(())
    }
}

/// Passes batches through to the preparer, ticking a spinner.
struct Progress<'p> {
    inner: &'p mut Preparer,
    bar: Option<indicatif::ProgressBar>,
    events: u64,
}

/// The spinner moves every this many events.
const TICK_EVENTS: u64 = 1 << 16;

impl<'p> Progress<'p> {
    fn new(inner: &'p mut Preparer, show: bool) -> Self {
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(crate::progress::with_rate(
                indicatif::ProgressStyle::with_template("{spinner} loading: {human_pos} events ({elapsed}){rate}")
                    .expect("valid template"),
            ));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { inner, bar, events: 0 }
    }

    fn feed(&mut self, batch: &WireBatch) {
        let before = self.events;
        self.events += batch.events() as u64;
        if self.events / TICK_EVENTS != before / TICK_EVENTS {
            if let Some(b) = &self.bar {
                b.set_position(self.events);
            }
        }
        self.inner.feed(batch);
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One replay to make: which collector, configured how, replayed how.
#[derive(Clone)]
pub struct RunSpec {
    pub collector: &'static registry::CollectorInfo,
    pub gc: GcConfig,
    pub replay: ReplayOptions,
    /// Replays with a fresh collector before the recorded one, not recorded
    /// (DaCapo's warm-up convention).
    pub warmup: u32,
}

/// What one recorded replay gave: its summary row and its measurements.
#[derive(Debug)]
pub struct RunRecord {
    pub row: SummaryRow,
    pub result: RunResult,
}

/// A fresh collector; the error is one line for the user.
fn start_collector(info: &registry::CollectorInfo, gc: &GcConfig) -> Result<Box<dyn Collector>, String> {
    (info.make)(gc).map_err(|e| format!("cannot start {}: {e}", info.name))
}

/// Runs `spec`'s warm-ups on `p`, each with a fresh collector, printing
/// each one's wall time; nothing is recorded.
pub fn warm_up(p: &Prepared, spec: &RunSpec) -> Result<(), String> {
    for i in 1..=spec.warmup {
        let warm = start_collector(spec.collector, &spec.gc)?;
        let w = replay(&p.trace, warm.as_ref(), &spec.replay);
        println!("  {:<12} warm-up {i}/{}: wall {}", spec.collector.name, spec.warmup, crate::report::ms(w.wall_ns));
    }
    Ok(())
}

/// Runs `spec` on `p`: its warm-ups ([`warm_up`]), then the recorded
/// replay with a fresh collector.
pub fn run(p: &Prepared, spec: &RunSpec) -> Result<RunRecord, String> {
    warm_up(p, spec)?;
    let collector = start_collector(spec.collector, &spec.gc)?;
    let result = replay(&p.trace, collector.as_ref(), &spec.replay);
    let ctx = RunContext {
        trace_name: &p.name,
        gogc: spec.gc.gogc,
        no_stack: spec.replay.no_stack,
        load_ns: p.load_ns,
        counts: p.counts(spec.replay.no_stack),
    };
    Ok(RunRecord { row: summary_row(&ctx, &result), result })
}

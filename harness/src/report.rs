//! Results on disk: `summary.csv`, `pauses.csv`, `assists.csv`, `cycles.csv`,
//! `spans.csv`, `span_percentiles.csv`, `causes.csv`, `mmu.csv` and
//! `phases.csv`, in a form pandas and R read
//! directly (a header row, plain numbers, empty cells for missing values),
//! plus one HdrHistogram interval log of pauses per collector,
//! `pauses-<collector>.hlog` ([`pause_log`]). Each file is written to a
//! temporary file and renamed into place so no result is ever half-written.

use crate::metrics::{new_histogram, summarize_pauses, PauseRecord};
use crate::mmu::Utilization;
use crate::replay::RunResult;
use collectors::Phase;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use workloads::analysis::{Analysis, Place};
use workloads::model::Cause;

/// Nanoseconds as milliseconds, `1.234 ms`.
pub fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// Parses a byte count: digits with an optional unit B, KiB, MiB, GiB, TiB.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        _ => return Err(format!("expected a unit of B, KiB, MiB, GiB or TiB, got `{unit}`")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("expected a byte count like `512MiB`, got `{s}`"))?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("`{s}` is too large"))
}

/// One row of `summary.csv`: one replay of one trace by one collector.
/// The first columns are the ones gcwb promises; more follow.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SummaryRow {
    pub trace: String,
    pub collector: String,
    pub procs: usize,
    pub gogc: String,
    pub events: u64,
    pub wall_ns: u64,
    pub events_per_s: f64,
    pub allocs: u64,
    pub alloc_bytes: u64,
    pub heap_allocs: u64,
    pub stack_allocs: u64,
    pub gc_count: u64,
    pub pause_count: u64,
    pub pause_p50_ns: u64,
    pub pause_p99_ns: u64,
    pub pause_max_ns: u64,
    pub pause_total_ns: u64,
    pub ttsp_max_ns: u64,
    pub peak_heap_bytes: u64,
    pub final_live_bytes: u64,
    pub stack_growths: u64,
    pub max_stack_bytes: u64,
    /// Empty when the run was not verified.
    pub verify_errors: Option<u64>,
    pub load_ns: u64,
    pub heap_alloc_bytes: u64,
    pub stack_alloc_bytes: u64,
    pub final_live_objects: u64,
    pub mark_total_ns: u64,
    pub marked_bytes_total: u64,
    pub no_stack: bool,
    pub dispatches: u64,
    pub dep_waits: u64,
    /// `ok`, or what ended the run early.
    pub status: String,
    /// Minimum mutator utilization ([`crate::mmu`]) over windows of 1, 10
    /// and 100 ms of the replay, the final collection left out. Empty when
    /// the replay was shorter than the window: no such window fits in it.
    pub mmu_1ms: Option<f64>,
    pub mmu_10ms: Option<f64>,
    pub mmu_100ms: Option<f64>,
    /// The share of the processors' time during the replay that the
    /// collector took from the mutator: the integral of `1 - utilization`
    /// over the replay, divided by `wall_ns` (so `1 - MMU(wall_ns)`). A
    /// stop-the-world pause takes all `procs` processors, so for
    /// stop-the-world collectors this is `pause_total_ns × procs / (wall_ns ×
    /// procs) = pause_total_ns / wall_ns`. Like Go's `GCCPUFraction`, but
    /// over the replay only (the final collection left out).
    pub gc_cpu_fraction: f64,
    /// Pause percentiles per phase (empty when the collector has no pause
    /// of that phase).
    pub stw_full_p50_ns: Option<u64>,
    pub stw_full_p99_ns: Option<u64>,
    pub stw_full_max_ns: Option<u64>,
    pub sweep_term_p50_ns: Option<u64>,
    pub sweep_term_p99_ns: Option<u64>,
    pub sweep_term_max_ns: Option<u64>,
    pub mark_term_p50_ns: Option<u64>,
    pub mark_term_p99_ns: Option<u64>,
    pub mark_term_max_ns: Option<u64>,
    /// Generational collections: minor and major pauses apart.
    pub minor_count: u64,
    pub minor_p50_ns: Option<u64>,
    pub minor_p99_ns: Option<u64>,
    pub minor_max_ns: Option<u64>,
    pub major_count: u64,
    pub major_p50_ns: Option<u64>,
    pub major_p99_ns: Option<u64>,
    pub major_max_ns: Option<u64>,
    /// Mark assists: how many, and the goroutine time they took.
    pub assist_count: u64,
    pub assist_total_ns: u64,
    /// CPU time the collector's threads spent marking (assists not
    /// included), summed over the cycles.
    pub mark_cpu_total_ns: u64,
}

/// How the trace's allocations split by cause and placement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocCounts {
    pub allocs: u64,
    pub bytes: u64,
    pub heap_allocs: u64,
    pub heap_bytes: u64,
    pub stack_allocs: u64,
    pub stack_bytes: u64,
}

/// Counts the trace's allocations (from the analysis, so it does not depend
/// on the collector).
pub fn alloc_counts(analysis: &Analysis, placements: &[Place]) -> AllocCounts {
    let mut c = AllocCounts::default();
    for (b, p) in analysis.blocks.iter().zip(placements) {
        c.allocs += 1;
        c.bytes += b.size;
        match p {
            Place::Heap => {
                c.heap_allocs += 1;
                c.heap_bytes += b.size;
            }
            Place::Stack => {
                c.stack_allocs += 1;
                c.stack_bytes += b.size;
            }
        }
    }
    c
}

/// Context of a run that the result itself does not carry.
pub struct RunContext<'a> {
    pub trace_name: &'a str,
    pub gogc: Option<u32>,
    pub no_stack: bool,
    pub load_ns: u64,
    pub counts: AllocCounts,
}

/// The summary row of one run.
pub fn summary_row(ctx: &RunContext<'_>, r: &RunResult) -> SummaryRow {
    let p = summarize_pauses(&r.pauses);
    let util = Utilization::of_run(r);
    let mmu = |window_ns: u64| (window_ns <= r.wall_ns).then(|| util.mmu(window_ns));
    let gc_count = r.cycles.iter().filter(|c| c.trigger != Some(collectors::Trigger::Final)).count() as u64;
    let phases = phase_summaries(&r.pauses);
    let phase = |ph: Phase| phases.iter().find(|(name, _)| *name == ph.name()).map(|(_, s)| *s);
    SummaryRow {
        trace: ctx.trace_name.to_string(),
        collector: r.collector.clone(),
        procs: r.procs,
        gogc: ctx.gogc.map_or("off".to_string(), |g| g.to_string()),
        events: r.events,
        wall_ns: r.wall_ns,
        events_per_s: if r.wall_ns > 0 { r.events as f64 * 1e9 / r.wall_ns as f64 } else { 0.0 },
        allocs: ctx.counts.allocs,
        alloc_bytes: ctx.counts.bytes,
        heap_allocs: ctx.counts.heap_allocs,
        stack_allocs: ctx.counts.stack_allocs,
        gc_count,
        pause_count: p.count,
        pause_p50_ns: p.p50_ns,
        pause_p99_ns: p.p99_ns,
        pause_max_ns: p.max_ns,
        pause_total_ns: p.total_ns,
        ttsp_max_ns: p.ttsp_max_ns,
        peak_heap_bytes: r.peak_heap_bytes,
        final_live_bytes: r.final_live_bytes,
        stack_growths: r.stack_growths,
        max_stack_bytes: r.max_stack_bytes,
        verify_errors: r.violations.as_ref().map(|_| r.violation_count),
        load_ns: ctx.load_ns,
        heap_alloc_bytes: ctx.counts.heap_bytes,
        stack_alloc_bytes: ctx.counts.stack_bytes,
        final_live_objects: r.final_live_objects,
        mark_total_ns: r.cycles.iter().map(|c| c.mark_ns).sum(),
        marked_bytes_total: r.cycles.iter().map(|c| c.marked_bytes).sum(),
        no_stack: ctx.no_stack,
        dispatches: r.dispatches,
        dep_waits: r.dep_waits,
        status: match &r.fatal {
            None => "ok".to_string(),
            Some(crate::replay::Fatal::StackOverflow { .. }) => "stack-overflow".to_string(),
            Some(crate::replay::Fatal::OutOfMemory { .. }) => "out-of-memory".to_string(),
            Some(crate::replay::Fatal::Fault { .. }) => "fault".to_string(),
        },
        mmu_1ms: mmu(1_000_000),
        mmu_10ms: mmu(10_000_000),
        mmu_100ms: mmu(100_000_000),
        gc_cpu_fraction: util.lost_fraction(),
        stw_full_p50_ns: phase(Phase::StwFull).map(|s| s.p50_ns),
        stw_full_p99_ns: phase(Phase::StwFull).map(|s| s.p99_ns),
        stw_full_max_ns: phase(Phase::StwFull).map(|s| s.max_ns),
        sweep_term_p50_ns: phase(Phase::SweepTerm).map(|s| s.p50_ns),
        sweep_term_p99_ns: phase(Phase::SweepTerm).map(|s| s.p99_ns),
        sweep_term_max_ns: phase(Phase::SweepTerm).map(|s| s.max_ns),
        mark_term_p50_ns: phase(Phase::MarkTerm).map(|s| s.p50_ns),
        mark_term_p99_ns: phase(Phase::MarkTerm).map(|s| s.p99_ns),
        mark_term_max_ns: phase(Phase::MarkTerm).map(|s| s.max_ns),
        minor_count: phase(Phase::Minor).map_or(0, |s| s.count),
        minor_p50_ns: phase(Phase::Minor).map(|s| s.p50_ns),
        minor_p99_ns: phase(Phase::Minor).map(|s| s.p99_ns),
        minor_max_ns: phase(Phase::Minor).map(|s| s.max_ns),
        major_count: phase(Phase::Major).map_or(0, |s| s.count),
        major_p50_ns: phase(Phase::Major).map(|s| s.p50_ns),
        major_p99_ns: phase(Phase::Major).map(|s| s.p99_ns),
        major_max_ns: phase(Phase::Major).map(|s| s.max_ns),
        assist_count: r.assists.len() as u64,
        assist_total_ns: r.assists.iter().map(|a| a.duration_ns).sum(),
        mark_cpu_total_ns: r.cycles.iter().map(|c| c.mark_cpu_ns).sum(),
    }
}

#[derive(Serialize)]
struct PauseRow<'a> {
    gc: u64,
    phase: &'a str,
    start_ns: u64,
    duration_ns: u64,
    /// Empty when unknown (a log imported from another runtime).
    ttsp_ns: Option<u64>,
    trigger: Option<&'a str>,
    collector: &'a str,
}

#[derive(Serialize)]
struct AssistRow<'a> {
    collector: &'a str,
    gc: u64,
    goroutine: usize,
    start_ns: u64,
    duration_ns: u64,
    work_bytes: u64,
}

#[derive(Serialize)]
struct CycleRow<'a> {
    collector: &'a str,
    gc: u64,
    trigger: Option<&'a str>,
    start_ns: u64,
    end_ns: u64,
    heap_live_before: u64,
    marked_bytes: u64,
    marked_objects: u64,
    mark_ns: u64,
    mark_cpu_ns: u64,
    sweep_ns: u64,
    freed_bytes: u64,
    freed_objects: u64,
    next_goal: u64,
    heap_live_after: u64,
    young_bytes: u64,
    promoted_bytes: u64,
    copied_bytes: u64,
    /// (promoted + copied) / young, for minor collections; empty otherwise.
    survival_rate: Option<f64>,
    dirty_cards: u64,
}

#[derive(Serialize)]
struct SpanRow<'a> {
    collector: &'a str,
    tag: &'a str,
    count: u64,
    p50_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    max_ns: u64,
}

/// The percentiles of each span tag's latency in `span_percentiles.csv`: a
/// "nines" ladder, so a percentile chart has points all along its tail
/// (0 is the minimum, 100 the maximum).
pub const SPAN_PERCENTILES: [f64; 11] = [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0];

#[derive(Serialize)]
struct SpanPercentileRow<'a> {
    collector: &'a str,
    tag: &'a str,
    percentile: f64,
    latency_ns: u64,
}

/// `span_percentiles.csv`: for each run and span tag with requests, the
/// latency at each of [`SPAN_PERCENTILES`] (columns `collector,tag,
/// percentile,latency_ns`; HdrHistogram's values, 3 significant digits).
pub fn span_percentiles_csv(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.iter().flat_map(|r| {
            r.spans.iter().filter(|(_, h)| !h.is_empty()).flat_map(move |(tag, h)| {
                SPAN_PERCENTILES.iter().map(move |&percentile| SpanPercentileRow {
                    collector: &r.collector,
                    tag,
                    percentile,
                    latency_ns: match percentile {
                        p if p <= 0.0 => h.min(),
                        p if p >= 100.0 => h.max(),
                        p => h.value_at_quantile(p / 100.0),
                    },
                })
            })
        }),
        &["collector", "tag", "percentile", "latency_ns"],
    )
}

#[derive(Serialize)]
struct MmuRow<'a> {
    collector: &'a str,
    window_ns: u64,
    mmu: f64,
    bmu: f64,
}

#[derive(Serialize)]
struct PhaseRow<'a> {
    collector: &'a str,
    phase: &'a str,
    count: u64,
    p50_ns: u64,
    p99_ns: u64,
    max_ns: u64,
    total_ns: u64,
}

#[derive(Serialize)]
struct CauseRow {
    cause: &'static str,
    placement: &'static str,
    count: u64,
    bytes: u64,
}

fn csv_bytes<T: Serialize>(rows: impl IntoIterator<Item = T>, header: &[&str]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.serialize(r).map_err(std::io::Error::other)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// Writes `bytes` to `path` via a temporary file in the same directory and
/// a rename, so readers see the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Everything a `gcwb run` writes.
pub struct RunOutputs<'a> {
    pub rows: &'a [SummaryRow],
    pub runs: &'a [RunResult],
    pub analysis: &'a Analysis,
    pub placements: &'a [Place],
}

/// Writes the CSV files of a run into `dir`. All files are rendered first,
/// then each is renamed into place.
pub fn write_run(dir: &Path, out: &RunOutputs<'_>) -> std::io::Result<()> {
    let summary = csv_bytes(out.rows.iter(), &summary_header())?;
    let pauses = pauses_csv(
        out.runs.iter().flat_map(|r| r.pauses.iter().map(move |p| (r.collector.as_str(), p, Some(p.ttsp_ns)))),
    )?;
    let cycles = csv_bytes(
        out.runs.iter().flat_map(|r| {
            r.cycles.iter().map(move |c| CycleRow {
                collector: &r.collector,
                gc: c.cycle,
                trigger: c.trigger.map(|t| t.name()),
                start_ns: c.start_ns,
                end_ns: c.end_ns,
                heap_live_before: c.heap_live_before,
                marked_bytes: c.marked_bytes,
                marked_objects: c.marked_objects,
                mark_ns: c.mark_ns,
                mark_cpu_ns: c.mark_cpu_ns,
                sweep_ns: c.sweep_ns,
                freed_bytes: c.freed_bytes,
                freed_objects: c.freed_objects,
                next_goal: c.next_goal,
                heap_live_after: c.heap_live_after,
                young_bytes: c.young_bytes,
                promoted_bytes: c.promoted_bytes,
                copied_bytes: c.copied_bytes,
                survival_rate: (c.young_bytes > 0)
                    .then(|| (c.promoted_bytes + c.copied_bytes) as f64 / c.young_bytes as f64),
                dirty_cards: c.dirty_cards,
            })
        }),
        &[
            "collector",
            "gc",
            "trigger",
            "start_ns",
            "end_ns",
            "heap_live_before",
            "marked_bytes",
            "marked_objects",
            "mark_ns",
            "mark_cpu_ns",
            "sweep_ns",
            "freed_bytes",
            "freed_objects",
            "next_goal",
            "heap_live_after",
            "young_bytes",
            "promoted_bytes",
            "copied_bytes",
            "survival_rate",
            "dirty_cards",
        ],
    )?;
    let spans = csv_bytes(
        out.runs.iter().flat_map(|r| {
            r.spans.iter().map(move |(tag, h)| SpanRow {
                collector: &r.collector,
                tag,
                count: h.len(),
                p50_ns: h.value_at_quantile(0.5),
                p99_ns: h.value_at_quantile(0.99),
                p999_ns: h.value_at_quantile(0.999),
                max_ns: h.max(),
            })
        }),
        &["collector", "tag", "count", "p50_ns", "p99_ns", "p999_ns", "max_ns"],
    )?;
    let causes = csv_bytes(cause_rows(out.analysis, out.placements), &["cause", "placement", "count", "bytes"])?;
    let mmu = csv_bytes(
        out.runs.iter().flat_map(|r| {
            let u = Utilization::of_run(r);
            u.mmu_curve(&u.default_windows()).into_iter().map(move |(window_ns, mmu, bmu)| MmuRow {
                collector: &r.collector,
                window_ns,
                mmu,
                bmu,
            })
        }),
        &["collector", "window_ns", "mmu", "bmu"],
    )?;
    let phases = phases_csv(out.runs.iter().map(|r| (r.collector.as_str(), r.pauses.as_slice())))?;
    let assists = csv_bytes(
        out.runs.iter().flat_map(|r| {
            r.assists.iter().map(move |a| AssistRow {
                collector: &r.collector,
                gc: a.gc,
                goroutine: a.goroutine,
                start_ns: a.start_ns,
                duration_ns: a.duration_ns,
                work_bytes: a.work_bytes,
            })
        }),
        &["collector", "gc", "goroutine", "start_ns", "duration_ns", "work_bytes"],
    )?;
    let mut files = vec![
        ("summary.csv".to_string(), summary),
        ("assists.csv".to_string(), assists),
        ("pauses.csv".to_string(), pauses),
        ("cycles.csv".to_string(), cycles),
        ("spans.csv".to_string(), spans),
        ("span_percentiles.csv".to_string(), span_percentiles_csv(out.runs)?),
        ("causes.csv".to_string(), causes),
        ("mmu.csv".to_string(), mmu),
        ("phases.csv".to_string(), phases),
    ];
    for (i, r) in out.runs.iter().enumerate() {
        let trace = out.rows.get(i).map_or("", |row| row.trace.as_str());
        files.push((pause_log_name(&r.collector), pause_log(r, trace)?));
    }
    for (name, bytes) in files {
        write_atomically(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// The columns of `pauses.csv`.
pub const PAUSES_HEADER: [&str; 7] = ["gc", "phase", "start_ns", "duration_ns", "ttsp_ns", "trigger", "collector"];

/// The columns of `phases.csv`.
pub const PHASES_HEADER: [&str; 7] = ["collector", "phase", "count", "p50_ns", "p99_ns", "max_ns", "total_ns"];

/// `pauses.csv` from (collector, pause, time to safepoint if known) rows.
pub fn pauses_csv<'a>(rows: impl Iterator<Item = (&'a str, &'a PauseRecord, Option<u64>)>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        rows.map(|(collector, p, ttsp_ns)| PauseRow {
            gc: p.gc,
            phase: p.phase,
            start_ns: p.start_ns,
            duration_ns: p.duration_ns,
            ttsp_ns,
            trigger: p.trigger,
            collector,
        }),
        &PAUSES_HEADER,
    )
}

/// `phases.csv` from each collector's pauses ([`phase_summaries`]).
pub fn phases_csv<'a>(runs: impl Iterator<Item = (&'a str, &'a [PauseRecord])>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.flat_map(|(collector, pauses)| {
            phase_summaries(pauses).into_iter().map(move |(phase, s)| PhaseRow {
                collector,
                phase,
                count: s.count,
                p50_ns: s.p50_ns,
                p99_ns: s.p99_ns,
                max_ns: s.max_ns,
                total_ns: s.total_ns,
            })
        }),
        &PHASES_HEADER,
    )
}

/// Per-phase pause statistics (through an HdrHistogram, as in
/// [`summarize_pauses`]), phases in the order they first occur; the final
/// collection is left out, as in the summary.
pub fn phase_summaries(pauses: &[PauseRecord]) -> Vec<(&'static str, crate::metrics::PauseSummary)> {
    let mut phases: Vec<&'static str> = Vec::new();
    for p in pauses.iter().filter(|p| p.trigger != Some("final")) {
        if !phases.contains(&p.phase) {
            phases.push(p.phase);
        }
    }
    phases
        .into_iter()
        .map(|phase| {
            let of_phase: Vec<PauseRecord> = pauses.iter().filter(|p| p.phase == phase).cloned().collect();
            (phase, summarize_pauses(&of_phase))
        })
        .collect()
}

/// One interval of the pause logs: one second of replay time.
pub const PAUSE_LOG_INTERVAL_NS: u64 = 1_000_000_000;

/// The pause log's file name for `collector`: `pauses-<collector>.hlog`.
pub fn pause_log_name(collector: &str) -> String {
    let safe: String =
        collector.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("pauses-{safe}.hlog")
}

/// The pause durations of each second of the replay (`[k s, (k+1) s)`; the
/// last interval ends with the replay, and there is always one), each
/// pause counted in the second it started. The final collection, which
/// runs after the replay, is left out.
pub fn pause_intervals(r: &RunResult) -> Vec<Histogram<u64>> {
    let n = r.wall_ns.div_ceil(PAUSE_LOG_INTERVAL_NS).max(1) as usize;
    let mut intervals: Vec<Histogram<u64>> = (0..n).map(|_| new_histogram()).collect();
    for p in r.pauses.iter().filter(|p| p.trigger != Some("final")) {
        let at = p.start_ns.saturating_sub(r.replay_start_ns);
        let k = ((at / PAUSE_LOG_INTERVAL_NS) as usize).min(n - 1);
        intervals[k].saturating_record(p.duration_ns.max(1));
    }
    intervals
}

/// A run's pauses as an HdrHistogram interval log (`.hlog`, the format of
/// Java's `HistogramLogWriter`, histograms compressed with the V2 deflate
/// encoding): the format-version and description comments, `StartTime` and
/// `BaseTime` both the wall-clock start of the replay (so interval
/// timestamps are seconds into the replay), the legend, then one
/// interval per second from [`pause_intervals`], values in nanoseconds and
/// the `Interval_Max` column in milliseconds (divisor 10⁶, as Java writes
/// it).
pub fn pause_log(r: &RunResult, trace: &str) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment("[Histogram log format version 1.3]")
        .add_comment(&format!(
            "[gcwb pauses: trace {trace}, collector {}, {} procs; ns, by start time, one interval per second of \
             replay, final collection left out]",
            r.collector, r.procs
        ))
        .with_start_time(r.started_at)
        .with_base_time(r.started_at)
        .begin_log_with(&mut buf, &mut serializer)?;
    buf.extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    let mut body = Vec::new();
    let mut log =
        IntervalLogWriterBuilder::new().with_max_value_divisor(1e6).begin_log_with(&mut body, &mut serializer)?;
    for (k, h) in pause_intervals(r).iter().enumerate() {
        let start = k as u64 * PAUSE_LOG_INTERVAL_NS;
        let length = r.wall_ns.saturating_sub(start).min(PAUSE_LOG_INTERVAL_NS);
        log.write_histogram(h, Duration::from_nanos(start), Duration::from_nanos(length), None)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    buf.extend_from_slice(&body);
    Ok(buf)
}

fn cause_rows(analysis: &Analysis, placements: &[Place]) -> Vec<CauseRow> {
    let mut counts = [[(0u64, 0u64); 2]; Cause::ALL.len()];
    for (b, p) in analysis.blocks.iter().zip(placements) {
        let c = &mut counts[b.cause.index()][(*p == Place::Stack) as usize];
        c.0 += 1;
        c.1 += b.size;
    }
    let mut rows = Vec::new();
    for cause in Cause::ALL {
        for (pi, placement) in ["heap", "stack"].into_iter().enumerate() {
            let (count, bytes) = counts[cause.index()][pi];
            rows.push(CauseRow { cause: cause.name(), placement, count, bytes });
        }
    }
    rows
}

/// The column names of `summary.csv`, in order.
pub fn summary_header() -> Vec<&'static str> {
    vec![
        "trace",
        "collector",
        "procs",
        "gogc",
        "events",
        "wall_ns",
        "events_per_s",
        "allocs",
        "alloc_bytes",
        "heap_allocs",
        "stack_allocs",
        "gc_count",
        "pause_count",
        "pause_p50_ns",
        "pause_p99_ns",
        "pause_max_ns",
        "pause_total_ns",
        "ttsp_max_ns",
        "peak_heap_bytes",
        "final_live_bytes",
        "stack_growths",
        "max_stack_bytes",
        "verify_errors",
        "load_ns",
        "heap_alloc_bytes",
        "stack_alloc_bytes",
        "final_live_objects",
        "mark_total_ns",
        "marked_bytes_total",
        "no_stack",
        "dispatches",
        "dep_waits",
        "status",
        "mmu_1ms",
        "mmu_10ms",
        "mmu_100ms",
        "gc_cpu_fraction",
        "stw_full_p50_ns",
        "stw_full_p99_ns",
        "stw_full_max_ns",
        "sweep_term_p50_ns",
        "sweep_term_p99_ns",
        "sweep_term_max_ns",
        "mark_term_p50_ns",
        "mark_term_p99_ns",
        "mark_term_max_ns",
        "minor_count",
        "minor_p50_ns",
        "minor_p99_ns",
        "minor_max_ns",
        "major_count",
        "major_p50_ns",
        "major_p99_ns",
        "major_max_ns",
        "assist_count",
        "assist_total_ns",
        "mark_cpu_total_ns",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    /// Where the replay starts on the pause clock in these tests.
    const T0: u64 = 7 * MS;

    fn pause(gc: u64, phase: &'static str, at_ns: u64, duration_ns: u64, trigger: &'static str) -> PauseRecord {
        PauseRecord { gc, phase, trigger: Some(trigger), start_ns: T0 + at_ns, duration_ns, ttsp_ns: 0 }
    }

    fn run(wall_ns: u64, pauses: Vec<PauseRecord>) -> RunResult {
        RunResult {
            collector: "test-gc".to_string(),
            procs: 2,
            events: 1000,
            wall_ns,
            replay_start_ns: T0,
            started_at: std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            pauses,
            assists: Vec::new(),
            cycles: Vec::new(),
            spans: Vec::new(),
            dispatches: 0,
            dep_waits: 0,
            stack_growths: 0,
            max_stack_bytes: 0,
            peak_heap_bytes: 0,
            final_live_objects: 0,
            final_live_bytes: 0,
            violations: None,
            violation_count: 0,
            freed_by_cycle: None,
            fatal: None,
        }
    }

    fn row(r: &RunResult) -> SummaryRow {
        let ctx = RunContext {
            trace_name: "t",
            gogc: Some(100),
            no_stack: false,
            load_ns: 0,
            counts: AllocCounts::default(),
        };
        summary_row(&ctx, r)
    }

    #[test]
    fn summary_keeps_its_first_columns_and_appends_the_new_ones_in_header_order() {
        let h = summary_header();
        assert_eq!(h[22], "verify_errors");
        let status = h.iter().position(|c| *c == "status").unwrap();
        assert_eq!(h[status..status + 5], ["status", "mmu_1ms", "mmu_10ms", "mmu_100ms", "gc_cpu_fraction"]);
        assert_eq!(h[h.len() - 3..], ["assist_count", "assist_total_ns", "mark_cpu_total_ns"]);
        let r = run(200 * MS, vec![pause(1, "stw-full", 50 * MS, 2 * MS, "heap-goal")]);
        let bytes = csv_bytes([row(&r)], &h).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        let rec = rd.records().next().unwrap().unwrap();
        assert_eq!(rec.len(), h.len());
        let at = |name: &str| rec.get(h.iter().position(|c| *c == name).unwrap()).unwrap().to_string();
        assert_eq!(at("status"), "ok");
        assert_eq!(at("mmu_1ms"), "0.0");
        assert_eq!(at("mmu_10ms"), "0.8");
        assert_eq!(at("mmu_100ms"), "0.98");
        assert_eq!(at("gc_cpu_fraction"), "0.01");
        // Per-phase columns: filled for the phases the run has, empty otherwise.
        assert!((at("stw_full_max_ns").parse::<f64>().unwrap() - 2e6).abs() < 2e3);
        assert_eq!(at("sweep_term_p99_ns"), "");
        assert_eq!(at("mark_term_max_ns"), "");
        assert_eq!(at("assist_count"), "0");
    }

    #[test]
    fn assists_stall_one_worker_and_are_summed_in_the_summary() {
        let mut r = run(200 * MS, vec![pause(1, "sweep-term", 50 * MS, MS / 10, "heap-goal")]);
        // procs = 2: a 20 ms assist halves utilization while it runs.
        r.assists = vec![
            crate::metrics::AssistRecord {
                gc: 1,
                goroutine: 3,
                start_ns: T0 + 100 * MS,
                duration_ns: 20 * MS,
                work_bytes: 1 << 20,
            },
            crate::metrics::AssistRecord {
                gc: 1,
                goroutine: 4,
                start_ns: T0 + 150 * MS,
                duration_ns: MS,
                work_bytes: 1,
            },
        ];
        let s = row(&r);
        assert_eq!((s.assist_count, s.assist_total_ns), (2, 21 * MS));
        assert_eq!(s.mmu_10ms, Some(0.5));
        assert!(s.sweep_term_max_ns.is_some() && s.mark_term_max_ns.is_none());
        // Lost: the pause (0.1 ms) and half of each assist (10.5 ms), of 200 ms.
        assert!((s.gc_cpu_fraction - 10.6 / 200.0).abs() < 1e-9, "{}", s.gc_cpu_fraction);
    }

    #[test]
    fn mmu_is_on_the_replay_clock_and_leaves_out_the_final_collection() {
        // The pause at 0 on the replay clock (T0 on the pause clock) is a
        // 4 ms stretch at the start; the final collection's 50 ms pause after
        // the replay would otherwise dominate.
        let r = run(
            20 * MS,
            vec![pause(1, "stw-full", 0, 4 * MS, "heap-goal"), pause(2, "stw-full", 20 * MS, 50 * MS, "final")],
        );
        let u = Utilization::of_run(&r);
        assert_eq!(u.longest_full_pause_ns(), 4 * MS);
        assert_eq!(u.worst_window(8 * MS), (0, 0.5));
        let s = row(&r);
        assert_eq!(s.mmu_1ms, Some(0.0));
        assert_eq!(s.mmu_10ms, Some(0.6));
        assert_eq!(s.mmu_100ms, None, "no 100 ms window fits in a 20 ms replay");
        assert_eq!(s.gc_cpu_fraction, 0.2);
        assert_eq!(s.gc_cpu_fraction, s.pause_total_ns as f64 / s.wall_ns as f64);
    }

    #[test]
    fn phase_statistics_per_phase_in_order_of_first_occurrence_without_the_final_pause() {
        let ps = vec![
            pause(1, "sweep-term", 0, 100, "heap-goal"),
            pause(1, "mark-term", 10, 300, "heap-goal"),
            pause(2, "sweep-term", 20, 200, "heap-goal"),
            pause(3, "stw-full", 30, 9_000, "final"),
        ];
        let got: Vec<(&str, u64, u64, u64)> =
            phase_summaries(&ps).into_iter().map(|(p, s)| (p, s.count, s.max_ns, s.total_ns)).collect();
        assert_eq!(got, [("sweep-term", 2, 200, 300), ("mark-term", 1, 300, 300)]);
    }

    #[test]
    fn span_percentiles_climb_the_nines_ladder_for_each_tag_with_requests() {
        let mut r = run(S, Vec::new());
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 1000).unwrap();
        }
        r.spans = vec![("req".to_string(), h), ("idle".to_string(), new_histogram())];
        let bytes = span_percentiles_csv(&[r]).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(rd.headers().unwrap(), vec!["collector", "tag", "percentile", "latency_ns"]);
        let rows: Vec<(String, f64, u64)> = rd
            .records()
            .map(|r| r.unwrap())
            .map(|r| (r[1].to_string(), r[2].parse().unwrap(), r[3].parse().unwrap()))
            .collect();
        assert_eq!(rows.len(), SPAN_PERCENTILES.len(), "the tag without requests has no rows");
        assert!(rows.iter().all(|r| r.0 == "req"));
        assert_eq!((rows[0].1, rows[0].2), (0.0, 1000));
        assert_eq!(rows[10].1, 100.0);
        assert!(rows[10].2 >= 10_000_000 && rows[10].2 < 10_010_000, "the max, to 3 digits: {}", rows[10].2);
        let p999 = rows.iter().find(|r| r.1 == 99.9).unwrap().2 as f64;
        assert!((p999 / 9_990_000.0 - 1.0).abs() < 1e-3, "{p999}");
        assert!(rows.windows(2).all(|w| w[0].2 <= w[1].2));
    }

    #[test]
    fn pause_intervals_count_each_pause_in_the_second_it_started() {
        let r = run(
            2 * S + 500 * MS,
            vec![
                pause(1, "stw-full", 0, 5 * MS, "heap-goal"),
                pause(2, "stw-full", S - 1, 7 * MS, "heap-goal"),
                pause(3, "stw-full", 2 * S + 100 * MS, 3 * MS, "heap-goal"),
                pause(4, "stw-full", 2 * S + 600 * MS, 80 * MS, "final"),
            ],
        );
        let counts: Vec<u64> = pause_intervals(&r).iter().map(|h| h.len()).collect();
        assert_eq!(counts, [2, 0, 1]);
        assert_eq!(pause_intervals(&run(0, Vec::new())).len(), 1, "an empty replay still has one interval");
    }

    #[test]
    fn pause_log_is_a_standard_interval_log() {
        let r = run(
            2 * S + 500 * MS,
            vec![pause(1, "stw-full", 0, 5 * MS, "heap-goal"), pause(2, "stw-full", 2 * S, 3 * MS, "heap-goal")],
        );
        let log = pause_log(&r, "t").unwrap();
        let text = String::from_utf8(log.clone()).unwrap();
        assert!(text.starts_with("#[Histogram log format version 1.3]\n"), "{text}");
        let mut starts = Vec::new();
        let mut intervals = Vec::new();
        for e in IntervalLogIterator::new(&log) {
            match e.expect("parses") {
                LogEntry::StartTime(t) | LogEntry::BaseTime(t) => starts.push(t.as_secs()),
                LogEntry::Interval(i) => intervals.push((i.start_timestamp(), i.duration(), i.max())),
            }
        }
        assert_eq!(starts, [1_700_000_000, 1_700_000_000]);
        let secs = |ms: u64| Duration::from_millis(ms);
        assert_eq!(intervals.len(), 3);
        assert_eq!((intervals[0].0, intervals[0].1), (secs(0), secs(1000)));
        assert_eq!((intervals[2].0, intervals[2].1), (secs(2000), secs(500)));
        // Interval_Max in milliseconds, to the histogram's 3 digits.
        assert!((intervals[0].2 - 5.0).abs() < 0.01, "{:?}", intervals[0]);
        assert_eq!(intervals[1].2, 0.0);
        assert_eq!(pause_log_name("mark-sweep"), "pauses-mark-sweep.hlog");
        assert_eq!(pause_log_name("a/b c"), "pauses-a_b_c.hlog");
    }
}

//! Results on disk: `summary.csv`, `pauses.csv`, `cycles.csv`, `spans.csv`
//! and `causes.csv`, in a form pandas and R read directly (a header row,
//! plain numbers, empty cells for missing values), each written to a
//! temporary file and renamed into place so no result is ever half-written.

use crate::metrics::summarize_pauses;
use crate::replay::RunResult;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use workloads::analysis::{Analysis, Place};
use workloads::model::{Cause, Trace};

/// One row of `summary.csv`: one replay of one trace by one collector.
/// The first columns are the ones gcwb promises; more follow.
#[derive(Clone, Debug, Serialize)]
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
    let gc_count = r.cycles.iter().filter(|c| c.trigger != Some(collectors::Trigger::Final)).count() as u64;
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
    }
}

#[derive(Serialize)]
struct PauseRow<'a> {
    gc: u64,
    phase: &'a str,
    start_ns: u64,
    duration_ns: u64,
    ttsp_ns: u64,
    trigger: Option<&'a str>,
    collector: &'a str,
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
    sweep_ns: u64,
    freed_bytes: u64,
    freed_objects: u64,
    next_goal: u64,
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
    pub trace: &'a Trace,
    pub analysis: &'a Analysis,
    pub placements: &'a [Place],
}

/// Writes the CSV files of a run into `dir`. All files are rendered first,
/// then each is renamed into place.
pub fn write_run(dir: &Path, out: &RunOutputs<'_>) -> std::io::Result<()> {
    let summary = csv_bytes(out.rows.iter(), &summary_header())?;
    let pauses = csv_bytes(
        out.runs.iter().flat_map(|r| {
            r.pauses.iter().map(move |p| PauseRow {
                gc: p.gc,
                phase: p.phase,
                start_ns: p.start_ns,
                duration_ns: p.duration_ns,
                ttsp_ns: p.ttsp_ns,
                trigger: p.trigger,
                collector: &r.collector,
            })
        }),
        &["gc", "phase", "start_ns", "duration_ns", "ttsp_ns", "trigger", "collector"],
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
                sweep_ns: c.sweep_ns,
                freed_bytes: c.freed_bytes,
                freed_objects: c.freed_objects,
                next_goal: c.next_goal,
            })
        }),
        &[
            "collector", "gc", "trigger", "start_ns", "end_ns", "heap_live_before", "marked_bytes", "marked_objects",
            "mark_ns", "sweep_ns", "freed_bytes", "freed_objects", "next_goal",
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
    for (name, bytes) in
        [("summary.csv", summary), ("pauses.csv", pauses), ("cycles.csv", cycles), ("spans.csv", spans), ("causes.csv", causes)]
    {
        write_atomically(&dir.join(name), &bytes)?;
    }
    Ok(())
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
        "trace", "collector", "procs", "gogc", "events", "wall_ns", "events_per_s", "allocs", "alloc_bytes",
        "heap_allocs", "stack_allocs", "gc_count", "pause_count", "pause_p50_ns", "pause_p99_ns", "pause_max_ns",
        "pause_total_ns", "ttsp_max_ns", "peak_heap_bytes", "final_live_bytes", "stack_growths", "max_stack_bytes",
        "verify_errors", "load_ns", "heap_alloc_bytes", "stack_alloc_bytes", "final_live_objects", "mark_total_ns",
        "marked_bytes_total", "no_stack", "dispatches", "dep_waits", "status",
    ]
}

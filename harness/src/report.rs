//! Results on disk: `summary.csv`, `pauses.csv`, `safepoints.csv` (each
//! running worker's way to each pause's safepoint), `assists.csv`,
//! `gc_slices.csv`, `cycles.csv`, `spans.csv`, `span_percentiles.csv`,
//! `span_log.csv.gz` ([`spans`]), `causes.csv`, `mmu.csv` and
//! `phases.csv`, in a form pandas and R read
//! directly (a header row, plain numbers, empty cells for missing values),
//! plus one HdrHistogram interval log of pauses per collector,
//! `pauses-<collector>.hlog` ([`pause_log`]). Each file is written to a
//! temporary file and renamed into place so no result is ever half-written.
//!
//! The columns of `summary.csv` and `cycles.csv` are described, and their
//! cells read, in [`crate::columns`]; the summary rows themselves are
//! computed in [`crate::summary`].

mod spans;

pub use spans::{span_percentiles_csv, summaries as span_summaries, SPAN_PERCENTILES};

use crate::columns::{self, cycles::CycleRow};
use crate::metrics::{new_histogram, phase_summaries, GcSliceRecord, PauseRecord};
use crate::mmu::Utilization;
use crate::replay::RunResult;
use crate::summary::run_utilization;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use workloads::analysis::{Analysis, Place};
use workloads::model::Cause;

/// A run's summary row and what it is computed from, where the run layer
/// and the commands have always found them (they live in [`crate::summary`]).
pub use crate::summary::{alloc_counts, summary_row, AllocCounts, RunContext, SummaryRow};

/// Nanoseconds as milliseconds, `1.234 ms`.
pub fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// Parses a byte count: digits with an optional unit B, KiB, MiB, GiB, TiB
/// (the one reader of sizes, shared with the collectors' byte options).
pub use collectors::plan_options::parse_bytes;

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
    /// The worker the pause waited for (its last to reach a safepoint):
    /// empty when no worker was running a goroutine, and for imports.
    late_worker: Option<usize>,
    late_at: Option<&'a str>,
    late_off_cpu_ns: Option<u64>,
    /// [`PauseRecord::ttsp_on_cpu_ns`]; empty for imports.
    ttsp_on_cpu_ns: Option<u64>,
}

/// One row of `safepoints.csv`: a worker that was running a goroutine when
/// a pause was requested.
#[derive(Serialize)]
struct SafepointRow<'a> {
    gc: u64,
    phase: &'a str,
    pause_start_ns: u64,
    worker: usize,
    ttsp_ns: u64,
    at: &'a str,
    off_cpu_ns: Option<u64>,
    collector: &'a str,
}

/// The columns of `safepoints.csv`.
pub const SAFEPOINTS_HEADER: [&str; 8] =
    ["gc", "phase", "pause_start_ns", "worker", "ttsp_ns", "at", "off_cpu_ns", "collector"];

/// `safepoints.csv`: for every pause of every run, a row per worker that
/// was running a goroutine when it was requested, in the order they
/// arrived (the last is the pause's `late_worker`).
pub fn safepoints_csv(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.iter().flat_map(|r| {
            r.pauses.iter().flat_map(move |p| {
                p.safepoints.iter().map(move |a| SafepointRow {
                    gc: p.gc,
                    phase: p.phase,
                    pause_start_ns: p.start_ns,
                    worker: a.worker,
                    ttsp_ns: a.ttsp_ns,
                    at: a.at.name(),
                    off_cpu_ns: a.off_cpu_ns,
                    collector: &r.collector,
                })
            })
        }),
        &SAFEPOINTS_HEADER,
    )
}

/// One row of `assists.csv`: a mutator thread held up by the collector —
/// a gcwb goroutine's mark assist, or an imported runtime's thread stall
/// (ZGC's `Allocation Stall`). Cells a source does not know are `None`
/// (written empty).
#[derive(Clone, Debug, Serialize)]
pub struct AssistRow<'a> {
    pub collector: &'a str,
    pub gc: Option<u64>,
    pub goroutine: Option<usize>,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub work_bytes: Option<u64>,
    /// `mark-assist` for gcwb; an import's stall kind (`allocation-stall`,
    /// `relocation-stall`).
    pub kind: &'a str,
    /// The stalled thread's name in an imported log; empty for gcwb.
    pub thread: &'a str,
}

/// The columns of `assists.csv`.
pub const ASSISTS_HEADER: [&str; 8] =
    ["collector", "gc", "goroutine", "start_ns", "duration_ns", "work_bytes", "kind", "thread"];

/// `assists.csv` from its rows.
pub fn assists_csv<'a>(rows: impl IntoIterator<Item = AssistRow<'a>>) -> std::io::Result<Vec<u8>> {
    csv_bytes(rows, &ASSISTS_HEADER)
}

/// One row of `gc_slices.csv`: a slice of the collector's background work
/// on a worker ([`GcSliceRecord`]).
#[derive(Serialize)]
struct GcSliceRow<'a> {
    gc: u64,
    worker: usize,
    mode: &'static str,
    start_ns: u64,
    duration_ns: u64,
    cpu_ns: u64,
    collector: &'a str,
}

/// The columns of `gc_slices.csv`.
pub const GC_SLICES_HEADER: [&str; 7] = ["gc", "worker", "mode", "start_ns", "duration_ns", "cpu_ns", "collector"];

/// `gc_slices.csv`: every slice of every run's background work, in each
/// run's time order; only the header when no run had any.
pub fn gc_slices_csv(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.iter().flat_map(|r| {
            r.gc_slices.iter().map(|s: &GcSliceRecord| GcSliceRow {
                gc: s.gc,
                worker: s.worker,
                mode: s.mode.name(),
                start_ns: s.start_ns,
                duration_ns: s.duration_ns,
                cpu_ns: s.cpu_ns,
                collector: &r.collector,
            })
        }),
        &GC_SLICES_HEADER,
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

/// `summary.csv`: one row per run, in the columns of [`columns::SUMMARY`].
pub fn summary_csv(rows: &[SummaryRow]) -> std::io::Result<Vec<u8>> {
    csv_bytes(rows.iter().map(columns::record), &columns::header())
}

/// `cycles.csv`: every collection of every run, in the columns of
/// [`columns::cycles::CYCLES`].
pub fn cycles_csv(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.iter().flat_map(|r| {
            r.cycles.iter().map(|record| columns::cycles::record(&CycleRow { collector: &r.collector, record }))
        }),
        &columns::cycles::header(),
    )
}

/// Writes `bytes` to `path` via a temporary file in the same directory and
/// a rename, so readers see the old file or the new one, never half of one.
/// On any error (a full disk while writing or syncing, a failed rename) the
/// temporary is removed: nothing is left behind but the old file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |f| f.write_all(bytes))
}

/// [`write_atomically`] with the temporary's contents written by `write`.
fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    let written = write(&mut f).and_then(|()| f.sync_all());
    drop(f);
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

#[cfg(test)]
mod atomic_write_tests {
    use super::*;

    /// Lists the files in `dir`.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_atomic_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("causes.csv");
        std::fs::write(&path, "old\n").unwrap();
        // The disk fills up halfway through the write.
        let e = write_atomically_with(&path, |f| {
            f.write_all(b"half of the ")?;
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        })
        .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(names_in(dir.path()), ["causes.csv"], "the temporary is removed");
        // The rename fails: a non-empty directory is in the way.
        let blocked = dir.path().join("summary.csv");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "").unwrap();
        assert!(write_atomically(&blocked, b"new").is_err());
        assert_eq!(names_in(dir.path()), ["causes.csv", "summary.csv"], "the temporary is removed");
        // And a write that succeeds replaces the file.
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(names_in(dir.path()), ["causes.csv", "summary.csv"]);
    }
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
    let summary = summary_csv(out.rows)?;
    let pauses = pauses_csv(
        out.runs.iter().flat_map(|r| r.pauses.iter().map(move |p| (r.collector.as_str(), p, Some(p.ttsp_ns)))),
    )?;
    let safepoints = safepoints_csv(out.runs)?;
    let cycles = cycles_csv(out.runs)?;
    let causes = csv_bytes(cause_rows(out.analysis, out.placements), &["cause", "placement", "count", "bytes"])?;
    let mmu = mmu_csv(out.runs.iter().map(|r| (r.collector.as_str(), run_utilization(r))))?;
    let phases = phases_csv(out.runs.iter().map(|r| (r.collector.as_str(), r.pauses.as_slice())))?;
    let assists = assists_csv(out.runs.iter().flat_map(|r| {
        r.assists.iter().map(move |a| AssistRow {
            collector: &r.collector,
            gc: Some(a.gc),
            goroutine: Some(a.goroutine),
            start_ns: a.start_ns,
            duration_ns: a.duration_ns,
            work_bytes: Some(a.work_bytes),
            kind: "mark-assist",
            thread: "",
        })
    }))?;
    let span_summaries = span_summaries(out.runs);
    let mut files = vec![
        ("summary.csv".to_string(), summary),
        ("assists.csv".to_string(), assists),
        ("gc_slices.csv".to_string(), gc_slices_csv(out.runs)?),
        ("pauses.csv".to_string(), pauses),
        ("safepoints.csv".to_string(), safepoints),
        ("cycles.csv".to_string(), cycles),
        ("spans.csv".to_string(), spans::spans_csv(&span_summaries)?),
        ("span_percentiles.csv".to_string(), span_percentiles_csv(&span_summaries)?),
        ("span_log.csv.gz".to_string(), spans::span_log_csv_gz(out.runs)?),
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

/// `mmu.csv`: each collector's MMU and BMU curve at the default windows
/// ([`crate::mmu::Utilization::default_windows`]).
pub fn mmu_csv<'a>(runs: impl Iterator<Item = (&'a str, Utilization)>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        runs.flat_map(|(collector, u)| {
            u.mmu_curve(&u.default_windows()).into_iter().map(move |(window_ns, mmu, bmu)| MmuRow {
                collector,
                window_ns,
                mmu,
                bmu,
            })
        }),
        &["collector", "window_ns", "mmu", "bmu"],
    )
}

/// The columns of `pauses.csv`.
pub const PAUSES_HEADER: [&str; 11] = [
    "gc",
    "phase",
    "start_ns",
    "duration_ns",
    "ttsp_ns",
    "trigger",
    "collector",
    "late_worker",
    "late_at",
    "late_off_cpu_ns",
    "ttsp_on_cpu_ns",
];

/// The columns of `phases.csv`.
pub const PHASES_HEADER: [&str; 7] = ["collector", "phase", "count", "p50_ns", "p99_ns", "max_ns", "total_ns"];

/// `pauses.csv` from (collector, pause, time to safepoint if known) rows;
/// the late worker's columns from the pause's [`PauseRecord::late_worker`].
pub fn pauses_csv<'a>(rows: impl Iterator<Item = (&'a str, &'a PauseRecord, Option<u64>)>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        rows.map(|(collector, p, ttsp_ns)| {
            let late = p.late_worker();
            PauseRow {
                gc: p.gc,
                phase: p.phase,
                start_ns: p.start_ns,
                duration_ns: p.duration_ns,
                ttsp_ns,
                trigger: p.trigger,
                collector,
                late_worker: late.map(|a| a.worker),
                late_at: late.map(|a| a.at.name()),
                late_off_cpu_ns: late.and_then(|a| a.off_cpu_ns),
                ttsp_on_cpu_ns: ttsp_ns.map(|_| p.ttsp_on_cpu_ns()),
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::{SpanRecord, TimeSplit};
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use crate::summary::tests::{pause, row, run};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn summary_keeps_its_first_columns_and_appends_the_new_ones_in_header_order() {
        let h = columns::header();
        assert_eq!(h[22], "verify_errors");
        let status = h.iter().position(|c| *c == "status").unwrap();
        assert_eq!(h[status..status + 5], ["status", "mmu_1ms", "mmu_10ms", "mmu_100ms", "gc_cpu_fraction"]);
        let assists = h.iter().position(|c| *c == "assist_count").unwrap();
        assert_eq!(h[assists..assists + 3], ["assist_count", "assist_total_ns", "mark_cpu_total_ns"]);
        let used = h.iter().position(|c| *c == "background_mark_cpu_ns").unwrap();
        assert_eq!(h[used..used + 3], ["background_mark_cpu_ns", "background_thread_cpu_ns", "gc_cpu_used_fraction"]);
        let metered = h.iter().position(|c| *c == "span_metered_p99_ns").unwrap();
        assert_eq!(h[metered + 1], "span_wall_p99_ns");
        let imported = h.iter().position(|c| *c == "imported_from").unwrap();
        assert_eq!(h[imported - 1], "assist_max_ns");
        assert_eq!(
            h[imported + 1..],
            [
                "mark_worker_ns",
                "idle_mark_ns",
                "gc_slice_count",
                "process_cpu_ns",
                "gc_wall_ns",
                "gc_cpu_ns",
                "distilled_wall_ns",
                "distilled_cpu_ns",
                "pause_p99_on_cpu_ns",
                "pause_max_on_cpu_ns"
            ]
        );
        let r = run(200 * MS, vec![pause(1, "stw-full", 50 * MS, 2 * MS, "heap-goal")]);
        let bytes = summary_csv(&[row(&r)]).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(rd.headers().unwrap(), h);
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
    fn cycles_are_written_in_the_registry_columns() {
        let mut r = run(S, Vec::new());
        r.cycles = vec![collectors::CycleRecord {
            cycle: 1,
            trigger: Some(collectors::Trigger::Final),
            extra: vec![("young_bytes", 8.0), ("promoted_bytes", 1.0), ("copied_bytes", 1.0), ("survival_rate", 0.25)],
            ..Default::default()
        }];
        let text = String::from_utf8(cycles_csv(&[r]).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], columns::cycles::header().join(","));
        // The fixed columns, then one per registered metric: the value
        // reported, or empty (dirty_cards, and any other plan's).
        let reported = |name: &str| match name {
            "young_bytes" => "8",
            "promoted_bytes" | "copied_bytes" => "1",
            "survival_rate" => "0.25",
            _ => "",
        };
        let metrics: Vec<&str> = collectors::registry::all_cycle_metrics().iter().map(|m| reported(m.name)).collect();
        assert_eq!(lines[1], format!("test-gc,1,final,0,0,0,0,0,0,0,0,0,0,0,0,0,{}", metrics.join(",")));
    }

    #[test]
    fn gc_slices_are_one_row_each_and_only_a_header_without_any() {
        use crate::metrics::GcSliceRecord;
        use collectors::background::Mode;
        let quiet = run(S, Vec::new());
        let text = String::from_utf8(gc_slices_csv(std::slice::from_ref(&quiet)).unwrap()).unwrap();
        assert_eq!(text, "gc,worker,mode,start_ns,duration_ns,cpu_ns,collector\n");
        let mut busy = run(S, Vec::new());
        busy.collector = "concurrent".to_string();
        busy.gc_slices = vec![
            GcSliceRecord { gc: 2, worker: 1, mode: Mode::Fractional, start_ns: 10, duration_ns: 20, cpu_ns: 15 },
            GcSliceRecord { gc: 2, worker: 0, mode: Mode::Idle, start_ns: 40, duration_ns: 5, cpu_ns: 5 },
            GcSliceRecord { gc: 3, worker: 3, mode: Mode::Dedicated, start_ns: 90, duration_ns: 7, cpu_ns: 6 },
        ];
        let text = String::from_utf8(gc_slices_csv(&[quiet, busy]).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], GC_SLICES_HEADER.join(","));
        assert_eq!(
            lines[1..],
            ["2,1,fractional,10,20,15,concurrent", "2,0,idle,40,5,5,concurrent", "3,3,dedicated,90,7,6,concurrent"]
        );
    }

    #[test]
    fn span_percentiles_climb_the_nines_ladder_for_each_tag_with_requests() {
        let mut r = run(S, Vec::new());
        // 10,000 requests 1 ms apart of 1 .. 10 µs; half of each one's wall
        // time was spent waiting on another goroutine.
        r.span_records = (1..=10_000u64)
            .map(|v| SpanRecord {
                tag: 0,
                goroutine: 1,
                start_ns: v * MS,
                wall_ns: 2 * v * 1000,
                split: TimeSplit { dep_wait_ns: v * 1000, ..TimeSplit::default() },
            })
            .collect();
        r.span_tags = vec!["req".to_string(), "idle".to_string()];
        let runs = [r];
        let bytes = span_percentiles_csv(&span_summaries(&runs)).unwrap();
        let mut rd = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(
            rd.headers().unwrap(),
            vec!["collector", "tag", "percentile", "latency_ns", "wall_ns", "metered_100ms_ns", "metered_full_ns"]
        );
        let rows: Vec<(String, f64, u64, u64, u64)> = rd
            .records()
            .map(|r| r.unwrap())
            .map(|r| {
                (
                    r[1].to_string(),
                    r[2].parse().unwrap(),
                    r[3].parse().unwrap(),
                    r[4].parse().unwrap(),
                    r[5].parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows.len(), SPAN_PERCENTILES.len(), "the tag without requests has no rows");
        assert!(rows.iter().all(|r| r.0 == "req"));
        assert_eq!((rows[0].1, rows[0].2, rows[0].3), (0.0, 1000, 2000));
        assert_eq!(rows[10].1, 100.0);
        assert!(rows[10].2 >= 10_000_000 && rows[10].2 < 10_010_000, "the max, to 3 digits: {}", rows[10].2);
        let p999 = rows.iter().find(|r| r.1 == 99.9).unwrap().2 as f64;
        assert!((p999 / 9_990_000.0 - 1.0).abs() < 1e-3, "{p999}");
        assert!(rows.windows(2).all(|w| w[0].2 <= w[1].2));
        // Evenly started requests: metered is the latency.
        assert!(rows.iter().all(|r| r.4 == r.2), "{rows:?}");
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

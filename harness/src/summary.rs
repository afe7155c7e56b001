//! One replay, summed up: the [`SummaryRow`] that is one line of
//! `summary.csv`, computed from the replay's [`RunResult`] and the context
//! the result does not carry ([`RunContext`]).
//!
//! This module only computes rows. Which fields are columns, in what order,
//! in what unit and how each cell is written is said once, in
//! [`crate::columns`]; [`crate::report`] writes the file from there.
//! [`run_utilization`] is where a replay meets the pure mathematics of
//! [`crate::mmu`]: it turns the run's pauses and assists into the plain
//! intervals [`Utilization::new`] takes.

use crate::metrics::{new_histogram, phase_summaries, summarize_pauses};
use crate::mmu::{Reduced, Utilization};
use crate::replay::{Fatal, RunResult};
use collectors::Phase;
use hdrhistogram::Histogram;
use workloads::analysis::{Analysis, Place};

/// One row of `summary.csv`: one replay of one trace by one collector.
/// Its columns, their order and their units are [`crate::columns::SUMMARY`].
#[derive(Clone, Debug, Default)]
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
    /// procs) = pause_total_ns / wall_ns`. Over the replay only (the final
    /// collection left out). Background work takes a processor from the
    /// mutator only on a dedicated or fractional slice (one of `procs`
    /// workers while it runs, as [`run_utilization`] counts it); an idle
    /// slice, or a collector's own thread, takes nothing and is not
    /// counted: the collector's CPU time, which counts it, is
    /// [`SummaryRow::gc_cpu_used_fraction`].
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
    /// CPU time the collector's background mark workers spent marking while
    /// the mutators ran ([`collectors::CycleRecord::background_mark_cpu_ns`]:
    /// for the concurrent collector its mark slices of every mode, mark
    /// termination left out), summed over the cycles of the replay (the
    /// final collection left out).
    pub background_mark_cpu_ns: u64,
    /// CPU time of the collector's background work during the replay
    /// ([`RunResult::background_thread_cpu_ns`]): its slices on the workers
    /// (`gc_slices.csv`'s `cpu_ns` added up: marking, mark termination,
    /// sweeping) and what was left of it when the mutators finished.
    pub background_thread_cpu_ns: u64,
    /// The collector's CPU time over all the processors' time, as Go's
    /// gctrace percentage and `GCCPUFraction` count it: every stop-the-world
    /// pause on all `procs` processors, the mark assists, and the background
    /// mark workers' CPU time, over `wall_ns × procs` (the final collection
    /// left out). Unlike [`SummaryRow::gc_cpu_fraction`] it counts work the
    /// collector did beside the mutators, not only the time it took from them.
    ///
    /// The background slices' CPU time is in it once: their marking as
    /// `background_mark_cpu_ns`, mark termination (which runs in a slice)
    /// as its pause. Their sweeping is not, as Go's figure does not count
    /// its background sweeper; nor is their wall time (`mark_worker_ns`),
    /// which holds the mark-termination pause a second time and, on a busy
    /// host, time the kernel ran something else. Unlike Go, which leaves
    /// idle mark workers out, marking on idle workers counts.
    pub gc_cpu_used_fraction: f64,
    /// Request spans of every tag together ([`crate::latency`]): how many,
    /// the headline latency's percentiles, DaCapo's metered p99 (100 ms
    /// window) and the wall-time p99 (replayer waits included).
    pub span_count: u64,
    pub span_p50_ns: Option<u64>,
    pub span_p99_ns: Option<u64>,
    pub span_p999_ns: Option<u64>,
    pub span_metered_p99_ns: Option<u64>,
    pub span_wall_p99_ns: Option<u64>,
    /// The longest single mark assist; `None` without one.
    pub assist_max_ns: Option<u64>,
    /// The log format an imported row was read from; empty for a replay
    /// (an import writes its own row: [`crate::import`]).
    pub imported_from: String,
    /// The collector's background work on the workers (`gc_slices.csv`,
    /// [`crate::metrics::GcSliceRecord`]): the wall time of its dedicated
    /// and fractional slices — processor time the mutator lost to it, as
    /// [`run_utilization`] counts it — and of its idle slices (marking or
    /// sweeping on workers with nothing to run: nothing lost), and how many
    /// slices there were. Zero for a collector with no background work;
    /// empty for an imported log.
    pub mark_worker_ns: Option<u64>,
    pub idle_mark_ns: Option<u64>,
    pub gc_slice_count: Option<u64>,
    /// CPU time of every thread of the process over the replay
    /// ([`RunResult::process_cpu_ns`]); empty for an import.
    pub process_cpu_ns: Option<u64>,
    /// The wall time the collector can be charged with explicitly
    /// ([`crate::lbo`]): the mutator time it took, over the processors —
    /// `gc_cpu_fraction × wall_ns` (every pause whole, a mark assist or a
    /// dedicated slice as the one processor of `procs` it held). Empty for
    /// an import.
    pub gc_wall_ns: Option<u64>,
    /// The CPU time the collector's work took, on every thread
    /// ([`RunResult::gc_cpu_ns`]). Empty for an import.
    pub gc_cpu_ns: Option<u64>,
    /// `wall_ns − gc_wall_ns` and `process_cpu_ns − gc_cpu_ns`: the run's
    /// cost with what is attributed to the collector taken out, which
    /// [`crate::lbo`] takes the minimum of over the collectors compared.
    pub distilled_wall_ns: Option<u64>,
    pub distilled_cpu_ns: Option<u64>,
    /// p99 and maximum of the pauses with each late worker's measured time
    /// off its processor taken out ([`crate::metrics::PauseRecord::on_cpu_ns`]):
    /// the pauses as the design makes them, on a machine whose kernel or
    /// host deschedules workers. Empty for an import.
    pub pause_p99_on_cpu_ns: Option<u64>,
    pub pause_max_on_cpu_ns: Option<u64>,
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

/// A replay's mutator utilization on its own span `[0, wall_ns]`
/// ([`mutator_utilization`]): every stop-the-world pause at utilization 0,
/// every mark assist as one of the `procs` workers stalled (`1 - 1/procs`).
/// Pauses and assists are on the clock of
/// [`crate::metrics::PauseRecord::start_ns`], so each is moved by
/// `replay_start_ns` (one that started before the replay starts at 0). The
/// final collection gcwb runs after the replay (trigger `final`) is a
/// measuring device and is left out, as in the summary's pause statistics.
pub fn run_utilization(r: &RunResult) -> Utilization {
    let at = |start_ns: u64| start_ns.saturating_sub(r.replay_start_ns);
    let pauses = r.pauses.iter().filter(|p| p.trigger != Some("final")).map(|p| (at(p.start_ns), p.duration_ns));
    let assists = r.assists.iter().map(|a| (at(a.start_ns), a.duration_ns));
    // As in Go's MMU (internal/trace/gc.go, MutatorUtilization with
    // UtilBackground, which skips "GC (idle)" workers): a worker running a
    // dedicated or fractional slice of background marking is a P the
    // mutator lost; an idle slice ran on a P nothing else wanted.
    let slices = r.gc_slices.iter().filter(|s| s.mode.takes_mutator_time()).map(|s| (at(s.start_ns), s.duration_ns));
    mutator_utilization(r.wall_ns, r.procs, pauses, assists.chain(slices), std::iter::empty())
}

/// Worker time lost to the collector, known only as a total over an
/// interval (Go's assist CPU time per cycle, Shenandoah's pacing per
/// report): `lost_ns` of one worker's time somewhere in `[start_ns,
/// end_ns]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostTotal {
    pub start_ns: u64,
    pub end_ns: u64,
    pub lost_ns: u64,
}

/// The mutator's utilization over `[0, wall_ns]` of a program whose work
/// runs on `procs` workers: each stop-the-world pause `(start_ns,
/// duration_ns)` at utilization 0; each stall of one worker (a mark assist,
/// a JVM thread's allocation stall) as one of the `procs` workers stopped
/// (`1 - 1/procs`) while it lasts; each [`LostTotal`] spread evenly over
/// its interval (`1 - lost/(interval × procs)`). The one model of lost
/// mutator time, for replays ([`run_utilization`]) and imported logs
/// alike; [`crate::mmu`] does the mathematics.
pub fn mutator_utilization(
    wall_ns: u64,
    procs: usize,
    pauses: impl IntoIterator<Item = (u64, u64)>,
    stalls: impl IntoIterator<Item = (u64, u64)>,
    totals: impl IntoIterator<Item = LostTotal>,
) -> Utilization {
    let procs = procs.max(1) as f64;
    let pauses = pauses.into_iter().map(|(start, d)| Reduced::pause(start, start.saturating_add(d)));
    // A stall holds up one worker of `procs`.
    let stalled = 1.0 - 1.0 / procs;
    let stalls = stalls.into_iter().map(move |(start, d)| Reduced {
        start_ns: start,
        end_ns: start.saturating_add(d),
        util: stalled,
    });
    let totals = totals.into_iter().filter(|t| t.end_ns > t.start_ns).map(move |t| Reduced {
        start_ns: t.start_ns,
        end_ns: t.end_ns,
        util: 1.0 - (t.lost_ns as f64 / (t.end_ns - t.start_ns) as f64).min(1.0) / procs,
    });
    Utilization::new(wall_ns, pauses.chain(stalls).chain(totals))
}

/// The summary row of one run.
pub fn summary_row(ctx: &RunContext<'_>, r: &RunResult) -> SummaryRow {
    let p = summarize_pauses(&r.pauses);
    let util = run_utilization(r);
    let spans = AllSpans::of(r);
    let mmu = |window_ns: u64| (window_ns <= r.wall_ns).then(|| util.mmu(window_ns));
    let gc_count = r.cycles.iter().filter(|c| c.trigger != Some(collectors::Trigger::Final)).count() as u64;
    let phases = phase_summaries(&r.pauses);
    let phase = |ph: Phase| phases.iter().find(|(name, _)| *name == ph.name()).map(|(_, s)| *s);
    let assist_total_ns: u64 = r.assists.iter().map(|a| a.duration_ns).sum();
    let background_mark_cpu_ns: u64 = r
        .cycles
        .iter()
        .filter(|c| c.trigger != Some(collectors::Trigger::Final))
        .map(|c| c.background_mark_cpu_ns)
        .sum();
    let slice_ns = |lost: bool| -> u64 {
        r.gc_slices.iter().filter(|s| s.mode.takes_mutator_time() == lost).map(|s| s.duration_ns).sum()
    };
    let procs = r.procs.max(1) as f64;
    let gc_wall_ns = (util.lost_fraction() * r.wall_ns as f64).round() as u64;
    let gc_cpu_used_ns = p.total_ns as f64 * procs + assist_total_ns as f64 + background_mark_cpu_ns as f64;
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
            Some(Fatal::StackOverflow { .. }) => "stack-overflow".to_string(),
            Some(Fatal::OutOfMemory { .. }) => "out-of-memory".to_string(),
            Some(Fatal::Fault { .. }) => "fault".to_string(),
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
        assist_total_ns,
        mark_cpu_total_ns: r.cycles.iter().map(|c| c.mark_cpu_ns).sum(),
        background_mark_cpu_ns,
        background_thread_cpu_ns: r.background_thread_cpu_ns,
        gc_cpu_used_fraction: if r.wall_ns > 0 { gc_cpu_used_ns / (r.wall_ns as f64 * procs) } else { 0.0 },
        span_count: spans.count,
        span_p50_ns: spans.quantile(&spans.latency, 0.50),
        span_p99_ns: spans.quantile(&spans.latency, 0.99),
        span_p999_ns: spans.quantile(&spans.latency, 0.999),
        span_metered_p99_ns: spans.quantile(&spans.metered, 0.99),
        span_wall_p99_ns: spans.quantile(&spans.wall, 0.99),
        assist_max_ns: r.assists.iter().map(|a| a.duration_ns).max(),
        imported_from: String::new(),
        mark_worker_ns: Some(slice_ns(true)),
        idle_mark_ns: Some(slice_ns(false)),
        gc_slice_count: Some(r.gc_slices.len() as u64),
        process_cpu_ns: Some(r.process_cpu_ns),
        gc_wall_ns: Some(gc_wall_ns.min(r.wall_ns)),
        gc_cpu_ns: Some(r.gc_cpu_ns),
        distilled_wall_ns: Some(r.wall_ns.saturating_sub(gc_wall_ns)),
        distilled_cpu_ns: Some(r.process_cpu_ns.saturating_sub(r.gc_cpu_ns)),
        pause_p99_on_cpu_ns: Some(p.p99_on_cpu_ns),
        pause_max_on_cpu_ns: Some(p.max_on_cpu_ns),
    }
}

/// A run's spans of every tag, merged.
struct AllSpans {
    count: u64,
    latency: Histogram<u64>,
    metered: Histogram<u64>,
    wall: Histogram<u64>,
}

impl AllSpans {
    fn of(r: &RunResult) -> AllSpans {
        let mut all = AllSpans { count: 0, latency: new_histogram(), metered: new_histogram(), wall: new_histogram() };
        for t in crate::latency::summarize(&r.span_tags, &r.span_records) {
            all.count += t.count;
            // Same bounds and precision: adding never fails.
            let _ = all.latency.add(&t.latency);
            let _ = all.metered.add(&t.metered_100ms);
            let _ = all.wall.add(&t.wall);
        }
        all
    }

    fn quantile(&self, h: &Histogram<u64>, q: f64) -> Option<u64> {
        (self.count > 0).then(|| h.value_at_quantile(q))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::metrics::{GcSliceRecord, PauseRecord};
    use std::time::Duration;

    const MS: u64 = 1_000_000;
    /// Where the replay starts on the pause clock in these tests.
    pub(crate) const T0: u64 = 7 * MS;

    /// A pause `at_ns` into the replay.
    pub(crate) fn pause(
        gc: u64,
        phase: &'static str,
        at_ns: u64,
        duration_ns: u64,
        trigger: &'static str,
    ) -> PauseRecord {
        PauseRecord {
            gc,
            phase,
            trigger: Some(trigger),
            start_ns: T0 + at_ns,
            duration_ns,
            ttsp_ns: 0,
            safepoints: Vec::new(),
        }
    }

    /// A replay of `wall_ns` by `test-gc` on 2 procs with these pauses.
    pub(crate) fn run(wall_ns: u64, pauses: Vec<PauseRecord>) -> RunResult {
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
            span_tags: Vec::new(),
            span_records: Vec::new(),
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
            background_thread_cpu_ns: 0,
            gc_slices: Vec::new(),
            process_cpu_ns: 0,
            gc_cpu_ns: 0,
        }
    }

    /// The summary row of `r` on trace `t` at GOGC 100.
    pub(crate) fn row(r: &RunResult) -> SummaryRow {
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
        assert_eq!((s.assist_count, s.assist_total_ns, s.assist_max_ns), (2, 21 * MS, Some(20 * MS)));
        assert_eq!(s.mmu_10ms, Some(0.5));
        assert!(s.sweep_term_max_ns.is_some() && s.mark_term_max_ns.is_none());
        // Lost: the pause (0.1 ms) and half of each assist (10.5 ms), of 200 ms.
        assert!((s.gc_cpu_fraction - 10.6 / 200.0).abs() < 1e-9, "{}", s.gc_cpu_fraction);
        // The wall time charged to the collector is that loss: 10.6 ms.
        assert_eq!((s.gc_wall_ns, s.distilled_wall_ns), (Some(10_600_000), Some(200 * MS - 10_600_000)));
        // Used, as Go counts it: the pause on both procs (0.2 ms) and the
        // assists (21 ms), of 2 × 200 ms.
        assert!((s.gc_cpu_used_fraction - 21.2 / 400.0).abs() < 1e-9, "{}", s.gc_cpu_used_fraction);
    }

    #[test]
    fn background_mark_workers_count_in_the_cpu_used_not_in_the_time_lost() {
        // A concurrent cycle: two 1 ms pauses, 60 ms of background marking
        // beside the mutators; and the final collection's, left out.
        let mut r = run(
            100 * MS,
            vec![
                pause(1, "sweep-term", 10 * MS, MS, "heap-goal"),
                pause(1, "mark-term", 80 * MS, MS, "heap-goal"),
                pause(2, "sweep-term", 100 * MS, MS, "final"),
            ],
        );
        let cycle = |n: u64, trigger, bg: u64| collectors::CycleRecord {
            cycle: n,
            trigger: Some(trigger),
            mark_cpu_ns: bg + MS / 2,
            background_mark_cpu_ns: bg,
            ..collectors::CycleRecord::default()
        };
        r.cycles = vec![cycle(1, collectors::Trigger::HeapGoal, 60 * MS), cycle(2, collectors::Trigger::Final, 9 * MS)];
        r.background_thread_cpu_ns = 3 * MS;
        r.process_cpu_ns = 150 * MS;
        r.gc_cpu_ns = 70 * MS;
        let s = row(&r);
        assert_eq!((s.gc_cpu_ns, s.distilled_cpu_ns), (Some(70 * MS), Some(80 * MS)));
        assert_eq!((s.gc_wall_ns, s.distilled_wall_ns), (Some(2 * MS), Some(98 * MS)), "the pauses, whole");
        assert_eq!(s.background_mark_cpu_ns, 60 * MS);
        assert_eq!(s.background_thread_cpu_ns, 3 * MS);
        assert_eq!(s.process_cpu_ns, Some(150 * MS));
        assert!((s.gc_cpu_fraction - 2.0 / 100.0).abs() < 1e-12, "lost: the pauses only: {}", s.gc_cpu_fraction);
        // Used: 2 ms of pauses on 2 procs, 60 ms of marking, of 2 × 100 ms.
        assert!((s.gc_cpu_used_fraction - 64.0 / 200.0).abs() < 1e-12, "{}", s.gc_cpu_used_fraction);
    }

    /// A slice of background work `at_ns` into the replay.
    fn slice(mode: collectors::background::Mode, worker: usize, at_ns: u64, duration_ns: u64) -> GcSliceRecord {
        GcSliceRecord { gc: 1, worker, mode, start_ns: T0 + at_ns, duration_ns, cpu_ns: duration_ns / 2 }
    }

    #[test]
    fn dedicated_and_fractional_slices_stall_a_worker_idle_ones_do_not() {
        use collectors::background::Mode;
        // procs = 2: a dedicated or fractional slice takes one of the two
        // workers while it runs; an idle slice ran where nothing else would.
        let mut r = run(200 * MS, Vec::new());
        r.gc_slices = vec![
            slice(Mode::Dedicated, 0, 20 * MS, 20 * MS),
            slice(Mode::Idle, 1, 30 * MS, 40 * MS),
            slice(Mode::Fractional, 1, 100 * MS, 10 * MS),
            slice(Mode::Idle, 0, 150 * MS, 30 * MS),
        ];
        let u = run_utilization(&r);
        assert_eq!(u.mmu(10 * MS), 0.5, "a 10 ms window inside the dedicated slice");
        assert_eq!(u.worst_window(20 * MS), (20 * MS, 0.5));
        let s = row(&r);
        assert_eq!(s.mmu_10ms, Some(0.5));
        // Lost: half of 20 ms and half of 10 ms, of 200 ms.
        assert!((s.gc_cpu_fraction - 15.0 / 200.0).abs() < 1e-12, "{}", s.gc_cpu_fraction);
        assert_eq!((s.mark_worker_ns, s.idle_mark_ns, s.gc_slice_count), (Some(30 * MS), Some(70 * MS), Some(4)));
        // Idle slices alone take nothing from the mutator.
        r.gc_slices.retain(|s| s.mode == Mode::Idle);
        let s = row(&r);
        assert_eq!((s.mmu_1ms, s.mmu_100ms, s.gc_cpu_fraction), (Some(1.0), Some(1.0), 0.0));
        assert_eq!((s.mark_worker_ns, s.idle_mark_ns, s.gc_slice_count), (Some(0), Some(70 * MS), Some(2)));
        // Without background work: zeros, not empty cells.
        let s = row(&run(200 * MS, Vec::new()));
        assert_eq!((s.mark_worker_ns, s.idle_mark_ns, s.gc_slice_count), (Some(0), Some(0), Some(0)));
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
        let u = run_utilization(&r);
        assert_eq!(u.longest_full_pause_ns(), 4 * MS);
        assert_eq!(u.worst_window(8 * MS), (0, 0.5));
        let s = row(&r);
        assert_eq!(s.mmu_1ms, Some(0.0));
        assert_eq!(s.mmu_10ms, Some(0.6));
        assert_eq!(s.mmu_100ms, None, "no 100 ms window fits in a 20 ms replay");
        assert_eq!(s.gc_cpu_fraction, 0.2);
        assert_eq!(s.gc_cpu_fraction, s.pause_total_ns as f64 / s.wall_ns as f64);
    }
}

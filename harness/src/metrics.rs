//! What a replay records: pauses, mark assists and cycles, and the
//! summaries computed from them. (Request spans are kept by their
//! goroutines: see [`crate::latency`].)
//!
//! A [`PauseRecord`] is one stop-the-world interval (its phase, start,
//! duration and time-to-safepoint, and each worker's way to its safepoint:
//! [`SafepointArrival`]); a [`CycleRecord`] one collection. They
//! are kept apart because a concurrent cycle has two pauses and a
//! generational run many minor cycles per major one. Pause and span
//! distributions (and span latencies) go into HdrHistograms (nanoseconds, 3 significant digits).

use collectors::CycleRecord;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::Serialize;

/// The largest value the histograms track: one hour in nanoseconds.
pub const HIST_MAX_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits the histograms keep.
pub const HIST_SIGFIG: u8 = 3;

/// A fresh nanosecond histogram.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_NS, HIST_SIGFIG).expect("valid histogram bounds")
}

/// One stop-the-world pause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PauseRecord {
    /// The GC cycle it belongs to.
    pub gc: u64,
    pub phase: &'static str,
    /// What started the cycle (filled in from the cycle records).
    pub trigger: Option<&'static str>,
    /// Replay clock when the stop was requested.
    pub start_ns: u64,
    /// From the stop request until the world restarted.
    pub duration_ns: u64,
    /// From the stop request until every worker was at a safepoint.
    pub ttsp_ns: u64,
    /// The workers that were running a goroutine when the stop was
    /// requested, in the order they reached a safepoint (empty when none
    /// was, and for imported logs).
    pub safepoints: Vec<SafepointArrival>,
}

impl PauseRecord {
    /// The worker that reached its safepoint last: the one the stop waited for.
    pub fn late_worker(&self) -> Option<&SafepointArrival> {
        self.safepoints.last()
    }

    /// The time to safepoint with each worker's measured time off its
    /// processor taken out of its way there: the longest of the workers'
    /// `ttsp_ns − off_cpu_ns` (a worker whose off-CPU time was not measured
    /// counts whole; it arrived within the first microseconds). Equal to
    /// `ttsp_ns` when no worker was running a goroutine.
    ///
    /// On a machine whose kernel or host takes a worker off its processor
    /// for milliseconds, that wait is the machine's, not the stop protocol's
    /// or the collector's: this is the stop as the design makes it.
    pub fn ttsp_on_cpu_ns(&self) -> u64 {
        self.safepoints
            .iter()
            .map(|a| a.ttsp_ns.saturating_sub(a.off_cpu_ns.unwrap_or(0)))
            .max()
            .map_or(self.ttsp_ns, |on_cpu| on_cpu.min(self.ttsp_ns))
    }

    /// The pause with [`PauseRecord::ttsp_on_cpu_ns`] in place of its time
    /// to safepoint.
    pub fn on_cpu_ns(&self) -> u64 {
        // `ttsp_on_cpu_ns` is at most `ttsp_ns`: the difference is the time taken out.
        self.duration_ns.saturating_sub(self.ttsp_ns - self.ttsp_on_cpu_ns())
    }
}

/// Where a worker was when it reached its safepoint for a stop the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SafepointAt {
    /// The check between two events of its goroutine.
    Event,
    /// Inside a `work` event's spin.
    Work,
    /// Between the steps of a mark assist (it parked at its next check).
    Assist,
    /// It gave up its goroutine to wait for another's progress.
    DepWait,
    /// It gave up its goroutine: at the goroutine's end, at the end of a
    /// time slice, or to run a slice of the collector's work.
    Switch,
    /// It left to start a collection its goroutine triggered.
    GcStart,
    /// It left for a test's hook.
    Hook,
}

impl SafepointAt {
    /// The name in `safepoints.csv` and `pauses.csv`.
    pub fn name(self) -> &'static str {
        match self {
            SafepointAt::Event => "event",
            SafepointAt::Work => "work",
            SafepointAt::Assist => "assist",
            SafepointAt::DepWait => "dep-wait",
            SafepointAt::Switch => "switch",
            SafepointAt::GcStart => "gc-start",
            SafepointAt::Hook => "hook",
        }
    }
}

/// One worker's way to a stop the world: a worker that was running a
/// goroutine when the stop was requested, and when and where it stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SafepointArrival {
    pub worker: usize,
    /// From the stop request until the worker left the running set.
    pub ttsp_ns: u64,
    pub at: SafepointAt,
    /// Of that time (counted from when the requester read the worker's
    /// thread CPU clock, about 2 µs after the request), how long its thread
    /// was off its processor — descheduled, or blocked — wall time minus
    /// the thread's CPU time, 0 at least. `None` when not measured: the
    /// worker arrived before the requester read its clock (a fast
    /// arrival), or the clock could not be read.
    pub off_cpu_ns: Option<u64>,
}

/// One mark assist: a goroutine stalled while it did marking its
/// allocation owed ([`collectors::Collector::assist`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssistRecord {
    /// The cycle that was marking.
    pub gc: u64,
    pub goroutine: usize,
    /// Replay clock at its start, and its length.
    pub start_ns: u64,
    pub duration_ns: u64,
    /// Bytes it marked.
    pub work_bytes: u64,
}

/// One slice of the collector's background work on a worker (see
/// `collectors::background`): Go's mark worker running on a P.
#[derive(Clone, Debug, PartialEq)]
pub struct GcSliceRecord {
    /// The cycle under way when it started (the one marking, or the last
    /// one, whose sweep it did).
    pub gc: u64,
    /// The worker (P) it ran on.
    pub worker: usize,
    /// Dedicated, fractional or idle.
    pub mode: collectors::background::Mode,
    /// Replay clock at its start, its length and its thread CPU time.
    pub start_ns: u64,
    pub duration_ns: u64,
    pub cpu_ns: u64,
}

/// Where a replay's workers record.
#[derive(Default)]
pub struct Metrics {
    pauses: Mutex<Vec<PauseRecord>>,
    assists: Mutex<Vec<AssistRecord>>,
    gc_slices: Mutex<Vec<GcSliceRecord>>,
    cycles: Mutex<Vec<CycleRecord>>,
}

impl Metrics {
    pub fn record_pause(&self, p: PauseRecord) {
        self.pauses.lock().push(p);
    }

    pub fn record_assist(&self, a: AssistRecord) {
        self.assists.lock().push(a);
    }

    /// The assists, in time order.
    pub fn take_assists(&self) -> Vec<AssistRecord> {
        let mut a = std::mem::take(&mut *self.assists.lock());
        a.sort_by_key(|a| a.start_ns);
        a
    }

    pub fn record_gc_slice(&self, r: GcSliceRecord) {
        self.gc_slices.lock().push(r);
    }

    /// The background slices, in time order.
    pub fn take_gc_slices(&self) -> Vec<GcSliceRecord> {
        let mut a = std::mem::take(&mut *self.gc_slices.lock());
        a.sort_by_key(|a| (a.start_ns, a.worker));
        a
    }

    pub fn record_cycle(&self, c: CycleRecord) {
        self.cycles.lock().push(c);
    }

    /// The pauses (with their cycle's trigger) and cycles.
    pub fn take(&self) -> (Vec<PauseRecord>, Vec<CycleRecord>) {
        let cycles = std::mem::take(&mut *self.cycles.lock());
        let mut pauses = std::mem::take(&mut *self.pauses.lock());
        for p in &mut pauses {
            p.trigger = cycles.iter().find(|c| c.cycle == p.gc).and_then(|c| c.trigger).map(|t| t.name());
        }
        pauses.sort_by_key(|p| p.start_ns);
        (pauses, cycles)
    }
}

/// Percentiles of a set of pauses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PauseSummary {
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    pub total_ns: u64,
    pub ttsp_max_ns: u64,
    /// p99 and maximum of [`PauseRecord::on_cpu_ns`].
    pub p99_on_cpu_ns: u64,
    pub max_on_cpu_ns: u64,
}

/// Summarises `pauses` through an HdrHistogram. The final collection gcwb
/// runs after the trace (trigger `final`) is a measuring device, not part of
/// the program, and is left out.
pub fn summarize_pauses(pauses: &[PauseRecord]) -> PauseSummary {
    let mut h = new_histogram();
    let mut on_cpu = new_histogram();
    let mut s = PauseSummary::default();
    for p in pauses.iter().filter(|p| p.trigger != Some("final")) {
        h.saturating_record(p.duration_ns.max(1));
        on_cpu.saturating_record(p.on_cpu_ns().max(1));
        s.count += 1;
        s.total_ns += p.duration_ns;
        s.ttsp_max_ns = s.ttsp_max_ns.max(p.ttsp_ns);
    }
    if s.count > 0 {
        s.p50_ns = h.value_at_quantile(0.50);
        s.p99_ns = h.value_at_quantile(0.99);
        s.max_ns = h.max();
        s.p99_on_cpu_ns = on_cpu.value_at_quantile(0.99);
        s.max_on_cpu_ns = on_cpu.max();
    }
    s
}

/// Per-phase pause statistics (through an HdrHistogram, as in
/// [`summarize_pauses`]), phases in the order they first occur; the final
/// collection is left out, as in the summary.
pub fn phase_summaries(pauses: &[PauseRecord]) -> Vec<(&'static str, PauseSummary)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(gc: u64, d: u64, trigger: Option<&'static str>) -> PauseRecord {
        PauseRecord {
            gc,
            phase: "stw-full",
            trigger,
            start_ns: gc * 1000,
            duration_ns: d,
            ttsp_ns: d / 10,
            safepoints: Vec::new(),
        }
    }

    #[test]
    fn summary_uses_histogram_percentiles_and_skips_the_final_collection() {
        let mut ps: Vec<PauseRecord> = (1..=100).map(|i| pause(i, i * 1000, Some("heap-goal"))).collect();
        ps.push(pause(101, 9_000_000, Some("final")));
        let s = summarize_pauses(&ps);
        assert_eq!(s.count, 100);
        assert_eq!(s.total_ns, (1..=100).map(|i| i * 1000).sum::<u64>());
        // 3 significant digits: within 0.1%.
        assert!((s.p50_ns as f64 - 50_000.0).abs() <= 50.0, "{}", s.p50_ns);
        assert!((s.p99_ns as f64 - 99_000.0).abs() <= 99.0, "{}", s.p99_ns);
        assert!((s.max_ns as f64 - 100_000.0).abs() <= 100.0, "{}", s.max_ns);
        assert_eq!(s.ttsp_max_ns, 10_000);
        assert_eq!(s.max_on_cpu_ns, s.max_ns, "no worker was running: nothing to take out");
    }

    fn arrival(worker: usize, ttsp_ns: u64, off_cpu_ns: Option<u64>) -> SafepointArrival {
        SafepointArrival { worker, ttsp_ns, at: SafepointAt::Event, off_cpu_ns }
    }

    #[test]
    fn a_pause_on_cpu_takes_each_workers_time_off_its_processor_out_of_its_way_to_the_safepoint() {
        // A 5 ms pause: 4.9 ms waiting for worker 1, which was off its
        // processor for 4.85 ms of it; worker 0 came in 30 µs, unmeasured.
        let mut p = pause(1, 5_000_000, Some("heap-goal"));
        p.ttsp_ns = 4_900_000;
        p.safepoints = vec![arrival(0, 30_000, None), arrival(1, 4_900_000, Some(4_850_000))];
        assert_eq!(p.ttsp_on_cpu_ns(), 50_000, "worker 1's 50 µs on its processor outlast worker 0's 30 µs");
        assert_eq!(p.on_cpu_ns(), 100_000 + 50_000);
        // Off its processor only briefly: then worker 0's wait is the longer.
        p.safepoints[1].off_cpu_ns = Some(4_890_000);
        assert_eq!(p.ttsp_on_cpu_ns(), 30_000);
        // Nothing measured: the pause as it was.
        p.safepoints[1].off_cpu_ns = None;
        assert_eq!(p.on_cpu_ns(), 5_000_000);
        let s = summarize_pauses(&[p.clone(), pause(2, 1_000, None)]);
        assert_eq!((s.max_ns, s.max_on_cpu_ns), (h3(5_000_000), h3(5_000_000)));
        p.safepoints[1].off_cpu_ns = Some(4_850_000);
        let s = summarize_pauses(&[p, pause(2, 1_000, None)]);
        assert_eq!((s.max_ns, s.max_on_cpu_ns), (h3(5_000_000), h3(150_000)));
    }

    /// `v` as a 3-significant-digit histogram reports its maximum.
    fn h3(v: u64) -> u64 {
        let mut h = new_histogram();
        h.saturating_record(v);
        h.max()
    }

    #[test]
    fn no_pauses_summarise_to_zero() {
        assert_eq!(summarize_pauses(&[]), PauseSummary::default());
    }

    #[test]
    fn phase_statistics_per_phase_in_order_of_first_occurrence_without_the_final_pause() {
        let at = |gc: u64, phase: &'static str, start_ns: u64, duration_ns: u64, trigger: &'static str| PauseRecord {
            gc,
            phase,
            trigger: Some(trigger),
            start_ns,
            duration_ns,
            ttsp_ns: 0,
            safepoints: Vec::new(),
        };
        let ps = vec![
            at(1, "sweep-term", 0, 100, "heap-goal"),
            at(1, "mark-term", 10, 300, "heap-goal"),
            at(2, "sweep-term", 20, 200, "heap-goal"),
            at(3, "stw-full", 30, 9_000, "final"),
        ];
        let got: Vec<(&str, u64, u64, u64)> =
            phase_summaries(&ps).into_iter().map(|(p, s)| (p, s.count, s.max_ns, s.total_ns)).collect();
        assert_eq!(got, [("sweep-term", 2, 200, 300), ("mark-term", 1, 300, 300)]);
    }
}

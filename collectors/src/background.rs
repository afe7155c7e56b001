//! Collector work beside the mutators, run on the mutators' own processors.
//!
//! Go runs its concurrent GC work as goroutines on the Ps (runtime/mgc.go,
//! `gcBgMarkWorker`; runtime/mgcpacer.go, `findRunnableGCWorker`), so the
//! runtime never has more running threads than `GOMAXPROCS`: a stop the
//! world then never waits for a thread the kernel has descheduled in favour
//! of a collector thread. gcwb does the same, with one mechanism for every
//! collector:
//!
//! - the collector says it has work ([`crate::Host::request_background`],
//!   with the [`Work`] it is: marking, or sweeping);
//! - the host's workers (its Ps) run it in *slices*: each a call of
//!   [`crate::Collector::background_slice`] that does small units of work
//!   until the host's `should_yield` says stop (a stop-the-world request, the
//!   worker's share used up, a goroutine to run) or the work runs out, and
//!   says what is left ([`SliceEnd`]);
//! - which worker runs a slice, and for how long, is the host's
//!   [`Mode`]: Go's dedicated, fractional and idle mark workers, at
//!   Go's 25% background utilization goal ([`WorkerPlan`]). Sweeping, like
//!   Go's `bgsweep` goroutine (which yields whenever anything else is
//!   runnable), runs only on workers with nothing else to do.
//!
//! A host with no workers of its own (a unit test, a researcher's mutator
//! on plain threads) says no to [`crate::Host::request_background`]; the
//! collector then does the work itself, in the thread that asked.
//!
//! A slice runs outside the host's set of running mutators: a stop the
//! world does not wait for it, and the slice stops at its next poll of
//! `should_yield` (a few microseconds). So a collector whose slices hold
//! work in hand (a marker's local grey objects) must give it back before
//! it returns, and must not finish a phase (mark termination) while
//! another slice still holds some: see `go_cycle/mod.rs`.

/// Go's `gcBackgroundUtilization` (runtime/mgcpacer.go): the share of the
/// processors background marking takes.
pub const BACKGROUND_UTILIZATION: f64 = 0.25;

/// Go's `maxUtilError`: when rounding the background utilization to whole
/// dedicated workers misses it by more than this fraction, fractional
/// workers make up the difference.
const MAX_UTIL_ERROR: f64 = 0.3;

/// A fractional worker stops once its share of the time since marking
/// started exceeds the goal by this factor (Go's
/// `pollFractionalWorkerExit`).
pub const FRACTIONAL_OVERSHOOT: f64 = 1.2;

/// What kind of background work a collector has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// Concurrent marking: scheduled at the background utilization goal
    /// (dedicated and fractional workers) and on idle workers.
    Mark,
    /// Concurrent sweeping: only on idle workers.
    Sweep,
}

impl Work {
    pub fn name(self) -> &'static str {
        match self {
            Work::Mark => "mark",
            Work::Sweep => "sweep",
        }
    }
}

/// How a worker came to run a slice (Go's `gcMarkWorkerMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A worker given wholly to marking until marking is done (or the world
    /// stops).
    Dedicated,
    /// A worker marking for its fractional share of the time since marking
    /// started.
    Fractional,
    /// A worker with no goroutine to run.
    Idle,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Dedicated => "dedicated",
            Mode::Fractional => "fractional",
            Mode::Idle => "idle",
        }
    }

    /// Is the worker's time lost to the mutator? A dedicated or fractional
    /// worker takes a processor a goroutine could have run on; an idle one
    /// uses a processor nothing wanted (Go's `gcMarkWorkerIdleMode`).
    pub fn takes_mutator_time(self) -> bool {
        !matches!(self, Mode::Idle)
    }
}

/// What a slice left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceEnd {
    /// It stopped because it was asked to; this work is left.
    Yielded(Work),
    /// Nothing is left for a slice to do now (other slices may still be
    /// finishing theirs); the host stops scheduling slices until the next
    /// request.
    Done,
}

/// How many workers mark, and how: Go's split of the background
/// utilization goal into dedicated workers and a fractional share
/// (`gcControllerState.startCycle`, runtime/mgcpacer.go).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerPlan {
    /// Workers given wholly to marking.
    pub dedicated: usize,
    /// Share of its time each worker marks for, on top (0 when the
    /// dedicated workers meet the goal within [`MAX_UTIL_ERROR`]).
    pub fractional_goal: f64,
}

impl WorkerPlan {
    /// The plan for `procs` workers.
    pub fn for_procs(procs: usize) -> WorkerPlan {
        let procs = procs.max(1) as f64;
        let goal = procs * BACKGROUND_UTILIZATION;
        let mut dedicated = (goal + 0.5) as usize;
        let error = dedicated as f64 / goal - 1.0;
        if error.abs() > MAX_UTIL_ERROR {
            // Rounding missed by too much (GOMAXPROCS ≤ 3 or 6): one
            // dedicated worker fewer if it overshot, and fractional work
            // for the rest.
            if dedicated as f64 > goal {
                dedicated -= 1;
            }
            WorkerPlan { dedicated, fractional_goal: (goal - dedicated as f64) / procs }
        } else {
            WorkerPlan { dedicated, fractional_goal: 0.0 }
        }
    }

    /// Should a worker that has marked `fractional_ns` of the `elapsed_ns`
    /// since marking started take (more) fractional work?
    pub fn fractional_due(&self, fractional_ns: u64, elapsed_ns: u64) -> bool {
        self.fractional_goal > 0.0
            && (elapsed_ns == 0 || (fractional_ns as f64) < self.fractional_goal * elapsed_ns as f64)
    }

    /// Should a fractional slice stop, its worker having marked
    /// `fractional_ns` of the `elapsed_ns` since marking started?
    pub fn fractional_over(&self, fractional_ns: u64, elapsed_ns: u64) -> bool {
        fractional_ns as f64 > FRACTIONAL_OVERSHOOT * self.fractional_goal * elapsed_ns as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_gos_for_every_procs() {
        // Go's table (runtime/mgcpacer.go comments): fractional workers for
        // GOMAXPROCS ≤ 3 and 6, whole dedicated workers otherwise.
        let plan = |p| {
            let w = WorkerPlan::for_procs(p);
            (w.dedicated, (w.fractional_goal * 1000.0).round() as u32)
        };
        assert_eq!(plan(1), (0, 250));
        assert_eq!(plan(2), (0, 250));
        assert_eq!(plan(3), (0, 250));
        assert_eq!(plan(4), (1, 0));
        assert_eq!(plan(5), (1, 0), "1.25 rounds to 1: 20% off, within 30%");
        assert_eq!(plan(6), (1, 83), "1.5 rounds to 2: 33% over, so 1 and the rest fractional");
        assert_eq!(plan(8), (2, 0));
        assert_eq!(plan(16), (4, 0));
        for p in 1..=64 {
            let w = WorkerPlan::for_procs(p);
            let total = w.dedicated as f64 + w.fractional_goal * p as f64;
            let goal = p as f64 * BACKGROUND_UTILIZATION;
            assert!((total / goal - 1.0).abs() <= MAX_UTIL_ERROR + 1e-9, "procs {p}: {total} for a goal of {goal}");
        }
    }

    #[test]
    fn a_fractional_worker_marks_until_its_share_overshoots() {
        let w = WorkerPlan::for_procs(2);
        assert!(w.fractional_due(0, 0));
        assert!(w.fractional_due(240, 1000));
        assert!(!w.fractional_due(250, 1000));
        assert!(!w.fractional_over(300, 1000), "1.2 x 25% of 1000 ns is 300 ns");
        assert!(w.fractional_over(301, 1000));
        let dedicated_only = WorkerPlan::for_procs(4);
        assert!(!dedicated_only.fractional_due(0, 1000));
    }
}

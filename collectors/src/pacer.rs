//! The pacer: when to start a cycle and how hard the mutators must help —
//! the arithmetic of Go's `runtime/mgcpacer.go`, shared by every collector.
//!
//! - **Heap goal** (`heapGoalInternal`, Go 1.18+): after a cycle that marked
//!   `marked` bytes and scanned `roots` bytes of stacks and globals, the heap
//!   may grow to `marked + (marked + roots) · GOGC/100`, at least the minimum
//!   goal (4 MiB in Go). `GOGC=off` has no goal.
//! - **Soft memory limit** (`GOMEMLIMIT`, `memoryLimitHeapGoal`): the goal is
//!   also at most the limit. Go lets that goal fall below the live heap and
//!   then collects back to back, with its GC CPU limiter capping the
//!   collector at half the CPU; gcwb has no CPU limiter, so instead the goal
//!   never drops below `marked` plus [`LIMIT_MIN_HEADROOM_FRACTION`] of it
//!   (at least one page) — the collector runs about as often as Go's capped
//!   one would, instead of spinning.
//! - **Trigger**: a stop-the-world collector starts at the goal. A concurrent
//!   one must start earlier so marking finishes before the heap reaches the
//!   goal: it leaves a *runway* of the bytes allocated during the last mark
//!   phase, with a margin (Go 1.18+ derives the runway from its measured
//!   cons/mark ratio; the bytes allocated while marking are that ratio times
//!   the marking work, so the two agree when the workload is steady), and
//!   keeps the trigger between 70% and 95% of the way from `marked` to the
//!   goal (`minTriggerRatio`, `maxTriggerRatio` in Go's pacer).
//! - **Assist ratio** (`assistWorkPerByte` in `revise`): while marking, each
//!   byte allocated owes `remaining scan work / remaining heap runway` bytes
//!   of marking, so the marking finishes by the time the heap reaches the
//!   goal. The expected scan work is what the last cycle marked (Go's
//!   `heapScan + stackScan + globalsScan` estimate).

/// The memory-limit goal's least headroom over the marked heap, as a
/// fraction of it (see the module comment).
pub const LIMIT_MIN_HEADROOM_FRACTION: f64 = 1.0 / 16.0;

/// Bounds of the trigger, as the fraction of the way from the marked heap
/// to the goal (Go's `minTriggerRatio` 0.7 and `maxTriggerRatio` 0.95).
pub const MIN_TRIGGER_FRACTION: f64 = 0.7;
pub const MAX_TRIGGER_FRACTION: f64 = 0.95;

/// The runway's margin over the bytes allocated during the last mark.
pub const RUNWAY_MARGIN: f64 = 1.25;

/// The least heap distance assists divide by, so the ratio stays finite
/// when the heap is at or past the goal (then assists do all the remaining
/// work at once, in chunks of this size).
pub const MIN_RUNWAY_BYTES: u64 = 64 << 10;

/// The pacer's inputs: GOGC, the minimum goal and the soft memory limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacer {
    /// `None` is `GOGC=off`.
    pub gogc: Option<u32>,
    pub min_heap_goal: u64,
    /// `GOMEMLIMIT` in bytes, if set.
    pub memory_limit: Option<u64>,
}

impl Pacer {
    /// The heap goal after a cycle that marked `marked` bytes and scanned
    /// `roots` bytes of roots; `u64::MAX` when nothing sets one (`GOGC=off`
    /// and no limit).
    pub fn goal(&self, marked: u64, roots: u64) -> u64 {
        let gogc_goal = match self.gogc {
            Some(gogc) => (marked + (marked + roots).saturating_mul(gogc as u64) / 100).max(self.min_heap_goal),
            None => u64::MAX,
        };
        match self.memory_limit {
            Some(limit) => {
                let floor =
                    marked + ((marked as f64 * LIMIT_MIN_HEADROOM_FRACTION) as u64).max(crate::heap::PAGE_BYTES);
                gogc_goal.min(limit.max(floor))
            }
            None => gogc_goal,
        }
    }

    /// Does anything but an explicit request start a cycle?
    pub fn collects_on_its_own(&self) -> bool {
        self.gogc.is_some() || self.memory_limit.is_some()
    }

    /// A concurrent collector's trigger for `goal`, given the marked heap and
    /// the bytes allocated while the last cycle marked (`None` before the
    /// first cycle: the earliest trigger).
    pub fn concurrent_trigger(&self, goal: u64, marked: u64, allocated_during_mark: Option<u64>) -> u64 {
        if goal == u64::MAX {
            return u64::MAX;
        }
        let headroom = goal.saturating_sub(marked) as f64;
        let lo = marked + (headroom * MIN_TRIGGER_FRACTION) as u64;
        let hi = marked + (headroom * MAX_TRIGGER_FRACTION) as u64;
        match allocated_during_mark {
            None => lo,
            Some(a) => goal.saturating_sub((a as f64 * RUNWAY_MARGIN) as u64).clamp(lo, hi),
        }
    }

    /// Bytes of marking owed per byte allocated, with `scan_left` bytes of
    /// expected marking work still to do and the heap at `heap_live`.
    pub fn assist_ratio(scan_left: u64, heap_live: u64, goal: u64) -> f64 {
        let runway = goal.saturating_sub(heap_live).max(MIN_RUNWAY_BYTES);
        scan_left as f64 / runway as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn pacer(gogc: Option<u32>, limit: Option<u64>) -> Pacer {
        Pacer { gogc, min_heap_goal: 4 * MIB, memory_limit: limit }
    }

    #[test]
    fn goal_is_gogc_growth_over_marked_and_roots_at_least_the_minimum() {
        let p = pacer(Some(100), None);
        assert_eq!(p.goal(100 * MIB, 10 * MIB), 210 * MIB);
        assert_eq!(pacer(Some(50), None).goal(100 * MIB, 0), 150 * MIB);
        assert_eq!(p.goal(MIB, 0), 4 * MIB, "the minimum goal");
        assert_eq!(pacer(None, None).goal(100 * MIB, 0), u64::MAX);
        assert!(!pacer(None, None).collects_on_its_own());
    }

    #[test]
    fn the_memory_limit_caps_the_goal_but_keeps_headroom_over_the_live_heap() {
        let p = pacer(Some(100), Some(150 * MIB));
        assert_eq!(p.goal(100 * MIB, 0), 150 * MIB, "the limit is below the GOGC goal");
        assert_eq!(p.goal(10 * MIB, 0), 20 * MIB, "the GOGC goal is below the limit");
        // Live above the limit: the goal stays a sixteenth over the live heap.
        assert_eq!(p.goal(320 * MIB, 0), 340 * MIB);
        // GOGC=off with a limit: the limit alone.
        let off = pacer(None, Some(64 * MIB));
        assert!(off.collects_on_its_own());
        assert_eq!(off.goal(10 * MIB, 0), 64 * MIB);
    }

    #[test]
    fn the_trigger_leaves_the_last_marks_allocation_as_runway_within_bounds() {
        let p = pacer(Some(100), None);
        let (goal, marked) = (200 * MIB, 100 * MIB);
        assert_eq!(p.concurrent_trigger(goal, marked, None), 170 * MIB, "first cycle: earliest");
        // 8 MiB allocated while marking: runway 10 MiB (25% margin).
        assert_eq!(p.concurrent_trigger(goal, marked, Some(8 * MIB)), 190 * MIB);
        // Little allocation: no later than 95% of the way.
        assert_eq!(p.concurrent_trigger(goal, marked, Some(0)), 195 * MIB);
        // Much allocation: no earlier than 70%.
        assert_eq!(p.concurrent_trigger(goal, marked, Some(90 * MIB)), 170 * MIB);
        assert_eq!(p.concurrent_trigger(u64::MAX, marked, None), u64::MAX);
    }

    #[test]
    fn assists_owe_the_work_left_over_the_runway_left() {
        assert_eq!(Pacer::assist_ratio(50 * MIB, 150 * MIB, 200 * MIB), 1.0);
        assert_eq!(Pacer::assist_ratio(10 * MIB, 150 * MIB, 200 * MIB), 0.2);
        // At or past the goal the runway is the minimum: assists do it all.
        let past = Pacer::assist_ratio(10 * MIB, 210 * MIB, 200 * MIB);
        assert_eq!(past, (10 * MIB) as f64 / MIN_RUNWAY_BYTES as f64);
        assert_eq!(Pacer::assist_ratio(0, 150 * MIB, 200 * MIB), 0.0);
    }
}

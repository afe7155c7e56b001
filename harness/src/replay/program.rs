//! The replay program: each goroutine's events laid out contiguously, with
//! what the scheduler needs to know about each inlined.
//!
//! A trace lists events in trace order, goroutines interleaved; a worker
//! runs one goroutine's events in a row. Walking the trace's array by a
//! goroutine's indices touches a new cache line for almost every event
//! (measured: a third of the replay loop's time on one 10 M-event trace went
//! to that one load), so the replayer first copies each goroutine's events
//! into its own array, in order, next to their dependencies.

use workloads::analysis::{Analysis, Dep};
use workloads::model::{Op, Trace};

/// One event, ready to run.
pub(crate) struct Step {
    pub op: Op,
    /// Its index in the trace (for positions, derefs and the verifier).
    pub event: u32,
    /// `deps[deps_start .. deps_start + deps_len]` of its goroutine.
    pub deps_start: u32,
    pub deps_len: u32,
    /// Another goroutine waits for this event: publish progress after it.
    pub dep_target: bool,
}

/// One goroutine's part of the program.
pub(crate) struct GoroutineProgram {
    pub steps: Vec<Step>,
    pub deps: Vec<Dep>,
}

impl GoroutineProgram {
    #[inline]
    pub fn deps_of(&self, s: &Step) -> &[Dep] {
        &self.deps[s.deps_start as usize..(s.deps_start + s.deps_len) as usize]
    }
}

/// Lays out every goroutine's events (in parallel, one goroutine per task).
pub(crate) fn compile(trace: &Trace, analysis: &Analysis) -> Vec<GoroutineProgram> {
    use rayon::prelude::*;
    analysis
        .goroutines
        .par_iter()
        .map(|g| {
            let mut deps = Vec::new();
            let steps = g
                .events
                .iter()
                .map(|&ev| {
                    let ev = ev as usize;
                    let d = analysis.deps_of(ev);
                    let deps_start = deps.len() as u32;
                    deps.extend_from_slice(d);
                    Step {
                        op: trace.events[ev].op.clone(),
                        event: ev as u32,
                        deps_start,
                        deps_len: d.len() as u32,
                        dep_target: analysis.is_dep_target[ev],
                    }
                })
                .collect();
            GoroutineProgram { steps, deps }
        })
        .collect()
}

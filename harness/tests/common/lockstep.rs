//! One fixed interleaving of a whole replay against the concurrent
//! collector, for traces too big to schedule point by point (stress
//! traces): the mutators on one worker with no time slice, so their events
//! run in an order fixed by the trace; the collector taking each step of a
//! cycle only while the mutator is between events, `every` events after its
//! last step — and the mutator waiting while a step is due or under way.
//! Every step lands at the same event on every run, so the whole replay
//! (what is marked when, what the barrier shades, what is freed) is a
//! function of the trace, the collector and `every`.
//!
//! Why that suffices: with one worker a goroutine runs until it waits for
//! another or ends, and the run queue is first in, first out; the
//! collector's threads change what a mutator can see only inside a step
//! (`collectors::cycle_hooks`), and no step runs while the mutator runs an
//! event. A mark assist runs on the mutator's own thread, inside its
//! boundary. An explicit `gc` event blocks the mutator until its collection
//! is done: while it does, the collector steps without waiting for events.

use collectors::cycle_hooks::{CycleHooks, CycleStep};
use harness::replay::hooks::ReplayHooks;
use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use workloads::analysis::code::Insn;
use workloads::analysis::Analysis;

/// The shared state: see the module comment.
pub struct Lockstep {
    every: u64,
    /// Per goroutine, its number of events (a hook call with that `seq` is
    /// its end, not an event).
    steps: Vec<u32>,
    /// `(goroutine, seq)` of every explicit `gc` event.
    gcs: HashSet<(usize, u32)>,
    /// Events in the trace.
    total: u64,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Events begun.
    events: u64,
    /// The mutators have stopped (the trace done, or the replay ended by a
    /// fatal error).
    mutators_done: bool,
    /// The mutator is at a hook, between events.
    mutator_waiting: bool,
    /// The mutator is in an explicit `gc` event.
    in_gc: bool,
    /// A cycle between its sweep termination and the end of its sweep.
    active: Option<u64>,
    /// The event count from which the collector's next step is due.
    due: u64,
    /// A step is under way.
    stepping: bool,
    /// Every step taken: (events begun then, cycle, step).
    log: Vec<(u64, u64, CycleStep)>,
    /// Why the lockstep gave up, if it did (then nobody waits any more).
    stuck: Option<String>,
}

/// How long a wait may last before the lockstep is declared stuck (a hook
/// the collector never calls): it then lets everything run, and
/// [`Lockstep::log`] fails the test. Never what makes a test pass.
const STUCK_AFTER: Duration = Duration::from_secs(60);

impl Lockstep {
    /// A lockstep for trace `a`: a step of the collector every `every`
    /// events of the mutator.
    pub fn new(a: &Analysis, every: u64) -> Arc<Lockstep> {
        let mut gcs = HashSet::new();
        for g in 0..a.programs.len() {
            for (seq, (insn, _)) in a.decode(g).iter().enumerate() {
                if matches!(insn, Insn::Gc) {
                    gcs.insert((g, seq as u32));
                }
            }
        }
        Arc::new(Lockstep {
            every,
            steps: a.programs.iter().map(|p| p.steps).collect(),
            gcs,
            total: a.events() as u64,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        })
    }

    /// The steps taken, with the number of events begun when each was
    /// (asserting the lockstep held to the end).
    pub fn log(&self) -> Vec<(u64, u64, CycleStep)> {
        let s = self.state.lock().unwrap();
        assert!(s.stuck.is_none(), "the lockstep got stuck: {}", s.stuck.as_deref().unwrap_or_default());
        s.log.clone()
    }

    /// Waits while `blocked`, at most [`STUCK_AFTER`] at a time.
    fn wait_while<'a>(
        &self,
        mut s: MutexGuard<'a, State>,
        what: &str,
        blocked: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        while s.stuck.is_none() && blocked(&s) {
            let (next, timeout) = self.changed.wait_timeout(s, STUCK_AFTER).unwrap();
            s = next;
            if timeout.timed_out() && s.stuck.is_none() && blocked(&s) {
                s.stuck = Some(format!("{what} waited {STUCK_AFTER:?} at event {}", s.events));
                self.changed.notify_all();
            }
        }
        s
    }

    /// May the collector take a step now?
    fn collector_may_step(&self, s: &State) -> bool {
        !s.stepping && (s.in_gc || s.mutators_done || (s.mutator_waiting && s.events >= s.due))
    }
}

impl ReplayHooks for Lockstep {
    fn before_event(&self, g: usize, seq: u32) {
        let mut s = self.state.lock().unwrap();
        s.in_gc = false;
        s.mutator_waiting = true;
        self.changed.notify_all();
        let what = format!("goroutine {g} before event {seq}");
        s = self.wait_while(s, &what, |s| s.stepping || (s.active.is_some() && s.events >= s.due));
        s.mutator_waiting = false;
        if seq < self.steps[g] {
            s.events += 1;
            // The trace's last event starts: the collector need not wait
            // for the mutator any more.
            if s.events == self.total {
                s.mutators_done = true;
            }
            s.in_gc = self.gcs.contains(&(g, seq));
        }
        self.changed.notify_all();
    }

    fn mutators_done(&self) {
        self.state.lock().unwrap().mutators_done = true;
        self.changed.notify_all();
    }
}

impl CycleHooks for Lockstep {
    fn before(&self, cycle: u64, step: CycleStep) {
        let s = self.state.lock().unwrap();
        // Sweep termination runs on the mutator's thread, in its boundary.
        let what = format!("cycle {cycle} before {step:?}");
        let mut s = self.wait_while(s, &what, |s| {
            !(step == CycleStep::SweepTermination && !s.stepping || self.collector_may_step(s))
        });
        s.stepping = true;
        let events = s.events;
        s.log.push((events, cycle, step));
    }

    fn after(&self, cycle: u64, step: CycleStep) {
        let mut s = self.state.lock().unwrap();
        s.stepping = false;
        s.due = s.events + self.every;
        match step {
            CycleStep::SweepTermination => s.active = Some(cycle),
            CycleStep::Sweep if s.active == Some(cycle) => s.active = None,
            _ => {}
        }
        self.changed.notify_all();
    }
}

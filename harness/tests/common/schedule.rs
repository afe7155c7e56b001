//! An interleaving a test controls: an ordered list of points, each where
//! one actor — the concurrent collector at a step of its cycle, or a
//! goroutine at an event — is; an actor that
//! reaches a listed point waits there until every earlier point has been
//! passed, then passes it. Points not listed pass freely. So "A's point,
//! then B's point" in the list means B cannot get past its point before A
//! has reached its own: the test states the order of the steps that matter
//! and the replay follows it on every run, however the threads are
//! scheduled.
//!
//! A [`Schedule`] is both the replayer's hook (goroutines, before each
//! event) and the concurrent collector's (around each step of a cycle).
//! [`Script`] builds a trace whose events the points can name.

use collectors::cycle_hooks::{CycleHooks, CycleStep};
use harness::replay::hooks::ReplayHooks;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use workloads::analysis::Analysis;
use workloads::model::GoroutineId;

/// Where an actor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// Goroutine `g` (dense index) is about to run its event `seq` (the
    /// `seq`-th of its own, from 0).
    Before { g: usize, seq: u32 },
    /// Goroutine `g` has run its event `seq` (and the mark assist or the
    /// collection it led to, if any): reached where `Before { seq: seq + 1 }`
    /// is, and first — once the next event's dependencies are met, or when
    /// `g` ends.
    After { g: usize, seq: u32 },
    /// The collector is about to take `step` of cycle `cycle`.
    StepBefore { cycle: u64, step: CycleStep },
    /// The collector has finished `step` of cycle `cycle`.
    StepAfter { cycle: u64, step: CycleStep },
}

impl Point {
    /// Before trace event `i` (as [`Script::event`] numbers them).
    pub fn before(a: &Analysis, i: usize) -> Point {
        Point::Before { g: a.goroutine_of(i) as usize, seq: a.seq_of(i) }
    }

    /// After trace event `i`.
    pub fn after(a: &Analysis, i: usize) -> Point {
        Point::After { g: a.goroutine_of(i) as usize, seq: a.seq_of(i) }
    }
}

/// How long an actor waits at a point before the schedule is declared
/// stuck (a wrong schedule, or a hook the code under test never calls).
/// It is never what makes a test pass: a stuck schedule lets every actor
/// through and [`Schedule::assert_followed`] fails the test.
const STUCK_AFTER: Duration = Duration::from_secs(60);

/// The points to pass in order, and how far the run has got.
#[derive(Debug)]
pub struct Schedule {
    points: Vec<Point>,
    state: Mutex<Progress>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Progress {
    /// Points passed (the index of the next one).
    passed: usize,
    /// Why the schedule gave up, if it did.
    stuck: Option<String>,
}

impl Schedule {
    pub fn new(points: Vec<Point>) -> Arc<Schedule> {
        for (i, p) in points.iter().enumerate() {
            assert!(!points[..i].contains(p), "{p:?} listed twice");
        }
        Arc::new(Schedule { points, state: Mutex::new(Progress::default()), changed: Condvar::new() })
    }

    /// An actor is at `p`: if it is listed, wait for its turn and pass it.
    fn reach(&self, p: Point) {
        let Some(i) = self.points.iter().position(|q| *q == p) else { return };
        let mut s = self.state.lock().unwrap();
        while s.passed < i && s.stuck.is_none() {
            let (next, timeout) = self.changed.wait_timeout(s, STUCK_AFTER).unwrap();
            s = next;
            if timeout.timed_out() && s.passed < i && s.stuck.is_none() {
                s.stuck = Some(format!("{p:?} waited {STUCK_AFTER:?} for {:?}", self.points[s.passed]));
            }
        }
        if s.passed == i {
            s.passed += 1;
        }
        self.changed.notify_all();
    }

    /// Every point was passed, in order.
    pub fn assert_followed(&self) {
        let s = self.state.lock().unwrap();
        assert!(s.stuck.is_none(), "the schedule got stuck: {}", s.stuck.as_deref().unwrap_or_default());
        assert_eq!(s.passed, self.points.len(), "never reached: {:?}", &self.points[s.passed..]);
    }
}

impl ReplayHooks for Schedule {
    fn before_event(&self, g: usize, seq: u32) {
        if let Some(prev) = seq.checked_sub(1) {
            self.reach(Point::After { g, seq: prev });
        }
        self.reach(Point::Before { g, seq });
    }
}

impl CycleHooks for Schedule {
    fn before(&self, cycle: u64, step: CycleStep) {
        self.reach(Point::StepBefore { cycle, step });
    }

    fn after(&self, cycle: u64, step: CycleStep) {
        self.reach(Point::StepAfter { cycle, step });
    }
}

/// A text trace built line by line, numbering its events as the prepared
/// trace does (header lines are not events), so a test can name them.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub text: String,
    events: usize,
}

impl Script {
    /// Starts with header lines (`gctrace 1`, `globals N`).
    pub fn new(header: &str) -> Script {
        Script { text: format!("{}\n", header.trim_end()), events: 0 }
    }

    /// Appends events, one a line.
    pub fn events(&mut self, lines: &str) -> &mut Script {
        for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.event(l);
        }
        self
    }

    /// Appends one event; returns its trace index.
    pub fn event(&mut self, line: &str) -> usize {
        self.text += line;
        self.text.push('\n');
        self.events += 1;
        self.events - 1
    }

    /// Parses and prepares the trace (checking the event count).
    pub fn parse(&self) -> (workloads::Trace, Analysis) {
        let (t, a) = super::parse(&self.text);
        assert_eq!(a.events(), self.events, "a header line counted as an event in\n{}", self.text);
        (t, a)
    }
}

/// The dense index (the replayer's and the collector's goroutine number) of
/// goroutine `gN`.
pub fn dense(a: &Analysis, n: u32) -> usize {
    a.goroutines.iter().position(|g| g.id == GoroutineId(n)).unwrap_or_else(|| panic!("no goroutine g{n}"))
}

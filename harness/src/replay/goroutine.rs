//! A trace goroutine's replay state: its stack, where it is in its event
//! list, its open request spans and where its time went
//! ([`crate::latency`]).

use super::scheduler::Progress;
use crate::latency::{SpanRecord, TimeSplit};
use collectors::runtime::{Stack, StackLimit};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use workloads::analysis::code::Reader;

/// An open `begin` span.
pub struct OpenSpan {
    pub tag: u32,
    pub start_ns: u64,
    /// The goroutine's [`GoroutineState::time`] at `begin`.
    pub time_at_start: TimeSplit,
}

/// What a worker holds (locked) while it runs the goroutine.
pub struct GoroutineState {
    /// Created when the goroutine is spawned; dropped — the whole stack
    /// reclaimed at once — when it exits.
    pub stack: Option<Stack>,
    /// Index of the next event in the goroutine's own event list.
    pub pc: u32,
    /// Where that event's instruction starts in the goroutine's program.
    pub reader: Reader,
    /// Where its dereferenced blocks start in the program's deref stream
    /// (followed only under `--verify`).
    pub deref_pos: usize,
    pub exited: bool,
    /// Open `begin` spans, innermost last.
    pub spans: Vec<OpenSpan>,
    /// Closed spans, in the order they ended.
    pub closed_spans: Vec<SpanRecord>,
    /// Time not spent running since the goroutine started, cumulatively.
    pub time: TimeSplit,
    /// When it parked to wait for another goroutine (until it runs again).
    pub dep_wait_since: Option<u64>,
    /// Stack statistics of exited goroutines are folded in here.
    pub growths: u64,
    pub peak_stack_bytes: u64,
}

/// One goroutine slot, shared between workers and the collector.
pub struct Goroutine {
    pub state: Mutex<GoroutineState>,
    pub progress: Progress,
    /// A collector thread is waiting to scan this goroutine's stack while
    /// the world runs: the worker running it hands the state over at its
    /// next event boundary (a fair unlock) instead of at the end of its
    /// time slice.
    pub scan_wanted: AtomicBool,
    /// When it was last made runnable, and the world's stopped time
    /// ([`super::StwClock`]) then: written before it enters the run queue,
    /// read by the worker that takes it.
    pub ready_at_ns: AtomicU64,
    pub ready_stw_ns: AtomicU64,
}

impl Goroutine {
    pub fn new() -> Goroutine {
        Goroutine {
            state: Mutex::new(GoroutineState {
                stack: None,
                pc: 0,
                reader: Reader::default(),
                deref_pos: 0,
                exited: false,
                spans: Vec::new(),
                closed_spans: Vec::new(),
                time: TimeSplit::default(),
                dep_wait_since: None,
                growths: 0,
                peak_stack_bytes: 0,
            }),
            progress: Progress::new(),
            scan_wanted: AtomicBool::new(false),
            ready_at_ns: AtomicU64::new(0),
            ready_stw_ns: AtomicU64::new(0),
        }
    }
}

impl GoroutineState {
    /// Starts the goroutine with a fresh stack.
    pub fn start(&mut self, limit: StackLimit) -> &mut Stack {
        self.stack.insert(Stack::new(limit))
    }

    /// Ends the goroutine: its stack goes as a whole.
    pub fn exit(&mut self) {
        if let Some(s) = self.stack.take() {
            self.growths += s.growths();
            self.peak_stack_bytes = self.peak_stack_bytes.max(s.peak_bytes());
        }
        self.exited = true;
    }

    /// Stack growths so far (exited stack included).
    pub fn total_growths(&self) -> u64 {
        self.growths + self.stack.as_ref().map_or(0, |s| s.growths())
    }

    /// Largest stack size so far.
    pub fn max_stack_bytes(&self) -> u64 {
        self.peak_stack_bytes.max(self.stack.as_ref().map_or(0, |s| s.peak_bytes()))
    }
}

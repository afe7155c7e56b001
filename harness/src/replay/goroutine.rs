//! A trace goroutine's replay state: its stack, where it is in its event
//! list, and its open request spans.

use super::scheduler::Progress;
use collectors::runtime::{Stack, StackLimit};
use parking_lot::Mutex;
use workloads::analysis::code::Reader;

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
    /// Open `begin` spans: (tag index, start ns).
    pub spans: Vec<(u32, u64)>,
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
    pub scan_wanted: std::sync::atomic::AtomicBool,
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
                growths: 0,
                peak_stack_bytes: 0,
            }),
            progress: Progress::new(),
            scan_wanted: std::sync::atomic::AtomicBool::new(false),
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

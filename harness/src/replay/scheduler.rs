//! M:N scheduling of trace goroutines onto P workers, dependency waits, and
//! the stop-the-world protocol.
//!
//! Like Go's scheduler in miniature: runnable goroutines wait in one run
//! queue; each of the P workers (rayon threads, like Go's Ps) takes one and
//! runs its events until it must wait for another goroutine (a dependency
//! derived from the trace), finishes, exits, or has run for a time slice; a
//! waiting goroutine yields its worker and is put back on the queue by the
//! goroutine it waits for.
//!
//! Stop-the-world: the requester raises `attention` (checked by every
//! running worker between events — a safepoint) and waits until no worker is
//! running a goroutine; idle workers do not take goroutines while the world
//! is stopped. `running` counts workers between safepoints, so a worker that
//! starts a collection first leaves the count (it is at a safepoint itself).
//! A second requester that arrives while the world is stopping parks like a
//! mutator and is told it lost the race, as Go's `stopTheWorld` serialises
//! on `worldsema`.
//!
//! Lost wake-ups are impossible: a goroutine that must wait registers under
//! the scheduler lock, sets the producer's `has_waiters` flag and re-checks
//! the producer's progress (SeqCst); the producer publishes its progress
//! (SeqCst) before reading `has_waiters` — one of the two always sees the
//! other.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Progress a goroutine publishes for those that depend on it.
pub struct Progress {
    /// Events completed (published after events other goroutines wait for).
    pub done: AtomicU32,
    /// Someone is registered as waiting on this goroutine.
    pub has_waiters: AtomicBool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress { done: AtomicU32::new(0), has_waiters: AtomicBool::new(false) }
    }

    /// Has the goroutine completed its event number `seq`?
    #[inline]
    pub fn reached(&self, seq: u32) -> bool {
        self.done.load(Ordering::Acquire) > seq
    }
}

struct Inner {
    runq: VecDeque<usize>,
    /// Workers running a goroutine (not at a safepoint).
    running: usize,
    /// A stop-the-world is requested or in force.
    stw: bool,
    /// Bumped every time the world restarts.
    epoch: u64,
    /// Goroutines not yet finished (started or still to be started).
    unfinished: usize,
    aborted: bool,
    /// `waiters[h]`: goroutines waiting for goroutine h to reach a seq.
    waiters: Vec<Vec<(usize, u32)>>,
}

/// The scheduler shared by all workers.
pub struct Scheduler {
    /// Times a goroutine had to wait for another (a dependency not yet met).
    pub dep_waits: std::sync::atomic::AtomicU64,
    /// Times a worker picked up a goroutine to run.
    pub dispatches: std::sync::atomic::AtomicU64,
    /// Raised to ask running workers to come to a safepoint (stop or abort).
    attention: AtomicBool,
    inner: Mutex<Inner>,
    cv: Condvar,
}

/// What a worker should do next.
pub enum Next {
    Run(usize),
    Finished,
}

impl Scheduler {
    /// A scheduler for `goroutines` goroutines, of which `total` will run.
    pub fn new(goroutines: usize) -> Scheduler {
        Scheduler {
            dep_waits: std::sync::atomic::AtomicU64::new(0),
            dispatches: std::sync::atomic::AtomicU64::new(0),
            attention: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                runq: VecDeque::new(),
                running: 0,
                stw: false,
                epoch: 0,
                unfinished: goroutines,
                aborted: false,
                waiters: vec![Vec::new(); goroutines],
            }),
            cv: Condvar::new(),
        }
    }

    /// Should the running worker come to a safepoint?
    #[inline]
    pub fn attention(&self) -> bool {
        self.attention.load(Ordering::Relaxed)
    }

    pub fn aborted(&self) -> bool {
        self.inner.lock().aborted
    }

    /// Makes goroutine `g` runnable.
    pub fn ready(&self, g: usize) {
        let mut s = self.inner.lock();
        s.runq.push_back(g);
        self.cv.notify_one();
    }

    /// Blocks until a goroutine is runnable (and the world is not stopped),
    /// or everything is finished. The returned goroutine counts as running.
    pub fn next(&self) -> Next {
        let mut s = self.inner.lock();
        loop {
            if s.aborted || s.unfinished == 0 {
                return Next::Finished;
            }
            if !s.stw {
                if let Some(g) = s.runq.pop_front() {
                    s.running += 1;
                    self.dispatches.fetch_add(1, Ordering::Relaxed);
                    return Next::Run(g);
                }
            }
            self.cv.wait(&mut s);
        }
    }

    /// The worker stopped running its goroutine: `finished` if the goroutine
    /// has no events left.
    pub fn release(&self, finished: bool) {
        let mut s = self.inner.lock();
        s.running -= 1;
        if finished {
            s.unfinished -= 1;
        }
        self.cv.notify_all();
    }

    /// The running worker's goroutine `g` must wait until goroutine `h` has
    /// completed its event `seq`. Returns true if it is parked (the worker
    /// no longer runs it and is released), false if it may go on at once.
    pub fn wait_for(&self, g: usize, h: usize, seq: u32, progress: &Progress) -> bool {
        let mut s = self.inner.lock();
        progress.has_waiters.store(true, Ordering::SeqCst);
        if progress.done.load(Ordering::SeqCst) > seq {
            return false;
        }
        s.waiters[h].push((g, seq));
        self.dep_waits.fetch_add(1, Ordering::Relaxed);
        s.running -= 1;
        self.cv.notify_all();
        true
    }

    /// Goroutine `h` published progress `done`: requeue those waiting for it.
    /// `on_wake` is called (under the scheduler's lock) for each of them
    /// just before it enters the run queue.
    pub fn wake(&self, h: usize, done: u32, progress: &Progress, mut on_wake: impl FnMut(usize)) {
        let mut s = self.inner.lock();
        let mut i = 0;
        let mut woke = false;
        while i < s.waiters[h].len() {
            let (g, seq) = s.waiters[h][i];
            if done > seq {
                s.waiters[h].swap_remove(i);
                on_wake(g);
                s.runq.push_back(g);
                woke = true;
            } else {
                i += 1;
            }
        }
        if s.waiters[h].is_empty() {
            progress.has_waiters.store(false, Ordering::SeqCst);
        }
        if woke {
            self.cv.notify_all();
        }
    }

    /// A running worker reached a safepoint and the world is stopping: park
    /// until it restarts.
    pub fn park(&self) {
        let mut s = self.inner.lock();
        s.running -= 1;
        self.cv.notify_all();
        let epoch = s.epoch;
        while s.stw && s.epoch == epoch && !s.aborted {
            self.cv.wait(&mut s);
        }
        s.running += 1;
    }

    /// A running worker leaves the running set to act at a safepoint (start a
    /// collection); [`Scheduler::resume`] brings it back.
    pub fn leave(&self) {
        let mut s = self.inner.lock();
        s.running -= 1;
        self.cv.notify_all();
    }

    /// Rejoins the running set after [`Scheduler::leave`], waiting out a
    /// stop-the-world in force.
    pub fn resume(&self) {
        let mut s = self.inner.lock();
        while s.stw && !s.aborted {
            self.cv.wait(&mut s);
        }
        s.running += 1;
    }

    /// The running worker gives up its goroutine at the end of a time slice
    /// (the caller then makes it runnable again).
    pub fn requeue(&self) {
        self.release(false);
    }

    /// Stops the world. Returns false if another thread stopped it first (the
    /// caller waited, parked, until it restarted).
    pub fn stop_the_world(&self) -> bool {
        let mut s = self.inner.lock();
        if s.stw {
            let epoch = s.epoch;
            while s.stw && s.epoch == epoch {
                self.cv.wait(&mut s);
            }
            return false;
        }
        s.stw = true;
        self.attention.store(true, Ordering::SeqCst);
        while s.running > 0 {
            self.cv.wait(&mut s);
        }
        true
    }

    /// Restarts the world.
    pub fn start_the_world(&self) {
        let mut s = self.inner.lock();
        s.stw = false;
        s.epoch += 1;
        self.attention.store(s.aborted, Ordering::SeqCst);
        self.cv.notify_all();
    }

    /// Ends the replay early (a fatal error): every worker finishes.
    pub fn abort(&self) {
        let mut s = self.inner.lock();
        s.aborted = true;
        self.attention.store(true, Ordering::SeqCst);
        self.cv.notify_all();
    }
}

//! M:N scheduling of trace goroutines onto P workers, dependency waits, and
//! the stop-the-world protocol.
//!
//! Like Go's scheduler in miniature: runnable goroutines wait in one run
//! queue; each of the P workers (threads, like Go's Ps with their Ms) takes
//! one and runs its events until it must wait for another goroutine (a
//! dependency derived from the trace), finishes, exits, or has run for a
//! time slice; a waiting goroutine yields its worker and is put back on the
//! queue by the goroutine it waits for.
//!
//! Idle workers cost nothing, so `--procs` can be far above the goroutines
//! that run at once. Workers are started on demand, as Go starts an M only
//! when a goroutine is runnable and every running one is busy (`wakep`,
//! `startm`): the host starts one thread whenever [`Scheduler::workers_to_start`]
//! says so, up to the limit it set. A worker with nothing to run sleeps on
//! its own (`thread::park`), on a stack of idle workers. A goroutine made
//! runnable wakes one — the most recently idle, as Go's idle-P list is LIFO
//! — unless a worker is already *spinning* (between goroutines, about to
//! look at the run queue: Go's `nmspinning`), and a spinning worker that
//! finds a goroutine wakes the next one if more are queued, as Go's
//! `resetspinning` does. So no more workers run than goroutines are
//! runnable at once; the same few keep running, and the others — and their
//! allocation caches — stay asleep. No wake-up reaches every worker except
//! at the end of the replay.
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
//! Each stop records, for every worker running a goroutine when it was
//! requested, when and where that worker left the running set
//! ([`SafepointArrival`]), and how long its thread was off its processor
//! meanwhile: the requester reads the worker's thread CPU clock if it is
//! still running [`READ_CPU_CLOCKS_AFTER`] the request (outside the lock,
//! [`CpuAtRequest`]), the worker its own as it arrives. This bookkeeping is
//! on the slow path only: nothing is added between events.
//!
//! Lost wake-ups are impossible: a goroutine that must wait registers under
//! the scheduler lock, sets the producer's `has_waiters` flag and re-checks
//! the producer's progress (SeqCst); the producer publishes its progress
//! (SeqCst) before reading `has_waiters` — one of the two always sees the
//! other. An idle worker is told to look again under the lock (its `woken`
//! flag) before it is unparked, and an unpark that comes before the park is
//! not lost.

use crate::metrics::{SafepointArrival, SafepointAt};
use collectors::background::{Mode, SliceEnd, Work, WorkerPlan};
use collectors::cpu_time::{try_thread_cpu_ns, ThreadCpuClock};
use parking_lot::{Condvar, Mutex, MutexGuard};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a stop the world spins waiting for the running workers before
/// it sleeps on the condition variable. Long enough for a worker between
/// events (it checks every few hundred nanoseconds), short enough that on a
/// machine with more runnable threads than cores the spinning requester
/// does not keep a descheduled worker off the processor for long.
const STOP_SPIN: std::time::Duration = std::time::Duration::from_micros(20);

/// A fractional slice marks at least this long before its share is
/// checked (Go's fractional worker checks only every `idleCheckThreshold`
/// units of scan work): early in a mark, when little time has passed, any
/// slice overshoots the share at once, and the worker would otherwise
/// switch back and forth without marking.
const MIN_FRACTIONAL_SLICE_NS: u64 = 20_000;

/// A stop reads the thread CPU clocks of the workers still running this
/// long after its request. Reading another thread's clock is a system call
/// (about a microsecond), as long as most stops take to find every worker:
/// the wait first keeps those stops as short as they were, and a worker
/// that arrives within it was not kept away from its processor for long.
const READ_CPU_CLOCKS_AFTER: Duration = Duration::from_micros(2);

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
    /// `on_goroutine[w]`: worker w is one of them.
    on_goroutine: Vec<bool>,
    /// `clocks[w]`: worker w's thread CPU clock, once it registered.
    clocks: Vec<Option<ThreadCpuClock>>,
    /// The stop the world being requested: the workers that arrived.
    stop: Option<StopUnderWay>,
    /// A stop-the-world is requested or in force.
    stw: bool,
    /// Bumped every time the world restarts.
    epoch: u64,
    /// Goroutines not yet finished (started or still to be started).
    unfinished: usize,
    aborted: bool,
    /// `waiters[h]`: goroutines waiting for goroutine h to reach a seq.
    waiters: Vec<Vec<(usize, u32)>>,
    /// Workers with nothing to run, asleep; the most recently idle last.
    idle: Vec<(usize, Thread)>,
    /// `woken[w]`: idle worker w was taken off `idle` and told to look again.
    woken: Vec<bool>,
    /// Workers between goroutines that will look at `runq` before they
    /// sleep: released ones, woken ones, new ones.
    spinning: usize,
    /// Workers started or asked for, and the most there may be.
    workers: usize,
    max_workers: usize,
    /// Workers asked for that the host has not started yet.
    to_start: usize,
    /// The collector's background work (see [`collectors::background`]).
    gc: GcWork,
}

/// The collector's background work as the scheduler hands it out: Go's
/// `findRunnableGCWorker`, with dedicated, fractional and idle workers.
struct GcWork {
    /// The work wanted (none: no slice is handed out).
    wanted: Option<Work>,
    /// Bumped by every request and every slice that left work: a slice that
    /// found nothing to do clears `wanted` only if nothing changed since it
    /// started.
    generation: u64,
    /// Dedicated slices running now.
    dedicated: usize,
    /// When the mark under way started, and each worker's time in
    /// fractional slices since.
    mark_start_ns: u64,
    fractional_ns: Vec<u64>,
}

impl GcWork {
    /// The kind of slice worker `w` should run now ahead of any goroutine
    /// (a dedicated or a fractional one), if any; counts a dedicated one.
    fn ahead_of_goroutines(&mut self, plan: &WorkerPlan, w: usize, now_ns: u64, room: bool) -> Option<Mode> {
        if self.wanted != Some(Work::Mark) {
            return None;
        }
        if self.dedicated < plan.dedicated {
            self.dedicated += 1;
            return Some(Mode::Dedicated);
        }
        if !room {
            return None;
        }
        let done = self.fractional_ns.get(w).copied().unwrap_or(0);
        plan.fractional_due(done, now_ns.saturating_sub(self.mark_start_ns)).then_some(Mode::Fractional)
    }
}

/// A background slice a worker was given: how, and the work generation it
/// started in (handed back to [`Scheduler::slice_done`]).
#[derive(Clone, Copy, Debug)]
pub struct Slice {
    pub mode: Mode,
    /// The work it is for.
    pub work: Work,
    generation: u64,
    /// For a fractional slice: the worker's fractional time before it, and
    /// when marking started.
    pub fractional_before_ns: u64,
    pub mark_start_ns: u64,
}

impl Inner {
    fn finished(&self) -> bool {
        self.aborted || self.unfinished == 0
    }
}

/// A stop the world from its request until the last running worker
/// reached a safepoint.
struct StopUnderWay {
    requested: Instant,
    /// In the order the workers arrived.
    arrivals: Vec<SafepointArrival>,
}

/// [`CpuAtRequest::cpu_ns`] before either the reading or the arrival.
const NOT_READ: u64 = u64::MAX;
/// [`CpuAtRequest::cpu_ns`] once the worker arrived first.
const ARRIVED: u64 = u64::MAX - 1;

/// One worker's thread CPU clock as a stop's requester read it, for the
/// worker to find when it arrives. The requester reads outside the lock,
/// racing the worker; whichever is first takes the slot (`cpu_ns` leaves
/// [`NOT_READ`] once), so a reading is used only if it was taken before
/// the worker arrived.
struct CpuAtRequest {
    /// [`NOT_READ`] (set under the lock as each stop is requested), then the
    /// CPU time read, or [`ARRIVED`].
    cpu_ns: AtomicU64,
    /// When it was read, ns after the request (written before `cpu_ns`).
    read_at_ns: AtomicU64,
}

impl CpuAtRequest {
    fn new() -> CpuAtRequest {
        CpuAtRequest { cpu_ns: AtomicU64::new(NOT_READ), read_at_ns: AtomicU64::new(0) }
    }

    /// The requester: publish a reading unless the worker arrived first.
    fn publish(&self, cpu_ns: u64, read_at_ns: u64) {
        self.read_at_ns.store(read_at_ns, Ordering::Relaxed);
        let _ = self.cpu_ns.compare_exchange(NOT_READ, cpu_ns.min(ARRIVED - 1), Ordering::Release, Ordering::Relaxed);
    }

    /// The worker, arriving: the reading (CPU ns, when read) if the
    /// requester published one first; from now on none is taken.
    fn take_on_arrival(&self) -> Option<(u64, u64)> {
        let cpu_ns = self.cpu_ns.swap(ARRIVED, Ordering::Acquire);
        (cpu_ns < ARRIVED).then(|| (cpu_ns, self.read_at_ns.load(Ordering::Relaxed)))
    }
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
    /// The stop-the-world protocol: a requester waiting for the running
    /// workers, workers parked at a safepoint or waiting to rejoin.
    cv: Condvar,
    /// The host waiting to be asked for workers.
    spawn_cv: Condvar,
    /// Marking is wanted: a worker running a goroutine looks, at its
    /// periodic checks, whether to switch to a dedicated or fractional slice.
    mark_wanted: AtomicBool,
    /// The workers allowed (`--procs`).
    plan_procs: usize,
    /// Goroutines in the run queue: an idle slice stops when one waits.
    runnable: AtomicUsize,
    /// `running`, readable without the lock: a stop the world spins on it
    /// before it sleeps.
    running_now: AtomicUsize,
    /// Workers in a dedicated or fractional slice now: processors the
    /// mutator has lost to background marking (see [`Scheduler::may_assist`]).
    marking_workers: AtomicUsize,
    /// Workers in a mark assist now.
    assisting_workers: AtomicUsize,
    plan: WorkerPlan,
    /// `cpu_at_request[w]`: worker w's CPU clock as the current stop read it.
    cpu_at_request: Box<[CpuAtRequest]>,
}

/// What a worker should do next.
pub enum Next {
    Run(usize),
    /// Run a slice of the collector's background work.
    Background(Slice),
    Finished,
}

impl Scheduler {
    /// A scheduler for `goroutines` goroutines, with one worker until
    /// [`Scheduler::allow_workers`] allows more.
    pub fn new(goroutines: usize) -> Scheduler {
        Scheduler {
            dep_waits: std::sync::atomic::AtomicU64::new(0),
            dispatches: std::sync::atomic::AtomicU64::new(0),
            attention: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                runq: VecDeque::new(),
                running: 0,
                on_goroutine: Vec::new(),
                clocks: Vec::new(),
                stop: None,
                stw: false,
                epoch: 0,
                unfinished: goroutines,
                aborted: false,
                waiters: vec![Vec::new(); goroutines],
                idle: Vec::new(),
                woken: Vec::new(),
                spinning: 0,
                workers: 0,
                max_workers: 1,
                to_start: 0,
                gc: GcWork { wanted: None, generation: 0, dedicated: 0, mark_start_ns: 0, fractional_ns: Vec::new() },
            }),
            cv: Condvar::new(),
            spawn_cv: Condvar::new(),
            mark_wanted: AtomicBool::new(false),
            plan_procs: 1,
            runnable: AtomicUsize::new(0),
            running_now: AtomicUsize::new(0),
            marking_workers: AtomicUsize::new(0),
            assisting_workers: AtomicUsize::new(0),
            plan: WorkerPlan::for_procs(1),
            cpu_at_request: Box::new([CpuAtRequest::new()]),
        }
    }

    /// Worker `w` starts running a goroutine.
    fn running_up(&self, s: &mut Inner, w: usize) {
        if s.on_goroutine.len() <= w {
            s.on_goroutine.resize(w + 1, false);
        }
        debug_assert!(!s.on_goroutine[w], "worker {w} runs two goroutines");
        s.on_goroutine[w] = true;
        s.running += 1;
        self.running_now.store(s.running, Ordering::SeqCst);
    }

    /// Worker `w` leaves the running set, at a safepoint `at`: if a stop is
    /// being requested, it has arrived.
    fn running_down(&self, s: &mut Inner, w: usize, at: SafepointAt) {
        debug_assert!(s.on_goroutine.get(w) == Some(&true), "worker {w} was not running a goroutine");
        s.on_goroutine[w] = false;
        s.running -= 1;
        if let Some(stop) = s.stop.as_mut() {
            stop.arrivals.push(self.arrival(stop.requested, w, at));
        }
        self.running_now.store(s.running, Ordering::SeqCst);
    }

    /// Worker `w` (the calling thread) arrives at safepoint `at` for the
    /// stop requested at `requested`. It reads its own CPU clock (a system
    /// call, about a microsecond) only if the requester read it first: a
    /// worker that arrives at once costs the stop nothing more. Both
    /// readings err towards less time off the CPU: the wall clock is read
    /// after the requester's CPU reading and before the worker's.
    fn arrival(&self, requested: Instant, w: usize, at: SafepointAt) -> SafepointArrival {
        let ttsp_ns = Instant::now().saturating_duration_since(requested).as_nanos() as u64;
        let at_request = self.cpu_at_request.get(w).and_then(CpuAtRequest::take_on_arrival);
        let off_cpu_ns = at_request.and_then(|(cpu_then, read_at_ns)| {
            let on_cpu_ns = try_thread_cpu_ns()?.saturating_sub(cpu_then);
            Some(ttsp_ns.saturating_sub(read_at_ns).saturating_sub(on_cpu_ns))
        });
        SafepointArrival { worker: w, ttsp_ns, at, off_cpu_ns }
    }

    /// Worker `w`, on its own thread as it starts: its thread CPU clock, for
    /// stops to read while it runs.
    pub fn register_worker(&self, w: usize) {
        let mut s = self.inner.lock();
        if s.clocks.len() <= w {
            s.clocks.resize(w + 1, None);
        }
        s.clocks[w] = ThreadCpuClock::of_current_thread();
    }

    /// Allows up to `n` workers (at least one), started as goroutines need
    /// them; the collector's background work is split among them by Go's
    /// plan for `n` processors.
    pub fn allow_workers(&mut self, n: usize) {
        let n = n.max(1);
        self.plan = WorkerPlan::for_procs(n);
        self.plan_procs = n;
        self.cpu_at_request = (0..n).map(|_| CpuAtRequest::new()).collect();
        let s = self.inner.get_mut();
        s.max_workers = n;
        s.gc.fractional_ns = vec![0; n];
    }

    /// The collector has background work of kind `work` (at `now_ns`):
    /// hand out slices of it, waking idle workers (or starting one) to take
    /// them.
    pub fn request_background(&self, work: Work, now_ns: u64) {
        let mut s = self.inner.lock();
        if s.finished() {
            return;
        }
        let gc = &mut s.gc;
        gc.generation += 1;
        if work == Work::Mark && gc.wanted != Some(Work::Mark) {
            gc.mark_start_ns = now_ns;
            gc.fractional_ns.iter_mut().for_each(|f| *f = 0);
        }
        if gc.wanted != Some(Work::Mark) {
            gc.wanted = Some(work);
        }
        self.mark_wanted.store(gc.wanted == Some(Work::Mark), Ordering::SeqCst);
        self.wake_for_background(&mut s);
    }

    /// Wakes workers for background work: for marking every idle worker
    /// (each marks until a goroutine is runnable), for sweeping one; a new
    /// worker if none is idle and the limit allows.
    fn wake_for_background(&self, s: &mut Inner) {
        let Some(work) = s.gc.wanted else { return };
        let mut woke = false;
        while let Some((w, thread)) = s.idle.pop() {
            s.woken[w] = true;
            s.spinning += 1;
            thread.unpark();
            woke = true;
            if work == Work::Sweep {
                break;
            }
        }
        if !woke && s.workers < s.max_workers && !s.stw {
            s.workers += 1;
            s.to_start += 1;
            s.spinning += 1;
            self.spawn_cv.notify_one();
        }
    }

    /// Workers that may mark beside the mutators at once, in fractional
    /// slices and assists together: half of them, at least one — a stand-in
    /// for Go's GC CPU limiter (runtime/mgclimit.go), which stops assists
    /// once the collector takes more than half the CPU. (Dedicated slices,
    /// a quarter of the workers, are not held back.)
    fn gc_cap(&self) -> usize {
        (self.plan_procs / 2).max(1)
    }

    /// Is there room under [`Scheduler::gc_cap`] for one more worker to mark?
    fn gc_room(&self) -> bool {
        self.marking_workers.load(Ordering::SeqCst) + self.assisting_workers.load(Ordering::SeqCst) < self.gc_cap()
    }

    /// A running goroutine wants to assist: true (and counted until
    /// [`Scheduler::end_assist`]) if there is room under the cap; false: it
    /// keeps its debt and runs on.
    pub fn try_begin_assist(&self) -> bool {
        // Loads first: a goroutine with debt asks at every event while
        // there is no room.
        if !self.gc_room() {
            return false;
        }
        let assisting = self.assisting_workers.fetch_add(1, Ordering::SeqCst);
        if assisting + self.marking_workers.load(Ordering::SeqCst) >= self.gc_cap() {
            self.assisting_workers.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    pub fn end_assist(&self) {
        self.assisting_workers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Should the worker `w`, running a goroutine, give it up for a
    /// dedicated or fractional slice now? Cheap while no mark is under way.
    #[inline]
    pub fn mark_slice_due(&self, w: usize, now_ns: u64) -> bool {
        if !self.mark_wanted.load(Ordering::Relaxed) {
            return false;
        }
        let s = self.inner.lock();
        let gc = &s.gc;
        gc.wanted == Some(Work::Mark)
            && (gc.dedicated < self.plan.dedicated
                || self.gc_room()
                    && self.plan.fractional_due(
                        gc.fractional_ns.get(w).copied().unwrap_or(0),
                        now_ns.saturating_sub(gc.mark_start_ns),
                    ))
    }

    /// Should a running slice stop now? For a stop the world always; a
    /// fractional slice once its worker's share overshoots the goal
    /// (`now_ns`, and its start `start_ns`); an idle one once a goroutine
    /// is runnable. Lock-free.
    #[inline]
    pub fn slice_should_yield(&self, slice: &Slice, start_ns: u64, now_ns: impl Fn() -> u64) -> bool {
        if self.attention() {
            return true;
        }
        match slice.mode {
            Mode::Dedicated => false,
            Mode::Idle => self.runnable.load(Ordering::Relaxed) > 0,
            Mode::Fractional => {
                let now = now_ns();
                let ran = now.saturating_sub(start_ns);
                ran >= MIN_FRACTIONAL_SLICE_NS
                    && self
                        .plan
                        .fractional_over(slice.fractional_before_ns + ran, now.saturating_sub(slice.mark_start_ns))
            }
        }
    }

    /// Worker `w`'s slice ended after `ran_ns`, leaving `end`.
    pub fn slice_done(&self, w: usize, slice: &Slice, ran_ns: u64, end: SliceEnd) {
        let mut s = self.inner.lock();
        if slice.mode.takes_mutator_time() {
            self.marking_workers.fetch_sub(1, Ordering::Relaxed);
        }
        let gc = &mut s.gc;
        match slice.mode {
            Mode::Dedicated => gc.dedicated -= 1,
            Mode::Fractional => {
                if let Some(f) = gc.fractional_ns.get_mut(w) {
                    *f += ran_ns;
                }
            }
            Mode::Idle => {}
        }
        match end {
            SliceEnd::Yielded(work) => {
                gc.generation += 1;
                gc.wanted = Some(work);
            }
            SliceEnd::Done => {
                if gc.generation == slice.generation {
                    gc.wanted = None;
                }
            }
        }
        self.mark_wanted.store(gc.wanted == Some(Work::Mark), Ordering::SeqCst);
        s.spinning += 1;
    }

    /// For the host: blocks until workers are wanted, and returns how many
    /// to start now (numbered on from those started before), or `None` once
    /// the replay is over.
    pub fn workers_to_start(&self) -> Option<usize> {
        let mut s = self.inner.lock();
        loop {
            if s.finished() {
                return None;
            }
            if s.to_start > 0 {
                return Some(std::mem::take(&mut s.to_start));
            }
            self.spawn_cv.wait(&mut s);
        }
    }

    /// A goroutine became runnable: unless a worker is spinning already,
    /// wake an idle worker, or ask for a new one if every worker is busy and
    /// the limit allows.
    fn find_worker(&self, s: &mut Inner) {
        if s.spinning > 0 {
            return;
        }
        if let Some((w, thread)) = s.idle.pop() {
            s.woken[w] = true;
            s.spinning += 1;
            thread.unpark();
        } else if s.workers < s.max_workers {
            s.workers += 1;
            s.to_start += 1;
            s.spinning += 1;
            self.spawn_cv.notify_one();
        }
    }

    /// The replay is over (or aborted): every idle worker and the host wake
    /// to finish.
    fn wake_everyone(&self, s: &mut Inner) {
        for (w, thread) in std::mem::take(&mut s.idle) {
            s.woken[w] = true;
            s.spinning += 1;
            thread.unpark();
        }
        self.spawn_cv.notify_all();
        self.cv.notify_all();
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
        self.runnable.store(s.runq.len(), Ordering::Relaxed);
        self.find_worker(&mut s);
    }

    /// For worker number `w` (spinning: new, woken, or just released):
    /// blocks until a goroutine is runnable (and the world is not stopped),
    /// or everything is finished. The returned goroutine counts as running.
    ///
    /// A dedicated or fractional slice of marking comes before any
    /// goroutine, background work after them all (Go's `schedule`: a GC
    /// worker first, an idle mark worker when the run queue is empty).
    pub fn next(&self, w: usize, now_ns: impl Fn() -> u64) -> Next {
        let mut s = self.inner.lock();
        loop {
            debug_assert!(s.spinning > 0, "a worker looks for work without being counted as spinning");
            s.spinning = s.spinning.saturating_sub(1);
            if s.finished() {
                return Next::Finished;
            }
            if !s.stw {
                let generation = s.gc.generation;
                let slice = |mode, gc: &GcWork| Slice {
                    mode,
                    work: gc.wanted.unwrap_or(Work::Mark),
                    generation,
                    fractional_before_ns: gc.fractional_ns.get(w).copied().unwrap_or(0),
                    mark_start_ns: gc.mark_start_ns,
                };
                if let Some(mode) = s.gc.ahead_of_goroutines(&self.plan, w, now_ns(), self.gc_room()) {
                    self.marking_workers.fetch_add(1, Ordering::Relaxed);
                    return Next::Background(slice(mode, &s.gc));
                }
                if let Some(g) = s.runq.pop_front() {
                    self.runnable.store(s.runq.len(), Ordering::Relaxed);
                    self.running_up(&mut s, w);
                    self.dispatches.fetch_add(1, Ordering::Relaxed);
                    if !s.runq.is_empty() {
                        self.find_worker(&mut s);
                    }
                    return Next::Run(g);
                }
                if s.gc.wanted.is_some() {
                    return Next::Background(slice(Mode::Idle, &s.gc));
                }
            }
            self.sleep_idle(&mut s, w);
        }
    }

    /// Worker `w` has nothing to run: sleep until woken.
    fn sleep_idle(&self, s: &mut MutexGuard<'_, Inner>, w: usize) {
        if s.woken.len() <= w {
            s.woken.resize(w + 1, false);
        }
        s.woken[w] = false;
        s.idle.push((w, std::thread::current()));
        while !s.woken[w] {
            MutexGuard::unlocked(s, std::thread::park);
        }
    }

    /// Worker `w` stopped running its goroutine: `finished` if the goroutine
    /// has no events left. The worker's next call is [`Scheduler::next`].
    pub fn release(&self, w: usize, finished: bool) {
        let mut s = self.inner.lock();
        self.running_down(&mut s, w, SafepointAt::Switch);
        s.spinning += 1;
        if finished {
            s.unfinished -= 1;
            if s.unfinished == 0 {
                self.wake_everyone(&mut s);
            }
        }
        self.cv.notify_all();
    }

    /// The goroutine `g` running on worker `w` must wait until goroutine `h`
    /// has completed its event `seq`. Returns true if it is parked (the
    /// worker no longer runs it and is released: its next call is
    /// [`Scheduler::next`]), false if it may go on at once.
    pub fn wait_for(&self, w: usize, g: usize, h: usize, seq: u32, progress: &Progress) -> bool {
        let mut s = self.inner.lock();
        progress.has_waiters.store(true, Ordering::SeqCst);
        if progress.done.load(Ordering::SeqCst) > seq {
            return false;
        }
        s.waiters[h].push((g, seq));
        self.dep_waits.fetch_add(1, Ordering::Relaxed);
        self.running_down(&mut s, w, SafepointAt::DepWait);
        s.spinning += 1;
        self.cv.notify_all();
        true
    }

    /// Goroutine `h` published progress `done`: requeue those waiting for it.
    /// `on_wake` is called (under the scheduler's lock) for each of them
    /// just before it enters the run queue.
    pub fn wake(&self, h: usize, done: u32, progress: &Progress, mut on_wake: impl FnMut(usize)) {
        let mut s = self.inner.lock();
        let mut i = 0;
        while i < s.waiters[h].len() {
            let (g, seq) = s.waiters[h][i];
            if done > seq {
                s.waiters[h].swap_remove(i);
                on_wake(g);
                s.runq.push_back(g);
                self.runnable.store(s.runq.len(), Ordering::Relaxed);
                self.find_worker(&mut s);
            } else {
                i += 1;
            }
        }
        if s.waiters[h].is_empty() {
            progress.has_waiters.store(false, Ordering::SeqCst);
        }
    }

    /// Running worker `w` reached safepoint `at` and the world is stopping:
    /// park until it restarts.
    pub fn park(&self, w: usize, at: SafepointAt) {
        let mut s = self.inner.lock();
        self.running_down(&mut s, w, at);
        self.cv.notify_all();
        let epoch = s.epoch;
        while s.stw && s.epoch == epoch && !s.aborted {
            self.cv.wait(&mut s);
        }
        self.running_up(&mut s, w);
    }

    /// Running worker `w` leaves the running set to act at safepoint `at`
    /// (start a collection, run a test's hook); [`Scheduler::resume`] brings
    /// it back.
    pub fn leave(&self, w: usize, at: SafepointAt) {
        let mut s = self.inner.lock();
        self.running_down(&mut s, w, at);
        self.cv.notify_all();
    }

    /// Worker `w` rejoins the running set after [`Scheduler::leave`], waiting
    /// out a stop-the-world in force.
    pub fn resume(&self, w: usize) {
        let mut s = self.inner.lock();
        while s.stw && !s.aborted {
            self.cv.wait(&mut s);
        }
        self.running_up(&mut s, w);
    }

    /// Worker `w` gives up its goroutine at the end of a time slice (the
    /// caller then makes it runnable again).
    pub fn requeue(&self, w: usize) {
        self.release(w, false);
    }

    /// Stops the world, requested at `requested`. Returns, in the order
    /// they arrived, the workers that were running a goroutine and their
    /// ways to a safepoint; `None` if another thread stopped it first (the
    /// caller waited, parked, until it restarted).
    pub fn stop_the_world(&self, requested: Instant) -> Option<Vec<SafepointArrival>> {
        let mut s = self.inner.lock();
        if s.stw {
            let epoch = s.epoch;
            while s.stw && s.epoch == epoch {
                self.cv.wait(&mut s);
            }
            return None;
        }
        s.stw = true;
        self.attention.store(true, Ordering::SeqCst);
        s.stop = Some(StopUnderWay { requested, arrivals: Vec::with_capacity(s.running) });
        // Workers check for the request between events, a few hundred
        // nanoseconds apart: spin a little before sleeping, so that the
        // stop is seen the moment the last one arrives, not a wake-up later;
        // read the CPU clocks of those not there after the first moments.
        if s.running > 0 {
            let clocks = self.clocks_to_read(&s);
            MutexGuard::unlocked(&mut s, || {
                let read_clocks_at = requested + READ_CPU_CLOCKS_AFTER;
                while self.running_now.load(Ordering::SeqCst) != 0 && Instant::now() < read_clocks_at {
                    std::hint::spin_loop();
                }
                for &(w, clock) in &clocks {
                    let slot = &self.cpu_at_request[w];
                    if self.running_now.load(Ordering::SeqCst) == 0 {
                        break; // every one arrived: no reading would be used
                    }
                    if slot.cpu_ns.load(Ordering::Relaxed) != NOT_READ {
                        continue; // it arrived already
                    }
                    if let Some(cpu_ns) = clock.read_ns() {
                        slot.publish(cpu_ns, requested.elapsed().as_nanos() as u64);
                    }
                }
                'spin: loop {
                    for _ in 0..64 {
                        if self.running_now.load(Ordering::SeqCst) == 0 {
                            break 'spin;
                        }
                        std::hint::spin_loop();
                    }
                    if requested.elapsed() > STOP_SPIN {
                        break;
                    }
                }
            });
        }
        while s.running > 0 {
            self.cv.wait(&mut s);
        }
        Some(s.stop.take().map_or_else(Vec::new, |stop| stop.arrivals))
    }

    /// The registered CPU clocks of the workers running a goroutine now,
    /// each worker's [`CpuAtRequest`] made ready for this stop's reading.
    fn clocks_to_read(&self, s: &Inner) -> SmallVec<[(usize, ThreadCpuClock); 8]> {
        let mut clocks = SmallVec::new();
        for (w, _) in s.on_goroutine.iter().enumerate().filter(|(_, running)| **running) {
            let (Some(slot), Some(Some(clock))) = (self.cpu_at_request.get(w), s.clocks.get(w)) else { continue };
            slot.cpu_ns.store(NOT_READ, Ordering::Relaxed);
            clocks.push((w, *clock));
        }
        clocks
    }

    /// Restarts the world; goroutines made runnable meanwhile get workers.
    pub fn start_the_world(&self) {
        let mut s = self.inner.lock();
        s.stw = false;
        s.epoch += 1;
        self.attention.store(s.aborted, Ordering::SeqCst);
        self.cv.notify_all();
        for _ in 0..s.runq.len() {
            self.find_worker(&mut s);
        }
        self.wake_for_background(&mut s);
    }

    /// Ends the replay early (a fatal error): every worker finishes.
    pub fn abort(&self) {
        let mut s = self.inner.lock();
        s.aborted = true;
        self.attention.store(true, Ordering::SeqCst);
        self.wake_everyone(&mut s);
    }
}

#[cfg(test)]
mod safepoint_tests {
    use super::*;
    use crate::metrics::PauseRecord;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Waits (yielding) until `cond` holds; a minute without it fails the
    /// test (a broken protocol, never a slow machine).
    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cond() {
            assert!(Instant::now() < deadline, "waited a minute for {what}");
            std::thread::yield_now();
        }
    }

    /// A scheduler whose workers 0, 1 and 2 each took a goroutine (0, 1, 2).
    fn three_running() -> Scheduler {
        let mut s = Scheduler::new(3);
        s.allow_workers(3);
        for g in 0..3 {
            s.ready(g);
        }
        for w in 0..3 {
            assert_eq!(s.workers_to_start(), Some(1));
            assert!(matches!(s.next(w, || 0), Next::Run(g) if g == w));
        }
        s
    }

    #[test]
    fn a_stop_lists_the_running_workers_in_the_order_they_arrive_and_no_idle_one() {
        let s = three_running();
        // Worker 2 finishes its goroutine: idle when the stop comes.
        s.release(2, true);
        let s = &s;
        let (arrivals, on_goroutine_after) = std::thread::scope(|scope| {
            // Worker 0 runs on a thread of its own (it parks), its CPU clock
            // registered; worker 1, driven from this thread, registers none.
            let (registered_tx, registered_rx) = mpsc::channel();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let worker0 = scope.spawn(move || {
                s.register_worker(0);
                registered_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                s.park(0, SafepointAt::Work);
            });
            registered_rx.recv().unwrap();
            let requester = scope.spawn(|| s.stop_the_world(Instant::now()));
            wait_until("the stop request", || s.attention());
            // Worker 1 arrives first: its goroutine waits for goroutine 0.
            assert!(s.wait_for(1, 1, 0, 0, &Progress::new()), "goroutine 0 has not done event 0");
            // Worker 0 arrives once the requester has read its clock.
            wait_until("the reading of worker 0's clock", || {
                s.cpu_at_request[0].cpu_ns.load(Ordering::SeqCst) != NOT_READ
            });
            go_tx.send(()).unwrap();
            let arrivals = requester.join().unwrap().expect("the only requester stops the world");
            s.start_the_world();
            worker0.join().unwrap();
            (arrivals, s.inner.lock().on_goroutine.clone())
        });
        let got: Vec<(usize, SafepointAt)> = arrivals.iter().map(|a| (a.worker, a.at)).collect();
        assert_eq!(got, [(1, SafepointAt::DepWait), (0, SafepointAt::Work)], "worker 2 was idle: not listed");
        assert!(arrivals[0].ttsp_ns <= arrivals[1].ttsp_ns, "{arrivals:?}");
        assert_eq!(arrivals[0].off_cpu_ns, None, "worker 1 registered no clock");
        let off_cpu = arrivals[1].off_cpu_ns.expect("worker 0's clock was read before it arrived");
        assert!(off_cpu <= arrivals[1].ttsp_ns, "{arrivals:?}");
        let pause = PauseRecord {
            gc: 1,
            phase: "stw-full",
            trigger: None,
            start_ns: 0,
            duration_ns: arrivals[1].ttsp_ns,
            ttsp_ns: arrivals[1].ttsp_ns,
            safepoints: arrivals,
        };
        assert_eq!(pause.late_worker().map(|a| a.worker), Some(0), "the last to arrive is late");
        // Worker 0 is back on its goroutine; 1 and 2 are not.
        assert_eq!(on_goroutine_after, [true, false, false]);
    }

    #[test]
    fn a_stop_while_no_worker_runs_lists_none() {
        let s = three_running();
        s.leave(0, SafepointAt::GcStart);
        s.release(1, false);
        s.requeue(2);
        let arrivals = s.stop_the_world(Instant::now()).expect("the only requester stops the world");
        assert!(arrivals.is_empty(), "{arrivals:?}");
        s.start_the_world();
        s.resume(0);
        // The next stop waits for worker 0, which leaves as its goroutine
        // waits: it is listed, at `dep-wait`.
        std::thread::scope(|scope| {
            let requester = scope.spawn(|| s.stop_the_world(Instant::now()));
            wait_until("the stop request", || s.attention());
            assert!(s.wait_for(0, 0, 1, 0, &Progress::new()));
            let arrivals = requester.join().unwrap().unwrap();
            assert_eq!(arrivals.iter().map(|a| (a.worker, a.at)).collect::<Vec<_>>(), [(0, SafepointAt::DepWait)]);
        });
    }

    #[test]
    fn a_cpu_reading_counts_only_if_taken_before_the_worker_arrived() {
        let slot = CpuAtRequest::new();
        slot.publish(1_000, 40);
        assert_eq!(slot.take_on_arrival(), Some((1_000, 40)));
        // The next stop: the worker arrives before the requester's reading.
        slot.cpu_ns.store(NOT_READ, Ordering::Relaxed);
        assert_eq!(slot.take_on_arrival(), None);
        slot.publish(2_000, 70);
        assert_eq!(slot.take_on_arrival(), None, "a reading after the arrival is not used");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_start_one_at_a_time_only_while_goroutines_wait_for_one() {
        let mut s = Scheduler::new(3);
        s.allow_workers(1000);
        s.ready(0);
        s.ready(1);
        assert_eq!(s.workers_to_start(), Some(1), "one worker for the first goroutine");
        // Worker 0 starts, takes goroutine 0, and — one more is queued —
        // asks for the next worker.
        assert!(matches!(s.next(0, || 0), Next::Run(0)));
        assert_eq!(s.workers_to_start(), Some(1));
        assert!(matches!(s.next(1, || 0), Next::Run(1)));
        // Worker 1 releases goroutine 1 and is about to look for work: a
        // goroutine made runnable now is left to it, no new worker.
        s.release(1, true);
        s.ready(2);
        assert_eq!(s.inner.lock().to_start, 0, "a spinning worker takes it");
        assert!(matches!(s.next(1, || 0), Next::Run(2)));
        s.release(1, true);
        assert_eq!(s.inner.lock().workers, 2, "two workers for 1000 allowed");
        // Worker 0 finishes the last goroutine: everyone is done.
        s.release(0, true);
        assert!(matches!(s.next(0, || 0), Next::Finished));
        assert_eq!(s.workers_to_start(), None);
    }

    // The tests below drive the collector's background work with explicit
    // clock readings. A worker calls `next` only when it is counted as
    // spinning and has something to take: with nothing, `next` would sleep.

    /// The slice `next` hands worker `w` at `now_ns`; panics on anything else.
    fn slice_for(s: &Scheduler, w: usize, now_ns: u64) -> Slice {
        match s.next(w, || now_ns) {
            Next::Background(slice) => slice,
            Next::Run(g) => panic!("worker {w} was handed goroutine {g}, not a slice"),
            Next::Finished => panic!("worker {w} was told the replay is finished"),
        }
    }

    /// The goroutine `next` hands worker `w` at `now_ns`; panics on anything else.
    fn goroutine_for(s: &Scheduler, w: usize, now_ns: u64) -> usize {
        match s.next(w, || now_ns) {
            Next::Run(g) => g,
            Next::Background(slice) => panic!("worker {w} was handed a {} slice, not a goroutine", slice.mode.name()),
            Next::Finished => panic!("worker {w} was told the replay is finished"),
        }
    }

    fn wanted(s: &Scheduler) -> Option<Work> {
        s.inner.lock().gc.wanted
    }

    #[test]
    fn no_slice_is_due_while_no_mark_is_wanted() {
        let mut s = Scheduler::new(2);
        s.allow_workers(4);
        assert!(!s.mark_slice_due(0, 0));
        assert!(!s.mark_slice_due(0, 1_000_000), "nothing requested");
        s.ready(0);
        s.request_background(Work::Sweep, 0);
        assert_eq!(wanted(&s), Some(Work::Sweep));
        assert!(!s.mark_slice_due(0, 1_000_000), "sweeping takes no worker from a goroutine");
        assert!(!s.mark_slice_due(3, 1_000_000));
    }

    #[test]
    fn a_dedicated_worker_marks_before_any_goroutine_and_only_one_does() {
        // Go's plan for 4 Ps: one dedicated worker, no fractional share.
        let mut s = Scheduler::new(2);
        s.allow_workers(4);
        assert_eq!(s.plan, WorkerPlan { dedicated: 1, fractional_goal: 0.0 });
        s.ready(0);
        s.ready(1);
        s.request_background(Work::Mark, 0);
        assert_eq!(s.workers_to_start(), Some(2), "one for the goroutines, one for the marking");
        let dedicated = slice_for(&s, 0, 10);
        assert_eq!(dedicated.mode, Mode::Dedicated, "marking comes before the runnable goroutines");
        assert_eq!(goroutine_for(&s, 1, 10), 0, "the dedicated worker is taken: the next one runs a goroutine");
        assert!(!s.mark_slice_due(1, 1_000_000), "no second dedicated worker, no fractional share");
        assert!(!s.slice_should_yield(&dedicated, 10, || 1_000_000), "a dedicated slice runs until asked to stop");
        // The dedicated slice yields with marking left: the next worker to
        // look takes the dedicated place again, ahead of goroutine 1.
        s.slice_done(0, &dedicated, 500, SliceEnd::Yielded(Work::Mark));
        assert!(s.mark_slice_due(1, 1_000), "the dedicated place is free");
        assert_eq!(slice_for(&s, 0, 600).mode, Mode::Dedicated);
        assert!(!s.mark_slice_due(1, 1_000));
        // Worker 1 finishes goroutine 0; goroutine 1 is still runnable and
        // comes before an idle slice.
        s.release(1, true);
        assert_eq!(goroutine_for(&s, 1, 700), 1);
        // It finishes that one too: with nothing runnable, it marks as an
        // idle worker, and stops when a goroutine is runnable again.
        s.release(1, false);
        let idle = slice_for(&s, 1, 800);
        assert_eq!(idle.mode, Mode::Idle);
        assert!(!s.slice_should_yield(&idle, 800, || 900));
        s.ready(1);
        assert!(s.slice_should_yield(&idle, 800, || 900), "a runnable goroutine ends an idle slice");
    }

    #[test]
    fn a_fractional_worker_marks_until_its_share_meets_the_goal() {
        // Go's plan for 2 Ps: no dedicated worker, each marks a quarter of
        // its time.
        let mut s = Scheduler::new(1);
        s.allow_workers(2);
        assert_eq!(s.plan, WorkerPlan { dedicated: 0, fractional_goal: 0.25 });
        s.ready(0);
        s.request_background(Work::Mark, 100_000);
        assert_eq!(s.workers_to_start(), Some(2));
        // 100 µs into the mark, worker 0 has marked nothing: below its
        // 25 µs share, so it marks before running goroutine 0.
        assert!(s.mark_slice_due(0, 200_000));
        let fractional = slice_for(&s, 0, 200_000);
        assert_eq!(fractional.mode, Mode::Fractional);
        assert_eq!((fractional.fractional_before_ns, fractional.mark_start_ns), (0, 100_000));
        // The slice stops once the worker's share passes 1.2 × the goal:
        // at 230 µs it has marked 30 of 130 µs (the bound is 39), at 260 µs
        // 60 of 160 (the bound is 48).
        assert!(!s.slice_should_yield(&fractional, 200_000, || 230_000));
        assert!(s.slice_should_yield(&fractional, 200_000, || 260_000));
        s.slice_done(0, &fractional, 30_000, SliceEnd::Yielded(Work::Mark));
        // 30 µs of 100: the share is met, so the goroutine runs.
        assert!(!s.mark_slice_due(0, 200_000));
        assert_eq!(goroutine_for(&s, 0, 200_000), 0);
        // Later the share falls below the goal again (30 of 200 µs): the
        // running worker is told to switch at its next check.
        assert!(s.mark_slice_due(0, 300_000));
        // Worker 1 has marked nothing yet: its own share is due.
        assert_eq!(slice_for(&s, 1, 200_000).mode, Mode::Fractional);
    }

    #[test]
    fn a_fractional_slice_marks_its_minimum_before_its_share_is_checked() {
        let mut s = Scheduler::new(1);
        s.allow_workers(2);
        s.request_background(Work::Mark, 0);
        let fractional = slice_for(&s, 0, 0);
        assert_eq!(fractional.mode, Mode::Fractional);
        // 10 µs into the mark it has marked all 10: far over its share, but
        // not yet its minimum slice of 20 µs.
        assert!(!s.slice_should_yield(&fractional, 0, || 10_000));
        assert!(s.slice_should_yield(&fractional, 0, || MIN_FRACTIONAL_SLICE_NS));
    }

    #[test]
    fn at_most_half_the_workers_mark_beside_the_mutators_in_fractional_slices_and_assists() {
        // 2 workers: room for one at a time.
        let mut s = Scheduler::new(2);
        s.allow_workers(2);
        s.ready(0);
        s.ready(1);
        s.request_background(Work::Mark, 0);
        let fractional = slice_for(&s, 0, 0);
        assert_eq!(fractional.mode, Mode::Fractional);
        assert!(!s.try_begin_assist(), "a fractional slice runs: no assist beside it");
        assert!(!s.mark_slice_due(1, 0), "nor a second fractional slice");
        s.slice_done(0, &fractional, 10_000, SliceEnd::Yielded(Work::Mark));
        assert!(s.try_begin_assist(), "the slice is over: room for an assist");
        assert!(!s.try_begin_assist(), "but for one only");
        assert!(!s.mark_slice_due(0, 20_000), "and no fractional slice while it assists");
        s.end_assist();
        assert!(s.mark_slice_due(0, 1_000_000), "its share is due again once the assist is over");
    }

    #[test]
    fn sweeping_goes_only_to_a_worker_with_nothing_to_run() {
        let mut s = Scheduler::new(3);
        s.allow_workers(4);
        s.ready(0);
        s.ready(1);
        s.request_background(Work::Sweep, 0);
        assert_eq!(s.workers_to_start(), Some(2));
        assert_eq!(goroutine_for(&s, 0, 10), 0, "runnable goroutines come before sweeping");
        assert_eq!(goroutine_for(&s, 1, 10), 1);
        s.release(1, true);
        let sweep = slice_for(&s, 1, 20);
        assert_eq!(sweep.mode, Mode::Idle, "the run queue is empty: worker 1 sweeps, as an idle worker");
        s.slice_done(1, &sweep, 5, SliceEnd::Done);
        assert_eq!(wanted(&s), None, "nothing was requested since the slice started: no more slices");
    }

    #[test]
    fn a_slice_that_finds_nothing_does_not_cancel_a_newer_request() {
        let mut s = Scheduler::new(1);
        s.allow_workers(2);
        s.request_background(Work::Mark, 0);
        let older = slice_for(&s, 0, 0);
        assert_eq!(older.mode, Mode::Fractional);
        // The collector asks again while the slice runs (more grey
        // objects); the slice then finds nothing left of what it saw.
        s.request_background(Work::Mark, 10);
        s.slice_done(0, &older, 20, SliceEnd::Done);
        assert_eq!(wanted(&s), Some(Work::Mark), "the newer request stands");
        assert!(s.mark_slice_due(1, 100));
        // A slice started after the newer request that finds nothing does
        // end it.
        let newer = slice_for(&s, 1, 100);
        s.slice_done(1, &newer, 0, SliceEnd::Done);
        assert_eq!(wanted(&s), None);
        assert!(!s.mark_slice_due(1, 1_000_000));
    }
}

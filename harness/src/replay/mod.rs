//! The replayer: runs a trace's goroutines in parallel against a collector.
//!
//! Goroutines are scheduled M:N onto `--procs` workers of a rayon pool
//! ([`scheduler`]); each runs its own events in order ([`exec`]), waiting
//! where the trace says another goroutine must have gone first (dependencies
//! derived at load: accesses to the same global or block slot keep trace
//! order), so a parallel replay ends in the same state as the sequential
//! trace. Every event boundary is a safepoint. The replayer is the
//! collector's [`Host`]: it stops and restarts the world, hands over roots
//! (globals, then one goroutine stack at a time), and records every pause.
//! Under `--verify` it also feeds the [`crate::verify::Verifier`]. Tests
//! can hold goroutines at event boundaries ([`hooks`]) to replay one chosen
//! interleaving.

mod exec;
mod goroutine;
pub mod hooks;
mod scheduler;

use crate::latency::SpanRecord;
use crate::metrics::{AssistRecord, GcSliceRecord, Metrics, PauseRecord, SafepointArrival, SafepointAt};
use crate::verify::{Verifier, Violation};
use collectors::background::Work;
use collectors::host::RootVisitor;
use collectors::runtime::{Globals, StackLimit, StackOverflow};
use collectors::{Collector, CycleRecord, Heap, HeapError, Host, Phase, RootSet, Stopped, Trigger};
use goroutine::{Goroutine, GoroutineState};
use hooks::ReplayHooks;
use parking_lot::Mutex;
use scheduler::{Next, Scheduler, Slice};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workloads::analysis::code::Insn;
use workloads::analysis::{Place, PreparedTrace};
use workloads::model::GoroutineId;

/// Go's scheduler preempts a goroutine that has run for 10 ms
/// (`forcePreemptNS` in runtime/proc.go); a replayed goroutine yields its
/// worker after the same slice (by default: [`ReplayOptions::time_slice_ns`]).
pub const TIME_SLICE_NS: u64 = 10_000_000;
/// How often (in events) a running goroutine checks its time slice and
/// publishes progress for the progress bar.
const CHECK_EVERY_EVENTS: u32 = 256;

/// How to replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Workers (GOMAXPROCS).
    pub procs: usize,
    /// Check every free and every access against the oracle.
    pub verify: bool,
    /// Put every block on the heap.
    pub no_stack: bool,
    pub stack_limit: StackLimit,
    /// Show a progress bar on stderr (hidden when stderr is not a terminal).
    pub progress: bool,
    /// A running goroutine yields its worker after this long (checked every
    /// few hundred events); `None`: only when it waits or ends. With one
    /// worker and no time slice the order in which events run is a function
    /// of the trace alone, not of the clock.
    pub time_slice_ns: Option<u64>,
    /// Called before every event (tests: to drive an interleaving).
    pub hooks: Option<Arc<dyn ReplayHooks>>,
    /// Run the collector's background work on a thread of its own, in
    /// slices that never yield, instead of on the workers. For tests that
    /// hold the collector between the steps of its cycle while the one
    /// worker runs the mutators (`harness/tests/common/lockstep.rs`); a
    /// measurement never uses it.
    pub gc_on_own_thread: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            procs: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            verify: false,
            no_stack: false,
            stack_limit: StackLimit::default(),
            progress: false,
            time_slice_ns: Some(TIME_SLICE_NS),
            hooks: None,
            gc_on_own_thread: false,
        }
    }
}

/// Why a replay ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// A goroutine's stack would exceed the limit: Go's fatal stack overflow.
    StackOverflow { goroutine: GoroutineId, limit: u64, at: String },
    /// The heap's reservation is exhausted.
    OutOfMemory { message: String, at: String },
    /// Memory did not hold what the trace implies (a broken collector).
    Fault { message: String, at: String },
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fatal::StackOverflow { goroutine, limit, at } => write!(
                f,
                "runtime: goroutine stack exceeds {limit}-byte limit\nfatal error: stack overflow\n\ngoroutine {} [running]: at {at}",
                goroutine.0
            ),
            Fatal::OutOfMemory { message, at } => write!(f, "fatal error: out of memory: {message} (at {at})"),
            Fatal::Fault { message, at } => write!(f, "fatal error: replay fault: {message} (at {at})"),
        }
    }
}

/// An event, as its goroutine's (dense index) `seq`-th.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventAt {
    pub g: usize,
    pub seq: u32,
}

/// An error that ends the replay. Boxed so that the `Result`s of the
/// per-event helpers stay two words, returned in registers.
#[derive(Debug)]
pub(crate) struct Fault(Box<Fatal>);

/// Everything one replay measured.
#[derive(Debug)]
pub struct RunResult {
    pub collector: String,
    pub procs: usize,
    /// Events executed, and the wall time of the replay itself.
    pub events: u64,
    pub wall_ns: u64,
    /// CPU time every thread of the process used over the same span
    /// (mutators, the collector's work on the workers and on threads of its
    /// own, the verifier's checks when on): the total a lower-bound
    /// overhead analysis distils.
    pub process_cpu_ns: u64,
    /// Where the replay's span `[0, wall_ns]` starts on the clock of
    /// [`PauseRecord::start_ns`], the cycle, assist and span records: 0, as
    /// that clock starts with the replay (kept for records made on other
    /// clocks, e.g. tests').
    pub replay_start_ns: u64,
    /// Wall-clock time when the replay started.
    pub started_at: std::time::SystemTime,
    pub pauses: Vec<PauseRecord>,
    /// Mark assists: mutator stalls (not stop-the-world pauses).
    pub assists: Vec<AssistRecord>,
    pub cycles: Vec<CycleRecord>,
    /// The trace's span tags: [`SpanRecord::tag`] indexes them.
    pub span_tags: Vec<String>,
    /// Every closed span with where its time went, by start time (the
    /// figures are [`crate::latency`]'s).
    pub span_records: Vec<SpanRecord>,
    /// Scheduling: goroutines dispatched to workers, and waits on another
    /// goroutine's progress (the trace's cross-goroutine dependencies).
    pub dispatches: u64,
    pub dep_waits: u64,
    pub stack_growths: u64,
    pub max_stack_bytes: u64,
    pub peak_heap_bytes: u64,
    /// After the final collection: heap blocks still allocated, and the sum
    /// of their declared sizes.
    pub final_live_objects: u64,
    pub final_live_bytes: u64,
    /// `Some` when `--verify` was on.
    pub violations: Option<Vec<Violation>>,
    pub violation_count: u64,
    /// Under `--verify`: per block, the cycle that freed it (0: never freed).
    pub freed_by_cycle: Option<Vec<u64>>,
    pub fatal: Option<Fatal>,
    /// CPU time the collector's background work took during the replay
    /// ([`Host::request_background`]): its slices on the workers (or its own
    /// thread's, under [`ReplayOptions::gc_on_own_thread`]).
    pub background_thread_cpu_ns: u64,
    /// The slices of the collector's background work, in time order.
    pub gc_slices: Vec<GcSliceRecord>,
    /// CPU time the collector's work took during the replay, on every
    /// thread, each part timed by the thread that ran it
    /// (`CLOCK_THREAD_CPUTIME_ID`): the collections the workers ran (their
    /// stop-the-world pauses and what a pause waits for), the mark assists,
    /// the background work (`background_thread_cpu_ns`) and the collector's
    /// own threads ([`Collector::own_threads_cpu_ns`]). The final
    /// collection, after the replay, is not in it. What a lower-bound
    /// overhead analysis subtracts from `process_cpu_ns` ([`crate::lbo`]).
    pub gc_cpu_ns: u64,
}

/// The shared state of one replay.
pub(crate) struct Replay<'a> {
    prepared: &'a PreparedTrace,
    placements: &'a [Place],
    collector: &'a dyn Collector,
    heap: &'a Heap,
    /// The collector wants stores into globals to go through its barrier.
    barrier_on_globals: bool,
    opts: &'a ReplayOptions,
    globals: Globals,
    goroutines: Vec<Goroutine>,
    sched: Scheduler,
    clock: Instant,
    verifier: Option<Verifier<'a>>,
    metrics: Metrics,
    fatal: Mutex<Option<Fatal>>,
    events_done: AtomicU64,
    /// Time the verifier spent inside the current pause (not counted as pause).
    verify_ns: AtomicU64,
    /// The workers are there to run the collector's background work
    /// ([`Host::request_background`]); false before they start and once they
    /// have finished (the collector then does it itself).
    workers_alive: AtomicBool,
    /// Under [`ReplayOptions::gc_on_own_thread`], that thread's requests:
    /// (requested, replay finished).
    background: Mutex<(bool, bool)>,
    background_cv: parking_lot::Condvar,
    /// CPU time of the background work so far.
    background_thread_cpu_ns: AtomicU64,
    /// CPU time of the collections and mark assists the workers ran so far.
    foreground_gc_cpu_ns: AtomicU64,
    /// Time the world has been stopped, for span accounting.
    stw_clock: StwClock,
    /// The running workers' ways to the safepoint of the stop in force.
    safepoints: Mutex<Vec<SafepointArrival>>,
}

/// The total time the world has been stopped so far: how much of a
/// goroutine's wait in the run queue a stop-the-world explains.
#[derive(Default)]
struct StwClock {
    /// (completed stops' total, start of the one in force).
    state: Mutex<(u64, Option<u64>)>,
}

impl StwClock {
    fn stopped(&self, start_ns: u64) {
        self.state.lock().1 = Some(start_ns);
    }

    fn restarted(&self, end_ns: u64) {
        let mut s = self.state.lock();
        if let Some(start) = s.1.take() {
            s.0 += end_ns.saturating_sub(start);
        }
    }

    /// Stopped time up to `now_ns` (not before the last reading's `now_ns`).
    fn reading(&self, now_ns: u64) -> u64 {
        let s = self.state.lock();
        s.0 + s.1.map_or(0, |start| now_ns.saturating_sub(start))
    }
}

/// Replays a prepared trace against `collector`.
pub fn replay(prepared: &PreparedTrace, collector: &dyn Collector, opts: &ReplayOptions) -> RunResult {
    let placements = prepared.placements(opts.no_stack);
    // Built before the clock starts: the replay's timestamps count from its
    // start, not from the verifier's set-up.
    let verifier = opts.verify.then(|| Verifier::new(prepared, opts.no_stack));
    let r = Replay {
        prepared,
        placements,
        collector,
        heap: collector.heap(),
        barrier_on_globals: collector.capabilities().barrier_on_globals,
        opts,
        globals: Globals::new(prepared.globals as usize),
        goroutines: prepared.goroutines.iter().map(|_| Goroutine::new()).collect(),
        metrics: Metrics::default(),
        sched: Scheduler::new(prepared.goroutines.len()),
        clock: Instant::now(),
        verifier,
        fatal: Mutex::new(None),
        events_done: AtomicU64::new(0),
        verify_ns: AtomicU64::new(0),
        workers_alive: AtomicBool::new(false),
        background: Mutex::new((false, false)),
        background_cv: parking_lot::Condvar::new(),
        stw_clock: StwClock::default(),
        background_thread_cpu_ns: AtomicU64::new(0),
        foreground_gc_cpu_ns: AtomicU64::new(0),
        safepoints: Mutex::new(Vec::new()),
    };
    r.run()
}

impl<'a> Replay<'a> {
    #[inline]
    fn now(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// Where event `seq` of goroutine `g` is in the trace, for messages
    /// (the first call builds the trace-order index: errors only).
    fn at(&self, ev: EventAt) -> String {
        let i = self.prepared.event_index()[ev.g][ev.seq as usize] as usize;
        format!("{}: {}", self.prepared.file(), self.prepared.pos(i))
    }

    #[cold]
    #[inline(never)]
    fn fault(&self, ev: EventAt, msg: &str) -> Fault {
        Fault(Box::new(Fatal::Fault { message: msg.to_string(), at: self.at(ev) }))
    }

    #[cold]
    #[inline(never)]
    fn stack_overflow(&self, g: usize, ev: EventAt, e: StackOverflow) -> Fault {
        let goroutine = self.prepared.goroutines[g].id;
        Fault(Box::new(Fatal::StackOverflow { goroutine, limit: e.limit, at: self.at(ev) }))
    }

    #[cold]
    #[inline(never)]
    fn out_of_memory(&self, ev: EventAt, e: HeapError) -> Fault {
        Fault(Box::new(Fatal::OutOfMemory { message: e.to_string(), at: self.at(ev) }))
    }

    fn fail(&self, f: Fault) {
        let mut slot = self.fatal.lock();
        if slot.is_none() {
            *slot = Some(*f.0);
        }
        drop(slot);
        self.sched.abort();
    }

    /// Running worker `w` saw `attention` at `at`: park until the world
    /// restarts.
    fn safepoint(&self, w: usize, at: SafepointAt) {
        self.sched.park(w, at);
    }

    /// Runs `hooks` before event `seq` of goroutine `g` on worker `w`, whose
    /// state the caller has unlocked: at a safepoint, out of the running set
    /// (the world may stop meanwhile, and the goroutine's stack be scanned),
    /// back in it once the hook returns and no stop is in force. Returns the
    /// time held.
    fn hold(&self, hooks: &dyn ReplayHooks, w: usize, g: usize, seq: u32) -> u64 {
        let t = self.now();
        self.sched.leave(w, SafepointAt::Hook);
        hooks.before_event(g, seq);
        self.sched.resume(w);
        self.now() - t
    }

    /// Makes goroutine `g` runnable, stamping when (for span accounting).
    fn make_ready(&self, g: usize) {
        self.stamp_ready(g);
        self.sched.ready(g);
    }

    fn stamp_ready(&self, g: usize) {
        let now = self.now();
        let gor = &self.goroutines[g];
        gor.ready_at_ns.store(now, Ordering::Relaxed);
        gor.ready_stw_ns.store(self.stw_clock.reading(now), Ordering::Relaxed);
    }

    /// A worker took goroutine `g` (whose state `st` it holds): charge the
    /// time since it left a worker to dep-wait, queued, or — while the world
    /// was stopped — paused.
    fn account_dispatch(&self, g: usize, st: &mut GoroutineState) {
        let now = self.now();
        let gor = &self.goroutines[g];
        let ready_at = gor.ready_at_ns.load(Ordering::Relaxed);
        if let Some(since) = st.dep_wait_since.take() {
            st.time.dep_wait_ns += ready_at.saturating_sub(since);
        }
        let queued = now.saturating_sub(ready_at);
        let stopped = self.stw_clock.reading(now).saturating_sub(gor.ready_stw_ns.load(Ordering::Relaxed)).min(queued);
        st.time.paused_ns += stopped;
        st.time.queued_ns += queued - stopped;
    }

    fn run(mut self) -> RunResult {
        self.goroutines[0].state.lock().start(self.opts.stack_limit);
        // Up to `procs` workers, each a thread started when a goroutine is
        // runnable and every worker is busy (see `scheduler`).
        self.sched.allow_workers(self.opts.procs.clamp(1, collectors::collector::MAX_PROCS));
        // The replay's clock starts now: every timestamp counts from the
        // start of the replay.
        self.clock = Instant::now();
        let started_at = std::time::SystemTime::now();
        let t0 = 0;
        let process_cpu0 = collectors::cpu_time::process_cpu_ns();
        let own_threads_cpu0 = self.collector.own_threads_cpu_ns();
        self.make_ready(0);
        let finished = AtomicBool::new(false);
        let stopped = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            if self.opts.progress {
                scope.spawn(|| self.show_progress(&finished));
            }
            self.workers_alive.store(true, Ordering::SeqCst);
            if self.opts.gc_on_own_thread {
                scope.spawn(|| self.background_thread());
            }
            let mut workers = Vec::new();
            while let Some(n) = self.sched.workers_to_start() {
                for _ in 0..n {
                    let (id, stopped, replay) = (workers.len(), &stopped, &self);
                    let worker = std::thread::Builder::new()
                        .name(format!("mutator-{id}"))
                        .spawn_scoped(scope, move || replay.worker(id, stopped))
                        .expect("cannot start a mutator worker thread");
                    workers.push(worker);
                }
            }
            for w in workers {
                if let Err(panic) = w.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            if let Some(hooks) = &self.opts.hooks {
                hooks.mutators_done();
            }
            self.workers_alive.store(false, Ordering::SeqCst);
            if !self.opts.gc_on_own_thread {
                // Background work still under way when the mutators are
                // done (a mark, a sweep) is finished here, within the replay.
                self.finish_background_here();
            }
            finished.store(true, Ordering::Relaxed);
            let mut b = self.background.lock();
            b.1 = true;
            self.background_cv.notify_all();
        });
        let wall_ns = self.now() - t0;
        let process_cpu_ns = collectors::cpu_time::process_cpu_ns().saturating_sub(process_cpu0);
        let background_thread_cpu_ns = self.background_thread_cpu_ns.load(Ordering::Relaxed);
        let gc_cpu_ns = background_thread_cpu_ns
            + self.foreground_gc_cpu_ns.load(Ordering::Relaxed)
            + self.collector.own_threads_cpu_ns().saturating_sub(own_threads_cpu0);
        // Every worker (and the collector's own thread, if any) has stopped: the caches
        // give their spans back with no collection under way.
        for mut m in stopped.into_inner() {
            self.collector.release_mutator(&mut m);
        }
        let fatal = self.fatal.lock().clone();
        if fatal.is_none() {
            self.collector.collect(&self, Trigger::Final);
        }
        let (final_live_objects, final_live_bytes) = self.heap.live_declared_bytes();
        let (violations, violation_count, freed_by_cycle) = match &self.verifier {
            Some(v) => {
                v.finish(self.collector.capabilities().collects, fatal.is_none());
                let (list, n) = v.violations();
                (Some(list), n, Some(v.freed_by()))
            }
            None => (None, 0, None),
        };
        let (mut stack_growths, mut max_stack_bytes) = (0, 0);
        for g in &self.goroutines {
            let st = g.state.lock();
            stack_growths += st.total_growths();
            max_stack_bytes = max_stack_bytes.max(st.max_stack_bytes());
        }
        let (pauses, cycles) = self.metrics.take();
        let assists = self.metrics.take_assists();
        let mut span_records: Vec<SpanRecord> =
            self.goroutines.iter_mut().flat_map(|g| std::mem::take(&mut g.state.get_mut().closed_spans)).collect();
        span_records.sort_by_key(|s| (s.start_ns, s.goroutine));
        RunResult {
            collector: self.collector.name().to_string(),
            procs: self.opts.procs,
            events: self.events_done.load(Ordering::Relaxed),
            wall_ns,
            process_cpu_ns,
            replay_start_ns: t0,
            started_at,
            pauses,
            assists,
            cycles,
            span_tags: self.prepared.tags.clone(),
            span_records,
            dispatches: self.sched.dispatches.load(Ordering::Relaxed),
            dep_waits: self.sched.dep_waits.load(Ordering::Relaxed),
            stack_growths,
            max_stack_bytes,
            peak_heap_bytes: self.heap.peak_inuse_bytes(),
            final_live_objects,
            final_live_bytes,
            violations,
            violation_count,
            freed_by_cycle,
            fatal,
            background_thread_cpu_ns,
            gc_slices: self.metrics.take_gc_slices(),
            gc_cpu_ns,
        }
    }

    fn show_progress(&self, finished: &AtomicBool) {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(self.prepared.events() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(crate::progress::with_rate(
            indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:40}] {human_pos}/{human_len} events{rate}")
                .expect("valid template")
                .progress_chars("=> "),
        ));
        bar.set_prefix(self.collector.name().to_string());
        while !finished.load(Ordering::Relaxed) {
            bar.set_position(self.events_done.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    }

    /// Adds the calling thread's CPU time since `cpu0` (its
    /// `CLOCK_THREAD_CPUTIME_ID` then) to the collector's work on the
    /// workers: a collection or a mark assist it just ran.
    fn add_foreground_gc_cpu(&self, cpu0: u64) {
        let cpu_ns = collectors::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
        self.foreground_gc_cpu_ns.fetch_add(cpu_ns, Ordering::Relaxed);
    }

    /// Runs every background work left to its end on the calling thread,
    /// adding the CPU time it took (`CLOCK_THREAD_CPUTIME_ID`).
    fn finish_background_here(&self) {
        let cpu0 = collectors::cpu_time::thread_cpu_ns();
        self.collector.finish_background(self);
        let cpu_ns = collectors::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
        self.background_thread_cpu_ns.fetch_add(cpu_ns, Ordering::Relaxed);
    }

    /// Under [`ReplayOptions::gc_on_own_thread`], the thread the
    /// collector's background work runs on: each request's slices, without
    /// yielding, until one says it is done; a request still pending when
    /// the mutators are done is run too.
    fn background_thread(&self) {
        loop {
            let mut b = self.background.lock();
            while !b.0 && !b.1 {
                self.background_cv.wait(&mut b);
            }
            if b.0 {
                b.0 = false;
                drop(b);
                self.finish_background_here();
                continue;
            }
            break;
        }
    }

    /// One P, worker number `id`: take runnable goroutines and slices of
    /// the collector's background work and run them until nothing is left.
    /// Its mutator context (the allocation cache) is made at its first
    /// goroutine, so a worker that never runs one holds no spans; when it
    /// stops, the context goes to `stopped`, to be released once no other
    /// thread can be collecting.
    fn worker(&self, id: usize, stopped: &Mutex<Vec<collectors::Mutator>>) {
        self.sched.register_worker(id);
        let mut m = None;
        loop {
            match self.sched.next(id, || self.now()) {
                Next::Run(g) => {
                    let m = m.get_or_insert_with(|| self.collector.new_mutator());
                    self.run_goroutine(id, g, m);
                }
                Next::Background(slice) => self.run_slice(id, &slice),
                Next::Finished => break,
            }
        }
        stopped.lock().extend(m);
    }

    /// Runs one slice of the collector's background work on worker `id`,
    /// outside the running set (a stop the world does not wait for it: the
    /// slice stops at its next poll), and records it.
    fn run_slice(&self, id: usize, slice: &Slice) {
        let start_ns = self.now();
        let cpu0 = collectors::cpu_time::thread_cpu_ns();
        let gc = self.collector.cycles() + 1;
        let end = self
            .collector
            .background_slice(self, slice.work, &|| self.sched.slice_should_yield(slice, start_ns, || self.now()));
        let duration_ns = self.now() - start_ns;
        let cpu_ns = collectors::cpu_time::thread_cpu_ns().saturating_sub(cpu0);
        self.background_thread_cpu_ns.fetch_add(cpu_ns, Ordering::Relaxed);
        self.sched.slice_done(id, slice, duration_ns, end);
        self.metrics.record_gc_slice(GcSliceRecord { gc, worker: id, mode: slice.mode, start_ns, duration_ns, cpu_ns });
    }

    /// Runs goroutine `g` until it waits, finishes, or its slice ends. The
    /// worker leaves the running set on return.
    fn run_goroutine(&self, w: usize, g: usize, m: &mut collectors::Mutator) {
        let prog = &self.prepared.programs[g];
        let steps = prog.steps;
        let gor = &self.goroutines[g];
        m.goroutine = g;
        let mut st = gor.state.lock();
        self.account_dispatch(g, &mut st);
        let slice_start = self.now();
        let mut unpublished = 0u32;
        // Where this worker noticed a stop: between events, unless an
        // assist saw it between its steps.
        let mut noticed_at = SafepointAt::Event;
        'events: loop {
            if self.sched.attention() {
                drop(st);
                if self.sched.aborted() {
                    self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                    self.sched.release(w, false);
                    return;
                }
                let t = self.now();
                self.safepoint(w, std::mem::replace(&mut noticed_at, SafepointAt::Event));
                st = gor.state.lock();
                let now = self.now();
                st.time.paused_ns += now - t;
                // The world restarts with marking to do: as in Go, where
                // every P goes through the scheduler then, a dedicated or
                // fractional slice takes the worker first.
                if self.sched.mark_slice_due(w, now) && st.pc < steps {
                    drop(st);
                    self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                    self.sched.requeue(w);
                    self.make_ready(g);
                    return;
                }
                continue;
            }
            if gor.scan_wanted.load(Ordering::Relaxed) {
                // Stop for a concurrent stack scan: hand the goroutine to the
                // waiting scanner, then take it back.
                let t = self.now();
                parking_lot::MutexGuard::unlock_fair(st);
                st = gor.state.lock();
                st.time.paused_ns += self.now() - t;
                continue;
            }
            let pc = st.pc;
            if pc >= steps {
                drop(st);
                if let Some(hooks) = &self.opts.hooks {
                    self.hold(hooks.as_ref(), w, g, pc);
                }
                self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                self.sched.release(w, true);
                return;
            }
            let mut reader = st.reader.clone();
            let mut deps: SmallVec<[(u32, u32); 4]> = SmallVec::new();
            let insn = reader.next(&prog.code, |dg, ds| deps.push((dg, ds)));
            for &(dg, dseq) in &deps {
                let p = &self.goroutines[dg as usize].progress;
                if !p.reached(dseq) {
                    // Stamped before parking: once parked, another worker
                    // may wake and take the goroutine at once.
                    st.dep_wait_since = Some(self.now());
                    drop(st);
                    self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                    unpublished = 0;
                    if self.sched.wait_for(w, g, dg as usize, dseq, p) {
                        return;
                    }
                    st = gor.state.lock();
                    st.dep_wait_since = None;
                    continue 'events;
                }
            }
            if let Some(hooks) = &self.opts.hooks {
                drop(st);
                let held = self.hold(hooks.as_ref(), w, g, pc);
                st = gor.state.lock();
                st.time.dep_wait_ns += held;
            }
            let after = if let Insn::Work { ns } = insn {
                // Spin for `ns`, parking (without the goroutine) if the world stops:
                // Go's asynchronous preemption of a tight loop.
                let mut left = ns;
                let mut t = self.now();
                while left > 0 {
                    if self.sched.attention() {
                        if self.sched.aborted() {
                            break; // the main loop sees the abort next
                        }
                        drop(st);
                        self.safepoint(w, SafepointAt::Work);
                        st = gor.state.lock();
                        let now = self.now();
                        st.time.paused_ns += now - t;
                        t = now;
                        continue;
                    }
                    if gor.scan_wanted.load(Ordering::Relaxed) {
                        parking_lot::MutexGuard::unlock_fair(st);
                        st = gor.state.lock();
                        let now = self.now();
                        st.time.paused_ns += now - t;
                        t = now;
                    }
                    std::hint::spin_loop();
                    let now = self.now();
                    left = left.saturating_sub(now - t);
                    t = now;
                }
                Default::default()
            } else {
                match self.exec(g, &mut st, m, &insn, EventAt { g, seq: pc }) {
                    Ok(a) => a,
                    Err(f) => {
                        drop(st);
                        self.fail(f);
                        self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                        self.sched.release(w, false);
                        return;
                    }
                }
            };
            st.pc += 1;
            st.reader = reader;
            unpublished += 1;
            if prog.is_dep_target(pc) {
                gor.progress.done.store(st.pc, Ordering::SeqCst);
                if gor.progress.has_waiters.load(Ordering::SeqCst) {
                    self.sched.wake(g, st.pc, &gor.progress, |w| self.stamp_ready(w));
                }
            }
            if let Some(c) = after.spawned {
                self.make_ready(c);
            }
            if m.assist_bytes > 0 && self.sched.try_begin_assist() {
                // A mark assist: this goroutine stalls while it marks, in
                // steps, checking for a stop-the-world between them.
                drop(st);
                let start_ns = self.now();
                let cpu0 = collectors::cpu_time::thread_cpu_ns();
                let mut work_bytes = 0;
                while m.assist_bytes > 0 {
                    if self.sched.attention() {
                        noticed_at = SafepointAt::Assist;
                        break;
                    }
                    let step = self.collector.assist(self, m);
                    if step == 0 {
                        break; // paid, or not now (the debt stays)
                    }
                    work_bytes += step;
                }
                let duration_ns = self.now() - start_ns;
                self.add_foreground_gc_cpu(cpu0);
                if work_bytes > 0 {
                    self.metrics.record_assist(AssistRecord {
                        gc: self.collector.cycles() + 1,
                        goroutine: g,
                        start_ns,
                        duration_ns,
                        work_bytes,
                    });
                }
                self.sched.end_assist();
                st = gor.state.lock();
                st.time.assist_ns += duration_ns;
            }
            let trigger = if after.gc { Some(Trigger::Explicit) } else { m.gc_wanted.take() };
            if let Some(trigger) = trigger {
                m.gc_wanted = None;
                noticed_at = SafepointAt::Event; // it arrives here if a stop is wanted
                drop(st);
                // The goroutine that triggers a collection runs its start
                // (Go's gcStart): stopped by the collector meanwhile.
                let t = self.now();
                let cpu0 = collectors::cpu_time::thread_cpu_ns();
                self.sched.leave(w, SafepointAt::GcStart);
                self.collector.collect(self, trigger);
                self.sched.resume(w);
                self.add_foreground_gc_cpu(cpu0);
                st = gor.state.lock();
                st.time.paused_ns += self.now() - t;
            }
            if unpublished >= CHECK_EVERY_EVENTS {
                self.events_done.fetch_add(unpublished as u64, Ordering::Relaxed);
                unpublished = 0;
                let now = self.now();
                let slice_over = self.opts.time_slice_ns.is_some_and(|slice| now - slice_start > slice);
                if (slice_over || self.sched.mark_slice_due(w, now)) && st.pc < steps {
                    drop(st);
                    self.sched.requeue(w);
                    self.make_ready(g);
                    return;
                }
            }
        }
    }
}

impl RootSet for Replay<'_> {
    fn scan_globals(&self, visit: &mut RootVisitor<'_>) {
        self.globals.scan(visit);
    }

    fn stack_count(&self) -> usize {
        self.goroutines.len()
    }

    fn scan_stack(&self, g: usize, may_shrink: bool, visit: &mut RootVisitor<'_>) {
        let Some(gor) = self.goroutines.get(g) else { return };
        // Holding the goroutine's state stops it; if a worker is running it,
        // ask for it at the worker's next event boundary.
        gor.scan_wanted.store(true, Ordering::Relaxed);
        let mut st = gor.state.lock();
        gor.scan_wanted.store(false, Ordering::Relaxed);
        if let Some(stack) = st.stack.as_mut() {
            stack.scan(visit);
            if may_shrink {
                stack.shrink_if_sparse();
            }
        }
    }
}

impl Host for Replay<'_> {
    fn roots(&self) -> &dyn RootSet {
        self
    }

    fn stop_the_world(&self, cycle: u64, phase: Phase) -> Option<Stopped> {
        let requested = Instant::now();
        let requested_ns = requested.saturating_duration_since(self.clock).as_nanos() as u64;
        let safepoints = self.sched.stop_the_world(requested)?;
        self.stw_clock.stopped(requested_ns);
        let ttsp_ns = self.now() - requested_ns;
        *self.safepoints.lock() = safepoints;
        if let Some(v) = &self.verifier {
            let t = self.now();
            let positions: Vec<u32> = self.goroutines.iter().map(|g| g.state.lock().pc).collect();
            v.at_cut(cycle, &positions);
            self.verify_ns.store(self.now() - t, Ordering::Relaxed);
        }
        Some(Stopped { cycle, phase, requested_ns, ttsp_ns })
    }

    fn start_the_world(&self, stopped: Stopped) {
        if let Some(v) = &self.verifier {
            let t = self.now();
            v.settle();
            self.verify_ns.fetch_add(self.now() - t, Ordering::Relaxed);
        }
        let end = self.now();
        let verify_ns = self.verify_ns.swap(0, Ordering::Relaxed);
        self.stw_clock.restarted(end);
        self.sched.start_the_world();
        self.metrics.record_pause(PauseRecord {
            gc: stopped.cycle,
            phase: stopped.phase.name(),
            trigger: None,
            start_ns: stopped.requested_ns,
            duration_ns: (end - stopped.requested_ns).saturating_sub(verify_ns),
            ttsp_ns: stopped.ttsp_ns,
            safepoints: std::mem::take(&mut *self.safepoints.lock()),
        });
    }

    fn now_ns(&self) -> u64 {
        self.now()
    }

    fn object_sink(&self) -> Option<std::sync::Arc<dyn collectors::ObjectSink>> {
        self.verifier.as_ref().map(Verifier::object_sink)
    }

    fn on_cycle(&self, record: &CycleRecord) {
        self.metrics.record_cycle(record.clone());
    }

    fn request_background(&self, work: Work) -> bool {
        if !self.workers_alive.load(Ordering::SeqCst) {
            return false;
        }
        if self.opts.gc_on_own_thread {
            let mut b = self.background.lock();
            if b.1 {
                return false;
            }
            b.0 = true;
            self.background_cv.notify_all();
            return true;
        }
        self.sched.request_background(work, self.now());
        true
    }

    fn stop_requested(&self) -> bool {
        self.sched.attention()
    }

    fn waiter_may_help(&self) -> bool {
        !self.opts.gc_on_own_thread
    }
}

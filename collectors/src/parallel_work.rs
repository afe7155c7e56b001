//! Stop-the-world parallel GC work with work stealing: the one loop that
//! parallel marking ([`crate::mark`]) and the generational collector's
//! evacuation both run.
//!
//! A caller says what one *root task* does (scan the globals, one
//! goroutine's stack, a batch of dirty cards) and what *processing one grey
//! item* does (scan an object, copy what it points to), by implementing
//! [`GreyWorker`] for its per-worker state. This module owns the rest: who
//! runs which task, where grey items wait, how an idle worker finds work,
//! when the work is finished, and how a panicking worker stops the others.
//!
//! 1. **Claiming tasks.** Root tasks are numbered `0..tasks`; workers claim
//!    them from one atomic counter, so each runs exactly once, on whichever
//!    worker is free. After each task a worker processes the grey items the
//!    task produced (its own deque, step 2) before it claims the next.
//! 2. **Per-worker LIFO deques.** Processing an item may produce more
//!    ([`GreyQueue::push`]); they go to the worker's own deque
//!    (crossbeam-deque), popped last in, first out: depth first, so the
//!    deque stays short and what was just pushed is still in cache.
//! 3. **Stealing batches.** A worker whose deque is empty steals from the
//!    shared injector, then from each worker's deque at its old end, about
//!    half of what is there at once (crossbeam's `steal_batch_and_pop`), so
//!    one steal feeds it for a while. Optionally
//!    ([`GreyWorker::SHARE_BACKLOG_OVER`]), a worker whose deque grows past
//!    a threshold moves half of it into the injector while that is empty.
//! 4. **Termination by active count.** `active` counts the workers that may
//!    still produce items. A worker that finds nothing to pop or steal
//!    leaves the count and watches for stealable work, rejoining the count
//!    before it steals again. The work is finished when `active` reaches
//!    zero: a worker leaves only with its own deque empty and only a counted
//!    worker pushes, so at zero every deque is empty and nobody can refill
//!    one.
//! 5. **Abort on panic.** A worker that panics never leaves the count, so
//!    without more the others would watch for zero forever and the pool —
//!    and the collection, and the program — would hang instead of reporting
//!    the panic. Each worker holds a guard that raises `aborted` as its
//!    thread unwinds; the others then stop claiming tasks and stealing,
//!    empty their own deques, stop waiting and return. A caller that waits for another worker's
//!    progress inside its own processing (the evacuation waits for an
//!    object another worker is copying) polls [`GreyQueue::aborted`] while
//!    it waits. Once every worker has returned, rayon carries the panic to
//!    the caller of [`WorkLoop::run`]. The work is then unfinished: a
//!    caller that catches the panic must not trust what was done.
//!
//! Two ways to start ([`Start`]): every worker at once on the pool's
//! threads (marking), or the calling thread alone, bringing in the others
//! on the pool only when it asks ([`GreyQueue::bring_in_helpers`]; the
//! evacuation does once it has done enough alone to be worth waking them).
//!
//! The pool is a [`GcPool`]: a rayon pool that also adds up the CPU time
//! its threads spend in work loops, so a host can count the collector's
//! CPU on threads it does not own (the lower-bound overhead's attributed
//! cost).

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// A collector's own worker threads for stop-the-world parallel work, and
/// the CPU time they have spent in [`WorkLoop::run`] (their threads' CPU
/// clocks, not the calling thread's: with [`Start::CallerFirst`] worker 0
/// runs on the caller, whose time its caller counts).
pub struct GcPool {
    pool: rayon::ThreadPool,
    cpu_ns: AtomicU64,
}

impl GcPool {
    /// A pool of `threads` threads (at least one), named `<name>-gc-<i>`.
    pub fn new(threads: usize, name: &str) -> GcPool {
        let name = name.to_string();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(move |i| format!("{name}-gc-{i}"))
            .build()
            .expect("cannot start GC worker threads");
        GcPool { pool, cpu_ns: AtomicU64::new(0) }
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// CPU time the pool's threads have spent in work loops so far.
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_ns.load(Ordering::Relaxed)
    }

    /// Runs `f` on a pool thread's behalf, adding the CPU time it took.
    fn timed<R>(&self, f: impl FnOnce() -> R) -> R {
        let cpu0 = crate::cpu_time::thread_cpu_ns();
        let out = f();
        self.cpu_ns.fetch_add(crate::cpu_time::thread_cpu_ns().saturating_sub(cpu0), Ordering::Relaxed);
        out
    }
}

/// One worker's part of the work: its state, its root tasks and how it
/// processes a grey item. [`WorkLoop::run`] makes one per worker, on the
/// worker's own thread, and calls [`GreyWorker::finish`] there at the end.
pub trait GreyWorker {
    /// What waits to be processed (a grey object's address, a copy to
    /// scan).
    type Item: Send;
    /// What a worker hands back when the work is finished (its statistics).
    type Output: Send;

    /// A worker whose deque holds more than this many items moves half of
    /// them into the shared injector, whenever the injector is empty.
    /// `None` (the default): never. A constant, so that a worker that never
    /// shares pays nothing per item for the check.
    const SHARE_BACKLOG_OVER: Option<usize> = None;

    /// Runs root task `task` (of `0..tasks`), pushing the items it greys
    /// onto `grey`.
    fn root_task(&mut self, task: usize, grey: &mut GreyQueue<'_, Self::Item>);

    /// Processes one grey item, pushing any items it greys onto `grey`.
    fn process(&mut self, item: Self::Item, grey: &mut GreyQueue<'_, Self::Item>);

    /// Called after each root task, once the items it produced (and the
    /// items those produced) have been processed. Nothing by default.
    fn root_task_drained(&mut self, _grey: &mut GreyQueue<'_, Self::Item>) {}

    /// The worker's result; called on its own thread once the work is
    /// finished.
    fn finish(self) -> Self::Output;
}

/// How the workers start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Every worker at once, one on each of the pool's threads; the calling
    /// thread waits.
    AllWorkers,
    /// The calling thread alone, as worker 0; the others start on the
    /// pool's threads when worker 0 calls [`GreyQueue::bring_in_helpers`],
    /// if it ever does.
    CallerFirst,
}

/// One run of parallel work: how many root tasks, how many workers, how
/// they start. [`WorkLoop::run`] does the work.
#[derive(Clone, Copy, Debug)]
pub struct WorkLoop {
    tasks: usize,
    workers: usize,
    start: Start,
}

impl WorkLoop {
    /// Work of `tasks` root tasks for `workers` workers (at least one, at
    /// most the pool's threads: [`WorkLoop::run`] clamps it), started as
    /// `start` says.
    pub fn new(tasks: usize, workers: usize, start: Start) -> WorkLoop {
        WorkLoop { tasks, workers, start }
    }

    /// Runs every root task and processes every item they grey, on
    /// `pool`'s threads (and the calling thread, with
    /// [`Start::CallerFirst`]); `start_worker(i)` makes worker `i`'s state
    /// on its thread. Returns the [`GreyWorker::finish`] of each worker
    /// that started, in no particular order. If a worker panics, the others
    /// stop and the panic propagates from here.
    pub fn run<W, F>(&self, gc_pool: &GcPool, start_worker: F) -> Vec<W::Output>
    where
        W: GreyWorker,
        F: Fn(usize) -> W + Sync,
    {
        let pool = &gc_pool.pool;
        // More workers than threads would count workers as active that can
        // never run: the others would wait for them forever.
        let workers = self.workers.clamp(1, pool.current_num_threads().max(1));
        let deques: Vec<Worker<W::Item>> = (0..workers).map(|_| Worker::new_lifo()).collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers: deques.iter().map(Worker::stealer).collect(),
            deques: Mutex::new(deques.into_iter().map(Some).collect()),
            next_task: AtomicUsize::new(0),
            tasks: self.tasks,
            active: AtomicUsize::new(0),
            aborted: AtomicBool::new(false),
        };
        match self.start {
            Start::AllWorkers => {
                shared.active.store(workers, Ordering::SeqCst);
                let results = pool.broadcast(|b| gc_pool.timed(|| shared.work(b.index(), None, &start_worker)));
                results.into_iter().flatten().collect()
            }
            Start::CallerFirst => {
                shared.active.store(1, Ordering::SeqCst);
                let results = Mutex::new(Vec::with_capacity(workers));
                pool.in_place_scope(|scope| {
                    let (shared, start_worker, results) = (&shared, &start_worker, &results);
                    let join = move || {
                        // Counted active before they start, so nobody can
                        // see the work finished while a helper is still on
                        // its way.
                        shared.active.fetch_add(workers - 1, Ordering::SeqCst);
                        for i in 1..workers {
                            scope.spawn(move |_| {
                                if let Some(out) = gc_pool.timed(|| shared.work(i, None, start_worker)) {
                                    results.lock().push(out);
                                }
                            });
                        }
                    };
                    let helpers = (workers > 1).then_some(&join as &dyn Fn());
                    if let Some(out) = shared.work(0, helpers, start_worker) {
                        results.lock().push(out);
                    }
                });
                results.into_inner()
            }
        }
    }
}

/// A worker's own grey items (its deque), and its view of the shared
/// state. Handed to each [`GreyWorker`] call.
pub struct GreyQueue<'a, T> {
    deque: Worker<T>,
    shared: &'a Shared<T>,
    /// Worker 0's way to start the others ([`Start::CallerFirst`]), until
    /// it is used.
    helpers: Option<&'a dyn Fn()>,
}

impl<T> GreyQueue<'_, T> {
    /// Queues `item` for processing (by this worker, unless another steals
    /// it).
    #[inline]
    pub fn push(&self, item: T) {
        self.deque.push(item);
    }

    /// Has another worker panicked? A worker that waits for another's
    /// progress must stop waiting when it has (the progress may never
    /// come).
    #[inline]
    pub fn aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::Relaxed)
    }

    /// Could [`GreyQueue::bring_in_helpers`] still start other workers?
    #[inline]
    pub fn helpers_waiting(&self) -> bool {
        self.helpers.is_some()
    }

    /// Starts the other workers, if this is worker 0 of a
    /// [`Start::CallerFirst`] run and it has not yet; otherwise does
    /// nothing.
    pub fn bring_in_helpers(&mut self) {
        if let Some(join) = self.helpers.take() {
            join();
        }
    }
}

/// What the workers share.
struct Shared<T> {
    injector: Injector<T>,
    stealers: Vec<Stealer<T>>,
    /// Each worker's deque, until the worker takes it.
    deques: Mutex<Vec<Option<Worker<T>>>>,
    next_task: AtomicUsize,
    tasks: usize,
    /// Workers that may still produce items (the termination count).
    active: AtomicUsize,
    /// A worker panicked: the others stop.
    aborted: AtomicBool,
}

/// Raises `aborted` if dropped while its thread panics.
struct AbortOnPanic<'a>(&'a AtomicBool);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

impl<T: Send> Shared<T> {
    /// Worker `index`'s whole life: root tasks, then processing and
    /// stealing until the work is finished (or another worker panicked).
    /// `None` if there is no worker `index` (a pool thread beyond the
    /// workers).
    fn work<W, F>(&self, index: usize, helpers: Option<&dyn Fn()>, start_worker: &F) -> Option<W::Output>
    where
        W: GreyWorker<Item = T>,
        F: Fn(usize) -> W,
    {
        let deque = self.deques.lock().get_mut(index).and_then(Option::take)?;
        let _abort = AbortOnPanic(&self.aborted);
        let mut grey = GreyQueue { deque, shared: self, helpers };
        let mut worker = start_worker(index);
        while !self.aborted.load(Ordering::Relaxed) {
            let task = self.next_task.fetch_add(1, Ordering::Relaxed);
            if task >= self.tasks {
                break;
            }
            worker.root_task(task, &mut grey);
            self.drain_local(&mut worker, &mut grey);
            worker.root_task_drained(&mut grey);
        }
        self.drain(&mut worker, &mut grey);
        Some(worker.finish())
    }

    /// Processes this worker's own items until it has none.
    #[inline]
    fn drain_local<W: GreyWorker<Item = T>>(&self, worker: &mut W, grey: &mut GreyQueue<'_, T>) {
        let Some(limit) = W::SHARE_BACKLOG_OVER else {
            while let Some(item) = grey.deque.pop() {
                worker.process(item, grey);
            }
            return;
        };
        while let Some(item) = grey.deque.pop() {
            worker.process(item, grey);
            if grey.deque.len() > limit && self.injector.is_empty() {
                for _ in 0..grey.deque.len() / 2 {
                    if let Some(item) = grey.deque.pop() {
                        self.injector.push(item);
                    }
                }
            }
        }
    }

    /// Steals a batch into `into` and pops one of it, or `None` if nobody
    /// has anything.
    fn steal(&self, into: &Worker<T>) -> Option<T> {
        loop {
            let mut retry = false;
            match self.injector.steal_batch_and_pop(into) {
                Steal::Success(item) => return Some(item),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for s in &self.stealers {
                match s.steal_batch_and_pop(into) {
                    Steal::Success(item) => return Some(item),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn work_visible(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Processes and steals until no worker has work left (the termination
    /// protocol: step 4 of the module documentation), or another worker
    /// panicked.
    fn drain<W: GreyWorker<Item = T>>(&self, worker: &mut W, grey: &mut GreyQueue<'_, T>) {
        loop {
            self.drain_local(worker, grey);
            while !self.aborted.load(Ordering::Relaxed) {
                let Some(item) = self.steal(&grey.deque) else { break };
                // Processed from the deque like the rest, so that
                // `drain_local` is the one place that calls `process` and
                // the compiler inlines it there (measured: marking with
                // `process` called out of line took 10% more instructions).
                grey.deque.push(item);
                self.drain_local(worker, grey);
            }
            self.active.fetch_sub(1, Ordering::SeqCst);
            loop {
                if self.active.load(Ordering::SeqCst) == 0 || self.aborted.load(Ordering::Relaxed) {
                    return;
                }
                if self.work_visible() {
                    self.active.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                std::hint::spin_loop();
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::any::Any;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::time::Duration;

    /// How long a test body may run before the test calls it hung. The
    /// bodies do well under a millisecond of work on two threads; the only
    /// other costs are starting the pool's threads and printing a panic's
    /// message. A machine slow enough to take a minute for that would be
    /// failing everything else, so a correct loop cannot fail this bound by
    /// chance; a hung one fails it instead of hanging the test run.
    pub(crate) const HANG_BOUND: Duration = Duration::from_secs(60);

    /// Runs `body` on a thread of its own and returns what it returns;
    /// fails if it has not returned within [`HANG_BOUND`] (the thread is
    /// then left behind: it cannot be stopped).
    pub(crate) fn returns_within_bound<R: Send + 'static>(what: &str, body: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(body());
        });
        match rx.recv_timeout(HANG_BOUND) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => panic!("{what}: still running after {HANG_BOUND:?}: it hangs"),
            Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked instead of returning"),
        }
    }

    /// The message of a caught panic.
    pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }

    /// Nodes of the test graph.
    const NODES: usize = 4000;
    /// Root tasks: task `t` greys node `t * NODES / ROOT_TASKS`.
    const ROOT_TASKS: usize = 8;
    /// Two threads: one to panic, one to be left waiting for it.
    const THREADS: usize = 2;

    /// A marking-like graph: node `i` points at `2i + 1` and `2i + 2` (a
    /// binary tree) and at `(7i + 3) mod NODES` (edges to nodes that are
    /// often already marked). A node is processed by the worker that set
    /// its mark bit, once.
    struct Graph {
        marks: Vec<AtomicBool>,
    }

    impl Graph {
        fn new() -> Graph {
            Graph { marks: (0..NODES).map(|_| AtomicBool::new(false)).collect() }
        }

        fn shade(&self, node: usize, grey: &GreyQueue<'_, usize>) {
            if !self.marks[node].swap(true, Ordering::Relaxed) {
                grey.push(node);
            }
        }
    }

    /// A worker marking [`Graph`]; with `SHARE` > 0, it shares a backlog
    /// of more than `SHARE` items.
    struct GraphMarker<'a, const SHARE: usize> {
        graph: &'a Graph,
        /// Processing this node panics.
        panic_at: Option<usize>,
        /// Root task 0 brings in the helpers ([`Start::CallerFirst`]).
        bring_in_helpers: bool,
        tasks: usize,
        processed: usize,
    }

    impl<const SHARE: usize> GreyWorker for GraphMarker<'_, SHARE> {
        type Item = usize;
        type Output = (usize, usize);
        const SHARE_BACKLOG_OVER: Option<usize> = if SHARE > 0 { Some(SHARE) } else { None };

        fn root_task(&mut self, task: usize, grey: &mut GreyQueue<'_, usize>) {
            if self.bring_in_helpers {
                grey.bring_in_helpers();
            }
            self.tasks += 1;
            self.graph.shade(task * NODES / ROOT_TASKS, grey);
        }

        fn process(&mut self, node: usize, grey: &mut GreyQueue<'_, usize>) {
            if self.panic_at == Some(node) {
                panic!("test item {node} panics when processed");
            }
            self.processed += 1;
            for next in [2 * node + 1, 2 * node + 2, (7 * node + 3) % NODES] {
                if next < NODES {
                    self.graph.shade(next, grey);
                }
            }
        }

        fn finish(self) -> (usize, usize) {
            (self.tasks, self.processed)
        }
    }

    /// Marks the graph on a pool of [`THREADS`] threads, sharing backlogs
    /// over `SHARE` items if `SHARE` > 0; returns the root tasks run and the
    /// nodes processed, added over the workers.
    fn mark_graph<const SHARE: usize>(start: Start, panic_at: Option<usize>) -> (usize, usize) {
        let pool = GcPool::new(THREADS, "test");
        let graph = Graph::new();
        let results = WorkLoop::new(ROOT_TASKS, THREADS, start).run(&pool, |_| GraphMarker::<SHARE> {
            graph: &graph,
            panic_at,
            bring_in_helpers: start == Start::CallerFirst,
            tasks: 0,
            processed: 0,
        });
        assert!(graph.marks.iter().all(|m| m.load(Ordering::Relaxed)), "a node was left unmarked");
        results.iter().fold((0, 0), |(t, p), &(t1, p1)| (t + t1, p + p1))
    }

    /// Every way to run: each start, without and with sharing backlogs
    /// (over 4 items: the graph's deques grow past that).
    type Run = fn(Option<usize>) -> (usize, usize);
    const EVERY_RUN: [(&str, Run); 4] = [
        ("all workers", |p| mark_graph::<0>(Start::AllWorkers, p)),
        ("caller first", |p| mark_graph::<0>(Start::CallerFirst, p)),
        ("all workers, sharing", |p| mark_graph::<4>(Start::AllWorkers, p)),
        ("caller first, sharing", |p| mark_graph::<4>(Start::CallerFirst, p)),
    ];

    #[test]
    fn the_pool_counts_its_own_threads_cpu_time_not_the_callers() {
        let pool = GcPool::new(THREADS, "test");
        let marker =
            |graph| GraphMarker::<0> { graph, panic_at: None, bring_in_helpers: false, tasks: 0, processed: 0 };
        // Caller first, the helpers never brought in: all the work is the
        // calling thread's, which the caller times itself.
        let graph = Graph::new();
        let done = WorkLoop::new(ROOT_TASKS, THREADS, Start::CallerFirst).run(&pool, |_| marker(&graph));
        assert_eq!(done.iter().map(|&(_, p)| p).sum::<usize>(), NODES);
        assert_eq!(pool.cpu_ns(), 0, "the caller's CPU time is not the pool's");
        // Every worker on the pool's threads: marking NODES nodes takes
        // CPU time (the thread clocks count nanoseconds).
        let graph = Graph::new();
        WorkLoop::new(ROOT_TASKS, THREADS, Start::AllWorkers).run(&pool, |_| marker(&graph));
        assert!(pool.cpu_ns() > 0, "the pool's threads marked");
    }

    #[test]
    fn every_root_task_runs_once_and_every_item_is_processed_once() {
        for (how, run) in EVERY_RUN {
            let totals = returns_within_bound(how, move || run(None));
            assert_eq!(totals, (ROOT_TASKS, NODES), "{how}");
        }
    }

    #[test]
    fn a_panic_processing_an_item_reaches_the_caller_instead_of_hanging() {
        // Whichever worker processes the node panics; whatever the other is
        // doing then, it ends up waiting for the panicking one to go idle,
        // which it never does: without the abort this hangs every time.
        for (how, run) in EVERY_RUN {
            let caught = returns_within_bound(how, move || {
                catch_unwind(AssertUnwindSafe(|| run(Some(NODES / 2)))).map_err(|p| panic_message(&*p))
            });
            let message = caught.expect_err("the panic was lost");
            assert_eq!(message, format!("test item {} panics when processed", NODES / 2), "{how}");
        }
    }
}

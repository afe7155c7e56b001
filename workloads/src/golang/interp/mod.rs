//! The interpreter: runs a checked Go program and writes what it does as
//! a gcwb trace.
//!
//! # Goroutines and their order
//!
//! Every goroutine of the program is a stackful coroutine (corosensei), so
//! a goroutine can block anywhere in a call chain. One runs at a time, as
//! on a Go program with `GOMAXPROCS=1`: the recorded order is one a Go
//! program could produce. The scheduler follows Go's on one P: a goroutine
//! started by `go` runs next when the current one blocks or is preempted
//! (Go's `runnext`); others wait in a FIFO run queue; a running goroutine
//! is preempted after [`Options::preempt_steps`] steps (Go preempts after
//! 10 ms); a goroutine blocked on a channel, a `sync.WaitGroup` or a
//! `sync.Mutex` is made ready when what it waits for happens, and also runs
//! next (Go's `ready` puts it in `runnext`). Not yet as Go: a buffered send
//! to a waiting receiver is not handed over directly. When no
//! goroutine can run and `main` has not returned, the program is
//! deadlocked: `fatal error: all goroutines are asleep - deadlock!`. The
//! program ends when `main` returns, as in Go.
//!
//! # What is recorded
//!
//! Every goroutine's calls and returns with each frame's pointer-holding
//! locals (see [`crate::golang::check`]), every allocation with its Go cause,
//! size and placement, every store of a pointer word, `go` and goroutine
//! exit, `runtime.GC()`, request spans (`gcwbBegin(tag)` / `gcwbEnd(tag)`),
//! and computation between them as `work` ([`Options::step_ns`] per step).
//! The coroutines queue their trace operations; the scheduler writes them
//! through the [`Builder`] between resumptions (coroutines must own what
//! they hold, so they cannot borrow the builder).

mod eval;
mod format;
pub mod value;

use super::ast::{Package, Pos};
use super::check::Info;
use super::error::{GoError, GoErrorKind};
use crate::builder::{BuildError, Builder, EventSink};
use crate::model::{Args, Cause, GoroutineId, Loc, Placement, Src};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

pub use eval::SiteKind;

/// How to run a program.
pub struct Options {
    /// The placement of the allocation at a site (see [`SiteKind`]).
    pub placement: Box<dyn Fn(SiteKind, Pos) -> Placement>,
    /// Nanoseconds of `work` per interpreted step (a statement or an
    /// expression evaluated).
    pub step_ns: u64,
    /// Steps before a running goroutine is preempted.
    pub preempt_steps: u64,
    /// Where `fmt.Print*` and `println` output goes.
    pub output: Output,
    /// Stack size of each goroutine's coroutine, in bytes (virtual memory,
    /// committed as used).
    pub stack_bytes: usize,
    /// Steps (all goroutines together) after which the run ends with the
    /// error `step limit reached`; `None`: no limit.
    pub max_steps: Option<u64>,
}

/// Where the program's output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Stderr,
    Capture,
    Drop,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            placement: Box::new(|_, _| Placement::Auto),
            step_ns: 2,
            preempt_steps: 100_000,
            output: Output::Stderr,
            stack_bytes: 64 << 20,
            max_steps: None,
        }
    }
}

/// What a run gives besides the trace.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// The output, when captured.
    pub output: String,
    pub goroutines: u32,
    pub steps: u64,
}

/// One builder call, queued by a goroutine.
#[derive(Debug)]
enum TraceOp {
    Call { g: u32, locals: u32, bytes: u64, args: Args },
    Ret { g: u32 },
    RetCopy { g: u32, src: Src, dst: Loc },
    Alloc { g: u32, dst: Loc, size: u64, slots: u32, cause: Cause, placement: Placement },
    Go { g: u32, locals: u32, bytes: u64, args: Args },
    Set { g: u32, dst: Loc, src: Src },
    Work { g: u32, ns: u64 },
    Begin { g: u32, tag: String },
    End { g: u32, tag: String },
    Exit { g: u32 },
    Gc { g: u32 },
}

/// Why a goroutine gave the CPU back.
#[derive(Debug)]
pub(crate) enum Yield {
    /// Its queued trace operations should be written; it goes on running.
    Flush,
    /// Preempted: to the back of the run queue.
    Preempt,
    /// Blocked: runnable again when woken.
    Block,
}

type GoCoroutine = Coroutine<(), Yield, Result<(), GoError>, DefaultStack>;

/// Runs the program of `pkg` (checked into `info`) and writes its trace to
/// `sink`. Errors are the program's own (a panic, a deadlock) or, for a
/// trace the builder refuses, an internal error naming the event.
pub fn run<S: EventSink>(pkg: Rc<Package>, info: Info, opts: Options, sink: S) -> Result<(S, RunSummary), GoError> {
    let globals = info.global_words;
    let mut builder = Builder::new(sink, globals).map_err(internal)?;
    let shared = Rc::new(eval::Shared::new(pkg, info, opts));
    let mut sched = Scheduler { coroutines: HashMap::new(), runq: VecDeque::new(), next: None, again: None };
    let main = eval::main_coroutine(shared.clone())?;
    sched.coroutines.insert(GoroutineId::MAIN.0, main);
    sched.runq.push_back(GoroutineId::MAIN.0);
    let stack_bytes = shared.opts.stack_bytes;
    loop {
        let Some(g) = sched.again.take().or_else(|| sched.next.take()).or_else(|| sched.runq.pop_front()) else {
            flush(&shared, &mut builder)?;
            let at = shared.blocked_at.borrow().get(&GoroutineId::MAIN.0).map(|&p| shared.pkg.pos_text(p));
            let msg = "fatal error: all goroutines are asleep - deadlock!";
            return Err(GoError::new(GoErrorKind::Runtime, at.unwrap_or_default(), msg));
        };
        shared.set_current(g);
        let co = sched.coroutines.get_mut(&g).expect("a runnable goroutine exists");
        let result = co.resume(());
        // Goroutines started by this one: `runnext`, as Go does.
        for (id, f) in shared.take_spawned() {
            let co = eval::goroutine_coroutine(shared.clone(), id, f, stack_bytes)?;
            sched.coroutines.insert(id, co);
            if let Some(prev) = sched.next.replace(id) {
                sched.runq.push_back(prev);
            }
        }
        // A goroutine made ready goes to `runnext` (Go's `ready`), the one
        // it displaces to the back of the run queue.
        for w in shared.take_woken() {
            if let Some(prev) = sched.next.replace(w) {
                sched.runq.push_back(prev);
            }
        }
        flush(&shared, &mut builder)?;
        match result {
            CoroutineResult::Yield(Yield::Flush) => sched.again = Some(g),
            CoroutineResult::Yield(Yield::Preempt) => sched.runq.push_back(g),
            CoroutineResult::Yield(Yield::Block) => {}
            CoroutineResult::Return(r) => {
                sched.coroutines.remove(&g);
                let exited = match r {
                    Err(e) if e.kind == GoErrorKind::Exit => {
                        if e.msg != "exit status 0" {
                            flush(&shared, &mut builder)?;
                            return Err(e);
                        }
                        true
                    }
                    r => {
                        r?;
                        false
                    }
                };
                if g == GoroutineId::MAIN.0 || exited {
                    flush(&shared, &mut builder)?;
                    let sink = builder.finish().map_err(internal)?;
                    // The other goroutines end with the program.
                    for (_, co) in sched.coroutines.drain() {
                        drop_coroutine(co);
                    }
                    return Ok((sink, shared.summary()));
                }
            }
        }
    }
}

/// A coroutine still suspended when the program ends: dropping it unwinds
/// its stack (corosensei's forced unwind), which is what a Go program's
/// exit does to its goroutines.
fn drop_coroutine(co: GoCoroutine) {
    drop(co);
}

struct Scheduler {
    coroutines: HashMap<u32, GoCoroutine>,
    runq: VecDeque<u32>,
    /// The goroutine that gave the CPU back only to have its trace written:
    /// it runs on before anything else.
    again: Option<u32>,
    /// Go's `runnext`.
    next: Option<u32>,
}

fn internal(e: BuildError) -> GoError {
    GoError::new(GoErrorKind::Runtime, "", format!("internal error: the trace builder refused an event: {e}"))
}

/// Writes the queued operations through the builder (the queue's buffer
/// goes back to the goroutines, so it is not grown again each time).
fn flush<S: EventSink>(shared: &eval::Shared, b: &mut Builder<S>) -> Result<(), GoError> {
    let mut ops = shared.take_ops();
    let written = write_ops(&mut ops, b);
    shared.return_ops(ops);
    written
}

fn write_ops<S: EventSink>(ops: &mut Vec<TraceOp>, b: &mut Builder<S>) -> Result<(), GoError> {
    for op in ops.drain(..) {
        let r = match op {
            TraceOp::Call { g, locals, bytes, args } => b.call_sized(GoroutineId(g), locals, bytes, &args),
            TraceOp::Ret { g } => b.ret(GoroutineId(g)),
            TraceOp::RetCopy { g, src, dst } => b.ret_copy(GoroutineId(g), src, dst),
            TraceOp::Alloc { g, dst, size, slots, cause, placement } => {
                b.alloc(GoroutineId(g), dst, size, slots, cause, placement).map(|_| ())
            }
            TraceOp::Go { g, locals, bytes, args } => b.go_sized(GoroutineId(g), locals, bytes, &args).map(|_| ()),
            TraceOp::Set { g, dst, src } => b.set(GoroutineId(g), dst, src),
            TraceOp::Work { g, ns } => b.work(GoroutineId(g), ns),
            TraceOp::Begin { g, tag } => b.begin(GoroutineId(g), &tag),
            TraceOp::End { g, tag } => b.end(GoroutineId(g), &tag),
            TraceOp::Exit { g } => b.exit(GoroutineId(g)),
            TraceOp::Gc { g } => b.gc(GoroutineId(g)),
        };
        r.map_err(internal)?;
    }
    Ok(())
}

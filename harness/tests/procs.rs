//! `--procs` sets how many workers replay a trace; it must not change what
//! the collectors find. Every collector collects about as often at 64
//! workers as at one, and `none`'s peak heap does not grow with the
//! workers: space a worker's allocation cache holds but has not allocated
//! counts neither toward the pacer's `heap_live` nor as heap in use, and a
//! collection takes every cache's spans back (Go's `mcache.prepareForSweep`
//! at mark termination). Before, each of the 64 workers' caches held a span
//! of every class it had used, counted whole: a server trace that collects
//! 3 times at one worker collected about 2,000 times at 64.
//!
//! The GC count is not fixed by the trace alone, so the tests bound it:
//! - A stop-the-world collector's count depends only on where the world
//!   stops: how the goroutines interleave decides what is live there, which
//!   sets the next goal; and each cache publishes its allocation to
//!   `heap_live` every `PUBLISH_BYTES` (4 KiB), so a collection can start
//!   that much per busy worker late. Both move each goal by a few percent
//!   of the heap runway at most (the live set of these traces varies by a
//!   few in-flight requests or blocks; 64 workers lag by at most 256 KiB
//!   against runways of megabytes), so the counts at 1 and 64 workers
//!   agree within 10%, or within one when there are under ten.
//! - A concurrent collector's count varies with timing even at one worker:
//!   what the mutators allocate while the background marker runs counts as
//!   marked (it is allocated black), so the further they get meanwhile —
//!   the machine's load decides — the higher the next goal and the fewer
//!   the collections (on the server trace, 1 to 6 in a few dozen runs, at
//!   either setting). Comparing its count at 64 workers with its own count
//!   at one therefore compares two draws of that spread (such a test failed
//!   under load). Instead both are bounded by what no timing can exceed:
//!   the pacer never triggers a concurrent cycle before 70% of the way from
//!   the marked heap to the goal (Go's trigger bound), and a slow marker
//!   only raises the goal, so a concurrent collector collects at most about
//!   1/0.7 times as often as the stop-the-world collector on the same trace
//!   — bounded here by 3/2 of mark-sweep's count at one worker, plus two.
//!   What this file guards against made it collect hundreds of times more.
//!
//! The tests take turns (a lock): replays running side by side would slow
//! one another's markers and widen that spread for no reason.

mod common;
use collectors::{registry, GcConfig};
use common::*;
use harness::replay::{replay, ReplayOptions, RunResult};
use workloads::analysis::{analyze, Analysis};
use workloads::generate::generate_trace;
use workloads::generate::random::{random_trace, RandomConfig};

/// A server: 8 request goroutines, no `work` events (so the replay is
/// quick and the counts do not depend on spin timing).
fn server() -> Analysis {
    let w = workloads::generate::find("server").expect("registered");
    let mut params = w.defaults(7);
    for (k, v) in [("goroutines", "8"), ("requests", "1500"), ("work_ns", "0")] {
        params.set(w.params, k, v).unwrap_or_else(|e| panic!("server: {e}"));
    }
    analyze(&generate_trace("server", &params).expect("registered").expect("generates")).expect("sound")
}

/// The stress generator's random trace, small.
fn random() -> Analysis {
    analyze(&random_trace(&RandomConfig { seed: 11, events: 100_000, gc_per_million: 0.0, ..RandomConfig::default() }))
        .expect("sound")
}

/// Replays `trace` under collector `name` with `procs` workers (and as many
/// GC workers), Go's 4 MiB minimum goal unless `min_goal` says otherwise.
fn run_with(trace: &Analysis, name: &str, procs: usize, min_goal: u64) -> RunResult {
    let cfg = GcConfig { min_heap_goal: min_goal, ..config(procs) };
    let c = (registry::find(name).expect("registered").make)(&cfg).expect("collector starts");
    let r = replay(trace, c.as_ref(), &ReplayOptions { procs, ..ReplayOptions::default() });
    assert!(r.fatal.is_none(), "{name} at {procs} workers: {:?}", r.fatal);
    r
}

/// Collections other than the final one.
fn gcs(r: &RunResult) -> usize {
    r.cycles.iter().filter(|c| c.trigger != Some(collectors::Trigger::Final)).count()
}

/// Do the collection counts of a stop-the-world collector at one worker and
/// at many agree (see the module comment)?
fn agree(one: usize, many: usize) -> bool {
    one.abs_diff(many) <= (one.max(many) / 10).max(1)
}

/// The most collections a concurrent collector may run on a trace on which
/// mark-sweep, at one worker, ran `stop_the_world` (see the module comment).
fn concurrent_bound(stop_the_world: usize) -> usize {
    stop_the_world * 3 / 2 + 2
}

/// One test replays at a time.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn same_gc_counts_at_1_and_64_workers(trace: &Analysis, what: &str, min_goal: u64) {
    let _turn = take_turn();
    let stop_the_world = gcs(&run_with(trace, "mark-sweep", 1, min_goal));
    for info in registry::COLLECTORS {
        let one = run_with(trace, info.name, 1, min_goal);
        let many = run_with(trace, info.name, 64, min_goal);
        let (caps, name) = ((info.make)(&config(1)).expect("collector starts").capabilities(), info.name);
        let (one, many) = (gcs(&one), gcs(&many));
        eprintln!("{what}: {name}: {one} collections at 1 worker, {many} at 64");
        if caps.concurrent {
            let most = concurrent_bound(stop_the_world);
            assert!(
                one <= most && many <= most,
                "{what}: {name} collected {one} times at 1 worker and {many} at 64, more than {most} \
                 (mark-sweep: {stop_the_world})"
            );
        } else {
            if caps.collects {
                assert!(one >= 3, "{what}: {name} collected only {one} times: the test needs a trace that collects");
            }
            assert!(agree(one, many), "{what}: {name} collected {one} times at 1 worker but {many} at 64");
        }
    }
}

#[test]
fn every_collector_collects_as_often_at_64_workers_as_at_one_on_a_server_trace() {
    same_gc_counts_at_1_and_64_workers(&server(), "server", collectors::collector::MIN_HEAP_GOAL_BYTES);
}

#[test]
fn every_collector_collects_as_often_at_64_workers_as_at_one_on_a_random_trace() {
    same_gc_counts_at_1_and_64_workers(&random(), "random", 1 << 20);
}

#[test]
fn nones_peak_heap_does_not_grow_with_the_workers() {
    let _turn = take_turn();
    for (what, trace) in [("server", server()), ("random", random())] {
        let one = run_with(&trace, "none", 1, collectors::collector::MIN_HEAP_GOAL_BYTES).peak_heap_bytes;
        let many = run_with(&trace, "none", 64, collectors::collector::MIN_HEAP_GOAL_BYTES).peak_heap_bytes;
        eprintln!("{what}: none's peak heap {one} bytes at 1 worker, {many} at 64");
        // `none` frees nothing, so what is in use is what was allocated plus
        // the tails of full spans. More workers leave more spans part full
        // (one per class each), which can only move a few tails of a few
        // bytes either way; the old accounting added every busy worker's
        // spans whole (7 MiB at one worker, 28 MiB at 64 on a random trace).
        assert!(many <= one + one / 64, "{what}: none's peak heap {one} bytes at 1 worker, {many} at 64");
    }
}

#[test]
fn procs_outside_1_to_1024_is_refused_with_exit_2_naming_the_limit() {
    let dir = tmp();
    let seed = workspace().join("workloads/traces/seed-example.gct");
    let seed = seed.to_str().unwrap();
    for procs in ["0", "1025", "4294967296", "lots"] {
        for cmd in ["run", "compare"] {
            let args = [cmd, "-q", seed, "--procs", procs, "--out", "OUT"];
            let o = gcwb_in(dir.path(), &args);
            assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
            assert_no_panic(&args, &o);
            let e = stderr(&o);
            assert!(e.contains("--procs") && e.contains("from 1 to 1024"), "{}", describe(&args, &o));
            assert!(!dir.path().join("OUT").exists(), "nothing written: {}", describe(&args, &o));
        }
    }
    // The limit itself is accepted, and costs no more than its busy workers.
    ok_in(dir.path(), &["run", "-q", seed, "--procs", "1024", "--collector", "mark-sweep", "--out", "OUT"]);
}

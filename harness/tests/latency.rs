//! Request latency measures what the collector does to a request, not how
//! the replayer schedules it: a span's time is split into running, paused,
//! assisting, waiting on a trace dependency and queued, and the headline
//! latency leaves out the replayer's two (dep-wait and queued).
//!
//! Each trace here runs on one worker, where the order in which goroutines
//! run is fixed by the run queue (first in, first out) and the trace's
//! dependencies; the clock only ever enters through `work` events, which
//! spin for at least their length, so the bounds asserted hold however the
//! machine is loaded.

mod common;

use common::*;
use harness::latency::SpanRecord;
use harness::replay::{replay, ReplayOptions, RunResult};

/// g2 opens a request, then must wait for g1, which first spins 5 ms.
///
/// On one worker: g1 starts g2 and parks on g2's store to G0 (event 5
/// reads what event 4 wrote); g2 opens its span, stores, wakes g1, then
/// parks on event 8, which reads what g1 writes at event 7 after its 5 ms
/// of work. So g2's request is open for at least 5 ms, all of it spent
/// waiting on g1.
const WAITS_ON_ANOTHER: &str = "gctrace 1
globals 1
g1 call 2
g1 go g2 2
g2 begin req
g2 set G0 nil
g1 set l0 G0
g1 work 5000000
g1 set G0 nil
g2 set l0 G0
g2 end req
g2 exit
g1 ret
";

const FIVE_MS: u64 = 5_000_000;

fn one_worker(trace: &str, collector_name: &str) -> RunResult {
    let (_, a) = parse(trace);
    let c = collector(collector_name, 1);
    let r = replay(&a, c.as_ref(), &ReplayOptions { procs: 1, ..ReplayOptions::default() });
    assert!(r.fatal.is_none(), "{:?}", r.fatal);
    r
}

fn only_span(r: &RunResult) -> SpanRecord {
    assert_eq!(r.span_records.len(), 1, "{:?}", r.span_records);
    r.span_records[0]
}

#[test]
fn waiting_on_another_goroutine_is_dep_wait_and_left_out_of_the_latency() {
    for name in ["none", "mark-sweep"] {
        let r = one_worker(WAITS_ON_ANOTHER, name);
        let s = only_span(&r);
        assert!(s.wall_ns >= FIVE_MS, "{name}: the span is open while g1 works: {s:?}");
        assert!(s.split.dep_wait_ns >= FIVE_MS, "{name}: g1's work is g2's dep-wait: {s:?}");
        assert!(s.latency_ns() <= s.wall_ns - FIVE_MS, "{name}: {s:?}");
        // The parts add up to the wall time.
        let sp = s.split;
        assert_eq!(s.running_ns() + sp.paused_ns + sp.assist_ns + sp.dep_wait_ns + sp.queued_ns, s.wall_ns);
        // The headline histogram is the latency, not the wall time.
        let summary = harness::latency::summarize(&r.span_tags, &r.span_records);
        let (tag, h) = (&summary[0].tag, &summary[0].latency);
        assert_eq!(tag, "req");
        assert_eq!(h.len(), 1);
        assert!(h.max() < FIVE_MS, "{name}: headline {} ns", h.max());
    }
}

/// g2's request calls `runtime.GC()`: the collection is a pause inside the
/// request, on the request's own worker.
const COLLECTS_INSIDE: &str = "gctrace 1
globals 1
g1 call 2
g1 alloc l0 b1 64 1 new heap
g1 go g2 1
g2 begin req
g2 alloc l0 b2 4096 0 make-slice heap
g2 gc
g2 end req
g2 exit
g1 ret
";

#[test]
fn a_collection_inside_a_request_is_paused_time_and_stays_in_the_latency() {
    let r = one_worker(COLLECTS_INSIDE, "mark-sweep");
    let s = only_span(&r);
    let in_request: Vec<_> = r.pauses.iter().filter(|p| p.trigger == Some("explicit")).collect();
    assert_eq!(in_request.len(), 1, "{:?}", r.pauses);
    let pause = in_request[0];
    assert!(
        s.split.paused_ns >= pause.duration_ns,
        "the request's paused time {} covers the pause {}",
        s.split.paused_ns,
        pause.duration_ns
    );
    assert!(s.latency_ns() >= s.split.paused_ns);
    assert_eq!(s.split.dep_wait_ns, 0);
    // The pause lies within the request.
    assert!(pause.start_ns >= s.start_ns && pause.start_ns + pause.duration_ns <= s.start_ns + s.wall_ns);
}

#[test]
fn every_timestamp_counts_from_the_start_of_the_replay() {
    let (_, a) = parse(COLLECTS_INSIDE);
    for verify in [false, true] {
        let c = collector("mark-sweep", 1);
        let r = replay(&a, c.as_ref(), &ReplayOptions { procs: 1, verify, ..ReplayOptions::default() });
        assert_eq!(r.replay_start_ns, 0, "verify {verify}: the clock starts with the replay");
        for p in r.pauses.iter().filter(|p| p.trigger != Some("final")) {
            assert!(p.start_ns + p.duration_ns <= r.wall_ns, "verify {verify}: {p:?} after {}", r.wall_ns);
        }
        for s in &r.span_records {
            assert!(s.start_ns + s.wall_ns <= r.wall_ns, "verify {verify}: {s:?}");
        }
    }
}

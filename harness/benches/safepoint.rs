//! The cost of the replay's safepoint check per event.
//!
//! Before every event, `Replay::run_goroutine` (harness/src/replay/mod.rs)
//! asks whether the world must stop (`Scheduler::attention()`: one relaxed
//! load of an `AtomicBool`) and whether a collector waits to scan this
//! goroutine's stack (a relaxed load of the goroutine's own `scan_wanted`).
//! This bench times the replay loop's per-event work without the collector
//! and without executing the instruction — decode it from the goroutine's
//! prepared program (`Reader::next`, its dependencies gathered as the
//! replay gathers them, the dependency-target lookup after it) — twice:
//! - `safepoint/decode`: no check;
//! - `safepoint/decode_checked`: the two loads before every event, exactly
//!   as the replay makes them.
//!
//! The scheduler is private to the replay, so the loads are reproduced
//! here: a relaxed load of an `AtomicBool` field of a shared struct
//! (`Scheduler::attention` is a field of the scheduler the replay holds)
//! and a relaxed load of an `AtomicBool` in the goroutine's slot, found
//! once before the loop (as the replay's `gor`). Neither flag is ever set;
//! both are reached through `black_box`, so the compiler cannot know that.
//!
//! The program: goroutine `main` of a small GCBench (`stretch_depth=14`,
//! `long_lived_depth=12`, `max_depth=12`, `array_len=1000`: 2.45 M events
//! in 12 MB of code, all in one goroutine), prepared once by the run layer
//! (`harness::engine::prepare`) outside the timing. Throughput is in
//! events, so criterion's time divided by the events is the cost of one.
//!
//! On a shared machine two benchmarks run one after the other can see
//! different machines (other jobs, clock changes): the difference of their
//! estimates is then noise (here it swung from -2.6 to +0.8 ns an event).
//! So every timed pass of either benchmark runs both variants back to back
//! (alternating which goes first), criterion gets its own variant's time,
//! and after both a line gives the medians, over every such pair, of each
//! variant's ns per event and of the pair's difference: the check's cost.
//!
//! (Disassembled, the checked loop loads both flags every event: the
//! compiler does not hoist relaxed atomic loads out of a loop.)
//!
//! Run: `cargo bench -p gcwb-harness --bench safepoint` (`-- --quick` for a
//! fast estimate).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::engine::{prepare, TraceSource};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use workloads::analysis::code::Reader;
use workloads::analysis::Program;

/// The GCBench parameters: small enough to prepare in a second.
const PARAMS: [&str; 4] = ["stretch_depth=14", "long_lived_depth=12", "max_depth=12", "array_len=1000"];

/// The scheduler's flag, as the replay reaches it.
struct Scheduler {
    attention: AtomicBool,
}

/// A goroutine's slot, as the replay reaches it.
struct Goroutine {
    scan_wanted: AtomicBool,
}

#[cold]
#[inline(never)]
fn never(what: &str) -> ! {
    panic!("{what} is never set in this bench")
}

/// Every event of `prog` as the replay loop takes it, minus the collector;
/// with `CHECK`, the replay's safepoint check before each. Returns a value
/// that depends on every instruction decoded.
#[inline(never)]
fn run_events<const CHECK: bool>(prog: &Program, sched: &Scheduler, goroutines: &[Goroutine], g: usize) -> u64 {
    let gor = &goroutines[g];
    let mut reader = Reader::default();
    let mut pc = 0u32;
    let mut seen = 0u64;
    loop {
        if CHECK {
            if sched.attention.load(Ordering::Relaxed) {
                never("attention");
            }
            if gor.scan_wanted.load(Ordering::Relaxed) {
                never("scan_wanted");
            }
        }
        if pc >= prog.steps {
            return seen;
        }
        let mut next = reader.clone();
        let mut deps: SmallVec<[(u32, u32); 4]> = SmallVec::new();
        let insn = next.next(&prog.code, |dg, ds| deps.push((dg, ds)));
        black_box(&insn);
        seen += deps.len() as u64 + prog.is_dep_target(pc) as u64;
        pc += 1;
        reader = next;
    }
}

fn safepoint_check(c: &mut Criterion) {
    let t = Instant::now();
    let source =
        TraceSource::Workload { name: "gcbench".into(), seed: 1, set: PARAMS.iter().map(|s| s.to_string()).collect() };
    let prepared = prepare(&source, false).expect("gcbench prepares");
    let (g, prog) =
        prepared.trace.programs.iter().enumerate().max_by_key(|(_, p)| p.steps).expect("at least one goroutine");
    let events = prog.steps as u64;
    println!(
        "safepoint: gcbench {}: goroutine {g} of {}, {events} events in {} bytes of code; prepared in {:.2} s",
        PARAMS.join(" "),
        prepared.trace.programs.len(),
        prog.code.len(),
        t.elapsed().as_secs_f64()
    );
    let sched = Scheduler { attention: AtomicBool::new(false) };
    let goroutines: Vec<Goroutine> =
        prepared.trace.programs.iter().map(|_| Goroutine { scan_wanted: AtomicBool::new(false) }).collect();

    let mut group = c.benchmark_group("safepoint");
    group.throughput(Throughput::Elements(events));
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    let time = |check: bool| {
        let t = Instant::now();
        let run = if check { run_events::<true> } else { run_events::<false> };
        black_box(run(prog, black_box(&sched), black_box(&goroutines), black_box(g)));
        t.elapsed()
    };
    // Every pass of either benchmark runs both variants back to back (in
    // turn first), so each pair saw the same machine; criterion is given
    // the time of its own variant. (plain, checked) ns of every pair.
    let pairs: RefCell<Vec<(u64, u64)>> = RefCell::new(Vec::new());
    for (name, check) in [("decode", false), ("decode_checked", true)] {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|passes| {
                let mut mine = Duration::ZERO;
                for i in 0..passes {
                    let (plain, checked) = if i % 2 == 0 {
                        let p = time(false);
                        (p, time(true))
                    } else {
                        let c = time(true);
                        (time(false), c)
                    };
                    mine += if check { checked } else { plain };
                    pairs.borrow_mut().push((plain.as_nanos() as u64, checked.as_nanos() as u64));
                }
                mine
            });
        });
    }
    group.finish();
    let pairs = pairs.into_inner();
    if !pairs.is_empty() {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let per_event = |ns: u64| ns as f64 / events as f64;
        let plain = median(pairs.iter().map(|p| per_event(p.0)).collect());
        let checked = median(pairs.iter().map(|p| per_event(p.1)).collect());
        let diff = median(pairs.iter().map(|p| per_event(p.1) - per_event(p.0)).collect());
        let slower = pairs.iter().filter(|p| p.1 > p.0).count();
        println!(
            "safepoint: medians over {} back-to-back pairs: decode {plain:.3} ns/event, decode_checked {checked:.3} \
             ns/event; the check costs {diff:.3} ns an event (median of the pairs' differences; the checked pass \
             was the slower in {slower} of them)",
            pairs.len()
        );
    }
}

criterion_group!(benches, safepoint_check);
criterion_main!(benches);

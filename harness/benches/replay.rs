//! The replayer's own speed: events/s replaying the `memops` workload (pure
//! memory operations, no `work` events) with events=2000000.
//!
//! Configurations: the `none` collector (never collects, so this is the
//! mutator path alone) with 1 and 2 workers, and `mark-sweep` (GOGC=100)
//! with 1 worker. The trace is generated and analysed once, outside the
//! timing; each iteration gets a fresh collector (and so a fresh heap) built
//! in untimed setup, and drops it untimed afterwards. What is timed is one
//! call of `replay`: compiling the goroutine programs, running every event,
//! the final collection.
//!
//! After each benchmark a line gives the mean of `RunResult::wall_ns` (the
//! event loop alone, without the compile step and the final collection) and
//! the GC cycles per replay, so the two can be told apart.
//! Run: `cargo bench -p gcwb-harness --bench replay` (`-- --quick` for a
//! fast estimate).

use collectors::{registry, GcConfig};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use harness::replay::{replay, ReplayOptions, RunResult};
use std::cell::Cell;
use std::time::{Duration, Instant};
use workloads::analysis::analyze;
use workloads::generate::{find, generate_trace};

/// `memops` events.
const EVENTS: &str = "2000000";
/// (collector, workers).
const CONFIGS: [(&str, usize); 3] = [("none", 1), ("none", 2), ("mark-sweep", 1)];

fn replay_memops(c: &mut Criterion) {
    let t = Instant::now();
    let w = find("memops").expect("memops is a built-in workload");
    let mut params = w.defaults(1);
    params.set(w.params, "events", EVENTS).expect("a valid size");
    let trace = generate_trace("memops", &params).expect("registered").expect("memops generates");
    let gen_time = t.elapsed();
    let t = Instant::now();
    let analysis = analyze(&trace).expect("generated traces are valid");
    let events = trace.events.len() as u64;
    println!(
        "replay/memops: {events} events, {} goroutines; generated in {:.2} s, analysed in {:.2} s",
        analysis.goroutines.len(),
        gen_time.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );

    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(events));
    // Replays take a few hundred ms: the same number of them per sample.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(10));
    for (name, procs) in CONFIGS {
        let info = registry::find(name).expect("registered collector");
        let gc = GcConfig { procs, gogc: Some(100), ..GcConfig::default() };
        let opts = ReplayOptions { procs, verify: false, progress: false, ..ReplayOptions::default() };
        // Totals over every timed replay (warm-up included): (replays,
        // wall_ns, cycles). Every replay is checked.
        let total = Cell::new((0u64, 0u64, 0u64));
        let check = |r: &RunResult| {
            assert!(r.fatal.is_none(), "{name} procs={procs}: {:?}", r.fatal);
            assert_eq!(r.events, events, "{name} procs={procs}: not every event ran");
            let (n, w, cy) = total.get();
            total.set((n + 1, w + r.wall_ns, cy + r.cycles.len() as u64));
        };
        g.bench_function(BenchmarkId::new(format!("memops_{name}"), format!("procs_{procs}")), |b| {
            b.iter_batched(
                || (info.make)(&gc).expect("collector"),
                |collector| {
                    let r = replay(&analysis, collector.as_ref(), &opts);
                    check(&r);
                    // Returned, so the heap is unmapped outside the timing.
                    (collector, r)
                },
                BatchSize::PerIteration,
            );
        });
        let (n, wall, cycles) = total.get();
        if n == 0 {
            continue; // filtered out
        }
        println!(
            "replay/memops_{name}/procs_{procs}: event loop alone {:.2} M events/s ({:.0} ms); {} GC cycles per replay",
            events as f64 * n as f64 / (wall as f64 / 1e9) / 1e6,
            wall as f64 / n as f64 / 1e6,
            cycles / n
        );
    }
    g.finish();
}

criterion_group!(benches, replay_memops);
criterion_main!(benches);

//! The workloads gcwb ships with: the Go memory-model worked example and the
//! default workload.
//!
//! - [`SEED_EXAMPLE`] / [`seed_example`]: the hand-written trace of Go's
//!   worked example of memory blocks (a channel, a closure, `x`, `y`, `z`;
//!   `traces/seed-example.gct` explains it line by line) — small enough to
//!   read, and every collector must free exactly what the oracle says;
//! - [`default_workload`]: the [`RandomConfig`] of the workload gcwb's main
//!   command runs against every collector: 16 goroutines and about two
//!   million events over a live heap of about 25 MB, churned so that a
//!   mark-sweep collector at GOGC=100 collects about 30 times.

use super::random::RandomConfig;
use super::DEFAULT_SEED;
use crate::model::Trace;

/// The text of the worked example (`workloads/traces/seed-example.gct`).
pub const SEED_EXAMPLE: &str = include_str!("../../traces/seed-example.gct");

/// [`SEED_EXAMPLE`] parsed.
pub fn seed_example() -> Trace {
    crate::text::parse_text(SEED_EXAMPLE, "seed-example.gct").expect("the built-in seed example is a valid trace")
}

/// The default workload's live-heap target: large enough that marking is a
/// real cost, small enough that every collector in gcwb replays the workload
/// in seconds.
pub const DEFAULT_LIVE_TARGET_BYTES: u64 = 24 << 20;

/// The built-in default workload (run it with [`super::random_trace`]).
///
/// Sized so that allocation volume is a few dozen times the live heap: at
/// GOGC=100 a collection starts each time the heap has grown by its live
/// size. Measured with the default seed: 2.0 M events, 16 goroutines at once
/// (about 50 over the trace), 600 k blocks, 1.4 GB allocated of which escape
/// analysis puts about 630 MB on the heap, a peak live heap of about 25 MiB
/// by the oracle, and so about 30 collections of a stop-the-world mark-sweep
/// at GOGC=100 (plus a few explicit `gc` events). The test
/// `the_default_workload_is_sound_and_collects_a_few_dozen_times` keeps
/// these within bounds.
pub fn default_workload() -> RandomConfig {
    RandomConfig {
        seed: DEFAULT_SEED,
        goroutines: 16,
        events: 2_000_000,
        globals: 32,
        live_target_bytes: DEFAULT_LIVE_TARGET_BYTES,
        keep_trees: 8,
        // Ordinary blocks up to 16 KiB (Go's larger size classes too): an
        // allocation volume of a few dozen live heaps, mostly small objects.
        small_max_bytes: 16 << 10,
        // A handful of explicit collections; the pacer triggers the rest.
        gc_per_million: 2.0,
        // More sharing and more `heap` requests than the stress default:
        // escape analysis keeps about half of the stress mix on stacks, and
        // the default workload should load the heap.
        shared_fraction: 0.3,
        heap_fraction: 0.25,
        ..RandomConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::check;
    use crate::generate::random::random_trace_with_stats;

    #[test]
    fn seed_example_is_the_worked_example() {
        let t = seed_example();
        assert_eq!(t.globals, 1);
        assert_eq!(t.block_names, vec![1, 2, 3, 4, 5]);
        check::check(&t).expect("the seed example is sound");
    }

    /// Collections of a stop-the-world mark-sweep at GOGC=100 over `trace`,
    /// from the oracle's exact death times: a cycle starts when the heap
    /// reaches its goal, `max(4 MiB, 2 * live at the previous cycle)`
    /// (runtime/mgcpacer.go, ignoring stacks and globals), and frees exactly
    /// the dead. Returns (cycles, peak live heap bytes, heap bytes allocated).
    fn gogc100_cycles(trace: &crate::model::Trace) -> (u64, u64, u64) {
        use crate::analysis::{analyze, oracle, Place};
        use crate::model::Op;
        const MIN_HEAP_BYTES: u64 = 4 << 20;
        let a = analyze(trace).expect("the default workload is sound");
        let places = a.placements(false);
        let deaths = oracle::death_times(&a, places);
        let mut freed_after = vec![0u64; trace.events.len()];
        for (b, info) in a.blocks.iter().enumerate() {
            if let (Place::Heap, Some(d)) = (places[b], deaths.death[b]) {
                freed_after[d as usize] += info.size;
            }
        }
        let (mut heap, mut live, mut goal, mut cycles) = (0u64, 0u64, MIN_HEAP_BYTES, 0u64);
        for (i, e) in trace.events.iter().enumerate() {
            if let Op::Alloc { block, size, .. } = &e.op {
                if places[block.0 as usize] == Place::Heap {
                    if heap + size > goal {
                        cycles += 1;
                        heap = live;
                        goal = MIN_HEAP_BYTES.max(2 * live);
                    }
                    heap += size;
                    live += size;
                }
            }
            live -= freed_after[i];
        }
        (cycles, deaths.peak_live_heap_bytes, deaths.heap_bytes)
    }

    #[test]
    fn the_default_workload_is_sound_and_collects_a_few_dozen_times() {
        let cfg = default_workload();
        let t = random_trace_with_stats(&cfg).0;
        assert!((1_900_000..2_100_000).contains(&t.events.len()), "{} events", t.events.len());
        let (cycles, peak, _) = gogc100_cycles(&t);
        assert!((20 << 20..60 << 20).contains(&peak), "peak live heap {peak} B");
        assert!((20..=60).contains(&cycles), "{cycles} collections at GOGC=100");
    }

    /// Prints the default workload's size and the generator's speed; run with
    /// `cargo test --release -p gcwb-workloads default_workload_report -- --ignored --nocapture`.
    #[test]
    #[ignore = "a report, not a check: slow in debug builds"]
    fn default_workload_report() {
        for (name, cfg) in
            [("default", default_workload()), ("10M", RandomConfig { events: 10_000_000, ..default_workload() })]
        {
            let start = std::time::Instant::now();
            let (t, stats) = random_trace_with_stats(&cfg);
            let secs = start.elapsed().as_secs_f64();
            let mib = |b: u64| b as f64 / (1 << 20) as f64;
            if name == "default" {
                let (cycles, peak, heap) = gogc100_cycles(&t);
                println!(
                    "{name}: oracle: {cycles} collections at GOGC=100, peak live heap {:.1} MiB, {:.0} MiB on the heap",
                    mib(peak),
                    mib(heap)
                );
            }
            println!(
                "{name}: {} events in {secs:.2} s ({:.1} M events/s), {} goroutines ({} at once), {} blocks, \
                 {:.0} MiB allocated, peak live {:.1} MiB, final live {:.1} MiB, max stack {} B, {} gc events, {} shadow gcs",
                t.events.len(),
                t.events.len() as f64 / secs / 1e6,
                stats.goroutines,
                stats.max_live_goroutines,
                stats.blocks,
                mib(stats.bytes_allocated),
                mib(stats.peak_live_bytes),
                mib(stats.final_live_bytes),
                stats.max_stack_bytes,
                stats.gc_events,
                stats.shadow_gcs,
            );
        }
    }
}

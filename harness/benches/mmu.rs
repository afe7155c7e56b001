//! Minimum mutator utilization over a million pauses: building the
//! [`Utilization`] of a run, MMU and BMU at a few window sizes, and the
//! whole curve as `gcwb run` writes it to `mmu.csv`.
//!
//! The run is synthetic and seeded (same pauses every time): 1 000 000
//! stop-the-world pauses, each 20 µs × 2^u long (u uniform in [0, 8): 20 µs
//! to 5 ms, log-uniform), separated by gaps uniform in [1 ms, 19 ms] — a
//! run of about three hours at about 92% utilization. The pauses are
//! `Reduced::pause` intervals, what `summary::run_utilization` makes of a
//! replay's pauses.
//!
//! Benchmarks (throughput in pauses, so criterion's `time` / 10^6 is the
//! cost per pause):
//! - `mmu/build`: `Utilization::new` (sorting the interval ends, prefix sums);
//! - `mmu/mmu/<w>` and `mmu/bmu/<w>` at 1, 10 and 100 ms (the windows of
//!   `summary.csv`'s `mmu_1ms`, `mmu_10ms`, `mmu_100ms`);
//! - `mmu/curve`: `build` then `mmu_curve(&default_windows())`, MMU and BMU
//!   at every window from 100 µs to the whole run, 10 per decade, as
//!   `report.rs` writes `mmu.csv` for each collector.
//!
//! Run: `cargo bench -p gcwb-harness --bench mmu` (`-- --quick` for a fast
//! estimate).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use harness::mmu::{Reduced, Utilization};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Pauses in the synthetic run.
const PAUSES: u64 = 1_000_000;
/// Windows asked one at a time: 1, 10 and 100 ms.
const WINDOWS_NS: [u64; 3] = [1_000_000, 10_000_000, 100_000_000];

/// The synthetic run: its pauses and its length.
fn synthetic_pauses() -> (Vec<Reduced>, u64) {
    let mut rng = StdRng::seed_from_u64(0x6763_7762); // "gcwb"
    let mut t = 0u64;
    let pauses = (0..PAUSES)
        .map(|_| {
            t += rng.random_range(1_000_000..=19_000_000u64);
            let len = (20_000.0 * 2f64.powf(rng.random_range(0.0..8.0))) as u64;
            let p = Reduced::pause(t, t + len);
            t += len;
            p
        })
        .collect();
    (pauses, t + 1_000_000)
}

fn mmu(c: &mut Criterion) {
    let (pauses, wall_ns) = synthetic_pauses();
    let u = Utilization::new(wall_ns, pauses.iter().copied());
    let windows = u.default_windows();
    let t = Instant::now();
    let curve = u.mmu_curve(&windows);
    let curve_time = t.elapsed();
    println!(
        "mmu: {PAUSES} pauses over {:.0} s, {:.1}% of it paused (longest {:.2} ms); curve: {} windows in {:.1} s; \
         MMU 1 ms {:.3}, 10 ms {:.3}, 100 ms {:.3}, whole run {:.4}",
        wall_ns as f64 / 1e9,
        u.lost_fraction() * 100.0,
        u.longest_full_pause_ns() as f64 / 1e6,
        windows.len(),
        curve_time.as_secs_f64(),
        u.mmu(WINDOWS_NS[0]),
        u.mmu(WINDOWS_NS[1]),
        u.mmu(WINDOWS_NS[2]),
        u.mmu(wall_ns),
    );
    assert_eq!(curve.len(), windows.len());
    assert!(curve.iter().all(|&(_, mmu, bmu)| (0.0..=1.0).contains(&mmu) && bmu <= mmu));

    let mut g = c.benchmark_group("mmu");
    g.throughput(Throughput::Elements(PAUSES));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("build", |b| b.iter(|| Utilization::new(wall_ns, black_box(&pauses).iter().copied())));
    for w in WINDOWS_NS {
        let label = format!("{}ms", w / 1_000_000);
        g.bench_function(BenchmarkId::new("mmu", &label), |b| b.iter(|| black_box(&u).mmu(black_box(w))));
        g.bench_function(BenchmarkId::new("bmu", &label), |b| b.iter(|| black_box(&u).bmu(black_box(w))));
    }
    g.bench_function("curve", |b| {
        b.iter(|| {
            let u = Utilization::new(wall_ns, black_box(&pauses).iter().copied());
            u.mmu_curve(&u.default_windows())
        })
    });
    g.finish();
}

criterion_group!(benches, mmu);
criterion_main!(benches);

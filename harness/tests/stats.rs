//! `gcwb stats` end to end: the report and the CSV files of the seed
//! example, and exit code 2 for traces that cannot be read or are unsound.

use harness::stats::{stats_command, stats_for_trace, STATS_FILES};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/traces/seed-example.gct")
}

/// A CSV file as its header and rows of (column -> cell).
fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().expect("header").iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("record");
            header.iter().cloned().zip(rec.iter().map(str::to_string)).collect()
        })
        .collect();
    (header, rows)
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row.get(col).unwrap_or_else(|| panic!("no column {col}")).parse().unwrap_or_else(|e| panic!("{col}: {e}"))
}

#[test]
fn seed_example_stats_write_the_four_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stats");
    assert_eq!(stats_command(&seed_path(), Some(&out)), 0);
    for f in STATS_FILES {
        assert!(out.join(f).is_file(), "{f} written");
    }
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), STATS_FILES.len());

    let (header, rows) = read_csv(&out.join("demographics.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(&header[..2], ["trace", "events"]);
    let d = &rows[0];
    assert_eq!(d["trace"], "seed-example.gct");
    for (col, want) in [
        ("events", 20.0),
        ("goroutines", 2.0),
        ("peak_goroutines", 2.0),
        ("globals", 1.0),
        ("allocs", 5.0),
        ("alloc_bytes", 136.0),
        ("heap_allocs", 4.0),
        ("heap_bytes", 128.0),
        ("stack_allocs", 1.0),
        ("stack_bytes", 8.0),
        ("peak_live_heap_bytes", 128.0),
        ("peak_live_stack_bytes", 8.0),
        ("immortal_blocks", 0.0),
        // Lifetimes 32, 16, 8, 0 bytes: all die within 1 KiB.
        ("frac_die_1k", 1.0),
        ("frac_die_1m", 1.0),
        ("frac_die_10m", 1.0),
        ("frac_bytes_die_1k", 1.0),
        ("frac_bytes_die_1m", 1.0),
        ("frac_bytes_die_10m", 1.0),
    ] {
        assert_eq!(num(d, col), want, "{col}");
    }
    // Live heap after events 0..=19: 0, 96, 112 x4, 120, 128 x4, 120 x3,
    // 112 x2, 96 x2, 0, 0.
    let by_event = (96 + 112 * 4 + 120 + 128 * 4 + 120 * 3 + 112 * 2 + 96 * 2) as f64 / 20.0;
    assert_eq!(num(d, "mean_live_heap_bytes_by_event"), by_event);
    // At each allocation: b1 sees 96, b2 112, b3 120, b4 128.
    let by_alloc = (96.0 * 96.0 + 16.0 * 112.0 + 8.0 * 120.0 + 8.0 * 128.0) / 128.0;
    assert_eq!(num(d, "mean_live_heap_bytes_by_alloc"), by_alloc);

    let (header, rows) = read_csv(&out.join("events.csv"));
    assert_eq!(header, ["kind", "count"]);
    let events: HashMap<_, _> = rows.iter().map(|r| (r["kind"].clone(), num(r, "count") as u64)).collect();
    assert_eq!(rows.len(), 10);
    assert_eq!(events["alloc"], 5);
    assert_eq!(events["set"], 10);
    assert_eq!((events["call"], events["go"], events["exit"], events["gc"], events["ret"]), (1, 1, 1, 2, 0));
    assert_eq!(events.values().sum::<u64>(), 20);

    let (header, rows) = read_csv(&out.join("allocations.csv"));
    assert_eq!(header, ["cause", "placement", "count", "bytes"]);
    assert_eq!(rows.len(), 28);
    let nonzero: Vec<_> = rows
        .iter()
        .filter(|r| r["count"] != "0")
        .map(|r| (r["cause"].as_str(), r["placement"].as_str(), num(r, "count") as u64, num(r, "bytes") as u64))
        .collect();
    assert_eq!(
        nonzero,
        [("make-chan", "heap", 1, 96), ("var", "heap", 2, 16), ("var", "stack", 1, 8), ("closure", "heap", 1, 16)]
    );

    let (header, rows) = read_csv(&out.join("lifetimes.csv"));
    assert_eq!(&header[..5], ["bucket_lo_bytes", "bucket_hi_bytes", "blocks", "bytes", "cum_frac_blocks"]);
    let total: f64 = rows.iter().map(|r| num(r, "blocks")).sum();
    assert_eq!(total, 4.0, "every heap block is in one bucket");
    // Buckets [0,1), [1,2), [2,4), [4,8), [8,16), [16,32), [32,64): b4 at 0,
    // b3 at 8, b2 at 16, b1 (96 bytes) at 32.
    let buckets: Vec<_> = rows
        .iter()
        .map(|r| (num(r, "bucket_lo_bytes") as u64, num(r, "blocks") as u64, num(r, "bytes") as u64))
        .collect();
    assert_eq!(buckets, [(0, 1, 8), (1, 0, 0), (2, 0, 0), (4, 0, 0), (8, 1, 8), (16, 1, 16), (32, 1, 96)]);
    assert_eq!(rows[0]["bucket_hi_bytes"], "1");
    assert_eq!(num(&rows[6], "bucket_hi_bytes"), 64.0);
    assert_eq!(num(&rows[4], "cum_frac_blocks"), 0.5);
    assert_eq!(num(rows.last().unwrap(), "cum_frac_blocks"), 1.0);
}

#[test]
fn stats_without_out_writes_nothing_and_succeeds() {
    assert_eq!(stats_command(&seed_path(), None), 0);
}

#[test]
fn bad_traces_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases = [
        ("version.gct", "gctrace 2\n"),
        ("syntax.gct", "gctrace 1\ng1 call 1\ng1 alloc l0 b0 16 1 mk-slice heap\n"),
        // Parses, but the analysis rejects it: no frame, so no l0.
        ("unsound.gct", "gctrace 1\ng1 set l0 nil\n"),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_eq!(stats_command(&path, Some(&out)), 2, "{name}");
    }
    assert_eq!(stats_command(&dir.path().join("missing.gct"), Some(&out)), 2);
    assert!(!out.exists(), "nothing written for a bad trace");
}

#[test]
fn a_generated_workload_is_analysed_without_a_file() {
    let cfg = workloads::generate::random::RandomConfig { seed: 3, events: 20_000, ..Default::default() };
    let trace = workloads::generate::random::random_trace(&cfg);
    let analysis = workloads::analysis::analyze(&trace).expect("sound");
    let stats = stats_for_trace("random-20k", &analysis);
    let d = &stats.demographics;
    assert_eq!(d.events, trace.events.len() as u64);
    assert_eq!(d.lifetimes.total_blocks(), d.heap_blocks);
    let report = stats.report();
    for section in
        ["random-20k: ", "\nevents\n", "\nallocations\n", "\nlive memory", "\nheap-block lifetimes", "die within"]
    {
        assert!(report.contains(section), "report has {section:?}:\n{report}");
    }
    let dir = tempfile::tempdir().unwrap();
    stats.write_csv(dir.path()).unwrap();
    let (_, rows) = read_csv(&dir.path().join("lifetimes.csv"));
    let total: f64 = rows.iter().map(|r| num(r, "blocks")).sum();
    assert_eq!(total as u64, d.heap_blocks);
}

/// The built-in default workload's demographics, printed (2 M events: run
/// on demand with `cargo test --release -p gcwb-harness --test stats -- --ignored --nocapture`).
#[test]
#[ignore]
fn default_workload_demographics() {
    let t0 = std::time::Instant::now();
    let trace = workloads::generate::random::random_trace(&workloads::generate::builtin::default_workload());
    let analysis = workloads::analysis::analyze(&trace).expect("sound");
    let stats = stats_for_trace("default", &analysis);
    print!("{}", stats.report());
    println!("({:.1} s)", t0.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    stats.write_csv(dir.path()).unwrap();
    print!("{}", std::fs::read_to_string(dir.path().join("demographics.csv")).unwrap());
    assert_eq!(stats.demographics.lifetimes.total_blocks(), stats.demographics.heap_blocks);
}

//! The metrics every collector gets, end to end through `gcwb run`:
//! `mmu.csv`, `phases.csv`, the summary's MMU and GC-CPU columns, and the
//! HdrHistogram interval logs of pauses.

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the harness is in the workspace").to_path_buf()
}

/// Runs `gcwb ARGS` and returns its standard output; panics on failure.
fn gcwb(args: &[&str]) -> String {
    let o =
        Command::new(env!("CARGO_BIN_EXE_gcwb")).args(args).env_remove("RUST_BACKTRACE").output().expect("gcwb runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "gcwb {}: {:?}\nstdout:\n{out}\nstderr:\n{}",
        args.join(" "),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// A CSV file's rows as column → value.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}

fn header(path: &Path) -> Vec<String> {
    csv::Reader::from_path(path).unwrap().headers().unwrap().iter().map(str::to_string).collect()
}

fn int(r: &HashMap<String, String>, c: &str) -> u64 {
    r[c].parse().unwrap_or_else(|e| panic!("{c} = {:?}: {e}", r[c]))
}

fn float(r: &HashMap<String, String>, c: &str) -> f64 {
    r[c].parse().unwrap_or_else(|e| panic!("{c} = {:?}: {e}", r[c]))
}

/// An optional number: empty cell → `None`.
fn opt(r: &HashMap<String, String>, c: &str) -> Option<f64> {
    (!r[c].is_empty()).then(|| float(r, c))
}

/// Standard base64 (the interval log's histogram encoding), padding allowed.
fn base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap_or_else(|| panic!("not base64: {:?}", c as char));
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// One interval of a pause log: start and length in seconds, the pauses.
type Interval = (f64, f64, Histogram<u64>);

/// An interval log's StartTime and intervals; panics if it does not parse.
fn read_hlog(path: &Path) -> (Option<f64>, Vec<Interval>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut start = None;
    let mut intervals = Vec::new();
    for e in IntervalLogIterator::new(&bytes) {
        match e.unwrap_or_else(|e| panic!("{}: {e:?}", path.display())) {
            LogEntry::StartTime(t) => start = Some(t.as_secs_f64()),
            LogEntry::BaseTime(_) => {}
            LogEntry::Interval(i) => {
                let raw = base64(i.encoded_histogram());
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &raw[..]).expect("histogram decodes");
                intervals.push((i.start_timestamp().as_secs_f64(), i.duration().as_secs_f64(), h));
            }
        }
    }
    (start, intervals)
}

/// Mutator time lost over a run, worked out from the files alone: a pause
/// loses every worker, an assist one of `procs`, and where they overlap no
/// more than everything is lost.
fn lost_capped(pauses: &[(u64, u64)], assists: &[(u64, u64)], procs: f64) -> f64 {
    let mut edges: Vec<(u64, f64)> = Vec::new();
    for (&(start, d), w) in pauses.iter().map(|p| (p, 1.0)).chain(assists.iter().map(|a| (a, 1.0 / procs))) {
        edges.push((start, w));
        edges.push((start + d, -w));
    }
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let (mut lost, mut level, mut at) = (0.0, 0.0f64, 0u64);
    for (t, w) in edges {
        lost += level.min(1.0) * (t - at) as f64;
        level += w;
        at = t;
    }
    lost
}

/// Checks everything the metrics promise about one run's output directory.
fn check_metrics(out: &Path) {
    let summary = rows(&out.join("summary.csv"));
    let h = header(&out.join("summary.csv"));
    assert_eq!(h[..23].last().map(String::as_str), Some("verify_errors"), "the first 23 columns stay: {h:?}");
    let mmu_at = h.iter().position(|c| c == "mmu_1ms").expect("an mmu_1ms column");
    assert_eq!(h[mmu_at..mmu_at + 4], ["mmu_1ms", "mmu_10ms", "mmu_100ms", "gc_cpu_fraction"]);
    let assists = rows(&out.join("assists.csv"));
    assert_eq!(
        header(&out.join("assists.csv")),
        ["collector", "gc", "goroutine", "start_ns", "duration_ns", "work_bytes", "kind", "thread"]
    );
    assert!(assists.iter().all(|a| a["kind"] == "mark-assist" && a["thread"].is_empty()), "gcwb's assists");
    let pauses = rows(&out.join("pauses.csv"));
    let mmu = rows(&out.join("mmu.csv"));
    assert_eq!(header(&out.join("mmu.csv")), ["collector", "window_ns", "mmu", "bmu"]);
    let phases = rows(&out.join("phases.csv"));
    assert_eq!(
        header(&out.join("phases.csv")),
        ["collector", "phase", "count", "p50_ns", "p99_ns", "max_ns", "total_ns"]
    );
    for s in &summary {
        let c = &s["collector"];
        let wall = int(s, "wall_ns");
        let pause_total = int(s, "pause_total_ns");
        let ctx = format!("collector {c}, wall {wall} ns, pauses {pause_total} ns");

        // mmu.csv: log-spaced windows up to the whole run; BMU monotone and
        // never above MMU; at the whole run, the share the pauses left.
        let curve: Vec<(u64, f64, f64)> = mmu
            .iter()
            .filter(|r| &r["collector"] == c)
            .map(|r| (int(r, "window_ns"), float(r, "mmu"), float(r, "bmu")))
            .collect();
        assert!(!curve.is_empty(), "{ctx}: no mmu.csv rows");
        assert!(curve.windows(2).all(|p| p[0].0 < p[1].0), "{ctx}: windows not increasing: {curve:?}");
        assert!(curve.windows(2).all(|p| p[0].2 <= p[1].2), "{ctx}: BMU decreases: {curve:?}");
        for &(w, m, b) in &curve {
            assert!((0.0..=1.0).contains(&m) && b <= m, "{ctx}: window {w}: mmu {m}, bmu {b}");
        }
        let &(w_last, m_last, b_last) = curve.last().unwrap();
        assert_eq!(w_last, wall, "{ctx}: the curve ends at the whole run");
        // Assists stall one of `procs` workers each. An assist stops for a
        // pause between its steps, so the two can overlap: at any moment
        // at most everything is lost.
        // (The final collection, after the replay, is outside the run.)
        let of_c = |rows: &[HashMap<String, String>]| -> Vec<(u64, u64)> {
            rows.iter()
                .filter(|r| &r["collector"] == c && r.get("trigger").is_none_or(|t| t != "final"))
                .map(|r| (int(r, "start_ns"), int(r, "duration_ns")))
                .collect()
        };
        let (run_pauses, run_assists) = (of_c(&pauses), of_c(&assists));
        let assist_total: u64 = run_assists.iter().map(|a| a.1).sum();
        assert_eq!(assist_total, int(s, "assist_total_ns"), "{ctx}");
        let procs = int(s, "procs") as f64;
        let lost = lost_capped(&run_pauses, &run_assists, procs);
        assert!(lost <= pause_total as f64 + assist_total as f64 / procs + 1e-6, "{ctx}: lost {lost}");
        let expect = 1.0 - lost / wall as f64;
        assert!((m_last - expect).abs() < 1e-9, "{ctx}: mmu(whole run) = {m_last}, 1 - lost/wall = {expect}");
        assert_eq!(b_last, m_last);

        // summary.csv: the MMU columns match the curve where it has the
        // window, and are empty when the run is shorter than the window.
        for (col, w) in [("mmu_1ms", 1_000_000u64), ("mmu_10ms", 10_000_000), ("mmu_100ms", 100_000_000)] {
            match opt(s, col) {
                None => assert!(w > wall, "{ctx}: {col} empty"),
                Some(v) => {
                    assert!(w <= wall, "{ctx}: {col} = {v} for a run shorter than the window");
                    let on_curve =
                        curve.iter().find(|p| p.0 == w).unwrap_or_else(|| panic!("{ctx}: {w} not on the curve"));
                    assert_eq!(v, on_curve.1, "{ctx}: {col}");
                }
            }
        }
        let gc_cpu = float(s, "gc_cpu_fraction");
        assert!((gc_cpu - lost / wall as f64).abs() < 1e-9, "{ctx}: gc_cpu_fraction {gc_cpu}");

        // phases.csv: the summary's pauses, split by phase.
        let of_run: Vec<_> = phases.iter().filter(|r| &r["collector"] == c).collect();
        assert_eq!(of_run.iter().map(|r| int(r, "count")).sum::<u64>(), int(s, "pause_count"), "{ctx}");
        assert_eq!(of_run.iter().map(|r| int(r, "total_ns")).sum::<u64>(), pause_total, "{ctx}");
        assert_eq!(of_run.iter().map(|r| int(r, "max_ns")).max().unwrap_or(0), int(s, "pause_max_ns"), "{ctx}");
        for r in &of_run {
            assert!(int(r, "p50_ns") <= int(r, "p99_ns") && int(r, "p99_ns") <= int(r, "max_ns"), "{ctx}: {r:?}");
            // The summary's per-phase columns are phases.csv's figures.
            let col = r["phase"].replace('-', "_");
            for stat in ["p50", "p99", "max"] {
                assert_eq!(opt(s, &format!("{col}_{stat}_ns")), Some(float(r, &format!("{stat}_ns"))), "{ctx}: {r:?}");
            }
            let n =
                pauses.iter().filter(|p| &p["collector"] == c && p["phase"] == r["phase"] && p["trigger"] != "final");
            assert_eq!(n.count() as u64, int(r, "count"), "{ctx}: {r:?}");
        }

        // The pause log parses, counts every pause of the replay (the final
        // collection left out) and spans the run one second at a time.
        let (start, intervals) = read_hlog(&out.join(format!("pauses-{c}.hlog")));
        assert!(start.is_some_and(|t| t > 1.5e9), "{ctx}: StartTime {start:?}");
        let total: u64 = intervals.iter().map(|i| i.2.len()).sum();
        let replay_pauses = pauses.iter().filter(|p| &p["collector"] == c && p["trigger"] != "final").count() as u64;
        assert_eq!(total, replay_pauses, "{ctx}");
        assert_eq!(total, int(s, "pause_count"), "{ctx}");
        assert_eq!(intervals.len() as u64, wall.div_ceil(1_000_000_000).max(1), "{ctx}");
        let covered: f64 = intervals.iter().map(|i| i.1).sum();
        assert!(
            (covered - wall as f64 / 1e9).abs() < 0.002 * intervals.len() as f64,
            "{ctx}: intervals cover {covered} s"
        );
        let max = intervals.iter().map(|i| i.2.max()).max().unwrap_or(0);
        assert!(max.abs_diff(int(s, "pause_max_ns")) <= int(s, "pause_max_ns") / 500, "{ctx}: log max {max}");
    }
}

#[test]
fn seed_example_run_writes_mmu_phases_and_pause_logs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("OUT");
    let seed = workspace().join("workloads/traces/seed-example.gct");
    let stdout = gcwb(&[
        "run",
        seed.to_str().unwrap(),
        "--collector",
        "none,mark-sweep",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("mmu.csv, phases.csv, pauses-<collector>.hlog"), "{stdout}");
    let summary = rows(&out.join("summary.csv"));
    let names: Vec<&str> = summary.iter().map(|r| r["collector"].as_str()).collect();
    assert!(names.contains(&"none") && names.contains(&"mark-sweep"), "{names:?}");
    // The seed example calls runtime.GC() twice: mark-sweep pauses twice.
    let ms = summary.iter().find(|r| r["collector"] == "mark-sweep").unwrap();
    assert_eq!(int(ms, "pause_count"), 2);
    let phases = rows(&out.join("phases.csv"));
    assert_eq!(phases.len(), 1, "{phases:?}");
    assert_eq!((phases[0]["collector"].as_str(), phases[0]["phase"].as_str()), ("mark-sweep", "stw-full"));
    assert_eq!(int(&phases[0], "count"), 2);
    // `none` never pauses: utilization 1 everywhere, no GC CPU.
    let none = summary.iter().find(|r| r["collector"] == "none").unwrap();
    assert_eq!(float(none, "gc_cpu_fraction"), 0.0);
    assert!(rows(&out.join("mmu.csv")).iter().filter(|r| r["collector"] == "none").all(|r| float(r, "mmu") == 1.0));
    check_metrics(&out);
}

#[test]
fn default_workload_mmu_rises_with_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("OUT");
    let args =
        ["run", "--workload", "default", "--set", "events=100000", "--collector", "mark-sweep", "--quiet", "--out"];
    gcwb(&[&args[..], &[out.to_str().unwrap()]].concat());
    check_metrics(&out);
    let summary = rows(&out.join("summary.csv"));
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    let wall = int(s, "wall_ns");
    assert!(int(s, "pause_count") > 0, "the default workload collects: {s:?}");
    // MMU(k·w) >= MMU(w): a window of k·w is k windows of w. The columns
    // present (the run may be shorter than 100 ms) rise with the window.
    let present: Vec<f64> = ["mmu_1ms", "mmu_10ms", "mmu_100ms"].iter().filter_map(|c| opt(s, c)).collect();
    assert!(wall < 1_000_000 || !present.is_empty(), "{s:?}");
    assert!(present.windows(2).all(|p| p[0] <= p[1]), "mmu not rising with the window: {present:?}");
    assert!(present.iter().all(|&m| (0.0..=1.0).contains(&m)), "{present:?}");
    if int(s, "pause_max_ns") > 1_000_000 {
        assert_eq!(opt(s, "mmu_1ms"), Some(0.0), "a pause over 1 ms leaves a 1 ms window without mutator");
    }
}

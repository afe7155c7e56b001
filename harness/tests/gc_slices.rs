//! `gc_slices.csv` end to end through `gcwb run`: the slices of the
//! collector's background work on the replay's workers, one row each, and
//! the summary columns added up from them (`mark_worker_ns`,
//! `idle_mark_ns`, `gc_slice_count`).
//!
//! Which slices a run has depends on timing; what is asserted holds
//! whatever the scheduling: a slice is timed on the replay's clock between
//! its start and `wall_ns`, its worker is one of `--procs`, Go's plan for 2
//! workers has no dedicated one, and the summary's columns are the file's
//! totals, summed from the same records.

mod common;
use common::*;
use std::collections::HashMap;
use std::path::PathBuf;

const HEADER: [&str; 7] = ["gc", "worker", "mode", "start_ns", "duration_ns", "cpu_ns", "collector"];

/// A column as a whole number.
fn num(row: &HashMap<String, String>, name: &str) -> u64 {
    let v = col(row, name);
    v.parse().unwrap_or_else(|_| panic!("{name} = {v:?} is not a whole number in {row:?}"))
}

/// Runs the server workload (300 requests) on 2 workers with `collector`
/// and returns its output folder (in `dir`).
fn run_server(dir: &tempfile::TempDir, collector: &str) -> PathBuf {
    let args = [
        "run",
        "--workload",
        "server",
        "--set",
        "requests=300",
        "--collector",
        collector,
        "--procs",
        "2",
        "--quiet",
        "--no-charts",
        "--out",
        collector,
    ];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    dir.path().join(collector)
}

/// The one summary row of a run folder.
fn summary(out: &std::path::Path) -> HashMap<String, String> {
    let rows = read_csv(&out.join("summary.csv")).rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

#[test]
fn the_concurrent_collectors_slices_lie_in_the_replay_and_add_up_to_the_summary() {
    let dir = tmp();
    let out = run_server(&dir, "concurrent");
    let slices = read_csv(&out.join("gc_slices.csv"));
    assert_eq!(slices.headers, HEADER);
    let s = summary(&out);
    let wall = num(&s, "wall_ns");
    // Each of the server's collections marks in slices; without any there
    // would be nothing to check.
    assert!(!slices.rows.is_empty(), "no slices: {s:?}");
    let (mut lost, mut idle) = (0, 0);
    let mut cpu = 0;
    for r in &slices.rows {
        assert_eq!(col(r, "collector"), "concurrent");
        let (start, duration) = (num(r, "start_ns"), num(r, "duration_ns"));
        assert!(start + duration <= wall, "slice [{start}, +{duration}] ns runs past the replay's end {wall}: {r:?}");
        assert!(num(r, "worker") < 2, "a worker of --procs 2: {r:?}");
        assert!(num(r, "gc") >= 1, "{r:?}");
        cpu += num(r, "cpu_ns");
        match col(r, "mode") {
            // Go's plan for 2 Ps: no dedicated worker, a 25% fractional share.
            "fractional" => lost += duration,
            "idle" => idle += duration,
            other => panic!("mode {other:?}: 2 workers have fractional and idle slices only: {r:?}"),
        }
    }
    assert_eq!(num(&s, "mark_worker_ns"), lost, "dedicated and fractional slices' wall time");
    assert_eq!(num(&s, "idle_mark_ns"), idle, "idle slices' wall time");
    assert_eq!(num(&s, "gc_slice_count"), slices.rows.len() as u64);
    assert!(
        num(&s, "background_thread_cpu_ns") >= cpu,
        "the background work's CPU time holds every slice's ({cpu} ns): {s:?}"
    );
    let starts: Vec<u64> = slices.rows.iter().map(|r| num(r, "start_ns")).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "rows in time order: {starts:?}");
}

#[test]
fn a_collector_without_background_work_writes_only_the_header_and_zeros() {
    let dir = tmp();
    let out = run_server(&dir, "mark-sweep");
    let text = std::fs::read_to_string(out.join("gc_slices.csv")).unwrap();
    assert_eq!(text, format!("{}\n", HEADER.join(",")));
    let s = summary(&out);
    for c in ["mark_worker_ns", "idle_mark_ns", "gc_slice_count"] {
        assert_eq!(col(&s, c), "0", "{c}");
    }
}

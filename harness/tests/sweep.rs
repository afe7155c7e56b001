//! End-to-end tests of `gcwb sweep` and `gcwb merge`: the real binary on
//! small experiment files written for each test (a `server` of a few
//! goroutines and requests, so each cell takes milliseconds).
//!
//! What they pin down: the cells a sweep runs and their order; `cells.csv`
//! and `sweep.csv` hold one row per expected combination, and the sweep
//! rows' median, min and max are those of the cells; a second run resumes
//! (only missing cells run, partial directories of dead processes are
//! removed and never read); shards split whole groups of collectors and
//! their merge equals the unsharded sweep; merge refuses different
//! experiments and conflicting cells without writing; every bad input
//! exits 2 before any cell is written; the shipped examples parse.

mod common;
use common::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs and asserts a bad-input failure: exit 2, no panic, and stderr
/// containing every fragment.
fn fails_in(dir: &Path, args: &[&str], fragments: &[&str]) -> String {
    let o = gcwb_in(dir, args);
    let ctx = describe(args, &o);
    assert_eq!(o.status.code(), Some(2), "{ctx}");
    let e = stderr(&o);
    assert!(!e.contains("panicked") && !e.contains("RUST_BACKTRACE"), "panic in {ctx}");
    for f in fragments {
        assert!(e.contains(f), "expected stderr to contain {f:?}, {ctx}");
    }
    e
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

/// The ids of the finished cells (directories with a cell.toml) of `out`.
fn cell_ids(out: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(out.join("cells")) else { return BTreeSet::new() };
    entries
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("cell.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every entry of `out/cells`, finished or not.
fn cells_entries(out: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out.join("cells")) else { return Vec::new() };
    entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// The cell ids `--list` prints, in run order.
fn listed(dir: &Path, args: &[&str]) -> Vec<String> {
    let o = ok_in(dir, args);
    stdout(&o).lines().map(|l| l.split_whitespace().nth(1).expect("index then id").to_string()).collect()
}

/// The cell ids a sweep's stdout says it ran, in order (`[k/n] id: ...`).
fn ran(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").unwrap().1.split(':').next().unwrap().to_string())
        .collect()
}

fn num(row: &HashMap<String, String>, name: &str) -> f64 {
    let v = col(row, name);
    v.parse().unwrap_or_else(|_| panic!("column {name} = {v:?} is not a number in {row:?}"))
}

/// Two collectors, GOGC 100 / 50 / off, two request counts, three
/// repetitions: 36 cells; enough allocation (~8 MB) for a few GCs.
const MATRIX: &str = r#"
collectors = ["mark-sweep", "concurrent"]
repetitions = 3
seed = 7

[sweep]
gogc = [100, 50, "off"]
requests = [400, 800]
procs = 1

[[workload]]
name = "server"
set = { goroutines = 4, cache_entries = 256 }
"#;

#[test]
fn a_sweep_writes_every_cell_and_aggregates_them() {
    let t = tmp();
    let exp = write(t.path(), "matrix.toml", MATRIX);
    let order = listed(t.path(), &["sweep", &exp, "--list"]);
    assert_eq!(order.len(), 2 * 3 * 2 * 3);
    assert_eq!(order[0], "server_gogc-100_requests-400_procs-1_mark-sweep_r1");
    assert_eq!(order[1], "server_gogc-100_requests-400_procs-1_concurrent_r1");
    // Repetitions outermost; collectors alternate.
    assert!(order[..12].iter().all(|id| id.ends_with("_r1")) && order[24..].iter().all(|id| id.ends_with("_r3")));
    for pair in order.chunks(2) {
        assert!(pair[0].contains("_mark-sweep_") && pair[1].contains("_concurrent_"), "{pair:?}");
        assert_eq!(pair[0].replace("_mark-sweep_", "_"), pair[1].replace("_concurrent_", "_"));
    }

    let args = ["sweep", &exp, "--out", "out", "-q"];
    let o = ok_in(t.path(), &args);
    assert_eq!(ran(&o), order, "the cells ran in the listed order");
    let out = t.path().join("out");
    assert_eq!(cell_ids(&out), order.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(std::fs::read_to_string(out.join("experiment.toml")).unwrap(), MATRIX);
    let first = out.join("cells").join(&order[0]);
    for f in ["summary.csv", "pauses.csv", "cycles.csv", "cell.toml"] {
        assert!(first.join(f).is_file(), "{f} missing in {}", first.display());
    }
    let record: toml::Table = toml::from_str(&std::fs::read_to_string(first.join("cell.toml")).unwrap()).unwrap();
    assert_eq!(record["collector"].as_str(), Some("mark-sweep"));
    assert_eq!(record["params"]["gogc"].as_str(), Some("100"));
    assert_eq!(record["set"]["goroutines"].as_str(), Some("4"));

    // cells.csv: one row per cell, parameters then the summary's columns.
    let cells = read_csv(&out.join("cells.csv"));
    assert_eq!(cells.headers[..7], ["cell", "workload", "gogc", "requests", "procs", "collector", "repetition"]);
    let unique: BTreeSet<&String> = cells.headers.iter().collect();
    assert_eq!(unique.len(), cells.headers.len(), "no column twice: {:?}", cells.headers);
    for c in ["pause_p99_ns", "events_per_s", "peak_heap_bytes", "gc_count", "status"] {
        assert!(cells.headers.iter().any(|h| h == c), "{c} missing from cells.csv");
    }
    assert_eq!(cells.rows.iter().map(|r| col(r, "cell").to_string()).collect::<Vec<_>>(), order);
    for r in &cells.rows {
        assert_eq!(col(r, "status"), "ok");
        assert_eq!(col(r, "procs"), "1");
        if col(r, "gogc") == "off" {
            assert_eq!(num(r, "gc_count"), 0.0, "GOGC=off collects only at the end: {r:?}");
        }
    }
    // The swept workload parameter reaches the workload: twice the requests, more events.
    let events = |req: &str| {
        cells
            .rows
            .iter()
            .filter(|r| col(r, "requests") == req)
            .map(|r| num(r, "events") as u64)
            .collect::<BTreeSet<_>>()
    };
    let (small, big) = (events("400"), events("800"));
    assert_eq!((small.len(), big.len()), (1, 1), "one trace per request count");
    assert!(big.first() > small.first());
    assert!(cells.rows.iter().any(|r| col(r, "gogc") == "50" && num(r, "gc_count") > 0.0), "the workload collects");

    // sweep.csv: per parameter with several values, the others at their first.
    let sweep = read_csv(&out.join("sweep.csv"));
    assert_eq!(
        sweep.headers,
        [
            "collector",
            "param",
            "value",
            "metric_median",
            "metric_min",
            "metric_max",
            "metric",
            "workload",
            "fixed",
            "repetitions",
            "metric_mean",
            "metric_ci95_low",
            "metric_ci95_high"
        ]
    );
    // gogc: 100 and 50 (not off); requests: 400 and 800; 2 collectors, 5
    // metrics (the default ones: 3 measured, 2 lower-bound overheads).
    assert_eq!(sweep.rows.len(), (2 + 2) * 2 * 5);
    let mut keys = BTreeSet::new();
    for r in &sweep.rows {
        let (median, min, max) = (num(r, "metric_median"), num(r, "metric_min"), num(r, "metric_max"));
        assert!(min <= median && median <= max, "{r:?}");
        assert_eq!(col(r, "repetitions"), "3");
        assert_eq!(col(r, "workload"), "server");
        let (param, value, metric, collector) =
            (col(r, "param"), col(r, "value"), col(r, "metric"), col(r, "collector"));
        assert!(
            ["pause_p99_ns", "events_per_s", "peak_heap_bytes", "nlbo_wall", "nlbo_cpu"].contains(&metric),
            "{metric}"
        );
        keys.insert((param.to_string(), value.to_string(), metric.to_string(), collector.to_string()));
        let (fixed_gogc, fixed_requests) = match param {
            "gogc" => {
                assert_eq!(col(r, "fixed"), "requests=400 procs=1");
                (value, "400")
            }
            "requests" => {
                assert_eq!(col(r, "fixed"), "gogc=100 procs=1");
                ("100", value)
            }
            p => panic!("unexpected param {p}"),
        };
        // The row summarizes exactly its cells.
        let mut ys: Vec<f64> = cells
            .rows
            .iter()
            .filter(|c| {
                col(c, "collector") == collector && col(c, "gogc") == fixed_gogc && col(c, "requests") == fixed_requests
            })
            .map(|c| num(c, metric))
            .collect();
        ys.sort_by(f64::total_cmp);
        assert_eq!(ys.len(), 3);
        assert_eq!((min, median, max), (ys[0], ys[1], ys[2]), "{r:?}");
        let mean = ys.iter().sum::<f64>() / 3.0;
        assert!((num(r, "metric_mean") - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{r:?}");
        let (lo, hi) = (num(r, "metric_ci95_low"), num(r, "metric_ci95_high"));
        assert!((lo + hi) / 2.0 - mean <= 1e-6 * mean.abs().max(1.0) && lo <= mean && mean <= hi, "{r:?}");
    }
    assert_eq!(keys.len(), sweep.rows.len(), "one row per collector, parameter value and metric");

    // The charts: one per metric and parameter.
    let mut charts: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    charts.sort();
    let mut expected: Vec<String> = ["pause_p99_ns", "events_per_s", "peak_heap_bytes", "nlbo_wall", "nlbo_cpu"]
        .iter()
        .flat_map(|m| ["gogc", "requests"].map(|p| format!("sweep-{m}-{p}.png")))
        .collect();
    expected.sort();
    assert_eq!(charts, expected);
}

/// Two collectors, two GOGC values, two repetitions: 8 cells in 4 groups.
const SMALL: &str = r#"
collectors = ["mark-sweep", "concurrent"]
repetitions = 2

[sweep]
gogc = [100, 200]
procs = 1

[[workload]]
name = "server"
set = { goroutines = 2, requests = 20 }
"#;

#[test]
fn a_second_run_resumes_and_partial_cells_are_never_read() {
    let t = tmp();
    let exp = write(t.path(), "small.toml", SMALL);
    let args = ["sweep", &exp, "--out", "out", "-q", "--no-charts"];
    let first = ok_in(t.path(), &args);
    let out = t.path().join("out");
    let all = cell_ids(&out);
    assert_eq!(all.len(), 8);
    assert_eq!(ran(&first).len(), 8);

    // Nothing to do the second time.
    let again = ok_in(t.path(), &args);
    assert!(ran(&again).is_empty(), "{}", stdout(&again));
    assert!(stdout(&again).contains("8 of 8 cells already finished: skipped"), "{}", stdout(&again));

    // A lost cell, and the partial directories of a crashed sweep of this
    // host (its pid gone) and of a live one elsewhere.
    let lost = "server_gogc-200_procs-1_concurrent_r1";
    assert!(all.contains(lost));
    let kept = "server_gogc-100_procs-1_mark-sweep_r2";
    let kept_record = std::fs::read(out.join("cells").join(kept).join("cell.toml")).unwrap();
    let record: toml::Table =
        toml::from_str(&String::from_utf8(kept_record.clone()).unwrap()).expect("cell.toml parses");
    let host = record["host"].as_str().unwrap().to_string();
    std::fs::remove_dir_all(out.join("cells").join(lost)).unwrap();
    let crashed = out.join("cells").join(format!(".partial.{host}.2147483646.{lost}"));
    let elsewhere = out.join("cells").join(format!(".partial.other-host.1.{lost}"));
    for p in [&crashed, &elsewhere] {
        std::fs::create_dir_all(p).unwrap();
        std::fs::write(p.join("summary.csv"), "garbage\n").unwrap();
    }

    let resumed = ok_in(t.path(), &args);
    assert_eq!(ran(&resumed), [lost], "only the lost cell runs again: {}", stdout(&resumed));
    assert!(stdout(&resumed).contains("7 of 8 cells already finished: skipped"));
    assert_eq!(cell_ids(&out), all);
    assert_eq!(
        std::fs::read(out.join("cells").join(kept).join("cell.toml")).unwrap(),
        kept_record,
        "a finished cell is not rewritten"
    );
    assert!(!crashed.exists(), "the crashed sweep's partial cell is removed");
    assert!(elsewhere.exists(), "another host's partial cell is left alone");
    let cells = read_csv(&out.join("cells.csv"));
    assert_eq!(cells.rows.len(), 8);
    assert!(cells.rows.iter().all(|r| col(r, "status") == "ok" && !col(r, "cell").starts_with('.')));

    // Two repetitions: sweep.csv's median is their mean, not the smaller.
    for r in &read_csv(&out.join("sweep.csv")).rows {
        let (metric, collector, value) = (col(r, "metric"), col(r, "collector"), col(r, "value"));
        let ys: Vec<f64> = cells
            .rows
            .iter()
            .filter(|c| col(c, "collector") == collector && col(c, "gogc") == value)
            .map(|c| num(c, metric))
            .collect();
        assert_eq!(ys.len(), 2, "{r:?}");
        let mean = (ys[0] + ys[1]) / 2.0;
        assert!((num(r, "metric_median") - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{r:?}: {ys:?}");
        assert!((num(r, "metric_mean") - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{r:?}: {ys:?}");
    }
}

#[test]
fn shards_split_whole_groups_and_merge_into_the_unsharded_sweep() {
    let t = tmp();
    let exp = write(t.path(), "small.toml", SMALL);
    let dir = t.path();
    ok_in(dir, &["sweep", &exp, "--out", "all", "-q", "--no-charts"]);
    ok_in(dir, &["sweep", &exp, "--out", "s1", "--shard", "1/2", "-q", "--no-charts"]);
    let o = ok_in(dir, &["sweep", &exp, "--out", "s2", "--shard", "2/2", "-q", "--no-charts"]);
    assert!(stdout(&o).contains("4 to go"), "a shard says the sweep is not complete: {}", stdout(&o));
    let (all, s1, s2) = (cell_ids(&dir.join("all")), cell_ids(&dir.join("s1")), cell_ids(&dir.join("s2")));
    assert_eq!((s1.len(), s2.len()), (4, 4));
    assert!(s1.is_disjoint(&s2));
    assert_eq!(s1.union(&s2).cloned().collect::<BTreeSet<_>>(), all);
    // A group's collectors stay together.
    for id in &s1 {
        let partner = if id.contains("mark-sweep") {
            id.replace("mark-sweep", "concurrent")
        } else {
            id.replace("concurrent", "mark-sweep")
        };
        assert!(s1.contains(&partner), "{id} without {partner}");
    }
    let listed2: BTreeSet<String> = listed(dir, &["sweep", &exp, "--list", "--shard", "2/2"]).into_iter().collect();
    assert_eq!(listed2, s2, "--list shows the shard's cells");

    let o = ok_in(dir, &["merge", "s1", "s2", "--out", "merged", "--no-charts"]);
    assert!(stdout(&o).contains("8 cells copied"), "{}", stdout(&o));
    let merged = dir.join("merged");
    assert_eq!(cell_ids(&merged), all);
    assert_eq!(std::fs::read_to_string(merged.join("experiment.toml")).unwrap(), SMALL);
    for id in &s1 {
        assert_eq!(
            std::fs::read(merged.join("cells").join(id).join("summary.csv")).unwrap(),
            std::fs::read(dir.join("s1/cells").join(id).join("summary.csv")).unwrap()
        );
    }
    let key = |p: &Path| {
        read_csv(&p.join("sweep.csv"))
            .rows
            .iter()
            .map(|r| ["collector", "param", "value", "metric", "repetitions"].map(|c| col(r, c).to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&merged), key(&dir.join("all")), "the same sweep.csv rows as the unsharded sweep");
    assert_eq!(read_csv(&merged.join("cells.csv")).rows.len(), 8);
    assert_eq!(key(&merged).len(), 2 * 2 * 5);

    // Merging again, or into one of the shards, copies only what is missing.
    let o = ok_in(dir, &["merge", "s1", "s2", "--out", "merged", "--no-charts"]);
    assert!(stdout(&o).contains("0 cells copied, 8 already there"), "{}", stdout(&o));
    let o = ok_in(dir, &["merge", "s1", "s2", "--out", "s1", "--no-charts"]);
    assert!(stdout(&o).contains("4 cells copied, 4 already there"), "{}", stdout(&o));
    assert_eq!(cell_ids(&dir.join("s1")), all);

    // Another run of shard 1 holds different measurements of the same cells.
    ok_in(dir, &["sweep", &exp, "--out", "s1-again", "--shard", "1/2", "-q", "--no-charts"]);
    fails_in(dir, &["merge", "s2", "s1-again", "merged", "--out", "conflict"], &["different runs of one cell"]);
    assert!(!dir.join("conflict").exists(), "a refused merge writes nothing");

    // Shards of a different experiment file.
    let other = write(dir, "other.toml", &SMALL.replace("repetitions = 2", "repetitions = 1"));
    ok_in(dir, &["sweep", &other, "--out", "o1", "--shard", "1/2", "-q", "--no-charts"]);
    fails_in(dir, &["merge", "s2", "o1", "--out", "mixed"], &["experiment.toml", "differ"]);
    assert!(!dir.join("mixed").exists());
    fails_in(dir, &["merge", "s2", "--out", "o1"], &["different experiment file"]);
    fails_in(dir, &["merge", "nowhere", "--out", "x"], &["nowhere: no such directory"]);
}

#[test]
fn shards_may_share_one_directory() {
    let t = tmp();
    let exp = write(t.path(), "small.toml", SMALL);
    let children: Vec<std::process::Child> = ["1/2", "2/2"]
        .iter()
        .map(|shard| {
            Command::new(env!("CARGO_BIN_EXE_gcwb"))
                .args(["sweep", &exp, "--out", "out", "--shard", shard, "-q", "--no-charts"])
                .current_dir(t.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("gcwb starts")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let out = t.path().join("out");
    assert_eq!(cell_ids(&out).len(), 8);
    assert!(cells_entries(&out).iter().all(|e| !e.starts_with('.')), "{:?}", cells_entries(&out));
    // Aggregating the directory again sees every cell.
    let o = ok_in(t.path(), &["merge", "out", "--out", "out", "--no-charts"]);
    assert!(stdout(&o).contains("0 cells copied, 8 already there"), "{}", stdout(&o));
    assert_eq!(read_csv(&out.join("cells.csv")).rows.len(), 8);
}

#[test]
fn a_trace_file_is_swept_like_a_built_in_workload() {
    let t = tmp();
    let dir = t.path();
    let o = ok_in(dir, &["gen", "server", "--set", "goroutines=2", "--set", "requests=30", "-o", "app.gctb"]);
    let events: u64 = stdout(&o).split_whitespace().nth(2).unwrap().parse().unwrap();
    std::fs::create_dir(dir.join("exp")).unwrap();
    // The trace's path is relative to the experiment file, not to the
    // working directory.
    write(
        &dir.join("exp"),
        "app.toml",
        "collectors = [\"mark-sweep\"]\n[sweep]\nmemlimit = [\"64MiB\", \"off\", 16777216]\nprocs = 1\n[[workload]]\ntrace = \"../app.gctb\"\n",
    );
    let o = ok_in(dir, &["sweep", "exp/app.toml", "--out", "res", "-q", "--no-charts"]);
    assert_eq!(
        ran(&o),
        [
            "app_memlimit-64MiB_procs-1_mark-sweep_r1",
            "app_memlimit-off_procs-1_mark-sweep_r1",
            "app_memlimit-16777216_procs-1_mark-sweep_r1"
        ]
    );
    let cells = read_csv(&dir.join("res/cells.csv"));
    assert!(cells.rows.iter().all(|r| col(r, "workload") == "app" && col(r, "trace") == "app"));
    assert!(cells.rows.iter().all(|r| num(r, "events") as u64 == events), "the trace's {events} events");
    // Sizes with a unit are charted in bytes; `off` is left out.
    let sweep = read_csv(&dir.join("res/sweep.csv"));
    let values: BTreeSet<&str> = sweep.rows.iter().map(|r| col(r, "value")).collect();
    assert_eq!(values, BTreeSet::from(["16777216", "67108864"]));
    // A workload parameter cannot be swept on a trace file.
    write(&dir.join("exp"), "bad.toml", "[sweep]\nrequests = [1, 2]\n[[workload]]\ntrace = \"../app.gctb\"\n");
    fails_in(dir, &["sweep", "exp/bad.toml", "--out", "bad"], &["sweep.requests", "trace file"]);
}

#[test]
fn bad_input_exits_2_before_any_cell_runs() {
    let t = tmp();
    let dir = t.path();
    let with = |top: &str, rest: &str| {
        format!("{top}\n[sweep]\ngogc = [100, 50]\n{rest}\n[[workload]]\nname = \"server\"\nset = {{ requests = 5 }}\n")
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed.toml",
            "collectors = [\"mark-sweep\"\nrepetitions = 2\n".into(),
            vec!["malformed.toml: line ", "column"],
        ),
        (
            "collector.toml",
            with("collectors = [\"mark-sweep\", \"g1\"]", ""),
            vec!["line 1: collectors: unknown collector `g1`", "mark-sweep", "concurrent"],
        ),
        (
            "workload.toml",
            "[[workload]]\nname = \"servr\"\n".into(),
            vec!["line 2: workload: unknown workload `servr`", "server", "gcbench"],
        ),
        (
            "set.toml",
            "[[workload]]\nname = \"server\"\nset = { request = 5 }\n".into(),
            vec!["unknown parameter `request`", "requests"],
        ),
        (
            "param.toml",
            with("", "live_bytes = [1, 2]"),
            vec!["line 4: sweep.live_bytes: not a run setting", "gogc", "requests"],
        ),
        ("range.toml", with("", "goroutines = [2, 0]"), vec!["line 4: sweep.goroutines", "out of range"]),
        ("twice.toml", with("", "requests = [5, 6]"), vec!["sweep.requests: workload `server` also fixes it in `set`"]),
        ("procs.toml", with("", "procs = \"many\""), vec!["sweep.procs", "many"]),
        ("metric.toml", with("metrics = [\"pause_p99\"]", ""), vec!["metrics: `pause_p99`", "pause_p99_ns"]),
        ("field.toml", with("repeats = 3", ""), vec!["line 1, column 1: unknown field `repeats`", "repetitions"]),
        ("empty.toml", "repetitions = 2\n".into(), vec!["no [[workload]]"]),
        ("trace.toml", "[[workload]]\ntrace = \"missing.gctb\"\n".into(), vec!["missing.gctb: no such file"]),
    ];
    for (name, text, fragments) in &cases {
        let file = write(dir, name, text);
        let out = format!("out-{name}");
        let e = fails_in(dir, &["sweep", &file, "--out", &out, "-q"], fragments);
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert!(!dir.join(&out).exists(), "{name}: nothing written");
    }
    fails_in(dir, &["sweep", "no-such.toml", "--out", "o"], &["no-such.toml"]);
    assert!(!dir.join("o").exists());

    let good = write(dir, "good.toml", &with("collectors = \"mark-sweep\"", ""));
    // An output folder that cannot be created.
    write(dir, "a-file", "");
    let e = fails_in(dir, &["sweep", &good, "--out", "a-file/sub", "-q"], &["a-file/sub"]);
    assert_eq!(e.lines().count(), 1, "{e}");
    // Bad shards (clap's usage error, exit 2).
    for shard in ["0/2", "3/2", "1", "a/b"] {
        fails_in(dir, &["sweep", &good, "--out", "s", "--shard", shard], &["--shard", "i/n"]);
    }
    assert!(!dir.join("s").exists());
    // A folder holding another experiment's results.
    ok_in(dir, &["sweep", &good, "--out", "used", "-q", "--no-charts"]);
    let before = cells_entries(&dir.join("used"));
    let other = write(dir, "other.toml", &with("collectors = \"concurrent\"", ""));
    fails_in(dir, &["sweep", &other, "--out", "used", "-q"], &["different experiment file"]);
    assert_eq!(cells_entries(&dir.join("used")), before);
}

#[test]
fn the_example_experiments_parse_and_tiny_runs_clean() {
    let examples = workspace().join("scripts/experiments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["gogc.toml", "procs.toml", "tiny.toml"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let t = tmp();
    // One line per collector; what it declares is indented under it.
    let collectors = stdout(&ok_in(t.path(), &["collectors"])).lines().filter(|l| !l.starts_with(' ')).count();
    for f in &files {
        let cells = listed(t.path(), &["sweep", f.to_str().unwrap(), "--list"]);
        assert!(!cells.is_empty(), "{}", f.display());
        if f.ends_with("gogc.toml") {
            assert_eq!(cells.len(), 4 * collectors * 3, "4 GOGC values, every collector, 3 repetitions");
        }
    }
    let tiny = examples.join("tiny.toml");
    let o = ok_in(t.path(), &["sweep", tiny.to_str().unwrap(), "--out", "tiny", "-q", "--no-charts"]);
    assert_eq!(ran(&o).len(), 2 * collectors * 2, "{}", stdout(&o));
    assert!(stdout(&o).lines().filter(|l| l.starts_with('[')).all(|l| l.contains("verified: clean")), "{}", stdout(&o));
    let sweep = read_csv(&t.path().join("tiny/sweep.csv"));
    assert_eq!(sweep.rows.len(), 2 * collectors * 5, "5 default metrics");
}

#[test]
fn help_lists_sweep_and_merge_and_their_options() {
    let t = tmp();
    let top = stdout(&ok_in(t.path(), &["--help"]));
    for c in ["sweep", "merge"] {
        assert!(top.lines().any(|l| l.split_whitespace().next() == Some(c)), "--help lacks {c}:\n{top}");
    }
    let sweep = stdout(&ok_in(t.path(), &["sweep", "--help"]));
    for opt in ["--out", "--shard", "--quiet", "--no-charts", "--list"] {
        assert!(sweep.contains(opt), "sweep --help lacks {opt}:\n{sweep}");
    }
    let merge = stdout(&ok_in(t.path(), &["merge", "--help"]));
    assert!(merge.contains("--out") && merge.contains("--no-charts"), "{merge}");
    // --out is needed to run, not to list.
    fails_in(t.path(), &["sweep", "x.toml"], &["--out"]);
}

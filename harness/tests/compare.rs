//! End-to-end tests of `gcwb compare`: the real binary, run in temporary
//! directories on small built-in workloads.
//!
//! What they pin down: each collector is replayed `--repeat` times with the
//! order rotating between repetitions (recorded in `runs.csv`, each
//! repetition's `summary.csv` and the output); `compare.csv` has one row
//! per collector whose medians, minima and maxima are those of the
//! repetitions' `summary.csv` files; the top-level run files are the median
//! repetition's; bad input exits 2 with one message and writes nothing.

mod common;
use common::*;
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

/// Every file under `dir`, relative, sorted (directories end in `/`).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn f64_of(row: &HashMap<String, String>, name: &str) -> f64 {
    let v = col(row, name);
    v.parse().unwrap_or_else(|_| panic!("column {name} = {v:?} is not a number in {row:?}"))
}

fn collectors(csv: &Csv) -> Vec<&str> {
    csv.rows.iter().map(|r| col(r, "collector")).collect()
}

/// The rows of `csv` whose `collector` is `name`.
fn rows_of<'a>(csv: &'a Csv, name: &str) -> Vec<&'a HashMap<String, String>> {
    csv.rows.iter().filter(|r| col(r, "collector") == name).collect()
}

/// Lines of a CSV file of one collector (by its `collector` column).
fn lines_of(path: &Path, collector: &str) -> Vec<String> {
    let csv = read_csv(path);
    rows_of(&csv, collector)
        .iter()
        .map(|r| csv.headers.iter().map(|h| r[h].clone()).collect::<Vec<_>>().join(","))
        .collect()
}

const SERVER: [&str; 4] = ["--workload", "server", "--set", "requests=10"];
const TWO: &str = "mark-sweep,concurrent";

/// `compare` of the small server workload with mark-sweep and concurrent.
fn compare_server(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["compare"];
    args.extend(SERVER);
    args.extend(["--collectors", TWO, "--procs", "2", "-q", "--out", "out"]);
    args.extend(extra);
    ok_in(dir, &args)
}

#[test]
fn collectors_alternate_and_compare_csv_spans_their_repetitions() {
    let dir = tmp();
    let o = compare_server(dir.path(), &["--repeat", "3"]);
    let out = dir.path().join("out");
    let text = stdout(&o);

    // The order rotates: a,b / b,a / a,b — in the output, in runs.csv and
    // in each repetition's summary.csv.
    let expected = [["mark-sweep", "concurrent"], ["concurrent", "mark-sweep"], ["mark-sweep", "concurrent"]];
    for (r, order) in expected.iter().enumerate() {
        let line = format!("rep {}/3: {}", r + 1, order.join(", "));
        assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
        let rep = read_csv(&out.join(format!("reps/{}/summary.csv", r + 1)));
        assert_eq!(collectors(&rep), order, "reps/{}/summary.csv in the order run", r + 1);
    }
    let runs = read_csv(&out.join("runs.csv"));
    let ran: Vec<(&str, &str, &str, &str)> =
        runs.rows.iter().map(|r| (col(r, "order"), col(r, "rep"), col(r, "position"), col(r, "collector"))).collect();
    assert_eq!(
        ran,
        [
            ("1", "1", "1", "mark-sweep"),
            ("2", "1", "2", "concurrent"),
            ("3", "2", "1", "concurrent"),
            ("4", "2", "2", "mark-sweep"),
            ("5", "3", "1", "mark-sweep"),
            ("6", "3", "2", "concurrent")
        ]
    );
    assert!(!out.join("reps/4").exists());

    // compare.csv: one row per collector, in the order given.
    let cmp = read_csv(&out.join("compare.csv"));
    assert_eq!(collectors(&cmp), ["mark-sweep", "concurrent"]);
    for h in ["collector", "repeats", "trace", "median_rep"] {
        assert!(cmp.headers.iter().any(|c| c == h), "no {h} in {:?}", cmp.headers);
    }
    let metrics: Vec<String> =
        cmp.headers.iter().filter_map(|h| h.strip_suffix("_median")).map(str::to_string).collect();
    for m in [
        "wall_ns",
        "events_per_s",
        "gc_count",
        "pause_count",
        "pause_p50_ns",
        "pause_p99_ns",
        "pause_max_ns",
        "pause_total_ns",
        "mmu_10ms",
        "peak_heap_bytes",
    ] {
        assert!(metrics.iter().any(|x| x == m), "compare.csv lacks {m}_median: {:?}", cmp.headers);
    }
    for row in &cmp.rows {
        let c = col(row, "collector");
        assert_eq!(col(row, "repeats"), "3");
        assert_eq!(col(row, "trace"), "server");
        assert_eq!(col(row, "status"), "ok");
        assert_eq!(col(row, "verify_errors"), "", "not verified");
        let mut filled = 0;
        for m in &metrics {
            let (med, min, max) = (format!("{m}_median"), format!("{m}_min"), format!("{m}_max"));
            assert!(cmp.headers.contains(&min) && cmp.headers.contains(&max), "{m}: no min/max column");
            if col(row, &med).is_empty() {
                assert!(col(row, &min).is_empty() && col(row, &max).is_empty(), "{c} {m}: median empty, not min/max");
                continue;
            }
            filled += 1;
            let (med, min, max) = (f64_of(row, &med), f64_of(row, &min), f64_of(row, &max));
            assert!(min <= med && med <= max, "{c} {m}: min {min} median {med} max {max}");
            // Mean and its 95% interval (none when only one repetition had
            // a value: an MMU window longer than the other replays).
            let mean = f64_of(row, &format!("{m}_mean"));
            let slack = 0.5 + 1e-9 * max.abs(); // whole numbers are rounded
            assert!(min - slack <= mean && mean <= max + slack, "{c} {m}: mean {mean} outside [{min}, {max}]");
            let (lo, hi) = (format!("{m}_ci95_low"), format!("{m}_ci95_high"));
            if col(row, &lo).is_empty() {
                assert!(col(row, &hi).is_empty() && min == max, "{c} {m}: no interval, yet several values");
            } else {
                let (lo, hi) = (f64_of(row, &lo), f64_of(row, &hi));
                assert!(lo <= mean + slack && mean <= hi + slack, "{c} {m}: mean {mean} outside [{lo}, {hi}]");
            }
        }
        assert!(filled >= 10, "{c}: only {filled} metrics filled in {row:?}");
        assert!(f64_of(row, "pause_count_min") >= 1.0, "{c} collected: {row:?}");

        // The spread is that of the repetitions' own summary.csv rows.
        let mut walls: Vec<u64> = (1..=3)
            .map(|r| {
                let rep = read_csv(&out.join(format!("reps/{r}/summary.csv")));
                col(rows_of(&rep, c)[0], "wall_ns").parse().unwrap()
            })
            .collect();
        let median_rep: usize = col(row, "median_rep").parse().unwrap();
        assert!((1..=3).contains(&median_rep));
        let median_wall = walls[median_rep - 1];
        walls.sort();
        let got: Vec<u64> =
            ["wall_ns_min", "wall_ns_median", "wall_ns_max"].iter().map(|n| col(row, n).parse().unwrap()).collect();
        assert_eq!(got, walls, "{c}: wall_ns min, median, max of the repetitions");
        assert_eq!(median_wall, walls[1], "{c}: median_rep is the median one");

        // The top level is the median repetition's files, for this collector.
        let rep_dir = out.join(format!("reps/{median_rep}"));
        for f in ["summary.csv", "pauses.csv", "cycles.csv", "mmu.csv", "phases.csv", "span_percentiles.csv"] {
            let (top, rep) = (lines_of(&out.join(f), c), lines_of(&rep_dir.join(f), c));
            assert!(!top.is_empty(), "{f} has rows of {c}");
            assert_eq!(top, rep, "{f}: {c}'s top-level rows are reps/{median_rep}'s");
        }
        let top_level: Vec<&str> = rows_of(&runs, c).iter().map(|r| col(r, "top_level")).collect();
        let mut expect = vec!["false"; 3];
        expect[median_rep - 1] = "true";
        assert_eq!(top_level, expect, "runs.csv marks {c}'s median repetition");
    }
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(collectors(&summary), ["mark-sweep", "concurrent"], "one top-level row per collector, as given");

    // Charts drawn from the top-level files; no temporaries anywhere.
    assert!(out.join("pause-percentiles.png").is_file(), "charts drawn: {:?}", tree(&out));
    assert!(tree(&out).iter().all(|f| !f.ends_with(".tmp")), "temporaries left: {:?}", tree(&out));

    // The closing table: a header, then a line per collector, aligned.
    let lines: Vec<&str> = text.lines().collect();
    let head = lines.iter().position(|l| l.starts_with("collector") && l.contains("pause p99")).expect("table");
    let table = &lines[head..head + 3];
    assert!(table[1].starts_with("mark-sweep ") && table[2].starts_with("concurrent "), "{text}");
    // Aligned: every column starts at its header's character position,
    // after at least two spaces.
    let chars: Vec<Vec<char>> = table.iter().map(|l| l.chars().collect()).collect();
    for h in ["wall", "pause p99", "peak heap"] {
        let k = table[0][..table[0].find(h).unwrap()].chars().count();
        for l in &chars[1..] {
            assert!(l.len() > k && l[k] != ' ' && l[k - 2..k] == [' ', ' '], "{h} not aligned:\n{}", table.join("\n"));
        }
    }
}

#[test]
fn an_even_count_takes_the_mean_of_the_middle_two_and_stale_repetitions_are_removed() {
    let dir = tmp();
    compare_server(dir.path(), &["--repeat", "3", "--no-charts"]);
    let out = dir.path().join("out");
    assert!(out.join("reps/3/summary.csv").is_file());
    // Another command into the same folder: said on stderr.
    let mut args: Vec<&str> = vec!["compare"];
    args.extend(SERVER);
    args.extend(["--collectors", TWO, "--procs", "2", "-q", "--out", "out", "--repeat", "2", "--no-charts"]);
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    assert!(stderr(&o).starts_with("gcwb: warning: out: holds the results of another command"), "{}", stderr(&o));
    let reps: Vec<String> = tree(&out.join("reps")).into_iter().filter(|f| f.ends_with('/')).collect();
    assert_eq!(reps, ["1/", "2/"], "reps/3 of the earlier compare is gone");
    assert!(!out.join("pause-percentiles.png").exists(), "--no-charts draws nothing");
    let cmp = read_csv(&out.join("compare.csv"));
    for row in &cmp.rows {
        let c = col(row, "collector");
        assert_eq!(col(row, "repeats"), "2");
        let walls: Vec<u64> = (1..=2)
            .map(|r| {
                col(rows_of(&read_csv(&out.join(format!("reps/{r}/summary.csv"))), c)[0], "wall_ns").parse().unwrap()
            })
            .collect();
        let lower = *walls.iter().min().unwrap();
        let mean = (walls[0] + walls[1]) as f64 / 2.0;
        let median = f64_of(row, "wall_ns_median");
        assert!((median - mean).abs() <= 0.5, "{c}: the median of two is their mean {mean}, not {median}");
        assert!((f64_of(row, "wall_ns_mean") - mean).abs() <= 0.5, "{c}: the mean");
        assert_eq!(col(row, "wall_ns_min").parse::<u64>().unwrap(), lower);
        let median_rep: usize = col(row, "median_rep").parse().unwrap();
        assert_eq!(walls[median_rep - 1], lower, "{c}: median_rep is the faster repetition");
    }
}

#[test]
fn warm_up_runs_before_the_first_repetition_and_verify_reports_clean() {
    let dir = tmp();
    let args = [
        "compare",
        "--workload",
        "seed-example",
        "-c",
        TWO,
        "--repeat",
        "2",
        "--warmup",
        "1",
        "--verify",
        "--no-charts",
        "-q",
        "--out",
        "out",
    ];
    let o = ok_in(dir.path(), &args);
    let text = stdout(&o);
    let first_rep = text.find("rep 1/2:").expect("rep 1");
    for c in ["mark-sweep", "concurrent"] {
        let warm =
            text.lines().find(|l| l.contains(c) && l.contains("warm-up 1/1")).unwrap_or_else(|| panic!("{text}"));
        assert!(text.find(warm).unwrap() < first_rep, "{c}'s warm-up before rep 1:\n{text}");
    }
    let runs = read_csv(&dir.path().join("out/runs.csv"));
    assert_eq!(runs.rows.len(), 4, "warm-ups are not recorded");
    let cmp = read_csv(&dir.path().join("out/compare.csv"));
    for row in &cmp.rows {
        assert_eq!(col(row, "verify_errors"), "0", "verified, clean: {row:?}");
    }
    assert!(text.contains("verified: clean"), "{text}");
}

/// Runs `args` (in `dir`) and asserts a bad-input failure: exit 2, one
/// message on stderr containing every fragment, nothing panicking.
fn assert_bad(dir: &Path, args: &[&str], fragments: &[&str]) {
    let o = gcwb_in(dir, args);
    assert_eq!(o.status.code(), Some(2), "{}", describe(args, &o));
    assert_no_panic(args, &o);
    let e = stderr(&o);
    for f in fragments {
        assert!(e.contains(f), "stderr lacks {f:?}: {}", describe(args, &o));
    }
}

#[test]
fn bad_input_exits_2_naming_what_was_expected_and_writes_nothing() {
    let dir = tmp();
    let out = dir.path().join("OUT");
    std::fs::create_dir(&out).unwrap();
    let old = b"collector,repeats\nold,1\n".to_vec();
    std::fs::write(out.join("compare.csv"), &old).unwrap();
    let base = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["compare", "--workload", "seed-example", "-q", "--out", "OUT"];
        v.extend(extra);
        v
    };
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (base(&["-c", "mark-sweep,bogus"]), vec!["unknown collector `bogus`", "mark-sweep", "concurrent"]),
        (base(&["--repeat", "0"]), vec!["--repeat", "1 or more", "`0`"]),
        (base(&["--repeat", "three"]), vec!["--repeat", "`three`"]),
        (base(&["-c", "sticky,none,sticky"]), vec!["`sticky` is named twice"]),
        (base(&["--gogc", "lots"]), vec!["--gogc", "off"]),
        (vec!["compare", "--workload", "nosuch", "--out", "OUT"], vec!["unknown workload `nosuch`", "server"]),
        (vec!["compare", "--workload", "server", "--set", "requests=x", "--out", "OUT"], vec!["server:", "requests"]),
        (vec!["compare", "no-such-trace.gct", "--out", "OUT"], vec!["no-such-trace.gct"]),
    ];
    for (args, fragments) in &cases {
        assert_bad(dir.path(), args, fragments);
        assert_eq!(std::fs::read(out.join("compare.csv")).unwrap(), old, "compare.csv changed by {args:?}");
        assert_eq!(tree(&out), ["compare.csv"], "files appeared in OUT after {args:?}");
    }

    // An output directory that cannot be made: a file in the way. Refused
    // before any replay, and nothing is written.
    std::fs::write(dir.path().join("blocker"), "x").unwrap();
    for target in ["blocker", "blocker/sub"] {
        let args = ["compare", "--workload", "seed-example", "-q", "--out", target];
        assert_bad(dir.path(), &args, &["cannot write results to", target]);
        let o = gcwb_in(dir.path(), &args);
        assert!(!stdout(&o).contains("rep 1/"), "refused before replaying: {}", describe(&args, &o));
    }
    assert_eq!(tree(dir.path()), ["OUT/", "OUT/compare.csv", "blocker"]);
    assert_eq!(std::fs::read(dir.path().join("blocker")).unwrap(), b"x");
}

#[test]
fn help_lists_compare_and_its_options() {
    let dir = tmp();
    let top = stdout(&ok_in(dir.path(), &["--help"]));
    assert!(top.lines().any(|l| l.split_whitespace().next() == Some("compare")), "--help lacks compare:\n{top}");
    let help = stdout(&ok_in(dir.path(), &["compare", "--help"]));
    for opt in [
        "--collectors",
        "--repeat",
        "--warmup",
        "--procs",
        "--gogc",
        "--memlimit",
        "--verify",
        "--no-charts",
        "--out",
        "--workload",
        "--set",
        "--seed",
        "--quiet",
    ] {
        assert!(help.contains(opt), "compare --help lacks {opt}:\n{help}");
    }
}

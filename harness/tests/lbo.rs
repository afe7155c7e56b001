//! The lower-bound overhead (LBO) of `gcwb compare`: on a `runs.csv`
//! whose every figure is worked out by hand below, and on a real compare
//! whose `compare.csv` LBO columns this test recomputes from its
//! `runs.csv` and `summary.csv` files with arithmetic of its own.

mod common;
use common::*;
use harness::lbo::{read_runs_csv, Analysis};
use std::collections::HashMap;

const MS: f64 = 1e6;

fn of<'a>(names: &[String], a: &'a Analysis, name: &str) -> &'a harness::lbo::CollectorLbo {
    let c = names.iter().position(|n| n == name).unwrap_or_else(|| panic!("no {name} in {names:?}"));
    a.collectors[c].as_ref().unwrap_or_else(|| panic!("no analysis of {name}"))
}

/// `tests/data/lbo/runs.csv`, three repetitions of three collectors (in
/// ms; the file holds ns) and a fourth, failed, mark-sweep repetition:
///
/// ```text
/// collector   wall (gc)                     distilled → median   CPU (gc)                         distilled → median
/// none        100 (0), 104 (0), 98 (0)      100, 104, 98 → 100   200 (0), 210 (1), 190 (0)        200, 209, 190 → 200
/// mark-sweep  120 (30), 118 (25), 125 (30)  90, 93, 95 → 93      260 (80), 250 (70), 270 (85)     180, 180, 185 → 180
/// concurrent  110 (5), 112 (4), 109 (6)     105, 108, 103 → 105  300 (120), 310 (115), 290 (100)  180, 195, 190 → 190
/// ```
///
/// Wall: MDC = 93 (mark-sweep's median). LBO = total − 93: none 7, 11, 5
/// (median 7); mark-sweep 27, 25, 32 (27); concurrent 17, 19, 16 (17).
/// CPU: MDC = 180 (mark-sweep). LBO: none 20, 30, 10 (20); mark-sweep
/// 80, 70, 90 (80); concurrent 120, 130, 110 (120). The failed repetition
/// (wall 10, nothing attributed) is left out; counted, it would lower
/// mark-sweep's median distilled wall time to 91.5 and so the MDC.
#[test]
fn a_hand_computed_runs_csv() {
    let path = workspace().join("harness/tests/data/lbo/runs.csv");
    let (names, [wall, cpu]) = read_runs_csv(&path).expect("reads");
    assert_eq!(names, ["none", "mark-sweep", "concurrent"]);
    let wall = wall.expect("a wall-time analysis");
    assert_eq!(wall.mdc, 93.0 * MS);
    assert_eq!(names[wall.baseline], "mark-sweep");
    for (name, each, median) in [
        ("none", [7.0, 11.0, 5.0], 7.0),
        ("mark-sweep", [27.0, 25.0, 32.0], 27.0),
        ("concurrent", [17.0, 19.0, 16.0], 17.0),
    ] {
        let c = of(&names, &wall, name);
        assert_eq!(c.lbo_each, each.map(|x| x * MS), "{name}");
        assert_eq!(c.lbo.median, median * MS, "{name}");
        assert!((c.nlbo.median - median / 93.0).abs() < 1e-12, "{name}: {}", c.nlbo.median);
        assert_eq!(
            (c.lbo.min, c.lbo.max),
            (each.iter().cloned().fold(f64::MAX, f64::min) * MS, each.iter().cloned().fold(0.0, f64::max) * MS)
        );
    }
    assert_eq!(of(&names, &wall, "concurrent").distilled.median, 105.0 * MS);
    let cpu = cpu.expect("a CPU analysis");
    assert_eq!((cpu.mdc, names[cpu.baseline].as_str()), (180.0 * MS, "mark-sweep"));
    for (name, median) in [("none", 20.0), ("mark-sweep", 80.0), ("concurrent", 120.0)] {
        let c = of(&names, &cpu, name);
        assert_eq!(c.lbo.median, median * MS, "{name}");
        assert!((c.nlbo.median - median / 180.0).abs() < 1e-12, "{name}");
    }
    // The mean's 95% interval of none's wall LBO: mean 23/3 ms, sample
    // standard deviation 3.0551 ms, t(2) = 4.3027: ± 7.589 ms.
    let (lo, hi) = of(&names, &wall, "none").lbo.ci95.expect("three repetitions");
    assert!(((lo + hi) / 2.0 - 23.0 / 3.0 * MS).abs() < 1.0);
    assert!(((hi - lo) / 2.0 - 7.589 * MS).abs() < 0.001 * MS, "{}", (hi - lo) / 2.0);
}

#[test]
fn a_malformed_runs_csv_is_an_error_naming_the_file_and_line() {
    let dir = tmp();
    let path = dir.path().join("runs.csv");
    std::fs::write(&path, "collector,status,wall_ns,gc_wall_ns\na,ok,100,1\nb,ok,ten,1\n").unwrap();
    let e = read_runs_csv(&path).unwrap_err();
    assert!(e.contains("runs.csv: line 3") && e.contains("`wall_ns`") && e.contains("`ten`"), "{e}");
    // An older runs.csv, without the cost columns: no analysis, no error.
    std::fs::write(&path, "collector,status,wall_ns\na,ok,100\n").unwrap();
    let (names, [wall, cpu]) = read_runs_csv(&path).unwrap();
    assert_eq!((names.len(), wall, cpu), (1, None, None));
}

fn number(row: &HashMap<String, String>, name: &str) -> f64 {
    col(row, name).parse().unwrap_or_else(|_| panic!("{name} = {:?} is not a number", col(row, name)))
}

/// `written` is `exact` written as a whole number of nanoseconds (a
/// median of two can end in .5, which either way of rounding may take).
fn whole(written: f64, exact: f64) -> bool {
    written.fract() == 0.0 && (written - exact).abs() <= 0.5
}

/// The median as a statistics book gives it (the test's own).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn a_real_compare_writes_the_lbo_its_runs_give() {
    let dir = tmp();
    let args = [
        "compare",
        "--workload",
        "server",
        "--set",
        "requests=200",
        "--collectors",
        "none,mark-sweep,concurrent",
        "--procs",
        "2",
        "--repeat",
        "3",
        "--no-charts",
        "-q",
        "--out",
        "out",
    ];
    ok_in(dir.path(), &args);
    let out = dir.path().join("out");
    let runs = read_csv(&out.join("runs.csv"));
    let compare = read_csv(&out.join("compare.csv"));

    // Each replay's costs are those of its repetition's summary.csv, and
    // the distilled costs are what is left when the attributed part is
    // taken out.
    for run in &runs.rows {
        let summary = read_csv(&out.join("reps").join(col(run, "rep")).join("summary.csv"));
        let row = summary.rows.iter().find(|r| col(r, "collector") == col(run, "collector")).unwrap();
        for c in ["wall_ns", "process_cpu_ns", "gc_wall_ns", "gc_cpu_ns"] {
            assert_eq!(col(run, c), col(row, c), "{c}");
        }
        assert_eq!(number(row, "distilled_wall_ns"), number(row, "wall_ns") - number(row, "gc_wall_ns"));
        assert_eq!(number(row, "distilled_cpu_ns"), number(row, "process_cpu_ns") - number(row, "gc_cpu_ns"));
        assert!(number(row, "gc_cpu_ns") <= number(row, "process_cpu_ns"));
        // A stop-the-world collector is charged exactly the time the world
        // was stopped: the union of its pauses' intervals in pauses.csv
        // (the replay's; the final collection's come after). A union, not
        // a sum: a worker that asked for a collection while another's was
        // under way records a pause from its request, overlapping.
        if col(run, "collector") == "mark-sweep" {
            let pauses = read_csv(&out.join("reps").join(col(run, "rep")).join("pauses.csv"));
            let mut spans: Vec<(f64, f64)> = pauses
                .rows
                .iter()
                .filter(|p| col(p, "collector") == "mark-sweep" && col(p, "trigger") != "final")
                .map(|p| (number(p, "start_ns"), number(p, "start_ns") + number(p, "duration_ns")))
                .collect();
            spans.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let (mut stopped, mut reach) = (0.0, f64::NEG_INFINITY);
            for (start, end) in spans {
                stopped += (end - start.max(reach)).max(0.0);
                reach = reach.max(end);
            }
            assert!((number(row, "gc_wall_ns") - stopped).abs() <= 1.0, "{stopped} stopped: {row:?}");
            assert!(stopped > 0.0, "mark-sweep collected: {row:?}");
        }
        if col(run, "collector") == "none" {
            assert_eq!(number(row, "gc_wall_ns"), 0.0);
        }
    }

    // The LBO recomputed: medians of the distilled costs, their minimum,
    // then every collector's totals less it.
    let names = ["none", "mark-sweep", "concurrent"];
    for (cost, total, attributed) in [("wall", "wall_ns", "gc_wall_ns"), ("cpu", "process_cpu_ns", "gc_cpu_ns")] {
        let runs_of = |name: &'static str| runs.rows.iter().filter(move |r| col(r, "collector") == name);
        let distilled: Vec<f64> = names
            .iter()
            .map(|n| median(runs_of(n).map(|r| number(r, total) - number(r, attributed)).collect()))
            .collect();
        let mdc = distilled.iter().cloned().fold(f64::INFINITY, f64::min);
        for (i, name) in names.iter().enumerate() {
            let row = &compare.rows[i];
            assert_eq!(col(row, "collector"), *name);
            assert!(whole(number(row, &format!("mdc_{cost}_ns")), mdc), "{cost}: {mdc}");
            let lbo: Vec<f64> = runs_of(name).map(|r| number(r, total) - mdc).collect();
            let lbo_median = median(lbo.clone());
            assert!(whole(number(row, &format!("lbo_{cost}_ns_median")), lbo_median), "{name} {cost}: {lbo_median}");
            let nlbo = number(row, &format!("nlbo_{cost}_median"));
            assert!((nlbo - lbo_median / mdc).abs() < 1e-9, "{name} {cost}: {nlbo}");
            let min = lbo.iter().cloned().fold(f64::INFINITY, f64::min);
            assert!(whole(number(row, &format!("lbo_{cost}_ns_min")), min), "{name} {cost}: {min}");
        }
        // The baseline collector's median LBO is what its median total
        // exceeds its median distilled cost by: never negative.
        let baseline = distilled.iter().position(|d| *d == mdc).unwrap();
        assert!(number(&compare.rows[baseline], &format!("lbo_{cost}_ns_median")) >= 0.0);
    }
}

#[test]
fn a_sweep_gives_each_cell_the_lbo_of_its_group_and_charts_it() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("exp.toml"),
        "repetitions = 2\ncollectors = [\"none\", \"mark-sweep\"]\n[sweep]\ngogc = [50, 200]\nprocs = 2\n\
         [[workload]]\nname = \"server\"\nset = { requests = 100 }\n",
    )
    .unwrap();
    ok_in(dir.path(), &["sweep", "exp.toml", "--out", "out", "-q", "--no-charts"]);
    let out = dir.path().join("out");
    let cells = read_csv(&out.join("cells.csv"));
    assert_eq!(cells.rows.len(), 8);
    for cost in ["wall", "cpu"] {
        let (total, attributed) =
            if cost == "wall" { ("wall_ns", "gc_wall_ns") } else { ("process_cpu_ns", "gc_cpu_ns") };
        for gogc in ["50", "200"] {
            let group: Vec<&HashMap<String, String>> = cells.rows.iter().filter(|r| col(r, "gogc") == gogc).collect();
            let distilled_median = |name: &str| {
                median(
                    group
                        .iter()
                        .filter(|r| col(r, "collector") == name)
                        .map(|r| number(r, total) - number(r, attributed))
                        .collect(),
                )
            };
            let mdc = distilled_median("none").min(distilled_median("mark-sweep"));
            for r in &group {
                let lbo = number(r, total) - mdc;
                assert!(whole(number(r, &format!("lbo_{cost}_ns")), lbo), "{cost} gogc={gogc}: {lbo} in {r:?}");
                assert!((number(r, &format!("nlbo_{cost}")) - lbo / mdc).abs() < 1e-9, "{cost} gogc={gogc}");
            }
        }
    }
    // sweep.csv charts NLBO against GOGC by default: one row per
    // collector and value, the median of the cells' NLBO.
    let sweep = read_csv(&out.join("sweep.csv"));
    for name in ["none", "mark-sweep"] {
        for gogc in ["50", "200"] {
            let row = sweep
                .rows
                .iter()
                .find(|r| col(r, "metric") == "nlbo_wall" && col(r, "collector") == name && col(r, "value") == gogc)
                .unwrap_or_else(|| panic!("no nlbo_wall row of {name} at {gogc}"));
            let cells_nlbo: Vec<f64> = cells
                .rows
                .iter()
                .filter(|r| col(r, "collector") == name && col(r, "gogc") == gogc)
                .map(|r| number(r, "nlbo_wall"))
                .collect();
            assert!((number(row, "metric_median") - median(cells_nlbo)).abs() < 1e-9);
        }
    }
}

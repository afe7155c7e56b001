//! End-to-end tests of `gcwb import`: the real binary on Go gctrace logs
//! written for each test into a temporary directory.
//!
//! What they pin down: a log (the program's own output mixed in, a forced
//! cycle, Go 1.19 and older lines) becomes pauses.csv, phases.csv and
//! summary.csv with a `gcwb run`'s columns, two pauses per cycle and empty
//! cells where the log tells nothing; a malformed gctrace line ends with
//! exit code 2 and one line on stderr naming the file, the line and what was
//! expected, and writes nothing.

mod common;
use common::{col, read_csv};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A Go 1.19 program's standard error and output (2>&1): its own lines
/// between the gctrace lines, a forced last-but-one cycle; the last line is
/// in the older form (Go 1.17: no stacks and globals).
const LOG: &str = "\
step 0
gc 1 @0.001s 5%: 0.058+1.7+0.003 ms clock, 0.11+0/0.32/0.10+0.007 ms cpu, 3->5->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
step 50000
gc 2 @0.005s 6%: 0.012+2.1+0.001 ms clock, 0.024+0.072/0.34/0.76+0.003 ms cpu, 6->8->7 MB, 7 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 3 @0.011s 7%: 0.094+1.4+0.001 ms clock, 0.18+0.80/0/0+0.003 ms cpu, 12->14->10 MB, 15 MB goal, 0 MB stacks, 0 MB globals, 2 P
step 100000
gc 4 @0.023s 4%: 0.048+3.2+0.003 ms clock, 0.097+0.18/0.27/2.7+0.006 ms cpu, 17->20->15 MB, 20 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 5 @0.055s 3%: 0.011+2.4+0.003 ms clock, 0.022+0/0.12/2.2+0.006 ms cpu, 31->31->26 MB, 50 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
done
gc 6 @1.250s 2%: 0.021+12+0.45 ms clock, 0.042+0.5/11/0+0.90 ms cpu, 45->47->22 MB, 52 MB goal, 2 P
";

fn gcwb_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gcwb"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .spawn()
        .expect("gcwb runs");
    if let Some(text) = stdin {
        child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("writes stdin");
    }
    child.wait_with_output().expect("gcwb runs")
}

fn describe(args: &[&str], o: &Output) -> String {
    format!(
        "gcwb {}\n  exit: {:?}\n  stdout: {}\n  stderr: {}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs and asserts success: exit 0, nothing on stderr.
fn ok_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let o = gcwb_in(dir, args, stdin);
    assert_eq!(o.status.code(), Some(0), "{}", describe(args, &o));
    assert!(o.stderr.is_empty(), "unexpected stderr in {}", describe(args, &o));
    o
}

/// Asserts a bad-input failure: exit 2, exactly one line on stderr starting
/// with `prefix` and containing every fragment, no panic.
fn assert_input_error(args: &[&str], o: &Output, prefix: &str, fragments: &[&str]) {
    let ctx = describe(args, o);
    assert_eq!(o.status.code(), Some(2), "exit code, {ctx}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!e.contains("panicked"), "panic in {ctx}");
    assert!(e.ends_with('\n') && e.lines().count() == 1, "expected exactly one line on stderr, {ctx}");
    assert!(e.starts_with(prefix), "expected stderr to start with {prefix:?}, {ctx}");
    for f in fragments {
        assert!(e.contains(f), "expected stderr to contain {f:?}, {ctx}");
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The files a small `gcwb run` of the concurrent collector writes, for
/// their headers.
fn a_run(dir: &Path) -> std::path::PathBuf {
    let args = [
        "run",
        "-q",
        "--workload",
        "server",
        "--set",
        "goroutines=2",
        "--set",
        "requests=5",
        "--set",
        "cache_entries=16",
        "--collector",
        "concurrent",
        "--procs",
        "1",
        "--out",
        "run",
    ];
    let o = gcwb_in(dir, &args, None);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    dir.join("run")
}

#[test]
fn a_gctrace_log_becomes_a_runs_csv_files() {
    let dir = tmp();
    std::fs::write(dir.path().join("go.log"), LOG).unwrap();
    let args = ["import", "--format", "go-gctrace", "go.log", "--out", "go", "--label", "go1.19"];
    let o = ok_in(dir.path(), &args, None);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("6 GC cycles (1 forced), 4 other lines skipped"), "{out}");
    let go = dir.path().join("go");
    let run = a_run(dir.path());

    // The same columns as a run's, in the same order.
    for file in ["summary.csv", "pauses.csv", "phases.csv"] {
        assert_eq!(read_csv(&go.join(file)).headers, read_csv(&run.join(file)).headers, "{file}");
    }
    let names: Vec<String> =
        std::fs::read_dir(&go).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "temporaries left: {names:?}");

    // Two pauses per cycle: sweep termination at the cycle's start, mark
    // termination after the concurrent mark.
    let pauses = read_csv(&go.join("pauses.csv")).rows;
    let got: Vec<(&str, &str, &str, &str, &str, &str, &str)> = pauses
        .iter()
        .map(|r| {
            (
                col(r, "gc"),
                col(r, "phase"),
                col(r, "start_ns"),
                col(r, "duration_ns"),
                col(r, "ttsp_ns"),
                col(r, "trigger"),
                col(r, "collector"),
            )
        })
        .collect();
    assert_eq!(got.len(), 12);
    assert_eq!(got[0], ("1", "sweep-term", "1000000", "58000", "", "", "go1.19"));
    assert_eq!(got[1], ("1", "mark-term", "2758000", "3000", "", "", "go1.19"));
    assert_eq!(got[8], ("5", "sweep-term", "55000000", "11000", "", "explicit", "go1.19"));
    assert_eq!(got[9], ("5", "mark-term", "57411000", "3000", "", "explicit", "go1.19"));
    assert_eq!(got[10], ("6", "sweep-term", "1250000000", "21000", "", "", "go1.19"));
    assert_eq!(got[11], ("6", "mark-term", "1262021000", "450000", "", "", "go1.19"));

    let phases = read_csv(&go.join("phases.csv")).rows;
    let got: Vec<(&str, &str, &str)> =
        phases.iter().map(|r| (col(r, "phase"), col(r, "count"), col(r, "total_ns"))).collect();
    assert_eq!(got, [("sweep-term", "6", "244000"), ("mark-term", "6", "461000")]);

    // The summary: what the log tells, and empty cells (not 0) for the rest.
    let summary = read_csv(&go.join("summary.csv"));
    assert_eq!(summary.rows.len(), 1);
    let s = &summary.rows[0];
    let expect = [
        ("trace", "go.log"),
        ("collector", "go1.19"),
        ("procs", "2"),
        ("gc_count", "6"),
        ("pause_count", "12"),
        ("pause_total_ns", "705000"),
        ("peak_heap_bytes", &(47u64 << 20).to_string()),
        ("final_live_bytes", &(22u64 << 20).to_string()),
        ("status", "ok"),
        ("gc_cpu_fraction", "0.02"),
        ("gogc", ""),
        ("events", ""),
        ("wall_ns", ""),
        ("ttsp_max_ns", ""),
        ("verify_errors", ""),
        ("mmu_1ms", ""),
    ];
    for (name, value) in expect {
        assert_eq!(col(s, name), value, "summary column {name}");
    }
    let max: u64 = col(s, "pause_max_ns").parse().unwrap();
    assert!((450_000..=450_000 + 450).contains(&max), "pause_max_ns {max}: 450 µs to 3 significant digits");
}

#[test]
fn the_log_can_come_from_standard_input() {
    let dir = tmp();
    let args = ["import", "--format", "go-gctrace", "-", "--out", "go"];
    ok_in(dir.path(), &args, Some(LOG));
    let pauses = read_csv(&dir.path().join("go").join("pauses.csv")).rows;
    assert_eq!(pauses.len(), 12);
    assert!(pauses.iter().all(|r| col(r, "collector") == "go-runtime"), "default label");
}

#[test]
fn a_malformed_gctrace_line_is_exit_2_with_its_line_number() {
    let dir = tmp();
    // Line 5 starts like a gctrace line but has only two clock times.
    let bad = LOG.replacen("0.094+1.4+0.001 ms clock", "0.094+1.4 ms clock", 1);
    assert_ne!(bad, LOG);
    std::fs::write(dir.path().join("bad.log"), bad).unwrap();
    let args = ["import", "--format", "go-gctrace", "bad.log", "--out", "go"];
    let o = gcwb_in(dir.path(), &args, None);
    assert_input_error(
        &args,
        &o,
        "gcwb: bad.log: line 5: ",
        &["expected `+` and the mark-termination clock time", "found ` ms clock, 0.18+0.80/0/0...`"],
    );
    assert!(o.stdout.is_empty(), "{}", describe(&args, &o));
    assert!(!dir.path().join("go").exists(), "a rejected log wrote results: {}", describe(&args, &o));
}

#[test]
fn other_bad_logs_are_exit_2_too() {
    let dir = tmp();
    std::fs::write(dir.path().join("stdout.log"), "step 0\nstep 50000\ndone\n").unwrap();
    let two_runs = format!("{LOG}{LOG}");
    std::fs::write(dir.path().join("two.log"), two_runs).unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("stdout.log", "gcwb: stdout.log: ", &["no gctrace lines", "GODEBUG=gctrace=1"]),
        ("two.log", "gcwb: two.log: line 12: ", &["gc 1 follows gc 6 (line 10)", "more than one run"]),
        ("missing.log", "gcwb: missing.log: ", &[]),
    ];
    for (file, prefix, fragments) in cases {
        let args = ["import", "--format", "go-gctrace", file, "--out", "go"];
        let o = gcwb_in(dir.path(), &args, None);
        assert_input_error(&args, &o, prefix, fragments);
        assert!(!dir.path().join("go").exists(), "{}", describe(&args, &o));
    }
}

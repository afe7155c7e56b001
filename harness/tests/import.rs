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
    for file in RUN_FILES {
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
        ("gc_cpu_used_fraction", "0.02"),
        ("gogc", ""),
        ("events", ""),
        ("wall_ns", ""),
        ("ttsp_max_ns", ""),
        ("verify_errors", ""),
        ("imported_from", "go-gctrace"),
        ("assist_count", ""),
        ("assist_max_ns", ""),
        ("mark_worker_ns", ""),
        ("idle_mark_ns", ""),
        ("gc_slice_count", ""),
    ];
    for (name, value) in expect {
        assert_eq!(col(s, name), value, "summary column {name}");
    }
    let max: u64 = col(s, "pause_max_ns").parse().unwrap();
    assert!((450_000..=450_000 + 450).contains(&max), "pause_max_ns {max}: 450 µs to 3 significant digits");
    // The mutator time the pauses and assists took (gcwb's meaning of the
    // column) is well under the CPU Go's gctrace says the collector used.
    let lost: f64 = col(s, "gc_cpu_fraction").parse().unwrap();
    assert!(lost > 0.0 && lost < 0.02, "gc_cpu_fraction {lost}");
    // The MMU of the pauses and the assists' CPU time (spread over each
    // cycle's mark, on 2 P): gc 3's 0.80 ms of assists in a 1.4 ms mark
    // and its 0.094 ms pause leave 1 ms windows under 60%.
    let mmu: Vec<f64> = ["mmu_1ms", "mmu_10ms", "mmu_100ms"].iter().map(|c| col(s, c).parse().unwrap()).collect();
    assert!(mmu[0] < 0.6 && mmu[0] <= mmu[1] && mmu[1] <= mmu[2] && mmu[2] < 1.0, "{mmu:?}");
    let curve = read_csv(&go.join("mmu.csv")).rows;
    assert!(curve.len() > 20 && curve.iter().all(|r| col(r, "collector") == "go1.19"), "mmu.csv");
    assert!(read_csv(&go.join("assists.csv")).rows.is_empty(), "a gctrace tells no single assist");

    // One cycles.csv row per cycle: the heap at its start (`A` of
    // `A->B->C MB`), marked live (`C`), and the goal the next cycle ran
    // under.
    let cycles = read_csv(&go.join("cycles.csv")).rows;
    let got: Vec<[&str; 8]> = cycles
        .iter()
        .map(|r| {
            ["gc", "trigger", "start_ns", "end_ns", "heap_live_before", "marked_bytes", "next_goal", "heap_live_after"]
                .map(|c| col(r, c))
        })
        .collect();
    let mib = |n: u64| (n << 20).to_string();
    assert_eq!(got.len(), 6);
    assert_eq!(got[0], ["1", "", "1000000", "2761000", &mib(3), &mib(3), &mib(7), ""]);
    assert_eq!(got[4], ["5", "explicit", "55000000", "57414000", &mib(31), &mib(26), &mib(52), ""]);
    assert_eq!(got[5][6], "", "the last cycle's next goal is unknown");
    assert_eq!(col(&cycles[5], "mark_ns"), "12000000");
    assert_eq!(col(&cycles[5], "mark_cpu_ns"), "11000000", "background and idle workers, not the assists");
}

/// The files a run writes that an import writes too, in the run's columns.
const RUN_FILES: [&str; 6] = ["summary.csv", "pauses.csv", "phases.csv", "cycles.csv", "assists.csv", "mmu.csv"];

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

// ---- JVM unified GC logs (`--format jvm-gc-log`) ----
//
// The fixtures in tests/data/jvm/ are real logs of scripts/java/Alloc.java
// under each collector (see the README there), the program's own output
// mixed in.

/// A fixture's absolute path.
fn jvm_log(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jvm").join(name).display().to_string()
}

/// One real log and what its import must hold.
struct JvmCase {
    file: &'static str,
    label: &'static str,
    /// (phase, count), in the order the phases first appear.
    phases: &'static [(&'static str, usize)],
    /// `gc_count`: the distinct `GC(N)` ids with a pause.
    cycles: usize,
    /// The program's output lines (all the log's other lines are GC lines).
    program_lines: usize,
    peak_heap_bytes: u64,
    /// The heap after the last full collection, if there is one.
    final_live_bytes: Option<u64>,
    procs: &'static str,
    /// (gc, phase, start_ns, duration_ns, trigger) of some pauses.
    pauses: &'static [(&'static str, &'static str, &'static str, &'static str, &'static str)],
    /// ZGC's `Allocation Stall` and `Relocation Stall` lines.
    stalls: usize,
}

const MIB: u64 = 1 << 20;

const JVM_CASES: &[JvmCase] = &[
    JvmCase {
        // [0.048s][info][gc          ] GC(0) Pause Young (Allocation Failure) 17M->1M(61M) 1.722ms
        // [0.095s][info][gc             ] GC(14) Pause Full (System.gc()) 23M->8M(61M) 8.837ms
        file: "serial-jdk17-gc-all.log",
        label: "jvm-serial",
        phases: &[("young", 32), ("full", 1)],
        cycles: 33,
        program_lines: 4,
        peak_heap_bytes: 34 * MIB,
        final_live_bytes: Some(8 * MIB),
        procs: "2",
        pauses: &[
            ("0", "young", "46278000", "1722000", "allocation-failure"),
            ("14", "full", "86163000", "8837000", "explicit"),
        ],
        stalls: 0,
    },
    JvmCase {
        // [102ms][info][gc] GC(0) Pause Young (Allocation Failure) 16M->1M(61M) 5.358ms
        // [439ms][info][gc       ] GC(75) Pause Full (System.gc()) 39M->16M(63M) 73.971ms
        // [652ms][info][gc       ] GC(122) Pause Full (Ergonomics) 62M->16M(59M) 50.237ms
        file: "parallel-jdk17-uptimemillis.log",
        label: "jvm-parallel",
        phases: &[("young", 125), ("full", 2)],
        cycles: 127,
        program_lines: 10,
        peak_heap_bytes: 62 * MIB,
        final_live_bytes: Some(16 * MIB),
        procs: "",
        pauses: &[
            ("0", "young", "96642000", "5358000", "allocation-failure"),
            ("75", "full", "365029000", "73971000", "explicit"),
            ("122", "full", "601763000", "50237000", "ergonomics"),
        ],
        stalls: 0,
    },
    JvmCase {
        // [0.089s][info][gc       ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 6M->1M(64M) 3.920ms
        // [0.414s][info][gc       ] GC(27) Pause Full (System.gc()) 37M->17M(64M) 61.082ms
        // [0.546s][info][gc       ] GC(42) Pause Remark 45M->41M(64M) 1.226ms
        // [0.570s][info][gc       ] GC(56) Pause Young (Mixed) (G1 Evacuation Pause) 43M->28M(64M) 1.013ms
        file: "g1-jdk17.log",
        label: "jvm-g1",
        phases: &[("young", 68), ("full", 1), ("remark", 2), ("cleanup", 2), ("mixed", 1)],
        cycles: 72,
        program_lines: 8,
        peak_heap_bytes: 52 * MIB,
        final_live_bytes: Some(17 * MIB),
        procs: "",
        pauses: &[
            ("0", "young", "85080000", "3920000", "g1-evacuation-pause"),
            ("27", "full", "352918000", "61082000", "explicit"),
            ("42", "remark", "544774000", "1226000", ""),
            ("56", "mixed", "568987000", "1013000", "g1-evacuation-pause"),
        ],
        stalls: 0,
    },
    JvmCase {
        // [0.199s][info][gc,phases] GC(0) Pause Mark Start 0.007ms
        // [0.784s][info][gc,phases] GC(14) Pause Relocate Start 0.004ms
        // (the cause from `[gc] GC(N) Garbage Collection (Allocation Stall) 64M(100%)->6M(9%)`)
        file: "zgc-jdk17.log",
        label: "jvm-zgc",
        phases: &[("mark-start", 15), ("mark-end", 15), ("relocate-start", 15)],
        cycles: 15,
        program_lines: 4,
        peak_heap_bytes: 64 * MIB,
        final_live_bytes: None,
        procs: "",
        pauses: &[
            ("0", "mark-start", "198993000", "7000", "allocation-stall"),
            ("14", "relocate-start", "783996000", "4000", "allocation-stall"),
        ],
        stalls: 23,
    },
    JvmCase {
        // [166876857ns][info][gc] GC(0) Pause Init Mark (unload classes) 0.015ms
        // [1039608655ns][info][gc] GC(15) Pause Degenerated GC (Outside of Cycle) 60M->14M(64M) 32.047ms
        file: "shenandoah-jdk17-uptimenanos.log",
        label: "jvm-shenandoah",
        phases: &[
            ("init-mark", 15),
            ("final-mark", 15),
            ("init-update-refs", 15),
            ("final-update-refs", 15),
            ("degenerated", 1),
        ],
        cycles: 16,
        program_lines: 4,
        peak_heap_bytes: 60 * MIB,
        final_live_bytes: None,
        procs: "",
        pauses: &[("0", "init-mark", "166861857", "15000", ""), ("15", "degenerated", "1007561655", "32047000", "")],
        stalls: 0,
    },
    JvmCase {
        // [0.158s][info][gc,phases] GC(0) Y: Pause Mark Start (Major) 0.013ms
        // [0.422s][info][gc,phases] GC(10) O: Pause Relocate Start 0.008ms
        // (the causes from `[gc] GC(0) Major Collection (Warmup)`, `GC(10) Major Collection (System.gc())`)
        file: "zgc-generational-jdk25.log",
        label: "jvm-zgc-gen",
        phases: &[
            ("young-mark-start", 12),
            ("young-mark-end", 12),
            ("young-relocate-start", 12),
            ("old-mark-end", 5),
            ("old-relocate-start", 5),
        ],
        cycles: 11,
        program_lines: 3,
        peak_heap_bytes: 64 * MIB,
        final_live_bytes: None,
        procs: "",
        pauses: &[
            ("0", "young-mark-start", "157987000", "13000", "warmup"),
            ("10", "old-relocate-start", "421992000", "8000", "explicit"),
        ],
        stalls: 12,
    },
];

#[test]
fn every_real_jvm_log_imports_with_its_pauses_phases_and_summary() {
    let dir = tmp();
    let run = a_run(dir.path());
    for case in JVM_CASES {
        let path = jvm_log(case.file);
        let out = dir.path().join(case.file);
        let args = ["import", "--format", "jvm-gc-log", &path, "--out", out.to_str().unwrap()];
        let o = gcwb_in(dir.path(), &args, None);
        let ctx = describe(&args, &o);
        assert_eq!(o.status.code(), Some(0), "{ctx}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        if case.stalls > 0 {
            // The log does not say how many processors ran the program.
            assert!(stderr.lines().count() == 1 && stderr.contains("give --procs N"), "{ctx}");
        } else {
            assert!(stderr.is_empty(), "{ctx}");
        }
        let stdout = String::from_utf8_lossy(&o.stdout);
        let pause_count: usize = case.phases.iter().map(|(_, n)| n).sum();
        assert!(
            stdout.contains(&format!("{pause_count} pauses in {} GC cycles", case.cycles)),
            "pause and cycle counts, {ctx}"
        );
        assert!(stdout.contains(&format!(" {} other lines skipped", case.program_lines)), "program lines, {ctx}");

        for file in RUN_FILES {
            assert_eq!(read_csv(&out.join(file)).headers, read_csv(&run.join(file)).headers, "{}: {file}", case.file);
        }
        let pauses = read_csv(&out.join("pauses.csv")).rows;
        assert_eq!(pauses.len(), pause_count, "{}", case.file);
        assert!(pauses.iter().all(|r| col(r, "collector") == case.label && col(r, "ttsp_ns").is_empty()));
        for &(gc, phase, start, duration, trigger) in case.pauses {
            let row = pauses
                .iter()
                .find(|r| col(r, "gc") == gc && col(r, "phase") == phase)
                .unwrap_or_else(|| panic!("{}: no {phase} pause of GC({gc})", case.file));
            assert_eq!(
                (col(row, "start_ns"), col(row, "duration_ns"), col(row, "trigger")),
                (start, duration, trigger),
                "{}: GC({gc}) {phase}",
                case.file
            );
        }

        let phases = read_csv(&out.join("phases.csv")).rows;
        let got: Vec<(&str, usize)> =
            phases.iter().map(|r| (col(r, "phase"), col(r, "count").parse().unwrap())).collect();
        assert_eq!(got, case.phases, "{}", case.file);
        // Each phase's total is the sum of its pauses' durations.
        for r in &phases {
            let total: u64 = pauses
                .iter()
                .filter(|p| col(p, "phase") == col(r, "phase"))
                .map(|p| col(p, "duration_ns").parse::<u64>().unwrap())
                .sum();
            assert_eq!(col(r, "total_ns"), total.to_string(), "{}: {}", case.file, col(r, "phase"));
        }

        let summary = read_csv(&out.join("summary.csv"));
        assert_eq!(summary.rows.len(), 1);
        let s = &summary.rows[0];
        let final_live = case.final_live_bytes.map_or(String::new(), |b| b.to_string());
        let expect = [
            ("trace", path.as_str()),
            ("collector", case.label),
            ("gc_count", &case.cycles.to_string()),
            ("pause_count", &pause_count.to_string()),
            ("peak_heap_bytes", &case.peak_heap_bytes.to_string()),
            ("final_live_bytes", &final_live),
            ("procs", case.procs),
            ("status", "ok"),
            ("gogc", ""),
            ("events", ""),
            ("wall_ns", ""),
            ("ttsp_max_ns", ""),
            ("gc_cpu_used_fraction", ""),
            ("mark_total_ns", ""),
            ("imported_from", "jvm-gc-log"),
        ];
        for (name, value) in expect {
            assert_eq!(col(s, name), value, "{}: summary column {name}", case.file);
        }
        let total: u64 = pauses.iter().map(|p| col(p, "duration_ns").parse::<u64>().unwrap()).sum();
        assert_eq!(col(s, "pause_total_ns"), total.to_string(), "{}", case.file);
        let lost: f64 = col(s, "gc_cpu_fraction").parse().unwrap();
        assert!(lost > 0.0 && lost < 1.0, "{}: gc_cpu_fraction {lost}", case.file);
        assert!(!read_csv(&out.join("mmu.csv")).rows.is_empty(), "{}: mmu.csv", case.file);

        // Stalls, one row each in assists.csv.
        let stalls = read_csv(&out.join("assists.csv")).rows;
        assert_eq!(stalls.len(), case.stalls, "{}", case.file);
        assert_eq!(col(s, "assist_count"), if case.stalls > 0 { case.stalls.to_string() } else { String::new() });

        // A cycles.csv row for every collection with a pause, most with the
        // heap when they ended.
        let cycles = read_csv(&out.join("cycles.csv")).rows;
        for p in &pauses {
            assert!(
                cycles.iter().any(|c| col(c, "gc") == col(p, "gc")),
                "{}: GC({}) has no cycle",
                case.file,
                col(p, "gc")
            );
        }
        let with_heap = cycles.iter().filter(|c| !col(c, "heap_live_after").is_empty()).count();
        assert!(
            with_heap * 10 >= cycles.len() * 9,
            "{}: {with_heap} of {} cycles with a heap",
            case.file,
            cycles.len()
        );
        for c in &cycles {
            let (start, end): (u64, u64) = (col(c, "start_ns").parse().unwrap(), col(c, "end_ns").parse().unwrap());
            assert!(start <= end, "{}: cycle {}", case.file, col(c, "gc"));
        }
    }
}

/// A JVM log written for a test: every duration unit, the three uptime
/// decorations' forms, the program's output and other GC lines between.
const JVM_LOG: &str = "\
[0.004s][info][gc] Using Shenandoah
Starting the server
[0.100s][info][gc,start] GC(0) Pause Init Mark (unload classes)
[0.100s][info][gc] GC(0) Pause Init Mark (unload classes) 250us
[0.105s][info][gc] GC(0) Concurrent marking (unload classes) 4.000ms
INFO request took 3 ms
[0.110s][info][gc] GC(0) Pause Final Mark (unload classes) 1.5ms
[0.120s][info][safepoint] GC(0) Pause Final Mark 99ms
[2.000s][info][gc] GC(1) Pause Full (System.gc()) 60M->10M(64M) 0.5s
[2.100s][info][gc] GC(2) Pause Degenerated GC (Mark) 60M->12M(64M) 12µs
[2.200s][info][gc] GC(3) Pause Init Update Refs 700ns
done
";

#[test]
fn jvm_durations_in_every_unit_and_noise_lines_skipped() {
    let dir = tmp();
    let args = ["import", "--format", "jvm-gc-log", "-", "--out", "jvm", "--label", "shenandoah-17"];
    let o = ok_in(dir.path(), &args, Some(JVM_LOG));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "5 pauses in 4 GC cycles (`Using Shenandoah`, line 1), 3 other GC log lines and 4 other lines skipped"
        ),
        "{out}"
    );
    let pauses = read_csv(&dir.path().join("jvm").join("pauses.csv")).rows;
    let got: Vec<(&str, &str, &str, &str, &str, &str)> = pauses
        .iter()
        .map(|r| {
            (
                col(r, "gc"),
                col(r, "phase"),
                col(r, "start_ns"),
                col(r, "duration_ns"),
                col(r, "trigger"),
                col(r, "collector"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("0", "init-mark", "99750000", "250000", "", "shenandoah-17"),
            ("0", "final-mark", "108500000", "1500000", "", "shenandoah-17"),
            ("1", "full", "1500000000", "500000000", "explicit", "shenandoah-17"),
            ("2", "degenerated", "2099988000", "12000", "", "shenandoah-17"),
            ("3", "init-update-refs", "2199999300", "700", "", "shenandoah-17"),
        ]
    );
    let summary = read_csv(&dir.path().join("jvm").join("summary.csv")).rows;
    assert_eq!(col(&summary[0], "final_live_bytes"), (10 * MIB).to_string(), "after the full collection");
    assert_eq!(col(&summary[0], "trace"), "-");
}

#[test]
fn jvm_uptimemillis_and_uptimenanos_decorations_give_the_same_times() {
    let dir = tmp();
    let log = |using: &str, pause: &str| {
        format!(
            "{using}[info][gc] Using Serial\nstep\n\
             {pause}[info][gc] GC(0) Pause Young (Allocation Failure) 17M->1M(61M) 1.722ms\n"
        )
    };
    // The same pause, ending at 48 ms, under uptime, uptimemillis and
    // uptimenanos, and with every decoration the JVM has (uptime wins).
    let all = "[2026-11-26T03:42:06.443+0000][2026-11-26T03:42:06.443+0000][0.048s][1795664526443ms][54ms]\
               [27661064520173ns][54606369ns][vm][9229][9232]";
    for (clock, log) in [
        ("uptime", log("[0.005s]", "[0.048s]")),
        ("uptimemillis", log("[5ms]", "[48ms]")),
        ("uptimenanos", log("[5000000ns]", "[48000000ns]")),
        ("all", log("[2026-11-26T03:42:06.391+0000][0.003s][1795664526391ms][2ms][27661012813433ns][2899639ns]", all)),
    ] {
        let out = format!("out-{clock}");
        let args = ["import", "--format", "jvm-gc-log", "-", "--out", &out];
        ok_in(dir.path(), &args, Some(&log));
        let pauses = read_csv(&dir.path().join(&out).join("pauses.csv")).rows;
        assert_eq!(pauses.len(), 1, "{clock}");
        assert_eq!(
            (col(&pauses[0], "start_ns"), col(&pauses[0], "duration_ns"), col(&pauses[0], "collector")),
            ("46278000", "1722000", "jvm-serial"),
            "{clock}: {log}"
        );
    }
}

#[test]
fn a_malformed_jvm_pause_line_is_exit_2_with_its_line_number() {
    let dir = tmp();
    // Line 172 of the real G1 log, without its duration.
    let real = std::fs::read_to_string(jvm_log("g1-jdk17.log")).unwrap();
    let full = "GC(27) Pause Full (System.gc()) 37M->17M(64M) 61.082ms";
    assert_eq!(real.lines().nth(171).map(|l| l.ends_with(full)), Some(true), "line 172 is the full pause");
    let bad = real.replacen(full, "GC(27) Pause Full (System.gc()) 37M->17M(64M)", 1);
    std::fs::write(dir.path().join("bad.log"), bad).unwrap();
    let args = ["import", "--format", "jvm-gc-log", "bad.log", "--out", "jvm"];
    let o = gcwb_in(dir.path(), &args, None);
    assert_input_error(
        &args,
        &o,
        "gcwb: bad.log: line 172: ",
        &["expected the pause's duration at the end of the line (like `3.456ms`), found `37M->17M(64M)`"],
    );
    assert!(o.stdout.is_empty(), "{}", describe(&args, &o));
    assert!(!dir.path().join("jvm").exists(), "a rejected log wrote results: {}", describe(&args, &o));

    // Other malformed pause lines, each as line 3.
    let cases: &[(&str, &str)] = &[
        ("[0.3s][info][gc] GC(2) Pause Young (Normal) 24X->4M(256M) 3ms", "the heap before and after the pause"),
        ("[0.3s][info][gc] GC(2) Pause Remark 3 ms", "found `ms`"),
        ("[0.3s][info][gc] GC(x) Pause Young 3ms", "the collection's id"),
        ("[info][gc] GC(2) Pause Young 3ms", "expected a time decoration"),
    ];
    for (line, fragment) in cases {
        let log = format!("[0.0s][info][gc] Using G1\nprogram output\n{line}\n");
        std::fs::write(dir.path().join("bad.log"), log).unwrap();
        let o = gcwb_in(dir.path(), &args, None);
        assert_input_error(&args, &o, "gcwb: bad.log: line 3: ", &[fragment]);
        assert!(!dir.path().join("jvm").exists(), "{}", describe(&args, &o));
    }
}

#[test]
fn a_jvm_log_without_pause_lines_is_exit_2() {
    let dir = tmp();
    let zgc = jvm_log("zgc-jdk17-gc-only.log");
    std::fs::write(dir.path().join("stdout.log"), "step 0\nstep 200\ndone\n").unwrap();
    std::fs::write(
        dir.path().join("untagged.log"),
        "[2783686ns] Using Serial\n[48916304ns] GC(0) Pause Young (Allocation Failure) 17M->1M(61M) 1.747ms\n",
    )
    .unwrap();
    let zgc_prefix = format!("gcwb: {zgc}: ");
    let cases: &[(&str, &str, &[&str])] = &[
        // Real: ZGC at plain -Xlog:gc has cycles but no pause lines.
        (&zgc, &zgc_prefix, &["no GC pause lines", "among its 26 lines", "-Xlog:gc,gc+phases"]),
        ("stdout.log", "gcwb: stdout.log: ", &["no GC pause lines", "among its 3 lines", "-Xlog:gc"]),
        ("untagged.log", "gcwb: untagged.log: ", &["look like pause lines", "uptime,level,tags"]),
        ("missing.log", "gcwb: missing.log: ", &[]),
    ];
    for (file, prefix, fragments) in cases {
        let args = ["import", "--format", "jvm-gc-log", file, "--out", "jvm"];
        let o = gcwb_in(dir.path(), &args, None);
        assert_input_error(&args, &o, prefix, fragments);
        assert!(!dir.path().join("jvm").exists(), "{}", describe(&args, &o));
    }
}

#[test]
fn plot_draws_an_imported_jvm_log() {
    let dir = tmp();
    let path = jvm_log("g1-jdk17.log");
    ok_in(dir.path(), &["import", "--format", "jvm-gc-log", &path, "--out", "g1"], None);
    let o = ok_in(dir.path(), &["plot", "g1", "--format", "svg"], None);
    let out = String::from_utf8_lossy(&o.stdout);
    for chart in ["pause-percentiles", "pause-timeline"] {
        let file = dir.path().join("g1").join(format!("{chart}.svg"));
        assert!(out.contains(&format!("{chart}.svg")), "{chart} not named: {out}");
        let svg = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(svg.contains("jvm-g1"), "{chart}: the collector's label is drawn");
    }
    let timeline = std::fs::read_to_string(dir.path().join("g1").join("pause-timeline.svg")).unwrap();
    for phase in ["young", "remark", "cleanup", "mixed", "full"] {
        assert!(timeline.contains(phase), "the timeline's legend names phase {phase}");
    }
    // The heap the log prints, from its cycles.csv, and its MMU curve.
    assert!(timeline.contains("heap in use (right axis)"), "the timeline draws the heap");
    assert!(timeline.contains("jvm-g1 (imported log)"));
    assert!(out.contains("mmu.svg"), "{out}");
    ok_in(dir.path(), &["plot", "g1"], None);
    assert!(dir.path().join("g1").join("pause-timeline.png").is_file());
}

#[test]
fn plot_puts_gcwb_runs_and_imported_logs_on_one_chart() {
    let dir = tmp();
    a_run(dir.path());
    for (log, out) in [("zgc-jdk17.log", "zgc"), ("g1-jdk17.log", "g1")] {
        let path = jvm_log(log);
        ok_in(dir.path(), &["import", "--format", "jvm-gc-log", &path, "--out", out, "--procs", "1"], None);
    }
    std::fs::write(dir.path().join("go.log"), LOG).unwrap();
    ok_in(dir.path(), &["import", "--format", "go-gctrace", "go.log", "--out", "go"], None);
    let args = ["plot", "run", "zgc", "g1", "go", "--out", "all", "--format", "svg"];
    let o = ok_in(dir.path(), &args, None);
    let out = String::from_utf8_lossy(&o.stdout);
    for chart in ["pause-percentiles", "mmu", "pause-timeline"] {
        assert!(out.contains(&format!("all/{chart}.svg")), "{chart}: {out}");
        let svg = std::fs::read_to_string(dir.path().join("all").join(format!("{chart}.svg"))).unwrap();
        for collector in ["concurrent", "jvm-zgc", "jvm-g1", "go-runtime"] {
            assert!(svg.contains(collector), "{chart} names {collector}");
        }
        assert!(svg.contains("imported"), "{chart} tells the imported logs apart");
    }
    // gcwb's collector and the imports in different colours.
    let svg = std::fs::read_to_string(dir.path().join("all").join("mmu.svg")).unwrap();
    for rgb in ["#D55E00", "#008CB4"] {
        assert!(svg.to_uppercase().contains(rgb), "mmu.svg has no {rgb}");
    }
}

#[test]
fn zgc_stalls_are_thread_stalls_in_assists_the_summary_and_the_mmu() {
    let dir = tmp();
    let path = jvm_log("zgc-jdk17.log");
    // The real log: 45 pauses of at most 18 µs, and 23 stalls of the main
    // thread, the longest 61.291 ms.
    let args = ["import", "--format", "jvm-gc-log", &path, "--out", "one"];
    let o = gcwb_in(dir.path(), &args, None);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("45 pauses in 15 GC cycles"), "{}", describe(&args, &o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(", 23 thread stalls, "), "{}", describe(&args, &o));
    let stalls = read_csv(&dir.path().join("one").join("assists.csv")).rows;
    assert_eq!(stalls.len(), 23);
    assert!(stalls.iter().all(|r| col(r, "thread") == "main" && col(r, "collector") == "jvm-zgc"));
    assert!(stalls.iter().all(|r| col(r, "gc").is_empty() && col(r, "goroutine").is_empty()));
    let kinds = |k: &str| stalls.iter().filter(|r| col(r, "kind") == k).count();
    assert_eq!((kinds("allocation-stall"), kinds("relocation-stall")), (19, 4));
    // `[0.211s][info][gc       ] Allocation Stall (main) 16.672ms`: logged as it ends.
    assert!(stalls.iter().any(|r| (col(r, "start_ns"), col(r, "duration_ns")) == ("194328000", "16672000")));
    let starts: Vec<u64> = stalls.iter().map(|r| col(r, "start_ns").parse().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "in the order they began");
    let total: u64 = stalls.iter().map(|r| col(r, "duration_ns").parse::<u64>().unwrap()).sum();

    // The summary's worst interruption is the stall, not the 18 µs pause;
    // with no processor count in the log a stall stops the program.
    let s = &read_csv(&dir.path().join("one").join("summary.csv")).rows[0];
    assert!(col(s, "pause_max_ns").parse::<u64>().unwrap() < 20_000);
    assert_eq!((col(s, "assist_count"), col(s, "assist_max_ns")), ("23", "61291000"));
    assert_eq!(col(s, "assist_total_ns"), total.to_string());
    assert_eq!((col(s, "mmu_1ms"), col(s, "mmu_10ms")), ("0.0", "0.0"));
    let mmu = read_csv(&dir.path().join("one").join("mmu.csv")).rows;
    let at_50ms = mmu.iter().find(|r| col(r, "window_ns") == "50118723").expect("a 50 ms window");
    assert_eq!(col(at_50ms, "mmu"), "0.0", "inside the 61 ms stall");

    // Run on two processors, a stall holds up one of them.
    let args = ["import", "--format", "jvm-gc-log", &path, "--out", "two", "--procs", "2"];
    ok_in(dir.path(), &args, None);
    let s = &read_csv(&dir.path().join("two").join("summary.csv")).rows[0];
    assert_eq!(col(s, "procs"), "2");
    let mmu_10ms: f64 = col(s, "mmu_10ms").parse().unwrap();
    assert!((0.49..=0.5).contains(&mmu_10ms), "half, less a pause in the window: {mmu_10ms}");
}

/// A JVM log written for a test in unified logging's format: ZGC stall
/// lines as `ZStatCriticalPhase` prints them (thread names with spaces and
/// parentheses), and a Shenandoah pacing report as `-Xlog:gc+stats`
/// prints it (`ShenandoahPacer::print_cycle_on`).
const STALLS_LOG: &str = "\
[0.010s][info][gc] Using Shenandoah
[0.100s][info][gc] GC(0) Concurrent reset 0.100ms
[0.101s][info][gc] GC(0) Pause Init Mark 0.500ms
[0.150s][info][gc] GC(0) Pause Final Mark 1.000ms
[0.160s][info][gc] GC(0) Concurrent cleanup 40M->10M(64M) 0.050ms
[0.160s][info][gc,stats] Allocation pacing accrued:
[0.160s][info][gc,stats]      30 of   150 ms ( 20.0%): main
[0.160s][info][gc,stats]      15 of   150 ms ( 10.0%): pool-1-thread-2 (worker)
[0.160s][info][gc,stats]      45 of   150 ms ( 30.0%): <total>
[0.160s][info][gc,stats]       8 of   150 ms (  5.0%): <average total>
[0.160s][info][gc,stats]
[0.200s][info][gc] Allocation Stall (Thread (7) of pool) 12.500ms
[0.250s][info][gc] Relocation Stall (main) 0.250ms
[0.300s][info][gc] GC(1) Pause Full (Allocation Failure) 60M->20M(64M) 20.000ms
";

#[test]
fn stall_lines_and_pacing_reports_of_a_hand_written_log() {
    let dir = tmp();
    let args = ["import", "--format", "jvm-gc-log", "-", "--out", "jvm", "--procs", "4"];
    let o = ok_in(dir.path(), &args, Some(STALLS_LOG));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "3 pauses in 2 GC cycles (`Using Shenandoah`, line 1), 2 thread stalls, 2 threads' pacing totals, "
        ),
        "{out}"
    );
    let jvm = dir.path().join("jvm");
    let stalls = read_csv(&jvm.join("assists.csv")).rows;
    let got: Vec<[&str; 4]> =
        stalls.iter().map(|r| ["kind", "thread", "start_ns", "duration_ns"].map(|c| col(r, c))).collect();
    assert_eq!(
        got,
        [
            ["allocation-stall", "Thread (7) of pool", "187500000", "12500000"],
            ["relocation-stall", "main", "249750000", "250000"],
        ]
    );
    // Pacing totals count in the assist time and the MMU, not as single
    // stalls: 45 ms of threads' time within the 150 ms before the report.
    let s = &read_csv(&jvm.join("summary.csv")).rows[0];
    assert_eq!((col(s, "assist_count"), col(s, "assist_max_ns")), ("2", "12500000"));
    assert_eq!(col(s, "assist_total_ns"), (12_500_000u64 + 250_000 + 45_000_000).to_string());
    assert_eq!(col(s, "procs"), "4");
    // Lost: the pauses (21.5 ms), a quarter of the stalls (3.1875 ms) and
    // of the paced 45 ms (11.25 ms, spread over its 150 ms, less the 1.5 ms
    // of pauses in them, where nothing more is lost: 0.1125 ms), of the
    // log's 300 ms.
    let lost: f64 = col(s, "gc_cpu_fraction").parse().unwrap();
    assert!((lost - 35.825 / 300.0).abs() < 1e-9, "{lost}");
    // The cycles: the full collection's heap; the concurrent cycle's
    // cleanup ends it, so its heap after.
    let cycles = read_csv(&jvm.join("cycles.csv")).rows;
    let got: Vec<[&str; 5]> = cycles
        .iter()
        .map(|r| ["gc", "start_ns", "end_ns", "heap_live_before", "heap_live_after"].map(|c| col(r, c)))
        .collect();
    let mib = |n: u64| (n << 20).to_string();
    assert_eq!(
        got,
        [["0", "99900000", "160000000", "", &mib(10)], ["1", "280000000", "300000000", &mib(60), &mib(20)]]
    );

    // A line that starts like a stall but does not parse names its line.
    let bad = STALLS_LOG.replace("Relocation Stall (main) 0.250ms", "Relocation Stall (main) soon");
    let args = ["import", "--format", "jvm-gc-log", "-", "--out", "bad"];
    let o = gcwb_in(dir.path(), &args, Some(&bad));
    assert_input_error(&args, &o, "gcwb: -: line 13: ", &["expected the stall's duration", "found `soon`"]);
    assert!(!dir.path().join("bad").exists());
}

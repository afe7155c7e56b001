//! End-to-end tests of what `gcwb` refuses up front and what it says: the
//! real binary in temporary directories.
//!
//! What they pin down: a bad setting (a nursery of 0 bytes, a collector
//! named twice, an `--out` that cannot be written) exits 2 with one line
//! before any trace is loaded, on the command line and in a sweep file; a
//! trace with CR-only line endings or too many globals is refused naming
//! its line; a stack that outgrows Go's limit is a program that dies, whose
//! measurements are still written; `gen` takes `--out` like every other
//! command; `sweep --help` shows `--out` as required; `check` does not call
//! a trace "gctrace" (Go's GC log, which `import` reads).

mod common;
use common::*;
use std::path::Path;
use std::process::Output;

fn seed() -> String {
    workspace().join("workloads/traces/seed-example.gct").to_str().unwrap().to_string()
}

/// Asserts a refusal before anything ran: exit 2, one message on stderr
/// containing every fragment, nothing on stdout (no trace loaded, no
/// replay's line).
fn assert_refused_up_front(args: &[&str], o: &Output, fragments: &[&str]) {
    let ctx = describe(args, o);
    assert_eq!(o.status.code(), Some(2), "{ctx}");
    assert_no_panic(args, o);
    let e = stderr(o);
    // (clap's usage errors add a blank line and a pointer to --help.)
    let said = e.lines().filter(|l| !l.is_empty() && !l.starts_with("For more information")).count();
    assert_eq!(said, 1, "one line on stderr, {ctx}");
    for f in fragments {
        assert!(e.contains(f), "expected stderr to contain {f:?}, {ctx}");
    }
    assert!(o.stdout.is_empty(), "something ran before the refusal, {ctx}");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn a_nursery_of_zero_bytes_is_refused_on_the_command_line_and_in_a_sweep_file() {
    let dir = tmp();
    let seed = seed();
    for n in ["0", "8191"] {
        let args = ["run", "-q", &seed, "-c", "generational", "--nursery", n, "--out", "out"];
        let o = gcwb_in(dir.path(), &args);
        assert_refused_up_front(&args, &o, &["--nursery", "one heap page"]);
    }
    assert_eq!(entries(&dir.path().join("out")), Vec::<String>::new());
    let args = ["compare", &seed, "--collectors", "sticky", "--nursery", "0", "--repeat", "1", "--out", "cmp"];
    assert_refused_up_front(&args, &gcwb_in(dir.path(), &args), &["--nursery", "one heap page"]);

    let exp =
        "collectors = [\"generational\"]\n[sweep]\nnursery = [\"8MiB\", 0]\n[[workload]]\nname = \"seed-example\"\n";
    std::fs::write(dir.path().join("exp.toml"), exp).unwrap();
    let args = ["sweep", "exp.toml", "--out", "swept", "-q", "--no-charts"];
    let o = gcwb_in(dir.path(), &args);
    assert_refused_up_front(&args, &o, &["nursery", "one heap page"]);
    assert!(!dir.path().join("swept").exists(), "a refused sweep wrote nothing");

    // One page is the smallest nursery.
    ok_in(dir.path(), &["run", "-q", &seed, "-c", "generational", "--nursery", "8KiB", "--no-charts", "--out", "out"]);
}

#[test]
fn an_option_no_chosen_collector_takes_is_refused_naming_the_ones_that_do() {
    let dir = tmp();
    let seed = seed();
    let args = ["run", "-q", &seed, "-c", "mark-sweep,sticky", "--tenure-age", "2", "--out", "out"];
    let o = gcwb_in(dir.path(), &args);
    assert_refused_up_front(&args, &o, &["--tenure-age", "`generational`", "`mark-sweep`, `sticky`"]);
    let args = ["compare", &seed, "--collectors", "concurrent", "--card-bytes", "1KiB", "--repeat", "1", "--out", "c"];
    let o = gcwb_in(dir.path(), &args);
    assert_refused_up_front(&args, &o, &["--card-bytes", "`sticky`, `generational`", "(`concurrent`)"]);
    assert!(!dir.path().join("out").exists() && !dir.path().join("c").exists());

    let exp = "collectors = [\"mark-sweep\"]\n[sweep]\ntenure-age = [1, 2]\n[[workload]]\nname = \"seed-example\"\n";
    std::fs::write(dir.path().join("exp.toml"), exp).unwrap();
    let args = ["sweep", "exp.toml", "--out", "swept", "-q", "--no-charts"];
    assert_refused_up_front(
        &args,
        &gcwb_in(dir.path(), &args),
        &["exp.toml: line 3", "--tenure-age", "`generational`"],
    );
    assert!(!dir.path().join("swept").exists(), "a refused sweep wrote nothing");
}

#[test]
fn a_sweep_sweeps_a_collector_option_in_either_spelling() {
    let dir = tmp();
    let exp = "collectors = [\"generational\", \"mark-sweep\"]\n[sweep]\ncard-bytes = [\"1KiB\", 128]\nprocs = 1\n\
               [[workload]]\nname = \"seed-example\"\n";
    std::fs::write(dir.path().join("exp.toml"), exp).unwrap();
    ok_in(dir.path(), &["sweep", "exp.toml", "--out", "swept", "-q", "--no-charts"]);
    let cells = read_csv(&dir.path().join("swept/cells.csv"));
    assert_eq!(cells.rows.len(), 4, "two card sizes, two collectors");
    let mut recorded: Vec<(String, i64)> = Vec::new();
    for cell in std::fs::read_dir(dir.path().join("swept/cells")).unwrap() {
        let cell = cell.unwrap().path();
        let id = cell.file_name().unwrap().to_string_lossy().into_owned();
        assert!(id.contains("card_bytes-"), "cells are named by the option's key: {id}");
        let run: toml::Table = toml::from_str(&std::fs::read_to_string(cell.join("run.toml")).unwrap()).unwrap();
        if run["collectors"][0].as_str() == Some("generational") {
            recorded.push((id, run["settings"]["card_bytes"].as_integer().unwrap()));
        } else {
            assert!(run["settings"].get("card_bytes").is_none(), "mark-sweep takes no card size: {id}");
        }
    }
    recorded.sort_by_key(|(_, v)| *v);
    assert_eq!(recorded.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [128, 1024], "{recorded:?}");
    assert!(cells.headers.iter().any(|h| h == "card_bytes"), "{:?}", cells.headers);

    // Both spellings of one option are one parameter swept twice.
    let twice = exp.replace("procs = 1", "card_bytes = [64]");
    std::fs::write(dir.path().join("twice.toml"), twice).unwrap();
    let args = ["sweep", "twice.toml", "--out", "t", "-q", "--no-charts"];
    assert_refused_up_front(&args, &gcwb_in(dir.path(), &args), &["card_bytes", "swept twice"]);
}

#[test]
fn a_collector_named_twice_is_refused_instead_of_replayed_twice() {
    let dir = tmp();
    let seed = seed();
    let args = ["run", "-q", &seed, "-c", "mark-sweep,concurrent,mark-sweep", "--out", "out"];
    let o = gcwb_in(dir.path(), &args);
    assert_refused_up_front(&args, &o, &["`mark-sweep` is named twice"]);
    assert!(!dir.path().join("out").join("summary.csv").exists());
}

#[test]
fn an_out_that_cannot_be_written_is_refused_before_the_trace_is_loaded() {
    let dir = tmp();
    let seed = seed();
    std::fs::write(dir.path().join("a-file"), "precious\n").unwrap();
    for out in ["a-file", "a-file/sub"] {
        let runs: [Vec<&str>; 3] = [
            vec!["run", "-q", &seed, "-c", "mark-sweep", "--no-charts", "--out", out],
            vec!["compare", "-q", &seed, "--collectors", "none", "--repeat", "1", "--no-charts", "--out", out],
            vec!["stats", &seed, "--out", out],
        ];
        for args in &runs {
            let o = gcwb_in(dir.path(), args);
            assert_refused_up_front(args, &o, &["cannot write results to", out]);
        }
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("a-file")).unwrap(), "precious\n");
}

#[test]
fn a_trace_with_cr_only_line_endings_is_refused_not_read_as_empty() {
    let dir = tmp();
    std::fs::write(dir.path().join("mac.gct"), "gctrace 1 # saved on a Mac\rg1 call 1\rg1 exit\r").unwrap();
    let args = ["check", "mac.gct"];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    let e = stderr(&o);
    assert!(e.starts_with("gcwb: mac.gct: line 1: carriage return (\\r) inside a line"), "{e}");
    assert!(e.contains("CR-only line endings"), "{e}");
}

#[test]
fn too_many_globals_are_refused_on_their_line() {
    let dir = tmp();
    std::fs::write(dir.path().join("g.gct"), "gctrace 1\nglobals 4294967295\ng1 call 1\n").unwrap();
    let args = ["check", "g.gct"];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    assert_eq!(stderr(&o), "gcwb: g.gct: line 2: 4294967295 globals; gcwb supports at most 16777216\n");
}

#[test]
fn a_stack_past_gos_limit_dies_like_go_and_still_writes_what_was_measured() {
    // Two 600 MB frames: 1.2 GB, over Go's 1,000,000,000-byte maxstacksize.
    let dir = tmp();
    std::fs::write(dir.path().join("deep.gct"), "gctrace 1\ng1 call 1 600000000\ng1 call 1 600000000\ng1 ret\n")
        .unwrap();
    let args = ["run", "-q", "deep.gct", "-c", "mark-sweep,concurrent", "--no-charts", "--out", "out"];
    let o = gcwb_in(dir.path(), &args);
    let ctx = describe(&args, &o);
    assert_eq!(o.status.code(), Some(2), "{ctx}");
    assert_no_panic(&args, &o);
    let e = stderr(&o);
    assert!(e.contains("runtime: goroutine stack exceeds 1000000000-byte limit"), "{ctx}");
    assert!(e.contains("fatal error: stack overflow") && e.contains("deep.gct: line 2"), "{ctx}");
    let s = read_csv(&dir.path().join("out/summary.csv"));
    assert_eq!(s.rows.len(), 2, "{ctx}");
    for r in &s.rows {
        assert_eq!(col(r, "status"), "stack-overflow", "{r:?}");
        assert_eq!(col(r, "events"), "0", "the first frame is already over the 512 MiB a stack reaches: {r:?}");
    }
}

#[test]
fn gen_takes_out_like_every_other_command_and_output_too() {
    let dir = tmp();
    for (flag, file) in [("--out", "a.gct"), ("--output", "b.gct"), ("-o", "c.gct")] {
        ok_in(dir.path(), &["gen", "seed-example", flag, file]);
    }
    let a = std::fs::read(dir.path().join("a.gct")).unwrap();
    assert_eq!(a, std::fs::read(dir.path().join("b.gct")).unwrap());
    assert_eq!(a, std::fs::read(dir.path().join("c.gct")).unwrap());
}

#[test]
fn sweep_help_shows_out_as_required() {
    let dir = tmp();
    let help = stdout(&ok_in(dir.path(), &["sweep", "--help"]));
    let usage: Vec<&str> = help.lines().skip_while(|l| !l.starts_with("Usage:")).take(2).collect();
    assert!(usage[0].contains("<EXPERIMENT> --out <DIR>"), "--out is not optional to run a sweep:\n{help}");
    assert!(usage[1].contains("--list"), "without --out only --list:\n{help}");
}

#[test]
fn check_says_gcwb_trace_not_gctrace() {
    let dir = tmp();
    let out = stdout(&ok_in(dir.path(), &["check", &seed()]));
    let first = out.lines().next().unwrap_or("");
    assert!(first.contains(": valid gcwb trace (format version 1) ("), "{out}");
    assert!(!out.contains("gctrace"), "Go's gctrace is the GC log `import` reads:\n{out}");
}

//! Go programs as workloads, end to end through the `gcwb` binary: the
//! shipped programs in `workloads/go/` run under every collector with the
//! verifier clean, allocate on the heap what the same program allocates
//! natively (Go's `runtime.MemStats` deltas, captured in
//! `workloads/go/expected/`), and a program outside the subset is refused
//! with Go's `file:line:col` and exit code 2, writing nothing.

mod common;
use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn program(name: &str) -> String {
    workspace().join("workloads/go").join(name).display().to_string()
}

/// Heap objects and bytes by `causes.csv` (summed over causes).
fn heap_allocations(dir: &Path) -> (u64, u64) {
    let csv = read_csv(&dir.join("causes.csv"));
    csv.rows.iter().filter(|r| col(r, "placement") == "heap").fold((0, 0), |(n, b), r| {
        (n + col(r, "count").parse::<u64>().unwrap(), b + col(r, "bytes").parse::<u64>().unwrap())
    })
}

/// Native `mallocs=` and `total_alloc=` of a shipped program.
fn native(name: &str) -> (u64, u64) {
    let text =
        std::fs::read_to_string(workspace().join("workloads/go/expected").join(format!("{name}.native.txt"))).unwrap();
    let line = text.lines().find(|l| l.starts_with("memstats")).expect("a memstats line");
    let field = |k: &str| -> u64 {
        line.split_whitespace().find_map(|f| f.strip_prefix(k)).expect("the field").parse().unwrap()
    };
    (field("mallocs="), field("total_alloc="))
}

fn causes(dir: &Path) -> HashMap<(String, String), u64> {
    read_csv(&dir.join("causes.csv"))
        .rows
        .iter()
        .map(|r| ((col(r, "cause").to_string(), col(r, "placement").to_string()), col(r, "count").parse().unwrap()))
        .collect()
}

fn run_ok(dir: &Path, args: &[&str]) {
    let o = gcwb_in(dir, args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(args, &o));
    assert_no_panic(args, &o);
}

/// Go 101's worked example: x and y escape through the global, the
/// goroutine's closure and the channel are on the heap, and every collector
/// replays it with the verifier clean.
#[test]
fn the_seed_example_runs_verified_under_every_collector() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seed");
    let prog = program("seed-example.go");
    run_ok(
        dir.path(),
        &["run", &prog, "--collector", "all", "--verify", "--no-charts", "-q", "--out", out.to_str().unwrap()],
    );
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(summary.rows.len(), collectors::registry::COLLECTORS.len());
    for r in &summary.rows {
        assert_eq!(col(r, "verify_errors"), "0", "{r:?}");
    }
    let c = causes(&out);
    let n = |cause: &str, place: &str| c.get(&(cause.to_string(), place.to_string())).copied().unwrap_or(0);
    assert_eq!(n("var", "heap"), 2, "x and y move to the heap: {c:?}");
    assert_eq!(n("closure", "heap"), 1, "the go statement's closure is on the heap: {c:?}");
    assert_eq!(n("make-chan", "heap"), 1, "done is on the heap: {c:?}");
    let toml = std::fs::read_to_string(out.join("run.toml")).unwrap();
    assert!(toml.contains("source = \"go\"") && toml.contains("escape = \"gcwb\""), "{toml}");
}

/// binary-trees and GCBench allocate on the heap, traced, what they allocate
/// natively: objects within 5%, and the collectors agree with the oracle.
#[test]
fn tree_programs_allocate_what_go_allocates_and_verify_clean() {
    for name in ["binary-trees", "gcbench"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(name);
        let prog = program(&format!("{name}.go"));
        let args =
            ["run", &prog, "--collector", "mark-sweep,concurrent", "--procs", "2", "--verify", "--no-charts", "-q"];
        let mut args = args.to_vec();
        args.extend(["--out", out.to_str().unwrap()]);
        run_ok(dir.path(), &args);
        let summary = read_csv(&out.join("summary.csv"));
        for r in &summary.rows {
            assert_eq!(col(r, "verify_errors"), "0", "{name}: {r:?}");
            assert!(col(r, "gc_count").parse::<u64>().unwrap() > 0, "{name} collects: {r:?}");
        }
        let (objects, bytes) = heap_allocations(&out);
        let (mallocs, total) = native(name);
        let off = |a: u64, b: u64| (a as f64 - b as f64).abs() / b as f64;
        assert!(off(objects, mallocs) < 0.05, "{name}: {objects} heap objects traced, {mallocs} natively");
        assert!(off(bytes, total) < 0.05, "{name}: {bytes} heap bytes traced, {total} natively");
    }
}

/// `gcwb gen PROG.go` writes a trace `gcwb check` accepts.
#[test]
fn gen_records_a_go_program_as_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program("situations-closure.go");
    let o = gcwb_in(dir.path(), &["gen", &prog, "-o", "closure.gctb"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&["gen"], &o));
    assert!(stdout(&o).contains("wrote closure.gctb"), "{}", stdout(&o));
    let o = gcwb_in(dir.path(), &["check", "closure.gctb"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&["check"], &o));
    assert!(stdout(&o).contains("valid gcwb trace"));
}

fn write_program(dir: &Path, name: &str, src: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, src).unwrap();
    p
}

/// A construct outside the subset, a type error and a runtime panic each end
/// with exit 2 and one line naming `file:line:col`; `run` writes nothing.
#[test]
fn go_errors_exit_2_with_the_position_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "defer.go",
            "package main\n\nfunc main() {\n\tdefer println(1)\n}\n",
            "defer.go:4:2: not supported: defer statement",
        ),
        ("types.go", "package main\n\nfunc main() {\n\tx := 1\n\tx = \"s\"\n}\n", "types.go:5:"),
        (
            "addrslice.go",
            "package main\n\nfunc main() {\n\tp := &[]int{1, 2}\n\tprintln(len(*p))\n}\n",
            "addrslice.go:4:7: not supported: the address of a slice or map literal",
        ),
        (
            "nilptr.go",
            "package main\n\ntype T struct{ n int }\n\nfunc main() {\n\tvar p *T\n\tprintln(p.n)\n}\n",
            "nilptr.go:7:",
        ),
        (
            "deadlock.go",
            "package main\n\nfunc main() {\n\tc := make(chan int)\n\t<-c\n}\n",
            "all goroutines are asleep - deadlock!",
        ),
    ];
    for (file, src, want) in cases {
        write_program(dir.path(), file, src);
        let out = dir.path().join(format!("out-{file}"));
        let args = ["run", file, "--collector", "none", "-q", "--out", out.to_str().unwrap()];
        let o = gcwb_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
        assert_no_panic(&args, &o);
        let e = stderr(&o);
        assert!(e.contains(want), "expected {want:?} in {}", describe(&args, &o));
        assert!(!out.exists() || std::fs::read_dir(&out).unwrap().count() == 0, "a failed run wrote results");
    }
}

/// `--escape go` without a Go toolchain on the PATH is a clear error.
#[test]
fn escape_go_without_a_toolchain_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program("seed-example.go");
    let args = ["gen", prog.as_str(), "--escape", "go", "-o", "t.gct"];
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gcwb"))
        .args(args)
        .current_dir(dir.path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    assert!(stderr(&o).contains("Go toolchain"), "{}", describe(&args, &o));
    assert!(!dir.path().join("t.gct").exists());
}

/// Is a Go toolchain on the PATH? Without one, a test that needs it skips
/// (loudly) unless `GCWB_REQUIRE_GO` is set, as CI sets it.
fn go_available(test: &str) -> bool {
    let ok = std::process::Command::new("go").arg("version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("GCWB_REQUIRE_GO").is_none(),
            "{test}: GCWB_REQUIRE_GO is set but go is not on the PATH"
        );
        eprintln!("SKIPPED {test}: no Go toolchain on the PATH");
    }
    ok
}

/// Heap objects and their bytes rounded up to Go's size classes (what
/// `MemStats.TotalAlloc` counts), for a program traced with `escape`.
fn traced_heap(name: &str, escape: workloads::golang::Escape) -> (u64, u64) {
    let mut sink = workloads::sink::MemorySink::new();
    let opts = workloads::golang::GoTraceOptions { escape, capture_output: true, ..Default::default() };
    workloads::golang::trace_into(&[PathBuf::from(program(&format!("{name}.go")))], &opts, &mut sink).unwrap();
    let trace = sink.into_trace();
    let prepared = workloads::analysis::analyze(&trace).unwrap();
    let places = prepared.placements(false);
    prepared
        .blocks
        .iter()
        .zip(places)
        .filter(|(_, p)| **p == workloads::analysis::Place::Heap)
        .fold((0, 0), |(n, b), (blk, _)| (n + 1, b + workloads::generate::gorules::roundupsize(blk.size)))
}

/// The request server, placed by Go's own compiler, allocates on the heap
/// what Go does: objects and size-class bytes within 5% of its MemStats.
#[test]
fn the_server_placed_by_go_allocates_what_go_allocates() {
    if !go_available("the_server_placed_by_go_allocates_what_go_allocates") {
        return;
    }
    let (objects, bytes) = traced_heap("server", workloads::golang::Escape::Go);
    let (mallocs, total) = native("server");
    let off = |a: u64, b: u64| (a as f64 - b as f64).abs() / b as f64;
    assert!(off(objects, mallocs) < 0.05, "server: {objects} heap objects traced, {mallocs} natively");
    assert!(off(bytes, total) < 0.05, "server: {bytes} heap bytes traced (size classes), {total} natively");
}

/// gcwb's own static escape analysis (the default, no Go needed) places the
/// server's sites as Go does: its heap is Go's within 5%.
#[test]
fn the_server_placed_by_gcwb_allocates_what_go_allocates() {
    let (objects, bytes) = traced_heap("server", workloads::golang::Escape::Gcwb);
    let (mallocs, total) = native("server");
    let off = |a: u64, b: u64| (a as f64 - b as f64).abs() / b as f64;
    assert!(off(objects, mallocs) < 0.05, "server: {objects} heap objects traced, {mallocs} natively");
    assert!(off(bytes, total) < 0.05, "server: {bytes} heap bytes traced (size classes), {total} natively");
}

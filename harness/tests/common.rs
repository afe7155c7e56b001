//! Helpers shared by the harness's integration tests; [`schedule`] and
//! [`lockstep`]: interleavings a test drives.
#![allow(dead_code, unused_imports)]

// By path: this file is also built as a test crate of its own.
#[path = "common/lockstep.rs"]
mod lockstep;
#[path = "common/schedule.rs"]
mod schedule;
pub use lockstep::*;
pub use schedule::*;

use collectors::mark::MarkFaults;
use collectors::plans::mark_sweep::MarkSweep;
use collectors::{registry, Collector, GcConfig};
use harness::replay::{replay, ReplayOptions, RunResult};
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use workloads::analysis::{analyze, Analysis};
use workloads::model::Trace;
use workloads::text::parse_text;

pub fn parse(src: &str) -> (Trace, Analysis) {
    let t = parse_text(src, "test.gct").expect("test trace parses");
    let a = analyze(&t).expect("test trace is sound");
    (t, a)
}

pub fn config(procs: usize) -> GcConfig {
    GcConfig { procs, heap_reserve_bytes: 4 << 30, ..GcConfig::default() }
}

pub fn collector(name: &str, procs: usize) -> Box<dyn Collector> {
    (registry::find(name).expect("registered").make)(&config(procs)).expect("collector starts")
}

/// A deliberately broken mark-sweep, with a 64 KiB minimum heap goal so
/// that even small traces collect often enough to expose it.
pub fn broken(faults: MarkFaults, skip_sweep: bool) -> Box<dyn Collector> {
    let cfg = GcConfig { min_heap_goal: 64 << 10, ..config(2) };
    Box::new(MarkSweep::with_faults(&cfg, faults, skip_sweep).expect("collector starts"))
}

pub fn verified(procs: usize) -> ReplayOptions {
    ReplayOptions { procs, verify: true, ..ReplayOptions::default() }
}

pub fn run(_trace: &Trace, analysis: &Analysis, c: &dyn Collector, procs: usize) -> RunResult {
    replay(analysis, c, &verified(procs))
}

/// A verified replay whose goroutines follow `schedule` (the collector must
/// have it too, for the marker's side). The collector's background work
/// runs on a thread of its own, so that the schedule can hold it between
/// steps while the workers run the mutators' events.
pub fn run_scheduled(analysis: &Analysis, c: &dyn Collector, procs: usize, schedule: &Arc<Schedule>) -> RunResult {
    let hooks: Arc<dyn harness::replay::hooks::ReplayHooks> = schedule.clone();
    let r = replay(analysis, c, &ReplayOptions { hooks: Some(hooks), gc_on_own_thread: true, ..verified(procs) });
    schedule.assert_followed();
    r
}

/// A verified replay on one worker with no time slice: the events run in an
/// order that is a function of the trace alone (a goroutine runs until it
/// waits for another or ends; the run queue is first in, first out), so a
/// stop-the-world collector's triggers, what it finds live and what it
/// frees are the same on every run, whatever the machine's load.
pub fn run_in_fixed_order(analysis: &Analysis, c: &dyn Collector) -> RunResult {
    replay(analysis, c, &ReplayOptions { time_slice_ns: None, ..verified(1) })
}

/// [`run_in_fixed_order`] in lockstep with a concurrent collector that has
/// `lockstep` as its hooks: the whole replay in one fixed interleaving (the
/// collector's background work on a thread of its own, beside the one
/// worker).
pub fn run_in_lockstep(analysis: &Analysis, c: &dyn Collector, lockstep: &Arc<Lockstep>) -> RunResult {
    let hooks: Arc<dyn harness::replay::hooks::ReplayHooks> = lockstep.clone();
    let opts = ReplayOptions { time_slice_ns: None, hooks: Some(hooks), gc_on_own_thread: true, ..verified(1) };
    replay(analysis, c, &opts)
}

/// The names of the kinds of violation a run found.
pub fn kinds(r: &RunResult) -> Vec<&'static str> {
    let mut k: Vec<_> = r.violations.as_ref().expect("verified").iter().map(|v| v.kind.name()).collect();
    k.sort();
    k.dedup();
    k
}

pub fn assert_clean(r: &RunResult) {
    let v = r.violations.as_ref().expect("verified run");
    assert!(r.fatal.is_none(), "{} ended early: {:?}", r.collector, r.fatal);
    assert!(v.is_empty(), "{}: {} violations, first: {}", r.collector, r.violation_count, v[0]);
}

/// A collector whose minimum heap goal is tiny (64 KiB instead of Go's
/// 4 MiB), so small traces still collect many times.
pub fn eager_collector(name: &str, procs: usize) -> Box<dyn Collector> {
    let cfg = GcConfig { min_heap_goal: 64 << 10, ..config(procs) };
    (registry::find(name).expect("registered").make)(&cfg).expect("collector starts")
}

/// A parsed CSV file: its header and its rows as column → value.
pub struct Csv {
    pub headers: Vec<String>,
    pub rows: Vec<HashMap<String, String>>,
}

/// Reads a CSV file with a header row; every row must have every column.
pub fn read_csv(path: &Path) -> Csv {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(rec.len(), headers.len(), "{}: ragged row {rec:?}", path.display());
            headers.iter().cloned().zip(rec.iter().map(str::to_string)).collect()
        })
        .collect();
    Csv { headers, rows }
}

/// The value of column `name` in `row`.
pub fn col<'a>(row: &'a HashMap<String, String>, name: &str) -> &'a str {
    row.get(name).unwrap_or_else(|| panic!("no column {name} in {row:?}"))
}

/// Boxes (2 slots) held by globals; items (1 slot) in the boxes' slots;
/// workers shuffle items between boxes and each other through their
/// locals, and every 50 operations one asks for a collection (`gc`). A
/// shadow of which locals and slots are non-nil keeps every dereference
/// sound.
pub fn shuffle_trace(seed: u64, workers: u32, ops: u32) -> String {
    shuffle_trace_collecting(seed, workers, ops, false)
}

/// [`shuffle_trace`], but every 50 operations a worker allocates (and
/// drops) a 64 KiB pointer-free block instead of asking for a collection:
/// with a 64 KiB minimum goal, that crosses the trigger, so the cycles
/// start from allocation — concurrently with the other goroutines even on
/// one worker.
pub fn shuffle_trace_allocating(seed: u64, workers: u32, ops: u32) -> String {
    shuffle_trace_collecting(seed, workers, ops, true)
}

fn shuffle_trace_collecting(seed: u64, workers: u32, ops: u32, by_allocation: bool) -> String {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    const BOXES: u32 = 4;
    const LOCALS: u32 = 3;
    let mut s = format!("gctrace 1\nglobals {BOXES}\ng1 call 2\n");
    let mut b = 0;
    for i in 0..BOXES {
        b += 1;
        s += &format!("g1 alloc l0 b{b} 16 2 new heap\ng1 set G{i} l0\n");
        for j in 0..2 {
            b += 1;
            s += &format!("g1 alloc l1 b{b} 16 1 new heap\ng1 set G{i}.{j} l1\n");
        }
    }
    s += "g1 set l0 nil\ng1 set l1 nil\n";
    for w in 0..workers {
        s += &format!("g1 go g{} {LOCALS}\n", w + 2);
    }
    // Non-nil-ness: each worker's locals (all point to items when set).
    let mut held = vec![[false; LOCALS as usize]; workers as usize];
    for k in 0..ops {
        let w = rng.random_range(0..workers) as usize;
        let g = w + 2;
        if k % 50 == 25 {
            if by_allocation {
                let l = rng.random_range(0..LOCALS) as usize;
                b += 1;
                s += &format!("g{g} alloc l{l} b{b} 65536 0 new heap\ng{g} set l{l} nil\n");
                held[w][l] = false;
            } else {
                s += &format!("g{g} gc\n");
            }
            continue;
        }
        let l = rng.random_range(0..LOCALS) as usize;
        let l2 = rng.random_range(0..LOCALS) as usize;
        let (i, j) = (rng.random_range(0..BOXES), rng.random_range(0..2));
        match rng.random_range(0..12) {
            // Loads: the slot may be nil; count the local as maybe-nil.
            0..=2 => {
                s += &format!("g{g} set l{l} G{i}.{j}\n");
                held[w][l] = false;
            }
            3 => s += &format!("g{g} set G{i}.{j} nil\n"),
            4..=5 => s += &format!("g{g} set G{i}.{j} l{l}\n"),
            6 => {
                s += &format!("g{g} set l{l} nil\n");
                held[w][l] = false;
            }
            7 => {
                b += 1;
                s += &format!("g{g} alloc l{l} b{b} 16 1 new heap\n");
                held[w][l] = true;
            }
            // Through an item a local surely holds: store into it, load from it.
            8 if held[w][l] => s += &format!("g{g} set l{l}.0 l{l2}\n"),
            9 if held[w][l] && l != l2 => {
                s += &format!("g{g} set l{l2} l{l}.0\n");
                held[w][l2] = false;
            }
            _ => s += &format!("g{g} work {}\n", rng.random_range(10_000..300_000)),
        }
    }
    s
}

/// The workspace root.
pub fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ has a parent").to_path_buf()
}

/// Runs `gcwb ARGS` in `dir`, with no stdin and no RUST_BACKTRACE (so a
/// panic would print its "run with `RUST_BACKTRACE=1`" note).
pub fn gcwb_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcwb"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("gcwb runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command, its exit code and its output, for assertion messages.
pub fn describe(args: &[&str], o: &Output) -> String {
    format!("gcwb {}\n  exit: {:?}\n  stdout: {}\n  stderr: {}", args.join(" "), o.status.code(), stdout(o), stderr(o))
}

pub fn assert_no_panic(args: &[&str], o: &Output) {
    let e = stderr(o);
    assert!(!e.contains("panicked") && !e.contains("RUST_BACKTRACE"), "panic in {}", describe(args, o));
}

/// Runs and asserts success (exit 0, no panic, nothing on stderr).
pub fn ok_in(dir: &Path, args: &[&str]) -> Output {
    let o = gcwb_in(dir, args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(args, &o));
    assert_no_panic(args, &o);
    assert!(o.stderr.is_empty(), "unexpected stderr in {}", describe(args, &o));
    o
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

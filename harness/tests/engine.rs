//! The run layer: one prepared trace shared by every collector, repetition
//! and verified replay gives what preparing it anew each time gives; and a
//! trace prepared from text, from binary, from the generator and from an
//! in-memory trace is the same prepared trace.

mod common;

use common::*;
use harness::engine::{self, Prepared, RunRecord, TraceSource};
use harness::options::RunSettings;
use workloads::analysis::PreparedTrace;

/// The parts of a replay that do not depend on timing: what was replayed
/// and what the trace leaves live, and the verifier's verdict.
fn deterministic(r: &RunRecord) -> (u64, u64, u64, u64, u64, u64, u64, u64, Option<u64>, String) {
    let row = &r.row;
    (
        row.events,
        row.allocs,
        row.heap_allocs,
        row.stack_allocs,
        row.alloc_bytes,
        row.final_live_bytes,
        row.final_live_objects,
        row.max_stack_bytes,
        row.verify_errors,
        row.status.clone(),
    )
}

fn spec(collector: &str, procs: usize) -> engine::RunSpec {
    let mut s = RunSettings::default();
    s.set("procs", &procs.to_string()).unwrap();
    let info = collectors::registry::find(collector).expect("registered");
    let mut spec = s.spec(info, true, true, 0);
    spec.gc.min_heap_goal = 256 << 10; // collect often even on a small trace
    spec
}

fn random_source() -> TraceSource {
    TraceSource::Workload {
        name: "random".to_string(),
        seed: 7,
        set: vec!["events=40000".to_string(), "goroutines=6".to_string()],
    }
}

#[test]
fn one_prepared_trace_replays_as_a_fresh_one_for_every_collector_and_repetition() {
    let shared = engine::prepare(&random_source(), false).expect("prepares");
    for collector in collectors::registry::names() {
        for procs in [1, 3] {
            let s = spec(collector, procs);
            let fresh = engine::prepare(&random_source(), false).expect("prepares");
            let want = deterministic(&engine::run(&fresh, &s).expect("runs"));
            assert_eq!(want.8, Some(0), "{collector}: the fresh replay verifies clean");
            assert_eq!(want.9, "ok", "{collector}");
            for rep in 0..2 {
                let got = deterministic(&engine::run(&shared, &s).expect("runs"));
                assert_eq!(got, want, "{collector}, procs {procs}, repetition {rep} on the shared prepared trace");
            }
        }
    }
    // What verified replays need was computed once and kept.
    let t = &shared.trace;
    assert!(std::ptr::eq(t.deaths(false), t.deaths(false)));
    assert!(std::ptr::eq(t.event_index(), t.event_index()));
}

/// Everything a prepared trace holds that replays read.
fn fingerprint(t: &PreparedTrace) -> impl PartialEq + std::fmt::Debug {
    let programs: Vec<(Vec<u8>, Vec<u8>, u32)> =
        t.programs.iter().map(|p| (p.code.clone(), p.derefs.clone(), p.steps)).collect();
    let order: Vec<u32> = (0..t.events()).map(|i| t.goroutine_of(i)).collect();
    let blocks: Vec<String> = t.blocks.iter().map(|b| format!("{b:?}")).collect();
    (programs, order, blocks, t.tags.clone(), t.globals, t.deaths(false).death.clone())
}

#[test]
fn text_binary_generator_and_memory_prepare_the_same_trace() {
    let dir = tmp();
    let args = ["gen", "random", "--seed", "7", "--set", "events=40000", "--set", "goroutines=6"];
    ok_in(dir.path(), &[&args[..], &["-o", "r.gct"]].concat());
    ok_in(dir.path(), &[&args[..], &["-o", "r.gctb"]].concat());
    let from = |src: TraceSource| -> Prepared { engine::prepare(&src, false).expect("prepares") };
    let generated = from(random_source());
    let text = from(TraceSource::File(dir.path().join("r.gct")));
    let binary = from(TraceSource::File(dir.path().join("r.gctb")));
    let trace = workloads::file::load(&dir.path().join("r.gctb")).unwrap();
    let memory = workloads::analysis::analyze(&trace).unwrap();
    let want = fingerprint(&generated.trace);
    assert_eq!(fingerprint(&text.trace), want, "text");
    assert_eq!(fingerprint(&binary.trace), want, "binary");
    assert_eq!(fingerprint(&memory), want, "in memory");
    assert!(generated.trace.events() > 30_000);
    // Positions follow the source: lines for text, byte offsets for binary.
    assert!(text.trace.pos(0).starts_with("line "), "{}", text.trace.pos(0));
    assert!(binary.trace.pos(0).starts_with("byte offset "), "{}", binary.trace.pos(0));
    assert!(generated.trace.pos(0).starts_with("event "), "{}", generated.trace.pos(0));
}

#[test]
fn a_bad_source_is_one_line() {
    let e = engine::prepare(&TraceSource::Workload { name: "nope".into(), seed: 1, set: vec![] }, false).unwrap_err();
    assert!(e.contains("unknown workload `nope`") && !e.contains('\n'), "{e}");
    let e = engine::prepare(&TraceSource::File("/no/such/file.gctb".into()), false).unwrap_err();
    assert!(e.contains("/no/such/file.gctb") && !e.contains('\n'), "{e}");
    let dir = tmp();
    let p = dir.path().join("esc.gct");
    std::fs::write(&p, "gctrace 1\nglobals 1\ng1 call 1\ng1 alloc l0 b0 16 1 new stack\ng1 set G0 l0\n").unwrap();
    let e = engine::prepare(&TraceSource::File(p), false).unwrap_err();
    assert!(e.contains("esc.gct: line 5: stack block b0"), "{e}");
}

#[test]
fn a_prepared_file_replays_as_the_trace_it_was_prepared_from() {
    let dir = tmp();
    let args = ["gen", "random", "--seed", "7", "--set", "events=40000", "--set", "goroutines=6"];
    ok_in(dir.path(), &[&args[..], &["-o", "r.gctb"]].concat());
    let out = ok_in(dir.path(), &["prepare", "r.gctb", "-o", "r.gcwbp"]);
    assert!(stdout(&out).contains("wrote r.gcwbp: "), "{}", stdout(&out));
    let trace = engine::prepare(&TraceSource::File(dir.path().join("r.gctb")), false).expect("prepares");
    let file = engine::prepare(&TraceSource::File(dir.path().join("r.gcwbp")), false).expect("reads");
    assert_eq!(fingerprint(&file.trace), fingerprint(&trace.trace));
    // Messages still name the trace's own file and byte offsets.
    assert!(file.trace.file().ends_with("r.gctb"), "{}", file.trace.file());
    for i in [0, 1, 777, trace.trace.events() - 1] {
        assert_eq!(file.trace.pos(i), trace.trace.pos(i), "event {i}");
    }
    // `gcwb prepare` ran the oracle and kept its answer: read, not recomputed.
    let kept = file.trace.deaths_if_known(false).expect("the prepared file holds the death times");
    assert_eq!(kept, trace.trace.deaths(false));
    let origin = file.prepared_from.as_ref().expect("a prepared file says where it came from");
    assert_eq!(origin.name, "r.gctb");
    assert_eq!(origin.bytes, std::fs::metadata(dir.path().join("r.gctb")).unwrap().len());
    assert!(trace.prepared_from.is_none());
    for collector in collectors::registry::names() {
        let s = spec(collector, 2);
        let want = deterministic(&engine::run(&trace, &s).expect("runs"));
        assert_eq!(want.8, Some(0), "{collector}: verifies clean");
        assert_eq!(deterministic(&engine::run(&file, &s).expect("runs")), want, "{collector}");
    }
    // A workload prepared straight from the generator records how it was made.
    ok_in(dir.path(), &["prepare", "--workload", "queue", "--set", "events=3000", "-o", "q.gcwbp", "-q"]);
    let q = engine::prepare(&TraceSource::File(dir.path().join("q.gcwbp")), false).expect("reads");
    assert_eq!(q.prepared_from.unwrap().name, "--workload queue --seed 1 --set events=3000");
}

#[test]
fn every_command_takes_a_prepared_file_and_refuses_a_damaged_one_writing_nothing() {
    let dir = tmp();
    ok_in(dir.path(), &["gen", "server", "--set", "requests=200", "-o", "s.gctb"]);
    ok_in(dir.path(), &["prepare", "s.gctb", "-o", "s.gcwbp", "-q"]);
    let check = ok_in(dir.path(), &["check", "s.gcwbp"]);
    assert!(stdout(&check).contains("valid gcwb trace"), "{}", stdout(&check));
    ok_in(dir.path(), &["stats", "s.gcwbp"]);
    ok_in(dir.path(), &["run", "s.gcwbp", "-c", "mark-sweep", "--procs", "1", "--no-charts", "-q", "--out", "run"]);
    let toml = std::fs::read_to_string(dir.path().join("run/run.toml")).unwrap();
    assert!(toml.contains("prepared_from = \"s.gctb\"") && toml.contains("prepared_from_crc32 = "), "{toml}");
    ok_in(
        dir.path(),
        &["compare", "s.gcwbp", "--collectors", "none", "--repeat", "1", "--no-charts", "-q", "--out", "cmp"],
    );
    let experiment = "collectors = [\"mark-sweep\"]\nrepetitions = 1\nverify = true\n[sweep]\ngogc = [100, 200]\n\
                      procs = 1\n[[workload]]\nlabel = \"s\"\ntrace = \"s.gcwbp\"\n";
    std::fs::write(dir.path().join("e.toml"), experiment).unwrap();
    ok_in(dir.path(), &["sweep", "e.toml", "--out", "sw", "-q", "--no-charts"]);
    let cells = read_csv(&dir.path().join("sw/cells.csv"));
    assert_eq!(cells.rows.len(), 2, "two cells of the prepared trace");
    assert!(cells.rows.iter().all(|r| col(r, "verify_errors") == "0"), "verified clean");

    let mut bytes = std::fs::read(dir.path().join("s.gcwbp")).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(dir.path().join("bad.gcwbp"), &bytes).unwrap();
    std::fs::write(dir.path().join("short.gcwbp"), &bytes[..n / 3]).unwrap();
    for file in ["bad.gcwbp", "short.gcwbp"] {
        let args = ["run", file, "-c", "none", "--no-charts", "-q", "--out", "never"];
        let o = gcwb_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
        assert!(stderr(&o).contains(&format!("{file}: byte offset ")), "{}", stderr(&o));
        assert!(!dir.path().join("never").exists(), "{file}: nothing written");
    }
    let o = gcwb_in(dir.path(), &["prepare", "s.gctb", "-o", "/no/such/dir/x.gcwbp"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/no/such/dir/x.gcwbp"), "{}", stderr(&o));
}

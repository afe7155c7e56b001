//! Prepared traces on disk (`analysis::persist`): what is read back is what
//! was written, and a damaged, truncated or foreign file is an error naming
//! its byte offset, never a panic.
//!
//! - a round trip keeps every part of a prepared trace that anything reads
//!   (instructions, dereferences, dependency targets, order, blocks, tags,
//!   positions, block names, death times), for a multi-goroutine trace with
//!   globals and shared slots, a trace with request spans, and a text trace
//!   whose blocks are named out of order; the oracle's death times are
//!   written when they were computed and read back as computed;
//! - the encoding is deterministic (written twice, the same bytes);
//! - every truncation and every single-byte change of a small prepared file
//!   is refused (exhaustively, so nothing is left to chance);
//! - another build's file, and a file that is not a prepared trace, are
//!   refused with what to do; a failed write leaves the old file.

use std::path::Path;
use workloads::analysis::persist::{self, Origin};
use workloads::analysis::{analyze, PreparedTrace};
use workloads::generate as wl;
use workloads::text::parse_text;

const SEED_EXAMPLE: &str = include_str!("../traces/seed-example.gct");

fn generated(name: &str, sets: &[&str]) -> PreparedTrace {
    let w = wl::find(name).expect("a built-in workload");
    let mut params = w.defaults(11);
    for s in sets {
        params.set_pair(w.params, s).expect("a valid parameter");
    }
    let trace = wl::generate_trace(name, &params).expect("generates").expect("builds");
    analyze(&trace).expect("sound")
}

fn origin() -> Origin {
    Origin { name: "t.gctb".into(), bytes: 1234, crc32: 0xdead_beef }
}

/// Everything of a prepared trace that replays, the verifier, the oracle,
/// the demographics and messages read.
fn everything(t: &PreparedTrace) -> String {
    let mut s = format!(
        "{} globals={} events={} peak={} kinds={:?} tags={:?}\n",
        t.file(),
        t.globals,
        t.events(),
        t.peak_goroutines,
        t.events_by_kind,
        t.tags
    );
    for (g, p) in t.goroutines.iter().zip(&t.programs) {
        s += &format!("{g:?} steps={} code={:?} derefs={:?}\n", p.steps, p.code, p.derefs);
        s += &format!("targets={:?}\n", (0..p.steps).filter(|&q| p.is_dep_target(q)).collect::<Vec<_>>());
    }
    s += &format!("order={:?}\n", t.order().collect::<Vec<_>>());
    for (i, b) in t.blocks.iter().enumerate() {
        s += &format!("{} {b:?} {:?}\n", t.block_name(workloads::BlockIdx(i as u32)), b.heap_reason());
    }
    let (deps, derefs) = (t.deps_by_event(), t.derefs_by_event());
    for i in 0..t.events() {
        s += &format!("{} deps={:?} derefs={:?}\n", t.pos(i), deps[i], derefs[i]);
    }
    s += &format!("deaths={:?}\n", t.deaths(false).death);
    s
}

fn round_trip(t: &PreparedTrace, dir: &Path) -> PreparedTrace {
    let path = dir.join("t.gcwbp");
    let bytes = persist::write(t, &origin(), &path).expect("writes");
    assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
    let (back, o) = persist::read(&path).expect("reads back");
    assert_eq!(o, origin());
    // Written again, the same bytes: nothing depends on a hash map's order.
    let again = dir.join("again.gcwbp");
    persist::write(&back, &origin(), &again).expect("writes");
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap(), "deterministic encoding");
    back
}

#[test]
fn a_prepared_trace_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let random = generated("random", &["events=20000", "goroutines=6"]);
    assert!(random.goroutines.len() > 1 && random.globals > 0 && random.dep_count() > 0);
    let server = generated("server", &["requests=50"]);
    assert!(!server.tags.is_empty());
    let mut text = parse_text(SEED_EXAMPLE, "seed-example.gct").expect("parses");
    // Name the blocks out of order so the names table is kept.
    let n = text.block_names.len() as u64;
    for (i, name) in text.block_names.iter_mut().enumerate() {
        *name = 1000 + (n - i as u64) * 7;
    }
    let seed = analyze(&text).expect("sound");
    assert!(seed.pos(0).starts_with("line "), "{}", seed.pos(0));
    assert!(seed.block_name(workloads::BlockIdx(0)).starts_with("b10"), "{}", seed.block_name(workloads::BlockIdx(0)));
    for (name, t) in [("random", &random), ("server", &server), ("seed-example", &seed)] {
        // Not computed yet: not written, computed on demand after reading.
        let back = round_trip(t, dir.path());
        assert!(back.deaths_if_known(false).is_none() && back.deaths_if_known(true).is_none(), "{name}");
        assert_eq!(everything(&back), everything(t), "{name}");
    }
    // Computed before writing (as `gcwb prepare` does): read back, not recomputed.
    for no_stack in [false, true] {
        random.deaths(no_stack);
    }
    let back = round_trip(&random, dir.path());
    for no_stack in [false, true] {
        let (got, want) = (back.deaths_if_known(no_stack), random.deaths_if_known(no_stack));
        assert_eq!(got, want, "no_stack {no_stack}");
        assert!(got.is_some());
    }
}

#[test]
fn byte_offset_positions_with_far_jumps_read_back() {
    // A binary trace's positions are byte offsets; a Go-program-sized jump
    // between two events goes to the side table.
    let dir = tempfile::tempdir().unwrap();
    let mut trace = parse_text(SEED_EXAMPLE, "seed-example.gct").expect("parses");
    let mut offset = 9u64;
    trace.positions = (0..trace.events.len())
        .map(|i| {
            offset += if i % 3 == 0 { 100_000 } else { 5 };
            workloads::SourcePos::Offset(offset)
        })
        .collect();
    let t = analyze(&trace).expect("sound");
    let back = round_trip(&t, dir.path());
    assert_eq!(everything(&back), everything(&t));
    assert!(back.pos(1).starts_with("byte offset "), "{}", back.pos(1));
}

#[test]
fn every_truncation_and_every_changed_byte_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = generated("random", &["events=300", "goroutines=3"]);
    t.deaths(false); // so that the file has its death times too
    let path = dir.path().join("t.gcwbp");
    persist::write(&t, &origin(), &path).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(good.len() > 1000, "{} bytes", good.len());
    let bad = dir.path().join("bad.gcwbp");
    for len in 0..good.len() {
        std::fs::write(&bad, &good[..len]).unwrap();
        let e = persist::read(&bad).expect_err("a truncated file is refused").to_string();
        assert!(e.contains("bad.gcwbp: byte offset "), "truncated at {len}: {e}");
    }
    for at in 0..good.len() {
        let mut damaged = good.clone();
        damaged[at] ^= 0x5a;
        std::fs::write(&bad, &damaged).unwrap();
        let e = persist::read(&bad).expect_err("a changed byte is refused").to_string();
        assert!(e.contains("byte offset "), "byte {at} changed: {e}");
    }
}

#[test]
fn another_builds_file_or_not_a_prepared_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let t = generated("queue", &["events=2000"]);
    let path = dir.path().join("t.gcwbp");
    persist::write(&t, &origin(), &path).unwrap();
    let mut other = std::fs::read(&path).unwrap();
    // The fingerprint follows the magic and the format version.
    other[12] ^= 1;
    std::fs::write(&path, &other).unwrap();
    let e = persist::read(&path).unwrap_err().to_string();
    assert!(e.contains("byte offset 12") && e.contains("prepare the trace again"), "{e}");

    let gctb = dir.path().join("t.gctb");
    std::fs::write(&gctb, b"GCTB\x01\x00\x00\x00 and more").unwrap();
    let e = persist::read(&gctb).unwrap_err().to_string();
    assert!(e.contains("byte offset 0: expected the prepared-trace magic"), "{e}");
    assert!(!persist::is_prepared(b"GCTB\x01"));
    assert!(persist::is_prepared(persist::MAGIC));
}

#[test]
fn a_failed_write_leaves_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let t = generated("queue", &["events=2000"]);
    // The target is a non-empty directory: the rename over it fails.
    let target = dir.path().join("out.gcwbp");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"kept").unwrap();
    let e = persist::write(&t, &origin(), &target).unwrap_err().to_string();
    assert!(e.contains("out.gcwbp"), "{e}");
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"kept");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("out.gcwbp")], "no temporary file left behind");
}

//! End-to-end tests of the `gcwb` command: the real binary, run in temporary
//! directories on small traces written for each test.
//!
//! What they pin down: bad input (text and binary) ends with exit code 2 and
//! exactly one line on stderr naming the file, the line or byte offset and
//! what was expected; a failed run leaves existing results untouched; a stack
//! overflow ends like Go's (and still writes what was measured); the CSV files
//! of a run hold what the README promises; the other subcommands work.

mod common;
use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const SEED_REL: &str = "workloads/traces/seed-example.gct";

fn seed_path() -> PathBuf {
    workspace().join(SEED_REL)
}

/// Asserts a bad-input failure: exit 2, exactly one line on stderr, starting
/// with `prefix` (`gcwb: FILE: line N: `) and containing every fragment.
fn assert_input_error(args: &[&str], o: &Output, prefix: &str, fragments: &[&str]) {
    let ctx = describe(args, o);
    assert_eq!(o.status.code(), Some(2), "exit code, {ctx}");
    assert_no_panic(args, o);
    let e = stderr(o);
    assert!(e.ends_with('\n') && e.lines().count() == 1, "expected exactly one line on stderr, {ctx}");
    assert!(e.starts_with(prefix), "expected stderr to start with {prefix:?}, {ctx}");
    for f in fragments {
        assert!(e.contains(f), "expected stderr to contain {f:?}, {ctx}");
    }
}

/// Both `check FILE` and `run FILE --out out` must fail with the same one-line
/// error, and the failed run must write nothing.
fn assert_rejected(dir: &Path, file: &str, prefix: &str, fragments: &[&str]) {
    let args = ["check", file];
    let o = gcwb_in(dir, &args);
    assert_input_error(&args, &o, prefix, fragments);
    assert!(o.stdout.is_empty(), "check printed to stdout on error: {}", describe(&args, &o));

    let out = dir.join("out-of-bad-run");
    let out_s = out.to_str().unwrap();
    let args = ["run", "-q", "--procs", "1", file, "--out", out_s];
    let o = gcwb_in(dir, &args);
    assert_input_error(&args, &o, prefix, fragments);
    if out.exists() {
        let n = std::fs::read_dir(&out).unwrap().count();
        assert_eq!(n, 0, "a rejected run wrote into {}: {}", out.display(), describe(&args, &o));
    }
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    std::fs::write(dir.join(name), bytes).unwrap();
    name.to_string()
}

fn num(row: &HashMap<String, String>, name: &str) -> u64 {
    let v = col(row, name);
    v.parse().unwrap_or_else(|_| panic!("column {name} = {v:?} is not a u64 in {row:?}"))
}

/// The rows of `rows` whose `collector` is `name`.
fn rows_of<'a>(rows: &'a [HashMap<String, String>], name: &str) -> Vec<&'a HashMap<String, String>> {
    rows.iter().filter(|r| col(r, "collector") == name).collect()
}

/// Lists `*.tmp` files (the temporaries of atomic writes) left in `dir`.
fn tmp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// The documented 22-byte binary example (docs/trace-format.md, "Example").
const GOOD_TEXT: &str = "gctrace 1\ng1 call 1\ng1 alloc l0 b0 16 1 new heap\n";
const GOOD_BIN: [u8; 22] = [
    0x47, 0x43, 0x54, 0x42, // magic
    0x01, 0x00, 0x00, 0x00, // version 1
    0x00, // globals 0
    0x01, 0x01, 0x00, // @9: call N 1, 0 args
    0x05, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, // @12: alloc l0 b0 16 1 new heap
    0x00, 0x02, // @20: trailer, 2 events
];

/// Converts the good text trace with `gcwb convert` and returns its bytes
/// (checked against the documented encoding).
fn converted_good(dir: &Path) -> Vec<u8> {
    write(dir, "good.gct", GOOD_TEXT);
    ok_in(dir, &["convert", "good.gct", "good.gctb"]);
    let b = std::fs::read(dir.join("good.gctb")).unwrap();
    assert_eq!(b, GOOD_BIN, "convert does not write the documented encoding");
    b
}

// ---------------------------------------------------------------------------
// 1. Bad input: text traces
// ---------------------------------------------------------------------------

/// A malformed or unsound text trace, the line its error must name, and
/// fragments of the message. `record` is the byte offset of the offending
/// record once the trace is converted to binary, for the errors that only
/// the analysis finds (the converter carries them over).
struct Bad {
    name: &'static str,
    text: &'static str,
    line: usize,
    fragments: &'static [&'static str],
    record: Option<usize>,
}

const BAD: &[Bad] = &[
    Bad {
        name: "unknown-op",
        text: "gctrace 1\n# comments and blank lines count as lines\ng1 call 2\n\ng1 jump l0\ng1 exit\n",
        line: 5,
        fragments: &["unknown op 'jump'", "expected one of call, ret, alloc, go, set, work, begin, end, exit, gc"],
        record: None,
    },
    Bad {
        name: "unknown-cause",
        text: "gctrace 1\ng1 call 1\n\ng1 alloc l0 b0 16 1 mk-slice heap\ng1 exit\n",
        line: 4,
        fragments: &["unknown cause 'mk-slice'", "expected one of new, make-slice, make-map"],
        record: None,
    },
    Bad {
        name: "unknown-placement",
        text: "gctrace 1\ng1 call 1\ng1 work 10\ng1 alloc l0 b0 16 1 new nowhere  # where?\n",
        line: 4,
        fragments: &["unknown placement 'nowhere'", "heap, stack, auto"],
        record: None,
    },
    Bad {
        name: "bad-number",
        text: "gctrace 1\ng1 call 1\ng1 alloc l0 b0 1x6 1 new heap\n",
        line: 3,
        fragments: &["SIZE", "'1x6'", "decimal number"],
        record: None,
    },
    Bad {
        name: "negative-number",
        text: "gctrace 1\ng1 call 1\ng1 work 5\ng1 work -5\n",
        line: 4,
        fragments: &["NS", "'-5'", "decimal number"],
        record: None,
    },
    Bad {
        name: "number-too-large",
        text: "gctrace 1\n\n\ng1 call 4294967296\n",
        line: 4,
        fragments: &["N 4294967296 is too large", "4294967295"],
        record: None,
    },
    Bad {
        name: "too-many-slots",
        text: "gctrace 1\ng1 call 1\ng1 alloc l0 b0 16 4 new heap\n",
        line: 3,
        fragments: &["4 pointer slots need 32 bytes", "block is 16"],
        record: None,
    },
    Bad {
        name: "reused-block",
        text: "gctrace 1\ng1 call 2\ng1 alloc l0 b0 16 1 new heap\n# again\ng1 alloc l1 b0 16 1 new heap\n",
        line: 5,
        fragments: &["block b0 is allocated twice (first at line 3)"],
        record: None,
    },
    Bad {
        name: "missing-header",
        text: "g1 call 1\ng1 exit\n",
        line: 1,
        fragments: &["expected header `gctrace 1`"],
        record: None,
    },
    Bad {
        name: "comment-before-header",
        text: "# not even a comment first\ngctrace 1\ng1 call 1\n",
        line: 1,
        fragments: &["expected header `gctrace 1`"],
        record: None,
    },
    Bad { name: "empty-file", text: "", line: 1, fragments: &["expected header `gctrace 1`"], record: None },
    Bad {
        name: "wrong-version",
        text: "gctrace 2\ng1 call 1\n",
        line: 1,
        fragments: &["unsupported trace version 2", "reads version 1"],
        record: None,
    },
    // Found by the analysis: these convert to binary and fail there too.
    Bad {
        name: "nil-deref",
        text: "gctrace 1\n# l0 is nil\ng1 call 1\n\ng1 set l0.0 nil\ng1 exit\n",
        line: 5,
        fragments: &["nil dereference", "l0"],
        record: Some(12),
    },
    Bad {
        name: "dangling-local",
        text: "gctrace 1\ng1 call 1\n\ng1 set l5 nil\n",
        line: 4,
        fragments: &["local l5 out of range", "1 locals"],
        record: Some(12),
    },
    Bad {
        name: "global-out-of-range",
        text: "gctrace 1\nglobals 1\ng1 call 1\ng1 set G3 nil\n",
        line: 4,
        fragments: &["global G3 out of range", "1 globals"],
        record: Some(12),
    },
    Bad {
        name: "slot-out-of-range",
        text: "gctrace 1\ng1 call 1\ng1 alloc l0 b0 16 1 new heap\ng1 set l0.3 nil\n",
        line: 4,
        fragments: &["slot 3 out of range", "b0 has 1 pointer slots"],
        record: Some(20),
    },
    Bad {
        name: "unknown-goroutine",
        text: "gctrace 1\ng1 call 1\ng7 work 5\n",
        line: 3,
        fragments: &["unknown goroutine g7"],
        record: Some(12),
    },
    Bad {
        name: "exited-goroutine",
        text: "gctrace 1\ng1 call 1\ng1 go g2 1\ng2 exit\ng2 work 5\n",
        line: 5,
        fragments: &["goroutine g2 has exited"],
        record: Some(18),
    },
    Bad {
        name: "goroutine-exists",
        text: "gctrace 1\ng1 call 1\ng1 go g2 1\ng1 go g2 1\n",
        line: 4,
        fragments: &["goroutine g2 already exists"],
        record: Some(16),
    },
    Bad {
        name: "ret-no-frame",
        text: "gctrace 1\ng1 call 1\ng1 ret\ng1 ret\n",
        line: 4,
        fragments: &["ret with no frame"],
        record: Some(13),
    },
    Bad {
        name: "stack-escape",
        text: "gctrace 1\nglobals 1\ng1 call 1\ng1 alloc l0 b0 16 1 new stack\ng1 work 5\ng1 set G0 l0\n",
        line: 6,
        fragments: &["stack block b0 (allocated at line 4) escapes", "global G0 at line 6"],
        record: Some(22),
    },
];

#[test]
fn bad_text_traces_exit_2_with_one_line_naming_file_and_line() {
    let dir = tmp();
    for b in BAD {
        let file = write(dir.path(), &format!("{}.gct", b.name), b.text);
        let prefix = format!("gcwb: {file}: line {}: ", b.line);
        assert_rejected(dir.path(), &file, &prefix, b.fragments);
    }
}

#[test]
fn unsound_traces_converted_to_binary_fail_at_the_record_offset() {
    let dir = tmp();
    for b in BAD.iter().filter(|b| b.record.is_some()) {
        let text = write(dir.path(), &format!("{}.gct", b.name), b.text);
        let bin = format!("{}.gctb", b.name);
        // The converter checks syntax only; the analysis rejects the binary.
        ok_in(dir.path(), &["convert", &text, &bin]);
        let prefix = format!("gcwb: {bin}: byte offset {}: ", b.record.unwrap());
        let fragments: Vec<String> = b
            .fragments
            .iter()
            .map(|f| f.replace("line 4", "byte offset 12").replace("line 6", "byte offset 22"))
            .collect();
        let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
        assert_rejected(dir.path(), &bin, &prefix, &fragments);
    }
}

#[test]
fn missing_trace_file_is_one_line_naming_it() {
    let dir = tmp();
    assert_rejected(dir.path(), "no-such.gct", "gcwb: no-such.gct: ", &[]);
}

// ---------------------------------------------------------------------------
// 1. Bad input: binary traces (converted from text, then corrupted)
// ---------------------------------------------------------------------------

#[test]
fn truncated_binary_trace_names_the_offset_at_every_cut() {
    let dir = tmp();
    let good = converted_good(dir.path());
    for n in 0..good.len() {
        let file = write(dir.path(), &format!("cut{n}.gctb"), &good[..n]);
        let prefix = format!("gcwb: {file}: byte offset {n}: ");
        assert_rejected(dir.path(), &file, &prefix, &["truncated"]);
    }
}

#[test]
fn corrupt_binary_traces_exit_2_naming_the_byte_offset() {
    let dir = tmp();
    let good = converted_good(dir.path());
    let with = |i: usize, v: u8| {
        let mut b = good.clone();
        b[i] = v;
        b
    };
    let splice = |at: usize, len: usize, new: &[u8]| {
        let mut b = good[..at].to_vec();
        b.extend_from_slice(new);
        b.extend_from_slice(&good[at + len..]);
        b
    };
    let mut trailing = good.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>, usize, &[&str])> = vec![
        ("bad-opcode", with(12, 0x0e), 12, &["unknown opcode 0x0e"]),
        ("bad-opcode-at-trailer", with(20, 0x0e), 20, &["unknown opcode 0x0e"]),
        ("unknown-cause", with(18, 14), 18, &["unknown cause 14", "0 to 13"]),
        ("unknown-placement", with(19, 7), 19, &["unknown placement 7", "heap", "stack", "auto"]),
        // SIZE as a 10-byte varint of 70 bits.
        (
            "varint-overflow",
            splice(16, 1, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            16,
            &["SIZE", "64 bits"],
        ),
        // call's N = 2^32, a u32 field out of range.
        ("u32-out-of-range", splice(10, 1, &[0x80, 0x80, 0x80, 0x80, 0x10]), 10, &["N 4294967296 is too large"]),
        ("bad-magic", with(0, b'X'), 0, &["not a gcwb binary trace", "expected magic GCTB"]),
        ("wrong-version", with(4, 2), 4, &["unsupported binary trace version 2", "reads version 1"]),
        ("trailer-count", with(21, 5), 21, &["trailer says 5 events", "holds 2"]),
        ("bytes-after-trailer", trailing, 22, &["after the trailer"]),
    ];
    for (name, bytes, offset, fragments) in cases {
        let file = write(dir.path(), &format!("{name}.gctb"), bytes);
        let prefix = format!("gcwb: {file}: byte offset {offset}: ");
        assert_rejected(dir.path(), &file, &prefix, fragments);
    }
}

/// Like [`assert_rejected`] where the docs allow the error to name either the
/// record's offset or the offending field's.
fn assert_rejected_at_one_of(dir: &Path, file: &str, offsets: &[usize], fragments: &[&str]) {
    let args = ["check", file];
    let o = gcwb_in(dir, &args);
    let e = stderr(&o);
    let prefix = offsets
        .iter()
        .map(|k| format!("gcwb: {file}: byte offset {k}: "))
        .find(|p| e.starts_with(p))
        .unwrap_or_else(|| panic!("expected byte offset one of {offsets:?}, {}", describe(&args, &o)));
    assert_rejected(dir, file, &prefix, fragments);
}

#[test]
fn binary_with_more_slots_than_size_is_rejected() {
    let dir = tmp();
    let mut b = converted_good(dir.path());
    b[17] = 4; // SLOTS 4 in a 16-byte block
    let file = write(dir.path(), "slots.gctb", b);
    // The alloc record starts at 12; its SLOTS field is at 17.
    assert_rejected_at_one_of(dir.path(), &file, &[12, 17], &["4 pointer slots need 32 bytes", "block is 16"]);
}

#[test]
fn binary_zero_size_block_is_rejected() {
    let dir = tmp();
    let mut b = converted_good(dir.path());
    b[16] = 0; // SIZE 0
    let file = write(dir.path(), "zero.gctb", b);
    // The alloc record starts at 12; its SIZE field is at 16.
    assert_rejected_at_one_of(dir.path(), &file, &[12, 16], &["SIZE must be at least 1"]);
}

#[test]
fn binary_reused_block_name_is_rejected() {
    let dir = tmp();
    write(dir.path(), "two.gct", "gctrace 1\ng1 call 2\ng1 alloc l0 b0 16 1 new heap\ng1 alloc l1 b1 16 1 new heap\n");
    ok_in(dir.path(), &["convert", "two.gct", "two.gctb"]);
    let mut b = std::fs::read(dir.path().join("two.gctb")).unwrap();
    // The second alloc record starts at 20: opcode 05, DST l1 (02 00), then
    // the name delta at 23 (b1 after one block: delta 0).
    assert_eq!(&b[20..24], &[0x05, 0x02, 0x00, 0x00], "unexpected encoding {b:02x?}");
    b[23] = 0x01; // zigzag -1: the second block is named b0 too
    let file = write(dir.path(), "reused.gctb", b);
    assert_rejected_at_one_of(dir.path(), &file, &[20, 23], &["block b0 is allocated twice (first at byte offset 12)"]);
}

#[test]
fn text_trace_named_gctb_is_missing_the_binary_header() {
    let dir = tmp();
    let file = write(dir.path(), "text.gctb", GOOD_TEXT);
    assert_rejected(dir.path(), &file, &format!("gcwb: {file}: byte offset 0: "), &["expected magic GCTB"]);
}

// ---------------------------------------------------------------------------
// 2. Nothing half-written
// ---------------------------------------------------------------------------

#[test]
fn failed_run_leaves_existing_results_unchanged() {
    let dir = tmp();
    let out = dir.path().join("OUT");
    std::fs::create_dir(&out).unwrap();
    let summary = b"trace,collector\nold-trace,old-collector\n".to_vec();
    let pauses = b"gc,phase\n1,old\n".to_vec();
    std::fs::write(out.join("summary.csv"), &summary).unwrap();
    std::fs::write(out.join("pauses.csv"), &pauses).unwrap();

    let text_bad =
        write(dir.path(), "BAD.gct", "gctrace 1\ng1 call 1\ng1 alloc l0 b0 16 1 new heap\ng1 set l0.9 nil\n");
    let sem_bad =
        write(dir.path(), "ESC.gct", "gctrace 1\nglobals 1\ng1 call 1\ng1 alloc l0 b0 16 1 new stack\ng1 set G0 l0\n");
    let mut cut = converted_good(dir.path());
    cut.truncate(15);
    let bin_bad = write(dir.path(), "BAD.gctb", cut);
    let seed = seed_path();
    let seed = seed.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["run", "-q", &text_bad, "--out", "OUT"],
        vec!["run", "-q", &sem_bad, "--out", "OUT"],
        vec!["run", "-q", &bin_bad, "--out", "OUT"],
        vec!["run", "-q", seed, "--collector", "bogus", "--out", "OUT"],
        vec!["run", "-q", seed, "--gogc", "lots", "--out", "OUT"],
    ];
    for args in &runs {
        let o = gcwb_in(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{}", describe(args, &o));
        assert_no_panic(args, &o);
        assert_eq!(
            std::fs::read(out.join("summary.csv")).unwrap(),
            summary,
            "summary.csv changed by {}",
            describe(args, &o)
        );
        assert_eq!(
            std::fs::read(out.join("pauses.csv")).unwrap(),
            pauses,
            "pauses.csv changed by {}",
            describe(args, &o)
        );
        let mut names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["pauses.csv", "summary.csv"], "files appeared in OUT after {}", describe(args, &o));
    }

    // A good run then replaces both (saying that it replaces results of an
    // earlier command), and leaves no temporaries behind.
    let args = ["run", "-q", "--procs", "2", seed, "--out", "OUT"];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    assert!(
        stderr(&o).starts_with("gcwb: warning: OUT: holds the results of an earlier gcwb command"),
        "{}",
        describe(&args, &o)
    );
    assert_ne!(std::fs::read(out.join("summary.csv")).unwrap(), summary);
    assert_ne!(std::fs::read(out.join("pauses.csv")).unwrap(), pauses);
    assert_eq!(tmp_files(&out), Vec::<String>::new());
}

#[test]
fn failed_convert_writes_no_output() {
    let dir = tmp();
    write(dir.path(), "bad.gct", "gctrace 1\ng1 call 1\ng1 jump\n");
    let args = ["convert", "bad.gct", "bad.gctb"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: bad.gct: line 3: ", &["unknown op 'jump'"]);
    assert!(!dir.path().join("bad.gctb").exists(), "convert left a partial output");
    assert_eq!(tmp_files(dir.path()), Vec::<String>::new());

    // A good trace to an unknown extension: refused, nothing written.
    write(dir.path(), "good.gct", GOOD_TEXT);
    let args = ["convert", "good.gct", "good.txt"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: good.txt: ", &[".gct", ".gctb"]);
    assert!(!dir.path().join("good.txt").exists(), "convert wrote an unknown format");
}

// ---------------------------------------------------------------------------
// 3. Stack overflow, like Go
// ---------------------------------------------------------------------------

fn repeated(line: &str, n: usize) -> String {
    let mut s = String::from("gctrace 1\n");
    for _ in 0..n {
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[test]
fn deep_recursion_overflows_the_max_stack_like_go() {
    let dir = tmp();
    let file = write(dir.path(), "deep.gct", repeated("g1 call 1 4096", 40));
    let args = ["run", "-q", "--procs", "2", &file, "--max-stack", "100000", "--out", "OUT"];
    let o = gcwb_in(dir.path(), &args);
    let ctx = describe(&args, &o);
    assert_eq!(o.status.code(), Some(2), "{ctx}");
    assert_no_panic(&args, &o);
    let e = stderr(&o);
    assert!(e.contains("runtime: goroutine stack exceeds 100000-byte limit"), "{ctx}");
    assert!(e.contains("fatal error: stack overflow"), "{ctx}");
    // The limit is the largest power of two not above 100000: 64 KiB. Sixteen
    // 4 KiB frames fill it; the 17th call (line 18) needs 128 KiB.
    assert!(e.contains("deep.gct: line 18"), "{ctx}");

    let out = dir.path().join("OUT");
    let s = read_csv(&out.join("summary.csv"));
    let names: Vec<&str> = s.rows.iter().map(|r| col(r, "collector")).collect();
    assert_eq!(names, collectors::registry::names(), "{ctx}");
    for r in &s.rows {
        assert_eq!(col(r, "status"), "stack-overflow", "{r:?}");
        assert_eq!(num(r, "max_stack_bytes"), 65536, "{r:?}");
        assert_eq!(num(r, "events"), 16, "the 16 calls before the overflow ran: {r:?}");
    }
    for f in ["pauses.csv", "cycles.csv", "spans.csv", "causes.csv"] {
        assert!(out.join(f).is_file(), "{f} not written");
    }
    assert_eq!(tmp_files(&out), Vec::<String>::new());
}

#[test]
fn arch_32_limits_stacks_to_250mb_and_64_bit_does_not() {
    let dir = tmp();
    // Four 64 MiB frames: a 256 MiB stack.
    let file = write(dir.path(), "big.gct", repeated("g1 call 1 67108864", 4));

    let args = ["run", "-q", "--procs", "2", &file, "--arch", "32", "--out", "OUT32"];
    let o = gcwb_in(dir.path(), &args);
    let ctx = describe(&args, &o);
    assert_eq!(o.status.code(), Some(2), "{ctx}");
    assert_no_panic(&args, &o);
    assert!(stderr(&o).contains("runtime: goroutine stack exceeds 250000000-byte limit"), "{ctx}");
    assert!(stderr(&o).contains("fatal error: stack overflow"), "{ctx}");
    let s = read_csv(&dir.path().join("OUT32/summary.csv"));
    assert_eq!(s.rows.len(), collectors::registry::COLLECTORS.len(), "{ctx}");
    for r in &s.rows {
        assert_eq!(col(r, "status"), "stack-overflow", "{r:?}");
    }

    let args = ["run", "-q", "--procs", "2", &file, "--out", "OUT64"];
    let o = ok_in(dir.path(), &args);
    let s = read_csv(&dir.path().join("OUT64/summary.csv"));
    assert_eq!(s.rows.len(), collectors::registry::COLLECTORS.len(), "{}", describe(&args, &o));
    for r in &s.rows {
        assert_eq!(col(r, "status"), "ok", "{r:?}");
        assert_eq!(num(r, "max_stack_bytes"), 256 << 20, "{r:?}");
    }
}

// ---------------------------------------------------------------------------
// 4. Run outputs
// ---------------------------------------------------------------------------

const SUMMARY_PROMISED: &[&str] = &[
    "trace",
    "collector",
    "procs",
    "gogc",
    "events",
    "wall_ns",
    "events_per_s",
    "allocs",
    "alloc_bytes",
    "heap_allocs",
    "stack_allocs",
    "gc_count",
    "pause_count",
    "pause_p50_ns",
    "pause_p99_ns",
    "pause_max_ns",
    "pause_total_ns",
    "ttsp_max_ns",
    "peak_heap_bytes",
    "final_live_bytes",
    "stack_growths",
    "max_stack_bytes",
    "verify_errors",
];

#[test]
fn verified_run_of_the_seed_example_writes_the_promised_csvs() {
    let dir = tmp();
    let out = dir.path().join("OUT");
    let out_s = out.to_str().unwrap();
    let args = ["run", SEED_REL, "--verify", "--procs", "2", "--out", out_s];
    let o = ok_in(&workspace(), &args);
    let ctx = describe(&args, &o);

    // summary.csv
    let s = read_csv(&out.join("summary.csv"));
    assert_eq!(&s.headers[..SUMMARY_PROMISED.len()], SUMMARY_PROMISED, "{ctx}");
    for extra in ["load_ns", "status"] {
        assert!(s.headers.iter().any(|h| h == extra), "no {extra} column");
    }
    let names: Vec<&str> = s.rows.iter().map(|r| col(r, "collector")).collect();
    assert_eq!(names, collectors::registry::names(), "{ctx}");
    for r in &s.rows {
        assert_eq!(col(r, "trace"), SEED_REL);
        assert_eq!(col(r, "procs"), "2");
        assert_eq!(col(r, "gogc"), "100");
        assert_eq!(num(r, "events"), 20);
        assert_eq!(num(r, "allocs"), 5);
        assert_eq!(num(r, "alloc_bytes"), 136);
        assert_eq!(num(r, "heap_allocs"), 4, "{r:?}");
        assert_eq!(num(r, "stack_allocs"), 1, "{r:?}");
        assert_eq!(col(r, "verify_errors"), "0", "{r:?}");
        assert_eq!(col(r, "status"), "ok", "{r:?}");
    }
    let none = &s.rows[0];
    assert_eq!(num(none, "gc_count"), 0);
    assert_eq!(num(none, "pause_count"), 0);
    let ms = &s.rows[1];
    // Two explicit `gc` events; the final collection is left out.
    assert_eq!(num(ms, "gc_count"), 2, "{ms:?}");
    assert_eq!(num(ms, "pause_count"), 2, "{ms:?}");
    assert_eq!(num(ms, "final_live_bytes"), 0, "nothing is reachable at the end: {ms:?}");

    // pauses.csv
    let p = read_csv(&out.join("pauses.csv"));
    assert_eq!(&p.headers[..5], ["gc", "phase", "start_ns", "duration_ns", "ttsp_ns"]);
    assert!(rows_of(&p.rows, "none").is_empty(), "the none collector never pauses");
    let msp = rows_of(&p.rows, "mark-sweep");
    let triggers: Vec<&str> = msp.iter().map(|r| col(r, "trigger")).collect();
    assert_eq!(triggers, ["explicit", "explicit", "final"], "{:?}", p.rows);
    for r in &msp {
        assert_eq!(col(r, "phase"), "stw-full", "{r:?}");
        assert!(num(r, "duration_ns") > 0, "{r:?}");
        assert!(num(r, "ttsp_ns") <= num(r, "duration_ns"), "time to safepoint is part of the pause: {r:?}");
    }
    // The summary's statistics cover the non-final pauses.
    let counted: Vec<u64> =
        msp.iter().filter(|r| col(r, "trigger") != "final").map(|r| num(r, "duration_ns")).collect();
    assert_eq!(num(ms, "pause_total_ns"), counted.iter().sum::<u64>(), "{ms:?} vs {counted:?}");
    let max = *counted.iter().max().unwrap();
    let reported = num(ms, "pause_max_ns");
    assert!(reported.abs_diff(max) <= max / 500 + 1, "pause_max_ns {reported} vs {max} (3 significant digits)");
    let ttsp = msp.iter().filter(|r| col(r, "trigger") != "final").map(|r| num(r, "ttsp_ns")).max().unwrap();
    assert_eq!(num(ms, "ttsp_max_ns"), ttsp);

    // causes.csv
    let c = read_csv(&out.join("causes.csv"));
    assert_eq!(c.headers, ["cause", "placement", "count", "bytes"]);
    let cause = |k: &str, p: &str| {
        let r = c.rows.iter().find(|r| col(r, "cause") == k && col(r, "placement") == p);
        let r = r.unwrap_or_else(|| panic!("no {k},{p} row"));
        (num(r, "count"), num(r, "bytes"))
    };
    assert_eq!(cause("var", "stack"), (1, 8));
    assert_eq!(cause("var", "heap"), (2, 16));
    assert_eq!(cause("make-chan", "heap"), (1, 96));
    assert_eq!(cause("closure", "heap"), (1, 16));
    assert_eq!(c.rows.iter().map(|r| num(r, "count")).sum::<u64>(), 5);

    // cycles.csv and spans.csv exist with their headers.
    let cy = read_csv(&out.join("cycles.csv"));
    assert!(cy.headers.iter().any(|h| h == "trigger"));
    assert_eq!(rows_of(&cy.rows, "mark-sweep").len(), 3);
    let sp = read_csv(&out.join("spans.csv"));
    assert!(sp.rows.is_empty(), "the seed example has no spans");
    assert_eq!(tmp_files(&out), Vec::<String>::new());
}

#[test]
fn run_with_one_collector_writes_one_row() {
    let dir = tmp();
    let seed = seed_path();
    ok_in(
        dir.path(),
        &["run", "-q", "--procs", "3", seed.to_str().unwrap(), "--collector", "mark-sweep", "--out", "OUT"],
    );
    let s = read_csv(&dir.path().join("OUT/summary.csv"));
    assert_eq!(s.rows.len(), 1);
    assert_eq!(col(&s.rows[0], "collector"), "mark-sweep");
    assert_eq!(col(&s.rows[0], "procs"), "3");
    assert_eq!(col(&s.rows[0], "verify_errors"), "", "not verified: empty cell");
    let p = read_csv(&dir.path().join("OUT/pauses.csv"));
    assert!(p.rows.iter().all(|r| col(r, "collector") == "mark-sweep"));
}

#[test]
fn unknown_collector_lists_the_valid_names() {
    let dir = tmp();
    let seed = seed_path();
    let args = ["run", "-q", seed.to_str().unwrap(), "--collector", "bogus", "--out", "OUT"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: ", &["bogus", "none", "mark-sweep", "all"]);
    assert!(!dir.path().join("OUT").exists(), "{}", describe(&args, &o));
}

/// 24 MiB allocated 1 MiB at a time, each dropped by the next: GOGC=100
/// (4 MiB minimum goal) must collect on the way.
fn churn() -> String {
    let mut s = String::from("gctrace 1\ng1 call 1\n");
    for i in 0..24 {
        s.push_str(&format!("g1 alloc l0 b{i} 1048576 0 new heap\n"));
    }
    s
}

#[test]
fn gogc_off_has_no_heap_goal_cycles() {
    let dir = tmp();
    let file = write(dir.path(), "churn.gct", churn());
    let triggers = |out: &str| {
        let cy = read_csv(&dir.path().join(out).join("cycles.csv"));
        cy.rows.iter().map(|r| col(r, "trigger").to_string()).collect::<Vec<_>>()
    };

    ok_in(dir.path(), &["run", "-q", "--procs", "2", &file, "--collector", "mark-sweep", "--out", "ON"]);
    let on = read_csv(&dir.path().join("ON/summary.csv"));
    assert_eq!(col(&on.rows[0], "gogc"), "100");
    assert!(num(&on.rows[0], "gc_count") > 0, "GOGC=100 should collect 24 MiB of garbage: {:?}", on.rows);
    assert!(triggers("ON").iter().any(|t| t == "heap-goal"), "{:?}", triggers("ON"));

    ok_in(
        dir.path(),
        &["run", "-q", "--procs", "2", &file, "--collector", "mark-sweep", "--gogc", "off", "--out", "OFF"],
    );
    let off = read_csv(&dir.path().join("OFF/summary.csv"));
    assert_eq!(col(&off.rows[0], "gogc"), "off");
    assert_eq!(num(&off.rows[0], "gc_count"), 0, "{:?}", off.rows);
    assert_eq!(triggers("OFF"), ["final"]);
}

#[test]
fn no_stack_puts_every_block_on_the_heap() {
    let dir = tmp();
    let seed = seed_path();
    ok_in(dir.path(), &["run", "-q", "--procs", "2", seed.to_str().unwrap(), "--no-stack", "--verify", "--out", "OUT"]);
    let s = read_csv(&dir.path().join("OUT/summary.csv"));
    assert_eq!(s.rows.len(), collectors::registry::COLLECTORS.len());
    for r in &s.rows {
        assert_eq!(num(r, "stack_allocs"), 0, "{r:?}");
        assert_eq!(num(r, "heap_allocs"), 5, "{r:?}");
        assert_eq!(col(r, "verify_errors"), "0", "{r:?}");
    }
    let c = read_csv(&dir.path().join("OUT/causes.csv"));
    assert!(c.rows.iter().filter(|r| col(r, "placement") == "stack").all(|r| num(r, "count") == 0));
}

// ---------------------------------------------------------------------------
// 5. Other commands
// ---------------------------------------------------------------------------

fn first_words(s: &str) -> Vec<String> {
    s.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

#[test]
fn collectors_and_workloads_are_listed() {
    let dir = tmp();
    let c = first_words(&stdout(&ok_in(dir.path(), &["collectors"])));
    for n in ["none", "mark-sweep"] {
        assert!(c.iter().any(|x| x == n), "collectors lists {c:?}");
    }
    let listing = stdout(&ok_in(dir.path(), &["workloads"]));
    let w = first_words(&listing);
    for n in ["seed-example", "default", "memops", "random"] {
        assert!(w.iter().any(|x| x == n), "workloads lists {w:?}");
    }
    // Each parameter, indented under its workload, with default and range.
    let memops = listing.lines().skip_while(|l| !l.starts_with("memops ")).skip(1);
    let params: Vec<&str> = memops.take_while(|l| l.starts_with(' ')).map(str::trim).collect();
    assert!(params.iter().any(|p| p.starts_with("events=1000000 (1..")), "{listing}");
    assert!(params.iter().any(|p| p.starts_with("goroutines=8 (1..")), "{listing}");
}

#[test]
fn collectors_lists_each_ones_options_and_cycle_metrics_under_it() {
    let dir = tmp();
    let listing = stdout(&ok_in(dir.path(), &["collectors"]));
    let under = |name: &str| -> Vec<String> {
        let after = listing.lines().skip_while(|l| !l.starts_with(&format!("{name} "))).skip(1);
        after.take_while(|l| l.starts_with(' ')).map(|l| l.trim().to_string()).collect()
    };
    let generational = under("generational");
    for flag in ["--nursery BYTES", "--tenure-age N", "--card-bytes BYTES", "--pretenure-bytes BYTES"] {
        assert!(generational.iter().any(|l| l.starts_with(flag)), "{flag} not under generational:\n{listing}");
    }
    assert!(generational.iter().any(|l| l.starts_with("--pretenure-bytes") && l.ends_with("(default 32KiB)")));
    let metrics = generational.iter().find(|l| l.starts_with("cycles.csv adds:")).expect("its cycle metrics");
    assert!(metrics.contains("promoted_bytes") && metrics.contains("copied_bytes"), "{metrics}");
    let sticky = under("sticky");
    assert!(sticky.iter().any(|l| l.starts_with("--card-bytes")) && !sticky.iter().any(|l| l.contains("--tenure-age")));
    assert!(under("mark-sweep").is_empty(), "mark-sweep declares nothing:\n{listing}");
}

/// `gcwb check`'s report as key → value (the value up to a `(` note).
fn check_report(dir: &Path, file: &str) -> HashMap<String, String> {
    let o = ok_in(dir, &["check", file]);
    let text = stdout(&o);
    assert!(text.lines().next().unwrap_or("").contains("valid gcwb trace (format version 1)"), "{text}");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            let i = l.find("  ")?;
            Some((l[..i].to_string(), l[i..].trim().to_string()))
        })
        .collect()
}

fn leading_number(v: &str) -> u64 {
    v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no number in {v:?}"))
}

#[test]
fn check_reports_the_seed_example() {
    let seed = seed_path();
    let r = check_report(&workspace(), seed.to_str().unwrap());
    assert_eq!(leading_number(&r["events"]), 20, "{r:?}");
    assert_eq!(leading_number(&r["goroutines"]), 2, "{r:?}");
    assert_eq!(leading_number(&r["globals"]), 1, "{r:?}");
    assert_eq!(r["blocks"], "5 (4 heap, 1 stack)", "{r:?}");
    // Channel, closure, x and y are all live after y's alloc: 96 + 16 + 8 + 8.
    assert!(r["peak live heap"].starts_with("128 bytes"), "{r:?}");
}

#[test]
fn convert_round_trips_and_check_agrees() {
    let dir = tmp();
    std::fs::copy(seed_path(), dir.path().join("a.gct")).unwrap();
    ok_in(dir.path(), &["convert", "a.gct", "b.gctb"]);
    ok_in(dir.path(), &["convert", "b.gctb", "c.gct"]);
    ok_in(dir.path(), &["convert", "c.gct", "d.gctb"]);
    let b = std::fs::read(dir.path().join("b.gctb")).unwrap();
    assert_eq!(b.len(), 118, "docs: the example is 118 bytes in binary");
    assert_eq!(&b[..12], b"GCTB\x01\x00\x00\x00\x01\x01\x03\x00");
    assert_eq!(b, std::fs::read(dir.path().join("d.gctb")).unwrap(), "text -> binary -> text -> binary is lossless");

    // The numbers agree; only the peak's position is a line or a byte offset
    // (and the load's timing and size vary).
    let strip = |mut r: HashMap<String, String>| {
        assert!(r.remove("load").is_some_and(|l| l.contains("bytes an event")), "a load line");
        assert!(r.remove("oracle").is_some(), "an oracle line");
        let peak = r.remove("peak live heap").expect("peak live heap line");
        r.insert("peak live heap".into(), peak.split(" (").next().unwrap().to_string());
        r
    };
    let a = strip(check_report(dir.path(), "a.gct"));
    let bb = strip(check_report(dir.path(), "b.gctb"));
    let c = strip(check_report(dir.path(), "c.gct"));
    assert_eq!(a, bb);
    assert_eq!(a, c);
    assert_eq!(leading_number(&a["events"]), 20);
}

#[test]
fn gen_writes_the_seed_example() {
    let dir = tmp();
    ok_in(dir.path(), &["gen", "seed-example", "-o", "g.gctb"]);
    let r = check_report(dir.path(), "g.gctb");
    assert_eq!(leading_number(&r["events"]), 20, "{r:?}");
    let args = ["gen", "bogus", "-o", "x.gct"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: ", &["bogus"]);
    assert!(!dir.path().join("x.gct").exists());
}

/// `gen NAME --set ... -o FILE` streams exactly the workload `run --workload
/// NAME --set ...` replays, in either format, through a temporary file.
#[test]
fn gen_with_set_writes_the_workload_with_those_parameters() {
    let dir = tmp();
    let args = ["gen", "memops", "--set", "events=5000", "--set", "goroutines=3", "--seed", "7", "-o", "m.gctb"];
    let out = stdout(&ok_in(dir.path(), &args));
    assert!(out.starts_with("wrote m.gctb: ") && out.contains(" events") && out.contains("events/s"), "{out}");
    let events = leading_number(&check_report(dir.path(), "m.gctb")["events"]);
    assert!((5_000..5_500).contains(&events), "events={events}: about the 5000 asked for");
    assert!(out.contains(&format!(": {events} events")), "gen reports the events written: {out}");

    ok_in(
        dir.path(),
        &["gen", "memops", "--set", "goroutines=3", "--set", "events=5000", "--seed", "7", "-o", "m.gct"],
    );
    ok_in(dir.path(), &["convert", "m.gct", "m2.gctb"]);
    let bin = std::fs::read(dir.path().join("m.gctb")).unwrap();
    assert_eq!(bin, std::fs::read(dir.path().join("m2.gctb")).unwrap(), "text and binary gen write the same trace");
    assert_eq!(tmp_files(dir.path()), Vec::<String>::new());

    // A different seed, a different trace; the default size is bigger.
    ok_in(dir.path(), &["gen", "memops", "--set", "events=5000", "--set", "goroutines=3", "-o", "s1.gctb"]);
    assert_ne!(bin, std::fs::read(dir.path().join("s1.gctb")).unwrap());
    ok_in(dir.path(), &["gen", "random", "-o", "r.gctb"]);
    assert!(leading_number(&check_report(dir.path(), "r.gctb")["events"]) >= 200_000);

    // run --workload with the same settings replays the same trace.
    let run = ["run", "-q", "--procs", "1", "--collector", "none", "--workload", "memops"];
    let args = [&run[..], &["--set", "events=5000", "--set", "goroutines=3", "--seed", "7", "--out", "OUT"]].concat();
    ok_in(dir.path(), &args);
    let s = read_csv(&dir.path().join("OUT/summary.csv"));
    assert_eq!(num(&s.rows[0], "events"), events, "{:?}", s.rows);
}

#[test]
fn unknown_workload_lists_the_valid_names() {
    let dir = tmp();
    for args in [&["gen", "bogus", "-o", "x.gct"][..], &["run", "-q", "--workload", "bogus", "--out", "OUT"][..]] {
        let o = gcwb_in(dir.path(), args);
        assert_input_error(
            args,
            &o,
            "gcwb: unknown workload `bogus`",
            &["seed-example", "random", "default", "memops"],
        );
    }
    assert!(!dir.path().join("x.gct").exists() && !dir.path().join("OUT").exists());
}

#[test]
fn bad_workload_parameters_exit_2_naming_the_workload() {
    let dir = tmp();
    let cases: [(&str, &[&str]); 6] = [
        ("evnts=3", &["unknown parameter `evnts`", "events, goroutines"]),
        ("events=lots", &["`events`", "`lots` is not a number"]),
        ("events=0", &["`events`", "out of range 1.."]),
        ("goroutines=2.5", &["`goroutines`", "not a whole number"]),
        ("events=1e30", &["`events`", "out of range"]),
        ("events", &["expected key=value"]),
    ];
    for (set, fragments) in cases {
        let args = ["gen", "memops", "--set", set, "-o", "x.gctb"];
        let o = gcwb_in(dir.path(), &args);
        assert_input_error(&args, &o, "gcwb: memops: ", fragments);
        let args = ["run", "-q", "--workload", "memops", "--set", set, "--out", "OUT"];
        let o = gcwb_in(dir.path(), &args);
        assert_input_error(&args, &o, "gcwb: memops: ", fragments);
    }
    let args = ["gen", "seed-example", "--set", "events=10", "-o", "x.gctb"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: seed-example: unknown parameter `events`", &["no parameters"]);
    assert!(!dir.path().join("x.gctb").exists() && !dir.path().join("OUT").exists());
    assert_eq!(tmp_files(dir.path()), Vec::<String>::new());
}

#[test]
fn gen_to_an_unknown_extension_or_missing_directory_writes_nothing() {
    let dir = tmp();
    let args = ["gen", "seed-example", "-o", "x.txt"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: x.txt: ", &[".gct", ".gctb"]);
    let args = ["gen", "seed-example", "-o", "no/such/dir/x.gct"];
    let o = gcwb_in(dir.path(), &args);
    assert_input_error(&args, &o, "gcwb: no/such/dir/x.gct: ", &[]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn help_mentions_every_documented_command_and_option() {
    let dir = tmp();
    let top = stdout(&ok_in(dir.path(), &["--help"]));
    for c in ["run", "check", "convert", "gen", "collectors", "workloads"] {
        assert!(top.lines().any(|l| l.split_whitespace().next() == Some(c)), "--help lacks {c}:\n{top}");
    }
    let run = stdout(&ok_in(dir.path(), &["run", "--help"]));
    for opt in [
        "--collector",
        "--procs",
        "--gogc",
        "--verify",
        "--no-stack",
        "--arch",
        "--max-stack",
        "--out",
        "--workload",
        "--seed",
        "--set",
    ] {
        assert!(run.contains(opt), "run --help lacks {opt}:\n{run}");
    }
    assert!(!run.contains("--scale"), "--scale is gone (replaced by --set events=N):\n{run}");
    let gen = stdout(&ok_in(dir.path(), &["gen", "--help"]));
    for opt in ["-o", "--seed", "--set"] {
        assert!(gen.contains(opt), "gen --help lacks {opt}:\n{gen}");
    }
    for sub in ["check", "convert"] {
        ok_in(dir.path(), &[sub, "--help"]);
    }
}

#[test]
fn stats_prints_and_writes_the_demographics_of_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed_path();
    let out = dir.path().join("stats");
    let args = ["stats", seed.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
    let text = stdout(&o);
    assert!(text.contains("20 events") && text.contains("lifetimes"), "{text}");
    for f in ["demographics.csv", "events.csv", "allocations.csv", "lifetimes.csv"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let alloc_row = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(alloc_row.lines().any(|l| l == "alloc,5"), "{alloc_row}");

    let bad = dir.path().join("bad.gct");
    std::fs::write(&bad, "gctrace 1\ng1 frobnicate\n").unwrap();
    let args = ["stats", bad.to_str().unwrap()];
    let o = gcwb_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    assert_no_panic(&args, &o);
    assert!(stderr(&o).contains("line 2"), "{}", describe(&args, &o));
}

#[test]
fn warmup_replays_each_collector_first_and_records_only_the_last_run() {
    let dir = tmp();
    let args = [
        "run",
        "--workload",
        "server",
        "--set",
        "requests=10",
        "--collector",
        "mark-sweep,concurrent",
        "--procs",
        "2",
        "--warmup",
        "2",
        "--no-charts",
        "-q",
        "--out",
        "out",
    ];
    let o = ok_in(dir.path(), &args);
    let out = stdout(&o);
    for c in ["mark-sweep", "concurrent"] {
        for i in 1..=2 {
            let line = format!("warm-up {i}/2");
            assert!(out.lines().any(|l| l.contains(c) && l.contains(&line)), "no {c} {line} in:\n{out}");
        }
    }
    let summary = read_csv(&dir.path().join("out/summary.csv"));
    let collectors: Vec<&str> = summary.rows.iter().map(|r| col(r, "collector")).collect();
    assert_eq!(collectors, ["mark-sweep", "concurrent"], "one recorded run per collector");
}

#[test]
fn nursery_and_tenure_age_shape_the_generational_collectors_minor_collections() {
    let dir = tmp();
    let minors = |out: &str, nursery: &str, tenure: &str| -> Vec<HashMap<String, String>> {
        let args = [
            "run",
            "--workload",
            "server",
            "--set",
            "requests=100",
            "--set",
            "work_ns=0",
            "--collector",
            "generational",
            "--procs",
            "2",
            "--nursery",
            nursery,
            "--tenure-age",
            tenure,
            "--no-charts",
            "-q",
            "--out",
            out,
        ];
        ok_in(dir.path(), &args);
        let pauses = read_csv(&dir.path().join(out).join("pauses.csv"));
        let minor_gcs: Vec<String> =
            pauses.rows.iter().filter(|r| col(r, "phase") == "minor").map(|r| col(r, "gc").to_string()).collect();
        read_csv(&dir.path().join(out).join("cycles.csv"))
            .rows
            .into_iter()
            .filter(|r| minor_gcs.iter().any(|g| g == col(r, "gc")))
            .collect()
    };
    let small = minors("small", "64KiB", "0");
    let big = minors("big", "1MiB", "0");
    // A minor collection runs each time the nursery fills, so the counts are
    // about the young bytes allocated over the nursery size whatever the
    // interleaving: 16 times as many at 64 KiB as at 1 MiB, less at most
    // one collection each for rounding and the workers' nursery buffers (at
    // most a 32nd of the nursery each, two workers). 3x cannot fail by
    // chance.
    assert!(small.len() >= 3 * big.len().max(1), "{} minors at 64 KiB vs {} at 1 MiB", small.len(), big.len());
    assert!(small.iter().all(|r| num(r, "copied_bytes") == 0), "tenure age 0 copies nothing into survivor space");
    assert!(small.iter().any(|r| num(r, "promoted_bytes") > 0));
    let aged = minors("aged", "64KiB", "2");
    assert!(aged.iter().any(|r| num(r, "copied_bytes") > 0), "tenure age 2 keeps survivors young");
    for r in &aged {
        let rate: f64 = col(r, "survival_rate").parse().unwrap();
        assert!((0.0..=1.0).contains(&rate), "survival rate {rate}");
        assert!(col(r, "young_bytes").parse::<u64>().unwrap() > 0, "{r:?}");
        col(r, "dirty_cards").parse::<u64>().unwrap();
    }
    for (flag, value, fragment) in [
        ("--nursery", "12XB", "unit"),
        ("--tenure-age", "16", "16"),
        ("--card-bytes", "1000", "power of two"),
        ("--pretenure-bytes", "64KiB", "at most"),
    ] {
        let args = ["run", "--workload", "seed-example", "--collector", "generational", flag, value];
        let o = gcwb_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
        assert!(stderr(&o).contains(fragment), "{}", describe(&args, &o));
    }
}

#[test]
fn cycles_csv_has_each_collectors_metrics_filled_only_by_the_collectors_that_declare_them() {
    let dir = tmp();
    let args = ["run", "--workload", "server", "--set", "requests=100", "--set", "work_ns=0", "--nursery", "64KiB"];
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["-c", "mark-sweep,sticky,generational", "--procs", "2", "--no-charts", "-q"])
        .collect();
    let args: Vec<&str> = args.into_iter().chain(["--out", "out"]).collect();
    ok_in(dir.path(), &args);
    let cycles = read_csv(&dir.path().join("out/cycles.csv"));
    for name in ["young_bytes", "promoted_bytes", "copied_bytes", "survival_rate", "dirty_cards"] {
        assert!(cycles.headers.iter().any(|h| h == name), "no column {name} in {:?}", cycles.headers);
    }
    let rows = |c: &str| cycles.rows.iter().filter(|r| col(r, "collector") == c).collect::<Vec<_>>();
    for r in rows("mark-sweep") {
        assert_eq!((col(r, "young_bytes"), col(r, "survival_rate")), ("", ""), "mark-sweep reports none: {r:?}");
    }
    for c in ["sticky", "generational"] {
        assert!(rows(c).len() >= 3, "{c}: {} cycles", rows(c).len());
        assert!(rows(c).iter().all(|r| col(r, "young_bytes").parse::<u64>().is_ok()), "{c} reports young_bytes");
        assert!(rows(c).iter().any(|r| num(r, "promoted_bytes") > 0), "{c} promoted nothing");
    }
    assert!(rows("sticky").iter().all(|r| col(r, "copied_bytes").is_empty()), "sticky copies nothing");
    assert!(rows("generational").iter().all(|r| col(r, "copied_bytes").parse::<u64>().is_ok()));
}

/// A binary trace larger than the reader's 1 MiB chunk, cut in the middle
/// or with bytes overwritten in the middle: every command that loads it
/// streams up to the damage, then exits 2 naming the byte offset, and
/// writes nothing.
#[test]
fn a_streamed_binary_cut_or_corrupt_in_the_middle_exits_2_with_the_offset() {
    let dir = tmp();
    ok_in(dir.path(), &["gen", "random", "--set", "events=200000", "-o", "big.gctb"]);
    let good = std::fs::read(dir.path().join("big.gctb")).unwrap();
    assert!(good.len() > 1 << 20, "the trace spans more than one read chunk: {} bytes", good.len());
    let mid = good.len() * 2 / 3;
    let mut cut = good.clone();
    cut.truncate(mid);
    std::fs::write(dir.path().join("cut.gctb"), &cut).unwrap();
    let mut corrupt = good.clone();
    // 0xff bytes are an unknown opcode where a record starts and an
    // overlong varint inside one: an error either way.
    corrupt[mid..mid + 16].fill(0xff);
    std::fs::write(dir.path().join("corrupt.gctb"), &corrupt).unwrap();
    for file in ["cut.gctb", "corrupt.gctb"] {
        let out = dir.path().join(format!("OUT-{file}"));
        let out_s = out.to_str().unwrap().to_string();
        let runs: Vec<Vec<&str>> = vec![
            vec!["run", "-q", file, "--collector", "mark-sweep", "--out", &out_s],
            vec!["compare", "-q", file, "--collectors", "none", "--repeat", "1", "--out", &out_s],
            vec!["check", file],
            vec!["stats", file, "--out", &out_s],
        ];
        for args in &runs {
            let o = gcwb_in(dir.path(), args);
            assert_eq!(o.status.code(), Some(2), "{}", describe(args, &o));
            assert_no_panic(args, &o);
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "one line: {}", describe(args, &o));
            assert!(err.contains(&format!("{file}: byte offset ")), "{}", describe(args, &o));
            let offset: usize = err
                .split("byte offset ")
                .nth(1)
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("an offset in {err}"));
            // At the damage: within the record it hits (records are short).
            assert!(offset <= mid + 16 && offset + 256 >= mid, "offset {offset} is not near {mid}: {err}");
            assert!(!out.exists(), "nothing written: {}", describe(args, &o));
        }
    }
}

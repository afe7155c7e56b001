//! Round trips of the trace codecs: text → model → text, text → binary →
//! text, and the streaming writers, on the seed example, on a hand-built trace
//! that uses every op, and on random traces (proptest); plus the file layer
//! (`workloads::file`): formats by extension, sniffing, atomic saves.
//!
//! Each codec's error messages are tested next to the codec, in
//! `src/text.rs` and `src/binary.rs`.

use proptest::prelude::*;
use std::path::Path;
use workloads::binary::{parse_binary, read_binary, read_binary_into, write_binary, BinaryWriter};
use workloads::builder::{BinarySink, EventSink, MemorySink, TextSink};
use workloads::file::{self, Format};
use workloads::model::{BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, SourcePos, Src, Trace};
use workloads::text::{parse_text, read_text, read_text_into, write_text, TextWriter};

const SEED_EXAMPLE: &str = include_str!("../traces/seed-example.gct");

fn to_text(trace: &Trace) -> String {
    let mut out = Vec::new();
    write_text(trace, &mut out).expect("write_text");
    String::from_utf8(out).expect("text traces are UTF-8")
}

fn to_binary(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    write_binary(trace, &mut out).expect("write_binary");
    out
}

/// The parts of a trace a round trip must keep.
fn assert_same_content(a: &Trace, b: &Trace) {
    assert_eq!(a.globals, b.globals, "globals");
    assert_eq!(a.block_names, b.block_names, "block names");
    assert_eq!(a.events.len(), b.events.len(), "event count");
    for (i, (x, y)) in a.events.iter().zip(&b.events).enumerate() {
        assert_eq!(x, y, "event {i}");
    }
}

/// text → model → text is the identity on canonical text, and text → binary
/// → text gives the same model and the same text.
fn check_round_trips(trace: &Trace) {
    let text = to_text(trace);
    let from_text = parse_text(&text, "r.gct").expect("canonical text parses");
    assert_same_content(trace, &from_text);
    assert_eq!(to_text(&from_text), text, "text is canonical");
    assert_eq!(from_text.positions.len(), from_text.events.len());

    let bytes = to_binary(&from_text);
    let from_binary = parse_binary(&bytes, "r.gctb").expect("binary parses");
    assert_same_content(trace, &from_binary);
    assert_eq!(to_text(&from_binary), text, "text → binary → text");
    assert_eq!(to_binary(&from_binary), bytes, "binary is canonical");
    assert_eq!(from_binary.positions.len(), from_binary.events.len());
}

#[test]
fn seed_example_round_trips() {
    let trace = parse_text(SEED_EXAMPLE, "seed-example.gct").expect("the seed example parses");
    assert_eq!(trace.globals, 1);
    assert_eq!(trace.events.len(), 20);
    assert_eq!(trace.block_names, vec![1, 2, 3, 4, 5]);
    // The first event is on the line after `globals 1`.
    let first_event_line = SEED_EXAMPLE.lines().position(|l| l.starts_with("g1 call 3")).unwrap() as u64 + 1;
    assert_eq!(trace.positions[0], SourcePos::Line(first_event_line));
    assert_eq!(
        trace.events[3],
        Event { g: GoroutineId(1), op: Op::Set { dst: Loc::local(1).slot(1), src: Src::Loc(Loc::local(0)) } }
    );
    check_round_trips(&trace);
    // read_text (line by line) agrees with parse_text (in memory).
    let streamed = read_text(SEED_EXAMPLE.as_bytes(), "seed-example.gct").unwrap();
    assert_eq!(streamed, trace);
}

/// A trace that uses every op, every optional form, nested locations,
/// interior pointers, every cause and every placement.
fn every_op_trace() -> Trace {
    let g1 = GoroutineId(1);
    let g2 = GoroutineId(2);
    let mut events = vec![
        Event { g: g1, op: Op::Call { locals: 4, frame_bytes: None, args: workloads::Args::new() } },
        Event {
            g: g1,
            op: Op::Call {
                locals: 3,
                frame_bytes: Some(64),
                args: smallvec::smallvec![Src::Loc(Loc::local(0)), Src::Nil],
            },
        },
        Event {
            g: g1,
            op: Op::Call {
                locals: 2,
                frame_bytes: None,
                args: smallvec::smallvec![Src::Interior(Loc::global(1).slot(2), 3)],
            },
        },
    ];
    let mut block = 0;
    for (i, cause) in Cause::ALL.into_iter().enumerate() {
        let placement = [Placement::Heap, Placement::Stack, Placement::Auto][i % 3];
        events.push(Event {
            g: g1,
            op: Op::Alloc {
                dst: if i % 2 == 0 { Loc::local(0) } else { Loc::local(1).slot(0).slot(1) },
                block: BlockIdx(block),
                size: 8 * (i as u64 + 1),
                ptr_slots: i as u32 + 1,
                cause,
                placement,
            },
        });
        block += 1;
    }
    events.extend([
        Event { g: g1, op: Op::Set { dst: Loc::local(0).slot(1).slot(0), src: Src::Interior(Loc::local(1), 2) } },
        Event { g: g1, op: Op::Set { dst: Loc::global(0), src: Src::Nil } },
        Event { g: g1, op: Op::Set { dst: Loc::global(1).slot(7), src: Src::Loc(Loc::global(0).slot(0)) } },
        Event { g: g1, op: Op::Ret { copy: Some((Src::Interior(Loc::local(0).slot(1), 0), Loc::local(2).slot(3))) } },
        Event { g: g1, op: Op::Ret { copy: None } },
        Event {
            g: g1,
            op: Op::Go { child: g2, locals: 2, frame_bytes: None, args: smallvec::smallvec![Src::Loc(Loc::local(3))] },
        },
        Event {
            g: g1,
            op: Op::Go { child: GoroutineId(3), locals: 1, frame_bytes: Some(8), args: workloads::Args::new() },
        },
        Event { g: g2, op: Op::Begin { tag: "rpc/GetUser".into() } },
        Event { g: g2, op: Op::Work { ns: 1_500 } },
        Event { g: g2, op: Op::Work { ns: u64::MAX } },
        Event {
            g: g2,
            op: Op::Alloc {
                dst: Loc::local(0),
                block: BlockIdx(block),
                size: u64::MAX,
                ptr_slots: u32::MAX,
                cause: Cause::Append,
                placement: Placement::Heap,
            },
        },
        Event { g: g2, op: Op::End { tag: "rpc/GetUser".into() } },
        Event { g: g2, op: Op::Gc },
        Event { g: g2, op: Op::Exit },
        Event { g: GoroutineId(3), op: Op::Exit },
        Event { g: g1, op: Op::Begin { tag: "ünïcode-tag".into() } },
        Event { g: g1, op: Op::End { tag: "ünïcode-tag".into() } },
        Event { g: g1, op: Op::Exit },
    ]);
    let block_names = (0..=block as u64).map(|i| 1000 + 7 * i).collect();
    Trace { globals: 9, events, block_names, positions: vec![], source_name: None }
}

#[test]
fn every_op_round_trips() {
    let trace = every_op_trace();
    check_round_trips(&trace);
    let text = to_text(&trace);
    assert!(text.starts_with("gctrace 1\nglobals 9\ng1 call 4\ng1 call 3 64 l0 nil\ng1 call 2 G1.2@3\n"), "{text}");
    assert!(text.contains("\ng1 alloc l1.0.1 b1007 16 2 make-slice stack\n"), "{text}");
    assert!(text.contains("\ng1 ret l0.1@0 l2.3\ng1 ret\ng1 go g2 2 l3\ng1 go g3 1 8\n"), "{text}");
}

#[test]
fn binary_is_smaller_than_text() {
    let trace = every_op_trace();
    assert!(to_binary(&trace).len() * 2 < to_text(&trace).len());
}

#[test]
fn streaming_writers_number_blocks_by_index() {
    let mut trace = every_op_trace();
    trace.block_names = (0..trace.block_names.len() as u64).collect();
    let mut text = TextWriter::new(Vec::new(), trace.globals).unwrap();
    let mut binary = BinaryWriter::new(Vec::new(), trace.globals).unwrap();
    for e in &trace.events {
        text.write_event(e).unwrap();
        binary.write_event(e).unwrap();
    }
    let text = String::from_utf8(text.finish().unwrap()).unwrap();
    let binary = binary.finish().unwrap();
    assert_eq!(text, to_text(&trace));
    assert_eq!(binary, to_binary(&trace));
    assert_same_content(&trace, &parse_text(&text, "s.gct").unwrap());
    assert_same_content(&trace, &read_binary(&binary[..], "s.gctb").unwrap());
}

#[test]
fn a_trace_without_block_names_is_written_with_indices() {
    let mut trace = every_op_trace();
    trace.block_names.clear();
    let back = parse_text(&to_text(&trace), "n.gct").unwrap();
    assert_eq!(back.block_names, (0..15).collect::<Vec<u64>>());
}

// ---------------------------------------------------------------------------
// Random traces
// ---------------------------------------------------------------------------

fn arb_u32() -> impl Strategy<Value = u32> {
    prop_oneof![6 => 0u32..8, 1 => any::<u32>()]
}

fn arb_loc() -> impl Strategy<Value = Loc> {
    (any::<bool>(), arb_u32(), prop::collection::vec(arb_u32(), 0..4)).prop_map(|(global, k, path)| Loc {
        root: if global { Root::Global(k) } else { Root::Local(k) },
        path: path.into_iter().collect(),
    })
}

fn arb_src() -> impl Strategy<Value = Src> {
    prop_oneof![
        1 => Just(Src::Nil),
        3 => arb_loc().prop_map(Src::Loc),
        1 => (arb_loc(), arb_u32()).prop_map(|(l, k)| Src::Interior(l, k)),
    ]
}

fn arb_goroutine() -> impl Strategy<Value = GoroutineId> {
    prop_oneof![8 => 1u32..5, 1 => 1u32..=u32::MAX].prop_map(GoroutineId)
}

/// `locals`, `frame_bytes` and `args` obeying the frame rules.
fn arb_frame() -> impl Strategy<Value = (u32, Option<u64>, Vec<Src>)> {
    (0u32..6, prop::option::of(prop_oneof![0u64..64, Just(u64::MAX)]), 0usize..7).prop_flat_map(
        |(locals, extra, nargs)| {
            let bytes = extra.map(|x| (8 * u64::from(locals)).saturating_add(x));
            (Just(locals), Just(bytes), prop::collection::vec(arb_src(), nargs.min(locals as usize)))
        },
    )
}

fn arb_tag() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9_./:-]{1,12}", "[^\\s#]{1,4}"]
}

/// Any syntactically valid op; `Alloc`'s block is filled in afterwards.
fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        arb_frame().prop_map(|(locals, frame_bytes, args)| Op::Call { locals, frame_bytes, args: args.into() }),
        prop::option::of((arb_src(), arb_loc())).prop_map(|copy| Op::Ret { copy }),
        (arb_loc(), 0u32..6, prop_oneof![0u64..100, Just(u64::MAX / 16)], 0..Cause::ALL.len(), 0usize..3).prop_map(
            |(dst, ptr_slots, extra, cause, placement)| Op::Alloc {
                dst,
                block: BlockIdx(0),
                size: (8 * u64::from(ptr_slots) + extra).max(1),
                ptr_slots,
                cause: Cause::ALL[cause],
                placement: [Placement::Heap, Placement::Stack, Placement::Auto][placement],
            }
        ),
        (arb_goroutine(), arb_frame()).prop_map(|(child, (locals, frame_bytes, args))| Op::Go {
            child,
            locals,
            frame_bytes,
            args: args.into()
        }),
        (arb_loc(), arb_src()).prop_map(|(dst, src)| Op::Set { dst, src }),
        prop_oneof![0u64..1000, any::<u64>()].prop_map(|ns| Op::Work { ns }),
        arb_tag().prop_map(|tag| Op::Begin { tag }),
        arb_tag().prop_map(|tag| Op::End { tag }),
        Just(Op::Exit),
        Just(Op::Gc),
    ]
}

/// splitmix64: a bijection on u64, so distinct inputs give distinct names.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn arb_trace() -> impl Strategy<Value = Trace> {
    (
        prop_oneof![0u32..4, 0..=workloads::model::MAX_GLOBALS],
        prop::collection::vec((arb_goroutine(), arb_op()), 0..80),
        0u8..3,
        any::<u64>(),
    )
        .prop_map(|(globals, ops, naming, seed)| {
            let mut block_names = Vec::new();
            let events = ops
                .into_iter()
                .map(|(g, mut op)| {
                    if let Op::Alloc { block, .. } = &mut op {
                        let i = block_names.len() as u64;
                        *block = BlockIdx(i as u32);
                        block_names.push(match naming {
                            0 => i,                                // dense, as generators write
                            1 => seed.wrapping_add(i),             // consecutive from anywhere (wrapping)
                            _ => splitmix64(seed.wrapping_add(i)), // scattered
                        });
                    }
                    Event { g, op }
                })
                .collect();
            Trace { globals, events, block_names, positions: vec![], source_name: None }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_traces_round_trip(trace in arb_trace()) {
        check_round_trips(&trace);
    }

    #[test]
    fn streaming_readers_build_the_same_trace(trace in arb_trace()) {
        let bytes = to_binary(&trace);
        let mut sink = MemorySink::new();
        read_binary_into(&bytes[..], "s.gctb", &mut sink).unwrap();
        let mut streamed = sink.into_trace();
        streamed.source_name = Some("s.gctb".into());
        prop_assert_eq!(&streamed, &parse_binary(&bytes, "s.gctb").unwrap());
        prop_assert_eq!(&read_binary(&bytes[..], "s.gctb").unwrap(), &streamed);
        let text = to_text(&trace);
        let mut sink = MemorySink::new();
        read_text_into(text.as_bytes(), "s.gct", &mut sink).unwrap();
        let mut streamed = sink.into_trace();
        streamed.source_name = Some("s.gct".into());
        prop_assert_eq!(&streamed, &parse_text(&text, "s.gct").unwrap());
    }

    #[test]
    fn corrupted_binary_streams_to_the_same_error(trace in arb_trace(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), cut in any::<prop::sample::Index>()) {
        let mut bytes = to_binary(&trace);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let whole = parse_binary(&bytes, "c.gctb").map_err(|e| e.to_string());
        let streamed = read_binary(&bytes[..], "c.gctb").map_err(|e| e.to_string());
        prop_assert_eq!(streamed, whole);
    }

    #[test]
    fn corrupted_binary_never_panics(trace in arb_trace(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = to_binary(&trace);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Err(e) = parse_binary(&bytes, "c.gctb") {
            prop_assert!(e.to_string().starts_with("c.gctb: byte offset "), "{}", e);
        }
    }

    #[test]
    fn corrupted_text_never_panics(trace in arb_trace(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = to_text(&trace).into_bytes();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Err(e) = read_text(&bytes[..], "c.gct") {
            prop_assert!(e.to_string().starts_with("c.gct: line "), "{}", e);
        }
    }
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

#[test]
fn format_from_extension() {
    assert_eq!(Format::from_path(Path::new("a/b.gct")), Some(Format::Text));
    assert_eq!(Format::from_path(Path::new("b.GCTB")), Some(Format::Binary));
    assert_eq!(Format::from_path(Path::new("b.txt")), None);
    assert_eq!(Format::from_path(Path::new("gct")), None);
}

#[test]
fn save_load_and_convert_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let trace = every_op_trace();
    let text_path = dir.path().join("t.gct");
    let binary_path = dir.path().join("t.gctb");
    file::save(&trace, &text_path).unwrap();
    assert!(std::fs::read_to_string(&text_path).unwrap().starts_with("gctrace 1\n"));
    file::convert(&text_path, &binary_path).unwrap();
    assert!(std::fs::read(&binary_path).unwrap().starts_with(b"GCTB"));
    let loaded = file::load(&binary_path).unwrap();
    assert_same_content(&trace, &loaded);
    assert_eq!(loaded.source_name.as_deref(), Some(binary_path.display().to_string().as_str()));
    assert!(matches!(loaded.positions[0], SourcePos::Offset(_)));
    // Only the two traces: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn unknown_extensions_are_sniffed_on_load_and_refused_on_save() {
    let dir = tempfile::tempdir().unwrap();
    let trace = every_op_trace();
    let as_binary = dir.path().join("trace.bin");
    std::fs::write(&as_binary, to_binary(&trace)).unwrap();
    assert_same_content(&trace, &file::load(&as_binary).unwrap());
    let as_text = dir.path().join("trace.txt");
    std::fs::write(&as_text, to_text(&trace)).unwrap();
    assert_same_content(&trace, &file::load(&as_text).unwrap());
    let tiny = dir.path().join("tiny");
    std::fs::write(&tiny, "gc").unwrap();
    let e = file::load(&tiny).unwrap_err().to_string();
    assert!(e.ends_with("tiny: line 1: expected header `gctrace 1`, found 'gc'"), "{e}");

    let e = file::save(&trace, &dir.path().join("out.json")).unwrap_err().to_string();
    assert!(e.contains("out.json: cannot tell the trace format from the extension (expected .gct"), "{e}");
    assert!(!dir.path().join("out.json").exists());
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gct");
    let e = file::load(&missing).unwrap_err();
    assert!(matches!(e, workloads::TraceError::Io { .. }));
    assert!(e.to_string().starts_with(&missing.display().to_string()), "{e}");
    let bad = dir.path().join("bad.gctb");
    std::fs::write(&bad, b"GCTB\x01\0\0\0\0").unwrap();
    let e = file::load(&bad).unwrap_err().to_string();
    assert_eq!(e, format!("{}: byte offset 9: file ends after 0 events without the trailer record (truncated? a complete trace ends with opcode 0x00 and the event count)", bad.display()));
}

#[test]
fn a_failed_save_keeps_the_old_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.gct");
    std::fs::write(&path, "old contents").unwrap();
    let mut bad = every_op_trace();
    bad.events.push(Event { g: GoroutineId(1), op: Op::Begin { tag: "has space".into() } });
    let e = file::save(&bad, &path).unwrap_err().to_string();
    assert!(e.contains("TAG 'has space' contains whitespace"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old contents");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Counts what a sink is told, checking the order of the calls.
#[derive(Default)]
struct CountingSink {
    starts: usize,
    ends: usize,
    events: usize,
    allocs: usize,
    /// `source` was called and its event has not come yet.
    pending: Option<SourcePos>,
    positions: Vec<SourcePos>,
    names: Vec<u64>,
}

impl EventSink for CountingSink {
    fn start(&mut self, _globals: u32) -> std::io::Result<()> {
        assert_eq!((self.starts, self.events, self.ends), (0, 0, 0), "start comes once, first");
        self.starts += 1;
        Ok(())
    }
    fn event(&mut self, e: &Event) -> std::io::Result<()> {
        assert_eq!(self.starts, 1, "events come after start");
        let pos = self.pending.take().expect("source comes just before each event");
        self.positions.push(pos);
        if let Op::Alloc { block, .. } = e.op {
            assert_eq!(block, BlockIdx(self.allocs as u32), "blocks are dense in order of allocation");
            self.allocs += 1;
        }
        self.events += 1;
        Ok(())
    }
    fn end(&mut self) -> std::io::Result<()> {
        assert!(self.pending.is_none());
        self.ends += 1;
        Ok(())
    }
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        assert!(self.pending.replace(pos).is_none(), "one source per event");
        self.names.extend(block_name);
    }
}

#[test]
fn load_into_streams_every_format_to_any_sink() {
    let dir = tempfile::tempdir().unwrap();
    let trace = every_op_trace();
    for name in ["t.gct", "t.gctb", "text.trace", "binary.trace"] {
        let path = dir.path().join(name);
        let contents = if name.starts_with('b') || name.ends_with("gctb") {
            to_binary(&trace)
        } else {
            to_text(&trace).into_bytes()
        };
        std::fs::write(&path, contents).unwrap();
        let loaded = file::load(&path).unwrap();
        assert_same_content(&trace, &loaded);
        let mut counting = CountingSink::default();
        file::load_into(&path, &mut counting).unwrap();
        assert_eq!((counting.starts, counting.ends, counting.events), (1, 1, trace.events.len()), "{name}");
        assert_eq!(counting.positions, loaded.positions, "{name}");
        assert_eq!(counting.names, loaded.block_names, "{name}");
        let mut memory = MemorySink::new();
        file::load_into(&path, &mut memory).unwrap();
        let mut streamed = memory.into_trace();
        streamed.source_name = Some(path.display().to_string());
        assert_eq!(streamed, loaded, "{name}");
    }
    // Errors are load's.
    let bad = dir.path().join("bad.gctb");
    std::fs::write(&bad, &to_binary(&trace)[..40]).unwrap();
    let mut counting = CountingSink::default();
    let e = file::load_into(&bad, &mut counting).unwrap_err().to_string();
    assert_eq!(e, file::load(&bad).unwrap_err().to_string());
    assert!(e.contains("truncated?"), "{e}");
    assert_eq!(counting.ends, 0);
}

#[test]
fn load_into_a_writer_sink_converts_without_a_trace_in_memory() {
    // Writer sinks name blocks by index: use a trace whose names are dense.
    let mut trace = every_op_trace();
    trace.block_names = (0..trace.block_names.len() as u64).collect();
    let dir = tempfile::tempdir().unwrap();
    let text_path = dir.path().join("dense.gct");
    file::save(&trace, &text_path).unwrap();
    let mut to_bin = BinarySink::new(Vec::new());
    file::load_into(&text_path, &mut to_bin).unwrap();
    let bytes = to_bin.into_inner().unwrap();
    assert_eq!(bytes, to_binary(&trace));
    let mut to_txt = TextSink::new(Vec::new());
    read_binary_into(&bytes[..], "dense.gctb", &mut to_txt).unwrap();
    assert_eq!(String::from_utf8(to_txt.into_inner().unwrap()).unwrap(), to_text(&trace));
}

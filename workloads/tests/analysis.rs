//! The whole-trace analyses, end to end: pass 1 (validation, escape analysis,
//! dependencies), the machine with placements, and the death-time oracle.
//!
//! - the seed example's placements, deaths and dependencies, as its comments
//!   and Go's escape analysis describe them;
//! - escape analysis, one rule per test;
//! - every error class of the machine, with its line;
//! - the oracle (Merlin's method) against brute force — reachability
//!   recomputed after every event — on random sound traces, and the
//!   soundness of the placements on the same traces;
//! - random unsound traces never make `analyze` panic (proptest);
//! - pass 1 fed in batches of the hand-off form, as the run layer feeds it,
//!   prepares what it prepares fed one event at a time, errors included.

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use workloads::analysis::machine::{Holder, Machine};
use workloads::analysis::oracle::{death_times, death_times_with, MIN_ALLOCS_BETWEEN_CHECKS};
use workloads::analysis::wire::{WireBatch, WireEncoder};
use workloads::analysis::{analyze, Analysis, Dep, HeapReason, Place, Preparer};
use workloads::builder::EventSink;
use workloads::model::{BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, SourcePos, Src, Trace};
use workloads::text::parse_text;

const SEED_EXAMPLE: &str = include_str!("../traces/seed-example.gct");

// ---------------------------------------------------------------------------
// Building traces in memory
// ---------------------------------------------------------------------------

fn ev(g: u32, op: Op) -> Event {
    Event { g: GoroutineId(g), op }
}

/// A trace named `t.gct` whose event i sits on line i + 1, with blocks named
/// `b1 ..= bN` (block `bN` is `BlockIdx(N - 1)`).
fn trace(globals: u32, events: Vec<Event>) -> Trace {
    let nblocks = events
        .iter()
        .filter_map(|e| match &e.op {
            Op::Alloc { block, .. } => Some(block.0 + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    Trace {
        globals,
        positions: (0..events.len()).map(|i| SourcePos::Line(i as u64 + 1)).collect(),
        events,
        block_names: (1..=nblocks as u64).collect(),
        source_name: Some("t.gct".to_string()),
    }
}

fn l(k: u32) -> Loc {
    Loc::local(k)
}
fn gl(k: u32) -> Loc {
    Loc::global(k)
}
fn s(loc: Loc) -> Src {
    Src::Loc(loc)
}
fn call(locals: u32, args: Vec<Src>) -> Op {
    Op::Call { locals, frame_bytes: None, args: args.into() }
}
fn ret() -> Op {
    Op::Ret { copy: None }
}
fn ret_copy(src: Src, dst: Loc) -> Op {
    Op::Ret { copy: Some((src, dst)) }
}
fn go(child: u32, locals: u32, args: Vec<Src>) -> Op {
    Op::Go { child: GoroutineId(child), locals, frame_bytes: None, args: args.into() }
}
fn set(dst: Loc, src: Src) -> Op {
    Op::Set { dst, src }
}
/// `alloc DST bN SIZE SLOTS CAUSE PLACEMENT`.
fn alloc_c(dst: Loc, n: u32, size: u64, ptr_slots: u32, cause: Cause, placement: Placement) -> Op {
    Op::Alloc { dst, block: BlockIdx(n - 1), size, ptr_slots, cause, placement }
}
/// `alloc DST bN SIZE SLOTS new auto`.
fn alloc(dst: Loc, n: u32, size: u64, ptr_slots: u32) -> Op {
    alloc_c(dst, n, size, ptr_slots, Cause::New, Placement::Auto)
}
fn b(n: u32) -> usize {
    n as usize - 1
}

fn err(t: &Trace) -> String {
    match analyze(t) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn ok(t: &Trace) -> Analysis {
    analyze(t).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

// ---------------------------------------------------------------------------
// The seed example
// ---------------------------------------------------------------------------

fn seed() -> (Trace, Analysis) {
    let t = parse_text(SEED_EXAMPLE, "seed-example.gct").expect("the seed example parses");
    let a = ok(&t);
    (t, a)
}

/// The event on line `line` of the seed example.
fn seed_event(t: &Trace, line: u64) -> usize {
    t.positions.iter().position(|p| *p == SourcePos::Line(line)).expect("an event on that line")
}

/// The index of the event on the line of the seed example whose text starts
/// with `text`.
fn seed_line(t: &Trace, text: &str) -> usize {
    let line = SEED_EXAMPLE.lines().position(|s| s.starts_with(text)).unwrap_or_else(|| panic!("no line {text:?}"));
    seed_event(t, line as u64 + 1)
}

fn seed_block(t: &Trace, name: u64) -> usize {
    t.block_names.iter().position(|&n| n == name).expect("block name")
}

#[test]
fn seed_example_puts_done_closure_x_y_on_the_heap_and_z_on_the_stack() {
    let (t, a) = seed();
    let p = a.placements(false);
    for (name, want) in [(1, Place::Heap), (2, Place::Heap), (3, Place::Heap), (4, Place::Heap), (5, Place::Stack)] {
        assert_eq!(p[seed_block(&t, name)], want, "b{name}");
    }
    // The closure escapes by being handed to g2; done through the closure;
    // x and y through the global.
    let go_ev = seed_line(&t, "g1 go g2") as u32;
    assert_eq!(a.blocks[seed_block(&t, 2)].heap_reason(), Some(HeapReason::Escapes { event: go_ev, via: None }));
    let capture = seed_line(&t, "g1 set l1.1 l0") as u32;
    assert_eq!(
        a.blocks[seed_block(&t, 1)].heap_reason(),
        Some(HeapReason::Escapes { event: capture, via: Some(BlockIdx(seed_block(&t, 2) as u32)) })
    );
    let p_x = seed_line(&t, "g2 set G0 l1") as u32;
    assert_eq!(a.blocks[seed_block(&t, 3)].heap_reason(), Some(HeapReason::Escapes { event: p_x, via: None }));
    assert!(a.placements(true).iter().all(|&p| p == Place::Heap), "--no-stack puts everything on the heap");
}

#[test]
fn seed_example_death_times_follow_its_comments() {
    let (t, a) = seed();
    let p = a.placements(false);
    let d = death_times(&a, p);
    let at = |text| Some(seed_line(&t, text) as u32);
    assert_eq!(d.death[seed_block(&t, 3)], at("g2 set G0 l2"), "x dies when p = &y");
    assert_eq!(d.death[seed_block(&t, 4)], at("g2 set G0 nil"), "y dies when p = nil");
    assert_eq!(d.death[seed_block(&t, 2)], at("g2 exit"), "the closure dies with g2");
    assert_eq!(d.death[seed_block(&t, 5)], at("g2 exit"), "z goes with g2's stack");
    assert_eq!(d.death[seed_block(&t, 1)], at("g1 set l0 nil"), "done dies when main drops it");
    assert_eq!((d.heap_blocks, d.stack_blocks), (4, 1));
    assert_eq!((d.heap_bytes, d.stack_bytes), (96 + 16 + 8 + 8, 8));
    // done, the closure, x and y are all live from y's allocation until x
    // dies: the peak is all four.
    assert_eq!(d.peak_live_heap_bytes, 96 + 16 + 8 + 8);
    assert_eq!(d.peak_live_heap_event, seed_line(&t, "g2 alloc l2 b4") as u32);
}

#[test]
fn seed_example_receive_depends_on_the_send() {
    let (t, a) = seed();
    let send = seed_line(&t, "g2 set l0.1.0 nil");
    let recv = seed_line(&t, "g1 set l2 l0.0");
    let g2 = a.goroutine_of(send);
    assert_eq!(g2, 1);
    assert!(a.deps_of(recv).contains(&Dep { goroutine: g2, seq: a.seq_of(send) }), "{:?}", a.deps_of(recv));
    assert!(a.is_dep_target(send));
    // The send reads the closure's slot 1, written by main's capture before
    // the `go`: the go orders it, so no dependency is recorded.
    assert!(seed_line(&t, "g1 set l1.1 l0") < seed_line(&t, "g1 go g2"));
    assert_eq!(a.deps_of(send), &[]);
    // Dereferences in evaluation order: the send follows l0 (closure) then
    // slot 1 (done).
    assert_eq!(a.derefs_of(send), &[BlockIdx(seed_block(&t, 2) as u32), BlockIdx(seed_block(&t, 1) as u32)]);
    // Goroutine bookkeeping.
    assert_eq!(a.goroutines.len(), 2);
    assert_eq!(a.goroutines[1].id, GoroutineId(2));
    assert_eq!(a.goroutines[1].spawned_at, Some(seed_line(&t, "g1 go g2") as u32));
    for (k, g) in a.goroutines.iter().enumerate() {
        assert_eq!(g.events as usize, a.event_index()[k].len());
        for (s, &e) in a.event_index()[k].iter().enumerate() {
            assert_eq!((a.goroutine_of(e as usize), a.seq_of(e as usize)), (k as u32, s as u32));
        }
    }
}

#[test]
fn seed_example_machine_explains_paths_and_kills_z_at_exit() {
    let (t, a) = seed();
    let p = a.placements(false);
    let mut m = Machine::new(&a, p);
    let p_x = seed_line(&t, "g2 set G0 l1");
    for i in 0..=p_x {
        m.apply(i);
    }
    assert_eq!(m.applied(), p_x + 1);
    assert_eq!(m.explain_path(BlockIdx(seed_block(&t, 3) as u32)).as_deref(), Some("G0 -> b3"));
    assert_eq!(
        m.explain_path(BlockIdx(seed_block(&t, 1) as u32)).as_deref(),
        Some("g1 frame 1 l0 -> b1"),
        "done is reached from main's local first"
    );
    let z = BlockIdx(seed_block(&t, 5) as u32);
    assert!(m.is_live_stack_block(z) && m.allocated(z) && m.reachable()[z.0 as usize]);
    assert_eq!(m.explain_path(z).as_deref(), Some("g2's stack: b5"));
    for i in p_x + 1..=seed_line(&t, "g2 exit") {
        m.apply(i);
    }
    assert!(!m.is_live_stack_block(z) && !m.allocated(z) && !m.reachable()[z.0 as usize]);
    assert_eq!(m.explain_path(z), None);
}

// ---------------------------------------------------------------------------
// Escape analysis
// ---------------------------------------------------------------------------

fn places(t: &Trace) -> Vec<Place> {
    ok(t).placements(false).to_vec()
}

#[test]
fn passing_a_pointer_down_does_not_escape() {
    let t = trace(
        0,
        vec![
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 16, 2)),
            ev(1, call(2, vec![s(l(0)), s(l(0))])), // the callee gets b1 twice
            ev(1, set(l(1), s(l(0).slot(0)))),
            ev(1, set(l(0).slot(1), s(l(1)))),
            ev(1, ret()),
            ev(1, ret()),
        ],
    );
    assert_eq!(places(&t), vec![Place::Stack]);
}

#[test]
fn returning_a_pointer_upward_escapes() {
    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, call(1, vec![])),
            ev(1, alloc(l(0), 1, 8, 0)),
            ev(1, alloc(l(0), 2, 8, 0)), // b1 dropped before the ret: stays
            ev(1, ret_copy(s(l(0)), l(0))),
        ],
    );
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Stack, Place::Heap]);
    assert_eq!(a.blocks[b(2)].heap_reason(), Some(HeapReason::Escapes { event: 4, via: None }));
}

#[test]
fn returning_a_callers_block_does_not_escape() {
    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc(l(0), 1, 8, 0)),
            ev(1, call(1, vec![s(l(0))])),
            ev(1, ret_copy(s(l(0)), l(0))),
        ],
    );
    assert_eq!(places(&t), vec![Place::Stack]);
}

#[test]
fn storing_into_an_older_frames_stack_block_escapes() {
    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc(l(0), 1, 8, 1)),
            ev(1, call(2, vec![s(l(0))])),
            ev(1, alloc(l(1), 2, 8, 0)),
            ev(1, set(l(0).slot(0), s(l(1)))),
            ev(1, ret()),
        ],
    );
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Stack, Place::Heap]);
    assert_eq!(a.blocks[b(2)].heap_reason(), Some(HeapReason::Escapes { event: 4, via: None }));
}

#[test]
fn storing_into_a_same_frame_stack_block_does_not_escape() {
    let t = trace(
        1,
        vec![
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 8, 1)),
            ev(1, alloc(l(1), 2, 8, 0)),
            ev(1, set(l(0).slot(0), s(l(1)))),
            ev(1, ret()),
        ],
    );
    assert_eq!(places(&t), vec![Place::Stack, Place::Stack]);
}

#[test]
fn a_block_stored_into_a_block_that_later_escapes_escapes_too() {
    let t = trace(
        1,
        vec![
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 8, 1)),
            ev(1, alloc(l(1), 2, 8, 1)),
            ev(1, alloc(l(1).slot(0), 3, 8, 0)), // b2 -> b3
            ev(1, set(l(0).slot(0), s(l(1)))),   // b1 -> b2
            ev(1, set(gl(0), s(l(0)))),          // b1 escapes: b2 and b3 follow
            ev(1, ret()),
        ],
    );
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Heap; 3]);
    assert_eq!(a.blocks[b(1)].heap_reason(), Some(HeapReason::Escapes { event: 5, via: None }));
    assert_eq!(a.blocks[b(2)].heap_reason(), Some(HeapReason::Escapes { event: 4, via: Some(BlockIdx(0)) }));
    assert_eq!(a.blocks[b(3)].heap_reason(), Some(HeapReason::Escapes { event: 3, via: Some(BlockIdx(1)) }));
}

#[test]
fn the_earliest_escape_is_the_reason() {
    // b2 is stored into b1 (which escapes late) and later into G0 directly:
    // the global store comes first in time, so it is the reason.
    let t = trace(
        1,
        vec![
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 8, 1)),
            ev(1, alloc(l(0).slot(0), 2, 8, 0)),
            ev(1, set(l(1), s(l(0).slot(0)))),
            ev(1, set(gl(0), s(l(1)))),     // b2 escapes directly at 4
            ev(1, go(2, 1, vec![s(l(0))])), // b1 escapes at 5
        ],
    );
    let a = ok(&t);
    assert_eq!(a.blocks[b(2)].heap_reason(), Some(HeapReason::Escapes { event: 4, via: None }));
    assert_eq!(a.blocks[b(1)].heap_reason(), Some(HeapReason::Escapes { event: 5, via: None }));
}

#[test]
fn go_arguments_escape() {
    let t = trace(
        0,
        vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 8, 0)), ev(1, go(2, 1, vec![s(l(0))])), ev(2, exit())],
    );
    let a = ok(&t);
    assert_eq!(a.blocks[b(1)].heap_reason(), Some(HeapReason::Escapes { event: 2, via: None }));
}

fn exit() -> Op {
    Op::Exit
}

#[test]
fn storing_into_another_goroutines_block_escapes() {
    // g2 allocates b2 on its stack and stores it into b1, main's heap block.
    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc_c(l(0), 1, 8, 1, Cause::New, Placement::Heap)),
            ev(1, go(2, 2, vec![s(l(0))])),
            ev(2, alloc(l(1), 2, 8, 0)),
            ev(2, set(l(0).slot(0), s(l(1)))),
        ],
    );
    let a = ok(&t);
    assert_eq!(a.blocks[b(1)].heap_reason(), Some(HeapReason::Requested));
    assert_eq!(a.blocks[b(2)].heap_reason(), Some(HeapReason::Escapes { event: 4, via: None }));
}

#[test]
fn oversize_blocks_go_to_the_heap_by_cause() {
    let t = trace(
        0,
        vec![
            ev(1, call(3, vec![])),
            ev(1, alloc_c(l(0), 1, 70_000, 0, Cause::New, Placement::Auto)),
            ev(1, alloc_c(l(1), 2, 70_000, 0, Cause::Var, Placement::Auto)),
            ev(1, alloc_c(l(2), 3, 140_000, 0, Cause::Var, Placement::Auto)),
            ev(1, alloc_c(l(2), 4, 65_536, 0, Cause::MakeSlice, Placement::Auto)),
        ],
    );
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Heap, Place::Stack, Place::Heap, Place::Stack]);
    assert_eq!(a.blocks[b(1)].heap_reason(), Some(HeapReason::TooLarge { limit: 65_536 }));
    assert_eq!(a.blocks[b(3)].heap_reason(), Some(HeapReason::TooLarge { limit: 131_072 }));
}

#[test]
fn allocating_with_no_frame_puts_the_block_on_the_heap() {
    let t = trace(1, vec![ev(1, alloc(gl(0), 1, 8, 0))]);
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Heap]);
    assert!(matches!(a.blocks[0].heap_reason(), Some(HeapReason::Escapes { event: 0, .. })));
}

#[test]
fn no_stack_puts_every_block_on_the_heap() {
    let t = trace(0, vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 8, 0))]);
    let a = ok(&t);
    assert_eq!(a.placements(false), vec![Place::Stack]);
    assert_eq!(a.placements(true), vec![Place::Heap]);
}

#[test]
fn an_explicit_stack_block_that_escapes_is_an_error_naming_the_store() {
    let t = trace(
        1,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc_c(l(0), 1, 8, 0, Cause::New, Placement::Stack)),
            ev(1, set(gl(0), s(l(0)))),
        ],
    );
    assert_eq!(err(&t), "t.gct: line 3: stack block b1 (allocated at line 2) escapes: stored into global G0 at line 3");

    let t = trace(
        1,
        vec![
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 8, 1)),
            ev(1, alloc_c(l(1), 2, 8, 0, Cause::Var, Placement::Stack)),
            ev(1, set(l(0).slot(0), s(l(1)))),
            ev(1, go(2, 1, vec![s(l(0))])),
        ],
    );
    assert_eq!(
        err(&t),
        "t.gct: line 4: stack block b2 (allocated at line 3) escapes: stored into b1, which escapes, at line 4"
    );

    let t = trace(0, vec![ev(1, call(1, vec![])), ev(1, alloc_c(l(0), 1, 70_000, 0, Cause::New, Placement::Stack))]);
    assert_eq!(
        err(&t),
        "t.gct: line 2: stack block b1 is 70000 bytes, over Go's 65536-byte limit for stack objects of cause new"
    );

    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, call(1, vec![])),
            ev(1, alloc_c(l(0), 1, 8, 0, Cause::New, Placement::Stack)),
            ev(1, ret_copy(s(l(0)), l(0))),
        ],
    );
    assert_eq!(
        err(&t),
        "t.gct: line 4: stack block b1 (allocated at line 3) escapes: returned into an older frame at line 4"
    );
}

#[test]
fn a_stack_escape_before_an_unsound_event_is_the_error() {
    let t = trace(
        1,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc_c(l(0), 1, 8, 0, Cause::New, Placement::Stack)),
            ev(1, set(gl(0), s(l(0)))),
            ev(1, set(l(0).slot(0), Src::Nil)), // slot out of range, but later
        ],
    );
    assert!(err(&t).starts_with("t.gct: line 3: stack block b1"), "{}", err(&t));
}

// ---------------------------------------------------------------------------
// Errors of the machine
// ---------------------------------------------------------------------------

#[test]
fn every_unsound_event_is_an_error_with_its_line() {
    let cases: Vec<(u32, Vec<Event>, &str)> = vec![
        (
            0,
            vec![ev(1, call(3, vec![])), ev(1, set(l(0).slot(1), Src::Nil))],
            "t.gct: line 2: nil dereference: l0 is nil",
        ),
        (
            0,
            vec![ev(1, call(3, vec![])), ev(1, alloc(l(0), 1, 16, 1)), ev(1, set(l(1), s(l(0).slot(0).slot(2))))],
            "t.gct: line 3: nil dereference: l0.0 is nil",
        ),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 32, 4)), ev(1, set(l(0).slot(5), Src::Nil))],
            "t.gct: line 3: slot 5 out of range: b1 has 4 pointer slots (l0.5)",
        ),
        (
            0,
            vec![
                ev(1, call(1, vec![])),
                ev(1, alloc(l(0), 1, 32, 4)),
                ev(1, set(l(0), Src::Interior(l(0), 2))),
                ev(1, set(l(0).slot(2), Src::Nil)),
            ],
            "t.gct: line 4: slot 4 out of range: b1 has 4 pointer slots (l0.2)",
        ),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 16, 0)), ev(1, set(l(0), Src::Interior(l(0), 2)))],
            "t.gct: line 3: interior pointer l0@2 out of its block: slot 2 starts at byte 16, but b1 is 16 bytes",
        ),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, set(l(0), Src::Interior(l(0), 0)))],
            "t.gct: line 2: interior pointer l0@0 from nil: l0 is nil",
        ),
        (
            0,
            vec![ev(1, call(2, vec![])), ev(1, set(l(2), Src::Nil))],
            "t.gct: line 2: local l2 out of range: the frame has 2 locals",
        ),
        (1, vec![ev(1, set(gl(1), Src::Nil))], "t.gct: line 1: global G1 out of range: the trace declares 1 globals"),
        (0, vec![ev(1, set(l(0), Src::Nil))], "t.gct: line 1: local l0, but g1 has no frame"),
        (0, vec![ev(1, ret())], "t.gct: line 1: ret with no frame"),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, ret_copy(s(l(0)), l(0)))],
            "t.gct: line 2: ret copies into l0, but g1 has no caller frame",
        ),
        (0, vec![ev(2, Op::Gc)], "t.gct: line 1: unknown goroutine g2"),
        (
            0,
            vec![ev(1, go(2, 0, vec![])), ev(2, exit()), ev(2, Op::Work { ns: 1 })],
            "t.gct: line 3: goroutine g2 has exited",
        ),
        (0, vec![ev(1, go(2, 0, vec![])), ev(1, go(2, 0, vec![]))], "t.gct: line 2: goroutine g2 already exists"),
        (0, vec![ev(1, go(1, 0, vec![]))], "t.gct: line 1: goroutine g1 already exists"),
        (0, vec![ev(1, go(0, 0, vec![]))], "t.gct: line 1: goroutine g0 does not exist: goroutine ids start at g1"),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 0, 0))],
            "t.gct: line 2: block b1 has size 0 (SIZE must be at least 1)",
        ),
        (0, vec![ev(1, Op::End { tag: "req".into() })], "t.gct: line 1: end req without a matching begin"),
        (
            0,
            vec![ev(1, Op::Begin { tag: "req".into() }), ev(1, go(2, 0, vec![])), ev(2, Op::End { tag: "req".into() })],
            "t.gct: line 3: end req without a matching begin",
        ),
        (
            0,
            vec![ev(1, call(2, vec![])), ev(1, alloc(l(0), 1, 8, 0)), ev(1, alloc(l(1), 1, 8, 0))],
            "t.gct: line 3: block b1 is allocated twice (first at line 2)",
        ),
        (
            0,
            vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 8, 2))],
            "t.gct: line 2: block b1 is 8 bytes, too small for 2 pointer slots",
        ),
        (0, vec![ev(1, call(2, vec![s(l(0))]))], "t.gct: line 1: local l0, but g1 has no frame"),
        (
            0,
            vec![ev(1, call(1, vec![Src::Nil, Src::Nil]))],
            "t.gct: line 1: call passes 2 arguments to a frame of 1 locals",
        ),
        (
            0,
            vec![ev(1, Op::Call { locals: 3, frame_bytes: Some(16), args: workloads::Args::new() })],
            "t.gct: line 1: call frame of 16 bytes is too small for its 3 locals (24 bytes)",
        ),
        (
            0,
            vec![ev(1, Op::Call { locals: 1, frame_bytes: Some(1_000_000_008), args: workloads::Args::new() })],
            "t.gct: line 1: call frame of 1000000008 bytes is over Go's 1000000000-byte stack limit (maxstacksize)",
        ),
    ];
    for (globals, events, want) in cases {
        let t = trace(globals, events);
        assert_eq!(err(&t), want);
        for every in [1, 2] {
            match prepare_in_batches(&t, every) {
                Ok(_) => panic!("expected an error in batches of {every}"),
                Err(e) => assert_eq!(e.to_string(), want, "in batches of {every}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Pass 1 fed in batches (the hand-off form)
// ---------------------------------------------------------------------------

/// `t` streamed into pass 1 as the run layer streams a parsed file: every
/// event with its position (and its block's name) encoded into the hand-off
/// form, a batch handed over every `every` events.
fn prepare_in_batches(t: &Trace, every: usize) -> workloads::Result<Analysis> {
    let mut w = WireEncoder::new();
    let mut p = Preparer::new(t.file());
    w.start(t.globals).unwrap();
    let mut spare = WireBatch::default();
    for (i, e) in t.events.iter().enumerate() {
        let name = match &e.op {
            Op::Alloc { block, .. } => t.block_names.get(block.0 as usize).copied(),
            _ => None,
        };
        w.source(t.positions[i], name);
        w.event(e).unwrap();
        if w.batch().events() == every {
            let batch = w.take_batch(spare);
            p.feed(&batch);
            spare = batch;
        }
    }
    p.feed(&w.take_batch(spare));
    p.finish()
}

/// Everything pass 1 produced, compared part by part.
fn assert_same_preparation(a: &Analysis, b: &Analysis) {
    assert_eq!(a.programs.len(), b.programs.len());
    for (x, y) in a.programs.iter().zip(&b.programs) {
        assert_eq!((&x.code, &x.derefs, x.steps), (&y.code, &y.derefs, y.steps));
    }
    assert_eq!(a.order().collect::<Vec<_>>(), b.order().collect::<Vec<_>>());
    assert_eq!((&a.tags, a.events_by_kind, a.peak_goroutines), (&b.tags, b.events_by_kind, b.peak_goroutines));
    let blocks = |t: &Analysis| -> Vec<_> {
        t.blocks.iter().map(|b| (b.size, b.alloc_event, b.ptr_slots, b.heap_reason(), b.cause, b.requested)).collect()
    };
    assert_eq!(blocks(a), blocks(b));
    let gors = |t: &Analysis| -> Vec<_> { t.goroutines.iter().map(|g| (g.id, g.events, g.spawned_at)).collect() };
    assert_eq!(gors(a), gors(b));
    for i in 0..a.events() {
        assert_eq!(a.pos(i), b.pos(i));
    }
    for k in 0..a.blocks.len() as u32 {
        assert_eq!(a.block_name(BlockIdx(k)), b.block_name(BlockIdx(k)));
    }
}

#[test]
fn batches_of_any_size_prepare_what_events_one_by_one_prepare() {
    // The stress generator: 8 goroutines, shared blocks (dependencies),
    // spans, every op; its blocks renamed so that names differ from
    // indices, and its events given lines.
    let w = workloads::generate::find("random").unwrap();
    let mut params = w.defaults(7);
    params.set_pair(w.params, "events=20000").unwrap();
    let mut t = workloads::generate::generate_trace("random", &params).unwrap().unwrap();
    t.block_names = (0..t.block_names.len() as u64).map(|b| b * 3 + 7).collect();
    t.positions = (0..t.events.len() as u64).map(|i| SourcePos::Line(2 * i + 3)).collect();
    t.source_name = Some("r.gct".to_string());
    assert!(t.events.iter().any(|e| matches!(e.op, Op::Begin { .. })), "the trace has spans");
    let one_by_one = ok(&t);
    assert!(one_by_one.dep_count() > 0, "the trace has dependencies");
    for every in [1, 3, 4096, t.events.len() + 1] {
        let batched = prepare_in_batches(&t, every).unwrap_or_else(|e| panic!("batches of {every}: {e}"));
        assert_same_preparation(&one_by_one, &batched);
    }
}

#[test]
fn a_tag_first_used_in_an_earlier_batch_is_named_in_a_later_batchs_error() {
    let t = trace(
        0,
        vec![
            ev(1, Op::Begin { tag: "a".into() }),
            ev(1, Op::Begin { tag: "b".into() }),
            ev(1, Op::End { tag: "a".into() }),
            ev(1, Op::End { tag: "b".into() }),
            ev(1, Op::End { tag: "a".into() }),
        ],
    );
    let want = "t.gct: line 5: end a without a matching begin";
    assert_eq!(err(&t), want);
    for every in [1, 2, 4] {
        assert_eq!(prepare_in_batches(&t, every).err().map(|e| e.to_string()).as_deref(), Some(want));
    }
}

#[test]
fn a_renamed_block_is_named_in_a_later_batchs_error() {
    // b40 is allocated in the first batch and named by an error in the second.
    let mut t =
        trace(0, vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 32, 4)), ev(1, set(l(0).slot(5), Src::Nil))]);
    t.block_names = vec![40];
    let want = "t.gct: line 3: slot 5 out of range: b40 has 4 pointer slots (l0.5)";
    assert_eq!(err(&t), want);
    assert_eq!(prepare_in_batches(&t, 2).err().map(|e| e.to_string()).as_deref(), Some(want));
}

#[test]
fn a_stack_growing_past_gos_limit_is_a_program_that_dies_not_a_bad_trace() {
    // Two 600 MB frames: 1.2 GB of stack, over Go's 1,000,000,000 bytes. The
    // replay reports the overflow (and writes what it measured), so the
    // analysis accepts the trace.
    let big = Op::Call { locals: 1, frame_bytes: Some(600_000_000), args: workloads::Args::new() };
    ok(&trace(0, vec![ev(1, big.clone()), ev(1, big), ev(1, ret()), ev(1, ret())]));
}

#[test]
fn a_block_index_outside_the_table_is_an_error_not_a_panic() {
    let mut t = trace(0, vec![ev(1, call(1, vec![])), ev(1, alloc(l(0), 1, 8, 0))]);
    t.block_names.clear();
    assert_eq!(err(&t), "t.gct: line 2: block index 0 is not in the trace's block table (0 blocks)");
    let mut t = trace(0, vec![ev(1, call(1, vec![]))]);
    t.block_names.push(7);
    assert_eq!(err(&t), "t.gct: event 2: block b7 is named but never allocated");
}

#[test]
fn the_first_unsound_event_wins() {
    let t = trace(0, vec![ev(1, call(1, vec![])), ev(1, set(l(0).slot(0), Src::Nil)), ev(3, Op::Gc)]);
    assert_eq!(err(&t), "t.gct: line 2: nil dereference: l0 is nil");
}

#[test]
fn errors_from_parsed_text_name_the_file_and_line() {
    let text = "gctrace 1\nglobals 1\ng1 call 2\n# a comment\ng1 alloc l0 b7 16 2 new auto\ng1 set G0 l0.1.0\n";
    let t = parse_text(text, "x.gct").expect("parses");
    assert_eq!(err(&t), "x.gct: line 6: nil dereference: l0.1 is nil");
}

// ---------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------

#[test]
fn dependencies_follow_shared_cells_not_locals() {
    let t = trace(
        2,
        vec![
            ev(1, call(2, vec![])),                                      // 0  g1#0
            ev(1, alloc_c(l(0), 1, 16, 2, Cause::New, Placement::Heap)), // 1 g1#1
            ev(1, set(gl(0), s(l(0)))),                                  // 2  g1#2 writes G0
            ev(1, go(2, 2, vec![])),                                     // 3  g1#3
            ev(2, set(l(0), s(gl(0)))),                                  // 4  g2#0 reads G0 -> dep g1#2
            ev(2, set(l(1), s(l(0)))),                                   // 5  g2#1 locals only: no dep
            ev(1, set(gl(1), Src::Nil)),                                 // 6  g1#4 writes G1
            ev(1, set(l(1), s(gl(0)))), // 7  g1#5 reads G0: no dep (reads do not conflict)
            ev(2, set(l(0).slot(1), s(gl(1)))), // 8  g2#2 reads G1 (g1#4), G0... no: l0 is a local
            ev(1, set(l(0).slot(1), Src::Nil)), // 9  g1#6 writes b1.1 -> dep g2#2
            ev(2, set(l(0).slot(0), s(l(0).slot(1)))), // 10 g2#3 reads b1.1 (g1#6), writes b1.0
        ],
    );
    let a = ok(&t);
    let deps = |i: usize| a.deps_of(i).to_vec();
    assert_eq!(deps(4), vec![], "g1#2 precedes the first go, which orders it");
    assert_eq!(deps(5), vec![]);
    assert_eq!(deps(7), vec![], "a read after another goroutine's read");
    assert_eq!(deps(8), vec![Dep { goroutine: 0, seq: 4 }]);
    assert_eq!(deps(9), vec![Dep { goroutine: 1, seq: 2 }]);
    assert_eq!(deps(10), vec![Dep { goroutine: 0, seq: 6 }], "one dep per goroutine, the latest");
    assert_eq!(a.derefs_of(10), &[BlockIdx(0), BlockIdx(0)]);
    let targets: Vec<usize> = (0..t.events.len()).filter(|&i| a.is_dep_target(i)).collect();
    assert_eq!(targets, vec![6, 8, 9], "g2#0 only read G0: nobody waits for it");
    assert_eq!(a.events(), t.events.len());
}

// ---------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------

#[test]
fn stack_block_dies_with_its_frame_and_heap_block_when_unreachable() {
    let t = trace(
        1,
        vec![
            ev(1, call(1, vec![])),
            ev(1, call(2, vec![])),
            ev(1, alloc(l(0), 1, 16, 2)),        // stack
            ev(1, alloc(l(0).slot(1), 2, 8, 0)), // b2 hangs off b1...
            ev(1, set(gl(0), s(l(0).slot(1)))),  // ... and off G0: heap
            ev(1, set(l(1), Src::Interior(l(0), 1))),
            ev(1, ret()),                // 6: b1 dies
            ev(1, set(gl(0), Src::Nil)), // 7: b2 dies
        ],
    );
    let a = ok(&t);
    let p = a.placements(false);
    assert_eq!(p, vec![Place::Stack, Place::Heap]);
    let mut m = Machine::new(&a, p);
    for i in 0..6 {
        m.apply(i);
    }
    assert_eq!(m.explain_path(BlockIdx(1)).as_deref(), Some("G0 -> b2"));
    assert_eq!(m.reachable(), vec![true, true]);
    m.apply(6);
    assert_eq!(m.reachable(), vec![false, true]);
    assert!(!m.allocated(BlockIdx(0)) && m.allocated(BlockIdx(1)));
    m.apply(7);
    assert_eq!(m.reachable(), vec![false, false]);
    let d = death_times(&a, p);
    assert_eq!(d.death, vec![Some(6), Some(7)]);
    let d = death_times(&a, a.placements(true));
    assert_eq!(d.death, vec![Some(6), Some(7)], "as a heap block b1 dies when its last reference goes");
}

#[test]
fn explain_path_goes_through_slots() {
    let t = trace(
        1,
        vec![
            ev(1, alloc(gl(0), 1, 32, 4)),
            ev(1, alloc(gl(0).slot(2), 2, 16, 2)),
            ev(1, alloc(gl(0).slot(2).slot(1), 3, 8, 0)),
        ],
    );
    let a = ok(&t);
    let p = a.placements(false);
    let mut m = Machine::new(&a, p);
    (0..3).for_each(|i| m.apply(i));
    assert_eq!(m.explain_path(BlockIdx(2)).as_deref(), Some("G0 -> b1[slot 2] -> b2[slot 1] -> b3"));

    let t = trace(
        0,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc(l(0), 1, 16, 2)),
            ev(1, alloc_c(l(0).slot(1), 2, 8, 0, Cause::New, Placement::Heap)),
            ev(1, set(l(0), Src::Nil)),
        ],
    );
    let a = ok(&t);
    let p = a.placements(false);
    assert_eq!(p, vec![Place::Stack, Place::Heap]);
    let mut m = Machine::new(&a, p);
    (0..4).for_each(|i| m.apply(i));
    assert_eq!(m.explain_path(BlockIdx(1)).as_deref(), Some("g1's stack: b1[slot 1] -> b2"));
    assert_eq!(m.reachable(), vec![true, true], "a stack block is a root while its frame lives");
}

#[test]
fn a_cycle_dies_at_the_time_of_its_last_external_reference() {
    // b1 <-> b2, held by G0 via b1; a self-loop on b3 held by a local.
    let t = trace(
        1,
        vec![
            ev(1, call(1, vec![])),
            ev(1, alloc_c(gl(0), 1, 8, 1, Cause::New, Placement::Heap)),
            ev(1, alloc_c(gl(0).slot(0), 2, 8, 1, Cause::New, Placement::Heap)),
            ev(1, set(gl(0).slot(0).slot(0), s(gl(0)))),
            ev(1, alloc_c(l(0), 3, 8, 1, Cause::New, Placement::Heap)),
            ev(1, set(l(0).slot(0), s(l(0)))),
            ev(1, set(gl(0), Src::Nil)), // 6: b1, b2 die
            ev(1, Op::Work { ns: 5 }),
            ev(1, ret()), // 8: b3 dies with the frame's local
        ],
    );
    let a = ok(&t);
    let p = a.placements(false);
    for every in [0, 1, 1024] {
        let d = death_times_with(&a, p, every);
        assert_eq!(d.death, vec![Some(6), Some(6), Some(8)], "check schedule {every}");
        assert_eq!(d.peak_live_heap_bytes, 24);
        assert_eq!(d.peak_live_heap_event, 4);
    }
}

// ---------------------------------------------------------------------------
// Random sound traces: the oracle against brute force
// ---------------------------------------------------------------------------

/// A value in the generator's shadow state: block index and slot offset.
type V = Option<(usize, u32)>;

#[derive(Clone, Copy)]
enum ShadowCell {
    Global(usize),
    Local(usize),
    Slot(usize, usize),
}

struct GenGoroutine {
    id: u32,
    frames: Vec<Vec<V>>,
    exited: bool,
    spans: u32,
}

/// A small generator of random *sound* traces: it keeps a shadow of the
/// placement-agnostic machine and only emits events valid in it.
struct Gen {
    rng: ChaCha8Rng,
    globals: Vec<V>,
    gs: Vec<GenGoroutine>,
    /// Per block: size and slots.
    blocks: Vec<(u64, Vec<V>)>,
    events: Vec<Event>,
    max_goroutines: usize,
}

impl Gen {
    fn new(seed: u64, globals: usize, max_goroutines: usize) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            globals: vec![None; globals],
            gs: vec![GenGoroutine { id: 1, frames: Vec::new(), exited: false, spans: 0 }],
            blocks: Vec::new(),
            events: Vec::new(),
            max_goroutines,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    fn get(&self, g: usize, c: ShadowCell) -> V {
        match c {
            ShadowCell::Global(k) => self.globals[k],
            ShadowCell::Local(k) => self.gs[g].frames.last().unwrap()[k],
            ShadowCell::Slot(b, k) => self.blocks[b].1[k],
        }
    }

    fn put(&mut self, g: usize, c: ShadowCell, v: V) {
        match c {
            ShadowCell::Global(k) => self.globals[k] = v,
            ShadowCell::Local(k) => self.gs[g].frames.last_mut().unwrap()[k] = v,
            ShadowCell::Slot(b, k) => self.blocks[b].1[k] = v,
        }
    }

    /// A random valid location of goroutine `g`'s top frame, if any.
    fn loc(&mut self, g: usize) -> Option<(Loc, ShadowCell)> {
        let nlocals = self.gs[g].frames.last().map_or(0, |f| f.len());
        let nglobals = self.globals.len();
        let (mut loc, mut cell) = if nlocals > 0 && (nglobals == 0 || self.chance(0.75)) {
            let k = self.below(nlocals);
            (Loc::local(k as u32), ShadowCell::Local(k))
        } else if nglobals > 0 {
            let k = self.below(nglobals);
            (Loc::global(k as u32), ShadowCell::Global(k))
        } else {
            return None;
        };
        while loc.path.len() < 3 && self.chance(0.4) {
            let Some((b, off)) = self.get(g, cell) else {
                break;
            };
            let n = self.blocks[b].1.len();
            if off as usize >= n {
                break;
            }
            let k = self.below(n - off as usize);
            loc = loc.slot(k as u32);
            cell = ShadowCell::Slot(b, off as usize + k);
        }
        Some((loc, cell))
    }

    /// A random valid source for goroutine `g` and its value.
    fn src(&mut self, g: usize) -> (Src, V) {
        if self.chance(0.2) {
            return (Src::Nil, None);
        }
        let Some((loc, cell)) = self.loc(g) else {
            return (Src::Nil, None);
        };
        let v = self.get(g, cell);
        if let Some((b, off)) = v {
            if self.chance(0.2) {
                let last = ((self.blocks[b].0 - 1) / 8) as u32; // last slot index inside the block
                if last > off {
                    let k = self.rng.random_range(1..=last - off);
                    return (Src::Interior(loc, k), Some((b, off + k)));
                }
            }
        }
        (Src::Loc(loc), v)
    }

    fn emit(&mut self, g: usize, op: Op) {
        let id = self.gs[g].id;
        self.events.push(Event { g: GoroutineId(id), op });
    }

    /// One random event.
    fn step(&mut self) {
        let live: Vec<usize> = (0..self.gs.len()).filter(|&g| !self.gs[g].exited).collect();
        let g = live[self.below(live.len())];
        let depth = self.gs[g].frames.len();
        let r = self.below(100);
        if depth == 0 {
            if r < 70 || self.globals.is_empty() {
                let n = self.rng.random_range(1..=4u32);
                self.emit(g, call(n, vec![]));
                self.gs[g].frames.push(vec![None; n as usize]);
            } else if g != 0 && r < 80 && self.gs[g].spans == 0 {
                self.emit(g, Op::Exit);
                self.gs[g].exited = true;
            } else {
                self.alloc(g);
            }
            return;
        }
        match r {
            0..=29 => self.alloc(g),
            30..=61 => {
                let (src, v) = self.src(g);
                let (dst, cell) = self.loc(g).expect("a frame with locals or globals");
                self.emit(g, set(dst, src));
                self.put(g, cell, v);
            }
            62..=71 => {
                let n = self.rng.random_range(1..=4u32);
                let nargs = self.below(n as usize + 1);
                let (args, vals): (Vec<Src>, Vec<V>) = (0..nargs).map(|_| self.src(g)).unzip();
                let mut frame = vals;
                frame.resize(n as usize, None);
                self.emit(g, call(n, args));
                self.gs[g].frames.push(frame);
            }
            72..=83 => {
                // Main may return from its last frame; others keep their base frame.
                if depth >= 2 && self.chance(0.6) {
                    let (src, v) = self.src(g);
                    self.gs[g].frames.pop();
                    let (dst, cell) = self.loc(g).expect("caller frame has locals");
                    self.emit(g, ret_copy(src, dst));
                    self.put(g, cell, v);
                } else if depth >= 2 || g == 0 {
                    self.emit(g, ret());
                    self.gs[g].frames.pop();
                }
            }
            84..=87 => {
                if self.gs.len() < self.max_goroutines {
                    let n = self.rng.random_range(1..=3u32);
                    let nargs = self.below(n as usize + 1);
                    let (args, vals): (Vec<Src>, Vec<V>) = (0..nargs).map(|_| self.src(g)).unzip();
                    let id = self.gs.len() as u32 + 1;
                    let mut frame = vals;
                    frame.resize(n as usize, None);
                    self.emit(g, go(id, n, args));
                    self.gs.push(GenGoroutine { id, frames: vec![frame], exited: false, spans: 0 });
                }
            }
            88..=89 => {
                if g != 0 && self.gs[g].spans == 0 {
                    self.emit(g, Op::Exit);
                    self.gs[g].exited = true;
                    self.gs[g].frames.clear();
                }
            }
            90..=92 => {
                self.emit(g, Op::Begin { tag: "req".into() });
                self.gs[g].spans += 1;
            }
            93..=95 => {
                if self.gs[g].spans > 0 {
                    self.emit(g, Op::End { tag: "req".into() });
                    self.gs[g].spans -= 1;
                }
            }
            96 => self.emit(g, Op::Gc),
            _ => self.emit(g, Op::Work { ns: 10 }),
        }
    }

    fn alloc(&mut self, g: usize) {
        let Some((dst, cell)) = self.loc(g) else {
            return;
        };
        let size: u64 = if self.chance(0.01) { 70_000 } else { self.rng.random_range(1..=48u64) };
        let ptr_slots = self.rng.random_range(0..=(size / 8).min(4)) as u32;
        let placement = if self.chance(0.1) { Placement::Heap } else { Placement::Auto };
        let n = self.blocks.len() as u32 + 1;
        self.emit(g, alloc_c(dst, n, size, ptr_slots, Cause::New, placement));
        self.blocks.push((size, vec![None; ptr_slots as usize]));
        self.put(g, cell, Some((n as usize - 1, 0)));
    }

    fn trace(mut self, events: usize) -> Trace {
        while self.events.len() < events {
            self.step();
        }
        let globals = self.globals.len() as u32;
        trace(globals, self.events)
    }
}

fn random_sound_trace(seed: u64, events: usize) -> Trace {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let globals = rng.random_range(0..=3usize);
    let goroutines = rng.random_range(1..=5usize);
    Gen::new(seed, globals, goroutines).trace(events)
}

/// Death times by brute force: apply the events one by one and recompute
/// reachability after each. Also checks that the placements are sound at
/// every step.
fn brute_force(_t: &Trace, a: &Analysis, p: &[Place]) -> Vec<Option<u32>> {
    let n = a.blocks.len();
    let mut m = Machine::new(a, p);
    let mut death = vec![None; n];
    let mut seen = vec![false; n];
    for (i, derefs) in a.derefs_by_event().iter().enumerate() {
        for &d in derefs {
            assert!(m.allocated(d), "event {i} dereferences block {} which is not allocated", d.0);
        }
        m.apply(i);
        let r = m.reachable();
        for bk in 0..n {
            if a.blocks[bk].alloc_event as usize == i {
                seen[bk] = true;
            }
            if r[bk] {
                assert!(seen[bk], "block {bk} reachable before its allocation");
                assert!(death[bk].is_none(), "block {bk} resurrected at event {i}");
            } else if seen[bk] && death[bk].is_none() {
                death[bk] = Some(i as u32);
            }
        }
        m.visit_references(|h, target| {
            let tb = target.0 as usize;
            if p[tb] != Place::Stack {
                return;
            }
            let bad = match h {
                Holder::Global(_) => true,
                Holder::Slot { block, .. } => p[block.0 as usize] == Place::Heap,
                Holder::Local { goroutine, .. } => goroutine != a.block_goroutine(workloads::BlockIdx(tb as u32)),
            };
            assert!(!bad, "event {i}: stack block {tb} held by {h:?}");
            assert!(m.allocated(target), "event {i}: stack block {tb} outlives its frame, held by {h:?}");
        });
    }
    death
}

#[test]
fn oracle_matches_brute_force_on_random_sound_traces() {
    let mut stacks = 0;
    let mut heaps = 0;
    for seed in 0..300u64 {
        let t = random_sound_trace(seed, 250);
        let a = analyze(&t).unwrap_or_else(|e| panic!("seed {seed}: generated trace rejected: {e}"));
        for no_stack in [false, true] {
            let p = a.placements(no_stack);
            stacks += p.iter().filter(|&&x| x == Place::Stack).count();
            heaps += p.iter().filter(|&&x| x == Place::Heap).count();
            let want = brute_force(&t, &a, p);
            // The peak from a direct sweep over the brute-force deaths.
            let mut peak = 0;
            for i in 0..t.events.len() as u32 {
                let live: u64 = (0..p.len())
                    .filter(|&bk| {
                        p[bk] == Place::Heap && a.blocks[bk].alloc_event <= i && want[bk].is_none_or(|e| e > i)
                    })
                    .map(|bk| a.blocks[bk].size)
                    .sum();
                peak = peak.max(live);
            }
            for every in [0, 1, 7, 1024, MIN_ALLOCS_BETWEEN_CHECKS] {
                let d = death_times_with(&a, p, every);
                assert_eq!(d.death, want, "seed {seed}, no_stack {no_stack}, check schedule {every}");
                assert_eq!(d.peak_live_heap_bytes, peak, "seed {seed}, check schedule {every}");
            }
        }
    }
    assert!(stacks > 1000 && heaps > 1000, "the generator exercises both placements: {stacks} stack, {heaps} heap");
}

#[test]
fn oracle_matches_brute_force_on_the_workload_generator() {
    for seed in 0..4u64 {
        let cfg = workloads::generate::RandomConfig { seed, events: 1500, ..Default::default() };
        let t = workloads::generate::random_trace(&cfg);
        let a = analyze(&t).unwrap_or_else(|e| panic!("seed {seed}: generated trace rejected: {e}"));
        let p = a.placements(false);
        assert_eq!(death_times(&a, p).death, brute_force(&t, &a, p), "seed {seed}");
    }
}

/// Everything the state holds, independent of the machine's layout.
fn snapshot(m: &Machine<'_>) -> Vec<String> {
    let mut out = Vec::new();
    m.visit_references(|h, b| out.push(format!("{h:?} -> {}", b.0)));
    out.sort();
    out
}

/// Replays `t` in a random order that keeps each goroutine's order, starts
/// a goroutine only after its `go`, and keeps every dependency.
fn replay_shuffled(t: &Trace, a: &Analysis, p: &[Place], seed: u64) -> (Vec<String>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut m = Machine::new(a, p);
    let mut done = vec![false; t.events.len()];
    let mut next = vec![0usize; a.goroutines.len()];
    let deps = a.deps_by_event();
    let ready = |i: usize, done: &[bool], next: &[usize]| {
        let g = a.goroutine_of(i) as usize;
        let started = a.goroutines[g].spawned_at.is_none_or(|e| done[e as usize]);
        started && deps[i].iter().all(|d| next[d.goroutine as usize] > d.seq as usize)
    };
    for _ in 0..t.events.len() {
        let cands: Vec<usize> = (0..a.goroutines.len())
            .filter_map(|g| a.event_index()[g].get(next[g]).map(|&e| e as usize))
            .filter(|&i| ready(i, &done, &next))
            .collect();
        assert!(!cands.is_empty(), "the dependencies leave no runnable event");
        let i = cands[rng.random_range(0..cands.len())];
        m.apply(i);
        done[i] = true;
        next[a.goroutine_of(i) as usize] += 1;
    }
    (snapshot(&m), m.reachable())
}

#[test]
fn a_replay_in_any_order_that_keeps_the_dependencies_ends_in_the_same_state() {
    for seed in 0..200u64 {
        let t = random_sound_trace(seed, 250);
        let a = ok(&t);
        for no_stack in [false, true] {
            let p = a.placements(no_stack);
            let mut m = Machine::new(&a, p);
            (0..t.events.len()).for_each(|i| m.apply(i));
            let want = (snapshot(&m), m.reachable());
            for k in 0..3 {
                assert_eq!(replay_shuffled(&t, &a, p, seed * 10 + k), want, "seed {seed} schedule {k}");
            }
        }
    }
}

#[test]
fn generated_traces_have_cross_goroutine_dependencies() {
    let deps: usize = (0..20).map(|seed| ok(&random_sound_trace(seed, 500)).dep_count()).sum();
    assert!(deps > 50, "{deps}");
}

/// `cargo test --release -p gcwb-workloads --test analysis -- --ignored --nocapture speed`
#[test]
#[ignore]
fn speed_of_analyze_and_death_times_on_a_million_events() {
    for (name, t) in [
        ("test generator", Gen::new(42, 16, 64).trace(1_000_000)),
        ("workloads::generate", {
            let cfg = workloads::generate::RandomConfig { events: 1_000_000, ..Default::default() };
            workloads::generate::random_trace(&cfg)
        }),
    ] {
        let n = t.events.len() as f64;
        let t0 = std::time::Instant::now();
        let a = analyze(&t).expect("sound");
        let t1 = std::time::Instant::now();
        let p = a.placements(false);
        let d = death_times(&a, p);
        let t2 = std::time::Instant::now();
        let mut m = Machine::new(&a, p);
        for i in 0..t.events.len() {
            m.apply(i);
        }
        let t3 = std::time::Instant::now();
        let (a_s, d_s, m_s) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64(), (t3 - t2).as_secs_f64());
        println!(
            "{name}: {} events, {} blocks ({} heap), {} deps: analyze {:.3}s ({:.1} M ev/s), death_times {:.3}s \
             ({:.1} M ev/s), both {:.1} M ev/s; machine apply alone {:.3}s ({:.1} M ev/s)",
            t.events.len(),
            a.blocks.len(),
            d.heap_blocks,
            a.dep_count(),
            a_s,
            n / a_s / 1e6,
            d_s,
            n / d_s / 1e6,
            n / (a_s + d_s) / 1e6,
            m_s,
            n / m_s / 1e6
        );
    }
}

// ---------------------------------------------------------------------------
// Random unsound traces: never a panic
// ---------------------------------------------------------------------------

fn arb_loc() -> impl Strategy<Value = Loc> {
    (
        prop_oneof![(0u32..4).prop_map(Root::Local), (0u32..3).prop_map(Root::Global)],
        proptest::collection::vec(0u32..4, 0..3),
    )
        .prop_map(|(root, path)| Loc { root, path: path.into_iter().collect() })
}

fn arb_src() -> impl Strategy<Value = Src> {
    prop_oneof![
        Just(Src::Nil),
        arb_loc().prop_map(Src::Loc),
        (arb_loc(), 0u32..5).prop_map(|(l, k)| Src::Interior(l, k)),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    let bytes = prop_oneof![Just(None), (0u64..64).prop_map(Some)];
    let args = || proptest::collection::vec(arb_src(), 0..3);
    let size = prop_oneof![0u64..80, Just(70_000u64), Just(200_000u64)];
    let cause = prop_oneof![Just(Cause::New), Just(Cause::Var)];
    let placement = prop_oneof![Just(Placement::Auto), Just(Placement::Heap), Just(Placement::Stack)];
    let tag = prop_oneof![Just("a".to_string()), Just("b".to_string())];
    prop_oneof![
        4 => (0u32..5, bytes.clone(), args()).prop_map(|(locals, frame_bytes, args)| Op::Call { locals, frame_bytes, args: args.into() }),
        2 => proptest::option::of((arb_src(), arb_loc())).prop_map(|copy| Op::Ret { copy }),
        5 => (arb_loc(), 0u32..6, size, 0u32..5, cause, placement).prop_map(|(dst, b, size, ptr_slots, cause, placement)| {
            Op::Alloc { dst, block: BlockIdx(b), size, ptr_slots, cause, placement }
        }),
        2 => (1u32..5, 0u32..4, bytes, args()).prop_map(|(c, locals, frame_bytes, args)| Op::Go { child: GoroutineId(c), locals, frame_bytes, args: args.into() }),
        6 => (arb_loc(), arb_src()).prop_map(|(dst, src)| Op::Set { dst, src }),
        1 => Just(Op::Work { ns: 3 }),
        1 => tag.clone().prop_map(|tag| Op::Begin { tag }),
        1 => tag.prop_map(|tag| Op::End { tag }),
        1 => Just(Op::Exit),
        1 => Just(Op::Gc),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn analyze_never_panics_on_unsound_traces(
        globals in 0u32..3,
        start in any::<bool>(),
        events in proptest::collection::vec((1u32..5, arb_op()), 0..60),
        names in 0usize..7,
    ) {
        let mut evs: Vec<Event> = if start { vec![ev(1, call(4, vec![]))] } else { vec![] };
        evs.extend(events.into_iter().map(|(g, op)| ev(g, op)));
        let mut t = trace(globals, evs);
        t.block_names = (1..=names as u64).collect();
        if let Ok(a) = analyze(&t) {
            // A sound trace: the rest of the pipeline must not panic either.
            for no_stack in [false, true] {
                let p = a.placements(no_stack);
                let d = death_times(&a, p);
                let mut m = Machine::new(&a, p);
                for i in 0..t.events.len() {
                    m.apply(i);
                }
                for bk in 0..p.len() {
                    let _ = m.explain_path(BlockIdx(bk as u32));
                }
                prop_assert_eq!(d.death.len(), p.len());
            }
        }
    }
}

#[test]
fn a_write_waits_for_every_goroutines_read_since_the_last_write() {
    let t = trace(
        1,
        vec![
            ev(1, call(1, vec![])),                                      // 0 g1#0
            ev(1, alloc_c(l(0), 1, 16, 2, Cause::New, Placement::Heap)), // 1 g1#1
            ev(1, set(gl(0), s(l(0)))),                                  // 2 g1#2 writes G0
            ev(1, go(2, 1, vec![])),                                     // 3 g1#3
            ev(1, go(3, 1, vec![])),                                     // 4 g1#4
            ev(2, set(l(0), s(gl(0)))),                                  // 5 g2#0 reads G0
            ev(3, set(l(0), s(gl(0)))),                                  // 6 g3#0 reads G0: no dep on g2
            ev(2, set(l(0), s(gl(0)))),                                  // 7 g2#1 reads G0 again
            ev(1, set(gl(0), Src::Nil)),                                 // 8 g1#5 writes G0: after both readers
        ],
    );
    let a = ok(&t);
    // g1#2 came before the first `go`: every other goroutine runs after it
    // anyway, so no dependency is recorded on it.
    assert_eq!(a.deps_of(5).to_vec(), vec![]);
    assert_eq!(a.deps_of(6).to_vec(), vec![]);
    let mut w = a.deps_of(8).to_vec();
    w.sort();
    assert_eq!(w, vec![Dep { goroutine: 1, seq: 1 }, Dep { goroutine: 2, seq: 0 }]);
}

/// Block names as written survive the streaming path into the prepared
/// trace and its messages, whether the trace is parsed straight into pass 1
/// or parsed into a `Trace` first.
#[test]
fn sparse_block_names_survive_streaming_preparation() {
    let ok_text = "gctrace 1\nglobals 1\ng1 call 2\ng1 alloc l0 b10 16 1 new heap\ng1 alloc l1 b3 16 1 new auto\n";
    let mut p = workloads::analysis::Preparer::new("s.gct");
    workloads::text::parse_text_into(ok_text, "s.gct", &mut p).unwrap();
    let streamed = p.finish().unwrap();
    let parsed = analyze(&parse_text(ok_text, "s.gct").unwrap()).unwrap();
    for a in [&streamed, &parsed] {
        assert_eq!((a.block_name(BlockIdx(0)), a.block_name(BlockIdx(1))), ("b10".into(), "b3".into()));
        assert_eq!(a.pos(1), "line 4");
    }
    let bad = format!("{ok_text}g1 set l0.0 l1\ng1 set G0 l0\n");
    let bad = bad.replace("new auto", "new stack");
    let mut p = workloads::analysis::Preparer::new("s.gct");
    workloads::text::parse_text_into(&bad, "s.gct", &mut p).unwrap();
    let e = p.finish().unwrap_err().to_string();
    assert_eq!(e, err(&parse_text(&bad, "s.gct").unwrap()));
    assert_eq!(e, "s.gct: line 6: stack block b3 (allocated at line 5) escapes: stored into heap block b10 at line 6");
}

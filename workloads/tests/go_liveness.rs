//! Liveness: a local stops holding its block after its last use, as Go's
//! stack maps make it, so the oracle sees the block die there and not when
//! the function returns.

use std::path::PathBuf;
use workloads::analysis::{analyze, Place};
use workloads::golang::{trace_into, GoTraceOptions};
use workloads::model::Op;
use workloads::sink::MemorySink;

/// Traces `src` (written to a temporary file) with gcwb's placements.
fn trace(src: &str) -> workloads::model::Trace {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.go");
    std::fs::write(&path, src).unwrap();
    let mut sink = MemorySink::new();
    let opts = GoTraceOptions { capture_output: true, ..Default::default() };
    trace_into(&[PathBuf::from(&path)], &opts, &mut sink).unwrap();
    sink.into_trace()
}

/// The first event allocating a block of `size` bytes: its index and block.
fn alloc_of(t: &workloads::model::Trace, size: u64) -> (usize, u32) {
    t.events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match &e.op {
            Op::Alloc { block, size: s, .. } if *s == size => Some((i, block.0)),
            _ => None,
        })
        .expect("the allocation is in the trace")
}

/// A 1 MiB block used once at the start of a long-running function dies
/// right after its use, long before the function's loop of allocations ends.
#[test]
fn a_large_block_dies_after_its_last_use_not_at_return() {
    let src = r#"package main

var sink []byte

func use(b []byte) int { return len(b) }

func long() int {
	big := make([]byte, 1<<20)
	n := use(big)
	for i := 0; i < 2000; i++ {
		sink = make([]byte, 64)
		n += len(sink)
	}
	return n
}

func main() {
	println(long())
}
"#;
    let t = trace(src);
    let p = analyze(&t).unwrap();
    let (at, big) = alloc_of(&t, 1 << 20);
    assert_eq!(p.placements(false)[big as usize], Place::Heap, "1 MiB is over Go's 64 KiB stack limit");
    let death = p.deaths(false).death[big as usize].expect("the block dies") as usize;
    // Its last use is the call `use(big)`: a handful of events later, not
    // after the 2000 allocations of the loop.
    let loop_allocs = t.events[at..].iter().filter(|e| matches!(e.op, Op::Alloc { size: 64, .. })).count();
    assert_eq!(loop_allocs, 2000);
    let allocs_before_death =
        t.events[at..=death].iter().filter(|e| matches!(e.op, Op::Alloc { size: 64, .. })).count();
    assert_eq!(allocs_before_death, 0, "the block outlived its last use: it died after event {death}");
}

/// Without the liveness pass the same block would live to the return: the
/// check above could fail. Here the variable is used at the end, so it must
/// live through the loop.
#[test]
fn a_block_used_after_the_loop_lives_through_it() {
    let src = r#"package main

var sink []byte

func long() int {
	big := make([]byte, 1<<20)
	n := 0
	for i := 0; i < 100; i++ {
		sink = make([]byte, 64)
		n += len(sink)
	}
	return n + len(big)
}

func main() {
	println(long())
}
"#;
    let t = trace(src);
    let p = analyze(&t).unwrap();
    let (at, big) = alloc_of(&t, 1 << 20);
    let death = p.deaths(false).death[big as usize].map_or(t.events.len(), |d| d as usize);
    let allocs_before_death = t.events[at..death.min(t.events.len() - 1)]
        .iter()
        .filter(|e| matches!(e.op, Op::Alloc { size: 64, .. }))
        .count();
    assert_eq!(allocs_before_death, 100, "the block died before its last use");
}

/// Go 101's worked example: once main has received from `done`, nothing
/// but the channel is left of the goroutine's work; x and y died when the
/// global was cleared.
#[test]
fn the_seed_examples_blocks_die_where_the_article_says() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/go/seed-example.go")).unwrap();
    let t = trace(&src);
    let p = analyze(&t).unwrap();
    let deaths = &p.deaths(false).death;
    let var_blocks: Vec<u32> = t
        .events
        .iter()
        .filter_map(|e| match &e.op {
            Op::Alloc { block, cause: workloads::model::Cause::Var, .. } => Some(block.0),
            _ => None,
        })
        .collect();
    assert_eq!(var_blocks.len(), 2, "x and y are blocks");
    let clear = t
        .events
        .iter()
        .rposition(|e| matches!(&e.op, Op::Set { dst, src: workloads::model::Src::Nil } if dst.root == workloads::model::Root::Global(0)))
        .expect("p = nil");
    for b in var_blocks {
        let d = deaths[b as usize].expect("x and y die") as usize;
        assert!(d <= clear, "x or y outlived p = nil (died after event {d}, p cleared at {clear})");
    }
}

/// Go 101's example again: when the goroutine has exited, the only block
/// still live is the channel `done` (main has not received yet or is about
/// to); x, y and the goroutine's closure are already dead.
#[test]
fn when_the_goroutine_exits_only_the_channel_is_live() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/go/seed-example.go")).unwrap();
    let t = trace(&src);
    let p = analyze(&t).unwrap();
    let deaths = &p.deaths(false).death;
    let exit = t
        .events
        .iter()
        .position(|e| matches!(e.op, Op::Exit) && e.g != workloads::model::GoroutineId::MAIN)
        .expect("the goroutine exits");
    let mut live = Vec::new();
    for (i, e) in t.events[..=exit].iter().enumerate() {
        if let Op::Alloc { block, cause, .. } = &e.op {
            let alive = deaths[block.0 as usize].is_none_or(|d| d as usize > exit);
            if alive {
                live.push((*cause, i));
            }
        }
    }
    let causes: Vec<_> = live.iter().map(|(c, _)| *c).collect();
    assert_eq!(causes, vec![workloads::model::Cause::MakeChan], "live when the goroutine exits: {live:?}");
}

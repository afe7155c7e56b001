//! Loading a trace: text (`.gct`) versus binary (`.gctb`), events per second
//! and bytes of encoded trace per second (criterion prints both `thrpt`
//! lines: elements/s and MiB/s of the input).
//!
//! The trace is synthetic, about a million events shaped like a generated
//! workload (four goroutines doing calls and returns, allocations with every
//! cause, pointer stores through nested locations, work), written with the
//! streaming writers into memory so the benchmark measures decoding only, not
//! the disk. Run with `cargo bench -p gcwb-workloads --bench load`
//! (`-- --quick` for a fast estimate); the file sizes are printed first.
//! `clone_model` is the floor both loaders share: cloning an already loaded
//! trace, i.e. allocating and filling the same ~100 MB of events without
//! decoding anything (its bytes/s are those of the binary encoding, for
//! comparison).
//!
//! The `prepare` group times what every command now does with a trace:
//! stream it into pass 1 (see [`prepare`]).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use workloads::binary::{parse_binary, BinaryWriter};
use workloads::model::{BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Src};
use workloads::text::{parse_text, read_text, TextWriter};

/// Events in the synthetic trace.
const EVENTS: usize = 1_000_000;
/// Goroutines taking turns (runs of events, as a scheduler would interleave).
const GOROUTINES: u32 = 4;
/// Pointer locals of every generated frame.
const LOCALS: u32 = 6;
/// Package-level pointer variables.
const GLOBALS: u32 = 8;

/// A small deterministic generator (xorshift64*), so every run measures the
/// same trace.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn local(&mut self) -> u32 {
        self.below(u64::from(LOCALS)) as u32
    }
}

/// About `EVENTS` events: 20% call, 20% ret, 25% alloc, 25% set, 10% work.
fn synthetic_events() -> Vec<Event> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut events = Vec::with_capacity(EVENTS + 64);
    let mut depth = vec![0u32; GOROUTINES as usize + 1];
    let mut blocks = 0u32;
    let mut g = 1u32;
    for child in 2..=GOROUTINES {
        events.push(Event {
            g: GoroutineId(1),
            op: Op::Go { child: GoroutineId(child), locals: LOCALS, frame_bytes: None, args: workloads::Args::new() },
        });
    }
    while events.len() < EVENTS {
        if rng.below(16) == 0 {
            g = 1 + rng.below(u64::from(GOROUTINES)) as u32;
        }
        let d = &mut depth[g as usize];
        let op = match rng.below(20) {
            0..=3 => {
                *d += 1;
                let nargs = rng.below(3) as usize;
                let args = (0..nargs).map(|_| Src::Loc(Loc::local(rng.local()))).collect();
                let frame_bytes = if rng.below(4) == 0 { Some(u64::from(LOCALS) * 8 + 64) } else { None };
                Op::Call { locals: LOCALS, frame_bytes, args }
            }
            4..=7 if *d > 0 => {
                *d -= 1;
                let copy = (rng.below(2) == 0).then(|| (Src::Loc(Loc::local(rng.local())), Loc::local(rng.local())));
                Op::Ret { copy }
            }
            4..=12 => {
                let ptr_slots = rng.below(5) as u32;
                let size = u64::from(ptr_slots) * 8 + 8 * rng.below(8) + 8;
                let dst = if rng.below(4) == 0 {
                    Loc::local(rng.local()).slot(rng.below(2) as u32)
                } else {
                    Loc::local(rng.local())
                };
                blocks += 1;
                Op::Alloc {
                    dst,
                    block: BlockIdx(blocks - 1),
                    size,
                    ptr_slots,
                    cause: Cause::ALL[rng.below(Cause::ALL.len() as u64) as usize],
                    placement: [Placement::Auto, Placement::Auto, Placement::Heap, Placement::Stack]
                        [rng.below(4) as usize],
                }
            }
            13..=17 => {
                let dst = match rng.below(4) {
                    0 => Loc::global(rng.below(u64::from(GLOBALS)) as u32),
                    1 => Loc::local(rng.local()).slot(rng.below(4) as u32).slot(0),
                    _ => Loc::local(rng.local()).slot(rng.below(4) as u32),
                };
                let src = match rng.below(5) {
                    0 => Src::Nil,
                    1 => Src::Interior(Loc::local(rng.local()), 1),
                    _ => Src::Loc(Loc::local(rng.local())),
                };
                Op::Set { dst, src }
            }
            _ => Op::Work { ns: rng.below(200_000) },
        };
        events.push(Event { g: GoroutineId(g), op });
    }
    events
}

fn encode_text(events: &[Event]) -> String {
    let mut w = TextWriter::new(Vec::new(), GLOBALS).expect("writing to memory");
    for e in events {
        w.write_event(e).expect("writing to memory");
    }
    String::from_utf8(w.finish().expect("writing to memory")).expect("text traces are UTF-8")
}

fn encode_binary(events: &[Event]) -> Vec<u8> {
    let mut w = BinaryWriter::new(Vec::new(), GLOBALS).expect("writing to memory");
    for e in events {
        w.write_event(e).expect("writing to memory");
    }
    w.finish().expect("writing to memory")
}

fn load(c: &mut Criterion) {
    let events = synthetic_events();
    let n = events.len();
    let text = encode_text(&events);
    let binary = encode_binary(&events);
    drop(events);
    eprintln!(
        "synthetic trace: {n} events; text {:.1} MB ({:.1} bytes/event), binary {:.1} MB ({:.1} bytes/event)",
        text.len() as f64 / 1e6,
        text.len() as f64 / n as f64,
        binary.len() as f64 / 1e6,
        binary.len() as f64 / n as f64,
    );

    // Loading ends when the trace is in memory: freeing it afterwards is not
    // timed (`BatchSize::PerIteration` drops each result outside the clock).
    let mut group = c.benchmark_group("load");
    let per_event_and = |bytes: usize| Throughput::ElementsAndBytes { elements: n as u64, bytes: bytes as u64 };
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    let label = format!("{}k_events", n / 1000);
    group.throughput(per_event_and(text.len()));
    group.bench_function(BenchmarkId::new("parse_text", &label), |b| {
        b.iter_batched(|| (), |()| parse_text(black_box(&text), "bench.gct").expect("valid"), BatchSize::PerIteration)
    });
    group.bench_function(BenchmarkId::new("read_text", &label), |b| {
        b.iter_batched(
            || (),
            |()| read_text(black_box(text.as_bytes()), "bench.gct").expect("valid"),
            BatchSize::PerIteration,
        )
    });
    group.throughput(per_event_and(binary.len()));
    group.bench_function(BenchmarkId::new("parse_binary", &label), |b| {
        b.iter_batched(
            || (),
            |()| parse_binary(black_box(&binary), "bench.gctb").expect("valid"),
            BatchSize::PerIteration,
        )
    });
    // The floor: building the same model in memory without decoding
    // anything (allocating and first-touching ~100 MB of events).
    let model = parse_binary(&binary, "bench.gctb").expect("valid");
    group.bench_function(BenchmarkId::new("clone_model", &label), |b| {
        b.iter_batched(|| (), |()| black_box(&model).clone(), BatchSize::PerIteration)
    });
    group.finish();
}

/// Preparing a sound trace (the generated binary-trees workload at depth
/// 11: 1.9 M events, four workers) from its binary encoding: the streaming
/// path every command takes (`parse_binary_into` a `Preparer`: validation,
/// escape analysis, dependencies and the compact instruction streams in one
/// pass, no `Event` kept) against the previous one (`parse_binary` into a
/// `Trace`, then `analyze` it). Single-threaded both: the two-thread pipeline
/// of `gcwb` is not measured here.
fn prepare(c: &mut Criterion) {
    let w = workloads::generate::find("binary-trees").expect("registered");
    let mut params = w.defaults(1);
    params.set_pair(w.params, "max_depth=11").expect("a valid depth");
    let trace = workloads::generate::generate_trace(w.name, &params).expect("registered").expect("generates");
    let n = trace.events.len();
    let mut binary = Vec::new();
    workloads::binary::write_binary(&trace, &mut binary).expect("in memory");
    drop(trace);
    let prepared = prepare_binary(&binary);
    eprintln!(
        "binary-trees: {n} events, binary {:.1} bytes/event, prepared {:.1} bytes/event",
        binary.len() as f64 / n as f64,
        prepared.heap_bytes() as f64 / n as f64
    );
    drop(prepared);
    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::ElementsAndBytes { elements: n as u64, bytes: binary.len() as u64 });
    let label = format!("{}k_events", n / 1000);
    group.bench_function(BenchmarkId::new("stream_into_preparer", &label), |b| {
        b.iter_batched(|| (), |()| prepare_binary(black_box(&binary)), BatchSize::PerIteration)
    });
    group.bench_function(BenchmarkId::new("parse_then_analyze", &label), |b| {
        b.iter_batched(
            || (),
            |()| {
                let t = parse_binary(black_box(&binary), "bench.gctb").expect("valid");
                workloads::analysis::analyze(&t).expect("sound")
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn prepare_binary(binary: &[u8]) -> workloads::analysis::PreparedTrace {
    let mut p = workloads::analysis::Preparer::new("bench.gctb");
    workloads::binary::parse_binary_into(binary, "bench.gctb", &mut p).expect("valid");
    p.finish().expect("sound")
}

criterion_group!(benches, load, prepare);
criterion_main!(benches);

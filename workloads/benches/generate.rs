//! Generating a workload: events per second from generator to encoded bytes.
//!
//! `memops` with `events=2000000`, written into a [`BinarySink`] over
//! `io::sink()`, so what is measured is the generator, the builder's checks
//! and the binary encoder — not the disk. Two benches beside it split the
//! cost: `builder_only` drives a [`Builder`] directly with a fixed mix of
//! ops (the builder and encoder alone, the floor of any generator), and
//! `encode_only` pushes the already generated `memops` events through the
//! sink. Run with `cargo bench -p gcwb-workloads --bench generate`
//! (`-- --quick` for a fast estimate). Target: at least 10 M events/s.
//!
//! `trace_go` times the Go front end the same way: `go/binary-trees.go`
//! interpreted and recorded into the binary encoder (target: at least
//! 5 M events/s).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use workloads::builder::{gl, l, BinarySink, Builder, EventSink, NIL};
use workloads::generate::{find, generate_trace, Params};
use workloads::model::{Cause, Event, Placement};

/// Events `memops` is asked for.
const EVENTS: u64 = 2_000_000;

/// `memops` with `events=EVENTS` and the default seed.
fn memops_params() -> Params {
    let w = find("memops").expect("memops is registered");
    let mut p = w.defaults(workloads::generate::DEFAULT_SEED);
    p.set(w.params, "events", &EVENTS.to_string()).expect("in range");
    p
}

/// A sink that counts events on their way to the binary encoder.
struct Counted(BinarySink<io::Sink>, u64);

impl EventSink for Counted {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.0.start(globals)
    }
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.1 += 1;
        self.0.event(e)
    }
    fn end(&mut self) -> io::Result<()> {
        self.0.end()
    }
}

/// `memops` into the binary encoder; returns the events written.
fn memops_to_binary(p: &Params) -> u64 {
    let w = find("memops").expect("memops is registered");
    let mut sink = Counted(BinarySink::new(io::sink()), 0);
    (w.generate)(p, &mut sink).expect("memops generates");
    sink.1
}

/// The Go program `trace_go` runs.
fn binary_trees() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("go/binary-trees.go")
}

/// `path` interpreted and recorded into the binary encoder (its output
/// captured, not printed); returns the events written.
fn trace_go(path: &PathBuf) -> u64 {
    let opts = workloads::golang::GoTraceOptions { capture_output: true, ..Default::default() };
    let mut sink = Counted(BinarySink::new(io::sink()), 0);
    workloads::golang::trace_into(std::slice::from_ref(path), &opts, &mut sink).expect("the program runs");
    sink.1
}

/// `n` events of a fixed mix (call, alloc, store through a path, store to a
/// global, ret) from four goroutines, straight through a builder.
fn builder_mix(n: u64) -> u64 {
    let mut b = Builder::new(BinarySink::new(io::sink()), 8).expect("start");
    let main = b.main();
    b.call(main, 4, &[]).expect("call");
    let gs: Vec<_> = (0..4).map(|_| b.go(main, 4, &[]).expect("go")).collect();
    let mut i = 0u32;
    while b.events() < n {
        let g = gs[(i % 4) as usize];
        b.call(g, 4, &[l(0).into()]).expect("call");
        b.alloc(g, l(1), 48, 2, Cause::New, Placement::Auto).expect("alloc");
        b.set(g, l(1).slot(0), l(0).into()).expect("set");
        b.set(g, gl(i % 8), NIL).expect("set");
        b.ret_copy(g, l(1).into(), l(2)).expect("ret");
        i = i.wrapping_add(1);
    }
    let events = b.events();
    b.finish().expect("end");
    events
}

fn generate(c: &mut Criterion) {
    let p = memops_params();
    let n = memops_to_binary(&p);
    let trace = generate_trace("memops", &p).expect("registered").expect("generates");
    eprintln!("memops events={EVENTS}: {n} events, {} blocks", trace.block_names.len());

    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(n));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    let label = format!("{}k_events", EVENTS / 1000);
    group.bench_function(BenchmarkId::new("memops_to_binary", &label), |b| b.iter(|| memops_to_binary(black_box(&p))));
    group.bench_function(BenchmarkId::new("encode_only", &label), |b| {
        b.iter(|| {
            let mut sink = BinarySink::new(io::sink());
            sink.start(trace.globals).expect("start");
            for e in black_box(&trace.events) {
                sink.event(e).expect("encode");
            }
            sink.end().expect("end");
        })
    });
    group.bench_function(BenchmarkId::new("builder_only", &label), |b| b.iter(|| builder_mix(black_box(n))));
    group.finish();
}

fn go_programs(c: &mut Criterion) {
    let path = binary_trees();
    let n = trace_go(&path);
    let mut group = c.benchmark_group("trace_go");
    group.throughput(Throughput::Elements(n));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("binary-trees.go", |b| b.iter(|| trace_go(black_box(&path))));
    group.finish();
}

criterion_group!(benches, generate, go_programs);
criterion_main!(benches);

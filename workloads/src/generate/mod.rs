//! Workload generators: seeded programs that write sound traces, and the
//! registry the command line finds them in.
//!
//! A generator is a function of its [`Params`] (the seed and the values of
//! the parameters it declares as [`ParamSpec`]s) that writes its events
//! through a [`Builder`](crate::builder::Builder) into any
//! [`EventSink`]: a file as it goes (`gcwb gen`), or an in-memory
//! [`Trace`] ([`generate_trace`], for `gcwb run --workload`). The builder
//! refuses anything unsound, and each generator's tests run its output
//! through [`crate::analysis::analyze`]. The same name and [`Params`] always
//! give the identical trace.
//!
//! Parts:
//! - [`params`]: [`ParamSpec`] (name, default, range, help) and [`Params`]
//!   (the values for one run, set from `--set key=value`);
//! - [`random`]: the stress generator ([`random::random_trace`]): many
//!   goroutines churning a shared heap, with a bounded live set;
//! - [`builtin`]: the Go memory-model worked example and the configuration of
//!   the default workload every collector is run against;
//! - the registry: [`WorkloadInfo`], [`workloads`], [`find`] and
//!   [`generate_trace`]. Adding a workload is one module exporting `SUMMARY`,
//!   `PARAMS` and `generate`, and one line in [`WORKLOADS`].

pub mod binary_trees;
pub mod builtin;
pub mod cache;
pub mod churn;
mod common;
pub mod fragment;
pub mod gcbench;
pub mod gorules;
pub mod graph;
pub mod params;
pub mod pipeline;
pub mod queue;
pub mod random;
pub mod recursion;
pub mod server;
pub mod situations;

pub use params::{ParamSpec, Params};
pub use random::{random_to_sink, random_trace, random_trace_with_stats, RandomConfig, RandomStats};

use crate::builder::{BuildError, EventSink, MemorySink};
use crate::model::Trace;

/// The seed a generator uses when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// A named workload: what it is, what can be varied, and how to write it.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadInfo {
    /// The name `gcwb gen` / `gcwb run --workload` take.
    pub name: &'static str,
    /// One line: the program it models and what it stresses.
    pub summary: &'static str,
    /// The parameters `--set` accepts, with defaults and ranges.
    pub params: &'static [ParamSpec],
    /// Writes the trace for `Params` (made from [`WorkloadInfo::params`])
    /// into the sink: calls `start`, the events, then `end`.
    pub generate: fn(&Params, &mut dyn EventSink) -> Result<(), BuildError>,
}

impl WorkloadInfo {
    /// Every parameter at its default, with `seed`.
    pub fn defaults(&self, seed: u64) -> Params {
        Params::defaults(self.params, seed)
    }
}

/// The registry entry of a generator module, which exports `SUMMARY`,
/// `PARAMS` and `generate`.
macro_rules! module {
    ($name:literal, $m:ident) => {
        WorkloadInfo { name: $name, summary: $m::SUMMARY, params: $m::PARAMS, generate: $m::generate }
    };
}

/// Every registered workload, in the order `gcwb workloads` lists them.
pub static WORKLOADS: &[WorkloadInfo] = &[
    WorkloadInfo { name: "seed-example", summary: SEED_EXAMPLE_SUMMARY, params: &[], generate: seed_example },
    WorkloadInfo { name: "random", summary: RANDOM_SUMMARY, params: RANDOM_PARAMS, generate: random },
    WorkloadInfo { name: "default", summary: DEFAULT_SUMMARY, params: DEFAULT_PARAMS, generate: default },
    WorkloadInfo { name: "memops", summary: MEMOPS_SUMMARY, params: MEMOPS_PARAMS, generate: memops_workload },
    module!("situations", situations),
    module!("gcbench", gcbench),
    module!("binary-trees", binary_trees),
    module!("recursion", recursion),
    module!("churn", churn),
    module!("server", server),
    module!("queue", queue),
    module!("cache", cache),
    module!("graph", graph),
    module!("fragment", fragment),
    module!("pipeline", pipeline),
];

/// Every registered workload.
pub fn workloads() -> &'static [WorkloadInfo] {
    WORKLOADS
}

/// The workload called `name`.
pub fn find(name: &str) -> Option<&'static WorkloadInfo> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// The trace of the workload called `name` with `params`, in memory (`None`
/// for an unknown name). `params` must come from that workload's
/// [`WorkloadInfo::params`] (see [`WorkloadInfo::defaults`]).
pub fn generate_trace(name: &str, params: &Params) -> Option<Result<Trace, BuildError>> {
    let w = find(name)?;
    let mut sink = MemorySink::new();
    Some((w.generate)(params, &mut sink).map(|()| sink.into_trace()))
}

/// Writes a whole trace through `sink` (its blocks must be numbered densely
/// in order of allocation, as generators and the text reader number them).
fn stream(trace: &Trace, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    sink.start(trace.globals)?;
    for e in &trace.events {
        sink.event(e)?;
    }
    sink.end()?;
    Ok(())
}

const SEED_EXAMPLE_SUMMARY: &str =
    "the Go memory-model worked example: a channel, a closure, x, y, z (fixed; the seed is ignored)";

fn seed_example(_: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    stream(&builtin::seed_example(), sink)
}

const RANDOM_SUMMARY: &str =
    "stress generator: 8 goroutines at once, heavy pointer churn over a shared heap, ~8 MB live";
const RANDOM_PARAMS: &[ParamSpec] = &[
    ParamSpec::int("events", 200_000, 1, MAX_EVENTS, "approximate number of events"),
    ParamSpec::int("goroutines", 8, 1, MAX_GOROUTINES, "spawned goroutines running at once"),
];

fn random(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    random_to_sink(&configured(RandomConfig::default(), p, true), sink).map(|_| ())
}

const DEFAULT_SUMMARY: &str =
    "the default workload: 16 goroutines at once, ~25 MB live, ~30 GCs of mark-sweep at GOGC=100";
const DEFAULT_PARAMS: &[ParamSpec] =
    &[ParamSpec::int("events", 2_000_000, 1, MAX_EVENTS, "approximate number of events")];

fn default(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    random_to_sink(&configured(builtin::default_workload(), p, false), sink).map(|_| ())
}

const MEMOPS_SUMMARY: &str =
    "the stress generator without `work` events: pure memory operations (measures the replayer)";
const MEMOPS_PARAMS: &[ParamSpec] = &[
    ParamSpec::int("events", 1_000_000, 1, MAX_EVENTS, "approximate number of events"),
    ParamSpec::int("goroutines", 8, 1, MAX_GOROUTINES, "spawned goroutines running at once"),
];

fn memops_workload(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    random_to_sink(&configured(memops(), p, true), sink).map(|_| ())
}

/// Most events of the generators built on [`random_trace`], which holds its
/// whole trace in memory (about 60 bytes an event).
const MAX_EVENTS: u64 = 1_000_000_000;
/// Most goroutines at once of the generators built on [`random_trace`].
const MAX_GOROUTINES: u64 = 10_000;

/// The `memops` workload: the stress mix with no computation between
/// memory operations, so a replay's events/s is the replayer's own speed.
pub fn memops() -> RandomConfig {
    RandomConfig { events: 1_000_000, work_weight: 0, gc_per_million: 0.0, ..RandomConfig::default() }
}

/// `cfg` with the seed and `events` of `p`, and its `goroutines` if the
/// workload declares that parameter.
fn configured(cfg: RandomConfig, p: &Params, goroutines: bool) -> RandomConfig {
    RandomConfig {
        seed: p.seed,
        events: p.get_u64("events"),
        goroutines: if goroutines { p.get_u64("goroutines") as u32 } else { cfg.goroutines },
        ..cfg
    }
}

/// An independent checker of generated traces for the tests: a plain
/// re-simulation of the trace semantics that shares nothing with the
/// generators' shadow state.
#[cfg(test)]
pub(crate) mod check {
    use crate::model::{Event, Loc, Op, Placement, Root, Src, Trace, WORD_BYTES};
    use std::collections::{HashMap, HashSet};

    /// A pointer: block index and slot offset.
    type Ptr = Option<(u32, u64)>;

    struct Block {
        size: u64,
        slots: Vec<Ptr>,
    }

    #[derive(Default)]
    struct G {
        frames: Vec<Vec<Ptr>>,
        spans: Vec<String>,
    }

    /// What a checked trace contained.
    #[derive(Debug, Default)]
    pub struct Summary {
        pub goroutines: usize,
        pub exits: usize,
        pub max_depth: usize,
        pub max_stack_bytes: u64,
        pub interior_srcs: usize,
        pub path_derefs: usize,
        pub ret_copies: usize,
        pub large_allocs: usize,
        pub heap_allocs: usize,
        pub gcs: usize,
        pub spans: usize,
        /// Events whose goroutine differs from the previous event's.
        pub switches: usize,
    }

    struct Checker {
        globals: Vec<Ptr>,
        blocks: Vec<Block>,
        gs: HashMap<u32, G>,
        stack_bytes: HashMap<u32, Vec<u64>>,
        exited: HashSet<u32>,
        sum: Summary,
    }

    /// Re-simulates `trace` and returns the first unsound event, described.
    pub fn check(trace: &Trace) -> Result<Summary, String> {
        let mut c = Checker {
            globals: vec![None; trace.globals as usize],
            blocks: Vec::new(),
            gs: HashMap::new(),
            stack_bytes: HashMap::new(),
            exited: HashSet::new(),
            sum: Summary::default(),
        };
        c.gs.insert(1, G::default());
        c.stack_bytes.insert(1, Vec::new());
        let mut prev = None;
        for (i, e) in trace.events.iter().enumerate() {
            c.event(e).map_err(|m| format!("event {} ({:?}): {m}", i + 1, e))?;
            if prev.is_some_and(|p| p != e.g.0) {
                c.sum.switches += 1;
            }
            prev = Some(e.g.0);
        }
        if trace.block_names.len() != c.blocks.len() {
            return Err(format!("{} block names for {} blocks", trace.block_names.len(), c.blocks.len()));
        }
        c.sum.goroutines = c.gs.len() + c.exited.len();
        Ok(c.sum)
    }

    impl Checker {
        fn g(&mut self, id: u32) -> Result<&mut G, String> {
            if self.exited.contains(&id) {
                return Err(format!("g{id} used after exit"));
            }
            self.gs.get_mut(&id).ok_or_else(|| format!("g{id} was never spawned"))
        }

        /// The pointer a slot dereference reaches: `p.k`.
        fn deref(&self, p: Ptr, k: u32) -> Result<(u32, usize), String> {
            let (b, off) = p.ok_or("dereference of nil")?;
            let idx = off + k as u64;
            let n = self.blocks[b as usize].slots.len() as u64;
            if idx >= n {
                return Err(format!("slot {idx} of block {b} out of range (ptr_slots {n})"));
            }
            Ok((b, idx as usize))
        }

        fn read_loc(&mut self, g: u32, loc: &Loc) -> Result<Ptr, String> {
            let mut p = match loc.root {
                Root::Local(k) => {
                    let top = self.g(g)?.frames.last().ok_or("local used with no frame")?;
                    *top.get(k as usize).ok_or_else(|| format!("l{k} beyond the frame's {} locals", top.len()))?
                }
                Root::Global(k) => *self
                    .globals
                    .get(k as usize)
                    .ok_or_else(|| format!("G{k} beyond {} globals", self.globals.len()))?,
            };
            for &k in &loc.path {
                let (b, i) = self.deref(p, k)?;
                self.sum.path_derefs += 1;
                p = self.blocks[b as usize].slots[i];
            }
            Ok(p)
        }

        fn write_loc(&mut self, g: u32, loc: &Loc, v: Ptr) -> Result<(), String> {
            if loc.path.is_empty() {
                match loc.root {
                    Root::Local(k) => {
                        let top = self.g(g)?.frames.last_mut().ok_or("local used with no frame")?;
                        let n = top.len();
                        *top.get_mut(k as usize).ok_or_else(|| format!("l{k} beyond the frame's {n} locals"))? = v;
                    }
                    Root::Global(k) => {
                        *self.globals.get_mut(k as usize).ok_or_else(|| format!("G{k} out of range"))? = v;
                    }
                }
                return Ok(());
            }
            let mut parent = loc.clone();
            let k = parent.path.pop().expect("non-empty path");
            let p = self.read_loc(g, &parent)?;
            let (b, i) = self.deref(p, k)?;
            self.sum.path_derefs += 1;
            self.blocks[b as usize].slots[i] = v;
            Ok(())
        }

        fn read_src(&mut self, g: u32, src: &Src) -> Result<Ptr, String> {
            match src {
                Src::Nil => Ok(None),
                Src::Loc(l) => self.read_loc(g, l),
                Src::Interior(l, k) => {
                    let (b, off) = self.read_loc(g, l)?.ok_or("interior pointer into nil")?;
                    let off = off + *k as u64;
                    if off * WORD_BYTES >= self.blocks[b as usize].size {
                        return Err(format!("interior offset {off} past block {b}'s size"));
                    }
                    self.sum.interior_srcs += 1;
                    Ok(Some((b, off)))
                }
            }
        }

        fn frame(&mut self, locals: u32, frame_bytes: Option<u64>, vals: Vec<Ptr>) -> Result<(Vec<Ptr>, u64), String> {
            if vals.len() > locals as usize {
                return Err(format!("{} args for {locals} locals", vals.len()));
            }
            let min = 16 + 8 * locals as u64;
            let bytes = frame_bytes.unwrap_or(min);
            if bytes < min {
                return Err(format!("frame of {bytes} bytes smaller than its {locals} locals need"));
            }
            let mut frame = vals;
            frame.resize(locals as usize, None);
            Ok((frame, bytes))
        }

        fn event(&mut self, e: &Event) -> Result<(), String> {
            let g = e.g.0;
            self.g(g)?;
            match &e.op {
                Op::Call { locals, frame_bytes, args } => {
                    let vals = args.iter().map(|a| self.read_src(g, a)).collect::<Result<Vec<_>, _>>()?;
                    let (frame, bytes) = self.frame(*locals, *frame_bytes, vals)?;
                    self.g(g)?.frames.push(frame);
                    let st = self.stack_bytes.get_mut(&g).expect("stack of a live goroutine");
                    st.push(bytes);
                    let total: u64 = st.iter().sum();
                    self.sum.max_stack_bytes = self.sum.max_stack_bytes.max(total);
                    self.sum.max_depth = self.sum.max_depth.max(st.len());
                }
                Op::Ret { copy } => {
                    let depth = self.g(g)?.frames.len();
                    if depth < 2 {
                        return Err("ret would pop the goroutine's base frame".into());
                    }
                    let v = match copy {
                        Some((src, _)) => Some(self.read_src(g, src)?),
                        None => None,
                    };
                    self.g(g)?.frames.pop();
                    self.stack_bytes.get_mut(&g).expect("stack").pop();
                    if let (Some((_, dst)), Some(v)) = (copy, v) {
                        self.sum.ret_copies += 1;
                        self.write_loc(g, dst, v)?;
                    }
                }
                Op::Alloc { dst, block, size, ptr_slots, placement, .. } => {
                    if block.0 as usize != self.blocks.len() {
                        return Err(format!("block index {} not dense (expected {})", block.0, self.blocks.len()));
                    }
                    if *size < 1 || *ptr_slots as u64 * WORD_BYTES > *size {
                        return Err(format!("bad block shape {size} bytes, {ptr_slots} slots"));
                    }
                    if *placement == Placement::Stack {
                        return Err("generators never ask for stack placement".into());
                    }
                    if *placement == Placement::Heap {
                        self.sum.heap_allocs += 1;
                    }
                    if *size >= 40 * 1024 {
                        self.sum.large_allocs += 1;
                    }
                    // The destination is resolved before the block exists.
                    let mut parent = dst.clone();
                    let (b, i) = match parent.path.pop() {
                        Some(k) => {
                            let p = self.read_loc(g, &parent)?;
                            let (b, i) = self.deref(p, k)?;
                            (Some(b), i)
                        }
                        None => (None, 0),
                    };
                    self.blocks.push(Block { size: *size, slots: vec![None; *ptr_slots as usize] });
                    let v = Some((block.0, 0));
                    match b {
                        Some(b) => self.blocks[b as usize].slots[i] = v,
                        None => self.write_loc(g, dst, v)?,
                    }
                }
                Op::Go { child, locals, frame_bytes, args } => {
                    let c = child.0;
                    if c == 1 || self.gs.contains_key(&c) || self.exited.contains(&c) {
                        return Err(format!("g{c} spawned twice"));
                    }
                    let vals = args.iter().map(|a| self.read_src(g, a)).collect::<Result<Vec<_>, _>>()?;
                    let (frame, bytes) = self.frame(*locals, *frame_bytes, vals)?;
                    self.gs.insert(c, G { frames: vec![frame], spans: Vec::new() });
                    self.stack_bytes.insert(c, vec![bytes]);
                }
                Op::Set { dst, src } => {
                    let v = self.read_src(g, src)?;
                    self.write_loc(g, dst, v)?;
                }
                Op::Work { ns } => {
                    if *ns == 0 {
                        return Err("work of 0 ns".into());
                    }
                }
                Op::Begin { tag } => {
                    self.sum.spans += 1;
                    self.g(g)?.spans.push(tag.clone());
                }
                Op::End { tag } => match self.g(g)?.spans.pop() {
                    Some(open) if open == *tag => {}
                    Some(open) => return Err(format!("end {tag} while {open} is the innermost span")),
                    None => return Err(format!("end {tag} with no open span")),
                },
                Op::Exit => {
                    if !self.g(g)?.spans.is_empty() {
                        return Err("exit with open spans".into());
                    }
                    self.gs.remove(&g);
                    self.exited.insert(g);
                    self.sum.exits += 1;
                }
                Op::Gc => self.sum.gcs += 1,
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{BinarySink, TextSink};

    /// `name`'s parameters at their defaults, `events` set to `events` when
    /// the workload has that parameter.
    fn small(name: &str, seed: u64, events: u64) -> Params {
        let w = find(name).unwrap_or_else(|| panic!("{name} is registered"));
        let mut p = w.defaults(seed);
        if w.params.iter().any(|s| s.name == "events") {
            p.set(w.params, "events", &events.to_string()).unwrap();
        }
        p
    }

    /// The workloads this module defines (the others test themselves).
    const OWN: [&str; 4] = ["seed-example", "random", "default", "memops"];

    #[test]
    fn every_workload_of_this_module_generates_a_sound_trace() {
        for w in OWN.map(|n| find(n).unwrap_or_else(|| panic!("{n} is registered"))) {
            let p = small(w.name, 3, 20_000);
            let t = generate_trace(w.name, &p).unwrap().unwrap_or_else(|e| panic!("{}: {e}", w.name));
            assert!(!t.events.is_empty(), "{} is empty", w.name);
            if w.name != "seed-example" {
                check::check(&t).unwrap_or_else(|e| panic!("{}: {e}", w.name));
            }
            crate::analysis::analyze(&t).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        }
        assert!(generate_trace("no-such-workload", &Params::defaults(&[], 1)).is_none());
        assert!(find("no-such-workload").is_none());
    }

    #[test]
    fn names_are_unique_and_parameters_are_within_their_ranges() {
        let mut names: Vec<_> = workloads().iter().map(|w| w.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), workloads().len());
        for w in workloads() {
            assert!(!w.summary.is_empty(), "{}", w.name);
            for s in w.params {
                assert!(s.min <= s.default && s.default <= s.max, "{}: {}", w.name, s.describe());
                assert!(!s.integer || s.default.fract() == 0.0, "{}: {}", w.name, s.describe());
            }
        }
    }

    #[test]
    fn the_seed_example_streams_unchanged_but_for_block_names() {
        let t = generate_trace("seed-example", &Params::defaults(&[], 9)).unwrap().unwrap();
        let orig = builtin::seed_example();
        assert_eq!(t.events, orig.events);
        assert_eq!(t.globals, orig.globals);
        assert_eq!(t.block_names, (0..orig.block_names.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn seed_and_parameters_reach_the_generator() {
        let gen = |seed, events| generate_trace("random", &small("random", seed, events)).unwrap().unwrap();
        let (a, b, c, d) = (gen(5, 10_000), gen(5, 10_000), gen(6, 10_000), gen(5, 20_000));
        assert_eq!(a, b);
        assert_ne!(a.events, c.events);
        assert!(d.events.len() > a.events.len() * 3 / 2, "{} vs {}", d.events.len(), a.events.len());
        // The random-based workloads are random_trace with the parameters applied.
        let mut p = small("memops", 4, 5_000);
        p.set(MEMOPS_PARAMS, "goroutines", "3").unwrap();
        let want = random_trace(&RandomConfig { seed: 4, events: 5_000, goroutines: 3, ..memops() });
        assert_eq!(generate_trace("memops", &p).unwrap().unwrap().events, want.events);
    }

    #[test]
    fn text_and_binary_sinks_get_the_same_events_as_memory() {
        let w = find("memops").unwrap();
        let p = small("memops", 2, 3_000);
        let mem = generate_trace("memops", &p).unwrap().unwrap();
        let mut text = TextSink::new(Vec::new());
        (w.generate)(&p, &mut text).unwrap();
        let text = String::from_utf8(text.into_inner().unwrap()).unwrap();
        assert_eq!(crate::text::parse_text(&text, "m.gct").unwrap().events, mem.events);
        let mut bin = BinarySink::new(Vec::new());
        (w.generate)(&p, &mut bin).unwrap();
        assert_eq!(crate::binary::parse_binary(&bin.into_inner().unwrap(), "m.gctb").unwrap().events, mem.events);
    }

    #[test]
    fn the_checker_rejects_unsound_traces() {
        use crate::model::{Event, GoroutineId, Loc, Op, Src};
        let g1 = GoroutineId::MAIN;
        let mut t = random_trace(&RandomConfig { events: 2_000, ..Default::default() });
        check::check(&t).expect("sound as generated");
        // A dereference of a nil local.
        let mut bad = t.clone();
        bad.events.insert(1, Event { g: g1, op: Op::Set { dst: Loc::local(0).slot(0), src: Src::Nil } });
        assert!(check::check(&bad).unwrap_err().contains("nil"));
        // An event of an exited goroutine.
        let exit = t.events.iter().position(|e| e.op == Op::Exit).expect("some goroutine exits");
        let gone = t.events[exit].g;
        t.events.push(Event { g: gone, op: Op::Work { ns: 100 } });
        assert!(check::check(&t).unwrap_err().contains("after exit"));
    }
}

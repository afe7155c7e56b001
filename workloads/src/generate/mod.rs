//! Workload generators: seeded programs that write sound traces.
//!
//! A generator builds a [`Trace`] in memory, event by event, keeping enough
//! shadow state to emit only events that are valid where they stand, so its
//! output passes [`crate::analysis::analyze`] by construction. The same name
//! and [`Params`] always give the identical trace.
//!
//! Parts:
//! - [`random`]: the stress generator ([`random::random_trace`]): many
//!   goroutines churning a shared heap, with a bounded live set;
//! - [`builtin`]: the named workloads gcwb ships — the Go memory-model worked
//!   example and the default workload every collector is run against;
//! - [`names`] and [`generate`]: the registry the command line looks names up in.

pub mod builtin;
pub mod params;
pub mod random;

pub use random::{random_trace, random_trace_with_stats, RandomConfig, RandomStats};

use crate::model::Trace;

/// The seed a generator uses when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// What a user can vary about a named workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Seeds the generator's random source.
    pub seed: u64,
    /// Multiplies the workload's number of events (1.0: its usual size).
    pub scale: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            seed: DEFAULT_SEED,
            scale: 1.0,
        }
    }
}

/// The named workloads and a one-line description of each.
pub fn names() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "seed-example",
            "the Go memory-model worked example (fixed; seed and scale are ignored)",
        ),
        (
            "random",
            "stress generator: 8 goroutines, 200k events x scale, heavy pointer churn, ~8 MB live",
        ),
        (
            "default",
            "the default workload: 16 goroutines, 2M events x scale, ~25 MB live, ~30 GCs at GOGC=100",
        ),
        (
            "memops",
            "the stress generator without `work` events: 1M events x scale of pure memory operations (measures the replayer)",
        ),
    ]
}

/// The trace of the workload called `name` with `params`, or `None` for an
/// unknown name (see [`names`]).
pub fn generate(name: &str, params: &Params) -> Option<Trace> {
    match name {
        "seed-example" => Some(builtin::seed_example()),
        "random" => Some(random_trace(&scaled(RandomConfig::default(), params))),
        "default" => Some(random_trace(&scaled(builtin::default_workload(), params))),
        "memops" => Some(random_trace(&scaled(memops(), params))),
        _ => None,
    }
}

/// The `memops` workload: the stress mix with no computation between
/// memory operations, so a replay's events/s is the replayer's own speed.
pub fn memops() -> RandomConfig {
    RandomConfig {
        events: 1_000_000,
        work_weight: 0,
        gc_per_million: 0.0,
        ..RandomConfig::default()
    }
}

/// `cfg` with the seed of `params` and its events multiplied by the scale.
fn scaled(cfg: RandomConfig, params: &Params) -> RandomConfig {
    let events = (cfg.events as f64 * params.scale.max(0.0)).round() as u64;
    RandomConfig {
        seed: params.seed,
        events: events.max(1),
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
            c.event(e)
                .map_err(|m| format!("event {} ({:?}): {m}", i + 1, e))?;
            if prev.is_some_and(|p| p != e.g.0) {
                c.sum.switches += 1;
            }
            prev = Some(e.g.0);
        }
        if trace.block_names.len() != c.blocks.len() {
            return Err(format!(
                "{} block names for {} blocks",
                trace.block_names.len(),
                c.blocks.len()
            ));
        }
        c.sum.goroutines = c.gs.len() + c.exited.len();
        Ok(c.sum)
    }

    impl Checker {
        fn g(&mut self, id: u32) -> Result<&mut G, String> {
            if self.exited.contains(&id) {
                return Err(format!("g{id} used after exit"));
            }
            self.gs
                .get_mut(&id)
                .ok_or_else(|| format!("g{id} was never spawned"))
        }

        /// The pointer a slot dereference reaches: `p.k`.
        fn deref(&self, p: Ptr, k: u32) -> Result<(u32, usize), String> {
            let (b, off) = p.ok_or("dereference of nil")?;
            let idx = off + k as u64;
            let n = self.blocks[b as usize].slots.len() as u64;
            if idx >= n {
                return Err(format!(
                    "slot {idx} of block {b} out of range (ptr_slots {n})"
                ));
            }
            Ok((b, idx as usize))
        }

        fn read_loc(&mut self, g: u32, loc: &Loc) -> Result<Ptr, String> {
            let mut p = match loc.root {
                Root::Local(k) => {
                    let top = self.g(g)?.frames.last().ok_or("local used with no frame")?;
                    *top.get(k as usize)
                        .ok_or_else(|| format!("l{k} beyond the frame's {} locals", top.len()))?
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
                        let top = self
                            .g(g)?
                            .frames
                            .last_mut()
                            .ok_or("local used with no frame")?;
                        let n = top.len();
                        *top.get_mut(k as usize)
                            .ok_or_else(|| format!("l{k} beyond the frame's {n} locals"))? = v;
                    }
                    Root::Global(k) => {
                        *self
                            .globals
                            .get_mut(k as usize)
                            .ok_or_else(|| format!("G{k} out of range"))? = v;
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

        fn frame(
            &mut self,
            locals: u32,
            frame_bytes: Option<u64>,
            vals: Vec<Ptr>,
        ) -> Result<(Vec<Ptr>, u64), String> {
            if vals.len() > locals as usize {
                return Err(format!("{} args for {locals} locals", vals.len()));
            }
            let min = 16 + 8 * locals as u64;
            let bytes = frame_bytes.unwrap_or(min);
            if bytes < min {
                return Err(format!(
                    "frame of {bytes} bytes smaller than its {locals} locals need"
                ));
            }
            let mut frame = vals;
            frame.resize(locals as usize, None);
            Ok((frame, bytes))
        }

        fn event(&mut self, e: &Event) -> Result<(), String> {
            let g = e.g.0;
            self.g(g)?;
            match &e.op {
                Op::Call {
                    locals,
                    frame_bytes,
                    args,
                } => {
                    let vals = args
                        .iter()
                        .map(|a| self.read_src(g, a))
                        .collect::<Result<Vec<_>, _>>()?;
                    let (frame, bytes) = self.frame(*locals, *frame_bytes, vals)?;
                    self.g(g)?.frames.push(frame);
                    let st = self
                        .stack_bytes
                        .get_mut(&g)
                        .expect("stack of a live goroutine");
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
                Op::Alloc {
                    dst,
                    block,
                    size,
                    ptr_slots,
                    placement,
                    ..
                } => {
                    if block.0 as usize != self.blocks.len() {
                        return Err(format!(
                            "block index {} not dense (expected {})",
                            block.0,
                            self.blocks.len()
                        ));
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
                    self.blocks.push(Block {
                        size: *size,
                        slots: vec![None; *ptr_slots as usize],
                    });
                    let v = Some((block.0, 0));
                    match b {
                        Some(b) => self.blocks[b as usize].slots[i] = v,
                        None => self.write_loc(g, dst, v)?,
                    }
                }
                Op::Go {
                    child,
                    locals,
                    frame_bytes,
                    args,
                } => {
                    let c = child.0;
                    if c == 1 || self.gs.contains_key(&c) || self.exited.contains(&c) {
                        return Err(format!("g{c} spawned twice"));
                    }
                    let vals = args
                        .iter()
                        .map(|a| self.read_src(g, a))
                        .collect::<Result<Vec<_>, _>>()?;
                    let (frame, bytes) = self.frame(*locals, *frame_bytes, vals)?;
                    self.gs.insert(
                        c,
                        G {
                            frames: vec![frame],
                            spans: Vec::new(),
                        },
                    );
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
                    Some(open) => {
                        return Err(format!("end {tag} while {open} is the innermost span"))
                    }
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

    #[test]
    fn every_registered_name_generates_a_sound_trace() {
        let small = Params {
            seed: 3,
            scale: 0.02,
        };
        for (name, _) in names() {
            let t = generate(name, &small).unwrap_or_else(|| panic!("{name} is registered"));
            assert!(!t.events.is_empty(), "{name} is empty");
            check::check(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(generate("no-such-workload", &small).is_none());
    }

    #[test]
    fn params_seed_and_scale_reach_the_generator() {
        let a = generate(
            "random",
            &Params {
                seed: 5,
                scale: 0.05,
            },
        )
        .unwrap();
        let b = generate(
            "random",
            &Params {
                seed: 5,
                scale: 0.05,
            },
        )
        .unwrap();
        let c = generate(
            "random",
            &Params {
                seed: 6,
                scale: 0.05,
            },
        )
        .unwrap();
        let d = generate(
            "random",
            &Params {
                seed: 5,
                scale: 0.1,
            },
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a.events, c.events);
        assert!(
            d.events.len() > a.events.len() * 3 / 2,
            "{} vs {}",
            d.events.len(),
            a.events.len()
        );
    }

    #[test]
    fn the_checker_rejects_unsound_traces() {
        use crate::model::{Event, GoroutineId, Loc, Op, Src};
        let g1 = GoroutineId::MAIN;
        let mut t = random_trace(&RandomConfig {
            events: 2_000,
            ..Default::default()
        });
        check::check(&t).expect("sound as generated");
        // A dereference of a nil local.
        let mut bad = t.clone();
        bad.events.insert(
            1,
            Event {
                g: g1,
                op: Op::Set {
                    dst: Loc::local(0).slot(0),
                    src: Src::Nil,
                },
            },
        );
        assert!(check::check(&bad).unwrap_err().contains("nil"));
        // An event of an exited goroutine.
        let exit = t
            .events
            .iter()
            .position(|e| e.op == Op::Exit)
            .expect("some goroutine exits");
        let gone = t.events[exit].g;
        t.events.push(Event {
            g: gone,
            op: Op::Work { ns: 100 },
        });
        assert!(check::check(&t).unwrap_err().contains("after exit"));
    }
}

//! A model check of the concurrent collector's barrier and marking protocol.
//!
//! This file does not run the real collector. It runs a small abstract model
//! of the protocol that `collectors/src/plans/concurrent.rs` implements (Go's
//! hybrid barrier, runtime/mbarrier.go; the invariant is in that module's
//! doc) and explores it two ways:
//! - **exhaustively**: a depth-first search over every interleaving of
//!   mutator and collector steps that remembers each state it has visited
//!   (packed into 256 bits), on small initial heaps ([`CASES`]) with an op
//!   budget per goroutine, so that each state space is finite;
//! - **randomly**: 10 000 seeded random schedules over random heaps of eight
//!   objects, three globals and four goroutines ([`RANDOM_BOUNDS`]).
//!
//! The property, checked in every state reached: no object reachable from
//! the roots (the globals and every started goroutine's locals, then through
//! heap fields) has been freed. Freed memory is never reused in the model, so
//! this is both "the sweep frees nothing reachable" and "no mutator ever
//! holds a pointer to a freed object". After the sweep nothing can break it
//! (a mutator only copies pointers it reaches), so the exhaustive searches
//! stop there; the random runs go on to the end of every goroutine's budget.
//!
//! The broken variants are chosen with the real collector's own
//! `collectors::plans::concurrent::ConcurrentFaults`, so a model variant has
//! the name of the real one (`slow_mark_us` means nothing here).
//!
//! # The model, and the code each step abstracts
//!
//! State: heap objects (unallocated, live or freed; a mark bit; two pointer
//! fields), globals (pointer slots), goroutines (started?, a few pointer
//! locals, "stack scanned this cycle", an op budget, a store in flight), the
//! phase of the one GC cycle, the `marking` flag (barrier on),
//! allocate-black, which globals are scanned, and the grey work: one bit per
//! field of a grey object still to be scanned. An object is white (not
//! marked), grey (marked, some field still to scan) or black.
//!
//! Mutator steps (any started goroutine, at any time; each spends one op):
//! - `lA = lB.fN`, `lA = Gi`: plain loads, through a local that points to the
//!   object: a goroutine only touches what it reaches from its own locals and
//!   the globals. No collector hook.
//! - `lA.fN = v` (v is nil or a local) → `Concurrent::write_pointer` and
//!   `Concurrent::barrier`: while `marking`, `shade(old)` (the deletion half)
//!   and, if this goroutine's stack is not yet scanned (`stack_is_grey`),
//!   `shade(new)` (the insertion half); then the store. With split writes
//!   the barrier and the store are two steps, as in the real code (load the
//!   old value, barrier, store): other goroutines and the concurrent
//!   collector steps may run in between; stop-the-world steps and this
//!   goroutine's own stack scan may not (it is not at a safepoint).
//! - `Gi = v` → `Concurrent::write_global` (the same barrier:
//!   `Capabilities::barrier_on_globals`).
//! - `lA = nil`: a stack write, which takes no barrier.
//! - `lA = new oK` → `Concurrent::alloc`: black while the heap allocates
//!   black (`Heap::set_allocate_black`), else white.
//! - `go gC(lA)` → `Concurrent::on_spawn`: while `marking`, shade the
//!   argument and count the new stack as scanned.
//!
//! Collector steps, interleaved with mutator steps at every step boundary:
//! - sweep termination (stop the world; may come at any step) → its block in
//!   `Concurrent::start_cycle` (called by `collect`): `marking` on (unless
//!   `scan_stacks_before_barrier`), allocate black (unless `allocate_white`);
//! - with `scan_stacks_before_barrier` only: scan each stack in turn, then
//!   turn `marking` on → the `if !barrier_now` branch of
//!   `Concurrent::background`;
//! - scan one global → `mark_concurrently`'s `roots.scan_globals`, one global
//!   per step (the real scan is not atomic);
//! - scan goroutine g's stack → `mark_concurrently`'s `roots.scan_stack` and
//!   the epoch store after it: atomic for g (g does not run during its own
//!   scan; the others do); a stack already scanned (a goroutine started
//!   during marking) is not scanned again;
//! - scan one field of a grey object → `Concurrent::drain`, one pointer word
//!   per step, whether a background worker or a mark assist
//!   (`Concurrent::assist`) runs it; shading is `Concurrent::shade` (white →
//!   marked, fields queued);
//! - mark termination (stop the world; once every root job is done) → the
//!   end of `Concurrent::background`: drain what is left, `marking` off,
//!   allocate white; then the sweep frees every live unmarked object.
//!
//! Root jobs and grey fields may be taken in any order, which covers any
//! number of mark workers and any order of the grey queue.
//!
//! # What is abstracted away
//!
//! Memory ordering (each step is atomic and sequentially consistent; the
//! real code's Relaxed/Acquire/Release atomics and the host's
//! stop-the-world handshake are not modelled), object sizes, noscan objects
//! and interior pointers, stack blocks and stack shrinking (a stack is just
//! its locals), goroutine exit, the pacer (the cycle may start at any step,
//! and assists are just more drain steps), reuse of freed memory, and more
//! than one cycle. The real sweep is concurrent and lazy (span by span,
//! after mark termination); the model frees at mark termination the same
//! set of objects, everything unmarked then; that the heap's lazy sweep
//! frees exactly that set, and spares what is allocated meanwhile, is the
//! heap's own business, not the barrier's. The real code is tested under
//! real threads by the verifier in `harness/tests/concurrent.rs`.
//!
//! # Reading a counterexample
//!
//! A failing search prints the initial heap, in the syntax of [`setup`]
//! (`G0=o0` a global, `o0.f0=o1` a field, `g0:2` a goroutine with two ops
//! left, `g0.l1=o1` a local), then the steps from it to the first state that
//! breaks the property, after dropping every step the failure does not need.
//! One line per step: its number, who runs it (`g0`, `g1`, … or `GC`), what
//! it does, with the objects it touches (`o0`, `o1`, …) in parentheses, and
//! in brackets what it did to the colours: objects it marked (shaded) and
//! objects it freed. A store that marks nothing under a fault is the bug at
//! work. The last line names the freed object and the path by which a root
//! still reaches it, e.g. `o1 freed, yet reachable: G0 -> o0.f0 -> o1`.

use collectors::plans::concurrent::ConcurrentFaults;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

const MAX_OBJECTS: usize = 8;
const FIELDS: usize = 2;
const MAX_GOROUTINES: usize = 4;
const MAX_LOCALS: usize = 3;
const MAX_GLOBALS: usize = 3;

/// An object's index; a pointer is `Option<Obj>` (`None` is nil).
type Obj = u8;
type Ptr = Option<Obj>;

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Unallocated,
    Live,
    Freed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Object {
    status: Status,
    marked: bool,
    fields: [Ptr; FIELDS],
}

/// A pointer slot a mutator stores into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Field(Obj, u8),
    Global(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Goroutine {
    active: bool,
    /// The stack is black: scanned this cycle, or started during marking.
    scanned: bool,
    budget: u8,
    locals: [Ptr; MAX_LOCALS],
    /// A store whose barrier has run but which has not happened yet.
    pending: Option<(Target, Ptr)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the cycle: no barrier.
    Idle,
    /// `scan_stacks_before_barrier` only: scanning stack `n` next.
    PreScan(u8),
    /// Concurrent mark.
    Mark,
    /// After the sweep.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    objects: [Object; MAX_OBJECTS],
    globals: [Ptr; MAX_GLOBALS],
    goroutines: [Goroutine; MAX_GOROUTINES],
    phase: Phase,
    marking: bool,
    allocate_black: bool,
    /// Bit i: global i has been scanned this cycle.
    globals_scanned: u8,
    /// Bit `o * FIELDS + f`: field f of grey object o is still to be scanned.
    grey: u16,
}

impl State {
    fn empty() -> State {
        let object = Object { status: Status::Unallocated, marked: false, fields: [None; FIELDS] };
        let goroutine =
            Goroutine { active: false, scanned: false, budget: 0, locals: [None; MAX_LOCALS], pending: None };
        State {
            objects: [object; MAX_OBJECTS],
            globals: [None; MAX_GLOBALS],
            goroutines: [goroutine; MAX_GOROUTINES],
            phase: Phase::Idle,
            marking: false,
            allocate_black: false,
            globals_scanned: 0,
            grey: 0,
        }
    }

    fn object(&self, o: Obj) -> &Object {
        &self.objects[o as usize]
    }

    fn local(&self, g: usize, l: usize) -> Ptr {
        self.goroutines[g].locals[l]
    }

    fn load(&self, t: Target) -> Ptr {
        match t {
            Target::Field(o, f) => self.object(o).fields[f as usize],
            Target::Global(i) => self.globals[i as usize],
        }
    }

    fn store(&mut self, t: Target, v: Ptr) {
        match t {
            Target::Field(o, f) => self.objects[o as usize].fields[f as usize] = v,
            Target::Global(i) => self.globals[i as usize] = v,
        }
    }

    /// `Concurrent::shade`: a white live object becomes marked, its fields
    /// queued for scanning.
    fn shade(&mut self, p: Ptr) {
        let Some(o) = p else { return };
        let obj = &mut self.objects[o as usize];
        if obj.status == Status::Live && !obj.marked {
            obj.marked = true;
            self.grey |= ((1u16 << FIELDS) - 1) << (o as usize * FIELDS);
        }
    }

    fn scan_field(&mut self, o: Obj, f: u8) {
        self.grey &= !(1 << (o as usize * FIELDS + f as usize));
        self.shade(self.object(o).fields[f as usize]);
    }

    fn scan_stack(&mut self, g: usize) {
        for l in 0..MAX_LOCALS {
            self.shade(self.local(g, l));
        }
        self.goroutines[g].scanned = true;
    }

    /// The state packed into 256 bits: what the search remembers.
    fn key(&self) -> Key {
        let mut k = Bits { words: [0; 4], at: 0 };
        for o in &self.objects {
            k.put(o.status as u64, 2);
            k.put(o.marked as u64, 1);
            o.fields.iter().for_each(|&f| k.put(ptr_bits(f), 4));
        }
        self.globals.iter().for_each(|&g| k.put(ptr_bits(g), 4));
        for g in &self.goroutines {
            k.put(g.active as u64, 1);
            k.put(g.scanned as u64, 1);
            k.put(g.budget as u64, 4);
            g.locals.iter().for_each(|&l| k.put(ptr_bits(l), 4));
            k.put(
                match g.pending {
                    None => 0,
                    Some((Target::Field(o, f), v)) => 1 | (o as u64) << 2 | (f as u64) << 5 | ptr_bits(v) << 6,
                    Some((Target::Global(i), v)) => 1 | 2 | (i as u64) << 2 | ptr_bits(v) << 6,
                },
                10,
            );
        }
        k.put(
            match self.phase {
                Phase::Idle => 0,
                Phase::Mark => 1,
                Phase::Done => 2,
                Phase::PreScan(n) => 3 + n as u64,
            },
            3,
        );
        k.put(self.marking as u64, 1);
        k.put(self.allocate_black as u64, 1);
        k.put(self.globals_scanned as u64, MAX_GLOBALS);
        k.put(self.grey as u64, MAX_OBJECTS * FIELDS);
        k.words
    }

    /// Can the world stop? (No goroutine is between a barrier and its store.)
    fn at_safepoint(&self) -> bool {
        self.goroutines.iter().all(|g| g.pending.is_none())
    }
}

/// A packed state.
type Key = [u64; 4];

/// A bit writer for [`State::key`].
struct Bits {
    words: Key,
    at: usize,
}

impl Bits {
    fn put(&mut self, v: u64, width: usize) {
        assert!(v < 1 << width && self.at + width <= 256, "the state does not fit its key");
        let (w, b) = (self.at / 64, self.at % 64);
        self.words[w] |= v << b;
        if b + width > 64 {
            self.words[w + 1] |= v >> (64 - b);
        }
        self.at += width;
    }
}

/// nil is 0, object o is o + 1.
fn ptr_bits(p: Ptr) -> u64 {
    p.map_or(0, |o| o as u64 + 1)
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

/// A value a goroutine stores: nil or one of its locals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Nil,
    Local(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    LoadField { g: usize, dst: usize, src: usize, field: usize },
    LoadGlobal { g: usize, dst: usize, global: usize },
    StoreField { g: usize, obj: usize, field: usize, value: Value },
    StoreGlobal { g: usize, global: usize, value: Value },
    FinishStore { g: usize },
    Clear { g: usize, local: usize },
    Alloc { g: usize, dst: usize },
    Spawn { g: usize, child: usize, arg: usize },
    SweepTermination,
    PreScanStack(usize),
    BarrierOn,
    ScanGlobal(usize),
    ScanStack(usize),
    ScanField(Obj, u8),
    MarkTermination,
}

impl Step {
    /// Who runs it: `Some(g)` for goroutine g, `None` for the collector.
    fn goroutine(self) -> Option<usize> {
        match self {
            Step::LoadField { g, .. }
            | Step::LoadGlobal { g, .. }
            | Step::StoreField { g, .. }
            | Step::StoreGlobal { g, .. }
            | Step::FinishStore { g }
            | Step::Clear { g, .. }
            | Step::Alloc { g, .. }
            | Step::Spawn { g, .. } => Some(g),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/// The sizes of a configuration (what the steps range over).
#[derive(Clone, Copy, Debug)]
struct Bounds {
    objects: usize,
    globals: usize,
    goroutines: usize,
    locals: usize,
    /// Ops per goroutine (a goroutine spawned later gets as many).
    budget: u8,
    spawn: bool,
    /// The barrier and the store are separate steps.
    split_writes: bool,
    /// Mutators go on running after the sweep. Nothing they do then can
    /// break the property (they only copy pointers they reach, and the sweep
    /// was the last chance to free a reachable object), so the exhaustive
    /// searches stop at the sweep; the random runs go on to the end.
    after_sweep: bool,
}

struct Model {
    bounds: Bounds,
    faults: ConcurrentFaults,
}

impl Model {
    fn new(bounds: Bounds, faults: ConcurrentFaults) -> Model {
        assert!(bounds.objects <= MAX_OBJECTS && bounds.globals <= MAX_GLOBALS);
        assert!(bounds.goroutines <= MAX_GOROUTINES && bounds.locals <= MAX_LOCALS);
        assert!(bounds.budget < 16, "a budget fits in four bits");
        Model { bounds, faults }
    }

    /// Every step enabled in `s`.
    fn steps(&self, s: &State, out: &mut Vec<Step>) {
        out.clear();
        self.collector_steps(s, out);
        for g in 0..self.bounds.goroutines {
            self.mutator_steps(s, g, out);
        }
    }

    fn collector_steps(&self, s: &State, out: &mut Vec<Step>) {
        let b = &self.bounds;
        match s.phase {
            Phase::Idle if s.at_safepoint() => out.push(Step::SweepTermination),
            Phase::Idle | Phase::Done => {}
            Phase::PreScan(n) if (n as usize) < b.goroutines => {
                if s.goroutines[n as usize].pending.is_none() {
                    out.push(Step::PreScanStack(n as usize));
                }
            }
            Phase::PreScan(_) => out.push(Step::BarrierOn),
            Phase::Mark => {
                let globals_done = (0..b.globals).all(|i| s.globals_scanned & (1 << i) != 0);
                let stacks_done = (0..b.goroutines).all(|g| s.goroutines[g].scanned);
                for i in (0..b.globals).filter(|&i| s.globals_scanned & (1 << i) == 0) {
                    out.push(Step::ScanGlobal(i));
                }
                for g in (0..b.goroutines).filter(|&g| !s.goroutines[g].scanned && s.goroutines[g].pending.is_none()) {
                    out.push(Step::ScanStack(g));
                }
                for bit in (0..MAX_OBJECTS * FIELDS).filter(|&bit| s.grey & (1 << bit) != 0) {
                    out.push(Step::ScanField((bit / FIELDS) as Obj, (bit % FIELDS) as u8));
                }
                if globals_done && stacks_done && s.at_safepoint() {
                    out.push(Step::MarkTermination);
                }
            }
        }
    }

    fn mutator_steps(&self, s: &State, g: usize, out: &mut Vec<Step>) {
        let b = &self.bounds;
        let gr = &s.goroutines[g];
        if !gr.active {
            return;
        }
        if gr.pending.is_some() {
            out.push(Step::FinishStore { g });
            return;
        }
        if gr.budget == 0 || (s.phase == Phase::Done && !b.after_sweep) {
            return;
        }
        let held = |l: usize| gr.locals[l].is_some();
        // Values worth storing: nil, and each non-nil local.
        let values = || std::iter::once(Value::Nil).chain((0..b.locals).filter(move |&l| held(l)).map(Value::Local));
        for dst in 0..b.locals {
            for src in (0..b.locals).filter(|&l| held(l)) {
                for field in 0..FIELDS {
                    let o = gr.locals[src].unwrap();
                    if s.object(o).fields[field] != gr.locals[dst] {
                        out.push(Step::LoadField { g, dst, src, field });
                    }
                }
            }
            for global in (0..b.globals).filter(|&i| s.globals[i] != gr.locals[dst]) {
                out.push(Step::LoadGlobal { g, dst, global });
            }
            if held(dst) {
                out.push(Step::Clear { g, local: dst });
            }
            if self.free_object(s).is_some() {
                out.push(Step::Alloc { g, dst });
            }
        }
        for obj in (0..b.locals).filter(|&l| held(l)) {
            for field in 0..FIELDS {
                out.extend(values().map(|value| Step::StoreField { g, obj, field, value }));
            }
        }
        for global in 0..b.globals {
            out.extend(values().map(|value| Step::StoreGlobal { g, global, value }));
        }
        if b.spawn {
            if let Some(child) = (0..b.goroutines).find(|&c| !s.goroutines[c].active) {
                out.extend((0..b.locals).filter(|&l| held(l)).map(|arg| Step::Spawn { g, child, arg }));
            }
        }
    }

    /// The object the next allocation gets (freed memory is never reused).
    fn free_object(&self, s: &State) -> Option<Obj> {
        (0..self.bounds.objects).find(|&o| s.objects[o].status == Status::Unallocated).map(|o| o as Obj)
    }

    fn value(s: &State, g: usize, v: Value) -> Ptr {
        match v {
            Value::Nil => None,
            Value::Local(l) => s.local(g, l),
        }
    }

    /// The state after `step` (which must be enabled in `s`).
    fn apply(&self, s: &State, step: Step) -> State {
        let mut n = *s;
        if let Some(g) = step.goroutine() {
            if !matches!(step, Step::FinishStore { .. }) {
                n.goroutines[g].budget -= 1;
            }
        }
        match step {
            Step::LoadField { g, dst, src, field } => {
                let o = n.local(g, src).expect("load through a nil local");
                n.goroutines[g].locals[dst] = n.object(o).fields[field];
            }
            Step::LoadGlobal { g, dst, global } => n.goroutines[g].locals[dst] = n.globals[global],
            Step::StoreField { g, obj, field, value } => {
                let o = n.local(g, obj).expect("store through a nil local");
                self.write(&mut n, g, Target::Field(o, field as u8), Model::value(s, g, value));
            }
            Step::StoreGlobal { g, global, value } => {
                self.write(&mut n, g, Target::Global(global as u8), Model::value(s, g, value));
            }
            Step::FinishStore { g } => {
                let (t, v) = n.goroutines[g].pending.take().expect("a store in flight");
                n.store(t, v);
            }
            Step::Clear { g, local } => n.goroutines[g].locals[local] = None,
            Step::Alloc { g, dst } => {
                let o = self.free_object(&n).expect("a free object");
                n.objects[o as usize] =
                    Object { status: Status::Live, marked: n.allocate_black, fields: [None; FIELDS] };
                n.goroutines[g].locals[dst] = Some(o);
            }
            Step::Spawn { g, child, arg } => self.spawn(&mut n, child, s.local(g, arg)),
            Step::SweepTermination => self.sweep_termination(&mut n),
            Step::PreScanStack(g) => {
                n.scan_stack(g);
                n.phase = Phase::PreScan(g as u8 + 1);
            }
            Step::BarrierOn => {
                n.marking = true;
                n.phase = Phase::Mark;
            }
            Step::ScanGlobal(i) => {
                n.shade(n.globals[i]);
                n.globals_scanned |= 1 << i;
            }
            Step::ScanStack(g) => n.scan_stack(g),
            Step::ScanField(o, f) => n.scan_field(o, f),
            Step::MarkTermination => self.mark_termination(&mut n),
        }
        n
    }

    /// `write_pointer` / `write_global`: the barrier while marking, then the
    /// store (a step later, with split writes).
    fn write(&self, s: &mut State, g: usize, target: Target, new: Ptr) {
        if s.marking {
            if !self.faults.no_deletion_barrier {
                s.shade(s.load(target));
            }
            if !self.faults.no_insertion_barrier && !s.goroutines[g].scanned {
                s.shade(new);
            }
        }
        if self.bounds.split_writes {
            s.goroutines[g].pending = Some((target, new));
        } else {
            s.store(target, new);
        }
    }

    /// `on_spawn`: the child starts with `arg` in its first local.
    fn spawn(&self, s: &mut State, child: usize, arg: Ptr) {
        let c = &mut s.goroutines[child];
        c.active = true;
        c.budget = self.bounds.budget;
        c.locals = [None; MAX_LOCALS];
        c.locals[0] = arg;
        if s.marking {
            s.goroutines[child].scanned = true;
            s.shade(arg);
        }
    }

    fn sweep_termination(&self, s: &mut State) {
        if self.faults.scan_stacks_before_barrier {
            s.phase = Phase::PreScan(0);
        } else {
            s.marking = true;
            s.phase = Phase::Mark;
        }
        s.allocate_black = !self.faults.allocate_white;
    }

    fn mark_termination(&self, s: &mut State) {
        while s.grey != 0 {
            let bit = s.grey.trailing_zeros() as usize;
            s.scan_field((bit / FIELDS) as Obj, (bit % FIELDS) as u8);
        }
        s.marking = false;
        s.allocate_black = false;
        for o in s.objects.iter_mut().filter(|o| o.status == Status::Live) {
            if !o.marked {
                o.status = Status::Freed;
            }
            o.marked = false;
        }
        s.phase = Phase::Done;
    }

    /// The property: a freed object that a root still reaches, with the path.
    fn violation(&self, s: &State) -> Option<String> {
        let b = &self.bounds;
        // How each object was first reached.
        let mut via: [Option<Via>; MAX_OBJECTS] = Default::default();
        let mut queue: Vec<Obj> = Vec::new();
        for (i, p) in s.globals[..b.globals].iter().enumerate() {
            reach(&mut via, &mut queue, *p, Via::Global(i));
        }
        for (g, gr) in s.goroutines[..b.goroutines].iter().enumerate().filter(|(_, gr)| gr.active) {
            for (l, p) in gr.locals[..b.locals].iter().enumerate() {
                reach(&mut via, &mut queue, *p, Via::Local(g, l));
            }
        }
        let mut next = 0;
        while next < queue.len() {
            let o = queue[next];
            next += 1;
            match s.object(o).status {
                Status::Freed => return Some(path_to(o, &via)),
                Status::Unallocated => panic!("o{o} is reachable but was never allocated"),
                Status::Live => {
                    for (f, p) in s.object(o).fields.iter().enumerate() {
                        reach(&mut via, &mut queue, *p, Via::Field(o, f));
                    }
                }
            }
        }
        None
    }
}

/// How the property check first reached an object.
enum Via {
    Global(usize),
    Local(usize, usize),
    Field(Obj, usize),
}

fn reach(via: &mut [Option<Via>; MAX_OBJECTS], queue: &mut Vec<Obj>, p: Ptr, how: Via) {
    if let Some(o) = p {
        if via[o as usize].is_none() {
            via[o as usize] = Some(how);
            queue.push(o);
        }
    }
}

/// `oK freed, yet reachable: G0 -> o0.f1 -> oK`.
fn path_to(o: Obj, via: &[Option<Via>; MAX_OBJECTS]) -> String {
    let mut hops = vec![format!("o{o}")];
    let mut at = o;
    loop {
        match via[at as usize].as_ref().expect("reached") {
            Via::Global(i) => {
                hops.push(format!("G{i}"));
                break;
            }
            Via::Local(g, l) => {
                hops.push(format!("g{g}.l{l}"));
                break;
            }
            Via::Field(from, f) => {
                hops.push(format!("o{from}.f{f}"));
                at = *from;
            }
        }
    }
    hops.reverse();
    format!("o{o} freed, yet reachable: {}", hops.join(" -> "))
}

// ---------------------------------------------------------------------------
// Initial heaps
// ---------------------------------------------------------------------------

/// Builds an initial state from a list of facts, for example
/// `"G0=o0 o0.f0=o1 g0.l0=o1 g1"`: `oN` is a live object, `oN.fF=oM` a field,
/// `Gi=oN` a global, `gK.lJ=oN` a local of the (active) goroutine gK, `gK` an
/// active goroutine, `gK:N` one with an op budget of N (instead of the
/// bounds' budget). Objects not named are free, for allocation; goroutines not
/// named are not started.
fn setup(bounds: &Bounds, facts: &str) -> State {
    let mut s = State::empty();
    let obj = |t: &str| -> Obj { t.strip_prefix('o').and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{t}")) };
    let live = |s: &mut State, o: Obj| s.objects[o as usize].status = Status::Live;
    let start = |s: &mut State, g: usize| {
        if !s.goroutines[g].active {
            s.goroutines[g].active = true;
            s.goroutines[g].budget = bounds.budget;
        }
    };
    for fact in facts.split_whitespace() {
        let (lhs, rhs) = fact.split_once('=').map_or((fact, None), |(l, r)| (l, Some(obj(r))));
        if let Some(o) = rhs {
            live(&mut s, o);
        }
        let (head, tail) = lhs.split_once('.').map_or((lhs, None), |(h, t)| (h, Some(t)));
        let index =
            |t: &str, prefix: char| -> usize { t[prefix.len_utf8()..].parse().unwrap_or_else(|_| panic!("{fact}")) };
        match (head.chars().next(), tail) {
            (Some('o'), None) => live(&mut s, obj(head)),
            (Some('o'), Some(f)) => {
                live(&mut s, obj(head));
                s.objects[obj(head) as usize].fields[index(f, 'f')] = rhs;
            }
            (Some('G'), None) => s.globals[index(head, 'G')] = rhs,
            (Some('g'), None) => match head.split_once(':') {
                None => start(&mut s, index(head, 'g')),
                Some((g, n)) => {
                    let g = index(g, 'g');
                    start(&mut s, g);
                    s.goroutines[g].budget = n.parse().unwrap_or_else(|_| panic!("{fact}"));
                }
            },
            (Some('g'), Some(l)) => {
                let g = index(head, 'g');
                start(&mut s, g);
                s.goroutines[g].locals[index(l, 'l')] = rhs;
            }
            _ => panic!("bad fact {fact}"),
        }
    }
    s
}

/// The facts [`setup`] builds `s` from (its live objects, globals and
/// started goroutines with their budgets and locals).
fn facts(bounds: &Bounds, s: &State) -> String {
    let mut out: Vec<String> = Vec::new();
    for (i, p) in s.globals[..bounds.globals].iter().enumerate() {
        out.extend(p.map(|o| format!("G{i}=o{o}")));
    }
    for (o, obj) in s.objects[..bounds.objects].iter().enumerate().filter(|(_, obj)| obj.status == Status::Live) {
        out.extend(obj.fields.iter().enumerate().filter_map(|(f, p)| p.map(|t| format!("o{o}.f{f}=o{t}"))));
    }
    for (g, gr) in s.goroutines[..bounds.goroutines].iter().enumerate().filter(|(_, gr)| gr.active) {
        out.push(format!("g{g}:{}", gr.budget));
        for (l, p) in gr.locals[..bounds.locals].iter().enumerate() {
            out.extend(p.map(|o| format!("g{g}.l{l}=o{o}")));
        }
    }
    // Live objects no fact names yet.
    let named = |o: usize| out.iter().any(|f| f.split(['=', '.']).any(|t| t == format!("o{o}")));
    let unnamed: Vec<String> = (0..bounds.objects)
        .filter(|&o| s.objects[o].status == Status::Live && !named(o))
        .map(|o| format!("o{o}"))
        .collect();
    out.extend(unnamed);
    out.join(" ")
}

/// A random initial heap for `bounds`: a few live objects with random fields,
/// random globals, every goroutine but the last started with random locals.
fn random_setup(bounds: &Bounds, rng: &mut StdRng) -> State {
    let mut s = State::empty();
    let live = rng.random_range(2..=bounds.objects - 2);
    let pick = |rng: &mut StdRng, p: f64| -> Ptr { rng.random_bool(p).then(|| rng.random_range(0..live) as Obj) };
    for o in 0..live {
        s.objects[o].status = Status::Live;
        for f in 0..FIELDS {
            s.objects[o].fields[f] = pick(rng, 0.4);
        }
    }
    for i in 0..bounds.globals {
        s.globals[i] = pick(rng, 0.6);
    }
    for g in 0..bounds.goroutines - 1 {
        s.goroutines[g].active = true;
        s.goroutines[g].budget = bounds.budget;
        for l in 0..bounds.locals {
            s.goroutines[g].locals[l] = pick(rng, 0.4);
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Exhaustive search
// ---------------------------------------------------------------------------

struct Search {
    states: usize,
    transitions: usize,
    max_depth: usize,
    /// States after a sweep that freed something (the collector does collect).
    states_with_frees: usize,
    /// The first violating trace found (depth-first order).
    counterexample: Option<Vec<Step>>,
}

/// A bound on any one exhaustive search, so a case that grows too big fails
/// fast instead of eating the machine's memory.
const MAX_STATES: usize = 2_000_000;

/// The Firefox/rustc hash (FxHash): much faster than the default SipHash on
/// these small keys, and the keys are not adversarial.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64);
    }

    fn write_u16(&mut self, v: u16) {
        self.write_u64(v as u64);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

struct Frame {
    state: State,
    steps: Vec<Step>,
    next: usize,
}

/// Depth-first search over every interleaving from `init`, visiting each
/// state once; stops at the first state that breaks the property.
fn explore(model: &Model, init: State) -> Search {
    let mut search = Search { states: 1, transitions: 0, max_depth: 0, states_with_frees: 0, counterexample: None };
    if model.violation(&init).is_some() {
        search.counterexample = Some(Vec::new());
        return search;
    }
    let mut seen: HashSet<Key, BuildHasherDefault<FxHasher>> = HashSet::default();
    seen.insert(init.key());
    let frame = |state: State| {
        let mut steps = Vec::new();
        model.steps(&state, &mut steps);
        Frame { state, steps, next: 0 }
    };
    let mut stack = vec![frame(init)];
    while let Some(top) = stack.last_mut() {
        let Some(&step) = top.steps.get(top.next) else {
            stack.pop();
            continue;
        };
        top.next += 1;
        let succ = model.apply(&top.state, step);
        search.transitions += 1;
        if !seen.insert(succ.key()) {
            continue;
        }
        search.states += 1;
        assert!(search.states <= MAX_STATES, "more than {MAX_STATES} states: make the case smaller");
        if succ.objects.iter().any(|o| o.status == Status::Freed) {
            search.states_with_frees += 1;
        }
        if model.violation(&succ).is_some() {
            search.counterexample = Some(stack.iter().map(|f| f.steps[f.next - 1]).collect());
            return search;
        }
        stack.push(frame(succ));
        search.max_depth = search.max_depth.max(stack.len() - 1);
    }
    search
}

/// Replays `trace` from `init`; `Some(n)` if every step is enabled and the
/// state after step n breaks the property.
fn replay_fails(model: &Model, init: State, trace: &[Step]) -> Option<usize> {
    let mut s = init;
    let mut enabled = Vec::new();
    for (i, &step) in trace.iter().enumerate() {
        model.steps(&s, &mut enabled);
        if !enabled.contains(&step) {
            return None;
        }
        s = model.apply(&s, step);
        if model.violation(&s).is_some() {
            return Some(i + 1);
        }
    }
    None
}

/// Drops every step the failure does not need, one at a time (or with the
/// same goroutine's next step: a barrier and its store go together), until
/// no step can go.
fn minimise(model: &Model, init: State, trace: &[Step]) -> Vec<Step> {
    let mut t = trace.to_vec();
    let n = replay_fails(model, init, &t).expect("the trace fails");
    t.truncate(n);
    let mut i = t.len();
    while i > 0 {
        i -= 1;
        let mut alone = t.clone();
        alone.remove(i);
        let mut with_next = alone.clone();
        if let Some(g) = t[i].goroutine() {
            if let Some(j) = with_next[i..].iter().position(|s| s.goroutine() == Some(g)) {
                with_next.remove(i + j);
            }
        }
        for mut shorter in [alone, with_next] {
            if let Some(n) = replay_fails(model, init, &shorter) {
                shorter.truncate(n);
                t = shorter;
                i = i.min(t.len());
                break;
            }
        }
    }
    t
}

/// The trace, one line per step, with what each step marked and freed.
fn render(model: &Model, init: State, trace: &[Step]) -> String {
    let mut out = format!("  initial heap: {}\n", facts(&model.bounds, &init));
    let mut s = init;
    for (i, &step) in trace.iter().enumerate() {
        let next = model.apply(&s, step);
        let _ = writeln!(out, "  {:>2}. {}{}", i + 1, describe(model, &s, step), effects(&s, &next));
        s = next;
    }
    let _ = writeln!(out, "  => {}", model.violation(&s).unwrap_or_else(|| "no violation".into()));
    out
}

fn name(p: Ptr) -> String {
    p.map_or("nil".into(), |o| format!("o{o}"))
}

fn describe(model: &Model, s: &State, step: Step) -> String {
    let value = |g: usize, v: Value| match v {
        Value::Nil => "nil".to_string(),
        Value::Local(l) => format!("l{l} ({})", name(s.local(g, l))),
    };
    let split = if model.bounds.split_writes { ", barrier only" } else { "" };
    match step {
        Step::LoadField { g, dst, src, field } => {
            let o = s.local(g, src).unwrap();
            format!("g{g}: l{dst} = l{src}.f{field}  (o{o}.f{field} = {})", name(s.object(o).fields[field]))
        }
        Step::LoadGlobal { g, dst, global } => format!("g{g}: l{dst} = G{global}  ({})", name(s.globals[global])),
        Step::StoreField { g, obj, field, value: v } => {
            let o = s.local(g, obj).unwrap();
            let old = name(s.object(o).fields[field]);
            format!("g{g}: l{obj}.f{field} = {}  (o{o}.f{field} was {old}{split})", value(g, v))
        }
        Step::StoreGlobal { g, global, value: v } => {
            format!("g{g}: G{global} = {}  (was {}{split})", value(g, v), name(s.globals[global]))
        }
        Step::FinishStore { g } => {
            let (t, v) = s.goroutines[g].pending.unwrap();
            let slot = match t {
                Target::Field(o, f) => format!("o{o}.f{f}"),
                Target::Global(i) => format!("G{i}"),
            };
            format!("g{g}: store {slot} = {}", name(v))
        }
        Step::Clear { g, local } => format!("g{g}: l{local} = nil  (was {})", name(s.local(g, local))),
        Step::Alloc { g, dst } => {
            let colour = if s.allocate_black { "black" } else { "white" };
            format!("g{g}: l{dst} = new {}  ({colour})", name(model.free_object(s)))
        }
        Step::Spawn { g, child, arg } => format!("g{g}: go g{child}(l{arg} = {})", name(s.local(g, arg))),
        Step::SweepTermination => {
            let barrier = if model.faults.scan_stacks_before_barrier { "barrier still off" } else { "barrier on" };
            let alloc = if model.faults.allocate_white { "allocate white" } else { "allocate black" };
            format!("GC: sweep termination (stop the world): {barrier}, {alloc}")
        }
        Step::PreScanStack(g) => format!("GC: scan g{g}'s stack before the barrier is on (g{g} black)"),
        Step::BarrierOn => "GC: barrier on".into(),
        Step::ScanGlobal(i) => format!("GC: scan G{i}"),
        Step::ScanStack(g) => format!("GC: scan g{g}'s stack (g{g} black)"),
        Step::ScanField(o, f) => format!("GC: scan o{o}.f{f}"),
        Step::MarkTermination => "GC: mark termination (stop the world): drain, barrier off, sweep".into(),
    }
}

fn effects(before: &State, after: &State) -> String {
    let changed = |what: &str, f: &dyn Fn(&Object, &Object) -> bool| {
        let objs: Vec<String> =
            (0..MAX_OBJECTS).filter(|&o| f(&before.objects[o], &after.objects[o])).map(|o| format!("o{o}")).collect();
        (!objs.is_empty()).then(|| format!("{what} {}", objs.join(" ")))
    };
    let marks = changed("marks", &|b, a| !b.marked && a.marked && b.status == Status::Live);
    let frees = changed("frees", &|b, a| b.status != Status::Freed && a.status == Status::Freed);
    let parts: Vec<String> = [marks, frees].into_iter().flatten().collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("  [{}]", parts.join("; "))
    }
}

// ---------------------------------------------------------------------------
// Random search
// ---------------------------------------------------------------------------

/// One random schedule, to the end or to the first state that breaks the
/// property: its trace, and whether it broke the property or the sweep freed
/// something.
struct Run {
    trace: Vec<Step>,
    failed: bool,
    freed: bool,
}

/// At each step the collector runs with probability `collector_share` (if it
/// can), else a random goroutine that can.
fn random_run(model: &Model, init: State, rng: &mut StdRng, collector_share: f64) -> Run {
    let mut s = init;
    let mut trace = Vec::new();
    let mut enabled = Vec::new();
    loop {
        model.steps(&s, &mut enabled);
        if enabled.is_empty() {
            let freed = s.objects.iter().any(|o| o.status == Status::Freed);
            return Run { trace, failed: false, freed };
        }
        let step = pick_step(&enabled, rng, collector_share);
        s = model.apply(&s, step);
        trace.push(step);
        if model.violation(&s).is_some() {
            return Run { trace, failed: true, freed: true };
        }
    }
}

fn pick_step(enabled: &[Step], rng: &mut StdRng, collector_share: f64) -> Step {
    let collector: Vec<Step> = enabled.iter().copied().filter(|s| s.goroutine().is_none()).collect();
    let mut runnable: Vec<usize> = enabled.iter().filter_map(|s| s.goroutine()).collect();
    runnable.dedup();
    if !collector.is_empty() && (runnable.is_empty() || rng.random_bool(collector_share)) {
        return collector[rng.random_range(0..collector.len())];
    }
    let g = runnable[rng.random_range(0..runnable.len())];
    let mine: Vec<Step> = enabled.iter().copied().filter(|s| s.goroutine() == Some(g)).collect();
    // A kind of op first (load, store, clear, …), then one of that kind.
    let mut kinds: Vec<std::mem::Discriminant<Step>> = mine.iter().map(std::mem::discriminant).collect();
    kinds.dedup();
    let kind = kinds[rng.random_range(0..kinds.len())];
    let of_kind: Vec<Step> = mine.into_iter().filter(|s| std::mem::discriminant(s) == kind).collect();
    of_kind[rng.random_range(0..of_kind.len())]
}

struct RandomSearch {
    runs: usize,
    /// Steps run, in all runs.
    steps: usize,
    /// Runs whose sweep freed something (the collector does collect).
    freeing: usize,
    failures: usize,
    /// The shortest minimised failing trace, with its initial state.
    shortest: Option<(State, Vec<Step>)>,
}

const RANDOM_BOUNDS: Bounds = Bounds {
    objects: 8,
    globals: 3,
    goroutines: 4,
    locals: 3,
    budget: 8,
    spawn: true,
    split_writes: true,
    after_sweep: true,
};

/// Up to `runs` random heaps and schedules from `seed`, stopping after
/// `max_failures` failing runs.
fn random_search(faults: ConcurrentFaults, seed: u64, runs: usize, max_failures: usize) -> RandomSearch {
    let model = Model::new(RANDOM_BOUNDS, faults);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut r = RandomSearch { runs: 0, steps: 0, freeing: 0, failures: 0, shortest: None };
    for run in 1..=runs {
        r.runs = run;
        let init = random_setup(&model.bounds, &mut rng);
        let share = [0.05, 0.1, 0.2, 0.4][rng.random_range(0..4)];
        let run = random_run(&model, init, &mut rng, share);
        r.steps += run.trace.len();
        r.freeing += run.freed as usize;
        if run.failed {
            r.failures += 1;
            let t = minimise(&model, init, &run.trace);
            if r.shortest.as_ref().is_none_or(|(_, best)| t.len() < best.len()) {
                r.shortest = Some((init, t));
            }
            if r.failures == max_failures {
                break;
            }
        }
    }
    r
}

// ---------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------

struct Case {
    name: &'static str,
    bounds: Bounds,
    facts: &'static str,
}

const fn bounds(objects: usize, globals: usize, goroutines: usize, budget: u8) -> Bounds {
    Bounds { objects, globals, goroutines, locals: 2, budget, spawn: false, split_writes: false, after_sweep: false }
}

/// Small heaps, each with one free object to allocate, two locals per
/// goroutine and one to three ops per goroutine (`gK:N`), so that each
/// case's state space is finite and small. Every case is explored exhaustively, for
/// the correct protocol and for each fault.
const CASES: &[Case] = &[
    // g0 alone holds o1, and o0, which the global holds too.
    Case { name: "private pointer", bounds: bounds(3, 1, 2, 2), facts: "G0=o0 g0.l0=o0 g0.l1=o1 g1:1" },
    // A chain from the global; g0 holds its head, g1 its tail.
    Case { name: "shared chain", bounds: bounds(3, 1, 2, 2), facts: "G0=o0 o0.f0=o1 g0.l0=o0 g1:1 g1.l0=o1" },
    // A chain reached only through the global; g0 has three ops.
    Case { name: "chain from a global", bounds: bounds(3, 1, 2, 2), facts: "G0=o0 o0.f0=o1 g0:3 g1:1" },
    // g0 or g1 may start g2 (on_spawn), which then has one op.
    Case {
        name: "spawn",
        bounds: Bounds { spawn: true, ..bounds(3, 1, 3, 1) },
        facts: "G0=o0 o0.f0=o1 g0:2 g0.l0=o0 g1",
    },
    // As "private pointer", with the barrier and the store as two steps.
    Case {
        name: "private pointer, split writes",
        bounds: Bounds { split_writes: true, ..bounds(3, 1, 2, 2) },
        facts: "G0=o0 g0.l0=o0 g0.l1=o1 g1:1",
    },
];

fn faulty(f: fn(&mut ConcurrentFaults)) -> ConcurrentFaults {
    let mut faults = ConcurrentFaults::default();
    f(&mut faults);
    faults
}

/// Explores every case under `faults`; returns, per case, its search.
fn explore_cases(faults: ConcurrentFaults) -> Vec<(&'static Case, Model, State, Search)> {
    CASES
        .iter()
        .map(|case| {
            let model = Model::new(case.bounds, faults);
            let init = setup(&case.bounds, case.facts);
            let t = Instant::now();
            let search = explore(&model, init);
            println!(
                "{:<30} {:>8} states {:>10} transitions, depth {:>2}, {:>7} states after a free, {:>6.0?}{}",
                case.name,
                search.states,
                search.transitions,
                search.max_depth,
                search.states_with_frees,
                t.elapsed(),
                if search.counterexample.is_some() { "  COUNTEREXAMPLE" } else { "" }
            );
            (case, model, init, search)
        })
        .collect()
}

/// Every case has a counterexample under `faults`; prints the shortest
/// (after minimising), and returns its rendering.
fn assert_counterexamples(faults: ConcurrentFaults) -> String {
    println!("faults: {faults:?}");
    let mut best: Option<(&str, String, usize)> = None;
    for (case, model, init, search) in explore_cases(faults) {
        let trace =
            search.counterexample.unwrap_or_else(|| panic!("{}: no counterexample under {faults:?}", case.name));
        let short = minimise(&model, init, &trace);
        assert!(replay_fails(&model, init, &short).is_some());
        if best.as_ref().is_none_or(|(_, _, n)| short.len() < *n) {
            best = Some((case.name, render(&model, init, &short), short.len()));
        }
        println!("  {}: first trace {} steps, minimised to {}", case.name, trace.len(), short.len());
    }
    let (name, text, n) = best.expect("at least one case");
    println!("shortest counterexample ({n} steps, case \"{name}\"):\n{text}");
    text
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn the_full_barrier_is_safe_in_every_interleaving_of_small_heaps() {
    let mut total = 0;
    for (case, model, init, search) in explore_cases(ConcurrentFaults::default()) {
        if let Some(trace) = search.counterexample {
            let short = minimise(&model, init, &trace);
            panic!("{}: the correct protocol fails:\n{}", case.name, render(&model, init, &short));
        }
        assert!(search.states > 10_000, "{}: only {} states: the model is too small", case.name, search.states);
        assert!(search.states_with_frees > 0, "{}: no sweep ever freed anything", case.name);
        total += search.states;
    }
    println!("total: {total} states");
}

#[test]
fn without_the_deletion_barrier_a_reachable_object_is_freed() {
    let text = assert_counterexamples(faulty(|f| f.no_deletion_barrier = true));
    assert!(text.contains("freed, yet reachable"));
}

#[test]
fn without_the_insertion_barrier_a_reachable_object_is_freed() {
    let text = assert_counterexamples(faulty(|f| f.no_insertion_barrier = true));
    assert!(text.contains("freed, yet reachable"));
}

#[test]
fn allocating_white_during_marking_frees_a_reachable_object() {
    let text = assert_counterexamples(faulty(|f| f.allocate_white = true));
    assert!(text.contains("(white)"));
}

#[test]
fn scanning_stacks_before_the_barrier_is_on_frees_a_reachable_object() {
    let text = assert_counterexamples(faulty(|f| f.scan_stacks_before_barrier = true));
    assert!(text.contains("before the barrier is on"));
}

const RANDOM_RUNS: usize = 10_000;
const SEED: u64 = 0x6763_7762; // "gcwb"

#[test]
fn random_schedules_on_bigger_heaps_are_clean_with_the_full_barrier() {
    let t = Instant::now();
    let r = random_search(ConcurrentFaults::default(), SEED, RANDOM_RUNS, 1);
    println!(
        "{} random runs, {} steps, {} sweeps that freed something, in {:.1?}",
        r.runs,
        r.steps,
        r.freeing,
        t.elapsed()
    );
    if let Some((init, trace)) = &r.shortest {
        let model = Model::new(RANDOM_BOUNDS, ConcurrentFaults::default());
        panic!("run {} breaks the correct protocol:\n{}", r.runs, render(&model, *init, trace));
    }
    assert_eq!(r.runs, RANDOM_RUNS);
    assert!(r.freeing > RANDOM_RUNS / 2, "too few sweeps freed anything: {}", r.freeing);
}

#[test]
fn random_schedules_on_bigger_heaps_catch_every_fault() {
    let faults: [(&str, ConcurrentFaults); 4] = [
        ("no_deletion_barrier", faulty(|f| f.no_deletion_barrier = true)),
        ("no_insertion_barrier", faulty(|f| f.no_insertion_barrier = true)),
        ("allocate_white", faulty(|f| f.allocate_white = true)),
        ("scan_stacks_before_barrier", faulty(|f| f.scan_stacks_before_barrier = true)),
    ];
    for (name, f) in faults {
        let t = Instant::now();
        let r = random_search(f, SEED, RANDOM_RUNS, 10);
        println!("{name}: {} failing runs in the first {} ({:.1?})", r.failures, r.runs, t.elapsed());
        let (init, trace) = r.shortest.unwrap_or_else(|| panic!("{name}: none of {RANDOM_RUNS} random runs failed"));
        println!("the shortest, minimised:\n{}", render(&Model::new(RANDOM_BOUNDS, f), init, &trace));
    }
}

//! A model check of the concurrent collector's barrier and marking protocol.
//!
//! This file does not run the real collector. It runs a small abstract model
//! of the protocol that `collectors/src/go_cycle/mod.rs` implements (Go's
//! hybrid barrier, runtime/mbarrier.go, with the invariant in that module's
//! doc; marking in background *slices* on the replay's workers, each with a
//! grey stack of its own, and in mutators' assists, as that module's doc and
//! `collectors/src/background.rs` describe) and explores it two ways:
//! - **exhaustively**: a depth-first search over every interleaving of
//!   mutator and collector steps that remembers each state it has visited
//!   (packed into 320 bits), on small initial heaps ([`CASES`]) with an op
//!   budget per goroutine, so that each state space is finite;
//! - **randomly**: 10 000 seeded random schedules over random heaps of eight
//!   objects, three globals, four goroutines, two slices and assists
//!   ([`RANDOM_BOUNDS`]).
//!
//! The property, checked in every state reached: no object reachable from
//! the roots (the globals and every started goroutine's locals, then through
//! heap fields) has been freed. Freed memory is never reused in the model, so
//! this is both "the sweep frees nothing reachable" and "no mutator ever
//! holds a pointer to a freed object". After the sweep nothing can break it
//! (a mutator only copies pointers it reaches), so the exhaustive searches
//! stop there; the random runs go on to the end of every goroutine's budget.
//! But for the fault that skips the wait for the slices, the property has a
//! second half: once the mark is terminated, no slice and no assist holds a
//! grey object.
//!
//! The broken variants are chosen with the real collector's own
//! `collectors::plans::concurrent::ConcurrentFaults`, so a model variant has
//! the name of the real one (`slow_mark_us` means nothing here). The four
//! barrier faults are caught by every barrier case and by the random runs;
//! `terminate_without_waiting_for_markers` by every slice case. The random
//! runs seldom catch that one (one run in the first 10 000 of [`SEED`]: the
//! race needs the whole frontier of the mark on one slice's stack just when
//! the other slice finds nothing left, then six collector steps in one
//! order), so their test does not count on it.
//!
//! # Two ways to mark
//!
//! - **Slice cases** (`slices: 2`, and the random runs) mark as the code now
//!   does: each slice and the assist has a *hand*, the grey objects on its
//!   own stack, which nobody else sees; slices enter and leave the mark,
//!   yield, close it, and mark termination stops the world and waits for
//!   them (the steps below).
//! - **Barrier cases** (`slices: 0`, the first five) keep the grey work
//!   global: one bit per field of a grey object still to be scanned, any of
//!   which a marker may scan at any step (what it greys is global too), and
//!   mark termination is one step once the root jobs are done. That covers
//!   any number of markers in any order, *provided* no marker holds grey
//!   objects privately at mark termination, which is what the slice cases
//!   check: with that, every slice-case trace is a barrier-case trace with
//!   the same heaps and roots (a pop, an entry or a yield changes no heap; a
//!   scan from a hand is that field's scan). Hands and slice states make a
//!   case several times bigger ("private pointer": 3.7 times with one slice,
//!   over 10 with two), so the barrier cases, which try the barrier against
//!   more mutator ops, stay this way.
//!
//! # The model, and the code each step abstracts
//!
//! State: heap objects (unallocated, live or freed; a mark bit; two pointer
//! fields), globals (pointer slots), goroutines (started?, a few pointer
//! locals, "stack scanned this cycle", an op budget, a store in flight), the
//! phase of the one GC cycle, the `marking` flag (barrier on),
//! allocate-black, which globals are scanned, the shared grey queue, and,
//! with slices: each slice's place in `Concurrent::mark_slice` (out, in,
//! leaving, closing), each slice's hand, and the goroutine assisting (if
//! any) with its hand. Grey work is one bit per field of a grey object still
//! to be scanned, on the queue or in one hand. An object is white (not
//! marked), grey (marked, some field still to scan) or black. The search
//! takes states that differ only by which slice is which as one.
//!
//! Mutator steps (any started goroutine, at any time; each spends one op):
//! - `lA = lB.fN`, `lA = Gi`: plain loads, through a local that points to the
//!   object: a goroutine only touches what it reaches from its own locals and
//!   the globals. No collector hook.
//! - `lA.fN = v` (v is nil or a local) → `Concurrent::write_pointer` and
//!   `Concurrent::barrier`: while `marking`, `shade(old)` (the deletion half)
//!   and, if this goroutine's stack is not yet scanned (`stack_is_grey`),
//!   `shade(new)` (the insertion half), onto the shared queue; then the
//!   store. With split writes the barrier and the store are two steps, as
//!   in the real code (load the old value, barrier, store): other goroutines
//!   and the concurrent collector steps may run in between; stop-the-world
//!   steps and this goroutine's own stack scan may not (it is not at a
//!   safepoint).
//! - `Gi = v` → `Concurrent::write_global` (the same barrier:
//!   `Capabilities::barrier_on_globals`).
//! - `lA = nil`: a stack write, which takes no barrier.
//! - `lA = new oK` → `Concurrent::alloc`: black while the heap allocates
//!   black (`Heap::set_allocate_black`), else white.
//! - `go gC(lA)` → `Concurrent::on_spawn`: while `marking`, shade the
//!   argument and count the new stack as scanned.
//! - with assists: *assist begins* (while `marking`, the stop not yet
//!   requested, no other goroutine assisting: the replay lets one worker
//!   of two assist; and, to keep the cases small, only with something on the
//!   queue: an assist that begins with nothing to take changes nothing until
//!   there is) → `Collector::assist` at an event boundary; until *assist
//!   ends* the goroutine runs only its assist's pops and scans (below) and
//!   is not at a safepoint. It ends at any step (`drain` found nothing, its
//!   step was done, or a stop request: it polls) giving its hand back.
//!
//! Slice steps (`Concurrent::mark_slice`, run by a host worker in a slice):
//! - *enter* → `markers.fetch_add` with the `mark_cycle` check before and
//!   after it: only while the mark is on;
//! - *scan one global*, *scan goroutine g's stack* → `root_job` (the real
//!   globals job is not atomic, so one global per step; a stack scan is
//!   atomic for g, which must be at a safepoint, while the others run; a
//!   stack already scanned — a goroutine started during marking — is not
//!   scanned again), by a slice in the mark, onto the shared queue;
//! - *take oN off the grey queue* → `drain`'s `grey.steal()`, only when its
//!   hand is empty (`local.pop()` comes first), in any order;
//! - *scan one field of an object in its hand* → `drain`'s loop over the
//!   object's pointer words, one word per step, in any order: what it greys
//!   goes on the same hand (`shade_into`);
//! - *yield* → `should_yield()` said stop: `drain` gives its hand back to the
//!   queue, `markers.fetch_sub`, Yielded. At any step boundary (the code
//!   polls every 32 objects and before each root job: it may go on after a
//!   stop request for a while, and so may the model);
//! - *found empty* → `drain` found its hand and the queue empty
//!   (`Steal::Empty`), every root job done;
//! - *leave* → the `markers.fetch_sub` after it, a separate step: another
//!   slice may yield and enter again in between, the race the wait in mark
//!   termination is for. The last out (`markers` was 1), with every root job
//!   done and the mark on, is *closing*; any other is done (Empty);
//! - *close* → the closing slice looks at the queue: not empty, it enters
//!   again (`markers.fetch_add`, `continue`); empty, it turns the mark off
//!   (`mark_cycle` compare-exchange to 0: no slice can enter any more) and
//!   runs mark termination (it is no longer a marker); a slice that finds
//!   the mark already off is done.
//!
//! World steps:
//! - sweep termination (stop the world; may come at any step) → its block in
//!   `Concurrent::start_cycle` (called by `collect`): `marking` on (unless
//!   `scan_stacks_before_barrier`), allocate black (unless `allocate_white`);
//! - with `scan_stacks_before_barrier` only: scan each stack in turn, then
//!   turn `marking` on → the `if self.faults.scan_stacks_before_barrier`
//!   branch of `root_job`;
//! - slice cases: *stop the world* → `mark_termination`'s
//!   `host.stop_the_world`, a step after the close (mutators run, barrier
//!   on, in between): from now on a goroutine only finishes the event it is
//!   in (the store after its barrier, its assist) and stops; slices go on
//!   until they yield or find nothing left; then *mark termination* once the
//!   world is stopped and `markers` is 0 → the `while self.markers ...` wait
//!   (skipped by `terminate_without_waiting_for_markers`), then `drain` of
//!   the queue, `marking` off, allocate white; then the sweep frees every
//!   live unmarked object;
//! - barrier cases: *scan one global*, *scan a stack* as above, *scan one
//!   field of a grey object* (any marker or assist), and *mark termination*
//!   (stop the world; once every root job is done): drain, barrier off, sweep.
//!
//! # What is abstracted away
//!
//! Memory ordering (each step is atomic and sequentially consistent; the
//! real code's Relaxed/Acquire/Release/SeqCst atomics and the host's
//! stop-the-world handshake are not modelled), object sizes, noscan objects
//! and interior pointers, stack blocks and stack shrinking (a stack is just
//! its locals), goroutine exit, the pacer (the cycle may start at any step,
//! an assist may begin at any op while marking), the host's scheduling of
//! slices (a slice may enter at any step while the mark is on), the order
//! of a slice's stack and of the shared queue (any order), `drain` sharing
//! half of a long stack (a yield, an entry and pops reach the same states),
//! the brief `markers` increment of a closing slice that finds the mark
//! already off, reuse of freed memory, and more than one cycle. The real
//! sweep is concurrent and lazy (span by span, after mark termination); the
//! model frees at mark termination the same set of objects, everything
//! unmarked then; that the heap's lazy sweep frees exactly that set, and
//! spares what is allocated meanwhile, is the heap's own business, not the
//! barrier's. The real code is tested under real threads by the verifier in
//! `harness/tests/concurrent.rs`.
//!
//! # Reading a counterexample
//!
//! A failing search prints the initial heap, in the syntax of [`setup`]
//! (`G0=o0` a global, `o0.f0=o1` a field, `g0:2` a goroutine with two ops
//! left, `g0.l1=o1` a local), then the steps from it to the first state that
//! breaks the property, after dropping every step the failure does not need.
//! One line per step: its number, who runs it (`g0`, `g1`, … a goroutine or
//! its assist; `s0`, `s1` a slice; `GC` the world, or any marker in a
//! barrier case), what it does, with the objects it touches (`o0`, `o1`, …)
//! in parentheses (`holds` lists a hand), and in brackets what it did to the
//! colours: objects it marked (shaded) and objects it freed. A store that
//! marks nothing under a fault is the bug at work; so is a mark termination
//! `NOT waiting for` a slice that holds an object. The last line names the
//! freed object and the path by which a root still reaches it, e.g.
//! `o1 freed, yet reachable: G0 -> o0.f0 -> o1`.

#[path = "model/bits.rs"]
mod bits;
use bits::Bits;
use collectors::plans::concurrent::ConcurrentFaults;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;

const MAX_OBJECTS: usize = 8;
const FIELDS: usize = 2;
const MAX_GOROUTINES: usize = 4;
const MAX_LOCALS: usize = 3;
const MAX_GLOBALS: usize = 3;
/// Background mark slices running at once.
const MAX_SLICES: usize = 2;
/// Grey hands: one per slice, and the assist's (the last).
const HANDS: usize = MAX_SLICES + 1;
const ASSIST_HAND: usize = MAX_SLICES;

/// An object's index; a pointer is `Option<Obj>` (`None` is nil).
type Obj = u8;
type Ptr = Option<Obj>;

/// Grey work: bit `o * FIELDS + f` is field f of grey object o, still to
/// be scanned.
type Grey = u16;

/// The grey bits of object `o`'s fields.
fn object_bits(o: Obj) -> Grey {
    ((1 << FIELDS) - 1) << (o as usize * FIELDS)
}

/// The objects with a bit in `grey`.
fn grey_objects(grey: Grey) -> impl Iterator<Item = Obj> {
    (0..MAX_OBJECTS as Obj).filter(move |&o| grey & object_bits(o) != 0)
}

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

/// Where a background mark slice is in `Concurrent::mark_slice`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slice {
    /// Not marking (not counted in `markers`).
    Out,
    /// Counted in `markers`: claiming root jobs, draining.
    In,
    /// Still counted; its drain found its own stack and the shared queue
    /// empty, and it is about to leave (`markers.fetch_sub`).
    Leaving,
    /// Left the mark as the last marker (no longer counted), every root
    /// job done: about to look at the shared queue and, if it is empty,
    /// turn the mark off (`mark_cycle` compare-exchange).
    Closing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the cycle: no barrier.
    Idle,
    /// `scan_stacks_before_barrier` only: scanning stack `n` next.
    PreScan(u8),
    /// Concurrent mark: `mark_cycle` is on, slices may enter.
    Mark,
    /// A closing slice turned `mark_cycle` off and is about to stop the
    /// world; the barrier is still on, mutators still run.
    MarkOff,
    /// The stop is requested: mutators stop at their next safepoint,
    /// slices at their next poll; mark termination waits for both.
    Stopping,
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
    /// The shared grey queue (`Concurrent::grey`, the `Injector`).
    grey: Grey,
    slices: [Slice; MAX_SLICES],
    /// What each slice, and the assist, holds on its own grey stack
    /// (`drain`'s `local`): grey work nobody else sees.
    hands: [Grey; HANDS],
    /// The goroutine in a mark assist (at most one: the replay's limit on two workers).
    assist: Option<u8>,
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
            slices: [Slice::Out; MAX_SLICES],
            hands: [0; HANDS],
            assist: None,
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

    /// `Concurrent::mark_white`: a white live object becomes marked;
    /// returns its fields' grey bits, for the caller to queue.
    fn mark_white(&mut self, p: Ptr) -> Grey {
        let Some(o) = p else { return 0 };
        let obj = &mut self.objects[o as usize];
        if obj.status == Status::Live && !obj.marked {
            obj.marked = true;
            return object_bits(o);
        }
        0
    }

    /// `Concurrent::shade`: mark, onto the shared queue (the barrier, root
    /// jobs, `on_spawn`).
    fn shade(&mut self, p: Ptr) {
        self.grey |= self.mark_white(p);
    }

    /// One field of an object in hand `h`; what it greys goes on the same
    /// hand (`Concurrent::shade_into`).
    fn scan_field(&mut self, h: usize, o: Obj, f: u8) {
        self.hands[h] &= !(1 << (o as usize * FIELDS + f as usize));
        self.hands[h] |= self.mark_white(self.object(o).fields[f as usize]);
    }

    fn scan_stack(&mut self, g: usize) {
        for l in 0..MAX_LOCALS {
            self.shade(self.local(g, l));
        }
        self.goroutines[g].scanned = true;
    }

    /// Slices counted in `markers`.
    fn markers(&self) -> usize {
        self.slices.iter().filter(|&&m| matches!(m, Slice::In | Slice::Leaving)).count()
    }

    /// The state packed into 320 bits: what the search remembers.
    fn key(&self) -> Key {
        let mut k = Bits::<KEY_WORDS>::new();
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
                Phase::MarkOff => 2,
                Phase::Stopping => 3,
                Phase::Done => 4,
                Phase::PreScan(n) => 5 + n as u64,
            },
            4,
        );
        k.put(self.marking as u64, 1);
        k.put(self.allocate_black as u64, 1);
        k.put(self.globals_scanned as u64, MAX_GLOBALS);
        k.put(self.grey as u64, MAX_OBJECTS * FIELDS);
        // The slices are interchangeable (any of them runs any root job):
        // states that differ only by which slice is which are one state.
        let mut slices: [(u64, Grey); MAX_SLICES] = std::array::from_fn(|m| (self.slices[m] as u64, self.hands[m]));
        slices.sort_unstable();
        for (status, hand) in slices {
            k.put(status, 2);
            k.put(hand as u64, MAX_OBJECTS * FIELDS);
        }
        k.put(self.hands[ASSIST_HAND] as u64, MAX_OBJECTS * FIELDS);
        k.put(self.assist.map_or(0, |g| g as u64 + 1), 3);
        k.words
    }

    /// Can the world stop? (No goroutine is inside an event: between a
    /// barrier and its store, or in a mark assist.)
    fn at_safepoint(&self) -> bool {
        self.assist.is_none() && self.goroutines.iter().all(|g| g.pending.is_none())
    }

    /// Is goroutine g at a safepoint (so its stack can be scanned)?
    fn stopped_at_safepoint(&self, g: usize) -> bool {
        self.goroutines[g].pending.is_none() && self.assist != Some(g as u8)
    }
}

const KEY_WORDS: usize = 5;

/// A packed state.
type Key = [u64; KEY_WORDS];

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

/// Who drains a grey hand: background slice m, or goroutine g's assist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drainer {
    Slice(usize),
    Assist(usize),
}

impl Drainer {
    fn hand(self) -> usize {
        match self {
            Drainer::Slice(m) => m,
            Drainer::Assist(_) => ASSIST_HAND,
        }
    }

    fn name(self) -> String {
        match self {
            Drainer::Slice(m) => format!("s{m}"),
            Drainer::Assist(g) => format!("g{g}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    LoadField {
        g: usize,
        dst: usize,
        src: usize,
        field: usize,
    },
    LoadGlobal {
        g: usize,
        dst: usize,
        global: usize,
    },
    StoreField {
        g: usize,
        obj: usize,
        field: usize,
        value: Value,
    },
    StoreGlobal {
        g: usize,
        global: usize,
        value: Value,
    },
    FinishStore {
        g: usize,
    },
    Clear {
        g: usize,
        local: usize,
    },
    Alloc {
        g: usize,
        dst: usize,
    },
    Spawn {
        g: usize,
        child: usize,
        arg: usize,
    },
    AssistBegin {
        g: usize,
    },
    AssistEnd {
        g: usize,
    },
    /// Take an object's grey fields off the shared queue into a hand.
    Pop {
        by: Drainer,
        obj: Obj,
    },
    /// Scan one field of an object in the hand.
    Scan {
        by: Drainer,
        obj: Obj,
        field: u8,
    },
    Enter(usize),
    Yield(usize),
    FoundEmpty(usize),
    Leave(usize),
    Close(usize),
    SweepTermination,
    PreScanStack(usize),
    BarrierOn,
    /// A root job, run by a slice in the mark (`by`), or by the collector
    /// with shared-queue marking.
    ScanGlobal {
        by: Option<usize>,
        global: usize,
    },
    ScanStack {
        by: Option<usize>,
        g: usize,
    },
    /// Shared-queue marking: one field of any grey object, by any marker.
    ScanShared(Obj, u8),
    StopTheWorld,
    MarkTermination,
}

/// Who runs a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Goroutine(usize),
    Slice(usize),
    /// Sweep termination, the stop, mark termination.
    World,
}

impl Actor {
    fn goroutine(self) -> Option<usize> {
        match self {
            Actor::Goroutine(g) => Some(g),
            _ => None,
        }
    }
}

impl Step {
    fn actor(self) -> Actor {
        match self {
            Step::LoadField { g, .. }
            | Step::LoadGlobal { g, .. }
            | Step::StoreField { g, .. }
            | Step::StoreGlobal { g, .. }
            | Step::FinishStore { g }
            | Step::Clear { g, .. }
            | Step::Alloc { g, .. }
            | Step::Spawn { g, .. }
            | Step::AssistBegin { g }
            | Step::AssistEnd { g }
            | Step::Pop { by: Drainer::Assist(g), .. }
            | Step::Scan { by: Drainer::Assist(g), .. } => Actor::Goroutine(g),
            Step::Pop { by: Drainer::Slice(m), .. }
            | Step::Scan { by: Drainer::Slice(m), .. }
            | Step::Enter(m)
            | Step::Yield(m)
            | Step::FoundEmpty(m)
            | Step::Leave(m)
            | Step::Close(m)
            | Step::ScanGlobal { by: Some(m), .. }
            | Step::ScanStack { by: Some(m), .. } => Actor::Slice(m),
            Step::SweepTermination
            | Step::PreScanStack(_)
            | Step::ScanGlobal { by: None, .. }
            | Step::ScanStack { by: None, .. }
            | Step::ScanShared(..)
            | Step::BarrierOn
            | Step::StopTheWorld
            | Step::MarkTermination => Actor::World,
        }
    }

    /// The goroutine that runs it, if a mutator does.
    fn goroutine(self) -> Option<usize> {
        self.actor().goroutine()
    }

    /// Does it spend one of its goroutine's ops? (Finishing a store, and
    /// the work inside an assist, belong to the op that began them.)
    fn spends_op(self) -> bool {
        self.goroutine().is_some()
            && !matches!(self, Step::FinishStore { .. } | Step::AssistEnd { .. } | Step::Pop { .. } | Step::Scan { .. })
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
    /// Background mark slices (1 or 2).
    slices: usize,
    /// Goroutines may assist (one at a time; each assist spends an op).
    assists: bool,
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
        assert!(bounds.slices <= MAX_SLICES && !(bounds.slices == 0 && bounds.assists));
        assert!(bounds.budget < 16, "a budget fits in four bits");
        Model { bounds, faults }
    }

    /// Every step enabled in `s`.
    fn steps(&self, s: &State, out: &mut Vec<Step>) {
        out.clear();
        self.world_steps(s, out);
        for m in 0..self.bounds.slices {
            self.slice_steps(s, m, out);
        }
        for g in 0..self.bounds.goroutines {
            self.mutator_steps(s, g, out);
        }
    }

    fn roots_done(&self, s: &State) -> bool {
        let b = &self.bounds;
        (0..b.globals).all(|i| s.globals_scanned & (1 << i) != 0) && (0..b.goroutines).all(|g| s.goroutines[g].scanned)
    }

    fn world_steps(&self, s: &State, out: &mut Vec<Step>) {
        let b = &self.bounds;
        match s.phase {
            Phase::Idle if s.at_safepoint() => out.push(Step::SweepTermination),
            Phase::PreScan(n) if n as usize == b.goroutines => out.push(Step::BarrierOn),
            // Stack n next, once its goroutine is at a safepoint.
            Phase::PreScan(n) if s.stopped_at_safepoint(n as usize) => out.push(Step::PreScanStack(n as usize)),
            Phase::Mark if b.slices == 0 => {
                self.root_steps(s, None, out);
                for bit in (0..MAX_OBJECTS * FIELDS).filter(|&bit| s.grey & (1 << bit) != 0) {
                    out.push(Step::ScanShared((bit / FIELDS) as Obj, (bit % FIELDS) as u8));
                }
                if self.roots_done(s) && s.at_safepoint() {
                    out.push(Step::MarkTermination);
                }
            }
            Phase::MarkOff => out.push(Step::StopTheWorld),
            Phase::Stopping
                if s.at_safepoint() && (s.markers() == 0 || self.faults.terminate_without_waiting_for_markers) =>
            {
                out.push(Step::MarkTermination)
            }
            _ => {}
        }
    }

    /// The root jobs left, run `by` a slice (or the collector).
    fn root_steps(&self, s: &State, by: Option<usize>, out: &mut Vec<Step>) {
        let b = &self.bounds;
        for global in (0..b.globals).filter(|&i| s.globals_scanned & (1 << i) == 0) {
            out.push(Step::ScanGlobal { by, global });
        }
        for g in (0..b.goroutines).filter(|&g| !s.goroutines[g].scanned && s.stopped_at_safepoint(g)) {
            out.push(Step::ScanStack { by, g });
        }
    }

    /// Pops and scans of hand `by` (which is marking). `drain` takes from
    /// the shared queue only when its own stack is empty.
    fn drain_steps(&self, s: &State, by: Drainer, out: &mut Vec<Step>) {
        let hand = s.hands[by.hand()];
        if hand == 0 {
            out.extend(grey_objects(s.grey).map(|obj| Step::Pop { by, obj }));
        }
        for bit in (0..MAX_OBJECTS * FIELDS).filter(|&bit| hand & (1 << bit) != 0) {
            out.push(Step::Scan { by, obj: (bit / FIELDS) as Obj, field: (bit % FIELDS) as u8 });
        }
    }

    fn slice_steps(&self, s: &State, m: usize, out: &mut Vec<Step>) {
        let marking = matches!(s.phase, Phase::Mark | Phase::MarkOff | Phase::Stopping);
        match s.slices[m] {
            Slice::Out if s.phase == Phase::Mark => out.push(Step::Enter(m)),
            Slice::Out => {}
            Slice::In if marking => {
                // Root jobs: which slice in the mark claims one changes
                // nothing else, so the first one in runs them all here.
                if s.phase == Phase::Mark && (0..m).all(|o| s.slices[o] != Slice::In) {
                    self.root_steps(s, Some(m), out);
                }
                self.drain_steps(s, Drainer::Slice(m), out);
                out.push(Step::Yield(m));
                if s.hands[m] == 0 && s.grey == 0 && self.roots_done(s) {
                    out.push(Step::FoundEmpty(m));
                }
            }
            Slice::In => {}
            Slice::Leaving if s.phase != Phase::Done => out.push(Step::Leave(m)),
            Slice::Closing if s.phase != Phase::Done => out.push(Step::Close(m)),
            Slice::Leaving | Slice::Closing => {}
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
        if s.assist == Some(g as u8) {
            // `drain` polls the stop request only every few objects: the
            // assist may go on for a while, then gives back what it holds.
            self.drain_steps(s, Drainer::Assist(g), out);
            out.push(Step::AssistEnd { g });
            return;
        }
        // A stop is requested: this goroutine stops at this event boundary.
        if gr.budget == 0 || s.phase == Phase::Stopping || (s.phase == Phase::Done && !b.after_sweep) {
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
        if b.assists && s.marking && s.assist.is_none() && s.grey != 0 {
            out.push(Step::AssistBegin { g });
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
        if step.spends_op() {
            let g = step.goroutine().expect("a mutator step");
            n.goroutines[g].budget -= 1;
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
            Step::AssistBegin { g } => n.assist = Some(g as u8),
            Step::AssistEnd { .. } => {
                n.grey |= std::mem::take(&mut n.hands[ASSIST_HAND]);
                n.assist = None;
            }
            Step::Pop { by, obj } => {
                let bits = n.grey & object_bits(obj);
                n.grey &= !bits;
                n.hands[by.hand()] |= bits;
            }
            Step::Scan { by, obj, field } => n.scan_field(by.hand(), obj, field),
            Step::Enter(m) => n.slices[m] = Slice::In,
            Step::Yield(m) => {
                n.grey |= std::mem::take(&mut n.hands[m]);
                n.slices[m] = Slice::Out;
            }
            Step::FoundEmpty(m) => n.slices[m] = Slice::Leaving,
            Step::Leave(m) => {
                // `markers.fetch_sub`: the last out, with every root job
                // done, looks at the queue next; the others are done. (Once
                // the mark is off, a last one's compare-exchange fails.)
                let last = n.markers() == 1;
                n.slices[m] =
                    if last && n.phase == Phase::Mark && self.roots_done(&n) { Slice::Closing } else { Slice::Out };
            }
            Step::Close(m) => {
                if n.phase != Phase::Mark {
                    // Another closing slice turned the mark off first.
                    n.slices[m] = Slice::Out;
                } else if n.grey != 0 {
                    // The barrier shaded more meanwhile: mark on.
                    n.slices[m] = Slice::In;
                } else {
                    // This slice runs mark termination (it is no marker).
                    n.slices[m] = Slice::Out;
                    n.phase = Phase::MarkOff;
                }
            }
            Step::SweepTermination => self.sweep_termination(&mut n),
            Step::PreScanStack(g) => {
                n.scan_stack(g);
                n.phase = Phase::PreScan(g as u8 + 1);
            }
            Step::BarrierOn => {
                n.marking = true;
                n.phase = Phase::Mark;
            }
            Step::ScanGlobal { global, .. } => {
                n.shade(n.globals[global]);
                n.globals_scanned |= 1 << global;
            }
            Step::ScanStack { g, .. } => n.scan_stack(g),
            Step::ScanShared(o, f) => {
                n.grey &= !(1 << (o as usize * FIELDS + f as usize));
                n.shade(n.object(o).fields[f as usize]);
            }
            Step::StopTheWorld => n.phase = Phase::Stopping,
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

    /// The world is stopped and (unless the fault) no slice marks: drain
    /// the shared queue, turn the barrier off, sweep.
    fn mark_termination(&self, s: &mut State) {
        while s.grey != 0 {
            let bit = s.grey.trailing_zeros() as usize;
            s.grey &= !(1 << bit);
            s.shade(s.objects[bit / FIELDS].fields[bit % FIELDS]);
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

    /// The property: a freed object that a root still reaches, with the
    /// path; and, but for the fault that skips the wait for the slices, no
    /// grey object in a hand once the mark is terminated.
    fn violation(&self, s: &State) -> Option<String> {
        self.freed_yet_reachable(s).or_else(|| {
            let held = (s.phase == Phase::Done && !self.faults.terminate_without_waiting_for_markers)
                .then(|| s.hands.iter().position(|&h| h != 0))
                .flatten()?;
            let who = if held == ASSIST_HAND { "the assist".to_string() } else { format!("s{held}") };
            Some(format!("mark terminated while {who} held {}", objects(s.hands[held])))
        })
    }

    fn freed_yet_reachable(&self, s: &State) -> Option<String> {
        let b = &self.bounds;
        if s.objects.iter().all(|o| o.status != Status::Freed) {
            return None;
        }
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
const MAX_STATES: usize = 3_000_000;

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
    let mut seen: HashSet<Key, rustc_hash::FxBuildHasher> = HashSet::default();
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
/// same goroutine's or slice's next step: a barrier and its store, a
/// slice's entry and its yield go together), until no step can go.
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
        let actor = t[i].actor();
        if let Some(j) = with_next[i..].iter().position(|s| s.actor() == actor) {
            with_next.remove(i + j);
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
        Step::AssistBegin { g } => format!("g{g}: mark assist begins"),
        Step::AssistEnd { g } => format!("g{g}: mark assist ends{}", give_back(s.hands[ASSIST_HAND])),
        Step::Pop { by, obj } => {
            format!(
                "{}: take o{obj} off the grey queue (holds {})",
                by.name(),
                objects(s.hands[by.hand()] | object_bits(obj))
            )
        }
        Step::Scan { by, obj, field } => {
            let child = name(s.object(obj).fields[field as usize]);
            format!("{}: scan o{obj}.f{field} ({child}) onto its own grey stack", by.name())
        }
        Step::Enter(m) => format!("s{m}: enter the mark (markers {})", s.markers() + 1),
        Step::Yield(m) => format!("s{m}: yield{}, leave the mark (markers {})", give_back(s.hands[m]), s.markers() - 1),
        Step::FoundEmpty(m) => format!("s{m}: own grey stack and grey queue empty, every root job done"),
        Step::Leave(m) => {
            let last = if s.markers() == 1 { ", the last" } else { "" };
            format!("s{m}: leave the mark (markers {}{last})", s.markers() - 1)
        }
        Step::Close(m) if s.phase != Phase::Mark => format!("s{m}: the mark is already off"),
        Step::Close(m) if s.grey != 0 => format!("s{m}: grey queue not empty: enter the mark again"),
        Step::Close(m) => format!("s{m}: grey queue empty: mark off, mark termination begins"),
        Step::ScanGlobal { by, global } => format!("{}: scan G{global}", by_name(by)),
        Step::ScanStack { by, g } => format!("{}: scan g{g}'s stack (g{g} black)", by_name(by)),
        Step::ScanShared(o, f) => format!("GC: scan o{o}.f{f}"),
        Step::MarkTermination if model.bounds.slices == 0 => {
            "GC: mark termination (stop the world): drain, barrier off, sweep".into()
        }
        Step::StopTheWorld => {
            "GC: stop the world (mutators stop at their next safepoint, slices at their next poll)".into()
        }
        Step::MarkTermination => {
            let still: Vec<String> = (0..MAX_SLICES)
                .filter(|&m| matches!(s.slices[m], Slice::In | Slice::Leaving))
                .map(|m| format!("s{m} (holding {})", objects(s.hands[m])))
                .collect();
            let wait = if still.is_empty() {
                "no slice marks".to_string()
            } else {
                format!("NOT waiting for {}", still.join(", "))
            };
            format!("GC: mark termination (world stopped, {wait}): drain the grey queue, barrier off, sweep")
        }
    }
}

/// `s0`, or `GC` (shared-queue marking).
fn by_name(by: Option<usize>) -> String {
    by.map_or("GC".into(), |m| format!("s{m}"))
}

/// `o0 o2`, or `nothing`: the objects with grey bits in `grey`.
fn objects(grey: Grey) -> String {
    let names: Vec<String> = grey_objects(grey).map(|o| format!("o{o}")).collect();
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(" ")
    }
}

/// `, giving back o1`, or nothing.
fn give_back(hand: Grey) -> String {
    if hand == 0 {
        String::new()
    } else {
        format!(", giving back {}", objects(hand))
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

/// Steps in one random run at most: slices may enter and yield for ever.
/// (The longest of the clean runs from [`SEED`] takes 250.)
const MAX_RUN_STEPS: usize = 2_000;

/// At each step the collector (a slice, or the world) runs with probability
/// `collector_share` (if it can), else a random goroutine that can.
fn random_run(model: &Model, init: State, rng: &mut StdRng, collector_share: f64) -> Run {
    let mut s = init;
    let mut trace = Vec::new();
    let mut enabled = Vec::new();
    loop {
        model.steps(&s, &mut enabled);
        if enabled.is_empty() || trace.len() == MAX_RUN_STEPS {
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
    let mut collector: Vec<Actor> = enabled.iter().map(|s| s.actor()).filter(|a| a.goroutine().is_none()).collect();
    collector.dedup();
    let mut runnable: Vec<Actor> = enabled.iter().map(|s| s.actor()).filter(|a| a.goroutine().is_some()).collect();
    runnable.dedup();
    // The collector side (a slice, or the world) or a goroutine; then one
    // of that side's actors.
    let actor = if !collector.is_empty() && (runnable.is_empty() || rng.random_bool(collector_share)) {
        collector[rng.random_range(0..collector.len())]
    } else {
        runnable[rng.random_range(0..runnable.len())]
    };
    let mine: Vec<Step> = enabled.iter().copied().filter(|s| s.actor() == actor).collect();
    // A kind of op first (load, store, clear, …; pop, scan, yield, …), then
    // one of that kind.
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
    slices: 2,
    assists: true,
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
    Bounds {
        objects,
        globals,
        goroutines,
        locals: 2,
        budget,
        spawn: false,
        split_writes: false,
        slices: 0,
        assists: false,
        after_sweep: false,
    }
}

/// Small heaps, each with one free object to allocate, two locals per
/// goroutine and one to three ops per goroutine (`gK:N`), so that each
/// case's state space is finite and small. Every case is explored
/// exhaustively for the correct protocol. The barrier cases (shared-queue
/// marking) are explored for each fault of the barrier; the slice cases
/// (two background slices, each with its own grey stack) for
/// `terminate_without_waiting_for_markers`.
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
    // Two slices: one may hold o0 while the other, the last out, closes
    // the mark; g0 may move o1 meanwhile.
    Case {
        name: "two slices, a chain",
        bounds: Bounds { slices: 2, ..bounds(3, 1, 2, 2) },
        facts: "G0=o0 o0.f0=o1 g0 g0.l0=o0 g1:1",
    },
    // A chain one longer: a slice's stack may hold o1 as well as o0.
    Case {
        name: "two slices, a longer chain",
        bounds: Bounds { slices: 2, ..bounds(4, 1, 2, 1) },
        facts: "G0=o0 o0.f0=o1 o1.f0=o2 g0 g0.l0=o0 g1",
    },
    // Either goroutine may assist (holding grey objects of its own, not at
    // a safepoint) and stop between a barrier and its store.
    Case {
        name: "two slices, an assist, split writes",
        bounds: Bounds { slices: 2, assists: true, split_writes: true, ..bounds(3, 1, 2, 1) },
        facts: "G0=o0 o0.f0=o1 g0 g0.l0=o0 g1",
    },
];

fn faulty(f: fn(&mut ConcurrentFaults)) -> ConcurrentFaults {
    let mut faults = ConcurrentFaults::default();
    f(&mut faults);
    faults
}

/// Is it a barrier case (shared-queue marking), as opposed to a slice case?
fn barrier_case(case: &Case) -> bool {
    case.bounds.slices == 0
}

/// Explores every case `which` picks under `faults`; returns, per case, its
/// search.
fn explore_cases(faults: ConcurrentFaults, which: fn(&Case) -> bool) -> Vec<(&'static Case, Model, State, Search)> {
    CASES
        .iter()
        .filter(|case| which(case))
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

/// Every case `which` picks has a counterexample under `faults`; prints the
/// shortest (after minimising), and returns its rendering.
fn assert_counterexamples(faults: ConcurrentFaults, which: fn(&Case) -> bool) -> String {
    println!("faults: {faults:?}");
    let mut best: Option<(&str, String, usize)> = None;
    for (case, model, init, search) in explore_cases(faults, which) {
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
    for (case, model, init, search) in explore_cases(ConcurrentFaults::default(), |_| true) {
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
fn terminating_without_waiting_for_the_markers_frees_a_reachable_object() {
    let text = assert_counterexamples(faulty(|f| f.terminate_without_waiting_for_markers = true), |c| !barrier_case(c));
    assert!(text.contains("NOT waiting for"));
}

#[test]
fn without_the_deletion_barrier_a_reachable_object_is_freed() {
    let text = assert_counterexamples(faulty(|f| f.no_deletion_barrier = true), barrier_case);
    assert!(text.contains("freed, yet reachable"));
}

#[test]
fn without_the_insertion_barrier_a_reachable_object_is_freed() {
    let text = assert_counterexamples(faulty(|f| f.no_insertion_barrier = true), barrier_case);
    assert!(text.contains("freed, yet reachable"));
}

#[test]
fn allocating_white_during_marking_frees_a_reachable_object() {
    let text = assert_counterexamples(faulty(|f| f.allocate_white = true), barrier_case);
    assert!(text.contains("(white)"));
}

#[test]
fn scanning_stacks_before_the_barrier_is_on_frees_a_reachable_object() {
    let text = assert_counterexamples(faulty(|f| f.scan_stacks_before_barrier = true), barrier_case);
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

/// The barrier faults; `terminate_without_waiting_for_markers` is left to
/// the slice cases (see the module doc).
#[test]
fn random_schedules_on_bigger_heaps_catch_every_barrier_fault() {
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

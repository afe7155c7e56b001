//! A model check of Green Tea's span-marking protocol: the per-span marks,
//! scans and ownership byte of `collectors/src/heap/span_marks.rs`, as
//! `collectors/src/plans/greentea/marking.rs` (greying, span scans, the
//! single-object fast path) and `span_queue.rs` (each marker's FIFO ring,
//! the shared span queue) use them.
//!
//! Like `barrier_model.rs`, this file does not run the real collector. It
//! runs a small abstract model of the protocol, one model step per atomic
//! operation of the real code, and explores **every interleaving** of the
//! steps of two or three markers and two shading threads by a depth-first
//! search that remembers each state it has visited (packed into 223 bits;
//! states that differ only by which marker is which are one state), on the
//! small fixed heaps of [`CASES`], each with the fast path on and off
//! (`GreenTeaSettings::one_mark_fast_path`). The broken variants are
//! chosen with the real plan's own `GreenTeaFaults`, so a model variant has
//! the name of the real one.
//!
//! # The property
//!
//! Checked in every *quiescent* state (every queue and ring empty, every
//! marker at the top of its drain loop with nothing to take, every root
//! shaded: the state mark termination looks for; the model's quiescent
//! states are exactly those where no step is enabled): every object
//! reachable from the roots is **marked** and **scanned** (a scan of it
//! began, and, the state being quiescent, ended: each of its fields was
//! read and its child greyed), and no unreachable object is marked. Without faults, also
//! checked in every state: no object's scan begins twice (what claiming by
//! `fetch_or` promises). A case's state space is finite (all queues
//! together hold at most one entry per span), and the search visits all of
//! it, so every quiescent state.
//!
//! # The model, and the code each step abstracts
//!
//! The heap: one to three spans, each with up to six small objects in one
//! bitmap word, each object with up to two pointer fields (fixed: no
//! mutator runs). Per span: its mark word, its scan word, its ownership
//! byte (Unowned 0, `ONE_MARK` 1, `MANY_MARKS` 2, or both). A queue entry
//! is the object whose mark queued the span, as in the real queues.
//!
//! Greying object o (`SpanMarking::grey`), by a marker scanning a field or
//! by a shader, is up to four steps:
//! 1. *load the mark word* — `AtomicBitmap::try_set`'s first load; o
//!    already marked: done;
//! 2. *fetch_or the mark bit* — `try_set`'s read-modify-write; already set
//!    (someone marked it since the load): done. With `non_atomic_marks`
//!    (`try_set_racy`) this is a plain store of the word loaded in step 1
//!    with o's bit set, which erases any bit set in between;
//! 3. *try_acquire: load the ownership byte* — Unowned: step 4; OneMark:
//!    step 5; ManyMarks: done (the holder will look at the whole span: the
//!    early return that saves a read-modify-write per object);
//! 4. *try_acquire: fetch_or(ONE_MARK)* — was Unowned: this call took the
//!    span, queue it; else step 5. With `no_ownership_upgrade`
//!    (`try_acquire_without_upgrade`) steps 3–5 are one
//!    `compare_exchange(0, ONE_MARK)`;
//! 5. *try_acquire: fetch_or(MANY_MARKS)* — was Unowned (released since):
//!    took it, queue it; else the holder will see ManyMarks.
//!
//! A marker's take goes on its own ring (`SpanRing::put`: private, part of
//! the step that took the span); a shader's is one more step, the push onto
//! the shared queue (`SharedSpans::push`). A marker's field load is part of
//! greying the child's step 1: the fields never change, so when it happens
//! cannot matter.
//!
//! Shader steps (R0, R1: a root job or a mutator's write barrier calling
//! `shade`, which greys onto the shared queue): grey each of its roots in
//! turn, as above. Two shaders run at once with the markers, so roots are
//! shaded into spans that markers hold or are scanning.
//!
//! Marker steps (m0, m1, m2: `SpanMarking::drain`; all objects are small
//! and scannable, so there is no object stack):
//! - at the top of the loop with spans on its ring: *take the oldest and
//!   release it* (`SpanRing::take`, private, then `SpanMarks::release`'s
//!   swap to Unowned: one step);
//! - with its ring empty and the shared queue not: *steal*
//!   (`SharedSpans::steal_into`: the Injector's `steal_batch_and_pop` takes
//!   half the queue, rounded up, pops the first and puts the rest on the
//!   ring), then *release* as the next step;
//! - at the top of the loop with spans on its ring, instead: *yield*
//!   (`d.go_on()` said stop: `SpanRing::give_back` pushes the ring onto the
//!   shared queue, one push per step; the marker then runs a new drain);
//! - after a release that read OneMark, with the fast path on:
//!   `claim_one(repr)`, i.e. `try_set` on the scan word (*load*, then
//!   *fetch_or*); claimed: scan that object alone;
//! - otherwise `claim_grey`: *load the mark word*, *load the scan word*
//!   (nothing grey: done), *fetch_or the scan word with the grey bits*; the
//!   bits this call set are its to scan. With `scan_bits_after_scan` the
//!   claim is `unscanned` (the two loads, no `fetch_or`), and after the scan
//!   comes `mark_all_scanned` (*load the mark word*, *fetch_or the scan
//!   word with it*);
//! - scanning the claimed objects in slot order (`for_each_bit`), each
//!   field in order, greying each non-nil child as above. Sparse and dense
//!   scans are one: the dense scan loads every field before greying any,
//!   but fields are fixed, so the greys, the only shared steps, come in the
//!   same order;
//! - *spill*: a step that takes a span may also move the oldest k spans of
//!   the ring to the shared queue (`SpanRing::put` finding the ring full,
//!   or its periodic spill to idle markers). Neither can happen with a
//!   handful of spans, but both do in a real heap, where the rest of the
//!   ring holds spans outside the model; the span just put stays on the
//!   ring, as in the real code.
//!
//! # Memory model, and what is not modelled
//!
//! Every step is atomic and **sequentially consistent**: the interleavings
//! are those of SC executions. The real code's Relaxed/Acquire/AcqRel
//! orderings, and why they suffice (every `try_acquire` is a
//! read-modify-write of the ownership byte, so the holder's release swap
//! synchronizes with it whichever comes first, and a mark bit set before it
//! is visible to the claim after the release), are argued in
//! `span_marks.rs`, not checked here. Also not modelled: mutators and the
//! write barrier's interplay with them (the shaders stand for its `shade`
//! calls; `barrier_model.rs` checks the barrier), pointer-free objects
//! (marked and done, never queued), objects marked one by one on the object
//! stacks (large objects, size classes outside the plan's range), oblets,
//! spans of more than one bitmap word (each word is claimed on its own, so
//! words do not interact), `find_object` and the allocation bits,
//! `RING_SPANS` and `SPILL_PERIOD` themselves (see *spill*), the Injector's
//! internals (each push and steal is one step), mark termination and the
//! sweep (the property is what mark termination relies on), counts and
//! metrics, and more than one cycle.
//!
//! # The tests
//!
//! The correct protocol, fast path on and off, is safe in every
//! interleaving of every case, and between them the cases reach every one
//! of [`EVENTS`] (the races the protocol is built for: a claim that loses
//! bits to another, a span taken again while it is being scanned, two
//! markers scanning one span, a span taken by the second `fetch_or` just
//! after its release, yields and spills). Each fault is caught by at least
//! one case (every case but the biggest is searched under each fault; see
//! [`Case::for_faults`]), and `no_ownership_upgrade` is harmless without
//! the fast path, as its doc says. A failing search prints its shortest
//! counterexample, found breadth-first.
//!
//! # Reading a counterexample
//!
//! The first line gives the heap (`s0: o0>o1,o2 o1 o2`: span s0 holds o0,
//! o1, o2 in slot order, o0's fields point to o1 and o2), which roots each
//! shader shades, the markers and the fast-path setting. Then one line per
//! step: who runs it (`R0`, `R1` a shader, `m0`… a marker), the operation
//! with what it read or returned, and in brackets each span word it changed
//! as it is after the step. Capitals mark the fault at work (`NOT atomic`,
//! `ERASING`, `does NOT raise it`, `WITHOUT claiming`, `HIDES`). The last
//! line is the quiescent state's violation, with the path from a root to
//! the object lost, e.g. `o2 is reachable (root o0 -> o0.f0 -> o2) and
//! marked but NEVER SCANNED`.

#[path = "model/bits.rs"]
mod bits;
use bits::Bits;
use collectors::plans::greentea::{GreenTeaFaults, GreenTeaSettings};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::time::Instant;

const MAX_OBJECTS: usize = 7;
const MAX_SPANS: usize = 3;
const FIELDS: usize = 2;
const MAX_MARKERS: usize = 3;
/// Threads shading roots at once (root jobs, write barriers).
const MAX_SHADERS: usize = 2;
/// Entries one queue can hold. Taking a span is exclusive (the ownership
/// byte leaves Unowned in one read-modify-write, in every variant) and an
/// entry lives from that take to the release after its pop, so all queues
/// together hold at most one entry per span.
const QUEUE_CAP: usize = MAX_SPANS;

/// The ownership byte's bits (`span_marks.rs`'s `ONE_MARK`, `MANY_MARKS`).
const ONE_MARK: u8 = 1;
const MANY_MARKS: u8 = 2;

/// An object's index. Objects are numbered span by span in slot order, so
/// within a span a lower index is a lower slot.
type Obj = u8;

// ---------------------------------------------------------------------------
// The heap of a case (fixed: no mutator runs)
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Heap {
    objects: usize,
    spans: usize,
    span_of: [u8; MAX_OBJECTS],
    slot_of: [u8; MAX_OBJECTS],
    fields: [[Option<Obj>; FIELDS]; MAX_OBJECTS],
    /// Each shader's roots, shaded in order.
    roots: Vec<Vec<Obj>>,
}

/// `o3` → 3.
fn parse_object(word: &str) -> Obj {
    let n: Obj =
        word.strip_prefix('o').and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not an object: {word:?}"));
    assert!((n as usize) < MAX_OBJECTS, "o{n}: at most {MAX_OBJECTS} objects");
    n
}

impl Heap {
    /// `heap`: spans separated by `|`, each `sK:` then its objects in slot
    /// order, `oN` or `oN>oA` or `oN>oA,oB` (its pointer fields; an object
    /// without any has nil fields). Objects are numbered o0, o1, … in the
    /// order they appear. `roots`: each shader's roots, shaded in that
    /// order.
    fn parse(heap: &str, roots: &[&str]) -> Heap {
        assert!(roots.len() <= MAX_SHADERS, "at most {MAX_SHADERS} shaders");
        let mut h = Heap {
            objects: 0,
            spans: 0,
            span_of: [0; MAX_OBJECTS],
            slot_of: [0; MAX_OBJECTS],
            fields: [[None; FIELDS]; MAX_OBJECTS],
            roots: roots.iter().map(|r| r.split_whitespace().map(parse_object).collect()).collect(),
        };
        for (s, part) in heap.split('|').enumerate() {
            assert!(s < MAX_SPANS, "at most {MAX_SPANS} spans");
            let body = part.trim().strip_prefix(&format!("s{s}:")).unwrap_or_else(|| panic!("span {s}: {part:?}"));
            for (slot, item) in body.split_whitespace().enumerate() {
                let (name, fields) = item.split_once('>').unwrap_or((item, ""));
                let o = parse_object(name);
                assert_eq!(o as usize, h.objects, "objects are numbered in order: {item}");
                h.span_of[h.objects] = s as u8;
                h.slot_of[h.objects] = slot as u8;
                for (f, child) in fields.split(',').filter(|c| !c.is_empty()).enumerate() {
                    assert!(f < FIELDS, "{item}: at most {FIELDS} fields");
                    h.fields[h.objects][f] = Some(parse_object(child));
                }
                h.objects += 1;
            }
            h.spans += 1;
        }
        for o in h.fields[..h.objects].iter().flatten().flatten().chain(h.roots.iter().flatten()) {
            assert!((*o as usize) < h.objects, "o{o} is not in the heap");
        }
        h
    }

    fn span(&self, o: Obj) -> usize {
        self.span_of[o as usize] as usize
    }

    /// `o`'s bit in its span's bitmap words.
    fn slot_bit(&self, o: Obj) -> u8 {
        1 << self.slot_of[o as usize]
    }

    /// The objects (a set of object bits) in span `span`'s slots `slots`.
    fn objects_in(&self, span: usize, slots: u8) -> u8 {
        (0..self.objects as Obj)
            .filter(|&o| self.span(o) == span && slots & self.slot_bit(o) != 0)
            .fold(0, |m, o| m | 1 << o)
    }

    /// `o`'s first non-nil field at `from` or after.
    fn field_from(&self, o: Obj, from: usize) -> Option<usize> {
        (from..FIELDS).find(|&f| self.fields[o as usize][f].is_some())
    }

    fn child(&self, o: Obj, f: usize) -> Obj {
        self.fields[o as usize][f].expect("a non-nil field")
    }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// One span's side tables: a mark word, a scan word, the ownership byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SpanWords {
    marks: u8,
    scans: u8,
    owner: u8,
}

/// A FIFO of queued spans, each as the object whose mark queued it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Queue {
    len: u8,
    items: [Obj; QUEUE_CAP],
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push_back(&mut self, o: Obj) {
        assert!((self.len as usize) < QUEUE_CAP, "more spans queued than there are spans");
        self.items[self.len as usize] = o;
        self.len += 1;
    }

    fn pop_front(&mut self) -> Obj {
        assert!(self.len > 0);
        let o = self.items[0];
        self.items.copy_within(1.., 0);
        self.items[QUEUE_CAP - 1] = 0;
        self.len -= 1;
        o
    }

    fn iter(&self) -> impl Iterator<Item = Obj> + '_ {
        self.items[..self.len as usize].iter().copied()
    }
}

/// Where one `SpanMarking::grey` of object `o` is: each variant is the
/// next atomic operation on `o`'s span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GreyPc {
    /// `AtomicBitmap::try_set`'s first load of the mark word (the bit set:
    /// return, someone else marked it). With `non_atomic_marks`
    /// (`try_set_racy`) the word loaded is kept for the store.
    LoadMark,
    /// `try_set`'s `fetch_or` of the mark bit; with `non_atomic_marks`,
    /// `try_set_racy`'s store of `loaded | bit`.
    SetMark { loaded: u8 },
    /// `SpanMarks::try_acquire`'s first load of the ownership byte.
    LoadOwner,
    /// `SpanMarks::try_acquire`'s `fetch_or(ONE_MARK)`; with
    /// `no_ownership_upgrade`, `try_acquire_without_upgrade`'s
    /// `compare_exchange(0, ONE_MARK)`.
    AcquireOne,
    /// `try_acquire`'s `fetch_or(MANY_MARKS)` (the span was held).
    AcquireMany,
    /// `SharedSpans::push` of the span just taken (shading only: a marker's
    /// `SpanRing::put` is private to it, so it is part of the take).
    PushShared,
}

/// How a grey step ended.
enum Greyed {
    /// Not done: this is the next operation.
    Next(GreyPc),
    /// This call took the span: queue it.
    Taken,
    /// Done, nothing to queue (already marked, or the span is held).
    Done,
}

/// Where a marker is in `SpanMarking::drain` / `scan_span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pc {
    /// At the top of the drain loop (or not draining: with nothing to take
    /// it has no step until something is queued, a new drain).
    Idle,
    /// Yielded (`d.go_on()` said stop): `SpanRing::give_back` pushing its
    /// ring onto the shared queue, one push per step.
    GivingBack,
    /// Took `repr`'s span off the shared queue; next: `release`.
    Release { repr: Obj },
    /// Fast path, `claim_one`: `try_set`'s load of the scan word.
    LoadScanBit { repr: Obj },
    /// Fast path, `claim_one`: `try_set`'s `fetch_or` of the scan bit.
    SetScanBit { repr: Obj },
    /// `claim_grey` (or `unscanned`): the load of the mark word.
    LoadMarks { span: u8 },
    /// `claim_grey` (or `unscanned`): the load of the scan word.
    LoadScans { span: u8, marks: u8 },
    /// `claim_grey`: the `fetch_or` of the scan word with the grey bits.
    ClaimScans { span: u8, grey: u8 },
    /// Scanning object `obj` (`rest`: the objects claimed still to scan
    /// after it; `whole`: a span scan, not the fast path): greying the
    /// child in its field `field`.
    Grey { obj: Obj, field: u8, rest: u8, whole: bool, g: GreyPc },
    /// `scan_bits_after_scan`: `mark_all_scanned`'s load of the mark word.
    AfterLoadMarks { span: u8 },
    /// `scan_bits_after_scan`: `mark_all_scanned`'s `fetch_or` of the scan
    /// word with it.
    AfterSetScans { span: u8, marks: u8 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Marker {
    pc: Pc,
    /// Its `SpanRing`.
    ring: Queue,
}

/// A thread shading roots (a root job, or a mutator's write barrier,
/// calling `shade`): greys its `roots[next]` onto the shared queue, then its
/// next root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shader {
    next: u8,
    g: GreyPc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    spans: [SpanWords; MAX_SPANS],
    /// `SharedSpans`.
    shared: Queue,
    markers: [Marker; MAX_MARKERS],
    shaders: [Shader; MAX_SHADERS],
    /// Not the real code's: objects whose scan has begun (bit o). At a
    /// quiescent state every scan begun has ended, each field read and its
    /// child greyed.
    scanned: u8,
    /// Not the real code's: objects whose scan began a second time.
    scanned_twice: u8,
}

impl State {
    fn initial() -> State {
        let idle = Marker { pc: Pc::Idle, ring: Queue::default() };
        State {
            spans: [SpanWords::default(); MAX_SPANS],
            shared: Queue::default(),
            markers: [idle; MAX_MARKERS],
            shaders: [Shader { next: 0, g: GreyPc::LoadMark }; MAX_SHADERS],
            scanned: 0,
            scanned_twice: 0,
        }
    }
}

// ---------------------------------------------------------------------------
// The packed state the search remembers
// ---------------------------------------------------------------------------

const KEY_WORDS: usize = 4;
type Key = [u64; KEY_WORDS];

impl GreyPc {
    /// 11 bits.
    fn code(self) -> u64 {
        match self {
            GreyPc::LoadMark => 0,
            GreyPc::SetMark { loaded } => 1 | (loaded as u64) << 3,
            GreyPc::AcquireOne => 2,
            GreyPc::AcquireMany => 3,
            GreyPc::PushShared => 4,
            GreyPc::LoadOwner => 5,
        }
    }
}

impl Pc {
    /// 27 bits: a 4-bit tag, then what the variant holds.
    fn code(self) -> u64 {
        let o = |o: Obj| (o as u64) << 4;
        let span = |s: u8| (s as u64) << 4;
        let word = |w: u8| (w as u64) << 5;
        match self {
            Pc::Idle => 0,
            Pc::GivingBack => 1,
            Pc::Release { repr } => 2 | o(repr),
            Pc::LoadScanBit { repr } => 3 | o(repr),
            Pc::SetScanBit { repr } => 4 | o(repr),
            Pc::LoadMarks { span: s } => 5 | span(s),
            Pc::LoadScans { span: s, marks } => 6 | span(s) | word(marks),
            Pc::ClaimScans { span: s, grey } => 7 | span(s) | word(grey),
            Pc::Grey { obj, field, rest, whole, g } => {
                8 | o(obj) | (field as u64) << 7 | (rest as u64) << 8 | (whole as u64) << 15 | g.code() << 16
            }
            Pc::AfterLoadMarks { span: s } => 9 | span(s),
            Pc::AfterSetScans { span: s, marks } => 10 | span(s) | word(marks),
        }
    }
}

impl Queue {
    /// 11 bits.
    fn code(&self) -> u64 {
        self.iter().enumerate().fold(self.len as u64, |k, (i, o)| k | (o as u64) << (2 + 3 * i))
    }
}

impl Marker {
    /// 38 bits.
    fn code(&self) -> u64 {
        self.pc.code() | self.ring.code() << 27
    }
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Shader r's next operation.
    Shade(usize),
    /// Marker m's next operation (at the top of the drain loop: take the
    /// oldest span of its ring, else steal from the shared queue).
    Marker(usize),
    /// Marker m, at the top of the drain loop with spans on its ring,
    /// stops (budget spent, or asked to yield) and gives its first span
    /// back.
    Yield(usize),
    /// Marker m's next step, which takes a span and puts it on its ring,
    /// with the ring's spill: the oldest k spans on it move to the shared
    /// queue (`SpanRing::put` finding the ring full — of spans outside the
    /// model — or its periodic spill to idle markers). The span just put
    /// stays, as in the real code.
    Spill(usize, u8),
}

/// Events worth seeing happen (the model's coverage), one bit each.
const FAST_PATH: u8 = 1;
const CLAIM_LOST: u8 = 2;
const TAKEN_WHILE_SCANNED: u8 = 4;
const TAKEN_BY_UPGRADE: u8 = 8;
const YIELDED: u8 = 16;
const SPILLED: u8 = 32;
const SHARED_SCAN: u8 = 64;
const EVENTS: [(u8, &str); 7] = [
    (FAST_PATH, "fast path"),
    (CLAIM_LOST, "claim lost to another"),
    (TAKEN_WHILE_SCANNED, "span taken while being scanned"),
    (SHARED_SCAN, "two markers scanning one span"),
    (TAKEN_BY_UPGRADE, "span taken by the upgrade fetch_or"),
    (YIELDED, "yield"),
    (SPILLED, "spill"),
];

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

struct Model {
    heap: Heap,
    markers: usize,
    faults: GreenTeaFaults,
    fast_path: bool,
    /// Also check that no object's scan begins twice (the claim's promise;
    /// the faults break it, harmlessly, so it is checked only without).
    check_single_scan: bool,
    /// Objects reachable from the roots (bit o), and for each the way the
    /// search first reached it (`root o0 -> o0.f1 -> o2`).
    reachable: u8,
    paths: [String; MAX_OBJECTS],
}

impl Model {
    fn new(case: &Case, faults: GreenTeaFaults, settings: GreenTeaSettings) -> Model {
        assert!(case.markers >= 1 && case.markers <= MAX_MARKERS);
        let heap = Heap::parse(case.heap, case.roots);
        let mut paths: [String; MAX_OBJECTS] = Default::default();
        let mut reachable = 0u8;
        let mut queue = VecDeque::new();
        for &r in heap.roots.iter().flatten() {
            if reachable & 1 << r == 0 {
                reachable |= 1 << r;
                paths[r as usize] = format!("root o{r}");
                queue.push_back(r);
            }
        }
        while let Some(o) = queue.pop_front() {
            for (f, c) in heap.fields[o as usize].iter().enumerate() {
                if let Some(c) = *c {
                    if reachable & 1 << c == 0 {
                        reachable |= 1 << c;
                        paths[c as usize] = format!("{} -> o{o}.f{f} -> o{c}", paths[o as usize]);
                        queue.push_back(c);
                    }
                }
            }
        }
        Model {
            heap,
            markers: case.markers,
            faults,
            fast_path: settings.one_mark_fast_path,
            check_single_scan: faults == GreenTeaFaults::default(),
            reachable,
            paths,
        }
    }

    /// The state packed into 223 bits. Markers are interchangeable (none
    /// holds anything the others could not): states that differ only by
    /// which marker is which are one state.
    fn key(&self, s: &State) -> Key {
        let mut k = Bits::<KEY_WORDS>::new();
        for w in &s.spans {
            k.put(w.marks as u64, 8);
            k.put(w.scans as u64, 8);
            k.put(w.owner as u64, 2);
        }
        k.put(s.shared.code(), 11);
        k.put(s.scanned as u64, MAX_OBJECTS);
        k.put(s.scanned_twice as u64, MAX_OBJECTS);
        for r in &s.shaders {
            k.put(r.next as u64, 2);
            k.put(r.g.code(), 11);
        }
        let mut markers = [0u64; MAX_MARKERS];
        for (code, m) in markers.iter_mut().zip(&s.markers[..self.markers]) {
            *code = m.code();
        }
        markers[..self.markers].sort_unstable();
        for code in markers {
            k.put(code, 38);
        }
        k.words
    }

    fn shading(&self, s: &State, r: usize) -> bool {
        (s.shaders[r].next as usize) < self.heap.roots[r].len()
    }

    /// Will marker m's next step take a span (and put it on its ring)?
    fn takes_span(&self, s: &State, m: usize) -> bool {
        match s.markers[m].pc {
            Pc::Grey { obj, field, g: GreyPc::AcquireOne | GreyPc::AcquireMany, .. } => {
                s.spans[self.heap.span(self.heap.child(obj, field as usize))].owner == 0
            }
            _ => false,
        }
    }

    /// The steps enabled in `s`; none in a quiescent state.
    fn steps(&self, s: &State, out: &mut Vec<Step>) {
        out.clear();
        for r in 0..self.heap.roots.len() {
            if self.shading(s, r) {
                out.push(Step::Shade(r));
            }
        }
        for (m, marker) in s.markers[..self.markers].iter().enumerate() {
            match marker.pc {
                Pc::Idle if !marker.ring.is_empty() => {
                    out.push(Step::Marker(m));
                    out.push(Step::Yield(m));
                }
                Pc::Idle if s.shared.is_empty() => {}
                _ if self.takes_span(s, m) && !marker.ring.is_empty() => {
                    out.push(Step::Marker(m));
                    out.extend((1..=marker.ring.len).map(|k| Step::Spill(m, k)));
                }
                _ => out.push(Step::Marker(m)),
            }
        }
    }

    fn apply(&self, s: &State, step: Step) -> (State, u8) {
        let mut n = *s;
        let mut events = 0;
        match step {
            Step::Shade(r) => {
                let root = self.heap.roots[r][n.shaders[r].next as usize];
                let done = match n.shaders[r].g {
                    GreyPc::PushShared => {
                        n.shared.push_back(root);
                        true
                    }
                    g => match self.grey_step(&mut n, root, g, &mut events) {
                        Greyed::Next(g) => {
                            n.shaders[r].g = g;
                            false
                        }
                        Greyed::Taken => {
                            n.shaders[r].g = GreyPc::PushShared;
                            false
                        }
                        Greyed::Done => true,
                    },
                };
                if done {
                    n.shaders[r] = Shader { next: n.shaders[r].next + 1, g: GreyPc::LoadMark };
                }
            }
            Step::Yield(m) => {
                events |= YIELDED;
                n.markers[m].pc = Pc::GivingBack;
                self.give_back_one(&mut n, m);
            }
            Step::Marker(m) => {
                n.markers[m].pc = self.marker_step(&mut n, m, &mut events);
            }
            Step::Spill(m, k) => {
                events |= SPILLED;
                for _ in 0..k {
                    let e = n.markers[m].ring.pop_front();
                    n.shared.push_back(e);
                }
                n.markers[m].pc = self.marker_step(&mut n, m, &mut events);
            }
        }
        let mut scanning = [None; MAX_MARKERS];
        for (s, m) in scanning.iter_mut().zip(&n.markers[..self.markers]) {
            *s = self.scanning(m.pc);
        }
        if (0..self.markers).any(|a| scanning[a].is_some() && scanning[a + 1..self.markers].contains(&scanning[a])) {
            events |= SHARED_SCAN;
        }
        (n, events)
    }

    fn give_back_one(&self, n: &mut State, m: usize) {
        let entry = n.markers[m].ring.pop_front();
        n.shared.push_back(entry);
        if n.markers[m].ring.is_empty() {
            n.markers[m].pc = Pc::Idle;
        }
    }

    /// Marker m's next operation; returns its next place.
    fn marker_step(&self, n: &mut State, m: usize, events: &mut u8) -> Pc {
        let h = &self.heap;
        match n.markers[m].pc {
            Pc::Idle if !n.markers[m].ring.is_empty() => {
                // `local.spans.take()` (private), then `release`.
                let repr = n.markers[m].ring.pop_front();
                self.release(n, repr, events)
            }
            Pc::Idle => {
                // `SharedSpans::steal_into`: the Injector's
                // `steal_batch_and_pop` takes half (rounded up), pops the
                // first and moves the rest onto the ring.
                let take = (n.shared.len as usize).div_ceil(2);
                let repr = n.shared.pop_front();
                for _ in 1..take {
                    let e = n.shared.pop_front();
                    n.markers[m].ring.push_back(e);
                }
                Pc::Release { repr }
            }
            Pc::GivingBack => {
                self.give_back_one(n, m);
                n.markers[m].pc
            }
            Pc::Release { repr } => self.release(n, repr, events),
            Pc::LoadScanBit { repr } => {
                if n.spans[h.span(repr)].scans & h.slot_bit(repr) != 0 {
                    *events |= CLAIM_LOST;
                    Pc::Idle
                } else {
                    Pc::SetScanBit { repr }
                }
            }
            Pc::SetScanBit { repr } => {
                let w = &mut n.spans[h.span(repr)];
                let old = w.scans;
                w.scans |= h.slot_bit(repr);
                if old & h.slot_bit(repr) != 0 {
                    *events |= CLAIM_LOST;
                    Pc::Idle
                } else {
                    self.begin_objects(n, h.span(repr), 1 << repr, false)
                }
            }
            Pc::LoadMarks { span } => Pc::LoadScans { span, marks: n.spans[span as usize].marks },
            Pc::LoadScans { span, marks } => {
                let grey = marks & !n.spans[span as usize].scans;
                if self.faults.scan_bits_after_scan {
                    // `unscanned`: scan them without claiming them.
                    self.begin_objects(n, span as usize, h.objects_in(span as usize, grey), true)
                } else if grey == 0 {
                    Pc::Idle
                } else {
                    Pc::ClaimScans { span, grey }
                }
            }
            Pc::ClaimScans { span, grey } => {
                let w = &mut n.spans[span as usize];
                let claimed = grey & !w.scans;
                w.scans |= grey;
                if claimed != grey {
                    *events |= CLAIM_LOST;
                }
                self.begin_objects(n, span as usize, h.objects_in(span as usize, claimed), true)
            }
            Pc::Grey { obj, field, rest, whole, g } => {
                let child = h.child(obj, field as usize);
                match self.grey_step(n, child, g, events) {
                    Greyed::Next(g) => Pc::Grey { obj, field, rest, whole, g },
                    Greyed::Taken => {
                        n.markers[m].ring.push_back(child);
                        self.next_field(n, obj, field, rest, whole)
                    }
                    Greyed::Done => self.next_field(n, obj, field, rest, whole),
                }
            }
            Pc::AfterLoadMarks { span } => Pc::AfterSetScans { span, marks: n.spans[span as usize].marks },
            Pc::AfterSetScans { span, marks } => {
                n.spans[span as usize].scans |= marks;
                Pc::Idle
            }
        }
    }

    /// `SpanMarks::release`, then the branch on what it returned.
    fn release(&self, n: &mut State, repr: Obj, events: &mut u8) -> Pc {
        let span = self.heap.span(repr);
        let was = std::mem::replace(&mut n.spans[span].owner, 0);
        if was == ONE_MARK && self.fast_path {
            *events |= FAST_PATH;
            Pc::LoadScanBit { repr }
        } else {
            Pc::LoadMarks { span: span as u8 }
        }
    }

    /// After greying `obj.field`'s child: its next non-nil field, else the
    /// next object.
    fn next_field(&self, n: &mut State, obj: Obj, field: u8, rest: u8, whole: bool) -> Pc {
        match self.heap.field_from(obj, field as usize + 1) {
            Some(f) => Pc::Grey { obj, field: f as u8, rest, whole, g: GreyPc::LoadMark },
            None => self.begin_objects(n, self.heap.span(obj), rest, whole),
        }
    }

    /// Scans the objects `rest` of span `span` in slot order (`for_each_bit`):
    /// the first with a non-nil field is where the marker goes next (an
    /// object without one is scanned at once: there is nothing to read).
    /// Then, after a span scan under `scan_bits_after_scan`,
    /// `mark_all_scanned`; else back to the drain loop.
    fn begin_objects(&self, n: &mut State, span: usize, mut rest: u8, whole: bool) -> Pc {
        while rest != 0 {
            let o = rest.trailing_zeros() as Obj;
            rest &= rest - 1;
            if self.check_single_scan && n.scanned & 1 << o != 0 {
                n.scanned_twice |= 1 << o;
            }
            n.scanned |= 1 << o;
            if let Some(f) = self.heap.field_from(o, 0) {
                return Pc::Grey { obj: o, field: f as u8, rest, whole, g: GreyPc::LoadMark };
            }
        }
        if whole && self.faults.scan_bits_after_scan {
            Pc::AfterLoadMarks { span: span as u8 }
        } else {
            Pc::Idle
        }
    }

    /// The span `pc` is scanning (released, its claim or scan not over).
    fn scanning(&self, pc: Pc) -> Option<usize> {
        match pc {
            Pc::LoadScanBit { repr } | Pc::SetScanBit { repr } => Some(self.heap.span(repr)),
            Pc::Grey { obj, .. } => Some(self.heap.span(obj)),
            Pc::LoadMarks { span }
            | Pc::LoadScans { span, .. }
            | Pc::ClaimScans { span, .. }
            | Pc::AfterLoadMarks { span }
            | Pc::AfterSetScans { span, .. } => Some(span as usize),
            Pc::Idle | Pc::GivingBack | Pc::Release { .. } => None,
        }
    }

    /// One operation of `SpanMarking::grey(o)`.
    /// The step after a mark was set: `try_acquire`'s look at the
    /// ownership byte, or the broken variant's `compare_exchange`.
    fn after_mark(&self) -> GreyPc {
        if self.faults.no_ownership_upgrade {
            GreyPc::AcquireOne
        } else {
            GreyPc::LoadOwner
        }
    }

    fn grey_step(&self, n: &mut State, o: Obj, g: GreyPc, events: &mut u8) -> Greyed {
        let (span, bit) = (self.heap.span(o), self.heap.slot_bit(o));
        let w = &mut n.spans[span];
        let outcome = match g {
            GreyPc::LoadMark if w.marks & bit != 0 => Greyed::Done,
            GreyPc::LoadMark => {
                Greyed::Next(GreyPc::SetMark { loaded: if self.faults.non_atomic_marks { w.marks } else { 0 } })
            }
            GreyPc::SetMark { loaded } if self.faults.non_atomic_marks => {
                w.marks = loaded | bit;
                Greyed::Next(self.after_mark())
            }
            GreyPc::SetMark { .. } => {
                let old = w.marks;
                w.marks |= bit;
                if old & bit != 0 {
                    Greyed::Done
                } else {
                    Greyed::Next(self.after_mark())
                }
            }
            GreyPc::LoadOwner => match w.owner {
                0 => Greyed::Next(GreyPc::AcquireOne),
                ONE_MARK => Greyed::Next(GreyPc::AcquireMany),
                _ => Greyed::Done,
            },
            GreyPc::AcquireOne if self.faults.no_ownership_upgrade => {
                if w.owner == 0 {
                    w.owner = ONE_MARK;
                    Greyed::Taken
                } else {
                    Greyed::Done
                }
            }
            GreyPc::AcquireOne => {
                let old = w.owner;
                w.owner |= ONE_MARK;
                if old == 0 {
                    Greyed::Taken
                } else {
                    Greyed::Next(GreyPc::AcquireMany)
                }
            }
            GreyPc::AcquireMany => {
                let old = w.owner;
                w.owner |= MANY_MARKS;
                if old == 0 {
                    *events |= TAKEN_BY_UPGRADE;
                    Greyed::Taken
                } else {
                    Greyed::Done
                }
            }
            GreyPc::PushShared => unreachable!("the shader pushes by itself"),
        };
        if matches!(outcome, Greyed::Taken)
            && n.markers[..self.markers].iter().any(|m| self.scanning(m.pc) == Some(span))
        {
            *events |= TAKEN_WHILE_SCANNED;
        }
        outcome
    }

    /// What is wrong with `s`, if anything: an object scanned twice (in
    /// any state), or, in a quiescent state, a reachable object not marked
    /// or never scanned, or an unreachable one marked.
    fn violation(&self, s: &State, quiescent: bool) -> Option<String> {
        if s.scanned_twice != 0 {
            return Some(format!("o{} is scanned twice", s.scanned_twice.trailing_zeros()));
        }
        if !quiescent {
            return None;
        }
        assert!(s.spans.iter().all(|w| w.owner == 0), "model error: a quiescent state with a span still held: {s:?}");
        let h = &self.heap;
        for o in 0..h.objects as Obj {
            let marked = s.spans[h.span(o)].marks & h.slot_bit(o) != 0;
            let scan_bit = s.spans[h.span(o)].scans & h.slot_bit(o) != 0;
            let reachable = self.reachable & 1 << o != 0;
            let path = &self.paths[o as usize];
            if reachable && !marked {
                return Some(format!("o{o} is reachable ({path}) but NOT MARKED: the sweep would free it"));
            }
            if reachable && s.scanned & 1 << o == 0 {
                let bit = if scan_bit { "set" } else { "clear" };
                return Some(format!(
                    "o{o} is reachable ({path}) and marked but NEVER SCANNED (its scan bit is {bit}): \
                     nothing queued covers it, and its fields were never read"
                ));
            }
            if !reachable && marked {
                return Some(format!("o{o} is unreachable but marked"));
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Exhaustive search
// ---------------------------------------------------------------------------

struct Search {
    states: usize,
    transitions: usize,
    /// Quiescent states (the property checked in each).
    quiescent: usize,
    max_depth: usize,
    /// The most markers away from the top of the drain loop at once.
    most_busy: usize,
    /// How many transitions each of [`EVENTS`] happened on.
    events: [usize; EVENTS.len()],
    /// The first violating trace found (depth-first order).
    counterexample: Option<Vec<Step>>,
}

/// A bound on any one search, so that a case grown too big fails fast
/// instead of eating the machine's memory.
const MAX_STATES: usize = 5_000_000;

type Fx = rustc_hash::FxBuildHasher;

struct Frame {
    state: State,
    steps: Vec<Step>,
    next: usize,
}

/// Depth-first search over every interleaving from `init`, visiting each
/// state once; stops at the first state that breaks the property.
fn explore(model: &Model, init: State) -> Search {
    let mut search = Search {
        states: 1,
        transitions: 0,
        quiescent: 0,
        max_depth: 0,
        most_busy: 0,
        events: [0; EVENTS.len()],
        counterexample: None,
    };
    let frame = |state: State| {
        let mut steps = Vec::new();
        model.steps(&state, &mut steps);
        Frame { state, steps, next: 0 }
    };
    let first = frame(init);
    if model.violation(&init, first.steps.is_empty()).is_some() {
        search.counterexample = Some(Vec::new());
        return search;
    }
    let mut seen: HashSet<Key, Fx> = HashSet::default();
    seen.insert(model.key(&init));
    let mut stack = vec![first];
    while let Some(top) = stack.last_mut() {
        let Some(&step) = top.steps.get(top.next) else {
            stack.pop();
            continue;
        };
        top.next += 1;
        let (succ, events) = model.apply(&top.state, step);
        search.transitions += 1;
        for (i, (bit, _)) in EVENTS.iter().enumerate() {
            search.events[i] += (events & bit != 0) as usize;
        }
        if !seen.insert(model.key(&succ)) {
            continue;
        }
        search.states += 1;
        let busy = succ.markers[..model.markers].iter().filter(|m| m.pc != Pc::Idle).count();
        search.most_busy = search.most_busy.max(busy);
        assert!(search.states <= MAX_STATES, "more than {MAX_STATES} states: make the case smaller");
        let next = frame(succ);
        let quiescent = next.steps.is_empty();
        search.quiescent += quiescent as usize;
        if model.violation(&succ, quiescent).is_some() {
            search.counterexample = Some(stack.iter().map(|f| f.steps[f.next - 1]).collect());
            return search;
        }
        stack.push(next);
        search.max_depth = search.max_depth.max(stack.len() - 1);
    }
    search
}

/// A shortest trace from `init` to a state that breaks the property
/// (breadth-first), if there is one: the minimised counterexample.
///
/// Each packed state is expanded from the first state found with it, and
/// remembers that state's parent and step; so the trace, replayed from
/// `init`, passes through exactly those states.
fn shortest_counterexample(model: &Model, init: State) -> Option<Vec<Step>> {
    let init_key = model.key(&init);
    let mut parent: HashMap<Key, (Key, Step), Fx> = HashMap::default();
    let mut queue = VecDeque::from([init]);
    let mut steps = Vec::new();
    while let Some(s) = queue.pop_front() {
        model.steps(&s, &mut steps);
        let key = model.key(&s);
        if model.violation(&s, steps.is_empty()).is_some() {
            let mut trace = Vec::new();
            let mut at = key;
            while at != init_key {
                let (p, step) = parent[&at];
                trace.push(step);
                at = p;
            }
            trace.reverse();
            return Some(trace);
        }
        for &step in &steps {
            let (succ, _) = model.apply(&s, step);
            let k = model.key(&succ);
            if k != init_key && !parent.contains_key(&k) {
                parent.insert(k, (key, step));
                queue.push_back(succ);
            }
        }
    }
    None
}

/// Replays `trace` from `init`: the violation it ends in, if every step is
/// enabled and it ends in one.
fn replay(model: &Model, init: State, trace: &[Step]) -> Option<String> {
    let mut s = init;
    let mut enabled = Vec::new();
    for &step in trace {
        model.steps(&s, &mut enabled);
        if !enabled.contains(&step) {
            return None;
        }
        s = model.apply(&s, step).0;
    }
    model.steps(&s, &mut enabled);
    model.violation(&s, enabled.is_empty())
}

// ---------------------------------------------------------------------------
// Counterexamples in words
// ---------------------------------------------------------------------------

/// `{o0 o2}`: the objects of span `span`'s slots `slots`.
fn slots_named(h: &Heap, span: usize, slots: u8) -> String {
    objects_named(h.objects_in(span, slots))
}

/// `{o0 o2}`: the objects of `set` (bit o).
fn objects_named(set: u8) -> String {
    let names: Vec<String> = (0..8).filter(|o| set & 1 << o != 0).map(|o| format!("o{o}")).collect();
    format!("{{{}}}", names.join(" "))
}

fn ownership_named(b: u8) -> &'static str {
    match b {
        0 => "Unowned",
        ONE_MARK => "OneMark",
        _ => "ManyMarks",
    }
}

/// `s0 (o1)`: a queue entry.
fn entry_named(h: &Heap, repr: Obj) -> String {
    format!("s{} (o{repr})", h.span(repr))
}

fn describe(model: &Model, s: &State, step: Step, next: &State) -> String {
    let h = &model.heap;
    let text = match step {
        Step::Shade(r) => {
            let root = h.roots[r][s.shaders[r].next as usize];
            match s.shaders[r].g {
                GreyPc::PushShared => format!("R{r}: push {} onto the shared queue", entry_named(h, root)),
                g => format!("R{r}: shade root o{root}: {}", grey_words(model, s, root, g, next, "the shared queue")),
            }
        }
        Step::Yield(m) => format!(
            "m{m}: yields: gives {} back to the shared queue",
            entry_named(h, s.markers[m].ring.iter().next().unwrap())
        ),
        Step::Marker(m) => marker_words(model, s, m, next),
        Step::Spill(m, k) => {
            let spilled: Vec<String> = s.markers[m].ring.iter().take(k as usize).map(|e| entry_named(h, e)).collect();
            format!("{}; the ring spills {} to the shared queue", marker_words(model, s, m, next), spilled.join(", "))
        }
    };
    // The span words this step changed, as they are after it.
    let changed: Vec<String> = (0..h.spans)
        .filter(|&i| s.spans[i] != next.spans[i])
        .map(|i| {
            let w = next.spans[i];
            format!(
                "s{i}: marks {} scans {} {}",
                slots_named(h, i, w.marks),
                slots_named(h, i, w.scans),
                ownership_named(w.owner)
            )
        })
        .collect();
    if changed.is_empty() {
        text
    } else {
        format!("{text}   [{}]", changed.join("; "))
    }
}

/// One operation of greying `o` (from state `s` to `next`).
fn grey_words(model: &Model, s: &State, o: Obj, g: GreyPc, next: &State, queue: &str) -> String {
    let h = &model.heap;
    let span = h.span(o);
    let (w, bit) = (s.spans[span], h.slot_bit(o));
    match g {
        GreyPc::LoadMark if w.marks & bit != 0 => format!("load s{span}'s mark word: o{o} already marked, done"),
        GreyPc::LoadMark => format!("load s{span}'s mark word {}: o{o} not marked", slots_named(h, span, w.marks)),
        GreyPc::SetMark { loaded } if model.faults.non_atomic_marks => {
            let lost = w.marks & !(loaded | bit);
            let lost = if lost == 0 {
                String::new()
            } else {
                format!(", ERASING the mark of {} set since the load", slots_named(h, span, lost))
            };
            format!(
                "store s{span}'s mark word = the word loaded {} | o{o} (NOT atomic){lost}",
                slots_named(h, span, loaded)
            )
        }
        GreyPc::SetMark { .. } if w.marks & bit != 0 => {
            format!("fetch_or o{o}'s mark bit: already set (marked by another since the load), done")
        }
        GreyPc::SetMark { .. } => format!("fetch_or o{o}'s mark bit: marked it"),
        GreyPc::AcquireOne if model.faults.no_ownership_upgrade => {
            if w.owner == 0 {
                format!("try_acquire s{span}: compare_exchange Unowned -> OneMark succeeds: took it, onto {queue}")
            } else {
                format!(
                    "try_acquire s{span}: compare_exchange Unowned -> OneMark fails ({}), and does NOT raise it to ManyMarks: done",
                    ownership_named(w.owner)
                )
            }
        }
        GreyPc::LoadOwner => format!(
            "try_acquire s{span}: load the ownership byte: {}{}",
            ownership_named(w.owner),
            if w.owner & MANY_MARKS != 0 { ", the holder will see more marks: done" } else { "" }
        ),
        GreyPc::AcquireOne if w.owner == 0 => {
            format!("try_acquire s{span}: fetch_or ONE_MARK: was Unowned, took it, onto {queue}")
        }
        GreyPc::AcquireOne => format!("try_acquire s{span}: fetch_or ONE_MARK: was {}, held", ownership_named(w.owner)),
        GreyPc::AcquireMany if w.owner == 0 => {
            format!("try_acquire s{span}: fetch_or MANY_MARKS: was Unowned (released just now), took it, onto {queue}")
        }
        GreyPc::AcquireMany => format!(
            "try_acquire s{span}: fetch_or MANY_MARKS: was {}, now {}: the holder will see more marks",
            ownership_named(w.owner),
            ownership_named(next.spans[span].owner)
        ),
        GreyPc::PushShared => unreachable!(),
    }
}

fn release_words(model: &Model, s: &State, repr: Obj) -> String {
    let span = model.heap.span(repr);
    let was = s.spans[span].owner;
    let then = if was == ONE_MARK && model.fast_path {
        format!("the fast path: o{repr} alone")
    } else {
        "claim its grey objects".into()
    };
    format!("release s{span}: swap Unowned, was {}: {then}", ownership_named(was))
}

fn marker_words(model: &Model, s: &State, m: usize, next: &State) -> String {
    let h = &model.heap;
    let marker = &s.markers[m];
    let ring = format!("m{m}'s ring");
    let text = match marker.pc {
        Pc::Idle if !marker.ring.is_empty() => {
            let repr = marker.ring.iter().next().unwrap();
            format!("take {} off its ring; {}", entry_named(h, repr), release_words(model, s, repr))
        }
        Pc::Idle => {
            let mut text = format!("steal {} from the shared queue", entry_named(h, s.shared.iter().next().unwrap()));
            let moved: Vec<String> = next.markers[m].ring.iter().map(|e| entry_named(h, e)).collect();
            if !moved.is_empty() {
                let _ = write!(text, " (and {} onto its ring)", moved.join(", "));
            }
            text
        }
        Pc::GivingBack => {
            format!("gives {} back to the shared queue", entry_named(h, marker.ring.iter().next().unwrap()))
        }
        Pc::Release { repr } => release_words(model, s, repr),
        Pc::LoadScanBit { repr } => {
            let set = s.spans[h.span(repr)].scans & h.slot_bit(repr) != 0;
            if set {
                format!("claim_one o{repr}: load the scan word: o{repr} already scanned, done")
            } else {
                format!("claim_one o{repr}: load the scan word: o{repr} not scanned")
            }
        }
        Pc::SetScanBit { repr } => {
            if s.spans[h.span(repr)].scans & h.slot_bit(repr) != 0 {
                format!("claim_one o{repr}: fetch_or its scan bit: already set, done")
            } else {
                format!("claim_one o{repr}: fetch_or its scan bit: claimed, scan o{repr}")
            }
        }
        Pc::LoadMarks { span } => {
            let what = if model.faults.scan_bits_after_scan { "unscanned" } else { "claim_grey" };
            format!(
                "{what} s{span}: load the mark word {}",
                slots_named(h, span as usize, s.spans[span as usize].marks)
            )
        }
        Pc::LoadScans { span, marks } => {
            let sp = span as usize;
            let scans = s.spans[sp].scans;
            let grey = marks & !scans;
            if model.faults.scan_bits_after_scan {
                format!(
                    "unscanned s{span}: load the scan word {}: scan {} WITHOUT claiming them",
                    slots_named(h, sp, scans),
                    slots_named(h, sp, grey)
                )
            } else if grey == 0 {
                format!("claim_grey s{span}: load the scan word {}: nothing grey, done", slots_named(h, sp, scans))
            } else {
                format!(
                    "claim_grey s{span}: load the scan word {}: grey {}",
                    slots_named(h, sp, scans),
                    slots_named(h, sp, grey)
                )
            }
        }
        Pc::ClaimScans { span, grey } => {
            let sp = span as usize;
            let claimed = grey & !s.spans[sp].scans;
            let lost = grey & !claimed;
            let lost = if lost == 0 {
                String::new()
            } else {
                format!(" ({} claimed by another since)", slots_named(h, sp, lost))
            };
            format!(
                "claim_grey s{span}: fetch_or the scan word with {}: claimed {}{lost}",
                slots_named(h, sp, grey),
                slots_named(h, sp, claimed)
            )
        }
        Pc::Grey { obj, field, g, .. } => {
            let child = h.child(obj, field as usize);
            format!("scan o{obj}.f{field} = o{child}: {}", grey_words(model, s, child, g, next, &ring))
        }
        Pc::AfterLoadMarks { span } => format!(
            "scan of s{span} over: mark_all_scanned loads the mark word {}",
            slots_named(h, span as usize, s.spans[span as usize].marks)
        ),
        Pc::AfterSetScans { span, marks } => {
            let sp = span as usize;
            let hidden = h.objects_in(sp, marks & !s.spans[sp].scans) & !s.scanned;
            let hidden =
                if hidden == 0 { String::new() } else { format!(": HIDES {}, never scanned", objects_named(hidden)) };
            format!("mark_all_scanned s{span}: fetch_or the scan word with {}{hidden}", slots_named(h, sp, marks))
        }
    };
    format!("m{m}: {text}")
}

/// The trace, one line per step, with what each did to the span words.
fn render(model: &Model, case: &Case, init: State, trace: &[Step]) -> String {
    let mut out = format!(
        "  heap: {}; roots: {}; {} markers; fast path {}\n",
        case.heap,
        case.roots.iter().enumerate().map(|(r, roots)| format!("R{r} shades {roots}")).collect::<Vec<_>>().join(", "),
        model.markers,
        if model.fast_path { "on" } else { "off" }
    );
    let mut s = init;
    for (i, &step) in trace.iter().enumerate() {
        let next = model.apply(&s, step).0;
        let _ = writeln!(out, "  {:>2}. {}", i + 1, describe(model, &s, step, &next));
        s = next;
    }
    let mut steps = Vec::new();
    model.steps(&s, &mut steps);
    let end = if steps.is_empty() { "quiescent (every queue empty, every marker idle): " } else { "" };
    let _ =
        writeln!(out, "  => {end}{}", model.violation(&s, steps.is_empty()).unwrap_or_else(|| "no violation".into()));
    out
}

// ---------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------

struct Case {
    name: &'static str,
    markers: usize,
    heap: &'static str,
    /// Each shader's roots.
    roots: &'static [&'static str],
    /// Searched under the faults too. The biggest case is not: under a
    /// fault its state space takes seconds, and it shows nothing the
    /// others do not.
    for_faults: bool,
}

/// Small heaps: a span of up to six objects in one bitmap word, perhaps a
/// second span; two markers (three in the last case) and the shader, each
/// explored with and without the fast path.
const CASES: &[Case] = &[
    // A chain: each scan marks the next object in the span it scans; the
    // shaders shade objects of the chain too (as a barrier would).
    Case {
        name: "a chain in one span",
        markers: 2,
        heap: "s0: o0>o1 o1>o2 o2>o3 o3",
        roots: &["o0 o3", "o2 o1"],
        for_faults: true,
    },
    // Two children at once (ManyMarks), a shared child, o5 unreachable.
    Case {
        name: "a tree in one span",
        markers: 2,
        heap: "s0: o0>o1,o2 o1>o3,o4 o2>o4 o3 o4 o5>o0",
        roots: &["o0 o4", "o3 o2"],
        for_faults: true,
    },
    // The smallest: a root shaded into s0 while s0 is held or scanned.
    Case {
        name: "two roots in one span",
        markers: 2,
        heap: "s0: o0>o2 o1>o3 o2>o1 o3",
        roots: &["o0", "o1"],
        for_faults: true,
    },
    // Each span's objects point into the other; three markers.
    Case {
        name: "two spans, pointers across",
        markers: 3,
        heap: "s0: o0>o3,o1 o1>o2 o2 | s1: o3>o1,o4 o4>o2",
        roots: &["o0 o4", "o3 o1"],
        for_faults: true,
    },
    // Three spans, a cycle through them; three markers.
    Case {
        name: "three spans",
        markers: 3,
        heap: "s0: o0>o2,o4 o1>o0 | s1: o2>o1,o5 o3>o0 | s2: o4>o3 o5>o1",
        roots: &["o0 o5", "o3 o1"],
        for_faults: false,
    },
];

fn settings(fast_path: bool) -> GreenTeaSettings {
    GreenTeaSettings { one_mark_fast_path: fast_path, ..GreenTeaSettings::default() }
}

fn faulty(f: fn(&mut GreenTeaFaults)) -> GreenTeaFaults {
    let mut faults = GreenTeaFaults::default();
    f(&mut faults);
    faults
}

/// Explores every case under `faults` and the fast-path setting; writes a
/// line per case to `log`.
fn explore_cases(faults: GreenTeaFaults, fast_path: bool, log: &mut String) -> Vec<(&'static Case, Model, Search)> {
    let _ = writeln!(log, "faults: {faults:?}, fast path {}", if fast_path { "on" } else { "off" });
    let with_faults = faults != GreenTeaFaults::default();
    CASES
        .iter()
        .filter(|case| case.for_faults || !with_faults)
        .map(|case| {
            let model = Model::new(case, faults, settings(fast_path));
            let t = Instant::now();
            let search = explore(&model, State::initial());
            let _ = writeln!(
                log,
                "  {:<28} {:>8} states {:>9} transitions {:>3} quiescent, depth {:>3}, {}/{} markers busy at once, {:>6.0?}{}",
                case.name,
                search.states,
                search.transitions,
                search.quiescent,
                search.max_depth,
                search.most_busy,
                case.markers,
                t.elapsed(),
                if search.counterexample.is_some() { "  COUNTEREXAMPLE" } else { "" }
            );
            (case, model, search)
        })
        .collect()
}

/// The correct protocol: no case has a counterexample; every case is big
/// enough to mean something; between them the cases reach every event of
/// [`EVENTS`] (the fast path only with it on). Prints its table.
fn assert_safe(fast_path: bool) {
    let mut log = String::new();
    let mut events = [0usize; EVENTS.len()];
    let mut total = 0;
    for (case, model, search) in explore_cases(GreenTeaFaults::default(), fast_path, &mut log) {
        if let Some(trace) = search.counterexample {
            let short = shortest_counterexample(&model, State::initial()).unwrap_or(trace);
            println!("{log}");
            panic!("{}: the correct protocol fails:\n{}", case.name, render(&model, case, State::initial(), &short));
        }
        assert!(search.states > 1_000, "{}: only {} states: the model is too small", case.name, search.states);
        assert!(search.quiescent > 0, "{}: no quiescent state", case.name);
        for (e, n) in events.iter_mut().zip(search.events) {
            *e += n;
        }
        total += search.states;
    }
    let _ = writeln!(log, "  total {total} states; transitions with each event:");
    for ((_, name), n) in EVENTS.iter().zip(events) {
        let _ = writeln!(log, "    {name:<36} {n}");
    }
    println!("{log}");
    for ((bit, name), n) in EVENTS.iter().zip(events) {
        if *bit == FAST_PATH && !fast_path {
            assert_eq!(n, 0, "the fast path ran with it off");
        } else {
            assert!(n > 0, "no interleaving of any case has: {name}");
        }
    }
}

/// Some case has a counterexample under `faults`. Prints the shortest trace
/// (breadth-first) in the case whose search found one soonest, and returns
/// it in words.
fn assert_caught(faults: GreenTeaFaults, fast_path: bool) -> String {
    let mut log = String::new();
    let mut caught: Vec<(&Case, Model, Search)> = Vec::new();
    for (case, model, search) in explore_cases(faults, fast_path, &mut log) {
        if let Some(trace) = &search.counterexample {
            assert!(replay(&model, State::initial(), trace).is_some(), "{}: the trace does not replay", case.name);
            caught.push((case, model, search));
        }
    }
    let names: Vec<&str> = caught.iter().map(|(case, ..)| case.name).collect();
    let hunted = CASES.iter().filter(|c| c.for_faults).count();
    let _ = writeln!(log, "  caught by {} of {hunted} cases: {}", caught.len(), names.join(", "));
    let Some((case, model, search)) = caught.iter().min_by_key(|(_, _, search)| search.states) else {
        println!("{log}");
        panic!("no case catches {faults:?}");
    };
    let first = search.counterexample.as_ref().unwrap();
    let short = shortest_counterexample(model, State::initial()).expect("a counterexample exists");
    assert!(short.len() <= first.len() && replay(model, State::initial(), &short).is_some());
    let text = render(model, case, State::initial(), &short);
    let _ = writeln!(
        log,
        "  shortest counterexample in \"{}\" ({} steps; the depth-first search's first had {}):\n{text}",
        case.name,
        short.len(),
        first.len()
    );
    println!("{log}");
    text
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn the_protocol_with_the_fast_path_is_safe_in_every_interleaving() {
    assert_safe(true);
}

#[test]
fn the_protocol_without_the_fast_path_is_safe_in_every_interleaving() {
    assert_safe(false);
}

#[test]
fn setting_scan_bits_after_the_scan_leaves_an_object_unscanned() {
    let text = assert_caught(faulty(|f| f.scan_bits_after_scan = true), true);
    assert!(text.contains("HIDES") && text.contains("NEVER SCANNED"), "{text}");
}

#[test]
fn without_the_ownership_upgrade_the_fast_path_loses_a_mark() {
    let text = assert_caught(faulty(|f| f.no_ownership_upgrade = true), true);
    assert!(
        text.contains("does NOT raise it") && text.contains("the fast path") && text.contains("NEVER SCANNED"),
        "{text}"
    );
}

/// The ownership count matters only to the fast path: without it the
/// compare_exchange is still an exclusive take, and every scan claims.
#[test]
fn without_the_ownership_upgrade_and_the_fast_path_nothing_is_lost() {
    let mut log = String::new();
    let searches = explore_cases(faulty(|f| f.no_ownership_upgrade = true), false, &mut log);
    println!("{log}");
    for (case, model, search) in searches {
        if let Some(trace) = search.counterexample {
            panic!(
                "{}: lost a mark without the fast path:\n{}",
                case.name,
                render(&model, case, State::initial(), &trace)
            );
        }
    }
}

#[test]
fn non_atomic_mark_bits_lose_a_mark() {
    let text = assert_caught(faulty(|f| f.non_atomic_marks = true), true);
    assert!(text.contains("ERASING the mark") && text.contains("NOT MARKED"), "{text}");
}

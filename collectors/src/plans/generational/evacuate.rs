//! One evacuation of the young generation (a minor collection's work, with
//! the world stopped), in parallel on the collector's GC workers: copying
//! in the style of Cheney, with grey stacks in place of a scan pointer
//! (promoted copies land all over the old generation rather than in one
//! to-space) and work stealing between them, as HotSpot's parallel young
//! collector does.
//!
//! 1. Dirty cards are drained first (before any promotion can dirty new
//!    ones), skipping those wholly inside a young space (a card bigger than
//!    a page may hold old pages too: it is scanned, and its young part
//!    skipped, since no span covers it).
//! 2. Workers claim tasks from one counter: the globals, each goroutine's
//!    stack, then the dirty cards a few at a time. Every root slot —
//!    globals, frame locals, stack blocks' slots — that points into the
//!    nursery or the from-survivor space is redirected to the object's
//!    copy, at the same offset (interior pointers keep theirs), copying it
//!    first if nobody has. The pointer slots of old objects in the drained
//!    cards are treated the same way; a card whose slot still points into
//!    the young generation afterwards (into the to-survivor space) is
//!    dirtied again.
//! 3. Copies are scanned until no worker has one left: each pointer slot of
//!    a copy is redirected like a root; a promoted copy that keeps a pointer
//!    into the to-survivor space gets that slot's card dirtied (an
//!    old-to-young pointer the next minor collection must see).
//! 4. Whatever was not copied is dead: both spaces are reset.
//!
//! The workers run [`crate::parallel_work`]'s loop: it hands out the tasks,
//! keeps each worker's copies to scan on its own deque, lets idle workers
//! steal, ends the evacuation when no worker has a copy left, and stops the
//! others if one panics.
//!
//! Each object is copied once: a worker claims it in its header before
//! copying and publishes the copy's address after ([`CopySpace::claim`]);
//! a worker that meets it meanwhile waits for the address. Each worker
//! copies into its own buffer in the to-survivor space and its own
//! allocation cache in the old generation.
//!
//! Where a copy goes: an object that has now survived `age + 1` minor
//! collections stays young (to-survivor space) while that is at most the
//! tenure age, and is promoted into the old generation's size-class heap
//! otherwise, or when the to-survivor space is full (premature promotion,
//! as HotSpot's survivor overflow), or when the whole young generation is
//! being emptied before a major collection.
//!
//! A concurrent reader of an old object in a dirty card may meet a promoted
//! copy still being filled in by another worker; it sees each of the copy's
//! words either before the copy (zero: allocation zeroes) or after it, and
//! redirecting a pointer is idempotent, so both orders end the same.

use super::{GenFaults, Generational};
use crate::copy_space::{object_words, Claim, CopySpace, Header, Tlab};
use crate::heap::{Address, AllocCache, ObjectSink, WORD_BYTES};
use crate::host::{RootKind, RootSet};
use crate::parallel_work::{GreyQueue, GreyWorker, Start, WorkLoop};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Each worker's buffer in the to-survivor space.
const SURVIVOR_BUFFER_BYTES: u64 = 32 << 10;

/// Dirty cards per task.
const CARDS_PER_TASK: usize = 16;

/// A worker with more copies than this waiting to be scanned moves half of
/// them where idle workers steal first
/// ([`GreyWorker::SHARE_BACKLOG_OVER`]).
const SHARE_BACKLOG_OVER: usize = 64;

/// The first worker brings in the others once it has copied this much, or
/// worked this long, alone (the default of
/// [`Generational::set_escalate_bytes`]). Measured on a 2-core VM, a second
/// worker made minor collections of gcbench, binary-trees and server 10–40%
/// slower when it joined after 128 KiB or 100 µs (waking it, sharing the
/// grey stacks, and the cores it takes); at 1 MiB or 1 ms they are as fast
/// as one thread alone, and big evacuations still get every worker.
pub(super) const ESCALATE_BYTES: u64 = 1 << 20;
const ESCALATE_AFTER: Duration = Duration::from_millis(1);

/// What one evacuation did.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct EvacuationStats {
    /// Bytes allocated in the young generation since the last one (the
    /// nursery's buffers, and the survivors' own bytes).
    pub young_bytes: u64,
    /// Bytes and objects copied into the survivor space, and promoted.
    pub copied_bytes: u64,
    pub copied_objects: u64,
    pub promoted_bytes: u64,
    pub promoted_objects: u64,
    /// Dead young objects and their bytes (declared bytes when the host
    /// takes each free; otherwise the young bytes less the survivors').
    pub freed_bytes: u64,
    pub freed_objects: u64,
    /// Dirty cards of the old generation scanned (the remembered set).
    pub dirty_cards: u64,
    /// Root slots visited.
    pub root_slots: u64,
    /// CPU time of the workers.
    pub cpu_ns: u64,
}

impl EvacuationStats {
    fn add(&mut self, o: &EvacuationStats) {
        self.copied_bytes += o.copied_bytes;
        self.copied_objects += o.copied_objects;
        self.promoted_bytes += o.promoted_bytes;
        self.promoted_objects += o.promoted_objects;
        self.root_slots += o.root_slots;
        self.cpu_ns += o.cpu_ns;
    }
}

/// A copy waiting to be scanned: where it is, its pointer slots, and
/// whether it is old (promoted).
#[derive(Clone, Copy)]
struct Grey {
    at: Address,
    ptr_slots: u32,
    old: bool,
}

/// The evacuation's shared state.
pub(super) struct Evacuation<'g> {
    gen: &'g Generational,
    from: &'g CopySpace,
    to: &'g CopySpace,
    sink: Option<Arc<dyn ObjectSink>>,
    cycle: u64,
    /// Promote every survivor (before a major collection).
    promote_all: bool,
    faults: GenFaults,
}

/// One worker's own state. Its copies waiting to be scanned are on its
/// [`GreyQueue`]; if another worker panics, the queue says so
/// ([`GreyQueue::aborted`]), and a worker waiting for an object that one
/// claimed stops waiting, so that the panic reaches the caller.
struct Local<'a> {
    to_tlab: Tlab,
    old_cache: &'a mut AllocCache,
    stats: EvacuationStats,
    /// Bytes copied alone before the others are brought in (0: at once).
    escalate_bytes: u64,
    started: Instant,
    /// Copies scanned since the last look at the clock.
    scanned: u32,
}

impl Local<'_> {
    /// Brings in the other workers (if this is the first worker and it has
    /// not yet) once it has done enough alone; `now` looks at the clock at
    /// once, else every 256 scans.
    #[inline]
    fn maybe_escalate(&mut self, grey: &mut GreyQueue<'_, Grey>, now: bool) {
        if !grey.helpers_waiting() {
            return;
        }
        self.scanned += 1;
        if !now && self.scanned < 256 {
            return;
        }
        self.scanned = 0;
        let copied = self.stats.copied_bytes + self.stats.promoted_bytes;
        if copied >= self.escalate_bytes || self.started.elapsed() >= ESCALATE_AFTER {
            grey.bring_in_helpers();
        }
    }
}

/// One evacuation worker: the root tasks (globals, stacks, batches of dirty
/// cards) and scanning a copy, for [`WorkLoop`].
struct EvacuationWorker<'e, 'g> {
    ev: &'e Evacuation<'g>,
    roots: &'e dyn RootSet,
    cards: &'e [Address],
    local: Local<'e>,
    /// The thread's CPU time when it started.
    cpu0: u64,
}

impl GreyWorker for EvacuationWorker<'_, '_> {
    type Item = Grey;
    type Output = EvacuationStats;
    const SHARE_BACKLOG_OVER: Option<usize> = Some(SHARE_BACKLOG_OVER);

    fn root_task(&mut self, task: usize, grey: &mut GreyQueue<'_, Grey>) {
        let (ev, roots, w) = (self.ev, self.roots, &mut self.local);
        if task < 1 + roots.stack_count() {
            let grey = &*grey;
            let mut visit = |slot: &crate::host::Slot, kind: RootKind| {
                w.stats.root_slots += 1;
                let v = slot.load(Ordering::Relaxed);
                if ev.in_from_spaces(v) {
                    let moved = ev.forward(w, grey, v);
                    if !(ev.faults.stack_blocks_not_forwarded && kind == RootKind::StackBlock) {
                        slot.store(moved, Ordering::Relaxed);
                    }
                }
            };
            if task == 0 {
                roots.scan_globals(&mut visit);
            } else {
                roots.scan_stack(task - 1, false, &mut visit);
            }
        } else {
            let first = (task - 1 - roots.stack_count()) * CARDS_PER_TASK;
            for &card in &self.cards[first..(first + CARDS_PER_TASK).min(self.cards.len())] {
                ev.scan_card(w, grey, card);
            }
        }
    }

    #[inline]
    fn process(&mut self, g: Grey, grey: &mut GreyQueue<'_, Grey>) {
        self.ev.scan(&mut self.local, grey, g);
        self.local.maybe_escalate(grey, false);
    }

    fn root_task_drained(&mut self, grey: &mut GreyQueue<'_, Grey>) {
        self.local.maybe_escalate(grey, true);
    }

    fn finish(self) -> EvacuationStats {
        let mut stats = self.local.stats;
        stats.cpu_ns = crate::cpu_time::thread_cpu_ns().saturating_sub(self.cpu0);
        stats
    }
}

impl<'g> Evacuation<'g> {
    pub(super) fn new(
        gen: &'g Generational,
        (from, to): (&'g CopySpace, &'g CopySpace),
        sink: Option<Arc<dyn ObjectSink>>,
        cycle: u64,
        promote_all: bool,
    ) -> Evacuation<'g> {
        Evacuation { gen, from, to, sink, cycle, promote_all, faults: gen.faults }
    }

    /// Runs the evacuation from `roots`, each worker allocating promoted
    /// copies through its own cache of `old_caches`; the from-survivor space
    /// holds `survivor_bytes` of objects. Returns what it did.
    ///
    /// The calling thread starts alone; once it has copied
    /// [`ESCALATE_BYTES`] (or what [`Generational::set_escalate_bytes`]
    /// says) or worked [`ESCALATE_AFTER`], the other GC workers
    /// join (waking them costs tens of microseconds, more than a small
    /// minor collection takes).
    pub(super) fn run(
        self,
        roots: &dyn RootSet,
        old_caches: &mut [AllocCache],
        survivor_bytes: u64,
    ) -> EvacuationStats {
        let gen = self.gen;
        let started = Instant::now();
        let mut total =
            EvacuationStats { young_bytes: gen.eden.used_bytes() + survivor_bytes, ..EvacuationStats::default() };
        let card_bytes = gen.heap.card_bytes();
        let mut cards = Vec::new();
        gen.heap.drain_dirty_cards(|c| {
            if !gen.is_young_card(c, card_bytes) {
                cards.push(c);
            }
        });
        total.dirty_cards = cards.len() as u64;
        if self.faults.skip_dirty_cards {
            cards.clear();
        }

        let workers = gen.marker.workers().min(old_caches.len()).max(1);
        // Each worker's allocation cache in the old generation, until it
        // takes it.
        let caches: Mutex<Vec<Option<&mut AllocCache>>> = Mutex::new(old_caches.iter_mut().map(Some).collect());
        let tasks = 1 + roots.stack_count() + cards.len().div_ceil(CARDS_PER_TASK);
        let escalate_bytes = gen.escalate_bytes.load(Ordering::Relaxed);
        let ev = &self;
        let per_worker =
            WorkLoop::new(tasks, workers, Start::CallerFirst).run(gen.marker.pool(), |i| EvacuationWorker {
                ev,
                roots,
                cards: &cards,
                local: Local {
                    to_tlab: Tlab::default(),
                    old_cache: caches.lock()[i].take().expect("one old-generation cache per worker"),
                    stats: EvacuationStats::default(),
                    escalate_bytes,
                    started,
                    scanned: 0,
                },
                cpu0: crate::cpu_time::thread_cpu_ns(),
            });
        for s in &per_worker {
            total.add(s);
        }
        self.free_the_rest(&mut total);
        total
    }

    /// Redirects the old slots of the dirty card at `card`, and dirties it
    /// again if one still points into the young generation.
    fn scan_card(&self, w: &mut Local<'_>, grey: &GreyQueue<'_, Grey>, card: Address) {
        let heap = &self.gen.heap;
        let mut still_young = false;
        heap.for_each_old_slot_in_card(
            card,
            |_| true,
            |s| {
                let mut v = s.load(Ordering::Relaxed);
                if self.in_from_spaces(v) {
                    v = self.forward(w, grey, v);
                    s.store(v, Ordering::Relaxed);
                }
                still_young |= self.to.contains(v);
            },
        );
        if still_young {
            heap.dirty_card(card);
        }
    }

    /// Does `v` point into a space being evacuated?
    #[inline]
    fn in_from_spaces(&self, v: Address) -> bool {
        self.gen.eden.contains(v) || self.from.contains(v)
    }

    /// The new value for a slot holding `v` (which points into a space
    /// being evacuated): the same offset into the object's copy, copying
    /// it now if nobody has yet.
    fn forward(&self, w: &mut Local<'_>, grey: &GreyQueue<'_, Grey>, v: Address) -> Address {
        let heap = &self.gen.heap;
        let space = if self.gen.eden.contains(v) { &self.gen.eden } else { self.from };
        let Some(base) = space.object_start(heap, v) else {
            return v; // not into an object: nothing a program could hold
        };
        if self.faults.interior_not_fixed && v != base {
            return v;
        }
        let to = match space.claim(heap, base, &|| grey.aborted()) {
            Claim::Forwarded(to) => to,
            Claim::Won(header) => {
                let to = self.copy(w, grey, base, header);
                space.publish(heap, base, to);
                to
            }
        };
        to + (v - base)
    }

    /// Copies the object at `base` (claimed by this worker) and queues the
    /// copy for scanning; returns the copy's address.
    fn copy(&self, w: &mut Local<'_>, grey: &GreyQueue<'_, Grey>, base: Address, header: Header) -> Address {
        let heap = &self.gen.heap;
        let Header { size, ptr_slots, age, .. } = header;
        let age = age.saturating_add(1);
        let young = !self.promote_all && u32::from(age) <= self.gen.tenure_age;
        let dest =
            young.then(|| self.to.alloc(heap, &mut w.to_tlab, size, ptr_slots, age, SURVIVOR_BUFFER_BYTES)).flatten();
        let (dest, old) = match dest {
            Some(d) => (d, false),
            None => (self.gen.promote(w.old_cache, size, ptr_slots), true),
        };
        let n = object_words(size);
        if let (Some(src), Some(dst)) = (heap.words_at(base, n), heap.words_at(dest, n)) {
            for (d, s) in dst.iter().zip(src) {
                d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
        if let Some(sink) = &self.sink {
            sink.on_move(self.cycle, base, dest);
        }
        let bytes = n * WORD_BYTES;
        if old {
            w.stats.promoted_bytes += bytes;
            w.stats.promoted_objects += 1;
        } else {
            w.stats.copied_bytes += bytes;
            w.stats.copied_objects += 1;
        }
        if ptr_slots > 0 {
            grey.push(Grey { at: dest, ptr_slots, old });
        }
        dest
    }

    /// Scans one copy: redirects its slots, and remembers a promoted copy's
    /// slots that still point into the young generation.
    fn scan(&self, w: &mut Local<'_>, grey: &GreyQueue<'_, Grey>, g: Grey) {
        let heap = &self.gen.heap;
        let Some(slots) = heap.words_at(g.at, g.ptr_slots as u64) else { return };
        for (i, s) in slots.iter().enumerate() {
            let mut v = s.load(Ordering::Relaxed);
            if self.in_from_spaces(v) {
                v = self.forward(w, grey, v);
                s.store(v, Ordering::Relaxed);
            }
            if g.old && self.to.contains(v) {
                heap.dirty_card(g.at + i as u64 * WORD_BYTES);
            }
        }
    }

    /// Counts (or, for a host that wants each free, reports) every object
    /// of the evacuated spaces that was not copied as freed, and empties
    /// both spaces.
    ///
    /// Only a host that wants each free (the verifier) pays for visiting the
    /// dead: otherwise the spaces are reset without reading an object, and
    /// the dead are counted from the start bitmap as it is cleared — the
    /// nursery's dead cost nothing but a bitmap word per 512 bytes.
    fn free_the_rest(&self, stats: &mut EvacuationStats) {
        let heap = &self.gen.heap;
        let survived = stats.copied_objects + stats.promoted_objects;
        let Some(sink) = &self.sink else {
            let objects = self.gen.eden.reset() + self.from.reset();
            stats.freed_objects = objects.saturating_sub(survived);
            let survived_bytes = stats.copied_bytes + stats.promoted_bytes;
            stats.freed_bytes = stats.young_bytes.saturating_sub(survived_bytes);
            return;
        };
        for space in [&self.gen.eden, self.from] {
            space.for_each_object(heap, |base, h| {
                if !h.forwarded {
                    stats.freed_objects += 1;
                    stats.freed_bytes += h.size;
                    sink.on_free(self.cycle, base);
                }
            });
            space.reset();
        }
    }
}

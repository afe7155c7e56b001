//! One evacuation of the young generation (a minor collection's work, with
//! the world stopped): Cheney-style copying, with an explicit grey stack
//! because promoted copies land all over the old generation rather than in
//! one to-space.
//!
//! 1. Dirty cards are drained first (before any promotion can dirty new
//!    ones), skipping those wholly inside a young space (a card bigger than
//!    a page may hold old pages too: it is scanned, and its young part
//!    skipped, since no span covers it).
//! 2. Every root slot — globals, frame locals, stack blocks' slots — that
//!    points into the nursery or the from-survivor space is redirected to
//!    the object's copy, at the same offset (interior pointers keep theirs),
//!    copying the object first if this is the first pointer to it.
//! 3. The pointer slots of old objects in the drained cards are treated the
//!    same way; a card whose slot still points into the young generation
//!    afterwards (into the to-survivor space) is dirtied again.
//! 4. Copies are scanned until none is left: each pointer slot of a copy is
//!    redirected like a root; a promoted copy that keeps a pointer into the
//!    to-survivor space gets its card dirtied (an old-to-young pointer the
//!    next minor collection must see).
//! 5. Whatever was not copied is dead: reported freed, and both spaces are
//!    reset.
//!
//! Where a copy goes: an object that has now survived `age + 1` minor
//! collections stays young (to-survivor space) while that is at most the
//! tenure age, and is promoted into the old generation's size-class heap
//! otherwise, or when the to-survivor space is full (premature promotion,
//! as HotSpot's survivor overflow), or when the whole young generation is
//! being emptied before a major collection.

use super::{GenFaults, Generational};
use crate::copy_space::{object_words, CopySpace, Header, Tlab};
use crate::heap::{Address, AllocCache, ObjectSink, WORD_BYTES};
use crate::host::{RootKind, RootSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What one evacuation did.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct EvacuationStats {
    /// Bytes allocated in the young generation since the last one (nursery
    /// and from-survivor space, buffers' unused tails included).
    pub young_bytes: u64,
    /// Bytes and objects copied into the survivor space, and promoted.
    pub copied_bytes: u64,
    pub copied_objects: u64,
    pub promoted_bytes: u64,
    pub promoted_objects: u64,
    /// Dead young objects and their declared bytes.
    pub freed_bytes: u64,
    pub freed_objects: u64,
    /// Dirty cards of the old generation scanned (the remembered set).
    pub dirty_cards: u64,
    /// Root slots visited.
    pub root_slots: u64,
}

/// A copy waiting to be scanned: where it is, its pointer slots, and
/// whether it is old (promoted).
struct Grey {
    at: Address,
    ptr_slots: u32,
    old: bool,
}

/// The evacuation's buffer in the to-survivor space.
const SURVIVOR_BUFFER_BYTES: u64 = 32 << 10;

pub(super) struct Evacuation<'g> {
    gen: &'g Generational,
    from: &'g CopySpace,
    to: &'g CopySpace,
    to_tlab: Tlab,
    old_cache: &'g mut AllocCache,
    sink: Option<Arc<dyn ObjectSink>>,
    cycle: u64,
    /// Promote every survivor (before a major collection).
    promote_all: bool,
    faults: GenFaults,
    grey: Vec<Grey>,
    stats: EvacuationStats,
}

impl<'g> Evacuation<'g> {
    pub(super) fn new(
        gen: &'g Generational,
        (from, to): (&'g CopySpace, &'g CopySpace),
        old_cache: &'g mut AllocCache,
        sink: Option<Arc<dyn ObjectSink>>,
        cycle: u64,
        promote_all: bool,
    ) -> Evacuation<'g> {
        Evacuation {
            gen,
            from,
            to,
            to_tlab: Tlab::default(),
            old_cache,
            sink,
            cycle,
            promote_all,
            faults: gen.faults,
            grey: Vec::new(),
            stats: EvacuationStats::default(),
        }
    }

    /// Runs the evacuation from `roots`, the from-survivor space holding
    /// `survivor_bytes` of objects; returns what it did.
    pub(super) fn run(mut self, roots: &dyn RootSet, survivor_bytes: u64) -> EvacuationStats {
        let gen = self.gen;
        self.stats.young_bytes = gen.eden.used_bytes() + survivor_bytes;
        let mut cards = Vec::new();
        let card_bytes = gen.heap.card_bytes();
        gen.heap.drain_dirty_cards(|c| {
            if !gen.is_young_card(c, card_bytes) {
                cards.push(c);
            }
        });
        self.stats.dirty_cards = cards.len() as u64;
        if self.faults.skip_dirty_cards {
            cards.clear();
        }
        roots.scan_all(&mut |slot, kind| {
            self.stats.root_slots += 1;
            let v = slot.load(Ordering::Relaxed);
            if self.in_from_spaces(v) {
                let moved = self.forward(v);
                if !(self.faults.stack_blocks_not_forwarded && kind == RootKind::StackBlock) {
                    slot.store(moved, Ordering::Relaxed);
                }
            }
        });
        self.drain_grey();
        for card in cards {
            let mut still_young = false;
            let mut slots: Vec<&AtomicU64> = Vec::new();
            gen.heap.for_each_old_slot_in_card(card, |_| true, |s| slots.push(s));
            for s in slots {
                let v = s.load(Ordering::Relaxed);
                let v = if self.in_from_spaces(v) {
                    let moved = self.forward(v);
                    s.store(moved, Ordering::Relaxed);
                    moved
                } else {
                    v
                };
                still_young |= self.to.contains(v);
            }
            if still_young {
                gen.heap.dirty_card(card);
            }
            self.drain_grey();
        }
        self.free_the_rest();
        self.stats
    }

    /// Does `v` point into a space being evacuated?
    #[inline]
    fn in_from_spaces(&self, v: Address) -> bool {
        self.gen.eden.contains(v) || self.from.contains(v)
    }

    /// The new value for a slot holding `v` (which points into a space
    /// being evacuated): the same offset into the object's copy, copying
    /// it now if nobody has yet.
    fn forward(&mut self, v: Address) -> Address {
        let heap = &self.gen.heap;
        let space = if self.gen.eden.contains(v) { &self.gen.eden } else { self.from };
        let Some(base) = space.object_start(heap, v) else {
            return v; // not into an object: nothing a program could hold
        };
        if self.faults.interior_not_fixed && v != base {
            return v;
        }
        let to = match space.forwarding(heap, base) {
            Some(to) => to,
            None => self.copy(space, base),
        };
        to + (v - base)
    }

    /// Copies the object at `base` of `space` and leaves a forwarding
    /// pointer behind.
    fn copy(&mut self, space: &CopySpace, base: Address) -> Address {
        let heap = &self.gen.heap;
        let Header { size, ptr_slots, age, .. } = space.header(heap, base);
        let age = age.saturating_add(1);
        let young = !self.promote_all && u32::from(age) <= self.gen.tenure_age;
        let dest = young
            .then(|| self.to.alloc(heap, &mut self.to_tlab, size, ptr_slots, age, SURVIVOR_BUFFER_BYTES))
            .flatten();
        let (dest, old) = match dest {
            Some(d) => (d, false),
            None => (self.gen.promote(self.old_cache, size, ptr_slots), true),
        };
        let n = object_words(size);
        let (src, dst) = (heap.words_at(base, n), heap.words_at(dest, n));
        if let (Some(src), Some(dst)) = (src, dst) {
            for (d, s) in dst.iter().zip(src) {
                d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
        space.forward(heap, base, dest);
        if let Some(sink) = &self.sink {
            sink.on_move(self.cycle, base, dest);
        }
        let bytes = n * WORD_BYTES;
        if old {
            self.stats.promoted_bytes += bytes;
            self.stats.promoted_objects += 1;
        } else {
            self.stats.copied_bytes += bytes;
            self.stats.copied_objects += 1;
        }
        if ptr_slots > 0 {
            self.grey.push(Grey { at: dest, ptr_slots, old });
        }
        dest
    }

    /// Scans copies until none is left.
    fn drain_grey(&mut self) {
        let heap = &self.gen.heap;
        while let Some(g) = self.grey.pop() {
            let Some(slots) = heap.words_at(g.at, g.ptr_slots as u64) else { continue };
            for (i, s) in slots.iter().enumerate() {
                let mut v = s.load(Ordering::Relaxed);
                if self.in_from_spaces(v) {
                    v = self.forward(v);
                    s.store(v, Ordering::Relaxed);
                }
                if g.old && self.to.contains(v) {
                    // A promoted copy pointing at a survivor: an
                    // old-to-young pointer the next minor collection must see.
                    heap.dirty_card(g.at + i as u64 * WORD_BYTES);
                }
            }
        }
    }

    /// Reports every object of the evacuated spaces that was not copied as
    /// freed, and empties both spaces.
    ///
    /// Only a host that wants each free (the verifier) pays for visiting the
    /// dead: otherwise the spaces are reset without reading an object, and
    /// the dead are counted from the start bitmap as it is cleared — the
    /// nursery's dead cost nothing but a bitmap word per 512 bytes.
    fn free_the_rest(&mut self) {
        let heap = &self.gen.heap;
        let survived = self.stats.copied_objects + self.stats.promoted_objects;
        let Some(sink) = self.sink.clone() else {
            let objects = self.gen.eden.reset() + self.from.reset();
            self.stats.freed_objects = objects.saturating_sub(survived);
            // Declared sizes are not read: the young generation's bytes (the
            // nursery's with headers and buffer tails) less what survived.
            let survived_bytes = self.stats.copied_bytes + self.stats.promoted_bytes;
            self.stats.freed_bytes = self.stats.young_bytes.saturating_sub(survived_bytes);
            return;
        };
        for space in [&self.gen.eden, self.from] {
            space.for_each_object(heap, |base, h| {
                if !h.forwarded {
                    self.stats.freed_objects += 1;
                    self.stats.freed_bytes += h.size;
                    sink.on_free(self.cycle, base);
                }
            });
            space.reset();
        }
    }
}

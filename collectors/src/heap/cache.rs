//! Per-worker allocation caches (Go's `mcache`) and the small-object
//! allocation paths.
//!
//! An [`AllocCache`] holds at most one span per span class. For each it keeps
//! a copy of one word of the span's alloc bits, inverted (`free`: a set bit is
//! a free slot), and the index of that word — Go's `allocCache` and
//! `freeindex`. The fast path ([`crate::heap::Heap::alloc`]):
//! `trailing_zeros(free)` gives the slot, `free &= free - 1` consumes it, the
//! block's words are zeroed if the span may be dirty, its metadata is
//! written and its alloc bit set with a plain load and store. No lock and no
//! read-modify-write: while a cache holds a span, it is the only writer of
//! that span's alloc bits (other caches cannot take a span that is not on a
//! central list, and no sweep touches it: see below), so
//! `Relaxed` is enough for the load; the store is `Release` so that a marker
//! that sees the bit (`Acquire`) also sees the zeroed words and metadata —
//! on x86-64 both are plain moves.
//!
//! When the word runs out, the next words of the same span are scanned (the
//! semi-fast path, still lock-free); when the span is full, the cache gives
//! it back and *refills* from the class's central partial list or with a
//! fresh span (Go's `mcache.refill`). While a concurrent sweep is under way,
//! a refill that finds no partial span sweeps a few spans itself before it
//! takes fresh pages (Go's lazy sweeping in `mcentral.cacheSpan`).
//!
//! **Accounting.** A cache counts what it allocates locally and *publishes*
//! it every [`PUBLISH_BYTES`] (and at every refill and flush): the bytes go
//! to `heap_live`, where the trigger is checked, and the slots it has
//! reached in each span it allocated from go to the heap's in-use figure
//! (`HeapInner::touch`). A span's free slots are never counted as live or
//! in use just because a cache holds the span. Go's `mcache.refill` counts
//! them (conservatively, the whole span at once); with P workers each
//! holding a span of every class it uses, that is up to P × classes × 8 KiB
//! the program never allocated — at 64 workers more than the 4 MiB minimum
//! goal, so a collection found the heap at its next goal as soon as it
//! ended. Here what is not yet published is at most [`PUBLISH_BYTES`] per
//! cache, and only caches that allocated since their last publish have any.
//!
//! **A sweep takes every span back.** Every sweep bumps the heap's sweep
//! epoch, with the world stopped; from then on the spans the caches held
//! belong to the sweep, like any other span (it frees, lists or releases
//! them). A cache notices the new epoch on its next allocation (the fast
//! path compares epochs) and drops its copies without touching the spans —
//! Go's `mcache.prepareForSweep` releasing every mcache at mark termination,
//! with the "stale span" case of `releaseAll` as the only case. What it
//! allocated but had not published is still published: the sweep subtracts
//! what it frees, so `heap_live` comes out exact either way.

use super::bitmap::{valid_mask, WORD_BITS};
use super::size_classes::{size_to_class, SpanClass, MAX_SMALL_BYTES, NUM_SPAN_CLASSES};
use super::span::{SideTables, Span, SpanId};
use super::{Address, HeapError, HeapInner, WORD_BYTES};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Bytes a cache allocates before it publishes them to `heap_live` (and
/// the slots it reached to the in-use figure). The trigger is checked at
/// each publish, so a collection starts at most this much late per cache
/// that allocated since its last publish; the cost is a few atomic adds
/// every 4 KiB (about 60 small blocks), against Go's every span (8 KiB
/// and up).
pub const PUBLISH_BYTES: u64 = 4 << 10;

/// Words of the bitmask of span classes with unpublished slots.
const CLASS_MASK_WORDS: usize = NUM_SPAN_CLASSES.div_ceil(64);

/// A cache's state for one span class.
#[derive(Clone, Copy)]
struct CachedSpan {
    /// Free slots of bitmap word `word` (bit set = free), as of when loaded
    /// minus the slots taken since.
    free: u64,
    /// Address of slot 0.
    base: u64,
    /// Block size.
    elem: u64,
    /// The span's side tables (null when `id == 0`).
    tables: *const SideTables,
    /// Index of the bitmap word `free` mirrors.
    word: u32,
    /// Slots in the span.
    nelems: u32,
    /// One past the highest slot this cache has taken (slots are taken in
    /// increasing order while it holds the span).
    reached: u32,
    /// The held span, 0 for none.
    id: SpanId,
    /// Blocks must be zeroed when allocated.
    needzero: bool,
}

const EMPTY: CachedSpan = CachedSpan {
    free: 0,
    base: 0,
    elem: 0,
    tables: std::ptr::null(),
    word: 0,
    nelems: 0,
    reached: 0,
    id: 0,
    needzero: true,
};

/// A mutator worker's allocation cache. Owned by one thread at a time
/// (`Send`, not `Sync`); made by [`crate::heap::Heap::new_cache`].
///
/// It keeps its heap's memory alive, so a cache outliving its
/// [`Heap`](crate::heap::Heap) is harmless. Dropping it gives its spans back
/// (like [`Heap::flush_cache`](crate::heap::Heap::flush_cache)).
pub struct AllocCache {
    heap: Arc<HeapInner>,
    /// The heap's sweep epoch this cache's spans are valid for.
    epoch: u64,
    /// Set when a publish by this cache made heap_live reach the trigger;
    /// cleared by `take_trigger`.
    pub(crate) trigger_hit: bool,
    /// Objects and bytes allocated since the last publish.
    objects: u64,
    bytes: u64,
    /// Span classes whose `reached` has moved since the last publish.
    unpublished: [u64; CLASS_MASK_WORDS],
    slots: [CachedSpan; NUM_SPAN_CLASSES],
}

// SAFETY: the only non-Send field is `CachedSpan::tables`, a pointer to side
// tables owned by the `HeapInner` that `heap` keeps alive; they are never
// freed before it and are only accessed through atomics, from whichever
// single thread owns the cache at the time.
unsafe impl Send for AllocCache {}

impl AllocCache {
    pub(crate) fn new(heap: Arc<HeapInner>) -> AllocCache {
        let epoch = heap.sweep_epoch.load(Ordering::Relaxed);
        AllocCache {
            heap,
            epoch,
            trigger_hit: false,
            objects: 0,
            bytes: 0,
            unpublished: [0; CLASS_MASK_WORDS],
            slots: [EMPTY; NUM_SPAN_CLASSES],
        }
    }

    /// Did an allocation through this cache reach the heap's trigger since
    /// the last call? Clears the flag.
    #[inline]
    pub fn take_trigger(&mut self) -> bool {
        std::mem::take(&mut self.trigger_hit)
    }

    /// Spans this cache holds now (none after a sweep, until it allocates
    /// again).
    pub fn spans_held(&self) -> usize {
        if self.epoch != self.heap.sweep_epoch.load(Ordering::Relaxed) {
            return 0;
        }
        self.slots.iter().filter(|e| e.id != 0).count()
    }

    /// Is this cache `heap`'s, and up to date with its last sweep?
    #[inline(always)]
    pub(crate) fn is_current(&self, heap: &Arc<HeapInner>) -> bool {
        Arc::ptr_eq(&self.heap, heap) && self.epoch == heap.sweep_epoch.load(Ordering::Relaxed)
    }

    /// Has the current word of class `spc`'s span a free slot?
    #[inline(always)]
    pub(crate) fn has_free(&self, spc: SpanClass) -> bool {
        self.slots[spc.index()].free != 0
    }

    /// Allocates the next free slot of class `spc` (`has_free(spc)` holds):
    /// the fast path.
    #[inline(always)]
    pub(crate) fn take(&mut self, heap: &HeapInner, spc: SpanClass, size: u64, ptr_slots: u32) -> Address {
        let i = spc.index();
        let e = &mut self.slots[i];
        debug_assert!(e.free != 0 && e.id != 0);
        let bit = e.free.trailing_zeros();
        e.free &= e.free - 1;
        let idx = e.word * WORD_BITS + bit;
        e.reached = idx + 1;
        let addr = e.base + idx as u64 * e.elem;
        // SAFETY: `tables` was taken from the held span in `load_span`. Side
        // tables are owned by the arena inside `heap` (kept alive by this
        // cache's Arc) and never freed before it; the span is held by this
        // cache, so no sweep releases it and its tables stay its own. Access
        // is atomic.
        let t = unsafe { &*e.tables };
        if e.needzero {
            heap.zero(addr, size.div_ceil(WORD_BYTES));
        }
        t.meta[idx as usize].store(SideTables::pack(size, ptr_slots), Ordering::Relaxed);
        let w = &t.alloc.words()[e.word as usize];
        w.store(w.load(Ordering::Relaxed) | (1 << bit), Ordering::Release);
        let elem = e.elem;
        self.objects += 1;
        self.bytes += elem;
        self.unpublished[i / 64] |= 1 << (i % 64);
        if self.bytes >= PUBLISH_BYTES {
            self.publish();
        }
        addr
    }

    /// Moves class `spc`'s cursor to the next bitmap word with a free slot;
    /// false if the span is full (or there is none).
    fn advance(&mut self, spc: SpanClass) -> bool {
        let e = &mut self.slots[spc.index()];
        if e.id == 0 {
            return false;
        }
        // SAFETY: as in `take`.
        let t = unsafe { &*e.tables };
        let words = t.alloc.words();
        let nwords = e.nelems.div_ceil(WORD_BITS);
        for w in e.word + 1..nwords {
            let free = !words[w as usize].load(Ordering::Relaxed) & valid_mask(e.nelems, w);
            if free != 0 {
                e.word = w;
                e.free = free;
                return true;
            }
        }
        e.word = nwords;
        e.free = 0;
        false
    }

    /// Starts allocating from `span` for class `spc`.
    fn load_span(&mut self, spc: SpanClass, id: SpanId, span: &Span, t: &SideTables) {
        let nelems = span.nelems();
        let e = &mut self.slots[spc.index()];
        *e = CachedSpan {
            free: !t.alloc.words()[0].load(Ordering::Relaxed) & valid_mask(nelems, 0),
            base: span.start(),
            elem: span.elem(),
            tables: t,
            word: 0,
            nelems,
            reached: 0,
            id,
            // From now on blocks are handed out: later users must zero.
            needzero: span.needzero.swap(true, Ordering::Relaxed),
        };
        if e.free == 0 {
            self.advance(spc);
        }
    }

    /// A sweep took the spans back: forget them (without touching them:
    /// they may be listed, held by another cache, or released by now).
    /// What was allocated stays to be published.
    fn drop_stale_spans(&mut self, epoch: u64) {
        self.slots = [EMPTY; NUM_SPAN_CLASSES];
        // The sweep read the slots reached from the alloc bits.
        self.unpublished = [0; CLASS_MASK_WORDS];
        self.epoch = epoch;
    }

    /// Publishes what this cache allocated since the last publish: objects
    /// and bytes to the heap's totals and `heap_live` (raising the trigger
    /// flag if that reached the trigger), and the slots reached in each
    /// span it allocated from to the in-use figure.
    #[cold]
    #[inline(never)]
    fn publish(&mut self) {
        let heap = &*self.heap;
        if self.epoch == heap.sweep_epoch.load(Ordering::Relaxed) {
            for (w, bits) in self.unpublished.iter_mut().enumerate() {
                while *bits != 0 {
                    let e = &self.slots[w * 64 + bits.trailing_zeros() as usize];
                    *bits &= *bits - 1;
                    if let Some(span) = heap.spans.get(e.id) {
                        heap.touch(span, e.reached);
                    }
                }
            }
        }
        let (objects, bytes) = (std::mem::take(&mut self.objects), std::mem::take(&mut self.bytes));
        heap.objects_allocated.fetch_add(objects, Ordering::Relaxed);
        heap.bytes_allocated.fetch_add(bytes, Ordering::Relaxed);
        if heap.add_live(bytes) {
            self.trigger_hit = true;
        }
    }

    /// Gives the span of class `spc` back: on the partial list if it has
    /// free slots. The cache is current (no sweep since it took the span).
    fn give_back(&mut self, spc: SpanClass) {
        let i = spc.index();
        let e = std::mem::replace(&mut self.slots[i], EMPTY);
        self.unpublished[i / 64] &= !(1 << (i % 64));
        if e.id == 0 {
            return;
        }
        let heap = &*self.heap;
        let span = heap.spans.get(e.id).expect("a cached span exists");
        heap.touch(span, e.reached);
        let t = span.tables().expect("a cached span has side tables");
        if t.alloc.count() < span.nelems() {
            heap.central.push(spc, e.id, &heap.spans);
        }
    }

    /// Gives every span back (unless a sweep has taken them already) and
    /// publishes what was allocated.
    pub(crate) fn flush(&mut self) {
        let epoch = self.heap.sweep_epoch.load(Ordering::Relaxed);
        if self.epoch != epoch {
            self.drop_stale_spans(epoch);
        }
        for i in 0..NUM_SPAN_CLASSES {
            self.give_back(SpanClass(i as u8));
        }
        self.publish();
    }
}

impl std::fmt::Debug for AllocCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllocCache")
            .field("spans_held", &self.spans_held())
            .field("trigger_hit", &self.trigger_hit)
            .field("unpublished_bytes", &self.bytes)
            .finish()
    }
}

impl Drop for AllocCache {
    fn drop(&mut self) {
        self.flush();
    }
}

impl HeapInner {
    /// Span `id` is about to receive new blocks: list it as young (once).
    pub(crate) fn note_young(&self, id: SpanId, span: &Span) {
        if self.track_young.load(Ordering::Relaxed) && !span.young.swap(true, Ordering::Relaxed) {
            self.young_spans.lock().push(id);
        }
    }

    /// Everything the inline fast path of `Heap::alloc` does not handle:
    /// invalid requests, a stale cache, large blocks, the next bitmap word,
    /// and refills.
    #[inline(never)]
    pub(crate) fn alloc_slow(&self, cache: &mut AllocCache, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        if size == 0 || (ptr_slots as u64).saturating_mul(WORD_BYTES) > size {
            return Err(HeapError::InvalidRequest { size, ptr_slots });
        }
        assert!(
            std::ptr::eq(Arc::as_ptr(&cache.heap), self),
            "AllocCache used with a Heap other than the one that made it"
        );
        let epoch = self.sweep_epoch.load(Ordering::Relaxed);
        if cache.epoch != epoch {
            cache.drop_stale_spans(epoch);
        }
        if size > MAX_SMALL_BYTES {
            return self.alloc_large(cache, size, ptr_slots);
        }
        let spc = SpanClass::new(size_to_class(size), ptr_slots == 0);
        loop {
            if cache.has_free(spc) {
                return Ok(cache.take(self, spc, size, ptr_slots));
            }
            if !cache.advance(spc) {
                self.refill(cache, spc, size)?;
            }
        }
    }

    /// Swaps the cache's full span of class `spc` for one with free slots
    /// (Go's `mcache.refill`), and publishes the cache's allocation.
    fn refill(&self, cache: &mut AllocCache, spc: SpanClass, size: u64) -> Result<(), HeapError> {
        cache.give_back(spc);
        let (id, span, t) = loop {
            // A partial span, else one found by sweeping (while a
            // concurrent sweep is under way), else fresh pages.
            let listed = self.central.pop(spc, &self.spans).or_else(|| self.sweep_for(spc));
            let (id, span) = match listed {
                Some(id) => (id, self.spans.get(id).expect("a listed span exists")),
                None => self.new_small_span(spc, size)?,
            };
            let t = span.tables().expect("an in-use span has side tables");
            if t.alloc.count() < span.nelems() {
                break (id, span, t);
            }
        };
        self.note_young(id, span);
        cache.load_span(spc, id, span, t);
        cache.publish();
        Ok(())
    }
}

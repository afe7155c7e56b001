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
//! central list, and the sweeper runs only while no one allocates), so
//! `Relaxed` is enough for the load; the store is `Release` so that a marker
//! that sees the bit (`Acquire`) also sees the zeroed words and metadata —
//! on x86-64 both are plain moves.
//!
//! When the word runs out, the next words of the same span are scanned (the
//! semi-fast path, still lock-free); when the span is full, the cache gives
//! it back and *refills* from the class's central partial list or with a
//! fresh span. Refill is where `heap_live` grows by the span's free bytes and
//! where the trigger is checked (Go's `mcache.refill`).
//!
//! After a sweep, a cache's copies are stale (the sweep may have freed slots
//! in the spans it holds). Every sweep bumps the heap's sweep epoch; the fast
//! path compares it with the cache's and, on a mismatch, the slow path
//! reloads every held span from its swept alloc bits, starting from slot 0 —
//! after sweeping it, if a concurrent sweep has not yet (`sweeper.rs`).
//! While a concurrent sweep is under way, a refill that finds no partial
//! span sweeps a few spans itself before it takes fresh pages (Go's lazy
//! sweeping in `mcentral.cacheSpan`).

use super::bitmap::{valid_mask, WORD_BITS};
use super::size_classes::{size_to_class, SpanClass, MAX_SMALL_BYTES, NUM_SPAN_CLASSES};
use super::span::{SideTables, Span, SpanId};
use super::{Address, HeapError, HeapInner, WORD_BYTES};
use std::sync::atomic::Ordering;
use std::sync::Arc;

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
    /// The held span, 0 for none.
    id: SpanId,
    /// Blocks must be zeroed when allocated.
    needzero: bool,
}

const EMPTY: CachedSpan =
    CachedSpan { free: 0, base: 0, elem: 0, tables: std::ptr::null(), word: 0, nelems: 0, id: 0, needzero: true };

/// A mutator worker's allocation cache. Owned by one thread at a time
/// (`Send`, not `Sync`); made by [`crate::heap::Heap::new_cache`].
///
/// It keeps its heap's memory alive, so a cache outliving its
/// [`Heap`](crate::heap::Heap) is harmless. Dropping it gives its spans back
/// (like [`Heap::flush_cache`](crate::heap::Heap::flush_cache)).
pub struct AllocCache {
    heap: Arc<HeapInner>,
    /// The heap's sweep epoch this cache's copies are valid for.
    epoch: u64,
    /// Set when an allocation through this cache made heap_live reach the
    /// trigger; cleared by `take_trigger`.
    pub(crate) trigger_hit: bool,
    /// Objects and bytes allocated since the last flush of the counts.
    objects: u64,
    bytes: u64,
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
        AllocCache { heap, epoch, trigger_hit: false, objects: 0, bytes: 0, slots: [EMPTY; NUM_SPAN_CLASSES] }
    }

    /// Did an allocation through this cache reach the heap's trigger since
    /// the last call? Clears the flag.
    #[inline]
    pub fn take_trigger(&mut self) -> bool {
        std::mem::take(&mut self.trigger_hit)
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
        let e = &mut self.slots[spc.index()];
        debug_assert!(e.free != 0 && e.id != 0);
        let bit = e.free.trailing_zeros();
        e.free &= e.free - 1;
        let idx = e.word * WORD_BITS + bit;
        let addr = e.base + idx as u64 * e.elem;
        // SAFETY: `tables` was taken from the held span in `load_span`. Side
        // tables are owned by the arena inside `heap` (kept alive by this
        // cache's Arc) and never freed before it; the span is held by this
        // cache, so the sweeper does not release it and its tables stay its
        // own. Access is atomic.
        let t = unsafe { &*e.tables };
        if e.needzero {
            heap.zero(addr, size.div_ceil(WORD_BYTES));
        }
        t.meta[idx as usize].store(SideTables::pack(size, ptr_slots), Ordering::Relaxed);
        let w = &t.alloc.words()[e.word as usize];
        w.store(w.load(Ordering::Relaxed) | (1 << bit), Ordering::Release);
        self.objects += 1;
        self.bytes += e.elem;
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
            id,
            // From now on blocks are handed out: later users must zero.
            needzero: span.needzero.swap(true, Ordering::Relaxed),
        };
        if e.free == 0 {
            self.advance(spc);
        }
    }

    /// After a sweep: restart every held span from its swept alloc bits
    /// (sweeping it first if a concurrent sweep has not yet).
    fn resync(&mut self, epoch: u64) {
        for e in self.slots.iter_mut().filter(|e| e.id != 0) {
            self.heap.ensure_swept(e.id);
            // SAFETY: as in `take`.
            let t = unsafe { &*e.tables };
            e.word = 0;
            e.free = !t.alloc.words()[0].load(Ordering::Relaxed) & valid_mask(e.nelems, 0);
            // The sweep may have freed blocks: their memory is dirty.
            e.needzero = true;
        }
        self.epoch = epoch;
    }

    /// Adds this cache's allocation counts to the heap's totals.
    fn flush_counts(&mut self) {
        self.heap.objects_allocated.fetch_add(std::mem::take(&mut self.objects), Ordering::Relaxed);
        self.heap.bytes_allocated.fetch_add(std::mem::take(&mut self.bytes), Ordering::Relaxed);
    }

    /// Gives the span of class `spc` back: its free slots stop counting in
    /// heap_live, and it goes on the partial list if it has any.
    fn give_back(&mut self, spc: SpanClass) {
        let e = std::mem::replace(&mut self.slots[spc.index()], EMPTY);
        if e.id == 0 {
            return;
        }
        let heap = &*self.heap;
        let span = heap.spans.get(e.id).expect("a cached span exists");
        let t = span.tables().expect("a cached span has side tables");
        let free = span.nelems().saturating_sub(t.alloc.count());
        heap.sub_live(free as u64 * span.elem());
        span.cached.store(false, Ordering::Relaxed);
        if free > 0 {
            heap.central.push(spc, e.id, &heap.spans);
        }
    }

    /// Gives every span back and flushes the counts.
    pub(crate) fn flush(&mut self) {
        // Spans held across a sweep are swept before they are given back.
        let epoch = self.heap.sweep_epoch.load(Ordering::Relaxed);
        if self.epoch != epoch {
            self.resync(epoch);
        }
        for i in 0..NUM_SPAN_CLASSES {
            self.give_back(SpanClass(i as u8));
        }
        self.flush_counts();
    }
}

impl std::fmt::Debug for AllocCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllocCache")
            .field("spans_held", &self.slots.iter().filter(|e| e.id != 0).count())
            .field("trigger_hit", &self.trigger_hit)
            .field("unflushed_objects", &self.objects)
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
            cache.resync(epoch);
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
    /// (Go's `mcache.refill`).
    fn refill(&self, cache: &mut AllocCache, spc: SpanClass, size: u64) -> Result<(), HeapError> {
        cache.give_back(spc);
        let (id, span, t, free) = loop {
            // A partial span, else one found by sweeping (while a
            // concurrent sweep is under way), else fresh pages.
            let listed = self.central.pop(spc, &self.spans).or_else(|| self.sweep_for(spc));
            let (id, span) = match listed {
                Some(id) => (id, self.spans.get(id).expect("a listed span exists")),
                None => self.new_small_span(spc, size)?,
            };
            let t = span.tables().expect("an in-use span has side tables");
            let free = span.nelems().saturating_sub(t.alloc.count());
            if free > 0 {
                break (id, span, t, free);
            }
        };
        span.cached.store(true, Ordering::Relaxed);
        self.note_young(id, span);
        if self.add_live(free as u64 * span.elem()) {
            cache.trigger_hit = true;
        }
        cache.load_span(spc, id, span, t);
        cache.flush_counts();
        Ok(())
    }
}

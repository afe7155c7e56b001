//! gcwb's heap: real memory, laid out the way Go's runtime lays out its
//! heap (`runtime/malloc.go`, `mheap.go`, `mcentral.go`, `mcache.go`,
//! `mbitmap.go`, `sizeclasses.go`), with side metadata for collectors.
//!
//! From the bottom up:
//! 1. **Reservation** (`reservation.rs`): one contiguous range of virtual
//!    memory (64 GiB by default), `mmap`ed with `MAP_NORESERVE` so pages are
//!    committed only when touched. Addresses handed out are real machine
//!    addresses inside it ([`Address`], 0 is nil).
//! 2. **Pages** (`page_heap.rs`): the range is cut into 8 KiB pages. Free page
//!    runs are kept coalesced; a high-water mark separates used pages from
//!    never-touched ones, which read as zero.
//! 3. **Spans** (`span.rs`): a span is a run of pages holding blocks of one
//!    size class, or a single large block. A page table maps every page to
//!    its span, so any address — an interior pointer into page 5 of a large
//!    block included — leads to its span and, with an exact multiply-shift
//!    division, to its object ([`Heap::find_object`]).
//! 4. **Size classes** (`size_classes.rs`): 68 block sizes from 8 B to
//!    32 KiB, each with its span size. Every size class has two span classes
//!    (Go's `spanClass`): blocks without pointer slots go to *no-scan* spans
//!    that marking never scans.
//! 5. **Caches** ([`AllocCache`], Go's `mcache`): each mutator worker owns
//!    one, holding a current span per span class. The fast path finds the
//!    next free slot with a trailing-zeros count over a cached word of the
//!    alloc bits — no lock, no read-modify-write. A full span is swapped for
//!    one from the class's central partial list (a mutex per class, Go's
//!    `mcentral`) or a fresh one from the page heap (one mutex, Go's `mheap`
//!    lock). Blocks above 32 KiB get a span of their own.
//! 6. **Side tables**: per object slot, not in object headers — alloc bits,
//!    mark bits (`bitmap.rs`), and one packed word with the block's declared
//!    size and pointer-slot count (the pointer-bearing prefix, Go's ptrdata).
//! 7. **Sweep** ([`Heap::sweep`]): after marking, every allocated but
//!    unmarked object is freed (alloc bits := mark bits), mark bits cleared;
//!    empty spans return their pages, partially free ones go back on their
//!    class's partial list — those the caches held too: a sweep takes them
//!    back (Go's `mcache.prepareForSweep`). Or
//!    concurrently ([`Heap::start_concurrent_sweep`], `sweeper.rs`): span by
//!    span while mutators run, lazily by allocation and by a background
//!    sweeper, with Go's sweep generations.
//! 8. **Card table** (`cards.rs`): a dirty byte per card (512 bytes by
//!    default) for card-marking barriers.
//! 9. **Regions** (`region.rs`): page runs outside every span, for spaces
//!    that manage their own memory (the copying nursery,
//!    [`crate::copy_space`]).
//!
//! Accounting: `heap_live` (Go's `heapLive`, what the pacer reads) is the
//! bytes of allocated blocks — size-class bytes, whole spans for large
//! blocks. Caches publish what they allocate in small quanta (`cache.rs`),
//! sweeps subtract what they free; crossing the trigger
//! ([`Heap::set_trigger`]) raises a flag in the cache whose publish crossed
//! it ([`AllocCache::take_trigger`]). Unlike Go, the free slots of a span a
//! cache holds count neither as live nor as in use
//! ([`Heap::inuse_bytes`]): with many workers they would be much of a
//! small heap.
//!
//! # Concurrency contract
//! - [`Heap::alloc`] may run on many threads at once, each with its own
//!   [`AllocCache`]. A cache is the only writer of the alloc bits of the spans
//!   it holds, which is why its fast path needs no atomic read-modify-write.
//! - [`Heap::find_object`], [`ObjectRef::try_mark`] and heap word loads and
//!   stores may run on many GC and mutator threads at once, also while
//!   others allocate.
//! - [`Heap::sweep`] must run with no allocation and no marking running (the
//!   world stopped). It does not need caches to be flushed: every sweep
//!   takes the spans the caches hold back (each cache drops them at its next
//!   allocation), as Go releases every mcache at mark termination.
//!
//! Every word of heap memory and every metadata word is accessed through
//! atomics, and all metadata lives for as long as the heap, so breaking the
//! contract gives wrong answers, never undefined behaviour.

mod bitmap;
mod cache;
mod cards;
mod central;
mod large;
mod object;
mod page_heap;
mod region;
mod reservation;
mod size_classes;
mod span;
pub mod span_marks;
mod sweep;
mod sweeper;

pub use cache::{AllocCache, PUBLISH_BYTES};
pub use cards::{CARD_BYTES, MAX_CARD_BYTES, MIN_CARD_BYTES};
pub use object::ObjectRef;
pub use size_classes::{
    size_to_class, SizeClass, SpanClass, MAX_SMALL_BYTES, NUM_SIZE_CLASSES, NUM_SPAN_CLASSES, PAGE_BYTES, SIZE_CLASSES,
};
pub use span_marks::SpanMarks;
pub use sweep::SweepStats;
pub use sweeper::ObjectSink;

use central::Central;
use page_heap::PageHeap;
use parking_lot::Mutex;
use reservation::Mapping;
use size_classes::PAGE_SHIFT;
use span::{PageTable, SpanArena};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use sweeper::Sweeper;

/// A heap address: a real machine address inside the heap's reservation.
pub type Address = u64;

/// The nil address.
pub const NIL: Address = 0;

/// Virtual address space reserved per heap unless asked otherwise: 64 GiB.
/// It costs no memory (pages are committed on first touch); it bounds the
/// largest heap a run can grow to. If the system refuses that much, the heap
/// retries with halves down to 1 GiB.
pub const DEFAULT_RESERVE_BYTES: u64 = 64 << 30;

/// Bytes per heap word (pointer slots are words).
pub const WORD_BYTES: u64 = 8;

/// Why the heap could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum HeapError {
    /// The reservation has no page run left for the request.
    #[error(
        "cannot allocate {requested} bytes: the heap's reservation of {reserved} bytes is exhausted \
         (reserve more address space, e.g. GcConfig::heap_reserve_bytes, or keep less memory live)"
    )]
    OutOfMemory { requested: u64, reserved: u64 },
    /// The address range could not be mapped.
    #[error(
        "cannot reserve {requested} bytes of address space for the heap (tried down to {smallest_tried} \
         bytes): {source}; check `ulimit -v` and vm.overcommit_memory, or ask for a smaller reservation"
    )]
    Reserve {
        requested: u64,
        smallest_tried: u64,
        #[source]
        source: std::io::Error,
    },
    /// A card size the card table cannot use.
    #[error("invalid card size {bytes}: expected a power of two from {MIN_CARD_BYTES} to {MAX_CARD_BYTES} bytes")]
    CardSize { bytes: u64 },
    /// A request no allocator can serve.
    #[error(
        "invalid allocation: {size} bytes with {ptr_slots} pointer slots (the size must be at least 1 \
         byte and cover the pointer slots, {WORD_BYTES} bytes each)"
    )]
    InvalidRequest { size: u64, ptr_slots: u32 },
}

/// The heap. Cheap to share by reference across threads (`Send + Sync`).
pub struct Heap {
    inner: Arc<HeapInner>,
}

/// Everything a heap owns; shared with its [`AllocCache`]s, which keep it
/// alive (and the memory mapped) for as long as they exist.
pub(crate) struct HeapInner {
    /// The reservation: `[base, base + len)`.
    mem: Mapping,
    pub(crate) base: u64,
    pub(crate) len: u64,
    /// Page -> span id.
    pub(crate) page_table: PageTable,
    /// Spans and their side tables.
    pub(crate) spans: SpanArena,
    /// Free page runs (Go's mheap lock).
    pub(crate) pages: Mutex<PageHeap>,
    /// Per span class, spans with free slots that no cache holds.
    pub(crate) central: Central,
    /// Bumped by every sweep; caches compare it to notice a sweep.
    pub(crate) sweep_epoch: AtomicU64,
    /// A concurrent sweep's state (`sweeper.rs`).
    pub(crate) sweeper: Sweeper,
    /// Dirty bytes of the card-marking barrier (`cards.rs`).
    pub(crate) cards: cards::CardTable,
    /// Spans that may hold blocks allocated since the last sticky sweep
    /// (flagged `Span::young`): what a minor collection has to sweep.
    pub(crate) young_spans: Mutex<Vec<span::SpanId>>,
    /// Keep `young_spans` (only a sticky generational collector asks).
    pub(crate) track_young: std::sync::atomic::AtomicBool,
    /// Go's heapLive, in bytes: a wrapping sum of what caches published and
    /// sweeps freed, read as signed ([`HeapInner::live`]). A sweep may free
    /// a block before its cache has published it, so the sum can dip below
    /// zero for a moment.
    pub(crate) heap_live: AtomicU64,
    /// `heap_live` at which allocating caches raise their trigger flag.
    pub(crate) trigger: AtomicU64,
    /// New objects are born marked (see [`Heap::set_allocate_black`]).
    pub(crate) allocate_black: std::sync::atomic::AtomicBool,
    /// Bytes of heap memory in use ([`Heap::inuse_bytes`]), and its peak.
    pub(crate) inuse: AtomicU64,
    pub(crate) peak_inuse: AtomicU64,
    /// Totals flushed from caches.
    pub(crate) objects_allocated: AtomicU64,
    pub(crate) bytes_allocated: AtomicU64,
}

/// The value of a `heap_live` sum: negative (a free counted before its
/// allocation was published) reads as 0.
#[inline]
fn live_bytes(raw: u64) -> u64 {
    (raw as i64).max(0) as u64
}

impl HeapInner {
    /// Adds `bytes` to `heap_live`; true if that reached the trigger.
    #[inline]
    pub(crate) fn add_live(&self, bytes: u64) -> bool {
        let now = self.heap_live.fetch_add(bytes, Ordering::Relaxed).wrapping_add(bytes);
        live_bytes(now) >= self.trigger.load(Ordering::Relaxed)
    }

    /// Subtracts `bytes` (freed) from `heap_live`.
    pub(crate) fn sub_live(&self, bytes: u64) {
        self.heap_live.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// `heap_live` now.
    #[inline]
    pub(crate) fn live(&self) -> u64 {
        live_bytes(self.heap_live.load(Ordering::Relaxed))
    }

    /// Counts `bytes` more as in use.
    pub(crate) fn add_inuse(&self, bytes: u64) {
        let now = self.inuse.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak_inuse.fetch_max(now, Ordering::Relaxed);
    }

    /// Slots `0..upto` of `span` have held a block: the ones not counted
    /// yet become in use ([`span::Span::inuse_bytes`]).
    pub(crate) fn touch(&self, span: &span::Span, upto: u32) {
        let before = span.touched.fetch_max(upto, Ordering::Relaxed);
        if upto > before {
            self.add_inuse(span.inuse_bytes(upto) - span.inuse_bytes(before));
        }
    }

    /// The page index of `a`, if it is inside the reservation.
    #[inline(always)]
    pub(crate) fn page_of(&self, a: Address) -> Option<u64> {
        let off = a.wrapping_sub(self.base);
        (off < self.len).then_some(off >> PAGE_SHIFT)
    }

    /// The word at `a`, if `a` is 8-aligned and inside the reservation.
    #[inline(always)]
    pub(crate) fn word(&self, a: Address) -> Option<&AtomicU64> {
        let off = a.wrapping_sub(self.base);
        if off >= self.len || !off.is_multiple_of(WORD_BYTES) {
            return None;
        }
        self.mem.words().get((off / WORD_BYTES) as usize)
    }

    /// The `n` words from `a` on; callers pass ranges inside the
    /// reservation (checked, with a panic otherwise).
    #[inline(always)]
    pub(crate) fn words(&self, a: Address, n: u64) -> &[AtomicU64] {
        let first = ((a - self.base) / WORD_BYTES) as usize;
        &self.mem.words()[first..first + n as usize]
    }

    /// Stores zero into the `n` words from `a` (a block being allocated).
    #[inline(always)]
    pub(crate) fn zero(&self, a: Address, n: u64) {
        for w in self.words(a, n) {
            w.store(0, Ordering::Relaxed);
        }
    }
}

impl Heap {
    /// Reserves `reserve_bytes` of address space (rounded down to whole
    /// pages) and sets up an empty heap in it. If the system refuses, it
    /// retries with halves down to 1 GiB.
    pub fn new(reserve_bytes: u64) -> Result<Heap, HeapError> {
        let requested = reserve_bytes / PAGE_BYTES * PAGE_BYTES;
        let reserve_err =
            |smallest_tried, source| HeapError::Reserve { requested: reserve_bytes, smallest_tried, source };
        let mem = reservation::reserve(requested, PAGE_BYTES).map_err(|(e, tried)| reserve_err(tried, e))?;
        let len = mem.len() / PAGE_BYTES * PAGE_BYTES;
        let pages = len / PAGE_BYTES;
        let page_table = PageTable::new(pages).map_err(|e| reserve_err(len, e))?;
        let cards = cards::CardTable::new(len).map_err(|e| reserve_err(len, e))?;
        let inner = HeapInner {
            base: mem.start(),
            len,
            mem,
            page_table,
            spans: SpanArena::new(pages),
            pages: Mutex::new(PageHeap::new(pages)),
            central: Central::new(),
            sweep_epoch: AtomicU64::new(0),
            sweeper: Sweeper::new(),
            cards,
            young_spans: Mutex::new(Vec::new()),
            track_young: std::sync::atomic::AtomicBool::new(false),
            heap_live: AtomicU64::new(0),
            trigger: AtomicU64::new(u64::MAX),
            allocate_black: std::sync::atomic::AtomicBool::new(false),
            inuse: AtomicU64::new(0),
            peak_inuse: AtomicU64::new(0),
            objects_allocated: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
        };
        Ok(Heap { inner: Arc::new(inner) })
    }

    /// Bytes of address space reserved.
    pub fn reserved_bytes(&self) -> u64 {
        self.inner.len
    }

    /// A new, empty allocation cache for one worker thread. Give its spans
    /// back with [`Heap::flush_cache`] when the worker stops (dropping the
    /// cache does it too).
    pub fn new_cache(&self) -> AllocCache {
        AllocCache::new(self.inner.clone())
    }

    /// Allocates a block of `size` bytes (at least 1) whose first
    /// `ptr_slots` words are pointer slots, zeroed, from `cache`.
    ///
    /// Small sizes (up to [`MAX_SMALL_BYTES`]) take the next free slot of the
    /// cache's span for their span class; larger ones get their own span.
    /// Panics if `cache` was made by another heap.
    #[inline]
    pub fn alloc(&self, cache: &mut AllocCache, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        let a = self.alloc_white(cache, size, ptr_slots)?;
        if self.inner.allocate_black.load(Ordering::Relaxed) {
            if let Some(o) = self.find_object(a) {
                o.try_mark();
                o.set_scanned();
            }
        }
        Ok(a)
    }

    #[inline]
    fn alloc_white(&self, cache: &mut AllocCache, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        if size.wrapping_sub(1) < MAX_SMALL_BYTES
            && ptr_slots as u64 * WORD_BYTES <= size
            && cache.is_current(&self.inner)
        {
            let spc = SpanClass::new(size_to_class(size), ptr_slots == 0);
            if cache.has_free(spc) {
                return Ok(cache.take(&self.inner, spc, size, ptr_slots));
            }
        }
        self.inner.alloc_slow(cache, size, ptr_slots)
    }

    /// While `on`, every new object is allocated with its mark bit set
    /// ("black"), as Go allocates during a concurrent mark phase
    /// (`gcmarknewobject` in runtime/mgcmark.go): an object born during
    /// marking is never swept by that cycle, so marking need not chase it.
    /// Stop-the-world collectors leave it off.
    pub fn set_allocate_black(&self, on: bool) {
        self.inner.allocate_black.store(on, Ordering::Relaxed);
    }

    /// Keep the list of spans allocated into since the last sticky sweep,
    /// which [`Heap::sweep_young_keeping_marks`] sweeps. Set it before the
    /// first allocation.
    pub fn track_young_spans(&self, on: bool) {
        self.inner.track_young.store(on, Ordering::Relaxed);
    }

    /// Are new objects born marked?
    pub fn allocates_black(&self) -> bool {
        self.inner.allocate_black.load(Ordering::Relaxed)
    }

    /// Gives `cache`'s spans back to the central lists (for any cache to
    /// allocate from) and publishes what it allocated to `heap_live` and the
    /// allocation counts.
    pub fn flush_cache(&self, cache: &mut AllocCache) {
        cache.flush();
    }

    /// Sets the `heap_live` value at which allocation raises the trigger
    /// flag of the allocating cache (`u64::MAX`: never; the initial value).
    pub fn set_trigger(&self, bytes: u64) {
        self.inner.trigger.store(bytes, Ordering::Relaxed);
    }

    /// The trigger set last.
    pub fn trigger(&self) -> u64 {
        self.inner.trigger.load(Ordering::Relaxed)
    }

    /// Go's heapLive: bytes of allocated blocks (size-class bytes; whole
    /// spans for large blocks), as far as the caches have published them
    /// (each lags by less than [`PUBLISH_BYTES`]). Unlike Go, not the
    /// free slots of the spans caches hold.
    pub fn heap_live(&self) -> u64 {
        self.inner.live()
    }

    /// Bytes of heap memory in use: the pages of in-use spans (Go's
    /// HeapInuse) less the slots of small spans that have never held a
    /// block — capacity a cache took but did not use, like the free part
    /// of a fresh span, and its tail past the last slot until that slot has
    /// been used — plus the touched pages of regions. It grows with what is
    /// allocated, not with the number of caches.
    pub fn inuse_bytes(&self) -> u64 {
        self.inner.inuse.load(Ordering::Relaxed)
    }

    /// The largest [`Heap::inuse_bytes`] seen.
    pub fn peak_inuse_bytes(&self) -> u64 {
        self.inner.peak_inuse.load(Ordering::Relaxed)
    }

    /// Objects allocated so far (caches publish theirs every
    /// [`PUBLISH_BYTES`], at refills and when flushed, so this lags a little
    /// behind).
    pub fn objects_allocated(&self) -> u64 {
        self.inner.objects_allocated.load(Ordering::Relaxed)
    }

    /// Size-class bytes allocated so far (lags like
    /// [`Heap::objects_allocated`]).
    pub fn bytes_allocated(&self) -> u64 {
        self.inner.bytes_allocated.load(Ordering::Relaxed)
    }

    /// Bytes of pages ever handed out (the high-water mark): the most memory
    /// the heap can have committed, short of [`Heap::scavenge`].
    pub fn mapped_bytes(&self) -> u64 {
        self.inner.pages.lock().high_water() * PAGE_BYTES
    }

    /// Gives the memory of every free page run back to the operating system
    /// (`MADV_DONTNEED`, like Go's scavenger); the pages stay reserved and
    /// are reused as before. Returns the bytes released. Cheap to call at a
    /// pause; allocation may run meanwhile.
    pub fn scavenge(&self) -> u64 {
        let pages = self.inner.pages.lock();
        let mut bytes = 0;
        for (start, n) in pages.free_runs() {
            self.inner.mem.release(start * PAGE_BYTES, n * PAGE_BYTES);
            bytes += n * PAGE_BYTES;
        }
        bytes
    }

    /// Is `a` inside the heap's reservation? (Not whether it points into an
    /// allocated object: that is [`Heap::find_object`].)
    #[inline]
    pub fn contains(&self, a: Address) -> bool {
        self.inner.page_of(a).is_some()
    }

    /// The heap word at `a`, or `None` unless `a` is 8-aligned and inside the
    /// reservation. Safe for any input.
    #[inline]
    pub fn word(&self, a: Address) -> Option<&AtomicU64> {
        self.inner.word(a)
    }

    /// Loads the pointer (or any word) at `a` (`Acquire`), `None` where
    /// [`Heap::word`] is.
    #[inline]
    pub fn load(&self, a: Address) -> Option<Address> {
        self.word(a).map(|w| w.load(Ordering::Acquire))
    }

    /// Stores `v` into the slot at `slot` (`Release`); does nothing if the
    /// slot is not a heap word (callers validate first).
    #[inline]
    pub fn store(&self, slot: Address, v: Address) {
        if let Some(w) = self.word(slot) {
            w.store(v, Ordering::Release);
        }
    }
}

impl std::fmt::Debug for Heap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heap")
            .field("base", &format_args!("{:#x}", self.inner.base))
            .field("reserved_bytes", &self.reserved_bytes())
            .field("heap_live", &self.heap_live())
            .field("inuse_bytes", &self.inuse_bytes())
            .field("trigger", &self.trigger())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_is_send_and_sync_and_cache_is_send() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Heap>();
        send::<AllocCache>();
    }

    #[test]
    fn tiny_reservation_is_refused_with_a_reserve_error() {
        let e = Heap::new(100).expect_err("100 bytes is less than a page");
        assert!(matches!(e, HeapError::Reserve { .. }), "{e}");
    }
}

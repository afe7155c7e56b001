//! Spans (Go's `mspan`): a run of pages holding blocks of one span class, or
//! one large block; their side tables; the arena they live in; and the page
//! table that maps every page of the heap to its span.
//!
//! - [`Span`]: where the run starts, how many pages, the block size and
//!   count, the exact-division multiplier, flags. Every field is atomic
//!   because GC workers read spans (through [`PageTable`]) while allocating
//!   threads set up new ones.
//! - [`SideTables`]: per-slot metadata kept beside the heap, not in object
//!   headers — alloc bits, mark bits, scan bits and a span-ownership byte
//!   for span-based marking, and one packed `AtomicU32` per slot with
//!   its declared size and pointer-slot count.
//! - [`SpanArena`]: append-only storage for spans and side tables. Nothing in
//!   it is freed while the heap lives; released spans and tables are reused
//!   through free lists (Go's `fixalloc` for `mspan`s does the same). That is
//!   what makes a `&Span` found through the page table valid for as long as
//!   the heap is borrowed, whatever happens to the span meanwhile.
//! - [`PageTable`]: one `AtomicU32` span id per page of the reservation,
//!   itself a lazily committed mapping (Go's `heapArena.spans`).

use super::bitmap::{AtomicBitmap, WORD_BITS};
use super::reservation::Mapping;
use super::size_classes::{SpanClass, MAX_OBJECTS_PER_SPAN, PAGE_BYTES};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// A span id: an index into the [`SpanArena`]; 0 means "no span".
pub(crate) type SpanId = u32;

/// Spans per arena chunk (a chunk is allocated at once and never moves).
const SPANS_PER_CHUNK: usize = 1024;
/// Bitmap words of the largest side tables (1024 slots of 8 B).
const MAX_TABLE_WORDS: usize = (MAX_OBJECTS_PER_SPAN / WORD_BITS) as usize;

/// Per-slot side tables of one span.
pub(crate) struct SideTables {
    /// Which slots hold an allocated object.
    pub(crate) alloc: AtomicBitmap,
    /// Which objects the current collection has marked.
    pub(crate) mark: AtomicBitmap,
    /// Which marked objects span-based marking has scanned (Go 1.26's
    /// `spanInlineMarkBits.scans`; see [`super::SpanMarks`]). Objects born
    /// marked during a concurrent mark are born scanned too.
    pub(crate) scan: AtomicBitmap,
    /// Whether a marker owns the span for scanning, and how many marks
    /// arrived since it took it ([`super::span_marks::Ownership`]).
    pub(crate) owner: AtomicU8,
    /// Per slot: `ptr_slots << 16 | (declared_size - 1)` (small spans only;
    /// a large span keeps both in [`Span`]).
    pub(crate) meta: Box<[AtomicU32]>,
}

/// Bits of the declared size in a packed slot entry (`declared - 1` fits:
/// small blocks are at most 32 KiB).
const META_SIZE_BITS: u32 = 16;

impl SideTables {
    fn new(words: usize) -> SideTables {
        SideTables {
            alloc: AtomicBitmap::new(words),
            mark: AtomicBitmap::new(words),
            scan: AtomicBitmap::new(words),
            owner: AtomicU8::new(0),
            meta: (0..words * WORD_BITS as usize).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Slots these tables can describe (a multiple of 64).
    #[inline(always)]
    pub(crate) fn capacity(&self) -> u32 {
        self.alloc.bits()
    }

    /// Packs a small block's declared size (1..=32768) and pointer slots.
    #[inline(always)]
    pub(crate) fn pack(size: u64, ptr_slots: u32) -> u32 {
        (ptr_slots << META_SIZE_BITS) | (size as u32 - 1)
    }

    /// Declared size and pointer slots of slot `i`.
    #[inline(always)]
    pub(crate) fn unpack(&self, i: u32) -> (u64, u32) {
        let m = self.meta[i as usize].load(Ordering::Relaxed);
        ((m & ((1 << META_SIZE_BITS) - 1)) as u64 + 1, m >> META_SIZE_BITS)
    }
}

/// One span. All fields are written while the span is set up (under the
/// page heap's lock, before its pages are published in the page table) or
/// by the sweeper; readers that found it through the page table see them
/// thanks to that table's `Release`/`Acquire` pair.
#[derive(Default)]
pub(crate) struct Span {
    /// Address of the first byte.
    start: AtomicU64,
    /// Length in pages.
    npages: AtomicU64,
    /// Block size in bytes (for a large span: the whole span).
    elem: AtomicU64,
    /// Number of block slots.
    nelems: AtomicU32,
    /// Exact-division multiplier for `elem` (0 for large spans).
    div_mul: AtomicU32,
    /// The [`SpanClass`].
    class: AtomicU32,
    /// Holds blocks (false while the span is on the arena's free list).
    in_use: AtomicBool,
    /// Slots `0..touched` have held a block since the span was set up;
    /// the slots past it are capacity never allocated, which the heap's
    /// in-use figure leaves out ([`Span::inuse_bytes`]).
    pub(crate) touched: AtomicU32,
    /// Its memory may be dirty: blocks must be zeroed when allocated
    /// (Go's `mspan.needzero`). False only for never-used pages.
    pub(crate) needzero: AtomicBool,
    /// Go's `mspan.sweepgen`, against the heap's sweep generation `sg`
    /// (see `sweeper.rs`): `sg` swept, `sg - 1` being swept, `sg - 2`
    /// waiting to be swept.
    pub(crate) sweepgen: AtomicU32,
    /// On its class's central partial list.
    pub(crate) listed: AtomicBool,
    /// May hold blocks allocated since the last sticky sweep (it is in the
    /// heap's young-span list; see [`super::Heap::sweep_young_keeping_marks`]).
    pub(crate) young: AtomicBool,
    /// A large block's declared size and pointer slots.
    large_size: AtomicU64,
    large_ptr_slots: AtomicU32,
    /// The side tables; never null while `in_use`.
    tables: AtomicPtr<SideTables>,
    /// Their index in the arena (to recycle them).
    table_index: AtomicU32,
}

/// What a span is set up as.
pub(crate) struct SpanShape {
    pub(crate) start: u64,
    pub(crate) npages: u64,
    pub(crate) class: SpanClass,
    pub(crate) elem: u64,
    pub(crate) nelems: u32,
    pub(crate) div_mul: u32,
    pub(crate) needzero: bool,
    /// The heap's sweep generation now: a new span needs no sweeping.
    pub(crate) sweepgen: u32,
}

impl Span {
    #[inline(always)]
    pub(crate) fn start(&self) -> u64 {
        self.start.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn npages(&self) -> u64 {
        self.npages.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn bytes(&self) -> u64 {
        self.npages() * PAGE_BYTES
    }
    #[inline(always)]
    pub(crate) fn elem(&self) -> u64 {
        self.elem.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn nelems(&self) -> u32 {
        self.nelems.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn div_mul(&self) -> u32 {
        self.div_mul.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn class(&self) -> SpanClass {
        SpanClass(self.class.load(Ordering::Relaxed) as u8)
    }
    #[inline(always)]
    pub(crate) fn in_use(&self) -> bool {
        self.in_use.load(Ordering::Acquire)
    }

    /// Bytes of the span in use when its slots `0..touched` have held a
    /// block: those slots, and the tail past its last slot (too small for
    /// a block) once the last slot has.
    pub(crate) fn inuse_bytes(&self, touched: u32) -> u64 {
        let (nelems, elem) = (self.nelems(), self.elem());
        let tail = if touched >= nelems { self.bytes() - nelems as u64 * elem } else { 0 };
        touched.min(nelems) as u64 * elem + tail
    }

    /// The side tables, or `None` for a span never set up.
    #[inline(always)]
    pub(crate) fn tables(&self) -> Option<&SideTables> {
        let p = self.tables.load(Ordering::Acquire);
        // SAFETY: a non-null pointer here always comes from
        // `SpanArena::alloc_span`, which takes it from a `Box<SideTables>`
        // owned by the same arena as `self` and never freed before the arena
        // drops; `&self` borrows that arena, so the tables outlive the
        // returned reference. They are only ever accessed through atomics.
        unsafe { p.as_ref() }
    }

    /// A large block's declared size and pointer slots.
    #[inline(always)]
    pub(crate) fn large_meta(&self) -> (u64, u32) {
        (self.large_size.load(Ordering::Relaxed), self.large_ptr_slots.load(Ordering::Relaxed))
    }

    pub(crate) fn set_large_meta(&self, size: u64, ptr_slots: u32) {
        self.large_size.store(size, Ordering::Relaxed);
        self.large_ptr_slots.store(ptr_slots, Ordering::Relaxed);
    }

    fn set_up(&self, shape: &SpanShape, tables: &SideTables, table_index: u32) {
        self.table_index.store(table_index, Ordering::Relaxed);
        self.start.store(shape.start, Ordering::Relaxed);
        self.npages.store(shape.npages, Ordering::Relaxed);
        self.elem.store(shape.elem, Ordering::Relaxed);
        self.nelems.store(shape.nelems, Ordering::Relaxed);
        self.div_mul.store(shape.div_mul, Ordering::Relaxed);
        self.class.store(shape.class.0 as u32, Ordering::Relaxed);
        self.touched.store(0, Ordering::Relaxed);
        self.needzero.store(shape.needzero, Ordering::Relaxed);
        self.sweepgen.store(shape.sweepgen, Ordering::Relaxed);
        self.listed.store(false, Ordering::Relaxed);
        self.young.store(false, Ordering::Relaxed);
        self.set_large_meta(0, 0);
        self.tables.store(tables as *const SideTables as *mut SideTables, Ordering::Release);
        self.in_use.store(true, Ordering::Release);
    }
}

/// The arena's mutable bookkeeping.
#[derive(Default)]
struct ArenaState {
    /// Ids handed out so far are `1..next_id`.
    next_id: u32,
    /// Released span ids.
    free_spans: Vec<SpanId>,
    /// Every side table ever made (boxed: they never move, while the Vec
    /// may; spans and caches hold pointers to them).
    #[allow(clippy::vec_box)]
    tables: Vec<Box<SideTables>>,
    /// Indices into `tables` of released tables, by bitmap words - 1.
    free_tables: [Vec<u32>; MAX_TABLE_WORDS],
}

/// Append-only storage of spans and their side tables.
pub(crate) struct SpanArena {
    /// Chunk `i` holds spans `i * SPANS_PER_CHUNK ..`; null until needed.
    chunks: Box<[AtomicPtr<Span>]>,
    state: Mutex<ArenaState>,
}

impl SpanArena {
    /// An arena for at most `max_spans` spans.
    pub(crate) fn new(max_spans: u64) -> SpanArena {
        let n = (max_spans as usize + 1).div_ceil(SPANS_PER_CHUNK);
        SpanArena {
            chunks: (0..n).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect(),
            state: Mutex::new(ArenaState { next_id: 1, ..Default::default() }),
        }
    }

    /// The span with id `id`, if that id was ever handed out.
    #[inline(always)]
    pub(crate) fn get(&self, id: SpanId) -> Option<&Span> {
        if id == 0 {
            return None;
        }
        let i = id as usize;
        let chunk = self.chunks.get(i / SPANS_PER_CHUNK)?.load(Ordering::Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: a non-null chunk pointer is the start of a leaked
        // `Box<[Span]>` of exactly SPANS_PER_CHUNK spans (see `alloc_span`),
        // published with `Release` after it was fully built and freed only in
        // `Drop`, which cannot run while `&self` is borrowed. The index is
        // below SPANS_PER_CHUNK. Spans are all-atomic, so shared access from
        // any thread is race-free.
        Some(unsafe { &*chunk.add(i % SPANS_PER_CHUNK) })
    }

    /// Sets up a span of `shape` with fresh (cleared) side tables for its
    /// slots. Returns its id and the span. `None` if every id is taken.
    pub(crate) fn alloc_span(&self, shape: &SpanShape) -> Option<(SpanId, &Span)> {
        let words = (shape.nelems.max(1)).div_ceil(WORD_BITS) as usize;
        debug_assert!((1..=MAX_TABLE_WORDS).contains(&words));
        let mut st = self.state.lock();
        let id = match st.free_spans.pop() {
            Some(id) => id,
            None => {
                let id = st.next_id;
                let ci = id as usize / SPANS_PER_CHUNK;
                let slot = self.chunks.get(ci)?;
                if slot.load(Ordering::Relaxed).is_null() {
                    let chunk: Box<[Span]> = (0..SPANS_PER_CHUNK).map(|_| Span::default()).collect();
                    slot.store(Box::into_raw(chunk).cast::<Span>(), Ordering::Release);
                }
                st.next_id += 1;
                id
            }
        };
        let ti = match st.free_tables[words - 1].pop() {
            Some(ti) => {
                let t = &st.tables[ti as usize];
                t.alloc.clear();
                t.mark.clear();
                t.scan.clear();
                t.owner.store(0, Ordering::Relaxed);
                ti as usize
            }
            None => {
                st.tables.push(Box::new(SideTables::new(words)));
                st.tables.len() - 1
            }
        };
        let tables: *const SideTables = &*st.tables[ti];
        drop(st);
        let span = self.get(id).expect("span chunk was just allocated");
        // SAFETY: `tables` points into a Box owned by `self.state.tables`,
        // which only grows while the arena lives; see `Span::tables`.
        span.set_up(shape, unsafe { &*tables }, ti as u32);
        Some((id, span))
    }

    /// Returns spans `ids` and their side tables to the free lists. The
    /// caller has removed them from the page table first.
    pub(crate) fn free_spans(&self, ids: &[SpanId]) {
        let mut st = self.state.lock();
        for &id in ids {
            let span = self.get(id).expect("freeing a span that was never allocated");
            span.in_use.store(false, Ordering::Release);
            let ti = span.table_index.load(Ordering::Relaxed);
            let words = st.tables[ti as usize].alloc.words().len();
            st.free_tables[words - 1].push(ti);
            st.free_spans.push(id);
        }
    }

    /// One past the largest span id handed out so far.
    pub(crate) fn next_id(&self) -> SpanId {
        self.state.lock().next_id
    }

    /// Ids of all spans in use right now.
    pub(crate) fn in_use_ids(&self) -> Vec<SpanId> {
        let next = self.state.lock().next_id;
        (1..next).filter(|&id| self.get(id).is_some_and(Span::in_use)).collect()
    }
}

impl Drop for SpanArena {
    fn drop(&mut self) {
        for c in self.chunks.iter() {
            let p = c.load(Ordering::Relaxed);
            if !p.is_null() {
                // SAFETY: `p` came from `Box::into_raw` of a boxed slice of
                // SPANS_PER_CHUNK spans in `alloc_span`, and is dropped once.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, SPANS_PER_CHUNK)) });
            }
        }
    }
}

/// Maps each page of the reservation to the id of the span covering it.
pub(crate) struct PageTable {
    map: Mapping,
    pages: u64,
}

impl PageTable {
    pub(crate) fn new(pages: u64) -> std::io::Result<PageTable> {
        let map = Mapping::new((pages.max(1) * 4) as usize)?;
        Ok(PageTable { map, pages })
    }

    /// The span id of page `page` (0: none, or beyond the table).
    #[inline(always)]
    pub(crate) fn get(&self, page: u64) -> SpanId {
        match self.map.u32s().get(page as usize) {
            Some(e) if page < self.pages => e.load(Ordering::Acquire),
            _ => 0,
        }
    }

    /// Points pages `first..first + n` at `id` (0 to clear). `Release`:
    /// a reader that finds `id` here sees the span as it was set up.
    pub(crate) fn set(&self, first: u64, n: u64, id: SpanId) {
        for e in &self.map.u32s()[first as usize..(first + n) as usize] {
            e.store(id, Ordering::Release);
        }
    }
}

//! Large blocks: anything above [`MAX_SMALL_BYTES`] gets a span of its own,
//! its size rounded up to whole pages (Go's `mallocgc` large path,
//! `mheap.allocSpan`).
//!
//! The span has one slot, so marking and sweeping treat it like any other
//! span; its declared size and pointer slots live in the span itself (they do
//! not fit the packed per-slot word of small spans). `heap_live` grows by the
//! whole span, and the trigger is checked, at once.
//!
//! [`MAX_SMALL_BYTES`]: super::MAX_SMALL_BYTES

use super::cache::AllocCache;
use super::size_classes::{SpanClass, PAGE_BYTES};
use super::{Address, HeapError, HeapInner, WORD_BYTES};
use std::sync::atomic::Ordering;

impl HeapInner {
    /// Allocates a large block of `size` bytes (above 32 KiB).
    pub(crate) fn alloc_large(&self, cache: &mut AllocCache, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        let npages = size.div_ceil(PAGE_BYTES);
        let run = self.large_run(npages, size)?;
        let elem = npages * PAGE_BYTES;
        let (id, span) = self.create_span(run, SpanClass::new(0, ptr_slots == 0), elem, 1, 0)?;
        span.set_large_meta(size, ptr_slots);
        let addr = span.start();
        if run.needzero {
            self.zero(addr, size.div_ceil(WORD_BYTES));
        }
        span.needzero.store(true, Ordering::Relaxed);
        let t = span.tables().expect("a new span has side tables");
        // Release: whoever sees the alloc bit sees the zeroed block.
        t.alloc.words()[0].store(1, Ordering::Release);
        self.publish_span(id, span);
        self.touch(span, 1);
        self.note_young(id, span);
        if self.add_live(elem) {
            cache.trigger_hit = true;
        }
        self.objects_allocated.fetch_add(1, Ordering::Relaxed);
        self.bytes_allocated.fetch_add(elem, Ordering::Relaxed);
        Ok(addr)
    }
}

//! Regions: runs of pages taken from the page heap for a space that manages
//! its own memory — a copying collector's nursery and survivor spaces.
//!
//! A region's pages belong to no span (the page table keeps 0 for them), so
//! [`Heap::find_object`] answers `None` inside it and no sweep ever visits
//! it; but they are heap memory all the same: inside the reservation, so
//! [`Heap::word`], [`Heap::load`] and [`Heap::store`] reach them and the
//! card table covers them. A region's pages are committed only when
//! touched; its owner counts them in [`Heap::inuse_bytes`] as it first
//! touches them ([`Heap::add_region_inuse`]): a copying collector's spare
//! space is memory the program pays for once used, not before. A region is
//! kept for the heap's lifetime.

use super::size_classes::PAGE_BYTES;
use super::{Address, Heap, HeapError, WORD_BYTES};
use std::sync::atomic::AtomicU64;

impl Heap {
    /// Takes a region of at least `bytes` (rounded up to whole pages, at
    /// least one) from the page heap and returns its first address.
    pub fn take_region(&self, bytes: u64) -> Result<Address, HeapError> {
        let npages = bytes.div_ceil(PAGE_BYTES).max(1);
        let run = self
            .inner
            .pages
            .lock()
            .alloc(npages)
            .ok_or(HeapError::OutOfMemory { requested: npages * PAGE_BYTES, reserved: self.inner.len })?;
        Ok(self.inner.base + run.start * PAGE_BYTES)
    }

    /// Counts `bytes` more of a region as in use (first touched).
    pub fn add_region_inuse(&self, bytes: u64) {
        self.inner.add_inuse(bytes);
    }

    /// The `n` heap words from `a` on, or `None` unless `a` is 8-aligned and
    /// all of them are inside the reservation.
    #[inline]
    pub fn words_at(&self, a: Address, n: u64) -> Option<&[AtomicU64]> {
        let off = a.wrapping_sub(self.inner.base);
        let end = off.checked_add(n.checked_mul(WORD_BYTES)?)?;
        if off >= self.inner.len || end > self.inner.len || !off.is_multiple_of(WORD_BYTES) {
            return None;
        }
        Some(self.inner.words(a, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_heap_memory_outside_every_span() {
        let heap = Heap::new(1 << 30).unwrap();
        let mut cache = heap.new_cache();
        let before = heap.alloc(&mut cache, 64, 1).unwrap();
        let inuse = heap.inuse_bytes();
        let r = heap.take_region(3 * PAGE_BYTES - 1).unwrap();
        assert_eq!(r % PAGE_BYTES, 0);
        assert_eq!(heap.inuse_bytes(), inuse, "untouched regions cost nothing");
        heap.add_region_inuse(PAGE_BYTES);
        assert_eq!(heap.inuse_bytes(), inuse + PAGE_BYTES);
        assert!(heap.find_object(r).is_none() && heap.find_object(r + 3 * PAGE_BYTES - 8).is_none());
        heap.store(r + 8, 42);
        assert_eq!(heap.load(r + 8), Some(42));
        assert_eq!(heap.words_at(r, 3 * PAGE_BYTES / 8).map(|w| w.len()), Some(3 * PAGE_BYTES as usize / 8));
        assert!(heap.words_at(r + 4, 1).is_none(), "unaligned");
        // Spans allocated afterwards do not overlap it; a sweep leaves it alone.
        let after = heap.alloc(&mut cache, 40_000, 0).unwrap();
        assert!(after >= r + 3 * PAGE_BYTES || after + 40_000 <= r);
        assert!(before + 64 <= r || before >= r + 3 * PAGE_BYTES);
        heap.sweep(None);
        assert_eq!(heap.load(r + 8), Some(42));
    }
}

//! Atomic bitmaps, one bit per object slot of a span: the *alloc bits*
//! (which slots hold an allocated object) and the *mark bits* (which objects
//! the current collection found reachable) — Go's `gcBits`
//! (`runtime/mbitmap.go`, `mheap.go`).
//!
//! Who writes what, and why the orderings suffice:
//! - alloc bits are written by the one [`AllocCache`](super::AllocCache)
//!   holding the span (a plain load and store — it is the only writer between
//!   collections) and by the sweeper (with no allocation running);
//! - mark bits are set by any number of GC workers with `fetch_or`, and
//!   cleared by the sweeper.
//!
//! Every bit is read and written through `AtomicU64`, so concurrent readers
//! (markers asking "is this allocated?") never race.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits per bitmap word.
pub(crate) const WORD_BITS: u32 = 64;

/// A fixed-size bitmap of atomic words.
pub(crate) struct AtomicBitmap {
    words: Box<[AtomicU64]>,
}

impl AtomicBitmap {
    /// A bitmap of `words * 64` clear bits.
    pub(crate) fn new(words: usize) -> AtomicBitmap {
        AtomicBitmap { words: (0..words).map(|_| AtomicU64::new(0)).collect() }
    }

    /// The words, for whole-word passes (the sweeper, the allocator).
    #[inline(always)]
    pub(crate) fn words(&self) -> &[AtomicU64] {
        &self.words
    }

    /// Capacity in bits.
    #[inline(always)]
    pub(crate) fn bits(&self) -> u32 {
        self.words.len() as u32 * WORD_BITS
    }

    /// Is bit `i` set? (`Acquire`: pairs with the allocator's `Release` store
    /// of an alloc bit, so a reader that sees the bit sees the object's
    /// zeroed words and metadata.)
    #[inline(always)]
    pub(crate) fn get(&self, i: u32) -> bool {
        self.words[(i / WORD_BITS) as usize].load(Ordering::Acquire) & (1 << (i % WORD_BITS)) != 0
    }

    /// Sets bit `i` atomically; true if this call changed it from clear to
    /// set. Reads first so that marking an already marked object costs no
    /// read-modify-write (and no cache-line ownership transfer).
    #[inline(always)]
    pub(crate) fn try_set(&self, i: u32) -> bool {
        let w = &self.words[(i / WORD_BITS) as usize];
        let bit = 1u64 << (i % WORD_BITS);
        if w.load(Ordering::Relaxed) & bit != 0 {
            return false;
        }
        // SeqCst: span-based marking's protocol needs the mark ordered
        // before its look at the span's ownership (see
        // `heap::span_marks`); on x86 a locked OR is the same instruction
        // whatever the ordering.
        w.fetch_or(bit, Ordering::SeqCst) & bit == 0
    }

    /// [`AtomicBitmap::try_set`] without the read-modify-write: a load and
    /// a store (a deliberately broken marker, for tests).
    #[inline(always)]
    pub(crate) fn try_set_racy(&self, i: u32) -> bool {
        let w = &self.words[(i / WORD_BITS) as usize];
        let bit = 1u64 << (i % WORD_BITS);
        let old = w.load(Ordering::Relaxed);
        if old & bit != 0 {
            return false;
        }
        w.store(old | bit, Ordering::Relaxed);
        true
    }

    /// Clears every bit.
    pub(crate) fn clear(&self) {
        for w in self.words.iter() {
            w.store(0, Ordering::Relaxed);
        }
    }

    /// Number of set bits.
    pub(crate) fn count(&self) -> u32 {
        self.words.iter().map(|w| w.load(Ordering::Relaxed).count_ones()).sum()
    }
}

/// The mask of valid slot bits in word `w` of a span with `nelems` slots.
#[inline(always)]
pub(crate) fn valid_mask(nelems: u32, w: u32) -> u64 {
    let left = nelems.saturating_sub(w * WORD_BITS);
    if left >= WORD_BITS {
        u64::MAX
    } else {
        (1u64 << left) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_set_reports_only_the_first_setter() {
        let b = AtomicBitmap::new(2);
        assert_eq!(b.bits(), 128);
        assert!(!b.get(70));
        assert!(b.try_set(70));
        assert!(!b.try_set(70));
        assert!(b.get(70));
        assert_eq!(b.count(), 1);
        b.clear();
        assert_eq!(b.count(), 0);
    }

    #[test]
    fn valid_mask_covers_exactly_the_slots() {
        assert_eq!(valid_mask(64, 0), u64::MAX);
        assert_eq!(valid_mask(65, 1), 1);
        assert_eq!(valid_mask(3, 0), 0b111);
        assert_eq!(valid_mask(3, 1), 0);
    }
}

//! The card table: one byte per 512-byte card of the heap's reservation,
//! set by a card-marking write barrier (HotSpot's, and what a generational
//! collector on Go's heap would need) when a pointer is stored into a heap
//! slot in that card; a minor collection scans the dirty cards' old objects
//! as roots, then clears the cards.
//!
//! The table is a lazily committed mapping like the page table (64 GiB of
//! heap: 128 MiB of address space, touched only where the heap is); the
//! barrier's store is one unconditional byte store, as in HotSpot.

use super::reservation::Mapping;
use super::{Address, Heap, HeapInner};
use std::sync::atomic::Ordering;

/// Bytes of heap per card.
pub const CARD_BYTES: u64 = 512;
const CARD_SHIFT: u32 = CARD_BYTES.trailing_zeros();

/// One dirty byte per card.
pub(crate) struct CardTable {
    map: Mapping,
}

impl CardTable {
    pub(crate) fn new(heap_bytes: u64) -> std::io::Result<CardTable> {
        Ok(CardTable { map: Mapping::new((heap_bytes >> CARD_SHIFT).max(1) as usize)? })
    }
}

impl HeapInner {
    /// The card index of `a`, if it is inside the reservation.
    #[inline(always)]
    fn card_of(&self, a: Address) -> Option<usize> {
        let off = a.wrapping_sub(self.base);
        (off < self.len).then_some((off >> CARD_SHIFT) as usize)
    }
}

impl Heap {
    /// Marks the card holding heap slot `slot` dirty (the card-marking
    /// barrier). Does nothing for addresses outside the heap.
    #[inline]
    pub fn dirty_card(&self, slot: Address) {
        if let Some(c) = self.inner.card_of(slot) {
            self.inner.cards.map.bytes()[c].store(1, Ordering::Relaxed);
        }
    }

    /// Is the card holding `a` dirty?
    pub fn is_card_dirty(&self, a: Address) -> bool {
        self.inner.card_of(a).is_some_and(|c| self.inner.cards.map.bytes()[c].load(Ordering::Relaxed) != 0)
    }

    /// Calls `f` with the first address of every dirty card, in address
    /// order, and cleans each card first. Scans the table only up to the
    /// heap's high-water mark (eight cards per load).
    pub fn drain_dirty_cards(&self, mut f: impl FnMut(Address)) {
        let inner = &*self.inner;
        let used_cards = (self.mapped_bytes() >> CARD_SHIFT) as usize;
        let words = inner.cards.map.words();
        for (wi, w) in words.iter().enumerate().take(used_cards.div_ceil(8)) {
            if w.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let bits = w.swap(0, Ordering::Relaxed);
            for b in 0..8 {
                if (bits >> (8 * b)) & 0xff != 0 {
                    f(inner.base + ((wi * 8 + b) as u64) * CARD_BYTES);
                }
            }
        }
    }

    /// Cleans every card (a full collection, which scans everything).
    pub fn clear_cards(&self) {
        self.drain_dirty_cards(|_| {});
    }

    /// Calls `f` with every pointer slot, inside `[card, card + CARD_BYTES)`,
    /// of an allocated object that `old` accepts (under sticky mark bits,
    /// the marked ones; in a copying generational heap, all of them).
    /// Interior parts of a large object that start before the card count
    /// too.
    pub fn for_each_old_slot_in_card<'h>(
        &'h self,
        card: Address,
        old: impl Fn(&super::ObjectRef<'h>) -> bool,
        mut f: impl FnMut(&'h std::sync::atomic::AtomicU64),
    ) {
        let end = card + CARD_BYTES;
        let mut a = card;
        while a < end {
            let Some(o) = self.find_object(a) else {
                a += super::WORD_BYTES;
                continue;
            };
            let base = o.base();
            if o.is_allocated() && old(&o) {
                let words = o.pointer_words();
                let ptr_end = base + words.len() as u64 * super::WORD_BYTES;
                let (from, to) = (a.max(base), ptr_end.min(end));
                let mut s = from;
                while s < to {
                    f(&words[((s - base) / super::WORD_BYTES) as usize]);
                    s += super::WORD_BYTES;
                }
            }
            a = (base + o.elem_bytes()).max(a + super::WORD_BYTES);
        }
    }
}

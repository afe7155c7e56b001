//! The card table: one byte per card (512 bytes by default, HotSpot's
//! size; [`Heap::set_card_bytes`] chooses another power of two) of the
//! heap's reservation, set by a card-marking write barrier (HotSpot's, and
//! what a generational collector on Go's heap would need) when a pointer is
//! stored into a heap slot in that card; a minor collection scans the dirty
//! cards' old objects as roots, then clears the cards.
//!
//! The table is a lazily committed mapping like the page table, sized for
//! the smallest card (64 GiB of heap: 1 GiB of address space, touched only
//! where the heap is); the barrier's store is one unconditional byte store,
//! as in HotSpot.

use super::reservation::Mapping;
use super::{Address, Heap, HeapInner};
use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes of heap per card, unless set otherwise.
pub const CARD_BYTES: u64 = 512;

/// The smallest and largest card sizes [`Heap::set_card_bytes`] accepts.
pub const MIN_CARD_BYTES: u64 = 64;
pub const MAX_CARD_BYTES: u64 = 64 << 10;

/// One dirty byte per card.
pub(crate) struct CardTable {
    map: Mapping,
    /// log2 of the card size.
    shift: AtomicU32,
}

impl CardTable {
    pub(crate) fn new(heap_bytes: u64) -> std::io::Result<CardTable> {
        let map = Mapping::new((heap_bytes >> MIN_CARD_BYTES.trailing_zeros()).max(1) as usize)?;
        Ok(CardTable { map, shift: AtomicU32::new(CARD_BYTES.trailing_zeros()) })
    }

    #[inline(always)]
    fn shift(&self) -> u32 {
        self.shift.load(Ordering::Relaxed)
    }
}

impl HeapInner {
    /// The card index of `a`, if it is inside the reservation.
    #[inline(always)]
    fn card_of(&self, a: Address) -> Option<usize> {
        let off = a.wrapping_sub(self.base);
        (off < self.len).then_some((off >> self.cards.shift()) as usize)
    }
}

impl Heap {
    /// Sets the card size: a power of two from [`MIN_CARD_BYTES`] to
    /// [`MAX_CARD_BYTES`]. Call it before the first store, with every card
    /// clean. Returns false (and changes nothing) for any other size.
    pub fn set_card_bytes(&self, bytes: u64) -> bool {
        if !bytes.is_power_of_two() || !(MIN_CARD_BYTES..=MAX_CARD_BYTES).contains(&bytes) {
            return false;
        }
        self.inner.cards.shift.store(bytes.trailing_zeros(), Ordering::Relaxed);
        true
    }

    /// Bytes of heap per card.
    pub fn card_bytes(&self) -> u64 {
        1 << self.inner.cards.shift()
    }

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
        let shift = inner.cards.shift();
        // A card that is partly below the high-water mark counts.
        let used_cards = self.mapped_bytes().div_ceil(1 << shift) as usize;
        let words = inner.cards.map.words();
        for (wi, w) in words.iter().enumerate().take(used_cards.div_ceil(8)) {
            if w.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let bits = w.swap(0, Ordering::Relaxed);
            for b in 0..8 {
                if (bits >> (8 * b)) & 0xff != 0 {
                    f(inner.base + (((wi * 8 + b) as u64) << shift));
                }
            }
        }
    }

    /// Cleans every card (a full collection, which scans everything).
    pub fn clear_cards(&self) {
        self.drain_dirty_cards(|_| {});
    }

    /// Calls `f` with every pointer slot, inside `[card, card + card_bytes)`,
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
        let end = card + self.card_bytes();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_of_every_size_cover_the_slot_stored_into() {
        for bytes in [MIN_CARD_BYTES, CARD_BYTES, 4096, MAX_CARD_BYTES] {
            let heap = Heap::new(1 << 30).unwrap();
            assert!(heap.set_card_bytes(bytes));
            assert_eq!(heap.card_bytes(), bytes);
            let mut cache = heap.new_cache();
            let a = heap.alloc(&mut cache, 256, 32).unwrap();
            let slot = a + 200;
            heap.dirty_card(slot);
            assert!(heap.is_card_dirty(slot));
            let mut dirty = Vec::new();
            heap.drain_dirty_cards(|c| dirty.push(c));
            assert_eq!(dirty, [slot / bytes * bytes], "card of {bytes} bytes");
            let mut slots = 0;
            heap.for_each_old_slot_in_card(dirty[0], |_| true, |_| slots += 1);
            let card_end = dirty[0] + bytes;
            let expected = (card_end.min(a + 256) - dirty[0].max(a)) / 8;
            assert_eq!(slots, expected, "pointer slots of the object inside a {bytes}-byte card");
            assert!(!heap.is_card_dirty(slot), "drained");
        }
        let heap = Heap::new(1 << 30).unwrap();
        for bad in [0, 32, 100, 1000, MAX_CARD_BYTES * 2] {
            assert!(!heap.set_card_bytes(bad), "{bad}");
        }
        assert_eq!(heap.card_bytes(), CARD_BYTES);
    }
}

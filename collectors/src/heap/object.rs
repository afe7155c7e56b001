//! Objects as collectors see them: [`Heap::find_object`] maps any address
//! into a heap block — interior pointers included — to an [`ObjectRef`],
//! which reads and sets that block's side metadata.
//!
//! The lookup (Go's `spanOf` + `objIndex`, `runtime/mbitmap.go`): the page
//! table gives the span of the address's page; the offset into the span
//! divided by the block size gives the slot. The division is a multiply and
//! a shift by the class's `div_mul` (exact for every offset within a span,
//! see [`super::size_classes`]). Addresses in a span's tail, outside the
//! reservation, or in free pages give `None`; whether the slot holds an
//! allocated object is [`ObjectRef::is_allocated`].

use super::size_classes::SpanClass;
use super::span::{SideTables, Span};
use super::{Address, Heap, HeapInner, WORD_BYTES};
use std::fmt;
use std::sync::atomic::AtomicU64;

/// One object slot of an in-use span, borrowed from its heap.
#[derive(Clone, Copy)]
pub struct ObjectRef<'h> {
    heap: &'h HeapInner,
    span: &'h Span,
    tables: &'h SideTables,
    base: Address,
    elem: u64,
    idx: u32,
    class: SpanClass,
}

impl<'h> ObjectRef<'h> {
    /// Slot `idx` of `span`, if it is one (the span's fields are re-checked
    /// against its tables and the reservation, so a racing reader can never
    /// build a reference outside the heap).
    #[inline(always)]
    pub(crate) fn new(heap: &'h HeapInner, span: &'h Span, tables: &'h SideTables, idx: u32) -> Option<ObjectRef<'h>> {
        if idx >= span.nelems() || idx >= tables.capacity() {
            return None;
        }
        let elem = span.elem();
        let base = span.start().wrapping_add(idx as u64 * elem);
        let off = base.wrapping_sub(heap.base);
        if off >= heap.len || elem > heap.len - off || elem == 0 {
            return None;
        }
        Some(ObjectRef { heap, span, tables, base, elem, idx, class: span.class() })
    }

    /// Address of the object's first byte.
    #[inline]
    pub fn base(&self) -> Address {
        self.base
    }

    /// Bytes of its slot: the size class's block size, or the whole span
    /// for a large block.
    #[inline]
    pub fn elem_bytes(&self) -> u64 {
        self.elem
    }

    /// The size it was allocated with.
    #[inline]
    pub fn declared_size(&self) -> u64 {
        if self.class.is_large() {
            self.span.large_meta().0
        } else {
            self.tables.unpack(self.idx).0
        }
    }

    /// How many leading words are pointer slots (Go's ptrdata / 8).
    #[inline]
    pub fn ptr_slots(&self) -> u32 {
        if self.class.is_large() {
            self.span.large_meta().1
        } else {
            self.tables.unpack(self.idx).1
        }
    }

    /// Does the slot hold an allocated object (as of the last sweep plus
    /// what has been allocated since)?
    #[inline]
    pub fn is_allocated(&self) -> bool {
        self.tables.alloc.get(self.idx)
    }

    /// Is it in a no-scan span (no pointer slots)?
    #[inline]
    pub fn is_noscan(&self) -> bool {
        self.class.noscan()
    }

    /// Sets the mark bit; true if this call set it (atomic, so exactly one of
    /// several racing markers wins).
    #[inline]
    pub fn try_mark(&self) -> bool {
        self.tables.mark.try_set(self.idx)
    }

    /// Sets the mark bit with a plain load and store instead of one atomic
    /// read-modify-write (a deliberately broken marker, for tests: two
    /// markers setting bits of one word at once can lose one).
    #[doc(hidden)]
    #[inline]
    pub fn try_mark_racy(&self) -> bool {
        self.tables.mark.try_set_racy(self.idx)
    }

    /// Sets the scan bit (span-based marking's "scanned"; see
    /// [`super::SpanMarks`]).
    #[inline]
    pub fn set_scanned(&self) {
        self.tables.scan.try_set(self.idx);
    }

    /// The slot's index in its span.
    #[inline]
    pub fn index(&self) -> u32 {
        self.idx
    }

    /// Is it in a span of small objects (not a large object's own span)?
    #[inline]
    pub fn is_small(&self) -> bool {
        !self.class.is_large()
    }

    /// The heap, span and side tables it lies in (for the heap's other
    /// views of a span: [`super::SpanMarks::of`]).
    #[inline]
    pub(crate) fn parts(&self) -> (&'h HeapInner, &'h Span, &'h SideTables) {
        (self.heap, self.span, self.tables)
    }

    /// Is the mark bit set?
    #[inline]
    pub fn is_marked(&self) -> bool {
        self.tables.mark.get(self.idx)
    }

    /// The object's pointer slots, for scanning. Empty for no-scan objects;
    /// never longer than the slot.
    #[inline]
    pub fn pointer_words(&self) -> &'h [AtomicU64] {
        if self.class.noscan() {
            return &[];
        }
        let n = (self.ptr_slots() as u64).min(self.elem / WORD_BYTES);
        // In bounds: `new` checked that the slot lies in the reservation.
        self.heap.words(self.base, n)
    }
}

impl fmt::Debug for ObjectRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("base", &format_args!("{:#x}", self.base))
            .field("elem_bytes", &self.elem)
            .field("declared_size", &self.declared_size())
            .field("ptr_slots", &self.ptr_slots())
            .field("noscan", &self.is_noscan())
            .field("allocated", &self.is_allocated())
            .field("marked", &self.is_marked())
            .finish()
    }
}

impl Heap {
    /// The object slot containing `a` (any byte of it, so interior pointers
    /// work, for small and large blocks), or `None` if `a` is not inside an
    /// in-use span's slot. Check [`ObjectRef::is_allocated`] before trusting
    /// its contents. Safe to call from many threads, with any input.
    #[inline]
    pub fn find_object(&self, a: Address) -> Option<ObjectRef<'_>> {
        self.inner.find_object(a)
    }
}

impl HeapInner {
    #[inline(always)]
    pub(crate) fn find_object(&self, a: Address) -> Option<ObjectRef<'_>> {
        let page = self.page_of(a)?;
        let span = self.spans.get(self.page_table.get(page))?;
        let tables = span.tables()?;
        let rel = a.wrapping_sub(span.start());
        if rel >= span.bytes() {
            return None;
        }
        let idx = if span.class().is_large() { 0 } else { (rel.wrapping_mul(span.div_mul() as u64) >> 32) as u32 };
        ObjectRef::new(self, span, tables, idx)
    }
}

#[cfg(test)]
mod tests {
    use super::super::size_classes::{NUM_SIZE_CLASSES, PAGE_BYTES, SIZE_CLASSES};
    use super::*;

    /// Fills one fresh span of every span class and checks that every byte
    /// offset of the span maps to the right slot, or to nothing in the tail.
    #[test]
    fn every_offset_of_every_class_maps_to_its_slot() {
        let heap = Heap::new(1 << 30).unwrap();
        for (class, &c) in SIZE_CLASSES.iter().enumerate().take(NUM_SIZE_CLASSES).skip(1) {
            for ptr_slots in [0, 1] {
                let mut cache = heap.new_cache();
                let elem = c.bytes as u64;
                let addrs: Vec<Address> =
                    (0..c.objects).map(|_| heap.alloc(&mut cache, elem, ptr_slots).unwrap()).collect();
                let start = addrs[0];
                for (i, &a) in addrs.iter().enumerate() {
                    assert_eq!(a, start + i as u64 * elem, "class {class}: one fresh span, in slot order");
                }
                let span_bytes = c.pages as u64 * PAGE_BYTES;
                for off in 0..span_bytes {
                    let found = heap.find_object(start + off);
                    if off < c.objects as u64 * elem {
                        let o = found.unwrap_or_else(|| panic!("class {class} offset {off}"));
                        assert_eq!(o.base(), start + off / elem * elem, "class {class} offset {off}");
                        assert_eq!(o.elem_bytes(), elem);
                        assert_eq!(o.is_noscan(), ptr_slots == 0);
                    } else {
                        assert!(found.is_none(), "class {class}: tail offset {off} is no object");
                    }
                }
            }
        }
    }
}

//! A copy space: a region of the heap ([`Heap::take_region`]) filled by bump
//! allocation and emptied all at once by evacuating its survivors — the
//! nursery and survivor spaces of the copying generational collector (MMTk's
//! `CopySpace`, HotSpot's eden and survivor spaces).
//!
//! - **Bump allocation in thread-local buffers**: each mutator worker takes
//!   a buffer ([`Tlab`], HotSpot's TLAB) from the shared cursor with one
//!   atomic add and bumps a private pointer through it; the fast path is an
//!   epoch compare, an add and a compare. Buffers are multiples of 512
//!   bytes and start 512-aligned, so each word of the start bitmap (below)
//!   belongs to one buffer, and its owner can set bits without a
//!   read-modify-write.
//! - **Object layout**: a header word just before each object — its
//!   declared size, pointer-slot count and age (minor collections survived)
//!   — and the object's words after it, zeroed at allocation. Objects never
//!   cross the region's end; a buffer's unused tail is left as a gap.
//! - **Start bitmap**: one bit per word marks where each object starts, so
//!   an interior pointer finds its object by scanning back to the nearest
//!   set bit (at most [`MAX_OBJECT_BYTES`] / 8 bits; Go's heap does the same
//!   job with its span divide, a bump space needs the bits — MMTk's "VO
//!   bits").
//! - **Forwarding**, safe for many evacuating threads at once: a thread
//!   *claims* an object by setting a busy bit in its header with a
//!   compare-and-swap ([`CopySpace::claim`]); the winner copies it, writes
//!   the copy's address over the object's first word (its contents live on
//!   in the copy) and then *publishes* it by swapping busy for forwarded
//!   (release); any other thread that meets the object waits for the
//!   publication (acquire) and follows the address.
//! - **Reset**: after an evacuation the whole space is free again; the
//!   epoch moves on, so every worker's buffer is void and the next
//!   allocation takes a new one.
//!
//! Everything here runs on real heap words through atomics; the bitmap is
//! side metadata of the space.

use crate::heap::{Address, Heap, HeapError, WORD_BYTES};
use std::sync::atomic::{AtomicU64, Ordering};

/// Buffers are whole multiples of this (one start-bitmap word's worth).
const BUFFER_ALIGN: u64 = 64 * WORD_BYTES;

/// The largest object a copy space takes (larger ones are not bump
/// allocated; the generational collector puts them in the old generation).
pub const MAX_OBJECT_BYTES: u64 = 32 << 10;

/// Bytes of header before each object.
pub const HEADER_BYTES: u64 = WORD_BYTES;

/// A worker's bump-allocation buffer in one copy space. Void (empty) until
/// its first allocation; void again whenever the space is reset.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tlab {
    epoch: u64,
    cursor: Address,
    limit: Address,
}

/// An object's header, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Declared size in bytes.
    pub size: u64,
    pub ptr_slots: u32,
    /// Minor collections survived.
    pub age: u8,
    /// Copied already: the object's first word holds the copy's address.
    pub forwarded: bool,
}

const FORWARDED_BIT: u64 = 1;
const BUSY_BIT: u64 = 2;
const AGE_SHIFT: u32 = 2;
const AGE_MASK: u64 = 0x3f;

/// The oldest age a header holds (minor collections survived).
pub const MAX_AGE: u8 = AGE_MASK as u8;

/// What [`CopySpace::claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the object now: copy it, then
    /// [`CopySpace::publish`]. Its header as it was.
    Won(Header),
    /// Someone copied it already: the copy's address.
    Forwarded(Address),
}
const SLOTS_SHIFT: u32 = 8;
const SLOTS_MASK: u64 = 0xff_ffff;
const SIZE_SHIFT: u32 = 32;

impl Header {
    fn encode(self) -> u64 {
        (self.size << SIZE_SHIFT)
            | ((self.ptr_slots as u64 & SLOTS_MASK) << SLOTS_SHIFT)
            | ((self.age.min(MAX_AGE) as u64) << AGE_SHIFT)
            | (self.forwarded as u64 * FORWARDED_BIT)
    }

    fn decode(w: u64) -> Header {
        Header {
            size: w >> SIZE_SHIFT,
            ptr_slots: ((w >> SLOTS_SHIFT) & SLOTS_MASK) as u32,
            age: ((w >> AGE_SHIFT) & AGE_MASK) as u8,
            forwarded: w & FORWARDED_BIT != 0,
        }
    }
}

/// Words an object of `size` bytes occupies (its header not counted).
#[inline]
pub fn object_words(size: u64) -> u64 {
    size.div_ceil(WORD_BYTES)
}

/// One copy space.
pub struct CopySpace {
    /// First address and size of the region.
    start: Address,
    capacity: u64,
    /// Bytes of the region in use at most until the next reset (a space
    /// can be sized down and up again without giving up its region).
    limit: AtomicU64,
    /// The highest offset ever handed out: the part of the region that has
    /// been touched, and counted in the heap's in-use bytes.
    touched: AtomicU64,
    /// Offset of the next buffer; may run past `capacity` when the space is
    /// full (a failed take).
    cursor: AtomicU64,
    /// Bumped by [`CopySpace::reset`]; buffers of older epochs are void.
    epoch: AtomicU64,
    /// One bit per word of the region: an object starts here.
    starts: Box<[AtomicU64]>,
}

impl CopySpace {
    /// A copy space of `bytes` (rounded up to whole pages) taken from `heap`.
    pub fn new(heap: &Heap, bytes: u64) -> Result<CopySpace, HeapError> {
        let capacity = bytes.div_ceil(crate::heap::PAGE_BYTES).max(1) * crate::heap::PAGE_BYTES;
        let start = heap.take_region(capacity)?;
        let words = capacity / WORD_BYTES;
        Ok(CopySpace {
            start,
            capacity,
            limit: AtomicU64::new(capacity),
            touched: AtomicU64::new(0),
            cursor: AtomicU64::new(0),
            epoch: AtomicU64::new(1),
            starts: (0..words.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Bytes of the region.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes the space may fill before it counts as full.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets [`CopySpace::limit`] (clamped to the capacity, at least one
    /// buffer alignment); call it while the space is empty.
    pub fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes.clamp(BUFFER_ALIGN, self.capacity), Ordering::Relaxed);
    }

    /// Bytes handed out in buffers since the last reset (gaps included).
    pub fn used_bytes(&self) -> u64 {
        self.cursor.load(Ordering::Relaxed).min(self.limit())
    }

    /// Is `a` inside the region?
    #[inline(always)]
    pub fn contains(&self, a: Address) -> bool {
        a.wrapping_sub(self.start) < self.capacity
    }

    /// Allocates a zeroed object of `size` bytes (at most
    /// [`MAX_OBJECT_BYTES`]) with `ptr_slots` pointer slots and age `age`,
    /// from `tlab`, taking a new buffer of `buffer_bytes` (or as much as the
    /// object needs) when it is void or full. `None` when the space is full.
    #[inline]
    pub fn alloc(
        &self,
        heap: &Heap,
        tlab: &mut Tlab,
        size: u64,
        ptr_slots: u32,
        age: u8,
        buffer_bytes: u64,
    ) -> Option<Address> {
        debug_assert!((1..=MAX_OBJECT_BYTES).contains(&size) && ptr_slots as u64 * WORD_BYTES <= size);
        let need = HEADER_BYTES + object_words(size) * WORD_BYTES;
        if tlab.epoch != self.epoch.load(Ordering::Relaxed) || tlab.limit - tlab.cursor < need {
            self.refill(heap, tlab, need, buffer_bytes)?;
        }
        let header = tlab.cursor;
        tlab.cursor += need;
        let base = header + HEADER_BYTES;
        let words = heap.words_at(header, need / WORD_BYTES)?;
        words[0].store(Header { size, ptr_slots, age, forwarded: false }.encode(), Ordering::Relaxed);
        for w in &words[1..] {
            w.store(0, Ordering::Relaxed);
        }
        self.set_start(base);
        Some(base)
    }

    #[cold]
    fn refill(&self, heap: &Heap, tlab: &mut Tlab, need: u64, buffer_bytes: u64) -> Option<()> {
        let limit = self.limit();
        let chunk = buffer_bytes.max(need).min(limit).div_ceil(BUFFER_ALIGN) * BUFFER_ALIGN;
        let off = self.cursor.fetch_add(chunk, Ordering::Relaxed);
        let end = off.checked_add(chunk)?;
        if end > limit || chunk < need {
            return None;
        }
        let touched = self.touched.fetch_max(end, Ordering::Relaxed);
        if end > touched {
            heap.add_region_inuse(end - touched);
        }
        *tlab = Tlab {
            epoch: self.epoch.load(Ordering::Relaxed),
            cursor: self.start + off,
            limit: self.start + off + chunk,
        };
        Some(())
    }

    fn bit(&self, a: Address) -> (usize, u64) {
        let w = ((a - self.start) / WORD_BYTES) as usize;
        (w / 64, 1u64 << (w % 64))
    }

    fn set_start(&self, base: Address) {
        let (i, bit) = self.bit(base);
        // The buffer holding `base` owns this whole bitmap word (buffers are
        // 512-aligned multiples of 512 bytes), so no other thread writes it
        // concurrently: a load and a store suffice.
        let w = &self.starts[i];
        w.store(w.load(Ordering::Relaxed) | bit, Ordering::Relaxed);
    }

    /// The first address of the object `a` points into (interior pointers
    /// included), or `None` if no object of this space covers `a`.
    pub fn object_start(&self, heap: &Heap, a: Address) -> Option<Address> {
        if !self.contains(a) {
            return None;
        }
        let w = (a - self.start) / WORD_BYTES;
        let (mut i, mut bits) = ((w / 64) as usize, self.starts[(w / 64) as usize].load(Ordering::Relaxed));
        bits &= u64::MAX >> (63 - (w % 64));
        let lowest = w.saturating_sub(object_words(MAX_OBJECT_BYTES)) / 64;
        loop {
            if bits != 0 {
                let start_word = i as u64 * 64 + 63 - bits.leading_zeros() as u64;
                let base = self.start + start_word * WORD_BYTES;
                let h = self.header(heap, base);
                // A header that describes no object (a program that wrote
                // through a stale pointer, under a broken collector, can
                // overwrite one) makes the address no object's.
                let valid = (1..=MAX_OBJECT_BYTES).contains(&h.size) && u64::from(h.ptr_slots) * WORD_BYTES <= h.size;
                return (valid && a < base + h.size).then_some(base);
            }
            if i as u64 <= lowest || i == 0 {
                return None;
            }
            i -= 1;
            bits = self.starts[i].load(Ordering::Relaxed);
        }
    }

    /// The header of the object at `base`.
    pub fn header(&self, heap: &Heap, base: Address) -> Header {
        Header::decode(heap.load(base - HEADER_BYTES).unwrap_or(0))
    }

    /// Where the object at `base` was copied to, if it was.
    pub fn forwarding(&self, heap: &Heap, base: Address) -> Option<Address> {
        self.header(heap, base).forwarded.then(|| heap.load(base).unwrap_or(0))
    }

    /// Claims the object at `base` for copying, or finds where it went:
    /// waits while another thread holds it, unless `give_up` says the
    /// evacuation is being abandoned (then it answers `Forwarded(base)`).
    pub fn claim(&self, heap: &Heap, base: Address, give_up: &dyn Fn() -> bool) -> Claim {
        let Some(word) = heap.word(base - HEADER_BYTES) else {
            unreachable!("an object's header is a heap word");
        };
        loop {
            let w = word.load(Ordering::Acquire);
            if w & FORWARDED_BIT != 0 {
                return Claim::Forwarded(heap.load(base).unwrap_or(0));
            }
            if w & BUSY_BIT != 0 {
                if give_up() {
                    return Claim::Forwarded(base);
                }
                std::hint::spin_loop();
                continue;
            }
            if word.compare_exchange_weak(w, w | BUSY_BIT, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Claim::Won(Header::decode(w));
            }
        }
    }

    /// Publishes the copy of a claimed object at `base`: it is at `to` (its
    /// first word is overwritten: copy it first).
    pub fn publish(&self, heap: &Heap, base: Address, to: Address) {
        let Some(word) = heap.word(base - HEADER_BYTES) else {
            unreachable!("an object's header is a heap word");
        };
        heap.store(base, to);
        let h = Header::decode(word.load(Ordering::Relaxed));
        word.store(Header { forwarded: true, ..h }.encode(), Ordering::Release);
    }

    /// Calls `f` with the first address and header of every object
    /// allocated since the last reset, in address order.
    pub fn for_each_object(&self, heap: &Heap, mut f: impl FnMut(Address, Header)) {
        let used_words = self.used_bytes() / WORD_BYTES;
        for (i, w) in self.starts.iter().enumerate().take(used_words.div_ceil(64) as usize) {
            let mut bits = w.load(Ordering::Relaxed);
            while bits != 0 {
                let base = self.start + (i as u64 * 64 + bits.trailing_zeros() as u64) * WORD_BYTES;
                bits &= bits - 1;
                f(base, self.header(heap, base));
            }
        }
    }

    /// Empties the space: every object in it is gone (evacuated or dead),
    /// every buffer void. Returns how many objects it held (counted from
    /// the start bitmap as it is cleared; no object is read).
    pub fn reset(&self) -> u64 {
        let used_words = self.used_bytes() / WORD_BYTES;
        let mut objects = 0;
        for w in self.starts.iter().take(used_words.div_ceil(64) as usize) {
            objects += u64::from(w.swap(0, Ordering::Relaxed).count_ones());
        }
        self.cursor.store(0, Ordering::Relaxed);
        self.epoch.fetch_add(1, Ordering::Relaxed);
        objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(bytes: u64) -> (Heap, CopySpace) {
        let heap = Heap::new(1 << 30).unwrap();
        let s = CopySpace::new(&heap, bytes).unwrap();
        (heap, s)
    }

    #[test]
    fn headers_round_trip() {
        for h in [
            Header { size: 1, ptr_slots: 0, age: 0, forwarded: false },
            Header { size: MAX_OBJECT_BYTES, ptr_slots: 4096, age: MAX_AGE, forwarded: true },
        ] {
            assert_eq!(Header::decode(h.encode()), h);
        }
    }

    #[test]
    fn bump_allocation_zeroes_and_interior_pointers_find_their_object() {
        let (heap, s) = space(64 << 10);
        let mut t = Tlab::default();
        let a = s.alloc(&heap, &mut t, 24, 2, 0, 4096).unwrap();
        heap.store(a + 8, 99);
        let b = s.alloc(&heap, &mut t, 4000, 1, 3, 4096).unwrap();
        assert_eq!(b, a + 24 + HEADER_BYTES);
        assert_eq!(s.header(&heap, b), Header { size: 4000, ptr_slots: 1, age: 3, forwarded: false });
        assert_eq!(s.object_start(&heap, a + 16), Some(a));
        assert_eq!(s.object_start(&heap, b + 3999), Some(b));
        assert_eq!(s.object_start(&heap, b + 4000), None, "past the object, before the next");
        // Reuse after a reset gives zeroed memory and a fresh buffer.
        assert_eq!(s.reset(), 2, "two objects were in it");
        assert!(s.object_start(&heap, a).is_none());
        let c = s.alloc(&heap, &mut t, 24, 2, 0, 4096).unwrap();
        assert_eq!(c, a);
        assert_eq!(heap.load(c + 8), Some(0));
    }

    #[test]
    fn a_full_space_refuses_and_the_walk_sees_every_object_once() {
        let (heap, s) = space(8 << 10);
        let (mut t1, mut t2) = (Tlab::default(), Tlab::default());
        let mut got = Vec::new();
        for i in 0.. {
            let t = if i % 2 == 0 { &mut t1 } else { &mut t2 };
            match s.alloc(&heap, t, 40, 1, 0, 512) {
                Some(a) => got.push(a),
                None => break,
            }
        }
        assert!(got.len() >= 8 << 10 >> 6 && got.len() < 8 << 10 >> 5, "{} objects of 48 bytes", got.len());
        let mut walked = Vec::new();
        s.for_each_object(&heap, |a, h| {
            assert_eq!(h, Header { size: 40, ptr_slots: 1, age: 0, forwarded: false });
            walked.push(a);
        });
        got.sort_unstable();
        assert_eq!(walked, got);
        assert_eq!(s.forwarding(&heap, got[0]), None);
        let Claim::Won(h) = s.claim(&heap, got[0], &|| false) else { panic!("nobody copied it") };
        assert_eq!(h.size, 40);
        s.publish(&heap, got[0], 0x1000);
        assert_eq!(s.forwarding(&heap, got[0]), Some(0x1000));
        assert_eq!(s.claim(&heap, got[0], &|| false), Claim::Forwarded(0x1000));
        assert_eq!(s.header(&heap, got[0]).size, 40, "the header keeps the size");
        assert_eq!(s.object_start(&heap, got[0] + 39), Some(got[0]), "interior pointers still resolve");
    }

    #[test]
    fn a_limit_bounds_the_space_and_only_touched_bytes_count_as_in_use() {
        let (heap, s) = space(64 << 10);
        let inuse = heap.inuse_bytes();
        s.set_limit(8 << 10);
        let mut t = Tlab::default();
        let mut n = 0;
        while s.alloc(&heap, &mut t, 1000, 0, 0, 4096).is_some() {
            n += 1;
        }
        assert_eq!(n, 8, "two 4 KiB buffers of four 1008-byte objects each");
        assert_eq!(heap.inuse_bytes() - inuse, 8 << 10, "only the touched part counts");
        s.reset();
        s.set_limit(64 << 10);
        assert!((0..60).all(|_| s.alloc(&heap, &mut t, 1000, 0, 0, 4096).is_some()));
        assert_eq!(heap.inuse_bytes() - inuse, 15 * 4096, "fifteen buffers touched in all");
    }

    #[test]
    fn racing_claims_copy_each_object_once_and_every_thread_sees_the_copy() {
        let (heap, s) = space(64 << 10);
        let mut t = Tlab::default();
        let objs: Vec<Address> = (0..200).map(|_| s.alloc(&heap, &mut t, 24, 1, 0, 4096).unwrap()).collect();
        let won = AtomicU64::new(0);
        let seen: Vec<Vec<Address>> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    sc.spawn(|| {
                        objs.iter()
                            .map(|&o| match s.claim(&heap, o, &|| false) {
                                Claim::Won(_) => {
                                    won.fetch_add(1, Ordering::Relaxed);
                                    let to = 0x10_0000 + o; // a made-up copy address
                                    s.publish(&heap, o, to);
                                    to
                                }
                                Claim::Forwarded(to) => to,
                            })
                            .collect()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(won.load(Ordering::Relaxed), 200, "each object claimed exactly once");
        for v in &seen {
            assert_eq!(v, &seen[0], "every thread follows the same copies");
        }
    }

    #[test]
    fn an_overwritten_header_makes_its_object_unfindable() {
        let (heap, s) = space(64 << 10);
        let mut t = Tlab::default();
        let a = s.alloc(&heap, &mut t, 64, 2, 0, 4096).unwrap();
        assert_eq!(s.object_start(&heap, a + 8), Some(a));
        // A program writing through a stale pointer stores a value over the
        // header that describes no object: here too many pointer slots for
        // its size. (Not the address itself: how an address decodes depends
        // on where the kernel mapped the heap, which made this test flaky.)
        let bogus = Header { size: 64, ptr_slots: 1000, ..Header::decode(0) };
        heap.store(a - HEADER_BYTES, bogus.encode());
        assert_eq!(s.object_start(&heap, a + 8), None);
        heap.store(a - HEADER_BYTES, 0);
        assert_eq!(s.object_start(&heap, a), None, "size 0 is no object");
    }
}

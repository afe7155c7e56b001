//! A span as span-based marking sees it (Go 1.26's "Green Tea",
//! runtime/mgcmark_greenteagc.go): its *marks* (the ordinary mark bits),
//! its *scans* (which marked objects have been scanned), and an ownership
//! byte that decides which marker queues the span.
//!
//! An object is grey when it is marked and not scanned. A marker that marks
//! an object in such a span does not queue the object: it tries to take the
//! span ([`SpanMarks::try_acquire`]) and, if it took it, queues the span.
//! The marker that later takes the span off a queue first releases it
//! ([`SpanMarks::release`]) — from then on a new mark queues the span again
//! — then claims the grey objects ([`SpanMarks::claim_grey`]) and scans
//! them. The mark's `fetch_or`, the look at the ownership byte, the
//! release's swap and the claim's load of the marks are all sequentially
//! consistent, so a mark is either seen by the claim that follows the
//! release, or made after the release and queues the span anew: no mark is
//! lost (see [`SpanMarks::try_acquire`]).
//!
//! The ownership byte also says how many marks arrived while the span was
//! owned ([`Ownership`]): if only the one that queued it did, the scanner
//! scans that object alone without looking at the span's bitmaps (Go's
//! single-object fast path).
//!
//! Claiming sets the scan bits of the objects claimed with one `fetch_or`
//! per bitmap word, and keeps only the bits that call set, so two markers
//! holding the same span (queued again while one scans it) never scan an
//! object twice.

use super::object::ObjectRef;
use super::span::{SideTables, Span};
use super::HeapInner;
use std::sync::atomic::Ordering;

/// Who holds a span for scanning, and how many marks it has collected
/// since (Go's `spanScanOwnership`). Values are bits of the ownership byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// No marker holds it: the next mark queues it.
    Unowned,
    /// Held, and only the mark that queued it has arrived since.
    OneMark,
    /// Held, and more marks may have arrived since.
    ManyMarks,
}

const ONE_MARK: u8 = 1;
const MANY_MARKS: u8 = 2;

impl Ownership {
    fn from_bits(b: u8) -> Ownership {
        match b {
            0 => Ownership::Unowned,
            ONE_MARK => Ownership::OneMark,
            _ => Ownership::ManyMarks,
        }
    }
}

/// One span of small objects, for span-based marking.
#[derive(Clone, Copy)]
pub struct SpanMarks<'h> {
    heap: &'h HeapInner,
    span: &'h Span,
    tables: &'h SideTables,
}

impl<'h> SpanMarks<'h> {
    /// The span `o` lies in.
    #[inline]
    pub fn of(o: &ObjectRef<'h>) -> SpanMarks<'h> {
        let (heap, span, tables) = o.parts();
        SpanMarks { heap, span, tables }
    }

    /// Object slots in the span.
    #[inline]
    pub fn nelems(&self) -> u32 {
        self.span.nelems().min(self.tables.capacity())
    }

    /// Words of its mark and scan bitmaps that cover its slots.
    #[inline]
    pub fn bitmap_words(&self) -> u32 {
        self.nelems().div_ceil(super::bitmap::WORD_BITS)
    }

    /// Slot `idx`, if the span has one.
    #[inline]
    pub fn object(&self, idx: u32) -> Option<ObjectRef<'h>> {
        ObjectRef::new(self.heap, self.span, self.tables, idx)
    }

    /// Tries to take the span for scanning after marking one of its
    /// objects. True: the caller must queue the span (or scan it now).
    /// False: someone holds it and will see the mark (the byte now says
    /// more than one mark arrived).
    #[inline]
    pub fn try_acquire(&self) -> bool {
        // Go's `tryAcquire`: read first, so that a span already known to
        // hold many marks costs a load, not a read-modify-write (measured:
        // two extra RMWs per object made span marking slower than object
        // marking). The early return is safe because every step of the
        // protocol is sequentially consistent — the mark's RMW
        // ([`ObjectRef::try_mark`]), this load, the holder's `release` swap
        // and its claim's load of the marks: this load reads a value before
        // the swap, so in the single order of SC operations the mark comes
        // before the swap, and the claim after the swap sees it.
        let owner = &self.tables.owner;
        match owner.load(Ordering::SeqCst) {
            0 => {
                if owner.fetch_or(ONE_MARK, Ordering::SeqCst) == 0 {
                    return true;
                }
            }
            ONE_MARK => {}
            _ => return false,
        }
        // Held: say a second mark came (and take it, if it was released
        // just now — the byte read 0).
        owner.fetch_or(MANY_MARKS, Ordering::SeqCst) == 0
    }

    /// [`SpanMarks::try_acquire`] without raising "one mark" to "many"
    /// when the span is already held (a deliberately broken marker, for
    /// tests: the holder's single-object fast path then scans only the
    /// object that queued the span, and the other mark is lost).
    #[doc(hidden)]
    #[inline]
    pub fn try_acquire_without_upgrade(&self) -> bool {
        self.tables.owner.compare_exchange(0, ONE_MARK, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    /// Releases the span, taken off a queue to be scanned: a mark from now
    /// on queues it again. Returns how many marks arrived while it was held.
    #[inline]
    pub fn release(&self) -> Ownership {
        Ownership::from_bits(self.tables.owner.swap(0, Ordering::SeqCst))
    }

    /// Claims the grey objects of bitmap word `w` (marked, not scanned):
    /// sets their scan bits and returns the bits this call set.
    #[inline]
    pub fn claim_grey(&self, w: u32) -> u64 {
        let (marks, scans) = (&self.tables.mark.words()[w as usize], &self.tables.scan.words()[w as usize]);
        let grey = marks.load(Ordering::SeqCst) & !scans.load(Ordering::Relaxed);
        if grey == 0 {
            return 0;
        }
        grey & !scans.fetch_or(grey, Ordering::AcqRel)
    }

    /// The grey objects of word `w`, without claiming them (a deliberately
    /// broken marker's read, for tests).
    #[doc(hidden)]
    pub fn unscanned(&self, w: u32) -> u64 {
        self.tables.mark.words()[w as usize].load(Ordering::Acquire)
            & !self.tables.scan.words()[w as usize].load(Ordering::Relaxed)
    }

    /// Claims object `idx` alone (the single-object fast path): true if
    /// this call set its scan bit.
    #[inline]
    pub fn claim_one(&self, idx: u32) -> bool {
        self.tables.scan.try_set(idx)
    }

    /// Sets the scan bits of word `w` to cover every mark now set, scanned
    /// or not (a deliberately broken marker, for tests: run after a scan,
    /// it hides marks that arrived during the scan).
    #[doc(hidden)]
    pub fn mark_all_scanned(&self, w: u32) {
        let marks = self.tables.mark.words()[w as usize].load(Ordering::Acquire);
        self.tables.scan.words()[w as usize].fetch_or(marks, Ordering::AcqRel);
    }
}

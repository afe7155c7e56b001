//! Green Tea's marking: small objects by span, the rest by object.
//!
//! Greying a pointer ([`SpanMarking::grey`]):
//! - into a small object whose size class is in the plan's range: set its
//!   mark bit (atomically); a pointer-free object is then done (marked and
//!   counted); otherwise take its span ([`SpanMarks::try_acquire`]) and, if
//!   taken, queue the span — not the object — on this marker's FIFO ring;
//! - into anything else (large objects, classes outside the range): as the
//!   `concurrent` plan does, on the LIFO object stack.
//!
//! A drain takes grey objects first (their children may land in spans
//! already queued, which then cover more when scanned), then spans, then
//! steals objects, then spans. Scanning a span ([`SpanMarking::scan_span`])
//! releases it, then:
//! - if only the mark that queued it arrived meanwhile, scans that object
//!   alone (the single-object fast path; a plan option can turn it off);
//! - else claims every grey object (marked, not scanned) word by word, and
//!   scans them: one by one when fewer than [`DENSE_FRACTION`] of the
//!   span's slots are claimed (*sparse*), else in one pass over the span
//!   that first gathers every pointer of every claimed object and then
//!   greys them (*dense*: the loads of the span's memory are sequential
//!   and independent of the marking they feed, Go's `scanSpanPacked`).
//!
//! [`GreenTeaFaults`] break the protocol on purpose, for the tests that
//! prove the verifier (or the model check) catches each.

use super::span_queue::{SharedSpans, SpanRing};
use crate::go_cycle::mark_work::{Drain, Drainer, MarkProgress, MarkWork};
use crate::go_cycle::object_queue::ObjectQueue;
use crate::heap::span_marks::Ownership;
use crate::heap::{Address, Heap, ObjectRef, SpanMarks, WORD_BYTES};
use crate::GcConfig;
use std::sync::atomic::{AtomicU64, Ordering};

/// A span is scanned densely when at least one slot in this many is
/// claimed at once (Go: `nelems / 8`).
pub const DENSE_FRACTION: u32 = 8;

/// Bitmap words of the largest span's marks (1024 slots).
const MAX_BITMAP_WORDS: usize = 16;

/// Which objects go through span queues, and whether a span that collected
/// one mark is scanned by that object alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GreenTeaSettings {
    /// Smallest and largest block size (bytes, of the size class) marked
    /// by span; Go: 16 to 512.
    pub min_size: u64,
    pub max_size: u64,
    /// The single-object fast path.
    pub one_mark_fast_path: bool,
    /// A mark assist takes its own ring's spans newest first (LIFO), not
    /// oldest first: an assist runs between the mutator's events, and what
    /// it has just greyed is still in its cache.
    pub assist_newest_first: bool,
}

impl Default for GreenTeaSettings {
    fn default() -> Self {
        GreenTeaSettings { min_size: 16, max_size: 512, one_mark_fast_path: true, assist_newest_first: false }
    }
}

/// Deliberate bugs, for tests. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GreenTeaFaults {
    /// Set a span's scan bits from its marks *after* scanning it (instead
    /// of claiming the grey objects before): a mark that arrived during
    /// the scan is taken as scanned, and its object never is.
    pub scan_bits_after_scan: bool,
    /// A mark into a span someone holds does not raise its ownership to
    /// "many marks" (the upgrade skipped): the holder's fast path scans
    /// only the object that queued the span, and the other mark is lost.
    pub no_ownership_upgrade: bool,
    /// Set mark bits with a plain load and store, not an atomic
    /// read-modify-write: two markers marking in one bitmap word at once
    /// can lose a mark.
    pub non_atomic_marks: bool,
}

/// Per-cycle counts of how span marking went (the plan's cycle metrics).
#[derive(Default)]
struct Counts {
    spans_scanned: AtomicU64,
    dense_spans: AtomicU64,
    span_objects: AtomicU64,
    one_mark_scans: AtomicU64,
    objects_alone: AtomicU64,
}

/// One drain's share of [`Counts`], added in at its end.
#[derive(Default)]
struct LocalCounts {
    spans_scanned: u64,
    dense_spans: u64,
    span_objects: u64,
    one_mark_scans: u64,
    objects_alone: u64,
}

/// What a drain keeps to itself until it ends.
#[derive(Default)]
struct Local {
    objects: Vec<Address>,
    spans: SpanRing,
    /// Pointers gathered by a dense span scan, greyed after.
    gathered: Vec<Address>,
    counts: LocalCounts,
}

/// The `greentea` plan's marking.
pub struct SpanMarking {
    settings: GreenTeaSettings,
    faults: GreenTeaFaults,
    objects: ObjectQueue,
    spans: SharedSpans,
    counts: Counts,
}

impl SpanMarking {
    pub fn with(settings: GreenTeaSettings, faults: GreenTeaFaults) -> SpanMarking {
        SpanMarking {
            settings,
            faults,
            objects: ObjectQueue::default(),
            spans: SharedSpans::default(),
            counts: Counts::default(),
        }
    }

    /// Does `o` go through span queues?
    #[inline]
    fn by_span(&self, o: &ObjectRef<'_>) -> bool {
        o.is_small() && (self.settings.min_size..=self.settings.max_size).contains(&o.elem_bytes())
    }

    #[inline]
    fn try_mark(&self, o: &ObjectRef<'_>) -> bool {
        o.is_allocated() && if self.faults.non_atomic_marks { o.try_mark_racy() } else { o.try_mark() }
    }

    #[inline]
    fn try_acquire(&self, s: &SpanMarks<'_>) -> bool {
        if self.faults.no_ownership_upgrade {
            s.try_acquire_without_upgrade()
        } else {
            s.try_acquire()
        }
    }

    /// Greys what `v` points into: a span onto `local`'s ring (or, without
    /// a `local`, the shared queue), an object onto its stack (or the
    /// shared list). Returns the bytes this call marked.
    #[inline]
    fn grey(&self, heap: &Heap, v: Address, local: Option<&mut Local>) -> u64 {
        if v == 0 {
            return 0;
        }
        let Some(o) = heap.find_object(v) else { return 0 };
        if !self.try_mark(&o) {
            return 0;
        }
        let bytes = o.elem_bytes();
        if o.is_noscan() {
            return bytes;
        }
        if self.by_span(&o) {
            if self.try_acquire(&SpanMarks::of(&o)) {
                match local {
                    Some(l) => l.spans.put(o.base(), &self.spans),
                    None => self.spans.push(o.base()),
                }
            }
        } else {
            match local {
                Some(l) => l.objects.push(o.base()),
                None => self.objects.push(o.base()),
            }
        }
        bytes
    }

    /// Scans one object (or the oblet of it at `at`); returns the scan work
    /// and the bytes it marked.
    fn scan_object(&self, heap: &Heap, o: &ObjectRef<'_>, at: Address, local: &mut Local) -> (u64, u64) {
        let mut marked = 0;
        let (work, rest) = ObjectQueue::scan_oblet(o, at, |v| marked += self.grey(heap, v, Some(local)));
        local.objects.extend(rest);
        (work, marked)
    }

    /// Scans an object (or oblet) taken off an object stack.
    fn scan_queued_object(&self, heap: &Heap, a: Address, local: &mut Local) -> (u64, u64) {
        local.counts.objects_alone += 1;
        match heap.find_object(a) {
            Some(o) => self.scan_object(heap, &o, a, local),
            None => (0, 0),
        }
    }

    /// Scans the span queued as `repr` (the object whose mark queued it).
    fn scan_span(&self, heap: &Heap, repr: Address, local: &mut Local) -> (u64, u64) {
        let Some(o) = heap.find_object(repr) else { return (0, 0) };
        let span = SpanMarks::of(&o);
        local.counts.spans_scanned += 1;
        if span.release() == Ownership::OneMark && self.settings.one_mark_fast_path {
            local.counts.one_mark_scans += 1;
            if !span.claim_one(o.index()) {
                return (0, 0);
            }
            local.counts.span_objects += 1;
            return self.scan_object(heap, &o, o.base(), local);
        }
        let mut grey = [0u64; MAX_BITMAP_WORDS];
        let words = span.bitmap_words().min(MAX_BITMAP_WORDS as u32);
        let mut count = 0;
        for w in 0..words {
            let bits = if self.faults.scan_bits_after_scan { span.unscanned(w) } else { span.claim_grey(w) };
            grey[w as usize] = bits;
            count += bits.count_ones();
        }
        local.counts.span_objects += count as u64;
        let (mut work, mut marked) = (0, 0);
        if count > 0 && count >= span.nelems() / DENSE_FRACTION {
            local.counts.dense_spans += 1;
            // Dense: gather every pointer first, then grey them.
            let mut gathered = std::mem::take(&mut local.gathered);
            for_each_bit(&grey[..words as usize], |idx| {
                if let Some(obj) = span.object(idx) {
                    let ptrs = obj.pointer_words();
                    work += ptrs.len() as u64 * WORD_BYTES;
                    gathered.extend(ptrs.iter().map(|w| w.load(Ordering::Relaxed)).filter(|&v| v != 0));
                }
            });
            for &v in &gathered {
                marked += self.grey(heap, v, Some(local));
            }
            gathered.clear();
            local.gathered = gathered;
        } else {
            // Sparse: one object at a time.
            for_each_bit(&grey[..words as usize], |idx| {
                if let Some(obj) = span.object(idx) {
                    let (w, m) = self.scan_object(heap, &obj, obj.base(), local);
                    work += w;
                    marked += m;
                }
            });
        }
        if self.faults.scan_bits_after_scan {
            for w in 0..words {
                span.mark_all_scanned(w);
            }
        }
        (work, marked)
    }

    fn add_counts(&self, c: &LocalCounts) {
        let add = |a: &AtomicU64, v: u64| {
            if v > 0 {
                a.fetch_add(v, Ordering::Relaxed);
            }
        };
        add(&self.counts.spans_scanned, c.spans_scanned);
        add(&self.counts.dense_spans, c.dense_spans);
        add(&self.counts.span_objects, c.span_objects);
        add(&self.counts.one_mark_scans, c.one_mark_scans);
        add(&self.counts.objects_alone, c.objects_alone);
    }
}

/// Calls `f` with the index of every set bit of `words`, in order.
#[inline]
fn for_each_bit(words: &[u64], mut f: impl FnMut(u32)) {
    for (w, &bits) in words.iter().enumerate() {
        let mut b = bits;
        while b != 0 {
            f(w as u32 * 64 + b.trailing_zeros());
            b &= b - 1;
        }
    }
}

impl MarkWork for SpanMarking {
    const NAME: &'static str = "greentea";

    fn new(config: &GcConfig) -> SpanMarking {
        SpanMarking::with(super::settings(config), GreenTeaFaults::default())
    }

    #[inline]
    fn shade(&self, heap: &Heap, v: Address) -> u64 {
        self.grey(heap, v, None)
    }

    fn drain(
        &self,
        heap: &Heap,
        who: Drainer,
        budget: u64,
        should_yield: &dyn Fn() -> bool,
        progress: &MarkProgress,
    ) -> (u64, bool) {
        let mut local = Local::default();
        let newest_first = who == Drainer::Assist && self.settings.assist_newest_first;
        let mut d = Drain::new(budget, should_yield, progress);
        while d.go_on() {
            let scanned_before = local.counts.span_objects + local.counts.objects_alone;
            // Objects first (their children may land in spans already
            // queued), then this marker's oldest span, then shared work.
            let (work, marked) = if let Some(a) = local.objects.pop() {
                self.scan_queued_object(heap, a, &mut local)
            } else if let Some(s) = local.spans.take(newest_first) {
                self.scan_span(heap, s, &mut local)
            } else if let Some(a) = self.objects.steal() {
                self.scan_queued_object(heap, a, &mut local)
            } else if let Some(s) = self.spans.steal_into(&mut local.spans) {
                self.scan_span(heap, s, &mut local)
            } else {
                break;
            };
            self.objects.spill(&mut local.objects);
            let scanned = local.counts.span_objects + local.counts.objects_alone - scanned_before;
            d.done_objects(scanned as u32, work, marked);
        }
        self.objects.give_back(std::mem::take(&mut local.objects));
        local.spans.give_back(&self.spans);
        self.add_counts(&local.counts);
        d.finish()
    }

    fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.spans.is_empty()
    }

    fn begin_cycle(&self) {
        for c in [
            &self.counts.spans_scanned,
            &self.counts.dense_spans,
            &self.counts.span_objects,
            &self.counts.one_mark_scans,
            &self.counts.objects_alone,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    fn cycle_metrics(&self, out: &mut Vec<(&'static str, f64)>) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let spans = get(&self.counts.spans_scanned);
        out.push(("spans_scanned", spans));
        out.push(("dense_spans_scanned", get(&self.counts.dense_spans)));
        out.push(("one_mark_span_scans", get(&self.counts.one_mark_scans)));
        out.push(("span_objects_scanned", get(&self.counts.span_objects)));
        if spans > 0.0 {
            out.push(("objects_per_span_scan", get(&self.counts.span_objects) / spans));
        }
        out.push(("objects_scanned_alone", get(&self.counts.objects_alone)));
    }
}

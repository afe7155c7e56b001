//! Sweeping (Go's `mspan.sweep`, done eagerly in the pause) and walks over
//! the allocated objects.
//!
//! For every in-use span, one pass over its bitmap words: the objects that
//! are allocated but not marked are freed (`alloc := alloc & mark`, each one
//! reported once), the mark bits are cleared. Every sweep first bumps the
//! heap's sweep epoch, which takes the spans caches hold back from them
//! (`cache.rs`), so no span is a cache's here. Then the span's fate:
//! - nothing left alive: its pages go back to the page heap;
//! - some slots free: it goes on its class's partial list (the lists are
//!   rebuilt from scratch here);
//! - full: it waits on no list until a later sweep frees something.
//!
//! What it frees leaves `heap_live`. The highest allocated slot of each
//! span is recorded as reached (`HeapInner::touch`): a cache that lost the
//! span to the sweep may not have published it.
//!
//! Must run with no allocation and no marking in progress (the world
//! stopped). [`Heap::sweep_parallel`] spreads the spans over rayon's threads.
//! A concurrent collector sweeps span by span instead, while the mutators
//! run (`sweeper.rs`); both share [`sweep_span`].

use super::object::ObjectRef;
use super::size_classes::NUM_SPAN_CLASSES;
use super::span::{Span, SpanId};
use super::{Address, Heap, HeapInner};
use rayon::prelude::*;
use std::sync::atomic::Ordering;

/// What a sweep did. Bytes are size-class bytes (whole spans for large
/// blocks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStats {
    /// Allocated, unmarked objects freed.
    pub freed_objects: u64,
    pub freed_bytes: u64,
    /// Marked objects kept.
    pub live_objects: u64,
    pub live_bytes: u64,
    /// Spans whose pages went back to the page heap.
    pub spans_released: u64,
    /// Spans visited.
    pub swept_spans: u64,
}

impl SweepStats {
    pub(crate) fn add(&mut self, o: &SweepStats) {
        self.freed_objects += o.freed_objects;
        self.freed_bytes += o.freed_bytes;
        self.live_objects += o.live_objects;
        self.live_bytes += o.live_bytes;
        self.spans_released += o.spans_released;
        self.swept_spans += o.swept_spans;
    }
}

/// Spans per unit of parallel sweeping work.
const SWEEP_BATCH_SPANS: usize = 512;

/// The outcome of sweeping a run of spans.
pub(crate) struct Swept {
    pub(crate) stats: SweepStats,
    /// Spans with free slots no cache holds, with their class index.
    pub(crate) partial: Vec<(u8, SpanId)>,
    /// Spans with nothing alive.
    pub(crate) empty: Vec<SpanId>,
}

impl Swept {
    pub(crate) fn new() -> Swept {
        Swept { stats: SweepStats::default(), partial: Vec::new(), empty: Vec::new() }
    }

    fn merge(mut self, o: Swept) -> Swept {
        self.stats.add(&o.stats);
        self.partial.extend(o.partial);
        self.empty.extend(o.empty);
        self
    }
}

/// Sweeps one span of `heap`, reporting each freed object to `report`.
pub(crate) fn sweep_span(heap: &HeapInner, id: SpanId, span: &Span, out: &mut Swept, report: &mut impl FnMut(Address)) {
    sweep_span_keeping(heap, id, span, out, report, false);
}

/// [`sweep_span`], leaving the mark bits set when `keep_marks` (sticky mark
/// bits: survivors stay marked, i.e. old).
fn sweep_span_keeping(
    heap: &HeapInner,
    id: SpanId,
    span: &Span,
    out: &mut Swept,
    report: &mut impl FnMut(Address),
    keep_marks: bool,
) {
    let Some(t) = span.tables() else { return };
    let (nelems, elem, start) = (span.nelems(), span.elem(), span.start());
    let (alloc, mark, scan) = (t.alloc.words(), t.mark.words(), t.scan.words());
    let (mut freed, mut live, mut reached) = (0u64, 0u64, 0u32);
    for (w, (a, m)) in alloc.iter().zip(mark).enumerate().take(nelems.div_ceil(64) as usize) {
        let allocated = a.load(Ordering::Relaxed);
        if allocated != 0 {
            reached = w as u32 * 64 + 64 - allocated.leading_zeros();
        }
        let marks = m.load(Ordering::Relaxed);
        let kept = allocated & marks;
        let mut dead = allocated & !marks;
        if dead != 0 {
            a.store(kept, Ordering::Relaxed);
            freed += dead.count_ones() as u64;
            while dead != 0 {
                let bit = dead.trailing_zeros() as u64;
                report(start + (w as u64 * 64 + bit) * elem);
                dead &= dead - 1;
            }
        }
        if marks != 0 && !keep_marks {
            m.store(0, Ordering::Relaxed);
        }
        if !keep_marks && scan[w].load(Ordering::Relaxed) != 0 {
            scan[w].store(0, Ordering::Relaxed);
        }
        live += kept.count_ones() as u64;
    }
    heap.touch(span, reached);
    if freed > 0 {
        span.needzero.store(true, Ordering::Relaxed);
    }
    let s = &mut out.stats;
    s.swept_spans += 1;
    s.freed_objects += freed;
    s.freed_bytes += freed * elem;
    s.live_objects += live;
    s.live_bytes += live * elem;
    if live == 0 {
        out.empty.push(id);
        s.spans_released += 1;
    } else if live < nelems as u64 {
        out.partial.push((span.class().0, id));
    }
}

impl HeapInner {
    fn sweep_ids(&self, ids: &[SpanId], report: &mut impl FnMut(Address)) -> Swept {
        self.sweep_ids_keeping(ids, report, false)
    }

    fn sweep_ids_keeping(&self, ids: &[SpanId], report: &mut impl FnMut(Address), keep_marks: bool) -> Swept {
        let mut out = Swept::new();
        for &id in ids {
            if let Some(span) = self.spans.get(id) {
                sweep_span_keeping(self, id, span, &mut out, report, keep_marks);
            }
        }
        out
    }

    /// Applies a sweep's outcome: new partial lists, released spans, and
    /// the freed bytes taken off heap_live.
    fn finish_sweep(&self, out: Swept) -> SweepStats {
        let mut lists = vec![Vec::new(); NUM_SPAN_CLASSES];
        for &(spc, id) in out.partial.iter().rev() {
            lists[spc as usize].push(id);
        }
        self.central.replace_all(lists, &self.spans);
        self.release_spans(&out.empty);
        self.sub_live(out.stats.freed_bytes);
        out.stats
    }
}

impl Heap {
    /// Frees every allocated, unmarked object (reporting each to `on_free`,
    /// once), clears all mark bits, returns empty spans' pages, and takes
    /// the freed bytes off `heap_live`. Call with the world stopped, after
    /// marking.
    pub fn sweep(&self, on_free: Option<&mut dyn FnMut(Address)>) -> SweepStats {
        let inner = &*self.inner;
        inner.finish_concurrent_sweep();
        inner.sweep_epoch.fetch_add(1, Ordering::Relaxed);
        let ids = inner.spans.in_use_ids();
        let out = match on_free {
            Some(f) => inner.sweep_ids(&ids, &mut |a| f(a)),
            None => inner.sweep_ids(&ids, &mut |_| {}),
        };
        inner.finish_sweep(out)
    }

    /// [`Heap::sweep`] with sticky mark bits: frees every allocated,
    /// unmarked object but leaves the survivors marked, so the next marking
    /// treats them as black (old) and traces only from what is unmarked
    /// (young) — the non-moving generational scheme. [`Heap::clear_marks`]
    /// makes everything young again (before a full collection).
    pub fn sweep_keeping_marks(&self, on_free: Option<&mut dyn FnMut(Address)>) -> SweepStats {
        let inner = &*self.inner;
        inner.finish_concurrent_sweep();
        inner.sweep_epoch.fetch_add(1, Ordering::Relaxed);
        let ids = inner.spans.in_use_ids();
        let out = match on_free {
            Some(f) => inner.sweep_ids_keeping(&ids, &mut |a| f(a), true),
            None => inner.sweep_ids_keeping(&ids, &mut |_| {}, true),
        };
        // Every span is swept, none is a cache's: nothing is young now.
        for id in std::mem::take(&mut *inner.young_spans.lock()) {
            if let Some(span) = inner.spans.get(id) {
                span.young.store(false, Ordering::Relaxed);
            }
        }
        inner.finish_sweep(out)
    }

    /// [`Heap::sweep_keeping_marks`] over the young spans only — those a
    /// cache took, or a large block was given, since the last sticky sweep
    /// ([`Heap::track_young_spans`]): no other span holds an unmarked
    /// (young) block. So a minor collection sweeps the nursery's spans, not
    /// the heap. Freed bytes leave `heap_live`; spans left empty return
    /// their pages; spans with free slots go back on their class's list
    /// (the caches lose theirs, as at every sweep).
    pub fn sweep_young_keeping_marks(&self, on_free: Option<&mut dyn FnMut(Address)>) -> SweepStats {
        let inner = &*self.inner;
        inner.finish_concurrent_sweep();
        inner.sweep_epoch.fetch_add(1, Ordering::Relaxed);
        let ids = std::mem::take(&mut *inner.young_spans.lock());
        let mut report: Box<dyn FnMut(Address)> = match on_free {
            Some(f) => Box::new(f),
            None => Box::new(|_| {}),
        };
        let mut total = SweepStats::default();
        for id in ids {
            let Some(span) = inner.spans.get(id) else { continue };
            if !span.in_use() || !span.young.swap(false, Ordering::Relaxed) {
                continue; // released since, or listed twice
            }
            let mut out = Swept::new();
            sweep_span_keeping(inner, id, span, &mut out, &mut report, true);
            total.add(&out.stats);
            inner.sub_live(out.stats.freed_bytes);
            if !out.empty.is_empty() {
                inner.central.remove(span.class(), id, &inner.spans);
                inner.release_spans(&[id]);
            } else if !out.partial.is_empty() && !span.listed.load(Ordering::Relaxed) {
                inner.central.push(span.class(), id, &inner.spans);
            }
        }
        total
    }

    /// Clears every mark bit (with the world stopped, before a full
    /// collection under sticky mark bits).
    pub fn clear_marks(&self) {
        let inner = &*self.inner;
        for id in inner.spans.in_use_ids() {
            if let Some(t) = inner.spans.get(id).and_then(Span::tables) {
                for w in t.mark.words() {
                    w.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    /// [`Heap::sweep`] spread over the current rayon pool; `on_free` may be
    /// called from several threads at once.
    pub fn sweep_parallel(&self, on_free: Option<&(dyn Fn(Address) + Sync)>) -> SweepStats {
        let inner = &*self.inner;
        inner.finish_concurrent_sweep();
        inner.sweep_epoch.fetch_add(1, Ordering::Relaxed);
        let ids = inner.spans.in_use_ids();
        let batch = |chunk: &[SpanId]| match on_free {
            Some(f) => inner.sweep_ids(chunk, &mut |a| f(a)),
            None => inner.sweep_ids(chunk, &mut |_| {}),
        };
        let out = ids.par_chunks(SWEEP_BATCH_SPANS).map(batch).reduce(Swept::new, Swept::merge);
        inner.finish_sweep(out)
    }

    /// Calls `f` for every allocated object. Not while others allocate (it
    /// would miss or half-see their objects).
    pub fn for_each_object(&self, mut f: impl FnMut(ObjectRef<'_>)) {
        let inner = &*self.inner;
        // Objects a pending concurrent sweep would free are not live.
        inner.finish_concurrent_sweep();
        for id in inner.spans.in_use_ids() {
            let Some(span) = inner.spans.get(id) else {
                continue;
            };
            let Some(t) = span.tables() else { continue };
            let nelems = span.nelems();
            for (w, word) in t.alloc.words().iter().enumerate().take(nelems.div_ceil(64) as usize) {
                let mut bits = word.load(Ordering::Acquire);
                while bits != 0 {
                    let idx = w as u32 * 64 + bits.trailing_zeros();
                    bits &= bits - 1;
                    if let Some(o) = ObjectRef::new(inner, span, t, idx) {
                        f(o);
                    }
                }
            }
        }
    }

    /// Number of allocated objects and the sum of their declared sizes.
    pub fn live_declared_bytes(&self) -> (u64, u64) {
        let (mut n, mut bytes) = (0, 0);
        self.for_each_object(|o| {
            n += 1;
            bytes += o.declared_size();
        });
        (n, bytes)
    }
}

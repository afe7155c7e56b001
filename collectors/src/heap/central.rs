//! Central span lists and span life cycle (Go's `mcentral` and the span half
//! of `mheap`).
//!
//! For every span class, [`Central`] keeps the spans that have free slots
//! and that no cache holds: caches take from it when their span is full, and
//! give back spans with free slots when flushed; the sweeper rebuilds it.
//! A span that a cache gave back full is on no list: the sweeper, which
//! visits every in-use span, puts it back once something in it is freed.
//!
//! Creating a span takes a page run from the page heap, a span and side
//! tables from the arena, and publishes the span in the page table;
//! releasing it (sweeper only) undoes that in reverse.

use super::page_heap::Run;
use super::size_classes::{SpanClass, NUM_SPAN_CLASSES, PAGE_BYTES, SIZE_CLASSES};
use super::span::{Span, SpanArena, SpanId, SpanShape};
use super::{HeapError, HeapInner};
use crossbeam_utils::CachePadded;
use parking_lot::Mutex;
use std::sync::atomic::Ordering;

/// Partial-span lists, one lock per span class (padded against false
/// sharing between classes).
pub(crate) struct Central {
    partial: Box<[CachePadded<Mutex<Vec<SpanId>>>]>,
}

impl Central {
    pub(crate) fn new() -> Central {
        Central { partial: (0..NUM_SPAN_CLASSES).map(|_| CachePadded::new(Mutex::new(Vec::new()))).collect() }
    }

    /// Takes a span with free slots of class `spc`, if there is one.
    pub(crate) fn pop(&self, spc: SpanClass, spans: &SpanArena) -> Option<SpanId> {
        let id = self.partial[spc.index()].lock().pop()?;
        if let Some(s) = spans.get(id) {
            s.listed.store(false, Ordering::Relaxed);
        }
        Some(id)
    }

    /// Offers a span with free slots of class `spc`.
    pub(crate) fn push(&self, spc: SpanClass, id: SpanId, spans: &SpanArena) {
        let mut list = self.partial[spc.index()].lock();
        if let Some(s) = spans.get(id) {
            s.listed.store(true, Ordering::Relaxed);
        }
        list.push(id);
    }

    /// Takes span `id` off its class's list, if it is on it.
    pub(crate) fn remove(&self, spc: SpanClass, id: SpanId, spans: &SpanArena) {
        let mut list = self.partial[spc.index()].lock();
        if let Some(s) = spans.get(id) {
            if s.listed.swap(false, Ordering::Relaxed) {
                list.retain(|&x| x != id);
            }
        }
    }

    /// Empties every list (a concurrent sweep starts: every span is to be
    /// swept before it is handed out again).
    pub(crate) fn clear(&self, spans: &SpanArena) {
        self.replace_all(vec![Vec::new(); NUM_SPAN_CLASSES], spans);
    }

    /// Replaces all lists (the sweeper rebuilds them).
    pub(crate) fn replace_all(&self, lists: Vec<Vec<SpanId>>, spans: &SpanArena) {
        debug_assert_eq!(lists.len(), NUM_SPAN_CLASSES);
        let flag = |ids: &[SpanId], on: bool| {
            for &id in ids {
                if let Some(s) = spans.get(id) {
                    s.listed.store(on, Ordering::Relaxed);
                }
            }
        };
        for (slot, list) in self.partial.iter().zip(lists) {
            let mut l = slot.lock();
            flag(&l, false);
            flag(&list, true);
            *l = list;
        }
    }
}

impl HeapInner {
    /// Takes a page run of `npages`, or reports that the reservation is
    /// exhausted (for a request of `requested` bytes).
    fn take_pages(&self, npages: u64, requested: u64) -> Result<Run, HeapError> {
        self.pages.lock().alloc(npages).ok_or(HeapError::OutOfMemory { requested, reserved: self.len })
    }

    /// Creates a span over a run: side tables, then the page table entries
    /// (published last, so readers that find the span see it set up).
    pub(crate) fn create_span(
        &self,
        run: Run,
        class: SpanClass,
        elem: u64,
        nelems: u32,
        div_mul: u32,
    ) -> Result<(SpanId, &Span), HeapError> {
        let shape = SpanShape {
            start: self.base + run.start * PAGE_BYTES,
            npages: run.npages,
            class,
            elem,
            nelems,
            div_mul,
            needzero: run.needzero,
            sweepgen: self.sweeper.generation(),
        };
        let Some((id, span)) = self.spans.alloc_span(&shape) else {
            // Cannot happen (there are as many span ids as pages); be clean.
            self.pages.lock().free(run.start, run.npages);
            return Err(HeapError::OutOfMemory { requested: elem, reserved: self.len });
        };
        // Nothing is in use until a slot holds a block (`HeapInner::touch`;
        // a large span's one slot does at once, in `alloc_large`).
        Ok((id, span))
    }

    /// Publishes span `id` over its pages, so `find_object` finds it.
    pub(crate) fn publish_span(&self, id: SpanId, span: &Span) {
        self.page_table.set((span.start() - self.base) / PAGE_BYTES, span.npages(), id);
    }

    /// A fresh span for small span class `spc`, for a request of `requested`
    /// bytes (reported if the reservation is exhausted).
    pub(crate) fn new_small_span(&self, spc: SpanClass, requested: u64) -> Result<(SpanId, &Span), HeapError> {
        let c = SIZE_CLASSES[spc.size_class()];
        let run = self.take_pages(c.pages as u64, requested)?;
        let (id, span) = self.create_span(run, spc, c.bytes as u64, c.objects, c.div_mul)?;
        self.publish_span(id, span);
        Ok((id, span))
    }

    /// A run for a large block of `npages` pages.
    pub(crate) fn large_run(&self, npages: u64, requested: u64) -> Result<Run, HeapError> {
        if npages > self.len / PAGE_BYTES {
            return Err(HeapError::OutOfMemory { requested, reserved: self.len });
        }
        self.take_pages(npages, requested)
    }

    /// Returns spans' pages to the page heap and the spans to the arena.
    /// Only the sweeper calls this (no cache holds them, no marker runs).
    pub(crate) fn release_spans(&self, ids: &[SpanId]) {
        let mut runs = Vec::with_capacity(ids.len());
        let mut inuse_bytes = 0;
        for &id in ids {
            let span = self.spans.get(id).expect("releasing a span that exists");
            let first = (span.start() - self.base) / PAGE_BYTES;
            let n = span.npages();
            self.page_table.set(first, n, 0);
            runs.push((first, n));
            inuse_bytes += span.inuse_bytes(span.touched.load(Ordering::Relaxed));
        }
        self.spans.free_spans(ids);
        let mut pages = self.pages.lock();
        for (first, n) in runs {
            pages.free(first, n);
        }
        drop(pages);
        self.inuse.fetch_sub(inuse_bytes, Ordering::Relaxed);
    }
}

//! Concurrent sweeping (Go's `runtime/mgcsweep.go`): after a concurrent
//! mark, spans are swept while the mutators run — lazily by the allocation
//! path, which sweeps before it takes a span, and by a background sweeper —
//! instead of all at once in the pause.
//!
//! The protocol is Go's sweep generations. The heap has a generation `sg`,
//! bumped by 2 when a sweep starts ([`Heap::start_concurrent_sweep`], with
//! the world stopped, right after marking); every span carries its own:
//! - `span.sweepgen == sg - 2`: not yet swept this time (its alloc bits still
//!   hold the dead objects, its mark bits say which are live);
//! - `sg - 1`: being swept by one thread, which claimed it with a
//!   compare-and-swap;
//! - `sg`: swept, or created since the sweep started (nothing to free).
//!
//! What keeps it correct:
//! - A span is swept exactly once per generation: claiming is a CAS from
//!   `sg - 2` to `sg - 1`.
//! - Nobody allocates from an unswept span. Starting a sweep empties the
//!   central partial lists (only swept spans are put back on them) and
//!   takes back the spans caches hold: it bumps the heap's sweep epoch, so
//!   each cache drops its spans at its next allocation and refills with
//!   swept ones (from the lists, by sweeping, or fresh). A span a cache
//!   holds is therefore always swept, and no sweeper claims it.
//! - A freed object is reported ([`ObjectSink`]) before its span is put back
//!   where anyone can allocate from it, so whoever tracks addresses (the
//!   verifier) hears of the free before it can see the memory handed out
//!   again.
//! - Marking must not start while spans are unswept (their mark bits are
//!   the last cycle's): [`Heap::finish_sweep`] sweeps what is left and waits
//!   for sweepers still at work; a concurrent collector calls it before the
//!   next cycle's sweep termination, as Go's `gcStart` does.
//!
//! Accounting: a swept span gives its freed bytes back to `heap_live`
//! (see `cache.rs`), and takes them off the trigger too
//! ([`Heap::set_trigger`]): sweeping moves the heap no closer to its next
//! collection, as in Go, whose `heapLive` sweeping does not lower at all.
//! A collector that starts a concurrent sweep sets the trigger for a
//! `heap_live` that still counts the garbage (the next trigger plus the
//! garbage); as the sweep frees it, the trigger comes down to the next
//! trigger. Large blocks are spans of one slot and are freed the same way.

use super::size_classes::SpanClass;
use super::span::{Span, SpanId};
use super::sweep::{sweep_span, SweepStats, Swept};
use super::{Address, Heap, HeapInner};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Where a collector reports the objects it frees or moves (the verifier,
/// which maps addresses to the trace's blocks). Frees are reported from
/// whichever thread sweeps — a pause, a mutator allocating, the background
/// sweeper — before the freed memory can be handed out again.
pub trait ObjectSink: Send + Sync {
    /// The object at `addr` was freed by the sweep of cycle `cycle`.
    fn on_free(&self, cycle: u64, addr: Address);

    /// The object at `from` was moved to `to` by cycle `cycle` (a copying
    /// collector, with the world stopped). Every slot that pointed into it
    /// now points the same distance into `to`.
    fn on_move(&self, cycle: u64, from: Address, to: Address);
}

/// Spans a refill sweeps, at most, looking for one of its class before it
/// takes fresh pages (Go's `mcentral.cacheSpan` tries up to 100).
pub(crate) const LAZY_SWEEP_SPANS: usize = 32;

/// The heap's concurrent-sweep state.
pub(crate) struct Sweeper {
    /// Go's `mheap.sweepgen` (even; `+2` per sweep) in the high half, the
    /// next span id to claim in the low half: one word, so a sweeper that
    /// still runs from the last sweep cannot take ids from the next one
    /// (claiming is a CAS on both).
    state: AtomicU64,
    /// The end of the span ids that existed when the sweep started
    /// (younger spans need no sweeping).
    end: AtomicU32,
    /// Threads in the middle of sweeping a span (Go's `sweep.active`).
    active: AtomicUsize,
    /// The cycle whose marks are being swept, and who hears of frees.
    cycle: AtomicU64,
    sink: RwLock<Option<Arc<dyn ObjectSink>>>,
    /// What this sweep has done so far.
    totals: Mutex<SweepStats>,
}

impl Sweeper {
    pub(crate) fn new() -> Sweeper {
        Sweeper {
            state: AtomicU64::new(0),
            end: AtomicU32::new(0),
            active: AtomicUsize::new(0),
            cycle: AtomicU64::new(0),
            sink: RwLock::new(None),
            totals: Mutex::new(SweepStats::default()),
        }
    }

    /// The current generation (new spans are born swept in it).
    #[inline]
    pub(crate) fn generation(&self) -> u32 {
        (self.state.load(Ordering::Acquire) >> 32) as u32
    }

    /// Claims the next span id of the current sweep: `(generation, id)`, or
    /// `None` when every id has been handed out.
    fn next_id(&self) -> Option<(u32, SpanId)> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let end = self.end.load(Ordering::Acquire);
            let id = state as u32;
            if id >= end {
                return None;
            }
            match self.state.compare_exchange_weak(state, state + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(((state >> 32) as u32, id)),
                Err(now) => state = now,
            }
        }
    }

    /// Are spans left that nobody has claimed yet?
    #[inline]
    fn unclaimed(&self) -> bool {
        (self.state.load(Ordering::Acquire) as u32) < self.end.load(Ordering::Acquire)
    }
}

impl HeapInner {
    /// Claims span `span` for sweeping in generation `sg` (a CAS from
    /// `sg - 2` to `sg - 1`).
    #[inline]
    fn claim(span: &Span, sg: u32) -> bool {
        span.sweepgen
            .compare_exchange(sg.wrapping_sub(2), sg.wrapping_sub(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Sweeps span `id`, which this thread has claimed: frees its dead
    /// objects (reporting each), then marks it swept and puts it where it
    /// belongs — back to the page heap if empty, on its class's partial list
    /// if it has free slots and no cache holds it.
    fn sweep_claimed(&self, id: SpanId, span: &Span, sg: u32) {
        let mut out = Swept::new();
        {
            let sink = self.sweeper.sink.read();
            let cycle = self.sweeper.cycle.load(Ordering::Relaxed);
            match sink.as_deref() {
                Some(s) => sweep_span(self, id, span, &mut out, &mut |a| s.on_free(cycle, a)),
                None => sweep_span(self, id, span, &mut out, &mut |_| {}),
            }
        }
        self.sub_live(out.stats.freed_bytes);
        // The distance to the trigger stays (see the module doc).
        let freed = out.stats.freed_bytes;
        let _ = self.trigger.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_sub(freed)));
        span.sweepgen.store(sg, Ordering::Release);
        for &(spc, pid) in &out.partial {
            self.central.push(SpanClass(spc), pid, &self.spans);
        }
        if !out.empty.is_empty() {
            self.release_spans(&out.empty);
        }
        self.sweeper.totals.lock().add(&out.stats);
    }

    /// Sweeps the next unswept span, if any is left unclaimed (Go's
    /// `sweepone`). Returns false when there is nothing left to claim.
    pub(crate) fn sweep_one(&self) -> bool {
        let sw = &self.sweeper;
        sw.active.fetch_add(1, Ordering::AcqRel);
        let mut swept = false;
        while let Some((sg, id)) = sw.next_id() {
            if let Some(span) = self.spans.get(id) {
                if span.in_use() && HeapInner::claim(span, sg) {
                    self.sweep_claimed(id, span, sg);
                    swept = true;
                    break;
                }
            }
        }
        sw.active.fetch_sub(1, Ordering::AcqRel);
        swept
    }

    /// For a refill of class `spc` that found no partial span: sweeps up to
    /// [`LAZY_SWEEP_SPANS`] spans, stopping when one of its class turns up
    /// on the partial list, which it returns.
    pub(crate) fn sweep_for(&self, spc: SpanClass) -> Option<SpanId> {
        for _ in 0..LAZY_SWEEP_SPANS {
            if !self.sweep_one() {
                return None;
            }
            if let Some(id) = self.central.pop(spc, &self.spans) {
                return Some(id);
            }
        }
        None
    }

    /// Is a concurrent sweep still under way?
    #[inline]
    pub(crate) fn sweep_pending(&self) -> bool {
        self.sweeper.unclaimed() || self.sweeper.active.load(Ordering::Acquire) > 0
    }

    /// Sweeps everything left, then waits for other sweepers to finish.
    pub(crate) fn finish_concurrent_sweep(&self) {
        while self.sweep_one() {}
        while self.sweeper.active.load(Ordering::Acquire) > 0 {
            std::thread::yield_now();
        }
    }
}

impl Heap {
    /// Starts a concurrent sweep of the marks of cycle `cycle`: from now on
    /// every span in use is swept once — lazily, by allocation, by
    /// [`Heap::sweep_one`] on a background thread, or by
    /// [`Heap::finish_sweep`] — and each object freed is reported to `sink`.
    ///
    /// Call with the world stopped, after marking, with no sweep pending
    /// (the previous one finished). It is O(span classes): no span is
    /// visited here. Unlike [`Heap::sweep`] it leaves `heap_live` counting
    /// the dead objects until their span is swept.
    pub fn start_concurrent_sweep(&self, cycle: u64, sink: Option<Arc<dyn ObjectSink>>) {
        let inner = &*self.inner;
        inner.finish_concurrent_sweep();
        let sw = &inner.sweeper;
        *sw.sink.write() = sink;
        sw.cycle.store(cycle, Ordering::Relaxed);
        *sw.totals.lock() = SweepStats::default();
        let generation = sw.generation().wrapping_add(2);
        sw.end.store(inner.spans.next_id(), Ordering::Release);
        sw.state.store((generation as u64) << 32 | 1, Ordering::Release);
        inner.central.clear(&inner.spans);
        inner.sweep_epoch.fetch_add(1, Ordering::Release);
    }

    /// Sweeps one span of the pending concurrent sweep (a background
    /// sweeper calls it in a loop). False when nothing is left to claim.
    pub fn sweep_one(&self) -> bool {
        self.inner.sweep_one()
    }

    /// Is a concurrent sweep still under way?
    pub fn sweep_pending(&self) -> bool {
        self.inner.sweep_pending()
    }

    /// Finishes the pending concurrent sweep — sweeps every span left here,
    /// waits for sweepers at work elsewhere — and returns what the whole
    /// sweep did (all zero if there was none). Safe to call while mutators
    /// run; nothing new is left to sweep once it returns.
    pub fn finish_sweep(&self) -> SweepStats {
        self.inner.finish_concurrent_sweep();
        *self.inner.sweeper.totals.lock()
    }
}

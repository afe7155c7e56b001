//! `sticky`: a non-moving generational collector with sticky mark bits —
//! what generational collection can buy a heap that, like Go's, never moves
//! objects (Demers et al., "Combining generational and conservative garbage
//! collection", POPL 1990; the scheme a non-moving Go would need).
//!
//! *Young* is "not marked since the last collection": mark bits survive a
//! sweep ([`Heap::sweep_keeping_marks`]), so every survivor is old at once
//! (a tenure age of one collection) and the next marking treats it as black.
//!
//! - **Barrier**: card marking ([`Heap::dirty_card`]): every heap pointer
//!   store dirties its card (512 bytes, or `--card-bytes`). Stack and global stores need none:
//!   stacks and globals are roots of every collection.
//! - **Minor collection** (stop the world, phase `minor`): the pointer slots
//!   of old (marked) objects in dirty cards join the roots; the cards are
//!   cleaned; marking from those roots reaches the young objects that are
//!   alive, and stops at old ones (already marked); the sweep frees the
//!   unmarked (young and dead) and leaves everything marked (now old).
//!   Only the spans allocated into since the last collection are swept
//!   ([`Heap::sweep_young_keeping_marks`]). It costs the roots, the dirty
//!   cards, the young spans and survivors — not the old generation.
//! - **Major collection** (phase `major`): mark bits and cards cleared, a
//!   full mark and sweep (the same [`ParallelMarker`]), when the old
//!   generation reaches its GOGC goal ([`crate::pacer`]) over the live heap
//!   the last major collection found; explicit and final collections are
//!   major.
//! - **Nursery**: a collection runs whenever [`Sticky::nursery_bytes`] have
//!   been allocated since the last one (`--nursery`; by default 4 MiB, Go's
//!   minimum heap goal, or the configured minimum goal if smaller).
//!
//! Options ([`OPTIONS`]): `nursery` and `card-bytes`, shared with
//! `generational` ([`crate::generations`]). Each cycle reports
//! [`CYCLE_METRICS`]: the young generation's bytes, those that survived
//! (promoted: every survivor is old at once), the survival rate and the
//! dirty cards scanned.
//!
//! Invariant: at a minor collection every young object reachable from the
//! roots is reachable from them or from an old object's slot through young
//! objects only — and every old object that received a pointer since the
//! last collection is in a dirty card (the barrier) — so marking from roots
//! and dirty cards marks every reachable young object; old objects are never
//! freed by a minor collection (they are marked), only by a major one,
//! which is a full mark-sweep.

use crate::collector::{Capabilities, Collector, GcConfig, Mutator};
use crate::generations::{self, YoungCycle};
use crate::heap::{Address, Heap, HeapError};
use crate::host::{CycleRecord, Host, Phase, RootKind, RootSet, RootVisitor, Slot, Trigger};
use crate::mark::{MarkFaults, ParallelMarker};
use crate::pacer::Pacer;
use crate::plan_metrics::MetricSpec;
use crate::plan_options::OptionSpec;
use std::sync::atomic::{AtomicU64, Ordering};

/// The options `sticky` takes: the nursery's size and the card size.
pub const OPTIONS: &[OptionSpec] = &[generations::NURSERY, generations::CARD_BYTES];

/// What each of its cycles reports beyond [`CycleRecord`]'s fields (no
/// `copied_bytes`: it copies nothing).
pub const CYCLE_METRICS: &[MetricSpec] =
    &[generations::YOUNG_BYTES, generations::PROMOTED_BYTES, generations::SURVIVAL_RATE, generations::DIRTY_CARDS];

/// Bytes per root slot scanned (one pointer word).
const ROOT_SLOT_BYTES: u64 = 8;

/// The smallest nursery: Go's minimum heap goal.
pub const MIN_NURSERY_BYTES: u64 = 4 << 20;

/// Deliberate bugs, for tests of the verifier. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StickyFaults {
    /// The write barrier does not dirty cards.
    pub no_barrier: bool,
    /// Minor collections do not scan dirty cards.
    pub skip_dirty_cards: bool,
}

/// The sticky-mark-bits generational collector.
pub struct Sticky {
    heap: Heap,
    pacer: Pacer,
    nursery: u64,
    marker: ParallelMarker,
    faults: StickyFaults,
    cycles: AtomicU64,
    /// The old generation's goal: a major collection when the heap after a
    /// minor one reaches it.
    major_goal: AtomicU64,
    /// `heap_live` just after the last collection (the old generation).
    old_bytes: AtomicU64,
}

/// The roots plus the old objects' slots found in dirty cards.
struct RootsAndCards<'a> {
    roots: &'a dyn RootSet,
    cards: &'a [&'a Slot],
}

impl RootSet for RootsAndCards<'_> {
    fn scan_globals(&self, visit: &mut RootVisitor<'_>) {
        self.roots.scan_globals(visit);
        for s in self.cards {
            visit(s, RootKind::Global);
        }
    }
    fn stack_count(&self) -> usize {
        self.roots.stack_count()
    }
    fn scan_stack(&self, g: usize, may_shrink: bool, visit: &mut RootVisitor<'_>) {
        self.roots.scan_stack(g, may_shrink, visit);
    }
}

impl Sticky {
    pub fn new(config: &GcConfig) -> Result<Sticky, HeapError> {
        Sticky::with_faults(config, StickyFaults::default())
    }

    /// A deliberately broken variant, for tests that prove the verifier
    /// catches it.
    #[doc(hidden)]
    pub fn with_faults(config: &GcConfig, faults: StickyFaults) -> Result<Sticky, HeapError> {
        let heap = generations::heap_with_cards(config)?;
        heap.track_young_spans(true);
        let pacer = config.pacer();
        let nursery = Sticky::nursery_bytes(config);
        heap.set_trigger(if pacer.collects_on_its_own() { nursery } else { u64::MAX });
        Ok(Sticky {
            heap,
            pacer,
            nursery,
            marker: ParallelMarker::new(config.procs, "sticky"),
            faults,
            cycles: AtomicU64::new(0),
            major_goal: AtomicU64::new(pacer.goal(0, 0)),
            old_bytes: AtomicU64::new(0),
        })
    }

    /// The nursery: allocation between two minor collections. The
    /// `nursery` option, or by default Go's minimum heap goal scaled like
    /// it (`min_heap_goal`), so tests that shrink the goal shrink the
    /// nursery too.
    pub fn nursery_bytes(config: &GcConfig) -> u64 {
        let n = match config.options.get(&generations::NURSERY) {
            0 => config.min_heap_goal.min(MIN_NURSERY_BYTES),
            n => n,
        };
        n.max(crate::heap::PAGE_BYTES)
    }

    /// One collection, minor or major, with the world stopped.
    fn collect_stopped(&self, host: &dyn Host, cycle: u64, major: bool, trigger: Trigger, start_ns: u64) {
        let heap_live_before = self.heap.heap_live();
        let old_before = self.old_bytes.load(Ordering::Relaxed);
        let t_mark = host.now_ns();
        let mut card_slots: Vec<&Slot> = Vec::new();
        let mut dirty_cards = 0;
        if major {
            self.heap.clear_marks();
            self.heap.clear_cards();
        } else if self.faults.skip_dirty_cards {
            self.heap.clear_cards();
        } else {
            let mut cards = Vec::new();
            self.heap.drain_dirty_cards(|c| cards.push(c));
            dirty_cards = cards.len() as u64;
            for c in cards {
                self.heap.for_each_old_slot_in_card(c, |o| o.is_marked(), |s| card_slots.push(s));
            }
        }
        let roots = RootsAndCards { roots: host.roots(), cards: &card_slots };
        let marked = self.marker.mark(&self.heap, &roots, true, MarkFaults::default());
        let t_sweep = host.now_ns();
        // A major collection sweeps every span; a minor one only the spans
        // allocated into since the last collection (no others hold young
        // blocks).
        let sink = host.object_sink();
        let mut report = |a| {
            if let Some(s) = &sink {
                s.on_free(cycle, a);
            }
        };
        let swept = if major {
            self.heap.sweep_keeping_marks(Some(&mut report))
        } else {
            self.heap.sweep_young_keeping_marks(Some(&mut report))
        };
        let t_end = host.now_ns();
        let live = self.heap.heap_live();
        self.old_bytes.store(live, Ordering::Relaxed);
        if major {
            let roots_bytes = (marked.root_slots - card_slots.len() as u64) * ROOT_SLOT_BYTES;
            self.major_goal.store(self.pacer.goal(swept.live_bytes, roots_bytes), Ordering::Relaxed);
        }
        if self.pacer.collects_on_its_own() {
            self.heap.set_trigger(live.saturating_add(self.nursery));
        }
        host.on_cycle(&CycleRecord {
            cycle,
            trigger: Some(trigger),
            start_ns,
            end_ns: t_end,
            heap_live_before,
            marked_bytes: marked.bytes,
            marked_objects: marked.objects,
            mark_ns: t_sweep - t_mark,
            mark_cpu_ns: marked.cpu_ns,
            sweep_ns: t_end - t_sweep,
            freed_bytes: swept.freed_bytes,
            freed_objects: swept.freed_objects,
            next_goal: self.major_goal.load(Ordering::Relaxed),
            heap_live_after: live,
            // Stop-the-world: no marking beside the mutators.
            background_mark_cpu_ns: 0,
            // A minor collection marks only young objects: what it marked
            // survived and is now old.
            extra: YoungCycle {
                young: if major { 0 } else { heap_live_before.saturating_sub(old_before) },
                promoted: if major { 0 } else { marked.bytes },
                copied: None,
                dirty_cards,
            }
            .metrics(),
        });
    }
}

impl Collector for Sticky {
    fn name(&self) -> &'static str {
        "sticky"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { needs_write_barrier: true, ..Capabilities::default() }
    }

    fn heap(&self) -> &Heap {
        &self.heap
    }

    #[inline]
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        crate::collector::alloc_with_trigger(&self.heap, m, size, ptr_slots)
    }

    #[inline]
    fn write_pointer(&self, _m: &mut Mutator, slot: Address, value: Address) {
        if !self.faults.no_barrier {
            self.heap.dirty_card(slot);
        }
        self.heap.store(slot, value);
    }

    fn collect(&self, host: &dyn Host, trigger: Trigger) {
        let major = trigger != Trigger::HeapGoal
            || self.old_bytes.load(Ordering::Relaxed) >= self.major_goal.load(Ordering::Relaxed);
        let phase = if major { Phase::Major } else { Phase::Minor };
        let due = || self.heap.heap_live() >= self.heap.trigger();
        crate::collector::stop_the_world_cycle(host, &self.cycles, phase, trigger, due, |cycle, start_ns| {
            self.collect_stopped(host, cycle, major, trigger, start_ns)
        });
    }

    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }

    fn own_threads_cpu_ns(&self) -> u64 {
        self.marker.threads_cpu_ns()
    }
}

/// `sticky` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "sticky",
    summary:
        "non-moving generational: sticky mark bits, card-marking barrier, stop-the-world minor and major collections",
    make: |c| Ok(Box::new(Sticky::new(c)?)),
    options: OPTIONS,
    cycle_metrics: CYCLE_METRICS,
};

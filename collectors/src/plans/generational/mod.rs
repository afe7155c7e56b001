//! `generational`: a copying nursery with survivor spaces and promotion
//! into a non-moving old generation, a card-marking remembered set, and
//! stop-the-world minor and major collections — the classic generational
//! design (Ungar's generation scavenging, 1984; Appel's nursery, 1989;
//! HotSpot's Serial and Parallel young collectors), over gcwb's Go-shaped heap.
//!
//! Spaces:
//! - **Nursery** (eden): a [`CopySpace`] of `--nursery` bytes, or by
//!   default a quarter of the old generation's goal, between 4 MiB (Go's
//!   minimum heap goal, or the configured minimum goal if smaller) and
//!   64 MiB, resized after each major collection (HotSpot's young
//!   generation is a third of the heap by default). New heap
//!   blocks are bump-allocated there, each worker in its own buffer; blocks
//!   over the pretenuring threshold (`--pretenure-bytes`, 32 KiB by
//!   default and at most, or half the nursery if that is smaller) go
//!   straight to the old generation, and so does everything
//!   allocated after the nursery fills and before the minor collection it
//!   asks for runs.
//! - **Survivor spaces**: two copy spaces of a quarter of the nursery each;
//!   one holds the young survivors of earlier minor collections, the other
//!   is empty, and they swap roles at each minor collection.
//! - **Old generation**: gcwb's size-class heap ([`Heap`]), never moved.
//!
//! A **minor collection** (phase `minor`) evacuates the nursery and the
//! occupied survivor space (`evacuate.rs`): from the roots and the old
//! objects' slots in dirty cards, every reachable young block is copied —
//! to the other survivor space while it has survived at most `--tenure-age`
//! minor collections, else promoted into the old generation — and every
//! slot that pointed to it (roots, stack blocks' slots, remembered slots,
//! the copies' own slots; interior pointers at their offset) is updated.
//! Each move is reported to the host ([`crate::heap::ObjectSink::on_move`])
//! so the verifier follows the block. Its cost is the roots, the dirty
//! cards and the survivors — not the nursery's dead, not the old
//! generation. It starts on the collecting thread and brings in the other
//! GC workers (`--procs` of them) once it has copied 1 MiB or run 1 ms;
//! they share roots, cards and copies to scan, and claim each object in its
//! header before copying it.
//!
//! A **major collection** (phase `major`) first evacuates the young
//! generation promoting everything, so no block is young, then marks and
//! sweeps the old generation with `mark-sweep`'s own code
//! ([`crate::plans::mark_sweep`]); it runs when the old generation reaches
//! its GOGC goal over the live heap the last major collection found, and
//! for explicit and final collections.
//!
//! **Barrier**: card marking on every heap pointer store (the store's card
//! — 512 bytes, or `--card-bytes` — dirtied unconditionally, as HotSpot
//! does); stores into stacks and
//! globals need none, since both are roots of every collection. Stack
//! blocks are never moved (they live on their goroutine's stack).
//!
//! Options ([`OPTIONS`], [`declared`]): `nursery`, `tenure-age`,
//! `card-bytes` and `pretenure-bytes`. Each cycle reports [`CYCLE_METRICS`]:
//! the young generation's bytes, those promoted and those copied into a
//! survivor space, the survival rate and the dirty cards scanned.
//!
//! Invariant at a minor collection: every old slot that holds a young
//! address is in a dirty card — the barrier dirties the card of every heap
//! store, and an evacuation re-dirties the card of every old slot (a
//! remembered one, or one of a promoted copy) left pointing at a survivor.
//! So the roots and the dirty cards reach every live young block, and every
//! slot that points to a moved block is one the evacuation visits.

pub mod declared;
mod evacuate;

pub use declared::{CYCLE_METRICS, OPTIONS};

use crate::collector::{Capabilities, Collector, GcConfig, Mutator, PlanState};
use crate::copy_space::{CopySpace, Tlab, MAX_OBJECT_BYTES};
use crate::generations::{self, YoungCycle};
use crate::heap::{Address, AllocCache, Heap, HeapError, PAGE_BYTES, WORD_BYTES};
use crate::host::{CycleRecord, Host, Phase, Trigger};
use crate::mark::{MarkFaults, ParallelMarker};
use crate::pacer::Pacer;
use crate::plans::mark_sweep::{mark_and_sweep, FullCollection};
use evacuate::{Evacuation, EvacuationStats};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The default nursery's smallest size: Go's minimum heap goal (4 MiB), or
/// the configured minimum goal if that is smaller.
pub const MIN_NURSERY_BYTES: u64 = 4 << 20;

/// The default nursery's largest size.
pub const MAX_NURSERY_BYTES: u64 = 64 << 20;

/// The default nursery is this fraction (1/N) of the old generation's goal.
const NURSERY_GOAL_DIVISOR: u64 = 4;

/// A worker's nursery buffer is this fraction (1/N) of the nursery (512 B
/// to 32 KiB), whatever `--procs` is: only workers that allocate hold one.
/// (It used to shrink with `procs`, so that `procs` buffers were at most a
/// quarter of the nursery; but small buffers waste their tails — a block
/// that does not fit leaves the rest unused — so 64 workers collected a
/// fifth more often than one.) What the buffers of the workers that
/// allocate hold unused when the nursery fills is lost to it: at most a
/// 32nd of the nursery each.
const NURSERY_BUFFERS: u64 = 32;

/// Each survivor space is this fraction (1/N) of the nursery.
const SURVIVOR_DIVISOR: u64 = 4;

/// Bytes per root slot scanned (one pointer word).
const ROOT_SLOT_BYTES: u64 = WORD_BYTES;

/// Deliberate bugs, for tests of the verifier. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenFaults {
    /// The write barrier does not dirty cards.
    pub no_barrier: bool,
    /// Minor collections do not scan dirty cards.
    pub skip_dirty_cards: bool,
    /// Interior pointers into young blocks are left as they are (only
    /// pointers to a block's start are redirected to its copy).
    pub interior_not_fixed: bool,
    /// Stack blocks' slots are not updated when what they point to moves.
    pub stack_blocks_not_forwarded: bool,
}

/// The copying generational collector.
pub struct Generational {
    heap: Heap,
    eden: CopySpace,
    survivors: [CopySpace; 2],
    /// Which survivor space holds the young survivors now.
    from_survivor: AtomicUsize,
    /// Where each GC worker allocates promoted copies (used with the world
    /// stopped).
    gc_caches: Mutex<Vec<AllocCache>>,
    pacer: Pacer,
    marker: ParallelMarker,
    faults: GenFaults,
    tenure_age: u32,
    pretenure_bytes: u64,
    /// Bytes of each worker's nursery buffer.
    buffer_bytes: u64,
    /// `--nursery` was given: never resize the nursery.
    fixed_nursery: bool,
    /// The nursery's smallest size (its size if fixed).
    min_nursery: u64,
    /// The nursery filled: a minor collection is due.
    nursery_full: AtomicBool,
    /// Bytes of the young survivors in the occupied survivor space.
    survivor_bytes: AtomicU64,
    /// Bytes an evacuation copies on one thread before the other GC
    /// workers join.
    escalate_bytes: AtomicU64,
    cycles: AtomicU64,
    /// The old generation's goal: a major collection when it is reached.
    major_goal: AtomicU64,
}

impl Generational {
    pub fn new(config: &GcConfig) -> Result<Generational, HeapError> {
        Generational::with_faults(config, GenFaults::default())
    }

    /// A deliberately broken variant, for tests that prove the verifier
    /// catches it.
    #[doc(hidden)]
    pub fn with_faults(config: &GcConfig, faults: GenFaults) -> Result<Generational, HeapError> {
        let heap = generations::heap_with_cards(config)?;
        // A nursery of 0 bytes is "unset": the collector sizes it.
        let nursery_option = config.options.get(&generations::NURSERY);
        let fixed_nursery = nursery_option != 0;
        let (nursery, nursery_max) = match nursery_option {
            0 => (Generational::min_nursery_bytes(config), MAX_NURSERY_BYTES),
            n => (n.max(PAGE_BYTES), n.max(PAGE_BYTES)),
        };
        let eden = CopySpace::new(&heap, nursery_max)?;
        let survivor_max = (nursery_max / SURVIVOR_DIVISOR).max(PAGE_BYTES);
        let survivors = [CopySpace::new(&heap, survivor_max)?, CopySpace::new(&heap, survivor_max)?];
        let pacer = config.pacer();
        let major_goal = pacer.goal(0, 0);
        heap.set_trigger(if pacer.collects_on_its_own() { major_goal } else { u64::MAX });
        let marker = ParallelMarker::new(config.procs, "generational");
        let g = Generational {
            // One per GC thread (the evacuation's workers).
            gc_caches: Mutex::new((0..marker.workers()).map(|_| heap.new_cache()).collect()),
            pretenure_bytes: config.options.get(&declared::PRETENURE_BYTES).min(MAX_OBJECT_BYTES).min(nursery / 2),
            buffer_bytes: (nursery / NURSERY_BUFFERS).clamp(512, 32 << 10),
            fixed_nursery,
            min_nursery: nursery,
            heap,
            eden,
            survivors,
            from_survivor: AtomicUsize::new(0),
            pacer,
            marker,
            faults,
            tenure_age: u32::try_from(config.options.get(&declared::TENURE_AGE)).unwrap_or(u32::MAX),
            nursery_full: AtomicBool::new(false),
            survivor_bytes: AtomicU64::new(0),
            escalate_bytes: AtomicU64::new(evacuate::ESCALATE_BYTES),
            cycles: AtomicU64::new(0),
            major_goal: AtomicU64::new(major_goal),
        };
        g.size_nursery(nursery);
        Ok(g)
    }

    /// The default nursery's smallest size for `config`:
    /// [`MIN_NURSERY_BYTES`], or the minimum heap goal if smaller (so tests
    /// that shrink the goal shrink the nursery too); at least a page.
    pub fn min_nursery_bytes(config: &GcConfig) -> u64 {
        config.min_heap_goal.clamp(PAGE_BYTES, MIN_NURSERY_BYTES)
    }

    /// How much an evacuation copies on the collecting thread alone before
    /// the other GC workers join it (1 MiB; 0: they join at the first
    /// task boundary, which tests use to run every evacuation in parallel).
    #[doc(hidden)]
    pub fn set_escalate_bytes(&self, bytes: u64) {
        self.escalate_bytes.store(bytes, Ordering::Relaxed);
    }

    /// The nursery's size now.
    pub fn nursery_limit(&self) -> u64 {
        self.eden.limit()
    }

    /// Sizes the nursery (and the survivor spaces with it); only while the
    /// young generation is empty.
    fn size_nursery(&self, bytes: u64) {
        self.eden.set_limit(bytes);
        for s in &self.survivors {
            s.set_limit((bytes / SURVIVOR_DIVISOR).max(PAGE_BYTES));
        }
    }

    /// Is the card at `card` wholly inside the nursery or a survivor space?
    fn is_young_card(&self, card: Address, card_bytes: u64) -> bool {
        let last = card + card_bytes - 1;
        std::iter::once(&self.eden).chain(&self.survivors).any(|s| s.contains(card) && s.contains(last))
    }

    /// Allocates a promoted copy in the old generation.
    fn promote(&self, cache: &mut AllocCache, size: u64, ptr_slots: u32) -> Address {
        let a = self.heap.alloc(cache, size, ptr_slots).unwrap_or_else(|e| {
            // A minor collection cannot give up half way: the slots already
            // redirected point into copies. The heap's reservation (64 GiB
            // by default) is the only limit.
            panic!("generational: cannot promote a {size}-byte block into the old generation: {e}")
        });
        cache.take_trigger();
        a
    }

    /// Bytes in the young generation now (the nursery counted by the
    /// buffers handed out, survivors by their own bytes).
    fn young_bytes(&self) -> u64 {
        self.eden.used_bytes() + self.survivor_bytes.load(Ordering::Relaxed)
    }

    /// One collection, minor or major, with the world stopped.
    fn collect_stopped(&self, host: &dyn Host, cycle: u64, major: bool, trigger: Trigger, start_ns: u64) {
        let heap_live_before = self.heap.heap_live() + self.young_bytes();
        let t0 = host.now_ns();
        let from = self.from_survivor.load(Ordering::Relaxed);
        let spaces = (&self.survivors[from], &self.survivors[1 - from]);
        let ev: EvacuationStats = {
            let mut caches = self.gc_caches.lock();
            let ev = Evacuation::new(self, spaces, host.object_sink(), cycle, major).run(
                host.roots(),
                &mut caches,
                self.survivor_bytes.load(Ordering::Relaxed),
            );
            // Hand the partly filled spans back (the mutators allocate from
            // them next) and publish what the promotions allocated.
            for cache in caches.iter_mut() {
                self.heap.flush_cache(cache);
            }
            ev
        };
        self.survivor_bytes.store(ev.copied_bytes, Ordering::Relaxed);
        self.from_survivor.store(1 - from, Ordering::Relaxed);
        self.nursery_full.store(false, Ordering::Relaxed);
        let t_evacuated = host.now_ns();
        let mut record = CycleRecord {
            cycle,
            trigger: Some(trigger),
            start_ns,
            heap_live_before,
            marked_bytes: ev.copied_bytes + ev.promoted_bytes,
            marked_objects: ev.copied_objects + ev.promoted_objects,
            mark_ns: t_evacuated - t0,
            mark_cpu_ns: ev.cpu_ns,
            freed_bytes: ev.freed_bytes,
            freed_objects: ev.freed_objects,
            extra: YoungCycle {
                young: ev.young_bytes,
                promoted: ev.promoted_bytes,
                copied: Some(ev.copied_bytes),
                dirty_cards: ev.dirty_cards,
            }
            .metrics(),
            ..CycleRecord::default()
        };
        if major {
            // Nothing is young now, so no old slot points into the young
            // generation: the remembered set is empty.
            self.heap.clear_cards();
            let FullCollection { marked, swept, mark_ns, sweep_ns } =
                mark_and_sweep(&self.heap, &self.marker, host, cycle, MarkFaults::default(), false);
            let goal = self.pacer.goal(marked.bytes, marked.root_slots * ROOT_SLOT_BYTES);
            self.major_goal.store(goal, Ordering::Relaxed);
            if !self.fixed_nursery {
                // The young generation is empty: resize it for the new goal.
                self.size_nursery((goal / NURSERY_GOAL_DIVISOR).clamp(self.min_nursery, self.eden.capacity()));
            }
            record.marked_bytes = marked.bytes;
            record.marked_objects = marked.objects;
            record.mark_ns += mark_ns;
            record.mark_cpu_ns += marked.cpu_ns;
            record.sweep_ns = sweep_ns;
            record.freed_bytes += swept.freed_bytes;
            record.freed_objects += swept.freed_objects;
        }
        if self.pacer.collects_on_its_own() {
            self.heap.set_trigger(self.major_goal.load(Ordering::Relaxed));
        }
        record.next_goal = self.major_goal.load(Ordering::Relaxed);
        record.heap_live_after = self.heap.heap_live() + self.young_bytes();
        record.end_ns = host.now_ns();
        host.on_cycle(&record);
    }
}

impl Collector for Generational {
    fn name(&self) -> &'static str {
        "generational"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { needs_write_barrier: true, ..Capabilities::default() }
    }

    fn heap(&self) -> &Heap {
        &self.heap
    }

    /// A worker's context, with its nursery buffer ([`Tlab`]) as the
    /// plan's state.
    fn new_mutator(&self) -> Mutator {
        Mutator { plan: PlanState::new(Tlab::default()), ..Mutator::new(&self.heap) }
    }

    #[inline]
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        if size.wrapping_sub(1) < self.pretenure_bytes && ptr_slots as u64 * WORD_BYTES <= size {
            let tlab = m.plan_state::<Tlab>();
            if let Some(a) = self.eden.alloc(&self.heap, tlab, size, ptr_slots, 0, self.buffer_bytes) {
                return Ok(a);
            }
            if self.pacer.collects_on_its_own() {
                self.nursery_full.store(true, Ordering::Relaxed);
                m.gc_wanted = Some(Trigger::HeapGoal);
            }
        }
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
        let major_due = || self.heap.heap_live() >= self.major_goal.load(Ordering::Relaxed);
        let due = || major_due() || self.nursery_full.load(Ordering::Relaxed);
        let major = trigger != Trigger::HeapGoal || major_due();
        let phase = if major { Phase::Major } else { Phase::Minor };
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

/// `generational` as the registry lists it.
pub const INFO: crate::collector::CollectorInfo = crate::collector::CollectorInfo {
    name: "generational",
    summary: "copying nursery with survivor spaces and promotion, card-marking barrier, mark-sweep old generation",
    make: |c| Ok(Box::new(Generational::new(c)?)),
    options: OPTIONS,
    cycle_metrics: CYCLE_METRICS,
};

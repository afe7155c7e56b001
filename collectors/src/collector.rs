//! The one trait every collector implements, its capabilities, its
//! configuration, and the per-worker mutator context it allocates through.
//!
//! The shape follows MMTk's plans: a collector owns (or shares) a heap,
//! gives each mutator worker an allocation context, runs a barrier on heap
//! pointer stores, and collects when asked. Everything that differs between
//! collectors lives behind this trait; everything shared (the heap, marking,
//! sweeping) lives beside it and collectors compose it.

use crate::background::{SliceEnd, Work};
use crate::heap::{Address, AllocCache, Heap, HeapError};
use crate::host::{Host, Trigger};
use crate::pacer::Pacer;
use crate::plan_options::PlanOptions;
use std::any::{Any, TypeId};

/// What a collector is, as data, so the replayer and verifier can ask
/// instead of matching on names (MMTk's `PlanConstraints`). Only what
/// something reads is here; what a plan takes and measures beyond that it
/// declares in the registry ([`crate::registry::CollectorInfo`]: options,
/// cycle metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Does it ever free anything?
    pub collects: bool,
    /// Does it mark while mutators run?
    pub concurrent: bool,
    /// Does it need a write barrier on heap pointer stores?
    pub needs_write_barrier: bool,
    /// Must stores into package-level variables go through
    /// [`Collector::write_global`] too? Go's runtime barriers them; gcwb's
    /// model does not by default (globals are scanned at every cycle), but a
    /// concurrent collector needs a deletion barrier there: a pointer copied
    /// from a global onto an already-scanned stack and then cleared in the
    /// global would otherwise be missed.
    pub barrier_on_globals: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities { collects: true, concurrent: false, needs_write_barrier: false, barrier_on_globals: false }
    }
}

/// Go's minimum heap goal: 4 MiB (`heapMinimum` in runtime/mgcpacer.go).
pub const MIN_HEAP_GOAL_BYTES: u64 = 4 << 20;

/// The most workers (GOMAXPROCS) a run may have: 1024. Go's runtime had
/// such a bound, `_MaxGomaxprocs` (a fixed array of Ps: 256, later 1024),
/// until Go 1.10. gcwb keeps one so that a mistyped value is refused
/// rather than tried: it is above the hardware threads of the machines
/// gcwb models, and idle workers cost nothing, so it limits no experiment.
pub const MAX_PROCS: usize = 1024;

/// Threads a collector gives parallel GC work for `procs` workers: one per
/// worker, as Go runs a mark worker per P, but no more than the machine has
/// hardware threads (or two, whichever is more, so that marking is
/// parallel even on one core): more could not mark any faster, and every
/// parallel phase would wake them all, so the pause would time the
/// operating system's scheduler, not the collector.
pub fn gc_threads(procs: usize) -> usize {
    let hardware = std::thread::available_parallelism().map_or(1, |n| n.get());
    procs.clamp(1, hardware.max(2))
}

/// Settings common to every collector.
#[derive(Clone, Debug)]
pub struct GcConfig {
    /// Workers (GOMAXPROCS, at most [`MAX_PROCS`]); parallel GC work runs
    /// on [`gc_threads`] of them.
    pub procs: usize,
    /// GOGC percent; `None` is `GOGC=off` (collect only when asked).
    pub gogc: Option<u32>,
    /// The smallest heap goal.
    pub min_heap_goal: u64,
    /// Virtual address space reserved for the heap.
    pub heap_reserve_bytes: u64,
    /// A soft limit on the heap (Go's `GOMEMLIMIT`), in bytes.
    pub memory_limit: Option<u64>,
    /// The values of the plan's own options (those it declares in the
    /// registry, [`crate::plan_options`]); an option not set is at its
    /// spec's default.
    pub options: PlanOptions,
}

impl GcConfig {
    /// The pacer these settings describe.
    pub fn pacer(&self) -> Pacer {
        Pacer { gogc: self.gogc, min_heap_goal: self.min_heap_goal, memory_limit: self.memory_limit }
    }
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            procs: std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_PROCS),
            gogc: Some(100),
            min_heap_goal: MIN_HEAP_GOAL_BYTES,
            heap_reserve_bytes: crate::heap::DEFAULT_RESERVE_BYTES,
            memory_limit: None,
            options: PlanOptions::default(),
        }
    }
}

/// A mutator worker's context: its allocation cache and what the collector
/// wants from it at its next safepoint. One per worker thread (a P).
pub struct Mutator {
    pub cache: AllocCache,
    /// Set by the allocation path when the heap crossed the trigger; the
    /// host calls [`Collector::collect`] at the worker's next safepoint.
    pub gc_wanted: Option<Trigger>,
    /// The goroutine (as the host numbers stacks for
    /// [`crate::host::RootSet::scan_stack`]) this worker is running now; set
    /// by the host at every dispatch. A hybrid barrier asks whether this
    /// goroutine's stack has been scanned yet.
    pub goroutine: usize,
    /// Bytes of marking the collector asks this worker to do at its next
    /// event boundary (a mark assist): the host then calls
    /// [`Collector::assist`], timing it as a stall of the goroutine.
    pub assist_bytes: u64,
    /// Bytes allocated during marking not yet paid for by an assist (the
    /// collector's bookkeeping, Go's `gcAssistBytes` kept per worker).
    pub alloc_debt: u64,
    /// The plan's own per-worker state (the generational collector's
    /// nursery buffer, say): what its [`Collector::new_mutator`] put there,
    /// `()` by default. The plan reads it back with [`Mutator::plan_state`].
    pub plan: PlanState,
}

/// A plan's own per-worker state in a [`Mutator`]: a value of any type the
/// plan chooses, `()` when it has none.
///
/// It is a `Box<dyn Any + Send>` that keeps its value's [`TypeId`] beside
/// it, so that reading the value back on the allocation path is one
/// compare with a constant. (`Box<dyn Any>::downcast_mut` asks the value
/// for its type through the vtable; on the generational collector's
/// nursery path that took about 4.5 ns of a 9 ns allocation:
/// `alloc_mutator` in `benches/alloc.rs`.)
pub struct PlanState {
    value: Box<dyn Any + Send>,
    /// The type of the value `value` holds; set with it, never changed.
    type_id: TypeId,
}

impl PlanState {
    /// State holding `value`.
    pub fn new<T: Any + Send>(value: T) -> PlanState {
        PlanState { value: Box::new(value), type_id: TypeId::of::<T>() }
    }

    /// The value, if it is a `T`.
    #[inline]
    pub fn get_mut<T: Any>(&mut self) -> Option<&mut T> {
        if self.type_id != TypeId::of::<T>() {
            return None;
        }
        let value: *mut (dyn Any + Send) = &mut *self.value;
        // SAFETY: `type_id` is the type of the value `value` points to:
        // both are set together, by `new` only, and neither field is ever
        // assigned again (they are private). So `value` points to a live T,
        // and the pointer's data part is a T's address; the &mut borrows
        // `self` mutably, so it is the only reference for its lifetime.
        Some(unsafe { &mut *value.cast::<T>() })
    }
}

impl Default for PlanState {
    /// No state: `()`.
    fn default() -> Self {
        PlanState::new(())
    }
}

impl std::fmt::Debug for PlanState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanState").field("type_id", &self.type_id).finish_non_exhaustive()
    }
}

impl Mutator {
    /// A context allocating from `heap`, with no plan state.
    pub fn new(heap: &Heap) -> Mutator {
        Mutator {
            cache: heap.new_cache(),
            gc_wanted: None,
            goroutine: 0,
            assist_bytes: 0,
            alloc_debt: 0,
            plan: PlanState::default(),
        }
    }

    /// The plan's state, as the type the plan put there.
    ///
    /// # Panics
    /// If it holds another type: the mutator was made by another
    /// collector's [`Collector::new_mutator`].
    #[inline]
    pub fn plan_state<T: Any>(&mut self) -> &mut T {
        match self.plan.get_mut::<T>() {
            Some(state) => state,
            None => panic!("this mutator was not made by this collector's new_mutator"),
        }
    }
}

/// The allocation path every tracing collector here shares: allocate from
/// the worker's cache and, if that made the heap cross its trigger, ask for
/// a collection at the worker's next safepoint.
#[inline]
pub fn alloc_with_trigger(heap: &Heap, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
    let a = heap.alloc(&mut m.cache, size, ptr_slots)?;
    if m.cache.take_trigger() {
        m.gc_wanted = Some(Trigger::HeapGoal);
    }
    Ok(a)
}

/// How a stop-the-world collection starts and ends, for collectors that
/// pause once per cycle: unless `trigger` is the heap goal and the
/// collection is no longer `due` (another worker collected first), stop
/// the world for cycle `cycles + 1` in `phase`, check `due` again (this
/// worker may have been parked while another collected), run
/// `collect(cycle, start_ns)`, count the cycle and restart the world.
pub fn stop_the_world_cycle(
    host: &dyn crate::host::Host,
    cycles: &std::sync::atomic::AtomicU64,
    phase: crate::host::Phase,
    trigger: Trigger,
    due: impl Fn() -> bool,
    collect: impl FnOnce(u64, u64),
) {
    use std::sync::atomic::Ordering;
    let wanted = || trigger != Trigger::HeapGoal || due();
    if !wanted() {
        return;
    }
    let cycle = cycles.load(Ordering::Relaxed) + 1;
    let Some(stopped) = host.stop_the_world(cycle, phase) else { return };
    if wanted() {
        collect(cycle, stopped.requested_ns);
        cycles.store(cycle, Ordering::Relaxed);
    }
    host.start_the_world(stopped);
}

/// A garbage collector over gcwb's heap.
///
/// Contract with the host: `alloc` and `write_pointer` are called by mutator
/// workers between safepoints, concurrently from many threads; `collect` is
/// called by a mutator worker at a safepoint (holding no goroutine) or by the
/// host's own thread, and drives the whole cycle through [`Host`], stopping
/// the world as its algorithm needs.
pub trait Collector: Send + Sync {
    /// The registered name (`mark-sweep`).
    fn name(&self) -> &'static str;

    /// What kind of collector this is.
    fn capabilities(&self) -> Capabilities;

    /// The heap it manages.
    fn heap(&self) -> &Heap;

    /// A fresh context for one mutator worker.
    /// A plan with state of its own per worker puts it in
    /// [`Mutator::plan`] here.
    fn new_mutator(&self) -> Mutator {
        Mutator::new(self.heap())
    }

    /// Allocates a zeroed heap block of `size` bytes whose first `ptr_slots`
    /// words are pointer slots. Sets `m.gc_wanted` when a collection is due.
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError>;

    /// Stores `value` into the heap pointer slot at `slot`: the write
    /// barrier's hook. The default is a plain store (no barrier).
    fn write_pointer(&self, _m: &mut Mutator, slot: Address, value: Address) {
        self.heap().store(slot, value);
    }

    /// Stores `value` into the global `slot`, when
    /// [`Capabilities::barrier_on_globals`] asks for it. The default is a
    /// plain store.
    fn write_global(&self, _m: &mut Mutator, slot: &crate::host::Slot, value: Address) {
        slot.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    /// Goroutine `child` was just started by the goroutine `m` runs, with
    /// `args` copied onto its new stack (a copy no barrier sees). A
    /// concurrent collector shades them while marking; the default does
    /// nothing.
    fn on_spawn(&self, _m: &mut Mutator, _child: usize, _args: &[Address]) {}

    /// A mark assist: the worker `m` does (some of) the marking its
    /// allocation owes ([`Mutator::assist_bytes`], which it lowers by what
    /// it paid), returning early if `host` asks for a stop
    /// ([`Host::stop_requested`]). Returns the bytes of marking it did; the
    /// host calls again, between safepoint checks, while some is owed and
    /// the last call did some (0 with debt left means "not now": the host
    /// runs the goroutine on and asks again later). How many goroutines
    /// assist at once is the host's to limit: it sees the processors (the
    /// replay's scheduler lets at most half its workers mark beside the
    /// mutators). The default forgives the debt.
    fn assist(&self, _host: &dyn Host, m: &mut Mutator) -> u64 {
        m.assist_bytes = 0;
        0
    }

    /// One slice of the background work the collector asked for with
    /// [`Host::request_background`], run by the host on one of its workers
    /// while the mutators run (see [`crate::background`]): work of kind
    /// `work` in small units until `should_yield()` is true or none is
    /// left; a slice does only the kind it was given (a sweep left after a
    /// mark is handed back as [`SliceEnd::Yielded`]`(Work::Sweep)`, so that
    /// the host runs it where sweeping belongs). The default has none.
    fn background_slice(&self, _host: &dyn Host, _work: Work, _should_yield: &dyn Fn() -> bool) -> SliceEnd {
        SliceEnd::Done
    }

    /// Runs every background work left, to its end, on the calling thread
    /// (a host with no workers left, or a thread of its own for it).
    fn finish_background(&self, host: &dyn Host) {
        let mut work = Work::Mark;
        while let SliceEnd::Yielded(next) = self.background_slice(host, work, &|| false) {
            work = next;
        }
    }

    /// Runs a collection cycle started by `trigger`.
    fn collect(&self, host: &dyn Host, trigger: Trigger);

    /// Returns a worker's cached spans to the heap (when the worker stops).
    fn release_mutator(&self, m: &mut Mutator) {
        self.heap().flush_cache(&mut m.cache);
    }

    /// Number of cycles completed so far.
    fn cycles(&self) -> u64;

    /// CPU time the collector's own threads (a parallel marking pool:
    /// threads the host does not run) have spent on its work so far. The
    /// host times the collector's work on its own threads (collections it
    /// calls, slices, assists) and adds this, to know the CPU time the
    /// collector took. The default, for a plan with no threads of its own,
    /// is 0.
    fn own_threads_cpu_ns(&self) -> u64 {
        0
    }
}

/// A collector as the registry lists it ([`crate::registry`]): its name,
/// one line about it, its constructor, and what it declares. Each plan
/// defines its own (`INFO`, beside its code).
pub struct CollectorInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub make: fn(&GcConfig) -> Result<Box<dyn Collector>, HeapError>,
    /// The options it takes (read from [`GcConfig::options`]).
    pub options: &'static [crate::plan_options::OptionSpec],
    /// The metrics its cycles report in [`crate::CycleRecord::extra`].
    pub cycle_metrics: &'static [crate::plan_metrics::MetricSpec],
}

impl CollectorInfo {
    /// Its option named `name` (kebab-case or snake_case), if it takes one.
    pub fn option(&self, name: &str) -> Option<&'static crate::plan_options::OptionSpec> {
        self.options.iter().find(|o| o.is_named(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_state_gives_back_its_value_only_as_its_own_type() {
        let mut s = PlanState::new(7u64);
        assert_eq!(s.get_mut::<u32>(), None);
        assert_eq!(s.get_mut::<()>(), None);
        *s.get_mut::<u64>().unwrap() += 1;
        assert_eq!(s.get_mut::<u64>(), Some(&mut 8));
        let mut none = PlanState::default();
        assert_eq!(none.get_mut::<()>(), Some(&mut ()));
        assert_eq!(none.get_mut::<u64>(), None);
    }

    #[test]
    #[should_panic(expected = "not made by this collector's new_mutator")]
    fn a_mutator_of_another_plan_is_refused_not_misread() {
        let heap = Heap::new(1 << 30).unwrap();
        let mut m = Mutator::new(&heap);
        m.plan_state::<crate::copy_space::Tlab>();
    }
}

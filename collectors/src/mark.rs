//! Parallel tri-color marking over the heap, shared by every collector that
//! traces.
//!
//! Colours are implicit, as in Go: an object is *white* while its mark bit is
//! clear, *grey* once its bit is set and it sits on some worker's deque, and
//! *black* once its pointer slots have been scanned. A worker shades a
//! pointer by mapping it (interior pointers included) to its object with
//! [`Heap::find_object`] and setting the mark bit with an atomic `fetch_or`,
//! so each object is pushed — and scanned — by exactly one worker.
//!
//! Work distribution, termination and what happens when a marker panics
//! are [`crate::parallel_work`]'s: the roots are split into tasks (the
//! globals, then one task per goroutine stack — MMTk's per-mutator root
//! batches) that the workers claim; the grey objects are the work items,
//! on per-worker LIFO deques from which idle workers steal. Marking ends
//! when no worker has a grey object left; if a marker panics, the others
//! stop and the panic reaches the caller of [`ParallelMarker::mark`].
//!
//! [`MarkFaults`] injects deliberate bugs so tests can prove the verifier
//! catches a broken collector.

use crate::heap::{Address, Heap, ObjectRef};
use crate::host::{RootKind, RootSet};
use crate::parallel_work::{GcPool, GreyQueue, GreyWorker, Start, WorkLoop};
use std::sync::atomic::Ordering;

/// What one marking pass found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkStats {
    /// Objects and size-class bytes marked.
    pub objects: u64,
    pub bytes: u64,
    /// Root slots visited, and the bytes of stacks and globals scanned
    /// (Go's pacer counts these as scan work: `lastStackScan`, `globalsScan`).
    pub root_slots: u64,
    /// CPU time the workers spent marking.
    pub cpu_ns: u64,
}

impl MarkStats {
    fn add(&mut self, o: &MarkStats) {
        self.objects += o.objects;
        self.bytes += o.bytes;
        self.root_slots += o.root_slots;
        self.cpu_ns += o.cpu_ns;
    }
}

/// Deliberate bugs, for tests of the verifier. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkFaults {
    /// Treat a pointer into the middle of an object as not a pointer.
    pub ignore_interior_pointers: bool,
    /// Do not scan the pointer slots of stack-allocated blocks.
    pub skip_stack_block_slots: bool,
    /// Do not scan package-level variables.
    pub skip_globals: bool,
    /// Panic when scanning the object at this address (unit tests of what
    /// a panicking marker does to the others).
    #[cfg(test)]
    pub(crate) panic_scanning: Option<Address>,
}

/// A pool of GC worker threads that marks in parallel.
pub struct ParallelMarker {
    pool: GcPool,
}

impl ParallelMarker {
    /// A marker for `procs` workers: [`crate::collector::gc_threads`]
    /// threads.
    pub fn new(procs: usize, name: &str) -> ParallelMarker {
        ParallelMarker { pool: GcPool::new(crate::collector::gc_threads(procs), name) }
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.pool.threads()
    }

    /// The worker threads, for other parallel GC work (the generational
    /// collector's evacuation).
    pub fn pool(&self) -> &GcPool {
        &self.pool
    }

    /// CPU time the worker threads have spent on the collector's work so
    /// far ([`GcPool::cpu_ns`]).
    pub fn threads_cpu_ns(&self) -> u64 {
        self.pool.cpu_ns()
    }

    /// Marks every object reachable from `roots`. With `shrink_stacks`, hosts
    /// may halve sparse stacks while they are scanned. The world must be
    /// stopped (or the caller must otherwise keep roots and heap stable).
    pub fn mark(&self, heap: &Heap, roots: &dyn RootSet, shrink_stacks: bool, faults: MarkFaults) -> MarkStats {
        // Root tasks: the globals, then one per goroutine stack.
        let tasks = 1 + roots.stack_count();
        let per_worker = WorkLoop::new(tasks, self.workers(), Start::AllWorkers).run(&self.pool, |_| MarkWorker {
            heap,
            roots,
            shrink_stacks,
            faults,
            stats: MarkStats::default(),
            cpu0: crate::cpu_time::thread_cpu_ns(),
        });
        let mut total = MarkStats::default();
        for s in &per_worker {
            total.add(s);
        }
        total
    }
}

/// One marking worker: its root tasks, and blackening a grey object.
struct MarkWorker<'a> {
    heap: &'a Heap,
    roots: &'a dyn RootSet,
    shrink_stacks: bool,
    faults: MarkFaults,
    stats: MarkStats,
    /// The thread's CPU time when it started.
    cpu0: u64,
}

impl MarkWorker<'_> {
    /// Greys the object `v` points into, if it is a white heap object.
    #[inline]
    fn shade(&mut self, v: Address, grey: &GreyQueue<'_, Address>) {
        if v == 0 {
            return;
        }
        let Some(obj) = self.heap.find_object(v) else { return };
        if self.faults.ignore_interior_pointers && obj.base() != v {
            return;
        }
        if obj.is_allocated() && obj.try_mark() {
            self.stats.objects += 1;
            self.stats.bytes += obj.elem_bytes();
            // Whether it has pointer slots at all is left to `scan`: reading
            // the slot-count metadata here too cost a second cache miss per
            // object (measured: a quarter of `shade`'s samples).
            if !obj.is_noscan() {
                grey.push(obj.base());
            }
        }
    }

    /// Blackens one grey object: shades everything its pointer slots hold.
    #[inline]
    fn scan(&mut self, obj: ObjectRef<'_>, grey: &GreyQueue<'_, Address>) {
        for w in obj.pointer_words() {
            let v = w.load(Ordering::Relaxed);
            if v != 0 {
                self.shade(v, grey);
            }
        }
    }
}

impl GreyWorker for MarkWorker<'_> {
    type Item = Address;
    type Output = MarkStats;

    fn root_task(&mut self, task: usize, grey: &mut GreyQueue<'_, Address>) {
        let (roots, faults, shrink_stacks) = (self.roots, self.faults, self.shrink_stacks);
        let mut visit = |slot: &crate::host::Slot, kind: RootKind| {
            if kind == RootKind::StackBlock && faults.skip_stack_block_slots {
                return;
            }
            self.stats.root_slots += 1;
            self.shade(slot.load(Ordering::Relaxed), grey);
        };
        if task == 0 {
            if !faults.skip_globals {
                roots.scan_globals(&mut visit);
            }
        } else {
            roots.scan_stack(task - 1, shrink_stacks, &mut visit);
        }
    }

    #[inline]
    fn process(&mut self, a: Address, grey: &mut GreyQueue<'_, Address>) {
        #[cfg(test)]
        if self.faults.panic_scanning == Some(a) {
            panic!("mark test: scanning the object at {a:#x} panics");
        }
        let heap = self.heap;
        if let Some(obj) = heap.find_object(a) {
            self.scan(obj, grey);
        }
    }

    fn finish(mut self) -> MarkStats {
        self.stats.cpu_ns = crate::cpu_time::thread_cpu_ns().saturating_sub(self.cpu0);
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::WORD_BYTES;
    use crate::host::RootVisitor;
    use crate::parallel_work::tests::{panic_message, returns_within_bound};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::AtomicU64;

    /// Address space reserved for each test heap.
    const RESERVE_BYTES: u64 = 64 << 20;
    /// Objects of the test heap: a binary tree of 32-byte nodes.
    const NODES: usize = 4000;
    const NODE_BYTES: u64 = 32;

    /// Roots: package-level pointer variables only.
    struct Globals(Vec<AtomicU64>);

    impl RootSet for Globals {
        fn scan_globals(&self, visit: &mut RootVisitor<'_>) {
            for s in &self.0 {
                visit(s, RootKind::Global);
            }
        }
        fn stack_count(&self) -> usize {
            0
        }
        fn scan_stack(&self, _g: usize, _may_shrink: bool, _visit: &mut RootVisitor<'_>) {}
    }

    /// A heap holding a binary tree of [`NODES`] nodes (node `i` points at
    /// `2i + 1` and `2i + 2`), one global pointing at its root; and the
    /// nodes' addresses.
    fn tree() -> (Heap, Globals, Vec<Address>) {
        let heap = Heap::new(RESERVE_BYTES).expect("test heap");
        let mut cache = heap.new_cache();
        let nodes: Vec<Address> = (0..NODES).map(|_| heap.alloc(&mut cache, NODE_BYTES, 2).unwrap()).collect();
        for (i, &a) in nodes.iter().enumerate() {
            for c in 0..2 {
                if let Some(&child) = nodes.get(2 * i + 1 + c) {
                    heap.store(a + c as u64 * WORD_BYTES, child);
                }
            }
        }
        heap.flush_cache(&mut cache);
        let roots = Globals(vec![AtomicU64::new(nodes[0])]);
        (heap, roots, nodes)
    }

    #[test]
    fn two_markers_mark_the_whole_tree() {
        let stats = returns_within_bound("marking", || {
            let (heap, roots, _) = tree();
            ParallelMarker::new(2, "test").mark(&heap, &roots, false, MarkFaults::default())
        });
        assert_eq!((stats.objects, stats.bytes, stats.root_slots), (NODES as u64, NODES as u64 * NODE_BYTES, 1));
    }

    #[test]
    fn a_panicking_marker_reaches_the_caller_instead_of_hanging() {
        // Two markers: whichever scans the middle node panics, and the other
        // is left waiting for it to go idle, which it never does: without
        // the abort this hangs every time.
        let caught = returns_within_bound("marking with a panicking marker", || {
            let (heap, roots, nodes) = tree();
            let marker = ParallelMarker::new(2, "test");
            assert_eq!(marker.workers(), 2);
            let panic_at = nodes[NODES / 2];
            let faults = MarkFaults { panic_scanning: Some(panic_at), ..MarkFaults::default() };
            let caught = catch_unwind(AssertUnwindSafe(|| marker.mark(&heap, &roots, false, faults)));
            (caught.map_err(|p| panic_message(&*p)), panic_at)
        });
        let (caught, panic_at) = caught;
        let message = caught.expect_err("the marker's panic was lost");
        assert_eq!(message, format!("mark test: scanning the object at {panic_at:#x} panics"));
    }
}

//! Marking object by object (Go's classic `greyobject`/`scanobject`, and
//! gcwb's `concurrent` plan): a grey object's base goes on a work list;
//! a marker pops one, reads its pointer slots and greys each white object
//! they point into.
//!
//! A drain keeps the children it greys on its own LIFO stack (Go's per-P
//! `gcWork` buffers), not the shared queue: no contention per object, and
//! no waiting on another thread's half-finished push. Past
//! [`LOCAL_GREY_MAX`] it shares half; what is left when it stops goes back
//! to the shared queue. An object larger than [`OBLET_WORDS`] pointer words
//! is scanned an oblet at a time, the rest pushed back as the address of
//! its next oblet, so a marker polls its stop between oblets.
//!
//! The `greentea` plan keeps this queue for the objects its span queues do
//! not take (large ones, and size classes outside its range).

use super::mark_work::{Drain, Drainer, MarkProgress, MarkWork, OBLET_WORDS};
use crate::collector::GcConfig;
use crate::heap::{Address, Heap, ObjectRef, WORD_BYTES};
use crossbeam_deque::{Injector, Steal};
use std::sync::atomic::Ordering;

/// Grey objects a drain keeps on its own stack before it shares half.
pub const LOCAL_GREY_MAX: usize = 1024;

/// The shared list of grey objects (bases, or oblet addresses).
#[derive(Default)]
pub struct ObjectQueue {
    grey: Injector<Address>,
}

impl ObjectQueue {
    /// Marks `o` if it is allocated and white; returns its bytes if this
    /// call marked it, and whether it has pointer slots to scan.
    #[inline]
    pub fn mark(o: &ObjectRef<'_>) -> Option<(u64, bool)> {
        (o.is_allocated() && o.try_mark()).then(|| (o.elem_bytes(), !o.is_noscan()))
    }

    /// Puts a grey object on the shared list.
    #[inline]
    pub fn push(&self, a: Address) {
        self.grey.push(a);
    }

    /// Takes one grey object from the shared list (`None`: empty).
    #[inline]
    pub fn steal(&self) -> Option<Address> {
        loop {
            match self.grey.steal() {
                Steal::Success(a) => return Some(a),
                Steal::Retry => continue,
                Steal::Empty => return None,
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.grey.is_empty()
    }

    /// Scans the oblet of `o` that starts at `at` (its base, or the first
    /// word of a later oblet), handing each pointer it holds to `shade`;
    /// Returns the scan work (bytes of pointer words read) and the address
    /// of the next oblet, if any, to be scanned later.
    #[inline]
    pub fn scan_oblet(o: &ObjectRef<'_>, at: Address, mut shade: impl FnMut(Address)) -> (u64, Option<Address>) {
        let words = o.pointer_words();
        let from = (((at - o.base()) / WORD_BYTES) as usize).min(words.len());
        let to = words.len().min(from + OBLET_WORDS);
        for w in &words[from..to] {
            shade(w.load(Ordering::Relaxed));
        }
        let rest = (to < words.len()).then(|| o.base() + to as u64 * WORD_BYTES);
        ((to - from) as u64 * WORD_BYTES, rest)
    }

    /// Shares half of `local` once it is past [`LOCAL_GREY_MAX`].
    #[inline]
    pub fn spill(&self, local: &mut Vec<Address>) {
        if local.len() > LOCAL_GREY_MAX {
            for a in local.drain(..LOCAL_GREY_MAX / 2) {
                self.grey.push(a);
            }
        }
    }

    /// Gives all of `local` back to the shared list.
    pub fn give_back(&self, local: Vec<Address>) {
        for a in local {
            self.grey.push(a);
        }
    }
}

/// The `concurrent` plan's marking: everything through one [`ObjectQueue`].
#[derive(Default)]
pub struct ObjectMarking {
    queue: ObjectQueue,
}

impl MarkWork for ObjectMarking {
    const NAME: &'static str = "concurrent";

    fn new(_config: &GcConfig) -> ObjectMarking {
        ObjectMarking::default()
    }

    #[inline]
    fn shade(&self, heap: &Heap, v: Address) -> u64 {
        if v == 0 {
            return 0;
        }
        let Some(o) = heap.find_object(v) else { return 0 };
        let Some((bytes, scan)) = ObjectQueue::mark(&o) else { return 0 };
        if scan {
            self.queue.push(o.base());
        }
        bytes
    }

    fn drain(
        &self,
        heap: &Heap,
        _who: Drainer,
        budget: u64,
        should_yield: &dyn Fn() -> bool,
        progress: &MarkProgress,
    ) -> (u64, bool) {
        let mut local: Vec<Address> = Vec::new();
        let mut d = Drain::new(budget, should_yield, progress);
        while d.go_on() {
            let Some(a) = local.pop().or_else(|| self.queue.steal()) else { break };
            let (mut work, mut marked) = (0, 0);
            if let Some(o) = heap.find_object(a) {
                let rest;
                (work, rest) = ObjectQueue::scan_oblet(&o, a, |v| {
                    if v == 0 {
                        return;
                    }
                    if let Some(c) = heap.find_object(v) {
                        if let Some((bytes, scan)) = ObjectQueue::mark(&c) {
                            marked += bytes;
                            if scan {
                                local.push(c.base());
                            }
                        }
                    }
                });
                local.extend(rest);
            }
            self.queue.spill(&mut local);
            d.done(work, marked);
        }
        self.queue.give_back(local);
        d.finish()
    }

    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

//! The page heap (Go's `mheap` page allocator): which pages of the
//! reservation are free, handed out as runs for new spans.
//!
//! Pages `[0, high_water)` have been handed out at least once; pages above
//! the high-water mark have never been touched and read as zero (fresh from
//! `mmap`), so spans carved from them need no zeroing (`needzero = false`).
//! Released runs are kept coalesced in two ordered indexes: by start page
//! (to merge neighbours on release) and by `(length, start)` (to find a run).
//! A request takes the smallest free run that fits, the lowest-addressed one
//! among equals (address-ordered best fit: O(log n), and in the studies of
//! Johnstone & Wilson as frugal as first fit); only when no run fits does the
//! high-water mark grow — extending a free run that ends at it, if any.
//!
//! Not thread-safe by itself: the heap keeps it behind a mutex, taken only
//! when a span is created or released, never on the allocation fast path.

use std::collections::{BTreeMap, BTreeSet};

/// A run of pages handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) start: u64,
    pub(crate) npages: u64,
    /// Some of its pages were used before and may hold old data.
    pub(crate) needzero: bool,
}

/// Free page runs of one reservation.
#[derive(Debug)]
pub(crate) struct PageHeap {
    /// Pages in the reservation.
    total: u64,
    /// Pages `[0, high_water)` have been handed out at some point.
    high_water: u64,
    /// Free runs: start -> length.
    by_start: BTreeMap<u64, u64>,
    /// Free runs: (length, start).
    by_size: BTreeSet<(u64, u64)>,
    /// Pages in free runs (below the high-water mark).
    free: u64,
}

impl PageHeap {
    pub(crate) fn new(total_pages: u64) -> PageHeap {
        PageHeap { total: total_pages, high_water: 0, by_start: BTreeMap::new(), by_size: BTreeSet::new(), free: 0 }
    }

    /// Pages that can still be handed out (free runs plus never used).
    #[cfg(test)]
    pub(crate) fn available(&self) -> u64 {
        self.free + (self.total - self.high_water)
    }

    /// The high-water mark in pages.
    pub(crate) fn high_water(&self) -> u64 {
        self.high_water
    }

    /// Free runs as `(start page, pages)`, in address order.
    pub(crate) fn free_runs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.by_start.iter().map(|(&s, &n)| (s, n))
    }

    fn remove(&mut self, start: u64, len: u64) {
        self.by_start.remove(&start);
        self.by_size.remove(&(len, start));
        self.free -= len;
    }

    fn insert(&mut self, start: u64, len: u64) {
        self.by_start.insert(start, len);
        self.by_size.insert((len, start));
        self.free += len;
    }

    /// Takes a run of `n >= 1` pages, or `None` if none is left that big.
    pub(crate) fn alloc(&mut self, n: u64) -> Option<Run> {
        debug_assert!(n >= 1);
        if let Some(&(len, start)) = self.by_size.range((n, 0)..).next() {
            self.remove(start, len);
            if len > n {
                self.insert(start + n, len - n);
            }
            return Some(Run { start, npages: n, needzero: true });
        }
        // A free run that ends at the high-water mark can be extended.
        if let Some((&start, &len)) = self.by_start.iter().next_back() {
            if start + len == self.high_water && n - len <= self.total - self.high_water {
                self.remove(start, len);
                self.high_water += n - len;
                return Some(Run { start, npages: n, needzero: true });
            }
        }
        if n <= self.total - self.high_water {
            let start = self.high_water;
            self.high_water += n;
            return Some(Run { start, npages: n, needzero: false });
        }
        None
    }

    /// Returns `n` pages starting at `start`, merging with free neighbours.
    pub(crate) fn free(&mut self, start: u64, n: u64) {
        debug_assert!(n >= 1 && start + n <= self.high_water);
        let (mut s, mut len) = (start, n);
        if let Some((&ps, &pl)) = self.by_start.range(..start).next_back() {
            debug_assert!(ps + pl <= start, "double free of pages {start}..{}", start + n);
            if ps + pl == start {
                self.remove(ps, pl);
                s = ps;
                len += pl;
            }
        }
        if let Some(&nl) = self.by_start.get(&(start + n)) {
            self.remove(start + n, nl);
            len += nl;
        }
        self.insert(s, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_pages_come_from_the_high_water_mark_and_need_no_zeroing() {
        let mut h = PageHeap::new(100);
        assert_eq!(h.alloc(3), Some(Run { start: 0, npages: 3, needzero: false }));
        assert_eq!(h.alloc(2), Some(Run { start: 3, npages: 2, needzero: false }));
        assert_eq!(h.high_water(), 5);
        assert_eq!(h.available(), 95);
    }

    #[test]
    fn freed_runs_coalesce_and_are_reused_before_growing() {
        let mut h = PageHeap::new(100);
        let a = h.alloc(2).unwrap();
        let b = h.alloc(2).unwrap();
        let c = h.alloc(2).unwrap();
        let _d = h.alloc(1).unwrap();
        h.free(a.start, 2);
        h.free(c.start, 2);
        h.free(b.start, 2);
        assert_eq!(h.by_start.len(), 1, "three neighbours merge into one run");
        let e = h.alloc(6).unwrap();
        assert_eq!((e.start, e.needzero), (0, true));
        assert_eq!(h.high_water(), 7);
    }

    #[test]
    fn smallest_fitting_run_is_chosen() {
        let mut h = PageHeap::new(100);
        let runs: Vec<Run> = [5, 1, 3, 1].iter().map(|&n| h.alloc(n).unwrap()).collect();
        h.free(runs[0].start, 5);
        h.free(runs[2].start, 3);
        assert_eq!(h.alloc(3).unwrap().start, runs[2].start);
        assert_eq!(h.alloc(2).unwrap().start, runs[0].start);
        assert_eq!(h.alloc(3).unwrap().start, runs[0].start + 2);
    }

    #[test]
    fn a_run_ending_at_the_high_water_mark_is_extended() {
        let mut h = PageHeap::new(10);
        let _a = h.alloc(4).unwrap();
        let b = h.alloc(4).unwrap();
        h.free(b.start, 4);
        let c = h.alloc(6).unwrap();
        assert_eq!(c, Run { start: 4, npages: 6, needzero: true });
        assert_eq!(h.available(), 0);
        assert_eq!(h.alloc(1), None);
    }

    #[test]
    fn exhaustion_is_reported_not_overrun() {
        let mut h = PageHeap::new(8);
        assert!(h.alloc(9).is_none());
        assert!(h.alloc(8).is_some());
        assert!(h.alloc(1).is_none());
    }
}

//! Package-level pointer variables (`G0 .. Gn-1` in a trace).
//!
//! They live for the whole program and are never collected; each is a root.
//! Stores into them need no write barrier (Go's globals are scanned at every
//! cycle).

use crate::heap::Address;
use crate::host::{RootKind, RootVisitor};
use std::sync::atomic::{AtomicU64, Ordering};

/// The global zone: one pointer slot per package-level variable.
pub struct Globals {
    slots: Box<[AtomicU64]>,
}

impl Globals {
    /// `n` globals, all nil.
    pub fn new(n: usize) -> Globals {
        Globals { slots: (0..n).map(|_| AtomicU64::new(0)).collect() }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Global `k`'s slot.
    pub fn slot(&self, k: usize) -> Option<&AtomicU64> {
        self.slots.get(k)
    }

    pub fn load(&self, k: usize) -> Option<Address> {
        self.slots.get(k).map(|s| s.load(Ordering::Relaxed))
    }

    /// Visits every global slot as a root.
    pub fn scan(&self, visit: &mut RootVisitor<'_>) {
        for s in self.slots.iter() {
            visit(s, RootKind::Global);
        }
    }
}

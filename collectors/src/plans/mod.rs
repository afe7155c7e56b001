//! The collectors, one module each. Each states at its top the algorithm and
//! the invariant it keeps; shared machinery (heap, marking, sweeping) lives
//! outside this folder.

pub mod concurrent;
pub mod generational;
pub mod greentea;
pub mod mark_sweep;
pub mod none;
pub mod sticky;

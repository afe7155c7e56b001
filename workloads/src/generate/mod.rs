//! Workload generators. (being written)

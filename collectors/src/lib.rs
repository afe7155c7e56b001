//! gcwb's collectors: one real heap, a Go-like runtime model, and pluggable
//! garbage collectors behind one trait.
//!
//! This crate knows nothing of traces, files or the command line; any Rust
//! program can drive it. Its parts:
//! - [`heap`]: real memory — Go-like size classes in spans of 8 KiB pages,
//!   per-worker allocation caches, side mark bits, sweeping;
//! - [`host`]: what a collector needs from its program: the [`host::RootSet`]
//!   (globals, and one goroutine stack at a time), stopping the world, and
//!   where to report pauses, cycles and frees;
//! - [`collector`]: the [`collector::Collector`] trait and its capabilities;
//! - [`plan_options`] and [`plan_metrics`]: what a plan declares for
//!   itself — its options (values in [`GcConfig::options`]) and the extra
//!   metrics of its cycles ([`CycleRecord::extra`]) — for whatever drives it
//!   to pick up generically;
//! - [`parallel_work`], [`mark`], [`go_cycle`], [`pacer`] and
//!   [`background`]: what collectors share — the work-stealing loop of
//!   stop-the-world parallel work (marking, evacuation); parallel marking;
//!   Go's concurrent cycle, generic over how grey work is kept and scanned;
//!   Go's heap goal, trigger and assist arithmetic; and how work beside the
//!   mutators is run on the mutators' own workers;
//! - the collectors themselves, one module each (what the generational
//!   ones share in [`generations`]), and [`registry`], which names them
//!   with what each declares;
//! - [`cycle_hooks`]: where a test can hold a concurrent collector between
//!   the steps of its cycle, to drive an interleaving.
pub mod background;
pub mod collector;
pub mod copy_space;
pub mod cpu_time;
pub mod cycle_hooks;
pub mod generations;
pub mod go_cycle;
pub mod heap;
pub mod host;
pub mod mark;
pub mod pacer;
pub mod parallel_work;
pub mod plan_metrics;
pub mod plan_options;
pub mod plans;
pub mod registry;
pub mod runtime;

pub use collector::{Capabilities, Collector, GcConfig, Mutator, PlanState};
pub use heap::{Address, Heap, HeapError, ObjectSink};
pub use host::{CycleRecord, Host, Phase, RootKind, RootSet, Slot, Stopped, Trigger};
pub use plan_metrics::{MetricKind, MetricSpec};
pub use plan_options::{OptionKind, OptionSpec, PlanOptions};

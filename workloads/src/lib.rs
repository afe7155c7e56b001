//! gcwb's trace language: what a Go-like program does, as a replayable trace.
//!
//! The crate knows nothing of heaps or collectors. Its parts:
//! - [`model`]: the in-memory trace (goroutines, frames, allocations with their
//!   Go cause, pointer stores, work, request spans);
//! - [`text`] and [`binary`]: the `.gct` text format v1 and the `.gctb` binary
//!   form, lossless in both directions; [`mod@file`] loads, saves and converts by
//!   extension, atomically;
//! - [`analysis`]: the sequential abstract machine that validates a trace,
//!   decides stack or heap for `auto` blocks (escape analysis), derives the
//!   cross-goroutine dependencies a parallel replay must keep, and computes the
//!   oracle's exact death time of every block;
//! - [`sink`]: [`sink::EventSink`], where every producer of events writes
//!   (parsers, the builder) and what consumes them implements (the analysis,
//!   the writers, [`sink::MemorySink`]);
//! - [`builder`]: the trace builder, which writes sound traces from Rust event
//!   by event, refusing what a Go program could not do, and streams them to a
//!   sink (an in-memory [`model::Trace`], a `.gct` or a `.gctb` file);
//! - [`generate`]: the workload generators and their registry (names,
//!   parameters with ranges, `generate` functions writing through a builder);
//! - [`golang`]: Go source programs as workloads: parsed, type-checked and
//!   run, their allocations placed as Go's compiler places them.
//!
//! Data flows one way: file → codec → [`model::Trace`] → [`analysis`] → the
//! harness, which replays it against a collector.

pub mod analysis;
pub mod binary;
pub mod builder;
pub mod error;
pub mod file;
pub mod generate;
pub mod golang;
pub mod model;
pub mod sink;
pub mod text;

pub use error::{Result, TraceError};
pub use model::{Args, BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, SourcePos, Src, Trace};

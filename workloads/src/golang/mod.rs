//! Go programs as workloads: run a Go source program and record what it
//! does as a gcwb trace.
//!
//! The pipeline, one module each:
//! - [`syntax`]: tree-sitter-go's concrete tree of each file, lowered to
//!   the subset's [`ast`]; anything outside the subset is an error
//!   `file:line:col: not supported: <construct>`, never an approximation;
//! - [`types`]: Go's types as the interpreter lays them out (sizes,
//!   alignment, which words hold pointers);
//! - [`check`]: resolves names and gives every expression its type;
//! - [`sites`]: the allocation sites (each `new`, `&T{}`, `make`, literal,
//!   closure, boxing, concatenation, conversion, `append` and moved-to-heap
//!   variable), each with its Go position and cause;
//! - [`goescape`]: Go's own placement decision per site, from
//!   `go build -gcflags=-m=1` (`--escape go`);
//! - [`interp`]: runs the program and writes each goroutine's frames,
//!   allocations and pointer stores through the trace builder.
//!
//! # The memory model
//!
//! A Go *variable* or allocated object whose pointer words the collector
//! must see is either a frame local of the trace (a variable whose address
//! is never taken: one trace local per pointer word) or a block (anything
//! allocated, and any variable whose address is taken or that a closure
//! captures by reference). Inside a block the pointer words are the block's
//! first slots, in Go's field order; an interior pointer to a field is the
//! block plus the number of pointer words before the field. Sizes are Go's
//! (`unsafe.Sizeof`, rounded by the size classes where Go rounds, as
//! [`crate::generate::gorules`] models them).

pub mod ast;
pub mod error;
pub mod goescape;
pub mod syntax;

pub use error::{GoError, GoErrorKind};

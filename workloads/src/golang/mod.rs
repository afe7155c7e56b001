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
//! - [`escape`]: gcwb's own static escape analysis after Go's rules, a
//!   placement per site without a Go toolchain (`--escape gcwb`);
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
pub mod check;
pub mod error;
pub mod escape;
pub mod goescape;
pub mod interp;
pub mod syntax;
pub mod types;

pub use error::{GoError, GoErrorKind};
pub use interp::{Output, RunSummary};

use crate::model::Placement;
use crate::sink::EventSink;
use std::path::PathBuf;
use std::rc::Rc;

/// Who decides where each allocation site's blocks live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Escape {
    /// gcwb's trace-level escape analysis: every site is `auto`, and a block
    /// stays on its goroutine's stack unless a pointer to it escapes in
    /// this run (see [`crate::analysis`]). Dynamic, so it can keep on the
    /// stack what Go's static analysis cannot prove safe.
    #[default]
    Trace,
    /// Go's own compiler: `go build -gcflags=-m=1` on the program, each
    /// site placed as it says (needs a Go toolchain on the PATH).
    Go,
}

impl Escape {
    pub fn name(self) -> &'static str {
        match self {
            Escape::Trace => "trace",
            Escape::Go => "go",
        }
    }

    pub fn from_name(s: &str) -> Option<Escape> {
        match s {
            "trace" => Some(Escape::Trace),
            "go" => Some(Escape::Go),
            _ => None,
        }
    }
}

/// How to trace a Go program.
#[derive(Clone, Debug, Default)]
pub struct GoTraceOptions {
    pub escape: Escape,
    /// Capture the program's standard output (for tests) instead of
    /// writing it to stderr.
    pub capture_output: bool,
}

/// Parses and checks the program made of `paths`.
pub fn load(paths: &[PathBuf]) -> Result<(Rc<ast::Package>, check::Info), GoError> {
    let pkg = syntax::read_and_parse(paths)?;
    let info = check::check(&pkg)?;
    Ok((Rc::new(pkg), info))
}

/// Runs the Go program made of `paths` and writes its trace into `sink`.
pub fn trace_into(paths: &[PathBuf], opts: &GoTraceOptions, sink: &mut dyn EventSink) -> Result<RunSummary, GoError> {
    let (pkg, info) = load(paths)?;
    let placement: Box<dyn Fn(interp::SiteKind, ast::Pos) -> Placement> = match opts.escape {
        Escape::Trace => Box::new(|_, _| Placement::Auto),
        Escape::Go => {
            return Err(GoError::new(GoErrorKind::Toolchain, "", "--escape go is not available yet"));
        }
    };
    let run_opts = interp::Options {
        placement,
        output: if opts.capture_output { Output::Capture } else { Output::Stderr },
        ..interp::Options::default()
    };
    let (_, summary) = interp::run(pkg, info, run_opts, sink)?;
    Ok(summary)
}

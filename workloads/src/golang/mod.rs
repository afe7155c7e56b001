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
pub mod liveness;
pub mod syntax;
pub mod types;
pub mod visit;

pub use error::{GoError, GoErrorKind};
pub use interp::{Output, RunSummary};

use crate::model::Placement;
use crate::sink::EventSink;
use std::path::PathBuf;
use std::rc::Rc;

/// Who decides where each allocation site's blocks live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Escape {
    /// gcwb's static escape analysis of the source, following Go's rules
    /// (the [`escape`] module): what Go's compiler would decide, without Go.
    #[default]
    Gcwb,
    /// gcwb's trace-level escape analysis: every site is `auto`, and a block
    /// stays on its goroutine's stack unless a pointer to it escapes in
    /// this run (see [`crate::analysis`]). Dynamic, so it can keep on the
    /// stack what Go's static analysis cannot prove safe.
    Trace,
    /// Go's own compiler: `go build -gcflags=-m=1` on the program, each
    /// site placed as it says (needs a Go toolchain on the PATH).
    Go,
}

impl Escape {
    pub fn name(self) -> &'static str {
        match self {
            Escape::Gcwb => "gcwb",
            Escape::Trace => "trace",
            Escape::Go => "go",
        }
    }

    pub fn from_name(s: &str) -> Option<Escape> {
        match s {
            "gcwb" => Some(Escape::Gcwb),
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
    /// End the run with a `Runtime` error `step limit reached` after this
    /// many interpreted steps (statements and expressions).
    pub max_steps: Option<u64>,
}

/// Parses and checks the program made of `paths`.
pub fn load(paths: &[PathBuf]) -> Result<(Rc<ast::Package>, check::Info), GoError> {
    let pkg = syntax::read_and_parse(paths)?;
    let mut info = check::check(&pkg)?;
    info.dead_after = liveness::dead_after(&pkg, &info);
    Ok((Rc::new(pkg), info))
}

/// Runs the Go program made of `paths` and writes its trace into `sink`.
pub fn trace_into(paths: &[PathBuf], opts: &GoTraceOptions, sink: &mut dyn EventSink) -> Result<RunSummary, GoError> {
    let (pkg, info) = load(paths)?;
    let placement: Box<dyn Fn(interp::SiteKind, ast::Pos) -> Placement> = match opts.escape {
        Escape::Trace => Box::new(|_, _| Placement::Auto),
        Escape::Gcwb => {
            let decisions = escape::analyze(&pkg, &info);
            Box::new(move |kind, pos| decisions.placement(kind, pos))
        }
        Escape::Go => {
            let decisions = goescape::run_go_escape(paths)?;
            let files: Vec<String> = pkg.files.iter().map(|f| base_name(&f.name)).collect();
            let table = GoPlacements::new(decisions);
            Box::new(move |kind, pos| table.placement(&files[pos.file as usize], kind, pos))
        }
    };
    let run_opts = interp::Options {
        placement,
        output: if opts.capture_output { Output::Capture } else { Output::Stderr },
        max_steps: opts.max_steps,
        ..interp::Options::default()
    };
    let (_, summary) = interp::run(pkg, info, run_opts, sink)?;
    Ok(summary)
}

/// A path's last component (Go's `-m` output names files by base name).
fn base_name(path: &str) -> String {
    std::path::Path::new(path).file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Go's decisions by position, as `--escape go` places sites.
///
/// A site is matched to Go's line at the same `file:line:col`: `escapes to
/// heap` is the heap, `does not escape` the stack; a variable is on the
/// heap when Go printed `moved to heap: x` at its declaration, else on the
/// stack. Go prints an interface conversion at a neighbouring position
/// (the previous argument, or the call's `(`), so a boxing site with no
/// line of its own takes the first verdict Go printed on its line. gcwb
/// runs every call out of line, so a site inside a function Go inlines takes
/// the verdict Go printed at the site itself (the out-of-line copy's), not
/// the ones printed at each call it was inlined into. A site
/// Go printed nothing for is on the heap, where Go's runtime puts
/// everything its compiler did not place (`append` growth, `make(chan)`).
struct GoPlacements {
    at: std::collections::HashMap<(String, u32, u32), goescape::Verdict>,
    by_line: std::collections::HashMap<(String, u32), goescape::Verdict>,
}

impl GoPlacements {
    fn new(decisions: Vec<goescape::GoDecision>) -> GoPlacements {
        use goescape::Verdict;
        let mut at = std::collections::HashMap::new();
        let mut by_line = std::collections::HashMap::new();
        for d in decisions {
            if !matches!(d.verdict, Verdict::Escapes | Verdict::DoesNotEscape | Verdict::MovedToHeap) {
                continue;
            }
            let file = base_name(&d.file);
            at.entry((file.clone(), d.line, d.col)).or_insert(d.verdict);
            if d.verdict != Verdict::MovedToHeap {
                by_line.entry((file, d.line)).or_insert(d.verdict);
            }
        }
        GoPlacements { at, by_line }
    }

    fn placement(&self, file: &str, kind: interp::SiteKind, pos: ast::Pos) -> Placement {
        use goescape::Verdict;
        let exact = self.at.get(&(file.to_string(), pos.line, pos.col)).copied();
        let verdict = match (kind, exact) {
            (interp::SiteKind::Var, v) => v,
            (_, Some(v)) => Some(v),
            (interp::SiteKind::Iface, None) => self.by_line.get(&(file.to_string(), pos.line)).copied(),
            (_, None) => None,
        };
        match (kind, verdict) {
            (_, Some(Verdict::Escapes | Verdict::MovedToHeap)) => Placement::Heap,
            (_, Some(Verdict::DoesNotEscape)) => Placement::Stack,
            (interp::SiteKind::Var, _) => Placement::Stack,
            _ => Placement::Heap,
        }
    }
}

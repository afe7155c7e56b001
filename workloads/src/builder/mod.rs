//! The trace builder: write sound traces from Rust, streaming.
//!
//! A [`Builder`] tracks what the trace format needs to stay well formed —
//! which goroutines exist and have exited, each goroutine's frames and their
//! number of locals, the globals, block ids, open request spans — and
//! refuses (with a [`BuildError`]) anything a Go program could not do at
//! that point: a local beyond the top frame, a `ret` with no frame, an event
//! on an exited goroutine, a block whose pointer slots do not fit its size,
//! an `end` with no matching `begin`. Locations are the trace's own
//! ([`Loc`]: `l(k)`, `gl(k)`, `.slot(k)`; [`Src`]), so a goroutine reaches
//! blocks only through its locals and the globals, as in Go.
//!
//! What the builder does *not* track is pointer values: that a path's
//! blocks are non-nil and its slot indices in range is the generator's to
//! get right (each generator's tests run its output through
//! [`crate::analysis::analyze`]). That keeps the builder's memory
//! proportional to the live goroutines and frames, not to the trace, so a
//! generator can stream 100 M events to a file.
//!
//! Events go to an [`EventSink`]: [`MemorySink`] (an in-memory [`Trace`]),
//! [`TextSink`] or [`BinarySink`] (written as they come).

use crate::model::{BlockIdx, Cause, Event, GoroutineId, Loc, Placement, Src, Trace};
use std::io::{self, Write};

/// Where a builder's events go.
pub trait EventSink {
    /// Called once, before any event, with the number of globals.
    fn start(&mut self, globals: u32) -> io::Result<()>;
    /// One event; `Alloc` events name blocks densely from `BlockIdx(0)`.
    fn event(&mut self, e: &Event) -> io::Result<()>;
    /// Called once after the last event (flush, write trailers).
    fn end(&mut self) -> io::Result<()>;
}

impl<T: EventSink + ?Sized> EventSink for &mut T {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        (**self).start(globals)
    }
    fn event(&mut self, e: &Event) -> io::Result<()> {
        (**self).event(e)
    }
    fn end(&mut self) -> io::Result<()> {
        (**self).end()
    }
}

/// Collects events into an in-memory [`Trace`].
#[derive(Default)]
pub struct MemorySink {
    trace: Trace,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }
    /// The trace built (block names are the dense indices).
    pub fn into_trace(self) -> Trace {
        todo!()
    }
}

impl EventSink for MemorySink {
    fn start(&mut self, _globals: u32) -> io::Result<()> {
        todo!()
    }
    fn event(&mut self, _e: &Event) -> io::Result<()> {
        todo!()
    }
    fn end(&mut self) -> io::Result<()> {
        todo!()
    }
}

/// Streams events as a text trace (`.gct`).
pub struct TextSink<W: Write> {
    _w: Option<W>,
}

impl<W: Write> TextSink<W> {
    pub fn new(_w: W) -> TextSink<W> {
        todo!()
    }
    /// The writer, after [`EventSink::end`].
    pub fn into_inner(self) -> Option<W> {
        todo!()
    }
}

/// Streams events as a binary trace (`.gctb`).
pub struct BinarySink<W: Write> {
    _w: Option<W>,
}

impl<W: Write> BinarySink<W> {
    pub fn new(_w: W) -> BinarySink<W> {
        todo!()
    }
    pub fn into_inner(self) -> Option<W> {
        todo!()
    }
}

/// Why the builder refused an event, or could not write it.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The event is not something a Go program could do here; the message
    /// names the goroutine, the event number and what was wrong.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Local `k` of the top frame.
pub fn l(k: u32) -> Loc {
    Loc::local(k)
}

/// Global `k`.
pub fn gl(k: u32) -> Loc {
    Loc::global(k)
}

/// An interior pointer `k` slots past where `loc` points (`loc@k`).
pub fn interior(loc: Loc, k: u32) -> Src {
    Src::Interior(loc, k)
}

/// The nil source.
pub const NIL: Src = Src::Nil;

impl From<Loc> for Src {
    fn from(l: Loc) -> Src {
        Src::Loc(l)
    }
}

/// Writes a sound trace event by event. See the module documentation.
pub struct Builder<S: EventSink> {
    _sink: S,
}

impl<S: EventSink> Builder<S> {
    /// A trace with `globals` package-level pointer variables; `g1` (main)
    /// exists with no frames.
    pub fn new(_sink: S, _globals: u32) -> Result<Builder<S>, BuildError> {
        todo!()
    }

    /// The main goroutine.
    pub fn main(&self) -> GoroutineId {
        GoroutineId::MAIN
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        todo!()
    }

    /// Blocks allocated so far.
    pub fn blocks(&self) -> u32 {
        todo!()
    }

    /// Frames on `g`'s stack (0 if it has exited or does not exist).
    pub fn depth(&self, _g: GoroutineId) -> usize {
        todo!()
    }

    /// `call N args`: pushes a frame of `locals` nil locals, filled from
    /// `args` (evaluated in the caller's frame); default frame size.
    pub fn call(&mut self, _g: GoroutineId, _locals: u32, _args: &[Src]) -> Result<(), BuildError> {
        todo!()
    }

    /// `call N BYTES args`: as [`Builder::call`] with an explicit frame size
    /// in bytes (at least 8 per local).
    pub fn call_sized(&mut self, _g: GoroutineId, _locals: u32, _frame_bytes: u64, _args: &[Src]) -> Result<(), BuildError> {
        todo!()
    }

    /// `ret`: pops the top frame.
    pub fn ret(&mut self, _g: GoroutineId) -> Result<(), BuildError> {
        todo!()
    }

    /// `ret SRC DST`: copies `src` (read in the callee) into `dst` (in the
    /// caller), then pops.
    pub fn ret_copy(&mut self, _g: GoroutineId, _src: Src, _dst: Loc) -> Result<(), BuildError> {
        todo!()
    }

    /// `alloc DST bN SIZE SLOTS CAUSE PLACEMENT`; returns the new block's id.
    pub fn alloc(
        &mut self,
        _g: GoroutineId,
        _dst: Loc,
        _size: u64,
        _ptr_slots: u32,
        _cause: Cause,
        _placement: Placement,
    ) -> Result<BlockIdx, BuildError> {
        todo!()
    }

    /// `go gK N args`: starts a new goroutine (the next unused id) with one
    /// frame of `locals` locals filled from the parent's `args`.
    pub fn go(&mut self, _parent: GoroutineId, _locals: u32, _args: &[Src]) -> Result<GoroutineId, BuildError> {
        todo!()
    }

    /// `set DST SRC`.
    pub fn set(&mut self, _g: GoroutineId, _dst: Loc, _src: Src) -> Result<(), BuildError> {
        todo!()
    }

    /// `work NS`.
    pub fn work(&mut self, _g: GoroutineId, _ns: u64) -> Result<(), BuildError> {
        todo!()
    }

    /// `begin TAG`.
    pub fn begin(&mut self, _g: GoroutineId, _tag: &str) -> Result<(), BuildError> {
        todo!()
    }

    /// `end TAG` (must close an open `begin TAG` of `g`).
    pub fn end(&mut self, _g: GoroutineId, _tag: &str) -> Result<(), BuildError> {
        todo!()
    }

    /// `exit`: the goroutine ends.
    pub fn exit(&mut self, _g: GoroutineId) -> Result<(), BuildError> {
        todo!()
    }

    /// `gc`: an explicit `runtime.GC()`.
    pub fn gc(&mut self, _g: GoroutineId) -> Result<(), BuildError> {
        todo!()
    }

    /// Ends the trace and returns the sink.
    pub fn finish(self) -> Result<S, BuildError> {
        todo!()
    }
}

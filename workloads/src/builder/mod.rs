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
//! Events go to an [`EventSink`]: [`MemorySink`] (an in-memory [`Trace`](crate::model::Trace)),
//! [`TextSink`] or [`BinarySink`] (written as they come).

//!
//! Parts: the [`EventSink`] trait and its three sinks; [`BuildError`]; the
//! location shorthands [`l`], [`gl`], [`interior`] and [`NIL`]; the
//! [`Builder`], one method per op of the format.

use crate::binary::BinaryWriter;
use crate::model::{BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, Src, MAX_GLOBALS, WORD_BYTES};
pub use crate::sink::{EventSink, MemorySink};
use crate::text::{check_tag, TextLoc, TextWriter};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};

/// Go's maximum goroutine stack on 64-bit systems, in bytes (`maxstacksize`,
/// runtime/stack.go): a single frame larger than this can never run, and the
/// analysis refuses it.
const MAX_FRAME_BYTES: u64 = 1_000_000_000;

/// A streaming sink's life: the bare writer until `start`, the format's
/// writer until `end`, then the bare writer again.
enum Stream<W, F> {
    Idle(W),
    Writing(F),
    Done(W),
    /// A `start` or `end` failed half-way; the writer is gone.
    Broken,
}

fn not_writing() -> io::Error {
    io::Error::other("event sink used outside start..end (or after a write error)")
}

/// A streaming trace writer a sink can drive: the text or the binary one.
pub trait StreamWriter<W: Write>: Sized {
    /// Starts a trace with `globals` globals on `w` (writes the header).
    fn begin(w: W, globals: u32) -> io::Result<Self>;
    fn write(&mut self, e: &Event) -> io::Result<()>;
    /// Ends the trace and returns the writer.
    fn end(self) -> io::Result<W>;
}

impl<W: Write> StreamWriter<W> for TextWriter<W> {
    fn begin(w: W, globals: u32) -> io::Result<Self> {
        TextWriter::new(w, globals)
    }
    #[inline]
    fn write(&mut self, e: &Event) -> io::Result<()> {
        self.write_event(e)
    }
    fn end(self) -> io::Result<W> {
        self.finish()
    }
}

impl<W: Write> StreamWriter<W> for BinaryWriter<W> {
    fn begin(w: W, globals: u32) -> io::Result<Self> {
        BinaryWriter::new(w, globals)
    }
    #[inline]
    fn write(&mut self, e: &Event) -> io::Result<()> {
        self.write_event(e)
    }
    fn end(self) -> io::Result<W> {
        self.finish()
    }
}

/// Streams events through a [`StreamWriter`] as they come.
pub struct WriterSink<W: Write, F: StreamWriter<W>> {
    state: Stream<W, F>,
}

/// Streams events as a text trace (`.gct`).
pub type TextSink<W> = WriterSink<W, TextWriter<W>>;

/// Streams events as a binary trace (`.gctb`).
pub type BinarySink<W> = WriterSink<W, BinaryWriter<W>>;

impl<W: Write, F: StreamWriter<W>> WriterSink<W, F> {
    pub fn new(w: W) -> WriterSink<W, F> {
        WriterSink { state: Stream::Idle(w) }
    }
    /// The writer, after [`EventSink::end`].
    pub fn into_inner(self) -> Option<W> {
        match self.state {
            Stream::Idle(w) | Stream::Done(w) => Some(w),
            Stream::Writing(_) | Stream::Broken => None,
        }
    }
}

impl<W: Write, F: StreamWriter<W>> EventSink for WriterSink<W, F> {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        match std::mem::replace(&mut self.state, Stream::Broken) {
            Stream::Idle(w) => {
                self.state = Stream::Writing(F::begin(w, globals)?);
                Ok(())
            }
            other => {
                self.state = other;
                Err(not_writing())
            }
        }
    }
    #[inline]
    fn event(&mut self, e: &Event) -> io::Result<()> {
        match &mut self.state {
            Stream::Writing(w) => w.write(e),
            _ => Err(not_writing()),
        }
    }
    fn end(&mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.state, Stream::Broken) {
            Stream::Writing(w) => {
                self.state = Stream::Done(w.end()?);
                Ok(())
            }
            other => {
                self.state = other;
                Err(not_writing())
            }
        }
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

/// What the builder knows of one live goroutine.
#[derive(Default)]
struct GState {
    /// Number of locals of each frame, bottom first.
    frames: Vec<u32>,
    /// Tags of the open spans, oldest first.
    spans: Vec<Box<str>>,
}

/// Hashes goroutine ids (small dense integers) with one multiplication: a
/// bijection on the low bits, well mixed in the high ones.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.0 = u64::from(x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Checks `loc`'s root against a frame of `locals` locals (`None`: no frame)
/// and `globals` globals. The path is the generator's business.
#[inline]
fn check_root(loc: &Loc, locals: Option<u32>, globals: u32, frame: &str) -> Result<(), String> {
    match loc.root {
        Root::Local(k) => match locals {
            None => Err(format!("local l{k}, but there is no {frame} frame")),
            Some(n) if k >= n => Err(format!("local l{k} out of range: the {frame} frame has {n} locals")),
            Some(_) => Ok(()),
        },
        Root::Global(k) if k >= globals => Err(format!("global G{k} out of range: the trace has {globals} globals")),
        Root::Global(_) => Ok(()),
    }
}

#[inline]
fn check_src(src: &Src, locals: Option<u32>, globals: u32, frame: &str) -> Result<(), String> {
    match src {
        Src::Nil => Ok(()),
        Src::Loc(loc) | Src::Interior(loc, _) => check_root(loc, locals, globals, frame),
    }
}

/// Checks a new frame's shape and its arguments (read in a frame of
/// `caller` locals).
fn check_frame(
    locals: u32,
    frame_bytes: Option<u64>,
    args: &[Src],
    caller: Option<u32>,
    globals: u32,
    frame: &str,
) -> Result<(), String> {
    let need = u64::from(locals) * WORD_BYTES;
    if let Some(bytes) = frame_bytes {
        if bytes < need {
            return Err(format!("a frame of {locals} locals needs at least {need} bytes, got {bytes}"));
        }
        if bytes > MAX_FRAME_BYTES {
            return Err(format!("a frame of {bytes} bytes is over Go's {MAX_FRAME_BYTES}-byte stack limit"));
        }
    } else if need + 16 > MAX_FRAME_BYTES {
        return Err(format!("a frame of {locals} locals is over Go's {MAX_FRAME_BYTES}-byte stack limit"));
    }
    if args.len() as u64 > u64::from(locals) {
        return Err(format!("{} arguments for a frame of {locals} locals", args.len()));
    }
    for a in args {
        check_src(a, caller, globals, frame)?;
    }
    Ok(())
}

/// Writes a sound trace event by event. See the module documentation.
///
/// Every method checks the event against what the builder tracks and either
/// writes it to the sink and updates its state, or returns
/// [`BuildError::Invalid`] and changes nothing (the builder stays usable).
pub struct Builder<S: EventSink> {
    sink: S,
    globals: u32,
    /// Events written so far.
    events: u64,
    /// Blocks allocated so far (the next block's index).
    blocks: u32,
    /// The id the next `go` hands out; ids below it not in `live` have exited.
    next_g: u32,
    /// The goroutines that have not exited.
    live: HashMap<u32, GState, BuildHasherDefault<IdHasher>>,
}

impl<S: EventSink> Builder<S> {
    /// A trace with `globals` package-level pointer variables; `g1` (main)
    /// exists with no frames.
    pub fn new(mut sink: S, globals: u32) -> Result<Builder<S>, BuildError> {
        if globals > MAX_GLOBALS {
            return Err(BuildError::Invalid(format!("{globals} globals; gcwb supports at most {MAX_GLOBALS}")));
        }
        sink.start(globals)?;
        let mut live = HashMap::default();
        live.insert(GoroutineId::MAIN.0, GState::default());
        Ok(Builder { sink, globals, events: 0, blocks: 0, next_g: GoroutineId::MAIN.0 + 1, live })
    }

    /// The main goroutine.
    pub fn main(&self) -> GoroutineId {
        GoroutineId::MAIN
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Blocks allocated so far.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// The number of globals.
    pub fn globals(&self) -> u32 {
        self.globals
    }

    /// Frames on `g`'s stack (0 if it has exited or does not exist).
    pub fn depth(&self, g: GoroutineId) -> usize {
        self.live.get(&g.0).map_or(0, |s| s.frames.len())
    }

    /// Locals of `g`'s top frame (`None` if it has no frame, has exited or
    /// does not exist).
    pub fn top_locals(&self, g: GoroutineId) -> Option<u32> {
        self.live.get(&g.0)?.frames.last().copied()
    }

    /// Whether `g` exists and has not exited.
    pub fn is_live(&self, g: GoroutineId) -> bool {
        self.live.contains_key(&g.0)
    }

    /// Goroutines started and not exited (main included, unless it exited).
    pub fn live_goroutines(&self) -> usize {
        self.live.len()
    }

    /// Open spans of `g` (0 if it has exited or does not exist).
    pub fn open_spans(&self, g: GoroutineId) -> usize {
        self.live.get(&g.0).map_or(0, |s| s.spans.len())
    }

    /// The error for event number `events + 1` of `g`.
    #[cold]
    fn invalid(&self, g: GoroutineId, msg: impl std::fmt::Display) -> BuildError {
        BuildError::Invalid(format!("{g}, event {}: {msg}", self.events + 1))
    }

    /// `g`'s state, or the error saying why it cannot act.
    #[inline]
    fn state(&self, g: GoroutineId) -> Result<&GState, BuildError> {
        match self.live.get(&g.0) {
            Some(s) => Ok(s),
            None => Err(self.no_goroutine(g)),
        }
    }

    #[cold]
    fn no_goroutine(&self, g: GoroutineId) -> BuildError {
        if g.0 >= 1 && g.0 < self.next_g {
            self.invalid(g, "the goroutine has exited")
        } else {
            self.invalid(
                g,
                format!("no such goroutine (goroutines are g1 and those `go` started, g2..g{})", self.next_g - 1),
            )
        }
    }

    /// Writes one event of `g`.
    #[inline]
    fn emit(&mut self, g: GoroutineId, op: Op) -> Result<(), BuildError> {
        self.sink.event(&Event { g, op })?;
        self.events += 1;
        Ok(())
    }

    /// `call N args`: pushes a frame of `locals` nil locals, filled from
    /// `args` (evaluated in the caller's frame); default frame size.
    pub fn call(&mut self, g: GoroutineId, locals: u32, args: &[Src]) -> Result<(), BuildError> {
        self.push_frame(g, locals, None, args)
    }

    /// `call N BYTES args`: as [`Builder::call`] with an explicit frame size
    /// in bytes (at least 8 per local).
    pub fn call_sized(
        &mut self,
        g: GoroutineId,
        locals: u32,
        frame_bytes: u64,
        args: &[Src],
    ) -> Result<(), BuildError> {
        self.push_frame(g, locals, Some(frame_bytes), args)
    }

    fn push_frame(
        &mut self,
        g: GoroutineId,
        locals: u32,
        frame_bytes: Option<u64>,
        args: &[Src],
    ) -> Result<(), BuildError> {
        let s = self.state(g)?;
        let caller = s.frames.last().copied();
        if let Err(m) = check_frame(locals, frame_bytes, args, caller, self.globals, "caller's") {
            return Err(self.invalid(g, format_args!("call: {m}")));
        }
        self.emit(g, Op::Call { locals, frame_bytes, args: args.into() })?;
        self.live.get_mut(&g.0).expect("checked above").frames.push(locals);
        Ok(())
    }

    /// `ret`: pops the top frame.
    pub fn ret(&mut self, g: GoroutineId) -> Result<(), BuildError> {
        if self.state(g)?.frames.is_empty() {
            return Err(self.invalid(g, "ret with no frame"));
        }
        self.emit(g, Op::Ret { copy: None })?;
        self.live.get_mut(&g.0).expect("checked above").frames.pop();
        Ok(())
    }

    /// `ret SRC DST`: copies `src` (read in the callee) into `dst` (in the
    /// caller), then pops.
    pub fn ret_copy(&mut self, g: GoroutineId, src: Src, dst: Loc) -> Result<(), BuildError> {
        let s = self.state(g)?;
        let n = s.frames.len();
        if n == 0 {
            return Err(self.invalid(g, "ret with no frame"));
        }
        if n == 1 {
            return Err(
                self.invalid(g, format_args!("ret copies into {}, but there is no caller frame", TextLoc(&dst)))
            );
        }
        let (callee, caller) = (s.frames[n - 1], s.frames[n - 2]);
        if let Err(m) = check_src(&src, Some(callee), self.globals, "returning")
            .and_then(|()| check_root(&dst, Some(caller), self.globals, "caller's"))
        {
            return Err(self.invalid(g, format_args!("ret: {m}")));
        }
        self.emit(g, Op::Ret { copy: Some((src, dst)) })?;
        self.live.get_mut(&g.0).expect("checked above").frames.pop();
        Ok(())
    }

    /// `alloc DST bN SIZE SLOTS CAUSE PLACEMENT`; returns the new block's id.
    pub fn alloc(
        &mut self,
        g: GoroutineId,
        dst: Loc,
        size: u64,
        ptr_slots: u32,
        cause: Cause,
        placement: Placement,
    ) -> Result<BlockIdx, BuildError> {
        let top = self.state(g)?.frames.last().copied();
        if let Err(m) = check_root(&dst, top, self.globals, "top") {
            return Err(self.invalid(g, format_args!("alloc: {m}")));
        }
        if size == 0 {
            return Err(self.invalid(g, "alloc: size 0 (a block has at least 1 byte)"));
        }
        let need = u64::from(ptr_slots) * WORD_BYTES;
        if need > size {
            return Err(self
                .invalid(g, format_args!("alloc: {ptr_slots} pointer slots need {need} bytes, the block is {size}")));
        }
        if placement == Placement::Stack {
            if top.is_none() {
                return Err(self.invalid(g, "alloc: a stack block needs a frame to live in"));
            }
            if size > cause.max_stack_bytes() {
                return Err(self.invalid(
                    g,
                    format_args!(
                        "alloc: a stack block of {size} bytes is over Go's {}-byte limit for `{}`",
                        cause.max_stack_bytes(),
                        cause.name()
                    ),
                ));
            }
        }
        if self.blocks == u32::MAX {
            return Err(self.invalid(g, "alloc: too many blocks (at most 2^32 - 1 in a trace)"));
        }
        let block = BlockIdx(self.blocks);
        self.emit(g, Op::Alloc { dst, block, size, ptr_slots, cause, placement })?;
        self.blocks += 1;
        Ok(block)
    }

    /// `go gK N args`: starts a new goroutine (the next unused id) with one
    /// frame of `locals` locals filled from the parent's `args`.
    pub fn go(&mut self, parent: GoroutineId, locals: u32, args: &[Src]) -> Result<GoroutineId, BuildError> {
        self.spawn(parent, locals, None, args)
    }

    /// `go gK N BYTES args`: as [`Builder::go`] with an explicit frame size.
    pub fn go_sized(
        &mut self,
        parent: GoroutineId,
        locals: u32,
        frame_bytes: u64,
        args: &[Src],
    ) -> Result<GoroutineId, BuildError> {
        self.spawn(parent, locals, Some(frame_bytes), args)
    }

    fn spawn(
        &mut self,
        parent: GoroutineId,
        locals: u32,
        frame_bytes: Option<u64>,
        args: &[Src],
    ) -> Result<GoroutineId, BuildError> {
        let top = self.state(parent)?.frames.last().copied();
        if let Err(m) = check_frame(locals, frame_bytes, args, top, self.globals, "parent's") {
            return Err(self.invalid(parent, format_args!("go: {m}")));
        }
        if self.next_g == u32::MAX {
            return Err(self.invalid(parent, "go: out of goroutine ids"));
        }
        let child = GoroutineId(self.next_g);
        self.emit(parent, Op::Go { child, locals, frame_bytes, args: args.into() })?;
        self.next_g += 1;
        let mut frames = Vec::with_capacity(4);
        frames.push(locals);
        self.live.insert(child.0, GState { frames, spans: Vec::new() });
        Ok(child)
    }

    /// `set DST SRC`.
    pub fn set(&mut self, g: GoroutineId, dst: Loc, src: Src) -> Result<(), BuildError> {
        let top = self.state(g)?.frames.last().copied();
        if let Err(m) =
            check_root(&dst, top, self.globals, "top").and_then(|()| check_src(&src, top, self.globals, "top"))
        {
            return Err(self.invalid(g, format_args!("set: {m}")));
        }
        self.emit(g, Op::Set { dst, src })
    }

    /// `work NS`.
    pub fn work(&mut self, g: GoroutineId, ns: u64) -> Result<(), BuildError> {
        self.state(g)?;
        self.emit(g, Op::Work { ns })
    }

    /// `begin TAG`.
    pub fn begin(&mut self, g: GoroutineId, tag: &str) -> Result<(), BuildError> {
        self.state(g)?;
        if let Err(m) = check_tag(tag) {
            return Err(self.invalid(g, format_args!("begin: {m}")));
        }
        self.emit(g, Op::Begin { tag: tag.to_string() })?;
        self.live.get_mut(&g.0).expect("checked above").spans.push(tag.into());
        Ok(())
    }

    /// `end TAG` (must close an open `begin TAG` of `g`).
    pub fn end(&mut self, g: GoroutineId, tag: &str) -> Result<(), BuildError> {
        let Some(k) = self.state(g)?.spans.iter().rposition(|t| **t == *tag) else {
            return Err(self.invalid(g, format_args!("end {tag} without a matching begin")));
        };
        self.emit(g, Op::End { tag: tag.to_string() })?;
        self.live.get_mut(&g.0).expect("checked above").spans.remove(k);
        Ok(())
    }

    /// `exit`: the goroutine ends.
    pub fn exit(&mut self, g: GoroutineId) -> Result<(), BuildError> {
        self.state(g)?;
        self.emit(g, Op::Exit)?;
        self.live.remove(&g.0);
        Ok(())
    }

    /// `gc`: an explicit `runtime.GC()`.
    pub fn gc(&mut self, g: GoroutineId) -> Result<(), BuildError> {
        self.state(g)?;
        self.emit(g, Op::Gc)
    }

    /// Ends the trace and returns the sink.
    pub fn finish(mut self) -> Result<S, BuildError> {
        self.sink.end()?;
        Ok(self.sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Trace;

    /// A small program using every op, built with the builder.
    fn small_program<S: EventSink>(sink: S) -> Result<S, BuildError> {
        let mut b = Builder::new(sink, 2)?;
        let m = b.main();
        b.call(m, 3, &[])?;
        let b0 = b.alloc(m, l(0), 32, 2, Cause::New, Placement::Heap)?;
        assert_eq!(b0, BlockIdx(0));
        b.set(m, gl(1), l(0).into())?;
        let g2 = b.go(m, 2, &[l(0).into(), NIL])?;
        assert_eq!(g2, GoroutineId(2));
        b.begin(g2, "req/1")?;
        b.alloc(g2, l(1), 16, 0, Cause::MakeSlice, Placement::Auto)?;
        b.set(g2, l(0).slot(1), interior(l(1), 1))?;
        b.call_sized(g2, 1, 64, &[l(0).slot(1).into()])?;
        b.alloc(g2, l(0), 8, 1, Cause::Literal, Placement::Stack)?;
        b.ret_copy(g2, NIL, gl(0))?;
        b.work(g2, 1500)?;
        b.end(g2, "req/1")?;
        b.exit(g2)?;
        b.gc(m)?;
        b.ret(m)?;
        assert_eq!(b.events(), 15);
        assert_eq!(b.blocks(), 3);
        assert_eq!(b.depth(m), 0);
        assert_eq!(b.depth(g2), 0);
        b.finish()
    }

    fn expected() -> Trace {
        let ev = |g: u32, op: Op| Event { g: GoroutineId(g), op };
        let src = |l: Loc| Src::Loc(l);
        Trace {
            globals: 2,
            events: vec![
                ev(1, Op::Call { locals: 3, frame_bytes: None, args: crate::model::Args::new() }),
                ev(
                    1,
                    Op::Alloc {
                        dst: Loc::local(0),
                        block: BlockIdx(0),
                        size: 32,
                        ptr_slots: 2,
                        cause: Cause::New,
                        placement: Placement::Heap,
                    },
                ),
                ev(1, Op::Set { dst: Loc::global(1), src: src(Loc::local(0)) }),
                ev(
                    1,
                    Op::Go {
                        child: GoroutineId(2),
                        locals: 2,
                        frame_bytes: None,
                        args: smallvec::smallvec![src(Loc::local(0)), Src::Nil],
                    },
                ),
                ev(2, Op::Begin { tag: "req/1".into() }),
                ev(
                    2,
                    Op::Alloc {
                        dst: Loc::local(1),
                        block: BlockIdx(1),
                        size: 16,
                        ptr_slots: 0,
                        cause: Cause::MakeSlice,
                        placement: Placement::Auto,
                    },
                ),
                ev(2, Op::Set { dst: Loc::local(0).slot(1), src: Src::Interior(Loc::local(1), 1) }),
                ev(
                    2,
                    Op::Call {
                        locals: 1,
                        frame_bytes: Some(64),
                        args: smallvec::smallvec![src(Loc::local(0).slot(1))],
                    },
                ),
                ev(
                    2,
                    Op::Alloc {
                        dst: Loc::local(0),
                        block: BlockIdx(2),
                        size: 8,
                        ptr_slots: 1,
                        cause: Cause::Literal,
                        placement: Placement::Stack,
                    },
                ),
                ev(2, Op::Ret { copy: Some((Src::Nil, Loc::global(0))) }),
                ev(2, Op::Work { ns: 1500 }),
                ev(2, Op::End { tag: "req/1".into() }),
                ev(2, Op::Exit),
                ev(1, Op::Gc),
                ev(1, Op::Ret { copy: None }),
            ],
            block_names: vec![0, 1, 2],
            positions: vec![],
            source_name: None,
        }
    }

    #[test]
    fn small_program_builds_the_expected_trace() {
        let trace = small_program(MemorySink::new()).unwrap().into_trace();
        assert_eq!(trace, expected());
        crate::analysis::analyze(&trace).expect("the built trace is sound");
    }

    #[test]
    fn text_sink_output_parses_back_to_the_same_events() {
        let out = small_program(TextSink::new(Vec::new())).unwrap().into_inner().unwrap();
        let text = String::from_utf8(out).unwrap();
        let back = crate::text::parse_text(&text, "built.gct").unwrap();
        let want = expected();
        assert_eq!(back.globals, want.globals);
        assert_eq!(back.events, want.events);
        assert_eq!(back.block_names, want.block_names);
    }

    #[test]
    fn binary_sink_output_parses_back_to_the_same_events() {
        let out = small_program(BinarySink::new(Vec::new())).unwrap().into_inner().unwrap();
        let back = crate::binary::parse_binary(&out, "built.gctb").unwrap();
        let want = expected();
        assert_eq!(back.globals, want.globals);
        assert_eq!(back.events, want.events);
        assert_eq!(back.block_names, want.block_names);
    }

    /// A builder with main in a frame of 2 locals, 1 global, and g2 started
    /// (3 events written).
    fn started() -> Builder<MemorySink> {
        let mut b = Builder::new(MemorySink::new(), 1).unwrap();
        b.call(GoroutineId::MAIN, 2, &[]).unwrap();
        b.go(GoroutineId::MAIN, 1, &[]).unwrap();
        b
    }

    /// Asserts `r` is a refusal whose message is exactly `msg`, and that the
    /// refusal wrote nothing.
    fn refused<T: std::fmt::Debug>(b: &Builder<MemorySink>, r: Result<T, BuildError>, msg: &str) {
        match r {
            Err(BuildError::Invalid(m)) => assert_eq!(m, msg),
            other => panic!("expected refusal {msg:?}, got {other:?}"),
        }
        assert_eq!(b.events(), 2, "a refused event is not written");
    }

    const M: GoroutineId = GoroutineId::MAIN;
    const G2: GoroutineId = GoroutineId(2);

    #[test]
    fn local_beyond_the_top_frame_is_refused() {
        let mut b = started();
        let r = b.set(M, l(2), NIL);
        refused(&b, r, "g1, event 3: set: local l2 out of range: the top frame has 2 locals");
        let r = b.set(M, l(0), l(5).slot(0).into());
        refused(&b, r, "g1, event 3: set: local l5 out of range: the top frame has 2 locals");
        let r = b.alloc(G2, l(1), 8, 0, Cause::New, Placement::Heap);
        refused(&b, r, "g2, event 3: alloc: local l1 out of range: the top frame has 1 locals");
    }

    #[test]
    fn path_root_and_interior_sources_are_checked() {
        let mut b = started();
        let r = b.set(M, l(3).slot(0).slot(1), NIL);
        refused(&b, r, "g1, event 3: set: local l3 out of range: the top frame has 2 locals");
        let r = b.set(M, l(0), interior(l(9), 1));
        refused(&b, r, "g1, event 3: set: local l9 out of range: the top frame has 2 locals");
    }

    #[test]
    fn global_beyond_the_declared_ones_is_refused() {
        let mut b = started();
        let r = b.set(M, gl(1), NIL);
        refused(&b, r, "g1, event 3: set: global G1 out of range: the trace has 1 globals");
    }

    #[test]
    fn local_with_no_frame_is_refused() {
        let mut b = Builder::new(MemorySink::new(), 0).unwrap();
        match b.set(M, l(0), NIL) {
            Err(BuildError::Invalid(m)) => {
                assert_eq!(m, "g1, event 1: set: local l0, but there is no top frame")
            }
            other => panic!("{other:?}"),
        }
        match b.call(M, 1, &[l(0).into()]) {
            Err(BuildError::Invalid(m)) => assert!(m.contains("no caller's frame"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn events_of_exited_or_unknown_goroutines_are_refused() {
        let mut b = started();
        b.exit(G2).unwrap();
        let r = b.work(G2, 1);
        match r {
            Err(BuildError::Invalid(m)) => assert_eq!(m, "g2, event 4: the goroutine has exited"),
            other => panic!("{other:?}"),
        }
        match b.work(GoroutineId(7), 1) {
            Err(BuildError::Invalid(m)) => {
                assert!(m.starts_with("g7, event 4: no such goroutine"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(!b.is_live(G2));
        assert_eq!(b.depth(G2), 0);
        assert_eq!(b.go(M, 0, &[]).unwrap(), GoroutineId(3), "ids are never reused");
    }

    #[test]
    fn block_shapes_are_checked() {
        let mut b = started();
        let r = b.alloc(M, l(0), 0, 0, Cause::New, Placement::Heap);
        refused(&b, r, "g1, event 3: alloc: size 0 (a block has at least 1 byte)");
        let r = b.alloc(M, l(0), 16, 3, Cause::New, Placement::Heap);
        refused(&b, r, "g1, event 3: alloc: 3 pointer slots need 24 bytes, the block is 16");
        let r = b.alloc(M, l(0), 70_000, 0, Cause::New, Placement::Stack);
        refused(&b, r, "g1, event 3: alloc: a stack block of 70000 bytes is over Go's 65536-byte limit for `new`");
        assert_eq!(b.blocks(), 0, "refused allocations use no block id");
        assert_eq!(b.alloc(M, l(0), 24, 3, Cause::New, Placement::Heap).unwrap(), BlockIdx(0));
    }

    #[test]
    fn stack_block_needs_a_frame() {
        let mut b = Builder::new(MemorySink::new(), 1).unwrap();
        match b.alloc(M, gl(0), 8, 0, Cause::New, Placement::Stack) {
            Err(BuildError::Invalid(m)) => {
                assert_eq!(m, "g1, event 1: alloc: a stack block needs a frame to live in")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frame_shapes_and_arguments_are_checked() {
        let mut b = started();
        let r = b.call_sized(M, 4, 24, &[]);
        refused(&b, r, "g1, event 3: call: a frame of 4 locals needs at least 32 bytes, got 24");
        let r = b.call(M, 1, &[NIL, NIL]);
        refused(&b, r, "g1, event 3: call: 2 arguments for a frame of 1 locals");
        let r = b.go(M, 1, &[l(2).into()]);
        refused(&b, r, "g1, event 3: go: local l2 out of range: the parent's frame has 2 locals");
        let r = b.go_sized(M, 1, 4, &[]);
        refused(&b, r, "g1, event 3: go: a frame of 1 locals needs at least 8 bytes, got 4");
    }

    #[test]
    fn ret_needs_a_frame_and_ret_copy_a_caller() {
        let mut b = started();
        let r = b.ret_copy(M, NIL, gl(0));
        refused(&b, r, "g1, event 3: ret copies into G0, but there is no caller frame");
        b.call(M, 1, &[]).unwrap();
        // The source is read in the callee (1 local), the destination written in the caller (2).
        let r = b.ret_copy(M, l(1).into(), l(0));
        assert!(
            matches!(r, Err(BuildError::Invalid(m)) if m == "g1, event 4: ret: local l1 out of range: the returning frame has 1 locals")
        );
        let r = b.ret_copy(M, l(0).into(), l(2));
        assert!(
            matches!(r, Err(BuildError::Invalid(m)) if m == "g1, event 4: ret: local l2 out of range: the caller's frame has 2 locals")
        );
        b.ret_copy(M, l(0).into(), l(1)).unwrap();
        b.ret(M).unwrap();
        match b.ret(M) {
            Err(BuildError::Invalid(m)) => assert_eq!(m, "g1, event 6: ret with no frame"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spans_nest_per_goroutine() {
        let mut b = started();
        let r = b.end(M, "a");
        refused(&b, r, "g1, event 3: end a without a matching begin");
        b.begin(M, "a").unwrap();
        let r = b.end(G2, "a");
        assert!(matches!(r, Err(BuildError::Invalid(m)) if m == "g2, event 4: end a without a matching begin"));
        let r = b.begin(M, "two words");
        assert!(matches!(r, Err(BuildError::Invalid(m)) if m.starts_with("g1, event 4: begin: TAG")));
        let r = b.begin(M, "");
        assert!(matches!(r, Err(BuildError::Invalid(m)) if m.starts_with("g1, event 4: begin: empty TAG")));
        b.begin(M, "b").unwrap();
        b.begin(M, "a").unwrap();
        assert_eq!(b.open_spans(M), 3);
        b.end(M, "b").unwrap();
        b.end(M, "a").unwrap();
        b.end(M, "a").unwrap();
        assert_eq!(b.open_spans(M), 0);
    }

    #[test]
    fn too_many_globals_is_refused() {
        assert!(matches!(Builder::new(MemorySink::new(), MAX_GLOBALS + 1), Err(BuildError::Invalid(_))));
    }

    #[test]
    fn sink_errors_are_io_errors() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let r = small_program(TextSink::new(Full));
        assert!(matches!(r, Err(BuildError::Io(e)) if e.kind() == io::ErrorKind::StorageFull));
    }

    /// A million events streamed to `io::sink()`: the builder's state stays
    /// the size of its live goroutines and frames (a few goroutines come and
    /// go, frames are pushed and popped), never the trace's.
    #[test]
    fn a_million_events_stream_in_constant_memory() {
        let mut b = Builder::new(BinarySink::new(io::sink()), 4).unwrap();
        b.call(M, 4, &[]).unwrap();
        let mut workers = Vec::new();
        while b.events() < 1_000_000 {
            let g = b.go(M, 2, &[gl(0).into()]).unwrap();
            workers.push(g);
            for i in 0..50 {
                b.call(g, 3, &[l(0).into()]).unwrap();
                b.alloc(g, l(1), 64, 4, Cause::New, Placement::Auto).unwrap();
                b.set(g, l(1).slot(0), l(0).into()).unwrap();
                b.begin(g, "r").unwrap();
                b.work(g, 10).unwrap();
                b.end(g, "r").unwrap();
                b.ret_copy(g, l(1).into(), gl(i % 4)).unwrap();
            }
            if workers.len() > 3 {
                let old = workers.remove(0);
                b.exit(old).unwrap();
            }
            assert!(b.live_goroutines() <= 5);
        }
        assert!(b.blocks() > 100_000);
        assert!(b.live.len() <= 5 && b.live.values().all(|s| s.frames.len() <= 1 && s.spans.is_empty()));
        b.finish().unwrap();
    }
}

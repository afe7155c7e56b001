//! The binary trace format (`.gctb`): reader and writer.
//!
//! The binary form holds exactly what the text form holds (the round trip
//! text → binary → text is lossless) in about a third of the bytes, and
//! decodes about seven times faster than text parses: no tokenizing, no
//! number parsing, and block names that generators number densely cost one
//! byte. (End to end a load is about twice as fast, because building the
//! in-memory [`Trace`] costs the same either way; see `benches/load.rs`.)
//! Use it for large generated workloads; use text for anything a person
//! writes or reads.
//!
//! Layout (the byte-by-byte reference is `docs/trace-format.md`, "Binary
//! encoding"): the magic `GCTB`, the format version as a little-endian u32,
//! `globals` as an unsigned LEB128 varint, then one record per event — an
//! opcode byte (bit 7 set: a varint goroutine id follows; clear: same
//! goroutine as the previous event) and the op's fields as varints — and a
//! final trailer record (opcode 0) carrying the event count, so a file cut at
//! a record boundary is still detected as truncated.
//!
//! Parts:
//! - [`read_binary`] / [`parse_binary`]: bytes to [`Trace`], every error
//!   naming the byte offset and what was expected;
//! - [`read_binary_into`] / [`parse_binary_into`]: the same, streamed into
//!   any [`EventSink`] event by event; [`read_binary_into`] reads the file in
//!   1 MiB chunks, so neither the file nor its events are ever held whole;
//! - [`write_binary`]: a whole [`Trace`];
//! - [`BinaryWriter`]: the streaming writer generators use;
//! - [`opcode`]: the record opcodes;
//! - `RecordOut`: what the one record decoder writes into, field by field —
//!   owned [`Event`]s for a sink, or (for the run layer) pass 1's hand-off
//!   form ([`crate::analysis::wire`]) with no `Event` in between.
//!
//! The syntactic rules (frame sizes, block shapes, tags, goroutine ids,
//! unique block names) are the text format's, shared from [`crate::text`].

use crate::error::{Result, TraceError};
use crate::model::{
    Args, BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, SourcePos, Src, Trace, FORMAT_VERSION,
};
use crate::sink::{EventSink, MemorySink};
use crate::text::{
    annotate, block_name_for_writing, check_alloc_shape, check_event, check_frame, check_globals, check_goroutine,
    check_tag, named, sink_error, BlockInterner, EventFeed, SinkFeed,
};
use smallvec::SmallVec;
use std::io::{self, Read, Write};

/// The first four bytes of every binary trace.
pub const MAGIC: [u8; 4] = *b"GCTB";

/// Record opcodes: the low 7 bits of a record's first byte.
pub mod opcode {
    /// The last record: the number of event records before it.
    pub const TRAILER: u8 = 0x00;
    /// `call N [ARG...]` with the default frame size.
    pub const CALL: u8 = 0x01;
    /// `call N BYTES [ARG...]`.
    pub const CALL_BYTES: u8 = 0x02;
    /// `ret`.
    pub const RET: u8 = 0x03;
    /// `ret SRC DST`.
    pub const RET_COPY: u8 = 0x04;
    pub const ALLOC: u8 = 0x05;
    /// `go gK N [ARG...]` with the default frame size.
    pub const GO: u8 = 0x06;
    /// `go gK N BYTES [ARG...]`.
    pub const GO_BYTES: u8 = 0x07;
    pub const SET: u8 = 0x08;
    pub const WORK: u8 = 0x09;
    pub const BEGIN: u8 = 0x0a;
    pub const END: u8 = 0x0b;
    pub const EXIT: u8 = 0x0c;
    pub const GC: u8 = 0x0d;
    /// Flag on an event record's opcode byte: a varint goroutine id follows.
    /// Without it the event belongs to the previous event's goroutine (`g1`
    /// for the first event).
    pub const NEW_GOROUTINE: u8 = 0x80;
}

/// Source tags.
pub(crate) const SRC_NIL: u8 = 0;
pub(crate) const SRC_LOC: u8 = 1;
pub(crate) const SRC_INTERIOR: u8 = 2;

/// The encoder flushes to the underlying writer in chunks of this size.
const WRITE_CHUNK_BYTES: usize = 64 * 1024;

/// A placement's code, as binary traces and prepared files store it.
pub(crate) fn placement_code(p: Placement) -> u8 {
    match p {
        Placement::Heap => 0,
        Placement::Stack => 1,
        Placement::Auto => 2,
    }
}

pub(crate) fn placement_from_code(code: u8) -> Option<Placement> {
    match code {
        0 => Some(Placement::Heap),
        1 => Some(Placement::Stack),
        2 => Some(Placement::Auto),
        _ => None,
    }
}

/// Block names are stored as the zigzag-encoded difference from the number
/// of blocks allocated before, so densely numbered names cost one byte.
fn zigzag(delta: u64) -> u64 {
    let d = delta as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag(v: u64) -> u64 {
    ((v >> 1) as i64 ^ -((v & 1) as i64)) as u64
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Encodes records into a byte buffer.
struct Encoder {
    buf: Vec<u8>,
    /// The goroutine of the previous event record.
    prev_g: u32,
    /// Blocks allocated so far (the base of the block-name delta).
    blocks: u64,
    events: u64,
}

impl Encoder {
    /// The header; more globals than a reader takes are refused.
    fn new(globals: u32) -> io::Result<Encoder> {
        check_globals(globals).map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
        let mut enc = Encoder { buf: Vec::with_capacity(WRITE_CHUNK_BYTES + 256), prev_g: 1, blocks: 0, events: 0 };
        enc.buf.extend_from_slice(&MAGIC);
        enc.buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        enc.varint(u64::from(globals));
        Ok(enc)
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn loc(&mut self, loc: &Loc) {
        let head = match loc.root {
            Root::Local(k) => u64::from(k) << 1,
            Root::Global(k) => (u64::from(k) << 1) | 1,
        };
        self.varint(head);
        self.varint(loc.path.len() as u64);
        for &k in &loc.path {
            self.varint(u64::from(k));
        }
    }

    fn src(&mut self, src: &Src) {
        match src {
            Src::Nil => self.buf.push(SRC_NIL),
            Src::Loc(loc) => {
                self.buf.push(SRC_LOC);
                self.loc(loc);
            }
            Src::Interior(loc, k) => {
                self.buf.push(SRC_INTERIOR);
                self.loc(loc);
                self.varint(u64::from(*k));
            }
        }
    }

    fn frame(&mut self, locals: u32, frame_bytes: Option<u64>, args: &[Src]) {
        self.varint(u64::from(locals));
        if let Some(bytes) = frame_bytes {
            self.varint(bytes);
        }
        self.varint(args.len() as u64);
        for a in args {
            self.src(a);
        }
    }

    fn string(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Encodes one event; `block_name` is used for `alloc`. Nothing is
    /// written when the event breaks a rule of the format.
    fn event(&mut self, e: &Event, block_name: u64) -> io::Result<()> {
        check_event(e).map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
        let code = match &e.op {
            Op::Call { frame_bytes: None, .. } => opcode::CALL,
            Op::Call { frame_bytes: Some(_), .. } => opcode::CALL_BYTES,
            Op::Ret { copy: None } => opcode::RET,
            Op::Ret { copy: Some(_) } => opcode::RET_COPY,
            Op::Alloc { .. } => opcode::ALLOC,
            Op::Go { frame_bytes: None, .. } => opcode::GO,
            Op::Go { frame_bytes: Some(_), .. } => opcode::GO_BYTES,
            Op::Set { .. } => opcode::SET,
            Op::Work { .. } => opcode::WORK,
            Op::Begin { .. } => opcode::BEGIN,
            Op::End { .. } => opcode::END,
            Op::Exit => opcode::EXIT,
            Op::Gc => opcode::GC,
        };
        if e.g.0 == self.prev_g {
            self.buf.push(code);
        } else {
            self.buf.push(code | opcode::NEW_GOROUTINE);
            self.varint(u64::from(e.g.0));
            self.prev_g = e.g.0;
        }
        match &e.op {
            Op::Call { locals, frame_bytes, args } => self.frame(*locals, *frame_bytes, args),
            Op::Ret { copy: None } | Op::Exit | Op::Gc => {}
            Op::Ret { copy: Some((src, dst)) } => {
                self.src(src);
                self.loc(dst);
            }
            Op::Alloc { dst, size, ptr_slots, cause, placement, .. } => {
                self.loc(dst);
                self.varint(zigzag(block_name.wrapping_sub(self.blocks)));
                self.blocks += 1;
                self.varint(*size);
                self.varint(u64::from(*ptr_slots));
                self.buf.push(cause.index() as u8);
                self.buf.push(placement_code(*placement));
            }
            Op::Go { child, locals, frame_bytes, args } => {
                self.varint(u64::from(child.0));
                self.frame(*locals, *frame_bytes, args);
            }
            Op::Set { dst, src } => {
                self.loc(dst);
                self.src(src);
            }
            Op::Work { ns } => self.varint(*ns),
            Op::Begin { tag } | Op::End { tag } => self.string(tag),
        }
        self.events += 1;
        Ok(())
    }

    fn trailer(&mut self) {
        self.buf.push(opcode::TRAILER);
        self.varint(self.events);
    }

    /// Hands full chunks to `w`.
    #[inline]
    fn drain_if_full<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.buf.len() >= WRITE_CHUNK_BYTES {
            w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Writes `trace` as a binary trace, block names from [`Trace::block_names`]
/// (or the block indices when the trace has no names).
///
/// An event the format cannot express is an [`io::ErrorKind::InvalidInput`]
/// error naming the event.
pub fn write_binary<W: Write>(trace: &Trace, mut w: W) -> io::Result<()> {
    let mut enc = Encoder::new(trace.globals)?;
    for (i, e) in trace.events.iter().enumerate() {
        let name = match &e.op {
            Op::Alloc { block, .. } => block_name_for_writing(trace, *block, i)?,
            _ => 0,
        };
        enc.event(e, name).map_err(|err| annotate(err, trace, i))?;
        enc.drain_if_full(&mut w)?;
    }
    enc.trailer();
    w.write_all(&enc.buf)?;
    w.flush()
}

/// A streaming binary writer: the header on [`BinaryWriter::new`], one record
/// per [`BinaryWriter::write_event`], the trailer on [`BinaryWriter::finish`]
/// (a writer dropped without `finish` leaves a file every reader rejects as
/// truncated). Block
/// [`BlockIdx`]`(i)` gets the name `i`.
pub struct BinaryWriter<W: Write> {
    out: W,
    enc: Encoder,
}

impl<W: Write> BinaryWriter<W> {
    /// Starts a trace with `globals` package-level pointer variables.
    pub fn new(w: W, globals: u32) -> io::Result<Self> {
        Ok(BinaryWriter { out: w, enc: Encoder::new(globals)? })
    }

    /// Writes one event record; an event the format cannot express is an
    /// [`io::ErrorKind::InvalidInput`] error.
    pub fn write_event(&mut self, e: &Event) -> io::Result<()> {
        let name = match &e.op {
            Op::Alloc { block, .. } => u64::from(block.0),
            _ => 0,
        };
        self.enc.event(e, name).map_err(|err| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("event {}: {err}", self.enc.events + 1))
        })?;
        self.enc.drain_if_full(&mut self.out)
    }

    /// Writes the trailer, flushes, and hands back the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.enc.trailer();
        self.out.write_all(&self.enc.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// The streaming readers read their input in chunks of this size.
pub(crate) const READ_CHUNK_BYTES: usize = 1 << 20;

/// Reads a binary trace from `r`, in chunks (the file is never held whole);
/// `file` names it in errors and becomes [`Trace::source_name`].
///
/// Errors are [`parse_binary`]'s, at the same byte offsets; read failures
/// are [`TraceError::Io`].
pub fn read_binary<R: Read>(r: R, file: &str) -> Result<Trace> {
    let mut sink = MemorySink::new();
    read_binary_feed(r, file, &mut sink, READ_CHUNK_BYTES)?;
    Ok(named(sink, file))
}

/// Reads a binary trace from `r` and streams it into `sink`, holding one
/// 1 MiB chunk of the file (more only for a record longer than that) and
/// one event: [`EventSink::start`] once after the header, then for every
/// event record [`EventSink::source`] (its byte offset, and for an `alloc`
/// the block's name) followed by [`EventSink::event`], then, once the
/// trailer's event count and the end of the file are checked,
/// [`EventSink::end`].
///
/// Errors are [`parse_binary`]'s, at the same byte offsets. A sink's
/// [`io::Error`] stops the decoding and becomes [`TraceError::Io`] naming
/// `file` — except one that wraps a [`TraceError`] (made with
/// `io::Error::other(trace_error)`, e.g. by a sink that checks the events as
/// they come), which is returned as it is. On any error `end` is not called
/// and the sink holds the events before it (a truncated file is detected
/// only at its end, after all its complete records were delivered).
pub fn read_binary_into<R: Read, S: EventSink + ?Sized>(r: R, file: &str, sink: &mut S) -> Result<()> {
    read_binary_feed(r, file, &mut SinkFeed(sink), READ_CHUNK_BYTES)
}

/// [`read_binary_into`] for any [`RecordOut`], reading `chunk` bytes at a
/// time (at least 1).
pub(crate) fn read_binary_out<R: Read, O: RecordOut>(r: R, file: &str, out: &mut O, chunk: usize) -> Result<()> {
    decode(&mut ReadInput::new(r, chunk), file, out)
}

/// Decodes a binary trace held in memory; see [`read_binary`].
///
/// Every malformed input is a [`TraceError::Invalid`] naming `file`, the
/// byte offset of the offending field and what was expected; no input makes
/// it panic.
pub fn parse_binary(bytes: &[u8], file: &str) -> Result<Trace> {
    let mut sink = MemorySink::new();
    // Records are rarely shorter than 4 bytes. A high guess costs only
    // address space (untouched pages are never mapped in); shrinking the
    // vectors afterwards would cost more than it saves.
    sink.reserve(bytes.len() / 4, true);
    decode(&mut SliceInput(bytes), file, &mut Events(&mut sink))?;
    Ok(named(sink, file))
}

/// Decodes a binary trace held in memory into `sink`; see
/// [`read_binary_into`].
pub fn parse_binary_into<S: EventSink + ?Sized>(bytes: &[u8], file: &str, sink: &mut S) -> Result<()> {
    decode(&mut SliceInput(bytes), file, &mut Events(&mut SinkFeed(sink)))
}

/// [`read_binary_into`] for any [`EventFeed`], reading `chunk` bytes at a
/// time (at least 1).
pub(crate) fn read_binary_feed<R: Read, F: EventFeed + ?Sized>(
    r: R,
    file: &str,
    feed: &mut F,
    chunk: usize,
) -> Result<()> {
    decode(&mut ReadInput::new(r, chunk), file, &mut Events(feed))
}

/// The bytes the decoder works on: the whole file ([`SliceInput`]), or a
/// window of it that is refilled from a reader ([`ReadInput`]).
trait Input {
    /// The bytes in hand.
    fn bytes(&self) -> &[u8];
    /// The file offset of `bytes()[0]`.
    fn base(&self) -> u64;
    /// `bytes()` runs to the end of the file.
    fn eof(&self) -> bool;
    /// Drops the bytes before `keep` (which becomes index 0) and reads more
    /// after the rest; reaching the end of the file sets [`Input::eof`].
    fn refill(&mut self, keep: usize) -> io::Result<()>;
    /// How many bytes the file holds from `bytes()[from]` on (reading to its
    /// end).
    fn count_from(&mut self, from: usize) -> io::Result<u64>;
}

/// A whole file in memory: never needs a refill.
struct SliceInput<'a>(&'a [u8]);

impl Input for SliceInput<'_> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.0
    }
    #[inline]
    fn base(&self) -> u64 {
        0
    }
    #[inline]
    fn eof(&self) -> bool {
        true
    }
    fn refill(&mut self, _keep: usize) -> io::Result<()> {
        Ok(()) // not called: the decoder asks for more only before the end of the file
    }
    fn count_from(&mut self, from: usize) -> io::Result<u64> {
        Ok(self.0.len().saturating_sub(from) as u64)
    }
}

/// A window on a reader: the unread bytes of the current chunk.
struct ReadInput<R> {
    r: R,
    buf: Vec<u8>,
    base: u64,
    eof: bool,
    /// Bytes to read per refill (more when a record is longer).
    chunk: usize,
}

impl<R: Read> ReadInput<R> {
    fn new(r: R, chunk: usize) -> ReadInput<R> {
        ReadInput { r, buf: Vec::new(), base: 0, eof: false, chunk: chunk.max(1) }
    }
}

impl<R: Read> Input for ReadInput<R> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.buf
    }
    #[inline]
    fn base(&self) -> u64 {
        self.base
    }
    #[inline]
    fn eof(&self) -> bool {
        self.eof
    }

    /// Keeps the unfinished record and reads a chunk after it — or, when the
    /// record is already longer than a chunk, as many bytes again as it has,
    /// so that a long record is decoded a logarithmic number of times.
    fn refill(&mut self, keep: usize) -> io::Result<()> {
        let keep = keep.min(self.buf.len());
        self.buf.drain(..keep);
        self.base += keep as u64;
        let mut filled = self.buf.len();
        let target = filled + self.chunk.max(filled);
        self.buf.resize(target, 0);
        while filled < target {
            match self.r.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }

    fn count_from(&mut self, from: usize) -> io::Result<u64> {
        let mut n = self.buf.len().saturating_sub(from) as u64;
        while !self.eof {
            self.refill(self.buf.len())?;
            n += self.buf.len() as u64;
        }
        Ok(n)
    }
}

/// What the record decoder carries from one record to the next.
struct Records {
    /// The goroutine of the previous event record.
    g: u32,
    /// Event records decoded.
    events: u64,
    blocks: BlockInterner,
}

/// Decodes the header, the records and the trailer of `input` into `feed`.
///
/// The header and each record are decoded from the bytes in hand; when one
/// runs past their end before the end of the file it stops with
/// [`Stop::NeedMore`], and is decoded again from its first byte once
/// [`Input::refill`] has read more. Neither changes anything until it
/// succeeds, so decoding one again is decoding it once.
fn decode<I: Input + ?Sized, O: RecordOut>(input: &mut I, file: &str, feed: &mut O) -> Result<()> {
    let io_error = |e| TraceError::io(file, e);
    let (globals, mut pos) = loop {
        let mut d = Decoder::new(input, file, 0, "header");
        match d.header() {
            Ok(globals) => break (globals, d.pos),
            Err(Stop::Invalid(e)) => return Err(*e),
            Err(Stop::NeedMore) => input.refill(0).map_err(io_error)?,
        }
    };
    feed.start(globals).map_err(|e| sink_error(file, e))?;
    let mut records = Records { g: GoroutineId::MAIN.0, events: 0, blocks: BlockInterner::default() };
    // One decoder per window of bytes in hand, for all the records it holds.
    let end = 'window: loop {
        let mut d = Decoder::new(input, file, pos, "event");
        loop {
            match d.record(&mut records, feed) {
                Ok(Some((at, block_name, event))) => {
                    feed.push(SourcePos::Offset(at), block_name, event).map_err(|e| sink_error(file, e))?
                }
                Ok(None) => break 'window d.pos,
                Err(Stop::Invalid(e)) => {
                    feed.abandon();
                    return Err(*e);
                }
                Err(Stop::NeedMore) => {
                    feed.abandon();
                    break;
                }
            }
        }
        let keep = d.record_start;
        input.refill(keep).map_err(io_error)?;
        pos = 0;
    };
    let at = input.base() + end as u64;
    let trailing = input.count_from(end).map_err(io_error)?;
    if trailing > 0 {
        return Err(TraceError::invalid(
            file,
            SourcePos::Offset(at),
            format!("{trailing} unexpected bytes after the trailer record (expected the end of the file)"),
        ));
    }
    feed.end().map_err(|e| sink_error(file, e))
}

/// A decoded event record: its file offset, its block's name for an
/// `alloc`, and the event as the output built it.
type Record<E> = (u64, Option<u64>, E);

/// Why a decoding step stopped short.
enum Stop {
    /// The input is malformed: the error names where and why. Boxed so that
    /// `Decoded<u64>` stays two words and decoding a field costs no more
    /// than reading it.
    Invalid(Box<TraceError>),
    /// The bytes in hand end inside the step, and the file goes on.
    NeedMore,
}

/// The decoder's results.
type Decoded<T> = std::result::Result<T, Stop>;

/// A cursor over the bytes in hand, with the record being decoded for
/// messages. Positions are indices into `buf`; messages add `base`.
struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    /// `buf` runs to the end of the file: running past it is an error, not
    /// a [`Stop::NeedMore`].
    eof: bool,
    file: &'a str,
    record_start: usize,
    /// The op of the record being decoded (`header`, `trailer`, ...).
    record: &'static str,
}

impl<'a> Decoder<'a> {
    /// A decoder at `pos` in the bytes `input` has in hand.
    #[inline]
    fn new<I: Input + ?Sized>(input: &'a I, file: &'a str, pos: usize, record: &'static str) -> Decoder<'a> {
        Decoder { buf: input.bytes(), pos, base: input.base(), eof: input.eof(), file, record_start: pos, record }
    }

    #[cold]
    #[inline(never)]
    fn invalid_at(&self, at: usize, msg: String) -> Stop {
        Stop::Invalid(Box::new(TraceError::invalid(self.file, SourcePos::Offset(self.base + at as u64), msg)))
    }

    /// The bytes in hand end before `what`: more are needed, or, at the end
    /// of the file, the file is truncated.
    #[cold]
    #[inline(never)]
    fn truncated(&self, what: &str) -> Stop {
        if !self.eof {
            return Stop::NeedMore;
        }
        let msg = if self.record == "header" {
            format!("file ends inside the header (expected {what}; truncated?)")
        } else {
            format!(
                "file ends inside the {} record that starts at byte offset {} (expected {what}; truncated?)",
                self.record,
                self.base + self.record_start as u64
            )
        };
        self.invalid_at(self.buf.len(), msg)
    }

    /// Magic, version, globals. (The header is the first step, so `buf`
    /// starts at the start of the file.)
    fn header(&mut self) -> Decoded<u32> {
        const TEXT_HEADER: &[u8] = b"gctrace";
        let n = self.buf.len().min(MAGIC.len());
        if self.buf[..n] != MAGIC[..n] {
            if !self.eof && self.buf.len() < TEXT_HEADER.len() && TEXT_HEADER.starts_with(self.buf) {
                return Err(Stop::NeedMore); // enough to tell whether it is a text trace
            }
            let hint = if self.buf.starts_with(TEXT_HEADER) {
                " (this looks like a text trace: text traces are named *.gct)"
            } else {
                ""
            };
            return Err(self.invalid_at(0, format!("not a gcwb binary trace (expected magic GCTB){hint}")));
        }
        if n < MAGIC.len() {
            return Err(self.truncated("magic GCTB"));
        }
        self.pos = MAGIC.len();
        let Some(version) = self.buf.get(4..8) else {
            return Err(self.truncated("the format version, a little-endian u32"));
        };
        let version = u32::from_le_bytes(version.try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(self.invalid_at(
                4,
                format!("unsupported binary trace version {version} (this gcwb reads version {FORMAT_VERSION})"),
            ));
        }
        self.pos = 8;
        let globals = self.varint_u32("globals")?;
        check_globals(globals).map_err(|msg| self.invalid_at(8, msg))?;
        Ok(globals)
    }

    /// One record: an event (its file offset, its block name for an `alloc`,
    /// the event), or `None` for the trailer (its count checked against
    /// `records`; what follows it is the caller's to check). Always inlined:
    /// the event it returns is then built where the feed takes it.
    #[inline(always)]
    fn record<O: RecordOut>(&mut self, records: &mut Records, out: &mut O) -> Decoded<Option<Record<O::Event>>> {
        let start = self.pos;
        self.record_start = start;
        let Some(&first) = self.buf.get(start) else {
            return Err(self.missing_trailer(records.events));
        };
        self.pos += 1;
        let code = first & !opcode::NEW_GOROUTINE;
        if first == opcode::TRAILER {
            self.record = "trailer";
            self.trailer(records.events)?;
            return Ok(None);
        }
        self.record = match code {
            opcode::CALL | opcode::CALL_BYTES => "call",
            opcode::RET | opcode::RET_COPY => "ret",
            opcode::ALLOC => "alloc",
            opcode::GO | opcode::GO_BYTES => "go",
            opcode::SET => "set",
            opcode::WORK => "work",
            opcode::BEGIN => "begin",
            opcode::END => "end",
            opcode::EXIT => "exit",
            opcode::GC => "gc",
            _ => {
                return Err(self.invalid_at(
                    start,
                    format!(
                        "unknown opcode 0x{first:02x} (expected 0x00 for the trailer or 0x01 to 0x0d for an event, \
                         plus 0x80 when a goroutine id follows)"
                    ),
                ))
            }
        };
        let at = self.base + start as u64;
        let mut g = records.g;
        if first & opcode::NEW_GOROUTINE != 0 {
            let at = self.pos;
            g = self.varint_u32("goroutine id")?;
            check_goroutine(g).map_err(|msg| self.invalid_at(at, msg))?;
        }
        out.head(code, g);
        let mut block_name = None;
        let op = match code {
            opcode::CALL | opcode::CALL_BYTES => {
                let (locals, frame_bytes, args) = self.frame(out, None, code == opcode::CALL_BYTES)?;
                RecordOp::Call { locals, frame_bytes, args }
            }
            opcode::RET => RecordOp::Ret { copy: None },
            opcode::RET_COPY => {
                let src = self.src(out, "SRC")?;
                let dst = self.loc(out, "DST")?;
                RecordOp::Ret { copy: Some((src, dst)) }
            }
            opcode::ALLOC => {
                let dst = self.loc(out, "DST")?;
                let name_at = self.pos;
                let delta = self.varint("block name")?;
                let name = (records.blocks.len() as u64).wrapping_add(unzigzag(delta));
                let size = self.varint("SIZE")?;
                let ptr_slots = self.varint_u32("SLOTS")?;
                let cause_at = self.pos;
                let cause_code = self.byte("CAUSE")?;
                let cause = *Cause::ALL.get(usize::from(cause_code)).ok_or_else(|| {
                    self.invalid_at(
                        cause_at,
                        format!(
                            "unknown cause {cause_code} (expected 0 to {}, the causes in the order of \
                             docs/trace-format.md)",
                            Cause::ALL.len() - 1
                        ),
                    )
                })?;
                let placement_at = self.pos;
                let placement_code = self.byte("PLACEMENT")?;
                let placement = placement_from_code(placement_code).ok_or_else(|| {
                    self.invalid_at(
                        placement_at,
                        format!("unknown placement {placement_code} (expected 0 heap, 1 stack or 2 auto)"),
                    )
                })?;
                check_alloc_shape(size, ptr_slots).map_err(|msg| self.invalid_at(start, msg))?;
                // The last thing the record does, so a record decoded again
                // after a refill never interns its block twice.
                let block = records.blocks.intern(name, at).map_err(|first| {
                    self.invalid_at(
                        name_at,
                        format!(
                            "block b{name} is allocated twice (first at {}); block names must be unique",
                            SourcePos::Offset(first)
                        ),
                    )
                })?;
                block_name = Some(name);
                RecordOp::Alloc { dst, block, size, ptr_slots, cause, placement }
            }
            opcode::GO | opcode::GO_BYTES => {
                let at = self.pos;
                let child = self.varint_u32("child goroutine id")?;
                check_goroutine(child).map_err(|msg| self.invalid_at(at, msg))?;
                let (locals, frame_bytes, args) = self.frame(out, Some(child), code == opcode::GO_BYTES)?;
                RecordOp::Go { child, locals, frame_bytes, args }
            }
            opcode::SET => {
                let dst = self.loc(out, "DST")?;
                let src = self.src(out, "SRC")?;
                RecordOp::Set { dst, src }
            }
            opcode::WORK => RecordOp::Work { ns: self.varint("NS")? },
            opcode::BEGIN => RecordOp::Begin { tag: self.tag()? },
            opcode::END => RecordOp::End { tag: self.tag()? },
            opcode::EXIT => RecordOp::Exit,
            _ => RecordOp::Gc,
        };
        records.g = g;
        records.events += 1;
        Ok(Some((at, block_name, out.op(g, op))))
    }

    /// The bytes end where a record should start.
    #[cold]
    #[inline(never)]
    fn missing_trailer(&self, events: u64) -> Stop {
        if !self.eof {
            return Stop::NeedMore;
        }
        self.invalid_at(
            self.pos,
            format!(
                "file ends after {events} events without the trailer record (truncated? a complete trace ends with \
                 opcode 0x00 and the event count)"
            ),
        )
    }

    /// The trailer's count (what follows is the caller's to check).
    fn trailer(&mut self, events: u64) -> Decoded<()> {
        let at = self.pos;
        let count = self.varint("event count")?;
        if count != events {
            return Err(self.invalid_at(
                at,
                format!("the trailer says {count} events but the file holds {events} (corrupt or spliced file)"),
            ));
        }
        Ok(())
    }

    #[inline]
    fn byte(&mut self, what: &str) -> Decoded<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.truncated(what)),
        }
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    #[inline]
    fn varint(&mut self, what: &str) -> Decoded<u64> {
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long(what)
    }

    #[inline(never)]
    fn varint_long(&mut self, what: &str) -> Decoded<u64> {
        let start = self.pos;
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.truncated(what));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.invalid_at(start, format!("the varint for {what} does not fit in 64 bits")));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A varint that must fit in a u32.
    #[inline]
    fn varint_u32(&mut self, what: &str) -> Decoded<u32> {
        let at = self.pos;
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| self.invalid_at(at, format!("{what} {v} is too large (at most {})", u32::MAX)))
    }

    /// Root (index * 2 + 1 for globals), path length, path.
    #[inline]
    fn loc<O: RecordOut>(&mut self, out: &mut O, what: &str) -> Decoded<O::Loc> {
        let at = self.pos;
        let head = self.varint(what)?;
        let index = u32::try_from(head >> 1).map_err(|_| {
            self.invalid_at(at, format!("the index of {what} is too large ({} > {})", head >> 1, u32::MAX))
        })?;
        let root = if head & 1 == 0 { Root::Local(index) } else { Root::Global(index) };
        let len = self.varint("the path length of a location")?;
        let mut loc = out.loc_start(root, len);
        for _ in 0..len {
            let k = self.varint_u32("a slot of a location path")?;
            out.loc_step(&mut loc, k);
        }
        Ok(loc)
    }

    #[inline]
    fn src<O: RecordOut>(&mut self, out: &mut O, what: &str) -> Decoded<O::Src> {
        let at = self.pos;
        match self.byte(what)? {
            SRC_NIL => {
                out.src_tag(SRC_NIL);
                Ok(out.src_nil())
            }
            SRC_LOC => {
                out.src_tag(SRC_LOC);
                let loc = self.loc(out, what)?;
                Ok(out.src_loc(loc))
            }
            SRC_INTERIOR => {
                out.src_tag(SRC_INTERIOR);
                let loc = self.loc(out, what)?;
                let k = self.varint_u32("the interior offset K")?;
                Ok(out.src_interior(loc, k))
            }
            tag => Err(self.invalid_at(
                at,
                format!("unknown source tag {tag} for {what} (expected 0 nil, 1 location or 2 interior pointer)"),
            )),
        }
    }

    /// `locals [bytes] nargs args...` of `call` and `go` (`go`'s `child`
    /// already decoded).
    fn frame<O: RecordOut>(
        &mut self,
        out: &mut O,
        child: Option<u32>,
        with_bytes: bool,
    ) -> Decoded<(u32, Option<u64>, O::Args)> {
        let locals = self.varint_u32("N")?;
        let frame_bytes = if with_bytes { Some(self.varint("BYTES")?) } else { None };
        let nargs = self.varint("the argument count")?;
        let nargs = usize::try_from(nargs).unwrap_or(usize::MAX);
        check_frame(locals, frame_bytes, nargs).map_err(|msg| self.invalid_at(self.record_start, msg))?;
        // Each argument takes at least one byte: never reserve more than that.
        let mut args = out.frame_start(child, locals, frame_bytes, nargs, nargs.min(self.buf.len() - self.pos));
        for _ in 0..nargs {
            let a = self.src(out, "ARG")?;
            out.arg(&mut args, a);
        }
        out.frame_end(&mut args);
        Ok((locals, frame_bytes, args))
    }

    /// A span tag: varint length, UTF-8 bytes.
    fn tag(&mut self) -> Decoded<&'a str> {
        let len = self.varint("the TAG length")?;
        let at = self.pos;
        let remaining = self.buf.len() - self.pos;
        if len > remaining as u64 {
            if !self.eof {
                return Err(Stop::NeedMore);
            }
            return Err(self.truncated(&format!("a TAG of {len} bytes")));
        }
        let bytes = &self.buf[at..at + len as usize];
        self.pos += len as usize;
        let tag = std::str::from_utf8(bytes)
            .map_err(|e| self.invalid_at(at + e.valid_up_to(), "TAG is not valid UTF-8".to_string()))?;
        check_tag(tag).map_err(|msg| self.invalid_at(at, msg))?;
        Ok(tag)
    }
}

// ---------------------------------------------------------------------------
// Where decoded records go
// ---------------------------------------------------------------------------

/// What the record decoder writes a record into, part by part as it
/// decodes them: owned [`Event`]s for any [`EventFeed`] ([`Events`]), or
/// pass 1's hand-off form ([`crate::analysis::wire`]) with no `Event` in
/// between. The decoder is the one reader of the record layout; an output
/// only builds what it is handed.
///
/// The calls for one record, in the record's order: [`RecordOut::head`];
/// its fields — a location as `loc_start` and one `loc_step` per path
/// step, a source as `src_tag`, its location if any, then `src_nil`,
/// `src_loc` or `src_interior`, a frame as `frame_start`, one `arg` per
/// argument and `frame_end`; then [`RecordOut::op`] with what is left, and,
/// the record being complete, [`RecordOut::push`]. A record that stops
/// short (more bytes are needed, or it is malformed) gets
/// [`RecordOut::abandon`] instead, and is decoded again from its head once
/// more bytes are in hand.
pub(crate) trait RecordOut {
    type Loc;
    type Src;
    type Args;
    type Event;
    /// [`EventSink::start`].
    fn start(&mut self, globals: u32) -> io::Result<()>;
    /// A complete record: [`EventSink::source`] then [`EventSink::event`].
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, e: Self::Event) -> io::Result<()>;
    /// [`EventSink::end`].
    fn end(&mut self) -> io::Result<()>;
    /// The record begun since the last `push` is dropped.
    fn abandon(&mut self);
    /// An event record starts: its opcode (without
    /// [`opcode::NEW_GOROUTINE`]) and its goroutine.
    fn head(&mut self, code: u8, g: u32);
    fn loc_start(&mut self, root: Root, steps: u64) -> Self::Loc;
    fn loc_step(&mut self, loc: &mut Self::Loc, k: u32);
    /// A source's tag (`SRC_NIL`, `SRC_LOC`, `SRC_INTERIOR`), before its location.
    fn src_tag(&mut self, tag: u8);
    fn src_nil(&mut self) -> Self::Src;
    fn src_loc(&mut self, loc: Self::Loc) -> Self::Src;
    fn src_interior(&mut self, loc: Self::Loc, k: u32) -> Self::Src;
    /// A frame's shape (after `go`'s child), before its `nargs` arguments;
    /// at most `room` of them can be in hand (a bound for reserving).
    fn frame_start(
        &mut self,
        child: Option<u32>,
        locals: u32,
        frame_bytes: Option<u64>,
        nargs: usize,
        room: usize,
    ) -> Self::Args;
    fn arg(&mut self, args: &mut Self::Args, src: Self::Src);
    fn frame_end(&mut self, args: &mut Self::Args);
    /// The op, with the parts built so far and the fields left.
    fn op(&mut self, g: u32, op: RecordOp<'_, Self::Loc, Self::Src, Self::Args>) -> Self::Event;
}

/// An event record's op as the decoder hands it to a [`RecordOut`]: an
/// [`Op`] whose locations, sources and arguments are the output's own.
pub(crate) enum RecordOp<'a, L, S, A> {
    Call { locals: u32, frame_bytes: Option<u64>, args: A },
    Ret { copy: Option<(S, L)> },
    Alloc { dst: L, block: BlockIdx, size: u64, ptr_slots: u32, cause: Cause, placement: Placement },
    Go { child: u32, locals: u32, frame_bytes: Option<u64>, args: A },
    Set { dst: L, src: S },
    Work { ns: u64 },
    Begin { tag: &'a str },
    End { tag: &'a str },
    Exit,
    Gc,
}

/// Records as owned [`Event`]s, for any [`EventFeed`].
pub(crate) struct Events<'f, F: ?Sized>(pub(crate) &'f mut F);

impl<F: EventFeed + ?Sized> RecordOut for Events<'_, F> {
    type Loc = Loc;
    type Src = Src;
    type Args = Args;
    type Event = Event;
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.0.start(globals)
    }
    #[inline(always)]
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, e: Event) -> io::Result<()> {
        self.0.push(pos, block_name, e)
    }
    fn end(&mut self) -> io::Result<()> {
        self.0.end()
    }
    #[inline(always)]
    fn abandon(&mut self) {}
    #[inline(always)]
    fn head(&mut self, _code: u8, _g: u32) {}
    #[inline(always)]
    fn loc_start(&mut self, root: Root, _steps: u64) -> Loc {
        Loc { root, path: SmallVec::new() }
    }
    #[inline(always)]
    fn loc_step(&mut self, loc: &mut Loc, k: u32) {
        loc.path.push(k);
    }
    #[inline(always)]
    fn src_tag(&mut self, _tag: u8) {}
    #[inline(always)]
    fn src_nil(&mut self) -> Src {
        Src::Nil
    }
    #[inline(always)]
    fn src_loc(&mut self, loc: Loc) -> Src {
        Src::Loc(loc)
    }
    #[inline(always)]
    fn src_interior(&mut self, loc: Loc, k: u32) -> Src {
        Src::Interior(loc, k)
    }
    #[inline(always)]
    fn frame_start(&mut self, _: Option<u32>, _: u32, _: Option<u64>, _nargs: usize, room: usize) -> Args {
        Args::with_capacity(room)
    }
    #[inline(always)]
    fn arg(&mut self, args: &mut Args, src: Src) {
        args.push(src);
    }
    #[inline(always)]
    fn frame_end(&mut self, _args: &mut Args) {}
    #[inline(always)]
    fn op(&mut self, g: u32, op: RecordOp<'_, Loc, Src, Args>) -> Event {
        let op = match op {
            RecordOp::Call { locals, frame_bytes, args } => Op::Call { locals, frame_bytes, args },
            RecordOp::Ret { copy } => Op::Ret { copy },
            RecordOp::Alloc { dst, block, size, ptr_slots, cause, placement } => {
                Op::Alloc { dst, block, size, ptr_slots, cause, placement }
            }
            RecordOp::Go { child, locals, frame_bytes, args } => {
                Op::Go { child: GoroutineId(child), locals, frame_bytes, args }
            }
            RecordOp::Set { dst, src } => Op::Set { dst, src },
            RecordOp::Work { ns } => Op::Work { ns },
            RecordOp::Begin { tag } => Op::Begin { tag: tag.to_string() },
            RecordOp::End { tag } => Op::End { tag: tag.to_string() },
            RecordOp::Exit => Op::Exit,
            RecordOp::Gc => Op::Gc,
        };
        Event { g: GoroutineId(g), op }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::wire::{WireBatch, WireEncoder, WireRecords, WireSink};
    use crate::text::{parse_text, write_text};

    /// The binary form of a text trace body (after the header).
    fn encode(body: &str) -> Vec<u8> {
        let trace = parse_text(&format!("gctrace 1\n{body}"), "t.gct").unwrap();
        let mut out = Vec::new();
        write_binary(&trace, &mut out).unwrap();
        out
    }

    fn error_of(bytes: &[u8]) -> String {
        match parse_binary(bytes, "t.gctb") {
            Ok(t) => panic!("expected an error, decoded {:?}", t.events),
            Err(e) => e.to_string(),
        }
    }

    fn assert_error(bytes: &[u8], offset: usize, expected: &str) {
        let msg = error_of(bytes);
        let prefix = format!("t.gctb: byte offset {offset}: ");
        assert!(msg.starts_with(&prefix), "{msg:?} should start with {prefix:?}");
        assert!(msg.contains(expected), "{msg:?} should contain {expected:?}");
    }

    /// `g1 call 1` then `g1 alloc l0 b0 16 1 new heap`, byte by byte.
    const ONE_ALLOC: &str = "g1 call 1\ng1 alloc l0 b0 16 1 new heap\n";
    const ONE_ALLOC_BYTES: [u8; 22] = [
        b'G', b'C', b'T', b'B', 1, 0, 0, 0, // magic, version 1
        0, // globals
        0x01, 1, 0, // call: N = 1, no args                        (offset 9)
        0x05, 0, 0, 0, 16, 1, 0,
        0, // alloc l0 (head 0, path 0), name delta 0, 16 bytes, 1 slot, new, heap (offset 12)
        0x00, 2, // trailer: 2 events                                (offset 20)
    ];
    const CAUSE_AT: usize = 18;
    const PLACEMENT_AT: usize = 19;
    const TRAILER_AT: usize = 20;

    #[test]
    fn the_encoding_is_the_documented_one() {
        assert_eq!(encode(ONE_ALLOC), ONE_ALLOC_BYTES);
        // A goroutine switch sets bit 7 and names the goroutine; `go` with
        // BYTES, an interior source and a global path.
        assert_eq!(
            encode("g2 go g3 1 24 G1.2@3\ng2 exit\ng1 begin rq\n")[9..],
            [
                0x87, 2, 3, 1, 24, 1, 2, 3, 1, 2,
                3,    // go: g2, child 3, N 1, BYTES 24, 1 arg: interior (G1 -> head 3) path [2] @3
                0x0c, // exit, same goroutine
                0x8a, 1, 2, b'r', b'q', // begin on g1, tag "rq"
                0x00, 3
            ]
        );
        // Block names are deltas from the count of blocks so far (zigzag).
        assert_eq!(
            encode("g1 alloc l0 b5 8 0 new heap\ng1 alloc l0 b0 8 0 new heap\n")[9..],
            [0x05, 0, 0, 10, 8, 0, 0, 0, 0x05, 0, 0, 1, 8, 0, 0, 0, 0x00, 2]
        );
    }

    #[test]
    fn bad_magic_is_reported_at_offset_0() {
        assert_error(b"GCTX\x01\0\0\0\0\0\0", 0, "not a gcwb binary trace (expected magic GCTB)");
        assert_error(b"XY", 0, "not a gcwb binary trace (expected magic GCTB)");
        assert_error(b"gctrace 1\n", 0, "looks like a text trace");
    }

    #[test]
    fn wrong_version_is_reported_at_offset_4() {
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[4] = 2;
        assert_error(&bytes, 4, "unsupported binary trace version 2 (this gcwb reads version 1)");
    }

    #[test]
    fn globals_over_the_limit_are_reported_at_offset_8() {
        // globals 2^32 - 1, a valid u32 varint, over gcwb's 2^24.
        let mut bytes = ONE_ALLOC_BYTES[..8].to_vec();
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        bytes.extend_from_slice(&ONE_ALLOC_BYTES[9..]);
        assert_error(&bytes, 8, "4294967295 globals; gcwb supports at most 16777216");
    }

    #[test]
    fn every_truncation_is_a_clean_error_at_the_cut() {
        let bytes = encode(
            "globals 300\ng1 call 3 200 nil G299\ng1 alloc l2 b1000 4096 3 make-slice auto\ng1 set l2.1.0 l1@2\n\
             g7 go g8 2 l2.1 nil\ng8 begin request/17\ng8 work 123456789\ng8 end request/17\ng8 ret l0 l1\ng1 gc\ng8 exit\n",
        );
        for cut in 0..bytes.len() {
            let msg = error_of(&bytes[..cut]);
            assert!(msg.starts_with(&format!("t.gctb: byte offset {cut}: ")), "cut {cut}: {msg}");
            assert!(msg.contains("truncated?"), "cut {cut}: {msg}");
        }
        assert!(parse_binary(&bytes, "t.gctb").is_ok());
    }

    #[test]
    fn a_cut_at_a_record_boundary_misses_the_trailer() {
        assert_eq!(
            error_of(&ONE_ALLOC_BYTES[..TRAILER_AT]),
            "t.gctb: byte offset 20: file ends after 2 events without the trailer record (truncated? a complete \
             trace ends with opcode 0x00 and the event count)"
        );
        assert_eq!(
            error_of(&ONE_ALLOC_BYTES[..14]),
            "t.gctb: byte offset 14: file ends inside the alloc record that starts at byte offset 12 (expected the \
             path length of a location; truncated?)"
        );
    }

    #[test]
    fn unknown_opcode() {
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[12] = 0x0e;
        assert_error(&bytes, 12, "unknown opcode 0x0e");
        bytes[12] = 0x80; // the trailer never carries a goroutine
        assert_error(&bytes, 12, "unknown opcode 0x80");
    }

    #[test]
    fn unknown_cause_and_placement() {
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[CAUSE_AT] = 14;
        assert_error(&bytes, CAUSE_AT, "unknown cause 14 (expected 0 to 13");
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[PLACEMENT_AT] = 3;
        assert_error(&bytes, PLACEMENT_AT, "unknown placement 3 (expected 0 heap, 1 stack or 2 auto)");
    }

    #[test]
    fn unknown_source_tag() {
        let mut bytes = encode("g1 set l0 nil\n");
        // set: opcode, DST (head, path length), SRC tag.
        assert_eq!(bytes[9..13], [0x08, 0, 0, SRC_NIL]);
        bytes[12] = 3;
        assert_error(&bytes, 12, "unknown source tag 3 for SRC (expected 0 nil, 1 location or 2 interior pointer)");
    }

    #[test]
    fn varint_overflow_and_out_of_range_fields() {
        // work NS with an 11-byte varint.
        let mut bytes = ONE_ALLOC_BYTES[..9].to_vec();
        bytes.push(opcode::WORK);
        bytes.extend_from_slice(&[0xff; 10]);
        bytes.extend_from_slice(&[0x01, 0x00, 0x01]);
        assert_error(&bytes, 10, "the varint for NS does not fit in 64 bits");
        // u64::MAX itself is fine.
        let mut bytes = ONE_ALLOC_BYTES[..9].to_vec();
        bytes.push(opcode::WORK);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x01]);
        assert_eq!(parse_binary(&bytes, "t.gctb").unwrap().events[0].op, Op::Work { ns: u64::MAX });
        // call N = 2^32.
        let mut bytes = ONE_ALLOC_BYTES[..9].to_vec();
        bytes.extend_from_slice(&[opcode::CALL, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0x00, 1]);
        assert_error(&bytes, 10, "N 4294967296 is too large (at most 4294967295)");
        // a location index of 2^32.
        let mut bytes = ONE_ALLOC_BYTES[..9].to_vec();
        bytes.extend_from_slice(&[opcode::SET, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0x00, 1]);
        assert_error(&bytes, 10, "the index of DST is too large (4294967296 > 4294967295)");
    }

    #[test]
    fn invalid_utf8_and_bad_tags() {
        let good = encode("g1 begin ab\n");
        assert_eq!(good[9..13], [opcode::BEGIN, 2, b'a', b'b']);
        let mut bytes = good.clone();
        bytes[12] = 0xff;
        assert_error(&bytes, 12, "TAG is not valid UTF-8");
        let mut bytes = good.clone();
        bytes[12] = b' ';
        assert_error(&bytes, 11, "TAG 'a ' contains whitespace or '#'");
        let mut bytes = good.clone();
        bytes[10] = 0;
        bytes.remove(11);
        bytes.remove(11);
        assert_error(&bytes, 11, "empty TAG");
        let mut bytes = good;
        bytes[10] = 100;
        assert_error(
            &bytes,
            15,
            "file ends inside the begin record that starts at byte offset 9 (expected a TAG of 100 bytes",
        );
    }

    #[test]
    fn reused_block_name() {
        let mut bytes = encode("g1 alloc l0 b0 8 0 new heap\ng1 alloc l0 b1 8 0 new heap\n");
        // The second record's name delta is 0 (name 1 = 1 block so far + 0);
        // zigzag 1 means -1: name 0 again.
        assert_eq!(bytes[17..21], [0x05, 0, 0, 0]);
        bytes[20] = 1;
        assert_error(&bytes, 20, "block b0 is allocated twice (first at byte offset 9); block names must be unique");
    }

    #[test]
    fn event_count_mismatch_and_trailing_bytes() {
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[TRAILER_AT + 1] = 3;
        assert_error(&bytes, TRAILER_AT + 1, "the trailer says 3 events but the file holds 2");
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes.extend_from_slice(b"xyz");
        assert_error(&bytes, 22, "3 unexpected bytes after the trailer record (expected the end of the file)");
    }

    #[test]
    fn rules_shared_with_text() {
        // g0
        let mut bytes = encode("g2 exit\n");
        assert_eq!(bytes[9..11], [opcode::EXIT | opcode::NEW_GOROUTINE, 2]);
        bytes[10] = 0;
        assert_error(&bytes, 10, "goroutine ids start at 1 (g1 is main), found g0");
        // slots that do not fit
        let mut bytes = ONE_ALLOC_BYTES.to_vec();
        bytes[17] = 3;
        assert_error(&bytes, 12, "3 pointer slots need 24 bytes, block is 16");
        // more arguments than locals
        let mut bytes = encode("g1 call 1 nil\n");
        assert_eq!(bytes[9..13], [opcode::CALL, 1, 1, SRC_NIL]);
        bytes[10] = 0;
        assert_error(&bytes, 9, "1 arguments for a frame of 0 pointer locals");
        // a frame too small
        let mut bytes = encode("g1 call 1 8\n");
        assert_eq!(bytes[9..13], [opcode::CALL_BYTES, 1, 8, 0]);
        bytes[11] = 7;
        assert_error(&bytes, 9, "a frame of 1 pointer locals needs at least 8 bytes, BYTES is 7");
    }

    #[test]
    fn positions_are_record_offsets() {
        let t = parse_binary(&ONE_ALLOC_BYTES, "t.gctb").unwrap();
        assert_eq!(t.positions, vec![SourcePos::Offset(9), SourcePos::Offset(12)]);
        assert_eq!(t.source_name.as_deref(), Some("t.gctb"));
        assert_eq!(t.block_names, vec![0]);
    }

    #[test]
    fn streaming_writer_matches_write_binary_for_dense_names() {
        let text = "gctrace 1\nglobals 2\ng1 call 2\ng1 alloc l0 b0 16 2 new auto\ng1 alloc l0.1 b1 8 1 literal heap\n\
                    g1 go g2 1 l0\ng2 set G1 l0\ng2 exit\ng1 ret\n";
        let trace = parse_text(text, "t.gct").unwrap();
        let mut whole = Vec::new();
        write_binary(&trace, &mut whole).unwrap();
        let mut w = BinaryWriter::new(Vec::new(), trace.globals).unwrap();
        for e in &trace.events {
            w.write_event(e).unwrap();
        }
        assert_eq!(w.finish().unwrap(), whole);
        let mut back = Vec::new();
        write_text(&parse_binary(&whole, "t.gctb").unwrap(), &mut back).unwrap();
        assert_eq!(String::from_utf8(back).unwrap(), text);
    }

    /// A trace with calls and gos with arguments, tags, sparse block names,
    /// goroutine switches and multi-byte varints.
    const STREAM_BODY: &str = "globals 300\ng1 call 3 200 nil G299\ng1 alloc l2 b1000 4096 3 make-slice auto\n\
        g1 set l2.1.0 l1@2\ng7 go g8 2 l2.1 nil\ng8 begin request/17\ng8 alloc l0 b3 8 1 new heap\n\
        g8 work 123456789\ng8 alloc l1 b4 16 0 closure stack\ng8 end request/17\ng8 ret l0 l1\ng1 gc\ng8 exit\n";

    /// Decodes `bytes` with the streaming reader, `chunk` bytes at a time.
    fn stream(bytes: &[u8], chunk: usize) -> Result<Trace> {
        let mut sink = MemorySink::new();
        read_binary_feed(bytes, "t.gctb", &mut sink, chunk)?;
        Ok(named(sink, "t.gctb"))
    }

    /// The streaming reader, at every small chunk size and the default one,
    /// and through the public [`EventSink`] path, says what `parse_binary`
    /// says: the same trace, or the same error.
    fn assert_streams_like_parse(bytes: &[u8]) {
        let want = parse_binary(bytes, "t.gctb").map_err(|e| e.to_string());
        for chunk in (1..=7).chain([64, READ_CHUNK_BYTES]) {
            let got = stream(bytes, chunk).map_err(|e| e.to_string());
            assert_eq!(got, want, "chunk {chunk}, {} bytes", bytes.len());
        }
        let mut sink = MemorySink::new();
        let got = read_binary_into(bytes, "t.gctb", &mut sink).map(|()| named(sink, "t.gctb"));
        assert_eq!(got.map_err(|e| e.to_string()), want, "read_binary_into");
        let mut sink = MemorySink::new();
        let got = parse_binary_into(bytes, "t.gctb", &mut sink).map(|()| named(sink, "t.gctb"));
        assert_eq!(got.map_err(|e| e.to_string()), want, "parse_binary_into");
        // Decoded straight into the hand-off form: the batches the events
        // would have made, and the same error.
        let mut by_events = Batches::default();
        let want_wire = (read_binary_into(bytes, "t.gctb", &mut by_events).map_err(|e| e.to_string()), by_events.all());
        assert_eq!(want_wire.0, want.as_ref().map(|_| ()).map_err(|e| e.clone()));
        for chunk in (1..=7).chain([64, READ_CHUNK_BYTES]) {
            let mut direct = Batches::default();
            let got = read_binary_out(bytes, "t.gctb", &mut WireRecords::new(&mut direct), chunk);
            assert_eq!((got.map_err(|e| e.to_string()), direct.all()), want_wire, "wire, chunk {chunk}");
        }
    }

    /// A [`WireSink`] that hands over a batch every 3 events, and keeps them.
    #[derive(Default)]
    struct Batches {
        wire: WireEncoder,
        done: Vec<WireBatch>,
    }

    impl Batches {
        fn flush_if_full(&mut self) {
            if self.wire.batch().events() == 3 {
                self.done.push(self.wire.take_batch(WireBatch::default()));
            }
        }
        /// Every batch, the last one unfinished.
        fn all(mut self) -> Vec<WireBatch> {
            self.done.push(self.wire.take_batch(WireBatch::default()));
            self.done
        }
    }

    impl EventSink for Batches {
        fn start(&mut self, globals: u32) -> io::Result<()> {
            self.wire.start(globals)
        }
        fn event(&mut self, e: &Event) -> io::Result<()> {
            self.wire.event(e)?;
            self.flush_if_full();
            Ok(())
        }
        fn end(&mut self) -> io::Result<()> {
            self.wire.end()
        }
        fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
            self.wire.source(pos, block_name);
        }
    }

    impl WireSink for Batches {
        fn encoder(&mut self) -> &mut WireEncoder {
            &mut self.wire
        }
        fn encoded(&mut self) -> io::Result<()> {
            self.flush_if_full();
            Ok(())
        }
    }

    #[test]
    fn streaming_in_tiny_chunks_decodes_the_same_trace() {
        let bytes = encode(STREAM_BODY);
        let want = parse_binary(&bytes, "t.gctb").unwrap();
        assert_eq!(want.block_names, vec![1000, 3, 4]);
        assert_eq!(want.events.len(), 12);
        for chunk in 1..=7 {
            assert_eq!(stream(&bytes, chunk).unwrap(), want, "chunk {chunk}");
        }
        assert_eq!(read_binary(&bytes[..], "t.gctb").unwrap(), want);
        assert_streams_like_parse(&bytes);
    }

    #[test]
    fn every_truncation_streams_to_the_same_error() {
        let bytes = encode(STREAM_BODY);
        for cut in 0..bytes.len() {
            let msg = error_of(&bytes[..cut]);
            assert!(msg.starts_with(&format!("t.gctb: byte offset {cut}: ")), "cut {cut}: {msg}");
            assert_streams_like_parse(&bytes[..cut]);
        }
        // And a text trace read as binary, cut anywhere, still gets its hint.
        let text = b"gctrace 1\ng1 exit\n";
        for cut in 0..=text.len() {
            assert_streams_like_parse(&text[..cut]);
        }
        assert!(stream(text, 1).unwrap_err().to_string().contains("looks like a text trace"));
    }

    #[test]
    fn every_corrupt_byte_streams_to_the_same_result() {
        let bytes = encode(STREAM_BODY);
        for i in 0..bytes.len() {
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff, bytes[i] ^ 0x01, bytes[i].wrapping_add(2)] {
                let mut bad = bytes.clone();
                bad[i] = value;
                assert_streams_like_parse(&bad);
            }
        }
        // Specific errors in the middle of the file, at their offsets.
        let mut bad = bytes.clone();
        let trailer = bytes.len() - 2;
        assert_eq!(bad[trailer..], [opcode::TRAILER, 12]);
        bad[trailer + 1] = 11;
        assert_streams_like_parse(&bad);
        assert_eq!(
            stream(&bad, 3).unwrap_err().to_string(),
            format!(
                "t.gctb: byte offset {}: the trailer says 11 events but the file holds 12 (corrupt or spliced file)",
                trailer + 1
            )
        );
    }

    #[test]
    fn trailing_bytes_longer_than_a_chunk_are_all_counted() {
        let mut bytes = encode(STREAM_BODY);
        let end = bytes.len();
        bytes.extend_from_slice(&[0xab; 100]);
        assert_streams_like_parse(&bytes);
        assert_eq!(
            stream(&bytes, 3).unwrap_err().to_string(),
            format!("t.gctb: byte offset {end}: 100 unexpected bytes after the trailer record (expected the end of the file)")
        );
    }

    #[test]
    fn records_longer_than_a_chunk_are_decoded() {
        // A 5000-byte tag and a call with 300 arguments, in 7-byte chunks.
        let tag = "t".repeat(5000);
        let args = vec!["G0.1@2"; 300].join(" ");
        let body = format!("globals 1\ng1 begin {tag}\ng1 call 300 {args}\ng1 end {tag}\n");
        let bytes = encode(&body);
        let want = parse_binary(&bytes, "t.gctb").unwrap();
        assert_eq!(want.events[0].op, Op::Begin { tag });
        assert_eq!(stream(&bytes, 7).unwrap(), want);
        assert_eq!(stream(&bytes, 1).unwrap(), want);
        // Cut inside the long records.
        for cut in [15, 2000, 5010, 5100, bytes.len() - 1] {
            assert_eq!(stream(&bytes[..cut], 7).unwrap_err().to_string(), error_of(&bytes[..cut]), "cut {cut}");
        }
    }

    /// A reader that hands out one byte at a time, interrupted every other
    /// call: the refill loop must still fill whole chunks.
    struct Trickle<'a> {
        bytes: &'a [u8],
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            match (self.bytes.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.bytes = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn short_and_interrupted_reads_are_retried() {
        let bytes = encode(STREAM_BODY);
        let want = parse_binary(&bytes, "t.gctb").unwrap();
        for chunk in [1, 5, READ_CHUNK_BYTES] {
            let mut sink = MemorySink::new();
            read_binary_feed(Trickle { bytes: &bytes, interrupt: false }, "t.gctb", &mut sink, chunk).unwrap();
            assert_eq!(named(sink, "t.gctb"), want);
        }
    }

    #[test]
    fn read_errors_are_io_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"))
            }
        }
        let e = read_binary(Broken, "t.gctb").unwrap_err();
        assert!(
            matches!(&e, TraceError::Io { file, source } if file == "t.gctb" && source.kind() == io::ErrorKind::ConnectionReset)
        );
    }

    /// Fails on its `n`-th event with `make()`'s error.
    struct FailingSink {
        n: usize,
        seen: usize,
        make: fn() -> io::Error,
    }

    impl EventSink for FailingSink {
        fn start(&mut self, _: u32) -> io::Result<()> {
            Ok(())
        }
        fn event(&mut self, _: &Event) -> io::Result<()> {
            self.seen += 1;
            if self.seen == self.n {
                Err((self.make)())
            } else {
                Ok(())
            }
        }
        fn end(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_sinks_trace_error_is_returned_as_it_is_and_other_errors_are_io() {
        let bytes = encode(STREAM_BODY);
        let mut sink = FailingSink {
            n: 3,
            seen: 0,
            make: || io::Error::other(TraceError::invalid("x.gct", SourcePos::Line(7), "the sink refuses")),
        };
        let e = read_binary_into(&bytes[..], "t.gctb", &mut sink).unwrap_err();
        assert_eq!(e.to_string(), "x.gct: line 7: the sink refuses");
        assert!(matches!(e, TraceError::Invalid { .. }));
        let mut sink = FailingSink { n: 2, seen: 0, make: || io::Error::new(io::ErrorKind::StorageFull, "disk full") };
        let e = parse_binary_into(&bytes, "t.gctb", &mut sink).unwrap_err();
        assert!(matches!(&e, TraceError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull));
        assert_eq!(e.to_string(), "t.gctb: disk full");
        assert_eq!(sink.seen, 2, "decoding stops at the sink's error");
    }

    #[test]
    fn zigzag_round_trips_extremes() {
        for v in [0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }
}

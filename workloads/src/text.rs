//! The text trace format v1 (`.gct`): reader and writer.
//!
//! A text trace is what a researcher writes and reads: one event per line,
//! `#` comments, a `gctrace 1` header and an optional `globals N` line.
//! `docs/trace-format.md` is the full reference; in short:
//!
//! ```text
//! gctrace 1
//! globals 1
//! g1 call 3                          # push a frame with locals l0 l1 l2
//! g1 alloc l0 b1 32 2 new auto       # l0 = new block b1: 32 bytes, 2 pointer slots
//! g1 set l0.1 l0@1                   # slot 1 of b1 = interior pointer to b1's slot 1
//! g1 go g2 1 l0                      # goroutine g2 starts with l0 = b1
//! g2 set G0 l0                       # global G0 = b1
//! g2 exit
//! ```
//!
//! Parts:
//! - [`read_text`] / [`parse_text`]: text to [`Trace`], checking every
//!   syntactic rule (the semantic checks are [`crate::analysis`]'s);
//! - [`read_text_into`] / [`parse_text_into`]: the same, streamed into any
//!   [`EventSink`] event by event, never holding the trace;
//! - [`write_text`]: a whole [`Trace`] to its canonical text;
//! - [`TextWriter`]: the streaming writer generators use, one event at a time;
//! - [`TextLoc`] / [`TextSrc`]: locations and sources in their text spelling,
//!   for messages;
//! - the syntactic rules shared with [`crate::binary`] (frame sizes, block
//!   shapes, tags, goroutine ids, block-name interning), so both formats
//!   accept exactly the same traces.
//!
//! Parsing is a single pass over the lines with no per-token allocation: the
//! loader benchmark (`benches/load.rs`) reads several million events a second.

use crate::error::{Result, TraceError};
use crate::model::{
    BlockIdx, Cause, Event, GoroutineId, Loc, Op, Placement, Root, SourcePos, Src, Trace, FORMAT_VERSION, MAX_GLOBALS,
    WORD_BYTES,
};
use crate::sink::{EventSink, MemorySink};
use smallvec::SmallVec;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead, BufWriter, Write};

/// The names of all ops, for "expected one of" messages.
const OP_NAMES: &str = "call, ret, alloc, go, set, work, begin, end, exit, gc";

/// Usage strings quoted by "missing"/"unexpected" argument messages.
const USAGE_CALL: &str = "call N [BYTES] [ARG...]";
const USAGE_RET: &str = "ret [SRC DST]";
const USAGE_ALLOC: &str = "alloc DST bN SIZE SLOTS CAUSE PLACEMENT";
const USAGE_GO: &str = "go gK N [BYTES] [ARG...]";
const USAGE_SET: &str = "set DST SRC";
const USAGE_WORK: &str = "work NS";
const USAGE_BEGIN: &str = "begin TAG";
const USAGE_END: &str = "end TAG";
const USAGE_EXIT: &str = "exit";
const USAGE_GC: &str = "gc";

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Reads a text trace line by line from `r`; `file` names it in errors and
/// becomes [`Trace::source_name`].
///
/// Every syntactic error is a [`TraceError::Invalid`] naming `file`, the line
/// and what was expected; read failures are [`TraceError::Io`].
pub fn read_text<R: BufRead>(r: R, file: &str) -> Result<Trace> {
    let mut sink = MemorySink::new();
    read_text_feed(r, file, &mut sink)?;
    Ok(named(sink, file))
}

/// Reads a text trace line by line from `r` and streams it into `sink`,
/// never holding more than one line and one event: [`EventSink::start`]
/// once with the number of globals (before the first event, or at the end
/// of a trace with no events), then for every event
/// [`EventSink::source`] (its line, and for an `alloc` the block's name as
/// written) followed by [`EventSink::event`], then [`EventSink::end`].
/// Block names are interned as by [`read_text`]: the events' [`BlockIdx`]es
/// are dense in order of first appearance.
///
/// Errors are [`read_text`]'s. A sink's [`io::Error`] stops the parse and
/// becomes [`TraceError::Io`] naming `file` — except one that wraps a
/// [`TraceError`] (made with `io::Error::other(trace_error)`, e.g. by a sink
/// that checks the events as they come), which is returned as it is. On any
/// error `end` is not called and the sink holds the events before it.
pub fn read_text_into<R: BufRead, S: EventSink + ?Sized>(r: R, file: &str, sink: &mut S) -> Result<()> {
    read_text_feed(r, file, &mut SinkFeed(sink))
}

/// Parses a text trace held in memory; see [`read_text`].
pub fn parse_text(s: &str, file: &str) -> Result<Trace> {
    let mut sink = MemorySink::new();
    // Event lines are rarely shorter than 16 bytes: reserving that many
    // events avoids regrowing the vectors, and when the guess is high it
    // costs only address space (untouched pages are never mapped in).
    sink.reserve(s.len() / 16, true);
    parse_text_feed(s, file, &mut sink)?;
    Ok(named(sink, file))
}

/// Parses a text trace held in memory into `sink`; see [`read_text_into`].
pub fn parse_text_into<S: EventSink + ?Sized>(s: &str, file: &str, sink: &mut S) -> Result<()> {
    parse_text_feed(s, file, &mut SinkFeed(sink))
}

/// The trace a parser fed `sink`, read from `file`.
pub(crate) fn named(sink: MemorySink, file: &str) -> Trace {
    let mut trace = sink.into_trace();
    trace.source_name = Some(file.to_string());
    trace
}

/// [`read_text_into`] for any [`EventFeed`].
pub(crate) fn read_text_feed<R: BufRead, F: EventFeed + ?Sized>(mut r: R, file: &str, feed: &mut F) -> Result<()> {
    let mut parser = TextParser::new(file, feed);
    let mut buf: Vec<u8> = Vec::with_capacity(128);
    let mut line_no: u64 = 0;
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| TraceError::io(file, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = match std::str::from_utf8(&buf) {
            Ok(line) => line,
            Err(e) => {
                return Err(parser.error_at(
                    line_no,
                    format!("invalid UTF-8 at column {} (text traces are UTF-8)", e.valid_up_to() + 1),
                ))
            }
        };
        parser.line(line_no, line)?;
    }
    parser.finish()
}

/// [`parse_text_into`] for any [`EventFeed`].
fn parse_text_feed<F: EventFeed + ?Sized>(s: &str, file: &str, feed: &mut F) -> Result<()> {
    let mut parser = TextParser::new(file, feed);
    if !s.is_empty() {
        for (i, line) in s.split('\n').enumerate() {
            parser.line(i as u64 + 1, line)?;
        }
    }
    parser.finish()
}

/// Where the parsers deliver what they read: an [`EventSink`] through
/// [`SinkFeed`], or a [`MemorySink`] directly, which takes each event by
/// value instead of cloning it (so the in-memory loaders cost what they
/// did before they streamed).
pub(crate) trait EventFeed {
    /// [`EventSink::start`].
    fn start(&mut self, globals: u32) -> io::Result<()>;
    /// [`EventSink::source`] then [`EventSink::event`].
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, e: Event) -> io::Result<()>;
    /// [`EventSink::end`].
    fn end(&mut self) -> io::Result<()>;
}

/// Feeds any [`EventSink`].
pub(crate) struct SinkFeed<'s, S: ?Sized>(pub(crate) &'s mut S);

impl<S: EventSink + ?Sized> EventFeed for SinkFeed<'_, S> {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.0.start(globals)
    }
    #[inline]
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, e: Event) -> io::Result<()> {
        self.0.source(pos, block_name);
        self.0.event_owned(e)
    }
    fn end(&mut self) -> io::Result<()> {
        self.0.end()
    }
}

impl EventFeed for MemorySink {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        EventSink::start(self, globals)
    }
    #[inline]
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, e: Event) -> io::Result<()> {
        self.push_parsed(pos, block_name, e);
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        EventSink::end(self)
    }
}

/// A sink's error as the parse's: the [`TraceError`] it wraps, if it was
/// made with `io::Error::other(trace_error)`, else an I/O error on `file`.
#[cold]
#[inline(never)]
pub(crate) fn sink_error(file: &str, e: io::Error) -> TraceError {
    if !e.get_ref().is_some_and(|inner| inner.is::<TraceError>()) {
        return TraceError::io(file, e);
    }
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<TraceError>()) {
        Some(Ok(trace_error)) => *trace_error,
        // Not reached: the check above saw a TraceError.
        Some(Err(other)) => TraceError::io(file, io::Error::new(kind, other)),
        None => TraceError::io(file, io::Error::from(kind)),
    }
}

/// The state of one parse: what the header lines said, the block names so
/// far, and where the events go.
struct TextParser<'f, F: ?Sized> {
    file: &'f str,
    feed: &'f mut F,
    blocks: BlockInterner,
    /// The number of globals (0 until a `globals` line says otherwise).
    globals: u32,
    /// Line of the `globals` line, once seen.
    globals_line: Option<u64>,
    /// Line of the first event, once seen (the feed has been started).
    first_event_line: Option<u64>,
    /// Line 1 was a valid header.
    saw_header: bool,
}

impl<'f, F: EventFeed + ?Sized> TextParser<'f, F> {
    fn new(file: &'f str, feed: &'f mut F) -> Self {
        TextParser {
            file,
            feed,
            blocks: BlockInterner::default(),
            globals: 0,
            globals_line: None,
            first_event_line: None,
            saw_header: false,
        }
    }

    #[cold]
    #[inline(never)]
    fn error_at(&self, line_no: u64, msg: String) -> TraceError {
        TraceError::invalid(self.file, SourcePos::Line(line_no), msg)
    }

    /// Handles line `line_no` (1-based), which may still end in `\n` / `\r\n`.
    #[inline]
    fn line(&mut self, line_no: u64, line: &str) -> Result<()> {
        check_no_lone_cr(line).map_err(|msg| self.error_at(line_no, msg))?;
        if line_no == 1 {
            return self.header(line);
        }
        let content = match line.as_bytes().iter().position(|&b| b == b'#') {
            Some(i) => &line[..i],
            None => line,
        };
        let mut toks = content.split_ascii_whitespace();
        let Some(first) = toks.next() else {
            return Ok(()); // a blank or comment-only line
        };
        if first == "globals" {
            return self.globals(line_no, toks);
        }
        if !first.starts_with('g') {
            return Err(self.error_at(
                line_no,
                format!(
                    "expected an event `gK OP ...` (or `globals N` before the first event), found '{}'",
                    truncate_for_message(first)
                ),
            ));
        }
        let (event, block_name) = self.event(line_no, first, toks).map_err(|msg| self.error_at(line_no, msg))?;
        if self.first_event_line.is_none() {
            self.first_event_line = Some(line_no);
            self.feed.start(self.globals).map_err(|e| sink_error(self.file, e))?;
        }
        self.feed.push(SourcePos::Line(line_no), block_name, event).map_err(|e| sink_error(self.file, e))
    }

    /// Line 1: `gctrace 1`, possibly followed by a comment.
    fn header(&mut self, line: &str) -> Result<()> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line); // a UTF-8 byte-order mark
        let content = line.split('#').next().unwrap_or("");
        let mut toks = content.split_ascii_whitespace();
        match (toks.next(), toks.next(), toks.next()) {
            (Some("gctrace"), Some(v), None) if parse_digits_u64(v).is_some() => {
                if parse_digits_u64(v) == Some(Ok(u64::from(FORMAT_VERSION))) {
                    self.saw_header = true;
                    Ok(())
                } else {
                    Err(self.error_at(
                        1,
                        format!(
                            "unsupported trace version {} (this gcwb reads version {FORMAT_VERSION})",
                            truncate_for_message(v)
                        ),
                    ))
                }
            }
            _ => {
                let found = line.trim_end();
                let hint = if found.starts_with("GCTB") {
                    " (this looks like a binary trace: binary traces are named *.gctb)"
                } else {
                    ""
                };
                let found = if found.is_empty() {
                    "an empty line".to_string()
                } else {
                    format!("'{}'", truncate_for_message(found))
                };
                Err(self.error_at(1, format!("expected header `gctrace {FORMAT_VERSION}`, found {found}{hint}")))
            }
        }
    }

    /// `globals N`: at most once, before the first event.
    fn globals<'a>(&mut self, line_no: u64, mut toks: impl Iterator<Item = &'a str>) -> Result<()> {
        if let Some(first) = self.globals_line {
            return Err(self.error_at(line_no, format!("a second `globals` line (the first is line {first})")));
        }
        if let Some(first_event) = self.first_event_line {
            return Err(
                self.error_at(line_no, format!("`globals` must come before the first event (line {first_event})"))
            );
        }
        let mut args = Args { toks: &mut toks, usage: "globals N" };
        let n = args.need("N").and_then(|t| parse_u32(t, "N")).and_then(|n| check_globals(n).map(|()| n));
        let n = n.and_then(|n| args.done().map(|()| n)).map_err(|msg| self.error_at(line_no, msg))?;
        self.globals = n;
        self.globals_line = Some(line_no);
        Ok(())
    }

    /// `gK OP ARGS...` on line `line_no`, with `gk` already split off; for
    /// an `alloc`, also the block's name as written.
    #[inline]
    fn event<'a>(
        &mut self,
        line_no: u64,
        gk: &'a str,
        mut toks: std::str::SplitAsciiWhitespace<'a>,
    ) -> Result<(Event, Option<u64>), String> {
        let g = parse_goroutine(gk)?;
        let Some(op_name) = toks.next() else {
            return Err(format!("missing the op after {gk} (expected one of {OP_NAMES})"));
        };
        let op = match op_name {
            "set" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_SET };
                let dst = parse_loc(a.need("DST")?, "DST")?;
                let src = parse_src(a.need("SRC")?, "SRC")?;
                a.done()?;
                Op::Set { dst, src }
            }
            "alloc" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_ALLOC };
                let dst = parse_loc(a.need("DST")?, "DST")?;
                let name = parse_block_name(a.need("bN")?)?;
                let size = parse_u64(a.need("SIZE")?, "SIZE")?;
                let ptr_slots = parse_u32(a.need("SLOTS")?, "SLOTS")?;
                let cause = parse_cause(a.need("CAUSE")?)?;
                let placement = parse_placement(a.need("PLACEMENT")?)?;
                a.done()?;
                check_alloc_shape(size, ptr_slots)?;
                let block = match self.blocks.intern(name, line_no) {
                    Ok(block) => block,
                    Err(first) => {
                        return Err(format!(
                            "block b{name} is allocated twice (first at {}); block names must be unique",
                            SourcePos::Line(first)
                        ))
                    }
                };
                let op = Op::Alloc { dst, block, size, ptr_slots, cause, placement };
                return Ok((Event { g, op }, Some(name)));
            }
            "call" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_CALL };
                let (locals, frame_bytes, args) = parse_frame(&mut a)?;
                Op::Call { locals, frame_bytes, args }
            }
            "ret" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_RET };
                match a.toks.next() {
                    None => Op::Ret { copy: None },
                    Some(src) => {
                        let src = parse_src(src, "SRC")?;
                        let dst = parse_loc(a.need("DST")?, "DST")?;
                        a.done()?;
                        Op::Ret { copy: Some((src, dst)) }
                    }
                }
            }
            "work" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_WORK };
                let ns = parse_u64(a.need("NS")?, "NS")?;
                a.done()?;
                Op::Work { ns }
            }
            "go" => {
                let mut a = Args { toks: &mut toks, usage: USAGE_GO };
                let child = parse_goroutine(a.need("gK")?)?;
                let (locals, frame_bytes, args) = parse_frame(&mut a)?;
                Op::Go { child, locals, frame_bytes, args }
            }
            "begin" | "end" => {
                let usage = if op_name == "begin" { USAGE_BEGIN } else { USAGE_END };
                let mut a = Args { toks: &mut toks, usage };
                let tag = a.need("TAG")?.to_string();
                a.done()?;
                if op_name == "begin" {
                    Op::Begin { tag }
                } else {
                    Op::End { tag }
                }
            }
            "exit" => {
                Args { toks: &mut toks, usage: USAGE_EXIT }.done()?;
                Op::Exit
            }
            "gc" => {
                Args { toks: &mut toks, usage: USAGE_GC }.done()?;
                Op::Gc
            }
            other => return Err(format!("unknown op '{other}' (expected one of {OP_NAMES})")),
        };
        Ok((Event { g, op }, None))
    }

    /// After the last line: starts the feed if no event did, and ends it.
    fn finish(self) -> Result<()> {
        if !self.saw_header {
            return Err(self.error_at(1, format!("expected header `gctrace {FORMAT_VERSION}`, found an empty file")));
        }
        if self.first_event_line.is_none() {
            self.feed.start(self.globals).map_err(|e| sink_error(self.file, e))?;
        }
        self.feed.end().map_err(|e| sink_error(self.file, e))
    }
}

/// The remaining tokens of one event, with the op's usage for messages.
struct Args<'t, I> {
    toks: &'t mut I,
    usage: &'static str,
}

impl<'a, I: Iterator<Item = &'a str>> Args<'_, I> {
    /// The next token, which must be there.
    #[inline]
    fn need(&mut self, what: &str) -> Result<&'a str, String> {
        match self.toks.next() {
            Some(t) => Ok(t),
            None => Err(format!("missing {what} (expected `{}`)", self.usage)),
        }
    }

    /// No tokens may be left.
    #[inline]
    fn done(&mut self) -> Result<(), String> {
        match self.toks.next() {
            None => Ok(()),
            Some(t) => {
                Err(format!("unexpected '{}' after the arguments (expected `{}`)", truncate_for_message(t), self.usage))
            }
        }
    }
}

/// `N [BYTES] [ARG...]` of `call` and `go`: a token right after N that starts
/// with a digit is BYTES, every other token is an argument source.
fn parse_frame<'a, I: Iterator<Item = &'a str>>(
    a: &mut Args<'_, I>,
) -> Result<(u32, Option<u64>, crate::model::Args), String> {
    let locals = parse_u32(a.need("N")?, "N")?;
    let mut frame_bytes = None;
    let mut args = crate::model::Args::new();
    let mut next = a.toks.next();
    if let Some(t) = next {
        if t.as_bytes()[0].is_ascii_digit() {
            frame_bytes = Some(parse_u64(t, "BYTES")?);
            next = a.toks.next();
        }
    }
    while let Some(t) = next {
        args.push(parse_src(t, "ARG")?);
        next = a.toks.next();
    }
    check_frame(locals, frame_bytes, args.len())?;
    Ok((locals, frame_bytes, args))
}

/// `gK` with K >= 1.
#[inline]
fn parse_goroutine(tok: &str) -> Result<GoroutineId, String> {
    let Some(digits) = tok.strip_prefix('g') else {
        return Err(format!("expected a goroutine gK, found '{}'", truncate_for_message(tok)));
    };
    let id = match parse_digits_u64(digits) {
        Some(Ok(v)) if v <= u64::from(u32::MAX) => v as u32,
        Some(_) => return Err(format!("goroutine id in '{tok}' is too large (at most g{})", u32::MAX)),
        None => {
            return Err(format!("expected a goroutine gK (K a decimal number), found '{}'", truncate_for_message(tok)))
        }
    };
    check_goroutine(id)?;
    Ok(GoroutineId(id))
}

/// `bN` with N a u64.
#[inline]
fn parse_block_name(tok: &str) -> Result<u64, String> {
    match tok.strip_prefix('b').and_then(parse_digits_u64) {
        Some(Ok(v)) => Ok(v),
        Some(Err(())) => Err(format!("block name '{tok}' is too large (at most b{})", u64::MAX)),
        None => Err(format!("expected a block name bN (N a decimal number), found '{}'", truncate_for_message(tok))),
    }
}

fn parse_cause(tok: &str) -> Result<Cause, String> {
    Cause::from_name(tok).ok_or_else(|| {
        let names: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
        format!("unknown cause '{}' (expected one of {})", truncate_for_message(tok), names.join(", "))
    })
}

fn parse_placement(tok: &str) -> Result<Placement, String> {
    Placement::from_name(tok)
        .ok_or_else(|| format!("unknown placement '{}' (expected one of heap, stack, auto)", truncate_for_message(tok)))
}

/// A decimal u64; `what` names the argument in messages.
#[inline]
fn parse_u64(tok: &str, what: &str) -> Result<u64, String> {
    match parse_digits_u64(tok) {
        Some(Ok(v)) => Ok(v),
        Some(Err(())) => Err(format!("{what} {tok} is too large (at most {})", u64::MAX)),
        None => Err(format!("bad {what} '{}' (expected a decimal number)", truncate_for_message(tok))),
    }
}

/// A decimal u32; `what` names the argument in messages.
#[inline]
fn parse_u32(tok: &str, what: &str) -> Result<u32, String> {
    match parse_digits_u64(tok) {
        Some(Ok(v)) if v <= u64::from(u32::MAX) => Ok(v as u32),
        Some(_) => Err(format!("{what} {tok} is too large (at most {})", u32::MAX)),
        None => Err(format!("bad {what} '{}' (expected a decimal number)", truncate_for_message(tok))),
    }
}

/// `None` if `s` is not a non-empty run of ASCII digits, `Some(Err)` if it
/// does not fit in a u64.
#[inline]
fn parse_digits_u64(s: &str) -> Option<Result<u64, ()>> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        match v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d))) {
            Some(n) => v = n,
            None => overflow = true,
        }
    }
    Some(if overflow { Err(()) } else { Ok(v) })
}

/// Why a location token did not parse.
enum LocError {
    Malformed,
    /// A numeric component is larger than u32::MAX.
    TooLarge,
}

/// `lK`, `GK`, then any number of `.K`.
#[inline]
fn parse_loc_token(tok: &str) -> Result<Loc, LocError> {
    let b = tok.as_bytes();
    let is_local = match b.first() {
        Some(b'l') => true,
        Some(b'G') => false,
        _ => return Err(LocError::Malformed),
    };
    let mut parts = tok[1..].split('.');
    let index = parse_loc_component(parts.next().unwrap_or(""))?;
    let root = if is_local { Root::Local(index) } else { Root::Global(index) };
    let mut path = SmallVec::new();
    for part in parts {
        path.push(parse_loc_component(part)?);
    }
    Ok(Loc { root, path })
}

#[inline]
fn parse_loc_component(s: &str) -> Result<u32, LocError> {
    match parse_digits_u64(s) {
        Some(Ok(v)) if v <= u64::from(u32::MAX) => Ok(v as u32),
        Some(_) => Err(LocError::TooLarge),
        None => Err(LocError::Malformed),
    }
}

/// A location argument (`DST`).
#[inline]
fn parse_loc(tok: &str, what: &str) -> Result<Loc, String> {
    match parse_loc_token(tok) {
        Ok(loc) => Ok(loc),
        Err(LocError::TooLarge) => Err(format!("an index in {what} '{tok}' is too large (at most {})", u32::MAX)),
        Err(LocError::Malformed) => {
            let hint = if tok == "nil" || tok.contains('@') {
                " (a destination must be a location, not nil or an interior pointer)"
            } else {
                ""
            };
            Err(format!(
                "malformed location '{}' for {what} (expected lK, GK or a slot path like l2.1.0){hint}",
                truncate_for_message(tok)
            ))
        }
    }
}

/// A source argument: `nil`, a location, or `X@K`.
#[inline]
fn parse_src(tok: &str, what: &str) -> Result<Src, String> {
    if tok == "nil" {
        return Ok(Src::Nil);
    }
    let (loc_part, offset) = match tok.split_once('@') {
        None => (tok, None),
        Some((loc, k)) => (loc, Some(k)),
    };
    let malformed = || {
        format!(
            "malformed source '{}' for {what} (expected nil, lK, GK, a slot path like l2.1.0, or X@K)",
            truncate_for_message(tok)
        )
    };
    let too_large = || format!("an index in {what} '{tok}' is too large (at most {})", u32::MAX);
    let loc = match parse_loc_token(loc_part) {
        Ok(loc) => loc,
        Err(LocError::Malformed) => return Err(malformed()),
        Err(LocError::TooLarge) => return Err(too_large()),
    };
    match offset {
        None => Ok(Src::Loc(loc)),
        Some(k) => match parse_digits_u64(k) {
            Some(Ok(k)) if k <= u64::from(u32::MAX) => Ok(Src::Interior(loc, k as u32)),
            Some(_) => Err(too_large()),
            None if k.contains('@') => Err(format!(
                "malformed source '{}' for {what}: only one @K suffix is allowed, at the end",
                truncate_for_message(tok)
            )),
            None => Err(malformed()),
        },
    }
}

/// Tokens quoted in messages are cut to a readable length.
/// A `\r` may only end a line (before its `\n`, or at the end of the
/// file): anywhere else it is an error, not whitespace, because a file with
/// CR-only line endings (classic Mac OS) is one long line to this reader,
/// and with a `#` on its first line it would read as a header followed by a
/// comment — an empty trace.
#[inline]
fn check_no_lone_cr(line: &str) -> Result<(), String> {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let body = body.strip_suffix('\r').unwrap_or(body);
    match body.as_bytes().iter().position(|&b| b == b'\r') {
        None => Ok(()),
        Some(i) => Err(lone_cr(i)),
    }
}

#[cold]
#[inline(never)]
fn lone_cr(at: usize) -> String {
    format!(
        "carriage return (\\r) inside a line, at column {}: lines end in \\n or \\r\\n \
         (a file with CR-only line endings must be converted first)",
        at + 1
    )
}

fn truncate_for_message(s: &str) -> String {
    const MAX_CHARS: usize = 60;
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_CHARS).collect();
        format!("{cut}...")
    }
}

// ---------------------------------------------------------------------------
// Rules shared with the binary codec
// ---------------------------------------------------------------------------

/// A trace declares at most [`MAX_GLOBALS`] globals.
pub(crate) fn check_globals(n: u32) -> Result<(), String> {
    if n <= MAX_GLOBALS {
        Ok(())
    } else {
        Err(format!("{n} globals; gcwb supports at most {MAX_GLOBALS}"))
    }
}

/// Goroutine ids start at 1 (`g1` is main).
pub(crate) fn check_goroutine(id: u32) -> Result<(), String> {
    if id == 0 {
        Err("goroutine ids start at 1 (g1 is main), found g0".to_string())
    } else {
        Ok(())
    }
}

/// A frame of `locals` pointer locals needs `8 * locals` bytes, and each
/// argument fills one local.
pub(crate) fn check_frame(locals: u32, frame_bytes: Option<u64>, nargs: usize) -> Result<(), String> {
    let needed = u64::from(locals) * WORD_BYTES;
    if let Some(bytes) = frame_bytes {
        if bytes < needed {
            return Err(format!("a frame of {locals} pointer locals needs at least {needed} bytes, BYTES is {bytes}"));
        }
    }
    if nargs as u64 > u64::from(locals) {
        return Err(format!(
            "{nargs} arguments for a frame of {locals} pointer locals (each argument fills one local)"
        ));
    }
    Ok(())
}

/// A block has at least one byte, and room for its pointer slots.
pub(crate) fn check_alloc_shape(size: u64, ptr_slots: u32) -> Result<(), String> {
    if size == 0 {
        return Err("SIZE must be at least 1 byte".to_string());
    }
    let needed = u64::from(ptr_slots) * WORD_BYTES;
    if needed > size {
        return Err(format!("{ptr_slots} pointer slots need {needed} bytes, block is {size}"));
    }
    Ok(())
}

/// A span tag is one non-empty token: no ASCII whitespace, no `#`.
pub(crate) fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("empty TAG (a tag is one token of non-whitespace, non-# characters)".to_string());
    }
    if tag.bytes().any(|b| b.is_ascii_whitespace() || b == b'#') {
        return Err(format!(
            "TAG '{}' contains whitespace or '#' (a tag is one token of non-whitespace, non-# characters)",
            truncate_for_message(tag)
        ));
    }
    Ok(())
}

/// Every syntactic rule of format v1 that one event can break; the writers
/// refuse such events so they never produce a file their reader rejects.
pub(crate) fn check_event(e: &Event) -> Result<(), String> {
    check_goroutine(e.g.0)?;
    match &e.op {
        Op::Call { locals, frame_bytes, args } => check_frame(*locals, *frame_bytes, args.len()),
        Op::Go { child, locals, frame_bytes, args } => {
            check_goroutine(child.0)?;
            check_frame(*locals, *frame_bytes, args.len())
        }
        Op::Alloc { size, ptr_slots, .. } => check_alloc_shape(*size, *ptr_slots),
        Op::Begin { tag } | Op::End { tag } => check_tag(tag),
        Op::Ret { .. } | Op::Set { .. } | Op::Work { .. } | Op::Exit | Op::Gc => Ok(()),
    }
}

/// Turns block names (`bN`, any u64, unique in a trace) into dense
/// [`BlockIdx`]es in order of first appearance, remembering where each was
/// allocated so a reused name can point at the first allocation.
///
/// Traces whose names are already `0, 1, 2, ...` (what generators write) skip
/// the hash map entirely. The names themselves are the parser's to pass on
/// (to [`EventSink::source`]): the interner keeps only the map (once names
/// are not dense) and one position per block.
#[derive(Default)]
pub(crate) struct BlockInterner {
    /// Some name differs from its index, so `by_name` holds every name (until
    /// then it is empty and names are checked by comparison with indices).
    sparse: bool,
    by_name: HashMap<u64, u32, BuildHasherDefault<BlockNameHasher>>,
    /// Where each block's `alloc` is: its line or byte offset, as the
    /// caller's format counts them.
    alloc_at: Vec<u64>,
}

impl BlockInterner {
    /// Blocks interned so far.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.alloc_at.len()
    }

    /// Interns `name`, allocated at `at` (a line or byte offset). A name seen
    /// before is an error carrying where it was first allocated.
    #[inline]
    pub(crate) fn intern(&mut self, name: u64, at: u64) -> Result<BlockIdx, u64> {
        let next = self.alloc_at.len();
        if !self.sparse {
            if name == next as u64 {
                self.alloc_at.push(at);
                return Ok(BlockIdx(next as u32));
            }
            if name < next as u64 {
                return Err(self.alloc_at[name as usize]);
            }
            self.sparse = true;
            self.by_name.reserve(next + 1);
            for i in 0..next {
                self.by_name.insert(i as u64, i as u32);
            }
        }
        match self.by_name.entry(name) {
            Entry::Occupied(first) => Err(self.alloc_at[*first.get() as usize]),
            Entry::Vacant(slot) => {
                slot.insert(next as u32);
                self.alloc_at.push(at);
                Ok(BlockIdx(next as u32))
            }
        }
    }
}

/// A fast hasher for u64 block names (multiply-rotate, as in rustc's FxHash):
/// the default SipHash would cost more than the rest of an `alloc` line.
#[derive(Default)]
pub(crate) struct BlockNameHasher(u64);

impl Hasher for BlockNameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// A location in its text spelling (`l2.1.0`), for writers and messages.
pub struct TextLoc<'a>(pub &'a Loc);

impl fmt::Display for TextLoc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.root {
            Root::Local(k) => write!(f, "l{k}")?,
            Root::Global(k) => write!(f, "G{k}")?,
        }
        for k in &self.0.path {
            write!(f, ".{k}")?;
        }
        Ok(())
    }
}

/// A source in its text spelling (`nil`, `l0.1`, `l0@2`).
pub struct TextSrc<'a>(pub &'a Src);

impl fmt::Display for TextSrc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Src::Nil => f.write_str("nil"),
            Src::Loc(loc) => TextLoc(loc).fmt(f),
            Src::Interior(loc, k) => write!(f, "{}@{k}", TextLoc(loc)),
        }
    }
}

/// Writes `trace` in canonical text form: the header, `globals N` when N > 0,
/// then one event per line with block names from [`Trace::block_names`]
/// (or `b{index}` when the trace has no names).
///
/// An event the format cannot express (a tag with whitespace, a frame too
/// small for its locals, ...) is an [`io::ErrorKind::InvalidInput`] error
/// naming the event.
pub fn write_text<W: Write>(trace: &Trace, w: W) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, w);
    write_header(&mut out, trace.globals)?;
    for (i, e) in trace.events.iter().enumerate() {
        let name = match &e.op {
            Op::Alloc { block, .. } => block_name_for_writing(trace, *block, i)?,
            _ => 0,
        };
        write_event_line(&mut out, e, name).map_err(|err| annotate(err, trace, i))?;
    }
    out.flush()
}

/// The name to write for `block`: its entry in [`Trace::block_names`], or its
/// index when the trace has no names at all.
pub(crate) fn block_name_for_writing(trace: &Trace, block: BlockIdx, event: usize) -> io::Result<u64> {
    if trace.block_names.is_empty() {
        return Ok(u64::from(block.0));
    }
    trace.block_names.get(block.0 as usize).copied().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "event {}: block index {} has no name (the trace has {} block names)",
                event + 1,
                block.0,
                trace.block_names.len()
            ),
        )
    })
}

/// Prefixes an `InvalidInput` error with the event's position.
pub(crate) fn annotate(err: io::Error, trace: &Trace, event: usize) -> io::Error {
    if err.kind() == io::ErrorKind::InvalidInput {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {}: {err}", trace.file(), trace.pos(event)))
    } else {
        err
    }
}

fn write_header<W: Write>(out: &mut W, globals: u32) -> io::Result<()> {
    check_globals(globals).map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    writeln!(out, "gctrace {FORMAT_VERSION}")?;
    if globals > 0 {
        writeln!(out, "globals {globals}")?;
    }
    Ok(())
}

/// One event line; `block_name` is used for `alloc`.
fn write_event_line<W: Write>(out: &mut W, e: &Event, block_name: u64) -> io::Result<()> {
    check_event(e).map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    write!(out, "g{} ", e.g.0)?;
    match &e.op {
        Op::Call { locals, frame_bytes, args } => {
            write!(out, "call {locals}")?;
            write_frame_tail(out, *frame_bytes, args)?;
        }
        Op::Ret { copy: None } => out.write_all(b"ret")?,
        Op::Ret { copy: Some((src, dst)) } => write!(out, "ret {} {}", TextSrc(src), TextLoc(dst))?,
        Op::Alloc { dst, size, ptr_slots, cause, placement, .. } => write!(
            out,
            "alloc {} b{block_name} {size} {ptr_slots} {} {}",
            TextLoc(dst),
            cause.name(),
            placement.name()
        )?,
        Op::Go { child, locals, frame_bytes, args } => {
            write!(out, "go g{} {locals}", child.0)?;
            write_frame_tail(out, *frame_bytes, args)?;
        }
        Op::Set { dst, src } => write!(out, "set {} {}", TextLoc(dst), TextSrc(src))?,
        Op::Work { ns } => write!(out, "work {ns}")?,
        Op::Begin { tag } => write!(out, "begin {tag}")?,
        Op::End { tag } => write!(out, "end {tag}")?,
        Op::Exit => out.write_all(b"exit")?,
        Op::Gc => out.write_all(b"gc")?,
    }
    out.write_all(b"\n")
}

fn write_frame_tail<W: Write>(out: &mut W, frame_bytes: Option<u64>, args: &[Src]) -> io::Result<()> {
    if let Some(bytes) = frame_bytes {
        write!(out, " {bytes}")?;
    }
    for a in args {
        write!(out, " {}", TextSrc(a))?;
    }
    Ok(())
}

/// A streaming text writer: the header on [`TextWriter::new`], then one line
/// per [`TextWriter::write_event`]. Block [`BlockIdx`]`(i)` is written as
/// `b{i}`, so a generator that numbers blocks densely from 0 reads back the
/// same indices.
pub struct TextWriter<W: Write> {
    out: BufWriter<W>,
    /// Events written so far.
    events: u64,
}

impl<W: Write> TextWriter<W> {
    /// Writes the header (and `globals N` when N > 0).
    pub fn new(w: W, globals: u32) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 16, w);
        write_header(&mut out, globals)?;
        Ok(TextWriter { out, events: 0 })
    }

    /// Writes one event line; an event the format cannot express is an
    /// [`io::ErrorKind::InvalidInput`] error.
    pub fn write_event(&mut self, e: &Event) -> io::Result<()> {
        let name = match &e.op {
            Op::Alloc { block, .. } => u64::from(block.0),
            _ => 0,
        };
        write_event_line(&mut self.out, e, name).map_err(|err| {
            if err.kind() == io::ErrorKind::InvalidInput {
                io::Error::new(io::ErrorKind::InvalidInput, format!("event {}: {err}", self.events + 1))
            } else {
                err
            }
        })?;
        self.events += 1;
        Ok(())
    }

    /// Flushes and hands back the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `body` after a valid header line (so the body starts at line 2)
    /// and returns the error message.
    fn error_of(body: &str) -> String {
        let src = format!("gctrace 1\n{body}");
        match parse_text(&src, "t.gct") {
            Ok(t) => panic!("expected an error for {body:?}, parsed {:?}", t.events),
            Err(e) => e.to_string(),
        }
    }

    fn assert_error(body: &str, line: u64, expected: &str) {
        let msg = error_of(body);
        let prefix = format!("t.gct: line {line}: ");
        assert!(msg.starts_with(&prefix), "{msg:?} should start with {prefix:?}");
        assert!(msg.contains(expected), "{msg:?} should contain {expected:?}");
    }

    fn parse_ok(body: &str) -> Trace {
        parse_text(&format!("gctrace 1\n{body}"), "t.gct").unwrap()
    }

    #[test]
    fn header_may_carry_a_comment_and_nothing_else() {
        assert!(parse_text("gctrace 1   # a comment\n", "t.gct").is_ok());
        let e = parse_text("gctrace 1 extra\n", "t.gct").unwrap_err().to_string();
        assert!(e.starts_with("t.gct: line 1: expected header `gctrace 1`, found 'gctrace 1 extra'"), "{e}");
    }

    #[test]
    fn missing_header_is_an_error_on_line_1() {
        let e = parse_text("g1 call 1\n", "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 1: expected header `gctrace 1`, found 'g1 call 1'");
        let e = parse_text("", "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 1: expected header `gctrace 1`, found an empty file");
        let e = read_text(&b""[..], "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 1: expected header `gctrace 1`, found an empty file");
        let e = parse_text("# comment first\ngctrace 1\n", "t.gct").unwrap_err().to_string();
        assert!(e.starts_with("t.gct: line 1: expected header `gctrace 1`"), "{e}");
    }

    #[test]
    fn a_binary_file_read_as_text_says_so() {
        let e = parse_text("GCTB\u{1}\0\0\0", "t.gct").unwrap_err().to_string();
        assert!(e.contains("looks like a binary trace"), "{e}");
    }

    #[test]
    fn other_versions_are_refused() {
        let e = parse_text("gctrace 2\n", "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 1: unsupported trace version 2 (this gcwb reads version 1)");
    }

    #[test]
    fn globals_at_most_once_and_before_events() {
        assert_eq!(parse_ok("globals 3\ng1 exit\n").globals, 3);
        assert_error("globals 1\n\nglobals 2\n", 4, "a second `globals` line (the first is line 2)");
        assert_error("g1 call 1\nglobals 2\n", 3, "`globals` must come before the first event (line 2)");
        assert_error("globals\n", 2, "missing N (expected `globals N`)");
        assert_error("globals 1 2\n", 2, "unexpected '2' after the arguments (expected `globals N`)");
        assert_error("globals x\n", 2, "bad N 'x' (expected a decimal number)");
    }

    #[test]
    fn unknown_op_lists_the_ops() {
        assert_error(
            "g1 jump 3\n",
            2,
            "unknown op 'jump' (expected one of call, ret, alloc, go, set, work, begin, end, exit, gc)",
        );
        assert_error("g1\n", 2, "missing the op after g1");
    }

    #[test]
    fn unknown_cause_lists_the_causes() {
        let body = format!("{}g1 alloc l0 b1 16 1 mk-slice heap\n", "g1 work 1\n".repeat(10));
        let e = parse_text(&format!("gctrace 1\n{body}"), "trace.gct").unwrap_err().to_string();
        assert!(
            e.starts_with("trace.gct: line 12: unknown cause 'mk-slice' (expected one of new, make-slice, make-map,"),
            "{e}"
        );
        assert!(e.ends_with("map-grow, other)"), "{e}");
    }

    #[test]
    fn unknown_placement_lists_the_placements() {
        assert_error(
            "g1 alloc l0 b1 16 1 new heapish\n",
            2,
            "unknown placement 'heapish' (expected one of heap, stack, auto)",
        );
    }

    #[test]
    fn bad_numbers_name_the_argument() {
        assert_error("g1 work 12ms\n", 2, "bad NS '12ms' (expected a decimal number)");
        assert_error("g1 work -5\n", 2, "bad NS '-5'");
        assert_error("g1 work 1_000\n", 2, "bad NS '1_000'");
        assert_error("g1 alloc l0 b1 +16 0 new heap\n", 2, "bad SIZE '+16'");
        assert_error("g1 alloc l0 bx 16 0 new heap\n", 2, "expected a block name bN (N a decimal number), found 'bx'");
        assert_error("g1 alloc l0 1 16 0 new heap\n", 2, "expected a block name bN");
    }

    #[test]
    fn overflowing_numbers_are_errors() {
        assert_error(
            "g1 work 18446744073709551616\n",
            2,
            "NS 18446744073709551616 is too large (at most 18446744073709551615)",
        );
        assert_eq!(parse_ok("g1 work 18446744073709551615\n").events[0].op, Op::Work { ns: u64::MAX });
        assert_error("g1 call 4294967296\n", 2, "N 4294967296 is too large (at most 4294967295)");
        assert_error(
            "g1 alloc l0 b18446744073709551616 16 0 new heap\n",
            2,
            "block name 'b18446744073709551616' is too large",
        );
        assert_error("g1 set l4294967296 nil\n", 2, "an index in DST 'l4294967296' is too large");
        assert_error("g1 set l0 l0@4294967296\n", 2, "an index in SRC 'l0@4294967296' is too large");
        assert_error("g4294967296 exit\n", 2, "goroutine id in 'g4294967296' is too large");
    }

    #[test]
    fn missing_arguments_quote_the_usage() {
        assert_error("g1 set l0\n", 2, "missing SRC (expected `set DST SRC`)");
        assert_error("g1 alloc l0 b1 16\n", 2, "missing SLOTS (expected `alloc DST bN SIZE SLOTS CAUSE PLACEMENT`)");
        assert_error("g1 ret l0\n", 2, "missing DST (expected `ret [SRC DST]`)");
        assert_error("g1 call\n", 2, "missing N (expected `call N [BYTES] [ARG...]`)");
        assert_error("g1 go\n", 2, "missing gK (expected `go gK N [BYTES] [ARG...]`)");
        assert_error("g1 go g2\n", 2, "missing N (expected `go gK N [BYTES] [ARG...]`)");
        assert_error("g1 work\n", 2, "missing NS (expected `work NS`)");
        assert_error("g1 begin\n", 2, "missing TAG (expected `begin TAG`)");
        assert_error("g1 end # tag in a comment\n", 2, "missing TAG (expected `end TAG`)");
    }

    #[test]
    fn trailing_tokens_are_errors() {
        assert_error("g1 exit now\n", 2, "unexpected 'now' after the arguments (expected `exit`)");
        assert_error("g1 gc 1\n", 2, "unexpected '1' after the arguments (expected `gc`)");
        assert_error("g1 set l0 l1 l2\n", 2, "unexpected 'l2' after the arguments (expected `set DST SRC`)");
        assert_error("g1 ret l0 l1 l2\n", 2, "unexpected 'l2'");
        assert_error("g1 alloc l0 b1 8 1 new heap extra\n", 2, "unexpected 'extra'");
        assert_error("g1 work 5 5\n", 2, "unexpected '5'");
        assert_error("g1 begin a b\n", 2, "unexpected 'b' after the arguments (expected `begin TAG`)");
    }

    #[test]
    fn malformed_locations_and_sources() {
        for bad in ["l", "x3", "L0", "l0..1", "l0.", "l.1", "G-1", "l0.x"] {
            let first = bad;
            assert_error(&format!("g1 set {bad} nil\n"), 2, &format!("malformed location '{first}' for DST"));
        }
        assert_error("g1 set nil l0\n", 2, "a destination must be a location, not nil or an interior pointer");
        assert_error("g1 set l0@1 l0\n", 2, "malformed location 'l0@1' for DST");
        assert_error("g1 ret l0 l1@2\n", 2, "malformed location 'l1@2' for DST");
        assert_error("g1 set l0 l1@2@3\n", 2, "only one @K suffix is allowed, at the end");
        assert_error("g1 set l0 l1@2.3\n", 2, "malformed source 'l1@2.3' for SRC");
        assert_error("g1 set l0 l1@\n", 2, "malformed source 'l1@' for SRC");
        assert_error("g1 set l0 Nil\n", 2, "malformed source 'Nil' for SRC (expected nil, lK, GK,");
        assert_error("g1 call 2 l0 24\n", 2, "malformed source '24' for ARG");
    }

    #[test]
    fn nested_locations_and_interior_pointers_parse() {
        let t = parse_ok("g1 set l2.1.0 G3.4@5\ng1 ret l0@0 G1.2\n");
        assert_eq!(
            t.events[0].op,
            Op::Set { dst: Loc::local(2).slot(1).slot(0), src: Src::Interior(Loc::global(3).slot(4), 5) }
        );
        assert_eq!(t.events[1].op, Op::Ret { copy: Some((Src::Interior(Loc::local(0), 0), Loc::global(1).slot(2))) });
    }

    #[test]
    fn reused_block_name_points_at_the_first_allocation() {
        assert_error(
            "g1 call 2\ng1 alloc l0 b7 8 0 new heap\ng1 alloc l1 b8 8 0 new heap\ng1 alloc l1 b7 8 0 new heap\n",
            5,
            "block b7 is allocated twice (first at line 3); block names must be unique",
        );
        // The same through the dense fast path (names 0, 1, ...).
        assert_error(
            "g1 call 2\ng1 alloc l0 b0 8 0 new heap\ng1 alloc l1 b1 8 0 new heap\ng1 alloc l1 b0 8 0 new heap\n",
            5,
            "block b0 is allocated twice (first at line 3)",
        );
    }

    #[test]
    fn block_names_are_interned_in_order_of_appearance() {
        let t = parse_ok("g1 alloc l0 b0 8 0 new heap\ng1 alloc l0 b1 8 0 new heap\ng1 alloc l0 b9 8 0 new heap\ng1 alloc l0 b2 8 0 new heap\n");
        assert_eq!(t.block_names, vec![0, 1, 9, 2]);
        let blocks: Vec<u32> = t
            .events
            .iter()
            .map(|e| match e.op {
                Op::Alloc { block, .. } => block.0,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(blocks, vec![0, 1, 2, 3]);
    }

    #[test]
    fn frame_rules() {
        assert_error("g1 call 3 16\n", 2, "a frame of 3 pointer locals needs at least 24 bytes, BYTES is 16");
        assert_error("g1 go g2 3 16\n", 2, "a frame of 3 pointer locals needs at least 24 bytes, BYTES is 16");
        assert_error("g1 call 1 l0 l1\n", 2, "2 arguments for a frame of 1 pointer locals");
        assert_error("g1 go g2 0 nil\n", 2, "1 arguments for a frame of 0 pointer locals");
        let t = parse_ok("g1 call 2 l0 G1\ng1 call 2 24\ng1 call 2 100 nil l0.1\n");
        assert_eq!(
            t.events[0].op,
            Op::Call {
                locals: 2,
                frame_bytes: None,
                args: smallvec::smallvec![Src::Loc(Loc::local(0)), Src::Loc(Loc::global(1))]
            }
        );
        assert_eq!(t.events[1].op, Op::Call { locals: 2, frame_bytes: Some(24), args: crate::model::Args::new() });
        assert_eq!(
            t.events[2].op,
            Op::Call {
                locals: 2,
                frame_bytes: Some(100),
                args: smallvec::smallvec![Src::Nil, Src::Loc(Loc::local(0).slot(1))]
            }
        );
    }

    #[test]
    fn alloc_shape_rules() {
        assert_error("g1 alloc l0 b1 16 4 new heap\n", 2, "4 pointer slots need 32 bytes, block is 16");
        assert_error("g1 alloc l0 b1 0 0 new heap\n", 2, "SIZE must be at least 1 byte");
        assert!(parse_ok("g1 alloc l0 b1 32 4 new heap\n").events.len() == 1);
    }

    #[test]
    fn goroutine_ids_start_at_1() {
        assert_error("g0 exit\n", 2, "goroutine ids start at 1 (g1 is main), found g0");
        assert_error("g1 go g0 1\n", 2, "goroutine ids start at 1");
        assert_error("g1 go 2 1\n", 2, "expected a goroutine gK, found '2'");
        assert_error("gx exit\n", 2, "expected a goroutine gK (K a decimal number), found 'gx'");
        assert_error(
            "x1 exit\n",
            2,
            "expected an event `gK OP ...` (or `globals N` before the first event), found 'x1'",
        );
    }

    #[test]
    fn comments_blank_lines_and_crlf() {
        let t = parse_text("gctrace 1\r\n\r\n  # only a comment\r\ng1 call 1#no space\r\n\tg1   exit  \r\n", "t.gct")
            .unwrap();
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.positions, vec![SourcePos::Line(4), SourcePos::Line(5)]);
        assert_eq!(t.source_name.as_deref(), Some("t.gct"));
        let e = parse_text("gctrace 1\r\ng1 exit x\r\n", "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 2: unexpected 'x' after the arguments (expected `exit`)");
    }

    #[test]
    fn cr_only_line_endings_are_refused_not_read_as_one_comment() {
        // With a comment on the header line, a CR-only file was one line:
        // the header, then a comment swallowing every event.
        let cr_only = "gctrace 1 # cr only\rglobals 1\rg1 call 1\rg1 exit\r";
        for e in [parse_text(cr_only, "t.gct").unwrap_err(), read_text(cr_only.as_bytes(), "t.gct").unwrap_err()] {
            assert_eq!(
                e.to_string(),
                "t.gct: line 1: carriage return (\\r) inside a line, at column 20: lines end in \\n or \\r\\n \
                 (a file with CR-only line endings must be converted first)"
            );
        }
        assert_error("g1 call 1\rg1 exit\n", 2, "carriage return (\\r) inside a line, at column 10");
        assert_error("g1 exit # a comment\rwith a CR\n", 2, "at column 20");
        // A `\r` ending a line, with or without its `\n`, is still fine.
        assert_eq!(parse_text("gctrace 1\r\ng1 call 1\r\ng1 exit\r", "t.gct").unwrap().events.len(), 2);
    }

    #[test]
    fn globals_over_the_limit_are_refused_on_their_line() {
        assert_eq!(parse_ok(&format!("globals {MAX_GLOBALS}\n")).globals, MAX_GLOBALS);
        assert_error("globals 4294967295\n", 2, "4294967295 globals; gcwb supports at most 16777216");
        assert_error(&format!("globals {}\n", MAX_GLOBALS + 1), 2, "supports at most");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let bytes = b"gctrace 1\ng1 exit\ng1 begin \xff\xfe\n";
        let e = read_text(&bytes[..], "t.gct").unwrap_err().to_string();
        assert_eq!(e, "t.gct: line 3: invalid UTF-8 at column 10 (text traces are UTF-8)");
    }

    #[test]
    fn read_text_and_parse_text_agree() {
        let src =
            "gctrace 1\nglobals 2\ng1 call 2 # x\n\ng1 alloc l0 b5 24 2 make-map auto\ng1 begin req#1\ng1 end req\n";
        let a = parse_text(src, "t.gct").unwrap();
        let b = read_text(src.as_bytes(), "t.gct").unwrap();
        assert_eq!(a, b);
        // A `#` inside a would-be tag starts a comment.
        assert_eq!(a.events[2].op, Op::Begin { tag: "req".into() });
    }

    /// Records every call a parser makes on a sink.
    #[derive(Default)]
    struct LogSink {
        log: Vec<Call>,
    }

    #[derive(Debug, PartialEq)]
    enum Call {
        Start(u32),
        Source(SourcePos, Option<u64>),
        Event(Event),
        End,
    }

    impl EventSink for LogSink {
        fn start(&mut self, globals: u32) -> io::Result<()> {
            self.log.push(Call::Start(globals));
            Ok(())
        }
        fn event(&mut self, e: &Event) -> io::Result<()> {
            self.log.push(Call::Event(e.clone()));
            Ok(())
        }
        fn end(&mut self) -> io::Result<()> {
            self.log.push(Call::End);
            Ok(())
        }
        fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
            self.log.push(Call::Source(pos, block_name));
        }
    }

    /// `start` once first, `end` once last, and every event right after its
    /// `source`, with the trace `read_text` builds.
    fn assert_streams_like_read_text(src: &str) {
        let want = read_text(src.as_bytes(), "t.gct").unwrap();
        let mut sink = LogSink::default();
        read_text_into(src.as_bytes(), "t.gct", &mut sink).unwrap();
        let mut expected = vec![Call::Start(want.globals)];
        let mut blocks = want.block_names.iter();
        for (e, pos) in want.events.iter().zip(&want.positions) {
            let name = match e.op {
                Op::Alloc { .. } => blocks.next().copied(),
                _ => None,
            };
            expected.push(Call::Source(*pos, name));
            expected.push(Call::Event(e.clone()));
        }
        expected.push(Call::End);
        assert_eq!(sink.log, expected, "{src:?}");
        let mut in_memory = LogSink::default();
        parse_text_into(src, "t.gct", &mut in_memory).unwrap();
        assert_eq!(in_memory.log, expected, "parse_text_into {src:?}");
        // A MemorySink fed through the public path keeps positions and names.
        let mut sink = MemorySink::new();
        read_text_into(src.as_bytes(), "t.gct", &mut sink).unwrap();
        assert_eq!(named(sink, "t.gct"), want);
    }

    #[test]
    fn read_text_into_calls_the_sink_in_order() {
        let src = "gctrace 1\n# c\nglobals 2\n\ng1 call 2 # x\ng1 alloc l0 b5 24 2 make-map auto\n\
                   g1 alloc l1 b0 8 0 new heap\ng1 begin req\ng1 end req\ng1 exit\n";
        assert_streams_like_read_text(src);
        let mut sink = LogSink::default();
        read_text_into(src.as_bytes(), "t.gct", &mut sink).unwrap();
        assert_eq!(sink.log.len(), 1 + 2 * 6 + 1);
        assert_eq!(sink.log[0], Call::Start(2));
        assert_eq!(sink.log[1], Call::Source(SourcePos::Line(5), None));
        assert_eq!(sink.log[3], Call::Source(SourcePos::Line(6), Some(5)));
        assert_eq!(sink.log[5], Call::Source(SourcePos::Line(7), Some(0)));
        assert_eq!(sink.log.last(), Some(&Call::End));
        // No `globals` line: 0; no events: start and end all the same.
        assert_streams_like_read_text("gctrace 1\ng1 exit\n");
        assert_streams_like_read_text("gctrace 1\n");
        assert_streams_like_read_text("gctrace 1\nglobals 4\n# nothing else\n");
        let mut sink = LogSink::default();
        read_text_into(&b"gctrace 1\nglobals 4\n"[..], "t.gct", &mut sink).unwrap();
        assert_eq!(sink.log, vec![Call::Start(4), Call::End]);
    }

    #[test]
    fn read_text_into_reports_errors_as_read_text_does() {
        for body in
            ["g1 call 1\nglobals 2\n", "g1 alloc l0 b1 8 0 new heap\ng1 alloc l0 b1 8 0 new heap\n", "g1 frob\n"]
        {
            let src = format!("gctrace 1\n{body}");
            let want = read_text(src.as_bytes(), "t.gct").unwrap_err().to_string();
            let mut sink = LogSink::default();
            let got = read_text_into(src.as_bytes(), "t.gct", &mut sink).unwrap_err().to_string();
            assert_eq!(got, want);
            assert!(!sink.log.contains(&Call::End), "no end after an error");
        }
        let e = error_of("g1 call 1\ng1 exit\nglobals 2\n");
        assert_eq!(e, "t.gct: line 4: `globals` must come before the first event (line 2)");
    }

    #[test]
    fn a_sinks_trace_error_is_returned_as_it_is() {
        struct Refuses(io::ErrorKind);
        impl EventSink for Refuses {
            fn start(&mut self, _: u32) -> io::Result<()> {
                Ok(())
            }
            fn event(&mut self, e: &Event) -> io::Result<()> {
                match (e.op == Op::Gc, self.0) {
                    (false, _) => Ok(()),
                    (true, io::ErrorKind::Other) => {
                        Err(io::Error::other(TraceError::invalid("t.gct", "event 2", "no gc please")))
                    }
                    (true, kind) => Err(io::Error::new(kind, "full")),
                }
            }
            fn end(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let src = "gctrace 1\ng1 exit\ng1 gc\n";
        let e = read_text_into(src.as_bytes(), "t.gct", &mut Refuses(io::ErrorKind::Other)).unwrap_err();
        assert!(matches!(e, TraceError::Invalid { .. }));
        assert_eq!(e.to_string(), "t.gct: event 2: no gc please");
        let e = read_text_into(src.as_bytes(), "t.gct", &mut Refuses(io::ErrorKind::StorageFull)).unwrap_err();
        assert!(matches!(&e, TraceError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull));
        assert_eq!(e.to_string(), "t.gct: full");
        // A plain `other` error that wraps no TraceError stays an I/O error.
        let e = sink_error("t.gct", io::Error::other("boom"));
        assert!(matches!(&e, TraceError::Io { source, .. } if source.to_string() == "boom"));
    }

    #[test]
    fn writers_refuse_events_the_format_cannot_express() {
        let mut w = TextWriter::new(Vec::new(), 0).unwrap();
        let bad = Event { g: GoroutineId(1), op: Op::Begin { tag: "two words".into() } };
        let e = w.write_event(&bad).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("event 1: TAG 'two words' contains whitespace"), "{e}");
        let bad = Event { g: GoroutineId(0), op: Op::Exit };
        let e = w.write_event(&bad).unwrap_err().to_string();
        assert!(e.contains("event 1: goroutine ids start at 1"), "{e}");
        // Nothing of the refused events reached the output.
        assert_eq!(w.finish().unwrap(), b"gctrace 1\n");
        // Nor is a header the reader would refuse written.
        let e = TextWriter::new(Vec::new(), MAX_GLOBALS + 1).err().expect("refused");
        assert!(e.to_string().contains("supports at most 16777216"), "{e}");
    }

    #[test]
    fn text_loc_and_src_spell_as_written() {
        let loc = Loc::local(2).slot(1).slot(0);
        assert_eq!(TextLoc(&loc).to_string(), "l2.1.0");
        assert_eq!(TextSrc(&Src::Interior(Loc::global(0), 3)).to_string(), "G0@3");
        assert_eq!(TextSrc(&Src::Nil).to_string(), "nil");
    }
}

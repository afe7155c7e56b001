//! The hand-off form: events in batches, as a reader (a parser, a
//! generator, the Go interpreter) hands them to pass 1 ([`super::Preparer`]).
//!
//! A parsed [`Event`] costs 88 bytes plus its heap parts, and pass 1 would
//! only re-encode it into [`super::code`]'s compact instructions. Here the
//! producer encodes each event once, into code.rs's instruction encoding
//! with what pass 1 has not assigned yet still in the trace's terms; pass 1
//! reads the instruction where it lies (through [`code::Insn`] views) and
//! copies its bytes into the goroutine's program, rewriting only what it
//! assigns. A batch is a few bytes an event, and nothing in it is dropped
//! or cloned one event at a time.
//!
//! # Layout of one instruction
//!
//! As in [`super::code`], with these differences:
//!
//! ```text
//! head    u8      kind (low 4 bits) | HAS_FRAME_BYTES (0x20) | NEW_GOROUTINE (0x40); never HAS_DEPS
//! [g]     varint raw goroutine id (`gN` as N)       if NEW_GOROUTINE; else the previous
//!                                                    event's in the batch (g1 for the first)
//! body    as code.rs's, except:
//!   GO        varint child as the raw goroutine id (pass 1 gives it its dense index)
//!   ALLOC     loc, varint block, varint size, varint ptr_slots, u8 cause, u8 placement
//!             (cause: index in `Cause::ALL`; placement: the binary format's code)
//!   BEGIN/END varint tag, interned by the producer (see below)
//! ```
//!
//! No dependencies: pass 1 computes them. Each batch stands alone for its
//! goroutines (the first event names its goroutine unless it is g1). Span
//! tags are numbered by the producer in the order of first use over the
//! whole stream, which is the order pass 1 numbers them in; a batch carries
//! the strings of the tags first used in it (`WireBatch::new_tags`).
//!
//! # Side arrays
//!
//! What only some sources give is kept beside the instructions: the events'
//! positions (one per event, when the source gives them), and the block
//! names that differ from their dense index, as `(event in batch, name)`.
//!
//! Parts: [`WireBatch`] (one batch), [`WireEncoder`] (an
//! [`EventSink`] that fills batches), [`WireSink`] (a sink built on an
//! encoder, which a binary trace's records are then decoded straight into:
//! [`crate::file::load_into_wire`]), and the crate's reader of batches,
//! `WireReader`, which pass 1 uses.

use super::code::{self, kind, Encoder, Insn, HAS_FRAME_BYTES, KIND_MASK};
use crate::binary::{opcode, placement_code, placement_from_code, RecordOp, RecordOut};
use crate::model::{Cause, Event, GoroutineId, Op, Placement, Root, SourcePos};
use crate::sink::EventSink;
use std::collections::HashMap;
use std::io;

/// Head flag: the event's raw goroutine id follows the head byte.
const NEW_GOROUTINE: u8 = 0x40;

/// A batch of events in the hand-off form. Recycle batches: a batch handed
/// back to [`WireEncoder::take_batch`] keeps its buffers' memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireBatch {
    /// The number of globals, when the batch opens the trace.
    pub(crate) start: Option<u32>,
    /// The instructions (see the module comment).
    pub(crate) code: Vec<u8>,
    /// How many instructions `code` holds.
    pub(crate) events: u32,
    /// The span tags first used in this batch, in the order of their numbers.
    pub(crate) new_tags: Vec<String>,
    /// The events' positions, when the source gives them (one per event).
    pub(crate) positions: Vec<SourcePos>,
    /// `(event in batch, name)` for each `alloc` whose block's name, as
    /// the source wrote it, is not its dense index; in event order.
    pub(crate) names: Vec<(u32, u64)>,
}

impl WireBatch {
    /// How many events it holds.
    pub fn events(&self) -> usize {
        self.events as usize
    }

    /// Bytes of encoded instructions.
    pub fn code_bytes(&self) -> usize {
        self.code.len()
    }

    /// Nothing to hand over: no start and no event.
    pub fn is_empty(&self) -> bool {
        self.start.is_none() && self.events == 0
    }

    fn clear(&mut self) {
        self.start = None;
        self.code.clear();
        self.events = 0;
        self.new_tags.clear();
        self.positions.clear();
        self.names.clear();
    }
}

/// Encodes events into [`WireBatch`]es: an [`EventSink`], so every producer
/// of events writes into it unchanged. The batch being filled is
/// [`WireEncoder::batch`]; [`WireEncoder::take_batch`] hands it over and
/// goes on in a fresh one.
pub struct WireEncoder {
    batch: WireBatch,
    /// The goroutine of the previous event in the batch.
    prev_g: u32,
    /// Span tags numbered so far, over the whole stream.
    tag_ids: HashMap<String, u32>,
    /// The block name the source gave for the next event.
    pending_name: Option<u64>,
}

impl Default for WireEncoder {
    fn default() -> WireEncoder {
        WireEncoder::new()
    }
}

impl WireEncoder {
    pub fn new() -> WireEncoder {
        WireEncoder {
            batch: WireBatch::default(),
            prev_g: GoroutineId::MAIN.0,
            tag_ids: HashMap::new(),
            pending_name: None,
        }
    }

    /// The batch being filled.
    pub fn batch(&self) -> &WireBatch {
        &self.batch
    }

    /// Hands over the batch filled so far and goes on in `empty` (cleared
    /// first, so a recycled batch may be given as it came back).
    pub fn take_batch(&mut self, mut empty: WireBatch) -> WireBatch {
        empty.clear();
        self.prev_g = GoroutineId::MAIN.0;
        std::mem::replace(&mut self.batch, empty)
    }

    /// The name of the next event's block, for a source that names blocks
    /// without positions (an in-memory trace without them).
    pub(crate) fn name_next(&mut self, block_name: Option<u64>) {
        self.pending_name = block_name;
    }

    /// The producer's number of span tag `name`.
    fn tag(&mut self, name: &str) -> u32 {
        if let Some(&t) = self.tag_ids.get(name) {
            return t;
        }
        let t = self.tag_ids.len() as u32;
        self.tag_ids.insert(name.to_string(), t);
        self.batch.new_tags.push(name.to_string());
        t
    }

    fn encode(&mut self, ev: &Event) {
        let name = self.pending_name.take();
        let (k, frame_bytes) = match &ev.op {
            Op::Call { frame_bytes, .. } => (kind::CALL, frame_bytes.is_some()),
            Op::Ret { copy: None } => (kind::RET, false),
            Op::Ret { copy: Some(_) } => (kind::RET_COPY, false),
            Op::Alloc { .. } => (kind::ALLOC, false),
            Op::Go { frame_bytes, .. } => (kind::GO, frame_bytes.is_some()),
            Op::Set { .. } => (kind::SET, false),
            Op::Work { .. } => (kind::WORK, false),
            Op::Begin { .. } => (kind::BEGIN, false),
            Op::End { .. } => (kind::END, false),
            Op::Exit => (kind::EXIT, false),
            Op::Gc => (kind::GC, false),
        };
        let tag = match &ev.op {
            Op::Begin { tag } | Op::End { tag } => self.tag(tag),
            _ => 0,
        };
        let mut head = k;
        if frame_bytes {
            head |= HAS_FRAME_BYTES;
        }
        let new_g = ev.g.0 != self.prev_g;
        if new_g {
            head |= NEW_GOROUTINE;
            self.prev_g = ev.g.0;
        }
        let at = self.batch.events;
        let mut e = Encoder { buf: &mut self.batch.code };
        e.buf.push(head);
        if new_g {
            e.varint(u64::from(ev.g.0));
        }
        match &ev.op {
            Op::Call { locals, frame_bytes, args } => e.frame(*locals, *frame_bytes, args),
            Op::Ret { copy: None } | Op::Exit | Op::Gc => {}
            Op::Ret { copy: Some((src, dst)) } => {
                e.src(src);
                e.loc(dst);
            }
            Op::Alloc { dst, block, size, ptr_slots, cause, placement } => {
                e.loc(dst);
                e.varint(u64::from(block.0));
                e.varint(*size);
                e.varint(u64::from(*ptr_slots));
                e.buf.push(cause.index() as u8);
                e.buf.push(placement_code(*placement));
                if let Some(n) = name.filter(|&n| n != u64::from(block.0)) {
                    self.batch.names.push((at, n));
                }
            }
            Op::Go { child, locals, frame_bytes, args } => {
                e.varint(u64::from(child.0));
                e.frame(*locals, *frame_bytes, args);
            }
            Op::Set { dst, src } => {
                e.loc(dst);
                e.src(src);
            }
            Op::Work { ns } => e.varint(*ns),
            Op::Begin { .. } | Op::End { .. } => e.varint(u64::from(tag)),
        }
        self.batch.events += 1;
    }
}

impl EventSink for WireEncoder {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.batch.start = Some(globals);
        Ok(())
    }
    #[inline]
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.encode(e);
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
    #[inline]
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        self.batch.positions.push(pos);
        self.pending_name = block_name;
    }
}

/// An [`EventSink`] whose events go into a [`WireEncoder`]: it also takes
/// events written straight into its encoder (by the binary trace reader,
/// [`crate::file::load_into_wire`]), each followed by
/// [`WireSink::encoded`], where it hands a full batch over as it does after
/// [`EventSink::event`].
pub trait WireSink: EventSink {
    /// The encoder its events go into.
    fn encoder(&mut self) -> &mut WireEncoder;
    /// An event was written straight into [`WireSink::encoder`].
    fn encoded(&mut self) -> io::Result<()>;
}

// The binary format's source tags are the instruction encoding's.
const _: () = assert!(crate::binary::SRC_NIL == 0 && crate::binary::SRC_LOC == 1 && crate::binary::SRC_INTERIOR == 2);

/// The binary record decoder's output for a [`WireSink`]: each record
/// written into the sink's batch as it is decoded (no [`Event`] is built).
pub(crate) struct WireRecords<'s, S: ?Sized> {
    pub sink: &'s mut S,
    /// Where the record being decoded starts in the batch, until it is pushed.
    record_at: Option<usize>,
    /// Its goroutine.
    g: u32,
    /// Its block, for an `alloc`.
    block: Option<u32>,
}

impl<'s, S: WireSink + ?Sized> WireRecords<'s, S> {
    pub fn new(sink: &'s mut S) -> Self {
        WireRecords { sink, record_at: None, g: 0, block: None }
    }

    #[inline(always)]
    fn enc(&mut self) -> Encoder<'_> {
        Encoder { buf: &mut self.sink.encoder().batch.code }
    }
}

impl<S: WireSink + ?Sized> RecordOut for WireRecords<'_, S> {
    type Loc = ();
    type Src = ();
    /// Where the arguments start in the batch, when there are any.
    type Args = Option<usize>;
    type Event = ();

    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.sink.start(globals)
    }
    #[inline(always)]
    fn push(&mut self, pos: SourcePos, block_name: Option<u64>, _: ()) -> io::Result<()> {
        self.record_at = None;
        let block = self.block.take();
        let w = self.sink.encoder();
        w.prev_g = self.g;
        let b = &mut w.batch;
        b.positions.push(pos);
        if let (Some(n), Some(block)) = (block_name, block) {
            if n != u64::from(block) {
                b.names.push((b.events, n));
            }
        }
        b.events += 1;
        self.sink.encoded()
    }
    fn end(&mut self) -> io::Result<()> {
        self.sink.end()
    }
    #[inline(always)]
    fn abandon(&mut self) {
        if let Some(at) = self.record_at.take() {
            self.sink.encoder().batch.code.truncate(at);
        }
        self.block = None;
    }
    #[inline(always)]
    fn head(&mut self, code: u8, g: u32) {
        let (k, frame_bytes) = match code {
            opcode::CALL => (kind::CALL, 0),
            opcode::CALL_BYTES => (kind::CALL, HAS_FRAME_BYTES),
            opcode::RET => (kind::RET, 0),
            opcode::RET_COPY => (kind::RET_COPY, 0),
            opcode::ALLOC => (kind::ALLOC, 0),
            opcode::GO => (kind::GO, 0),
            opcode::GO_BYTES => (kind::GO, HAS_FRAME_BYTES),
            opcode::SET => (kind::SET, 0),
            opcode::WORK => (kind::WORK, 0),
            opcode::BEGIN => (kind::BEGIN, 0),
            opcode::END => (kind::END, 0),
            opcode::EXIT => (kind::EXIT, 0),
            _ => (kind::GC, 0),
        };
        let w = self.sink.encoder();
        let new_g = g != w.prev_g;
        let code = &mut w.batch.code;
        self.record_at = Some(code.len());
        self.g = g;
        code.push(k | frame_bytes | if new_g { NEW_GOROUTINE } else { 0 });
        if new_g {
            Encoder { buf: code }.varint(u64::from(g));
        }
    }
    #[inline(always)]
    fn loc_start(&mut self, root: Root, steps: u64) {
        self.enc().loc_head(root, steps);
    }
    #[inline(always)]
    fn loc_step(&mut self, _: &mut (), k: u32) {
        self.enc().varint(u64::from(k));
    }
    #[inline(always)]
    fn src_tag(&mut self, tag: u8) {
        self.enc().buf.push(tag);
    }
    #[inline(always)]
    fn src_nil(&mut self) {}
    #[inline(always)]
    fn src_loc(&mut self, _: ()) {}
    #[inline(always)]
    fn src_interior(&mut self, _: (), k: u32) {
        self.enc().varint(u64::from(k));
    }
    #[inline(always)]
    fn frame_start(
        &mut self,
        child: Option<u32>,
        locals: u32,
        frame_bytes: Option<u64>,
        nargs: usize,
        _room: usize,
    ) -> Option<usize> {
        let mut e = self.enc();
        if let Some(child) = child {
            e.varint(u64::from(child));
        }
        e.varint(u64::from(locals));
        if let Some(b) = frame_bytes {
            e.varint(b);
        }
        e.varint(nargs as u64);
        (nargs > 0).then_some(e.buf.len())
    }
    #[inline(always)]
    fn arg(&mut self, _: &mut Option<usize>, _: ()) {}
    #[inline(always)]
    fn frame_end(&mut self, args: &mut Option<usize>) {
        if let Some(at) = *args {
            self.enc().size_ahead(at);
        }
    }
    #[inline(always)]
    fn op(&mut self, _g: u32, op: RecordOp<'_, (), (), Option<usize>>) {
        match op {
            RecordOp::Alloc { block, size, ptr_slots, cause, placement, .. } => {
                self.block = Some(block.0);
                let mut e = self.enc();
                e.varint(u64::from(block.0));
                e.varint(size);
                e.varint(u64::from(ptr_slots));
                e.buf.push(cause.index() as u8);
                e.buf.push(placement_code(placement));
            }
            RecordOp::Work { ns } => self.enc().varint(ns),
            RecordOp::Begin { tag } | RecordOp::End { tag } => {
                let t = self.sink.encoder().tag(tag);
                self.enc().varint(u64::from(t));
            }
            RecordOp::Call { .. } | RecordOp::Ret { .. } | RecordOp::Go { .. } | RecordOp::Set { .. } => {}
            RecordOp::Exit | RecordOp::Gc => {}
        }
    }
}

/// One instruction of a batch, decoded in place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireInsn<'a> {
    /// The raw goroutine id (`gN` as N).
    pub g: u32,
    /// The instruction kind ([`code::kind`]).
    pub kind: u8,
    /// `call`/`go` give their frame's size.
    pub frame_bytes_given: bool,
    /// The instruction; `Go`'s `child` is the raw goroutine id, `Begin`'s
    /// and `End`'s `tag` the producer's number (which is pass 1's).
    pub insn: Insn<'a>,
    /// An `alloc`'s cause and placement (`Other`, `Auto` for other kinds).
    pub cause: Cause,
    pub placement: Placement,
    /// The body's bytes that a program holds as they are: for `go` those
    /// after the child, for `alloc` those before the cause, else all.
    pub rest: &'a [u8],
}

/// A cursor over one batch's instructions (the batch is trusted: its only
/// writer is [`WireEncoder`]).
pub(crate) struct WireReader {
    pos: usize,
    g: u32,
}

impl WireReader {
    pub fn new() -> WireReader {
        WireReader { pos: 0, g: GoroutineId::MAIN.0 }
    }

    /// Decodes the instruction at the cursor and moves past it.
    #[inline]
    pub fn next<'a>(&mut self, b: &'a [u8]) -> WireInsn<'a> {
        let pos = &mut self.pos;
        let head = b[*pos];
        *pos += 1;
        if head & NEW_GOROUTINE != 0 {
            self.g = code::read_varint(b, pos) as u32;
        }
        let k = head & KIND_MASK;
        let mut start = *pos;
        let insn = code::read_body(b, pos, head);
        let end = *pos;
        let (mut cause, mut placement) = (Cause::Other, Placement::Auto);
        match k {
            kind::GO => code::skip_varint(b, &mut start),
            kind::ALLOC => {
                cause = Cause::ALL.get(usize::from(b[end])).copied().unwrap_or(Cause::Other);
                placement = placement_from_code(b[end + 1]).unwrap_or(Placement::Auto);
                *pos += 2;
            }
            _ => {}
        }
        WireInsn {
            g: self.g,
            kind: k,
            frame_bytes_given: head & HAS_FRAME_BYTES != 0,
            insn,
            cause,
            placement,
            rest: &b[start..end],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{gl, interior, l};
    use crate::model::{Args, BlockIdx, Loc, Src};

    /// Decodes a batch back into events (the tags numbered by `tags`).
    fn decode(batch: &WireBatch, tags: &[String]) -> Vec<Event> {
        let mut r = WireReader::new();
        (0..batch.events)
            .map(|_| {
                let w = r.next(&batch.code);
                let op = match w.insn {
                    Insn::Call { locals, frame_bytes, args } => Op::Call {
                        locals,
                        frame_bytes: w.frame_bytes_given.then_some(frame_bytes),
                        args: args.map(|a| a.to_src()).collect::<Args>(),
                    },
                    Insn::Ret { copy } => Op::Ret { copy: copy.map(|(s, d)| (s.to_src(), d.to_loc())) },
                    Insn::Alloc { dst, block, size, ptr_slots } => Op::Alloc {
                        dst: dst.to_loc(),
                        block: BlockIdx(block),
                        size,
                        ptr_slots,
                        cause: w.cause,
                        placement: w.placement,
                    },
                    Insn::Go { child, locals, frame_bytes, args } => Op::Go {
                        child: GoroutineId(child),
                        locals,
                        frame_bytes: w.frame_bytes_given.then_some(frame_bytes),
                        args: args.map(|a| a.to_src()).collect::<Args>(),
                    },
                    Insn::Set { dst, src } => Op::Set { dst: dst.to_loc(), src: src.to_src() },
                    Insn::Work { ns } => Op::Work { ns },
                    Insn::Begin { tag } => Op::Begin { tag: tags[tag as usize].clone() },
                    Insn::End { tag } => Op::End { tag: tags[tag as usize].clone() },
                    Insn::Exit => Op::Exit,
                    Insn::Gc => Op::Gc,
                };
                Event { g: GoroutineId(w.g), op }
            })
            .collect()
    }

    fn ev(g: u32, op: Op) -> Event {
        Event { g: GoroutineId(g), op }
    }

    fn alloc(dst: Loc, block: u32, cause: Cause, placement: Placement) -> Op {
        Op::Alloc { dst, block: BlockIdx(block), size: 1 << 20, ptr_slots: 300, cause, placement }
    }

    /// Every op kind, every cause and placement, frames with and without a
    /// size, arguments of every source form, goroutines switching.
    fn every_kind() -> Vec<Event> {
        let mut events = vec![
            ev(1, Op::Call { locals: 3, frame_bytes: None, args: Args::new() }),
            ev(
                1,
                Op::Call {
                    locals: 200,
                    frame_bytes: Some(1 << 33),
                    args: [Src::Nil, l(1).slot(2).into(), interior(gl(300).slot(1).slot(2).slot(3), 9)]
                        .into_iter()
                        .collect(),
                },
            ),
            ev(1, Op::Go { child: GoroutineId(70_000), locals: 2, frame_bytes: None, args: [l(0).into()].into() }),
            ev(70_000, Op::Set { dst: l(1).slot(0), src: interior(l(0), 4) }),
            ev(70_000, Op::Go { child: GoroutineId(3), locals: 1, frame_bytes: Some(64), args: Args::new() }),
            ev(3, Op::Begin { tag: "req".to_string() }),
            ev(1, Op::Work { ns: u64::MAX }),
            ev(3, Op::End { tag: "req".to_string() }),
            ev(3, Op::Begin { tag: "other".to_string() }),
            ev(1, Op::Ret { copy: Some((l(0).slot(7).into(), l(1))) }),
            ev(1, Op::Ret { copy: None }),
            ev(70_000, Op::Gc),
            ev(70_000, Op::Exit),
        ];
        for (k, &cause) in Cause::ALL.iter().enumerate() {
            for (j, placement) in [Placement::Heap, Placement::Stack, Placement::Auto].into_iter().enumerate() {
                let block = (k * 3 + j) as u32;
                events.push(ev(
                    1 + j as u32,
                    alloc(gl(k as u32).slot(1).slot(2).slot(3).slot(4), block, cause, placement),
                ));
            }
        }
        events
    }

    #[test]
    fn every_op_kind_round_trips_with_goroutine_switches() {
        let events = every_kind();
        let mut w = WireEncoder::new();
        w.start(7).unwrap();
        for e in &events {
            w.event(e).unwrap();
        }
        let batch = w.take_batch(WireBatch::default());
        assert_eq!(batch.start, Some(7));
        assert_eq!(batch.events(), events.len());
        assert_eq!(batch.new_tags, vec!["req".to_string(), "other".to_string()]);
        assert!(batch.positions.is_empty() && batch.names.is_empty());
        assert_eq!(decode(&batch, &batch.new_tags), events);
    }

    #[test]
    fn only_goroutine_switches_name_the_goroutine() {
        let mut w = WireEncoder::new();
        for g in [1, 1, 2, 2, 2, 1] {
            w.event(&ev(g, Op::Gc)).unwrap();
        }
        // g1's first event is implied; then two switches of two bytes.
        assert_eq!(
            w.batch().code,
            vec![kind::GC, kind::GC, kind::GC | NEW_GOROUTINE, 2, kind::GC, kind::GC, kind::GC | NEW_GOROUTINE, 1]
        );
    }

    #[test]
    fn each_batch_stands_alone_for_goroutines_and_tags_continue_across_batches() {
        let mut w = WireEncoder::new();
        w.event(&ev(5, Op::Begin { tag: "a".to_string() })).unwrap();
        let first = w.take_batch(WireBatch::default());
        w.event(&ev(5, Op::End { tag: "a".to_string() })).unwrap();
        w.event(&ev(5, Op::Begin { tag: "b".to_string() })).unwrap();
        // A recycled batch is cleared before it is filled again.
        let second = w.take_batch(first.clone());
        assert_eq!(first.new_tags, vec!["a".to_string()]);
        assert_eq!(second.new_tags, vec!["b".to_string()]);
        let tags = vec!["a".to_string(), "b".to_string()];
        assert_eq!(decode(&first, &tags), vec![ev(5, Op::Begin { tag: "a".to_string() })]);
        assert_eq!(
            decode(&second, &tags),
            vec![ev(5, Op::End { tag: "a".to_string() }), ev(5, Op::Begin { tag: "b".to_string() })]
        );
        let third = w.take_batch(first);
        assert!(third.is_empty() && third.new_tags.is_empty() && third.code.is_empty());
    }

    #[test]
    fn positions_and_only_the_names_that_differ_from_their_index_are_kept() {
        let mut w = WireEncoder::new();
        let a = |b| ev(1, alloc(l(0), b, Cause::New, Placement::Auto));
        w.source(SourcePos::Offset(13), Some(0));
        w.event(&a(0)).unwrap();
        w.source(SourcePos::Offset(20), None);
        w.event(&ev(1, Op::Gc)).unwrap();
        w.source(SourcePos::Offset(22), Some(99));
        w.event(&a(1)).unwrap();
        w.name_next(Some(7));
        w.event(&a(2)).unwrap();
        let batch = w.take_batch(WireBatch::default());
        assert_eq!(batch.positions, vec![SourcePos::Offset(13), SourcePos::Offset(20), SourcePos::Offset(22)]);
        assert_eq!(batch.names, vec![(2, 99), (3, 7)]);
        // Names are per batch: event numbers start again.
        w.source(SourcePos::Line(4), Some(5));
        w.event(&a(3)).unwrap();
        let batch = w.take_batch(batch);
        assert_eq!(batch.positions, vec![SourcePos::Line(4)]);
        assert_eq!(batch.names, vec![(0, 5)]);
    }

    #[test]
    fn the_program_keeps_the_body_bytes_pass_one_copies() {
        let mut w = WireEncoder::new();
        let go = ev(1, Op::Go { child: GoroutineId(300), locals: 2, frame_bytes: None, args: [l(0).into()].into() });
        let a = ev(1, alloc(l(1).slot(2), 5, Cause::MapGrow, Placement::Stack));
        w.event(&go).unwrap();
        w.event(&a).unwrap();
        let batch = w.take_batch(WireBatch::default());
        let mut r = WireReader::new();
        let g = r.next(&batch.code);
        // The child (300: two bytes) is not in `rest`; the frame is.
        let mut frame = Vec::new();
        Encoder { buf: &mut frame }.frame(2, None, &[l(0).into()]);
        assert_eq!(g.rest, &frame[..]);
        let al = r.next(&batch.code);
        assert_eq!((al.cause, al.placement), (Cause::MapGrow, Placement::Stack));
        let mut body = Vec::new();
        let mut e = Encoder { buf: &mut body };
        e.loc(&l(1).slot(2));
        e.varint(5);
        e.varint(1 << 20);
        e.varint(300);
        assert_eq!(al.rest, &body[..]);
        assert_eq!(r.pos, batch.code.len());
    }
}

//! Where events go: the [`EventSink`] trait that every producer of events
//! (the text and binary parsers, the trace builder and so every generator)
//! writes into, and [`MemorySink`], which collects them into a [`Trace`].
//!
//! It sits below everything that produces or consumes events: the codecs
//! ([`crate::text`], [`crate::binary`]) and the builder ([`crate::builder`])
//! write into sinks; the analysis ([`crate::analysis::Preparer`]) and the
//! writers' sinks (`TextSink`, `BinarySink` in [`crate::builder`]) are sinks.

use crate::model::{Event, Op, SourcePos, Trace};
use std::io;

/// Where events go: a parser's, a generator's (through the builder).
pub trait EventSink {
    /// Called once, before any event, with the number of globals.
    fn start(&mut self, globals: u32) -> io::Result<()>;
    /// One event; `Alloc` events name blocks densely from `BlockIdx(0)`.
    fn event(&mut self, e: &Event) -> io::Result<()>;
    /// Called once after the last event (flush, write trailers).
    fn end(&mut self) -> io::Result<()>;
    /// Where the next event comes from, for a sink fed by a parser: its
    /// line or byte offset, and for an `alloc` the block's name as written
    /// (`N` of `bN`; the event's [`BlockIdx`](crate::model::BlockIdx) is its dense index). Called
    /// just before [`EventSink::event`]; generators never call it (their
    /// events are named by ordinal and their blocks by index).
    #[inline]
    fn source(&mut self, _pos: SourcePos, _block_name: Option<u64>) {}
    /// [`EventSink::event`] for an event the caller no longer needs (the
    /// parsers hand over what they decoded): a sink that keeps events takes
    /// it without a clone.
    #[inline]
    fn event_owned(&mut self, e: Event) -> io::Result<()> {
        self.event(&e)
    }
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
    #[inline]
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        (**self).source(pos, block_name)
    }
    #[inline]
    fn event_owned(&mut self, e: Event) -> io::Result<()> {
        (**self).event_owned(e)
    }
}

/// Collects events into an in-memory [`Trace`].
///
/// Fed by a generator, the trace has no positions and its block names are
/// the dense indices. Fed by a parser (which calls [`EventSink::source`]
/// before every event), it records each event's position in
/// [`Trace::positions`] and each block's name as written in
/// [`Trace::block_names`], as the in-memory loaders do.
#[derive(Default)]
pub struct MemorySink {
    trace: Trace,
    /// Blocks seen so far: one more than the largest `Alloc` index.
    blocks: u32,
    /// [`EventSink::source`] was called: positions and block names come
    /// from the parser instead of being the ordinals and indices.
    sourced: bool,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }
    /// The trace built: block names as given to [`EventSink::source`], or
    /// the dense indices when it was never called.
    pub fn into_trace(mut self) -> Trace {
        if !self.sourced {
            self.trace.block_names = (0..u64::from(self.blocks)).collect();
        }
        self.trace
    }
    /// Makes room for `events` more events (and their positions, when
    /// `with_positions`): a loader's guess from its input's size.
    pub(crate) fn reserve(&mut self, events: usize, with_positions: bool) {
        self.trace.events.reserve(events);
        if with_positions {
            self.trace.positions.reserve(events);
        }
    }
    /// A parsed event, taken by value (no clone): [`EventSink::source`] then
    /// [`EventSink::event`] in one step.
    #[inline]
    pub(crate) fn push_parsed(&mut self, pos: SourcePos, block_name: Option<u64>, e: Event) {
        self.source(pos, block_name);
        if let Op::Alloc { block, .. } = &e.op {
            self.blocks = self.blocks.max(block.0 + 1);
        }
        self.trace.events.push(e);
    }
}

impl EventSink for MemorySink {
    fn start(&mut self, globals: u32) -> io::Result<()> {
        self.trace.globals = globals;
        Ok(())
    }
    fn event(&mut self, e: &Event) -> io::Result<()> {
        if let Op::Alloc { block, .. } = &e.op {
            self.blocks = self.blocks.max(block.0 + 1);
        }
        self.trace.events.push(e.clone());
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
    #[inline]
    fn source(&mut self, pos: SourcePos, block_name: Option<u64>) {
        self.sourced = true;
        self.trace.positions.push(pos);
        if let Some(name) = block_name {
            self.trace.block_names.push(name);
        }
    }
}

//! Executing one trace event against real memory.
//!
//! Locations resolve to real slots: a local is a word of the goroutine's
//! stack, a global a word of the global zone, `X.K` the heap or stack word
//! `K` words past the address X holds. Stores into heap slots go through the
//! collector's write barrier; stores into locals, globals and stack blocks'
//! slots do not (as in Go). The evaluation order is the one
//! `docs/trace-format.md` fixes, so that the verifier's list of expected
//! dereferences lines up with what happens here.

use super::goroutine::{GoroutineState, OpenSpan};
use super::{EventAt, Fault, Replay};
use crate::latency::SpanRecord;
use collectors::runtime::Stack;
use collectors::{Address, Mutator};
use std::sync::atomic::{AtomicU64, Ordering};
use workloads::analysis::code::{read_block, Insn, LocRef, SrcRef};
use workloads::analysis::Place;
use workloads::model::{Root, WORD_BYTES};

/// A resolved location.
enum SlotRef<'s> {
    /// A heap word (stores go through the write barrier).
    Heap(Address),
    /// A stack word (no barrier, as in Go).
    Plain(&'s AtomicU64),
    /// A package-level variable (a barrier only if the collector asks for
    /// one: `Capabilities::barrier_on_globals`).
    Global(&'s AtomicU64),
}

/// Checks each dereference against the block the analysis expects (only
/// under `--verify`): a cursor in the goroutine's deref stream.
pub(super) struct Derefs<'a> {
    event: EventAt,
    stream: &'a [u8],
    pos: usize,
    /// Dereferences the instruction makes.
    expected: usize,
    done: usize,
}

/// What an event asks of the worker after it ran.
#[derive(Default)]
pub(super) struct After {
    /// A goroutine to make runnable.
    pub spawned: Option<usize>,
    /// An explicit `runtime.GC()`.
    pub gc: bool,
    /// The goroutine exited.
    pub exited: bool,
}

impl Replay<'_> {
    /// Under `--verify`, checks dereference `v` against the next block the
    /// analysis expects; nothing to do (and nothing called) otherwise.
    #[inline(always)]
    fn check_deref(&self, d: &mut Option<Derefs<'_>>, v: Address) -> Result<(), Fault> {
        match d {
            Some(d) => self.check_expected_deref(d, v),
            None => Ok(()),
        }
    }

    #[inline(never)]
    fn check_expected_deref(&self, d: &mut Derefs<'_>, v: Address) -> Result<(), Fault> {
        if let Some(verifier) = self.verifier.as_ref() {
            if d.done == d.expected || d.pos >= d.stream.len() {
                return Err(self.fault(d.event, "more dereferences than the analysis expected"));
            }
            let b = workloads::BlockIdx(read_block(d.stream, &mut d.pos));
            d.done += 1;
            if self.placements[b.0 as usize] == Place::Heap {
                verifier.check_access((d.event.g, d.event.seq), b, v);
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn root_slot<'s>(
        &'s self,
        stack: Option<&'s Stack>,
        root: Root,
        frame: usize,
        ev: EventAt,
    ) -> Result<&'s AtomicU64, Fault> {
        match root {
            Root::Global(k) => self.globals.slot(k as usize).ok_or_else(|| self.fault(ev, "global out of range")),
            Root::Local(k) => {
                stack.and_then(|s| s.local_at(frame, k)).ok_or_else(|| self.fault(ev, "local out of range"))
            }
        }
    }

    #[inline(always)]
    fn load(&self, slot: &SlotRef<'_>, ev: EventAt) -> Result<Address, Fault> {
        match slot {
            SlotRef::Plain(w) | SlotRef::Global(w) => Ok(w.load(Ordering::Relaxed)),
            SlotRef::Heap(a) => self.heap.load(*a).ok_or_else(|| self.fault(ev, "pointer outside the heap")),
        }
    }

    /// The slot `loc` names, evaluated in frame `frame` of `stack`.
    #[inline(always)]
    fn resolve<'s>(
        &'s self,
        stack: Option<&'s Stack>,
        loc: &LocRef<'_>,
        frame: usize,
        ev: EventAt,
        d: &mut Option<Derefs<'_>>,
    ) -> Result<SlotRef<'s>, Fault> {
        let root = self.root_slot(stack, loc.root, frame, ev)?;
        let mut slot = if matches!(loc.root, Root::Global(_)) { SlotRef::Global(root) } else { SlotRef::Plain(root) };
        for k in loc.path() {
            let v = self.load(&slot, ev)?;
            if v == 0 {
                return Err(self.fault(ev, "nil dereference"));
            }
            self.check_deref(d, v)?;
            let a = v.wrapping_add(k as u64 * WORD_BYTES);
            slot = if self.heap.contains(a) {
                SlotRef::Heap(a)
            } else {
                match stack.and_then(|s| s.word_at(a)) {
                    Some(w) => SlotRef::Plain(w),
                    None => return Err(self.fault(ev, "pointer to neither the heap nor this goroutine's stack")),
                }
            };
        }
        Ok(slot)
    }

    /// The value `src` denotes, evaluated in frame `frame` of `stack`.
    #[inline(always)]
    fn eval(
        &self,
        stack: Option<&Stack>,
        src: &SrcRef<'_>,
        frame: usize,
        ev: EventAt,
        d: &mut Option<Derefs<'_>>,
    ) -> Result<Address, Fault> {
        match src {
            SrcRef::Nil => Ok(0),
            SrcRef::Loc(l) => {
                let s = self.resolve(stack, l, frame, ev, d)?;
                self.load(&s, ev)
            }
            SrcRef::Interior(l, k) => {
                let s = self.resolve(stack, l, frame, ev, d)?;
                Ok(self.load(&s, ev)?.wrapping_add(*k as u64 * WORD_BYTES))
            }
        }
    }

    #[inline(always)]
    fn store(&self, slot: SlotRef<'_>, v: Address, m: &mut Mutator) {
        match slot {
            SlotRef::Plain(w) => w.store(v, Ordering::Relaxed),
            SlotRef::Global(w) if self.barrier_on_globals => self.collector.write_global(m, w, v),
            SlotRef::Global(w) => w.store(v, Ordering::Relaxed),
            SlotRef::Heap(a) => self.collector.write_pointer(m, a, v),
        }
    }

    /// Runs event `ev` of goroutine `g` (whose state the caller holds).
    #[inline(always)]
    pub(super) fn exec(
        &self,
        g: usize,
        st: &mut GoroutineState,
        m: &mut Mutator,
        insn: &Insn<'_>,
        ev: EventAt,
    ) -> Result<After, Fault> {
        let mut d = self.verifier.as_ref().map(|_| Derefs {
            event: ev,
            stream: &self.prepared.programs[g].derefs,
            pos: st.deref_pos,
            expected: workloads::analysis::derefs_in(insn),
            done: 0,
        });
        let mut after = After::default();
        match insn {
            Insn::Set { dst, src } => {
                let stack = st.stack.as_ref();
                let top = stack.map_or(0, |s| s.depth().saturating_sub(1));
                let v = self.eval(stack, src, top, ev, &mut d)?;
                let slot = self.resolve(stack, dst, top, ev, &mut d)?;
                self.store(slot, v, m);
            }
            &Insn::Alloc { ref dst, block, size, ptr_slots } => {
                let b = block as usize;
                // Allocate first (a stack allocation may move the stack), then
                // resolve the destination in the (possibly moved) stack.
                let addr = match self.placements[b] {
                    Place::Stack => {
                        let stack = st.stack.as_mut().ok_or_else(|| self.fault(ev, "stack block with no stack"))?;
                        stack.alloc_block(size, ptr_slots).map_err(|e| self.stack_overflow(g, ev, e))?
                    }
                    Place::Heap => {
                        let a = self.collector.alloc(m, size, ptr_slots).map_err(|e| self.out_of_memory(ev, e))?;
                        if let Some(v) = &self.verifier {
                            v.on_heap_alloc(workloads::BlockIdx(block), a);
                        }
                        a
                    }
                };
                let stack = st.stack.as_ref();
                let top = stack.map_or(0, |s| s.depth().saturating_sub(1));
                let slot = self.resolve(stack, dst, top, ev, &mut d)?;
                self.store(slot, addr, m);
            }
            &Insn::Call { locals, frame_bytes, ref args } => {
                let stack = st.stack.as_mut().ok_or_else(|| self.fault(ev, "call on a goroutine with no stack"))?;
                stack.push_frame(locals, frame_bytes).map_err(|e| self.stack_overflow(g, ev, e))?;
                let stack = st.stack.as_ref();
                let depth = stack.map_or(0, |s| s.depth());
                for (i, a) in (*args).enumerate() {
                    let v = self.eval(stack, &a, depth - 2, ev, &mut d)?;
                    if let Some(w) = stack.and_then(|s| s.local_at(depth - 1, i as u32)) {
                        w.store(v, Ordering::Relaxed);
                    }
                }
            }
            Insn::Ret { copy } => {
                let value = match copy {
                    Some((src, _)) => {
                        let stack = st.stack.as_ref();
                        let top = stack.map_or(0, |s| s.depth().saturating_sub(1));
                        Some(self.eval(stack, src, top, ev, &mut d)?)
                    }
                    None => None,
                };
                let stack = st.stack.as_mut().ok_or_else(|| self.fault(ev, "ret with no stack"))?;
                if !stack.pop_frame() {
                    return Err(self.fault(ev, "ret with no frame"));
                }
                if let (Some((_, dst)), Some(v)) = (copy, value) {
                    let stack = st.stack.as_ref();
                    let top = stack.map_or(0, |s| s.depth().saturating_sub(1));
                    let slot = self.resolve(stack, dst, top, ev, &mut d)?;
                    self.store(slot, v, m);
                }
            }
            &Insn::Go { child, locals, frame_bytes, ref args } => {
                let c = child as usize;
                if c >= self.goroutines.len() {
                    return Err(self.fault(ev, "unknown goroutine"));
                }
                let stack = st.stack.as_ref();
                let top = stack.map_or(0, |s| s.depth().saturating_sub(1));
                let mut values = Vec::with_capacity(args.len());
                for a in *args {
                    values.push(self.eval(stack, &a, top, ev, &mut d)?);
                }
                let mut cst = self.goroutines[c].state.lock();
                let cstack = cst.start(self.opts.stack_limit);
                cstack.push_frame(locals, frame_bytes).map_err(|e| self.stack_overflow(c, ev, e))?;
                for (i, &v) in values.iter().enumerate() {
                    if let Some(w) = cstack.local(i as u32) {
                        w.store(v, Ordering::Relaxed);
                    }
                }
                drop(cst);
                self.collector.on_spawn(m, c, &values);
                after.spawned = Some(c);
            }
            // Run by the worker loop, which can release the goroutine to park mid-work.
            Insn::Work { .. } => {}
            &Insn::Begin { tag } => {
                let open = OpenSpan { tag, start_ns: self.now(), time_at_start: st.time };
                st.spans.push(open);
            }
            &Insn::End { tag } => {
                if let Some(pos) = st.spans.iter().rposition(|s| s.tag == tag) {
                    let open = st.spans.remove(pos);
                    let record = SpanRecord {
                        tag,
                        goroutine: g as u32,
                        start_ns: open.start_ns,
                        wall_ns: self.now().saturating_sub(open.start_ns),
                        split: st.time.since(open.time_at_start),
                    };
                    st.closed_spans.push(record);
                }
            }
            Insn::Exit => {
                st.exit();
                after.exited = true;
            }
            Insn::Gc => after.gc = true,
        }
        if let Some(d) = &d {
            if d.done != d.expected {
                return Err(self.fault(ev, "fewer dereferences than the analysis expected"));
            }
            st.deref_pos = d.pos;
        }
        Ok(after)
    }
}

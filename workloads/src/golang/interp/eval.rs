//! Evaluation: statements, expressions, calls and goroutines, each
//! operation applied to the interpreter's memory and, for every pointer
//! word it moves, queued as a trace operation (see [`super`]).
//!
//! Every value being moved carries, per pointer word, the trace [`Src`] it
//! can be read from now ([`Operand::srcs`]): a frame local, a global, or a
//! slot reached through a pointer held in one of those. A value made by an
//! expression (an allocation, a call's result) is first put in the
//! expression's temporary local, so it always has one.

use super::format::format_values;
use super::value::*;
use super::{Options, Output, RunSummary, TraceOp, Yield};
use crate::generate::gorules;
use crate::golang::ast::*;
use crate::golang::check::{Builtin, Const, FuncId, Info, Ref as NameRef, VarId, VarKind};
use crate::golang::error::{GoError, GoErrorKind};
use crate::golang::types::{known, Basic, Layout, Type, TypeId, TypeTable};
use crate::model::{Args, Cause, Loc, Placement, Src};
use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, Yielder};
use smallvec::{smallvec, SmallVec};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

mod expr;
mod tables;

use tables::{const_values, DeclVars, FixedTypes, FrameInit, LayoutRef, Zeros};

/// The kinds of allocation site, for the placement policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SiteKind {
    /// `new(T)`.
    New,
    /// `&T{...}`.
    AddrOfLiteral,
    /// A slice or map literal's storage.
    Literal,
    MakeSlice,
    MakeMap,
    MakeChan,
    /// A func literal that captures variables.
    Closure,
    /// A variable whose address is taken or that a closure captures by
    /// reference (Go: `moved to heap: x` when it escapes).
    Var,
    /// A value converted to an interface.
    Iface,
    /// `a + b` on strings.
    Concat,
    /// `string(b)`, `[]byte(s)`.
    Conv,
}

/// A result of evaluation: the value's leaves and, per pointer word, where
/// the trace can read it now.
#[derive(Clone, Debug, Default)]
pub(super) struct Operand {
    pub vals: SmallVec<[Value; 1]>,
    pub srcs: SmallVec<[Src; 1]>,
}

impl Operand {
    fn scalar(v: Value) -> Operand {
        Operand { vals: smallvec![v], srcs: SmallVec::new() }
    }
    fn one(v: Value, src: Src) -> Operand {
        Operand { vals: smallvec![v], srcs: smallvec![src] }
    }
}

/// Where a value lives.
#[derive(Clone, Debug)]
enum Place {
    /// Frame registers from this leaf.
    Reg(u32),
    /// Memory, reached through a pointer the trace holds at `via`, which
    /// points at slot `via_slot` of the object.
    Mem { r: Ref, via: Option<(Loc, u32)> },
}

/// What a goroutine started by `go` runs, in its own coroutine.
pub(super) type GoroutineBody = Box<dyn FnOnce(&G) -> Result<(), GoError>>;

/// A callee: its function and its closure (with the trace source of the
/// closure pointer).
type Callee = (FuncId, Option<(Rc<Obj>, Src)>);

/// How a frame's registers map to trace locals.
struct FrameLayout {
    leaves: u32,
    /// For each register leaf that is a pointer word, its trace local.
    reg_tlocal: Vec<Option<u32>>,
}

/// Everything the goroutines share (one runs at a time).
pub(super) struct Shared {
    pub pkg: Rc<Package>,
    pub info: Info,
    pub types: RefCell<TypeTable>,
    pub opts: Options,
    ops: RefCell<Vec<TraceOp>>,
    /// Each package-level variable's storage (indexed by variable).
    global_objs: HashMap<VarId, Rc<Obj>>,
    /// Register base of each variable (in its frame, or among the globals).
    var_reg: Vec<u32>,
    frames: Vec<FrameLayout>,
    current: Cell<u32>,
    spawned: RefCell<Vec<(u32, GoroutineBody)>>,
    woken: RefCell<Vec<u32>>,
    next_g: Cell<u32>,
    output: RefCell<String>,
    steps: Cell<u64>,
    /// Steps since the current goroutine was scheduled, and not yet
    /// recorded as `work`.
    slice_steps: Cell<u64>,
    pending_work: Cell<u64>,
    /// The struct type of each closure's captured variables.
    closure_types: RefCell<HashMap<FuncId, TypeId>>,
    /// Per function, what its frame starts as.
    frame_init: Vec<FrameInit>,
    /// The checker's liveness table, hashed cheaply (looked up after every
    /// statement).
    dead_after: HashMap<Pos, Vec<VarId>, std::hash::BuildHasherDefault<tables::PosHasher>>,
    /// Where each blocked goroutine waits.
    pub blocked_at: RefCell<HashMap<u32, Pos>>,
    /// Zero values by type (types holding a `sync` value are made fresh).
    zeros: Zeros,
    /// The layouts and underlying types of the checker's types.
    fixed: FixedTypes,
    /// The value of each constant expression.
    const_vals: Vec<Option<Value>>,
    /// The variable declared at each position.
    decl_var: DeclVars,
}

const FLUSH_OPS: usize = 8192;
/// `tmpStringBufSize` (runtime/string.go).
const TMP_BUF_BYTES: u64 = 32;
/// `work` is recorded once this many nanoseconds have accumulated.
const WORK_QUANTUM_NS: u64 = 100;

impl Shared {
    pub fn new(pkg: Rc<Package>, mut info: Info, opts: Options) -> Shared {
        let mut types = std::mem::take(&mut info.types);
        let mut var_reg = vec![0u32; info.vars.len()];
        let mut frames: Vec<FrameLayout> =
            info.funcs.iter().map(|_| FrameLayout { leaves: 0, reg_tlocal: Vec::new() }).collect();
        let mut global_objs = HashMap::new();
        for (i, v) in info.vars.iter().enumerate() {
            let layout = types.layout(v.ty);
            let (leaves, map): (u32, Vec<Option<u32>>) = if v.boxed && v.kind != VarKind::Global {
                (1, vec![Some(v.box_local)])
            } else {
                let mut m = vec![None; layout.leaves as usize];
                for (j, p) in layout.is_ptr.iter().enumerate() {
                    if *p {
                        m[j] = Some(v.tlocal + layout.ptr_before[j]);
                    }
                }
                (layout.leaves, m)
            };
            match v.func {
                Some(f) => {
                    let fl = &mut frames[f.0 as usize];
                    var_reg[i] = fl.leaves;
                    fl.leaves += leaves;
                    fl.reg_tlocal.extend(map);
                }
                None => {
                    let _ = map;
                    let mut cells = vec![Value::Nil; layout.leaves as usize];
                    fill_zero(&mut types, v.ty, &mut cells);
                    let obj = Obj { cells: RefCell::new(cells), layout, block: false, global: Some(v.tlocal) };
                    global_objs.insert(VarId(i as u32), Rc::new(obj));
                }
            }
        }
        let mut zeroed = vec![Vec::new(); info.funcs.len()];
        for (f, fi) in info.funcs.iter().enumerate() {
            zeroed[f].extend(fi.results.iter().copied());
        }
        for (i, v) in info.vars.iter().enumerate() {
            if let (Some(f), VarKind::Local) = (v.func, v.kind) {
                if !v.boxed {
                    zeroed[f.0 as usize].push(VarId(i as u32));
                }
            }
        }
        let frame_init = FrameInit::all(&info, &mut types, &frames, &var_reg, &zeroed);
        let fixed = FixedTypes::new(&mut types);
        let const_vals = const_values(&info, &fixed);
        let decl_var = DeclVars::new(&info);
        let dead_after = info.dead_after.iter().map(|(p, v)| (*p, v.clone())).collect();
        Shared {
            decl_var,
            dead_after,
            frame_init,
            fixed,
            const_vals,
            zeros: Zeros::default(),
            blocked_at: RefCell::new(HashMap::new()),
            pkg,
            info,
            types: RefCell::new(types),
            opts,
            ops: RefCell::new(Vec::new()),
            global_objs,
            var_reg,
            frames,
            current: Cell::new(1),
            spawned: RefCell::new(Vec::new()),
            woken: RefCell::new(Vec::new()),
            next_g: Cell::new(2),
            output: RefCell::new(String::new()),
            steps: Cell::new(0),
            slice_steps: Cell::new(0),
            pending_work: Cell::new(0),
            closure_types: RefCell::new(HashMap::new()),
        }
    }

    pub fn set_current(&self, g: u32) {
        self.current.set(g);
        self.slice_steps.set(0);
    }

    pub(super) fn take_ops(&self) -> Vec<TraceOp> {
        std::mem::take(&mut *self.ops.borrow_mut())
    }

    /// Gives back the buffer [`Shared::take_ops`] took, emptied, to queue
    /// the next operations in.
    pub(super) fn return_ops(&self, mut buf: Vec<TraceOp>) {
        let mut ops = self.ops.borrow_mut();
        if ops.is_empty() && ops.capacity() < buf.capacity() {
            buf.clear();
            *ops = buf;
        }
    }

    pub fn take_spawned(&self) -> Vec<(u32, GoroutineBody)> {
        std::mem::take(&mut *self.spawned.borrow_mut())
    }

    pub fn take_woken(&self) -> Vec<u32> {
        std::mem::take(&mut *self.woken.borrow_mut())
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            output: std::mem::take(&mut *self.output.borrow_mut()),
            goroutines: self.next_g.get() - 1,
            steps: self.steps.get(),
        }
    }

    /// The layout of `ty` (borrowed for the checker's types).
    fn layout(&self, ty: TypeId) -> LayoutRef<'_> {
        match self.fixed.layout(ty) {
            Some(l) => LayoutRef::Fixed(l),
            None => LayoutRef::Made(self.types.borrow_mut().layout(ty)),
        }
    }
}

/// The zero value of `ty`, as leaves.
fn zero_leaves(types: &mut TypeTable, ty: TypeId) -> Vec<Value> {
    let l = types.layout(ty);
    // An array of numbers (a `make([]byte, n)`'s): one element's zero, repeated.
    if let Type::Array(n, e) = *types.under(ty) {
        if types.layout(e).leaves == 1 {
            let mut one = [Value::Nil];
            fill_zero(types, e, &mut one);
            let [one] = one;
            if !matches!(one, Value::Sync(_)) {
                return vec![one; n as usize];
            }
        }
    }
    let mut out = vec![Value::Nil; l.leaves as usize];
    fill_zero(types, ty, &mut out);
    out
}

fn fill_zero(types: &mut TypeTable, ty: TypeId, out: &mut [Value]) {
    match types.under(ty).clone() {
        Type::Basic(b) if b.is_integer() => out[0] = Value::Int(0),
        Type::Basic(b) if b.is_float() => out[0] = Value::Float(0.0),
        Type::Basic(Basic::Bool | Basic::UntypedBool) => out[0] = Value::Bool(false),
        Type::Sync(kind) => {
            out[0] = Value::Sync(Rc::new(SyncState { kind, count: RefCell::new(0), waiters: RefCell::new(Vec::new()) }))
        }
        Type::Struct(fields) => {
            let l = types.layout(ty);
            for (i, (_, ft, _)) in fields.iter().enumerate() {
                let start = l.field_leaf[i] as usize;
                let n = types.layout(*ft).leaves as usize;
                fill_zero(types, *ft, &mut out[start..start + n]);
            }
        }
        Type::Array(n, e) => {
            let el = types.layout(e).leaves as usize;
            if el == 0 || n == 0 {
                return;
            }
            fill_zero(types, e, &mut out[..el]);
            let (first, rest) = out[..n as usize * el].split_at_mut(el);
            if first.iter().any(|v| matches!(v, Value::Sync(_))) {
                // Each element's `sync` value owns its state.
                for chunk in rest.chunks_exact_mut(el) {
                    fill_zero(types, e, chunk);
                }
            } else {
                for chunk in rest.chunks_exact_mut(el) {
                    chunk.clone_from_slice(first);
                }
            }
        }
        _ => {}
    }
}

/// The coroutine of `main`: package initialization, `init` functions,
/// then `main.main`.
pub(super) fn main_coroutine(sh: Rc<Shared>) -> Result<super::GoCoroutine, GoError> {
    let stack = DefaultStack::new(sh.opts.stack_bytes.max(MIN_STACK_BYTES))
        .map_err(|e| GoError::new(GoErrorKind::Runtime, "", format!("cannot make a goroutine stack: {e}")))?;
    let stack_limit = stack.limit().get();
    Ok(Coroutine::with_stack(stack, move |y: &Yielder<(), Yield>, ()| {
        let g = G::new(sh.clone(), 1, y, stack_limit);
        g.run_main()
    }))
}

/// The coroutine of a goroutine started by `go`: `body` runs its function
/// in the frame the `go` event made.
pub(super) fn goroutine_coroutine(
    sh: Rc<Shared>,
    id: u32,
    body: GoroutineBody,
    stack_bytes: usize,
) -> Result<super::GoCoroutine, GoError> {
    let stack = DefaultStack::new(stack_bytes.max(MIN_STACK_BYTES))
        .map_err(|e| GoError::new(GoErrorKind::Runtime, "", format!("cannot make a goroutine stack: {e}")))?;
    let stack_limit = stack.limit().get();
    Ok(Coroutine::with_stack(stack, move |y: &Yielder<(), Yield>, ()| {
        let g = G::new(sh, id, y, stack_limit);
        body(&g)
    }))
}

/// A goroutine's view: the shared state, its trace id, its yielder.
pub(super) struct G<'y> {
    sh: Rc<Shared>,
    id: u32,
    y: &'y Yielder<(), Yield>,
    /// The lowest address of its coroutine's stack (stacks grow down).
    stack_limit: usize,
    /// Calls deep its current frame is.
    depth: Cell<u32>,
    /// The current frame's first temporary local.
    temp_base: Cell<u32>,
    /// Temporaries written (frame depth, local) since the statements being
    /// run began: cleared when each statement ends, as Go's liveness makes
    /// a statement's temporaries dead.
    dirty: RefCell<Vec<(u32, u32)>>,
    /// Register vectors of returned frames, reused by the next calls.
    spare_regs: RefCell<Vec<Vec<Value>>>,
}

/// The smallest coroutine stack.
const MIN_STACK_BYTES: usize = 1 << 20;

/// Stack kept free below a Go call: a call that would leave less is Go's
/// `fatal error: stack overflow` (Go's limit is 1 GB of Go frames; the
/// interpreter's is its coroutine stack), never a crash of gcwb. Enough for
/// the interpreter's own recursion between two Go calls (an expression
/// nested a few hundred deep).
const STACK_RESERVE_BYTES: usize = 256 << 10;

impl<'y> G<'y> {
    fn new(sh: Rc<Shared>, id: u32, y: &'y Yielder<(), Yield>, stack_limit: usize) -> G<'y> {
        G {
            sh,
            id,
            y,
            stack_limit,
            depth: Cell::new(0),
            temp_base: Cell::new(u32::MAX),
            dirty: RefCell::new(Vec::new()),
            spare_regs: RefCell::new(Vec::new()),
        }
    }
}

/// A function invocation.
struct Frame {
    func: FuncId,
    regs: Vec<Value>,
    /// The closure's captured variables.
    env: Option<Rc<Obj>>,
    /// The values of a `return` with operands, once it has run.
    results: Option<Results>,
}

impl Frame {
    /// A frame with no registers, for reading and writing memory places
    /// outside any function's frame.
    fn detached() -> Frame {
        Frame { func: FuncId(0), regs: Vec::new(), env: None, results: None }
    }
}

/// The operands of the right-hand side of an assignment or declaration.
type Operands = SmallVec<[Operand; 1]>;

/// A call's argument operands (the receiver first).
type ArgVals = SmallVec<[Operand; 2]>;

/// The operands a `return` gives (most functions return one value).
type Results = SmallVec<[Operand; 1]>;

/// A call's result leaves.
type ResultVals = SmallVec<[Value; 1]>;

/// How a statement ended.
enum Flow {
    Normal,
    Break(Option<String>),
    Continue(Option<String>),
    /// `return`; its operands, if any, are in [`Frame::results`].
    Return,
    Fallthrough,
}

/// Spare register vectors a goroutine keeps (about its deepest recursion).
const SPARE_REGS: usize = 256;
/// Register vectors larger than this are not kept for reuse.
const SPARE_REGS_MAX_LEAVES: usize = 1024;

type R<T> = Result<T, GoError>;

impl G<'_> {
    fn err(&self, pos: Pos, kind: GoErrorKind, msg: impl Into<String>) -> GoError {
        GoError::new(kind, self.sh.pkg.pos_text(pos), msg)
    }

    /// A run-time panic, worded as the first line Go prints for it.
    fn panic(&self, pos: Pos, msg: impl std::fmt::Display) -> GoError {
        self.err(pos, GoErrorKind::Runtime, format!("panic: {msg}"))
    }

    /// Go's panic for index `i` out of range of a length `len`
    /// (`runtime.boundsError`: a negative index is printed alone).
    fn index_panic(&self, pos: Pos, i: i64, len: impl std::fmt::Display) -> GoError {
        if i < 0 {
            self.panic(pos, format_args!("runtime error: index out of range [{i}]"))
        } else {
            self.panic(pos, format_args!("runtime error: index out of range [{i}] with length {len}"))
        }
    }

    fn unsupported(&self, pos: Pos, what: impl std::fmt::Display) -> GoError {
        GoError::not_supported(self.sh.pkg.pos_text(pos), what)
    }

    fn ty(&self, e: &Expr) -> TypeId {
        self.sh.info.expr_type[e.id.0 as usize]
    }

    fn layout(&self, ty: TypeId) -> LayoutRef<'_> {
        self.sh.layout(ty)
    }

    fn under(&self, ty: TypeId) -> Type {
        match self.sh.fixed.under(ty) {
            Some(t) => t.clone(),
            None => self.sh.types.borrow().under(ty).clone(),
        }
    }

    /// The basic type `ty` is, if it is one.
    fn basic(&self, ty: TypeId) -> Option<Basic> {
        match self.sh.fixed.under(ty) {
            Some(Type::Basic(b)) => Some(*b),
            Some(_) => None,
            None => self.sh.types.borrow().basic(ty),
        }
    }

    fn is_string(&self, ty: TypeId) -> bool {
        matches!(self.basic(ty), Some(Basic::String | Basic::UntypedString))
    }

    fn zero(&self, ty: TypeId) -> Vec<Value> {
        self.sh.zeros.get_vec(&self.sh.types, ty)
    }

    /// The zero value of `ty` (shared unless it holds a `sync` value, whose
    /// state each zero value must own).
    fn zero_rc(&self, ty: TypeId) -> Rc<[Value]> {
        self.sh.zeros.get(&self.sh.types, ty)
    }

    // ---- the trace ----

    fn op(&self, op: TraceOp) {
        // A pointer written into one of the frame's temporaries.
        let dst = match &op {
            TraceOp::Set { dst, src, .. } if *src != Src::Nil => Some(dst),
            TraceOp::Alloc { dst, .. } | TraceOp::RetCopy { dst, .. } => Some(dst),
            _ => None,
        };
        if let Some(Loc { root: crate::model::Root::Local(t), path }) = dst {
            if path.is_empty() && *t >= self.temp_base.get() {
                self.dirty.borrow_mut().push((self.depth.get(), *t));
            }
        }
        self.queue(op);
    }

    /// Clears the temporaries of this frame written since `mark`.
    fn clear_temps(&self, mark: usize) {
        let mut dirty = self.dirty.borrow_mut();
        if dirty.len() <= mark {
            return;
        }
        let depth = self.depth.get();
        let mut temps: Vec<u32> = dirty.drain(mark..).filter(|&(d, _)| d == depth).map(|(_, t)| t).collect();
        drop(dirty);
        temps.sort_unstable();
        temps.dedup();
        for t in temps {
            self.queue(TraceOp::Set { g: self.id, dst: Loc::local(t), src: Src::Nil });
        }
    }

    fn queue(&self, op: TraceOp) {
        let work = self.sh.pending_work.get();
        let mut ops = self.sh.ops.borrow_mut();
        if work >= WORK_QUANTUM_NS {
            ops.push(TraceOp::Work { g: self.id, ns: work });
            self.sh.pending_work.set(0);
        }
        ops.push(op);
    }

    fn set(&self, dst: Loc, src: Src) {
        self.op(TraceOp::Set { g: self.id, dst, src });
    }

    /// One interpreted step (at `pos`): counted as work; may preempt or
    /// flush; past [`Options::max_steps`] the run ends.
    #[inline]
    fn step(&self, pos: Pos) -> R<()> {
        let sh = &*self.sh;
        let steps = sh.steps.get() + 1;
        sh.steps.set(steps);
        if sh.opts.max_steps.is_some_and(|max| steps > max) {
            return Err(self.step_limit(pos));
        }
        sh.pending_work.set(sh.pending_work.get() + sh.opts.step_ns);
        let s = sh.slice_steps.get() + 1;
        sh.slice_steps.set(s);
        if s >= sh.opts.preempt_steps {
            self.preempt();
        } else if sh.ops.borrow().len() >= FLUSH_OPS {
            self.y.suspend(Yield::Flush);
        }
        Ok(())
    }

    #[cold]
    fn step_limit(&self, pos: Pos) -> GoError {
        self.err(pos, GoErrorKind::Runtime, "step limit reached")
    }

    /// The goroutine's time slice is over: to the back of the run queue.
    #[cold]
    fn preempt(&self) {
        self.flush_work();
        self.y.suspend(Yield::Preempt);
    }

    fn flush_work(&self) {
        let work = self.sh.pending_work.replace(0);
        if work > 0 {
            self.sh.ops.borrow_mut().push(TraceOp::Work { g: self.id, ns: work });
        }
    }

    fn block(&self) {
        self.flush_work();
        self.y.suspend(Yield::Block);
    }

    /// Blocks at `pos` (kept, so a deadlock can say where each goroutine waits).
    fn block_at(&self, pos: Pos) {
        self.sh.blocked_at.borrow_mut().insert(self.id, pos);
        self.block();
        self.sh.blocked_at.borrow_mut().remove(&self.id);
    }

    fn wake(&self, waiters: &RefCell<Vec<u32>>) {
        let w = std::mem::take(&mut *waiters.borrow_mut());
        self.sh.woken.borrow_mut().extend(w);
    }

    fn alloc(&self, dst: Loc, ty: TypeId, size: u64, cause: Cause, kind: Option<(SiteKind, Pos)>) -> Rc<Obj> {
        let layout = self.layout(ty);
        let cells = self.zero(ty);
        let placement = match kind {
            Some((k, pos)) => (self.sh.opts.placement)(k, pos),
            None => Placement::Heap,
        };
        // A string built in a stack buffer: Go's `tmpBuf` holds at most 32
        // bytes (runtime/string.go); a longer result is on the heap.
        let placement = match kind {
            Some((SiteKind::Concat | SiteKind::Conv, _)) if placement == Placement::Stack && size > TMP_BUF_BYTES => {
                Placement::Heap
            }
            _ => placement,
        };
        let block = size > 0;
        if block {
            self.op(TraceOp::Alloc { g: self.id, dst, size, slots: layout.ptr_words, cause, placement });
        }
        Rc::new(Obj { cells: RefCell::new(cells), layout: layout.to_rc(), block, global: None })
    }

    // ---- goroutines ----

    fn run_main(&self) -> R<()> {
        let sh = self.sh.clone();
        // Package initialization runs in its own frame, then `init`s, then main.
        let init = sh.info.init_vars;
        let fi = &sh.info.funcs[init.0 as usize];
        self.op(TraceOp::Call { g: self.id, locals: fi.tlocals, bytes: fi.frame_bytes, args: Args::new() });
        let mut frame = self.new_frame(init, None);
        self.temp_base.set(fi.temp_base);
        for (fi, file) in sh.pkg.files.iter().enumerate() {
            for d in &file.decls {
                if let Decl::Var(vs) = d {
                    self.var_spec(&mut frame, vs)?;
                }
            }
            let _ = fi;
        }
        self.op(TraceOp::Ret { g: self.id });
        for &f in &sh.info.inits.clone() {
            self.call_func(f, None, &mut ArgVals::new(), None, Pos::default())?;
        }
        self.call_func(sh.info.main, None, &mut ArgVals::new(), None, Pos::default())?;
        self.flush_work();
        Ok(())
    }

    /// A frame of `f` as it starts: its registers from [`FrameInit`], in
    /// a vector a returned frame left, if any.
    fn new_frame(&self, f: FuncId, env: Option<Rc<Obj>>) -> Frame {
        let init = &self.sh.frame_init[f.0 as usize].regs;
        let mut regs = self.spare_regs.borrow_mut().pop().unwrap_or_default();
        regs.extend_from_slice(init);
        Frame { func: f, regs, env, results: None }
    }

    /// Keeps a returned frame's register vector for the next call.
    fn retire_frame(&self, frame: Frame) {
        let mut regs = frame.regs;
        if regs.capacity() > SPARE_REGS_MAX_LEAVES {
            return;
        }
        regs.clear();
        let mut spare = self.spare_regs.borrow_mut();
        if spare.len() < SPARE_REGS {
            spare.push(regs);
        }
    }

    /// Initializes the frame of `f`: registers zeroed, parameters from
    /// `args` (taken out of it), boxed parameters and results moved into
    /// their blocks.
    fn enter(&self, f: FuncId, env: Option<Rc<Obj>>, args: &mut ArgVals) -> R<Frame> {
        let sh = &*self.sh;
        let fi = &sh.info.funcs[f.0 as usize];
        let mut frame = self.new_frame(f, env);
        for (&v, arg) in fi.recv.iter().chain(fi.params.iter()).zip(args.drain(..)) {
            let var = &sh.info.vars[v.0 as usize];
            if var.boxed {
                let obj = self.box_var(v)?;
                // The argument arrived in the parameter's own locals.
                let layout = self.layout(var.ty);
                obj.cells.borrow_mut().clone_from_slice(&arg.vals);
                let mut k = 0;
                for (j, p) in layout.is_ptr.iter().enumerate() {
                    if *p {
                        self.set(
                            Loc::local(var.box_local).slot(layout.ptr_before[j]),
                            Src::Loc(Loc::local(var.tlocal + k)),
                        );
                        k += 1;
                    }
                }
                frame.regs[sh.var_reg[v.0 as usize] as usize] = Value::Ptr(Ref { obj, cell: 0 });
            } else {
                let base = sh.var_reg[v.0 as usize] as usize;
                let mut vals = arg.vals;
                if let [one] = vals.as_mut_slice() {
                    frame.regs[base] = std::mem::take(one);
                } else {
                    for (i, val) in vals.into_iter().enumerate() {
                        frame.regs[base + i] = val;
                    }
                }
            }
        }
        for &v in &sh.frame_init[f.0 as usize].fresh {
            let var = &sh.info.vars[v.0 as usize];
            if var.boxed {
                let obj = self.box_var(v)?;
                frame.regs[sh.var_reg[v.0 as usize] as usize] = Value::Ptr(Ref { obj, cell: 0 });
            } else {
                let base = sh.var_reg[v.0 as usize] as usize;
                let zero = self.zero_rc(var.ty);
                frame.regs[base..base + zero.len()].clone_from_slice(&zero);
            }
        }
        Ok(frame)
    }

    /// Allocates the block of a boxed variable into its box local.
    fn box_var(&self, v: VarId) -> R<Rc<Obj>> {
        let var = &self.sh.info.vars[v.0 as usize];
        let size = self.layout(var.ty).size;
        Ok(self.alloc(Loc::local(var.box_local), var.ty, size, Cause::Var, Some((SiteKind::Var, var.pos))))
    }

    /// The arguments' trace sources for a call of `f`: the closure, then
    /// each parameter's pointer words.
    fn arg_srcs(&self, f: FuncId, env_src: Option<Src>, args: &[Operand]) -> Args {
        let mut out = Args::new();
        if self.sh.info.funcs[f.0 as usize].ctx_local.is_some() {
            out.push(env_src.unwrap_or(Src::Nil));
        }
        for a in args {
            out.extend(a.srcs.iter().cloned());
        }
        out
    }

    /// Calls `f` (with its closure, if any): `call`, the body, `ret` (with a
    /// copy of the one result pointer word into `result_temp`).
    fn call_func(
        &self,
        f: FuncId,
        env: Option<(Rc<Obj>, Src)>,
        args: &mut ArgVals,
        result_temp: Option<u32>,
        pos: Pos,
    ) -> R<ResultVals> {
        let here = 0u8;
        if (std::ptr::addr_of!(here) as usize) < self.stack_limit + STACK_RESERVE_BYTES {
            return Err(self.err(pos, GoErrorKind::Runtime, "fatal error: stack overflow"));
        }
        let fi = &self.sh.info.funcs[f.0 as usize];
        let srcs = self.arg_srcs(f, env.as_ref().map(|e| e.1.clone()), args);
        self.op(TraceOp::Call { g: self.id, locals: fi.tlocals, bytes: fi.frame_bytes, args: srcs });
        let outer_base = self.temp_base.replace(fi.temp_base);
        self.depth.set(self.depth.get() + 1);
        let body = self.enter(f, env.map(|e| e.0), args).and_then(|mut frame| {
            let results = self.run_body(&mut frame, pos);
            self.retire_frame(frame);
            results
        });
        self.depth.set(self.depth.get() - 1);
        self.temp_base.set(outer_base);
        let (vals, ret_src) = result_vals(body?);
        match (result_temp, ret_src) {
            (Some(t), Some(src)) if src != Src::Nil => {
                self.op(TraceOp::RetCopy { g: self.id, src, dst: Loc::local(t) })
            }
            (Some(t), _) => {
                self.op(TraceOp::Ret { g: self.id });
                self.set(Loc::local(t), Src::Nil);
            }
            _ => self.op(TraceOp::Ret { g: self.id }),
        }
        Ok(vals)
    }

    /// Runs the body of the frame's function; returns the results.
    fn run_body(&self, frame: &mut Frame, pos: Pos) -> R<Results> {
        let sh = &*self.sh;
        let fi = &sh.info.funcs[frame.func.0 as usize];
        let body = match (fi.decl, &fi.lit_body) {
            (Some((file, decl)), _) => match &sh.pkg.files[file].decls[decl] {
                Decl::Func(fd) => &fd.body,
                _ => return Err(self.err(pos, GoErrorKind::Runtime, "internal error: not a function")),
            },
            (None, Some(body)) => body.as_ref(),
            _ => return Err(self.err(pos, GoErrorKind::Runtime, "internal error: no body")),
        };
        self.block_stmts(frame, &body.stmts)?;
        if let Some(results) = frame.results.take() {
            return Ok(results);
        }
        Ok(fi.results.iter().map(|&v| self.read_var(frame, v)).collect())
    }

    // ---- statements ----

    fn block_stmts(&self, fr: &mut Frame, stmts: &[Stmt]) -> R<Flow> {
        for s in stmts {
            let mark = self.dirty.borrow().len();
            let flow = self.stmt(fr, s)?;
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
            self.clear_temps(mark);
            if let Some(dead) = self.sh.dead_after.get(&s.pos) {
                self.clear_dead(fr, dead);
            }
        }
        Ok(Flow::Normal)
    }

    /// Stores a new string of `bytes` in `p`, its block allocated there.
    fn concat_into(&self, fr: &mut Frame, p: &Place, t: TypeId, bytes: Vec<u8>) {
        let dst = match self.leaf_loc(fr, p, 0) {
            Some(dst) if !bytes.is_empty() => dst,
            _ => {
                let v = if bytes.is_empty() {
                    Value::Nil
                } else {
                    Value::Str(Rc::new(GoStr { bytes, block: None, offset: 0 }))
                };
                self.write_place(fr, p, t, Operand::one(v, Src::Nil));
                return;
            }
        };
        let size = bytes.len() as u64;
        let ty = self.sh.types.borrow_mut().intern(Type::Array(size, known::UINT8));
        let obj = self.alloc(dst.clone(), ty, size, Cause::Concat, None);
        let v = Value::Str(Rc::new(GoStr { bytes, block: Some(obj), offset: 0 }));
        // The allocation stored the pointer already: only the value is written.
        match p {
            Place::Reg(b) => fr.regs[*b as usize] = v,
            Place::Mem { r, .. } => r.obj.cells.borrow_mut()[r.cell as usize] = v,
        }
    }

    /// Clears the pointer words of variables used for the last time (see
    /// [`crate::golang::liveness`]), so their blocks die when Go's would.
    fn clear_dead(&self, fr: &mut Frame, dead: &[VarId]) {
        let sh = self.sh.clone();
        for &v in dead {
            let var = &sh.info.vars[v.0 as usize];
            if var.func != Some(fr.func) {
                continue;
            }
            let base = sh.var_reg[v.0 as usize] as usize;
            let map = &sh.frames[fr.func.0 as usize].reg_tlocal;
            let leaves = if var.boxed { 1 } else { self.layout(var.ty).leaves as usize };
            for i in base..base + leaves {
                if let Some(t) = map.get(i).copied().flatten() {
                    if !fr.regs[i].is_nil() {
                        self.set(Loc::local(t), Src::Nil);
                        fr.regs[i] = Value::Nil;
                    }
                }
            }
        }
    }

    fn stmt(&self, fr: &mut Frame, s: &Stmt) -> R<Flow> {
        self.step(s.pos)?;
        match &s.kind {
            StmtKind::Expr(e) => {
                self.eval(fr, e)?;
            }
            StmtKind::Send { chan, value } => {
                let c = self.eval(fr, chan)?;
                let v = self.eval(fr, value)?;
                self.send(s.pos, &c, v)?;
            }
            StmtKind::IncDec { target, inc } => {
                let p = self.place(fr, target)?;
                let t = self.ty(target);
                let one = if self.basic(t).is_some_and(Basic::is_float) { Value::Float(1.0) } else { Value::Int(1) };
                let op = if *inc { BinaryOp::Add } else { BinaryOp::Sub };
                if let Place::Reg(r) = p {
                    // A number in a register: no pointer word to record.
                    let r = r as usize;
                    fr.regs[r] = self.arith(s.pos, op, &fr.regs[r], &one, t)?;
                } else {
                    let cur = self.read_place(fr, &p, t);
                    let v = self.arith(s.pos, op, &cur.vals[0], &one, t)?;
                    self.write_place(fr, &p, t, Operand::scalar(v));
                }
            }
            StmtKind::Assign { lhs, op: Some(op), rhs } => {
                let p = self.place(fr, &lhs[0])?;
                let t = self.ty(&lhs[0]);
                let cur = self.read_place(fr, &p, t);
                let y = self.eval(fr, &rhs[0])?;
                if *op == BinaryOp::Add && self.sh.types.borrow().is_string(t) {
                    // `s += t`: the new string is allocated straight into `s`
                    // (Go's `concatstrings`, always on the heap).
                    let mut bytes = cur.vals[0].bytes().to_vec();
                    bytes.extend_from_slice(y.vals[0].bytes());
                    self.concat_into(fr, &p, t, bytes);
                } else {
                    let v = self.binary_values(fr, s.pos, *op, cur, y, t, self.ty(&rhs[0]), None)?;
                    self.write_place(fr, &p, t, v);
                }
            }
            StmtKind::Assign { lhs, op: None, rhs } => self.assign(fr, s.pos, lhs, rhs)?,
            StmtKind::Define { lhs, rhs } => {
                let vals = self.eval_rhs(fr, lhs.len(), rhs)?;
                for (name, v) in lhs.iter().zip(vals) {
                    if name.is_blank() {
                        continue;
                    }
                    let var = self.sh.decl_var[&name.pos];
                    self.define_var(fr, var, v)?;
                }
            }
            StmtKind::Var(vs) => self.var_spec(fr, vs)?,
            StmtKind::Const(_) | StmtKind::Type(_) | StmtKind::Empty => {}
            StmtKind::Go(call) => self.go_stmt(fr, call)?,
            StmtKind::Defer(_) => return Err(self.unsupported(s.pos, "defer statement")),
            StmtKind::Return(results) => {
                if results.is_empty() {
                    return Ok(Flow::Return);
                }
                let sh = &*self.sh;
                let want = &sh.info.funcs[fr.func.0 as usize].sig.results;
                let mut out = Results::new();
                if results.len() == 1 && want.len() > 1 {
                    let all = self.eval(fr, &results[0])?;
                    out.extend(self.split(all, want));
                } else {
                    for (e, &t) in results.iter().zip(want.iter()) {
                        let v = self.eval(fr, e)?;
                        out.push(self.convert_for(fr, e, v, t)?);
                    }
                }
                fr.results = Some(out);
                return Ok(Flow::Return);
            }
            StmtKind::Break(l) => return Ok(Flow::Break(l.as_ref().map(|l| l.name.clone()))),
            StmtKind::Continue(l) => return Ok(Flow::Continue(l.as_ref().map(|l| l.name.clone()))),
            StmtKind::Fallthrough => return Ok(Flow::Fallthrough),
            StmtKind::Block(b) => return self.block_stmts(fr, &b.stmts),
            StmtKind::If { init, cond, then, els } => {
                if let Some(i) = init {
                    self.stmt(fr, i)?;
                }
                if self.eval_value(fr, cond)?.bool() {
                    return self.block_stmts(fr, &then.stmts);
                } else if let Some(e) = els {
                    return self.stmt(fr, e);
                }
            }
            StmtKind::For { init, cond, post, body } => return self.for_loop(fr, None, init, cond, post, body),
            StmtKind::Range { key, value, define, x, body } => {
                return self.range_loop(fr, None, key.as_ref(), value.as_ref(), *define, x, body)
            }
            StmtKind::Switch { init, tag, cases } => {
                if let Some(i) = init {
                    self.stmt(fr, i)?;
                }
                let tagv = match tag {
                    Some(t) => Some(self.eval(fr, t)?),
                    None => None,
                };
                let mut matched = None;
                'find: for (ci, c) in cases.iter().enumerate() {
                    for e in &c.exprs {
                        let v = self.eval(fr, e)?;
                        let hit = match &tagv {
                            Some(t) => self.equal(&t.vals, &v.vals),
                            None => v.vals[0].bool(),
                        };
                        if hit {
                            matched = Some(ci);
                            break 'find;
                        }
                    }
                }
                let start = matched.or_else(|| cases.iter().position(|c| c.is_default));
                if let Some(mut ci) = start {
                    loop {
                        match self.block_stmts(fr, &cases[ci].body)? {
                            Flow::Fallthrough if ci + 1 < cases.len() => ci += 1,
                            Flow::Break(None) | Flow::Fallthrough | Flow::Normal => break,
                            other => return Ok(other),
                        }
                    }
                }
            }
            StmtKind::TypeSwitch { init, bind, x, cases } => {
                if let Some(i) = init {
                    self.stmt(fr, i)?;
                }
                let xv = self.eval(fr, x)?;
                let dyn_ty = match &xv.vals[0] {
                    Value::Iface(i) => Some(i.ty),
                    _ => None,
                };
                let mut chosen = None;
                'find: for (ci, c) in cases.iter().enumerate() {
                    for t in &c.types {
                        let hit = match t {
                            None => dyn_ty.is_none(),
                            Some(te) => {
                                let want = self.type_of_case(c, te)?;
                                match dyn_ty {
                                    Some(d) => d == want || (self.is_iface(want) && self.implements(d, want)),
                                    None => false,
                                }
                            }
                        };
                        if hit {
                            chosen = Some(ci);
                            break 'find;
                        }
                    }
                }
                let chosen = chosen.or_else(|| cases.iter().position(|c| c.is_default));
                if let Some(ci) = chosen {
                    let c = &cases[ci];
                    if bind.is_some() {
                        if let Some(v) = self.sh.decl_var.get(c.colon) {
                            let vt = self.sh.info.vars[v.0 as usize].ty;
                            let val = if self.is_iface(vt) { xv.clone() } else { self.unbox(&xv, vt) };
                            self.define_var(fr, v, val)?;
                        }
                    }
                    match self.block_stmts(fr, &c.body)? {
                        Flow::Break(None) | Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
            }
            StmtKind::Select(_) => return Err(self.unsupported(s.pos, "select statement")),
            StmtKind::Labeled { label, stmt } => {
                let flow = match &stmt.kind {
                    StmtKind::For { init, cond, post, body } => {
                        self.for_loop(fr, Some(&label.name), init, cond, post, body)?
                    }
                    StmtKind::Range { key, value, define, x, body } => {
                        self.range_loop(fr, Some(&label.name), key.as_ref(), value.as_ref(), *define, x, body)?
                    }
                    _ => self.stmt(fr, stmt)?,
                };
                return Ok(match flow {
                    Flow::Break(Some(l)) if l == label.name => Flow::Normal,
                    other => other,
                });
            }
        }
        Ok(Flow::Normal)
    }

    fn type_of_case(&self, _c: &TypeCase, te: &TypeExpr) -> R<TypeId> {
        self.resolve_type(te)
    }

    /// A type written in a type switch case, resolved by name (the checker
    /// resolved it; the subset's case types are names, pointers to names,
    /// and the basic types).
    fn resolve_type(&self, te: &TypeExpr) -> R<TypeId> {
        let types = self.sh.types.borrow();
        let find = |name: &str| -> Option<TypeId> {
            (0..u32::MAX).map(TypeId).take_while(|t| (t.0 as usize) < types.len()).find(|&t| match types.get(t) {
                Type::Named { name: n, .. } => n == name,
                Type::Basic(b) => {
                    b.name() == name || (name == "byte" && *b == Basic::Uint8) || (name == "rune" && *b == Basic::Int32)
                }
                _ => false,
            })
        };
        match te {
            TypeExpr::Name(id) if id.name == "error" || id.name == "any" => Ok(known::ANY),
            TypeExpr::Name(id) => {
                find(&id.name).ok_or_else(|| self.unsupported(id.pos, "this case type in a type switch"))
            }
            TypeExpr::Pointer(inner) => {
                drop(types);
                let t = self.resolve_type(inner)?;
                Ok(self.sh.types.borrow_mut().pointer(t))
            }
            _ => Err(self.unsupported(Pos::default(), "this case type in a type switch")),
        }
    }

    fn is_iface(&self, t: TypeId) -> bool {
        self.sh.types.borrow().is_interface(t)
    }

    /// Does dynamic type `t` have every method of interface `iface` (a
    /// value's method set has the value-receiver methods only)? `Err` names
    /// the first one missing.
    pub(super) fn implements(&self, t: TypeId, iface: TypeId) -> bool {
        self.missing_method(t, iface).is_none()
    }

    pub(super) fn missing_method(&self, t: TypeId, iface: TypeId) -> Option<String> {
        let Type::Interface(ms) = self.under(iface) else { return None };
        let (base, is_ptr) = match self.sh.types.borrow().get(t) {
            Type::Pointer(b) => (*b, true),
            _ => (t, false),
        };
        ms.iter()
            .find(|(name, _)| match self.method_named(base, name) {
                Some(f) => !is_ptr && self.sh.info.funcs[f.0 as usize].recv_is_ptr,
                None => true,
            })
            .map(|(name, _)| name.clone())
    }

    /// The type's name as Go's runtime prints it (`main.T`, `*main.T`).
    pub(super) fn runtime_type_name(&self, t: TypeId) -> String {
        let ty = self.sh.types.borrow().get(t).clone();
        match ty {
            Type::Named { name, .. } => format!("main.{name}"),
            Type::Pointer(e) => format!("*{}", self.runtime_type_name(e)),
            Type::Slice(e) => format!("[]{}", self.runtime_type_name(e)),
            Type::Array(n, e) => format!("[{n}]{}", self.runtime_type_name(e)),
            Type::Map(k, v) => format!("map[{}]{}", self.runtime_type_name(k), self.runtime_type_name(v)),
            Type::Chan(e) => format!("chan {}", self.runtime_type_name(e)),
            _ => self.sh.types.borrow().name(t),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn for_loop(
        &self,
        fr: &mut Frame,
        label: Option<&str>,
        init: &Option<Box<Stmt>>,
        cond: &Option<Expr>,
        post: &Option<Box<Stmt>>,
        body: &Block,
    ) -> R<Flow> {
        if let Some(i) = init {
            self.stmt(fr, i)?;
        }
        loop {
            if let Some(c) = cond {
                if !self.eval_value(fr, c)?.bool() {
                    break;
                }
            }
            match self.block_stmts(fr, &body.stmts)? {
                Flow::Break(None) => break,
                Flow::Break(Some(l)) if Some(l.as_str()) == label => break,
                Flow::Continue(None) | Flow::Normal => {}
                Flow::Continue(Some(l)) if Some(l.as_str()) == label => {}
                other => return Ok(other),
            }
            if let Some(p) = post {
                self.stmt(fr, p)?;
            }
        }
        Ok(Flow::Normal)
    }

    #[allow(clippy::too_many_arguments)]
    fn range_loop(
        &self,
        fr: &mut Frame,
        label: Option<&str>,
        key: Option<&Expr>,
        value: Option<&Expr>,
        define: bool,
        x: &Expr,
        body: &Block,
    ) -> R<Flow> {
        let xt = self.ty(x);
        let xv = self.eval(fr, x)?;
        let under = self.under(xt);
        // The iterations: each a key and, optionally, a value operand.
        let n: usize;
        enum Src2 {
            Ints,
            Elems { base: Option<(Ref, Option<(Loc, u32)>)>, el: TypeId },
            Bytes(Vec<u8>),
            Map(Rc<MapObj>, TypeId, TypeId),
            Chan,
        }
        let src = match &under {
            Type::Basic(b) if b.is_integer() => {
                n = xv.vals[0].int().max(0) as usize;
                Src2::Ints
            }
            Type::Basic(_) => {
                let bytes = xv.vals[0].bytes().to_vec();
                n = bytes.len();
                Src2::Bytes(bytes)
            }
            Type::Slice(el) => match &xv.vals[0] {
                Value::Slice(s) => {
                    n = s.len;
                    let via = self.via_of(&Value::Slice(s.clone()), xv.srcs.first());
                    Src2::Elems { base: Some((s.base.clone(), via)), el: *el }
                }
                _ => {
                    n = 0;
                    Src2::Elems { base: None, el: *el }
                }
            },
            Type::Array(len, el) => {
                n = *len as usize;
                let p = self.place(fr, x)?;
                let _ = p;
                return Err(self.unsupported(x.pos, format_args!("range over an array value ({n} of {})", el.0)));
            }
            Type::Map(k, v) => match &xv.vals[0] {
                Value::Map(m) => {
                    n = m.state.borrow().keys.len();
                    Src2::Map(m.clone(), *k, *v)
                }
                _ => {
                    n = 0;
                    Src2::Chan
                }
            },
            Type::Chan(_) => {
                n = usize::MAX;
                Src2::Chan
            }
            _ => return Err(self.unsupported(x.pos, "range over this type")),
        };
        let mut i = 0usize;
        let mut byte_i = 0usize;
        // The channel slot a received value was read from, cleared once
        // the value is in its variable.
        let mut received_from = None;
        while i < n {
            let (kv, vv): (Operand, Option<Operand>) = match &src {
                Src2::Ints => (Operand::scalar(Value::Int(i as i64)), None),
                Src2::Bytes(b) => {
                    if byte_i >= b.len() {
                        break;
                    }
                    let (r, w) = decode_rune(&b[byte_i..]);
                    let k = Operand::scalar(Value::Int(byte_i as i64));
                    byte_i += w;
                    (k, Some(Operand::scalar(Value::Int(r as i64))))
                }
                Src2::Elems { base: Some((base, via)), el } => {
                    let leaves = self.layout(*el).leaves;
                    let r = Ref { obj: base.obj.clone(), cell: base.cell + i as u32 * leaves };
                    let v = if value.is_some() {
                        Some(self.read_place(fr, &Place::Mem { r, via: via.clone() }, *el))
                    } else {
                        None
                    };
                    (Operand::scalar(Value::Int(i as i64)), v)
                }
                Src2::Elems { base: None, .. } => break,
                Src2::Map(m, kt, vt) => {
                    let (deleted, buckets) = {
                        let st = m.state.borrow();
                        if i >= st.keys.len() {
                            break;
                        }
                        (st.free.contains(&i), st.buckets.clone())
                    };
                    if deleted {
                        i += 1;
                        continue;
                    }
                    let entry = self.entry_type(*kt, *vt);
                    let el = self.layout(entry).leaves;
                    let via = match xv.srcs.first() {
                        Some(Src::Loc(l)) => Some((l.clone().slot(0), 0)),
                        _ => None,
                    };
                    let buckets = buckets.expect("a map with entries has buckets");
                    let all =
                        self.read_place(fr, &Place::Mem { r: Ref { obj: buckets, cell: i as u32 * el }, via }, entry);
                    let mut parts = self.split(all, &[*kt, *vt]).into_iter();
                    let k = parts.next().expect("a key");
                    (k, parts.next())
                }
                Src2::Chan => {
                    let Some((v, slot)) = self.recv(x.pos, &xv)? else { break };
                    received_from = Some(slot);
                    (v, None)
                }
            };
            for (target, val) in [(key, Some(kv)), (value, vv)] {
                let (Some(target), Some(val)) = (target, val) else { continue };
                if matches!(&target.kind, ExprKind::Ident(n) if n == "_") {
                    continue;
                }
                if define {
                    let var = self.sh.decl_var[&target.pos];
                    self.define_var(fr, var, val)?;
                } else {
                    let p = self.place(fr, target)?;
                    let t = self.ty(target);
                    self.write_place(fr, &p, t, val);
                }
            }
            if let Some(slot) = received_from.take() {
                self.clear_chan_slot(&slot, &xv);
            }
            match self.block_stmts(fr, &body.stmts)? {
                Flow::Break(None) => break,
                Flow::Break(Some(l)) if Some(l.as_str()) == label => break,
                Flow::Continue(None) | Flow::Normal => {}
                Flow::Continue(Some(l)) if Some(l.as_str()) == label => {}
                other => return Ok(other),
            }
            i += 1;
        }
        Ok(Flow::Normal)
    }

    fn var_spec(&self, fr: &mut Frame, vs: &VarSpec) -> R<()> {
        let vals = if vs.values.is_empty() {
            vs.names
                .iter()
                .map(|n| {
                    let v = self.sh.decl_var[&n.pos];
                    let ty = self.sh.info.vars[v.0 as usize].ty;
                    let words = self.layout(ty).ptr_words as usize;
                    Operand { vals: self.zero(ty).into(), srcs: smallvec_nil(words) }
                })
                .collect()
        } else {
            self.eval_rhs(fr, vs.names.len(), &vs.values)?
        };
        for (name, v) in vs.names.iter().zip(vals) {
            if name.is_blank() {
                continue;
            }
            let var = self.sh.decl_var[&name.pos];
            let ty = self.sh.info.vars[var.0 as usize].ty;
            let v = if vs.values.len() == vs.names.len() {
                let e = &vs.values[vs.names.iter().position(|n| n.pos == name.pos).unwrap_or(0)];
                self.convert_for(fr, e, v, ty)?
            } else {
                v
            };
            self.define_var(fr, var, v)?;
        }
        Ok(())
    }

    /// A variable comes into scope with a value: a boxed one gets its block
    /// (a fresh one each time its declaration runs, as in Go).
    fn define_var(&self, fr: &mut Frame, v: VarId, val: Operand) -> R<()> {
        let var = &self.sh.info.vars[v.0 as usize];
        if var.boxed && var.kind != VarKind::Global {
            let obj = self.box_var(v)?;
            fr.regs[self.sh.var_reg[v.0 as usize] as usize] = Value::Ptr(Ref { obj, cell: 0 });
        }
        let p = self.var_place(fr, v);
        self.write_place(fr, &p, var.ty, val);
        Ok(())
    }

    fn assign(&self, fr: &mut Frame, pos: Pos, lhs: &[Expr], rhs: &[Expr]) -> R<()> {
        let vals = self.eval_rhs(fr, lhs.len(), rhs)?;
        for (i, (l, v)) in lhs.iter().zip(vals).enumerate() {
            if matches!(&l.kind, ExprKind::Ident(n) if n == "_") {
                continue;
            }
            let t = self.ty(l);
            let v = if rhs.len() == lhs.len() { self.convert_for(fr, &rhs[i], v, t)? } else { v };
            if let ExprKind::Index { x, index } = &l.kind {
                if let Type::Map(..) = self.under(self.ty(x)) {
                    let m = self.eval(fr, x)?;
                    let k = self.eval(fr, index)?;
                    self.map_store(pos, &m, k, v, self.ty(x))?;
                    continue;
                }
            }
            let p = self.place(fr, l)?;
            self.write_place(fr, &p, t, v);
        }
        Ok(())
    }

    /// The right-hand sides for `n` targets.
    fn eval_rhs(&self, fr: &mut Frame, n: usize, rhs: &[Expr]) -> R<Operands> {
        if rhs.len() == 1 && n > 1 {
            let t = self.ty(&rhs[0]);
            let all = self.eval(fr, &rhs[0])?;
            let parts = match self.under(t) {
                Type::Tuple(ts) => ts,
                _ => return Err(self.err(rhs[0].pos, GoErrorKind::Type, "assignment mismatch")),
            };
            return Ok(self.split(all, &parts).into());
        }
        let mut out = Operands::new();
        for e in rhs {
            out.push(self.eval(fr, e)?);
        }
        Ok(out)
    }

    /// Splits a tuple operand into its parts.
    fn split(&self, all: Operand, parts: &[TypeId]) -> Vec<Operand> {
        let mut out = Vec::new();
        let mut vi = 0;
        let mut si = 0;
        for &t in parts {
            let l = self.layout(t);
            let vals: SmallVec<[Value; 1]> = all.vals[vi..vi + l.leaves as usize].iter().cloned().collect();
            let srcs: SmallVec<[Src; 1]> =
                (0..l.ptr_words as usize).map(|k| all.srcs.get(si + k).cloned().unwrap_or(Src::Nil)).collect();
            vi += l.leaves as usize;
            si += l.ptr_words as usize;
            out.push(Operand { vals, srcs });
        }
        out
    }

    // ---- places ----

    fn var_place(&self, fr: &Frame, v: VarId) -> Place {
        let sh = &self.sh;
        let var = &sh.info.vars[v.0 as usize];
        let reg = sh.var_reg[v.0 as usize];
        if var.kind == VarKind::Global {
            let obj = sh.global_objs[&v].clone();
            return Place::Mem { r: Ref { obj, cell: 0 }, via: None };
        }
        if var.func != Some(fr.func) {
            return self.captured_place(fr, v);
        }
        if var.boxed {
            if let Value::Ptr(r) = &fr.regs[reg as usize] {
                return Place::Mem { r: r.clone(), via: Some((Loc::local(var.box_local), 0)) };
            }
        }
        Place::Reg(reg)
    }

    /// A variable of an enclosing function, reached through the closure.
    fn captured_place(&self, fr: &Frame, v: VarId) -> Place {
        let sh = &self.sh;
        let fi = &sh.info.funcs[fr.func.0 as usize];
        let env = fr.env.clone().expect("a closure that captures has an environment");
        let ct = self.closure_type(fr.func);
        let layout = self.layout(ct);
        let k = fi.captures.iter().position(|c| c.var == v).expect("captured");
        let cell = layout.field_leaf[k + 1];
        let by_ref = fi.captures[k].by_ref;
        let ctx = Loc::local(fi.ctx_local.unwrap_or(0));
        if by_ref {
            let p = env.cells.borrow()[cell as usize].clone();
            let slot = env.slot_of(cell);
            if let Value::Ptr(r) = p {
                return Place::Mem { r, via: Some((ctx.slot(slot), 0)) };
            }
        }
        Place::Mem { r: Ref { obj: env, cell }, via: Some((ctx, 0)) }
    }

    /// The place an addressable expression denotes.
    fn place(&self, fr: &mut Frame, e: &Expr) -> R<Place> {
        match &e.kind {
            ExprKind::Ident(_) => match &self.sh.info.refs[e.id.0 as usize] {
                Some(NameRef::Var(v)) => Ok(self.var_place(fr, *v)),
                _ => Err(self.unsupported(e.pos, "assignment to this name")),
            },
            ExprKind::Selector { x, .. } => {
                let Some(NameRef::Field { leaf, through_ptr }) = self.sh.info.refs[e.id.0 as usize] else {
                    return Err(self.unsupported(e.pos, "this selector as a place"));
                };
                if through_ptr {
                    let p = self.eval(fr, x)?;
                    let (r, via) = self.deref(e.pos, &p)?;
                    Ok(Place::Mem { r: Ref { obj: r.obj, cell: r.cell + leaf }, via })
                } else {
                    let p = self.place(fr, x)?;
                    Ok(offset_place(p, leaf))
                }
            }
            ExprKind::Index { x, index } => {
                let xt = self.ty(x);
                let i = self.eval_value(fr, index)?.int();
                match self.under(xt) {
                    Type::Array(n, el) => {
                        if i < 0 || i as u64 >= n {
                            return Err(self.index_panic(e.pos, i, n));
                        }
                        let leaves = self.layout(el).leaves;
                        let p = self.place(fr, x)?;
                        Ok(offset_place(p, i as u32 * leaves))
                    }
                    Type::Pointer(arr) => {
                        let Type::Array(n, el) = self.under(arr) else { unreachable!("checked") };
                        if i < 0 || i as u64 >= n {
                            return Err(self.index_panic(e.pos, i, n));
                        }
                        let p = self.eval(fr, x)?;
                        let (r, via) = self.deref(e.pos, &p)?;
                        let leaves = self.layout(el).leaves;
                        Ok(Place::Mem { r: Ref { obj: r.obj, cell: r.cell + i as u32 * leaves }, via })
                    }
                    Type::Slice(el) => {
                        let s = self.eval(fr, x)?;
                        let Value::Slice(sv) = &s.vals[0] else {
                            return Err(self.index_panic(e.pos, i, 0));
                        };
                        if i < 0 || i as usize >= sv.len {
                            return Err(self.index_panic(e.pos, i, sv.len));
                        }
                        let leaves = self.layout(el).leaves;
                        let via = self.via_of(&s.vals[0], s.srcs.first());
                        Ok(Place::Mem {
                            r: Ref { obj: sv.base.obj.clone(), cell: sv.base.cell + i as u32 * leaves },
                            via,
                        })
                    }
                    _ => Err(self.unsupported(e.pos, "assignment to this index expression")),
                }
            }
            ExprKind::Deref(x) => {
                let p = self.eval(fr, x)?;
                let (r, via) = self.deref(e.pos, &p)?;
                Ok(Place::Mem { r, via })
            }
            _ => Err(self.unsupported(e.pos, "this expression as a place")),
        }
    }

    /// Does `e` denote a variable (Go's *addressable*), so that [`G::place`]
    /// finds it? A field or element of a call's result does not.
    fn addressable(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(_) => matches!(self.sh.info.refs[e.id.0 as usize], Some(NameRef::Var(_))),
            ExprKind::Selector { x, .. } => match self.sh.info.refs[e.id.0 as usize] {
                Some(NameRef::Field { through_ptr: true, .. }) => true,
                Some(NameRef::Field { through_ptr: false, .. }) => self.addressable(x),
                _ => false,
            },
            ExprKind::Index { x, .. } => match self.under(self.ty(x)) {
                Type::Array(..) => self.addressable(x),
                Type::Pointer(_) | Type::Slice(_) => true,
                _ => false,
            },
            ExprKind::Deref(_) => true,
            _ => false,
        }
    }

    /// A pointer operand's target and how the trace reaches it.
    fn deref(&self, pos: Pos, p: &Operand) -> R<(Ref, Option<(Loc, u32)>)> {
        match &p.vals[0] {
            Value::Ptr(r) => Ok((r.clone(), self.via_of(&p.vals[0], p.srcs.first()))),
            _ => Err(self.panic(pos, "runtime error: invalid memory address or nil pointer dereference")),
        }
    }

    /// The trace location of a pointer-shaped value and the slot it
    /// points at, from its source.
    fn via_of(&self, v: &Value, src: Option<&Src>) -> Option<(Loc, u32)> {
        let (obj, cell) = v.target_obj()?;
        if !obj.block {
            return None;
        }
        let slot = obj.slot_of(cell);
        match src? {
            Src::Loc(l) => Some((l.clone(), slot)),
            Src::Interior(l, k) => Some((l.clone(), slot.saturating_sub(*k))),
            Src::Nil => None,
        }
    }

    /// The trace location of pointer leaf `i` of a place.
    fn leaf_loc(&self, fr: &Frame, p: &Place, i: u32) -> Option<Loc> {
        match p {
            Place::Reg(base) => {
                let t = self.sh.frames[fr.func.0 as usize].reg_tlocal.get((base + i) as usize).copied().flatten()?;
                Some(Loc::local(t))
            }
            Place::Mem { r, .. } if r.obj.global.is_some() => {
                let base = r.obj.global.expect("checked");
                Some(Loc::global(base + r.obj.slot_of(r.cell + i)))
            }
            Place::Mem { r, via } => {
                let (loc, via_slot) = via.as_ref()?;
                let slot = r.obj.slot_of(r.cell + i);
                Some(loc.clone().slot(slot.checked_sub(*via_slot)?))
            }
        }
    }

    fn read_place(&self, fr: &Frame, p: &Place, ty: TypeId) -> Operand {
        let l = self.layout(ty);
        let vals = match p {
            Place::Reg(b) => leaves_of(&fr.regs, *b, l.leaves),
            Place::Mem { r, .. } => leaves_of(&r.obj.cells.borrow(), r.cell, l.leaves),
        };
        let mut srcs = SmallVec::new();
        if l.ptr_words > 0 {
            for (i, is) in l.is_ptr.iter().enumerate() {
                if *is {
                    srcs.push(self.leaf_loc(fr, p, i as u32).map_or(Src::Nil, Src::Loc));
                }
            }
        }
        Operand { vals, srcs }
    }

    fn read_var(&self, fr: &Frame, v: VarId) -> Operand {
        let p = self.var_place(fr, v);
        self.read_place(fr, &p, self.sh.info.vars[v.0 as usize].ty)
    }

    /// Stores `val` into `p`, and each of its pointer words in the trace.
    fn write_place(&self, fr: &mut Frame, p: &Place, ty: TypeId, mut val: Operand) {
        let l = self.layout(ty);
        self.set_ptr_words(fr, p, &l, &mut val.srcs);
        let n = l.leaves as usize;
        match p {
            Place::Reg(b) => {
                for (i, v) in val.vals.into_iter().take(n).enumerate() {
                    fr.regs[*b as usize + i] = v;
                }
            }
            Place::Mem { r, .. } => {
                let mut cells = r.obj.cells.borrow_mut();
                for (i, v) in val.vals.into_iter().take(n).enumerate() {
                    cells[r.cell as usize + i] = v;
                }
            }
        }
    }

    /// Records the stores of a value's pointer words into place `p` (of
    /// layout `l`): pointer word `k` reads `srcs[k]` (taken out of it; nil
    /// past its end).
    fn set_ptr_words(&self, fr: &Frame, p: &Place, l: &Layout, srcs: &mut [Src]) {
        if l.ptr_words == 0 {
            return;
        }
        let mut k = 0;
        for (i, is) in l.is_ptr.iter().enumerate() {
            if *is {
                if let Some(dst) = self.leaf_loc(fr, p, i as u32) {
                    self.set(dst, srcs.get_mut(k).map_or(Src::Nil, |s| std::mem::replace(s, Src::Nil)));
                }
                k += 1;
            }
        }
    }

    /// Puts a fresh pointer-shaped value in the expression's temporary and
    /// returns it as an operand read from there.
    fn in_temp(&self, e: &Expr, v: Value, src: Src) -> Operand {
        match self.sh.info.temp[e.id.0 as usize] {
            Some(t) => {
                if src != Src::Loc(Loc::local(t)) {
                    self.set(Loc::local(t), src);
                }
                Operand::one(v, Src::Loc(Loc::local(t)))
            }
            None => Operand::one(v, src),
        }
    }

    fn temp_loc(&self, e: &Expr) -> Loc {
        Loc::local(self.sh.info.temp[e.id.0 as usize].unwrap_or(0))
    }
}

/// A call's result leaves, and the source of the first pointer word of
/// the last result that has one (what `ret` copies out).
fn result_vals(mut results: Results) -> (ResultVals, Option<Src>) {
    if results.len() == 1 {
        let Operand { vals, mut srcs } = results.pop().expect("one result");
        let src = (!srcs.is_empty()).then(|| srcs.swap_remove(0));
        return (vals, src);
    }
    let mut vals = ResultVals::new();
    let mut ret_src = None;
    for r in results {
        if let Some(s) = r.srcs.into_iter().next() {
            ret_src = Some(s);
        }
        vals.extend(r.vals);
    }
    (vals, ret_src)
}

/// `p` moved `leaves` further into its value.
fn offset_place(p: Place, leaves: u32) -> Place {
    match p {
        Place::Reg(b) => Place::Reg(b + leaves),
        Place::Mem { r, via } => Place::Mem { r: Ref { obj: r.obj, cell: r.cell + leaves }, via },
    }
}

fn smallvec_nil(n: usize) -> SmallVec<[Src; 1]> {
    match n {
        0 => SmallVec::new(),
        1 => smallvec![Src::Nil],
        _ => SmallVec::from_elem(Src::Nil, n),
    }
}

/// `n` leaves of `cells` from `start`, cloned (one, the common case,
/// without an iterator).
fn leaves_of(cells: &[Value], start: u32, n: u32) -> SmallVec<[Value; 1]> {
    match &cells[start as usize..(start + n) as usize] {
        [v] => smallvec![v.clone()],
        all => all.iter().cloned().collect(),
    }
}

/// Decodes one UTF-8 rune (U+FFFD and width 1 for an invalid byte).
fn decode_rune(b: &[u8]) -> (u32, usize) {
    for w in 1..=4.min(b.len()) {
        if let Ok(s) = std::str::from_utf8(&b[..w]) {
            if let Some(c) = s.chars().next() {
                return (c as u32, w);
            }
        }
    }
    (0xFFFD, 1)
}

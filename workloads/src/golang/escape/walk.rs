//! Building the location graph from the AST: Go's `escape.stmt`,
//! `escape.expr`, `escape.addr` and `escape.call` (`cmd/compile/internal/
//! escape/{stmt,expr,assign,call}.go`), on gcwb's AST and checker facts.
//!
//! One [`Walker`] builds the graph of one *batch*: a strongly connected
//! component of declared functions (callees were analyzed before and are
//! summarized by their parameters' [`Leaks`]), with the closures written
//! in them and the bodies of the calls Go inlines there. Each function
//! body being walked is a [`Frame`]: an out-of-line body, or an inlined
//! copy whose variables and allocations are new locations of the function
//! it is inlined into.

use std::collections::{HashMap, HashSet};

use super::graph::{FnId, Graph, Hole, Holes, Leaks, LocId};
use super::inline::{self, Inlining};
use super::{layout, Defs};
use crate::golang::ast::*;
use crate::golang::check::{Builtin, FuncId, Info, Ref, VarId, VarKind};
use crate::golang::interp::SiteKind;
use crate::golang::types::{Type, TypeId};
use crate::model::Placement;

/// Go 1.19's `ir.MaxImplicitStackVarSize`: `new`, `&T{}`, `make` and
/// literals larger than this are heap-allocated.
pub const MAX_IMPLICIT_STACK_BYTES: u64 = 64 * 1024;
/// Go 1.19's `ir.MaxStackVarSize` (declared variables).
pub const MAX_STACK_VAR_BYTES: u64 = 10 * 1024 * 1024;

/// An allocation site's location in one function body (out of line, or
/// an inlined copy).
#[derive(Clone, Debug)]
pub struct SiteLoc {
    pub kind: SiteKind,
    pub pos: Pos,
    pub loc: LocId,
    /// For an inlined copy: the call, in the function being compiled,
    /// whose inlining brought it there (where Go reports it).
    pub inlined_at: Option<Pos>,
    /// The declared variable, for [`SiteKind::Var`].
    pub var: Option<VarId>,
    /// The function whose body holds the site.
    pub func: FuncId,
    /// Go prints a decision for it (not for package-level data Go lays
    /// out statically).
    pub printed: bool,
}

/// A site decided without the graph (Go decides it by rule).
#[derive(Clone, Debug)]
pub struct FixedSite {
    pub kind: SiteKind,
    pub pos: Pos,
    pub placement: Placement,
    pub why: String,
    pub inlined_at: Option<Pos>,
    pub func: FuncId,
}

struct Frame {
    func: FuncId,
    fnid: FnId,
    inlined_at: Option<Pos>,
    vars: HashMap<VarId, LocId>,
    results: Vec<LocId>,
    loop_depth: u32,
    /// Functions being inlined into this frame's chain (no recursion).
    inlining: Vec<FuncId>,
}

/// Parameter (receiver first) and result locations of an out-of-line body.
#[derive(Clone, Debug)]
pub struct SigLocs {
    pub params: Vec<LocId>,
    pub results: Vec<LocId>,
}

pub struct Walker<'a> {
    pkg: &'a Package,
    info: &'a Info,
    inl: &'a Inlining,
    defs: &'a Defs<'a>,
    tags: &'a HashMap<FuncId, Vec<Leaks>>,
    pub g: Graph,
    frames: Vec<Frame>,
    /// Out-of-line parameter and result locations of the batch's functions.
    pub sigs: HashMap<FuncId, SigLocs>,
    /// Each prepared function's out-of-line compiled function.
    fn_of: HashMap<FuncId, FnId>,
    pub sites: Vec<SiteLoc>,
    pub fixed: Vec<FixedSite>,
    /// Functions that some call does not inline (their own body runs).
    pub called_out_of_line: HashSet<FuncId>,
    /// Walking a package-level initializer Go lays out as static data.
    static_data: bool,
}

impl<'a> Walker<'a> {
    pub fn new(
        pkg: &'a Package,
        info: &'a Info,
        inl: &'a Inlining,
        defs: &'a Defs<'a>,
        tags: &'a HashMap<FuncId, Vec<Leaks>>,
    ) -> Walker<'a> {
        Walker {
            pkg,
            info,
            inl,
            defs,
            tags,
            g: Graph::new(),
            frames: Vec::new(),
            sigs: HashMap::new(),
            fn_of: HashMap::new(),
            sites: Vec::new(),
            fixed: Vec::new(),
            called_out_of_line: HashSet::new(),
            static_data: false,
        }
    }

    // ----- frames, variables, locations -----

    fn frame(&self) -> &Frame {
        self.frames.last().expect("a frame")
    }

    fn new_loc(&mut self, name: &str) -> LocId {
        let (fnid, depth) = (self.frame().fnid, self.frame().loop_depth);
        self.g.new_loc(name, fnid, depth)
    }

    fn ty(&self, e: &Expr) -> TypeId {
        self.info.expr_type[e.id.0 as usize]
    }

    fn has_pointers(&self, t: TypeId) -> bool {
        layout::has_pointers(&self.info.types, t)
    }

    /// Creates the out-of-line parameter and result locations of `f`
    /// before any body of the batch is walked (so calls among them can
    /// flow into each other's parameters).
    pub fn prepare(&mut self, f: FuncId, parent: Option<FnId>) -> FnId {
        let fi = &self.info.funcs[f.0 as usize];
        let fnid = self.g.new_fn(fi.name.clone(), parent);
        let mut params = Vec::new();
        for &v in fi.recv.iter().chain(&fi.params) {
            let l = self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, 1);
            self.g.locs[l].param = true;
            params.push(l);
        }
        let mut results = Vec::new();
        for (i, &v) in fi.results.iter().enumerate() {
            let l = self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, 1);
            self.g.locs[l].result = Some(i);
            results.push(l);
        }
        self.sigs.insert(f, SigLocs { params, results });
        self.fn_of.insert(f, fnid);
        fnid
    }

    /// Walks the out-of-line body of a declared function (prepared).
    pub fn walk_decl(&mut self, f: FuncId) {
        let fnid = self.fn_of[&f];
        self.walk_out_of_line(f, fnid);
    }

    fn walk_out_of_line(&mut self, f: FuncId, fnid: FnId) {
        let fi = &self.info.funcs[f.0 as usize];
        let sig = self.sigs.get(&f).cloned().expect("prepared");
        let mut vars = HashMap::new();
        let param_vars: Vec<VarId> = fi.recv.iter().chain(&fi.params).copied().collect();
        for (&v, &l) in param_vars.iter().zip(&sig.params) {
            vars.insert(v, l);
        }
        for (&v, &l) in fi.results.iter().zip(&sig.results) {
            vars.insert(v, l);
        }
        self.frames.push(Frame {
            func: f,
            fnid,
            inlined_at: None,
            vars,
            results: sig.results.clone(),
            loop_depth: 1,
            inlining: vec![f],
        });
        for (&v, &l) in param_vars.iter().chain(&fi.results).zip(sig.params.iter().chain(&sig.results)) {
            self.var_site(v, l);
        }
        if let Some(b) = inline::body(self.pkg, self.info, f) {
            self.block(b);
        }
        self.frames.pop();
    }

    /// Walks the package-level variables' initializers (the synthetic
    /// function `init`): what they make is stored in globals.
    pub fn walk_globals(&mut self, init: FuncId) {
        let fnid = self.g.new_fn("package initialization".into(), None);
        self.frames.push(Frame {
            func: init,
            fnid,
            inlined_at: None,
            vars: HashMap::new(),
            results: Vec::new(),
            loop_depth: 1,
            inlining: vec![init],
        });
        let pkg = self.pkg;
        for file in &pkg.files {
            for d in &file.decls {
                if let Decl::Var(vs) = d {
                    if vs.values.is_empty() {
                        continue;
                    }
                    let ks = vs
                        .names
                        .iter()
                        .map(|n| self.heap(&format!("initializes package-level variable {}", n.name)))
                        .collect();
                    // Go lays out constant data statically (its staticinit):
                    // nothing is allocated, and nothing printed.
                    self.static_data = vs.values.iter().all(|v| self.is_static(v));
                    self.assign_holes(ks, &vs.values);
                    self.static_data = false;
                }
            }
        }
        self.frames.pop();
    }

    /// Can Go lay out the value of `e` as static data: constants, and
    /// composite literals (or their addresses) of such values?
    fn is_static(&self, e: &Expr) -> bool {
        if self.info.consts[e.id.0 as usize].is_some() {
            return true;
        }
        match &e.kind {
            ExprKind::Composite { elts, .. } => {
                elts.iter().all(|el| el.key.as_ref().is_none_or(|k| self.is_static(k)) && self.is_static(&el.value))
            }
            ExprKind::AddrOf(x) => matches!(x.kind, ExprKind::Composite { .. }) && self.is_static(x),
            ExprKind::Ident(_) => matches!(self.info.refs[e.id.0 as usize], Some(Ref::Nil) | Some(Ref::Func(_))),
            _ => false,
        }
    }

    /// Records a declared variable as a possible `moved to heap` site.
    fn var_site(&mut self, v: VarId, loc: LocId) {
        let var = &self.info.vars[v.0 as usize];
        if var.name == "_" {
            return;
        }
        let (inlined_at, func) = (self.frame().inlined_at, self.frame().func);
        let printed = !self.static_data;
        self.sites.push(SiteLoc { kind: SiteKind::Var, pos: var.pos, loc, inlined_at, var: Some(v), func, printed });
    }

    /// A new local variable of the current frame.
    fn declare(&mut self, v: VarId) -> LocId {
        let var = &self.info.vars[v.0 as usize];
        let loc = self.new_loc(&var.name.clone());
        let size = layout::size_of(&self.info.types, var.ty);
        if size > MAX_STACK_VAR_BYTES && !matches!(var.kind, VarKind::Param | VarKind::Result) {
            let k = Holes::one(self.g.heap_hole("too large for the stack (over 10 MiB)")).addr();
            self.g.flow(&k, loc);
        }
        self.frames.last_mut().expect("a frame").vars.insert(v, loc);
        self.var_site(v, loc);
        loc
    }

    /// The location of a variable: the innermost frame that has it.
    fn var_loc(&mut self, v: VarId) -> Option<LocId> {
        for fr in self.frames.iter().rev() {
            if let Some(&l) = fr.vars.get(&v) {
                return Some(l);
            }
        }
        match self.info.vars[v.0 as usize].kind {
            VarKind::Global => None,
            // Declared somewhere this walk did not see: a location of its own.
            _ => Some(self.declare(v)),
        }
    }

    /// A location for an allocation at a site, with Go's size rules.
    fn spill_site(&mut self, k: &Holes, kind: SiteKind, pos: Pos, name: &str, heap_why: Option<String>) -> Holes {
        let loc = self.new_loc(name);
        self.g.flow(&k.addr(), loc);
        if let Some(why) = heap_why {
            let hk = Holes::one(self.g.heap_hole(&why)).addr();
            self.g.flow(&hk, loc);
        }
        let (inlined_at, func) = (self.frame().inlined_at, self.frame().func);
        let printed = !self.static_data;
        self.sites.push(SiteLoc { kind, pos, loc, inlined_at, var: None, func, printed });
        Holes::one(self.g.hole(loc, ""))
    }

    /// A location that is no site (a temporary, an implicit slice).
    fn spill_temp(&mut self, k: &Holes, name: &str) -> Holes {
        let loc = self.new_loc(name);
        self.g.flow(&k.addr(), loc);
        Holes::one(self.g.hole(loc, ""))
    }

    fn fix(&mut self, kind: SiteKind, pos: Pos, placement: Placement, why: &str) {
        let (inlined_at, func) = (self.frame().inlined_at, self.frame().func);
        self.fixed.push(FixedSite { kind, pos, placement, why: why.to_string(), inlined_at, func });
    }

    fn heap(&self, note: &str) -> Holes {
        Holes::one(self.g.heap_hole(note))
    }

    // ----- statements -----

    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    fn stmts(&mut self, ss: &[Stmt]) {
        for s in ss {
            self.stmt(s);
        }
    }

    fn loop_depth_add(&mut self, d: i32) {
        let fr = self.frames.last_mut().expect("a frame");
        fr.loop_depth = (fr.loop_depth as i32 + d) as u32;
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(&Holes::discard(), e),
            StmtKind::Send { chan, value } => {
                self.expr(&Holes::discard(), chan);
                let k = self.heap("sent on a channel");
                self.expr(&k, value);
            }
            StmtKind::IncDec { target, .. } => {
                let _ = self.addr(target);
            }
            StmtKind::Assign { lhs, op: None, rhs } => self.assign(lhs, rhs),
            StmtKind::Assign { lhs, op: Some(op), rhs } => {
                // The result is a new value (a number, or a heap string):
                // nothing flows into the target.
                let _ = self.addr(&lhs[0]);
                if *op == BinaryOp::Add && self.info.types.is_string(self.ty(&lhs[0])) {
                    // `s += x`: escape analysis sees no concatenation here;
                    // Go's walk builds it later, always on the heap.
                    self.fix(
                        SiteKind::Concat,
                        rhs[0].pos,
                        Placement::Heap,
                        "x += y on strings: concatenated by walk, on the heap",
                    );
                }
                self.expr(&Holes::discard(), &rhs[0]);
            }
            StmtKind::Define { lhs, rhs } => {
                let ks: Vec<Holes> = lhs
                    .iter()
                    .map(|name| {
                        if name.is_blank() {
                            return Holes::discard();
                        }
                        match self.info.decl_var.get(&name.pos) {
                            Some(&v) => {
                                let existing = self.frames.iter().rev().find_map(|f| f.vars.get(&v).copied());
                                let loc = match existing {
                                    Some(l) if self.info.vars[v.0 as usize].pos != name.pos => l,
                                    _ => self.declare(v),
                                };
                                Holes::one(self.g.hole(loc, &format!("assigned to {}", name.name)))
                            }
                            None => Holes::discard(),
                        }
                    })
                    .collect();
                self.assign_holes(ks, rhs);
            }
            StmtKind::Var(vs) => self.var_spec(vs),
            StmtKind::Const(_) | StmtKind::Type(_) => {}
            StmtKind::Go(call) => self.go_defer(call, true),
            StmtKind::Defer(call) => self.go_defer(call, false),
            StmtKind::Return(es) => {
                let results: Vec<Holes> =
                    self.frame().results.clone().into_iter().map(|l| Holes::one(self.g.hole(l, "returned"))).collect();
                if es.is_empty() {
                    return;
                }
                self.assign_holes(results, es);
            }
            StmtKind::Break(_) | StmtKind::Continue(_) | StmtKind::Fallthrough | StmtKind::Empty => {}
            StmtKind::Block(b) => self.block(b),
            StmtKind::If { init, cond, then, els } => {
                if let Some(i) = init {
                    self.stmt(i);
                }
                self.expr(&Holes::discard(), cond);
                self.block(then);
                if let Some(e) = els {
                    self.stmt(e);
                }
            }
            StmtKind::For { init, cond, post, body } => {
                if let Some(i) = init {
                    self.stmt(i);
                }
                self.loop_depth_add(1);
                if let Some(c) = cond {
                    self.expr(&Holes::discard(), c);
                }
                if let Some(p) = post {
                    self.stmt(p);
                }
                self.block(body);
                self.loop_depth_add(-1);
            }
            StmtKind::Range { key, value, define, x, body } => {
                let tmp = self.new_loc("range");
                let tk = Holes::one(self.g.hole(tmp, ""));
                self.expr(&tk, x);
                // Go 1.19's range variables are one per loop, declared outside it.
                // Only the value flows from the ranged-over operand (a
                // key is an index, or a map key already on the heap).
                let _ = self.range_var(key.as_ref(), *define);
                let vk = self.range_var(value.as_ref(), *define);
                self.loop_depth_add(1);
                let is_array = matches!(self.info.types.under(self.ty(x)), Type::Array(..));
                let vk = if is_array { vk } else { vk.deref() };
                self.g.flow(&vk, tmp);
                self.block(body);
                self.loop_depth_add(-1);
            }
            StmtKind::Switch { init, tag, cases } => {
                if let Some(i) = init {
                    self.stmt(i);
                }
                if let Some(t) = tag {
                    self.expr(&Holes::discard(), t);
                }
                for c in cases {
                    for e in &c.exprs {
                        self.expr(&Holes::discard(), e);
                    }
                    self.stmts(&c.body);
                }
            }
            StmtKind::TypeSwitch { init, bind, x, cases } => {
                if let Some(i) = init {
                    self.stmt(i);
                }
                let mut ks = Holes::discard();
                let mut clause_vars = Vec::new();
                if bind.is_some() {
                    for c in cases {
                        let Some(&v) = self.info.decl_var.get(&c.colon) else {
                            clause_vars.push(None);
                            continue;
                        };
                        let loc = self.declare(v);
                        clause_vars.push(Some(loc));
                        let t = self.info.vars[v.0 as usize].ty;
                        if self.has_pointers(t) {
                            let h = Holes::one(self.g.hole(loc, "type switch variable"));
                            ks = ks.with(self.dot_type(h, t));
                        }
                    }
                }
                self.expr(&ks, x);
                for c in cases {
                    self.stmts(&c.body);
                }
            }
            StmtKind::Select(cases) => {
                for c in cases {
                    if let Some(comm) = &c.comm {
                        self.stmt(comm);
                    }
                    self.stmts(&c.body);
                }
            }
            StmtKind::Labeled { stmt, .. } => self.stmt(stmt),
        }
    }

    fn range_var(&mut self, e: Option<&Expr>, define: bool) -> Holes {
        let Some(e) = e else { return Holes::discard() };
        if !define {
            return self.addr(e);
        }
        let ExprKind::Ident(name) = &e.kind else { return Holes::discard() };
        if name == "_" {
            return Holes::discard();
        }
        let v = match self.info.decl_var.get(&e.pos) {
            Some(&v) => v,
            None => match &self.info.refs[e.id.0 as usize] {
                Some(Ref::Var(v)) => *v,
                _ => return Holes::discard(),
            },
        };
        let loc = self.declare(v);
        Holes::one(self.g.hole(loc, &format!("assigned to {name}")))
    }

    fn var_spec(&mut self, vs: &VarSpec) {
        let mut ks = Vec::new();
        for name in &vs.names {
            match self.info.decl_var.get(&name.pos) {
                Some(&v) if !name.is_blank() => {
                    let loc = self.declare(v);
                    ks.push(Holes::one(self.g.hole(loc, &format!("assigned to {}", name.name))));
                }
                _ => ks.push(Holes::discard()),
            }
        }
        if !vs.values.is_empty() {
            self.assign_holes(ks, &vs.values);
        }
    }

    fn assign(&mut self, lhs: &[Expr], rhs: &[Expr]) {
        let ks: Vec<Holes> = lhs.iter().map(|l| self.addr(l)).collect();
        self.assign_holes(ks, rhs);
    }

    /// `lhs... = rhs...`, one value each, or one multi-valued expression.
    fn assign_holes(&mut self, ks: Vec<Holes>, rhs: &[Expr]) {
        if rhs.len() == ks.len() {
            for (k, e) in ks.iter().zip(rhs) {
                self.expr(k, e);
            }
            return;
        }
        let Some(e) = rhs.first() else { return };
        match &e.kind {
            ExprKind::Call { .. } => self.call(&ks, e),
            // `v, ok := m[k]`, `x.(T)`, `<-ch`: the value, and a bool.
            _ => {
                let k = ks.into_iter().next().unwrap_or_default();
                self.expr(&k, e);
            }
        }
    }

    /// Where a store to `e` goes (Go's `escape.addr`).
    fn addr(&mut self, e: &Expr) -> Holes {
        match &e.kind {
            ExprKind::Ident(name) => {
                if name == "_" {
                    return Holes::discard();
                }
                match &self.info.refs[e.id.0 as usize] {
                    Some(Ref::Var(v)) => {
                        let v = *v;
                        let var_name = self.info.vars[v.0 as usize].name.clone();
                        match self.var_loc(v) {
                            Some(l) => Holes::one(self.g.hole(l, &format!("assigned to {var_name}"))),
                            None => self.heap(&format!("stored in package-level variable {var_name}")),
                        }
                    }
                    _ => Holes::discard(),
                }
            }
            ExprKind::Selector { x, .. } => match &self.info.refs[e.id.0 as usize] {
                Some(Ref::Field { through_ptr: false, .. }) => self.addr(x),
                Some(Ref::Field { through_ptr: true, .. }) => {
                    self.expr(&Holes::discard(), x);
                    self.heap("stored through a pointer")
                }
                _ => self.heap("stored in package-level state"),
            },
            ExprKind::Index { x, index } => {
                self.expr(&Holes::discard(), index);
                match self.info.types.under(self.ty(x)) {
                    Type::Array(..) => self.addr(x),
                    Type::Map(..) => {
                        self.expr(&Holes::discard(), x);
                        self.heap("stored in a map")
                    }
                    _ => {
                        self.expr(&Holes::discard(), x);
                        self.heap("stored through a slice or pointer")
                    }
                }
            }
            ExprKind::Deref(x) => {
                self.expr(&Holes::discard(), x);
                self.heap("stored through a pointer")
            }
            _ => {
                self.expr(&Holes::discard(), e);
                Holes::discard()
            }
        }
    }

    /// A value of type `t` taken out of an interface flows to `k`.
    fn dot_type(&self, k: Holes, t: TypeId) -> Holes {
        if self.info.types.is_interface(t) || layout::is_direct_iface(&self.info.types, t) {
            k
        } else {
            k.deref()
        }
    }

    fn go_defer(&mut self, call: &Expr, is_go: bool) {
        let k = if is_go {
            self.heap("captured by a go statement")
        } else if self.frame().loop_depth == 1 {
            Holes::discard()
        } else {
            self.heap("captured by a defer in a loop")
        };
        let ExprKind::Call { fun, args, .. } = &call.kind else {
            self.expr(&k, call);
            return;
        };
        // The function value and every argument go into the goroutine's
        // (or the deferred call's) closure.
        match &self.info.refs[fun.id.0 as usize] {
            Some(Ref::Method { x_ptr, recv_ptr, .. }) => {
                let (x_ptr, recv_ptr) = (*x_ptr, *recv_ptr);
                if let ExprKind::Selector { x, .. } = &fun.kind {
                    let rk = match (recv_ptr, x_ptr) {
                        (true, false) => k.addr(),
                        (false, true) => k.deref(),
                        _ => k.clone(),
                    };
                    self.expr(&rk, x);
                }
            }
            Some(Ref::SyncMethod(..)) | Some(Ref::Builtin(_)) => {}
            _ => self.expr(&k, fun),
        }
        if let Some(Ref::Func(f)) = self.info.refs[fun.id.0 as usize] {
            self.called_out_of_line.insert(f);
        }
        if let Some(Ref::Method { func, .. }) = self.info.refs[fun.id.0 as usize] {
            self.called_out_of_line.insert(func);
        }
        if let Some(f) = self.static_callee(fun) {
            self.called_out_of_line.insert(f);
        }
        for a in args {
            self.expr(&k, a);
        }
    }

    // ----- expressions -----

    /// Evaluates `e` for its value into `k` (Go's `escape.expr`), with its
    /// implicit conversion to an interface if it has one.
    pub fn expr(&mut self, k: &Holes, e: &Expr) {
        self.expr_with(k, e, true);
    }

    fn expr_with(&mut self, k: &Holes, e: &Expr, outer_concat: bool) {
        let id = e.id.0 as usize;
        if self.info.to_iface[id].is_some() {
            let t = self.ty(e);
            if !self.info.types.is_interface(t) && !layout::is_direct_iface(&self.info.types, t) {
                let box_k = self.spill_site(k, SiteKind::Iface, e.pos, "interface conversion", None);
                self.expr_inner(&box_k, e, outer_concat);
                return;
            }
        }
        self.expr_inner(k, e, outer_concat);
    }

    fn expr_inner(&mut self, k: &Holes, e: &Expr, outer_concat: bool) {
        let id = e.id.0 as usize;
        let t = self.ty(e);
        // A constant allocates nothing (but `[]byte("k")` is a call the
        // checker folds).
        if self.info.consts[id].is_some() && (self.info.types.is_string(t) || !matches!(e.kind, ExprKind::Call { .. }))
        {
            return;
        }
        // A value with no pointers carries nothing anywhere.
        let k = if k.all_values() && !self.has_pointers(t) && !matches!(e.kind, ExprKind::Call { .. }) {
            Holes::discard()
        } else {
            k.clone()
        };
        let k = &k;
        match &e.kind {
            ExprKind::Ident(_) => {
                if let Some(Ref::Var(v)) = &self.info.refs[id] {
                    if let Some(l) = self.var_loc(*v) {
                        self.g.flow(k, l);
                    }
                }
            }
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Char(_) | ExprKind::Str(_) | ExprKind::TypeExpr(_) => {}
            ExprKind::Composite { elts, .. } => self.composite(k, e, t, elts, None),
            ExprKind::FuncLit { body, .. } => self.func_lit(k, e, body),
            ExprKind::Selector { x, .. } => match &self.info.refs[id] {
                Some(Ref::Field { through_ptr: true, .. }) => self.expr(&k.deref(), x),
                Some(Ref::Field { through_ptr: false, .. }) => self.expr(k, x),
                Some(Ref::Method { .. }) | Some(Ref::IfaceMethod(_)) => {
                    // A method value: a closure over its receiver.
                    let h = self.heap("method value");
                    self.expr(&h, x);
                }
                _ => {}
            },
            ExprKind::Index { x, index } => {
                self.expr(&Holes::discard(), index);
                match self.info.types.under(self.ty(x)) {
                    Type::Array(..) => self.expr(k, x),
                    Type::Map(..) | Type::Basic(_) => self.expr(&Holes::discard(), x),
                    _ => self.expr(&k.deref(), x),
                }
            }
            ExprKind::SliceExpr { x, lo, hi, max } => {
                for b in [lo, hi, max].into_iter().flatten() {
                    self.expr(&Holes::discard(), b);
                }
                match self.info.types.under(self.ty(x)) {
                    // Slicing an array takes its address.
                    Type::Array(..) => self.expr(&k.addr(), x),
                    _ => self.expr(k, x),
                }
            }
            ExprKind::TypeAssert { x, .. } => {
                let want = match self.info.types.under(t) {
                    Type::Tuple(ts) => ts[0],
                    _ => t,
                };
                let kk = self.dot_type(k.clone(), want);
                self.expr(&kk, x);
            }
            ExprKind::Call { .. } => self.call(std::slice::from_ref(k), e),
            ExprKind::Deref(x) => self.expr(&k.deref(), x),
            ExprKind::AddrOf(x) => match &x.kind {
                ExprKind::Composite { elts, .. } => {
                    let xt = self.ty(x);
                    self.composite(k, x, xt, elts, Some(e));
                }
                _ => self.expr(&k.addr(), x),
            },
            ExprKind::Unary { op: UnaryOp::Recv, x } => self.expr(&Holes::discard(), x),
            ExprKind::Unary { x, .. } => self.expr(&Holes::discard(), x),
            ExprKind::Binary { op, x, y } => {
                if *op == BinaryOp::Add && self.info.types.is_string(t) {
                    if outer_concat {
                        let _ = self.spill_site(k, SiteKind::Concat, e.pos, "concatenation", None);
                    } else {
                        self.fix(
                            SiteKind::Concat,
                            e.pos,
                            Placement::Stack,
                            "inside a longer concatenation, which Go makes at once: no string of its own",
                        );
                    }
                    // Operands of a concatenation never escape.
                    for o in [x, y] {
                        let inner = matches!(o.kind, ExprKind::Binary { op: BinaryOp::Add, .. })
                            && self.info.consts[o.id.0 as usize].is_none()
                            && self.info.to_iface[o.id.0 as usize].is_none();
                        self.expr_with(&Holes::discard(), o, !inner);
                    }
                } else {
                    self.expr(&Holes::discard(), x);
                    self.expr(&Holes::discard(), y);
                }
            }
        }
    }

    /// A composite literal of type `t` flowing to `k`; `addr` is the `&`
    /// taking its address (or an elided `{...}` of pointer type).
    fn composite(&mut self, k: &Holes, e: &Expr, t: TypeId, elts: &[Element], addr: Option<&Expr>) {
        // An elided `{...}` standing for `&T{...}`.
        if let Type::Pointer(elem) = self.info.types.under(t).clone() {
            let size = layout::size_of(&self.info.types, elem);
            let why = (size > MAX_IMPLICIT_STACK_BYTES).then(|| "too large for the stack (over 64 KiB)".to_string());
            let lk = self.spill_site(k, SiteKind::AddrOfLiteral, e.pos, "&T{...}", why);
            self.composite_value(&lk, e, elem, elts);
            return;
        }
        if let Some(a) = addr {
            let size = layout::size_of(&self.info.types, t);
            let why = (size > MAX_IMPLICIT_STACK_BYTES).then(|| "too large for the stack (over 64 KiB)".to_string());
            let lk = self.spill_site(k, SiteKind::AddrOfLiteral, a.pos, "&T{...}", why);
            self.composite_value(&lk, e, t, elts);
            return;
        }
        self.composite_value(k, e, t, elts);
    }

    fn composite_value(&mut self, k: &Holes, e: &Expr, t: TypeId, elts: &[Element]) {
        match self.info.types.under(t).clone() {
            Type::Slice(_) => {
                let lk = self.spill_site(k, SiteKind::Literal, e.pos, "slice literal", None);
                for el in elts {
                    if let Some(key) = &el.key {
                        self.expr(&Holes::discard(), key);
                    }
                    self.expr(&lk, &el.value);
                }
            }
            Type::Map(..) => {
                let _ = self.spill_site(k, SiteKind::Literal, e.pos, "map literal", None);
                let h = self.heap("stored in a map");
                for el in elts {
                    if let Some(key) = &el.key {
                        self.expr(&h, key);
                    }
                    self.expr(&h, &el.value);
                }
            }
            Type::Struct(_) => {
                for el in elts {
                    self.expr(k, &el.value);
                }
            }
            _ => {
                for el in elts {
                    if let Some(key) = &el.key {
                        self.expr(&Holes::discard(), key);
                    }
                    self.expr(k, &el.value);
                }
            }
        }
    }

    /// A func literal: its closure flows to `k`, the captured variables
    /// (or their addresses) into the closure; its body is walked as a
    /// function of its own, nested in the current one.
    fn func_lit(&mut self, k: &Holes, e: &Expr, body: &Block) {
        let Some(&f) = self.info.lit_func.get(&e.id) else { return };
        let fi = &self.info.funcs[f.0 as usize];
        let captures = fi.captures.clone();
        let lk = self.spill_site(k, SiteKind::Closure, e.pos, "func literal", None);
        for c in &captures {
            let Some(l) = self.var_loc(c.var) else { continue };
            let t = self.info.vars[c.var.0 as usize].ty;
            // The checker's rule, and Go's for range variables (assigned
            // by every iteration).
            if c.by_ref || self.defs.range_vars.contains(&c.var) {
                let name = self.info.vars[c.var.0 as usize].name.clone();
                let h = Holes(
                    lk.0.iter()
                        .map(|h| Hole {
                            note: format!("captured by reference by a closure: {name}").into(),
                            ..h.clone()
                        })
                        .collect(),
                );
                self.g.flow(&h.addr(), l);
            } else if self.has_pointers(t) {
                self.g.flow(&lk, l);
            }
        }
        let parent = Some(self.frame().fnid);
        let inlined_at = self.frame().inlined_at;
        if inlined_at.is_none() && !self.fn_of.contains_key(&f) {
            let fnid = self.prepare(f, parent);
            self.walk_out_of_line(f, fnid);
        } else {
            // A copy of the literal in an inlined body: a closure of the
            // function being compiled, with its own locations.
            let fnid = self.g.new_fn(format!("{}(inlined copy)", fi.name), parent);
            let sig = SigLocs {
                params: fi
                    .recv
                    .iter()
                    .chain(&fi.params)
                    .map(|&v| self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, 1))
                    .collect(),
                results: fi
                    .results
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let l = self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, 1);
                        self.g.locs[l].result = Some(i);
                        l
                    })
                    .collect(),
            };
            let saved = self.sigs.insert(f, sig);
            self.frames.push(Frame {
                func: f,
                fnid,
                inlined_at,
                vars: HashMap::new(),
                results: Vec::new(),
                loop_depth: 1,
                inlining: vec![f],
            });
            let sig = self.sigs[&f].clone();
            let vars: Vec<VarId> = fi.recv.iter().chain(&fi.params).chain(&fi.results).copied().collect();
            for (v, l) in vars.into_iter().zip(sig.params.iter().chain(&sig.results)) {
                self.frames.last_mut().expect("a frame").vars.insert(v, *l);
                self.var_site(v, *l);
            }
            self.frames.last_mut().expect("a frame").results = sig.results.clone();
            self.block(body);
            self.frames.pop();
            if let Some(s) = saved {
                self.sigs.insert(f, s);
            }
        }
    }

    // ----- calls -----

    /// The function a call's callee denotes, if Go knows it statically:
    /// a function, a method, or a local variable never reassigned whose
    /// value is a func literal or a function (Go's `ir.StaticValue`).
    fn static_callee(&self, fun: &Expr) -> Option<FuncId> {
        match &self.info.refs[fun.id.0 as usize] {
            Some(Ref::Func(f)) => Some(*f),
            Some(Ref::Method { func, .. }) => Some(*func),
            Some(Ref::Var(_)) => {
                let v = self.defs.static_value(fun, self.frame().func);
                match &v.kind {
                    ExprKind::FuncLit { .. } => self.info.lit_func.get(&v.id).copied(),
                    ExprKind::Ident(_) => match &self.info.refs[v.id.0 as usize] {
                        Some(Ref::Func(f)) => Some(*f),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => match &fun.kind {
                ExprKind::FuncLit { .. } => self.info.lit_func.get(&fun.id).copied(),
                _ => None,
            },
        }
    }

    /// A call whose results flow to `ks` (one hole per result).
    fn call(&mut self, ks: &[Holes], e: &Expr) {
        let ExprKind::Call { fun, args, ellipsis, .. } = &e.kind else { return };
        let id = e.id.0 as usize;
        let k0 = ks.first().cloned().unwrap_or_default();
        if let Some(Ref::Type(t)) = self.info.refs[id] {
            self.conversion(&k0, e, t, &args[0]);
            return;
        }
        let fref = self.info.refs[fun.id.0 as usize].clone();
        match fref {
            Some(Ref::Builtin(b)) => return self.builtin(&k0, e, b, args, *ellipsis),
            Some(Ref::SyncMethod(..)) => {
                if let ExprKind::Selector { x, .. } = &fun.kind {
                    self.expr(&Holes::discard(), x);
                }
                for a in args {
                    self.expr(&Holes::discard(), a);
                }
                return;
            }
            Some(Ref::IfaceMethod(name)) => {
                let ExprKind::Selector { x, .. } = &fun.kind else { return };
                if let Some((f, concrete)) = self.devirtualize(x, &name) {
                    // Go 1.19 rewrites the call to the concrete method (and
                    // does not inline it): `x.(T).M(args)`.
                    self.static_call(ks, e, f, Some(Receiver::DotType(x, concrete)), args, *ellipsis, false);
                    return;
                }
                let h = self.heap("receiver of an interface method call (unknown callee)");
                self.expr(&h, x);
                let h = self.heap("argument of an interface method call (unknown callee)");
                for a in args {
                    self.expr(&h, a);
                }
                return;
            }
            _ => {}
        }
        if let Some(f) = self.static_callee(fun) {
            let recv = match (&fref, &fun.kind) {
                (Some(Ref::Method { recv_ptr, x_ptr, .. }), ExprKind::Selector { x, .. }) => {
                    Some(Receiver::Expr(x, *recv_ptr, *x_ptr))
                }
                _ => None,
            };
            if recv.is_none() && !matches!(fref, Some(Ref::Func(_))) {
                // A call through a variable bound to a literal: the
                // variable itself is only read.
                self.expr(&Holes::discard(), fun);
            }
            self.static_call(ks, e, f, recv, args, *ellipsis, true);
            return;
        }
        // A call through a func value: Go knows nothing of the callee.
        self.expr(&Holes::discard(), fun);
        let h = self.heap("argument of a call through a func value (unknown callee)");
        for a in args {
            self.expr(&h, a);
        }
    }

    /// Devirtualization (Go 1.19's `devirtualize` pass): `x.M()` where `x`
    /// is a local variable never reassigned, initialized by converting a
    /// concrete value to the interface.
    fn devirtualize(&self, x: &Expr, method: &str) -> Option<(FuncId, TypeId)> {
        let v = self.defs.static_value(x, self.frame().func);
        if v.id == x.id {
            return None;
        }
        self.info.to_iface[v.id.0 as usize]?;
        let concrete = self.info.expr_type[v.id.0 as usize];
        if self.info.types.is_interface(concrete) {
            return None;
        }
        let base = match self.info.types.get(concrete) {
            Type::Pointer(b) => *b,
            _ => concrete,
        };
        let full = format!("{}.{method}", self.info.types.name(base));
        let f = self.info.funcs.iter().position(|f| f.name == full && f.decl.is_some())?;
        Some((FuncId(f as u32), concrete))
    }

    #[allow(clippy::too_many_arguments)]
    fn static_call(
        &mut self,
        ks: &[Holes],
        e: &Expr,
        f: FuncId,
        recv: Option<Receiver>,
        args: &[Expr],
        ellipsis: bool,
        may_inline: bool,
    ) {
        let fi = &self.info.funcs[f.0 as usize];
        let nparams = fi.params.len() + usize::from(fi.recv.is_some());
        let variadic = fi.sig.variadic;
        let inline = may_inline && self.inl.inlinable(f) && !self.frame().inlining.contains(&f);
        // The holes each parameter's argument flows to.
        let param_holes: Vec<Holes> = if inline {
            Vec::new()
        } else if let Some(sig) = self.sigs.get(&f).cloned() {
            if self.info.funcs[f.0 as usize].lit.is_some() {
                if let Some(&fnid) = self.fn_of.get(&f) {
                    self.g.fns[fnid].closure_called = true;
                }
            }
            // In this batch: straight into the parameters.
            for (k, &r) in ks.iter().zip(&sig.results) {
                self.g.flow(k, r);
            }
            sig.params.iter().map(|&p| Holes::one(self.g.hole(p, "argument"))).collect()
        } else {
            let name = self.info.funcs[f.0 as usize].name.clone();
            match self.tags.get(&f) {
                Some(tags) => tags
                    .iter()
                    .map(|l| {
                        let mut h = Holes::discard();
                        if let Some(d) = l.heap {
                            h = h.with(self.heap(&format!("argument to {name}, whose parameter leaks")).shift(d));
                        }
                        for (i, r) in l.results.iter().enumerate() {
                            if let (Some(d), Some(k)) = (r, ks.get(i)) {
                                h = h.with(k.shift(*d));
                            }
                        }
                        h
                    })
                    .collect(),
                None => (0..nparams).map(|_| self.heap(&format!("argument to {name}"))).collect(),
            }
        };
        if !inline {
            self.called_out_of_line.insert(f);
            self.flow_args(&param_holes, recv, args, ellipsis, variadic);
            return;
        }
        // Inlined: the callee's body is walked here, its parameters and
        // results new locals of the current function.
        let outer = self.frame().inlined_at.unwrap_or(e.pos);
        let (fnid, depth) = (self.frame().fnid, self.frame().loop_depth);
        let mut inlining = self.frame().inlining.clone();
        inlining.push(f);
        let fi = &self.info.funcs[f.0 as usize];
        let param_vars: Vec<VarId> = fi.recv.iter().chain(&fi.params).copied().collect();
        let result_vars = fi.results.clone();
        let mut vars = HashMap::new();
        let mut param_locs = Vec::new();
        for &v in &param_vars {
            let l = self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, depth);
            vars.insert(v, l);
            param_locs.push(l);
        }
        let mut result_locs = Vec::new();
        for &v in &result_vars {
            let l = self.g.new_loc(&self.info.vars[v.0 as usize].name, fnid, depth);
            vars.insert(v, l);
            result_locs.push(l);
        }
        let holes: Vec<Holes> = param_locs.iter().map(|&p| Holes::one(self.g.hole(p, "argument"))).collect();
        self.flow_args(&holes, recv, args, ellipsis, variadic);
        self.frames.push(Frame {
            func: f,
            fnid,
            inlined_at: Some(outer),
            vars,
            results: result_locs.clone(),
            loop_depth: depth,
            inlining,
        });
        for (&v, &l) in param_vars.iter().chain(&result_vars).zip(param_locs.iter().chain(&result_locs)) {
            self.var_site(v, l);
        }
        if let Some(b) = inline::body(self.pkg, self.info, f) {
            self.block(b);
        }
        self.frames.pop();
        for (k, &r) in ks.iter().zip(&result_locs) {
            self.g.flow(k, r);
        }
    }

    /// The receiver and arguments of a call flow into the parameters'
    /// holes (the receiver first); extra arguments of a variadic call
    /// go into the implicit slice passed as the last.
    fn flow_args(&mut self, holes: &[Holes], recv: Option<Receiver>, args: &[Expr], ellipsis: bool, variadic: bool) {
        let mut holes = holes.iter();
        if let Some(r) = recv {
            let k = holes.next().cloned().unwrap_or_default();
            match r {
                Receiver::Expr(x, recv_ptr, x_ptr) => {
                    let k = match (recv_ptr, x_ptr) {
                        (true, false) => k.addr(),
                        (false, true) => k.deref(),
                        _ => k,
                    };
                    self.expr(&k, x);
                }
                Receiver::DotType(x, t) => {
                    let k = self.dot_type(k, t);
                    self.expr(&k, x);
                }
            }
        }
        let holes: Vec<Holes> = holes.cloned().collect();
        let fixed = if variadic && !ellipsis { holes.len().saturating_sub(1) } else { holes.len() };
        for (i, a) in args.iter().enumerate() {
            if i < fixed {
                let k = holes.get(i).cloned().unwrap_or_default();
                self.expr(&k, a);
            }
        }
        if variadic && !ellipsis {
            let k = holes.last().cloned().unwrap_or_default();
            let sk = self.spill_temp(&k, "... argument");
            for a in args.iter().skip(fixed) {
                self.expr(&sk, a);
            }
        }
    }

    fn conversion(&mut self, k: &Holes, e: &Expr, t: TypeId, arg: &Expr) {
        let at = self.ty(arg);
        let types = &self.info.types;
        let to_str = types.is_string(t);
        let from_str = types.is_string(at);
        let allocates = (to_str && !from_str && !self.info.types.is_interface(at))
            || (from_str && matches!(types.under(t), Type::Slice(_)));
        if allocates {
            let _ = self.spill_site(k, SiteKind::Conv, e.pos, "conversion", None);
            self.expr(&Holes::discard(), arg);
            return;
        }
        self.expr(k, arg);
    }

    fn builtin(&mut self, k: &Holes, e: &Expr, b: Builtin, args: &[Expr], ellipsis: bool) {
        let t = self.ty(e);
        match b {
            Builtin::Make => {
                for a in args {
                    self.expr(&Holes::discard(), a);
                }
                match self.info.types.under(t).clone() {
                    Type::Slice(el) => {
                        let n = args.get(1).or(args.first()).and_then(|a| match &self.info.consts[a.id.0 as usize] {
                            Some(crate::golang::check::Const::Int(n)) => Some(*n),
                            _ => None,
                        });
                        let elem = layout::size_of(&self.info.types, el);
                        let why = match n {
                            None => Some("non-constant size".to_string()),
                            Some(n) if elem > 0 && (n as u64) > MAX_IMPLICIT_STACK_BYTES / elem => {
                                Some("too large for the stack (over 64 KiB)".to_string())
                            }
                            _ => None,
                        };
                        let _ = self.spill_site(k, SiteKind::MakeSlice, e.pos, "make", why);
                    }
                    Type::Map(..) => {
                        let _ = self.spill_site(k, SiteKind::MakeMap, e.pos, "make", None);
                    }
                    _ => self.fix(SiteKind::MakeChan, e.pos, Placement::Heap, "a channel is always on the heap"),
                }
            }
            Builtin::New => {
                let el = self.info.types.elem(t).unwrap_or(t);
                let size = layout::size_of(&self.info.types, el);
                let why =
                    (size > MAX_IMPLICIT_STACK_BYTES).then(|| "too large for the stack (over 64 KiB)".to_string());
                let _ = self.spill_site(k, SiteKind::New, e.pos, "new", why);
            }
            Builtin::Append => {
                let Some(first) = args.first() else { return };
                let el = self.info.types.elem(self.ty(first)).unwrap_or(t);
                let el_ptrs = self.has_pointers(el);
                let mut appendee = k.clone();
                if el_ptrs {
                    appendee =
                        appendee.with(self.heap("appended to (the slice may be reallocated on the heap)").deref());
                }
                self.expr(&appendee, first);
                if ellipsis {
                    let k2 = if el_ptrs { self.heap("appended to a slice").deref() } else { Holes::discard() };
                    if let Some(a) = args.get(1) {
                        self.expr(&k2, a);
                    }
                } else {
                    let h = self.heap("appended to a slice");
                    for a in &args[1..] {
                        self.expr(&h, a);
                    }
                }
            }
            Builtin::Copy => {
                if let Some(a) = args.first() {
                    self.expr(&Holes::discard(), a);
                }
                if let Some(a) = args.get(1) {
                    let el = self.info.types.elem(self.ty(a));
                    let k2 = if el.is_some_and(|el| self.has_pointers(el)) && !self.info.types.is_string(self.ty(a)) {
                        self.heap("copied into a slice").deref()
                    } else {
                        Holes::discard()
                    };
                    self.expr(&k2, a);
                }
            }
            Builtin::Panic => {
                let h = self.heap("passed to panic");
                for a in args {
                    self.expr(&h, a);
                }
            }
            Builtin::FmtPrintln
            | Builtin::FmtPrint
            | Builtin::FmtPrintf
            | Builtin::FmtSprintf
            | Builtin::FmtSprint
            | Builtin::FmtFprintf
            | Builtin::FmtFprintln => {
                let name = match b {
                    Builtin::FmtPrintln => "fmt.Println",
                    Builtin::FmtPrint => "fmt.Print",
                    Builtin::FmtPrintf => "fmt.Printf",
                    Builtin::FmtSprintf => "fmt.Sprintf",
                    Builtin::FmtSprint => "fmt.Sprint",
                    Builtin::FmtFprintf => "fmt.Fprintf",
                    _ => "fmt.Fprintln",
                };
                let h = self.heap(&format!("passed to {name}, whose arguments leak"));
                for a in args {
                    self.expr(&h, a);
                }
            }
            _ => {
                for a in args {
                    self.expr(&Holes::discard(), a);
                }
            }
        }
    }
}

/// The receiver of a method call.
#[derive(Clone, Copy)]
enum Receiver<'e> {
    /// `x.m(...)`: the expression, whether the method takes a pointer and
    /// whether `x` is one.
    Expr(&'e Expr, bool, bool),
    /// A devirtualized call: the interface value and the concrete type.
    DotType(&'e Expr, TypeId),
}

//! Liveness of local variables: after which statement a variable is never
//! used again, so the interpreter can clear its trace locals there and its
//! blocks die when Go's would.
//!
//! Go's compiler keeps a local as a root only while it is live (the stack
//! maps at each safepoint, cmd/compile/internal/liveness), so a block a
//! variable points to can be collected after the variable's last use, long
//! before its function returns. gcwb's trace has no stack maps: a frame
//! local holds its pointer until it is overwritten or the frame is popped.
//! This pass finds, for each variable declared by a statement of a block (or
//! a parameter of the function), the last statement of that block whose
//! text mentions it; the interpreter clears the variable right after that
//! statement completes normally.
//!
//! It is coarser than Go's, and never earlier: a use inside a loop, an `if`
//! or a nested block keeps the variable until the whole statement of the
//! declaring block that contains it is done (so a variable used in a loop
//! lives through every iteration). Variables declared in a `for`, `if` or
//! `switch` header, range variables, type-switch bindings, named results and
//! variables a closure captures are left alone (they die with their scope
//! or their frame), as are temporaries.

use super::ast::*;
use super::check::{FuncInfo, Info, Ref, VarId, VarKind};
use std::collections::{HashMap, HashSet};

/// For each statement (by position), the variables last used in it.
pub type DeadAfter = HashMap<Pos, Vec<VarId>>;

/// Computes [`DeadAfter`] for every function of `pkg`.
pub fn dead_after(pkg: &Package, info: &Info) -> DeadAfter {
    let mut out = DeadAfter::new();
    for f in &info.funcs {
        let body = match (f.decl, &f.lit_body) {
            (Some((file, decl)), _) => match &pkg.files[file].decls[decl] {
                Decl::Func(fd) => fd.body.clone(),
                _ => continue,
            },
            (None, Some(b)) => (**b).clone(),
            _ => continue,
        };
        let params: Vec<VarId> = f.recv.iter().chain(f.params.iter()).copied().collect();
        block(info, f, &body.stmts, &params, &mut out);
    }
    out
}

/// Can clearing `v` after its last use matter, and is it safe?
fn clearable(info: &Info, v: VarId) -> bool {
    let var = &info.vars[v.0 as usize];
    matches!(var.kind, VarKind::Param | VarKind::Local) && !var.captured
}

fn block(info: &Info, f: &FuncInfo, stmts: &[Stmt], params: &[VarId], out: &mut DeadAfter) {
    let mentions: Vec<HashSet<VarId>> = stmts.iter().map(|s| mentioned(info, s)).collect();
    let mut declared: Vec<(usize, VarId)> = params.iter().map(|&v| (0, v)).collect();
    for (i, s) in stmts.iter().enumerate() {
        for v in declared_by(info, s) {
            declared.push((i, v));
        }
    }
    for (from, v) in declared {
        if !clearable(info, v) || info.vars[v.0 as usize].func.is_none() {
            continue;
        }
        let last = (from..stmts.len()).rev().find(|&j| mentions[j].contains(&v));
        if let Some(last) = last {
            // A `return` ends the frame anyway.
            if !matches!(stmts[last].kind, StmtKind::Return(_)) {
                let dead = out.entry(stmts[last].pos).or_default();
                if !dead.contains(&v) {
                    dead.push(v);
                }
            }
        }
    }
    let _ = f;
    for s in stmts {
        nested(info, f, s, out);
    }
}

/// The blocks nested in `s`, each analysed for the variables it declares.
fn nested(info: &Info, f: &FuncInfo, s: &Stmt, out: &mut DeadAfter) {
    match &s.kind {
        StmtKind::Block(b) => block(info, f, &b.stmts, &[], out),
        StmtKind::If { then, els, .. } => {
            block(info, f, &then.stmts, &[], out);
            if let Some(e) = els {
                nested(info, f, e, out);
            }
        }
        StmtKind::For { body, .. } | StmtKind::Range { body, .. } => block(info, f, &body.stmts, &[], out),
        StmtKind::Switch { cases, .. } => {
            for c in cases {
                block(info, f, &c.body, &[], out);
            }
        }
        StmtKind::TypeSwitch { cases, .. } => {
            for c in cases {
                block(info, f, &c.body, &[], out);
            }
        }
        StmtKind::Select(cases) => {
            for c in cases {
                block(info, f, &c.body, &[], out);
            }
        }
        StmtKind::Labeled { stmt, .. } => nested(info, f, stmt, out),
        _ => {}
    }
}

/// The variables a statement declares for the rest of its block.
fn declared_by(info: &Info, s: &Stmt) -> Vec<VarId> {
    let names: Vec<&Ident> = match &s.kind {
        StmtKind::Define { lhs, .. } => lhs.iter().collect(),
        StmtKind::Var(vs) => vs.names.iter().collect(),
        _ => Vec::new(),
    };
    names.into_iter().filter_map(|n| info.decl_var.get(&n.pos).copied()).collect()
}

/// Every variable a statement's text mentions (nested statements and
/// function literals included).
fn mentioned(info: &Info, s: &Stmt) -> HashSet<VarId> {
    let mut m = Mentions { info, set: HashSet::new() };
    m.stmt(s);
    m.set
}

struct Mentions<'i> {
    info: &'i Info,
    set: HashSet<VarId>,
}

impl Mentions<'_> {
    fn name(&mut self, id: &Ident) {
        if let Some(&v) = self.info.decl_var.get(&id.pos) {
            self.set.insert(v);
        }
    }

    fn stmts(&mut self, ss: &[Stmt]) {
        for s in ss {
            self.stmt(s);
        }
    }

    fn opt(&mut self, s: &Option<Box<Stmt>>) {
        if let Some(s) = s {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Go(e) | StmtKind::Defer(e) => self.expr(e),
            StmtKind::Send { chan, value } => {
                self.expr(chan);
                self.expr(value);
            }
            StmtKind::IncDec { target, .. } => self.expr(target),
            StmtKind::Assign { lhs, rhs, .. } => lhs.iter().chain(rhs).for_each(|e| self.expr(e)),
            StmtKind::Define { lhs, rhs } => {
                lhs.iter().for_each(|n| self.name(n));
                rhs.iter().for_each(|e| self.expr(e));
            }
            StmtKind::Var(vs) => {
                vs.names.iter().for_each(|n| self.name(n));
                vs.values.iter().for_each(|e| self.expr(e));
            }
            StmtKind::Const(_) | StmtKind::Type(_) => {}
            StmtKind::Return(es) => es.iter().for_each(|e| self.expr(e)),
            StmtKind::Break(_) | StmtKind::Continue(_) | StmtKind::Fallthrough | StmtKind::Empty => {}
            StmtKind::Block(b) => self.stmts(&b.stmts),
            StmtKind::If { init, cond, then, els } => {
                self.opt(init);
                self.expr(cond);
                self.stmts(&then.stmts);
                self.opt(els);
            }
            StmtKind::For { init, cond, post, body } => {
                self.opt(init);
                if let Some(c) = cond {
                    self.expr(c);
                }
                self.opt(post);
                self.stmts(&body.stmts);
            }
            StmtKind::Range { key, value, x, body, .. } => {
                for e in [key, value].into_iter().flatten() {
                    self.expr(e);
                }
                self.expr(x);
                self.stmts(&body.stmts);
            }
            StmtKind::Switch { init, tag, cases } => {
                self.opt(init);
                if let Some(t) = tag {
                    self.expr(t);
                }
                for c in cases {
                    c.exprs.iter().for_each(|e| self.expr(e));
                    self.stmts(&c.body);
                }
            }
            StmtKind::TypeSwitch { init, x, cases, .. } => {
                self.opt(init);
                self.expr(x);
                for c in cases {
                    self.stmts(&c.body);
                }
            }
            StmtKind::Select(cases) => {
                for c in cases {
                    self.opt(&c.comm);
                    self.stmts(&c.body);
                }
            }
            StmtKind::Labeled { stmt, .. } => self.stmt(stmt),
        }
    }

    fn expr(&mut self, e: &Expr) {
        if let Some(Ref::Var(v)) = &self.info.refs[e.id.0 as usize] {
            self.set.insert(*v);
        }
        match &e.kind {
            ExprKind::Ident(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Char(_)
            | ExprKind::Str(_)
            | ExprKind::TypeExpr(_) => {}
            ExprKind::Composite { elts, .. } => {
                for el in elts {
                    if let Some(k) = &el.key {
                        self.expr(k);
                    }
                    self.expr(&el.value);
                }
            }
            ExprKind::FuncLit { body, .. } => self.stmts(&body.stmts),
            ExprKind::Selector { x, .. }
            | ExprKind::TypeAssert { x, .. }
            | ExprKind::Deref(x)
            | ExprKind::AddrOf(x)
            | ExprKind::Unary { x, .. } => self.expr(x),
            ExprKind::Index { x, index } => {
                self.expr(x);
                self.expr(index);
            }
            ExprKind::SliceExpr { x, lo, hi, max } => {
                self.expr(x);
                for b in [lo, hi, max].into_iter().flatten() {
                    self.expr(b);
                }
            }
            ExprKind::Call { fun, args, .. } => {
                self.expr(fun);
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Binary { x, y, .. } => {
                self.expr(x);
                self.expr(y);
            }
        }
    }
}

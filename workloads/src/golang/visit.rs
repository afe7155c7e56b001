//! Walking the syntax tree: a [`Visitor`] sees every statement and
//! expression of a function body in source order, nested blocks and
//! function literals included. The analyses that read a whole body (the
//! escape analysis's collection of definitions and calls, liveness's uses
//! of variables) override the hooks they need and let [`walk_stmt`] and
//! [`walk_expr`] do the rest.

use super::ast::*;

/// Hooks called while walking; each default just walks on.
pub trait Visitor<'a> {
    fn stmt(&mut self, s: &'a Stmt) {
        walk_stmt(self, s);
    }

    fn expr(&mut self, e: &'a Expr) {
        walk_expr(self, e);
    }

    /// The function of a call (`f` in `f(x)`).
    fn callee(&mut self, e: &'a Expr) {
        self.expr(e);
    }

    /// A name a `:=` or `var` declares (or, for `:=`, may assign).
    fn declared(&mut self, _name: &'a Ident) {}

    fn stmts(&mut self, ss: &'a [Stmt]) {
        for s in ss {
            self.stmt(s);
        }
    }
}

fn opt<'a, V: Visitor<'a> + ?Sized>(v: &mut V, s: &'a Option<Box<Stmt>>) {
    if let Some(s) = s {
        v.stmt(s);
    }
}

/// Visits what `s` contains.
pub fn walk_stmt<'a, V: Visitor<'a> + ?Sized>(v: &mut V, s: &'a Stmt) {
    match &s.kind {
        StmtKind::Expr(e) | StmtKind::Go(e) | StmtKind::Defer(e) => v.expr(e),
        StmtKind::Send { chan, value } => {
            v.expr(chan);
            v.expr(value);
        }
        StmtKind::IncDec { target, .. } => v.expr(target),
        StmtKind::Assign { lhs, rhs, .. } => lhs.iter().chain(rhs).for_each(|e| v.expr(e)),
        StmtKind::Define { lhs, rhs } => {
            lhs.iter().for_each(|n| v.declared(n));
            rhs.iter().for_each(|e| v.expr(e));
        }
        StmtKind::Var(vs) => {
            vs.names.iter().for_each(|n| v.declared(n));
            vs.values.iter().for_each(|e| v.expr(e));
        }
        StmtKind::Const(_) | StmtKind::Type(_) => {}
        StmtKind::Return(es) => es.iter().for_each(|e| v.expr(e)),
        StmtKind::Break(_) | StmtKind::Continue(_) | StmtKind::Fallthrough | StmtKind::Empty => {}
        StmtKind::Block(b) => v.stmts(&b.stmts),
        StmtKind::If { init, cond, then, els } => {
            opt(v, init);
            v.expr(cond);
            v.stmts(&then.stmts);
            opt(v, els);
        }
        StmtKind::For { init, cond, post, body } => {
            opt(v, init);
            if let Some(c) = cond {
                v.expr(c);
            }
            opt(v, post);
            v.stmts(&body.stmts);
        }
        StmtKind::Range { key, value, x, body, .. } => {
            for e in [key, value].into_iter().flatten() {
                v.expr(e);
            }
            v.expr(x);
            v.stmts(&body.stmts);
        }
        StmtKind::Switch { init, tag, cases } => {
            opt(v, init);
            if let Some(t) = tag {
                v.expr(t);
            }
            for c in cases {
                c.exprs.iter().for_each(|e| v.expr(e));
                v.stmts(&c.body);
            }
        }
        StmtKind::TypeSwitch { init, x, cases, .. } => {
            opt(v, init);
            v.expr(x);
            for c in cases {
                v.stmts(&c.body);
            }
        }
        StmtKind::Select(cases) => {
            for c in cases {
                opt(v, &c.comm);
                v.stmts(&c.body);
            }
        }
        StmtKind::Labeled { stmt, .. } => v.stmt(stmt),
    }
}

/// Visits what `e` contains.
pub fn walk_expr<'a, V: Visitor<'a> + ?Sized>(v: &mut V, e: &'a Expr) {
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
                    v.expr(k);
                }
                v.expr(&el.value);
            }
        }
        ExprKind::FuncLit { body, .. } => v.stmts(&body.stmts),
        ExprKind::Selector { x, .. }
        | ExprKind::TypeAssert { x, .. }
        | ExprKind::Deref(x)
        | ExprKind::AddrOf(x)
        | ExprKind::Unary { x, .. } => v.expr(x),
        ExprKind::Index { x, index } => {
            v.expr(x);
            v.expr(index);
        }
        ExprKind::SliceExpr { x, lo, hi, max } => {
            v.expr(x);
            for b in [lo, hi, max].into_iter().flatten() {
                v.expr(b);
            }
        }
        ExprKind::Call { fun, args, .. } => {
            v.callee(fun);
            args.iter().for_each(|a| v.expr(a));
        }
        ExprKind::Binary { x, y, .. } => {
            v.expr(x);
            v.expr(y);
        }
    }
}

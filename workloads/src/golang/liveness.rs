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
use super::check::{DeadAfter, FuncInfo, Info, Ref, VarId, VarKind};
use super::visit::{walk_expr, Visitor};
use std::collections::HashSet;

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

impl<'a> Visitor<'a> for Mentions<'_> {
    fn declared(&mut self, id: &'a Ident) {
        if let Some(&v) = self.info.decl_var.get(&id.pos) {
            self.set.insert(v);
        }
    }

    fn expr(&mut self, e: &'a Expr) {
        if let Some(Ref::Var(v)) = &self.info.refs[e.id.0 as usize] {
            self.set.insert(*v);
        }
        walk_expr(self, e);
    }
}

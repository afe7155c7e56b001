//! Which functions Go 1.19 inlines: its `hairyVisitor`
//! (`cmd/compile/internal/inline/inl.go`) approximated on gcwb's AST.
//!
//! A function is inlinable when it is not marked `//go:noinline`, is not
//! a single function calling itself, contains no `go`, `defer`, `select`
//! or local type declaration, and its body costs at most 80
//! (`inlineMaxBudget`). The cost counts Go's IR nodes, one each, plus: a
//! call to an inlinable function its callee's cost, any other call 57
//! (`inlineExtraCallCost`, also for calls through interfaces and func
//! values), a func literal 15 more than its body. gcwb's AST is not Go's
//! IR, so the nodes Go's type checker adds are counted where they
//! appear: an implicit interface conversion, a declaration per `:=` name
//! (`x := v` is 4 nodes and `v`), zeroing per `var x T` (4 nodes), a key
//! per struct literal element, the implicit `&` of slicing an array, the
//! type operand of `new`. `tests/go_escape_static.rs` checks the counts
//! against Go 1.19's own (`-gcflags=-m=2`) for the functions of
//! `fixtures/go-escape/inline-costs.go`, five of them around the budget,
//! and every `can inline` line of the corpus; a construct it does not
//! cover may still be counted a node or two off.
//!
//! The package functions the subset calls have Go 1.19's own costs
//! (`go build -gcflags=fmt=-m=2` and the like): `fmt.Println` 72,
//! `fmt.Print` 72, `fmt.Printf` 73, `strconv.Itoa` 62,
//! `(*sync.Mutex).Lock` 69, `Unlock` 75, `(*sync.WaitGroup).Done` 61; the
//! others are not inlinable.

use super::Defs;
use crate::golang::ast::*;
use crate::golang::check::{Builtin, FuncId, Info, Ref};

/// Go 1.19's `inlineMaxBudget`.
pub const MAX_BUDGET: i32 = 80;
/// Go 1.19's `inlineExtraCallCost`.
pub const EXTRA_CALL_COST: i32 = 57;
/// What a func literal adds to its enclosing function's cost.
const CLOSURE_COST: i32 = 15;

/// Inlinability of every function (declarations and literals).
#[derive(Clone, Debug)]
pub struct Inlining {
    /// `Some(cost)` when Go inlines calls to the function.
    pub cost: Vec<Option<i32>>,
    /// Why not, for the others.
    pub why_not: Vec<Option<String>>,
    /// The counted cost, inlinable or not (`None`: not counted, e.g. a
    /// construct forbids inlining).
    pub counted: Vec<Option<i32>>,
}

impl Inlining {
    pub fn inlinable(&self, f: FuncId) -> bool {
        self.cost.get(f.0 as usize).is_some_and(Option::is_some)
    }
}

/// The body of a function (a declaration's or a literal's).
pub fn body<'a>(pkg: &'a Package, info: &'a Info, f: FuncId) -> Option<&'a Block> {
    let fi = &info.funcs[f.0 as usize];
    if let Some((file, decl)) = fi.decl {
        if let Some(Decl::Func(fd)) = pkg.files.get(file).and_then(|x| x.decls.get(decl)) {
            return Some(&fd.body);
        }
        return None;
    }
    fi.lit_body.as_deref()
}

fn decl_of<'a>(pkg: &'a Package, info: &Info, f: FuncId) -> Option<&'a FuncDecl> {
    let (file, decl) = info.funcs[f.0 as usize].decl?;
    match pkg.files.get(file)?.decls.get(decl)? {
        Decl::Func(fd) => Some(fd),
        _ => None,
    }
}

/// Decides inlinability, visiting the declared functions in `order`
/// (strongly connected components of the call graph, callees first), as
/// Go's `VisitFuncsBottomUp` does; `self_recursive` marks the single
/// functions that call themselves.
pub fn analyze(pkg: &Package, info: &Info, defs: &Defs, order: &[Vec<FuncId>], self_recursive: &[bool]) -> Inlining {
    let n = info.funcs.len();
    let mut inl = Inlining { cost: vec![None; n], why_not: vec![None; n], counted: vec![None; n] };
    for scc in order {
        for &f in scc {
            let recursive = scc.len() > 1 || self_recursive[f.0 as usize];
            if recursive && scc.len() == 1 {
                inl.why_not[f.0 as usize] = Some("recursive".into());
                // Its literals are still judged on their own.
                if let Some(b) = body(pkg, info, f) {
                    let mut c = Coster { info, defs, inl: &mut inl, funcs: vec![f] };
                    let _ = c.block(b);
                }
                continue;
            }
            let noinline = decl_of(pkg, info, f).is_some_and(|d| d.noinline);
            let Some(b) = body(pkg, info, f) else { continue };
            let mut c = Coster { info, defs, inl: &mut inl, funcs: vec![f] };
            let r = c.block(b);
            if let Ok(cost) = r {
                inl.counted[f.0 as usize] = Some(cost);
            }
            let verdict = match r {
                _ if noinline => Err("marked go:noinline".to_string()),
                Ok(cost) if cost > MAX_BUDGET => Err(format!("cost {cost} exceeds budget {MAX_BUDGET}")),
                other => other,
            };
            match verdict {
                Ok(cost) => inl.cost[f.0 as usize] = Some(cost),
                Err(why) => inl.why_not[f.0 as usize] = Some(why),
            }
        }
    }
    inl
}

/// Counts a body's cost; `Err` is a construct that forbids inlining.
struct Coster<'a, 'i> {
    info: &'a Info,
    defs: &'a Defs<'a>,
    inl: &'i mut Inlining,
    /// The function whose body is being counted, innermost last.
    funcs: Vec<FuncId>,
}

type Cost = Result<i32, String>;

impl Coster<'_, '_> {
    fn block(&mut self, b: &Block) -> Cost {
        self.stmts(&b.stmts)
    }

    fn stmts(&mut self, ss: &[Stmt]) -> Cost {
        let mut c = 0;
        for s in ss {
            c += self.stmt(s)?;
        }
        Ok(c)
    }

    fn exprs(&mut self, es: &[Expr]) -> Cost {
        let mut c = 0;
        for e in es {
            c += self.expr(e)?;
        }
        Ok(c)
    }

    fn opt_stmt(&mut self, s: &Option<Box<Stmt>>) -> Cost {
        s.as_deref().map_or(Ok(0), |s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> Cost {
        Ok(match &s.kind {
            StmtKind::Expr(e) => self.expr(e)?,
            StmtKind::Send { chan, value } => 1 + self.expr(chan)? + self.expr(value)?,
            StmtKind::IncDec { target, .. } => 2 + self.expr(target)?,
            StmtKind::Assign { lhs, rhs, .. } => 1 + self.exprs(lhs)? + self.exprs(rhs)?,
            // Each new name is also declared (`ODCL`): three nodes.
            StmtKind::Define { lhs, rhs } => {
                1 + lhs.iter().map(|n| if n.is_blank() { 1 } else { 3 }).sum::<i32>() + self.exprs(rhs)?
            }
            // `var x T` declares and zeroes: four nodes a name.
            StmtKind::Var(vs) if vs.values.is_empty() => vs.names.len() as i32 * 4,
            StmtKind::Var(vs) => 1 + vs.names.len() as i32 * 3 + self.exprs(&vs.values)?,
            StmtKind::Const(_) => 0,
            StmtKind::Type(_) => return Err("a local type declaration".into()),
            // Not inlinable; what they hold (func literals) is still judged.
            StmtKind::Go(e) => {
                let _ = self.expr(e);
                return Err("a go statement".into());
            }
            StmtKind::Defer(e) => {
                let _ = self.expr(e);
                return Err("a defer statement".into());
            }
            StmtKind::Select(cases) => {
                for c in cases {
                    let _ = self.stmts(&c.body);
                }
                return Err("a select statement".into());
            }
            StmtKind::Return(es) => 1 + self.exprs(es)?,
            StmtKind::Break(_) | StmtKind::Continue(_) => 1,
            StmtKind::Block(b) => self.block(b)?,
            StmtKind::If { init, cond, then, els } => {
                1 + self.opt_stmt(init)? + self.expr(cond)? + self.block(then)? + self.opt_stmt(els)?
            }
            StmtKind::For { init, cond, post, body } => {
                1 + self.opt_stmt(init)?
                    + cond.as_ref().map_or(Ok(0), |c| self.expr(c))?
                    + self.opt_stmt(post)?
                    + self.block(body)?
            }
            StmtKind::Range { key, value, x, body, define } => {
                let mut kv = 0;
                for e in [key, value].into_iter().flatten() {
                    let blank = matches!(&e.kind, ExprKind::Ident(n) if n == "_");
                    kv += if *define && !blank { 3 } else { 1 };
                }
                1 + kv + self.expr(x)? + self.block(body)?
            }
            StmtKind::Switch { init, tag, cases } => {
                let mut c = 1 + self.opt_stmt(init)? + tag.as_ref().map_or(Ok(0), |t| self.expr(t))?;
                for cc in cases {
                    c += 1 + self.exprs(&cc.exprs)? + self.stmts(&cc.body)?;
                }
                c
            }
            StmtKind::TypeSwitch { init, bind, x, cases } => {
                let mut c = 2 + i32::from(bind.is_some()) + self.opt_stmt(init)? + self.expr(x)?;
                for tc in cases {
                    c += 1 + tc.types.len() as i32 + i32::from(bind.is_some()) + self.stmts(&tc.body)?;
                }
                c
            }
            StmtKind::Labeled { stmt, .. } => 1 + self.stmt(stmt)?,
            StmtKind::Fallthrough | StmtKind::Empty => 0,
        })
    }

    fn expr(&mut self, e: &Expr) -> Cost {
        let id = e.id.0 as usize;
        let conv = i32::from(self.info.to_iface[id].is_some());
        if self.info.consts[id].is_some() {
            return Ok(1 + conv);
        }
        let c = match &e.kind {
            ExprKind::Ident(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Char(_) | ExprKind::Str(_) => 1,
            ExprKind::Composite { elts, .. } => {
                let slice_hack = i32::from(matches!(
                    self.info.types.under(self.info.expr_type[id]),
                    crate::golang::types::Type::Slice(_)
                ));
                // A struct literal's elements are keyed in Go's IR (`OSTRUCTKEY`).
                let is_struct =
                    matches!(self.info.types.under(self.info.expr_type[id]), crate::golang::types::Type::Struct(_));
                let mut c = 1 + slice_hack;
                for el in elts {
                    c += i32::from(el.key.is_some() || is_struct) + self.expr(&el.value)?;
                }
                c
            }
            ExprKind::FuncLit { body, .. } => {
                // The literal is a function of its own too.
                let f = self.info.lit_func.get(&e.id).copied();
                if let Some(f) = f {
                    self.funcs.push(f);
                }
                let own = self.block(body);
                if f.is_some() {
                    self.funcs.pop();
                }
                let own = own?;
                if let Some(f) = f {
                    self.inl.counted[f.0 as usize] = Some(own);
                    if own <= MAX_BUDGET {
                        self.inl.cost[f.0 as usize] = Some(own);
                    } else {
                        self.inl.why_not[f.0 as usize] = Some(format!("cost {own} exceeds budget {MAX_BUDGET}"));
                    }
                }
                1 + CLOSURE_COST + own
            }
            ExprKind::Selector { x, .. } => match &self.info.refs[id] {
                Some(Ref::Builtin(_)) | Some(Ref::Func(_)) => 1,
                _ => 1 + self.expr(x)?,
            },
            ExprKind::Index { x, index } => 1 + self.expr(x)? + self.expr(index)?,
            ExprKind::SliceExpr { x, lo, hi, max } => {
                // Slicing an array takes its address (an implicit `&`).
                let of_array = matches!(
                    self.info.types.under(self.info.expr_type[x.id.0 as usize]),
                    crate::golang::types::Type::Array(..)
                );
                let mut c = 1 + i32::from(of_array) + self.expr(x)?;
                for b in [lo, hi, max].into_iter().flatten() {
                    c += self.expr(b)?;
                }
                c
            }
            ExprKind::TypeAssert { x, .. } => 1 + self.expr(x)?,
            ExprKind::Call { fun, args, .. } => self.call(e, fun, args)?,
            ExprKind::Deref(x) | ExprKind::AddrOf(x) | ExprKind::Unary { x, .. } => 1 + self.expr(x)?,
            ExprKind::Binary { x, y, .. } => 1 + self.expr(x)? + self.expr(y)?,
            ExprKind::TypeExpr(_) => 0,
        };
        Ok(c + conv)
    }

    fn call(&mut self, e: &Expr, fun: &Expr, args: &[Expr]) -> Cost {
        let args_cost = self.exprs(args)?;
        if let Some(Ref::Type(_)) = self.info.refs[e.id.0 as usize] {
            return Ok(1 + args_cost);
        }
        let fref = self.info.refs[fun.id.0 as usize].clone();
        // The implicit `[]T{...}` of a variadic call is made after inlining:
        // it costs nothing here.
        Ok(match fref {
            Some(Ref::Builtin(b)) => {
                let callee = match b {
                    Builtin::FmtPrintln | Builtin::FmtPrint => Some(72),
                    Builtin::FmtPrintf => Some(73),
                    Builtin::StrconvItoa => Some(62),
                    Builtin::SpanBegin | Builtin::SpanEnd => Some(0),
                    Builtin::FmtSprintf
                    | Builtin::FmtSprint
                    | Builtin::FmtFprintf
                    | Builtin::FmtFprintln
                    | Builtin::RuntimeGC
                    | Builtin::RuntimeReadMemStats
                    | Builtin::OsGetenv
                    | Builtin::OsExit => Some(EXTRA_CALL_COST),
                    _ => None,
                };
                match callee {
                    // A function of a package: the call, its name, the arguments.
                    Some(c) => 2 + c + args_cost,
                    // A builtin is an operation of its own (`new` has its
                    // type as an operand node).
                    None => 1 + i32::from(b == Builtin::New) + args_cost,
                }
            }
            Some(Ref::SyncMethod(_, name)) => {
                let callee = match name.as_str() {
                    "Lock" => 69,
                    "Unlock" => 75,
                    "Done" => 61,
                    _ => EXTRA_CALL_COST,
                };
                let ExprKind::Selector { x, .. } = &fun.kind else { return Ok(1 + callee + args_cost) };
                2 + callee + self.expr(x)? + args_cost
            }
            Some(Ref::Func(f)) => {
                let callee = self.inl.cost[f.0 as usize].unwrap_or(EXTRA_CALL_COST);
                2 + callee + args_cost
            }
            Some(Ref::Method { func, recv_ptr, x_ptr }) => {
                let callee = self.inl.cost[func.0 as usize].unwrap_or(EXTRA_CALL_COST);
                let ExprKind::Selector { x, .. } = &fun.kind else { return Ok(1 + callee + args_cost) };
                1 + callee + self.expr(x)? + i32::from(recv_ptr != x_ptr) + args_cost
            }
            Some(Ref::Var(_)) => {
                // A local bound to a func literal: Go knows the callee.
                let func = *self.funcs.last().expect("a function");
                let v = self.defs.static_value(fun, func);
                let lit = match &v.kind {
                    ExprKind::FuncLit { .. } => self.info.lit_func.get(&v.id).copied(),
                    _ => None,
                };
                let callee = lit.and_then(|f| self.inl.cost[f.0 as usize]).unwrap_or(EXTRA_CALL_COST);
                1 + callee + self.expr(fun)? + args_cost
            }
            _ => 1 + EXTRA_CALL_COST + self.expr(fun)? + args_cost,
        })
    }
}

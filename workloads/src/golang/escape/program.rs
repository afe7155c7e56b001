//! Whole-program facts the escape analysis reads before it starts: each
//! local variable's defining expression (for Go's `ir.StaticValue`), the
//! functions used as values, the method names called through interfaces,
//! and the static call graph of the declared functions with its strongly
//! connected components in bottom-up order (Go's `VisitFuncsBottomUp`).

use std::collections::{HashMap, HashSet};

use crate::golang::ast::*;
use crate::golang::check::{FuncId, Info, Ref, VarId, VarKind};
use crate::golang::visit::{walk_expr, walk_stmt, Visitor as VisitAst};

pub struct Defs<'a> {
    info: &'a Info,
    /// A local variable's value at its declaration (one name, one value).
    defs: HashMap<VarId, &'a Expr>,
    /// Functions referred to other than by calling them.
    pub func_values: HashSet<FuncId>,
    /// Method names called through an interface.
    pub iface_methods: HashSet<String>,
    /// Variables a `for ... := range` declares: the loop assigns them at
    /// every iteration, so Go captures them by reference.
    pub range_vars: HashSet<VarId>,
    /// Declared functions each declared function refers to (its literals'
    /// references included).
    pub refs: HashMap<FuncId, Vec<FuncId>>,
}

impl<'a> Defs<'a> {
    pub fn build(pkg: &'a Package, info: &'a Info) -> Defs<'a> {
        let mut d = Defs {
            info,
            defs: HashMap::new(),
            func_values: HashSet::new(),
            iface_methods: HashSet::new(),
            range_vars: HashSet::new(),
            refs: HashMap::new(),
        };
        for (fi, file) in pkg.files.iter().enumerate() {
            for (di, decl) in file.decls.iter().enumerate() {
                match decl {
                    Decl::Func(fd) => {
                        let f = info.funcs.iter().position(|x| x.decl == Some((fi, di))).map(|i| FuncId(i as u32));
                        let mut v = Collector { d: &mut d, refs: Vec::new() };
                        v.stmts(&fd.body.stmts);
                        let refs = v.refs;
                        if let Some(f) = f {
                            d.refs.insert(f, refs);
                        }
                    }
                    Decl::Var(vs) => {
                        let mut v = Collector { d: &mut d, refs: Vec::new() };
                        for e in &vs.values {
                            v.expr(e);
                        }
                    }
                    _ => {}
                }
            }
        }
        d
    }

    /// Go's `ir.StaticValue` for a local variable of `func` never
    /// reassigned and whose address is never taken: the expression it was
    /// initialized with (followed through such variables); `e` itself
    /// otherwise.
    pub fn static_value(&self, e: &'a Expr, func: FuncId) -> &'a Expr {
        let mut cur = e;
        for _ in 0..16 {
            let Some(Ref::Var(v)) = self.info.refs[cur.id.0 as usize] else { break };
            let var = &self.info.vars[v.0 as usize];
            if var.kind != VarKind::Local || var.reassigned || var.boxed || var.func != Some(func) {
                break;
            }
            match self.defs.get(&v) {
                Some(d) => cur = d,
                None => break,
            }
        }
        cur
    }
}

/// Collects definitions, the functions each body refers to, functions used
/// as values and interface methods called.
struct Collector<'d, 'a> {
    d: &'d mut Defs<'a>,
    refs: Vec<FuncId>,
}

impl<'a> Collector<'_, 'a> {
    fn def(&mut self, pos: Pos, value: &'a Expr) {
        if let Some(&v) = self.d.info.decl_var.get(&pos) {
            if self.d.info.vars[v.0 as usize].pos == pos {
                self.d.defs.insert(v, value);
            }
        }
    }

    /// `callee`: `e` is the function of a call.
    fn refer(&mut self, e: &'a Expr, callee: bool) {
        match &self.d.info.refs[e.id.0 as usize] {
            Some(Ref::Func(f)) | Some(Ref::Method { func: f, .. }) => {
                self.refs.push(*f);
                if !callee {
                    self.d.func_values.insert(*f);
                }
            }
            Some(Ref::IfaceMethod(name)) => {
                self.d.iface_methods.insert(name.clone());
            }
            _ => {}
        }
    }
}

impl<'a> VisitAst<'a> for Collector<'_, 'a> {
    fn stmt(&mut self, s: &'a Stmt) {
        match &s.kind {
            StmtKind::Define { lhs, rhs } if lhs.len() == rhs.len() => {
                for (n, v) in lhs.iter().zip(rhs) {
                    self.def(n.pos, v);
                }
            }
            StmtKind::Var(vs) if vs.names.len() == vs.values.len() => {
                for (n, v) in vs.names.iter().zip(&vs.values) {
                    self.def(n.pos, v);
                }
            }
            StmtKind::Range { key, value, define: true, .. } => {
                for e in [key, value].into_iter().flatten() {
                    if let Some(&v) = self.d.info.decl_var.get(&e.pos) {
                        self.d.range_vars.insert(v);
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, s);
    }

    fn expr(&mut self, e: &'a Expr) {
        self.refer(e, false);
        walk_expr(self, e);
    }

    fn callee(&mut self, e: &'a Expr) {
        self.refer(e, true);
        walk_expr(self, e);
    }
}

/// The strongly connected components of the declared functions' graph,
/// callees first (Tarjan's algorithm), and which functions refer to
/// themselves.
pub fn bottom_up(info: &Info, defs: &Defs) -> (Vec<Vec<FuncId>>, Vec<bool>) {
    let n = info.funcs.len();
    let decls: Vec<FuncId> = (0..n).filter(|&i| info.funcs[i].decl.is_some()).map(|i| FuncId(i as u32)).collect();
    let mut self_rec = vec![false; n];
    for (&f, rs) in &defs.refs {
        if rs.contains(&f) {
            self_rec[f.0 as usize] = true;
        }
    }
    struct Tarjan<'g> {
        refs: &'g HashMap<FuncId, Vec<FuncId>>,
        index: Vec<Option<u32>>,
        low: Vec<u32>,
        on_stack: Vec<bool>,
        stack: Vec<FuncId>,
        next: u32,
        out: Vec<Vec<FuncId>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: FuncId) {
            let i = v.0 as usize;
            self.index[i] = Some(self.next);
            self.low[i] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[i] = true;
            let succ = self.refs.get(&v).cloned().unwrap_or_default();
            for w in succ {
                let j = w.0 as usize;
                if !self.refs.contains_key(&w) {
                    continue;
                }
                match self.index[j] {
                    None => {
                        self.visit(w);
                        self.low[i] = self.low[i].min(self.low[j]);
                    }
                    Some(wi) if self.on_stack[j] => self.low[i] = self.low[i].min(wi),
                    _ => {}
                }
            }
            if Some(self.low[i]) == self.index[i] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w.0 as usize] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                scc.reverse();
                self.out.push(scc);
            }
        }
    }
    let mut t = Tarjan {
        refs: &defs.refs,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for f in decls {
        if t.index[f.0 as usize].is_none() && defs.refs.contains_key(&f) {
            t.visit(f);
        }
    }
    (t.out, self_rec)
}

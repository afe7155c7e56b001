//! The checker: resolves every name of a [`Package`] and gives every
//! expression its type, as `go/types` does for the subset; a type error is
//! reported as Go reports it (`file:line:col: message`).
//!
//! What it learns goes into [`Info`], kept in vectors indexed by
//! [`ExprId`] so the interpreter finds it without hashing:
//! - the type of each expression, and the constant value of constant ones;
//! - what each identifier or selector denotes ([`Ref`]);
//! - each variable ([`VarInfo`]): its type, its declaration position,
//!   whether it is *boxed* (its address is taken, or a closure captures it
//!   by reference, so it lives in a block of cause `var`), and where the
//!   interpreter keeps it in its function's frame;
//! - each function ([`FuncInfo`]): parameters, results, every local, the
//!   variables a closure captures and how, and the trace locals its frame
//!   needs (one per pointer word of each unboxed variable, one per boxed
//!   variable, and one temporary per expression that makes a new pointer);
//! - where an expression is implicitly converted to an interface type (a
//!   boxing site: Go allocates there unless the value is pointer-shaped).
//!
//! Go's rule for captures (cmd/compile/internal/escape, `capturevars`): a
//! variable is captured by value if it is never reassigned after its
//! declaration and is at most 128 bytes; otherwise by reference.

use super::ast::*;
use super::error::{GoError, GoErrorKind};
use super::types::{known, Basic, Sig, SyncType, Type, TypeId, TypeTable};
use std::collections::HashMap;

/// A variable's index in [`Info::vars`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarId(pub u32);

/// A function's index in [`Info::funcs`] (declarations, methods, literals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncId(pub u32);

/// A constant value (untyped constants keep full precision within i128/f64).
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

/// The builtin functions of the subset, and the package functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Len,
    Cap,
    Append,
    Copy,
    Make,
    New,
    Panic,
    Print,
    Println,
    Delete,
    Close,
    FmtPrintln,
    FmtPrintf,
    FmtPrint,
    FmtSprintf,
    FmtSprint,
    StrconvItoa,
    RuntimeGC,
    /// `runtime.ReadMemStats(&m)`: the interpreter's own counters are not
    /// Go's, so it fills zeros (programs use it only to compare natively).
    RuntimeReadMemStats,
    /// `os.Getenv(name)`: the interpreted program sees an empty environment.
    OsGetenv,
    /// `os.Exit(code)`.
    OsExit,
    /// `os.Stdout` / `os.Stderr` (values: 1 and 2).
    OsStdout,
    OsStderr,
    /// `fmt.Fprintf(w, ...)` / `fmt.Fprintln(w, ...)`.
    FmtFprintf,
    FmtFprintln,
    /// `gcwbBegin(tag)` / `gcwbEnd(tag)`: the request-span markers.
    SpanBegin,
    SpanEnd,
}

/// What a name (or a `pkg.Name` selector) denotes.
#[derive(Clone, Debug, PartialEq)]
pub enum Ref {
    Var(VarId),
    Func(FuncId),
    Builtin(Builtin),
    Type(TypeId),
    /// A constant and its type (an untyped kind for untyped constants).
    Const(Const, TypeId),
    Nil,
    Package(String),
    /// `x.f`: a field, at this leaf offset within `x`'s type; `through_ptr`
    /// when `x` is a pointer to a struct.
    Field {
        leaf: u32,
        through_ptr: bool,
    },
    /// `x.m`: a method of `x`'s (named) type, called with `x` or `&x` or `*x`.
    Method {
        func: FuncId,
        recv_ptr: bool,
        x_ptr: bool,
    },
    /// `x.m` on an interface value: dynamic dispatch by name.
    IfaceMethod(String),
    /// `wg.Add`, `mu.Lock`...: a method of a `sync` type.
    SyncMethod(SyncType, String),
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    Global,
    Param,
    Result,
    Local,
}

#[derive(Clone, Debug)]
pub struct VarInfo {
    pub name: String,
    pub pos: Pos,
    pub ty: TypeId,
    pub kind: VarKind,
    /// The function declaring it (`None` for globals).
    pub func: Option<FuncId>,
    /// Its address is taken, or a closure captures it by reference.
    pub boxed: bool,
    /// Assigned after its declaration (decides capture by value).
    pub reassigned: bool,
    /// Register index in its function's frame (globals: index in the
    /// global registers).
    pub reg: u32,
    /// First trace local (or global) of its pointer words (for a boxed
    /// variable that is not a parameter: unused).
    pub tlocal: u32,
    /// For a boxed variable: the trace local holding the pointer to its box.
    pub box_local: u32,
    /// Captured by some closure.
    pub captured: bool,
}

/// How a closure reaches a captured variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capture {
    pub var: VarId,
    pub by_ref: bool,
}

#[derive(Clone, Debug)]
pub struct FuncInfo {
    pub name: String,
    pub pos: Pos,
    pub sig: Sig,
    /// The receiver of a method.
    pub recv: Option<VarId>,
    /// The receiver is a pointer.
    pub recv_is_ptr: bool,
    pub params: Vec<VarId>,
    pub results: Vec<VarId>,
    /// For a function literal: the variables of enclosing functions it uses.
    pub captures: Vec<Capture>,
    /// The function a literal is written in.
    pub outer: Option<FuncId>,
    /// Registers its frame needs (one per variable).
    pub regs: u32,
    /// Trace locals its frame needs (see the module comment).
    pub tlocals: u32,
    /// Its frame's size in bytes: return address and frame pointer, every
    /// variable held in the frame at its Go size (a boxed one: its pointer),
    /// and the temporaries.
    pub frame_bytes: u64,
    /// Where the body is: (file index, declaration index) for a
    /// declaration; `None` for a literal (found by its expression).
    pub decl: Option<(usize, usize)>,
    /// The literal's expression id.
    pub lit: Option<ExprId>,
    /// The literal's body.
    pub lit_body: Option<std::rc::Rc<Block>>,
    /// Temporaries before layout: (expression, words, is the iface box).
    temps: Vec<(ExprId, u32, bool)>,
    /// The first trace local of its temporaries (every local from here on
    /// is one; `tlocals` when it has none).
    pub temp_base: u32,
    /// For a literal that captures: the trace local holding its closure
    /// (always local 0, so a call passes it first).
    pub ctx_local: Option<u32>,
}

impl FuncInfo {
    fn synthetic(name: &str, pos: Pos) -> FuncInfo {
        FuncInfo {
            name: name.to_string(),
            pos,
            sig: Sig { params: Vec::new(), results: Vec::new(), variadic: false },
            recv: None,
            recv_is_ptr: false,
            params: Vec::new(),
            results: Vec::new(),
            captures: Vec::new(),
            outer: None,
            regs: 0,
            tlocals: 0,
            frame_bytes: 0,
            decl: None,
            lit: None,
            lit_body: None,
            temps: Vec::new(),
            temp_base: 0,
            ctx_local: None,
        }
    }
}

/// For each statement (by position), the variables last used in it.
pub type DeadAfter = HashMap<Pos, Vec<VarId>>;

/// Everything the checker learned: see the module comment.
pub struct Info {
    pub types: TypeTable,
    pub expr_type: Vec<TypeId>,
    pub consts: Vec<Option<Const>>,
    pub refs: Vec<Option<Ref>>,
    /// Interface type an expression is implicitly converted to.
    pub to_iface: Vec<Option<TypeId>>,
    /// Trace locals holding the pointer words an expression makes
    /// (temporaries), first of `ptr_words` of its type.
    pub temp: Vec<Option<u32>>,
    /// Trace local holding the box of a value converted to an interface.
    pub iface_temp: Vec<Option<u32>>,
    /// The function each expression is evaluated in (its frame).
    pub expr_func: Vec<Option<FuncId>>,
    /// The synthetic function that initializes the package-level variables.
    pub init_vars: FuncId,
    /// Declared variables by declaration position.
    pub decl_var: HashMap<Pos, VarId>,
    pub vars: Vec<VarInfo>,
    pub funcs: Vec<FuncInfo>,
    /// Function literal expression -> its function.
    pub lit_func: HashMap<ExprId, FuncId>,
    pub main: FuncId,
    /// Package-level variables in initialization order (declaration order).
    pub globals: Vec<VarId>,
    /// Global pointer words (trace globals).
    pub global_words: u32,
    /// `init` functions, in order.
    pub inits: Vec<FuncId>,
    /// The variables to clear after each statement (filled by
    /// [`super::liveness`]; empty until then).
    pub dead_after: DeadAfter,
}

/// An entity in scope.
#[derive(Clone, Debug)]
enum Entity {
    Ref(Ref),
}

struct Checker<'p> {
    pkg: &'p Package,
    info: Info,
    scopes: Vec<HashMap<String, Entity>>,
    /// The function being checked, innermost last.
    func_stack: Vec<FuncId>,
    /// For each function on the stack, the scope depth where it starts.
    func_scope: Vec<usize>,
    /// Methods by (named type, name).
    methods: HashMap<(TypeId, String), FuncId>,
    /// Named types' declarations not resolved yet: (type, file, spec).
    pending_types: Vec<(TypeId, TypeExpr, u32)>,
    scope_ids: u32,
    /// The function expression of the call being checked (a method
    /// selector anywhere else is a method value).
    callee: Option<ExprId>,
}

type CResult<T> = Result<T, GoError>;

/// Checks `pkg`.
pub fn check(pkg: &Package) -> CResult<Info> {
    let n = pkg.expr_count as usize;
    let info = Info {
        types: TypeTable::new(),
        expr_type: vec![known::VOID; n],
        consts: vec![None; n],
        refs: vec![None; n],
        to_iface: vec![None; n],
        temp: vec![None; n],
        iface_temp: vec![None; n],
        expr_func: vec![None; n],
        init_vars: FuncId(0),
        decl_var: HashMap::new(),
        vars: Vec::new(),
        funcs: Vec::new(),
        lit_func: HashMap::new(),
        main: FuncId(0),
        globals: Vec::new(),
        global_words: 0,
        inits: Vec::new(),
        dead_after: Default::default(),
    };
    let mut c = Checker {
        pkg,
        info,
        scopes: vec![universe()],
        func_stack: Vec::new(),
        func_scope: Vec::new(),
        methods: HashMap::new(),
        callee: None,
        pending_types: Vec::new(),
        scope_ids: 0,
    };
    c.package()?;
    let mut info = c.info;
    info.types.lay_out_all();
    Ok(info)
}

fn universe() -> HashMap<String, Entity> {
    let mut u = HashMap::new();
    let ty = |t: TypeId| Entity::Ref(Ref::Type(t));
    for (n, t) in [
        ("bool", known::BOOL),
        ("int", known::INT),
        ("int8", known::INT8),
        ("int16", known::INT16),
        ("int32", known::INT32),
        ("rune", known::INT32),
        ("int64", known::INT64),
        ("uint", known::UINT),
        ("uint8", known::UINT8),
        ("byte", known::UINT8),
        ("uint16", known::UINT16),
        ("uint32", known::UINT32),
        ("uint64", known::UINT64),
        ("uintptr", known::UINTPTR),
        ("float32", known::FLOAT32),
        ("float64", known::FLOAT64),
        ("string", known::STRING),
        ("any", known::ANY),
    ] {
        u.insert(n.to_string(), ty(t));
    }
    u.insert("true".into(), Entity::Ref(Ref::Const(Const::Bool(true), known::UNTYPED_BOOL)));
    u.insert("false".into(), Entity::Ref(Ref::Const(Const::Bool(false), known::UNTYPED_BOOL)));
    u.insert("nil".into(), Entity::Ref(Ref::Nil));
    for (n, b) in [
        ("len", Builtin::Len),
        ("cap", Builtin::Cap),
        ("append", Builtin::Append),
        ("copy", Builtin::Copy),
        ("make", Builtin::Make),
        ("new", Builtin::New),
        ("panic", Builtin::Panic),
        ("print", Builtin::Print),
        ("println", Builtin::Println),
        ("delete", Builtin::Delete),
        ("close", Builtin::Close),
    ] {
        u.insert(n.to_string(), Entity::Ref(Ref::Builtin(b)));
    }
    u
}

/// Go's limit on variables captured by value (cmd/compile/internal/escape).
const MAX_CAPTURE_BY_VALUE_BYTES: u64 = 128;

/// The largest declared variable Go 1.19 keeps in a frame
/// (`ir.MaxStackVarSize`, cmd/compile/internal/ir/cfg.go: 10 MiB until Go
/// 1.22's change to 128 KiB); a larger one is moved to the heap.
const MAX_STACK_VAR_BYTES: u64 = 10 << 20;

/// Return address and frame pointer.
const FRAME_OVERHEAD_BYTES: u64 = 16;

impl<'p> Checker<'p> {
    fn at(&self, pos: Pos) -> String {
        self.pkg.pos_text(pos)
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> GoError {
        GoError::new(GoErrorKind::Type, self.at(pos), msg)
    }

    fn unsupported(&self, pos: Pos, what: impl std::fmt::Display) -> GoError {
        GoError::not_supported(self.at(pos), what)
    }

    fn lookup(&self, name: &str) -> Option<Ref> {
        for s in self.scopes.iter().rev() {
            if let Some(Entity::Ref(r)) = s.get(name) {
                return Some(r.clone());
            }
        }
        None
    }

    /// The scope depth at which `name` is found.
    fn lookup_depth(&self, name: &str) -> Option<usize> {
        (0..self.scopes.len()).rev().find(|&d| self.scopes[d].contains_key(name))
    }

    fn declare(&mut self, name: &Ident, r: Ref) -> CResult<()> {
        if name.is_blank() {
            return Ok(());
        }
        let top = self.scopes.last_mut().expect("a scope");
        if top.contains_key(&name.name) && self.scopes.len() > 2 {
            return Err(self.err(name.pos, format!("{} redeclared in this block", name.name)));
        }
        self.scopes.last_mut().expect("a scope").insert(name.name.clone(), Entity::Ref(r));
        Ok(())
    }

    fn new_var(&mut self, name: &Ident, ty: TypeId, kind: VarKind) -> VarId {
        let id = VarId(self.info.vars.len() as u32);
        let func = if kind == VarKind::Global { None } else { self.func_stack.last().copied() };
        let reg = match func {
            Some(f) => {
                let fi = &mut self.info.funcs[f.0 as usize];
                fi.regs += 1;
                fi.regs - 1
            }
            None => self.info.globals.len() as u32,
        };
        self.info.vars.push(VarInfo {
            name: name.name.clone(),
            pos: name.pos,
            ty,
            kind,
            func,
            boxed: false,
            reassigned: false,
            reg,
            tlocal: 0,
            box_local: 0,
            captured: false,
        });
        self.info.decl_var.insert(name.pos, id);
        if func.is_none() {
            self.info.globals.push(id);
        }
        id
    }

    fn set_type(&mut self, e: &Expr, t: TypeId) {
        self.info.expr_type[e.id.0 as usize] = t;
    }

    fn ty_of(&self, e: &Expr) -> TypeId {
        self.info.expr_type[e.id.0 as usize]
    }

    // ---- package level ----

    fn package(&mut self) -> CResult<()> {
        self.scopes.push(HashMap::new());
        let pkg = self.pkg;
        // Imports: one scope per file would be exact; the subset allows
        // only the standard packages, bound by their names in the package scope.
        for f in &pkg.files {
            for imp in &f.imports {
                self.scopes[1].insert(imp.name.name.clone(), Entity::Ref(Ref::Package(imp.path.clone())));
            }
        }
        // Types first (named, then their underlying types), then functions'
        // signatures and globals, then bodies.
        for f in &pkg.files {
            for d in &f.decls {
                if let Decl::Type(ts) = d {
                    self.declare_type(ts, 0)?;
                }
            }
        }
        self.resolve_pending_types()?;
        for (fi, f) in pkg.files.iter().enumerate() {
            for (di, d) in f.decls.iter().enumerate() {
                if let Decl::Func(fd) = d {
                    self.declare_func(fd, fi, di)?;
                }
            }
        }
        let init_vars = FuncId(self.info.funcs.len() as u32);
        self.info.funcs.push(FuncInfo::synthetic("package initialization", Pos::default()));
        self.info.init_vars = init_vars;
        self.func_stack.push(init_vars);
        for f in &pkg.files {
            for d in &f.decls {
                match d {
                    Decl::Const(cs) => self.const_spec(cs)?,
                    Decl::Var(vs) => self.var_spec(vs, VarKind::Global)?,
                    _ => {}
                }
            }
        }
        self.func_stack.pop();
        let mut words = 0;
        for &g in &self.info.globals {
            let v = &mut self.info.vars[g.0 as usize];
            v.tlocal = words;
            let ty = v.ty;
            words += self.info.types.layout(ty).ptr_words;
        }
        self.info.global_words = words;
        for (fi, f) in pkg.files.iter().enumerate() {
            for (di, d) in f.decls.iter().enumerate() {
                if let Decl::Func(fd) = d {
                    let id = self.func_by_decl(fi, di);
                    self.func_body(id, fd)?;
                }
            }
        }
        match self.lookup("main") {
            Some(Ref::Func(f)) => self.info.main = f,
            _ => return Err(GoError::new(GoErrorKind::Type, "", "function main is undeclared in the main package")),
        }
        self.finish_frames();
        Ok(())
    }

    fn func_by_decl(&self, fi: usize, di: usize) -> FuncId {
        let idx = self.info.funcs.iter().position(|f| f.decl == Some((fi, di))).expect("declared");
        FuncId(idx as u32)
    }

    /// `runtime.MemStats`, with the fields the subset's programs read.
    fn mem_stats_type(&mut self) -> TypeId {
        let name = "runtime.MemStats";
        if let Some(t) = (0..self.info.types.len() as u32)
            .map(TypeId)
            .find(|&t| matches!(self.info.types.get(t), Type::Named { name: n, .. } if n == name))
        {
            return t;
        }
        let t = self.info.types.declare_named(name, u32::MAX);
        let fields = ["Alloc", "TotalAlloc", "Sys", "Mallocs", "Frees", "HeapAlloc", "NumGC"]
            .iter()
            .map(|f| (f.to_string(), known::UINT64, false))
            .collect();
        let st = self.info.types.intern(Type::Struct(fields));
        self.info.types.set_underlying(t, st);
        t
    }

    fn declare_type(&mut self, ts: &TypeSpec, scope: u32) -> CResult<()> {
        if ts.alias {
            let t = self.type_expr(&ts.ty)?;
            return self.declare(&ts.name, Ref::Type(t));
        }
        let t = self.info.types.declare_named(&ts.name.name, scope);
        self.declare(&ts.name, Ref::Type(t))?;
        self.pending_types.push((t, ts.ty.clone(), scope));
        if scope != 0 {
            self.resolve_pending_types()?;
        }
        Ok(())
    }

    fn resolve_pending_types(&mut self) -> CResult<()> {
        let pending = std::mem::take(&mut self.pending_types);
        for (named, te, _) in pending {
            let u = self.type_expr(&te)?;
            self.info.types.set_underlying(named, u);
        }
        Ok(())
    }

    fn declare_func(&mut self, fd: &FuncDecl, fi: usize, di: usize) -> CResult<()> {
        let id = FuncId(self.info.funcs.len() as u32);
        let sig = self.sig(&fd.sig)?;
        let mut name = fd.name.name.clone();
        if let Some(recv) = &fd.recv {
            let rt = self.type_expr(&recv.ty)?;
            let (base, _) = match self.info.types.get(rt) {
                Type::Pointer(e) => (*e, true),
                _ => (rt, false),
            };
            if !self.info.types.is_named(base) {
                return Err(self.err(param_pos(recv), "invalid receiver type"));
            }
            name = format!("{}.{}", self.info.types.name(base), fd.name.name);
            self.methods.insert((base, fd.name.name.clone()), id);
        }
        self.info.funcs.push(FuncInfo { sig, decl: Some((fi, di)), ..FuncInfo::synthetic(&name, fd.pos) });
        if fd.recv.is_none() {
            if fd.name.name == "init" {
                self.info.inits.push(id);
            } else if fd.name.name == "gcwbBegin" || fd.name.name == "gcwbEnd" {
                let b = if fd.name.name == "gcwbBegin" { Builtin::SpanBegin } else { Builtin::SpanEnd };
                self.declare(&fd.name, Ref::Builtin(b))?;
            } else {
                self.declare(&fd.name, Ref::Func(id))?;
            }
        }
        Ok(())
    }

    fn sig(&mut self, ft: &FuncType) -> CResult<Sig> {
        let mut params = Vec::new();
        let mut variadic = false;
        for p in &ft.params {
            let mut t = self.type_expr(&p.ty)?;
            if p.variadic {
                t = self.info.types.slice(t);
                variadic = true;
            }
            params.push(t);
        }
        let mut results = Vec::new();
        for r in &ft.results {
            results.push(self.type_expr(&r.ty)?);
        }
        Ok(Sig { params, results, variadic })
    }

    fn type_expr(&mut self, te: &TypeExpr) -> CResult<TypeId> {
        Ok(match te {
            TypeExpr::Name(id) => match self.lookup(&id.name) {
                Some(Ref::Type(t)) => t,
                Some(_) => return Err(self.err(id.pos, format!("{} is not a type", id.name))),
                None => return Err(self.err(id.pos, format!("undefined: {}", id.name))),
            },
            TypeExpr::Qualified { pkg, name } => match (pkg.name.as_str(), name.name.as_str()) {
                ("sync", "WaitGroup") => known::WAIT_GROUP,
                ("sync", "Mutex") => known::MUTEX,
                ("runtime", "MemStats") => self.mem_stats_type(),
                _ => return Err(self.unsupported(pkg.pos, format_args!("type {}.{}", pkg.name, name.name))),
            },
            TypeExpr::Pointer(e) => {
                let e = self.type_expr(e)?;
                self.info.types.pointer(e)
            }
            TypeExpr::Slice(e) => {
                let e = self.type_expr(e)?;
                self.info.types.slice(e)
            }
            TypeExpr::Array { len, elem } => {
                let n = match self.const_expr(len)? {
                    Const::Int(n) if n >= 0 => n as u64,
                    _ => return Err(self.err(len.pos, "array length must be a non-negative integer constant")),
                };
                let e = self.type_expr(elem)?;
                self.info.types.intern(Type::Array(n, e))
            }
            TypeExpr::Map { key, value } => {
                let k = self.type_expr(key)?;
                let v = self.type_expr(value)?;
                self.info.types.intern(Type::Map(k, v))
            }
            TypeExpr::Chan { elem, .. } => {
                let e = self.type_expr(elem)?;
                self.info.types.intern(Type::Chan(e))
            }
            TypeExpr::Func(ft) => {
                let s = self.sig(ft)?;
                self.info.types.intern(Type::Func(s.into()))
            }
            TypeExpr::Struct(fields) => {
                let mut fs = Vec::new();
                for f in fields {
                    let t = self.type_expr(&f.ty)?;
                    fs.push((f.name.name.clone(), t, f.embedded));
                }
                self.info.types.intern(Type::Struct(fs.into()))
            }
            TypeExpr::Interface(ms) => {
                let mut out = Vec::new();
                for m in ms {
                    let s = self.sig(&m.sig)?;
                    out.push((m.name.name.clone(), s));
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                self.info.types.intern(Type::Interface(out.into()))
            }
        })
    }

    fn const_expr(&mut self, e: &Expr) -> CResult<Const> {
        self.expr(e, None)?;
        self.info.consts[e.id.0 as usize].clone().ok_or_else(|| self.err(e.pos, "expression is not constant"))
    }

    fn const_spec(&mut self, cs: &ConstSpec) -> CResult<()> {
        let hint = cs.ty.as_ref().map(|t| self.type_expr(t)).transpose()?;
        for (i, name) in cs.names.iter().enumerate() {
            let Some(v) = cs.values.get(i) else {
                return Err(self.err(name.pos, "missing init expr for const declaration"));
            };
            let iota = Entity::Ref(Ref::Const(Const::Int(cs.iota as i128), known::UNTYPED_INT));
            self.scopes.last_mut().expect("scope").insert("iota".into(), iota);
            let c = self.const_expr(v);
            self.scopes.last_mut().expect("scope").remove("iota");
            let mut c = c?;
            let mut ty = self.ty_of(v);
            if let Some(t) = hint {
                c = self.convert_const(c, t, v.pos)?;
                ty = t;
            }
            self.declare(name, Ref::Const(c, ty))?;
        }
        Ok(())
    }

    /// A constant converted to type `t` (int to float, and range checks
    /// left to Go's own compiler: the subset runs programs that build).
    fn convert_const(&self, c: Const, t: TypeId, pos: Pos) -> CResult<Const> {
        let b = self.info.types.basic(t);
        Ok(match (c, b) {
            (Const::Int(n), Some(b)) if b.is_float() => Const::Float(n as f64),
            (Const::Float(f), Some(b)) if b.is_integer() => {
                if f.fract() != 0.0 {
                    return Err(self.err(pos, format!("constant {f} truncated to integer")));
                }
                Const::Int(f as i128)
            }
            (c, _) => c,
        })
    }

    fn var_spec(&mut self, vs: &VarSpec, kind: VarKind) -> CResult<()> {
        let declared = vs.ty.as_ref().map(|t| self.type_expr(t)).transpose()?;
        let mut types = Vec::new();
        if vs.values.len() == 1 && vs.names.len() > 1 {
            let t = self.expr(&vs.values[0], None)?;
            match self.info.types.get(t).clone() {
                Type::Tuple(ts) if ts.len() == vs.names.len() => types = ts.to_vec(),
                Type::Tuple(ts) => return Err(self.assign_mismatch(vs.names.len(), &vs.values, ts.len())),
                _ => return Err(self.assign_mismatch(vs.names.len(), &vs.values, 1)),
            }
            if self.is_comma_ok(&vs.values[0]) {
                return Err(self.unsupported(vs.values[0].pos, "comma-ok form in a var declaration"));
            }
        } else if !vs.values.is_empty() {
            if vs.values.len() != vs.names.len() {
                return Err(self.assign_mismatch(vs.names.len(), &vs.values, vs.values.len()));
            }
            for v in &vs.values {
                let t = self.expr(v, declared)?;
                let t = match declared {
                    Some(d) => {
                        self.assign_to(v, d)?;
                        d
                    }
                    None => self.default_type(v, t)?,
                };
                types.push(t);
            }
        }
        for (i, name) in vs.names.iter().enumerate() {
            let ty = declared.or(types.get(i).copied()).ok_or_else(|| self.err(name.pos, "missing type"))?;
            let id = self.new_var(name, ty, kind);
            self.declare(name, Ref::Var(id))?;
        }
        Ok(())
    }

    /// The type an untyped constant (or nil) gets when it initializes a
    /// variable of no declared type.
    fn default_type(&mut self, e: &Expr, t: TypeId) -> CResult<TypeId> {
        let d = match t {
            known::UNTYPED_BOOL => known::BOOL,
            known::UNTYPED_INT => known::INT,
            known::UNTYPED_RUNE => known::INT32,
            known::UNTYPED_FLOAT => known::FLOAT64,
            known::UNTYPED_STRING => known::STRING,
            known::UNTYPED_NIL => return Err(self.err(e.pos, "use of untyped nil in assignment")),
            t => return Ok(t),
        };
        self.convert_untyped(e, d)?;
        Ok(d)
    }

    /// Records that `e` (already typed) is used where a `target` is
    /// expected: an untyped constant takes the target type, a concrete
    /// value converted to an interface is a boxing site.
    fn assign_to(&mut self, e: &Expr, target: TypeId) -> CResult<()> {
        let t = self.ty_of(e);
        if t == target {
            return Ok(());
        }
        let target_iface = self.info.types.is_interface(target);
        if self.info.types.basic(t).is_some_and(Basic::is_untyped) {
            if t == known::UNTYPED_NIL {
                self.set_type(e, target);
                return Ok(());
            }
            if target_iface {
                self.default_type(e, t)?;
                self.info.to_iface[e.id.0 as usize] = Some(target);
                self.add_temp(e.id, 1, true);
                return Ok(());
            }
            if !self.untyped_fits(t, target) {
                return Err(self.err(
                    e.pos,
                    format!(
                        "cannot use {} (constant of type {}) as {} value",
                        self.const_text(e),
                        self.info.types.name(t),
                        self.info.types.name(target)
                    ),
                ));
            }
            return self.convert_untyped(e, target);
        }
        if target_iface && !self.info.types.is_interface(t) {
            self.info.to_iface[e.id.0 as usize] = Some(target);
            self.add_temp(e.id, 1, true);
            return self.check_implements(start_pos(e), t, target);
        }
        if target_iface || self.identical_under(t, target) {
            return Ok(());
        }
        Err(self.err(
            e.pos,
            format!("cannot use value of type {} as {} value", self.info.types.name(t), self.info.types.name(target)),
        ))
    }

    /// Can an untyped constant of kind `t` become a `target`?
    fn untyped_fits(&self, t: TypeId, target: TypeId) -> bool {
        let Some(b) = self.info.types.basic(target) else { return false };
        match t {
            known::UNTYPED_STRING => matches!(b, Basic::String),
            known::UNTYPED_BOOL => matches!(b, Basic::Bool),
            known::UNTYPED_INT | known::UNTYPED_RUNE | known::UNTYPED_FLOAT => b.is_integer() || b.is_float(),
            _ => true,
        }
    }

    /// A constant as Go prints it in messages.
    fn const_text(&self, e: &Expr) -> String {
        match &self.info.consts[e.id.0 as usize] {
            Some(Const::Int(n)) => n.to_string(),
            Some(Const::Float(f)) => f.to_string(),
            Some(Const::Str(s)) => format!("{s:?}"),
            Some(Const::Bool(b)) => b.to_string(),
            None => "value".to_string(),
        }
    }

    /// Assignable without conversion: identical, or one side unnamed with
    /// identical underlying types (Go's assignability, minus channels' directions).
    fn identical_under(&self, a: TypeId, b: TypeId) -> bool {
        if a == b {
            return true;
        }
        let t = &self.info.types;
        (!t.is_named(a) || !t.is_named(b)) && t.underlying(a) == t.underlying(b)
    }

    fn check_implements(&self, pos: Pos, t: TypeId, iface: TypeId) -> CResult<()> {
        let Type::Interface(ms) = self.info.types.under(iface) else { return Ok(()) };
        for (name, _) in ms.iter() {
            if self.method_of(t, name).is_none() {
                return Err(self.err(
                    pos,
                    format!(
                        "{} does not implement {} (missing method {name})",
                        self.info.types.name(t),
                        self.info.types.name(iface)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The method `name` of `t` (or of `*t`'s base): the function and
    /// whether it takes a pointer receiver.
    fn method_of(&self, t: TypeId, name: &str) -> Option<(FuncId, bool)> {
        let base = match self.info.types.get(t) {
            Type::Pointer(e) => *e,
            _ => t,
        };
        let f = *self.methods.get(&(base, name.to_string()))?;
        let recv_ptr = self.info.funcs[f.0 as usize].recv_is_ptr;
        Some((f, recv_ptr))
    }

    /// An untyped constant expression takes type `t` (and so do its operands).
    fn convert_untyped(&mut self, e: &Expr, t: TypeId) -> CResult<()> {
        if let Some(c) = self.info.consts[e.id.0 as usize].clone() {
            let c = self.convert_const(c, t, e.pos)?;
            self.info.consts[e.id.0 as usize] = Some(c);
        }
        self.set_type(e, t);
        match &e.kind {
            ExprKind::Binary { op, x, y } if !op.is_comparison() && !matches!(op, BinaryOp::Shl | BinaryOp::Shr) => {
                if self.info.types.basic(self.ty_of(x)).is_some_and(Basic::is_untyped) {
                    self.convert_untyped(x, t)?;
                }
                if self.info.types.basic(self.ty_of(y)).is_some_and(Basic::is_untyped) {
                    self.convert_untyped(y, t)?;
                }
            }
            ExprKind::Unary { x, .. } if self.info.types.basic(self.ty_of(x)).is_some_and(Basic::is_untyped) => {
                self.convert_untyped(x, t)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn is_comma_ok(&self, e: &Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::TypeAssert { .. } | ExprKind::Unary { op: UnaryOp::Recv, .. } | ExprKind::Index { .. }
        ) && matches!(self.info.types.get(self.ty_of(e)), Type::Tuple(_))
    }

    // ---- functions ----

    fn enter_func(&mut self, f: FuncId) {
        self.func_stack.push(f);
        self.func_scope.push(self.scopes.len());
        self.scopes.push(HashMap::new());
    }

    fn leave_func(&mut self) {
        self.scopes.truncate(*self.func_scope.last().expect("in a function"));
        self.func_scope.pop();
        self.func_stack.pop();
    }

    fn declare_params(&mut self, f: FuncId, recv: Option<&Param>, ft: &FuncType) -> CResult<()> {
        if let Some(r) = recv {
            let t = self.type_expr(&r.ty)?;
            let anon = Ident { name: "_".into(), pos: param_pos(r) };
            let name = r.name.as_ref().unwrap_or(&anon);
            let v = self.new_var(name, t, VarKind::Param);
            self.declare(name, Ref::Var(v))?;
            self.info.funcs[f.0 as usize].recv = Some(v);
            self.info.funcs[f.0 as usize].recv_is_ptr = matches!(self.info.types.get(t), Type::Pointer(_));
        }
        let sig = self.info.funcs[f.0 as usize].sig.clone();
        for (p, &t) in ft.params.iter().zip(&sig.params) {
            let anon = Ident { name: "_".into(), pos: param_pos(p) };
            let name = p.name.as_ref().unwrap_or(&anon);
            let v = self.new_var(name, t, VarKind::Param);
            self.declare(name, Ref::Var(v))?;
            self.info.funcs[f.0 as usize].params.push(v);
        }
        for (p, &t) in ft.results.iter().zip(&sig.results) {
            let anon = Ident { name: "_".into(), pos: param_pos(p) };
            let name = p.name.as_ref().unwrap_or(&anon);
            let v = self.new_var(name, t, VarKind::Result);
            self.declare(name, Ref::Var(v))?;
            self.info.funcs[f.0 as usize].results.push(v);
        }
        Ok(())
    }

    fn func_body(&mut self, f: FuncId, fd: &FuncDecl) -> CResult<()> {
        self.enter_func(f);
        self.declare_params(f, fd.recv.as_ref(), &fd.sig)?;
        self.block(&fd.body)?;
        self.leave_func();
        Ok(())
    }

    fn func_lit(&mut self, e: &Expr, sig: &FuncType, body: &Block) -> CResult<TypeId> {
        let s = self.sig(sig)?;
        let ty = self.info.types.intern(Type::Func(s.clone().into()));
        let id = FuncId(self.info.funcs.len() as u32);
        let outer = self.func_stack.last().copied();
        let name = match outer {
            Some(o) => format!("{}.func", self.info.funcs[o.0 as usize].name),
            None => "glob..func".to_string(),
        };
        let lit_body = Some(std::rc::Rc::new(body.clone()));
        self.info.funcs.push(FuncInfo {
            sig: s,
            outer,
            lit: Some(e.id),
            lit_body,
            ..FuncInfo::synthetic(&name, e.pos)
        });
        self.info.lit_func.insert(e.id, id);
        self.enter_func(id);
        self.declare_params(id, None, sig)?;
        self.block(body)?;
        self.leave_func();
        Ok(ty)
    }

    /// Notes that the function on top of the stack uses variable `v`: if
    /// `v` belongs to an enclosing function, every literal in between
    /// captures it.
    fn note_use(&mut self, v: VarId) {
        let Some(owner) = self.info.vars[v.0 as usize].func else { return };
        for &f in self.func_stack.iter().rev() {
            if f == owner {
                break;
            }
            let caps = &mut self.info.funcs[f.0 as usize].captures;
            if !caps.iter().any(|c| c.var == v) {
                caps.push(Capture { var: v, by_ref: false });
            }
        }
    }

    // ---- statements ----

    fn block(&mut self, b: &Block) -> CResult<()> {
        self.scopes.push(HashMap::new());
        let r = self.stmts(&b.stmts);
        self.scopes.pop();
        r
    }

    fn stmts(&mut self, ss: &[Stmt]) -> CResult<()> {
        for s in ss {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn current(&self) -> FuncId {
        *self.func_stack.last().expect("in a function")
    }

    fn stmt(&mut self, s: &Stmt) -> CResult<()> {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.expr(e, None)?;
            }
            StmtKind::Send { chan, value } => {
                let ct = self.expr(chan, None)?;
                let Type::Chan(elem) = *self.info.types.under(ct) else {
                    return Err(self.err(chan.pos, "send to non-chan type"));
                };
                self.expr(value, Some(elem))?;
                self.assign_to(value, elem)?;
            }
            StmtKind::IncDec { target, .. } => {
                self.expr(target, None)?;
                self.mark_assigned(target);
            }
            StmtKind::Assign { lhs, op, rhs } => {
                if op.is_some() {
                    let t = self.expr(&lhs[0], None)?;
                    self.expr(&rhs[0], Some(t))?;
                    if self.info.types.basic(self.ty_of(&rhs[0])).is_some_and(Basic::is_untyped) {
                        self.convert_untyped(&rhs[0], t)?;
                    }
                    self.mark_assigned(&lhs[0]);
                    return Ok(());
                }
                let mut lts = Vec::new();
                for l in lhs {
                    if matches!(&l.kind, ExprKind::Ident(n) if n == "_") {
                        lts.push(None);
                    } else {
                        lts.push(Some(self.expr(l, None)?));
                        self.mark_assigned(l);
                    }
                }
                self.assign_rhs(s.pos, &lts, rhs)?;
            }
            StmtKind::Define { lhs, rhs } => {
                let types = self.rhs_types(lhs.len(), rhs)?;
                let mut any_new = false;
                for (name, t) in lhs.iter().zip(types) {
                    if name.is_blank() {
                        continue;
                    }
                    let depth = self.scopes.len() - 1;
                    if self.lookup_depth(&name.name) == Some(depth) {
                        if let Some(Ref::Var(v)) = self.lookup(&name.name) {
                            self.info.vars[v.0 as usize].reassigned = true;
                            self.info.decl_var.insert(name.pos, v);
                            continue;
                        }
                    }
                    any_new = true;
                    let v = self.new_var(name, t, VarKind::Local);
                    self.declare(name, Ref::Var(v))?;
                }
                if !any_new && lhs.iter().any(|n| !n.is_blank()) {
                    return Err(self.err(s.pos, "no new variables on left side of :="));
                }
            }
            StmtKind::Var(vs) => self.var_spec(vs, VarKind::Local)?,
            StmtKind::Const(cs) => self.const_spec(cs)?,
            StmtKind::Type(ts) => {
                self.scope_ids += 1;
                let id = self.scope_ids;
                self.declare_type(ts, id)?;
            }
            StmtKind::Go(call) | StmtKind::Defer(call) => {
                if matches!(s.kind, StmtKind::Defer(_)) {
                    return Err(self.unsupported(s.pos, "defer statement"));
                }
                if !matches!(call.kind, ExprKind::Call { .. }) {
                    return Err(self.err(call.pos, "expression in go must be function call"));
                }
                self.expr(call, None)?;
                if let ExprKind::Call { fun, .. } = &call.kind {
                    if matches!(self.info.refs[fun.id.0 as usize], Some(Ref::Builtin(_) | Ref::SyncMethod(..))) {
                        return Err(self.unsupported(call.pos, "go with a builtin or a sync method"));
                    }
                }
            }
            StmtKind::Return(results) => {
                let f = self.current();
                let want = self.info.funcs[f.0 as usize].sig.results.clone();
                if results.is_empty() {
                    return Ok(());
                }
                let lts: Vec<Option<TypeId>> = want.iter().map(|&t| Some(t)).collect();
                self.assign_rhs(s.pos, &lts, results)?;
            }
            StmtKind::Break(_) | StmtKind::Continue(_) | StmtKind::Fallthrough | StmtKind::Empty => {}
            StmtKind::Block(b) => self.block(b)?,
            StmtKind::If { init, cond, then, els } => {
                self.scopes.push(HashMap::new());
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                self.expr(cond, Some(known::BOOL))?;
                self.block(then)?;
                if let Some(e) = els {
                    self.stmt(e)?;
                }
                self.scopes.pop();
            }
            StmtKind::For { init, cond, post, body } => {
                self.scopes.push(HashMap::new());
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                if let Some(c) = cond {
                    self.expr(c, Some(known::BOOL))?;
                }
                if let Some(p) = post {
                    self.stmt(p)?;
                }
                self.block(body)?;
                self.scopes.pop();
            }
            StmtKind::Range { key, value, define, x, body } => {
                self.scopes.push(HashMap::new());
                let xt = self.expr(x, None)?;
                let (kt, vt) = match self.info.types.under(xt).clone() {
                    Type::Slice(e) | Type::Array(_, e) => (known::INT, Some(e)),
                    Type::Pointer(p) => match self.info.types.under(p) {
                        Type::Array(_, e) => (known::INT, Some(*e)),
                        _ => return Err(self.err(x.pos, "cannot range over pointer")),
                    },
                    Type::Basic(Basic::String | Basic::UntypedString) => (known::INT, Some(known::INT32)),
                    Type::Basic(b) if b.is_integer() => (known::INT, None),
                    Type::Map(k, v) => (k, Some(v)),
                    Type::Chan(e) => (e, None),
                    _ => return Err(self.err(x.pos, format!("cannot range over {}", self.info.types.name(xt)))),
                };
                for (target, t) in [(key, Some(kt)), (value, vt)] {
                    let Some(target) = target else { continue };
                    let Some(t) = t else {
                        return Err(self.err(target.pos, "range clause permits at most one iteration variable"));
                    };
                    if *define {
                        let ExprKind::Ident(name) = &target.kind else {
                            return Err(self.err(target.pos, "non-name on left side of :="));
                        };
                        let ident = Ident { name: name.clone(), pos: target.pos };
                        if !ident.is_blank() {
                            let v = self.new_var(&ident, t, VarKind::Local);
                            // Go 1.19 has one variable per loop, assigned on
                            // every iteration: a closure captures it by reference.
                            self.info.vars[v.0 as usize].reassigned = true;
                            self.declare(&ident, Ref::Var(v))?;
                            self.info.refs[target.id.0 as usize] = Some(Ref::Var(v));
                        }
                        self.set_type(target, t);
                    } else if !matches!(&target.kind, ExprKind::Ident(n) if n == "_") {
                        self.expr(target, None)?;
                        self.mark_assigned(target);
                    }
                }
                self.block(body)?;
                self.scopes.pop();
            }
            StmtKind::Switch { init, tag, cases } => {
                self.scopes.push(HashMap::new());
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                let tt = match tag {
                    Some(t) => {
                        let ty = self.expr(t, None)?;
                        self.default_type(t, ty)?
                    }
                    None => known::BOOL,
                };
                for c in cases {
                    for e in &c.exprs {
                        self.expr(e, Some(tt))?;
                        if self.info.types.basic(self.ty_of(e)).is_some_and(Basic::is_untyped) {
                            self.convert_untyped(e, tt)?;
                        }
                    }
                    self.scopes.push(HashMap::new());
                    self.stmts(&c.body)?;
                    self.scopes.pop();
                }
                self.scopes.pop();
            }
            StmtKind::TypeSwitch { init, bind, x, cases } => {
                self.scopes.push(HashMap::new());
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                let xt = self.expr(x, None)?;
                if !self.info.types.is_interface(xt) {
                    return Err(self.err(x.pos, format!("{} is not an interface", self.info.types.name(xt))));
                }
                for c in cases {
                    let mut tys = Vec::new();
                    for t in &c.types {
                        tys.push(match t {
                            Some(t) => Some(self.type_expr(t)?),
                            None => None,
                        });
                    }
                    self.scopes.push(HashMap::new());
                    if let Some(b) = bind {
                        let t = match tys.as_slice() {
                            [Some(t)] => *t,
                            _ => xt,
                        };
                        // One variable per clause, declared at the clause.
                        let ident = Ident { name: b.name.clone(), pos: c.colon };
                        let v = self.new_var(&ident, t, VarKind::Local);
                        self.declare(&ident, Ref::Var(v))?;
                    }
                    self.stmts(&c.body)?;
                    self.scopes.pop();
                }
                self.scopes.pop();
            }
            StmtKind::Select(_) => return Err(self.unsupported(s.pos, "select statement")),
            StmtKind::Labeled { stmt, .. } => self.stmt(stmt)?,
        }
        Ok(())
    }

    /// A store into `target` assigns its variable: the variable itself, or
    /// the one whose array element or struct field (held by value) it is.
    fn mark_assigned(&mut self, target: &Expr) {
        match &target.kind {
            ExprKind::Ident(_) => {
                if let Some(Ref::Var(v)) = &self.info.refs[target.id.0 as usize] {
                    self.info.vars[v.0 as usize].reassigned = true;
                }
            }
            ExprKind::Index { x, .. } if matches!(self.info.types.under(self.ty_of(x)), Type::Array(..)) => {
                self.mark_assigned(x)
            }
            ExprKind::Selector { x, .. } => {
                if let Some(Ref::Field { through_ptr: false, .. }) = &self.info.refs[target.id.0 as usize] {
                    self.mark_assigned(x);
                }
            }
            _ => {}
        }
    }

    /// Types the right-hand sides for `n` targets: one multi-valued call,
    /// a comma-ok form, or one expression per target.
    fn rhs_types(&mut self, n: usize, rhs: &[Expr]) -> CResult<Vec<TypeId>> {
        if rhs.len() == 1 && n > 1 {
            let t = self.expr(&rhs[0], None)?;
            if n == 2 && self.comma_ok_capable(&rhs[0]) {
                let t = self.ty_of(&rhs[0]);
                let tuple = self.info.types.intern(Type::Tuple(vec![t, known::BOOL].into()));
                self.set_type(&rhs[0], tuple);
                return Ok(vec![t, known::BOOL]);
            }
            return match self.info.types.get(t).clone() {
                Type::Tuple(ts) if ts.len() == n => Ok(ts.to_vec()),
                Type::Tuple(ts) => Err(self.assign_mismatch(n, rhs, ts.len())),
                _ => Err(self.assign_mismatch(n, rhs, 1)),
            };
        }
        if rhs.len() != n {
            return Err(self.assign_mismatch(n, rhs, rhs.len()));
        }
        let mut out = Vec::new();
        for e in rhs {
            let t = self.expr(e, None)?;
            out.push(self.default_type(e, t)?);
        }
        Ok(out)
    }

    /// Go's `assignment mismatch` for `vars` targets and `vals` values,
    /// reported at the first value of `rhs`.
    fn assign_mismatch(&self, vars: usize, rhs: &[Expr], vals: usize) -> GoError {
        let vars = measure(vars, "variable");
        let vals = measure(vals, "value");
        let rhs0 = &rhs[0];
        let msg = match &rhs0.kind {
            ExprKind::Call { fun, .. }
                if rhs.len() == 1 && !matches!(self.info.refs[rhs0.id.0 as usize], Some(Ref::Type(_))) =>
            {
                format!("assignment mismatch: {vars} but {} returns {vals}", expr_text(fun))
            }
            _ => format!("assignment mismatch: {vars} but {vals}"),
        };
        self.err(start_pos(rhs0), msg)
    }

    fn comma_ok_capable(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::TypeAssert { .. } | ExprKind::Unary { op: UnaryOp::Recv, .. } => true,
            ExprKind::Index { x, .. } => matches!(self.info.types.under(self.ty_of(x)), Type::Map(..)),
            _ => false,
        }
    }

    fn assign_rhs(&mut self, pos: Pos, lts: &[Option<TypeId>], rhs: &[Expr]) -> CResult<()> {
        if rhs.len() == 1 && lts.len() > 1 {
            let types = self.rhs_types(lts.len(), rhs)?;
            for (l, r) in lts.iter().zip(types) {
                if let Some(l) = l {
                    if !self.info.types.is_interface(*l) && !self.identical_under(r, *l) {
                        return Err(self.err(pos, "assignment mismatch: types differ"));
                    }
                    if self.info.types.is_interface(*l) && !self.info.types.is_interface(r) {
                        return Err(self.unsupported(pos, "a multi-valued call assigned to interface variables"));
                    }
                }
            }
            return Ok(());
        }
        if rhs.len() != lts.len() {
            return Err(self.assign_mismatch(lts.len(), rhs, rhs.len()));
        }
        for (l, r) in lts.iter().zip(rhs) {
            let t = self.expr(r, *l)?;
            match l {
                Some(l) => self.assign_to(r, *l)?,
                None => {
                    self.default_type(r, t)?;
                }
            }
        }
        Ok(())
    }
}

/// Parses a Go integer literal (prefixes 0x, 0o, 0b and a leading 0 for octal).
fn parse_int(text: &str) -> Option<i128> {
    let t = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = t.strip_prefix("0x") {
        (r, 16)
    } else if let Some(r) = t.strip_prefix("0o") {
        (r, 8)
    } else if let Some(r) = t.strip_prefix("0b") {
        (r, 2)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t.as_str(), 10)
    };
    i128::from_str_radix(digits, radix).ok()
}

impl<'p> Checker<'p> {
    /// Types `e` (with `hint` the type the context expects, for untyped
    /// composite elements), records it, and returns it.
    fn expr(&mut self, e: &Expr, hint: Option<TypeId>) -> CResult<TypeId> {
        self.info.expr_func[e.id.0 as usize] = self.func_stack.last().copied();
        let t = self.expr_inner(e, hint)?;
        self.set_type(e, t);
        if self.makes_pointer(e, t) {
            let words = self.info.types.layout(t).ptr_words;
            if words > 0 {
                self.add_temp(e.id, words, false);
            }
        }
        Ok(t)
    }

    fn add_temp(&mut self, e: ExprId, words: u32, iface: bool) {
        if let Some(&f) = self.func_stack.last() {
            self.info.funcs[f.0 as usize].temps.push((e, words, iface));
        }
    }

    /// Does evaluating `e` make a pointer that is held nowhere yet (so the
    /// frame needs a temporary for it)?
    fn makes_pointer(&self, e: &Expr, t: TypeId) -> bool {
        let _ = t;
        match &e.kind {
            ExprKind::Call { .. }
            | ExprKind::Composite { .. }
            | ExprKind::FuncLit { .. }
            | ExprKind::AddrOf(_)
            | ExprKind::SliceExpr { .. }
            | ExprKind::TypeAssert { .. }
            | ExprKind::Unary { op: UnaryOp::Recv, .. } => true,
            ExprKind::Binary { op: BinaryOp::Add, .. } => self.info.types.is_string(t),
            ExprKind::Index { x, .. } => matches!(self.info.types.under(self.ty_of(x)), Type::Map(..)),
            _ => false,
        }
    }

    fn expr_inner(&mut self, e: &Expr, hint: Option<TypeId>) -> CResult<TypeId> {
        let idx = e.id.0 as usize;
        Ok(match &e.kind {
            ExprKind::Ident(name) => {
                if name == "_" {
                    return Err(self.err(e.pos, "cannot use _ as value"));
                }
                let Some(r) = self.lookup(name) else {
                    return Err(self.err(e.pos, format!("undefined: {name}")));
                };
                let t = match &r {
                    Ref::Var(v) => {
                        self.note_use(*v);
                        self.info.vars[v.0 as usize].ty
                    }
                    Ref::Const(c, t) => {
                        self.info.consts[idx] = Some(c.clone());
                        *t
                    }
                    Ref::Nil => known::UNTYPED_NIL,
                    Ref::Func(f) => {
                        let sig = self.info.funcs[f.0 as usize].sig.clone();
                        self.info.types.intern(Type::Func(sig.into()))
                    }
                    _ => known::VOID,
                };
                self.info.refs[idx] = Some(r);
                t
            }
            ExprKind::Int(text) => {
                let v = parse_int(text).ok_or_else(|| self.err(e.pos, format!("integer constant {text} overflows")))?;
                self.info.consts[idx] = Some(Const::Int(v));
                known::UNTYPED_INT
            }
            ExprKind::Float(text) => {
                let v: f64 =
                    text.replace('_', "").parse().map_err(|_| self.err(e.pos, format!("malformed constant {text}")))?;
                self.info.consts[idx] = Some(Const::Float(v));
                known::UNTYPED_FLOAT
            }
            ExprKind::Char(c) => {
                self.info.consts[idx] = Some(Const::Int(*c as i128));
                known::UNTYPED_RUNE
            }
            ExprKind::Str(s) => {
                self.info.consts[idx] = Some(Const::Str(s.clone()));
                known::UNTYPED_STRING
            }
            ExprKind::Composite { ty, elts } => {
                let t = match ty {
                    Some(t) => self.type_expr(t)?,
                    None => {
                        let h = hint.ok_or_else(|| self.err(e.pos, "invalid composite literal type: missing type"))?;
                        // `{...}` for a `*T` element means `&T{...}`.
                        if let Type::Pointer(_) = self.info.types.under(h) {
                            return Err(self.unsupported(e.pos, "an elided &T in a composite literal"));
                        }
                        h
                    }
                };
                self.composite(e, t, elts)?;
                t
            }
            ExprKind::FuncLit { sig, body } => self.func_lit(e, sig, body)?,
            ExprKind::Selector { x, sel } => {
                // Checked before `x`, which may hold calls of its own.
                let called = self.callee == Some(e.id);
                let t = self.selector(e, x, sel)?;
                let is_func = matches!(
                    self.info.refs[e.id.0 as usize],
                    Some(Ref::Method { .. } | Ref::IfaceMethod(_) | Ref::SyncMethod(..) | Ref::Builtin(_))
                );
                if is_func && !called {
                    return Err(self.unsupported(sel.pos, "a method value (a method not called at once)"));
                }
                t
            }
            ExprKind::Index { x, index } => {
                let xt = self.expr(x, None)?;
                match self.info.types.under(xt).clone() {
                    Type::Map(k, v) => {
                        self.expr(index, Some(k))?;
                        self.assign_to(index, k)?;
                        v
                    }
                    under => {
                        let it = self.expr(index, Some(known::INT))?;
                        if self.info.types.basic(it).is_some_and(Basic::is_untyped) {
                            self.convert_untyped(index, known::INT)?;
                        }
                        match under {
                            Type::Slice(el) | Type::Array(_, el) => el,
                            Type::Pointer(p) => match self.info.types.under(p) {
                                Type::Array(_, el) => *el,
                                _ => return Err(self.err(e.pos, "invalid operation: cannot index pointer")),
                            },
                            Type::Basic(Basic::String) => known::UINT8,
                            Type::Basic(Basic::UntypedString) => known::UINT8,
                            _ => {
                                return Err(self.err(
                                    e.pos,
                                    format!("invalid operation: cannot index {}", self.info.types.name(xt)),
                                ))
                            }
                        }
                    }
                }
            }
            ExprKind::SliceExpr { x, lo, hi, max } => {
                let xt = self.expr(x, None)?;
                for b in [lo, hi, max].into_iter().flatten() {
                    let bt = self.expr(b, Some(known::INT))?;
                    if self.info.types.basic(bt).is_some_and(Basic::is_untyped) {
                        self.convert_untyped(b, known::INT)?;
                    }
                }
                match self.info.types.under(xt).clone() {
                    Type::Slice(_) => xt,
                    Type::Basic(Basic::String) => xt,
                    Type::Basic(Basic::UntypedString) => known::STRING,
                    Type::Array(_, el) => {
                        self.mark_addr_taken(x);
                        self.info.types.slice(el)
                    }
                    Type::Pointer(p) => match self.info.types.under(p).clone() {
                        Type::Array(_, el) => self.info.types.slice(el),
                        _ => return Err(self.err(e.pos, "cannot slice pointer")),
                    },
                    _ => return Err(self.err(e.pos, format!("cannot slice {}", self.info.types.name(xt)))),
                }
            }
            ExprKind::TypeAssert { x, ty } => {
                let xt = self.expr(x, None)?;
                if !self.info.types.is_interface(xt) {
                    return Err(self.err(x.pos, "invalid operation: not an interface"));
                }
                self.type_expr(ty)?
            }
            ExprKind::Call { fun, type_arg, args, ellipsis } => {
                self.call(e, fun, type_arg.as_ref(), args, *ellipsis)?
            }
            ExprKind::Deref(x) => {
                let xt = self.expr(x, None)?;
                match self.info.types.under(xt) {
                    Type::Pointer(el) => *el,
                    _ => return Err(self.err(e.pos, "invalid operation: cannot indirect a non-pointer")),
                }
            }
            ExprKind::AddrOf(x) => {
                let xt = if let ExprKind::Composite { .. } = x.kind {
                    let t = self.expr_inner(x, hint.and_then(|h| self.info.types.elem(h)))?;
                    if matches!(self.info.types.under(t), Type::Slice(_) | Type::Map(..)) {
                        return Err(self.unsupported(e.pos, "the address of a slice or map literal"));
                    }
                    t
                } else {
                    self.expr(x, None)?
                };
                self.set_type(x, xt);
                if !matches!(x.kind, ExprKind::Composite { .. }) {
                    self.info.expr_func[x.id.0 as usize] = self.func_stack.last().copied();
                    self.mark_addr_taken(x);
                }
                self.info.types.pointer(xt)
            }
            ExprKind::Unary { op, x } => {
                let xt = self.expr(x, hint)?;
                match op {
                    UnaryOp::Recv => match self.info.types.under(xt) {
                        Type::Chan(el) => *el,
                        _ => return Err(self.err(e.pos, "invalid operation: receive from non-chan type")),
                    },
                    _ => {
                        if let Some(c) = self.info.consts[x.id.0 as usize].clone() {
                            let v = match (op, c) {
                                (UnaryOp::Neg, Const::Int(n)) => Const::Int(-n),
                                (UnaryOp::Neg, Const::Float(f)) => Const::Float(-f),
                                (UnaryOp::Plus, c) => c,
                                (UnaryOp::Not, Const::Bool(b)) => Const::Bool(!b),
                                (UnaryOp::Xor, Const::Int(n)) => Const::Int(!n),
                                _ => return Err(self.err(e.pos, "invalid constant operation")),
                            };
                            self.info.consts[idx] = Some(v);
                        }
                        xt
                    }
                }
            }
            ExprKind::Binary { op, x, y } => self.binary(e, *op, x, y, hint)?,
            ExprKind::TypeExpr(_) => return Err(self.err(e.pos, "type is not an expression")),
        })
    }

    /// `&x`, or slicing an array variable: `x` must live in a block.
    fn mark_addr_taken(&mut self, x: &Expr) {
        match &x.kind {
            ExprKind::Ident(_) => {
                if let Some(Ref::Var(v)) = &self.info.refs[x.id.0 as usize] {
                    let v = &mut self.info.vars[v.0 as usize];
                    if v.kind != VarKind::Global {
                        v.boxed = true;
                    }
                }
            }
            // `&a.f` or `&a[i]` of a variable `a` held by value: `a` moves to a block.
            ExprKind::Selector { x: inner, .. } => {
                if let Some(Ref::Field { through_ptr: false, .. }) = &self.info.refs[x.id.0 as usize] {
                    self.mark_addr_taken(inner);
                }
            }
            ExprKind::Index { x: inner, .. } => {
                if matches!(self.info.types.under(self.ty_of(inner)), Type::Array(..)) {
                    self.mark_addr_taken(inner);
                }
            }
            _ => {}
        }
    }

    fn composite(&mut self, e: &Expr, t: TypeId, elts: &[Element]) -> CResult<()> {
        match self.info.types.under(t).clone() {
            Type::Struct(fields) => {
                for (i, el) in elts.iter().enumerate() {
                    let ft = match &el.key {
                        Some(Expr { kind: ExprKind::Ident(name), .. }) => {
                            let Some(f) = fields.iter().find(|f| &f.0 == name) else {
                                return Err(self.err(el.value.pos, format!("unknown field {name} in struct literal")));
                            };
                            f.1
                        }
                        Some(k) => return Err(self.err(k.pos, "invalid field name in struct literal")),
                        None => match fields.get(i) {
                            Some(f) => f.1,
                            None => return Err(self.err(el.value.pos, "too many values in struct literal")),
                        },
                    };
                    self.expr(&el.value, Some(ft))?;
                    self.assign_to(&el.value, ft)?;
                }
            }
            Type::Slice(el) | Type::Array(_, el) => {
                for x in elts {
                    if let Some(k) = &x.key {
                        return Err(self.unsupported(k.pos, "keyed elements in a slice or array literal"));
                    }
                    self.expr(&x.value, Some(el))?;
                    self.assign_to(&x.value, el)?;
                }
            }
            Type::Map(kt, vt) => {
                for x in elts {
                    let Some(k) = &x.key else {
                        return Err(self.err(x.value.pos, "missing key in map literal"));
                    };
                    self.expr(k, Some(kt))?;
                    self.assign_to(k, kt)?;
                    self.expr(&x.value, Some(vt))?;
                    self.assign_to(&x.value, vt)?;
                }
            }
            _ => return Err(self.err(e.pos, format!("invalid composite literal type {}", self.info.types.name(t)))),
        }
        Ok(())
    }

    fn selector(&mut self, e: &Expr, x: &Expr, sel: &Ident) -> CResult<TypeId> {
        let idx = e.id.0 as usize;
        if let ExprKind::Ident(pkg) = &x.kind {
            if let Some(Ref::Package(path)) = self.lookup(pkg) {
                let b = match (path.as_str(), sel.name.as_str()) {
                    ("fmt", "Println") => Builtin::FmtPrintln,
                    ("fmt", "Printf") => Builtin::FmtPrintf,
                    ("fmt", "Print") => Builtin::FmtPrint,
                    ("fmt", "Sprintf") => Builtin::FmtSprintf,
                    ("fmt", "Sprint") => Builtin::FmtSprint,
                    ("strconv", "Itoa") => Builtin::StrconvItoa,
                    ("runtime", "GC") => Builtin::RuntimeGC,
                    ("runtime", "ReadMemStats") => Builtin::RuntimeReadMemStats,
                    ("os", "Getenv") => Builtin::OsGetenv,
                    ("os", "Exit") => Builtin::OsExit,
                    ("fmt", "Fprintf") => Builtin::FmtFprintf,
                    ("fmt", "Fprintln") => Builtin::FmtFprintln,
                    ("os", "Stdout") | ("os", "Stderr") => {
                        let v = i128::from(sel.name == "Stderr") + 1;
                        self.info.consts[idx] = Some(Const::Int(v));
                        return Ok(known::INT);
                    }
                    _ => return Err(self.unsupported(e.pos, format_args!("{path}.{}", sel.name))),
                };
                self.info.refs[idx] = Some(Ref::Builtin(b));
                return Ok(known::VOID);
            }
        }
        let xt = self.expr(x, None)?;
        let (base, through_ptr) = match self.info.types.get(xt).clone() {
            Type::Pointer(b) => (b, true),
            _ => match self.info.types.under(xt).clone() {
                Type::Pointer(b) if !self.info.types.is_named(xt) => (b, true),
                _ => (xt, false),
            },
        };
        if let Type::Struct(fields) = self.info.types.under(base).clone() {
            if let Some(i) = fields.iter().position(|f| f.0 == sel.name) {
                let layout = self.info.types.layout(self.info.types.underlying(base));
                self.info.refs[idx] = Some(Ref::Field { leaf: layout.field_leaf[i], through_ptr });
                return Ok(fields[i].1);
            }
            if fields.iter().any(|f| f.2) {
                return Err(self.unsupported(sel.pos, "promoted fields and methods of embedded structs"));
            }
        }
        if let Type::Sync(st) = self.info.types.under(base).clone() {
            let sig = match (st, sel.name.as_str()) {
                (SyncType::WaitGroup, "Add") => Sig { params: vec![known::INT], results: vec![], variadic: false },
                (SyncType::WaitGroup, "Done" | "Wait") | (SyncType::Mutex, "Lock" | "Unlock") => {
                    Sig { params: vec![], results: vec![], variadic: false }
                }
                _ => {
                    return Err(self
                        .unsupported(sel.pos, format_args!("method {} of {}", sel.name, self.info.types.name(base))))
                }
            };
            if !through_ptr {
                self.mark_addr_taken(x);
            }
            self.info.refs[idx] = Some(Ref::SyncMethod(st, sel.name.clone()));
            return Ok(self.info.types.intern(Type::Func(sig.into())));
        }
        if let Type::Interface(ms) = self.info.types.under(xt).clone() {
            if let Some((_, sig)) = ms.iter().find(|m| m.0 == sel.name) {
                self.info.refs[idx] = Some(Ref::IfaceMethod(sel.name.clone()));
                return Ok(self.info.types.intern(Type::Func(sig.clone().into())));
            }
        }
        if let Some((f, recv_ptr)) = self.method_of(base, &sel.name) {
            if recv_ptr && !through_ptr {
                self.mark_addr_taken(x);
            }
            self.info.refs[idx] = Some(Ref::Method { func: f, recv_ptr, x_ptr: through_ptr });
            let sig = self.info.funcs[f.0 as usize].sig.clone();
            return Ok(self.info.types.intern(Type::Func(sig.into())));
        }
        Err(self.err(
            sel.pos,
            format!(
                "{}.{} undefined (type {} has no field or method {})",
                expr_text(x),
                sel.name,
                self.info.types.name(xt),
                sel.name
            ),
        ))
    }

    fn binary(&mut self, e: &Expr, op: BinaryOp, x: &Expr, y: &Expr, hint: Option<TypeId>) -> CResult<TypeId> {
        let idx = e.id.0 as usize;
        let shift = matches!(op, BinaryOp::Shl | BinaryOp::Shr);
        let xt = self.expr(x, if shift { hint } else { None })?;
        let yt = self.expr(y, if shift { None } else { Some(xt) })?;
        let xu = self.info.types.basic(xt).is_some_and(Basic::is_untyped);
        let yu = self.info.types.basic(yt).is_some_and(Basic::is_untyped);
        // The operands' common type: the typed one wins.
        let t = if shift {
            if yu {
                self.convert_untyped(y, known::UINT)?;
            }
            xt
        } else if xu && !yu {
            self.assign_to(x, yt)?;
            yt
        } else if yu && !xu {
            self.assign_to(y, xt)?;
            xt
        } else if xu && yu {
            // Both untyped: the "larger" kind (int < rune < float).
            let rank = |t: TypeId| match t {
                known::UNTYPED_INT => 1,
                known::UNTYPED_RUNE => 2,
                known::UNTYPED_FLOAT => 3,
                _ => 0,
            };
            if rank(yt) > rank(xt) {
                yt
            } else {
                xt
            }
        } else {
            if !self.identical_under(xt, yt)
                && !(op.is_comparison() && (self.info.types.is_interface(xt) || self.info.types.is_interface(yt)))
            {
                return Err(self.err(
                    start_pos(e),
                    format!(
                        "invalid operation: {} (mismatched types {} and {})",
                        expr_text(e),
                        self.info.types.name(xt),
                        self.info.types.name(yt)
                    ),
                ));
            }
            if op.is_comparison() && self.info.types.is_interface(xt) != self.info.types.is_interface(yt) {
                let (conc, iface) = if self.info.types.is_interface(xt) { (y, xt) } else { (x, yt) };
                self.assign_to(conc, iface)?;
            }
            xt
        };
        if let (Some(a), Some(b)) =
            (self.info.consts[x.id.0 as usize].clone(), self.info.consts[y.id.0 as usize].clone())
        {
            let int_div = self.info.types.basic(t).is_some_and(Basic::is_integer);
            if let Some(v) = fold(op, a, b, int_div) {
                self.info.consts[idx] = Some(v);
            }
        }
        if op.is_comparison() || matches!(op, BinaryOp::LogAnd | BinaryOp::LogOr) {
            return Ok(if xu && yu {
                known::UNTYPED_BOOL
            } else if op.is_comparison() {
                known::BOOL
            } else {
                t
            });
        }
        Ok(t)
    }
}

/// Constant folding of a binary operation (`None` when not foldable here).
fn fold(op: BinaryOp, a: Const, b: Const, int_div: bool) -> Option<Const> {
    use BinaryOp::*;
    Some(match (a, b) {
        (Const::Int(a), Const::Int(b)) => match op {
            Add => Const::Int(a.checked_add(b)?),
            Sub => Const::Int(a.checked_sub(b)?),
            Mul => Const::Int(a.checked_mul(b)?),
            Div if b != 0 && int_div => Const::Int(a / b),
            Div if b != 0 => Const::Float(a as f64 / b as f64),
            Rem if b != 0 => Const::Int(a % b),
            And => Const::Int(a & b),
            Or => Const::Int(a | b),
            Xor => Const::Int(a ^ b),
            AndNot => Const::Int(a & !b),
            Shl if (0..127).contains(&b) => Const::Int(a.checked_shl(b as u32)?),
            Shr if (0..127).contains(&b) => Const::Int(a >> b),
            Eq => Const::Bool(a == b),
            Ne => Const::Bool(a != b),
            Lt => Const::Bool(a < b),
            Le => Const::Bool(a <= b),
            Gt => Const::Bool(a > b),
            Ge => Const::Bool(a >= b),
            _ => return None,
        },
        (Const::Float(a), Const::Int(b)) => return fold(op, Const::Float(a), Const::Float(b as f64), false),
        (Const::Int(a), Const::Float(b)) => return fold(op, Const::Float(a as f64), Const::Float(b), false),
        (Const::Float(a), Const::Float(b)) => match op {
            Add => Const::Float(a + b),
            Sub => Const::Float(a - b),
            Mul => Const::Float(a * b),
            Div if b != 0.0 => Const::Float(a / b),
            Eq => Const::Bool(a == b),
            Ne => Const::Bool(a != b),
            Lt => Const::Bool(a < b),
            Le => Const::Bool(a <= b),
            Gt => Const::Bool(a > b),
            Ge => Const::Bool(a >= b),
            _ => return None,
        },
        (Const::Str(a), Const::Str(b)) => match op {
            Add => Const::Str(a + &b),
            Eq => Const::Bool(a == b),
            Ne => Const::Bool(a != b),
            _ => return None,
        },
        (Const::Bool(a), Const::Bool(b)) => match op {
            LogAnd => Const::Bool(a && b),
            LogOr => Const::Bool(a || b),
            Eq => Const::Bool(a == b),
            Ne => Const::Bool(a != b),
            _ => return None,
        },
        _ => return None,
    })
}

impl<'p> Checker<'p> {
    fn call(
        &mut self,
        e: &Expr,
        fun: &Expr,
        type_arg: Option<&TypeExpr>,
        args: &[Expr],
        ellipsis: bool,
    ) -> CResult<TypeId> {
        let idx = e.id.0 as usize;
        // A conversion `T(x)`.
        let conv = match &fun.kind {
            ExprKind::TypeExpr(te) => Some(self.type_expr(te)?),
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Ref::Type(t)) => Some(t),
                _ => None,
            },
            _ => None,
        };
        if let Some(t) = conv {
            let [arg] = args else {
                return Err(
                    self.err(e.pos, format!("wrong argument count in conversion to {}", self.info.types.name(t)))
                );
            };
            let at = self.expr(arg, Some(t))?;
            if self.info.types.basic(at).is_some_and(Basic::is_untyped) {
                if self.info.types.is_interface(t) {
                    self.assign_to(arg, t)?;
                } else if self.info.types.basic(t).is_none()
                    || (self.info.types.is_string(t) && self.info.types.basic(at).is_some_and(Basic::is_integer))
                {
                    // `[]byte("s")`, `string(65)`: the constant keeps its default type.
                    self.default_type(arg, at)?;
                } else {
                    self.convert_untyped(arg, t)?;
                }
            } else if self.info.types.is_interface(t) && !self.info.types.is_interface(at) {
                self.assign_to(arg, t)?;
            }
            if let Some(c) = self.info.consts[arg.id.0 as usize].clone() {
                if !self.info.types.is_string(t) || matches!(c, Const::Str(_)) {
                    let c = self.convert_const(c, t, arg.pos)?;
                    self.info.consts[idx] = Some(c);
                }
            }
            self.info.refs[idx] = Some(Ref::Type(t));
            return Ok(t);
        }
        self.callee = Some(fun.id);
        let ft = self.expr(fun, None)?;
        if let Some(Ref::Builtin(b)) = self.info.refs[fun.id.0 as usize].clone() {
            return self.builtin(e, b, type_arg, args, ellipsis);
        }
        let Type::Func(sig) = self.info.types.under(ft).clone() else {
            let mode =
                if matches!(self.info.refs[fun.id.0 as usize], Some(Ref::Var(_))) { "variable" } else { "value" };
            return Err(self.err(
                start_pos(e),
                format!(
                    "invalid operation: cannot call non-function {} ({mode} of type {})",
                    expr_text(fun),
                    self.info.types.name(ft)
                ),
            ));
        };
        if args.len() == 1 && sig.params.len() > 1 {
            if let ExprKind::Call { .. } = args[0].kind {
                return Err(self.unsupported(args[0].pos, "a multi-valued call as the arguments of a call"));
            }
        }
        let fixed = if sig.variadic { sig.params.len() - 1 } else { sig.params.len() };
        if args.len() < fixed || (!sig.variadic && args.len() > fixed) || (ellipsis && args.len() != sig.params.len()) {
            // Go reports too many at the first extra argument, not enough at
            // the last one (or the call when there is none).
            let (at, qualifier) = if args.len() > sig.params.len() {
                (start_pos(&args[sig.params.len()]), "too many")
            } else {
                (args.last().map_or(start_pos(e), start_pos), "not enough")
            };
            return Err(self.err(at, format!("{qualifier} arguments in call to {}", expr_text(fun))));
        }
        for (i, a) in args.iter().enumerate() {
            let pt = if i < fixed || ellipsis {
                sig.params[i]
            } else {
                self.info.types.elem(*sig.params.last().expect("variadic")).expect("slice")
            };
            self.expr(a, Some(pt))?;
            self.assign_to(a, pt)?;
        }
        if sig.variadic && !ellipsis {
            return Err(self.unsupported(e.pos, "calling a variadic function without `...` (the implicit slice)"));
        }
        Ok(match sig.results.len() {
            0 => known::VOID,
            1 => sig.results[0],
            _ => {
                let words: u32 = sig.results.clone().iter().map(|&r| self.info.types.layout(r).ptr_words).sum();
                if words > 1 {
                    return Err(self.unsupported(
                        e.pos,
                        "results with more than one pointer word in all (a gcwb `ret` copies one)",
                    ));
                }
                self.info.types.intern(Type::Tuple(sig.results.clone().into()))
            }
        })
    }

    fn builtin(
        &mut self,
        e: &Expr,
        b: Builtin,
        type_arg: Option<&TypeExpr>,
        args: &[Expr],
        ellipsis: bool,
    ) -> CResult<TypeId> {
        let nargs = |c: &Self, n: usize| -> CResult<()> {
            if args.len() != n {
                return Err(c.err(e.pos, format!("wrong number of arguments (want {n})")));
            }
            Ok(())
        };
        let int_arg = |c: &mut Self, a: &Expr| -> CResult<()> {
            let t = c.expr(a, Some(known::INT))?;
            if c.info.types.basic(t).is_some_and(Basic::is_untyped) {
                c.convert_untyped(a, known::INT)?;
            }
            Ok(())
        };
        Ok(match b {
            Builtin::Len | Builtin::Cap => {
                nargs(self, 1)?;
                let t = self.expr(&args[0], None)?;
                if let Type::Array(n, _) = self.info.types.under(t) {
                    self.info.consts[e.id.0 as usize] = Some(Const::Int(*n as i128));
                }
                if let Some(Const::Str(s)) = &self.info.consts[args[0].id.0 as usize] {
                    self.info.consts[e.id.0 as usize] = Some(Const::Int(s.len() as i128));
                    self.convert_untyped(&args[0], known::STRING)?;
                }
                known::INT
            }
            Builtin::Append => {
                let Some(s) = args.first() else { return Err(self.err(e.pos, "not enough arguments for append")) };
                let st = self.expr(s, None)?;
                let Type::Slice(el) = *self.info.types.under(st) else {
                    return Err(self.err(s.pos, "first argument to append must be a slice"));
                };
                if ellipsis {
                    nargs(self, 2)?;
                    let t = self.expr(&args[1], Some(st))?;
                    if self.info.types.is_string(t) {
                        self.convert_untyped(&args[1], known::STRING)?;
                    }
                } else {
                    for a in &args[1..] {
                        self.expr(a, Some(el))?;
                        self.assign_to(a, el)?;
                    }
                }
                st
            }
            Builtin::Copy => {
                nargs(self, 2)?;
                self.expr(&args[0], None)?;
                let t = self.expr(&args[1], None)?;
                if self.info.types.is_string(t) {
                    self.convert_untyped(&args[1], known::STRING)?;
                }
                known::INT
            }
            Builtin::Make => {
                let Some(te) = type_arg else { return Err(self.err(e.pos, "make needs a type")) };
                let t = self.type_expr(te)?;
                for a in args {
                    int_arg(self, a)?;
                }
                match self.info.types.under(t) {
                    Type::Slice(_) if !args.is_empty() && args.len() <= 2 => {}
                    Type::Map(..) | Type::Chan(_) if args.len() <= 1 => {}
                    _ => {
                        return Err(
                            self.err(e.pos, format!("invalid operation: make({}, ...)", self.info.types.name(t)))
                        )
                    }
                }
                t
            }
            Builtin::New => {
                let Some(te) = type_arg else { return Err(self.err(e.pos, "new needs a type")) };
                let t = self.type_expr(te)?;
                self.info.types.pointer(t)
            }
            Builtin::Panic => {
                nargs(self, 1)?;
                self.expr(&args[0], Some(known::ANY))?;
                self.assign_to(&args[0], known::ANY)?;
                known::VOID
            }
            Builtin::Print | Builtin::Println => {
                for a in args {
                    let t = self.expr(a, None)?;
                    self.default_type(a, t)?;
                }
                known::VOID
            }
            Builtin::Delete => {
                nargs(self, 2)?;
                let mt = self.expr(&args[0], None)?;
                let Type::Map(k, _) = *self.info.types.under(mt) else {
                    return Err(self.err(args[0].pos, "first argument to delete must be a map"));
                };
                self.expr(&args[1], Some(k))?;
                self.assign_to(&args[1], k)?;
                known::VOID
            }
            Builtin::Close => {
                nargs(self, 1)?;
                let t = self.expr(&args[0], None)?;
                if !matches!(self.info.types.under(t), Type::Chan(_)) {
                    return Err(self.err(args[0].pos, "invalid operation: non-chan argument to close"));
                }
                known::VOID
            }
            Builtin::FmtPrintln | Builtin::FmtPrint | Builtin::FmtPrintf | Builtin::FmtSprintf | Builtin::FmtSprint => {
                if ellipsis {
                    return Err(self.unsupported(e.pos, "`...` in a call of package fmt"));
                }
                let formatted = matches!(b, Builtin::FmtPrintf | Builtin::FmtSprintf);
                for (i, a) in args.iter().enumerate() {
                    let t = self.expr(a, None)?;
                    if formatted && i == 0 {
                        self.assign_to(a, known::STRING)?;
                        continue;
                    }
                    let _ = t;
                    self.assign_to(a, known::ANY)?;
                }
                if matches!(b, Builtin::FmtSprintf | Builtin::FmtSprint) {
                    known::STRING
                } else {
                    known::VOID
                }
            }
            Builtin::StrconvItoa => {
                nargs(self, 1)?;
                int_arg(self, &args[0])?;
                known::STRING
            }
            Builtin::RuntimeGC => {
                nargs(self, 0)?;
                known::VOID
            }
            Builtin::RuntimeReadMemStats => {
                nargs(self, 1)?;
                self.expr(&args[0], None)?;
                known::VOID
            }
            Builtin::OsGetenv => {
                nargs(self, 1)?;
                self.expr(&args[0], Some(known::STRING))?;
                self.assign_to(&args[0], known::STRING)?;
                known::STRING
            }
            Builtin::OsExit => {
                nargs(self, 1)?;
                let t = self.expr(&args[0], Some(known::INT))?;
                if self.info.types.basic(t).is_some_and(Basic::is_untyped) {
                    self.convert_untyped(&args[0], known::INT)?;
                }
                known::VOID
            }
            Builtin::OsStdout | Builtin::OsStderr => known::INT,
            Builtin::FmtFprintf | Builtin::FmtFprintln => {
                let Some(w) = args.first() else { return Err(self.err(e.pos, "not enough arguments")) };
                self.expr(w, None)?;
                for (i, a) in args[1..].iter().enumerate() {
                    self.expr(a, None)?;
                    if i == 0 && b == Builtin::FmtFprintf {
                        self.assign_to(a, known::STRING)?;
                    } else {
                        self.assign_to(a, known::ANY)?;
                    }
                }
                known::VOID
            }
            Builtin::SpanBegin | Builtin::SpanEnd => {
                nargs(self, 1)?;
                self.expr(&args[0], Some(known::STRING))?;
                self.assign_to(&args[0], known::STRING)?;
                known::VOID
            }
        })
    }

    /// Decides how closures capture, which variables live in blocks, and
    /// lays out every frame's trace locals (see [`FuncInfo`]).
    fn finish_frames(&mut self) {
        for f in 0..self.info.funcs.len() {
            let caps = self.info.funcs[f].captures.clone();
            let mut out = Vec::new();
            for c in caps {
                let v = &self.info.vars[c.var.0 as usize];
                let ty = v.ty;
                let size = self.info.types.layout(ty).size;
                let by_ref = v.reassigned || v.boxed || size > MAX_CAPTURE_BY_VALUE_BYTES;
                out.push(Capture { var: c.var, by_ref });
            }
            self.info.funcs[f].captures = out;
        }
        // A variable captured by reference lives in a block.
        for f in 0..self.info.funcs.len() {
            for c in self.info.funcs[f].captures.clone() {
                let v = &mut self.info.vars[c.var.0 as usize];
                v.captured = true;
                if c.by_ref {
                    v.boxed = true;
                }
            }
        }
        // By-reference captures are decided once all literals are seen: a
        // variable boxed for one literal is captured by reference by all.
        for f in 0..self.info.funcs.len() {
            let caps = self.info.funcs[f].captures.clone();
            let caps = caps
                .into_iter()
                .map(|c| Capture { var: c.var, by_ref: self.info.vars[c.var.0 as usize].boxed })
                .collect();
            self.info.funcs[f].captures = caps;
        }
        // A variable too large for a frame lives in a block too.
        for v in self.info.vars.iter_mut() {
            if v.kind != VarKind::Global && self.info.types.layout(v.ty).size > MAX_STACK_VAR_BYTES {
                v.boxed = true;
            }
        }
        let mut by_func: Vec<Vec<VarId>> = vec![Vec::new(); self.info.funcs.len()];
        for (i, v) in self.info.vars.iter().enumerate() {
            if let Some(f) = v.func {
                by_func[f.0 as usize].push(VarId(i as u32));
            }
        }
        for (f, vars) in by_func.iter().enumerate() {
            let mut next = 0u32;
            let mut bytes = FRAME_OVERHEAD_BYTES;
            if !self.info.funcs[f].captures.is_empty() {
                self.info.funcs[f].ctx_local = Some(0);
                next = 1;
            }
            // Parameters (receiver first) take the first locals, in order,
            // so a call's arguments fill them.
            let fi = &self.info.funcs[f];
            let params: Vec<VarId> = fi.recv.iter().chain(fi.params.iter()).copied().collect();
            for &v in params.iter().chain(vars.iter().filter(|v| !params.contains(v))) {
                let ty = self.info.vars[v.0 as usize].ty;
                let words = self.info.types.layout(ty).ptr_words;
                let size = self.info.types.layout(ty).size;
                let var = &mut self.info.vars[v.0 as usize];
                let is_param = var.kind == VarKind::Param;
                if var.boxed && !is_param {
                    var.box_local = next;
                    next += 1;
                    bytes += 8;
                } else {
                    var.tlocal = next;
                    next += words;
                    bytes += size.div_ceil(8) * 8;
                }
            }
            for &v in &params {
                let var = &mut self.info.vars[v.0 as usize];
                if var.boxed {
                    var.box_local = next;
                    next += 1;
                    bytes += 8;
                }
            }
            self.info.funcs[f].temp_base = next;
            for &(e, words, iface) in &self.info.funcs[f].temps {
                if iface {
                    self.info.iface_temp[e.0 as usize] = Some(next);
                } else {
                    self.info.temp[e.0 as usize] = Some(next);
                }
                next += words;
                bytes += 8 * u64::from(words);
            }
            self.info.funcs[f].tlocals = next;
            // Each local and temporary is at least a word (the trace's rule).
            self.info.funcs[f].frame_bytes = bytes.max(FRAME_OVERHEAD_BYTES + 8 * u64::from(next));
        }
    }
}

/// Where a parameter is declared (its name; an unnamed one has none).
fn param_pos(p: &Param) -> Pos {
    p.name.as_ref().map(|n| n.pos).unwrap_or_default()
}

/// Where Go's type checker reports an error about `e`: the start of its
/// leftmost part (`syntax.StartPos`), not the operator or parenthesis the
/// expression's own position is.
fn start_pos(e: &Expr) -> Pos {
    match &e.kind {
        ExprKind::Selector { x, .. }
        | ExprKind::Index { x, .. }
        | ExprKind::SliceExpr { x, .. }
        | ExprKind::TypeAssert { x, .. }
        | ExprKind::Binary { x, .. } => start_pos(x),
        ExprKind::Call { fun, .. } => start_pos(fun),
        ExprKind::Composite { ty: Some(TypeExpr::Name(id)), .. } => id.pos,
        ExprKind::Composite { ty: Some(TypeExpr::Qualified { pkg, .. }), .. } => pkg.pos,
        _ => e.pos,
    }
}

/// `e` as Go's type checker prints an expression in a message (`a + b`,
/// `t.m`, `f(x)`, `T{…}`).
fn expr_text(e: &Expr) -> String {
    let list = |es: &[Expr]| es.iter().map(expr_text).collect::<Vec<_>>().join(", ");
    match &e.kind {
        ExprKind::Ident(n) | ExprKind::Int(n) | ExprKind::Float(n) => n.clone(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Char(c) => match char::from_u32(*c as u32) {
            Some(c) => format!("{c:?}"),
            None => c.to_string(),
        },
        ExprKind::Selector { x, sel } => format!("{}.{}", expr_text(x), sel.name),
        ExprKind::Index { x, index } => format!("{}[{}]", expr_text(x), expr_text(index)),
        ExprKind::Call { fun, args, ellipsis, .. } => {
            format!("{}({}{})", expr_text(fun), list(args), if *ellipsis { "..." } else { "" })
        }
        ExprKind::Deref(x) => format!("*{}", expr_text(x)),
        ExprKind::AddrOf(x) => format!("&{}", expr_text(x)),
        ExprKind::Unary { op, x } => {
            let op = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Plus => "+",
                UnaryOp::Not => "!",
                UnaryOp::Xor => "^",
                UnaryOp::Recv => "<-",
            };
            format!("{op}{}", expr_text(x))
        }
        ExprKind::Binary { op, x, y } => format!("{} {} {}", expr_text(x), op.text(), expr_text(y)),
        ExprKind::Composite { ty: Some(TypeExpr::Name(id)), .. } => format!("{}{{…}}", id.name),
        ExprKind::Composite { .. } => "{…}".to_string(),
        ExprKind::FuncLit { .. } => "func literal".to_string(),
        _ => "expression".to_string(),
    }
}

/// `n variables` / `1 value`, as Go counts in messages.
fn measure(n: usize, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

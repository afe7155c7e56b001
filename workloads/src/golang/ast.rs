//! The syntax tree of the Go subset gcwb runs: what [`super::syntax`] builds
//! from tree-sitter-go's concrete tree, and what the checker
//! ([`super::check`]) and the interpreter ([`super::interp`]) read.
//!
//! It is Go's own `go/ast` cut down to the subset (see the module comment of
//! [`super`]): a [`Package`] of [`SourceFile`]s of declarations; statements
//! and expressions with their [`Pos`]. Every expression carries an
//! [`ExprId`], dense over the package, so analyses keep what they learn about
//! an expression in a vector indexed by it (as `go/types.Info` keeps maps).
//! Every variable declaration site carries a [`Pos`] too, because Go's
//! compiler reports `moved to heap: x` at the declaration.
//!
//! Positions are 1-based lines and 1-based columns counted in bytes, and an
//! expression's position is the one Go's compiler gives the node (Go's
//! `cmd/compile/internal/syntax`, which is what `go build -gcflags=-m`
//! prints), not always its first byte: [`super::syntax`] documents each
//! case it checked against Go 1.19 (e.g. a binary expression sits at its
//! operator).

use std::fmt;

/// A position in a source file: index into [`Package::files`], 1-based
/// line and byte column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// An expression's dense id within its package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

/// A name as written, with where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub pos: Pos,
}

impl Ident {
    /// The blank identifier `_`.
    pub fn is_blank(&self) -> bool {
        self.name == "_"
    }
}

/// A whole program: package `main` in one or more files.
#[derive(Clone, Debug, Default)]
pub struct Package {
    /// The files, in the order given; [`Pos::file`] indexes this.
    pub files: Vec<SourceFile>,
    /// How many [`ExprId`]s were handed out (ids are `0..expr_count`).
    pub expr_count: u32,
}

impl Package {
    /// `file:line:col`, as Go's tools print a position.
    pub fn pos_text(&self, pos: Pos) -> String {
        let name = self.files.get(pos.file as usize).map_or("?", |f| f.name.as_str());
        format!("{name}:{}:{}", pos.line, pos.col)
    }
}

/// One `.go` file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as given (what messages print).
    pub name: String,
    /// Import paths (`"fmt"`, `"sync"`, ...), each with the name it binds.
    pub imports: Vec<Import>,
    pub decls: Vec<Decl>,
}

#[derive(Clone, Debug)]
pub struct Import {
    /// The package path, unquoted: `fmt`, `sync`, `runtime`, `strconv`.
    pub path: String,
    /// The name it is used by (the last path element unless renamed).
    pub name: Ident,
}

/// A top-level declaration.
#[derive(Clone, Debug)]
pub enum Decl {
    Func(FuncDecl),
    /// `type ...` (one spec per type; a grouped `type (...)` gives several).
    Type(TypeSpec),
    /// `var ...` (one spec per line of a group).
    Var(VarSpec),
    /// `const ...` (one spec per line; an implicit repetition in a group
    /// is filled in by the parser, with `iota` set per line).
    Const(ConstSpec),
}

#[derive(Clone, Debug)]
pub struct FuncDecl {
    pub name: Ident,
    /// The receiver of a method.
    pub recv: Option<Param>,
    pub sig: FuncType,
    pub body: Block,
    /// The `func` keyword.
    pub pos: Pos,
    /// Marked `//go:noinline` (the comment line right above it): Go's
    /// compiler never inlines it.
    pub noinline: bool,
}

#[derive(Clone, Debug)]
pub struct TypeSpec {
    pub name: Ident,
    pub ty: TypeExpr,
    /// `type A = B`.
    pub alias: bool,
}

#[derive(Clone, Debug)]
pub struct VarSpec {
    /// Each name with its declaration position (`moved to heap: x` names it).
    pub names: Vec<Ident>,
    pub ty: Option<TypeExpr>,
    /// Empty (zero values), one per name, or one multi-valued call.
    pub values: Vec<Expr>,
}

#[derive(Clone, Debug)]
pub struct ConstSpec {
    pub names: Vec<Ident>,
    pub ty: Option<TypeExpr>,
    /// One per name (repeated from the previous spec of a group when
    /// written implicitly: the same expressions, with fresh ids).
    pub values: Vec<Expr>,
    /// The value of `iota` on this line of its group.
    pub iota: u64,
}

/// A parameter or result group member, or a receiver. An unnamed
/// parameter has no name.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Option<Ident>,
    pub ty: TypeExpr,
    /// `...T` (the last parameter only): the parameter is a `[]T`.
    pub variadic: bool,
}

/// A function's signature (of a declaration, a literal or a type).
#[derive(Clone, Debug)]
pub struct FuncType {
    /// One entry per parameter (a group `a, b int` gives two).
    pub params: Vec<Param>,
    pub results: Vec<Param>,
}

/// A type as written.
#[derive(Clone, Debug)]
pub enum TypeExpr {
    /// `int`, `Node`, `error`, `any`...
    Name(Ident),
    /// `sync.WaitGroup`, `sync.Mutex`: a type of an imported package.
    Qualified {
        pkg: Ident,
        name: Ident,
    },
    Pointer(Box<TypeExpr>),
    Slice(Box<TypeExpr>),
    /// `[N]T`; `len` is a constant expression (`[...]T` is not supported).
    Array {
        len: Box<Expr>,
        elem: Box<TypeExpr>,
    },
    Map {
        key: Box<TypeExpr>,
        value: Box<TypeExpr>,
    },
    Chan {
        dir: ChanDir,
        elem: Box<TypeExpr>,
    },
    Func(Box<FuncType>),
    Struct(Vec<Field>),
    Interface(Vec<MethodSpec>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChanDir {
    Both,
    /// `chan<- T`
    Send,
    /// `<-chan T`
    Recv,
}

/// One struct field (a group `x, y int` gives two). An embedded field has
/// `embedded` set and the type's name as its name.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: Ident,
    pub ty: TypeExpr,
    pub embedded: bool,
}

/// A method of an interface type (embedded interfaces are not supported).
#[derive(Clone, Debug)]
pub struct MethodSpec {
    pub name: Ident,
    pub sig: FuncType,
}

/// A `{ ... }` block.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The closing `}` (where Go's compiler puts a function's implicit return).
    pub end: Pos,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub pos: Pos,
    pub kind: StmtKind,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// A call, or a receive, used as a statement.
    Expr(Expr),
    /// `ch <- v`
    Send {
        chan: Expr,
        value: Expr,
    },
    /// `x++` / `x--`
    IncDec {
        target: Expr,
        inc: bool,
    },
    /// `a, b = x, y`, or `x op= y` (`op` is the binary operator of the
    /// compound form, `None` for plain `=`).
    Assign {
        lhs: Vec<Expr>,
        op: Option<BinaryOp>,
        rhs: Vec<Expr>,
    },
    /// `a, b := x, y` (each left side an identifier; `lhs` are the names
    /// with their positions: a name already declared in the same scope is
    /// assigned, not declared, as Go's rules say).
    Define {
        lhs: Vec<Ident>,
        rhs: Vec<Expr>,
    },
    /// `var` inside a function.
    Var(VarSpec),
    /// `const` inside a function.
    Const(ConstSpec),
    /// `type` inside a function.
    Type(TypeSpec),
    /// `go f(x)`: the call expression.
    Go(Expr),
    /// `defer f(x)`.
    Defer(Expr),
    Return(Vec<Expr>),
    Break(Option<Ident>),
    Continue(Option<Ident>),
    Block(Block),
    If {
        init: Option<Box<Stmt>>,
        cond: Expr,
        then: Block,
        els: Option<Box<Stmt>>,
    },
    /// `for init; cond; post {}` (all optional; `for {}` and `for cond {}` too).
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        post: Option<Box<Stmt>>,
        body: Block,
    },
    /// `for k, v := range x {}` / `for k, v = range x {}` / `for range x {}`.
    Range {
        key: Option<Expr>,
        value: Option<Expr>,
        define: bool,
        x: Expr,
        body: Block,
    },
    /// `switch init; tag { case a, b: ... default: ... }` (no tag: `switch true`).
    Switch {
        init: Option<Box<Stmt>>,
        tag: Option<Expr>,
        cases: Vec<CaseClause>,
    },
    /// `switch v := x.(type) { case T1, T2: ... }`.
    TypeSwitch {
        init: Option<Box<Stmt>>,
        bind: Option<Ident>,
        x: Expr,
        cases: Vec<TypeCase>,
    },
    /// `select { case v := <-ch: ... case ch <- v: ... default: ... }`.
    Select(Vec<SelectCase>),
    /// `label: stmt`.
    Labeled {
        label: Ident,
        stmt: Box<Stmt>,
    },
    Fallthrough,
    Empty,
}

#[derive(Clone, Debug)]
pub struct CaseClause {
    /// Empty for `default`.
    pub exprs: Vec<Expr>,
    pub is_default: bool,
    pub body: Vec<Stmt>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct TypeCase {
    /// The types listed; `None` stands for `nil`. Empty for `default`.
    pub types: Vec<Option<TypeExpr>>,
    pub is_default: bool,
    pub body: Vec<Stmt>,
    pub pos: Pos,
    /// The clause's `:`, where Go's compiler declares the clause's own
    /// copy of the switch's bound variable (`moved to heap: v` names it).
    pub colon: Pos,
}

#[derive(Clone, Debug)]
pub struct SelectCase {
    /// `None` for `default`; else a send or a receive statement
    /// (`StmtKind::Send`, `StmtKind::Expr(<-ch)`, `Define`/`Assign` of a receive).
    pub comm: Option<Box<Stmt>>,
    pub body: Vec<Stmt>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub id: ExprId,
    /// Go's position for the node (see the module comment).
    pub pos: Pos,
    pub kind: ExprKind,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Ident(String),
    /// An integer literal (decimal, hex, octal, binary; `_` separators
    /// removed), as written, parsed by the checker's constant arithmetic.
    Int(String),
    /// A floating-point literal as written.
    Float(String),
    /// A rune literal's value.
    Char(i32),
    /// A string literal's value (escapes and raw strings decoded).
    Str(String),
    /// `T{...}` or, inside another composite literal, `{...}` with the
    /// type left out (`ty: None`).
    Composite {
        ty: Option<TypeExpr>,
        elts: Vec<Element>,
    },
    /// `func(...) ... { ... }`.
    FuncLit {
        sig: FuncType,
        body: Block,
    },
    /// `x.sel` (field, method, or package member such as `fmt.Println`).
    Selector {
        x: Box<Expr>,
        sel: Ident,
    },
    /// `x[i]`.
    Index {
        x: Box<Expr>,
        index: Box<Expr>,
    },
    /// `x[lo:hi]` / `x[lo:hi:max]`.
    SliceExpr {
        x: Box<Expr>,
        lo: Option<Box<Expr>>,
        hi: Option<Box<Expr>>,
        max: Option<Box<Expr>>,
    },
    /// `x.(T)`.
    TypeAssert {
        x: Box<Expr>,
        ty: TypeExpr,
    },
    /// `f(args)` / `f(args...)`: a call, a conversion `T(x)`, or a builtin.
    /// Builtins taking a type (`make`, `new`) have it as `type_arg`.
    Call {
        fun: Box<Expr>,
        type_arg: Option<TypeExpr>,
        args: Vec<Expr>,
        ellipsis: bool,
    },
    /// `*x` (a dereference: `*T` in a type position is a [`TypeExpr`]).
    Deref(Box<Expr>),
    /// `&x`.
    AddrOf(Box<Expr>),
    /// `-x`, `!x`, `^x`, `+x`, `<-x` (a receive).
    Unary {
        op: UnaryOp,
        x: Box<Expr>,
    },
    /// `x op y`; `pos` of the expression is the operator's.
    Binary {
        op: BinaryOp,
        x: Box<Expr>,
        y: Box<Expr>,
    },
    /// A type where an expression is expected: the callee of a conversion
    /// whose type is not a plain name (`[]byte(s)`, `(*T)(p)`).
    TypeExpr(TypeExpr),
}

/// An element of a composite literal: `value`, `key: value`, or a field
/// name `f: value` (the key is then an [`ExprKind::Ident`]).
#[derive(Clone, Debug)]
pub struct Element {
    pub key: Option<Expr>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    /// `^x` (bitwise complement).
    Xor,
    /// `<-ch`.
    Recv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    AndNot,
    LogAnd,
    LogOr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    /// The operator as Go writes it.
    pub fn text(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
            BinaryOp::Xor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::AndNot => "&^",
            BinaryOp::LogAnd => "&&",
            BinaryOp::LogOr => "||",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }

    /// Does the result have type `bool` whatever the operands?
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

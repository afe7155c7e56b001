//! The Go front end's first stage: tree-sitter-go's tree lowered to the
//! subset's AST. Shapes of a realistic program, Go's positions (against
//! Go 1.19's own `-m=1` output kept as fixtures), what is refused and how,
//! and that no input makes the parser panic.

use std::collections::BTreeSet;
use std::path::PathBuf;

use proptest::prelude::*;
use workloads::golang::ast::*;
use workloads::golang::syntax::{parse_files, read_and_parse};
use workloads::golang::{GoError, GoErrorKind};

fn parse(src: &str) -> Package {
    match parse_files(&[("p.go".to_string(), src.to_string())]) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn parse_err(src: &str) -> GoError {
    match parse_files(&[("p.go".to_string(), src.to_string())]) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e,
    }
}

// ----- a walk over the whole tree, collecting every position -----

/// What sits at a position: an expression (with a short kind name) or a
/// declared name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Expr(&'static str, u32),
    Name(String),
    CaseColon,
}

#[derive(Default)]
struct Collect {
    items: Vec<(Pos, Item)>,
}

fn kind_name(k: &ExprKind) -> &'static str {
    match k {
        ExprKind::Ident(_) => "ident",
        ExprKind::Int(_) => "int",
        ExprKind::Float(_) => "float",
        ExprKind::Char(_) => "char",
        ExprKind::Str(_) => "str",
        ExprKind::Composite { .. } => "composite",
        ExprKind::FuncLit { .. } => "funclit",
        ExprKind::Selector { .. } => "selector",
        ExprKind::Index { .. } => "index",
        ExprKind::SliceExpr { .. } => "slice",
        ExprKind::TypeAssert { .. } => "assert",
        ExprKind::Call { .. } => "call",
        ExprKind::Deref(_) => "deref",
        ExprKind::AddrOf(_) => "addr",
        ExprKind::Unary { .. } => "unary",
        ExprKind::Binary { .. } => "binary",
        ExprKind::TypeExpr(_) => "type",
    }
}

impl Collect {
    fn name(&mut self, id: &Ident) {
        self.items.push((id.pos, Item::Name(id.name.clone())));
    }

    fn package(&mut self, p: &Package) {
        for f in &p.files {
            for d in &f.decls {
                match d {
                    Decl::Func(f) => {
                        self.name(&f.name);
                        if let Some(r) = &f.recv {
                            self.param(r);
                        }
                        self.sig(&f.sig);
                        self.block(&f.body);
                    }
                    Decl::Type(t) => self.ty(&t.ty),
                    Decl::Var(v) => self.var(v),
                    Decl::Const(c) => self.konst(c),
                }
            }
        }
    }

    fn param(&mut self, p: &Param) {
        if let Some(n) = &p.name {
            self.name(n);
        }
        self.ty(&p.ty);
    }

    fn sig(&mut self, s: &FuncType) {
        s.params.iter().chain(&s.results).for_each(|p| self.param(p));
    }

    fn var(&mut self, v: &VarSpec) {
        v.names.iter().for_each(|n| self.name(n));
        if let Some(t) = &v.ty {
            self.ty(t);
        }
        v.values.iter().for_each(|e| self.expr(e));
    }

    fn konst(&mut self, c: &ConstSpec) {
        c.names.iter().for_each(|n| self.name(n));
        c.values.iter().for_each(|e| self.expr(e));
    }

    fn ty(&mut self, t: &TypeExpr) {
        match t {
            TypeExpr::Name(_) | TypeExpr::Qualified { .. } => {}
            TypeExpr::Pointer(t) | TypeExpr::Slice(t) => self.ty(t),
            TypeExpr::Array { len, elem } => {
                self.expr(len);
                self.ty(elem)
            }
            TypeExpr::Map { key, value } => {
                self.ty(key);
                self.ty(value)
            }
            TypeExpr::Chan { elem, .. } => self.ty(elem),
            TypeExpr::Func(f) => self.sig(f),
            TypeExpr::Struct(fs) => fs.iter().for_each(|f| self.ty(&f.ty)),
            TypeExpr::Interface(ms) => ms.iter().for_each(|m| self.sig(&m.sig)),
        }
    }

    fn block(&mut self, b: &Block) {
        b.stmts.iter().for_each(|s| self.stmt(s));
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Go(e) | StmtKind::Defer(e) => self.expr(e),
            StmtKind::Send { chan, value } => {
                self.expr(chan);
                self.expr(value)
            }
            StmtKind::IncDec { target, .. } => self.expr(target),
            StmtKind::Assign { lhs, rhs, .. } => lhs.iter().chain(rhs).for_each(|e| self.expr(e)),
            StmtKind::Define { lhs, rhs } => {
                lhs.iter().for_each(|n| self.name(n));
                rhs.iter().for_each(|e| self.expr(e))
            }
            StmtKind::Var(v) => self.var(v),
            StmtKind::Const(c) => self.konst(c),
            StmtKind::Type(t) => self.ty(&t.ty),
            StmtKind::Return(es) => es.iter().for_each(|e| self.expr(e)),
            StmtKind::Break(_) | StmtKind::Continue(_) | StmtKind::Fallthrough | StmtKind::Empty => {}
            StmtKind::Block(b) => self.block(b),
            StmtKind::If { init, cond, then, els } => {
                init.iter().for_each(|s| self.stmt(s));
                self.expr(cond);
                self.block(then);
                els.iter().for_each(|s| self.stmt(s));
            }
            StmtKind::For { init, cond, post, body } => {
                init.iter().for_each(|s| self.stmt(s));
                cond.iter().for_each(|e| self.expr(e));
                post.iter().for_each(|s| self.stmt(s));
                self.block(body);
            }
            StmtKind::Range { key, value, x, body, .. } => {
                key.iter().chain(value).for_each(|e| self.expr(e));
                self.expr(x);
                self.block(body);
            }
            StmtKind::Switch { init, tag, cases } => {
                init.iter().for_each(|s| self.stmt(s));
                tag.iter().for_each(|e| self.expr(e));
                for c in cases {
                    c.exprs.iter().for_each(|e| self.expr(e));
                    c.body.iter().for_each(|s| self.stmt(s));
                }
            }
            StmtKind::TypeSwitch { init, bind, x, cases } => {
                init.iter().for_each(|s| self.stmt(s));
                bind.iter().for_each(|n| self.name(n));
                self.expr(x);
                for c in cases {
                    self.items.push((c.colon, Item::CaseColon));
                    c.types.iter().flatten().for_each(|t| self.ty(t));
                    c.body.iter().for_each(|s| self.stmt(s));
                }
            }
            StmtKind::Select(cases) => {
                for c in cases {
                    c.comm.iter().for_each(|s| self.stmt(s));
                    c.body.iter().for_each(|s| self.stmt(s));
                }
            }
            StmtKind::Labeled { stmt, .. } => self.stmt(stmt),
        }
    }

    fn expr(&mut self, e: &Expr) {
        self.items.push((e.pos, Item::Expr(kind_name(&e.kind), e.id.0)));
        match &e.kind {
            ExprKind::Ident(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Char(_) | ExprKind::Str(_) => {}
            ExprKind::Composite { ty, elts } => {
                ty.iter().for_each(|t| self.ty(t));
                for el in elts {
                    el.key.iter().for_each(|k| self.expr(k));
                    self.expr(&el.value);
                }
            }
            ExprKind::FuncLit { sig, body } => {
                self.sig(sig);
                self.block(body)
            }
            ExprKind::Selector { x, .. } => self.expr(x),
            ExprKind::Index { x, index } => {
                self.expr(x);
                self.expr(index)
            }
            ExprKind::SliceExpr { x, lo, hi, max } => {
                self.expr(x);
                lo.iter().chain(hi).chain(max).for_each(|e| self.expr(e));
            }
            ExprKind::TypeAssert { x, ty } => {
                self.expr(x);
                self.ty(ty)
            }
            ExprKind::Call { fun, type_arg, args, .. } => {
                self.expr(fun);
                type_arg.iter().for_each(|t| self.ty(t));
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Deref(x) | ExprKind::AddrOf(x) | ExprKind::Unary { x, .. } => self.expr(x),
            ExprKind::Binary { x, y, .. } => {
                self.expr(x);
                self.expr(y)
            }
            ExprKind::TypeExpr(t) => self.ty(t),
        }
    }
}

fn collect(p: &Package) -> Vec<(Pos, Item)> {
    let mut c = Collect::default();
    c.package(p);
    c.items
}

/// The kinds of expression at `line:col` of file 0.
fn exprs_at(items: &[(Pos, Item)], line: u32, col: u32) -> Vec<&'static str> {
    items
        .iter()
        .filter(|(p, _)| p.line == line && p.col == col)
        .filter_map(|(_, i)| match i {
            Item::Expr(k, _) => Some(*k),
            _ => None,
        })
        .collect()
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-positions")
}

// ----- Go's positions, against Go 1.19's own output -----

/// Every position Go 1.19 printed for an escape decision in a fixture is
/// the position of an expression or declared name of the parsed file.
#[test]
fn every_position_go_reports_is_a_node_of_the_tree() {
    let mut fixtures = 0;
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "go") {
            continue;
        }
        fixtures += 1;
        let pkg = read_and_parse(std::slice::from_ref(&path)).unwrap();
        let positions: BTreeSet<(u32, u32)> = collect(&pkg).iter().map(|(p, _)| (p.line, p.col)).collect();
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let report = std::fs::read_to_string(path.with_extension("m.txt")).unwrap();
        let prefix = format!("./{stem}.go:");
        let mut checked = 0;
        for line in report.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else { continue };
            let mut parts = rest.splitn(3, ':');
            let (l, c, msg) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap().trim());
            let decision = msg.ends_with("escapes to heap")
                || msg.ends_with("does not escape")
                || msg.starts_with("moved to heap: ");
            if !decision {
                continue;
            }
            let at = (l.parse::<u32>().unwrap(), c.parse::<u32>().unwrap());
            assert!(positions.contains(&at), "{stem}.go:{}:{}: no node at Go's position for `{msg}`", at.0, at.1);
            checked += 1;
        }
        assert!(checked >= 30, "{stem}: only {checked} decisions checked");
    }
    assert_eq!(fixtures, 3);
}

/// Each construct's position, as the module comment's table states it
/// (the columns are those of `allocs.m.txt` etc., written out here).
#[test]
fn positions_of_each_construct_match_go() {
    let pkg = read_and_parse(&[fixture_dir().join("allocs.go")]).unwrap();
    let items = collect(&pkg);
    // `p := &T{a: 1}`: &T{...} at the `&` (18:7), the literal at its `{` (18:9).
    assert!(exprs_at(&items, 18, 7).contains(&"addr"));
    assert!(exprs_at(&items, 18, 9).contains(&"composite"));
    // `s := []int{1, 2, 3}`: at the `{`, not the type.
    assert!(exprs_at(&items, 22, 12).contains(&"composite"));
    assert!(exprs_at(&items, 22, 7).is_empty());
    // `m := map[string]int{"a": 1}`
    assert!(exprs_at(&items, 24, 21).contains(&"composite"));
    // `x := new(T)` and `b := make([]int, n)`: at the `(`.
    assert!(exprs_at(&items, 28, 10).contains(&"call"));
    assert!(exprs_at(&items, 32, 11).contains(&"call"));
    // `f := func() int {...}`: at `func`.
    assert!(exprs_at(&items, 44, 7).contains(&"funclit"));
    // `s := a + b` at the `+`; `a + b + "x"` at the outer `+`.
    assert!(exprs_at(&items, 49, 9).contains(&"binary"));
    assert!(exprs_at(&items, 50, 13).contains(&"binary"));
    // `bs := []byte(a)` and `st := string(bs)`: at the `(`.
    assert!(exprs_at(&items, 52, 14).contains(&"call"));
    assert!(exprs_at(&items, 56, 14).contains(&"call"));
    // `fmt.Println(x, y)`: the call (and Go's `... argument`) at the `(`,
    // the selector at the `.`.
    assert!(exprs_at(&items, 61, 13).contains(&"call"));
    assert!(exprs_at(&items, 61, 5).contains(&"selector"));
    // `go func() {...}()`: the literal at `func`.
    assert!(exprs_at(&items, 113, 5).contains(&"funclit"));

    let names = |line: u32, col: u32| -> Vec<String> {
        items
            .iter()
            .filter(|(p, _)| (p.line, p.col) == (line, col))
            .filter_map(|(_, i)| if let Item::Name(n) = i { Some(n.clone()) } else { None })
            .collect()
    };
    // moved to heap: k (`k := 0`), z (`var z int`), n (parameter), r (named result).
    assert_eq!(names(43, 2), ["k"]);
    assert_eq!(names(70, 6), ["z"]);
    assert_eq!(names(76, 12), ["n"]);
    assert_eq!(names(80, 15), ["r"]);

    let pkg = read_and_parse(&[fixture_dir().join("decls.go")]).unwrap();
    let items = collect(&pkg);
    // `switch v := x.(type) { case T: gp = &v }`: moved to heap: v at `case T:`'s colon.
    assert!(items.iter().any(|(p, i)| (p.line, p.col) == (20, 8) && *i == Item::CaseColon));
    // `sink = (&T{a: 1})`: parentheses dropped, `&` keeps its column.
    assert!(exprs_at(&items, 80, 10).contains(&"addr"));
    // `p := &(T{a: 3})`
    assert!(exprs_at(&items, 82, 7).contains(&"addr"));
    // `[]interface{}{1, "a"}`: the literal's `{`, not the interface's.
    assert!(exprs_at(&items, 76, 23).contains(&"composite"));

    let pkg = read_and_parse(&[fixture_dir().join("closures.go")]).unwrap();
    let items = collect(&pkg);
    // `f := t.Val` (method value) at the `.`.
    assert!(exprs_at(&items, 27, 8).contains(&"selector"));
    // `gs = []*T{{a: 1}, {a: 2}}`: the elided literals at their `{`.
    assert!(exprs_at(&items, 42, 12).contains(&"composite"));
    assert!(exprs_at(&items, 42, 20).contains(&"composite"));
}

#[test]
fn positions_of_small_forms() {
    let src = "package main\n\nfunc f(p *T, s []int, m map[int]int, x interface{}) {\n\tq := (*T)(p)\n\t_ = s[1:2]\n\t_ = s[0]\n\t_ = x.(int)\n\t_ = -q.a\n\tg(s...)\n}\n";
    let pkg = parse(src);
    let items = collect(&pkg);
    // `q := (*T)(p)`: a call at the second `(`, its callee the pointer type at `*`.
    assert!(exprs_at(&items, 4, 11).contains(&"call"));
    assert!(exprs_at(&items, 4, 8).contains(&"type"));
    assert!(exprs_at(&items, 5, 7).contains(&"slice"));
    assert!(exprs_at(&items, 6, 7).contains(&"index"));
    assert!(exprs_at(&items, 7, 7).contains(&"assert"));
    assert!(exprs_at(&items, 8, 6).contains(&"unary"));
    let Decl::Func(f) = &pkg.files[0].decls[0] else { panic!() };
    let StmtKind::Expr(Expr { kind: ExprKind::Call { ellipsis, .. }, pos, .. }) = &f.body.stmts[5].kind else {
        panic!("{:?}", f.body.stmts[5])
    };
    assert!(*ellipsis);
    assert_eq!((pos.line, pos.col), (9, 3));
    // Statements: `:=` at the operator, the block's end at its `}`.
    assert_eq!((f.body.stmts[0].pos.line, f.body.stmts[0].pos.col), (4, 4));
    assert_eq!((f.body.end.line, f.body.end.col), (10, 1));
    assert_eq!((f.pos.line, f.pos.col), (3, 1));
}

// ----- shapes -----

const PROGRAM: &str = r#"package main

import (
	"fmt"
	"sync"
)

type Kind int

const (
	KA Kind = iota
	KB
	KC
	_
	KE
)

const (
	big = 1 << (10 * iota)
	kilo
	mega
)

type Node struct {
	val   int `json:"val"`
	left  *Node
	right *Node
	sync.Mutex
}

type Shape interface {
	Area() float64
}

type Sq struct{ s float64 }

func (q *Sq) Area() float64 { return q.s * q.s }

func (n *Node) Insert(v int) *Node {
	if n == nil {
		return &Node{val: v}
	} else if v < n.val {
		n.left = n.left.Insert(v)
	} else {
		n.right = n.right.Insert(v)
	}
	return n
}

func describe(x interface{}) string {
	switch v := x.(type) {
	case nil:
		return "nil"
	case int, int64:
		return fmt.Sprint(v)
	case *Node:
		return "node"
	default:
		return "?"
	}
}

func main() {
	var root *Node
	for i := 0; i < 10; i++ {
		root = root.Insert(i * 7 % 10)
	}
	m := make(map[string][]int, 4)
	m["a"] = append(m["a"], 1_000)
	counts := map[string]int{"x": 1, "y": 2}
	for k, v := range counts {
		_, _ = k, v
	}
	ch := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func(n int) {
		defer wg.Done()
		for j := 0; j < n; j++ {
			ch <- j
		}
		close(done)
	}(3)
	sum := 0
loop:
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				break loop
			}
			sum += v
		case <-done:
			break loop
		default:
		}
	}
	wg.Wait()
	switch {
	case sum > 3:
		fmt.Println("big", sum)
		fallthrough
	case sum > 0:
	}
	s := []Shape{&Sq{2}}
	_ = s[0].Area()
	b := []byte("h\x41\u00e9\n")
	r := '\''
	_, _ = b, r
	fmt.Println(describe(root), KE, mega, `raw\n`)
}
"#;

fn func<'p>(pkg: &'p Package, name: &str) -> &'p FuncDecl {
    pkg.files[0]
        .decls
        .iter()
        .find_map(|d| match d {
            Decl::Func(f) if f.name.name == name => Some(f),
            _ => None,
        })
        .unwrap()
}

#[test]
fn realistic_program_has_the_expected_shape() {
    let pkg = parse(PROGRAM);
    let file = &pkg.files[0];
    let imports: Vec<_> = file.imports.iter().map(|i| (i.path.as_str(), i.name.name.as_str())).collect();
    assert_eq!(imports, [("fmt", "fmt"), ("sync", "sync")]);

    // Const groups: implicit repetition with iota per line.
    let consts: Vec<&ConstSpec> =
        file.decls.iter().filter_map(|d| if let Decl::Const(c) = d { Some(c) } else { None }).collect();
    assert_eq!(consts.len(), 8);
    let first: Vec<_> = consts[..5].iter().map(|c| (c.names[0].name.as_str(), c.iota, c.ty.is_some())).collect();
    assert_eq!(first, [("KA", 0, true), ("KB", 1, true), ("KC", 2, true), ("_", 3, true), ("KE", 4, true)]);
    assert!(matches!(&consts[4].values[0].kind, ExprKind::Ident(n) if n == "iota"));
    assert_eq!(consts[7].iota, 2);
    assert!(matches!(&consts[7].values[0].kind, ExprKind::Binary { op: BinaryOp::Shl, .. }));
    // The repeated values have fresh ids.
    assert_ne!(consts[5].values[0].id, consts[6].values[0].id);

    // The struct: tag dropped, embedded field named by its type.
    let node = file
        .decls
        .iter()
        .find_map(|d| match d {
            Decl::Type(t) if t.name.name == "Node" => Some(t),
            _ => None,
        })
        .unwrap();
    let TypeExpr::Struct(fields) = &node.ty else { panic!() };
    let f: Vec<_> = fields.iter().map(|f| (f.name.name.as_str(), f.embedded)).collect();
    assert_eq!(f, [("val", false), ("left", false), ("right", false), ("Mutex", true)]);
    assert!(matches!(&fields[3].ty, TypeExpr::Qualified { pkg, .. } if pkg.name == "sync"));

    // A method with its receiver; if / else if / else.
    let insert = func(&pkg, "Insert");
    assert_eq!(insert.recv.as_ref().unwrap().name.as_ref().unwrap().name, "n");
    let StmtKind::If { els: Some(els), .. } = &insert.body.stmts[0].kind else { panic!() };
    assert!(matches!(&els.kind, StmtKind::If { els: Some(_), .. }));

    // The type switch: nil as None, a list, default.
    let StmtKind::TypeSwitch { bind, cases, .. } = &func(&pkg, "describe").body.stmts[0].kind else { panic!() };
    assert_eq!(bind.as_ref().unwrap().name, "v");
    assert_eq!(cases.len(), 4);
    assert!(cases[0].types[0].is_none());
    assert_eq!(cases[1].types.len(), 2);
    assert!(cases[3].is_default);

    let main = &func(&pkg, "main").body.stmts;
    let kinds: Vec<&str> = main
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Var(_) => "var",
            StmtKind::For { .. } => "for",
            StmtKind::Define { .. } => "define",
            StmtKind::Assign { .. } => "assign",
            StmtKind::Range { .. } => "range",
            StmtKind::Expr(_) => "expr",
            StmtKind::Go(_) => "go",
            StmtKind::Labeled { .. } => "labeled",
            StmtKind::Switch { .. } => "switch",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "var", "for", "define", "assign", "define", "range", "define", "define", "var", "expr", "go", "define",
            "labeled", "expr", "switch", "define", "assign", "define", "define", "assign", "expr"
        ]
    );
    // make(map[string][]int, 4): the type is the type argument.
    let StmtKind::Define { rhs, .. } = &main[2].kind else { panic!() };
    let ExprKind::Call { type_arg: Some(TypeExpr::Map { .. }), args, .. } = &rhs[0].kind else { panic!() };
    assert_eq!(args.len(), 1);
    // 1_000 loses its separator.
    let StmtKind::Assign { rhs, .. } = &main[3].kind else { panic!() };
    let ExprKind::Call { args, .. } = &rhs[0].kind else { panic!() };
    assert!(matches!(&args[1].kind, ExprKind::Int(t) if t == "1000"));
    // go func(n int) {...}(3) with a defer inside.
    let StmtKind::Go(Expr { kind: ExprKind::Call { fun, .. }, .. }) = &main[10].kind else { panic!() };
    let ExprKind::FuncLit { body, .. } = &fun.kind else { panic!() };
    assert!(matches!(body.stmts[0].kind, StmtKind::Defer(_)));
    // The labeled for with a select: receive with :=, bare receive, default.
    let StmtKind::Labeled { label, stmt } = &main[12].kind else { panic!() };
    assert_eq!(label.name, "loop");
    let StmtKind::For { body, cond: None, .. } = &stmt.kind else { panic!() };
    let StmtKind::Select(cases) = &body.stmts[0].kind else { panic!() };
    assert!(matches!(&cases[0].comm.as_ref().unwrap().kind, StmtKind::Define { lhs, .. } if lhs.len() == 2));
    assert!(matches!(
        &cases[1].comm.as_ref().unwrap().kind,
        StmtKind::Expr(Expr { kind: ExprKind::Unary { op: UnaryOp::Recv, .. }, .. })
    ));
    assert!(cases[2].comm.is_none());
    let StmtKind::If { then, .. } = &cases[0].body[0].kind else { panic!() };
    assert!(matches!(&then.stmts[0].kind, StmtKind::Break(Some(l)) if l.name == "loop"));
    // []byte("h\x41\u00e9\n"): a conversion with a TypeExpr callee; escapes decoded.
    let StmtKind::Define { rhs, .. } = &main[17].kind else { panic!() };
    let ExprKind::Call { fun, args, .. } = &rhs[0].kind else { panic!() };
    assert!(matches!(&fun.kind, ExprKind::TypeExpr(TypeExpr::Slice(_))));
    assert!(matches!(&args[0].kind, ExprKind::Str(s) if s == "hA\u{e9}\n"));
    let StmtKind::Define { rhs, .. } = &main[18].kind else { panic!() };
    assert!(matches!(rhs[0].kind, ExprKind::Char(39)));
    // `raw\n` stays raw.
    let StmtKind::Expr(Expr { kind: ExprKind::Call { args, .. }, .. }) = &main[20].kind else { panic!() };
    assert!(matches!(&args[3].kind, ExprKind::Str(s) if s == "raw\\n"));
}

#[test]
fn expression_ids_are_dense_and_in_source_order() {
    let a = "package main\n\nfunc main() { x := 1 + 2; _ = x }\n".to_string();
    let b = "package main\n\nfunc g() int { return 3 }\n".to_string();
    let pkg = parse_files(&[("a.go".into(), a), ("b.go".into(), b)]).unwrap();
    let mut ids: Vec<(Pos, u32)> = collect(&pkg)
        .into_iter()
        .filter_map(|(p, i)| if let Item::Expr(_, id) = i { Some((p, id)) } else { None })
        .collect();
    // `1 + 2` (the binary first), `1`, `2`, `_`, `x`, then `3` in the second file.
    assert_eq!(pkg.expr_count, 6);
    ids.sort_by_key(|(_, id)| *id);
    assert_eq!(ids.iter().map(|(_, id)| *id).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
    assert_eq!(ids[5].0.file, 1);
    assert_eq!(pkg.pos_text(ids[5].0), "b.go:3:23");
}

// ----- refusals -----

#[test]
fn constructs_outside_the_subset_are_named_at_their_position() {
    let cases: &[(&str, &str, &str)] = &[
        ("package main\n\nfunc main() {\nL:\n\tgoto L\n}\n", "p.go:5:2", "not supported: goto statement"),
        ("package main\n\nfunc Map[T any](x T) T { return x }\n", "p.go:3:9", "not supported: generic type parameters"),
        ("package main\n\ntype Box[T any] struct{ v T }\n", "p.go:3:9", "not supported: generic type parameters"),
        ("package main\n\nvar x = [...]int{1, 2}\n", "p.go:3:9", "not supported: [...]T array type"),
        (
            "package main\n\ntype R interface{ Read() }\ntype RW interface {\n\tR\n\tWrite()\n}\n",
            "p.go:5:2",
            "not supported: embedded interface or type constraint",
        ),
        ("package main\n\nvar c = 1 + 2i\n", "p.go:3:13", "not supported: imaginary literal (complex numbers)"),
        ("package main\n\nimport \"unsafe\"\n", "p.go:3:8", "not supported: import \"unsafe\""),
        ("package main\n\nimport \"net/http\"\n", "p.go:3:8", "not supported: import \"net/http\""),
        ("package main\n\nimport . \"fmt\"\n", "p.go:3:8", "not supported: dot import"),
        ("package lib\n", "p.go:1:9", "not supported: package lib (only package main)"),
        ("package main\n\nvar s = \"\\xff\"\n", "p.go:3:9", "not supported: string literal that is not valid UTF-8"),
    ];
    for (src, at, msg) in cases {
        let e = parse_err(src);
        assert_eq!((e.kind, e.at.as_str(), e.msg.as_str()), (GoErrorKind::NotSupported, *at, *msg), "{src}");
    }
}

#[test]
fn syntax_errors_are_positioned() {
    let cases: &[(&str, &str)] = &[
        ("package main\n\nfunc main() {\n\tx := )\n}\n", "p.go:4:7"),
        ("package main\n\nfunc main() {\n\tvar x int = \n}\n", "p.go:4:12"),
        ("func main() {}\n", "p.go:1:1"),
        ("package main\n\nx := 1\n", "p.go:3:1"),
    ];
    for (src, at) in cases {
        let e = parse_err(src);
        assert_eq!(e.kind, GoErrorKind::Syntax, "{src}: {e}");
        assert!(e.msg.starts_with("syntax error"), "{e}");
        assert_eq!(e.at, *at, "{src}: {e}");
    }
    // `x.(type)` outside a type switch is not Go.
    let e = parse_err("package main\n\nfunc f(x interface{}) { _ = x.(type) }\n");
    assert_eq!(e.kind, GoErrorKind::Syntax, "{e}");
}

#[test]
fn unreadable_files_are_io_errors_naming_the_file() {
    let missing = PathBuf::from("/nonexistent/dir/prog.go");
    let e = read_and_parse(&[missing]).unwrap_err();
    assert_eq!(e.kind, GoErrorKind::Io);
    assert!(e.msg.contains("/nonexistent/dir/prog.go"), "{e}");
    assert_eq!(parse_files(&[]).unwrap_err().kind, GoErrorKind::Io);
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("package main\n\nvar x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    let e = parse_err(&deep);
    assert_eq!(e.kind, GoErrorKind::NotSupported, "{e}");
    // Nesting a real program uses is fine.
    let sum = (0..150).map(|i| i.to_string()).collect::<Vec<_>>().join(" + ");
    parse(&format!("package main\n\nvar x = {sum}\n"));
}

// ----- no input panics -----

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let _ = parse_files(&[("p.go".to_string(), src)]);
    }

    #[test]
    fn arbitrary_go_tokens_never_panic(tokens in prop::collection::vec(prop::sample::select(vec![
        "package", "main", "func", "(", ")", "{", "}", "[", "]", "x", "T", ":=", "=", "+", "*", "&", "<-",
        "chan", "map", "struct", "interface", "go", "defer", "select", "case", "default", ":", ",", ";", "\n",
        "switch", ".(type)", "type", "var", "const", "iota", "1", "'a'", "\"s\"", "`r`", "...", "goto", "L",
        "for", "range", "if", "else", "return", ".",
    ]), 0..80)) {
        let src = format!("package main\n{}", tokens.join(" "));
        let _ = parse_files(&[("p.go".to_string(), src)]);
    }

    #[test]
    fn mutated_programs_never_panic(cut in 0usize..PROGRAM.len(), len in 0usize..40, insert in "\\PC{0,8}") {
        let mut src = PROGRAM.to_string();
        let start = (0..=cut).rev().find(|&i| src.is_char_boundary(i)).unwrap_or(0);
        let end = (start + len).min(src.len());
        let end = (end..=src.len()).find(|&i| src.is_char_boundary(i)).unwrap_or(src.len());
        src.replace_range(start..end, &insert);
        let _ = parse_files(&[("p.go".to_string(), src)]);
    }
}

//! The first stage of the Go front end: parse each `.go` file with
//! tree-sitter-go and lower its concrete syntax tree to the subset's
//! [`ast`](super::ast).
//!
//! tree-sitter-go accepts all of Go (and, being error-tolerant, also much
//! that is not Go). This module turns its tree into the [`Package`] that the
//! checker reads, and refuses, with a positioned [`GoError`], everything
//! else:
//! - a tree-sitter `ERROR` or `MISSING` node is a [`GoErrorKind::Syntax`]
//!   error at the first such node (`syntax error: unexpected X`);
//! - valid Go that the AST does not represent is
//!   `file:line:col: not supported: <construct>` ([`GoErrorKind::NotSupported`]):
//!   `goto`, generics (type parameters and instantiations), `[...]T`
//!   arrays, embedded interfaces and constraint unions, imaginary
//!   literals, imports other than `fmt`, `sync`, `runtime`, `strconv`,
//!   `os`, `time`, `strings` and `errors` (so `unsafe` too), dot and blank
//!   imports, string literals that are not UTF-8, packages other than `main`.
//!
//! What is resolved here rather than later: parentheses (dropped, the inner
//! node keeps its position), string and rune escapes (decoded), `_` in
//! number literals (removed), implicit repetition in `const` groups (the
//! previous spec's type and values re-lowered with fresh ids, `iota` set
//! per line), the type argument of `make` and `new` (moved to
//! [`ExprKind::Call`]'s `type_arg`), and conversions whose type is not a
//! name (`[]byte(s)`, `(*T)(p)`: the callee is an [`ExprKind::TypeExpr`]).
//! Struct tags are dropped. Names (`iota` outside a `const`, method
//! expressions `T.m`) are left to the checker.
//!
//! [`ExprId`]s are handed out in source order (a node before its
//! children), densely over all files of the package.
//!
//! # Positions
//!
//! Each expression carries the position Go's own parser
//! (`cmd/compile/internal/syntax`) gives the node, because that is what
//! `go build -gcflags=-m=1` prints for its escape decisions and the
//! allocation sites must be matched to those lines. Checked against Go
//! 1.19 with the programs (and their `-m=1` output) in
//! `workloads/tests/fixtures/go-positions/`:
//!
//! | construct | Go's position | example `-m=1` line |
//! |---|---|---|
//! | name, literal | first byte | `42 escapes to heap` |
//! | `&x`, `*x`, `-x`, `<-ch` (unary) | the operator (first byte) | `&T{...} escapes to heap` at `&` |
//! | `a + b` (binary) | the operator | `a + b does not escape` at `+` |
//! | `T{...}`, `[]int{...}`, `map[K]V{...}` | the `{` (not the type) | `[]int{...} escapes to heap` at `{` |
//! | elided `{...}` inside a literal (`[]*T{{...}}`) | its `{` | `&T{...} escapes to heap` at the inner `{` |
//! | `f(x)`, `new(T)`, `make(T, n)`, `T(x)`, `[]byte(s)`, `string(b)` | the `(` | `new(T) escapes to heap`, `([]byte)(s) does not escape` |
//! | `... argument` of a variadic call | the call's `(` | `... argument does not escape` |
//! | `func(...) {...}` | the `func` keyword | `func literal escapes to heap` |
//! | `x.f`, `pkg.F`, method value `t.M` | the `.` | `t.M escapes to heap` at `.` |
//! | `x[i]`, `x[lo:hi]` | the `[` | |
//! | `x.(T)` | the `.` | |
//! | `(x)` | dropped: `x`'s own position | `(&T{})` reported at `&` |
//! | `x := ...`, `var x T`, parameter, named result, receiver, range variable | the name | `moved to heap: x` |
//! | variable of a type switch clause `switch v := x.(type) { case T: }` | the clause's `:` ([`TypeCase::colon`]) | `moved to heap: v` at `case T:`'s `:` |
//! | inlined call | every line about the callee's body is at the call's `(` | |
//! | implicit conversion to an interface | not a node of its own: the position of whichever expression Go lowered last (`sink = x` at `sink`; `fmt.Println(x)` at the call's `(`; `fmt.Printf("%d", x)` at the *previous* argument `"%d"`) | `x escapes to heap` |
//!
//! Statements follow the same parser: an assignment, `:=` or `op=` sits at
//! its operator, `x++` at the `++`, a send at its `<-`, an expression
//! statement at its expression, a label at its `:`, a declaration at its
//! keyword, and every other statement (and each `case`) at its keyword.
//! A function declaration sits at `func`; a block's end at its `}`.

use std::path::PathBuf;

use tree_sitter::{Node, Parser};

use super::ast::{
    BinaryOp, Block, CaseClause, ChanDir, ConstSpec, Decl, Element, Expr, ExprId, ExprKind, Field, FuncDecl, FuncType,
    Ident, Import, MethodSpec, Package, Param, Pos, SelectCase, SourceFile, Stmt, StmtKind, TypeCase, TypeExpr,
    TypeSpec, UnaryOp, VarSpec,
};
use super::error::{GoError, GoErrorKind};

/// The standard packages a program may import (what the interpreter models).
pub const SUPPORTED_IMPORTS: [&str; 8] = ["fmt", "sync", "runtime", "strconv", "os", "time", "strings", "errors"];

/// How deeply expressions, types and statements may nest before the parser
/// refuses (it recurses once per level; real programs stay far below).
const MAX_NESTING: u32 = 200;

type Res<T> = Result<T, GoError>;

/// Reads each file and parses them together as one package.
/// An unreadable file is a [`GoErrorKind::Io`] error naming it.
pub fn read_and_parse(paths: &[PathBuf]) -> Result<Package, GoError> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path)
            .map_err(|e| GoError::new(GoErrorKind::Io, "", format!("cannot read {name}: {e}")))?;
        files.push((name, source));
    }
    parse_files(&files)
}

/// Parses `(name, source)` pairs as the files of package `main`, in the
/// order given ([`Pos::file`] indexes it). No files is an
/// [`GoErrorKind::Io`] error (`no Go files`).
pub fn parse_files(files: &[(String, String)]) -> Result<Package, GoError> {
    if files.is_empty() {
        return Err(GoError::new(GoErrorKind::Io, "", "no Go files"));
    }
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_go::LANGUAGE.into())
        .map_err(|e| GoError::new(GoErrorKind::Syntax, "", format!("cannot load the Go grammar: {e}")))?;
    let mut package = Package::default();
    let mut next_id = 0u32;
    for (index, (name, source)) in files.iter().enumerate() {
        let file =
            u32::try_from(index).map_err(|_| GoError::not_supported(format!("{name}:1:1"), "more than 2^32 files"))?;
        let tree = parser
            .parse(source, None)
            .ok_or_else(|| GoError::new(GoErrorKind::Syntax, format!("{name}:1:1"), "syntax error: cannot parse"))?;
        let mut lowerer = Lowerer { src: source, file_name: name, file, next_id, depth: 0 };
        lowerer.check_syntax(tree.root_node())?;
        package.files.push(lowerer.source_file(tree.root_node())?);
        next_id = lowerer.next_id;
    }
    package.expr_count = next_id;
    Ok(package)
}

/// Lowers one file's tree; one method per kind of node.
struct Lowerer<'a> {
    src: &'a str,
    file_name: &'a str,
    file: u32,
    /// The next [`ExprId`] (continues across the files of the package).
    next_id: u32,
    /// Current nesting of expressions, types and statements.
    depth: u32,
}

impl<'a> Lowerer<'a> {
    // ----- positions, text and errors -----

    fn pos(&self, node: Node) -> Pos {
        let p = node.start_position();
        Pos { file: self.file, line: p.row as u32 + 1, col: p.column as u32 + 1 }
    }

    fn at(&self, node: Node) -> String {
        let p = self.pos(node);
        format!("{}:{}:{}", self.file_name, p.line, p.col)
    }

    fn text(&self, node: Node) -> &'a str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn unsupported(&self, node: Node, construct: impl std::fmt::Display) -> GoError {
        GoError::not_supported(self.at(node), construct)
    }

    fn syntax(&self, node: Node, msg: impl std::fmt::Display) -> GoError {
        GoError::new(GoErrorKind::Syntax, self.at(node), format!("syntax error: {msg}"))
    }

    /// A required field; tree-sitter always has it in an error-free tree,
    /// but a missing one is a syntax error rather than a panic.
    fn field(&self, node: Node<'a>, name: &str) -> Res<Node<'a>> {
        node.child_by_field_name(name).ok_or_else(|| self.syntax(node, format!("{} without {name}", node.kind())))
    }

    fn ident(&self, node: Node) -> Ident {
        Ident { name: self.text(node).to_string(), pos: self.pos(node) }
    }

    fn fresh_id(&mut self) -> ExprId {
        let id = ExprId(self.next_id);
        self.next_id += 1;
        id
    }

    fn enter(&mut self, node: Node) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.unsupported(node, format!("nesting deeper than {MAX_NESTING} levels")));
        }
        Ok(())
    }

    /// The first syntax error of the file, as Go would word it.
    fn check_syntax(&self, root: Node) -> Res<()> {
        let Some(bad) = first_error_node(root) else { return Ok(()) };
        if bad.is_missing() {
            let what = if bad.is_named() { bad.kind().replace('_', " ") } else { format!("'{}'", bad.kind()) };
            return Err(self.syntax(bad, format!("missing {what}")));
        }
        // When the ERROR node begins with a complete phrase (`x :=` of
        // `x := )`), the token the grammar could not place is its last;
        // otherwise it is its first (`.(type)` outside a type switch).
        let mut leaf = bad;
        if bad.child(0).is_some_and(|c| c.is_named()) {
            while let Some(child) = leaf.child(leaf.child_count().saturating_sub(1)) {
                leaf = child;
            }
        } else {
            while let Some(child) = leaf.child(0) {
                leaf = child;
            }
        }
        let text = self.text(leaf);
        let shown = if text.is_empty() {
            match self.src.get(leaf.end_byte()..).and_then(|rest| rest.split_whitespace().next()) {
                Some(next) => next.to_string(),
                None => "EOF".to_string(),
            }
        } else {
            text.to_string()
        };
        let shown: String = shown.chars().take(30).collect();
        let shown = if shown.contains('\n') { "newline".to_string() } else { shown };
        Err(self.syntax(leaf, format!("unexpected {shown}")))
    }

    // ----- files and declarations -----

    fn source_file(&mut self, root: Node<'a>) -> Res<SourceFile> {
        let mut file = SourceFile { name: self.file_name.to_string(), imports: Vec::new(), decls: Vec::new() };
        let items = named_children(root);
        match items.first() {
            Some(first) if first.kind() == "package_clause" => self.package_clause(*first)?,
            Some(first) => return Err(self.syntax(*first, "package statement must be first")),
            None => {
                return Err(GoError::new(
                    GoErrorKind::Syntax,
                    format!("{}:1:1", self.file_name),
                    "syntax error: package statement must be first",
                ))
            }
        }
        for item in items.into_iter().skip(1) {
            match item.kind() {
                "import_declaration" => {
                    if !file.decls.is_empty() {
                        return Err(self.syntax(item, "imports must appear before other declarations"));
                    }
                    self.import_declaration(item, &mut file.imports)?
                }
                "function_declaration" => file.decls.push(Decl::Func(self.function_declaration(item)?)),
                "method_declaration" => file.decls.push(Decl::Func(self.method_declaration(item)?)),
                "var_declaration" => file.decls.extend(self.var_specs(item)?.into_iter().map(Decl::Var)),
                "const_declaration" => file.decls.extend(self.const_specs(item)?.into_iter().map(Decl::Const)),
                "type_declaration" => file.decls.extend(self.type_specs(item)?.into_iter().map(Decl::Type)),
                "package_clause" => return Err(self.syntax(item, "unexpected package clause")),
                "empty_statement" => {}
                _ => return Err(self.syntax(item, "non-declaration statement outside function body")),
            }
        }
        Ok(file)
    }

    fn package_clause(&self, clause: Node) -> Res<()> {
        let name =
            named_children(clause).into_iter().next().ok_or_else(|| self.syntax(clause, "missing package name"))?;
        if self.text(name) != "main" {
            return Err(self.unsupported(name, format_args!("package {} (only package main)", self.text(name))));
        }
        Ok(())
    }

    fn import_declaration(&self, decl: Node, imports: &mut Vec<Import>) -> Res<()> {
        for child in named_children(decl) {
            match child.kind() {
                "import_spec" => imports.push(self.import_spec(child)?),
                "import_spec_list" => {
                    for spec in named_children(child) {
                        imports.push(self.import_spec(spec)?);
                    }
                }
                other => return Err(self.syntax(child, format!("unexpected {other} in import"))),
            }
        }
        Ok(())
    }

    fn import_spec(&self, spec: Node) -> Res<Import> {
        let path_node = self.field(spec, "path")?;
        let path = self.string_literal(path_node)?;
        if !SUPPORTED_IMPORTS.contains(&path.as_str()) {
            return Err(self.unsupported(path_node, format_args!("import {:?}", path)));
        }
        let name = match spec.child_by_field_name("name") {
            None => Ident { name: path.rsplit('/').next().unwrap_or(&path).to_string(), pos: self.pos(path_node) },
            Some(n) => match n.kind() {
                "dot" => return Err(self.unsupported(n, "dot import")),
                "blank_identifier" => return Err(self.unsupported(n, "blank import")),
                _ => self.ident(n),
            },
        };
        Ok(Import { path, name })
    }

    fn function_declaration(&mut self, decl: Node<'a>) -> Res<FuncDecl> {
        if let Some(tp) = decl.child_by_field_name("type_parameters") {
            return Err(self.unsupported(tp, "generic type parameters"));
        }
        let name = self.ident(self.field(decl, "name")?);
        let sig = self.signature(decl)?;
        let body = match decl.child_by_field_name("body") {
            Some(b) => self.block(b)?,
            None => return Err(self.unsupported(decl, "function declaration without a body")),
        };
        Ok(FuncDecl { name, recv: None, sig, body, pos: self.pos(decl), noinline: self.has_noinline_pragma(decl) })
    }

    /// Is the declaration directly preceded by a `//go:noinline` line (in
    /// the comments right above it, as Go's compiler reads pragmas)?
    fn has_noinline_pragma(&self, decl: Node<'a>) -> bool {
        let mut node = decl.prev_sibling();
        let mut line = decl.start_position().row;
        while let Some(n) = node.filter(|n| n.kind() == "comment" && n.end_position().row + 1 >= line) {
            if self.text(n).trim_end() == "//go:noinline" {
                return true;
            }
            line = n.start_position().row;
            node = n.prev_sibling();
        }
        false
    }

    fn method_declaration(&mut self, decl: Node<'a>) -> Res<FuncDecl> {
        let receiver = self.field(decl, "receiver")?;
        let mut recv = self.parameter_list(receiver)?;
        if recv.len() != 1 {
            return Err(self.syntax(receiver, "method has no receiver or more than one"));
        }
        let mut func = self.function_declaration(decl)?;
        func.recv = recv.pop();
        Ok(func)
    }

    /// The `parameters` and `result` fields of a function, literal or type.
    fn signature(&mut self, node: Node<'a>) -> Res<FuncType> {
        let params = self.parameter_list(self.field(node, "parameters")?)?;
        let results = match node.child_by_field_name("result") {
            None => Vec::new(),
            Some(r) if r.kind() == "parameter_list" => self.parameter_list(r)?,
            Some(r) => vec![Param { name: None, ty: self.type_expr(r)?, variadic: false }],
        };
        Ok(FuncType { params, results })
    }

    fn parameter_list(&mut self, list: Node<'a>) -> Res<Vec<Param>> {
        let decls = named_children(list);
        let mut params = Vec::new();
        for (i, decl) in decls.iter().enumerate() {
            let ty = self.type_expr(self.field(*decl, "type")?)?;
            match decl.kind() {
                "parameter_declaration" => {
                    let names = children_by_field(*decl, "name");
                    if names.is_empty() {
                        params.push(Param { name: None, ty: ty.clone(), variadic: false });
                    }
                    for name in names {
                        params.push(Param { name: Some(self.ident(name)), ty: ty.clone(), variadic: false });
                    }
                }
                "variadic_parameter_declaration" => {
                    if i + 1 != decls.len() {
                        return Err(self.syntax(*decl, "can only use ... with final parameter in list"));
                    }
                    let name = decl.child_by_field_name("name").map(|n| self.ident(n));
                    params.push(Param { name, ty, variadic: true });
                }
                other => return Err(self.syntax(*decl, format!("unexpected {other} in parameter list"))),
            }
        }
        Ok(params)
    }

    /// The specs of a `var` declaration (one, or a parenthesized group).
    fn var_specs(&mut self, decl: Node<'a>) -> Res<Vec<VarSpec>> {
        let mut specs = Vec::new();
        for child in named_children(decl) {
            let group = if child.kind() == "var_spec_list" { named_children(child) } else { vec![child] };
            for spec in group {
                let names = children_by_field(spec, "name").into_iter().map(|n| self.ident(n)).collect();
                let ty = spec.child_by_field_name("type").map(|t| self.type_expr(t)).transpose()?;
                let values = match spec.child_by_field_name("value") {
                    Some(v) => self.expr_list(v)?,
                    None => Vec::new(),
                };
                specs.push(VarSpec { names, ty, values });
            }
        }
        Ok(specs)
    }

    /// The specs of a `const` declaration, with a group's implicit
    /// repetition filled in and `iota` numbered per line.
    fn const_specs(&mut self, decl: Node<'a>) -> Res<Vec<ConstSpec>> {
        let mut specs = Vec::new();
        // The type and values the next implicit line repeats.
        let mut previous: Option<(Option<Node<'a>>, Node<'a>)> = None;
        for (iota, spec) in named_children(decl).into_iter().enumerate() {
            let names = children_by_field(spec, "name")
                .into_iter()
                .filter(|n| n.kind() == "identifier")
                .map(|n| self.ident(n))
                .collect();
            let ty_node = spec.child_by_field_name("type");
            let (ty_node, values_node) = match (ty_node, spec.child_by_field_name("value")) {
                (_, Some(values)) => {
                    previous = Some((ty_node, values));
                    (ty_node, values)
                }
                (None, None) => match previous {
                    Some(repeated) => repeated,
                    None => return Err(self.syntax(spec, "missing init expr for const declaration")),
                },
                (Some(_), None) => {
                    return Err(self.syntax(spec, "const declaration cannot have type without expression"))
                }
            };
            let ty = ty_node.map(|t| self.type_expr(t)).transpose()?;
            let values = self.expr_list(values_node)?;
            specs.push(ConstSpec { names, ty, values, iota: iota as u64 });
        }
        Ok(specs)
    }

    fn type_specs(&mut self, decl: Node<'a>) -> Res<Vec<TypeSpec>> {
        let mut specs = Vec::new();
        for spec in named_children(decl) {
            if let Some(tp) = spec.child_by_field_name("type_parameters") {
                return Err(self.unsupported(tp, "generic type parameters"));
            }
            let name = self.ident(self.field(spec, "name")?);
            let ty = self.type_expr(self.field(spec, "type")?)?;
            specs.push(TypeSpec { name, ty, alias: spec.kind() == "type_alias" });
        }
        Ok(specs)
    }

    // ----- types -----

    fn type_expr(&mut self, node: Node<'a>) -> Res<TypeExpr> {
        self.enter(node)?;
        let ty = self.type_expr_inner(node);
        self.depth -= 1;
        ty
    }

    fn type_expr_inner(&mut self, node: Node<'a>) -> Res<TypeExpr> {
        Ok(match node.kind() {
            "type_identifier" | "identifier" => TypeExpr::Name(self.ident(node)),
            "qualified_type" => TypeExpr::Qualified {
                pkg: self.ident(self.field(node, "package")?),
                name: self.ident(self.field(node, "name")?),
            },
            "selector_expression" => {
                let operand = self.field(node, "operand")?;
                if operand.kind() != "identifier" {
                    return Err(self.not_a_type(node));
                }
                TypeExpr::Qualified { pkg: self.ident(operand), name: self.ident(self.field(node, "field")?) }
            }
            "pointer_type" => TypeExpr::Pointer(Box::new(self.type_expr(self.only_child(node)?)?)),
            "unary_expression" => {
                if self.text(self.field(node, "operator")?) != "*" {
                    return Err(self.not_a_type(node));
                }
                TypeExpr::Pointer(Box::new(self.type_expr(self.field(node, "operand")?)?))
            }
            "parenthesized_type" | "parenthesized_expression" => self.type_expr(self.only_child(node)?)?,
            "slice_type" => TypeExpr::Slice(Box::new(self.type_expr(self.field(node, "element")?)?)),
            "array_type" => TypeExpr::Array {
                len: Box::new(self.expr(self.field(node, "length")?)?),
                elem: Box::new(self.type_expr(self.field(node, "element")?)?),
            },
            "implicit_length_array_type" => return Err(self.unsupported(node, "[...]T array type")),
            "map_type" => TypeExpr::Map {
                key: Box::new(self.type_expr(self.field(node, "key")?)?),
                value: Box::new(self.type_expr(self.field(node, "value")?)?),
            },
            "channel_type" => {
                let tokens: Vec<&str> = all_children(node).iter().filter(|c| !c.is_named()).map(|c| c.kind()).collect();
                let dir = match tokens.as_slice() {
                    ["<-", "chan", ..] => ChanDir::Recv,
                    ["chan", "<-", ..] => ChanDir::Send,
                    _ => ChanDir::Both,
                };
                TypeExpr::Chan { dir, elem: Box::new(self.type_expr(self.field(node, "value")?)?) }
            }
            "function_type" => TypeExpr::Func(Box::new(self.signature(node)?)),
            "struct_type" => TypeExpr::Struct(self.struct_fields(node)?),
            "interface_type" => TypeExpr::Interface(self.interface_methods(node)?),
            "generic_type" | "index_expression" | "type_instantiation_expression" => {
                return Err(self.unsupported(node, "generic type instantiation"))
            }
            "negated_type" => return Err(self.unsupported(node, "type constraint")),
            _ => return Err(self.not_a_type(node)),
        })
    }

    fn not_a_type(&self, node: Node) -> GoError {
        let text: String = self.text(node).chars().take(40).collect();
        GoError::new(GoErrorKind::Type, self.at(node), format!("{text} is not a type"))
    }

    fn struct_fields(&mut self, node: Node<'a>) -> Res<Vec<Field>> {
        let mut fields = Vec::new();
        let Some(list) = named_children(node).into_iter().find(|c| c.kind() == "field_declaration_list") else {
            return Ok(fields);
        };
        for decl in named_children(list) {
            let ty_node = self.field(decl, "type")?;
            let ty = self.type_expr(ty_node)?;
            let names = children_by_field(decl, "name");
            if names.is_empty() {
                let name = self.embedded_name(ty_node, &ty)?;
                fields.push(Field { name, ty: ty.clone(), embedded: true });
            }
            for name in names {
                fields.push(Field { name: self.ident(name), ty: ty.clone(), embedded: false });
            }
        }
        Ok(fields)
    }

    /// The field name of an embedded field: the type's name (`T`, `*T`, `pkg.T`).
    fn embedded_name(&self, node: Node, ty: &TypeExpr) -> Res<Ident> {
        match ty {
            TypeExpr::Name(name) | TypeExpr::Qualified { name, .. } => Ok(name.clone()),
            TypeExpr::Pointer(inner) => match inner.as_ref() {
                TypeExpr::Name(name) | TypeExpr::Qualified { name, .. } => Ok(name.clone()),
                _ => Err(self.syntax(node, "embedded field type must be a type name or a pointer to one")),
            },
            _ => Err(self.syntax(node, "embedded field type must be a type name or a pointer to one")),
        }
    }

    fn interface_methods(&mut self, node: Node<'a>) -> Res<Vec<MethodSpec>> {
        let mut methods = Vec::new();
        for elem in named_children(node) {
            match elem.kind() {
                "method_elem" => {
                    let name = self.ident(self.field(elem, "name")?);
                    methods.push(MethodSpec { name, sig: self.signature(elem)? });
                }
                _ => return Err(self.unsupported(elem, "embedded interface or type constraint")),
            }
        }
        Ok(methods)
    }

    // ----- statements -----

    fn block(&mut self, node: Node<'a>) -> Res<Block> {
        let mut stmts = Vec::new();
        let mut end = self.pos(node);
        for child in all_children(node) {
            match child.kind() {
                "statement_list" => self.statement_list(child, &mut stmts)?,
                "}" => end = self.pos(child),
                _ => {}
            }
        }
        Ok(Block { stmts, end })
    }

    fn statement_list(&mut self, list: Node<'a>, out: &mut Vec<Stmt>) -> Res<()> {
        for stmt in named_children(list) {
            self.statement(stmt, out)?;
        }
        Ok(())
    }

    /// The statements of a `case`/`default` clause.
    fn clause_body(&mut self, clause: Node<'a>) -> Res<Vec<Stmt>> {
        let mut body = Vec::new();
        if let Some(list) = named_children(clause).into_iter().find(|c| c.kind() == "statement_list") {
            self.statement_list(list, &mut body)?;
        }
        Ok(body)
    }

    /// Lowers one statement into `out` (a grouped declaration gives one
    /// statement per spec).
    fn statement(&mut self, node: Node<'a>, out: &mut Vec<Stmt>) -> Res<()> {
        self.enter(node)?;
        let r = self.statement_inner(node, out);
        self.depth -= 1;
        r
    }

    fn statement_inner(&mut self, node: Node<'a>, out: &mut Vec<Stmt>) -> Res<()> {
        let pos = self.pos(node);
        let kind = match node.kind() {
            "expression_statement"
            | "send_statement"
            | "inc_statement"
            | "dec_statement"
            | "assignment_statement"
            | "short_var_declaration" => {
                out.push(self.simple_statement(node)?);
                return Ok(());
            }
            "var_declaration" => {
                out.extend(self.var_specs(node)?.into_iter().map(|s| Stmt { pos, kind: StmtKind::Var(s) }));
                return Ok(());
            }
            "const_declaration" => {
                out.extend(self.const_specs(node)?.into_iter().map(|s| Stmt { pos, kind: StmtKind::Const(s) }));
                return Ok(());
            }
            "type_declaration" => {
                out.extend(self.type_specs(node)?.into_iter().map(|s| Stmt { pos, kind: StmtKind::Type(s) }));
                return Ok(());
            }
            "go_statement" => StmtKind::Go(self.call_of(node, "go")?),
            "defer_statement" => StmtKind::Defer(self.call_of(node, "defer")?),
            "return_statement" => StmtKind::Return(match named_children(node).into_iter().next() {
                Some(list) => self.expr_list(list)?,
                None => Vec::new(),
            }),
            "break_statement" => StmtKind::Break(self.label_of(node)),
            "continue_statement" => StmtKind::Continue(self.label_of(node)),
            "goto_statement" => return Err(self.unsupported(node, "goto statement")),
            "fallthrough_statement" => StmtKind::Fallthrough,
            "empty_statement" => StmtKind::Empty,
            "block" => StmtKind::Block(self.block(node)?),
            "labeled_statement" => return self.labeled_statement(node, out),
            "if_statement" => self.if_statement(node)?,
            "for_statement" => self.for_statement(node)?,
            "expression_switch_statement" => self.switch_statement(node)?,
            "type_switch_statement" => self.type_switch_statement(node)?,
            "select_statement" => self.select_statement(node)?,
            other => return Err(self.syntax(node, format!("unexpected {}", other.replace('_', " ")))),
        };
        out.push(Stmt { pos, kind });
        Ok(())
    }

    /// A statement where exactly one must stand (an `if`'s else branch, a
    /// labeled statement).
    fn single_statement(&mut self, node: Node<'a>) -> Res<Stmt> {
        let mut out = Vec::new();
        self.statement(node, &mut out)?;
        if out.len() != 1 {
            return Err(self.unsupported(node, "grouped declaration as a single statement"));
        }
        Ok(out.remove(0))
    }

    fn label_of(&self, node: Node) -> Option<Ident> {
        named_children(node).into_iter().find(|c| c.kind() == "label_name").map(|l| self.ident(l))
    }

    fn labeled_statement(&mut self, node: Node<'a>, out: &mut Vec<Stmt>) -> Res<()> {
        let label = self.ident(self.field(node, "label")?);
        let colon = token(node, ":").map_or(label.pos, |c| self.pos(c));
        let stmt = match named_children(node).into_iter().find(|c| c.kind() != "label_name") {
            Some(inner) => self.single_statement(inner)?,
            None => Stmt { pos: colon, kind: StmtKind::Empty },
        };
        out.push(Stmt { pos: colon, kind: StmtKind::Labeled { label, stmt: Box::new(stmt) } });
        Ok(())
    }

    /// The call of a `go` or `defer` statement.
    fn call_of(&mut self, node: Node<'a>, keyword: &str) -> Res<Expr> {
        let Some(inner) = named_children(node).into_iter().next() else {
            return Err(self.syntax(node, format!("missing expression in {keyword}")));
        };
        let call = self.expr(inner)?;
        if !matches!(call.kind, ExprKind::Call { .. }) {
            return Err(self.syntax(inner, format!("expression in {keyword} must be function call")));
        }
        Ok(call)
    }

    /// An expression, send, `++`/`--`, assignment or `:=` statement.
    fn simple_statement(&mut self, node: Node<'a>) -> Res<Stmt> {
        Ok(match node.kind() {
            "expression_statement" => {
                let expr = self.expr(self.only_child(node)?)?;
                Stmt { pos: expr.pos, kind: StmtKind::Expr(expr) }
            }
            "send_statement" => {
                let arrow = token(node, "<-").unwrap_or(node);
                let chan = self.expr(self.field(node, "channel")?)?;
                let value = self.expr(self.field(node, "value")?)?;
                Stmt { pos: self.pos(arrow), kind: StmtKind::Send { chan, value } }
            }
            "inc_statement" | "dec_statement" => {
                let inc = node.kind() == "inc_statement";
                let op = token(node, if inc { "++" } else { "--" }).unwrap_or(node);
                let target = self.expr(self.only_child(node)?)?;
                Stmt { pos: self.pos(op), kind: StmtKind::IncDec { target, inc } }
            }
            "assignment_statement" => {
                let op_node = self.field(node, "operator")?;
                let op = match op_node.kind() {
                    "=" => None,
                    compound => Some(
                        compound
                            .strip_suffix('=')
                            .and_then(binary_op)
                            .ok_or_else(|| self.syntax(op_node, format!("unexpected {compound}")))?,
                    ),
                };
                let lhs = self.expr_list(self.field(node, "left")?)?;
                let rhs = self.expr_list(self.field(node, "right")?)?;
                Stmt { pos: self.pos(op_node), kind: StmtKind::Assign { lhs, op, rhs } }
            }
            "short_var_declaration" => {
                let op = token(node, ":=").unwrap_or(node);
                let lhs = self.define_names(self.field(node, "left")?)?;
                let rhs = self.expr_list(self.field(node, "right")?)?;
                Stmt { pos: self.pos(op), kind: StmtKind::Define { lhs, rhs } }
            }
            other => {
                return Err(self.syntax(
                    node,
                    format!("unexpected {} where a simple statement is expected", other.replace('_', " ")),
                ))
            }
        })
    }

    /// The left side of `:=`: names only.
    fn define_names(&self, list: Node) -> Res<Vec<Ident>> {
        named_children(list)
            .into_iter()
            .map(|n| {
                if n.kind() == "identifier" {
                    Ok(self.ident(n))
                } else {
                    Err(self.syntax(n, format!("non-name {} on left side of :=", self.text(n))))
                }
            })
            .collect()
    }

    fn optional_simple_statement(&mut self, node: Node<'a>, field: &str) -> Res<Option<Box<Stmt>>> {
        match node.child_by_field_name(field) {
            Some(s) => Ok(Some(Box::new(self.simple_statement(s)?))),
            None => Ok(None),
        }
    }

    fn if_statement(&mut self, node: Node<'a>) -> Res<StmtKind> {
        let init = self.optional_simple_statement(node, "initializer")?;
        let cond = self.expr(self.field(node, "condition")?)?;
        let then = self.block(self.field(node, "consequence")?)?;
        let els = match node.child_by_field_name("alternative") {
            Some(alt) => Some(Box::new(self.single_statement(alt)?)),
            None => None,
        };
        Ok(StmtKind::If { init, cond, then, els })
    }

    fn for_statement(&mut self, node: Node<'a>) -> Res<StmtKind> {
        let body_node = self.field(node, "body")?;
        let header = named_children(node).into_iter().find(|c| c.id() != body_node.id());
        Ok(match header {
            None => StmtKind::For { init: None, cond: None, post: None, body: self.block(body_node)? },
            Some(clause) if clause.kind() == "for_clause" => {
                let init = self.optional_simple_statement(clause, "initializer")?;
                let cond = clause.child_by_field_name("condition").map(|c| self.expr(c)).transpose()?;
                let post = self.optional_simple_statement(clause, "update")?;
                StmtKind::For { init, cond, post, body: self.block(body_node)? }
            }
            Some(clause) if clause.kind() == "range_clause" => {
                let define = token(clause, ":=").is_some();
                let mut vars = Vec::new();
                if let Some(left) = clause.child_by_field_name("left") {
                    if define {
                        self.define_names(left)?;
                    }
                    vars = self.expr_list(left)?;
                    if vars.len() > 2 {
                        return Err(self.syntax(left, "range clause permits at most two iteration variables"));
                    }
                }
                let mut vars = vars.into_iter();
                let (key, value) = (vars.next(), vars.next());
                let x = self.expr(self.field(clause, "right")?)?;
                StmtKind::Range { key, value, define, x, body: self.block(body_node)? }
            }
            Some(cond) => {
                let cond = self.expr(cond)?;
                StmtKind::For { init: None, cond: Some(cond), post: None, body: self.block(body_node)? }
            }
        })
    }

    fn switch_statement(&mut self, node: Node<'a>) -> Res<StmtKind> {
        let init = self.optional_simple_statement(node, "initializer")?;
        let tag = node.child_by_field_name("value").map(|v| self.expr(v)).transpose()?;
        let mut cases = Vec::new();
        for clause in named_children(node) {
            match clause.kind() {
                "expression_case" => {
                    let exprs = self.expr_list(self.field(clause, "value")?)?;
                    let body = self.clause_body(clause)?;
                    cases.push(CaseClause { exprs, is_default: false, body, pos: self.pos(clause) });
                }
                "default_case" => {
                    let body = self.clause_body(clause)?;
                    cases.push(CaseClause { exprs: Vec::new(), is_default: true, body, pos: self.pos(clause) });
                }
                _ => {}
            }
        }
        Ok(StmtKind::Switch { init, tag, cases })
    }

    fn type_switch_statement(&mut self, node: Node<'a>) -> Res<StmtKind> {
        let bind = match node.child_by_field_name("alias") {
            Some(alias) => {
                let mut names = self.define_names(alias)?;
                if names.len() != 1 {
                    return Err(self.syntax(alias, "a type switch binds exactly one name"));
                }
                names.pop()
            }
            None => None,
        };
        let init = self.optional_simple_statement(node, "initializer")?;
        let x = self.expr(self.field(node, "value")?)?;
        let mut cases = Vec::new();
        for clause in named_children(node) {
            let is_default = match clause.kind() {
                "type_case" => false,
                "default_case" => true,
                _ => continue,
            };
            let mut types = Vec::new();
            for ty in children_by_field(clause, "type") {
                if !ty.is_named() {
                    continue;
                }
                if matches!(ty.kind(), "type_identifier" | "identifier" | "nil") && self.text(ty) == "nil" {
                    types.push(None);
                } else {
                    types.push(Some(self.type_expr(ty)?));
                }
            }
            let colon = token(clause, ":").map_or(self.pos(clause), |c| self.pos(c));
            let body = self.clause_body(clause)?;
            cases.push(TypeCase { types, is_default, body, pos: self.pos(clause), colon });
        }
        Ok(StmtKind::TypeSwitch { init, bind, x, cases })
    }

    fn select_statement(&mut self, node: Node<'a>) -> Res<StmtKind> {
        let mut cases = Vec::new();
        for clause in named_children(node) {
            let comm = match clause.kind() {
                "communication_case" => Some(Box::new(self.communication(self.field(clause, "communication")?)?)),
                "default_case" => None,
                _ => continue,
            };
            let body = self.clause_body(clause)?;
            cases.push(SelectCase { comm, body, pos: self.pos(clause) });
        }
        Ok(StmtKind::Select(cases))
    }

    /// The send or receive of a `select` case.
    fn communication(&mut self, node: Node<'a>) -> Res<Stmt> {
        if node.kind() != "receive_statement" {
            return self.simple_statement(node);
        }
        let right = self.field(node, "right")?;
        let Some(left) = node.child_by_field_name("left") else {
            let recv = self.expr(right)?;
            return Ok(Stmt { pos: recv.pos, kind: StmtKind::Expr(recv) });
        };
        if let Some(op) = token(node, ":=") {
            let lhs = self.define_names(left)?;
            let rhs = vec![self.expr(right)?];
            Ok(Stmt { pos: self.pos(op), kind: StmtKind::Define { lhs, rhs } })
        } else {
            let op = token(node, "=").unwrap_or(node);
            let lhs = self.expr_list(left)?;
            let rhs = vec![self.expr(right)?];
            Ok(Stmt { pos: self.pos(op), kind: StmtKind::Assign { lhs, op: None, rhs } })
        }
    }

    // ----- expressions -----

    fn expr_list(&mut self, list: Node<'a>) -> Res<Vec<Expr>> {
        named_children(list).into_iter().map(|e| self.expr(e)).collect()
    }

    fn expr(&mut self, node: Node<'a>) -> Res<Expr> {
        self.enter(node)?;
        let e = self.expr_inner(node);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, node: Node<'a>) -> Res<Expr> {
        if node.kind() == "parenthesized_expression" {
            return self.expr(self.only_child(node)?);
        }
        let id = self.fresh_id();
        let mut pos = self.pos(node);
        let kind = match node.kind() {
            "identifier" | "true" | "false" | "nil" | "iota" => ExprKind::Ident(self.text(node).to_string()),
            "int_literal" => ExprKind::Int(self.text(node).replace('_', "")),
            "float_literal" => ExprKind::Float(self.text(node).replace('_', "")),
            "imaginary_literal" => return Err(self.unsupported(node, "imaginary literal (complex numbers)")),
            "rune_literal" => ExprKind::Char(self.rune_literal(node)?),
            "interpreted_string_literal" | "raw_string_literal" => ExprKind::Str(self.string_literal(node)?),
            "composite_literal" => {
                let ty = self.type_expr(self.field(node, "type")?)?;
                let body = self.field(node, "body")?;
                pos = self.pos(body);
                ExprKind::Composite { ty: Some(ty), elts: self.literal_elements(body)? }
            }
            "literal_value" => ExprKind::Composite { ty: None, elts: self.literal_elements(node)? },
            "func_literal" => {
                let sig = self.signature(node)?;
                ExprKind::FuncLit { sig, body: self.block(self.field(node, "body")?)? }
            }
            "selector_expression" => {
                pos = self.token_pos(node, ".");
                let x = Box::new(self.expr(self.field(node, "operand")?)?);
                ExprKind::Selector { x, sel: self.ident(self.field(node, "field")?) }
            }
            "index_expression" => {
                pos = self.token_pos(node, "[");
                let x = Box::new(self.expr(self.field(node, "operand")?)?);
                ExprKind::Index { x, index: Box::new(self.expr(self.field(node, "index")?)?) }
            }
            "slice_expression" => {
                pos = self.token_pos(node, "[");
                let x = Box::new(self.expr(self.field(node, "operand")?)?);
                let mut part = |name: &str| -> Res<Option<Box<Expr>>> {
                    node.child_by_field_name(name).map(|n| self.expr(n).map(Box::new)).transpose()
                };
                let (lo, hi, max) = (part("start")?, part("end")?, part("capacity")?);
                ExprKind::SliceExpr { x, lo, hi, max }
            }
            "type_assertion_expression" => {
                pos = self.token_pos(node, ".");
                let x = Box::new(self.expr(self.field(node, "operand")?)?);
                ExprKind::TypeAssert { x, ty: self.type_expr(self.field(node, "type")?)? }
            }
            "call_expression" => {
                let args = self.field(node, "arguments")?;
                pos = self.pos(args);
                self.call(node, args)?
            }
            "type_conversion_expression" => {
                pos = self.token_pos(node, "(");
                let fun = Box::new(self.callee(self.field(node, "type")?)?);
                let arg = self.expr(self.field(node, "operand")?)?;
                ExprKind::Call { fun, type_arg: None, args: vec![arg], ellipsis: false }
            }
            "unary_expression" => {
                let op = self.field(node, "operator")?;
                pos = self.pos(op);
                let x = Box::new(self.expr(self.field(node, "operand")?)?);
                match op.kind() {
                    "*" => ExprKind::Deref(x),
                    "&" => ExprKind::AddrOf(x),
                    "-" => ExprKind::Unary { op: UnaryOp::Neg, x },
                    "+" => ExprKind::Unary { op: UnaryOp::Plus, x },
                    "!" => ExprKind::Unary { op: UnaryOp::Not, x },
                    "^" => ExprKind::Unary { op: UnaryOp::Xor, x },
                    "<-" => ExprKind::Unary { op: UnaryOp::Recv, x },
                    other => return Err(self.syntax(op, format!("unexpected {other}"))),
                }
            }
            "binary_expression" => {
                let op_node = self.field(node, "operator")?;
                pos = self.pos(op_node);
                let op = binary_op(op_node.kind())
                    .ok_or_else(|| self.syntax(op_node, format!("unexpected {}", op_node.kind())))?;
                let x = Box::new(self.expr(self.field(node, "left")?)?);
                let y = Box::new(self.expr(self.field(node, "right")?)?);
                ExprKind::Binary { op, x, y }
            }
            "type_instantiation_expression" => return Err(self.unsupported(node, "generic function instantiation")),
            kind if is_type_node(kind) => {
                let (type_pos, kind) = self.type_as_expr(node)?;
                pos = type_pos;
                kind
            }
            other => return Err(self.syntax(node, format!("unexpected {}", other.replace('_', " ")))),
        };
        Ok(Expr { id, pos, kind })
    }

    /// A type written where an expression stands (a conversion's callee,
    /// an argument), with Go's position for it: a name stays a name,
    /// `pkg.T` a selector (at its `.`), anything else is an
    /// [`ExprKind::TypeExpr`].
    fn type_as_expr(&mut self, node: Node<'a>) -> Res<(Pos, ExprKind)> {
        Ok(match self.type_expr(node)? {
            TypeExpr::Name(name) => (name.pos, ExprKind::Ident(name.name)),
            TypeExpr::Qualified { pkg, name } => {
                let dot = token(node, ".").map_or(pkg.pos, |dot| self.pos(dot));
                let id = self.fresh_id();
                let x = Box::new(Expr { id, pos: pkg.pos, kind: ExprKind::Ident(pkg.name) });
                (dot, ExprKind::Selector { x, sel: name })
            }
            ty => (self.pos(node), ExprKind::TypeExpr(ty)),
        })
    }

    /// The callee of a call or conversion: `(*T)` is taken as the pointer
    /// type (a call through a dereferenced function pointer, `(*fp)(x)`,
    /// is outside the subset); types become [`ExprKind::TypeExpr`].
    fn callee(&mut self, node: Node<'a>) -> Res<Expr> {
        let mut inner = node;
        while matches!(inner.kind(), "parenthesized_expression" | "parenthesized_type") {
            inner = self.only_child(inner)?;
        }
        let is_pointer_type = inner.kind() == "unary_expression"
            && inner.child_by_field_name("operator").is_some_and(|op| op.kind() == "*")
            && inner.child_by_field_name("operand").is_some_and(|x| self.names_a_type(x));
        if is_pointer_type || is_type_node(inner.kind()) {
            let id = self.fresh_id();
            let (pos, kind) = self.type_as_expr(inner)?;
            return Ok(Expr { id, pos, kind });
        }
        self.expr(node)
    }

    /// Could this expression node only be read as a type name (`T`,
    /// `pkg.T`, `*T`)?
    fn names_a_type(&self, node: Node) -> bool {
        match node.kind() {
            "identifier" | "type_identifier" | "qualified_type" => true,
            "selector_expression" => node.child_by_field_name("operand").is_some_and(|o| o.kind() == "identifier"),
            "parenthesized_expression" | "parenthesized_type" | "pointer_type" => {
                named_children(node).first().is_some_and(|c| self.names_a_type(*c))
            }
            "unary_expression" => {
                node.child_by_field_name("operator").is_some_and(|op| op.kind() == "*")
                    && node.child_by_field_name("operand").is_some_and(|x| self.names_a_type(x))
            }
            _ => false,
        }
    }

    fn call(&mut self, node: Node<'a>, args_node: Node<'a>) -> Res<ExprKind> {
        if let Some(targs) = node.child_by_field_name("type_arguments") {
            return Err(self.unsupported(targs, "generic function instantiation"));
        }
        let fun_node = self.field(node, "function")?;
        let fun = self.callee(fun_node)?;
        let takes_type = fun_node.kind() == "identifier" && matches!(self.text(fun_node), "make" | "new");
        let arg_nodes = named_children(args_node);
        let mut type_arg = None;
        let mut args = Vec::new();
        let mut ellipsis = false;
        for (i, arg) in arg_nodes.iter().enumerate() {
            if i == 0 && takes_type {
                type_arg = Some(self.type_expr(*arg)?);
                continue;
            }
            if arg.kind() == "variadic_argument" {
                if i + 1 != arg_nodes.len() {
                    return Err(self.syntax(*arg, "can only use ... with final argument in list"));
                }
                ellipsis = true;
                args.push(self.expr(self.only_child(*arg)?)?);
            } else {
                args.push(self.expr(*arg)?);
            }
        }
        Ok(ExprKind::Call { fun: Box::new(fun), type_arg, args, ellipsis })
    }

    /// The elements of a `{...}` literal value.
    fn literal_elements(&mut self, body: Node<'a>) -> Res<Vec<Element>> {
        let mut elts = Vec::new();
        for elt in named_children(body) {
            match elt.kind() {
                "literal_element" => elts.push(Element { key: None, value: self.literal_element(elt)? }),
                "keyed_element" => {
                    let key = self.literal_element(self.field(elt, "key")?)?;
                    let value = self.literal_element(self.field(elt, "value")?)?;
                    elts.push(Element { key: Some(key), value });
                }
                other => return Err(self.syntax(elt, format!("unexpected {other} in composite literal"))),
            }
        }
        Ok(elts)
    }

    fn literal_element(&mut self, node: Node<'a>) -> Res<Expr> {
        if node.kind() == "literal_element" {
            self.expr(self.only_child(node)?)
        } else {
            self.expr(node)
        }
    }

    // ----- literals -----

    fn string_literal(&self, node: Node) -> Res<String> {
        let text = self.text(node);
        let bytes = if node.kind() == "raw_string_literal" {
            let body = text.strip_prefix('`').and_then(|t| t.strip_suffix('`'));
            let body = body.ok_or_else(|| self.syntax(node, "raw string literal not terminated"))?;
            return Ok(body.replace('\r', ""));
        } else {
            let body = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
            let body = body.ok_or_else(|| self.syntax(node, "string literal not terminated"))?;
            unescape(body, '"').map_err(|msg| GoError::new(GoErrorKind::Syntax, self.at(node), msg))?
        };
        String::from_utf8(bytes).map_err(|_| self.unsupported(node, "string literal that is not valid UTF-8"))
    }

    fn rune_literal(&self, node: Node) -> Res<i32> {
        let text = self.text(node);
        let body = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
        let body = body.ok_or_else(|| self.syntax(node, "rune literal not terminated"))?;
        let mut chars = body.chars();
        let unit = next_unit(&mut chars, '\'').map_err(|msg| GoError::new(GoErrorKind::Syntax, self.at(node), msg))?;
        if chars.next().is_some() {
            return Err(GoError::new(GoErrorKind::Syntax, self.at(node), "more than one character in rune literal"));
        }
        Ok(match unit {
            Some(Unit::Byte(b)) => i32::from(b),
            Some(Unit::Char(c)) => c as i32,
            None => {
                return Err(GoError::new(
                    GoErrorKind::Syntax,
                    self.at(node),
                    "empty rune literal or unescaped ' in rune literal",
                ))
            }
        })
    }

    // ----- small helpers over nodes -----

    /// The single named child of a wrapper node (parentheses, `*T`, ...).
    fn only_child(&self, node: Node<'a>) -> Res<Node<'a>> {
        named_children(node).into_iter().next().ok_or_else(|| self.syntax(node, format!("empty {}", node.kind())))
    }

    /// The position of a token child (`.`, `[`, `(`), else of the node.
    fn token_pos(&self, node: Node, kind: &str) -> Pos {
        self.pos(token(node, kind).unwrap_or(node))
    }
}

/// The first `ERROR` or `MISSING` node in document order.
fn first_error_node(root: Node) -> Option<Node> {
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return Some(node);
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

/// All children, comments left out.
fn all_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.children(&mut cursor).filter(|c| !c.is_extra()).collect()
}

/// The named children, comments left out.
fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).filter(|c| !c.is_extra()).collect()
}

fn children_by_field<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children_by_field_name(field, &mut cursor).filter(|c| !c.is_extra()).collect()
}

/// The first anonymous child of the given kind (a token such as `.`).
fn token<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    all_children(node).into_iter().find(|c| !c.is_named() && c.kind() == kind)
}

/// Node kinds that are types (and so, in expression position, a type
/// used as a value: a conversion's callee or an argument of `make`).
fn is_type_node(kind: &str) -> bool {
    matches!(
        kind,
        "type_identifier"
            | "qualified_type"
            | "pointer_type"
            | "slice_type"
            | "array_type"
            | "implicit_length_array_type"
            | "map_type"
            | "channel_type"
            | "function_type"
            | "struct_type"
            | "interface_type"
            | "parenthesized_type"
            | "generic_type"
            | "negated_type"
    )
}

fn binary_op(text: &str) -> Option<BinaryOp> {
    Some(match text {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Rem,
        "&" => BinaryOp::And,
        "|" => BinaryOp::Or,
        "^" => BinaryOp::Xor,
        "<<" => BinaryOp::Shl,
        ">>" => BinaryOp::Shr,
        "&^" => BinaryOp::AndNot,
        "&&" => BinaryOp::LogAnd,
        "||" => BinaryOp::LogOr,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::Le,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::Ge,
        _ => return None,
    })
}

/// One unit of a string or rune literal's body: a byte escape (`\xff`,
/// `\377`) or a character (written, or a `\u`/`\U`/single-letter escape).
enum Unit {
    Byte(u8),
    Char(char),
}

/// Decodes the body of an interpreted string literal (between its quotes)
/// to its bytes.
fn unescape(body: &str, quote: char) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(unit) = next_unit(&mut chars, quote)? {
        match unit {
            Unit::Byte(b) => out.push(b),
            Unit::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Ok(out)
}

/// The next unit of a literal body, `None` at its end; `quote` is the
/// literal's quote (the only quote that may be escaped).
fn next_unit(chars: &mut std::str::Chars, quote: char) -> Result<Option<Unit>, String> {
    let Some(c) = chars.next() else { return Ok(None) };
    if c != '\\' {
        return Ok(Some(Unit::Char(c)));
    }
    let escaped = chars.next().ok_or("escape sequence not terminated")?;
    let simple = match escaped {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        c if c == quote => Some(c),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok(Some(Unit::Char(c)));
    }
    let mut digits = |n: usize, radix: u32, first: Option<char>| -> Result<u32, String> {
        let mut value = 0u32;
        for i in 0..n {
            let d = if i == 0 && first.is_some() { first } else { chars.next() };
            let d = d.and_then(|d| d.to_digit(radix)).ok_or("invalid character in escape sequence")?;
            value = value * radix + d;
        }
        Ok(value)
    };
    match escaped {
        '0'..='7' => {
            let v = digits(3, 8, Some(escaped))?;
            u8::try_from(v).map(|b| Some(Unit::Byte(b))).map_err(|_| "octal escape value > 255".to_string())
        }
        'x' => Ok(Some(Unit::Byte(digits(2, 16, None)? as u8))),
        'u' | 'U' => {
            let v = digits(if escaped == 'u' { 4 } else { 8 }, 16, None)?;
            char::from_u32(v)
                .map(|c| Some(Unit::Char(c)))
                .ok_or_else(|| "escape sequence is invalid Unicode code point".to_string())
        }
        _ => Err("unknown escape sequence".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_value(src: &str) -> Result<ExprKind, GoError> {
        let pkg = parse_files(&[("t.go".to_string(), format!("package main\n\nvar v = {src}\n"))])?;
        match &pkg.files[0].decls[0] {
            Decl::Var(spec) => Ok(spec.values[0].kind.clone()),
            other => panic!("{other:?}"),
        }
    }

    fn string(src: &str) -> String {
        match one_value(src) {
            Ok(ExprKind::Str(s)) => s,
            other => panic!("{src}: {other:?}"),
        }
    }

    fn rune(src: &str) -> i32 {
        match one_value(src) {
            Ok(ExprKind::Char(c)) => c,
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn string_escapes_are_decoded() {
        assert_eq!(string(r#""a\tb\n\\\"""#), "a\tb\n\\\"");
        assert_eq!(string(r#""\x41\102\u00e9\U0001F600""#), "AB\u{e9}\u{1F600}");
        assert_eq!(string(r#""\a\b\f\r\v""#), "\u{7}\u{8}\u{c}\r\u{b}");
        assert_eq!(string(r#""\xc3\xa9""#), "\u{e9}");
        assert_eq!(string("`a\\n\r\nb`"), "a\\n\nb");
    }

    #[test]
    fn rune_values_are_decoded() {
        assert_eq!(rune("'a'"), 97);
        assert_eq!(rune("'\u{e9}'"), 0xe9);
        assert_eq!(rune(r"'\''"), 39);
        assert_eq!(rune(r"'\xff'"), 255);
        assert_eq!(rune(r"'\377'"), 255);
        assert_eq!(rune(r"'\u12e4'"), 0x12e4);
        assert_eq!(rune(r"'\n'"), 10);
    }

    #[test]
    fn bad_escapes_are_syntax_errors() {
        for src in [r#""\q""#, r#""\'""#, r"'\400'", r"'\uD800'"] {
            let e = one_value(src).unwrap_err();
            assert_eq!(e.kind, GoErrorKind::Syntax, "{src}: {e}");
            assert_eq!(e.at, "t.go:3:9", "{src}: {e}");
        }
        // tree-sitter already refuses two characters in a rune literal.
        assert_eq!(one_value("'ab'").unwrap_err().kind, GoErrorKind::Syntax);
    }

    #[test]
    fn number_literals_lose_their_separators() {
        assert!(matches!(one_value("0x_FF_FF").unwrap(), ExprKind::Int(t) if t == "0xFFFF"));
        assert!(matches!(one_value("1_000.5e3").unwrap(), ExprKind::Float(t) if t == "1000.5e3"));
    }
}

//! gcwb's own static escape analysis of a Go program (`--escape gcwb`):
//! for every allocation site the interpreter reports (a [`SiteKind`] at a
//! [`Pos`]), whether Go's rules put it on the heap or the stack, and why.
//! It needs no Go toolchain; `tests/go_escape_static.rs` compares it, site
//! by site, with what Go 1.19's compiler printed (`-gcflags=-m=1`).
//!
//! # The model (after Go 1.19's `cmd/compile/internal/escape`)
//!
//! A graph of *locations* (variables, allocations, temporaries and the
//! heap) with dereference-counted edges ([`graph`]): `p = &x` is an edge
//! `p ← x` with count −1, `p = q` count 0, `p = *q` count 1. The solver
//! walks back from every location; a location whose address reaches one
//! that outlives it escapes, and then everything it points to escapes
//! too. What outlives what: the heap outlives everything; so does a
//! function's result (callers may keep it), except a closure called
//! directly where it is defined; a variable outlives what is declared in
//! a loop nested deeper than it in the same function, and what a closure
//! nested in its function declares.
//!
//! The edges ([`walk`]) are Go's: a store through a pointer, into a slice
//! element, a map, a global, a channel send, `panic`, `append`'s
//! appended values (and the appendee's contents when the elements hold
//! pointers), the arguments of the `fmt` functions, of calls through
//! interfaces or func values (unknown callees), everything a `go`
//! statement passes (its closure is on the heap), flow to the heap. A
//! closure holds its captured variables' values or, captured by reference
//! (the checker's rule: reassigned or over 128 bytes; and, as in Go, a
//! `range` loop's variables, which every iteration assigns), their
//! addresses.
//! Converting a non-pointer-shaped value to an interface allocates a box
//! holding it. Slicing an array takes its address. A value with no
//! pointers carries nothing. Go's size rules are applied up front: `new`,
//! `&T{}` and `make([]T, n)` over 64 KiB (`ir.MaxImplicitStackVarSize`),
//! `make` of a non-constant size, and declared variables over 10 MiB
//! (Go 1.19's `ir.MaxStackVarSize`) are on the heap whatever the flow.
//! Some sites are decided by rule, outside the graph: `make(chan)` is
//! always on the heap (Go never reports it); `s += t` on strings is on the
//! heap (Go's escape analysis never sees that concatenation, so it prints
//! nothing, and walk builds it with no stack buffer); the inner `+` of a
//! chain `a + b + c` is on the stack (Go concatenates a chain at once, at
//! its last `+`: the interpreter's intermediate string does not exist in
//! Go, and it is dead at once).
//!
//! Functions are analyzed bottom-up over the call graph's strongly
//! connected components, as Go does ([`program`]): a component's
//! functions and their closures share one graph, calls among them flow
//! into each other's parameters, and a call to a function analyzed
//! before uses its parameters' *leaks* (to the heap, or to a result, with
//! a dereference count), Go's escape tags. Go's devirtualization is
//! modeled: calling a method through a local interface variable that was
//! initialized from a concrete value (never reassigned) calls the
//! concrete method (and Go 1.19 does not inline such a call).
//!
//! # Inlining
//!
//! Go inlines small functions ([`inline`]: budget 80, no `go`, `defer`,
//! `select` or local types (`recover` is outside the subset); loops and
//! closures are allowed in Go 1.19) and decides each inlined copy of an allocation again in its
//! caller. The analysis does the same: an inlined call walks the callee's
//! body in the caller's graph with new locations (its parameters and
//! results become the caller's locals, at the call's loop depth), and
//! each copy of a site is decided there, and reported at the outermost
//! call in the function being compiled, as Go prints it
//! ([`Decisions::reports`] keeps every copy's decision for the comparison
//! with Go).
//!
//! The interpreter does not inline: it runs every call out of line and
//! asks once per site, at the site's own position. So
//! [`Decisions::placement`] gives a site the decision of its function's
//! own (out-of-line) body, the one that is sound whoever calls it, with
//! one exception: when that body never runs out of line in Go (every call
//! to it is inlined, it is never used as a value, called by a `go`
//! statement or through an interface, and it is not `main` or `init`)
//! and every inlined copy escapes, Go allocates it on the heap at every
//! execution, and so does the interpreter. The other way round is not
//! followed: when every inlined copy stays on the stack but the body's
//! own decision is the heap (typically a constructor returning its
//! allocation), Go allocates on its callers' stacks, but in the
//! interpreter the callee's frame is gone when the caller uses the block,
//! so the site is on the heap (a stack placement there would make the
//! trace unsound). Such sites are where gcwb's counts of heap
//! allocations exceed Go's.
//!
//! # Where it departs from Go
//!
//! - Inlining costs are counted on gcwb's AST, not Go's IR (see
//!   [`inline`]): exact on the corpus, but a construct it does not cover
//!   may be a node or two off, which matters only near the budget.
//! - Go's `leaking param content`, `transient` locations, the `-m=2`
//!   explanations, method values and `defer` wrappers are simplified: a
//!   method value's receiver goes to the heap; a deferred call's
//!   arguments stay (top level) or go to the heap (in a loop).
//! - Go's static values (for calls of closures bound to variables and
//!   for devirtualization) are followed only through local variables of
//!   the same function that are never reassigned and never addressed.
//! - A declared variable Go 1.19 keeps on the stack (up to 10 MiB) but
//!   larger than gcwb's trace model allows a stack variable
//!   ([`crate::model::MAX_STACK_VAR_BYTES`], 128 KiB) is placed on the
//!   heap by [`Decisions::placement`]; its report keeps Go's verdict.
//! - Package-level initializers Go lays out as static data (constant
//!   composite literals and their addresses) allocate nothing in Go and
//!   print nothing; the interpreter allocates them, on the heap.
//! - A string conversion or concatenation that does not escape still
//!   goes to the heap at run time when it is longer than 32 bytes (the
//!   runtime's stack buffer): this module says [`Placement::Stack`] for
//!   "does not escape" and leaves the length rule to the interpreter.

pub mod graph;
pub mod inline;
pub mod layout;
pub mod program;
pub mod walk;

use std::collections::{BTreeMap, HashMap, HashSet};

use self::graph::Leaks;
use self::inline::Inlining;
pub use self::program::Defs;
use self::walk::Walker;
use super::ast::{Decl, Package, Pos};
use super::check::{FuncId, Info};
use super::interp::SiteKind;
use crate::model::Placement;

/// One decision for a site, with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub placement: Placement,
    pub reason: String,
}

/// One decision as Go's `-m=1` would print it: a site in a function's own
/// body, or a copy of it inlined into another function (reported at the
/// outermost inlined call).
#[derive(Clone, Debug)]
pub struct Report {
    pub kind: SiteKind,
    /// The site's own position (what the interpreter asks about).
    pub site: Pos,
    /// Where Go prints it: the site, or the call it was inlined at.
    pub at: Pos,
    pub inlined: bool,
    pub escapes: bool,
    pub reason: String,
    /// For a [`SiteKind::Var`]: the variable's name, and whether the
    /// interpreter allocates it (its address is taken or a closure
    /// captures it by reference).
    pub var_name: Option<String>,
    pub addressed: bool,
    /// For a [`SiteKind::Var`]: the variable's size in bytes.
    pub var_bytes: u64,
    /// Go prints this kind of decision (`false` for rule-decided sites
    /// Go never mentions).
    pub printed: bool,
}

/// Whether Go inlines a function, as this analysis judges it.
#[derive(Clone, Debug)]
pub struct InlineVerdict {
    pub name: String,
    /// The declaration's `func` (or the literal's).
    pub pos: Pos,
    pub literal: bool,
    pub inlinable: bool,
    /// The cost, or why not.
    pub why: String,
    /// The cost counted, when the body was counted to its end.
    pub cost: Option<i32>,
}

/// The analysis's decisions for one program.
#[derive(Clone, Debug, Default)]
pub struct Decisions {
    sites: BTreeMap<(SiteKind, Pos), Decision>,
    reports: Vec<Report>,
    inlining: Vec<InlineVerdict>,
}

impl Decisions {
    /// The placement for the allocation at a site: [`Placement::Heap`] or
    /// [`Placement::Stack`]; a site the analysis never saw is on the heap.
    pub fn placement(&self, kind: SiteKind, pos: Pos) -> Placement {
        self.sites.get(&(kind, pos)).map_or(Placement::Heap, |d| d.placement)
    }

    /// The decision for a site and its reason.
    pub fn decision(&self, kind: SiteKind, pos: Pos) -> Option<&Decision> {
        self.sites.get(&(kind, pos))
    }

    /// Every site and its decision, in kind and position order.
    pub fn sites(&self) -> impl Iterator<Item = (SiteKind, Pos, &Decision)> {
        self.sites.iter().map(|(&(k, p), d)| (k, p, d))
    }

    /// Every decision as Go would print it (out-of-line and inlined copies).
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// Inlinability of every function.
    pub fn inlining(&self) -> &[InlineVerdict] {
        &self.inlining
    }
}

/// Analyzes the checked program.
pub fn analyze(pkg: &Package, info: &Info) -> Decisions {
    let defs = Defs::build(pkg, info);
    let (order, self_rec) = program::bottom_up(info, &defs);
    let inl = inline::analyze(pkg, info, &defs, &order, &self_rec);
    let mut tags: HashMap<FuncId, Vec<Leaks>> = HashMap::new();
    let mut reports = Vec::new();
    let mut out_of_line: HashSet<FuncId> = HashSet::new();
    let mut site_func: HashMap<(SiteKind, Pos), FuncId> = HashMap::new();
    for scc in &order {
        let mut w = Walker::new(pkg, info, &inl, &defs, &tags);
        for &f in scc {
            w.prepare(f, None);
        }
        for &f in scc {
            w.walk_decl(f);
        }
        w.g.solve();
        let new_tags: Vec<(FuncId, Vec<Leaks>)> =
            scc.iter().map(|&f| (f, w.sigs[&f].params.iter().map(|&l| w.g.locs[l].leaks.clone()).collect())).collect();
        collect(&w, info, true, &mut reports, &mut site_func);
        out_of_line.extend(w.called_out_of_line.iter().copied());
        drop(w);
        tags.extend(new_tags);
    }
    // Package-level initializers: stored in globals, on the heap.
    {
        let mut w = Walker::new(pkg, info, &inl, &defs, &tags);
        w.walk_globals(info.init_vars);
        w.g.solve();
        collect(&w, info, true, &mut reports, &mut site_func);
    }
    let runs_out_of_line = |f: FuncId| {
        let fi = &info.funcs[f.0 as usize];
        let method_name = fi.name.rsplit('.').next().unwrap_or("");
        f == info.main
            || info.inits.contains(&f)
            || fi.lit.is_some()
            || out_of_line.contains(&f)
            || defs.func_values.contains(&f)
            || (fi.recv.is_some() && defs.iface_methods.contains(method_name))
            || !inl.inlinable(f)
    };
    let sites = decide(&reports, &site_func, &runs_out_of_line);
    Decisions { sites, reports, inlining: inline_verdicts(pkg, info, &inl) }
}

/// Turns a solved batch's sites into reports.
fn collect(
    w: &Walker,
    info: &Info,
    printed: bool,
    reports: &mut Vec<Report>,
    site_func: &mut HashMap<(SiteKind, Pos), FuncId>,
) {
    for s in &w.sites {
        let loc = &w.g.locs[s.loc];
        let (var_name, addressed, var_bytes) = match s.var {
            Some(v) => {
                let var = &info.vars[v.0 as usize];
                (Some(var.name.clone()), var.boxed, layout::size_of(&info.types, var.ty))
            }
            None => (None, false, 0),
        };
        let reason = match (&loc.why, loc.escapes) {
            _ if !s.printed => "package-level data Go lays out statically (it allocates nothing)".to_string(),
            (Some(w), true) => w.clone(),
            (None, true) => "flows to the heap".to_string(),
            _ => "does not escape".to_string(),
        };
        site_func.entry((s.kind, s.pos)).or_insert(s.func);
        reports.push(Report {
            kind: s.kind,
            site: s.pos,
            at: s.inlined_at.unwrap_or(s.pos),
            inlined: s.inlined_at.is_some(),
            escapes: loc.escapes,
            reason,
            var_name,
            addressed,
            var_bytes,
            printed: printed && s.printed,
        });
    }
    for s in &w.fixed {
        site_func.entry((s.kind, s.pos)).or_insert(s.func);
        reports.push(Report {
            kind: s.kind,
            site: s.pos,
            at: s.inlined_at.unwrap_or(s.pos),
            inlined: s.inlined_at.is_some(),
            escapes: s.placement == Placement::Heap,
            reason: s.why.clone(),
            var_name: None,
            addressed: false,
            var_bytes: 0,
            printed: false,
        });
    }
}

/// One placement per site: see the module comment ("Inlining").
fn decide(
    reports: &[Report],
    site_func: &HashMap<(SiteKind, Pos), FuncId>,
    runs_out_of_line: &dyn Fn(FuncId) -> bool,
) -> BTreeMap<(SiteKind, Pos), Decision> {
    // Per site: its out-of-line reports, and its inlined copies.
    type OwnAndCopies<'r> = (Vec<&'r Report>, Vec<&'r Report>);
    let mut by_site: BTreeMap<(SiteKind, Pos), OwnAndCopies> = BTreeMap::new();
    for r in reports {
        let e = by_site.entry((r.kind, r.site)).or_default();
        if r.inlined {
            e.1.push(r);
        } else {
            e.0.push(r);
        }
    }
    let verdict = |escapes: bool, reason: String| Decision {
        placement: if escapes { Placement::Heap } else { Placement::Stack },
        reason,
    };
    let mut out = BTreeMap::new();
    for (key, (own, copies)) in by_site {
        // Several reports of one kind at one position (`s += a + b`): the
        // heap wins.
        let own_pick = own.iter().find(|r| r.escapes).or(own.first()).copied();
        let all_copies_escape = !copies.is_empty() && copies.iter().all(|r| r.escapes);
        let only_inlined = site_func.get(&key).is_some_and(|&f| !runs_out_of_line(f));
        let d = match own_pick {
            Some(r) if !r.escapes && all_copies_escape && only_inlined => {
                verdict(true, format!("inlined at every call, and escapes in each: {}", copies[0].reason))
            }
            // gcwb's trace model keeps declared variables on the stack only
            // up to its own limit (128 KiB), below Go 1.19's 10 MiB.
            Some(r) if !r.escapes && r.kind == SiteKind::Var && r.var_bytes > crate::model::MAX_STACK_VAR_BYTES => {
                verdict(
                    true,
                    format!(
                        "Go 1.19 keeps it on the stack (it is under 10 MiB), but gcwb's traces allow a stack \
                         variable only up to {} bytes",
                        crate::model::MAX_STACK_VAR_BYTES
                    ),
                )
            }
            Some(r) => verdict(r.escapes, r.reason.clone()),
            None => {
                let any = copies.iter().find(|r| r.escapes).or(copies.first()).copied();
                match any {
                    Some(r) => verdict(r.escapes, r.reason.clone()),
                    None => continue,
                }
            }
        };
        out.insert(key, d);
    }
    out
}

fn inline_verdicts(pkg: &Package, info: &Info, inl: &Inlining) -> Vec<InlineVerdict> {
    let mut out = Vec::new();
    for (i, fi) in info.funcs.iter().enumerate() {
        let declared =
            fi.decl.is_some_and(|(f, d)| matches!(pkg.files.get(f).and_then(|x| x.decls.get(d)), Some(Decl::Func(_))));
        if !declared && fi.lit.is_none() {
            continue;
        }
        let (inlinable, why) = match (inl.cost[i], &inl.why_not[i]) {
            (Some(c), _) => (true, format!("cost {c}")),
            (None, Some(w)) => (false, w.clone()),
            (None, None) => (false, "not judged".to_string()),
        };
        out.push(InlineVerdict {
            name: fi.name.clone(),
            pos: fi.pos,
            literal: fi.lit.is_some(),
            inlinable,
            why,
            cost: inl.counted[i],
        });
    }
    out
}

//! The location graph of the escape analysis and its solver, after Go's
//! `cmd/compile/internal/escape` (`escape.go`, `solve.go`).
//!
//! A *location* is a variable or an allocation (or a temporary, or the
//! heap itself). An edge `dst ← src` with a dereference count `d` says
//! that `dst` may hold `*^d src`: `d = -1` is `dst = &src`, `0` a copy of
//! the value, `1` a load through it. The solver walks backwards from
//! every location (a *root*) along the edges, keeping the least
//! dereference count to each location it reaches; a location whose
//! address (count < 0) reaches a root that *outlives* it escapes, and
//! from then on is a root that outlives everything (what it points to
//! escapes too). Parameters reached from the heap or from their own
//! function's results record a *leak*, the summary callers use.

use std::rc::Rc;

/// A location's index; [`HEAP`] is the heap.
pub type LocId = usize;

/// The heap: what flows into it escapes.
pub const HEAP: LocId = 0;

/// A compiled function's index in [`Graph::fns`] (a declared function, a
/// closure body, or the package initializer). Inlined bodies belong to
/// the function they are inlined into, as in Go.
pub type FnId = usize;

/// A compiled function: its enclosing function (for closures) and whether
/// it is a closure called directly where it is defined.
#[derive(Clone, Debug, Default)]
pub struct Fn {
    pub parent: Option<FnId>,
    pub closure_called: bool,
    pub name: String,
}

/// How a parameter's value leaks: the least dereference count at which it
/// reaches the heap, and each result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leaks {
    pub heap: Option<i32>,
    pub results: Vec<Option<i32>>,
}

impl Leaks {
    fn add(slot: &mut Option<i32>, derefs: i32) {
        let d = derefs.max(0);
        *slot = Some(slot.map_or(d, |x| x.min(d)));
    }
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub src: LocId,
    pub derefs: i32,
    /// Why the value flows (for a flow into the heap: the escape reason).
    pub note: Rc<str>,
}

#[derive(Clone, Debug)]
pub struct Loc {
    /// What it is, for explanations: a variable's name, an allocation's text.
    pub name: Rc<str>,
    pub func: FnId,
    pub loop_depth: u32,
    pub edges: Vec<Edge>,
    pub escapes: bool,
    /// Why it escapes (set when it does).
    pub why: Option<String>,
    /// A result variable of its function (index), which outlives
    /// everything: callers may keep what is returned.
    pub result: Option<usize>,
    /// A parameter of its function: what it leaks is recorded here.
    pub param: bool,
    pub leaks: Leaks,
    // Solver state.
    walkgen: u32,
    derefs: i32,
    dst: Option<(LocId, usize)>,
    queued: bool,
}

/// Where a value goes: a location and a dereference count (Go's `hole`).
#[derive(Clone, Debug)]
pub struct Hole {
    pub dst: LocId,
    pub derefs: i32,
    pub note: Rc<str>,
}

impl Hole {
    pub fn shift(&self, d: i32) -> Hole {
        Hole { derefs: self.derefs + d, ..self.clone() }
    }
}

/// Several holes at once (Go's `teeHole`); empty is Go's `discardHole`.
#[derive(Clone, Debug, Default)]
pub struct Holes(pub Vec<Hole>);

impl Holes {
    pub fn discard() -> Holes {
        Holes(Vec::new())
    }
    pub fn one(h: Hole) -> Holes {
        Holes(vec![h])
    }
    pub fn is_discard(&self) -> bool {
        self.0.is_empty()
    }
    /// `&v` flows where `v` would.
    pub fn addr(&self) -> Holes {
        self.shift(-1)
    }
    /// `*v` flows where `v` would.
    pub fn deref(&self) -> Holes {
        self.shift(1)
    }
    pub fn shift(&self, d: i32) -> Holes {
        Holes(self.0.iter().map(|h| h.shift(d)).collect())
    }
    /// Do all holes take a copy of the value (no address-of pending)?
    pub fn all_values(&self) -> bool {
        self.0.iter().all(|h| h.derefs >= 0)
    }
    pub fn with(mut self, other: Holes) -> Holes {
        self.0.extend(other.0);
        self
    }
}

/// All locations of one batch of functions analyzed together.
#[derive(Debug)]
pub struct Graph {
    pub locs: Vec<Loc>,
    pub fns: Vec<Fn>,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl Graph {
    pub fn new() -> Graph {
        let mut g = Graph { locs: Vec::new(), fns: Vec::new() };
        let heap = g.new_loc("the heap", 0, 0);
        g.locs[heap].escapes = true;
        g
    }

    pub fn new_fn(&mut self, name: String, parent: Option<FnId>) -> FnId {
        self.fns.push(Fn { parent, closure_called: false, name });
        self.fns.len() - 1
    }

    pub fn new_loc(&mut self, name: &str, func: FnId, loop_depth: u32) -> LocId {
        self.locs.push(Loc {
            name: name.into(),
            func,
            loop_depth,
            edges: Vec::new(),
            escapes: false,
            why: None,
            result: None,
            param: false,
            leaks: Leaks::default(),
            walkgen: 0,
            derefs: 0,
            dst: None,
            queued: false,
        });
        self.locs.len() - 1
    }

    /// The hole of a location's value.
    pub fn hole(&self, loc: LocId, note: &str) -> Hole {
        Hole { dst: loc, derefs: 0, note: note.into() }
    }

    pub fn heap_hole(&self, note: &str) -> Hole {
        self.hole(HEAP, note)
    }

    /// `src` flows into every hole of `k`.
    pub fn flow(&mut self, k: &Holes, src: LocId) {
        for h in &k.0 {
            if h.dst == src && h.derefs >= 0 {
                continue; // `x = x` and `x = *x`-like self flows change nothing Go tracks.
            }
            self.locs[h.dst].edges.push(Edge { src, derefs: h.derefs, note: h.note.clone() });
        }
    }

    /// Is `c` a closure (transitively) inside `f` (not `f` itself)?
    fn contains_closure(&self, f: FnId, c: FnId) -> bool {
        let mut cur = self.fns[c].parent;
        while let Some(p) = cur {
            if p == f {
                return true;
            }
            cur = self.fns[p].parent;
        }
        false
    }

    /// Go's `outlives`: must `root` outlive `l`, so that `l`'s address
    /// flowing into `root` makes `l` escape?
    fn outlives(&self, root: LocId, l: LocId) -> bool {
        let (r, o) = (&self.locs[root], &self.locs[l]);
        if r.escapes {
            return true;
        }
        if r.result.is_some() {
            // A directly called closure may return what its caller owns.
            if self.contains_closure(o.func, r.func) && self.fns[r.func].closure_called {
                return false;
            }
            return true;
        }
        if r.func == o.func && r.loop_depth < o.loop_depth {
            return true;
        }
        self.contains_closure(r.func, o.func)
    }

    /// Solves the graph: sets `escapes` (and `why`) and parameter leaks.
    pub fn solve(&mut self) {
        let mut todo: Vec<LocId> = Vec::with_capacity(self.locs.len());
        for l in (1..self.locs.len()).chain(std::iter::once(HEAP)) {
            self.locs[l].queued = true;
            todo.push(l);
        }
        let mut walkgen = 0;
        while let Some(root) = todo.pop() {
            self.locs[root].queued = false;
            walkgen += 1;
            self.walk_one(root, walkgen, &mut todo);
        }
    }

    fn walk_one(&mut self, root: LocId, walkgen: u32, todo: &mut Vec<LocId>) {
        self.locs[root].walkgen = walkgen;
        self.locs[root].derefs = 0;
        self.locs[root].dst = None;
        let mut stack = vec![root];
        while let Some(l) = stack.pop() {
            let mut derefs = self.locs[l].derefs;
            let address_of = derefs < 0;
            if address_of {
                // `root = &l; l = x`: l's address flows to root, x's does not.
                derefs = 0;
            }
            if self.outlives(root, l) {
                if self.locs[l].param {
                    self.leak_to(l, root, derefs);
                }
                if address_of && !self.locs[l].escapes {
                    let why = self.explain(l, root);
                    let loc = &mut self.locs[l];
                    loc.escapes = true;
                    loc.why = Some(why);
                    if !loc.queued {
                        loc.queued = true;
                        todo.push(l);
                    }
                    continue;
                }
            }
            for i in 0..self.locs[l].edges.len() {
                let (src, ed) = (self.locs[l].edges[i].src, self.locs[l].edges[i].derefs);
                if self.locs[src].escapes {
                    continue;
                }
                let d = derefs + ed;
                let s = &mut self.locs[src];
                if s.walkgen != walkgen || s.derefs > d {
                    s.walkgen = walkgen;
                    s.derefs = d;
                    s.dst = Some((l, i));
                    stack.push(src);
                }
            }
        }
    }

    fn leak_to(&mut self, param: LocId, sink: LocId, derefs: i32) {
        let (sink_escapes, sink_result, sink_func) =
            (self.locs[sink].escapes, self.locs[sink].result, self.locs[sink].func);
        let p = &mut self.locs[param];
        match sink_result {
            Some(i) if !sink_escapes && sink_func == p.func => {
                if p.leaks.results.len() <= i {
                    p.leaks.results.resize(i + 1, None);
                }
                Leaks::add(&mut p.leaks.results[i], derefs);
            }
            _ => Leaks::add(&mut p.leaks.heap, derefs),
        }
    }

    /// A short reason why `l`'s address flowing to `root` makes it escape.
    fn explain(&self, l: LocId, root: LocId) -> String {
        // The edge into the root along the path the walk found.
        let mut cur = l;
        let mut last_note: Option<Rc<str>> = None;
        let mut steps = 0;
        while let Some((dst, i)) = self.locs[cur].dst {
            last_note = Some(self.locs[dst].edges[i].note.clone());
            if dst == root {
                break;
            }
            cur = dst;
            steps += 1;
            if steps > self.locs.len() {
                break;
            }
        }
        let note = last_note.filter(|n| !n.is_empty());
        let r = &self.locs[root];
        if root == HEAP {
            return note.map_or_else(|| "flows to the heap".to_string(), |n| n.to_string());
        }
        if r.result.is_some() {
            return format!("returned from {}", self.fns[r.func].name);
        }
        if r.escapes && &*r.name == "func literal" {
            return "captured by a func literal that escapes".to_string();
        }
        if r.escapes {
            return format!("stored in {}, which escapes", r.name);
        }
        if r.func == self.locs[l].func {
            return format!("stored in {}, declared outside its loop", r.name);
        }
        format!("stored by a closure in {}, which outlives it", r.name)
    }
}

//! Tables the interpreter computes once per program so that its hot paths
//! read plain vectors instead of borrowing the type table or hashing:
//! - the layout and underlying type of every type the checker made
//!   ([`FixedTypes`]; a layout is read as a [`LayoutRef`]; a type interned
//!   while running is looked up in the type table, as before);
//! - the value of every constant expression ([`const_values`]);
//! - the variable each declaration declares, by position, hashed cheaply
//!   ([`DeclVars`]);
//! - zero values by type ([`Zeros`]);
//! - what each function's frame starts as ([`FrameInit`]): its registers
//!   with the zero values already in place, and the variables that need
//!   work at entry.
//!
//! None of this changes what is recorded: it is the same values, found
//! faster.

use super::super::value::{GoStr, Value};
use super::{fill_zero, zero_leaves, FrameLayout};
use crate::golang::ast::Pos;
use crate::golang::check::{Const, Info, VarId};
use crate::golang::types::{Basic, Layout, Type, TypeId, TypeTable};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;
use std::rc::Rc;

/// A type's layout: borrowed from [`Layouts`], or made by the type table
/// for a type interned while running.
pub(in crate::golang::interp) enum LayoutRef<'a> {
    Fixed(&'a Rc<Layout>),
    Made(Rc<Layout>),
}

impl LayoutRef<'_> {
    /// The layout as a shared pointer (for an object to keep).
    pub fn to_rc(&self) -> Rc<Layout> {
        match self {
            LayoutRef::Fixed(l) => Rc::clone(l),
            LayoutRef::Made(l) => l.clone(),
        }
    }
}

impl Deref for LayoutRef<'_> {
    type Target = Layout;

    fn deref(&self) -> &Layout {
        match self {
            LayoutRef::Fixed(l) => l,
            LayoutRef::Made(l) => l,
        }
    }
}

/// The layout and the underlying type of each type that exists when the
/// run starts (every type the checker made), indexed by [`TypeId`].
pub(in crate::golang::interp) struct FixedTypes {
    layouts: Vec<Rc<Layout>>,
    unders: Vec<Type>,
    /// Is a value of the type one leaf with no pointer word (a number, a
    /// bool)?
    scalars: Vec<bool>,
}

impl FixedTypes {
    /// Lays out every type of `types` (laying out a tuple interns its
    /// struct, which is laid out in turn).
    pub fn new(types: &mut TypeTable) -> FixedTypes {
        types.lay_out_all();
        let layouts: Vec<Rc<Layout>> =
            (0..types.len()).map(|i| types.laid_out(TypeId(i as u32)).expect("laid out").clone()).collect();
        let unders = (0..layouts.len()).map(|i| types.under(TypeId(i as u32)).clone()).collect();
        let scalars = layouts.iter().map(|l| l.leaves == 1 && l.ptr_words == 0).collect();
        FixedTypes { layouts, unders, scalars }
    }

    pub fn layout(&self, ty: TypeId) -> Option<&Rc<Layout>> {
        self.layouts.get(ty.0 as usize)
    }

    pub fn under(&self, ty: TypeId) -> Option<&Type> {
        self.unders.get(ty.0 as usize)
    }

    pub fn is_scalar(&self, ty: TypeId) -> Option<bool> {
        self.scalars.get(ty.0 as usize).copied()
    }
}

/// The value of each constant expression, indexed by expression: an
/// untyped constant takes its type's kind (an integer constant of a float
/// type is a float), a string is its bytes outside any block.
pub(in crate::golang::interp) fn const_values(info: &Info, fixed: &FixedTypes) -> Vec<Option<Value>> {
    info.consts
        .iter()
        .zip(&info.expr_type)
        .map(|(c, &t)| {
            let basic = match fixed.under(t) {
                Some(Type::Basic(b)) => Some(*b),
                _ => None,
            };
            c.as_ref().map(|c| const_value(c, basic))
        })
        .collect()
}

fn const_value(c: &Const, basic: Option<Basic>) -> Value {
    match c {
        Const::Int(n) if basic.is_some_and(Basic::is_float) => Value::Float(*n as f64),
        Const::Int(n) => Value::Int(*n as i64),
        Const::Float(f) if basic.is_some_and(Basic::is_integer) => Value::Int(*f as i64),
        Const::Float(f) => Value::Float(*f),
        Const::Bool(v) => Value::Bool(*v),
        Const::Str(s) if s.is_empty() => Value::Nil,
        Const::Str(s) => Value::Str(Rc::new(GoStr { bytes: s.as_bytes().to_vec(), block: None, offset: 0 })),
    }
}

/// The variable declared at each position (the checker's
/// [`Info::decl_var`], behind a hasher made for three small integers: a
/// declaration in a loop looks its variable up each time it runs).
pub(in crate::golang::interp) struct DeclVars(HashMap<Pos, VarId, BuildHasherDefault<PosHasher>>);

impl DeclVars {
    pub fn new(info: &Info) -> DeclVars {
        DeclVars(info.decl_var.iter().map(|(&p, &v)| (p, v)).collect())
    }

    pub fn get(&self, pos: Pos) -> Option<VarId> {
        self.0.get(&pos).copied()
    }
}

impl std::ops::Index<&Pos> for DeclVars {
    type Output = VarId;

    fn index(&self, pos: &Pos) -> &VarId {
        &self.0[pos]
    }
}

/// Mixes each `u32` written with one multiplication (a [`Pos`] is three).
#[derive(Default)]
pub(in crate::golang::interp) struct PosHasher(u64);

impl Hasher for PosHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.0 = (self.0.rotate_left(21) ^ u64::from(x)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Zero values by type, made on first use and kept when small; a type
/// holding a `sync` value is never kept (each of its zero values owns a
/// fresh state). A large one (an array a `make` sized) is made each time:
/// copying a kept one costs as much, and programs make many sizes.
#[derive(Default)]
pub(in crate::golang::interp) struct Zeros(RefCell<Vec<Option<Rc<[Value]>>>>);

/// Zero values of at most this many leaves are kept.
const KEPT_ZERO_LEAVES: usize = 64;

impl Zeros {
    pub fn get(&self, types: &RefCell<TypeTable>, ty: TypeId) -> Rc<[Value]> {
        if let Some(z) = self.kept(ty) {
            return z;
        }
        let z: Rc<[Value]> = self.make(types, ty).into();
        self.keep(ty, &z);
        z
    }

    /// The zero value of `ty`, in a vector of its own.
    pub fn get_vec(&self, types: &RefCell<TypeTable>, ty: TypeId) -> Vec<Value> {
        if let Some(z) = self.kept(ty) {
            return z.to_vec();
        }
        let z = self.make(types, ty);
        if z.len() <= KEPT_ZERO_LEAVES {
            self.keep(ty, &z.as_slice().into());
        }
        z
    }

    fn kept(&self, ty: TypeId) -> Option<Rc<[Value]>> {
        self.0.borrow().get(ty.0 as usize).cloned().flatten()
    }

    fn make(&self, types: &RefCell<TypeTable>, ty: TypeId) -> Vec<Value> {
        zero_leaves(&mut types.borrow_mut(), ty)
    }

    fn keep(&self, ty: TypeId, z: &Rc<[Value]>) {
        if z.len() > KEPT_ZERO_LEAVES || holds_sync(z) {
            return;
        }
        let mut all = self.0.borrow_mut();
        if all.len() <= ty.0 as usize {
            all.resize(ty.0 as usize + 1, None);
        }
        all[ty.0 as usize] = Some(z.clone());
    }
}

fn holds_sync(vals: &[Value]) -> bool {
    vals.iter().any(|v| matches!(v, Value::Sync(_)))
}

/// What a new frame of one function starts as.
pub(in crate::golang::interp) struct FrameInit {
    /// The registers: the zero value of each result and unboxed local in
    /// place, nil elsewhere (parameters get their arguments; a boxed
    /// variable's register its block).
    pub regs: Vec<Value>,
    /// The results and locals that need work at entry, in declaration
    /// order: a boxed one gets a fresh block, one holding a `sync` value a
    /// fresh state.
    pub fresh: Vec<VarId>,
}

impl FrameInit {
    /// The frame starts of every function of `info`.
    pub fn all(
        info: &Info,
        types: &mut TypeTable,
        frames: &[FrameLayout],
        var_reg: &[u32],
        zeroed: &[Vec<VarId>],
    ) -> Vec<FrameInit> {
        frames
            .iter()
            .zip(zeroed)
            .map(|(fl, zeroed)| {
                let mut regs = vec![Value::Nil; fl.leaves as usize];
                let mut fresh = Vec::new();
                for &v in zeroed {
                    let var = &info.vars[v.0 as usize];
                    if var.boxed {
                        fresh.push(v);
                        continue;
                    }
                    let base = var_reg[v.0 as usize] as usize;
                    let n = types.layout(var.ty).leaves as usize;
                    fill_zero(types, var.ty, &mut regs[base..base + n]);
                    if holds_sync(&regs[base..base + n]) {
                        fresh.push(v);
                    }
                }
                FrameInit { regs, fresh }
            })
            .collect()
    }
}

//! Tables the interpreter computes once per program so that its hot paths
//! read plain vectors instead of borrowing the type table or hashing:
//! - the layout of every type the checker made ([`Layouts`]), read as a
//!   [`LayoutRef`] (a type interned while running is laid out by the type
//!   table, as before);
//! - zero values by type ([`Zeros`]);
//! - what each function's frame starts as ([`FrameInit`]): its registers
//!   with the zero values already in place, and the variables that need
//!   work at entry.
//!
//! None of this changes what is recorded: it is the same values, found
//! faster.

use super::super::value::Value;
use super::{fill_zero, zero_leaves, FrameLayout};
use crate::golang::check::{Info, VarId};
use crate::golang::types::{Layout, TypeId, TypeTable};
use std::cell::RefCell;
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

/// The layouts of the types that exist when the run starts (every type
/// the checker made), indexed by [`TypeId`].
pub(in crate::golang::interp) struct Layouts(Vec<Rc<Layout>>);

impl Layouts {
    /// Lays out every type of `types` (laying out a tuple interns its
    /// struct, which is laid out in turn).
    pub fn new(types: &mut TypeTable) -> Layouts {
        let mut all = Vec::with_capacity(types.len());
        while all.len() < types.len() {
            all.push(types.layout(TypeId(all.len() as u32)));
        }
        Layouts(all)
    }

    pub fn get(&self, ty: TypeId) -> Option<&Rc<Layout>> {
        self.0.get(ty.0 as usize)
    }
}

/// Zero values by type, made on first use; a type holding a `sync` value
/// is never kept (each of its zero values owns a fresh state).
#[derive(Default)]
pub(in crate::golang::interp) struct Zeros(RefCell<Vec<Option<Rc<[Value]>>>>);

impl Zeros {
    pub fn get(&self, types: &RefCell<TypeTable>, ty: TypeId) -> Rc<[Value]> {
        if let Some(Some(z)) = self.0.borrow().get(ty.0 as usize) {
            return z.clone();
        }
        let z: Rc<[Value]> = zero_leaves(&mut types.borrow_mut(), ty).into();
        if !holds_sync(&z) {
            let mut all = self.0.borrow_mut();
            if all.len() <= ty.0 as usize {
                all.resize(ty.0 as usize + 1, None);
            }
            all[ty.0 as usize] = Some(z.clone());
        }
        z
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

#[cfg(test)]
mod size_probe {
    #[test]
    fn sizes() {
        use super::super::*;
        eprintln!(
            "Value {} Src {} Loc {} Operand {} R<Operand> {} Place {} Flow {} TraceOp {} GoError {}",
            std::mem::size_of::<Value>(),
            std::mem::size_of::<Src>(),
            std::mem::size_of::<Loc>(),
            std::mem::size_of::<Operand>(),
            std::mem::size_of::<R<Operand>>(),
            std::mem::size_of::<Place>(),
            std::mem::size_of::<Flow>(),
            std::mem::size_of::<super::super::super::TraceOp>(),
            std::mem::size_of::<GoError>()
        );
    }
}

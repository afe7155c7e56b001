//! Type facts the escape analysis needs, read from the checker's type
//! table without changing it: sizes and whether a type holds pointers (the
//! layouts [`crate::golang::types`] computes, the one place Go's sizes are
//! written down), and whether an interface holds it directly (Go's
//! `types.IsDirectIface`: no box is allocated to convert it).

use crate::golang::types::{Layout, Type, TypeId, TypeTable};

/// The layout the checker computed for `t` (it lays out every type it makes).
fn layout(types: &TypeTable, t: TypeId) -> &Layout {
    types.laid_out(t).expect("the checker lays out every type it makes")
}

/// `unsafe.Sizeof` of a value of `t`.
pub fn size_of(types: &TypeTable, t: TypeId) -> u64 {
    layout(types, t).size
}

/// Does a value of `t` hold any pointer?
pub fn has_pointers(types: &TypeTable, t: TypeId) -> bool {
    layout(types, t).ptr_words > 0
}

/// Is a value of `t` stored in an interface's data word as it is (a
/// pointer, map, channel, func, or a struct or one-element array of one)?
pub fn is_direct_iface(types: &TypeTable, t: TypeId) -> bool {
    match types.under(t) {
        Type::Pointer(_) | Type::Map(..) | Type::Chan(_) | Type::Func(_) => true,
        Type::Array(1, e) => is_direct_iface(types, *e),
        Type::Struct(fields) if fields.len() == 1 => is_direct_iface(types, fields[0].1),
        _ => false,
    }
}

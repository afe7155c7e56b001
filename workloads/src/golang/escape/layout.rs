//! Type facts the escape analysis needs, read from the checker's type
//! table without changing it: sizes (Go's, 64-bit), whether a type holds
//! pointers, and whether an interface holds it directly (Go's
//! `types.IsDirectIface`: no box is allocated to convert it).

use crate::golang::types::{Basic, SyncType, Type, TypeId, TypeTable};

/// `unsafe.Sizeof` of a value of `t`.
pub fn size_of(types: &TypeTable, t: TypeId) -> u64 {
    size_align(types, t, 0).0
}

fn size_align(types: &TypeTable, t: TypeId, depth: u32) -> (u64, u64) {
    if depth > 64 {
        return (8, 8);
    }
    match types.under(t) {
        Type::Basic(Basic::String | Basic::UntypedString) => (16, 8),
        Type::Basic(b) => (b.size(), b.size().clamp(1, 8)),
        Type::Pointer(_) | Type::Map(..) | Type::Chan(_) | Type::Func(_) | Type::Named { .. } => (8, 8),
        Type::Slice(_) => (24, 8),
        Type::Interface(_) => (16, 8),
        Type::Sync(SyncType::WaitGroup) => (16, 8),
        Type::Sync(SyncType::Mutex) => (8, 4),
        Type::Array(n, e) => {
            let (s, a) = size_align(types, *e, depth + 1);
            (s.saturating_mul(*n), a)
        }
        Type::Struct(fields) => {
            let (mut off, mut align) = (0u64, 1u64);
            for (_, ft, _) in fields.iter() {
                let (s, a) = size_align(types, *ft, depth + 1);
                off = off.div_ceil(a) * a + s;
                align = align.max(a);
            }
            (off.div_ceil(align) * align, align)
        }
        Type::Tuple(ts) => {
            let mut off = 0u64;
            for t in ts.iter() {
                let (s, a) = size_align(types, *t, depth + 1);
                off = off.div_ceil(a) * a + s;
            }
            (off.div_ceil(8) * 8, 8)
        }
    }
}

/// Does a value of `t` hold any pointer?
pub fn has_pointers(types: &TypeTable, t: TypeId) -> bool {
    has_pointers_at(types, t, 0)
}

fn has_pointers_at(types: &TypeTable, t: TypeId, depth: u32) -> bool {
    if depth > 64 {
        return true;
    }
    match types.under(t) {
        Type::Basic(Basic::String | Basic::UntypedString | Basic::UntypedNil) => true,
        Type::Basic(_) | Type::Sync(_) => false,
        Type::Array(0, _) => false,
        Type::Array(_, e) => has_pointers_at(types, *e, depth + 1),
        Type::Struct(fields) => fields.iter().any(|(_, ft, _)| has_pointers_at(types, *ft, depth + 1)),
        Type::Tuple(ts) => ts.iter().any(|t| has_pointers_at(types, *t, depth + 1)),
        _ => true,
    }
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

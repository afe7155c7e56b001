//! Go's types, interned, with the layout the interpreter and the trace use.
//!
//! A [`TypeTable`] interns every type of a program once ([`TypeId`]s compare
//! by identity, as Go's identical types do for the unnamed ones). Each type
//! has a [`Layout`]:
//! - its size and alignment as `unsafe.Sizeof`/`Alignof` give them on
//!   64-bit Go (a string is 16 bytes, a slice 24, an interface 16);
//! - its *leaves*: the value flattened into scalars, depth-first in field
//!   order, which is how the interpreter stores a value (one cell per leaf);
//! - which leaves hold a pointer word the collector must see: a pointer, a
//!   string's data, a slice's array, a map, a channel, a func value, an
//!   interface's data word. Each such leaf is one pointer slot of the
//!   block holding the value; slots are numbered in leaf order, so the
//!   pointer words of a field are contiguous and an interior pointer to a
//!   field is "the number of pointer leaves before it" (see [`super`]).

use std::collections::HashMap;

/// An interned type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// The predeclared types (and the untyped constant kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Basic {
    Bool,
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Uintptr,
    Float32,
    Float64,
    String,
    UntypedBool,
    UntypedInt,
    UntypedRune,
    UntypedFloat,
    UntypedString,
    UntypedNil,
}

impl Basic {
    pub fn name(self) -> &'static str {
        match self {
            Basic::Bool => "bool",
            Basic::Int => "int",
            Basic::Int8 => "int8",
            Basic::Int16 => "int16",
            Basic::Int32 => "int32",
            Basic::Int64 => "int64",
            Basic::Uint => "uint",
            Basic::Uint8 => "uint8",
            Basic::Uint16 => "uint16",
            Basic::Uint32 => "uint32",
            Basic::Uint64 => "uint64",
            Basic::Uintptr => "uintptr",
            Basic::Float32 => "float32",
            Basic::Float64 => "float64",
            Basic::String => "string",
            Basic::UntypedBool => "untyped bool",
            Basic::UntypedInt => "untyped int",
            Basic::UntypedRune => "untyped rune",
            Basic::UntypedFloat => "untyped float",
            Basic::UntypedString => "untyped string",
            Basic::UntypedNil => "untyped nil",
        }
    }

    pub fn is_untyped(self) -> bool {
        matches!(
            self,
            Basic::UntypedBool
                | Basic::UntypedInt
                | Basic::UntypedRune
                | Basic::UntypedFloat
                | Basic::UntypedString
                | Basic::UntypedNil
        )
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Basic::Int
                | Basic::Int8
                | Basic::Int16
                | Basic::Int32
                | Basic::Int64
                | Basic::Uint
                | Basic::Uint8
                | Basic::Uint16
                | Basic::Uint32
                | Basic::Uint64
                | Basic::Uintptr
                | Basic::UntypedInt
                | Basic::UntypedRune
        )
    }

    pub fn is_float(self) -> bool {
        matches!(self, Basic::Float32 | Basic::Float64 | Basic::UntypedFloat)
    }

    pub fn is_unsigned(self) -> bool {
        matches!(self, Basic::Uint | Basic::Uint8 | Basic::Uint16 | Basic::Uint32 | Basic::Uint64 | Basic::Uintptr)
    }

    /// Size in bytes of a typed basic type.
    pub fn size(self) -> u64 {
        match self {
            Basic::Bool | Basic::Int8 | Basic::Uint8 => 1,
            Basic::Int16 | Basic::Uint16 => 2,
            Basic::Int32 | Basic::Uint32 | Basic::Float32 => 4,
            Basic::String | Basic::UntypedString => 16,
            _ => 8,
        }
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sig {
    pub params: Vec<TypeId>,
    pub results: Vec<TypeId>,
    /// The last parameter is `...T` (its type is `[]T`).
    pub variadic: bool,
}

/// The types of package `sync` the subset supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncType {
    WaitGroup,
    Mutex,
}

/// A type's structure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Basic(Basic),
    /// A defined type: its name, where it is declared (the declaring
    /// function's scope id, 0 for the package, so that two local types of
    /// one name stay distinct), and its underlying type (set once resolved).
    Named {
        name: String,
        scope: u32,
        underlying: Option<TypeId>,
    },
    Pointer(TypeId),
    Slice(TypeId),
    Array(u64, TypeId),
    Map(TypeId, TypeId),
    Chan(TypeId),
    Func(std::rc::Rc<Sig>),
    /// Fields: name, type, embedded.
    Struct(std::rc::Rc<[(String, TypeId, bool)]>),
    /// Methods, sorted by name.
    Interface(std::rc::Rc<[(String, Sig)]>),
    /// The results of a multi-valued call.
    Tuple(std::rc::Rc<[TypeId]>),
    /// `sync.WaitGroup`, `sync.Mutex`: opaque, pointer-free values.
    Sync(SyncType),
}

/// How a value of a type is stored: see the module comment.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub size: u64,
    pub align: u64,
    /// Scalars the value flattens to.
    pub leaves: u32,
    /// Pointer words among the leaves.
    pub ptr_words: u32,
    /// For each leaf, how many of the leaves before it are pointer words
    /// (empty when the type has no pointer words).
    pub ptr_before: Vec<u32>,
    /// For each leaf, is it a pointer word (empty when none is).
    pub is_ptr: Vec<bool>,
    /// For a struct: each field's first leaf and byte offset.
    pub field_leaf: Vec<u32>,
    pub field_offset: Vec<u64>,
}

/// The interned types of one program.
#[derive(Debug)]
pub struct TypeTable {
    types: Vec<Type>,
    ids: HashMap<Type, TypeId>,
    layouts: Vec<Option<std::rc::Rc<Layout>>>,
}

/// Well-known types, interned first.
pub mod known {
    use super::TypeId;
    pub const BOOL: TypeId = TypeId(0);
    pub const INT: TypeId = TypeId(1);
    pub const INT8: TypeId = TypeId(2);
    pub const INT16: TypeId = TypeId(3);
    pub const INT32: TypeId = TypeId(4);
    pub const INT64: TypeId = TypeId(5);
    pub const UINT: TypeId = TypeId(6);
    pub const UINT8: TypeId = TypeId(7);
    pub const UINT16: TypeId = TypeId(8);
    pub const UINT32: TypeId = TypeId(9);
    pub const UINT64: TypeId = TypeId(10);
    pub const UINTPTR: TypeId = TypeId(11);
    pub const FLOAT32: TypeId = TypeId(12);
    pub const FLOAT64: TypeId = TypeId(13);
    pub const STRING: TypeId = TypeId(14);
    pub const UNTYPED_BOOL: TypeId = TypeId(15);
    pub const UNTYPED_INT: TypeId = TypeId(16);
    pub const UNTYPED_RUNE: TypeId = TypeId(17);
    pub const UNTYPED_FLOAT: TypeId = TypeId(18);
    pub const UNTYPED_STRING: TypeId = TypeId(19);
    pub const UNTYPED_NIL: TypeId = TypeId(20);
    /// `interface{}` / `any`.
    pub const ANY: TypeId = TypeId(21);
    /// `[]byte`.
    pub const BYTES: TypeId = TypeId(22);
    pub const WAIT_GROUP: TypeId = TypeId(23);
    pub const MUTEX: TypeId = TypeId(24);
    /// The empty tuple (a call with no results).
    pub const VOID: TypeId = TypeId(25);
}

const BASICS: [Basic; 21] = [
    Basic::Bool,
    Basic::Int,
    Basic::Int8,
    Basic::Int16,
    Basic::Int32,
    Basic::Int64,
    Basic::Uint,
    Basic::Uint8,
    Basic::Uint16,
    Basic::Uint32,
    Basic::Uint64,
    Basic::Uintptr,
    Basic::Float32,
    Basic::Float64,
    Basic::String,
    Basic::UntypedBool,
    Basic::UntypedInt,
    Basic::UntypedRune,
    Basic::UntypedFloat,
    Basic::UntypedString,
    Basic::UntypedNil,
];

impl Default for TypeTable {
    fn default() -> Self {
        Self::new()
    }
}

impl TypeTable {
    pub fn new() -> TypeTable {
        let mut t = TypeTable { types: Vec::new(), ids: HashMap::new(), layouts: Vec::new() };
        for b in BASICS {
            t.intern(Type::Basic(b));
        }
        assert_eq!(t.intern(Type::Interface(Vec::new().into())), known::ANY);
        assert_eq!(t.intern(Type::Slice(known::UINT8)), known::BYTES);
        assert_eq!(t.intern(Type::Sync(SyncType::WaitGroup)), known::WAIT_GROUP);
        assert_eq!(t.intern(Type::Sync(SyncType::Mutex)), known::MUTEX);
        assert_eq!(t.intern(Type::Tuple(Vec::new().into())), known::VOID);
        t
    }

    /// The id of `ty`, interning it if new. Named types are always new
    /// (declare them with [`TypeTable::declare_named`]).
    pub fn intern(&mut self, ty: Type) -> TypeId {
        if let Some(&id) = self.ids.get(&ty) {
            return id;
        }
        let id = TypeId(self.types.len() as u32);
        self.types.push(ty.clone());
        self.layouts.push(None);
        self.ids.insert(ty, id);
        id
    }

    /// A new defined type `name` whose underlying type is set later.
    pub fn declare_named(&mut self, name: &str, scope: u32) -> TypeId {
        self.intern(Type::Named { name: name.into(), scope, underlying: None })
    }

    /// Sets a named type's underlying type (resolved to the non-named one).
    pub fn set_underlying(&mut self, named: TypeId, underlying: TypeId) {
        let u = self.underlying(underlying);
        if let Type::Named { underlying: slot, .. } = &mut self.types[named.0 as usize] {
            *slot = Some(u);
        }
    }

    /// How many types are interned.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    pub fn get(&self, id: TypeId) -> &Type {
        &self.types[id.0 as usize]
    }

    /// The underlying type: itself unless named.
    pub fn underlying(&self, id: TypeId) -> TypeId {
        let mut id = id;
        for _ in 0..64 {
            match &self.types[id.0 as usize] {
                Type::Named { underlying: Some(u), .. } => id = *u,
                _ => return id,
            }
        }
        id
    }

    /// The underlying type's structure.
    pub fn under(&self, id: TypeId) -> &Type {
        self.get(self.underlying(id))
    }

    pub fn is_named(&self, id: TypeId) -> bool {
        matches!(self.get(id), Type::Named { .. })
    }

    pub fn basic(&self, id: TypeId) -> Option<Basic> {
        match self.under(id) {
            Type::Basic(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_interface(&self, id: TypeId) -> bool {
        matches!(self.under(id), Type::Interface(_))
    }

    pub fn is_string(&self, id: TypeId) -> bool {
        matches!(self.basic(id), Some(Basic::String | Basic::UntypedString))
    }

    pub fn pointer(&mut self, elem: TypeId) -> TypeId {
        self.intern(Type::Pointer(elem))
    }

    pub fn slice(&mut self, elem: TypeId) -> TypeId {
        self.intern(Type::Slice(elem))
    }

    /// The element type of a pointer, slice, array, map (its value) or channel.
    pub fn elem(&self, id: TypeId) -> Option<TypeId> {
        match self.under(id) {
            Type::Pointer(e) | Type::Slice(e) | Type::Array(_, e) | Type::Chan(e) | Type::Map(_, e) => Some(*e),
            Type::Basic(Basic::String | Basic::UntypedString) => Some(known::UINT8),
            _ => None,
        }
    }

    /// The type as Go prints it.
    pub fn name(&self, id: TypeId) -> String {
        match self.get(id) {
            Type::Basic(b) => b.name().to_string(),
            Type::Named { name, .. } => name.to_string(),
            Type::Pointer(e) => format!("*{}", self.name(*e)),
            Type::Slice(e) => format!("[]{}", self.name(*e)),
            Type::Array(n, e) => format!("[{n}]{}", self.name(*e)),
            Type::Map(k, v) => format!("map[{}]{}", self.name(*k), self.name(*v)),
            Type::Chan(e) => format!("chan {}", self.name(*e)),
            Type::Func(sig) => format!("func{}", self.sig_text(sig)),
            Type::Struct(fields) => {
                let fs: Vec<String> = fields.iter().map(|(n, t, _)| format!("{n} {}", self.name(*t))).collect();
                format!("struct{{{}}}", fs.join("; "))
            }
            Type::Interface(ms) if ms.is_empty() => "interface {}".to_string(),
            Type::Interface(ms) => {
                let fs: Vec<String> = ms.iter().map(|(n, s)| format!("{n}{}", self.sig_text(s))).collect();
                format!("interface {{ {} }}", fs.join("; "))
            }
            Type::Tuple(ts) => {
                let fs: Vec<String> = ts.iter().map(|t| self.name(*t)).collect();
                format!("({})", fs.join(", "))
            }
            Type::Sync(SyncType::WaitGroup) => "sync.WaitGroup".to_string(),
            Type::Sync(SyncType::Mutex) => "sync.Mutex".to_string(),
        }
    }

    fn sig_text(&self, sig: &Sig) -> String {
        let ps: Vec<String> = sig.params.iter().map(|t| self.name(*t)).collect();
        let rs: Vec<String> = sig.results.iter().map(|t| self.name(*t)).collect();
        match rs.len() {
            0 => format!("({})", ps.join(", ")),
            1 => format!("({}) {}", ps.join(", "), rs[0]),
            _ => format!("({}) ({})", ps.join(", "), rs.join(", ")),
        }
    }

    /// The layout of `id` (computed once).
    pub fn layout(&mut self, id: TypeId) -> std::rc::Rc<Layout> {
        if let Some(l) = &self.layouts[id.0 as usize] {
            return l.clone();
        }
        let l = std::rc::Rc::new(self.compute_layout(id));
        self.layouts[id.0 as usize] = Some(l.clone());
        l
    }

    /// Lays out every type interned so far (laying out a tuple interns its
    /// struct, which is laid out in turn), so that [`TypeTable::laid_out`]
    /// answers for all of them. The checker calls it when it is done.
    pub fn lay_out_all(&mut self) {
        let mut id = 0;
        while id < self.types.len() {
            self.layout(TypeId(id as u32));
            id += 1;
        }
    }

    /// The layout of `id` if it has been computed (every type the checker
    /// made: see [`TypeTable::lay_out_all`]), read without changing the table.
    pub fn laid_out(&self, id: TypeId) -> Option<&std::rc::Rc<Layout>> {
        self.layouts.get(id.0 as usize)?.as_ref()
    }

    fn compute_layout(&mut self, id: TypeId) -> Layout {
        let scalar = |size: u64, ptr: bool| Layout {
            size,
            align: size.clamp(1, 8),
            leaves: 1,
            ptr_words: u32::from(ptr),
            ptr_before: if ptr { vec![0] } else { Vec::new() },
            is_ptr: if ptr { vec![true] } else { Vec::new() },
            field_leaf: Vec::new(),
            field_offset: Vec::new(),
        };
        match self.under(id).clone() {
            Type::Basic(Basic::String | Basic::UntypedString) => Layout { align: 8, ..scalar(16, true) },
            Type::Basic(Basic::UntypedNil) => scalar(8, true),
            Type::Basic(b) => scalar(b.size(), false),
            Type::Pointer(_) | Type::Map(..) | Type::Chan(_) | Type::Func(_) => scalar(8, true),
            Type::Slice(_) => Layout { align: 8, ..scalar(24, true) },
            Type::Interface(_) => Layout { align: 8, ..scalar(16, true) },
            Type::Sync(SyncType::WaitGroup) => Layout { align: 8, ..scalar(16, false) },
            Type::Sync(SyncType::Mutex) => Layout { align: 4, ..scalar(8, false) },
            Type::Named { .. } => scalar(8, false),
            Type::Tuple(ts) => {
                let fields: Vec<(String, TypeId, bool)> = ts.iter().map(|t| (String::new(), *t, false)).collect();
                let st = self.intern(Type::Struct(fields.into()));
                self.compute_layout(st)
            }
            Type::Array(n, e) => {
                let el = self.layout(e);
                let leaves = (el.leaves as u64).saturating_mul(n);
                let mut l = Layout {
                    size: el.size.saturating_mul(n),
                    align: el.align,
                    leaves: leaves.min(u32::MAX as u64) as u32,
                    ptr_words: (el.ptr_words as u64 * n).min(u32::MAX as u64) as u32,
                    ..Layout::default()
                };
                if el.ptr_words > 0 {
                    for i in 0..n {
                        let base = (i * el.ptr_words as u64) as u32;
                        l.ptr_before.extend(el.ptr_before.iter().map(|p| p + base));
                        l.is_ptr.extend(el.is_ptr.iter().copied());
                    }
                }
                l
            }
            Type::Struct(fields) => {
                let mut l = Layout { align: 1, ..Layout::default() };
                let mut offset = 0u64;
                let mut parts = Vec::new();
                for (_, ft, _) in fields.iter() {
                    let fl = self.layout(*ft);
                    offset = offset.div_ceil(fl.align) * fl.align;
                    l.field_leaf.push(l.leaves);
                    l.field_offset.push(offset);
                    l.leaves += fl.leaves;
                    l.align = l.align.max(fl.align);
                    offset += fl.size;
                    parts.push(fl);
                }
                l.size = offset.div_ceil(l.align) * l.align;
                let total: u32 = parts.iter().map(|p| p.ptr_words).sum();
                if total > 0 {
                    for p in &parts {
                        if p.ptr_words == 0 {
                            l.ptr_before.extend(std::iter::repeat_n(l.ptr_words, p.leaves as usize));
                            l.is_ptr.extend(std::iter::repeat_n(false, p.leaves as usize));
                        } else {
                            let base = l.ptr_words;
                            l.ptr_before.extend(p.ptr_before.iter().map(|x| x + base));
                            l.is_ptr.extend(p.is_ptr.iter().copied());
                        }
                        l.ptr_words += p.ptr_words;
                    }
                }
                l
            }
        }
    }

    /// Does a value of `id` hold any pointer word?
    pub fn has_pointers(&mut self, id: TypeId) -> bool {
        self.layout(id).ptr_words > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_gos() {
        let mut t = TypeTable::new();
        let node = t.declare_named("Node", 0);
        let pn = t.pointer(node);
        let st = t.intern(Type::Struct(
            vec![
                ("left".into(), pn, false),
                ("n".into(), known::INT32, false),
                ("right".into(), pn, false),
                ("s".into(), known::STRING, false),
            ]
            .into(),
        ));
        t.set_underlying(node, st);
        let l = t.layout(node);
        assert_eq!((l.size, l.align, l.leaves, l.ptr_words), (40, 8, 4, 3));
        assert_eq!(l.field_offset, vec![0, 8, 16, 24]);
        assert_eq!(l.ptr_before, vec![0, 1, 1, 2]);
        let arr = t.intern(Type::Array(3, node));
        let a = t.layout(arr);
        assert_eq!((a.size, a.leaves, a.ptr_words), (120, 12, 9));
        assert_eq!(a.ptr_before[4..8], [3, 4, 4, 5]);
        let bytes = t.layout(known::BYTES);
        assert_eq!((bytes.size, bytes.ptr_words), (24, 1));
        let floats = t.intern(Type::Array(10, known::FLOAT64));
        assert_eq!(t.layout(floats).ptr_words, 0);
    }
}

//! The interpreter's values and memory.
//!
//! A value of a Go type is its *leaves* (see [`super::super::types`]): a
//! struct or array is as many [`Value`]s as it has scalars, in field order,
//! so a field or element is a range of leaves and a pointer is an object
//! and a leaf index. Objects ([`Obj`]) are reference-counted: the
//! interpreter's own memory is freed when the program drops its last
//! pointer (cycles leak, which only costs the interpreter memory; the
//! trace is unaffected).

use crate::golang::types::{Layout, SyncType, TypeId};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// One leaf.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The zero value of every pointer-shaped leaf (pointer, slice, map,
    /// channel, func, interface) and of a string with no bytes.
    #[default]
    Nil,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Rc<GoStr>),
    Ptr(Ref),
    Slice(Rc<SliceVal>),
    Map(Rc<MapObj>),
    Chan(Rc<ChanObj>),
    Func(Rc<Closure>),
    Iface(Rc<IfaceVal>),
    Sync(Rc<SyncState>),
}

/// A pointer: an object and a leaf of it.
#[derive(Clone, Debug)]
pub struct Ref {
    pub obj: Rc<Obj>,
    pub cell: u32,
}

/// An object: a block of the trace (heap or stack), or memory that is not
/// a block (a zero-size allocation, a string literal's bytes).
#[derive(Debug)]
pub struct Obj {
    pub cells: RefCell<Vec<Value>>,
    pub layout: Rc<Layout>,
    /// Is it a block of the trace (its pointer is a pointer the collector sees)?
    pub block: bool,
    /// For a package-level variable's storage: the trace global of its
    /// first pointer word (its pointer words are globals, not slots).
    pub global: Option<u32>,
}

impl Obj {
    /// The pointer slot a pointer to `cell` points at: the pointer words
    /// before it (see [`crate::golang`]'s memory model), or for an object
    /// with no pointer words, the word the leaf is in.
    pub fn slot_of(&self, cell: u32) -> u32 {
        let l = &self.layout;
        if l.ptr_words > 0 {
            return l.ptr_before.get(cell as usize).copied().unwrap_or(l.ptr_words);
        }
        if l.leaves == 0 {
            return 0;
        }
        let words = l.size.div_ceil(8).max(1);
        ((cell as u64 * l.size / l.leaves as u64) / 8).min(words - 1) as u32
    }
}

/// A string: its bytes and the block holding them (none for a literal or
/// a string whose bytes are not a block).
#[derive(Debug)]
pub struct GoStr {
    pub bytes: Vec<u8>,
    pub block: Option<Rc<Obj>>,
    /// Where in the block the bytes start (a substring points inside).
    pub offset: u32,
}

/// A slice header.
#[derive(Debug)]
pub struct SliceVal {
    /// The array and the leaf of element 0.
    pub base: Ref,
    pub len: usize,
    pub cap: usize,
    /// Leaves per element.
    pub elem_leaves: u32,
}

/// A map: the `hmap` block and the block of its entries.
#[derive(Debug)]
pub struct MapObj {
    pub hmap: Rc<Obj>,
    pub state: RefCell<MapState>,
}

#[derive(Debug, Default)]
pub struct MapState {
    /// Key -> entry index (entries' values live in `keys`/`vals`).
    pub index: HashMap<MapKey, usize>,
    pub keys: Vec<Vec<Value>>,
    pub vals: Vec<Vec<Value>>,
    /// Free entry indices (deleted).
    pub free: Vec<usize>,
    /// The entries' block (pointer words of key and value per entry).
    pub buckets: Option<Rc<Obj>>,
    /// Entries the bucket block has room for.
    pub room: usize,
    /// Go's `B`.
    pub b: u8,
    pub count: usize,
}

/// A hashable map key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MapKey {
    Int(i64),
    Str(Vec<u8>),
    Bool(bool),
    /// A pointer key: the object's address and the leaf.
    Ptr(usize, u32),
    Float(u64),
    Nil,
    Tuple(Vec<MapKey>),
}

/// A channel.
#[derive(Debug)]
pub struct ChanObj {
    pub elem: TypeId,
    pub hchan: Rc<Obj>,
    /// The buffer block (separate from `hchan` when elements hold pointers).
    pub buf: Option<Rc<Obj>>,
    pub cap: usize,
    pub elem_leaves: u32,
    pub elem_words: u32,
    pub state: RefCell<ChanState>,
}

#[derive(Debug, Default)]
pub struct ChanState {
    /// Buffered values with the buffer index each occupies.
    pub queue: VecDeque<(usize, Vec<Value>)>,
    pub sendx: usize,
    /// An unbuffered send not yet received: the value (held in the
    /// `hchan`'s handoff slots in the trace).
    pub handoff: Option<Vec<Value>>,
    /// Unbuffered sends made and received so far (a sender waits until its
    /// own is received).
    pub sent: u64,
    pub received: u64,
    /// Receivers blocked waiting for a send.
    pub receivers: u32,
    pub closed: bool,
    /// Goroutines blocked on it.
    pub waiters: Vec<u32>,
}

/// A func value.
#[derive(Debug)]
pub struct Closure {
    pub func: crate::golang::check::FuncId,
    /// The closure block holding the captured variables.
    pub env: Option<Rc<Obj>>,
    /// A method value's receiver is not supported; a bound receiver would go here.
    pub static_fn: bool,
}

/// An interface value: the dynamic type and the value.
#[derive(Debug)]
pub struct IfaceVal {
    pub ty: TypeId,
    pub vals: Vec<Value>,
    /// The block the value was boxed into (none for pointer-shaped values,
    /// which are held in the data word, and for values Go does not box).
    pub boxed: Option<Rc<Obj>>,
}

/// `sync.WaitGroup` or `sync.Mutex`.
#[derive(Debug)]
pub struct SyncState {
    pub kind: SyncType,
    pub count: RefCell<i64>,
    pub waiters: RefCell<Vec<u32>>,
}

impl Value {
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            Value::Bool(b) => i64::from(*b),
            Value::Float(f) => *f as i64,
            _ => 0,
        }
    }

    pub fn float(&self) -> f64 {
        match self {
            Value::Float(f) => *f,
            Value::Int(n) => *n as f64,
            _ => 0.0,
        }
    }

    pub fn bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string's bytes (empty for nil).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Value::Str(s) => &s.bytes,
            _ => &[],
        }
    }

    /// The object a pointer-shaped leaf points into and the leaf, if it is a
    /// pointer to a block.
    pub fn target(&self) -> Option<(Rc<Obj>, u32)> {
        self.target_obj().map(|(obj, cell)| (obj.clone(), cell))
    }

    /// [`Value::target`], borrowed.
    pub fn target_obj(&self) -> Option<(&Rc<Obj>, u32)> {
        match self {
            Value::Ptr(r) => Some((&r.obj, r.cell)),
            Value::Slice(s) => Some((&s.base.obj, s.base.cell)),
            Value::Str(s) => s.block.as_ref().map(|b| (b, s.offset)),
            Value::Map(m) => Some((&m.hmap, 0)),
            Value::Chan(c) => Some((&c.hchan, 0)),
            Value::Func(f) => f.env.as_ref().map(|e| (e, 0)),
            Value::Iface(i) => match &i.boxed {
                Some(b) => Some((b, 0)),
                None => i.vals.first().and_then(|v| v.target_obj()),
            },
            _ => None,
        }
    }

    /// A key for maps and `==` on pointer-shaped values.
    pub fn key(&self) -> MapKey {
        match self {
            Value::Int(n) => MapKey::Int(*n),
            Value::Bool(b) => MapKey::Bool(*b),
            Value::Float(f) => MapKey::Float(f.to_bits()),
            Value::Str(s) => MapKey::Str(s.bytes.clone()),
            Value::Nil => MapKey::Nil,
            Value::Iface(i) => {
                let mut k: Vec<MapKey> = i.vals.iter().map(Value::key).collect();
                k.push(MapKey::Int(i.ty.0 as i64));
                MapKey::Tuple(k)
            }
            Value::Ptr(r) => MapKey::Ptr(Rc::as_ptr(&r.obj) as usize, r.cell),
            Value::Map(m) => MapKey::Ptr(Rc::as_ptr(&m.hmap) as usize, 0),
            Value::Chan(c) => MapKey::Ptr(Rc::as_ptr(&c.hchan) as usize, 0),
            Value::Slice(s) => MapKey::Ptr(Rc::as_ptr(&s.base.obj) as usize, s.base.cell),
            Value::Func(f) => MapKey::Ptr(Rc::as_ptr(f) as usize, 0),
            Value::Sync(s) => MapKey::Ptr(Rc::as_ptr(s) as usize, 0),
        }
    }
}

//! The compact instruction encoding of a prepared trace: one goroutine's
//! events as a byte string, decoded on the fly by whoever runs them (the
//! replayer, the abstract machine, the oracle, the demographics).
//!
//! An event costs a few bytes here where the parsed [`crate::model::Event`]
//! costs 88 plus its heap parts; nothing is cloned or allocated to run it.
//! Compared with the binary file format ([`crate::binary`]) the encoding
//! drops what a goroutine's own stream implies (the goroutine id), uses the
//! dense numbers the analysis assigned (goroutine indices, [`BlockIdx`](crate::model::BlockIdx)es,
//! interned span tags), and carries the event's cross-goroutine
//! dependencies inline, so the replayer reads one stream per goroutine.
//!
//! # Layout of one instruction
//!
//! ```text
//! head    u8      kind (low 4 bits) | HAS_DEPS (0x10) | HAS_FRAME_BYTES (0x20)
//! [deps]  varint n, then n × (varint goroutine, varint seq)     if HAS_DEPS
//! body    by kind:
//!   CALL      varint locals, [varint frame_bytes], varint nargs, [varint args_bytes, nargs × src]
//!   RET       -
//!   RET_COPY  src, loc
//!   ALLOC     loc, varint block, varint size, varint ptr_slots
//!   GO        varint child (dense), varint locals, [varint frame_bytes], varint nargs, [varint args_bytes, nargs × src]
//!   SET       loc, src
//!   WORK      varint ns
//!   BEGIN/END varint tag (interned)
//!   EXIT, GC  -
//! loc     varint head = k << 3 | global << 2 | min(path len, 3); [varint len if ≥ 3]; path × varint
//! src     u8 0 (nil) | 1 loc | 2 loc, varint k (`loc@k`)
//! ```
//! `args_bytes` (present when `nargs > 0`) is the size of the encoded
//! arguments, so the decoder steps over them without decoding them twice.
//! Varints are unsigned LEB128. The encoder is the only writer and the
//! input was validated before it was encoded, so the decoder trusts it (a
//! corrupt stream can make it return nonsense or panic on a bounds check,
//! never do anything unsafe).

use crate::model::{Loc, Root, Src};

/// Instruction kinds (the low 4 bits of the head byte).
pub mod kind {
    pub const CALL: u8 = 1;
    pub const RET: u8 = 2;
    pub const RET_COPY: u8 = 3;
    pub const ALLOC: u8 = 4;
    pub const GO: u8 = 5;
    pub const SET: u8 = 6;
    pub const WORK: u8 = 7;
    pub const BEGIN: u8 = 8;
    pub const END: u8 = 9;
    pub const EXIT: u8 = 10;
    pub const GC: u8 = 11;
}

/// The kind bits of the head byte.
pub(crate) const KIND_MASK: u8 = 0x0f;
const HAS_DEPS: u8 = 0x10;
/// Head flag: the frame's size in bytes is given (`call` and `go`).
pub(crate) const HAS_FRAME_BYTES: u8 = 0x20;
// 0x40 and 0x80 are free here; the hand-off form ([`super::wire`]) uses 0x40.

/// Fixed frame overhead when `call`/`go` gives no size (return address and
/// frame pointer), as documented on [`crate::model::Op::Call`].
pub const DEFAULT_FRAME_OVERHEAD: u64 = 16;

/// A location as the stream holds it: its root, and its path steps still
/// encoded (decoded as they are followed, so decoding an instruction copies
/// nothing and allocates nothing).
#[derive(Clone, Copy, Debug)]
pub struct LocRef<'a> {
    pub root: Root,
    /// The encoded path steps (`steps` varints).
    path: &'a [u8],
    steps: u32,
}

impl<'a> LocRef<'a> {
    /// The slot offsets of the path, in order.
    #[inline]
    pub fn path(&self) -> Path<'a> {
        Path { bytes: self.path, pos: 0, left: self.steps }
    }

    /// How many steps the path has (each dereferences a block).
    #[inline]
    pub fn steps(&self) -> usize {
        self.steps as usize
    }

    /// The owned location.
    pub fn to_loc(&self) -> Loc {
        Loc { root: self.root, path: self.path().collect() }
    }
}

/// The steps of a [`LocRef`]'s path.
#[derive(Clone, Debug)]
pub struct Path<'a> {
    bytes: &'a [u8],
    pos: usize,
    left: u32,
}

impl Iterator for Path<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(read_u32(self.bytes, &mut self.pos))
    }
}

/// A source as the stream holds it (see [`LocRef`]).
#[derive(Clone, Copy, Debug)]
pub enum SrcRef<'a> {
    Nil,
    Loc(LocRef<'a>),
    /// `loc@k`.
    Interior(LocRef<'a>, u32),
}

impl SrcRef<'_> {
    /// The location it reads, if any.
    #[inline]
    pub fn loc(&self) -> Option<&LocRef<'_>> {
        match self {
            SrcRef::Nil => None,
            SrcRef::Loc(l) | SrcRef::Interior(l, _) => Some(l),
        }
    }

    /// The owned source.
    pub fn to_src(&self) -> Src {
        match self {
            SrcRef::Nil => Src::Nil,
            SrcRef::Loc(l) => Src::Loc(l.to_loc()),
            SrcRef::Interior(l, k) => Src::Interior(l.to_loc(), *k),
        }
    }
}

/// One decoded instruction: plain values and views into the stream (nothing
/// owned, nothing to drop); arguments decode lazily.
#[derive(Clone, Copy, Debug)]
pub enum Insn<'a> {
    Call {
        locals: u32,
        frame_bytes: u64,
        args: Args<'a>,
    },
    Ret {
        copy: Option<(SrcRef<'a>, LocRef<'a>)>,
    },
    Alloc {
        dst: LocRef<'a>,
        block: u32,
        size: u64,
        ptr_slots: u32,
    },
    /// `child` is the dense goroutine index.
    Go {
        child: u32,
        locals: u32,
        frame_bytes: u64,
        args: Args<'a>,
    },
    Set {
        dst: LocRef<'a>,
        src: SrcRef<'a>,
    },
    Work {
        ns: u64,
    },
    /// `tag` is the interned tag index.
    Begin {
        tag: u32,
    },
    End {
        tag: u32,
    },
    Exit,
    Gc,
}

/// The arguments of a `call` or `go`, decoded one by one.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a> {
    bytes: &'a [u8],
    pos: usize,
    left: u32,
}

impl Args<'_> {
    /// How many arguments are left.
    pub fn len(&self) -> usize {
        self.left as usize
    }
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl<'a> Iterator for Args<'a> {
    type Item = SrcRef<'a>;
    #[inline]
    fn next(&mut self) -> Option<SrcRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(read_src(self.bytes, &mut self.pos))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// A cross-goroutine dependency as the stream stores it.
pub type RawDep = (u32, u32);

/// Appends instructions to a goroutine's stream.
pub struct Encoder<'b> {
    pub buf: &'b mut Vec<u8>,
}

impl Encoder<'_> {
    #[inline]
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// The head byte and the dependencies.
    #[inline]
    pub fn head(&mut self, kind: u8, frame_bytes: bool, deps: &[RawDep]) {
        let mut h = kind;
        if frame_bytes {
            h |= HAS_FRAME_BYTES;
        }
        if !deps.is_empty() {
            h |= HAS_DEPS;
        }
        self.buf.push(h);
        if !deps.is_empty() {
            self.varint(deps.len() as u64);
            for &(g, s) in deps {
                self.varint(u64::from(g));
                self.varint(u64::from(s));
            }
        }
    }

    #[inline]
    pub fn loc(&mut self, loc: &Loc) {
        self.loc_head(loc.root, loc.path.len() as u64);
        for &s in &loc.path {
            self.varint(u64::from(s));
        }
    }

    /// A location's root and path length; its `steps` path steps follow as
    /// varints.
    #[inline]
    pub fn loc_head(&mut self, root: Root, steps: u64) {
        let (k, global) = match root {
            Root::Local(k) => (k, 0),
            Root::Global(k) => (k, 4),
        };
        self.varint(u64::from(k) << 3 | global | steps.min(3));
        if steps >= 3 {
            self.varint(steps);
        }
    }

    #[inline]
    pub fn src(&mut self, src: &Src) {
        match src {
            Src::Nil => self.buf.push(0),
            Src::Loc(l) => {
                self.buf.push(1);
                self.loc(l);
            }
            Src::Interior(l, k) => {
                self.buf.push(2);
                self.loc(l);
                self.varint(u64::from(*k));
            }
        }
    }

    /// A frame's shape and arguments (`call` and `go`).
    pub fn frame(&mut self, locals: u32, frame_bytes: Option<u64>, args: &[Src]) {
        self.varint(u64::from(locals));
        if let Some(b) = frame_bytes {
            self.varint(b);
        }
        self.varint(args.len() as u64);
        if !args.is_empty() {
            let at = self.buf.len();
            for a in args {
                self.src(a);
            }
            self.size_ahead(at);
        }
    }

    /// Puts the size of the bytes from `at` on (a frame's encoded
    /// arguments) ahead of them: they are encoded first, then moved behind
    /// it in place (a size under 128 bytes, the usual case, takes one byte).
    pub fn size_ahead(&mut self, at: usize) {
        let mut len = (self.buf.len() - at) as u64;
        let mut size = [0u8; 10];
        let mut n = 0;
        while len >= 0x80 {
            size[n] = (len as u8) | 0x80;
            len >>= 7;
            n += 1;
        }
        size[n] = len as u8;
        self.buf.splice(at..at, size[..=n].iter().copied());
    }
}

/// Most varints in a stream (kinds' operands, locals, path steps, sizes)
/// are one byte: that case is a load and a test.
#[inline(always)]
pub(crate) fn read_varint(b: &[u8], pos: &mut usize) -> u64 {
    let x = b[*pos];
    *pos += 1;
    if x < 0x80 {
        return u64::from(x);
    }
    read_varint_tail(b, pos, x)
}

/// The rest of a varint whose first byte was `first` (continued).
#[inline(always)]
fn read_varint_tail(b: &[u8], pos: &mut usize, first: u8) -> u64 {
    let mut v = u64::from(first & 0x7f);
    let mut shift = 7;
    loop {
        let x = b[*pos];
        *pos += 1;
        v |= u64::from(x & 0x7f) << shift;
        if x < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[inline(always)]
fn read_u32(b: &[u8], pos: &mut usize) -> u32 {
    read_varint(b, pos) as u32
}

/// Skips one varint.
#[inline(always)]
pub(crate) fn skip_varint(b: &[u8], pos: &mut usize) {
    while b[*pos] >= 0x80 {
        *pos += 1;
    }
    *pos += 1;
}

#[inline(always)]
fn read_loc<'a>(b: &'a [u8], pos: &mut usize) -> LocRef<'a> {
    let head = read_varint(b, pos);
    let k = (head >> 3) as u32;
    let root = if head & 4 != 0 { Root::Global(k) } else { Root::Local(k) };
    let mut n = (head & 3) as u32;
    if n == 3 {
        n = read_u32(b, pos);
    }
    let start = *pos;
    for _ in 0..n {
        skip_varint(b, pos);
    }
    LocRef { root, path: &b[start..*pos], steps: n }
}

#[inline(always)]
fn read_src<'a>(b: &'a [u8], pos: &mut usize) -> SrcRef<'a> {
    let tag = b[*pos];
    *pos += 1;
    match tag {
        0 => SrcRef::Nil,
        1 => SrcRef::Loc(read_loc(b, pos)),
        _ => {
            let l = read_loc(b, pos);
            SrcRef::Interior(l, read_u32(b, pos))
        }
    }
}

/// A cursor over one goroutine's instruction stream.
#[derive(Clone, Debug, Default)]
pub struct Reader {
    /// Byte offset of the next instruction.
    pub pos: usize,
}

impl Reader {
    /// Decodes the instruction at the cursor and moves past it; the
    /// dependencies are handed to `deps` first (goroutine, seq).
    #[inline]
    pub fn next<'a>(&mut self, b: &'a [u8], mut deps: impl FnMut(u32, u32)) -> Insn<'a> {
        let pos = &mut self.pos;
        let head = b[*pos];
        *pos += 1;
        if head & HAS_DEPS != 0 {
            let n = read_varint(b, pos);
            for _ in 0..n {
                let g = read_u32(b, pos);
                let s = read_u32(b, pos);
                deps(g, s);
            }
        }
        read_body(b, pos, head)
    }
}

/// Decodes the body of an instruction whose head byte was `head` (only its
/// kind and [`HAS_FRAME_BYTES`] are looked at), starting at `pos` and
/// moving past it. The one decoder of bodies: the [`Reader`] of programs
/// and the reader of the hand-off form ([`super::wire`]) both use it.
#[inline(always)]
pub(crate) fn read_body<'a>(b: &'a [u8], pos: &mut usize, head: u8) -> Insn<'a> {
    let with_bytes = head & HAS_FRAME_BYTES != 0;
    match head & KIND_MASK {
        kind::CALL | kind::GO => {
            let child = if head & KIND_MASK == kind::GO { Some(read_u32(b, pos)) } else { None };
            let locals = read_u32(b, pos);
            let frame_bytes =
                if with_bytes { read_varint(b, pos) } else { DEFAULT_FRAME_OVERHEAD + 8 * u64::from(locals) };
            let nargs = read_u32(b, pos);
            let len = if nargs == 0 { 0 } else { read_varint(b, pos) as usize };
            let start = *pos;
            *pos += len;
            let args = Args { bytes: &b[..*pos], pos: start, left: nargs };
            match child {
                Some(child) => Insn::Go { child, locals, frame_bytes, args },
                None => Insn::Call { locals, frame_bytes, args },
            }
        }
        kind::RET => Insn::Ret { copy: None },
        kind::RET_COPY => {
            let src = read_src(b, pos);
            let dst = read_loc(b, pos);
            Insn::Ret { copy: Some((src, dst)) }
        }
        kind::ALLOC => {
            let dst = read_loc(b, pos);
            let block = read_u32(b, pos);
            let size = read_varint(b, pos);
            let ptr_slots = read_u32(b, pos);
            Insn::Alloc { dst, block, size, ptr_slots }
        }
        kind::SET => {
            let dst = read_loc(b, pos);
            let src = read_src(b, pos);
            Insn::Set { dst, src }
        }
        kind::WORK => Insn::Work { ns: read_varint(b, pos) },
        kind::BEGIN => Insn::Begin { tag: read_u32(b, pos) },
        kind::END => Insn::End { tag: read_u32(b, pos) },
        kind::EXIT => Insn::Exit,
        _ => Insn::Gc,
    }
}

/// Decodes the varint stream of a goroutine's dereferenced blocks.
#[inline]
pub fn read_block(b: &[u8], pos: &mut usize) -> u32 {
    read_u32(b, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{gl, interior, l};

    #[test]
    fn every_kind_round_trips_with_deps() {
        let mut buf = Vec::new();
        let mut e = Encoder { buf: &mut buf };
        e.head(kind::CALL, true, &[(3, 70000)]);
        e.frame(3, Some(4096), &[Src::Nil, l(1).slot(2).into(), interior(gl(300).slot(1).slot(2).slot(3), 9)]);
        e.head(kind::ALLOC, false, &[]);
        e.loc(&l(0).slot(5));
        e.varint(1_000_000);
        e.varint(1 << 40);
        e.varint(7);
        e.head(kind::GO, false, &[(0, 1), (9, 2)]);
        e.varint(17);
        e.frame(2, None, &[l(0).into()]);
        e.head(kind::EXIT, false, &[]);
        let mut r = Reader::default();
        let mut deps = Vec::new();
        match r.next(&buf, |g, s| deps.push((g, s))) {
            Insn::Call { locals: 3, frame_bytes: 4096, args } => {
                let a: Vec<Src> = args.map(|a| a.to_src()).collect();
                assert_eq!(a, vec![Src::Nil, l(1).slot(2).into(), interior(gl(300).slot(1).slot(2).slot(3), 9)]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(deps, vec![(3, 70000)]);
        match r.next(&buf, |_, _| panic!("no deps")) {
            Insn::Alloc { dst, block, size, ptr_slots } => {
                assert_eq!((dst.to_loc(), block, size, ptr_slots), (l(0).slot(5), 1_000_000, 1 << 40, 7));
            }
            other => panic!("{other:?}"),
        }
        deps.clear();
        match r.next(&buf, |g, s| deps.push((g, s))) {
            Insn::Go { child: 17, locals: 2, frame_bytes: 32, args } => assert_eq!(args.len(), 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(deps, vec![(0, 1), (9, 2)]);
        assert!(matches!(r.next(&buf, |_, _| {}), Insn::Exit));
        assert_eq!(r.pos, buf.len());
    }

    #[test]
    fn arguments_over_127_bytes_keep_their_size_ahead_of_them() {
        // 40 arguments of 5 bytes (tag, two-byte head, two-byte step): a
        // 200-byte argument list, whose size takes two varint bytes.
        let args: Vec<Src> = (0..40).map(|k| l(100 + k).slot(300).into()).collect();
        let mut buf = Vec::new();
        let mut e = Encoder { buf: &mut buf };
        e.head(kind::CALL, false, &[]);
        e.frame(200, None, &args);
        e.head(kind::GC, false, &[]);
        let mut r = Reader::default();
        match r.next(&buf, |_, _| panic!("no deps")) {
            Insn::Call { locals: 200, args: got, .. } => {
                assert_eq!(got.map(|a| a.to_src()).collect::<Vec<_>>(), args);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.next(&buf, |_, _| {}), Insn::Gc), "the reader stepped over the arguments by their size");
        assert_eq!(r.pos, buf.len());
    }
}

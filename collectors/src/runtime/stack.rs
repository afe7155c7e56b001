//! A goroutine's stack: real, growable memory for frames and stack blocks.
//!
//! Go gives each goroutine a contiguous stack that starts at 2 KiB
//! (`stackMin`, runtime/stack.go). When a call or a stack allocation needs
//! more room, `newstack` allocates a stack twice as large, copies the old one
//! (`copystack`) and adjusts every pointer into the old stack so it points
//! into the new one — which is sound because only the goroutine's own stack
//! can hold pointers into its stack (anything else would have made the
//! pointee escape to the heap). At a GC, a stack less than a quarter used is
//! halved (`shrinkstack`). A stack may not grow past `maxstacksize`
//! (1,000,000,000 bytes on 64-bit, 250,000,000 on 32-bit; since sizes double,
//! the real limit is the largest power of two not above it); exceeding it is
//! the fatal `runtime: goroutine stack exceeds 1000000000-byte limit`.
//!
//! Layout: frames are pushed one after another; each frame's first words are
//! its pointer locals, followed by its scalar words, followed by the blocks
//! allocated on the stack while it is the top frame. Popping a frame frees
//! its blocks with it; the collector never frees stack memory, it only scans
//! it: every frame's locals and every stack block's pointer slots are roots.
//! The whole stack is dropped when its goroutine exits.

use crate::heap::Address;
use crate::host::{RootKind, RootVisitor};
use std::sync::atomic::{AtomicU64, Ordering};

/// Go's initial (and minimum) stack size: `stackMin` in runtime/stack.go.
pub const STACK_MIN_BYTES: u64 = 2048;
/// `maxstacksize` on 64-bit platforms (runtime/proc.go).
pub const MAX_STACK_SETTING_64: u64 = 1_000_000_000;
/// `maxstacksize` on 32-bit platforms (runtime/proc.go).
pub const MAX_STACK_SETTING_32: u64 = 250_000_000;

const WORD: u64 = 8;

/// The stack-size limit: Go's `maxstacksize` setting (what the fatal error
/// message prints) and the effective limit it implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackLimit {
    /// The configured maximum in bytes (`debug.SetMaxStack`).
    pub setting: u64,
}

impl StackLimit {
    /// The 64-bit default (1 GB setting, 512 MiB effective).
    pub const DEFAULT_64: StackLimit = StackLimit { setting: MAX_STACK_SETTING_64 };
    /// The 32-bit default (250 MB setting, 128 MiB effective).
    pub const DEFAULT_32: StackLimit = StackLimit { setting: MAX_STACK_SETTING_32 };

    /// The largest stack size a goroutine can reach: the largest power of two
    /// not above the setting (stacks only ever double), and at least the
    /// initial 2 KiB.
    pub fn effective_bytes(&self) -> u64 {
        if self.setting < STACK_MIN_BYTES {
            return STACK_MIN_BYTES;
        }
        1u64 << (63 - self.setting.leading_zeros())
    }
}

impl Default for StackLimit {
    fn default() -> Self {
        StackLimit::DEFAULT_64
    }
}

/// A stack would have to grow past its limit: Go's fatal stack overflow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("goroutine stack exceeds {limit}-byte limit")]
pub struct StackOverflow {
    /// The configured limit (as Go prints it).
    pub limit: u64,
    /// The stack size that was needed, in bytes.
    pub needed: u64,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// First word of the frame.
    start: usize,
    /// Number of pointer locals (the frame's first words).
    locals: u32,
    /// Index in `blocks` of this frame's first stack block.
    first_block: usize,
}

#[derive(Clone, Copy, Debug)]
struct StackBlock {
    start: usize,
    ptr_slots: u32,
}

/// One goroutine's stack.
pub struct Stack {
    mem: Box<[AtomicU64]>,
    /// Words in use (frames and their blocks).
    used: usize,
    frames: Vec<Frame>,
    blocks: Vec<StackBlock>,
    limit: StackLimit,
    growths: u64,
    shrinks: u64,
    peak_bytes: u64,
}

/// Zeroes words the stack owns exclusively (`&mut`: no other thread can be
/// reading them), as plain stores the compiler turns into a `memset`.
fn zero(words: &mut [AtomicU64]) {
    for w in words {
        *w.get_mut() = 0;
    }
}

/// `n` zeroed words from the allocator's zeroed memory (`alloc_zeroed`,
/// glibc's `calloc`), which zeroes only what is not already known to be
/// zero: memory reused from the allocator's free lists is cleared with a
/// `memset`, fresh pages from the kernel not at all, so a growth touches
/// only the pages the copy fills. Collecting `AtomicU64::new(0)`s wrote
/// every word of the new stack, faulting in all its pages: the move to
/// 1 MiB took 0.48 ms, with this 24 µs when the allocator reuses memory
/// (`benches/stack.rs`, `last-growth`). On fresh pages the copy's page
/// faults remain (about 1 µs a page on the 2-core VM): the default
/// workload's growths of over 150 µs took 32 ms in all against 50–55 ms.
fn zeroed_words(n: usize) -> Box<[AtomicU64]> {
    if n == 0 {
        return Box::new([]);
    }
    let layout = std::alloc::Layout::array::<AtomicU64>(n).expect("a stack's size fits in memory");
    // SAFETY: the layout is non-zero-sized (n > 0). Zero bytes are a valid
    // `AtomicU64` (it has the bit validity of `u64`), so the memory is an
    // initialized `[AtomicU64; n]`; it was allocated by the global
    // allocator with the layout of exactly that array, which is the layout
    // `Box<[AtomicU64]>` frees it with.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<AtomicU64>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n))
    }
}

impl Stack {
    /// A new, empty 2 KiB stack.
    pub fn new(limit: StackLimit) -> Stack {
        let words = (STACK_MIN_BYTES / WORD) as usize;
        Stack {
            mem: zeroed_words(words),
            used: 0,
            frames: Vec::new(),
            blocks: Vec::new(),
            limit,
            growths: 0,
            shrinks: 0,
            peak_bytes: STACK_MIN_BYTES,
        }
    }

    /// Current size of the stack in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.mem.len() as u64 * WORD
    }

    /// Bytes in use by frames and stack blocks.
    pub fn used_bytes(&self) -> u64 {
        self.used as u64 * WORD
    }

    /// The largest size this stack has had.
    pub fn peak_bytes(&self) -> u64 {
        self.peak_bytes
    }

    /// How many times the stack was doubled.
    pub fn growths(&self) -> u64 {
        self.growths
    }

    /// How many times the stack was halved at a GC.
    pub fn shrinks(&self) -> u64 {
        self.shrinks
    }

    /// Number of frames.
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    fn base(&self) -> Address {
        self.mem.as_ptr() as Address
    }

    fn addr_of(&self, word: usize) -> Address {
        self.base() + word as u64 * WORD
    }

    /// Is `addr` inside the part of this stack in use?
    pub fn contains(&self, addr: Address) -> bool {
        let base = self.base();
        addr >= base && addr < base + self.used as u64 * WORD
    }

    /// The stack word at `addr`, if it is an aligned address in use.
    pub fn word_at(&self, addr: Address) -> Option<&AtomicU64> {
        if !self.contains(addr) || !addr.is_multiple_of(WORD) {
            return None;
        }
        self.mem.get(((addr - self.base()) / WORD) as usize)
    }

    /// Local `k` of frame `depth` (0 is the oldest frame).
    pub fn local_at(&self, depth: usize, k: u32) -> Option<&AtomicU64> {
        let f = self.frames.get(depth)?;
        if k >= f.locals {
            return None;
        }
        self.mem.get(f.start + k as usize)
    }

    /// Local `k` of the top frame.
    pub fn local(&self, k: u32) -> Option<&AtomicU64> {
        self.local_at(self.frames.len().checked_sub(1)?, k)
    }

    /// Makes room for `extra` more words, doubling (by copying) as needed.
    fn reserve(&mut self, extra: usize) -> Result<(), StackOverflow> {
        let needed = self.used + extra;
        if needed <= self.mem.len() {
            return Ok(());
        }
        let mut words = self.mem.len();
        while words < needed {
            words *= 2;
        }
        if words as u64 * WORD > self.limit.effective_bytes() {
            return Err(StackOverflow { limit: self.limit.setting, needed: words as u64 * WORD });
        }
        self.move_to(words);
        self.growths += 1;
        self.peak_bytes = self.peak_bytes.max(self.size_bytes());
        Ok(())
    }

    /// Copies the stack into fresh memory of `words` words and adjusts every
    /// pointer into the old stack (Go's `copystack` + `adjustpointers`).
    fn move_to(&mut self, words: usize) {
        let old_base = self.base();
        let old_end = old_base + self.mem.len() as u64 * WORD;
        let mut new = zeroed_words(words);
        for (dst, src) in new.iter_mut().zip(self.mem[..self.used].iter_mut()) {
            *dst.get_mut() = *src.get_mut();
        }
        let new_base = new.as_ptr() as Address;
        let adjust = |w: &AtomicU64| {
            let v = w.load(Ordering::Relaxed);
            if v >= old_base && v < old_end {
                w.store(v - old_base + new_base, Ordering::Relaxed);
            }
        };
        for f in &self.frames {
            for w in &new[f.start..f.start + f.locals as usize] {
                adjust(w);
            }
        }
        for b in &self.blocks {
            for w in &new[b.start..b.start + b.ptr_slots as usize] {
                adjust(w);
            }
        }
        self.mem = new;
    }

    /// Pushes a frame of `locals` nil pointer locals and `frame_bytes` bytes
    /// in all (at least the locals).
    pub fn push_frame(&mut self, locals: u32, frame_bytes: u64) -> Result<(), StackOverflow> {
        let words = (frame_bytes.div_ceil(WORD) as usize).max(locals as usize);
        self.reserve(words)?;
        let start = self.used;
        zero(&mut self.mem[start..start + locals as usize]);
        self.used += words;
        self.frames.push(Frame { start, locals, first_block: self.blocks.len() });
        Ok(())
    }

    /// Pops the top frame and the blocks allocated in it. Returns false if
    /// there was no frame.
    pub fn pop_frame(&mut self) -> bool {
        match self.frames.pop() {
            Some(f) => {
                self.used = f.start;
                self.blocks.truncate(f.first_block);
                true
            }
            None => false,
        }
    }

    /// Allocates a zeroed block of `size` bytes with `ptr_slots` leading
    /// pointer slots in the top frame, and returns its address (valid until
    /// the frame pops or the stack moves — the stack adjusts pointers it
    /// holds, callers must not keep addresses across a growth).
    pub fn alloc_block(&mut self, size: u64, ptr_slots: u32) -> Result<Address, StackOverflow> {
        let words = (size.div_ceil(WORD) as usize).max(ptr_slots as usize).max(1);
        self.reserve(words)?;
        let start = self.used;
        zero(&mut self.mem[start..start + words]);
        self.used += words;
        self.blocks.push(StackBlock { start, ptr_slots });
        Ok(self.addr_of(start))
    }

    /// Visits every root slot on the stack: each frame's locals, then each
    /// stack block's pointer slots.
    pub fn scan(&self, visit: &mut RootVisitor<'_>) {
        for f in &self.frames {
            for w in &self.mem[f.start..f.start + f.locals as usize] {
                visit(w, RootKind::Local);
            }
        }
        for b in &self.blocks {
            for w in &self.mem[b.start..b.start + b.ptr_slots as usize] {
                visit(w, RootKind::StackBlock);
            }
        }
    }

    /// Halves the stack if less than a quarter of it is in use and it is
    /// larger than the minimum (Go's `shrinkstack` at GC). Returns whether
    /// it shrank.
    pub fn shrink_if_sparse(&mut self) -> bool {
        let words = self.mem.len();
        let min_words = (STACK_MIN_BYTES / WORD) as usize;
        if words <= min_words || self.used * 4 >= words {
            return false;
        }
        self.move_to(words / 2);
        self.shrinks += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_limit_is_largest_power_of_two_not_above_setting() {
        assert_eq!(StackLimit::DEFAULT_64.effective_bytes(), 512 << 20);
        assert_eq!(StackLimit::DEFAULT_32.effective_bytes(), 128 << 20);
        assert_eq!(StackLimit { setting: 4096 }.effective_bytes(), 4096);
        assert_eq!(StackLimit { setting: 4095 }.effective_bytes(), 2048);
    }

    #[test]
    fn stack_starts_at_2k_and_doubles_by_copying() {
        let mut s = Stack::new(StackLimit::default());
        assert_eq!(s.size_bytes(), 2048);
        s.push_frame(2, 1024).unwrap();
        assert_eq!(s.growths(), 0);
        s.push_frame(2, 2048).unwrap();
        assert_eq!(s.size_bytes(), 4096);
        assert_eq!(s.growths(), 1);
        s.push_frame(1, 10_000).unwrap();
        assert_eq!(s.size_bytes(), 16384);
        assert_eq!(s.growths(), 2);
    }

    #[test]
    fn growth_adjusts_pointers_into_the_stack() {
        let mut s = Stack::new(StackLimit::default());
        s.push_frame(2, 32).unwrap();
        let z = s.alloc_block(16, 2).unwrap();
        s.local(0).unwrap().store(z + 8, Ordering::Relaxed); // interior pointer to z's slot 1
        s.local(1).unwrap().store(0xdead_0000, Ordering::Relaxed); // not a stack pointer
        let old = z;
        s.push_frame(1, 8192).unwrap();
        assert!(s.growths() > 0);
        let l0 = s.local_at(0, 0).unwrap().load(Ordering::Relaxed);
        assert_ne!(l0, old + 8);
        assert!(s.contains(l0));
        assert_eq!(s.local_at(0, 1).unwrap().load(Ordering::Relaxed), 0xdead_0000);
        // The word it points at is z's slot 1 in the new stack.
        s.word_at(l0).unwrap().store(42, Ordering::Relaxed);
        let mut seen = vec![];
        s.scan(&mut |w, k| seen.push((w.load(Ordering::Relaxed), k)));
        assert!(seen.contains(&(42, RootKind::StackBlock)));
    }

    #[test]
    fn overflow_past_the_limit_reports_the_setting() {
        let mut s = Stack::new(StackLimit { setting: 1_000_000 });
        let mut err = None;
        for _ in 0..1000 {
            if let Err(e) = s.push_frame(1, 4096) {
                err = Some(e);
                break;
            }
        }
        let e = err.expect("a 1 MB limit must overflow");
        assert_eq!(e.limit, 1_000_000);
        assert_eq!(e.to_string(), "goroutine stack exceeds 1000000-byte limit");
        assert!(s.size_bytes() <= 1 << 19);
    }

    #[test]
    fn popping_frees_the_frames_blocks_and_sparse_stacks_halve() {
        let mut s = Stack::new(StackLimit::default());
        s.push_frame(1, 16).unwrap();
        s.push_frame(1, 16).unwrap();
        s.alloc_block(8000, 3).unwrap();
        assert_eq!(s.size_bytes(), 8192, "2 + 2 + 1000 words fit in 8 KiB");
        let mut roots = 0;
        s.scan(&mut |_, _| roots += 1);
        assert_eq!(roots, 2 + 3);
        assert!(s.pop_frame());
        let mut roots = 0;
        s.scan(&mut |_, _| roots += 1);
        assert_eq!(roots, 1);
        assert!(s.shrink_if_sparse());
        assert_eq!(s.size_bytes(), 4096, "halved once per GC, not to the minimum at once");
        assert_eq!(s.local(0).unwrap().load(Ordering::Relaxed), 0);
        assert!(s.pop_frame());
        assert!(!s.pop_frame());
    }
}

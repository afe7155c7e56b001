//! Anonymous virtual memory mappings: the heap's one contiguous address
//! range, and the side tables (the page table) that are sized by it.
//!
//! Every mapping is `PROT_READ | PROT_WRITE`, `MAP_PRIVATE | MAP_ANONYMOUS |
//! MAP_NORESERVE`: the kernel commits a page only when it is first touched, so
//! reserving 64 GiB costs address space, not memory (Go's heap arenas work
//! the same way, `runtime/mem_linux.go` `sysReserve`). Fresh pages read as
//! zero, which is what lets the allocator skip zeroing memory it has never
//! handed out. The mapping is unmapped on drop.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8};

/// One anonymous, lazily committed mapping.
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Mapping` is plain memory owned by this value; it hands out only
// shared references to atomics (`words`, `u32s`), so it can be shared and
// sent between threads.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`: all access through `&Mapping` is atomic.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes (rounded up to the OS page size by the kernel).
    pub(crate) fn new(len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot map 0 bytes"));
        }
        // SAFETY: an anonymous private mapping at an address of the kernel's
        // choosing aliases no existing Rust object; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(Mapping { ptr, len })
    }

    /// Address of the first byte.
    #[inline(always)]
    pub(crate) fn start(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    /// Length in bytes.
    #[inline(always)]
    pub(crate) fn len(&self) -> u64 {
        self.len as u64
    }

    /// The whole mapping as 64-bit atomic words.
    #[inline(always)]
    pub(crate) fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is `len` readable and writable bytes, aligned
        // to the OS page size (so to 8), alive as long as `self`, and zero-
        // initialised; `AtomicU64` has the size and alignment of `u64` and
        // every bit pattern is valid. All access goes through atomics, so
        // sharing the slice between threads is free of data races.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU64>(), self.len / 8) }
    }

    /// The whole mapping as 32-bit atomic words.
    #[inline(always)]
    pub(crate) fn u32s(&self) -> &[AtomicU32] {
        // SAFETY: as for `words`, with `AtomicU32` (size and alignment 4).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU32>(), self.len / 4) }
    }

    /// The whole mapping as atomic bytes.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[AtomicU8] {
        // SAFETY: as for `words`, with `AtomicU8` (size and alignment 1).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU8>(), self.len) }
    }

    /// Tells the kernel it may drop the physical pages behind
    /// `[offset, offset + len)`; they read as zero afterwards. Best effort.
    pub(crate) fn release(&self, offset: u64, len: u64) {
        debug_assert!(offset + len <= self.len());
        // SAFETY: the range lies inside this mapping (asserted by callers,
        // which pass page-aligned spans of it). MADV_DONTNEED on a private
        // anonymous mapping only replaces the pages with zero pages; any
        // concurrent atomic access sees either old data or zero, never UB.
        unsafe {
            libc::madvise(self.ptr.as_ptr().add(offset as usize).cast(), len as usize, libc::MADV_DONTNEED);
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` came from a successful mmap and no reference
        // into the mapping outlives `self` (they all borrow it).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The smallest size [`reserve`] falls back to when the requested one cannot
/// be mapped (the address space may be limited by `ulimit -v` or by
/// `vm.overcommit_memory = 2`, which ignores `MAP_NORESERVE`).
pub(crate) const MIN_FALLBACK_BYTES: u64 = 1 << 30;

/// Maps `bytes` (a multiple of `align`), halving on failure down to
/// [`MIN_FALLBACK_BYTES`] (or once, when asked for less). Returns the mapping,
/// or the first error and the smallest size tried.
pub(crate) fn reserve(bytes: u64, align: u64) -> Result<Mapping, (io::Error, u64)> {
    let mut size = bytes;
    let mut first_err = None;
    loop {
        match usize::try_from(size)
            .map_err(|_| io::Error::other("size exceeds the address space"))
            .and_then(Mapping::new)
        {
            Ok(m) => return Ok(m),
            Err(e) => {
                let err = first_err.get_or_insert(e);
                let half = (size / 2) / align * align;
                if half < MIN_FALLBACK_BYTES || half == 0 {
                    let e = std::mem::replace(err, io::Error::other(""));
                    return Err((e, size));
                }
                size = half;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn mapping_is_zeroed_and_writable() {
        let m = Mapping::new(1 << 20).unwrap();
        let w = m.words();
        assert_eq!(w.len(), (1 << 20) / 8);
        assert_eq!(w[1000].load(Ordering::Relaxed), 0);
        w[1000].store(7, Ordering::Relaxed);
        assert_eq!(w[1000].load(Ordering::Relaxed), 7);
        m.release(0, 1 << 20);
        assert_eq!(w[1000].load(Ordering::Relaxed), 0, "MADV_DONTNEED pages read as zero");
    }

    #[test]
    fn zero_bytes_is_refused() {
        assert!(Mapping::new(0).is_err());
        assert!(reserve(0, 8192).is_err());
    }
}

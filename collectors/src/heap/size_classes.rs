//! Size classes: the fixed set of block sizes small allocations are rounded
//! up to, each with the span size (in pages) that holds its blocks.
//!
//! The table is computed at compile time by a rule modelled on Go's
//! `runtime/mksizeclasses.go`:
//!
//! 1. Candidate sizes: 8, 16, 24, 32, then multiples of 16 up to 128, then
//!    in every power-of-two band `[P, 2P)` steps of `P/8`. A request of
//!    `prev + 1` bytes (the worst case for a class whose predecessor is
//!    `prev`) then wastes less than 1/8 of its block once blocks are ≥ 128 B.
//! 2. Each class's span is the smallest number of 8 KiB pages whose tail (the
//!    bytes left over after the last whole block) is at most 1/8 of the span.
//! 3. A candidate that fits the same number of blocks into the same number of
//!    pages as the class before it replaces that class (it is strictly
//!    better: larger blocks, same memory), unless that would break the 1/8
//!    internal-waste bound for requests just above the class before that.
//! 4. Finally each class grows to the largest multiple of 128 B that still
//!    fits the same number of blocks into its span (Go does the same), again
//!    only as far as the waste bound allows.
//!
//! The result has [`NUM_SIZE_CLASSES`]` - 1` real classes (68; Go has 67):
//! class 0 stands for "large" (a block above [`MAX_SMALL_BYTES`] with a span
//! of its own). Unlike Go, whose table lets the rounding waste reach ~15%
//! after its merge step, every class above 128 B here keeps the 12.5% bound;
//! the unit tests check both bounds, monotonicity, and the lookup tables.
//!
//! A *span class* (Go's `spanClass`) is `class << 1 | noscan`: blocks without
//! pointer slots live in separate spans that marking never scans.

/// Bytes per page, the unit spans are made of (Go's `_PageSize`, 8 KiB).
pub const PAGE_BYTES: u64 = 1 << PAGE_SHIFT;
/// `log2(PAGE_BYTES)`.
pub const PAGE_SHIFT: u32 = 13;
/// The largest small block; anything bigger gets a dedicated span
/// (Go's `_MaxSmallSize`, 32 KiB).
pub const MAX_SMALL_BYTES: u64 = 32 << 10;
/// Sizes up to this many bytes are looked up in 8-byte steps, larger ones in
/// 128-byte steps (Go's `smallSizeMax` and `largeSizeDiv`).
const SMALL_SIZE_MAX: u64 = 1024;
const SMALL_SIZE_DIV: u64 = 8;
const LARGE_SIZE_DIV: u64 = 128;
/// Worst-case waste allowed, as a fraction `1/WASTE_DIV`, both for rounding a
/// request up to its class (above 128 B) and for a span's unused tail.
const WASTE_DIV: u64 = 8;
/// Internal waste is only bounded from this class size on: below it the
/// 8- and 16-byte alignment steps are already as fine as they can be.
const WASTE_BOUND_FROM: u64 = 128;
/// Room for candidates while generating (there are 78).
const MAX_CANDIDATES: usize = 96;

/// One size class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeClass {
    /// Block size in bytes (0 for class 0, "large").
    pub bytes: u32,
    /// Pages per span.
    pub pages: u32,
    /// Blocks per span: `pages * PAGE_BYTES / bytes`.
    pub objects: u32,
    /// `u32::MAX / bytes + 1`: `(offset * div_mul) >> 32 == offset / bytes`
    /// for every offset inside a span (Go's `divMul`; checked by a test).
    pub div_mul: u32,
}

const fn is_pow2(x: u64) -> bool {
    x & (x - 1) == 0
}

/// Smallest page count whose tail waste for `size`-byte blocks is ≤ 1/8.
const fn span_pages(size: u64) -> u64 {
    let mut bytes = PAGE_BYTES;
    while bytes % size > bytes / WASTE_DIV {
        bytes += PAGE_BYTES;
    }
    bytes / PAGE_BYTES
}

/// Does a class of `size` bytes after one of `prev` bytes keep the rounding
/// waste of a `prev + 1`-byte request within 1/8?
const fn waste_ok(size: u64, prev: u64) -> bool {
    prev < WASTE_BOUND_FROM || (size - prev - 1) * WASTE_DIV <= size
}

/// The class sizes (ascending) and how many there are.
const fn generate() -> ([u64; MAX_CANDIDATES], usize) {
    let mut out = [0u64; MAX_CANDIDATES];
    let mut n = 0;
    // Steps 1-3: candidates, merged when same pages and same block count.
    let mut align = 8;
    let mut size = 8;
    while size <= MAX_SMALL_BYTES {
        if is_pow2(size) {
            if size >= WASTE_BOUND_FROM {
                align = size / WASTE_DIV;
            } else if size >= 32 {
                align = 16;
            }
        }
        let pages = span_pages(size);
        let merge = n >= 2 && {
            let last = out[n - 1];
            let lp = span_pages(last);
            lp == pages && lp * PAGE_BYTES / last == pages * PAGE_BYTES / size && waste_ok(size, out[n - 2])
        };
        if merge {
            out[n - 1] = size;
        } else {
            out[n] = size;
            n += 1;
        }
        size += align;
    }
    // Step 4: grow each class while its span still holds as many blocks.
    let mut i = 0;
    while i < n {
        let size = out[i];
        let span = span_pages(size) * PAGE_BYTES;
        let prev = if i == 0 { 0 } else { out[i - 1] };
        let next = if i + 1 < n { out[i + 1] } else { u64::MAX };
        let mut grown = (span / (span / size)) & !(LARGE_SIZE_DIV - 1);
        while grown > size && (!waste_ok(grown, prev) || grown >= next) {
            grown -= LARGE_SIZE_DIV;
        }
        if grown > size && span_pages(grown) * PAGE_BYTES == span {
            out[i] = grown;
        }
        i += 1;
    }
    (out, n)
}

const GENERATED: ([u64; MAX_CANDIDATES], usize) = generate();

/// Number of size classes, counting class 0 ("large").
pub const NUM_SIZE_CLASSES: usize = GENERATED.1 + 1;
/// Number of span classes: a scan and a no-scan one per size class.
pub const NUM_SPAN_CLASSES: usize = NUM_SIZE_CLASSES * 2;

/// The size-class table; entry 0 is the "large" pseudo-class.
pub const SIZE_CLASSES: [SizeClass; NUM_SIZE_CLASSES] = {
    let mut t = [SizeClass { bytes: 0, pages: 0, objects: 0, div_mul: 0 }; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        let bytes = GENERATED.0[c - 1];
        let pages = span_pages(bytes);
        t[c] = SizeClass {
            bytes: bytes as u32,
            pages: pages as u32,
            objects: (pages * PAGE_BYTES / bytes) as u32,
            div_mul: (u32::MAX as u64 / bytes + 1) as u32,
        };
        c += 1;
    }
    t
};

// A span class is stored in a `u8`.
const _: () = assert!(NUM_SPAN_CLASSES <= 256);

/// The most blocks any span holds (1024 blocks of 8 B in one page).
pub const MAX_OBJECTS_PER_SPAN: u32 = (PAGE_BYTES / 8) as u32;

/// Class of sizes `1..=1024`, indexed by `ceil(size / 8)`.
static SIZE_TO_CLASS8: [u8; (SMALL_SIZE_MAX / SMALL_SIZE_DIV) as usize + 1] = {
    let mut t = [0u8; (SMALL_SIZE_MAX / SMALL_SIZE_DIV) as usize + 1];
    let mut i = 0;
    let mut c = 1;
    while i < t.len() {
        while (SIZE_CLASSES[c].bytes as u64) < i as u64 * SMALL_SIZE_DIV {
            c += 1;
        }
        t[i] = c as u8;
        i += 1;
    }
    t
};

/// Class of sizes `1025..=32768`, indexed by `ceil((size - 1024) / 128)`.
static SIZE_TO_CLASS128: [u8; ((MAX_SMALL_BYTES - SMALL_SIZE_MAX) / LARGE_SIZE_DIV) as usize + 1] = {
    let mut t = [0u8; ((MAX_SMALL_BYTES - SMALL_SIZE_MAX) / LARGE_SIZE_DIV) as usize + 1];
    let mut i = 0;
    let mut c = 1;
    while i < t.len() {
        while (SIZE_CLASSES[c].bytes as u64) < SMALL_SIZE_MAX + i as u64 * LARGE_SIZE_DIV {
            c += 1;
        }
        t[i] = c as u8;
        i += 1;
    }
    t
};

/// The size class of a small request: `1 <= size <= MAX_SMALL_BYTES`.
#[inline(always)]
pub fn size_to_class(size: u64) -> usize {
    debug_assert!((1..=MAX_SMALL_BYTES).contains(&size));
    if size <= SMALL_SIZE_MAX {
        SIZE_TO_CLASS8[size.div_ceil(SMALL_SIZE_DIV) as usize] as usize
    } else {
        SIZE_TO_CLASS128[(size - SMALL_SIZE_MAX).div_ceil(LARGE_SIZE_DIV) as usize] as usize
    }
}

/// Go's `spanClass`: size class and the no-scan bit in one small integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanClass(pub u8);

impl SpanClass {
    /// The span class of `size_class` blocks with (`noscan == false`) or
    /// without pointer slots.
    #[inline(always)]
    pub fn new(size_class: usize, noscan: bool) -> SpanClass {
        SpanClass(((size_class as u8) << 1) | noscan as u8)
    }
    /// Its size class (0: large).
    #[inline(always)]
    pub fn size_class(self) -> usize {
        (self.0 >> 1) as usize
    }
    /// Do its blocks have no pointer slots?
    #[inline(always)]
    pub fn noscan(self) -> bool {
        self.0 & 1 != 0
    }
    /// Index into per-span-class tables (`0..NUM_SPAN_CLASSES`).
    #[inline(always)]
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// Class 0: a span holding one large block.
    #[inline(always)]
    pub fn is_large(self) -> bool {
        self.size_class() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> &'static [SizeClass] {
        &SIZE_CLASSES[1..]
    }

    #[test]
    fn there_are_about_as_many_classes_as_in_go() {
        assert!((60..=70).contains(&classes().len()), "{} classes", classes().len());
        assert_eq!(classes()[0].bytes, 8);
        assert_eq!(classes().last().unwrap().bytes as u64, MAX_SMALL_BYTES);
    }

    #[test]
    fn the_rule_generates_this_table() {
        // Same rule, computed independently (a 30-line script); a change here
        // changes every span's layout, so it should be deliberate.
        let expected = [
            8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416,
            448, 480, 512, 576, 640, 704, 768, 832, 896, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 2048, 2304, 2560,
            2816, 3200, 3456, 3840, 4096, 4608, 5248, 5888, 6144, 6784, 7680, 8192, 9344, 10624, 12032, 12288, 13568,
            15488, 16384, 18688, 20480, 23296, 24576, 28032, 32000, 32768,
        ];
        let sizes: Vec<u32> = classes().iter().map(|c| c.bytes).collect();
        assert_eq!(sizes, expected);
    }

    #[test]
    fn classes_grow_strictly_and_stay_aligned() {
        for w in classes().windows(2) {
            assert!(w[0].bytes < w[1].bytes, "{:?} then {:?}", w[0], w[1]);
        }
        for c in classes() {
            assert_eq!(c.bytes % 8, 0, "{c:?} not word aligned");
            if c.bytes as u64 > SMALL_SIZE_MAX {
                assert_eq!(c.bytes as u64 % LARGE_SIZE_DIV, 0, "{c:?} breaks the 128-byte lookup");
            }
            assert_eq!(c.objects as u64, c.pages as u64 * PAGE_BYTES / c.bytes as u64);
            assert!(c.objects >= 1 && c.objects <= MAX_OBJECTS_PER_SPAN);
        }
    }

    #[test]
    fn rounding_waste_is_at_most_an_eighth_above_128_bytes() {
        for w in classes().windows(2) {
            let (prev, c) = (w[0].bytes as u64, w[1].bytes as u64);
            if prev >= WASTE_BOUND_FROM {
                let worst = c - (prev + 1);
                assert!(worst * 8 <= c, "a {}-byte request wastes {worst} of {c} bytes", prev + 1);
            }
        }
    }

    #[test]
    fn span_tail_waste_is_at_most_an_eighth_with_the_fewest_pages() {
        for c in classes() {
            let span = c.pages as u64 * PAGE_BYTES;
            let tail = span % c.bytes as u64;
            assert!(tail * 8 <= span, "{c:?}: tail {tail} of {span}");
            if c.pages > 1 {
                let fewer = (c.pages as u64 - 1) * PAGE_BYTES;
                assert!((fewer % c.bytes as u64) * 8 > fewer, "{c:?} could use fewer pages");
            }
        }
    }

    #[test]
    fn every_size_maps_to_the_smallest_class_that_fits() {
        let mut c = 1;
        for size in 1..=MAX_SMALL_BYTES {
            while (SIZE_CLASSES[c].bytes as u64) < size {
                c += 1;
            }
            assert_eq!(size_to_class(size), c, "size {size}");
        }
    }

    #[test]
    fn div_mul_divides_exactly_across_every_span() {
        for c in classes() {
            let span = c.pages as u64 * PAGE_BYTES;
            for off in 0..span {
                assert_eq!((off * c.div_mul as u64) >> 32, off / c.bytes as u64, "{c:?} offset {off}");
            }
        }
    }

    #[test]
    fn span_class_packs_class_and_noscan() {
        let s = SpanClass::new(NUM_SIZE_CLASSES - 1, true);
        assert_eq!(s.size_class(), NUM_SIZE_CLASSES - 1);
        assert!(s.noscan());
        assert!(SpanClass::new(0, false).is_large());
        assert!(!SpanClass::new(3, false).is_large());
    }
}

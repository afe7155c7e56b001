//! Go's allocation-size rules as pure functions: size classes, slice growth
//! and map growth, as the Go 1.22 runtime computes them on 64-bit platforms.
//!
//! The [`situations`](super::situations) workload sizes its blocks with
//! these, so the trace allocates what a Go program would. Parts:
//! - the size classes ([`SIZE_CLASSES`], `runtime/sizeclasses.go`) and
//!   [`roundupsize`] / [`roundupsize_typed`] (`runtime/msize_allocheaders.go`
//!   in Go 1.22: objects with pointers above 512 bytes carry an 8-byte
//!   malloc header inside their size class, so less of the class is usable);
//! - slice growth: [`nextslicecap`] and [`growslice_cap`] /
//!   [`growslice_cap_typed`] (`runtime/slice.go`, `growslice`), and
//!   [`append_caps`], the capacities appending one element at a time gives;
//! - map growth for the classic bucketed map of Go ≤ 1.23 (`runtime/map.go`,
//!   not Go 1.24's Swiss tables): [`map_b_for_hint`], [`make_bucket_array`],
//!   [`map_growths`] (every `hashGrow` while inserting) and
//!   [`map_grow_sizes`].
//!
//! # What differs from the Go 1.19 the tests were checked against
//!
//! Only [`roundupsize_typed`] for pointer-bearing objects above 512 bytes:
//! Go 1.19 has no malloc headers, so there a `[]*T` grows exactly like a
//! `[]int`; Go 1.22 gives it 143 where 1.19 gives 128 (see the tests).
//! Pointer-free objects (`[]int`, strings, `map[int]int` buckets) round the
//! same in both, and the growth formulas are the same since Go 1.18.

/// The Go release whose rules this module implements.
pub const GO_VERSION: &str = "go1.22";

/// `_PageSize`: the heap's page, 8 KiB (`_PageShift = 13`,
/// runtime/sizeclasses.go). Objects above [`MAX_SMALL_SIZE`] get whole pages.
pub const PAGE_SIZE: u64 = 8192;

/// `_MaxSmallSize`: the largest object served from a size class.
pub const MAX_SMALL_SIZE: u64 = 32768;

/// `class_to_size` of runtime/sizeclasses.go (Go 1.12 to 1.24 alike): the
/// 68 size classes, class 0 meaning "large object" (size 0 here).
pub const SIZE_CLASSES: [u64; 68] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448,
    480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096,
    4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
    20480, 21760, 24576, 27264, 28672, 32768,
];

/// `mallocHeaderSize` (Go 1.22, runtime/mbitmap_allocheaders.go): the type
/// pointer a pointer-bearing object above [`MIN_SIZE_FOR_MALLOC_HEADER`]
/// carries in front of its data, inside its size class.
pub const MALLOC_HEADER_SIZE: u64 = 8;

/// `minSizeForMallocHeader = goarch.PtrSize * ptrBits` = 8 · 64: up to this
/// size the span's own heap bitmap describes a pointer-bearing object.
pub const MIN_SIZE_FOR_MALLOC_HEADER: u64 = 512;

/// The size class `bytes` rounds up to (`size_to_class8` /
/// `size_to_class128`), or `None` above [`MAX_SMALL_SIZE`]. Zero bytes is
/// class 0 (`mallocgc(0)` returns `&zerobase` and allocates nothing).
pub fn size_class(bytes: u64) -> Option<usize> {
    if bytes > MAX_SMALL_SIZE {
        return None;
    }
    // The table is sorted: the first class at least `bytes` wide.
    Some(SIZE_CLASSES.partition_point(|&c| c < bytes))
}

/// `roundupsize(size, noscan=true)`: the bytes `mallocgc(size)` really
/// takes for an object without pointers — its size class, or whole pages
/// above [`MAX_SMALL_SIZE`].
pub fn roundupsize(bytes: u64) -> u64 {
    roundupsize_typed(bytes, true)
}

/// `roundupsize(size, noscan)` of Go 1.22 (runtime/msize_allocheaders.go):
/// like [`roundupsize`], but a pointer-bearing object (`noscan == false`)
/// larger than [`MIN_SIZE_FOR_MALLOC_HEADER`] needs room for the 8-byte
/// malloc header, and the result is what is left for the data.
pub fn roundupsize_typed(bytes: u64, noscan: bool) -> u64 {
    if bytes <= MAX_SMALL_SIZE - MALLOC_HEADER_SIZE {
        let req = if !noscan && bytes > MIN_SIZE_FOR_MALLOC_HEADER { bytes + MALLOC_HEADER_SIZE } else { bytes };
        let class = SIZE_CLASSES[size_class(req).expect("at most MAX_SMALL_SIZE")];
        return class - (req - bytes);
    }
    // Large object: whole pages (`reqSize &^ (pageSize - 1)`), unless that overflows.
    bytes.checked_add(PAGE_SIZE - 1).map_or(bytes, |r| r & !(PAGE_SIZE - 1))
}

/// Below this capacity a slice doubles; above it, it grows by about 1.25x
/// (`threshold` in `nextslicecap`).
pub const SLICE_GROWTH_THRESHOLD: u64 = 256;

/// `nextslicecap(newLen, oldCap)` (runtime/slice.go, Go ≥ 1.20; the same
/// arithmetic inline in `growslice` since Go 1.18): the capacity before
/// rounding to a size class. Double below 256 elements; above, add
/// `(newcap + 3·256) / 4` until `newLen` fits; a `newLen` beyond twice the old
/// capacity is taken as it is.
pub fn nextslicecap(new_len: u64, old_cap: u64) -> u64 {
    let double = old_cap.saturating_add(old_cap);
    if new_len > double {
        return new_len;
    }
    if old_cap < SLICE_GROWTH_THRESHOLD {
        return double;
    }
    let mut cap = old_cap;
    while cap < new_len {
        cap = cap.saturating_add((cap + 3 * SLICE_GROWTH_THRESHOLD) >> 2);
    }
    cap
}

/// The capacity `append` gives a slice of pointer-free `elem_size`-byte
/// elements that needs `needed` elements and has `old_cap`
/// (`growslice(oldPtr, newLen, oldCap, num, et)` with a noscan `et`):
/// [`nextslicecap`], then the byte size rounded up to a size class
/// ([`roundupsize`]) and divided back. Zero-size elements never allocate
/// (`&zerobase`): the capacity is just `needed`.
pub fn growslice_cap(old_cap: u64, needed: u64, elem_size: u64) -> u64 {
    growslice_cap_typed(old_cap, needed, elem_size, false)
}

/// [`growslice_cap`] for elements with or without pointers: Go 1.22 rounds
/// a pointer-bearing backing array with [`roundupsize_typed`] (`noscan =
/// et.PtrBytes == 0`), so past 512 bytes its capacity is a little smaller.
pub fn growslice_cap_typed(old_cap: u64, needed: u64, elem_size: u64, has_pointers: bool) -> u64 {
    if elem_size == 0 {
        return needed;
    }
    let cap = nextslicecap(needed, old_cap);
    roundupsize_typed(cap * elem_size, !has_pointers) / elem_size
}

/// The distinct capacities a nil slice of `elem_size`-byte elements goes
/// through when `n` elements are appended one by one — each one a new
/// backing array of `cap · elem_size` bytes.
pub fn append_caps(n: u64, elem_size: u64, has_pointers: bool) -> Vec<u64> {
    let mut caps = Vec::new();
    let mut cap = 0;
    for len in 1..=n {
        if len > cap {
            cap = growslice_cap_typed(cap, len, elem_size, has_pointers);
            caps.push(cap);
        }
    }
    caps
}

/// `bucketCnt` (`abi.MapBucketCount`): entries per bucket.
pub const BUCKET_CNT: u64 = 8;

/// `hmap` (runtime/map.go): count, flags/B/noverflow/hash0, buckets,
/// oldbuckets, nevacuate, extra — 48 bytes.
pub const HMAP_BYTES: u64 = 48;

/// `loadFactorNum / loadFactorDen` = 13 / 2: a map grows when its average
/// bucket would hold more than 6.5 entries.
pub const LOAD_FACTOR_NUM: u64 = 13;
/// See [`LOAD_FACTOR_NUM`].
pub const LOAD_FACTOR_DEN: u64 = 2;

/// The bucket (`bmap`) of a map whose keys and values are `key_bytes` and
/// `elem_bytes` wide (each a multiple of 8, at most 128 so stored inline):
/// 8 `tophash` bytes, 8 keys, 8 values, the overflow pointer. `map[int]int`:
/// 8 + 64 + 64 + 8 = 144 bytes.
pub const fn bucket_bytes(key_bytes: u64, elem_bytes: u64) -> u64 {
    BUCKET_CNT + BUCKET_CNT * key_bytes + BUCKET_CNT * elem_bytes + 8
}

/// The bucket of `map[int]int` (see [`bucket_bytes`]).
pub const MAP_INT_INT_BUCKET_BYTES: u64 = bucket_bytes(8, 8);

/// `overLoadFactor(count, B)`: whether `count` entries overload `2^B`
/// buckets — `count > 8 && count > 13 · (2^B / 2)`, in Go's integer
/// arithmetic (so with `B = 0` any count above 8 does).
pub fn over_load_factor(count: u64, b: u8) -> bool {
    count > BUCKET_CNT && count > LOAD_FACTOR_NUM * ((1u64 << b) / LOAD_FACTOR_DEN)
}

/// The `B` `makemap` picks for `make(map[K]V, hint)`: the least with
/// `!overLoadFactor(hint, B)`.
pub fn map_b_for_hint(hint: u64) -> u8 {
    let mut b = 0;
    while over_load_factor(hint, b) {
        b += 1;
    }
    b
}

/// `makeBucketArray(t, b, nil)` (runtime/map.go): `2^b` buckets, and for
/// `b ≥ 4` another `2^(b-4)` preallocated overflow buckets, the whole
/// rounded up to a size class ([`roundupsize_typed`]) with as many buckets
/// as fit. Returns (buckets including the overflow ones, bytes requested
/// from `mallocgc` = buckets · `bucket_bytes`).
pub fn make_bucket_array(b: u8, bucket_bytes: u64, noscan: bool) -> (u64, u64) {
    let base = 1u64 << b;
    let mut n = base;
    if b >= 4 {
        n += base >> 4;
        let sz = bucket_bytes * n;
        let up = roundupsize_typed(sz, noscan);
        if up != sz {
            n = up / bucket_bytes;
        }
    }
    (n, n * bucket_bytes)
}

/// One `hashGrow` of a map: at which insert it happens and what it allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapGrowth {
    /// The insert (1-based, counting from the empty map) that triggers it.
    pub insert: u64,
    /// The new `B`.
    pub b: u8,
    /// Buckets in the new array, preallocated overflow buckets included.
    pub buckets: u64,
    /// Bytes of the new array as requested from `mallocgc`.
    pub bytes: u64,
    /// The last insert by which the old array is evacuated and dropped at
    /// the latest (`growWork` evacuates at least one old bucket per insert,
    /// starting with the triggering one).
    pub evacuated_by: u64,
    /// Whether the array has preallocated overflow buckets (`b ≥ 4`):
    /// `hashGrow` then records the first in `h.extra.nextOverflow`.
    pub has_overflow: bool,
}

/// Every `hashGrow` while inserting `n_inserts` distinct keys into a map
/// that starts with `2^start_b` buckets and no entries. A map grows when an
/// insert would overload it (`overLoadFactor(count+1, B)` in `mapassign`)
/// to twice the buckets ([`make_bucket_array`] at `B+1`).
///
/// Not modelled: same-size grows for too many overflow buckets and the
/// overflow buckets `newoverflow` allocates one by one — both depend on
/// the per-map random hash seed, so a real run differs from run to run
/// (one go1.19 run of 100 000 inserts made 3 980 such allocations,
/// 727 KB, beside the 15 bucket arrays).
pub fn map_growths(start_b: u8, n_inserts: u64, bucket_bytes: u64, noscan: bool) -> Vec<MapGrowth> {
    let mut out = Vec::new();
    let mut b = start_b;
    for insert in 1..=n_inserts {
        if over_load_factor(insert, b) {
            let old_buckets = 1u64 << b;
            b += 1;
            let (buckets, bytes) = make_bucket_array(b, bucket_bytes, noscan);
            out.push(MapGrowth {
                insert,
                b,
                buckets,
                bytes,
                evacuated_by: insert + old_buckets - 1,
                has_overflow: b >= 4,
            });
        }
    }
    out
}

/// The bytes of each bucket array `hashGrow` allocates while `n_inserts`
/// int keys go into `make(map[int]int)`, in order. The map's first bucket
/// (144 bytes, allocated at the first insert by `mapassign`, or on the
/// stack with the map) is `make(map)`'s, not a growth, and is not listed.
pub fn map_grow_sizes(n_inserts: u64) -> Vec<u64> {
    map_growths(0, n_inserts, MAP_INT_INT_BUCKET_BYTES, true).iter().map(|g| g.bytes).collect()
}

/// Named so that `cargo test situations` runs them with the workload's tests.
#[cfg(test)]
mod situations_tests {
    use super::*;

    #[test]
    fn size_classes_are_go_s_68() {
        assert_eq!(SIZE_CLASSES.len(), 68);
        assert!(SIZE_CLASSES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(roundupsize(1), 8);
        assert_eq!(roundupsize(8), 8);
        assert_eq!(roundupsize(9), 16);
        assert_eq!(roundupsize(40), 48);
        assert_eq!(roundupsize(1025), 1152);
        assert_eq!(roundupsize(32768), 32768);
        assert_eq!(roundupsize(32769), 40960, "large objects take whole 8 KiB pages");
        assert_eq!(roundupsize(0), 0, "mallocgc(0) allocates nothing");
        for &c in &SIZE_CLASSES[1..] {
            assert_eq!(roundupsize(c), c);
            assert_eq!(roundupsize(c - 1), c);
        }
    }

    #[test]
    fn malloc_headers_shrink_pointer_objects_above_512_bytes() {
        assert_eq!(roundupsize_typed(512, false), 512, "the span bitmap covers up to 512 bytes");
        assert_eq!(roundupsize_typed(1024, false), 1144, "1024 + 8-byte header -> class 1152, minus the header");
        assert_eq!(roundupsize_typed(1024, true), 1024);
        assert_eq!(roundupsize_typed(40000, false), 40960, "large objects: no header rounding");
    }

    #[test]
    fn nextslicecap_doubles_below_256_then_grows_by_a_quarter_plus_192() {
        assert_eq!(nextslicecap(1, 0), 1);
        assert_eq!(nextslicecap(5, 0), 5, "more than double: taken as needed");
        assert_eq!(nextslicecap(129, 128), 256);
        assert_eq!(nextslicecap(257, 256), 512);
        assert_eq!(nextslicecap(513, 512), 832);
        assert_eq!(growslice_cap(512, 513, 8), 848, "832 · 8 = 6656 bytes -> class 6784");
        assert_eq!(growslice_cap(0, 5, 8), 6, "40 bytes -> class 48");
        assert_eq!(growslice_cap(0, 1, 0), 1, "zero-size elements never allocate");
    }

    /// Appending 1…2000 ints to a nil slice. Checked against go1.19.8
    /// (Debian's golang-go; the rule is the same in Go 1.22):
    ///
    /// ```go
    /// var s []int
    /// last := -1
    /// for i := 1; i <= 2000; i++ {
    ///     s = append(s, i)
    ///     if cap(s) != last { last = cap(s); fmt.Print(" ", last) }
    /// }
    /// // go1.19.8: 1 2 4 8 16 32 64 128 256 512 848 1280 1792 2560
    /// ```
    /// The same loop with `[]*int` prints the same numbers under go1.19.8,
    /// which has no malloc headers; Go 1.22's are pinned separately below.
    #[test]
    fn appending_2000_ints_gives_go_s_capacities() {
        const GO: [u64; 14] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 848, 1280, 1792, 2560];
        assert_eq!(append_caps(2000, 8, false), GO);
        assert_eq!(append_caps(2000, 8, true), GO_1_22_POINTER_CAPS);
    }

    /// `[]*int` under Go 1.22: from 1024 bytes on, the 8-byte malloc header
    /// takes a word of the size class (1024 → class 1152 − 8 = 1144 bytes =
    /// 143 pointers), and the sequence drifts from the int one
    /// (287 → 550 · 8 = 4400 + 8 → class 4864 − 8 → 607). Derived from runtime/msize_allocheaders.go; no Go 1.22
    /// toolchain was available offline to run it (go1.19.8 gives the int
    /// sequence, as it has no headers).
    const GO_1_22_POINTER_CAPS: [u64; 13] = [1, 2, 4, 8, 16, 32, 64, 143, 287, 607, 1023, 1535, 2303];

    #[test]
    fn pointer_slices_under_go_1_22() {
        // 143 → 286 → 2288 + 8 = 2296 → class 2304 − 8 → 287 pointers.
        assert_eq!(growslice_cap_typed(143, 144, 8, true), 287);
        assert_eq!(growslice_cap_typed(64, 65, 8, true), 143);
    }

    /// Inserting 1…100 000 int keys into `make(map[int]int)`. Checked
    /// against go1.19.8 (the map code is the same through Go 1.23) by
    /// watching `hmap.buckets` change and the allocation deltas of each
    /// insert:
    ///
    /// ```go
    /// type hmap struct { // mirrors runtime.hmap
    ///     count int; flags, B uint8; noverflow uint16; hash0 uint32
    ///     buckets, oldbuckets unsafe.Pointer; nevacuate uintptr; extra unsafe.Pointer
    /// }
    /// var sinkMap map[int]int
    /// m := make(map[int]int)
    /// sinkMap = m
    /// h := *(**hmap)(unsafe.Pointer(&m))
    /// var ms runtime.MemStats
    /// runtime.ReadMemStats(&ms)
    /// prevMallocs, prevBytes, prevBuckets := ms.Mallocs, ms.TotalAlloc, h.buckets
    /// for i := 1; i <= 100000; i++ {
    ///     m[i] = i
    ///     runtime.ReadMemStats(&ms)
    ///     if h.buckets != prevBuckets {
    ///         fmt.Printf("insert %6d: new bucket array, B=%2d, mallocs +%d, bytes +%d\n",
    ///             i, h.B, ms.Mallocs-prevMallocs, ms.TotalAlloc-prevBytes)
    ///         prevBuckets = h.buckets
    ///     }
    ///     runtime.ReadMemStats(&ms)
    ///     prevMallocs, prevBytes = ms.Mallocs, ms.TotalAlloc
    /// }
    /// ```
    /// go1.19.8 printed (TotalAlloc counts size-class bytes; the three
    /// larger deltas include an overflow bucket or two allocated in the
    /// same insert):
    /// ```text
    /// insert      1: new bucket array, B= 0, mallocs +1, bytes +144
    /// insert      9: new bucket array, B= 1, mallocs +1, bytes +288
    /// insert     14: new bucket array, B= 2, mallocs +1, bytes +576
    /// insert     27: new bucket array, B= 3, mallocs +1, bytes +1152
    /// insert     53: new bucket array, B= 4, mallocs +1, bytes +2688
    /// insert    105: new bucket array, B= 5, mallocs +1, bytes +5376
    /// insert    209: new bucket array, B= 6, mallocs +1, bytes +10240
    /// insert    417: new bucket array, B= 7, mallocs +1, bytes +20480
    /// insert    833: new bucket array, B= 8, mallocs +1, bytes +40960
    /// insert   1665: new bucket array, B= 9, mallocs +1, bytes +81920
    /// insert   3329: new bucket array, B=10, mallocs +1, bytes +163840
    /// insert   6657: new bucket array, B=11, mallocs +3, bytes +319520
    /// insert  13313: new bucket array, B=12, mallocs +3, bytes +630816
    /// insert  26625: new bucket array, B=13, mallocs +1, bytes +1253376
    /// insert  53249: new bucket array, B=14, mallocs +5, bytes +2507648
    /// ```
    #[test]
    fn inserting_100000_int_keys_grows_the_map_14_times() {
        let grows = map_growths(0, 100_000, MAP_INT_INT_BUCKET_BYTES, true);
        let inserts: Vec<u64> = grows.iter().map(|g| g.insert).collect();
        assert_eq!(inserts, [9, 14, 27, 53, 105, 209, 417, 833, 1665, 3329, 6657, 13313, 26625, 53249]);
        assert_eq!(grows.iter().map(|g| g.b).collect::<Vec<_>>(), (1..=14).collect::<Vec<u8>>());
        // Requested bytes: 2^B buckets (+ 2^(B-4) overflow buckets from B = 4,
        // as many as fit the size class) of 144 bytes.
        let sizes = map_grow_sizes(100_000);
        assert_eq!(
            sizes,
            [288, 576, 1152, 2592, 5328, 10224, 20448, 40896, 81792, 163728, 319392, 630720, 1253376, 2506752]
        );
        assert_eq!(grows[3].buckets, 18, "B=4: 16 + 1 overflow = 2448 bytes -> class 2688 holds 18");
        // What mallocgc really takes, as go1.19.8's TotalAlloc counted it
        // (minus the overflow buckets of the same inserts, 32 / 32 / 896 bytes).
        let class_bytes: Vec<u64> = sizes.iter().map(|&s| roundupsize(s)).collect();
        assert_eq!(
            class_bytes,
            [288, 576, 1152, 2688, 5376, 10240, 20480, 40960, 81920, 163840, 319488, 630784, 1253376, 2506752]
        );
        assert_eq!(map_grow_sizes(8), Vec::<u64>::new(), "8 entries fit the first bucket");
    }

    #[test]
    fn make_with_a_hint_sizes_the_first_array() {
        assert_eq!(map_b_for_hint(0), 0);
        assert_eq!(map_b_for_hint(8), 0);
        assert_eq!(map_b_for_hint(9), 1);
        assert_eq!(map_b_for_hint(100), 4);
        // go1.19.8: `sinkM = make(map[int]int, 100)` allocates 3 objects,
        // 2760 bytes: hmap 48 + buckets 2688 (class of 2592) + mapextra 24.
        assert_eq!(make_bucket_array(4, MAP_INT_INT_BUCKET_BYTES, true), (18, 2592));
        // map[string]int: 208-byte buckets with pointers; 17 of them
        // (3536 bytes + the 8-byte header) round to class 4096, room for 19.
        assert_eq!(bucket_bytes(16, 8), 208);
        assert_eq!(make_bucket_array(4, 208, false), (19, 3952));
    }
}

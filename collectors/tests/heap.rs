//! Claims about the heap, each checked through its public API: allocation
//! gives distinct, aligned, zeroed blocks inside the reservation; interior
//! pointers find their object; a sweep frees exactly the unmarked objects and
//! reuses their memory; accounting and the trigger follow Go's heapLive;
//! many threads allocate at once without sharing a block; bad input is
//! refused cleanly.

use collectors::heap::{
    Address, AllocCache, Heap, HeapError, ObjectSink, SweepStats, MAX_SMALL_BYTES, NUM_SIZE_CLASSES, PAGE_BYTES,
    PUBLISH_BYTES, SIZE_CLASSES,
};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// 4 GiB: plenty for these tests, cheap to map many times in parallel.
const TEST_RESERVE: u64 = 4 << 30;

fn heap() -> Heap {
    Heap::new(TEST_RESERVE).expect("reserve a test heap")
}

/// Marks the object at `a` (as a collector would).
fn mark(h: &Heap, a: Address) {
    let o = h.find_object(a).expect("an allocated object");
    assert!(o.is_allocated());
    o.try_mark();
}

/// Sweeps and returns the stats and the freed addresses.
fn sweep_collect(h: &Heap) -> (SweepStats, Vec<Address>) {
    let mut freed = Vec::new();
    let stats = h.sweep(Some(&mut |a| freed.push(a)));
    (stats, freed)
}

fn fill(h: &Heap, a: Address, size: u64, v: u64) {
    for i in 0..size.div_ceil(8) {
        h.store(a + 8 * i, v);
    }
}

fn assert_zeroed(h: &Heap, a: Address, size: u64) {
    for i in 0..size.div_ceil(8) {
        assert_eq!(h.load(a + 8 * i), Some(0), "word {i} of the block at {a:#x} is not zero");
    }
}

#[test]
fn blocks_are_distinct_aligned_and_inside_the_reservation() {
    let h = heap();
    let mut c = h.new_cache();
    let mut seen = HashSet::new();
    let sizes = [1, 7, 8, 9, 16, 24, 100, 1000, 4096, 32768, 32769, 100_000];
    for round in 0..200 {
        for &size in &sizes {
            let ptr_slots = (round % 2).min(size / 8) as u32;
            let a = h.alloc(&mut c, size, ptr_slots).unwrap();
            assert!(h.contains(a) && h.contains(a + size - 1), "{a:#x}+{size} outside the heap");
            assert_eq!(a % 8, 0, "{a:#x} is not 8-byte aligned");
            assert!(seen.insert(a), "{a:#x} handed out twice");
            let o = h.find_object(a).unwrap();
            assert_eq!(o.base(), a);
            assert_eq!(o.declared_size(), size);
            assert!(o.elem_bytes() >= size);
            assert!(o.is_allocated() && !o.is_marked());
        }
    }
    // Blocks of one class never overlap: check pairwise over the sorted set.
    let mut blocks: Vec<(Address, u64)> = seen.iter().map(|&a| (a, h.find_object(a).unwrap().elem_bytes())).collect();
    blocks.sort();
    for w in blocks.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "blocks {:#x} and {:#x} overlap", w[0].0, w[1].0);
    }
}

#[test]
fn memory_is_zeroed_at_allocation_even_when_a_slot_is_reused() {
    let h = heap();
    let mut c = h.new_cache();
    for &size in &[16u64, 48, 1024, 32768, 40_000, 1 << 20] {
        let first: Vec<Address> = (0..50).map(|_| h.alloc(&mut c, size, 1).unwrap()).collect();
        for &a in &first {
            assert_zeroed(&h, a, size);
            fill(&h, a, size, 0xdead_beef);
        }
        let (stats, _) = sweep_collect(&h);
        assert_eq!(stats.freed_objects, 50);
        let again: Vec<Address> = (0..50).map(|_| h.alloc(&mut c, size, 1).unwrap()).collect();
        let reused = again.iter().filter(|a| first.contains(a)).count();
        assert!(reused > 0, "size {size}: no slot was reused");
        for &a in &again {
            assert_zeroed(&h, a, size);
        }
        h.sweep(None);
    }
}

#[test]
fn interior_pointers_find_their_object_small_and_large() {
    let h = heap();
    let mut c = h.new_cache();
    for &size in &[8u64, 24, 144, 3000, 32768] {
        let objs: Vec<Address> = (0..5).map(|_| h.alloc(&mut c, size, 0).unwrap()).collect();
        for &a in &objs {
            let elem = h.find_object(a).unwrap().elem_bytes();
            for off in 0..elem {
                assert_eq!(h.find_object(a + off).unwrap().base(), a, "size {size} offset {off}");
            }
        }
    }
    // A large block spans several pages: every byte of every page maps back.
    let size = 5 * PAGE_BYTES + 123;
    let a = h.alloc(&mut c, size, 3).unwrap();
    let o = h.find_object(a).unwrap();
    assert_eq!(o.elem_bytes(), 6 * PAGE_BYTES);
    assert_eq!((o.declared_size(), o.ptr_slots()), (size, 3));
    assert_eq!(o.pointer_words().len(), 3);
    for off in 0..o.elem_bytes() {
        assert_eq!(h.find_object(a + off).map(|o| o.base()), Some(a), "large offset {off}");
    }
}

#[test]
fn sweep_frees_exactly_the_unmarked_objects_and_reports_each_once() {
    let h = heap();
    let mut c = h.new_cache();
    let mut all = Vec::new();
    for i in 0..5000u64 {
        let size = [16, 64, 200, 5000, 50_000][i as usize % 5];
        all.push((h.alloc(&mut c, size, (i % 3) as u32).unwrap(), size));
    }
    let (marked, unmarked): (Vec<_>, Vec<_>) = all.iter().enumerate().partition(|(i, _)| i % 7 == 0 || i % 3 == 1);
    for (_, &(a, _)) in &marked {
        // Interior pointer: marks the whole block.
        mark(&h, a + 3);
    }
    let (stats, freed) = sweep_collect(&h);
    let freed_set: HashSet<Address> = freed.iter().copied().collect();
    assert_eq!(freed.len(), freed_set.len(), "an object was reported twice");
    let expected: HashSet<Address> = unmarked.iter().map(|(_, &(a, _))| a).collect();
    assert_eq!(freed_set, expected);
    assert_eq!(stats.freed_objects, unmarked.len() as u64);
    assert_eq!(stats.live_objects, marked.len() as u64);
    for (_, &(a, size)) in &marked {
        let o = h.find_object(a).unwrap();
        assert!(o.is_allocated() && !o.is_marked(), "survivors keep their alloc bit, lose the mark");
        assert_eq!(o.declared_size(), size);
    }
    for &a in &freed {
        assert!(h.find_object(a).is_none_or(|o| !o.is_allocated()), "{a:#x} still allocated");
    }
    // A second sweep with nothing marked frees the survivors, once.
    let (stats2, freed2) = sweep_collect(&h);
    assert_eq!(stats2.freed_objects, marked.len() as u64);
    assert!(freed2.iter().all(|a| !freed_set.contains(a)));
    assert_eq!(h.live_declared_bytes(), (0, 0));
}

#[test]
fn fully_free_spans_are_reused_so_inuse_bytes_do_not_grow() {
    let h = heap();
    let mut c = h.new_cache();
    let (mut peak, mut mapped) = (0, 0);
    for round in 0..10 {
        for i in 0..20_000u64 {
            h.alloc(&mut c, 16 + (i % 50) * 16, (i % 2) as u32).unwrap();
        }
        for _ in 0..20 {
            h.alloc(&mut c, 100_000, 0).unwrap();
        }
        h.flush_cache(&mut c);
        let inuse = h.inuse_bytes();
        if round == 0 {
            (peak, mapped) = (inuse, h.mapped_bytes());
        }
        assert!(inuse <= peak, "round {round}: inuse grew from {peak} to {inuse}");
        let stats = h.sweep(None);
        assert_eq!(stats.live_objects, 0);
        assert_eq!(h.inuse_bytes(), 0, "every span was empty and released");
        assert_eq!(h.heap_live(), 0);
    }
    assert_eq!(h.peak_inuse_bytes(), peak);
    assert!(h.mapped_bytes() <= mapped + PAGE_BYTES * 16, "pages were reused, not the high-water mark raised");
    assert!(h.scavenge() >= mapped - PAGE_BYTES * 16);
}

#[test]
fn heap_live_counts_allocated_blocks_published_in_quanta_and_sweeps_take_off_what_they_free() {
    let h = heap();
    let mut c = h.new_cache();
    assert_eq!(h.heap_live(), 0);
    let a = h.alloc(&mut c, 64, 1).unwrap();
    assert_eq!(h.heap_live(), 0, "a refill counts none of the span's free slots; the block is not published yet");
    let _b = h.alloc(&mut c, 64, 1).unwrap();
    h.flush_cache(&mut c);
    assert_eq!(h.heap_live(), 128, "flushing publishes the two blocks");
    assert_eq!(h.objects_allocated(), 2);
    assert_eq!(h.bytes_allocated(), 128);
    // Fast-path allocations publish every PUBLISH_BYTES.
    for _ in 0..PUBLISH_BYTES / 64 {
        h.alloc(&mut c, 64, 0).unwrap();
    }
    assert_eq!(h.heap_live(), 128 + PUBLISH_BYTES, "a full quantum is published at once");
    h.flush_cache(&mut c);
    mark(&h, a);
    let stats = h.sweep(None);
    assert_eq!(stats.live_bytes, 64);
    assert_eq!(h.heap_live(), 64, "the sweep takes off what it freed");
    let big = h.alloc(&mut c, 100_000, 0).unwrap();
    assert_eq!(h.heap_live(), 64 + 13 * PAGE_BYTES, "a large block counts its whole span, at once");
    // Blocks allocated but not published when the sweep frees them: the sum
    // comes out exact once the cache publishes.
    let doomed = h.alloc(&mut c, 64, 1).unwrap();
    mark(&h, big);
    mark(&h, a);
    h.sweep(None);
    h.flush_cache(&mut c);
    assert!(h.find_object(doomed).is_none_or(|o| !o.is_allocated()));
    assert_eq!(h.heap_live(), 64 + 13 * PAGE_BYTES, "the live blocks");
    h.sweep(None);
    assert_eq!(h.heap_live(), 0);
    assert_eq!(h.inuse_bytes(), 0);
}

#[test]
fn crossing_the_trigger_raises_the_allocating_caches_flag_once() {
    let h = heap();
    let mut c = h.new_cache();
    let mut other = h.new_cache();
    h.set_trigger(1 << 20);
    let mut n = 0;
    while !c.take_trigger() {
        h.alloc(&mut c, 1024, 0).unwrap();
        n += 1;
        assert!(n < 2000, "never triggered");
    }
    assert!(h.heap_live() >= 1 << 20);
    assert!(h.heap_live() < (1 << 20) + 2 * 8192, "triggered at the first refill past the trigger");
    assert!(!c.take_trigger(), "the flag clears when taken");
    assert!(!other.take_trigger(), "only the allocating cache is told");
    // A large allocation checks the trigger at once.
    h.set_trigger(h.heap_live() + 1);
    h.alloc(&mut other, 1 << 16, 0).unwrap();
    assert!(other.take_trigger());
    h.set_trigger(u64::MAX);
    h.alloc(&mut other, 1 << 16, 0).unwrap();
    assert!(!other.take_trigger());
}

#[test]
fn noscan_blocks_land_in_noscan_spans() {
    let h = heap();
    let mut c = h.new_cache();
    for &size in &[8u64, 64, 1000, 32768, 65536] {
        let plain = h.alloc(&mut c, size, 0).unwrap();
        let ptrs = h.alloc(&mut c, size, 1).unwrap();
        let (p, q) = (h.find_object(plain).unwrap(), h.find_object(ptrs).unwrap());
        assert!(p.is_noscan() && p.pointer_words().is_empty());
        assert!(!q.is_noscan() && q.pointer_words().len() == 1);
        assert!(plain.abs_diff(ptrs) >= PAGE_BYTES.min(q.elem_bytes()), "different spans");
        // No-scan blocks of one size share a span; scan ones another.
        let plain2 = h.alloc(&mut c, size, 0).unwrap();
        if size <= MAX_SMALL_BYTES && SIZE_CLASSES[collectors::heap::size_to_class(size)].objects > 1 {
            assert_eq!(plain2, plain + p.elem_bytes());
        }
    }
}

#[test]
fn pointer_words_are_the_pointer_prefix() {
    let h = heap();
    let mut c = h.new_cache();
    let a = h.alloc(&mut c, 100, 5).unwrap();
    let o = h.find_object(a + 50).unwrap();
    let words = o.pointer_words();
    assert_eq!(words.len(), 5);
    h.store(a + 8 * 4, 0x1234);
    assert_eq!(words[4].load(Ordering::Relaxed), 0x1234);
    assert_eq!(words.as_ptr() as u64, a);
}

#[test]
fn threads_with_their_own_caches_get_disjoint_blocks() {
    let h = heap();
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 20_000;
    let results: Vec<Vec<(Address, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let h = &h;
                s.spawn(move || {
                    let mut c = h.new_cache();
                    let mut mine = Vec::new();
                    for i in 0..PER_THREAD {
                        let size = [16, 32, 48, 512, 40_000][(i % 5) as usize];
                        let a = h.alloc(&mut c, size, 1).unwrap();
                        h.store(a, t << 32 | i);
                        mine.push((a, t << 32 | i));
                    }
                    h.flush_cache(&mut c);
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let mut seen = HashSet::new();
    for (a, tag) in results.iter().flatten() {
        assert!(seen.insert(*a), "{a:#x} handed to two threads");
        assert_eq!(h.load(*a), Some(*tag), "someone else wrote into {a:#x}");
    }
    assert_eq!(seen.len() as u64, THREADS * PER_THREAD);
    assert_eq!(h.objects_allocated(), THREADS * PER_THREAD);
    assert_eq!(h.live_declared_bytes().0, THREADS * PER_THREAD);
}

#[test]
fn concurrent_marking_marks_each_object_exactly_once() {
    let h = heap();
    let mut c = h.new_cache();
    let objs: Vec<Address> = (0..10_000).map(|i| h.alloc(&mut c, 16 + (i % 10) * 8, 1).unwrap()).collect();
    let wins: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| objs.iter().filter(|&&a| h.find_object(a + 1).unwrap().try_mark()).count() as u64))
            .collect();
        handles.into_iter().map(|j| j.join().unwrap()).sum()
    });
    assert_eq!(wins, objs.len() as u64);
    assert!(objs.iter().all(|&a| h.find_object(a).unwrap().is_marked()));
}

#[test]
fn find_object_is_consistent_while_other_threads_allocate() {
    let h = heap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let first = {
        let mut c = h.new_cache();
        let a = h.alloc(&mut c, 16, 0).unwrap();
        h.flush_cache(&mut c);
        a
    };
    std::thread::scope(|s| {
        let allocator = s.spawn(|| {
            let mut c = h.new_cache();
            for i in 0..200_000u64 {
                h.alloc(&mut c, 8 + (i * 8) % 3000, (i % 3) as u32).unwrap();
                if i % 50_000 == 0 {
                    h.alloc(&mut c, 70_000, 2).unwrap();
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        // Probe addresses all over the growing heap, found or not.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut found = 0u64;
        while !stop.load(Ordering::Relaxed) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = first + x % (64 << 20);
            if let Some(o) = h.find_object(a) {
                assert!(o.base() <= a && a < o.base() + o.elem_bytes(), "{a:#x} outside {o:?}");
                assert!(o.pointer_words().len() as u64 * 8 <= o.elem_bytes());
                found += 1;
            }
        }
        allocator.join().unwrap();
        assert!(found > 0, "the probe never hit an object");
    });
}

#[test]
fn word_rejects_misaligned_and_outside_addresses() {
    let h = heap();
    let mut c = h.new_cache();
    let a = h.alloc(&mut c, 64, 8).unwrap();
    assert!(h.word(a).is_some());
    assert!(h.word(a + 8).is_some());
    for bad in [a + 1, a + 4, a + 7, 0, 8, u64::MAX, u64::MAX - 7, a.wrapping_sub(1 << 40)] {
        assert!(h.word(bad).is_none(), "{bad:#x}");
        assert_eq!(h.load(bad), None);
        h.store(bad, 1); // a no-op, not a crash
    }
    let end = a - (a % PAGE_BYTES) + h.reserved_bytes() * 2;
    assert!(h.word(end).is_none());
    assert!(h.find_object(0).is_none() && h.find_object(u64::MAX).is_none());
    assert!(!h.contains(0));
}

#[test]
fn exhausting_a_small_reservation_is_a_clean_error_and_recoverable() {
    let h = Heap::new(1 << 30).unwrap();
    assert_eq!(h.reserved_bytes(), 1 << 30);
    let mut c = h.new_cache();
    let mut blocks = 0u64;
    let err = loop {
        match h.alloc(&mut c, 100 << 20, 0) {
            Ok(_) => blocks += 1,
            Err(e) => break e,
        }
        assert!(blocks <= 10, "1 GiB cannot hold more than ten 100 MiB blocks");
    };
    assert_eq!(blocks, 10);
    assert!(
        matches!(err, HeapError::OutOfMemory { requested, reserved } if requested == 100 << 20 && reserved == 1 << 30)
    );
    assert!(err.to_string().contains("reservation"), "{err}");
    // Small blocks fill the rest, then fail cleanly too.
    let mut small = 0u64;
    loop {
        match h.alloc(&mut c, 32768, 0) {
            Ok(_) => small += 1,
            Err(e) => {
                assert!(matches!(e, HeapError::OutOfMemory { .. }));
                break;
            }
        }
    }
    assert!(small > 0);
    assert!(matches!(h.alloc(&mut c, u64::MAX, 0), Err(HeapError::OutOfMemory { .. })));
    // Freeing everything makes room again.
    h.sweep(None);
    assert!(h.alloc(&mut c, 100 << 20, 0).is_ok());
}

#[test]
fn invalid_requests_are_refused() {
    let h = heap();
    let mut c = h.new_cache();
    assert!(matches!(h.alloc(&mut c, 0, 0), Err(HeapError::InvalidRequest { .. })));
    assert!(matches!(h.alloc(&mut c, 16, 3), Err(HeapError::InvalidRequest { .. })));
    assert!(matches!(h.alloc(&mut c, 1 << 20, u32::MAX), Err(HeapError::InvalidRequest { .. })));
    assert!(h.alloc(&mut c, 24, 3).is_ok());
}

#[test]
#[should_panic(expected = "other than the one that made it")]
fn a_cache_is_tied_to_its_heap() {
    let h1 = heap();
    let h2 = heap();
    let mut c = h1.new_cache();
    let _ = h2.alloc(&mut c, 16, 0);
}

#[test]
fn a_cache_outliving_its_heap_is_harmless() {
    let h = heap();
    let mut c: AllocCache = h.new_cache();
    h.alloc(&mut c, 16, 0).unwrap();
    drop(h);
    assert!(!c.take_trigger());
    drop(c);
}

#[test]
fn a_cached_span_continues_from_its_swept_state() {
    let h = heap();
    let mut c = h.new_cache();
    let objs: Vec<Address> = (0..10).map(|_| h.alloc(&mut c, 48, 0).unwrap()).collect();
    mark(&h, objs[3]);
    let stats = h.sweep(None);
    assert_eq!((stats.freed_objects, stats.live_objects, stats.spans_released), (9, 1, 0));
    // The next allocations refill the freed slots from slot 0 on, skipping
    // the survivor, without any flush.
    let next: Vec<Address> = (0..10).map(|_| h.alloc(&mut c, 48, 0).unwrap()).collect();
    let mut expected: Vec<Address> = objs.iter().copied().filter(|&a| a != objs[3]).collect();
    expected.push(objs[9] + 48);
    assert_eq!(next, expected);
}

#[test]
fn flushed_caches_hand_their_partial_spans_to_other_caches() {
    let h = heap();
    let mut c1 = h.new_cache();
    let a = h.alloc(&mut c1, 256, 0).unwrap();
    h.flush_cache(&mut c1);
    let mut c2 = h.new_cache();
    let b = h.alloc(&mut c2, 256, 0).unwrap();
    assert_eq!(b, a + 256, "the second cache continues the first one's span");
    h.flush_cache(&mut c2);
    assert_eq!(h.mapped_bytes(), PAGE_BYTES, "one span");
    assert_eq!(h.inuse_bytes(), 2 * 256, "its slots that never held a block are not in use");
}

#[test]
fn a_sweep_takes_every_cached_span_back_for_other_caches_and_counts_only_live_blocks() {
    let h = heap();
    let mut c1 = h.new_cache();
    let a = h.alloc(&mut c1, 256, 0).unwrap();
    let _dead = h.alloc(&mut c1, 256, 0).unwrap();
    assert_eq!(c1.spans_held(), 1);
    mark(&h, a);
    h.sweep(None);
    // The collection took c1's span back (Go releases every mcache at mark
    // termination): it is not c1's any more, and its free slots are not live.
    assert_eq!(c1.spans_held(), 0, "a sweep takes the cached spans back");
    let mut c2 = h.new_cache();
    let b = h.alloc(&mut c2, 256, 0).unwrap();
    assert_eq!(b, a + 256, "another cache reuses the span, from its freed slot on");
    h.flush_cache(&mut c1);
    h.flush_cache(&mut c2);
    assert_eq!(h.heap_live(), 2 * 256, "live: a and b, not the span's free slots");
    assert_eq!(h.inuse_bytes(), 2 * 256, "in use: the two slots ever allocated, not the span");
    assert_eq!(h.mapped_bytes(), PAGE_BYTES, "one span in all");
}

#[test]
fn many_caches_with_a_span_of_every_class_count_only_what_they_allocated() {
    let h = heap();
    let sizes: Vec<u64> = (1..NUM_SIZE_CLASSES).map(|c| SIZE_CLASSES[c].bytes as u64).collect();
    let mut caches: Vec<AllocCache> = (0..64).map(|_| h.new_cache()).collect();
    for c in caches.iter_mut() {
        for &size in &sizes {
            h.alloc(c, size, 0).unwrap();
            h.alloc(c, size, 1).unwrap();
        }
    }
    let allocated: u64 = 64 * 2 * sizes.iter().sum::<u64>();
    // Each cache holds a span of every class, 64 × 134 spans of 8 KiB and
    // more: Go's refill would count them whole as live. Here what is not
    // yet published is less than PUBLISH_BYTES per cache...
    assert!(h.heap_live() <= allocated, "{} live, {allocated} allocated", h.heap_live());
    assert!(h.heap_live() + 64 * PUBLISH_BYTES >= allocated, "{} live, {allocated} allocated", h.heap_live());
    // In use: the slots allocated, and the tails of spans filled to their
    // last slot (a few, of one block each).
    assert!(h.inuse_bytes() < allocated + allocated / 64, "{} in use", h.inuse_bytes());
    assert!(h.mapped_bytes() > 2 * allocated, "the spans are much bigger: {}", h.mapped_bytes());
    // ...and a flush publishes the rest.
    for c in caches.iter_mut() {
        h.flush_cache(c);
    }
    assert_eq!(h.heap_live(), allocated);
    assert!(h.inuse_bytes() >= allocated && h.inuse_bytes() < allocated + allocated / 64, "{}", h.inuse_bytes());
    assert_eq!(h.peak_inuse_bytes(), h.inuse_bytes());
}

#[test]
fn parallel_sweep_agrees_with_the_serial_one() {
    let make = || {
        let h = heap();
        let mut c = h.new_cache();
        for i in 0..30_000u64 {
            let a = h.alloc(&mut c, 8 + (i % 97) * 8, (i % 2) as u32).unwrap();
            if i % 5 == 0 {
                mark(&h, a);
            }
        }
        drop(c);
        h
    };
    let (h1, h2) = (make(), make());
    let s1 = h1.sweep(None);
    let freed = std::sync::Mutex::new(Vec::new());
    let s2 = h2.sweep_parallel(Some(&|a| freed.lock().unwrap().push(a)));
    assert_eq!(s1, s2);
    assert_eq!(freed.into_inner().unwrap().len() as u64, s2.freed_objects);
    assert_eq!(h1.heap_live(), h2.heap_live());
    assert_eq!(h1.inuse_bytes(), h2.inuse_bytes());
    assert_eq!(h1.live_declared_bytes(), h2.live_declared_bytes());
}

#[test]
fn for_each_object_visits_every_allocated_object() {
    let h = heap();
    let mut c = h.new_cache();
    let mut want = HashMap::new();
    for i in 0..3000u64 {
        let size = 1 + (i * 37) % 70_000;
        want.insert(h.alloc(&mut c, size, 0).unwrap(), size);
    }
    let mut got = HashMap::new();
    h.for_each_object(|o| {
        got.insert(o.base(), o.declared_size());
    });
    assert_eq!(got, want);
    assert_eq!(h.live_declared_bytes(), (want.len() as u64, want.values().sum()));
}

#[test]
fn every_size_class_round_trips_its_metadata() {
    let h = heap();
    let mut c = h.new_cache();
    for class in &SIZE_CLASSES[1..NUM_SIZE_CLASSES] {
        let size = class.bytes as u64;
        let slots = (size / 8) as u32;
        let a = h.alloc(&mut c, size, slots).unwrap();
        let o = h.find_object(a + size - 1).unwrap();
        assert_eq!((o.base(), o.declared_size(), o.ptr_slots(), o.elem_bytes()), (a, size, slots, size));
    }
}

/// One step of a random heap history.
#[derive(Clone, Debug)]
enum Op {
    Alloc {
        size: u64,
        ptr_slots: u32,
    },
    /// Keep (mark) the live objects whose index modulo `keep_mod` is 0, then
    /// sweep.
    Collect {
        keep_mod: usize,
    },
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1u64..=2048, 0u32..4).prop_map(|(size, p)| Op::Alloc { size, ptr_slots: p.min((size / 8) as u32) }),
        1 => (32_769u64..200_000).prop_map(|size| Op::Alloc { size, ptr_slots: 0 }),
        1 => (1usize..4).prop_map(|keep_mod| Op::Collect { keep_mod }),
        1 => Just(Op::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The heap agrees with a map of live objects after any history.
    #[test]
    fn heap_matches_a_model_of_live_objects(ops in proptest::collection::vec(op(), 1..300)) {
        let h = Heap::new(1 << 30).unwrap();
        let mut c = h.new_cache();
        let mut live: HashMap<Address, (u64, u32)> = HashMap::new();
        for op in ops {
            match op {
                Op::Alloc { size, ptr_slots } => {
                    let a = h.alloc(&mut c, size, ptr_slots).unwrap();
                    prop_assert!(!live.contains_key(&a), "{:#x} handed out while live", a);
                    for (&b, &(bs, _)) in &live {
                        prop_assert!(a + size <= b || b + bs <= a, "{:#x} overlaps {:#x}", a, b);
                    }
                    for i in 0..size.div_ceil(8) {
                        prop_assert_eq!(h.load(a + 8 * i), Some(0));
                    }
                    fill(&h, a, size, 0xff);
                    live.insert(a, (size, ptr_slots));
                }
                Op::Collect { keep_mod } => {
                    let mut addrs: Vec<Address> = live.keys().copied().collect();
                    addrs.sort();
                    let keep: HashSet<Address> = addrs.iter().copied().enumerate()
                        .filter(|(i, _)| i % keep_mod == 0).map(|(_, a)| a).collect();
                    for &a in &keep {
                        mark(&h, a);
                    }
                    let (stats, freed) = sweep_collect(&h);
                    let freed: HashSet<Address> = freed.into_iter().collect();
                    let expect: HashSet<Address> = live.keys().copied().filter(|a| !keep.contains(a)).collect();
                    prop_assert_eq!(&freed, &expect);
                    prop_assert_eq!(stats.live_objects as usize, keep.len());
                    live.retain(|a, _| keep.contains(a));
                }
                Op::Flush => h.flush_cache(&mut c),
            }
            let (n, bytes) = h.live_declared_bytes();
            prop_assert_eq!(n as usize, live.len());
            prop_assert_eq!(bytes, live.values().map(|&(s, _)| s).sum::<u64>());
        }
        for (&a, &(size, ptr_slots)) in &live {
            let o = h.find_object(a + size / 2).unwrap();
            prop_assert_eq!((o.base(), o.declared_size(), o.ptr_slots()), (a, size, ptr_slots));
            prop_assert!(o.is_allocated());
        }
        h.flush_cache(&mut c);
        h.sweep(None);
        prop_assert_eq!(h.heap_live(), 0);
        prop_assert_eq!(h.inuse_bytes(), 0);
    }
}

#[test]
fn objects_allocated_black_survive_the_sweep_and_white_ones_do_not() {
    let heap = Heap::new(1 << 30).unwrap();
    let mut cache = heap.new_cache();
    let white = heap.alloc(&mut cache, 48, 2).unwrap();
    heap.set_allocate_black(true);
    assert!(heap.allocates_black());
    let black_small = heap.alloc(&mut cache, 48, 2).unwrap();
    let black_large = heap.alloc(&mut cache, 100_000, 0).unwrap();
    heap.set_allocate_black(false);
    let white_again = heap.alloc(&mut cache, 48, 2).unwrap();
    for (a, marked) in [(white, false), (black_small, true), (black_large, true), (white_again, false)] {
        assert_eq!(heap.find_object(a).unwrap().is_marked(), marked, "{a:#x}");
    }
    let mut freed = Vec::new();
    heap.sweep(Some(&mut |a| freed.push(a)));
    freed.sort();
    let mut want = vec![white, white_again];
    want.sort();
    assert_eq!(freed, want);
    assert!(heap.find_object(black_small).unwrap().is_allocated());
    assert!(heap.find_object(black_large).unwrap().is_allocated());
}

/// Collects what a concurrent sweep frees.
#[derive(Default)]
struct FreedList(parking_lot::Mutex<Vec<(u64, Address)>>);

impl ObjectSink for FreedList {
    fn on_free(&self, cycle: u64, addr: Address) {
        self.0.lock().push((cycle, addr));
    }
    fn on_move(&self, _cycle: u64, from: Address, to: Address) {
        panic!("a non-moving heap moved {from:#x} to {to:#x}");
    }
}

impl FreedList {
    fn addrs(&self) -> HashSet<Address> {
        self.0.lock().iter().map(|&(_, a)| a).collect()
    }
}

#[derive(Clone, Debug)]
enum SweepOp {
    Alloc {
        size: u64,
        ptr_slots: u32,
    },
    /// Mark every `keep_mod`-th live object, start a concurrent sweep.
    StartSweep {
        keep_mod: usize,
    },
    /// Sweep up to this many spans in the background.
    SweepSome(usize),
    Flush,
}

fn sweep_op() -> impl Strategy<Value = SweepOp> {
    prop_oneof![
        10 => (1u64..=2048, 0u32..4).prop_map(|(size, p)| SweepOp::Alloc { size, ptr_slots: p.min((size / 8) as u32) }),
        1 => (32_769u64..100_000).prop_map(|size| SweepOp::Alloc { size, ptr_slots: 0 }),
        1 => (1usize..4).prop_map(|keep_mod| SweepOp::StartSweep { keep_mod }),
        2 => (1usize..8).prop_map(SweepOp::SweepSome),
        1 => Just(SweepOp::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With sweeping interleaved with allocation, in any order: a block is
    /// never handed out while live or before its free was reported; each
    /// sweep frees exactly the blocks unmarked when it started; once it
    /// finishes, the heap agrees with a model of the live blocks.
    #[test]
    fn concurrent_sweep_frees_exactly_the_unmarked_and_never_reuses_early(
        ops in proptest::collection::vec(sweep_op(), 1..300)
    ) {
        let h = Heap::new(1 << 30).unwrap();
        let mut c = h.new_cache();
        let mut live: HashMap<Address, u64> = HashMap::new();
        // Blocks the running sweep is to free (all of them, and those whose
        // memory has not been handed out again).
        let mut doomed_all: HashSet<Address> = HashSet::new();
        let mut doomed: HashSet<Address> = HashSet::new();
        let mut sink = Arc::new(FreedList::default());
        let mut cycle = 0;
        for op in ops {
            match op {
                SweepOp::Alloc { size, ptr_slots } => {
                    let a = h.alloc(&mut c, size, ptr_slots).unwrap();
                    prop_assert!(!live.contains_key(&a), "{:#x} handed out while live", a);
                    if doomed.remove(&a) {
                        prop_assert!(sink.addrs().contains(&a), "{:#x} handed out before its free was reported", a);
                    }
                    for i in 0..size.div_ceil(8) {
                        prop_assert_eq!(h.load(a + 8 * i), Some(0));
                    }
                    fill(&h, a, size, 0xff);
                    live.insert(a, size);
                }
                SweepOp::StartSweep { keep_mod } => {
                    let stats = h.finish_sweep();
                    prop_assert_eq!(&sink.addrs(), &doomed_all, "the sweep frees exactly the unmarked blocks");
                    prop_assert_eq!(sink.0.lock().len(), doomed_all.len(), "each once");
                    prop_assert_eq!(stats.freed_objects as usize, doomed_all.len());
                    let mut addrs: Vec<Address> = live.keys().copied().collect();
                    addrs.sort();
                    let keep: HashSet<Address> = addrs.iter().copied().enumerate()
                        .filter(|(i, _)| i % keep_mod == 0).map(|(_, a)| a).collect();
                    for &a in &keep {
                        mark(&h, a);
                    }
                    doomed_all = live.keys().copied().filter(|a| !keep.contains(a)).collect();
                    doomed = doomed_all.clone();
                    live.retain(|a, _| keep.contains(a));
                    cycle += 1;
                    sink = Arc::new(FreedList::default());
                    h.start_concurrent_sweep(cycle, Some(sink.clone()));
                }
                SweepOp::SweepSome(n) => {
                    for _ in 0..n {
                        h.sweep_one();
                    }
                }
                SweepOp::Flush => h.flush_cache(&mut c),
            }
            prop_assert!(sink.addrs().is_subset(&doomed_all), "a block marked live was freed");
            prop_assert!(sink.0.lock().iter().all(|&(cy, _)| cy == cycle));
        }
        h.finish_sweep();
        prop_assert_eq!(sink.addrs(), doomed_all);
        let (n, bytes) = h.live_declared_bytes();
        prop_assert_eq!(n as usize, live.len());
        prop_assert_eq!(bytes, live.values().sum::<u64>());
        h.flush_cache(&mut c);
        h.sweep(None);
        prop_assert_eq!(h.heap_live(), 0);
        prop_assert_eq!(h.inuse_bytes(), 0);
    }
}

#[test]
fn a_background_sweeper_never_frees_what_mutators_allocate_meanwhile() {
    let h = Heap::new(1 << 30).unwrap();
    let mut c = h.new_cache();
    // 200 000 blocks of mixed sizes; every third survives.
    let old: Vec<Address> = (0..200_000u64).map(|i| h.alloc(&mut c, 16 + (i % 7) * 24, 1).unwrap()).collect();
    let kept: HashSet<Address> = old.iter().copied().step_by(3).collect();
    for &a in &kept {
        mark(&h, a);
    }
    let before = h.heap_live();
    let sink = Arc::new(FreedList::default());
    h.start_concurrent_sweep(1, Some(sink.clone()));
    assert!(h.sweep_pending());
    let fresh: Vec<Address> = std::thread::scope(|s| {
        s.spawn(|| while h.sweep_one() {});
        let mut mine = h.new_cache();
        let fresh = (0..200_000u64).map(|i| h.alloc(&mut mine, 16 + (i % 5) * 40, 1).unwrap()).collect();
        h.flush_cache(&mut mine);
        fresh
    });
    let stats = h.finish_sweep();
    assert!(!h.sweep_pending());
    let freed = sink.addrs();
    let doomed: HashSet<Address> = old.iter().copied().filter(|a| !kept.contains(a)).collect();
    assert_eq!(freed, doomed, "the sweep frees exactly the unmarked old blocks");
    assert_eq!(stats.freed_objects as usize, doomed.len());
    for &a in fresh.iter().chain(&kept) {
        assert!(h.find_object(a).unwrap().is_allocated(), "{a:#x} survives");
    }
    let distinct: HashSet<Address> = fresh.iter().copied().chain(kept.iter().copied()).collect();
    assert_eq!(distinct.len(), fresh.len() + kept.len(), "no block handed out twice");
    assert!(h.heap_live() < before + 200_000 * 100, "freed bytes leave heap_live");
    h.flush_cache(&mut c);
}

#[derive(Clone, Debug)]
enum StickyOp {
    Alloc {
        size: u64,
        ptr_slots: u32,
    },
    /// Mark every `keep_mod`-th young block, sweep the young spans.
    Minor {
        keep_mod: usize,
    },
    /// Clear the marks, mark every `keep_mod`-th block, sweep everything.
    Major {
        keep_mod: usize,
    },
    Flush,
}

fn sticky_op() -> impl Strategy<Value = StickyOp> {
    prop_oneof![
        10 => (1u64..=2048, 0u32..4).prop_map(|(size, p)| StickyOp::Alloc { size, ptr_slots: p.min((size / 8) as u32) }),
        1 => (40_000u64..100_000).prop_map(|size| StickyOp::Alloc { size, ptr_slots: 0 }),
        2 => (1usize..4).prop_map(|keep_mod| StickyOp::Minor { keep_mod }),
        1 => (1usize..4).prop_map(|keep_mod| StickyOp::Major { keep_mod }),
        1 => Just(StickyOp::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Sticky mark bits: a minor sweep frees exactly the unmarked young
    /// blocks and never an old one (it visits only spans allocated into
    /// since the last sweep); a major sweep after clearing the marks frees
    /// exactly the unmarked blocks; blocks are never handed out while live.
    #[test]
    fn sticky_sweeps_free_exactly_the_unmarked_young_or_all(ops in proptest::collection::vec(sticky_op(), 1..300)) {
        let h = Heap::new(1 << 30).unwrap();
        h.track_young_spans(true);
        let mut c = h.new_cache();
        // Live blocks: size, and old (marked by a previous sweep).
        let mut live: HashMap<Address, (u64, bool)> = HashMap::new();
        for op in ops {
            match op {
                StickyOp::Alloc { size, ptr_slots } => {
                    let a = h.alloc(&mut c, size, ptr_slots).unwrap();
                    prop_assert!(!live.contains_key(&a), "{:#x} handed out while live", a);
                    prop_assert!(!h.find_object(a).unwrap().is_marked(), "a new block is young (unmarked)");
                    live.insert(a, (size, false));
                }
                StickyOp::Minor { keep_mod } | StickyOp::Major { keep_mod } => {
                    let major = matches!(op, StickyOp::Major { .. });
                    if major {
                        h.clear_marks();
                        for v in live.values_mut() {
                            v.1 = false;
                        }
                    }
                    let mut young: Vec<Address> = live.iter().filter(|(_, v)| !v.1).map(|(&a, _)| a).collect();
                    young.sort();
                    let keep: HashSet<Address> =
                        young.iter().copied().enumerate().filter(|(i, _)| i % keep_mod == 0).map(|(_, a)| a).collect();
                    for &a in &keep {
                        mark(&h, a);
                    }
                    let mut freed = Vec::new();
                    if major {
                        h.sweep_keeping_marks(Some(&mut |a| freed.push(a)));
                    } else {
                        h.sweep_young_keeping_marks(Some(&mut |a| freed.push(a)));
                    }
                    let freed: HashSet<Address> = freed.into_iter().collect();
                    let expect: HashSet<Address> = young.iter().copied().filter(|a| !keep.contains(a)).collect();
                    prop_assert_eq!(&freed, &expect);
                    live.retain(|a, _| !expect.contains(a));
                    for v in live.values_mut() {
                        v.1 = true;
                    }
                }
                StickyOp::Flush => h.flush_cache(&mut c),
            }
            let (n, bytes) = h.live_declared_bytes();
            prop_assert_eq!(n as usize, live.len());
            prop_assert_eq!(bytes, live.values().map(|&(s, _)| s).sum::<u64>());
        }
        h.flush_cache(&mut c);
        h.clear_marks();
        h.sweep(None);
        prop_assert_eq!(h.heap_live(), 0);
        prop_assert_eq!(h.inuse_bytes(), 0);
    }
}

/// Old garbage: 100 000 blocks of 64 bytes, every fourth marked live, and a
/// concurrent sweep of them started.
fn garbage_to_sweep(h: &Heap) -> (Vec<Address>, u64) {
    let mut c = h.new_cache();
    let old: Vec<Address> = (0..100_000).map(|_| h.alloc(&mut c, 64, 1).unwrap()).collect();
    for &a in old.iter().step_by(4) {
        mark(h, a);
    }
    h.flush_cache(&mut c);
    let garbage = h.heap_live() - 25_000 * 64;
    h.start_concurrent_sweep(1, None);
    (old, garbage)
}

#[test]
fn a_concurrent_sweep_frees_toward_the_next_trigger_not_away_from_it() {
    // A collector sets the trigger for a heap_live that still counts the
    // garbage (Go's heapLive never does): the next trigger plus it. As
    // the sweep frees the garbage, the trigger comes down with heap_live,
    // so the mutators are as far from the next collection as before.
    let h = heap();
    let (_old, garbage) = garbage_to_sweep(&h);
    let next_trigger = 10 << 20;
    h.set_trigger(next_trigger + garbage);
    let distance = h.trigger() - h.heap_live();
    let mut steps = 0;
    while h.sweep_one() {
        steps += 1;
        assert_eq!(h.trigger() - h.heap_live(), distance, "after {steps} spans swept");
    }
    let stats = h.finish_sweep();
    assert_eq!(stats.freed_bytes, garbage);
    assert_eq!(h.trigger(), next_trigger, "back to the next trigger once the garbage is gone");
}

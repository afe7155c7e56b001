//! A goroutine stack's growth (Go's `copystack`): one frame, then stack
//! blocks allocated in it until the stack has grown from 2 KiB to the
//! target size, each growth a move to a stack twice as large. Measures
//! the whole sequence (every growth up to the target), and the last growth
//! alone, the one a stop-the-world may have to wait for (the replay polls
//! for a stop between events, not inside one). Blocks are 4 KiB with one
//! pointer slot that points into the stack (the move adjusts it).
//!
//! Run: `cargo bench -p gcwb-collectors --bench stack`.

use collectors::runtime::stack::{Stack, StackLimit};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::atomic::Ordering;

const BLOCK: u64 = 4096;

/// A stack grown to `bytes` by 4 KiB blocks, each block's pointer slot
/// pointing at the previous block.
fn grown_to(bytes: u64) -> Stack {
    let mut s = Stack::new(StackLimit::DEFAULT_64);
    s.push_frame(1, 64).expect("within the limit");
    let mut prev = 0;
    while s.size_bytes() < bytes {
        let a = s.alloc_block(BLOCK, 1).expect("within the limit");
        if prev != 0 {
            s.word_at(a).expect("in the stack").store(prev, Ordering::Relaxed);
        }
        prev = a;
    }
    s
}

fn growth(c: &mut Criterion) {
    let mut g = c.benchmark_group("stack");
    for mib in [1u64, 8] {
        let bytes = mib << 20;
        g.throughput(Throughput::Bytes(bytes));
        g.bench_with_input(BenchmarkId::new("grow-from-2KiB", format!("{mib}MiB")), &bytes, |b, &bytes| {
            b.iter(|| grown_to(bytes))
        });
        // The last doubling alone: a stack just full at bytes/2, one more
        // block moves it to `bytes`.
        g.bench_with_input(BenchmarkId::new("last-growth", format!("{mib}MiB")), &bytes, |b, &bytes| {
            b.iter_batched(
                || {
                    let mut s = grown_to(bytes / 2);
                    while s.size_bytes() - s.used_bytes() >= BLOCK {
                        s.alloc_block(BLOCK, 1).expect("within the limit");
                    }
                    s
                },
                |mut s| {
                    s.alloc_block(BLOCK, 1).expect("within the limit");
                    s
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, growth);
criterion_main!(benches);

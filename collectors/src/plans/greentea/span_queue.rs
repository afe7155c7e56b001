//! Green Tea's span work queues: a FIFO ring of spans on each marker (Go:
//! a P-local ring of 256), spilling to one shared queue that every marker
//! takes from.
//!
//! FIFO, unlike the LIFO object stacks: the longer a span waits, the more
//! of its objects are marked by the time it is scanned, and the more one
//! scan covers (Go found FIFO best for that). A full ring moves its older
//! half to the shared queue; every [`SPILL_PERIOD`] puts, if the shared
//! queue is empty, a marker also spills a few of its spans so that idle
//! markers have something to take (Go's `spanQueue.put`). A span is
//! queued as the address of the object whose mark queued it, so a scanner
//! that learns only that one object was marked can scan it alone.

use crate::heap::Address;
use crossbeam_deque::{Injector, Steal, Worker};
use std::collections::VecDeque;

/// Spans a marker keeps on its own ring (Go: 256).
pub const RING_SPANS: usize = 256;

/// Puts between two looks at whether to spill spans to idle markers.
pub const SPILL_PERIOD: u32 = 64;

/// The most spans one periodic spill moves.
pub const SPILL_MAX: usize = 16;

thread_local! {
    /// Where a steal lands before it moves onto the thief's ring: one per
    /// thread, made once (a crossbeam `Worker` allocates its buffer).
    static STOLEN: Worker<Address> = Worker::new_fifo();
}

/// The spans every marker can take.
#[derive(Default)]
pub struct SharedSpans {
    queue: Injector<Address>,
}

impl SharedSpans {
    #[inline]
    pub fn push(&self, span: Address) {
        self.queue.push(span);
    }

    /// Takes a span, moving about half of what is shared (up to a batch)
    /// onto `ring` too, as Go's thieves take half.
    pub fn steal_into(&self, ring: &mut SpanRing) -> Option<Address> {
        STOLEN.with(|stolen| loop {
            match self.queue.steal_batch_and_pop(stolen) {
                Steal::Success(a) => {
                    while let Some(b) = stolen.pop() {
                        ring.spans.push_back(b);
                    }
                    return Some(a);
                }
                Steal::Retry => continue,
                Steal::Empty => return None,
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// One marker's ring of spans to scan, oldest first.
#[derive(Default)]
pub struct SpanRing {
    spans: VecDeque<Address>,
    puts: u32,
}

impl SpanRing {
    /// Queues a span; spills to `shared` when full, or now and then when
    /// `shared` is empty.
    #[inline]
    pub fn put(&mut self, span: Address, shared: &SharedSpans) {
        if self.spans.len() >= RING_SPANS {
            for a in self.spans.drain(..RING_SPANS / 2) {
                shared.push(a);
            }
        }
        self.spans.push_back(span);
        self.puts += 1;
        if self.puts >= SPILL_PERIOD {
            self.puts = 0;
            let n = (self.spans.len() / 2).min(SPILL_MAX);
            if n > 4 && shared.is_empty() {
                for a in self.spans.drain(..n) {
                    shared.push(a);
                }
            }
        }
    }

    /// The oldest span queued here (or the newest, for a marker that
    /// wants what it has just greyed).
    #[inline]
    pub fn take(&mut self, newest_first: bool) -> Option<Address> {
        if newest_first {
            self.spans.pop_back()
        } else {
            self.spans.pop_front()
        }
    }

    /// Gives every span left back to `shared`.
    pub fn give_back(&mut self, shared: &SharedSpans) {
        for a in self.spans.drain(..) {
            shared.push(a);
        }
    }
}

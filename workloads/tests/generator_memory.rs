//! Generators stream: the memory a generator holds follows the trace it has
//! written (its events, and the program state those events describe), never
//! a product of its parameters. `gcwb gen cache --set workers=64 --set
//! active=1000000 ...` once took 1 GB to write 174 events.
//!
//! The measure is the heap this process has allocated (a counting global
//! allocator: bytes live at the peak, above what was live before), not RSS,
//! so it is exact and repeatable. Each generator writes into a sink that
//! stops it after a number of events; its peak must stay within
//! [`allowance`] of what it wrote by then. This file holds one test, so no
//! other test allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use workloads::builder::EventSink;
use workloads::generate::params::{ParamSpec, Params};
use workloads::generate::{workloads, WorkloadInfo};
use workloads::model::{Event, Op};

/// Counts the bytes live on the heap and their peak; refuses to go past
/// [`CAP_BYTES`] (the process then aborts), so a generator that would take
/// gigabytes fails the test instead of the machine.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
const CAP_BYTES: usize = 1 << 30;

// SAFETY: every call is forwarded to the system allocator with the same
// layout and pointer; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > CAP_BYTES {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Takes a generator's events and stops it (with an I/O error) after
/// `limit` of them; counts the bytes its `alloc` events describe.
struct StopAfter {
    limit: u64,
    events: u64,
    alloc_bytes: u64,
}

impl EventSink for StopAfter {
    fn start(&mut self, _globals: u32) -> io::Result<()> {
        Ok(())
    }
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.events += 1;
        if let Op::Alloc { size, .. } = &e.op {
            self.alloc_bytes += size;
        }
        if self.events >= self.limit {
            return Err(io::Error::other("enough events"));
        }
        Ok(())
    }
    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a generator may hold after writing `events` events whose `alloc`s
/// describe `alloc_bytes` bytes: a fixed 8 MiB, 512 bytes an event (its live
/// goroutines, frames and spans, each of which took events to make), and a
/// quarter of the described heap (a shadow of the program's slots, a bit a
/// table entry).
fn allowance(events: u64, alloc_bytes: u64) -> u64 {
    (8 << 20) + 512 * events + alloc_bytes / 4
}

/// The peak heap above the starting level while `w` writes up to `limit`
/// events with `params`; also the events and bytes written.
fn measure(w: &WorkloadInfo, params: &Params, limit: u64) -> (u64, u64, u64) {
    let mut sink = StopAfter { limit, events: 0, alloc_bytes: 0 };
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let _ = (w.generate)(params, &mut sink);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base) as u64;
    (peak, sink.events, sink.alloc_bytes)
}

fn params_of(w: &WorkloadInfo, sets: &[String]) -> Params {
    let mut p = w.defaults(1);
    for s in sets {
        p.set_pair(w.params, s).unwrap_or_else(|e| panic!("{}: {s}: {e}", w.name));
    }
    p
}

/// `name=max` for a parameter, as `--set` takes it.
fn at_max(spec: &ParamSpec) -> String {
    if spec.integer {
        format!("{}={}", spec.name, spec.max as u64)
    } else {
        format!("{}={}", spec.name, spec.max)
    }
}

#[test]
fn generator_memory_follows_what_it_wrote_not_its_parameters() {
    let find = |name: &str| workloads().iter().find(|w| w.name == name).expect("registered");
    let mut failures = Vec::new();
    let mut check = |w: &WorkloadInfo, sets: Vec<String>, limit: u64| {
        let (peak, events, bytes) = measure(w, &params_of(w, &sets), limit);
        if peak > allowance(events, bytes) {
            failures.push(format!(
                "{} {}: {peak} bytes held after {events} events ({bytes} bytes allocated by them; allowed {})",
                w.name,
                sets.join(" "),
                allowance(events, bytes)
            ));
        }
    };
    let sets = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // The case, scaled down: 64 workers × 100,000 active objects
    // were drawn up front (100 MB) for 10 updates.
    check(find("cache"), sets(&["workers=64", "active=100000", "old_objects=10", "updates=10"]), u64::MAX);
    // Every goroutine's whole request was planned at once: 64 × ~14,000
    // events of 10,000-block requests (65 MB) after a 12,000-event warm-up.
    check(find("server"), sets(&["allocs_per_request=10000", "requests=1"]), 20_000);

    // Every workload, with every two of its parameters at their maximum.
    for w in workloads() {
        for (i, a) in w.params.iter().enumerate() {
            for b in &w.params[i + 1..] {
                check(w, vec![at_max(a), at_max(b)], 20_000);
            }
        }
    }
    assert!(failures.is_empty(), "generators holding more than they wrote:\n{}", failures.join("\n"));
}

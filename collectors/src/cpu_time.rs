//! The CPU time a thread has used, for the CPU-time cost of collector work
//! (mark rate per processor-second, as opposed to per wall-clock second:
//! a concurrent mark shares the processors with the mutators, so its wall
//! time says little about how fast it marks).

/// CPU time used by the calling thread so far, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`); 0 if the clock cannot be read.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call to fill in;
    // the clock id is a constant the platform defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_uses_cpu_time_and_a_sleeping_one_hardly_any() {
        let t0 = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let busy = thread_cpu_ns() - t0;
        let t1 = thread_cpu_ns();
        std::thread::sleep(std::time::Duration::from_millis(busy / 1_000_000 + 20));
        let asleep = thread_cpu_ns() - t1;
        assert!(busy > 0, "a busy loop used no CPU time");
        assert!(asleep < busy, "sleeping used {asleep} ns, busy {busy} ns");
    }
}

//! The CPU time a thread has used, for the CPU-time cost of collector work
//! (mark rate per processor-second, as opposed to per wall-clock second:
//! a concurrent mark shares the processors with the mutators, so its wall
//! time says little about how fast it marks), and for how long a thread
//! was off its processor: another thread can read a thread's clock through
//! a [`ThreadCpuClock`].

/// CPU time used by the calling thread so far, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`); 0 if the clock cannot be read.
pub fn thread_cpu_ns() -> u64 {
    try_thread_cpu_ns().unwrap_or(0)
}

/// CPU time used by the calling thread so far, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`); `None` if the clock cannot be read.
pub fn try_thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call to fill in;
    // the clock id is a constant the platform defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CPU time used by every thread of this process so far, in nanoseconds
/// (`CLOCK_PROCESS_CPUTIME_ID`): mutators, collector threads and helpers
/// alike; 0 if the clock cannot be read.
pub fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: as in `try_thread_cpu_ns`: a valid, writable timespec and a
    // clock id the platform defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    } else {
        0
    }
}

/// One thread's CPU-time clock (`pthread_getcpuclockid`), readable from any
/// thread while that thread lives: the clock `CLOCK_THREAD_CPUTIME_ID`
/// reads for the thread itself.
#[derive(Clone, Copy, Debug)]
pub struct ThreadCpuClock(libc::clockid_t);

impl ThreadCpuClock {
    /// The calling thread's clock; `None` if the platform has none.
    pub fn of_current_thread() -> Option<ThreadCpuClock> {
        let mut id: libc::clockid_t = 0;
        // SAFETY: `pthread_self()` is the calling thread, alive during the
        // call; `id` is a valid, writable clockid_t for it to fill in.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
        (rc == 0).then_some(ThreadCpuClock(id))
    }

    /// The thread's CPU time so far, in nanoseconds; `None` if the clock
    /// cannot be read (the thread has exited).
    pub fn read_ns(&self) -> Option<u64> {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec for the call to fill
        // in; a clock id whose thread has exited makes the call fail
        // (EINVAL), nothing worse.
        let rc = unsafe { libc::clock_gettime(self.0, &mut ts) };
        (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }
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

    #[test]
    fn another_thread_reads_a_threads_clock_as_the_thread_does() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let mut x = 0u64;
            for i in 0..5_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            tx.send((ThreadCpuClock::of_current_thread().unwrap(), thread_cpu_ns())).unwrap();
            done_rx.recv().unwrap();
            thread_cpu_ns()
        });
        let (clock, own_before) = rx.recv().unwrap();
        // The thread is blocked in `recv`, between its two readings.
        let seen = clock.read_ns().expect("a live thread's clock reads");
        done_tx.send(()).unwrap();
        let own_after = t.join().unwrap();
        assert!(own_before > 0);
        assert!(own_before <= seen && seen <= own_after, "{own_before} <= {seen} <= {own_after}");
    }
}

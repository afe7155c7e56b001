//! Request latency: where a span's time went, the latency a service would
//! feel, and DaCapo's metered latency.
//!
//! A trace's `begin TAG` .. `end TAG` span is a request. While it is open,
//! the replayer charges every nanosecond of its goroutine to one of five
//! states ([`TimeSplit`] holds the four that are not running):
//!
//! - **running** on a worker: executing events, write barriers, `work`
//!   (and whatever the kernel takes from that worker's thread);
//! - **paused**: stopped by the collector — parked at a safepoint while the
//!   world is stopped, handed over while a collector scans its stack, running
//!   a collection it triggered, or waiting in the run queue while the world
//!   is stopped (no worker could have taken it);
//! - **assisting**: a mark assist its allocation owed;
//! - **dep-wait**: parked until another goroutine reaches an earlier event
//!   of the trace (the replayer keeps accesses to shared memory in trace
//!   order, see `replay::scheduler`);
//! - **queued**: runnable, waiting for a worker, with the world running.
//!
//! Dep-wait and queued time are the replayer's: a Go program has no global
//! event order to wait for, and a request in flight is rarely preempted (a
//! goroutine keeps its P until it blocks or runs 10 ms). So the headline
//! **latency** of a span is running + paused + assisting — wall time minus
//! dep-wait and queued time. Under `none` it is the request's own work; a
//! collector adds its pauses, assists and barrier costs to it.
//!
//! **Metered latency** (DaCapo's `LatencyReporter`, Blackburn et al.) adds
//! what a steady stream of clients would have waited: requests sorted by
//! start are given synthetic starts spread evenly over a sliding window of
//! `W` around each, and a request's metered latency is the larger of its
//! latency and its end minus its synthetic start. After a stall, requests
//! that began late (their clients were held up) are charged the delay: the
//! coordinated-omission-aware figure. DaCapo reports W = 100 ms and "full
//! smoothing" (W = ten times the run); so does gcwb. The end of a span on
//! this timeline is its start plus its latency, so the replayer's own waits
//! stay out of it as they stay out of the latency.
//!
//! Pure: records in, figures out. The replayer records ([`SpanRecord`]);
//! `report` writes what [`summarize`] computes.

use crate::metrics::new_histogram;
use hdrhistogram::Histogram;

/// A span's (or a goroutine's, cumulatively) time in the states other than
/// running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeSplit {
    pub paused_ns: u64,
    pub assist_ns: u64,
    pub dep_wait_ns: u64,
    pub queued_ns: u64,
}

impl TimeSplit {
    /// What accrued between the cumulative readings `earlier` and `self`.
    pub fn since(self, earlier: TimeSplit) -> TimeSplit {
        TimeSplit {
            paused_ns: self.paused_ns.saturating_sub(earlier.paused_ns),
            assist_ns: self.assist_ns.saturating_sub(earlier.assist_ns),
            dep_wait_ns: self.dep_wait_ns.saturating_sub(earlier.dep_wait_ns),
            queued_ns: self.queued_ns.saturating_sub(earlier.queued_ns),
        }
    }
}

/// One closed span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanRecord {
    /// Index into the trace's tags.
    pub tag: u32,
    /// Dense goroutine index.
    pub goroutine: u32,
    /// Replay clock at `begin`.
    pub start_ns: u64,
    /// `end` minus `begin`, everything included.
    pub wall_ns: u64,
    pub split: TimeSplit,
}

impl SpanRecord {
    /// The headline latency: wall time less the replayer's dep-wait and
    /// queued time (running + paused + assisting).
    pub fn latency_ns(&self) -> u64 {
        self.wall_ns.saturating_sub(self.split.dep_wait_ns + self.split.queued_ns)
    }

    /// Time on a worker doing the span's own work.
    pub fn running_ns(&self) -> u64 {
        self.latency_ns().saturating_sub(self.split.paused_ns + self.split.assist_ns)
    }
}

/// DaCapo's short smoothing window: 100 ms.
pub const METERED_WINDOW_NS: u64 = 100_000_000;
/// DaCapo's "full smoothing": a window ten times the run.
pub const FULL_SMOOTHING_FACTOR: u64 = 10;

/// Metered latency of each span of `spans` (one tag, sorted by start) with
/// a smoothing window of `window_ns`, in the same order.
///
/// As DaCapo's `smoothedStartTime`: for span `i`, `lo` is the first span
/// starting at or after `start_i - W/2` and `hi` the first at or after
/// `start_i + W/2` (the last span if none); span `i`'s synthetic start is
/// `start_lo + (i - lo) * (start_hi - start_lo) / (hi - lo)`.
pub fn metered(spans: &[SpanRecord], window_ns: u64) -> Vec<u64> {
    let n = spans.len();
    let half = window_ns / 2;
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut out = Vec::with_capacity(n);
    for (i, s) in spans.iter().enumerate() {
        let from = s.start_ns.saturating_sub(half);
        while lo + 1 < n && spans[lo].start_ns < from {
            lo += 1;
        }
        let to = s.start_ns.saturating_add(half);
        while hi + 1 < n && spans[hi].start_ns < to {
            hi += 1;
        }
        let synthetic = if hi > lo {
            let interval = (spans[hi].start_ns - spans[lo].start_ns) as f64 / (hi - lo) as f64;
            spans[lo].start_ns as f64 + (i as f64 - lo as f64) * interval
        } else {
            s.start_ns as f64
        };
        let latency = s.latency_ns();
        let end = (s.start_ns + latency) as f64;
        out.push(latency.max((end - synthetic).max(0.0).round() as u64));
    }
    out
}

/// Everything reported about one tag's spans in one run.
pub struct TagLatency {
    pub tag: String,
    pub count: u64,
    /// The headline latency.
    pub latency: Histogram<u64>,
    /// Wall time from `begin` to `end`, replayer waits included.
    pub wall: Histogram<u64>,
    pub metered_100ms: Histogram<u64>,
    pub metered_full: Histogram<u64>,
    /// Totals over the spans: running, and the rest of the split.
    pub running_ns: u64,
    pub split: TimeSplit,
}

impl TagLatency {
    /// Mean of a total over the spans (0 with none).
    pub fn mean(&self, total_ns: u64) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            total_ns as f64 / self.count as f64
        }
    }
}

/// The spans of each of `tags` tags (by index), each list sorted by start.
pub fn by_tag(tags: usize, records: &[SpanRecord]) -> Vec<Vec<SpanRecord>> {
    let mut by_tag: Vec<Vec<SpanRecord>> = vec![Vec::new(); tags];
    for r in records {
        if let Some(v) = by_tag.get_mut(r.tag as usize) {
            v.push(*r);
        }
    }
    for v in &mut by_tag {
        v.sort_by_key(|s| (s.start_ns, s.goroutine));
    }
    by_tag
}

/// DaCapo's "full smoothing" window for `spans` (sorted by start): ten
/// times the time from the first start to the last end.
pub fn full_smoothing_window(spans: &[SpanRecord]) -> u64 {
    let first = spans.first().map_or(0, |s| s.start_ns);
    let last_end = spans.iter().map(|s| s.start_ns + s.latency_ns()).max().unwrap_or(0);
    last_end.saturating_sub(first).saturating_mul(FULL_SMOOTHING_FACTOR).max(1)
}

/// Metered latencies of `spans` (sorted by start) with DaCapo's two
/// windows: 100 ms, and full smoothing.
pub fn metered_both(spans: &[SpanRecord]) -> (Vec<u64>, Vec<u64>) {
    (metered(spans, METERED_WINDOW_NS), metered(spans, full_smoothing_window(spans)))
}

/// Per tag (in the trace's tag order, tags with no span included), the
/// latency figures of `records`.
pub fn summarize(tags: &[String], records: &[SpanRecord]) -> Vec<TagLatency> {
    tags.iter()
        .zip(by_tag(tags.len(), records))
        .map(|(tag, spans)| {
            let mut t = TagLatency {
                tag: tag.clone(),
                count: spans.len() as u64,
                latency: new_histogram(),
                wall: new_histogram(),
                metered_100ms: new_histogram(),
                metered_full: new_histogram(),
                running_ns: 0,
                split: TimeSplit::default(),
            };
            for s in &spans {
                t.latency.saturating_record(s.latency_ns().max(1));
                t.wall.saturating_record(s.wall_ns.max(1));
                t.running_ns += s.running_ns();
                t.split.paused_ns += s.split.paused_ns;
                t.split.assist_ns += s.split.assist_ns;
                t.split.dep_wait_ns += s.split.dep_wait_ns;
                t.split.queued_ns += s.split.queued_ns;
            }
            let (short, full) = metered_both(&spans);
            for m in short {
                t.metered_100ms.saturating_record(m.max(1));
            }
            for m in full {
                t.metered_full.saturating_record(m.max(1));
            }
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ns: u64, latency_ns: u64) -> SpanRecord {
        SpanRecord { tag: 0, goroutine: 0, start_ns, wall_ns: latency_ns, split: TimeSplit::default() }
    }

    #[test]
    fn latency_leaves_out_the_replayers_waits_and_running_what_the_collector_took() {
        let s = SpanRecord {
            tag: 0,
            goroutine: 1,
            start_ns: 0,
            wall_ns: 1000,
            split: TimeSplit { paused_ns: 100, assist_ns: 50, dep_wait_ns: 300, queued_ns: 200 },
        };
        assert_eq!(s.latency_ns(), 500);
        assert_eq!(s.running_ns(), 350);
    }

    #[test]
    fn evenly_started_requests_meter_to_their_own_latency() {
        let spans: Vec<SpanRecord> = (0..100).map(|i| span(i * 1000, 10)).collect();
        assert!(metered(&spans, 10_000).iter().all(|&m| m == 10));
        assert!(metered(&spans, 1_000_000_000).iter().all(|&m| m == 10));
    }

    #[test]
    fn requests_held_up_by_a_stall_are_charged_the_delay() {
        // Ten requests 1 µs apart, then a 1 ms stall, then ten more: with a
        // window wider than the run, the synthetic starts are spread evenly
        // over [0, 1.019 ms], so the eleventh request (really started at
        // 1.010 ms) has a synthetic start of 10 * 1019/19 µs = 536.3 µs.
        let mut spans: Vec<SpanRecord> = (0..10).map(|i| span(i * 1000, 100)).collect();
        spans.extend((0..10).map(|i| span(1_010_000 + i * 1000, 100)));
        let m = metered(&spans, 100_000_000);
        let synth: f64 = 10.0 * 1_019_000.0 / 19.0;
        let want = (1_010_000.0 + 100.0 - synth).round() as u64;
        assert_eq!(m[10], want);
        // The first request's synthetic start is its own: no delay.
        assert_eq!(m[0], 100);
        // Every metered latency is at least the latency.
        assert!(m.iter().all(|&x| x >= 100));
        // A window far shorter than the stall sees no gap to spread.
        assert!(metered(&spans, 2_000).iter().all(|&x| x == 100));
    }

    #[test]
    fn one_span_meters_to_itself() {
        assert_eq!(metered(&[span(5, 7)], 100), vec![7]);
        assert!(metered(&[], 100).is_empty());
    }

    #[test]
    fn a_summary_per_tag_keeps_empty_tags_and_sums_the_split() {
        let tags = vec!["req".to_string(), "idle".to_string()];
        let mut a = span(0, 1000);
        a.split = TimeSplit { paused_ns: 10, assist_ns: 20, dep_wait_ns: 30, queued_ns: 40 };
        let b = span(10_000, 2000);
        let s = summarize(&tags, &[b, a]);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].tag.as_str(), s[0].count), ("req", 2));
        assert_eq!(s[0].split, a.split);
        assert_eq!(s[0].running_ns, (1000 - 100) + 2000);
        assert_eq!(s[0].wall.max(), 2000);
        assert!(s[0].latency.min() <= 930 && s[0].latency.min() >= 929);
        assert_eq!(s[1].count, 0);
        assert_eq!(s[1].mean(s[1].running_ns), 0.0);
    }
}

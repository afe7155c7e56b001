//! What the progress bars on stderr show besides their counts: the rate and
//! the time left, in gcwb's own units (`12.3 M events/s`, as the result
//! lines print it) and only once the reading means something.
//!
//! indicatif's `{per_sec}` prints its smoothed estimate with four decimals
//! from the first tick on, when a few thousand events over a few
//! milliseconds read as hundreds of millions a second
//! (`199,367,419.5342/s`). [`with_rate`] adds a `{rate}` key instead: the
//! average since the bar started ([`rate_text`]), hidden for the first
//! [`MIN_RATE_ELAPSED`]. The replay's bar ([`crate::replay`]) and the
//! loading spinner ([`crate::engine`]) use it.

use indicatif::{HumanDuration, ProgressState, ProgressStyle};
use std::fmt::Write as _;
use std::time::Duration;

/// A bar shows no rate before it has run this long.
pub const MIN_RATE_ELAPSED: Duration = Duration::from_secs(1);

/// `12.3 M events/s`, `850.0 k events/s`, `12 events/s`: at most one
/// decimal, in the units the result lines use.
pub fn human_rate(per_s: f64, unit: &str) -> String {
    if per_s >= 1e6 {
        format!("{:.1} M {unit}/s", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.1} k {unit}/s", per_s / 1e3)
    } else {
        format!("{per_s:.0} {unit}/s")
    }
}

/// The rate of `done` events after `elapsed` and, with the `total`, the
/// time left at that rate: `12.3 M events/s, 4s left`. `None` before
/// [`MIN_RATE_ELAPSED`] or before the first event.
pub fn rate_text(done: u64, total: Option<u64>, elapsed: Duration) -> Option<String> {
    if elapsed < MIN_RATE_ELAPSED || done == 0 {
        return None;
    }
    let per_s = done as f64 / elapsed.as_secs_f64();
    let mut s = human_rate(per_s, "events");
    if let Some(total) = total {
        let left = Duration::from_secs_f64(total.saturating_sub(done) as f64 / per_s);
        let _ = write!(s, ", {:#} left", HumanDuration(left));
    }
    Some(s)
}

/// `style` with a `{rate}` key: `  (RATE[, T left])` once [`rate_text`]
/// has a reading, else nothing.
pub fn with_rate(style: ProgressStyle) -> ProgressStyle {
    style.with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        if let Some(text) = rate_text(state.pos(), state.len(), state.elapsed()) {
            let _ = write!(w, "  ({text})");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_readings_are_hidden() {
        // 4096 events in the first 20 µs: 200 M events/s, meaningless.
        assert_eq!(rate_text(4096, Some(1 << 30), Duration::from_micros(20)), None);
        assert_eq!(rate_text(0, Some(100), Duration::from_secs(5)), None);
    }

    #[test]
    fn rates_have_at_most_one_decimal_and_gcwbs_units() {
        let t = rate_text(199_367_419, Some(398_734_838), Duration::from_secs(1)).unwrap();
        assert_eq!(t, "199.4 M events/s, 1s left");
        assert_eq!(rate_text(2_500, None, Duration::from_secs(2)).unwrap(), "1.2 k events/s");
        assert_eq!(human_rate(12.4, "events"), "12 events/s");
        for per_s in [0.5, 7.0, 999.0, 1_000.0, 54_321.9, 3.1e6, 9.99e9] {
            let s = human_rate(per_s, "events");
            let decimals = s.split(' ').next().unwrap().split('.').nth(1).map_or(0, str::len);
            assert!(decimals <= 1 && !s.contains(','), "{s}");
        }
    }
}

//! What `greentea` declares to whatever drives it: its options (which size
//! classes go through span queues, the single-object fast path) and the
//! metrics each of its cycles reports (how dense its span scans were).

use super::marking::GreenTeaSettings;
use crate::heap::MAX_SMALL_BYTES;
use crate::plan_metrics::{MetricKind, MetricSpec};
use crate::plan_options::{any_value, OptionKind, OptionSpec};
use crate::GcConfig;

/// `--greentea-min-size`: the smallest size class marked by span.
pub const MIN_SIZE: OptionSpec = OptionSpec {
    name: "greentea-min-size",
    kind: OptionKind::Bytes,
    default: 16,
    about: "The smallest size class (block bytes) marked span by span; smaller ones by object (Go: 16)",
    check: at_most_small,
};

/// `--greentea-max-size`: the largest size class marked by span.
pub const MAX_SIZE: OptionSpec = OptionSpec {
    name: "greentea-max-size",
    kind: OptionKind::Bytes,
    default: 512,
    about: "The largest size class (block bytes) marked span by span; larger ones by object (Go: 512; \
            below --greentea-min-size: no span marking at all)",
    check: at_most_small,
};

/// `--greentea-one-mark-fast-path`: a span that collected one mark is
/// scanned by that object alone.
pub const ONE_MARK_FAST_PATH: OptionSpec = OptionSpec {
    name: "greentea-one-mark-fast-path",
    kind: OptionKind::Switch,
    default: 1,
    about: "Scan a span that collected only the mark that queued it by that object alone, without looking \
            at its bitmaps (Go's fast path)",
    check: any_value,
};

/// `--greentea-assist-newest-first`: a mark assist takes its ring's spans
/// newest first.
pub const ASSIST_NEWEST_FIRST: OptionSpec = OptionSpec {
    name: "greentea-assist-newest-first",
    kind: OptionKind::Switch,
    default: 0,
    about: "A mark assist takes the spans it queued newest first (LIFO), still warm in its cache, where background \
            marking keeps Go's oldest first (FIFO, which lets a span collect marks); off: Go's FIFO for all",
    check: any_value,
};

fn at_most_small(b: u64) -> Result<(), String> {
    if b <= MAX_SMALL_BYTES {
        Ok(())
    } else {
        Err(format!("expected at most {MAX_SMALL_BYTES} bytes (the largest small size class), got {b}"))
    }
}

/// The options `greentea` takes.
pub const OPTIONS: &[OptionSpec] = &[MIN_SIZE, MAX_SIZE, ONE_MARK_FAST_PATH, ASSIST_NEWEST_FIRST];

/// What each of its cycles reports beyond [`crate::CycleRecord`]'s fields.
pub const CYCLE_METRICS: &[MetricSpec] = &[
    MetricSpec {
        name: "spans_scanned",
        kind: MetricKind::Count,
        about: "greentea: span scans (one per span dequeued)",
    },
    MetricSpec {
        name: "dense_spans_scanned",
        kind: MetricKind::Count,
        about: "greentea: span scans that claimed at least 1/8 of the span's slots and scanned them in one pass",
    },
    MetricSpec {
        name: "one_mark_span_scans",
        kind: MetricKind::Count,
        about: "greentea: span scans that took the single-object fast path",
    },
    MetricSpec {
        name: "span_objects_scanned",
        kind: MetricKind::Count,
        about: "greentea: objects scanned by span scans",
    },
    MetricSpec {
        name: "objects_per_span_scan",
        kind: MetricKind::Ratio,
        about: "greentea: span_objects_scanned / spans_scanned (the span density the design counts on)",
    },
    MetricSpec {
        name: "objects_scanned_alone",
        kind: MetricKind::Count,
        about:
            "greentea: objects (and oblets) scanned from the object work list: large ones and classes outside the range",
    },
];

/// The settings `config`'s options ask for.
pub fn settings(config: &GcConfig) -> GreenTeaSettings {
    GreenTeaSettings {
        min_size: config.options.get(&MIN_SIZE),
        max_size: config.options.get(&MAX_SIZE),
        one_mark_fast_path: config.options.get(&ONE_MARK_FAST_PATH) != 0,
        assist_newest_first: config.options.get(&ASSIST_NEWEST_FIRST) != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_gos_and_options_reach_the_settings() {
        assert_eq!(settings(&GcConfig::default()), GreenTeaSettings::default());
        let mut config = GcConfig::default();
        config.options.set("greentea-min-size", MIN_SIZE.parse("64").unwrap());
        config.options.set("greentea_max_size", MAX_SIZE.parse("1KiB").unwrap());
        config.options.set("greentea-one-mark-fast-path", ONE_MARK_FAST_PATH.parse("off").unwrap());
        config.options.set("greentea-assist-newest-first", ASSIST_NEWEST_FIRST.parse("on").unwrap());
        assert_eq!(
            settings(&config),
            GreenTeaSettings { min_size: 64, max_size: 1024, one_mark_fast_path: false, assist_newest_first: true }
        );
        assert!(MAX_SIZE.parse("64KiB").unwrap_err().contains("at most"));
    }
}

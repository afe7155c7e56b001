//! The collectors gcwb knows, by name, each with what it declares: its
//! options ([`crate::plan_options`]) and the extra metrics of its cycles
//! ([`crate::plan_metrics`]).
//!
//! Adding a collector is one folder (or module) in `plans/` — its code, its
//! options and metrics, and its `INFO` entry — and one name in
//! [`COLLECTORS`]. Whatever drives the
//! collectors asks [`all_options`] and [`all_cycle_metrics`] instead of
//! knowing any plan's: gcwb's command line, sweep files, `run.toml` and
//! `cycles.csv` are built from them.

pub use crate::collector::CollectorInfo;
use crate::plan_metrics::MetricSpec;
use crate::plan_options::{canonical_name, OptionSpec};
use crate::plans::{concurrent, generational, greentea, mark_sweep, none, sticky};

/// Every collector, in the order `gcwb collectors` lists them. Each plan
/// declares its own entry (`INFO`, beside its code).
pub const COLLECTORS: &[CollectorInfo] =
    &[none::INFO, mark_sweep::INFO, concurrent::INFO, greentea::INFO, sticky::INFO, generational::INFO];

/// The collector registered as `name`.
pub fn find(name: &str) -> Option<&'static CollectorInfo> {
    COLLECTORS.iter().find(|c| c.name == name)
}

/// Every registered name.
pub fn names() -> Vec<&'static str> {
    COLLECTORS.iter().map(|c| c.name).collect()
}

/// Every option some collector takes, one per name, in the order of
/// [`COLLECTORS`] and then of each collector's list.
pub fn all_options() -> Vec<&'static OptionSpec> {
    let mut out: Vec<&'static OptionSpec> = Vec::new();
    for o in COLLECTORS.iter().flat_map(|c| c.options) {
        if !out.iter().any(|x| x.name == o.name) {
            out.push(o);
        }
    }
    out
}

/// Every extra cycle metric some collector reports, one per name, in the
/// order of [`COLLECTORS`] and then of each collector's list.
pub fn all_cycle_metrics() -> Vec<&'static MetricSpec> {
    let mut out: Vec<&'static MetricSpec> = Vec::new();
    for m in COLLECTORS.iter().flat_map(|c| c.cycle_metrics) {
        if !out.iter().any(|x| x.name == m.name) {
            out.push(m);
        }
    }
    out
}

/// The option named `name` (kebab-case or snake_case), if a collector
/// takes one.
pub fn find_option(name: &str) -> Option<&'static OptionSpec> {
    let name = canonical_name(name);
    all_options().into_iter().find(|o| o.name == name)
}

/// The names of the collectors that take option `name`.
pub fn taking_option(name: &str) -> Vec<&'static str> {
    COLLECTORS.iter().filter(|c| c.option(name).is_some()).map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_that_declare_one_option_name_declare_the_same_option() {
        let all: Vec<(&str, &OptionSpec)> =
            COLLECTORS.iter().flat_map(|c| c.options.iter().map(move |o| (c.name, o))).collect();
        for (a, x) in &all {
            for (b, y) in &all {
                if x.name == y.name {
                    assert!(x.same_as(y), "{a} and {b} declare different options named `{}`", x.name);
                }
            }
        }
    }

    #[test]
    fn plans_that_declare_one_metric_name_declare_the_same_metric() {
        let all: Vec<(&str, &MetricSpec)> =
            COLLECTORS.iter().flat_map(|c| c.cycle_metrics.iter().map(move |m| (c.name, m))).collect();
        for (a, x) in &all {
            for (b, y) in &all {
                assert!(x.name != y.name || x == y, "{a} and {b} declare different metrics named `{}`", x.name);
            }
        }
    }

    #[test]
    fn all_options_and_metrics_name_each_one_once_in_registry_order() {
        let options: Vec<&str> = all_options().iter().map(|o| o.name).collect();
        assert_eq!(
            options,
            [
                "greentea-min-size",
                "greentea-max-size",
                "greentea-one-mark-fast-path",
                "greentea-assist-newest-first",
                "nursery",
                "card-bytes",
                "tenure-age",
                "pretenure-bytes"
            ]
        );
        let metrics: Vec<&str> = all_cycle_metrics().iter().map(|m| m.name).collect();
        assert_eq!(
            metrics,
            [
                "spans_scanned",
                "dense_spans_scanned",
                "one_mark_span_scans",
                "span_objects_scanned",
                "objects_per_span_scan",
                "objects_scanned_alone",
                "young_bytes",
                "promoted_bytes",
                "survival_rate",
                "dirty_cards",
                "copied_bytes"
            ]
        );
        assert_eq!(taking_option("card_bytes"), ["sticky", "generational"]);
        assert_eq!(taking_option("tenure-age"), ["generational"]);
        assert!(find_option("pretenure_bytes").is_some() && find_option("procs").is_none());
    }

    #[test]
    fn option_and_metric_names_are_kebab_and_snake_case() {
        let kebab =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        for o in all_options() {
            assert!(kebab(o.name), "option `{}` is not kebab-case", o.name);
            assert!(o.default == 0 || (o.check)(o.default).is_ok(), "`{}`'s default fails its own check", o.name);
        }
        for m in all_cycle_metrics() {
            assert!(kebab(&m.name.replace('_', "-")) && !m.name.contains('-'), "metric `{}` is not snake_case", m.name);
        }
    }
}

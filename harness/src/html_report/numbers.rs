//! Numbers as a reader reads them. Each table column gets one [`Scale`]
//! (the unit its header names: `ms`, `MiB`, `M/s`, `%`), chosen from its
//! largest value, and each cell three significant digits in it, so a
//! column reads down at a glance — unless that unit would write one of
//! them below [`PER_CELL_BELOW`] (a 1 ms pause beside a 2 µs one would
//! read `0.00200`): then each cell has its own unit (`2.00 µs`) and the
//! header none. The exact value of the result file stays in the cell's
//! `data-value` (for sorting) and `title`.
//!
//! A column's [`Unit`] comes from [`crate::columns`]' registry, else from
//! its name's suffix (`_ns`, `_bytes`, `_per_s`), as the CSV files name
//! their units.

use crate::columns::{self, Kind};

/// What a column measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds.
    Duration,
    Bytes,
    /// Things per second.
    Rate,
    /// A share from 0 to 1 shown as it is (MMU).
    Ratio,
    /// A share shown as a percentage (GC CPU, normalized LBO).
    Percent,
    /// A whole number of things.
    Count,
    /// Any other number.
    Plain,
}

/// Shares that read better as percentages.
const PERCENT_COLUMNS: [&str; 2] = ["gc_cpu_fraction", "gc_cpu_used_fraction"];

impl Unit {
    /// The unit of column `name` (of `summary.csv`, or a statistic of one:
    /// `pause_p99_ns_median`; `nlbo_*` is a percentage).
    pub fn of_column(name: &str) -> Unit {
        let base = columns::Stat::FIRST
            .iter()
            .chain(&columns::Stat::ADDED)
            .find_map(|s| name.strip_suffix(&format!("_{}", s.suffix())))
            .filter(|b| columns::column(b).is_some() || b.starts_with("nlbo_") || b.starts_with("lbo_"))
            .unwrap_or(name);
        if base.starts_with("nlbo_") || PERCENT_COLUMNS.contains(&base) {
            return Unit::Percent;
        }
        if let Some(c) = columns::column(base) {
            return match c.kind {
                Kind::Ns => Unit::Duration,
                Kind::Bytes => Unit::Bytes,
                Kind::Rate => Unit::Rate,
                Kind::Ratio => Unit::Ratio,
                Kind::Count => Unit::Count,
                Kind::Text | Kind::Flag => Unit::Plain,
            };
        }
        if base.ends_with("_ns") {
            Unit::Duration
        } else if base.ends_with("_bytes") {
            Unit::Bytes
        } else if base.ends_with("_per_s") {
            Unit::Rate
        } else if base.ends_with("_count") || base == "count" {
            Unit::Count
        } else {
            Unit::Plain
        }
    }
}

/// A column whose smallest non-zero value would be written below this in
/// the unit of its largest gives each cell its own unit.
pub const PER_CELL_BELOW: f64 = 0.1;

/// One column's unit: values are divided by `div` and the header says
/// `label` (empty for plain numbers); with `per_cell`, each value is
/// written in its own unit instead, and the header says none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub unit: Unit,
    pub div: f64,
    pub label: &'static str,
    pub per_cell: bool,
}

/// The steps of a unit that scales: (divisor, name), smallest first.
fn steps(unit: Unit) -> &'static [(f64, &'static str)] {
    match unit {
        Unit::Duration => &[(1.0, "ns"), (1e3, "µs"), (1e6, "ms"), (1e9, "s")],
        Unit::Bytes => &[(1.0, "B"), (1024.0, "KiB"), (1048576.0, "MiB"), (1073741824.0, "GiB")],
        Unit::Rate => &[(1.0, "/s"), (1e3, "k/s"), (1e6, "M/s"), (1e9, "G/s")],
        Unit::Percent | Unit::Ratio | Unit::Count | Unit::Plain => &[],
    }
}

/// The largest step of `unit` in which `magnitude` is at least 1.
fn fixed(unit: Unit, magnitude: f64) -> Scale {
    let s = steps(unit);
    match s.iter().rev().find(|(d, _)| magnitude >= *d).or(s.first()) {
        Some(&(div, label)) => Scale { unit, div, label, per_cell: false },
        None if unit == Unit::Percent => Scale { unit, div: 0.01, label: "%", per_cell: false },
        None => Scale { unit, div: 1.0, label: "", per_cell: false },
    }
}

/// The scale for a column of `unit` whose values are `values`: the largest
/// unit in which the largest magnitude is at least 1, or each cell its own
/// when the smallest would be below [`PER_CELL_BELOW`] in it.
pub fn scale(unit: Unit, values: impl IntoIterator<Item = f64>) -> Scale {
    let magnitudes: Vec<f64> = values.into_iter().map(f64::abs).filter(|v| v.is_finite()).collect();
    let max = magnitudes.iter().copied().fold(0.0, f64::max);
    let min = magnitudes.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let scale = fixed(unit, max);
    if !steps(unit).is_empty() && min.is_finite() && min / scale.div < PER_CELL_BELOW {
        return Scale { label: "", per_cell: true, ..scale };
    }
    scale
}

impl Scale {
    /// `v` in this scale: three significant digits (whole numbers of
    /// things as they are), thousands separated by commas; with
    /// `per_cell`, in the unit that suits `v`, named.
    pub fn show(&self, v: f64) -> String {
        if self.per_cell && v == 0.0 {
            return "0".to_string();
        }
        if self.per_cell {
            let own = fixed(self.unit, v.abs());
            return format!("{} {}", significant(v / own.div), own.label);
        }
        let x = v / self.div;
        if self.unit == Unit::Count && x.fract() == 0.0 {
            return grouped(&format!("{x:.0}"));
        }
        significant(x)
    }
}

/// `v` in its own unit, without needless zeros: `1 MiB`, `2.5 ms`, `400`
/// (a swept parameter's value, as one would set it).
pub fn setting(unit: Unit, v: f64) -> String {
    let own = fixed(unit, v.abs());
    let digits = significant(v / own.div);
    let digits =
        if digits.contains('.') { digits.trim_end_matches('0').trim_end_matches('.').to_string() } else { digits };
    match own.label {
        "" => digits,
        "%" => format!("{}%", significant(v * 100.0)),
        unit => format!("{digits} {unit}"),
    }
}

/// `x` to three significant digits, without an exponent: `0.0400`,
/// `3.14`, `31.4`, `314`, `3,142`.
pub fn significant(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    let decimals = if a == 0.0 || a >= 100.0 { 0 } else { (2 - a.log10().floor() as i32).clamp(0, 12) as usize };
    let s = format!("{x:.decimals$}");
    // -0 is 0.
    let s = if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') { s.replace('-', "") } else { s };
    grouped(&s)
}

/// `1234567.5` → `1,234,567.5`.
fn grouped(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A Unix time as `2026-12-05 08:49 UTC` (the civil calendar from days
/// since 1970, after Howard Hinnant's `civil_from_days`).
pub fn utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_registry_or_the_name() {
        assert_eq!(Unit::of_column("pause_p99_ns"), Unit::Duration);
        assert_eq!(Unit::of_column("pause_p99_ns_ci95_low"), Unit::Duration);
        assert_eq!(Unit::of_column("peak_heap_bytes_median"), Unit::Bytes);
        assert_eq!(Unit::of_column("events_per_s"), Unit::Rate);
        assert_eq!(Unit::of_column("mmu_10ms_median"), Unit::Ratio);
        assert_eq!(Unit::of_column("gc_cpu_fraction"), Unit::Percent);
        assert_eq!(Unit::of_column("nlbo_wall_median"), Unit::Percent);
        assert_eq!(Unit::of_column("lbo_cpu_ns_ci95_high"), Unit::Duration);
        assert_eq!(Unit::of_column("gc_count"), Unit::Count);
        assert_eq!(Unit::of_column("p50_ns"), Unit::Duration);
    }

    #[test]
    fn a_column_shares_one_unit_and_shows_three_digits() {
        let s = scale(Unit::Duration, [400_000.0, 14_000_127.0]);
        assert_eq!((s.label, s.show(14_000_127.0), s.show(400_000.0)), ("ms", "14.0".into(), "0.400".into()));
        let wide = scale(Unit::Duration, [2_570.0, 1_038_335.0, 0.0]);
        assert_eq!((wide.label, wide.per_cell), ("", true));
        assert_eq!(
            (wide.show(2_570.0), wide.show(1_038_335.0), wide.show(0.0)),
            ("2.57 µs".into(), "1.04 ms".into(), "0".into())
        );
        let b = scale(Unit::Bytes, [11_084_000.0]);
        assert_eq!((b.label, b.show(11_084_000.0)), ("MiB", "10.6".into()));
        assert_eq!(scale(Unit::Duration, [0.0]).label, "ns");
        let c = scale(Unit::Count, [1234567.0]);
        assert_eq!((c.show(1234567.0), c.show(3.5)), ("1,234,567".into(), "3.50".into()));
        let p = scale(Unit::Percent, [0.108]);
        assert_eq!((p.label, p.show(0.10811248138026401)), ("%", "10.8".into()));
        assert_eq!(significant(-0.0001), "-0.000100");
        assert_eq!(significant(-0.0), "0");
        assert_eq!(significant(12345.6), "12,346");
    }

    #[test]
    fn a_setting_is_written_as_one_would_set_it() {
        assert_eq!(setting(Unit::Bytes, 1048576.0), "1 MiB");
        assert_eq!(setting(Unit::Bytes, 2621440.0), "2.5 MiB");
        assert_eq!(setting(Unit::Plain, 400.0), "400");
        assert_eq!(setting(Unit::Duration, 2_000_000.0), "2 ms");
    }

    #[test]
    fn unix_times_are_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_796_456_155), "2026-12-05 07:35 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }
}

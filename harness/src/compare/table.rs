//! The plain text table `gcwb compare` ends with: one line per collector,
//! columns aligned, the median of each metric and, where repetitions
//! differ, its min–max range in parentheses (in the median's unit); the
//! lower-bound overheads ([`crate::lbo`]) as median percentages.

use super::summary::{CompareRow, Spread};

/// How a column shows a row.
type Cell = fn(&CompareRow) -> String;

/// The columns: header, and the cell of a row.
const COLUMNS: &[(&str, Cell)] = &[
    ("collector", |r| r.collector.clone()),
    ("reps", |r| r.repeats.to_string()),
    ("wall", |r| duration(r.get("wall_ns"), true)),
    ("events/s", |r| r.get("events_per_s").map_or(DASH.into(), |s| format!("{:.2} M", s.median / 1e6))),
    ("GCs", |r| r.get("gc_count").map_or(DASH.into(), |s| format!("{:.0}", s.median))),
    ("pause p50", |r| duration(r.get("pause_p50_ns").filter(|_| paused(r)), false)),
    ("pause p99", |r| duration(r.get("pause_p99_ns").filter(|_| paused(r)), true)),
    ("pause max", |r| duration(r.get("pause_max_ns").filter(|_| paused(r)), true)),
    ("MMU@10ms", |r| ranged(r.get("mmu_10ms"), 1.0, "", |v| format!("{v:.2}"))),
    ("peak heap", |r| ranged(r.get("peak_heap_bytes"), (1u64 << 20) as f64, " MiB", |v| format!("{v:.1}"))),
    ("NLBO wall", |r| percent(r.lbo[0].as_ref().map(|(_, l)| l.nlbo))),
    ("NLBO CPU", |r| percent(r.lbo[1].as_ref().map(|(_, l)| l.nlbo))),
    ("status", |r| match r.verify_errors {
        Some(0) if r.status == "ok" => "verified: clean".to_string(),
        Some(n) if n > 0 => format!("{n} VIOLATIONS"),
        _ => r.status.clone(),
    }),
];

const DASH: &str = "–";

/// Whether any repetition paused (pause statistics of none are zeros).
fn paused(r: &CompareRow) -> bool {
    r.get("pause_count").is_some_and(|s| s.max > 0.0)
}

/// Three significant digits, at most two decimals.
fn sig3(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// `median unit`, then ` (min–max)` when they differ and `range` is asked.
fn ranged(s: Option<Spread>, scale: f64, unit: &str, fmt: impl Fn(f64) -> String) -> String {
    let Some(s) = s else { return DASH.to_string() };
    let (median, min, max) = (fmt(s.median / scale), fmt(s.min / scale), fmt(s.max / scale));
    if min == max {
        format!("{median}{unit}")
    } else {
        format!("{median}{unit} ({min}–{max})")
    }
}

/// A share as a median percentage (the lower-bound overhead), `–` without.
fn percent(s: Option<Spread>) -> String {
    s.map_or(DASH.to_string(), |s| format!("{:.0}%", s.median * 100.0))
}

/// A duration in ns, in the unit that suits its median, with its range.
fn duration(s: Option<Spread>, range: bool) -> String {
    let Some(mut s) = s else { return DASH.to_string() };
    if !range {
        s = Spread { min: s.median, max: s.median, ..s };
    }
    let (scale, unit) = match s.median {
        m if m >= 1e9 => (1e9, " s"),
        m if m >= 1e6 => (1e6, " ms"),
        m if m >= 1e3 => (1e3, " µs"),
        _ => (1.0, " ns"),
    };
    ranged(Some(s), scale, unit, sig3)
}

/// The table, one line per row after the header, each ending in a newline.
pub fn render(rows: &[CompareRow]) -> String {
    let cells: Vec<Vec<String>> = std::iter::once(COLUMNS.iter().map(|(h, _)| h.to_string()).collect())
        .chain(rows.iter().map(|r| COLUMNS.iter().map(|(_, cell)| cell(r)).collect()))
        .collect();
    let widths: Vec<usize> =
        (0..COLUMNS.len()).map(|c| cells.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in &cells {
        let padded: Vec<String> =
            line.iter().zip(&widths).map(|(s, &w)| format!("{s}{}", " ".repeat(w - s.chars().count()))).collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::summary::metrics;
    use super::*;

    fn row(collector: &str, f: impl Fn(&str) -> Option<Spread>) -> CompareRow {
        CompareRow {
            collector: collector.to_string(),
            repeats: 3,
            trace: "t".to_string(),
            procs: 2,
            gogc: "100".to_string(),
            median_rep: 1,
            metrics: metrics().iter().map(|m| f(m.name)).collect(),
            verify_errors: Some(0),
            status: "ok".to_string(),
            lbo: [None, None],
        }
    }

    fn s(median: f64, min: f64, max: f64) -> Option<Spread> {
        Some(Spread { median, min, max, mean: median, ci95: None })
    }

    #[test]
    fn columns_line_up_and_show_medians_with_their_ranges() {
        let ms = row("mark-sweep", |m| match m {
            "wall_ns" => s(571.2e6, 560.1e6, 590.3e6),
            "pause_count" => s(42.0, 40.0, 44.0),
            "pause_p99_ns" => s(4.39e6, 4.1e6, 4.6e6),
            "mmu_10ms" => s(0.56, 0.56, 0.56),
            "peak_heap_bytes" => s(55.0 * 1048576.0, 54.0 * 1048576.0, 56.0 * 1048576.0),
            _ => s(0.0, 0.0, 0.0),
        });
        let none = row("none", |m| match m {
            "wall_ns" => s(2.5e9, 2.5e9, 2.5e9),
            "mmu_10ms" => None,
            _ => s(0.0, 0.0, 0.0),
        });
        let mut ms = ms;
        let lbo = |nlbo: f64| crate::lbo::CollectorLbo {
            distilled: Spread::single(1.0),
            lbo: Spread::single(nlbo),
            nlbo: Spread::single(nlbo),
            lbo_each: vec![nlbo],
            nlbo_each: vec![nlbo],
        };
        ms.lbo = [Some((1.0, lbo(0.123))), None];
        let text = render(&[ms, none]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("NLBO wall  NLBO CPU"), "{text}");
        assert!(lines[1].contains(" 12%  ") && lines[2].matches(DASH).count() >= 2, "{text}");
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("collector   reps  wall"), "{text}");
        assert!(lines[1].contains("571 ms (560–590)"), "{text}");
        assert!(lines[1].contains("4.39 ms (4.10–4.60)"), "{text}");
        assert!(lines[1].contains("0.56  ") && !lines[1].contains("0.56 ("), "no range when all equal: {text}");
        assert!(lines[1].contains("55.0 MiB (54.0–56.0)"), "{text}");
        assert!(lines[2].contains("2.50 s") && lines[2].contains(DASH), "{text}");
        // Aligned: each header starts where its cells do.
        let col = |l: &str, needle: &str| l.find(needle).map(|b| l[..b].chars().count());
        assert_eq!(col(lines[0], "wall"), col(lines[1], "571 ms"));
        assert_eq!(col(lines[0], "status"), col(lines[2], "verified: clean"));
    }
}

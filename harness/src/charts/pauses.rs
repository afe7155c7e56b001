//! Chart 1, `pause-percentiles`: the distribution of stop-the-world pause
//! times per collector, from `pauses.csv`, as HdrHistogram draws it: the
//! pause on a log y axis against the percentile on a nines axis ([`nines`]),
//! one step line per collector through every pause (the exact empirical
//! distribution, not a histogram's buckets), a dot at the maximum. The
//! final collection, which runs after the replay, is left out, as in
//! `summary.csv`. A collector with no pauses is named in the legend; one
//! imported from another runtime's log is dashed, its maximum a square
//! ([`Palette::line`]).
//!
//! [`nines`]: super::nines

use super::data::RunData;
use super::nines::{nines_for, step_curve, NinesChart, Series};
use super::style::{self, LegendEntry, Line, Palette, Titles};

/// The pause percentile chart of `data`, or `None` when no collector paused.
pub fn chart(data: &RunData, palette: &Palette, titles: &Titles) -> Option<NinesChart> {
    let mut per: Vec<(String, Vec<u64>)> = Vec::new();
    let known = data.summary.iter().map(|s| &s.collector).chain(data.pauses.iter().map(|p| &p.collector));
    for name in known {
        if !per.iter().any(|(n, _)| n == name) {
            per.push((name.clone(), Vec::new()));
        }
    }
    for p in data.pauses.iter().filter(|p| !p.is_final()) {
        if let Some((_, v)) = per.iter_mut().find(|(n, _)| *n == p.collector) {
            v.push(p.duration_ns);
        }
    }
    let n_max = per.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    if n_max == 0 {
        return None;
    }
    let top = nines_for(n_max);
    let mut series = Vec::new();
    let mut notes = Vec::new();
    for (name, mut v) in per {
        if v.is_empty() {
            notes.push(LegendEntry::note(format!("{name}: no pauses")));
            continue;
        }
        v.sort_unstable();
        let count = v.len();
        series.push(Series {
            label: format!("{name} ({count} pause{})", if count == 1 { "" } else { "s" }),
            color: palette.color(&name),
            line: palette.line(&name),
            marker: palette.marker(&name),
            points: step_curve(&v, top),
            mark_every_point: false,
        });
    }
    notes.extend(palette.imported_note().filter(|_| series.iter().any(|s| s.line == Line::Dashed)));
    Some(NinesChart {
        kind: "Pause time percentiles".to_string(),
        titles: titles.clone(),
        y_desc: "pause duration (log scale)".to_string(),
        top,
        series,
        notes,
        y_format: style::duration,
    })
}

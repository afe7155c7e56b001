//! Chart 4, `request-latency`: the latency distribution of the trace's
//! requests (its `begin`/`end` spans), from `span_percentiles.csv`, drawn
//! like the pause chart: latency on a log y axis against the percentile on
//! a nines axis ([`nines`]), one line per collector (and per span tag when
//! the trace has several: the tag sets the dash and the marker). Each
//! measured percentile of the file's ladder is marked; the lines between
//! them are straight. No chart when the file has no rows.
//!
//! [`nines`]: super::nines

use super::data::RunData;
use super::nines::{x_of, NinesChart, Series};
use super::style::{self, Line, Marker, Palette, Titles};

const LINES: [Line; 3] = [Line::Solid, Line::Dashed, Line::Dotted];
const MARKERS: [Marker; 3] = [Marker::Circle, Marker::Triangle, Marker::Square];

/// The request latency chart of `data`, or `None` without span rows.
pub fn chart(data: &RunData, palette: &Palette, titles: &Titles) -> Option<NinesChart> {
    if data.spans.is_empty() {
        return None;
    }
    // (collector, tag) in the order they first appear.
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    for s in &data.spans {
        if !keys.contains(&(s.collector.as_str(), s.tag.as_str())) {
            keys.push((&s.collector, &s.tag));
        }
        if !tags.contains(&s.tag.as_str()) {
            tags.push(&s.tag);
        }
    }
    // The last nine: the highest percentile short of 100 that was measured.
    let highest = data.spans.iter().map(|s| s.percentile).filter(|p| *p < 100.0).fold(0.0, f64::max);
    let top = (x_of(highest / 100.0) - 1e-9).ceil().clamp(2.0, 6.0) as u32;
    let series = keys
        .iter()
        .map(|&(collector, tag)| {
            let mut pts: Vec<(f64, f64)> = data
                .spans
                .iter()
                .filter(|s| s.collector == collector && s.tag == tag)
                .map(|s| {
                    let x = if s.percentile >= 100.0 { f64::from(top) + 1.0 } else { x_of(s.percentile / 100.0) };
                    (x, (s.latency_ns as f64).max(1.0))
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let t = tags.iter().position(|x| *x == tag).unwrap_or(0);
            Series {
                label: if tags.len() == 1 { collector.to_string() } else { format!("{collector} · {tag}") },
                color: palette.color(collector),
                line: LINES[t % LINES.len()],
                marker: MARKERS[t % MARKERS.len()],
                points: pts,
                mark_every_point: true,
            }
        })
        .collect();
    let y_desc = if tags.len() == 1 && !tags[0].is_empty() {
        format!("latency of `{}` requests (log scale)", tags[0])
    } else {
        "request latency (log scale)".to_string()
    };
    Some(NinesChart {
        kind: "Request latency percentiles".to_string(),
        titles: titles.clone(),
        y_desc,
        top,
        series,
        notes: Vec::new(),
        y_format: style::duration,
    })
}

//! Chart 4, `request-latency`: the latency distribution of the trace's
//! requests (its `begin`/`end` spans), from `span_percentiles.csv`, drawn
//! like the pause chart: latency on a log y axis against the percentile on
//! a nines axis ([`nines`]), one line per collector. The latency is the
//! headline one of [`crate::latency`] (the replayer's waits left out).
//!
//! One panel per span tag (facets, stacked), each with its own y axis, so
//! that a trace with several kinds of request reads as several small charts
//! rather than one tangle; at most [`MAX_PANELS`] tags (the first in the
//! file), the rest named under the title. Each measured percentile of the
//! file's ladder is marked; the lines between them are straight. No chart
//! when the file has no rows.
//!
//! [`nines`]: super::nines

use super::data::RunData;
use super::nines::{x_of, NinesChart, Series};
use super::style::{self, Line, Marker, Palette, Titles};
use super::{Chart, DrawError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Tags drawn, at most: more panels would be too short to read.
pub const MAX_PANELS: usize = 4;

/// The request-latency chart: one nines panel per span tag.
pub struct LatencyChart {
    pub titles: Titles,
    /// (tag, its panel), in the order the tags first appear.
    pub panels: Vec<(String, NinesChart)>,
    /// Tags with requests that have no panel.
    pub left_out: Vec<String>,
}

/// The request latency chart of `data`, or `None` without span rows.
pub fn chart(data: &RunData, palette: &Palette, titles: &Titles) -> Option<LatencyChart> {
    if data.spans.is_empty() {
        return None;
    }
    let mut tags: Vec<&str> = Vec::new();
    for s in &data.spans {
        if !tags.contains(&s.tag.as_str()) {
            tags.push(&s.tag);
        }
    }
    // The last nine: the highest percentile short of 100 that was measured.
    let highest = data.spans.iter().map(|s| s.percentile).filter(|p| *p < 100.0).fold(0.0, f64::max);
    let top = (x_of(highest / 100.0) - 1e-9).ceil().clamp(2.0, 6.0) as u32;
    let mut panels: Vec<(String, NinesChart)> =
        tags.iter().take(MAX_PANELS).map(|&tag| (tag.to_string(), panel(data, palette, titles, tag, top))).collect();
    if let [(tag, only)] = panels.as_mut_slice() {
        if !tag.is_empty() {
            only.y_desc = format!("latency of `{tag}` requests (log scale)");
        }
    }
    let left_out = tags.iter().skip(MAX_PANELS).map(|t| t.to_string()).collect();
    Some(LatencyChart { titles: titles.clone(), panels, left_out })
}

/// The panel of span tag `tag`: one line per collector.
fn panel(data: &RunData, palette: &Palette, titles: &Titles, tag: &str, top: u32) -> NinesChart {
    let mut collectors: Vec<&str> = Vec::new();
    for s in data.spans.iter().filter(|s| s.tag == tag) {
        if !collectors.contains(&s.collector.as_str()) {
            collectors.push(&s.collector);
        }
    }
    let series = collectors
        .iter()
        .map(|&collector| {
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
            Series {
                label: collector.to_string(),
                color: palette.color(collector),
                line: Line::Solid,
                marker: Marker::Circle,
                points: pts,
                mark_every_point: true,
            }
        })
        .collect();
    NinesChart {
        kind: "Request latency percentiles".to_string(),
        titles: titles.clone(),
        y_desc: "request latency (log scale)".to_string(),
        top,
        series,
        notes: Vec::new(),
        y_format: style::duration,
    }
}

impl Chart for LatencyChart {
    fn size(&self) -> (u32, u32) {
        match self.panels.len() {
            0 | 1 => (style::WIDTH, style::HEIGHT),
            n => (style::WIDTH, style::HEIGHT / 4 + n as u32 * style::HEIGHT * 11 / 20),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let mut body = style::titled(root, &self.titles, "Request latency percentiles")?;
        if !self.left_out.is_empty() {
            let more = self.left_out.join(", ");
            body = style::captioned(&body, &format!("not drawn: {more} (see span_percentiles.csv)"))?;
        }
        match self.panels.as_slice() {
            [(_, only)] => only.draw_body(&body),
            panels => {
                for (area, (tag, chart)) in body.split_evenly((panels.len(), 1)).iter().zip(panels) {
                    let inner = style::captioned(area, &format!("`{tag}` requests"))?;
                    chart.draw_body(&inner)?;
                }
                Ok(())
            }
        }
    }
}

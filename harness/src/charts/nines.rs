//! The percentile chart HdrHistogram made familiar, shared by the pause
//! and request-latency charts: a value on a log y axis against the
//! percentile on a "nines" x axis, `x = -log10(1 - q)`, so 90%, 99%, 99.9%
//! and 99.99% sit one step apart and the tail gets as much room as the
//! body. The maximum (q = 1, which the formula sends to infinity) gets its
//! own tick, one step past the last nine.

use super::style::{self, LegendEntry, Line, LogAxis, Marker, Titles};
use super::{Chart, DrawError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The x position of quantile `q` (0 ≤ q < 1).
pub fn x_of(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// How many nines the axis shows for at most `n` samples: as many as `n`
/// resolves (the largest of `n` samples is the 1 − 1/n quantile, so 1000
/// samples reach 99.9%), at least three (99.9%) so charts of different runs
/// line up, at most six.
pub fn nines_for(n: usize) -> u32 {
    ((n.max(1) as f64).log10().ceil() as u32).clamp(3, 6)
}

/// The x positions of the labelled ticks: 50%, 90%, 99%, …, the last nine
/// (`top`), and the maximum at `top + 1`.
pub fn ticks(top: u32) -> Vec<f64> {
    let mut t = vec![x_of(0.5)];
    t.extend((1..=top + 1).map(f64::from));
    t
}

/// The label of the tick at `x` on an axis whose last nine is `top`.
pub fn label(x: f64, top: u32) -> String {
    if (x - f64::from(top + 1)).abs() < 1e-9 {
        return "max".to_string();
    }
    let q = 1.0 - 10f64.powf(-x);
    let pct = q * 100.0;
    // Round to the digits the nines need: 99.99 shows four of them.
    let decimals = (x.round() as i32 - 2).max(0) as usize;
    format!("{pct:.decimals$}%")
}

/// The exact percentile curve of `sorted` samples as steps: the i-th
/// smallest of n samples is the value of every quantile in (i/n, (i+1)/n].
/// The curve runs to the last nine (`top`), then straight to the maximum at
/// `top + 1`. Values are clamped to at least 1 (the log axis has no 0).
pub fn step_curve(sorted: &[u64], top: u32) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let top_x = f64::from(top);
    for (i, &v) in sorted.iter().enumerate() {
        let v = (v as f64).max(1.0);
        let x0 = x_of(i as f64 / n as f64);
        if x0 >= top_x {
            break;
        }
        let x1 = if i + 1 == n { top_x } else { x_of((i + 1) as f64 / n as f64).min(top_x) };
        match pts.last_mut() {
            Some(last) if last.1 == v => last.0 = x1,
            _ => {
                pts.push((x0, v));
                pts.push((x1, v));
            }
        }
    }
    if let Some(&max) = sorted.last() {
        pts.push((top_x + 1.0, (max as f64).max(1.0)));
    }
    pts
}

/// One line of a nines chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub line: Line,
    pub marker: Marker,
    /// (x on the nines axis, value), in x order; the last at `top + 1` is
    /// the maximum.
    pub points: Vec<(f64, f64)>,
    /// Mark every point (measured percentiles) or only the maximum (a
    /// step curve of every sample).
    pub mark_every_point: bool,
}

/// A percentile chart on a nines axis.
#[derive(Clone, Debug)]
pub struct NinesChart {
    /// The chart's kind, first in the title: `Pause time percentiles`.
    pub kind: String,
    pub titles: Titles,
    /// The y axis label (the ticks carry the units).
    pub y_desc: String,
    /// The last nine on the x axis (3: 99.9%).
    pub top: u32,
    pub series: Vec<Series>,
    /// Legend rows after the series (what has no line, and why).
    pub notes: Vec<LegendEntry>,
    /// Formats a y value (nanoseconds) as a tick label.
    pub y_format: fn(f64) -> String,
}

impl Chart for NinesChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = style::titled(root, &self.titles, &self.kind)?;
        self.draw_body(&body)
    }
}

impl NinesChart {
    /// Draws the legend and the plot (no title) on `body`: the chart, or
    /// one panel of a faceted one.
    pub fn draw_body<DB: DrawingBackend>(&self, body: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let mut entries: Vec<LegendEntry> =
            self.series.iter().map(|s| LegendEntry::styled(s.label.clone(), s.color, s.line, s.marker)).collect();
        entries.extend(self.notes.iter().cloned());
        let plot = style::with_legend(body, &entries)?;

        let values = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let (min, max) = values.fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let y = LogAxis::new(min, max);
        let top = self.top;
        let y_format = self.y_format;
        let y_area = style::y_label_area(&plot, y.ticks.iter().map(|v| y_format(*v)))?;
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(12)
            .margin_left(style::MARGIN_PX)
            .margin_right(style::MARGIN_PX)
            .x_label_area_size(style::x_label_area())
            .y_label_area_size(y_area)
            .build_cartesian_2d(
                style::ticked(0f64..f64::from(top) + 1.2, ticks(top), Vec::new()),
                style::ticked((y.lo..y.hi).log_scale(), y.ticks.clone(), y.minor.clone()),
            )?;
        style::paper_mesh(&mut chart.configure_mesh())
            .x_label_formatter(&|x| label(*x, top))
            .y_label_formatter(&|v| y_format(*v))
            .x_desc("percentile")
            .y_desc(self.y_desc.as_str())
            .draw()?;
        for s in &self.series {
            style::plot_line(&mut chart, &s.points, s.color, s.line)?;
            let marked: Vec<(f64, f64)> =
                if s.mark_every_point { s.points.clone() } else { s.points.last().copied().into_iter().collect() };
            style::plot_markers(&mut chart, &marked, s.color, s.marker, style::MARKER_PX)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_ticks_are_labelled_with_their_percentiles_and_max() {
        let t = ticks(4);
        let labels: Vec<String> = t.iter().map(|x| label(*x, 4)).collect();
        assert_eq!(labels, ["50%", "90%", "99%", "99.9%", "99.99%", "max"]);
    }

    #[test]
    fn step_curve_holds_each_sample_over_its_share_of_quantiles_then_jumps_to_the_max() {
        // 10 samples: the 9th smallest holds up to 90%, the largest from 90%.
        let s: Vec<u64> = (1..=10).collect();
        let c = step_curve(&s, 3);
        assert_eq!(c.first(), Some(&(0.0, 1.0)));
        let at_90 = c.iter().filter(|p| (p.0 - 1.0).abs() < 1e-9).map(|p| p.1).collect::<Vec<_>>();
        assert_eq!(at_90, [9.0, 10.0]);
        assert_eq!(c[c.len() - 2], (3.0, 10.0), "flat to the last nine");
        assert_eq!(c.last(), Some(&(4.0, 10.0)), "the max at its own tick");
        // Equal neighbours merge into one step; zeros stay on the log axis.
        let c = step_curve(&[0, 0, 0, 5], 3);
        assert_eq!(c[..2], [(0.0, 1.0), (x_of(0.75), 1.0)]);
        assert!(nines_for(42) == 3 && nines_for(20_000) == 5 && nines_for(10_000_000) == 6);
    }
}

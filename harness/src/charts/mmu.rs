//! Chart 2, `mmu`: minimum mutator utilization, from `mmu.csv` — for each
//! window size (log x axis), the smallest share of the processors' time
//! the mutator had in any window of that size (0 to 1), one line per
//! collector (solid; dashed for a runtime's imported log,
//! [`Palette::line`]); the bounded (monotone) variant, BMU, as a dotted
//! line of the same colour. A collector whose curve reaches 1 only at large
//! windows stalls the program for that long.

use super::data::RunData;
use super::style::{self, LegendEntry, LinearAxis, LogAxis, Marker, Palette, Titles};
use super::{Chart, DrawError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One collector's curves: (window ns, utilization).
#[derive(Clone, Debug)]
pub struct Curve {
    pub collector: String,
    pub color: RGBColor,
    /// The MMU line's style: dashed for an imported log.
    pub line: style::Line,
    pub mmu: Vec<(f64, f64)>,
    pub bmu: Vec<(f64, f64)>,
}

/// The MMU chart.
#[derive(Clone, Debug)]
pub struct MmuChart {
    pub titles: Titles,
    pub curves: Vec<Curve>,
}

/// The MMU chart of `data`, or `None` without rows in `mmu.csv`.
pub fn chart(data: &RunData, palette: &Palette, titles: &Titles) -> Option<MmuChart> {
    let mut curves: Vec<Curve> = Vec::new();
    for name in data.collectors() {
        let mut rows: Vec<_> = data.mmu.iter().filter(|m| m.collector == name).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|m| m.window_ns);
        curves.push(Curve {
            color: palette.color(&name),
            line: palette.line(&name),
            mmu: rows.iter().map(|m| (m.window_ns.max(1) as f64, m.mmu)).collect(),
            bmu: rows.iter().map(|m| (m.window_ns.max(1) as f64, m.bmu)).collect(),
            collector: name,
        });
    }
    (!curves.is_empty()).then(|| MmuChart { titles: titles.clone(), curves })
}

impl Chart for MmuChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = style::titled(root, &self.titles, "Minimum mutator utilization")?;
        let mut entries: Vec<LegendEntry> =
            self.curves.iter().map(|c| LegendEntry::styled(&c.collector, c.color, c.line, Marker::None)).collect();
        entries.push(LegendEntry::note(""));
        entries.push(LegendEntry::line("MMU", style::TEXT));
        entries.push(LegendEntry::styled("BMU", style::TEXT, style::Line::Dotted, Marker::None));
        if self.curves.iter().any(|c| c.line == style::Line::Dashed) {
            entries.push(LegendEntry::note("dashed: imported runtime logs"));
        }
        let plot = style::with_legend(&body, &entries)?;

        let windows = self.curves.iter().flat_map(|c| c.mmu.iter().map(|p| p.0));
        let (min, max) = windows.fold((f64::MAX, 0f64), |(lo, hi), w| (lo.min(w), hi.max(w)));
        let x = if max > min { LogAxis::exactly(min, max) } else { LogAxis::new(min, max) };
        // A little room below 0 and above 1, so curves there stay clear of the frame.
        let y = LinearAxis::fixed(-0.03, 1.04, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let y_area = style::y_label_area(&plot, y.ticks.iter().map(|v| style::number(*v)))?;
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(12)
            .margin_left(style::MARGIN_PX)
            .margin_right(style::MARGIN_PX + 10)
            .x_label_area_size(style::x_label_area())
            .y_label_area_size(y_area)
            .build_cartesian_2d(
                style::ticked((x.lo..x.hi).log_scale(), x.ticks.clone(), x.minor.clone()),
                style::ticked(y.lo..y.hi, y.ticks.clone(), Vec::new()),
            )?;
        style::paper_mesh(&mut chart.configure_mesh())
            .x_label_formatter(&|v| style::duration(*v))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .x_desc("window size (log scale)")
            .y_desc("mutator utilization (share of CPU)")
            .draw()?;
        for c in &self.curves {
            style::plot_line(&mut chart, &c.bmu, c.color, style::Line::Dotted)?;
            style::plot_line(&mut chart, &c.mmu, c.color, c.line)?;
        }
        Ok(())
    }
}

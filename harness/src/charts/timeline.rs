//! Chart 3, `pause-timeline`: what a GC engineer reads first. One panel per
//! collector (they share the time axis and the pause axis, so panels
//! compare at a glance): each stop-the-world pause from `pauses.csv` as a
//! dot on a thin stem at the time it started (x: time on the run's clock,
//! which starts just before the replay's first event; left y: the pause's
//! duration, log scale; the marker's shape tells the phase, the legend
//! names each collector's phases), and behind
//! them, on the right y axis, the heap in use from `cycles.csv` as the
//! familiar sawtooth: the live heap when each cycle starts
//! (`heap_live_before` at `start_ns`), what survived it (`marked_bytes` at
//! `end_ns`, or `heap_live_after` when the file has that value), and
//! straight growth in between; a cell an imported log left empty is a
//! point not drawn. The final collection, after the replay, is left out. A
//! collector with neither pauses nor cycles (the `none` baseline) gets no
//! panel; the legend says so. A collector imported from another runtime's
//! log is captioned so.
//!
//! A panel of more than [`THIN_ABOVE`] pauses is thinned
//! ([`thinned`]): in each of [`THIN_COLUMNS`] equal slices of the time
//! axis (a few pixels each) and for each phase, only the longest and the
//! shortest pause are drawn. The markers of the others would sit between
//! those two on the same stem, so the picture is the same, and a long
//! run's SVG (inlined in the HTML report) stays small.

use super::data::RunData;
use super::style::{self, LegendEntry, LinearAxis, LogAxis, Marker, Palette, Titles};
use super::{Chart, DrawError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Marker shapes of the pause phases, in the order the phases first appear.
const PHASE_MARKERS: [Marker; 3] = [Marker::Circle, Marker::Triangle, Marker::Square];

/// Height of one collector's panel, in pixels.
const PANEL_PX: u32 = 330;

/// A panel with more pauses than this is [`thinned`].
pub const THIN_ABOVE: usize = 2000;

/// The slices of the time axis a thinned panel keeps two pauses of, per
/// phase: about 3 pixels each at the chart's width, under a marker's.
pub const THIN_COLUMNS: usize = 400;

/// `pauses` (start ns, duration ns, phase), or when there are more than
/// [`THIN_ABOVE`], only the longest and the shortest of each phase in each
/// of [`THIN_COLUMNS`] slices of `[0, end_ns]`, in their order.
pub fn thinned(pauses: Vec<(f64, f64, usize)>, end_ns: f64) -> Vec<(f64, f64, usize)> {
    if pauses.len() <= THIN_ABOVE || end_ns <= 0.0 {
        return pauses;
    }
    let column = |start: f64| ((start / end_ns * THIN_COLUMNS as f64) as usize).min(THIN_COLUMNS - 1);
    // (column, phase) -> (index of the longest, index of the shortest).
    let mut extremes: std::collections::BTreeMap<(usize, usize), (usize, usize)> = Default::default();
    for (i, &(start, dur, phase)) in pauses.iter().enumerate() {
        let e = extremes.entry((column(start), phase)).or_insert((i, i));
        if dur > pauses[e.0].1 {
            e.0 = i;
        }
        if dur < pauses[e.1].1 {
            e.1 = i;
        }
    }
    let mut keep: Vec<usize> = extremes.values().flat_map(|&(a, b)| [a, b]).collect();
    keep.sort_unstable();
    keep.dedup();
    keep.into_iter().map(|i| pauses[i]).collect()
}

/// One collector's panel.
#[derive(Clone, Debug)]
pub struct Panel {
    pub collector: String,
    /// Imported from another runtime's log (`gcwb import`).
    pub imported: bool,
    pub color: RGBColor,
    /// The collector's pause phases, in order of first appearance (each
    /// gets its own marker shape).
    pub phases: Vec<String>,
    /// (start ns, duration ns, index into `phases`).
    pub pauses: Vec<(f64, f64, usize)>,
    /// The heap sawtooth: (time ns, bytes).
    pub heap: Vec<(f64, f64)>,
}

/// The pause timeline.
#[derive(Clone, Debug)]
pub struct TimelineChart {
    pub titles: Titles,
    pub panels: Vec<Panel>,
    /// Collectors that got no panel.
    pub without: Vec<String>,
    /// The end of the time axis, ns.
    pub end_ns: f64,
}

/// The timeline of `data`, or `None` when no collector paused or collected.
pub fn chart(data: &RunData, palette: &Palette, titles: &Titles) -> Option<TimelineChart> {
    let mut panels = Vec::new();
    let mut without = Vec::new();
    let mut end_ns = 0f64;
    for name in data.collectors() {
        let mut pauses = Vec::new();
        let mut phases: Vec<String> = Vec::new();
        for p in data.pauses.iter().filter(|p| p.collector == name && !p.is_final()) {
            let k = match phases.iter().position(|x| *x == p.phase) {
                Some(k) => k,
                None => {
                    phases.push(p.phase.clone());
                    phases.len() - 1
                }
            };
            pauses.push((p.start_ns as f64, (p.duration_ns as f64).max(1.0), k));
            end_ns = end_ns.max((p.start_ns + p.duration_ns) as f64);
        }
        let mut cycles: Vec<_> = data.cycles.iter().filter(|c| c.collector == name && !c.is_final()).collect();
        cycles.sort_by_key(|c| c.start_ns);
        let mut heap = Vec::new();
        for c in &cycles {
            if let Some(before) = c.heap_live_before {
                heap.push((c.start_ns as f64, before as f64));
            }
            if let Some(after) = c.heap_live_after.or(c.marked_bytes) {
                heap.push((c.end_ns.max(c.start_ns) as f64, after as f64));
            }
            end_ns = end_ns.max(c.end_ns as f64);
        }
        if pauses.is_empty() && heap.is_empty() {
            if data.summary.iter().any(|s| s.collector == name) || data.pauses.iter().any(|p| p.collector == name) {
                without.push(name);
            }
            continue;
        }
        if let Some(w) = data.summary.iter().find(|s| s.collector == name).and_then(|s| s.wall_ns) {
            end_ns = end_ns.max(w as f64);
        }
        let imported = palette.is_imported(&name);
        panels.push(Panel { color: palette.color(&name), collector: name, imported, phases, pauses, heap });
    }
    for p in &mut panels {
        p.pauses = thinned(std::mem::take(&mut p.pauses), end_ns);
    }
    (!panels.is_empty()).then(|| TimelineChart { titles: titles.clone(), panels, without, end_ns })
}

impl Chart for TimelineChart {
    fn size(&self) -> (u32, u32) {
        (style::WIDTH, style::HEIGHT.max(150 + PANEL_PX * self.panels.len() as u32))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let body = style::titled(root, &self.titles, "Pauses and heap over time")?;
        let has_heap = self.panels.iter().any(|p| !p.heap.is_empty());
        // One row per collector and pause phase, in the panel's colour and
        // marker.
        let mut entries: Vec<LegendEntry> = Vec::new();
        for p in &self.panels {
            for (k, ph) in p.phases.iter().enumerate() {
                let m = PHASE_MARKERS[k % PHASE_MARKERS.len()];
                entries.push(LegendEntry::styled(format!("{}: {ph}", p.collector), p.color, style::Line::None, m));
            }
            if p.phases.is_empty() {
                entries.push(LegendEntry::styled(p.collector.clone(), p.color, style::Line::None, Marker::None));
            }
        }
        if has_heap {
            entries.push(LegendEntry::note(""));
            entries.push(LegendEntry::line("heap in use (right axis)", style::NEUTRAL));
        }
        for w in &self.without {
            entries.push(LegendEntry::note(format!("{w}: no pauses")));
        }
        let plot = style::with_legend(&body, &entries)?;

        // Shared axes: time, pause duration, heap.
        let (t_div, t_unit) = style::duration_unit(self.end_ns);
        let t = LinearAxis::new(0.0, self.end_ns / t_div, 8);
        let durations = self.panels.iter().flat_map(|p| p.pauses.iter().map(|q| q.1));
        let (dmin, dmax) = durations.fold((f64::MAX, 0f64), |(lo, hi), d| (lo.min(d), hi.max(d)));
        let d = if dmax > 0.0 { LogAxis::new(dmin, dmax) } else { LogAxis::new(1e3, 1e6) };
        let heap_max = self.panels.iter().flat_map(|p| p.heap.iter().map(|h| h.1)).fold(0f64, f64::max);
        let (h_div, h_unit) = style::bytes_unit(heap_max);
        let h = LinearAxis::new(0.0, heap_max / h_div * 1.05, 4);

        let y_area = style::y_label_area(&plot, d.ticks.iter().map(|v| style::duration(*v)))?;
        let right_area =
            if has_heap { style::y_label_area(&plot, h.ticks.iter().map(|v| style::number(*v)))? } else { 0 };
        let n = self.panels.len();
        let (_, ph) = plot.dim_in_pixel();
        let x_area = style::x_label_area();
        let tick_only = (style::TICK_PX * 1.3) as u32 + 16;
        // Every panel gets the same plotting height; the last one also
        // carries the time axis label.
        let inner = (ph.saturating_sub(x_area + tick_only * (n as u32 - 1))) / n as u32;
        // Short panels label every other decade, so tick labels keep apart.
        let per_tick = f64::from(inner) / d.ticks.len().max(1) as f64;
        let d = if per_tick < 2.0 * style::TICK_PX { d.thinned(2) } else { d };
        let mut rest = plot;
        for (i, panel) in self.panels.iter().enumerate() {
            let last = i + 1 == n;
            let height = inner + if last { x_area } else { tick_only };
            let (area, below) = if last { (rest.clone(), rest.clone()) } else { rest.split_vertically(height) };
            rest = below;
            let caption =
                if panel.imported { format!("{} (imported log)", panel.collector) } else { panel.collector.clone() };
            let mut chart = ChartBuilder::on(&area)
                .caption(&caption, style::bold(style::LEGEND_PX).color(&panel.color))
                .margin_top(4)
                .margin_left(style::MARGIN_PX)
                .margin_right(style::MARGIN_PX)
                .x_label_area_size(if last { x_area } else { tick_only })
                .y_label_area_size(y_area)
                .right_y_label_area_size(right_area)
                .build_cartesian_2d(
                    style::ticked(t.lo..t.hi, t.ticks.clone(), Vec::new()),
                    style::ticked((d.lo..d.hi).log_scale(), d.ticks.clone(), d.minor.clone()),
                )?
                .set_secondary_coord(
                    style::ticked(t.lo..t.hi, t.ticks.clone(), Vec::new()),
                    style::ticked(h.lo..h.hi, h.ticks.clone(), Vec::new()),
                );
            let mut mesh = chart.configure_mesh();
            style::paper_mesh(&mut mesh)
                .x_label_formatter(&|v| style::number(*v))
                .y_label_formatter(&|v| style::duration(*v))
                .y_desc("pause (log)");
            let x_desc = format!("time since the run started ({t_unit})");
            if last {
                mesh.x_desc(x_desc.as_str());
            }
            mesh.draw()?;
            if has_heap {
                let heap_desc = format!("heap ({h_unit})");
                chart
                    .configure_secondary_axes()
                    .y_label_formatter(&|v| style::number(*v))
                    .y_desc(heap_desc.as_str())
                    .label_style(style::font(style::TICK_PX))
                    .axis_desc_style(style::font(style::AXIS_LABEL_PX))
                    .axis_style(style::TEXT.stroke_width(1))
                    .draw()?;
            }
            // The heap behind, the pauses in front.
            if !panel.heap.is_empty() {
                let pts: Vec<(f64, f64)> = panel.heap.iter().map(|&(x, b)| (x / t_div, b / h_div)).collect();
                chart.draw_secondary_series(
                    AreaSeries::new(pts, 0.0, style::NEUTRAL.mix(0.12)).border_style(style::NEUTRAL.stroke_width(2)),
                )?;
            }
            // Crowded panels (hundreds of pauses) get hairline stems and
            // smaller markers, so neighbours stay apart.
            let crowded = panel.pauses.len() > 60;
            let marker_px = if crowded { style::MARKER_PX - 2 } else { style::MARKER_PX };
            let stem = panel.color.mix(if crowded { 0.35 } else { 0.55 }).stroke_width(if crowded { 1 } else { 2 });
            chart.draw_series(
                panel
                    .pauses
                    .iter()
                    .map(|&(x, dur, _)| PathElement::new(vec![(x / t_div, d.lo), (x / t_div, dur)], stem)),
            )?;
            for k in 0..panel.phases.len() {
                let pts: Vec<(f64, f64)> =
                    panel.pauses.iter().filter(|p| p.2 == k).map(|&(x, dur, _)| (x / t_div, dur)).collect();
                let m = PHASE_MARKERS[k % PHASE_MARKERS.len()];
                style::plot_markers(&mut chart, &pts, panel.color, m, marker_px)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crowded_panel_keeps_each_slices_longest_and_shortest_pause_per_phase() {
        let few: Vec<(f64, f64, usize)> = (0..THIN_ABOVE).map(|i| (i as f64, 5.0, 0)).collect();
        assert_eq!(thinned(few.clone(), THIN_ABOVE as f64), few, "at the limit nothing is dropped");
        // 10 pauses per slice, two phases alternating; durations 1..=10 in
        // each slice, so each slice and phase keeps exactly two.
        let n = THIN_COLUMNS * 10;
        let many: Vec<(f64, f64, usize)> = (0..n).map(|i| (i as f64, (i % 10 + 1) as f64, i % 2)).collect();
        let kept = thinned(many.clone(), n as f64);
        assert_eq!(kept.len(), THIN_COLUMNS * 4);
        let longest = many.iter().map(|p| p.1).fold(0.0, f64::max);
        assert!(kept.iter().any(|p| p.1 == longest), "the longest pause survives");
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
        // Slice 0 holds pauses 0..10: phase 0 has durations 1,3,5,7,9, phase 1 2,4,6,8,10.
        let first: Vec<(f64, usize)> = kept.iter().filter(|p| p.0 < 10.0).map(|p| (p.1, p.2)).collect();
        assert_eq!(first, [(1.0, 0), (2.0, 1), (9.0, 0), (10.0, 1)]);
    }
}

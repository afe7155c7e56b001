//! Chart 5, `sweep`: a metric against a swept parameter — p99 pause against
//! GOGC, throughput against procs, peak heap against the heap size — one
//! line per collector through the medians over the repetitions, with a
//! min–max error bar at each point (points of different collectors at one
//! parameter value are nudged apart a few pixels so their bars do not hide
//! each other).
//!
//! # `sweep.csv`
//!
//! A header row, then one row per collector and parameter value:
//!
//! ```text
//! collector,param,value,metric_median,metric_min,metric_max,metric,workload
//! mark-sweep,gogc,50,812000,790000,845000,pause_p99_ns,server
//! mark-sweep,gogc,100,1402000,1380000,1500000,pause_p99_ns,server
//! concurrent,gogc,50,120000,111000,131000,pause_p99_ns,server
//! ```
//!
//! - `collector`: the collector's name (its colour is the same as in the
//!   other charts).
//! - `param`: the swept parameter's name: `gogc`, `procs`, `memlimit`, or a
//!   workload parameter. A name ending in `_bytes`, `memlimit` or a
//!   collector option of bytes (`nursery`) is drawn in bytes, one ending in
//!   `_ns` as a duration.
//! - `value`: the parameter's value, a number.
//! - `metric_median`, `metric_min`, `metric_max`: the metric over the
//!   repetitions of that cell (`min ≤ median ≤ max`; with one repetition,
//!   all three equal; the median of an even count is the mean of the two
//!   middle values). A sweep also writes `metric_mean`, `metric_ci95_low`
//!   and `metric_ci95_high` ([`crate::sweep::aggregate`]); the chart does
//!   not draw them.
//! - `metric` (optional): the metric's name as `summary.csv` names its
//!   columns (`pause_p99_ns`, `events_per_s`, `peak_heap_bytes`,
//!   `mmu_10ms`, …). The suffix gives the unit: `_ns` a duration, `_bytes`
//!   a size, `_per_s` a rate. Without the column the axis says "metric".
//! - `workload` (optional): named in the title.
//!
//! Columns are found by name; others are ignored. A file may hold several
//! metrics, parameters or workloads: each combination is its own chart,
//! `sweep-<workload>-<metric>-<param>` (only the parts that vary); a file
//! with one combination draws `sweep`. The x axis is logarithmic when every
//! value is positive and the largest is at least 8 times the smallest
//! (GOGC 25…800, heap sizes), the y axis when the metric spans more than 30
//! times; otherwise they are linear, the y axis from 0 and the x axis over
//! the swept values. With up to 12 values, the x ticks are the values
//! themselves.

use super::data::SweepPoint;
use super::style::{self, LegendEntry, LinearAxis, LogAxis, Marker, Palette, Titles};
use super::{Chart, DrawError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// How a quantity is written, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    Duration,
    Bytes,
    Rate,
    Plain,
}

/// Whether `name` is a collector option (`nursery`) whose values are bytes.
fn is_bytes_option(name: &str) -> bool {
    collectors::registry::find_option(name).is_some_and(|o| o.kind == collectors::OptionKind::Bytes)
}

impl Quantity {
    pub fn of(name: &str) -> Quantity {
        if name.ends_with("_ns") {
            Quantity::Duration
        } else if name.ends_with("_bytes") || name == "memlimit" || is_bytes_option(name) {
            Quantity::Bytes
        } else if name.ends_with("_per_s") {
            Quantity::Rate
        } else {
            Quantity::Plain
        }
    }

    /// A tick label with its own unit (log axes, swept values).
    fn label(self, v: f64) -> String {
        match self {
            Quantity::Duration => style::duration(v),
            Quantity::Bytes => style::bytes(v),
            Quantity::Rate => rate(v),
            Quantity::Plain => style::number(v),
        }
    }

    /// One unit for a whole linear axis whose largest value is `max`:
    /// (divisor, unit name, or empty).
    fn unit(self, max: f64) -> (f64, &'static str) {
        match self {
            Quantity::Duration => style::duration_unit(max),
            Quantity::Bytes => style::bytes_unit(max),
            Quantity::Rate if max >= 1e6 => (1e6, "M/s"),
            Quantity::Rate if max >= 1e3 => (1e3, "k/s"),
            Quantity::Rate => (1.0, "/s"),
            Quantity::Plain => (1.0, ""),
        }
    }
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{} M/s", style::number(v / 1e6))
    } else if v >= 1e3 {
        format!("{} k/s", style::number(v / 1e3))
    } else {
        format!("{} /s", style::number(v))
    }
}

/// A readable name for a metric or parameter column.
pub fn describe(name: &str) -> String {
    let known = [
        ("gogc", "GOGC (%)"),
        ("procs", "procs (GOMAXPROCS)"),
        ("memlimit", "memory limit"),
        ("nursery", "nursery size"),
        ("tenure_age", "tenure age (minor collections)"),
        ("pause_p50_ns", "median pause"),
        ("pause_p99_ns", "p99 pause"),
        ("pause_max_ns", "max pause"),
        ("pause_total_ns", "total pause time"),
        ("events_per_s", "throughput"),
        ("peak_heap_bytes", "peak heap"),
        ("final_live_bytes", "final live heap"),
        ("gc_count", "GC cycles"),
        ("gc_cpu_fraction", "GC CPU fraction"),
        ("mmu_1ms", "MMU at 1 ms"),
        ("mmu_10ms", "MMU at 10 ms"),
        ("mmu_100ms", "MMU at 100 ms"),
        ("wall_ns", "wall time"),
        ("nlbo_wall", "normalized lower-bound overhead, wall time"),
        ("nlbo_cpu", "normalized lower-bound overhead, CPU time"),
        ("lbo_wall_ns", "lower-bound overhead, wall time"),
        ("lbo_cpu_ns", "lower-bound overhead, CPU time"),
    ];
    if let Some((_, d)) = known.iter().find(|(n, _)| *n == name) {
        return d.to_string();
    }
    let base = name.trim_end_matches("_ns").trim_end_matches("_bytes").trim_end_matches("_per_s");
    base.replace('_', " ")
}

/// One sweep chart: one metric against one parameter.
#[derive(Clone, Debug)]
pub struct SweepChart {
    pub titles: Titles,
    pub metric: String,
    pub param: String,
    pub lines: Vec<SweepLine>,
}

/// One collector's line: (parameter value, median, min, max), in value
/// order.
#[derive(Clone, Debug)]
pub struct SweepLine {
    pub collector: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One sweep chart's points: one workload, metric and parameter, and the
/// chart's file stem.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepGroup {
    /// `sweep` for a file of one metric, parameter and workload,
    /// `sweep-…` naming what varies otherwise.
    pub stem: String,
    pub workload: Option<String>,
    pub metric: Option<String>,
    pub param: String,
}

impl SweepGroup {
    /// Is `p` one of this group's points?
    pub fn holds(&self, p: &SweepPoint) -> bool {
        p.workload == self.workload && p.metric == self.metric && p.param == self.param
    }
}

/// The groups of `points` that are each one chart, in the order they first
/// appear.
pub fn groups(points: &[SweepPoint]) -> Vec<SweepGroup> {
    type Key = (Option<String>, Option<String>, String);
    let mut keys: Vec<Key> = Vec::new();
    for p in points {
        let k = (p.workload.clone(), p.metric.clone(), p.param.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let varies = |f: &dyn Fn(&Key) -> String| keys.iter().any(|k| f(k) != f(&keys[0]));
    let (w_varies, m_varies, p_varies) = (
        varies(&|k| k.0.clone().unwrap_or_default()),
        varies(&|k| k.1.clone().unwrap_or_default()),
        varies(&|k| k.2.clone()),
    );
    let one = keys.len() == 1;
    keys.into_iter()
        .map(|(workload, metric, param)| {
            let stem = if one {
                "sweep".to_string()
            } else {
                let mut parts = vec!["sweep".to_string()];
                if w_varies {
                    parts.push(slug(workload.as_deref().unwrap_or("all")));
                }
                if m_varies {
                    parts.push(slug(metric.as_deref().unwrap_or("metric")));
                }
                if p_varies {
                    parts.push(slug(&param));
                }
                parts.join("-")
            };
            SweepGroup { stem, workload, metric, param }
        })
        .collect()
}

/// The sweep charts of `points` with their file stems ([`groups`]).
pub fn charts(points: &[SweepPoint], palette: &Palette, titles: &Titles) -> Vec<(String, SweepChart)> {
    let mut out = Vec::new();
    for g in groups(points) {
        let mut lines: Vec<SweepLine> = Vec::new();
        for p in points.iter().filter(|p| g.holds(p)) {
            let at = match lines.iter().position(|l| l.collector == p.collector) {
                Some(i) => i,
                None => {
                    lines.push(SweepLine {
                        collector: p.collector.clone(),
                        color: palette.color(&p.collector),
                        points: Vec::new(),
                    });
                    lines.len() - 1
                }
            };
            lines[at].points.push((p.value, p.median, p.min, p.max));
        }
        for l in &mut lines {
            l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        // The run settings of a directory's summary say nothing about a
        // sweep, which varies one of them.
        let mut t = Titles { settings: None, ..titles.clone() };
        if let Some(w) = &g.workload {
            t.workload = w.clone();
        }
        let chart = SweepChart {
            titles: t,
            metric: g.metric.clone().unwrap_or_else(|| "metric".to_string()),
            param: g.param.clone(),
            lines,
        };
        out.push((g.stem, chart));
    }
    out
}

/// `name` made safe for a file name.
fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

impl Chart for SweepChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (mq, pq) = (Quantity::of(&self.metric), Quantity::of(&self.param));
        let (metric_name, param_name) = (describe(&self.metric), describe(&self.param));
        let kind = format!("{} vs {}", capitalized(&metric_name), strip_unit(&param_name));
        let body = style::titled(root, &self.titles, &kind)?;
        let mut entries: Vec<LegendEntry> = self
            .lines
            .iter()
            .map(|l| LegendEntry::styled(l.collector.clone(), l.color, style::Line::Solid, Marker::Circle))
            .collect();
        entries.push(LegendEntry::note(""));
        entries.push(LegendEntry::note("lines: medians"));
        entries.push(LegendEntry::note("bars: min–max"));
        let plot = style::with_legend(&body, &entries)?;

        let all = self.lines.iter().flat_map(|l| l.points.iter());
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        let mut values: Vec<f64> = Vec::new();
        for &(x, _, lo, hi) in all {
            (xmin, xmax, ymin, ymax) = (xmin.min(x), xmax.max(x), ymin.min(lo), ymax.max(hi));
            if !values.iter().any(|v| (v - x).abs() <= 1e-12 * x.abs()) {
                values.push(x);
            }
        }
        values.sort_by(f64::total_cmp);
        let log_x = xmin > 0.0 && xmax >= 8.0 * xmin;
        let log_y = ymin > 0.0 && ymax > 30.0 * ymin;

        // The x axis: ticks at the swept values when there are few of them.
        let (x_lo, x_hi, mut x_ticks, x_minor) = if log_x {
            let a = LogAxis::new(xmin, xmax);
            let pad = (xmax / xmin).powf(0.04);
            let (lo, hi) = (xmin / pad, xmax * pad);
            let inside = |v: &f64| *v >= lo && *v <= hi;
            (lo, hi, a.ticks.into_iter().filter(inside).collect(), a.minor.into_iter().filter(inside).collect())
        } else {
            // A parameter axis need not start at 0: it spans the values,
            // with room for the end points' error bars.
            let a = LinearAxis::new(xmin.min(0.0), xmax, 6);
            let pad = (xmax - xmin).max(xmax.abs() * 0.1).max(1e-9) * 0.06;
            let ticks = a.ticks.into_iter().filter(|t| *t >= xmin - pad && *t <= xmax + pad).collect();
            (xmin - pad, xmax + pad, ticks, Vec::new())
        };
        if values.len() <= 12 {
            x_ticks = values.clone();
        }
        let (y_div, y_unit) = if log_y { (1.0, "") } else { mq.unit(ymax) };
        // A rate names what it counts: `M events/s`.
        let noun = self.metric.strip_suffix("_per_s").unwrap_or("").replace('_', " ");
        let y_unit = if mq == Quantity::Rate && !noun.is_empty() {
            y_unit.replace("/s", &format!(" {noun}/s"))
        } else {
            y_unit.to_string()
        };
        let metric_desc = match (log_y, y_unit.as_str()) {
            (true, _) => with_log_note(&metric_name),
            (false, "") => metric_name.clone(),
            (false, u) => format!("{metric_name} ({u})"),
        };
        let (y_lo, y_hi, y_ticks, y_minor) = if log_y {
            let a = LogAxis::new(ymin, ymax);
            (a.lo, a.hi, a.ticks, a.minor)
        } else {
            let lo = ymin.min(0.0) / y_div;
            let a = LinearAxis::new(lo, ymax / y_div * 1.04, 6);
            (a.lo, a.hi, a.ticks, Vec::new())
        };
        let y_label = move |v: f64| if log_y { mq.label(v) } else { style::number(v) };
        let y_area = style::y_label_area(&plot, y_ticks.iter().map(|v| y_label(*v)))?;
        let x_px = plot.dim_in_pixel().0.saturating_sub(y_area + style::MARGIN_PX as u32);
        // Tick labels that would touch their left neighbour are left out.
        let at_px = |v: f64| {
            let f = if log_x { (v / x_lo).ln() / (x_hi / x_lo).ln() } else { (v - x_lo) / (x_hi - x_lo) };
            f * f64::from(x_px)
        };
        let mut kept: Vec<f64> = Vec::new();
        let mut right_edge = f64::MIN;
        for t in x_ticks {
            let half = f64::from(plot.estimate_text_size(&pq.label(t), &style::font(style::TICK_PX))?.0) / 2.0;
            if at_px(t) - half >= right_edge + 12.0 {
                right_edge = at_px(t) + half;
                kept.push(t);
            }
        }
        let x_ticks = kept;
        // Nudge: each collector's points move by a few pixels.
        let k = self.lines.len() as f64;
        let nudge_px = 9.0;
        let nudge = |x: f64, i: usize| {
            let frac = (i as f64 - (k - 1.0) / 2.0) * nudge_px / x_px.max(1) as f64;
            if log_x {
                x * (x_hi / x_lo).powf(frac)
            } else {
                x + (x_hi - x_lo) * frac
            }
        };
        let param_desc = if log_x { with_log_note(&param_name) } else { param_name.clone() };
        let x_format = move |v: f64| pq.label(v);
        let mut chart_builder = ChartBuilder::on(&plot);
        chart_builder
            .margin_top(12)
            .margin_left(style::MARGIN_PX)
            .margin_right(style::MARGIN_PX + 10)
            .x_label_area_size(style::x_label_area())
            .y_label_area_size(y_area);
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                style::paper_mesh(&mut chart.configure_mesh())
                    .x_label_formatter(&|v| x_format(*v))
                    .y_label_formatter(&|v| y_label(*v))
                    .x_desc(param_desc.as_str())
                    .y_desc(metric_desc.as_str())
                    .draw()?;
                for (i, SweepLine { color, points: pts, .. }) in self.lines.iter().enumerate() {
                    let pts: Vec<(f64, f64, f64, f64)> =
                        pts.iter().map(|&(x, m, lo, hi)| (nudge(x, i), m / y_div, lo / y_div, hi / y_div)).collect();
                    let bar = color.stroke_width(2);
                    chart
                        .draw_series(pts.iter().map(|&(x, m, lo, hi)| ErrorBar::new_vertical(x, lo, m, hi, bar, 14)))?;
                    let line: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
                    style::plot_line(&mut chart, &line, *color, style::Line::Solid)?;
                    style::plot_markers(&mut chart, &line, *color, Marker::Circle, style::MARKER_PX)?;
                }
            }};
        }
        match (log_x, log_y) {
            (true, true) => finish!(chart_builder.build_cartesian_2d(
                style::ticked((x_lo..x_hi).log_scale(), x_ticks, x_minor),
                style::ticked((y_lo..y_hi).log_scale(), y_ticks, y_minor),
            )?),
            (true, false) => finish!(chart_builder.build_cartesian_2d(
                style::ticked((x_lo..x_hi).log_scale(), x_ticks, x_minor),
                style::ticked(y_lo..y_hi, y_ticks, Vec::new()),
            )?),
            (false, true) => finish!(chart_builder.build_cartesian_2d(
                style::ticked(x_lo..x_hi, x_ticks, Vec::new()),
                style::ticked((y_lo..y_hi).log_scale(), y_ticks, y_minor),
            )?),
            (false, false) => {
                finish!(chart_builder.build_cartesian_2d(
                    style::ticked(x_lo..x_hi, x_ticks, Vec::new()),
                    style::ticked(y_lo..y_hi, y_ticks, Vec::new())
                )?)
            }
        }
        Ok(())
    }
}

/// `GOGC (%)` → `GOGC (%, log scale)`; `p99 pause` → `p99 pause (log scale)`.
fn with_log_note(desc: &str) -> String {
    match desc.strip_suffix(')') {
        Some(open) if open.contains(" (") => format!("{open}, log scale)"),
        _ => format!("{desc} (log scale)"),
    }
}

/// `throughput` → `Throughput`; `p99 pause` stays as it is.
fn capitalized(s: &str) -> String {
    if s.chars().nth(1).is_some_and(|c| c.is_ascii_digit()) {
        return s.to_string();
    }
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// `GOGC (%)` → `GOGC`: the unit belongs on the axis, not in the title.
fn strip_unit(s: &str) -> &str {
    s.split(" (").next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(collector: &str, metric: &str, param: &str, value: f64) -> SweepPoint {
        SweepPoint {
            collector: collector.to_string(),
            param: param.to_string(),
            value,
            median: 2.0,
            min: 1.0,
            max: 3.0,
            metric: Some(metric.to_string()),
            workload: None,
            ci95: None,
        }
    }

    #[test]
    fn one_chart_per_metric_and_parameter_named_by_what_varies() {
        let pal = Palette::default();
        let one = charts(
            &[pt("a", "pause_p99_ns", "gogc", 50.0), pt("b", "pause_p99_ns", "gogc", 50.0)],
            &pal,
            &Titles::default(),
        );
        assert_eq!(one.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["sweep"]);
        assert_eq!(one[0].1.lines.len(), 2);
        let two = charts(
            &[pt("a", "pause_p99_ns", "gogc", 50.0), pt("a", "peak_heap_bytes", "gogc", 50.0)],
            &pal,
            &Titles::default(),
        );
        assert_eq!(
            two.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["sweep-pause_p99_ns", "sweep-peak_heap_bytes"]
        );
    }

    #[test]
    fn names_say_what_and_in_which_unit() {
        assert_eq!(Quantity::of("pause_p99_ns"), Quantity::Duration);
        assert_eq!(Quantity::of("peak_heap_bytes"), Quantity::Bytes);
        assert_eq!(Quantity::of("nursery"), Quantity::Bytes);
        assert_eq!(Quantity::of("events_per_s"), Quantity::Rate);
        assert_eq!(describe("gogc"), "GOGC (%)");
        assert_eq!(describe("live_heap_bytes"), "live heap");
        assert_eq!(Quantity::Rate.label(2.5e6), "2.5 M/s");
    }
}

//! The look every chart shares: the embedded font, one colour per collector
//! that stays the same across a directory's charts, sizes chosen so a
//! 1200×800 chart stays readable when shrunk into a paper column, axis tick
//! formatting with units, and the pieces drawn the same way everywhere (the
//! title block and the legend column).
//!
//! Units on axes follow one rule: a **log** axis labels every tick with its
//! own unit (`10 µs`, `1 ms`, `4 MiB`), because its ticks span several
//! units; a **linear** axis uses one unit for the whole axis, named in the
//! axis label (`time (ms)`, `heap in use (MiB)`), and plain numbers on the
//! ticks.

use super::DrawError;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, RGBColor};
use std::ops::Range;
use std::sync::Once;

/// Default chart size in pixels (an SVG's user units).
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 800;

/// The font family every text is drawn in: DejaVu Sans, embedded
/// ([`register_fonts`]), so charts draw the same on a machine without
/// system fonts. The name is also what an SVG says: a CSS font list, so a
/// viewer uses DejaVu Sans when it has it (the layout was measured with
/// it) and its own sans-serif otherwise.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Text sizes in pixels, large for a chart this size: shrunk to a
/// 3.3-inch paper column (a 1200-pixel chart at 0.2 pt a pixel) ticks and
/// legend are still 6 pt type and the axis labels 6.5 pt; across a page
/// (7 inches) they are 13 pt.
pub const TITLE_PX: f64 = 40.0;
pub const SUBTITLE_PX: f64 = 28.0;
pub const AXIS_LABEL_PX: f64 = 33.0;
pub const TICK_PX: f64 = 31.0;
pub const LEGEND_PX: f64 = 31.0;
/// The smallest a title may shrink to before it is cut short with "…".
const MIN_TITLE_PX: f64 = 20.0;

/// Line and marker sizes in pixels.
pub const LINE_PX: u32 = 4;
pub const MARKER_PX: i32 = 7;
/// Space kept free around the chart's edges.
pub const MARGIN_PX: i32 = 18;

/// Colours of text, grid lines and neutral elements.
pub const TEXT: RGBColor = RGBColor(20, 20, 20);
pub const MUTED: RGBColor = RGBColor(90, 90, 90);
pub const GRID: RGBColor = RGBColor(0, 0, 0);
pub const NEUTRAL: RGBColor = RGBColor(110, 110, 110);

/// Registers DejaVu Sans (regular and bold) as [`FONT`] with plotters'
/// `ab_glyph` text path, once per process. Drawing any text before this
/// fails with `FontUnavailable`, in PNG and SVG alike (plotters measures
/// text to lay it out).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only a malformed font fails to register; DejaVu's are well formed,
        // and if one were not, drawing would report FontUnavailable.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The text style of `px` pixels in [`TEXT`] colour.
pub fn font(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&TEXT)
}

/// The bold text style of `px` pixels.
pub fn bold(px: f64) -> TextStyle<'static> {
    (FONT, px, FontStyle::Bold).into_font().color(&TEXT)
}

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

/// Colours for the collectors gcwb ships, fixed so a collector has the same
/// colour in every chart of every run (Okabe and Ito's colour-blind-safe
/// palette; `none`, the baseline, in grey).
const KNOWN: [(&str, RGBColor); 4] = [
    ("none", RGBColor(120, 120, 120)),
    ("mark-sweep", RGBColor(0, 114, 178)),
    ("concurrent", RGBColor(213, 94, 0)),
    ("generational", RGBColor(0, 158, 115)),
];

/// Go's own runtime (an imported `gctrace` log labelled `go…`): Go's cyan,
/// darkened to read on white.
const GO: RGBColor = RGBColor(0, 140, 180);

/// Colours for any other collector (a new plan, an imported JVM log), in
/// the order they are handed out.
const OTHERS: [RGBColor; 6] = [
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(140, 86, 75),
    RGBColor(120, 60, 190),
    RGBColor(150, 150, 0),
];

/// One colour per collector for a whole set of charts. Known collectors
/// always get their fixed colour; the others get the remaining colours in
/// the order of their names, so every chart drawn from one directory (which
/// shares one palette) colours a collector alike.
///
/// Collectors imported from another runtime's log ([`Palette::imported`])
/// are also drawn apart by shape, so they read as such at a glance and in
/// grey print: a dashed line ([`Palette::line`]) and square markers
/// ([`Palette::marker`]) where gcwb's collectors have solid lines and
/// round ones.
#[derive(Clone, Debug, Default)]
pub struct Palette {
    colors: Vec<(String, RGBColor)>,
    imported: Vec<String>,
}

impl Palette {
    /// The palette for these collector names (duplicates are fine).
    pub fn for_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Palette {
        let mut sorted: Vec<&str> = names.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut colors = Vec::new();
        let mut next = 0;
        for name in sorted {
            let c = if let Some((_, c)) = KNOWN.iter().find(|(n, _)| *n == name) {
                *c
            } else if name.starts_with("go") {
                GO
            } else {
                let c = OTHERS[next % OTHERS.len()];
                next += 1;
                c
            };
            colors.push((name.to_string(), c));
        }
        Palette { colors, imported: Vec::new() }
    }

    /// The colour of `name` (a name the palette was not made for gets a
    /// neutral grey).
    pub fn color(&self, name: &str) -> RGBColor {
        self.colors.iter().find(|(n, _)| n == name).map_or(NEUTRAL, |(_, c)| *c)
    }

    /// The same palette, with `names` marked as imported logs.
    pub fn imported<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Palette {
        self.imported.extend(names.into_iter().map(str::to_string));
        self
    }

    /// Is `name` an imported log's collector?
    pub fn is_imported(&self, name: &str) -> bool {
        self.imported.iter().any(|n| n == name)
    }

    /// Does any of the charted collectors come from an imported log?
    pub fn has_imported(&self) -> bool {
        !self.imported.is_empty()
    }

    /// The line `name`'s series is drawn with: dashed for an imported log,
    /// solid for gcwb's collectors.
    pub fn line(&self, name: &str) -> Line {
        if self.is_imported(name) {
            Line::Dashed
        } else {
            Line::Solid
        }
    }

    /// The marker of `name`'s points: a square for an imported log, a
    /// circle for gcwb's collectors.
    pub fn marker(&self, name: &str) -> Marker {
        if self.is_imported(name) {
            Marker::Square
        } else {
            Marker::Circle
        }
    }

    /// The legend's note on the imported logs' style, when there are some.
    pub fn imported_note(&self) -> Option<LegendEntry> {
        self.has_imported().then(|| LegendEntry::note("dashed, squares: imported runtime logs"))
    }
}

// ---------------------------------------------------------------------------
// Units and ticks
// ---------------------------------------------------------------------------

/// `v` with at most three significant digits and no trailing zeros:
/// `1`, `2.5`, `0.125`, `1250`.
pub fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() { "0".to_string() } else { v.to_string() };
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (2 - digits).clamp(0, 9) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A duration in nanoseconds with the unit that keeps the number between 1
/// and 1000: `850 ns`, `10 µs`, `2.5 ms`, `1.2 s`.
pub fn duration(ns: f64) -> String {
    let (div, unit) = duration_unit(ns);
    format!("{} {unit}", number(ns / div))
}

/// The unit (nanoseconds per unit, name) in which `ns` reads as 1 to 1000.
pub fn duration_unit(ns: f64) -> (f64, &'static str) {
    let a = ns.abs();
    if a < 1e3 {
        (1.0, "ns")
    } else if a < 1e6 {
        (1e3, "µs")
    } else if a < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// A byte count in binary units: `512 B`, `64 KiB`, `1.5 MiB`, `2 GiB`.
pub fn bytes(b: f64) -> String {
    let (div, unit) = bytes_unit(b);
    format!("{} {unit}", number(b / div))
}

/// The binary unit (bytes per unit, name) in which `b` reads as 1 to 1024.
pub fn bytes_unit(b: f64) -> (f64, &'static str) {
    let a = b.abs();
    if a < 1024.0 {
        (1.0, "B")
    } else if a < 1024.0 * 1024.0 {
        (1024.0, "KiB")
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        (1024.0 * 1024.0, "MiB")
    } else {
        (1024.0 * 1024.0 * 1024.0, "GiB")
    }
}

/// The 1-2-5 value at or below `v > 0`.
fn nice_floor(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let m = v / p;
    let f = if m >= 5.0 - 1e-9 {
        5.0
    } else if m >= 2.0 - 1e-9 {
        2.0
    } else {
        1.0
    };
    f * p
}

/// The 1-2-5 value at or above `v > 0`.
fn nice_ceil(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let m = v / p;
    let f = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    f * p
}

/// The 1-2-5 value nearest `v > 0` on a log scale.
fn nice_near(v: f64) -> f64 {
    let (lo, hi) = (nice_floor(v), nice_ceil(v));
    if (v / lo).ln() <= (hi / v).ln() {
        lo
    } else {
        hi
    }
}

/// A log axis: its range and where its labelled ticks and light grid
/// lines go.
#[derive(Clone, Debug, PartialEq)]
pub struct LogAxis {
    pub lo: f64,
    pub hi: f64,
    /// Labelled ticks: the powers of ten in range (every other one past
    /// eight decades), or 1-2-5 steps when the range spans under two
    /// decades.
    pub ticks: Vec<f64>,
    /// Light grid lines: 1…9 × 10ᵏ (powers of ten only past six decades).
    pub minor: Vec<f64>,
}

impl LogAxis {
    /// Keeps every `k`-th labelled tick (counted from the top, so the
    /// largest value stays labelled); the others become light grid lines.
    pub fn thinned(mut self, k: usize) -> LogAxis {
        if k > 1 {
            let n = self.ticks.len();
            let all = std::mem::take(&mut self.ticks);
            for (i, v) in all.into_iter().enumerate() {
                if (n - 1 - i).is_multiple_of(k) {
                    self.ticks.push(v);
                } else {
                    self.minor.push(v);
                }
            }
        }
        self
    }

    /// The axis for positive data from `min` to `max`, widened to the 1-2-5
    /// values around them so no point sits on the frame, and to whole
    /// decades when it spans two or more.
    pub fn new(min: f64, max: f64) -> LogAxis {
        let min = if min.is_finite() && min > 0.0 { min } else { 1.0 };
        let max = if max.is_finite() && max > min { max } else { min * 2.0 };
        let (mut lo, mut hi) = (nice_floor(min), nice_ceil(max));
        if lo == min {
            lo = nice_floor(min * 0.99);
        }
        if hi == max {
            hi = nice_ceil(max * 1.01);
        }
        // Two decades or more: whole decades, so both ends are labelled.
        if (hi / lo).log10() >= 2.0 - 1e-9 {
            lo = 10f64.powf(lo.log10().floor());
            hi = 10f64.powf((hi.log10() - 1e-9).ceil());
        }
        LogAxis::exactly(lo, hi)
    }

    /// The axis from `lo` to `hi` exactly (a curve that should fill the
    /// plot from edge to edge), with its ticks.
    pub fn exactly(lo: f64, hi: f64) -> LogAxis {
        let decades = (hi / lo).log10();
        let k0 = lo.log10().floor() as i32;
        let k1 = hi.log10().ceil() as i32;
        let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
        let mut ticks = Vec::new();
        let mut minor = Vec::new();
        for k in k0..=k1 {
            let p = 10f64.powi(k);
            for m in 1..10 {
                let v = m as f64 * p;
                if !inside(v) {
                    continue;
                }
                let labelled =
                    if decades < 2.0 { m == 1 || m == 2 || m == 5 } else { m == 1 && (decades <= 8.0 || k % 2 == 0) };
                if labelled {
                    ticks.push(v);
                } else if decades <= 6.0 || m == 1 {
                    minor.push(v);
                }
            }
        }
        LogAxis { lo, hi, ticks, minor }
    }
}

/// A linear axis from 0 (or from `min` when `min` is negative): its upper
/// end and its ticks, about `n` of them at a 1-2-5 step.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearAxis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

impl LinearAxis {
    pub fn new(min: f64, max: f64, n: usize) -> LinearAxis {
        let lo0 = min.min(0.0);
        let span = if max > lo0 { max - lo0 } else { 1.0 };
        let step = nice_near(span / n.max(1) as f64);
        let lo = (lo0 / step).floor() * step;
        let hi = ((max / step).ceil() * step).max(lo + step);
        let count = ((hi - lo) / step).round() as usize;
        let ticks = (0..=count).map(|i| lo + i as f64 * step).collect();
        LinearAxis { lo, hi, ticks }
    }

    /// An axis over `[lo, hi]` exactly (a share from 0 to 1, say).
    pub fn fixed(lo: f64, hi: f64, ticks: Vec<f64>) -> LinearAxis {
        LinearAxis { lo, hi, ticks }
    }
}

/// An axis with the ticks we chose: labelled ticks (`bold`) and light grid
/// lines (`light`), over any plotters coordinate. (Plotters' own
/// `WithKeyPoints` keeps the inner axis's formatting option, which for `f64`
/// ranges leaves the mesh without a formatter; every axis here is given one.)
pub struct Ticked<R: Ranged> {
    inner: R,
    bold: Vec<R::ValueType>,
    light: Vec<R::ValueType>,
}

/// `range` (anything plotters takes as an axis, e.g. `lo..hi` or
/// `(lo..hi).log_scale()`) with these ticks and grid lines.
pub fn ticked<A>(range: A, bold: Vec<A::Value>, light: Vec<A::Value>) -> Ticked<A::CoordDescType>
where
    A: AsRangedCoord,
    A::CoordDescType: Ranged<ValueType = A::Value>,
{
    Ticked { inner: range.into(), bold, light }
}

impl<R: Ranged> Ranged for Ticked<R>
where
    R::ValueType: Clone,
{
    type FormatOption = DefaultFormatting;
    type ValueType = R::ValueType;

    fn map(&self, value: &Self::ValueType, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<Self::ValueType> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<Self::ValueType> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

// ---------------------------------------------------------------------------
// Title block and legend
// ---------------------------------------------------------------------------

/// What names a chart: the workload (or trace), the run's settings and the
/// machine. The chart's kind goes in front of the workload in the title;
/// the rest goes on a smaller second line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Titles {
    /// The workload or trace name (`server`, `gctrace.log`).
    pub workload: String,
    /// The run's settings, `2 procs · GOGC 100`.
    pub settings: Option<String>,
    /// The machine, `2 cores, x86_64, AMD EPYC, 23 GiB`.
    pub machine: Option<String>,
}

impl Titles {
    /// The first line: `KIND — workload`.
    pub fn headline(&self, kind: &str) -> String {
        if self.workload.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} — {}", self.workload)
        }
    }

    /// The second line: settings and machine, or empty.
    pub fn subtitle(&self) -> String {
        let parts: Vec<&str> = [self.settings.as_deref(), self.machine.as_deref()].into_iter().flatten().collect();
        parts.join(" · ")
    }
}

/// Draws a panel's caption (e.g. one facet's name) centred at the top of
/// `area`, and returns the area below it.
pub fn captioned<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    let (w, _) = area.dim_in_pixel();
    let room = w.saturating_sub(2 * MARGIN_PX as u32);
    let h = fitted_text(area, caption, SUBTITLE_PX, true, &TEXT, (w as i32 / 2, 4), room)? as i32;
    let (_, body) = area.split_vertically(h + 8);
    Ok(body)
}

/// Draws `text` centred at `(x, y)` (its top), in `style` shrunk (down to
/// [`MIN_TITLE_PX`]) and then cut short with "…" until it fits `width`.
fn fitted_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
    bold_face: bool,
    color: &RGBColor,
    (x, y): (i32, i32),
    width: u32,
) -> Result<u32, DrawError> {
    let style_of = |px: f64| if bold_face { bold(px) } else { font(px) }.color(color);
    let mut px = px;
    let mut shown = text.to_string();
    loop {
        let (w, _) = area.estimate_text_size(&shown, &style_of(px))?;
        if w <= width {
            break;
        }
        if px > MIN_TITLE_PX {
            px = (px - 2.0).max(MIN_TITLE_PX);
        } else {
            let mut chars: Vec<char> = shown.trim_end_matches('…').chars().collect();
            if chars.len() <= 1 {
                break;
            }
            chars.pop();
            shown = chars.into_iter().collect::<String>() + "…";
        }
    }
    let style = style_of(px).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(&shown, &style, (x, y))?;
    Ok((px * 1.25).ceil() as u32)
}

/// Draws the chart's title (`KIND — workload`) and the subtitle at the top
/// of `root`, and returns the area below them.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    titles: &Titles,
    kind: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    let (w, _) = root.dim_in_pixel();
    let room = w.saturating_sub(2 * MARGIN_PX as u32);
    let mut y = MARGIN_PX;
    y += fitted_text(root, &titles.headline(kind), TITLE_PX, true, &TEXT, (w as i32 / 2, y), room)? as i32;
    let sub = titles.subtitle();
    if !sub.is_empty() {
        y += 2;
        y += fitted_text(root, &sub, SUBTITLE_PX, false, &MUTED, (w as i32 / 2, y), room)? as i32;
    }
    let (_, body) = root.split_vertically(y + 10);
    Ok(body)
}

/// How a legend entry's sample line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Solid,
    Dashed,
    Dotted,
    None,
}

/// A point marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    None,
    Circle,
    Triangle,
    Square,
}

/// One row of a legend: a sample of the line and marker, and the label.
#[derive(Clone, Debug)]
pub struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub line: Line,
    pub marker: Marker,
}

impl LegendEntry {
    pub fn line(label: impl Into<String>, color: RGBColor) -> LegendEntry {
        LegendEntry { label: label.into(), color, line: Line::Solid, marker: Marker::None }
    }
    pub fn styled(label: impl Into<String>, color: RGBColor, line: Line, marker: Marker) -> LegendEntry {
        LegendEntry { label: label.into(), color, line, marker }
    }
    /// A row of text only (a note such as "none: no pauses").
    pub fn note(label: impl Into<String>) -> LegendEntry {
        LegendEntry { label: label.into(), color: MUTED, line: Line::None, marker: Marker::None }
    }
}

/// Width of a legend sample (line and marker), the gap after it, and the
/// gap between entries.
const SAMPLE_PX: i32 = 46;
const SAMPLE_GAP_PX: i32 = 10;
const ENTRY_GAP_PX: i32 = 34;

impl LegendEntry {
    /// Text only, no sample.
    fn is_note(&self) -> bool {
        self.line == Line::None && self.marker == Marker::None
    }
}

/// Draws the legend in rows across the top of `body` — entries flow left
/// to right, a row centred, wrapping when the next would not fit — and
/// returns the area below it for the plot. The legend never covers data:
/// it has its own band. An entry with an empty label is a wider gap.
pub fn with_legend<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    if entries.is_empty() {
        return Ok(body.clone());
    }
    let (w, _) = body.dim_in_pixel();
    let room = w as i32 - 2 * MARGIN_PX;
    // Lay out: each row's entries with their x offsets, and its width.
    let mut rows: Vec<(Vec<(&LegendEntry, i32)>, i32)> = Vec::new();
    let (mut row, mut x, mut extra_gap) = (Vec::new(), 0, 0);
    for e in entries {
        if e.label.is_empty() {
            extra_gap += ENTRY_GAP_PX;
            continue;
        }
        let text = body.estimate_text_size(&e.label, &font(LEGEND_PX))?.0 as i32;
        let width = text + if e.is_note() { 0 } else { SAMPLE_PX + SAMPLE_GAP_PX };
        if x > 0 && x + ENTRY_GAP_PX + extra_gap + width > room {
            rows.push((std::mem::take(&mut row), x));
            x = 0;
        }
        let at = if x > 0 { x + ENTRY_GAP_PX + extra_gap } else { 0 };
        row.push((e, at));
        x = at + width;
        extra_gap = 0;
    }
    rows.push((row, x));

    let row_px = (LEGEND_PX * 1.45).round() as i32;
    let left = Pos::new(HPos::Left, VPos::Center);
    for (r, (row, row_width)) in rows.iter().enumerate() {
        let x0 = (w as i32 - row_width) / 2;
        let cy = r as i32 * row_px + row_px / 2;
        for &(e, at) in row {
            let x = x0 + at;
            let line = e.color.stroke_width(LINE_PX);
            let (a, b) = (x, x + SAMPLE_PX);
            match e.line {
                Line::Solid => body.draw(&PathElement::new(vec![(a, cy), (b, cy)], line))?,
                Line::Dashed => {
                    for s in [a, a + 17, a + 34] {
                        body.draw(&PathElement::new(vec![(s, cy), ((s + 10).min(b), cy)], line))?;
                    }
                }
                Line::Dotted => {
                    for s in (a..b).step_by(9) {
                        body.draw(&PathElement::new(vec![(s, cy), ((s + 3).min(b), cy)], line))?;
                    }
                }
                Line::None => {}
            }
            let text_x = if e.is_note() {
                x
            } else {
                draw_marker(body, e.marker, (x + SAMPLE_PX / 2, cy), e.color)?;
                x + SAMPLE_PX + SAMPLE_GAP_PX
            };
            let color = if e.is_note() { MUTED } else { TEXT };
            body.draw_text(&e.label, &font(LEGEND_PX).color(&color).pos(left), (text_x, cy))?;
        }
    }
    let (_, plot) = body.split_vertically(rows.len() as i32 * row_px + 10);
    Ok(plot)
}

/// Draws `marker` centred at the pixel `at` of `area`.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    marker: Marker,
    at: (i32, i32),
    color: RGBColor,
) -> Result<(), DrawError> {
    let r = MARKER_PX;
    match marker {
        Marker::None => {}
        Marker::Circle => area.draw(&Circle::new(at, r, color.filled()))?,
        Marker::Triangle => area.draw(&TriangleMarker::new(at, r + 2, color.filled()))?,
        Marker::Square => area.draw(&Rectangle::new([(at.0 - r, at.1 - r), (at.0 + r, at.1 + r)], color.filled()))?,
    }
    Ok(())
}

/// The width in pixels of the widest of `labels` at `px`.
pub fn widest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: impl IntoIterator<Item = String>,
    px: f64,
) -> Result<u32, DrawError> {
    let mut w = 0;
    for l in labels {
        w = w.max(area.estimate_text_size(&l, &font(px))?.0);
    }
    Ok(w)
}

/// Room for a y axis: its widest tick label, the gap to the axis and the
/// rotated axis label.
pub fn y_label_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tick_labels: impl IntoIterator<Item = String>,
) -> Result<u32, DrawError> {
    Ok(widest(area, tick_labels, TICK_PX)? + (AXIS_LABEL_PX * 1.3) as u32 + 30)
}

/// Room for an x axis: tick labels, the gap and the axis label.
pub fn x_label_area() -> u32 {
    ((TICK_PX + AXIS_LABEL_PX) * 1.2) as u32 + 16
}

/// Draws a line through `points` on `chart` in `color`, solid, dashed or
/// dotted.
pub fn plot_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
    line: Line,
) -> Result<(), DrawError> {
    let s = color.stroke_width(LINE_PX);
    let pts = points.iter().copied();
    match line {
        Line::Solid => {
            chart.draw_series(LineSeries::new(pts, s))?;
        }
        Line::Dashed => {
            chart.draw_series(DashedLineSeries::new(pts, 14, 9, s))?;
        }
        Line::Dotted => {
            chart.draw_series(DashedLineSeries::new(pts, 4, 7, s))?;
        }
        Line::None => {}
    }
    Ok(())
}

/// Draws `marker` at each of `points` on `chart`, of radius `r` pixels
/// ([`MARKER_PX`] unless the points are crowded).
pub fn plot_markers<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
    marker: Marker,
    r: i32,
) -> Result<(), DrawError> {
    let fill = color.filled();
    match marker {
        Marker::None => {}
        Marker::Circle => {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, r, fill)))?;
        }
        Marker::Triangle => {
            chart.draw_series(points.iter().map(|p| TriangleMarker::new(*p, r + 2, fill)))?;
        }
        Marker::Square => {
            chart
                .draw_series(points.iter().map(|p| EmptyElement::at(*p) + Rectangle::new([(-r, -r), (r, r)], fill)))?;
        }
    }
    Ok(())
}

/// The look every chart's mesh shares: tick and axis-label fonts, the two
/// grid weights, thin axes. Charts set their own formatters and labels.
pub fn paper_mesh<'m, 'a, 'b, X, Y, XT, YT, DB>(
    mesh: &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + plotters::coord::ranged1d::ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + plotters::coord::ranged1d::ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_LABEL_PX))
        .bold_line_style(grid_bold())
        .light_line_style(grid_light())
        .axis_style(TEXT.stroke_width(1))
}

/// Grid line styles: the labelled ticks' lines and the light ones.
pub fn grid_bold() -> ShapeStyle {
    GRID.mix(0.22).stroke_width(1)
}
pub fn grid_light() -> ShapeStyle {
    GRID.mix(0.08).stroke_width(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits_and_drop_trailing_zeros() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(1250.0), "1250");
        assert_eq!(number(99.99), "100");
        assert_eq!(number(0.0), "0");
    }

    #[test]
    fn durations_and_bytes_carry_the_unit_that_keeps_them_readable() {
        assert_eq!(duration(850.0), "850 ns");
        assert_eq!(duration(10_000.0), "10 µs");
        assert_eq!(duration(2_500_000.0), "2.5 ms");
        assert_eq!(duration(1.2e9), "1.2 s");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(64.0 * 1024.0), "64 KiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0), "1.5 MiB");
        assert_eq!(bytes(2.0 * (1u64 << 30) as f64), "2 GiB");
    }

    #[test]
    fn log_axis_widens_to_1_2_5_values_and_labels_decades() {
        let a = LogAxis::new(1_400.0, 4_100_000.0);
        assert_eq!((a.lo, a.hi), (1_000.0, 10_000_000.0));
        assert_eq!(a.ticks, [1e3, 1e4, 1e5, 1e6, 1e7]);
        assert!(a.minor.contains(&2e3) && a.minor.contains(&5e6));
        // Under two decades: 1-2-5 ticks.
        let b = LogAxis::new(300_000.0, 5_000_000.0);
        assert_eq!((b.lo, b.hi), (200_000.0, 1e7));
        assert_eq!(b.ticks, [2e5, 5e5, 1e6, 2e6, 5e6, 1e7]);
        // One value: still a range around it.
        let c = LogAxis::new(1e6, 1e6);
        assert!(c.lo < 1e6 && c.hi > 1e6 && c.ticks.len() >= 2, "{c:?}");
    }

    #[test]
    fn a_thinned_log_axis_keeps_the_top_label_and_greys_out_the_rest() {
        let a = LogAxis::new(150.0, 9e5).thinned(2);
        assert_eq!(a.ticks, [1e2, 1e4, 1e6]);
        assert!(a.minor.contains(&1e3) && a.minor.contains(&1e5));
    }

    #[test]
    fn linear_axis_steps_by_1_2_5() {
        let a = LinearAxis::new(0.0, 57.7, 6);
        assert_eq!((a.lo, a.hi), (0.0, 60.0));
        assert_eq!(a.ticks, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        // 40.3 in about 8 steps: steps of 5 (not 10, which would leave a
        // fifth of the axis empty).
        let b = LinearAxis::new(0.0, 40.3, 8);
        assert_eq!((b.lo, b.hi, b.ticks.len()), (0.0, 45.0, 10));
    }

    #[test]
    fn known_collectors_keep_their_colours_whatever_else_is_drawn() {
        let a = Palette::for_names(["mark-sweep", "zeta"]);
        let b = Palette::for_names(["concurrent", "mark-sweep", "alpha", "zeta", "go1.19"]);
        assert_eq!(a.color("mark-sweep"), b.color("mark-sweep"));
        assert_ne!(b.color("alpha"), b.color("zeta"));
        assert_eq!(b.color("go1.19"), GO);
        assert_eq!(b.color("unknown"), NEUTRAL);
    }

    #[test]
    fn imported_logs_are_dashed_with_square_markers_and_keep_their_colour() {
        let plain = Palette::for_names(["concurrent", "jvm-zgc"]);
        let p = plain.clone().imported(["jvm-zgc"]);
        assert_eq!((p.line("jvm-zgc"), p.marker("jvm-zgc")), (Line::Dashed, Marker::Square));
        assert_eq!((p.line("concurrent"), p.marker("concurrent")), (Line::Solid, Marker::Circle));
        assert_eq!(p.color("jvm-zgc"), plain.color("jvm-zgc"));
        assert!(p.imported_note().is_some() && plain.imported_note().is_none());
    }
}

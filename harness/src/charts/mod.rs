//! Publication-quality charts of a run, drawn from its CSV files alone (so
//! they can be redrawn without rerunning: `gcwb plot DIR`), as PNG or SVG;
//! several directories — gcwb runs and imported runtime logs — on one set
//! of charts with `gcwb plot DIR1 DIR2 ... --out DIR` ([`RunData::merge`]).
//!
//! The charts, one module each:
//! - [`pauses`]: the pause-time percentile distribution (`pause-percentiles`),
//!   HdrHistogram-style, on a "nines" axis ([`nines`]);
//! - [`mmu`]: minimum (and bounded) mutator utilization against the window
//!   size (`mmu`);
//! - [`timeline`]: every pause at its time, over the heap's sawtooth
//!   (`pause-timeline`);
//! - [`latency`]: the request latency percentile distribution from the
//!   trace's spans (`request-latency`);
//! - [`sweep`]: a metric against a swept parameter, with min–max error bars
//!   (`sweep`); its input format is documented there.
//!
//! [`style`] holds what they share (the embedded font, one colour per
//! collector, sizes, unit formatting, title block and legend); [`data`]
//! reads the CSV files (each through a [`table::Table`]) into what the
//! charts draw, and imports no chart; [`text`] draws the PNGs' text. Each
//! chart is a value implementing [`Chart`], drawn on any plotters backend;
//! [`render`] draws it into PNG or SVG bytes and [`write_chart`] writes
//! them through a temporary file and a rename. [`render_data`] draws every
//! chart a directory has data for into memory (the HTML report inlines
//! them), [`draw_dir`] and [`draw_data`] into files.

pub mod data;
pub mod latency;
pub mod mmu;
pub mod nines;
pub mod pauses;
pub mod style;
pub mod sweep;
pub mod table;
pub mod text;
pub mod timeline;

pub use data::RunData;
pub use style::{Palette, Titles};

use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The image formats the charts are drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// Why a chart could not be drawn. Its message is one line for the user,
/// starting with the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{}: no such directory", .0.display())]
    NoDir(PathBuf),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: line {line}: {message}", path.display())]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{}: cannot draw: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    #[error(
        "{}: nothing to draw (no rows in pauses.csv, cycles.csv, mmu.csv, span_percentiles.csv or sweep.csv)",
        .0.display()
    )]
    NothingToDraw(PathBuf),
}

/// A drawing error of plotters (any backend), as text.
#[derive(Debug)]
pub struct DrawError(pub String);

impl std::fmt::Display for DrawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

/// A chart: its size and how to draw it on any plotters backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32) {
        (style::WIDTH, style::HEIGHT)
    }

    /// Draws the chart on `root`, which is white and of [`Chart::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>;
}

/// Draws `chart` into the bytes of a PNG or SVG file.
pub fn render<C: Chart>(chart: &C, format: Format) -> Result<Vec<u8>, DrawError> {
    style::register_fonts();
    let (w, h) = chart.size();
    match format {
        Format::Png => {
            let mut pixels = vec![0u8; w as usize * h as usize * 3];
            {
                let backend = text::CrispText(BitMapBackend::with_buffer(&mut pixels, (w, h)));
                let root = backend.into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root)?;
                root.present()?;
            }
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(&pixels, w, h, image::ColorType::Rgb8)
                .map_err(|e| DrawError(e.to_string()))?;
            Ok(png)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root)?;
                root.present()?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// Draws `chart` and writes it to `path` through a temporary file and a
/// rename ([`crate::report::write_atomically`]).
pub fn write_chart<C: Chart>(chart: &C, path: &Path, format: Format) -> Result<(), ChartError> {
    let bytes = render(chart, format).map_err(|e| ChartError::Draw { path: path.to_path_buf(), message: e.0 })?;
    crate::report::write_atomically(path, &bytes)
        .map_err(|e| ChartError::Io { path: path.to_path_buf(), message: e.to_string() })
}

/// Draws every chart `dir`'s CSV files have data for into `out`, and
/// returns the files written (none when there is nothing to draw).
pub fn draw_dir(dir: &Path, out: &Path, format: Format) -> Result<Vec<PathBuf>, ChartError> {
    if !dir.is_dir() {
        return Err(ChartError::NoDir(dir.to_path_buf()));
    }
    draw_data(&RunData::read(dir)?, out, format)
}

/// The palette of `data`'s charts: one colour per collector, imported logs
/// marked ([`Palette::imported`]).
pub fn palette(data: &RunData) -> Palette {
    let imported = data.imported();
    Palette::for_names(data.collectors().iter().map(String::as_str)).imported(imported.iter().map(String::as_str))
}

/// One chart drawn into the bytes of an image file.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The chart's name and file stem: `pause-percentiles`, `mmu`,
    /// `pause-timeline`, `request-latency`, `sweep` or `sweep-…`.
    pub stem: String,
    pub bytes: Vec<u8>,
}

/// Draws every chart `data` has data for, in memory, in [`draw_data`]'s
/// order: `pause-percentiles`, `mmu`, `pause-timeline`, `request-latency`
/// and `sweep` (one `sweep-…` per metric and parameter when there are
/// several). A drawing error comes with the stem of the chart it stopped.
pub fn render_data(data: &RunData, format: Format) -> Result<Vec<Rendered>, (String, DrawError)> {
    let palette = palette(data);
    let titles = data.titles();
    let mut out = Vec::new();
    let mut emit = |stem: &str, bytes: Result<Vec<u8>, DrawError>| match bytes {
        Ok(bytes) => {
            out.push(Rendered { stem: stem.to_string(), bytes });
            Ok(())
        }
        Err(e) => Err((stem.to_string(), e)),
    };
    if let Some(c) = pauses::chart(data, &palette, &titles) {
        emit("pause-percentiles", render(&c, format))?;
    }
    if let Some(c) = mmu::chart(data, &palette, &titles) {
        emit("mmu", render(&c, format))?;
    }
    if let Some(c) = timeline::chart(data, &palette, &titles) {
        emit("pause-timeline", render(&c, format))?;
    }
    if let Some(c) = latency::chart(data, &palette, &titles) {
        emit("request-latency", render(&c, format))?;
    }
    for (stem, c) in sweep::charts(&data.sweep, &palette, &titles) {
        emit(&stem, render(&c, format))?;
    }
    Ok(out)
}

/// Draws every chart `data` has data for into `out` ([`render_data`]),
/// each file through a temporary file and a rename. A run chart of the
/// same format already in `out` that the data no longer supports is
/// removed.
pub fn draw_data(data: &RunData, out: &Path, format: Format) -> Result<Vec<PathBuf>, ChartError> {
    let path_of = |stem: &str| out.join(format!("{stem}.{}", format.extension()));
    let rendered =
        render_data(data, format).map_err(|(stem, e)| ChartError::Draw { path: path_of(&stem), message: e.0 })?;
    let mut written = Vec::new();
    for chart in rendered {
        let path = path_of(&chart.stem);
        crate::report::write_atomically(&path, &chart.bytes)
            .map_err(|e| ChartError::Io { path: path.clone(), message: e.to_string() })?;
        written.push(path);
    }
    // A run chart drawn earlier into `out` from data that is no longer there
    // (a rerun without spans, say) would be mistaken for this data's.
    for stem in RUN_CHARTS {
        let stale = path_of(stem);
        if !written.contains(&stale) && stale.is_file() {
            std::fs::remove_file(&stale).map_err(|e| ChartError::Io { path: stale.clone(), message: e.to_string() })?;
        }
    }
    Ok(written)
}

/// The charts of one run, by file stem.
pub const RUN_CHARTS: [&str; 4] = ["pause-percentiles", "mmu", "pause-timeline", "request-latency"];

/// `gcwb plot`'s arguments.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// Results directories: what `gcwb run` or `gcwb import` wrote, or a
    /// directory holding a sweep.csv. Several are drawn on one set of
    /// charts (a collector name found in more than one becomes
    /// `<dir>/<name>`; imported logs dashed).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Image format.
    #[arg(long, value_enum, default_value = "png")]
    pub format: Format,
    /// Where to write the charts (default: DIR; required with several).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// `gcwb plot`: redraws every chart it can from the CSV files in the
/// directories (several merged, [`RunData::merge`]) and prints what it
/// wrote. Exit code 2, with one line on stderr, when a directory is
/// missing, a CSV file is malformed (the line names the file and the line),
/// several directories are given without `--out`, or there is nothing to
/// draw.
pub fn plot_command(a: &PlotArgs) -> i32 {
    let out = match (&a.out, &a.dirs[..]) {
        (Some(out), _) => out.as_path(),
        (None, [dir]) => dir.as_path(),
        (None, _) => {
            eprintln!("gcwb: plotting {} directories needs --out DIR for the charts", a.dirs.len());
            return 2;
        }
    };
    let drawn = RunData::read_all(&a.dirs).and_then(|data| draw_data(&data, out, a.format));
    match drawn {
        Ok(written) if written.is_empty() => {
            let dirs: Vec<String> = a.dirs.iter().map(|d| d.display().to_string()).collect();
            eprintln!("gcwb: {}", ChartError::NothingToDraw(PathBuf::from(dirs.join(", "))));
            2
        }
        Ok(written) => {
            for p in written {
                println!("wrote {}", p.display());
            }
            0
        }
        Err(e) => {
            eprintln!("gcwb: {e}");
            2
        }
    }
}

/// Draws a finished run's charts (PNG) into its output directory and prints
/// one line naming them. A failure is a warning on stderr: the results are
/// already written and stay valid.
pub fn draw_after_run(out: &Path) {
    match draw_dir(out, out, Format::Png) {
        Ok(written) if written.is_empty() => {}
        Ok(written) => {
            let names: Vec<String> =
                written.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
            println!("charts in {}/ ({})", out.display(), names.join(", "));
        }
        Err(e) => eprintln!("gcwb: warning: charts not drawn: {e}"),
    }
}

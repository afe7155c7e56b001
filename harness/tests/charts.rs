//! The charts: every kind rendered from a small fixed set of CSV files, in
//! PNG and SVG, and checked for what a reviewer looks at first — a valid
//! image of the promised size, with the title, the axis labels and every
//! collector's legend entry drawn as text inside the canvas — and `gcwb
//! plot`'s answers to bad input.

use harness::charts::{self, Format, RunData};
use std::path::Path;
use std::process::{Command, Output, Stdio};

// ---------------------------------------------------------------------------
// The fixture: one run of three collectors, and a sweep
// ---------------------------------------------------------------------------

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

/// Writes the fixture's CSV files (and a MACHINE.txt) into `dir`.
fn write_fixture(dir: &Path) {
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
    w(
        "summary.csv",
        "trace,collector,procs,gogc,wall_ns,pause_count\n\
         fixture,none,2,100,48000000,0\n\
         fixture,mark-sweep,2,100,60000000,12\n\
         fixture,concurrent,2,100,50000000,16\n"
            .to_string(),
    );
    w("MACHINE.txt", "command: gcwb run\nmachine: 4 cores, x86_64, test machine, 8 GiB\n".to_string());

    let mut pauses = String::from("gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n");
    let mut cycles = String::from(
        "collector,gc,trigger,start_ns,end_ns,heap_live_before,marked_bytes,marked_objects,mark_ns,mark_cpu_ns,sweep_ns,freed_bytes,freed_objects,next_goal\n",
    );
    for k in 1..=12u64 {
        let at = k * 4 * MS;
        let dur = 200 * US + (k * 37 % 11) * 90 * US;
        pauses += &format!("{k},stw-full,{at},{dur},{},heap-goal,mark-sweep\n", 20 * US);
        let before = (8 << 20) + k * 100_000;
        cycles += &format!("mark-sweep,{k},heap-goal,{at},{},{before},{},1,1,1,1,1,1,1\n", at + dur, 4 << 20);
    }
    // The final collection: left out of every chart (its 50 ms would top the axes).
    pauses += "13,stw-full,61000000,50000000,0,final,mark-sweep\n";
    cycles += "mark-sweep,13,final,61000000,111000000,9000000,4000000,1,1,1,1,1,1,1\n";
    for k in 1..=8u64 {
        let at = k * 5 * MS + MS / 2;
        pauses += &format!("{k},sweep-term,{at},{},,heap-goal,concurrent\n", 5 * US + k * US);
        pauses += &format!("{k},mark-term,{},{},,heap-goal,concurrent\n", at + 3 * MS, 30 * US + k * k * US);
        cycles += &format!(
            "concurrent,{k},heap-goal,{at},{},{},{},1,1,1,1,1,1,1\n",
            at + 3 * MS,
            (9 << 20) + k * 50_000,
            5 << 20
        );
    }
    w("pauses.csv", pauses);
    w("cycles.csv", cycles);

    let mut mmu = String::from("collector,window_ns,mmu,bmu\n");
    for (name, knee) in [("none", 0.0), ("mark-sweep", 1.0), ("concurrent", 0.1)] {
        for i in 0..=24 {
            let window = 100_000.0 * 10f64.powf(i as f64 / 8.0);
            let u = if knee == 0.0 { 1.0 } else { (1.0 - knee * 1e6 / window).max(0.0) };
            mmu += &format!("{name},{},{u},{u}\n", window.round());
        }
    }
    w("mmu.csv", mmu);

    let mut spans = String::from("collector,tag,percentile,latency_ns\n");
    let ladder = [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0];
    for (name, scale) in [("none", 1.0), ("mark-sweep", 3.0), ("concurrent", 1.5)] {
        for (tag, base) in [("rpc", 50_000.0), ("batch", 400_000.0)] {
            for (i, p) in ladder.iter().enumerate() {
                let v = base * (1.0 + i as f64 * i as f64 * scale / 4.0);
                spans += &format!("{name},{tag},{p},{}\n", v.round());
            }
        }
    }
    w("span_percentiles.csv", spans);

    let mut sweep = String::from("collector,param,value,metric_median,metric_min,metric_max,metric,workload\n");
    for (name, base) in [("mark-sweep", 3.0 * MS as f64), ("concurrent", 0.2 * MS as f64)] {
        for gogc in [25u64, 50, 100, 200, 400] {
            let m = base * (gogc as f64 / 100.0).sqrt();
            sweep += &format!("{name},gogc,{gogc},{m},{},{},pause_p99_ns,fixture\n", m * 0.9, m * 1.2);
        }
    }
    w("sweep.csv", sweep);
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// Decodes a PNG file; returns its pixels (RGB).
fn png(path: &Path) -> image::RgbImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}: PNG signature", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}: first chunk", path.display());
    image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

/// Whether the image has a pixel of exactly this colour (a collector's line
/// or marker was drawn).
fn has_color(img: &image::RgbImage, rgb: [u8; 3]) -> bool {
    img.pixels().any(|p| p.0 == rgb)
}

/// An SVG document checked to be well-formed XML (every element closed in
/// order, text escaped), with the contents of its `<text>` elements and
/// their positions.
struct Svg {
    width: f64,
    height: f64,
    texts: Vec<(String, f64, f64)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..].split('"').next()?.to_string())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn svg(path: &Path) -> Svg {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut size = None;
    let mut rest = text.as_str();
    let mut open_text: Option<(f64, f64)> = None;
    while let Some(lt) = rest.find('<') {
        let content = &rest[..lt];
        assert!(!content.contains('>'), "{}: stray `>` in {content:?}", path.display());
        for (i, _) in content.match_indices('&') {
            let ent = &content[i..content[i..].find(';').map_or(content.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&ent),
                "{}: bad entity {ent}",
                path.display()
            );
        }
        if let Some((x, y)) = open_text.take() {
            texts.push((unescape(content.trim()), x, y));
        }
        let gt = rest[lt..].find('>').unwrap_or_else(|| panic!("{}: unclosed tag", path.display())) + lt;
        let tag = &rest[lt + 1..gt];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "{}: mismatched </{name}>", path.display());
        } else if !tag.starts_with('?') && !tag.starts_with('!') {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
            if name == "svg" {
                let num = |a| attr(tag, a).and_then(|v| v.parse::<f64>().ok()).unwrap();
                size = Some((num("width"), num("height")));
            }
            if name == "text" {
                let num = |a| attr(tag, a).and_then(|v| v.parse::<f64>().ok()).unwrap();
                open_text = Some((num("x"), num("y")));
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[gt + 1..];
    }
    assert!(stack.is_empty(), "{}: unclosed elements {stack:?}", path.display());
    let (width, height) = size.unwrap_or_else(|| panic!("{}: no <svg> element", path.display()));
    Svg { width, height, texts }
}

impl Svg {
    /// Asserts a `<text>` element says exactly `s`, inside the canvas.
    fn has_text(&self, path: &Path, s: &str) {
        let hit = self.texts.iter().find(|t| t.0 == s);
        let (_, x, y) = hit.unwrap_or_else(|| {
            let all: Vec<&str> = self.texts.iter().map(|t| t.0.as_str()).collect();
            panic!("{}: no text {s:?} among {all:?}", path.display())
        });
        assert!(
            (0.0..=self.width).contains(x) && (0.0..=self.height).contains(y),
            "{}: {s:?} at ({x}, {y})",
            path.display()
        );
    }
}

/// What each chart must say: its file stem and texts (title, subtitle, axis
/// labels, legend entries, telling ticks).
fn expected_texts() -> Vec<(&'static str, Vec<&'static str>)> {
    let subtitle = "2 procs, GOGC 100 · 4 cores, x86_64, test machine, 8 GiB";
    vec![
        (
            "pause-percentiles",
            vec![
                "Pause time percentiles — fixture",
                subtitle,
                "percentile",
                "pause duration (log scale)",
                "mark-sweep (12 pauses)",
                "concurrent (16 pauses)",
                "none: no pauses",
                "50%",
                "99.9%",
                "max",
                "1 ms",
            ],
        ),
        (
            "mmu",
            vec![
                "Minimum mutator utilization — fixture",
                subtitle,
                "window size (log scale)",
                "mutator utilization (share of CPU)",
                "none",
                "mark-sweep",
                "concurrent",
                "MMU",
                "BMU",
                "1 ms",
            ],
        ),
        (
            "pause-timeline",
            vec![
                "Pauses and heap over time — fixture",
                subtitle,
                "time since the run started (ms)",
                "pause (log)",
                "heap (MiB)",
                "mark-sweep: stw-full",
                "concurrent: sweep-term",
                "concurrent: mark-term",
                "heap in use (right axis)",
                "none: no pauses",
            ],
        ),
        (
            "request-latency",
            vec![
                "Request latency percentiles — fixture",
                subtitle,
                "percentile",
                "request latency (log scale)",
                // One panel per tag, one line per collector in each.
                "`rpc` requests",
                "`batch` requests",
                "none",
                "mark-sweep",
                "concurrent",
                "99.99%",
                "max",
            ],
        ),
        (
            "sweep",
            vec![
                "p99 pause vs GOGC — fixture",
                "4 cores, x86_64, test machine, 8 GiB",
                "GOGC (%, log scale)",
                "p99 pause (log scale)",
                "mark-sweep",
                "concurrent",
                "bars: min–max",
                "25",
                "400",
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

#[test]
fn every_chart_kind_renders_as_svg_with_title_axis_labels_and_legend_as_text() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let out = dir.path().join("svg");
    let written = charts::draw_dir(dir.path(), &out, Format::Svg).unwrap();
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["pause-percentiles.svg", "mmu.svg", "pause-timeline.svg", "request-latency.svg", "sweep.svg"]);
    for (stem, texts) in expected_texts() {
        let path = out.join(format!("{stem}.svg"));
        let doc = svg(&path);
        assert_eq!(doc.width, 1200.0, "{stem}");
        assert!(doc.height >= 800.0, "{stem}");
        for t in texts {
            doc.has_text(&path, t);
        }
    }
    // No temporaries left by the atomic writes.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn every_chart_kind_renders_as_png_of_the_promised_size_in_the_collectors_colours() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let written = charts::draw_dir(dir.path(), dir.path(), Format::Png).unwrap();
    assert_eq!(written.len(), 5);
    let mark_sweep = [0, 114, 178];
    let concurrent = [213, 94, 0];
    for (stem, _) in expected_texts() {
        let path = dir.path().join(format!("{stem}.png"));
        let img = png(&path);
        assert_eq!(img.width(), 1200, "{stem}");
        assert!(img.height() >= 800, "{stem}: {}", img.height());
        assert!(has_color(&img, mark_sweep) && has_color(&img, concurrent), "{stem}: a collector's colour is missing");
        // Text was drawn: dark pixels in the title band.
        let dark_in_title = (0..img.width()).flat_map(|x| (0..60).map(move |y| (x, y))).any(|(x, y)| {
            let p = img.get_pixel(x, y).0;
            p.iter().all(|c| *c < 80)
        });
        assert!(dark_in_title, "{stem}: no title drawn");
    }
}

/// `GCWB_KEEP_CHARTS=DIR cargo test --test charts` leaves the fixture and
/// its charts (PNG and SVG) in DIR, to look at.
#[test]
fn fixture_charts_are_kept_on_request() {
    let Some(keep) = std::env::var_os("GCWB_KEEP_CHARTS") else { return };
    let keep = Path::new(&keep);
    std::fs::create_dir_all(keep).unwrap();
    write_fixture(keep);
    charts::draw_dir(keep, keep, Format::Png).unwrap();
    charts::draw_dir(keep, keep, Format::Svg).unwrap();
}

#[test]
fn the_final_collection_is_left_out_of_the_pause_charts() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let data = RunData::read(dir.path()).unwrap();
    let palette = charts::Palette::for_names(data.collectors().iter().map(String::as_str));
    let c = charts::pauses::chart(&data, &palette, &data.titles()).unwrap();
    let top = c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0f64, f64::max);
    assert!(top < 2e6, "the 50 ms final pause was drawn: max {top}");
    let t = charts::timeline::chart(&data, &palette, &data.titles()).unwrap();
    assert!(t.panels.iter().all(|p| p.pauses.iter().all(|q| q.1 < 2e6)));
    assert_eq!(t.without, ["none"]);
}

#[test]
fn a_directory_without_spans_or_a_sweep_draws_the_other_charts_only_and_drops_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    charts::draw_dir(dir.path(), dir.path(), Format::Png).unwrap();
    assert!(dir.path().join("request-latency.png").is_file());
    std::fs::write(dir.path().join("span_percentiles.csv"), "collector,tag,percentile,latency_ns\n").unwrap();
    std::fs::remove_file(dir.path().join("sweep.csv")).unwrap();
    let written = charts::draw_dir(dir.path(), dir.path(), Format::Png).unwrap();
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["pause-percentiles.png", "mmu.png", "pause-timeline.png"]);
    assert!(!dir.path().join("request-latency.png").exists(), "a stale chart from the earlier data was left");
}

#[test]
fn a_sweep_alone_draws_its_chart_named_after_its_workload() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let sweep = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    let only = tempfile::tempdir().unwrap();
    std::fs::write(only.path().join("sweep.csv"), sweep).unwrap();
    let written = charts::draw_dir(only.path(), only.path(), Format::Svg).unwrap();
    assert_eq!(written, [only.path().join("sweep.svg")]);
    let doc = svg(&written[0]);
    doc.has_text(&written[0], "p99 pause vs GOGC — fixture");
}

#[test]
fn a_sweep_of_several_metrics_draws_one_chart_each_with_axes_that_suit_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut sweep = String::from("metric,collector,param,value,metric_median,metric_min,metric_max\n");
    for (name, rate) in [("mark-sweep", 2.0e6), ("concurrent", 2.5e6)] {
        for procs in 1..=4 {
            let m = rate * procs as f64;
            sweep += &format!("events_per_s,{name},procs,{procs},{m},{},{}\n", m * 0.95, m * 1.05);
            let heap = (40 << 20) + procs * (1 << 20);
            sweep += &format!("peak_heap_bytes,{name},procs,{procs},{heap},{heap},{heap}\n");
        }
    }
    std::fs::write(dir.path().join("sweep.csv"), sweep).unwrap();
    let written = charts::draw_dir(dir.path(), dir.path(), Format::Svg).unwrap();
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["sweep-events_per_s.svg", "sweep-peak_heap_bytes.svg"]);
    // Linear axes: one unit for the axis, named in its label.
    let path = &written[0];
    let doc = svg(path);
    for t in ["Throughput vs procs", "procs (GOMAXPROCS)", "throughput (M events/s)", "mark-sweep", "1", "4"] {
        let t = if t.starts_with("Throughput") { format!("{t} — {}", dir_name(dir.path())) } else { t.to_string() };
        doc.has_text(path, &t);
    }
    let path = &written[1];
    let doc = svg(path);
    doc.has_text(path, "peak heap (MiB)");
    // The error bar of a row with median outside min–max is refused.
    std::fs::write(
        dir.path().join("sweep.csv"),
        "collector,param,value,metric_median,metric_min,metric_max\nms,gogc,100,5,6,7\n",
    )
    .unwrap();
    let e = charts::draw_dir(dir.path(), dir.path(), Format::Png).unwrap_err().to_string();
    assert!(e.contains("sweep.csv: line 2: column `metric_median`: expected a median between"), "{e}");
}

fn dir_name(p: &Path) -> String {
    p.canonicalize().unwrap().file_name().unwrap().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------
// `gcwb plot` and `gcwb run`
// ---------------------------------------------------------------------------

fn gcwb(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcwb"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("gcwb runs")
}

/// Asserts exit code 2 and exactly one line on stderr containing every
/// fragment.
fn assert_bad_input(o: &Output, fragments: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.ends_with('\n') && err.lines().count() == 1, "one line expected: {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    for f in fragments {
        assert!(err.contains(f), "expected {f:?} in {err:?}");
    }
}

#[test]
fn plot_redraws_every_chart_into_out_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let o = gcwb(dir.path(), &["plot", ".", "--format", "svg", "--out", "charts"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for stem in ["pause-percentiles", "mmu", "pause-timeline", "request-latency", "sweep"] {
        let f = format!("charts/{stem}.svg");
        assert!(out.contains(&f), "{f} not named in {out}");
        assert!(dir.path().join(&f).is_file(), "{f}");
    }
    let o = gcwb(dir.path(), &["plot", "."]);
    assert_eq!(o.status.code(), Some(0));
    assert!(dir.path().join("mmu.png").is_file());
}

#[test]
fn plot_of_a_missing_directory_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_bad_input(&gcwb(dir.path(), &["plot", "no-such-dir"]), &["gcwb: no-such-dir: no such directory"]);
}

#[test]
fn plot_of_a_malformed_pauses_csv_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let path = dir.path().join("pauses.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen("2,stw-full,8000000,", "2,stw-full,8000000x,", 1);
    std::fs::write(&path, text).unwrap();
    let o = gcwb(dir.path(), &["plot", "."]);
    assert_bad_input(&o, &["pauses.csv: line 3: column `start_ns`: expected a whole number, got `8000000x`"]);
    assert!(!dir.path().join("pause-percentiles.png").exists(), "a chart was drawn from a malformed file");

    // A row with too few fields.
    std::fs::write(&path, "gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n1,stw-full,5,6,,,ms\n2,stw-full\n")
        .unwrap();
    assert_bad_input(
        &gcwb(dir.path(), &["plot", "."]),
        &["pauses.csv: line 3: expected 7 fields as in the header, found 2"],
    );
}

#[test]
fn plot_of_a_directory_with_nothing_to_draw_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("causes.csv"), "cause,placement,count,bytes\n").unwrap();
    assert_bad_input(&gcwb(dir.path(), &["plot", "."]), &["nothing to draw"]);
}

#[test]
fn run_draws_its_charts_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/traces/seed-example.gct");
    let seed = seed.to_str().unwrap();
    let o = gcwb(dir.path(), &["run", "-q", "--procs", "2", seed, "--out", "with"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("charts in with/"));
    assert_eq!(png(&dir.path().join("with/mmu.png")).width(), 1200);

    let o = gcwb(dir.path(), &["run", "-q", "--procs", "2", seed, "--out", "without", "--no-charts"]);
    assert_eq!(o.status.code(), Some(0));
    let pngs = std::fs::read_dir(dir.path().join("without"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(pngs, 0);
}

// ---------------------------------------------------------------------------
// Several directories on one chart; imported logs
// ---------------------------------------------------------------------------

/// Writes what `gcwb import` writes of a short log into `dir`: a summary row
/// naming its format, three pauses, cycles without a marked heap (a JVM
/// log's), stalls and an MMU curve.
fn write_import(dir: &Path, label: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
    w(
        "summary.csv",
        format!("trace,collector,procs,gogc,wall_ns,pause_count,imported_from\ngc.log,{label},,,,3,jvm-gc-log\n"),
    );
    let mut pauses = String::from("gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n");
    let mut cycles = String::from(
        "collector,gc,trigger,start_ns,end_ns,heap_live_before,marked_bytes,marked_objects,mark_ns,mark_cpu_ns,\
         sweep_ns,freed_bytes,freed_objects,next_goal,heap_live_after,young_bytes,promoted_bytes,copied_bytes,\
         survival_rate,dirty_cards\n",
    );
    for k in 0..3u64 {
        let at = 10 * MS + k * 15 * MS;
        pauses += &format!("{k},mark-start,{at},{},,warmup,{label}\n", 10 * US);
        cycles += &format!("{label},{k},warmup,{at},{},{},,,,,,,,,{},,,,,\n", at + 5 * MS, 60 << 20, 20 << 20);
    }
    w("pauses.csv", pauses);
    w("cycles.csv", cycles);
    let mut mmu = String::from("collector,window_ns,mmu,bmu\n");
    for i in 0..=16 {
        let window = 100_000.0 * 10f64.powf(i as f64 / 8.0);
        let u = (1.0 - 5e6 / window).max(0.0);
        mmu += &format!("{label},{},{u},{u}\n", window.round());
    }
    w("mmu.csv", mmu);
}

#[test]
fn imported_series_are_dashed_with_square_markers_and_their_heap_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let (run, zgc) = (dir.path().join("run"), dir.path().join("zgc"));
    std::fs::create_dir_all(&run).unwrap();
    write_fixture(&run);
    write_import(&zgc, "jvm-zgc");
    let data = RunData::read_all(&[run, zgc]).unwrap();
    assert_eq!(data.imported(), ["jvm-zgc"]);
    let palette = charts::Palette::for_names(data.collectors().iter().map(String::as_str))
        .imported(data.imported().iter().map(String::as_str));
    let titles = data.titles();

    let pauses = charts::pauses::chart(&data, &palette, &titles).unwrap();
    let style = |label: &str| {
        let s = pauses.series.iter().find(|s| s.label.starts_with(label)).unwrap();
        (s.line, s.marker)
    };
    assert_eq!(style("jvm-zgc"), (charts::style::Line::Dashed, charts::style::Marker::Square));
    assert_eq!(style("mark-sweep"), (charts::style::Line::Solid, charts::style::Marker::Circle));
    let mmu = charts::mmu::chart(&data, &palette, &titles).unwrap();
    let line = |name: &str| mmu.curves.iter().find(|c| c.collector == name).unwrap().line;
    assert_eq!((line("jvm-zgc"), line("concurrent")), (charts::style::Line::Dashed, charts::style::Line::Solid));
    // The import's cycles have no marked bytes: the heap after each is its
    // `heap_live_after`.
    let timeline = charts::timeline::chart(&data, &palette, &titles).unwrap();
    let panel = timeline.panels.iter().find(|p| p.collector == "jvm-zgc").unwrap();
    assert!(panel.imported);
    assert_eq!(panel.heap[..2], [(10.0 * MS as f64, (60u64 << 20) as f64), (15.0 * MS as f64, (20u64 << 20) as f64)]);
}

#[test]
fn plot_of_several_directories_draws_one_set_of_charts_with_clashing_names_prefixed() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["run", "rerun"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
        write_fixture(&dir.path().join(d));
    }
    write_import(&dir.path().join("zgc"), "jvm-zgc");
    let o = gcwb(dir.path(), &["plot", "run", "zgc", "rerun", "--out", "all", "--format", "svg"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let expect: [(&str, &[&str]); 3] = [
        (
            "pause-percentiles",
            &[
                "run/mark-sweep (12 pauses)",
                "rerun/mark-sweep (12 pauses)",
                "rerun/concurrent (16 pauses)",
                "jvm-zgc (3 pauses)",
                "dashed, squares: imported runtime logs",
            ],
        ),
        ("mmu", &["run/none", "rerun/concurrent", "jvm-zgc", "dashed: imported runtime logs", "BMU"]),
        (
            "pause-timeline",
            &["jvm-zgc (imported log)", "run/concurrent", "heap in use (right axis)", "jvm-zgc: mark-start"],
        ),
    ];
    for (stem, texts) in expect {
        let path = dir.path().join("all").join(format!("{stem}.svg"));
        let doc = svg(&path);
        for t in texts {
            doc.has_text(&path, t);
        }
    }
    // Several directories need somewhere to draw.
    assert_bad_input(&gcwb(dir.path(), &["plot", "run", "zgc"]), &["plotting 2 directories needs --out DIR"]);
    assert_bad_input(&gcwb(dir.path(), &["plot", "run", "nowhere", "--out", "x"]), &["nowhere: no such directory"]);
}

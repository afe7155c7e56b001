//! `gcwb stats`: a trace's demographics — what it is made of and how long
//! its heap blocks live — without replaying it.
//!
//! - [`stats_command`]: load a trace file, analyse it, print the report and,
//!   with an output directory, write the CSV files below;
//! - [`stats_for_trace`]: the same for a trace already prepared, giving a
//!   [`Stats`];
//! - [`Stats::report`] renders the readable report, [`Stats::write_csv`]
//!   the files.
//!
//! The numbers are [`workloads::analysis::demographics`]'s, under the
//! placements escape analysis decides (as `gcwb run` without `--no-stack`);
//! see that module for the exact definitions (lifetime, the two mean live
//! heaps, "dies within").
//!
//! Files, each written through a temporary file and a rename
//! ([`crate::report::write_atomically`]):
//!
//! | file | one row per | columns |
//! |---|---|---|
//! | `demographics.csv` | trace | `trace,events,goroutines,peak_goroutines,globals,allocs,alloc_bytes,heap_allocs,heap_bytes,stack_allocs,stack_bytes,peak_live_heap_bytes,peak_live_heap_event,mean_live_heap_bytes_by_event,mean_live_heap_bytes_by_alloc,peak_live_stack_bytes,immortal_blocks,immortal_bytes,frac_die_1k,frac_die_1m,frac_die_10m,frac_bytes_die_1k,frac_bytes_die_1m,frac_bytes_die_10m` |
//! | `events.csv` | event kind | `kind,count` |
//! | `allocations.csv` | Go cause × placement | `cause,placement,count,bytes` |
//! | `lifetimes.csv` | lifetime bucket, from 0 up to the last non-empty one | `bucket_lo_bytes,bucket_hi_bytes,blocks,bytes,cum_frac_blocks`, then `cum_frac_bytes,immortal_blocks` |
//!
//! `peak_live_heap_event` is the 0-based index of the event in trace order
//! (the report names it as the trace does: `line 12`, or `event N` counting
//! from 1 for a trace built in memory).
//!
//! In `lifetimes.csv` a bucket holds the heap blocks whose lifetime is in
//! `[bucket_lo_bytes, bucket_hi_bytes)` (the first bucket is `[0, 1)`,
//! lifetime 0); `bytes` is the blocks' own declared size; immortal blocks are
//! included and also counted in `immortal_blocks`.

use crate::report::write_atomically;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use workloads::analysis::demographics::{demographics, Demographics, EventKind, LifetimeHistogram};
use workloads::analysis::{Place, PreparedTrace};
use workloads::model::Cause;

/// The CSV files [`Stats::write_csv`] writes, in order.
pub const STATS_FILES: [&str; 4] = ["demographics.csv", "events.csv", "allocations.csv", "lifetimes.csv"];

/// A trace's demographics, named.
#[derive(Clone, Debug)]
pub struct Stats {
    /// The trace's name in reports (the file name, or the workload's).
    pub name: String,
    pub demographics: Demographics,
    /// Where the live heap first peaks, as the trace names it (`line 12`).
    pub peak_heap_pos: String,
}

/// The demographics of a prepared trace, under escape analysis's
/// placements (the oracle's death times are the prepared trace's own,
/// computed once).
pub fn stats_for_trace(name: &str, prepared: &PreparedTrace) -> Stats {
    let placements = prepared.placements(false);
    let deaths = prepared.deaths(false);
    let d = demographics(prepared, placements, deaths);
    let peak_heap_pos = if d.events == 0 { "start".to_string() } else { prepared.pos(d.peak_live_heap_event as usize) };
    Stats { name: name.to_string(), demographics: d, peak_heap_pos }
}

/// `gcwb stats TRACE [--out DIR]`: prints the demographics of the trace at
/// `path` and, with `out`, writes [`STATS_FILES`] into it. Returns the exit
/// code: 0, or 2 for a trace that cannot be read or is unsound (one line
/// `gcwb: <message>` on stderr) or results that cannot be written.
pub fn stats_command(path: &Path, out: Option<&Path>) -> i32 {
    if let Some(Err(msg)) = out.map(crate::args::check_writable) {
        eprintln!("gcwb: {msg}");
        return 2;
    }
    let prepared = match crate::engine::prepare(&crate::engine::TraceSource::File(path.to_path_buf()), true) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let stats = stats_for_trace(&name, &prepared.trace);
    print!("{}", stats.report());
    if let Some(dir) = out {
        if let Err(e) = stats.write_csv(dir) {
            eprintln!("gcwb: cannot write results to {}: {e}", dir.display());
            return 2;
        }
        println!("\nresults in {}/ ({})", dir.display(), STATS_FILES.join(", "));
    }
    0
}

#[derive(Serialize)]
struct DemographicsRow<'a> {
    trace: &'a str,
    events: u64,
    goroutines: u64,
    peak_goroutines: u64,
    globals: u32,
    allocs: u64,
    alloc_bytes: u64,
    heap_allocs: u64,
    heap_bytes: u64,
    stack_allocs: u64,
    stack_bytes: u64,
    peak_live_heap_bytes: u64,
    peak_live_heap_event: u32,
    mean_live_heap_bytes_by_event: f64,
    mean_live_heap_bytes_by_alloc: f64,
    peak_live_stack_bytes: u64,
    immortal_blocks: u64,
    immortal_bytes: u64,
    frac_die_1k: f64,
    frac_die_1m: f64,
    frac_die_10m: f64,
    frac_bytes_die_1k: f64,
    frac_bytes_die_1m: f64,
    frac_bytes_die_10m: f64,
}

const DEMOGRAPHICS_HEADER: [&str; 24] = [
    "trace",
    "events",
    "goroutines",
    "peak_goroutines",
    "globals",
    "allocs",
    "alloc_bytes",
    "heap_allocs",
    "heap_bytes",
    "stack_allocs",
    "stack_bytes",
    "peak_live_heap_bytes",
    "peak_live_heap_event",
    "mean_live_heap_bytes_by_event",
    "mean_live_heap_bytes_by_alloc",
    "peak_live_stack_bytes",
    "immortal_blocks",
    "immortal_bytes",
    "frac_die_1k",
    "frac_die_1m",
    "frac_die_10m",
    "frac_bytes_die_1k",
    "frac_bytes_die_1m",
    "frac_bytes_die_10m",
];

#[derive(Serialize)]
struct EventRow {
    kind: &'static str,
    count: u64,
}

#[derive(Serialize)]
struct AllocationRow {
    cause: &'static str,
    placement: &'static str,
    count: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct LifetimeRow {
    bucket_lo_bytes: u64,
    /// Empty for the last bucket, whose bound is 2^64.
    bucket_hi_bytes: Option<u64>,
    blocks: u64,
    bytes: u64,
    cum_frac_blocks: f64,
    cum_frac_bytes: f64,
    immortal_blocks: u64,
}

const PLACES: [(Place, &str); 2] = [(Place::Heap, "heap"), (Place::Stack, "stack")];

fn csv_bytes<T: Serialize>(rows: impl IntoIterator<Item = T>, header: &[&str]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.serialize(r).map_err(std::io::Error::other)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Stats {
    /// The rows of `lifetimes.csv`: every bucket from 0 up to the last
    /// non-empty one.
    fn lifetime_rows(&self) -> Vec<LifetimeRow> {
        let d = &self.demographics;
        let h = &d.lifetimes;
        let (mut cum_blocks, mut cum_bytes) = (0u64, 0u64);
        (0..h.used().end)
            .map(|k| {
                cum_blocks += h.blocks[k];
                cum_bytes += h.bytes[k];
                let (lo, hi) = LifetimeHistogram::bounds(k);
                LifetimeRow {
                    bucket_lo_bytes: lo,
                    bucket_hi_bytes: hi,
                    blocks: h.blocks[k],
                    bytes: h.bytes[k],
                    cum_frac_blocks: ratio(cum_blocks, d.heap_blocks),
                    cum_frac_bytes: ratio(cum_bytes, d.heap_bytes),
                    immortal_blocks: h.immortal[k],
                }
            })
            .collect()
    }

    fn demographics_row(&self) -> DemographicsRow<'_> {
        let d = &self.demographics;
        let w = &d.die_within;
        DemographicsRow {
            trace: &self.name,
            events: d.events,
            goroutines: d.goroutines,
            peak_goroutines: d.peak_goroutines,
            globals: d.globals,
            allocs: d.heap_blocks + d.stack_blocks,
            alloc_bytes: d.heap_bytes + d.stack_bytes,
            heap_allocs: d.heap_blocks,
            heap_bytes: d.heap_bytes,
            stack_allocs: d.stack_blocks,
            stack_bytes: d.stack_bytes,
            peak_live_heap_bytes: d.peak_live_heap_bytes,
            peak_live_heap_event: d.peak_live_heap_event,
            mean_live_heap_bytes_by_event: d.mean_live_heap_by_event,
            mean_live_heap_bytes_by_alloc: d.mean_live_heap_by_alloc,
            peak_live_stack_bytes: d.peak_live_stack_bytes,
            immortal_blocks: d.immortal_blocks,
            immortal_bytes: d.immortal_bytes,
            frac_die_1k: w[0].frac_blocks,
            frac_die_1m: w[1].frac_blocks,
            frac_die_10m: w[2].frac_blocks,
            frac_bytes_die_1k: w[0].frac_bytes,
            frac_bytes_die_1m: w[1].frac_bytes,
            frac_bytes_die_10m: w[2].frac_bytes,
        }
    }

    /// Writes [`STATS_FILES`] into `dir` (created if missing). All files are
    /// rendered first, then each is renamed into place.
    pub fn write_csv(&self, dir: &Path) -> std::io::Result<()> {
        let d = &self.demographics;
        let demo = csv_bytes([self.demographics_row()], &DEMOGRAPHICS_HEADER)?;
        let events = csv_bytes(
            EventKind::ALL.iter().map(|&k| EventRow { kind: k.name(), count: d.count(k) }),
            &["kind", "count"],
        )?;
        let allocations = csv_bytes(
            Cause::ALL.iter().flat_map(|&cause| {
                PLACES.iter().map(move |&(place, placement)| {
                    let t = d.tally(cause, place);
                    AllocationRow { cause: cause.name(), placement, count: t.count, bytes: t.bytes }
                })
            }),
            &["cause", "placement", "count", "bytes"],
        )?;
        let lifetimes = csv_bytes(
            self.lifetime_rows(),
            &[
                "bucket_lo_bytes",
                "bucket_hi_bytes",
                "blocks",
                "bytes",
                "cum_frac_blocks",
                "cum_frac_bytes",
                "immortal_blocks",
            ],
        )?;
        for (name, bytes) in STATS_FILES.iter().zip([demo, events, allocations, lifetimes]) {
            write_atomically(&dir.join(name), &bytes)?;
        }
        Ok(())
    }

    /// The readable report: a header line and a few aligned tables.
    pub fn report(&self) -> String {
        let d = &self.demographics;
        let mut s = String::new();
        let plural = |n: u64, one: &str, many: &str| if n == 1 { one.to_string() } else { many.to_string() };
        let _ = writeln!(
            s,
            "{}: {} events, {} {} ({} at most at once), {} {}",
            self.name,
            group(d.events),
            group(d.goroutines),
            plural(d.goroutines, "goroutine", "goroutines"),
            d.peak_goroutines,
            d.globals,
            plural(d.globals as u64, "global", "globals"),
        );

        let _ = writeln!(s, "\nevents\n  {:<8} {:>12} {:>7}", "kind", "count", "%");
        for k in EventKind::ALL {
            let n = d.count(k);
            let _ = writeln!(s, "  {:<8} {:>12} {:>7}", k.name(), group(n), pct(n, d.events));
        }
        let _ = writeln!(s, "  {:<8} {:>12} {:>7}", "total", group(d.events), pct(d.events, d.events));

        let _ = writeln!(
            s,
            "\nallocations\n  {:<11} {:<9} {:>12} {:>7} {:>16} {:>7}",
            "cause", "placement", "count", "%", "bytes", "%"
        );
        let (all_count, all_bytes) = (d.heap_blocks + d.stack_blocks, d.heap_bytes + d.stack_bytes);
        for cause in Cause::ALL {
            for (place, placement) in PLACES {
                let t = d.tally(cause, place);
                if t.count > 0 {
                    let _ = writeln!(
                        s,
                        "  {:<11} {:<9} {:>12} {:>7} {:>16} {:>7}",
                        cause.name(),
                        placement,
                        group(t.count),
                        pct(t.count, all_count),
                        group(t.bytes),
                        pct(t.bytes, all_bytes)
                    );
                }
            }
        }
        for (label, count, bytes) in [
            ("all heap", d.heap_blocks, d.heap_bytes),
            ("all stack", d.stack_blocks, d.stack_bytes),
            ("total", all_count, all_bytes),
        ] {
            let _ = writeln!(
                s,
                "  {:<21} {:>12} {:>7} {:>16} {:>7}",
                label,
                group(count),
                pct(count, all_count),
                group(bytes),
                pct(bytes, all_bytes)
            );
        }

        let _ = writeln!(s, "\nlive memory (declared sizes)");
        let rows = [
            ("peak live heap", bytes(d.peak_live_heap_bytes), format!("after {}", self.peak_heap_pos)),
            ("mean live heap", bytes_f(d.mean_live_heap_by_event), "time in events: mean after each event".to_string()),
            (
                "mean live heap",
                bytes_f(d.mean_live_heap_by_alloc),
                "time in heap bytes allocated: as each allocated byte sees it".to_string(),
            ),
            ("peak live stack blocks", bytes(d.peak_live_stack_bytes), String::new()),
            (
                "immortal heap blocks",
                format!("{} ({})", group(d.immortal_blocks), bytes(d.immortal_bytes)),
                format!("{}% of heap blocks, still reachable at the end", pct(d.immortal_blocks, d.heap_blocks)),
            ),
        ];
        for (label, value, note) in rows {
            let line = format!("  {label:<23} {value:>22}  {note}");
            let _ = writeln!(s, "{}", line.trim_end());
        }

        let _ = writeln!(
            s,
            "\nheap-block lifetimes (heap bytes allocated from birth to death; immortal: to the end)\n  {:<22} {:>12} {:>7} {:>7} {:>16} {:>7} {:>10}",
            "lifetime", "blocks", "%", "cum %", "bytes", "cum %", "immortal"
        );
        let h = &d.lifetimes;
        let (mut cum_blocks, mut cum_bytes) = (0u64, 0u64);
        for k in h.used() {
            cum_blocks += h.blocks[k];
            cum_bytes += h.bytes[k];
            let label = match LifetimeHistogram::bounds(k) {
                (0, _) => "0".to_string(),
                (lo, Some(hi)) => format!("[{}, {})", bytes(lo), bytes(hi)),
                (lo, None) => format!("[{}, 16 EiB)", bytes(lo)),
            };
            let _ = writeln!(
                s,
                "  {:<22} {:>12} {:>7} {:>7} {:>16} {:>7} {:>10}",
                label,
                group(h.blocks[k]),
                pct(h.blocks[k], d.heap_blocks),
                pct(cum_blocks, d.heap_blocks),
                group(h.bytes[k]),
                pct(cum_bytes, d.heap_bytes),
                group(h.immortal[k])
            );
        }
        if d.heap_blocks == 0 {
            let _ = writeln!(s, "  (no heap blocks)");
        }

        let _ = writeln!(
            s,
            "\nheap blocks that die within (lifetime below the limit; immortal blocks never do)\n  {:<8} {:>12} {:>9} {:>16} {:>9}",
            "limit", "blocks", "% blocks", "bytes", "% bytes"
        );
        for w in &d.die_within {
            let _ = writeln!(
                s,
                "  {:<8} {:>12} {:>9} {:>16} {:>9}",
                bytes(w.limit_bytes),
                group(w.blocks),
                format!("{:.1}", w.frac_blocks * 100.0),
                group(w.bytes),
                format!("{:.1}", w.frac_bytes * 100.0)
            );
        }
        s
    }
}

/// `n` with thousands separators: `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `part` as a percentage of `whole`, one decimal (`–` when `whole` is 0).
fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_string()
    } else {
        format!("{:.1}", part as f64 * 100.0 / whole as f64)
    }
}

/// A byte count in binary units: exact for powers of two (`512 B`,
/// `1 KiB`, `10 MiB`), else one decimal (`24.6 MiB`).
fn bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut u = 0;
    while u + 1 < UNITS.len() && n >= 1u64 << (10 * (u + 1)) {
        u += 1;
    }
    let unit = 1u64 << (10 * u);
    if n.is_multiple_of(unit) {
        format!("{} {}", n / unit, UNITS[u])
    } else {
        format!("{:.1} {}", n as f64 / unit as f64, UNITS[u])
    }
}

fn bytes_f(x: f64) -> String {
    let r = x.round() as u64;
    if r < 1024 {
        format!("{x:.1} B")
    } else {
        bytes(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_as_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(10 << 20), "10 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1 << 63), "8 EiB");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(group(999), "999");
    }
}

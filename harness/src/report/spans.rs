//! The request-span files of a run: `spans.csv` (per collector and tag:
//! latency percentiles and where the time went), `span_percentiles.csv`
//! (a percentile ladder of each latency kind) and `span_log.csv.gz` (every
//! span, gzipped: a server run has hundreds of thousands; pandas and R read
//! it as it is). What the latencies mean is in [`crate::latency`].

use super::csv_bytes;
use crate::latency::{self, TagLatency};
use crate::replay::RunResult;
use hdrhistogram::Histogram;
use serde::Serialize;

/// The percentiles of each span tag's latency in `span_percentiles.csv`: a
/// "nines" ladder, so a percentile chart has points all along its tail
/// (0 is the minimum, 100 the maximum).
pub const SPAN_PERCENTILES: [f64; 11] = [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0];

/// The value at percentile `p` (0: the minimum, 100: the maximum).
fn at(h: &Histogram<u64>, p: f64) -> u64 {
    match p {
        p if p <= 0.0 => h.min(),
        p if p >= 100.0 => h.max(),
        p => h.value_at_quantile(p / 100.0),
    }
}

/// The latency summary of each span tag of each run, with the run:
/// computed once, read by [`spans_csv`] and [`span_percentiles_csv`].
pub type Summaries<'r> = Vec<(&'r RunResult, TagLatency)>;

/// The [`Summaries`] of `runs`.
pub fn summaries(runs: &[RunResult]) -> Summaries<'_> {
    runs.iter()
        .flat_map(|r| latency::summarize(&r.span_tags, &r.span_records).into_iter().map(move |t| (r, t)))
        .collect()
}

#[derive(Serialize)]
struct SpanRow<'a> {
    collector: &'a str,
    tag: &'a str,
    count: u64,
    p50_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    max_ns: u64,
    wall_p50_ns: u64,
    wall_p99_ns: u64,
    wall_max_ns: u64,
    metered_100ms_p50_ns: u64,
    metered_100ms_p99_ns: u64,
    metered_100ms_p999_ns: u64,
    metered_full_p50_ns: u64,
    metered_full_p99_ns: u64,
    metered_full_p999_ns: u64,
    mean_wall_ns: f64,
    mean_latency_ns: f64,
    mean_running_ns: f64,
    mean_paused_ns: f64,
    mean_assist_ns: f64,
    mean_dep_wait_ns: f64,
    mean_queued_ns: f64,
}

const SPANS_HEADER: [&str; 23] = [
    "collector",
    "tag",
    "count",
    "p50_ns",
    "p99_ns",
    "p999_ns",
    "max_ns",
    "wall_p50_ns",
    "wall_p99_ns",
    "wall_max_ns",
    "metered_100ms_p50_ns",
    "metered_100ms_p99_ns",
    "metered_100ms_p999_ns",
    "metered_full_p50_ns",
    "metered_full_p99_ns",
    "metered_full_p999_ns",
    "mean_wall_ns",
    "mean_latency_ns",
    "mean_running_ns",
    "mean_paused_ns",
    "mean_assist_ns",
    "mean_dep_wait_ns",
    "mean_queued_ns",
];

/// `spans.csv`: per run and tag, the headline latency's percentiles (the
/// first columns, as always), wall and metered percentiles, and the mean
/// split of a span's time.
pub fn spans_csv(summaries: &Summaries<'_>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        summaries.iter().map(|(r, t)| {
            let s = t.split;
            let wall = t.running_ns + s.paused_ns + s.assist_ns + s.dep_wait_ns + s.queued_ns;
            SpanRow {
                collector: &r.collector,
                tag: &t.tag,
                count: t.count,
                p50_ns: at(&t.latency, 50.0),
                p99_ns: at(&t.latency, 99.0),
                p999_ns: at(&t.latency, 99.9),
                max_ns: t.latency.max(),
                wall_p50_ns: at(&t.wall, 50.0),
                wall_p99_ns: at(&t.wall, 99.0),
                wall_max_ns: t.wall.max(),
                metered_100ms_p50_ns: at(&t.metered_100ms, 50.0),
                metered_100ms_p99_ns: at(&t.metered_100ms, 99.0),
                metered_100ms_p999_ns: at(&t.metered_100ms, 99.9),
                metered_full_p50_ns: at(&t.metered_full, 50.0),
                metered_full_p99_ns: at(&t.metered_full, 99.0),
                metered_full_p999_ns: at(&t.metered_full, 99.9),
                mean_wall_ns: t.mean(wall),
                mean_latency_ns: t.mean(t.running_ns + s.paused_ns + s.assist_ns),
                mean_running_ns: t.mean(t.running_ns),
                mean_paused_ns: t.mean(s.paused_ns),
                mean_assist_ns: t.mean(s.assist_ns),
                mean_dep_wait_ns: t.mean(s.dep_wait_ns),
                mean_queued_ns: t.mean(s.queued_ns),
            }
        }),
        &SPANS_HEADER,
    )
}

#[derive(Serialize)]
struct SpanPercentileRow<'a> {
    collector: &'a str,
    tag: &'a str,
    percentile: f64,
    latency_ns: u64,
    wall_ns: u64,
    metered_100ms_ns: u64,
    metered_full_ns: u64,
}

/// `span_percentiles.csv`: for each run and span tag with requests, each
/// latency kind at each of [`SPAN_PERCENTILES`] (HdrHistogram's values, 3
/// significant digits). `latency_ns` is the headline latency.
pub fn span_percentiles_csv(summaries: &Summaries<'_>) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        summaries.iter().filter(|(_, t)| t.count > 0).flat_map(|(r, t)| {
            SPAN_PERCENTILES.iter().map(move |&p| SpanPercentileRow {
                collector: &r.collector,
                tag: &t.tag,
                percentile: p,
                latency_ns: at(&t.latency, p),
                wall_ns: at(&t.wall, p),
                metered_100ms_ns: at(&t.metered_100ms, p),
                metered_full_ns: at(&t.metered_full, p),
            })
        }),
        &["collector", "tag", "percentile", "latency_ns", "wall_ns", "metered_100ms_ns", "metered_full_ns"],
    )
}

#[derive(Serialize)]
struct SpanLogRow<'a> {
    collector: &'a str,
    tag: &'a str,
    goroutine: u32,
    start_ns: u64,
    wall_ns: u64,
    latency_ns: u64,
    running_ns: u64,
    paused_ns: u64,
    assist_ns: u64,
    dep_wait_ns: u64,
    queued_ns: u64,
    metered_100ms_ns: u64,
    metered_full_ns: u64,
}

/// `span_log.csv.gz`: every span of every run, by tag and start time, with
/// the split of its time and its metered latencies; gzipped.
pub fn span_log_csv_gz(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let csv = span_log_csv(runs)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&csv)?;
    gz.finish()
}

/// The CSV text of `span_log.csv.gz`.
pub fn span_log_csv(runs: &[RunResult]) -> std::io::Result<Vec<u8>> {
    let mut rows = Vec::new();
    for r in runs {
        for (tag, spans) in r.span_tags.iter().zip(latency::by_tag(r.span_tags.len(), &r.span_records)) {
            let (short, full) = latency::metered_both(&spans);
            for ((s, metered_100ms_ns), metered_full_ns) in spans.iter().zip(short).zip(full) {
                rows.push(SpanLogRow {
                    collector: &r.collector,
                    tag,
                    goroutine: s.goroutine,
                    start_ns: s.start_ns,
                    wall_ns: s.wall_ns,
                    latency_ns: s.latency_ns(),
                    running_ns: s.running_ns(),
                    paused_ns: s.split.paused_ns,
                    assist_ns: s.split.assist_ns,
                    dep_wait_ns: s.split.dep_wait_ns,
                    queued_ns: s.split.queued_ns,
                    metered_100ms_ns,
                    metered_full_ns,
                });
            }
        }
    }
    csv_bytes(
        rows,
        &[
            "collector",
            "tag",
            "goroutine",
            "start_ns",
            "wall_ns",
            "latency_ns",
            "running_ns",
            "paused_ns",
            "assist_ns",
            "dep_wait_ns",
            "queued_ns",
            "metered_100ms_ns",
            "metered_full_ns",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::{SpanRecord, TimeSplit};
    use crate::summary::tests::run;
    use std::io::Read;

    #[test]
    fn the_span_log_is_gzipped_csv_with_a_row_per_span_and_its_split() {
        let mut r = run(1_000_000_000, Vec::new());
        r.span_tags = vec!["req".to_string()];
        r.span_records = (0..3u64)
            .map(|i| SpanRecord {
                tag: 0,
                goroutine: i as u32,
                start_ns: i * 1000,
                wall_ns: 500,
                split: TimeSplit { paused_ns: 100, assist_ns: 0, dep_wait_ns: 50, queued_ns: 50 },
            })
            .collect();
        let gz = span_log_csv_gz(&[r]).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("collector,tag,goroutine,start_ns,wall_ns,latency_ns,running_ns,paused_ns"));
        // wall 500 = latency 400 (running 300 + paused 100) + dep-wait 50 + queued 50.
        assert_eq!(lines[1], "test-gc,req,0,0,500,400,300,100,0,50,50,400,400");
    }
}

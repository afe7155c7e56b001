//! Reading what the charts draw from a results directory's CSV files, by
//! column name (so columns may be added or reordered), each file optional.
//! A malformed file is an error naming the file, the line and the column
//! ([`Table`]). Every chart module reads its data from here; this module
//! imports none of them.

use super::table::Table;
use super::ChartError;
use std::path::{Path, PathBuf};

/// One row of `pauses.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pause {
    pub collector: String,
    pub phase: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    /// Empty in an imported log.
    pub trigger: Option<String>,
}

impl Pause {
    /// The final collection runs after the replay; the summary leaves it
    /// out, and so do the charts.
    pub fn is_final(&self) -> bool {
        self.trigger.as_deref() == Some("final")
    }
}

/// One row of `cycles.csv` (the columns the timeline draws).
#[derive(Clone, Debug, PartialEq)]
pub struct Cycle {
    pub collector: String,
    pub trigger: Option<String>,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Empty in an imported log that does not print the heap.
    pub heap_live_before: Option<u64>,
    /// Empty in an imported JVM log (it does not print what was marked).
    pub marked_bytes: Option<u64>,
    /// The heap in use when the cycle ended, when `cycles.csv` has a
    /// `heap_live_after` column (a generational collector's minor cycle
    /// marks only the young objects, so `marked_bytes` is not the heap).
    pub heap_live_after: Option<u64>,
}

impl Cycle {
    pub fn is_final(&self) -> bool {
        self.trigger.as_deref() == Some("final")
    }
}

/// One row of `mmu.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct MmuPoint {
    pub collector: String,
    pub window_ns: u64,
    pub mmu: f64,
    pub bmu: f64,
}

/// One row of `span_percentiles.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanPoint {
    pub collector: String,
    pub tag: String,
    /// 0 to 100.
    pub percentile: f64,
    pub latency_ns: u64,
}

/// One row of `summary.csv` (the columns the titles use).
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryInfo {
    pub trace: String,
    pub collector: String,
    pub procs: Option<u64>,
    pub gogc: Option<String>,
    pub wall_ns: Option<u64>,
    /// The log format of a `gcwb import`'s row; `None` for a replay.
    pub imported_from: Option<String>,
}

/// The columns `sweep.csv` must have.
pub const SWEEP_COLUMNS: [&str; 6] = ["collector", "param", "value", "metric_median", "metric_min", "metric_max"];

/// One row of `sweep.csv` (its format is [`super::sweep`]'s documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    pub collector: String,
    pub param: String,
    pub value: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub metric: Option<String>,
    pub workload: Option<String>,
    /// The mean's 95% confidence interval (`metric_ci95_low`,
    /// `metric_ci95_high`), when the file has it and the point more than
    /// one repetition. The charts draw the min–max bar; the report's
    /// tables give this.
    pub ci95: Option<(f64, f64)>,
}

/// Reads the rows of a `sweep.csv` table.
fn sweep_points(t: &Table) -> Result<Vec<SweepPoint>, ChartError> {
    let cols: Vec<usize> = SWEEP_COLUMNS.iter().map(|c| t.col(c)).collect::<Result<_, _>>()?;
    let (metric, workload) = (t.opt_col("metric"), t.opt_col("workload"));
    let (ci_low, ci_high) = (t.opt_col("metric_ci95_low"), t.opt_col("metric_ci95_high"));
    let mut out = Vec::new();
    for r in &t.rows {
        let (median, min, max) = (t.f64(r, cols[3])?, t.f64(r, cols[4])?, t.f64(r, cols[5])?);
        if !(min <= median && median <= max) {
            return Err(t.bad(r, cols[3], &format!("a median between metric_min ({min}) and metric_max ({max})")));
        }
        let opt = |c: Option<usize>| c.map(|c| t.text(r, c).to_string()).filter(|s| !s.is_empty());
        let number = |c: Option<usize>| match c {
            Some(c) if !t.text(r, c).is_empty() => t.f64(r, c).map(Some),
            _ => Ok(None),
        };
        let ci95 = match (number(ci_low)?, number(ci_high)?) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        out.push(SweepPoint {
            collector: t.text(r, cols[0]).to_string(),
            param: t.text(r, cols[1]).to_string(),
            value: t.f64(r, cols[2])?,
            median,
            min,
            max,
            metric: opt(metric),
            workload: opt(workload),
            ci95,
        });
    }
    Ok(out)
}

/// Everything the charts of one directory draw from.
#[derive(Clone, Debug, Default)]
pub struct RunData {
    pub dir: PathBuf,
    pub summary: Vec<SummaryInfo>,
    pub pauses: Vec<Pause>,
    pub cycles: Vec<Cycle>,
    pub mmu: Vec<MmuPoint>,
    pub spans: Vec<SpanPoint>,
    pub sweep: Vec<SweepPoint>,
    /// The machine line from `MACHINE.txt` or `COMMAND.txt`.
    pub machine: Option<String>,
}

/// The CSV files the charts read, in the order they are read.
pub const CHART_INPUTS: [&str; 6] =
    ["summary.csv", "pauses.csv", "cycles.csv", "mmu.csv", "span_percentiles.csv", "sweep.csv"];

impl RunData {
    /// Reads every chart input in `dir` that exists.
    pub fn read(dir: &Path) -> Result<RunData, ChartError> {
        let mut d = RunData { dir: dir.to_path_buf(), machine: machine_line(dir), ..RunData::default() };
        if let Some(t) = Table::read(&dir.join("summary.csv"))? {
            let (trace, collector) = (t.col("trace")?, t.col("collector")?);
            let (procs, gogc, wall) = (t.opt_col("procs"), t.opt_col("gogc"), t.opt_col("wall_ns"));
            let imported_from = t.opt_col("imported_from");
            for r in &t.rows {
                d.summary.push(SummaryInfo {
                    trace: t.text(r, trace).to_string(),
                    collector: t.text(r, collector).to_string(),
                    procs: procs.map(|c| t.opt_u64(r, c)).transpose()?.flatten(),
                    gogc: gogc.map(|c| t.text(r, c).to_string()).filter(|s| !s.is_empty()),
                    wall_ns: wall.map(|c| t.opt_u64(r, c)).transpose()?.flatten(),
                    imported_from: imported_from.map(|c| t.text(r, c).to_string()).filter(|s| !s.is_empty()),
                });
            }
        }
        if let Some(t) = Table::read(&dir.join("pauses.csv"))? {
            let (collector, phase, start, duration) =
                (t.col("collector")?, t.col("phase")?, t.col("start_ns")?, t.col("duration_ns")?);
            let trigger = t.opt_col("trigger");
            for r in &t.rows {
                d.pauses.push(Pause {
                    collector: t.text(r, collector).to_string(),
                    phase: t.text(r, phase).to_string(),
                    start_ns: t.u64(r, start)?,
                    duration_ns: t.u64(r, duration)?,
                    trigger: trigger.map(|c| t.text(r, c).to_string()).filter(|s| !s.is_empty()),
                });
            }
        }
        if let Some(t) = Table::read(&dir.join("cycles.csv"))? {
            let (collector, start, end) = (t.col("collector")?, t.col("start_ns")?, t.col("end_ns")?);
            let (before, marked) = (t.col("heap_live_before")?, t.col("marked_bytes")?);
            let (trigger, after) = (t.opt_col("trigger"), t.opt_col("heap_live_after"));
            for r in &t.rows {
                d.cycles.push(Cycle {
                    collector: t.text(r, collector).to_string(),
                    trigger: trigger.map(|c| t.text(r, c).to_string()).filter(|s| !s.is_empty()),
                    start_ns: t.u64(r, start)?,
                    end_ns: t.u64(r, end)?,
                    heap_live_before: t.opt_u64(r, before)?,
                    marked_bytes: t.opt_u64(r, marked)?,
                    heap_live_after: after.map(|c| t.opt_u64(r, c)).transpose()?.flatten(),
                });
            }
        }
        if let Some(t) = Table::read(&dir.join("mmu.csv"))? {
            let (collector, window, mmu, bmu) =
                (t.col("collector")?, t.col("window_ns")?, t.col("mmu")?, t.col("bmu")?);
            for r in &t.rows {
                d.mmu.push(MmuPoint {
                    collector: t.text(r, collector).to_string(),
                    window_ns: t.u64(r, window)?,
                    mmu: t.share(r, mmu)?,
                    bmu: t.share(r, bmu)?,
                });
            }
        }
        if let Some(t) = Table::read(&dir.join("span_percentiles.csv"))? {
            let (collector, tag, pct, lat) =
                (t.col("collector")?, t.col("tag")?, t.col("percentile")?, t.col("latency_ns")?);
            for r in &t.rows {
                let percentile = t.f64(r, pct)?;
                if !(0.0..=100.0).contains(&percentile) {
                    return Err(t.bad(r, pct, "a percentile from 0 to 100"));
                }
                d.spans.push(SpanPoint {
                    collector: t.text(r, collector).to_string(),
                    tag: t.text(r, tag).to_string(),
                    percentile,
                    latency_ns: t.u64(r, lat)?,
                });
            }
        }
        if let Some(t) = Table::read(&dir.join("sweep.csv"))? {
            d.sweep = sweep_points(&t)?;
        }
        Ok(d)
    }

    /// The collectors, in the order `summary.csv` lists them (the order they
    /// ran in), then any others in the order they first appear.
    pub fn collectors(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let all = self
            .summary
            .iter()
            .map(|s| &s.collector)
            .chain(self.pauses.iter().map(|p| &p.collector))
            .chain(self.cycles.iter().map(|c| &c.collector))
            .chain(self.mmu.iter().map(|m| &m.collector))
            .chain(self.spans.iter().map(|s| &s.collector))
            .chain(self.sweep.iter().map(|s| &s.collector));
        for n in all {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        names
    }

    /// The collectors imported from another runtime's log (`gcwb import`),
    /// whose series the charts draw apart from gcwb's.
    pub fn imported(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in self.summary.iter().filter(|s| s.imported_from.is_some()) {
            if !names.contains(&s.collector) {
                names.push(s.collector.clone());
            }
        }
        names
    }

    /// Reads each of `dirs` and puts them on one set of charts
    /// ([`RunData::merge`]).
    pub fn read_all(dirs: &[PathBuf]) -> Result<RunData, ChartError> {
        let mut parts = Vec::with_capacity(dirs.len());
        for dir in dirs {
            if !dir.is_dir() {
                return Err(ChartError::NoDir(dir.clone()));
            }
            parts.push(RunData::read(dir)?);
        }
        Ok(RunData::merge(parts))
    }

    /// Several directories' data as one, so one chart shows every
    /// collector of all of them (gcwb runs and imported logs alike). A
    /// collector name found in more than one directory is renamed in each,
    /// `<dir>/<name>` (the directory's last component; its whole path when
    /// two share that), so every series stays its own. The machine line is
    /// kept when every directory that has one agrees; the directory is the
    /// first one's.
    pub fn merge(parts: Vec<RunData>) -> RunData {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        let short: Vec<String> = parts.iter().map(|p| dir_name(&p.dir)).collect();
        let prefix: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if short.iter().filter(|s| **s == short[i]).count() > 1 {
                    p.dir.display().to_string()
                } else {
                    short[i].clone()
                }
            })
            .collect();
        let names: Vec<Vec<String>> = parts.iter().map(RunData::collectors).collect();
        let clashes = |name: &String| names.iter().filter(|n| n.contains(name)).count() > 1;
        let machines: Vec<&String> = parts.iter().filter_map(|p| p.machine.as_ref()).collect();
        let machine = machines.first().filter(|m| machines.iter().all(|x| x == *m)).map(|m| (*m).clone());
        let mut out = RunData { dir: parts[0].dir.clone(), machine, ..RunData::default() };
        for (i, mut p) in parts.into_iter().enumerate() {
            let rename = |c: &mut String| {
                if clashes(c) {
                    *c = format!("{}/{c}", prefix[i]);
                }
            };
            p.summary.iter_mut().for_each(|s| rename(&mut s.collector));
            p.pauses.iter_mut().for_each(|x| rename(&mut x.collector));
            p.cycles.iter_mut().for_each(|x| rename(&mut x.collector));
            p.mmu.iter_mut().for_each(|x| rename(&mut x.collector));
            p.spans.iter_mut().for_each(|x| rename(&mut x.collector));
            p.sweep.iter_mut().for_each(|x| rename(&mut x.collector));
            out.summary.append(&mut p.summary);
            out.pauses.append(&mut p.pauses);
            out.cycles.append(&mut p.cycles);
            out.mmu.append(&mut p.mmu);
            out.spans.append(&mut p.spans);
            out.sweep.append(&mut p.sweep);
        }
        out
    }

    /// What names this directory's charts: the trace(s) from `summary.csv`
    /// (else the directory's name), the procs and GOGC when every run shares
    /// them, and the machine line.
    pub fn titles(&self) -> super::Titles {
        let mut traces: Vec<String> = Vec::new();
        for s in &self.summary {
            let t = short_trace_name(&s.trace);
            if !t.is_empty() && !traces.contains(&t) {
                traces.push(t);
            }
        }
        let workload = if traces.is_empty() {
            let w: Vec<String> = self.sweep.iter().filter_map(|s| s.workload.clone()).collect();
            match w.first() {
                Some(first) if w.iter().all(|x| x == first) => first.clone(),
                _ => dir_name(&self.dir),
            }
        } else {
            traces.join(", ")
        };
        let same = |f: &dyn Fn(&SummaryInfo) -> Option<String>| {
            let vals: Vec<Option<String>> = self.summary.iter().map(f).collect();
            match vals.first() {
                Some(Some(v)) if vals.iter().all(|x| x.as_deref() == Some(v.as_str())) => Some(v.clone()),
                _ => None,
            }
        };
        let mut settings = Vec::new();
        if let Some(p) = same(&|s| s.procs.map(|p| p.to_string())) {
            settings.push(format!("{p} procs"));
        }
        if let Some(g) = same(&|s| s.gogc.clone()) {
            settings.push(format!("GOGC {g}"));
        }
        super::Titles {
            workload,
            settings: (!settings.is_empty()).then(|| settings.join(", ")),
            machine: self.machine.clone(),
        }
    }
}

/// A trace named by its path is shown by its file name.
fn short_trace_name(trace: &str) -> String {
    Path::new(trace).file_name().map_or_else(|| trace.to_string(), |n| n.to_string_lossy().into_owned())
}

fn dir_name(dir: &Path) -> String {
    let abs = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    abs.file_name().map_or_else(|| abs.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The machine a directory's results came from: the `machine:` line of a
/// `MACHINE.txt` or `COMMAND.txt` in the directory or up to two levels
/// above it (a sweep's or a script's cells sit below the file), else one
/// made of its `cores:`/`nproc:`, `cpu:` and `memory:` lines.
pub fn machine_line(dir: &Path) -> Option<String> {
    let mut d = Some(dir);
    for _ in 0..3 {
        let here = d?;
        for name in ["MACHINE.txt", "COMMAND.txt"] {
            if let Ok(text) = std::fs::read_to_string(here.join(name)) {
                if let Some(m) = machine_from(&text) {
                    return Some(m);
                }
            }
        }
        d = here.parent().filter(|p| !p.as_os_str().is_empty());
    }
    None
}

/// The machine line of one `MACHINE.txt` or `COMMAND.txt`.
fn machine_from(text: &str) -> Option<String> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim().eq_ignore_ascii_case(key) && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    };
    if let Some(m) = value("machine") {
        return Some(m);
    }
    let mut parts = Vec::new();
    if let Some(n) = value("cores").or_else(|| value("nproc")) {
        parts.push(format!("{n} cores"));
    }
    parts.extend(value("cpu"));
    parts.extend(value("memory"));
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_line_comes_from_machine_txt_or_is_made_from_command_txt() {
        assert_eq!(
            machine_from("command: x\nmachine: 2 cores, x86_64, AMD EPYC, 23 GiB\n").as_deref(),
            Some("2 cores, x86_64, AMD EPYC, 23 GiB")
        );
        assert_eq!(
            machine_from("date: 2026\nnproc: 2\nmemory: 23 GiB\ncpu: AMD EPYC\n").as_deref(),
            Some("2 cores, AMD EPYC, 23 GiB")
        );
        assert_eq!(machine_from("SIZES=1 scripts/x.sh\n"), None);
    }

    #[test]
    fn malformed_rows_are_reported_with_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pauses.csv");
        std::fs::write(
            &p,
            "gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n1,stw-full,5,7,,,ms\n2,stw-full,9,x,,,ms\n",
        )
        .unwrap();
        let e = RunData::read(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("pauses.csv: line 3: column `duration_ns`: expected a whole number, got `x`"), "{e}");
        std::fs::write(&p, "gc,phase,start_ns,duration_ns,ttsp_ns,trigger,collector\n1,stw-full,5\n").unwrap();
        let e = RunData::read(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("pauses.csv: line 2: expected 7 fields as in the header, found 3"), "{e}");
        std::fs::write(&p, "gc,phase,start_ns\n").unwrap();
        let e = RunData::read(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("pauses.csv: line 1: no `collector` column in the header"), "{e}");
    }
}

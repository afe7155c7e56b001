//! A sweep's aggregates, from its finished cells on disk alone (so `gcwb
//! merge` can write them for cells run anywhere):
//!
//! - `cells.csv`: one row per finished cell, in run order: `cell`,
//!   `workload`, each swept parameter (named as in the experiment file),
//!   `collector`, `repetition`, then the cells' `summary.csv` columns that
//!   are not already there, in `summary.csv`'s order ([`crate::columns`];
//!   a column only some other version of gcwb wrote comes last). pandas
//!   and R read it directly.
//! - `sweep.csv`: the format [`crate::charts::sweep`] documents and draws:
//!   for each workload, swept parameter with two or more values, metric
//!   and collector, one row per value of the parameter with the median
//!   (of an even count, the mean of the two middle values), min and max of
//!   the metric over the repetitions, then (after `repetitions`) its mean
//!   and the mean's 95% confidence interval (`metric_mean`,
//!   `metric_ci95_low`, `metric_ci95_high`; Student's t, empty for one
//!   repetition): the statistics of [`crate::spread`]. In a matrix of several
//!   parameters, the rows of one parameter hold every other swept parameter
//!   at its *first* listed value (list the baseline first); column `fixed`
//!   says which (`gogc=100 procs=2`) and `repetitions` how many cells the
//!   row summarizes. Every cell is in `cells.csv`, but a cell whose replay
//!   did not end `ok` (its `status`: a stack overflow, say) is left out of
//!   `sweep.csv`, its metrics being partial. A value that is not a
//!   number (`gogc = "off"`) is left out of `sweep.csv`; a byte size with
//!   a unit (`"512MiB"`) is charted in bytes.
//! - The lower-bound overhead ([`crate::lbo`]) of each cell that ended
//!   `ok`: `lbo_wall_ns`, `nlbo_wall`, `lbo_cpu_ns` and `nlbo_cpu`, after
//!   the `summary.csv` columns of `cells.csv` and as metrics `sweep.csv`
//!   can give. The minimum distilled cost is taken over the cells that
//!   differ only in the collector and the repetition (one workload, one
//!   value of every swept parameter), each collector's median first.

use super::cells::Cell;
use super::experiment::{number_text, Experiment};
use crate::columns::Stat;
use crate::report::write_atomically;
use crate::spread::spread;
use std::collections::HashMap;
use std::path::Path;

/// The columns of `sweep.csv`: the statistics as `metric_<stat>`
/// ([`Stat::suffix`]), the ones added since the file's first version last.
pub const SWEEP_HEADER: [&str; 13] = [
    "collector",
    "param",
    "value",
    "metric_median",
    "metric_min",
    "metric_max",
    "metric",
    "workload",
    "fixed",
    "repetitions",
    "metric_mean",
    "metric_ci95_low",
    "metric_ci95_high",
];

/// One finished cell's `summary.csv` row, column → value.
type Summary = HashMap<String, String>;

/// Writes `cells.csv` and `sweep.csv` into `root` from the finished cells
/// of `cells` (the whole plan); returns how many were finished.
pub fn aggregate(e: &Experiment, cells: &[Cell], root: &Path) -> Result<usize, String> {
    let mut columns: Vec<String> = Vec::new();
    let mut done: Vec<(&Cell, Summary)> = Vec::new();
    for c in cells {
        let dir = root.join("cells").join(&c.id);
        if !super::store::is_finished(&dir) {
            continue;
        }
        let (header, row) = read_summary(&dir.join("summary.csv"))?;
        for h in &header {
            if !columns.contains(h) {
                columns.push(h.clone());
            }
        }
        done.push((c, header.into_iter().zip(row).collect()));
    }
    add_lbo(&mut done);
    let mut columns = summary_columns(columns);
    for name in crate::lbo::METRICS {
        if done.iter().any(|(_, s)| s.contains_key(name)) {
            columns.push(name.to_string());
        }
    }
    let cells_csv = cells_csv(e, &done, &columns).map_err(|err| format!("cells.csv: {err}"))?;
    let sweep_csv = sweep_csv(e, &done).map_err(|err| format!("sweep.csv: {err}"))?;
    for (name, bytes) in [("cells.csv", cells_csv), ("sweep.csv", sweep_csv)] {
        let path = root.join(name);
        write_atomically(&path, &bytes).map_err(|err| format!("{}: cannot write: {err}", path.display()))?;
    }
    Ok(done.len())
}

/// Adds each finished cell's lower-bound overhead (the
/// [`crate::lbo::METRICS`] columns) to its summary, over the groups of
/// cells that differ only in the collector and the repetition; a cell
/// that did not end `ok`, or lacks a cost, gets none.
fn add_lbo(done: &mut [(&Cell, Summary)]) {
    use crate::lbo::{analyse, Cost, Sample};
    // The cells of each group, by index into `done`.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, (c, _)) in done.iter().enumerate() {
        let same = |g: &&mut Vec<usize>| done[g[0]].0.workload == c.workload && done[g[0]].0.values == c.values;
        match groups.iter_mut().find(same) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    for members in groups {
        let mut collectors: Vec<&str> = Vec::new();
        for &i in &members {
            if !collectors.contains(&done[i].0.collector.name) {
                collectors.push(done[i].0.collector.name);
            }
        }
        for cost in Cost::ALL {
            let (total, attributed) = cost.columns();
            let sample = |s: &Summary| -> Option<Sample> {
                if s.get("status").is_some_and(|st| st != "ok") {
                    return None;
                }
                let number = |name: &str| s.get(name).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
                Some(Sample { total: number(total)?, attributed: number(attributed)? })
            };
            let samples: Vec<Vec<Sample>> = collectors
                .iter()
                .map(|name| {
                    members
                        .iter()
                        .filter(|&&i| done[i].0.collector.name == *name)
                        .filter_map(|&i| sample(&done[i].1))
                        .collect()
                })
                .collect();
            let Some(analysis) = analyse(&samples) else { continue };
            let [lbo_name, nlbo_name] = cost.metric_names();
            for &i in &members {
                let Some(x) = sample(&done[i].1) else { continue };
                let lbo = x.total - analysis.mdc;
                done[i].1.insert(lbo_name.to_string(), format!("{lbo:.0}"));
                done[i].1.insert(nlbo_name.to_string(), format!("{}", lbo / analysis.mdc));
            }
        }
    }
}

/// The cells' `summary.csv` columns (`found`, in the order first found) in
/// the registry's order ([`crate::columns::SUMMARY`]), then any the
/// registry does not know (a cell written by another version of gcwb).
fn summary_columns(found: Vec<String>) -> Vec<String> {
    let known = crate::columns::header();
    let mut columns: Vec<String> =
        known.iter().filter(|k| found.iter().any(|f| f == *k)).map(|k| k.to_string()).collect();
    columns.extend(found.into_iter().filter(|f| !known.contains(&f.as_str())));
    columns
}

/// The header and first row of a cell's `summary.csv`.
fn read_summary(path: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let shown = path.display();
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{shown}: {e}"))?;
    let header: Vec<String> = r.headers().map_err(|e| format!("{shown}: {e}"))?.iter().map(str::to_string).collect();
    let row = match r.records().next() {
        Some(Ok(rec)) => rec.iter().map(str::to_string).collect(),
        Some(Err(e)) => return Err(format!("{shown}: {e}")),
        None => return Err(format!("{shown}: no row")),
    };
    Ok((header, row))
}

fn cells_csv(e: &Experiment, done: &[(&Cell, Summary)], summary_columns: &[String]) -> csv::Result<Vec<u8>> {
    let mut header: Vec<String> = vec!["cell".into(), "workload".into()];
    header.extend(e.params.iter().map(|p| p.name.clone()));
    header.extend(["collector".to_string(), "repetition".to_string()]);
    let extra: Vec<&String> = summary_columns.iter().filter(|c| !header.contains(c)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.iter().chain(extra.iter().copied()))?;
    for (c, s) in done {
        let mut rec: Vec<String> = vec![c.id.clone(), e.workloads[c.workload].label.clone()];
        rec.extend(e.params.iter().zip(&c.values).map(|(p, &v)| p.values[v].clone()));
        rec.extend([c.collector.name.to_string(), c.repetition.to_string()]);
        rec.extend(extra.iter().map(|col| s.get(*col).cloned().unwrap_or_default()));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

fn sweep_csv(e: &Experiment, done: &[(&Cell, Summary)]) -> csv::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SWEEP_HEADER)?;
    for (wi, workload) in e.workloads.iter().enumerate() {
        for (pi, p) in e.params.iter().enumerate().filter(|(_, p)| p.values.len() >= 2) {
            let fixed: Vec<String> = e
                .params
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != pi)
                .map(|(_, q)| format!("{}={}", q.name, q.values[0]))
                .collect();
            let fixed = fixed.join(" ");
            for metric in &e.metrics {
                for collector in &e.collectors {
                    for (vi, v) in p.values.iter().enumerate() {
                        let Some(x) = numeric(v) else { continue };
                        let ys: Vec<f64> = done
                            .iter()
                            .filter(|(c, _)| {
                                c.workload == wi
                                    && c.collector.name == collector.name
                                    && c.values.iter().enumerate().all(|(j, &k)| if j == pi { k == vi } else { k == 0 })
                            })
                            .filter(|(_, s)| s.get("status").is_none_or(|st| st == "ok"))
                            .filter_map(|(_, s)| s.get(metric).and_then(|m| m.parse::<f64>().ok()))
                            .filter(|y| y.is_finite())
                            .collect();
                        let Some(s) = spread(&ys) else { continue };
                        let stat = |st: Stat| st.of(&s).map_or(String::new(), number_text);
                        w.write_record([
                            collector.name.to_string(),
                            p.name.clone(),
                            number_text(x),
                            stat(Stat::Median),
                            stat(Stat::Min),
                            stat(Stat::Max),
                            metric.clone(),
                            workload.label.clone(),
                            fixed.clone(),
                            ys.len().to_string(),
                            stat(Stat::Mean),
                            stat(Stat::Ci95Low),
                            stat(Stat::Ci95High),
                        ])?;
                    }
                }
            }
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// A swept value as a number: a plain number, or a byte size with a unit
/// (`512MiB`, read as `--memlimit` reads it) in bytes; `None` for `off`
/// and other words.
pub fn numeric(text: &str) -> Option<f64> {
    if let Ok(x) = text.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    crate::report::parse_bytes(text).ok().map(|b| b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_columns_follow_the_registry_and_keep_unknown_ones_last() {
        let found = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<String>>();
        assert_eq!(
            summary_columns(found(&["status", "future_ns", "trace", "wall_ns"])),
            found(&["trace", "wall_ns", "status", "future_ns"])
        );
        let all = crate::columns::header();
        assert_eq!(summary_columns(found(&all)), found(&all));
        assert!(summary_columns(Vec::new()).is_empty());
    }

    #[test]
    fn values_become_numbers_where_they_are_numbers() {
        assert_eq!(numeric("50"), Some(50.0));
        assert_eq!(numeric("0.25"), Some(0.25));
        assert_eq!(numeric("512MiB"), Some(536_870_912.0));
        assert_eq!(numeric("1TiB"), Some((1u64 << 40) as f64));
        assert_eq!(numeric("off"), None);
        assert_eq!(numeric("12parsecs"), None);
    }
}

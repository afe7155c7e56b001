//! The cells of an experiment: one replay each, in a fixed order, with a
//! stable id, and the shards that split them.
//!
//! A cell is a workload × a combination of the swept values × a collector
//! × a repetition. [`plan`] lists them in run order: repetitions outermost,
//! then workloads, then the swept workload parameters, then the swept run
//! settings (each in file order, the later varying faster), and the
//! collectors innermost, so each combination's collectors run one after
//! another and machine drift hits them alike. The order depends on the
//! experiment file alone, so every machine computes the same one.
//!
//! A *group* is the collectors of one combination and repetition: a shard
//! (`--shard i/n`) runs the groups whose number modulo n is i − 1, so the
//! collectors a chart compares always ran on one machine, interleaved.
//!
//! A cell's id names what it is,
//! `<workload>_<param>-<value>_…_<collector>_r<repetition>`
//! (`server_gogc-50_procs-2_mark-sweep_r1`), and is its directory's name
//! under `cells/`; [`CellRecord`] is the `cell.toml` written beside its
//! CSV files.

use super::experiment::{slug, Experiment, ParamKind};
use collectors::registry::CollectorInfo;
use serde::Serialize;
use std::collections::BTreeMap;

/// One replay of the experiment.
#[derive(Clone)]
pub struct Cell {
    /// Position in run order, from 0.
    pub index: usize,
    /// The group (collectors of one combination and repetition), from 0.
    pub group: usize,
    pub id: String,
    /// Index into [`Experiment::workloads`].
    pub workload: usize,
    /// For each of [`Experiment::params`], the index of this cell's value.
    pub values: Vec<usize>,
    pub collector: &'static CollectorInfo,
    /// From 1.
    pub repetition: u32,
}

impl Cell {
    /// `(name, value)` of each swept run setting.
    pub fn settings<'e>(&self, e: &'e Experiment) -> Vec<(&'e str, &'e str)> {
        self.pairs(e, ParamKind::Setting)
    }

    /// `name=value` of each swept workload parameter.
    pub fn workload_sets(&self, e: &Experiment) -> Vec<String> {
        self.pairs(e, ParamKind::Workload).into_iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// `(name, value)` of each swept parameter of `kind`.
    fn pairs<'e>(&self, e: &'e Experiment, kind: ParamKind) -> Vec<(&'e str, &'e str)> {
        e.params
            .iter()
            .zip(&self.values)
            .filter(|(p, _)| p.kind == kind)
            .map(|(p, &v)| (p.name.as_str(), p.values[v].as_str()))
            .collect()
    }

    /// What its trace depends on: cells with the same key replay the same
    /// trace.
    pub fn trace_key(&self, e: &Experiment) -> (usize, Vec<String>) {
        (self.workload, self.workload_sets(e))
    }
}

/// Every cell of `e` in run order. Errs if two cells would share an id
/// (values that differ only in characters a file name cannot hold).
pub fn plan(e: &Experiment) -> Result<Vec<Cell>, String> {
    // Workload parameters vary slower than run settings, so consecutive
    // cells share their trace.
    let order: Vec<usize> = (0..e.params.len())
        .filter(|&i| e.params[i].kind == ParamKind::Workload)
        .chain((0..e.params.len()).filter(|&i| e.params[i].kind == ParamKind::Setting))
        .collect();
    let mut combos: Vec<Vec<usize>> = vec![vec![0; e.params.len()]];
    for &p in &order {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..e.params[p].values.len()).map(move |v| {
                    let mut c = c.clone();
                    c[p] = v;
                    c
                })
            })
            .collect();
    }
    let mut cells = Vec::new();
    let mut group = 0;
    for repetition in 1..=e.repetitions {
        for workload in 0..e.workloads.len() {
            for values in &combos {
                for &collector in &e.collectors {
                    let mut c = Cell {
                        index: cells.len(),
                        group,
                        id: String::new(),
                        workload,
                        values: values.clone(),
                        collector,
                        repetition,
                    };
                    c.id = cell_id(e, &c);
                    cells.push(c);
                }
                group += 1;
            }
        }
    }
    let mut ids: Vec<(&str, usize)> = cells.iter().map(|c| (c.id.as_str(), c.index)).collect();
    ids.sort();
    if let Some(w) = ids.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "{}: cells {} and {} would both be `{}`: make the values differ in letters or digits",
            e.path.display(),
            w[0].1,
            w[1].1,
            w[0].0
        ));
    }
    Ok(cells)
}

/// The id of `c`: what it is, safe as a file name.
fn cell_id(e: &Experiment, c: &Cell) -> String {
    let mut parts = vec![e.workloads[c.workload].label.clone()];
    for (p, &v) in e.params.iter().zip(&c.values) {
        parts.push(format!("{}-{}", p.name, p.values[v]));
    }
    parts.push(c.collector.name.to_string());
    parts.push(format!("r{}", c.repetition));
    let id = slug(&parts.join("_"));
    // File names stop at 255 bytes: a long id keeps its start and a hash.
    if id.len() > 200 {
        format!("{}~{:016x}", &id[..180], fnv1a(id.as_bytes()))
    } else {
        id
    }
}

/// FNV-1a, 64 bits: a stable fingerprint (not a cryptographic one).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// `--shard i/n`: the i-th of n shards (1 ≤ i ≤ n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether this shard runs `c`.
    pub fn holds(&self, c: &Cell) -> bool {
        c.group % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `i/n` (1-based, 1 ≤ i ≤ n).
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("expected i/n with 1 ≤ i ≤ n (e.g. 2/4), got `{s}`");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// `cell.toml`: exactly what a finished cell was.
#[derive(Serialize)]
pub struct CellRecord<'a> {
    pub id: &'a str,
    pub index: usize,
    pub workload: &'a str,
    /// The built-in workload, or the trace file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builtin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub collector: &'a str,
    pub repetition: u32,
    pub seed: u64,
    pub verify: bool,
    /// [`fnv1a`] of the experiment file, in hex.
    pub experiment_fnv1a: String,
    pub gcwb_version: &'a str,
    pub host: String,
    pub finished_unix_s: u64,
    /// The workload's fixed parameters (`set`).
    pub set: BTreeMap<String, String>,
    /// The swept parameters' values.
    pub params: BTreeMap<String, String>,
}

impl<'a> CellRecord<'a> {
    pub fn new(e: &'a Experiment, c: &'a Cell, host: String) -> CellRecord<'a> {
        let w = &e.workloads[c.workload];
        let (builtin, trace, set) = match &w.source {
            super::experiment::Source::Builtin { name, set } => (
                Some(*name),
                None,
                set.iter().filter_map(|s| s.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ),
            super::experiment::Source::File(p) | super::experiment::Source::Go(p, _) => {
                (None, Some(p.display().to_string()), BTreeMap::new())
            }
        };
        CellRecord {
            id: &c.id,
            index: c.index,
            workload: &w.label,
            builtin,
            trace,
            collector: c.collector.name,
            repetition: c.repetition,
            seed: e.seed,
            verify: e.verify,
            experiment_fnv1a: format!("{:016x}", fnv1a(e.text.as_bytes())),
            gcwb_version: env!("CARGO_PKG_VERSION"),
            host,
            finished_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            set,
            params: e.params.iter().zip(&c.values).map(|(p, &v)| (p.name.clone(), p.values[v].clone())).collect(),
        }
    }

    /// The file's text, with a comment saying what it is.
    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| e.to_string())?;
        Ok(format!("# One cell of a gcwb sweep: the replay whose CSV files are beside this file.\n{body}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn experiment(text: &str) -> Experiment {
        Experiment::parse(Path::new("exp.toml"), text.to_string(), true).unwrap()
    }

    #[test]
    fn cells_run_repetitions_outermost_and_collectors_innermost() {
        let e = experiment(
            "collectors = [\"none\", \"mark-sweep\"]\nrepetitions = 2\n[sweep]\ngogc = [50, 100]\nrequests = [1, 2]\n[[workload]]\nname = \"server\"\n",
        );
        let cells = plan(&e).unwrap();
        assert_eq!(cells.len(), 2 * 2 * 2 * 2);
        let ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids[..5],
            [
                "server_gogc-50_requests-1_none_r1",
                "server_gogc-50_requests-1_mark-sweep_r1",
                "server_gogc-100_requests-1_none_r1",
                "server_gogc-100_requests-1_mark-sweep_r1",
                "server_gogc-50_requests-2_none_r1",
            ]
        );
        assert!(cells[8..].iter().all(|c| c.repetition == 2));
        assert_eq!(cells.iter().map(|c| c.group).max(), Some(7));
        // Shards split whole groups and together hold every cell once.
        let shards = [Shard { index: 1, count: 3 }, Shard { index: 2, count: 3 }, Shard { index: 3, count: 3 }];
        for c in &cells {
            assert_eq!(shards.iter().filter(|s| s.holds(c)).count(), 1);
            let partner = &cells[c.index ^ 1];
            assert!(shards.iter().all(|s| s.holds(c) == s.holds(partner)), "{} and {}", c.id, partner.id);
        }
    }

    #[test]
    fn shards_parse_one_based() {
        assert_eq!(parse_shard("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_record_says_what_the_cell_was() {
        let e = experiment("collectors = \"mark-sweep\"\n[sweep]\ngogc = [\"off\"]\n[[workload]]\nname = \"server\"\nset = { requests = 5 }\n");
        let cells = plan(&e).unwrap();
        let text = CellRecord::new(&e, &cells[0], "h".into()).to_toml().unwrap();
        let v: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(v["id"].as_str(), Some("server_gogc-off_mark-sweep_r1"));
        assert_eq!(v["params"]["gogc"].as_str(), Some("off"));
        assert_eq!(v["set"]["requests"].as_str(), Some("5"));
        assert_eq!(v["builtin"].as_str(), Some("server"));
    }
}

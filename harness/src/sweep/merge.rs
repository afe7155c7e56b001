//! `gcwb merge`: the cells of several results directories of one
//! experiment (the shards of a sweep, run on different machines) gathered
//! into one.
//!
//! Every input must hold the same experiment file (`experiment.toml`, byte
//! for byte), and so must the output if it holds one. A cell found in two
//! places must be identical in both (a copy); two different runs of one
//! cell are a conflict. Everything is checked before anything is written,
//! so a refused merge leaves the output as it was. Cells are copied (each
//! through a partial directory and a rename, like a sweep's); the output
//! may be one of the inputs.

use super::cells::plan;
use super::experiment::Experiment;
use super::store::{cell_files, check_experiment, finished_ids, Store, EXPERIMENT_FILE};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What a merge did.
pub struct Merged {
    pub experiment: Experiment,
    /// Cells copied into the output.
    pub copied: usize,
    /// Cells the output already had.
    pub present: usize,
}

/// Merges the finished cells of `inputs` into `out`. The error is one line.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Merged, String> {
    let mut text: Option<(PathBuf, Vec<u8>)> = None;
    for dir in inputs {
        let file = dir.join(EXPERIMENT_FILE);
        let bytes = fs::read(&file).map_err(|e| {
            if dir.is_dir() {
                format!("{}: not a sweep directory (cannot read {EXPERIMENT_FILE}: {e})", dir.display())
            } else {
                format!("{}: no such directory", dir.display())
            }
        })?;
        match &text {
            None => text = Some((file, bytes)),
            Some((first, b)) if *b != bytes => {
                return Err(format!(
                    "{} and {} differ: only shards of one experiment file can be merged",
                    first.display(),
                    file.display()
                ))
            }
            Some(_) => {}
        }
    }
    let (file, bytes) = text.ok_or("no directory to merge")?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.display()))?;
    let e = Experiment::parse(&file, text, false)?;
    check_experiment(out, &e.text)?;
    let ids: Vec<String> = plan(&e)?.into_iter().map(|c| c.id).collect();

    let same_as_out = |d: &Path| match (d.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let out_ids = finished_ids(out).map_err(|err| format!("{}: {err}", out.display()))?;
    // id → the directory its cell comes from.
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in inputs.iter().filter(|d| !same_as_out(d)) {
        for id in finished_ids(dir).map_err(|err| format!("{}: {err}", dir.display()))? {
            let cell = dir.join("cells").join(&id);
            if !ids.contains(&id) {
                eprintln!("gcwb: warning: {}: not a cell of this experiment; left out", cell.display());
                continue;
            }
            let other = match found.get(&id) {
                Some(p) => Some(p.clone()),
                None if out_ids.contains(&id) => Some(out.join("cells").join(&id)),
                None => None,
            };
            match other {
                Some(o) => {
                    let read = |p: &Path| cell_files(p).map_err(|err| format!("{}: {err}", p.display()));
                    if read(&o)? != read(&cell)? {
                        return Err(format!(
                            "{} and {} are different runs of one cell: keep one of them and merge again",
                            o.display(),
                            cell.display()
                        ));
                    }
                }
                None => {
                    found.insert(id, cell);
                }
            }
        }
    }
    let present = out_ids.iter().filter(|id| ids.contains(id)).count();
    let store = Store::open(out, &e)?;
    let mut copied = 0;
    for (id, from) in &found {
        store
            .commit(id, |tmp| {
                for (name, bytes) in cell_files(from)? {
                    fs::write(tmp.join(name), bytes)?;
                }
                Ok(())
            })
            .map_err(|err| format!("{}: cannot copy {}: {err}", out.display(), from.display()))?;
        copied += 1;
    }
    Ok(Merged { experiment: e, copied, present })
}

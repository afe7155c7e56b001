//! A sweep's results directory on disk: the copy of its experiment file,
//! and its finished cells, each committed whole.
//!
//! ```text
//! DIR/experiment.toml      the experiment file, byte for byte
//! DIR/cells/<id>/          one finished cell: its run's CSV files, run.toml and cell.toml
//! DIR/cells/.partial.<host>.<pid>.<id>/   a cell being written
//! DIR/cells.csv, DIR/sweep.csv, DIR/sweep*.png   the aggregates (aggregate.rs)
//! ```
//!
//! A cell is written into a `.partial…` directory and renamed to its id
//! when complete, so `cells/<id>/` exists only for a finished cell and an
//! interrupted sweep leaves no half-written one. Partial directories left
//! by a process of this host that is no longer running are removed when a
//! sweep opens the directory; others (a live shard sharing the directory,
//! another host's) are left alone and never read.

use super::experiment::Experiment;
use crate::report::write_atomically;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The name of a finished cell's description file.
pub const CELL_FILE: &str = "cell.toml";
/// The experiment file's copy in a results directory.
pub const EXPERIMENT_FILE: &str = crate::provenance::SWEEP_EXPERIMENT_FILE;
const PARTIAL: &str = ".partial.";

/// An open results directory.
pub struct Store {
    pub root: PathBuf,
    host: String,
}

impl Store {
    /// Opens (creating it if need be) the results directory `root` for `e`:
    /// a directory already holding another experiment file is refused;
    /// stale partial cells of this host are removed.
    pub fn open(root: &Path, e: &Experiment) -> Result<Store, String> {
        let shown = root.display();
        check_experiment(root, &e.text)?;
        fs::create_dir_all(root.join("cells")).map_err(|err| format!("{shown}: cannot create the directory: {err}"))?;
        let copy = root.join(EXPERIMENT_FILE);
        if !copy.exists() {
            write_atomically(&copy, e.text.as_bytes())
                .map_err(|err| format!("{}: cannot write: {err}", copy.display()))?;
        }
        let store = Store { root: root.to_path_buf(), host: hostname() };
        store.remove_stale_partials();
        Ok(store)
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn cell_dir(&self, id: &str) -> PathBuf {
        self.root.join("cells").join(id)
    }

    /// Whether the cell `id` is finished.
    pub fn is_finished(&self, id: &str) -> bool {
        is_finished(&self.cell_dir(id))
    }

    /// Writes the cell `id`: `fill` writes its files into a fresh partial
    /// directory, which is renamed to `cells/<id>` when `fill` succeeds
    /// (and removed when it fails). A cell another process finished
    /// meanwhile is kept, and this one dropped.
    pub fn commit(&self, id: &str, fill: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
        let tmp = self.root.join("cells").join(format!("{PARTIAL}{}.{}.{id}", self.host, std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        let filled = fill(&tmp);
        if let Err(e) = filled {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let target = self.cell_dir(id);
        if target.exists() {
            if is_finished(&target) {
                return fs::remove_dir_all(&tmp);
            }
            // Not a cell of ours (no cell.toml): make room.
            fs::remove_dir_all(&target)?;
        }
        match fs::rename(&tmp, &target) {
            // Another process renamed the same cell into place meanwhile.
            Err(_) if is_finished(&target) => fs::remove_dir_all(&tmp),
            r => r,
        }
    }

    /// Removes the partial cells of processes of this host that have ended.
    fn remove_stale_partials(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("cells")) else { return };
        let mine = format!("{PARTIAL}{}.", self.host);
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&mine) else { continue };
            let pid = rest.split('.').next().and_then(|p| p.parse::<i32>().ok());
            if pid.is_some_and(|p| p == std::process::id() as i32 || !alive(p)) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Whether `dir` is a finished cell.
pub fn is_finished(dir: &Path) -> bool {
    dir.join(CELL_FILE).is_file()
}

/// The ids of the finished cells under `root/cells`, sorted.
pub fn finished_ids(root: &Path) -> io::Result<Vec<String>> {
    let dir = root.join("cells");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && is_finished(&e.path()) {
            ids.push(name);
        }
    }
    ids.sort();
    Ok(ids)
}

/// Refuses a directory whose `experiment.toml` is not `text`.
pub fn check_experiment(root: &Path, text: &str) -> Result<(), String> {
    let copy = root.join(EXPERIMENT_FILE);
    match fs::read(&copy) {
        Ok(bytes) if bytes == text.as_bytes() => Ok(()),
        Ok(_) => Err(format!(
            "{}: holds the results of a different experiment file ({} differs): use another --out, or remove it",
            root.display(),
            copy.display()
        )),
        Err(e) if copy.exists() => Err(format!("{}: {e}", copy.display())),
        // No copy yet (or no directory): creating it will say what is wrong.
        Err(_) => Ok(()),
    }
}

/// The files of a cell directory, by name, with their bytes.
pub fn cell_files(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            files.push((e.file_name().to_string_lossy().into_owned(), fs::read(e.path())?));
        }
    }
    files.sort();
    Ok(files)
}

/// This machine's name (for partial directories and `cell.toml`).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    let name = super::experiment::slug(&name).replace('.', "_");
    if name.is_empty() {
        "host".to_string()
    } else {
        name
    }
}

/// Whether the process `pid` of this host is running.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

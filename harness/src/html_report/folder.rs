//! One results folder as the report sees it: what kind it is ([`Kind`])
//! and the files it holds, read whole. Nothing here is computed; the
//! other modules lay it out.
//!
//! | kind | told by | read |
//! |---|---|---|
//! | sweep | `experiment.toml`, `sweep.csv` or `cells.csv` | `cells.csv`, `sweep.csv`, the first cell's `run.toml` |
//! | compare | `compare.csv` | `compare.csv`, and the median repetition's files as a run's |
//! | import | `summary.csv` whose rows all have `imported_from` | as a run's |
//! | run | `summary.csv` | `summary.csv`, `phases.csv`, `run.toml` and what the charts read |
//!
//! Every folder may also hold a script's `COMMAND.txt` or `MACHINE.txt`,
//! shown as they are. A CSV file is read by column name
//! ([`crate::charts::table::Table`]); a cell of a numeric column that is
//! not a number is an error naming the file, the line and the column, as
//! is a `run.toml` that does not parse.

use super::ReportError;
use crate::charts::table::Table;
use crate::charts::{ChartError, RunData};
use crate::columns::{self, Stat};
use std::path::{Path, PathBuf};

/// What produced a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Compare,
    Sweep,
    Import,
}

impl Kind {
    /// `run`, `compare`, `sweep` or `import`: the command that wrote it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
            Kind::Import => "import",
        }
    }
}

/// A CSV file read whole, its cells found by column name.
pub struct Csv {
    table: Table,
}

impl Csv {
    /// Reads `path` (`None` when there is no such file) and checks that
    /// every non-empty cell of a column `numeric` names is a number.
    fn read(path: &Path, numeric: fn(&str) -> bool) -> Result<Option<Csv>, ChartError> {
        let Some(table) = Table::read(path)? else { return Ok(None) };
        let cols: Vec<usize> = table.header().enumerate().filter(|(_, name)| numeric(name)).map(|(i, _)| i).collect();
        for r in &table.rows {
            for &c in &cols {
                let cell = table.text(r, c);
                if !cell.is_empty() && cell.parse::<f64>().is_err() {
                    return Err(table.bad(r, c, "a number"));
                }
            }
        }
        Ok(Some(Csv { table }))
    }

    pub fn path(&self) -> &Path {
        &self.table.path
    }

    pub fn len(&self) -> usize {
        self.table.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.rows.is_empty()
    }

    pub fn has(&self, column: &str) -> bool {
        self.table.opt_col(column).is_some()
    }

    pub fn columns(&self) -> Vec<String> {
        self.table.header().map(str::to_string).collect()
    }

    /// The cell of row `row` in `column`, trimmed; empty when there is
    /// no such column.
    pub fn text(&self, row: usize, column: &str) -> &str {
        match self.table.opt_col(column) {
            Some(c) => self.table.text(&self.table.rows[row], c),
            None => "",
        }
    }

    /// The cell as a number; `None` when empty or absent (a numeric
    /// column's cells were checked when the file was read).
    pub fn number(&self, row: usize, column: &str) -> Option<f64> {
        self.text(row, column).parse().ok()
    }

    /// The rows whose `collector` is `name`.
    pub fn rows_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        (0..self.len()).filter(move |&r| self.text(r, "collector") == name)
    }
}

/// Is `name` a numeric column of `summary.csv`, `compare.csv`, `cells.csv`
/// or `phases.csv`?
fn numeric_column(name: &str) -> bool {
    let registry = |n: &str| columns::column(n).is_some_and(|c| c.kind.is_numeric());
    let stats = Stat::FIRST.iter().chain(&Stat::ADDED);
    registry(name)
        || stats.clone().any(|s| name.strip_suffix(&format!("_{}", s.suffix())).is_some_and(registry))
        || ["mdc_", "lbo_", "nlbo_"].iter().any(|p| name.starts_with(p))
        || ["repeats", "median_rep", "repetition", "count", "p50_ns", "p99_ns", "max_ns", "total_ns"].contains(&name)
}

/// One results folder, read.
pub struct Folder {
    /// As given on the command line.
    pub dir: PathBuf,
    pub kind: Kind,
    pub summary: Option<Csv>,
    pub compare: Option<Csv>,
    pub phases: Option<Csv>,
    pub cells: Option<Csv>,
    /// `run.toml`, as a table of whatever it holds.
    pub run_toml: Option<toml::Table>,
    /// A sweep: its first finished cell's `run.toml` (the build and
    /// machine every cell of one shard shares).
    pub cell_toml: Option<toml::Table>,
    /// A sweep: `experiment.toml`'s text.
    pub experiment: Option<String>,
    /// A script's `COMMAND.txt` or `MACHINE.txt` (name, text).
    pub script_notes: Vec<(String, String)>,
    /// What the charts draw.
    pub charts: RunData,
}

impl Folder {
    /// Reads `dir`.
    pub fn read(dir: &Path) -> Result<Folder, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::NoDir(dir.to_path_buf()));
        }
        let csv = |name: &str| Csv::read(&dir.join(name), numeric_column);
        let summary = csv("summary.csv")?;
        let compare = csv("compare.csv")?;
        let phases = csv("phases.csv")?;
        let cells = csv("cells.csv")?;
        let experiment = read_text(&dir.join("experiment.toml"))?;
        let kind = if experiment.is_some() || cells.is_some() || dir.join("sweep.csv").is_file() {
            Kind::Sweep
        } else if compare.is_some() {
            Kind::Compare
        } else if let Some(s) = &summary {
            let imported = !s.is_empty() && (0..s.len()).all(|r| !s.text(r, "imported_from").is_empty());
            if imported {
                Kind::Import
            } else {
                Kind::Run
            }
        } else {
            return Err(ReportError::NotResults(dir.to_path_buf()));
        };
        let run_toml = read_toml(&dir.join("run.toml"))?;
        let first_cell = cells.as_ref().filter(|c| !c.is_empty()).map(|c| c.text(0, "cell").to_string());
        let cell_toml = match first_cell {
            Some(id) if !id.is_empty() => read_toml(&dir.join("cells").join(id).join("run.toml"))?,
            _ => None,
        };
        let mut script_notes = Vec::new();
        for name in ["COMMAND.txt", "MACHINE.txt"] {
            if let Some(text) = read_text(&dir.join(name))? {
                script_notes.push((name.to_string(), text));
            }
        }
        let charts = RunData::read(dir)?;
        Ok(Folder {
            dir: dir.to_path_buf(),
            kind,
            summary,
            compare,
            phases,
            cells,
            run_toml,
            cell_toml,
            experiment,
            script_notes,
            charts,
        })
    }

    /// The table whose rows are the folder's collectors, one each:
    /// `compare.csv` for a comparison, else `summary.csv`.
    pub fn per_collector(&self) -> Option<&Csv> {
        match self.kind {
            Kind::Compare => self.compare.as_ref(),
            Kind::Run | Kind::Import => self.summary.as_ref(),
            Kind::Sweep => None,
        }
    }

    /// The collectors, in the order their files list them.
    pub fn collectors(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let tables = [self.per_collector(), self.cells.as_ref()];
        for t in tables.into_iter().flatten() {
            for r in 0..t.len() {
                let n = t.text(r, "collector");
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
        for n in self.charts.collectors() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    /// The log format `collector` was imported from (`go-gctrace`,
    /// `jvm-gc-log`), or `None` for a gcwb collector.
    pub fn imported_from(&self, collector: &str) -> Option<String> {
        let s = self.summary.as_ref()?;
        s.rows_of(collector).map(|r| s.text(r, "imported_from").to_string()).find(|f| !f.is_empty())
    }
}

/// A text file; `None` when there is none.
fn read_text(path: &Path) -> Result<Option<String>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReportError::File { path: path.to_path_buf(), message: e.to_string() }),
    }
}

/// A TOML file as a table; `None` when there is none.
fn read_toml(path: &Path) -> Result<Option<toml::Table>, ReportError> {
    let Some(text) = read_text(path)? else { return Ok(None) };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| ReportError::File { path: path.to_path_buf(), message: e.message().to_string() })
}

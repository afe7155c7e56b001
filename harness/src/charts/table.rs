//! A CSV file read whole, for the charts: its header and records, cells
//! found by column name (so columns may be added or reordered), and errors
//! that name the file, the line and the column. [`super::data`] reads each
//! chart input through it.

use super::ChartError;
use csv::StringRecord;
use std::path::{Path, PathBuf};

/// A CSV file read whole: its header and its records (each knows its line).
pub struct Table {
    pub path: PathBuf,
    header: StringRecord,
    pub rows: Vec<StringRecord>,
}

impl Table {
    /// Reads `path`; `None` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<Table>, ChartError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ChartError::Io { path: path.to_path_buf(), message: e.to_string() }),
        };
        let csv_error = |e: csv::Error| {
            let line = e.position().map_or(1, |p| p.line());
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("expected {expected_len} fields as in the header, found {len}")
                }
                csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
                _ => e.to_string(),
            };
            ChartError::Csv { path: path.to_path_buf(), line, message }
        };
        let mut rd = csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[..]);
        let header = rd.headers().map_err(csv_error)?.clone();
        let mut rows = Vec::new();
        for r in rd.records() {
            rows.push(r.map_err(csv_error)?);
        }
        Ok(Some(Table { path: path.to_path_buf(), header, rows }))
    }

    /// The index of column `name`, or an error naming the file.
    pub fn col(&self, name: &str) -> Result<usize, ChartError> {
        self.opt_col(name).ok_or_else(|| ChartError::Csv {
            path: self.path.clone(),
            line: 1,
            message: format!("no `{name}` column in the header"),
        })
    }

    /// The header's column names, in order.
    pub fn header(&self) -> impl Iterator<Item = &str> {
        self.header.iter().map(str::trim)
    }

    /// The index of column `name`, if the header has it.
    pub fn opt_col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h.trim() == name)
    }

    fn name(&self, col: usize) -> &str {
        self.header.get(col).unwrap_or("?")
    }

    /// The error for the cell of `rec` in `col`, which is not `expected`.
    pub fn bad(&self, rec: &StringRecord, col: usize, expected: &str) -> ChartError {
        ChartError::Csv {
            path: self.path.clone(),
            line: rec.position().map_or(0, |p| p.line()),
            message: format!("column `{}`: expected {expected}, got `{}`", self.name(col), self.text(rec, col)),
        }
    }

    /// The cell of `rec` in `col`, trimmed (empty when the row is short).
    pub fn text<'r>(&self, rec: &'r StringRecord, col: usize) -> &'r str {
        rec.get(col).unwrap_or("").trim()
    }

    /// The cell of `rec` in `col` as a whole number.
    pub fn u64(&self, rec: &StringRecord, col: usize) -> Result<u64, ChartError> {
        self.text(rec, col).parse().map_err(|_| self.bad(rec, col, "a whole number"))
    }

    /// An optional whole number: an empty cell is `None`.
    pub fn opt_u64(&self, rec: &StringRecord, col: usize) -> Result<Option<u64>, ChartError> {
        if self.text(rec, col).is_empty() {
            Ok(None)
        } else {
            self.u64(rec, col).map(Some)
        }
    }

    /// The cell of `rec` in `col` as a finite number.
    pub fn f64(&self, rec: &StringRecord, col: usize) -> Result<f64, ChartError> {
        self.text(rec, col).parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| self.bad(rec, col, "a number"))
    }

    /// A share from 0 to 1.
    pub fn share(&self, rec: &StringRecord, col: usize) -> Result<f64, ChartError> {
        self.f64(rec, col)
            .ok()
            .filter(|v| (0.0..=1.0).contains(v))
            .ok_or_else(|| self.bad(rec, col, "a share from 0 to 1"))
    }
}

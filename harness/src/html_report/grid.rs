//! The report's tables as data ([`Grid`]: headers, rows, cells) and as
//! HTML ([`Grid::write`]). A table is built a column at a time
//! ([`Grid::push`], [`numeric`]), each numeric column in one unit
//! ([`super::numbers`]).
//!
//! The markup every table shares, which the stylesheet and the sorting
//! script rely on (and the report's DOM contract, [`super`]):
//!
//! - `<table id=… class="ROLE[ sortable]">`, a `<thead>` of `<th
//!   scope="col">` (a numeric column's `class="num"`, its unit on a
//!   second line, its description in `title`), a `<tbody>`;
//! - a row about a collector is `<tr data-collector="NAME">` (class
//!   `imported` for a runtime's imported log; `data-dir` in a table of
//!   several folders), its first cell `<th scope="row">` with the
//!   collector's chart colour, its name and, for an imported log, the
//!   badge `imported: FORMAT`;
//! - a numeric cell is `<td class="num" data-value="RAW">`, RAW the exact
//!   value of the result file (what the script sorts by), its `title` the
//!   value with its unit and spread; an empty cell reads `—` and has no
//!   `data-value`.

use super::html::Html;
use super::numbers::{scale, Scale, Unit};
use plotters::style::RGBColor;

/// A column's header.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub label: String,
    /// The unit, shown under the label (empty for none).
    pub unit: String,
    /// What the column holds, shown on hover.
    pub about: String,
    pub numeric: bool,
}

/// Who a row is about.
#[derive(Clone, Debug)]
pub struct Who {
    pub collector: String,
    /// The log format of an imported runtime (`go-gctrace`), else `None`.
    pub imported_from: Option<String>,
    /// Its colour in the charts.
    pub color: Option<RGBColor>,
    /// In a table of several folders, the folder.
    pub dir: Option<String>,
}

/// One cell.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub text: String,
    /// The exact value, for sorting (`data-value`).
    pub value: Option<String>,
    pub title: Option<String>,
    /// A second, smaller line (a confidence interval).
    pub note: Option<String>,
    /// The result file's column it comes from (`data-column`).
    pub column: Option<String>,
    /// The collector it is about (`data-collector`), where the row alone
    /// does not say (a sweep table's columns) or a test looks cells up.
    pub collector: Option<String>,
    pub numeric: bool,
    /// A class of its own (a text cell's; numeric cells are `num`).
    pub class: Option<&'static str>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), ..Cell::default() }
    }
}

/// One row: who it is about (its first cell), and its cells.
#[derive(Clone, Debug)]
pub struct Row {
    pub who: Option<Who>,
    pub cells: Vec<Cell>,
    /// `data-verdict` etc.: extra attributes of the `<tr>`.
    pub attrs: Vec<(&'static str, String)>,
}

/// A table.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    pub id: String,
    /// Its role (`summary`, `phases`, …) and, when the rows may be
    /// reordered, `sortable`.
    pub class: String,
    pub caption: Option<String>,
    /// A first header row grouping the columns after the row headers:
    /// (label, how many columns).
    pub groups: Vec<(String, usize)>,
    /// The row headers' column (`collector`), when rows have a [`Who`].
    pub who_head: Option<Head>,
    pub head: Vec<Head>,
    pub rows: Vec<Row>,
    /// Extra attributes of the `<table>`.
    pub attrs: Vec<(&'static str, String)>,
}

/// A measured value for a numeric column: the number, its text in the
/// result file, and its spread over repetitions.
#[derive(Clone, Debug)]
pub struct Measured {
    pub value: f64,
    pub raw: String,
    pub spread: Option<Spread>,
}

/// How far a statistic over repetitions can be trusted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// The mean's 95% confidence interval.
    Ci95(f64, f64),
    /// The smallest and largest value (no interval: one repetition, or a
    /// file older than the interval).
    Range(f64, f64),
}

impl Measured {
    pub fn new(value: f64, raw: impl Into<String>) -> Measured {
        Measured { value, raw: raw.into(), spread: None }
    }
}

/// A numeric column: its header (the unit chosen from the values) and its
/// cells, one per value (`None`: an empty cell). `column` names the result
/// file's column for `data-column`.
pub fn numeric(label: &str, about: &str, unit: Unit, column: &str, values: &[Option<Measured>]) -> (Head, Vec<Cell>) {
    let s = scale(unit, values.iter().flatten().map(|m| m.value));
    let unit_name = |u: &str| match u {
        "" => String::new(),
        u => format!(" {u}"),
    };
    let cells = values
        .iter()
        .map(|m| match m {
            None => {
                Cell { text: "—".to_string(), column: Some(column.to_string()), numeric: true, ..Cell::default() }
            }
            Some(m) => {
                let exact = format!("{}{}", m.raw, unit_name(raw_unit(unit)));
                let (note, spread) = match m.spread {
                    // An interval of one value (every repetition alike) says nothing.
                    Some(Spread::Ci95(lo, hi)) if lo == hi => (None, String::new()),
                    // Nor one whose ends read alike.
                    Some(Spread::Ci95(lo, hi)) if s.show(lo) == s.show(hi) => (None, String::new()),
                    Some(Spread::Ci95(lo, hi)) => (
                        Some(range(&s, lo, hi)),
                        format!("; the mean's 95% confidence interval {} to {}", short(lo), short(hi)),
                    ),
                    Some(Spread::Range(lo, hi)) => {
                        (Some(range(&s, lo, hi)), format!("; from {} to {}", short(lo), short(hi)))
                    }
                    None => (None, String::new()),
                };
                Cell {
                    text: s.show(m.value),
                    value: Some(m.raw.clone()),
                    title: Some(format!("{exact}{spread}")),
                    note,
                    column: Some(column.to_string()),
                    collector: None,
                    numeric: true,
                    class: None,
                }
            }
        })
        .collect();
    let head = Head { label: label.to_string(), unit: s.label.to_string(), about: about.to_string(), numeric: true };
    (head, cells)
}

/// `lo–hi` in scale `s`; with a unit per cell, the unit once at the end
/// when both ends share it.
fn range(s: &Scale, lo: f64, hi: f64) -> String {
    let (a, b) = (s.show(lo), s.show(hi));
    match (a.rsplit_once(' '), b.rsplit_once(' ')) {
        (Some((x, u)), Some((y, v))) if s.per_cell && u == v => format!("{x}–{y} {u}"),
        _ => format!("{a}–{b}"),
    }
}

/// A bound as the title gives it: whole for large values, else to four
/// significant digits.
fn short(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

/// The unit the result files write a value of `unit` in.
fn raw_unit(unit: Unit) -> &'static str {
    match unit {
        Unit::Duration => "ns",
        Unit::Bytes => "bytes",
        Unit::Rate => "per s",
        Unit::Percent => "(a share of 1)",
        Unit::Ratio | Unit::Count | Unit::Plain => "",
    }
}

impl Grid {
    /// A table of one row per `who`, no columns yet.
    pub fn of_rows(id: &str, class: &str, who: Vec<Who>) -> Grid {
        Grid {
            id: id.to_string(),
            class: class.to_string(),
            who_head: Some(Head { label: "collector".to_string(), ..Head::default() }),
            rows: who.into_iter().map(|w| Row { who: Some(w), cells: Vec::new(), attrs: Vec::new() }).collect(),
            ..Grid::default()
        }
    }

    /// Adds a column; `cells` has one per row.
    pub fn push(&mut self, (head, cells): (Head, Vec<Cell>)) {
        debug_assert_eq!(cells.len(), self.rows.len(), "column {}", head.label);
        self.head.push(head);
        for (row, cell) in self.rows.iter_mut().zip(cells) {
            row.cells.push(cell);
        }
    }

    /// Writes the table.
    pub fn write(&self, h: &mut Html) {
        let mut attrs: Vec<(&str, &str)> = vec![("id", &self.id), ("class", &self.class)];
        attrs.extend(self.attrs.iter().map(|(k, v)| (*k, v.as_str())));
        h.el("table", &attrs, |h| {
            if let Some(c) = &self.caption {
                h.leaf("caption", &[], c);
            }
            h.el("thead", &[], |h| {
                if !self.groups.is_empty() {
                    h.el("tr", &[("class", "groups")], |h| {
                        if self.who_head.is_some() {
                            h.leaf("td", &[], "");
                        }
                        for (label, span) in &self.groups {
                            h.leaf("th", &[("scope", "colgroup"), ("colspan", &span.to_string())], label);
                        }
                    });
                }
                h.el("tr", &[], |h| {
                    for head in self.who_head.iter().chain(&self.head) {
                        write_head(h, head);
                    }
                });
            });
            h.el("tbody", &[], |h| {
                for row in &self.rows {
                    write_row(h, row);
                }
            });
        });
    }
}

fn write_row(h: &mut Html, row: &Row) {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(w) = &row.who {
        attrs.push(("data-collector", &w.collector));
        if w.imported_from.is_some() {
            attrs.push(("class", "imported"));
        }
        if let Some(d) = &w.dir {
            attrs.push(("data-dir", d));
        }
    }
    attrs.extend(row.attrs.iter().map(|(k, v)| (*k, v.as_str())));
    h.el("tr", &attrs, |h| {
        if let Some(w) = &row.who {
            write_who(h, w);
        }
        for cell in &row.cells {
            write_cell(h, cell);
        }
    });
}

fn write_head(h: &mut Html, head: &Head) {
    let mut attrs = vec![("scope", "col")];
    if head.numeric {
        attrs.push(("class", "num"));
    }
    if !head.about.is_empty() {
        attrs.push(("title", &head.about));
    }
    h.el("th", &attrs, |h| {
        h.text(&head.label);
        if !head.unit.is_empty() {
            h.leaf("span", &[("class", "unit")], &head.unit);
        }
    });
}

/// The row header: colour, name, and the imported badge.
fn write_who(h: &mut Html, w: &Who) {
    h.el("th", &[("scope", "row"), ("data-value", &w.collector)], |h| {
        if let Some(c) = w.color {
            let style = if w.imported_from.is_some() {
                format!("border-color:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
            } else {
                format!("background-color:#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
            };
            let class = if w.imported_from.is_some() { "swatch dashed" } else { "swatch" };
            h.leaf("span", &[("class", class), ("style", &style), ("aria-hidden", "true")], "");
        }
        h.text(&w.collector);
        if let Some(f) = &w.imported_from {
            h.leaf(
                "span",
                &[("class", "badge"), ("title", "a real runtime's GC log read by gcwb import")],
                &format!("imported: {f}"),
            );
        }
    });
}

fn write_cell(h: &mut Html, cell: &Cell) {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if cell.numeric {
        attrs.push(("class", "num"));
    } else if let Some(c) = cell.class {
        attrs.push(("class", c));
    }
    if let Some(v) = &cell.value {
        attrs.push(("data-value", v));
    }
    if let Some(c) = &cell.collector {
        attrs.push(("data-collector", c));
    }
    if let Some(c) = &cell.column {
        attrs.push(("data-column", c));
    }
    if let Some(t) = &cell.title {
        attrs.push(("title", t));
    }
    h.el("td", &attrs, |h| {
        h.text(&cell.text);
        if let Some(n) = &cell.note {
            h.leaf("span", &[("class", "note")], n);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numeric_column_has_one_unit_exact_values_and_dashes_for_empty_cells() {
        let values = [
            Some(Measured {
                spread: Some(Spread::Ci95(900_000.0, 1_200_000.0)),
                ..Measured::new(1_038_335.0, "1038335")
            }),
            None,
        ];
        let (head, cells) = numeric("pause p99", "99th-percentile pause", Unit::Duration, "pause_p99_ns", &values);
        assert_eq!((head.unit.as_str(), head.numeric), ("ms", true));
        assert_eq!(cells[0].text, "1.04");
        assert_eq!(cells[0].value.as_deref(), Some("1038335"));
        assert_eq!(cells[0].note.as_deref(), Some("0.900–1.20"));
        assert!(cells[0]
            .title
            .as_deref()
            .unwrap()
            .starts_with("1038335 ns; the mean's 95% confidence interval 900000 to 1200000"));
        assert_eq!((cells[1].text.as_str(), cells[1].value.as_ref()), ("—", None));
    }

    #[test]
    fn rows_name_their_collector_and_imports_wear_a_badge() {
        let who = |name: &str, imported: Option<&str>| Who {
            collector: name.to_string(),
            imported_from: imported.map(str::to_string),
            color: Some(RGBColor(0, 114, 178)),
            dir: None,
        };
        let mut g =
            Grid::of_rows("summary", "summary sortable", vec![who("mark-sweep", None), who("go", Some("go-gctrace"))]);
        g.push(numeric("wall", "", Unit::Duration, "wall_ns", &[Some(Measured::new(2e6, "2000000")), None]));
        let mut h = Html::new();
        g.write(&mut h);
        let html = h.into_string();
        assert!(html.contains(r#"<tr data-collector="mark-sweep"><th scope="row" data-value="mark-sweep">"#), "{html}");
        assert!(html.contains(r#"<tr data-collector="go" class="imported">"#), "{html}");
        assert!(html.contains("imported: go-gctrace</span>"), "{html}");
        assert!(html.contains(r#"<td class="num" data-value="2000000" data-column="wall_ns""#), "{html}");
    }
}

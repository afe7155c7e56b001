//! `gcwb report`'s pages in a real browser (headless Chromium, the network
//! off: support/browser.rs): each kind of results folder in
//! tests/fixtures/report/, and all four side by side, is written by the
//! `gcwb` binary and opened; the page must fetch nothing, show its tables
//! and charts with the values of the folder's files (read back from the
//! DOM after the page's script ran), not be blank, and sort its summary
//! table when a header is clicked.

#[path = "support/browser.rs"]
mod browser;
mod common;

use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn fixture(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report").join(kind)
}

/// `gcwb report` of `kinds`' fixtures into `dir`/report.html.
fn write_report(dir: &Path, kinds: &[&str]) -> PathBuf {
    let dirs: Vec<String> = kinds.iter().map(|k| fixture(k).to_string_lossy().into_owned()).collect();
    let mut args = vec!["report"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["-o", "report.html"]);
    ok_in(dir, &args);
    dir.join("report.html")
}

/// What every report page must be in the browser: nothing fetched, not
/// blank, every chart an inline SVG that was laid out, unique ids.
fn assert_self_contained(page: &browser::Page, what: &str) {
    assert_eq!(page.requests, Vec::<String>::new(), "{what}: the page fetched (proxy saw {:?})", page.proxied);
    assert!(!page.is_blank(), "{what}: blank screenshot (variance {})", page.pixel_variance());
    let figures = page.count("figure.chart");
    assert!(figures > 0, "{what}: no chart");
    assert_eq!(page.count("figure.chart > svg"), figures, "{what}: a chart without its inline SVG");
    let ids = page.attrs("[id]", "id");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: an id used twice");
}

#[test]
fn a_run_shows_every_collector_its_verdict_and_its_values() {
    let Some(chromium) = browser::require() else { return };
    let tmp = tmp();
    let page = chromium.open(&write_report(tmp.path(), &["run"]));
    assert_self_contained(&page, "run");
    let summary = read_csv(&fixture("run").join("summary.csv"));
    let names: Vec<&str> = summary.rows.iter().map(|r| col(r, "collector")).collect();
    assert_eq!(page.attrs("table#summary tbody tr", "data-collector"), names);
    for r in &summary.rows {
        let name = col(r, "collector");
        let p99 =
            page.attrs(&format!("#summary tr[data-collector='{name}'] td[data-column='pause_p99_ns']"), "data-value");
        assert_eq!(p99, [col(r, "pause_p99_ns")], "{name}");
        let verdict = page.text(&format!("p.verdict[data-collector='{name}']"));
        assert!(verdict.contains("verified: no reachable block was freed"), "{name}: {verdict}");
    }
    for chart in ["pause-percentiles", "mmu", "pause-timeline", "request-latency"] {
        assert_eq!(page.count(&format!("figure.chart[data-chart='{chart}'] svg")), 1, "{chart}");
    }
    assert_eq!(page.count("#phases tbody tr"), read_csv(&fixture("run").join("phases.csv")).rows.len());
    assert_eq!(page.count("#lbo-table tbody tr"), names.len());
}

#[test]
fn a_compare_shows_the_lbo_of_compare_csv() {
    let Some(chromium) = browser::require() else { return };
    let tmp = tmp();
    let page = chromium.open(&write_report(tmp.path(), &["compare"]));
    assert_self_contained(&page, "compare");
    let compare = read_csv(&fixture("compare").join("compare.csv"));
    for r in &compare.rows {
        let name = col(r, "collector");
        for (column, from) in [("nlbo_wall", "nlbo_wall_median"), ("lbo_cpu_ns", "lbo_cpu_ns_median")] {
            let shown =
                page.attrs(&format!("#lbo-table tr[data-collector='{name}'] td[data-column='{column}']"), "data-value");
            assert_eq!(shown, [col(r, from)], "{name} {column}");
        }
    }
    let lbo = page.text("section#lbo");
    assert!(lbo.contains("lower bound") && lbo.contains("MDC"), "{lbo}");
}

#[test]
fn a_sweep_and_an_import_show_their_own_parts() {
    let Some(chromium) = browser::require() else { return };
    let tmp = tmp();
    let sweep = chromium.open(&write_report(tmp.path(), &["sweep"]));
    assert_self_contained(&sweep, "sweep");
    assert!(sweep.count("table.sweep-points") > 0);
    let charts = sweep.attrs("figure.chart", "data-chart");
    assert!(charts.iter().all(|c| c.starts_with("sweep")), "{charts:?}");
    assert!(charts.iter().any(|c| c.contains("nlbo_wall")), "NLBO against GOGC: {charts:?}");
    assert!(sweep.attrs("table.sweep-points", "data-metric").iter().any(|m| m == "nlbo_wall"));
    let import = chromium.open(&write_report(tmp.path(), &["import"]));
    assert_self_contained(&import, "import");
    assert_eq!(import.count("table#summary tr.imported"), 1);
    assert!(import.texts(".badge").iter().all(|b| b == "imported: go-gctrace"));
    assert_eq!(import.attrs("p.verdict", "data-verdict"), ["unverified"]);
}

#[test]
fn four_folders_side_by_side_share_one_summary_and_keep_their_own_ids() {
    let Some(chromium) = browser::require() else { return };
    let tmp = tmp();
    let page = chromium.open(&write_report(tmp.path(), &["run", "compare", "sweep", "import"]));
    assert_self_contained(&page, "four folders");
    assert_eq!(page.count("section.folder"), 4);
    let kinds = page.attrs("section.folder", "data-kind");
    assert_eq!(kinds, ["run", "compare", "sweep", "import"]);
    // The combined table: the imported runtime is told apart at a glance.
    let imported = page.attrs("#combined table tr.imported", "data-collector");
    assert_eq!(imported, ["go1.19"]);
}

/// Clicks the summary table's `pause p99` header `clicks` times (a script
/// added to the page before it is opened) and returns the p99 values in
/// the order the rows then have.
fn p99_order_after(chromium: &browser::Browser, report: &Path, clicks: usize) -> Vec<f64> {
    let html = std::fs::read_to_string(report).unwrap();
    let click = format!(
        "<script>\
         var th = Array.prototype.find.call(document.querySelectorAll('#summary thead tr:last-child th'),\
           function (h) {{ return h.textContent.trim().indexOf('pause p99') === 0; }});\
         for (var i = 0; i < {clicks}; i++) th.querySelector('button').click();\
         </script></body>"
    );
    assert!(html.contains("</body>"));
    let page = chromium.open_html(&html.replacen("</body>", &click, 1));
    page.attrs("#summary tbody tr td[data-column='pause_p99_ns']", "data-value")
        .iter()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{v} is not a number")))
        .collect()
}

#[test]
fn clicking_a_header_sorts_the_summary_and_again_reverses_it() {
    let Some(chromium) = browser::require() else { return };
    let tmp = tmp();
    let report = write_report(tmp.path(), &["run"]);
    let summary = read_csv(&fixture("run").join("summary.csv"));
    let mut p99: Vec<f64> = summary.rows.iter().map(|r| col(r, "pause_p99_ns").parse().unwrap()).collect();
    p99.sort_by(f64::total_cmp);
    assert_ne!(
        p99,
        summary.rows.iter().map(|r| col(r, "pause_p99_ns").parse::<f64>().unwrap()).collect::<Vec<_>>(),
        "the fixture's own order must not already be sorted, or sorting proves nothing"
    );
    assert_eq!(p99_order_after(&chromium, &report, 1), p99);
    p99.reverse();
    assert_eq!(p99_order_after(&chromium, &report, 2), p99);
}

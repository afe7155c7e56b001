//! Tests of `gcwb report`: the HTML report of the small results folders in
//! `tests/fixtures/report/` (a run of every collector under the verifier,
//! a compare of two repetitions with LBO columns, a sweep of eight cells,
//! an import of a Go gctrace log; `regenerate.sh` makes them), read back
//! as text. They pin down the DOM contract of `harness::html_report` that
//! the browser tests rely on, that values come from the files unchanged,
//! that names are escaped, that the page names no URL, and the command's
//! errors.

mod common;
use common::*;
use harness::html_report::render;
use std::path::{Path, PathBuf};

fn fixture(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report").join(kind)
}

fn report(dirs: &[PathBuf]) -> String {
    render(dirs).unwrap_or_else(|e| panic!("report of {dirs:?}: {e}"))
}

/// The element that starts with `start` (an opening tag's beginning, e.g.
/// `<table id="summary"`), up to its end tag. The report nests no element
/// in one of its own name, but a folder's section, which this is not for.
fn element<'a>(html: &'a str, start: &str) -> &'a str {
    let at = html.find(start).unwrap_or_else(|| panic!("no {start} in the report"));
    let tag: String = start[1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let end = html[at..].find(&format!("</{tag}>")).unwrap_or_else(|| panic!("{start} is not closed"));
    &html[at..at + end + tag.len() + 3]
}

/// Every element of `html` starting with `start`.
fn elements<'a>(html: &'a str, start: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(start) {
        let e = element(&rest[at..], start);
        out.push(e);
        rest = &rest[at + e.len()..];
    }
    out
}

/// The value of attribute `name` in the first tag of `html`.
fn attr<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let tag = &html[..html.find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The `<tr>` of `collector` in `table`.
fn row<'a>(table: &'a str, collector: &str) -> &'a str {
    element(table, &format!("<tr data-collector=\"{collector}\""))
}

/// The `data-value` of the cell of CSV column `column` in `row`.
fn cell_value<'a>(row: &'a str, column: &str) -> Option<&'a str> {
    let at = row.find(&format!("data-column=\"{column}\""))?;
    let start = row[..at].rfind("<td")?;
    attr(&row[start..], "data-value")
}

/// The verdict paragraph of `collector`: (data-verdict, its text).
fn verdict(html: &str, collector: &str) -> (String, String) {
    let p = elements(html, "<p class=\"verdict\"")
        .into_iter()
        .find(|p| attr(p, "data-collector") == Some(collector))
        .unwrap_or_else(|| panic!("no verdict of {collector}"));
    let text = strip_tags(p);
    (attr(p, "data-verdict").unwrap().to_string(), text)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.replace("&#39;", "'")
}

/// Copies a fixture folder into `dir/name` (files only, one level of
/// subfolders), so a test can change it.
fn copy_fixture(kind: &str, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    copy_dir(&fixture(kind), &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// `path`'s text with `from` replaced by `to`.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn a_run_reports_provenance_tables_charts_and_verdicts_from_its_files() {
    let dir = fixture("run");
    let html = report(std::slice::from_ref(&dir));
    let summary_csv = read_csv(&dir.join("summary.csv"));

    let provenance = element(&html, "<section id=\"provenance\"");
    let run_toml: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("run.toml")).unwrap()).unwrap();
    let command = run_toml["command"].as_str().unwrap();
    assert!(provenance.contains(command), "the command is in the provenance");
    for fact in ["rustc", "machine", "finished", "trace", "parameters", "settings"] {
        assert!(provenance.contains(&format!("<dt>{fact}</dt>")), "provenance lacks {fact}");
    }
    assert!(provenance.contains("requests"), "the workload's parameters are listed");

    let summary = element(&html, "<table id=\"summary\"");
    assert!(attr(summary, "class").unwrap().split(' ').any(|c| c == "sortable"));
    for r in &summary_csv.rows {
        let name = col(r, "collector");
        let tr = row(summary, name);
        assert_eq!(cell_value(tr, "pause_p99_ns"), Some(col(r, "pause_p99_ns")), "{name}'s pause p99");
        assert_eq!(cell_value(tr, "wall_ns"), Some(col(r, "wall_ns")), "{name}'s wall time");
        assert_eq!(attr(tr, "data-verdict"), Some("clean"), "{name} was verified clean");
        let (key, words) = verdict(&html, name);
        assert_eq!(key, "clean");
        assert!(
            words.ends_with("verified: no reachable block was freed and every dead heap block was freed"),
            "{words}"
        );
    }
    let ms = summary_csv.rows.iter().find(|r| col(r, "collector") == "mark-sweep").unwrap();
    let pauses = element(&html, "<table id=\"pauses\"");
    assert_eq!(cell_value(row(pauses, "mark-sweep"), "pause_max_ns"), Some(col(ms, "pause_max_ns")));

    let phases_csv = read_csv(&dir.join("phases.csv"));
    let phases = element(&html, "<table id=\"phases\"");
    assert_eq!(elements(phases, "<tr data-collector=").len(), phases_csv.rows.len(), "one row per phases.csv row");
    let first = &phases_csv.rows[0];
    assert_eq!(cell_value(row(phases, col(first, "collector")), "p99_ns"), Some(col(first, "p99_ns")));

    let latency = element(&html, "<table id=\"latency\"");
    assert_eq!(cell_value(row(latency, "mark-sweep"), "span_metered_p99_ns"), Some(col(ms, "span_metered_p99_ns")));

    for chart in ["pause-percentiles", "mmu", "pause-timeline", "request-latency"] {
        let fig = element(&html, &format!("<figure class=\"chart\" data-chart=\"{chart}\""));
        assert!(fig.contains("<svg ") && fig.contains("</svg>") && fig.contains("<figcaption>"), "{chart}");
        assert!(fig.contains("role=\"img\""), "{chart} is labelled as an image");
    }
    // summary.csv has the distilled costs: the LBO of one run each
    // (worked out as a_run_with_distilled_costs_gets_an_lbo_… checks).
    let lbo = element(&html, "<section id=\"lbo\"");
    assert_eq!(elements(element(lbo, "<table id=\"lbo-table\""), "<tr data-collector=").len(), summary_csv.rows.len());
    assert!(!html.contains("class=\"note lbo-absent\""));
}

#[test]
fn a_compare_reports_medians_intervals_and_the_lbo_of_compare_csv() {
    let dir = fixture("compare");
    let html = report(std::slice::from_ref(&dir));
    let compare = read_csv(&dir.join("compare.csv"));
    let summary = element(&html, "<table id=\"summary\"");
    let lbo = element(&html, "<section id=\"lbo\"");
    let table = element(lbo, "<table id=\"lbo-table\"");
    for r in &compare.rows {
        let name = col(r, "collector");
        assert_eq!(cell_value(row(summary, name), "pause_p99_ns"), Some(col(r, "pause_p99_ns_median")), "{name}");
        let tr = row(table, name);
        assert_eq!(cell_value(tr, "nlbo_wall"), Some(col(r, "nlbo_wall_median")), "{name}'s NLBO");
        assert_eq!(cell_value(tr, "lbo_cpu_ns"), Some(col(r, "lbo_cpu_ns_median")), "{name}'s CPU LBO");
        assert_eq!(cell_value(tr, "wall_ns"), Some(col(r, "wall_ns_median")), "{name}'s total");
        let (key, words) = verdict(&html, name);
        assert_eq!(key, "unverified");
        assert!(words.ends_with("not verified — these results were not checked against the oracle"), "{words}");
    }
    // Every LBO cell names its collector.
    for td in elements(table, "<td class=\"num\"") {
        assert!(attr(td, "data-collector").is_some(), "{td}");
    }
    // The MDC is named with the collector whose distilled cost it is.
    let mdc: f64 = col(&compare.rows[0], "mdc_wall_ns").parse().unwrap();
    let base = compare.rows.iter().find(|r| {
        let d: f64 = col(r, "distilled_wall_ns_median").parse().unwrap();
        (d - mdc).abs() <= 0.5
    });
    let base = col(base.expect("the MDC is a collector's median distilled time"), "collector");
    assert!(lbo.contains(&format!("the distilled wall time of {base}")), "MDC names {base}");
    assert!(lbo.contains("a lower bound"), "the paragraph says what LBO is");
    assert!(html.contains("median repetition"), "the charts are said to be of the median repetition");
}

#[test]
fn a_run_with_distilled_costs_gets_an_lbo_worked_out_from_its_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("run", tmp.path(), "run");
    // Two collectors, wall 100 and 150 ms, distilled 90 and 95: MDC 90 (a),
    // LBO 10 and 60 ms, NLBO 1/9 and 2/3.
    std::fs::write(
        dir.join("summary.csv"),
        "trace,collector,wall_ns,status,verify_errors,process_cpu_ns,gc_wall_ns,gc_cpu_ns,distilled_wall_ns,distilled_cpu_ns\n\
         t,a,100000000,ok,,200000000,10000000,20000000,90000000,180000000\n\
         t,b,150000000,ok,,300000000,55000000,60000000,95000000,240000000\n",
    )
    .unwrap();
    let html = report(&[dir]);
    let table = element(&html, "<table id=\"lbo-table\"");
    assert_eq!(cell_value(row(table, "a"), "lbo_wall_ns"), Some("10000000"));
    assert_eq!(cell_value(row(table, "b"), "lbo_wall_ns"), Some("60000000"));
    let nlbo: f64 = cell_value(row(table, "b"), "nlbo_wall").unwrap().parse().unwrap();
    assert!((nlbo - 60.0 / 90.0).abs() < 1e-12, "{nlbo}");
    assert_eq!(cell_value(row(table, "b"), "lbo_cpu_ns"), Some("120000000"), "CPU: 300 − MDC 180");
    assert!(html.contains("the distilled wall time of a"));
    assert!(html.contains("One run of each collector"));
}

#[test]
fn a_sweep_reports_each_chart_with_its_points_and_the_cells() {
    let dir = fixture("sweep");
    let html = report(std::slice::from_ref(&dir));
    let sweep = read_csv(&dir.join("sweep.csv"));
    let mut groups: Vec<(String, String)> = Vec::new();
    for r in &sweep.rows {
        let g = (col(r, "metric").to_string(), col(r, "param").to_string());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let figures = elements(&html, "<figure class=\"chart\" data-chart=\"sweep");
    let tables = elements(&html, "<table id=\"sweep-points-");
    assert_eq!((figures.len(), tables.len()), (groups.len(), groups.len()), "a chart and a table per metric");
    for (metric, param) in &groups {
        let t = tables.iter().find(|t| attr(t, "data-metric") == Some(metric)).expect("a table of each metric");
        assert_eq!(attr(t, "data-param"), Some(param.as_str()));
        assert!(attr(t, "class").unwrap().contains("sweep-points"));
        // Each point's median, by collector and parameter value.
        for r in sweep.rows.iter().filter(|r| col(r, "metric") == metric) {
            let value = col(r, "value");
            let tr = element(t, &format!("<tr data-value=\"{value}\""));
            let at = tr.find(&format!("data-collector=\"{}\"", col(r, "collector"))).expect("a cell per collector");
            let td = &tr[tr[..at].rfind("<td").unwrap()..];
            let shown: f64 = attr(td, "data-value").unwrap().parse().unwrap();
            assert_eq!(shown, col(r, "metric_median").parse::<f64>().unwrap(), "{metric} at {value}");
        }
    }
    let cells = read_csv(&dir.join("cells.csv"));
    let summary = element(&html, "<table id=\"summary\"");
    assert_eq!(elements(summary, "<tr data-collector=").len(), cells.rows.len(), "one row per cell");
    for name in ["mark-sweep", "generational"] {
        assert_eq!(verdict(&html, name).0, "clean", "every cell of {name} was verified clean");
    }
    assert!(element(&html, "<section id=\"provenance\"").contains("gogc"), "the swept parameter is named");
}

#[test]
fn an_imported_runtime_is_marked_at_a_glance() {
    let dir = fixture("import");
    let html = report(std::slice::from_ref(&dir));
    let summary = element(&html, "<table id=\"summary\"");
    let tr = row(summary, "go1.19");
    assert_eq!(attr(tr, "class"), Some("imported"));
    assert!(tr.contains("<span class=\"badge\""), "{tr}");
    assert!(strip_tags(tr).contains("imported: go-gctrace"));
    assert!(tr.contains("swatch dashed"), "its swatch is dashed like its lines");
    let (key, words) = verdict(&html, "go1.19");
    assert_eq!(key, "unverified");
    assert!(words.contains("imported"), "{words}");
    let chart = element(&html, "<figure class=\"chart\" data-chart=\"pause-percentiles\"");
    assert!(chart.contains("dashed, squares: imported runtime logs"), "the chart's legend says so");
}

#[test]
fn several_folders_get_a_combined_table_and_ids_of_their_own() {
    let dirs: Vec<PathBuf> = ["run", "compare", "sweep", "import"].iter().map(|k| fixture(k)).collect();
    let html = report(&dirs);
    let mut ids: Vec<&str> = Vec::new();
    let mut rest = html.as_str();
    while let Some(at) = rest.find(" id=\"") {
        let v = &rest[at + 5..];
        let end = v.find('"').unwrap();
        ids.push(&v[..end]);
        rest = &v[end..];
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "ids are unique: {ids:?}");
    for (n, kind) in ["run", "compare", "sweep", "import"].iter().enumerate() {
        let section = format!("<section class=\"folder\" id=\"f{}\"", n + 1);
        let at = html.find(&section).unwrap_or_else(|| panic!("no {section}"));
        assert_eq!(attr(&html[at..], "data-kind"), Some(*kind));
        assert_eq!(attr(&html[at..], "data-dir"), Some(dirs[n].to_str().unwrap()));
        assert!(html.contains(&format!("id=\"f{}-provenance\"", n + 1)));
    }
    let combined = element(&html, "<section id=\"combined\"");
    let summary = element(combined, "<table id=\"summary\"");
    for (dir, name) in [("run", "sticky"), ("compare", "concurrent"), ("import", "go1.19")] {
        let tr = elements(summary, "<tr data-collector=")
            .into_iter()
            .find(|tr| attr(tr, "data-collector") == Some(name) && attr(tr, "data-dir") == Some(dir));
        assert!(tr.is_some(), "{dir}/{name} in the combined table");
    }
    assert!(html.contains("id=\"f2-lbo-table\""), "the compare's LBO, scoped");
}

#[test]
fn names_from_the_files_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("import", tmp.path(), "we<ird&\"dir");
    let evil = "<b>&\"x";
    for f in ["summary.csv", "pauses.csv", "phases.csv", "cycles.csv", "mmu.csv"] {
        edit(&dir.join(f), "go1.19", "\"<b>&\"\"x\"");
    }
    let html = report(std::slice::from_ref(&dir));
    assert!(!html.contains(evil), "a raw name made it into the page");
    assert!(!html.contains("we<ird"), "a raw folder name made it into the page");
    assert!(html.contains("data-collector=\"&lt;b&gt;&amp;&quot;x\""));
    assert!(html.contains("we&lt;ird&amp;&quot;dir"));
    // The charts' legends too (plotters escapes its text).
    let fig = element(&html, "<figure class=\"chart\" data-chart=\"pause-percentiles\"");
    assert!(fig.contains("&lt;b&gt;&amp;"), "the legend names it, escaped");
}

#[test]
fn violations_are_a_warning_in_plain_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("run", tmp.path(), "run");
    let summary = read_csv(&dir.join("summary.csv"));
    // mark-sweep's row: set verify_errors to 3.
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let at = summary.headers.iter().position(|h| h == "verify_errors").unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            if cells[1] == "mark-sweep" {
                cells[at] = "3";
            }
            cells.join(",")
        })
        .collect();
    std::fs::write(dir.join("summary.csv"), lines.join("\n") + "\n").unwrap();
    let html = report(&[dir]);
    let (key, words) = verdict(&html, "mark-sweep");
    assert_eq!(key, "violations");
    assert!(words.ends_with("3 violations — these results are not trustworthy"), "{words}");
    assert_eq!(verdict(&html, "concurrent").0, "clean");
}

#[test]
fn the_page_fetches_nothing() {
    let dirs: Vec<PathBuf> = ["run", "compare", "sweep", "import"].iter().map(|k| fixture(k)).collect();
    for html in dirs.iter().map(|d| report(std::slice::from_ref(d))).chain([report(&dirs)]) {
        for banned in ["http://", "https://", "url(", "@import", "<link rel=\"stylesheet\"", "<img"] {
            assert!(!html.contains(banned), "the page contains {banned}");
        }
        let mut rest = html.as_str();
        while let Some(at) = rest.find("src=") {
            let v = &rest[at + 4..];
            assert!(v.starts_with("\"data:"), "a src= that is not data: {}", &v[..v.len().min(40)]);
            rest = v;
        }
        assert!(html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; script-src &#39;unsafe-inline&#39;; img-src data:\">"
        ));
        assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
        assert!(html.contains("@media print"));
    }
}

#[test]
fn gcwb_report_writes_the_file_and_refuses_bad_folders_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture("run");
    let out = tmp.path().join("r.html");
    let args = ["report", run.to_str().unwrap(), "-o", out.to_str().unwrap()];
    let o = ok_in(tmp.path(), &args);
    assert!(stdout(&o).starts_with(&format!("wrote {}", out.display())), "{}", describe(&args, &o));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("<!DOCTYPE html>"));

    let expect_error = |args: &[&str], fragment: &str| {
        let o = gcwb_in(tmp.path(), args);
        assert_eq!(o.status.code(), Some(2), "{}", describe(args, &o));
        assert_no_panic(args, &o);
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{}", describe(args, &o));
        assert!(e.contains(fragment), "{}", describe(args, &o));
    };
    expect_error(&["report", "missing", "-o", "x.html"], "gcwb: missing: no such directory");
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    expect_error(&["report", "empty", "-o", "x.html"], "gcwb: empty: not a gcwb results folder");
    let bad = copy_fixture("run", tmp.path(), "bad");
    let pauses = std::fs::read_to_string(bad.join("pauses.csv")).unwrap();
    let second = pauses.lines().nth(1).unwrap().to_string();
    let cells: Vec<&str> = second.split(',').collect();
    edit(&bad.join("pauses.csv"), &second, &second.replacen(cells[3], "soon", 1));
    expect_error(
        &["report", "bad", "-o", "x.html"],
        "pauses.csv: line 2: column `duration_ns`: expected a whole number",
    );
    std::fs::write(bad.join("pauses.csv"), pauses).unwrap();
    edit(&bad.join("run.toml"), "written_by", "written_by = = ");
    expect_error(&["report", "bad", "-o", "x.html"], "run.toml");
    assert!(!tmp.path().join("x.html").exists(), "nothing written on an error");
}

#[test]
fn report_flags_write_report_html_next_to_the_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["run", "--workload", "server", "--set", "requests=20", "-c", "mark-sweep", "--procs", "1", "-q"];
    ok_in(tmp.path(), &[&args[..], &["--no-charts", "--report", "--out", "r"]].concat());
    let html = std::fs::read_to_string(tmp.path().join("r/report.html")).unwrap();
    assert!(html.contains("<tr data-collector=\"mark-sweep\""));
    let args = ["compare", "--workload", "server", "--set", "requests=20", "-c", "mark-sweep,none", "--repeat", "1"];
    ok_in(tmp.path(), &[&args[..], &["--procs", "1", "-q", "--no-charts", "--report", "--out", "c"]].concat());
    let html = std::fs::read_to_string(tmp.path().join("c/report.html")).unwrap();
    assert!(html.contains("data-kind=\"compare\""));
    // A compare into the folder without --report removes the earlier report
    // (and warns that the folder held another command's results).
    let again = [&args[..], &["--procs", "1", "-q", "--no-charts", "--out", "c"]].concat();
    let o = gcwb_in(tmp.path(), &again);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&again, &o));
    assert!(!tmp.path().join("c/report.html").exists(), "a stale report.html is left beside new results");
}

//! Every results folder describes itself, and holds nothing of an earlier
//! run: end-to-end tests of `run.toml` and of the clean-up of `--out`,
//! through the real binary in temporary directories.
//!
//! What they pin down: `gcwb run`, `gcwb compare` (the top level and each
//! `reps/<r>/`) and every cell of `gcwb sweep` write a `run.toml` that
//! parses and says the command line, the build, the machine, the trace
//! (a file's size and CRC-32, a workload's seed and parameters) and every
//! setting; a command writing into a folder of another command's results
//! warns, and removes the result files it does not write (a
//! `pauses-sticky.hlog` of an earlier compare), leaving other files alone;
//! the same command again does not warn; a sweep's folder is refused.

mod common;
use common::*;
use std::path::Path;

fn run_toml(dir: &Path) -> toml::Table {
    let path = dir.join("run.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

fn text<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("run.toml: no text {key} in {t:?}"))
}

/// The fields every run.toml has, with plausible values.
fn assert_describes_itself(t: &toml::Table, written_by: &str, subcommand: &str) {
    assert_eq!(text(t, "written_by"), written_by);
    let argv: Vec<&str> = t["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(argv[1], subcommand, "{argv:?}");
    assert!(text(t, "command").contains(&format!(" {subcommand} ")), "{t:?}");
    assert_eq!(text(t, "gcwb_version"), env!("CARGO_PKG_VERSION"));
    let commit = text(t, "git_commit");
    assert!(commit == "unknown" || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{commit}");
    assert!(text(t, "machine").contains(" cores, "), "{t:?}");
    assert!(t["finished_unix_s"].as_integer().unwrap() > 1_600_000_000);
    let settings = t["settings"].as_table().unwrap();
    for s in ["procs", "gogc", "memlimit", "no_stack", "arch", "max_stack", "verify", "warmup"] {
        assert!(settings.contains_key(s), "no setting {s} in {settings:?}");
    }
    // The collector options in effect: those a collector of the run takes.
    let run: Vec<&str> = t["collectors"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for o in collectors::registry::all_options() {
        let taken = run.iter().any(|c| collectors::registry::find(c).unwrap().option(o.name).is_some());
        assert_eq!(settings.contains_key(&o.key()), taken, "option {} with collectors {run:?}: {settings:?}", o.key());
    }
    assert!(t["trace"]["events"].as_integer().unwrap() > 0);
}

#[test]
fn run_writes_run_toml_with_the_workload_and_every_setting() {
    let t = tmp();
    let args = [
        "run",
        "--workload",
        "server",
        "--seed",
        "9",
        "--set",
        "requests=20",
        "--set",
        "goroutines=3",
        "-c",
        "mark-sweep,none",
        "--procs",
        "1",
        "--gogc",
        "off",
        "--warmup",
        "1",
        "-q",
        "--no-charts",
        "--out",
        "o",
    ];
    ok_in(t.path(), &args);
    let r = run_toml(&t.path().join("o"));
    assert_describes_itself(&r, "run", "run");
    let argv: Vec<&str> = r["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(argv[1..], args, "the exact command line");
    assert_eq!(r["collectors"].as_array().unwrap().len(), 2);
    let s = r["settings"].as_table().unwrap();
    assert_eq!(
        (s["procs"].as_integer(), s["gogc"].as_str(), s["warmup"].as_integer()),
        (Some(1), Some("off"), Some(1))
    );
    let trace = r["trace"].as_table().unwrap();
    assert_eq!((trace["source"].as_str(), trace["workload"].as_str()), (Some("workload"), Some("server")));
    assert_eq!(trace["seed"].as_integer(), Some(9));
    let set: Vec<&str> = trace["set"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(set, ["requests=20", "goroutines=3"]);
    assert_eq!(trace["params"]["goroutines"].as_float(), Some(3.0));
    assert!(trace["params"].as_table().unwrap().len() > 2, "every parameter, not only those set");
    let summary = read_csv(&t.path().join("o/summary.csv"));
    assert_eq!(trace["events"].as_integer().unwrap().to_string(), col(&summary.rows[0], "events"));
}

#[test]
fn a_collector_option_given_is_the_one_run_toml_records_and_a_bad_one_is_refused() {
    let t = tmp();
    let run = |card: &'static str, collectors: &'static str| {
        let args = ["run", "--workload", "queue", "--set", "events=3000", "-c", collectors, "--card-bytes", card];
        let args: Vec<&str> = args.iter().copied().chain(["--procs", "1", "-q", "--no-charts", "--out", "o"]).collect();
        (gcwb_in(t.path(), &args), args)
    };
    for (card, recorded) in [("2KiB", 2048), ("64", 64)] {
        let (o, args) = run(card, "generational,mark-sweep");
        assert_eq!(o.status.code(), Some(0), "{}", describe(&args, &o));
        let r = run_toml(&t.path().join("o"));
        assert_describes_itself(&r, "run", "run");
        assert_eq!(r["settings"]["card_bytes"].as_integer(), Some(recorded));
        assert_eq!(r["settings"]["tenure_age"].as_integer(), Some(1), "the others at their defaults");
    }
    let (o, args) = run("1000", "generational");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    assert!(stderr(&o).contains("--card-bytes") && stderr(&o).contains("power of two"), "{}", stderr(&o));
    assert_no_panic(&args, &o);
}

#[test]
fn a_trace_files_size_and_crc32_are_recorded() {
    let t = tmp();
    ok_in(t.path(), &["gen", "queue", "--set", "events=3000", "-o", "q.gctb"]);
    ok_in(t.path(), &["run", "q.gctb", "-c", "none", "--procs", "1", "-q", "--no-charts", "--out", "o"]);
    let r = run_toml(&t.path().join("o"));
    let trace = r["trace"].as_table().unwrap();
    let bytes = std::fs::read(t.path().join("q.gctb")).unwrap();
    assert_eq!(trace["source"].as_str(), Some("file"));
    assert_eq!(trace["path"].as_str(), Some("q.gctb"));
    assert!(trace["absolute_path"].as_str().unwrap().ends_with("/q.gctb"));
    assert_eq!(trace["bytes"].as_integer(), Some(bytes.len() as i64));
    assert_eq!(trace["crc32"].as_str().unwrap(), format!("{:08x}", crc32fast::hash(&bytes)));
    assert!(trace.get("seed").is_none());
}

#[test]
fn compare_writes_run_toml_at_the_top_and_in_each_repetition() {
    let t = tmp();
    let args = ["compare", "--workload", "server", "--set", "requests=10", "-c", "none,mark-sweep", "--repeat", "2"];
    let args: Vec<&str> = args.iter().copied().chain(["--procs", "1", "-q", "--no-charts", "--out", "o"]).collect();
    ok_in(t.path(), &args);
    let top = run_toml(&t.path().join("o"));
    assert_describes_itself(&top, "compare", "compare");
    assert_eq!(top["repeat"].as_integer(), Some(2));
    for r in 1..=2 {
        let rep = run_toml(&t.path().join(format!("o/reps/{r}")));
        assert_describes_itself(&rep, "compare repetition", "compare");
        assert_eq!(rep["repetition"].as_integer(), Some(r));
        let order: Vec<&str> = rep["collectors"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(order, if r == 1 { ["none", "mark-sweep"] } else { ["mark-sweep", "none"] }, "in the order run");
    }
}

#[test]
fn every_sweep_cell_has_a_run_toml_naming_it() {
    let t = tmp();
    std::fs::write(
        t.path().join("e.toml"),
        "collectors = [\"none\", \"mark-sweep\"]\n[sweep]\ngogc = [50, 100]\nprocs = 1\n[[workload]]\nname = \"server\"\nset = { requests = 10 }\n",
    )
    .unwrap();
    ok_in(t.path(), &["sweep", "e.toml", "--out", "s", "-q", "--no-charts"]);
    let cells: Vec<_> = std::fs::read_dir(t.path().join("s/cells")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(cells.len(), 4);
    for cell in cells {
        let r = run_toml(&cell);
        assert_describes_itself(&r, "sweep cell", "sweep");
        let id = cell.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(text(&r, "cell"), id);
        let gogc = if id.contains("gogc-50") { "50" } else { "100" };
        assert_eq!(r["settings"]["gogc"].as_str(), Some(gogc), "{id}");
        assert_eq!(r["trace"]["params"]["requests"].as_float(), Some(10.0), "{id}");
        let collector = r["collectors"][0].as_str().unwrap();
        assert!(id.contains(&format!("_{collector}_")), "{id}: {collector}");
    }
}

#[test]
fn another_commands_files_are_removed_with_a_warning_and_the_same_command_again_is_quiet() {
    let t = tmp();
    let dir = t.path();
    let compare = ["compare", "--workload", "server", "--set", "requests=10", "-c", "mark-sweep,sticky", "--repeat"];
    let compare: Vec<&str> = compare.iter().copied().chain(["2", "--procs", "1", "-q", "--out", "o"]).collect();
    ok_in(dir, &compare);
    let out = dir.join("o");
    for f in ["pauses-sticky.hlog", "compare.csv", "runs.csv", "reps/2/pauses-sticky.hlog", "mmu.png"] {
        assert!(out.join(f).is_file(), "{f} after the compare");
    }
    std::fs::write(out.join("COMMAND.txt"), "machine: a script's note\n").unwrap();

    let run = ["run", "--workload", "server", "--set", "requests=10", "-c", "mark-sweep", "--procs", "1", "-q"];
    let run: Vec<&str> = run.iter().copied().chain(["--no-charts", "--out", "o"]).collect();
    let o = gcwb_in(dir, &run);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&run, &o));
    let warning = stderr(&o);
    assert!(
        warning.starts_with("gcwb: warning: o: holds the results of another command (`")
            && warning.contains(" compare --workload server")
            && warning.lines().count() == 1,
        "{warning}"
    );
    for stale in ["pauses-sticky.hlog", "compare.csv", "runs.csv", "reps", "mmu.png", "pause-timeline.png"] {
        assert!(!out.join(stale).exists(), "{stale} of the compare is still there");
    }
    for kept in ["pauses-mark-sweep.hlog", "summary.csv", "run.toml", "COMMAND.txt"] {
        assert!(out.join(kept).is_file(), "{kept} is gone");
    }
    assert_eq!(text(&run_toml(&out), "written_by"), "run");
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(summary.rows.len(), 1);

    // The same command again: nothing to warn about.
    ok_in(dir, &run);
    // Results without a run.toml (an older gcwb's) are another command's too.
    std::fs::remove_file(out.join("run.toml")).unwrap();
    let o = gcwb_in(dir, &run);
    assert!(stderr(&o).contains("holds the results of an earlier gcwb command (no run.toml"), "{}", stderr(&o));
}

#[test]
fn a_sweeps_folder_is_refused_and_left_as_it_was() {
    let t = tmp();
    std::fs::write(
        t.path().join("e.toml"),
        "collectors = \"none\"\n[sweep]\nprocs = 1\n[[workload]]\nname = \"server\"\nset = { requests = 5 }\n",
    )
    .unwrap();
    ok_in(t.path(), &["sweep", "e.toml", "--out", "s", "-q", "--no-charts"]);
    let before = std::fs::read_dir(t.path().join("s")).unwrap().count();
    let args = ["run", "--workload", "server", "--set", "requests=5", "-c", "none", "-q", "--out", "s"];
    let o = gcwb_in(t.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&args, &o));
    assert_no_panic(&args, &o);
    assert!(stderr(&o).contains("holds a sweep's results (experiment.toml)"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(t.path().join("s")).unwrap().count(), before);
    assert!(!t.path().join("s/summary.csv").exists());
}

//! Every results folder describes itself: `run.toml`, and the clean-up of
//! an earlier run's files before a command writes into a folder.
//!
//! # `run.toml`
//!
//! Written by `gcwb run` and `gcwb compare` into `--out` (and by compare
//! into each `reps/<r>/`), and by `gcwb sweep` into each cell's directory,
//! beside the CSV files it describes ([`RunToml`]):
//!
//! ```toml
//! written_by = "compare"        # run, compare, compare repetition, sweep cell
//! command = "gcwb compare --workload server --set requests=2000 --repeat 3 --out r"
//! argv = ["gcwb", "compare", "--workload", "server", …]   # exactly as given
//! gcwb_version = "0.1.0"
//! git_commit = "73c67b1…"       # the commit built from (build.rs); "unknown" outside git
//! rustc = "rustc 1.88.0 (…)"
//! machine = "2 cores, x86_64, AMD EPYC 7B13, 8 GiB"
//! finished_unix_s = 1767225600
//! collectors = ["mark-sweep", "concurrent"]
//! repeat = 3                    # compare; `repetition = r` in reps/<r>/, `cell = "<id>"` in a cell
//!
//! [settings]                    # every run setting, as replayed (procs: the number used)
//! procs = 2
//! gogc = "100"                  # or "off"
//! memlimit = "off"              # or bytes
//! no_stack = false
//! arch = "64"
//! max_stack = 1000000000        # the limit in force (--max-stack, or --arch's default)
//! verify = false
//! warmup = 0
//! card_bytes = 512              # then each option a collector of the run takes
//! nursery = 0                   #   (snake_case, in name order), set or at its
//! pretenure_bytes = 32768       #   default: bytes and counts as integers, a switch
//! tenure_age = 1                #   true or false; the nursery's 0: the collector's own
//!
//! [trace]
//! source = "workload"           # or "file"
//! name = "server"               # the name results give the trace
//! events = 1234567
//! workload = "server"           # a workload: its name, seed, every --set
//! seed = 1                      #   as given, and every parameter's value
//! set = ["requests=2000"]
//! params = { requests = 2000.0, goroutines = 16.0, … }
//! # a file: path (as given), absolute_path, bytes, crc32 (hex; CRC-32 of
//! # the file's bytes as zlib computes it, from a second read of the file
//! # after it was loaded)
//! ```
//!
//! The machine line is the one `scripts/reproduce.sh` writes into
//! `COMMAND.txt` (`nproc` cores, `uname -m`, the CPU model, memory in GiB).
//!
//! # An output folder used before
//!
//! [`OutDir::check`], before any replay: a folder holding a sweep
//! (`experiment.toml`) is refused (its cells may be hours of work);
//! a folder holding gcwb results of another command — a `run.toml` whose
//! `argv` (after the program name) differs, or gcwb's result files and no
//! `run.toml` — gets a one-line warning on stderr. Then [`OutDir::clear`],
//! after the replays and before anything is written: every file gcwb
//! names in a run or compare folder ([`is_result_file`]: the run CSVs,
//! `pauses-*.hlog`, `compare.csv`, `runs.csv`, `run.toml`, `report.html`,
//! the run charts)
//! is removed, as is each `reps/<k>/`'s, so no file of an earlier run
//! (a `pauses-sticky.hlog` of an earlier compare, say) sits beside this
//! one's. Other files (a script's `COMMAND.txt`, your notes) are left
//! alone. A command refused for bad input, or stopped before its replays
//! end, removes nothing.

use crate::engine::{workload_params, Prepared, TraceSource};
use crate::options::{Arch, RunSettings};
use crate::report::write_atomically;
use collectors::registry::{self, CollectorInfo};
use collectors::{OptionKind, PlanOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The file's name.
pub const RUN_FILE: &str = "run.toml";

/// The git commit gcwb was built from, or `unknown` (build.rs).
pub const GIT_COMMIT: &str = env!("GCWB_GIT_COMMIT");

/// The compiler gcwb was built with, or `unknown` (build.rs).
pub const RUSTC: &str = env!("GCWB_RUSTC");

/// `run.toml`: what produced the results beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunToml {
    /// `run`, `compare`, `compare repetition` or `sweep cell`.
    pub written_by: String,
    /// The command line, quoted for a POSIX shell.
    pub command: String,
    /// The command line's arguments, exactly.
    pub argv: Vec<String>,
    pub gcwb_version: String,
    pub git_commit: String,
    pub rustc: String,
    pub machine: String,
    pub finished_unix_s: u64,
    pub collectors: Vec<String>,
    /// `gcwb compare`'s repetitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<usize>,
    /// In `reps/<r>/`: r.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<usize>,
    /// A sweep cell's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    pub settings: SettingsToml,
    pub trace: TraceToml,
}

/// Every run setting, as replayed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsToml {
    /// Worker threads: `--procs`, or the machine's cores.
    pub procs: usize,
    /// A percentage, or `off`.
    pub gogc: String,
    /// Bytes, or `off`.
    pub memlimit: String,
    pub no_stack: bool,
    /// `64` or `32`.
    pub arch: String,
    /// The goroutine stack limit in force, in bytes.
    pub max_stack: u64,
    pub verify: bool,
    pub warmup: u32,
    /// Each option a collector of the run takes, by its snake_case key,
    /// with the value in effect (set, or the option's default): bytes and
    /// counts as integers, a switch as a boolean
    /// ([`SettingsToml::plan_options`] reads them back).
    #[serde(flatten)]
    pub options: BTreeMap<String, toml::Value>,
}

impl SettingsToml {
    /// The settings `s` of a run of `collectors`.
    pub fn new(s: &RunSettings, collectors: &[&CollectorInfo], verify: bool, warmup: u32) -> SettingsToml {
        let mut options = BTreeMap::new();
        for spec in registry::all_options() {
            if collectors.iter().any(|c| c.option(spec.name).is_some()) {
                let v = s.options.get(spec);
                let value = match spec.kind {
                    OptionKind::Switch => toml::Value::Boolean(v != 0),
                    OptionKind::Bytes | OptionKind::Count => toml::Value::Integer(i64::try_from(v).unwrap_or(i64::MAX)),
                };
                options.insert(spec.key(), value);
            }
        }
        SettingsToml {
            procs: s.procs(),
            gogc: s.gogc.0.map_or("off".to_string(), |g| g.to_string()),
            memlimit: s.memlimit.0.map_or("off".to_string(), |b| b.to_string()),
            no_stack: s.no_stack,
            arch: match s.arch {
                Arch::Bits64 => "64".to_string(),
                Arch::Bits32 => "32".to_string(),
            },
            max_stack: s.stack_limit().setting,
            verify,
            warmup,
            options,
        }
    }

    /// The collector options recorded, read back: every key that names an
    /// option of the registry, at its value (an older file's `nursery =
    /// "default"` is no value: the collector's own). A value an option does
    /// not take is an error naming it.
    pub fn plan_options(&self) -> Result<PlanOptions, String> {
        let mut out = PlanOptions::default();
        for (key, value) in &self.options {
            let Some(spec) = registry::find_option(key) else { continue };
            let text = match value {
                toml::Value::String(s) if s == "default" => continue,
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => return Err(format!("run.toml: settings.{key}: expected a number, got {other}")),
            };
            let v = match (spec.kind, spec.parse(&text)) {
                (_, Ok(v)) => v,
                // The default recorded for an option whose default is "the
                // collector's own" (0) is not a value one could set.
                (OptionKind::Bytes | OptionKind::Count, Err(_)) if text == "0" && spec.default == 0 => continue,
                (_, Err(e)) => return Err(format!("run.toml: settings.{key}: {e}")),
            };
            out.set(spec.name, v);
        }
        Ok(out)
    }
}

/// The trace replayed: a file, or a built-in workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceToml {
    /// `file`, `go` or `workload`.
    pub source: String,
    /// The name the results give it (`summary.csv`'s `trace`).
    pub name: String,
    pub events: u64,
    /// A file: as given on the command line (or in the experiment file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// CRC-32 (IEEE, as zlib computes it) of the file's bytes, 8 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    /// A Go program: who placed its allocation sites (`--escape`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escape: Option<String>,
    /// A prepared file (`gcwb prepare`): the trace it was prepared from, as
    /// that command named it, and that trace's size and CRC-32 when it was
    /// a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared_from_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared_from_crc32: Option<String>,
    /// A workload: its name, seed, `--set` values as given, and the value
    /// of each of its parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, f64>>,
}

/// A file's size and CRC-32, read anew (so it describes the bytes on disk,
/// not what a decoder made of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigest {
    pub bytes: u64,
    pub crc32: u32,
}

impl FileDigest {
    pub fn of(path: &Path) -> io::Result<FileDigest> {
        use io::Read;
        let mut f = fs::File::open(path)?;
        let mut h = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            bytes += n as u64;
        }
        Ok(FileDigest { bytes, crc32: h.finalize() })
    }
}

impl TraceToml {
    /// The description of `p`, loaded from `source`; a file's digest is
    /// `digest` (see [`FileDigest::of`]; `None` when it could not be read).
    pub fn new(source: &TraceSource, p: &Prepared, digest: Option<FileDigest>) -> TraceToml {
        let mut t = TraceToml {
            source: String::new(),
            name: p.name.clone(),
            events: p.trace.events() as u64,
            path: None,
            absolute_path: None,
            bytes: None,
            crc32: None,
            escape: None,
            prepared_from: None,
            prepared_from_bytes: None,
            prepared_from_crc32: None,
            workload: None,
            seed: None,
            set: None,
            params: None,
        };
        match source {
            TraceSource::File(path) | TraceSource::Go { path, .. } => {
                t.source = if matches!(source, TraceSource::Go { .. }) { "go" } else { "file" }.to_string();
                if let TraceSource::Go { escape, .. } = source {
                    t.escape = Some(escape.name().to_string());
                }
                t.path = Some(path.display().to_string());
                t.absolute_path = fs::canonicalize(path).ok().map(|a| a.display().to_string());
                t.bytes = digest.map(|d| d.bytes);
                t.crc32 = digest.map(|d| format!("{:08x}", d.crc32));
                if let Some(o) = &p.prepared_from {
                    t.prepared_from = Some(o.name.clone());
                    if o.bytes > 0 {
                        t.prepared_from_bytes = Some(o.bytes);
                        t.prepared_from_crc32 = Some(format!("{:08x}", o.crc32));
                    }
                }
            }
            TraceSource::Workload { name, seed, set } => {
                t.source = "workload".to_string();
                t.workload = Some(name.clone());
                t.seed = Some(*seed);
                t.set = Some(set.clone());
                t.params = workload_params(name, *seed, set)
                    .ok()
                    .map(|(w, params)| w.params.iter().map(|s| (s.name.to_string(), params.get(s.name))).collect());
            }
        }
        t
    }

    /// The description of `p` loaded from `source`, reading a file's
    /// digest (a warning on stderr when it cannot be read).
    pub fn describe(source: &TraceSource, p: &Prepared) -> TraceToml {
        let digest = match source {
            TraceSource::File(path) | TraceSource::Go { path, .. } => match FileDigest::of(path) {
                Ok(d) => Some(d),
                Err(e) => {
                    eprintln!("gcwb: warning: {}: cannot read it again for run.toml's checksum: {e}", path.display());
                    None
                }
            },
            TraceSource::Workload { .. } => None,
        };
        TraceToml::new(source, p, digest)
    }
}

impl RunToml {
    /// The record of a command (`written_by`, see [`RunToml::written_by`])
    /// run as `argv` on `trace` with `collectors` and `settings`.
    pub fn new(
        written_by: &str,
        argv: Vec<String>,
        trace: TraceToml,
        collectors: Vec<String>,
        settings: SettingsToml,
    ) -> RunToml {
        RunToml {
            written_by: written_by.to_string(),
            command: shell_words(&argv),
            argv,
            gcwb_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: GIT_COMMIT.to_string(),
            rustc: RUSTC.to_string(),
            machine: machine_line(),
            finished_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            collectors,
            repeat: None,
            repetition: None,
            cell: None,
            settings,
            trace,
        }
    }

    /// The file's text, with a comment saying what it is.
    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| format!("run.toml: {e}"))?;
        Ok(format!("# What produced the gcwb results in this folder.\n{body}"))
    }

    /// Writes `dir/run.toml` (through a temporary file and a rename).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let text = self.to_toml().map_err(io::Error::other)?;
        write_atomically(&dir.join(RUN_FILE), text.as_bytes())
    }

    /// Reads `dir/run.toml`; `None` when there is none, an error message
    /// when it does not parse.
    pub fn read(dir: &Path) -> Option<Result<RunToml, String>> {
        let path = dir.join(RUN_FILE);
        let text = fs::read_to_string(&path).ok()?;
        Some(toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())))
    }
}

/// This process's command line, lossily as UTF-8.
pub fn current_argv() -> Vec<String> {
    std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect()
}

/// `argv` as one line a POSIX shell reads back: words with anything but
/// `[A-Za-z0-9_./=:,+@%^-]` single-quoted.
pub fn shell_words(argv: &[String]) -> String {
    let quote = |w: &String| {
        let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+@%^-".contains(c);
        if !w.is_empty() && w.chars().all(plain) {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', r"'\''"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// The machine, in `scripts/reproduce.sh`'s words: `2 cores, x86_64, AMD
/// EPYC 7B13, 8 GiB` (the cores this process may use, the architecture,
/// the CPU model and the memory; `unknown cpu`/`unknown memory` when
/// `/proc` does not say).
pub fn machine_line() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "model name" && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".to_string());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| "unknown memory".to_string(), |kib| format!("{:.0} GiB", kib as f64 / 1_048_576.0));
    format!("{cores} cores, {}, {cpu}, {mem}", std::env::consts::ARCH)
}

/// The files gcwb itself writes into a run or compare folder (and `gcwb
/// import`'s, a subset): the run CSVs, `pauses-<collector>.hlog`,
/// `compare.csv`, `runs.csv`, `run.toml`, `report.html` (`--report`),
/// and the run charts in either format.
pub fn is_result_file(name: &str) -> bool {
    const FILES: [&str; 16] = [
        "summary.csv",
        "assists.csv",
        "gc_slices.csv",
        "pauses.csv",
        "safepoints.csv",
        "cycles.csv",
        "spans.csv",
        "span_percentiles.csv",
        "span_log.csv.gz",
        "causes.csv",
        "mmu.csv",
        "phases.csv",
        "compare.csv",
        "runs.csv",
        RUN_FILE,
        crate::html_report::REPORT_FILE,
    ];
    let chart = || {
        crate::charts::RUN_CHARTS
            .iter()
            .any(|stem| name.strip_prefix(stem).is_some_and(|ext| [".png", ".svg"].contains(&ext)))
    };
    FILES.contains(&name) || (name.starts_with("pauses-") && name.ends_with(".hlog")) || chart()
}

/// A `--out` folder of `run` or `compare`.
pub struct OutDir {
    pub dir: PathBuf,
}

/// The file that marks a folder as a sweep's (`gcwb sweep` copies its
/// experiment there): named here, below the sweep, so that the check of an
/// `--out` folder needs nothing from the commands above it.
pub const SWEEP_EXPERIMENT_FILE: &str = "experiment.toml";

impl OutDir {
    /// Looks at `dir` before a command run as `argv` writes into it:
    /// refuses a sweep's folder; warns on stderr when it holds results of
    /// another command. The error is one line.
    pub fn check(dir: &Path, argv: &[String]) -> Result<OutDir, String> {
        if dir.join(SWEEP_EXPERIMENT_FILE).is_file() {
            return Err(format!(
                "{}: holds a sweep's results ({}): use another --out (its cells would be mixed with this command's \
                 files)",
                dir.display(),
                SWEEP_EXPERIMENT_FILE
            ));
        }
        if let Some(other) = other_results(dir, argv) {
            eprintln!(
                "gcwb: warning: {}: holds the results of {other}: they are removed and replaced by this command's",
                dir.display()
            );
        }
        Ok(OutDir { dir: dir.to_path_buf() })
    }

    /// Removes every result file gcwb names ([`is_result_file`]) from the
    /// folder and from each of its `reps/<k>/`, and the `reps/<k>/` left
    /// empty; the files this command writes next are then all of them. A
    /// file that cannot be removed is a warning.
    pub fn clear(&self) {
        remove_results(&self.dir);
        let reps = self.dir.join("reps");
        if let Ok(entries) = fs::read_dir(&reps) {
            for e in entries.flatten() {
                let numbered = e.file_name().to_str().is_some_and(|n| n.parse::<usize>().is_ok());
                if numbered && e.path().is_dir() {
                    remove_results(&e.path());
                    let _ = fs::remove_dir(e.path());
                }
            }
            let _ = fs::remove_dir(&reps);
        }
    }
}

/// Removes `dir`'s result files.
fn remove_results(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_str().is_some_and(is_result_file) && e.path().is_file() {
            if let Err(err) = fs::remove_file(e.path()) {
                eprintln!("gcwb: warning: cannot remove {}: {err}", e.path().display());
            }
        }
    }
}

/// What `dir` holds of another command than `argv`'s, in words: `None`
/// when it holds no gcwb results, or those of the same command line.
fn other_results(dir: &Path, argv: &[String]) -> Option<String> {
    let args = |a: &[String]| a.get(1..).unwrap_or_default().to_vec();
    match RunToml::read(dir) {
        Some(Ok(prior)) if args(&prior.argv) == args(argv) => None,
        Some(Ok(prior)) => Some(format!("another command (`{}`)", prior.command)),
        Some(Err(_)) => Some(format!("another command (its {RUN_FILE} does not parse)")),
        None => {
            let found = fs::read_dir(dir).ok()?.flatten().any(|e| e.file_name().to_str().is_some_and(is_result_file));
            found.then(|| format!("an earlier gcwb command (no {RUN_FILE} says which)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload_toml() -> RunToml {
        let src = TraceSource::Workload { name: "queue".into(), seed: 7, set: vec!["events=2000".into()] };
        let p = crate::engine::prepare(&src, false).unwrap();
        let mut run_settings = RunSettings::default();
        run_settings.set("card_bytes", "1KiB").unwrap();
        let chosen = [registry::find("none").unwrap(), registry::find("generational").unwrap()];
        let settings = SettingsToml::new(&run_settings, &chosen, true, 2);
        RunToml::new(
            "run",
            vec!["gcwb".into(), "run".into()],
            TraceToml::new(&src, &p, None),
            chosen.iter().map(|c| c.name.to_string()).collect(),
            settings,
        )
    }

    #[test]
    fn run_toml_round_trips_and_names_every_setting() {
        let r = workload_toml();
        let text = r.to_toml().unwrap();
        assert!(text.starts_with("# What produced"), "{text}");
        let back: RunToml = toml::from_str(&text).unwrap();
        assert_eq!(back, r);
        let v: toml::Table = toml::from_str(&text).unwrap();
        for s in crate::options::SETTINGS {
            assert!(v["settings"].get(s).is_some(), "run.toml lacks setting {s}: {text}");
        }
        assert_eq!(v["trace"]["seed"].as_integer(), Some(7));
        assert_eq!(v["trace"]["params"]["events"].as_float(), Some(2000.0));
        assert_eq!(v["settings"]["gogc"].as_str(), Some("100"));
        assert_eq!(v["settings"]["verify"].as_bool(), Some(true));
        assert!(v.get("repetition").is_none() && v.get("cell").is_none());
        // The collector options in effect: the one set, and the others
        // generational takes at their defaults.
        assert_eq!(v["settings"]["card_bytes"].as_integer(), Some(1024));
        assert_eq!(v["settings"]["tenure_age"].as_integer(), Some(1));
        assert_eq!(v["settings"]["pretenure_bytes"].as_integer(), Some(32768));
        assert_eq!(v["settings"]["nursery"].as_integer(), Some(0));
        let options = back.settings.plan_options().unwrap();
        let expected = [("card-bytes", 1024), ("pretenure-bytes", 32768), ("tenure-age", 1)];
        assert_eq!(options.iter().collect::<Vec<_>>(), expected, "the nursery's 0 is no value: unset");
    }

    #[test]
    fn an_older_run_tomls_settings_read_back() {
        let text = "procs = 2\ngogc = \"100\"\nmemlimit = \"off\"\nnursery = \"default\"\ntenure_age = 1\n\
                    card_bytes = 512\npretenure_bytes = 32768\nno_stack = false\narch = \"64\"\n\
                    max_stack = 1000000000\nverify = false\nwarmup = 0\n";
        let s: SettingsToml = toml::from_str(text).unwrap();
        let options = s.plan_options().unwrap();
        assert_eq!(
            options.iter().collect::<Vec<_>>(),
            [("card-bytes", 512), ("pretenure-bytes", 32768), ("tenure-age", 1)]
        );
        let eight_mib: SettingsToml = toml::from_str(&text.replace("\"default\"", "\"8388608\"")).unwrap();
        assert_eq!(eight_mib.plan_options().unwrap().get(&collectors::generations::NURSERY), 8 << 20);
        let bad: SettingsToml = toml::from_str(&text.replace("card_bytes = 512", "card_bytes = 100")).unwrap();
        assert!(bad.plan_options().unwrap_err().contains("settings.card_bytes"));
    }

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let argv: Vec<String> = ["gcwb", "run", "--set", "a=1", "my trace.gct", "it's", ""].map(String::from).into();
        assert_eq!(shell_words(&argv), r"gcwb run --set a=1 'my trace.gct' 'it'\''s' ''");
    }

    #[test]
    fn a_files_digest_is_its_crc32_as_zlib_computes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gct");
        fs::write(&path, b"123456789").unwrap();
        // The CRC-32 check value of "123456789".
        assert_eq!(FileDigest::of(&path).unwrap(), FileDigest { bytes: 9, crc32: 0xcbf4_3926 });
    }

    #[test]
    fn result_files_are_the_ones_gcwb_writes() {
        for name in [
            "summary.csv",
            "pauses-mark-sweep.hlog",
            "compare.csv",
            "run.toml",
            "mmu.png",
            "pause-timeline.svg",
            "report.html",
        ] {
            assert!(is_result_file(name), "{name}");
        }
        for name in ["COMMAND.txt", "notes.csv", "mmu.png.bak", "pauses.hlog.txt", "experiment.toml", "sweep.png"] {
            assert!(!is_result_file(name), "{name}");
        }
    }

    #[test]
    fn write_run_writes_only_files_gcwb_knows_as_its_results() {
        // So that a file write_run gains is one the clean-up knows too.
        let src = TraceSource::Workload { name: "queue".into(), seed: 1, set: vec!["events=2000".into()] };
        let p = crate::engine::prepare(&src, false).unwrap();
        let spec = RunSettings { procs: Some(1), ..RunSettings::default() }.spec(
            collectors::registry::find("mark-sweep").unwrap(),
            false,
            true,
            0,
        );
        let rec = crate::engine::run(&p, &spec).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = crate::report::RunOutputs {
            rows: std::slice::from_ref(&rec.row),
            runs: std::slice::from_ref(&rec.result),
            analysis: &p.trace,
            placements: p.trace.placements(false),
        };
        crate::report::write_run(dir.path(), &out).unwrap();
        for e in fs::read_dir(dir.path()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(is_result_file(&name), "write_run wrote {name}, which is_result_file does not know");
        }
    }
}

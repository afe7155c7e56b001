//! The experiment file of `gcwb sweep`: reading and checking it.
//!
//! A TOML file (the schema is in [`super`]'s documentation, examples in
//! `scripts/experiments/`) is read into an [`Experiment`]: the collectors,
//! repetitions, seed, verifier switch, metrics, workloads and swept
//! parameters, every name and value checked before any cell runs. Errors
//! are one line, `FILE: line N: what is wrong`, naming the field and, for a
//! name, the valid choices.

use super::settings;
use crate::engine::{collectors_named, workload_params};
use collectors::registry::{self, CollectorInfo};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Spanned, Value};
use workloads::generate as wl;

/// The metrics charted when the file names none: with the lower-bound
/// overhead of wall and CPU time ([`crate::lbo`]), the paper's overhead
/// against heap size when GOGC or `memlimit` is swept.
pub const DEFAULT_METRICS: [&str; 5] = ["pause_p99_ns", "events_per_s", "peak_heap_bytes", "nlbo_wall", "nlbo_cpu"];

/// The columns a sweep can chart: the numeric columns of `summary.csv`
/// ([`crate::columns::metric_names`]), in order, then the lower-bound
/// overhead's ([`crate::lbo::METRICS`]), which the sweep works out over
/// its cells.
pub fn metric_names() -> Vec<&'static str> {
    let mut names = crate::columns::metric_names();
    names.extend(crate::lbo::METRICS);
    names
}

/// A checked experiment.
pub struct Experiment {
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's text, as read: what a results directory keeps a copy of.
    pub text: String,
    pub collectors: Vec<&'static CollectorInfo>,
    pub repetitions: u32,
    pub seed: u64,
    pub verify: bool,
    pub metrics: Vec<String>,
    pub workloads: Vec<Workload>,
    /// The `[sweep]` keys, in file order.
    pub params: Vec<Param>,
}

/// One `[[workload]]`.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Its name in cell ids, `summary.csv`'s `trace` and `sweep.csv`'s
    /// `workload`: `label`, else the workload's name or the trace's file
    /// stem.
    pub label: String,
    pub source: Source,
}

#[derive(Clone, Debug)]
pub enum Source {
    /// A built-in workload with its fixed parameters (`key=value`).
    Builtin { name: &'static str, set: Vec<String> },
    /// A trace file (relative paths resolved against the experiment file's
    /// directory).
    File(PathBuf),
    /// A Go program (resolved likewise) and its `--escape`.
    Go(PathBuf, workloads::golang::Escape),
}

/// One swept parameter.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    /// Its values as text, as `gcwb run` or `--set` would take them.
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// One of `gcwb run`'s options ([`settings`]).
    Setting,
    /// A parameter of every (built-in) workload of the experiment.
    Workload,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    collectors: Option<Spanned<Value>>,
    repetitions: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
    #[serde(default)]
    verify: bool,
    metrics: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    sweep: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default, rename = "workload")]
    workloads: Vec<Spanned<WorkloadSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadSpec {
    name: Option<Spanned<String>>,
    trace: Option<Spanned<String>>,
    /// A Go program, and who places its allocation sites.
    go: Option<Spanned<String>>,
    escape: Option<Spanned<String>>,
    label: Option<Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<Spanned<String>, Spanned<Value>>,
}

/// Where errors point: the file and its text.
struct Src<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Src<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())].iter().filter(|&&b| b == b'\n').count() + 1
    }

    /// `FILE: line N: msg`.
    fn at<T>(&self, s: &Spanned<T>, msg: impl std::fmt::Display) -> String {
        format!("{}: line {}: {msg}", self.path.display(), self.line(s.span().start))
    }

    /// `FILE: msg`.
    fn whole(&self, msg: impl std::fmt::Display) -> String {
        format!("{}: {msg}", self.path.display())
    }
}

impl Experiment {
    /// Reads and checks the experiment file at `path`. With `check_traces`,
    /// every trace file it names must exist (`gcwb merge`, which replays
    /// nothing, passes false).
    pub fn load(path: &Path, check_traces: bool) -> Result<Experiment, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Experiment::parse(path, text, check_traces)
    }

    /// Checks the text of an experiment file read from `path`.
    pub fn parse(path: &Path, text: String, check_traces: bool) -> Result<Experiment, String> {
        let src = Src { path, text: &text };
        let spec: FileSpec = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().replace('\n', "; ");
            match e.span() {
                Some(s) => {
                    let line = src.line(s.start);
                    let col = s.start - text[..s.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("{}: line {line}, column {col}: {message}", path.display())
                }
                None => src.whole(message),
            }
        })?;
        let collectors = collectors_of(&src, spec.collectors.as_ref())?;
        let repetitions = match &spec.repetitions {
            None => 1,
            Some(r) => u32::try_from(*r.get_ref())
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| src.at(r, format!("repetitions: expected 1 to 100000, got {}", r.get_ref())))?,
        };
        let seed = match &spec.seed {
            None => wl::DEFAULT_SEED,
            Some(s) => u64::try_from(*s.get_ref())
                .map_err(|_| src.at(s, format!("seed: expected a number from 0, got {}", s.get_ref())))?,
        };
        let metrics = metrics_of(&src, spec.metrics.as_ref())?;
        let workloads = workloads_of(&src, &spec.workloads, seed, check_traces)?;
        let params = params_of(&src, &spec, &workloads, &collectors, seed)?;
        Ok(Experiment {
            path: path.to_path_buf(),
            text,
            collectors,
            repetitions,
            seed,
            verify: spec.verify,
            metrics,
            workloads,
            params,
        })
    }
}

fn collectors_of(src: &Src<'_>, v: Option<&Spanned<Value>>) -> Result<Vec<&'static CollectorInfo>, String> {
    let Some(v) = v else { return collectors_named("all").map_err(|m| src.whole(m)) };
    let names: Vec<&str> = match v.get_ref() {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| x.as_str().ok_or_else(|| src.at(v, "collectors: expected names as strings, or \"all\"")))
            .collect::<Result<_, _>>()?,
        _ => return Err(src.at(v, "collectors: expected \"all\" or a list of collector names")),
    };
    if names.len() > 1 && names.contains(&"all") {
        return Err(src.at(v, "collectors: \"all\" cannot be listed with other collectors"));
    }
    collectors_named(&names.join(",")).map_err(|m| src.at(v, format!("collectors: {m}")))
}

fn metrics_of(src: &Src<'_>, v: Option<&Spanned<Vec<Spanned<String>>>>) -> Result<Vec<String>, String> {
    let Some(list) = v else { return Ok(DEFAULT_METRICS.iter().map(|m| m.to_string()).collect()) };
    if list.get_ref().is_empty() {
        return Err(src.at(list, "metrics: empty list (leave it out for the default)"));
    }
    let valid = metric_names();
    let mut out: Vec<String> = Vec::new();
    for m in list.get_ref() {
        let name = m.get_ref().as_str();
        if !valid.contains(&name) {
            return Err(src.at(
                m,
                format!(
                    "metrics: `{name}` is not a numeric column of summary.csv (expected one of: {})",
                    valid.join(", ")
                ),
            ));
        }
        if out.iter().any(|x| x == name) {
            return Err(src.at(m, format!("metrics: `{name}` is listed twice")));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// A scalar as the text `gcwb run` or `--set` would take.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) if f.is_finite() => Some(number_text(*f)),
        Value::String(s) => Some(s.trim().to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number as short text: `50`, `0.9`, `1000000`.
pub fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// `set` and `sweep` keys in file order.
fn in_file_order<V>(map: &BTreeMap<Spanned<String>, V>) -> Vec<(&Spanned<String>, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

fn workloads_of(
    src: &Src<'_>,
    specs: &[Spanned<WorkloadSpec>],
    seed: u64,
    check_traces: bool,
) -> Result<Vec<Workload>, String> {
    if specs.is_empty() {
        return Err(src.whole(
            "no [[workload]]: an experiment needs at least one (e.g. `[[workload]]` then `name = \"server\"`)",
        ));
    }
    let mut out: Vec<Workload> = Vec::new();
    for s in specs {
        let w = s.get_ref();
        let mut set: Vec<String> = Vec::new();
        for (k, v) in in_file_order(&w.set) {
            let text =
                scalar_text(v.get_ref()).ok_or_else(|| src.at(v, format!("set.{}: expected a number", k.get_ref())))?;
            set.push(format!("{}={text}", k.get_ref()));
        }
        let escape = match &w.escape {
            Some(e) => match (&w.go, workloads::golang::Escape::from_name(e.get_ref())) {
                (None, _) => return Err(src.at(e, "escape: only a Go program (`go = ...`) takes `escape`")),
                (_, None) => return Err(src.at(e, "escape: expected \"gcwb\", \"trace\" or \"go\"")),
                (_, Some(x)) => x,
            },
            None => workloads::golang::Escape::Gcwb,
        };
        let (label, source) = if let Some(g) = &w.go {
            if w.name.is_some() || w.trace.is_some() {
                return Err(src.at(g, "workload: give one of `name`, `trace` or `go`"));
            }
            if let Some((k, _)) = in_file_order(&w.set).first() {
                return Err(src.at(*k, "set: a Go program takes no parameters (`set` is for built-in workloads)"));
            }
            let rel = Path::new(g.get_ref());
            let path = if rel.is_absolute() {
                rel.to_path_buf()
            } else {
                src.path.parent().unwrap_or(Path::new("")).join(rel)
            };
            if path.extension().is_none_or(|e| e != "go") {
                return Err(src.at(g, "go: expected a .go file"));
            }
            if check_traces && !path.is_file() {
                return Err(src.at(g, format!("go: {}: no such file", path.display())));
            }
            let stem = path.file_stem().map_or_else(|| "program".to_string(), |s| s.to_string_lossy().into_owned());
            (slug(&stem), Source::Go(path, escape))
        } else {
            match (&w.name, &w.trace) {
                (Some(n), None) => {
                    let (info, _) =
                        workload_params(n.get_ref(), seed, &set).map_err(|m| src.at(n, format!("workload: {m}")))?;
                    (info.name.to_string(), Source::Builtin { name: info.name, set })
                }
                (None, Some(t)) => {
                    if let Some((k, _)) = in_file_order(&w.set).first() {
                        return Err(
                            src.at(*k, "set: a trace file takes no parameters (`set` is for built-in workloads)")
                        );
                    }
                    let rel = Path::new(t.get_ref());
                    let path = if rel.is_absolute() {
                        rel.to_path_buf()
                    } else {
                        src.path.parent().unwrap_or(Path::new("")).join(rel)
                    };
                    let prepared = path.extension().is_some_and(|x| x == workloads::analysis::persist::EXTENSION);
                    if workloads::file::Format::from_path(&path).is_none() && !prepared {
                        return Err(
                            src.at(t, "trace: expected a .gct (text), .gctb (binary) or .gcwbp (prepared) file")
                        );
                    }
                    if check_traces && !path.is_file() {
                        return Err(src.at(t, format!("trace: {}: no such file", path.display())));
                    }
                    let stem =
                        path.file_stem().map_or_else(|| "trace".to_string(), |s| s.to_string_lossy().into_owned());
                    (slug(&stem), Source::File(path))
                }
                (Some(_), Some(_)) => {
                    return Err(src.at(s, "workload: give `name` (built-in) or `trace` (a file), not both"))
                }
                (None, None) => {
                    return Err(src.at(
                        s,
                        "workload: expected `name` (a built-in workload), `trace` (a file) or `go` (a Go program)",
                    ))
                }
            }
        };
        let label = match &w.label {
            None => label,
            Some(l) => {
                let t = l.get_ref();
                if t.is_empty() || slug(t) != *t {
                    return Err(src.at(l, "label: expected letters, digits, `.`, `-` or `_`"));
                }
                t.clone()
            }
        };
        if out.iter().any(|o| o.label == label) {
            return Err(
                src.at(s, format!("workload: a second workload labelled `{label}` (give each a distinct `label`)"))
            );
        }
        out.push(Workload { label, source });
    }
    Ok(out)
}

fn params_of(
    src: &Src<'_>,
    spec: &FileSpec,
    workloads: &[Workload],
    collectors: &[&'static CollectorInfo],
    seed: u64,
) -> Result<Vec<Param>, String> {
    let mut out: Vec<Param> = Vec::new();
    for (k, v) in in_file_order(&spec.sweep) {
        // A setting by the one name results give it (a collector option
        // may be written `card-bytes` or `card_bytes`).
        let key = settings::setting_key(k.get_ref());
        let name = key.as_deref().unwrap_or(k.get_ref().as_str());
        if out.iter().any(|p| p.name == name) {
            return Err(src.at(k, format!("sweep.{}: `{name}` is swept twice", k.get_ref())));
        }
        let items: Vec<&Value> = match v.get_ref() {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        if items.is_empty() {
            return Err(src.at(v, format!("sweep.{name}: empty list")));
        }
        let mut values: Vec<String> = Vec::new();
        for item in items {
            let text = scalar_text(item)
                .ok_or_else(|| src.at(v, format!("sweep.{name}: expected numbers or strings, got {item}")))?;
            if values.contains(&text) {
                return Err(src.at(v, format!("sweep.{name}: `{text}` is listed twice")));
            }
            values.push(text);
        }
        let kind = if key.is_some() { ParamKind::Setting } else { ParamKind::Workload };
        match kind {
            ParamKind::Setting => {
                if let Some(option) = registry::find_option(name) {
                    crate::options::check_option_taken(option.name, collectors)
                        .map_err(|m| src.at(k, format!("sweep.{name}: {m}")))?;
                }
                for t in &values {
                    settings::parse(&[(name, t)]).map_err(|m| src.at(v, format!("sweep.{name}: {m}")))?;
                }
            }
            ParamKind::Workload => check_workload_param(src, k, v, &values, workloads, seed)?,
        }
        out.push(Param { name: name.to_string(), kind, values });
    }
    Ok(out)
}

/// A swept workload parameter: every workload must be built in, declare it
/// and not fix it with `set`; every value must be in its range.
fn check_workload_param(
    src: &Src<'_>,
    k: &Spanned<String>,
    v: &Spanned<Value>,
    values: &[String],
    workloads: &[Workload],
    seed: u64,
) -> Result<(), String> {
    let name = k.get_ref().as_str();
    // What a key could be: the run settings, and the parameters every
    // built-in workload of the file declares.
    let mut common: Option<Vec<&str>> = None;
    for w in workloads {
        if let Source::Builtin { name: wname, .. } = &w.source {
            let declared: Vec<&str> = wl::find(wname).map_or(Vec::new(), |i| i.params.iter().map(|p| p.name).collect());
            common = Some(match common {
                None => declared,
                Some(c) => c.into_iter().filter(|p| declared.contains(p)).collect(),
            });
        }
    }
    let choices = || {
        let mut c = settings::names();
        c.extend(common.clone().unwrap_or_default().iter().map(|s| s.to_string()));
        c.join(", ")
    };
    for w in workloads {
        match &w.source {
            Source::File(_) | Source::Go(..) => {
                return Err(src.at(
                    k,
                    format!(
                        "sweep.{name}: not a run setting, and workload `{}` is a trace file or Go program, which takes no parameters (expected one of: {})",
                        w.label,
                        settings::names().join(", ")
                    ),
                ))
            }
            Source::Builtin { name: wname, set } => {
                let info = wl::find(wname).expect("checked when read");
                if !info.params.iter().any(|p| p.name == name) {
                    return Err(src.at(
                        k,
                        format!(
                            "sweep.{name}: not a run setting nor a parameter of workload `{wname}` (expected one of: {})",
                            choices()
                        ),
                    ));
                }
                if set.iter().any(|s| s.split_once('=').is_some_and(|(key, _)| key == name)) {
                    return Err(src.at(k, format!("sweep.{name}: workload `{}` also fixes it in `set`", w.label)));
                }
                for t in values {
                    let mut sets = set.clone();
                    sets.push(format!("{name}={t}"));
                    workload_params(wname, seed, &sets).map_err(|m| src.at(v, format!("sweep.{name}: {m}")))?;
                }
            }
        }
    }
    Ok(())
}

/// `name` with every character but ASCII letters, digits, `.`, `-` and `_`
/// made `_`: safe in a file name.
pub fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment, String> {
        Experiment::parse(Path::new("exp.toml"), text.to_string(), true)
    }

    #[test]
    fn a_small_file_reads_with_its_defaults() {
        let e = parse(
            "collectors = [\"mark-sweep\"]\n[sweep]\ngogc = [50, \"off\"]\nrequests = [10, 20]\n[[workload]]\nname = \"server\"\nset = { goroutines = 4 }\n",
        )
        .unwrap();
        assert_eq!(e.collectors.len(), 1);
        assert_eq!((e.repetitions, e.seed, e.verify), (1, wl::DEFAULT_SEED, false));
        assert_eq!(e.metrics, DEFAULT_METRICS);
        assert!(DEFAULT_METRICS.iter().all(|m| metric_names().contains(m)), "the defaults are metrics a sweep has");
        assert_eq!(e.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["gogc", "requests"]);
        assert_eq!(e.params[0].values, ["50", "off"]);
        assert_eq!(e.params[0].kind, ParamKind::Setting);
        assert_eq!(e.params[1].kind, ParamKind::Workload);
        assert_eq!(e.workloads[0].label, "server");
    }

    #[test]
    fn errors_name_the_line_the_field_and_the_choices() {
        let e =
            parse("collectors = [\"mark-sweep\", \"nope\"]\n[[workload]]\nname = \"server\"\n").err().expect("refused");
        assert!(e.starts_with("exp.toml: line 1: collectors: unknown collector `nope` (expected one of: "), "{e}");
        let e = parse("[[workload]]\nname = \"serve\"\n").err().expect("refused");
        assert!(e.starts_with("exp.toml: line 2: workload: unknown workload `serve`") && e.contains("server"), "{e}");
        let e = parse("[sweep]\nlive = [1, 2]\n[[workload]]\nname = \"server\"\n").err().expect("refused");
        assert!(e.starts_with("exp.toml: line 2: sweep.live: not a run setting") && e.contains("requests"), "{e}");
        let e = parse("[sweep]\nrequests = [-1]\n[[workload]]\nname = \"server\"\n").err().expect("refused");
        assert!(e.contains("out of range"), "{e}");
        let e = parse("repetition = 3\n[[workload]]\nname = \"server\"\n").err().expect("refused");
        assert!(e.starts_with("exp.toml: line 1, column 1: unknown field `repetition`"), "{e}");
        let e = parse("metrics = [\"p99\"]\n[[workload]]\nname = \"server\"\n").err().expect("refused");
        assert!(e.contains("metrics: `p99`") && e.contains("pause_p99_ns"), "{e}");
        let e = parse("seed = 1\n").err().expect("refused");
        assert!(e.contains("no [[workload]]"), "{e}");
        let e = parse("[[workload]]\ntrace = \"missing.gct\"\n").err().expect("refused");
        assert!(e.contains("no such file"), "{e}");
        assert!(!e.contains('\n'));
    }
}

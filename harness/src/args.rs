//! The command line's shared option groups and what the replaying commands
//! (`run`, `compare`, `sweep`) do with them: which trace ([`TraceArgs`]),
//! the collectors' and stacks' settings ([`GcArgs`], [`StackArgs`], turned
//! into [`RunSettings`] and run specs), and the lines they print about a
//! trace and its replays. The commands sit above this module; it knows
//! nothing of them.

use crate::engine::{self, Prepared, RunSpec, TraceSource};
use crate::options::{parse_gogc, parse_memlimit, parse_procs, Arch, Gogc, MemLimit, RunSettings};
use crate::replay::RunResult;
use crate::report::{ms, SummaryRow};
use collectors::{registry, PlanOptions};
use std::path::{Path, PathBuf};
use workloads::golang::Escape;

/// `--escape`'s values.
pub fn parse_escape(s: &str) -> Result<Escape, String> {
    Escape::from_name(s).ok_or_else(|| format!("unknown escape analysis `{s}` (expected gcwb, trace or go)"))
}

/// The trace a replaying command (`run`, `compare`) loads: a file, or a
/// built-in workload with its parameters and seed.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The trace to replay (.gct or .gctb, or a prepared .gcwbp), or a Go
    /// program (.go) to run and record. Without it, the built-in workload
    /// named by --workload.
    pub trace: Option<PathBuf>,
    /// For a Go program: who places each allocation site on the stack or
    /// the heap: `gcwb` (gcwb's static escape analysis, Go's rules), `trace`
    /// (gcwb's analysis of the recorded run) or `go` (Go's compiler, `go
    /// build -gcflags=-m=1`; needs Go on the PATH).
    #[arg(long, default_value = "gcwb", value_parser = parse_escape)]
    pub escape: Escape,
    /// A built-in workload (see `gcwb workloads`).
    #[arg(long, default_value = "default", conflicts_with = "trace")]
    pub workload: String,
    /// Seed for a generated workload.
    #[arg(long, default_value_t = workloads::generate::DEFAULT_SEED)]
    pub seed: u64,
    /// Set a parameter of the built-in workload, e.g. `--set events=5000000`
    /// (repeatable; see `gcwb workloads`).
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "trace")]
    pub set: Vec<String>,
}

impl TraceArgs {
    /// The trace these options name.
    pub fn source(&self) -> TraceSource {
        match &self.trace {
            Some(p) => TraceSource::from_path(p, self.escape),
            None => TraceSource::Workload { name: self.workload.clone(), seed: self.seed, set: self.set.clone() },
        }
    }
}

/// The collectors' settings, shared by the replaying commands (`run`,
/// `compare`): [`settings`] turns them into [`RunSettings`].
#[derive(clap::Args, Debug)]
pub struct GcArgs {
    /// Worker threads (GOMAXPROCS), 1 to 1024 (like Go's old
    /// `_MaxGomaxprocs`; idle workers cost nothing); default: the machine's
    /// cores.
    #[arg(long, value_parser = parse_procs)]
    pub procs: Option<usize>,
    /// GOGC percent, or `off`.
    #[arg(long, default_value = "100", value_parser = parse_gogc)]
    pub gogc: Gogc,
    /// Soft memory limit on the heap, like GOMEMLIMIT: bytes, with an
    /// optional unit B, KiB, MiB, GiB or TiB (`512MiB`), or `off`.
    #[arg(long, default_value = "off", value_parser = parse_memlimit)]
    pub memlimit: MemLimit,
    /// The collectors' own options: one flag per option a collector
    /// declares ([`PlanOptionArgs`]).
    #[command(flatten)]
    pub plan: PlanOptionArgs,
}

/// The collectors' own options on the command line: a `--NAME VALUE` flag
/// for each option of the registry ([`registry::all_options`]), under the
/// heading "Collector options", read by the option's own parser. Only the
/// flags given are set; the others stay at the default the collector
/// declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptionArgs(pub PlanOptions);

/// The help heading of the collectors' options.
pub const PLAN_OPTIONS_HEADING: &str = "Collector options";

impl clap::Args for PlanOptionArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        registry::all_options().into_iter().fold(cmd, |cmd, spec| {
            let takers = registry::taking_option(spec.name).join(", ");
            cmd.arg(
                clap::Arg::new(spec.name)
                    .long(spec.name)
                    .value_name(spec.kind.value_name())
                    .value_parser(move |s: &str| spec.parse(s))
                    .action(clap::ArgAction::Set)
                    .help_heading(PLAN_OPTIONS_HEADING)
                    .help(format!("{} (collectors: {takers}) [default: {}]", spec.about, spec.show(spec.default))),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for PlanOptionArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut out = PlanOptionArgs::default();
        out.update_from_arg_matches(m)?;
        Ok(out)
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        for spec in registry::all_options() {
            if let Some(&v) = m.get_one::<u64>(spec.name) {
                self.0.set(spec.name, v);
            }
        }
        Ok(())
    }
}

/// The run settings these options give.
pub fn settings(gc: &GcArgs, stack: &StackArgs) -> RunSettings {
    RunSettings {
        procs: gc.procs,
        gogc: gc.gogc,
        memlimit: gc.memlimit,
        options: gc.plan.0.clone(),
        no_stack: stack.no_stack,
        arch: stack.arch,
        max_stack: stack.max_stack,
    }
}

/// How the replayer places blocks and bounds goroutine stacks, shared by
/// the replaying commands (`run`, `compare`).
#[derive(clap::Args, Debug)]
pub struct StackArgs {
    /// Put every block on the heap (no stack allocation).
    #[arg(long)]
    pub no_stack: bool,
    /// Word size: sets the default maximum stack (64: 1 GB, 32: 250 MB).
    #[arg(long, value_enum, default_value = "64")]
    pub arch: Arch,
    /// Maximum goroutine stack in bytes (Go's debug.SetMaxStack).
    #[arg(long)]
    pub max_stack: Option<u64>,
}

/// The collectors `spec` names (see [`engine::collectors_named`]), each
/// taking the options `gc` sets or not, as long as one of them takes each
/// ([`crate::options::check_plan_options`]).
pub fn collectors_named(spec: &str, gc: &GcArgs) -> Result<Vec<&'static registry::CollectorInfo>, String> {
    let chosen = engine::collectors_named(spec)?;
    crate::options::check_plan_options(&gc.plan.0, &chosen)?;
    Ok(chosen)
}

/// Fails early, before a trace is loaded or replayed, when results could
/// not be written into `dir`: a file in the way, a parent that is not a
/// directory, no permission. Leaves nothing behind: it creates and removes
/// one empty probe file in `dir`, or, when `dir` does not exist yet, in the
/// nearest ancestor that does (where writing the results would create it).
pub fn check_writable(dir: &Path) -> Result<(), String> {
    let fail = |why: String| format!("cannot write results to {}: {why}", dir.display());
    let mut existing = dir;
    while !existing.as_os_str().is_empty() && !existing.exists() {
        existing = existing.parent().unwrap_or(Path::new(""));
    }
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    if !existing.is_dir() {
        return Err(fail(format!("{} is not a directory", existing.display())));
    }
    let probe = existing.join(format!(".gcwb-probe.{}.tmp", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| fail(e.to_string()))?;
    std::fs::remove_file(&probe).map_err(|e| fail(e.to_string()))
}

/// Prepares the trace `src` names, with a spinner unless `quiet`.
pub fn prepare(src: &TraceArgs, quiet: bool) -> Result<Prepared, String> {
    engine::prepare(&src.source(), !quiet)
}

/// The run of collector `info` these options describe.
pub fn run_spec(
    info: &'static registry::CollectorInfo,
    gc: &GcArgs,
    stack: &StackArgs,
    verify: bool,
    quiet: bool,
    warmup: u32,
) -> RunSpec {
    settings(gc, stack).spec(info, verify, quiet, warmup)
}

/// Prints the line that opens a replaying command: what the trace holds.
pub fn print_loaded(p: &Prepared, no_stack: bool) {
    let c = p.counts(no_stack);
    println!(
        "{}: {} events, {} goroutines, {} blocks ({} heap, {} stack); loaded in {:.1} ms",
        p.name,
        p.trace.events(),
        p.trace.goroutines.len(),
        c.allocs,
        c.heap_allocs,
        c.stack_allocs,
        p.load_ns as f64 / 1e6
    );
}

/// Prints a replay's fatal error and its first 20 verifier violations to
/// stderr; returns its exit code: 2 when the program died, 1 when the
/// verifier found violations, else 0. A command's code is the largest of
/// its replays'.
pub fn report_problems(r: &RunResult) -> i32 {
    let mut code = 0;
    if let Some(f) = &r.fatal {
        eprintln!("{f}");
        code = 2;
    }
    if let Some(v) = &r.violations {
        for x in v.iter().take(20) {
            eprintln!("verify: {x}");
        }
        if r.violation_count > 20 {
            eprintln!("verify: ... and {} more", r.violation_count - 20);
        }
        if r.violation_count > 0 {
            code = code.max(1);
        }
    }
    code
}

/// The verifier's verdict on a replay, to end its line: `, verified:
/// clean`, `, verified: N VIOLATIONS`, or nothing when it was not verified.
pub fn verdict(r: &SummaryRow) -> String {
    match r.verify_errors {
        Some(0) => ", verified: clean".to_string(),
        Some(n) => format!(", verified: {n} VIOLATIONS"),
        None => String::new(),
    }
}

/// Prints one replay's line: throughput, wall time, GCs, pauses, heap, verdict.
pub fn print_row(r: &SummaryRow) {
    let verify = verdict(r);
    println!(
        "  {:<12} {:>8.2} M events/s  wall {}  GCs {:>4}  pause p50 {} p99 {} max {}  peak heap {:.1} MiB  final live {:.1} MiB{verify}{}",
        r.collector,
        r.events_per_s / 1e6,
        ms(r.wall_ns),
        r.gc_count,
        ms(r.pause_p50_ns),
        ms(r.pause_p99_ns),
        ms(r.pause_max_ns),
        r.peak_heap_bytes as f64 / (1 << 20) as f64,
        r.final_live_bytes as f64 / (1 << 20) as f64,
        if r.status == "ok" { String::new() } else { format!("  [{}]", r.status) },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Args;

    /// The options `run` and `compare` take are exactly the settings a sweep
    /// can set, with the same defaults.
    #[test]
    fn run_options_are_the_run_settings() {
        let cmd = StackArgs::augment_args(GcArgs::augment_args(clap::Command::new("x").no_binary_name(true)));
        let mut names: Vec<String> =
            cmd.get_arguments().filter_map(|a| a.get_long()).map(|l| l.replace('-', "_")).collect();
        let mut expected = crate::options::setting_names();
        names.sort();
        expected.sort();
        assert_eq!(names, expected);
        let m = cmd.try_get_matches_from(Vec::<String>::new()).unwrap();
        use clap::FromArgMatches;
        let (gc, stack) = (GcArgs::from_arg_matches(&m).unwrap(), StackArgs::from_arg_matches(&m).unwrap());
        assert_eq!(settings(&gc, &stack), RunSettings::default());
    }

    /// Each collector option is a flag read by its own parser; only the
    /// flags given are set.
    #[test]
    fn collector_options_are_flags_read_by_their_parser() {
        use clap::FromArgMatches;
        let cmd = || GcArgs::augment_args(clap::Command::new("x").no_binary_name(true));
        let m = cmd().try_get_matches_from(["--card-bytes", "1KiB", "--tenure-age", "3"]).unwrap();
        let gc = GcArgs::from_arg_matches(&m).unwrap();
        assert_eq!(gc.plan.0.iter().collect::<Vec<_>>(), [("card-bytes", 1024), ("tenure-age", 3)]);
        let e = cmd().try_get_matches_from(["--card-bytes", "100"]).unwrap_err().to_string();
        assert!(e.contains("--card-bytes") && e.contains("power of two"), "{e}");
        let help = cmd().render_help().to_string();
        let heading = help.find(PLAN_OPTIONS_HEADING).expect("a heading for the collectors' options");
        for spec in registry::all_options() {
            let at = help.find(&spec.flag()).unwrap_or_else(|| panic!("{} not in the help:\n{help}", spec.flag()));
            assert!(at > heading, "{} is not under {PLAN_OPTIONS_HEADING}", spec.flag());
        }
        assert!(help.contains("default: 32KiB"), "the pretenuring threshold's default, in its unit:\n{help}");
    }
}

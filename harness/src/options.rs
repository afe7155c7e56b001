//! A run's settings, typed once: what `gcwb run` and `gcwb compare` take
//! as options and a sweep file as `[sweep]` keys, with the one parser of
//! each value.
//!
//! Two sorts: the settings every run has ([`SETTINGS`]: workers, GOGC,
//! the memory limit, stacks), parsed here; and the collectors' own options
//! ([`RunSettings::options`]), which each plan declares in the registry
//! ([`registry::all_options`]) with its parser and check, and which are
//! known here only through it.
//!
//! The command line ([`crate::cli`]'s `GcArgs` and `StackArgs`, clap) uses
//! these parsers for its option values and turns its options into
//! [`RunSettings`]; a sweep ([`crate::sweep`]) sets [`RunSettings`] key by
//! key with [`RunSettings::set`]. Either way [`RunSettings::spec`] gives the
//! [`RunSpec`] the run layer ([`crate::engine`]) replays. A test in the
//! command line checks that its option names are [`setting_names`].

use crate::engine::RunSpec;
use crate::replay::ReplayOptions;
use crate::report::parse_bytes;
use collectors::collector::MAX_PROCS;
use collectors::registry::CollectorInfo;
use collectors::runtime::stack::{MAX_STACK_SETTING_32, MAX_STACK_SETTING_64};
use collectors::runtime::StackLimit;
use collectors::{registry, GcConfig, PlanOptions};
use std::io::IsTerminal;

/// The settings every run has, by their option's field name (`max_stack`
/// for `--max-stack`), in `gcwb run`'s order. The collectors' options come
/// after them ([`setting_names`]).
pub const SETTINGS: [&str; 6] = ["procs", "gogc", "memlimit", "no_stack", "arch", "max_stack"];

/// Every setting a sweep can set: [`SETTINGS`], then each collector
/// option of the registry by its key (`tenure_age` for `--tenure-age`).
pub fn setting_names() -> Vec<String> {
    let options = registry::all_options().into_iter().map(|o| o.key());
    SETTINGS.iter().map(|s| s.to_string()).chain(options).collect()
}

/// Refuses a collector option set that none of `chosen` takes
/// ([`check_option_taken`]).
pub fn check_plan_options(options: &PlanOptions, chosen: &[&'static CollectorInfo]) -> Result<(), String> {
    options.iter().try_for_each(|(name, _)| check_option_taken(name, chosen))
}

/// Refuses collector option `name` when none of `chosen` takes it (naming
/// the collectors that do): it would change nothing, so it is most likely
/// a mistake about which collector runs.
pub fn check_option_taken(name: &str, chosen: &[&'static CollectorInfo]) -> Result<(), String> {
    if chosen.iter().any(|c| c.option(name).is_some()) {
        return Ok(());
    }
    let names = |cs: Vec<&str>| cs.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    Err(format!(
        "--{} is an option of {}, and no collector chosen ({}) takes it",
        collectors::plan_options::canonical_name(name),
        names(registry::taking_option(name)),
        names(chosen.iter().map(|c| c.name).collect())
    ))
}

/// GOGC: a percentage or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gogc(pub Option<u32>);

/// GOMEMLIMIT: a byte count or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemLimit(pub Option<u64>);

/// The word size a run models: it sets the default maximum stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    #[value(name = "64")]
    Bits64,
    #[value(name = "32")]
    Bits32,
}

/// Parses GOGC: a percentage or `off`.
pub fn parse_gogc(s: &str) -> Result<Gogc, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(Gogc(None));
    }
    s.parse::<u32>().map(|n| Gogc(Some(n))).map_err(|_| format!("expected a percentage or `off`, got `{s}`"))
}

/// Parses a GOMEMLIMIT value: digits with an optional unit (Go accepts B,
/// KiB, MiB, GiB, TiB), or `off`.
pub fn parse_memlimit(s: &str) -> Result<MemLimit, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(MemLimit(None));
    }
    parse_bytes(s).map(|b| MemLimit(Some(b))).map_err(|e| format!("{e} (or `off`)"))
}

/// Parses a worker count (GOMAXPROCS): 1 to [`MAX_PROCS`].
pub fn parse_procs(s: &str) -> Result<usize, String> {
    match s.parse::<u64>() {
        Ok(n) if (1..=MAX_PROCS as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("expected a number of workers from 1 to {MAX_PROCS} (the most gcwb runs), got `{s}`")),
    }
}

/// Everything a run is configured with besides its collector and trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// Worker threads (GOMAXPROCS); `None`: the machine's cores.
    pub procs: Option<usize>,
    pub gogc: Gogc,
    pub memlimit: MemLimit,
    /// The collectors' options set (each collector reads those it takes).
    pub options: PlanOptions,
    pub no_stack: bool,
    pub arch: Arch,
    pub max_stack: Option<u64>,
}

impl Default for RunSettings {
    /// `gcwb run`'s defaults.
    fn default() -> Self {
        RunSettings {
            procs: None,
            gogc: Gogc(Some(100)),
            memlimit: MemLimit(None),
            options: PlanOptions::default(),
            no_stack: false,
            arch: Arch::Bits64,
            max_stack: None,
        }
    }
}

impl RunSettings {
    /// Sets the setting `key` (one of [`setting_names`]; a collector option
    /// in snake_case or kebab-case) from its text, as the command line would
    /// read it; the error is one line naming the setting and what it takes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let bad = |m: String| format!("invalid value `{value}` for --{}: {m}", key.replace('_', "-"));
        match key {
            "procs" => self.procs = Some(parse_procs(value).map_err(bad)?),
            "gogc" => self.gogc = parse_gogc(value).map_err(bad)?,
            "memlimit" => self.memlimit = parse_memlimit(value).map_err(bad)?,
            "no_stack" => {
                self.no_stack = match value {
                    "true" => true,
                    "false" => false,
                    v => return Err(format!("`{key}`: expected true or false, got `{v}`")),
                }
            }
            "arch" => {
                self.arch = match value {
                    "64" => Arch::Bits64,
                    "32" => Arch::Bits32,
                    _ => return Err(bad("expected 64 or 32".to_string())),
                }
            }
            "max_stack" => match value.parse::<u64>() {
                Ok(n) => self.max_stack = Some(n),
                Err(_) => return Err(bad(format!("expected a byte count, got `{value}`"))),
            },
            _ => match registry::find_option(key) {
                Some(spec) => self.options.set(spec.name, spec.parse(value).map_err(bad)?),
                None => {
                    return Err(format!(
                        "`{key}` is not a run setting (expected one of: {})",
                        setting_names().join(", ")
                    ))
                }
            },
        }
        Ok(())
    }

    /// `procs`, or the machine's cores; 1 to [`MAX_PROCS`].
    pub fn procs(&self) -> usize {
        self.procs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, MAX_PROCS)
    }

    /// The configuration every collector of the run is made with.
    pub fn gc_config(&self) -> GcConfig {
        GcConfig {
            procs: self.procs(),
            gogc: self.gogc.0,
            memory_limit: self.memlimit.0,
            options: self.options.clone(),
            ..GcConfig::default()
        }
    }

    /// `max_stack`, or the default of `arch`.
    pub fn stack_limit(&self) -> StackLimit {
        let setting = self.max_stack.unwrap_or(match self.arch {
            Arch::Bits64 => MAX_STACK_SETTING_64,
            Arch::Bits32 => MAX_STACK_SETTING_32,
        });
        StackLimit { setting }
    }

    /// The replayer's options (a progress bar only when not `quiet` and
    /// stderr is a terminal).
    pub fn replay_options(&self, verify: bool, quiet: bool) -> ReplayOptions {
        ReplayOptions {
            procs: self.procs(),
            verify,
            no_stack: self.no_stack,
            stack_limit: self.stack_limit(),
            progress: !quiet && std::io::stderr().is_terminal(),
            ..ReplayOptions::default()
        }
    }

    /// The run of collector `info` with these settings.
    pub fn spec(&self, info: &'static registry::CollectorInfo, verify: bool, quiet: bool, warmup: u32) -> RunSpec {
        RunSpec { collector: info, gc: self.gc_config(), replay: self.replay_options(verify, quiet), warmup }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_as_on_the_command_line() {
        let mut s = RunSettings::default();
        for (k, v) in [("gogc", "off"), ("procs", "3"), ("memlimit", "1KiB"), ("no_stack", "true"), ("arch", "32")] {
            s.set(k, v).unwrap();
        }
        assert_eq!((s.gogc.0, s.procs, s.memlimit.0, s.no_stack), (None, Some(3), Some(1024), true));
        assert_eq!(s.stack_limit().setting, MAX_STACK_SETTING_32);
        assert_eq!(RunSettings::default().gogc.0, Some(100));
    }

    #[test]
    fn bad_settings_say_what_was_expected() {
        let mut s = RunSettings::default();
        let e = s.set("gogc", "lots").unwrap_err();
        assert!(e.contains("--gogc") && e.contains("`off`") && !e.contains('\n'), "{e}");
        assert!(s.set("nursery_size", "1").unwrap_err().contains("expected one of: "));
        assert!(s.set("no_stack", "yes").unwrap_err().contains("true or false"));
        assert!(s.set("tenure_age", "16").unwrap_err().contains("0 to 15"));
        assert!(s.set("card_bytes", "100").unwrap_err().contains("power of two"));
        assert!(s.set("procs", "0").unwrap_err().contains("from 1 to 1024"));
        assert!(s.set("procs", "1025").unwrap_err().contains("from 1 to 1024"));
        assert!(s.set("procs", "4294967296").unwrap_err().contains("from 1 to 1024"));
        assert!(s.set("nursery", "0").unwrap_err().contains("one heap page"), "a nursery of 0 bytes is refused");
        assert!(s.set("nursery", "8191").is_err() && s.set("nursery", "1TiB").is_err());
        assert_eq!(s, RunSettings::default(), "a refused value changes nothing");
        s.set("nursery", "8KiB").unwrap();
        s.set("card-bytes", "1KiB").unwrap();
        assert_eq!(s.options.iter().collect::<Vec<_>>(), [("card-bytes", 1024), ("nursery", 8192)]);
        assert_eq!(s.gc_config().options, s.options, "the collectors get the options set");
    }

    #[test]
    fn an_option_no_chosen_collector_takes_is_refused_naming_the_ones_that_do() {
        let mut s = RunSettings::default();
        s.set("tenure_age", "2").unwrap();
        let chosen = |names: &[&str]| names.iter().map(|n| registry::find(n).unwrap()).collect::<Vec<_>>();
        let e = check_plan_options(&s.options, &chosen(&["mark-sweep", "sticky"])).unwrap_err();
        assert!(e.contains("--tenure-age") && e.contains("`generational`") && e.contains("`sticky`"), "{e}");
        assert!(check_plan_options(&s.options, &chosen(&["sticky", "generational"])).is_ok());
        assert!(check_plan_options(&RunSettings::default().options, &chosen(&["none"])).is_ok());
    }
}

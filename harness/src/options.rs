//! A run's settings, typed once: what `gcwb run` and `gcwb compare` take
//! as options and a sweep file as `[sweep]` keys, with the one parser of
//! each value.
//!
//! The command line ([`crate::cli`]'s `GcArgs` and `StackArgs`, clap) uses
//! these parsers for its option values and turns its options into
//! [`RunSettings`]; a sweep ([`crate::sweep`]) sets [`RunSettings`] key by
//! key with [`RunSettings::set`]. Either way [`RunSettings::spec`] gives the
//! [`RunSpec`] the run layer ([`crate::engine`]) replays. A test in the
//! command line checks that its option names are [`SETTINGS`].

use crate::engine::RunSpec;
use crate::replay::ReplayOptions;
use crate::report::parse_bytes;
use collectors::collector::MAX_PROCS;
use collectors::runtime::stack::{MAX_STACK_SETTING_32, MAX_STACK_SETTING_64};
use collectors::runtime::StackLimit;
use collectors::{registry, GcConfig};
use std::io::IsTerminal;

/// The settings a sweep can set, by their option's field name
/// (`max_stack` for `--max-stack`), in `gcwb run`'s order.
pub const SETTINGS: [&str; 10] = [
    "procs",
    "gogc",
    "memlimit",
    "nursery",
    "tenure_age",
    "card_bytes",
    "pretenure_bytes",
    "no_stack",
    "arch",
    "max_stack",
];

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

/// Parses a pretenuring threshold: a byte count up to the largest block a
/// copy space takes.
pub fn parse_pretenure_bytes(s: &str) -> Result<u64, String> {
    use collectors::copy_space::MAX_OBJECT_BYTES;
    let b = parse_bytes(s)?;
    if b <= MAX_OBJECT_BYTES {
        Ok(b)
    } else {
        Err(format!("expected at most {MAX_OBJECT_BYTES} bytes (the largest block a nursery takes), got {b}"))
    }
}

/// Parses a card size: a byte count that is a power of two in range.
pub fn parse_card_bytes(s: &str) -> Result<u64, String> {
    use collectors::heap::{MAX_CARD_BYTES, MIN_CARD_BYTES};
    let b = parse_bytes(s)?;
    if b.is_power_of_two() && (MIN_CARD_BYTES..=MAX_CARD_BYTES).contains(&b) {
        Ok(b)
    } else {
        Err(format!("expected a power of two from {MIN_CARD_BYTES} to {MAX_CARD_BYTES} bytes, got {b}"))
    }
}

/// Parses a nursery size: a byte count from one heap page (8 KiB: a
/// smaller nursery would hold no span at all, and 0 would mean a minor
/// collection at every allocation) to half the heap's reservation (the
/// nursery, its two survivor spaces and the old generation share it).
pub fn parse_nursery(s: &str) -> Result<u64, String> {
    use collectors::heap::{DEFAULT_RESERVE_BYTES, PAGE_BYTES};
    let b = parse_bytes(s)?;
    let max = DEFAULT_RESERVE_BYTES / 2;
    if (PAGE_BYTES..=max).contains(&b) {
        Ok(b)
    } else {
        Err(format!(
            "expected a nursery from {PAGE_BYTES} bytes (one heap page) to {max} bytes (half the heap's reservation), got {b}"
        ))
    }
}

/// Parses a worker count (GOMAXPROCS): 1 to [`MAX_PROCS`].
pub fn parse_procs(s: &str) -> Result<usize, String> {
    match s.parse::<u64>() {
        Ok(n) if (1..=MAX_PROCS as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("expected a number of workers from 1 to {MAX_PROCS} (the most gcwb runs), got `{s}`")),
    }
}

/// Parses a tenuring age: 0 to 15 (HotSpot's MaxTenuringThreshold range).
pub fn parse_tenure_age(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if n <= 15 => Ok(n),
        _ => Err(format!("expected a number from 0 to 15, got `{s}`")),
    }
}

/// Everything a run is configured with besides its collector and trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// Worker threads (GOMAXPROCS); `None`: the machine's cores.
    pub procs: Option<usize>,
    pub gogc: Gogc,
    pub memlimit: MemLimit,
    pub nursery: Option<u64>,
    pub tenure_age: u32,
    pub card_bytes: u64,
    pub pretenure_bytes: u64,
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
            nursery: None,
            tenure_age: 1,
            card_bytes: collectors::heap::CARD_BYTES,
            pretenure_bytes: collectors::copy_space::MAX_OBJECT_BYTES,
            no_stack: false,
            arch: Arch::Bits64,
            max_stack: None,
        }
    }
}

impl RunSettings {
    /// Sets the setting `key` (one of [`SETTINGS`]) from its text, as the
    /// command line would read it; the error is one line naming the setting
    /// and what it takes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let bad = |m: String| format!("invalid value `{value}` for --{}: {m}", key.replace('_', "-"));
        match key {
            "procs" => self.procs = Some(parse_procs(value).map_err(bad)?),
            "gogc" => self.gogc = parse_gogc(value).map_err(bad)?,
            "memlimit" => self.memlimit = parse_memlimit(value).map_err(bad)?,
            "nursery" => self.nursery = Some(parse_nursery(value).map_err(bad)?),
            "tenure_age" => self.tenure_age = parse_tenure_age(value).map_err(bad)?,
            "card_bytes" => self.card_bytes = parse_card_bytes(value).map_err(bad)?,
            "pretenure_bytes" => self.pretenure_bytes = parse_pretenure_bytes(value).map_err(bad)?,
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
            _ => return Err(format!("`{key}` is not a run setting (expected one of: {})", SETTINGS.join(", "))),
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
            nursery_bytes: self.nursery,
            tenure_age: self.tenure_age,
            card_bytes: self.card_bytes,
            pretenure_bytes: self.pretenure_bytes,
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
        assert_eq!(s.nursery, Some(8192));
    }
}

//! A sweep's run settings, read through `gcwb run`'s own options.
//!
//! An experiment's `[sweep]` key that names one of `gcwb run`'s collector
//! or stack options ([`GcArgs`] and [`StackArgs`] in [`crate::cli`]; today
//! `procs`, `gogc`, `memlimit`, `nursery`, `tenure_age`, `no_stack`, `arch`
//! and `max_stack`, and any option added there later) is that option: its
//! values are handed to the same clap parser `gcwb run` uses, so they
//! mean, and are checked, exactly as on the command line (`gogc = "off"`,
//! `memlimit = "512MiB"`). A key is the option's field name (`max_stack`
//! for `--max-stack`); a flag (`no_stack`) takes `true` or `false`.

use crate::cli::{GcArgs, StackArgs};
use clap::{ArgAction, Args, FromArgMatches};

/// A parser holding exactly the run settings a sweep can set.
fn command() -> clap::Command {
    let cmd = clap::Command::new("sweep").no_binary_name(true).disable_help_flag(true).disable_version_flag(true);
    StackArgs::augment_args(GcArgs::augment_args(cmd))
}

/// The names of the run settings a sweep can set, in `gcwb run`'s order.
pub fn names() -> Vec<String> {
    command().get_arguments().filter(|a| a.get_long().is_some()).map(|a| a.get_id().to_string()).collect()
}

/// Whether `name` is a run setting.
pub fn is_setting(name: &str) -> bool {
    names().iter().any(|n| n == name)
}

/// The collector and stack settings of `pairs` (setting name, value as
/// text), every other setting at `gcwb run`'s default. The error is one
/// line naming the setting and what it takes.
pub fn parse(pairs: &[(&str, &str)]) -> Result<(GcArgs, StackArgs), String> {
    let cmd = command();
    let mut argv: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let Some(arg) = cmd.get_arguments().find(|a| a.get_id().as_str() == *name && a.get_long().is_some()) else {
            return Err(format!("`{name}` is not a run setting (expected one of: {})", names().join(", ")));
        };
        let long = arg.get_long().unwrap_or_default();
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match *value {
                "true" => argv.push(format!("--{long}")),
                "false" => {}
                v => return Err(format!("`{name}`: expected true or false, got `{v}`")),
            }
        } else {
            argv.push(format!("--{long}={value}"));
        }
    }
    let matches = cmd.try_get_matches_from(&argv).map_err(|e| one_line(&e.to_string()))?;
    let gc = GcArgs::from_arg_matches(&matches).map_err(|e| one_line(&e.to_string()))?;
    let stack = StackArgs::from_arg_matches(&matches).map_err(|e| one_line(&e.to_string()))?;
    Ok((gc, stack))
}

/// clap's message without its `error: ` prefix, usage and hints.
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_gcwb_runs_options() {
        let n = names();
        for s in ["procs", "gogc", "memlimit", "no_stack", "max_stack"] {
            assert!(n.iter().any(|x| x == s), "{s} missing from {n:?}");
        }
        let (gc, stack) =
            parse(&[("gogc", "off"), ("procs", "3"), ("memlimit", "1KiB"), ("no_stack", "true")]).unwrap();
        assert_eq!((gc.gogc.0, gc.procs, gc.memlimit.0, stack.no_stack), (None, Some(3), Some(1024), true));
        let (gc, stack) = parse(&[]).unwrap();
        assert_eq!((gc.gogc.0, stack.no_stack), (Some(100), false));
    }

    #[test]
    fn bad_settings_say_what_was_expected() {
        let e = parse(&[("gogc", "lots")]).unwrap_err();
        assert!(e.contains("--gogc") && e.contains("`off`") && !e.contains('\n'), "{e}");
        assert!(parse(&[("nursery_size", "1")]).unwrap_err().contains("expected one of: "));
        assert!(parse(&[("no_stack", "yes")]).unwrap_err().contains("true or false"));
    }
}

//! A sweep's run settings: an experiment's `[sweep]` key that names one of
//! `gcwb run`'s settings (`procs`, `gogc`, `memlimit`, `no_stack`, `arch`,
//! `max_stack`: [`crate::options::SETTINGS`]) or an option some collector
//! declares (`nursery`, `tenure_age`, … : the registry's, in snake_case or
//! kebab-case) is that option, read by the same parser
//! ([`RunSettings::set`]), so its values mean, and are checked, exactly as
//! on the command line (`gogc = "off"`, `memlimit = "512MiB"`). A key is
//! the option's field name (`max_stack` for `--max-stack`); a flag
//! (`no_stack`) takes `true` or `false`.

use crate::options::{setting_names, RunSettings, SETTINGS};
use collectors::registry;

/// The names of the run settings a sweep can set, in `gcwb run`'s order
/// (the collectors' options last, in snake_case).
pub fn names() -> Vec<String> {
    setting_names()
}

/// The name `name` is known by in cells and results, if it is a run
/// setting: itself for one of [`SETTINGS`], a collector option's
/// snake_case key (`card_bytes` for `card-bytes`) for an option.
pub fn setting_key(name: &str) -> Option<String> {
    if SETTINGS.contains(&name) {
        return Some(name.to_string());
    }
    registry::find_option(name).map(|o| o.key())
}

/// The run settings of `pairs` (setting name, value as text), every other
/// setting at `gcwb run`'s default. The error is one line naming the
/// setting and what it takes.
pub fn parse(pairs: &[(&str, &str)]) -> Result<RunSettings, String> {
    let mut s = RunSettings::default();
    for (name, value) in pairs {
        s.set(name, value)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_gcwb_runs_options() {
        let n = names();
        for s in ["procs", "gogc", "memlimit", "no_stack", "max_stack", "nursery", "tenure_age", "card_bytes"] {
            assert!(n.iter().any(|x| x == s), "{s} missing from {n:?}");
        }
        let s = parse(&[("gogc", "off"), ("procs", "3"), ("memlimit", "1KiB"), ("no_stack", "true")]).unwrap();
        assert_eq!((s.gogc.0, s.procs, s.memlimit.0, s.no_stack), (None, Some(3), Some(1024), true));
        let s = parse(&[]).unwrap();
        assert_eq!((s.gogc.0, s.no_stack), (Some(100), false));
    }

    #[test]
    fn a_collector_option_is_a_setting_in_either_spelling() {
        assert_eq!(setting_key("card-bytes").as_deref(), Some("card_bytes"));
        assert_eq!(setting_key("tenure_age").as_deref(), Some("tenure_age"));
        assert_eq!(setting_key("max-stack"), None, "run settings keep their one spelling");
        let s = parse(&[("card-bytes", "2KiB")]).unwrap();
        assert_eq!(s.options.get(&collectors::generations::CARD_BYTES), 2048);
    }

    #[test]
    fn bad_settings_say_what_was_expected() {
        let e = parse(&[("gogc", "lots")]).unwrap_err();
        assert!(e.contains("--gogc") && e.contains("`off`") && !e.contains('\n'), "{e}");
        assert!(parse(&[("nursery_size", "1")]).unwrap_err().contains("expected one of: "));
        assert!(parse(&[("no_stack", "yes")]).unwrap_err().contains("true or false"));
        assert!(parse(&[("card_bytes", "100")]).unwrap_err().contains("--card-bytes"));
    }
}

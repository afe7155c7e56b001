//! A sweep's run settings: an experiment's `[sweep]` key that names one of
//! `gcwb run`'s collector or stack options (today `procs`, `gogc`,
//! `memlimit`, `nursery`, `tenure_age`, `card_bytes`, `pretenure_bytes`,
//! `no_stack`, `arch` and `max_stack`: [`crate::options::SETTINGS`]) is that
//! option, read by the same parser ([`RunSettings::set`]), so its values
//! mean, and are checked, exactly as on the command line (`gogc = "off"`,
//! `memlimit = "512MiB"`). A key is the option's field name (`max_stack`
//! for `--max-stack`); a flag (`no_stack`) takes `true` or `false`.

use crate::options::{RunSettings, SETTINGS};

/// The names of the run settings a sweep can set, in `gcwb run`'s order.
pub fn names() -> Vec<String> {
    SETTINGS.iter().map(|s| s.to_string()).collect()
}

/// Whether `name` is a run setting.
pub fn is_setting(name: &str) -> bool {
    SETTINGS.contains(&name)
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
        for s in ["procs", "gogc", "memlimit", "no_stack", "max_stack"] {
            assert!(n.iter().any(|x| x == s), "{s} missing from {n:?}");
        }
        let s = parse(&[("gogc", "off"), ("procs", "3"), ("memlimit", "1KiB"), ("no_stack", "true")]).unwrap();
        assert_eq!((s.gogc.0, s.procs, s.memlimit.0, s.no_stack), (None, Some(3), Some(1024), true));
        let s = parse(&[]).unwrap();
        assert_eq!((s.gogc.0, s.no_stack), (Some(100), false));
    }

    #[test]
    fn bad_settings_say_what_was_expected() {
        let e = parse(&[("gogc", "lots")]).unwrap_err();
        assert!(e.contains("--gogc") && e.contains("`off`") && !e.contains('\n'), "{e}");
        assert!(parse(&[("nursery_size", "1")]).unwrap_err().contains("expected one of: "));
        assert!(parse(&[("no_stack", "yes")]).unwrap_err().contains("true or false"));
    }
}

//! Options a collector plan declares for itself: each one an
//! [`OptionSpec`] (its name, the kind of value, its default, one line about
//! it and the check of a value), and the values a run sets, [`PlanOptions`],
//! carried to the plan in [`crate::GcConfig::options`].
//!
//! A plan lists its specs as `pub const OPTIONS: &[OptionSpec]` in its own
//! module and names them in its [`crate::registry::CollectorInfo`]; it
//! reads a value with [`PlanOptions::get`]. Whatever drives the collectors
//! picks the specs up from the registry
//! ([`crate::registry::all_options`]): gcwb's command line makes a
//! `--NAME VALUE` flag of each, its sweep files a key, its `run.toml` an
//! entry. So a new knob of a plan is one spec in the plan's module, and
//! nothing shared changes.
//!
//! Values are `u64`s whatever the kind: bytes, a count, or a switch (1 on,
//! 0 off). Text is read by [`OptionSpec::parse`] (the kind's syntax, then
//! the spec's check) and written back by [`OptionSpec::format`] (for files:
//! plain integers) or [`OptionSpec::show`] (for people: `32KiB`).

use std::collections::BTreeMap;

/// What kind of value an option takes, and so how its text is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// A size in bytes: digits with an optional unit B, KiB, MiB, GiB or
    /// TiB (`32KiB`, `4MiB`, `512`).
    Bytes,
    /// A whole number of things.
    Count,
    /// On or off: `on`, `off`, `true`, `false`, `1` or `0` (1 or 0).
    Switch,
}

impl OptionKind {
    /// What a value looks like, for help texts: `BYTES`, `N` or `on|off`.
    pub fn value_name(self) -> &'static str {
        match self {
            OptionKind::Bytes => "BYTES",
            OptionKind::Count => "N",
            OptionKind::Switch => "on|off",
        }
    }
}

/// One option of a plan.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    /// kebab-case: the command-line flag without `--` (`nursery`,
    /// `tenure-age`); [`OptionSpec::key`] is its snake_case form, for files.
    pub name: &'static str,
    pub kind: OptionKind,
    /// The value when none is set. 0 may mean "the plan's own default,
    /// worked out from the rest of the configuration"; `about` then says
    /// so.
    pub default: u64,
    /// What it does, in a line or two (shown by `--help` and `gcwb
    /// collectors`).
    pub about: &'static str,
    /// Refuses a value out of range, saying what was expected (`expected a
    /// power of two from 64 to 65536 bytes, got 100`). Applies to values
    /// set, not to `default`.
    pub check: fn(u64) -> Result<(), String>,
}

/// A check that takes every value.
pub fn any_value(_: u64) -> Result<(), String> {
    Ok(())
}

impl OptionSpec {
    /// The value `text` says, read by the kind's syntax and then checked;
    /// the error is one line saying what was expected.
    pub fn parse(&self, text: &str) -> Result<u64, String> {
        let value = match self.kind {
            OptionKind::Bytes => parse_bytes(text)?,
            OptionKind::Count => parse_count(text)?,
            OptionKind::Switch => parse_switch(text)?,
        };
        (self.check)(value)?;
        Ok(value)
    }

    /// `value` as a file writes it: a plain integer (bytes too), or `true`
    /// / `false` for a switch. [`OptionSpec::parse`] reads it back.
    pub fn format(&self, value: u64) -> String {
        match self.kind {
            OptionKind::Bytes | OptionKind::Count => value.to_string(),
            OptionKind::Switch => (value != 0).to_string(),
        }
    }

    /// `value` for people: bytes in the largest binary unit that divides
    /// them (`32KiB`, `512`), a switch as `on` or `off`.
    pub fn show(&self, value: u64) -> String {
        match self.kind {
            OptionKind::Bytes => show_bytes(value),
            OptionKind::Count => value.to_string(),
            OptionKind::Switch => if value != 0 { "on" } else { "off" }.to_string(),
        }
    }

    /// The name in snake_case (`tenure_age`): a key of a file.
    pub fn key(&self) -> String {
        self.name.replace('-', "_")
    }

    /// The command-line flag: `--tenure-age`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name)
    }

    /// Whether `key` names this option, in kebab-case or snake_case.
    pub fn is_named(&self, key: &str) -> bool {
        canonical_name(key) == self.name
    }

    /// Whether `other` is the same option: the same name, kind, default and
    /// text, and a check that agrees on a spread of values (0, 1, every
    /// power of two, each one less, the largest value). Two plans that
    /// declare one name must declare the same option, so that one flag
    /// means one thing.
    pub fn same_as(&self, other: &OptionSpec) -> bool {
        let probes = [0, 1, u64::MAX, self.default, other.default]
            .into_iter()
            .chain((0..64).flat_map(|s| [1u64 << s, (1u64 << s) - 1, (1u64 << s) + 1]));
        self.name == other.name
            && self.kind == other.kind
            && self.default == other.default
            && self.about == other.about
            && probes.into_iter().all(|v| (self.check)(v) == (other.check)(v))
    }
}

/// An option's name as specs spell it (kebab-case), from either spelling.
pub fn canonical_name(key: &str) -> String {
    key.replace('_', "-")
}

/// The values of plan options a run sets: only those set explicitly, by
/// name; every other option is at its spec's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    values: BTreeMap<String, u64>,
}

impl PlanOptions {
    /// The value of `spec`: the one set, or the spec's default.
    pub fn get(&self, spec: &OptionSpec) -> u64 {
        self.values.get(spec.name).copied().unwrap_or(spec.default)
    }

    /// Whether a value was set for `spec` (a plan whose default is worked
    /// out may want to know).
    pub fn is_set(&self, spec: &OptionSpec) -> bool {
        self.values.contains_key(spec.name)
    }

    /// Sets option `name` (kebab-case, or its snake_case key) to `value`,
    /// unchecked: a value read from text should come through
    /// [`OptionSpec::parse`].
    pub fn set(&mut self, name: &str, value: u64) {
        self.values.insert(canonical_name(name), value);
    }

    /// The options set, by kebab-case name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.values.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Reads a byte count: digits with an optional unit B, KiB, MiB, GiB or TiB
/// (Go's GOMEMLIMIT syntax): `512MiB`, `4096`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        _ => return Err(format!("expected a unit of B, KiB, MiB, GiB or TiB, got `{unit}`")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("expected a byte count like `512MiB`, got `{s}`"))?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("`{s}` is too large"))
}

/// Reads a whole number from 0.
pub fn parse_count(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("expected a whole number from 0, got `{s}`"))
}

/// Reads a switch: `on`, `true` or `1` is 1; `off`, `false` or `0` is 0.
pub fn parse_switch(s: &str) -> Result<u64, String> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(1),
        "off" | "false" | "0" => Ok(0),
        _ => Err(format!("expected on or off (or true, false, 1, 0), got `{s}`")),
    }
}

/// Bytes in the largest binary unit that divides them: `32KiB`, `4MiB`,
/// `512` (no unit below 1 KiB, or when none divides).
pub fn show_bytes(b: u64) -> String {
    let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    match units.iter().find(|(shift, _)| b != 0 && b.trailing_zeros() >= *shift) {
        Some((shift, unit)) => format!("{}{unit}", b >> shift),
        None => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn even(v: u64) -> Result<(), String> {
        if v.is_multiple_of(2) {
            Ok(())
        } else {
            Err(format!("expected an even number, got {v}"))
        }
    }

    const SIZE: OptionSpec =
        OptionSpec { name: "block-size", kind: OptionKind::Bytes, default: 0, about: "a size", check: even };
    const COUNT: OptionSpec =
        OptionSpec { name: "rounds", kind: OptionKind::Count, default: 3, about: "a count", check: any_value };
    const SWITCH: OptionSpec =
        OptionSpec { name: "fast", kind: OptionKind::Switch, default: 0, about: "a switch", check: any_value };

    #[test]
    fn bytes_take_units_and_plain_numbers() {
        assert_eq!(SIZE.parse("32KiB"), Ok(32 << 10));
        assert_eq!(SIZE.parse("4MiB"), Ok(4 << 20));
        assert_eq!(SIZE.parse("4096"), Ok(4096));
        assert_eq!(SIZE.parse("8B"), Ok(8));
        assert!(SIZE.parse("12XB").unwrap_err().contains("unit"));
        assert!(SIZE.parse("KiB").unwrap_err().contains("byte count"));
        assert!(SIZE.parse("-4").unwrap_err().contains("byte count"));
        assert!(SIZE.parse("20000000TiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn a_value_of_the_right_kind_is_still_checked() {
        assert_eq!(SIZE.parse("3"), Err("expected an even number, got 3".to_string()));
    }

    #[test]
    fn counts_and_switches_say_what_they_expected() {
        assert_eq!(COUNT.parse("15"), Ok(15));
        assert!(COUNT.parse("1.5").unwrap_err().contains("whole number"));
        assert!(COUNT.parse("-1").unwrap_err().contains("whole number"));
        for (text, v) in [("on", 1), ("true", 1), ("1", 1), ("OFF", 0), ("false", 0), ("0", 0)] {
            assert_eq!(SWITCH.parse(text), Ok(v), "{text}");
        }
        assert!(SWITCH.parse("yes").unwrap_err().contains("on or off"));
    }

    #[test]
    fn formatted_values_read_back_and_bytes_are_plain_integers_in_files() {
        assert_eq!(SIZE.format(32 << 10), "32768");
        assert_eq!(SWITCH.format(1), "true");
        for (spec, v) in [(SIZE, 32 << 10), (COUNT, 7), (SWITCH, 1), (SWITCH, 0)] {
            assert_eq!(spec.parse(&spec.format(v)), Ok(v), "{}", spec.name);
            assert_eq!(spec.parse(&spec.show(v)), Ok(v), "{}", spec.name);
        }
        assert_eq!(
            (SIZE.show(32 << 10), SIZE.show(512), SIZE.show(0), SIZE.show(3 << 20)),
            ("32KiB".into(), "512".into(), "0".into(), "3MiB".into())
        );
        assert_eq!(SWITCH.show(1), "on");
    }

    #[test]
    fn options_are_named_in_kebab_case_and_keyed_in_snake_case() {
        assert_eq!((SIZE.key(), SIZE.flag()), ("block_size".to_string(), "--block-size".to_string()));
        assert!(SIZE.is_named("block_size") && SIZE.is_named("block-size") && !SIZE.is_named("block"));
    }

    #[test]
    fn unset_options_are_at_their_default_and_either_spelling_sets_one() {
        let mut o = PlanOptions::default();
        assert_eq!((o.get(&SIZE), o.get(&COUNT)), (0, 3));
        assert!(o.is_empty() && !o.is_set(&COUNT));
        o.set("rounds", 5);
        o.set("block_size", 64);
        assert_eq!((o.get(&SIZE), o.get(&COUNT)), (64, 5));
        assert!(o.is_set(&SIZE));
        assert_eq!(o.iter().collect::<Vec<_>>(), [("block-size", 64), ("rounds", 5)]);
    }

    #[test]
    fn specs_are_the_same_only_when_everything_agrees() {
        assert!(SIZE.same_as(&SIZE));
        assert!(!SIZE.same_as(&OptionSpec { check: any_value, ..SIZE }), "checks that disagree");
        assert!(!SIZE.same_as(&OptionSpec { about: "another text", ..SIZE }));
        assert!(!COUNT.same_as(&OptionSpec { default: 4, ..COUNT }));
        assert!(!COUNT.same_as(&OptionSpec { kind: OptionKind::Bytes, ..COUNT }));
    }
}

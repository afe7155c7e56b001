//! Workload parameters: what each generator can be told, with defaults and
//! ranges, and the values for one run (`--seed`, `--set key=value`).

use std::fmt::Write as _;

/// One parameter of a workload: a number with a default and a range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub help: &'static str,
    pub default: f64,
    pub min: f64,
    pub max: f64,
    /// Only whole numbers are valid.
    pub integer: bool,
}

impl ParamSpec {
    /// A whole-number parameter.
    pub const fn int(name: &'static str, default: u64, min: u64, max: u64, help: &'static str) -> ParamSpec {
        ParamSpec { name, help, default: default as f64, min: min as f64, max: max as f64, integer: true }
    }

    /// A real-valued parameter.
    pub const fn real(name: &'static str, default: f64, min: f64, max: f64, help: &'static str) -> ParamSpec {
        ParamSpec { name, help, default, min, max, integer: false }
    }

    /// `name=default (min..max): help`, for listings.
    pub fn describe(&self) -> String {
        format!("{}={} ({}..{}): {}", self.name, self.default, self.min, self.max, self.help)
    }
}

/// The values of a workload's parameters for one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub seed: u64,
    values: Vec<(&'static str, f64)>,
}

impl Params {
    /// Every parameter at its default.
    pub fn defaults(specs: &[ParamSpec], seed: u64) -> Params {
        Params { seed, values: specs.iter().map(|s| (s.name, s.default)).collect() }
    }

    /// The value of `name` (a parameter the workload declares).
    pub fn get(&self, name: &str) -> f64 {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("workload reads undeclared parameter `{name}`"))
    }

    /// The value of a whole-number parameter.
    pub fn get_u64(&self, name: &str) -> u64 {
        self.get(name) as u64
    }

    /// Sets `key` from `value` as typed by a user; the error lists the valid
    /// names, or the valid range.
    pub fn set(&mut self, specs: &[ParamSpec], key: &str, value: &str) -> Result<(), String> {
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            let mut msg = format!("unknown parameter `{key}`");
            if specs.is_empty() {
                msg.push_str(" (this workload has no parameters)");
            } else {
                let _ =
                    write!(msg, " (expected one of: {})", specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", "));
            }
            return Err(msg);
        };
        let v: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("parameter `{key}`: `{value}` is not a number"))?;
        if spec.integer && v.fract() != 0.0 {
            return Err(format!("parameter `{key}`: `{value}` is not a whole number"));
        }
        if v < spec.min || v > spec.max {
            return Err(format!("parameter `{key}`: {value} is out of range {}..{}", spec.min, spec.max));
        }
        if let Some(slot) = self.values.iter_mut().find(|(n, _)| *n == key) {
            slot.1 = v;
        }
        Ok(())
    }

    /// Parses `key=value`.
    pub fn set_pair(&mut self, specs: &[ParamSpec], pair: &str) -> Result<(), String> {
        let (k, v) = pair.split_once('=').ok_or_else(|| format!("`{pair}`: expected key=value"))?;
        self.set(specs, k.trim(), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] =
        &[ParamSpec::int("depth", 16, 1, 30, "tree depth"), ParamSpec::real("rate", 0.5, 0.0, 1.0, "hit rate")];

    #[test]
    fn defaults_and_sets_within_range() {
        let mut p = Params::defaults(SPECS, 7);
        assert_eq!(p.get_u64("depth"), 16);
        p.set_pair(SPECS, "depth=20").unwrap();
        p.set(SPECS, "rate", "0.25").unwrap();
        assert_eq!(p.get_u64("depth"), 20);
        assert_eq!(p.get("rate"), 0.25);
        assert_eq!(p.seed, 7);
    }

    #[test]
    fn bad_values_name_the_valid_names_or_range() {
        let mut p = Params::defaults(SPECS, 1);
        assert_eq!(p.set(SPECS, "dept", "3").unwrap_err(), "unknown parameter `dept` (expected one of: depth, rate)");
        assert_eq!(p.set(SPECS, "depth", "40").unwrap_err(), "parameter `depth`: 40 is out of range 1..30");
        assert_eq!(p.set(SPECS, "depth", "2.5").unwrap_err(), "parameter `depth`: `2.5` is not a whole number");
        assert_eq!(p.set(SPECS, "rate", "x").unwrap_err(), "parameter `rate`: `x` is not a number");
        assert_eq!(p.set(SPECS, "rate", "NaN").unwrap_err(), "parameter `rate`: `NaN` is not a number");
        assert!(p.set_pair(SPECS, "depth").unwrap_err().contains("expected key=value"));
        assert_eq!(p.get_u64("depth"), 16, "a refused value changes nothing");
    }
}

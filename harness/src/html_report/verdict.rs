//! The verifier's verdict on a collector's results, in plain words, from
//! the `verify_errors` column: of `summary.csv` for a run, of
//! `compare.csv` for a comparison (summed over the repetitions), of
//! `cells.csv` for a sweep (summed over the collector's cells).

/// What the verifier said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Verified, no violation.
    Clean,
    /// Verified: this many violations.
    Violations(u64),
    /// Not replayed under the verifier (or, of a sweep, not every cell).
    Unverified,
}

impl Verdict {
    /// From a `verify_errors` cell: empty is unverified.
    pub fn of_cell(cell: &str) -> Verdict {
        match cell.trim().parse::<f64>() {
            Ok(n) if n > 0.0 => Verdict::Violations(n as u64),
            Ok(_) => Verdict::Clean,
            Err(_) => Verdict::Unverified,
        }
    }

    /// Several cells' verdict (a sweep's cells of one collector): any
    /// violation makes it violations (summed); clean when every cell is;
    /// otherwise unverified.
    pub fn combined(cells: impl IntoIterator<Item = Verdict>) -> Verdict {
        let (mut violations, mut all_clean, mut any) = (0, true, false);
        for v in cells {
            any = true;
            match v {
                Verdict::Violations(n) => violations += n,
                Verdict::Unverified => all_clean = false,
                Verdict::Clean => {}
            }
        }
        if violations > 0 {
            Verdict::Violations(violations)
        } else if any && all_clean {
            Verdict::Clean
        } else {
            Verdict::Unverified
        }
    }

    /// `clean`, `violations` or `unverified`: the `data-verdict` attribute.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Violations(_) => "violations",
            Verdict::Unverified => "unverified",
        }
    }

    /// A few words for a table cell.
    pub fn short(self) -> String {
        match self {
            Verdict::Clean => "verified".to_string(),
            Verdict::Violations(1) => "1 violation".to_string(),
            Verdict::Violations(n) => format!("{n} violations"),
            Verdict::Unverified => "not verified".to_string(),
        }
    }

    /// The sentence a reader needs.
    pub fn words(self) -> String {
        match self {
            Verdict::Clean => "verified: no reachable block was freed and every dead heap block was freed".to_string(),
            Verdict::Violations(n) => {
                format!("{} — these results are not trustworthy", Verdict::Violations(n).short())
            }
            Verdict::Unverified => "not verified — these results were not checked against the oracle".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_say_what_the_verifier_found() {
        assert_eq!(Verdict::of_cell(""), Verdict::Unverified);
        assert_eq!(Verdict::of_cell("0"), Verdict::Clean);
        assert_eq!(Verdict::of_cell("3"), Verdict::Violations(3));
        assert_eq!(Verdict::Violations(3).words(), "3 violations — these results are not trustworthy");
        assert_eq!(Verdict::Violations(1).short(), "1 violation");
    }

    #[test]
    fn a_sweep_is_clean_only_when_every_cell_is() {
        use Verdict::*;
        assert_eq!(Verdict::combined([Clean, Clean]), Clean);
        assert_eq!(Verdict::combined([Clean, Unverified]), Unverified);
        assert_eq!(Verdict::combined([Violations(2), Unverified, Violations(1)]), Violations(3));
        assert_eq!(Verdict::combined([]), Unverified);
    }
}

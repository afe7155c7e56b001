//! What `generational` declares to whatever drives it: its options and the
//! metrics each of its cycles reports (the registry lists them; gcwb makes
//! command-line flags, sweep keys and `cycles.csv` columns of them).
//!
//! The nursery's size, the card size and the young-generation metrics it
//! shares with `sticky` ([`crate::generations`]); the tenuring age, the
//! pretenuring threshold and `copied_bytes` are its own.

use crate::copy_space::MAX_OBJECT_BYTES;
use crate::generations;
use crate::plan_metrics::MetricSpec;
use crate::plan_options::{OptionKind, OptionSpec};

/// HotSpot's largest `MaxTenuringThreshold`: the oldest tenuring age taken.
pub const MAX_TENURE_AGE: u64 = 15;

/// `--tenure-age`: minor collections a survivor stays young.
pub const TENURE_AGE: OptionSpec = OptionSpec {
    name: "tenure-age",
    kind: OptionKind::Count,
    default: 1,
    about: "Minor collections a survivor stays in the copying collector's survivor space before promotion to the old \
            generation (0: promote at the first survival; at most 15, as HotSpot's MaxTenuringThreshold)",
    check: check_tenure_age,
};

fn check_tenure_age(n: u64) -> Result<(), String> {
    if n <= MAX_TENURE_AGE {
        Ok(())
    } else {
        Err(format!("expected a number from 0 to {MAX_TENURE_AGE}, got {n}"))
    }
}

/// `--pretenure-bytes`: larger blocks skip the nursery.
pub const PRETENURE_BYTES: OptionSpec = OptionSpec {
    name: "pretenure-bytes",
    kind: OptionKind::Bytes,
    default: MAX_OBJECT_BYTES,
    about: "Blocks larger than this skip the copying collector's nursery and are allocated in the old generation (at \
            most 32KiB; the nursery's half if that is smaller)",
    check: check_pretenure_bytes,
};

/// At most the largest block a copy space takes.
fn check_pretenure_bytes(b: u64) -> Result<(), String> {
    if b <= MAX_OBJECT_BYTES {
        Ok(())
    } else {
        Err(format!("expected at most {MAX_OBJECT_BYTES} bytes (the largest block a nursery takes), got {b}"))
    }
}

/// The options `generational` takes.
pub const OPTIONS: &[OptionSpec] = &[generations::NURSERY, TENURE_AGE, generations::CARD_BYTES, PRETENURE_BYTES];

/// What each of its cycles reports beyond [`crate::CycleRecord`]'s fields.
pub const CYCLE_METRICS: &[MetricSpec] = &[
    generations::YOUNG_BYTES,
    generations::PROMOTED_BYTES,
    generations::COPIED_BYTES,
    generations::SURVIVAL_RATE,
    generations::DIRTY_CARDS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenure_age_is_0_to_15_and_pretenuring_at_most_a_copy_spaces_largest_block() {
        assert_eq!(TENURE_AGE.parse("15"), Ok(15));
        assert!(TENURE_AGE.parse("16").unwrap_err().contains("0 to 15"));
        assert_eq!(PRETENURE_BYTES.parse("32KiB"), Ok(32 << 10));
        assert!(PRETENURE_BYTES.parse("64KiB").unwrap_err().contains("at most"));
        for spec in OPTIONS {
            assert!(spec.default == 0 || (spec.check)(spec.default).is_ok(), "{}'s default fails its check", spec.name);
        }
    }
}

//! What the generational plans (`sticky`, `generational`) share: the
//! options both take — the nursery's size and the card-marking barrier's
//! card size — the heap that card size gives, and the young-generation
//! measurements they report for their cycles (`copied_bytes` only a
//! copying plan's).
//!
//! Each plan still declares its own options and metrics (its `OPTIONS` and
//! `CYCLE_METRICS`); it lists these specs among them, so that a flag one
//! plan shares with another means the same thing for both (the registry
//! keeps one of each name, and a test there checks that plans declaring one
//! name declare the same spec).

use crate::collector::GcConfig;
use crate::heap::{Heap, HeapError, DEFAULT_RESERVE_BYTES, MAX_CARD_BYTES, MIN_CARD_BYTES, PAGE_BYTES};
use crate::plan_metrics::{MetricKind, MetricSpec};
use crate::plan_options::{OptionKind, OptionSpec};

/// `--nursery`: bytes allocated between two minor collections; 0 (unset)
/// leaves the size to the plan.
pub const NURSERY: OptionSpec = OptionSpec {
    name: "nursery",
    kind: OptionKind::Bytes,
    default: 0,
    about: "Generational collectors' nursery: bytes allocated between minor collections (`8MiB`), at least 8KiB (one \
            heap page). Unset (0): the collector's own, `generational` a quarter of the old generation's goal (4 MiB \
            to 64 MiB), `sticky` 4 MiB (Go's minimum heap goal)",
    check: check_nursery,
};

/// A nursery from one heap page (8 KiB: a smaller one would hold no span
/// at all, and 0 would mean a minor collection at every allocation) to half
/// the heap's reservation (the nursery, its two survivor spaces and the old
/// generation share it).
fn check_nursery(b: u64) -> Result<(), String> {
    let max = DEFAULT_RESERVE_BYTES / 2;
    if (PAGE_BYTES..=max).contains(&b) {
        Ok(())
    } else {
        Err(format!(
            "expected a nursery from {PAGE_BYTES} bytes (one heap page) to {max} bytes (half the heap's reservation), got {b}"
        ))
    }
}

/// `--card-bytes`: bytes of heap per card of the card-marking barrier.
pub const CARD_BYTES: OptionSpec = OptionSpec {
    name: "card-bytes",
    kind: OptionKind::Bytes,
    default: crate::heap::CARD_BYTES,
    about: "Bytes per card of the generational collectors' card-marking barrier: a power of two from 64 to 65536",
    check: check_card_bytes,
};

/// A card size [`Heap::set_card_bytes`] takes.
fn check_card_bytes(b: u64) -> Result<(), String> {
    if b.is_power_of_two() && (MIN_CARD_BYTES..=MAX_CARD_BYTES).contains(&b) {
        Ok(())
    } else {
        Err(format!("expected a power of two from {MIN_CARD_BYTES} to {MAX_CARD_BYTES} bytes, got {b}"))
    }
}

/// A heap for a plan with a card-marking barrier: `config`'s reservation,
/// with the card size of its [`CARD_BYTES`] option.
pub fn heap_with_cards(config: &GcConfig) -> Result<Heap, HeapError> {
    let heap = Heap::new(config.heap_reserve_bytes)?;
    let card_bytes = config.options.get(&CARD_BYTES);
    if !heap.set_card_bytes(card_bytes) {
        return Err(HeapError::CardSize { bytes: card_bytes });
    }
    Ok(heap)
}

/// `young_bytes`: the young generation a minor collection found.
pub const YOUNG_BYTES: MetricSpec = MetricSpec {
    name: "young_bytes",
    kind: MetricKind::Bytes,
    about: "bytes in the young generation when the cycle started (allocated since the last collection, and young \
            survivors)",
};

/// `promoted_bytes`: survivors moved into (or made part of) the old
/// generation.
pub const PROMOTED_BYTES: MetricSpec = MetricSpec {
    name: "promoted_bytes",
    kind: MetricKind::Bytes,
    about: "surviving young bytes promoted to the old generation",
};

/// `copied_bytes`: survivors kept young, copied into a survivor space (a
/// copying plan's only).
pub const COPIED_BYTES: MetricSpec = MetricSpec {
    name: "copied_bytes",
    kind: MetricKind::Bytes,
    about: "surviving young bytes copied within the young generation (into a survivor space)",
};

/// `survival_rate`: the share of the young generation that survived.
pub const SURVIVAL_RATE: MetricSpec = MetricSpec {
    name: "survival_rate",
    kind: MetricKind::Ratio,
    about: "surviving young bytes (promoted, or copied within the young generation) / young_bytes; only when \
            young_bytes > 0",
};

/// `dirty_cards`: the remembered set a minor collection scanned.
pub const DIRTY_CARDS: MetricSpec =
    MetricSpec { name: "dirty_cards", kind: MetricKind::Count, about: "dirty cards scanned (the remembered set)" };

/// What a generational cycle found of the young generation: `young` bytes,
/// of which `promoted` were promoted and `copied` (a copying plan's; `None`
/// for one that copies nothing) stayed young in a survivor space, and the
/// `dirty_cards` it scanned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YoungCycle {
    pub young: u64,
    pub promoted: u64,
    pub copied: Option<u64>,
    pub dirty_cards: u64,
}

impl YoungCycle {
    /// The cycle's values of [`YOUNG_BYTES`], [`PROMOTED_BYTES`],
    /// [`DIRTY_CARDS`], [`COPIED_BYTES`] (if `copied` was measured) and, when
    /// there was a young generation, [`SURVIVAL_RATE`]: what goes in
    /// [`crate::CycleRecord::extra`].
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let mut m = vec![
            (YOUNG_BYTES.name, self.young as f64),
            (PROMOTED_BYTES.name, self.promoted as f64),
            (DIRTY_CARDS.name, self.dirty_cards as f64),
        ];
        if let Some(c) = self.copied {
            m.push((COPIED_BYTES.name, c as f64));
        }
        if self.young > 0 {
            let survived = self.promoted + self.copied.unwrap_or(0);
            m.push((SURVIVAL_RATE.name, survived as f64 / self.young as f64));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nursery_is_at_least_a_page_and_a_card_a_power_of_two_in_range() {
        assert!(NURSERY.parse("0").unwrap_err().contains("one heap page"));
        assert!(NURSERY.parse("8191").is_err() && NURSERY.parse("1TiB").is_err());
        assert_eq!(NURSERY.parse("8KiB"), Ok(8192));
        assert!(CARD_BYTES.parse("100").unwrap_err().contains("power of two"));
        assert!(CARD_BYTES.parse("32").is_err() && CARD_BYTES.parse("128KiB").is_err());
        assert_eq!(CARD_BYTES.parse("64KiB"), Ok(64 << 10));
        assert_eq!((CARD_BYTES.check)(CARD_BYTES.default), Ok(()));
    }

    #[test]
    fn survival_is_the_share_of_the_young_generation_that_survived() {
        let c = YoungCycle { young: 400, promoted: 50, copied: Some(50), dirty_cards: 3 };
        let m = c.metrics();
        assert!(m.contains(&("survival_rate", 0.25)) && m.contains(&("copied_bytes", 50.0)), "{m:?}");
        let sticky = YoungCycle { copied: None, ..c };
        assert!(sticky.metrics().contains(&("survival_rate", 0.125)));
        assert!(!sticky.metrics().iter().any(|(n, _)| *n == "copied_bytes"));
        let none = YoungCycle::default().metrics();
        assert!(!none.iter().any(|(n, _)| *n == "survival_rate"), "no young generation, no survival rate");
        assert!(none.contains(&("young_bytes", 0.0)));
    }
}

//! Small pieces several generators share: jittered computation, a large
//! table of pointers rooted in `G0` and split into small-object chunks, and,
//! for their tests, parameters from `key=value` pairs and an in-memory build.

#[cfg(test)]
use super::params::{ParamSpec, Params};
use crate::builder::gl;
use crate::builder::{BuildError, Builder, EventSink};
use crate::model::{Cause, GoroutineId, Loc, Placement, WORD_BYTES};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A duration of `mean_ns` ± 50 %, or `None` when `mean_ns` is 0.
pub(crate) fn jitter(rng: &mut ChaCha8Rng, mean_ns: u64) -> Option<u64> {
    (mean_ns > 0).then(|| rng.random_range(mean_ns.div_ceil(2)..=mean_ns + mean_ns / 2))
}

/// A `work` event of `mean_ns` ± 50 % on `g` (none when `mean_ns` is 0).
pub(crate) fn work<S: EventSink>(
    b: &mut Builder<S>,
    rng: &mut ChaCha8Rng,
    g: GoroutineId,
    mean_ns: u64,
) -> Result<(), BuildError> {
    match jitter(rng, mean_ns) {
        Some(ns) => b.work(g, ns),
        None => Ok(()),
    }
}

/// Pointers per chunk of a table: 4096 × 8 B = 32 KiB, Go's largest
/// small-object size class, so each chunk is one small object.
pub(crate) const CHUNK_SLOTS: u64 = 4096;

/// `G0 = make([][]*T, chunks); G0[c] = make([]*T, 4096)...`: a table of `n`
/// nil pointer slots reachable from global 0, allocated by `g`.
pub(crate) fn alloc_table<S: EventSink>(b: &mut Builder<S>, g: GoroutineId, n: u64) -> Result<(), BuildError> {
    let chunks = n.div_ceil(CHUNK_SLOTS);
    b.alloc(g, gl(0), chunks * WORD_BYTES, chunks as u32, Cause::MakeSlice, Placement::Auto)?;
    for c in 0..chunks {
        let k = CHUNK_SLOTS.min(n - c * CHUNK_SLOTS);
        b.alloc(g, gl(0).slot(c as u32), k * WORD_BYTES, k as u32, Cause::MakeSlice, Placement::Auto)?;
    }
    Ok(())
}

/// Entry `i` of the table [`alloc_table`] made: `G0[i/4096][i%4096]`.
pub(crate) fn table_slot(i: u64) -> Loc {
    gl(0).slot((i / CHUNK_SLOTS) as u32).slot((i % CHUNK_SLOTS) as u32)
}

/// `specs`' defaults with `seed`, then `sets` applied (tests only).
#[cfg(test)]
pub(crate) fn params(specs: &[ParamSpec], seed: u64, sets: &[(&str, &str)]) -> Params {
    let mut p = Params::defaults(specs, seed);
    for (k, v) in sets {
        p.set(specs, k, v).unwrap_or_else(|e| panic!("{e}"));
    }
    p
}

/// The trace a generator writes for `p`, in memory (tests only).
#[cfg(test)]
pub(crate) fn build(
    generate: fn(&Params, &mut dyn EventSink) -> Result<(), BuildError>,
    p: &Params,
) -> crate::model::Trace {
    let mut sink = crate::builder::MemorySink::new();
    generate(p, &mut sink).expect("generates");
    sink.into_trace()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn jitter_stays_within_half_of_the_mean_and_zero_means_none() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(jitter(&mut rng, 0), None);
        for _ in 0..1000 {
            let ns = jitter(&mut rng, 1000).unwrap();
            assert!((500..=1500).contains(&ns), "{ns}");
        }
    }
}

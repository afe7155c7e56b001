//! The statistics of one metric over repeated measurements: what `gcwb
//! compare` (`compare.csv`) and a sweep (`sweep.csv`) report for each
//! metric the column registry ([`crate::columns`]) marks `aggregate`.
//!
//! For n values x₁…xₙ of one metric (each metric on its own: the median
//! of one column is not taken from the repetition that gave another's):
//!
//! - **median**: the middle value of the sorted values; for an even n the
//!   mean of the two middle ones (so with two repetitions it is their
//!   mean, neither a minimum nor a maximum);
//! - **min**, **max**;
//! - **mean**: x̄ = Σxᵢ / n;
//! - **95% confidence interval of the mean**: x̄ ± t₀.₉₇₅,ₙ₋₁ · s / √n,
//!   with s the sample standard deviation (divisor n − 1) and t₀.₉₇₅,ₙ₋₁
//!   Student's t quantile for n − 1 degrees of freedom ([`t_975`]), which
//!   is right for the small n of a benchmark (with 3 repetitions t is
//!   4.30, not the normal 1.96). It assumes the repetitions are
//!   independent draws of a roughly normal quantity; with n = 1 there is
//!   no interval.
//!
//! [`median_index`] is apart: it picks a *measured* value (a repetition),
//! for `compare`'s `median_rep`.

/// The statistics of one metric over its values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// The 95% confidence interval of the mean, `(low, high)`; `None` for
    /// a single value.
    pub ci95: Option<(f64, f64)>,
}

impl Spread {
    /// The spread of a single value `v` (no interval).
    pub fn single(v: f64) -> Spread {
        Spread { median: v, min: v, max: v, mean: v, ci95: None }
    }
}

/// The spread of `values`; `None` when there are none.
pub fn spread(values: &[f64]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let ci95 = (n >= 2).then(|| {
        let variance = sorted.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let half = t_975(n - 1) * (variance / n as f64).sqrt();
        (mean - half, mean + half)
    });
    Some(Spread { median, min: sorted[0], max: sorted[n - 1], mean, ci95 })
}

/// The index in `values` of a measured median: the middle value, for an
/// even count the lower of the two middle ones, the earliest of equal
/// values. `None` when `values` is empty.
pub fn median_index(values: &[f64]) -> Option<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(values.len().checked_sub(1)? / 2)?;
    values.iter().position(|v| v.total_cmp(median).is_eq())
}

/// Student's t quantile t₀.₉₇₅ for `df` degrees of freedom (the factor of
/// a two-sided 95% interval): from the table for 1 to 30 (six decimals),
/// above that the Cornish–Fisher expansion around the normal quantile
/// (within 10⁻⁵ of the exact value there). `df` 0 has none: infinity.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
        2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873,
        2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            // The normal distribution's 0.975 quantile.
            let z = 1.959_963_984_540_054_f64;
            let v = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_two_middle_values() {
        assert_eq!(spread(&[40.0, 10.0, 30.0, 20.0]).unwrap().median, 25.0);
        assert_eq!(spread(&[300.0, 100.0]).unwrap().median, 200.0, "two repetitions: their mean, not the min");
        assert_eq!(spread(&[30.0, 10.0, 20.0]).unwrap().median, 20.0);
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn the_confidence_interval_is_students_t_over_the_standard_error() {
        // By hand: 10, 12, 14, 16 → mean 13, s² = (9 + 1 + 1 + 9) / 3 = 20/3,
        // s/√n = √(20/3) / 2 = 1.290994, t(3) = 3.182446 → ± 4.108520.
        let s = spread(&[16.0, 10.0, 14.0, 12.0]).unwrap();
        assert_eq!((s.min, s.max, s.mean, s.median), (10.0, 16.0, 13.0, 13.0));
        let (lo, hi) = s.ci95.unwrap();
        assert!(close(lo, 13.0 - 4.108520) && close(hi, 13.0 + 4.108520), "{lo} {hi}");
        // Equal values: an interval of width 0; one value: none.
        assert_eq!(spread(&[5.0, 5.0]).unwrap().ci95, Some((5.0, 5.0)));
        assert_eq!(spread(&[5.0]).unwrap(), Spread::single(5.0));
    }

    #[test]
    fn t_quantiles_match_the_table_and_the_expansion_joins_it() {
        assert_eq!(t_975(1), 12.706205);
        assert_eq!(t_975(2), 4.302653);
        assert!(t_975(0).is_infinite());
        // Exact values (numerical integration of Student's density).
        for (df, exact) in [(31, 2.039513), (40, 2.021075), (60, 2.000298), (120, 1.979930), (1000, 1.962339)] {
            assert!((t_975(df) - exact).abs() < 1e-5, "df {df}: {} vs {exact}", t_975(df));
        }
        for df in 1..200 {
            assert!(t_975(df + 1) < t_975(df), "decreasing at {df}");
        }
    }

    #[test]
    fn the_measured_median_is_the_lower_middle_value() {
        assert_eq!(median_index(&[]), None);
        assert_eq!(median_index(&[5.0]), Some(0));
        assert_eq!(median_index(&[30.0, 10.0, 20.0]), Some(2));
        assert_eq!(median_index(&[40.0, 10.0, 30.0, 20.0]), Some(3), "20, the lower of 20 and 30");
        assert_eq!(median_index(&[7.0, 7.0, 7.0]), Some(0), "ties: the earliest");
    }
}

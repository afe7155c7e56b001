//! Minimum mutator utilization (MMU) and its bounded form (BMU), computed
//! exactly.
//!
//! Data and queries are kept apart, as in Go's `src/internal/trace/gc.go`:
//! a [`Utilization`] is the mutator's utilization over one run, built once;
//! [`Utilization::mmu`], [`Utilization::bmu`], [`Utilization::worst_window`]
//! and [`Utilization::mmu_curve`] are questions asked of it.
//!
//! - [`Reduced`]: one interval during which the mutator runs at less than
//!   full speed (a stop-the-world pause: utilization 0; a mark assist by one
//!   of P workers: `1 - 1/P`);
//! - [`Utilization`]: the run `[0, wall]` cut into disjoint pieces of
//!   constant utilization, with prefix sums of the time lost to the mutator;
//! - [`log_windows`]: the window sizes a curve is drawn at.
//!
//! The module knows nothing of replays: its inputs are a run's length and
//! plain intervals. Turning a replay's pauses and assists into those is
//! the caller's job (for a replay, `crate::summary::run_utilization`).
//!
//! # Definitions (Cheng & Blelloch, PLDI 2001)
//!
//! The mutator utilization of a window `[t, t+w]` is the mutator time in it
//! divided by `w`. `MMU(w)` is its minimum over every window of width `w`
//! inside the run; `BMU(w) = min over w' >= w of MMU(w')` is the same
//! question made monotone ("no window of width w or more does worse").
//! `MMU(w) = 0` for every `w` up to the longest stretch of zero utilization.
//! A window wider than the run is taken to be the whole run, as Go's
//! `MMUCurve` does.
//!
//! # Why the computation is exact
//!
//! Let `L(t)` be the mutator time lost in `[0, t]`: piecewise linear, with a
//! kink at every piece boundary. The lost time of a window, `L(t+w) - L(t)`,
//! is piecewise linear in `t` and kinks only where `t` or `t+w` crosses a
//! boundary, so its maximum is at a window whose start or end is on a
//! boundary (clamped to the run). [`Utilization::mmu`] evaluates exactly
//! those windows: `O(n)` candidates, each in `O(log n)` by binary search in
//! the prefix sums.
//!
//! For BMU, think of a window as a point `(t, s)` with `s - t >= w`. Inside
//! one cell of the grid of boundaries the lost time is linear in `(t, s)`
//! and the width `s - t` too, so their ratio is linear-fractional and takes
//! its extremes at the cell's corners: either windows with an edge on the
//! line `s - t = w` (which [`Utilization::mmu`] already covers) or windows
//! whose two edges are both boundaries. The worst of the latter, with width
//! at least `w`, is a maximum-density segment with a length bound: for each
//! right edge, the best left edge is a tangent to the lower convex hull of
//! the admissible prefix points `(t_i, L(t_i))`, found by binary search
//! (Goldwasser, Kao & Lu, JCSS 2005). `O(n log n)` per window size.
//!
//! Lost fractions are kept as integers in units of `1/LOSS_DENOM` (so the
//! `1 - 1/P` of P ≤ 16 workers, and 25%, are exact) and lost time in
//! nanoseconds times that: all comparisons are exact integer arithmetic, and
//! only the final ratio is rounded to an `f64`. So `mmu(w)` is exactly `0.0`
//! inside a pause, exactly `0.5` for a half-lost window, and BMU is never
//! above MMU.

/// Utilization fractions are multiples of `1/LOSS_DENOM`:
/// `lcm(1, ..., 16)`, so that one of up to 16 workers (`1 - 1/P`) is exact.
/// With it, every product the queries form fits an `i128` for runs up to
/// about 170 days (`wall² × LOSS_DENOM < 2^127`).
pub const LOSS_DENOM: u64 = 720_720;

/// The smallest window of the curve written by default: 100 µs, about the
/// shortest pause a Go program sees (Go 1.8+: "usually under 100 µs").
pub const MIN_WINDOW_NS: u64 = 100_000;

/// Window sizes per factor of ten on the default curve.
pub const WINDOWS_PER_DECADE: u32 = 10;

/// An interval during which the mutator runs at utilization `util` (in
/// `[0, 1]`: 0 for a stop-the-world pause, `1 - 1/P` while one of P workers
/// assists the collector).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reduced {
    pub start_ns: u64,
    pub end_ns: u64,
    pub util: f64,
}

impl Reduced {
    /// A stop-the-world pause: no mutator runs from `start_ns` to `end_ns`.
    pub fn pause(start_ns: u64, end_ns: u64) -> Reduced {
        Reduced { start_ns, end_ns, util: 0.0 }
    }
}

impl From<(u64, u64, f64)> for Reduced {
    fn from((start_ns, end_ns, util): (u64, u64, f64)) -> Reduced {
        Reduced { start_ns, end_ns, util }
    }
}

/// The mutator's utilization over a run `[0, wall_ns]`, as disjoint pieces
/// of constant utilization. Build it with [`Utilization::new`], then ask it
/// [`mmu`](Utilization::mmu), [`bmu`](Utilization::bmu) or
/// [`mmu_curve`](Utilization::mmu_curve).
#[derive(Clone, Debug)]
pub struct Utilization {
    wall_ns: u64,
    /// Piece boundaries: `0 = edges[0] < ... < edges[n] = wall_ns` (just
    /// `[0]` for an empty run).
    edges: Vec<u64>,
    /// Lost fraction of each piece, in `1/LOSS_DENOM` (`n` entries).
    loss: Vec<u64>,
    /// `lost[k]`: time lost in `[0, edges[k]]`, in ns × `LOSS_DENOM`.
    lost: Vec<i128>,
    /// The longest stretch during which no mutator ran.
    longest_full_ns: u64,
}

/// A window's lost time over its width, compared exactly.
#[derive(Clone, Copy, Debug)]
struct Lost {
    /// ns × `LOSS_DENOM`.
    lost: i128,
    width: u64,
}

impl Lost {
    /// `self` loses a strictly larger fraction than `other`.
    fn worse_than(self, other: Lost) -> bool {
        self.lost * other.width as i128 > other.lost * self.width as i128
    }

    /// The fraction of the window lost.
    fn fraction(self) -> f64 {
        if self.width == 0 {
            return 0.0;
        }
        self.lost as f64 / (self.width as i128 * LOSS_DENOM as i128) as f64
    }

    /// The mutator utilization it leaves.
    fn util(self) -> f64 {
        if self.width == 0 {
            return 1.0;
        }
        let den = self.width as i128 * LOSS_DENOM as i128;
        (den - self.lost) as f64 / den as f64
    }
}

impl Utilization {
    /// The utilization of a run of `wall_ns` nanoseconds, reduced during
    /// `intervals`. Intervals are clipped to `[0, wall_ns]`; where several
    /// overlap their lost fractions add up, capped at everything (two
    /// assists at once on 4 workers lose half; a pause during an assist
    /// loses all). `util` outside `[0, 1]` is clamped into it.
    pub fn new<I>(wall_ns: u64, intervals: I) -> Utilization
    where
        I: IntoIterator,
        I::Item: Into<Reduced>,
    {
        // Sweep the interval ends in time order, keeping the sum of the lost
        // fractions in force.
        let mut changes: Vec<(u64, i64)> = Vec::new();
        for r in intervals {
            let r: Reduced = r.into();
            let (start, end) = (r.start_ns.min(wall_ns), r.end_ns.min(wall_ns));
            let util = if r.util.is_nan() { 1.0 } else { r.util.clamp(0.0, 1.0) };
            let loss = ((1.0 - util) * LOSS_DENOM as f64).round() as i64;
            if start < end && loss > 0 {
                changes.push((start, loss));
                changes.push((end, -loss));
            }
        }
        changes.sort_unstable();
        let mut edges = vec![0u64];
        let mut loss: Vec<u64> = Vec::new();
        let mut sum: i64 = 0;
        let mut i = 0;
        let mut at = 0u64;
        while at < wall_ns {
            while i < changes.len() && changes[i].0 <= at {
                sum += changes[i].1;
                i += 1;
            }
            let next = changes.get(i).map_or(wall_ns, |c| c.0.min(wall_ns));
            let l = sum.clamp(0, LOSS_DENOM as i64) as u64;
            if loss.last() == Some(&l) {
                *edges.last_mut().expect("an edge per piece") = next;
            } else {
                loss.push(l);
                edges.push(next);
            }
            at = next;
        }
        let mut lost = Vec::with_capacity(edges.len());
        lost.push(0i128);
        let mut longest_full_ns = 0;
        for (k, &l) in loss.iter().enumerate() {
            let width = edges[k + 1] - edges[k];
            lost.push(lost[k] + l as i128 * width as i128);
            if l == LOSS_DENOM {
                // Adjacent pieces never share a loss, so a full piece is a
                // whole stretch of zero utilization.
                longest_full_ns = longest_full_ns.max(width);
            }
        }
        Utilization { wall_ns, edges, loss, lost, longest_full_ns }
    }

    /// The length of the run.
    pub fn wall_ns(&self) -> u64 {
        self.wall_ns
    }

    /// The longest stretch with no mutator running (the longest pause, with
    /// overlapping or back-to-back pauses counted as one).
    pub fn longest_full_pause_ns(&self) -> u64 {
        self.longest_full_ns
    }

    /// Mutator time lost over the whole run, in nanoseconds: the integral of
    /// `1 - util`. For stop-the-world pauses, their total length.
    pub fn lost_ns(&self) -> f64 {
        *self.lost.last().expect("at least one prefix") as f64 / LOSS_DENOM as f64
    }

    /// The share of the run the mutator lost: `lost_ns / wall_ns`, which is
    /// `1 - mmu(wall_ns)` (each rounded once from the exact ratio). 0 for an
    /// empty run.
    pub fn lost_fraction(&self) -> f64 {
        self.whole_run().fraction()
    }

    /// The disjoint pieces of reduced utilization, `(start_ns, end_ns,
    /// util)` in time order (stretches at full utilization left out).
    pub fn pieces(&self) -> impl Iterator<Item = Reduced> + '_ {
        self.loss.iter().enumerate().filter(|(_, &l)| l > 0).map(|(k, &l)| Reduced {
            start_ns: self.edges[k],
            end_ns: self.edges[k + 1],
            util: 1.0 - l as f64 / LOSS_DENOM as f64,
        })
    }

    /// Time lost in `[0, t]`, `t <= wall_ns`, in ns × `LOSS_DENOM`.
    fn lost_until(&self, t: u64) -> i128 {
        let n = self.loss.len();
        if n == 0 {
            return 0;
        }
        let k = (self.edges.partition_point(|&e| e <= t) - 1).min(n - 1);
        self.lost[k] + self.loss[k] as i128 * (t - self.edges[k]) as i128
    }

    fn window(&self, t: u64, w: u64) -> Lost {
        Lost { lost: self.lost_until(t + w) - self.lost_until(t), width: w }
    }

    fn whole_run(&self) -> Lost {
        Lost { lost: *self.lost.last().expect("at least one prefix"), width: self.wall_ns }
    }

    /// The worst window of width `window_ns` (at most the run): its start and
    /// its lost time; the earliest such window on ties.
    ///
    /// The candidate starts — every boundary `e`, and `e - w` — are visited
    /// in increasing order (a merge of the two sorted lists), so the window's
    /// two ends only move right and each finds its piece by walking a
    /// cursor: `O(n)` per window size.
    fn worst(&self, w: u64) -> (u64, Lost) {
        let mut best = (0, self.window(0, w));
        let last = self.wall_ns - w;
        let edges = &self.edges;
        let n = edges.len();
        // `i` walks the windows starting at a boundary, `j` those ending at one.
        let (mut i, mut j) = (0, edges.partition_point(|&e| e < w));
        let (mut start, mut end) = (Cursor::default(), Cursor::default());
        while i < n || j < n {
            // The smaller candidate next; once it is past the last start,
            // every other one is too.
            let t = if j >= n || (i < n && edges[i] <= edges[j] - w) {
                i += 1;
                edges[i - 1]
            } else {
                j += 1;
                edges[j - 1] - w
            };
            if t > last {
                break;
            }
            let l = Lost { lost: end.lost_until(self, t + w) - start.lost_until(self, t), width: w };
            if l.worse_than(best.1) {
                best = (t, l);
            }
        }
        best
    }

    /// The window of width `window_ns` with the lowest mutator utilization:
    /// `(start_ns, utilization)`, the earliest on ties. A window at least as
    /// wide as the run is the whole run, starting at 0. A zero-width window
    /// is the instant of lowest utilization.
    pub fn worst_window(&self, window_ns: u64) -> (u64, f64) {
        if self.wall_ns == 0 {
            return (0, 1.0);
        }
        if window_ns == 0 {
            // The limit of MMU(w) as w -> 0: the lowest instantaneous utilization.
            let k = (0..self.loss.len()).max_by_key(|&k| (self.loss[k], std::cmp::Reverse(k))).expect("a piece");
            return (self.edges[k], 1.0 - self.loss[k] as f64 / LOSS_DENOM as f64);
        }
        if window_ns >= self.wall_ns {
            return (0, self.whole_run().util());
        }
        let (t, l) = self.worst(window_ns);
        (t, l.util())
    }

    /// Minimum mutator utilization: the lowest utilization of any window of
    /// `window_ns` inside the run (the whole run if `window_ns` is longer;
    /// the lowest instantaneous utilization if 0). In `[0, 1]`; 0 whenever
    /// `window_ns` fits inside one pause. An empty run has utilization 1.
    pub fn mmu(&self, window_ns: u64) -> f64 {
        self.worst_window(window_ns).1
    }

    /// Bounded mutator utilization: the lowest utilization of any window of
    /// `window_ns` or wider, `min over w' >= window_ns of mmu(w')`, computed
    /// exactly (see the module documentation). Non-decreasing in
    /// `window_ns` and never above [`mmu`](Utilization::mmu).
    pub fn bmu(&self, window_ns: u64) -> f64 {
        if self.wall_ns == 0 || window_ns == 0 || window_ns >= self.wall_ns {
            return self.mmu(window_ns);
        }
        self.bmu_from(window_ns, self.worst(window_ns).1)
    }

    /// BMU at `w` (inside the run), given the worst window of width `w`.
    fn bmu_from(&self, w: u64, worst: Lost) -> f64 {
        let mut best = worst;
        // Windows whose two edges are boundaries, at least `w` apart: for
        // each right edge j, the best left edge among the admissible prefix
        // points is on their lower convex hull.
        let x = |k: usize| self.edges[k] as i128;
        let y = |k: usize| self.lost[k];
        // (b - a) × (c - a) > 0: a, b, c turn counter-clockwise.
        let ccw = |a: usize, b: usize, c: usize| (x(b) - x(a)) * (y(c) - y(a)) - (y(b) - y(a)) * (x(c) - x(a)) > 0;
        let mut hull: Vec<usize> = Vec::new();
        let mut next = 0;
        for j in 0..self.edges.len() {
            while next < j && self.edges[next] + w <= self.edges[j] {
                while hull.len() >= 2 && !ccw(hull[hull.len() - 2], hull[hull.len() - 1], next) {
                    hull.pop();
                }
                hull.push(next);
                next += 1;
            }
            if hull.is_empty() {
                continue;
            }
            // Along the hull the slope from hull[k] to j rises while the hull
            // edge leaving hull[k] is less steep than it, then falls: find
            // the first k whose edge is at least as steep.
            let steep = |k: usize| {
                let (a, b) = (hull[k], hull[k + 1]);
                (y(b) - y(a)) * (x(j) - x(a)) >= (y(j) - y(a)) * (x(b) - x(a))
            };
            let (mut lo, mut hi) = (0, hull.len() - 1);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if steep(mid) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let i = hull[lo];
            let l = Lost { lost: y(j) - y(i), width: self.edges[j] - self.edges[i] };
            if l.worse_than(best) {
                best = l;
            }
        }
        // `best` started at MMU(w)'s window and only got worse.
        best.util()
    }

    /// MMU and BMU at each of `windows`: `(window_ns, mmu, bmu)`, in the
    /// order given. [`Utilization::default_windows`] is the usual list.
    pub fn mmu_curve(&self, windows: &[u64]) -> Vec<(u64, f64, f64)> {
        let point = |w: u64| {
            if self.wall_ns == 0 || w == 0 || w >= self.wall_ns {
                let m = self.mmu(w);
                return (w, m, m);
            }
            let worst = self.worst(w).1;
            (w, worst.util(), self.bmu_from(w, worst))
        };
        let mut curve: Vec<(u64, f64, f64)> = windows.iter().map(|&w| point(w)).collect();
        // BMU is exact, hence monotone; this only guards against the last
        // bit of the final rounding to f64.
        let mut order: Vec<usize> = (0..curve.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(curve[i].0));
        let mut floor = f64::INFINITY;
        for i in order {
            floor = floor.min(curve[i].2);
            curve[i].2 = floor;
        }
        curve
    }

    /// The windows of the default curve: [`log_windows`] from
    /// [`MIN_WINDOW_NS`] to the whole run.
    pub fn default_windows(&self) -> Vec<u64> {
        log_windows(MIN_WINDOW_NS, self.wall_ns)
    }
}

/// A position in a [`Utilization`]'s pieces for a sequence of increasing
/// times: `lost_until` walks forward instead of searching.
#[derive(Default)]
struct Cursor {
    k: usize,
}

impl Cursor {
    /// `u.lost_until(t)`, for `t` no smaller than at the last call.
    fn lost_until(&mut self, u: &Utilization, t: u64) -> i128 {
        let n = u.loss.len();
        if n == 0 {
            return 0;
        }
        while self.k + 1 < n && u.edges[self.k + 1] <= t {
            self.k += 1;
        }
        u.lost[self.k] + u.loss[self.k] as i128 * (t - u.edges[self.k]) as i128
    }
}

/// Log-spaced window sizes from `min_ns` up to `max_ns`:
/// `min_ns × 10^(k/10)` for k = 0, 1, ... while below `max_ns` (so, from
/// 100 µs, exactly 1 ms, 10 ms and 100 ms are on the list), then `max_ns`
/// itself. Just `[max_ns]` if `max_ns <= min_ns`; empty if `max_ns` is 0.
pub fn log_windows(min_ns: u64, max_ns: u64) -> Vec<u64> {
    if max_ns == 0 {
        return Vec::new();
    }
    let min = min_ns.max(1);
    let mut windows = Vec::new();
    for k in 0u32.. {
        let w = (min as f64 * 10f64.powf(k as f64 / WINDOWS_PER_DECADE as f64)).round() as u64;
        if w >= max_ns {
            break;
        }
        if windows.last() != Some(&w) {
            windows.push(w);
        }
    }
    windows.push(max_ns);
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn one_10ms_pause_in_100ms() {
        let u = Utilization::new(100 * MS, [Reduced::pause(40 * MS, 50 * MS)]);
        assert_eq!(u.longest_full_pause_ns(), 10 * MS);
        assert_eq!(u.mmu(MS), 0.0);
        assert_eq!(u.mmu(10 * MS), 0.0);
        assert_eq!(u.mmu(20 * MS), 0.5);
        assert_eq!(u.mmu(100 * MS), 0.9);
        assert_eq!(u.mmu(200 * MS), 0.9, "a window longer than the run is the run");
        assert!(close(u.mmu(40 * MS), 0.75));
        assert!(u.mmu(10 * MS + 1) > 0.0);
        assert_eq!(u.worst_window(20 * MS).0, 30 * MS, "the earliest worst window ends at the pause's end");
        assert!(close(u.lost_fraction(), 0.1));
        assert_eq!(u.lost_ns(), (10 * MS) as f64);
    }

    #[test]
    fn two_pauses() {
        // 5 ms at 10..15 and 10 ms at 60..70, in a 100 ms run.
        let u = Utilization::new(100 * MS, [(10 * MS, 15 * MS, 0.0), (60 * MS, 70 * MS, 0.0)]);
        assert_eq!(u.longest_full_pause_ns(), 10 * MS);
        assert_eq!(u.mmu(10 * MS), 0.0);
        assert_eq!(u.mmu(20 * MS), 0.5);
        // A 60 ms window can hold both pauses (10..70): 45/60.
        assert!(close(u.mmu(60 * MS), 0.75));
        // 55 ms: 15..70 holds the second and nothing of the first; 10..65
        // all of the first and half the second (10 ms lost either way).
        assert!(close(u.mmu(55 * MS), 45.0 / 55.0));
        assert!(close(u.mmu(100 * MS), 0.85));
        // Adjacent pauses are one stretch.
        let v = Utilization::new(100 * MS, [Reduced::pause(10 * MS, 20 * MS), Reduced::pause(20 * MS, 25 * MS)]);
        assert_eq!(v.longest_full_pause_ns(), 15 * MS);
        assert_eq!(v.mmu(15 * MS), 0.0);
        assert_eq!(v.pieces().count(), 1);
    }

    #[test]
    fn fractional_interval() {
        // One of 4 workers assists for 40 ms: utilization 0.75 there.
        let u = Utilization::new(100 * MS, [(20 * MS, 60 * MS, 0.75)]);
        assert_eq!(u.longest_full_pause_ns(), 0);
        assert_eq!(u.mmu(0), 0.75);
        assert_eq!(u.mmu(10 * MS), 0.75);
        assert_eq!(u.mmu(40 * MS), 0.75);
        assert_eq!(u.mmu(80 * MS), 1.0 - 10.0 / 80.0);
        assert_eq!(u.mmu(100 * MS), 0.9);
        // One of 3 workers: 1 - 1/3 is exact in LOSS_DENOM.
        let v = Utilization::new(30, [(0, 30, 1.0 - 1.0 / 3.0)]);
        assert!(close(v.mmu(30), 2.0 / 3.0));
    }

    #[test]
    fn overlapping_intervals_add_their_losses_capped_at_all() {
        // Two quarter-losses overlap for 10 ms; a pause over an assist loses
        // everything, not more.
        let u =
            Utilization::new(100 * MS, [(10 * MS, 30 * MS, 0.75), (20 * MS, 40 * MS, 0.75), (25 * MS, 28 * MS, 0.0)]);
        let p: Vec<_> = u.pieces().collect();
        let utils: Vec<f64> = p.iter().map(|r| r.util).collect();
        assert_eq!(utils, [0.75, 0.5, 0.0, 0.5, 0.75]);
        assert_eq!(p[2], Reduced::pause(25 * MS, 28 * MS));
        assert_eq!(u.longest_full_pause_ns(), 3 * MS);
        // Lost: 10×0.25 + 5×0.5 + 3×1 + 2×0.5 + 10×0.25 = 11.5 ms.
        assert!(close(u.lost_ns(), 11.5 * MS as f64));
        // Two identical pauses are one.
        let v = Utilization::new(10, [Reduced::pause(2, 5), Reduced::pause(2, 5)]);
        assert_eq!(v.lost_ns(), 3.0);
    }

    #[test]
    fn bmu_is_monotone_and_never_above_mmu() {
        // Pauses at both ends make MMU fall as the window grows: at most 3 ms
        // lost in any window up to 39 ms, 6 ms in the whole run.
        let u = Utilization::new(45 * MS, [Reduced::pause(0, 3 * MS), Reduced::pause(42 * MS, 45 * MS)]);
        assert!(u.mmu(30 * MS) > u.mmu(45 * MS), "MMU itself is not monotone here");
        let windows = log_windows(MS / 10, 45 * MS);
        let curve = u.mmu_curve(&windows);
        for pair in curve.windows(2) {
            assert!(pair[0].2 <= pair[1].2, "{pair:?}");
        }
        for &(w, mmu, bmu) in &curve {
            assert!(bmu <= mmu, "{w}: {bmu} > {mmu}");
            assert_eq!(bmu, u.bmu(w));
        }
        assert_eq!(u.bmu(30 * MS), u.mmu(45 * MS), "the whole run is worse than any 30 ms window");
    }

    #[test]
    fn empty_and_degenerate_runs() {
        let none = Utilization::new(0, [Reduced::pause(0, 10)]);
        assert_eq!(none.mmu(1), 1.0);
        assert_eq!(none.bmu(1), 1.0);
        assert_eq!(none.lost_fraction(), 0.0);
        assert!(none.default_windows().is_empty());
        let clean = Utilization::new(1000, std::iter::empty::<Reduced>());
        assert_eq!(clean.mmu(0), 1.0);
        assert_eq!(clean.mmu(10), 1.0);
        assert_eq!(clean.bmu(10), 1.0);
        // Intervals past the end are clipped; empty and full-utilization ones ignored.
        let u = Utilization::new(100, [(90, 200, 0.0), (50, 50, 0.0), (10, 20, 1.0)]);
        assert_eq!(u.lost_ns(), 10.0);
        assert_eq!(u.pieces().count(), 1);
    }

    #[test]
    fn log_windows_are_ten_per_decade_and_end_at_the_run() {
        let w = log_windows(MIN_WINDOW_NS, 1_234 * MS);
        assert_eq!(w[0], MIN_WINDOW_NS);
        assert_eq!(*w.last().unwrap(), 1_234 * MS);
        for x in [MS, 10 * MS, 100 * MS, 1000 * MS] {
            assert!(w.contains(&x), "{x} missing from {w:?}");
        }
        assert_eq!(w.iter().filter(|&&x| (MS..10 * MS).contains(&x)).count(), 10);
        assert!(w.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(log_windows(MIN_WINDOW_NS, 50_000), [50_000]);
        assert_eq!(log_windows(MIN_WINDOW_NS, MIN_WINDOW_NS), [MIN_WINDOW_NS]);
        assert_eq!(log_windows(1000, 10_000).len(), 11);
        assert_eq!(log_windows(1, 10), [1, 2, 3, 4, 5, 6, 8, 10], "rounded to whole ns, without repeats");
    }

    /// Utilization of each nanosecond of a tiny run, summed from the raw
    /// intervals (no normalisation), as lost fractions.
    fn per_ns_loss(wall: u64, intervals: &[(u64, u64, f64)]) -> Vec<f64> {
        let mut loss = vec![0.0f64; wall as usize];
        for &(s, e, u) in intervals {
            for t in s.min(wall)..e.min(wall) {
                loss[t as usize] += 1.0 - u;
            }
        }
        loss.iter().map(|l| l.min(1.0)).collect()
    }

    /// MMU by trying every window start, 1 ns apart.
    fn brute_mmu(loss: &[f64], w: usize) -> f64 {
        let prefix: Vec<f64> = std::iter::once(0.0)
            .chain(loss.iter().scan(0.0, |s, l| {
                *s += l;
                Some(*s)
            }))
            .collect();
        (0..=loss.len() - w).map(|t| 1.0 - (prefix[t + w] - prefix[t]) / w as f64).fold(f64::INFINITY, f64::min)
    }

    const UTILS: [f64; 6] = [0.0, 0.0, 0.25, 0.5, 0.75, 1.0 - 1.0 / 3.0];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn exact_mmu_and_bmu_match_brute_force(
            wall in 1u64..90,
            raw in prop::collection::vec((0u64..100, 1u64..40, 0usize..UTILS.len()), 0..7),
        ) {
            let intervals: Vec<(u64, u64, f64)> = raw.iter().map(|&(s, len, u)| (s, s + len, UTILS[u])).collect();
            let u = Utilization::new(wall, intervals.iter().copied());
            let loss = per_ns_loss(wall, &intervals);
            let brute: Vec<f64> = (1..=wall as usize).map(|w| brute_mmu(&loss, w)).collect();
            let mut longest = 0u64;
            let mut run = 0u64;
            for l in &loss {
                run = if *l >= 1.0 - 1e-9 { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            prop_assert_eq!(u.longest_full_pause_ns(), longest);
            for w in 1..=wall {
                let want = brute[w as usize - 1];
                let got = u.mmu(w);
                prop_assert!((got - want).abs() < 1e-6, "mmu({}) = {}, brute force {}", w, got, want);
                if w <= longest {
                    prop_assert_eq!(got, 0.0);
                }
                let want_bmu = brute[w as usize - 1..].iter().copied().fold(f64::INFINITY, f64::min);
                let got_bmu = u.bmu(w);
                prop_assert!((got_bmu - want_bmu).abs() < 1e-6, "bmu({}) = {}, brute force {}", w, got_bmu, want_bmu);
                prop_assert!(got_bmu <= got);
                if w > 1 {
                    prop_assert!(u.bmu(w - 1) <= got_bmu);
                }
            }
            let total: f64 = loss.iter().sum();
            prop_assert!((u.lost_ns() - total).abs() < 1e-4);
        }
    }
}

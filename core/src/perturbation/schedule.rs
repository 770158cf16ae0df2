//! Ordered lists of regions: what gets occluded, region by region, computed on demand.
//!
//! A window schedule never stores its windows, nor its phases: the number of windows is
//! arithmetic (checked, an [`Error::SizeOverflow`] when it does not fit a `usize`) and window
//! `i` is computed from `i`. So the memory of a run is that of one batch, whatever the number
//! of windows or phases, and cost queries such as `model_calls` allocate nothing.

use crate::backend::{BoxRegion, Region};
use crate::error::{Error, Result};

/// An ordered list of regions to occlude, enumerated lazily.
pub trait RegionSchedule: Sync {
    /// Number of regions.
    fn len(&self) -> usize;

    /// Whether there is no region.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Region `index` (`index < len()`).
    fn region(&self, index: usize) -> Region<'_>;

    /// Whether regions differ between examples (a per-example feature mask); `false` by default.
    fn varies_by_example(&self) -> bool {
        false
    }
}

/// The windows along one dimension of size `d`, in `phases` phases.
///
/// Phase `φ < phases` has its windows at `[j·stride − φ·shift, j·stride − φ·shift + window)`,
/// cropped to `[0, d)`, for `j = 0, 1, …` until a window reaches the end:
/// `count(φ) = ceil(max(0, d − window + φ·shift) / stride) + 1` windows. Occlusion is one
/// phase (`shift = 0`) with its strides; TiledOcclusion's shifted mode is `k` phases with
/// `stride = w`, `shift = w / k`.
///
/// ```
/// use tiled_occlusion_core::perturbation::AxisWindows;
/// // Window 4 on 8 positions, two phases shifted by 2: [0,4) [4,8) and [0,2) [2,6) [6,8).
/// let axis = AxisWindows::new(8, 4, 4, 2, 2).unwrap();
/// assert_eq!((axis.count(0), axis.count(1), axis.total()), (2, 3, 5));
/// assert_eq!(axis.range(1, 0), (0, 2));
/// assert_eq!(axis.range(1, 2), (6, 8));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisWindows {
    size: usize,
    window: usize,
    stride: usize,
    shift: usize,
    phases: usize,
}

/// `Σ_{i<n} floor((a·i + b) / m)` for `m ≥ 1`, in `O(log m)` steps (the Euclidean-like
/// reduction of floor sums); exact in `u128` for every argument below `2^64`.
fn floor_sum(mut n: u128, mut m: u128, mut a: u128, mut b: u128) -> u128 {
    let mut sum = 0u128;
    loop {
        if a >= m {
            sum += n * (n.saturating_sub(1)) / 2 * (a / m);
            a %= m;
        }
        if b >= m {
            sum += n * (b / m);
            b %= m;
        }
        let y_max = a * n + b;
        if y_max < m {
            return sum;
        }
        n = y_max / m;
        b = y_max % m;
        std::mem::swap(&mut m, &mut a);
    }
}

impl AxisWindows {
    /// The windows of a dimension of size `size`: all arguments `≥ 1` but `shift`
    /// ([`Error::TooSmall`]), and `(phases − 1)·shift < window` ([`Error::InvalidSetting`]), so
    /// every phase starts inside the first window and a phase has at most `size + 1` windows
    /// (a stride of 0 divided by zero; a shift past the window made counts that do not fit).
    ///
    /// ```
    /// use tiled_occlusion_core::{perturbation::AxisWindows, Error};
    /// assert!(matches!(AxisWindows::new(8, 4, 0, 0, 1), Err(Error::TooSmall { .. })));
    /// assert!(matches!(AxisWindows::new(1, 1, 1, usize::MAX, 3), Err(Error::InvalidSetting { .. })));
    /// ```
    pub fn new(size: usize, window: usize, stride: usize, shift: usize, phases: usize) -> Result<Self> {
        for (name, value) in [("size", size), ("window", window), ("stride", stride), ("phases", phases)] {
            Error::check_at_least(format!("AxisWindows::new {name}"), value, 1)?;
        }
        if (phases as u128 - 1) * shift as u128 >= window as u128 {
            return Err(Error::InvalidSetting {
                setting: "AxisWindows::new shift".into(),
                reason: format!(
                    "(phases − 1) · shift = {} · {shift} must be smaller than the window {window}",
                    phases - 1
                ),
            });
        }
        Ok(AxisWindows { size, window, stride, shift, phases })
    }

    /// Number of phases.
    pub fn phases(&self) -> usize {
        self.phases
    }

    /// `d − window + φ·shift`, clamped at 0: how far the phase's windows must advance.
    fn reach(&self, phase: usize) -> u128 {
        (self.size as u128 + phase as u128 * self.shift as u128).saturating_sub(self.window as u128)
    }

    /// Windows in phase `phase`.
    pub fn count(&self, phase: usize) -> usize {
        // At most d + 1: it fits.
        (self.reach(phase).div_ceil(self.stride as u128) + 1) as usize
    }

    /// Windows in the phases before `phase`: `Σ_{φ < phase} count(φ)`.
    pub fn windows_before(&self, phase: usize) -> u128 {
        let (d, w, s, shift) = (self.size as u128, self.window as u128, self.stride as u128, self.shift as u128);
        let phase = phase as u128;
        // Phases whose windows already reach the end (d − w + φ·shift ≤ 0) have one window.
        let first_reaching = if d >= w {
            0
        } else if shift == 0 {
            phase
        } else {
            (w - d).div_ceil(shift).min(phase)
        };
        let reaching = phase - first_reaching;
        // Σ_{i < reaching} ceil((d − w + (first_reaching + i)·shift) / s).
        let b = d + first_reaching * shift + s - 1 - w.min(d + first_reaching * shift);
        phase + floor_sum(reaching, s, shift, b)
    }

    /// Windows in all phases.
    pub fn total(&self) -> u128 {
        self.windows_before(self.phases)
    }

    /// Window `j < count(phase)` of phase `phase`: `[lo, hi)`.
    pub fn range(&self, phase: usize, j: usize) -> (usize, usize) {
        let offset = phase as u128 * self.shift as u128;
        let start = j as u128 * self.stride as u128;
        let lo = start.saturating_sub(offset).min(self.size as u128);
        let hi = (start + self.window as u128).saturating_sub(offset).min(self.size as u128);
        (lo as usize, hi as usize)
    }

    /// How many windows of phase `phase` cover each position, `d` counts
    /// ([`Error::TooLargeToAllocate`] for a `d` this machine cannot hold).
    pub fn coverage(&self, phase: usize) -> Result<Vec<f64>> {
        let mut steps = crate::error::try_filled(
            "the window coverage of a dimension",
            self.size.saturating_add(1),
            0i64,
            "the dimension is larger than any input this machine can hold",
        )?;
        for j in 0..self.count(phase) {
            let (lo, hi) = self.range(phase, j);
            steps[lo] += 1;
            steps[hi] -= 1;
        }
        let mut running = 0i64;
        Ok(steps[..self.size]
            .iter()
            .map(|&step| {
                running += step;
                running as f64
            })
            .collect())
    }
}

/// The boxes of one or more phases of windows, one [`AxisWindows`] per dimension: for every
/// phase tuple `φ` (row-major, last dimension fastest) the grid of its boxes (row-major),
/// `Π_r count_r(φ_r)` boxes. In all `Π_r Σ_φ count_r(φ)` boxes, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowSchedule {
    axes: Vec<AxisWindows>,
    /// `tails[r] = Π_{q > r} total_q`.
    tails: Vec<u128>,
    len: usize,
}

impl WindowSchedule {
    /// The schedule of `axes`; [`Error::SizeOverflow`] naming `what` when its number of boxes
    /// does not fit a `usize`.
    pub fn new(what: &str, axes: Vec<AxisWindows>) -> Result<Self> {
        let totals: Vec<u128> = axes.iter().map(AxisWindows::total).collect();
        let overflow = || Error::SizeOverflow {
            what: what.to_string(),
            detail: format!(
                "the product of the windows per dimension {} is larger than {}",
                totals.iter().map(u128::to_string).collect::<Vec<_>>().join(" × "),
                usize::MAX
            ),
        };
        let mut tails = vec![1u128; axes.len()];
        let mut len = 1u128;
        for r in (0..axes.len()).rev() {
            tails[r] = len;
            len = len.checked_mul(totals[r]).filter(|&l| l <= usize::MAX as u128).ok_or_else(overflow)?;
        }
        Ok(WindowSchedule { axes, tails, len: len as usize })
    }

    /// The dimensions' windows.
    pub fn axes(&self) -> &[AxisWindows] {
        &self.axes
    }

    /// The number of phase tuples `Π_r phases_r`, as a float (it only divides).
    pub fn phases(&self) -> f64 {
        self.axes.iter().map(|a| a.phases() as f64).product()
    }

    /// Box `index < len()`.
    pub fn window(&self, index: usize) -> BoxRegion {
        let rank = self.axes.len();
        let mut rest = index as u128;
        // The product of count_q(φ_q) for the dimensions already decided.
        let mut decided = 1u128;
        let mut phase = vec![0; rank];
        for (r, axis) in self.axes.iter().enumerate() {
            let block = |t: usize| decided * axis.windows_before(t) * self.tails[r];
            // The last phase t whose boxes start at or before `rest`.
            let (mut lo, mut hi) = (0usize, axis.phases() - 1);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if block(mid) <= rest {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            rest -= block(lo);
            phase[r] = lo;
            decided *= axis.count(lo) as u128;
        }
        let mut start = vec![0; rank];
        let mut end = vec![0; rank];
        for r in (0..rank).rev() {
            let n = self.axes[r].count(phase[r]) as u128;
            let (lo, hi) = self.axes[r].range(phase[r], (rest % n) as usize);
            start[r] = lo;
            end[r] = hi;
            rest /= n;
        }
        BoxRegion { start, end }
    }
}

impl RegionSchedule for WindowSchedule {
    fn len(&self) -> usize {
        self.len
    }

    fn region(&self, index: usize) -> Region<'_> {
        Region::Box(self.window(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The windows of every phase, listed by brute force.
    fn listed(axis: &AxisWindows) -> Vec<Vec<(usize, usize)>> {
        (0..axis.phases()).map(|p| (0..axis.count(p)).map(|j| axis.range(p, j)).collect()).collect()
    }

    #[test]
    fn floor_sums_equal_the_loop() {
        for n in 0..20u128 {
            for m in 1..9u128 {
                for a in 0..12u128 {
                    for b in 0..12u128 {
                        let direct: u128 = (0..n).map(|i| (a * i + b) / m).sum();
                        assert_eq!(floor_sum(n, m, a, b), direct, "n {n} m {m} a {a} b {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn counts_and_prefix_sums_equal_the_enumeration() {
        for d in 1..14 {
            for w in 1..16 {
                for k in (1..=w).filter(|k| w % k == 0) {
                    let axis = AxisWindows::new(d, w, w, w / k, k).unwrap();
                    let mut before = 0u128;
                    for p in 0..k {
                        assert_eq!(axis.windows_before(p), before, "d {d} w {w} k {k} φ {p}");
                        // The shifted tiling's own count, ceil((d + φ·s) / w).
                        assert_eq!(axis.count(p), (d + p * (w / k)).div_ceil(w), "d {d} w {w} k {k} φ {p}");
                        before += axis.count(p) as u128;
                    }
                    assert_eq!(axis.total(), before);
                }
                for s in 1..=w.min(d) {
                    if w <= d {
                        // Captum's Occlusion: starts 0, s, 2s, … until the window reaches d.
                        let axis = AxisWindows::new(d, w, s, 0, 1).unwrap();
                        let starts: Vec<usize> = listed(&axis)[0].iter().map(|r| r.0).collect();
                        let expected: Vec<usize> = (0..(d - w).div_ceil(s) + 1).map(|j| j * s).collect();
                        assert_eq!(starts, expected, "d {d} w {w} s {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_phase_tiles_the_dimension_once() {
        for d in 1..12 {
            for w in 1..10 {
                for k in (1..=w).filter(|k| w % k == 0) {
                    let axis = AxisWindows::new(d, w, w, w / k, k).unwrap();
                    for (p, windows) in listed(&axis).iter().enumerate() {
                        assert_eq!(windows.first().map(|r| r.0), Some(0));
                        assert_eq!(windows.last().map(|r| r.1), Some(d));
                        assert!(windows.windows(2).all(|pair| pair[0].1 == pair[1].0), "φ {p}: {windows:?}");
                        assert_eq!(axis.coverage(p).ok(), Some(vec![1.0; d]));
                    }
                }
            }
        }
    }

    #[test]
    fn boxes_are_enumerated_phase_by_phase_row_major() {
        // Two dimensions, (5, 4), windows (2, 4) with k (2, 2): per dimension the phases'
        // windows, then every phase tuple's grid in row-major order.
        let axes = vec![AxisWindows::new(5, 2, 2, 1, 2).unwrap(), AxisWindows::new(4, 4, 4, 2, 2).unwrap()];
        let schedule = WindowSchedule::new("boxes", axes.clone()).unwrap();
        let per_dim: Vec<_> = axes.iter().map(listed).collect();
        let mut expected = Vec::new();
        for p0 in 0..2 {
            for p1 in 0..2 {
                for a in &per_dim[0][p0] {
                    for b in &per_dim[1][p1] {
                        expected.push((vec![a.0, b.0], vec![a.1, b.1]));
                    }
                }
            }
        }
        let got: Vec<_> = (0..schedule.len())
            .map(|i| {
                let b = schedule.window(i);
                (b.start, b.end)
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(schedule.phases(), 4.0);
    }

    #[test]
    fn huge_schedules_are_arithmetic_and_overflow_is_an_error() {
        // A billion phases of a window of a billion on 8 positions: counted, not listed. Phase
        // φ has ceil((8 + φ) / 10⁹) windows: 2 for the last 7 phases, 1 for the others.
        let axis = AxisWindows::new(8, 1_000_000_000, 1_000_000_000, 1, 1_000_000_000).unwrap();
        assert_eq!(axis.total(), 1_000_000_000 + 7);
        let schedule = WindowSchedule::new("windows", vec![axis]).unwrap();
        assert_eq!(schedule.len(), 1_000_000_007);
        // The last phase is shifted by 10⁹ − 1: windows [0, 1) and [1, 8).
        let last = schedule.window(schedule.len() - 1);
        assert_eq!((last.start, last.end), (vec![1], vec![8]));
        let before_last = schedule.window(schedule.len() - 2);
        assert_eq!((before_last.start, before_last.end), (vec![0], vec![1]));
        let wide = AxisWindows::new(1 << 40, 1, 1, 0, 1).unwrap();
        let e = WindowSchedule::new("the number of windows", vec![wide; 2]).unwrap_err();
        assert!(matches!(e, Error::SizeOverflow { .. }), "{e:?}");
        assert!(e.to_string().starts_with("the number of windows overflows"), "{e}");
    }

    #[test]
    fn axis_windows_refuse_what_their_arithmetic_cannot_take() {
        // A stride or window of 0 divided by zero; a shift past the window (1 · usize::MAX · 2)
        // gave a count of usize::MAX windows on 1 position; a coverage of 2^40 positions asked
        // for 8 TB and aborted.
        assert!(matches!(AxisWindows::new(8, 4, 0, 0, 1), Err(Error::TooSmall { .. })));
        assert!(matches!(AxisWindows::new(8, 0, 1, 0, 1), Err(Error::TooSmall { .. })));
        assert!(matches!(AxisWindows::new(8, 4, 4, 0, 0), Err(Error::TooSmall { .. })));
        assert!(matches!(AxisWindows::new(0, 1, 1, 0, 1), Err(Error::TooSmall { .. })));
        assert!(matches!(AxisWindows::new(1, 1, 1, usize::MAX, 3), Err(Error::InvalidSetting { .. })));
        assert!(matches!(AxisWindows::new(8, 4, 4, 2, 3), Err(Error::InvalidSetting { .. })));
        let huge = AxisWindows::new(1 << 40, 1 << 40, 1, 0, 1).unwrap();
        assert_eq!(huge.count(0), 1);
        assert!(matches!(huge.coverage(0), Err(Error::TooLargeToAllocate { .. })));
    }
}

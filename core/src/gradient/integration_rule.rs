//! Quadrature rules on `[0, 1]`: the points and weights Integrated Gradients sums gradients at.

use crate::error::{Error, Result};

/// How [`IntegratedGradients`](crate::IntegratedGradients) approximates `∫₀¹ g(α) dα` by
/// `Σ_k w_k · g(α_k)` with `n` points (Captum's `method` names in brackets):
///
/// - `RiemannLeft` (`riemann_left`): `α_k = k/n`, `w_k = 1/n`, `k = 0…n−1`;
/// - `RiemannRight` (`riemann_right`): `α_k = (k+1)/n`, `w_k = 1/n`;
/// - `RiemannMiddle` (`riemann_middle`): `α_k = (k+½)/n`, `w_k = 1/n`;
/// - `RiemannTrapezoid` (`riemann_trapezoid`): `α_k = k/(n−1)`, `w_k = 1/(n−1)` except
///   `w_0 = w_{n−1} = 1/(2(n−1))`; needs `n ≥ 2`;
/// - `GaussLegendre` (`gausslegendre`, the default): the Gauss–Legendre nodes `t_k` and
///   weights `v_k` of `[−1, 1]` mapped to `α_k = (1 + t_k)/2`, `w_k = v_k/2`; exact for
///   polynomials in `α` of degree `≤ 2n − 1`;
/// - `CaptumTrapezoid`: Captum 0.9's own `riemann_trapezoid`, for reproducing its numbers:
///   the trapezoid's points `α_k = k/(n−1)` but weights `1/n` with the two ends halved, which
///   sum to `(n−1)/n`, not 1. It under-weights the integral by that factor (IG on a linear
///   model gives `(n−1)/n · (x − b) ⊙ w`), so use it only for parity.
///
/// The weights of every rule but `CaptumTrapezoid` sum to 1. Points are in increasing `α`.
/// Captum requires `n ≥ 2` for every Riemann rule; only the trapezoids need it here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IntegrationRule {
    /// Left Riemann sum.
    RiemannLeft,
    /// Right Riemann sum.
    RiemannRight,
    /// Midpoint Riemann sum.
    RiemannMiddle,
    /// Trapezoidal rule.
    RiemannTrapezoid,
    /// Gauss–Legendre quadrature.
    #[default]
    GaussLegendre,
    /// Captum's `riemann_trapezoid` weights (sum `(n−1)/n`), for parity only.
    CaptumTrapezoid,
}

impl IntegrationRule {
    /// Every rule, Captum's trapezoid last.
    pub const ALL: [IntegrationRule; 6] = [
        IntegrationRule::RiemannLeft,
        IntegrationRule::RiemannRight,
        IntegrationRule::RiemannMiddle,
        IntegrationRule::RiemannTrapezoid,
        IntegrationRule::GaussLegendre,
        IntegrationRule::CaptumTrapezoid,
    ];

    /// The most points of the Riemann and trapezoid rules (and so of every rule): `10⁶`.
    ///
    /// Their points cost `O(n)` (`10⁶` take about 10 ms and 16 MB), but each point is one
    /// gradient row per example for the model, and more points cannot make the sum more
    /// accurate than the model's arithmetic: a Riemann sum's error is `O(1/n)`, `10⁻⁶` here,
    /// below an `f32` model's rounding, and the trapezoid's `O(1/n²)`.
    pub const MAX_POINTS: usize = 1_000_000;

    /// The most points of `GaussLegendre`: `10⁴`.
    ///
    /// Its nodes cost `O(n²)` (Newton's method on the `O(n)` Legendre recurrence for each of
    /// the `n / 2` nodes of one sign), computed before the first model call: about 1 s at
    /// `10⁴` points in a release build, 4 s at `2·10⁴`, some 100 s at `10⁵`. The rule
    /// is exact for polynomials of degree `2n − 1`, so `10⁴` points are far more than any
    /// integrand needs (Captum's default is 50).
    pub const MAX_GAUSS_LEGENDRE_POINTS: usize = 10_000;

    /// The most points the rule gives: [`MAX_GAUSS_LEGENDRE_POINTS`](Self::MAX_GAUSS_LEGENDRE_POINTS)
    /// for `GaussLegendre`, [`MAX_POINTS`](Self::MAX_POINTS) for the others.
    pub fn max_points(&self) -> usize {
        match self {
            IntegrationRule::GaussLegendre => Self::MAX_GAUSS_LEGENDRE_POINTS,
            _ => Self::MAX_POINTS,
        }
    }

    /// The fewest points the rule works with: 2 for the trapezoids, 1 for the others.
    pub fn min_points(&self) -> usize {
        match self {
            IntegrationRule::RiemannTrapezoid | IntegrationRule::CaptumTrapezoid => 2,
            _ => 1,
        }
    }

    /// The `n` points `α_k` and weights `w_k` of the rule, for
    /// [`min_points`](Self::min_points) `≤ n ≤` [`max_points`](Self::max_points):
    /// [`Error::TooSmall`] when `n` is too small for the rule, [`Error::TooLarge`] when it is
    /// above the rule's cap (checked before anything is computed or allocated).
    ///
    /// ```
    /// use tiled_occlusion_core::IntegrationRule;
    /// let (alphas, weights) = IntegrationRule::RiemannTrapezoid.points(3)?;
    /// assert_eq!(alphas, [0.0, 0.5, 1.0]);
    /// assert_eq!(weights, [0.25, 0.5, 0.25]);
    /// # Ok::<(), tiled_occlusion_core::Error>(())
    /// ```
    pub fn points(&self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let setting = || format!("the number of points of {self:?}");
        Error::check_at_least(setting(), n, self.min_points())?;
        Error::check_at_most(setting(), n, self.max_points())?;
        let nf = n as f64;
        let uniform = |offset: f64| ((0..n).map(|k| (k as f64 + offset) / nf).collect(), vec![1.0 / nf; n]);
        Ok(match self {
            IntegrationRule::RiemannLeft => uniform(0.0),
            IntegrationRule::RiemannRight => uniform(1.0),
            IntegrationRule::RiemannMiddle => uniform(0.5),
            IntegrationRule::RiemannTrapezoid => {
                let h = 1.0 / (nf - 1.0);
                let alphas = (0..n).map(|k| if k + 1 == n { 1.0 } else { k as f64 * h }).collect();
                let mut weights = vec![h; n];
                weights[0] = h / 2.0;
                weights[n - 1] = h / 2.0;
                (alphas, weights)
            }
            IntegrationRule::GaussLegendre => {
                gauss_legendre(n).into_iter().map(|(t, v)| ((1.0 + t) / 2.0, v / 2.0)).unzip()
            }
            IntegrationRule::CaptumTrapezoid => {
                let (alphas, _) = IntegrationRule::RiemannTrapezoid.points(n)?;
                let mut weights = vec![1.0 / nf; n];
                weights[0] /= 2.0;
                weights[n - 1] /= 2.0;
                (alphas, weights)
            }
        })
    }
}

/// `P_n(x)` and `P_{n−1}(x)` by the three-term recurrence
/// `k·P_k = (2k−1)·x·P_{k−1} − (k−1)·P_{k−2}`.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut current) = (1.0, x);
    for k in 2..=n {
        let k = k as f64;
        let next = ((2.0 * k - 1.0) * x * current - (k - 1.0) * previous) / k;
        previous = current;
        current = next;
    }
    (current, previous)
}

/// The `n`-point Gauss–Legendre nodes `t` (increasing) and weights of `[−1, 1]`: the roots
/// of `P_n` by Newton's method from Tricomi's estimate `cos(π(i − ¼)/(n + ½))`, weights
/// `2 / ((1 − t²) P_n'(t)²)` with `P_n'(t) = n (t P_n(t) − P_{n−1}(t)) / (t² − 1)`.
/// Only the `⌊n/2⌋` positive nodes are computed; the others are their mirror images
/// `(−t, w)`, and for odd `n` the middle node is `t = 0` exactly. The cost is `O(n²)`
/// (each Newton step runs the `O(n)` recurrence), which is why
/// [`IntegrationRule::MAX_GAUSS_LEGENDRE_POINTS`] caps `n`.
/// The library avoids the `gauss-quad` crate: it pulls in nalgebra and needs a newer Rust
/// than ours.
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let nf = n as f64;
    let derivative = |t: f64| {
        let (p, q) = legendre(n, t);
        (p, nf * (t * p - q) / (t * t - 1.0))
    };
    let weight = |t: f64| {
        let (_, dp) = derivative(t);
        2.0 / ((1.0 - t * t) * dp * dp)
    };
    // The positive nodes, largest first (i = 1 … ⌊n/2⌋).
    let positive: Vec<(f64, f64)> = (1..=n / 2)
        .map(|i| {
            let mut t = (std::f64::consts::PI * (i as f64 - 0.25) / (nf + 0.5)).cos();
            for _ in 0..100 {
                let (p, dp) = derivative(t);
                let step = p / dp;
                t -= step;
                if step.abs() <= 4.0 * f64::EPSILON * t.abs().max(1e-3) {
                    break;
                }
            }
            (t, weight(t))
        })
        .collect();
    let middle = (n % 2 == 1).then(|| (0.0, weight(0.0)));
    positive.iter().map(|&(t, w)| (-t, w)).chain(middle).chain(positive.iter().rev().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_matches_the_closed_forms_for_two_and_three_points() {
        let two = gauss_legendre(2);
        let r = 1.0 / 3f64.sqrt();
        assert!((two[0].0 + r).abs() < 1e-15 && (two[1].0 - r).abs() < 1e-15, "{two:?}");
        assert!(two.iter().all(|(_, w)| (w - 1.0).abs() < 1e-15), "{two:?}");
        let three = gauss_legendre(3);
        let r = (3.0f64 / 5.0).sqrt();
        let expected = [(-r, 5.0 / 9.0), (0.0, 8.0 / 9.0), (r, 5.0 / 9.0)];
        for ((t, w), (et, ew)) in three.iter().zip(expected) {
            assert!((t - et).abs() < 1e-15 && (w - ew).abs() < 1e-15, "{three:?}");
        }
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_up_to_degree_two_n_minus_one_exactly() {
        for n in [1, 2, 5, 16, 50, 200] {
            let (alphas, weights) = IntegrationRule::GaussLegendre.points(n).unwrap();
            assert!(alphas.windows(2).all(|p| p[0] < p[1]) && alphas[0] > 0.0 && alphas[n - 1] < 1.0);
            for degree in [0, n, 2 * n - 1] {
                let sum: f64 = alphas.iter().zip(&weights).map(|(a, w)| w * a.powi(degree as i32)).sum();
                let exact = 1.0 / (degree as f64 + 1.0);
                assert!((sum - exact).abs() < 1e-13, "n {n}, degree {degree}: {sum} vs {exact}");
            }
        }
    }

    #[test]
    fn every_rule_has_weights_summing_to_one_and_points_in_the_unit_interval() {
        for rule in IntegrationRule::ALL {
            for n in [2, 3, 7, 50] {
                let (alphas, weights) = rule.points(n).unwrap();
                assert_eq!((alphas.len(), weights.len()), (n, n));
                let total = if rule == IntegrationRule::CaptumTrapezoid { (n as f64 - 1.0) / n as f64 } else { 1.0 };
                assert!((weights.iter().sum::<f64>() - total).abs() < 1e-13, "{rule:?} {n}");
                assert!(alphas.iter().all(|a| (0.0..=1.0).contains(a)), "{rule:?} {n}");
                // Exact on linear integrands: ∫ α dα = ½ (left and right are off by ∓1/(2n)).
                let first: f64 = alphas.iter().zip(&weights).map(|(a, w)| a * w).sum();
                let expected = match rule {
                    IntegrationRule::RiemannLeft => 0.5 - 0.5 / n as f64,
                    IntegrationRule::RiemannRight => 0.5 + 0.5 / n as f64,
                    IntegrationRule::CaptumTrapezoid => 0.5 - 0.5 / n as f64,
                    _ => 0.5,
                };
                assert!((first - expected).abs() < 1e-13, "{rule:?} {n}: {first}");
            }
        }
    }

    #[test]
    fn too_few_points_are_named_errors() {
        let e = IntegrationRule::RiemannTrapezoid.points(1).unwrap_err().to_string();
        assert!(e.contains("points of RiemannTrapezoid") && e.contains("at least 2"), "{e}");
        let e = IntegrationRule::GaussLegendre.points(0).unwrap_err().to_string();
        assert!(e.contains("points of GaussLegendre") && e.contains("at least 1"), "{e}");
    }

    #[test]
    fn too_many_points_are_too_large_errors_not_a_panic_or_a_hang() {
        for rule in IntegrationRule::ALL {
            for n in [usize::MAX, rule.max_points() + 1] {
                match rule.points(n) {
                    Err(Error::TooLarge { setting, value, maximum }) => {
                        assert_eq!((value, maximum), (n, rule.max_points()), "{rule:?}");
                        assert_eq!(setting, format!("the number of points of {rule:?}"));
                    }
                    other => panic!("{rule:?} with {n} points: {:?}", other.map(|(a, _)| a.len())),
                }
            }
        }
        assert_eq!(IntegrationRule::GaussLegendre.max_points(), 10_000);
        assert_eq!(IntegrationRule::RiemannMiddle.max_points(), 1_000_000);
    }

    #[test]
    fn the_most_points_of_a_riemann_rule_are_given() {
        let n = IntegrationRule::MAX_POINTS;
        let (alphas, weights) = IntegrationRule::RiemannMiddle.points(n).unwrap();
        assert_eq!((alphas.len(), weights.len()), (n, n));
        assert_eq!((alphas[0], alphas[n - 1]), (0.5 / n as f64, (n as f64 - 0.5) / n as f64));
        assert!(weights.iter().all(|&w| w == 1.0 / n as f64));
    }

    #[test]
    fn gauss_legendre_nodes_are_symmetric_about_zero() {
        for n in [1, 2, 3, 4, 51, 200, 1001] {
            let nodes = gauss_legendre(n);
            assert_eq!(nodes.len(), n);
            for (i, &(t, w)) in nodes.iter().enumerate() {
                let (mirror, mirror_weight) = nodes[n - 1 - i];
                assert_eq!((t, w), (-mirror, mirror_weight), "n {n}, node {i}");
            }
            if n % 2 == 1 {
                assert_eq!(nodes[n / 2].0, 0.0, "n {n}");
            }
            assert!(nodes.windows(2).all(|p| p[0].0 < p[1].0), "n {n}");
            assert!((nodes.iter().map(|(_, w)| w).sum::<f64>() - 2.0).abs() < 1e-12, "n {n}");
        }
    }

    #[test]
    fn gauss_legendre_nodes_equal_the_closed_forms_and_integrate_high_degrees() {
        // n = 5 in closed form: 0 and ±√(5 ∓ 2√(10/7))/3, weights 128/225 and (322 ± 13√70)/900.
        let r = (10.0f64 / 7.0).sqrt();
        let inner = (5.0 - 2.0 * r).sqrt() / 3.0;
        let outer = (5.0 + 2.0 * r).sqrt() / 3.0;
        let (w_inner, w_outer) = ((322.0 + 13.0 * 70f64.sqrt()) / 900.0, (322.0 - 13.0 * 70f64.sqrt()) / 900.0);
        let expected = [(-outer, w_outer), (-inner, w_inner), (0.0, 128.0 / 225.0), (inner, w_inner), (outer, w_outer)];
        for ((t, w), (te, we)) in gauss_legendre(5).into_iter().zip(expected) {
            assert!((t - te).abs() < 1e-15 && (w - we).abs() < 1e-15, "({t}, {w}) against ({te}, {we})");
        }
        // At large n (the rewrite's target): ∫_{-1}^{1} t^{2j} dt = 2/(2j + 1), exact for
        // 2j ≤ 2n − 1, here up to degree 40 at n = 1001 and n = 10⁴.
        for n in [1001, 10_000] {
            let nodes = gauss_legendre(n);
            for j in [0, 1, 5, 20] {
                let sum: f64 = nodes.iter().map(|&(t, w)| w * t.powi(2 * j)).sum();
                let exact = 2.0 / (2 * j + 1) as f64;
                assert!((sum - exact).abs() < 1e-11, "n {n}, degree {}: {sum} against {exact}", 2 * j);
            }
        }
    }
}

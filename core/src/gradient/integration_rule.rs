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

    /// The fewest points the rule works with: 2 for the trapezoids, 1 for the others.
    pub fn min_points(&self) -> usize {
        match self {
            IntegrationRule::RiemannTrapezoid | IntegrationRule::CaptumTrapezoid => 2,
            _ => 1,
        }
    }

    /// The `n` points `α_k` and weights `w_k` of the rule, or an error naming the problem
    /// when `n` is too small for it.
    ///
    /// ```
    /// use tiled_occlusion_core::IntegrationRule;
    /// let (alphas, weights) = IntegrationRule::RiemannTrapezoid.points(3)?;
    /// assert_eq!(alphas, [0.0, 0.5, 1.0]);
    /// assert_eq!(weights, [0.25, 0.5, 0.25]);
    /// # Ok::<(), tiled_occlusion_core::Error>(())
    /// ```
    pub fn points(&self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        Error::check_at_least(format!("the number of points of {self:?}"), n, self.min_points())?;
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
/// The library avoids the `gauss-quad` crate: it pulls in nalgebra and needs a newer Rust
/// than ours.
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let nf = n as f64;
    let derivative = |t: f64| {
        let (p, q) = legendre(n, t);
        (p, nf * (t * p - q) / (t * t - 1.0))
    };
    let mut nodes: Vec<(f64, f64)> = (1..=n)
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
            let (_, dp) = derivative(t);
            (t, 2.0 / ((1.0 - t * t) * dp * dp))
        })
        .collect();
    nodes.reverse();
    nodes
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
}

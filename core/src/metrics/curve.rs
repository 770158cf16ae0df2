//! Perturbation curves and their area.

/// A perturbation curve: the score after each step, against the fraction of positions
/// perturbed, and its normalised area (trapezoid rule over `x ∈ [0, 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PerturbationCurve {
    /// `k / steps` for `k = 0 … steps`.
    pub fractions: Vec<f64>,
    /// The score at each fraction.
    pub scores: Vec<f64>,
    /// `Σ_k (s_k + s_{k+1}) / 2 · (x_{k+1} − x_k)`.
    pub auc: f64,
}

/// Trapezoid area of `scores` at evenly spaced `x ∈ [0, 1]`: for `n ≥ 2` scores,
/// `AUC = Σ_{k<n−1} (s_k + s_{k+1}) / 2 · 1/(n − 1)`. One score is a constant curve (its area
/// is that score); no score has area 0. A NaN score gives a NaN area.
///
/// ```
/// use tiled_occlusion_core::metrics::trapezoid_auc;
/// // (10 + 5)/2 · ½ + (5 + 0)/2 · ½
/// assert_eq!(trapezoid_auc(&[10.0, 5.0, 0.0]), 5.0);
/// assert_eq!(trapezoid_auc(&[3.0]), 3.0);
/// ```
pub fn trapezoid_auc(scores: &[f64]) -> f64 {
    if scores.len() < 2 {
        return scores.first().copied().unwrap_or(0.0);
    }
    let dx = 1.0 / (scores.len() - 1) as f64;
    scores.windows(2).map(|w| (w[0] + w[1]) / 2.0 * dx).sum()
}

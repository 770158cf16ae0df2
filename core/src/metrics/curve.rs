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

/// Trapezoid area of `scores` at evenly spaced `x ∈ [0, 1]`.
pub fn trapezoid_auc(scores: &[f64]) -> f64 {
    if scores.len() < 2 {
        return scores.first().copied().unwrap_or(0.0);
    }
    let dx = 1.0 / (scores.len() - 1) as f64;
    scores.windows(2).map(|w| (w[0] + w[1]) / 2.0 * dx).sum()
}

//! What one attribution call explains: the input, the baseline and the target.

use crate::attribution::{Baseline, Target};
use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};

/// What one attribution call explains: the input batch `(N, d…)`, the baseline occluded
/// positions take, and the target scalar per example.
pub struct Inputs<'a, B: Backend> {
    /// The input batch, batch first.
    pub input: &'a TensorOf<B>,
    /// The baseline (default: scalar 0).
    pub baseline: Baseline<'a, B>,
    /// The target (default: [`Target::None`]).
    pub target: Target,
}

impl<'a, B: Backend> Inputs<'a, B> {
    /// The input with baseline 0 and target [`Target::None`].
    pub fn new(input: &'a TensorOf<B>) -> Self {
        Inputs { input, baseline: Baseline::Scalar(0.0), target: Target::None }
    }

    /// Sets the baseline.
    pub fn with_baseline(mut self, baseline: Baseline<'a, B>) -> Self {
        self.baseline = baseline;
        self
    }

    /// Sets the target.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
}

impl<B: Backend> Clone for Inputs<'_, B> {
    fn clone(&self) -> Self {
        Inputs { input: self.input, baseline: self.baseline, target: self.target.clone() }
    }
}

/// Checks an input shape `(N, d_1, …, d_m)`: a batch dimension (`m = 0`, one scalar per
/// example, is allowed) and no zero-sized dimension.
pub(crate) fn check_input_shape(shape: &[usize]) -> Result<()> {
    if shape.is_empty() {
        return Err(Error::InputRank { shape: shape.to_vec() });
    }
    if shape.contains(&0) {
        return Err(Error::EmptyInput { shape: shape.to_vec() });
    }
    Ok(())
}

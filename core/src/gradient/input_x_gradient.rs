//! Input × Gradient.

use crate::attribution::{Attribution, Inputs, MultiAttribution, MultiInputs, ProgressHook};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::Result;
use crate::gradient::input_gradient::{
    forward_one, forward_several, gradient_at_input, maps_of_gradient_at_input, one_gradient_call, only,
    ElementwiseGradient, GradientInputs,
};
use crate::model::{Forward, MultiForward};

/// Input × Gradient (Shrikumar et al., 2016): `A = x ⊙ ∂F(x)/∂x`, where `F` is the target
/// score. One model call with the input tracked ([`GradientBackend`]); the baseline is not
/// used (Integrated Gradients with a baseline is
/// [`IntegratedGradients`](crate::IntegratedGradients)). On a linear model
/// `F(x) = w·x + c` it is `x ⊙ w`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputXGradient;

impl InputXGradient {
    /// The method.
    pub fn new() -> Self {
        InputXGradient
    }
}

impl ElementwiseGradient for InputXGradient {
    fn combine(&self, x: f64, g: f64) -> f64 {
        x * g
    }
}

gradient_at_input!(InputXGradient);

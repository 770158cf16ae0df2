//! Input × Gradient.

use crate::attribution::{Attribution, Inputs, ProgressHook};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::Result;
use crate::gradient::input_gradient::{map_of_gradient_at_input, one_gradient_call};
use crate::model::Forward;

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

impl<B: GradientBackend> Attribution<B> for InputXGradient {
    /// One gradient call.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        one_gradient_call(input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        map_of_gradient_at_input(model, inputs, progress, |x, g| x * g)
    }
}

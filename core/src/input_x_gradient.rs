//! Input × Gradient.

use crate::attribution::{Attribution, Inputs};
use crate::backend::TensorOf;
use crate::error::Result;
use crate::forward::Forward;
use crate::gradient_backend::{gradient_at_input, GradientBackend};
use crate::per_dimension::check_input_shape;
use crate::progress::ProgressHook;

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
        check_input_shape(input_shape)?;
        Ok(1)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let (shape, gradient) = gradient_at_input(model, inputs, progress)?;
        let x = B::to_f64_vec(inputs.input)?;
        let attribution: Vec<f64> = x.iter().zip(&gradient).map(|(x, g)| x * g).collect();
        B::from_f64_slice(inputs.input, &shape, &attribution)
    }
}

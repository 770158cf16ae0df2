//! Input × Gradient.

use crate::attribution::{check_input_shape, Attribution, Inputs, MultiAttribution, MultiInputs, ProgressHook};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::Result;
use crate::gradient::input_gradient::{
    forward_one, forward_several, maps_of_gradient_at_input, one_gradient_call, only, GradientInputs,
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

impl<B: GradientBackend> Attribution<B> for InputXGradient {
    /// One gradient call.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        check_input_shape(input_shape)?;
        one_gradient_call(&[input_shape.to_vec()])
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let mut forward = forward_one(model);
        only::<B>(maps_of_gradient_at_input(&mut forward, &GradientInputs::one(inputs), progress, |x, g| x * g)?)
    }
}

/// Over several inputs: one gradient call with every input tracked; one map per input.
impl<B: GradientBackend> MultiAttribution<B> for InputXGradient {
    /// One gradient call.
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        one_gradient_call(input_shapes)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        let mut forward = forward_several(model);
        maps_of_gradient_at_input(&mut forward, &GradientInputs::several(inputs), progress, |x, g| x * g)
    }
}

//! Saliency: the gradient of the target score with respect to the input.

use crate::attribution::{check_input_shape, Attribution, Inputs, MultiAttribution, MultiInputs, ProgressHook};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::Result;
use crate::gradient::input_gradient::{
    forward_one, forward_several, maps_of_gradient_at_input, one_gradient_call, only, GradientInputs,
};
use crate::model::{Forward, MultiForward};

/// Saliency (Simonyan et al., 2014): `A = |∂F(x)/∂x|`, or the signed gradient `∂F(x)/∂x`,
/// where `F` is the target score. One model call with the input tracked by the backend's
/// autograd ([`GradientBackend`]); the baseline is not used.
///
/// The default takes absolute values, as Captum's `Saliency(abs=True)` does.
///
/// ```
/// use tiled_occlusion_core::Saliency;
/// assert!(Saliency::new().is_abs());
/// assert!(!Saliency::signed().is_abs());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saliency {
    abs: bool,
}

impl Default for Saliency {
    fn default() -> Self {
        Saliency::new()
    }
}

impl Saliency {
    /// `|∂F/∂x|`.
    pub fn new() -> Self {
        Saliency { abs: true }
    }

    /// The signed gradient `∂F/∂x`.
    pub fn signed() -> Self {
        Saliency { abs: false }
    }

    /// Whether absolute values are taken.
    pub fn with_abs(mut self, abs: bool) -> Self {
        self.abs = abs;
        self
    }

    /// Whether absolute values are taken.
    pub fn is_abs(&self) -> bool {
        self.abs
    }
}

impl<B: GradientBackend> Attribution<B> for Saliency {
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
        let abs = self.abs;
        let mut forward = forward_one(model);
        only::<B>(maps_of_gradient_at_input(&mut forward, &GradientInputs::one(inputs), progress, move |_, g| {
            if abs {
                g.abs()
            } else {
                g
            }
        })?)
    }
}

/// Over several inputs: one gradient call with every input tracked; one map per input.
impl<B: GradientBackend> MultiAttribution<B> for Saliency {
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
        let abs = self.abs;
        let mut forward = forward_several(model);
        maps_of_gradient_at_input(&mut forward, &GradientInputs::several(inputs), progress, move |_, g| {
            if abs {
                g.abs()
            } else {
                g
            }
        })
    }
}

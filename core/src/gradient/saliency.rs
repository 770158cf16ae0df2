//! Saliency: the gradient of the target score with respect to the input.

use crate::attribution::{Attribution, Inputs, MultiAttribution, MultiInputs, ProgressHook};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::Result;
use crate::gradient::input_gradient::{
    forward_one, forward_several, gradient_at_input, maps_of_gradient_at_input, one_gradient_call, only,
    ElementwiseGradient, GradientInputs,
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

impl ElementwiseGradient for Saliency {
    fn combine(&self, _: f64, g: f64) -> f64 {
        if self.abs {
            g.abs()
        } else {
            g
        }
    }
}

gradient_at_input!(Saliency);

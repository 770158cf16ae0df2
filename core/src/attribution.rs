//! The interface every attribution method implements, so wrappers take any of them.

use crate::backend::{Backend, TensorOf};
use crate::baseline::Baseline;
use crate::error::Result;
use crate::forward::Forward;
use crate::progress::{NoProgress, ProgressHook};
use crate::target::Target;

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

/// An attribution method: from a model and [`Inputs`], one attribution per input element,
/// of the input's shape and element type.
///
/// Implemented by [`Occlusion`](crate::Occlusion), [`TiledOcclusion`](crate::TiledOcclusion)
/// and [`FeatureAblation`](crate::FeatureAblation), and by anything a user writes; wrappers
/// (noise tunnels) take any `Attribution`.
pub trait Attribution<B: Backend> {
    /// The number of model calls [`Attribution::attribute`] makes for an input of this shape
    /// (what a progress hook is told as the total), or the configuration error it would
    /// return.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize>;

    /// Computes the attribution, telling `progress` after every model call.
    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>>;

    /// Computes the attribution.
    fn attribute(&self, model: &mut dyn Forward<Backend = B>, inputs: &Inputs<'_, B>) -> Result<TensorOf<B>> {
        self.attribute_with_progress(model, inputs, &mut NoProgress)
    }
}

impl<B: Backend, M: Attribution<B> + ?Sized> Attribution<B> for &M {
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        (**self).model_calls(input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        (**self).attribute_with_progress(model, inputs, progress)
    }
}

impl<B: Backend, M: Attribution<B> + ?Sized> Attribution<B> for Box<M> {
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        (**self).model_calls(input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        (**self).attribute_with_progress(model, inputs, progress)
    }
}

//! The interface every attribution method implements, so wrappers take any of them.

use crate::attribution::{Inputs, NoProgress, ProgressHook};
use crate::backend::{Backend, TensorOf};
use crate::error::Result;
use crate::model::Forward;

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

    /// This method for the input a wrapper builds by repeating every example of an input of
    /// shape `input_shape = (N, d…)` `times` times in place (rows `[n·times, (n+1)·times)` of
    /// the new input hold copies of example `n`), as NoiseTunnel and FusionGrad do with their
    /// noisy copies: configuration given per example, such as a FeatureAblation mask of shape
    /// `(N, d…)`, follows the rows the same way (Captum's `repeat_interleave`; FeatureAblation
    /// keeps its mask and serves map `n` to the `times` copies of example `n`). `None` (the
    /// default) when the method has no per-example configuration and serves unchanged.
    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        let _ = (input_shape, times);
        Ok(None)
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

    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        (**self).for_repeated_examples(input_shape, times)
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

    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        (**self).for_repeated_examples(input_shape, times)
    }
}

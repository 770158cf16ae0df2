//! What one attribution of several input tensors explains (Captum's tuple inputs).

use crate::attribution::{Baseline, NoProgress, ProgressHook, ResolvedBaseline, Target};
use crate::backend::{Backend, PackedTensor, PartBaseline, TensorOf};
use crate::error::{Error, Result};
use crate::model::MultiForward;

/// Several input tensors explained together: input `i` of shape `(N, d^i…)` (the same `N`,
/// any ranks), each with its own baseline, and one target for the model's output.
/// Run by a [`PerInput`](crate::PerInput) method on a [`MultiForward`] model.
pub struct MultiInputs<'a, B: Backend> {
    /// The inputs, in the order the model takes them.
    pub inputs: Vec<&'a TensorOf<B>>,
    /// One baseline per input (default: scalar 0 for each).
    pub baselines: Vec<Baseline<'a, B>>,
    /// The target (default: [`Target::None`]).
    pub target: Target,
}

impl<'a, B: Backend> MultiInputs<'a, B> {
    /// The inputs, each with baseline 0, and target [`Target::None`].
    pub fn new(inputs: impl IntoIterator<Item = &'a TensorOf<B>>) -> Self {
        let inputs: Vec<_> = inputs.into_iter().collect();
        let baselines = vec![Baseline::Scalar(0.0); inputs.len()];
        MultiInputs { inputs, baselines, target: Target::None }
    }

    /// Sets one baseline per input.
    pub fn with_baselines(mut self, baselines: impl IntoIterator<Item = Baseline<'a, B>>) -> Self {
        self.baselines = baselines.into_iter().collect();
        self
    }

    /// Sets the target.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// The input shapes.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|t| B::shape(t)).collect()
    }

    /// The inputs as one packed input and the packed baselines (copies of the user's).
    pub(crate) fn packed(&self) -> Result<(PackedTensor<B>, PackedTensor<B>)> {
        if self.baselines.len() != self.inputs.len() {
            return Err(Error::InvalidSetting {
                setting: "MultiInputs::with_baselines".into(),
                reason: format!("{} baselines given for {} inputs", self.baselines.len(), self.inputs.len()),
            });
        }
        let copy = |t: &TensorOf<B>| B::from_f64_slice(t, &B::shape(t), &B::to_f64_vec(t)?);
        let mut parts = Vec::with_capacity(self.inputs.len());
        let mut baselines = Vec::with_capacity(self.inputs.len());
        for (input, baseline) in self.inputs.iter().zip(&self.baselines) {
            let shape = B::shape(input);
            crate::attribution::check_input_shape(&shape)?;
            baselines.push(match ResolvedBaseline::resolve(baseline, input, &shape)? {
                ResolvedBaseline::Scalar(v) => PartBaseline::Scalar(v),
                ResolvedBaseline::Borrowed { tensor, per_example: false } => PartBaseline::PerPosition(copy(tensor)?),
                ResolvedBaseline::Borrowed { tensor, per_example: true } => PartBaseline::PerExample(copy(tensor)?),
                ResolvedBaseline::Owned { tensor, per_example: false } => PartBaseline::PerPosition(tensor),
                ResolvedBaseline::Owned { tensor, per_example: true } => PartBaseline::PerExample(tensor),
            });
            parts.push(copy(input)?);
        }
        if parts.is_empty() {
            return Err(Error::InvalidSetting { setting: "MultiInputs::new".into(), reason: "no input given".into() });
        }
        Ok((PackedTensor::from_parts(parts)?, PackedTensor::Baselines(baselines)))
    }
}

/// An attribution method over several inputs: one attribution per input, each of its input's
/// shape (or `(M, d^i…)` for a batch-level output), in the inputs' order.
pub trait MultiAttribution<B: Backend> {
    /// The number of model calls for inputs of these shapes, or the configuration error.
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize>;

    /// Computes the attributions, telling `progress` after every model call.
    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>>;

    /// Computes the attributions.
    fn attribute(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
    ) -> Result<Vec<TensorOf<B>>> {
        self.attribute_with_progress(model, inputs, &mut NoProgress)
    }

    /// This method for inputs whose every example is repeated `times` times in place, as
    /// [`Attribution::for_repeated_examples`](crate::Attribution::for_repeated_examples) for
    /// one input: per-example configuration (a per-example mask of any input) follows the
    /// rows. `None` (the default) when there is none.
    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        let _ = (input_shapes, times);
        Ok(None)
    }
}

impl<B: Backend, M: MultiAttribution<B> + ?Sized> MultiAttribution<B> for &M {
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        (**self).model_calls(input_shapes)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        (**self).attribute_with_progress(model, inputs, progress)
    }

    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        (**self).for_repeated_examples(input_shapes, times)
    }
}

impl<B: Backend, M: MultiAttribution<B> + ?Sized> MultiAttribution<B> for Box<M> {
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        (**self).model_calls(input_shapes)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        (**self).attribute_with_progress(model, inputs, progress)
    }

    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        (**self).for_repeated_examples(input_shapes, times)
    }
}

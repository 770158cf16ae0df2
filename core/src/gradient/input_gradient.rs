//! What every gradient method does with a backend's input gradients: target weights in, host
//! gradients out, for one input or several (a model of one input is the case `K = 1`).

use crate::attribution::{Baseline, Inputs, MultiInputs, ProgressCounter, ProgressHook, Target, TargetSelector};
pub(crate) use crate::backend::ForwardFn;
use crate::backend::{packed_shape, Backend, GradientBackend, TensorOf};
use crate::error::{Error, Result};
use crate::model::{Forward, ModelError, MultiForward};

/// The inputs of a gradient method, one or several: tensors, one baseline each, the target.
pub(crate) struct GradientInputs<'i, 'a, B: Backend> {
    pub(crate) inputs: Vec<&'i TensorOf<B>>,
    pub(crate) baselines: Vec<Baseline<'a, B>>,
    pub(crate) target: &'i Target,
}

impl<'i, 'a, B: Backend> GradientInputs<'i, 'a, B> {
    /// One input.
    pub(crate) fn one(inputs: &'i Inputs<'a, B>) -> Self {
        GradientInputs { inputs: vec![inputs.input], baselines: vec![inputs.baseline], target: &inputs.target }
    }

    /// Several inputs.
    pub(crate) fn several(inputs: &'i MultiInputs<'a, B>) -> Self {
        GradientInputs { inputs: inputs.inputs.clone(), baselines: inputs.baselines.clone(), target: &inputs.target }
    }

    /// The checks every gradient method makes before its first model call: every input's
    /// rank and element type, one batch size, one baseline per input, the number of
    /// per-example targets. Returns the inputs' shapes.
    pub(crate) fn check(&self) -> Result<Vec<Vec<usize>>> {
        let shapes: Vec<Vec<usize>> = self.inputs.iter().map(|t| B::shape(t)).collect();
        if shapes.is_empty() {
            return Err(Error::InvalidSetting { setting: "MultiInputs::new".into(), reason: "no input given".into() });
        }
        packed_shape(&shapes)?;
        for input in &self.inputs {
            B::check_input(input)?;
        }
        if self.baselines.len() != self.inputs.len() {
            return Err(Error::InvalidSetting {
                setting: "MultiInputs::with_baselines".into(),
                reason: format!("{} baselines given for {} inputs", self.baselines.len(), self.inputs.len()),
            });
        }
        self.target.check_examples(shapes[0][0])?;
        Ok(shapes)
    }
}

/// The model of one input as a [`ForwardFn`].
pub(crate) fn forward_one<B: Backend>(
    model: &mut dyn Forward<Backend = B>,
) -> impl FnMut(&[TensorOf<B>]) -> std::result::Result<TensorOf<B>, ModelError> + '_ {
    move |xs: &[TensorOf<B>]| model.forward(&xs[0])
}

/// The model of several inputs as a [`ForwardFn`].
pub(crate) fn forward_several<B: Backend>(
    model: &mut dyn MultiForward<Backend = B>,
) -> impl FnMut(&[TensorOf<B>]) -> std::result::Result<TensorOf<B>, ModelError> + '_ {
    move |xs: &[TensorOf<B>]| model.forward(xs)
}

/// The gradients, on the host, of every row's `target` score with respect to each of
/// `batches` (one per input, `rows` rows each, holding `examples` examples: row `r` holds
/// example `r mod examples`).
pub(crate) fn target_gradients<B: GradientBackend>(
    forward: &mut ForwardFn<'_, B>,
    batches: &[&TensorOf<B>],
    target: &Target,
    examples: usize,
) -> Result<Vec<Vec<f64>>> {
    let rows = B::shape(batches[0])[0];
    let mut cotangent = |output_shape: &[usize]| -> Result<Vec<f64>> {
        Ok(TargetSelector::new(target, output_shape, rows, examples)?.cotangent(rows))
    };
    let gradients = B::input_gradients(forward, batches, &mut cotangent)?;
    if gradients.len() != batches.len() {
        return Err(Error::backend(
            "GradientBackend::input_gradients",
            format!("the backend returned {} gradients for {} inputs", gradients.len(), batches.len()),
        ));
    }
    gradients
        .iter()
        .zip(batches)
        .map(|(gradient, batch)| {
            let (gradient_shape, batch_shape) = (B::shape(gradient), B::shape(batch));
            if gradient_shape != batch_shape {
                return Err(Error::backend(
                    "GradientBackend::input_gradients",
                    format!(
                        "the backend returned a gradient of shape {gradient_shape:?} for a batch of shape {batch_shape:?}"
                    ),
                ));
            }
            B::to_f64_vec(gradient)
        })
        .collect()
}

/// Maps computed element by element from each input and the gradient of every example's
/// target score at the inputs themselves (one model call): `A_i = combine(x_i, ∂F/∂x_i)`, in
/// each input's shape, element type and device.
pub(crate) fn maps_of_gradient_at_input<B: GradientBackend>(
    forward: &mut ForwardFn<'_, B>,
    inputs: &GradientInputs<'_, '_, B>,
    progress: &mut dyn ProgressHook,
    combine: impl Fn(f64, f64) -> f64,
) -> Result<Vec<TensorOf<B>>> {
    let shapes = inputs.check()?;
    let mut counter = ProgressCounter::new(progress, 1);
    let gradients = target_gradients::<B>(forward, &inputs.inputs, inputs.target, shapes[0][0])?;
    counter.advance(1);
    inputs
        .inputs
        .iter()
        .zip(&gradients)
        .zip(&shapes)
        .map(|((input, gradient), shape)| {
            let x = B::to_f64_vec(input)?;
            let map: Vec<f64> = x.iter().zip(gradient).map(|(&x, &g)| combine(x, g)).collect();
            B::from_f64_slice(input, shape, &map)
        })
        .collect()
}

/// The one map of a method of one input computed as the case `K = 1`.
pub(crate) fn only<B: Backend>(mut maps: Vec<TensorOf<B>>) -> Result<TensorOf<B>> {
    match (maps.pop(), maps.is_empty()) {
        (Some(map), true) => Ok(map),
        _ => Err(Error::backend("a gradient method", "one map was expected for one input")),
    }
}

/// `model_calls` of a method that makes one gradient call, for inputs of these shapes.
pub(crate) fn one_gradient_call(input_shapes: &[Vec<usize>]) -> Result<usize> {
    packed_shape(input_shapes)?;
    Ok(1)
}

/// A method whose map is computed element by element from the input and the gradient at the
/// input: `A_i = combine(x_i, ∂F/∂x_i)` (Saliency, InputXGradient).
pub(crate) trait ElementwiseGradient {
    /// The map's value from an element `x` and its gradient `g`.
    fn combine(&self, x: f64, g: f64) -> f64;
}

/// The [`Attribution`](crate::Attribution) and [`MultiAttribution`](crate::MultiAttribution)
/// of an [`ElementwiseGradient`] method: one gradient call with every input tracked.
macro_rules! gradient_at_input {
    ($method:ty) => {
        impl<B: GradientBackend> Attribution<B> for $method {
            /// One gradient call.
            fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
                one_gradient_call(&[input_shape.to_vec()])
            }

            fn attribute_with_progress(
                &self,
                model: &mut dyn Forward<Backend = B>,
                inputs: &Inputs<'_, B>,
                progress: &mut dyn ProgressHook,
            ) -> Result<TensorOf<B>> {
                let mut forward = forward_one(model);
                let combine = |x, g| ElementwiseGradient::combine(self, x, g);
                only::<B>(maps_of_gradient_at_input(&mut forward, &GradientInputs::one(inputs), progress, combine)?)
            }
        }

        /// Over several inputs: one gradient call with every input tracked; one map per input.
        impl<B: GradientBackend> MultiAttribution<B> for $method {
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
                let combine = |x, g| ElementwiseGradient::combine(self, x, g);
                maps_of_gradient_at_input(&mut forward, &GradientInputs::several(inputs), progress, combine)
            }
        }
    };
}
pub(crate) use gradient_at_input;

//! What every gradient method does with a backend's input gradient: target weights in,
//! host gradients out.

use crate::attribution::{check_input_shape, Inputs, ProgressCounter, ProgressHook, Target, TargetSelector};
use crate::backend::{GradientBackend, TensorOf};
use crate::error::{Error, Result};
use crate::model::Forward;

/// The gradient, on the host, of every row's `target` score with respect to `batch`, a batch
/// of `rows = Π shape[0]` rows holding `examples` examples (row `r` holds example
/// `r mod examples`).
pub(crate) fn target_gradient<B: GradientBackend>(
    model: &mut dyn Forward<Backend = B>,
    batch: &TensorOf<B>,
    target: &Target,
    examples: usize,
) -> Result<Vec<f64>> {
    let batch_shape = B::shape(batch);
    let rows = batch_shape[0];
    let mut cotangent = |output_shape: &[usize]| -> Result<Vec<f64>> {
        Ok(TargetSelector::new(target, output_shape, rows, examples)?.cotangent(rows))
    };
    let gradient = B::input_gradient(model, batch, &mut cotangent)?;
    let gradient_shape = B::shape(&gradient);
    if gradient_shape != batch_shape {
        return Err(Error::backend(
            "GradientBackend::input_gradient",
            format!("the backend returned a gradient of shape {gradient_shape:?} for a batch of shape {batch_shape:?}"),
        ));
    }
    B::to_f64_vec(&gradient)
}

/// The checks every gradient method makes before its first model call: the input's rank and
/// element type, and the number of per-example targets. Returns the input's shape.
pub(crate) fn check_gradient_inputs<B: GradientBackend>(inputs: &Inputs<'_, B>) -> Result<Vec<usize>> {
    let shape = B::shape(inputs.input);
    check_input_shape(&shape)?;
    B::check_input(inputs.input)?;
    inputs.target.check_examples(shape[0])?;
    Ok(shape)
}

/// A map computed element by element from the input and the gradient of every example's
/// target score at the input itself (one model call): `A_i = combine(x_i, ∂F/∂x_i)`, in the
/// input's shape, element type and device.
pub(crate) fn map_of_gradient_at_input<B: GradientBackend>(
    model: &mut dyn Forward<Backend = B>,
    inputs: &Inputs<'_, B>,
    progress: &mut dyn ProgressHook,
    combine: impl Fn(f64, f64) -> f64,
) -> Result<TensorOf<B>> {
    let shape = check_gradient_inputs(inputs)?;
    let mut counter = ProgressCounter::new(progress, 1);
    let gradient = target_gradient(model, inputs.input, &inputs.target, shape[0])?;
    counter.advance(1);
    let x = B::to_f64_vec(inputs.input)?;
    let map: Vec<f64> = x.iter().zip(&gradient).map(|(&x, &g)| combine(x, g)).collect();
    B::from_f64_slice(inputs.input, &shape, &map)
}

/// `model_calls` of a method that makes one gradient call.
pub(crate) fn one_gradient_call(input_shape: &[usize]) -> Result<usize> {
    check_input_shape(input_shape)?;
    Ok(1)
}

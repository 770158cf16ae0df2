//! Input gradients through libtorch's autograd: what gradient methods need of the tch backend.

use tch::Tensor;
use tiled_occlusion_core::backend::{ForwardFn, GradientBackend};
use tiled_occlusion_core::{Error, Result};

use crate::backend::backend_error;
use crate::Tch;

impl GradientBackend for Tch {
    /// Runs the model on detached copies of `batches` that require grad, with gradient mode on
    /// (even inside a caller's `no_grad`), forms `Σ c ⊙ out` and asks libtorch's engine for the
    /// gradients with respect to those copies alone (`run_backward` with them as the only
    /// inputs), so no parameter's `.grad` is touched. The crate's models switch `no_grad` off
    /// for batches that require grad; a closure model must not detach its inputs.
    fn input_gradients(
        forward: &mut ForwardFn<'_, Self>,
        batches: &[&Tensor],
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<Vec<Tensor>> {
        tch::with_grad(|| {
            let tracked = batches
                .iter()
                .map(|b| b.f_detach().map(|t| t.set_requires_grad(true)))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| backend_error("tracking the input", e))?;
            let output = forward(&tracked).map_err(Error::Model)?;
            let shape: Vec<usize> = output.size().into_iter().map(|d| d.max(0) as usize).collect();
            let weights = cotangent(&shape)?;
            if !output.requires_grad() {
                return Err(not_connected());
            }
            let loss = Tensor::f_from_slice(&weights)
                .and_then(|c| c.f_reshape(output.size()))
                .and_then(|c| c.f_to_kind(output.kind()))
                .and_then(|c| c.f_to_device(output.device()))
                .and_then(|c| (&output * c).f_sum(output.kind()))
                .map_err(|e| backend_error("weighting the target scores", e))?;
            let inputs: Vec<&Tensor> = tracked.iter().collect();
            let gradients = Tensor::f_run_backward(&[&loss], &inputs, false, false)
                .map_err(|e| backend_error("differentiating the target scores", e))?;
            if gradients.len() != tracked.len() || gradients.iter().any(|g| !g.defined()) {
                return Err(not_connected());
            }
            Ok(gradients)
        })
    }
}

fn not_connected() -> Error {
    Error::NotDifferentiable {
        backend: "tch",
        hint: "does the model detach its input, run under no_grad, or leave libtorch?",
    }
}

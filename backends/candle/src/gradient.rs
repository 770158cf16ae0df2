//! Input gradients through candle's autograd: what gradient methods need of the candle backend.

use candle_core::{Device, Tensor, Var};
use tiled_occlusion_core::backend::{ForwardFn, GradientBackend};
use tiled_occlusion_core::{Error, Result};

use crate::backend::backend_error;
use crate::Candle;

impl GradientBackend for Candle {
    /// Runs the model on [`Var`]s holding copies of `batches`, forms `Σ c ⊙ out` and
    /// back-propagates (`Tensor::backward`); the gradient store's entries for those variables
    /// are the result. Every candle model, closures included, works as long as it builds its
    /// output from the inputs with candle operations (no `detach`, no round trip through the
    /// host); otherwise an input has no gradient and the call is an error. Gradients of the
    /// model's own variables are computed as a side effect by candle and dropped; nothing is
    /// written to the model.
    fn input_gradients(
        forward: &mut ForwardFn<'_, Self>,
        batches: &[&Tensor],
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<Vec<Tensor>> {
        let tracked = batches
            .iter()
            .map(|b| Var::from_tensor(b).map(|v| v.as_tensor().clone()))
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(|e| backend_error("tracking the input", e))?;
        let output = forward(&tracked).map_err(Error::Model)?;
        let weights = cotangent(output.dims())?;
        let grads = Tensor::from_slice(&weights, output.dims(), &Device::Cpu)
            .and_then(|c| c.to_dtype(output.dtype()))
            .and_then(|c| c.to_device(output.device()))
            .and_then(|c| (&output * c)?.sum_all())
            .and_then(|loss| loss.backward())
            .map_err(|e| backend_error("differentiating the target scores", e))?;
        tracked
            .iter()
            .map(|t| {
                grads.get(t).cloned().ok_or(Error::NotDifferentiable {
                    backend: "candle",
                    hint: "does the model detach an input or leave candle?",
                })
            })
            .collect()
    }
}

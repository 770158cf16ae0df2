//! Input gradients through candle's autograd: what gradient methods need of the candle backend.

use candle_core::{Device, Tensor, Var};
use tiled_occlusion_core::backend::GradientBackend;
use tiled_occlusion_core::{Error, Forward, Result};

use crate::backend::backend_error;
use crate::Candle;

impl GradientBackend for Candle {
    /// Runs the model on a [`Var`] holding a copy of `batch`, forms `Σ c ⊙ out` and
    /// back-propagates (`Tensor::backward`); the gradient store's entry for that variable is the
    /// result. Every candle model, closures included, works as long as it builds its output
    /// from the input with candle operations (no `detach`, no round trip through the host);
    /// otherwise the input has no gradient and the call is an error. Gradients of the model's
    /// own variables are computed as a side effect by candle and dropped; nothing is written
    /// to the model.
    fn input_gradient(
        model: &mut dyn Forward<Backend = Self>,
        batch: &Tensor,
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<Tensor> {
        let tracked = Var::from_tensor(batch).map_err(|e| backend_error("tracking the input", e))?;
        let output = model.forward(tracked.as_tensor()).map_err(Error::Model)?;
        let weights = cotangent(output.dims())?;
        let grads = Tensor::from_slice(&weights, output.dims(), &Device::Cpu)
            .and_then(|c| c.to_dtype(output.dtype()))
            .and_then(|c| c.to_device(output.device()))
            .and_then(|c| (&output * c)?.sum_all())
            .and_then(|loss| loss.backward())
            .map_err(|e| backend_error("differentiating the target scores", e))?;
        grads.get(tracked.as_tensor()).cloned().ok_or(Error::NotDifferentiable {
            backend: "candle",
            hint: "does the model detach its input or leave candle?",
        })
    }
}

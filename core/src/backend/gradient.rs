//! The optional autograd capability of a backend: the gradient of a model's output with
//! respect to its input.

use crate::backend::{Backend, TensorOf};
use crate::error::Result;
use crate::model::Forward;

/// A [`Backend`] whose framework can differentiate a model's output with respect to its
/// input: the extension gradient methods ([`Saliency`](crate::Saliency),
/// [`InputXGradient`](crate::InputXGradient),
/// [`IntegratedGradients`](crate::IntegratedGradients)) need.
///
/// Backends with autograd (candle, tch) implement it; host backends without one (ndarray)
/// do not, so asking for a gradient method on them is a compile-time error, not a runtime
/// surprise. The core stays framework-free: it hands the backend a model and a batch and gets
/// a tensor back.
pub trait GradientBackend: Backend {
    /// Runs `model` on `batch` with the batch tracked by the framework's autograd and returns
    ///
    /// `G = ∂/∂batch Σ_{r,j} c[r, j] · out[r, j]`,
    ///
    /// of `batch`'s shape, element type and device, where `out = model(batch)` and `c`
    /// (row-major, one weight per output element) is what `cotangent` returns for `out`'s
    /// shape. Every target of the core is such a weighted sum, so row `r` of `G` is the
    /// gradient of row `r`'s target score as long as the model treats rows independently.
    ///
    /// The gradient must be computed even when the caller runs inside the framework's
    /// "no gradient" mode, and must leave the model's own parameters untouched (no
    /// accumulated `.grad`). A model whose output is not connected to its input in the
    /// autograd graph is an error, not a zero gradient.
    fn input_gradient(
        model: &mut dyn Forward<Backend = Self>,
        batch: &TensorOf<Self>,
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<TensorOf<Self>>;
}

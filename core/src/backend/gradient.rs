//! The optional autograd capability of a backend: the gradient of a model's output with
//! respect to its inputs.

use crate::backend::{Backend, TensorOf};
use crate::error::Result;
use crate::model::{Forward, ModelError};

/// A model as [`GradientBackend::input_gradients`] calls it: the batches of its inputs, in
/// order, to its output.
pub type ForwardFn<'f, B> = dyn FnMut(&[TensorOf<B>]) -> std::result::Result<TensorOf<B>, ModelError> + 'f;

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
    /// Calls `forward` once on tracked copies of `batches` (the inputs of a model, in order,
    /// all with the same rows) and returns, for every batch `X_i`,
    ///
    /// `G_i = ∂/∂X_i Σ_{r,j} c[r, j] · out[r, j]`,
    ///
    /// of `X_i`'s shape, element type and device, where `out = forward(X_1, …, X_K)` and `c`
    /// (row-major, one weight per output element) is what `cotangent` returns for `out`'s
    /// shape. Every target of the core is such a weighted sum, so row `r` of `G_i` is the
    /// gradient of row `r`'s target score as long as the model treats rows independently.
    ///
    /// The gradient must be computed even when the caller runs inside the framework's
    /// "no gradient" mode, and must leave the model's own parameters untouched (no
    /// accumulated `.grad`). An output that is not connected to an input in the autograd graph
    /// is an error, not a zero gradient.
    fn input_gradients(
        forward: &mut ForwardFn<'_, Self>,
        batches: &[&TensorOf<Self>],
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<Vec<TensorOf<Self>>>;

    /// [`GradientBackend::input_gradients`] of a model of one input: `G = ∂/∂batch Σ c ⊙ out`
    /// with `out = model(batch)`.
    fn input_gradient(
        model: &mut dyn Forward<Backend = Self>,
        batch: &TensorOf<Self>,
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<TensorOf<Self>> {
        let mut forward = |xs: &[TensorOf<Self>]| model.forward(&xs[0]);
        let mut gradients = Self::input_gradients(&mut forward, &[batch], cotangent)?;
        match (gradients.pop(), gradients.is_empty()) {
            (Some(g), true) => Ok(g),
            _ => Err(crate::error::Error::backend(
                "GradientBackend::input_gradients",
                "the backend returned another number of gradients than the one input",
            )),
        }
    }
}

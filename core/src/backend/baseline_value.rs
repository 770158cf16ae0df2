//! The baseline as a backend receives it when it builds a perturbed batch.

use crate::backend::{Backend, TensorOf};

/// A validated baseline as a backend receives it in [`Backend::occluded_batch`].
pub enum BaselineValue<'a, B: Backend> {
    /// One value for every position.
    Scalar(f64),
    /// A tensor of `Π d_r` elements (shape `d` or `(1, d…)`): one value per position.
    PerPosition(&'a TensorOf<B>),
    /// A tensor of shape `(N, d…)`: one value per position of every example.
    PerExample(&'a TensorOf<B>),
}

//! Closures as models.

use std::marker::PhantomData;

use crate::backend::{Backend, TensorOf};
use crate::error::ModelError;
use crate::model::Forward;

/// A closure as a model of backend `B`: `FnMut(&B::Tensor) -> Result<B::Tensor, E>` for any
/// error `E` that converts into a boxed error (`String`, `&str`, any `std::error::Error`,
/// `anyhow::Error`, `Infallible`).
///
/// Backends offer shorter constructors that name `B` for you.
pub struct FnModel<B, F> {
    f: F,
    backend: PhantomData<fn() -> B>,
}

impl<B, F> FnModel<B, F> {
    /// Wraps the closure.
    pub fn new(f: F) -> Self {
        FnModel { f, backend: PhantomData }
    }
}

impl<B, F, E> Forward for FnModel<B, F>
where
    B: Backend,
    F: FnMut(&TensorOf<B>) -> std::result::Result<TensorOf<B>, E>,
    E: Into<ModelError>,
{
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> std::result::Result<TensorOf<B>, ModelError> {
        (self.f)(batch).map_err(Into::into)
    }
}

//! Models of several input tensors.

use std::marker::PhantomData;

use crate::backend::{Backend, Packed, PackedTensor, TensorOf};
use crate::error::{Error, ModelError, Result};
use crate::model::{Forward, ModelJobs, Parameters};

/// A model of several input tensors (Captum's `forward_func(*inputs)`): from a batch of each
/// input, all with the same rows and in the order the attribution was given them, one output
/// batch. Rows of every input are region-major like a single input's (SEMANTICS.md, Batching).
pub trait MultiForward {
    /// The backend of the tensors.
    type Backend: Backend;

    /// Runs the model on one batch of every input.
    fn forward(
        &mut self,
        inputs: &[TensorOf<Self::Backend>],
    ) -> std::result::Result<TensorOf<Self::Backend>, ModelError>;

    /// Runs every job of `jobs` (each a batch of every input, packed: [`PackedTensor::parts`]),
    /// calls the model, scores the output and passes `(index, scores)` to `sink`, in
    /// increasing index order, as [`Forward::forward_jobs`] does for one input. The provided
    /// one runs the calls one after another; [`Parallel`](crate::Parallel) of a
    /// `Fn(&[Tensor]) + Sync` runs them on several threads.
    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Packed<Self::Backend>>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        for index in 0..jobs.len() {
            let batch = jobs.build(index)?;
            let output = PackedTensor::Whole(self.forward(batch.parts()?).map_err(Error::Model)?);
            drop(batch);
            sink(index, jobs.score(index, &output)?)?;
        }
        Ok(())
    }

    /// The model's parameters, for methods that perturb them (FusionGrad); `None` by default.
    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        None
    }
}

impl<M: MultiForward + ?Sized> MultiForward for &mut M {
    type Backend = M::Backend;

    fn forward(
        &mut self,
        inputs: &[TensorOf<Self::Backend>],
    ) -> std::result::Result<TensorOf<Self::Backend>, ModelError> {
        (**self).forward(inputs)
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Packed<Self::Backend>>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        (**self).forward_jobs(jobs, sink)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        (**self).parameters()
    }
}

/// Any closure `FnMut(&[Tensor]) -> Result<Tensor, E>` as a [`MultiForward`].
///
/// ```
/// use tiled_occlusion_core::backend::{Backend, TensorOf};
/// use tiled_occlusion_core::{FnMultiModel, MultiForward};
/// # fn sum_of<B: Backend>(inputs: &[TensorOf<B>]) -> Result<TensorOf<B>, String> { unimplemented!() }
/// fn model<B: Backend>() -> impl MultiForward<Backend = B> {
///     FnMultiModel::new(|inputs: &[TensorOf<B>]| sum_of::<B>(inputs))
/// }
/// ```
pub struct FnMultiModel<B, F> {
    f: F,
    backend: PhantomData<fn() -> B>,
}

impl<B, F> FnMultiModel<B, F> {
    /// The closure as a model.
    pub fn new(f: F) -> Self {
        FnMultiModel { f, backend: PhantomData }
    }
}

impl<B, F, E> MultiForward for FnMultiModel<B, F>
where
    B: Backend,
    F: FnMut(&[TensorOf<B>]) -> std::result::Result<TensorOf<B>, E>,
    E: Into<ModelError>,
{
    type Backend = B;

    fn forward(&mut self, inputs: &[TensorOf<B>]) -> std::result::Result<TensorOf<B>, ModelError> {
        (self.f)(inputs).map_err(Into::into)
    }
}

/// A [`MultiForward`] as a model of the packed inputs ([`Packed`]): unpacks every batch.
pub(crate) struct PackedModel<'m, B: Backend> {
    pub(crate) model: &'m mut dyn MultiForward<Backend = B>,
}

impl<B: Backend> Forward for PackedModel<'_, B> {
    type Backend = Packed<B>;

    fn forward(&mut self, batch: &PackedTensor<B>) -> std::result::Result<PackedTensor<B>, ModelError> {
        let parts = batch.parts().map_err(ModelError::from)?;
        Ok(PackedTensor::Whole(self.model.forward(parts)?))
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Packed<B>>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        self.model.forward_jobs(jobs, sink)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        self.model.parameters()
    }
}

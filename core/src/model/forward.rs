//! Models: anything that maps a batch to a batch.

use crate::backend::{Backend, TensorOf};
use crate::error::{Error, ModelError, Result};
use crate::model::Parameters;

/// A model: maps a batch `(rows, d_1, …, d_m)` to an output whose first dimension is `rows`.
///
/// Backends provide adapters for their framework's modules; closures are models through
/// [`FnModel`](crate::FnModel). The provided [`Forward::forward_jobs`] runs independent model calls one
/// after another; a model may override it to run them in parallel (see the ndarray
/// backend's `Parallel`), as long as `sink` sees the jobs in index order.
pub trait Forward {
    /// The backend whose tensors the model takes and returns.
    type Backend: Backend;

    /// One model call on a batch.
    fn forward(&mut self, batch: &TensorOf<Self::Backend>) -> std::result::Result<TensorOf<Self::Backend>, ModelError>;

    /// Runs every job of `jobs`: builds its batch, calls the model, scores the output, and
    /// passes `(index, scores)` to `sink`, in increasing index order.
    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Self::Backend>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        for index in 0..jobs.len() {
            let batch = jobs.build(index)?;
            let output = self.forward(&batch).map_err(Error::Model)?;
            drop(batch);
            sink(index, jobs.score(index, &output)?)?;
        }
        Ok(())
    }

    /// The model's perturbable parameters, for wrappers that add noise to weights
    /// ([`FusionGrad`](crate::FusionGrad)); `None` (the default) when it does not expose them.
    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        None
    }
}

impl<M: Forward + ?Sized> Forward for &mut M {
    type Backend = M::Backend;

    fn forward(&mut self, batch: &TensorOf<Self::Backend>) -> std::result::Result<TensorOf<Self::Backend>, ModelError> {
        (**self).forward(batch)
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Self::Backend>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        (**self).forward_jobs(jobs, sink)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        (**self).parameters()
    }
}

/// Independent model calls, each described by an index: the core hands these to
/// [`Forward::forward_jobs`]. A model may build the batches in order on its own thread and
/// evaluate them on several threads (batches are `Send`), as long as it hands the scores to
/// the sink in index order.
pub trait ModelJobs<B: Backend> {
    /// Number of jobs.
    fn len(&self) -> usize;

    /// Whether there is no job.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The model input of job `index`.
    fn build(&self, index: usize) -> Result<TensorOf<B>>;

    /// One score per row of job `index`'s model output.
    fn score(&self, index: usize, output: &TensorOf<B>) -> Result<Vec<f64>>;
}

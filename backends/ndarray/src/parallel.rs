//! Running independent model calls on several threads.

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use tiled_occlusion_core::{Backend, Error, Forward, ModelError, ModelJobs, Result, TensorOf};

/// A model whose calls may run at the same time, for any backend whose model is a
/// `Fn(&Tensor) -> Result<Tensor, Err> + Sync`.
///
/// The perturbed calls of an attribution are independent: `Parallel` takes them a wave of
/// `8 × threads` calls at a time (so memory stays bounded by the wave, not the number of
/// windows), builds the wave's batches in order on the calling thread, runs the model on them
/// on a rayon pool, and scores them in call order, so the result is bit-for-bit the
/// sequential one. Batches only need to be `Send`.
///
/// ```
/// use ndarray::{ArrayD, Axis, IxDyn};
/// use tiled_occlusion_core::{Attribution, Inputs, Occlusion};
/// use tiled_occlusion_ndarray::{Ndarray, Parallel};
///
/// let mut model = Parallel::<Ndarray<f64>, _>::new(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// let a = Occlusion::new([2]).attribute(&mut model, &Inputs::new(&x)).unwrap();
/// // Windows [0,2), [1,3), [2,4) drop the sum by 3, 5, 7; each position gets the mean of its windows.
/// assert_eq!(a.as_slice().unwrap(), &[3.0, 4.0, 6.0, 7.0]);
/// ```
pub struct Parallel<B, F> {
    f: F,
    pool: Option<ThreadPool>,
    backend: std::marker::PhantomData<fn() -> B>,
}

impl<B, F> Parallel<B, F> {
    /// Runs calls on rayon's global pool (one thread per core unless `RAYON_NUM_THREADS` says
    /// otherwise).
    pub fn new(f: F) -> Self {
        Parallel { f, pool: None, backend: std::marker::PhantomData }
    }

    /// Runs calls on a pool of its own with `threads` threads (`threads ≥ 1`).
    pub fn with_threads(f: F, threads: usize) -> Result<Self> {
        if threads == 0 {
            return Err(Error::InvalidParameter { parameter: "threads", reason: "0 threads; use at least 1".into() });
        }
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Backend(format!("cannot start {threads} threads: {e}")))?;
        Ok(Parallel { f, pool: Some(pool), backend: std::marker::PhantomData })
    }

    fn threads(&self) -> usize {
        self.pool.as_ref().map_or_else(rayon::current_num_threads, ThreadPool::current_num_threads)
    }
}

impl<B, F, Err> Forward for Parallel<B, F>
where
    B: Backend,
    F: Fn(&TensorOf<B>) -> std::result::Result<TensorOf<B>, Err> + Sync,
    Err: Into<ModelError>,
{
    type Backend = B;

    fn forward(&mut self, batch: &TensorOf<B>) -> std::result::Result<TensorOf<B>, ModelError> {
        (self.f)(batch).map_err(Into::into)
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<B>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        // Eight calls per thread per wave: enough to amortise the synchronisation for tiny
        // models, few enough to keep memory bounded.
        let wave = 8 * self.threads().max(1);
        let f = &self.f;
        let run = |batch: TensorOf<B>| f(&batch).map_err(|e| Error::Model(e.into()));
        let mut start = 0;
        while start < jobs.len() {
            let end = (start + wave).min(jobs.len());
            // Building a batch is a copy, cheap next to the model: build on this thread, run
            // the model on the pool, score in order here.
            let batches = (start..end).map(|index| jobs.build(index)).collect::<Result<Vec<_>>>()?;
            let outputs: Vec<Result<TensorOf<B>>> = match &self.pool {
                Some(pool) => pool.install(|| batches.into_par_iter().map(run).collect()),
                None => batches.into_par_iter().map(run).collect(),
            };
            for (index, output) in (start..end).zip(outputs) {
                sink(index, jobs.score(index, &output?)?)?;
            }
            start = end;
        }
        Ok(())
    }
}

/// A `Sync` closure as a model of the ndarray backend whose calls run in parallel on rayon's
/// global pool: shorthand for `Parallel::<Ndarray<E>, _>::new(f)`.
///
/// ```
/// use ndarray::{ArrayD, Axis};
/// let mut m = tiled_occlusion_ndarray::parallel_model(|x: &ArrayD<f32>| Ok::<_, String>(x.sum_axis(Axis(1))));
/// # let _ = &mut m;
/// ```
pub fn parallel_model<E, F, Err>(f: F) -> Parallel<crate::Ndarray<E>, F>
where
    E: tiled_occlusion_core::Element,
    F: Fn(&ndarray::ArrayD<E>) -> std::result::Result<ndarray::ArrayD<E>, Err> + Sync,
    Err: Into<ModelError>,
{
    Parallel::new(f)
}

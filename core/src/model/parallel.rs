//! Running independent model calls on several threads.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Mutex};

use crate::backend::{Backend, Packed, PackedTensor, TensorOf};
use crate::error::{Error, ModelError, Result};
use crate::model::{panic_message, Forward, ModelJobs, MultiForward};

/// A model whose calls may run at the same time, for any backend whose model is a
/// `Fn(&Tensor) -> Result<Tensor, Err> + Sync` (ndarray closures, a tract or ONNX session, a
/// TorchScript module: see the backends' shorthands `parallel_model` and
/// `parallel_torchscript`).
///
/// The perturbed calls of an attribution are independent: `Parallel` runs them on `threads`
/// threads, the calling thread and `threads − 1` workers fed through a queue. The calling
/// thread builds the batches in call order (at most `4 × threads` exist at once, so memory is
/// bounded by that, not by the number of windows), keeps four calls queued per worker, runs a
/// call itself whenever they are, and scores the outputs strictly in call order, so the
/// result is bit-for-bit the sequential one. No more threads than `threads` compete for the
/// cores, and the calling thread only sleeps when every call is built. Batches only need to
/// be `Send`. A model that panics becomes [`Error::Model`], on whichever call and thread it
/// panics (the unperturbed first call included). At most [`Parallel::MAX_THREADS`] threads;
/// a thread the system refuses to start is an error too, not a panic.
///
/// A `Fn(&[Tensor]) -> Result<Tensor, Err> + Sync` of several inputs makes `Parallel` a
/// [`MultiForward`] whose calls run the same way (the ndarray backend's
/// `parallel_multi_model`).
///
/// ```
/// use ndarray::{ArrayD, Axis, IxDyn};
/// use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Parallel};
/// use tiled_occlusion_ndarray::Ndarray;
///
/// let mut model = Parallel::<Ndarray<f64>, _>::new(|x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1))));
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// let a = Occlusion::new([2]).attribute(&mut model, &Inputs::new(&x)).unwrap();
/// // Windows [0,2), [1,3), [2,4) drop the sum by 3, 5, 7; each position gets the mean of its windows.
/// assert_eq!(a.as_slice().unwrap(), &[3.0, 4.0, 6.0, 7.0]);
/// ```
pub struct Parallel<B, F> {
    f: F,
    threads: usize,
    backend: std::marker::PhantomData<fn() -> B>,
}

impl<B, F> Parallel<B, F> {
    /// The most threads a `Parallel` runs: 1024, far beyond any machine's cores, and few
    /// enough that starting them cannot exhaust the system's threads or memory.
    pub const MAX_THREADS: usize = 1024;

    /// Runs calls on one thread per core (at most [`Parallel::MAX_THREADS`]).
    pub fn new(f: F) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(Self::MAX_THREADS);
        Parallel { f, threads, backend: std::marker::PhantomData }
    }

    /// Runs calls on `threads` threads, `1 ≤ threads ≤` [`Parallel::MAX_THREADS`].
    pub fn with_threads(f: F, threads: usize) -> Result<Self> {
        Error::check_at_least("Parallel::with_threads", threads, 1)?;
        Error::check_at_most("Parallel::with_threads", threads, Self::MAX_THREADS)?;
        Ok(Parallel { f, threads, backend: std::marker::PhantomData })
    }

    /// The number of threads running the model.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

fn stopped() -> Error {
    Error::backend("Parallel: running the model calls", "the model's worker threads stopped")
}

/// `f(batch)`, with a panic turned into [`Error::Model`].
fn call_catching_panics<T, Err: Into<ModelError>>(
    f: impl FnOnce() -> std::result::Result<T, Err>,
) -> std::result::Result<T, ModelError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(out) => out.map_err(Into::into),
        Err(panic) => Err(format!("the model panicked: {}", panic_message(panic.as_ref())).into()),
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
        call_catching_panics(|| (self.f)(batch))
    }

    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<B>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        let (threads, len) = (self.threads, jobs.len());
        // At most four batches per thread exist at once: built, queued, running or waiting to
        // be scored.
        let capacity = 4 * threads;
        let f = &self.f;
        let run =
            |batch: &TensorOf<B>| -> Result<TensorOf<B>> { call_catching_panics(|| f(batch)).map_err(Error::Model) };
        // The calling thread is one of the `threads`: it builds the batches (jobs need not be
        // `Sync`), keeps `threads − 1` workers fed, runs a call itself whenever the workers
        // have enough queued, and scores outputs strictly in call order.
        let workers = threads - 1;
        let (job_tx, job_rx) = mpsc::sync_channel::<(usize, TensorOf<B>)>(capacity);
        let job_rx = Mutex::new(job_rx);
        let (out_tx, out_rx) = mpsc::channel::<(usize, Result<TensorOf<B>>)>();
        std::thread::scope(|scope| {
            for _ in 0..workers.min(len) {
                let (out_tx, job_rx, run) = (out_tx.clone(), &job_rx, &run);
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || loop {
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((index, batch)) = next else { return };
                    let output = run(&batch);
                    drop(batch);
                    if out_tx.send((index, output)).is_err() {
                        return;
                    }
                });
                if let Err(e) = spawned {
                    // The workers started so far stop when the queue closes.
                    drop(job_tx);
                    return Err(Error::backend("Parallel: starting a model thread", e));
                }
            }
            drop(out_tx);
            let mut drive = || -> Result<()> {
                let mut waiting = BTreeMap::new();
                // Queued for or running on the workers; four per worker keep them busy while
                // this thread runs a call of its own.
                let (mut built, mut scored, mut queued) = (0, 0, 0);
                let target_queue = 4 * workers;
                while scored < len {
                    while built < len && queued < target_queue && waiting.len() + queued < capacity {
                        job_tx.send((built, jobs.build(built)?)).map_err(|_| stopped())?;
                        built += 1;
                        queued += 1;
                    }
                    while let Ok((index, output)) = out_rx.try_recv() {
                        queued -= 1;
                        waiting.insert(index, output);
                    }
                    while let Some(output) = waiting.remove(&scored) {
                        sink(scored, jobs.score(scored, &output?)?)?;
                        scored += 1;
                    }
                    if scored == len {
                        break;
                    }
                    if built < len && waiting.len() + queued < capacity {
                        let batch = jobs.build(built)?;
                        let output = run(&batch);
                        drop(batch);
                        waiting.insert(built, output);
                        built += 1;
                    } else {
                        let (index, output) = out_rx.recv().map_err(|_| stopped())?;
                        queued -= 1;
                        waiting.insert(index, output);
                    }
                }
                Ok(())
            };
            let outcome = drive();
            drop(job_tx);
            outcome
        })
    }
}

impl<B, F, Err> MultiForward for Parallel<B, F>
where
    B: Backend,
    F: Fn(&[TensorOf<B>]) -> std::result::Result<TensorOf<B>, Err> + Sync,
    Err: Into<ModelError>,
{
    type Backend = B;

    fn forward(&mut self, inputs: &[TensorOf<B>]) -> std::result::Result<TensorOf<B>, ModelError> {
        call_catching_panics(|| (self.f)(inputs))
    }

    /// The packed batches run through the one-input `Parallel` of [`Packed<B>`], so calls,
    /// order, bounds and errors are the same.
    fn forward_jobs(
        &mut self,
        jobs: &dyn ModelJobs<Packed<B>>,
        sink: &mut dyn FnMut(usize, Vec<f64>) -> Result<()>,
    ) -> Result<()> {
        let f = &self.f;
        let unpacked = |batch: &PackedTensor<B>| -> std::result::Result<PackedTensor<B>, ModelError> {
            Ok(PackedTensor::Whole(f(batch.parts()?).map_err(Into::into)?))
        };
        Parallel::<Packed<B>, _>::with_threads(unpacked, self.threads)?.forward_jobs(jobs, sink)
    }
}

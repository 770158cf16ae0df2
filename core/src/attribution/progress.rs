//! Progress reporting in model calls.

/// Told after every model call how many calls are done out of how many in total.
///
/// The total is the number of model calls of the whole attribution (the unperturbed call
/// included), known before the first call. Any `FnMut(done, total)` closure is a hook.
///
/// ```
/// use tiled_occlusion_core::attribution::ProgressHook;
/// let mut seen = Vec::new();
/// let mut hook = |done: usize, total: usize| seen.push((done, total));
/// hook.on_model_calls(1, 3);
/// assert_eq!(seen, [(1, 3)]);
/// ```
pub trait ProgressHook {
    /// `done` of `total` model calls have finished.
    fn on_model_calls(&mut self, done: usize, total: usize);
}

impl<F: FnMut(usize, usize)> ProgressHook for F {
    fn on_model_calls(&mut self, done: usize, total: usize) {
        self(done, total)
    }
}

/// A hook that ignores progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl ProgressHook for NoProgress {
    fn on_model_calls(&mut self, _done: usize, _total: usize) {}
}

/// Counts model calls of one attribution against its known total, and tells a hook.
///
/// Wrappers that run an inner method several times use it to report one total over all
/// their inner calls: see [`ProgressCounter::nested`].
pub struct ProgressCounter<'a> {
    hook: &'a mut dyn ProgressHook,
    done: usize,
    total: usize,
}

impl<'a> ProgressCounter<'a> {
    /// A counter at `0` of `total` calls.
    pub fn new(hook: &'a mut dyn ProgressHook, total: usize) -> Self {
        ProgressCounter { hook, done: 0, total }
    }

    /// Records `calls` more finished model calls (the count saturates at `usize::MAX`, so it
    /// never wraps nor goes down).
    pub fn advance(&mut self, calls: usize) {
        self.done = self.done.saturating_add(calls);
        self.hook.on_model_calls(self.done, self.total);
    }

    /// Calls done so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// A hook for an inner attribution whose calls count towards this counter: the inner
    /// `(done, total)` is reported as `(self.done + done, self.total)`.
    ///
    /// The inner count may restart: a method that runs another one twice with the hook it was
    /// given reports `1, 2, …, c` twice. A `done` below the last one reported, or any `done`
    /// after a report that finished its run (`done = total`), is taken as such a restart,
    /// `done` new calls, so the outer count keeps growing by the calls made (`1, …, 2c`, also
    /// for runs of one call) and never goes down; a repeated `done` of an unfinished run adds
    /// nothing.
    pub fn nested(&mut self) -> NestedProgress<'_, 'a> {
        NestedProgress { outer: self, last: 0, finished: false }
    }
}

/// The hook an inner attribution reports to; see [`ProgressCounter::nested`].
pub struct NestedProgress<'c, 'a> {
    outer: &'c mut ProgressCounter<'a>,
    /// The inner `done` last reported.
    last: usize,
    /// Whether that report finished its run (`done = total`).
    finished: bool,
}

impl ProgressHook for NestedProgress<'_, '_> {
    fn on_model_calls(&mut self, done: usize, total: usize) {
        // Calls since the last report; below it, or after a finished run, the inner count
        // restarted from 0.
        let calls = if self.finished { done } else { done.checked_sub(self.last).unwrap_or(done) };
        self.last = done;
        self.finished = done >= total;
        self.outer.advance(calls);
    }
}

#[cfg(test)]
mod tests {
    use super::{ProgressCounter, ProgressHook};
    use crate::attribution::{Attribution, Inputs};
    use crate::error::Result;
    use crate::model::Forward;
    use crate::test_host::{sum_model, Host, HostTensor};
    use crate::{NoiseTunnel, Occlusion};

    /// A user method that runs Occlusion twice with the hook it was given: the inner count
    /// restarts from 1.
    struct Twice(Occlusion);

    impl Attribution<Host> for Twice {
        fn model_calls(&self, shape: &[usize]) -> Result<usize> {
            Ok(2 * Attribution::<Host>::model_calls(&self.0, shape)?)
        }

        fn attribute_with_progress(
            &self,
            model: &mut dyn Forward<Backend = Host>,
            inputs: &Inputs<'_, Host>,
            progress: &mut dyn ProgressHook,
        ) -> Result<HostTensor> {
            let a = self.0.attribute_with_progress(model, inputs, progress)?;
            let b = self.0.attribute_with_progress(model, inputs, progress)?;
            Ok(HostTensor::new(&a.shape, a.data.iter().zip(&b.data).map(|(a, b)| (a + b) / 2.0).collect()))
        }
    }

    #[test]
    fn an_inner_count_that_restarts_counts_as_new_calls() {
        let x = HostTensor::new(&[1, 4], vec![1.0, 2.0, 3.0, 4.0]);
        let tunnel = NoiseTunnel::new(Twice(Occlusion::new([2]))).with_samples(2);
        // Both samples in one call of Twice: 2 × (1 + 3 windows).
        assert_eq!(Attribution::<Host>::model_calls(&tunnel, &[1, 4]).unwrap(), 8);
        let mut seen = Vec::new();
        let mut hook = |done: usize, total: usize| seen.push((done, total));
        tunnel.attribute_with_progress(&mut sum_model(), &Inputs::new(&x), &mut hook).unwrap();
        assert_eq!(seen, (1..=8).map(|done| (done, 8)).collect::<Vec<_>>());
        // In two calls of Twice (one sample each): the same 1 … 16 of 16.
        let tunnel = tunnel.with_samples_batch_size(1);
        let mut seen = Vec::new();
        let mut hook = |done: usize, total: usize| seen.push((done, total));
        tunnel.attribute_with_progress(&mut sum_model(), &Inputs::new(&x), &mut hook).unwrap();
        assert_eq!(seen, (1..=16).map(|done| (done, 16)).collect::<Vec<_>>());
    }

    #[test]
    fn nested_reports_are_monotone_and_saturate() {
        let mut seen = Vec::new();
        let mut hook = |done: usize, total: usize| seen.push((done, total));
        {
            let mut counter = ProgressCounter::new(&mut hook, 10);
            {
                let mut nested = counter.nested();
                // 1, 2 of a run, a restart at 1, a repeat of the same count, then 3.
                for done in [1, 2, 1, 1, 3] {
                    nested.on_model_calls(done, 3);
                }
                // Two runs of one call each (Saliency run twice): 1 of 1, then 1 of 1 again.
                nested.on_model_calls(1, 1);
                nested.on_model_calls(1, 1);
            }
            assert_eq!(counter.done(), 7);
            counter.advance(usize::MAX);
            assert_eq!(counter.done(), usize::MAX);
            counter.nested().on_model_calls(4, 4);
            assert_eq!(counter.done(), usize::MAX);
        }
        let counts = [1, 2, 3, 3, 5, 6, 7, usize::MAX, usize::MAX];
        assert_eq!(seen, counts.iter().map(|&done| (done, 10)).collect::<Vec<_>>());
    }
}

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

    /// Records `calls` more finished model calls.
    pub fn advance(&mut self, calls: usize) {
        self.done += calls;
        self.hook.on_model_calls(self.done, self.total);
    }

    /// Calls done so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// A hook for an inner attribution whose calls count towards this counter: the inner
    /// `(done, total)` is reported as `(self.done + done, self.total)`.
    pub fn nested(&mut self) -> NestedProgress<'_, 'a> {
        let base = self.done;
        NestedProgress { outer: self, base }
    }
}

/// The hook an inner attribution reports to; see [`ProgressCounter::nested`].
pub struct NestedProgress<'c, 'a> {
    outer: &'c mut ProgressCounter<'a>,
    base: usize,
}

impl ProgressHook for NestedProgress<'_, '_> {
    fn on_model_calls(&mut self, done: usize, _total: usize) {
        let calls = self.base + done - self.outer.done;
        self.outer.advance(calls);
    }
}

//! Occlusion, with Captum's semantics.

use crate::attribution::{check_input_shape, Attribution, Inputs, ProgressHook};
use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::model::Forward;
use crate::perturbation::engine::{output_drop_sums_of_inputs, run_model_calls};
use crate::perturbation::per_dimension::check_positive;
use crate::perturbation::{AxisWindows, PerDimension, RegionSchedule, WindowSchedule};

/// Occlusion (Zeiler & Fergus 2014) with Captum's semantics: slide a window over the input,
/// replace it with the baseline, and attribute the mean output drop over the windows that
/// cover each position.
///
/// With window `w`, strides `s` and per-example shape `d`, the windows of dimension `r` start
/// at `j·s_r` for `j < S_r = ceil((d_r − w_r) / s_r) + 1`; the last may run past the end and is
/// cropped to `[j·s_r, min(j·s_r + w_r, d_r))`. For every example `n` and position `p`:
///
/// `A[n, p] = Σ_j Δ_j[n]·[p ∈ R_j] / Σ_j [p ∈ R_j]`, with `Δ_j[n] = τ(F(X))[n] − τ(F(X^{R_j}))[n]`.
///
/// Model calls: `1 + ceil(Π_r S_r / P)` for `P` perturbations per evaluation.
///
/// ```
/// use tiled_occlusion_core::Occlusion;
/// // A 5-long example, window 2, strides 1: 4 windows, plus the unperturbed call.
/// let occlusion = Occlusion::new([2]).with_strides(1);
/// assert_eq!(occlusion.model_calls(&[1, 5]).unwrap(), 1 + 4);
/// assert!(occlusion.model_calls(&[1, 1]).is_err()); // window larger than the input
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occlusion {
    window: Vec<usize>,
    strides: PerDimension,
    perturbations_per_eval: usize,
}

impl Occlusion {
    /// Occlusion with window `window` (one size per per-example dimension), strides 1 and one
    /// perturbation per model call.
    pub fn new(window: impl Into<Vec<usize>>) -> Self {
        Occlusion { window: window.into(), strides: PerDimension::All(1), perturbations_per_eval: 1 }
    }

    /// Sets the strides: one for all dimensions or one per dimension.
    pub fn with_strides(mut self, strides: impl Into<PerDimension>) -> Self {
        self.strides = strides.into();
        self
    }

    /// Sets `P`, the number of occluded copies of the batch per model call.
    pub fn with_perturbations_per_eval(mut self, perturbations_per_eval: usize) -> Self {
        self.perturbations_per_eval = perturbations_per_eval;
        self
    }

    /// The window.
    pub fn window(&self) -> &[usize] {
        &self.window
    }

    /// `P`.
    pub fn perturbations_per_eval(&self) -> usize {
        self.perturbations_per_eval
    }

    /// Model calls for an input of shape `input_shape`: `1 + ceil(Π_r S_r / P)`.
    pub fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        run_model_calls(self.schedule(input_shape)?.len(), self.perturbations_per_eval)
    }

    /// The windows for an input of shape `input_shape` (one phase), after checking every
    /// parameter; [`Error::SizeOverflow`] when their number does not fit a `usize`.
    pub fn schedule(&self, input_shape: &[usize]) -> Result<WindowSchedule> {
        check_input_shape(input_shape)?;
        Error::check_at_least("Occlusion::with_perturbations_per_eval", self.perturbations_per_eval, 1)?;
        check_positive("window", "Occlusion::new", &self.window, input_shape)?;
        let strides = self.strides.resolve("strides (Occlusion::with_strides)", input_shape)?;
        check_positive("strides", "Occlusion::with_strides", &strides, input_shape)?;
        let axes = (0..self.window.len())
            .map(|r| {
                let (w, s, d) = (self.window[r], strides[r], input_shape[r + 1]);
                if w > d {
                    return Err(Error::WindowLargerThanInput { dim: r, window: w, size: d });
                }
                if s > w && w != d {
                    return Err(Error::StrideLargerThanWindow { dim: r, stride: s, window: w });
                }
                AxisWindows::new(d, w, s, 0, 1)
            })
            .collect::<Result<Vec<_>>>()?;
        WindowSchedule::new("the number of Occlusion windows", axes)
    }
}

/// Number of windows of the one-phase `schedule` covering each per-example position,
/// row-major: `Π_r |{j : p_r ∈ range_{r,j}}|` (the input exists, so its size fits).
pub(crate) fn coverage(schedule: &WindowSchedule) -> Result<Vec<f64>> {
    let per_dim = schedule.axes().iter().map(|axis| axis.coverage(0)).collect::<Result<Vec<_>>>()?;
    let mut out = vec![1.0];
    for c in &per_dim {
        out = out.iter().flat_map(|a| c.iter().map(move |b| a * b)).collect();
    }
    Ok(out)
}

/// Divides every example's row of `sums` by the per-position coverage `weights`.
pub(crate) fn divide_by_coverage(sums: &mut [f64], weights: &[f64]) {
    for row in sums.chunks_mut(weights.len()) {
        row.iter_mut().zip(weights).for_each(|(s, w)| *s /= w);
    }
}

impl<B: Backend> Attribution<B> for Occlusion {
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        Occlusion::model_calls(self, input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let shape = B::shape(inputs.input);
        let schedule = self.schedule(&shape)?;
        let weights = coverage(&schedule)?;
        let mut drops =
            output_drop_sums_of_inputs(model, inputs, &shape, &schedule, self.perturbations_per_eval, progress)?;
        divide_by_coverage(&mut drops.sums, &weights);
        B::from_f64_slice(inputs.input, &drops.shape, &drops.sums)
    }
}

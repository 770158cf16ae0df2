//! TiledOcclusion: big windows, `k` shifted tilings per dimension, resolution `w / k`.

use crate::attribution::{check_input_shape, Attribution, Inputs, ProgressCounter, ProgressHook};
use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::model::Forward;
use crate::perturbation::engine::{output_drop_sums_of_inputs, run_model_calls};
use crate::perturbation::per_dimension::check_positive;
use crate::perturbation::reference_tiling::ReferenceTiling;
use crate::perturbation::{AxisWindows, PerDimension, RegionSchedule, WindowSchedule};

/// How the `k` tilings are laid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TilingMode {
    /// Shifted windows over the untouched input (the default): for every phase `φ`
    /// (`0 ≤ φ_r < k_r`) the windows start at `m·w_r − φ_r·s_r` and are cropped to the input,
    /// so each phase tiles the input exactly once.
    #[default]
    Shifted,
    /// Parity with the Python reference implementation: the model sees translated,
    /// zero-padded inputs and the phases are summed (see the crate's SEMANTICS document).
    Reference,
}

/// How the `Π k_r` phases covering a position are combined in [`TilingMode::Shifted`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aggregation {
    /// The mean over phases (the default): equals Occlusion with strides `w / k` away from
    /// the borders.
    #[default]
    Mean,
    /// The sum over phases.
    Sum,
}

/// Tiled Occlusion: windows of size `w` laid in `k_r` shifted tilings per dimension, so the
/// map has resolution `s_r = w_r / k_r` at the cost of plain Occlusion with window `s`.
///
/// Shifted mode (default): for every phase `φ`, `0 ≤ φ_r < k_r`, the windows of that phase
/// start at `a_r = m·w_r − φ_r·s_r` (`m = 0, 1, …` while `a_r < d_r`), cropped to `[0, d_r)`,
/// and
///
/// `A[n, p] = agg_φ Δ_{window of phase φ containing p}[n]`, `agg` = mean (default) or sum.
///
/// Every position is covered by exactly `Π_r k_r` windows. Model calls:
/// `1 + ceil(W / P)` with `W = Π_r Σ_{φ_r < k_r} ceil((d_r + φ_r·s_r) / w_r)` windows.
/// With `k = 1` this is Occlusion with strides `w`.
///
/// ```
/// use tiled_occlusion_core::TiledOcclusion;
/// // 8 positions, window 4, k 2: phase 0 has 2 windows, phase 1 has ceil(10 / 4) = 3.
/// let tiled = TiledOcclusion::new([4], [2]);
/// assert_eq!(tiled.model_calls(&[1, 8]).unwrap(), 1 + 5);
/// assert!(TiledOcclusion::new([4], [3]).model_calls(&[1, 8]).is_err()); // 4 % 3 != 0
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TiledOcclusion {
    window: Vec<usize>,
    k: PerDimension,
    mode: TilingMode,
    aggregation: Option<Aggregation>,
    perturbations_per_eval: usize,
}

impl TiledOcclusion {
    /// Tiled Occlusion with window `window` and upscaling factors `k` (one for all dimensions
    /// or one per dimension), shifted mode, mean aggregation, one perturbation per call.
    pub fn new(window: impl Into<Vec<usize>>, k: impl Into<PerDimension>) -> Self {
        TiledOcclusion {
            window: window.into(),
            k: k.into(),
            mode: TilingMode::Shifted,
            aggregation: None,
            perturbations_per_eval: 1,
        }
    }

    /// Sets the tiling mode.
    pub fn with_mode(mut self, mode: TilingMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the aggregation over phases (shifted mode only; the reference mode always sums).
    pub fn with_aggregation(mut self, aggregation: Aggregation) -> Self {
        self.aggregation = Some(aggregation);
        self
    }

    /// Sets `P`, the number of occluded copies of the batch per model call.
    pub fn with_perturbations_per_eval(mut self, perturbations_per_eval: usize) -> Self {
        self.perturbations_per_eval = perturbations_per_eval;
        self
    }

    /// Checks every parameter against `input_shape`; returns `(k, s)` per dimension.
    fn check(&self, input_shape: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
        check_input_shape(input_shape)?;
        Error::check_at_least("TiledOcclusion::with_perturbations_per_eval", self.perturbations_per_eval, 1)?;
        check_positive("window", "TiledOcclusion::new", &self.window, input_shape)?;
        let k = self.k.resolve("k (TiledOcclusion::new)", input_shape)?;
        check_positive("k", "TiledOcclusion::new", &k, input_shape)?;
        if let Some(dim) = (0..k.len()).find(|&r| self.window[r] % k[r] != 0) {
            return Err(Error::WindowNotDivisible { dim, window: self.window[dim], k: k[dim] });
        }
        if self.mode == TilingMode::Reference && self.aggregation == Some(Aggregation::Mean) {
            return Err(Error::InvalidSetting {
                setting: "TiledOcclusion::with_aggregation(Aggregation::Mean)".into(),
                reason: "the reference mode always sums its phases; use Aggregation::Sum or leave it unset".into(),
            });
        }
        let steps = self.window.iter().zip(&k).map(|(w, k)| w / k).collect();
        Ok((k, steps))
    }

    /// The windows of shifted mode, phase by phase (phases row-major), computed on demand;
    /// [`Error::SizeOverflow`] when their number does not fit a `usize`.
    pub fn shifted_schedule(&self, input_shape: &[usize]) -> Result<WindowSchedule> {
        let (k, steps) = self.check(input_shape)?;
        let axes = (0..k.len())
            .map(|r| AxisWindows::new(input_shape[r + 1], self.window[r], self.window[r], steps[r], k[r]))
            .collect::<Result<Vec<_>>>()?;
        WindowSchedule::new("the number of TiledOcclusion windows", axes)
    }

    /// `P`.
    pub fn perturbations_per_eval(&self) -> usize {
        self.perturbations_per_eval
    }

    /// How the tilings are laid.
    pub fn mode(&self) -> TilingMode {
        self.mode
    }

    /// The aggregation over phases of the shifted mode (mean unless set).
    pub fn aggregation(&self) -> Aggregation {
        self.aggregation.unwrap_or_default()
    }

    /// The shifted windows on one of several inputs, and what the sums are divided by (the
    /// number of phases for the mean); the reference mode is an error (it takes one input).
    pub(crate) fn shifted_part(&self, input_shape: &[usize]) -> Result<(WindowSchedule, Option<f64>)> {
        if self.mode == TilingMode::Reference {
            return Err(Error::InvalidSetting {
                setting: "TiledOcclusion::with_mode(TilingMode::Reference)".into(),
                reason: "the reference mode explains one input; use the default mode with several".into(),
            });
        }
        let schedule = self.shifted_schedule(input_shape)?;
        let divisor = (self.aggregation.unwrap_or_default() == Aggregation::Mean).then(|| schedule.phases());
        Ok((schedule, divisor))
    }

    /// Model calls for an input of shape `input_shape` (see the type's documentation; the
    /// reference mode makes `Σ_φ (1 + ceil(W_φ / P))`).
    pub fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        match self.mode {
            TilingMode::Shifted => {
                run_model_calls(self.shifted_schedule(input_shape)?.len(), self.perturbations_per_eval)
            }
            TilingMode::Reference => self.reference(input_shape)?.model_calls(self.perturbations_per_eval),
        }
    }

    fn reference(&self, input_shape: &[usize]) -> Result<ReferenceTiling> {
        let (k, steps) = self.check(input_shape)?;
        ReferenceTiling::new(&self.window, &k, &steps, input_shape)
    }
}

impl<B: Backend> Attribution<B> for TiledOcclusion {
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        TiledOcclusion::model_calls(self, input_shape)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let shape = B::shape(inputs.input);
        match self.mode {
            TilingMode::Shifted => {
                let schedule = self.shifted_schedule(&shape)?;
                let mut drops = output_drop_sums_of_inputs(
                    model,
                    inputs,
                    &shape,
                    &schedule,
                    self.perturbations_per_eval,
                    progress,
                )?;
                if self.aggregation.unwrap_or_default() == Aggregation::Mean {
                    let phases = schedule.phases();
                    drops.sums.iter_mut().for_each(|v| *v /= phases);
                }
                B::from_f64_slice(inputs.input, &drops.shape, &drops.sums)
            }
            TilingMode::Reference => {
                let reference = self.reference(&shape)?;
                inputs.target.check_examples(shape[0])?;
                let mut counter = ProgressCounter::new(progress, reference.model_calls(self.perturbations_per_eval)?);
                let map = reference.attribute(model, inputs, self.perturbations_per_eval, &mut counter)?;
                B::from_f64_slice(inputs.input, &shape, &map)
            }
        }
    }
}

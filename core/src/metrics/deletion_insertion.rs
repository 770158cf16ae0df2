//! Deletion and insertion curves (RISE, Petsiuk et al. 2018).

use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::metrics::geometry::ranking;
use crate::metrics::model_scores::{scores, CurveRows};
use crate::metrics::{gaussian_blur, trapezoid_auc, MapGeometry, PerturbationCurve, Score};
use crate::model::Forward;

/// Deletion and insertion curves (RISE): positions ranked by channel-summed attribution,
/// most relevant first, `⌈P / steps⌉` positions per step.
///
/// - deletion starts from the input and sets the ranked positions to `baseline`; a faithful
///   map makes the score fall fast (low AUC is good);
/// - insertion starts from a blurred copy of the input (Gaussian, `σ = blur_sigma` positions)
///   and puts the original values back; a faithful map makes the score rise fast (high AUC
///   is good).
///
/// The `steps + 1` model inputs are made and evaluated `batch` at a time (memory: one batch,
/// whatever `steps` is).
#[derive(Clone, Debug)]
pub struct DeletionInsertion {
    /// Number of steps (the curve has `steps + 1` points), `≥ 1` and at most the number of
    /// positions.
    pub steps: usize,
    /// The value deleted positions take (in the model's input space).
    pub baseline: f64,
    /// The insertion start's blur, in positions.
    pub blur_sigma: f64,
    /// Examples per model call.
    pub batch: usize,
    /// Probability or raw output.
    pub score: Score,
}

impl Default for DeletionInsertion {
    /// 50 steps, baseline 0, blur σ = 5 positions, batches of 16, probabilities.
    fn default() -> Self {
        DeletionInsertion { steps: 50, baseline: 0.0, blur_sigma: 5.0, batch: 16, score: Score::Probability }
    }
}

impl DeletionInsertion {
    fn check(&self) -> Result<()> {
        Error::check_at_least("DeletionInsertion::steps", self.steps, 1)?;
        Error::check_at_least("DeletionInsertion::batch", self.batch, 1)
    }

    fn curve<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
        insertion: bool,
    ) -> Result<PerturbationCurve> {
        self.check()?;
        let x = B::to_f64_vec(input)?;
        geometry.check(x.len(), "input")?;
        geometry.check(attribution.len(), "attribution")?;
        let elements = geometry.position_elements();
        // Beyond one position per step every further point repeats the last one.
        Error::check_at_most("DeletionInsertion::steps (at most the number of positions)", self.steps, elements.len())?;
        let order = ranking(&geometry.position_sums(attribution));
        let per_step = order.len().div_ceil(self.steps);
        let start = if insertion { gaussian_blur(&x, geometry, self.blur_sigma)? } else { x.clone() };
        // Point k of the curve: the first k·⌈P / steps⌉ ranked positions changed; made when
        // its batch is built, so memory stays that of one batch whatever `steps` is.
        let row = |k: usize| {
            let mut current = start.clone();
            for &p in order.iter().take(k.saturating_mul(per_step)) {
                for &i in &elements[p] {
                    current[i] = if insertion { x[i] } else { self.baseline };
                }
            }
            current
        };
        let rows = CurveRows { count: self.steps.saturating_add(1), row: &row };
        let scores = scores(model, input, &geometry.example_shape, rows, target, self.score, self.batch)?;
        let fractions = (0..=self.steps).map(|k| k as f64 / self.steps as f64).collect();
        Ok(PerturbationCurve { fractions, auc: trapezoid_auc(&scores), scores })
    }

    /// The deletion curve of one example `input` `(1, d…)` and its attribution (`Π d`
    /// values, row-major) for class `target`.
    pub fn deletion<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<PerturbationCurve> {
        self.curve(model, input, attribution, geometry, target, false)
    }

    /// The insertion curve (see [`DeletionInsertion`]).
    pub fn insertion<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        input: &TensorOf<B>,
        attribution: &[f64],
        geometry: &MapGeometry,
        target: usize,
    ) -> Result<PerturbationCurve> {
        self.curve(model, input, attribution, geometry, target, true)
    }
}

//! Deletion and insertion curves (RISE, Petsiuk et al. 2018).

use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::metrics::geometry::{check_finite, ranking};
use crate::metrics::model_scores::{scores, CurveRows};
use crate::metrics::{gaussian_blur, trapezoid_auc, MapGeometry, PerturbationCurve, Score};
use crate::model::Forward;

/// Deletion and insertion curves (RISE): positions ranked by channel-summed attribution
/// ([`MapGeometry::position_sums`]), most relevant first (ties by position index), `⌈P / steps⌉`
/// positions per step for `P` positions. Point `k = 0 … steps` of the curve has the first
/// `min(k·⌈P / steps⌉, P)` ranked positions changed (all their channels), and its score is
/// the model's [`Score`] of `target`:
///
/// - deletion starts from the input and sets the ranked positions to `baseline`; a faithful
///   map makes the score fall fast (low AUC is good);
/// - insertion starts from a blurred copy of the input ([`gaussian_blur`], `σ = blur_sigma`
///   positions) and puts the original values back; a faithful map makes the score rise fast
///   (high AUC is good).
///
/// The `steps + 1` model inputs are made and evaluated `batch` at a time, each from the one
/// before it. Memory is one batch of `min(batch, steps + 1) × Π d` values (whatever `steps`
/// is), allocated fallibly: a batch the allocator refuses is [`Error::TooLargeToAllocate`].
///
/// Errors, before any model call: `steps` or `batch` 0 ([`Error::TooSmall`]), `steps > P`
/// ([`Error::TooLarge`]), an invalid geometry, an input that is not one example `(1, d…)` of
/// it, an attribution that is not `Π d` values or holds a NaN or infinite value
/// ([`Error::InvalidSetting`]), a blur `σ` out of range ([`Error::OutOfRange`]). A model
/// output that is NaN gives NaN scores (and a NaN AUC), as in the attribution methods.
#[derive(Clone, Debug)]
pub struct DeletionInsertion {
    /// Number of steps (the curve has `steps + 1` points), `≥ 1` and at most the number of
    /// positions.
    pub steps: usize,
    /// The value deleted positions take (in the model's input space).
    pub baseline: f64,
    /// The insertion start's blur `σ`, in positions: `≤ 0` (or a `σ` so small that no
    /// neighbour gets a weight) starts from the input itself, at most
    /// [`MAX_BLUR_SIGMA`](crate::metrics::MAX_BLUR_SIGMA).
    pub blur_sigma: f64,
    /// Points per model call, `≥ 1` (more than the `steps + 1` points means one call).
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
        geometry.check_input(&B::shape(input))?;
        geometry.check(attribution.len(), "attribution")?;
        check_finite("attribution", attribution)?;
        let positions = geometry.positions()?;
        // Beyond one position per step every further point repeats the last one.
        let count = positions.len();
        Error::check_at_most("DeletionInsertion::steps (at most the number of positions)", self.steps, count)?;
        let x = B::to_f64_vec(input)?;
        geometry.check(x.len(), "input")?;
        let order = ranking(&geometry.position_sums(attribution)?)?;
        let per_step = count.div_ceil(self.steps);
        let blurred;
        let start: &[f64] = if insertion {
            blurred = gaussian_blur(&x, geometry, self.blur_sigma)?;
            &blurred
        } else {
            &x
        };
        // Point k of the curve: point k − 1 with the k-th ⌈P / steps⌉ ranked positions
        // changed; made when its batch is built, so memory stays that of one batch.
        let advance = |k: usize, row: &mut [f64]| {
            let ranked = (k - 1).saturating_mul(per_step).min(count)..k.saturating_mul(per_step).min(count);
            for &p in &order[ranked] {
                for i in positions.elements(p) {
                    row[i] = if insertion { x[i] } else { self.baseline };
                }
            }
        };
        let rows = CurveRows {
            count: self.steps + 1,
            len: x.len(),
            start: &|row: &mut [f64]| row.copy_from_slice(start),
            advance: &advance,
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::{tensor, SumModel};

    fn metric(steps: usize, batch: usize) -> DeletionInsertion {
        DeletionInsertion { steps, baseline: 0.0, blur_sigma: 0.0, batch, score: Score::Raw }
    }

    #[test]
    fn insertion_with_a_tiny_blur_starts_from_the_input() {
        let x = tensor(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
        let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
        let metric = DeletionInsertion { blur_sigma: 1e-200, ..metric(2, 4) };
        let curve = metric.insertion(&mut SumModel::default(), &x, &[0.1, 0.4, 0.3, 0.2], &geometry, 0).unwrap();
        assert_eq!((curve.scores, curve.auc), (vec![10.0; 3], 10.0));
    }

    #[test]
    fn non_finite_attributions_are_errors() {
        let x = tensor(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
        let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut model = SumModel::default();
            match metric(2, 4).deletion(&mut model, &x, &[0.1, bad, 0.3, 0.2], &geometry, 0) {
                Err(Error::InvalidSetting { setting, reason }) => {
                    assert_eq!(setting, "attribution");
                    assert!(reason.contains("value 1"), "{reason}");
                }
                other => panic!("{bad}: expected InvalidSetting, got {other:?}"),
            }
            assert!(model.calls.is_empty());
        }
    }

    #[test]
    fn an_input_not_of_the_geometry_is_an_error() {
        let x = tensor(&[1, 4, 4], &[1.0; 16]);
        let geometry = MapGeometry { example_shape: vec![2, 8], channel_axis: None };
        match metric(2, 4).deletion(&mut SumModel::default(), &x, &[1.0; 16], &geometry, 0) {
            Err(Error::InvalidSetting { setting, .. }) => assert_eq!(setting, "input"),
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }

    #[test]
    fn points_are_built_batch_by_batch_and_batch_is_clamped() {
        // Ranking 0, 1, 2, 3, 4; 2 steps of ⌈5/2⌉ = 3 positions: sums 15, 15 − 6, 0.
        let x = tensor(&[1, 5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        let geometry = MapGeometry { example_shape: vec![5], channel_axis: None };
        let attribution = [5.0, 4.0, 3.0, 2.0, 1.0];
        for (batch, calls) in [(1, vec![1, 1, 1]), (2, vec![2, 1]), (usize::MAX, vec![3])] {
            let mut model = SumModel::default();
            let curve = metric(2, batch).deletion(&mut model, &x, &attribution, &geometry, 0).unwrap();
            assert_eq!(curve.scores, [15.0, 9.0, 0.0], "batch {batch}");
            assert_eq!(model.calls, calls, "batch {batch}");
        }
    }
}

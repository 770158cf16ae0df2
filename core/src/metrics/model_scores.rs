//! Scoring perturbed copies of one example with the model, as the curves record them.

use crate::backend::{Backend, TensorOf};
use crate::error::{try_filled, Error, Result};
use crate::model::{Forward, ModelJobs};

/// How a model output row becomes the score a curve records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Score {
    /// The softmax probability of the target class (the default).
    #[default]
    Probability,
    /// The raw output of the target class.
    Raw,
}

/// The host examples a curve scores: `count` points, each one example of `len` values (the
/// input's per-example shape, row-major). Point 0 is written by `start`; point `k ≥ 1` is
/// point `k − 1` changed in place by `advance(k, …)`. Points are made when their batch is
/// built, each from the one before it, so only the batches in flight exist at once, never
/// the whole curve, and a batch costs its own size plus the changes that lead to it.
pub(crate) struct CurveRows<'a> {
    /// Number of points.
    pub count: usize,
    /// Values per point, `Π d`.
    pub len: usize,
    /// Writes point 0 into a row of `len` values.
    pub start: &'a dyn Fn(&mut [f64]),
    /// Turns point `k − 1` into point `k` (`1 ≤ k < count`), in place.
    pub advance: &'a dyn Fn(usize, &mut [f64]),
}

/// What to change when a batch of curve points cannot be allocated.
const BATCH_HINT: &str = "lower DeletionInsertion::batch or RegionPerturbation::batch";

/// Evaluates the model on the host examples `rows`, `batch` at a time, and returns the score
/// of `target` for each. A batch holds at most `rows.count` points (a larger `batch` is
/// clamped to it); its buffer of `points × len` values is checked
/// ([`Error::SizeOverflow`]) and allocated fallibly ([`Error::TooLargeToAllocate`]) before
/// any point is made. The calls go through [`Forward::forward_jobs`], so a parallel model
/// runs them side by side.
pub(crate) fn scores<B: Backend>(
    model: &mut dyn Forward<Backend = B>,
    like: &TensorOf<B>,
    example_shape: &[usize],
    rows: CurveRows<'_>,
    target: usize,
    score: Score,
    batch: usize,
) -> Result<Vec<f64>> {
    let count = rows.count;
    let batch = batch.clamp(1, count.max(1));
    let jobs = ScoreJobs { like, example_shape, rows, batch, target, score };
    let mut out = Vec::with_capacity(count.min(1 << 16));
    model.forward_jobs(&jobs, &mut |_, scores| {
        out.extend(scores);
        Ok(())
    })?;
    Ok(out)
}

/// The model calls of [`scores`]: one per `batch` examples.
struct ScoreJobs<'a, B: Backend> {
    like: &'a TensorOf<B>,
    example_shape: &'a [usize],
    rows: CurveRows<'a>,
    batch: usize,
    target: usize,
    score: Score,
}

impl<B: Backend> ScoreJobs<'_, B> {
    /// The examples of call `index`.
    fn chunk(&self, index: usize) -> std::ops::Range<usize> {
        let start = index.saturating_mul(self.batch);
        start..self.rows.count.min(start.saturating_add(self.batch))
    }
}

impl<B: Backend> ModelJobs<B> for ScoreJobs<'_, B> {
    fn len(&self) -> usize {
        self.rows.count.div_ceil(self.batch)
    }

    fn build(&self, index: usize) -> Result<TensorOf<B>> {
        let chunk = self.chunk(index);
        let (rows, len) = (chunk.len(), self.rows.len);
        let size = Error::checked_product("a batch of curve points (points × values per example)", &[rows, len])?;
        let mut values = try_filled("a batch of curve points", size, 0.0, BATCH_HINT)?;
        for (r, k) in chunk.clone().enumerate() {
            let (before, row) = values.split_at_mut(r * len);
            let row = &mut row[..len];
            if r == 0 {
                (self.rows.start)(row);
                (1..=k).for_each(|j| (self.rows.advance)(j, row));
            } else {
                row.copy_from_slice(&before[(r - 1) * len..]);
                (self.rows.advance)(k, row);
            }
        }
        let mut shape = Vec::with_capacity(1 + self.example_shape.len());
        shape.push(rows);
        shape.extend_from_slice(self.example_shape);
        B::from_f64_slice(self.like, &shape, &values)
    }

    fn score(&self, index: usize, output: &TensorOf<B>) -> Result<Vec<f64>> {
        let rows = self.chunk(index).len();
        let y_shape = B::shape(output);
        if y_shape.first() != Some(&rows) || y_shape.len() != 2 {
            return Err(Error::OutputBatch { rows, output_shape: y_shape });
        }
        let classes = y_shape[1];
        if self.target >= classes {
            return Err(Error::TargetOutOfRange { index: self.target, dim: 1, size: classes, output_shape: y_shape });
        }
        let values = B::to_f64_vec(output)?;
        Ok(values
            .chunks(classes)
            .map(|row| match self.score {
                Score::Raw => row[self.target],
                Score::Probability => {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
                    (row[self.target] - max).exp() / sum
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::{tensor, SumModel};

    fn never(_: &mut [f64]) {
        panic!("a point was made")
    }

    fn never_advance(_: usize, _: &mut [f64]) {
        panic!("a point was made")
    }

    #[test]
    fn a_batch_too_large_to_allocate_is_an_error() {
        // `batch: usize::MAX` puts all 2^31 points of 2^31 values in one batch: 2^62 values,
        // refused by the allocator before a point is made or the model called.
        let like = tensor(&[1, 1], &[0.0]);
        let rows = CurveRows { count: 1 << 31, len: 1 << 31, start: &never, advance: &never_advance };
        let mut model = SumModel::default();
        match scores(&mut model, &like, &[1 << 31], rows, 0, Score::Raw, usize::MAX) {
            Err(Error::TooLargeToAllocate { values, bytes, hint, .. }) => {
                assert_eq!((values, bytes, hint), (1 << 62, usize::MAX, BATCH_HINT));
            }
            other => panic!("expected TooLargeToAllocate, got {other:?}"),
        }
        assert!(model.calls.is_empty());
    }

    #[test]
    fn a_batch_whose_size_overflows_is_an_error() {
        // 2^33 points of 2^32 values: the batch (clamped to 2^33 points) holds 2^65 values.
        let like = tensor(&[1, 1], &[0.0]);
        let rows = CurveRows { count: 1 << 33, len: 1 << 32, start: &never, advance: &never_advance };
        match scores(&mut SumModel::default(), &like, &[1 << 32], rows, 0, Score::Raw, 1 << 40) {
            Err(Error::SizeOverflow { what, .. }) => assert!(what.contains("batch of curve points"), "{what}"),
            other => panic!("expected SizeOverflow, got {other:?}"),
        }
    }

    #[test]
    fn every_point_is_the_one_before_it_advanced() {
        // Point k of [0, 0, 0] has ones in its first k entries: sums 0, 1, 2, 3, whatever
        // the batch (batches after the first start from point 0 and advance to their first).
        let start = |row: &mut [f64]| row.fill(0.0);
        let advance = |k: usize, row: &mut [f64]| row[k - 1] = 1.0;
        for (batch, calls) in [(1, vec![1; 4]), (3, vec![3, 1]), (usize::MAX, vec![4])] {
            let rows = CurveRows { count: 4, len: 3, start: &start, advance: &advance };
            let mut model = SumModel::default();
            let s = scores(&mut model, &tensor(&[1, 3], &[0.0; 3]), &[3], rows, 0, Score::Raw, batch).unwrap();
            assert_eq!((s, model.calls), (vec![0.0, 1.0, 2.0, 3.0], calls), "batch {batch}");
        }
    }
}

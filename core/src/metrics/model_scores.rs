//! Scoring perturbed copies of one example with the model, as the curves record them.

use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
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

/// The host examples a curve scores: `count` of them, example `k` made by `row(k)` (one
/// example of the input's per-example shape) when its batch is built, so only the batches
/// in flight exist at once, never the whole curve.
pub(crate) struct CurveRows<'a> {
    /// Number of examples.
    pub count: usize,
    /// Example `k < count`, row-major.
    pub row: &'a dyn Fn(usize) -> Vec<f64>,
}

/// Evaluates the model on the host examples `rows`, `batch` at a time, and returns the score
/// of `target` for each. The calls go through [`Forward::forward_jobs`], so a parallel model
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
    let jobs = ScoreJobs { like, example_shape, rows, batch: batch.max(1), target, score };
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
        let start = index * self.batch;
        start..self.rows.count.min(start.saturating_add(self.batch))
    }
}

impl<B: Backend> ModelJobs<B> for ScoreJobs<'_, B> {
    fn len(&self) -> usize {
        self.rows.count.div_ceil(self.batch)
    }

    fn build(&self, index: usize) -> Result<TensorOf<B>> {
        let chunk = self.chunk(index);
        let mut shape = vec![chunk.len()];
        shape.extend_from_slice(self.example_shape);
        let values: Vec<f64> = chunk.flat_map(|k| (self.rows.row)(k)).collect();
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

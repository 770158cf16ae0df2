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

/// Evaluates the model on host examples `rows` (each one example of `like`'s per-example
/// shape), `batch` at a time, and returns the score of `target` for each. The calls go through
/// [`Forward::forward_jobs`], so a parallel model runs them side by side.
pub(crate) fn scores<B: Backend>(
    model: &mut dyn Forward<Backend = B>,
    like: &TensorOf<B>,
    example_shape: &[usize],
    rows: &[Vec<f64>],
    target: usize,
    score: Score,
    batch: usize,
) -> Result<Vec<f64>> {
    let jobs = ScoreJobs { like, example_shape, chunks: rows.chunks(batch.max(1)).collect(), target, score };
    let mut out = Vec::with_capacity(rows.len());
    model.forward_jobs(&jobs, &mut |_, scores| {
        out.extend(scores);
        Ok(())
    })?;
    Ok(out)
}

/// The model calls of [`scores`]: one per chunk of examples.
struct ScoreJobs<'a, B: Backend> {
    like: &'a TensorOf<B>,
    example_shape: &'a [usize],
    chunks: Vec<&'a [Vec<f64>]>,
    target: usize,
    score: Score,
}

impl<B: Backend> ModelJobs<B> for ScoreJobs<'_, B> {
    fn len(&self) -> usize {
        self.chunks.len()
    }

    fn build(&self, index: usize) -> Result<TensorOf<B>> {
        let chunk = self.chunks[index];
        let mut shape = vec![chunk.len()];
        shape.extend_from_slice(self.example_shape);
        B::from_f64_slice(self.like, &shape, &chunk.concat())
    }

    fn score(&self, index: usize, output: &TensorOf<B>) -> Result<Vec<f64>> {
        let rows = self.chunks[index].len();
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

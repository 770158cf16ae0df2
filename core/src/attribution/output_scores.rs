//! Reading a run's scores from the model's outputs: one per row of the batch, or, for a
//! model whose output is one for the whole batch (Captum's aggregation mode), a fixed number.

use crate::attribution::{Target, TargetSelector};
use crate::error::{Error, Result};

/// How the scores of a run are read from every model output.
///
/// The unperturbed output `F(X)` of an input of `N` examples decides:
/// - its first dimension is `N`: **per example**, `τ(F(X))[n]` for every row (SEMANTICS.md's
///   targets);
/// - otherwise (a 0-d output included): **batch-level**, `M` scores for the whole batch:
///   every value of the output, row-major, for [`Target::None`] (`M = Π shape`), else the
///   target applied to each of the output's `M = shape[0]` rows (a 0-d output counts as one
///   row). Per-example targets have no meaning there and are refused.
#[derive(Clone, Debug)]
pub(crate) enum OutputScores {
    /// One score per row of every batch.
    PerExample(TargetSelector),
    /// `M` scores per call, from outputs of one fixed shape.
    BatchLevel {
        /// The target on the output seen as `rows_shape`.
        selector: TargetSelector,
        /// The unperturbed output's shape; every call must give it.
        output_shape: Vec<usize>,
        /// The output as `(M, o…)` rows.
        rows_shape: Vec<usize>,
    },
}

impl OutputScores {
    /// The reading of `target` for an unperturbed output of shape `output_shape` given
    /// `examples` examples.
    pub(crate) fn new(target: &Target, output_shape: &[usize], examples: usize) -> Result<Self> {
        if output_shape.first() == Some(&examples) {
            return Ok(OutputScores::PerExample(TargetSelector::new(target, output_shape, examples, examples)?));
        }
        if matches!(target, Target::PerExample(_) | Target::PerExampleIndex(_)) {
            return Err(Error::BatchLevelOutput {
                output_shape: output_shape.to_vec(),
                examples,
                reason: format!("needs a target that does not depend on the example, got {target}"),
            });
        }
        let rows_shape = match (target, output_shape.is_empty()) {
            (Target::None, _) => vec![output_shape.iter().product()],
            (_, true) => vec![1],
            (_, false) => output_shape.to_vec(),
        };
        // An output of no value (shape (0,), or (0, C)) has no score to explain (it used to
        // return Ok with an empty map).
        if rows_shape[0] == 0 {
            return Err(Error::BatchLevelOutput {
                output_shape: output_shape.to_vec(),
                examples,
                reason: "holds no score to explain".into(),
            });
        }
        let selector = TargetSelector::new(target, &rows_shape, rows_shape[0], rows_shape[0])?;
        Ok(OutputScores::BatchLevel { selector, output_shape: output_shape.to_vec(), rows_shape })
    }

    /// Whether the output is one for the whole batch.
    pub(crate) fn is_batch_level(&self) -> bool {
        matches!(self, OutputScores::BatchLevel { .. })
    }

    /// The scores of an output of shape `shape` (row-major `data`) of a batch of `rows` rows:
    /// `rows` of them per example, or the batch-level `M`.
    pub(crate) fn read(&self, data: &[f64], shape: &[usize], rows: usize) -> Result<Vec<f64>> {
        match self {
            OutputScores::PerExample(selector) => selector.select(data, shape, rows),
            OutputScores::BatchLevel { selector, output_shape, rows_shape } => {
                if shape != output_shape.as_slice() {
                    return Err(Error::OutputShapeChanged { got: shape.to_vec(), expected: output_shape.clone() });
                }
                selector.select(data, rows_shape, rows_shape[0])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_batch_level_outputs_like_captum() {
        let read = |target: Target, shape: &[usize], data: &[f64]| {
            let scores = OutputScores::new(&target, shape, 3).unwrap();
            assert!(scores.is_batch_level());
            scores.read(data, shape, 3).unwrap()
        };
        // A 0-d output, a (1,) one and a (2, 3) one for 3 examples.
        assert_eq!(read(Target::None, &[], &[7.0]), [7.0]);
        assert_eq!(read(Target::None, &[1], &[7.0]), [7.0]);
        let six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(read(Target::None, &[2, 3], &six), six);
        assert_eq!(read(Target::Class(2), &[2, 3], &six), [3.0, 6.0]);
        assert_eq!(read(Target::Index(vec![1]), &[2, 3], &six), [2.0, 5.0]);
        let per_example = OutputScores::new(&Target::PerExample(vec![0, 1, 2]), &[2, 3], 3).unwrap_err();
        assert!(per_example.to_string().contains("does not depend on the example"), "{per_example}");
        let changed = OutputScores::new(&Target::None, &[2, 3], 3).unwrap().read(&six, &[3, 2], 3).unwrap_err();
        assert!(matches!(changed, Error::OutputShapeChanged { .. }), "{changed}");
        let per_row = OutputScores::new(&Target::Class(1), &[3, 2], 3).unwrap();
        assert!(!per_row.is_batch_level());
        // Outputs of no score, for 3 examples: errors, not empty maps.
        for (target, shape) in [(Target::None, vec![0]), (Target::Class(1), vec![0, 3]), (Target::None, vec![2, 0])] {
            let e = OutputScores::new(&target, &shape, 3).unwrap_err();
            assert!(e.to_string().contains("holds no score to explain"), "{shape:?}: {e}");
        }
        assert_eq!(per_row.read(&six, &[3, 2], 3).unwrap(), [2.0, 4.0, 6.0]);
    }
}

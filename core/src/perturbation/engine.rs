//! The engine every occlusion-type method shares: evaluate the model on the unperturbed
//! input and on every region of a schedule, and sum each region's output drop into the
//! positions it covers.

use crate::attribution::{Inputs, OutputScores, ProgressCounter, ProgressHook, ResolvedBaseline, Target};
use std::ops::Range;

use crate::backend::{Backend, BaselineValue, Region, RegionBatch, TensorOf};
use crate::error::{try_with_capacity, Error, Result, PER_EVAL_HINT};
use crate::model::{Forward, ModelJobs};
use crate::perturbation::RegionSchedule;

/// One occlusion run: everything but the model and the progress counter.
pub(crate) struct OcclusionRun<'a, B: Backend> {
    /// The input, of shape `input_shape`.
    pub input: &'a TensorOf<B>,
    /// `(N, d…)`.
    pub input_shape: &'a [usize],
    /// The baseline, checked against the input.
    pub baseline: BaselineValue<'a, B>,
    /// The target.
    pub target: &'a Target,
    /// The regions, in order.
    pub schedule: &'a dyn RegionSchedule,
    /// Regions per model call (`P ≥ 1`).
    pub per_eval: usize,
    /// `Some(method)` when the method cannot read batch-level outputs (an error names it).
    pub refuses_batch_level: Option<&'static str>,
}

/// The output drop sums of a run, row-major `(rows, d…)`: `rows = N`, one map per example,
/// or, for a batch-level output, `rows = M`, one map per score of the batch.
#[derive(Clone, Debug)]
pub(crate) struct DropSums {
    /// `S[m, p]`, row-major.
    pub sums: Vec<f64>,
    /// `(rows, d…)`.
    pub shape: Vec<usize>,
}

/// Number of model calls of a run over `regions` regions: `1 + ceil(regions / P)`, or
/// [`Error::SizeOverflow`] when it does not fit a `usize` (`regions = usize::MAX`, `P = 1`).
pub(crate) fn run_model_calls(regions: usize, per_eval: usize) -> Result<usize> {
    regions.div_ceil(per_eval).checked_add(1).ok_or_else(|| Error::SizeOverflow {
        what: "the number of model calls".into(),
        detail: format!("1 + ceil({regions} regions / {per_eval} per call) is larger than {}", usize::MAX),
    })
}

/// `S[n, p] = Σ_j Δ_j[n]·[p ∈ R_j]` for the regions of `schedule` on the user's `inputs` of
/// shape `shape`, telling `progress` about `1 + ceil(R / P)` model calls: the common body of
/// Occlusion, shifted TiledOcclusion and FeatureAblation (each checks its own parameters and
/// normalises the sums afterwards; their result has the sums' shape).
pub(crate) fn output_drop_sums_of_inputs<B: Backend>(
    model: &mut dyn Forward<Backend = B>,
    inputs: &Inputs<'_, B>,
    shape: &[usize],
    schedule: &dyn RegionSchedule,
    per_eval: usize,
    progress: &mut dyn ProgressHook,
) -> Result<DropSums> {
    let baseline = ResolvedBaseline::resolve(&inputs.baseline, inputs.input, shape)?;
    let run = OcclusionRun {
        input: inputs.input,
        input_shape: shape,
        baseline: baseline.value(),
        target: &inputs.target,
        schedule,
        per_eval,
        refuses_batch_level: None,
    };
    run.checked_drop_sums(model, progress)
}

impl<B: Backend> OcclusionRun<'_, B> {
    /// [`OcclusionRun::output_drop_sums`] after the checks every run makes before its first
    /// call (the target against the examples, the number of calls, the largest batch
    /// `min(P, R)·N·Π d`), telling `progress` about `1 + ceil(R / P)` model calls.
    pub(crate) fn checked_drop_sums(
        &self,
        model: &mut dyn Forward<Backend = B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<DropSums> {
        let (shape, regions) = (self.input_shape, self.schedule.len());
        self.target.check_examples(shape[0])?;
        let mut counter = ProgressCounter::new(progress, run_model_calls(regions, self.per_eval)?);
        Error::checked_product(
            "the perturbed batch of one model call",
            &[self.per_eval.min(regions), shape[0], shape[1..].iter().product()],
        )?;
        self.output_drop_sums(model, &mut counter)
    }

    /// `S[n, p] = Σ_j Δ_j[n]·[p ∈ R_j]`, row-major over `(N, d…)`, with
    /// `Δ_j[n] = τ(F(X))[n] − τ(F(X^{R_j}))[n]`; for a batch-level output (see
    /// [`OutputScores`]) the same over its `M` scores, `S[m, p]`, which needs `P = 1` and regions
    /// shared by every example.
    pub(crate) fn output_drop_sums(
        &self,
        model: &mut dyn Forward<Backend = B>,
        progress: &mut ProgressCounter<'_>,
    ) -> Result<DropSums> {
        let example_shape = &self.input_shape[1..];
        let size: usize = example_shape.iter().product();
        let calls = self.schedule.len().div_ceil(self.per_eval);
        let mut sums = Vec::new();
        let reference = self.output_drops(model, progress, 0..calls, &mut |rows, j, deltas| {
            if sums.is_empty() {
                sums = zeroed_sums(rows, size, OUTPUT_ROWS_HINT)?;
            }
            add_region_drop(&mut sums, example_shape, &self.schedule.region(j), deltas);
            Ok(())
        })?;
        if sums.is_empty() {
            sums = zeroed_sums(reference.len(), size, OUTPUT_ROWS_HINT)?;
        }
        let mut shape = vec![reference.len()];
        shape.extend_from_slice(example_shape);
        Ok(DropSums { sums, shape })
    }

    /// Calls the model on the unperturbed input (returning the reference scores `τ(F(X))`, one
    /// per row of the sums) and then for the perturbed calls `calls` (call `c` occludes regions
    /// `[c·P, min((c+1)·P, R))`), handing every region's drops `Δ_j` to `on_drop(rows, j, Δ_j)`
    /// in region order (an error of `on_drop` stops the run).
    pub(crate) fn output_drops(
        &self,
        model: &mut dyn Forward<Backend = B>,
        progress: &mut ProgressCounter<'_>,
        calls: Range<usize>,
        on_drop: &mut OnDrop<'_>,
    ) -> Result<Vec<f64>> {
        let examples = self.input_shape[0];
        let example_shape = &self.input_shape[1..];

        B::check_input(self.input)?;
        let output = model.forward(self.input).map_err(Error::Model)?;
        let output_shape = B::shape(&output);
        let scores = OutputScores::new(self.target, &output_shape, examples)?;
        if scores.is_batch_level() {
            let refusal =
                |reason: String| Error::BatchLevelOutput { output_shape: output_shape.clone(), examples, reason };
            if let Some(method) = self.refuses_batch_level {
                return Err(refusal(format!("{method} does not support")));
            }
            if self.per_eval > 1 {
                return Err(refusal(format!(
                    "needs perturbations_per_eval = 1 (got {}): the outputs of several perturbations in one call \
                     cannot be told apart",
                    self.per_eval
                )));
            }
            if self.schedule.varies_by_example() {
                return Err(refusal("needs regions shared by every example, not a per-example feature mask".into()));
            }
        }
        let reference = scores.read(&B::to_f64_vec(&output)?, &output_shape, examples)?;
        drop(output);
        progress.advance(1);

        // Rows of the sums: N per example, or the batch's M scores.
        let rows = reference.len();
        let jobs =
            RegionJobs { run: self, scores, examples, example_shape, first_call: calls.start, calls: calls.len() };
        let mut deltas = vec![0.0; rows];
        model.forward_jobs(&jobs, &mut |index, scores| {
            let first = (calls.start + index) * self.per_eval;
            for j in 0..jobs.regions_in(index) {
                for (m, delta) in deltas.iter_mut().enumerate() {
                    *delta = reference[m] - scores[j * rows + m];
                }
                on_drop(rows, first + j, &deltas)?;
            }
            progress.advance(1);
            Ok(())
        })?;
        Ok(reference)
    }
}

/// What a run does with each region's drops: `on_drop(rows, j, Δ_j)`.
pub(crate) type OnDrop<'a> = dyn FnMut(usize, usize, &[f64]) -> Result<()> + 'a;

/// The zeroed drop sums `(rows, d…)` of `size = Π d` values per row: the rows are the model's
/// (`N` examples, or a batch-level output's `M` scores, which the model chooses), so their
/// product is checked and allocated fallibly (a model returning 20 000 scores for an input of
/// 10^5 values asked for 16 GB and aborted).
/// `hint` says what to change.
pub(crate) fn zeroed_sums(rows: usize, size: usize, hint: &'static str) -> Result<Vec<f64>> {
    let values = Error::checked_product("the drop sums (output rows × positions)", &[rows, size])?;
    crate::error::try_filled("the drop sums (output rows × positions)", values, 0.0, hint)
}

/// The hint of the drop sums of a run, whose rows the model chooses.
const OUTPUT_ROWS_HINT: &str = "a batch-level output has one row of sums per score: give the model fewer outputs";

/// `S[m, p] += Δ[m]` for every row `m` of `sums` (`(rows, d…)`, row-major) and every position
/// `p` of `region` in row `m` (a batch-level row reads the shared region): the one place drop
/// sums are made, so a merge of partial runs adds the same values in the same order as a run.
pub(crate) fn add_region_drop(sums: &mut [f64], example_shape: &[usize], region: &Region<'_>, deltas: &[f64]) {
    let size: usize = example_shape.iter().product();
    for (m, delta) in deltas.iter().enumerate() {
        let row = &mut sums[m * size..(m + 1) * size];
        region.for_each_run(m, example_shape, |o, l| row[o..o + l].iter_mut().for_each(|s| *s += delta));
    }
}

/// The perturbed model calls of a run: job `i` is call `first_call + i`, occluding regions
/// `[c·P, min((c+1)·P, R))` for `c = first_call + i`.
struct RegionJobs<'r, 'a, B: Backend> {
    run: &'r OcclusionRun<'a, B>,
    scores: OutputScores,
    examples: usize,
    example_shape: &'r [usize],
    first_call: usize,
    calls: usize,
}

impl<B: Backend> RegionJobs<'_, '_, B> {
    fn first_region(&self, index: usize) -> usize {
        (self.first_call + index) * self.run.per_eval
    }

    fn regions_in(&self, index: usize) -> usize {
        self.run.per_eval.min(self.run.schedule.len() - self.first_region(index))
    }
}

impl<B: Backend> ModelJobs<B> for RegionJobs<'_, '_, B> {
    fn len(&self) -> usize {
        self.calls
    }

    fn build(&self, index: usize) -> Result<TensorOf<B>> {
        let first = self.first_region(index);
        let count = self.regions_in(index);
        let mut regions = try_with_capacity("the regions of one model call", count, PER_EVAL_HINT)?;
        regions.extend((first..first + count).map(|j| self.run.schedule.region(j)));
        let batch = RegionBatch { regions, examples: self.examples, example_shape: self.example_shape };
        B::occluded_batch(self.run.input, &self.run.baseline, &batch)
    }

    fn score(&self, index: usize, output: &TensorOf<B>) -> Result<Vec<f64>> {
        let rows = self.regions_in(index) * self.examples;
        self.scores.read(&B::to_f64_vec(output)?, &B::shape(output), rows)
    }
}

#[cfg(test)]
mod tests {
    use super::zeroed_sums;
    use crate::error::Error;

    #[test]
    fn drop_sums_the_model_makes_huge_are_errors_not_aborts() {
        let zeroed = |rows, size| zeroed_sums(rows, size, "a hint");
        assert_eq!(zeroed(2, 3).ok(), Some(vec![0.0; 6]));
        // A batch-level output of 2^23 scores on an input of 2^22 values: 2^48 bytes, more than
        // any address space (it was `vec![0.0; rows * size]`, an abort).
        assert!(matches!(zeroed(1 << 23, 1 << 22), Err(Error::TooLargeToAllocate { hint: "a hint", .. })));
        assert!(matches!(zeroed(usize::MAX, 2), Err(Error::SizeOverflow { .. })));
    }
}

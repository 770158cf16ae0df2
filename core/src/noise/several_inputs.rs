//! NoiseTunnel and FusionGrad around a method of several inputs (Captum's NoiseTunnel on tuple
//! inputs).

use crate::attribution::{Baseline, MultiAttribution, MultiInputs, ProgressCounter, ProgressHook};
use crate::backend::{packed_shape, Backend, TensorOf};
use crate::error::{Error, Result};
use crate::model::{MultiForward, Parameters};
use crate::noise::{derive_seed, FusionGrad, NoiseTunnel, NoiseTunnelType, SampleMoments};

impl<M> NoiseTunnel<M> {
    /// The seed of input `i`'s noise streams (input 0 of several has its own, not the
    /// single-input stream).
    fn input_seed(&self, input: usize) -> u64 {
        derive_seed(self.seed, &[3, input as u64])
    }
}

/// Over several inputs: every input gets its own noise (`with_stdevs` or one noise for all,
/// drawn from its own streams), every noisy batch holds rows `[n·b, (n+1)·b)` for example `n` in
/// every input, per-example baselines, targets and masks follow the rows, and the moments are
/// taken per input: one SmoothGrad, SmoothGradSq or VarGrad map per input.
impl<B: Backend, M: MultiAttribution<B>> MultiAttribution<B> for NoiseTunnel<M> {
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        let partitions = self.partitions(&packed_shape(input_shapes)?)?;
        self.noises(input_shapes.len())?;
        let calls = |len: usize| -> Result<usize> {
            let shapes = input_shapes.iter().map(|s| Self::noisy_shape(s, len)).collect::<Result<Vec<_>>>()?;
            let repeated = self.inner.for_repeated_examples(input_shapes, len)?;
            let inner: &dyn MultiAttribution<B> = repeated.as_deref().unwrap_or(&self.inner);
            inner.model_calls(&shapes)
        };
        let full = calls(partitions.0)?;
        let last = calls(self.partition(partitions, partitions.1 - 1).len())?;
        full.checked_mul(partitions.1 - 1).and_then(|c| c.checked_add(last)).ok_or_else(|| Error::SizeOverflow {
            what: "the number of NoiseTunnel model calls".into(),
            detail: format!("{} partitions of the samples", partitions.1),
        })
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        if self.given.is_some() {
            return Err(Error::InvalidSetting {
                setting: "NoiseTunnel::with_noise".into(),
                reason: "given noise is for one input; several inputs draw theirs".into(),
            });
        }
        let shapes = inputs.shapes();
        let total = MultiAttribution::<B>::model_calls(self, &shapes)?;
        let noises = self.noises(shapes.len())?;
        let partitions = self.partitions(&packed_shape(&shapes)?)?;
        let examples = shapes[0][0];
        inputs.target.check_examples(examples)?;
        if inputs.baselines.len() != inputs.inputs.len() {
            return Err(Error::InvalidSetting {
                setting: "MultiInputs::with_baselines".into(),
                reason: format!("{} baselines given for {} inputs", inputs.baselines.len(), inputs.inputs.len()),
            });
        }
        let sizes: Vec<usize> = shapes.iter().map(|s| s[1..].iter().product()).collect();
        let hosts = inputs.inputs.iter().map(|t| B::to_f64_vec(t)).collect::<Result<Vec<_>>>()?;
        // A baseline with one row per example follows the noisy rows; any other as it is.
        let per_example_baselines = inputs
            .baselines
            .iter()
            .zip(&shapes)
            .map(|(baseline, shape)| match baseline {
                Baseline::Tensor(b)
                    if examples > 1 && B::shape(b).len() == shape.len() && B::shape(b)[0] == examples =>
                {
                    Ok(Some((B::shape(b), B::to_f64_vec(b)?, *b)))
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let mut counter = ProgressCounter::new(progress, total);
        let mut moments: Vec<SampleMoments> = sizes.iter().map(|&size| SampleMoments::new(examples * size)).collect();
        for range in (0..partitions.1).map(|i| self.partition(partitions, i)) {
            let len = range.len();
            let mut noisy = Vec::with_capacity(shapes.len());
            for (i, (host, &size)) in hosts.iter().zip(&sizes).enumerate() {
                let mut rows = Vec::new();
                self.fill_noisy_rows(&noises[i], self.input_seed(i), None, host, size, range.clone(), &mut rows);
                noisy.push(B::from_f64_slice(inputs.inputs[i], &Self::noisy_shape(&shapes[i], len)?, &rows)?);
            }
            let expanded = per_example_baselines
                .iter()
                .map(|b| match b {
                    Some((shape, values, like)) => Ok(Some(B::from_f64_slice(
                        like,
                        &Self::noisy_shape(shape, len)?,
                        &Self::repeat_rows(values, examples, len),
                    )?)),
                    None => Ok(None),
                })
                .collect::<Result<Vec<_>>>()?;
            let baselines = inputs
                .baselines
                .iter()
                .zip(&expanded)
                .map(|(given, expanded)| expanded.as_ref().map_or(*given, Baseline::Tensor));
            let noisy_inputs = MultiInputs::new(noisy.iter())
                .with_baselines(baselines)
                .with_target(inputs.target.repeat_interleave(len));
            let repeated = self.inner.for_repeated_examples(&shapes, len)?;
            let inner: &dyn MultiAttribution<B> = repeated.as_deref().unwrap_or(&self.inner);
            let maps = inner.attribute_with_progress(model, &noisy_inputs, &mut counter.nested())?;
            for (i, map) in maps.iter().enumerate() {
                let values = B::to_f64_vec(map)?;
                let size = sizes[i];
                if values.len() != examples * len * size {
                    return Err(Error::InvalidSetting {
                        setting: "the method NoiseTunnel wraps".into(),
                        reason: format!(
                            "it returned {} values for input {i}'s noisy batch of {}",
                            values.len(),
                            examples * len * size
                        ),
                    });
                }
                for n in 0..examples {
                    for j in 0..len {
                        let row = (n * len + j) * size;
                        moments[i].add(n * size, &values[row..row + size]);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(shapes.len());
        for ((moments, shape), input) in moments.into_iter().zip(&shapes).zip(&inputs.inputs) {
            let result = match self.kind {
                NoiseTunnelType::SmoothGrad => moments.mean(),
                NoiseTunnelType::SmoothGradSq => moments.mean_of_squares(),
                NoiseTunnelType::VarGrad => moments.variance(),
            };
            out.push(B::from_f64_slice(input, shape, &result)?);
        }
        Ok(out)
    }

    /// The same NoiseTunnel around the inner method's repeated form, if it has one.
    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        let inner = self.inner.for_repeated_examples(input_shapes, times)?;
        Ok(inner.map(|inner| Box::new(self.with_inner(inner)) as Box<dyn MultiAttribution<B>>))
    }
}

fn parameters_of<'a, 'm, B: Backend>(
    model: &'a mut (dyn MultiForward<Backend = B> + 'm),
) -> Result<&'a mut dyn Parameters> {
    model.parameters().ok_or(Error::ModelWithoutParameters { method: "FusionGrad" })
}

/// Over several inputs: every weight sample runs the SmoothGrad NoiseTunnel of several inputs
/// (the one input noise for every input, each drawn from its own streams) and the result is,
/// per input, the mean of the `n` SmoothGrad means, i.e. of the `n·m` attributions. The
/// parameters are saved, perturbed and restored exactly as for one input.
impl<B: Backend, M: MultiAttribution<B>> MultiAttribution<B> for FusionGrad<M> {
    /// `n · NoiseTunnel(M, m).model_calls(shapes)`.
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        self.check()?;
        let per_sample = MultiAttribution::<B>::model_calls(&self.input_tunnel(0), input_shapes)?;
        let n = self.samples().0;
        per_sample.checked_mul(n).ok_or_else(|| Error::SizeOverflow {
            what: "the number of FusionGrad model calls".into(),
            detail: format!("{n} weight samples × {per_sample} calls each"),
        })
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn MultiForward<Backend = B>,
        inputs: &MultiInputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<Vec<TensorOf<B>>> {
        let shapes = inputs.shapes();
        let total = MultiAttribution::<B>::model_calls(self, &shapes)?;
        let mut counter = ProgressCounter::new(progress, total);
        parameters_of(model)?;
        // Sizes checked by `model_calls` (through the packed shape).
        let mut moments: Vec<SampleMoments> = shapes.iter().map(|s| SampleMoments::new(s.iter().product())).collect();
        self.each_weight_sample(model, parameters_of::<B>, |i, model| {
            let tunnel = self.input_tunnel(i);
            let maps = MultiAttribution::<B>::attribute_with_progress(&tunnel, model, inputs, &mut counter.nested())?;
            for (moments, map) in moments.iter_mut().zip(&maps) {
                moments.add(0, &B::to_f64_vec(map)?);
            }
            Ok(())
        })?;
        moments
            .into_iter()
            .zip(&shapes)
            .zip(&inputs.inputs)
            .map(|((moments, shape), input)| B::from_f64_slice(input, shape, &moments.mean()))
            .collect()
    }

    /// The same FusionGrad around the inner method's repeated form, if it has one.
    fn for_repeated_examples(
        &self,
        input_shapes: &[Vec<usize>],
        times: usize,
    ) -> Result<Option<Box<dyn MultiAttribution<B>>>> {
        let inner = self.inner().for_repeated_examples(input_shapes, times)?;
        Ok(inner.map(|inner| Box::new(self.with_inner(inner)) as Box<dyn MultiAttribution<B>>))
    }
}

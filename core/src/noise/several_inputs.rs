//! NoiseTunnel and FusionGrad around a method of several inputs (Captum's NoiseTunnel on tuple
//! inputs).

use crate::attribution::{Baseline, MultiAttribution, MultiInputs, ProgressCounter, ProgressHook};
use crate::backend::{packed_shape, Backend, TensorOf};
use crate::error::{try_with_capacity, Error, Result};
use crate::model::{MultiForward, Parameters};
use crate::noise::noise_tunnel::RepeatedInner;
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
    /// `Σ_partitions M.model_calls((N·len, d^i…) for every input)`; an error for no input.
    fn model_calls(&self, input_shapes: &[Vec<usize>]) -> Result<usize> {
        if input_shapes.is_empty() {
            return Err(Error::InvalidSetting { setting: "MultiInputs::new".into(), reason: "no input given".into() });
        }
        let partitions = self.partitions(&packed_shape(input_shapes)?)?;
        self.noises(input_shapes.len())?;
        self.total_calls(partitions, |len| {
            let shapes = input_shapes.iter().map(|s| Self::noisy_shape(s, len)).collect::<Result<Vec<_>>>()?;
            let repeated = self.inner.for_repeated_examples(input_shapes, len)?;
            let inner: &dyn MultiAttribution<B> = repeated.as_deref().unwrap_or(&self.inner);
            inner.model_calls(&shapes)
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
        // Checks that there is an input, that every shape is valid and the sizes fit.
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
        // The inner method for the copies of a call, built once per number of copies.
        let mut repeated = RepeatedInner::<dyn MultiAttribution<B>>::new();
        for range in (0..partitions.1).map(|i| self.partition(partitions, i)) {
            let len = range.len();
            let mut noisy = Vec::with_capacity(shapes.len());
            for (i, (host, &size)) in hosts.iter().zip(&sizes).enumerate() {
                // `N·len` rows of `size` values: the rows fit (`noisy_shape`), the values are
                // checked here and allocated without aborting.
                let shape = Self::noisy_shape(&shapes[i], len)?;
                let values = Error::checked_product("a NoiseTunnel batch", &[shape[0], size])?;
                let mut rows =
                    try_with_capacity("a NoiseTunnel batch", values, "lower NoiseTunnel::with_samples_batch_size")?;
                self.fill_noisy_rows(&noises[i], self.input_seed(i), None, host, size, range.clone(), &mut rows);
                noisy.push(B::from_f64_slice(inputs.inputs[i], &shape, &rows)?);
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
                .with_target(inputs.target.repeat_interleave(len)?);
            let inner: &dyn MultiAttribution<B> =
                repeated.get(len, |len| self.inner.for_repeated_examples(&shapes, len))?.unwrap_or(&self.inner);
            let maps = inner.attribute_with_progress(model, &noisy_inputs, &mut counter.nested())?;
            if maps.len() != shapes.len() {
                return Err(Error::InvalidSetting {
                    setting: "the method NoiseTunnel wraps".into(),
                    reason: format!("it returned {} map(s) for {} input(s)", maps.len(), shapes.len()),
                });
            }
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
                        moments[i].add(n * size, &values[row..row + size])?;
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
                moments.add(0, &B::to_f64_vec(map)?)?;
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

#[cfg(test)]
mod tests {
    use crate::attribution::{MultiAttribution, MultiInputs, ProgressHook};
    use crate::error::{Error, Result};
    use crate::model::MultiForward;
    use crate::test_host::{multi_sum_model, Host, HostTensor};
    use crate::NoiseTunnel;

    /// A method of several inputs that returns each input as its map, with `extra` more copies
    /// of the last map (`-1`: the last map left out); one model call.
    struct Maps(isize);

    impl MultiAttribution<Host> for Maps {
        fn model_calls(&self, _: &[Vec<usize>]) -> Result<usize> {
            Ok(1)
        }

        fn attribute_with_progress(
            &self,
            model: &mut dyn MultiForward<Backend = Host>,
            inputs: &MultiInputs<'_, Host>,
            progress: &mut dyn ProgressHook,
        ) -> Result<Vec<HostTensor>> {
            let batch: Vec<HostTensor> = inputs.inputs.iter().map(|&t| t.clone()).collect();
            model.forward(&batch).map_err(Error::Model)?;
            progress.on_model_calls(1, 1);
            let mut maps = batch;
            match self.0 {
                -1 => drop(maps.pop()),
                extra => (0..extra).for_each(|_| maps.push(maps[maps.len() - 1].clone())),
            }
            Ok(maps)
        }
    }

    fn two_inputs() -> (HostTensor, HostTensor) {
        (HostTensor::new(&[1, 3], vec![1.0; 3]), HostTensor::new(&[1, 2], vec![2.0; 2]))
    }

    #[test]
    fn the_wrapped_method_returns_one_map_per_input() {
        let (a, b) = two_inputs();
        let inputs = MultiInputs::new([&a, &b]);
        let run = |extra| {
            NoiseTunnel::new(Maps(extra)).with_stdev(0.0).with_samples(2).attribute(&mut multi_sum_model(), &inputs)
        };
        // The right number: the inputs themselves (no noise).
        let maps = run(0).unwrap();
        assert_eq!(maps, [a.clone(), b.clone()]);
        // One map short was an all-zero map for input 1; one extra was an index out of bounds.
        for (extra, got) in [(-1, 1), (1, 3)] {
            match run(extra) {
                Err(Error::InvalidSetting { setting, reason }) => {
                    assert_eq!(setting, "the method NoiseTunnel wraps");
                    assert_eq!(reason, format!("it returned {got} map(s) for 2 input(s)"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn no_inputs_is_an_error() {
        let tunnel = NoiseTunnel::new(Maps(0));
        let no_input = |r: Result<()>| matches!(r, Err(Error::InvalidSetting { setting, reason }) if setting == "MultiInputs::new" && reason == "no input given");
        assert!(no_input(MultiAttribution::<Host>::model_calls(&tunnel, &[]).map(|_| ())));
        assert!(no_input(tunnel.attribute(&mut multi_sum_model(), &MultiInputs::<Host>::new([])).map(|_| ())));
    }

    #[test]
    fn more_noisy_copies_than_fit_a_usize_are_a_size_overflow() {
        let (a, b) = (HostTensor::new(&[2, 3], vec![1.0; 6]), HostTensor::new(&[2, 2], vec![2.0; 4]));
        let tunnel = NoiseTunnel::new(Maps(0)).with_samples(usize::MAX);
        let calls = MultiAttribution::<Host>::model_calls(&tunnel, &[vec![2, 3], vec![2, 2]]);
        assert!(matches!(&calls, Err(Error::SizeOverflow { what, .. }) if what.contains("noisy copies")), "{calls:?}");
        let result = tunnel.attribute(&mut multi_sum_model(), &MultiInputs::new([&a, &b]));
        assert!(matches!(result, Err(Error::SizeOverflow { .. })), "{result:?}");
        // One example fits: 2²⁴ / 5 values per sample, one call each.
        let calls = MultiAttribution::<Host>::model_calls(&tunnel, &[vec![1, 3], vec![1, 2]]).unwrap();
        assert_eq!(calls, usize::MAX.div_ceil((1 << 24) / 5));
    }
}

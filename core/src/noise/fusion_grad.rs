//! FusionGrad (NoiseGrad + SmoothGrad): any attribution method averaged over noisy copies of
//! the model's parameters and of the input.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::attribution::{check_input_shape, Attribution, Inputs, ProgressCounter, ProgressHook};
use crate::backend::{Backend, TensorOf};
use crate::error::{Error, Result};
use crate::model::{Forward, Parameters};
use crate::noise::{derive_seed, name_stream, InputNoise, NoiseStream, NoiseTunnel, SampleMoments, WeightNoise};

/// FusionGrad around any attribution method `M`, for models that expose their
/// [`Parameters`] (through [`Forward::parameters`]).
///
/// For every weight sample `i < n`, every parameter is perturbed ([`WeightNoise`],
/// multiplicative `N(1, 0.2²)` by default) starting from its saved value, and `M` runs on `m`
/// noisy copies of the input ([`InputNoise`]; by default additive with `σ` = 10% of each
/// example's range, SmoothGrad's recommendation) as a SmoothGrad [`NoiseTunnel`]. The result
/// is the mean of the `n·m` attributions; `σ_w = σ_x = 0` gives exactly `M`.
///
/// Every weight sample saves the parameters before perturbing them and restores them after
/// (saves nest, see [`Parameters`], so FusionGrad inside FusionGrad perturbs the outer
/// sample's weights and gives them back). When the call returns, fails, or `M` panics, every
/// parameter is bit-for-bit what it was
/// (the Python reference never restores its weights, and its default input noise, `X·η` with
/// `η ~ N(0, 0.1)`, erases the input). Noise comes from our seeded generator: one stream per
/// weight sample and parameter name, and per input sample and example. Progress counts every
/// inner model call: the total is `n ·` the NoiseTunnel's. Around a method of several inputs
/// ([`MultiAttribution`](crate::MultiAttribution), e.g. [`PerInput`](crate::PerInput)) it is
/// a `MultiAttribution` too: the weights are perturbed once per weight sample for all inputs,
/// and the input noise is applied to every input from streams of its own.
///
/// ```
/// use tiled_occlusion_core::{FusionGrad, InputNoise, TiledOcclusion, WeightNoise};
/// let fusion = FusionGrad::new(TiledOcclusion::new([3, 16, 16], [1, 2, 2]))
///     .with_weight_samples(4)
///     .with_input_samples(8)
///     .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.2 })
///     .with_input_noise(InputNoise::Additive { stdev: 0.05 })
///     .with_seed(7);
/// assert_eq!(fusion.samples(), (4, 8));
/// ```
#[derive(Clone, Debug)]
pub struct FusionGrad<M> {
    inner: M,
    weight_samples: usize,
    input_samples: usize,
    input_batch_size: Option<usize>,
    weight_noise: WeightNoise,
    input_noise: InputNoise,
    seed: u64,
}

impl<M> FusionGrad<M> {
    /// FusionGrad of `inner` with the NoiseGrad paper's settings: `n = m = 10`, weights
    /// `× N(1, 0.2²)`, inputs `+ N(0, (0.1 · range)²)`; seed 0.
    pub fn new(inner: M) -> Self {
        FusionGrad {
            inner,
            weight_samples: 10,
            input_samples: 10,
            input_batch_size: None,
            weight_noise: WeightNoise::default(),
            input_noise: InputNoise::AdditiveRelative { level: 0.1 },
            seed: 0,
        }
    }

    /// `n ≥ 1` noisy copies of the parameters.
    pub fn with_weight_samples(mut self, n: usize) -> Self {
        self.weight_samples = n;
        self
    }

    /// `m ≥ 1` noisy copies of the input per copy of the parameters (`N·m` must fit a `usize`,
    /// as for [`NoiseTunnel::with_samples`]).
    pub fn with_input_samples(mut self, m: usize) -> Self {
        self.input_samples = m;
        self
    }

    /// At most `b` input copies of every example per call of the inner method.
    pub fn with_input_samples_batch_size(mut self, b: usize) -> Self {
        self.input_batch_size = Some(b);
        self
    }

    /// The parameter noise.
    pub fn with_weight_noise(mut self, noise: WeightNoise) -> Self {
        self.weight_noise = noise;
        self
    }

    /// The input noise.
    pub fn with_input_noise(mut self, noise: InputNoise) -> Self {
        self.input_noise = noise;
        self
    }

    /// The seed of the noise generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// `(n, m)`.
    pub fn samples(&self) -> (usize, usize) {
        (self.weight_samples, self.input_samples)
    }

    /// The wrapped method.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The same settings around another method.
    pub(crate) fn with_inner<I>(&self, inner: I) -> FusionGrad<I> {
        FusionGrad {
            inner,
            weight_samples: self.weight_samples,
            input_samples: self.input_samples,
            input_batch_size: self.input_batch_size,
            weight_noise: self.weight_noise,
            input_noise: self.input_noise,
            seed: self.seed,
        }
    }

    /// The SmoothGrad run of weight sample `i`.
    pub(crate) fn input_tunnel(&self, i: usize) -> NoiseTunnel<&M> {
        let mut tunnel = NoiseTunnel::new(&self.inner)
            .with_samples(self.input_samples)
            .with_input_noise(self.input_noise)
            .with_seed(derive_seed(self.seed, &[2, i as u64]));
        tunnel.samples_setting = "FusionGrad::with_input_samples";
        match self.input_batch_size {
            Some(b) => tunnel.with_samples_batch_size(b),
            None => tunnel,
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        Error::check_at_least("FusionGrad::with_weight_samples", self.weight_samples, 1)?;
        Error::check_at_least("FusionGrad::with_input_samples", self.input_samples, 1)?;
        if let Some(b) = self.input_batch_size {
            Error::check_at_least("FusionGrad::with_input_samples_batch_size", b, 1)?;
        }
        self.weight_noise.check()
    }

    /// The `n` weight samples: each saves the parameters, perturbs them (sample `i`'s seeded
    /// streams, one per parameter name), runs `sample(i, model)` and restores them, also when
    /// the sample fails or panics (the panic is then resumed). `parameters` finds the model's
    /// parameters (an error when it has none).
    pub(crate) fn each_weight_sample<Mo: ?Sized>(
        &self,
        model: &mut Mo,
        parameters: fn(&mut Mo) -> Result<&mut dyn Parameters>,
        mut sample: impl FnMut(usize, &mut Mo) -> Result<()>,
    ) -> Result<()> {
        for i in 0..self.weight_samples {
            parameters(model)?.save()?;
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let seed = derive_seed(self.seed, &[1, i as u64]);
                let noise = self.weight_noise;
                parameters(model)?.perturb(&mut |name: &str, values: &mut [f64]| {
                    let mut stream = NoiseStream::new(seed, name_stream(name));
                    values.iter_mut().for_each(|w| *w = noise.apply(*w, stream.standard_normal()));
                })?;
                sample(i, model)
            }));
            let restored = parameters(model).and_then(|p| p.restore());
            match outcome {
                Ok(result) => {
                    result?;
                    restored?;
                }
                Err(panic) => resume_unwind(panic),
            }
        }
        Ok(())
    }

    /// The mean over the weight samples of each sample's SmoothGrad mean.
    fn rounds<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        counter: &mut ProgressCounter<'_>,
        size: usize,
    ) -> Result<Vec<f64>>
    where
        M: Attribution<B>,
    {
        let mut moments = SampleMoments::new(size);
        let rows = size / B::shape(inputs.input)[0];
        self.each_weight_sample(model, parameters_of::<B>, |i, model| {
            let mut sum = SampleMoments::new(size);
            self.input_tunnel(i).for_each_sample(model, inputs, counter, |n, _, row| sum.add(n * rows, row))?;
            moments.add(0, &sum.mean())?;
            Ok(())
        })?;
        Ok(moments.mean())
    }
}

fn parameters_of<'a, 'm, B: Backend>(model: &'a mut (dyn Forward<Backend = B> + 'm)) -> Result<&'a mut dyn Parameters> {
    model.parameters().ok_or(Error::ModelWithoutParameters { method: "FusionGrad" })
}

impl<B: Backend, M: Attribution<B>> Attribution<B> for FusionGrad<M> {
    /// `n · NoiseTunnel(M, m).model_calls(shape)`.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        check_input_shape(input_shape)?;
        self.check()?;
        let per_sample = Attribution::<B>::model_calls(&self.input_tunnel(0), input_shape)?;
        per_sample.checked_mul(self.weight_samples).ok_or_else(|| Error::SizeOverflow {
            what: "the number of FusionGrad model calls".into(),
            detail: format!("{} weight samples × {per_sample} calls each", self.weight_samples),
        })
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let shape = B::shape(inputs.input);
        let total = Attribution::<B>::model_calls(self, &shape)?;
        let size: usize = shape.iter().product();
        let mut counter = ProgressCounter::new(progress, total);
        parameters_of(model)?;
        let map = self.rounds(model, inputs, &mut counter, size)?;
        B::from_f64_slice(inputs.input, &shape, &map)
    }

    /// The same FusionGrad around the inner method's repeated form, if it has one.
    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        let Some(inner) = self.inner.for_repeated_examples(input_shape, times)? else {
            return Ok(None);
        };
        Ok(Some(Box::new(self.with_inner(inner))))
    }
}

#[cfg(test)]
mod tests {
    use crate::attribution::Attribution;
    use crate::error::Error;
    use crate::test_host::Host;
    use crate::{FusionGrad, Occlusion};

    #[test]
    fn more_noisy_input_copies_than_fit_a_usize_are_a_size_overflow_naming_the_setting() {
        let fusion = FusionGrad::new(Occlusion::new([2]).with_strides(2)).with_input_samples(usize::MAX);
        match Attribution::<Host>::model_calls(&fusion, &[2, 4]) {
            Err(Error::SizeOverflow { what, detail }) => {
                assert_eq!(what, "the noisy copies of NoiseTunnel");
                assert_eq!(
                    detail,
                    format!(
                        "2 examples × {} samples (FusionGrad::with_input_samples) is larger than {}",
                        usize::MAX,
                        usize::MAX
                    )
                );
            }
            other => panic!("{other:?}"),
        }
        // One example: 10 weight samples × ceil(S / 2²²) calls of 3.
        let calls = Attribution::<Host>::model_calls(&fusion, &[1, 4]).unwrap();
        assert_eq!(calls, 10 * usize::MAX.div_ceil(1 << 22) * 3);
    }
}

//! NoiseTunnel: any attribution method averaged over noisy copies of the input.

use std::ops::Range;

use crate::attribution::{check_input_shape, Attribution, Baseline, Inputs, ProgressCounter, ProgressHook};
use crate::backend::{Backend, TensorOf};
use crate::error::{try_with_capacity, Error, Result};
use crate::model::Forward;
use crate::noise::{InputNoise, NoiseStream, SampleMoments};

/// How NoiseTunnel combines the attributions `a_1 … a_S` of the noisy copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NoiseTunnelType {
    /// SmoothGrad: `E[a] = (1/S) Σ_i a_i` (the default).
    #[default]
    SmoothGrad,
    /// SmoothGradSq: `E[a²] = (1/S) Σ_i a_i²`.
    SmoothGradSq,
    /// VarGrad: `E[a²] − E[a]²`, computed with Welford's update in `f64` (never negative).
    VarGrad,
}

/// NoiseTunnel around any attribution method `M`.
///
/// Each example `x_n` gets `S` noisy copies `x_n + ε_{n,s}`, `ε ~ N(0, σ²)` per element
/// (or other [`InputNoise`]); `M` explains them all (rows `[n·S, (n+1)·S)` of the noisy batch
/// are the copies of example `n`, as in Captum), `nt_samples_batch_size` copies of every
/// example per call of `M`; the result combines the `S` attributions per [`NoiseTunnelType`].
///
/// The noise is drawn on the host from our own seeded generator ([`NoiseStream`], one stream
/// per example and sample), so the same seed gives the same noise, and the same result, on
/// every backend and for every batch size. [`NoiseTunnel::with_noise`] takes the noise from
/// the caller instead. Defaults follow Captum: SmoothGrad, `S = 5`, `σ = 1`, all samples in
/// one batch (up to [`NoiseTunnel::DEFAULT_BATCH_VALUES`] values); seed 0.
///
/// ```
/// use tiled_occlusion_core::{Attribution, NoiseTunnel, NoiseTunnelType, Occlusion};
/// let smooth = NoiseTunnel::new(Occlusion::new([2]))
///     .with_type(NoiseTunnelType::SmoothGrad)
///     .with_samples(8)
///     .with_samples_batch_size(4)
///     .with_stdev(0.1)
///     .with_seed(42);
/// assert_eq!(smooth.samples(), 8);
/// ```
#[derive(Clone, Debug)]
pub struct NoiseTunnel<M> {
    pub(super) inner: M,
    pub(super) kind: NoiseTunnelType,
    pub(super) samples: usize,
    pub(super) batch_size: Option<usize>,
    pub(super) noise: InputNoise,
    /// One noise per input, for several inputs ([`NoiseTunnel::with_stdevs`]).
    pub(super) per_input: Option<Vec<InputNoise>>,
    pub(super) seed: u64,
    pub(super) given: Option<Vec<f64>>,
    /// The builder method that set `samples`, for errors (FusionGrad's runs name its own).
    pub(super) samples_setting: &'static str,
}

impl<M> NoiseTunnel<M> {
    /// SmoothGrad of `inner` with Captum's defaults (5 samples, `σ = 1`).
    pub fn new(inner: M) -> Self {
        NoiseTunnel {
            inner,
            kind: NoiseTunnelType::SmoothGrad,
            samples: 5,
            batch_size: None,
            noise: InputNoise::Additive { stdev: 1.0 },
            per_input: None,
            seed: 0,
            given: None,
            samples_setting: "NoiseTunnel::with_samples",
        }
    }

    /// How the samples are combined.
    pub fn with_type(mut self, kind: NoiseTunnelType) -> Self {
        self.kind = kind;
        self
    }

    /// `S ≥ 1` noisy copies per example (Captum's `nt_samples`). The `N·S` copies of an input
    /// of `N` examples must fit a `usize` (each names its noise stream): beyond,
    /// [`Error::SizeOverflow`] before any model call.
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }

    /// At most `b ≥ 1` copies of every example per call of the inner method (Captum's
    /// `nt_samples_batch_size`). By default all `S` at once, as in Captum, while the noisy batch
    /// `N·S·Π d` holds at most [`NoiseTunnel::DEFAULT_BATCH_VALUES`] values; beyond that, as many
    /// samples per call as fit (at least 1). The result is the same for every batch size; only
    /// the number of calls and the memory differ.
    pub fn with_samples_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = Some(batch_size);
        self
    }

    /// Additive noise `N(0, σ²)` (Captum's `stdevs`), `σ ≥ 0`.
    pub fn with_stdev(mut self, stdev: f64) -> Self {
        self.noise = InputNoise::Additive { stdev };
        self
    }

    /// Any kind of input noise.
    pub fn with_input_noise(mut self, noise: InputNoise) -> Self {
        self.noise = noise;
        self
    }

    /// Additive noise `N(0, σ_i²)` with its own `σ_i` for input `i` of several (Captum's
    /// `stdevs=(σ_1, σ_2, …)`); for one input, one value.
    pub fn with_stdevs(self, stdevs: impl IntoIterator<Item = f64>) -> Self {
        self.with_input_noises(stdevs.into_iter().map(|stdev| InputNoise::Additive { stdev }))
    }

    /// One input noise per input of several.
    pub fn with_input_noises(mut self, noises: impl IntoIterator<Item = InputNoise>) -> Self {
        self.per_input = Some(noises.into_iter().collect());
        self
    }

    /// The noise of each of `inputs` inputs: the per-input ones (as many as the inputs), or the
    /// one noise for all.
    pub(super) fn noises(&self, inputs: usize) -> Result<Vec<InputNoise>> {
        match &self.per_input {
            None => Ok(vec![self.noise; inputs]),
            Some(noises) if noises.len() == inputs => Ok(noises.clone()),
            Some(noises) => Err(Error::InvalidSetting {
                setting: "NoiseTunnel::with_stdevs".into(),
                reason: format!("{} noises given for {inputs} input(s)", noises.len()),
            }),
        }
    }

    /// The seed of the noise generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Uses `noise` instead of drawing it: `N·S·Π d_r` values, row `n·S + s` (of `Π d_r`
    /// values) for sample `s` of example `n`. Added to the input (`ε`), or multiplied with
    /// it (`η`) when the input noise is [`InputNoise::Multiplicative`].
    pub fn with_noise(mut self, noise: Vec<f64>) -> Self {
        self.given = Some(noise);
        self
    }

    /// The number of samples `S`.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The wrapped method.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The same settings around another method.
    pub(super) fn with_inner<I>(&self, inner: I) -> NoiseTunnel<I> {
        NoiseTunnel {
            inner,
            kind: self.kind,
            samples: self.samples,
            batch_size: self.batch_size,
            noise: self.noise,
            per_input: self.per_input.clone(),
            seed: self.seed,
            given: self.given.clone(),
            samples_setting: self.samples_setting,
        }
    }

    /// The most values, `N·b·Π d`, of a noisy batch when no batch size is set: `2²⁴` (128 MiB in
    /// `f64`), so a large `S` is split into several calls instead of one huge batch.
    pub const DEFAULT_BATCH_VALUES: usize = 1 << 24;

    /// The sample ranges handled by each call of the inner method on an input of shape
    /// `input_shape`: `(b, count)`, partition `i < count` being `[i·b, min((i + 1)·b, S))`
    /// (computed on demand, never listed). An [`Error::SizeOverflow`] when the `N·S` noisy
    /// copies do not fit a `usize`: copy `n·S + s` is the index of its noise stream (and row of
    /// given noise), which must not wrap.
    pub(crate) fn partitions(&self, input_shape: &[usize]) -> Result<(usize, usize)> {
        Error::check_at_least(self.samples_setting, self.samples, 1)?;
        let examples = input_shape.first().copied().unwrap_or(1);
        if examples.checked_mul(self.samples).is_none() {
            return Err(Error::SizeOverflow {
                what: "the noisy copies of NoiseTunnel".into(),
                detail: format!(
                    "{examples} examples × {} samples ({}) is larger than {}",
                    self.samples,
                    self.samples_setting,
                    usize::MAX
                ),
            });
        }
        let size = match self.batch_size {
            Some(0) => {
                return Err(Error::TooSmall {
                    setting: "NoiseTunnel::with_samples_batch_size".into(),
                    value: 0,
                    minimum: 1,
                })
            }
            Some(b) => b.min(self.samples),
            None => {
                let per_sample =
                    input_shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).unwrap_or(usize::MAX);
                (Self::DEFAULT_BATCH_VALUES / per_sample.max(1)).clamp(1, self.samples)
            }
        };
        self.noise.check()?;
        self.per_input.iter().flatten().try_for_each(InputNoise::check)?;
        Ok((size, self.samples.div_ceil(size)))
    }

    /// Partition `index` of `(b, count)`.
    pub(crate) fn partition(&self, (size, _): (usize, usize), index: usize) -> Range<usize> {
        let start = index * size;
        start..self.samples.min(start.saturating_add(size))
    }

    /// The shape `(N·len, d…)` of a noisy batch of `len` copies per example; an error when
    /// `N·len` does not fit a `usize`.
    pub(crate) fn noisy_shape(input_shape: &[usize], len: usize) -> Result<Vec<usize>> {
        let mut shape = input_shape.to_vec();
        shape[0] = shape[0].checked_mul(len).ok_or_else(|| Error::SizeOverflow {
            what: "the rows of a NoiseTunnel batch".into(),
            detail: format!("{} examples × {len} samples per call is larger than {}", input_shape[0], usize::MAX),
        })?;
        Ok(shape)
    }

    /// Appends the noisy copies `s ∈ range` of every example of the host input `x` (`size`
    /// values per example), example-major (rows `n·len + j`): the `given` noise, or draws of
    /// the stream `(seed, n·S + s)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fill_noisy_rows(
        &self,
        noise: &InputNoise,
        seed: u64,
        given: Option<&[f64]>,
        x: &[f64],
        size: usize,
        range: Range<usize>,
        out: &mut Vec<f64>,
    ) {
        for (n, row) in x.chunks(size.max(1)).enumerate() {
            for s in range.clone() {
                // Below N·S, which `partitions` checked fits a usize.
                let index = n * self.samples + s;
                match given {
                    Some(given) => noise.apply_given(row, &given[index * size..(index + 1) * size], out),
                    None => {
                        let mut stream = NoiseStream::new(seed, index as u64);
                        noise.apply(row, std::iter::repeat_with(|| stream.standard_normal()), out);
                    }
                }
            }
        }
    }

    /// The rows of `values` (`examples` rows) each repeated `len` times in place.
    pub(crate) fn repeat_rows(values: &[f64], examples: usize, len: usize) -> Vec<f64> {
        let row = values.len() / examples.max(1);
        values.chunks(row.max(1)).flat_map(|r| std::iter::repeat_n(r, len).flatten().copied()).collect()
    }

    /// `(count − 1) · calls(b) + calls(last)` for the `partitions = (b, count)` of the samples,
    /// `calls(len)` the inner method's calls on `len` copies per example (asked once when the
    /// last partition is full too), checked.
    pub(crate) fn total_calls(
        &self,
        partitions: (usize, usize),
        calls: impl Fn(usize) -> Result<usize>,
    ) -> Result<usize> {
        let full = calls(partitions.0)?;
        let last_len = self.partition(partitions, partitions.1 - 1).len();
        let last = if last_len == partitions.0 { full } else { calls(last_len)? };
        full.checked_mul(partitions.1 - 1).and_then(|c| c.checked_add(last)).ok_or_else(|| Error::SizeOverflow {
            what: "the number of NoiseTunnel model calls".into(),
            detail: format!("{} partitions of the samples", partitions.1),
        })
    }

    /// Runs the inner method on every partition of noisy copies of `inputs` and hands each
    /// sample's attribution row to `each(n, s, row)`, for every example in increasing `s`; the
    /// first error `each` returns ends the run.
    pub(crate) fn for_each_sample<B: Backend>(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        progress: &mut ProgressCounter<'_>,
        mut each: impl FnMut(usize, usize, &[f64]) -> Result<()>,
    ) -> Result<()>
    where
        M: Attribution<B>,
    {
        let shape = B::shape(inputs.input);
        check_input_shape(&shape)?;
        let partitions = self.partitions(&shape)?;
        let noise = self.noises(1)?[0];
        let (examples, size) = (shape[0], shape[1..].iter().product::<usize>());
        inputs.target.check_examples(examples)?;
        // The rows of a call, N·b, must fit a usize: checked before anything is allocated.
        Self::noisy_shape(&shape, partitions.0)?;
        if let Some(given) = &self.given {
            let expected = examples.checked_mul(self.samples).and_then(|e| e.checked_mul(size));
            if expected != Some(given.len()) {
                return Err(Error::InvalidSetting {
                    setting: "NoiseTunnel::with_noise".into(),
                    reason: format!(
                        "{} values given, expected N·S·Π d = {examples}·{}·{size}{}",
                        given.len(),
                        self.samples,
                        expected.map_or_else(|| " (more than fits a usize)".to_string(), |e| format!(" = {e}"))
                    ),
                });
            }
        }
        let x = B::to_f64_vec(inputs.input)?;
        let per_example_baseline = match inputs.baseline {
            Baseline::Tensor(b) => {
                let bs = B::shape(b);
                (bs.len() == shape.len() && bs[0] == examples && examples > 1).then_some((bs, b))
            }
            Baseline::Scalar(_) => None,
        };
        let baseline_host = per_example_baseline.as_ref().map(|(_, b)| B::to_f64_vec(b)).transpose()?;
        let values = examples.saturating_mul(partitions.0).saturating_mul(size);
        let mut noisy = try_with_capacity("a NoiseTunnel batch", values, "lower NoiseTunnel::with_samples_batch_size")?;
        // The inner method for the copies of a call, built once per number of copies (every
        // call but the last has `b`): a per-example mask repeated `b` times is as large as a
        // batch, and was built again for every call.
        let mut repeated = RepeatedInner::<dyn Attribution<B>>::new();
        for range in (0..partitions.1).map(|i| self.partition(partitions, i)) {
            let len = range.len();
            noisy.clear();
            self.fill_noisy_rows(&noise, self.seed, self.given.as_deref(), &x, size, range.clone(), &mut noisy);
            let noisy_shape = Self::noisy_shape(&shape, len)?;
            let batch = B::from_f64_slice(inputs.input, &noisy_shape, &noisy)?;
            let expanded_baseline = match (&per_example_baseline, &baseline_host) {
                (Some((bs, b)), Some(values)) => {
                    let rows = Self::repeat_rows(values, examples, len);
                    Some(B::from_f64_slice(b, &Self::noisy_shape(bs, len)?, &rows)?)
                }
                _ => None,
            };
            let baseline = expanded_baseline.as_ref().map_or(inputs.baseline, Baseline::Tensor);
            let noisy_inputs = Inputs { input: &batch, baseline, target: inputs.target.repeat_interleave(len)? };
            // Per-example configuration of the inner method (a feature mask) follows the rows.
            let inner: &dyn Attribution<B> =
                repeated.get(len, |len| self.inner.for_repeated_examples(&shape, len))?.unwrap_or(&self.inner);
            let a = inner.attribute_with_progress(model, &noisy_inputs, &mut progress.nested())?;
            let a = B::to_f64_vec(&a)?;
            if a.len() != noisy.len() {
                return Err(Error::InvalidSetting {
                    setting: "the method NoiseTunnel wraps".into(),
                    reason: format!("it returned {} values for a noisy batch of {}", a.len(), noisy.len()),
                });
            }
            for n in 0..examples {
                for (j, s) in range.clone().enumerate() {
                    let row = (n * len + j) * size;
                    each(n, s, &a[row..row + size])?;
                }
            }
        }
        Ok(())
    }
}

/// The inner method's form for the calls of one number of copies per example (what
/// [`Attribution::for_repeated_examples`] or its multi-input twin gives), kept while the number
/// stays the same: every call but the last has `b` copies, so it is built at most twice per run.
pub(crate) struct RepeatedInner<T: ?Sized> {
    built: Option<(usize, Option<Box<T>>)>,
}

impl<T: ?Sized> RepeatedInner<T> {
    /// Nothing built yet.
    pub(crate) fn new() -> Self {
        RepeatedInner { built: None }
    }

    /// The form for `len` copies (`None`: the inner method serves as it is): the one kept, or
    /// `build(len)`'s when the last one was for another number of copies.
    pub(crate) fn get(
        &mut self,
        len: usize,
        build: impl FnOnce(usize) -> Result<Option<Box<T>>>,
    ) -> Result<Option<&T>> {
        if self.built.as_ref().is_none_or(|(built_for, _)| *built_for != len) {
            self.built = Some((len, build(len)?));
        }
        Ok(self.built.as_ref().and_then(|(_, inner)| inner.as_deref()))
    }
}

impl<B: Backend, M: Attribution<B>> Attribution<B> for NoiseTunnel<M> {
    /// `Σ_partitions M.model_calls((N·len, d…))`.
    fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
        check_input_shape(input_shape)?;
        // Every partition but the last has `b` samples: arithmetic, not one query per call.
        let partitions = self.partitions(input_shape)?;
        self.total_calls(partitions, |len| {
            let repeated = self.inner.for_repeated_examples(input_shape, len)?;
            let inner: &dyn Attribution<B> = repeated.as_deref().unwrap_or(&self.inner);
            inner.model_calls(&Self::noisy_shape(input_shape, len)?)
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
        let size = shape[1..].iter().product::<usize>();
        let mut counter = ProgressCounter::new(progress, total);
        let mut moments = SampleMoments::new(shape[0] * size);
        self.for_each_sample(model, inputs, &mut counter, |n, _, row| moments.add(n * size, row))?;
        let result = match self.kind {
            NoiseTunnelType::SmoothGrad => moments.mean(),
            NoiseTunnelType::SmoothGradSq => moments.mean_of_squares(),
            NoiseTunnelType::VarGrad => moments.variance(),
        };
        B::from_f64_slice(inputs.input, &shape, &result)
    }

    /// The same NoiseTunnel around the inner method's repeated form, if it has one.
    fn for_repeated_examples(&self, input_shape: &[usize], times: usize) -> Result<Option<Box<dyn Attribution<B>>>> {
        let inner = self.inner.for_repeated_examples(input_shape, times)?;
        Ok(inner.map(|inner| Box::new(self.with_inner(inner)) as Box<dyn Attribution<B>>))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::attribution::{Attribution, Inputs, ProgressHook};
    use crate::error::{Error, Result};
    use crate::model::{FnModel, Forward};
    use crate::test_host::{row_sums, sum_model, Host, HostTensor};
    use crate::{NoiseTunnel, Occlusion};

    #[test]
    fn more_noisy_copies_than_fit_a_usize_are_a_size_overflow() {
        // N = 2 examples × S = usize::MAX samples: the stream index n·S + s overflowed (a
        // panic in debug, example 1 reusing example 0's streams in release).
        let x = HostTensor::new(&[2, 4], (0..8).map(f64::from).collect());
        let tunnel = NoiseTunnel::new(Occlusion::new([2]).with_strides(2)).with_samples(usize::MAX);
        let calls = Attribution::<Host>::model_calls(&tunnel, &[2, 4]);
        assert!(matches!(&calls, Err(Error::SizeOverflow { what, .. }) if what.contains("noisy copies")), "{calls:?}");
        let mut model_calls = 0;
        let mut model = FnModel::<Host, _>::new(|x: &HostTensor| {
            model_calls += 1;
            Ok::<_, String>(row_sums(x))
        });
        let result = tunnel.attribute(&mut model, &Inputs::new(&x));
        assert!(matches!(result, Err(Error::SizeOverflow { .. })), "{result:?}");
        assert_eq!(model_calls, 0);
        // One example: N·S fits, and the count is arithmetic (2²² samples per call of 3 calls).
        let calls = Attribution::<Host>::model_calls(&tunnel, &[1, 4]).unwrap();
        assert_eq!(calls, usize::MAX.div_ceil(1 << 22) * 3);
    }

    /// Occlusion, counting how often it is asked for its repeated form.
    struct CountsRepeats<'a>(Occlusion, &'a Cell<usize>);

    impl Attribution<Host> for CountsRepeats<'_> {
        fn model_calls(&self, input_shape: &[usize]) -> Result<usize> {
            Attribution::<Host>::model_calls(&self.0, input_shape)
        }

        fn attribute_with_progress(
            &self,
            model: &mut dyn Forward<Backend = Host>,
            inputs: &Inputs<'_, Host>,
            progress: &mut dyn ProgressHook,
        ) -> Result<HostTensor> {
            self.0.attribute_with_progress(model, inputs, progress)
        }

        fn for_repeated_examples(
            &self,
            input_shape: &[usize],
            times: usize,
        ) -> Result<Option<Box<dyn Attribution<Host>>>> {
            self.1.set(self.1.get() + 1);
            Attribution::<Host>::for_repeated_examples(&self.0, input_shape, times)
        }
    }

    #[test]
    fn the_repeated_inner_method_is_built_once_per_partition_length() {
        // 6 samples in 3 calls of 2: one length, so one repeated form for the count and one for
        // the run (it was built for every partition, and twice for the count).
        let repeats = Cell::new(0);
        let tunnel = NoiseTunnel::new(CountsRepeats(Occlusion::new([2]), &repeats))
            .with_samples(6)
            .with_samples_batch_size(2)
            .with_stdev(0.0);
        assert_eq!(Attribution::<Host>::model_calls(&tunnel, &[1, 4]).unwrap(), 3 * 4);
        assert_eq!(repeats.get(), 1);
        repeats.set(0);
        let x = HostTensor::new(&[1, 4], vec![1.0, 2.0, 3.0, 4.0]);
        let a = tunnel.attribute(&mut sum_model(), &Inputs::new(&x)).unwrap();
        // Window 2, strides 1 over a sum: drops 3, 5, 7, each position their mean.
        assert_eq!(a.data, [3.0, 4.0, 6.0, 7.0]);
        assert_eq!(repeats.get(), 2);
        // 5 samples in calls of 2, 2 and 1: two lengths.
        repeats.set(0);
        let tunnel = tunnel.with_samples(5);
        assert_eq!(Attribution::<Host>::model_calls(&tunnel, &[1, 4]).unwrap(), 3 * 4);
        assert_eq!(repeats.get(), 2);
    }
}

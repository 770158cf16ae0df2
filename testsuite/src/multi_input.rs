//! Several input tensors (SEMANTICS.md, "Several inputs"; Captum's tuple inputs), for any
//! backend.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::{
    Attribution, Baseline, FeatureAblation, FeatureMask, FnModel, FnMultiModel, Forward, FusionGrad, InputNoise,
    Inputs, MultiAttribution, MultiInputs, NoiseTunnel, NoiseTunnelType, Occlusion, PerInput, Target, TiledOcclusion,
    TilingMode, WeightNoise,
};

use crate::host_model::{HostForward, HostModel};
use crate::properties::check_strategy;
use crate::rng::SplitMix64;
use crate::scenario::CLASSES;
use crate::test_backend::{close, host, max_abs_diff, tensor, TestBackend};

/// One input of a [`TwoInputs`] case.
#[derive(Clone, Debug)]
pub struct InputCase {
    /// The per-example shape `d^i` (rank 0 to 3).
    pub shape: Vec<usize>,
    /// The Occlusion and TiledOcclusion window.
    pub window: Vec<usize>,
    /// Occlusion strides.
    pub strides: Vec<usize>,
    /// TiledOcclusion's `k` (divides the window).
    pub k: Vec<usize>,
    /// 0: scalar baseline, 1: per-position tensor, 2: per-example tensor.
    pub baseline: usize,
    /// Its feature mask: 0 shared `(1, d…)`, 1 per example `(N, d…)`, 2 none (every element
    /// its own group).
    pub mask: usize,
}

/// Two inputs of `examples` examples, a model of their packed rows, `P` and a seed.
#[derive(Clone, Debug)]
pub struct TwoInputs {
    /// The inputs.
    pub inputs: [InputCase; 2],
    /// `N`.
    pub examples: usize,
    /// `P` of the multi-input runs.
    pub per_eval: usize,
    /// Linear (`false`) or tanh MLP (`true`) over the packed row.
    pub mlp: bool,
    /// Values, weights and masks.
    pub seed: u64,
}

fn input_case() -> impl Strategy<Value = InputCase> {
    (0usize..=3)
        .prop_flat_map(|rank| {
            (
                prop::collection::vec(1usize..=5, rank),
                prop::collection::vec(any::<(Index, Index, Index)>(), rank),
                0usize..3,
                0usize..3,
            )
        })
        .prop_map(|(shape, picks, baseline, mask)| {
            let window: Vec<usize> = shape.iter().zip(&picks).map(|(&d, (w, _, _))| 1 + w.index(d)).collect();
            let strides = window.iter().zip(&picks).map(|(&w, (_, s, _))| 1 + s.index(w)).collect();
            let k = window
                .iter()
                .zip(&picks)
                .map(|(&w, (_, _, k))| {
                    let options: Vec<usize> = (1..=w).filter(|k| w % k == 0).collect();
                    options[k.index(options.len())]
                })
                .collect();
            InputCase { shape, window, strides, k, baseline, mask }
        })
}

fn two_inputs() -> impl Strategy<Value = TwoInputs> {
    (input_case(), input_case(), 1usize..=3, 1usize..=4, any::<bool>(), any::<u64>())
        .prop_map(|(a, b, examples, per_eval, mlp, seed)| TwoInputs { inputs: [a, b], examples, per_eval, mlp, seed })
}

impl TwoInputs {
    fn size(&self, i: usize) -> usize {
        self.inputs[i].shape.iter().product()
    }

    fn input_shape(&self, i: usize) -> Vec<usize> {
        std::iter::once(self.examples).chain(self.inputs[i].shape.iter().copied()).collect()
    }

    /// `D = D_0 + D_1`.
    fn packed_size(&self) -> usize {
        self.size(0) + self.size(1)
    }

    /// Input `i`'s values, row-major.
    fn values(&self, i: usize) -> Vec<f64> {
        SplitMix64::new(self.seed ^ (0xA11 + i as u64)).values(self.examples * self.size(i))
    }

    /// Input `i`'s baseline: its values per example and position (row-major `(N, d^i…)`), and the
    /// tensor shape it is given as (`None`: a scalar).
    fn baseline(&self, i: usize) -> (Vec<f64>, Option<Vec<usize>>) {
        let size = self.size(i);
        let mut rng = SplitMix64::new(self.seed ^ (0xBA5E + i as u64));
        match self.inputs[i].baseline {
            0 => (vec![0.25 * (i as f64 + 1.0); self.examples * size], None),
            1 => {
                let row = rng.values(size);
                (row.repeat(self.examples), Some(self.inputs[i].shape.clone()))
            }
            _ => (rng.values(self.examples * size), Some(self.input_shape(i))),
        }
    }

    /// The model of a packed row of `D` values.
    fn model(&self) -> HostModel {
        let d = self.packed_size();
        let mut rng = SplitMix64::new(self.seed ^ 0x30DE1);
        if self.mlp {
            let scale = 2.0 / (d as f64).sqrt();
            HostModel::Mlp {
                w1: rng.values(8 * d).into_iter().map(|v| v * scale).collect(),
                w2: rng.values(CLASSES * 8),
                hidden: 8,
            }
        } else {
            HostModel::Linear { w: rng.values(CLASSES * d), b: rng.values(CLASSES) }
        }
    }

    /// Input `i`'s mask ids (0..4, so ids repeat across the inputs), of shape `(1, d^i…)` or
    /// `(N, d^i…)`, or none.
    fn mask(&self, i: usize) -> Option<(Vec<usize>, Vec<i64>)> {
        let rows = match self.inputs[i].mask {
            0 => 1,
            1 => self.examples,
            _ => return None,
        };
        let mut rng = SplitMix64::new(self.seed ^ (0x3A5C + i as u64));
        let ids = (0..rows * self.size(i)).map(|_| rng.below(4) as i64).collect();
        let shape = std::iter::once(rows).chain(self.inputs[i].shape.iter().copied()).collect();
        Some((shape, ids))
    }

    fn target(&self) -> Target {
        Target::Class((self.seed % CLASSES as u64) as usize)
    }
}

/// Row `r` of each of the host batches `parts` (`D_i` values per row), side by side.
fn pack_rows(parts: &[(Vec<f64>, usize)], rows: usize) -> Vec<f64> {
    (0..rows).flat_map(|r| parts.iter().flat_map(move |(v, d)| v[r * d..(r + 1) * d].iter().copied())).collect()
}

/// The batches `xs` (one per input, `rows` rows each) on the host as packed rows
/// `(rows, Σ D_i)`, with that shape.
fn packed_rows<B: Backend>(xs: &[TensorOf<B>]) -> tiled_occlusion_core::Result<(Vec<f64>, [usize; 2])> {
    let rows = B::shape(&xs[0])[0];
    let parts = xs
        .iter()
        .map(|x| Ok((B::to_f64_vec(x)?, B::shape(x)[1..].iter().product())))
        .collect::<tiled_occlusion_core::Result<Vec<_>>>()?;
    let d: usize = parts.iter().map(|(_, d)| d).sum();
    Ok((pack_rows(&parts, rows), [rows, d]))
}

/// A model of packed rows as a model of several inputs: each example's inputs flattened side by
/// side (`flat(x_0) ‖ flat(x_1) ‖ …`) are one row of `model`; `calls` counts the calls.
pub fn multi_model<'c, B: Backend>(
    model: HostModel,
    calls: &'c Cell<usize>,
) -> impl tiled_occlusion_core::MultiForward<Backend = B> + 'c {
    budgeted_multi_model(model, calls, None)
}

/// [`multi_model`] with a value budget, as
/// [`HostForward::value_budget`](crate::HostForward::value_budget) for one input: a call that would take the values
/// evaluated so far (`Σ` of the packed batches' sizes) past `budget` returns
/// [`HostForward::BUDGET_SPENT`](crate::HostForward::BUDGET_SPENT) before reading the batch.
pub fn budgeted_multi_model<'c, B: Backend>(
    model: HostModel,
    calls: &'c Cell<usize>,
    budget: Option<usize>,
) -> impl tiled_occlusion_core::MultiForward<Backend = B> + 'c {
    let mut values = 0usize;
    FnMultiModel::<B, _>::new(move |xs: &[TensorOf<B>]| -> Result<TensorOf<B>, ModelError> {
        let batch = xs.iter().try_fold(0usize, |acc, x| {
            B::shape(x).iter().try_fold(1usize, |a, &d| a.checked_mul(d)).and_then(|n| acc.checked_add(n))
        });
        match (batch.and_then(|b| b.checked_add(values)), budget) {
            (Some(v), Some(budget)) if v <= budget => values = v,
            (_, Some(_)) => return Err(crate::HostForward::<B>::BUDGET_SPENT.into()),
            (v, None) => values = v.unwrap_or(usize::MAX),
        }
        calls.set(calls.get() + 1);
        let (x, packed) = packed_rows::<B>(xs)?;
        let (y, shape) = model.eval(&x, &packed)?;
        Ok(B::from_f64_slice(&xs[0], &shape, &y)?)
    })
}

fn fail(what: &str) -> impl Fn(tiled_occlusion_core::Error) -> TestCaseError + '_ {
    move |e| TestCaseError::fail(format!("{what}: {e}"))
}

/// The case's inputs and baselines as tensors of `T`.
struct Tensors<T: TestBackend> {
    inputs: Vec<TensorOf<T::B>>,
    baselines: Vec<Option<TensorOf<T::B>>>,
}

impl<T: TestBackend> Tensors<T> {
    fn new(c: &TwoInputs) -> Self {
        let inputs = (0..2).map(|i| tensor::<T>(&c.input_shape(i), &c.values(i))).collect();
        let baselines = (0..2)
            .map(|i| {
                let (values, shape) = c.baseline(i);
                shape.map(|s| {
                    let take: usize = s.iter().product();
                    tensor::<T>(&s, &values[..take])
                })
            })
            .collect();
        Tensors { inputs, baselines }
    }

    fn baseline(&self, c: &TwoInputs, i: usize) -> Baseline<'_, T::B> {
        match &self.baselines[i] {
            Some(t) => Baseline::Tensor(t),
            None => Baseline::Scalar(c.baseline(i).0[0]),
        }
    }

    fn multi_inputs(&self, c: &TwoInputs) -> MultiInputs<'_, T::B> {
        MultiInputs::new(self.inputs.iter()).with_baselines((0..2).map(|i| self.baseline(c, i))).with_target(c.target())
    }
}

fn check<T: TestBackend>(what: &str, got: &[f64], want: &[f64]) -> Result<(), TestCaseError> {
    prop_assert!(
        close(got, want, T::TOLERANCE * 16.0),
        "{what}: max difference {}\n got {got:?}\nwant {want:?}",
        max_abs_diff(got, want)
    );
    Ok(())
}

/// The case's FeatureAblation, one per input (an input without a mask: per element).
fn ablations(c: &TwoInputs) -> PerInput<FeatureAblation> {
    PerInput::new((0..2).map(|i| match c.mask(i) {
        Some((shape, ids)) => FeatureAblation::new(FeatureMask::new(shape, ids).expect("a well-formed mask")),
        None => FeatureAblation::per_element(),
    }))
    .with_perturbations_per_eval(c.per_eval)
}

/// The packed tensor `(N, D_0 + D_1)` of the case, its baseline, and the FeatureAblation mask
/// of its masks side by side, built here from the definitions (ids global: equal ids are
/// ablated together; an input without a mask has ids of its own, `100 + i·D + p`).
fn packed_case<T: TestBackend>(c: &TwoInputs) -> (TensorOf<T::B>, TensorOf<T::B>, FeatureMask) {
    let masks: Vec<_> = (0..2).map(|i| c.mask(i)).collect();
    let n = c.examples;
    let parts = |f: &dyn Fn(usize) -> Vec<f64>| pack_rows(&[(f(0), c.size(0)), (f(1), c.size(1))], n);
    let x = tensor::<T>(&[n, c.packed_size()], &parts(&|i| c.values(i)));
    let b = tensor::<T>(&[n, c.packed_size()], &parts(&|i| c.baseline(i).0));
    let per_example = masks.iter().flatten().any(|(shape, _)| shape[0] > 1);
    let ids = |i: usize| -> Vec<f64> {
        let Some((shape, ids)) = &masks[i] else {
            let own: Vec<f64> = (0..c.size(i)).map(|p| (100 + i * c.packed_size() + p) as f64).collect();
            return if per_example { own.repeat(n) } else { own };
        };
        let rows: Vec<f64> = ids.iter().map(|&id| id as f64).collect();
        if shape[0] == n || !per_example {
            rows
        } else {
            rows.repeat(n)
        }
    };
    let mask_rows = if per_example { n } else { 1 };
    let packed_ids = pack_rows(&[(ids(0), c.size(0)), (ids(1), c.size(1))], mask_rows);
    let mask =
        FeatureMask::new(vec![mask_rows, c.packed_size()], packed_ids.iter().map(|&v| v as i64).collect::<Vec<_>>())
            .expect("a well-formed mask");
    (x, b, mask)
}

/// Checks that the maps of the two inputs are the packed map's columns of each input.
fn check_unpacked<T: TestBackend>(c: &TwoInputs, maps: &[TensorOf<T::B>], packed: &[f64]) -> Result<(), TestCaseError> {
    let (n, d) = (c.examples, c.packed_size());
    for i in 0..2 {
        let lo = if i == 0 { 0 } else { c.size(0) };
        let want: Vec<f64> = (0..n).flat_map(|r| packed[r * d + lo..r * d + lo + c.size(i)].to_vec()).collect();
        prop_assert_eq!(<T::B as Backend>::shape(&maps[i]), c.input_shape(i), "shape of attribution {}", i);
        check::<T>(&format!("attribution {i}"), &host::<T>(&maps[i]), &want)?;
    }
    Ok(())
}

/// FeatureAblation of two inputs with masks whose ids repeat across them equals FeatureAblation
/// of the packed tensor `(N, D_0 + D_1)` with the masks side by side (ids global: equal ids are
/// ablated together) and the baselines side by side; it makes the calls it announces.
pub fn feature_ablation_of_several_inputs_equals_the_packed_tensor<T: TestBackend>() {
    check_strategy::<T, _>("feature_ablation_of_several_inputs_equals_the_packed_tensor", two_inputs(), |c| {
        let t = Tensors::<T>::new(c);
        let method = ablations(c);
        let calls = Cell::new(0);
        let mut model = multi_model::<T::B>(c.model(), &calls);
        let maps = method.attribute(&mut model, &t.multi_inputs(c)).map_err(fail("several inputs"))?;
        let announced = method.model_calls(&[c.input_shape(0), c.input_shape(1)]).map_err(fail("model_calls"))?;
        prop_assert_eq!(calls.get(), announced, "model calls");

        let (x, b, mask) = packed_case::<T>(c);
        let mut single = HostForward::<T::B>::new(c.model());
        let inputs = Inputs::new(&x).with_baseline(Baseline::Tensor(&b)).with_target(c.target());
        let packed = FeatureAblation::new(mask).attribute(&mut single, &inputs).map_err(fail("packed"))?;
        check_unpacked::<T>(c, &maps, &host::<T>(&packed))
    });
}

/// A [`HostForward`] seen as a model of several inputs (each example's inputs flattened side by
/// side are one row), with its parameters.
struct HostMultiForward<B>(HostForward<B>);

impl<B: Backend> tiled_occlusion_core::MultiForward for HostMultiForward<B> {
    type Backend = B;

    fn forward(&mut self, xs: &[TensorOf<B>]) -> Result<TensorOf<B>, ModelError> {
        let (x, shape) = packed_rows::<B>(xs)?;
        let packed = B::from_f64_slice(&xs[0], &shape, &x)?;
        self.0.forward(&packed)
    }

    fn parameters(&mut self) -> Option<&mut dyn tiled_occlusion_core::model::Parameters> {
        self.0.parameters()
    }
}

/// FusionGrad of several inputs: with input noise 0 only the weights are noisy, drawn from
/// the streams of the weight sample and the parameter's name, so FusionGrad(FeatureAblation)
/// of two inputs equals FusionGrad(FeatureAblation) of the packed tensor (built independently)
/// on the same model; it makes the calls it announces, and leaves every parameter bit for bit
/// as it was. A model without parameters is a named error before any call.
pub fn fusion_grad_of_several_inputs<T: TestBackend>() {
    check_strategy::<T, _>("fusion_grad_of_several_inputs", two_inputs(), |c| {
        let t = Tensors::<T>::new(c);
        fn fusion<M>(inner: M, seed: u64) -> FusionGrad<M> {
            FusionGrad::new(inner)
                .with_weight_samples(2)
                .with_input_samples(2)
                .with_input_noise(InputNoise::Additive { stdev: 0.0 })
                .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.2 })
                .with_seed(seed)
        }
        let method = fusion(ablations(c), c.seed);
        let mut model = HostMultiForward(HostForward::<T::B>::new(c.model()));
        let maps = method.attribute(&mut model, &t.multi_inputs(c)).map_err(fail("several inputs"))?;
        let announced = MultiAttribution::<T::B>::model_calls(&method, &[c.input_shape(0), c.input_shape(1)])
            .map_err(fail("model_calls"))?;
        prop_assert_eq!(model.0.calls, announced, "model calls");
        let mut untouched = c.model();
        let before: Vec<Vec<u64>> =
            untouched.parameters_mut().iter().map(|(_, v)| v.iter().map(|x| x.to_bits()).collect()).collect();
        let after: Vec<Vec<u64>> =
            model.0.model.parameters_mut().iter().map(|(_, v)| v.iter().map(|x| x.to_bits()).collect()).collect();
        prop_assert_eq!(after, before, "parameters restored");

        let (x, b, mask) = packed_case::<T>(c);
        let mut single = HostForward::<T::B>::new(c.model());
        let inputs = Inputs::new(&x).with_baseline(Baseline::Tensor(&b)).with_target(c.target());
        let single_method = fusion(FeatureAblation::new(mask).with_perturbations_per_eval(c.per_eval), c.seed);
        let packed = single_method.attribute(&mut single, &inputs).map_err(fail("packed"))?;
        check_unpacked::<T>(c, &maps, &host::<T>(&packed))?;

        let calls = Cell::new(0);
        let mut closure = multi_model::<T::B>(c.model(), &calls);
        match method.attribute(&mut closure, &t.multi_inputs(c)) {
            Err(e @ tiled_occlusion_core::Error::ModelWithoutParameters { .. }) => {
                prop_assert!(e.to_string().contains("FusionGrad"), "{}", e)
            }
            other => prop_assert!(false, "expected ModelWithoutParameters, got {:?}", other.map(|m| m.len())),
        }
        prop_assert_eq!(calls.get(), 0, "no call without parameters");
        Ok(())
    });
}

/// Occlusion and TiledOcclusion of input `i` among several equal the single-input method on
/// input `i` with the other input held fixed (each example's own values), whatever `P`.
pub fn occlusion_of_one_input_holds_the_others_fixed<T: TestBackend>() {
    check_strategy::<T, _>("occlusion_of_one_input_holds_the_others_fixed", two_inputs(), |c| {
        let t = Tensors::<T>::new(c);
        let occlusion = |i: usize| Occlusion::new(c.inputs[i].window.clone()).with_strides(c.inputs[i].strides.clone());
        let tiled = |i: usize| TiledOcclusion::new(c.inputs[i].window.clone(), c.inputs[i].k.clone());
        let calls = Cell::new(0);
        let mut model = multi_model::<T::B>(c.model(), &calls);
        let by_occlusion = PerInput::new([occlusion(0), occlusion(1)])
            .with_perturbations_per_eval(c.per_eval)
            .attribute(&mut model, &t.multi_inputs(c))
            .map_err(fail("Occlusion of several inputs"))?;
        let by_tiling = PerInput::new([tiled(0), tiled(1)])
            .with_perturbations_per_eval(c.per_eval)
            .attribute(&mut model, &t.multi_inputs(c))
            .map_err(fail("TiledOcclusion of several inputs"))?;
        for i in 0..2 {
            let other = 1 - i;
            let fixed = c.values(other);
            let (d_i, d_other) = (c.size(i), c.size(other));
            let host_model = c.model();
            // Input i alone; row r of a batch is example r mod N, the other input as given.
            let mut alone = FnModel::<T::B, _>::new(|x: &TensorOf<T::B>| -> Result<TensorOf<T::B>, ModelError> {
                let rows = <T::B as Backend>::shape(x)[0];
                let xi = <T::B as Backend>::to_f64_vec(x)?;
                let other_rows: Vec<f64> =
                    (0..rows).flat_map(|r| fixed[(r % c.examples) * d_other..][..d_other].to_vec()).collect();
                let mut parts = vec![(xi, d_i), (other_rows, d_other)];
                if i == 1 {
                    parts.swap(0, 1);
                }
                let (y, shape) = host_model.eval(&pack_rows(&parts, rows), &[rows, d_i + d_other])?;
                Ok(<T::B as Backend>::from_f64_slice(x, &shape, &y)?)
            });
            let inputs = Inputs::new(&t.inputs[i]).with_baseline(t.baseline(c, i)).with_target(c.target());
            let want = occlusion(i).attribute(&mut alone, &inputs).map_err(fail("one input"))?;
            prop_assert_eq!(<T::B as Backend>::shape(&by_occlusion[i]), c.input_shape(i), "shape");
            check::<T>(&format!("Occlusion of input {i}"), &host::<T>(&by_occlusion[i]), &host::<T>(&want))?;
            let want = tiled(i).attribute(&mut alone, &inputs).map_err(fail("one input"))?;
            check::<T>(&format!("TiledOcclusion of input {i}"), &host::<T>(&by_tiling[i]), &host::<T>(&want))?;
        }
        Ok(())
    });
}

/// The case's FeatureAblation of the two inputs (its masks, per example or not, or none).
fn ablation(c: &TwoInputs) -> PerInput<FeatureAblation> {
    PerInput::new((0..2).map(|i| match c.mask(i) {
        Some((shape, ids)) => FeatureAblation::new(FeatureMask::new(shape, ids).expect("a well-formed mask")),
        None => FeatureAblation::per_element(),
    }))
    .with_perturbations_per_eval(c.per_eval)
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// NoiseTunnel around several inputs: without noise it is the inner method bit for bit
/// (per-example masks and baselines follow the noisy rows, whatever the samples per call),
/// it makes the calls it announces, and noise on one input only leaves a linear model's map
/// of the other input as it was (the model is additive over the inputs) while moving its own.
pub fn noise_tunnel_of_several_inputs<T: TestBackend>() {
    check_strategy::<T, _>("noise_tunnel_of_several_inputs", two_inputs(), |c| {
        let t = Tensors::<T>::new(c);
        let (samples, batch) = (1 + (c.seed % 4) as usize, 1 + ((c.seed >> 8) % 4) as usize);
        let calls = Cell::new(0);
        let mut model = multi_model::<T::B>(c.model(), &calls);
        let plain = ablation(c).attribute(&mut model, &t.multi_inputs(c)).map_err(fail("FeatureAblation"))?;
        let tunnel = |stdevs: [f64; 2]| {
            NoiseTunnel::new(ablation(c))
                .with_samples(samples)
                .with_samples_batch_size(batch)
                .with_stdevs(stdevs)
                .with_seed(c.seed)
        };
        calls.set(0);
        let quiet = tunnel([0.0, 0.0]);
        let maps = quiet.attribute(&mut model, &t.multi_inputs(c)).map_err(fail("NoiseTunnel without noise"))?;
        let shapes = [c.input_shape(0), c.input_shape(1)];
        prop_assert_eq!(Some(calls.get()), MultiAttribution::<T::B>::model_calls(&quiet, &shapes).ok(), "model calls");
        for i in 0..2 {
            prop_assert_eq!(bits(&host::<T>(&maps[i])), bits(&host::<T>(&plain[i])), "input {} without noise", i);
        }
        if !c.mlp {
            // Windows, unlike global mask ids, never span two inputs.
            let windows = || {
                PerInput::new(
                    (0..2)
                        .map(|i| Occlusion::new(c.inputs[i].window.clone()).with_strides(c.inputs[i].strides.clone())),
                )
            };
            let plain = windows().attribute(&mut model, &t.multi_inputs(c)).map_err(fail("Occlusion"))?;
            let noisy = NoiseTunnel::new(windows())
                .with_type(NoiseTunnelType::SmoothGrad)
                .with_samples(samples)
                .with_samples_batch_size(batch)
                .with_stdevs([0.0, 0.7])
                .with_seed(c.seed);
            let maps = noisy.attribute(&mut model, &t.multi_inputs(c)).map_err(fail("NoiseTunnel"))?;
            check::<T>("input 0 without noise of its own", &host::<T>(&maps[0]), &host::<T>(&plain[0]))?;
            // Half precision may round a small weight's shift away: the move is checked from f32 on.
            let moved = max_abs_diff(&host::<T>(&maps[1]), &host::<T>(&plain[1]));
            // `max_abs_diff` is infinite for a NaN: a moved map must still be finite.
            prop_assert!(moved.is_finite(), "input 1's map under noise is not finite: {:?}", host::<T>(&maps[1]));
            prop_assert!(moved > 0.0 || T::TOLERANCE > 1e-4, "input 1's map did not move under noise");
        }
        Ok(())
    });
}

/// What cannot be run on several inputs is an error that names it, before any model call:
/// a method count that is not the input count, inputs of different batch sizes, methods with
/// different `P`, a baseline count that is not the input count, and the reference mode.
pub fn several_inputs_errors_name_the_problem<T: TestBackend>() {
    let a = tensor::<T>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = tensor::<T>(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let c = tensor::<T>(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let calls = Cell::new(0);
    let linear = HostModel::Linear { w: vec![1.0; 5], b: vec![0.0] };
    let mut model = multi_model::<T::B>(linear, &calls);
    let two = || MultiInputs::new([&a, &b]);
    type Outcome<B> = tiled_occlusion_core::Result<Vec<TensorOf<B>>>;
    let cases: Vec<(&str, Outcome<T::B>, &str)> = vec![
        ("one method for two inputs", PerInput::new([Occlusion::new([1])]).attribute(&mut model, &two()), "1 method"),
        (
            "batch sizes",
            PerInput::new([Occlusion::new([1]), Occlusion::new([1])])
                .attribute(&mut model, &MultiInputs::new([&a, &c])),
            "same batch size",
        ),
        (
            "different P",
            PerInput::new([Occlusion::new([1]), Occlusion::new([1]).with_perturbations_per_eval(2)])
                .attribute(&mut model, &two()),
            "different perturbations_per_eval",
        ),
        (
            "baselines",
            PerInput::new([Occlusion::new([1]), Occlusion::new([1])])
                .attribute(&mut model, &two().with_baselines([Baseline::Scalar(0.0)])),
            "1 baselines given for 2 inputs",
        ),
        (
            "reference mode",
            PerInput::new([
                TiledOcclusion::new([1], [1]).with_mode(TilingMode::Reference),
                TiledOcclusion::new([1], [1]),
            ])
            .attribute(&mut model, &two()),
            "reference mode explains one input",
        ),
    ];
    for (what, result, message) in cases {
        match result {
            Err(e) => assert!(e.to_string().contains(message), "{}: {what}: {e}", T::NAME),
            Ok(_) => panic!("{}: {what}: expected an error", T::NAME),
        }
    }
    assert_eq!(calls.get(), 0, "{}: no model call was made", T::NAME);
}

/// Several inputs at the edges: counts of huge per-input shapes are arithmetic, sums of
/// per-input sizes that do not fit a `usize` are [`Error::SizeOverflow`](tiled_occlusion_core::Error)
/// (never a wrapped count), and a `NaN` in one input stays where the model lets it reach:
/// class 1 reads only input 1, so its maps are exact; class 0 reads the `NaN`, so every drop of
/// its score is `NaN`, in both inputs, rather than a finite number.
pub fn several_inputs_at_the_edges<T: TestBackend>() {
    use tiled_occlusion_core::Error;
    let big = 1usize << 40;
    let two_occlusions = PerInput::new([Occlusion::new([1]), Occlusion::new([1])]);
    let counted = MultiAttribution::<T::B>::model_calls(&two_occlusions, &[vec![1, big], vec![1, big]]);
    assert_eq!(counted.ok(), Some(2 * big + 1), "{}: 2⁴⁰ windows per input", T::NAME);
    let tunnel = NoiseTunnel::new(two_occlusions.clone()).with_samples(5).with_samples_batch_size(1);
    let counted = MultiAttribution::<T::B>::model_calls(&tunnel, &[vec![1, big], vec![1, big]]);
    assert_eq!(counted.ok(), Some(5 * (2 * big + 1)), "{}: NoiseTunnel, one sample per batch", T::NAME);
    let half = 1usize << 63;
    let outcomes = [
        (
            "Occlusion on two inputs of 2⁶³ elements",
            MultiAttribution::<T::B>::model_calls(&two_occlusions, &[vec![1, half], vec![1, half]]),
        ),
        (
            "per-element FeatureAblation on inputs of usize::MAX and 1 elements",
            MultiAttribution::<T::B>::model_calls(
                &PerInput::new([FeatureAblation::per_element(), FeatureAblation::per_element()]),
                &[vec![1, usize::MAX], vec![1, 1]],
            ),
        ),
        (
            "an input of 2³² × 2³² elements",
            MultiAttribution::<T::B>::model_calls(
                &PerInput::new([Occlusion::new([1, 1]), Occlusion::new([1])]),
                &[vec![1, 1 << 32, 1 << 32], vec![1, 1]],
            ),
        ),
    ];
    for (what, outcome) in outcomes {
        match outcome {
            Err(Error::SizeOverflow { .. }) => {}
            other => panic!("{}: {what}: expected SizeOverflow, got {other:?}", T::NAME),
        }
    }

    // Class 0 = Σ input 0, class 1 = Σ input 1 (sums per input, so a NaN reaches class 0 only).
    let mut model = FnMultiModel::<T::B, _>::new(|xs: &[TensorOf<T::B>]| -> Result<TensorOf<T::B>, ModelError> {
        let rows = T::B::shape(&xs[0])[0];
        let sums: Vec<Vec<f64>> = xs
            .iter()
            .map(|x| {
                let v = T::B::to_f64_vec(x)?;
                let d = v.len() / rows.max(1);
                Ok((0..rows).map(|r| v[r * d..(r + 1) * d].iter().sum()).collect())
            })
            .collect::<tiled_occlusion_core::Result<_>>()?;
        let scores: Vec<f64> = (0..rows).flat_map(|r| [sums[0][r], sums[1][r]]).collect();
        Ok(T::B::from_f64_slice(&xs[0], &[rows, 2], &scores)?)
    });
    let a = tensor::<T>(&[1, 3], &[1.0, f64::NAN, 3.0]);
    let b = tensor::<T>(&[1, 2], &[4.0, -2.0]);
    let method = PerInput::new([Occlusion::new([1]), Occlusion::new([1])]);
    let inputs = |class| {
        MultiInputs::new([&a, &b])
            .with_baselines([Baseline::Scalar(0.0), Baseline::Scalar(1.0)])
            .with_target(Target::Class(class))
    };
    let maps = method.attribute(&mut model, &inputs(1)).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_eq!((host::<T>(&maps[0]), host::<T>(&maps[1])), (vec![0.0; 3], vec![3.0, -3.0]), "{}: class 1", T::NAME);
    let maps = method.attribute(&mut model, &inputs(0)).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    for (i, map) in maps.iter().enumerate() {
        let values = host::<T>(map);
        assert_eq!(values.len(), [3, 2][i], "{}: the map of input {i} has its input's shape", T::NAME);
        assert!(values.iter().all(|v| v.is_nan()), "{}: class 0 reads the NaN: input {i} {values:?}", T::NAME);
    }

    // A mask holding both ends of i64: the input without a mask gets ids after i64::MAX
    // (wrapped past i64::MIN, which is taken), not the ids of another input's group. They were
    // `max + i` (an overflow panic; wrapped, input 1's element merged into input 0's group
    // i64::MIN and both maps were wrong: [[3, 1], [3]]). Class 2 = Σ of both inputs, so each
    // element's drop is its own value (baseline 0).
    let mut sum_model = FnMultiModel::<T::B, _>::new(|xs: &[TensorOf<T::B>]| -> Result<TensorOf<T::B>, ModelError> {
        let rows = T::B::shape(&xs[0])[0];
        let mut scores = vec![0.0; rows];
        for x in xs {
            let v = T::B::to_f64_vec(x)?;
            let d = v.len() / rows.max(1);
            (0..rows).for_each(|r| scores[r] += v[r * d..(r + 1) * d].iter().sum::<f64>());
        }
        Ok(T::B::from_f64_slice(&xs[0], &[rows], &scores)?)
    });
    let a = tensor::<T>(&[1, 2], &[1.0, 1.0]);
    let b = tensor::<T>(&[1, 3], &[2.0, 5.0, -4.0]);
    let extremes = FeatureMask::new([2], vec![i64::MIN, i64::MAX]).expect("a mask");
    let method = PerInput::new([FeatureAblation::new(extremes), FeatureAblation::per_element()]);
    let maps = method
        .attribute(&mut sum_model, &MultiInputs::new([&a, &b]).with_target(Target::None))
        .unwrap_or_else(|e| panic!("{}: ids at the ends of i64: {e}", T::NAME));
    assert_eq!(
        (host::<T>(&maps[0]), host::<T>(&maps[1])),
        (vec![1.0, 1.0], vec![2.0, 5.0, -4.0]),
        "{}: every group its own drop",
        T::NAME
    );
    let counted = MultiAttribution::<T::B>::model_calls(&method, &[vec![1, 2], vec![1, 3]]);
    assert_eq!(counted.ok(), Some(1 + 5), "{}: 5 groups, one per call", T::NAME);
}

/// Stamps out the several-input cases for a marker `$backend` as `mod multi_input { #[test] fn
/// … }`; one part of [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! multi_input_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            multi_input,
            $backend,
            [
                feature_ablation_of_several_inputs_equals_the_packed_tensor,
                occlusion_of_one_input_holds_the_others_fixed,
                noise_tunnel_of_several_inputs,
                fusion_grad_of_several_inputs,
                several_inputs_errors_name_the_problem,
                several_inputs_at_the_edges,
            ]
        );
    };
}

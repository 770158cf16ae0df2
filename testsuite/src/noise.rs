//! The laws of NoiseTunnel and FusionGrad (SEMANTICS.md), for any backend.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tiled_occlusion_core::attribution::ProgressHook;
use tiled_occlusion_core::backend::{Backend, TensorOf};
use tiled_occlusion_core::{
    Attribution, Error, FeatureAblation, FeatureMask, Forward, FusionGrad, InputNoise, Inputs, NoiseTunnel,
    NoiseTunnelType, Occlusion, Result, TiledOcclusion, WeightNoise,
};

use crate::host_model::{HostForward, HostModel};
use crate::properties::check_strategy;
use crate::scenario::{scenarios, Scenario};
use crate::test_backend::{abs_diff, close, host, max_abs_diff, nan_as_inf, tensor, BoxedMethod, TestBackend};

/// A scenario with noise settings.
#[derive(Clone, Debug)]
pub struct NoiseScenario {
    /// The attribution scenario.
    pub s: Scenario,
    /// `S` (NoiseTunnel) and `m` (FusionGrad).
    pub samples: usize,
    /// Samples per call of the inner method.
    pub batch: usize,
    /// `n` (FusionGrad).
    pub weight_samples: usize,
    /// The noise seed.
    pub seed: u64,
}

fn noise_scenarios() -> impl Strategy<Value = NoiseScenario> {
    (scenarios(), 1..=4usize, 1..=4usize, 1..=3usize, any::<u64>())
        .prop_map(|(s, samples, batch, weight_samples, seed)| NoiseScenario { s, samples, batch, weight_samples, seed })
}

/// The inner method of a scenario: Occlusion or shifted TiledOcclusion, by its seed.
fn inner_method<B: Backend>(s: &Scenario) -> Box<dyn Attribution<B>> {
    if s.seed % 2 == 0 {
        Box::new(
            Occlusion::new(s.window.clone()).with_strides(s.strides.clone()).with_perturbations_per_eval(s.per_eval),
        )
    } else {
        Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(s.per_eval))
    }
}

/// Attributes with `method` on a fresh host model and returns the map as host data.
fn attribute<T: TestBackend>(
    method: &dyn Attribution<T::B>,
    model: HostModel,
    inputs: &Inputs<'_, T::B>,
) -> std::result::Result<Vec<f64>, TestCaseError> {
    let mut model = HostForward::<T::B>::new(model);
    match method.attribute(&mut model, inputs) {
        Ok(map) => Ok(host::<T>(&map)),
        Err(e) => Err(TestCaseError::fail(format!("attribute failed: {e}"))),
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// NoiseTunnel with no noise is the inner method, exactly: SmoothGrad gives `a`,
/// SmoothGradSq `a²` (up to the element type's rounding) and VarGrad `0`; FusionGrad with
/// `σ_w = σ_x = 0` gives `a` exactly.
pub fn no_noise_gives_the_inner_method<T: TestBackend>() {
    check_strategy::<T, _>("no_noise_gives_the_inner_method", noise_scenarios(), |c| {
        let s = &c.s;
        let t = s.tensors::<T>();
        let inputs = t.inputs(s.target());
        let inner = inner_method::<T::B>(s);
        let a = attribute::<T>(inner.as_ref(), s.host_model(), &inputs)?;
        let tunnel = |kind| {
            NoiseTunnel::new(inner_method::<T::B>(s))
                .with_type(kind)
                .with_samples(c.samples)
                .with_samples_batch_size(c.batch)
                .with_stdev(0.0)
                .with_seed(c.seed)
        };
        let smooth = attribute::<T>(&tunnel(NoiseTunnelType::SmoothGrad), s.host_model(), &inputs)?;
        prop_assert_eq!(bits(&smooth), bits(&a), "SmoothGrad without noise");
        let square = attribute::<T>(&tunnel(NoiseTunnelType::SmoothGradSq), s.host_model(), &inputs)?;
        let a2: Vec<f64> = a.iter().map(|v| v * v).collect();
        prop_assert!(close(&square, &a2, T::TOLERANCE), "SmoothGradSq without noise: {:?} vs {:?}", square, a2);
        let var = attribute::<T>(&tunnel(NoiseTunnelType::VarGrad), s.host_model(), &inputs)?;
        prop_assert!(var.iter().all(|v| *v == 0.0), "VarGrad without noise: {:?}", var);
        let fusion = FusionGrad::new(inner_method::<T::B>(s))
            .with_weight_samples(c.weight_samples)
            .with_input_samples(c.samples)
            .with_input_samples_batch_size(c.batch)
            .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
            .with_input_noise(InputNoise::Additive { stdev: 0.0 })
            .with_seed(c.seed);
        let fused = attribute::<T>(&fusion, s.host_model(), &inputs)?;
        prop_assert_eq!(bits(&fused), bits(&a), "FusionGrad without noise");
        Ok(())
    });
}

/// NoiseTunnel and FusionGrad pass a per-example feature mask `(N, d…)` (and the scenario's
/// baseline, per example in a quarter of the cases) through to the inner method whatever the
/// samples' batch size (4 samples in batches of 3 are inner calls on 3 and 1 copies of every
/// example): without noise they give FeatureAblation's map bit for bit, also nested, and
/// make the model calls they announce.
pub fn per_example_masks_follow_the_noisy_copies<T: TestBackend>() {
    check_strategy::<T, _>("per_example_masks_follow_the_noisy_copies", noise_scenarios(), |c| {
        let s = &c.s;
        let t = s.tensors::<T>();
        let inputs = t.inputs(s.target());
        let shape = s.input_shape();
        // Ids 0..3 drawn per position of every example: a group may be absent from an example.
        let ids: Vec<i64> = (0..shape.iter().product::<usize>())
            .map(|i| ((i as u64 ^ c.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 62) as i64 % 3)
            .collect();
        let mask = FeatureMask::new(shape.clone(), ids).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let inner = || FeatureAblation::new(mask.clone()).with_perturbations_per_eval(s.per_eval);
        let a = attribute::<T>(&inner(), s.host_model(), &inputs)?;
        let tunnel = |inner: Box<dyn Attribution<T::B>>| {
            NoiseTunnel::new(inner).with_samples(c.samples).with_samples_batch_size(c.batch).with_stdev(0.0)
        };
        let smooth = tunnel(Box::new(inner()));
        let mut model = HostForward::<T::B>::new(s.host_model());
        let map = smooth.attribute(&mut model, &inputs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bits(&host::<T>(&map)), bits(&a), "NoiseTunnel(FeatureAblation) without noise");
        let announced =
            Attribution::<T::B>::model_calls(&smooth, &shape).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(model.calls, announced, "model calls");
        let nested = tunnel(Box::new(tunnel(Box::new(inner()))));
        prop_assert_eq!(bits(&attribute::<T>(&nested, s.host_model(), &inputs)?), bits(&a), "nested NoiseTunnels");
        let fusion = FusionGrad::new(inner())
            .with_weight_samples(c.weight_samples)
            .with_input_samples(c.samples)
            .with_input_samples_batch_size(c.batch)
            .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
            .with_input_noise(InputNoise::Additive { stdev: 0.0 });
        prop_assert_eq!(bits(&attribute::<T>(&fusion, s.host_model(), &inputs)?), bits(&a), "FusionGrad");
        Ok(())
    });
}

/// With the same seed, the noise, and so the result, does not depend on how the samples are
/// batched (NoiseTunnel and FusionGrad), and a different seed changes it.
pub fn same_seed_same_result_whatever_the_batching<T: TestBackend>() {
    check_strategy::<T, _>("same_seed_same_result_whatever_the_batching", noise_scenarios(), |c| {
        let s = &c.s;
        let t = s.tensors::<T>();
        let inputs = t.inputs(s.target());
        let tunnel = |batch: usize, seed: u64| {
            NoiseTunnel::new(inner_method::<T::B>(s))
                .with_type(NoiseTunnelType::VarGrad)
                .with_samples(c.samples)
                .with_samples_batch_size(batch)
                .with_stdev(0.3)
                .with_seed(seed)
        };
        let one = attribute::<T>(&tunnel(1, c.seed), s.host_model(), &inputs)?;
        let other = attribute::<T>(&tunnel(c.batch, c.seed), s.host_model(), &inputs)?;
        prop_assert_eq!(bits(&one), bits(&other), "NoiseTunnel, batch 1 vs {}", c.batch);
        let fusion = |batch: usize| {
            FusionGrad::new(inner_method::<T::B>(s))
                .with_weight_samples(c.weight_samples)
                .with_input_samples(c.samples)
                .with_input_samples_batch_size(batch)
                .with_seed(c.seed)
        };
        let one = attribute::<T>(&fusion(1), s.host_model(), &inputs)?;
        let other = attribute::<T>(&fusion(c.batch), s.host_model(), &inputs)?;
        prop_assert_eq!(bits(&one), bits(&other), "FusionGrad, batch 1 vs {}", c.batch);
        Ok(())
    });
}

/// VarGrad is `E[a²] − E[a]²` of the same samples (SmoothGradSq and SmoothGrad with the same
/// seed), and never below `−1e-12 · scale`.
pub fn vargrad_is_mean_square_minus_square_mean<T: TestBackend>() {
    check_strategy::<T, _>("vargrad_is_mean_square_minus_square_mean", noise_scenarios(), |c| {
        let s = &c.s;
        let t = s.tensors::<T>();
        let inputs = t.inputs(s.target());
        let run = |kind| {
            let tunnel = NoiseTunnel::new(inner_method::<T::B>(s))
                .with_type(kind)
                .with_samples(c.samples + 1)
                .with_stdev(0.5)
                .with_seed(c.seed);
            attribute::<T>(&tunnel, s.host_model(), &inputs)
        };
        let (mean, square, var) =
            (run(NoiseTunnelType::SmoothGrad)?, run(NoiseTunnelType::SmoothGradSq)?, run(NoiseTunnelType::VarGrad)?);
        let expected: Vec<f64> = square.iter().zip(&mean).map(|(e2, e)| e2 - e * e).collect();
        let scale = square.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        prop_assert!(
            max_abs_diff(&var, &expected) <= T::TOLERANCE.max(1e-12) * scale * 4.0,
            "VarGrad {:?} vs E[a²] − E[a]² {:?}",
            var,
            expected
        );
        prop_assert!(var.iter().all(|v| *v >= -1e-12 * scale), "negative VarGrad {:?}", var);
        Ok(())
    });
}

/// A hook that remembers what it was told.
#[derive(Default)]
struct Recorder {
    calls: Vec<(usize, usize)>,
}

impl ProgressHook for Recorder {
    fn on_model_calls(&mut self, done: usize, total: usize) {
        self.calls.push((done, total));
    }
}

/// Progress counts every inner model call: the total is `model_calls`, the model is called
/// exactly that often, and `done` climbs one call at a time to the total.
pub fn progress_counts_every_inner_call<T: TestBackend>() {
    check_strategy::<T, _>("progress_counts_every_inner_call", noise_scenarios(), |c| {
        let s = &c.s;
        let t = s.tensors::<T>();
        let inputs = t.inputs(s.target());
        let methods: Vec<(&str, BoxedMethod<T>)> = vec![
            (
                "NoiseTunnel",
                Box::new(
                    NoiseTunnel::new(inner_method::<T::B>(s)).with_samples(c.samples).with_samples_batch_size(c.batch),
                ),
            ),
            (
                "FusionGrad",
                Box::new(
                    FusionGrad::new(inner_method::<T::B>(s))
                        .with_weight_samples(c.weight_samples)
                        .with_input_samples(c.samples)
                        .with_input_samples_batch_size(c.batch),
                ),
            ),
        ];
        for (name, method) in methods {
            let expected = method.model_calls(&s.input_shape()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut model = HostForward::<T::B>::new(s.host_model());
            let mut recorder = Recorder::default();
            method
                .attribute_with_progress(&mut model, &inputs, &mut recorder)
                .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(model.calls, expected, "{}: model calls", name);
            let want: Vec<(usize, usize)> = (1..=expected).map(|d| (d, expected)).collect();
            prop_assert_eq!(&recorder.calls, &want, "{}: progress", name);
        }
        Ok(())
    });
}

/// An inner method that panics after its first model call.
struct PanicsAfterOneCall;

impl<B: Backend> Attribution<B> for PanicsAfterOneCall {
    fn model_calls(&self, _input_shape: &[usize]) -> Result<usize> {
        Ok(1)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = B>,
        inputs: &Inputs<'_, B>,
        _progress: &mut dyn ProgressHook,
    ) -> Result<TensorOf<B>> {
        let _ = model.forward(inputs.input).map_err(Error::Model)?;
        panic!("the inner method panics on purpose");
    }
}

/// FusionGrad leaves every parameter bit-for-bit as it was: after success, after the model
/// returns an error mid-run, and after the inner method panics (caught here); and a model
/// without parameters is an error, not a panic.
pub fn fusion_grad_restores_parameters<T: TestBackend>() {
    let x = tensor::<T>(&[2, 6], &[0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 1.0, 2.0, -3.0, 0.5, 0.0, 1.25]);
    let linear = HostModel::Linear { w: (0..18).map(|i| f64::from(i) / 7.0 - 1.1).collect(), b: vec![0.1, -0.2, 0.3] };
    let inputs = Inputs::<T::B>::new(&x).with_target(tiled_occlusion_core::Target::Class(2));
    let fusion = FusionGrad::new(Occlusion::new([2])).with_weight_samples(3).with_input_samples(2).with_seed(9);
    let mut model = HostForward::<T::B>::new(linear.clone());
    let before = model.model.parameter_bits();

    let map = fusion.attribute(&mut model, &inputs).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_eq!(model.model.parameter_bits(), before, "{}: parameters changed by a successful call", T::NAME);
    let plain = Occlusion::new([2]).attribute(&mut model, &inputs).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert!(host::<T>(&map) != host::<T>(&plain), "{}: σ > 0 must change the attribution", T::NAME);

    model.fail_at_call = Some(model.calls + 7);
    match fusion.attribute(&mut model, &inputs) {
        Err(Error::Model(_)) => {}
        other => panic!("{}: expected a model error, got {:?}", T::NAME, other.map(|_| ())),
    }
    assert_eq!(model.model.parameter_bits(), before, "{}: parameters changed by a failing call", T::NAME);

    model.fail_at_call = None;
    let panicking = FusionGrad::new(PanicsAfterOneCall).with_weight_samples(2);
    let outcome = catch_unwind(AssertUnwindSafe(|| panicking.attribute(&mut model, &inputs)));
    assert!(outcome.is_err(), "{}: the panic propagates", T::NAME);
    assert_eq!(model.model.parameter_bits(), before, "{}: parameters changed by a panicking call", T::NAME);

    let mut custom = HostForward::<T::B>::new(HostModel::Custom { f: std::sync::Arc::new(|x| vec![x[0]]), outputs: 0 });
    let e = fusion.attribute(&mut custom, &Inputs::new(&x)).map(|_| ()).expect_err("no parameters");
    assert!(e.to_string().contains("parameters"), "{}: {e}", T::NAME);
}

/// The wrappers nest. For every pair (FusionGrad or NoiseTunnel around FusionGrad or
/// NoiseTunnel around Occlusion) the parameters are bit-for-bit what they were after a
/// success, a model error and a panic of the innermost method; and a wrapper with no noise and
/// one sample is the identity around the other, bit for bit — so FusionGrad(FusionGrad(M))
/// with a noiseless inner one equals FusionGrad(M), which holds only if every outer weight
/// sample starts from the original parameters (a single saved copy, overwritten by the inner
/// save, fails it).
pub fn nested_wrappers_restore_parameters_and_compose<T: TestBackend>() {
    let x = tensor::<T>(&[2, 6], &[0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 1.0, 2.0, -3.0, 0.5, 0.0, 1.25]);
    let linear = HostModel::Linear { w: (0..18).map(|i| f64::from(i) / 7.0 - 1.1).collect(), b: vec![0.1, -0.2, 0.3] };
    let inputs = Inputs::<T::B>::new(&x).with_target(tiled_occlusion_core::Target::Class(2));
    let occlusion = Occlusion::new([2]);
    let fusion =
        |seed: u64| FusionGrad::new(occlusion.clone()).with_weight_samples(3).with_input_samples(2).with_seed(seed);
    let tunnel = |seed: u64| NoiseTunnel::new(occlusion.clone()).with_samples(3).with_seed(seed);
    let pairs: Vec<(&str, BoxedMethod<T>)> = vec![
        (
            "FusionGrad(FusionGrad)",
            Box::new(FusionGrad::new(fusion(4)).with_weight_samples(2).with_input_samples(2).with_seed(5)),
        ),
        (
            "FusionGrad(NoiseTunnel)",
            Box::new(FusionGrad::new(tunnel(4)).with_weight_samples(2).with_input_samples(2).with_seed(5)),
        ),
        ("NoiseTunnel(FusionGrad)", Box::new(NoiseTunnel::new(fusion(4)).with_samples(2).with_seed(5))),
        ("NoiseTunnel(NoiseTunnel)", Box::new(NoiseTunnel::new(tunnel(4)).with_samples(2).with_seed(5))),
    ];
    for (name, method) in &pairs {
        let mut model = HostForward::<T::B>::new(linear.clone());
        let before = model.model.parameter_bits();
        method.attribute(&mut model, &inputs).unwrap_or_else(|e| panic!("{}: {name}: {e}", T::NAME));
        assert_eq!(model.model.parameter_bits(), before, "{}: {name}: parameters changed by a success", T::NAME);
        let total = method.model_calls(&[2, 6]).unwrap_or_else(|e| panic!("{}: {name}: {e}", T::NAME));
        assert!(total >= 4, "{}: {name}: {total} calls", T::NAME);
        for fail_at in [0, 1, total / 2, total - 1] {
            model.fail_at_call = Some(model.calls + fail_at);
            match method.attribute(&mut model, &inputs) {
                Err(Error::Model(_)) => {}
                other => panic!("{}: {name}: expected a model error, got {:?}", T::NAME, other.map(|_| ())),
            }
            assert_eq!(
                model.model.parameter_bits(),
                before,
                "{}: {name}: changed by an error at call {fail_at}",
                T::NAME
            );
        }
        model.fail_at_call = None;
    }
    let panicking: BoxedMethod<T> =
        Box::new(FusionGrad::new(FusionGrad::new(PanicsAfterOneCall).with_weight_samples(2)).with_weight_samples(2));
    let mut model = HostForward::<T::B>::new(linear.clone());
    let before = model.model.parameter_bits();
    assert!(catch_unwind(AssertUnwindSafe(|| panicking.attribute(&mut model, &inputs))).is_err());
    assert_eq!(model.model.parameter_bits(), before, "{}: parameters changed by a panic two wrappers deep", T::NAME);

    let original = linear.clone().parameter_bits();
    let run = |method: &dyn Attribution<T::B>| {
        let mut model = HostForward::<T::B>::new(linear.clone());
        let map = host::<T>(&method.attribute(&mut model, &inputs).unwrap_or_else(|e| panic!("{}: {e}", T::NAME)));
        assert_eq!(model.model.parameter_bits(), original, "{}: parameters changed", T::NAME);
        bits(&map)
    };
    let outer =
        FusionGrad::new(quiet_fusion(occlusion.clone())).with_weight_samples(3).with_input_samples(2).with_seed(8);
    assert_eq!(run(&outer), run(&fusion(8)), "{}: FusionGrad(noiseless FusionGrad(M)) = FusionGrad(M)", T::NAME);
    assert_eq!(
        run(&quiet_fusion(fusion(8))),
        run(&fusion(8)),
        "{}: noiseless FusionGrad(FusionGrad(M)) = FusionGrad(M)",
        T::NAME
    );
    assert_eq!(run(&quiet_fusion(tunnel(8))), run(&tunnel(8)), "{}: noiseless FusionGrad(NoiseTunnel(M))", T::NAME);
}

/// FusionGrad with one weight and one input sample and no noise: the identity around `m`.
fn quiet_fusion<M>(m: M) -> FusionGrad<M> {
    FusionGrad::new(m)
        .with_weight_samples(1)
        .with_input_samples(1)
        .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
        .with_input_noise(InputNoise::Additive { stdev: 0.0 })
}

/// Invalid noise settings are errors that name the setting.
pub fn invalid_noise_settings_are_errors<T: TestBackend>() {
    let x = tensor::<T>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let inputs = Inputs::<T::B>::new(&x);
    let sq = || HostForward::<T::B>::new(HostModel::Sq { a: vec![1.0; 3] });
    let tunnel = || NoiseTunnel::new(Occlusion::new([2]));
    let cases: Vec<(&str, BoxedMethod<T>)> = vec![
        ("NoiseTunnel::with_samples", Box::new(tunnel().with_samples(0))),
        ("NoiseTunnel::with_samples_batch_size", Box::new(tunnel().with_samples_batch_size(0))),
        ("input noise stdev", Box::new(tunnel().with_stdev(-1.0))),
        ("input noise stdev", Box::new(tunnel().with_stdev(f64::NAN))),
        ("noise", Box::new(tunnel().with_samples(2).with_noise(vec![0.0; 11]))),
        ("FusionGrad::with_weight_samples", Box::new(FusionGrad::new(Occlusion::new([2])).with_weight_samples(0))),
        (
            "weight noise stdev",
            Box::new(
                FusionGrad::new(Occlusion::new([2])).with_weight_noise(WeightNoise::Multiplicative { stdev: -0.1 }),
            ),
        ),
        (
            "weight noise mean",
            Box::new(
                FusionGrad::new(Occlusion::new([2]))
                    .with_weight_noise(WeightNoise::Additive { mean: f64::INFINITY, stdev: 0.1 }),
            ),
        ),
        ("window", Box::new(tunnel().inner().clone().with_strides(0))),
    ];
    for (setting, method) in cases {
        let outcome = catch_unwind(AssertUnwindSafe(|| method.attribute(&mut sq(), &inputs).map(|_| ())));
        match outcome {
            Ok(Err(e)) => {
                let message = e.to_string();
                let named = message.contains(setting) || (setting == "window" && message.contains("strides"));
                assert!(named, "{}: error for {setting} does not name it: {message}", T::NAME);
            }
            Ok(Ok(())) => panic!("{}: invalid {setting} accepted", T::NAME),
            Err(_) => panic!("{}: invalid {setting} panicked", T::NAME),
        }
    }
}

/// Captum 0.9.0's NoiseTunnel(Occlusion) with injected noise: model `Σ x²` per example,
/// input `[[1, 2, 3], [4, 5, 6]]`, window `(2,)`, 3 samples; noise rows `3n..3n+3` for
/// example `n`. SmoothGrad and SmoothGradSq are Captum's float32 numbers (1e-5 relative);
/// VarGrad was computed in f64 from the same noise (1e-6 relative in f64, 1e-3 in f32,
/// where the cancellation in `E[a²] − E[a]²` costs digits).
pub fn captum_noise_tunnel_parity<T: TestBackend>() {
    let noise = vec![
        0.19269153475761414,
        0.1487284153699875,
        -0.04973975569009781,
        0.04395892843604088,
        -0.07581311464309692,
        0.10783176869153976,
        0.0800800547003746,
        0.16806206107139587,
        0.03558599203824997,
        -0.06866230070590973,
        0.061046648770570755,
        0.13347378373146057,
        -0.02316243201494217,
        0.00417594937607646,
        -0.02515752986073494,
        0.08598585426807404,
        -0.0309726782143116,
        -0.03957105055451393,
    ];
    let expected = [
        (
            NoiseTunnelType::SmoothGrad,
            vec![
                5.566319942474365,
                9.549403190612793,
                13.532485961914062,
                41.1043815612793,
                51.250885009765625,
                61.39738845825195,
            ],
            1e-5,
        ),
        (
            NoiseTunnelType::SmoothGradSq,
            vec![
                31.28839111328125,
                91.3102035522461,
                183.2017059326172,
                1689.6173095703125,
                2627.058837890625,
                3771.370849609375,
            ],
            1e-5,
        ),
        (
            NoiseTunnelType::VarGrad,
            vec![
                0.30447617679124406,
                0.11912053763573738,
                0.07353109864564544,
                0.04733264699143547,
                0.4056944068388475,
                1.7315264403014226,
            ],
            if T::TOLERANCE <= 1e-6 { 1e-6 } else { 1e-3 },
        ),
    ];
    let x = tensor::<T>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    for (kind, want, tolerance) in expected {
        let tolerance: f64 = tolerance;
        if kind == NoiseTunnelType::VarGrad && T::TOLERANCE > 1e-4 {
            continue; // half precision cannot resolve these variances
        }
        let tunnel = NoiseTunnel::new(Occlusion::new([2])).with_type(kind).with_samples(3).with_noise(noise.clone());
        let mut model = HostForward::<T::B>::new(HostModel::Sq { a: vec![1.0; 3] });
        let map = tunnel.attribute(&mut model, &Inputs::new(&x)).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
        let got = host::<T>(&map);
        // A NaN (from the map, or a length that differs) is an infinite error, never dropped by
        // `f64::max`.
        let error = if got.len() == want.len() {
            got.iter().zip(&want).map(|(&g, &w)| abs_diff(g, w) / w.abs()).fold(0.0_f64, |m, e| m.max(nan_as_inf(e)))
        } else {
            f64::INFINITY
        };
        assert!(
            error <= tolerance.max(T::TOLERANCE),
            "{}: {kind:?}: max relative error {error:.3e}\n got {got:?}\nwant {want:?}",
            T::NAME
        );
    }
}

/// Stamps out the noise wrappers' cases for a marker `$backend` as `mod noise { #[test] fn …
/// }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! noise_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            noise,
            $backend,
            [
                no_noise_gives_the_inner_method,
                per_example_masks_follow_the_noisy_copies,
                same_seed_same_result_whatever_the_batching,
                vargrad_is_mean_square_minus_square_mean,
                progress_counts_every_inner_call,
                fusion_grad_restores_parameters,
                nested_wrappers_restore_parameters_and_compose,
                invalid_noise_settings_are_errors,
                captum_noise_tunnel_parity,
            ]
        );
    };
}

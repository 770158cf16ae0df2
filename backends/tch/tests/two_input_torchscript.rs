//! A TorchScript network of two inputs (an image and metadata) on the tch backend, against
//! Captum's Occlusion and FeatureAblation on the same tuple of inputs
//! (`scripts/fixtures/make_two_input_torchscript.py` made both files).

use std::path::PathBuf;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::{
    Baseline, FeatureAblation, FeatureMask, FusionGrad, InputNoise, InputXGradient, IntegratedGradients,
    MultiAttribution, MultiInputs, Occlusion, PerInput, Saliency, Target, WeightNoise,
};
use tiled_occlusion_tch::TorchScriptModel;
use tiled_occlusion_testsuite::fixtures::HostTensor;
use tiled_occlusion_testsuite::test_backend::max_abs_diff;

#[derive(Deserialize)]
struct Fixture {
    inputs: Vec<HostTensor>,
    baselines: Vec<f64>,
    target: Vec<usize>,
    windows: Vec<Vec<usize>>,
    strides: Vec<Vec<usize>>,
    masks: Vec<HostTensor>,
    occlusion: Vec<HostTensor>,
    feature_ablation: Vec<HostTensor>,
    saliency: Vec<HostTensor>,
    input_x_gradient: Vec<HostTensor>,
    ig_steps: usize,
    integrated_gradients: Vec<HostTensor>,
    ig_delta: Vec<f64>,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(fixtures().join("two_input_net_captum.json")).expect("the fixture file");
    serde_json::from_str(&text).expect("a two-input fixture")
}

fn tensor(t: &HostTensor, kind: Kind) -> Tensor {
    let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
    Tensor::from_slice(&t.data).reshape(shape).to_kind(kind)
}

/// `max |got − want| / max |want|` over both inputs' maps.
fn relative_error(got: &[Tensor], want: &[HostTensor]) -> f64 {
    let scale = want.iter().flat_map(|w| &w.data).fold(0.0_f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            assert_eq!(
                g.size().iter().map(|&d| d as usize).collect::<Vec<_>>(),
                w.shape,
                "a map has its input's shape"
            );
            let g = Vec::<f64>::try_from(g.to_kind(Kind::Double).flatten(0, -1)).expect("readable map");
            max_abs_diff(&g, &w.data) / scale
        })
        .fold(0.0, f64::max)
}

/// The network in `kind`.
fn network(kind: Kind) -> TorchScriptModel {
    let mut module =
        TorchScriptModel::load(fixtures().join("two_input_net.pt"), Device::Cpu).expect("the network").into_inner();
    module.to(Device::Cpu, kind, false);
    TorchScriptModel::new(module)
}

/// The fixture's tuple of inputs `x` with its baselines and targets.
fn tuple<'a>(f: &Fixture, x: &'a [Tensor]) -> MultiInputs<'a, tiled_occlusion_tch::Tch> {
    MultiInputs::new(x.iter())
        .with_baselines(f.baselines.iter().map(|&b| Baseline::Scalar(b)))
        .with_target(Target::PerExample(f.target.clone()))
}

fn run(kind: Kind) -> (f64, f64) {
    let f = fixture();
    let mut model = network(kind);
    let x: Vec<Tensor> = f.inputs.iter().map(|t| tensor(t, kind)).collect();
    let inputs = tuple(&f, &x);
    let occlusion =
        PerInput::new(f.windows.iter().zip(&f.strides).map(|(w, s)| Occlusion::new(w.clone()).with_strides(s.clone())))
            .with_perturbations_per_eval(4);
    let by_occlusion = occlusion.attribute(&mut model, &inputs).expect("Occlusion of two inputs");
    let masks = f.masks.iter().map(|m| {
        FeatureMask::new(m.shape.clone(), m.data.iter().map(|&v| v as i64).collect::<Vec<_>>()).expect("a mask")
    });
    let ablation = PerInput::new(masks.map(FeatureAblation::new));
    let by_ablation = ablation.attribute(&mut model, &inputs).expect("FeatureAblation of two inputs");
    assert!(by_ablation.iter().all(|a| a.kind() == kind), "the maps come back in the inputs' kind");
    (relative_error(&by_occlusion, &f.occlusion), relative_error(&by_ablation, &f.feature_ablation))
}

#[test]
fn double_network_of_two_inputs_matches_captum() {
    let (occlusion, ablation) = run(Kind::Double);
    println!("float64: Occlusion {occlusion:.3e}, FeatureAblation {ablation:.3e} relative to Captum");
    assert!(occlusion < 1e-6 && ablation < 1e-6, "Occlusion {occlusion:.3e}, FeatureAblation {ablation:.3e}");
}

#[test]
fn float_network_of_two_inputs_matches_captum() {
    let (occlusion, ablation) = run(Kind::Float);
    println!("float32: Occlusion {occlusion:.3e}, FeatureAblation {ablation:.3e} relative to Captum");
    assert!(occlusion < 1e-4 && ablation < 1e-4, "Occlusion {occlusion:.3e}, FeatureAblation {ablation:.3e}");
}

/// The network's parameters, flattened, in order.
fn weights(model: &TorchScriptModel) -> Vec<Vec<f64>> {
    model
        .module()
        .named_parameters()
        .expect("parameters")
        .iter()
        .map(|(_, t)| Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("readable"))
        .collect()
}

#[test]
fn fusion_grad_of_two_inputs_on_the_network() {
    let f = fixture();
    let mut model = network(Kind::Double);
    let x: Vec<Tensor> = f.inputs.iter().map(|t| tensor(t, Kind::Double)).collect();
    let inputs = tuple(&f, &x);
    let occlusion =
        PerInput::new(f.windows.iter().zip(&f.strides).map(|(w, s)| Occlusion::new(w.clone()).with_strides(s.clone())))
            .with_perturbations_per_eval(4);
    let plain = occlusion.attribute(&mut model, &inputs).expect("Occlusion of two inputs");
    let before = weights(&model);
    let fusion = |weight: f64, input: f64| {
        FusionGrad::new(occlusion.clone())
            .with_weight_samples(2)
            .with_input_samples(2)
            .with_weight_noise(WeightNoise::Multiplicative { stdev: weight })
            .with_input_noise(InputNoise::Additive { stdev: input })
            .with_seed(5)
    };
    // Without noise FusionGrad is the inner method (to rounding: libtorch's kernels differ
    // between the batch of N rows and the noisy batch of 2N).
    let quiet = fusion(0.0, 0.0).attribute(&mut model, &inputs).expect("FusionGrad without noise");
    let off = quiet.iter().zip(&plain).map(|(q, p)| (q - p).abs().max().double_value(&[])).fold(0.0, f64::max);
    assert!(off < 1e-12, "FusionGrad without noise is Occlusion ({off:e} apart)");
    // With noise the maps move, the parameters come back bit for bit, and the calls are as announced.
    let noisy = fusion(0.2, 0.05).attribute(&mut model, &inputs).expect("FusionGrad");
    assert_eq!(weights(&model), before, "the network's parameters are restored");
    let moved = noisy.iter().zip(&plain).map(|(n, p)| (n - p).abs().max().double_value(&[])).fold(0.0, f64::max);
    assert!(moved > 1e-4, "noise moved the maps ({moved:e})");
    let shapes: Vec<Vec<usize>> = x.iter().map(|t| t.size().iter().map(|&d| d as usize).collect()).collect();
    let per_tunnel = occlusion.model_calls(&shapes).expect("count");
    let count = MultiAttribution::<tiled_occlusion_tch::Tch>::model_calls(&fusion(0.2, 0.05), &shapes).expect("count");
    // The two input samples of each weight sample go in one noisy batch of 2N examples, whose
    // Occlusion makes as many calls as on N: n · that.
    assert_eq!(count, 2 * per_tunnel, "n · the calls of Occlusion on the noisy batch");
}

/// Saliency, InputXGradient and IntegratedGradients (Gauss–Legendre, the fixture's steps) of
/// both inputs at once against Captum's on the tuple, and IG's completeness delta.
#[test]
fn gradient_methods_of_two_inputs_match_captum() {
    let f = fixture();
    for (kind, bound, delta_bound) in [(Kind::Double, 1e-6, 1e-9), (Kind::Float, 1e-4, 1e-6)] {
        let mut model = network(kind);
        let x: Vec<Tensor> = f.inputs.iter().map(|t| tensor(t, kind)).collect();
        let inputs = tuple(&f, &x);
        let saliency = Saliency::new().attribute(&mut model, &inputs).expect("Saliency of two inputs");
        let ixg = InputXGradient::new().attribute(&mut model, &inputs).expect("InputXGradient of two inputs");
        let ig = IntegratedGradients::new().with_steps(f.ig_steps);
        let (maps, delta) = ig.attribute_several_with_delta(&mut model, &inputs).expect("IG of two inputs");
        let errors = [
            ("Saliency", relative_error(&saliency, &f.saliency)),
            ("InputXGradient", relative_error(&ixg, &f.input_x_gradient)),
            ("IntegratedGradients", relative_error(&maps, &f.integrated_gradients)),
        ];
        println!("{kind:?}: {errors:?} relative to Captum; delta {delta:?} vs Captum's {:?}", f.ig_delta);
        for (what, error) in errors {
            assert!(error < bound, "{kind:?} {what}: {error:e} relative to Captum");
        }
        for (ours, theirs) in delta.iter().zip(&f.ig_delta) {
            assert!((ours - theirs).abs() < delta_bound, "{kind:?} delta {ours} vs Captum's {theirs}");
        }
    }
}

//! Gradient methods on the TorchScript CNN against Captum on the same network, input, baseline
//! and targets (`scripts/fixtures/make_torchscript_fixture.py` made the fixture), and FusionGrad around
//! Integrated Gradients on it.

use std::path::PathBuf;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::{
    Attribution, Baseline, FusionGrad, InputNoise, InputXGradient, Inputs, IntegratedGradients, IntegrationRule,
    Saliency, Target, WeightNoise,
};
use tiled_occlusion_tch::{Tch, TorchScriptModel};
use tiled_occlusion_testsuite::small_cnn::{gradient_fixture, GradientFixture as Fixture};
use tiled_occlusion_testsuite::test_backend::max_abs_diff;

const RULES: [(&str, IntegrationRule); 5] = [
    ("riemann_left", IntegrationRule::RiemannLeft),
    ("riemann_right", IntegrationRule::RiemannRight),
    ("riemann_middle", IntegrationRule::RiemannMiddle),
    // Captum 0.9's trapezoid weights sum to (n−1)/n; `CaptumTrapezoid` reproduces them.
    ("riemann_trapezoid", IntegrationRule::CaptumTrapezoid),
    ("gausslegendre", IntegrationRule::GaussLegendre),
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

fn fixture() -> Fixture {
    gradient_fixture(&fixtures())
}

/// What the tests do with the fixture.
trait FixtureUse {
    fn input(&self, kind: Kind) -> Tensor;
    fn ig(&self, rule: IntegrationRule) -> IntegratedGradients;
}

impl FixtureUse for Fixture {
    fn input(&self, kind: Kind) -> Tensor {
        let shape: Vec<i64> = self.input.shape.iter().map(|&d| d as i64).collect();
        Tensor::from_slice(&self.input.data).reshape(shape).to_kind(kind)
    }

    fn ig(&self, rule: IntegrationRule) -> IntegratedGradients {
        IntegratedGradients::new()
            .with_steps(self.ig_steps)
            .with_rule(rule)
            .with_internal_batch_size(self.ig_internal_batch_size)
    }
}

fn model(kind: Kind) -> TorchScriptModel {
    let model = TorchScriptModel::load(fixtures().join("small_cnn.pt"), Device::Cpu).expect("model");
    let mut module = model.into_inner();
    module.to(Device::Cpu, kind, false);
    TorchScriptModel::new(module)
}

fn host(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("host copy")
}

fn relative_error(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    max_abs_diff(got, want) / scale
}

fn check(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    let error = relative_error(got, want);
    println!("{what}: max relative difference to Captum {error:.3e}");
    assert!(error < tolerance, "{what}: max relative difference to Captum {error:.3e}");
    assert!(want.iter().any(|v| v.abs() > 1e-4), "{what}: the reference is not trivially zero");
}

#[test]
fn saliency_and_input_x_gradient_match_captum() {
    let f = fixture();
    for (kind, suffix, tolerance) in [(Kind::Double, "float64", 1e-12), (Kind::Float, "float32", 1e-5)] {
        let mut model = model(kind);
        let x = f.input(kind);
        let inputs = Inputs::<Tch>::new(&x).with_target(Target::PerExample(f.target.clone()));
        let got = host(&Saliency::new().attribute(&mut model, &inputs).expect("saliency"));
        check(&format!("saliency {suffix}"), &got, f.captum(&format!("saliency_abs_{suffix}")), tolerance);
        if kind == Kind::Double {
            let got = host(&Saliency::signed().attribute(&mut model, &inputs).expect("signed saliency"));
            check("signed saliency float64", &got, f.captum("saliency_signed_float64"), tolerance);
            let got = host(&InputXGradient::new().attribute(&mut model, &inputs).expect("input x gradient"));
            check("input x gradient float64", &got, f.captum("input_x_gradient_float64"), tolerance);
        }
    }
}

#[test]
fn integrated_gradients_match_captum_for_every_rule() {
    let f = fixture();
    let mut model = model(Kind::Double);
    let x = f.input(Kind::Double);
    let inputs = Inputs::<Tch>::new(&x)
        .with_target(Target::PerExample(f.target.clone()))
        .with_baseline(Baseline::Scalar(f.baseline));
    for (name, rule) in RULES {
        // Captum rounds the step weights to float32 even for a float64 model
        // (`torch.tensor(step_sizes).float()`): exact for the Riemann weights 1/16 and 1/32,
        // a relative 6e-8 at most for the Gauss–Legendre ones, which we keep in f64.
        let tolerance = if rule == IntegrationRule::GaussLegendre { 1e-7 } else { 1e-10 };
        let (map, delta) = f.ig(rule).attribute_with_delta(&mut model, &inputs).expect("integrated gradients");
        check(&format!("IG {name} float64"), &host(&map), f.captum(&format!("ig_{name}_float64")), tolerance);
        let captum_delta = f.captum(&format!("ig_{name}_float64_delta"));
        println!("IG {name}: completeness delta ours {delta:?}, Captum {captum_delta:?}");
        assert!(max_abs_diff(&delta, captum_delta) < tolerance, "{name}: delta {delta:?} vs Captum {captum_delta:?}");
        assert!(delta.iter().all(|d| d.abs() < 1e-2), "{name}: the completeness delta {delta:?} is not small");
    }
    // The true trapezoidal rule has the same points and weights n/(n−1) times Captum's.
    let (map, delta) =
        f.ig(IntegrationRule::RiemannTrapezoid).attribute_with_delta(&mut model, &inputs).expect("trapezoid");
    let n = f.ig_steps as f64;
    let rescaled: Vec<f64> = f.captum("ig_riemann_trapezoid_float64").iter().map(|a| a * n / (n - 1.0)).collect();
    check("IG trapezoid (n/(n−1) × Captum's) float64", &host(&map), &rescaled, 1e-10);
    println!("IG trapezoid: completeness delta {delta:?}");
    assert!(delta.iter().all(|d| d.abs() < 1e-2), "trapezoid: the completeness delta {delta:?} is not small");
    let mut model = self::model(Kind::Float);
    let x = f.input(Kind::Float);
    let inputs = Inputs::<Tch>::new(&x)
        .with_target(Target::PerExample(f.target.clone()))
        .with_baseline(Baseline::Scalar(f.baseline));
    let (map, delta) = f.ig(IntegrationRule::GaussLegendre).attribute_with_delta(&mut model, &inputs).expect("IG");
    check("IG gausslegendre float32", &host(&map), f.captum("ig_gausslegendre_float32"), 1e-5);
    let captum_delta = f.captum("ig_gausslegendre_float32_delta");
    assert!(max_abs_diff(&delta, captum_delta) < 1e-5, "delta {delta:?} vs Captum {captum_delta:?}");
}

#[test]
fn the_completeness_delta_shrinks_with_more_steps() {
    let f = fixture();
    let mut model = model(Kind::Double);
    let x = f.input(Kind::Double);
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::PerExample(f.target.clone()));
    let mut worst = |steps: usize| -> f64 {
        let ig = IntegratedGradients::new().with_steps(steps).with_rule(IntegrationRule::RiemannTrapezoid);
        let (_, delta) = ig.attribute_with_delta(&mut model, &inputs).expect("IG");
        delta.iter().fold(0.0, |m, d| m.max(d.abs()))
    };
    let (coarse, fine) = (worst(8), worst(256));
    println!("worst completeness delta, trapezoid: 8 steps {coarse:.3e}, 256 steps {fine:.3e}");
    assert!(fine < coarse / 4.0, "8 steps: {coarse:.3e}, 256 steps: {fine:.3e}");
}

/// Every parameter's bits and whether it has a `.grad`, by name.
fn parameter_state(m: &TorchScriptModel) -> Vec<(String, Vec<u64>, bool)> {
    let mut named = m.module().named_parameters().expect("parameters");
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(name, t)| {
            let bits = host(&t.detach()).into_iter().map(f64::to_bits).collect();
            (name, bits, t.grad().defined())
        })
        .collect()
}

#[test]
fn fusion_grad_wraps_integrated_gradients_and_restores_the_network() {
    let f = fixture();
    let mut model = model(Kind::Double);
    let before = parameter_state(&model);
    assert!(before.iter().all(|(_, _, grad)| !grad), "no parameter has a gradient to begin with");
    let x = f.input(Kind::Double);
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::PerExample(f.target.clone()));
    let ig = IntegratedGradients::new().with_steps(8);
    let plain = host(&ig.attribute(&mut model, &inputs).expect("IG"));
    // Without noise, FusionGrad is the method it wraps.
    let quiet = FusionGrad::new(ig)
        .with_weight_samples(2)
        .with_input_samples(2)
        .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
        .with_input_noise(InputNoise::Additive { stdev: 0.0 });
    let got = host(&quiet.attribute(&mut model, &inputs).expect("FusionGrad without noise"));
    assert!(relative_error(&got, &plain) < 1e-12, "FusionGrad without noise is IG");
    // With the seed's settings it moves the map and leaves the network as it was, with no
    // gradient accumulated on any parameter.
    let noisy = FusionGrad::new(ig).with_weight_samples(3).with_input_samples(3).with_seed(5);
    let got = host(&noisy.attribute(&mut model, &inputs).expect("FusionGrad"));
    assert!(relative_error(&got, &plain) > 1e-3, "noise changes the map");
    assert_eq!(parameter_state(&model), before, "parameters and their gradients after FusionGrad(IG)");
}

#[test]
fn a_model_that_detaches_its_input_is_an_error() {
    let mut detached = tiled_occlusion_tch::model(|x: &Tensor| x.f_detach()?.f_sum_dim_intlist(1, false, Kind::Double));
    let x = Tensor::ones([2, 3], (Kind::Double, Device::Cpu));
    let e = Saliency::new().attribute(&mut detached, &Inputs::<Tch>::new(&x)).expect_err("an error");
    assert!(e.to_string().contains("not connected"), "{e}");
}

#[test]
fn parallel_torchscript_gives_the_sequential_maps_gradients_included() {
    use tiled_occlusion_core::Occlusion;
    let f = fixture();
    let x = f.input(Kind::Double);
    let inputs = Inputs::<Tch>::new(&x)
        .with_target(Target::PerExample(f.target.clone()))
        .with_baseline(Baseline::Scalar(f.baseline));
    let mut sequential = model(Kind::Double);
    let mut parallel = tiled_occlusion_tch::parallel_torchscript(model(Kind::Double).into_inner(), 2).expect("pool");
    let methods: [(&str, &dyn Attribution<Tch>); 3] = [
        ("occlusion", &Occlusion::new([3, 4, 4]).with_strides([3, 3, 3])),
        ("saliency", &Saliency::new()),
        ("integrated gradients", &f.ig(IntegrationRule::GaussLegendre)),
    ];
    for (name, method) in methods {
        let want = host(&method.attribute(&mut sequential, &inputs).expect("sequential"));
        let got = host(&method.attribute(&mut parallel, &inputs).expect("parallel"));
        assert!(relative_error(&got, &want) < 1e-12, "{name}: {:.3e}", relative_error(&got, &want));
    }
}

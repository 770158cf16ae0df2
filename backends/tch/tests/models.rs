//! The model adapters and device selection of the tch backend.

use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::{Attribution, Error, Inputs, Occlusion, Target};
use tiled_occlusion_tch::{device, model, ModuleModel, Tch};

#[test]
fn nn_module_linear_matches_analytic() {
    // y = x · Wᵀ: occluding x_i with 0 drops output c by W[c, i] · x_i.
    let vs = nn::VarStore::new(Device::Cpu);
    let mut linear = nn::linear(vs.root(), 3, 2, nn::LinearConfig { bias: true, ..Default::default() });
    tch::no_grad(|| {
        linear.ws.copy_(&Tensor::from_slice(&[1.0f32, 2.0, 3.0, -1.0, 0.5, 4.0]).reshape([2, 3]));
    });
    let mut m = ModuleModel::new(linear);
    let x = Tensor::from_slice(&[2.0f32, -1.0, 0.5]).reshape([1, 3]);
    let map = Occlusion::new([1])
        .attribute(&mut m, &Inputs::<Tch>::new(&x).with_target(Target::Class(1)))
        .expect("attribution");
    let got = Vec::<f32>::try_from(map.flatten(0, -1)).expect("host copy");
    // The (random) bias cancels in the drop, up to f32 rounding.
    for (g, e) in got.iter().zip([-2.0f32, -0.5, 2.0]) {
        assert!((g - e).abs() <= 1e-5, "{got:?}");
    }
    assert!(!x.requires_grad() && !map.requires_grad());
}

#[derive(Debug)]
struct Panics;

impl Module for Panics {
    fn forward(&self, xs: &Tensor) -> Tensor {
        // Mismatched shapes: libtorch raises and tch's infallible method panics.
        xs.matmul(&Tensor::zeros([7, 7], (Kind::Float, Device::Cpu)))
    }
}

#[test]
fn a_panicking_nn_module_is_an_error() {
    let x = Tensor::zeros([1, 3], (Kind::Float, Device::Cpu));
    match Occlusion::new([1]).attribute(&mut ModuleModel::new(Panics), &Inputs::<Tch>::new(&x)) {
        Err(Error::Model(e)) => assert!(e.to_string().contains("panicked"), "{e}"),
        other => panic!("expected a model error, got {:?}", other.map(|t| t.size())),
    }
}

#[test]
fn closures_run_without_gradients() {
    let w = Tensor::from_slice(&[1.0f64, 2.0]).set_requires_grad(true);
    let mut m = model(|x: &Tensor| {
        let y = (x * &w).f_sum_dim_intlist(1, false, Kind::Double)?;
        assert!(!y.requires_grad(), "the model runs under no_grad");
        Ok::<_, tch::TchError>(y)
    });
    let x = Tensor::from_slice(&[3.0f64, 4.0]).reshape([1, 2]);
    let map = Occlusion::new([1]).attribute(&mut m, &Inputs::<Tch>::new(&x)).expect("attribution");
    assert_eq!(Vec::<f64>::try_from(map.flatten(0, -1)).expect("host copy"), [3.0, 8.0]);
}

#[test]
fn integer_inputs_are_rejected_with_their_kind() {
    let x = Tensor::from_slice(&[1i64, 2, 3]).reshape([1, 3]);
    let mut m = model(|x: &Tensor| Ok::<_, tch::TchError>(x.shallow_clone()));
    let e = Occlusion::new([1]).attribute(&mut m, &Inputs::<Tch>::new(&x)).expect_err("an error");
    assert!(e.to_string().contains("Int64"), "{e}");
}

#[test]
fn devices_are_checked() {
    assert!(matches!(device("cpu"), Ok(Device::Cpu)));
    for (spec, needle) in [("tpu", "not a device"), ("cuda:x", "not a device number"), ("cpu:1", "not a device")] {
        let e = device(spec).expect_err("an error").to_string();
        assert!(e.contains(needle), "{spec}: {e}");
    }
    // `device` first (it loads libtorch's CUDA library), then libtorch's own answer agrees.
    match device("cuda") {
        Ok(cuda) => assert!(cuda == Device::Cuda(0) && tch::Cuda::is_available()),
        Err(e) => {
            assert!(e.to_string().contains("no CUDA device"), "{e}");
            assert!(!tch::Cuda::is_available());
        }
    }
}

/// `nn::linear(3 → 2)` with known weights `[[1, 2, 3], [-1, 0.5, 4]]` and a random bias.
fn known_linear(vs: &nn::VarStore) -> nn::Linear {
    let linear = nn::linear(vs.root(), 3, 2, nn::LinearConfig { bias: true, ..Default::default() });
    tch::no_grad(|| {
        let mut ws = linear.ws.shallow_clone();
        ws.copy_(&Tensor::from_slice(&[1.0f32, 2.0, 3.0, -1.0, 0.5, 4.0]).reshape([2, 3]));
    });
    linear
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).expect("host copy")
}

fn assert_near(got: &[f32], want: &[f32]) {
    assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-5), "{got:?} vs {want:?}");
}

#[test]
fn gradient_methods_run_on_nn_modules() {
    use tiled_occlusion_core::{IntegratedGradients, Saliency};
    let vs = nn::VarStore::new(Device::Cpu);
    let mut m = ModuleModel::new(known_linear(&vs));
    let x = Tensor::from_slice(&[2.0f32, -1.0, 0.5]).reshape([1, 3]);
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::Class(1));
    assert_eq!(values(&Saliency::new().attribute(&mut m, &inputs).expect("saliency")), [1.0, 0.5, 4.0]);
    assert_eq!(values(&Saliency::signed().attribute(&mut m, &inputs).expect("saliency")), [-1.0, 0.5, 4.0]);
    // IG from 0 on a linear model: x ⊙ w.
    let ig = IntegratedGradients::new().attribute(&mut m, &inputs).expect("IG");
    assert_near(&values(&ig), &[-2.0, -0.5, 2.0]);
    // Ordinary attributions still run without autograd.
    let occlusion = Occlusion::new([1]).attribute(&mut m, &inputs).expect("occlusion");
    assert!(!occlusion.requires_grad() && !ig.requires_grad());
    assert!(!vs.variables().values().any(|v| v.grad().defined()), "no parameter gets a gradient");
}

#[test]
fn fusion_grad_of_integrated_gradients_on_a_var_store_module() {
    use tiled_occlusion_core::{FusionGrad, InputNoise, IntegratedGradients, WeightNoise};
    use tiled_occlusion_tch::VarStoreModel;
    let vs = nn::VarStore::new(Device::Cpu);
    let linear = known_linear(&vs);
    let before: Vec<(String, Vec<f32>)> = vs.variables().into_iter().map(|(k, v)| (k, values(&v.detach()))).collect();
    let mut m = VarStoreModel::new(linear, vs);
    let x = Tensor::from_slice(&[2.0f32, -1.0, 0.5]).reshape([1, 3]);
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::Class(1));
    let ig = IntegratedGradients::new().with_steps(8);
    let quiet = FusionGrad::new(ig)
        .with_weight_samples(2)
        .with_input_samples(2)
        .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
        .with_input_noise(InputNoise::Additive { stdev: 0.0 });
    assert_near(&values(&quiet.attribute(&mut m, &inputs).expect("FusionGrad")), &[-2.0, -0.5, 2.0]);
    let noisy = FusionGrad::new(ig).with_weight_samples(4).with_input_samples(2).with_seed(9);
    let map = values(&noisy.attribute(&mut m, &inputs).expect("FusionGrad"));
    assert!(map.iter().zip([-2.0f32, -0.5, 2.0]).any(|(g, w)| (g - w).abs() > 1e-3), "noise moves the map: {map:?}");
    let after: Vec<(String, Vec<f32>)> =
        m.var_store().variables().into_iter().map(|(k, v)| (k, values(&v.detach()))).collect();
    let sorted = |mut v: Vec<(String, Vec<f32>)>| {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(sorted(after), sorted(before.clone()), "the weights are back, bit for bit");
    assert!(!m.var_store().variables().values().any(|v| v.grad().defined()), "no parameter gets a gradient");
    // Saves nest: FusionGrad inside FusionGrad gives the variables back too.
    let nested = FusionGrad::new(noisy).with_weight_samples(2).with_input_samples(1).attribute(&mut m, &inputs);
    assert!(values(&nested.expect("nested")).iter().all(|v| v.is_finite()));
    let after: Vec<(String, Vec<f32>)> =
        m.var_store().variables().into_iter().map(|(k, v)| (k, values(&v.detach()))).collect();
    assert_eq!(sorted(after), sorted(before), "after a nested FusionGrad");
}

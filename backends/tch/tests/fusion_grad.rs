//! FusionGrad on a real TorchScript network: it changes the map, converges as `n·m` grows,
//! and leaves every parameter bit-for-bit as it was, whatever happens inside.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::attribution::ProgressHook;
use tiled_occlusion_core::backend::TensorOf;
use tiled_occlusion_core::{Attribution, Error, Forward, FusionGrad, InputNoise, Inputs, Occlusion, Result, Target};
use tiled_occlusion_tch::{Tch, TorchScriptModel};

fn model() -> TorchScriptModel {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small_cnn.pt");
    TorchScriptModel::load(path, Device::Cpu).expect("model")
}

/// Every parameter's bits, by name.
fn parameter_bits(m: &TorchScriptModel) -> Vec<(String, Vec<u32>)> {
    let mut named = m.module().named_parameters().expect("parameters");
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(name, t)| {
            let values = Vec::<f32>::try_from(t.detach().flatten(0, -1)).expect("host copy");
            (name, values.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

fn image() -> Tensor {
    Tensor::linspace(-1.0, 1.0, 2 * 3 * 11 * 11, (Kind::Float, Device::Cpu)).reshape([2, 3, 11, 11]).sin()
}

fn host(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("host copy")
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn fusion(n: usize, m: usize, seed: u64) -> FusionGrad<Occlusion> {
    FusionGrad::new(Occlusion::new([3, 4, 4]).with_strides([3, 3, 3]))
        .with_weight_samples(n)
        .with_input_samples(m)
        .with_input_noise(InputNoise::Additive { stdev: 0.1 })
        .with_seed(seed)
}

#[test]
fn fusion_grad_differs_converges_and_restores() {
    let mut model = model();
    let before = parameter_bits(&model);
    let x = image();
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::PerExample(vec![1, 3]));
    let plain = host(&Occlusion::new([3, 4, 4]).with_strides([3, 3, 3]).attribute(&mut model, &inputs).expect("plain"));

    let mut spread = Vec::new();
    for (n, m) in [(2, 2), (8, 8)] {
        let a = host(&fusion(n, m, 1).attribute(&mut model, &inputs).expect("fusion"));
        let b = host(&fusion(n, m, 2).attribute(&mut model, &inputs).expect("fusion"));
        assert_eq!(parameter_bits(&model), before, "parameters after n = {n}, m = {m}");
        assert!(distance(&a, &plain) > 1e-3 * distance(&plain, &vec![0.0; plain.len()]), "σ > 0 changes the map");
        spread.push(distance(&a, &b));
    }
    println!("distance between two seeds: n·m = 4: {:.4e}, n·m = 64: {:.4e}", spread[0], spread[1]);
    // The spread of a mean of 64 samples is about 1/4 of that of 4 samples.
    assert!(spread[1] < 0.6 * spread[0], "no convergence: {spread:?}");
}

#[test]
fn parameters_are_restored_after_a_model_error() {
    let mut model = model();
    let before = parameter_bits(&model);
    let x = image();
    // Class 9 does not exist (4 outputs): the first call after the weights are perturbed fails.
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::Class(9));
    match fusion(2, 2, 3).attribute(&mut model, &inputs) {
        Err(Error::TargetOutOfRange { .. }) => {}
        other => panic!("expected a target error, got {:?}", other.map(|t| t.size())),
    }
    assert_eq!(parameter_bits(&model), before);
}

/// An inner method that panics after one model call (with perturbed weights).
struct Panics;

impl Attribution<Tch> for Panics {
    fn model_calls(&self, _: &[usize]) -> Result<usize> {
        Ok(1)
    }

    fn attribute_with_progress(
        &self,
        model: &mut dyn Forward<Backend = Tch>,
        inputs: &Inputs<'_, Tch>,
        _: &mut dyn ProgressHook,
    ) -> Result<TensorOf<Tch>> {
        let _ = model.forward(inputs.input).map_err(Error::Model)?;
        panic!("inner method panics on purpose");
    }
}

#[test]
fn parameters_are_restored_after_a_panic() {
    let mut model = model();
    let before = parameter_bits(&model);
    let x = image();
    let panicking = FusionGrad::new(Panics).with_weight_samples(2);
    let outcome = catch_unwind(AssertUnwindSafe(|| panicking.attribute(&mut model, &Inputs::<Tch>::new(&x))));
    assert!(outcome.is_err());
    assert_eq!(parameter_bits(&model), before);
}

#[test]
fn nested_fusion_grad_restores_the_parameters() {
    let mut model = model();
    let before = parameter_bits(&model);
    let x = image();
    let inputs = Inputs::<Tch>::new(&x).with_target(Target::PerExample(vec![1, 3]));
    let nested = FusionGrad::new(fusion(2, 1, 3)).with_weight_samples(2).with_input_samples(1).with_seed(4);
    let map = host(&nested.attribute(&mut model, &inputs).expect("nested"));
    assert!(map.iter().all(|v| v.is_finite()));
    assert_eq!(parameter_bits(&model), before);
    let panicking = FusionGrad::new(FusionGrad::new(Panics).with_weight_samples(2)).with_weight_samples(2);
    assert!(catch_unwind(AssertUnwindSafe(|| panicking.attribute(&mut model, &inputs))).is_err());
    assert_eq!(parameter_bits(&model), before);
}

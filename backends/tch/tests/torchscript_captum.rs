//! The tch backend on a real TorchScript CNN (convolutions, max pooling, ReLU, linear),
//! against Captum's Occlusion on the same network, input and settings
//! (`scripts/fixtures/make_torchscript_fixture.py` made both files).

use std::path::PathBuf;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::{Attribution, Baseline, Error, Inputs, Occlusion, Target};
use tiled_occlusion_tch::{Tch, TorchScriptModel};
use tiled_occlusion_testsuite::small_cnn::{occlusion_fixture, OcclusionFixture as Fixture};
use tiled_occlusion_testsuite::test_backend::max_abs_diff;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

fn fixture() -> Fixture {
    occlusion_fixture(&fixtures())
}

fn attribute(kind: Kind, f: &Fixture) -> Result<Vec<f64>, Error> {
    let mut model = TorchScriptModel::load(fixtures().join("small_cnn.pt"), Device::Cpu)?;
    let mut module = model.into_inner();
    module.to(Device::Cpu, kind, false);
    model = TorchScriptModel::new(module);
    let shape: Vec<i64> = f.input.shape.iter().map(|&d| d as i64).collect();
    let x = Tensor::from_slice(&f.input.data).reshape(shape).to_kind(kind);
    let inputs = Inputs::<Tch>::new(&x)
        .with_baseline(Baseline::Scalar(f.baseline))
        .with_target(Target::PerExample(f.target.clone()));
    let occlusion = Occlusion::new(f.window.clone()).with_strides(f.strides.clone());
    let map = occlusion.attribute(&mut model, &inputs)?;
    assert_eq!(map.kind(), kind, "the map comes back in the input's kind");
    Vec::<f64>::try_from(map.to_kind(Kind::Double).flatten(0, -1))
        .map_err(|e| Error::backend("tch: reading the map", e))
}

fn relative_error(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    max_abs_diff(got, want) / scale
}

#[test]
fn float_model_matches_captum() {
    let f = fixture();
    let got = attribute(Kind::Float, &f).expect("attribution");
    let error = relative_error(&got, &f.captum_float32.data);
    println!("float32: max relative difference to Captum {error:.3e}");
    assert!(error < 1e-5, "float32: max relative difference to Captum {error:.3e}");
    assert!(got.iter().any(|v| v.abs() > 1e-3), "the map is not trivially zero");
}

#[test]
fn double_model_matches_captum() {
    // Captum computes in float64 here but returns float32: agreement to float32 rounding.
    let f = fixture();
    let got = attribute(Kind::Double, &f).expect("attribution");
    let error = relative_error(&got, &f.captum_float64.data);
    println!("float64: max relative difference to Captum {error:.3e}");
    assert!(error < 1e-6, "float64: max relative difference to Captum {error:.3e}");
}

#[test]
fn a_failing_torchscript_model_is_an_error() {
    let mut model = TorchScriptModel::load(fixtures().join("small_cnn.pt"), Device::Cpu).expect("model");
    // Two input channels where the network expects three: libtorch raises, we return an error.
    let x = Tensor::zeros([1, 2, 11, 11], (Kind::Float, Device::Cpu));
    match Occlusion::new([2, 4, 4]).attribute(&mut model, &Inputs::<Tch>::new(&x)) {
        Err(Error::Model(e)) => assert!(!e.to_string().is_empty()),
        other => panic!("expected a model error, got {:?}", other.map(|t| t.size())),
    }
}

#[test]
fn a_missing_model_file_is_an_error() {
    let e = TorchScriptModel::load(fixtures().join("no_such_model.pt"), Device::Cpu).expect_err("an error");
    assert!(e.to_string().contains("no_such_model.pt"), "{e}");
}

//! Failures of libtorch keep tch's error as the source, and user mistakes are typed errors.

use std::error::Error as _;

use tch::{Device, Kind, Tensor};
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::{Attribution, Error, Inputs, Occlusion};
use tiled_occlusion_tch::{device, model, Tch, TorchScriptModel};

#[test]
fn a_failing_tensor_construction_keeps_tchs_error() {
    let like = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu));
    let e = Tch::from_f64_slice(&like, &[2, 2], &[1.0]).expect_err("4 positions, 1 value");
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().starts_with("tch: making the attribution tensor: "), "{e}");
    let source = e.source().and_then(|s| s.downcast_ref::<tch::TchError>());
    assert!(source.is_some(), "the source is tch's error: {:?}", e.source());
}

#[test]
fn a_missing_torchscript_file_names_the_file_and_keeps_the_cause() {
    let e = TorchScriptModel::load("no_such_model.pt", Device::Cpu).expect_err("no such file");
    assert!(e.to_string().contains("no_such_model.pt"), "{e}");
    assert!(e.source().and_then(|s| s.downcast_ref::<tch::TchError>()).is_some(), "{:?}", e.source());
}

#[test]
fn integer_inputs_are_an_unsupported_element_type() {
    let x = Tensor::from_slice(&[1i64, 2, 3]).reshape([1, 3]);
    let mut m = model(|x: &Tensor| Ok::<_, tch::TchError>(x.shallow_clone()));
    match Occlusion::new([1]).attribute(&mut m, &Inputs::<Tch>::new(&x)) {
        Err(Error::UnsupportedElementType { backend: "tch", found, .. }) => assert_eq!(found, "Int64"),
        other => panic!("expected an element-type error, got {:?}", other.map(|t| t.size())),
    }
}

#[test]
fn unknown_devices_are_device_errors() {
    match device("tpu") {
        Err(Error::Device { device, source: None, .. }) => assert_eq!(device, "tpu"),
        other => panic!("expected a device error, got {other:?}"),
    }
}

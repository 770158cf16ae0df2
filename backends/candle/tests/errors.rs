//! Failures of candle keep candle's error as the source, and user mistakes are typed errors.

use std::error::Error as _;

use candle_core::{DType, Device, Tensor};
use tiled_occlusion_candle::{device, model, Candle};
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::{Attribution, Error, Inputs, Occlusion};

#[test]
fn a_failing_tensor_construction_keeps_candles_error() {
    let like = Tensor::zeros((1, 2), DType::F32, &Device::Cpu).expect("tensor");
    let e = Candle::from_f64_slice(&like, &[2, 2], &[1.0]).expect_err("4 positions, 1 value");
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().starts_with("candle: making the attribution tensor: "), "{e}");
    let source = e.source().and_then(|s| s.downcast_ref::<candle_core::Error>());
    assert!(source.is_some(), "the source is candle's error: {:?}", e.source());
}

#[test]
fn integer_inputs_are_an_unsupported_element_type() {
    let x = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).expect("input");
    let mut m = model(|x: &Tensor| x.sum(1));
    match Occlusion::new([1]).attribute(&mut m, &Inputs::<Candle>::new(&x)) {
        Err(Error::UnsupportedElementType { backend: "candle", found, .. }) => assert_eq!(found, "U32"),
        other => panic!("expected an element-type error, got {:?}", other.map(|t| t.dims().to_vec())),
    }
}

#[test]
fn unknown_devices_are_device_errors() {
    match device("tpu") {
        Err(Error::Device { device, source: None, .. }) => assert_eq!(device, "tpu"),
        other => panic!("expected a device error, got {other:?}"),
    }
}

//! The model adapters and dtype handling of the candle backend.

use candle_core::{DType, Device, Tensor};
use tiled_occlusion_candle::{model, Candle, ModuleModel};
use tiled_occlusion_core::{Attribution, Error, Inputs, Occlusion, TiledOcclusion};

#[test]
fn a_failing_module_is_an_error() {
    // A module whose matmul does not fit the input: candle returns an error, we pass it on.
    let w = Tensor::zeros((7, 7), DType::F32, &Device::Cpu).expect("weights");
    let mut m = ModuleModel::new(candle_nn::Linear::new(w, None));
    let x = Tensor::zeros((1, 3), DType::F32, &Device::Cpu).expect("input");
    match Occlusion::new([1]).attribute(&mut m, &Inputs::<Candle>::new(&x)) {
        Err(Error::Model(e)) => assert!(!e.to_string().is_empty()),
        other => panic!("expected a model error, got {:?}", other.map(|t| t.dims().to_vec())),
    }
}

#[test]
fn integer_inputs_are_rejected_with_their_dtype() {
    let x = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).expect("input");
    let mut m = model(|x: &Tensor| x.sum(1));
    let e = Occlusion::new([1]).attribute(&mut m, &Inputs::<Candle>::new(&x)).expect_err("an error");
    assert!(e.to_string().contains("U32"), "{e}");
}

#[test]
fn half_precision_maps_come_back_in_the_input_dtype() {
    for dtype in [DType::F16, DType::BF16] {
        let x = Tensor::new(&[[1f32, 2., 3., 4.]], &Device::Cpu).and_then(|t| t.to_dtype(dtype)).expect("input");
        let mut sum = model(|x: &Tensor| x.sum(1));
        let map = TiledOcclusion::new([2], [2]).attribute(&mut sum, &Inputs::<Candle>::new(&x)).expect("attribution");
        assert_eq!(map.dtype(), dtype);
        let got = map.to_dtype(DType::F64).and_then(|t| t.to_vec2::<f64>()).expect("host copy");
        // Small integers and halves are exact in both half types.
        assert_eq!(got, [[2.0, 4.0, 6.0, 5.5]], "{dtype:?}");
    }
}

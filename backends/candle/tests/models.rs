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

#[test]
fn var_map_parameters_are_restored_after_success_and_after_an_error() {
    use candle_nn::{linear, VarBuilder, VarMap};
    use tiled_occlusion_candle::VarMapModel;
    use tiled_occlusion_core::{FusionGrad, Target};

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let layer = linear(6, 3, vb.pp("head")).expect("layer");
    let mut model = VarMapModel::new(layer, varmap);
    let bits = |m: &VarMapModel<candle_nn::Linear>| {
        let data = m.varmap().data().lock().expect("lock");
        let mut named: Vec<(String, Vec<u32>)> = data
            .iter()
            .map(|(name, var)| {
                let values = var.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("values");
                (name.clone(), values.into_iter().map(f32::to_bits).collect())
            })
            .collect();
        named.sort();
        named
    };
    let before = bits(&model);
    let x = Tensor::new(&[[0.5f32, -1., 2., 0.25, 1.5, -0.75]], &Device::Cpu).expect("input");
    let fusion = FusionGrad::new(Occlusion::new([2])).with_weight_samples(3).with_input_samples(2).with_seed(4);
    let fused = fusion.attribute(&mut model, &Inputs::<Candle>::new(&x).with_target(Target::Class(1))).expect("fusion");
    assert_eq!(bits(&model), before, "after success");
    let plain = Occlusion::new([2]).attribute(&mut model, &Inputs::<Candle>::new(&x).with_target(Target::Class(1)));
    let host = |t: &Tensor| t.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("values");
    assert_ne!(host(&fused), host(&plain.expect("plain")), "σ > 0 changes the map");
    let e = fusion.attribute(&mut model, &Inputs::<Candle>::new(&x).with_target(Target::Class(7)));
    assert!(matches!(e, Err(Error::TargetOutOfRange { .. })), "{:?}", e.map(|t| t.dims().to_vec()));
    assert_eq!(bits(&model), before, "after an error");
    // Saves nest: FusionGrad inside FusionGrad gives the variables back too.
    let nested = FusionGrad::new(fusion.clone()).with_weight_samples(2).with_input_samples(2).with_seed(5);
    nested.attribute(&mut model, &Inputs::<Candle>::new(&x).with_target(Target::Class(1))).expect("nested");
    assert_eq!(bits(&model), before, "after a nested FusionGrad");
}

#[test]
fn gradient_methods_run_on_modules_and_var_maps() {
    use candle_nn::{linear, Module, VarBuilder, VarMap};
    use tiled_occlusion_candle::VarMapModel;
    use tiled_occlusion_core::{FusionGrad, InputNoise, IntegratedGradients, Saliency, Target, WeightNoise};

    let host = |t: &Tensor| t.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("host copy");
    let w = Tensor::new(&[[1f32, 2., 3.], [-1., 0.5, 4.]], &Device::Cpu).expect("weights");
    let x = Tensor::new(&[[2f32, -1., 0.5]], &Device::Cpu).expect("input");
    let inputs = Inputs::<Candle>::new(&x).with_target(Target::Class(1));
    let mut module = ModuleModel::new(candle_nn::Linear::new(w.clone(), None));
    assert_eq!(host(&Saliency::new().attribute(&mut module, &inputs).expect("saliency")), [1.0, 0.5, 4.0]);
    let ig = IntegratedGradients::new().with_steps(8);
    let plain = host(&ig.attribute(&mut module, &inputs).expect("IG"));
    assert!(plain.iter().zip([-2.0f32, -0.5, 2.0]).all(|(g, e)| (g - e).abs() < 1e-5), "{plain:?}");

    // The same layer with its weights in a VarMap, so FusionGrad can perturb them.
    let mut varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let layer = linear(3, 2, vb.pp("head")).expect("layer");
    let bias = Tensor::zeros(2, DType::F32, &Device::Cpu).expect("bias");
    varmap.set([("head.weight", w), ("head.bias", bias)].into_iter()).expect("set");
    let mut model = VarMapModel::new(layer, varmap);
    let before: Vec<Vec<f32>> = model.varmap().all_vars().iter().map(|v| host(v.as_tensor())).collect();
    let quiet = FusionGrad::new(ig)
        .with_weight_samples(2)
        .with_input_samples(2)
        .with_weight_noise(WeightNoise::Multiplicative { stdev: 0.0 })
        .with_input_noise(InputNoise::Additive { stdev: 0.0 });
    assert_eq!(host(&quiet.attribute(&mut model, &inputs).expect("FusionGrad")), plain);
    let noisy = FusionGrad::new(ig).with_weight_samples(4).with_input_samples(2).with_seed(9);
    let map = host(&noisy.attribute(&mut model, &inputs).expect("FusionGrad"));
    assert!(map.iter().zip(&plain).any(|(g, p)| (g - p).abs() > 1e-3), "noise moves the map: {map:?}");
    let after: Vec<Vec<f32>> = model.varmap().all_vars().iter().map(|v| host(v.as_tensor())).collect();
    assert_eq!(after, before, "the weights are back, bit for bit");
    let _ = model.module().forward(&x).expect("the module still runs");
}

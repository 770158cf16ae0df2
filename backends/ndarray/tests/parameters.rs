//! `ArrayModel`'s saves nest: wrappers around wrappers give the weights back bit for bit.

use ndarray::{arr1, ArrayD, Axis, IxDyn};
use tiled_occlusion_core::model::Parameters;
use tiled_occlusion_core::{Attribution, FusionGrad, Inputs, NoiseTunnel, Occlusion};
use tiled_occlusion_ndarray::ArrayModel;

fn bits(m: &ArrayModel<f64, impl Sized>) -> Vec<u64> {
    m.parameters()["w"].iter().map(|v| v.to_bits()).collect()
}

/// The case the hostile-user run found: FusionGrad(FusionGrad(Occlusion)) on w = [1, −0, 3, 4]
/// left [1.23, −0, 3.68, 4.60], the inner save having overwritten the outer one.
#[test]
fn nested_fusion_grad_restores_the_weights() {
    let mut model =
        ArrayModel::new([("w".to_string(), arr1(&[1.0, -0.0, 3.0, 4.0]).into_dyn())], |p, x: &ArrayD<f64>| {
            Ok::<_, String>((x * &p["w"]).sum_axis(Axis(1)).insert_axis(Axis(1)))
        });
    let before = bits(&model);
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, -1.0, 0.5]).unwrap();
    let inputs = Inputs::new(&x);
    let inner = FusionGrad::new(Occlusion::new([1])).with_weight_samples(3).with_input_samples(2).with_seed(1);
    let nested = FusionGrad::new(inner.clone()).with_weight_samples(3).with_input_samples(2).with_seed(2);
    nested.attribute(&mut model, &inputs).unwrap();
    assert_eq!(bits(&model), before);
    NoiseTunnel::new(inner).with_samples(3).attribute(&mut model, &inputs).unwrap();
    assert_eq!(bits(&model), before);
}

#[test]
fn saves_form_a_stack_and_an_unmatched_restore_is_an_error() {
    let mut model = ArrayModel::new([("w".to_string(), arr1(&[1.0, 2.0]).into_dyn())], |_, x: &ArrayD<f64>| {
        Ok::<_, String>(x.clone())
    });
    let values = |m: &ArrayModel<f64, _>| m.parameters()["w"].iter().copied().collect::<Vec<_>>();
    model.save().unwrap();
    model.perturb(&mut |_, v| v.iter_mut().for_each(|x| *x += 10.0)).unwrap();
    model.save().unwrap();
    model.perturb(&mut |_, v| v.iter_mut().for_each(|x| *x *= 2.0)).unwrap();
    assert_eq!(values(&model), [22.0, 24.0]);
    model.restore().unwrap();
    assert_eq!(values(&model), [11.0, 12.0]);
    model.restore().unwrap();
    assert_eq!(values(&model), [1.0, 2.0]);
    let e = model.restore().expect_err("no save is pending");
    assert!(e.to_string().contains("restore called before save"), "{e}");
}

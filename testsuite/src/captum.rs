//! Captum's own unit-test results for Occlusion, as tests any backend must pass.

use std::sync::Arc;

use tiled_occlusion_core::{Attribution, Baseline, Inputs, Occlusion, Target};

use crate::host_model::{HostForward, HostModel};
use crate::test_backend::{close, host, tensor, TestBackend};

/// Captum's `BasicModel_MultiLayer`: identity 3→3; linear 3→4 (weights 1, bias
/// `[-10, 1, 1, 1]`); ReLU; linear 4→2 (weights 1, bias `[-1, 1]`).
fn basic_model_multilayer() -> HostModel {
    HostModel::Custom {
        f: Arc::new(|x: &[f64]| {
            let s: f64 = x.iter().sum();
            let h: f64 = [-10.0, 1.0, 1.0, 1.0].iter().map(|b| (s + b).max(0.0)).sum();
            vec![h - 1.0, h + 1.0]
        }),
        outputs: 2,
    }
}

/// The baseline of one Captum case, as host data.
enum CaseBaseline<'a> {
    Scalar(f64),
    Tensor(&'a [usize], &'a [f64]),
}

fn check<T: TestBackend>(
    name: &str,
    model: HostModel,
    (shape, input): (&[usize], &[f64]),
    method: Occlusion,
    baseline: CaseBaseline<'_>,
    target: Target,
    expected: &[f64],
) {
    let x = tensor::<T>(shape, input);
    let (b, scalar) = match baseline {
        CaseBaseline::Scalar(v) => (None, v),
        CaseBaseline::Tensor(s, d) => (Some(tensor::<T>(s, d)), 0.0),
    };
    let baseline = b.as_ref().map_or(Baseline::Scalar(scalar), Baseline::Tensor);
    let mut model = HostForward::<T::B>::new(model);
    let inputs = Inputs::new(&x).with_baseline(baseline).with_target(target);
    let out = match method.attribute(&mut model, &inputs) {
        Ok(out) => host::<T>(&out),
        Err(e) => panic!("{}: {name}: {e}", T::NAME),
    };
    assert!(
        close(&out, expected, T::TOLERANCE.max(1e-5)),
        "{}: {name}: got {out:?}, Captum gives {expected:?}",
        T::NAME
    );
}

/// Captum's `test_simple_multi_input_relu_conv`-style cases on `BasicModel_MultiLayer`.
pub fn captum_multilayer<T: TestBackend>() {
    let m = basic_model_multilayer;
    let one = [1, 3];
    let x = [20.0, 50.0, 30.0];
    let t = Target::Class(0);
    check::<T>(
        "window 1",
        m(),
        (&one, &x),
        Occlusion::new([1]),
        CaseBaseline::Scalar(0.0),
        t.clone(),
        &[80.0, 200.0, 120.0],
    );
    check::<T>(
        "window 2, baseline tensor 10",
        m(),
        (&one, &x),
        Occlusion::new([2]),
        CaseBaseline::Tensor(&[3], &[10.0, 10.0, 10.0]),
        t.clone(),
        &[200.0, 220.0, 240.0],
    );
    check::<T>(
        "window 2, strides 2",
        m(),
        (&one, &x),
        Occlusion::new([2]).with_strides(2),
        CaseBaseline::Scalar(0.0),
        t.clone(),
        &[280.0, 280.0, 120.0],
    );
    check::<T>(
        "batch of two, window 1",
        m(),
        (&[2, 3], &[2.0, 10.0, 3.0, 20.0, 50.0, 30.0]),
        Occlusion::new([1]),
        CaseBaseline::Scalar(0.0),
        t,
        &[8.0, 35.0, 12.0, 80.0, 200.0, 120.0],
    );
}

/// `Σ x ⊙ w`, `w = 1..12` as 3×4, two examples (`x1` is `x0` with its columns reversed),
/// window (2, 3), strides (1, 2), baseline 0.5.
pub fn captum_weighted_sum_2d<T: TestBackend>() {
    let w: Vec<f64> = (1..=12).map(f64::from).collect();
    let model = HostModel::Custom {
        f: Arc::new(move |x: &[f64]| vec![x.iter().zip(&w).map(|(a, b)| a * b).sum()]),
        outputs: 0,
    };
    let x0: Vec<f64> = (0..12).map(f64::from).collect();
    let x1: Vec<f64> = (0..3).flat_map(|r| (0..4).rev().map(move |c| f64::from(r * 4 + c))).collect();
    let input: Vec<f64> = x0.into_iter().chain(x1).collect();
    let expected = [
        88.0, 88.0, 96.5, 105.0, 214.0, 214.0, 213.5, 213.0, 340.0, 340.0, 330.5, 321.0, //
        104.0, 104.0, 81.5, 59.0, 242.0, 242.0, 196.5, 151.0, 380.0, 380.0, 311.5, 243.0,
    ];
    let method = Occlusion::new([2, 3]).with_strides([1, 2]);
    check::<T>(
        "weighted sum 2d",
        model,
        (&[2, 3, 4], &input),
        method,
        CaseBaseline::Scalar(0.5),
        Target::None,
        &expected,
    );
}

/// `[Σx, Σx²]`, target 1, input `[1, −2, 3, −4, 5, −6]`, window 3, strides 2.
pub fn captum_sum_and_squares<T: TestBackend>() {
    let model =
        HostModel::Custom { f: Arc::new(|x: &[f64]| vec![x.iter().sum(), x.iter().map(|v| v * v).sum()]), outputs: 2 };
    let input = [1.0, -2.0, 3.0, -4.0, 5.0, -6.0];
    let method = Occlusion::new([3]).with_strides(2);
    let expected = [14.0, 14.0, 32.0, 50.0, 55.5, 61.0];
    check::<T>(
        "sum and squares",
        model,
        (&[1, 6], &input),
        method,
        CaseBaseline::Scalar(0.0),
        Target::Class(1),
        &expected,
    );
}

/// Stamps out Captum's own Occlusion unit-test cases for a marker `$backend` as `mod captum {
/// #[test] fn … }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! captum_tests {
    ($backend:ty) => {
        $crate::suite_module!(captum, $backend, [captum_multilayer, captum_weighted_sum_2d, captum_sum_and_squares,]);
    };
}

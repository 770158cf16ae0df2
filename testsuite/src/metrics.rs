//! The faithfulness metrics on hand-computed cases, for any backend: a linear model
//! `Σ w_i x_i` (raw score) whose curves can be worked out on paper.

use tiled_occlusion_core::metrics::{gaussian_blur, DeletionInsertion, MapGeometry, RegionPerturbation, Score};

use crate::host_model::{HostForward, HostModel};
use crate::test_backend::{tensor, TestBackend};

fn sum_model<T: TestBackend>(d: usize) -> HostForward<T::B> {
    HostForward::new(HostModel::Linear { w: vec![1.0; d], b: vec![0.0] })
}

fn assert_all_close<T: TestBackend>(what: &str, got: &[f64], want: &[f64]) {
    let ok = got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= T::TOLERANCE.max(1e-12) * w.abs().max(1.0) * 4.0);
    assert!(ok, "{}: {what}: got {got:?}, want {want:?}", T::NAME);
}

/// Deletion on `x = [1, 2, 3, 4]`, attribution `[0.1, 0.4, 0.3, 0.2]` (ranking 1, 2, 3, 0),
/// 2 steps of 2 positions, baseline 0: scores `[10, 5, 0]`, AUC `(10+5)/2·½ + (5+0)/2·½ = 5`.
/// Insertion on `x = [0, 4, 0]` from its blur `b` (σ = ⅓, weights `e^{−4.5}, 1, e^{−4.5}`,
/// edges clamped), ranking 1, 0, 2, 3 steps: scores `[Σb, b0 + 4 + b2, 4 + b2, 4]`.
pub fn deletion_and_insertion_by_hand<T: TestBackend>() {
    let x = tensor::<T>(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
    let metric = DeletionInsertion { steps: 2, baseline: 0.0, blur_sigma: 0.0, batch: 2, score: Score::Raw };
    let curve = metric
        .deletion(&mut sum_model::<T>(4), &x, &[0.1, 0.4, 0.3, 0.2], &geometry, 0)
        .unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_all_close::<T>("deletion scores", &curve.scores, &[10.0, 5.0, 0.0]);
    assert_all_close::<T>("deletion AUC", &[curve.auc], &[5.0]);
    assert_eq!(curve.fractions, [0.0, 0.5, 1.0]);

    let x = tensor::<T>(&[1, 3], &[0.0, 4.0, 0.0]);
    let geometry = MapGeometry { example_shape: vec![3], channel_axis: None };
    let e = (-4.5f64).exp();
    let norm = 1.0 + 2.0 * e;
    let b = [4.0 * e / norm, 4.0 / norm, 4.0 * e / norm];
    let blurred = gaussian_blur(&[0.0, 4.0, 0.0], &geometry, 1.0 / 3.0).unwrap_or_else(|e| panic!("{e}"));
    assert_all_close::<T>("blur", &blurred, &b);
    assert!(gaussian_blur(&[0.0; 2], &geometry, 1.0).is_err(), "a wrong length is an error");
    let metric = DeletionInsertion { steps: 3, baseline: 0.0, blur_sigma: 1.0 / 3.0, batch: 3, score: Score::Raw };
    let curve = metric
        .insertion(&mut sum_model::<T>(3), &x, &[0.5, 0.9, 0.1], &geometry, 0)
        .unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_all_close::<T>("insertion scores", &curve.scores, &[b[0] + b[1] + b[2], b[0] + 4.0 + b[2], 4.0 + b[2], 4.0]);
}

/// AOPC on `x = [1, 2, 3, 4]` with patches of 2 and attribution `[0.1, 0.2, 0.3, 0.9]`
/// (patch sums 0.3 and 1.2): scores `[10, 3, 0]`, AOPC `((10−10) + (10−3) + (10−0)) / 3 = 17/3`.
/// With a channel axis, a position's channels are perturbed together and ranked by their sum.
pub fn aopc_by_hand<T: TestBackend>() {
    let x = tensor::<T>(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
    let metric = RegionPerturbation { patch: 2, regions: 2, baseline: 0.0, batch: 8, score: Score::Raw };
    let aopc = metric
        .aopc(&mut sum_model::<T>(4), &x, &[0.1, 0.2, 0.3, 0.9], &geometry, 0)
        .unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_all_close::<T>("AOPC", &[aopc], &[17.0 / 3.0]);

    // Shape (2 channels, 2 positions), channel axis 0: x = [[1, 2], [3, 4]]; position sums of
    // the attribution [[0.1, 0.5], [0.2, -0.1]] are 0.3 and 0.4, so position 1 (values 2 and
    // 4) goes first: scores [10, 4, 0], AOPC (0 + 6 + 10) / 3.
    let x = tensor::<T>(&[1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let geometry = MapGeometry { example_shape: vec![2, 2], channel_axis: Some(0) };
    assert_eq!(geometry.position_sums(&[0.1, 0.5, 0.2, -0.1]).map(|s| s.len()).ok(), Some(2));
    let metric = RegionPerturbation { patch: 1, regions: 2, baseline: 0.0, batch: 1, score: Score::Raw };
    let aopc = metric
        .aopc(&mut sum_model::<T>(4), &x, &[0.1, 0.5, 0.2, -0.1], &geometry, 0)
        .unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_all_close::<T>("AOPC with channels", &[aopc], &[16.0 / 3.0]);
    let bad = metric.aopc(&mut sum_model::<T>(4), &x, &[0.1, 0.5], &geometry, 0);
    assert!(bad.is_err(), "{}: a short attribution is an error", T::NAME);
}

/// Stamps out the metrics' hand-computed cases for a marker `$backend` as `mod metrics {
/// #[test] fn … }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! metrics_tests {
    ($backend:ty) => {
        $crate::suite_module!(metrics, $backend, [deletion_and_insertion_by_hand, aopc_by_hand,]);
    };
}

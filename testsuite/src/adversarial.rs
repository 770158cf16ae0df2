//! What a hostile user passes: sizes at the edges of `usize`, products that overflow,
//! non-finite inputs, baselines and outputs, metric settings that would exhaust the machine.
//! Every case is `Ok` with a value checked here or a typed error, and none allocates in
//! proportion to the sizes it is given (each case runs in milliseconds and megabytes; a
//! case that allocated or looped in proportion would abort or hang the test).

use tiled_occlusion_core::metrics::{gaussian_blur, normalized_total_variation, DeletionInsertion, MapGeometry, Score};
use tiled_occlusion_core::{
    Attribution, Baseline, Error, FeatureAblation, FusionGrad, Inputs, NoiseTunnel, Occlusion, Target, TiledOcclusion,
    TilingMode,
};

use crate::host_model::{HostForward, HostModel};
use crate::test_backend::{host, tensor, TestBackend};

fn calls<T: TestBackend>(method: &dyn Attribution<T::B>, shape: &[usize]) -> Result<usize, Error> {
    method.model_calls(shape)
}

fn expect_overflow<T: TestBackend>(what: &str, outcome: Result<usize, Error>) {
    match outcome {
        Err(Error::SizeOverflow { .. }) => {}
        other => panic!("{}: {what}: expected SizeOverflow, got {other:?}", T::NAME),
    }
}

/// Model-call counts of huge configurations are arithmetic (checked against the formulas
/// worked out here), and counts that do not fit a `usize` are [`Error::SizeOverflow`]:
/// before, each of these allocated gigabytes to terabytes, or wrapped.
pub fn extreme_sizes_are_counted_or_named_errors<T: TestBackend>() {
    let g = 1_000_000_000usize;
    // Window 10⁹, k 10⁹ on 8 positions: phase φ has ceil((8 + φ) / 10⁹) windows, 2 for the
    // last 7 phases: 10⁹ + 7 windows and the unperturbed call (it allocated 24 GB).
    assert_eq!(calls::<T>(&TiledOcclusion::new([g], [g]), &[1, 8]).ok(), Some(g + 8), "{}", T::NAME);
    // One window per element of 2⁴⁰ elements (it allocated the list of windows).
    let big = 1usize << 40;
    assert_eq!(calls::<T>(&Occlusion::new([1]), &[1, big]).ok(), Some(big + 1), "{}", T::NAME);
    assert_eq!(calls::<T>(&FeatureAblation::per_element(), &[1, big]).ok(), Some(big + 1), "{}", T::NAME);
    assert_eq!(
        calls::<T>(&FeatureAblation::per_element().with_perturbations_per_eval(1 << 20), &[3, big]).ok(),
        Some((1 << 20) + 1)
    );
    // 2⁸⁰ windows do not fit.
    expect_overflow::<T>("Occlusion on (1, 2⁴⁰, 2⁴⁰)", calls::<T>(&Occlusion::new([1, 1]), &[1, big, big]));
    expect_overflow::<T>(
        "FeatureAblation on (1, 2⁴⁰, 2⁴⁰)",
        calls::<T>(&FeatureAblation::per_element(), &[1, big, big]),
    );
    // Π k = 2⁶⁴ phases of one window each: it wrapped to 0 and gave Ok(NaN) or Ok(0).
    let tiled = TiledOcclusion::new([1 << 16; 4], [1 << 16; 4]);
    expect_overflow::<T>("TiledOcclusion with Π k = 2⁶⁴", calls::<T>(&tiled, &[1, 1, 1, 1, 1]));
    let x = tensor::<T>(&[1, 1, 1, 1, 1], &[2.0]);
    let mut model = HostForward::<T::B>::new(HostModel::Linear { w: vec![3.0], b: vec![0.0] });
    match tiled.attribute(&mut model, &Inputs::new(&x)) {
        Err(Error::SizeOverflow { .. }) => assert_eq!(model.calls, 0, "{}: the model is not called", T::NAME),
        other => panic!("{}: expected SizeOverflow, got {:?}", T::NAME, other.map(|m| host::<T>(&m))),
    }
    // Reference mode with a k far too large is named at once (it listed the phases first).
    let reference = TiledOcclusion::new([g], [g]).with_mode(TilingMode::Reference);
    assert!(matches!(calls::<T>(&reference, &[1, 8]), Err(Error::ReferencePhaseTooShort { .. })), "{}", T::NAME);
    // A dimension of usize::MAX positions padded by the step: `d + lo` overflowed (a panic in
    // debug builds; wrapped, a phase "too short" that was not).
    let reference = TiledOcclusion::new([2], [2]).with_mode(TilingMode::Reference);
    expect_overflow::<T>("reference mode on (1, usize::MAX)", calls::<T>(&reference, &[1, usize::MAX]));
    // Four phases on usize::MAX − 2 positions: the padded frame fits, and phase 3's bound
    // d + 3 overflowed; the four phases' 2⁶² windows each do not fit a usize together.
    let reference = TiledOcclusion::new([4], [4]).with_mode(TilingMode::Reference);
    expect_overflow::<T>("reference mode on (1, usize::MAX − 2)", calls::<T>(&reference, &[1, usize::MAX - 2]));
    // 2⁴⁰ samples asked in one batch: one partition; 2⁴⁰ partitions of one sample: counted,
    // not listed. By default a batch holds at most 2²⁴ values: 2²² samples of 4 values, so
    // 2¹⁸ partitions of 1 + 4 calls.
    let tunnel = NoiseTunnel::new(Occlusion::new([1])).with_samples(big).with_samples_batch_size(big);
    assert_eq!(calls::<T>(&tunnel, &[1, 4]).ok(), Some(5), "{}", T::NAME);
    let one_by_one = NoiseTunnel::new(Occlusion::new([1])).with_samples(big).with_samples_batch_size(1);
    assert_eq!(calls::<T>(&one_by_one, &[1, 4]).ok(), Some(5 * big), "{}", T::NAME);
    let by_default = NoiseTunnel::new(Occlusion::new([1])).with_samples(big);
    assert_eq!(calls::<T>(&by_default, &[1, 4]).ok(), Some(5 << 18), "{}", T::NAME);
    // Captum's default, all samples at once, while the batch is small: 5 samples, 1 + 4 calls.
    assert_eq!(calls::<T>(&NoiseTunnel::new(Occlusion::new([1])), &[1, 4]).ok(), Some(5), "{}", T::NAME);
    // N·S rows that do not fit (it wrapped, then reported 18446744073709551614 rows).
    expect_overflow::<T>("NoiseTunnel rows", calls::<T>(&tunnel, &[1 << 30, 4]));
    let fusion = FusionGrad::new(Occlusion::new([1])).with_weight_samples(usize::MAX).with_input_samples(1);
    expect_overflow::<T>("FusionGrad calls", calls::<T>(&fusion, &[1, 4]));
}

/// A NoiseTunnel batch too large to exist is an error before the model is called (it tried
/// to allocate 2⁴⁰ noisy copies).
pub fn huge_noise_batches_are_errors_before_any_call<T: TestBackend>() {
    let x = tensor::<T>(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let mut model = HostForward::<T::B>::new(HostModel::Linear { w: vec![1.0; 4], b: vec![0.0] });
    let tunnel = NoiseTunnel::new(Occlusion::new([1])).with_samples(1 << 40).with_samples_batch_size(1 << 40);
    match tunnel.attribute(&mut model, &Inputs::new(&x)) {
        Err(Error::TooLargeToAllocate { .. }) => assert_eq!(model.calls, 0, "{}", T::NAME),
        other => panic!("{}: expected TooLargeToAllocate, got {:?}", T::NAME, other.map(|m| host::<T>(&m))),
    }
}

/// Non-finite values give the map their arithmetic implies, exactly where it implies it: on
/// `y = Σ w_i x_i`, Occlusion with window 1 gives `x_i w_i − b_i w_i`; an infinite baseline
/// element gives ∓inf there and exact values elsewhere, a NaN one NaN there only; a NaN in
/// the input makes the unperturbed score NaN, so every drop is NaN.
pub fn non_finite_values_stay_where_they_belong<T: TestBackend>() {
    let w = [1.0, -2.0, 0.5, 3.0];
    let xs = [1.0, 2.0, -1.0, 0.5];
    let x = tensor::<T>(&[1, 4], &xs);
    let linear = || HostForward::<T::B>::new(HostModel::Linear { w: w.to_vec(), b: vec![0.0] });
    let baseline = tensor::<T>(&[1, 4], &[0.0, 0.0, f64::INFINITY, f64::NAN]);
    let inputs = Inputs::new(&x).with_baseline(Baseline::Tensor(&baseline)).with_target(Target::Class(0));
    let map = host::<T>(
        &Occlusion::new([1]).attribute(&mut linear(), &inputs).unwrap_or_else(|e| panic!("{}: {e}", T::NAME)),
    );
    for i in 0..2 {
        let want = xs[i] * w[i];
        assert!((map[i] - want).abs() <= T::TOLERANCE * 4.0, "{}: element {i}: {} vs {want}", T::NAME, map[i]);
    }
    assert_eq!(map[2], f64::NEG_INFINITY, "{}: the infinite baseline element", T::NAME);
    assert!(map[3].is_nan(), "{}: the NaN baseline element", T::NAME);

    let with_nan = tensor::<T>(&[1, 4], &[1.0, f64::NAN, -1.0, 0.5]);
    let map = Occlusion::new([2]).attribute(&mut linear(), &Inputs::new(&with_nan).with_target(Target::Class(0)));
    let map = host::<T>(&map.unwrap_or_else(|e| panic!("{}: {e}", T::NAME)));
    assert!(map.iter().all(|v| v.is_nan()), "{}: {map:?}", T::NAME);
}

/// Metric settings that would exhaust the machine are named errors: a blur kernel of σ = 10⁹
/// (it allocated 48 GB), more steps than positions, shapes whose size does not fit, an empty
/// example (whose error named the channel axis).
pub fn metric_extremes_are_errors<T: TestBackend>() {
    let geometry = MapGeometry { example_shape: vec![4], channel_axis: None };
    match gaussian_blur(&[1.0; 4], &geometry, 1e9) {
        Err(Error::OutOfRange { setting, .. }) => assert!(setting.contains("sigma"), "{setting}"),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    assert!(gaussian_blur(&[1.0; 4], &geometry, 1000.0).is_ok());
    let huge = [1usize << 40, 1 << 40, 1 << 40];
    assert!(matches!(normalized_total_variation(&[1.0; 4], &huge), Err(Error::SizeOverflow { .. })));
    let empty = MapGeometry { example_shape: vec![4, 0], channel_axis: None };
    match gaussian_blur(&[], &empty, 1.0) {
        Err(Error::InvalidSetting { setting, .. }) => assert_eq!(setting, "MapGeometry::example_shape"),
        other => panic!("expected InvalidSetting, got {other:?}"),
    }

    let x = tensor::<T>(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let mut model = HostForward::<T::B>::new(HostModel::Linear { w: vec![1.0; 4], b: vec![0.0] });
    let attribution = [0.4, 0.3, 0.2, 0.1];
    let steps = |steps| DeletionInsertion { steps, baseline: 0.0, blur_sigma: 0.0, batch: 3, score: Score::Raw };
    for too_many in [5, 1_000_000, usize::MAX] {
        match steps(too_many).deletion(&mut model, &x, &attribution, &geometry, 0) {
            Err(Error::TooLarge { value, maximum: 4, .. }) => assert_eq!(value, too_many),
            other => panic!("{}: {too_many} steps: expected TooLarge, got {:?}", T::NAME, other.map(|c| c.scores)),
        }
    }
    assert_eq!(model.calls, 0, "{}", T::NAME);
    // One position per step, deleted in the order 0, 1, 2, 3: sums 10, 9, 7, 4, 0.
    let curve = steps(4).deletion(&mut model, &x, &attribution, &geometry, 0).unwrap_or_else(|e| panic!("{e}"));
    let want = [10.0, 9.0, 7.0, 4.0, 0.0];
    assert!(curve.scores.iter().zip(want).all(|(g, w)| (g - w).abs() <= T::TOLERANCE * 16.0), "{:?}", curve.scores);
    assert_eq!(model.calls, 2, "{}: five points in batches of three", T::NAME);
}

/// Stamps out the adversarial cases for a marker `$backend` as `mod adversarial { #[test] fn
/// … }`; one part of [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! adversarial_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            adversarial,
            $backend,
            [
                extreme_sizes_are_counted_or_named_errors,
                huge_noise_batches_are_errors_before_any_call,
                non_finite_values_stay_where_they_belong,
                metric_extremes_are_errors,
            ]
        );
    };
}

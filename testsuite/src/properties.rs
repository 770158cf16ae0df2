//! The laws of SEMANTICS.md as proptest properties, generic over the backend under test.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tiled_occlusion_core::{
    Aggregation, Attribution, Baseline, FeatureAblation, FeatureMask, Inputs, Occlusion, Target, TiledOcclusion,
    TilingMode,
};

use crate::host_model::{HostForward, HostModel};
use crate::oracle;
use crate::scenario::{scenarios, BaselineKind, ModelKind, Scenario, CLASSES};
use crate::test_backend::{close, host, max_abs_diff, tensor, BoxedMethod, TestBackend};

/// Runs `property` on random scenarios (256 cases unless `PROPTEST_CASES` says otherwise).
pub fn check_scenarios<T: TestBackend>(name: &str, property: impl Fn(&Scenario) -> Result<(), TestCaseError>) {
    check_strategy::<T, _>(name, scenarios(), property)
}

/// Runs `property` on values of `strategy`.
pub fn check_strategy<T: TestBackend, S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(&S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config { failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |v| property(&v)) {
        panic!("{}: property {name} failed: {e}", T::NAME);
    }
}

/// Attributes with `method` and returns the map as host data, with the model's call and
/// row counts.
pub fn run<T: TestBackend>(
    method: &dyn Attribution<T::B>,
    model: HostModel,
    inputs: &Inputs<'_, T::B>,
) -> Result<(Vec<f64>, usize, usize), TestCaseError> {
    let mut model = HostForward::<T::B>::new(model);
    let out =
        method.attribute(&mut model, inputs).map_err(|e| TestCaseError::fail(format!("attribute failed: {e}")))?;
    Ok((host::<T>(&out), model.calls, model.rows))
}

fn assert_close<T: TestBackend>(what: &str, a: &[f64], b: &[f64]) -> Result<(), TestCaseError> {
    prop_assert!(close(a, b, T::TOLERANCE), "{what}: max difference {} \n  got {a:?}\n want {b:?}", max_abs_diff(a, b));
    Ok(())
}

/// TiledOcclusion with `k = 1` equals Occlusion with strides = window, in both modes.
pub fn k1_equals_occlusion<T: TestBackend>() {
    check_scenarios::<T>("k1_equals_occlusion", |s| {
        let t = s.tensors::<T>();
        let occlusion = Occlusion::new(s.window.clone()).with_strides(s.window.clone());
        let (expected, ..) = run::<T>(&occlusion, s.host_model(), &t.inputs(s.target()))?;
        let shifted = TiledOcclusion::new(s.window.clone(), 1).with_perturbations_per_eval(s.per_eval);
        let (got, ..) = run::<T>(&shifted, s.host_model(), &t.inputs(s.target()))?;
        assert_close::<T>("shifted k=1", &got, &expected)?;
        let (expected, ..) = run::<T>(&occlusion, s.host_model(), &t.inputs_scalar(s.target()))?;
        let reference = TiledOcclusion::new(s.window.clone(), 1).with_mode(TilingMode::Reference);
        let (got, ..) = run::<T>(&reference, s.host_model(), &t.inputs_scalar(s.target()))?;
        assert_close::<T>("reference k=1", &got, &expected)
    });
}

/// Shifted mode with mean equals Occlusion at strides `w/k` on every position at least
/// `w − w/k` from both borders.
pub fn shifted_mean_equals_occlusion_in_interior<T: TestBackend>() {
    check_scenarios::<T>("shifted_mean_equals_occlusion_in_interior", |s| {
        let t = s.tensors::<T>();
        let steps: Vec<usize> = s.window.iter().zip(&s.k).map(|(w, k)| w / k).collect();
        let occlusion = Occlusion::new(s.window.clone()).with_strides(steps.clone());
        let (expected, ..) = run::<T>(&occlusion, s.host_model(), &t.inputs(s.target()))?;
        let tiled = TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(s.per_eval);
        let (got, ..) = run::<T>(&tiled, s.host_model(), &t.inputs(s.target()))?;
        let margin: Vec<usize> = s.window.iter().zip(&steps).map(|(w, s)| w - s).collect();
        let size = s.size();
        let interior: Vec<usize> = (0..s.examples * size)
            .filter(|&i| {
                let index = oracle::unravel(i % size, &s.shape);
                index.iter().zip(&s.shape).zip(&margin).all(|((&p, &d), &m)| p >= m && d - 1 - p >= m)
            })
            .collect();
        let pick = |v: &[f64]| interior.iter().map(|&i| v[i]).collect::<Vec<_>>();
        assert_close::<T>("interior", &pick(&got), &pick(&expected))
    });
}

/// Occlusion and both tiled modes equal the analytic result on linear models.
pub fn linear_models_match_analytic<T: TestBackend>() {
    let linear = scenarios().prop_map(|mut s| {
        s.model = ModelKind::Linear;
        s
    });
    check_strategy::<T, _>("linear_models_match_analytic", linear, |s| {
        let t = s.tensors::<T>();
        let x = host::<T>(&t.input);
        let b = s.baseline_values();
        let b = match &t.baseline {
            Some(bt) if s.baseline == BaselineKind::PerExample => host::<T>(bt),
            Some(bt) => host::<T>(bt).repeat(s.examples),
            None => b,
        };
        let w: Vec<f64> = s.linear_weights().unwrap_or_default();
        let target = s.target();
        let size = s.size();
        let per_example = |f: &dyn Fn(usize, &[f64]) -> Vec<f64>| -> Vec<f64> {
            (0..s.examples)
                .flat_map(|n| {
                    let g = oracle::linear_gain(&w, CLASSES, &target, n);
                    let c: Vec<f64> = (0..size).map(|p| g[p] * (x[n * size + p] - b[n * size + p])).collect();
                    f(n, &c)
                })
                .collect()
        };

        let windows = oracle::occlusion_windows(&s.shape, &s.window, &s.strides);
        let expected = per_example(&|_, c| oracle::linear_occlusion(c, &s.shape, &windows));
        let occlusion =
            Occlusion::new(s.window.clone()).with_strides(s.strides.clone()).with_perturbations_per_eval(s.per_eval);
        let (got, ..) = run::<T>(&occlusion, s.host_model(), &t.inputs(target.clone()))?;
        assert_close::<T>("occlusion", &got, &expected)?;

        for (aggregation, mean) in [(Aggregation::Mean, true), (Aggregation::Sum, false)] {
            let expected = per_example(&|_, c| oracle::linear_shifted(c, &s.shape, &s.window, &s.k, mean));
            let tiled = TiledOcclusion::new(s.window.clone(), s.k.clone())
                .with_aggregation(aggregation)
                .with_perturbations_per_eval(s.per_eval);
            let (got, ..) = run::<T>(&tiled, s.host_model(), &t.inputs(target.clone()))?;
            assert_close::<T>("shifted", &got, &expected)?;
        }

        // Reference mode with k_r ≤ 2, so that every phase keeps the input's shape.
        let k: Vec<usize> = s
            .window
            .iter()
            .zip(&s.k)
            .map(|(&w, &k)| match k {
                1 | 2 => k,
                _ if w % 2 == 0 => 2,
                _ => 1,
            })
            .collect();
        let expected: Vec<f64> = (0..s.examples)
            .flat_map(|n| {
                let g = oracle::linear_gain(&w, CLASSES, &target, n);
                oracle::linear_reference(&g, &x[n * size..(n + 1) * size], t.scalar, &s.shape, &s.window, &k)
            })
            .collect();
        let reference = TiledOcclusion::new(s.window.clone(), k.clone())
            .with_mode(TilingMode::Reference)
            .with_perturbations_per_eval(s.per_eval);
        let (got, ..) = run::<T>(&reference, s.host_model(), &t.inputs_scalar(target.clone()))?;
        assert_close::<T>("reference", &got, &expected)
    });
}

/// Results depend neither on `perturbations_per_eval` nor on which other examples share the
/// batch, for Occlusion, both tiled modes and FeatureAblation.
pub fn independent_of_batching<T: TestBackend>() {
    check_scenarios::<T>("independent_of_batching", |s| {
        let t = s.tensors::<T>();
        let methods = |p: usize| -> Vec<(&'static str, BoxedMethod<T>, bool)> {
            vec![
                (
                    "occlusion",
                    Box::new(
                        Occlusion::new(s.window.clone()).with_strides(s.strides.clone()).with_perturbations_per_eval(p),
                    ),
                    false,
                ),
                (
                    "shifted",
                    Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(p)),
                    false,
                ),
                (
                    "reference",
                    Box::new(
                        TiledOcclusion::new(s.window.clone(), 1)
                            .with_mode(TilingMode::Reference)
                            .with_perturbations_per_eval(p),
                    ),
                    true,
                ),
                ("feature ablation", Box::new(FeatureAblation::per_element().with_perturbations_per_eval(p)), false),
            ]
        };
        let size = s.size();
        let input = host::<T>(&t.input);
        let baseline_rows = s.baseline_tensor();
        for ((name, one, scalar_only), (_, many, _)) in methods(1).into_iter().zip(methods(s.per_eval)) {
            let inputs = if scalar_only { t.inputs_scalar(s.target()) } else { t.inputs(s.target()) };
            let (a, ..) = run::<T>(one.as_ref(), s.host_model(), &inputs)?;
            let (b, ..) = run::<T>(many.as_ref(), s.host_model(), &inputs)?;
            assert_close::<T>(&format!("{name}: P = 1 vs P = {}", s.per_eval), &b, &a)?;
            // Each example alone.
            for n in 0..s.examples {
                let mut shape = vec![1];
                shape.extend(&s.shape);
                let x = tensor::<T>(&shape, &input[n * size..(n + 1) * size]);
                let own_baseline = match (&baseline_rows, s.baseline) {
                    (Some((_, data)), BaselineKind::PerExample) => {
                        Some(tensor::<T>(&shape, &data[n * size..(n + 1) * size]))
                    }
                    (Some((bs, data)), _) => Some(tensor::<T>(bs, data)),
                    (None, _) => None,
                };
                let target = match s.target() {
                    Target::PerExample(c) => Target::PerExample(vec![c[n]]),
                    Target::PerExampleIndex(t) => Target::PerExampleIndex(vec![t[n].clone()]),
                    other => other,
                };
                let baseline = match (&own_baseline, scalar_only) {
                    (Some(b), false) => Baseline::Tensor(b),
                    _ => Baseline::Scalar(t.scalar),
                };
                let alone = Inputs::new(&x).with_baseline(baseline).with_target(target);
                let (c, ..) = run::<T>(many.as_ref(), s.host_model(), &alone)?;
                assert_close::<T>(&format!("{name}: example {n} alone"), &c, &a[n * size..(n + 1) * size])?;
            }
        }
        Ok(())
    });
}

fn ceil_div(a: usize, b: usize) -> usize {
    a.div_ceil(b)
}

/// Model calls and evaluated rows equal the formulas of SEMANTICS.md, and the progress hook
/// is told that total.
pub fn model_calls_match_formulas<T: TestBackend>() {
    check_scenarios::<T>("model_calls_match_formulas", |s| {
        let t = s.tensors::<T>();
        let (n, p) = (s.examples, s.per_eval);
        let mut cases: Vec<(&str, BoxedMethod<T>, usize)> = Vec::new();
        // Occlusion: Π_r (ceil((d_r − w_r)/s_r) + 1) windows.
        let windows: usize = (0..s.shape.len()).map(|r| ceil_div(s.shape[r] - s.window[r], s.strides[r]) + 1).product();
        let occlusion = Occlusion::new(s.window.clone()).with_strides(s.strides.clone()).with_perturbations_per_eval(p);
        cases.push(("occlusion", Box::new(occlusion), windows));
        // Shifted: Π_r Σ_φ ceil((d_r + φ·s_r)/w_r) windows.
        let windows: usize = (0..s.shape.len())
            .map(|r| (0..s.k[r]).map(|f| ceil_div(s.shape[r] + f * (s.window[r] / s.k[r]), s.window[r])).sum::<usize>())
            .product();
        cases.push((
            "shifted",
            Box::new(TiledOcclusion::new(s.window.clone(), s.k.clone()).with_perturbations_per_eval(p)),
            windows,
        ));
        // Feature ablation, one group per element.
        cases.push((
            "feature ablation",
            Box::new(FeatureAblation::per_element().with_perturbations_per_eval(p)),
            s.size(),
        ));
        for (name, method, regions) in cases {
            let calls = 1 + ceil_div(regions, p);
            let mut model = HostForward::<T::B>::new(s.host_model());
            let mut reports = Vec::new();
            let mut hook = |done: usize, total: usize| reports.push((done, total));
            method
                .attribute_with_progress(&mut model, &t.inputs(s.target()), &mut hook)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(model.calls, calls, "{} calls", name);
            prop_assert_eq!(model.rows, n * (1 + regions), "{} rows", name);
            prop_assert_eq!(method.model_calls(&s.input_shape()).ok(), Some(calls), "{} model_calls()", name);
            let expected_reports: Vec<(usize, usize)> = (1..=calls).map(|d| (d, calls)).collect();
            prop_assert_eq!(reports, expected_reports, "{} progress", name);
        }
        // Reference mode: Σ_φ (1 + ceil(Π_r ceil(L_r(φ_r)/w_r) / P)), when every phase is long enough.
        let steps: Vec<usize> = s.window.iter().zip(&s.k).map(|(w, k)| w / k).collect();
        let lengths: Vec<Vec<usize>> = (0..s.shape.len())
            .map(|r| {
                let pad = if s.k[r] > 1 { steps[r] } else { 0 };
                (0..s.k[r]).map(|f| (s.shape[r] + f * steps[r]).min(s.shape[r] + pad) - f * steps[r]).collect()
            })
            .collect();
        let long_enough = lengths.iter().zip(&s.window).all(|(l, &w)| l.iter().all(|&l| l >= w));
        let reference = TiledOcclusion::new(s.window.clone(), s.k.clone())
            .with_mode(TilingMode::Reference)
            .with_perturbations_per_eval(p);
        if long_enough {
            // Enumerate phases directly: the sum over phase tuples of 1 + ceil(Π windows / P).
            let mut total = 0;
            let phases: usize = s.k.iter().product();
            for mut index in 0..phases {
                let mut windows = 1;
                for r in (0..s.shape.len()).rev() {
                    windows *= ceil_div(lengths[r][index % s.k[r]], s.window[r]);
                    index /= s.k[r];
                }
                total += 1 + ceil_div(windows, p);
            }
            prop_assert_eq!(reference.model_calls(&s.input_shape()).ok(), Some(total), "reference model_calls()");
            // A model of any input length, since phases may shorten the input.
            let sum = HostModel::Custom { f: std::sync::Arc::new(|x: &[f64]| vec![x.iter().sum()]), outputs: 0 };
            let mut model = HostForward::<T::B>::new(sum);
            reference
                .attribute(&mut model, &t.inputs_scalar(Target::None))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(model.calls, total, "reference calls");
        } else {
            prop_assert!(
                reference.model_calls(&s.input_shape()).is_err(),
                "reference mode must refuse phases shorter than the window"
            );
        }
        Ok(())
    });
}

/// In shifted mode every position is covered by exactly `Π k` windows: with a model whose
/// score drops by exactly 1 whenever anything is occluded, the sum aggregation gives `Π k`
/// and the mean gives 1 everywhere.
pub fn every_position_covered_prod_k_times<T: TestBackend>() {
    check_scenarios::<T>("every_position_covered_prod_k_times", |s| {
        let sentinel = 1000.0;
        let x = tensor::<T>(&s.input_shape(), &s.input_data());
        let detector = HostModel::Custom {
            f: std::sync::Arc::new(move |x: &[f64]| vec![if x.contains(&sentinel) { 0.0 } else { 1.0 }]),
            outputs: 0,
        };
        let inputs = Inputs::new(&x).with_baseline(Baseline::Scalar(sentinel));
        let prod: f64 = s.k.iter().product::<usize>() as f64;
        // Windows larger than the input are allowed in shifted mode: grow some.
        let window: Vec<usize> =
            s.window.iter().zip(&s.k).map(|(&w, &k)| if s.seed % 3 == 0 { w + k } else { w }).collect();
        for (aggregation, expected) in [(Aggregation::Sum, prod), (Aggregation::Mean, 1.0)] {
            let tiled = TiledOcclusion::new(window.clone(), s.k.clone())
                .with_aggregation(aggregation)
                .with_perturbations_per_eval(s.per_eval);
            let (got, ..) = run::<T>(&tiled, detector.clone(), &inputs)?;
            prop_assert!(
                got.iter().all(|v| *v == expected),
                "{aggregation:?}: expected {expected} everywhere, got {got:?}"
            );
        }
        Ok(())
    });
}

/// FeatureAblation with a block mask equals Occlusion with non-overlapping windows.
pub fn feature_ablation_block_mask_equals_occlusion<T: TestBackend>() {
    check_scenarios::<T>("feature_ablation_block_mask_equals_occlusion", |s| {
        let t = s.tensors::<T>();
        let occlusion = Occlusion::new(s.window.clone()).with_strides(s.window.clone());
        let (expected, ..) = run::<T>(&occlusion, s.host_model(), &t.inputs(s.target()))?;
        let blocks: Vec<usize> = s.shape.iter().zip(&s.window).map(|(d, w)| d.div_ceil(*w)).collect();
        let ids: Vec<i64> = (0..s.size())
            .map(|p| {
                let index = oracle::unravel(p, &s.shape);
                // Ids in a scrambled order, so the test does not rely on id order = window order.
                let block = index.iter().zip(&s.window).zip(&blocks).fold(0, |acc, ((i, w), b)| acc * b + i / w);
                (block as i64 * 7919) % 104_729 - 50_000
            })
            .collect();
        let mask = FeatureMask::new(s.shape.clone(), ids).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ablation = FeatureAblation::new(mask).with_perturbations_per_eval(s.per_eval);
        let (got, ..) = run::<T>(&ablation, s.host_model(), &t.inputs(s.target()))?;
        assert_close::<T>("feature ablation vs occlusion", &got, &expected)
    });
}

/// A `NaN` output drop only affects the positions of its region.
pub fn nan_drop_stays_in_its_region<T: TestBackend>() {
    check_scenarios::<T>("nan_drop_stays_in_its_region", |s| {
        // Exactly representable in every float type down to bf16, and outside the inputs' range.
        let poison = 768.0;
        let x = tensor::<T>(&s.input_shape(), &s.input_data());
        let size = s.size();
        let first = s.window.clone();
        // NaN when the first window (the corner box) is occluded, Σx otherwise.
        let model = HostModel::Custom {
            f: std::sync::Arc::new(move |x: &[f64]| {
                let hit = x.iter().filter(|v| **v == poison).count();
                vec![if hit == first.iter().product::<usize>() && x[0] == poison { f64::NAN } else { x.iter().sum() }]
            }),
            outputs: 0,
        };
        let occlusion = Occlusion::new(s.window.clone()).with_strides(s.window.clone());
        let inputs = Inputs::new(&x).with_baseline(Baseline::Scalar(poison));
        let (got, ..) = run::<T>(&occlusion, model, &inputs)?;
        let corner: oracle::Window = (vec![0; s.shape.len()], s.window.clone());
        for (i, v) in got.iter().enumerate() {
            let inside = oracle::contains(&corner, &oracle::unravel(i % size, &s.shape));
            prop_assert_eq!(v.is_nan(), inside, "position {} ({:?}) is {}", i, oracle::unravel(i % size, &s.shape), v);
        }
        Ok(())
    });
}

/// Stamps out the laws of SEMANTICS.md for a marker `$backend` as `mod properties { #[test] fn
/// … }`, one test per function above; one part of
/// [`backend_conformance_tests!`](crate::backend_conformance_tests).
#[macro_export]
macro_rules! properties_tests {
    ($backend:ty) => {
        $crate::suite_module!(
            properties,
            $backend,
            [
                k1_equals_occlusion,
                shifted_mean_equals_occlusion_in_interior,
                linear_models_match_analytic,
                independent_of_batching,
                model_calls_match_formulas,
                every_position_covered_prod_k_times,
                feature_ablation_block_mask_equals_occlusion,
                nan_drop_stays_in_its_region,
            ]
        );
    };
}

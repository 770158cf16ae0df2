//! Models of several inputs on both runtimes: one input explained, the others held at fixed
//! values (`f32` and `i64`, batch on axis 0, on axis 1, or none), against closed forms.

mod common;

use common::{fixture, load, runtimes};
use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_core::{Attribution, Baseline, Inputs, Occlusion, Target};
use tiled_occlusion_onnx::{FixedInput, OnnxError, OnnxModel, OnnxOptions};

/// `mixed_inputs.onnx`'s weights (see `scripts/fixtures/make_onnx_fixtures.py`).
fn w(i: usize, k: usize) -> f64 {
    (i as f64 - 2.0) / 4.0 + k as f64 / 2.0
}

fn v(i: usize, k: usize) -> f64 {
    [[1.0, -1.0], [0.5, 2.0]][i][k]
}

const GAIN: i64 = 3;

fn array(shape: &[usize], values: impl IntoIterator<Item = f32>) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), values.into_iter().collect()).unwrap()
}

/// Dyadic values, so every sum below is exact in f32.
fn x_batch() -> ArrayD<f32> {
    array(&[2, 6], (0..12).map(|i| (i as f32 - 5.0) / 4.0))
}

fn extra_row() -> ArrayD<f32> {
    array(&[1, 2], [0.5, -1.5])
}

/// `state` (2, 1, 3), summed over its axes 0 and 2: 1.5.
fn state_row() -> ArrayD<f32> {
    array(&[2, 1, 3], [0.25, 0.5, -0.25, 1.0, 0.0, 0.0])
}

fn gain() -> FixedInput {
    FixedInput::whole("gain", ArrayD::from_elem(IxDyn(&[1]), GAIN))
}

fn state() -> FixedInput {
    FixedInput::per_example("state", state_row()).with_batch_axis(1)
}

fn explaining_x() -> OnnxOptions {
    OnnxOptions::default()
        .fixed_input(FixedInput::per_example("extra", extra_row()))
        .fixed_input(state())
        .fixed_input(gain())
}

#[test]
fn scores_see_the_fixed_values_in_every_row() {
    for runtime in runtimes() {
        let model = load("mixed_inputs.onnx", runtime, explaining_x());
        assert_eq!((model.explained_input(), model.example_shape(), model.classes()), (0, &[6][..], 2), "{runtime}");
        let x = x_batch();
        let y = model.classify(&x).unwrap();
        for n in 0..2 {
            for k in 0..2 {
                let linear: f64 = (0..6).map(|i| f64::from(x[[n, i]]) * w(i, k)).sum::<f64>()
                    + (0..2).map(|i| f64::from(extra_row()[[0, i]]) * v(i, k)).sum::<f64>()
                    + 1.5;
                assert_eq!(f64::from(y[[n, k]]), GAIN as f64 * linear, "{runtime} row {n} class {k}");
            }
        }
    }
}

#[test]
fn occlusion_of_the_explained_input_is_its_weight_times_its_value() {
    for runtime in runtimes() {
        for (explained, options) in [
            ("x", explaining_x()),
            (
                "extra",
                OnnxOptions::default()
                    .explained_input("extra")
                    .fixed_input(FixedInput::per_example("x", array(&[1, 6], (0..6).map(|i| i as f32 / 2.0))))
                    .fixed_input(state())
                    .fixed_input(gain()),
            ),
        ] {
            let mut model = load("mixed_inputs.onnx", runtime, options);
            let input = if explained == "x" { x_batch() } else { array(&[2, 2], [0.5, -1.5, 2.0, 0.25]) };
            let weight = |i: usize, k: usize| if explained == "x" { w(i, k) } else { v(i, k) };
            for k in 0..2 {
                let inputs = Inputs::new(&input).with_baseline(Baseline::Scalar(0.0)).with_target(Target::Class(k));
                // One row per call and 7 rows per call (so the fixed values are repeated).
                for rows in [1, 7] {
                    let map =
                        Occlusion::new([1]).with_perturbations_per_eval(rows).attribute(&mut model, &inputs).unwrap();
                    for n in 0..2 {
                        for i in 0..input.shape()[1] {
                            let expected = GAIN as f64 * weight(i, k) * f64::from(input[[n, i]]);
                            assert_eq!(
                                f64::from(map[[n, i]]),
                                expected,
                                "{runtime} {explained} class {k} rows {rows} [{n}, {i}]"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_two_input_sum_with_one_input_fixed() {
    // two_inputs.onnx: y = a + b, (N, 3). With b fixed, Occlusion of a at baseline 0 on class c
    // is a[c] at position c and 0 elsewhere, whatever b is.
    for runtime in runtimes() {
        let b = array(&[1, 3], [10.0, -20.0, 0.5]);
        let mut model =
            load("two_inputs.onnx", runtime, OnnxOptions::default().fixed_input(FixedInput::per_example("b", b)));
        let a = array(&[1, 3], [1.0, 2.0, -4.0]);
        let map = Occlusion::new([1]).attribute(&mut model, &Inputs::new(&a).with_target(Target::Class(2))).unwrap();
        assert_eq!(map.as_slice().unwrap(), [0.0, 0.0, -4.0], "{runtime}");
    }
}

fn load_error(name: &str, options: OnnxOptions) -> Vec<String> {
    runtimes()
        .into_iter()
        .map(|runtime| match OnnxModel::load(fixture(name), &options.clone().runtime(runtime)) {
            Ok(_) => panic!("{name} loaded on {runtime} with {options:?}"),
            Err(e) => {
                assert!(
                    !matches!(e, OnnxError::Runtime { .. }),
                    "{runtime}: the options' mistake reached the runtime: {e}"
                );
                e.to_string()
            }
        })
        .collect()
}

#[test]
fn wrong_fixed_inputs_are_named_before_the_model_runs() {
    let extra = || FixedInput::per_example("extra", extra_row());
    let cases: Vec<(OnnxOptions, &str)> = vec![
        (OnnxOptions::default(), "the model has 4 inputs (x, extra, state, gain)"),
        (OnnxOptions::default().fixed_input(extra()).fixed_input(gain()), "the model has 4 inputs"),
        (
            OnnxOptions::default().explained_input("x").fixed_input(extra()).fixed_input(gain()),
            "input state of the model has no value",
        ),
        (
            OnnxOptions::default()
                .fixed_input(extra())
                .fixed_input(state())
                .fixed_input(FixedInput::whole("gain", ArrayD::from_elem(IxDyn(&[1]), 3.0f32))),
            "fixed input `gain` holds f32 values but the model declares i64",
        ),
        (
            OnnxOptions::default()
                .fixed_input(FixedInput::per_example("extra", array(&[1, 3], [0.0; 3])))
                .fixed_input(state())
                .fixed_input(gain()),
            "fixed input `extra` of shape [1, 3]",
        ),
        (
            OnnxOptions::default()
                .fixed_input(FixedInput::per_example("extra", array(&[2, 2], [0.0; 4])))
                .fixed_input(state())
                .fixed_input(gain()),
            "its batch axis 0 has size 2",
        ),
        (
            // The state's batch is axis 1: as a per-example value on axis 0 its size is 2.
            OnnxOptions::default()
                .fixed_input(extra())
                .fixed_input(FixedInput::per_example("state", state_row()))
                .fixed_input(gain()),
            "its batch axis 0 has size 2",
        ),
        (explaining_x().fixed_input(FixedInput::whole("mask", array(&[1], [0.0]))), "no input named `mask`"),
        (explaining_x().fixed_input(gain()), "input `gain` is fixed twice"),
        (explaining_x().explained_input("gain"), "input `gain` is both explained and fixed"),
    ];
    for (options, expected) in cases {
        for message in load_error("mixed_inputs.onnx", options) {
            assert!(message.contains(expected), "{message:?} should say {expected:?}");
        }
    }
}

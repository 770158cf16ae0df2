//! Loading checks on both runtimes: what the model declares, what it returns, and the models
//! that must be refused with a typed error.

mod common;

use common::{fixture, load, runtimes};
use ndarray::{ArrayD, Axis, IxDyn};
use tiled_occlusion_core::{Attribution, Forward, Inputs, Occlusion, Target};
use tiled_occlusion_onnx::{BatchDimension, OnnxError, OnnxModel, OnnxOptions, RuntimeChoice};

fn ramp(shape: &[usize]) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect()).unwrap()
}

#[test]
fn a_linear_model_returns_x_times_w() {
    for runtime in runtimes() {
        let model = load("linear.onnx", runtime, OnnxOptions::default());
        assert_eq!((model.classes(), model.example_shape()), (2, &[2, 3, 4][..]), "{runtime}");
        assert_eq!(model.batch(), BatchDimension::Symbolic);
        let x = ramp(&[3, 2, 3, 4]);
        let y = model.classify(&x).unwrap();
        assert_eq!(y.shape(), &[3, 2]);
        for (r, row) in x.axis_iter(Axis(0)).enumerate() {
            let flat: Vec<f32> = row.iter().copied().collect();
            let y0: f64 = flat.iter().enumerate().map(|(i, v)| f64::from(*v) * ((i % 7) as f64 - 3.0) / 8.0).sum();
            let y1: f64 = flat.iter().map(|v| f64::from(*v) / 4.0).sum();
            assert!((f64::from(y[[r, 0]]) - y0).abs() < 1e-5, "{runtime} row {r}: {} vs {y0}", y[[r, 0]]);
            assert!((f64::from(y[[r, 1]]) - y1).abs() < 1e-5, "{runtime} row {r}: {} vs {y1}", y[[r, 1]]);
        }
    }
}

#[test]
fn fixed_batches_run_in_chunks_and_agree_with_the_symbolic_batch() {
    for runtime in runtimes() {
        let symbolic = load("small_cnn.onnx", runtime, OnnxOptions::default());
        let x = ramp(&[5, 3, 16, 16]);
        let expected = symbolic.classify(&x).unwrap();
        for (name, batch) in [("small_cnn_batch1.onnx", 1), ("small_cnn_batch3.onnx", 3)] {
            let fixed = load(name, runtime, OnnxOptions::default());
            assert_eq!(fixed.batch(), BatchDimension::Fixed(batch));
            assert_eq!(fixed.plan().perturbations_per_eval, batch, "{runtime} {name}");
            // 5 rows: one call of 1 row each, or chunks of 3 + 2 (padded to 3).
            let got = fixed.classify(&x).unwrap();
            assert_eq!(got.shape(), &[5, 5]);
            let diff = (&got - &expected).iter().fold(0.0f32, |m, d| m.max(d.abs()));
            assert!(diff < 1e-5, "{runtime} {name}: {diff}");
        }
    }
}

#[test]
fn the_output_is_chosen_by_name_or_first() {
    for runtime in runtimes() {
        let first = load("two_outputs.onnx", runtime, OnnxOptions::default());
        let doubled = load("two_outputs.onnx", runtime, OnnxOptions::default().output("doubled"));
        assert_eq!((first.output_name(), doubled.output_name()), ("scores", "doubled"), "{runtime}");
        let names: Vec<&str> = first.signature().outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["scores", "doubled"]);
        let x = ramp(&[2, 4]);
        let (a, b) = (first.classify(&x).unwrap(), doubled.classify(&x).unwrap());
        assert_eq!(b, a.mapv(|v| 2.0 * v), "{runtime}");
        match OnnxModel::load(fixture("two_outputs.onnx"), &OnnxOptions::default().runtime(runtime).output("probs")) {
            Err(e @ OnnxError::UnknownOutput { .. }) => assert!(e.to_string().contains("scores, doubled"), "{e}"),
            other => panic!("{runtime}: {:?}", other.err()),
        }
    }
}

#[test]
fn unusable_models_are_typed_errors() {
    for runtime in runtimes() {
        let options = OnnxOptions::default().runtime(runtime);
        let error = |name: &str| OnnxModel::load(fixture(name), &options).err();
        assert!(matches!(error("no_input.onnx"), Some(OnnxError::NoInput)), "{runtime}: {:?}", error("no_input.onnx"));
        match error("two_inputs.onnx") {
            Some(e @ OnnxError::SeveralInputs { .. }) => assert!(e.to_string().contains("a, b"), "{e}"),
            other => panic!("{runtime}: {other:?}"),
        }
        assert!(
            matches!(error("int_input.onnx"), Some(OnnxError::InputNotF32 { .. })),
            "{runtime}: {:?}",
            error("int_input.onnx")
        );
        match error("image_output.onnx") {
            Some(e @ OnnxError::OutputShape { .. }) => assert!(e.to_string().contains("(N, classes)"), "{e}"),
            other => panic!("{runtime}: {other:?}"),
        }
        match OnnxModel::load(fixture("missing.onnx"), &options) {
            Err(e @ OnnxError::MissingModel { .. }) => assert!(e.to_string().contains("missing.onnx"), "{e}"),
            other => panic!("{runtime}: {:?}", other.err()),
        }
        // Not an ONNX file at all.
        let junk = std::env::temp_dir().join(format!("tiled-occlusion-junk-{}-{runtime}.onnx", std::process::id()));
        std::fs::write(&junk, b"not a model").unwrap();
        assert!(matches!(OnnxModel::load(&junk, &options), Err(OnnxError::UnreadableModel { .. })), "{runtime}");
        let _ = std::fs::remove_file(&junk);
    }
}

#[test]
fn calls_too_large_to_allocate_are_refused_when_the_model_loads() {
    // Each of these once aborted the process (an allocation of 2^33 to 4.8 · 10^11 bytes, or
    // ndarray's isize limit) in the loader's first call on a zero example.
    for runtime in runtimes() {
        let options = OnnxOptions::default().runtime(runtime);
        let refused = |name: &str| match OnnxModel::load(fixture(name), &options) {
            Err(e @ OnnxError::CallTooLarge { .. }) => e.to_string(),
            other => panic!("{name} on {runtime}: {:?}", other.err()),
        };
        let batch = refused("huge_batch.onnx");
        assert!(batch.contains("1099511627776 rows of shape [3]"), "{batch}");
        let image = refused("huge_input.onnx");
        assert!(image.contains("1 row of shape [3, 200000, 200000]"), "{image}");
    }
}

#[test]
fn input_shapes_are_declared_given_or_refused() {
    for runtime in runtimes() {
        let image = load("small_cnn.onnx", runtime, OnnxOptions::default().image(None, None));
        let g = image.geometry().expect("read as an image");
        assert_eq!((g.channels, g.height, g.width), (3, 16, 16), "{runtime}");
        let options = OnnxOptions::default().runtime(runtime).example_shape([3, 16, 17]);
        assert!(matches!(OnnxModel::load(fixture("small_cnn.onnx"), &options), Err(OnnxError::ExampleShape { .. })));
        let linear = load("linear.onnx", runtime, OnnxOptions::default());
        for bad in [vec![1, 2, 3], vec![1, 2, 3, 5], vec![2, 24]] {
            match linear.classify(&ArrayD::zeros(IxDyn(&bad))) {
                Err(e @ OnnxError::BatchShape { .. }) => assert!(e.to_string().contains("(N, 2, 3, 4)"), "{e}"),
                other => panic!("{runtime} {bad:?}: {other:?}"),
            }
        }
        assert_eq!(linear.classify(&ArrayD::zeros(IxDyn(&[0, 2, 3, 4]))).unwrap().shape(), &[0, 2]);
    }
}

#[test]
fn nan_scores_come_back_as_nan_without_a_crash() {
    for runtime in runtimes() {
        let mut model = load("nan_scores.onnx", runtime, OnnxOptions::default());
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 2.0, 0.0, 4.0]).unwrap();
        let y = model.forward(&x).unwrap();
        assert_eq!(y.iter().map(|v| v.is_nan()).collect::<Vec<_>>(), [false, false, true, false], "{runtime}");
        // Occluding to 0 makes the target's score NaN: the map is NaN there, and nothing fails.
        let map = Occlusion::new([1]).attribute(&mut model, &Inputs::new(&x).with_target(Target::Class(0))).unwrap();
        assert!(map[[0, 0]].is_nan() && map[[0, 1]] == 0.0, "{runtime}: {map:?}");
    }
}

#[test]
fn softmax_rows_are_distributions() {
    for runtime in runtimes() {
        let raw = load("small_cnn.onnx", runtime, OnnxOptions::default());
        let soft = load("small_cnn.onnx", runtime, OnnxOptions::default().softmax(true));
        let x = ramp(&[2, 3, 16, 16]);
        let (y, p) = (raw.classify(&x).unwrap(), soft.classify(&x).unwrap());
        for r in 0..2 {
            let z: f32 = (0..5).map(|c| y[[r, c]].exp()).sum();
            for c in 0..5 {
                assert!((p[[r, c]] - y[[r, c]].exp() / z).abs() < 1e-6, "{runtime}");
            }
        }
    }
}

#[test]
fn tract_refuses_intra_op_threads() {
    let options = OnnxOptions::default().runtime(RuntimeChoice::Tract).intra_threads(2);
    if cfg!(feature = "tract") {
        assert!(matches!(
            OnnxModel::load(fixture("linear.onnx"), &options),
            Err(OnnxError::InvalidPlan { parameter: "intra_threads", .. })
        ));
    } else {
        assert!(matches!(OnnxModel::load(fixture("linear.onnx"), &options), Err(OnnxError::RuntimeNotBuilt { .. })));
    }
}

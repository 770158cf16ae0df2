//! What a model declares that no call can use, on both runtimes: a batch of 0, a negative
//! dimension, one value per example under softmax, a whole fixed value along the batch, and
//! a zero example the system cannot allocate: each a typed error naming it.

mod common;

use common::hand_model::{f32_info, node, write, Dim};
use common::{fixture, runtimes};
use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_onnx::{FixedInput, OnnxError, OnnxModel, OnnxOptions, RuntimeChoice};

#[test]
fn a_declared_batch_of_zero_is_refused_naming_the_input() {
    // tract ran it 1 row per call, ONNX Runtime failed with its own message.
    let path = write(
        "batch0.onnx",
        &[node("Identity", &["x"], &["y"], &[], &[])],
        &[f32_info("x", &[Dim::Value(0), Dim::Value(4)])],
        &[f32_info("y", &[Dim::Value(0), Dim::Value(4)])],
    );
    for runtime in runtimes() {
        match OnnxModel::load(&path, &OnnxOptions::default().runtime(runtime)) {
            Err(e @ OnnxError::ZeroBatch { .. }) => assert_eq!(
                e.to_string(),
                "the model declares input `x` with a batch (axis 0) of 0 rows, so no call can hold an example; \
                 export it with a symbolic batch (N) or a batch ≥ 1",
                "{runtime}"
            ),
            other => panic!("{runtime}: {:?}", other.map(|m| m.describe())),
        }
    }
}

#[test]
fn a_negative_dimension_is_named_as_one() {
    // Both runtimes report it as symbolic: it was "symbolic per-example dimensions".
    let path = write(
        "negative_dim.onnx",
        &[node("Identity", &["x"], &["y"], &[], &[])],
        &[f32_info("x", &[Dim::Symbol("N"), Dim::Value(-5)])],
        &[f32_info("y", &[Dim::Symbol("N"), Dim::Value(-5)])],
    );
    for runtime in runtimes() {
        match OnnxModel::load(&path, &OnnxOptions::default().runtime(runtime).example_shape([5])) {
            Err(e @ OnnxError::NegativeDimension { .. }) => assert_eq!(
                e.to_string(),
                "the model declares input `x` with dimension 1 = -5, a negative size; a dimension is a number ≥ 0 or \
                 a symbol (re-export the model)",
                "{runtime}"
            ),
            other => panic!("{runtime}: {:?}", other.map(|m| m.describe())),
        }
    }
}

#[test]
fn softmax_over_one_value_per_example_is_refused() {
    // (N, 4) → mean → (N, 1): its softmax was 1 whatever the input.
    let path = write(
        "one_class.onnx",
        &[node("ReduceMean", &["x"], &["y"], &[("axes", &[1])], &[("keepdims", 1)])],
        &[f32_info("x", &[Dim::Symbol("N"), Dim::Value(4)])],
        &[f32_info("y", &[Dim::Symbol("N"), Dim::Value(1)])],
    );
    for runtime in runtimes() {
        let raw = OnnxModel::load(&path, &OnnxOptions::default().runtime(runtime)).unwrap();
        assert_eq!(raw.classes(), 1, "{runtime}");
        match OnnxModel::load(&path, &OnnxOptions::default().runtime(runtime).softmax(true)) {
            Err(e @ OnnxError::SoftmaxOneClass { .. }) => assert_eq!(
                e.to_string(),
                "softmax over the model's output `y` of shape [1, 1] gives 1 for every example (one value per \
                 example): softmax needs at least 2 classes; leave softmax out",
                "{runtime}"
            ),
            other => panic!("{runtime}: {:?}", other.map(|m| m.describe())),
        }
    }
}

#[test]
fn a_whole_fixed_value_along_the_batch_symbol_is_refused_naming_it() {
    // `state` (2, N, 3) passed whole with 5 rows: tract blamed the output (`y` has shape [5, 2]
    // for a batch of 1 rows), ONNX Runtime failed with its own message.
    let zeros = |shape: &[usize]| ArrayD::<f32>::zeros(IxDyn(shape));
    for runtime in runtimes() {
        let options = OnnxOptions::default()
            .runtime(runtime)
            .fixed_input(FixedInput::per_example("extra", zeros(&[1, 2])))
            .fixed_input(FixedInput::whole("state", zeros(&[2, 5, 3])))
            .fixed_input(FixedInput::whole("gain", ArrayD::from_elem(IxDyn(&[1]), 1i64)));
        match OnnxModel::load(fixture("mixed_inputs.onnx"), &options) {
            Err(e @ OnnxError::FixedInputShape { .. }) => assert_eq!(
                e.to_string(),
                "fixed input `state` of shape [2, 5, 3] does not fit the declared [2, ?, 3] (?: symbolic): its axis \
                 1 is declared `N`, the explained input's batch, so it follows the rows of each call; passed whole \
                 it keeps size 5: give it for one example (size 1) repeated along axis 1 (with_batch_axis(1), @1)",
                "{runtime}"
            ),
            other => panic!("{runtime}: {:?}", other.map(|m| m.describe())),
        }
    }
}

const CHILD: &str = "TILED_OCCLUSION_ONNX_PROBE_CHILD";

/// The zero example of `(3, 715827882)` (8 GiB of f32, within the call limit of 2^31 values)
/// under an address space of 4 GB: the allocation fails; it aborted the process
/// (`memory allocation of 8589934584 bytes failed`).
#[test]
fn a_zero_example_the_system_refuses_is_an_error_not_an_abort() {
    if std::env::var_os(CHILD).is_some() {
        let path = write(
            "free_length.onnx",
            &[node("ReduceMean", &["x"], &["y"], &[("axes", &[2])], &[("keepdims", 0)])],
            &[f32_info("x", &[Dim::Symbol("N"), Dim::Value(3), Dim::Symbol("L")])],
            &[f32_info("y", &[Dim::Symbol("N"), Dim::Value(3)])],
        );
        let runtime = match std::env::var(CHILD).as_deref() {
            Ok("ort") => RuntimeChoice::Ort,
            _ => RuntimeChoice::Tract,
        };
        match OnnxModel::load(&path, &OnnxOptions::default().runtime(runtime).example_shape([3, 715_827_882])) {
            Err(OnnxError::OutOfMemory { what, shape, bytes }) => {
                assert_eq!(
                    (what, shape, bytes),
                    ("the zero example that checks the model", vec![1, 3, 715_827_882], Some(8_589_934_584))
                );
                println!("refused as expected");
            }
            other => panic!("{runtime}: {:?}", other.map(|m| m.describe())),
        }
        return;
    }
    if !cfg!(target_os = "linux") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for runtime in runtimes() {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
            .arg(&exe)
            .args(["a_zero_example_the_system_refuses_is_an_error_not_an_abort", "--exact", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD, runtime.to_string())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(
            output.status.success() && text.contains("refused as expected"),
            "{runtime}: {:?}\n{text}",
            output.status
        );
    }
}

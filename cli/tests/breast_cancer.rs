//! End to end on a real tabular model: a logistic regression trained by
//! `scripts/assets/train_breast_cancer.py` on scikit-learn's breast cancer table (the csv inside
//! the scikit-learn wheel; `scripts/assets/assets.py test` fetches it and trains the model).
//!
//! The model's benign logit is `Σ_i v_i (x_i − μ_i) + c`, so FeatureAblation over the 30 features
//! with the training mean as baseline is exactly `v_i (x_i − μ_i)` on that logit; the weights `v`
//! come from the training script, not from the attribution code.

mod common;

use std::process::Command;

use ndarray::{ArrayD, Axis};
use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, RuntimeChoice};

#[test]
fn feature_ablation_of_the_tumour_classifier_is_weight_times_deviation() {
    let Some(assets) = common::test_assets("breast_cancer_logistic.onnx") else { return };
    let model_path = assets.join("breast_cancer_logistic.onnx");
    let examples = assets.join("breast_cancer_examples.npy");
    let mean = assets.join("breast_cancer_mean.npy");
    let trained: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(assets.join("breast_cancer_weights.json")).expect("weights"))
            .expect("JSON");
    let v: Vec<f64> = trained["weights"].as_array().expect("weights").iter().filter_map(|w| w.as_f64()).collect();
    assert_eq!(v.len(), 30);
    let x: ArrayD<f32> = ndarray_npy::read_npy(&examples).expect("examples");
    let mu: ArrayD<f32> = ndarray_npy::read_npy(&mean).expect("mean");

    // The model is a real classifier: it gets at least 95% of the 569 tumours right.
    let all: ArrayD<f32> = ndarray_npy::read_npy(assets.join("breast_cancer_features.npy")).expect("features");
    let labels: ArrayD<i64> = ndarray_npy::read_npy(assets.join("breast_cancer_labels.npy")).expect("labels");
    let model = OnnxModel::load(&model_path, &OnnxOptions::default().runtime(RuntimeChoice::Tract)).expect("model");
    let logits = model.classify(&all).expect("the model runs");
    let right = logits
        .axis_iter(Axis(0))
        .zip(labels.iter())
        .filter(|(row, &label)| i64::from(row[1] > row[0]) == label)
        .count();
    assert!(right >= 541, "{right} of 569 tumours classified right");

    let out = std::env::temp_dir().join(format!("tiled-occlusion-tabular-{}", std::process::id()));
    for runtime in ["tract", "auto"] {
        let o = Command::new(env!("CARGO_BIN_EXE_tiled-occlusion"))
            .arg("explain-tensor")
            .arg(&examples)
            .arg("--model")
            .arg(&model_path)
            .args(["--runtime", runtime, "--method", "ablation", "--target", "1", "--baseline"])
            .arg(&mean)
            .arg("--output")
            .arg(out.join(runtime))
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let map: ArrayD<f32> =
            ndarray_npy::read_npy(out.join(runtime).join("breast_cancer_examples.ablation.npy")).expect("map");
        assert_eq!(map.shape(), [10, 30]);
        let mut worst = 0.0f64;
        for n in 0..10 {
            let scale = (0..30).map(|i| (v[i] * f64::from(x[[n, i]] - mu[[i]])).abs()).fold(1.0, f64::max);
            for i in 0..30 {
                let want = v[i] * (f64::from(x[[n, i]]) - f64::from(mu[[i]]));
                worst = worst.max((f64::from(map[[n, i]]) - want).abs() / scale);
            }
        }
        assert!(worst < 1e-5, "{runtime}: {worst:e} relative from v ⊙ (x − μ)");
    }
    let _ = std::fs::remove_dir_all(&out);
}

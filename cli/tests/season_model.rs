//! End to end on a real time-series model: DIANNA's season classifier (28 days of maximum
//! temperature `(N, 28, 1)` to summer/winter probabilities) on the 28 days that ship with it
//! (`weather_data.npy`), both fetched by `scripts/assets/assets.py test`.
//!
//! The map `explain-tensor` writes is checked against drops computed here by hand: the model
//! run on the series and on the series with one day (or one week) at the baseline.

mod common;

use std::process::Command;

use ndarray::{ArrayD, Axis};
use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, RuntimeChoice};

const MODEL: &str = "season_prediction_model_temp_max_binary.onnx";

/// `F(x)[class] − F(x with days [lo, hi) at baseline)[class]` for every window of `width` days
/// (stride `width`), spread over its days: Occlusion's map with non-overlapping windows.
fn drops_by_hand(model: &OnnxModel, x: &ArrayD<f32>, class: usize, width: usize, baseline: f32) -> Vec<f32> {
    let score = |x: &ArrayD<f32>| model.classify(x).expect("the model runs")[[0, class]];
    let whole = score(x);
    let mut out = vec![0.0; 28];
    for lo in (0..28).step_by(width) {
        let mut hidden = x.clone();
        for t in lo..(lo + width).min(28) {
            hidden[[0, t, 0]] = baseline;
        }
        let drop = whole - score(&hidden);
        out[lo..(lo + width).min(28)].iter_mut().for_each(|v| *v = drop);
    }
    out
}

#[test]
fn the_season_model_is_explained_day_by_day_and_week_by_week() {
    let Some(assets) = common::test_assets(MODEL) else { return };
    let model_path = assets.join(MODEL);
    let series = assets.join("weather_data.npy");
    let x: ArrayD<f64> = ndarray_npy::read_npy(&series).expect("the series");
    assert_eq!(x.shape(), [1, 28, 1], "28 days, one feature");
    let x = x.mapv(|v| v as f32);
    let out = std::env::temp_dir().join(format!("tiled-occlusion-season-{}", std::process::id()));
    for runtime in [RuntimeChoice::Tract, RuntimeChoice::Auto] {
        let model = OnnxModel::load(&model_path, &OnnxOptions::default().runtime(runtime)).expect("the season model");
        let probabilities = model.classify(&x).expect("the model runs");
        let predicted = usize::from(probabilities[[0, 1]] > probabilities[[0, 0]]);
        assert!((probabilities.sum_axis(Axis(1))[0] - 1.0).abs() < 1e-5, "softmax output: {probabilities}");
        for (width, baseline) in [(1usize, "0"), (7, "5.0")] {
            let folder = out.join(format!("{runtime}-{width}"));
            let o = Command::new(env!("CARGO_BIN_EXE_tiled-occlusion"))
                .args(["explain-tensor", series.to_str().unwrap_or_default(), "--model"])
                .arg(&model_path)
                .args(["--runtime", &runtime.to_string(), "--window", &format!("{width},1"), "--strides"])
                .arg(format!("{width},1"))
                .args(["--baseline", baseline, "--target", &predicted.to_string(), "--output"])
                .arg(&folder)
                .output()
                .expect("the binary runs");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let map: ArrayD<f32> = ndarray_npy::read_npy(folder.join("weather_data.occlusion.npy")).expect("the map");
            assert_eq!(map.shape(), [1, 28, 1]);
            let want = drops_by_hand(&model, &x, predicted, width, baseline.parse().unwrap_or(0.0));
            let got: Vec<f32> = map.iter().copied().collect();
            let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(
                worst < 1e-5,
                "{runtime} window {width}: {worst:e} from the drops by hand\n got {got:?}\nwant {want:?}"
            );
            assert!(want.iter().any(|v| v.abs() > 1e-4), "some day matters to the model: {want:?}");
            let summary: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(folder.join("weather_data.occlusion.json")).expect("summary"),
            )
            .expect("JSON");
            assert_eq!(summary["prediction"][0].as_u64(), Some(predicted as u64));
            let p = summary["perturbations_per_eval"].as_u64().unwrap_or(0).max(1);
            let windows = 28usize.div_ceil(width) as u64;
            assert_eq!(summary["model_calls"].as_u64(), Some(1 + windows.div_ceil(p)), "{summary}");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

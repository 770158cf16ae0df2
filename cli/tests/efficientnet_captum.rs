//! Equality on the real network: EfficientNet-Lite0 (our converter's ONNX file) on the demo's
//! chelsea photo, Occlusion window 3×18×18, strides 3×9×9, baseline 0, target tiger cat (282):
//! the maps of ONNX Runtime and tract agree with each other and with Captum's map (max
//! relative difference ≤ 1e-4, relative to the largest |value| of the reference map).
//!
//! Captum's map was made by Captum 0.9 on PyTorch from the same weights
//! (`scripts/fixtures/make_efficientnet_captum_golden.py`) and is committed in `fixtures/` as its
//! first channel plane (the window covers every channel, so the channels are equal). The input
//! is prepared here by the command's own preprocessing; its hash must match the one the golden
//! map was made from.
//!
//! Uses `TILED_OCCLUSION_DEMO_ASSETS` like `efficientnet_converter.rs`; the ONNX Runtime half
//! needs the library (`scripts/env/setup-onnxruntime.sh`), required when
//! `TILED_OCCLUSION_REQUIRE_ORT=1` (the test command sets both).

use std::path::PathBuf;

use ndarray::{Array2, ArrayD, Axis};
use tiled_occlusion_cli::image_input::{prepare, Normalization};
use tiled_occlusion_core::{Attribution, Inputs, Occlusion, Target};
use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, RuntimeChoice};

fn assets() -> Option<PathBuf> {
    match std::env::var_os("TILED_OCCLUSION_DEMO_ASSETS").map(PathBuf::from) {
        Some(f) if f.join("efficientnet-lite0.onnx").is_file() => Some(f),
        _ if std::env::var("TILED_OCCLUSION_REQUIRE_ASSETS").as_deref() == Ok("1") => {
            panic!("TILED_OCCLUSION_DEMO_ASSETS does not name a folder made by `python3 scripts/assets/assets.py demo`")
        }
        _ => {
            eprintln!(
                "skipped: set TILED_OCCLUSION_DEMO_ASSETS to the folder `python3 scripts/assets/assets.py demo` prints"
            );
            None
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// FNV-1a (64 bits) of the values' little-endian bytes, as the golden's generator computes it.
fn fnv1a64(values: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in values.iter().flat_map(|v| v.to_le_bytes()) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// max |a − b| / max |b| over one channel plane of `map` `(1, 3, H, W)` against `plane`.
fn relative_difference(map: &ArrayD<f32>, plane: &Array2<f32>) -> f64 {
    let scale = plane.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
    let example = map.index_axis(Axis(0), 0);
    let mut worst = 0.0f64;
    for channel in example.axis_iter(Axis(0)) {
        for (a, b) in channel.iter().zip(plane.iter()) {
            worst = worst.max(f64::from((a - b).abs()));
        }
    }
    worst / scale
}

fn ort_required() -> bool {
    std::env::var("TILED_OCCLUSION_REQUIRE_ORT").as_deref() == Ok("1")
}

#[test]
fn both_runtimes_reproduce_captums_occlusion_of_efficientnet() {
    let Some(folder) = assets() else { return };
    let golden: Array2<f32> =
        ndarray_npy::read_npy(fixture("efficientnet_chelsea_captum_occlusion.npy")).expect("the golden map");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("efficientnet_chelsea_captum_occlusion.json")).expect("its description"),
    )
    .expect("JSON");
    let target = meta["target"].as_u64().expect("a target") as usize;
    let model_path = folder.join("efficientnet-lite0.onnx");
    let mut maps = Vec::new();
    for runtime in [RuntimeChoice::Ort, RuntimeChoice::Tract] {
        let options = OnnxOptions::default().runtime(runtime).image(None, None);
        let mut model = match OnnxModel::load(&model_path, &options) {
            Ok(m) => m,
            Err(e) if runtime == RuntimeChoice::Ort && !ort_required() => {
                eprintln!("skipped ONNX Runtime: {e}");
                continue;
            }
            Err(e) => panic!("{runtime}: {e}"),
        };
        let geometry = model.geometry().expect("an image model");
        let photo = prepare(&folder.join("chelsea.png"), geometry, Normalization::Minus127, Some(256)).expect("photo");
        let hash = format!("{:016x}", fnv1a64(photo.input.as_slice().expect("contiguous")));
        assert_eq!(hash, meta["input_fnv1a64"].as_str().unwrap_or_default(), "the input differs from the golden's");
        let scores = model.classify(&photo.input).expect("scores");
        let top = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
        assert_eq!(top, Some(target), "{runtime}");
        let occlusion = Occlusion::new([3, 18, 18])
            .with_strides([3, 9, 9])
            .with_perturbations_per_eval(model.plan().perturbations_per_eval);
        let start = std::time::Instant::now();
        let map = occlusion
            .attribute(&mut model, &Inputs::new(&photo.input).with_target(Target::Class(target)))
            .expect("the map");
        let d = relative_difference(&map, &golden);
        println!("{}: {:.2e} relative to Captum, {:.1} s", model.describe(), d, start.elapsed().as_secs_f64());
        assert!(d <= 1e-4, "{runtime}: {d:.2e} relative to Captum's map");
        maps.push(map);
    }
    if let [ort, tract] = maps.as_slice() {
        let plane = tract.index_axis(Axis(0), 0).index_axis(Axis(0), 0).to_owned().into_dimensionality().expect("2-D");
        let d = relative_difference(ort, &plane);
        println!("ONNX Runtime vs tract: {d:.2e}");
        assert!(d <= 1e-4, "ONNX Runtime vs tract: {d:.2e}");
    }
}

//! End to end on a small real network: DIANNA's MNIST 0-vs-1 ONNX model (NHWC, softmax
//! output) and 20 real test digits, fetched by `scripts/assets/assets.py test` (the test command
//! runs it and sets `TILED_OCCLUSION_TEST_ASSETS`).
//!
//! Without the assets the test says so and passes, unless `TILED_OCCLUSION_REQUIRE_ASSETS=1`
//! (set by the test command), where missing assets are a failure.

mod common;

use std::path::PathBuf;
use std::process::Command;

use ndarray::{ArrayD, Ix4};

fn assets() -> Option<PathBuf> {
    common::test_assets("mnist_model_tf.onnx")
}

#[test]
fn digits_are_classified_and_explained_on_their_strokes() {
    let Some(folder) = assets() else { return };
    let mut digits: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("assets folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("digit")))
        .collect();
    digits.sort();
    assert_eq!(digits.len(), 20, "expected 20 digits in {}", folder.display());
    let out = std::env::temp_dir().join(format!("tiled-occlusion-mnist-{}", std::process::id()));
    let mut args: Vec<String> = vec!["explain".into()];
    args.extend(digits.iter().map(|d| d.display().to_string()));
    args.extend(
        [
            "--model",
            &folder.join("mnist_model_tf.onnx").display().to_string(),
            "--normalize",
            "unit",
            "--labels",
            &folder.join("labels.txt").display().to_string(),
            "--window",
            "4",
            "--k",
            "2",
            "-q",
            "-o",
            &out.display().to_string(),
        ]
        .map(String::from),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_tiled-occlusion")).args(&args).output().expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));

    let lines: Vec<&str> = stdout.lines().collect();
    let mut ratios = Vec::new();
    for digit in &digits {
        let name = digit.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let label: usize = name.split("label").nth(1).and_then(|s| s[..1].parse().ok()).expect("label in the name");
        // The line after the file name is the top-1 class: "  xx.xx%  name (id)".
        let at = lines.iter().position(|l| l.ends_with(&format!("{name}:"))).expect("reported");
        assert!(lines[at + 1].ends_with(&format!("({label})")), "{name}: predicted {}", lines[at + 1]);

        let stem = name.trim_end_matches(".png");
        let map: ArrayD<f32> = ndarray_npy::read_npy(out.join(format!("{stem}.tiled.npy"))).expect("npy");
        let map = map.into_dimensionality::<Ix4>().expect("rank 4");
        let pixels = image::open(digit).expect("digit").to_luma8();
        let (mut stroke, mut background, mut n_stroke, mut n_background) = (0.0f64, 0.0f64, 0usize, 0usize);
        for (x, y, p) in pixels.enumerate_pixels() {
            let a = f64::from(map[[0, y as usize, x as usize, 0]].max(0.0));
            if p[0] > 127 {
                stroke += a;
                n_stroke += 1;
            } else {
                background += a;
                n_background += 1;
            }
        }
        let ratio = (stroke / n_stroke.max(1) as f64) / (background / n_background.max(1) as f64).max(1e-12);
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "positive attribution per stroke pixel / per background pixel: min {:.2}, median {:.2}",
        ratios[0], ratios[10]
    );
    assert!(ratios[10] > 3.0, "median ratio {:.2}", ratios[10]);
    assert!(ratios[0] > 1.0, "some digit's map favours the background: {:.2}", ratios[0]);
    let _ = std::fs::remove_dir_all(&out);
}

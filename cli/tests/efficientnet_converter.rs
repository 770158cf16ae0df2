//! The EfficientNet-Lite0 weights converted to ONNX by our own converter
//! (`scripts/assets/convert_efficientnet_lite0.py`, run by `scripts/assets/assets.py demo`), checked through
//! the command against the numbers DEMO-ASSETS gives: chelsea is a tiger cat (282) with
//! probability 0.39 ± 0.03, coffee an espresso (967).
//!
//! Uses `TILED_OCCLUSION_DEMO_ASSETS` (set by the test command); without it the test says so
//! and passes, unless `TILED_OCCLUSION_REQUIRE_ASSETS=1`.

use std::path::PathBuf;
use std::process::Command;

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

/// The top-1 line of `image`'s report: (probability, class id, name).
fn top1(stdout: &str, image: &str) -> (f64, usize, String) {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines.iter().position(|l| l.ends_with(&format!("{image}:"))).expect("reported");
    let line = lines[at + 1].trim();
    let (percent, rest) = line.split_once('%').expect("a percentage");
    let (name, id) = rest.trim().rsplit_once(" (").expect("a class id");
    (
        percent.trim().parse::<f64>().expect("number") / 100.0,
        id.trim_end_matches(')').parse().expect("id"),
        name.to_string(),
    )
}

#[test]
fn converted_efficientnet_classifies_chelsea_and_coffee() {
    let Some(folder) = assets() else { return };
    let out = std::env::temp_dir().join(format!("tiled-occlusion-effnet-{}", std::process::id()));
    let path = |name: &str| folder.join(name).display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_tiled-occlusion"))
        .args(["explain", &path("chelsea.png"), &path("coffee.png"), "--model", &path("efficientnet-lite0.onnx")])
        .args([
            "--labels",
            &path("imagenet_labels.txt"),
            "--method",
            "occlusion",
            "--window",
            "224",
            "--strides",
            "224",
        ])
        .args(["-q", "-o", &out.display().to_string()])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let (p, id, name) = top1(&stdout, "chelsea.png");
    println!("chelsea: {name} ({id}) {p:.4}");
    assert_eq!(id, 282, "{stdout}");
    assert!((p - 0.39).abs() <= 0.03, "chelsea tiger cat probability {p}");
    let (p, id, name) = top1(&stdout, "coffee.png");
    println!("coffee: {name} ({id}) {p:.4}");
    assert_eq!((id, name.as_str()), (967, "espresso"), "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}

//! The `tiled-occlusion explain` command on a tiny committed ONNX model
//! (`scripts/assets/make_cli_test_model.py`): outputs against an analytic result, and every kind of
//! bad input ending in one line of error and a non-zero exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{ArrayD, Ix4};

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_tiled-occlusion")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A fresh folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiled-occlusion-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A 16×16 RGB picture with value `(3·x + 5·y + 40·c) mod 256` at pixel `(x, y)`, channel `c`.
fn picture(dir: &Path) -> PathBuf {
    let img = image::RgbImage::from_fn(16, 16, |x, y| {
        image::Rgb([0u32, 1, 2].map(|c| ((3 * x + 5 * y + 40 * c) % 256) as u8))
    });
    let path = dir.join("picture.png");
    img.save(&path).expect("picture");
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(binary()).args(args).output().expect("the binary runs")
}

#[test]
fn occlusion_of_a_linear_model_matches_the_analytic_map() {
    let dir = scratch("analytic");
    let pic = picture(&dir);
    let out = dir.join("out");
    let model = fixture("tiny_classifier.onnx");
    let o = run(&[
        "explain",
        pic.to_str().unwrap_or_default(),
        "--model",
        model.to_str().unwrap_or_default(),
        "--normalize",
        "unit",
        "--resize",
        "0",
        "--method",
        "both",
        "--window",
        "4",
        "--k",
        "2",
        "--strides",
        "4",
        "--target",
        "0",
        "-q",
        "-o",
        out.to_str().unwrap_or_default(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "stdout {stdout}\nstderr {}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("model calls"), "{stdout}");
    for f in [
        "picture.occlusion.npy",
        "picture.occlusion.png",
        "picture.tiled.npy",
        "picture.tiled.png",
        "picture.comparison.png",
        "index.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    assert!(html.contains("picture.comparison.png"));
    // Class 0 is 0.1 · Σ x over the top-left 8×8 quarter of every channel; baseline 0, so
    // with non-overlapping 3×4×4 windows each position's attribution is 0.1 · Σ x over the
    // quarter's part of its window.
    let map: ArrayD<f32> = ndarray_npy::read_npy(out.join("picture.occlusion.npy")).expect("npy");
    let map = map.into_dimensionality::<Ix4>().expect("rank 4");
    assert_eq!(map.shape(), &[1, 3, 16, 16]);
    let x = |c: usize, y: usize, xx: usize| ((3 * xx + 5 * y + 40 * c) % 256) as f32 / 255.0;
    for y in 0..16 {
        for xx in 0..16 {
            let (wy, wx) = (y / 4 * 4, xx / 4 * 4);
            let mut expected = 0.0f32;
            if wy < 8 && wx < 8 {
                for c in 0..3 {
                    for dy in 0..4 {
                        for dx in 0..4 {
                            expected += 0.1 * x(c, wy + dy, wx + dx);
                        }
                    }
                }
            }
            for c in 0..3 {
                let got = map[[0, c, y, xx]];
                assert!(
                    (got - expected).abs() <= 1e-4 * expected.abs().max(1.0),
                    "({c},{y},{xx}): {got} vs {expected}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the command and checks a failure: the exit code, one line of stderr naming the
/// problem, no panic.
fn fails(args: &[&str], code: i32, needle: &str) {
    let o = run(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: stderr {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr:?} does not mention {needle:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{args:?}: {stderr}");
}

/// `head`, then each `(option, value)` of `defaults` that `extra` does not set, then `extra`
/// (an option given twice is an error of its own).
fn with_defaults(head: &[&str], defaults: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    for (option, value) in defaults {
        if !extra.contains(option) {
            v.extend([option.to_string(), value.to_string()]);
        }
    }
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// [`fails`] on owned arguments.
fn fails_with(args: &[String], code: i32, needle: &str) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    fails(&refs, code, needle);
}

/// The default window, 18, is larger than the tiny model's 16×16 input.
const SMALL_WINDOW: (&str, &str) = ("--window", "4");

#[test]
fn bad_inputs_end_in_one_line_and_a_non_zero_exit_code() {
    let dir = scratch("bad");
    let pic = picture(&dir);
    let pic = pic.to_str().unwrap_or_default();
    let model = fixture("tiny_classifier.onnx");
    let model = model.to_str().unwrap_or_default();
    let out = dir.join("out");
    let out = out.to_str().unwrap_or_default();
    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nnot really a png").expect("write");
    let not_onnx = dir.join("model.onnx");
    std::fs::write(&not_onnx, b"this is not a protobuf").expect("write");
    let labels = dir.join("labels.txt");
    std::fs::write(&labels, "zero\none\ntwo\n").expect("write");
    let labels = labels.to_str().unwrap_or_default();
    let base = |extra: &[&str]| {
        let head = ["explain", pic, "--model", model, "--normalize", "unit", "--resize", "0", "-q", "-o", out];
        with_defaults(&head, &[SMALL_WINDOW], extra)
    };
    let check = |args: Vec<String>, code: i32, needle: &str| fails_with(&args, code, needle);
    check(
        vec![
            "explain".into(),
            dir.join("missing.png").display().to_string(),
            "--model".into(),
            model.into(),
            "--window".into(),
            "4".into(),
            "-o".into(),
            out.into(),
        ],
        1,
        "cannot open image",
    );
    check(
        vec![
            "explain".into(),
            corrupt.display().to_string(),
            "--model".into(),
            model.into(),
            "--window".into(),
            "4".into(),
            "-o".into(),
            out.into(),
        ],
        1,
        "cannot decode image",
    );
    check(
        vec!["explain".into(), pic.into(), "--model".into(), not_onnx.display().to_string(), "-o".into(), out.into()],
        1,
        "is not an ONNX model",
    );
    check(
        vec!["explain".into(), pic.into(), "--model".into(), dir.join("none.onnx").display().to_string()],
        1,
        "does not exist",
    );
    check(base(&["--layout", "nhwc"]), 2, "channels");
    check(base(&["--window", "0"]), 2, "--window");
    check(base(&["--window", "abc"]), 2, "positive whole number");
    check(base(&["--window", "3,4"]), 2, "dimensions per example");
    check(base(&["--k", "3", "--window", "4"]), 2, "not divisible");
    check(base(&["--target", "seven"]), 2, "--labels");
    let mut with_labels = base(&["--target", "seven"]);
    with_labels.extend(["--labels".to_string(), labels.to_string()]);
    check(with_labels, 2, "unknown class name");
    check(base(&["--target", "9"]), 2, "does not exist");
    check(base(&["--labels", "/nonexistent/labels.txt"]), 1, "cannot read the labels file");
    check(base(&["--threads", "0"]), 2, "--threads");
    check(base(&["--perturbations-per-eval", "0"]), 2, "perturbations");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evaluate_prints_a_table_and_writes_every_number() {
    let dir = scratch("evaluate");
    let pic = picture(&dir);
    let csv = dir.join("metrics.csv");
    let model = fixture("tiny_classifier.onnx");
    let o = run(&[
        "evaluate",
        pic.to_str().unwrap_or_default(),
        pic.to_str().unwrap_or_default(),
        "--model",
        model.to_str().unwrap_or_default(),
        "--normalize",
        "unit",
        "--resize",
        "0",
        "--config",
        "occlusion:4:4",
        "--config",
        "tiled:4:2",
        "--steps",
        "8",
        "--patch",
        "4",
        "--regions",
        "4",
        "-q",
        "--csv",
        csv.to_str().unwrap_or_default(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("| occlusion:4:4 | 17 |"), "{stdout}");
    assert!(stdout.contains("| tiled:4:2 |"), "{stdout}");
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "2 images × 2 configs: {text}");
    for row in rows {
        let numbers: Vec<f64> = row.split(',').skip(3).filter_map(|v| v.parse().ok()).collect();
        assert_eq!(numbers.len(), 6, "{row}");
        assert!(numbers.iter().all(|v| v.is_finite()), "{row}");
        // Probabilities' curves have areas in [0, 1]; Gini lies in [0, 1).
        assert!(
            (0.0..=1.0).contains(&numbers[0]) && (0.0..=1.0).contains(&numbers[1]) && (0.0..1.0).contains(&numbers[5]),
            "{row}"
        );
    }
    fails(
        &[
            "evaluate",
            pic.to_str().unwrap_or_default(),
            "--model",
            model.to_str().unwrap_or_default(),
            "--config",
            "blur:4:4",
        ],
        2,
        "unknown method",
    );
    fails(
        &[
            "evaluate",
            pic.to_str().unwrap_or_default(),
            "--model",
            model.to_str().unwrap_or_default(),
            "--config",
            "tiled:4",
        ],
        2,
        "METHOD:WINDOW",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The hostile-user findings of issue 13, each refused before any output is written (the
/// output folder is not even created), on one line with exit code 2 for a bad option value
/// and 1 for a file or model problem.
#[test]
fn hostile_inputs_are_refused_before_any_work() {
    let dir = scratch("hostile");
    let pic = picture(&dir);
    let pic = pic.to_str().unwrap_or_default();
    let model = fixture("tiny_classifier.onnx");
    let model = model.to_str().unwrap_or_default();
    let out = dir.join("out");
    let out_text = out.to_str().unwrap_or_default().to_string();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(&path, bytes).expect("write");
        path.display().to_string()
    };
    // Two photos with the same name in two folders: the second overwrote the first's files.
    let twin = write("b/picture.png", &std::fs::read(pic).expect("picture"));
    // A JPEG cut to half its bytes was decoded with a grey bottom and explained.
    let jpeg = dir.join("photo.jpg");
    image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([(x * 16) as u8, (y * 16) as u8, 128]))
        .save(&jpeg)
        .expect("jpeg");
    let bytes = std::fs::read(&jpeg).expect("jpeg bytes");
    let cut = write("cut.jpg", &bytes[..bytes.len() / 2]);
    let blank_line = write("blank.txt", b"zero\n\none\ntwo\n");
    let too_few = write("two.txt", b"zero\none\n");
    let too_many = write("four.txt", b"zero\none\ntwo\nthree\n");
    let missing = dir.join("missing.png").display().to_string();
    let nan_model = fixture("nan_classifier.onnx");
    let nan_model = nan_model.to_str().unwrap_or_default();
    let explain = |images: &[&str], extra: &[&str]| {
        let mut head = vec!["explain"];
        head.extend(images.iter().copied());
        head.extend(["--model", model, "--normalize", "unit", "-q", "-o", &out_text]);
        with_defaults(&head, &[SMALL_WINDOW, ("--resize", "0")], extra)
    };
    let check = |args: Vec<String>, code: i32, needle: &str| {
        fails_with(&args, code, needle);
        assert!(!out.exists(), "{args:?}: the output folder was written");
    };
    let dir_text = dir.display().to_string();
    check(explain(&[pic, &twin], &[]), 2, "would write the same output files");
    check(explain(&[&cut], &[]), 1, "no end marker");
    check(explain(&[pic, &missing], &[]), 1, "cannot open image");
    check(explain(&[pic], &["--labels", &blank_line]), 1, "blank line 2");
    check(explain(&[pic], &["--labels", &too_few]), 1, "names 2 classes, but the model has 3");
    check(explain(&[pic], &["--labels", &too_many]), 1, "names 4 classes, but the model has 3");
    // Endless files were read until memory ran out (/dev/zero as a photo or labels file).
    check(explain(&[pic, "/dev/zero"], &[]), 1, "cannot open image /dev/zero: it holds more than 1073741824 bytes");
    check(explain(&[pic], &["--labels", "/dev/zero"]), 1, "/dev/zero: it holds more than 67108864 bytes");
    let mut nan = explain(&[pic], &[]);
    nan[3] = nan_model.to_string();
    check(nan, 1, "not all finite");
    // A device as the model: "does not exist" said nothing true.
    let mut device = explain(&[pic], &[]);
    device[3] = "/dev/zero".to_string();
    check(device, 1, "/dev/zero is not a regular file");
    // A model finite on the photo but not on its occluded copies (log(x + 1) at baseline -1):
    // the maps are written, and the run fails naming them (it exited 0 with maps of NaN).
    let log_model = fixture("log_classifier.onnx");
    let mut log = explain(&[pic], &["--baseline=-1", "--method", "occlusion"]);
    log[3] = log_model.to_str().unwrap_or_default().to_string();
    fails_with(&log, 1, "hold NaN or infinite values");
    let written: ndarray::ArrayD<f32> = ndarray_npy::read_npy(out.join("picture.occlusion.npy")).expect("the map");
    assert!(written.iter().any(|v| !v.is_finite()), "the map the failure names is written");
    let _ = std::fs::remove_dir_all(&out);
    let mut log_evaluate = vec!["evaluate".to_string(), pic.to_string(), "--model".into()];
    log_evaluate.extend(
        [
            log_model.to_str().unwrap_or_default(),
            "--normalize",
            "unit",
            "--resize",
            "0",
            "-q",
            "--config",
            "occlusion:4:4",
            "--baseline=-1",
        ]
        .map(String::from),
    );
    fails_with(&log_evaluate, 1, "NaN or infinite values");
    let mut folder = explain(&[pic], &[]);
    folder[3] = dir_text.clone();
    check(folder, 1, "is a folder");
    check(explain(&[pic], &["--target", ""]), 2, "--target is empty");
    check(explain(&[pic], &["--target", "18446744073709551616"]), 2, "that many classes");
    check(explain(&[pic], &["--window", "1000000000", "--k", "1000000000"]), 2, "at most one tiling per position");
    let huge = "4194304,4194304,4194304";
    check(explain(&[pic], &["--window", huge, "--k", huge]), 2, "at most one tiling per position");
    // A mistake the library finds is a bad option value too (it exited 1).
    check(explain(&[pic], &["--window", "17", "--k", "1", "--method", "occlusion"]), 2, "larger than the input");
    for threads in ["4611686018427387904", "1099511627776", "100000"] {
        check(explain(&[pic], &["--threads", threads]), 2, "--threads");
    }
    check(explain(&[pic], &["--sessions", "64", "--intra-threads", "64"]), 2, "at most 1024");
    check(explain(&[pic], &["--resize", "100000"]), 2, "--resize 100000");
    // A 65535×1 photo (a few hundred bytes) with its shorter side resized to 8192 asked for a
    // 536870912×8192 image and aborted the process.
    let strip = dir.join("strip.png");
    image::RgbImage::from_pixel(65535, 1, image::Rgb([90, 120, 200])).save(&strip).expect("strip");
    let strip = strip.display().to_string();
    check(explain(&[&strip], &["--resize", "8192"]), 2, "more than 134217728 pixels");
    // A baseline that is not a finite f32 made every occluded score NaN: maps of NaN, exit 0.
    for baseline in ["NaN", "inf", "1e39", "-3.5e38"] {
        check(explain(&[pic], &["--baseline", baseline]), 2, "not a finite f32 value");
    }
    check(explain(&[pic], &["--size", "100000"]), 2, "--size 100000");
    // The tiny model fixes 16×16: another --size was ignored, then failed on a window error.
    check(explain(&[pic], &["--size", "64"]), 2, "fixes its height and width, so the input size 64 cannot apply");
    check(explain(&[pic], &["--bogus"]), 2, "--bogus");
    // Reference mode with k = 4 failed on its first shorter phase with "the model failed: the
    // model failed: Clashing resolution …".
    check(explain(&[pic], &["--window", "8", "--k", "4", "--method", "tiled", "--mode", "reference"]), 2, "k ≤ 2");

    // The study's default configurations have windows larger than this model's input.
    let evaluate = |extra: &[&str]| {
        let head = ["evaluate", pic, "--model", model, "--normalize", "unit", "--resize", "0", "-q"];
        with_defaults(&head, &[("--config", "occlusion:4:4")], extra)
    };
    let refused = |args: Vec<String>, code: i32, needle: &str| fails_with(&args, code, needle);
    refused(evaluate(&["--blur", "1e9"]), 2, "--blur");
    refused(evaluate(&["--blur", "NaN"]), 2, "--blur");
    refused(evaluate(&["--baseline", "1e39"]), 2, "not a finite f32 value");
    refused(evaluate(&["--baseline", "NaN"]), 2, "not a finite f32 value");
    refused(evaluate(&["--steps", "257"]), 2, "at most the 256 pixels");
    // AOPC on 16×16: patches of 17 or 21 of the 16 patches of 4 were clamped in silence.
    refused(evaluate(&["--patch", "17"]), 2, "--patch 17: use at most the model input's largest side, 16 pixels");
    refused(evaluate(&["--patch", "4", "--regions", "17"]), 2, "holds 16 patches of 4 pixels");
    refused(evaluate(&["--patch", "5", "--regions", "17"]), 2, "holds 16 patches of 5 pixels");
    refused(evaluate(&["--config", "tiled:4:3"]), 2, "not divisible");
    refused(evaluate(&["--config", "occlusion:17:1"]), 2, "larger");
    let no_folder = dir.join("no/such/folder/metrics.csv").display().to_string();
    refused(evaluate(&["--csv", &no_folder]), 1, "cannot write");
    let mut bad_last = evaluate(&[]);
    bad_last.insert(2, cut.clone());
    refused(bad_last, 1, "no end marker");
    let _ = std::fs::remove_dir_all(&dir);
}

//! The `conformance` runner end to end: a fixture whose result is `NaN` fails and names the
//! element, a directory is refused, and the shipped fixtures pass.

use std::process::Command;

/// Runs `conformance --backend ndarray ARGS…`: `(exit code, stdout, stderr)`.
fn conformance(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["--backend", "ndarray"])
        .args(args)
        .output()
        .expect("the conformance runner starts");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary directory of this test process.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tiled-occlusion-conformance-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_nan_result_fails_the_run_naming_the_element() {
    // The linear model overflows on 1e308, so every attribution is inf − inf = NaN.
    let dir = temp_dir("nan");
    let file = dir.join("nan.json");
    std::fs::write(
        &file,
        r#"{"cases": [{"name": "c", "method": "occlusion", "model": "linear",
            "params": {"W": {"shape": [1, 4], "data": [2, -2, 2, -2]}, "b": {"shape": [1], "data": [0]}},
            "input": {"shape": [1, 4], "data": [1e308, 1e308, 1e308, 1e308]}, "window": [1], "strides": 1,
            "baseline": 0.0, "target": 0, "expected": {"shape": [1, 4], "data": [5, 5, 5, 5]}}]}"#,
    )
    .expect("write");
    let path = file.display().to_string();
    let (code, stdout, _) = conformance(&[&path]);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(stdout, format!("FAIL {path}: c: result element 0 is NaN, expected 5\n0 passed, 1 failed\n"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_directory_is_refused() {
    let dir = temp_dir("dir");
    let path = dir.display().to_string();
    let (code, stdout, stderr) = conformance(&[&path]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr, format!("{path}: cannot read {path}: it is a directory, not a fixture file\n"));
    assert_eq!(stdout, "0 passed, 0 failed\n");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn the_shipped_fixtures_pass() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/captum-fixtures.json");
    let (code, stdout, _) = conformance(&[file]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.ends_with("37 passed, 0 failed\n"), "{stdout}");
}

//! Fixtures and the runtimes to test on.
#![allow(dead_code)]

pub mod hand_model;

use std::path::PathBuf;

use tiled_occlusion_onnx::{OnnxModel, OnnxOptions, RuntimeChoice};

/// A model of `tests/fixtures/` (made by `scripts/fixtures/make_onnx_fixtures.py`).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name)
}

/// Whether ONNX Runtime's library loads here. Without it the ONNX Runtime cases are skipped
/// (said on stderr), unless `TILED_OCCLUSION_REQUIRE_ORT=1` (the test command sets it).
#[cfg(feature = "ort")]
pub fn ort_available() -> bool {
    match tiled_occlusion_onnx::load_ort_library(None) {
        Ok(_) => true,
        Err(e) if std::env::var("TILED_OCCLUSION_REQUIRE_ORT").as_deref() == Ok("1") => {
            panic!("TILED_OCCLUSION_REQUIRE_ORT=1 but ONNX Runtime does not load: {e}")
        }
        Err(e) => {
            eprintln!("skipped the ONNX Runtime cases: {e}");
            false
        }
    }
}

#[cfg(not(feature = "ort"))]
pub fn ort_available() -> bool {
    false
}

/// The runtimes of this build that can run here.
pub fn runtimes() -> Vec<RuntimeChoice> {
    let mut out = Vec::new();
    if cfg!(feature = "tract") {
        out.push(RuntimeChoice::Tract);
    }
    if ort_available() {
        out.push(RuntimeChoice::Ort);
    }
    out
}

/// Loads fixture `name` on `runtime` with `options`.
pub fn load(name: &str, runtime: RuntimeChoice, options: OnnxOptions) -> OnnxModel {
    OnnxModel::load(fixture(name), &options.runtime(runtime)).unwrap_or_else(|e| panic!("{name} on {runtime}: {e}"))
}

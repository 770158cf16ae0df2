//! Finding and loading ONNX Runtime's library: missing, foreign and conflicting files are
//! typed errors naming the file and the fix, `auto` falls back to tract on them, and a
//! loaded library is reused. One test, so that the order of loads is fixed (the library is
//! loaded once per process).
#![cfg(feature = "ort")]

mod common;

use common::{fixture, ort_available};
use tiled_occlusion_onnx::{load_ort_library, OnnxError, OnnxModel, OnnxOptions, Runtime, RuntimeChoice};

fn assert_names_the_fix(e: &OnnxError, file: &str) {
    let text = e.to_string();
    assert!(text.contains(file), "{text}");
    assert!(text.contains("setup-onnxruntime.sh") && text.contains("ORT_DYLIB_PATH"), "{text}");
}

#[test]
fn library_lookup_errors_fallbacks_and_reuse() {
    let missing = std::env::temp_dir().join("tiled-occlusion-no-such-dir").join("libonnxruntime.so.1.32.0");
    match load_ort_library(Some(&missing)) {
        Err(e @ OnnxError::OrtLibraryMissing { .. }) => assert_names_the_fix(&e, "tiled-occlusion-no-such-dir"),
        other => panic!("{other:?}"),
    }
    // A file that is not a library: the loader's reason is said (it was only "dlopen failed").
    let not_a_library = fixture("linear.onnx");
    match load_ort_library(Some(&not_a_library)) {
        Err(e @ OnnxError::OrtLibraryUnusable { .. }) => {
            assert_names_the_fix(&e, "linear.onnx");
            if cfg!(target_os = "linux") {
                let text = e.to_string();
                assert!(text.contains("dlopen failed: ") && text.contains("linear.onnx: "), "{text}");
            }
        }
        other => panic!("{other:?}"),
    }
    // A folder is said to be one (it was "not found").
    let folder = fixture("");
    match load_ort_library(Some(&folder)) {
        Err(e @ OnnxError::OrtLibraryUnusable { .. }) => {
            assert_names_the_fix(&e, "fixtures");
            assert!(e.to_string().contains("it is a folder, not a library file"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // `auto` falls back to tract and says why; `ort` reports the error.
    let options = OnnxOptions::default().ort_library(&missing);
    if cfg!(feature = "tract") {
        let model = OnnxModel::load(fixture("linear.onnx"), &options).unwrap();
        assert_eq!(model.runtime(), Runtime::Tract);
        assert!(
            model.runtime_note().is_some_and(|n| n.contains("tiled-occlusion-no-such-dir")),
            "{:?}",
            model.runtime_note()
        );
    }
    let strict = options.clone().runtime(RuntimeChoice::Ort);
    assert!(matches!(OnnxModel::load(fixture("linear.onnx"), &strict), Err(OnnxError::OrtLibraryMissing { .. })));
    if !ort_available() {
        return;
    }
    let library = load_ort_library(None).unwrap();
    assert!(library.version.starts_with("1."), "{library:?}");
    // A library beside it that is not ONNX Runtime's main one, asked for once ONNX Runtime is loaded.
    if let Some(other) = std::fs::read_dir(library.path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("providers_shared")))
    {
        assert!(matches!(load_ort_library(Some(&other)), Err(OnnxError::OrtLibraryConflict { .. })));
    }
    assert_eq!(load_ort_library(Some(&library.path)).unwrap(), library);
    // Once loaded too.
    assert!(matches!(load_ort_library(Some(&folder)), Err(OnnxError::OrtLibraryUnusable { .. })));
    let model = OnnxModel::load(fixture("linear.onnx"), &OnnxOptions::default()).unwrap();
    assert_eq!(model.runtime(), Runtime::Ort);
    assert_eq!(model.ort_library(), Some(&library));
    assert!(model.describe().contains(&library.version), "{}", model.describe());
}

//! Finding, checking and loading `libonnxruntime` at run time, once per process.
//!
//! Where the library is looked for, in order:
//! 1. the path given by the caller ([`OnnxOptions::ort_library`](crate::OnnxOptions::ort_library),
//!    the command's `--ort-library`);
//! 2. the environment variable `ORT_DYLIB_PATH`;
//! 3. the `onnxruntime` Python package of a virtual environment `.venv` in the current
//!    directory or one of its parents, or beside the running executable or one of its parents
//!    (`.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.*`: where
//!    `scripts/env/setup-onnxruntime.sh` puts it, so a checkout's `target/release/tiled-occlusion`
//!    finds it);
//! 4. `libonnxruntime.so` (`.dylib`, `onnxruntime.dll`) on the system's library search path.
//!
//! A path given in 1 or 2 is used or reported, never passed over. Before `ort` sees the file,
//! it is opened here and asked for its version, so that a missing file, a file that is not
//! ONNX Runtime, or a version older than this build needs is an [`OnnxError`] naming the file
//! and the fix, never a panic inside `ort`.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::onnx_error::{OnnxError, ORT_LIBRARY_FIX};

/// The environment variable naming the library file (the one `ort` itself reads).
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The oldest ONNX Runtime this build runs: 1.`MINIMUM_ORT_MINOR` (the C API version `ort` is
/// built against).
pub const MINIMUM_ORT_MINOR: u32 = ort::MINOR_VERSION;

/// A loaded ONNX Runtime library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrtLibrary {
    /// The file loaded.
    pub path: PathBuf,
    /// The version it reports (`"1.32.0"`).
    pub version: String,
}

/// The library and environment this process uses, once loaded.
struct Loaded {
    library: OrtLibrary,
    environment: ort::environment::Environment,
}

static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);

fn library_file_names() -> &'static [&'static str] {
    if cfg!(target_os = "windows") {
        &["onnxruntime.dll"]
    } else if cfg!(target_os = "macos") {
        &["libonnxruntime.dylib"]
    } else {
        &["libonnxruntime.so"]
    }
}

/// Whether `name` is the main ONNX Runtime library (`libonnxruntime.so.1.32.0`, not the
/// providers' `libonnxruntime_providers_shared.so`).
fn is_library_name(name: &str) -> bool {
    library_file_names().iter().any(|base| {
        let stem = base.split('.').next().unwrap_or(base);
        name == *base || (name.starts_with(&format!("{stem}.")) && (name.contains(".so") || name.ends_with(".dylib")))
    })
}

/// The `onnxruntime/capi` library files under `venv`, newest version name last.
fn venv_libraries(venv: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut site_packages = vec![venv.join("Lib").join("site-packages")];
    if let Ok(entries) = std::fs::read_dir(venv.join("lib")) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("python") {
                site_packages.push(entry.path().join("site-packages"));
            }
        }
    }
    for packages in site_packages {
        if let Ok(entries) = std::fs::read_dir(packages.join("onnxruntime").join("capi")) {
            for entry in entries.flatten() {
                if is_library_name(&entry.file_name().to_string_lossy()) && entry.path().is_file() {
                    found.push(entry.path());
                }
            }
        }
    }
    found.sort();
    found
}

/// Where to look for `.venv`: the current directory and the executable's folder, and their
/// parents.
fn venv_search_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(dir) = std::env::current_dir() {
        roots.push(dir);
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        roots.push(dir);
    }
    roots
}

/// How a candidate was found, for messages.
#[derive(Clone, Debug)]
enum Candidate {
    /// Given by the caller or `ORT_DYLIB_PATH`: used or reported, never passed over.
    Given(PathBuf),
    /// Found in a virtual environment.
    Found(PathBuf),
    /// A bare name for the system's search path.
    System(&'static str),
}

/// The library to try: the given path, `ORT_DYLIB_PATH`, a `.venv`, or the system's, with
/// the list of places looked at.
fn locate(explicit: Option<&Path>) -> (Candidate, Vec<String>) {
    if let Some(path) = explicit {
        return (Candidate::Given(path.to_path_buf()), vec![path.display().to_string()]);
    }
    match std::env::var_os(ORT_DYLIB_PATH) {
        Some(value) if !value.is_empty() => {
            let path = PathBuf::from(value);
            let looked = vec![format!("{ORT_DYLIB_PATH}={}", path.display())];
            return (Candidate::Given(path), looked);
        }
        _ => {}
    }
    let mut looked = vec![format!("{ORT_DYLIB_PATH} (unset)")];
    for root in venv_search_roots() {
        for dir in root.ancestors() {
            if let Some(path) = venv_libraries(&dir.join(".venv")).pop() {
                return (Candidate::Found(path), looked);
            }
        }
        looked.push(format!(
            "{} and its parents' .venv/lib/python3.*/site-packages/onnxruntime/capi/{}*",
            root.display(),
            library_file_names()[0]
        ));
    }
    let system = library_file_names()[0];
    looked.push(format!("{system} on the system's library search path"));
    (Candidate::System(system), looked)
}

/// `error`'s message followed by its sources' (libloading's own says only "dlopen failed"; the
/// loader's reason is its source).
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text = format!("{text}: {e}");
        source = e.source();
    }
    text
}

/// A path given as the library that exists but is not a file: a folder or something else
/// (a device, a pipe), said as such rather than "not found".
fn not_a_file(path: &Path) -> Option<OnnxError> {
    let reason = if path.is_dir() {
        "it is a folder, not a library file (give the libonnxruntime.so.* file inside it)"
    } else if path.exists() && !path.is_file() {
        "it is not a regular file (a device or a pipe?)"
    } else {
        return None;
    };
    Some(OnnxError::OrtLibraryUnusable { path: path.to_path_buf(), reason: reason.into(), fix: ORT_LIBRARY_FIX })
}

/// Opens `file` and reads the version it reports, without `ort`.
fn probe_version(file: &Path) -> Result<String, String> {
    // SAFETY: loading a library runs its initialisers; the file is the user's chosen ONNX
    // Runtime. The symbol's type is the C API's `const OrtApiBase* OrtGetApiBase(void)`, and
    // `GetVersionString` returns a static NUL-terminated string.
    unsafe {
        let library = libloading::Library::new(file).map_err(|e| with_sources(&e))?;
        let get_base = library
            .get::<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase>(b"OrtGetApiBase\0")
            .map_err(|_| "it does not export OrtGetApiBase, so it is not ONNX Runtime".to_string())?;
        let base = get_base();
        if base.is_null() {
            return Err("OrtGetApiBase returned nothing".into());
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return Err("it reports no version".into());
        }
        let version = CStr::from_ptr(version).to_string_lossy().into_owned();
        // The library stays loaded: `ort` opens the same file next, and unloading ONNX Runtime
        // is not something it supports well.
        std::mem::forget(library);
        Ok(version)
    }
}

/// The minor version of `"1.x.y"`.
fn minor_version(version: &str) -> Option<u32> {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("1"), Some(minor)) => minor.parse().ok(),
        _ => None,
    }
}

fn check_candidate(candidate: &Candidate, looked: &[String]) -> Result<(PathBuf, String), OnnxError> {
    let (path, version) = match candidate {
        Candidate::Given(path) | Candidate::Found(path) => {
            if let Some(e) = not_a_file(path) {
                return Err(e);
            }
            if !path.is_file() {
                return Err(OnnxError::OrtLibraryMissing { looked: looked.to_vec(), fix: ORT_LIBRARY_FIX });
            }
            let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let version = probe_version(&path).map_err(|reason| OnnxError::OrtLibraryUnusable {
                path: path.clone(),
                reason,
                fix: ORT_LIBRARY_FIX,
            })?;
            (path, version)
        }
        Candidate::System(name) => {
            let version = probe_version(Path::new(name))
                .map_err(|_| OnnxError::OrtLibraryMissing { looked: looked.to_vec(), fix: ORT_LIBRARY_FIX })?;
            (PathBuf::from(name), version)
        }
    };
    check_version(path, version)
}

/// `(path, version)` when `version` is 1.[`MINIMUM_ORT_MINOR`] or newer.
fn check_version(path: PathBuf, version: String) -> Result<(PathBuf, String), OnnxError> {
    match minor_version(&version) {
        Some(minor) if minor >= MINIMUM_ORT_MINOR => Ok((path, version)),
        _ => Err(OnnxError::OrtLibraryTooOld {
            path,
            found: version,
            minimum_minor: MINIMUM_ORT_MINOR,
            fix: ORT_LIBRARY_FIX,
        }),
    }
}

/// Finds, checks and loads ONNX Runtime (see the module's documentation for where it looks),
/// once per process: later calls return the library loaded first, or an error when they name
/// another file.
pub fn load_ort_library(explicit: Option<&Path>) -> Result<OrtLibrary, OnnxError> {
    ort_environment(explicit).map(|(library, _)| library)
}

/// The loaded library and the process's ONNX Runtime environment.
pub(crate) fn ort_environment(
    explicit: Option<&Path>,
) -> Result<(OrtLibrary, ort::environment::Environment), OnnxError> {
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    let (candidate, looked) = locate(explicit);
    if let Some(done) = loaded.as_ref() {
        if let Candidate::Given(path) = &candidate {
            if let Some(e) = not_a_file(path) {
                return Err(e);
            }
            if !path.is_file() {
                return Err(OnnxError::OrtLibraryMissing { looked, fix: ORT_LIBRARY_FIX });
            }
            let requested = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            if requested != done.library.path {
                return Err(OnnxError::OrtLibraryConflict { loaded: done.library.path.clone(), requested });
            }
        }
        return Ok((done.library.clone(), done.environment.clone()));
    }
    let (path, version) = check_candidate(&candidate, &looked)?;
    let unusable = |reason: String| OnnxError::OrtLibraryUnusable { path: path.clone(), reason, fix: ORT_LIBRARY_FIX };
    // `ort` panics in a few places on libraries it cannot use; the checks above rule those
    // out, and a panic that still happens becomes an error.
    let environment = catch_unwind(AssertUnwindSafe(|| -> Result<ort::environment::Environment, String> {
        let builder = ort::init_from(&path).map_err(|e| e.to_string())?;
        builder.with_name("tiled-occlusion").build().map_err(|e| e.to_string())
    }))
    .map_err(|_| unusable("ort panicked while loading it".into()))?
    .map_err(unusable)?;
    let library = OrtLibrary { path, version };
    *loaded = Some(Loaded { library: library.clone(), environment: environment.clone() });
    Ok((library, environment))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{check_version, is_library_name, minor_version, MINIMUM_ORT_MINOR};
    use crate::onnx_error::OnnxError;

    #[test]
    fn library_names_and_versions_are_read() {
        if cfg!(target_os = "linux") {
            assert!(is_library_name("libonnxruntime.so.1.32.0"));
            assert!(is_library_name("libonnxruntime.so"));
            assert!(!is_library_name("libonnxruntime_providers_shared.so"));
            assert!(!is_library_name("onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so"));
        }
        assert_eq!(minor_version("1.32.0"), Some(32));
        assert_eq!(minor_version("1.9.1"), Some(9));
        assert_eq!(minor_version("2.0"), None);
        assert_eq!(minor_version("garbage"), None);
    }

    #[test]
    fn old_versions_are_refused_with_the_fix() {
        let path = PathBuf::from("old/libonnxruntime.so.1.16.3");
        match check_version(path.clone(), "1.16.3".into()) {
            Err(e @ OnnxError::OrtLibraryTooOld { .. }) => {
                let text = e.to_string();
                assert!(text.contains("1.16.3") && text.contains("old/libonnxruntime.so.1.16.3"), "{text}");
                assert!(text.contains("setup-onnxruntime.sh") && text.contains("ORT_DYLIB_PATH"), "{text}");
                assert!(text.contains(&format!("1.{MINIMUM_ORT_MINOR}")), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert!(check_version(path.clone(), "0.99.0".into()).is_err());
        assert!(check_version(path, format!("1.{MINIMUM_ORT_MINOR}.0")).is_ok());
    }
}

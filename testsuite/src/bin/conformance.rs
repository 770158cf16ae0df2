//! Runs fixture files against a backend:
//! `conformance --backend ndarray FILE.json…` prints one line per case with its max error,
//! ends with `N passed, M failed`, and exits non-zero if a case failed or a file could not
//! be read. A file longer than `fixtures::MAX_FIXTURE_BYTES` (1 GiB), or a directory, is
//! refused with a message; so is a case asking for more than `fixtures::MAX_CASE_MODEL_CALLS`
//! (10⁶) model calls.

use std::io::Write;
use std::process::ExitCode;

use tiled_occlusion_testsuite::fixtures::{read_fixture_file, run_file, CaseOutcome, MAX_FIXTURE_BYTES};
#[allow(unused_imports)] // unused in a build with no backend feature
use tiled_occlusion_testsuite::markers;
use tiled_occlusion_testsuite::TestBackend;

fn usage() -> ExitCode {
    eprintln!("usage: conformance --backend <{}> FILE.json...", backend_names().join("|"));
    ExitCode::from(2)
}

/// The backends this build can run: a name per marker of `tiled_occlusion_testsuite::markers`.
macro_rules! runner_backends {
    ($( $feature:literal, $name:literal, $marker:ty; )*) => {
        fn backend_names() -> Vec<&'static str> {
            let mut names = Vec::new();
            $( if cfg!(feature = $feature) { names.push($name); } )*
            names
        }

        fn run(backend: &str, text: &str) -> Result<Vec<CaseOutcome>, String> {
            let _ = text; // unread in a build with no backend feature
            match backend {
                $(
                    #[cfg(feature = $feature)]
                    $name => run_marker::<$marker>(text),
                )*
                other => Err(format!("unknown backend {other:?}; this build has: {}", backend_names().join(", "))),
            }
        }
    };
}

/// Runs a fixture file on marker `T`, or says why `T` cannot run here.
#[allow(dead_code)] // unused in a build with no backend feature
fn run_marker<T: TestBackend>(text: &str) -> Result<Vec<CaseOutcome>, String> {
    match T::skip_reason() {
        Some(reason) => Err(format!("{} cannot run here: {reason}", T::NAME)),
        None => run_file::<T>(text),
    }
}

runner_backends! {
    "ndarray", "ndarray", markers::NdarrayF64;
    "ndarray", "ndarray-f32", markers::NdarrayF32;
    "candle", "candle", markers::CandleF64;
    "candle", "candle-f32", markers::CandleF32;
    "candle", "candle-f16", markers::CandleF16;
    "candle", "candle-bf16", markers::CandleBf16;
    "candle", "candle-cuda-f32", markers::CandleF32<markers::Cuda>;
    "tch", "tch", markers::TchF64;
    "tch", "tch-f32", markers::TchF32;
    "tch", "tch-f16", markers::TchF16;
    "tch", "tch-bf16", markers::TchBf16;
    "tch", "tch-cuda-f32", markers::TchF32<markers::Cuda>;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (backend, files) = match args.as_slice() {
        [flag, backend, files @ ..] if flag == "--backend" && !files.is_empty() => (backend.as_str(), files),
        _ => return usage(),
    };
    // A closed stdout (`conformance … | head`) ends the run as a failure, not a panic.
    match run_files(backend, files, &mut std::io::stdout().lock()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) | Err(_) => ExitCode::FAILURE,
    }
}

/// Runs every file, printing a line per case and the totals to `out`: whether all passed and
/// every file could be read.
fn run_files(backend: &str, files: &[String], out: &mut impl Write) -> std::io::Result<bool> {
    let (mut passed, mut failed, mut unreadable) = (0usize, 0usize, 0usize);
    for file in files {
        let outcomes = read_fixture_file(std::path::Path::new(file), MAX_FIXTURE_BYTES).and_then(|t| run(backend, &t));
        let outcomes = match outcomes {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{file}: {e}");
                unreadable += 1;
                continue;
            }
        };
        for o in outcomes {
            let status = if o.passed() { "ok  " } else { "FAIL" };
            match &o.max_error {
                Ok(e) => writeln!(out, "{status} {file}: {}: max error {e:.3e} (bound {:.3e})", o.name, o.bound)?,
                Err(e) => writeln!(out, "{status} {file}: {}: {e}", o.name)?,
            }
            if o.passed() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(failed == 0 && unreadable == 0)
}

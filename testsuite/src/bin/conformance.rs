//! Runs fixture files against a backend:
//! `conformance --backend ndarray FILE.json…` prints one line per case with its max error,
//! ends with `N passed, M failed`, and exits non-zero if a case failed or a file could not
//! be read.

use std::process::ExitCode;

use tiled_occlusion_testsuite::fixtures::{run_file, CaseOutcome};

fn usage() -> ExitCode {
    eprintln!("usage: conformance --backend <{}> FILE.json...", backends().join("|"));
    ExitCode::from(2)
}

fn backends() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "ndarray") {
        names.extend(["ndarray", "ndarray-f32"]);
    }
    names
}

fn run(backend: &str, text: &str) -> Result<Vec<CaseOutcome>, String> {
    match backend {
        #[cfg(feature = "ndarray")]
        "ndarray" => run_file::<ndarray_backends::F64>(text),
        #[cfg(feature = "ndarray")]
        "ndarray-f32" => run_file::<ndarray_backends::F32>(text),
        other => Err(format!("unknown backend {other:?}; built with: {}", backends().join(", "))),
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_backends {
    use tiled_occlusion_ndarray::ndarray::{ArrayD, IxDyn};
    use tiled_occlusion_ndarray::Ndarray;
    use tiled_occlusion_testsuite::TestBackend;

    pub struct F64;
    impl TestBackend for F64 {
        type B = Ndarray<f64>;
        const NAME: &'static str = "ndarray-f64";
        const TOLERANCE: f64 = 1e-10;
        fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f64>, String> {
            ArrayD::from_shape_vec(IxDyn(shape), data.to_vec()).map_err(|e| e.to_string())
        }
    }

    pub struct F32;
    impl TestBackend for F32 {
        type B = Ndarray<f32>;
        const NAME: &'static str = "ndarray-f32";
        const TOLERANCE: f64 = 1e-4;
        fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f32>, String> {
            ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| v as f32).collect()).map_err(|e| e.to_string())
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (backend, files) = match args.as_slice() {
        [flag, backend, files @ ..] if flag == "--backend" && !files.is_empty() => (backend.as_str(), files),
        _ => return usage(),
    };
    let (mut passed, mut failed, mut unreadable) = (0usize, 0usize, 0usize);
    for file in files {
        let outcomes = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {file}: {e}"))
            .and_then(|t| run(backend, &t));
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
                Ok(e) => println!("{status} {file}: {}: max error {e:.3e} (bound {:.3e})", o.name, o.bound),
                Err(e) => println!("{status} {file}: {}: {e}", o.name),
            }
            if o.passed() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 || unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

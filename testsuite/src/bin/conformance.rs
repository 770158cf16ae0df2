//! Runs fixture files against a backend:
//! `conformance --backend ndarray FILE.json…` prints one line per case with its max error,
//! ends with `N passed, M failed`, and exits non-zero if a case failed or a file could not
//! be read.

use std::process::ExitCode;

use tiled_occlusion_core::backend::TensorOf;
use tiled_occlusion_testsuite::fixtures::{run_file, CaseOutcome};
use tiled_occlusion_testsuite::TestBackend;

fn usage() -> ExitCode {
    eprintln!("usage: conformance --backend <{}> FILE.json...", backend_names().join("|"));
    ExitCode::from(2)
}

/// Declares the backends this build can run: a `TestBackend` marker per name, each made of a
/// backend type, a tolerance and how to make a tensor from host data.
macro_rules! runner_backends {
    ($( $feature:literal, $name:literal, $marker:ident, $backend:ty, $tolerance:expr, $make:expr; )*) => {
        $(
            #[cfg(feature = $feature)]
            struct $marker;

            #[cfg(feature = $feature)]
            impl TestBackend for $marker {
                type B = $backend;
                const NAME: &'static str = $name;
                const TOLERANCE: f64 = $tolerance;
                fn tensor(shape: &[usize], data: &[f64]) -> Result<TensorOf<$backend>, String> {
                    #[allow(clippy::redundant_closure_call)]
                    ($make)(shape, data)
                }
            }
        )*

        fn backend_names() -> Vec<&'static str> {
            let mut names = Vec::new();
            $( if cfg!(feature = $feature) { names.push($name); } )*
            names
        }

        fn run(backend: &str, text: &str) -> Result<Vec<CaseOutcome>, String> {
            match backend {
                $(
                    #[cfg(feature = $feature)]
                    $name => run_file::<$marker>(text),
                )*
                other => Err(format!("unknown backend {other:?}; this build has: {}", backend_names().join(", "))),
            }
        }
    };
}

#[cfg(feature = "ndarray")]
fn ndarray_tensor<E: tiled_occlusion_core::backend::Element>(
    shape: &[usize],
    data: &[f64],
) -> Result<tiled_occlusion_ndarray::ndarray::ArrayD<E>, String> {
    use tiled_occlusion_ndarray::ndarray::{ArrayD, IxDyn};
    ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| E::from_f64_nearest(v)).collect())
        .map_err(|e| e.to_string())
}

#[cfg(feature = "candle")]
fn candle_tensor(dtype: candle_core::DType) -> impl Fn(&[usize], &[f64]) -> Result<candle_core::Tensor, String> {
    move |shape, data| {
        candle_core::Tensor::from_slice(data, shape, &candle_core::Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .map_err(|e| e.to_string())
    }
}

#[cfg(feature = "tch")]
fn tch_tensor(kind: tch::Kind) -> impl Fn(&[usize], &[f64]) -> Result<tch::Tensor, String> {
    move |shape, data| {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        tch::Tensor::f_from_slice(data)
            .and_then(|t| t.f_reshape(dims))
            .and_then(|t| t.f_to_kind(kind))
            .map_err(|e| e.to_string())
    }
}

runner_backends! {
    "ndarray", "ndarray", NdarrayF64, tiled_occlusion_ndarray::Ndarray<f64>, 1e-10, ndarray_tensor::<f64>;
    "ndarray", "ndarray-f32", NdarrayF32, tiled_occlusion_ndarray::Ndarray<f32>, 1e-4, ndarray_tensor::<f32>;
    "candle", "candle", CandleF64, tiled_occlusion_candle::Candle, 1e-10, candle_tensor(candle_core::DType::F64);
    "candle", "candle-f32", CandleF32, tiled_occlusion_candle::Candle, 1e-4, candle_tensor(candle_core::DType::F32);
    "candle", "candle-f16", CandleF16, tiled_occlusion_candle::Candle, 1e-2, candle_tensor(candle_core::DType::F16);
    "candle", "candle-bf16", CandleBf16, tiled_occlusion_candle::Candle, 5e-2, candle_tensor(candle_core::DType::BF16);
    "tch", "tch", TchF64, tiled_occlusion_tch::Tch, 1e-10, tch_tensor(tch::Kind::Double);
    "tch", "tch-f32", TchF32, tiled_occlusion_tch::Tch, 1e-4, tch_tensor(tch::Kind::Float);
    "tch", "tch-f16", TchF16, tiled_occlusion_tch::Tch, 1e-2, tch_tensor(tch::Kind::Half);
    "tch", "tch-bf16", TchBf16, tiled_occlusion_tch::Tch, 5e-2, tch_tensor(tch::Kind::BFloat16);
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

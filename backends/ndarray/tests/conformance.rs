//! The shared suite, stamped out for `ArrayD<f64>` and `ArrayD<f32>`.

use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_ndarray::Ndarray;
use tiled_occlusion_testsuite::{backend_conformance_tests, TestBackend};

struct NdarrayF64;

impl TestBackend for NdarrayF64 {
    type B = Ndarray<f64>;
    const NAME: &'static str = "ndarray-f64";
    const TOLERANCE: f64 = 1e-10;

    fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f64>, String> {
        ArrayD::from_shape_vec(IxDyn(shape), data.to_vec()).map_err(|e| e.to_string())
    }
}

struct NdarrayF32;

impl TestBackend for NdarrayF32 {
    type B = Ndarray<f32>;
    const NAME: &'static str = "ndarray-f32";
    const TOLERANCE: f64 = 1e-4;

    fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f32>, String> {
        ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| v as f32).collect()).map_err(|e| e.to_string())
    }
}

backend_conformance_tests!(ndarray_f64, NdarrayF64);
backend_conformance_tests!(ndarray_f32, NdarrayF32);

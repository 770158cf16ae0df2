//! ndarray markers: `ArrayD<f64>` and `ArrayD<f32>` on the host.

use ndarray::{ArrayD, IxDyn};
use tiled_occlusion_core::backend::Element;
use tiled_occlusion_ndarray::Ndarray;

use crate::test_backend::checked_elements;
use crate::TestBackend;

fn array<E: Element>(shape: &[usize], data: &[f64]) -> Result<ArrayD<E>, String> {
    checked_elements(shape, data.len())?;
    ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| E::from_f64_nearest(v)).collect())
        .map_err(|e| e.to_string())
}

/// `ndarray::ArrayD<f64>`, tolerance `1e-10`.
#[derive(Clone, Copy, Debug)]
pub struct NdarrayF64;

impl TestBackend for NdarrayF64 {
    type B = Ndarray<f64>;
    const NAME: &'static str = "ndarray-f64";
    const TOLERANCE: f64 = 1e-10;

    fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f64>, String> {
        array(shape, data)
    }
}

/// `ndarray::ArrayD<f32>`, tolerance `1e-4`.
#[derive(Clone, Copy, Debug)]
pub struct NdarrayF32;

impl TestBackend for NdarrayF32 {
    type B = Ndarray<f32>;
    const NAME: &'static str = "ndarray-f32";
    const TOLERANCE: f64 = 1e-4;

    fn tensor(shape: &[usize], data: &[f64]) -> Result<ArrayD<f32>, String> {
        array(shape, data)
    }
}

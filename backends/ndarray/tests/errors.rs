//! Failures of ndarray keep their error as the source, and user mistakes are typed errors.

use std::error::Error as _;

use ndarray::{ArrayD, Axis, IxDyn};
use tiled_occlusion_core::backend::Backend;
use tiled_occlusion_core::{Error, Parallel};
use tiled_occlusion_ndarray::Ndarray;

#[test]
fn a_failing_array_construction_keeps_ndarrays_error() {
    let like = ArrayD::<f64>::zeros(IxDyn(&[1, 2]));
    let e = Ndarray::<f64>::from_f64_slice(&like, &[2, 2], &[1.0]).expect_err("4 positions, 1 value");
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().starts_with("ndarray: making an array of shape [2, 2] from 1 values: "), "{e}");
    let source = e.source().and_then(|s| s.downcast_ref::<ndarray::ShapeError>());
    assert!(source.is_some(), "the source is ndarray's ShapeError: {:?}", e.source());
}

#[test]
fn zero_threads_is_too_small() {
    let sum = |x: &ArrayD<f64>| Ok::<_, String>(x.sum_axis(Axis(1)));
    match Parallel::<Ndarray<f64>, _>::with_threads(sum, 0) {
        Err(Error::TooSmall { setting, value: 0, minimum: 1 }) => assert_eq!(setting, "Parallel::with_threads"),
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("0 threads accepted"),
    }
}

//! The ndarray shorthand for running a closure's calls in parallel.

use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::Parallel;

/// A `Sync` closure as a model of the ndarray backend whose calls run in parallel on one
/// thread per core: shorthand for `Parallel::<Ndarray<E>, _>::new(f)`.
///
/// ```
/// use ndarray::{ArrayD, Axis};
/// let mut m = tiled_occlusion_ndarray::parallel_model(|x: &ArrayD<f32>| Ok::<_, String>(x.sum_axis(Axis(1))));
/// # let _ = &mut m;
/// ```
pub fn parallel_model<E, F, Err>(f: F) -> Parallel<crate::Ndarray<E>, F>
where
    E: tiled_occlusion_core::backend::Element,
    F: Fn(&ndarray::ArrayD<E>) -> std::result::Result<ndarray::ArrayD<E>, Err> + Sync,
    Err: Into<ModelError>,
{
    Parallel::new(f)
}

/// A `Sync` closure of several inputs as a model of the ndarray backend whose calls run in
/// parallel on one thread per core: shorthand for `Parallel::<Ndarray<E>, _>::new(f)` with
/// `f: Fn(&[ArrayD<E>]) -> Result<ArrayD<E>, _>`, a [`MultiForward`](tiled_occlusion_core::MultiForward).
///
/// ```
/// use ndarray::{ArrayD, Axis, IxDyn};
/// use tiled_occlusion_core::{MultiAttribution, MultiInputs, Occlusion, PerInput};
///
/// // Score = Σ image + 10·Σ extra, per example.
/// let mut model = tiled_occlusion_ndarray::parallel_multi_model(|xs: &[ArrayD<f64>]| {
///     let n = xs[0].len_of(Axis(0));
///     let sum = |x: &ArrayD<f64>| x.to_shape((n, x.len() / n)).map(|v| v.sum_axis(Axis(1)));
///     let score = sum(&xs[0]).map_err(|e| e.to_string())? + sum(&xs[1]).map_err(|e| e.to_string())? * 10.0;
///     Ok::<_, String>(score.into_dyn())
/// });
/// let image = ArrayD::<f64>::ones(IxDyn(&[1, 4, 4]));
/// let extra = ArrayD::<f64>::ones(IxDyn(&[1, 3]));
/// let method = PerInput::new([Occlusion::new([2, 2]).with_strides([2, 2]), Occlusion::new([1])]);
/// let maps = method.attribute(&mut model, &MultiInputs::new([&image, &extra]))?;
/// assert_eq!(maps[1].as_slice().unwrap(), [10.0, 10.0, 10.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parallel_multi_model<E, F, Err>(f: F) -> Parallel<crate::Ndarray<E>, F>
where
    E: tiled_occlusion_core::backend::Element,
    F: Fn(&[ndarray::ArrayD<E>]) -> std::result::Result<ndarray::ArrayD<E>, Err> + Sync,
    Err: Into<ModelError>,
{
    Parallel::new(f)
}

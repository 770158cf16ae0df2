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

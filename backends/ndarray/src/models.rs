//! Closures as models of the ndarray backend.

use ndarray::ArrayD;
use tiled_occlusion_core::backend::Element;
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::FnModel;

use crate::Ndarray;

/// A closure as a model of the ndarray backend: `FnMut(&ArrayD<E>) -> Result<ArrayD<E>, Err>`
/// for any error that converts into a boxed error.
///
/// ```
/// use ndarray::{ArrayD, Axis};
/// let mut m = tiled_occlusion_ndarray::model(|x: &ArrayD<f32>| Ok::<_, String>(x.sum_axis(Axis(1))));
/// # let _ = &mut m;
/// ```
pub fn model<E, F, Err>(f: F) -> FnModel<Ndarray<E>, F>
where
    E: Element,
    F: FnMut(&ArrayD<E>) -> std::result::Result<ArrayD<E>, Err>,
    Err: Into<ModelError>,
{
    FnModel::new(f)
}

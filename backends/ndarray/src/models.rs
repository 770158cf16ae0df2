//! Closures as models of the ndarray backend.

use ndarray::ArrayD;
use tiled_occlusion_core::backend::Element;
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::{FnModel, FnMultiModel};

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

/// Any closure `&[ArrayD<E>] -> Result<ArrayD<E>, _>` as a model of several inputs (one batch
/// of each, in the order the attribution was given them).
///
/// ```
/// use ndarray::{ArrayD, Axis, IxDyn};
/// use tiled_occlusion_core::{MultiAttribution, MultiInputs, Occlusion, PerInput};
/// use tiled_occlusion_ndarray::multi_model;
///
/// // Score = Σ image + 10·Σ extra, per example.
/// let mut model = multi_model(|xs: &[ArrayD<f64>]| {
///     let n = xs[0].len_of(Axis(0));
///     let sum = |x: &ArrayD<f64>| x.to_shape((n, x.len() / n)).map(|v| v.sum_axis(Axis(1)));
///     let score = sum(&xs[0]).map_err(|e| e.to_string())? + sum(&xs[1]).map_err(|e| e.to_string())? * 10.0;
///     Ok::<_, String>(score.into_dyn())
/// });
/// let image = ArrayD::<f64>::ones(IxDyn(&[1, 4, 4]));
/// let extra = ArrayD::<f64>::ones(IxDyn(&[1, 3]));
/// let method = PerInput::new([Occlusion::new([2, 2]).with_strides([2, 2]), Occlusion::new([1])]);
/// let maps = method.attribute(&mut model, &MultiInputs::new([&image, &extra]))?;
/// assert_eq!(maps[0].shape(), [1, 4, 4]);
/// assert_eq!(maps[1].as_slice().unwrap(), [10.0, 10.0, 10.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn multi_model<E, F, Err>(f: F) -> FnMultiModel<Ndarray<E>, F>
where
    E: Element,
    F: FnMut(&[ArrayD<E>]) -> std::result::Result<ArrayD<E>, Err>,
    Err: Into<ModelError>,
{
    FnMultiModel::new(f)
}

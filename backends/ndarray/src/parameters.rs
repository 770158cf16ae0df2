//! ndarray models that expose their parameter arrays, so FusionGrad can perturb them.

use std::collections::BTreeMap;

use ndarray::ArrayD;
use tiled_occlusion_core::backend::Element;
use tiled_occlusion_core::model::{ModelError, Parameters};
use tiled_occlusion_core::{Error, Forward, Result};

use crate::Ndarray;

/// Named parameter arrays, in name order.
pub type ArrayParameters<E> = BTreeMap<String, ArrayD<E>>;

/// A model of the ndarray backend given by named parameter arrays and a function of them:
/// `forward(x) = f(&parameters, x)`. It exposes the arrays as [`Parameters`], so
/// [`FusionGrad`](tiled_occlusion_core::FusionGrad) can perturb and restore them.
///
/// ```
/// use ndarray::{arr1, ArrayD, Axis, IxDyn};
/// use tiled_occlusion_core::{Attribution, FusionGrad, Inputs, Occlusion};
/// use tiled_occlusion_ndarray::ArrayModel;
///
/// // y = Σ_i w_i x_i
/// let mut model = ArrayModel::new([("w".to_string(), arr1(&[1.0, 2.0, 3.0]).into_dyn())], |p, x: &ArrayD<f64>| {
///     Ok::<_, String>((x * &p["w"]).sum_axis(Axis(1)))
/// });
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![1.0, 1.0, 1.0]).unwrap();
/// let fused = FusionGrad::new(Occlusion::new([1])).with_seed(3).attribute(&mut model, &Inputs::new(&x)).unwrap();
/// assert_eq!(model.parameters()["w"], arr1(&[1.0, 2.0, 3.0]).into_dyn()); // restored
/// # let _ = fused;
/// ```
pub struct ArrayModel<E, F> {
    parameters: ArrayParameters<E>,
    /// The saved copies, latest last (saves nest).
    saved: Vec<ArrayParameters<E>>,
    f: F,
}

impl<E: Element, F> ArrayModel<E, F> {
    /// The model `f` with its named parameter arrays.
    pub fn new<Err>(parameters: impl IntoIterator<Item = (String, ArrayD<E>)>, f: F) -> Self
    where
        F: FnMut(&ArrayParameters<E>, &ArrayD<E>) -> std::result::Result<ArrayD<E>, Err>,
    {
        ArrayModel { parameters: parameters.into_iter().collect(), saved: Vec::new(), f }
    }

    /// The parameter arrays.
    pub fn parameters(&self) -> &ArrayParameters<E> {
        &self.parameters
    }
}

impl<E, F, Err> Forward for ArrayModel<E, F>
where
    E: Element,
    F: FnMut(&ArrayParameters<E>, &ArrayD<E>) -> std::result::Result<ArrayD<E>, Err>,
    Err: Into<ModelError>,
{
    type Backend = Ndarray<E>;

    fn forward(&mut self, batch: &ArrayD<E>) -> std::result::Result<ArrayD<E>, ModelError> {
        (self.f)(&self.parameters, batch).map_err(Into::into)
    }

    fn parameters(&mut self) -> Option<&mut dyn Parameters> {
        Some(self)
    }
}

impl<E: Element, F> Parameters for ArrayModel<E, F> {
    fn save(&mut self) -> Result<()> {
        self.saved.push(self.parameters.clone());
        Ok(())
    }

    fn restore(&mut self) -> Result<()> {
        let saved = self
            .saved
            .pop()
            .ok_or_else(|| Error::backend("ndarray: restoring the parameters", "restore called before save"))?;
        for (name, array) in &mut self.parameters {
            if let Some(original) = saved.get(name) {
                array.assign(original);
            }
        }
        Ok(())
    }

    fn perturb(&mut self, noise: &mut dyn FnMut(&str, &mut [f64])) -> Result<()> {
        for (name, array) in &mut self.parameters {
            let mut values: Vec<f64> = array.iter().map(|v| v.to_f64_lossless()).collect();
            noise(name, &mut values);
            array.iter_mut().zip(values).for_each(|(a, v)| *a = E::from_f64_nearest(v));
        }
        Ok(())
    }
}

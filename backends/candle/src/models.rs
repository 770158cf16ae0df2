//! Candle models as [`Forward`] models.

use candle_core::{Module, Tensor};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::{FnModel, Forward};

use crate::Candle;

/// A closure as a model of the candle backend: `FnMut(&Tensor) -> Result<Tensor, Err>` for any
/// error that converts into a boxed error (`candle_core::Error` does).
///
/// ```
/// use candle_core::{Device, Tensor};
/// let mut m = tiled_occlusion_candle::model(|x: &Tensor| x.sum(1));
/// # let _ = &mut m;
/// ```
pub fn model<F, Err>(f: F) -> FnModel<Candle, F>
where
    F: FnMut(&Tensor) -> std::result::Result<Tensor, Err>,
    Err: Into<ModelError>,
{
    FnModel::new(f)
}

/// Any `candle_core::Module` (a `candle_nn` layer or network, or a
/// `Fn(&Tensor) -> candle_core::Result<Tensor>`) as a model of the candle backend. A failing
/// `forward` becomes [`Error::Model`](tiled_occlusion_core::Error::Model) with candle's message.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{Linear, Module};
/// use tiled_occlusion_candle::ModuleModel;
/// use tiled_occlusion_core::{Attribution, Inputs, Occlusion};
///
/// // y = x · wᵀ with w = [1, 2, 3]: occluding x_i drops the score by w_i · x_i.
/// let w = Tensor::new(&[[1f32, 2., 3.]], &Device::Cpu)?;
/// let mut model = ModuleModel::new(Linear::new(w, None));
/// let x = Tensor::new(&[[1f32, 1., 2.]], &Device::Cpu)?;
/// let a = Occlusion::new([1]).attribute(&mut model, &Inputs::new(&x))?;
/// assert_eq!(a.to_vec2::<f32>()?, [[1.0, 2.0, 6.0]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ModuleModel<M> {
    module: M,
}

impl<M: Module> ModuleModel<M> {
    /// Wraps `module`.
    pub fn new(module: M) -> Self {
        ModuleModel { module }
    }

    /// The wrapped module.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// Gives the module back.
    pub fn into_inner(self) -> M {
        self.module
    }
}

impl<M: Module> Forward for ModuleModel<M> {
    type Backend = Candle;

    fn forward(&mut self, batch: &Tensor) -> std::result::Result<Tensor, ModelError> {
        self.module.forward(batch).map_err(Into::into)
    }
}

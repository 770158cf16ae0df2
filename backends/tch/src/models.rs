//! tch models as [`Forward`] models, evaluated under `no_grad` except when a gradient method
//! tracks the batch.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tch::{CModule, Tensor};
use tiled_occlusion_core::model::ModelError;
use tiled_occlusion_core::Forward;

use crate::parameters::SavedTensors;
use crate::Tch;

/// Runs `f` under `no_grad`, unless `batch` requires grad (a gradient method is tracking it
/// through [`GradientBackend`](tiled_occlusion_core::backend::GradientBackend)), in which case autograd
/// records the call.
pub(crate) fn grad_if_tracked<T>(batch: &Tensor, f: impl FnOnce() -> T) -> T {
    if batch.requires_grad() {
        tch::with_grad(f)
    } else {
        tch::no_grad(f)
    }
}

/// A TorchScript module (`tch::CModule`, e.g. from `torch.jit.save`) as a model, called
/// through `forward_ts` under `no_grad` (with autograd when a gradient method tracks the batch): an exception inside the module becomes
/// [`Error::Model`](tiled_occlusion_core::Error::Model) with libtorch's message, not a panic.
pub struct TorchScript {
    module: CModule,
    saved: SavedTensors,
}

impl std::fmt::Debug for TorchScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchScript").field("module", &self.module).finish_non_exhaustive()
    }
}

impl TorchScript {
    /// Wraps a loaded module.
    pub fn new(module: CModule) -> Self {
        TorchScript { module, saved: SavedTensors::default() }
    }

    /// The copies kept for restoring the parameters.
    pub(crate) fn saved_mut(&mut self) -> &mut SavedTensors {
        &mut self.saved
    }

    /// Loads a TorchScript file onto `device`.
    pub fn load(path: impl AsRef<std::path::Path>, device: tch::Device) -> tiled_occlusion_core::Result<Self> {
        let path = path.as_ref();
        CModule::load_on_device(path, device).map(Self::new).map_err(|e| {
            tiled_occlusion_core::Error::backend(format!("tch: loading the TorchScript model {}", path.display()), e)
        })
    }

    /// The wrapped module.
    pub fn module(&self) -> &CModule {
        &self.module
    }

    /// Gives the module back.
    pub fn into_inner(self) -> CModule {
        self.module
    }
}

impl Forward for TorchScript {
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> Result<Tensor, ModelError> {
        grad_if_tracked(batch, || self.module.forward_ts(&[batch])).map_err(Into::into)
    }

    fn parameters(&mut self) -> Option<&mut dyn tiled_occlusion_core::model::Parameters> {
        Some(self)
    }
}

/// Any `tch::nn::Module` as a model, under `no_grad` (with autograd when a gradient method
/// tracks the batch). `nn::Module::forward` cannot return an
/// error and panics when libtorch fails; the panic is caught and returned as
/// [`Error::Model`](tiled_occlusion_core::Error::Model) with its message.
#[derive(Debug)]
pub struct NnModule<M> {
    module: M,
}

impl<M: tch::nn::Module> NnModule<M> {
    /// Wraps `module`.
    pub fn new(module: M) -> Self {
        NnModule { module }
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

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the module panicked".to_owned())
}

impl<M: tch::nn::Module> Forward for NnModule<M> {
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> Result<Tensor, ModelError> {
        let module = &self.module;
        catch_unwind(AssertUnwindSafe(|| grad_if_tracked(batch, || module.forward(batch))))
            .map_err(|payload| format!("nn::Module::forward panicked: {}", panic_message(payload.as_ref())).into())
    }
}

/// A closure as a model of the tch backend, called under `no_grad` (with autograd when a
/// gradient method tracks the batch):
/// `FnMut(&Tensor) -> Result<Tensor, Err>` for any error that converts into a boxed error
/// (`tch::TchError` does). Build it with [`model`].
pub struct TchFn<F> {
    f: F,
}

/// A closure as a model of the tch backend (see [`TchFn`]).
///
/// ```no_run
/// use tch::Tensor;
/// let mut m = tiled_occlusion_tch::model(|x: &Tensor| x.f_sum_dim_intlist(1, false, tch::Kind::Float));
/// # let _ = &mut m;
/// ```
pub fn model<F, Err>(f: F) -> TchFn<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, Err>,
    Err: Into<ModelError>,
{
    TchFn { f }
}

impl<F, Err> Forward for TchFn<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, Err>,
    Err: Into<ModelError>,
{
    type Backend = Tch;

    fn forward(&mut self, batch: &Tensor) -> Result<Tensor, ModelError> {
        let f = &mut self.f;
        grad_if_tracked(batch, || f(batch)).map_err(Into::into)
    }
}
